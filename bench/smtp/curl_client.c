/*
 * libcurl's SMTP in the benchmark: one easy handle reused for every
 * message (so the connection is reused), MAIL FROM / RCPT TO / DATA.
 * usage: curl-smtp PORT COUNT
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

typedef struct src {
  const char *p;
  size_t len, pos;
} src;

static size_t read_cb(char *buf, size_t size, size_t n, void *user)
{
  src *s = user;
  size_t k = s->len - s->pos;
  if (k > size * n)
    k = size * n;
  memcpy(buf, s->p + s->pos, k);
  s->pos += k;
  return k;
}

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  long count = atol(argv[2]);
  char url[64];
  snprintf(url, sizeof url, "smtp://127.0.0.1:%s/libmail.test", argv[1]);
  size_t mlen;
  const char *msg = bench_message(&mlen);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  struct curl_slist *rcpt = curl_slist_append(NULL, "<" BENCH_TO ">");
  src s = {msg, mlen, 0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<" BENCH_FROM ">");
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &s);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE, (long)mlen);
  double t0 = bench_now();
  for (long i = 0; i < count; i++) {
    s.pos = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
      fprintf(stderr, "curl: %s\n", curl_easy_strerror(rc));
      return 1;
    }
  }
  double t = bench_now() - t0;
  curl_easy_cleanup(c); /* sends QUIT */
  curl_slist_free_all(rcpt);
  curl_global_cleanup();
  bench_report("libcurl", count, t);
  return 0;
}

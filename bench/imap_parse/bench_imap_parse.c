/*
 * IMAP parse benchmark: the captured response of
 * `UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)` (gen_capture.py),
 * parsed from memory.
 *
 *   bench_imap_parse raw|libmail|libetpan FILE [ITERATIONS=7]
 *
 * prints "<mode> <median s> <checksum> <responses> <held peak bytes> <VmHWM KiB>".
 *
 * raw: the floor, memchr to each line end, literals skipped by their
 * count, until the tagged line. libmail: mail_imap_parser fed in 64 KiB
 * pieces, each response taken as it completes and every field read through
 * the public accessors into the checksum. libetpan: mailimap_uid_fetch()
 * over an in-memory mailstream serving the same bytes, the same fields
 * folded the same way from its structures: the two checksums must match.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mail/imap_parse.h>

#include "imap_checksum.h"

/* BENCH_DEBUG set: print the checksum after each message (to find where two
 * parsers disagree). */
static int debug;

static long vmhwm_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      v = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

/* ------------------------------------------------------------ raw */

static uint64_t run_raw(const char *d, size_t n, size_t *responses)
{
  const char *p = d, *e = d + n;
  uint64_t lines = 0;
  int cont = 0; /* the line continues a response after a literal */
  while (p < e) {
    const char *lf = memchr(p, '\n', (size_t)(e - p));
    if (!lf)
      break;
    lines++;
    const char *end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    if (end > p && end[-1] == '}') {
      const char *b = end - 1;
      while (b > p && b[-1] >= '0' && b[-1] <= '9')
        b--;
      if (b > p && b[-1] == '{') {
        uint64_t len = strtoull(b, NULL, 10);
        p = lf + 1 + len;
        cont = 1;
        continue;
      }
    }
    if (!cont && p[0] != '*' && p[0] != '+') {
      p = lf + 1;
      break;
    }
    cont = 0;
    p = lf + 1;
  }
  *responses = lines;
  return lines;
}

/* ------------------------------------------------------------ libmail */

static uint64_t run_libmail(const char *d, size_t n, size_t *responses, size_t *held_peak)
{
  sum s = {SUM_INIT};
  mail_imap_parser *p;
  if (mail_imap_parser_new(&p, NULL))
    abort();
  mail_imap_parser_expect_greeting(p, 0);
  size_t count = 0, peak = 0;
  for (size_t at = 0; at < n;) {
    size_t k = n - at < 65536 ? n - at : 65536;
    if (mail_imap_parser_feed(p, d + at, k))
      abort();
    at += k;
    const mail_imap_response *r;
    int rc;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK) {
      count++;
      size_t h = mail_imap_parser_held(p);
      if (h > peak)
        peak = h;
      if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
        continue;
      uint64_t uid = sum_fetch_libmail(&s, r);
      if (debug)
        printf("%llu %016llx\n", (unsigned long long)uid, (unsigned long long)s.h);
    }
    if (rc != MAIL_ERR_AGAIN)
      abort();
  }
  mail_imap_parser_free(p);
  *responses = count;
  *held_peak = peak;
  return s.h;
}

/* ------------------------------------------------------------ libetpan */

#ifdef HAVE_ETPAN
typedef struct memsrc {
  const char *data;
  size_t len, pos;
} memsrc;

static ssize_t mem_read(mailstream_low *l, void *buf, size_t n)
{
  memsrc *m = l->data;
  if (n > m->len - m->pos)
    n = m->len - m->pos;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}
static ssize_t mem_write(mailstream_low *l, const void *buf, size_t n)
{
  (void)l;
  (void)buf;
  return (ssize_t)n;
}
static int mem_close(mailstream_low *l)
{
  (void)l;
  return 0;
}
static int mem_fd(mailstream_low *l)
{
  (void)l;
  return -1;
}
static void mem_free(mailstream_low *l)
{
  free(l);
}
static void mem_cancel(mailstream_low *l)
{
  (void)l;
}
static struct mailstream_cancel *mem_get_cancel(mailstream_low *l)
{
  (void)l;
  return NULL;
}
static mailstream_low_driver mem_driver = {
  mem_read, mem_write, mem_close, mem_fd, mem_free, mem_cancel, mem_get_cancel, NULL, NULL, NULL,
  NULL,
};

static uint64_t run_libetpan(const char *d, size_t n, size_t *responses)
{
  sum s = {SUM_INIT};
  mailimap *im = mailimap_new(0, NULL);
  /* libetpan numbers its tags; the capture's tagged line gets the one it sends */
  char tag[32];
  snprintf(tag, sizeof tag, "%d", im->imap_tag + 1);
  const char *last = d + n - 1;
  while (last > d && last[-1] != '\n')
    last--;
  const char *sp = memchr(last, ' ', (size_t)(d + n - last));
  size_t head = (size_t)(last - d), rest = (size_t)(d + n - sp);
  char *copy = malloc(head + strlen(tag) + rest);
  memcpy(copy, d, head);
  memcpy(copy + head, tag, strlen(tag));
  memcpy(copy + head + strlen(tag), sp, rest);
  memsrc *m = calloc(1, sizeof *m);
  m->data = copy;
  m->len = head + strlen(tag) + rest;
  mailstream_low *low = mailstream_low_new(m, &mem_driver);
  im->imap_stream = mailstream_new(low, 65536);
  im->imap_state = MAILIMAP_STATE_SELECTED;
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
  struct mailimap_set *set = mailimap_set_new_interval(1, 0);
  clist *result = NULL;
  int rc = mailimap_uid_fetch(im, set, ft, &result);
  if (rc != MAILIMAP_NO_ERROR) {
    fprintf(stderr, "libetpan: uid_fetch failed: %d\n", rc);
    exit(1);
  }
  size_t count = 0;
  for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
    struct mailimap_msg_att *ma = clist_content(it);
    count++;
    uint64_t uid = sum_fetch_libetpan(&s, ma);
    if (debug)
      printf("%llu %016llx\n", (unsigned long long)uid, (unsigned long long)s.h);
  }
  mailimap_fetch_list_free(result);
  mailimap_set_free(set);
  mailimap_fetch_type_free(ft);
  mailimap_free(im);
  free(copy);
  free(m);
  *responses = count + 1;
  return s.h;
}
#endif

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fputs("usage: bench_imap_parse raw|libmail|libetpan FILE [ITERATIONS]\n", stderr);
    return 2;
  }
  const char *mode = argv[1];
  debug = getenv("BENCH_DEBUG") != NULL;
  int iters = argc > 3 ? atoi(argv[3]) : 7;
  if (iters < 1 || iters > 100)
    iters = 7;
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *d = malloc((size_t)len);
  if (!d || fread(d, 1, (size_t)len, f) != (size_t)len)
    return 1;
  fclose(f);
  double t[100];
  uint64_t ck = 0;
  size_t responses = 0, held = 0;
  for (int i = 0; i < iters; i++) {
    double t0 = bench_now();
    if (!strcmp(mode, "raw")) {
      ck = run_raw(d, (size_t)len, &responses);
    } else if (!strcmp(mode, "libmail")) {
      ck = run_libmail(d, (size_t)len, &responses, &held);
#ifdef HAVE_ETPAN
    } else if (!strcmp(mode, "libetpan")) {
      ck = run_libetpan(d, (size_t)len, &responses);
#endif
    } else {
      fprintf(stderr, "unknown mode %s\n", mode);
      return 2;
    }
    t[i] = bench_now() - t0;
  }
  qsort(t, (size_t)iters, sizeof t[0], cmp);
  printf("%s %.6f %016llx %zu %zu %ld\n", mode, t[iters / 2], (unsigned long long)ck, responses,
         held, vmhwm_kib());
  free(d);
  return 0;
}

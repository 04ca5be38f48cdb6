/* Bytes on the wire with and without COMPRESS=DEFLATE (RFC 4978) for a
 * FETCH of 10,000 messages from Dovecot (bench/README.md). For each FETCH
 * (the sync listing "UID FLAGS", headers "UID FLAGS ENVELOPE
 * BODYSTRUCTURE", whole bodies "BODY.PEEK[]") one session without COMPRESS
 * and one with, alternating, each timed from the command to its tagged OK:
 * the protocol bytes come from the trace hook (which sees the plain
 * protocol either way), the compressed ones from
 * mail_conn_compress_counts(). Both directions are counted.
 *
 *   bench_compress HOST PORT CAFILE USER MAILBOX ROUNDS   (MAIL_PASSWORD in the environment)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <mail/mail.h>

typedef struct counts {
  uint64_t in, out;
} counts;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  counts *c = user;
  (void)data;
  if (dir == MAIL_TRACE_RECV)
    c->in += len;
  else if (dir == MAIL_TRACE_SEND)
    c->out += len;
}

static double cpu_s(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int skip_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                     const unsigned char *d, size_t n)
{
  (void)user, (void)ev, (void)s, (void)d, (void)n;
  return 0;
}

static int count_fetch(void *user, const mail_imap_response *r, int trusted)
{
  (void)trusted;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_FETCH)
    ++*(unsigned long *)user;
  return 0;
}

typedef struct result {
  uint64_t plain_in, plain_out, wire_in, wire_out;
  double secs, cpu;
  unsigned long fetched;
} result;

static int one(const char *host, unsigned port, const char *ca, const char *user,
               const char *box, const char *items, int compress, result *res)
{
  mail_imap *im;
  mail_tls_config *tls;
  counts c = {0, 0};
  unsigned long fetched = 0;
  int rc = mail_imap_new(&im, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, ca);
  if (!rc) rc = mail_conn_set_tls_config(mail_imap_conn(im), tls);
  mail_tls_config_free(tls);
  mail_limits l;
  mail_limits_init(&l, MAIL_LIMITS_VERSION);
  l.max_response = 64u << 20;
  if (!rc) rc = mail_conn_set_limits(mail_imap_conn(im), &l);
  if (!rc) rc = mail_imap_set_auth(im, user, getenv("MAIL_PASSWORD"));
  if (!rc) rc = mail_imap_connect(im, host, port, MAIL_SECURITY_IMPLICIT_TLS);
  if (!rc) rc = mail_imap_login(im);
  if (!rc && compress) rc = mail_imap_compress(im);
  if (!rc) rc = mail_imap_select(im, box, 1);
  mail_imap_seqset *all = NULL;
  if (!rc) rc = mail_imap_seqset_new(&all, NULL);
  if (!rc) rc = mail_imap_seqset_add_range(all, 1, UINT32_MAX);
  uint64_t w0[4] = {0, 0, 0, 0};
  if (!rc && compress)
    mail_conn_compress_counts(&w0[0], &w0[1], &w0[2], &w0[3], mail_imap_conn(im));
  mail_conn_set_trace(mail_imap_conn(im), on_trace, &c);
  mail_imap_set_untagged_callback(im, count_fetch, &fetched);
  double t0 = now_s(), c0 = cpu_s();
  if (!rc) rc = mail_imap_fetch(im, all, 1, items, skip_body, NULL);
  double t1 = now_s(), c1 = cpu_s();
  mail_conn_set_trace(mail_imap_conn(im), NULL, NULL);
  if (!rc) {
    res->plain_in = c.in;
    res->plain_out = c.out;
    res->wire_in = c.in;
    res->wire_out = c.out;
    if (compress) {
      uint64_t w[4];
      mail_conn_compress_counts(&w[0], &w[1], &w[2], &w[3], mail_imap_conn(im));
      res->wire_in = w[0] - w0[0];
      res->wire_out = w[2] - w0[2];
    }
    res->secs = t1 - t0;
    res->cpu = c1 - c0;
    res->fetched = fetched;
  } else {
    fprintf(stderr, "bench_compress: %s: %s (%s)\n", items, mail_strerror(rc),
            mail_conn_last_error(mail_imap_conn(im)));
  }
  mail_imap_seqset_free(all);
  if (mail_imap_get_state(im) != MAIL_IMAP_STATE_DISCONNECTED)
    mail_imap_logout(im);
  mail_imap_free(im);
  return rc;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc != 7 || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... bench_compress HOST PORT CAFILE USER MAILBOX ROUNDS\n");
    return 2;
  }
  const char *host = argv[1], *ca = argv[3], *user = argv[4], *box = argv[5];
  unsigned port = (unsigned)atoi(argv[2]);
  int rounds = atoi(argv[6]);
  if (rounds < 1 || rounds > 50)
    rounds = 3;
  static const char *const items[] = {"(UID FLAGS)", "(UID FLAGS ENVELOPE BODYSTRUCTURE)",
                                      "(UID BODY.PEEK[])"};
  printf("| FETCH | messages | COMPRESS | received MB (protocol) | received MB (wire) | ratio | "
         "sent KB (wire) | median s | client CPU s |\n|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
  for (size_t k = 0; k < 3; k++) {
    result r[2];
    double t[2][50];
    for (int i = 0; i < rounds; i++)
      for (int z = 0; z < 2; z++) {
        if (one(host, port, ca, user, box, items[k], z, &r[z]))
          return 1;
        t[z][i] = r[z].secs;
      }
    for (int z = 0; z < 2; z++) {
      qsort(t[z], (size_t)rounds, sizeof t[z][0], cmp_double);
      printf("| %s | %lu | %s | %.2f | %.2f | %.2fx | %.1f | %.3f | %.3f |\n", items[k],
             r[z].fetched, z ? "DEFLATE" : "off", r[z].plain_in / 1e6, r[z].wire_in / 1e6,
             (double)r[z].plain_in / (double)(r[z].wire_in ? r[z].wire_in : 1),
             r[z].wire_out / 1e3, t[z][rounds / 2], r[z].cpu);
    }
  }
  return 0;
}

/* COMPRESS=DEFLATE against the real Dovecot (imap_zlib): over IMAPS and
 * over STARTTLS in event-loop mode, 100 messages APPENDed after the switch
 * and read back byte for byte with one FETCH, the byte counts showing the
 * wire carried less than the protocol did; a second COMPRESS refused by
 * the library before it reaches the server. Each run works in a mailbox of
 * its own. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mail/imap.h>

#include "servers_env.h"

#define NMSG 100

static mail_imap *open_session(int implicit, int nonblocking)
{
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, mail_test_env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(mail_imap_conn(im), cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(mail_imap_conn(im), MAIL_TIMEOUT_IO, 20000);
  ck_assert_int_eq(mail_imap_set_auth(im, mail_test_env("MAIL_TEST_USER1"),
                                      mail_test_env("MAIL_TEST_PASS1")),
                   MAIL_OK);
  unsigned int port = (unsigned int)(implicit ? mail_test_env_long("MAIL_TEST_IMAPS_PORT", 12993)
                                              : mail_test_env_long("MAIL_TEST_IMAP_PORT", 12143));
  int rc = mail_imap_connect(im, mail_test_env("MAIL_TEST_HOSTNAME"), port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  rc = mail_imap_login(im);
  ck_assert_msg(rc == MAIL_OK, "login: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_int_eq(mail_conn_set_nonblocking(mail_imap_conn(im), nonblocking), MAIL_OK);
  return im;
}

/* Run an operation to its end, waiting on the fd while it says AGAIN. */
static int drive(mail_imap *im, int rc, int *agains)
{
  mail_conn *c = mail_imap_conn(im);
  (void)rc;
  int w = mail_conn_want(c);
  struct pollfd p = {mail_conn_fd(c),
                     (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) | ((w & MAIL_WANT_WRITE) ? POLLOUT : 0)),
                     0};
  int64_t ms = mail_conn_timeout_ms(c);
  poll(&p, 1, ms < 0 || ms > 30000 ? 30000 : (int)ms);
  (*agains)++;
  return 0;
}
#define RUN(rc, im, expr)                                  \
  do {                                                     \
    while (((rc) = (expr)) == MAIL_ERR_AGAIN)              \
      drive(im, rc, &agains);                              \
  } while (0)

typedef struct src {
  const char *data;
  size_t len, at;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t n = s->len - s->at < cap ? s->len - s->at : cap;
  memcpy(buf, s->data + s->at, n);
  s->at += n;
  *got = n;
  return 0;
}

typedef struct bodies {
  char *msgs[NMSG];
  size_t lens[NMSG];
  int index;      /* the message whose body is arriving, -1 between */
  size_t at;
  int matched, mismatched;
} bodies;

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                   const unsigned char *d, size_t n)
{
  bodies *b = user;
  (void)sec;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    b->index++;
    b->at = 0;
  } else if (ev == MAIL_IMAP_BODY_DATA) {
    if (b->index < 0 || b->index >= NMSG || b->at + n > b->lens[b->index] ||
        memcmp(b->msgs[b->index] + b->at, d, n) != 0)
      b->mismatched++;
    b->at += n;
  } else if (ev == MAIL_IMAP_BODY_END) {
    if (b->index >= 0 && b->index < NMSG && b->at == b->lens[b->index])
      b->matched++;
    else
      b->mismatched++;
  }
  return 0;
}

static void round_trip(int implicit, int nonblocking)
{
  int agains = 0, rc;
  mail_imap *im = open_session(implicit, nonblocking);
  mail_conn *c = mail_imap_conn(im);
  ck_assert(mail_imap_has_capability(im, "COMPRESS=DEFLATE"));
  ck_assert_int_eq(mail_conn_is_compressed(c), 0);
  RUN(rc, im, mail_imap_compress(im));
  ck_assert_msg(rc == MAIL_OK, "COMPRESS: %s (%s)", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_int_eq(mail_conn_is_compressed(c), 1);
  ck_assert_int_eq(mail_imap_compress(im), MAIL_ERR_STATE);

  char box[160];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(box, sizeof box, "libmail-compress-%d-%ld-%ld", nonblocking, (long)getpid(), ts.tv_nsec);
  RUN(rc, im, mail_imap_create(im, box));
  ck_assert_int_eq(rc, MAIL_OK);

  bodies b;
  memset(&b, 0, sizeof b);
  b.index = -1;
  for (int i = 0; i < NMSG; i++) {
    size_t cap = 2000 + (size_t)i * 300;
    char *m = malloc(cap);
    ck_assert_ptr_nonnull(m);
    size_t len = (size_t)snprintf(m, cap, "From: alice@libmail.test\r\nSubject: compress %d\r\n\r\n", i);
    for (int k = 0; len + 100 < cap; k++)
      len += (size_t)snprintf(m + len, cap - len, "line %d of message %d, said twice, said twice\r\n", k, i);
    b.msgs[i] = m;
    b.lens[i] = len;
    src s = {m, len, 0};
    RUN(rc, im, mail_imap_append(im, box, NULL, 0, 0, len, src_read, &s));
    ck_assert_msg(rc == MAIL_OK, "APPEND %d: %s (%s)", i, mail_strerror(rc), mail_conn_last_error(c));
  }
  RUN(rc, im, mail_imap_select(im, box, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, NMSG), MAIL_OK);
  RUN(rc, im, mail_imap_fetch(im, set, 0, "(BODY.PEEK[])", on_body, &b));
  ck_assert_msg(rc == MAIL_OK, "FETCH: %s (%s)", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_int_eq(b.mismatched, 0);
  ck_assert_int_eq(b.matched, NMSG);

  uint64_t wi, pi, wo, po;
  ck_assert_int_eq(mail_conn_compress_counts(&wi, &pi, &wo, &po, c), MAIL_OK);
  /* The messages went out and came back: both directions carried them in
   * a fraction of their size. */
  ck_assert_uint_gt(po, 100000);
  ck_assert_uint_gt(pi, 100000);
  ck_assert_msg(wo * 3 < po && wi * 3 < pi, "wire %llu/%llu in, %llu/%llu out",
                (unsigned long long)wi, (unsigned long long)pi, (unsigned long long)wo,
                (unsigned long long)po);

  RUN(rc, im, mail_imap_close(im));
  ck_assert_int_eq(rc, MAIL_OK);
  RUN(rc, im, mail_imap_delete(im, box));
  ck_assert_int_eq(rc, MAIL_OK);
  RUN(rc, im, mail_imap_logout(im));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(!nonblocking || agains > 0);
  mail_imap_seqset_free(set);
  for (int i = 0; i < NMSG; i++)
    free(b.msgs[i]);
  mail_imap_free(im);
}

START_TEST(test_compress_imaps)
{
  round_trip(1, 0);
}
END_TEST

START_TEST(test_compress_starttls_event_loop)
{
  round_trip(0, 1);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("imap-compress");
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_compress_imaps);
  tcase_add_test(tc, test_compress_starttls_event_loop);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

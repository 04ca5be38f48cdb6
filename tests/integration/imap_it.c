/* See imap_it.h. */
#include "imap_it.h"

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "servers_env.h"

void imap_it_trust(mail_conn *conn)
{
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, mail_test_env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(conn, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
}

mail_imap *imap_it_connect(int implicit, const mail_allocator *alloc, const mail_limits *limits)
{
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, alloc), MAIL_OK);
  imap_it_trust(mail_imap_conn(im));
  if (limits)
    ck_assert_int_eq(mail_conn_set_limits(mail_imap_conn(im), limits), MAIL_OK);
  mail_conn_set_timeout(mail_imap_conn(im), MAIL_TIMEOUT_IO, 30000);
  unsigned int port = (unsigned int)(implicit ? mail_test_env_long("MAIL_TEST_IMAPS_PORT", 12993)
                                              : mail_test_env_long("MAIL_TEST_IMAP_PORT", 12143));
  int rc = mail_imap_connect(im, mail_test_env("MAIL_TEST_HOSTNAME"), port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect %u: %s (%s)", port, mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert(mail_conn_is_verified(mail_imap_conn(im)));
  return im;
}

void imap_it_login_as(mail_imap *im, int user)
{
  char ukey[32], pkey[32];
  snprintf(ukey, sizeof ukey, "MAIL_TEST_USER%d", user);
  snprintf(pkey, sizeof pkey, "MAIL_TEST_PASS%d", user);
  ck_assert_int_eq(mail_imap_set_auth(im, mail_test_env(ukey), mail_test_env(pkey)), MAIL_OK);
  ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_LOGIN), MAIL_OK);
  int rc = mail_imap_login(im);
  ck_assert_msg(rc == MAIL_OK, "login as %s: %s (%s)", mail_test_env(ukey), mail_strerror(rc),
                mail_imap_last_text(im));
}

mail_imap *imap_it_login(int user, int implicit, const mail_allocator *alloc)
{
  mail_imap *im = imap_it_connect(implicit, alloc, NULL);
  imap_it_login_as(im, user);
  return im;
}

void imap_it_logout(mail_imap *im)
{
  int rc = mail_imap_logout(im);
  ck_assert_msg(rc == MAIL_OK, "LOGOUT: %s", mail_strerror(rc));
  mail_imap_free(im);
}

void imap_it_unique(char *out, size_t cap, const char *what)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(out, cap, "libmail-%s-%ld-%ld-%ld-\xc3\xa9t\xc3\xa9", what, (long)getpid(),
           (long)ts.tv_sec, ts.tv_nsec);
}

int64_t imap_it_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int imap_it_wait(mail_imap *im, int64_t deadline_ms)
{
  int64_t left = deadline_ms - imap_it_now_ms();
  if (left <= 0)
    return 0;
  mail_conn *c = mail_imap_conn(im);
  int w = mail_conn_want(c);
  int64_t t = mail_conn_timeout_ms(c);
  if (t < 0 || t > left)
    t = left;
  struct pollfd p = {mail_conn_fd(c),
                     (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) |
                             ((w & MAIL_WANT_WRITE) ? POLLOUT : 0)),
                     0};
  poll(&p, 1, (int)t);
  return 1;
}

int imap_it_main(const char *suite, int timeout, const TTest *const *tests, size_t n)
{
  mail_test_require_servers();
  Suite *s = suite_create(suite);
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, timeout);
  for (size_t i = 0; i < n; i++)
    tcase_add_test(tc, tests[i]);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

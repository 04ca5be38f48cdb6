/* IMAP against the real Dovecot of tests/servers: STARTTLS and IMAPS,
 * every SASL mechanism Dovecot offers plus LOGIN (also with a non-ASCII
 * password), a refused password, an imaps:// URL with user and mailbox,
 * and the mailbox commands in mailboxes each test creates under a unique
 * name and deletes (other processes use the same users meanwhile), also
 * driven event-loop style. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mail/imap.h>

#include "servers_env.h"

static unsigned int port_of(const char *key, long fallback)
{
  return (unsigned int)mail_test_env_long(key, fallback);
}

static const char *host(void)
{
  return mail_test_env("MAIL_TEST_HOSTNAME");
}

static mail_imap *new_session(void)
{
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, mail_test_env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(mail_imap_conn(im), cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(mail_imap_conn(im), MAIL_TIMEOUT_IO, 20000);
  return im;
}

/* Connected and logged in; mech NULL means the LOGIN command. */
static mail_imap *open_session(int implicit, const char *user, const char *pass, const char *mech,
                               int *login_rc)
{
  mail_imap *im = new_session();
  ck_assert_int_eq(mail_imap_set_auth(im, user, pass), MAIL_OK);
  if (mech) {
    ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_SASL), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_mechanisms(mail_imap_sasl(im), mech), MAIL_OK);
  } else {
    ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_LOGIN), MAIL_OK);
  }
  unsigned int port = implicit ? port_of("MAIL_TEST_IMAPS_PORT", 12993)
                               : port_of("MAIL_TEST_IMAP_PORT", 12143);
  int rc = mail_imap_connect(im, host(), port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect %u: %s (%s)", port, mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert(mail_conn_is_verified(mail_imap_conn(im)));
  ck_assert(!mail_imap_has_capability(im, "STARTTLS") || implicit);
  ck_assert(mail_imap_has_capability(im, "IMAP4rev1"));
  rc = mail_imap_login(im);
  if (login_rc) {
    *login_rc = rc;
    return im;
  }
  ck_assert_msg(rc == MAIL_OK, "login %s as %s: %s (%s; %s)", mech ? mech : "LOGIN", user,
                mail_strerror(rc), mail_conn_last_error(mail_imap_conn(im)),
                mail_imap_last_text(im));
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  /* Capabilities after login: Dovecot lists its extensions only now. */
  ck_assert(mail_imap_has_capability(im, "UIDPLUS"));
  return im;
}

START_TEST(test_mechanisms)
{
  static const char *const users[][2] = {{"MAIL_TEST_USER1", "MAIL_TEST_PASS1"},
                                         {"MAIL_TEST_USER3", "MAIL_TEST_PASS3"}};
  char mechs[256];
  snprintf(mechs, sizeof mechs, "%s", mail_test_env("MAIL_TEST_SASL_MECHS"));
  const char *list[16];
  size_t n = 0;
  list[n++] = NULL; /* LOGIN */
  for (char *save, *m = strtok_r(mechs, ",", &save); m && n < 16; m = strtok_r(NULL, ",", &save))
    list[n++] = m;
  ck_assert_uint_ge(n, 5);
  for (size_t u = 0; u < 2; u++)
    for (size_t i = 0; i < n; i++)
      for (int implicit = 0; implicit < 2; implicit++) {
        mail_imap *im = open_session(implicit, mail_test_env(users[u][0]),
                                     mail_test_env(users[u][1]), list[i], NULL);
        ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
        ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
        ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_DISCONNECTED);
        mail_imap_free(im);
      }
}
END_TEST

START_TEST(test_wrong_password)
{
  static const char *const mechs[] = {NULL, "PLAIN", "SCRAM-SHA-256"};
  for (size_t i = 0; i < 3; i++) {
    int rc = 0;
    mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER2"), "not-the-password",
                                 mechs[i], &rc);
    ck_assert_msg(rc == MAIL_ERR_AUTH, "%s: %s", mechs[i] ? mechs[i] : "LOGIN", mail_strerror(rc));
    ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_NOT_AUTHENTICATED);
    ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
    mail_imap_free(im);
  }
}
END_TEST

START_TEST(test_url)
{
  mail_imap *im = new_session();
  char url[512];
  snprintf(url, sizeof url, "imaps://%s:%s@%s:%u/INBOX", mail_test_env("MAIL_TEST_USER1"),
           mail_test_env("MAIL_TEST_PASS1"), host(), port_of("MAIL_TEST_IMAPS_PORT", 12993));
  ck_assert_int_eq(mail_imap_connect_url(im, url), MAIL_OK);
  ck_assert_str_eq(mail_imap_url_mailbox(im), "INBOX");
  ck_assert_int_eq(mail_imap_login(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, mail_imap_url_mailbox(im), 1), MAIL_OK);
  ck_assert(mail_imap_mailbox_read_only(im));
  uint64_t v;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDVALIDITY), MAIL_OK);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

static void unique_name(char *out, size_t cap, const char *what)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(out, cap, "libmail-%s-%ld-%ld-%ld-\xc3\xa9t\xc3\xa9", what, (long)getpid(),
           (long)ts.tv_sec, ts.tv_nsec);
}

/* Call again while MAIL_ERR_AGAIN, waiting on the fd as an event loop would. */
static int loop(mail_imap *im, int rc, int *agains)
{
  (void)im;
  if (rc == MAIL_ERR_AGAIN)
    (*agains)++;
  return rc;
}
#define LOOP(rc, im, expr)                                                        \
  do {                                                                            \
    while (((rc) = loop(im, (expr), &agains)) == MAIL_ERR_AGAIN) {                \
      mail_conn *c_ = mail_imap_conn(im);                                         \
      int w_ = mail_conn_want(c_);                                                \
      struct pollfd pfd_ = {mail_conn_fd(c_),                                     \
                            (short)(((w_ & MAIL_WANT_READ) ? POLLIN : 0) |         \
                                    ((w_ & MAIL_WANT_WRITE) ? POLLOUT : 0)),      \
                            0};                                                   \
      poll(&pfd_, 1, mail_conn_timeout_ms(c_));                                   \
    }                                                                             \
  } while (0)

static void mailbox_round(int nonblocking)
{
  int agains = 0, rc;
  mail_imap *im = open_session(0, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  mail_conn_set_nonblocking(mail_imap_conn(im), nonblocking);
  char a[160], b[160];
  unique_name(a, sizeof a, "a");
  unique_name(b, sizeof b, "b");
  LOOP(rc, im, mail_imap_create(im, a));
  ck_assert_msg(rc == MAIL_OK, "CREATE: %s %s", mail_strerror(rc), mail_imap_last_text(im));
  LOOP(rc, im, mail_imap_create(im, a));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_ALREADYEXISTS);
  LOOP(rc, im, mail_imap_rename(im, a, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_subscribe(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  uint64_t v = 99;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDNEXT), MAIL_OK);
  ck_assert_uint_eq(v, 1);
  ck_assert_uint_ge(mail_imap_mailbox_flag_count(im, MAIL_IMAP_FLAGS_PERMANENT), 5);
  ck_assert(!mail_imap_mailbox_read_only(im));
  LOOP(rc, im, mail_imap_expunge(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_unselect(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(mail_imap_mailbox_read_only(im));
  LOOP(rc, im, mail_imap_close(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_unsubscribe(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_delete(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 0));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  static const char *const f[] = {"name"};
  static const char *const val[] = {"libmail-test"};
  LOOP(rc, im, mail_imap_id(im, f, val, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  static const char *const ext[] = {"CONDSTORE"};
  LOOP(rc, im, mail_imap_enable(im, ext, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(mail_imap_is_enabled(im, "CONDSTORE"));
  LOOP(rc, im, mail_imap_logout(im));
  ck_assert_int_eq(rc, MAIL_OK);
  if (nonblocking)
    ck_assert_int_gt(agains, 0);
  mail_imap_free(im);
}

START_TEST(test_mailboxes)
{
  mailbox_round(0);
}
END_TEST

START_TEST(test_mailboxes_event_loop)
{
  mailbox_round(1);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("imap-integration");
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_mechanisms);
  tcase_add_test(tc, test_wrong_password);
  tcase_add_test(tc, test_url);
  tcase_add_test(tc, test_mailboxes);
  tcase_add_test(tc, test_mailboxes_event_loop);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

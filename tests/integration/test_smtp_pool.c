/* The SMTP session pool against the real Postfix (submission: STARTTLS
 * required, then AUTH): a session reused for the same key and only for it,
 * the per-key limit with reservations, a dropped link found by the probe
 * and replaced, the idle timeout on the session's clock, what put() keeps
 * and frees, and every message sent through the pool delivered. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mail/smtp_pool.h>

#include "maildir.h"
#include "servers_env.h"

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

static unsigned int sub_port(void)
{
  return (unsigned int)mail_test_env_long("MAIL_TEST_SUBMISSION_PORT", 12587);
}

static int64_t fake_now = 1000000;
static int64_t fake_clock(void *user, int which)
{
  (void)user;
  (void)which;
  return fake_now;
}

/* A new session logged in as user n with mech: what a caller makes for a
 * place the pool reserved. */
static mail_smtp *make(int n, const char *mech)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 30000);
  ck_assert_int_eq(mail_conn_set_clock(c, fake_clock, NULL), MAIL_OK);
  char k[32];
  snprintf(k, sizeof k, "MAIL_TEST_USER%d", n);
  const char *user = env(k);
  snprintf(k, sizeof k, "MAIL_TEST_PASS%d", n);
  ck_assert_int_eq(mail_smtp_set_auth(s, user, env(k)), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_mechanisms(mail_smtp_sasl(s), mech), MAIL_OK);
  int rc = mail_smtp_connect(s, "localhost", sub_port(), MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  rc = mail_smtp_auth(s);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  return s;
}

/* Send one message tagged tag from user 1 to user 2. */
static void send_tagged(mail_smtp *s, const char *tag)
{
  char body[512];
  int n = snprintf(body, sizeof body,
                   "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@libmail.test>\r\n\r\n"
                   "sent through the pool\r\n",
                   env("MAIL_TEST_ADDR1"), env("MAIL_TEST_ADDR2"), tag, tag);
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, env("MAIL_TEST_ADDR2"), NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, body, (size_t)n), MAIL_OK);
  int rc = mail_smtp_send(s, e);
  ck_assert_msg(rc == MAIL_OK, "send: %s: %s", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)));
  mail_smtp_envelope_free(e);
}

static void delivered(const char *tag)
{
  for (int tries = 0; tries < 300; tries++) {
    size_t len;
    char *m = mail_test_maildir_take(env("MAIL_TEST_MAILDIR2"), tag, &len);
    if (m) {
      free(m);
      return;
    }
    usleep(100000);
  }
  ck_abort_msg("%s was not delivered", tag);
}

static void counts(const mail_smtp_pool *p, size_t idle, size_t loan, size_t reserved)
{
  size_t a, b, c;
  ck_assert_int_eq(mail_smtp_pool_counts(&a, &b, &c, p), MAIL_OK);
  ck_assert_msg(a == idle && b == loan && c == reserved, "idle %zu loan %zu reserved %zu", a, b, c);
}

#define KEY1 "localhost", sub_port(), MAIL_SECURITY_STARTTLS, env("MAIL_TEST_USER1"), "SCRAM-SHA-256"

START_TEST(reuse_limits_and_stale_sessions)
{
  mail_smtp_pool *p = NULL;
  ck_assert_int_eq(mail_smtp_pool_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_set_limit(p, 2), MAIL_OK);
  char tag[6][96];
  for (int i = 0; i < 6; i++)
    snprintf(tag[i], sizeof tag[i], "pool-%d-%d-%ld", i, (int)getpid(), (long)time(NULL));

  /* Nothing idle: a place is reserved; the session made for it goes back. */
  mail_smtp *s = NULL, *s2 = NULL, *t = NULL;
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, KEY1), MAIL_ERR_NOT_FOUND);
  counts(p, 0, 0, 1);
  s = make(1, "SCRAM-SHA-256");
  send_tagged(s, tag[0]);
  ck_assert_int_eq(mail_smtp_pool_put(p, s), MAIL_OK);
  counts(p, 1, 0, 0);

  /* The same key gets the same session, probed with RSET; the host's
   * case does not matter. */
  ck_assert_int_eq(mail_smtp_pool_take(&t, p, "LOCALHOST", sub_port(), MAIL_SECURITY_STARTTLS,
                                       env("MAIL_TEST_USER1"), "SCRAM-SHA-256"), MAIL_OK);
  ck_assert_ptr_eq(t, s);
  ck_assert_int_eq(mail_smtp_rset(t), MAIL_OK);
  send_tagged(t, tag[1]);
  counts(p, 0, 1, 0);
  /* A second, concurrent session of the key: reserved, then the limit. */
  ck_assert_int_eq(mail_smtp_pool_take(&s2, p, KEY1), MAIL_ERR_NOT_FOUND);
  mail_smtp *x = NULL;
  ck_assert_int_eq(mail_smtp_pool_take(&x, p, KEY1), MAIL_ERR_TOO_MANY_CONNECTIONS);
  ck_assert_ptr_null(x);
  s2 = make(1, "SCRAM-SHA-256");
  send_tagged(s2, tag[2]);
  ck_assert_int_eq(mail_smtp_pool_put(p, s2), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_put(p, t), MAIL_OK);
  counts(p, 2, 0, 0);

  /* Another mechanism, another user: other keys, nothing shared. */
  ck_assert_int_eq(mail_smtp_pool_take(&x, p, "localhost", sub_port(), MAIL_SECURITY_STARTTLS,
                                       env("MAIL_TEST_USER1"), "PLAIN"), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_smtp_pool_unreserve(p, "localhost", sub_port(), MAIL_SECURITY_STARTTLS,
                                            env("MAIL_TEST_USER1"), "PLAIN"), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_take(&x, p, "localhost", sub_port(), MAIL_SECURITY_STARTTLS,
                                       env("MAIL_TEST_USER2"), "SCRAM-SHA-256"), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_smtp_pool_unreserve(p, "localhost", sub_port(), MAIL_SECURITY_STARTTLS,
                                            env("MAIL_TEST_USER2"), "SCRAM-SHA-256"), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_unreserve(p, KEY1), MAIL_ERR_NOT_FOUND);
  /* A session made for a place nobody reserved is not taken. */
  mail_smtp *foreign = make(2, "SCRAM-SHA-256");
  ck_assert_int_eq(mail_smtp_pool_put(p, foreign), MAIL_ERR_INVALID);
  mail_smtp_free(foreign);

  /* A dropped link: the probe finds it, the session is discarded, and the
   * next take reserves a place for a new one. */
  ck_assert_int_eq(mail_smtp_pool_take(&t, p, KEY1), MAIL_OK);
  ck_assert_int_eq(shutdown(mail_conn_fd(mail_smtp_conn(t)), SHUT_RDWR), 0);
  ck_assert_int_ne(mail_smtp_rset(t), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_discard(p, t), MAIL_OK);
  counts(p, 1, 0, 0);
  ck_assert_int_eq(mail_smtp_pool_take(&t, p, KEY1), MAIL_OK); /* the other one */
  ck_assert_int_eq(mail_smtp_rset(t), MAIL_OK);
  send_tagged(t, tag[3]);
  /* Closed by the server (QUIT here): put() frees instead of keeping it. */
  ck_assert_int_eq(mail_smtp_quit(t), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_put(p, t), MAIL_OK);
  counts(p, 0, 0, 0);

  /* The idle timeout, on the sessions' clock. */
  ck_assert_int_eq(mail_smtp_pool_set_idle_timeout(p, 1000), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, KEY1), MAIL_ERR_NOT_FOUND);
  s = make(1, "SCRAM-SHA-256");
  send_tagged(s, tag[4]);
  ck_assert_int_eq(mail_smtp_pool_put(p, s), MAIL_OK);
  fake_now += 1001;
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, KEY1), MAIL_ERR_NOT_FOUND); /* freed, place reserved */
  counts(p, 0, 0, 1);
  s = make(1, "SCRAM-SHA-256");
  send_tagged(s, tag[5]);
  ck_assert_int_eq(mail_smtp_pool_put(p, s), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_pool_close_idle(p), 1);
  counts(p, 0, 0, 0);
  mail_smtp_pool_free(p);
  for (int i = 0; i < 6; i++)
    delivered(tag[i]);
}
END_TEST

START_TEST(api_rules)
{
  mail_smtp_pool *p = NULL;
  ck_assert_int_eq(mail_smtp_pool_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_set_limit(p, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_set_limit(p, 1001), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_set_idle_timeout(p, 0), MAIL_ERR_INVALID);
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, NULL, 25, 0, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, "h\r\n", 25, 0, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_take(&s, p, "h", 25, 0, "u\n", NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_put(p, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_pool_discard(p, NULL), MAIL_ERR_INVALID);
  mail_smtp *other = NULL;
  ck_assert_int_eq(mail_smtp_new(&other, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_pool_discard(p, other), MAIL_ERR_INVALID); /* not on loan */
  ck_assert_int_eq(mail_smtp_pool_put(p, other), MAIL_ERR_INVALID);     /* never connected */
  mail_smtp_free(other);
  ck_assert_int_eq(mail_smtp_pool_counts(NULL, NULL, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_uint_eq(mail_smtp_pool_close_idle(NULL), 0);
  mail_smtp_pool_free(p);
  mail_smtp_pool_free(NULL);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *su = suite_create("smtp_pool");
  TCase *tc = tcase_create("pool");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, reuse_limits_and_stale_sessions);
  tcase_add_test(tc, api_rules);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

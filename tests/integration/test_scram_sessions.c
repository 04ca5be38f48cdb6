/*
 * SMTP, POP3 and IMAP sessions logging in with their defaults over real sockets
 * to tests/sasl/scram_server.py (Python + python3-openssl, no libmail
 * code) acting as a server that advertises SCRAM-*-PLUS but binds only
 * tls-unique, also under TLS 1.3 where tls-unique does not exist (Cyrus
 * IMAP/POP3 3.6 with Cyrus SASL 2.1.28):
 *
 *   - TLS 1.2: SCRAM-SHA-256-PLUS with tls-unique, one attempt;
 *   - TLS 1.3: -PLUS refused at client-final, one retry of SCRAM-SHA-256
 *     without binding (gs2 "n") on the same connection, logged in;
 *   - with mail_sasl_set_allow_channel_binding_downgrade(0): MAIL_ERR_AUTH;
 *   - a wrong password: two refused attempts, MAIL_ERR_AUTH;
 *
 * over implicit TLS (smtps, pop3s, imaps) and STARTTLS/STLS. Every run checks
 * that the trace names the mechanism ("AUTH SCRAM-SHA-256-PLUS
 * [redacted]", IMAP "AUTHENTICATE SCRAM-SHA-256-PLUS [redacted]"), that neither the password nor a response line reaches it,
 * and, with the tracking allocator, that no freed block holds the password
 * and nothing is leaked.
 *
 * Skips (77) when /usr/bin/python3 cannot import OpenSSL, unless
 * MAIL_TEST_REQUIRE_SERVERS=1.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/conn.h>
#if SCRAM_WITH_IMAP
#include <mail/imap.h>
#endif
#include <mail/pop3.h>
#include <mail/sasl.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "sasl/sasl_mech.h"
#include "scram_server.h"

#define PASSWORD "alice-pw-1"

enum { PROTO_SMTP, PROTO_POP3, PROTO_IMAP };

typedef struct outcome {
  int rc;
  int cb_type;
  char mech[32];
  scram_server sv;
} outcome;

/* Configure a session's connection: the test CA, short timeouts, trace. */
static void setup_conn(mail_conn *c, trace_log *tl)
{
  mail_tls_config *cfg = NULL;
  char ca[1200];
  snprintf(ca, sizeof ca, "%s/data/tls/ca.pem", scram_server_srcdir());
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ca), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 20000);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 20000);
  mail_conn_set_trace(c, trace_log_fn, tl);
}

static void take_mech(outcome *o, mail_sasl *sasl)
{
  const char *mech = mail_sasl_mechanism(sasl);
  snprintf(o->mech, sizeof o->mech, "%s", mech ? mech : "");
  o->cb_type = sasl->cb_type;
}

static int login_smtp(outcome *o, const mail_allocator *a, trace_log *tl, int security,
                      int no_downgrade, const char *password)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, a), MAIL_OK);
  setup_conn(mail_smtp_conn(s), tl);
  ck_assert_int_eq(mail_smtp_set_auth(s, "alice", password), MAIL_OK);
  if (no_downgrade)
    ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(mail_smtp_sasl(s), 0), MAIL_OK);
  int rc = mail_smtp_connect(s, "127.0.0.1", o->sv.port, security);
  ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)));
  rc = mail_smtp_auth(s);
  take_mech(o, mail_smtp_sasl(s));
  ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  mail_smtp_free(s);
  return rc;
}

static int login_pop3(outcome *o, const mail_allocator *a, trace_log *tl, int security,
                      int no_downgrade, const char *password)
{
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, a), MAIL_OK);
  setup_conn(mail_pop3_conn(p), tl);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", password), MAIL_OK);
  if (no_downgrade)
    ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(mail_pop3_sasl(p), 0), MAIL_OK);
  int rc = mail_pop3_connect(p, "127.0.0.1", o->sv.port, security);
  ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_pop3_conn(p)));
  rc = mail_pop3_auth(p);
  take_mech(o, mail_pop3_sasl(p));
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  mail_pop3_free(p);
  return rc;
}

#if SCRAM_WITH_IMAP
static int login_imap(outcome *o, const mail_allocator *a, trace_log *tl, int security,
                      int no_downgrade, const char *password)
{
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, a), MAIL_OK);
  setup_conn(mail_imap_conn(im), tl);
  ck_assert_int_eq(mail_imap_set_auth(im, "alice", password), MAIL_OK);
  if (no_downgrade)
    ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(mail_imap_sasl(im), 0), MAIL_OK);
  int rc = mail_imap_connect(im, "127.0.0.1", o->sv.port, security);
  ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  rc = mail_imap_login(im);
  take_mech(o, mail_imap_sasl(im));
  /* Refused or not, the session goes on: NOOP, then LOGOUT. */
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
  return rc;
}
#endif

/* One login with the session's defaults against a Cyrus-like server. */
static outcome login(int proto, const char *tls, int starttls, int no_downgrade,
                     const char *password)
{
  outcome o;
  memset(&o, 0, sizeof o);
  static const char *const names[] = {"smtp", "pop3", "imap"};
  const char *args[16] = {"--proto", names[proto], "--tls", tls,
                          "--cb-types", "tls-unique"};
  int n = 6;
  if (starttls)
    args[n++] = "--starttls";
  args[n] = NULL;
  scram_server_start(&o.sv, args);

  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_test_alloc_forbid_str(&ta, password);
  static trace_log tl;
  trace_log_clear(&tl);
  int security = starttls ? MAIL_SECURITY_STARTTLS : MAIL_SECURITY_IMPLICIT_TLS;
  const mail_allocator *A = mail_test_alloc_hooks(&ta);
  if (proto == PROTO_SMTP)
    o.rc = login_smtp(&o, A, &tl, security, no_downgrade, password);
  else if (proto == PROTO_POP3)
    o.rc = login_pop3(&o, A, &tl, security, no_downgrade, password);
#if SCRAM_WITH_IMAP
  else
    o.rc = login_imap(&o, A, &tl, security, no_downgrade, password);
#endif
  scram_server_finish(&o.sv);

  /* Only the credentials are redacted: the first AUTH line names the
   * mechanism, every response line is "[redacted]". */
  ck_assert_msg(strstr(tl.text, proto == PROTO_IMAP ? "AUTHENTICATE SCRAM-SHA-256-PLUS [redacted]"
                                                    : "AUTH SCRAM-SHA-256-PLUS [redacted]") != NULL,
                "trace:\n%s", tl.text);
  ck_assert_ptr_null(strstr(tl.text, password));
  /* The client-first message of every attempt starts with a base64 gs2
   * header ("p=tls-", "n,,"): never in the trace. */
  ck_assert_ptr_null(strstr(tl.text, "cD10bHMt"));
  ck_assert_ptr_null(strstr(tl.text, "biwsbj1hbGljZSxy"));
  ck_assert_msg(ta.forbidden_hits == 0, "%s", ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
  return o;
}

#define OK_OR_SAY(o)                                                                     \
  ck_assert_msg((o).rc == MAIL_OK, "%s; server: %s / %s", mail_strerror((o).rc),         \
                (o).sv.nattempts > 0 ? (o).sv.attempts[0] : "-", (o).sv.result)

/* _i: bits 0-1 the protocol (SMTP, POP3, IMAP), bit 2 STARTTLS/STLS. */
#define PROTO (_i & 3)
#define STARTTLS ((_i & 4) != 0)
/* Every protocol built: 2 or 3, times implicit TLS and STARTTLS. */
#if SCRAM_WITH_IMAP
#define NPROTO 3
#else
#define NPROTO 2
#endif

START_TEST(tls12_binds_tls_unique)
{
  outcome o = login(PROTO, "1.2", STARTTLS, 0, PASSWORD);
  OK_OR_SAY(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
  ck_assert_int_eq(o.sv.nattempts, 1);
  ck_assert_str_eq(o.sv.attempts[0], "SCRAM-SHA-256-PLUS p=tls-unique TLSv1.2 OK");
}
END_TEST

START_TEST(tls13_retry_without_binding)
{
  outcome o = login(PROTO, "1.3", STARTTLS, 0, PASSWORD);
  OK_OR_SAY(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256");
  ck_assert_int_eq(o.sv.nattempts, 2);
  ck_assert_str_eq(o.sv.attempts[0],
                   "SCRAM-SHA-256-PLUS p=tls-exporter TLSv1.3 NO bad protocol / cancel");
  ck_assert_str_eq(o.sv.attempts[1], "SCRAM-SHA-256 n TLSv1.3 OK");
}
END_TEST

START_TEST(tls13_downgrade_forbidden)
{
  outcome o = login(PROTO, "1.3", STARTTLS, 1, PASSWORD);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(o.sv.nattempts, 1);
}
END_TEST

START_TEST(tls12_wrong_password_costs_two_attempts)
{
  outcome o = login(PROTO, "1.2", STARTTLS, 0, "not-the-password");
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_int_eq(o.sv.nattempts, 2);
  ck_assert_str_eq(o.sv.attempts[0], "SCRAM-SHA-256-PLUS p=tls-unique TLSv1.2 NO invalid proof");
  ck_assert_str_eq(o.sv.attempts[1], "SCRAM-SHA-256 n TLSv1.2 NO invalid proof");
}
END_TEST

int main(void)
{
  int skip = scram_server_check();
  if (skip)
    return skip;
  signal(SIGPIPE, SIG_IGN);
  Suite *s = suite_create("scram-sessions");
  TCase *t = tcase_create("cyrus-like");
  tcase_set_timeout(t, 90);
  for (int i = 0; i < 8; i++) {
    if ((i & 3) >= NPROTO)
      continue;
    tcase_add_loop_test(t, tls12_binds_tls_unique, i, i + 1);
    tcase_add_loop_test(t, tls13_retry_without_binding, i, i + 1);
    tcase_add_loop_test(t, tls13_downgrade_forbidden, i, i + 1);
    tcase_add_loop_test(t, tls12_wrong_password_costs_two_attempts, i, i + 1);
  }
  suite_add_tcase(s, t);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* POP3 session tests through transcripts (the files of this directory and
 * scripts built here): security modes and every STLS failure, each login
 * method, typed results, streamed bodies split at every byte, pipelined
 * batches, response codes, QUIT's commit report, leave-on-server,
 * argument checks, event-loop use, secrets and allocation failures. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/pop3.h>

#include "alloc.h"
#include "config.h"
#include "each_alloc.h"
#include "device_crypto.h"
#include "sasl_scenarios.h"
#include "transcript.h"

#ifndef POP3_TRANSCRIPT_DIR
#error "POP3_TRANSCRIPT_DIR must be defined"
#endif
#define TDIR POP3_TRANSCRIPT_DIR "/"

static mail_transcript *load(const char *name)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s%s", TDIR, name);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", name, err);
  return t;
}

static mail_transcript *script(const char *text)
{
  char err[256];
  mail_transcript *t = mail_transcript_from_string(text, err, sizeof err);
  ck_assert_msg(t != NULL, "%s", err);
  return t;
}

static mail_pop3 *session(mail_transcript *t, const mail_allocator *a)
{
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, a), MAIL_OK);
  ck_assert_int_eq(transcript_use_device_crypto(mail_pop3_sasl(p)), MAIL_OK);
  ck_assert_int_eq(mail_transcript_attach(t, mail_pop3_conn(p)), MAIL_OK);
  return p;
}

/* A logged-in session over implicit TLS with USER/PASS "alice"/"pw". */
static mail_pop3 *logged_in(mail_transcript *t)
{
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_TRANSACTION);
  return p;
}

/* A session over t driven event-loop style: non-blocking, every read and
 * write blocking once first; USER/PASS "alice"/"pw". */
static mail_pop3 *event_loop_session(mail_transcript *t)
{
  mail_transcript_set_auto_again(t, 1);
  mail_pop3 *p = session(t, NULL);
  mail_conn_set_nonblocking(mail_pop3_conn(p), 1);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
  return p;
}

typedef struct body {
  char data[65536];
  size_t len;
  int begins, ends, chunks;
  uint32_t msgs[16];
  size_t nmsgs;
  int stop; /* return non-zero at this DATA chunk (1-based) */
} body;

static int collect(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  body *b = user;
  if (event == MAIL_POP3_BODY_BEGIN) {
    ck_assert_ptr_null(d);
    b->begins++;
    if (b->nmsgs < 16)
      b->msgs[b->nmsgs++] = msg;
  } else if (event == MAIL_POP3_BODY_END) {
    b->ends++;
  } else {
    ck_assert_int_eq(event, MAIL_POP3_BODY_DATA);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_le(b->len + n, sizeof b->data);
    memcpy(b->data + b->len, d, n);
    b->len += n;
    if (++b->chunks == b->stop)
      return 1;
  }
  return 0;
}

static int body_sink_count(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  (void)msg;
  (void)d;
  if (event == MAIL_POP3_BODY_DATA)
    *(size_t *)user += n;
  return 0;
}

/* ------------------------------------------------------------ trace */

typedef struct trace {
  char text[16384];
  size_t len;
} trace;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  trace *tr = user;
  (void)dir;
  if (tr->len + len + 1 < sizeof tr->text) {
    memcpy(tr->text + tr->len, data, len);
    tr->len += len;
    tr->text[tr->len] = '\0';
  }
}

/* --------------------------------------------------- security modes */

/* SASL PLAIN with password refuses it with status expect before a byte of
 * AUTH is written. */
static void sasl_plain_refused(const char *password, int expect)
{
  mail_transcript *t = script("TLS\nS: +OK ready\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nSASL PLAIN\\r\\n.\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", password), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_SASL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), expect);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}

/* The password is bytes (pop3.h): a Latin-1 one goes out as is with
 * USER/PASS, and SASL PLAIN refuses it (SASLprep needs UTF-8) before a byte
 * of AUTH is written; a user name that is not UTF-8 is refused at once.
 * Bytes that are not UTF-8 are a charset error in every build, SASLprep or
 * not: no preparation could make them a SASL string. Only valid non-ASCII
 * UTF-8 needs libidn; without it that is "unsupported" (checked below). */
START_TEST(test_password_not_utf8)
{
  mail_transcript *t = script("TLS\nS: +OK ready\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nUSER\\r\\n.\\r\\n\n"
                              "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS p\\xe4ss\\r\\n\nS: +OK in\\r\\n\n"
                              "C: CAPA\\r\\n\nS: +OK\\r\\n.\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "al\xff", "pw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "p\xe4ss"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);

  sasl_plain_refused("p\xe4ss", MAIL_ERR_CHARSET);
#if !MAIL_WITH_SASLPREP
  /* without libidn a valid non-ASCII password cannot be prepared at all
   * (with it, sasl_scram_nonascii.txt prepares one) */
  sasl_plain_refused("p\xc3\xa4ss", MAIL_ERR_UNSUPPORTED);
#endif
}
END_TEST

START_TEST(test_stls_user)
{
  mail_transcript *t = load("stls_user.txt");
  mail_pop3 *p = session(t, NULL);
  trace tr = {{0}, 0};
  mail_conn_set_trace(mail_pop3_conn(p), on_trace, &tr);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "alice-pw-1"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://pop.test"), MAIL_OK);
  ck_assert_str_eq(mail_transcript_connect_host(t), "pop.test");
  ck_assert_uint_eq(mail_transcript_connect_port(t), 110);
  ck_assert(mail_transcript_tls_active(t));
  ck_assert_str_eq(mail_pop3_state_name(p), "AUTHORIZATION");
  /* The list read before TLS is gone; the one after TLS is in force. */
  ck_assert(mail_pop3_caps_known(p));
  ck_assert(!mail_pop3_has_capability(p, "STLS"));
  ck_assert(mail_pop3_has_capability(p, "pipelining"));
  ck_assert_str_eq(mail_pop3_greeting(p), "Dovecot ready.");
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  ck_assert_str_eq(mail_pop3_state_name(p), "TRANSACTION");
  ck_assert(!mail_pop3_has_capability(p, "SASL")); /* re-read after login */
  int committed = -1;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1); /* UPDATE state reached: nothing to remove */
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  ck_assert_ptr_null(strstr(tr.text, "alice-pw-1"));
  ck_assert_ptr_nonnull(strstr(tr.text, "PASS [redacted]"));
  ck_assert_ptr_nonnull(strstr(tr.text, "pop3: AUTHORIZATION -> AUTHENTICATING"));
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* Every way STLS can fail while required: the session ends, the client
 * wrote exactly what the transcript holds (no credential), and a login
 * attempt afterwards is refused without a byte. */
static const struct {
  const char *file;
  int rc;
} stls_failures[] = {
  {"stls_not_offered.txt", MAIL_ERR_STARTTLS},
  {"stls_refused.txt", MAIL_ERR_STARTTLS},
  {"stls_capa_hidden.txt", MAIL_ERR_STARTTLS},
  {"stls_injection.txt", MAIL_ERR_STARTTLS_INJECTION},
};

START_TEST(test_stls_failures)
{
  for (size_t i = 0; i < sizeof stls_failures / sizeof stls_failures[0]; i++) {
    for (int method = MAIL_POP3_AUTH_AUTO; method <= MAIL_POP3_AUTH_APOP; method++) {
      mail_transcript *t = load(stls_failures[i].file);
      mail_pop3 *p = session(t, NULL);
      ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "alice-pw-1"), MAIL_OK);
      ck_assert_int_eq(mail_pop3_set_auth_method(p, method), MAIL_OK);
      mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), 1);
      ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS),
                       stls_failures[i].rc);
      ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
      ck_assert(!mail_transcript_tls_active(t));
      ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_STATE);
      MAIL_TRANSCRIPT_ASSERT_DONE(t);
      ck_assert_uint_ge(mail_transcript_close_calls(t), 1);
      ck_assert_str_ne(mail_conn_last_error(mail_pop3_conn(p)), "");
      mail_pop3_free(p);
      mail_transcript_free(t);
    }
  }
}
END_TEST

/* The handshake itself fails (a certificate that does not verify): the
 * session ends after STLS and nothing more is written. */
static int failing_start_tls(void *user, const char *host, int timeout_ms)
{
  (void)user;
  (void)host;
  (void)timeout_ms;
  return MAIL_ERR_TLS_VERIFY;
}

START_TEST(test_stls_handshake_fails)
{
  mail_transcript *t = script("S: +OK ready\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nSTLS\\r\\nUSER\\r\\n.\\r\\n\n"
                              "C: STLS\\r\\n\nS: +OK go ahead\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  static mail_transport_ops ops;
  ops = *mail_transcript_ops();
  ops.start_tls = failing_start_tls;
  ck_assert_int_eq(mail_conn_set_transport(mail_pop3_conn(p), &ops, t), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "alice-pw-1"), MAIL_OK);
  int rc = mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS);
  ck_assert_int_eq(rc, MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_STATE);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_stls_refused_code)
{
  mail_transcript *t = load("stls_refused.txt");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS),
                   MAIL_ERR_STARTTLS);
  ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)),
                   MAIL_POP3_CODE_SYS_TEMP);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* The one error string: the command and the -ERR, word for word; never
 * a credential; cleared by an operation that succeeds. */
START_TEST(test_error_string)
{
  mail_transcript *t = script("TLS\n"
                              "S: +OK ready\\r\\n\n"
                              "C: CAPA\\r\\n\n"
                              "S: -ERR unknown command\\r\\n\n"
                              "C: USER alice\\r\\n\n"
                              "S: +OK\\r\\n\n"
                              "C: PASS wrong-pw-9\\r\\n\n"
                              "S: -ERR [AUTH] Authentication failed.\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "wrong-pw-9"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  /* CAPA's -ERR did not fail the connect: nothing is left */
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)), "");
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_AUTH);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "PASS: -ERR [AUTH] Authentication failed.");
  ck_assert_str_eq(mail_pop3_last_reply_command(p), "PASS");
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);

  t = load("retr_expunged.txt");
  p = logged_in(t);
  static const uint32_t m123[] = {1, 2, 3}, m23[] = {2, 3};
  ck_assert_int_eq(mail_pop3_retr_many(p, m123, 3, NULL, NULL), MAIL_ERR_PARTIAL);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)), "RETR 3: -ERR Message 3 expunged.");
  ck_assert_str_eq(mail_pop3_last_reply_command(p), "RETR 3");
  ck_assert_int_eq(mail_pop3_retr_many(p, m23, 2, NULL, NULL), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)), "");
  ck_assert_str_eq(mail_pop3_last_reply_command(p), "QUIT");
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  /* A local refusal says why. */
  ck_assert_int_eq(mail_pop3_stat(p, NULL, NULL), MAIL_ERR_STATE);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "the session is in state DISCONNECTED, not TRANSACTION");
  mail_pop3_free(p);
  mail_transcript_free(t);

  t = load("stls_refused.txt");
  p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS), MAIL_ERR_STARTTLS);
  const char *e = mail_conn_last_error(mail_pop3_conn(p));
  ck_assert_msg(!strncmp(e, "STLS: -ERR [SYS/TEMP] ", 22) && strstr(e, " (STLS is required)"), "%s", e);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* Where a greeting belongs: TLS record bytes (an implicit-TLS port), or
 * nothing before the deadline. */
START_TEST(test_no_greeting)
{
  mail_transcript *t = script("S: \\x16\\x03\\x03\\x00\\x7a\\x02\\x00\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_PROTOCOL);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "no greeting: the server sent TLS handshake bytes \xE2\x80\x94 is this an "
                   "implicit-TLS port? use pop3s://");
  mail_pop3_free(p);
  mail_transcript_free(t);
  t = script("TIMEOUT\n");
  p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_TIMEOUT);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "no greeting: timed out waiting for the server \xE2\x80\x94 if this is an "
                   "implicit-TLS port, use pop3s://");
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_stls_apop)
{
  mail_transcript *t = load("stls_apop.txt");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "mrose", "tanstaaf"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_APOP), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_STARTTLS), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_apop_without_stamp)
{
  mail_transcript *t = script("TLS\nS: +OK ready\\r\\n\nC: CAPA\\r\\n\nS: -ERR\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "mrose", "tanstaaf"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_APOP), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert(!mail_pop3_caps_known(p));
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_AUTHORIZATION);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_no_capa_plain)
{
  mail_transcript *t = load("no_capa.txt");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "secret"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert(!mail_pop3_caps_known(p));
  /* Cleartext USER/PASS needs the explicit opt-in... */
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_INSECURE);
  ck_assert_int_eq(mail_transcript_write_calls(t), 1);
  /* ...then goes through. */
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), 1);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  uint32_t n = 0;
  uint64_t size = 0;
  ck_assert_int_eq(mail_pop3_stat(p, &n, &size), MAIL_OK);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(size, 320);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_opportunistic_without_stls)
{
  mail_transcript *t = script("S: +OK ready\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nUSER\\r\\n.\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(
    mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE), MAIL_OK);
  ck_assert(!mail_transcript_tls_active(t));
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_AUTHORIZATION);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_greeting_err)
{
  mail_transcript *t = script("S: -ERR [SYS/PERM] go away\\r\\n\n");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
  ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)),
                   MAIL_POP3_CODE_SYS_PERM);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);

  t = script("S: * OK this is IMAP\\r\\n\n");
  p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 110, MAIL_SECURITY_STARTTLS),
                   MAIL_ERR_PROTOCOL);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* ----------------------------------------------------------- logins */

START_TEST(test_sasl_cram)
{
  mail_transcript *t = load("sasl_cram.txt");
  mail_pop3 *p = session(t, NULL);
  trace tr = {{0}, 0};
  mail_conn_set_trace(mail_pop3_conn(p), on_trace, &tr);
  ck_assert_int_eq(mail_pop3_set_auth(p, "tim", "tanstaaftanstaaf"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3s://pop.test"), MAIL_OK);
  ck_assert_uint_eq(mail_transcript_connect_port(t), 995);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  ck_assert_ptr_null(strstr(tr.text, "dGltIGI5MTNhNjAy"));
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_sasl_plain_ir)
{
  mail_transcript *t = load("sasl_plain_ir.txt");
  mail_pop3 *p = session(t, NULL);
  trace tr = {{0}, 0};
  mail_conn_set_trace(mail_pop3_conn(p), on_trace, &tr);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3s://alice:alice-pw-1@pop.test:1995"), MAIL_OK);
  ck_assert_uint_eq(mail_transcript_connect_port(t), 1995);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  ck_assert_ptr_null(strstr(tr.text, "AGFsaWNl"));
  /* Only the credentials are redacted: the mechanism stays visible. */
  ck_assert_ptr_nonnull(strstr(tr.text, "AUTH PLAIN [redacted]"));
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* -ERR to PASS with each response code: [AUTH] and no code are the
 * credentials; the others are another reason, kept as data. */
static const struct {
  const char *line;
  int rc;
  int code;
} pass_errors[] = {
  {"-ERR [AUTH] Authentication failed.", MAIL_ERR_AUTH, MAIL_POP3_CODE_AUTH},
  {"-ERR Authentication failed.", MAIL_ERR_AUTH, MAIL_POP3_CODE_NONE},
  {"-ERR [IN-USE] Mailbox locked", MAIL_ERR_SERVER, MAIL_POP3_CODE_IN_USE},
  {"-ERR [LOGIN-DELAY] Wait 15 minutes", MAIL_ERR_SERVER, MAIL_POP3_CODE_LOGIN_DELAY},
  {"-ERR [SYS/TEMP] Try later", MAIL_ERR_SERVER, MAIL_POP3_CODE_SYS_TEMP},
  {"-ERR [SYS/PERM] Account disabled", MAIL_ERR_SERVER, MAIL_POP3_CODE_SYS_PERM},
  {"-ERR [SYS/TEMP/DISK] Disk full", MAIL_ERR_SERVER, MAIL_POP3_CODE_SYS_TEMP},
  {"-ERR [X-VENDOR] odd", MAIL_ERR_SERVER, MAIL_POP3_CODE_OTHER},
};

START_TEST(test_login_resp_codes)
{
  for (size_t i = 0; i < sizeof pass_errors / sizeof pass_errors[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text,
             "TLS\nS: +OK ready\\r\\n\nC: CAPA\\r\\n\n"
             "S: +OK\\r\\nUSER\\r\\nRESP-CODES\\r\\nAUTH-RESP-CODE\\r\\n.\\r\\n\n"
             "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\nS: %s\\r\\n\n"
             "C: USER alice\\r\\n\nS: -ERR [AUTH] no\\r\\n\n",
             pass_errors[i].line);
    mail_transcript *t = script(text);
    mail_pop3 *p = session(t, NULL);
    ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
    ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
    ck_assert_int_eq(mail_pop3_auth(p), pass_errors[i].rc);
    ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)), pass_errors[i].code);
    ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_AUTHORIZATION);
    /* The session stays usable: another attempt goes out. */
    ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_AUTH);
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    mail_pop3_free(p);
    mail_transcript_free(t);
  }
}
END_TEST

START_TEST(test_capa_extensions)
{
  mail_transcript *t = load("capa_extensions.txt");
  mail_pop3 *p = session(t, NULL);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  uint32_t v = 0;
  int never = -1, per_user = -1;
  ck_assert_int_eq(mail_pop3_login_delay(p, &v), MAIL_OK);
  ck_assert_uint_eq(v, 900);
  ck_assert_int_eq(mail_pop3_expire(p, &v, &never, &per_user), MAIL_OK);
  ck_assert_uint_eq(v, 31);
  ck_assert_int_eq(never, 0);
  ck_assert_int_eq(per_user, 1);
  ck_assert_str_eq(mail_pop3_implementation(p), "Shlemazle-Plotz v302");
  const mail_pop3_caps *c = mail_pop3_capabilities(p);
  ck_assert_uint_eq(mail_pop3_caps_count(c), 5);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  ck_assert_int_eq(mail_pop3_login_delay(p, &v), MAIL_OK);
  ck_assert_uint_eq(v, 3600);
  ck_assert_int_eq(mail_pop3_expire(p, &v, &never, &per_user), MAIL_OK);
  ck_assert_int_eq(never, 1);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(per_user, 0);
  ck_assert_ptr_null(mail_pop3_implementation(p));
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* ------------------------------------------------------ transaction */

START_TEST(test_transaction)
{
  mail_transcript *t = load("transaction.txt");
  mail_pop3 *p = logged_in(t);
  uint32_t n = 0, msg = 0;
  uint64_t size = 0;
  ck_assert_int_eq(mail_pop3_stat(p, &n, &size), MAIL_OK);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(size, 320);
  ck_assert_int_eq(mail_pop3_list(p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_list_count(p), 2);
  ck_assert_int_eq(mail_pop3_list_at(p, 1, &msg, &size), MAIL_OK);
  ck_assert_uint_eq(msg, 2);
  ck_assert_uint_eq(size, 200);
  ck_assert_int_eq(mail_pop3_list_at(p, 2, &msg, &size), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_pop3_list_one(p, 2, &size), MAIL_OK);
  ck_assert_uint_eq(size, 200);
  ck_assert_int_eq(mail_pop3_list_one(p, 9, &size), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_uidl(p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_uidl_count(p), 2);
  const char *uid = NULL;
  ck_assert_int_eq(mail_pop3_uidl_at(p, 0, &msg, &uid), MAIL_OK);
  ck_assert_uint_eq(msg, 1);
  ck_assert_str_eq(uid, "whqtswO00WBw418f9t5JxYwZ");
  char buf[71];
  ck_assert_int_eq(mail_pop3_uidl_one(p, 2, buf, sizeof buf), MAIL_OK);
  ck_assert_str_eq(buf, "QhdPYR:00WBw1Ph7x7");
  body b;
  memset(&b, 0, sizeof b);
  ck_assert_int_eq(mail_pop3_top(p, 1, 0, collect, &b), MAIL_OK);
  ck_assert_str_eq(b.data, "Subject: hi\r\n\r\n");
  ck_assert_int_eq(mail_pop3_noop(p), MAIL_OK);
  ck_assert_int_eq(mail_pop3_dele(p, 1), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_deleted_count(p), 1);
  ck_assert_int_eq(mail_pop3_rset(p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_deleted_count(p), 0);
  ck_assert_int_eq(mail_pop3_dele(p, 2), MAIL_OK);
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1);
  ck_assert_int_eq(mail_pop3_stat(p, &n, &size), MAIL_ERR_STATE);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_quit_not_committed)
{
  mail_transcript *t = load("quit_not_committed.txt");
  mail_pop3 *p = logged_in(t);
  ck_assert_int_eq(mail_pop3_dele(p, 1), MAIL_OK);
  int committed = -1;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_ERR_SERVER);
  ck_assert_int_eq(committed, 0);
  ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)),
                   MAIL_POP3_CODE_SYS_TEMP);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);

  /* The server drops the line instead of answering QUIT: unknown. */
  t = script("TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: -ERR\\r\\n\nC: USER alice\\r\\n\n"
             "S: +OK\\r\\n\nC: PASS pw\\r\\n\nS: +OK\\r\\n\nC: QUIT\\r\\n\nCLOSE\n");
  p = logged_in(t);
  committed = -1;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_ERR_CLOSED);
  ck_assert_int_eq(committed, 0);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* RETR of a body holding ".", "..", "..foo", "text." lines, with the
 * server's response split into two reads at every byte, then delivered
 * one byte per read: the unstuffed body is the same every time. */
static const char retr_wire[] =
  "+OK 60 octets\r\n"
  "Subject: dots\r\n"
  "\r\n"
  "..\r\n"
  "...\r\n"
  "..foo\r\n"
  "text.\r\n"
  ".\r\n"
  "+OK\r\n";
static const char retr_body[] =
  "Subject: dots\r\n"
  "\r\n"
  ".\r\n"
  "..\r\n"
  ".foo\r\n"
  "text.\r\n";

static void escape_into(char *out, size_t cap, const char *s, size_t n)
{
  mail_transcript_escape(s, n, out, cap);
}

static void run_split(const size_t *cuts, size_t ncuts)
{
  static char text[65536];
  char esc[4096];
  size_t o = (size_t)snprintf(text, sizeof text,
                              "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: -ERR\\r\\n\n"
                              "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\n"
                              "S: +OK\\r\\n\nC: RETR 1\\r\\n\n");
  size_t len = strlen(retr_wire) - strlen("+OK\r\n"), prev = 0;
  for (size_t i = 0; i <= ncuts; i++) {
    size_t end = i < ncuts ? cuts[i] : len;
    if (end <= prev)
      continue;
    escape_into(esc, sizeof esc, retr_wire + prev, end - prev);
    o += (size_t)snprintf(text + o, sizeof text - o, "S: %s\n", esc);
    prev = end;
  }
  o += (size_t)snprintf(text + o, sizeof text - o, "C: NOOP\\r\\n\nS: +OK\\r\\n\n");
  mail_transcript *t = script(text);
  mail_pop3 *p = logged_in(t);
  body b;
  memset(&b, 0, sizeof b);
  ck_assert_int_eq(mail_pop3_retr(p, 1, collect, &b), MAIL_OK);
  ck_assert_int_eq(b.begins, 1);
  ck_assert_int_eq(b.ends, 1);
  ck_assert_uint_eq(b.len, strlen(retr_body));
  ck_assert(memcmp(b.data, retr_body, b.len) == 0);
  ck_assert_int_eq(mail_pop3_noop(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}

START_TEST(test_retr_every_split)
{
  size_t len = strlen(retr_wire) - strlen("+OK\r\n");
  for (size_t k = 1; k < len; k++)
    run_split(&k, 1);
  size_t *cuts = malloc(len * sizeof *cuts);
  ck_assert_ptr_nonnull(cuts);
  for (size_t k = 0; k < len; k++)
    cuts[k] = k + 1;
  run_split(cuts, len - 1);
  free(cuts);
}
END_TEST

/* A whole session whose every server response (greeting, CAPA, LIST,
 * UIDL and TOP bodies, with "." and ".." lines) is cut at byte k of each
 * response, for every k, and then delivered one byte per read. */
static const char *const split_exchange[][2] = {
  {NULL, "+OK ready <1.2@x>\r\n"},
  {"CAPA\r\n", "+OK\r\nUSER\r\nUIDL\r\nTOP\r\nIMPLEMENTATION dots .. and more\r\n.\r\n"},
  {"USER alice\r\n", "+OK\r\n"},
  {"PASS pw\r\n", "+OK\r\n"},
  {"CAPA\r\n", "+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n"},
  {"LIST\r\n", "+OK 2 messages\r\n1 120\r\n2 18446744073709551615\r\n.\r\n"},
  {"UIDL\r\n", "+OK\r\n1 .dot\r\n2 ..x\r\n.\r\n"},
  {"TOP 2 2\r\n", "+OK\r\nA: b\r\n\r\n..\r\n...\r\n.\r\n"},
};

static void run_session_split(size_t k, int bytewise)
{
  static char text[65536];
  char esc[1024];
  size_t o = (size_t)snprintf(text, sizeof text, "TLS\n");
  for (size_t i = 0; i < sizeof split_exchange / sizeof split_exchange[0]; i++) {
    if (split_exchange[i][0]) {
      escape_into(esc, sizeof esc, split_exchange[i][0], strlen(split_exchange[i][0]));
      o += (size_t)snprintf(text + o, sizeof text - o, "C: %s\n", esc);
    }
    const char *srv = split_exchange[i][1];
    size_t len = strlen(srv);
    for (size_t at = 0; at < len;) {
      size_t n = bytewise ? 1 : (at == 0 && k < len ? k : len - at);
      escape_into(esc, sizeof esc, srv + at, n);
      o += (size_t)snprintf(text + o, sizeof text - o, "S: %s\n", esc);
      at += n;
    }
  }
  mail_transcript *t = script(text);
  mail_pop3 *p = logged_in(t);
  ck_assert_int_eq(mail_pop3_list(p), MAIL_OK);
  uint32_t msg;
  uint64_t size;
  ck_assert_int_eq(mail_pop3_list_at(p, 1, &msg, &size), MAIL_OK);
  ck_assert_uint_eq(size, UINT64_MAX);
  ck_assert_int_eq(mail_pop3_uidl(p), MAIL_OK);
  const char *uid;
  ck_assert_int_eq(mail_pop3_uidl_at(p, 0, &msg, &uid), MAIL_OK);
  ck_assert_str_eq(uid, ".dot"); /* stuffing is only at a line's start */
  ck_assert_int_eq(mail_pop3_uidl_at(p, 1, &msg, &uid), MAIL_OK);
  ck_assert_str_eq(uid, "..x");
  body b;
  memset(&b, 0, sizeof b);
  ck_assert_int_eq(mail_pop3_top(p, 2, 2, collect, &b), MAIL_OK);
  ck_assert_str_eq(b.data, "A: b\r\n\r\n.\r\n..\r\n");
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}

START_TEST(test_session_every_split)
{
  for (size_t k = 1; k < 80; k++)
    run_session_split(k, 0);
  run_session_split(0, 1);
}
END_TEST

START_TEST(test_pipelined)
{
  mail_transcript *t = load("pipelined.txt");
  mail_pop3 *p = logged_in(t);
  body b;
  memset(&b, 0, sizeof b);
  uint32_t msgs[] = {1, 2, 3};
  ck_assert_int_eq(mail_pop3_retr_many(p, msgs, 3, collect, &b), MAIL_ERR_PARTIAL);
  ck_assert_int_eq(mail_pop3_batch_status(p, 0), MAIL_OK);
  ck_assert_int_eq(mail_pop3_batch_status(p, 1), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_batch_status(p, 2), MAIL_OK);
  ck_assert_int_eq(mail_pop3_batch_status(p, 3), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(b.begins, 2);
  ck_assert_int_eq(b.ends, 2);
  ck_assert_uint_eq(b.msgs[0], 1);
  ck_assert_uint_eq(b.msgs[1], 3);
  ck_assert_uint_eq(b.len, 11);
  ck_assert(memcmp(b.data, "abc\r\n.dot\r\n", 11) == 0);
  uint32_t del[] = {1, 3};
  ck_assert_int_eq(mail_pop3_dele_many(p, del, 2), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_deleted_count(p), 2);
  ck_assert_int_eq(mail_pop3_uidl_many(p, del, 2), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_uidl_count(p), 2);
  const char *uid;
  uint32_t msg;
  ck_assert_int_eq(mail_pop3_uidl_at(p, 1, &msg, &uid), MAIL_OK);
  ck_assert_uint_eq(msg, 3);
  ck_assert_str_eq(uid, "QhdPYR:00WBw1Ph7x7");
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* Messages expunged by another session between LIST and RETR, in an
 * event loop: each is refused in its place in the pipeline (per message
 * MAIL_ERR_SERVER), the rest arrive, MAIL_ERR_PARTIAL; when every message
 * asked for is gone the batch is MAIL_ERR_SERVER, as documented, and the
 * session goes on. */
#define EVENT_LOOP(rc, call)                                                   \
  do {                                                                         \
    int rounds_ = 0;                                                           \
    while (((rc) = (call)) == MAIL_ERR_AGAIN)                                  \
      ck_assert_int_lt(++rounds_, 1000);                                       \
  } while (0)

START_TEST(test_retr_expunged_event_loop)
{
  mail_transcript *t = load("retr_expunged.txt");
  mail_pop3 *p = event_loop_session(t);
  int rc;
  EVENT_LOOP(rc, mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  ck_assert_int_eq(rc, MAIL_OK);
  EVENT_LOOP(rc, mail_pop3_auth(p));
  ck_assert_int_eq(rc, MAIL_OK);
  body b;
  memset(&b, 0, sizeof b);
  uint32_t msgs[] = {1, 2, 3};
  EVENT_LOOP(rc, mail_pop3_retr_many(p, msgs, 3, collect, &b));
  ck_assert_int_eq(rc, MAIL_ERR_PARTIAL);
  ck_assert_int_eq(mail_pop3_batch_status(p, 0), MAIL_OK);
  ck_assert_int_eq(mail_pop3_batch_status(p, 1), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_batch_status(p, 2), MAIL_ERR_SERVER);
  ck_assert_int_eq(b.begins, 1);
  ck_assert_int_eq(b.ends, 1);
  ck_assert_uint_eq(b.len, 5);
  ck_assert(memcmp(b.data, "abc\r\n", 5) == 0);
  memset(&b, 0, sizeof b);
  EVENT_LOOP(rc, mail_pop3_retr_many(p, msgs + 1, 2, collect, &b));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_batch_status(p, 0), MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_pop3_batch_status(p, 1), MAIL_ERR_SERVER);
  ck_assert_int_eq(b.begins, 0);
  size_t tlen;
  const char *text = mail_pop3_reply_text(mail_pop3_last_reply(p), &tlen);
  ck_assert_int_eq((int)tlen, (int)strlen("Message 3 expunged."));
  ck_assert(memcmp(text, "Message 3 expunged.", tlen) == 0);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_TRANSACTION);
  int committed = 0;
  EVENT_LOOP(rc, mail_pop3_quit(p, &committed));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(committed, 1);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_not_pipelined)
{
  mail_transcript *t = load("not_pipelined.txt");
  mail_pop3 *p = logged_in(t);
  body b;
  memset(&b, 0, sizeof b);
  uint32_t msgs[] = {1, 2};
  ck_assert_int_eq(mail_pop3_retr_many(p, msgs, 2, collect, &b), MAIL_OK);
  ck_assert_uint_eq(b.len, 10);
  ck_assert(memcmp(b.data, "abc\r\ndef\r\n", 10) == 0);
  ck_assert_int_eq(mail_pop3_dele_many(p, msgs, 2), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* A window of 2 over 5 messages: 2 go out at once, then the pipeline is
 * topped up as replies arrive. */
START_TEST(test_pipeline_window)
{
  mail_transcript *t = script(
    "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\nS: +OK\\r\\n\n"
    "C: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: DELE 1\\r\\nDELE 2\\r\\n\nS: +OK\\r\\n\nC: DELE 3\\r\\n\n"
    "S: +OK\\r\\n+OK\\r\\n\nC: DELE 4\\r\\nDELE 5\\r\\n\nS: +OK\\r\\n+OK\\r\\n\n");
  mail_pop3 *p = logged_in(t);
  ck_assert_int_eq(mail_pop3_set_pipeline_window(p, 2), MAIL_OK);
  uint32_t msgs[] = {1, 2, 3, 4, 5};
  ck_assert_int_eq(mail_pop3_dele_many(p, msgs, 5), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_deleted_count(p), 5);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_callback_stop)
{
  mail_transcript *t = script(
    "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\nS: +OK\\r\\n\n"
    "C: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: RETR 1\\r\\nRETR 2\\r\\nRETR 3\\r\\n\nS: +OK\\r\\none\\r\\n\n"
    "S: two\\r\\n.\\r\\n+OK\\r\\nx\\r\\n.\\r\\n-ERR no\\r\\n\n"
    "C: NOOP\\r\\n\nS: +OK\\r\\n\n");
  mail_pop3 *p = logged_in(t);
  body b;
  memset(&b, 0, sizeof b);
  b.stop = 1;
  uint32_t msgs[] = {1, 2, 3};
  ck_assert_int_eq(mail_pop3_retr_many(p, msgs, 3, collect, &b), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(b.begins, 1);
  ck_assert_int_eq(b.ends, 0);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_TRANSACTION);
  ck_assert_int_eq(mail_pop3_noop(p), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

START_TEST(test_leave_on_server)
{
  mail_transcript *t = load("leave_on_server.txt");
  mail_pop3 *p = logged_in(t);
  mail_pop3_uidset *known, *seen;
  ck_assert_int_eq(mail_pop3_uidset_new(&known, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_new(&seen, NULL), MAIL_OK);
  int64_t now = MAIL_TEST_CLOCK_REALTIME_MS / 1000;
  ck_assert_int_eq(mail_pop3_uidset_add(known, "old-1", now - 40 * 86400), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_add(known, "old-2", now - 86400), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_add(known, "gone-9", now - 86400), MAIL_OK);
  body b;
  memset(&b, 0, sizeof b);
  size_t nnew = 0;
  ck_assert_int_eq(mail_pop3_leave_on_server(p, known, 30, collect, &b, seen, &nnew), MAIL_OK);
  ck_assert_uint_eq(nnew, 2);
  ck_assert_str_eq(b.data, "three\r\nfour\r\n");
  ck_assert_uint_eq(mail_pop3_uidset_count(seen), 3);
  int64_t when = 0;
  ck_assert_str_eq(mail_pop3_uidset_at(seen, 0, &when), "new-3");
  ck_assert_int_eq(when, now);
  ck_assert_str_eq(mail_pop3_uidset_at(seen, 2, &when), "old-2");
  ck_assert_int_eq(when, now - 86400);
  ck_assert(!mail_pop3_uidset_contains(seen, "old-1"));
  ck_assert(!mail_pop3_uidset_contains(seen, "gone-9"));
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* A server listing UIDL out of order, and a RETR refused: the refused
 * message stays out of the seen set (fetched again next time). */
START_TEST(test_leave_out_of_order)
{
  mail_transcript *t = script(
    "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\nS: +OK\\r\\n\n"
    "C: CAPA\\r\\n\nS: +OK\\r\\nPIPELINING\\r\\nUSER\\r\\n.\\r\\n\n"
    "C: UIDL\\r\\n\nS: +OK\\r\\n1 old-1\\r\\n5 new-5\\r\\n3 new-3\\r\\n4 new-4\\r\\n.\\r\\n\n"
    "C: RETR 5\\r\\nRETR 3\\r\\nRETR 4\\r\\n\n"
    "S: +OK\\r\\nfive\\r\\n.\\r\\n-ERR [SYS/TEMP] later\\r\\n+OK\\r\\nfour\\r\\n.\\r\\n\n");
  mail_pop3 *p = logged_in(t);
  mail_pop3_uidset *known, *seen;
  ck_assert_int_eq(mail_pop3_uidset_new(&known, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_new(&seen, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_add(known, "old-1", 7), MAIL_OK);
  body b;
  memset(&b, 0, sizeof b);
  size_t nnew = 0;
  ck_assert_int_eq(mail_pop3_leave_on_server(p, known, 0, collect, &b, seen, &nnew),
                   MAIL_ERR_PARTIAL);
  ck_assert_uint_eq(nnew, 2);
  ck_assert_str_eq(b.data, "five\r\nfour\r\n");
  ck_assert_uint_eq(mail_pop3_uidset_count(seen), 3);
  ck_assert(mail_pop3_uidset_contains(seen, "new-5"));
  ck_assert(mail_pop3_uidset_contains(seen, "new-4"));
  ck_assert(!mail_pop3_uidset_contains(seen, "new-3"));
  int64_t when = 0;
  ck_assert_str_eq(mail_pop3_uidset_at(seen, 2, &when), "old-1");
  ck_assert_int_eq(when, 7);
  ck_assert_int_eq(mail_pop3_leave_on_server(p, known, 0, NULL, NULL, (mail_pop3_uidset *)known,
                                             NULL),
                   MAIL_ERR_INVALID);
  /* a local refusal says what was wrong too (the one error string) */
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "leave on server: the known and seen UID sets must be two different sets");
  const uint32_t zero[] = {2, 0};
  ck_assert_int_eq(mail_pop3_retr_many(p, zero, 2, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_str_eq(mail_conn_last_error(mail_pop3_conn(p)),
                   "batch: message number 0 at position 1 (numbers start at 1)");
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* ------------------------------------------------------ arguments */

START_TEST(test_invalid_arguments)
{
  mail_pop3 *p;
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth(p, "al\r\nice", "pw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "p\nw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "p\rw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_set_auth(p, NULL, "pw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_connect(p, "host\r\nUSER x", 110, MAIL_SECURITY_STARTTLS),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_connect(p, "host", 110, 9), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://a%0d%0aUSER:x@host"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://a%00b@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_pop3_connect_url(p, "imap://host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://host:0"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://host:99999"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_pop3_connect_url(p, "pop3://[::1"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_pop3_set_pipeline_window(p, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, 7), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_stat(p, NULL, NULL), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_pop3_stat(NULL, NULL, NULL), MAIL_ERR_INVALID);
  mail_pop3_free(p);
  mail_pop3_free(NULL);

  mail_pop3_uidset *s;
  ck_assert_int_eq(mail_pop3_uidset_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_add(s, "a b", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_uidset_add(s, "a\r\n", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_uidset_add(s, "", 0), MAIL_ERR_INVALID);
  char longid[80];
  memset(longid, 'x', 71);
  longid[71] = '\0';
  ck_assert_int_eq(mail_pop3_uidset_add(s, longid, 0), MAIL_ERR_INVALID);
  longid[70] = '\0';
  ck_assert_int_eq(mail_pop3_uidset_add(s, longid, 5), MAIL_OK);
  ck_assert_int_eq(mail_pop3_uidset_add(s, longid, 6), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_uidset_count(s), 1);
  mail_pop3_uidset_free(s);
  mail_pop3_uidset_free(NULL);
}
END_TEST

/* Message number 0 never reaches the wire; a malformed LIST body line is
 * a protocol error that ends the session. */
START_TEST(test_bad_numbers)
{
  mail_transcript *t = script(
    "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: -ERR\\r\\n\nC: USER alice\\r\\n\nS: +OK\\r\\n\n"
    "C: PASS pw\\r\\n\nS: +OK\\r\\n\nC: LIST\\r\\n\nS: +OK\\r\\n1 12\\r\\n2 -5\\r\\n.\\r\\n\n");
  mail_pop3 *p = logged_in(t);
  ck_assert_int_eq(mail_pop3_retr(p, 0, collect, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_dele_many(p, NULL, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_list(p), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_DISCONNECTED);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST


/* ------------------------------------------------- every transcript */
/* Every transcript of this directory as a scenario: the calls it runs and
 * the status it ends with (its header says both). Each runs blocking, in
 * event-loop mode (every read and write blocks once) and failing each
 * allocation in turn. The SASL ones come from the table shared with SMTP
 * (../sasl_scenarios.c): all but the cleartext one run over implicit TLS,
 * where the runner offers fixed channel-binding data. */

typedef struct srun {
  mail_pop3 *p;
  mail_transcript *t;
  const char *file;
  const mail_allocator *alloc;
  int nonblocking;
  size_t agains;
  int rc_first;
  sasl_observed obs;
  trace tr;
  body b;
} srun;

/* Call an operation, resuming it while it says MAIL_ERR_AGAIN. */
#define PDO(r, expr)                                               \
  ({                                                               \
    int rc_;                                                       \
    size_t guard_ = 0;                                             \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) { \
      (r)->agains++;                                               \
      mail_transcript_pump((r)->t);                                \
    }                                                              \
    mail_transcript_pump_flush((r)->t);                            \
    rc_;                                                           \
  })

static int d_set_auth(void *u, const char *user, const char *password)
{
  return mail_pop3_set_auth(((srun *)u)->p, user, password);
}

static mail_sasl *d_sasl(void *u)
{
  return mail_pop3_sasl(((srun *)u)->p);
}

static int d_connect(void *u, int tls)
{
  srun *r = u;
  if (tls)
    return PDO(r, mail_pop3_connect(r->p, "pop.test", 995, MAIL_SECURITY_IMPLICIT_TLS));
  return PDO(r, mail_pop3_connect(r->p, "pop.test", 110, MAIL_SECURITY_NONE_INSECURE));
}

static int d_auth(void *u)
{
  srun *r = u;
  return PDO(r, mail_pop3_auth(r->p));
}

/* A final failure: the session stays in AUTHORIZATION, usable. */
static int d_after_refusal(void *u)
{
  srun *r = u;
  return mail_pop3_get_state(r->p) == MAIL_POP3_STATE_AUTHORIZATION ? MAIL_OK : MAIL_ERR_STATE;
}

static const sasl_driver pop3_sasl_driver = {
  d_set_auth, d_sasl, d_connect, d_auth, d_after_refusal, 23, 995, "mx.test",
};

static int p_sasl(srun *r)
{
  int rc = sasl_scenario_run(sasl_scenario_find(r->file), &pop3_sasl_driver, r, &r->obs);
  r->rc_first = r->obs.rc_first;
  return rc;
}

/* USER/PASS alice / pw over implicit TLS. */
static int p_login(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "alice", "pw"));
  SCN_TRY(PDO(r, mail_pop3_connect(r->p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS)));
  return PDO(r, mail_pop3_auth(r->p));
}

static int p_stls_user(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "alice", "alice-pw-1"));
  SCN_TRY(mail_pop3_set_auth_method(r->p, MAIL_POP3_AUTH_USER));
  SCN_TRY(PDO(r, mail_pop3_connect_url(r->p, "pop3://pop.test")));
  SCN_TRY(PDO(r, mail_pop3_auth(r->p)));
  return PDO(r, mail_pop3_quit(r->p, NULL));
}

static int p_stls_required(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "alice", "alice-pw-1"));
  return PDO(r, mail_pop3_connect(r->p, "pop.test", 110, MAIL_SECURITY_STARTTLS));
}

static int p_stls_apop(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "mrose", "tanstaaf"));
  SCN_TRY(mail_pop3_set_auth_method(r->p, MAIL_POP3_AUTH_APOP));
  SCN_TRY(PDO(r, mail_pop3_connect(r->p, "pop.test", 0, MAIL_SECURITY_STARTTLS)));
  return PDO(r, mail_pop3_auth(r->p));
}

static int p_no_capa(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "alice", "secret"));
  SCN_TRY(PDO(r, mail_pop3_connect(r->p, "pop.test", 110, MAIL_SECURITY_NONE_INSECURE)));
  r->rc_first = PDO(r, mail_pop3_auth(r->p));
  if (r->rc_first != MAIL_ERR_INSECURE)
    return r->rc_first == MAIL_OK ? MAIL_ERR_INTERNAL : r->rc_first;
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(r->p), 1);
  SCN_TRY(PDO(r, mail_pop3_auth(r->p)));
  uint32_t n;
  uint64_t size;
  return PDO(r, mail_pop3_stat(r->p, &n, &size));
}

static int p_sasl_cram(srun *r)
{
  SCN_TRY(mail_pop3_set_auth(r->p, "tim", "tanstaaftanstaaf"));
  SCN_TRY(PDO(r, mail_pop3_connect_url(r->p, "pop3s://pop.test")));
  return PDO(r, mail_pop3_auth(r->p));
}

static int p_sasl_plain_ir(srun *r)
{
  SCN_TRY(PDO(r, mail_pop3_connect_url(r->p, "pop3s://alice:alice-pw-1@pop.test:1995")));
  return PDO(r, mail_pop3_auth(r->p));
}

static int p_capa_extensions(srun *r)
{
  return p_login(r);
}

static int p_transaction(srun *r)
{
  uint32_t n;
  uint64_t size;
  char uid[71];
  SCN_TRY(p_login(r));
  SCN_TRY(PDO(r, mail_pop3_stat(r->p, &n, &size)));
  SCN_TRY(PDO(r, mail_pop3_list(r->p)));
  SCN_TRY(PDO(r, mail_pop3_list_one(r->p, 2, &size)));
  r->rc_first = PDO(r, mail_pop3_list_one(r->p, 9, &size));
  if (r->rc_first != MAIL_ERR_SERVER)
    return r->rc_first == MAIL_OK ? MAIL_ERR_INTERNAL : r->rc_first;
  SCN_TRY(PDO(r, mail_pop3_uidl(r->p)));
  SCN_TRY(PDO(r, mail_pop3_uidl_one(r->p, 2, uid, sizeof uid)));
  SCN_TRY(PDO(r, mail_pop3_top(r->p, 1, 0, collect, &r->b)));
  SCN_TRY(PDO(r, mail_pop3_noop(r->p)));
  SCN_TRY(PDO(r, mail_pop3_dele(r->p, 1)));
  SCN_TRY(PDO(r, mail_pop3_rset(r->p)));
  SCN_TRY(PDO(r, mail_pop3_dele(r->p, 2)));
  return PDO(r, mail_pop3_quit(r->p, NULL));
}

static int p_quit_not_committed(srun *r)
{
  SCN_TRY(p_login(r));
  SCN_TRY(PDO(r, mail_pop3_dele(r->p, 1)));
  int committed;
  return PDO(r, mail_pop3_quit(r->p, &committed));
}

/* The batch, body and list paths: RETR of three (one refused), DELE and
 * UIDL of two, QUIT. */
static int p_pipelined(srun *r)
{
  uint32_t msgs[] = {1, 2, 3}, del[] = {1, 3};
  SCN_TRY(p_login(r));
  int rc = PDO(r, mail_pop3_retr_many(r->p, msgs, 3, collect, &r->b));
  if (rc != MAIL_ERR_PARTIAL)
    return rc == MAIL_OK ? MAIL_ERR_INTERNAL : rc;
  SCN_TRY(PDO(r, mail_pop3_dele_many(r->p, del, 2)));
  SCN_TRY(PDO(r, mail_pop3_uidl_many(r->p, del, 2)));
  return PDO(r, mail_pop3_quit(r->p, NULL));
}

/* Messages expunged by someone else before RETR: refused in their
 * places (MAIL_ERR_PARTIAL), then a batch of gone ones only
 * (MAIL_ERR_SERVER); the session goes on to QUIT. */
static int p_retr_expunged(srun *r)
{
  uint32_t msgs[] = {1, 2, 3};
  SCN_TRY(p_login(r));
  int rc = PDO(r, mail_pop3_retr_many(r->p, msgs, 3, collect, &r->b));
  if (rc != MAIL_ERR_PARTIAL)
    return rc == MAIL_OK ? MAIL_ERR_INTERNAL : rc;
  r->rc_first = PDO(r, mail_pop3_retr_many(r->p, msgs + 1, 2, collect, &r->b));
  if (r->rc_first != MAIL_ERR_SERVER)
    return r->rc_first == MAIL_OK ? MAIL_ERR_INTERNAL : r->rc_first;
  return PDO(r, mail_pop3_quit(r->p, NULL));
}

static int p_not_pipelined(srun *r)
{
  uint32_t msgs[] = {1, 2};
  SCN_TRY(p_login(r));
  SCN_TRY(PDO(r, mail_pop3_retr_many(r->p, msgs, 2, collect, &r->b)));
  return PDO(r, mail_pop3_dele_many(r->p, msgs, 2));
}

static int p_leave_on_server(srun *r)
{
  mail_pop3_uidset *known = NULL, *seen = NULL;
  int64_t now = MAIL_TEST_CLOCK_REALTIME_MS / 1000;
  size_t nnew = 0;
  int rc = p_login(r);
  if (!rc)
    rc = mail_pop3_uidset_new(&known, r->alloc);
  if (!rc)
    rc = mail_pop3_uidset_new(&seen, r->alloc);
  if (!rc)
    rc = mail_pop3_uidset_add(known, "old-1", now - 40 * 86400);
  if (!rc)
    rc = mail_pop3_uidset_add(known, "old-2", now - 86400);
  if (!rc)
    rc = mail_pop3_uidset_add(known, "gone-9", now - 86400);
  if (!rc)
    rc = PDO(r, mail_pop3_leave_on_server(r->p, known, 30, collect, &r->b, seen, &nnew));
  if (!rc)
    rc = PDO(r, mail_pop3_quit(r->p, NULL));
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  return rc;
}

typedef struct scenario {
  const char *file;
  int (*fn)(srun *r);
  int expect;
} scenario;

static const scenario scenarios[] = {
  {"stls_user.txt", p_stls_user, MAIL_OK},
  {"stls_not_offered.txt", p_stls_required, MAIL_ERR_STARTTLS},
  {"stls_refused.txt", p_stls_required, MAIL_ERR_STARTTLS},
  {"stls_capa_hidden.txt", p_stls_required, MAIL_ERR_STARTTLS},
  {"stls_injection.txt", p_stls_required, MAIL_ERR_STARTTLS_INJECTION},
  {"stls_apop.txt", p_stls_apop, MAIL_OK},
  {"no_capa.txt", p_no_capa, MAIL_OK},
  {"sasl_cram.txt", p_sasl_cram, MAIL_OK},
  {"sasl_plain_ir.txt", p_sasl_plain_ir, MAIL_OK},
  {"capa_extensions.txt", p_capa_extensions, MAIL_OK},
  {"transaction.txt", p_transaction, MAIL_OK},
  {"quit_not_committed.txt", p_quit_not_committed, MAIL_ERR_SERVER},
  {"pipelined.txt", p_pipelined, MAIL_OK},
  {"retr_expunged.txt", p_retr_expunged, MAIL_OK},
  {"not_pipelined.txt", p_not_pipelined, MAIL_OK},
  {"leave_on_server.txt", p_leave_on_server, MAIL_OK},
};
/* This directory's scenarios, then the shared SASL ones. */
SCN_DRIVER_TABLE(p_sasl)
#define NSCN scn_count()

/* Run the scenario for file on a loaded transcript; r->p stays for
 * inspection (free it with mail_pop3_free). */
static int scenario_play(srun *r, const char *file, mail_transcript *t, const mail_allocator *a,
                         int nonblock)
{
  memset(r, 0, sizeof *r);
  r->t = t;
  r->file = file;
  r->alloc = a;
  r->nonblocking = nonblock;
  int rc = mail_pop3_new(&r->p, a);
  if (!rc)
    rc = transcript_use_device_crypto(mail_pop3_sasl(r->p));
  if (rc)
    return rc;
  /* nonblock 2: feed mode, the pump carries the bytes */
  rc = nonblock == 2 ? mail_transcript_attach_feed(t, mail_pop3_conn(r->p))
                     : mail_transcript_attach(t, mail_pop3_conn(r->p));
  if (rc)
    return rc;
  mail_conn_set_trace(mail_pop3_conn(r->p), on_trace, &r->tr);
  if (nonblock == 1) {
    mail_conn_set_nonblocking(mail_pop3_conn(r->p), 1);
    mail_transcript_set_auto_again(t, 1);
  }
  return find(file).fn(r);
}

static void scenario_check(srun *r, int rc)
{
  int expect = find(r->file).expect;
  ck_assert_msg(rc == expect, "%s: got %d (%s), expected %d; conn error: %s; %s", r->file, rc,
                mail_strerror(rc), expect, mail_conn_last_error(mail_pop3_conn(r->p)),
                mail_transcript_report(r->t));
  MAIL_TRANSCRIPT_ASSERT_DONE(r->t);
}

START_TEST(test_every_transcript)
{
  const char *file = scenario_at(_i).file;
  char path[512], why[600];
  snprintf(path, sizeof path, "%s%s", TDIR, file);
  ck_assert_msg(mail_transcript_check_header(path, scenario_at(_i).expect, why, sizeof why) == 0,
                "%s", why);
  for (int nonblock = 0; nonblock < 3; nonblock++) {
    mail_transcript *t = load(file);
    srun r;
    int rc = scenario_play(&r, file, t, NULL, nonblock);
    scenario_check(&r, rc);
    if (nonblock)
      ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in %s mode", file,
                    nonblock == 2 ? "feed" : "event-loop");
    if (nonblock == 2)
      ck_assert_uint_eq(mail_transcript_connect_calls(t), 0);
    mail_pop3_free(r.p);
    mail_transcript_free(t);
  }
}
END_TEST

typedef struct nomem_ctx {
  const char *file;
  mail_transcript *t;
  int feed; /* 1: in feed mode */
} nomem_ctx;

static int run_allocating(void *user, mail_test_alloc *ta)
{
  nomem_ctx *c = user;
  mail_transcript_rewind(c->t);
  srun r;
  int rc = scenario_play(&r, c->file, c->t, mail_test_alloc_hooks(ta), c->feed ? 2 : 0);
  if (ta->failures == 0)
    scenario_check(&r, rc);
  mail_pop3_free(r.p);
  return rc;
}

/* Every transcript failing each allocation in turn: nothing leaked, a
 * clean status (this directory's: the scenario's, MAIL_ERR_NOMEM or a
 * fatal one), and the complete run plays the whole transcript. */
START_TEST(test_every_transcript_nomem)
{
  nomem_ctx c = {scenario_at(_i).file, load(scenario_at(_i).file), 0};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.file, run_allocating, &c, scenario_at(_i).expect,
                                   _i < (int)NOWN ? MAIL_TEST_NOMEM_CLEAN : MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(test_every_transcript_nomem_feed)
{
  nomem_ctx c = {scenario_at(_i).file, load(scenario_at(_i).file), 1};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.file, run_allocating, &c, scenario_at(_i).expect,
                                   _i < (int)NOWN ? MAIL_TEST_NOMEM_CLEAN : MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(test_sasl_mechanism_and_no_secret_in_trace)
{
  const sasl_scenario *ss = &sasl_scenarios[_i];
  /* Freed memory too: every block the library frees is scanned. */
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  sasl_forbid_secrets(&ta);
  mail_transcript *t = load(ss->file);
  srun r;
  int rc = scenario_play(&r, ss->file, t, mail_test_alloc_hooks(&ta), 0);
  scenario_check(&r, rc);
  char path[512];
  snprintf(path, sizeof path, "%s%s", TDIR, ss->file);
  sasl_assert_clean(ss, mail_pop3_sasl(r.p), r.tr.text,
                    mail_conn_last_error(mail_pop3_conn(r.p)), path);
  mail_pop3_free(r.p);
  mail_transcript_free(t);
  ck_assert_msg(ta.forbidden_hits == 0, "%s: %s", ss->file, ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

static srun *sasl_run_file(const char *file, mail_transcript **t)
{
  static srun r;
  *t = load(file);
  scenario_check(&r, scenario_play(&r, file, *t, NULL, 0));
  return &r;
}

START_TEST(test_sasl_oauth_error_and_one_refresh)
{
  static const char json[] =
    "{\"status\":\"invalid_token\",\"scope\":\"https://mail.test/\","
    "\"openid-configuration\":\"https://auth.test/.well-known/openid-configuration\"}";
  static const char *const files[] = {"sasl_xoauth2_refresh.txt", "sasl_oauthbearer_refresh.txt",
                                      "sasl_oauthbearer_refused_twice.txt"};
  for (size_t i = 0; i < 3; i++) {
    mail_transcript *t;
    srun *r = sasl_run_file(files[i], &t);
    ck_assert_int_eq(r->obs.refreshes, 1);
    ck_assert_str_eq(r->obs.oauth_status, "invalid_token");
    ck_assert_str_eq(r->obs.oauth_json, json);
    if (i == 2)
      ck_assert_int_eq(r->rc_first, MAIL_ERR_AUTH);
    else
      ck_assert_int_eq(mail_pop3_get_state(r->p), MAIL_POP3_STATE_TRANSACTION);
    mail_pop3_free(r->p);
    mail_transcript_free(t);
  }
}
END_TEST

START_TEST(test_sasl_refusals)
{
  mail_transcript *t;
  /* A wrong server signature: "*" went out, the session is over. */
  srun *r = sasl_run_file("sasl_scram_bad_signature.txt", &t);
  ck_assert_int_eq(mail_pop3_get_state(r->p), MAIL_POP3_STATE_DISCONNECTED);
  ck_assert_int_eq(mail_pop3_noop(r->p), MAIL_ERR_STATE);
  mail_pop3_free(r->p);
  mail_transcript_free(t);
  /* A failure is final: PLAIN was offered but never tried. */
  r = sasl_run_file("sasl_no_fallback.txt", &t);
  ck_assert_int_eq(r->rc_first, MAIL_ERR_AUTH);
  ck_assert_ptr_null(strstr(r->tr.text, "AUTH PLAIN"));
  mail_pop3_free(r->p);
  mail_transcript_free(t);
  /* Cleartext: only CAPA was written. */
  r = sasl_run_file("sasl_cleartext.txt", &t);
  ck_assert_int_eq(r->rc_first, MAIL_ERR_INSECURE);
  ck_assert_uint_eq(mail_transcript_write_calls(t), 1);
  mail_pop3_free(r->p);
  mail_transcript_free(t);
}
END_TEST


/* "Unsupported mechanism" falls back only as the answer to AUTH itself,
 * without a response code; after a response line of ours or with a code
 * it is a failure. When every mechanism is refused: MAIL_ERR_NO_MECHANISM. */
START_TEST(test_sasl_unsupported_rules)
{
  static const struct {
    const char *script;
    int rc;
  } cases[] = {
    /* Dovecot 2.3's own reply: [AUTH] makes it a failure. */
    {"C: AUTH CRAM-MD5\\r\\n\nS: -ERR [AUTH] Unsupported authentication mechanism.\\r\\n\n",
     MAIL_ERR_AUTH},
    {"C: AUTH CRAM-MD5\\r\\n\nS: -ERR [SYS/TEMP] Unknown mechanism\\r\\n\n", MAIL_ERR_SERVER},
    {"C: AUTH CRAM-MD5\\r\\n\nS: + PDE+\\r\\n\n"
     "C: YWxpY2UgZWJiZjBlOGJjOTI4YWJhMGNjNjE1ZTNkNTg4YWRkMjE=\\r\\n\n"
     "S: -ERR Unsupported authentication mechanism.\\r\\n\n",
     MAIL_ERR_AUTH},
    {"C: AUTH CRAM-MD5\\r\\n\nS: -ERR Unsupported authentication mechanism.\\r\\n\n"
     "C: AUTH PLAIN AGFsaWNlAGFsaWNlLXB3LTE=\\r\\n\nS: -ERR unknown MECHANISM\\r\\n\n",
     MAIL_ERR_NO_MECHANISM},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[2048];
    snprintf(text, sizeof text,
             "TLS\nS: +OK ready\\r\\n\nC: CAPA\\r\\n\n"
             "S: +OK\\r\\nSASL CRAM-MD5 PLAIN\\r\\nRESP-CODES\\r\\nAUTH-RESP-CODE\\r\\n.\\r\\n\n%s",
             cases[i].script);
    mail_transcript *t = script(text);
    mail_pop3 *p = session(t, NULL);
    ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "alice-pw-1"), MAIL_OK);
    ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
    int rc = mail_pop3_auth(p);
    ck_assert_msg(rc == cases[i].rc, "case %zu: %d (%s); %s", i, rc, mail_strerror(rc),
                  mail_transcript_report(t));
    ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_AUTHORIZATION);
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    mail_pop3_free(p);
    mail_transcript_free(t);
  }
}
END_TEST

/* ------------------------------------------------------ event loop */

START_TEST(test_event_loop)
{
  mail_transcript *t = load("transaction.txt");
  mail_pop3 *p = event_loop_session(t);
  int rc, rounds = 0;
  while ((rc = mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS)) == MAIL_ERR_AGAIN)
    ck_assert_int_lt(++rounds, 1000);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_gt(rounds, 0);
  while ((rc = mail_pop3_auth(p)) == MAIL_ERR_AGAIN) {
    ck_assert_int_lt(++rounds, 2000);
    /* Another operation meanwhile is refused. */
    ck_assert_int_eq(mail_pop3_noop(p), MAIL_ERR_STATE);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  uint32_t n = 0;
  uint64_t size = 0;
  while ((rc = mail_pop3_stat(p, &n, &size)) == MAIL_ERR_AGAIN)
    ck_assert_int_lt(++rounds, 3000);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(n, 2);
  while ((rc = mail_pop3_list(p)) == MAIL_ERR_AGAIN)
    ck_assert_int_lt(++rounds, 4000);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(mail_pop3_list_count(p), 2);
  mail_pop3_free(p);
  mail_transcript_free(t);
}
END_TEST

/* --------------------------------------- secrets and allocation failures */

static int secrets_scenario(const mail_allocator *a, mail_transcript *t)
{
  mail_pop3 *p = NULL;
  int rc = mail_pop3_new(&p, a);
  if (!rc)
    rc = transcript_use_device_crypto(mail_pop3_sasl(p));
  if (rc)
    return rc;
  rc = mail_transcript_attach(t, mail_pop3_conn(p));
  if (!rc)
    rc = mail_pop3_set_auth(p, "alice", "alice-pw-1");
  if (!rc)
    rc = mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER);
  if (!rc)
    rc = mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_STARTTLS);
  if (!rc)
    rc = mail_pop3_auth(p);
  if (!rc)
    rc = mail_pop3_quit(p, NULL);
  mail_pop3_free(p);
  return rc;
}

START_TEST(test_secrets_wiped)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_test_alloc_forbid_str(&ta, "alice-pw-1");
  mail_transcript *t = load("stls_user.txt");
  ck_assert_int_eq(secrets_scenario(mail_test_alloc_hooks(&ta), t), MAIL_OK);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  ck_assert_msg(ta.forbidden_hits == 0, "%s", ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
  mail_transcript_free(t);
}
END_TEST

/* A 4 MiB message streams through: the session's memory stays far below
 * the message's size. */
START_TEST(test_bounded_memory)
{
  size_t line_len = 1000, lines = 4200;
  size_t cap = 4096 + lines * (line_len + 16);
  char *text = malloc(cap);
  ck_assert_ptr_nonnull(text);
  size_t o = (size_t)snprintf(text, cap,
                              "TLS\nS: +OK\\r\\n\nC: CAPA\\r\\n\nS: -ERR\\r\\n\n"
                              "C: USER alice\\r\\n\nS: +OK\\r\\n\nC: PASS pw\\r\\n\nS: +OK\\r\\n\n"
                              "C: RETR 1\\r\\n\nS: +OK\\r\\n\n");
  for (size_t i = 0; i < lines; i++) {
    memcpy(text + o, "S: ", 3);
    o += 3;
    text[o++] = i % 7 == 0 ? '.' : 'x';
    if (i % 7 == 0)
      text[o++] = '.';
    memset(text + o, 'y', line_len - 1);
    o += line_len - 1;
    memcpy(text + o, "\\r\\n\n", 5);
    o += 5;
  }
  snprintf(text + o, cap - o, "S: .\\r\\n\n");
  mail_transcript *t = script(text);
  free(text);
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_pop3 *p = session(t, mail_test_alloc_hooks(&ta));
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  size_t before = ta.peak_bytes, total = 0;
  ck_assert_int_eq(mail_pop3_retr(p, 1, body_sink_count, &total), MAIL_OK);
  ck_assert_uint_eq(total, lines * (line_len + 2));
  if (getenv("POP3_VERBOSE"))
    fprintf(stderr, "bounded: peak %zu KiB (before RETR %zu KiB) for a %zu KiB message\n",
            ta.peak_bytes / 1024, before / 1024, total / 1024);
  ck_assert_msg(ta.peak_bytes < before + 300 * 1024, "peak %zu KiB for a %zu KiB message",
                ta.peak_bytes / 1024, total / 1024);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_pop3_free(p);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
  mail_transcript_free(t);
}
END_TEST

/* ------------------------------------------------- hostile servers */

/* A server that accepts every write and answers every read with the next
 * piece of a random stream built from protocol fragments and junk. Every
 * operation must end with a status code, and nothing may leak. */
typedef struct hostile {
  unsigned char *data;
  size_t len, pos;
  uint64_t rnd;
} hostile;

static uint32_t next_rand(hostile *h)
{
  h->rnd = h->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
  return (uint32_t)(h->rnd >> 33);
}

static int h_connect(void *user, const char *host, unsigned int port, int timeout_ms)
{
  (void)user;
  (void)host;
  (void)port;
  (void)timeout_ms;
  return MAIL_OK;
}

static int h_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  hostile *h = user;
  (void)timeout_ms;
  if (h->pos >= h->len)
    return MAIL_ERR_CLOSED;
  size_t n = 1 + next_rand(h) % 97;
  if (n > len)
    n = len;
  if (n > h->len - h->pos)
    n = h->len - h->pos;
  memcpy(buf, h->data + h->pos, n);
  h->pos += n;
  *got = n;
  return MAIL_OK;
}

static int h_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                   int timeout_ms)
{
  (void)user;
  (void)buf;
  (void)timeout_ms;
  *written = len;
  return MAIL_OK;
}

static int h_start_tls(void *user, const char *host, int timeout_ms)
{
  (void)user;
  (void)host;
  (void)timeout_ms;
  return MAIL_OK;
}

static int h_verified(void *user)
{
  (void)user;
  return 1;
}

static const mail_transport_ops hostile_ops = {
  MAIL_TRANSPORT_OPS_VERSION, h_connect, h_read, h_write, h_start_tls, h_verified, NULL, NULL,
};

static const char *const fragments[] = {
  "+OK\r\n", "+OK ready <1.2@h>\r\n", "+OK 2 320\r\n", "-ERR\r\n", "-ERR [IN-USE] locked\r\n",
  "-ERR [SYS/TEMP\r\n", ".\r\n", "..\r\n", "...x\r\n", ".\r", "1 120\r\n", "2 uid-2\r\n",
  "1 -5\r\n", "99999999999999999999 1\r\n", "+ \r\n", "+ PDE4OTY+\r\n", "+ !!!\r\n",
  "SASL PLAIN CRAM-MD5 SCRAM-SHA-256\r\n", "PIPELINING\r\n", "STLS\r\n", "USER\r\n", "UIDL\r\n",
  "LOGIN-DELAY x\r\n", "EXPIRE NEVER\r\n", "\n", "\r", "\r\n", "+OK\n", "body line\r\n",
  "* OK imap\r\n", "+oK\r\n", "-err [AUTH] no\r\n",
};

static void hostile_fill(hostile *h, size_t target)
{
  /* A plausible start (greeting, CAPA, STLS, login, CAPA) with a few
   * bytes mutated, so most sessions get past the login into the
   * transaction commands before the junk begins. */
  static const char prefix[] =
    "+OK ready <1.2@h>\r\n+OK\r\nSTLS\r\nUSER\r\nPIPELINING\r\nSASL PLAIN\r\n.\r\n"
    "+OK\r\n+OK\r\nSTLS\r\nUSER\r\nPIPELINING\r\nSASL PLAIN\r\n.\r\n+OK\r\n+OK\r\n"
    "+OK\r\nUSER\r\nPIPELINING\r\nUIDL\r\n.\r\n";
  h->data = malloc(target + sizeof prefix + 70000);
  ck_assert_ptr_nonnull(h->data);
  memcpy(h->data, prefix, sizeof prefix - 1);
  h->len = sizeof prefix - 1;
  for (int i = 0; i < 2; i++)
    if (next_rand(h) % 4 == 0)
      h->data[next_rand(h) % h->len] = (unsigned char)next_rand(h);
  target += h->len;
  while (h->len < target) {
    uint32_t r = next_rand(h) % 100;
    if (r < 80) {
      const char *f = fragments[next_rand(h) % (sizeof fragments / sizeof fragments[0])];
      memcpy(h->data + h->len, f, strlen(f));
      h->len += strlen(f);
    } else if (r < 99) {
      size_t n = 1 + next_rand(h) % 8;
      for (size_t i = 0; i < n; i++)
        h->data[h->len++] = (unsigned char)next_rand(h);
    } else {
      memset(h->data + h->len, 'a', 66000); /* longer than max_line */
      h->len += 66000;
    }
  }
}

static int body_sink(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  (void)msg;
  (void)d;
  size_t *total = user;
  if (event == MAIL_POP3_BODY_DATA)
    *total += n;
  return *total > 1000000; /* a runaway body is stopped by the caller */
}

/* Every call ends with a real status: never "try again" in blocking
 * mode, never an internal error. */
static void check_rc(int rc)
{
  ck_assert_msg(rc <= 0 && rc > MAIL_ERR_INTERNAL && rc != MAIL_ERR_AGAIN, "rc=%d", rc);
}

START_TEST(test_hostile_servers)
{
  int in_transaction = 0;
  for (uint64_t seed = 1; seed <= 5000; seed++) {
    mail_test_alloc ta;
    mail_test_alloc_init(&ta);
    hostile h = {NULL, 0, 0, seed};
    hostile_fill(&h, 200 + seed % 3000);
    mail_pop3 *p = NULL;
    ck_assert_int_eq(mail_pop3_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
    ck_assert_int_eq(transcript_use_device_crypto(mail_pop3_sasl(p)), MAIL_OK);
    ck_assert_int_eq(mail_conn_set_transport(mail_pop3_conn(p), &hostile_ops, &h), MAIL_OK);
    mail_pop3_set_auth(p, "alice", "pw");
    mail_pop3_set_auth_method(p, (int)(seed % 4));
    int sec = seed % 3 == 0 ? MAIL_SECURITY_STARTTLS
                            : (seed % 3 == 1 ? MAIL_SECURITY_IMPLICIT_TLS
                                             : MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE);
    check_rc(mail_pop3_connect(p, "h.test", 110, sec));
    check_rc(mail_pop3_auth(p));
    check_rc(mail_pop3_auth(p));
    in_transaction += mail_pop3_get_state(p) == MAIL_POP3_STATE_TRANSACTION;
    uint32_t n;
    uint64_t sz;
    size_t total = 0;
    char uid[71];
    uint32_t msgs[] = {1, 2, 3};
    check_rc(mail_pop3_stat(p, &n, &sz));
    check_rc(mail_pop3_list(p));
    check_rc(mail_pop3_uidl(p));
    check_rc(mail_pop3_uidl_one(p, 2, uid, sizeof uid));
    check_rc(mail_pop3_retr_many(p, msgs, 3, body_sink, &total));
    check_rc(mail_pop3_top(p, 1, 3, body_sink, &total));
    check_rc(mail_pop3_dele_many(p, msgs, 3));
    mail_pop3_uidset *known = NULL, *seen = NULL;
    mail_pop3_uidset_new(&known, mail_test_alloc_hooks(&ta));
    mail_pop3_uidset_new(&seen, mail_test_alloc_hooks(&ta));
    mail_pop3_uidset_add(known, "uid-2", 0);
    check_rc(mail_pop3_leave_on_server(p, known, 1, body_sink, &total, seen, NULL));
    mail_pop3_implementation(p);
    mail_pop3_expire(p, NULL, NULL, NULL);
    check_rc(mail_pop3_quit(p, NULL));
    mail_pop3_uidset_free(known);
    mail_pop3_uidset_free(seen);
    mail_pop3_free(p);
    ck_assert_msg(ta.live == 0, "seed %llu: %zu blocks leaked", (unsigned long long)seed, ta.live);
    mail_test_alloc_cleanup(&ta);
    free(h.data);
  }
  /* The generator must actually reach the transaction commands. */
  ck_assert_int_gt(in_transaction, 1000);
  if (getenv("POP3_VERBOSE"))
    fprintf(stderr, "hostile: %d of 5000 sessions logged in\n", in_transaction);
}
END_TEST

/* Every transcript file of the directory is some scenario's. */
START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(POP3_TRANSCRIPT_DIR, scn_played, NULL, why, sizeof why) > 0, "%s",
                why);
}
END_TEST

static Suite *pop3_suite(void)
{
  Suite *s = suite_create("pop3");
  TCase *tc = tcase_create("session");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_password_not_utf8);
  tcase_add_test(tc, test_stls_user);
  tcase_add_test(tc, test_stls_failures);
  tcase_add_test(tc, test_stls_handshake_fails);
  tcase_add_test(tc, test_stls_refused_code);
  tcase_add_test(tc, test_error_string);
  tcase_add_test(tc, test_no_greeting);
  tcase_add_test(tc, test_stls_apop);
  tcase_add_test(tc, test_apop_without_stamp);
  tcase_add_test(tc, test_no_capa_plain);
  tcase_add_test(tc, test_opportunistic_without_stls);
  tcase_add_test(tc, test_greeting_err);
  tcase_add_test(tc, test_sasl_cram);
  tcase_add_test(tc, test_sasl_plain_ir);
  tcase_add_test(tc, test_login_resp_codes);
  tcase_add_test(tc, test_capa_extensions);
  tcase_add_test(tc, test_transaction);
  tcase_add_test(tc, test_quit_not_committed);
  tcase_add_test(tc, test_retr_every_split);
  tcase_add_test(tc, test_session_every_split);
  tcase_add_test(tc, test_pipelined);
  tcase_add_test(tc, test_retr_expunged_event_loop);
  tcase_add_test(tc, test_not_pipelined);
  tcase_add_test(tc, test_pipeline_window);
  tcase_add_test(tc, test_callback_stop);
  tcase_add_test(tc, test_leave_on_server);
  tcase_add_test(tc, test_leave_out_of_order);
  tcase_add_test(tc, test_invalid_arguments);
  tcase_add_test(tc, test_bad_numbers);
  tcase_add_test(tc, test_event_loop);
  tcase_add_test(tc, test_secrets_wiped);
  tcase_add_test(tc, test_bounded_memory);
  tcase_add_test(tc, test_hostile_servers);
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, test_every_transcript, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem_feed, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_sasl_mechanism_and_no_secret_in_trace, 0, (int)n_sasl_scenarios);
  tcase_add_test(tc, test_sasl_oauth_error_and_one_refresh);
  tcase_add_test(tc, test_sasl_refusals);
  tcase_add_test(tc, test_sasl_unsupported_rules);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(pop3_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

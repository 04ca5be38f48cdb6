/*
 * SCRAM-*-PLUS end to end: libmail's connection (TLS 1.3 and TLS 1.2, with
 * and without the extended master secret, full and resumed handshakes)
 * and SASL engine against tests/sasl/scram_server.py, a SCRAM server
 * written in Python with Debian's python3-openssl that shares no code with
 * libmail. Covers the three channel-binding types and their default order
 * (tls-unique on TLS 1.2, tls-exporter on TLS 1.3, tls-server-end-point
 * when neither is safe), a server whose proof is computed over other
 * channel-binding data, the "y" flag catching a stripped -PLUS, and the
 * one retry without binding after a refused -PLUS (a server that binds
 * only tls-unique, like Cyrus SASL 2.1.28), on the same connection and,
 * for a protocol that cannot start another exchange, on a new one.
 *
 * A second group logs in to the real Dovecot of tests/servers over IMAPS
 * (AUTHENTICATE with SASL-IR) with every mechanism it offers, including the
 * user with a non-ASCII password, and checks the fallback after
 * "unsupported"; it is left out when servers.env is missing.
 *
 * The test drives the engine exactly as a protocol engine does, through
 * sasl_internal.h and mail_conn_run(). Skips (77) when /usr/bin/python3
 * cannot import OpenSSL, unless MAIL_TEST_REQUIRE_SERVERS=1. SMTP and
 * POP3 sessions against the same server are in test_scram_sessions.c.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/conn.h>
#include <mail/sasl.h>

#include "core/conn_internal.h"
#include "sasl/sasl_internal.h"
#include "sasl/sasl_mech.h"
#include "scram_server.h"
#include "servers_env.h"

/* ------------------------------------------------------------ a tiny protocol engine */

static const mail_sasl_profile line_profile = {"test", 1, 0, "=", "*", 0};
/* The same protocol as if it could not start a second exchange on a
 * connection (the server closes after a failure). */
static const mail_sasl_profile line_once_profile = {"test", 1, 0, "=", "*", 1};

typedef struct client {
  mail_conn *conn;
  mail_cmdq q; /* the line in flight (the exchange is lockstep) */
  mail_sasl *sasl;
  const mail_sasl_profile *profile;
  int greeted;
  char mechs[256];
} client;

static int advance(void *engine)
{
  client *c = engine;
  mail_reader *r = mail_conn_reader(c->conn);
  for (;;) {
    const char *line;
    size_t len;
    int rc = mail_reader_line(r, &line, &len, NULL);
    if (rc)
      return rc;
    mail_sasl_msg m;
    if (!c->greeted) {
      if (len < 8 || memcmp(line, "* MECHS ", 8) != 0 || len - 8 >= sizeof c->mechs)
        return MAIL_ERR_PROTOCOL;
      memcpy(c->mechs, line + 8, len - 8);
      c->mechs[len - 8] = '\0';
      c->greeted = 1;
      rc = mail_sasl_use_conn(c->sasl, c->conn);
      if (rc == MAIL_OK)
        rc = mail_sasl_begin(c->sasl, c->profile, c->mechs, &m);
    } else if (len >= 1 && line[0] == '+') {
      size_t skip = len >= 2 ? 2 : 1;
      rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_CONTINUE, line + skip, len - skip, &m);
    } else if (len >= 2 && memcmp(line, "OK", 2) == 0) {
      size_t skip = len >= 3 ? 3 : 2;
      rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_SUCCESS, line + skip, len - skip, &m);
    } else if (len >= 2 && memcmp(line, "NO", 2) == 0) {
      rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_FAILURE, NULL, 0, &m);
    } else if (len >= 3 && memcmp(line, "BAD", 3) == 0) {
      rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_UNSUPPORTED, NULL, 0, &m);
    } else {
      return MAIL_ERR_PROTOCOL;
    }
    if (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND) {
      /* Lockstep: the line before this one has been answered. */
      mail_cmdq_clear(&c->q);
      mail_cmd e = {.kind = 1};
      rc = mail_sasl_queue(c->conn, &c->q, &e, "AUTH", rc, &m);
      if (rc)
        return rc;
      continue;
    }
    return rc;
  }
}

typedef struct options {
  const char *user, *pass;
  int cb_prefer;
  int no_downgrade;          /* mail_sasl_set_allow_channel_binding_downgrade(0) */
  int connections;           /* connections the client makes (resumption) */
  int insecure;              /* TLS without verification */
  const mail_sasl_profile *profile;
} options;

typedef struct outcome {
  int rc;
  int cb_type;
  int resumed;
  char mech[32];
  char tls_version[16];
  int exporter_rc;
  char server_result[256];
  char attempts[SCRAM_SERVER_MAX_ATTEMPTS][256];
  int nattempts;
  char trace[65536];
} outcome;

static outcome run_opts(const char *const *server_args, const options *opt)
{
  outcome o;
  memset(&o, 0, sizeof o);
  scram_server sv;
  scram_server_start(&sv, server_args);

  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  char ca[1200];
  snprintf(ca, sizeof ca, "%s/data/tls/ca.pem", scram_server_srcdir());
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ca), MAIL_OK);
  if (opt->insecure)
    ck_assert_int_eq(mail_tls_config_set_insecure_no_verify(cfg, 1), MAIL_OK);
  mail_sasl *sasl = NULL;
  ck_assert_int_eq(mail_sasl_new(&sasl, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_username(sasl, opt->user), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_password(sasl, opt->pass), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_channel_binding_preference(sasl, opt->cb_prefer), MAIL_OK);
  if (opt->no_downgrade)
    ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(sasl, 0), MAIL_OK);
  static trace_log tl;
  trace_log_clear(&tl);

  int conns = opt->connections ? opt->connections : 1;
  for (int i = 0; i < conns; i++) {
    client c;
    memset(&c, 0, sizeof c);
    c.sasl = sasl;
    c.profile = opt->profile ? opt->profile : &line_profile;
    ck_assert_int_eq(mail_conn_new(&c.conn, NULL), MAIL_OK);
    mail_cmdq_init(&c.q, &mail_conn_env(c.conn)->alloc, 4);
    ck_assert_int_eq(mail_conn_set_tls_config(c.conn, cfg), MAIL_OK);
    mail_conn_set_timeout(c.conn, MAIL_TIMEOUT_CONNECT, 20000);
    mail_conn_set_timeout(c.conn, MAIL_TIMEOUT_IO, 20000);
    mail_conn_set_trace(c.conn, trace_log_fn, &tl);
    int rc = mail_conn_connect(c.conn, "127.0.0.1", sv.port, 1);
    ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc),
                  mail_conn_last_error(c.conn));
    const char *v = mail_conn_tls_version(c.conn);
    snprintf(o.tls_version, sizeof o.tls_version, "%s", v ? v : "");
    o.resumed = mail_conn_tls_resumed(c.conn);
    unsigned char ekm[64];
    size_t ekm_len;
    o.exporter_rc = mail_conn_channel_binding(c.conn, MAIL_CB_TLS_EXPORTER, ekm, sizeof ekm,
                                              &ekm_len);
    o.rc = mail_conn_run(c.conn, advance, &c);
    o.cb_type = sasl->cb_type;
    mail_cmdq_free(&c.q);
    mail_conn_free(c.conn);
    /* A protocol that cannot start a second exchange on its connection:
     * the engine asks for a new one. */
    if (o.rc == MAIL_ERR_AUTH && mail_sasl_retry_on_new_connection(sasl) && i + 1 == conns)
      conns++;
  }
  mail_tls_config_free(cfg);
  const char *mech = mail_sasl_mechanism(sasl);
  snprintf(o.mech, sizeof o.mech, "%s", mech ? mech : "");
  mail_sasl_free(sasl);
  scram_server_finish(&sv);
  snprintf(o.server_result, sizeof o.server_result, "%s", sv.result);
  memcpy(o.attempts, sv.attempts, sizeof o.attempts);
  o.nattempts = sv.nattempts;
  snprintf(o.trace, sizeof o.trace, "%s", tl.text);
  ck_assert_msg(!strstr(tl.text, opt->pass), "the password reached the trace");
  return o;
}

static outcome run(const char *const *server_args, const char *user, const char *pass,
                   int cb_prefer)
{
  options opt = {user, pass, cb_prefer, 0, 0, 0, NULL};
  return run_opts(server_args, &opt);
}

#define ARGS SCRAM_ARGS
#define ASSERT_OK(o) \
  ck_assert_msg((o).rc == MAIL_OK, "%s / server: %s", mail_strerror((o).rc), (o).server_result)

/* ------------------------------------------------------------ binding types */

START_TEST(tls13_exporter)
{
  outcome o = run(ARGS("--tls", "1.3"), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.tls_version, "TLSv1.3");
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_EXPORTER);
  ck_assert_int_eq(strncmp(o.server_result, "OK", 2), 0);
  ck_assert_ptr_nonnull(strstr(o.trace, "AUTH SCRAM-SHA-256-PLUS [redacted]"));
  /* tls-unique preferred: TLS 1.3 has none, the next type is used. */
  o = run(ARGS("--tls", "1.3"), "alice", "alice-pw-1", MAIL_CB_TLS_UNIQUE);
  ASSERT_OK(o);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_EXPORTER);
}
END_TEST

START_TEST(tls13_server_end_point)
{
  outcome o = run(ARGS("--tls", "1.3", "--advertise", "SCRAM-SHA-1 SCRAM-SHA-1-PLUS"), "alice",
                  "alice-pw-1", MAIL_CB_TLS_SERVER_END_POINT);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-1-PLUS");
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_SERVER_END_POINT);
}
END_TEST

START_TEST(tls12_default_tls_unique)
{
  /* RFC 5802's mandatory type is the default on TLS 1.2, with or without
   * the extended master secret (a full handshake). */
  outcome o = run(ARGS("--tls", "1.2"), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.tls_version, "TLSv1.2");
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_str_eq(o.attempts[0], "SCRAM-SHA-256-PLUS p=tls-unique TLSv1.2 OK");
  o = run(ARGS("--tls", "1.2", "--no-ems"), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_int_eq(o.exporter_rc, MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
}
END_TEST

START_TEST(tls12_exporter_preferred)
{
  /* tls-unique preferred explicitly: the same as the default here. */
  outcome u = run(ARGS("--tls", "1.2"), "alice", "alice-pw-1", MAIL_CB_TLS_UNIQUE);
  ASSERT_OK(u);
  ck_assert_int_eq(u.cb_type, MAIL_CB_TLS_UNIQUE);
  outcome o = run(ARGS("--tls", "1.2"), "alice", "alice-pw-1", MAIL_CB_TLS_EXPORTER);
  ASSERT_OK(o);
  ck_assert_int_eq(o.exporter_rc, MAIL_OK);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_EXPORTER);
  /* Without EMS the exporter is not unique: the next in the order. */
  o = run(ARGS("--tls", "1.2", "--no-ems"), "alice", "alice-pw-1", MAIL_CB_TLS_EXPORTER);
  ASSERT_OK(o);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
}
END_TEST

START_TEST(tls12_resumed)
{
  /* A resumed handshake: tls-unique is the server's Finished. */
  options opt = {"alice", "alice-pw-1", 0, 0, 2, 0, NULL};
  outcome o = run_opts(ARGS("--tls", "1.2", "--connections", "2"), &opt);
  ASSERT_OK(o);
  ck_assert_int_eq(o.resumed, 1);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
  ck_assert_int_eq(o.nattempts, 2);
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256-PLUS p=tls-unique TLSv1.2 OK");
  /* Resumed without EMS: neither tls-unique (triple handshake) nor
   * tls-exporter is safe; tls-server-end-point is. */
  o = run_opts(ARGS("--tls", "1.2", "--no-ems", "--connections", "2"), &opt);
  ASSERT_OK(o);
  ck_assert_int_eq(o.resumed, 1);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_SERVER_END_POINT);
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256-PLUS p=tls-server-end-point TLSv1.2 OK");
}
END_TEST

START_TEST(server_proof_over_wrong_cb_fails)
{
  /* server-final in the success reply */
  outcome o = run(ARGS("--wrong-cb", "proof"), "alice", "alice-pw-1", 0);
  ck_assert_int_eq(o.rc, MAIL_ERR_SASL_SERVER);
  /* server-final in a continuation: the client aborts */
  o = run(ARGS("--wrong-cb", "proof", "--final-in-continuation"), "alice", "alice-pw-1", 0);
  ck_assert_int_eq(o.rc, MAIL_ERR_SASL_SERVER);
  ck_assert_str_eq(o.server_result, "NO client refused our signature (*)");
  /* the same with tls-server-end-point and tls-unique on TLS 1.2 */
  o = run(ARGS("--tls", "1.2", "--wrong-cb", "proof"), "alice", "alice-pw-1",
          MAIL_CB_TLS_SERVER_END_POINT);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_SERVER_END_POINT);
  ck_assert_int_eq(o.rc, MAIL_ERR_SASL_SERVER);
  o = run(ARGS("--tls", "1.2", "--wrong-cb", "proof"), "alice", "alice-pw-1", 0);
  ck_assert_int_eq(o.cb_type, MAIL_CB_TLS_UNIQUE);
  ck_assert_int_eq(o.rc, MAIL_ERR_SASL_SERVER);
  /* No downgrade retry after a server that failed to prove itself. */
  ck_assert_int_eq(o.nattempts, 1);
}
END_TEST

START_TEST(server_checks_binding)
{
  /* The server sees other binding data than ours: refused. A caller who
   * requires binding stops there. */
  options opt = {"alice", "alice-pw-1", 0, 1, 0, 0, NULL};
  outcome o = run_opts(ARGS("--wrong-cb", "check"), &opt);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_str_eq(o.server_result, "NO channel bindings do not match");
  ck_assert_int_eq(o.nattempts, 1);
  /* By default: one retry without binding. */
  o = run(ARGS("--wrong-cb", "check"), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256");
  ck_assert_int_eq(o.nattempts, 2);
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256 n TLSv1.3 OK");
}
END_TEST

START_TEST(stripped_plus_detected)
{
  /* -PLUS removed from the list by a man in the middle: "y" tells the
   * server, which supports binding, to refuse. */
  outcome o = run(ARGS("--advertise", "SCRAM-SHA-256", "--supports-plus"), "alice",
                  "alice-pw-1", 0);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_str_eq(o.server_result, "NO downgrade detected");
  ck_assert_int_eq(o.nattempts, 1);
  /* a server that really has no channel binding accepts "y" */
  o = run(ARGS("--advertise", "SCRAM-SHA-256"), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256");
}
END_TEST

START_TEST(non_ascii_password_final_in_continuation)
{
  outcome o = run(ARGS("--user", "cedric", "--password", "p\xc3\xa4ssw\xc3\xb6rd-\xe2\x82\xac",
                       "--final-in-continuation", "--advertise", "SCRAM-SHA-1-PLUS"),
                  "cedric", "p\xc3\xa4ssw\xc3\xb6rd-\xe2\x82\xac", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-1-PLUS");
}
END_TEST

START_TEST(wrong_password_refused)
{
  /* Two failed attempts: with binding, then the retry without. */
  outcome o = run(ARGS("--tls", "1.3"), "alice", "not-the-password", 0);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_str_eq(o.server_result, "NO invalid proof");
  ck_assert_int_eq(o.nattempts, 2);
  ck_assert_str_eq(o.attempts[0], "SCRAM-SHA-256-PLUS p=tls-exporter TLSv1.3 NO invalid proof");
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256 n TLSv1.3 NO invalid proof");
  /* One with the downgrade forbidden. */
  options opt = {"alice", "not-the-password", 0, 1, 0, 0, NULL};
  o = run_opts(ARGS("--tls", "1.3"), &opt);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_int_eq(o.nattempts, 1);
}
END_TEST

/* ------------------------------------------------------------ a Cyrus-like server */

#define CYRUS "--cb-types", "tls-unique"

START_TEST(cyrus_tls12_binds_tls_unique)
{
  outcome o = run(ARGS("--tls", "1.2", CYRUS), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(o.nattempts, 1);
  ck_assert_str_eq(o.attempts[0], "SCRAM-SHA-256-PLUS p=tls-unique TLSv1.2 OK");
}
END_TEST

START_TEST(cyrus_tls13_retry_without_binding)
{
  outcome o = run(ARGS("--tls", "1.3", CYRUS), "alice", "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256");
  ck_assert_int_eq(o.nattempts, 2);
  ck_assert_str_eq(o.attempts[0],
                   "SCRAM-SHA-256-PLUS p=tls-exporter TLSv1.3 NO bad protocol / cancel");
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256 n TLSv1.3 OK");
  ck_assert_ptr_nonnull(strstr(o.trace, "AUTH SCRAM-SHA-256-PLUS [redacted]"));
  ck_assert_ptr_nonnull(strstr(o.trace, "AUTH SCRAM-SHA-256 [redacted]"));
  /* SCRAM-SHA-1 the same way. */
  o = run(ARGS("--tls", "1.3", CYRUS, "--advertise", "SCRAM-SHA-1-PLUS SCRAM-SHA-1"), "alice",
          "alice-pw-1", 0);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-1");
}
END_TEST

START_TEST(cyrus_tls13_downgrade_forbidden)
{
  options opt = {"alice", "alice-pw-1", 0, 1, 0, 0, NULL};
  outcome o = run_opts(ARGS("--tls", "1.3", CYRUS), &opt);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(o.nattempts, 1);
}
END_TEST

START_TEST(cyrus_tls13_unverified_no_retry)
{
  /* Without a verified certificate the binding is the only protection:
   * no downgrade. */
  options opt = {"alice", "alice-pw-1", 0, 0, 0, 1, NULL};
  outcome o = run_opts(ARGS("--tls", "1.3", CYRUS), &opt);
  ck_assert_int_eq(o.rc, MAIL_ERR_AUTH);
  ck_assert_int_eq(o.nattempts, 1);
}
END_TEST

START_TEST(cyrus_tls13_retry_on_new_connection)
{
  /* The server ends the connection after a failure: the retry goes out on
   * a second connection (resumed: same configuration). */
  options opt = {"alice", "alice-pw-1", 0, 0, 1, 0, &line_once_profile};
  outcome o = run_opts(ARGS("--tls", "1.3", CYRUS, "--close-after-failure", "--connections", "2"),
                       &opt);
  ASSERT_OK(o);
  ck_assert_str_eq(o.mech, "SCRAM-SHA-256");
  ck_assert_int_eq(o.nattempts, 2);
  ck_assert_str_eq(o.attempts[0],
                   "SCRAM-SHA-256-PLUS p=tls-exporter TLSv1.3 NO bad protocol / cancel");
  ck_assert_str_eq(o.attempts[1], "SCRAM-SHA-256 n TLSv1.3 OK");
}
END_TEST

/* ------------------------------------------------------------ Dovecot over IMAPS */

static const mail_sasl_profile imap_profile = {"imap", 1, 0, "=", "*", 0};

typedef struct imap_client {
  mail_conn *conn;
  mail_cmdq q; /* the line in flight (the exchange is lockstep) */
  mail_sasl *sasl;
  int greeted;
  unsigned int tag;
  char mechs[512];
  const char *extra_mechs; /* claimed on top of the greeting's */
  char sent[8][1024]; /* secrets we sent, to look for in the trace */
  int nsent;
} imap_client;

static int imap_queue(imap_client *c, int what, const mail_sasl_msg *m)
{
  char verb[32];
  if (what == MAIL_SASL_SEND_COMMAND)
    c->tag++;
  snprintf(verb, sizeof verb, "a%u AUTHENTICATE", c->tag);
  if (m->data && m->len && c->nsent < 8 && m->len > 4 && m->len < sizeof c->sent[0])
    memcpy(c->sent[c->nsent++], m->data, m->len);
  /* Lockstep: the line before this one has been answered. */
  mail_cmdq_clear(&c->q);
  mail_cmd e = {.kind = 1, .tag = c->tag};
  return mail_sasl_queue(c->conn, &c->q, &e, verb, what, m);
}

/* The AUTH= capabilities of the greeting as a space-separated list. */
static int imap_mechs(imap_client *c, const char *line, size_t len)
{
  size_t o = 0;
  for (size_t i = 0; i + 5 < len; i++) {
    if (memcmp(line + i, "AUTH=", 5) != 0 || (i && line[i - 1] != ' ' && line[i - 1] != '['))
      continue;
    size_t j = i + 5;
    while (j < len && line[j] != ' ' && line[j] != ']')
      j++;
    if (o + (j - i - 5) + 2 >= sizeof c->mechs)
      return MAIL_ERR_LIMIT;
    memcpy(c->mechs + o, line + i + 5, j - i - 5);
    o += j - i - 5;
    c->mechs[o++] = ' ';
  }
  c->mechs[o] = '\0';
  return MAIL_OK;
}

static int imap_advance(void *engine)
{
  imap_client *c = engine;
  mail_reader *r = mail_conn_reader(c->conn);
  for (;;) {
    const char *line;
    size_t len;
    int rc = mail_reader_line(r, &line, &len, NULL);
    if (rc)
      return rc;
    mail_sasl_msg m;
    char tag[16];
    int tl = snprintf(tag, sizeof tag, "a%u ", c->tag);
    if (!c->greeted) {
      if (len < 4 || memcmp(line, "* OK", 4) != 0)
        return MAIL_ERR_PROTOCOL;
      c->greeted = 1;
      rc = imap_mechs(c, line, len);
      if (rc == MAIL_OK && c->extra_mechs) {
        size_t have = strlen(c->mechs), add = strlen(c->extra_mechs);
        if (have + add + 2 > sizeof c->mechs)
          return MAIL_ERR_LIMIT;
        memmove(c->mechs + add + 1, c->mechs, have + 1);
        memcpy(c->mechs, c->extra_mechs, add);
        c->mechs[add] = ' ';
      }
      if (rc == MAIL_OK)
        rc = mail_sasl_use_conn(c->sasl, c->conn);
      if (rc == MAIL_OK)
        rc = mail_sasl_begin(c->sasl, &imap_profile, c->mechs, &m);
    } else if (len >= 1 && line[0] == '+') {
      size_t skip = len >= 2 ? 2 : 1;
      rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_CONTINUE, line + skip, len - skip, &m);
    } else if (len >= 1 && line[0] == '*') {
      continue;
    } else if (len > (size_t)tl + 2 && memcmp(line, tag, (size_t)tl) == 0) {
      const char *st = line + tl;
      size_t sl = len - (size_t)tl;
      if (memcmp(st, "OK", 2) == 0)
        rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_SUCCESS, NULL, 0, &m);
      else if (memcmp(st, "NO", 2) == 0 && memmem(st, sl, "nsupported", 10))
        rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_UNSUPPORTED, NULL, 0, &m);
      else if (memcmp(st, "NO", 2) == 0)
        rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_FAILURE, NULL, 0, &m);
      else
        rc = mail_sasl_reply(c->sasl, MAIL_SASL_REPLY_ERROR, NULL, 0, &m);
    } else {
      return MAIL_ERR_PROTOCOL;
    }
    if (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND) {
      rc = imap_queue(c, rc, &m);
      if (rc)
        return rc;
      continue;
    }
    return rc;
  }
}

/* Log in as user with the mechanisms in allow (NULL: the default order).
 * With a token, the client believes the server also offers XOAUTH2. */
static int dovecot_login(const char *user, const char *pass, const char *allow, const char *token,
                         char *mech_out, size_t mech_cap)
{
  imap_client c;
  memset(&c, 0, sizeof c);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, mail_test_env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_new(&c.conn, NULL), MAIL_OK);
  mail_cmdq_init(&c.q, &mail_conn_env(c.conn)->alloc, 4);
  ck_assert_int_eq(mail_conn_set_tls_config(c.conn, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(c.conn, MAIL_TIMEOUT_CONNECT, 20000);
  mail_conn_set_timeout(c.conn, MAIL_TIMEOUT_IO, 20000);
  static trace_log tl;
  trace_log_clear(&tl);
  mail_conn_set_trace(c.conn, trace_log_fn, &tl);

  ck_assert_int_eq(mail_sasl_new(&c.sasl, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_username(c.sasl, user), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_password(c.sasl, pass), MAIL_OK);
  if (allow)
    ck_assert_int_eq(mail_sasl_set_mechanisms(c.sasl, allow), MAIL_OK);
  if (token)
    ck_assert_int_eq(mail_sasl_set_oauth_token(c.sasl, token), MAIL_OK);
  long port = mail_test_env_long("MAIL_TEST_IMAPS_PORT", 12993);
  int rc = mail_conn_connect(c.conn, "localhost", (unsigned int)port, 1);
  ck_assert_msg(rc == MAIL_OK, "connect: %s (%s)", mail_strerror(rc), mail_conn_last_error(c.conn));
  if (token)
    c.extra_mechs = "XOAUTH2";
  rc = mail_conn_run(c.conn, imap_advance, &c);
  const char *mech = mail_sasl_mechanism(c.sasl);
  snprintf(mech_out, mech_cap, "%s", mech ? mech : "");
  ck_assert_ptr_null(memmem(tl.text, tl.len, pass, strlen(pass)));
  for (int i = 0; i < c.nsent; i++)
    ck_assert_msg(!memmem(tl.text, tl.len, c.sent[i], strlen(c.sent[i])),
                  "a SASL response reached the trace");
  if (c.nsent)
    ck_assert_ptr_nonnull(memmem(tl.text, tl.len, "[redacted]", 10));
  mail_sasl_free(c.sasl);
  mail_cmdq_free(&c.q);
  mail_conn_free(c.conn);
  return rc;
}

START_TEST(dovecot_every_mechanism)
{
  static const char *const mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN",
                                      "LOGIN"};
  const char *users[][2] = {
    {mail_test_env("MAIL_TEST_USER1"), mail_test_env("MAIL_TEST_PASS1")},
    {mail_test_env("MAIL_TEST_USER3"), mail_test_env("MAIL_TEST_PASS3")},
  };
  char used[32];
  for (size_t u = 0; u < 2; u++) {
    ck_assert_ptr_nonnull(users[u][0]);
    ck_assert_ptr_nonnull(users[u][1]);
    for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
      int rc = dovecot_login(users[u][0], users[u][1], mechs[i], NULL, used, sizeof used);
      ck_assert_msg(rc == MAIL_OK, "%s as %s: %s", mechs[i], users[u][0], mail_strerror(rc));
      ck_assert_str_eq(used, mechs[i]);
    }
    /* the default order picks the strongest */
    ck_assert_int_eq(dovecot_login(users[u][0], users[u][1], NULL, NULL, used, sizeof used),
                     MAIL_OK);
    ck_assert_str_eq(used, "SCRAM-SHA-256");
  }
}
END_TEST

START_TEST(dovecot_fallback_after_unsupported)
{
  char used[32];
  /* XOAUTH2 first; Dovecot answers "Unsupported authentication
   * mechanism", so the engine moves on to PLAIN and logs in. */
  int rc = dovecot_login(mail_test_env("MAIL_TEST_USER2"), mail_test_env("MAIL_TEST_PASS2"),
                         "XOAUTH2 PLAIN", "not-a-real-token", used, sizeof used);
  ck_assert_msg(rc == MAIL_OK, "%s", mail_strerror(rc));
  ck_assert_str_eq(used, "PLAIN");
}
END_TEST

START_TEST(dovecot_wrong_password)
{
  static const char *const mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN",
                                      "LOGIN"};
  char used[32];
  for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
    int rc = dovecot_login(mail_test_env("MAIL_TEST_USER1"), "wrong-password", mechs[i], NULL,
                           used, sizeof used);
    ck_assert_msg(rc == MAIL_ERR_AUTH, "%s: %s", mechs[i], mail_strerror(rc));
  }
}
END_TEST

int main(void)
{
  const char *req = getenv("MAIL_TEST_REQUIRE_SERVERS");
  int skip = scram_server_check();
  if (skip)
    return skip;
  signal(SIGPIPE, SIG_IGN);
  Suite *s = suite_create("sasl-plus");
  TCase *t = tcase_create("plus");
  tcase_set_timeout(t, 90);
  tcase_add_test(t, tls13_exporter);
  tcase_add_test(t, tls13_server_end_point);
  tcase_add_test(t, tls12_default_tls_unique);
  tcase_add_test(t, tls12_exporter_preferred);
  tcase_add_test(t, tls12_resumed);
  tcase_add_test(t, server_proof_over_wrong_cb_fails);
  tcase_add_test(t, server_checks_binding);
  tcase_add_test(t, stripped_plus_detected);
  tcase_add_test(t, non_ascii_password_final_in_continuation);
  tcase_add_test(t, wrong_password_refused);
  suite_add_tcase(s, t);
  t = tcase_create("cyrus-like");
  tcase_set_timeout(t, 90);
  tcase_add_test(t, cyrus_tls12_binds_tls_unique);
  tcase_add_test(t, cyrus_tls13_retry_without_binding);
  tcase_add_test(t, cyrus_tls13_downgrade_forbidden);
  tcase_add_test(t, cyrus_tls13_unverified_no_retry);
  tcase_add_test(t, cyrus_tls13_retry_on_new_connection);
  suite_add_tcase(s, t);
  if (mail_test_servers_available()) {
    t = tcase_create("dovecot");
    tcase_set_timeout(t, 90);
    tcase_add_test(t, dovecot_every_mechanism);
    tcase_add_test(t, dovecot_wrong_password);
    tcase_add_test(t, dovecot_fallback_after_unsupported);
    suite_add_tcase(s, t);
  } else if (req && strcmp(req, "1") == 0) {
    fprintf(stderr, "servers.env missing and MAIL_TEST_REQUIRE_SERVERS=1\n");
    return EXIT_FAILURE;
  }
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

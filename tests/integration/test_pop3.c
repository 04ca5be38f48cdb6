/* POP3 against the real Dovecot of tests/servers: POP3 with STLS and
 * POP3S, every SASL mechanism plus USER/PASS (also with a non-ASCII
 * password), STAT/LIST/UIDL/RETR/TOP/DELE/QUIT, pipelined batches, and
 * the bytes of a message sent through Postfix with libmail's SMTP client
 * retrieved unchanged below the trace headers the servers add. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>

#include <mail/pop3.h>
#include <mail/smtp.h>

#include "maildir.h"
#include "servers_env.h"

static const char *ca(void)
{
  return mail_test_env("MAIL_TEST_CA");
}

static unsigned int port_of(const char *key, long fallback)
{
  return (unsigned int)mail_test_env_long(key, fallback);
}

static mail_tls_config *tls_config(void)
{
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ca()), MAIL_OK);
  return cfg;
}

/* A logged-in session; mech NULL means USER/PASS. */
static mail_pop3 *open_session(const char *host, int implicit, const char *user, const char *pass,
                               const char *mech)
{
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  mail_tls_config *cfg = tls_config();
  ck_assert_int_eq(mail_conn_set_tls_config(mail_pop3_conn(p), cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(mail_pop3_conn(p), MAIL_TIMEOUT_IO, 20000);
  ck_assert_int_eq(mail_pop3_set_auth(p, user, pass), MAIL_OK);
  if (mech) {
    ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_SASL), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_mechanisms(mail_pop3_sasl(p), mech), MAIL_OK);
  } else {
    ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER), MAIL_OK);
  }
  unsigned int port = implicit ? port_of("MAIL_TEST_POP3S_PORT", 12995)
                               : port_of("MAIL_TEST_POP3_PORT", 12110);
  int rc = mail_pop3_connect(p, host, port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect %s:%u: %s (%s)", host, port, mail_strerror(rc),
                mail_conn_last_error(mail_pop3_conn(p)));
  ck_assert(mail_conn_is_verified(mail_pop3_conn(p)));
  ck_assert(mail_pop3_has_capability(p, "UIDL"));
  ck_assert(!mail_pop3_has_capability(p, "STLS") || !implicit);
  rc = mail_pop3_auth(p);
  ck_assert_msg(rc == MAIL_OK, "auth %s as %s: %s (%s)", mech ? mech : "USER", user,
                mail_strerror(rc), mail_conn_last_error(mail_pop3_conn(p)));
  ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_TRANSACTION);
  return p;
}

typedef struct sink {
  char *data;
  size_t len, cap;
  int begins, ends;
} sink;

static int to_sink(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  sink *s = user;
  (void)msg;
  if (event == MAIL_POP3_BODY_BEGIN)
    s->begins++;
  else if (event == MAIL_POP3_BODY_END)
    s->ends++;
  else {
    if (s->len + n > s->cap) {
      s->cap = (s->len + n) * 2;
      s->data = realloc(s->data, s->cap);
      ck_assert_ptr_nonnull(s->data);
    }
    memcpy(s->data + s->len, d, n);
    s->len += n;
  }
  return 0;
}

/* ------------------------------------------------------- mechanisms */

static const char *const mechs[] = {NULL, "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1",
                                    "SCRAM-SHA-256"};

START_TEST(test_mechanisms)
{
  const char *users[2][2] = {
    {mail_test_env("MAIL_TEST_USER1"), mail_test_env("MAIL_TEST_PASS1")},
    {mail_test_env("MAIL_TEST_USER3"), mail_test_env("MAIL_TEST_PASS3")}, /* non-ASCII password */
  };
  for (int implicit = 0; implicit < 2; implicit++)
    for (size_t m = 0; m < sizeof mechs / sizeof mechs[0]; m++)
      for (int u = 0; u < 2; u++) {
        mail_pop3 *p = open_session("localhost", implicit, users[u][0], users[u][1], mechs[m]);
        if (mechs[m])
          ck_assert_str_eq(mail_sasl_mechanism(mail_pop3_sasl(p)), mechs[m]);
        uint32_t count = 0;
        uint64_t size = 0;
        ck_assert_int_eq(mail_pop3_stat(p, &count, &size), MAIL_OK);
        ck_assert_int_eq(mail_pop3_noop(p), MAIL_OK);
        int committed = 0;
        ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
        ck_assert_int_eq(committed, 1);
        mail_pop3_free(p);
      }
}
END_TEST

/* Sent bytes only (the trace's SEND direction) and everything. */
typedef struct auth_trace {
  char text[16384], sent[8192];
  size_t len, sent_len;
} auth_trace;

static void trace_append(char *buf, size_t cap, size_t *len, const char *data, size_t n)
{
  if (*len + n + 1 < cap) {
    memcpy(buf + *len, data, n);
    *len += n;
    buf[*len] = '\0';
  }
}

static void on_auth_trace(void *user, int dir, const char *data, size_t len)
{
  auth_trace *t = user;
  trace_append(t->text, sizeof t->text, &t->len, data, len);
  if (dir == MAIL_TRACE_SEND)
    trace_append(t->sent, sizeof t->sent, &t->sent_len, data, len);
}

/* A wrong password with each SASL mechanism (cedric, non-ASCII): one AUTH
 * only (an authentication failure never falls back to another mechanism),
 * MAIL_ERR_AUTH with Dovecot's [AUTH] code, still in AUTHORIZATION, and
 * neither password in the trace; the right one then logs in on the same
 * connection. */
START_TEST(test_wrong_password_each_mechanism)
{
  const char *user = mail_test_env("MAIL_TEST_USER3"), *pass = mail_test_env("MAIL_TEST_PASS3");
  for (size_t m = 1; m < sizeof mechs / sizeof mechs[0]; m++) {
    mail_pop3 *p = NULL;
    ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
    mail_tls_config *cfg = tls_config();
    ck_assert_int_eq(mail_conn_set_tls_config(mail_pop3_conn(p), cfg), MAIL_OK);
    mail_tls_config_free(cfg);
    mail_conn_set_timeout(mail_pop3_conn(p), MAIL_TIMEOUT_IO, 20000);
    static auth_trace tr;
    memset(&tr, 0, sizeof tr);
    mail_conn_set_trace(mail_pop3_conn(p), on_auth_trace, &tr);
    ck_assert_int_eq(mail_pop3_set_auth(p, user, "p\xC3\xA4ssw\xC3\xB6rd-$"), MAIL_OK);
    ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_SASL), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_mechanisms(mail_pop3_sasl(p), mechs[m]), MAIL_OK);
    ck_assert_int_eq(mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3S_PORT", 12995),
                                       MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
    int rc = mail_pop3_auth(p);
    ck_assert_msg(rc == MAIL_ERR_AUTH, "%s: %s (%s)", mechs[m], mail_strerror(rc),
                  mail_conn_last_error(mail_pop3_conn(p)));
    ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)), MAIL_POP3_CODE_AUTH);
    ck_assert_int_eq(mail_pop3_get_state(p), MAIL_POP3_STATE_AUTHORIZATION);
    ck_assert_str_eq(mail_sasl_mechanism(mail_pop3_sasl(p)), mechs[m]);
    const char *a = strstr(tr.sent, "AUTH ");
    ck_assert_msg(a && !strstr(a + 5, "AUTH "), "%s: %s", mechs[m], tr.sent);
    ck_assert_int_eq(mail_pop3_set_auth(p, user, pass), MAIL_OK);
    rc = mail_pop3_auth(p);
    ck_assert_msg(rc == MAIL_OK, "%s, second try: %s", mechs[m], mail_strerror(rc));
    ck_assert_ptr_null(strstr(tr.text, "p\xC3\xA4ssw"));
    ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
    mail_pop3_free(p);
  }
}
END_TEST

START_TEST(test_auto_and_ipv6)
{
  /* The default login method picks SASL (the strongest usable mechanism). */
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  mail_tls_config *cfg = tls_config();
  mail_conn_set_tls_config(mail_pop3_conn(p), cfg);
  mail_tls_config_free(cfg);
  ck_assert_int_eq(mail_pop3_set_auth(p, mail_test_env("MAIL_TEST_USER2"),
                                      mail_test_env("MAIL_TEST_PASS2")),
                   MAIL_OK);
  char url[128];
  snprintf(url, sizeof url, "pop3://[::1]:%u", port_of("MAIL_TEST_POP3_PORT", 12110));
  int rc = mail_pop3_connect_url(p, url);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_pop3_conn(p)));
  ck_assert(mail_conn_is_tls(mail_pop3_conn(p)));
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  ck_assert_str_eq(mail_sasl_mechanism(mail_pop3_sasl(p)), "SCRAM-SHA-256");
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);
}
END_TEST

START_TEST(test_wrong_password_and_no_ca)
{
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  mail_tls_config *cfg = tls_config();
  mail_conn_set_tls_config(mail_pop3_conn(p), cfg);
  mail_tls_config_free(cfg);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "wrong"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3S_PORT", 12995),
                                     MAIL_SECURITY_IMPLICIT_TLS),
                   MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_pop3_reply_resp_code_id(mail_pop3_last_reply(p)), MAIL_POP3_CODE_AUTH);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);

  /* Without our CA the server does not verify: no session, no login. */
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "alice-pw-1"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3_PORT", 12110),
                                     MAIL_SECURITY_STARTTLS),
                   MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_ERR_STATE);
  /* The same session connects again once it trusts our CA. */
  cfg = tls_config();
  mail_conn_set_tls_config(mail_pop3_conn(p), cfg);
  mail_tls_config_free(cfg);
  ck_assert_int_eq(mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3_PORT", 12110),
                                     MAIL_SECURITY_STARTTLS),
                   MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);
}
END_TEST

/* --------------------------------------------- SMTP in, POP3 out */

/* Send msg from alice to to over a connected session s, then quit. */
static void send_envelope(mail_smtp *s, const char *to, const char *msg)
{
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, mail_test_env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, to, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, msg, strlen(msg)), MAIL_OK);
  int rc = mail_smtp_send(s, e);
  ck_assert_msg(rc == MAIL_OK, "smtp send: %s", mail_strerror(rc));
  mail_smtp_quit(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
}

static void send_mail(const char *to, const char *msg)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  mail_tls_config *cfg = tls_config();
  mail_conn_set_tls_config(mail_smtp_conn(s), cfg);
  mail_tls_config_free(cfg);
  int rc = mail_smtp_connect(s, "localhost", port_of("MAIL_TEST_SMTP_PORT", 12525),
                             MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "smtp connect: %s", mail_strerror(rc));
  send_envelope(s, to, msg);
}

/* A short message holding token, delivered to alice through Dovecot's LMTP
 * socket: it is in her maildir when this returns (no queue in between). */
static void deliver_to_alice(const char *token)
{
  char msg[512];
  snprintf(msg, sizeof msg,
           "From: Alice <alice@libmail.test>\r\n"
           "To: Alice <alice@libmail.test>\r\n"
           "Subject: %s\r\n"
           "Message-ID: <%s@libmail.test>\r\n"
           "\r\n"
           "a message of the event-loop test's own\r\n",
           token, token);
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  char url[1024];
  snprintf(url, sizeof url, "lmtp://%s", mail_test_env("MAIL_TEST_LMTP_SOCKET"));
  int rc = mail_smtp_connect_url(s, url);
  ck_assert_msg(rc == MAIL_OK, "lmtp connect: %s", mail_strerror(rc));
  send_envelope(s, mail_test_env("MAIL_TEST_ADDR1"), msg);
}

/* Remove the file holding token from alice's maildir, as integration-smtp
 * and servers-smoke remove the messages they delivered while this program
 * runs: a POP3 session that counted it finds it expunged. */
static void expunge_behind_pop3(const char *token)
{
  char *c = NULL;
  size_t len;
  for (int tries = 0; tries < 10 && !c; tries++)
    c = mail_test_maildir_take(mail_test_env("MAIL_TEST_MAILDIR1"), token, &len);
  ck_assert_msg(c != NULL, "%s is not in alice's maildir", token);
  free(c);
}

/* Find the message whose headers hold token; 0 when not there (yet). */
static uint32_t find_message(mail_pop3 *p, const char *token, char *uid, size_t uid_cap)
{
  ck_assert_int_eq(mail_pop3_uidl(p), MAIL_OK);
  for (size_t i = mail_pop3_uidl_count(p); i-- > 0;) {
    uint32_t msg;
    const char *u;
    ck_assert_int_eq(mail_pop3_uidl_at(p, i, &msg, &u), MAIL_OK);
    char ucopy[80];
    snprintf(ucopy, sizeof ucopy, "%s", u);
    sink s = {0};
    /* integration-smtp removes its messages from bob's maildir while this
     * runs: one removed since login is refused, and is not ours. */
    int rc = mail_pop3_top(p, msg, 0, to_sink, &s);
    ck_assert_msg(rc == MAIL_OK || rc == MAIL_ERR_SERVER, "TOP %u: %s", msg, mail_strerror(rc));
    int hit = rc == MAIL_OK && s.data && memmem(s.data, s.len, token, strlen(token)) != NULL;
    free(s.data);
    if (hit) {
      snprintf(uid, uid_cap, "%s", ucopy);
      return msg;
    }
    /* TOP replaced the UIDL list? No: it is kept until the next UIDL. */
  }
  return 0;
}

START_TEST(test_smtp_to_pop3)
{
  const char *to = mail_test_env("MAIL_TEST_ADDR2");
  char token[64];
  snprintf(token, sizeof token, "pop3-it-%ld-%d", (long)time(NULL), (int)getpid());
  static char msg[16384];
  size_t o = (size_t)snprintf(msg, sizeof msg,
                              "From: Alice <alice@libmail.test>\r\n"
                              "To: Bob <bob@libmail.test>\r\n"
                              "Subject: %s\r\n"
                              "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                              "Message-ID: <%s@libmail.test>\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: text/plain; charset=us-ascii\r\n"
                              "\r\n"
                              "Dots at line starts must survive both stuffings:\r\n"
                              ".\r\n"
                              "..\r\n"
                              ".leading dot\r\n"
                              "..two leading dots\r\n"
                              "trailing dot.\r\n",
                              token, token);
  for (int i = 0; i < 200; i++)
    o += (size_t)snprintf(msg + o, sizeof msg - o, "line %03d of the body, padding padding\r\n", i);
  snprintf(msg + o, sizeof msg - o, ".\r\nthe end\r\n");
  send_mail(to, msg);

  /* Delivery is asynchronous: poll for up to 15 s. */
  char uid[80] = "";
  uint32_t n = 0;
  mail_pop3 *p = NULL;
  for (int tries = 0; tries < 60 && !n; tries++) {
    p = open_session("localhost", tries % 2, "bob", mail_test_env("MAIL_TEST_PASS2"), NULL);
    n = find_message(p, token, uid, sizeof uid);
    if (!n) {
      mail_pop3_quit(p, NULL);
      mail_pop3_free(p);
      p = NULL;
      usleep(250000);
    }
  }
  ck_assert_msg(n != 0, "the message never arrived");

  uint32_t count = 0;
  uint64_t total = 0, size = 0;
  ck_assert_int_eq(mail_pop3_stat(p, &count, &total), MAIL_OK);
  ck_assert_uint_ge(count, n);
  ck_assert_int_eq(mail_pop3_list_one(p, n, &size), MAIL_OK);
  ck_assert_int_eq(mail_pop3_list(p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_list_count(p), count);
  char uid1[80];
  ck_assert_int_eq(mail_pop3_uidl_one(p, n, uid1, sizeof uid1), MAIL_OK);
  ck_assert_str_eq(uid1, uid);

  sink s = {0};
  ck_assert_int_eq(mail_pop3_retr(p, n, to_sink, &s), MAIL_OK);
  ck_assert_int_eq(s.begins, 1);
  ck_assert_int_eq(s.ends, 1);
  ck_assert_uint_eq(s.len, size); /* LIST's size is the wire size with CRLF */
  size_t mlen = strlen(msg);
  ck_assert_uint_gt(s.len, mlen);
  /* Above the message: only the trace headers the servers added. */
  ck_assert_msg(memcmp(s.data + s.len - mlen, msg, mlen) == 0, "the message changed in transit");
  ck_assert(memcmp(s.data, "Return-Path:", 12) == 0 || memcmp(s.data, "Received:", 9) == 0 ||
            memcmp(s.data, "Delivered-To:", 13) == 0);
  ck_assert_ptr_null(memmem(s.data, s.len - mlen, "\r\n\r\n", 4));

  /* TOP: the headers and the first 3 body lines. */
  sink t = {0};
  ck_assert_int_eq(mail_pop3_top(p, n, 3, to_sink, &t), MAIL_OK);
  const char *hdr_end = strstr(msg, "\r\n\r\n") + 4;
  size_t want = (size_t)(s.len - mlen) + (size_t)(hdr_end - msg) +
                strlen("Dots at line starts must survive both stuffings:\r\n.\r\n..\r\n");
  ck_assert_uint_eq(t.len, want);
  ck_assert(memcmp(t.data, s.data, want) == 0);

  /* Pipelined RETR of every message: sizes match LIST. */
  ck_assert(mail_pop3_has_capability(p, "PIPELINING"));
  uint32_t *all = calloc(count, sizeof *all);
  for (uint32_t i = 0; i < count; i++)
    all[i] = i + 1;
  sink b = {0};
  int rc = mail_pop3_retr_many(p, all, count, to_sink, &b);
  if (rc == MAIL_OK) {
    ck_assert_uint_eq((uint64_t)b.len, total);
    ck_assert_int_eq(b.ends, (int)count);
  } else {
    /* Other test programs share this mailbox: a message another session
     * expunged meanwhile is refused (-ERR); everything else arrives. */
    ck_assert_int_eq(rc, MAIL_ERR_PARTIAL);
    int refused = 0;
    for (uint32_t i = 0; i < count; i++) {
      int st = mail_pop3_batch_status(p, i);
      ck_assert(st == MAIL_OK || st == MAIL_ERR_SERVER);
      refused += st != MAIL_OK;
    }
    ck_assert_int_eq(b.ends + refused, (int)count);
  }
  ck_assert_int_eq(mail_pop3_batch_status(p, n - 1), MAIL_OK);
  free(all);

  ck_assert_int_eq(mail_pop3_dele(p, n), MAIL_OK);
  ck_assert_int_eq(mail_pop3_dele(p, n), MAIL_ERR_SERVER); /* already deleted */
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1);
  mail_pop3_free(p);

  /* Gone after the commit. */
  p = open_session("localhost", 1, "bob", mail_test_env("MAIL_TEST_PASS2"), "PLAIN");
  ck_assert_int_eq(mail_pop3_uidl(p), MAIL_OK);
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    const char *u;
    mail_pop3_uidl_at(p, i, NULL, &u);
    ck_assert_str_ne(u, uid);
  }
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);
  free(s.data);
  free(t.data);
  free(b.data);
}
END_TEST

/* Event-loop use over a real socket and TLS: every call may return
 * MAIL_ERR_AGAIN; the caller polls the fd and calls the same function. */
static void wait_ready(mail_pop3 *p)
{
  mail_conn *c = mail_pop3_conn(p);
  struct pollfd pfd = {mail_conn_fd(c), 0, 0};
  int want = mail_conn_want(c);
  if (want & MAIL_WANT_READ)
    pfd.events |= POLLIN;
  if (want & MAIL_WANT_WRITE)
    pfd.events |= POLLOUT;
  int64_t ms = mail_conn_timeout_ms(c);
  ck_assert_int_ge(pfd.fd, 0);
  ck_assert_int_ge(poll(&pfd, 1, ms < 0 || ms > 10000 ? 10000 : (int)ms), 0);
}

/* rc = call, repeated while it answers MAIL_ERR_AGAIN. */
#define LOOP(rc, p, call)                                                      \
  do {                                                                         \
    int spins_ = 0;                                                            \
    while (((rc) = (call)) == MAIL_ERR_AGAIN) {                                \
      ck_assert_int_lt(++spins_, 100000);                                      \
      wait_ready(p);                                                           \
      again++;                                                                 \
    }                                                                          \
  } while (0)

/* The number of the message whose headers hold token, or 0 (event loop:
 * TOP n 0 from the newest down; a message someone else expunged is not
 * ours). */
static uint32_t find_own(mail_pop3 *p, uint32_t count, const char *token)
{
  long again = 0;
  for (uint32_t n = count; n > 0; n--) {
    sink s = {0};
    int rc;
    LOOP(rc, p, mail_pop3_top(p, n, 0, to_sink, &s));
    ck_assert(rc == MAIL_OK || rc == MAIL_ERR_SERVER);
    int hit = rc == MAIL_OK && s.data && memmem(s.data, s.len, token, strlen(token));
    free(s.data);
    if (hit)
      return n;
  }
  return 0;
}

/* RSET before QUIT: a DELE is undone and nothing is removed. The message
 * is the test's own: others in alice's mailbox come and go meanwhile. */
START_TEST(test_rset_keeps)
{
  char token[64];
  snprintf(token, sizeof token, "pop3-rset-%ld-%d", (long)time(NULL), (int)getpid());
  deliver_to_alice(token);
  mail_pop3 *p = open_session("localhost", 0, "alice", mail_test_env("MAIL_TEST_PASS1"), NULL);
  uint32_t count = 0;
  ck_assert_int_eq(mail_pop3_stat(p, &count, NULL), MAIL_OK);
  uint32_t n = find_own(p, count, token);
  ck_assert_uint_ne(n, 0);
  char uid[80];
  ck_assert_int_eq(mail_pop3_uidl_one(p, n, uid, sizeof uid), MAIL_OK);
  ck_assert_int_eq(mail_pop3_dele(p, n), MAIL_OK);
  ck_assert_int_eq(mail_pop3_rset(p), MAIL_OK);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);
  /* Still there after the QUIT; then taken away for good. */
  p = open_session("localhost", 1, "alice", mail_test_env("MAIL_TEST_PASS1"), NULL);
  ck_assert_int_eq(mail_pop3_uidl(p), MAIL_OK);
  uint32_t again = 0;
  for (size_t i = 0; i < mail_pop3_uidl_count(p) && !again; i++) {
    uint32_t msg;
    const char *u;
    ck_assert_int_eq(mail_pop3_uidl_at(p, i, &msg, &u), MAIL_OK);
    if (!strcmp(u, uid))
      again = msg;
  }
  ck_assert_msg(again != 0, "the message was removed despite RSET");
  ck_assert_int_eq(mail_pop3_dele(p, again), MAIL_OK);
  int committed = 0;
  ck_assert_int_eq(mail_pop3_quit(p, &committed), MAIL_OK);
  ck_assert_int_eq(committed, 1);
  mail_pop3_free(p);
}
END_TEST

/* Event-loop RETR over STARTTLS in alice's shared mailbox, whose other
 * messages come and go as other programs deliver and remove theirs: the
 * test retrieves everything the session counts, and what it asserts rests
 * on two messages of its own -- one kept, one removed behind the session
 * after LIST (what the other programs do to theirs) -- so the outcome is
 * known whatever else the mailbox holds. */
START_TEST(test_event_loop)
{
  long again = 0;
  char keep[64], gone[64];
  snprintf(keep, sizeof keep, "pop3-loop-keep-%ld-%d", (long)time(NULL), (int)getpid());
  snprintf(gone, sizeof gone, "pop3-loop-gone-%ld-%d", (long)time(NULL), (int)getpid());
  deliver_to_alice(keep);
  deliver_to_alice(gone);
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, NULL), MAIL_OK);
  mail_tls_config *cfg = tls_config();
  mail_conn_set_tls_config(mail_pop3_conn(p), cfg);
  mail_tls_config_free(cfg);
  mail_conn_set_nonblocking(mail_pop3_conn(p), 1);
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", mail_test_env("MAIL_TEST_PASS1")), MAIL_OK);
  int rc;
  LOOP(rc, p, mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3_PORT", 12110),
                                MAIL_SECURITY_STARTTLS));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(mail_conn_is_verified(mail_pop3_conn(p)));
  LOOP(rc, p, mail_pop3_auth(p));
  ck_assert_int_eq(rc, MAIL_OK);
  uint32_t count = 0;
  uint64_t total = 0;
  LOOP(rc, p, mail_pop3_stat(p, &count, &total));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, p, mail_pop3_list(p));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(mail_pop3_list_count(p), count);
  ck_assert_uint_ge(count, 2);
  uint32_t kept = find_own(p, count, keep), removed = find_own(p, count, gone);
  ck_assert_uint_ne(kept, 0);
  ck_assert_uint_ne(removed, 0);
  expunge_behind_pop3(gone);

  /* Pipelined RETR of every message counted: the removed one is refused,
   * the kept one arrives, and what arrives is what LIST announced. */
  uint32_t *all = calloc(count, sizeof *all);
  ck_assert_ptr_nonnull(all);
  for (uint32_t i = 0; i < count; i++)
    all[i] = i + 1;
  sink s = {0};
  LOOP(rc, p, mail_pop3_retr_many(p, all, count, to_sink, &s));
  ck_assert_msg(rc == MAIL_ERR_PARTIAL, "retr_many: %s (%d)", mail_strerror(rc), rc);
  ck_assert_int_eq(mail_pop3_batch_status(p, kept - 1), MAIL_OK);
  ck_assert_int_eq(mail_pop3_batch_status(p, removed - 1), MAIL_ERR_SERVER);
  uint64_t came = 0;
  int refused = 0;
  for (uint32_t i = 0; i < count; i++) {
    uint32_t msg = 0;
    uint64_t size = 0;
    ck_assert_int_eq(mail_pop3_list_at(p, i, &msg, &size), MAIL_OK);
    ck_assert_uint_eq(msg, i + 1);
    int st = mail_pop3_batch_status(p, i);
    ck_assert(st == MAIL_OK || st == MAIL_ERR_SERVER); /* others' messages come and go */
    if (st == MAIL_OK)
      came += size;
    else
      refused++;
  }
  ck_assert_int_eq(s.begins, s.ends);
  ck_assert_int_eq(s.ends + refused, (int)count);
  ck_assert_uint_eq((uint64_t)s.len, came);
  ck_assert_ptr_nonnull(memmem(s.data, s.len, keep, strlen(keep)));
  ck_assert_ptr_null(memmem(s.data, s.len, gone, strlen(gone)));
  free(all);
  free(s.data);

  /* Every message asked for is there: MAIL_OK, the size LIST gave. */
  uint64_t kept_size = 0;
  ck_assert_int_eq(mail_pop3_list_at(p, kept - 1, NULL, &kept_size), MAIL_OK);
  sink k = {0};
  LOOP(rc, p, mail_pop3_retr_many(p, &kept, 1, to_sink, &k));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(k.ends, 1);
  ck_assert_uint_eq((uint64_t)k.len, kept_size);
  free(k.data);

  /* The kept message goes with the commit: the mailbox stays small. */
  LOOP(rc, p, mail_pop3_dele(p, kept));
  ck_assert_int_eq(rc, MAIL_OK);
  int committed = 0;
  LOOP(rc, p, mail_pop3_quit(p, &committed));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(committed, 1);
  /* Not asserted: that a call returned MAIL_ERR_AGAIN. Whether a reply
   * is already there when the client reads is up to the scheduler (a
   * loaded machine may run the server between our write and our read
   * every time); the transcripts drive every operation through
   * MAIL_ERR_AGAIN deterministically, in event-loop and feed mode. */
  printf("event loop: %ld MAIL_ERR_AGAIN\n", again);
  mail_pop3_free(p);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("pop3-integration");
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_mechanisms);
  tcase_add_test(tc, test_wrong_password_each_mechanism);
  tcase_add_test(tc, test_auto_and_ipv6);
  tcase_add_test(tc, test_wrong_password_and_no_ca);
  tcase_add_test(tc, test_smtp_to_pop3);
  tcase_add_test(tc, test_rset_keeps);
  tcase_add_test(tc, test_event_loop);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

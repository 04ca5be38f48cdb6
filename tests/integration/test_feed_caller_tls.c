/*
 * Feed mode with the caller's own TLS (MAIL_FEED_CALLER_TLS) against the
 * real Postfix: the test owns the socket and runs OpenSSL itself, as an
 * asyncio or Go caller runs its own TLS stack, so libmail only ever sees
 * the plaintext. When the session needs TLS (at connect for smtps, after
 * the 220 to STARTTLS on submission) it asks with MAIL_WANT_TLS; the test
 * does the handshake on its socket, verifies the server as a careful
 * caller would, and answers with mail_conn_feed_tls_done(). Checked: a
 * verified link carries AUTH PLAIN and a 300 KB message that arrives byte
 * for byte; a link the caller could not verify takes no password; a
 * caller that refuses the server ends the connect with its status.
 *
 * Skips (77) when servers.env is missing, unless MAIL_TEST_REQUIRE_SERVERS=1.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <mail/smtp.h>

#include "core/conn_internal.h" /* mail_conn_is_open */
#include "maildir.h"
#include "servers_env.h"

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

/* The caller: its socket (non-blocking), its TLS once started, and what
 * it read but could not feed yet. */
typedef struct caller {
  mail_conn *conn;
  int fd;
  const char *name; /* the name the caller verifies */
  SSL_CTX *ctx;
  SSL *ssl;
  int verified;
  unsigned char in[16384];
  size_t in_off, in_len;
  size_t sent, received, rounds;
  char wire[4096]; /* the first plaintext the client sent, for the checks */
  size_t wire_len;
} caller;

static void wait_fd(int fd, short events)
{
  struct pollfd pf = {fd, events, 0};
  ck_assert_msg(poll(&pf, 1, 30000) == 1, "the server stalled");
}

static void caller_open(caller *k, mail_conn *c, const char *port_key, const char *name)
{
  memset(k, 0, sizeof *k);
  k->conn = c;
  k->name = name;
  k->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(k->fd, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(env(port_key)));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(k->fd, (struct sockaddr *)&sa, sizeof sa), 0);
  fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
}

static void caller_close(caller *k)
{
  if (k->ssl)
    SSL_free(k->ssl);
  if (k->ctx)
    SSL_CTX_free(k->ctx);
  close(k->fd);
}

/* OpenSSL's answer to a non-blocking call: wait for what it needs (1), or
 * the link is gone (0). */
static int tls_wait(caller *k, int ret)
{
  int e = SSL_get_error(k->ssl, ret);
  if (e == SSL_ERROR_WANT_READ)
    wait_fd(k->fd, POLLIN);
  else if (e == SSL_ERROR_WANT_WRITE)
    wait_fd(k->fd, POLLOUT);
  else
    return 0;
  return 1;
}

static void put(caller *k, const unsigned char *b, size_t n)
{
  for (size_t off = 0; off < n;) {
    if (k->ssl) {
      int w = SSL_write(k->ssl, b + off, (int)(n - off));
      if (w > 0)
        off += (size_t)w;
      else
        ck_assert_msg(tls_wait(k, w), "SSL_write failed");
    } else {
      ssize_t w = send(k->fd, b + off, n - off, MSG_NOSIGNAL);
      if (w > 0)
        off += (size_t)w;
      else
        ck_assert_msg(w < 0 && errno == EAGAIN, "send failed");
      if (w < 0)
        wait_fd(k->fd, POLLOUT);
    }
  }
}

/* Send what the connection wants sent (plaintext: inside the caller's
 * TLS once it is up). */
static void caller_drain(caller *k)
{
  unsigned char buf[4096];
  size_t n;
  while (mail_conn_drain(k->conn, buf, sizeof buf, &n) == MAIL_OK && n) {
    size_t keep = sizeof k->wire - k->wire_len;
    memcpy(k->wire + k->wire_len, buf, n < keep ? n : keep);
    k->wire_len += n < keep ? n : keep;
    put(k, buf, n);
    k->sent += n;
  }
}

/* MAIL_WANT_TLS: the caller's handshake, its own verification (the CA of
 * the test servers, the name it was given), and the answer. refuse: a
 * caller that ends the connection when verification fails (else it
 * reports the link as unverified and lets the session decide). */
static void caller_start_tls(caller *k, int refuse)
{
  /* Nothing the server sent in the clear may still wait to be fed. */
  ck_assert_uint_eq(k->in_off, k->in_len);
  k->ctx = SSL_CTX_new(TLS_client_method());
  ck_assert_ptr_nonnull(k->ctx);
  ck_assert_int_eq(SSL_CTX_load_verify_locations(k->ctx, env("MAIL_TEST_CA"), NULL), 1);
  SSL_CTX_set_verify(k->ctx, SSL_VERIFY_NONE, NULL); /* judged below, by the caller */
  k->ssl = SSL_new(k->ctx);
  ck_assert_ptr_nonnull(k->ssl);
  SSL_set_fd(k->ssl, k->fd);
  SSL_set_tlsext_host_name(k->ssl, k->name);
  ck_assert_int_eq(SSL_set1_host(k->ssl, k->name), 1);
  int r;
  while ((r = SSL_connect(k->ssl)) != 1)
    ck_assert_msg(tls_wait(k, r), "the caller's handshake failed");
  k->verified = SSL_get_verify_result(k->ssl) == X509_V_OK;
  if (k->verified && SSL_version(k->ssl) == TLS1_3_VERSION) {
    unsigned char cb[32];
    ck_assert_int_eq(SSL_export_keying_material(k->ssl, cb, sizeof cb, "EXPORTER-Channel-Binding",
                                                24, NULL, 0, 0),
                     1);
    ck_assert_int_eq(mail_conn_feed_set_channel_binding(k->conn, MAIL_CB_TLS_EXPORTER, cb, 32),
                     MAIL_OK);
  }
  int status = k->verified || !refuse ? MAIL_OK : MAIL_ERR_TLS_VERIFY;
  ck_assert_int_eq(mail_conn_feed_tls_done(k->conn, status, k->verified), MAIL_OK);
  k->wire_len = 0; /* from here on, what went inside the TLS */
}

/* Read from the server (through the caller's TLS once it is up): 1 bytes
 * in k->in, 0 nothing yet, -1 end of stream. */
static int caller_read(caller *k)
{
  if (k->ssl) {
    int r = SSL_read(k->ssl, k->in, sizeof k->in);
    if (r > 0) {
      k->in_off = 0;
      k->in_len = (size_t)r;
      return 1;
    }
    int e = SSL_get_error(k->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
      return 0;
    return -1;
  }
  ssize_t r = recv(k->fd, k->in, sizeof k->in, 0);
  if (r > 0) {
    k->in_off = 0;
    k->in_len = (size_t)r;
    return 1;
  }
  return r == 0 ? -1 : 0;
}

/* One step after MAIL_ERR_AGAIN. */
static void caller_step(caller *k, int refuse)
{
  ck_assert_int_lt(++k->rounds, 100000);
  ck_assert_int_eq(mail_conn_fd(k->conn), -1);
  caller_drain(k);
  int want = mail_conn_want(k->conn);
  if (want & MAIL_WANT_TLS) {
    ck_assert_ptr_null(k->ssl); /* asked once */
    caller_start_tls(k, refuse);
    return;
  }
  if (!(want & MAIL_WANT_READ))
    return;
  if (k->in_off == k->in_len) {
    if (!(k->ssl && SSL_pending(k->ssl) > 0)) {
      struct pollfd pf = {k->fd, POLLIN, 0};
      int64_t ms = mail_conn_timeout_ms(k->conn);
      ck_assert(ms > 0);
      if (poll(&pf, 1, ms > 10000 ? 10000 : (int)ms) != 1)
        return; /* the operation sees its deadline when called again */
    }
    int r = caller_read(k);
    if (r < 0) {
      ck_assert_int_eq(mail_conn_feed_eof(k->conn), MAIL_OK);
      return;
    }
    if (r == 0)
      return;
    k->received += k->in_len;
  }
  size_t taken = 0;
  int rc = mail_conn_feed(k->conn, k->in + k->in_off, k->in_len - k->in_off, &taken);
  ck_assert(rc == MAIL_OK || rc == MAIL_ERR_AGAIN);
  k->in_off += taken;
}

#define RUN(k, refuse, expr)                           \
  ({                                                   \
    int rc_;                                           \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN)           \
      caller_step(k, refuse);                          \
    caller_drain(k);                                   \
    rc_;                                               \
  })

static mail_smtp *caller_session(void)
{
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 20000), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 20000), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_CALLER_TLS), MAIL_OK);
  return s;
}

/* A session in caller-TLS feed mode and the caller's socket to the
 * service of port_key, connected as name (which the caller verifies):
 * the connect's status. */
static int caller_connect(mail_smtp **s, caller *k, const char *port_key, const char *name,
                          int security, int refuse)
{
  *s = caller_session();
  caller_open(k, mail_smtp_conn(*s), port_key, name);
  return RUN(k, refuse, mail_smtp_connect(*s, name, (unsigned)atoi(env(port_key)), security));
}

/* A message of about 300 KB with a unique Message-ID (many TLS records,
 * many drains), dot-stuffing needed on some lines. */
static char *big_message(char *token, size_t token_cap, size_t *len)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(token, token_cap, "feed-caller-tls-%ld-%ld-%ld", (long)getpid(), (long)ts.tv_sec,
           ts.tv_nsec);
  size_t cap = 320000, n = 0;
  char *m = malloc(cap);
  ck_assert_ptr_nonnull(m);
  n += (size_t)snprintf(m, cap,
                        "From: alice@libmail.test\r\nTo: bob@libmail.test\r\n"
                        "Subject: %s\r\nMessage-ID: <%s@libmail.test>\r\n\r\n",
                        token, token);
  for (int i = 0; n + 80 < cap - 100; i++)
    n += (size_t)snprintf(m + n, cap - n, "%sline %06d of the caller's own TLS, plaintext to us\r\n",
                          i % 97 == 0 ? "." : "", i);
  *len = n;
  return m;
}

START_TEST(starttls_submission_auth_and_send)
{
  mail_smtp *s;
  caller k;
  int rc = caller_connect(&s, &k, "MAIL_TEST_SUBMISSION_PORT", "localhost", MAIL_SECURITY_STARTTLS, 1);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_ptr_nonnull(k.ssl);
  ck_assert(k.verified);
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  /* The session said EHLO again inside the TLS (what came before is void). */
  ck_assert_msg(k.wire_len >= 5 && !memcmp(k.wire, "EHLO ", 5), "first inside TLS: %.*s",
                (int)(k.wire_len < 40 ? k.wire_len : 40), k.wire);
  if (SSL_version(k.ssl) == TLS1_3_VERSION) {
    unsigned char cb[64];
    size_t n = 0;
    ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &n), MAIL_OK);
    ck_assert_uint_eq(n, 32);
  }
  ck_assert_int_eq(mail_smtp_set_auth(s, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_mechanisms(mail_smtp_sasl(s), "PLAIN"), MAIL_OK);
  rc = RUN(&k, 1, mail_smtp_auth(s));
  ck_assert_msg(rc == MAIL_OK, "AUTH PLAIN: %s: %s", mail_strerror(rc), mail_conn_last_error(c));

  char token[96];
  size_t len;
  char *msg = big_message(token, sizeof token, &len);
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, env("MAIL_TEST_ADDR2"), NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, msg, len), MAIL_OK);
  size_t before = k.sent;
  rc = RUN(&k, 1, mail_smtp_send(s, e));
  ck_assert_msg(rc == MAIL_OK, "send: %s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_uint_gt(k.sent - before, len); /* the body and its dot-stuffing went out */
  ck_assert_int_eq(RUN(&k, 1, mail_smtp_quit(s)), MAIL_OK);
  printf("caller TLS, submission: %s, %zu bytes out, %zu in, %zu rounds\n", SSL_get_version(k.ssl),
         k.sent, k.received, k.rounds);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  caller_close(&k);

  /* Delivered through Postfix and Dovecot's LMTP: the same bytes. */
  char *got = NULL;
  size_t got_len = 0;
  for (int tries = 0; tries < 600 && !got; tries++) {
    got = mail_test_maildir_take(env("MAIL_TEST_MAILDIR2"), token, &got_len);
    if (!got)
      usleep(100000);
  }
  ck_assert_msg(got != NULL, "message %s not delivered to bob", token);
  size_t body_at = strstr(msg, "\r\n\r\n") - msg + 4, o = 0;
  for (size_t i = body_at; i < len; i++) /* the maildir keeps LF endings */
    if (msg[i] != '\r')
      msg[o++] = msg[i];
  char *body = strstr(got, "\n\n");
  ck_assert_ptr_nonnull(body);
  body += 2;
  ck_assert_uint_eq(got_len - (size_t)(body - got), o);
  ck_assert(!memcmp(body, msg, o));
  free(got);
  free(msg);
}
END_TEST

START_TEST(implicit_tls_smtps)
{
  mail_smtp *s;
  caller k;
  int rc = caller_connect(&s, &k, "MAIL_TEST_SMTPS_PORT", "localhost", MAIL_SECURITY_IMPLICIT_TLS, 1);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  /* TLS first: the greeting itself came inside it. */
  ck_assert_ptr_nonnull(k.ssl);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  ck_assert_int_eq(RUN(&k, 1, mail_smtp_noop(s)), MAIL_OK);
  ck_assert_int_eq(RUN(&k, 1, mail_smtp_quit(s)), MAIL_OK);
  mail_smtp_free(s);
  caller_close(&k);
}
END_TEST

/* The caller's TLS is up but it could not verify the name (the
 * certificate is for localhost): the session is not verified, and so it
 * does not send the password (PLAIN would need a verified link). */
START_TEST(unverified_link_takes_no_password)
{
  mail_smtp *s;
  caller k;
  int rc = caller_connect(&s, &k, "MAIL_TEST_SUBMISSION_PORT", "mail.wrong.test",
                          MAIL_SECURITY_STARTTLS, 0);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert(!k.verified);
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 0);
  ck_assert_int_eq(mail_smtp_set_auth(s, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_mechanisms(mail_smtp_sasl(s), "PLAIN"), MAIL_OK);
  size_t before = k.wire_len;
  rc = RUN(&k, 0, mail_smtp_auth(s));
  ck_assert_msg(rc == MAIL_ERR_INSECURE, "AUTH PLAIN over an unverified link: %s",
                mail_strerror(rc));
  ck_assert_ptr_null(memmem(k.wire + before, k.wire_len - before, "AUTH", 4));
  ck_assert_ptr_null(strstr(mail_conn_last_error(c), env("MAIL_TEST_PASS1")));
  mail_smtp_free(s);
  caller_close(&k);
}
END_TEST

/* A caller that refuses the server: the connect fails with its status,
 * the connection is closed, and nothing more is sent. */
START_TEST(caller_refuses_the_server)
{
  for (int starttls = 0; starttls < 2; starttls++) {
    const char *key = starttls ? "MAIL_TEST_SUBMISSION_PORT" : "MAIL_TEST_SMTPS_PORT";
    mail_smtp *s;
    caller k;
    int rc = caller_connect(&s, &k, key, "mail.wrong.test",
                            starttls ? MAIL_SECURITY_STARTTLS : MAIL_SECURITY_IMPLICIT_TLS, 1);
    mail_conn *c = mail_smtp_conn(s);
    ck_assert_msg(rc == MAIL_ERR_TLS_VERIFY, "%s: got %s: %s", key, mail_strerror(rc),
                  mail_conn_last_error(c));
    ck_assert_int_eq(mail_conn_is_open(c), 0);
    ck_assert_uint_eq(k.wire_len, 0);
    mail_smtp_free(s);
    caller_close(&k);
  }
}
END_TEST

int main(void)
{
  mail_test_require_servers(); /* exits 77 (skip) when they are not up */
  Suite *s = suite_create("feed_caller_tls");
  TCase *tc = tcase_create("postfix");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, starttls_submission_auth_and_send);
  tcase_add_test(tc, implicit_tls_smtps);
  tcase_add_test(tc, unverified_link_takes_no_password);
  tcase_add_test(tc, caller_refuses_the_server);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

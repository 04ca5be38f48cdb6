/*
 * TLS and STARTTLS against the real servers of tests/servers (Postfix and
 * Dovecot on loopback, certificate from a private CA for localhost,
 * 127.0.0.1 and ::1), plus a scripted server in this file that injects
 * bytes after its STARTTLS go-ahead (real servers never do that).
 *
 * Skips (77) when servers.env is missing, unless MAIL_TEST_REQUIRE_SERVERS=1.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/base64.h"
#include "core/conn_internal.h"
#include "servers_env.h"

/* ------------------------------------------------------------ servers.env */

/* The value of KEY in servers.env, or fail the test. */
static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

static unsigned int port(const char *key) { return (unsigned int)atoi(env(key)); }

/* ------------------------------------------------------------ a line engine */

/* Reads one reply: one line, or (SMTP) lines until "NNN ", or (POP3
 * multi-line) until ".", or (IMAP) until the tagged line. */
typedef struct engine {
  mail_conn *conn;
  int mode; /* 0 one line, 1 SMTP reply, 2 dot-terminated, 3 tagged */
  const char *tag;
  char first[512];
  char last[512];
  int lines;
} engine;

static int advance(void *p)
{
  engine *e = p;
  mail_reader *r = mail_conn_reader(e->conn);
  for (;;) {
    const char *line;
    size_t len;
    int rc = mail_reader_line(r, &line, &len, NULL);
    if (rc)
      return rc;
    size_t n = len < sizeof e->last - 1 ? len : sizeof e->last - 1;
    memcpy(e->last, line, n);
    e->last[n] = 0;
    if (e->lines++ == 0)
      memcpy(e->first, e->last, n + 1);
    int done = e->mode == 0 || (e->mode == 1 && len >= 4 && line[3] == ' ') ||
               (e->mode == 2 && len == 1 && line[0] == '.') ||
               (e->mode == 3 && len > strlen(e->tag) && strncmp(line, e->tag, strlen(e->tag)) == 0);
    if (done)
      return MAIL_OK;
  }
}

/* Send cmd (may be NULL) and read the reply; returns the run status. */
static int talk(engine *e, mail_conn *c, const char *cmd, int mode, const char *tag)
{
  memset(e, 0, sizeof *e);
  e->conn = c;
  e->mode = mode;
  e->tag = tag;
  if (cmd)
    ck_assert_int_eq(mail_conn_send(c, cmd, strlen(cmd)), MAIL_OK);
  return mail_conn_run(c, advance, e);
}

static mail_conn *new_conn(mail_tls_config *cfg)
{
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 10000), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
  if (cfg)
    ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  return c;
}

static mail_tls_config *ca_config(void)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, env("MAIL_TEST_CA")), MAIL_OK);
  return cfg;
}

/* base64 SHA-256 of the SubjectPublicKeyInfo of a PEM certificate file. */
static void pin_of(const char *path, char out[64])
{
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  ck_assert_ptr_nonnull(x);
  unsigned char *spki = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  unsigned char d[32];
  unsigned int dl = 0;
  ck_assert_int_eq(EVP_Digest(spki, (size_t)n, d, &dl, EVP_sha256(), NULL), 1);
  OPENSSL_free(spki);
  X509_free(x);
  out[mail_b64_encode(d, 32, out)] = 0;
}

/* Connect with implicit TLS and read the greeting; returns the status. */
static int greet_tls(mail_conn *c, const char *host, unsigned int p, const char *expect)
{
  int rc = mail_conn_connect(c, host, p, 1);
  if (rc)
    return rc;
  engine e;
  rc = talk(&e, c, NULL, strncmp(expect, "220", 3) == 0 ? 1 : 0, NULL);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_msg(strncmp(e.first, expect, strlen(expect)) == 0, "greeting %s", e.first);
  return MAIL_OK;
}

/* ------------------------------------------------------------ implicit TLS */

START_TEST(implicit_tls_verified)
{
  static const struct {
    const char *port, *greeting;
  } ports[] = {{"MAIL_TEST_SMTPS_PORT", "220"}, {"MAIL_TEST_IMAPS_PORT", "* OK"},
               {"MAIL_TEST_POP3S_PORT", "+OK"}};
  mail_tls_config *cfg = ca_config();
  for (size_t i = 0; i < 3; i++) {
    mail_conn *c = new_conn(cfg);
    ck_assert_int_eq(greet_tls(c, "localhost", port(ports[i].port), ports[i].greeting), MAIL_OK);
    ck_assert_int_eq(mail_conn_is_tls(c), 1);
    ck_assert_int_eq(mail_conn_is_verified(c), 1);
    ck_assert_ptr_nonnull(mail_conn_tls_version(c));
    ck_assert_ptr_nonnull(mail_conn_tls_cipher(c));
    ck_assert_ptr_null(mail_conn_verify_error(c));
    mail_conn_free(c);
  }
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(implicit_tls_without_ca_fails)
{
  /* Default configuration: the system store does not know our CA. */
  mail_conn *c = new_conn(NULL);
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), 1), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(mail_conn_is_verified(c), 0);
  const char *why = mail_conn_verify_error(c);
  ck_assert_ptr_nonnull(why);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), why));
  /* The refused certificate stays available. */
  const unsigned char *der;
  size_t len;
  ck_assert_int_eq(mail_conn_peer_certificate(c, &der, &len), MAIL_OK);
  ck_assert_uint_gt(len, 100);
  mail_conn_free(c);
}
END_TEST

/* The one error string names the certificate (subject, issuer) and the
 * trust store it was checked against. */
START_TEST(verify_error_names_certificate_and_store)
{
  static const char names[] =
    "(subject CN=localhost,O=libmail tests, issuer CN=libmail test CA,O=libmail tests)";
  char want[600];
  mail_conn *c = new_conn(NULL); /* the system store */
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_SMTPS_PORT"), 1),
                   MAIL_ERR_TLS_VERIFY);
  snprintf(want, sizeof want,
           "TLS: certificate for localhost %s not trusted by the system CA store (%s)", names,
           mail_conn_verify_error(c));
  ck_assert_str_eq(mail_conn_last_error(c), want);
  ck_assert_str_eq(mail_conn_verify_error(c), "unable to get local issuer certificate");
  mail_conn_free(c);

  /* A CA file that does not hold our CA (the server's own certificate). */
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, env("MAIL_TEST_SERVER_CERT")), MAIL_OK);
  c = new_conn(cfg);
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_POP3S_PORT"), 1),
                   MAIL_ERR_TLS_VERIFY);
  snprintf(want, sizeof want, "TLS: certificate for localhost %s not trusted by CA file %s (%s)",
           names, env("MAIL_TEST_SERVER_CERT"), mail_conn_verify_error(c));
  ck_assert_str_eq(mail_conn_last_error(c), want);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(implicit_tls_wrong_name_fails)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, "wrong.example"), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port("MAIL_TEST_SMTPS_PORT"), 1), MAIL_ERR_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(mail_conn_verify_error(c), "wrong.example"));
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "wrong.example"));
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(implicit_tls_by_ip)
{
  mail_tls_config *cfg = ca_config();
  const char *hosts[] = {env("MAIL_TEST_HOST"), env("MAIL_TEST_HOST6")};
  for (size_t i = 0; i < 2; i++) {
    mail_conn *c = new_conn(cfg);
    ck_assert_int_eq(greet_tls(c, hosts[i], port("MAIL_TEST_POP3S_PORT"), "+OK"), MAIL_OK);
    ck_assert_int_eq(mail_conn_is_verified(c), 1);
    mail_conn_free(c);
  }
  mail_tls_config_free(cfg);
}
END_TEST

/* Event-loop mode: connect, TLS handshake and greeting driven by poll(). */
static void wait_ready(mail_conn *c)
{
  int want = mail_conn_want(c);
  ck_assert_int_ne(want, 0);
  struct pollfd p = {mail_conn_fd(c), 0, 0};
  ck_assert_int_ge(p.fd, 0);
  if (want & MAIL_WANT_READ)
    p.events |= POLLIN;
  if (want & MAIL_WANT_WRITE)
    p.events |= POLLOUT;
  int64_t ms = mail_conn_timeout_ms(c);
  ck_assert_int_ge(poll(&p, 1, ms < 0 || ms > 10000 ? 10000 : (int)ms), 0);
}

START_TEST(implicit_tls_nonblocking)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  mail_conn_set_nonblocking(c, 1);
  int rc, rounds = 0;
  while ((rc = mail_conn_connect(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), 1)) == MAIL_ERR_AGAIN &&
         rounds++ < 1000)
    wait_ready(c);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_gt(rounds, 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  engine e;
  memset(&e, 0, sizeof e);
  e.conn = c;
  rounds = 0;
  while ((rc = mail_conn_run(c, advance, &e)) == MAIL_ERR_AGAIN && rounds++ < 1000)
    wait_ready(c);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "* OK", 4), 0);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ STARTTLS */

START_TEST(starttls_smtp)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  engine e;
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_SMTP_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, NULL, 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "220", 3), 0);
  ck_assert_int_eq(talk(&e, c, "EHLO client.libmail.test\r\n", 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "250 ", 4), 0);
  ck_assert_int_eq(talk(&e, c, "STARTTLS\r\n", 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "220", 3), 0);
  ck_assert_int_eq(mail_conn_is_tls(c), 0);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, "EHLO client.libmail.test\r\n", 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "250 ", 4), 0);
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  ck_assert_int_eq(talk(&e, c, "QUIT\r\n", 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "221", 3), 0);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(starttls_pop3)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  engine e;
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_POP3_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, NULL, 0, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "+OK", 3), 0);
  ck_assert_int_eq(talk(&e, c, "STLS\r\n", 0, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "+OK", 3), 0);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, "CAPA\r\n", 2, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "+OK", 3), 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(starttls_imap)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  engine e;
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_IMAP_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, NULL, 0, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.first, "* OK", 4), 0);
  ck_assert_int_eq(talk(&e, c, "a1 STARTTLS\r\n", 3, "a1 "), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "a1 OK", 5), 0);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, "a2 CAPABILITY\r\n", 3, "a2 "), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "a2 OK", 5), 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ pins, callback */

START_TEST(pins)
{
  char pin[64];
  pin_of(env("MAIL_TEST_SERVER_CERT"), pin);
  const char *wrong = "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  /* CA and a matching pin. */
  mail_tls_config *cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, pin), MAIL_OK);
  mail_conn *c = new_conn(cfg);
  ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), "* OK"), MAIL_OK);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
  /* CA and a pin that does not match. */
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, wrong), MAIL_OK);
  c = new_conn(cfg);
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), 1), MAIL_ERR_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(mail_conn_verify_error(c), "pin"));
  mail_conn_free(c);
  mail_tls_config_free(cfg);
  /* Pin only, no CA: accepted; the name is still checked. */
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_pin_only(cfg, 1), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, pin), MAIL_OK);
  c = new_conn(cfg);
  ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_POP3S_PORT"), "+OK"), MAIL_OK);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  mail_conn_free(c);
  c = new_conn(cfg);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, "wrong.example"), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port("MAIL_TEST_POP3S_PORT"), 1), MAIL_ERR_TLS_VERIFY);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

typedef struct tofu {
  int calls, answer, preverify;
  unsigned char der[4096];
  size_t der_len;
} tofu;

static int tofu_cb(void *user, int preverify_ok, const char *reason, const unsigned char *der,
                   size_t der_len, const char *host)
{
  (void)reason;
  (void)host;
  tofu *t = user;
  t->calls++;
  t->preverify = preverify_ok;
  if (t->der_len == 0 && der_len <= sizeof t->der) {
    memcpy(t->der, der, der_len); /* first use: remember */
    t->der_len = der_len;
    return t->answer;
  }
  return t->answer && der_len == t->der_len && memcmp(der, t->der, der_len) == 0;
}

START_TEST(verify_callback_tofu)
{
  tofu t = {0};
  t.answer = 1;
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_verify_callback(cfg, tofu_cb, &t), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_session_resumption(cfg, 0), MAIL_OK);
  for (int i = 0; i < 2; i++) {
    mail_conn *c = new_conn(cfg);
    ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_SMTPS_PORT"), "220"), MAIL_OK);
    ck_assert_int_eq(mail_conn_is_verified(c), 1);
    mail_conn_free(c);
  }
  ck_assert_int_eq(t.calls, 2);
  ck_assert_int_eq(t.preverify, 0);
  /* Refusing. */
  t.answer = 0;
  mail_conn *c = new_conn(cfg);
  ck_assert_int_eq(mail_conn_connect(c, "localhost", port("MAIL_TEST_SMTPS_PORT"), 1), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(t.calls, 3);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ resumption, channel binding */

START_TEST(session_resumption)
{
  static const struct {
    const char *port, *greeting;
  } ports[] = {{"MAIL_TEST_SMTPS_PORT", "220"}, {"MAIL_TEST_IMAPS_PORT", "* OK"},
               {"MAIL_TEST_POP3S_PORT", "+OK"}};
  mail_tls_config *cfg = ca_config();
  int resumed = 0;
  for (size_t i = 0; i < 3; i++) {
    for (int round = 0; round < 2; round++) {
      mail_conn *c = new_conn(cfg);
      ck_assert_int_eq(greet_tls(c, "localhost", port(ports[i].port), ports[i].greeting), MAIL_OK);
      if (round == 0)
        ck_assert_int_eq(mail_conn_tls_resumed(c), 0);
      else if (mail_conn_tls_resumed(c)) {
        resumed++;
        ck_assert_int_eq(mail_conn_is_verified(c), 1);
      } else {
        fprintf(stderr, "note: %s did not resume the session\n", ports[i].port);
      }
      mail_conn_free(c);
    }
  }
  /* Postfix resumes (tickets); Dovecot may not: at least one must. */
  ck_assert_int_ge(resumed, 1);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(channel_binding)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), "* OK"), MAIL_OK);
  unsigned char cb[64], cb2[64], want[64];
  size_t len = 0;
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len), MAIL_OK);
  ck_assert_uint_eq(len, 32);
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb2, sizeof cb2, &len), MAIL_OK);
  ck_assert_int_eq(memcmp(cb, cb2, 32), 0);
  const unsigned char *der;
  size_t der_len;
  ck_assert_int_eq(mail_conn_peer_certificate(c, &der, &der_len), MAIL_OK);
  unsigned int wl = 0;
  ck_assert_int_eq(EVP_Digest(der, der_len, want, &wl, EVP_sha256(), NULL), 1);
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_SERVER_END_POINT, cb, sizeof cb, &len), MAIL_OK);
  ck_assert_uint_eq(len, 32);
  ck_assert_int_eq(memcmp(cb, want, 32), 0);
  mail_conn_free(c);
  /* Another connection has another exporter value. */
  c = new_conn(cfg);
  ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_IMAPS_PORT"), "* OK"), MAIL_OK);
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len), MAIL_OK);
  ck_assert_int_ne(memcmp(cb, cb2, 32), 0);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

/* Writing over TLS to a server that has gone must give an error, never
 * SIGPIPE (the TLS layer writes through the TCP layer's MSG_NOSIGNAL). */
START_TEST(no_sigpipe_after_server_close)
{
  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  engine e;
  ck_assert_int_eq(greet_tls(c, "localhost", port("MAIL_TEST_SMTPS_PORT"), "220"), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, "QUIT\r\n", 1, NULL), MAIL_OK);
  ck_assert_int_eq(strncmp(e.last, "221", 3), 0);
  usleep(200 * 1000); /* let the server close its end */
  static char big[64 * 1024];
  memset(big, 'x', sizeof big);
  int rc = MAIL_OK;
  for (int i = 0; i < 4 && rc == MAIL_OK; i++) {
    rc = mail_conn_send(c, big, sizeof big);
    if (rc == MAIL_OK)
      rc = talk(&e, c, "\r\n", 1, NULL);
  }
  ck_assert(mail_status_is_fatal(rc) || rc == MAIL_ERR_STATE);
  mail_conn_free(c);
  mail_tls_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ STARTTLS injection */

typedef struct injector {
  int listen_fd;
  unsigned int port;
  size_t after_go_ahead; /* bytes the client sent after the go-ahead */
  int saw_starttls;
} injector;

static int read_line(int fd, char *buf, size_t cap)
{
  size_t n = 0;
  while (n + 1 < cap) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1)
      return -1;
    ssize_t r = recv(fd, buf + n, 1, 0);
    if (r <= 0)
      return -1;
    if (buf[n++] == '\n')
      break;
  }
  buf[n] = 0;
  return (int)n;
}

static void *injector_run(void *arg)
{
  injector *in = arg;
  int fd = accept(in->listen_fd, NULL, NULL);
  if (fd < 0)
    return NULL;
  char line[256];
  const char greet[] = "220 injector ESMTP\r\n";
  if (send(fd, greet, sizeof greet - 1, MSG_NOSIGNAL) < 0)
    goto out;
  if (read_line(fd, line, sizeof line) <= 0 || strncmp(line, "STARTTLS", 8) != 0)
    goto out;
  in->saw_starttls = 1;
  /* The attack: the go-ahead and a forged response in ONE write. */
  const char evil[] = "220 go ahead\r\n250-evil injected\r\n250 AUTH PLAIN\r\n";
  if (send(fd, evil, sizeof evil - 1, MSG_NOSIGNAL) < 0)
    goto out;
  /* Count whatever the client still sends (a ClientHello would be a bug)
   * until it closes. */
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 5000) != 1)
      break;
    char sink[512];
    ssize_t r = recv(fd, sink, sizeof sink, 0);
    if (r <= 0)
      break;
    in->after_go_ahead += (size_t)r;
  }
out:
  close(fd);
  return NULL;
}

START_TEST(starttls_injection)
{
  injector in = {0};
  in.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(in.listen_fd, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(in.listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
  ck_assert_int_eq(listen(in.listen_fd, 1), 0);
  socklen_t sl = sizeof sa;
  ck_assert_int_eq(getsockname(in.listen_fd, (struct sockaddr *)&sa, &sl), 0);
  in.port = ntohs(sa.sin_port);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, injector_run, &in), 0);

  mail_tls_config *cfg = ca_config();
  mail_conn *c = new_conn(cfg);
  engine e;
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", in.port, 0), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, NULL, 1, NULL), MAIL_OK);
  ck_assert_int_eq(talk(&e, c, "STARTTLS\r\n", 0, NULL), MAIL_OK);
  ck_assert_str_eq(e.first, "220 go ahead");
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_ERR_STARTTLS_INJECTION);
  ck_assert_int_eq(mail_conn_is_tls(c), 0);
  ck_assert_str_ne(mail_conn_last_error(c), "");
  /* The connection is closed: nothing more reaches the server, not even
   * a TLS ClientHello. */
  if (mail_conn_send(c, "EHLO x\r\n", 8) == MAIL_OK)
    ck_assert_int_ne(mail_conn_run(c, advance, &e), MAIL_OK);
  mail_conn_free(c);
  pthread_join(th, NULL);
  close(in.listen_fd);
  ck_assert_int_eq(in.saw_starttls, 1);
  ck_assert_uint_eq(in.after_go_ahead, 0);
  mail_tls_config_free(cfg);
}
END_TEST

static Suite *tls_suite(void)
{
  Suite *s = suite_create("tls-integration");
  TCase *c = tcase_create("servers");
  tcase_set_timeout(c, 60);
  tcase_add_test(c, implicit_tls_verified);
  tcase_add_test(c, implicit_tls_without_ca_fails);
  tcase_add_test(c, implicit_tls_wrong_name_fails);
  tcase_add_test(c, implicit_tls_by_ip);
  tcase_add_test(c, implicit_tls_nonblocking);
  tcase_add_test(c, starttls_smtp);
  tcase_add_test(c, starttls_pop3);
  tcase_add_test(c, starttls_imap);
  tcase_add_test(c, pins);
  tcase_add_test(c, verify_callback_tofu);
  tcase_add_test(c, verify_error_names_certificate_and_store);
  tcase_add_test(c, session_resumption);
  tcase_add_test(c, channel_binding);
  tcase_add_test(c, starttls_injection);
  tcase_add_test(c, no_sigpipe_after_server_close);
  suite_add_tcase(s, c);
  return s;
}

int main(void)
{
  mail_test_require_servers(); /* exits 77 (skip) when they are not up */
  SRunner *sr = srunner_create(tls_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

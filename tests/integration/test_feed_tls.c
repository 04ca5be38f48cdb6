/*
 * Feed mode with libmail's TLS against the real Postfix: the test owns the
 * socket and pumps bytes between it and a connection that has none
 * (mail_conn_set_feed), as an asyncio or Go caller would. Implicit TLS
 * (smtps) and STARTTLS (submission) verify the server as over a socket,
 * and a wrong host name is still refused. The same pump carries an IMAP
 * session with the real Dovecot (IMAPS and STARTTLS, login, SELECT, a
 * FETCH of every message's size, LOGOUT) when the build has IMAP.
 *
 * Skips (77) when servers.env is missing, unless MAIL_TEST_REQUIRE_SERVERS=1.
 */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <mail/smtp.h>
#if MAIL_HAVE_IMAP
#include <mail/imap.h>
#endif

#include "core/conn_internal.h" /* mail_conn_is_open */
#include "servers_env.h"

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

/* The caller's side: its socket and what it read but could not feed yet. */
typedef struct pump {
  mail_conn *conn;
  int fd;
  unsigned char in[16384];
  size_t in_off, in_len;
  size_t sent, received, rounds;
} pump;

static void pump_open(pump *p, mail_conn *c, const char *port_key)
{
  memset(p, 0, sizeof *p);
  p->conn = c;
  p->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(p->fd, 0);
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)atoi(env(port_key)));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(p->fd, (struct sockaddr *)&sa, sizeof sa), 0);
}

/* Send what the connection wants sent. */
static void pump_drain(pump *p)
{
  unsigned char buf[4096];
  size_t n;
  while (mail_conn_drain(p->conn, buf, sizeof buf, &n) == MAIL_OK && n) {
    for (size_t off = 0; off < n;) {
      ssize_t w = send(p->fd, buf + off, n - off, MSG_NOSIGNAL);
      ck_assert_int_gt(w, 0);
      off += (size_t)w;
    }
    p->sent += n;
  }
}

/* One step after MAIL_ERR_AGAIN: drain, then feed what the server sent. */
static void pump_step(pump *p)
{
  ck_assert_int_lt(++p->rounds, 100000);
  ck_assert_int_eq(mail_conn_fd(p->conn), -1);
  pump_drain(p);
  if (!(mail_conn_want(p->conn) & MAIL_WANT_READ))
    return;
  if (p->in_off == p->in_len) {
    struct pollfd pf = {p->fd, POLLIN, 0};
    int64_t ms = mail_conn_timeout_ms(p->conn);
    ck_assert(ms > 0); /* the deadline is there without a descriptor */
    if (poll(&pf, 1, ms > 10000 ? 10000 : (int)ms) != 1)
      return; /* the operation sees its deadline when called again */
    ssize_t r = recv(p->fd, p->in, sizeof p->in, 0);
    if (r <= 0) {
      if (r == 0)
        ck_assert_int_eq(mail_conn_feed_eof(p->conn), MAIL_OK);
      else
        ck_assert_int_eq(mail_conn_feed_error(p->conn, MAIL_ERR_IO), MAIL_OK);
      return;
    }
    p->in_off = 0;
    p->in_len = (size_t)r;
    p->received += (size_t)r;
  }
  size_t taken = 0;
  int rc = mail_conn_feed(p->conn, p->in + p->in_off, p->in_len - p->in_off, &taken);
  ck_assert(rc == MAIL_OK || rc == MAIL_ERR_AGAIN);
  p->in_off += taken;
}

#define RUN(p, expr)                                   \
  ({                                                   \
    int rc_;                                           \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN)           \
      pump_step(p);                                    \
    pump_drain(p);                                     \
    rc_;                                               \
  })

static mail_smtp *feed_session(mail_tls_config **cfg)
{
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_new(cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(*cfg, env("MAIL_TEST_CA")), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_conn_set_tls_config(c, *cfg), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 10000), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_LIBMAIL_TLS), MAIL_OK);
  return s;
}

static void session_over_tls(const char *port_key, int security)
{
  mail_tls_config *cfg;
  mail_smtp *s = feed_session(&cfg);
  mail_conn *c = mail_smtp_conn(s);
  pump p;
  pump_open(&p, c, port_key);
  /* The port only names the service here: the test's socket is the link. */
  int rc = RUN(&p, mail_smtp_connect(s, "localhost", (unsigned)atoi(env(port_key)), security));
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  ck_assert_ptr_nonnull(mail_conn_tls_version(c));
  char version[32];
  snprintf(version, sizeof version, "%s", mail_conn_tls_version(c));
  ck_assert_int_eq(RUN(&p, mail_smtp_noop(s)), MAIL_OK);
  ck_assert_int_eq(RUN(&p, mail_smtp_quit(s)), MAIL_OK);
  ck_assert(p.sent > 0 && p.received > 0);
  printf("feed mode, %s: %s verified, %zu bytes out, %zu in, %zu rounds\n", port_key, version,
         p.sent, p.received, p.rounds);
  close(p.fd);
  mail_smtp_free(s);
  mail_tls_config_free(cfg);
}

START_TEST(implicit_tls_smtps)
{
  session_over_tls("MAIL_TEST_SMTPS_PORT", MAIL_SECURITY_IMPLICIT_TLS);
}
END_TEST

START_TEST(starttls_submission)
{
  session_over_tls("MAIL_TEST_SUBMISSION_PORT", MAIL_SECURITY_STARTTLS);
}
END_TEST

/* The certificate is for localhost: another name is refused, in feed mode
 * as over a socket, and nothing after the handshake is sent. */
START_TEST(wrong_host_name_refused)
{
  for (int starttls = 0; starttls < 2; starttls++) {
    mail_tls_config *cfg;
    mail_smtp *s = feed_session(&cfg);
    mail_conn *c = mail_smtp_conn(s);
    const char *key = starttls ? "MAIL_TEST_SUBMISSION_PORT" : "MAIL_TEST_SMTPS_PORT";
    pump p;
    pump_open(&p, c, key);
    int rc = RUN(&p, mail_smtp_connect(s, "mail.wrong.test", (unsigned)atoi(env(key)),
                                       starttls ? MAIL_SECURITY_STARTTLS
                                                : MAIL_SECURITY_IMPLICIT_TLS));
    ck_assert_msg(rc == MAIL_ERR_TLS_VERIFY, "%s: got %s: %s", key, mail_strerror(rc),
                  mail_conn_last_error(c));
    ck_assert_int_eq(mail_conn_is_open(c), 0);
    ck_assert_ptr_nonnull(mail_conn_verify_error(c));
    close(p.fd);
    mail_smtp_free(s);
    mail_tls_config_free(cfg);
  }
}
END_TEST

#if MAIL_HAVE_IMAP
typedef struct imap_msg {
  char data[40000];
  size_t len, at;      /* APPEND reads from at */
  char back[40000];
  size_t back_len;     /* what FETCH BODY.PEEK[] gave back */
} imap_msg;

static int msg_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  imap_msg *m = user;
  size_t n = m->len - m->at < cap ? m->len - m->at : cap;
  memcpy(buf, m->data + m->at, n);
  m->at += n;
  *got = n;
  return 0;
}

static int msg_back(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                    const unsigned char *d, size_t n)
{
  imap_msg *m = user;
  (void)sec;
  if (ev == MAIL_IMAP_BODY_DATA) {
    ck_assert_uint_le(m->back_len + n, sizeof m->back);
    memcpy(m->back + m->back_len, d, n);
    m->back_len += n;
  }
  return 0;
}

/* IMAP through the same pump: libmail's TLS over the fed bytes, Dovecot's
 * certificate verified, and every operation driven by feed and drain: a
 * mailbox of the test's own, a 30 KB message APPENDed (its literal waits
 * for the "+") and fetched back whole, the mailbox deleted. */
START_TEST(imap_dovecot)
{
  static imap_msg m;
  for (int starttls = 0; starttls < 2; starttls++) {
    const char *key = starttls ? "MAIL_TEST_IMAP_PORT" : "MAIL_TEST_IMAPS_PORT";
    mail_imap *im;
    ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
    mail_tls_config *cfg;
    ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
    ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, env("MAIL_TEST_CA")), MAIL_OK);
    mail_conn *c = mail_imap_conn(im);
    ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
    ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 20000), MAIL_OK);
    ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_LIBMAIL_TLS), MAIL_OK);
    ck_assert_int_eq(mail_imap_set_auth(im, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")),
                     MAIL_OK);
    pump p;
    pump_open(&p, c, key);
    int rc = RUN(&p, mail_imap_connect(im, "localhost", (unsigned)atoi(env(key)),
                                       starttls ? MAIL_SECURITY_STARTTLS
                                                : MAIL_SECURITY_IMPLICIT_TLS));
    ck_assert_msg(rc == MAIL_OK, "%s: %s: %s", key, mail_strerror(rc), mail_conn_last_error(c));
    ck_assert_int_eq(mail_conn_is_verified(c), 1);
    rc = RUN(&p, mail_imap_login(im));
    ck_assert_msg(rc == MAIL_OK, "login: %s: %s", mail_strerror(rc), mail_conn_last_error(c));

    char box[128];
    snprintf(box, sizeof box, "libmail-feed-%ld-%d-%d", (long)getpid(), starttls, (int)time(NULL));
    memset(&m, 0, sizeof m);
    m.len = (size_t)snprintf(m.data, sizeof m.data,
                             "From: alice@libmail.test\r\nSubject: %s\r\n\r\n", box);
    for (int i = 0; m.len + 64 < 30000; i++)
      m.len += (size_t)snprintf(m.data + m.len, sizeof m.data - m.len,
                                "line %05d of a message appended in feed mode\r\n", i);
    ck_assert_int_eq(RUN(&p, mail_imap_create(im, box)), MAIL_OK);
    m.at = 0;
    rc = RUN(&p, mail_imap_append(im, box, NULL, 0, 0, m.len, msg_read, &m));
    ck_assert_msg(rc == MAIL_OK, "APPEND: %s: %s", mail_strerror(rc), mail_conn_last_error(c));
    ck_assert_int_eq(RUN(&p, mail_imap_select(im, box, 0)), MAIL_OK);
    uint64_t exists = 0;
    ck_assert_int_eq(mail_imap_mailbox_number(&exists, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
    ck_assert_uint_eq(exists, 1);
    mail_imap_seqset *set = NULL;
    ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
    ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, 1), MAIL_OK);
    ck_assert_int_eq(RUN(&p, mail_imap_fetch(im, set, 0, "(BODY.PEEK[])", msg_back, &m)), MAIL_OK);
    mail_imap_seqset_free(set);
    ck_assert_uint_eq(m.back_len, m.len);
    ck_assert(!memcmp(m.back, m.data, m.len));
    ck_assert_int_eq(RUN(&p, mail_imap_close(im)), MAIL_OK);
    ck_assert_int_eq(RUN(&p, mail_imap_delete(im, box)), MAIL_OK);
    ck_assert_int_eq(RUN(&p, mail_imap_logout(im)), MAIL_OK);
    printf("feed mode, IMAP %s: %zu bytes out, %zu in, %zu rounds\n", key, p.sent, p.received,
           p.rounds);
    close(p.fd);
    mail_imap_free(im);
    mail_tls_config_free(cfg);
  }
}
END_TEST
#endif

int main(void)
{
  mail_test_require_servers(); /* exits 77 (skip) when they are not up */
  Suite *s = suite_create("feed_tls");
  TCase *tc = tcase_create("postfix");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, implicit_tls_smtps);
  tcase_add_test(tc, starttls_submission);
  tcase_add_test(tc, wrong_host_name_refused);
#if MAIL_HAVE_IMAP
  tcase_add_test(tc, imap_dovecot);
#endif
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * TLS truncated without close_notify (issue 21): a real OpenSSL server on
 * a loopback socket plays a short script and then drops the TCP
 * connection without a close_notify, inside SMTP DATA (after the final
 * dot and while the body is still being written), inside an IMAP FETCH
 * literal and inside a POP3 RETR, and inside the handshake (after 0 to
 * 200 bytes of the ClientHello). The session must end with a fatal
 * status, never report the message sent, never end a body, and leak
 * nothing.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <mail/imap.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "alloc.h"

#define DATA MAIL_SRCDIR "/tests/data/tls/"

/* A script step: 'S' send text, 'R' read until text has arrived, 'X' drop
 * the connection (no close_notify), 'N' read n bytes (text is n, decimal). */
typedef struct sstep {
  char op;
  const char *text;
} sstep;

typedef struct server {
  int lfd;
  const sstep *script;
  int done;      /* reached the drop */
  char why[200]; /* why it stopped early */
} server;

static int read_until(SSL *ssl, const char *needle, size_t want_bytes)
{
  static char buf[1 << 16];
  size_t have = 0, total = 0;
  for (;;) {
    if (needle && have && memmem(buf, have, needle, strlen(needle)))
      return 0;
    if (!needle && total >= want_bytes)
      return 0;
    size_t got = 0;
    if (have == sizeof buf) { /* keep the tail: the needle may straddle */
      memmove(buf, buf + have - 64, 64);
      have = 64;
    }
    size_t room = sizeof buf - have;
    if (!needle && room > want_bytes - total)
      room = want_bytes - total;
    if (SSL_read_ex(ssl, buf + have, room, &got) != 1)
      return -1;
    have += got;
    total += got;
  }
}

static void *server_main(void *arg)
{
  server *sv = arg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  SSL *ssl = NULL;
  int fd = accept(sv->lfd, NULL, NULL);
  if (fd < 0 || !ctx) {
    snprintf(sv->why, sizeof sv->why, "accept failed");
    goto out;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &(struct timeval){10, 0}, sizeof(struct timeval));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){10, 0}, sizeof(struct timeval));
  if (sv->script[0].op == 'H') {
    /* Inside the handshake: n bytes of the ClientHello, then the drop. */
    size_t want = (size_t)strtoul(sv->script[0].text, NULL, 10), got = 0;
    char buf[4096];
    while (got < want) {
      ssize_t k = recv(fd, buf, want - got < sizeof buf ? want - got : sizeof buf, 0);
      if (k <= 0)
        break;
      got += (size_t)k;
    }
    shutdown(fd, SHUT_RDWR);
    sv->done = got == want;
    if (!sv->done)
      snprintf(sv->why, sizeof sv->why, "only %zu of %zu ClientHello bytes", got, want);
    goto out;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, DATA "server.pem") != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, DATA "server.key", SSL_FILETYPE_PEM) != 1 ||
      !(ssl = SSL_new(ctx)) || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
    snprintf(sv->why, sizeof sv->why, "TLS accept failed");
    goto out;
  }
  for (const sstep *s = sv->script; s->op; s++) {
    int ok = 1;
    size_t done = 0;
    if (s->op == 'S')
      ok = SSL_write_ex(ssl, s->text, strlen(s->text), &done) == 1;
    else if (s->op == 'R')
      ok = read_until(ssl, s->text, 0) == 0;
    else if (s->op == 'N')
      ok = read_until(ssl, NULL, (size_t)strtoul(s->text, NULL, 10)) == 0;
    else if (s->op == 'X') {
      /* Truncation: TCP goes away, no close_notify was ever sent. */
      shutdown(fd, SHUT_RDWR);
      sv->done = 1;
      break;
    }
    if (!ok) {
      snprintf(sv->why, sizeof sv->why, "script step %c \"%.40s\" failed", s->op, s->text);
      break;
    }
  }
out:
  SSL_free(ssl); /* no SSL_shutdown: nothing more goes out */
  SSL_CTX_free(ctx);
  if (fd >= 0)
    close(fd);
  ERR_clear_error();
  return NULL;
}

typedef struct harness {
  server sv;
  pthread_t th;
  unsigned port;
  mail_test_alloc ta;
} harness;

static void start(harness *h, const sstep *script)
{
  memset(h, 0, sizeof *h);
  signal(SIGPIPE, SIG_IGN);
  h->sv.script = script;
  h->sv.lfd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(h->sv.lfd, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  ck_assert_int_eq(bind(h->sv.lfd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(h->sv.lfd, 1), 0);
  ck_assert_int_eq(getsockname(h->sv.lfd, (struct sockaddr *)&a, &al), 0);
  h->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&h->th, NULL, server_main, &h->sv), 0);
  mail_test_alloc_init(&h->ta);
}

static void setup_conn(mail_conn *c)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "ca.pem"), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
}

static void finish(harness *h)
{
  pthread_join(h->th, NULL);
  close(h->sv.lfd);
  ck_assert_msg(h->sv.done, "the server did not reach the drop: %s", h->sv.why);
  ck_assert_msg(h->ta.live == 0, "%zu allocation(s) leaked", h->ta.live);
  mail_test_alloc_cleanup(&h->ta);
}

/* 127.0.0.1 by name: the test certificate is for "localhost". */
#define HOST "localhost"

/* ---------------------------------------------------------------- SMTP */

static const char EHLO_REPLY[] = "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";

static void smtp_truncated(const sstep *script, size_t body_len)
{
  harness h;
  start(&h, script);
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
  setup_conn(mail_smtp_conn(s));
  ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
  int rc = mail_smtp_connect(s, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS);
  ck_assert_msg(rc == MAIL_OK, "connect: %s: %s", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)));
  mail_smtp_envelope *e;
  char *body = malloc(body_len + 1);
  ck_assert_ptr_nonnull(body);
  for (size_t i = 0; i < body_len; i++)
    body[i] = (i % 60 == 59) ? '\n' : (char)('a' + i % 26);
  ck_assert_int_eq(mail_smtp_envelope_new(&e, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, "bob@libmail.test", NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, body, body_len), MAIL_OK);
  rc = mail_smtp_send(s, e);
  ck_assert_msg(mail_status_is_fatal(rc), "send over a truncated TLS stream gave %s (%s)",
                mail_strerror(rc), mail_conn_last_error(mail_smtp_conn(s)));
  ck_assert_int_ne(mail_smtp_noop(s), MAIL_OK);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  free(body);
  finish(&h);
}

/* The whole body and its dot arrived; the final reply never comes. */
START_TEST(smtp_data_after_dot)
{
  static const sstep script[] = {
    {'S', "220 mx.test ESMTP\r\n"}, {'R', "\r\n"}, {'S', EHLO_REPLY}, {'R', "DATA\r\n"},
    {'S', "250 ok\r\n250 ok\r\n354 go ahead\r\n"}, {'R', "\r\n.\r\n"}, {'X', NULL}, {0, NULL}};
  smtp_truncated(script, 300);
}
END_TEST

/* Cut while 4 MB of body are still being written. */
START_TEST(smtp_data_mid_body)
{
  static const sstep script[] = {
    {'S', "220 mx.test ESMTP\r\n"}, {'R', "\r\n"}, {'S', EHLO_REPLY}, {'R', "DATA\r\n"},
    {'S', "250 ok\r\n250 ok\r\n354 go ahead\r\n"}, {'N', "20000"}, {'X', NULL}, {0, NULL}};
  smtp_truncated(script, 4u << 20);
}
END_TEST

/* ---------------------------------------------------------------- bodies */

typedef struct seen {
  int begins, ends;
  size_t bytes;
} seen;

static int on_imap(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                   const unsigned char *d, size_t n)
{
  seen *s = user;
  (void)sec;
  (void)d;
  s->begins += ev == MAIL_IMAP_BODY_BEGIN;
  s->ends += ev == MAIL_IMAP_BODY_END;
  s->bytes += n;
  return 0;
}

static int on_pop3(void *user, uint32_t msg, int ev, const unsigned char *d, size_t n)
{
  seen *s = user;
  (void)msg;
  (void)d;
  s->begins += ev == MAIL_POP3_BODY_BEGIN;
  s->ends += ev == MAIL_POP3_BODY_END;
  s->bytes += n;
  return 0;
}

/* Half of a 100-byte literal, then the drop. */
START_TEST(imap_fetch_literal)
{
  static const sstep script[] = {
    {'S', "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n"}, {'R', "\r\n"},
    {'S', "* 1 EXISTS\r\nA1 OK [READ-WRITE] done\r\n"}, {'R', "\r\n"},
    {'S', "* 1 FETCH (BODY[] {100}\r\nSubject: truncated\r\n\r\nonly half of the literal arr"},
    {'X', NULL}, {0, NULL}};
  harness h;
  start(&h, script);
  mail_imap *im;
  ck_assert_int_eq(mail_imap_new(&im, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
  setup_conn(mail_imap_conn(im));
  ck_assert_int_eq(mail_imap_connect(im, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set;
  ck_assert_int_eq(mail_imap_seqset_new(&set, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
  uint32_t one = 1;
  ck_assert_int_eq(mail_imap_seqset_add(set, &one, 1), MAIL_OK);
  seen s = {0, 0, 0};
  int rc = mail_imap_fetch(im, set, 0, "(BODY.PEEK[])", on_imap, &s);
  ck_assert_msg(mail_status_is_fatal(rc), "FETCH over a truncated literal gave %s",
                mail_strerror(rc));
  ck_assert_int_eq(s.ends, 0);
  ck_assert_uint_lt(s.bytes, 100);
  ck_assert_int_ne(mail_imap_noop(im), MAIL_OK);
  mail_imap_seqset_free(set);
  mail_imap_free(im);
  finish(&h);
}
END_TEST

/* A multi-line RETR cut before its terminating dot. */
START_TEST(pop3_retr_multiline)
{
  static const sstep script[] = {
    {'S', "+OK ready\r\n"}, {'R', "\r\n"}, {'S', "+OK\r\nUSER\r\n.\r\n"}, {'R', "\r\n"},
    {'S', "+OK\r\n"}, {'R', "\r\n"}, {'S', "+OK\r\n"}, {'R', "\r\n"},
    {'S', "+OK\r\nUSER\r\n.\r\n"}, {'R', "\r\n"},
    {'S', "+OK 300 octets\r\nSubject: truncated\r\n\r\nline one\r\n..stuffed\r\nno end"},
    {'X', NULL}, {0, NULL}};
  harness h;
  start(&h, script);
  mail_pop3 *p;
  ck_assert_int_eq(mail_pop3_new(&p, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
  setup_conn(mail_pop3_conn(p));
  ck_assert_int_eq(mail_pop3_set_auth(p, "alice", "pw"), MAIL_OK);
  ck_assert_int_eq(mail_pop3_connect(p, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  int rc = mail_pop3_auth(p);
  ck_assert_msg(rc == MAIL_OK, "auth: %s: %s", mail_strerror(rc),
                mail_conn_last_error(mail_pop3_conn(p)));
  seen s = {0, 0, 0};
  rc = mail_pop3_retr(p, 1, on_pop3, &s);
  ck_assert_msg(mail_status_is_fatal(rc), "RETR over a truncated stream gave %s",
                mail_strerror(rc));
  ck_assert_int_eq(s.ends, 0);
  ck_assert_int_ne(mail_pop3_noop(p), MAIL_OK);
  mail_pop3_free(p);
  finish(&h);
}
END_TEST

/* The handshake cut after 0, 1, 5, 50 and 200 bytes of the ClientHello:
 * every protocol's implicit-TLS connect fails with a fatal status. */
START_TEST(handshake_cut)
{
  static const char *const at[] = {"0", "1", "5", "50", "200"};
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    const sstep script[] = {{'H', at[i]}, {0, NULL}};
    harness h;
    start(&h, script);
    int rc;
    if (_i == 0) {
      mail_smtp *s;
      ck_assert_int_eq(mail_smtp_new(&s, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
      setup_conn(mail_smtp_conn(s));
      rc = mail_smtp_connect(s, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS);
      mail_smtp_free(s);
    } else if (_i == 1) {
      mail_pop3 *p;
      ck_assert_int_eq(mail_pop3_new(&p, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
      setup_conn(mail_pop3_conn(p));
      rc = mail_pop3_connect(p, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS);
      mail_pop3_free(p);
    } else {
      mail_imap *im;
      ck_assert_int_eq(mail_imap_new(&im, mail_test_alloc_hooks(&h.ta)), MAIL_OK);
      setup_conn(mail_imap_conn(im));
      rc = mail_imap_connect(im, HOST, h.port, MAIL_SECURITY_IMPLICIT_TLS);
      mail_imap_free(im);
    }
    ck_assert_msg(mail_status_is_fatal(rc), "handshake cut after %s bytes: %s", at[i],
                  mail_strerror(rc));
    finish(&h);
  }
}
END_TEST

int main(void)
{
  Suite *su = suite_create("faults-tls");
  TCase *tc = tcase_create("truncated");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, smtp_data_after_dot);
  tcase_add_test(tc, smtp_data_mid_body);
  tcase_add_test(tc, imap_fetch_literal);
  tcase_add_test(tc, pop3_retr_multiline);
  tcase_add_loop_test(tc, handshake_cut, 0, 3);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

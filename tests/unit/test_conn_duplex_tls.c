/*
 * The full-duplex driver over TLS: the peer of duplex_harness.c behind an
 * OpenSSL server on a socket pair writes a 4 MB reply before reading any
 * of our 4 MB pipelined batch. The client's TLS layer reads records while
 * its writes are blocked, in blocking and event-loop mode, TLS 1.3 and 1.2.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/reader.h"
#include "duplex_harness.h"

#define DATA MAIL_SRCDIR "/tests/data/tls/"
#define BIG (4u * 1024 * 1024)

static long ssl_write(void *ctx, const void *p, size_t n)
{
  size_t done = 0;
  return SSL_write_ex(ctx, p, n, &done) == 1 ? (long)done : -1;
}

static long ssl_read(void *ctx, void *p, size_t n)
{
  size_t got = 0;
  return SSL_read_ex(ctx, p, n, &got) == 1 ? (long)got : -1;
}

typedef struct tls_peer {
  int fd;
  int max_version;
  int accepted;
  duplex_peer peer;
} tls_peer;

static void *tls_peer_main(void *arg)
{
  tls_peer *t = arg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx)
    return NULL;
  SSL *ssl = NULL;
  if (SSL_CTX_use_certificate_chain_file(ctx, DATA "server.pem") != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx, DATA "server.key", SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, t->max_version) != 1)
    goto out;
  ssl = SSL_new(ctx);
  if (!ssl || SSL_set_fd(ssl, t->fd) != 1 || SSL_accept(ssl) != 1)
    goto out;
  t->accepted = 1;
  t->peer.io.ctx = ssl;
  t->peer.io.write = ssl_write;
  t->peer.io.read = ssl_read;
  duplex_peer_serve(&t->peer);
  if (t->peer.done_sent)
    SSL_shutdown(ssl);
out:
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return NULL;
}

static void check_tls(int nonblocking, int max_version)
{
  int sv[2];
  ck_assert_int_eq(duplex_socket_pair(sv), 0);
  /* The peer writes with plain send(): a client that closes first must
   * not kill the test with SIGPIPE. */
  ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDTIMEO, &(struct timeval){20, 0},
                              sizeof(struct timeval)),
                   0);
  signal(SIGPIPE, SIG_IGN);
  tls_peer t;
  memset(&t, 0, sizeof t);
  t.fd = sv[1];
  t.max_version = max_version;
  t.peer.reply_bytes = BIG;
  t.peer.expect_bytes = BIG;
  /* Event loop: the peer, its reply written, reads nothing until we have
   * said READ|WRITE (our batch blocked, its reply all read), so that state
   * comes by construction, not by which thread ran faster. */
  duplex_gate gate;
  duplex_gate_init(&gate);
  if (nonblocking)
    t.peer.hold = &gate;
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, tls_peer_main, &t), 0);

  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "ca.pem"), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], "localhost"), MAIL_OK);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_OK);

  duplex_eng e;
  duplex_eng_init(&e, c, DUPLEX_ECHO, BIG, BIG);
  int saw = 0;
  int rc = duplex_drive(c, &e, nonblocking, &saw, nonblocking ? &gate : NULL, 30000);
  duplex_gate_open(&gate); /* never leave the peer held, whatever happened */
  if (nonblocking)
    ck_assert_msg(saw & DUPLEX_SAW_BOTH, "mail_conn_want() never said READ|WRITE (saw %d)", saw);
  ck_assert_msg(rc == MAIL_OK, "rc %d (%s): %s; queued %zu, reply %zu", rc, mail_strerror(rc),
                mail_conn_last_error(c), e.queued, e.reply_got);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  ck_assert_str_eq(mail_conn_tls_version(c), max_version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3");
  ck_assert_uint_eq(e.reply_got, BIG);
  ck_assert_uint_gt(e.reply_while_sending, BIG / 2);
  ck_assert_uint_le(e.max_pending, mail_conn_reader(c)->buf.limit);
  mail_conn_free(c);
  pthread_join(th, NULL);
  close(sv[1]);
  duplex_gate_destroy(&gate);
  ck_assert(t.accepted);
  ck_assert_uint_eq(t.peer.got, BIG);
  ck_assert(t.peer.pattern_ok);
  ck_assert(t.peer.done_sent);
}

START_TEST(tls13_blocking)
{
  check_tls(0, TLS1_3_VERSION);
}
END_TEST

START_TEST(tls13_event_loop)
{
  check_tls(1, TLS1_3_VERSION);
}
END_TEST

START_TEST(tls12_blocking)
{
  check_tls(0, TLS1_2_VERSION);
}
END_TEST

START_TEST(tls12_event_loop)
{
  check_tls(1, TLS1_2_VERSION);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("conn_duplex_tls");
  TCase *t = tcase_create("tls");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, tls13_blocking);
  tcase_add_test(t, tls13_event_loop);
  tcase_add_test(t, tls12_blocking);
  tcase_add_test(t, tls12_event_loop);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

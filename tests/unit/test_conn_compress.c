/*
 * The COMPRESS=DEFLATE layer (lib/net/compress_zlib.c) under the driver:
 * the full-duplex peer of duplex_harness.c behind a deflating/inflating
 * socket end writes a 4 MB reply before reading our 4 MB batch, so our
 * compressed writes block and are retried, in blocking and event-loop
 * mode; a compression bomb meets the reader's bound in little memory; a
 * corrupt stream is a protocol error; bytes already read at the switch are
 * injection; every allocation of the switch failing in turn leaves a closed
 * connection and nothing leaked.
 */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc.h"
#include "core/reader.h"
#include "duplex_harness.h"

#define BIG (4u * 1024 * 1024)

/* The peer's end: deflate what it writes (a sync flush per write, as a
 * server does per response) and inflate what it reads. */
typedef struct zpeer {
  int fd;
  z_stream def, inf;
  unsigned char in[16384];
} zpeer;

static void zpeer_init(zpeer *z, int fd)
{
  memset(z, 0, sizeof *z);
  z->fd = fd;
  ck_assert_int_eq(deflateInit2(&z->def, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  ck_assert_int_eq(inflateInit2(&z->inf, -15), Z_OK);
}

static void zpeer_end(zpeer *z)
{
  deflateEnd(&z->def);
  inflateEnd(&z->inf);
}

static int send_all(int fd, const unsigned char *p, size_t n)
{
  while (n) {
    ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static long zpeer_write(void *ctx, const void *p, size_t n)
{
  zpeer *z = ctx;
  unsigned char out[32768];
  z->def.next_in = (Bytef *)(uintptr_t)p;
  z->def.avail_in = (uInt)n;
  do {
    z->def.next_out = out;
    z->def.avail_out = sizeof out;
    if (deflate(&z->def, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
      return -1;
    if (send_all(z->fd, out, sizeof out - z->def.avail_out))
      return -1;
  } while (z->def.avail_out == 0);
  return (long)n;
}

static long zpeer_read(void *ctx, void *p, size_t n)
{
  zpeer *z = ctx;
  for (;;) {
    if (z->inf.avail_in) {
      z->inf.next_out = p;
      z->inf.avail_out = (uInt)n;
      int ret = inflate(&z->inf, Z_SYNC_FLUSH);
      if (ret != Z_OK && ret != Z_BUF_ERROR)
        return -1;
      if (z->inf.avail_out < n)
        return (long)(n - z->inf.avail_out);
    }
    ssize_t k = recv(z->fd, z->in, sizeof z->in, 0);
    if (k <= 0)
      return -1;
    z->inf.next_in = z->in;
    z->inf.avail_in = (uInt)k;
  }
}

typedef struct pair {
  mail_conn *c;
  int peer_fd;
  zpeer z;
  duplex_peer peer;
  pthread_t th;
  duplex_gate gate;
} pair;

static void *peer_main(void *arg)
{
  duplex_peer_serve(arg);
  return NULL;
}

static void pair_start(pair *p, const mail_allocator *alloc)
{
  int sv[2];
  ck_assert_int_eq(duplex_socket_pair(sv), 0);
  ck_assert_int_eq(mail_conn_new(&p->c, alloc), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(p->c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(p->c, sv[0], "pair.test"), MAIL_OK);
  p->peer_fd = sv[1];
  zpeer_init(&p->z, sv[1]);
  duplex_gate_init(&p->gate);
}

static void pair_finish(pair *p, int joined)
{
  mail_conn_free(p->c);
  if (joined)
    pthread_join(p->th, NULL);
  close(p->peer_fd);
  zpeer_end(&p->z);
  duplex_gate_destroy(&p->gate);
}

static void check_duplex(int nonblocking)
{
  pair p;
  pair_start(&p, NULL);
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_OK);
  ck_assert_int_eq(mail_conn_is_compressed(p.c), 1);
  memset(&p.peer, 0, sizeof p.peer);
  p.peer.io.ctx = &p.z;
  p.peer.io.write = zpeer_write;
  p.peer.io.read = zpeer_read;
  p.peer.reply_bytes = BIG;
  p.peer.expect_bytes = BIG;
  if (nonblocking)
    p.peer.hold = &p.gate;
  ck_assert_int_eq(pthread_create(&p.th, NULL, peer_main, &p.peer), 0);
  duplex_eng e;
  duplex_eng_init(&e, p.c, DUPLEX_ECHO, BIG, BIG);
  int saw = 0;
  int rc = duplex_drive(p.c, &e, nonblocking, &saw, nonblocking ? &p.gate : NULL, 30000);
  duplex_gate_open(&p.gate);
  ck_assert_msg(rc == MAIL_OK, "rc %d (%s): %s; queued %zu, reply %zu", rc, mail_strerror(rc),
                mail_conn_last_error(p.c), e.queued, e.reply_got);
  if (nonblocking)
    ck_assert_msg(saw & DUPLEX_SAW_BOTH, "mail_conn_want() never said READ|WRITE (saw %d)", saw);
  ck_assert_uint_eq(e.reply_got, BIG);
  uint64_t wi, pi, wo, po;
  ck_assert_int_eq(mail_conn_compress_counts(&wi, &pi, &wo, &po, p.c), MAIL_OK);
  ck_assert_uint_eq(po, BIG);
  ck_assert_uint_eq(pi, BIG + 6); /* the reply and "DONE\r\n" */
  /* The reply lines repeat: they travel in a few bytes each (one sync
   * flush per line written). The batch's
   * scrambled letters still shrink (26 symbols in 8 bits). */
  ck_assert_uint_lt(wi, BIG / 32);
  ck_assert_uint_lt(wo, po);
  ck_assert_uint_gt(wo, po / 2);
  pair_finish(&p, 1);
  ck_assert_uint_eq(p.peer.got, BIG);
  ck_assert(p.peer.pattern_ok);
  ck_assert(p.peer.done_sent);
}

START_TEST(duplex_blocking)
{
  check_duplex(0);
}
END_TEST

START_TEST(duplex_event_loop)
{
  check_duplex(1);
}
END_TEST

/* An engine that wants one line. */
static int want_line(void *engine)
{
  mail_conn *c = engine;
  const char *l;
  size_t n;
  int rc = mail_reader_line(mail_conn_reader(c), &l, &n, NULL);
  return rc;
}

typedef struct bomb {
  zpeer *z;
  size_t sent;
} bomb;

/* 256 MiB of 'a' and never a line end: about 256 KiB compressed. */
static void *bomb_main(void *arg)
{
  bomb *b = arg;
  static char chunk[1 << 20];
  memset(chunk, 'a', sizeof chunk);
  for (int i = 0; i < 256; i++) {
    if (zpeer_write(b->z, chunk, sizeof chunk) < 0)
      break;
    b->sent += sizeof chunk;
  }
  return NULL;
}

START_TEST(bomb_meets_the_reader_bound)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  pair p;
  pair_start(&p, mail_test_alloc_hooks(&t));
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_OK);
  bomb b = {&p.z, 0};
  ck_assert_int_eq(pthread_create(&p.th, NULL, bomb_main, &b), 0);
  int rc = mail_conn_run(p.c, want_line, p.c);
  ck_assert_int_eq(rc, MAIL_ERR_LIMIT);
  /* The line bound stops it: the reader's buffer (1 MiB by default) plus the layer's buffers and
   * zlib's state, whatever the stream inflates to. */
  ck_assert_uint_lt(t.peak_bytes, 2u * 1024 * 1024 + 256 * 1024);
  pair_finish(&p, 1);
  ck_assert_uint_eq(t.live, 0);
  mail_test_alloc_cleanup(&t);
}
END_TEST

START_TEST(corrupt_stream_is_protocol_error)
{
  pair p;
  pair_start(&p, NULL);
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_OK);
  /* Block type 3 does not exist in RFC 1951. */
  const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  ck_assert_int_eq(send_all(p.peer_fd, junk, sizeof junk), 0);
  int rc = mail_conn_run(p.c, want_line, p.c);
  ck_assert_int_eq(rc, MAIL_ERR_PROTOCOL);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(p.c), "corrupt compressed data"));
  ck_assert_int_eq(mail_conn_is_open(p.c), 0);
  pair_finish(&p, 0);
}
END_TEST

START_TEST(bytes_before_the_switch_are_injection)
{
  pair p;
  pair_start(&p, NULL);
  const char *go = "A1 OK DEFLATE active\r\n* 1 EXISTS\r\n";
  ck_assert_int_eq(send_all(p.peer_fd, (const unsigned char *)go, strlen(go)), 0);
  ck_assert_int_eq(mail_conn_run(p.c, want_line, p.c), MAIL_OK);
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_ERR_STARTTLS_INJECTION);
  ck_assert_int_eq(mail_conn_is_open(p.c), 0);
  ck_assert_int_eq(mail_conn_is_compressed(p.c), 0);
  pair_finish(&p, 0);
}
END_TEST

START_TEST(second_switch_is_refused)
{
  pair p;
  pair_start(&p, NULL);
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_OK);
  ck_assert_int_eq(mail_conn_start_compress(p.c), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_is_compressed(p.c), 1);
  pair_finish(&p, 0);
}
END_TEST

START_TEST(every_allocation_of_the_switch_fails)
{
  for (unsigned long n = 1;; n++) {
    mail_test_alloc t;
    mail_test_alloc_init(&t);
    pair p;
    pair_start(&p, mail_test_alloc_hooks(&t));
    mail_test_alloc_fail_at(&t, t.calls + n, 0);
    int rc = mail_conn_start_compress(p.c);
    if (rc == MAIL_OK) {
      ck_assert_int_eq(mail_conn_is_compressed(p.c), 1);
      ck_assert_uint_gt(n, 1);
      pair_finish(&p, 0);
      ck_assert_uint_eq(t.live, 0);
      mail_test_alloc_cleanup(&t);
      break;
    }
    ck_assert_int_eq(rc, MAIL_ERR_NOMEM);
    /* The server has switched: the connection cannot go on uncompressed. */
    ck_assert_int_eq(mail_conn_is_open(p.c), 0);
    pair_finish(&p, 0);
    ck_assert_uint_eq(t.live, 0);
    mail_test_alloc_cleanup(&t);
  }
}
END_TEST

START_TEST(counts_without_compression)
{
  pair p;
  pair_start(&p, NULL);
  uint64_t a = 1, b = 1, c = 1, d = 1;
  ck_assert_int_eq(mail_conn_compress_counts(&a, &b, &c, &d, p.c), MAIL_OK);
  ck_assert(a == 0 && b == 0 && c == 0 && d == 0);
  ck_assert_int_eq(mail_conn_compress_counts(NULL, &b, &c, &d, p.c), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_is_compressed(NULL), 0);
  ck_assert_int_eq(mail_conn_start_compress(NULL), MAIL_ERR_STATE);
  pair_finish(&p, 0);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("conn_compress");
  TCase *tc = tcase_create("compress");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, duplex_blocking);
  tcase_add_test(tc, duplex_event_loop);
  tcase_add_test(tc, bomb_meets_the_reader_bound);
  tcase_add_test(tc, corrupt_stream_is_protocol_error);
  tcase_add_test(tc, bytes_before_the_switch_are_injection);
  tcase_add_test(tc, second_switch_is_refused);
  tcase_add_test(tc, every_allocation_of_the_switch_fails);
  tcase_add_test(tc, counts_without_compression);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

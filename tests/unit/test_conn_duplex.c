/*
 * The driver hears the server while its own output is blocked: a peer that
 * writes a 4 MB reply before it reads a byte of our 4 MB pipelined batch
 * (socket buffers hold far less than either), in blocking and event-loop
 * mode; an early error reply reaching the engine while a body is still
 * streaming; and the bound that stops reading when the engine leaves the
 * reader full. Plain sockets here; test_conn_duplex_tls.c runs the same
 * peer over TLS.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/reader.h"
#include "duplex_harness.h"

#define BIG (4u * 1024 * 1024)

static long fd_write(void *ctx, const void *p, size_t n)
{
  return (long)send(*(int *)ctx, p, n, MSG_NOSIGNAL);
}

static long fd_read(void *ctx, void *p, size_t n)
{
  return (long)recv(*(int *)ctx, p, n, 0);
}

static void *peer_main(void *arg)
{
  duplex_peer_serve(arg);
  return NULL;
}

typedef struct pair {
  mail_conn *c;
  int peer_fd;
  duplex_peer peer;
  pthread_t th;
  duplex_gate gate;
} pair;

/* A connection over a socket pair, the peer thread serving the far end. */
static void pair_start(pair *p, size_t reply_bytes, size_t expect_bytes, int io_timeout_ms)
{
  int sv[2];
  ck_assert_int_eq(duplex_socket_pair(sv), 0);
  ck_assert_int_eq(mail_conn_new(&p->c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(p->c, MAIL_TIMEOUT_IO, io_timeout_ms), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(p->c, sv[0], "pair.test"), MAIL_OK);
  p->peer_fd = sv[1];
  memset(&p->peer, 0, sizeof p->peer);
  p->peer.io.ctx = &p->peer_fd;
  p->peer.io.write = fd_write;
  p->peer.io.read = fd_read;
  p->peer.reply_bytes = reply_bytes;
  p->peer.expect_bytes = expect_bytes;
  duplex_gate_init(&p->gate);
  ck_assert_int_eq(pthread_create(&p->th, NULL, peer_main, &p->peer), 0);
}

/* Closing our end unblocks a peer still writing or reading. */
static void pair_finish(pair *p)
{
  mail_conn_free(p->c);
  pthread_join(p->th, NULL);
  close(p->peer_fd);
  duplex_gate_destroy(&p->gate);
}

static void check_echo(int nonblocking)
{
  pair p;
  pair_start(&p, BIG, BIG, 10000);
  /* Event loop: the peer, its reply written, reads nothing until we have
   * said READ|WRITE (our batch blocked, its reply all read), so that state
   * comes by construction, not by which thread ran faster. */
  if (nonblocking)
    p.peer.hold = &p.gate;
  duplex_eng e;
  duplex_eng_init(&e, p.c, DUPLEX_ECHO, BIG, BIG);
  int saw = 0;
  int64_t t0 = duplex_wall_ms();
  int rc = duplex_drive(p.c, &e, nonblocking, &saw, nonblocking ? &p.gate : NULL, 30000);
  int64_t took = duplex_wall_ms() - t0;
  duplex_gate_open(&p.gate); /* never leave the peer held, whatever happened */
  if (nonblocking)
    ck_assert_msg(saw & DUPLEX_SAW_BOTH, "mail_conn_want() never said READ|WRITE (saw %d)", saw);
  ck_assert_msg(rc == MAIL_OK, "rc %d (%s) after %lld ms: %s; queued %zu, reply %zu", rc,
                mail_strerror(rc), (long long)took, mail_conn_last_error(p.c), e.queued,
                e.reply_got);
  ck_assert_uint_eq(e.reply_got, BIG);
  /* The reply was taken while our batch was still going out. */
  ck_assert_uint_gt(e.reply_while_sending, BIG / 2);
  /* Never more than the reader's bound was buffered. */
  ck_assert_uint_le(e.max_pending, mail_conn_reader(p.c)->buf.limit);
  ck_assert_int_eq(mail_conn_is_open(p.c), 1);
  pair_finish(&p);
  ck_assert_uint_eq(p.peer.got, BIG);
  ck_assert(p.peer.pattern_ok);
  ck_assert(p.peer.done_sent);
}

START_TEST(duplex_blocking)
{
  check_echo(0);
}
END_TEST

START_TEST(duplex_event_loop)
{
  check_echo(1);
}
END_TEST

/* An SMTP-like server that answers 552 at once, then (as RFC 5321 asks)
 * goes on reading the body it has refused, after a pause. */
typedef struct early_peer {
  int fd;
  size_t drained;
} early_peer;

static void *early_main(void *arg)
{
  early_peer *p = arg;
  static const char reply[] = "552 5.3.4 message too big\r\n";
  if (send(p->fd, reply, sizeof reply - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof reply - 1))
    return NULL;
  usleep(200 * 1000);
  char buf[65536];
  for (;;) {
    ssize_t k = recv(p->fd, buf, sizeof buf, 0);
    if (k <= 0)
      break;
    p->drained += (size_t)k;
  }
  return NULL;
}

static void check_early(int nonblocking)
{
  enum { BODY = 16 * 1024 * 1024 };
  int sv[2];
  ck_assert_int_eq(duplex_socket_pair(sv), 0);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], "pair.test"), MAIL_OK);
  early_peer peer = {sv[1], 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, early_main, &peer), 0);
  duplex_eng e;
  duplex_eng_init(&e, c, DUPLEX_EARLY, BODY, 0);
  int saw = 0;
  int rc = duplex_drive(c, &e, nonblocking, &saw, NULL, 30000);
  ck_assert_msg(rc == MAIL_OK, "rc %d: %s", rc, mail_conn_last_error(c));
  ck_assert_str_eq(e.first_line, "552 5.3.4 message too big");
  /* Seen while the body was still going out, long before its end: the
   * peer read nothing for 200 ms, so our writes blocked and the driver
   * read instead. */
  ck_assert_msg(e.queued_at_line < BODY / 4, "reply seen after %zu of %d bytes",
                e.queued_at_line, BODY);
  ck_assert_uint_gt(e.unsent_at_line, 0);
  /* The engine finished with output queued: it was flushed before the
   * status came back. */
  ck_assert_uint_eq(mail_conn_out_pending(c), 0);
  mail_conn_free(c);
  pthread_join(th, NULL);
  close(sv[1]);
  ck_assert_uint_eq(peer.drained, e.queued);
}

START_TEST(early_reply_blocking)
{
  check_early(0);
}
END_TEST

START_TEST(early_reply_event_loop)
{
  check_early(1);
}
END_TEST

/* The engine leaves replies in the reader until its whole batch is queued,
 * and the peer writes 2 MB before it reads: both sides wait. The driver
 * fills the reader to its bound, then stops reading (never more buffered),
 * and the wait ends at the I/O timeout. */
static void check_hoard(int nonblocking)
{
  pair p;
  pair_start(&p, 2 * 1024 * 1024, BIG, 300);
  size_t limit = mail_conn_reader(p.c)->buf.limit;
  duplex_eng e;
  duplex_eng_init(&e, p.c, DUPLEX_HOARD, BIG, 2 * 1024 * 1024);
  int saw = 0;
  int rc = duplex_drive(p.c, &e, nonblocking, &saw, NULL, 10000);
  ck_assert_msg(rc == MAIL_ERR_TIMEOUT, "rc %d: %s", rc, mail_conn_last_error(p.c));
  ck_assert_uint_eq(e.max_pending, limit);
  ck_assert_uint_lt(e.queued, BIG);
  if (nonblocking)
    ck_assert(saw & DUPLEX_SAW_WRITE); /* a full reader: only the write is waited for */
  pair_finish(&p);
}

START_TEST(full_reader_stops_reading)
{
  check_hoard(0);
}
END_TEST

START_TEST(full_reader_stops_reading_event_loop)
{
  check_hoard(1);
}
END_TEST

/* A write that blocks before any reply is due: the driver waits for both
 * directions and, in event-loop mode, says so; the bytes arriving then are
 * the next replies, taken in order. */
START_TEST(want_both_while_write_blocked)
{
  int sv[2];
  ck_assert_int_eq(duplex_socket_pair(sv), 0);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], "pair.test"), MAIL_OK);
  mail_conn_set_nonblocking(c, 1);
  duplex_eng e;
  duplex_eng_init(&e, c, DUPLEX_EARLY, BIG, 0);
  ck_assert_int_eq(mail_conn_run(c, duplex_eng_advance, &e), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ | MAIL_WANT_WRITE);
  ck_assert_int_gt(mail_conn_timeout_ms(c), 0);
  ck_assert_uint_gt(mail_conn_out_pending(c), 0);
  /* Still blocked both ways: nothing changes. */
  ck_assert_int_eq(mail_conn_run(c, duplex_eng_advance, &e), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ | MAIL_WANT_WRITE);
  ck_assert_int_eq(send(sv[1], "421 4.3.2 going down\r\n", 22, MSG_NOSIGNAL), 22);
  ck_assert_int_eq(mail_conn_run(c, duplex_eng_advance, &e), MAIL_ERR_AGAIN);
  /* The engine is done; flushing what it queued waits for the write only
   * (what arrives now belongs to the next operation). */
  ck_assert_str_eq(e.first_line, "421 4.3.2 going down");
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_WRITE);
  close(sv[1]);
  int rc = mail_conn_run(c, duplex_eng_advance, &e);
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED); /* the rest could not be sent */
  mail_conn_free(c);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("conn_duplex");
  TCase *t = tcase_create("duplex");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, duplex_blocking);
  tcase_add_test(t, duplex_event_loop);
  tcase_add_test(t, early_reply_blocking);
  tcase_add_test(t, early_reply_event_loop);
  tcase_add_test(t, full_reader_stops_reading);
  tcase_add_test(t, full_reader_stops_reading_event_loop);
  tcase_add_test(t, want_both_while_write_blocked);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *r = srunner_create(suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? 1 : 0;
}

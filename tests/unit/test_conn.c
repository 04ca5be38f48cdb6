/*
 * Unit tests for lib/net: the connection API, the driver over real sockets
 * (socket pairs, loopback listeners the test opens itself, Unix sockets),
 * the user-transport layer, deadlines and event-loop mode. No outside
 * server is needed; tests/integration/test_tcp.c talks to the real ones.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../support/alloc.h"
#include "each_alloc.h"
#include "core/conn_internal.h"
#include "core/mem.h"
#include "core/reader.h"
#include "net/tcp.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An engine that waits for one line (optionally after queueing a command). */
typedef struct eng {
  mail_conn *c;
  char line[512];
  size_t len;
} eng;

static int eng_advance(void *e)
{
  eng *x = e;
  const char *l;
  size_t n;
  int rc = mail_reader_line(mail_conn_reader(x->c), &l, &n, NULL);
  if (rc)
    return rc;
  x->len = n < sizeof x->line - 1 ? n : sizeof x->line - 1;
  memcpy(x->line, l, x->len);
  x->line[x->len] = '\0';
  return MAIL_OK;
}

static int eng_line(eng *x, mail_conn *c, const char *send)
{
  x->c = c;
  x->line[0] = '\0';
  if (send) {
    int rc = mail_conn_send(c, send, strlen(send));
    if (rc)
      return rc;
  }
  return mail_conn_run(c, eng_advance, x);
}

/* Collects the trace by direction. */
typedef struct trace_log {
  char send[4096], recv[4096], info[4096];
  int send_calls;
} trace_log;

static void cat(char *dst, size_t cap, const char *data, size_t len)
{
  size_t have = strlen(dst);
  if (have + len + 2 > cap)
    return;
  memcpy(dst + have, data, len);
  dst[have + len] = '|';
  dst[have + len + 1] = '\0';
}

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  trace_log *t = user;
  if (dir == MAIL_TRACE_SEND) {
    t->send_calls++;
    cat(t->send, sizeof t->send, data, len);
  } else if (dir == MAIL_TRACE_RECV) {
    cat(t->recv, sizeof t->recv, data, len);
  } else {
    cat(t->info, sizeof t->info, data, len);
  }
}

static void write_all(int fd, const char *s)
{
  size_t n = strlen(s);
  while (n) {
    ssize_t k = write(fd, s, n);
    ck_assert_int_gt(k, 0);
    s += k;
    n -= (size_t)k;
  }
}

/* A connection over one end of a socket pair; *peer is the other end. */
static mail_conn *pair_conn(int *peer, const mail_allocator *alloc)
{
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, alloc), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], "pair.test"), MAIL_OK);
  *peer = sv[1];
  return c;
}

/* A loopback TCP listener on an ephemeral port. */
static int listen_on(int family, int backlog, struct sockaddr_storage *ss, socklen_t *len)
{
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *len = sizeof *in;
  } else {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_loopback;
    *len = sizeof *in6;
  }
  if (bind(fd, (struct sockaddr *)ss, *len) != 0 || listen(fd, backlog) != 0 ||
      getsockname(fd, (struct sockaddr *)ss, len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static unsigned port_of(const struct sockaddr_storage *ss)
{
  if (ss->ss_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
  return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* An address nothing listens on: bind a socket, note its port, close it. */
static void refused_addr(struct sockaddr_storage *ss, socklen_t *len)
{
  int fd = listen_on(AF_INET, 1, ss, len);
  ck_assert_int_ge(fd, 0);
  close(fd);
}

/* A listener whose accept queue is full: further SYNs are dropped, so a
 * connect to it hangs (a "black hole" on loopback). */
typedef struct blackhole {
  int listener, filler;
  struct sockaddr_storage ss;
  socklen_t len;
} blackhole;

static void blackhole_open(blackhole *b)
{
  b->listener = listen_on(AF_INET, 0, &b->ss, &b->len);
  ck_assert_int_ge(b->listener, 0);
  b->filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_eq(connect(b->filler, (struct sockaddr *)&b->ss, b->len), 0);
  /* Give the kernel a moment to move it into the accept queue. */
  usleep(20000);
}

static void blackhole_close(blackhole *b)
{
  close(b->filler);
  close(b->listener);
}

/* ------------------------------------------------------------------ */
/* API basics                                                           */
/* ------------------------------------------------------------------ */

START_TEST(api_defaults_and_validation)
{
  mail_conn *c = NULL;
  mail_conn_free(NULL);
  mail_conn_close(NULL);
  ck_assert_int_eq(mail_conn_new(NULL, NULL), MAIL_ERR_INVALID);
  mail_allocator bad = {0};
  ck_assert_int_eq(mail_conn_new(&c, &bad), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_init(), MAIL_OK);
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);

  ck_assert_str_eq(mail_conn_last_error(c), "");
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_int_eq(mail_conn_want(c), 0);
  ck_assert(mail_conn_timeout_ms(c) == -1);
  ck_assert_int_eq(mail_conn_is_tls(c), 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 0);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_ptr_null(mail_conn_tls_version(c));
  ck_assert_ptr_null(mail_conn_tls_cipher(c));
  ck_assert_ptr_null(mail_conn_verify_error(c));
  ck_assert_int_eq(mail_conn_tls_resumed(c), 0);
  const unsigned char *der;
  size_t len;
  ck_assert_int_eq(mail_conn_peer_certificate(c, &der, &len), MAIL_ERR_NOT_FOUND);
  unsigned char cb[64];
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len),
                   MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_conn_channel_binding(c, 99, cb, sizeof cb, &len), MAIL_ERR_INVALID);

  mail_limits l = {.version = MAIL_LIMITS_VERSION};
  mail_conn_get_limits(c, &l);
  ck_assert_uint_eq(l.max_line, 64 * 1024);
  l.version = 99;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_ERR_INVALID);
  l.version = MAIL_LIMITS_VERSION;
  l.max_line = 2;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_ERR_INVALID);
  l.max_line = 100;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_OK);
  ck_assert_uint_eq(mail_conn_limits(c)->max_line, 100);

  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, -2), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_timeout(c, 7, 100), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, -1), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, "a\r\nb"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, ""), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, "mx.example"), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, NULL), MAIL_OK);

  /* Host names with CR/LF/NUL never reach the resolver. */
  ck_assert_int_eq(mail_conn_connect(c, "a\nb", 25, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_connect(c, "localhost", 0, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_connect(c, NULL, 25, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_adopt_fd(c, -1, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_connect_unix(c, NULL), MAIL_ERR_INVALID);
  /* Nothing to run on an unconnected connection. */
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_STATE);
  mail_conn_free(c);
}
END_TEST

START_TEST(adopt_fd_rules)
{
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  /* A descriptor number that is not open: refused, nothing closed. */
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int dead = dup(sv[0]);
  close(dead);
  ck_assert_int_eq(mail_conn_adopt_fd(c, dead, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], "host\r"), MAIL_ERR_INVALID);
  ck_assert_int_eq(fcntl(sv[0], F_GETFD), 0); /* still the caller's, still open */
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_fd(c), sv[0]);
  ck_assert_int_ne(fcntl(sv[0], F_GETFL) & O_NONBLOCK, 0);
  ck_assert_int_ne(fcntl(sv[0], F_GETFD) & FD_CLOEXEC, 0);
  ck_assert_int_eq(mail_conn_is_open(c), 1);
  ck_assert_ptr_null(mail_conn_host(c));
  /* Already open. */
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[1], NULL), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", 25, 0), MAIL_ERR_STATE);
  static const mail_transport_ops ops = {.version = MAIL_TRANSPORT_OPS_VERSION};
  ck_assert_int_eq(mail_conn_set_transport(c, &ops, NULL), MAIL_ERR_STATE);
  mail_conn_close(c);
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  /* The connection closed its descriptor. */
  ck_assert_int_eq(fcntl(sv[0], F_GETFD), -1);
  mail_conn_free(c);
  close(sv[1]);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The driver over a socket pair                                        */
/* ------------------------------------------------------------------ */

START_TEST(pair_roundtrip_and_trace)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn_set_trace(c, on_trace, &tl);
  write_all(peer, "+OK hello\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_str_eq(e.line, "+OK hello");
  ck_assert_int_eq(mail_conn_sendf(c, "CMD %d %s\r\n", 42, "x"), MAIL_OK);
  write_all(peer, "+OK 42\r\n");
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_str_eq(e.line, "+OK 42");
  char buf[64];
  ssize_t n = read(peer, buf, sizeof buf);
  ck_assert_int_eq(n, 10);
  ck_assert_int_eq(memcmp(buf, "CMD 42 x\r\n", 10), 0);
  ck_assert_str_eq(tl.send, "CMD 42 x\r\n|");
  ck_assert_str_eq(tl.recv, "+OK hello\r\n|+OK 42\r\n|");
  mail_conn_close(c);
  ck_assert_ptr_nonnull(strstr(tl.info, "connection closed"));
  tl.info[0] = '\0';
  mail_conn_free(c);
  ck_assert_str_eq(tl.info, ""); /* free itself calls no hook */
  close(peer);
}
END_TEST

START_TEST(pair_io_timeout)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 200), MAIL_OK);
  eng e;
  int64_t t0 = wall_ms();
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_TIMEOUT);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 150 && took < 2000, "took %lld ms", (long long)took);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "timed out"));
  /* Later calls report the failure that closed it, and its description. */
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_TIMEOUT);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "timed out"));
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(pair_wait_timeout_override)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 60000), MAIL_OK);
  mail_conn_set_wait_timeout(c, 150);
  /* The override holds across progress: a first line arrives, then the
   * wait for the second still uses it. */
  write_all(peer, "+OK one\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  int64_t t0 = wall_ms();
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_TIMEOUT);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 100 && took < 2000, "took %lld ms", (long long)took);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(pair_event_loop)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 5000), MAIL_OK);
  mail_conn_set_nonblocking(c, 1);
  eng e;
  ck_assert_int_eq(eng_line(&e, c, "HELLO\r\n"), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ);
  int64_t left = mail_conn_timeout_ms(c);
  ck_assert_msg(left > 4000 && left <= 5000, "timeout_ms %lld", (long long)left);
  /* The command went out before the read blocked. */
  char buf[16];
  ck_assert_int_eq(read(peer, buf, sizeof buf), 7);
  ck_assert_int_eq(mail_conn_out_pending(c), 0);
  /* Half a line: still waiting. */
  write_all(peer, "+OK wor");
  struct pollfd p = {mail_conn_fd(c), POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 1000), 1);
  ck_assert_int_eq(mail_conn_run(c, eng_advance, &e), MAIL_ERR_AGAIN);
  write_all(peer, "ld\r\n");
  ck_assert_int_eq(poll(&p, 1, 1000), 1);
  ck_assert_int_eq(mail_conn_run(c, eng_advance, &e), MAIL_OK);
  ck_assert_str_eq(e.line, "+OK world");
  ck_assert_int_eq(mail_conn_want(c), 0);
  ck_assert(mail_conn_timeout_ms(c) == -1);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(pair_event_loop_timeout)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 100), MAIL_OK);
  mail_conn_set_nonblocking(c, 1);
  eng e;
  int rc = eng_line(&e, c, NULL);
  int64_t t0 = wall_ms();
  while (rc == MAIL_ERR_AGAIN && wall_ms() - t0 < 3000) {
    struct pollfd p = {mail_conn_fd(c), POLLIN, 0};
    poll(&p, 1, (int)mail_conn_timeout_ms(c));
    rc = mail_conn_run(c, eng_advance, &e);
  }
  ck_assert_int_eq(rc, MAIL_ERR_TIMEOUT);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(pair_peer_closes)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  /* A full line then the close: the line is delivered, the next read
   * reports the close. */
  write_all(peer, "+OK last words\r\n+OK trunc");
  close(peer);
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_str_eq(e.line, "+OK last words");
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_CLOSED);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_str_ne(mail_conn_last_error(c), "");
  mail_conn_free(c);
}
END_TEST

START_TEST(pair_write_to_closed_peer)
{
  /* The server said goodbye and closed before reading our command. The
   * write fails (no SIGPIPE: this process would die), and the driver still
   * reads what the server sent, so the engine can report it. */
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  write_all(peer, "421 closing\r\n");
  close(peer);
  eng e;
  ck_assert_int_eq(eng_line(&e, c, "NOOP\r\n"), MAIL_OK);
  ck_assert_str_eq(e.line, "421 closing");
  ck_assert_int_eq(mail_conn_out_pending(c), 0);
  ck_assert_int_eq(eng_line(&e, c, "QUIT\r\n"), MAIL_ERR_CLOSED);
  mail_conn_free(c);
}
END_TEST

START_TEST(pair_line_limit_changed_live)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  mail_limits l;
  mail_conn_get_limits(c, &l);
  l.max_line = 32;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_OK);
  write_all(peer, "+OK this line is much longer than thirty-two bytes\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_LIMIT);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  mail_conn_free(c);
  close(peer);
}
END_TEST

typedef struct sink {
  int fd;
  size_t want;
  size_t got;
} sink;

static void *sink_main(void *arg)
{
  sink *s = arg;
  char buf[65536];
  while (s->got < s->want) {
    ssize_t n = read(s->fd, buf, sizeof buf);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != (char)('a' + (s->got + (size_t)i) % 26))
        return NULL;
    s->got += (size_t)n;
    usleep(100); /* a slow reader: the client's writes become partial */
  }
  char reply[64];
  snprintf(reply, sizeof reply, "+OK %zu\r\n", s->got);
  write_all(s->fd, reply);
  return NULL;
}

START_TEST(pair_big_write_partial)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn_set_trace(c, on_trace, &tl);
  enum { BIG = 4 * 1024 * 1024 };
  char *data = malloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    data[i] = (char)('a' + i % 26);
  ck_assert_int_eq(mail_conn_send(c, data, BIG), MAIL_OK);
  free(data);
  sink s = {peer, BIG, 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, sink_main, &s), 0);
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  pthread_join(th, NULL);
  char want[64];
  snprintf(want, sizeof want, "+OK %d", BIG);
  ck_assert_str_eq(e.line, want);
  ck_assert_int_gt(tl.send_calls, 1); /* the socket took it in pieces */
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(output_bound_and_rollback)
{
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn_set_trace(c, on_trace, &tl);
  /* The output queue has its own bound, max_output (16 KiB at least). */
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_output = 16 * 1024;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_OK);
  static char big[16 * 1024 + 16];
  memset(big, 'x', sizeof big);
  ck_assert_int_eq(mail_conn_send(c, big, sizeof big), MAIL_ERR_TOO_BIG);
  ck_assert_uint_eq(mail_conn_out_pending(c), 0);

  ck_assert_int_eq(mail_conn_send(c, "A ", 2), MAIL_OK);
  uint64_t mark = mail_conn_out_mark(c);
  ck_assert_int_eq(mail_conn_send_secret(c, "pw", 2), MAIL_OK);
  ck_assert_int_eq(mail_conn_send(c, big, 16 * 1024 - 3), MAIL_ERR_TOO_BIG);
  mail_conn_out_rollback(c, mark);
  ck_assert_uint_eq(mail_conn_out_pending(c), 2);
  ck_assert_int_eq(mail_conn_send(c, "B\r\n", 3), MAIL_OK);
  write_all(peer, "+OK\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  /* Nothing of the rolled-back secret is in the trace or on the wire. */
  ck_assert_str_eq(tl.send, "A B\r\n|");
  char buf[16];
  ck_assert_int_eq(read(peer, buf, sizeof buf), 5);
  ck_assert_int_eq(memcmp(buf, "A B\r\n", 5), 0);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(secrets_wiped_and_redacted)
{
  static const char pw[] = "s3cr3t-pässwörd";
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_test_alloc_forbid_str(&ta, pw);
  int peer;
  mail_conn *c = pair_conn(&peer, mail_test_alloc_hooks(&ta));
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn_set_trace(c, on_trace, &tl);
  /* Plain bytes first, so the buffer must move when it turns sensitive. */
  ck_assert_int_eq(mail_conn_send(c, "AUTH PLAIN ", 11), MAIL_OK);
  ck_assert_int_eq(mail_conn_send_secret(c, pw, strlen(pw)), MAIL_OK);
  ck_assert_int_eq(mail_conn_send_secret(c, "-more", 5), MAIL_OK); /* adjacent: one span */
  ck_assert_int_eq(mail_conn_send(c, "\r\n", 2), MAIL_OK);
  write_all(peer, "+OK\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_str_eq(tl.send, "AUTH PLAIN [redacted]\r\n|");
  /* A secret queued and never sent is wiped on close too. */
  ck_assert_int_eq(mail_conn_send_secret(c, pw, strlen(pw)), MAIL_OK);
  mail_conn_free(c);
  ck_assert_msg(ta.forbidden_hits == 0, "%s", ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
  close(peer);
}
END_TEST

START_TEST(many_small_secrets_redacted)
{
  /* The redacted trace is longer than what was written: 1-byte secrets
   * each become "[redacted]". */
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn_set_trace(c, on_trace, &tl);
  char want[1024] = "";
  for (int i = 0; i < 40; i++) {
    ck_assert_int_eq(mail_conn_send(c, "a", 1), MAIL_OK);
    ck_assert_int_eq(mail_conn_send_secret(c, "x", 1), MAIL_OK);
    strcat(want, "a[redacted]");
  }
  ck_assert_int_eq(mail_conn_send(c, "\r\n", 2), MAIL_OK);
  strcat(want, "\r\n|");
  write_all(peer, "+OK\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_str_eq(tl.send, want);
  ck_assert_int_eq(tl.send_calls, 1);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(tracking_allocator_catches_unwiped)
{
  /* The checker must itself work: an unwiped secret is found. */
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_test_alloc_forbid_str(&ta, "hunter2");
  const mail_allocator *a = mail_test_alloc_hooks(&ta);
  char *s = mail_strdup(a, "pass hunter2 end");
  ck_assert_uint_eq(ta.live, 1);
  mail_dealloc(a, s);
  ck_assert_uint_eq(ta.forbidden_hits, 1);
  s = mail_strdup(a, "pass hunter2 end");
  mail_dealloc_secret_str(a, s);
  ck_assert_uint_eq(ta.forbidden_hits, 1);
  /* realloc scans the block it leaves behind */
  s = mail_strdup(a, "hunter2");
  s = mail_realloc(a, s, 4096);
  ck_assert_uint_eq(ta.forbidden_hits, 2);
  mail_dealloc_secret(a, s, 4096);
  /* fail the Nth call */
  mail_test_alloc_fail_at(&ta, ta.calls + 2, 0);
  void *p1 = mail_malloc(a, 8);
  void *p2 = mail_malloc(a, 8);
  void *p3 = mail_malloc(a, 8);
  ck_assert_ptr_nonnull(p1);
  ck_assert_ptr_null(p2);
  ck_assert_ptr_nonnull(p3);
  ck_assert_uint_eq(ta.failures, 1);
  mail_dealloc(a, p1);
  mail_dealloc(a, p3);
  ck_assert_uint_eq(ta.live, 0);
  ck_assert_uint_eq(ta.live_bytes, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

START_TEST(starttls_over_socket_fails_cleanly)
{
  /* A silent peer: the TLS handshake (or, without TLS support, the TLS
   * setup) fails, fatally, and the connection is closed. */
  int peer;
  mail_conn *c = pair_conn(&peer, NULL);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 200), MAIL_OK);
  int rc = mail_conn_start_tls(c);
  if (rc == MAIL_OK) {
    ck_assert_int_eq(mail_conn_is_tls(c), 0); /* not before the handshake */
    eng e;
    rc = eng_line(&e, c, "NOOP\r\n");
  }
  ck_assert_msg(mail_status_is_fatal(rc), "rc %d", rc);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_int_eq(mail_conn_is_tls(c), 0);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(starttls_without_host_name)
{
  /* An adopted descriptor with no host name cannot be verified: STARTTLS
   * fails as a TLS failure, and the connection is closed. */
  int sv[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_adopt_fd(c, sv[0], NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_ERR_TLS);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_str_ne(mail_conn_last_error(c), "");
  mail_conn_free(c);
  close(sv[1]);
}
END_TEST

START_TEST(starttls_refuses_buffered_bytes)
{
  int peer;
  trace_log tl = {{0}, {0}, {0}, 0};
  mail_conn *c = pair_conn(&peer, NULL);
  mail_conn_set_trace(c, on_trace, &tl);
  write_all(peer, "220 go ahead\r\n250 injected\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, "STARTTLS\r\n"), MAIL_OK);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_ERR_STARTTLS_INJECTION);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "STARTTLS"));
  /* Nothing else was written, and nothing more can be. */
  ck_assert_str_eq(tl.send, "STARTTLS\r\n|");
  ck_assert_int_eq(eng_line(&e, c, "EHLO x\r\n"), MAIL_ERR_STARTTLS_INJECTION);
  mail_conn_free(c);
  close(peer);
}
END_TEST

START_TEST(tls_config_reference)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_tls_config *cfg = NULL;
  int rc = mail_tls_config_new(&cfg, mail_test_alloc_hooks(&ta));
  if (rc == MAIL_ERR_UNSUPPORTED)
    return; /* built without TLS */
  ck_assert_int_eq(rc, MAIL_OK);
  mail_conn *c1, *c2;
  ck_assert_int_eq(mail_conn_new(&c1, mail_test_alloc_hooks(&ta)), MAIL_OK);
  ck_assert_int_eq(mail_conn_new(&c2, mail_test_alloc_hooks(&ta)), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c1, cfg), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c2, cfg), MAIL_OK);
  mail_tls_config_free(cfg); /* the connections keep it alive */
  ck_assert_int_eq(mail_conn_set_tls_config(c1, NULL), MAIL_OK);
  mail_conn_free(c1);
  mail_conn_free(c2);
  ck_assert_uint_eq(ta.live, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* User transports                                                      */
/* ------------------------------------------------------------------ */

typedef struct fake {
  int connects, closes, starts;
  int connect_rc, start_rc, read_rc;
  int verified;
  char host[64];
  unsigned port;
  const char *in;
  size_t in_pos;
  char out[256];
  size_t out_len;
  int last_read_timeout;
} fake;

static int f_connect(void *u, const char *host, unsigned port, int timeout_ms)
{
  fake *f = u;
  (void)timeout_ms;
  f->connects++;
  snprintf(f->host, sizeof f->host, "%s", host ? host : "(null)");
  f->port = port;
  return f->connect_rc;
}

static int f_read(void *u, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  fake *f = u;
  f->last_read_timeout = timeout_ms;
  if (f->read_rc)
    return f->read_rc;
  size_t left = f->in ? strlen(f->in) - f->in_pos : 0;
  if (!left)
    return MAIL_ERR_CLOSED;
  size_t k = left < len ? left : len;
  memcpy(buf, f->in + f->in_pos, k);
  f->in_pos += k;
  *got = k;
  return MAIL_OK;
}

static int f_write(void *u, const unsigned char *buf, size_t len, size_t *written, int timeout_ms)
{
  fake *f = u;
  (void)timeout_ms;
  if (f->out_len + len > sizeof f->out)
    return MAIL_ERR_IO;
  memcpy(f->out + f->out_len, buf, len);
  f->out_len += len;
  *written = len;
  return MAIL_OK;
}

static int f_start_tls(void *u, const char *host, int timeout_ms)
{
  fake *f = u;
  (void)timeout_ms;
  f->starts++;
  snprintf(f->host, sizeof f->host, "%s", host ? host : "(null)");
  return f->start_rc;
}

static int f_verified(void *u)
{
  return ((fake *)u)->verified;
}

static int f_cb(void *u, int type, unsigned char *out, size_t cap, size_t *len)
{
  (void)u;
  *len = 4;
  if (cap < 4)
    return MAIL_ERR_BUFFER;
  memcpy(out, type == MAIL_CB_TLS_EXPORTER ? "expo" : "endp", 4);
  return MAIL_OK;
}

static void f_close(void *u)
{
  ((fake *)u)->closes++;
}

static const mail_transport_ops ops_plain = {
  .version = MAIL_TRANSPORT_OPS_VERSION,
  .connect = f_connect,
  .read = f_read,
  .write = f_write,
  .close = f_close,
};

static const mail_transport_ops ops_tls = {
  .version = MAIL_TRANSPORT_OPS_VERSION,
  .connect = f_connect,
  .read = f_read,
  .write = f_write,
  .start_tls = f_start_tls,
  .is_verified = f_verified,
  .channel_binding = f_cb,
  .close = f_close,
};

START_TEST(user_transport_validation)
{
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_transport_ops bad = ops_plain;
  bad.version = 0;
  ck_assert_int_eq(mail_conn_set_transport(c, &bad, NULL), MAIL_ERR_INVALID);
  bad.version = MAIL_TRANSPORT_OPS_VERSION + 1;
  ck_assert_int_eq(mail_conn_set_transport(c, &bad, NULL), MAIL_ERR_INVALID);
  bad = ops_plain;
  bad.read = NULL;
  ck_assert_int_eq(mail_conn_set_transport(c, &bad, NULL), MAIL_ERR_INVALID);
  fake f = {0};
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_plain, &f), MAIL_OK);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  ck_assert_int_eq(mail_conn_connect_addr(c, &sin, sizeof sin, NULL, 0), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_connect_unix(c, "/tmp/x"), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_transport(c, NULL, NULL), MAIL_OK);
  mail_conn_free(c);
}
END_TEST

START_TEST(user_transport_plain)
{
  mail_conn *c;
  fake f = {0};
  f.in = "+OK hi\r\n+OK done\r\n";
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_plain, &f), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 5000), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 587, 0), MAIL_OK);
  ck_assert_int_eq(f.connects, 1);
  ck_assert_str_eq(f.host, "mx.example");
  ck_assert_uint_eq(f.port, 587);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_str_eq(mail_conn_host(c), "mx.example");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  ck_assert_msg(f.last_read_timeout > 0 && f.last_read_timeout <= 5000, "timeout %d",
                f.last_read_timeout);
  ck_assert_int_eq(eng_line(&e, c, "CMD\r\n"), MAIL_OK);
  ck_assert_str_eq(e.line, "+OK done");
  ck_assert_int_eq(memcmp(f.out, "CMD\r\n", 5), 0);
  ck_assert_int_eq(mail_conn_is_tls(c), 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 0);
  size_t len;
  unsigned char cb[8];
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len),
                   MAIL_ERR_UNSUPPORTED);
  /* No start_tls op: STARTTLS is impossible, and that is fatal. */
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_ERR_STARTTLS);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_int_eq(f.closes, 1);
  mail_conn_free(c);
  ck_assert_int_eq(f.closes, 1);

  /* Implicit TLS without start_tls. */
  fake g = {0};
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_plain, &g), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 465, 1), MAIL_ERR_TLS);
  ck_assert_int_eq(g.closes, 1);
  mail_conn_free(c);
}
END_TEST

START_TEST(user_transport_tls)
{
  mail_conn *c;
  fake f = {0};
  f.in = "+OK over tls\r\n";
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_tls, &f), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_server_name(c, "tls.example"), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "10.0.0.1", 993, 1), MAIL_OK);
  ck_assert_int_eq(f.starts, 1);
  ck_assert_str_eq(f.host, "tls.example");
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 0);
  f.verified = 1;
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  unsigned char cb[8];
  size_t len;
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_SERVER_END_POINT, cb, sizeof cb, &len),
                   MAIL_OK);
  ck_assert_uint_eq(len, 4);
  ck_assert_int_eq(memcmp(cb, "endp", 4), 0);
  /* tls-unique is asked of version 2 transports only: this callback
   * predates it and would answer with another type's data. */
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &len), MAIL_OK);
  mail_conn_free(c);
  mail_transport_ops v1 = ops_tls;
  v1.version = 1;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &v1, &f), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "10.0.0.1", 993, 1), MAIL_OK);
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &len),
                   MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len), MAIL_OK);
  ck_assert_int_eq(mail_conn_channel_binding(c, 4, cb, sizeof cb, &len), MAIL_ERR_INVALID);
  /* TLS facts that only the OpenSSL layer has are absent, not made up. */
  ck_assert_ptr_null(mail_conn_tls_version(c));
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_OK);
  mail_conn_free(c);

  /* A failing start_tls is fatal; a non-fatal code becomes MAIL_ERR_TLS. */
  fake g = {0};
  g.start_rc = MAIL_ERR_SERVER;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_tls, &g), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 465, 1), MAIL_ERR_TLS);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  g.start_rc = MAIL_ERR_TLS_VERIFY;
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 465, 1), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(g.closes, 2);
  mail_conn_free(c);
}
END_TEST

START_TEST(user_transport_errors)
{
  mail_conn *c;
  fake f = {0};
  f.connect_rc = MAIL_ERR_SERVER; /* not a connect status: reported as CONNECT */
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(c, &ops_plain, &f), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 25, 0), MAIL_ERR_CONNECT);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  f.connect_rc = MAIL_OK;
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 25, 0), MAIL_OK);
  f.read_rc = MAIL_ERR_AUTH; /* outside the contract: an I/O error */
  eng e;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_IO);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  f.read_rc = 0;
  ck_assert_int_eq(mail_conn_connect(c, "mx.example", 25, 0), MAIL_OK);
  f.read_rc = MAIL_ERR_TIMEOUT;
  ck_assert_int_eq(eng_line(&e, c, NULL), MAIL_ERR_TIMEOUT);
  mail_conn_free(c);
  ck_assert_int_eq(f.closes, 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* TCP and Unix sockets (listeners opened by the test)                  */
/* ------------------------------------------------------------------ */

static void greet_and_check(int listener, mail_conn *c)
{
  int s = accept(listener, NULL, NULL);
  ck_assert_int_ge(s, 0);
  write_all(s, "220 loopback ready\r\n");
  eng e;
  ck_assert_int_eq(eng_line(&e, c, "QUIT\r\n"), MAIL_OK);
  ck_assert_str_eq(e.line, "220 loopback ready");
  char buf[16];
  ck_assert_int_eq(read(s, buf, sizeof buf), 6);
  close(s);
}

START_TEST(tcp_connect_ipv4_and_ipv6)
{
  for (int fam = 0; fam < 2; fam++) {
    struct sockaddr_storage ss;
    socklen_t len;
    int l = listen_on(fam ? AF_INET6 : AF_INET, 4, &ss, &len);
    if (l < 0 && fam == 1)
      continue; /* no IPv6 loopback on this host */
    ck_assert_int_ge(l, 0);
    mail_conn *c;
    ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
    trace_log tl = {{0}, {0}, {0}, 0};
    mail_conn_set_trace(c, on_trace, &tl);
    ck_assert_int_eq(mail_conn_connect(c, fam ? "::1" : "127.0.0.1", port_of(&ss), 0), MAIL_OK);
    ck_assert_int_ge(mail_conn_fd(c), 0);
    ck_assert_ptr_nonnull(strstr(tl.info, fam ? "connected to [::1]:" : "connected to 127.0.0.1:"));
    int one = 0;
    socklen_t ol = sizeof one;
    ck_assert_int_eq(getsockopt(mail_conn_fd(c), IPPROTO_TCP, 1 /* TCP_NODELAY */, &one, &ol), 0);
    ck_assert_int_ne(one, 0);
    greet_and_check(l, c);
    mail_conn_free(c);
    close(l);
  }
}
END_TEST

START_TEST(tcp_connect_bracketed_and_addr)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int l = listen_on(AF_INET6, 4, &ss, &len);
  if (l < 0)
    return;
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "[::1]", port_of(&ss), 0), MAIL_OK);
  greet_and_check(l, c);
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_connect_addr(c, &ss, len, NULL, 0), MAIL_OK);
  greet_and_check(l, c);
  mail_conn_free(c);
  close(l);
}
END_TEST

START_TEST(tcp_connect_refused)
{
  struct sockaddr_storage ss;
  socklen_t len;
  refused_addr(&ss, &len);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port_of(&ss), 0), MAIL_ERR_CONNECT);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "refused"));
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  mail_conn_free(c);
}
END_TEST

START_TEST(tcp_first_address_refuses)
{
  struct sockaddr_storage bad, good;
  socklen_t blen, glen;
  refused_addr(&bad, &blen);
  int l = listen_on(AF_INET, 4, &good, &glen);
  ck_assert_int_ge(l, 0);
  const void *addrs[] = {&bad, &good};
  size_t lens[] = {blen, glen};
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 2000), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect_addrs(c, addrs, lens, 2, "multi.test", 0), MAIL_OK);
  greet_and_check(l, c);
  mail_conn_free(c);
  close(l);
}
END_TEST

START_TEST(tcp_first_address_silent)
{
  /* The first address never answers; it gets its share (half) of the
   * deadline, then the second one connects — all within the deadline. */
  blackhole b;
  blackhole_open(&b);
  struct sockaddr_storage good;
  socklen_t glen;
  int l = listen_on(AF_INET, 4, &good, &glen);
  ck_assert_int_ge(l, 0);
  const void *addrs[] = {&b.ss, &good};
  size_t lens[] = {b.len, glen};
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 1000), MAIL_OK);
  int64_t t0 = wall_ms();
  ck_assert_int_eq(mail_conn_connect_addrs(c, addrs, lens, 2, "multi.test", 0), MAIL_OK);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 400 && took < 1000, "took %lld ms", (long long)took);
  greet_and_check(l, c);
  mail_conn_free(c);
  close(l);
  blackhole_close(&b);
}
END_TEST

START_TEST(tcp_connect_timeout)
{
  blackhole b;
  blackhole_open(&b);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 300), MAIL_OK);
  int64_t t0 = wall_ms();
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port_of(&b.ss), 0), MAIL_ERR_TIMEOUT);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 250 && took < 2000, "took %lld ms", (long long)took);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "timed out"));
  ck_assert_int_eq(mail_conn_fd(c), -1);
  mail_conn_free(c);
  blackhole_close(&b);
}
END_TEST

START_TEST(tcp_event_loop_connect_and_greeting)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int l = listen_on(AF_INET, 4, &ss, &len);
  ck_assert_int_ge(l, 0);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_conn_set_nonblocking(c, 1);
  int rc = mail_conn_connect(c, "127.0.0.1", port_of(&ss), 0);
  int rounds = 0;
  while (rc == MAIL_ERR_AGAIN && rounds++ < 100) {
    ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_WRITE);
    ck_assert_int_ge(mail_conn_fd(c), 0);
    struct pollfd p = {mail_conn_fd(c), POLLOUT, 0};
    ck_assert_int_ge(poll(&p, 1, (int)mail_conn_timeout_ms(c)), 0);
    rc = mail_conn_connect(c, "127.0.0.1", port_of(&ss), 0);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  int s = accept(l, NULL, NULL);
  ck_assert_int_ge(s, 0);
  eng e;
  rc = eng_line(&e, c, NULL);
  ck_assert_int_eq(rc, MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ);
  write_all(s, "220 event loop\r\n");
  rounds = 0;
  while (rc == MAIL_ERR_AGAIN && rounds++ < 100) {
    struct pollfd p = {mail_conn_fd(c), POLLIN, 0};
    ck_assert_int_ge(poll(&p, 1, (int)mail_conn_timeout_ms(c)), 0);
    rc = mail_conn_run(c, eng_advance, &e);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_str_eq(e.line, "220 event loop");
  close(s);
  mail_conn_free(c);
  close(l);
}
END_TEST

START_TEST(tcp_event_loop_connect_timeout)
{
  blackhole b;
  blackhole_open(&b);
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_conn_set_nonblocking(c, 1);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 200), MAIL_OK);
  int rc = mail_conn_connect_addr(c, &b.ss, b.len, NULL, 0);
  int64_t t0 = wall_ms();
  while (rc == MAIL_ERR_AGAIN && wall_ms() - t0 < 3000) {
    struct pollfd p = {mail_conn_fd(c), POLLOUT, 0};
    poll(&p, 1, (int)mail_conn_timeout_ms(c));
    rc = mail_conn_connect_addr(c, &b.ss, b.len, NULL, 0);
  }
  ck_assert_int_eq(rc, MAIL_ERR_TIMEOUT);
  mail_conn_free(c);
  blackhole_close(&b);
}
END_TEST

START_TEST(unix_socket_connect)
{
  char dir[] = "/tmp/libmail-conn-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/lmtp.sock", dir);
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un un = {0};
  un.sun_family = AF_UNIX;
  ck_assert_uint_lt(strlen(path), sizeof un.sun_path);
  memcpy(un.sun_path, path, strlen(path) + 1);
  ck_assert_int_eq(bind(l, (struct sockaddr *)&un, sizeof un), 0);
  ck_assert_int_eq(listen(l, 4), 0);

  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect_unix(c, path), MAIL_OK);
  ck_assert_ptr_null(mail_conn_host(c));
  greet_and_check(l, c);
  mail_conn_close(c);

  char missing[300];
  snprintf(missing, sizeof missing, "%s/none.sock", dir);
  ck_assert_int_eq(mail_conn_connect_unix(c, missing), MAIL_ERR_CONNECT);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "unix:"));
  char toolong[200];
  memset(toolong, 'x', sizeof toolong - 1);
  toolong[sizeof toolong - 1] = '\0';
  ck_assert_int_eq(mail_conn_connect_unix(c, toolong), MAIL_ERR_INVALID);
  mail_conn_free(c);
  close(l);
  unlink(path);
  rmdir(dir);
}
END_TEST

/* Fail each allocation of a real connect in turn: a clean error and no
 * leak (or descriptor left behind) every time. */
static int connect_run(void *user, mail_test_alloc *ta)
{
  int l = *(int *)user;
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ck_assert_int_eq(getsockname(l, (struct sockaddr *)&ss, &len), 0);
  mail_conn *c = NULL;
  int rc = mail_conn_new(&c, mail_test_alloc_hooks(ta));
  if (rc == MAIL_OK) {
    mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 2000);
    rc = mail_conn_connect(c, "127.0.0.1", port_of(&ss), 0);
  }
  if (rc == MAIL_OK) {
    /* Earlier runs may have left connections in the accept queue (their
     * client side failed after the TCP connect): find ours. */
    struct sockaddr_storage mine, theirs;
    socklen_t ml = sizeof mine;
    ck_assert_int_eq(getsockname(mail_conn_fd(c), (struct sockaddr *)&mine, &ml), 0);
    int s;
    for (;;) {
      s = accept(l, (struct sockaddr *)&theirs, &(socklen_t){sizeof theirs});
      ck_assert_int_ge(s, 0);
      if (port_of(&theirs) == port_of(&mine))
        break;
      close(s);
    }
    write_all(s, "220 hi\r\n");
    eng e;
    rc = eng_line(&e, c, NULL);
    close(s);
  }
  mail_conn_free(c);
  return rc;
}

START_TEST(tcp_nomem_while_connecting)
{
  struct sockaddr_storage ss;
  socklen_t len;
  int l = listen_on(AF_INET, 64, &ss, &len);
  ck_assert_int_ge(l, 0);
  MAIL_TEST_ASSERT_EACH_ALLOCATION("tcp connect", connect_run, &l, MAIL_OK, MAIL_TEST_NOMEM_CLEAN);
  close(l);
}
END_TEST

int main(void)
{
  /* A write to a closed peer must not kill us: the library uses
   * MSG_NOSIGNAL, so SIGPIPE stays at its default (fatal) on purpose. */
  Suite *s = suite_create("conn");
  TCase *api = tcase_create("api");
  tcase_add_test(api, api_defaults_and_validation);
  tcase_add_test(api, adopt_fd_rules);
  tcase_add_test(api, tracking_allocator_catches_unwiped);
  tcase_add_test(api, tls_config_reference);
  suite_add_tcase(s, api);

  TCase *drv = tcase_create("driver");
  tcase_set_timeout(drv, 30);
  tcase_add_test(drv, pair_roundtrip_and_trace);
  tcase_add_test(drv, pair_io_timeout);
  tcase_add_test(drv, pair_wait_timeout_override);
  tcase_add_test(drv, pair_event_loop);
  tcase_add_test(drv, pair_event_loop_timeout);
  tcase_add_test(drv, pair_peer_closes);
  tcase_add_test(drv, pair_write_to_closed_peer);
  tcase_add_test(drv, pair_line_limit_changed_live);
  tcase_add_test(drv, pair_big_write_partial);
  tcase_add_test(drv, output_bound_and_rollback);
  tcase_add_test(drv, secrets_wiped_and_redacted);
  tcase_add_test(drv, many_small_secrets_redacted);
  tcase_add_test(drv, starttls_over_socket_fails_cleanly);
  tcase_add_test(drv, starttls_refuses_buffered_bytes);
  tcase_add_test(drv, starttls_without_host_name);
  suite_add_tcase(s, drv);

  TCase *usr = tcase_create("user-transport");
  tcase_add_test(usr, user_transport_validation);
  tcase_add_test(usr, user_transport_plain);
  tcase_add_test(usr, user_transport_tls);
  tcase_add_test(usr, user_transport_errors);
  suite_add_tcase(s, usr);

  TCase *net = tcase_create("sockets");
  tcase_set_timeout(net, 30);
  tcase_add_test(net, tcp_connect_ipv4_and_ipv6);
  tcase_add_test(net, tcp_connect_bracketed_and_addr);
  tcase_add_test(net, tcp_connect_refused);
  tcase_add_test(net, tcp_first_address_refuses);
  tcase_add_test(net, tcp_first_address_silent);
  tcase_add_test(net, tcp_connect_timeout);
  tcase_add_test(net, tcp_event_loop_connect_and_greeting);
  tcase_add_test(net, tcp_event_loop_connect_timeout);
  tcase_add_test(net, unix_socket_connect);
  tcase_add_test(net, tcp_nomem_while_connecting);
  suite_add_tcase(s, net);

  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

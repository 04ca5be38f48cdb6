#include "duplex_harness.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/reader.h"

/* The engine keeps at most this much queued (like SMTP's body streaming),
 * in chunks of this size. */
#define HIGH_WATER (256 * 1024)
#define CHUNK (64 * 1024)

int64_t duplex_wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void duplex_gate_init(duplex_gate *g)
{
  pthread_mutex_init(&g->mu, NULL);
  pthread_cond_init(&g->cv, NULL);
  g->open = 0;
}

void duplex_gate_open(duplex_gate *g)
{
  pthread_mutex_lock(&g->mu);
  g->open = 1;
  pthread_cond_broadcast(&g->cv);
  pthread_mutex_unlock(&g->mu);
}

void duplex_gate_wait(duplex_gate *g)
{
  pthread_mutex_lock(&g->mu);
  while (!g->open)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
}

void duplex_gate_destroy(duplex_gate *g)
{
  pthread_cond_destroy(&g->cv);
  pthread_mutex_destroy(&g->mu);
}

int duplex_socket_pair(int sv[2])
{
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
    return -1;
  int size = DUPLEX_SOCKBUF;
  for (int i = 0; i < 2; i++)
    if (setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &size, sizeof size) ||
        setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size))
      return -1;
  return 0;
}

char duplex_pattern(uint64_t i)
{
  /* Lines of 61 bytes: 59 letters and CRLF, so the batch looks like
   * pipelined commands and a shifted or dropped byte is noticed. The
   * letters are scrambled so that a compressed stream stays nearly as
   * large as the batch (test_conn_compress.c needs writes that block). */
  uint64_t col = i % 61;
  if (col == 59)
    return '\r';
  if (col == 60)
    return '\n';
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return (char)('A' + x % 26);
}

static int write_all(duplex_io *io, const char *p, size_t n, size_t *count)
{
  while (n) {
    long k = io->write(io->ctx, p, n);
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
    if (count)
      *count += (size_t)k;
  }
  return 0;
}

void duplex_peer_serve(duplex_peer *p)
{
  char line[DUPLEX_LINE];
  memset(line, 'r', sizeof line);
  memcpy(line, "+OK ", 4);
  line[DUPLEX_LINE - 2] = '\r';
  line[DUPLEX_LINE - 1] = '\n';
  p->pattern_ok = 1;
  /* Everything written before a single byte is read: a client that only
   * writes while its output is pending would block with us. */
  while (p->written < p->reply_bytes) {
    size_t n = p->reply_bytes - p->written;
    if (write_all(&p->io, line, n < sizeof line ? n : sizeof line, &p->written))
      return;
  }
  /* Silent both ways until the client has said it waits for either. */
  if (p->hold)
    duplex_gate_wait(p->hold);
  char buf[65536];
  while (p->got < p->expect_bytes) {
    size_t want = p->expect_bytes - p->got;
    long k = p->io.read(p->io.ctx, buf, want < sizeof buf ? want : sizeof buf);
    if (k <= 0)
      return;
    for (long i = 0; i < k; i++)
      if (buf[i] != duplex_pattern(p->got + (uint64_t)i))
        p->pattern_ok = 0;
    p->got += (size_t)k;
  }
  if (write_all(&p->io, "DONE\r\n", 6, NULL) == 0)
    p->done_sent = 1;
}

void duplex_eng_init(duplex_eng *e, mail_conn *c, duplex_mode mode, size_t to_send,
                     size_t reply_expected)
{
  memset(e, 0, sizeof *e);
  e->c = c;
  e->mode = mode;
  e->to_send = to_send;
  e->reply_expected = reply_expected;
}

/* Queue the next chunks of the batch while the output queue is low. */
static int produce(duplex_eng *e)
{
  static char chunk[CHUNK];
  while (e->queued < e->to_send && mail_conn_out_pending(e->c) < HIGH_WATER) {
    size_t n = e->to_send - e->queued;
    if (n > sizeof chunk)
      n = sizeof chunk;
    for (size_t i = 0; i < n; i++)
      chunk[i] = duplex_pattern(e->queued + i);
    int rc = mail_conn_send(e->c, chunk, n);
    if (rc)
      return rc;
    e->queued += n;
  }
  return MAIL_OK;
}

static int sending(const duplex_eng *e)
{
  return e->queued < e->to_send || mail_conn_out_pending(e->c) > 0;
}

int duplex_eng_advance(void *engine)
{
  duplex_eng *e = engine;
  mail_reader *r = mail_conn_reader(e->c);
  size_t pending = mail_reader_pending(r);
  if (pending > e->max_pending)
    e->max_pending = pending;
  int take = e->mode != DUPLEX_HOARD || e->queued == e->to_send;
  while (take) {
    const char *l;
    size_t n;
    int rc = mail_reader_line(r, &l, &n, NULL);
    if (rc == MAIL_ERR_AGAIN)
      break;
    if (rc)
      return rc;
    if (e->mode == DUPLEX_EARLY) {
      size_t k = n < sizeof e->first_line - 1 ? n : sizeof e->first_line - 1;
      memcpy(e->first_line, l, k);
      e->first_line[k] = '\0';
      e->queued_at_line = e->queued;
      e->unsent_at_line = mail_conn_out_pending(e->c);
      return MAIL_OK;
    }
    if (n == 4 && memcmp(l, "DONE", 4) == 0)
      return e->reply_got == e->reply_expected && !sending(e) ? MAIL_OK : MAIL_ERR_PROTOCOL;
    if (n != DUPLEX_LINE - 2 || memcmp(l, "+OK ", 4) != 0)
      return MAIL_ERR_PROTOCOL;
    e->reply_got += n + 2;
    if (sending(e))
      e->reply_while_sending += n + 2;
  }
  int rc = produce(e);
  return rc ? rc : MAIL_ERR_AGAIN;
}

int duplex_drive(mail_conn *c, duplex_eng *e, int nonblocking, int *saw, duplex_gate *on_both,
                 int limit_ms)
{
  mail_conn_set_nonblocking(c, nonblocking);
  int64_t t0 = duplex_wall_ms();
  int rc = mail_conn_run(c, duplex_eng_advance, e);
  while (rc == MAIL_ERR_AGAIN) {
    if (duplex_wall_ms() - t0 > limit_ms)
      return MAIL_ERR_TIMEOUT;
    int want = mail_conn_want(c);
    if (want == (MAIL_WANT_READ | MAIL_WANT_WRITE)) {
      if (on_both && !(*saw & DUPLEX_SAW_BOTH))
        duplex_gate_open(on_both);
      *saw |= DUPLEX_SAW_BOTH;
    } else if (want == MAIL_WANT_READ)
      *saw |= DUPLEX_SAW_READ;
    else if (want == MAIL_WANT_WRITE)
      *saw |= DUPLEX_SAW_WRITE;
    struct pollfd p = {mail_conn_fd(c), 0, 0};
    if (want & MAIL_WANT_READ)
      p.events |= POLLIN;
    if (want & MAIL_WANT_WRITE)
      p.events |= POLLOUT;
    int64_t ms = mail_conn_timeout_ms(c);
    poll(&p, 1, ms < 0 || ms > 1000 ? 1000 : (int)ms);
    rc = mail_conn_run(c, duplex_eng_advance, e);
  }
  return rc;
}

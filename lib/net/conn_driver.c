/* The driver: waiting (poll or the caller's event loop), one read, write
 * or handshake step at a time, and the loop mail_conn_run() that runs an
 * engine over the top layer (see conn_internal.h). */
#include <errno.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "net/conn_impl.h"

#if MAIL_WITH_SOCKETS
#include <poll.h>
#endif

/* The longest run of reads that wait for poll() before a read is tried
 * without waiting again (to see whether replies come quicker now). */
#define POLL_STREAK_MAX 64

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

/*
 * The current step cannot proceed until fd is ready for want. Blocking mode:
 * wait and return MAIL_OK so the step is retried, or MAIL_ERR_TIMEOUT when
 * the deadline passes. Event-loop mode: record what we wait for and return
 * MAIL_ERR_AGAIN (or MAIL_ERR_TIMEOUT once the deadline has passed).
 */
int conn_wait_for(mail_conn *c, int fd, int want, int64_t deadline)
{
  if (conn_cancel_requested(c))
    return conn_cancel_now(c);
  c->want = want;
  c->wait_deadline = deadline;
  int64_t now = now_ms(c);
  if (deadline >= 0 && now >= deadline)
    return MAIL_ERR_TIMEOUT;
  if (c->nonblocking)
    return MAIL_ERR_AGAIN;
  for (;;) {
    int ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now;
      ms = left > INT_MAX ? INT_MAX : (int)left;
    }
    if (fd < 0) {
#if MAIL_WITH_SOCKETS
      poll(NULL, 0, ms < 0 || ms > USER_RETRY_NAP_MS ? USER_RETRY_NAP_MS : ms);
#else
      (void)ms;
#endif
      /* Without sockets there is nothing to nap with: the transport's own
       * read or write waits (it is given the time left), and the retry
       * comes at once. */
      return MAIL_OK;
    }
#if MAIL_WITH_SOCKETS
    /* The wake pipe, when there is one, so that mail_conn_cancel() from
     * another thread ends the wait at once. */
    struct pollfd p[2] = {{fd, 0, 0}, {c->wake_rd, POLLIN, 0}};
    if (want & MAIL_WANT_READ)
      p[0].events |= POLLIN;
    if (want & MAIL_WANT_WRITE)
      p[0].events |= POLLOUT;
    int r = poll(p, c->wake_rd >= 0 ? 2 : 1, ms);
    if (r > 0 && c->wake_rd >= 0 && p[1].revents) {
      /* Any other wake (an IDLE stop outside IDLE) lives on in its
       * session's flag; the byte can go. */
      conn_wake_drain(c);
      if (conn_cancel_requested(c))
        return conn_cancel_now(c);
      if (!p[0].revents) {
        now = now_ms(c);
        if (deadline >= 0 && now >= deadline)
          return MAIL_ERR_TIMEOUT;
        continue;
      }
    }
    if (r > 0)
      return MAIL_OK;
    /* The wait itself running out is the timeout, whatever an injected
     * clock says: a stopped test clock must not make us wait forever. A
     * cancel that came meanwhile (without a wake pipe to say so) wins. */
    if (r == 0)
      return conn_cancel_requested(c) ? conn_cancel_now(c) : MAIL_ERR_TIMEOUT;
    if (errno != EINTR)
      return mail_conn_fail(c, MAIL_ERR_IO, "poll failed: %s", strerror(errno));
    now = now_ms(c);
    if (deadline >= 0 && now >= deadline)
      return MAIL_ERR_TIMEOUT;
#else
    return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a descriptor in a build without sockets");
#endif
  }
}

/* conn_wait_for() for a read that a wake (mail_conn_set_wake()) may end:
 * CONN_WOKEN when the wake pipe is written or the wake time comes. */
static int wait_read(mail_conn *c, int fd, int want, int64_t deadline)
{
  if (conn_cancel_requested(c))
    return conn_cancel_now(c);
  if (!c->wake_listen && c->wake_at < 0)
    return conn_wait_for(c, fd, want, deadline);
  if ((c->wake_at >= 0 && now_ms(c) >= c->wake_at) || conn_wake_drain(c))
    return CONN_WOKEN;
  int by_wake = c->wake_at >= 0 && (deadline < 0 || c->wake_at < deadline);
  int64_t d = by_wake ? c->wake_at : deadline;
  if (c->nonblocking || fd < 0 || !c->wake_listen) {
    int rc = conn_wait_for(c, fd, want, d);
    return rc == MAIL_ERR_TIMEOUT && by_wake ? CONN_WOKEN : rc;
  }
#if !MAIL_WITH_SOCKETS
  /* unreachable: no wake pipe without sockets, so never wake_listen */
  return conn_wait_for(c, fd, want, d);
#else
  c->want = want;
  c->wait_deadline = d;
  for (;;) {
    int64_t left = d < 0 ? -1 : d - now_ms(c);
    if (d >= 0 && left <= 0)
      return by_wake ? CONN_WOKEN : MAIL_ERR_TIMEOUT;
    int ms = left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left;
    struct pollfd p[2] = {{fd, 0, 0}, {c->wake_rd, POLLIN, 0}};
    if (want & MAIL_WANT_READ)
      p[0].events |= POLLIN;
    if (want & MAIL_WANT_WRITE)
      p[0].events |= POLLOUT;
    int r = poll(p, 2, ms);
    if (r > 0 && p[1].revents) {
      conn_wake_drain(c);
      if (conn_cancel_requested(c))
        return conn_cancel_now(c);
      return CONN_WOKEN;
    }
    if (r > 0)
      return MAIL_OK;
    if (r == 0)
      return by_wake ? CONN_WOKEN : MAIL_ERR_TIMEOUT;
    if (errno != EINTR)
      return mail_conn_fail(c, MAIL_ERR_IO, "poll failed: %s", strerror(errno));
  }
#endif
}

static int64_t io_deadline(mail_conn *c)
{
  if (!c->io_deadline_set) {
    int ms = c->wait_override >= 0 ? c->wait_override : c->timeout_io;
    c->io_deadline = deadline_after(c, ms);
    c->io_deadline_set = 1;
  }
  return c->io_deadline;
}

void conn_progress(mail_conn *c)
{
  c->io_deadline_set = 0;
  c->want = 0;
  c->wait_deadline = -1;
}

/* ------------------------------------------------------------------ */
/* Driver steps                                                         */
/* ------------------------------------------------------------------ */

int conn_timed_out(mail_conn *c, const char *what)
{
  return mail_conn_fail(c, MAIL_ERR_TIMEOUT, "timed out %s", what);
}

/* Run the top layer's handshake (TLS after STARTTLS or at connect). */
int conn_handshake(mail_conn *c, int64_t deadline)
{
  for (;;) {
    int want = 0;
    int rc = MAIL_OK;
    if (c->top->ops->handshake)
      rc = c->top->ops->handshake(c->top, &want, layer_timeout(c, deadline));
    if (rc == MAIL_OK) {
      c->handshake_pending = 0;
      conn_progress(c);
      const mail_layer *tl = tls_layer(c);
      if (tl)
        mail_conn_trace_info(c, "TLS established: %s, %s%s",
                             mail_tls_layer_version(tl) ? mail_tls_layer_version(tl) : "?",
                             mail_tls_layer_cipher(tl) ? mail_tls_layer_cipher(tl) : "?",
                             mail_tls_layer_verified(tl) ? ", verified" : ", NOT verified");
      else
        mail_conn_trace_info(c, "TLS established by the transport%s",
                             mail_conn_is_verified(c) ? ", verified" : ", NOT verified");
      return MAIL_OK;
    }
    if (rc != MAIL_ERR_AGAIN) {
      if (!mail_status_is_fatal(rc) && rc != MAIL_ERR_NOMEM)
        rc = MAIL_ERR_TLS;
      return rc;
    }
    rc = conn_wait_for(c, conn_top_fd(c), want ? want : MAIL_WANT_READ, deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "during the TLS handshake");
    if (rc)
      return rc;
  }
}

/* One write call on the top layer with the whole queue, without waiting.
 * MAIL_OK after progress (bytes went out, or the peer stopped taking them
 * and the queue was dropped); MAIL_ERR_AGAIN with *want; a fatal status. */
static int write_once(mail_conn *c, int *want, int64_t deadline)
{
  size_t n = 0;
  int rc = c->top->ops->write(c->top, c->out.data, c->out.len, &n, want,
                              layer_timeout(c, deadline));
  if (rc == MAIL_OK) {
    if (n == 0 || n > c->out.len)
      return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a layer reported a bad write length");
    conn_trace_sent(c, n);
    conn_consume_output(c, n);
    conn_progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_CLOSED) {
    /* The server may have said why before closing: stop writing and
     * read what it sent, so the engine can report its reply. */
    mail_conn_trace_info(c, "the server stopped reading; %zu bytes not sent", c->out.len);
    conn_drop_output(c);
    c->write_shut = 1;
    conn_progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_AGAIN && !*want)
    *want = MAIL_WANT_WRITE;
  return rc;
}

/* One read call on the top layer into at most room bytes of reader space,
 * without waiting. MAIL_OK after progress (bytes, or end of stream recorded
 * in the reader); MAIL_ERR_AGAIN with *want; a fatal status. */
static int read_once(mail_conn *c, size_t room, int *want, int64_t deadline)
{
  mail_reader *r = &c->reader;
  unsigned char *p;
  size_t avail;
  int rc = mail_reader_prepare(r, room < c->read_chunk ? room : c->read_chunk, &p, &avail);
  if (rc == MAIL_ERR_LIMIT)
    return mail_conn_fail(c, MAIL_ERR_LIMIT, "server input exceeds the %zu byte buffer",
                          r->buf.limit);
  if (rc)
    return rc;
  if (avail > room)
    avail = room;
  size_t got = 0;
  rc = c->top->ops->read(c->top, p, avail, &got, want, layer_timeout(c, deadline));
  if (rc == MAIL_OK) {
    if (got == 0 || got > avail)
      return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a layer reported a bad read length");
    if (c->trace)
      c->trace(c->trace_user, MAIL_TRACE_RECV, (const char *)p, got);
    mail_reader_commit(r, got);
    c->read_more = got == avail;
    if (got >= avail / 2 && c->read_chunk < READ_CHUNK)
      c->read_chunk *= 2; /* a stream is coming: read bigger pieces */
    conn_progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_CLOSED) {
    mail_reader_set_eof(r);
    mail_conn_trace_info(c, "the server closed the connection");
    conn_progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_AGAIN && !*want)
    *want = MAIL_WANT_READ;
  return rc;
}

/*
 * How much the reader may take while a write is blocked: nothing for a
 * layer without an fd (a user transport: one wait cannot cover both
 * directions, so it keeps write-only waits), after end of stream, or when
 * the engine has left the reader full (we stop reading rather than buffer
 * without bound; the server then waits for us as we wait for it).
 */
static size_t duplex_room(const mail_conn *c)
{
  const mail_reader *r = &c->reader;
  if (r->eof || conn_top_fd(c) < 0)
    return 0;
  size_t pending = mail_reader_pending(r);
  return pending < r->buf.limit ? r->buf.limit - pending : 0;
}

/*
 * Write the queue (one call; the rest after a partial write). MAIL_OK after
 * progress. With duplex set, a write that would block does not stop us
 * hearing the server: the driver also reads whatever has arrived, waits for
 * either direction, and returns MAIL_OK after a read too, so the engine sees
 * replies (an early error, pipelined answers the server will not hold back)
 * while its output is still going out.
 */
static int do_write(mail_conn *c, int duplex)
{
  for (;;) {
    int want = 0;
    int64_t deadline = io_deadline(c);
    int rc = write_once(c, &want, deadline);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    size_t room = duplex ? duplex_room(c) : 0;
    if (room) {
      int read_want = 0;
      rc = read_once(c, room, &read_want, deadline);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      /* A TLS layer may need the other direction for either call: wait
       * for everything both of them asked for. */
      want |= read_want;
    }
    rc = conn_wait_for(c, conn_top_fd(c), want, deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "sending to the server");
    if (rc)
      return rc;
  }
}

/* 1 when no layer holds input already read from below (so poll() on the
 * fd tells whether a read can succeed), 0 when one does or may. */
static int layers_empty(const mail_conn *c)
{
  for (const mail_layer *l = c->top; l; l = l->lower)
    if (!l->ops->pending || l->ops->pending(l))
      return 0;
  return 1;
}

/*
 * Whether to wait for the fd before this read (blocking mode only). A read
 * that finds nothing costs a system call for nothing: a reply to what was
 * just written is usually not there yet when client and server run on
 * different CPUs, and usually is when they share one (the server ran when
 * our write woke it). So wait first after reads have been finding nothing,
 * read first after they found data, and read at once when data is known
 * to wait: the last read filled its room, or a layer holds some. An
 * event loop is left as it was (it reads until MAIL_ERR_AGAIN, which an
 * edge-triggered loop needs before it waits).
 */
static int wait_before_read(mail_conn *c, int *guess)
{
  *guess = 0;
  if (c->nonblocking || conn_top_fd(c) < 0 || c->read_more || !layers_empty(c))
    return 0;
  if (c->poll_left <= 0) {
    *guess = 1; /* a read without knowing: what it finds is learnt */
    return 0;
  }
  c->poll_left--;
  return 1;
}

/* A guessed read (see wait_before_read) found nothing (found 0) or data. */
static void learn_read(mail_conn *c, int found)
{
  if (found) {
    c->poll_streak /= 2;
  } else {
    c->poll_streak = c->poll_streak ? c->poll_streak * 2 : 1;
    if (c->poll_streak > POLL_STREAK_MAX)
      c->poll_streak = POLL_STREAK_MAX;
    c->poll_left = c->poll_streak;
  }
}

/*
 * Blocking mode with nothing but the socket to watch (no wake pipe for a
 * cancel or an IDLE stop, no wake time) and the system clock: the read
 * itself may wait in the kernel, as a blocking client's read does, instead
 * of poll() and then a read: one system call per reply where there were
 * two. Returns 1 and the time left to the I/O deadline (-1: none). A
 * socket layer that cannot wait so (an adopted descriptor) ignores it and
 * the poll below happens as before. An injected clock keeps the poll: a
 * wait the kernel times could not follow that clock.
 */
static int blocking_read_ms(mail_conn *c, int *ms)
{
  if (c->nonblocking || c->wake_rd >= 0 || c->wake_listen || c->wake_at >= 0 ||
      !mail_env_clock_is_system(&c->env) || conn_top_fd(c) < 0)
    return 0;
  int64_t d = io_deadline(c);
  int64_t left = d < 0 ? -1 : d - now_ms(c);
  if (d >= 0 && left <= 0)
    return 0;
  *ms = left < 0 ? -1 : left > INT_MAX ? INT_MAX : (int)left;
  return 1;
}

int mail_layer_take_read_block(mail_conn *c, int *ms)
{
  int block = c->read_block;
  *ms = c->read_block_ms;
  c->read_block = 0;
  return block;
}

/* One read from the top layer into the reader. MAIL_OK after progress
 * (bytes, or end of stream recorded in the reader). */
static int do_read(mail_conn *c)
{
  mail_reader *r = &c->reader;
  size_t pending = mail_reader_pending(r);
  size_t limit = r->buf.limit;
  if (pending >= limit)
    return mail_conn_fail(c, MAIL_ERR_LIMIT, "server input exceeds the %zu byte buffer", limit);
  int guess = 0;
  int block_ms;
  if (blocking_read_ms(c, &block_ms)) {
    c->read_block = 1;
    c->read_block_ms = block_ms;
  } else if (wait_before_read(c, &guess)) {
    int rc = wait_read(c, conn_top_fd(c), MAIL_WANT_READ, io_deadline(c));
    if (rc == CONN_WOKEN)
      return MAIL_OK;
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "waiting for the server");
    if (rc)
      return rc;
  }
  for (;;) {
    int want = 0;
    int64_t deadline = io_deadline(c);
    int rc = read_once(c, limit - pending, &want, deadline);
    c->read_block = 0; /* a layer that never reached the socket */
    if (guess && (rc == MAIL_OK || rc == MAIL_ERR_AGAIN))
      learn_read(c, rc == MAIL_OK);
    guess = 0;
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    rc = wait_read(c, conn_top_fd(c), want, deadline);
    if (rc == CONN_WOKEN)
      return MAIL_OK; /* the engine runs again */
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "waiting for the server");
    if (rc)
      return rc;
  }
}

static int run_loop(mail_conn *c, mail_advance_fn advance, void *engine)
{
  for (;;) {
    if (c->state != ST_OPEN)
      return c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE;
    int rc;
    if (c->handshake_pending) {
      rc = conn_handshake(c, io_deadline(c));
      if (rc)
        return rc;
    }
    if (c->finishing) {
      if (c->out.len == 0 || c->write_shut) {
        c->finishing = 0;
        if (c->write_shut)
          return mail_conn_fail(c, MAIL_ERR_CLOSED,
                                "the server closed the connection before taking our last bytes");
        return c->finish_rc;
      }
      /* The engine is done: what arrives now belongs to the next
       * operation, so this flush does not read. */
      rc = do_write(c, 0);
      if (rc)
        return rc;
      continue;
    }
    /* A cancel acts at the next step, before anything more is written: a
     * step that never has to wait (a socket taking all a message's data)
     * must not carry the operation to its end first. Once the engine is
     * done (finishing, above) its result stands. */
    if (conn_cancel_requested(c))
      return conn_cancel_now(c);
    rc = advance(engine);
    if (c->state != ST_OPEN) /* the engine closed it (e.g. STARTTLS injection) */
      return rc != MAIL_ERR_AGAIN && rc != MAIL_OK ? rc
                                                   : (c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE);
    if (c->write_shut && c->out.len) {
      conn_drop_output(c);
      if (rc != MAIL_ERR_AGAIN && !mail_status_is_fatal(rc))
        return mail_conn_fail(c, MAIL_ERR_CLOSED,
                              "the server closed the connection before taking our last bytes");
    }
    if (rc != MAIL_ERR_AGAIN) {
      if (mail_status_is_fatal(rc) || c->out.len == 0)
        return rc;
      c->finishing = 1;
      c->finish_rc = rc;
      continue;
    }
    if (c->handshake_pending)
      continue;
    if (c->out.len)
      rc = do_write(c, 1);
    else if (c->reader.eof)
      return mail_conn_fail(c, MAIL_ERR_CLOSED, "the server closed the connection");
    else
      rc = do_read(c);
    if (rc)
      return rc;
  }
}

/* Between operations a session holds no more than small buffers: what a
 * large reply or message body made grow is given back (and grows again on
 * demand), so many idle sessions stay cheap. */
static void idle_trim(mail_conn *c)
{
  mail_reader_trim(&c->reader, IDLE_KEEP);
  if (c->out.len == 0 && c->out.cap > IDLE_KEEP)
    mail_buf_free(&c->out);
  mail_buf_free(&c->scratch);
  c->read_chunk = READ_MIN;
  mail_layer *f = feed_layer(c);
  if (f)
    mail_feed_layer_trim(f);
}

int mail_conn_run(mail_conn *c, mail_advance_fn advance, void *engine)
{
  if (!c || !advance)
    return MAIL_ERR_INVALID;
  if (c->state != ST_OPEN) /* keep the description of what closed it */
    return c->state == ST_CLOSED && c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE;
  mail_conn_busy(c, MAIL_CONN_BUSY_RUN, 1);
  unsigned int seq = c->fail_seq;
  int rc = conn_cancel_requested(c) ? conn_cancel_now(c) : run_loop(c, advance, engine);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  mail_conn_busy(c, MAIL_CONN_BUSY_RUN, 0);
  /* The operation is over: the next one gets fresh deadlines. */
  c->io_deadline_set = 0;
  c->want = 0;
  c->wait_deadline = -1;
  idle_trim(c);
  if (mail_status_is_fatal(rc) && c->state != ST_IDLE) {
    if (c->fail_seq == seq)
      mail_conn_fail(c, rc, "%s", mail_strerror(rc));
    if (c->state != ST_CLOSED || c->fatal_rc != rc)
      conn_close_fatal(c, rc);
  }
  return rc;
}


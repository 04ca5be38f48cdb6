/*
 * libmail — a header-only adapter that runs libmail operations on a
 * libevent 2 loop (struct event_base), with the step and done functions
 * of mail/loop.h. Link libevent yourself (libmail does not depend on it).
 *
 *   mail_event_add(base, mail_smtp_conn(s), step, done, job);
 *   event_base_dispatch(base);
 *
 * Per operation: one event on mail_conn_fd() for mail_conn_want() that
 * also carries the deadline of mail_conn_timeout_ms() (libevent's
 * timeout on event_add), and one on mail_conn_wake_fd() when there is
 * one (IMAP IDLE's stop). After every step both are deleted and assigned
 * again from what the connection says: a step may have closed its socket
 * and opened another, perhaps under the same number, and a delete then an
 * add registers the new one with the kernel. The step is first called
 * from the loop (an immediate timeout), never from mail_event_add(). The
 * events and the adapter's record are freed once done has been called.
 *
 * Threading: libevent's rule for the base. Every function here returns
 * a mail_status.
 */
#ifndef MAIL_ADAPTERS_MAIL_EVENT_H
#define MAIL_ADAPTERS_MAIL_EVENT_H

#include <stdlib.h>
#include <event2/event.h>

#include <mail/conn.h>
#include <mail/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One operation on a libevent base (the adapter's own; freed by it). */
typedef struct mail_event_op {
  struct event_base *base;  /**< the libevent base */
  mail_conn *conn;          /**< the connection the operation runs on */
  mail_loop_step_fn step;   /**< re-calls the pending libmail operation */
  mail_loop_done_fn done;   /**< gets the final status */
  void *user;               /**< passed to step and done */
  struct event *io;         /**< descriptor + deadline */
  struct event *wake;       /**< the wake descriptor */
} mail_event_op;

static inline void mail_event__run(evutil_socket_t fd, short what, void *arg);

/* Re-arm after a step; 0 or -1. */
static inline int mail_event__arm(mail_event_op *op)
{
  int fd = mail_conn_fd(op->conn);
  int want = mail_conn_want(op->conn);
  int64_t ms = mail_conn_timeout_ms(op->conn);
  if (fd < 0 && (ms < 0 || ms > 1))
    ms = 1; /* no descriptor (a user transport): try again soon */
  short ev = (short)(((want & MAIL_WANT_READ) ? EV_READ : 0) | ((want & MAIL_WANT_WRITE) ? EV_WRITE : 0));
  if (fd >= 0 && !ev)
    ev = EV_READ;
  event_del(op->io);
  if (event_assign(op->io, op->base, fd >= 0 ? fd : -1, fd >= 0 ? ev : 0, mail_event__run, op))
    return -1;
  struct timeval tv;
  tv.tv_sec = (long)((ms + 1) / 1000);
  tv.tv_usec = (long)(((ms + 1) % 1000) * 1000);
  if (event_add(op->io, ms >= 0 ? &tv : NULL))
    return -1;
  int wfd = mail_conn_wake_fd(op->conn);
  event_del(op->wake);
  if (wfd >= 0) {
    if (event_assign(op->wake, op->base, wfd, EV_READ, mail_event__run, op) ||
        event_add(op->wake, NULL))
      return -1;
  }
  return 0;
}

static inline void mail_event__run(evutil_socket_t fd, short what, void *arg)
{
  mail_event_op *op = (mail_event_op *)arg;
  (void)fd;
  (void)what;
  int rc = op->step(op->user, op->conn);
  if (rc == MAIL_ERR_AGAIN) {
    if (mail_event__arm(op) == 0)
      return;
    rc = MAIL_ERR_IO;
  }
  event_free(op->io);
  event_free(op->wake);
  mail_loop_done_fn done = op->done;
  void *user = op->user;
  free(op);
  if (done)
    done(user, rc);
}

/**
 * Run an operation on base: step(user, conn) is called from the loop at
 * once, then whenever conn is ready, its wake fd is readable or its
 * deadline passes, until it returns something other than MAIL_ERR_AGAIN,
 * which done (may be NULL) receives. Sets conn non-blocking. Returns
 * MAIL_OK, MAIL_ERR_INVALID (a NULL argument), MAIL_ERR_NOMEM or
 * MAIL_ERR_IO (libevent refused the event).
 */
static inline int mail_event_add(struct event_base *base, mail_conn *conn, mail_loop_step_fn step,
                                 mail_loop_done_fn done, void *user)
{
  if (!base || !conn || !step)
    return MAIL_ERR_INVALID;
  mail_event_op *op = (mail_event_op *)calloc(1, sizeof *op);
  if (!op)
    return MAIL_ERR_NOMEM;
  op->base = base;
  op->conn = conn;
  op->step = step;
  op->done = done;
  op->user = user;
  op->io = event_new(base, -1, 0, mail_event__run, op);
  op->wake = event_new(base, -1, 0, mail_event__run, op);
  struct timeval now = {0, 0};
  if (!op->io || !op->wake || event_add(op->io, &now)) {
    if (op->io)
      event_free(op->io);
    if (op->wake)
      event_free(op->wake);
    free(op);
    return MAIL_ERR_NOMEM;
  }
  mail_conn_set_nonblocking(conn, 1);
  return MAIL_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* MAIL_ADAPTERS_MAIL_EVENT_H */

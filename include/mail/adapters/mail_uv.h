/*
 * libmail — a header-only adapter that runs libmail operations on a
 * libuv loop (uv_loop_t), with the step and done functions of
 * mail/loop.h. Include it after <uv.h>'s availability is known; link
 * libuv yourself (libmail does not depend on it).
 *
 *   mail_uv_add(uv_default_loop(), mail_smtp_conn(s), step, done, job);
 *   uv_run(uv_default_loop(), UV_RUN_DEFAULT);
 *
 * Per operation: a uv_poll_t on mail_conn_fd() for mail_conn_want(),
 * one on mail_conn_wake_fd() when there is one (IMAP IDLE's stop), and a
 * uv_timer_t for mail_conn_timeout_ms() (I/O timeouts, IDLE re-issue).
 * After every step they are set again from what the connection says: a
 * descriptor that changed number gets a new poll handle, and the same
 * number is stopped and started again, because a step may have closed
 * the socket and opened another under the same number (libuv must not
 * keep watching a closed descriptor). The step is first called from the
 * loop (a zero timer), never from mail_uv_add(). Handles and the
 * adapter's own record are freed by libuv close callbacks after done has
 * been called; nothing is left for the caller to free.
 *
 * Threading: libuv's rule, the loop's thread only. Every function here
 * returns a mail_status.
 */
#ifndef MAIL_ADAPTERS_MAIL_UV_H
#define MAIL_ADAPTERS_MAIL_UV_H

#include <stdlib.h>
#include <uv.h>

#include <mail/conn.h>
#include <mail/loop.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One operation on a libuv loop (the adapter's own; freed by it). */
typedef struct mail_uv_op {
  uv_loop_t *loop;          /**< the libuv loop */
  mail_conn *conn;          /**< the connection the operation runs on */
  mail_loop_step_fn step;   /**< re-calls the pending libmail operation */
  mail_loop_done_fn done;   /**< gets the final status */
  void *user;               /**< passed to step and done */
  uv_poll_t *io;            /**< on the connection's descriptor, or NULL */
  uv_poll_t *wake;          /**< on its wake descriptor, or NULL */
  uv_timer_t *timer;        /**< the deadline (and the first call) */
  int io_fd;                /**< the descriptor io was made for */
  int wake_fd;              /**< the descriptor wake was made for */
  int closing;              /**< handles whose close callback is pending */
  int finished;             /**< done has been called */
} mail_uv_op;

static inline void mail_uv__run(mail_uv_op *op);

/* A handle's close callback: the handle goes, then the record once it is
 * finished and nothing else is closing. */
static inline void mail_uv__closed(uv_handle_t *h)
{
  mail_uv_op *op = (mail_uv_op *)h->data;
  free(h);
  if (--op->closing == 0 && op->finished)
    free(op);
}

static inline void mail_uv__drop(mail_uv_op *op, uv_handle_t *h)
{
  if (!h)
    return;
  op->closing++;
  uv_close(h, mail_uv__closed);
}

static inline void mail_uv__on_poll(uv_poll_t *h, int status, int events)
{
  (void)status; /* an error on the descriptor: the step finds it */
  (void)events;
  mail_uv__run((mail_uv_op *)h->data);
}

static inline void mail_uv__on_timer(uv_timer_t *t)
{
  mail_uv__run((mail_uv_op *)t->data);
}

/* Watch fd for want with *hp (made for *fdp); fd -1: watch nothing.
 * 0 or a libuv error. */
static inline int mail_uv__watch(mail_uv_op *op, uv_poll_t **hp, int *fdp, int fd, int want)
{
  if (*hp && *fdp != fd) {
    mail_uv__drop(op, (uv_handle_t *)*hp);
    *hp = NULL;
  }
  if (fd < 0)
    return 0;
  if (!*hp) {
    uv_poll_t *h = (uv_poll_t *)malloc(sizeof *h);
    if (!h)
      return UV_ENOMEM;
    int r = uv_poll_init(op->loop, h, fd);
    if (r) {
      free(h);
      return r;
    }
    h->data = op;
    *hp = h;
    *fdp = fd;
  } else {
    uv_poll_stop(*hp); /* the same number may be a new socket */
  }
  int ev = ((want & MAIL_WANT_READ) ? UV_READABLE : 0) | ((want & MAIL_WANT_WRITE) ? UV_WRITABLE : 0);
  return uv_poll_start(*hp, ev ? ev : UV_READABLE, mail_uv__on_poll);
}

static inline void mail_uv__run(mail_uv_op *op)
{
  if (op->finished)
    return;
  int rc = op->step(op->user, op->conn);
  if (rc == MAIL_ERR_AGAIN) {
    int fd = mail_conn_fd(op->conn);
    int r = mail_uv__watch(op, &op->io, &op->io_fd, fd, mail_conn_want(op->conn));
    if (!r)
      r = mail_uv__watch(op, &op->wake, &op->wake_fd, mail_conn_wake_fd(op->conn), MAIL_WANT_READ);
    if (!r) {
      int64_t ms = mail_conn_timeout_ms(op->conn);
      if (fd < 0 && (ms < 0 || ms > 1))
        ms = 1; /* no descriptor (a user transport): try again soon */
      if (ms >= 0)
        r = uv_timer_start(op->timer, mail_uv__on_timer, (uint64_t)ms + 1, 0);
      else
        r = uv_timer_stop(op->timer);
    }
    if (!r)
      return;
    rc = r == UV_ENOMEM ? MAIL_ERR_NOMEM : MAIL_ERR_IO;
  }
  op->finished = 1;
  mail_uv__drop(op, (uv_handle_t *)op->io);
  mail_uv__drop(op, (uv_handle_t *)op->wake);
  mail_uv__drop(op, (uv_handle_t *)op->timer);
  op->io = op->wake = NULL;
  op->timer = NULL;
  if (op->done)
    op->done(op->user, rc);
}

/**
 * Run an operation on loop: step(user, conn) is called from the loop at
 * once, then whenever conn is ready, its wake fd is readable or its
 * deadline passes, until it returns something other than MAIL_ERR_AGAIN,
 * which done (may be NULL) receives. Sets conn non-blocking. Returns
 * MAIL_OK, MAIL_ERR_INVALID (a NULL argument), MAIL_ERR_NOMEM or
 * MAIL_ERR_IO (libuv refused the timer).
 */
static inline int mail_uv_add(uv_loop_t *loop, mail_conn *conn, mail_loop_step_fn step,
                              mail_loop_done_fn done, void *user)
{
  if (!loop || !conn || !step)
    return MAIL_ERR_INVALID;
  mail_uv_op *op = (mail_uv_op *)calloc(1, sizeof *op);
  uv_timer_t *t = (uv_timer_t *)malloc(sizeof *t);
  if (!op || !t) {
    free(op);
    free(t);
    return MAIL_ERR_NOMEM;
  }
  if (uv_timer_init(loop, t)) {
    free(op);
    free(t);
    return MAIL_ERR_IO;
  }
  mail_conn_set_nonblocking(conn, 1);
  op->loop = loop;
  op->conn = conn;
  op->step = step;
  op->done = done;
  op->user = user;
  op->io_fd = op->wake_fd = -1;
  op->timer = t;
  t->data = op;
  if (uv_timer_start(t, mail_uv__on_timer, 0, 0)) {
    op->finished = 1;
    mail_uv__drop(op, (uv_handle_t *)t);
    return MAIL_ERR_IO;
  }
  return MAIL_OK;
}

#ifdef __cplusplus
}
#endif

#endif /* MAIL_ADAPTERS_MAIL_UV_H */

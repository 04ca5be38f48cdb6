/*
 * libmail — a small built-in event loop: many sessions and timers in one
 * thread, for programs that have no loop of their own.
 *
 * Every libmail operation already runs without blocking once its
 * connection is non-blocking (mail_conn_set_nonblocking(), see conn.h): it
 * returns MAIL_ERR_AGAIN and is called again, with the same arguments,
 * when mail_conn_fd() is ready for mail_conn_want(), when
 * mail_conn_wake_fd() is readable or when mail_conn_timeout_ms() has
 * passed. A mail_loop does that waiting for any number of connections
 * (epoll where the system has it, poll otherwise) and calls back:
 *
 *   - an operation is registered as a step closure with mail_loop_add():
 *     step(user, conn) calls the pending libmail operation (or the next
 *     one of a chain: connect, auth, send x 20, quit) and returns its
 *     status; MAIL_ERR_AGAIN means "wait on conn", anything else is the
 *     final status, handed to done(user, status) once. That is the
 *     completion callback in place of re-calling the operation by hand.
 *   - timers (mail_loop_add_timer()) call a function once after a delay.
 *   - mail_loop_run() runs until nothing is registered or
 *     mail_loop_stop() (safe from any thread) asks it to return.
 *
 * The operation's own deadline (its I/O timeout, an IMAP IDLE's re-issue
 * time) is a wake-up like readiness: the step is called and the library
 * decides (MAIL_ERR_TIMEOUT, or DONE and a new IDLE). A mail_imap_idle_stop()
 * from another thread makes the wake descriptor readable, so the step runs
 * at once.
 *
 * A chained step keeps its own phase:
 *
 *   static int step(void *u, mail_conn *c) {
 *     job *j = u; int rc = MAIL_OK;
 *     while (rc == MAIL_OK && j->phase < DONE) {
 *       switch (j->phase) {
 *       case CONNECT: rc = mail_smtp_connect(j->s, host, port, sec); break;
 *       case SEND:    rc = mail_smtp_send(j->s, j->env); break;
 *       case QUIT:    rc = mail_smtp_quit(j->s); break;
 *       }
 *       if (rc == MAIL_OK) j->phase++;     // MAIL_ERR_AGAIN: wait, resume here
 *     }
 *     return rc;
 *   }
 *   mail_loop_add(NULL, loop, mail_smtp_conn(j->s), step, on_done, j);
 *
 * The connection must be non-blocking (mail_loop_add() sets it so). The
 * adapters in mail/adapters/ (mail_uv.h for libuv, mail_event.h for
 * libevent) drive the same step and done functions from those loops.
 *
 * Threading: a loop, its operations and their sessions belong to the
 * thread that runs the loop; mail_loop_stop() is the one call safe from
 * any other thread. Built without sockets (bare metal) there is nothing to
 * poll: mail_loop_new() returns MAIL_ERR_UNSUPPORTED.
 */
#ifndef MAIL_LOOP_H
#define MAIL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/conn.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A loop (opaque): registered operations, timers, the poller and a wake pipe. */
typedef struct mail_loop mail_loop;
/** One registered operation (opaque); valid until its done callback returns or it is removed. */
typedef struct mail_loop_op mail_loop_op;
/** One pending timer (opaque); valid until it fires or is cancelled. */
typedef struct mail_loop_timer mail_loop_timer;

/** How a loop waits (mail_loop_new_backend()). */
typedef enum mail_loop_backend {
  MAIL_LOOP_BACKEND_DEFAULT = 0, /**< epoll where built, else poll */
  MAIL_LOOP_BACKEND_POLL = 1,    /**< poll(2): everywhere; its cost grows with the number of sessions */
  MAIL_LOOP_BACKEND_EPOLL = 2    /**< epoll(7): Linux; its cost grows with the sessions that are ready */
} mail_loop_backend;

/**
 * Step of an operation: call the pending libmail operation on conn (or the
 * next one of a chain) and return its status. MAIL_ERR_AGAIN: the loop
 * waits on conn (its fd, want, wake fd and deadline, read after every
 * step) and calls step again; any other value ends the operation and is
 * passed to the done callback. It may be called when nothing is ready (a
 * libmail operation then returns MAIL_ERR_AGAIN again).
 */
typedef int (*mail_loop_step_fn)(void *user, mail_conn *conn);
/** End of an operation: status is the step's last return value (never MAIL_ERR_AGAIN). */
typedef void (*mail_loop_done_fn)(void *user, int status);
/** A timer's function, called once when it fires. */
typedef void (*mail_loop_timer_fn)(void *user);

/**
 * Create a loop with the default backend (epoll where built, else poll).
 * alloc may be NULL; it is copied and used for everything the loop holds.
 * Returns MAIL_OK, MAIL_ERR_INVALID (out NULL or an incomplete allocator),
 * MAIL_ERR_NOMEM, MAIL_ERR_IO (the system refused a descriptor: epoll or
 * the wake pipe) or MAIL_ERR_UNSUPPORTED (built without sockets).
 */
MAIL_EXTERN int mail_loop_new(mail_loop **out, const mail_allocator *alloc);

/**
 * As mail_loop_new() with the backend chosen (mail_loop_backend).
 * MAIL_ERR_UNSUPPORTED for MAIL_LOOP_BACKEND_EPOLL where epoll was not
 * built, MAIL_ERR_INVALID for an unknown value; otherwise as mail_loop_new().
 */
MAIL_EXTERN int mail_loop_new_backend(mail_loop **out, const mail_allocator *alloc, int backend);

/**
 * Free the loop. Operations still registered are dropped without their
 * done callback (their sessions are the caller's and stay as they are);
 * pending timers are dropped. Not from inside one of the loop's
 * callbacks. NULL is fine.
 */
MAIL_EXTERN void mail_loop_free(mail_loop *loop);

/** The backend the loop uses: MAIL_LOOP_BACKEND_POLL or MAIL_LOOP_BACKEND_EPOLL (0 for NULL). */
MAIL_EXTERN int mail_loop_backend_of(const mail_loop *loop);

/**
 * Register an operation on conn: step is first called from the loop's next
 * iteration (without waiting), then each time conn is ready, its wake fd
 * is readable or its deadline passes, until it returns something other
 * than MAIL_ERR_AGAIN; done (may be NULL) then gets that status and the
 * operation is forgotten (or MAIL_ERR_NOMEM / MAIL_ERR_IO when the loop
 * could not watch the connection after a step). Sets conn non-blocking. *out (out may be NULL)
 * names the operation for mail_loop_remove(). May be called from inside
 * the loop's callbacks (a done callback that starts the next operation).
 * One operation per connection at a time (a second would share its
 * wake-ups). Returns MAIL_OK, MAIL_ERR_INVALID (loop, conn or step NULL)
 * or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_loop_add(mail_loop_op **out, mail_loop *loop, mail_conn *conn,
                              mail_loop_step_fn step, mail_loop_done_fn done, void *user);

/**
 * Stop watching an operation without calling its done callback (the
 * session keeps its state: close it, or cancel the operation, as its
 * protocol says). Safe from inside the loop's callbacks, also for the
 * operation whose step is running. NULL is fine.
 */
MAIL_EXTERN void mail_loop_remove(mail_loop_op *op);

/**
 * Call fn(user) once, ms milliseconds from now (0: at the next iteration),
 * on the loop's monotonic clock. *out (out may be NULL) names the timer
 * for mail_loop_cancel_timer(). May be called from inside callbacks (a
 * timer that re-arms itself). Returns MAIL_OK, MAIL_ERR_INVALID (loop or
 * fn NULL, ms negative) or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_loop_add_timer(mail_loop_timer **out, mail_loop *loop, int64_t ms,
                                    mail_loop_timer_fn fn, void *user);

/** Cancel a timer that has not fired (safe from inside callbacks). NULL is fine. */
MAIL_EXTERN void mail_loop_cancel_timer(mail_loop_timer *timer);

/**
 * One iteration: wait at most timeout_ms (-1: until something is due, 0:
 * not at all) for readiness, a deadline, a timer or a stop, then call the
 * steps and timers that are due. Returns MAIL_OK, MAIL_ERR_CANCELLED when
 * mail_loop_stop() was asked (the request is used up), MAIL_ERR_IO when
 * the system's wait failed, MAIL_ERR_STATE when called from inside one of
 * the loop's callbacks, MAIL_ERR_INVALID for NULL, MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_loop_run_once(mail_loop *loop, int timeout_ms);

/**
 * Iterate until no operation and no timer is left (MAIL_OK) or until
 * mail_loop_stop() (MAIL_ERR_CANCELLED; what is registered stays, a
 * later run goes on with it). Errors as mail_loop_run_once().
 */
MAIL_EXTERN int mail_loop_run(mail_loop *loop);

/**
 * Ask a running (or the next) mail_loop_run() / mail_loop_run_once() to
 * return MAIL_ERR_CANCELLED after the callbacks it is calling. Safe from
 * any thread and from signal handlers (an atomic flag and one byte to the
 * loop's wake pipe). NULL is fine.
 */
MAIL_EXTERN void mail_loop_stop(mail_loop *loop);

/** Operations plus timers registered (0 for NULL): mail_loop_run() returns when it is 0. */
MAIL_EXTERN size_t mail_loop_pending(const mail_loop *loop);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_LOOP_H */

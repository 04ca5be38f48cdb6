/* Cancelling the operation in progress (mail_conn_cancel), from the
 * connection's own thread or any other. The request is an atomic flag
 * plus a byte in the wake pipe (conn_wake.c); the driver acts on it at its
 * next wait or step, on the connection's own thread, by closing the
 * connection: half a command exchange cannot be taken back, so closed is
 * the one state every protocol can be left in. */
#include "net/conn_impl.h"

int mail_conn_enable_cancel(mail_conn *c)
{
  if (!c)
    return MAIL_ERR_INVALID;
  return mail_conn_wake_open(c);
}

void mail_conn_cancel(mail_conn *c)
{
  if (!c || !atomic_load(&c->busy))
    return;
  atomic_store(&c->cancel_req, 1);
  mail_conn_wake(c);
}

int conn_cancel_requested(mail_conn *c)
{
  return atomic_load(&c->cancel_req) != 0;
}

int conn_cancel_now(mail_conn *c)
{
  atomic_store(&c->cancel_req, 0);
  mail_conn_fail(c, MAIL_ERR_CANCELLED, "the operation was cancelled; the connection is closed");
  conn_close_fatal(c, MAIL_ERR_CANCELLED);
  return MAIL_ERR_CANCELLED;
}

void mail_conn_busy(mail_conn *c, int what, int on)
{
  if (on) {
    /* An operation begins: a wake left from before (an IDLE stop asked
     * outside IDLE lives on in its session's flag) must not keep an event
     * loop polling mail_conn_wake_fd() spinning through it. */
    if (atomic_fetch_or(&c->busy, what) == 0) {
      conn_wake_drain(c);
      atomic_store(&c->cancel_req, 0); /* one that raced the last end */
    }
    return;
  }
  /* A cancel that came as the last operation ended has nothing left to
   * cancel. */
  if ((atomic_fetch_and(&c->busy, ~what) & ~what) == 0)
    atomic_store(&c->cancel_req, 0);
}

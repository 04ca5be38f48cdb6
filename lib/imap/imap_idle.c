/* IDLE (RFC 2177): the IDLE command, its "+", untagged responses to the
 * mailbox state and the caller's callback while idling, DONE and the
 * tagged OK. The IDLE is ended and sent again every idle interval (servers
 * drop a client idle for 30 minutes, RFC 2177 3), checked on the
 * connection's clock: a blocking wait ends at that time (mail_conn_set_wake)
 * and in event-loop mode mail_conn_timeout_ms() counts down to it.
 *
 * Stopping: mail_imap_idle_done() from the thread that runs the session
 * (its event loop), or mail_imap_idle_stop() from any thread: an atomic
 * flag, then a byte on the connection's self-pipe, which ends a blocking
 * wait and makes mail_conn_wake_fd() readable for an event loop; the
 * engine sees the flag and sends DONE (and the pipe is read empty). */
#include "core/mem.h"
#include "imap/imap_internal.h"

enum { IDLE_NONE = 0, IDLE_WAIT_PLUS, IDLE_ON, IDLE_DONE_SENT };

#define IMAP_IDLE_DEFAULT_MS (25 * 60 * 1000)

static int64_t now(mail_imap *im)
{
  return mail_env_now(mail_conn_env(im->conn), MAIL_CLOCK_MONOTONIC);
}

int mail_imap_set_idle_interval(mail_imap *im, int ms)
{
  if (!im || ms < 1000)
    return MAIL_ERR_INVALID;
  im->idle_interval = ms;
  return MAIL_OK;
}

static int idle_send(mail_imap *im)
{
  uint32_t tag;
  int rc = imap_wire_begin(im, "IDLE", &tag);
  if (!rc)
    rc = imap_wire_send(im, IMAP_CMD_IDLE, tag);
  if (!rc)
    im->idle_phase = IDLE_WAIT_PLUS;
  return rc;
}

int mail_imap_idle_start(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_IDLE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED && im->state != MAIL_IMAP_STATE_AUTHENTICATED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "IDLE", "IMAP4REV2")))
    return rc;
  rc = mail_conn_wake_open(im->conn);
  if (rc)
    return rc;
  /* A stop asked before is in the flag: the pipe starts empty, so an event
   * loop polling mail_conn_wake_fd() does not spin until the "+". */
  mail_conn_set_wake(im->conn, 0, -1);
  if (!im->idle_interval)
    im->idle_interval = IMAP_IDLE_DEFAULT_MS;
  im->idle_done_req = 0;
  rc = idle_send(im);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_IDLE);
}

int mail_imap_idle_done(mail_imap *im)
{
  if (!im || im->op.kind != IMAP_OP_IDLE)
    return MAIL_ERR_STATE;
  im->idle_done_req = 1;
  int rc;
  imap_op_enter(im, IMAP_OP_IDLE, &rc);
  return rc;
}

void mail_imap_idle_stop(mail_imap *im)
{
  if (!im)
    return;
  atomic_store(&im->idle_stop_req, 1);
  mail_conn_wake(im->conn);
}

int imap_idle_continue(mail_imap *im)
{
  if (im->idle_phase != IDLE_WAIT_PLUS)
    return 0;
  im->idle_phase = IDLE_ON;
  im->idle_started = now(im);
  /* The I/O timeout must not end a quiet IDLE: the wait ends at the
   * re-issue time (or a stop) first. */
  mail_conn_set_wait_timeout(im->conn, im->idle_interval + 60000);
  mail_conn_set_wake(im->conn, 1, im->idle_started + im->idle_interval);
  return 1;
}

int imap_idle_step(mail_imap *im)
{
  if (im->idle_phase != IDLE_ON)
    return MAIL_OK;
  int stop = atomic_exchange(&im->idle_stop_req, 0) || im->idle_done_req;
  int due = now(im) >= im->idle_started + im->idle_interval;
  if (!stop && !due)
    return MAIL_OK;
  im->idle_again = !stop && !im->idle_once;
  im->idle_phase = IDLE_DONE_SENT;
  mail_conn_set_wake(im->conn, 0, -1);
  mail_conn_set_wait_timeout(im->conn, -1);
  int rc = mail_conn_send(im->conn, "DONE\r\n", 6);
  return rc ? imap_abort(im, rc, "cannot queue DONE") : MAIL_OK;
}

int imap_idle_reply(mail_imap *im, const mail_imap_response *r)
{
  int again = im->idle_phase == IDLE_DONE_SENT && im->idle_again;
  im->idle_phase = IDLE_NONE;
  mail_conn_set_wake(im->conn, 0, -1);
  mail_conn_set_wait_timeout(im->conn, -1);
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK)
    return imap_refusal(r);
  if (again && !atomic_load(&im->idle_stop_req) && !im->idle_done_req)
    return idle_send(im);
  atomic_store(&im->idle_stop_req, 0);
  return MAIL_OK;
}

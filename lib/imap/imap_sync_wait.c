/* Staying live after a sync: wait for the server to report a change (IDLE,
 * after NOTIFY SET for the selected mailbox when offered; NOOP polling
 * without IDLE), then list the changes the way the sync ran. The wait is
 * the session's IDLE operation with one difference: its interval ends it
 * instead of re-issuing it (idle_once). A connection lost meanwhile can be
 * opened again: connect to the same host, log in (the SASL handle's token
 * callback refreshes an OAuth token as in any mail_imap_login()), sync. */
#include <string.h>
#include <time.h>

#include "imap/imap_sync_run.h"

static int changes(const mail_imap_response *r)
{
  switch (mail_imap_response_type(r)) {
  case MAIL_IMAP_TYPE_EXISTS:
  case MAIL_IMAP_TYPE_EXPUNGE:
  case MAIL_IMAP_TYPE_FETCH:
  case MAIL_IMAP_TYPE_VANISHED:
    return 1;
  default:
    return 0;
  }
}

typedef struct waiter {
  mail_imap *im;
  mail_imap_untagged_fn prev;
  void *prev_user;
  int changed;
} waiter;

static int on_wait(void *user, const mail_imap_response *r, int trusted)
{
  waiter *w = user;
  int prc = w->prev ? w->prev(w->prev_user, r, trusted) : 0;
  if (changes(r)) {
    w->changed = 1;
    mail_imap_idle_stop(w->im);
  }
  return prc;
}

static int lost(int rc)
{
  return rc == MAIL_ERR_CLOSED || rc == MAIL_ERR_SERVER_CLOSING || rc == MAIL_ERR_TIMEOUT ||
         rc == MAIL_ERR_IO;
}

static void pause_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static int notify_selected(mail_imap *im)
{
  if (im->sync_notify_set || !imap_has_cap(im, "NOTIFY"))
    return MAIL_OK;
  mail_imap_notify *n;
  int rc = mail_imap_notify_new(&n, &im->alloc);
  if (rc)
    return rc;
  rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_SELECTED, NULL, 0,
                            MAIL_IMAP_NOTIFY_MESSAGE_NEW | MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE |
                                MAIL_IMAP_NOTIFY_FLAG_CHANGE);
  if (!rc)
    rc = mail_imap_notify_set(im, n, 0);
  mail_imap_notify_free(n);
  if (!rc)
    im->sync_notify_set = 1;
  else if (!mail_status_is_fatal(rc) && mail_conn_is_open(im->conn))
    rc = MAIL_OK; /* a refusal: IDLE still reports the selected mailbox */
  return rc;
}

static int wait_for_change(mail_imap *im, int timeout_ms, int poll_ms)
{
  waiter w = {im, im->on_untagged, im->on_untagged_user, 0};
  im->on_untagged = on_wait;
  im->on_untagged_user = &w;
  int rc = notify_selected(im);
  if (!rc && (imap_has_cap(im, "IDLE") || imap_has_cap(im, "IMAP4REV2"))) {
    int saved = im->idle_interval;
    im->idle_interval = timeout_ms;
    im->idle_once = 1;
    rc = mail_imap_idle_start(im);
    im->idle_once = 0;
    im->idle_interval = saved;
  } else if (!rc) {
    for (int waited = 0; !rc && !w.changed && waited < timeout_ms; waited += poll_ms) {
      rc = mail_imap_noop(im);
      if (!rc && !w.changed && waited + poll_ms < timeout_ms)
        pause_ms(poll_ms);
    }
  }
  im->on_untagged = w.prev;
  im->on_untagged_user = w.prev_user;
  return rc;
}

static int reconnect_and_sync(mail_imap *im, mail_imap_sync_state *st, const char *mailbox,
                              int read_only, int strategy, mail_imap_sync_fn fn, void *user)
{
  if (!im->host)
    return MAIL_ERR_CLOSED;
  im->sync_notify_set = 0;
  int rc = mail_imap_connect(im, im->host, im->port, im->security);
  if (!rc && im->state == MAIL_IMAP_STATE_NOT_AUTHENTICATED)
    rc = mail_imap_login(im);
  if (!rc)
    rc = mail_imap_sync_run(NULL, im, st, mailbox, read_only, strategy, fn, user);
  return rc;
}

int mail_imap_sync_wait(mail_imap *im, mail_imap_sync_state *st, const char *mailbox,
                        int strategy, int timeout_ms, int poll_ms, int reconnect,
                        mail_imap_sync_fn fn, void *user)
{
  if (!st || !mailbox || timeout_ms < 1000 || poll_ms < 1000 || strategy < MAIL_IMAP_SYNC_AUTO ||
      strategy > MAIL_IMAP_SYNC_FULL)
    return MAIL_ERR_INVALID;
  int rc = imap_sync_usable(im);
  if (rc)
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  int ro = mail_imap_mailbox_read_only(im);
  rc = wait_for_change(im, timeout_ms, poll_ms);
  if (!rc) {
    int how = im->sync_how ? im->sync_how : MAIL_IMAP_SYNC_FULL;
    if (strategy > how)
      how = strategy; /* weaker asked for */
    if (how == MAIL_IMAP_SYNC_QRESYNC && !mail_imap_is_enabled(im, "QRESYNC"))
      how = MAIL_IMAP_SYNC_CONDSTORE;
    sync_ctx c;
    imap_sync_begin(&c, im, st, fn, user);
    rc = imap_sync_list(&c, &how, 0);
    rc = imap_sync_end(&c, rc);
  }
  if (rc && reconnect && lost(rc) && im->state == MAIL_IMAP_STATE_DISCONNECTED) {
    mail_conn_trace_info(im->conn, "imap: sync: the connection was lost (%s); connecting again",
                         mail_strerror(rc));
    rc = reconnect_and_sync(im, st, mailbox, ro, strategy, fn, user);
  }
  return rc;
}

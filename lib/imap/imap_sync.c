/* The sync helper: bring a caller's state up to date with a mailbox the
 * best way the server allows (QRESYNC, CONDSTORE, or a full UID/FLAGS
 * listing), report each change, then stay live (imap_sync_wait.c).
 *
 * How changes are found. The session's untagged callback is wrapped for
 * the duration (the caller's own still sees everything first):
 *  - QRESYNC: SELECT (QRESYNC (uidvalidity modseq known-uids)); the
 *    server's VANISHED (EARLIER) and FETCH (UID FLAGS MODSEQ) responses are
 *    applied as they come ("inline");
 *  - CONDSTORE: SELECT (CONDSTORE); UID FETCH 1:* (UID FLAGS)
 *    (CHANGEDSINCE modseq) collects what changed, then the UIDs present
 *    (UID SEARCH RETURN (ALL) ALL under ESEARCH, else UID FETCH 1:* (UID))
 *    tell the expunges; skipped when HIGHESTMODSEQ and EXISTS show nothing
 *    changed;
 *  - FULL: UID FETCH 1:* (UID FLAGS) collected and merged with the state.
 * The HIGHESTMODSEQ stored is the mailbox's as the listing began, so a
 * change made meanwhile is seen again next time (a duplicate is harmless:
 * a FLAGS event only comes when the flags differ). A UIDVALIDITY other than
 * the state's empties the state (RESET) and lists the mailbox in full. */
#include <stdlib.h>
#include <string.h>

#include "imap/imap_internal.h"
#include "imap/imap_sync_internal.h"
#include "imap/imap_sync_run.h"

static uint64_t mbox_num(mail_imap *im, int field, int *known)
{
  uint64_t v = 0;
  *known = mail_imap_mailbox_number(&v, im, field) == MAIL_OK;
  return v;
}

/* One sub-operation of the sync (a FETCH, a SEARCH, a SELECT ...), started
 * once and resumed while it says MAIL_ERR_AGAIN: the session's rule, "call
 * the same function again", applied to each in turn. */
enum { SUB_FETCH = 1, SUB_FETCH_SINCE, SUB_SEARCH, SUB_UNSELECT, SUB_ENABLE, SUB_SELECT,
       SUB_SELECT_CONDSTORE, SUB_SELECT_QRESYNC };

static int sub_call(sync_ctx *c, int kind)
{
  mail_imap *im = c->im;
  static const char *const q[] = {"QRESYNC"};
  switch (kind) {
  case SUB_FETCH:
    return mail_imap_fetch(im, c->set, 1, c->items, NULL, NULL);
  case SUB_FETCH_SINCE:
    return mail_imap_fetch_changedsince(im, c->set, 1, c->items, c->since, c->vanished, NULL,
                                        NULL);
  case SUB_SEARCH:
    return mail_imap_search(im, 1, "ALL", "ALL", NULL, 0);
  case SUB_UNSELECT:
    return mail_imap_unselect(im);
  case SUB_ENABLE:
    return mail_imap_enable(im, q, 1);
  case SUB_SELECT:
    return mail_imap_select(im, c->mailbox, c->read_only);
  case SUB_SELECT_CONDSTORE:
    return mail_imap_select_qresync(im, c->mailbox, c->read_only, 0, 0, NULL, NULL, NULL);
  default:
    return mail_imap_select_qresync(im, c->mailbox, c->read_only, c->st->uidvalidity,
                                    c->st->highestmodseq, c->set, NULL, NULL);
  }
}

/* Run sub-operation kind with the hook in mode; MAIL_ERR_AGAIN to come back. */
static int sub(sync_ctx *c, int kind, int mode)
{
  c->mode = mode;
  if (!c->sub_active) {
    c->sub_active = 1;
    if (mode == SYNC_MODE_COLLECT || mode == SYNC_MODE_UIDS)
      c->n = 0;
  }
  int rc = sub_call(c, kind);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  c->sub_active = 0;
  c->mode = SYNC_MODE_IGNORE;
  mail_imap_seqset_free(c->set);
  c->set = NULL;
  return rc ? rc : c->rc;
}

static int set_from(sync_ctx *c, uint32_t first, const char *items, uint64_t since, int vanished)
{
  if (c->sub_active)
    return MAIL_OK; /* being resumed: the set is there */
  int rc = mail_imap_seqset_new(&c->set, &c->im->alloc);
  if (!rc)
    rc = mail_imap_seqset_add_range(c->set, first, UINT32_MAX);
  c->items = items;
  c->since = since;
  c->vanished = vanished;
  return rc;
}

static int fetch_from(sync_ctx *c, uint32_t first, int mode, const char *items, uint64_t since,
                      int vanished)
{
  int rc = set_from(c, first, items, since, vanished);
  return rc ? rc : sub(c, since ? SUB_FETCH_SINCE : SUB_FETCH, mode);
}

/* What the listing after the SELECT does (decided once, before its commands). */
enum { L_NOTHING = 1, L_VANISH_ALL, L_QR_ABOVE, L_QR_CHANGED, L_CONDSTORE, L_FULL };

static void plan_list(sync_ctx *c)
{
  mail_imap *im = c->im;
  mail_imap_sync_state *st = c->st;
  int ex_known;
  c->hms = mbox_num(im, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ, &c->hms_known);
  uint64_t exists = mbox_num(im, MAIL_IMAP_MAILBOX_EXISTS, &ex_known);
  if (!c->hms_known || !c->hms)
    c->how = MAIL_IMAP_SYNC_FULL; /* [NOMODSEQ], or no CONDSTORE at all */
  int incremental = st->highestmodseq && !c->reset && c->how != MAIL_IMAP_SYNC_FULL;
  c->above = 0;
  if (ex_known && exists == 0) {
    c->lkind = L_VANISH_ALL;
  } else if (incremental && c->how == MAIL_IMAP_SYNC_QRESYNC) {
    if (!c->after_select || !c->qresync_select) {
      c->lkind = L_QR_CHANGED;
    } else {
      /* RFC 7162 3.2.5.1: the SELECT reported changes to the known UIDs
       * only; the messages above them are asked for (a "max:*" past the
       * last UID gives the last message, already known: no event). */
      int next_known;
      uint64_t next = mbox_num(im, MAIL_IMAP_MAILBOX_UIDNEXT, &next_known);
      uint32_t above = st->n ? st->e[st->n - 1].uid : 0;
      if (c->max_known > above)
        above = c->max_known;
      c->above = above;
      c->lkind = above < UINT32_MAX && (!next_known || next > (uint64_t)above + 1) ? L_QR_ABOVE
                                                                                  : L_NOTHING;
    }
  } else if (incremental && c->hms == st->highestmodseq && ex_known && exists == st->n) {
    c->lkind = L_NOTHING; /* no new message (it would raise HIGHESTMODSEQ) and so none gone */
  } else {
    c->lkind = incremental ? L_CONDSTORE : L_FULL;
  }
}

/* The strongest way allowed and offered (QRESYNC ENABLEd here, after an
 * UNSELECT when selected), then the SELECT with the state's data. */
enum { P_CHOOSE = 0, P_UNSELECT, P_ENABLE, P_DECIDE, P_SELECT, P_LIST, P_L1, P_L2, P_L3,
       P_MERGE, P_DONE };

static int step(sync_ctx *c)
{
  mail_imap *im = c->im;
  mail_imap_sync_state *st = c->st;
  int rc = MAIL_OK;
  for (;;) {
    switch (c->phase) {
    case P_CHOOSE: {
      int want = c->strategy == MAIL_IMAP_SYNC_AUTO ? MAIL_IMAP_SYNC_QRESYNC : c->strategy;
      c->try_qresync = want <= MAIL_IMAP_SYNC_QRESYNC && imap_has_cap(im, "QRESYNC");
      c->try_condstore = want <= MAIL_IMAP_SYNC_CONDSTORE &&
                         (imap_has_cap(im, "CONDSTORE") || imap_has_cap(im, "QRESYNC"));
      int enabled = mail_imap_is_enabled(im, "QRESYNC");
      c->phase = P_DECIDE;
      if (c->try_qresync && !enabled && im->state == MAIL_IMAP_STATE_SELECTED &&
          (imap_has_cap(im, "UNSELECT") || imap_has_cap(im, "IMAP4REV2")))
        c->phase = P_UNSELECT;
      else if (c->try_qresync && !enabled && im->state == MAIL_IMAP_STATE_AUTHENTICATED)
        c->phase = P_ENABLE;
      break;
    }
    case P_UNSELECT:
      if ((rc = sub(c, SUB_UNSELECT, SYNC_MODE_IGNORE)) != MAIL_OK)
        return rc;
      c->phase = P_ENABLE;
      break;
    case P_ENABLE:
      rc = sub(c, SUB_ENABLE, SYNC_MODE_IGNORE);
      if (rc == MAIL_ERR_AGAIN || (rc && (mail_status_is_fatal(rc) || !mail_conn_is_open(im->conn))))
        return rc;
      c->rc = MAIL_OK; /* a refusal: CONDSTORE then */
      c->phase = P_DECIDE;
      break;
    case P_DECIDE:
      c->how = MAIL_IMAP_SYNC_FULL;
      if (c->try_qresync && mail_imap_is_enabled(im, "QRESYNC"))
        c->how = MAIL_IMAP_SYNC_QRESYNC;
      else if (c->try_condstore)
        c->how = MAIL_IMAP_SYNC_CONDSTORE;
      c->max_known = st->n ? st->e[st->n - 1].uid : 0;
      c->qresync_select = c->how == MAIL_IMAP_SYNC_QRESYNC && st->uidvalidity && st->highestmodseq;
      c->sel_kind = c->qresync_select                  ? SUB_SELECT_QRESYNC
                    : c->how != MAIL_IMAP_SYNC_FULL ? SUB_SELECT_CONDSTORE
                                                    : SUB_SELECT;
      if (c->qresync_select && st->n) {
        rc = mail_imap_seqset_new(&c->set, &im->alloc);
        for (size_t i = 0; i < st->n && !rc;) {
          size_t j = i;
          while (j + 1 < st->n && st->e[j + 1].uid == st->e[j].uid + 1)
            j++;
          rc = mail_imap_seqset_add_range(c->set, st->e[i].uid, st->e[j].uid);
          i = j + 1;
        }
        if (rc)
          return rc;
      }
      c->phase = P_SELECT;
      break;
    case P_SELECT:
      c->selecting = 1;
      rc = sub(c, c->sel_kind, SYNC_MODE_INLINE);
      if (rc == MAIL_ERR_AGAIN)
        return rc;
      c->selecting = 0;
      if (rc)
        return rc;
      if (!st->uidvalidity)
        return MAIL_ERR_PROTOCOL; /* RFC 9051 7.1: a SELECT must give UIDVALIDITY */
      c->phase = P_LIST;
      break;
    case P_LIST:
      plan_list(c);
      c->phase = P_L1;
      break;
    case P_L1:
      switch (c->lkind) {
      case L_VANISH_ALL:
        rc = imap_sync_vanish(c, 1, UINT32_MAX);
        break;
      case L_QR_ABOVE:
        rc = fetch_from(c, c->above + 1, SYNC_MODE_INLINE, "(UID FLAGS)", 0, 0);
        break;
      case L_QR_CHANGED:
        rc = fetch_from(c, 1, SYNC_MODE_INLINE, "(UID FLAGS)", st->highestmodseq, 1);
        break;
      case L_CONDSTORE:
        rc = fetch_from(c, 1, SYNC_MODE_COLLECT, "(UID FLAGS)", st->highestmodseq, 0);
        break;
      case L_FULL:
        rc = fetch_from(c, 1, SYNC_MODE_COLLECT, "(UID FLAGS)", 0, 0);
        break;
      default:
        break;
      }
      if (rc)
        return rc;
      c->phase = c->lkind == L_CONDSTORE ? P_L2 : P_MERGE;
      if (c->lkind == L_CONDSTORE) {
        c->nchanged = imap_sync_settle(c->list, c->n);
        if (c->nchanged) {
          c->changed = mail_malloc(&st->alloc, c->nchanged * sizeof *c->changed);
          if (!c->changed)
            return MAIL_ERR_NOMEM;
          memcpy(c->changed, c->list, c->nchanged * sizeof *c->changed);
        }
        c->n = 0;
        c->searched = 0;
        c->search_defect = 0;
      }
      break;
    case P_L2:
      if (imap_has_cap(im, "ESEARCH") || imap_has_cap(im, "IMAP4REV2")) {
        if ((rc = sub(c, SUB_SEARCH, SYNC_MODE_UIDS)) != MAIL_OK)
          return rc;
      }
      c->phase = P_L3;
      break;
    case P_L3:
      if (!c->searched || c->search_defect) {
        if ((rc = fetch_from(c, 1, SYNC_MODE_UIDS, "(UID)", 0, 0)) != MAIL_OK)
          return rc;
      }
      c->phase = P_MERGE;
      break;
    case P_MERGE:
      if (c->lkind == L_CONDSTORE) {
        size_t np = imap_sync_settle(c->list, c->n);
        rc = imap_sync_merge(c, c->changed ? c->changed : c->list, c->nchanged, c->list, np);
      } else if (c->lkind == L_FULL) {
        rc = imap_sync_merge(c, c->list, imap_sync_settle(c->list, c->n), NULL, 0);
      }
      if (rc)
        return rc;
      c->n = 0;
      st->highestmodseq = c->hms_known ? c->hms : 0;
      c->reset = 0;
      c->phase = P_DONE;
      break;
    default:
      return MAIL_OK;
    }
  }
}

int imap_sync_list(sync_ctx *c, int *howp, int after_select)
{
  c->how = *howp;
  c->after_select = after_select;
  c->phase = P_LIST;
  int rc = step(c);
  *howp = c->how;
  return rc;
}

void imap_sync_begin(sync_ctx *c, mail_imap *im, mail_imap_sync_state *st, mail_imap_sync_fn fn,
                     void *user)
{
  memset(c, 0, sizeof *c);
  c->im = im;
  c->st = st;
  c->fn = fn;
  c->user = user;
  c->prev = im->on_untagged;
  c->prev_user = im->on_untagged_user;
  im->on_untagged = imap_sync_hook;
  im->on_untagged_user = c;
}

int imap_sync_end(sync_ctx *c, int rc)
{
  c->im->on_untagged = c->prev;
  c->im->on_untagged_user = c->prev_user;
  mail_dealloc(&c->st->alloc, c->list);
  mail_dealloc(&c->st->alloc, c->changed);
  mail_imap_seqset_free(c->set);
  c->list = NULL;
  c->changed = NULL;
  c->set = NULL;
  if (!rc && c->rc)
    rc = c->rc;
  if (!rc && c->stopped)
    rc = MAIL_ERR_CALLBACK;
  return rc;
}

int imap_sync_usable(mail_imap *im)
{
  if (!im)
    return MAIL_ERR_INVALID;
  if (im->op.kind || mail_conn_is_nonblocking(im->conn))
    return mail_conn_fail(im->conn, MAIL_ERR_STATE,
                          "the sync helper's wait and mirror are blocking only and need the "
                          "session idle");
  if (im->state != MAIL_IMAP_STATE_AUTHENTICATED && im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  return MAIL_OK;
}

void imap_sync_discard(mail_imap *im)
{
  sync_ctx *c = im->sync_run;
  if (!c)
    return;
  im->sync_run = NULL;
  imap_sync_end(c, MAIL_OK);
  mail_dealloc(&im->alloc, c);
}

int mail_imap_sync_run(int *used, mail_imap *im, mail_imap_sync_state *st, const char *mailbox,
                       int read_only, int strategy, mail_imap_sync_fn fn, void *user)
{
  if (!im)
    return MAIL_ERR_INVALID;
  sync_ctx *c = im->sync_run;
  if (!c) { /* a new sync; otherwise one in progress is resumed (arguments not looked at) */
    if (used)
      *used = 0;
    if (!st || !mailbox || strategy < MAIL_IMAP_SYNC_AUTO || strategy > MAIL_IMAP_SYNC_FULL)
      return MAIL_ERR_INVALID;
    if (im->op.kind)
      return MAIL_ERR_STATE;
    if (im->state != MAIL_IMAP_STATE_AUTHENTICATED && im->state != MAIL_IMAP_STATE_SELECTED)
      return MAIL_ERR_STATE;
    c = mail_malloc(&im->alloc, sizeof *c);
    if (!c)
      return MAIL_ERR_NOMEM;
    imap_sync_begin(c, im, st, fn, user);
    c->mailbox = mailbox;
    c->read_only = read_only;
    c->strategy = strategy;
    c->after_select = 1;
    c->used = used;
    im->sync_run = c;
  }
  int rc = step(c);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  int how = c->how;
  int *out = c->used;
  im->sync_run = NULL;
  rc = imap_sync_end(c, rc);
  mail_dealloc(&im->alloc, c);
  if (!rc && out)
    *out = how;
  if (!rc)
    im->sync_how = how;
  return rc;
}

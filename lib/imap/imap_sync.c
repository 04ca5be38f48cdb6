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

static int from_set(mail_imap *im, uint32_t first, mail_imap_seqset **set)
{
  int rc = mail_imap_seqset_new(set, &im->alloc);
  if (!rc)
    rc = mail_imap_seqset_add_range(*set, first, UINT32_MAX);
  return rc;
}

static int collect_from(sync_ctx *c, uint32_t first, int mode, const char *items, uint64_t since,
                        int vanished)
{
  mail_imap_seqset *set = NULL;
  int rc = from_set(c->im, first, &set);
  c->mode = mode;
  c->n = 0;
  if (!rc)
    rc = since ? mail_imap_fetch_changedsince(c->im, set, 1, items, since, vanished, NULL, NULL)
               : mail_imap_fetch(c->im, set, 1, items, NULL, NULL);
  mail_imap_seqset_free(set);
  c->mode = SYNC_MODE_IGNORE;
  return rc ? rc : c->rc;
}

static int collect_fetch(sync_ctx *c, int mode, const char *items, uint64_t since, int vanished)
{
  return collect_from(c, 1, mode, items, since, vanished);
}

static uint64_t mbox_num(mail_imap *im, int field, int *known)
{
  uint64_t v = 0;
  *known = mail_imap_mailbox_number(&v, im, field) == MAIL_OK;
  return v;
}

int imap_sync_list(sync_ctx *c, int *howp, int after_select)
{
  int how = *howp;
  mail_imap *im = c->im;
  mail_imap_sync_state *st = c->st;
  int hms_known, ex_known;
  uint64_t hms = mbox_num(im, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ, &hms_known);
  uint64_t exists = mbox_num(im, MAIL_IMAP_MAILBOX_EXISTS, &ex_known);
  if (!hms_known || !hms)
    how = *howp = MAIL_IMAP_SYNC_FULL; /* [NOMODSEQ], or no CONDSTORE at all */
  int rc = MAIL_OK;
  int incremental = st->highestmodseq && !c->reset && how != MAIL_IMAP_SYNC_FULL;
  if (ex_known && exists == 0) {
    rc = imap_sync_vanish(c, 1, UINT32_MAX);
  } else if (incremental && how == MAIL_IMAP_SYNC_QRESYNC) {
    if (!after_select || !c->qresync_select) {
      rc = collect_fetch(c, SYNC_MODE_INLINE, "(UID FLAGS)", st->highestmodseq, 1);
    } else {
      /* RFC 7162 3.2.5.1: the SELECT reported changes to the known UIDs
       * only; the messages above them are asked for (a "max:*" past the
       * last UID gives the last message, already known: no event). */
      int next_known;
      uint64_t next = mbox_num(im, MAIL_IMAP_MAILBOX_UIDNEXT, &next_known);
      uint32_t above = st->n ? st->e[st->n - 1].uid : 0;
      if (c->max_known > above)
        above = c->max_known;
      if (above < UINT32_MAX && (!next_known || next > (uint64_t)above + 1))
        rc = collect_from(c, above + 1, SYNC_MODE_INLINE, "(UID FLAGS)", 0, 0);
    }
  } else if (incremental && hms == st->highestmodseq && ex_known && exists == st->n) {
    /* nothing changed: no new message (it would raise HIGHESTMODSEQ) and so none gone */
  } else if (incremental) {
    rc = collect_fetch(c, SYNC_MODE_COLLECT, "(UID FLAGS)", st->highestmodseq, 0);
    size_t nc = rc ? 0 : imap_sync_settle(c->list, c->n);
    sync_item *changed = NULL;
    if (!rc && nc) {
      changed = mail_malloc(&st->alloc, nc * sizeof *changed);
      if (!changed)
        rc = MAIL_ERR_NOMEM;
      else
        memcpy(changed, c->list, nc * sizeof *changed);
    }
    if (!rc) {
      c->n = 0;
      c->searched = 0;
      c->search_defect = 0;
      if (imap_has_cap(im, "ESEARCH") || imap_has_cap(im, "IMAP4REV2")) {
        c->mode = SYNC_MODE_UIDS;
        rc = mail_imap_search(im, 1, "ALL", "ALL", NULL, 0);
        c->mode = SYNC_MODE_IGNORE;
        if (!rc)
          rc = c->rc;
      }
      if (!rc && (!c->searched || c->search_defect))
        rc = collect_fetch(c, SYNC_MODE_UIDS, "(UID)", 0, 0);
    }
    if (!rc) {
      size_t np = imap_sync_settle(c->list, c->n);
      rc = imap_sync_merge(c, changed ? changed : c->list, nc, c->list, np);
    }
    mail_dealloc(&st->alloc, changed);
  } else {
    rc = collect_fetch(c, SYNC_MODE_COLLECT, "(UID FLAGS)", 0, 0);
    if (!rc)
      rc = imap_sync_merge(c, c->list, imap_sync_settle(c->list, c->n), NULL, 0);
  }
  c->n = 0;
  if (!rc)
    st->highestmodseq = hms_known ? hms : 0;
  c->reset = 0;
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
  c->list = NULL;
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
                          "the sync helper is blocking only and needs the session idle");
  if (im->state != MAIL_IMAP_STATE_AUTHENTICATED && im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  return MAIL_OK;
}

/* The strongest way allowed and offered; QRESYNC is ENABLEd here. */
static int choose(mail_imap *im, int strategy, int *how)
{
  int want = strategy == MAIL_IMAP_SYNC_AUTO ? MAIL_IMAP_SYNC_QRESYNC : strategy;
  *how = MAIL_IMAP_SYNC_FULL;
  if (want <= MAIL_IMAP_SYNC_QRESYNC && imap_has_cap(im, "QRESYNC")) {
    if (!mail_imap_is_enabled(im, "QRESYNC") && im->state == MAIL_IMAP_STATE_SELECTED &&
        (imap_has_cap(im, "UNSELECT") || imap_has_cap(im, "IMAP4REV2"))) {
      int rc = mail_imap_unselect(im);
      if (rc)
        return rc;
    }
    if (!mail_imap_is_enabled(im, "QRESYNC") && im->state == MAIL_IMAP_STATE_AUTHENTICATED) {
      static const char *const q[] = {"QRESYNC"};
      int rc = mail_imap_enable(im, q, 1);
      if (rc && (mail_status_is_fatal(rc) || !mail_conn_is_open(im->conn)))
        return rc;
    }
    if (mail_imap_is_enabled(im, "QRESYNC")) {
      *how = MAIL_IMAP_SYNC_QRESYNC;
      return MAIL_OK;
    }
  }
  if (want <= MAIL_IMAP_SYNC_CONDSTORE &&
      (imap_has_cap(im, "CONDSTORE") || imap_has_cap(im, "QRESYNC")))
    *how = MAIL_IMAP_SYNC_CONDSTORE;
  return MAIL_OK;
}

static int known_set(mail_imap *im, const mail_imap_sync_state *st, mail_imap_seqset **out)
{
  int rc = mail_imap_seqset_new(out, &im->alloc);
  for (size_t i = 0; i < st->n && !rc;) {
    size_t j = i;
    while (j + 1 < st->n && st->e[j + 1].uid == st->e[j].uid + 1)
      j++;
    rc = mail_imap_seqset_add_range(*out, st->e[i].uid, st->e[j].uid);
    i = j + 1;
  }
  return rc;
}

int imap_sync_select(sync_ctx *c, const char *mailbox, int read_only, int strategy, int *how)
{
  mail_imap *im = c->im;
  mail_imap_sync_state *st = c->st;
  int rc = choose(im, strategy, how);
  if (rc)
    return rc;
  c->selecting = 1;
  c->mode = SYNC_MODE_INLINE;
  c->qresync_select = 0;
  c->max_known = st->n ? st->e[st->n - 1].uid : 0;
  if (*how == MAIL_IMAP_SYNC_QRESYNC && st->uidvalidity && st->highestmodseq) {
    mail_imap_seqset *known = NULL;
    rc = known_set(im, st, &known);
    c->qresync_select = 1;
    if (!rc)
      rc = mail_imap_select_qresync(im, mailbox, read_only, st->uidvalidity, st->highestmodseq,
                                    st->n ? known : NULL, NULL, NULL);
    mail_imap_seqset_free(known);
  } else if (*how != MAIL_IMAP_SYNC_FULL) {
    rc = mail_imap_select_qresync(im, mailbox, read_only, 0, 0, NULL, NULL, NULL);
  } else {
    rc = mail_imap_select(im, mailbox, read_only);
  }
  c->selecting = 0;
  c->mode = SYNC_MODE_IGNORE;
  if (!rc && !st->uidvalidity)
    rc = MAIL_ERR_PROTOCOL; /* RFC 9051 7.1: a SELECT must give UIDVALIDITY */
  if (!rc && c->rc)
    rc = c->rc;
  return rc;
}

int mail_imap_sync_run(int *used, mail_imap *im, mail_imap_sync_state *st, const char *mailbox,
                       int read_only, int strategy, mail_imap_sync_fn fn, void *user)
{
  if (used)
    *used = 0;
  if (!st || !mailbox || strategy < MAIL_IMAP_SYNC_AUTO || strategy > MAIL_IMAP_SYNC_FULL)
    return MAIL_ERR_INVALID;
  int rc = imap_sync_usable(im);
  if (rc)
    return rc;
  sync_ctx c;
  imap_sync_begin(&c, im, st, fn, user);
  int how = MAIL_IMAP_SYNC_FULL;
  rc = imap_sync_select(&c, mailbox, read_only, strategy, &how);
  if (!rc)
    rc = imap_sync_list(&c, &how, 1);
  rc = imap_sync_end(&c, rc);
  if (!rc && used)
    *used = how;
  if (!rc)
    im->sync_how = how;
  return rc;
}

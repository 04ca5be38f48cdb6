/* The sync helper's view of the server's responses (imap_sync.c runs the
 * commands): the wrapped untagged callback, which applies VANISHED and
 * QRESYNC's FETCH to the state at once ("inline") or collects (UID, FLAGS)
 * and UIDs for a merge; the merge of a listing with the state; and the
 * report of each change to the caller. */
#include <stdlib.h>
#include <string.h>

#include "imap/imap_sync_run.h"

static int report(sync_ctx *c, int ev, uint32_t uid, uint32_t flags)
{
  if (c->stopped || !c->fn)
    return MAIL_OK;
  char text[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
  text[0] = '\0';
  if (ev == MAIL_IMAP_SYNC_NEW || ev == MAIL_IMAP_SYNC_FLAGS)
    sync_state_flags_text(c->st, flags, text, sizeof text);
  if (c->fn(c->user, ev, uid, text) != 0)
    c->stopped = 1;
  return MAIL_OK;
}

static int fetch_flags(sync_ctx *c, const mail_imap_response *r, uint32_t *mask)
{
  *mask = 0;
  for (size_t i = 0; i < mail_imap_fetch_flag_count(r); i++) {
    size_t len;
    const char *f = mail_imap_fetch_flag(r, i, &len);
    uint32_t bit;
    int rc = sync_state_flag_bit(c->st, f, len, &bit);
    if (rc == MAIL_ERR_PROTOCOL)
      continue; /* not a flag the state can keep: left out */
    if (rc)
      return rc;
    *mask |= bit;
  }
  return MAIL_OK;
}

/* Remove the known UIDs first..last, reporting each. */
int imap_sync_vanish(sync_ctx *c, uint32_t first, uint32_t last)
{
  mail_imap_sync_state *st = c->st;
  int found;
  size_t i = sync_state_lower(st, first, &found), j = i;
  while (j < st->n && st->e[j].uid <= last)
    j++;
  if (j == i)
    return MAIL_OK;
  size_t k = j - i;
  uint32_t *gone = mail_malloc(&st->alloc, k * sizeof *gone);
  if (!gone)
    return MAIL_ERR_NOMEM;
  for (size_t x = 0; x < k; x++)
    gone[x] = st->e[i + x].uid;
  memmove(st->e + i, st->e + j, (st->n - j) * sizeof *st->e);
  st->n -= k;
  for (size_t x = 0; x < k; x++)
    report(c, MAIL_IMAP_SYNC_VANISHED, gone[x], 0);
  mail_dealloc(&st->alloc, gone);
  return MAIL_OK;
}

static int list_add(sync_ctx *c, uint32_t uid, uint32_t flags)
{
  if (c->n >= c->cap) {
    size_t limit = c->st->max_uids * 2 + 64; /* duplicates from unsolicited FETCHes */
    if (c->cap >= limit)
      return MAIL_ERR_LIMIT;
    size_t cap = c->cap ? c->cap * 2 : 256;
    if (cap > limit)
      cap = limit;
    sync_item *l = mail_realloc(&c->st->alloc, c->list, cap * sizeof *l);
    if (!l)
      return MAIL_ERR_NOMEM;
    c->list = l;
    c->cap = cap;
  }
  c->list[c->n] = (sync_item){uid, flags, (uint32_t)c->n};
  c->n++;
  return MAIL_OK;
}

static int handle(sync_ctx *c, const mail_imap_response *r)
{
  mail_imap_sync_state *st = c->st;
  int type = mail_imap_response_type(r);
  uint64_t v;
  if (type == MAIL_IMAP_TYPE_OK && c->selecting &&
      mail_imap_response_code(r) == MAIL_IMAP_CODE_UIDVALIDITY &&
      mail_imap_response_code_number(r, &v) == MAIL_OK && v && v <= UINT32_MAX) {
    if (st->uidvalidity != (uint32_t)v) {
      if (st->uidvalidity || st->n) {
        c->reset = 1;
        sync_state_drop_uids(st);
        st->highestmodseq = 0;
        report(c, MAIL_IMAP_SYNC_RESET, (uint32_t)v, 0);
      }
      st->uidvalidity = (uint32_t)v;
    }
    return MAIL_OK;
  }
  if (type == MAIL_IMAP_TYPE_VANISHED) {
    uint32_t first, last;
    int rc = MAIL_OK;
    for (size_t i = 0; !rc && mail_imap_response_range(r, i, &first, &last) == MAIL_OK; i++) {
      rc = imap_sync_vanish(c, first, last);
      /* gone while being listed: not to be merged back as present */
      for (size_t k = 0; k < c->n; k++)
        if (c->list[k].uid >= first && c->list[k].uid <= last)
          c->list[k].uid = 0;
    }
    if (!rc && mail_imap_response_defect_count(r))
      rc = MAIL_ERR_LIMIT; /* a set too long to read whole: the state cannot be trusted */
    return rc;
  }
  if (type == MAIL_IMAP_TYPE_ESEARCH && c->mode == SYNC_MODE_UIDS) {
    uint32_t first, last;
    c->searched = 1;
    if (mail_imap_response_defect_count(r))
      c->search_defect = 1;
    for (size_t i = 0; mail_imap_response_range(r, i, &first, &last) == MAIL_OK; i++)
      for (uint64_t u = first; u <= last; u++) {
        int rc = list_add(c, (uint32_t)u, 0);
        if (rc)
          return rc;
      }
    return MAIL_OK;
  }
  if (type != MAIL_IMAP_TYPE_FETCH || c->mode == SYNC_MODE_IGNORE)
    return MAIL_OK;
  if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v) != MAIL_OK || !v || v > UINT32_MAX)
    return MAIL_OK; /* without its UID a FETCH says nothing the state can use */
  uint32_t uid = (uint32_t)v, mask = 0;
  if (c->mode == SYNC_MODE_UIDS)
    return list_add(c, uid, 0);
  if (!mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS))
    return MAIL_OK;
  int rc = fetch_flags(c, r, &mask);
  if (rc)
    return rc;
  if (c->mode == SYNC_MODE_COLLECT)
    return list_add(c, uid, mask);
  /* inline */
  int found;
  size_t i = sync_state_lower(st, uid, &found);
  if (found) {
    if (st->e[i].flags != mask) {
      st->e[i].flags = mask;
      report(c, MAIL_IMAP_SYNC_FLAGS, uid, mask);
    }
    return MAIL_OK;
  }
  rc = sync_state_put(st, uid, mask);
  if (!rc)
    report(c, MAIL_IMAP_SYNC_NEW, uid, mask);
  return rc;
}

int imap_sync_hook(void *user, const mail_imap_response *r, int trusted)
{
  sync_ctx *c = user;
  int prc = c->prev ? c->prev(c->prev_user, r, trusted) : 0;
  if (!c->rc)
    c->rc = handle(c, r);
  return prc;
}

static int by_uid_order(const void *a, const void *b)
{
  const sync_item *x = a, *y = b;
  if (x->uid != y->uid)
    return x->uid < y->uid ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Sort the list by UID, keeping the last word on each. */
size_t imap_sync_settle(sync_item *l, size_t n)
{
  if (!n)
    return 0;
  qsort(l, n, sizeof *l, by_uid_order);
  size_t out = 0;
  for (size_t i = 0; i < n; i++) {
    if (!l[i].uid)
      continue; /* vanished during the listing */
    if (out && l[out - 1].uid == l[i].uid)
      l[out - 1] = l[i];
    else
      l[out++] = l[i];
  }
  return out;
}

/* The new state from the old, the changed messages (changed[0..nc), UID
 * order) and the UIDs present (present[0..np); NULL: those changed are all
 * there is). Reported: VANISHED for the old not present, NEW and FLAGS. */
int imap_sync_merge(sync_ctx *c, const sync_item *changed, size_t nc, const sync_item *present,
                    size_t np)
{
  mail_imap_sync_state *st = c->st;
  if (!present) {
    present = changed;
    np = nc;
  }
  if (np > st->max_uids)
    return MAIL_ERR_LIMIT;
  sync_entry *ne = mail_malloc(&st->alloc, (np ? np : 1) * sizeof *ne);
  if (!ne)
    return MAIL_ERR_NOMEM;
  size_t nn = 0, ci = 0, oi = 0;
  for (size_t p = 0; p < np; p++) {
    uint32_t uid = present[p].uid;
    while (ci < nc && changed[ci].uid < uid)
      ci++;
    while (oi < st->n && st->e[oi].uid < uid)
      oi++;
    int in_old = oi < st->n && st->e[oi].uid == uid;
    if (ci < nc && changed[ci].uid == uid)
      ne[nn++] = (sync_entry){uid, changed[ci].flags};
    else if (in_old)
      ne[nn++] = st->e[oi];
    /* else: arrived after the changes were listed; the next sync has it */
  }
  sync_entry *old = st->e;
  size_t on = st->n;
  st->e = ne;
  st->n = nn;
  st->cap = np ? np : 1;
  /* Report by walking the old and the new together. */
  size_t a = 0, b = 0;
  while (a < on || b < nn) {
    if (b == nn || (a < on && old[a].uid < ne[b].uid)) {
      report(c, MAIL_IMAP_SYNC_VANISHED, old[a].uid, 0);
      a++;
    } else if (a == on || ne[b].uid < old[a].uid) {
      report(c, MAIL_IMAP_SYNC_NEW, ne[b].uid, ne[b].flags);
      b++;
    } else {
      if (old[a].flags != ne[b].flags)
        report(c, MAIL_IMAP_SYNC_FLAGS, ne[b].uid, ne[b].flags);
      a++;
      b++;
    }
  }
  mail_dealloc(&st->alloc, old);
  return MAIL_OK;
}

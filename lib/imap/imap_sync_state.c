/* The sync state: UIDVALIDITY, HIGHESTMODSEQ and the known UIDs with their
 * flags as a sorted array of 8-byte entries (flags a bit mask over the
 * system flags and a small keyword table), bounded by max_uids. */
#include <string.h>

#include "imap/imap_sync_internal.h"

int mail_imap_sync_state_new(mail_imap_sync_state **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_imap_sync_state *st = mail_calloc(&a, 1, sizeof *st);
  if (!st)
    return MAIL_ERR_NOMEM;
  st->alloc = a;
  st->max_uids = MAIL_IMAP_SYNC_DEFAULT_MAX_UIDS;
  *out = st;
  return MAIL_OK;
}

static void drop_keywords(mail_imap_sync_state *st)
{
  for (size_t i = 0; i < st->nkw; i++)
    mail_dealloc(&st->alloc, st->kw[i]);
  st->nkw = 0;
}

void mail_imap_sync_state_free(mail_imap_sync_state *st)
{
  if (!st)
    return;
  drop_keywords(st);
  mail_dealloc(&st->alloc, st->e);
  mail_allocator a = st->alloc;
  mail_dealloc(&a, st);
}

void sync_state_drop_uids(mail_imap_sync_state *st)
{
  st->n = 0;
}

void mail_imap_sync_state_clear(mail_imap_sync_state *st)
{
  if (!st)
    return;
  st->n = 0;
  st->uidvalidity = 0;
  st->highestmodseq = 0;
  drop_keywords(st);
}

int mail_imap_sync_state_set_max_uids(mail_imap_sync_state *st, size_t max)
{
  if (!st || max < 1 || max > 100000000)
    return MAIL_ERR_INVALID;
  st->max_uids = max;
  return MAIL_OK;
}

uint32_t mail_imap_sync_state_uidvalidity(const mail_imap_sync_state *st)
{
  return st ? st->uidvalidity : 0;
}

uint64_t mail_imap_sync_state_highestmodseq(const mail_imap_sync_state *st)
{
  return st ? st->highestmodseq : 0;
}

size_t mail_imap_sync_state_count(const mail_imap_sync_state *st)
{
  return st ? st->n : 0;
}

uint32_t mail_imap_sync_state_uid(const mail_imap_sync_state *st, size_t i)
{
  return st && i < st->n ? st->e[i].uid : 0;
}

size_t sync_state_lower(const mail_imap_sync_state *st, uint32_t uid, int *found)
{
  size_t lo = 0, hi = st->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (st->e[mid].uid < uid)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = lo < st->n && st->e[lo].uid == uid;
  return lo;
}

int sync_state_reserve(mail_imap_sync_state *st, size_t n)
{
  if (n <= st->cap)
    return MAIL_OK;
  if (n > st->max_uids)
    return MAIL_ERR_LIMIT;
  size_t cap = st->cap ? st->cap : 64;
  while (cap < n)
    cap *= 2;
  if (cap > st->max_uids)
    cap = st->max_uids;
  sync_entry *e = mail_realloc(&st->alloc, st->e, cap * sizeof *e);
  if (!e)
    return MAIL_ERR_NOMEM;
  st->e = e;
  st->cap = cap;
  return MAIL_OK;
}

int sync_state_put(mail_imap_sync_state *st, uint32_t uid, uint32_t flags)
{
  int found;
  size_t at = st->n && st->e[st->n - 1].uid < uid ? st->n : sync_state_lower(st, uid, &found);
  if (at < st->n && st->e[at].uid == uid) {
    st->e[at].flags = flags;
    return MAIL_OK;
  }
  int rc = sync_state_reserve(st, st->n + 1);
  if (rc)
    return rc;
  memmove(st->e + at + 1, st->e + at, (st->n - at) * sizeof *st->e);
  st->e[at] = (sync_entry){uid, flags};
  st->n++;
  return MAIL_OK;
}

static const char *const sys_flags[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                        "\\Draft"};

static int same_ci(const char *a, size_t alen, const char *b)
{
  size_t blen = strlen(b);
  if (alen != blen)
    return 0;
  for (size_t i = 0; i < alen; i++) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] + 32) : b[i];
    if (x != y)
      return 0;
  }
  return 1;
}

int sync_state_flag_bit(mail_imap_sync_state *st, const char *name, size_t len, uint32_t *bit)
{
  *bit = 0;
  if (!len || same_ci(name, len, "\\Recent") || same_ci(name, len, "\\*"))
    return MAIL_OK;
  for (unsigned i = 0; i < 5; i++)
    if (same_ci(name, len, sys_flags[i])) {
      *bit = 1u << i;
      return MAIL_OK;
    }
  for (size_t i = 0; i < st->nkw; i++)
    if (same_ci(name, len, st->kw[i])) {
      *bit = 1u << (SYNC_KW_BIT + i);
      return MAIL_OK;
    }
  /* A keyword is an atom (RFC 9051 flag-keyword): anything else from the
   * server would not survive the file format. */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"]", c) || (c == '\\' && i))
      return MAIL_ERR_PROTOCOL;
  }
  if (st->nkw >= MAIL_IMAP_SYNC_KEYWORDS_MAX || len > 200)
    return MAIL_ERR_LIMIT;
  char *k = mail_malloc(&st->alloc, len + 1);
  if (!k)
    return MAIL_ERR_NOMEM;
  memcpy(k, name, len);
  k[len] = '\0';
  st->kw[st->nkw] = k;
  *bit = 1u << (SYNC_KW_BIT + st->nkw);
  st->nkw++;
  return MAIL_OK;
}

int sync_state_flags_text(const mail_imap_sync_state *st, uint32_t flags, char *buf, size_t cap)
{
  if (!buf || !cap)
    return MAIL_ERR_INVALID;
  size_t at = 0;
  buf[0] = '\0';
  for (unsigned b = 0; b < 32; b++) {
    if (!(flags & (1u << b)))
      continue;
    const char *name = b < 5 ? sys_flags[b]
                       : (b - SYNC_KW_BIT < st->nkw ? st->kw[b - SYNC_KW_BIT] : NULL);
    if (!name)
      continue;
    size_t len = strlen(name);
    if (at + (at ? 1 : 0) + len + 1 > cap)
      return MAIL_ERR_BUFFER;
    if (at)
      buf[at++] = ' ';
    memcpy(buf + at, name, len + 1);
    at += len;
  }
  return MAIL_OK;
}

int mail_imap_sync_state_flags(char *buf, size_t cap, const mail_imap_sync_state *st,
                               uint32_t uid)
{
  if (!buf || !cap || !st)
    return MAIL_ERR_INVALID;
  int found;
  size_t i = sync_state_lower(st, uid, &found);
  if (!found) {
    buf[0] = '\0';
    return MAIL_ERR_NOT_FOUND;
  }
  return sync_state_flags_text(st, st->e[i].flags, buf, cap);
}

/* Sequence sets (RFC 9051 9, "sequence-set") built from numbers and
 * ranges, kept sorted and merged, and written out in pieces no longer
 * than a command's set may be (servers limit their command lines: 8,000
 * bytes recommended by RFC 7162 3.2.1, 1,000 for the most cautious). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "core/sort.h"
#include "imap/imap_internal.h"

typedef struct imap_range {
  uint32_t lo, hi; /* hi UINT32_MAX: "*" */
} imap_range;

struct mail_imap_seqset {
  mail_allocator alloc;
  imap_range *r;
  size_t n, cap;
  int sorted;
};

int mail_imap_seqset_new(mail_imap_seqset **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_imap_seqset *s = mail_calloc(&a, 1, sizeof *s);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->alloc = a;
  s->sorted = 1;
  *out = s;
  return MAIL_OK;
}

void mail_imap_seqset_free(mail_imap_seqset *s)
{
  if (!s)
    return;
  mail_allocator a = s->alloc;
  mail_dealloc(&a, s->r);
  mail_dealloc(&a, s);
}

void mail_imap_seqset_clear(mail_imap_seqset *s)
{
  if (s) {
    s->n = 0;
    s->sorted = 1;
  }
}

int mail_imap_seqset_add_range(mail_imap_seqset *s, uint32_t first, uint32_t last)
{
  if (!s || first == 0 || last == 0)
    return MAIL_ERR_INVALID;
  if (first > last) {
    uint32_t t = first;
    first = last;
    last = t;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    if (cap > SIZE_MAX / sizeof *s->r)
      return MAIL_ERR_NOMEM;
    imap_range *r = mail_realloc(&s->alloc, s->r, cap * sizeof *r);
    if (!r)
      return MAIL_ERR_NOMEM;
    s->r = r;
    s->cap = cap;
  }
  if (s->n && s->r[s->n - 1].lo > first)
    s->sorted = 0;
  s->r[s->n++] = (imap_range){first, last};
  return MAIL_OK;
}

int mail_imap_seqset_add(mail_imap_seqset *s, const uint32_t *numbers, size_t n)
{
  if (!s || (n && !numbers))
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++) {
    int rc = mail_imap_seqset_add_range(s, numbers[i], numbers[i]);
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

static int by_lo(const void *a, const void *b)
{
  const imap_range *x = a, *y = b;
  return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping or adjacent ranges. */
static void normalize(mail_imap_seqset *s)
{
  if (!s->sorted)
    mail_sort(s->r, s->n, sizeof *s->r, by_lo);
  s->sorted = 1;
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (w && (uint64_t)s->r[i].lo <= (uint64_t)s->r[w - 1].hi + 1) {
      if (s->r[i].hi > s->r[w - 1].hi)
        s->r[w - 1].hi = s->r[i].hi;
      continue;
    }
    s->r[w++] = s->r[i];
  }
  s->n = w;
}

size_t imap_seqset_count(mail_imap_seqset *s)
{
  normalize(s);
  return s->n;
}

/* Write ranges from *at into out (a set of at most max bytes); *at
 * advances past them. */
int imap_seqset_piece(mail_imap_seqset *s, size_t *at, size_t max, mail_buf *out)
{
  mail_buf_clear(out);
  while (*at < s->n) {
    char t[32];
    const imap_range *r = &s->r[*at];
    int n;
    if (r->lo == r->hi)
      n = snprintf(t, sizeof t, "%s%lu", out->len ? "," : "", (unsigned long)r->lo);
    else if (r->hi == UINT32_MAX)
      n = snprintf(t, sizeof t, "%s%lu:*", out->len ? "," : "", (unsigned long)r->lo);
    else
      n = snprintf(t, sizeof t, "%s%lu:%lu", out->len ? "," : "", (unsigned long)r->lo,
                   (unsigned long)r->hi);
    if (out->len && out->len + (size_t)n > max)
      break;
    int rc = mail_buf_append(out, t, (size_t)n);
    if (rc)
      return rc;
    (*at)++;
  }
  return mail_buf_terminate(out);
}

size_t imap_digits(uint32_t v)
{
  size_t n = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

static size_t range_len(const imap_range *r)
{
  size_t n = imap_digits(r->lo);
  if (r->hi == UINT32_MAX)
    n += 2;
  else if (r->hi != r->lo)
    n += 1 + imap_digits(r->hi);
  return n;
}

size_t imap_seqset_longest(mail_imap_seqset *s)
{
  normalize(s);
  size_t most = 0;
  for (size_t i = 0; i < s->n; i++)
    if (range_len(&s->r[i]) > most)
      most = range_len(&s->r[i]);
  return most;
}

size_t imap_seqset_text_len(mail_imap_seqset *s)
{
  normalize(s);
  size_t total = s->n ? s->n - 1 : 0;
  for (size_t i = 0; i < s->n; i++)
    total += range_len(&s->r[i]);
  return total;
}

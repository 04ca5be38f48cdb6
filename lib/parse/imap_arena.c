/* The per-response bump allocator: typed results of one response live in
 * chunks that are dropped together when the next response starts. */
#include "parse/imap_internal.h"

#include <stdalign.h>
#include <string.h>

#include "core/mem.h"

#define IMAP_CHUNK 16384

struct imap_chunk {
  imap_chunk *next;
  size_t used, cap;
  alignas(max_align_t) unsigned char data[];
};

void imap_arena_init(imap_arena *a, const mail_allocator *alloc)
{
  a->alloc = alloc;
  a->head = NULL;
  a->total = 0;
}

void *imap_arena_alloc(imap_arena *a, size_t n)
{
  if (n > SIZE_MAX - alignof(max_align_t))
    return NULL;
  n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
  if (n == 0)
    n = alignof(max_align_t);
  imap_chunk *c = a->head;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > IMAP_CHUNK ? n : IMAP_CHUNK;
    if (cap > SIZE_MAX - sizeof *c)
      return NULL;
    c = mail_malloc(a->alloc, sizeof *c + cap);
    if (!c)
      return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = a->head;
    a->head = c;
    a->total += cap;
  }
  void *r = c->data + c->used;
  c->used += n;
  memset(r, 0, n);
  return r;
}

void imap_arena_reset(imap_arena *a)
{
  imap_chunk *keep = NULL;
  imap_chunk *c = a->head;
  while (c) {
    imap_chunk *nx = c->next;
    if (!keep && c->cap == IMAP_CHUNK) {
      keep = c;
    } else {
      mail_dealloc(a->alloc, c);
    }
    c = nx;
  }
  a->head = keep;
  a->total = 0;
  if (keep) {
    keep->next = NULL;
    keep->used = 0;
    a->total = keep->cap;
  }
}

void imap_arena_free(imap_arena *a)
{
  imap_chunk *c = a->head;
  while (c) {
    imap_chunk *nx = c->next;
    mail_dealloc(a->alloc, c);
    c = nx;
  }
  a->head = NULL;
  a->total = 0;
}

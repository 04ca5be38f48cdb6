/* The static arena allocator (arena.h). */
#include "arena.h"

#include <stdint.h>
#include <string.h>

/* Every block starts with a header; free blocks are kept in address order
 * so a freed block can merge with both neighbours. */
typedef struct block {
  size_t size;        /* bytes of the block, header included */
  struct block *next; /* next free block (free blocks only) */
  size_t pad;         /* keeps the payload 16-byte aligned */
  size_t free;
} block;

#define HDR sizeof(block)
#define ALIGN 16

static block *free_list(arena *a)
{
  return (block *)(void *)a->mem;
}

void arena_init(arena *a, void *mem, size_t size)
{
  a->mem = mem;
  a->size = size & ~(size_t)(ALIGN - 1);
  a->used = a->peak = 0;
  a->fails = 0;
  /* The first block is a zero-size list head that is never handed out. */
  block *head = free_list(a);
  block *all = (block *)(void *)(a->mem + HDR);
  head->size = 0;
  head->next = all;
  head->free = 0;
  all->size = a->size - HDR;
  all->next = NULL;
  all->free = 1;
}

static void *arena_malloc(size_t n, void *user)
{
  arena *a = user;
  if (n > a->size)
    goto fail;
  size_t need = HDR + ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1));
  for (block *prev = free_list(a), *b = prev->next; b; prev = b, b = b->next) {
    if (b->size < need)
      continue;
    if (b->size - need >= HDR + ALIGN) { /* split: the tail stays free */
      block *rest = (block *)(void *)((unsigned char *)b + need);
      rest->size = b->size - need;
      rest->next = b->next;
      rest->free = 1;
      b->size = need;
      prev->next = rest;
    } else {
      prev->next = b->next;
    }
    b->free = 0;
    a->used += b->size;
    if (a->used > a->peak)
      a->peak = a->used;
    return (unsigned char *)b + HDR;
  }
fail:
  a->fails++;
  return NULL;
}

static void arena_free(void *p, void *user)
{
  arena *a = user;
  if (!p)
    return;
  block *b = (block *)(void *)((unsigned char *)p - HDR);
  a->used -= b->size;
  b->free = 1;
  block *prev = free_list(a);
  while (prev->next && prev->next < b)
    prev = prev->next;
  b->next = prev->next;
  prev->next = b;
  if (b->next && (unsigned char *)b + b->size == (unsigned char *)b->next) {
    b->size += b->next->size;
    b->next = b->next->next;
  }
  if (prev != free_list(a) && (unsigned char *)prev + prev->size == (unsigned char *)b) {
    prev->size += b->size;
    prev->next = b->next;
  }
}

static void *arena_calloc(size_t n, size_t size, void *user)
{
  if (size && n > SIZE_MAX / size)
    return NULL;
  void *p = arena_malloc(n * size, user);
  if (p)
    memset(p, 0, n * size);
  return p;
}

static void *arena_realloc(void *p, size_t n, void *user)
{
  if (!p)
    return arena_malloc(n, user);
  block *b = (block *)(void *)((unsigned char *)p - HDR);
  size_t have = b->size - HDR;
  if (n <= have)
    return p;
  void *q = arena_malloc(n, user);
  if (!q)
    return NULL;
  memcpy(q, p, have);
  arena_free(p, user);
  return q;
}

mail_allocator arena_hooks(arena *a)
{
  mail_allocator h;
  memset(&h, 0, sizeof h);
  h.user = a;
  h.malloc = arena_malloc;
  h.calloc = arena_calloc;
  h.realloc = arena_realloc;
  h.free = arena_free;
  return h;
}

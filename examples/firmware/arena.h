/*
 * A fixed static arena behind libmail's allocator hooks (mail_allocator):
 * what a device without a heap hands libmail. First fit over a free list,
 * neighbours merged on free, 16-byte alignment; the high-water mark is kept
 * so the arena can be sized to the measured peak.
 */
#ifndef LIBMAIL_EXAMPLE_ARENA_H
#define LIBMAIL_EXAMPLE_ARENA_H

#include <stddef.h>
#include <mail/common.h>

typedef struct arena {
  unsigned char *mem;
  size_t size;
  size_t used, peak;   /* bytes handed out (headers included) now and at most */
  unsigned long fails; /* requests that did not fit */
} arena;

/* Use mem[0..size) (16-byte aligned). */
void arena_init(arena *a, void *mem, size_t size);
/* Hooks for mail_*_new(): user is the arena. */
mail_allocator arena_hooks(arena *a);

#endif

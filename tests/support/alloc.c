/* The tracking allocator for tests (see alloc.h). */
#include "alloc.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MAGIC 0x6d61696cu /* "mail" */

/* Keeps the user block aligned like malloc's. */
typedef union block_header {
  struct {
    size_t size;
    unsigned magic;
  } h;
  max_align_t align;
} block_header;

static block_header *header_of(void *p)
{
  block_header *b = (block_header *)p - 1;
  if (b->h.magic != BLOCK_MAGIC) {
    fprintf(stderr, "tracking allocator: free of a block it did not allocate (%p)\n", p);
    abort();
  }
  return b;
}

static int should_fail(mail_test_alloc *t)
{
  t->calls++;
  if (t->fail_at && (t->calls == t->fail_at || (t->fail_after && t->calls > t->fail_at))) {
    t->failures++;
    return 1;
  }
  return 0;
}

static void scan(mail_test_alloc *t, const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < t->nforbidden; i++) {
    size_t len = t->forbidden[i].len;
    if (len > n)
      continue;
    for (size_t off = 0; off + len <= n; off++) {
      if (p[off] == t->forbidden[i].bytes[0] && memcmp(p + off, t->forbidden[i].bytes, len) == 0) {
        if (!t->forbidden_hits)
          snprintf(t->first_hit, sizeof t->first_hit,
                   "forbidden string #%zu found at offset %zu of a freed %zu-byte block", i, off, n);
        t->forbidden_hits++;
        return;
      }
    }
  }
}

static void *block_new(mail_test_alloc *t, size_t size, int zero)
{
  if (size > SIZE_MAX - sizeof(block_header))
    return NULL;
  block_header *b = zero ? calloc(1, sizeof *b + size) : malloc(sizeof *b + size);
  if (!b)
    return NULL;
  /* A fixed filling, so that the scan on free never reads indeterminate
   * bytes (and memory checkers stay quiet about it). */
  if (!zero)
    memset(b + 1, 0xA5, size);
  b->h.size = size;
  b->h.magic = BLOCK_MAGIC;
  t->live++;
  t->live_bytes += size;
  if (t->live_bytes > t->peak_bytes)
    t->peak_bytes = t->live_bytes;
  return b + 1;
}

static void block_free(mail_test_alloc *t, void *p)
{
  block_header *b = header_of(p);
  scan(t, p, b->h.size);
  t->live--;
  t->live_bytes -= b->h.size;
  b->h.magic = 0;
  free(b);
}

static void *t_malloc(size_t size, void *user)
{
  mail_test_alloc *t = user;
  if (should_fail(t))
    return NULL;
  return block_new(t, size, 0);
}

static void *t_calloc(size_t nmemb, size_t size, void *user)
{
  mail_test_alloc *t = user;
  if (should_fail(t))
    return NULL;
  if (size && nmemb > SIZE_MAX / size)
    return NULL;
  return block_new(t, nmemb * size, 1);
}

/* Always moves the block, so the old one is scanned like any free: a
 * realloc that leaves a secret behind is caught. */
static void *t_realloc(void *p, size_t size, void *user)
{
  mail_test_alloc *t = user;
  if (should_fail(t))
    return NULL;
  void *n = block_new(t, size, 0);
  if (!n)
    return NULL;
  if (p) {
    size_t old = header_of(p)->h.size;
    memcpy(n, p, old < size ? old : size);
    block_free(t, p);
  }
  return n;
}

static void t_free(void *p, void *user)
{
  if (p)
    block_free(user, p);
}

void mail_test_alloc_init(mail_test_alloc *t)
{
  memset(t, 0, sizeof *t);
  t->hooks.user = t;
  t->hooks.malloc = t_malloc;
  t->hooks.free = t_free;
  t->hooks.calloc = t_calloc;
  t->hooks.realloc = t_realloc;
}

void mail_test_alloc_cleanup(mail_test_alloc *t)
{
  for (size_t i = 0; i < t->nforbidden; i++)
    free(t->forbidden[i].bytes);
  t->nforbidden = 0;
}

const mail_allocator *mail_test_alloc_hooks(mail_test_alloc *t)
{
  return &t->hooks;
}

void mail_test_alloc_fail_at(mail_test_alloc *t, unsigned long n, int sticky)
{
  t->fail_at = n;
  t->fail_after = sticky;
}

int mail_test_alloc_forbid(mail_test_alloc *t, const void *bytes, size_t len)
{
  if (!len || t->nforbidden == MAIL_TEST_ALLOC_MAX_FORBIDDEN)
    return -1;
  unsigned char *copy = malloc(len);
  if (!copy)
    return -1;
  memcpy(copy, bytes, len);
  t->forbidden[t->nforbidden].bytes = copy;
  t->forbidden[t->nforbidden].len = len;
  t->nforbidden++;
  return 0;
}

int mail_test_alloc_forbid_str(mail_test_alloc *t, const char *s)
{
  return mail_test_alloc_forbid(t, s, strlen(s));
}

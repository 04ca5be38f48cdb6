#include "core/handout.h"

#include <stdint.h>
#include <string.h>

#include "core/mem.h"

/* The header keeps the payload aligned for any type. */
typedef union handout_hdr {
  struct {
    mail_allocator alloc;
    size_t magic;
  } h;
  max_align_t align;
} handout_hdr;

#define HANDOUT_MAGIC ((size_t)0x6d61696cu) /* "mail" */

static void *stamp(unsigned char *block, const mail_allocator *a)
{
  handout_hdr *h = (handout_hdr *)(void *)block;
  h->h.alloc = *a;
  h->h.magic = HANDOUT_MAGIC;
  return block + sizeof *h;
}

void *mail_handout_alloc(const mail_allocator *a, size_t n)
{
  if (n > SIZE_MAX - sizeof(handout_hdr))
    return NULL;
  unsigned char *block = mail_malloc(a, sizeof(handout_hdr) + n);
  return block ? stamp(block, a) : NULL;
}

void *mail_handout_copy(const mail_allocator *a, const void *p, size_t n)
{
  if (n == SIZE_MAX)
    return NULL;
  unsigned char *r = mail_handout_alloc(a, n + 1);
  if (!r)
    return NULL;
  if (n)
    memcpy(r, p, n);
  r[n] = 0;
  return r;
}

int mail_handout_begin(mail_buf *b)
{
  static const handout_hdr zero;
  return mail_buf_append(b, &zero, sizeof zero);
}

void *mail_handout_finish(mail_buf *b, size_t *len)
{
  void *p = stamp(b->data, b->alloc);
  if (len)
    *len = b->len - sizeof(handout_hdr);
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

void mail_free(void *ptr)
{
  if (!ptr)
    return;
  handout_hdr *h = (handout_hdr *)(void *)((unsigned char *)ptr - sizeof(handout_hdr));
  /* A block freed twice (or not ours) is left alone rather than freed
   * through whatever bytes happen to sit in front of it. */
  if (h->h.magic != HANDOUT_MAGIC)
    return;
  mail_allocator a = h->h.alloc;
  h->h.magic = 0;
  mail_dealloc(&a, h);
}

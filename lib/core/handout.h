/* Blocks handed to the caller: each carries, just in front of it, a copy
 * of the allocator that made it, so mail_free(p) releases it without the
 * caller naming (or remembering) that allocator. */
#ifndef MAIL_CORE_HANDOUT_H
#define MAIL_CORE_HANDOUT_H

#include <stddef.h>
#include <mail/common.h>

#include "core/buf.h"

/* n bytes for the caller (plus nothing: add the NUL yourself), or NULL. */
void *mail_handout_alloc(const mail_allocator *a, size_t n);
/* A copy of p[0..n) followed by a NUL the length does not count, or NULL. */
void *mail_handout_copy(const mail_allocator *a, const void *p, size_t n);

/* Building a handed-out block in a mail_buf without copying it at the
 * end: begin makes room for the header before anything is appended
 * (b must be empty); finish writes the header and gives the payload (and
 * its length without the header), leaving b empty. */
int mail_handout_begin(mail_buf *b);
void *mail_handout_finish(mail_buf *b, size_t *len);

#endif

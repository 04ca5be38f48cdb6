/* A growable byte buffer with a hard size limit. Used for the output
 * queue, the input reader and every place that accumulates bytes. */
#ifndef MAIL_CORE_BUF_H
#define MAIL_CORE_BUF_H

#include <stddef.h>
#include <string.h>
#include <mail/common.h>

typedef struct mail_buf {
  unsigned char *data;
  size_t len;     /* bytes in use */
  size_t cap;     /* bytes allocated */
  size_t limit;   /* most bytes it may ever hold (0 = SIZE_MAX) */
  const mail_allocator *alloc;
  /* Once set, every byte the buffer drops is wiped first and growth never
   * uses realloc (which would leave a copy behind in freed memory). */
  int sensitive;
} mail_buf;

void mail_buf_init(mail_buf *b, const mail_allocator *a, size_t limit);
/* Free the storage (wiped when sensitive); the buffer can be reused. */
void mail_buf_free(mail_buf *b);
/* Mark the buffer as holding secrets from now on. */
void mail_buf_set_sensitive(mail_buf *b);
/* Make room for extra more bytes. MAIL_ERR_LIMIT past the limit,
 * MAIL_ERR_NOMEM when allocation fails. */
int mail_buf_reserve(mail_buf *b, size_t extra);
/* Append n bytes: MAIL_ERR_LIMIT past the limit (nothing appended),
 * MAIL_ERR_NOMEM. */
#if defined(__OPTIMIZE_SIZE__)
/* A size-first build (-Os, the firmware profile) keeps one copy and calls
 * it: there the compiler would not inline the function below, and every
 * file using it would carry a copy of its own. buf.c's
 * mail_buf_append_grow() is then that one function. */
#define mail_buf_append_grow mail_buf_append
int mail_buf_append(mail_buf *b, const void *p, size_t n);
int mail_buf_append_byte(mail_buf *b, unsigned char c);
#else
/* The part that makes room. */
int mail_buf_append_grow(mail_buf *b, const void *p, size_t n);
/* Inline when the bytes fit the storage and the limit, as they nearly
 * always do: commands and replies are built from many small appends, and
 * a call per piece cost more than the copy. */
static inline int mail_buf_append(mail_buf *b, const void *p, size_t n)
{
  if (n && n <= b->cap - b->len && b->len + n <= b->limit) {
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MAIL_OK;
  }
  return mail_buf_append_grow(b, p, n);
}
static inline int mail_buf_append_byte(mail_buf *b, unsigned char c)
{
  return mail_buf_append(b, &c, 1);
}
#endif
int mail_buf_append_str(mail_buf *b, const char *s);
/* printf-style append (the formatted text counts toward the limit). */
int mail_buf_appendf(mail_buf *b, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* Drop the first n bytes. */
void mail_buf_consume(mail_buf *b, size_t n);
/* Empty the buffer, keeping its storage (wiped when sensitive). */
void mail_buf_clear(mail_buf *b);
/* Append a NUL after the data without counting it; MAIL_OK or error. */
int mail_buf_terminate(mail_buf *b);

#endif

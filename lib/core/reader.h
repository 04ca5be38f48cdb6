/*
 * The one input reader under every protocol: CRLF lines and counted byte
 * runs (IMAP literals, streamed message bodies) from one buffer.
 *
 * Bytes come in either by mail_reader_prepare()/mail_reader_commit() (the
 * transport reads straight into the buffer) or by mail_reader_feed() (a
 * parser used on its own). What the reader holds is bounded: a line longer
 * than max_line gives MAIL_ERR_LIMIT; counted runs are handed out in the
 * pieces that have arrived, so a body of any size streams through.
 *
 * Pointers returned by _line() and _take() stay valid until the next
 * _prepare(), _feed() or _free().
 */
#ifndef MAIL_CORE_READER_H
#define MAIL_CORE_READER_H

#include <stddef.h>
#include "core/buf.h"

typedef struct mail_reader {
  mail_buf buf;
  size_t start;     /* first unconsumed byte */
  size_t scanned;   /* bytes after start already known to hold no LF */
  size_t max_line;
  int eof;          /* the peer closed: no more bytes will come */
} mail_reader;

void mail_reader_init(mail_reader *r, const mail_allocator *a, size_t max_line);
void mail_reader_free(mail_reader *r);
/* Change max_line (and the buffer bound that follows from it, as in
 * _init). Bytes already buffered stay; a line already longer than the new
 * bound gives MAIL_ERR_LIMIT at the next _line(). */
void mail_reader_set_max_line(mail_reader *r, size_t max_line);
/* Drop everything buffered (wiped if the buffer is sensitive). */
void mail_reader_reset(mail_reader *r);
/* When nothing is pending and the storage is larger than keep bytes, free
 * it (it grows again on demand). Invalidates pointers from _line()/_take(). */
void mail_reader_trim(mail_reader *r, size_t keep);

/* Space for at least min_space more bytes at *ptr (*avail may be larger). */
int mail_reader_prepare(mail_reader *r, size_t min_space, unsigned char **ptr, size_t *avail);
/* n bytes were written at the pointer _prepare() returned. */
void mail_reader_commit(mail_reader *r, size_t n);
/* Copy bytes in. MAIL_ERR_LIMIT if the unconsumed data would exceed the
 * buffer limit (max_line + 16 KiB lookahead unless set otherwise). */
int mail_reader_feed(mail_reader *r, const void *p, size_t n);

/*
 * Next line, without its terminator (CRLF, or a bare LF which servers
 * sometimes send). *had_cr tells which (may be NULL).
 * MAIL_OK: a line; MAIL_ERR_AGAIN: no complete line yet;
 * MAIL_ERR_LIMIT: over max_line bytes with no LF;
 * MAIL_ERR_CLOSED: at end of stream with no complete line.
 */
int mail_reader_line(mail_reader *r, const char **line, size_t *len, int *had_cr);
/* Like _line() but does not consume; call mail_reader_skip(r, consumed). */
int mail_reader_peek_line(mail_reader *r, const char **line, size_t *len, size_t *consumed);
/*
 * Up to max bytes of whatever is buffered (a literal or body chunk).
 * MAIL_OK with *n > 0, MAIL_ERR_AGAIN when empty, MAIL_ERR_CLOSED at end.
 */
int mail_reader_take(mail_reader *r, size_t max, const unsigned char **p, size_t *n);
/* Everything buffered without consuming. */
const unsigned char *mail_reader_data(const mail_reader *r, size_t *n);
void mail_reader_skip(mail_reader *r, size_t n);
/* Bytes buffered and not consumed (must be 0 at a STARTTLS switch). */
size_t mail_reader_pending(const mail_reader *r);
void mail_reader_set_eof(mail_reader *r);

#endif

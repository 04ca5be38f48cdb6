#include "core/reader.h"

#include <stdint.h>
#include <string.h>

#include "core/mem.h"

/* Room for one maximal line plus a read chunk behind it (the driver reads
 * at most 16 KiB at a time): what a response costs in the reader on top
 * of its bound. */
#define READER_LOOKAHEAD (16 * 1024)

static size_t buffer_bound(size_t max_line)
{
  size_t limit = max_line + READER_LOOKAHEAD;
  if (limit < max_line)
    limit = 0; /* overflow: unbounded is impossible, use SIZE_MAX */
  return limit;
}

void mail_reader_init(mail_reader *r, const mail_allocator *a, size_t max_line)
{
  mail_buf_init(&r->buf, a, buffer_bound(max_line));
  r->start = 0;
  r->scanned = 0;
  r->max_line = max_line;
  r->eof = 0;
}

void mail_reader_set_max_line(mail_reader *r, size_t max_line)
{
  size_t limit = buffer_bound(max_line);
  r->buf.limit = limit ? limit : SIZE_MAX;
  r->max_line = max_line;
}

void mail_reader_free(mail_reader *r)
{
  mail_buf_free(&r->buf);
  r->start = r->scanned = 0;
}

void mail_reader_reset(mail_reader *r)
{
  mail_buf_clear(&r->buf);
  r->start = r->scanned = 0;
  r->eof = 0;
}

void mail_reader_trim(mail_reader *r, size_t keep)
{
  if (r->start != r->buf.len || r->buf.cap <= keep)
    return;
  mail_buf_free(&r->buf);
  r->start = r->scanned = 0;
}

static void compact(mail_reader *r)
{
  if (r->start == 0)
    return;
  mail_buf_consume(&r->buf, r->start);
  r->start = 0;
}

int mail_reader_prepare(mail_reader *r, size_t min_space, unsigned char **ptr, size_t *avail)
{
  if (r->start == r->buf.len) {
    mail_buf_clear(&r->buf);
    r->start = 0;
  } else if (r->start > 0 && r->buf.cap - r->buf.len < min_space) {
    compact(r);
  }
  /* Asked for a full read chunk: a stream is coming (the driver doubles
   * its reads while they come back full). Room for four chunks lets one
   * read call take what four would have, which is most of the client's
   * cost for a large body; what is unread stays within the limit. */
  int rc = MAIL_ERR_LIMIT;
  if (min_space >= READER_LOOKAHEAD && r->buf.cap - r->buf.len < 4 * min_space)
    rc = mail_buf_reserve(&r->buf, 4 * min_space);
  if (rc)
    rc = mail_buf_reserve(&r->buf, min_space);
  if (rc)
    return rc;
  *ptr = r->buf.data + r->buf.len;
  *avail = r->buf.cap - r->buf.len;
  return MAIL_OK;
}

void mail_reader_commit(mail_reader *r, size_t n)
{
  r->buf.len += n;
}

int mail_reader_feed(mail_reader *r, const void *p, size_t n)
{
  while (n) {
    unsigned char *dst;
    size_t avail;
    size_t want = n < READER_LOOKAHEAD ? n : READER_LOOKAHEAD;
    int rc = mail_reader_prepare(r, want, &dst, &avail);
    if (rc)
      return rc;
    size_t k = n < avail ? n : avail;
    memcpy(dst, p, k);
    mail_reader_commit(r, k);
    p = (const unsigned char *)p + k;
    n -= k;
  }
  return MAIL_OK;
}

int mail_reader_peek_line(mail_reader *r, const char **line, size_t *len, size_t *consumed)
{
  size_t avail = r->buf.len - r->start;
  /* Before the first byte arrives the buffer has no storage: no pointer
   * arithmetic on NULL (undefined even with a zero offset). */
  const unsigned char *base = avail ? r->buf.data + r->start : NULL;
  const unsigned char *lf = NULL;
  if (avail > r->scanned)
    lf = memchr(base + r->scanned, '\n', avail - r->scanned);
  if (!lf) {
    r->scanned = avail;
    if (avail > r->max_line)
      return MAIL_ERR_LIMIT;
    return r->eof ? MAIL_ERR_CLOSED : MAIL_ERR_AGAIN;
  }
  size_t n = (size_t)(lf - base);
  if (n + 1 > r->max_line)
    return MAIL_ERR_LIMIT;
  *consumed = n + 1;
  if (n > 0 && base[n - 1] == '\r')
    n--;
  *line = (const char *)base;
  *len = n;
  return MAIL_OK;
}

int mail_reader_line(mail_reader *r, const char **line, size_t *len, int *had_cr)
{
  size_t consumed;
  int rc = mail_reader_peek_line(r, line, len, &consumed);
  if (rc)
    return rc;
  if (had_cr)
    *had_cr = consumed == *len + 2;
  mail_reader_skip(r, consumed);
  return MAIL_OK;
}

int mail_reader_take(mail_reader *r, size_t max, const unsigned char **p, size_t *n)
{
  size_t avail = r->buf.len - r->start;
  if (avail == 0)
    return r->eof ? MAIL_ERR_CLOSED : MAIL_ERR_AGAIN;
  size_t k = avail < max ? avail : max;
  *p = r->buf.data + r->start;
  *n = k;
  mail_reader_skip(r, k);
  return MAIL_OK;
}

const unsigned char *mail_reader_data(const mail_reader *r, size_t *n)
{
  *n = r->buf.len - r->start;
  return r->buf.data ? r->buf.data + r->start : NULL;
}

void mail_reader_skip(mail_reader *r, size_t n)
{
  size_t avail = r->buf.len - r->start;
  if (n > avail)
    n = avail;
  r->start += n;
  r->scanned = r->scanned > n ? r->scanned - n : 0;
  /* The storage is rewound by the next prepare(), so pointers handed out
   * by line() and take() stay valid until then. */
}

size_t mail_reader_pending(const mail_reader *r)
{
  return r->buf.len - r->start;
}

void mail_reader_set_eof(mail_reader *r)
{
  r->eof = 1;
}

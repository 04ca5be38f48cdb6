#include "core/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

void mail_buf_init(mail_buf *b, const mail_allocator *a, size_t limit)
{
  b->data = NULL;
  b->len = b->cap = 0;
  b->limit = limit ? limit : SIZE_MAX;
  b->alloc = a;
  b->sensitive = 0;
}

void mail_buf_free(mail_buf *b)
{
  if (b->data) {
    if (b->sensitive)
      mail_dealloc_secret(b->alloc, b->data, b->cap);
    else
      mail_dealloc(b->alloc, b->data);
  }
  b->data = NULL;
  b->len = b->cap = 0;
}

void mail_buf_set_sensitive(mail_buf *b)
{
  b->sensitive = 1;
}

int mail_buf_reserve(mail_buf *b, size_t extra)
{
  if (extra > b->limit || b->len > b->limit - extra)
    return MAIL_ERR_LIMIT;
  size_t need = b->len + extra;
  if (need <= b->cap)
    return MAIL_OK;
  size_t ncap = b->cap ? b->cap : 256;
  while (ncap < need)
    ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
  if (ncap > b->limit && need <= b->limit)
    ncap = b->limit;
  unsigned char *nd;
  if (b->sensitive) {
    nd = mail_malloc(b->alloc, ncap);
    if (!nd)
      return MAIL_ERR_NOMEM;
    if (b->len)
      memcpy(nd, b->data, b->len);
    if (b->data)
      mail_dealloc_secret(b->alloc, b->data, b->cap);
  } else {
    nd = mail_realloc(b->alloc, b->data, ncap);
    if (!nd)
      return MAIL_ERR_NOMEM;
  }
  b->data = nd;
  b->cap = ncap;
  return MAIL_OK;
}

int mail_buf_append_grow(mail_buf *b, const void *p, size_t n)
{
  if (!n)
    return MAIL_OK;
  int rc = mail_buf_reserve(b, n);
  if (rc)
    return rc;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return MAIL_OK;
}

#if defined(__OPTIMIZE_SIZE__) /* see buf.h: mail_buf_append_grow is mail_buf_append */
int mail_buf_append_byte(mail_buf *b, unsigned char c)
{
  return mail_buf_append_grow(b, &c, 1);
}
#endif

int mail_buf_append_str(mail_buf *b, const char *s)
{
  return mail_buf_append(b, s, strlen(s));
}

int mail_buf_appendf(mail_buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return MAIL_ERR_INTERNAL;
  if ((size_t)n < sizeof small)
    return mail_buf_append(b, small, (size_t)n);
  int rc = mail_buf_reserve(b, (size_t)n + 1);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return MAIL_OK;
}

void mail_buf_consume(mail_buf *b, size_t n)
{
  if (n >= b->len) {
    mail_buf_clear(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  if (b->sensitive)
    mail_wipe(b->data + b->len, n);
}

void mail_buf_clear(mail_buf *b)
{
  if (b->sensitive)
    mail_wipe(b->data, b->len);
  b->len = 0;
}

int mail_buf_terminate(mail_buf *b)
{
  int rc = mail_buf_reserve(b, 1);
  if (rc)
    return rc;
  b->data[b->len] = '\0';
  return MAIL_OK;
}

/* mbox reading (RFC 4155): From_ separators, mboxrd and mboxo unquoting.
 * Memory is bounded: only the start of a line is held until it is known
 * whether it is a separator or a quoted From line. */
#include <string.h>

#include "core/mem.h"
#include "mime/mime_internal.h"

#define MAX_FROM_LINE 4096
#define MAX_QUOTES 1000

enum { L_START, L_DATA, L_FROM };

struct mail_mbox_reader {
  mail_allocator alloc;
  mail_mbox_callbacks cb;
  int format;
  int state;
  int failed, finished;
  int in_message;
  int after_blank;          /* the previous line was blank (or start of input) */
  unsigned char pre[MAX_QUOTES + 8];
  size_t npre;
  unsigned char blank[2];   /* a held-back blank line: "\n" or "\r\n" */
  size_t nblank;
  char from[MAX_FROM_LINE];
  size_t nfrom;
};

static int emit(mail_mbox_reader *r, const void *d, size_t n)
{
  if (!n || r->failed)
    return r->failed;
  if (!r->in_message) {
    r->in_message = 1;
    if (r->cb.message_start && r->cb.message_start(r->cb.user, "", 0))
      return r->failed = MAIL_ERR_CALLBACK;
  }
  if (r->cb.data && r->cb.data(r->cb.user, d, n))
    r->failed = MAIL_ERR_CALLBACK;
  return r->failed;
}

static int flush_blank(mail_mbox_reader *r)
{
  size_t n = r->nblank;
  r->nblank = 0;
  return emit(r, r->blank, n);
}

static int end_message(mail_mbox_reader *r)
{
  if (r->in_message && r->cb.message_end && r->cb.message_end(r->cb.user))
    r->failed = MAIL_ERR_CALLBACK;
  r->in_message = 0;
  return r->failed;
}

/* Decide what the held line start is. final: the line is complete (or the
 * input ended). Returns 1 when decided. */
static int decide(mail_mbox_reader *r, int final)
{
  const unsigned char *p = r->pre;
  size_t n = r->npre, q = 0;
  if ((n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n')) {
    if (flush_blank(r))
      return 1;
    memcpy(r->blank, p, n);
    r->nblank = n;
    r->npre = 0;
    r->after_blank = 1;
    r->state = L_START;
    return 1;
  }
  if (!final && n < 2 && p[0] == '\r')
    return 0;
  while (q < n && p[q] == '>')
    q++;
  size_t rest = n - q;
  int could = rest < 5 ? !memcmp(p + q, "From ", rest) : !memcmp(p + q, "From ", 5);
  if (could && rest < 5 && !final && q <= MAX_QUOTES)
    return 0; /* need more bytes */
  int is_from = could && rest >= 5;
  if (is_from && q == 0 && r->after_blank) {
    /* a separator: the blank line before it is not message data */
    r->nblank = 0;
    if (end_message(r))
      return 1;
    r->nfrom = 0;
    size_t k = n < MAX_FROM_LINE ? n : MAX_FROM_LINE;
    memcpy(r->from, p, k);
    r->nfrom = k;
    r->npre = 0;
    r->state = L_FROM;
    return 1;
  }
  if (flush_blank(r))
    return 1;
  size_t skip = 0;
  if (is_from && q > 0 && (r->format == MAIL_MBOX_MBOXRD || q == 1))
    skip = 1;
  emit(r, p + skip, n - skip);
  r->npre = 0;
  r->after_blank = 0;
  r->state = L_DATA;
  return 1;
}

static int finish_from_line(mail_mbox_reader *r)
{
  size_t n = r->nfrom;
  while (n && (r->from[n - 1] == '\n' || r->from[n - 1] == '\r'))
    n--;
  r->in_message = 1;
  r->after_blank = 0;
  r->state = L_START;
  if (r->cb.message_start && r->cb.message_start(r->cb.user, r->from, n))
    r->failed = MAIL_ERR_CALLBACK;
  return r->failed;
}

int mail_mbox_reader_feed(mail_mbox_reader *r, const void *data, size_t len)
{
  if (!r || (!data && len))
    return MAIL_ERR_INVALID;
  if (r->failed)
    return r->failed;
  if (r->finished)
    return MAIL_ERR_STATE;
  const unsigned char *d = data, *end = d + len;
  while (d < end && !r->failed) {
    if (r->state == L_DATA) {
      const unsigned char *nl = memchr(d, '\n', (size_t)(end - d));
      const unsigned char *stop = nl ? nl + 1 : end;
      emit(r, d, (size_t)(stop - d));
      d = stop;
      if (nl)
        r->state = L_START;
    } else if (r->state == L_FROM) {
      const unsigned char *nl = memchr(d, '\n', (size_t)(end - d));
      const unsigned char *stop = nl ? nl + 1 : end;
      size_t k = (size_t)(stop - d);
      if (k > MAX_FROM_LINE - r->nfrom)
        k = MAX_FROM_LINE - r->nfrom;
      memcpy(r->from + r->nfrom, d, k);
      r->nfrom += k;
      d = stop;
      if (nl)
        finish_from_line(r);
    } else {
      /* L_START: hold bytes until the line start is understood */
      unsigned char c = *d++;
      r->pre[r->npre++] = c;
      decide(r, c == '\n' || r->npre == sizeof r->pre);
    }
  }
  return r->failed;
}

int mail_mbox_reader_finish(mail_mbox_reader *r)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (r->failed)
    return r->failed;
  if (r->finished)
    return MAIL_ERR_STATE;
  if (r->state == L_START && r->npre)
    decide(r, 1);
  if (r->state == L_FROM)
    finish_from_line(r);
  flush_blank(r);
  end_message(r);
  r->finished = 1;
  return r->failed;
}

int mail_mbox_reader_new(mail_mbox_reader **out, int format, const mail_mbox_callbacks *cb,
                         const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || !cb || cb->version != MAIL_MBOX_CALLBACKS_VERSION ||
      (format != MAIL_MBOX_MBOXRD && format != MAIL_MBOX_MBOXO) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_mbox_reader *r = mail_calloc(&a, 1, sizeof *r);
  if (!r)
    return MAIL_ERR_NOMEM;
  r->alloc = a;
  r->cb = *cb;
  r->format = format;
  r->after_blank = 1;
  r->state = L_START;
  *out = r;
  return MAIL_OK;
}

void mail_mbox_reader_free(mail_mbox_reader *r)
{
  if (!r)
    return;
  mail_allocator a = r->alloc;
  mail_dealloc(&a, r);
}

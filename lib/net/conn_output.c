/* The output queue: bytes engines queued and the driver has not written
 * yet, the spans of it that are secrets, and the trace of what was written
 * with those spans redacted. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "net/conn_impl.h"

/* ------------------------------------------------------------------ */
/* Output queue and its trace                                           */
/* ------------------------------------------------------------------ */

void conn_drop_output(mail_conn *c)
{
  mail_buf_clear(&c->out);
  c->out_base = 0;
  c->nspans = 0;
}

static int queue_status(int rc)
{
  /* Over the output bound: nothing of this call was queued. */
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_TOO_BIG : rc;
}

int mail_conn_send(mail_conn *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MAIL_ERR_INVALID;
  return queue_status(mail_buf_append(&c->out, data, len));
}

int mail_conn_send_secret(mail_conn *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MAIL_ERR_INVALID;
  if (!len)
    return MAIL_OK;
  /* Sensitive before the bytes arrive, so no growth leaves a copy behind. */
  mail_buf_set_sensitive(&c->out);
  uint64_t start = c->out_base + c->out.len;
  int merge = c->nspans && c->spans[c->nspans - 1].end == start;
  if (!merge && c->nspans == c->spans_cap) {
    size_t ncap = c->spans_cap ? c->spans_cap * 2 : 4;
    secret_span *ns = mail_realloc(A(c), c->spans, ncap * sizeof *ns);
    if (!ns)
      return MAIL_ERR_NOMEM;
    c->spans = ns;
    c->spans_cap = ncap;
  }
  int rc = mail_buf_append(&c->out, data, len);
  if (rc)
    return queue_status(rc);
  if (merge) {
    c->spans[c->nspans - 1].end = start + len;
  } else {
    c->spans[c->nspans].start = start;
    c->spans[c->nspans].end = start + len;
    c->nspans++;
  }
  return MAIL_OK;
}

int mail_conn_sendf(mail_conn *c, const char *fmt, ...)
{
  if (!c || !fmt)
    return MAIL_ERR_INVALID;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return MAIL_ERR_INTERNAL;
  int rc = mail_buf_reserve(&c->out, (size_t)n + 1);
  if (rc)
    return queue_status(rc);
  va_start(ap, fmt);
  vsnprintf((char *)c->out.data + c->out.len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  c->out.len += (size_t)n;
  return MAIL_OK;
}

size_t mail_conn_out_pending(const mail_conn *c)
{
  return c->out.len;
}

int mail_conn_out_room(mail_conn *c, size_t want, unsigned char **at, size_t *room)
{
  int rc = mail_buf_reserve(&c->out, want);
  if (rc)
    return queue_status(rc);
  /* Storage may be larger than a bound lowered since it grew. */
  size_t end = c->out.cap < c->out.limit ? c->out.cap : c->out.limit;
  *at = c->out.data + c->out.len;
  *room = end - c->out.len;
  return MAIL_OK;
}

void mail_conn_out_commit(mail_conn *c, size_t n)
{
  if (n <= c->out.cap - c->out.len)
    c->out.len += n;
}

uint64_t mail_conn_out_mark(const mail_conn *c)
{
  return c->out_base + c->out.len;
}

void mail_conn_out_rollback(mail_conn *c, uint64_t mark)
{
  if (mark < c->out_base || mark >= c->out_base + c->out.len)
    return;
  size_t keep = (size_t)(mark - c->out_base);
  if (c->out.sensitive)
    mail_wipe(c->out.data + keep, c->out.len - keep);
  c->out.len = keep;
  while (c->nspans && c->spans[c->nspans - 1].start >= mark)
    c->nspans--;
  if (c->nspans && c->spans[c->nspans - 1].end > mark)
    c->spans[c->nspans - 1].end = mark;
}

/* Forget spans that lie wholly before the stream offset `upto`. */
static void drop_spans(mail_conn *c, uint64_t upto)
{
  size_t k = 0;
  while (k < c->nspans && c->spans[k].end <= upto)
    k++;
  if (k) {
    memmove(c->spans, c->spans + k, (c->nspans - k) * sizeof *c->spans);
    c->nspans -= k;
  }
}

/*
 * Walk the n written bytes at the head of the queue as pieces: plain bytes
 * as they are, each secret part as "[redacted]". With out == NULL, only
 * count the redacted length; with out set, append there; with neither,
 * trace each piece.
 */
static size_t redact_pieces(mail_conn *c, size_t n, mail_buf *out, int per_piece)
{
  const unsigned char *p = c->out.data;
  uint64_t base = c->out_base, end = base + n, pos = base;
  size_t total = 0;
  for (size_t i = 0; i <= c->nspans && pos < end; i++) {
    /* Past the last span, one plain piece runs to the end. */
    uint64_t s_start = i < c->nspans ? c->spans[i].start : end;
    uint64_t s_end = i < c->nspans ? c->spans[i].end : end;
    if (s_end <= pos)
      continue;
    if (s_start > end)
      s_start = end;
    if (s_start > pos) {
      size_t k = (size_t)(s_start - pos);
      if (per_piece)
        c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)p + (pos - base), k);
      else if (out)
        mail_buf_append(out, p + (pos - base), k); /* room reserved by the caller */
      total += k;
      pos = s_start;
    }
    if (i < c->nspans && pos < end) {
      if (per_piece)
        c->trace(c->trace_user, MAIL_TRACE_SEND, REDACTED, sizeof REDACTED - 1);
      else if (out)
        mail_buf_append(out, REDACTED, sizeof REDACTED - 1);
      total += sizeof REDACTED - 1;
      pos = s_end < end ? s_end : end;
    }
  }
  return total;
}

/* Trace n written bytes (the head of the output queue) with every secret
 * part shown as "[redacted]": one trace call per write when memory allows,
 * one per piece otherwise. */
void conn_trace_sent(mail_conn *c, size_t n)
{
  if (!c->trace || !n)
    return;
  if (c->trace_secrets || c->nspans == 0 || c->spans[0].start >= c->out_base + n) {
    c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)c->out.data, n);
    return;
  }
  size_t len = redact_pieces(c, n, NULL, 0);
  mail_buf_clear(&c->scratch);
  if (mail_buf_reserve(&c->scratch, len) != MAIL_OK) {
    redact_pieces(c, n, NULL, 1);
    return;
  }
  redact_pieces(c, n, &c->scratch, 0);
  c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)c->scratch.data, c->scratch.len);
  mail_buf_clear(&c->scratch);
}

void conn_consume_output(mail_conn *c, size_t n)
{
  mail_buf_consume(&c->out, n);
  c->out_base += n;
  drop_spans(c, c->out_base);
  if (c->out.len == 0 && c->nspans == 0)
    c->out_base = 0;
}


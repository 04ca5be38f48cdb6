/*
 * Message data: reading the body source and the DATA transform.
 *
 * The transform (core/dot.c, shared with NNTP POST) is what makes exactly one end-of-data marker reach the
 * wire (SMTP smuggling, CVE-2023-51764): every line ending becomes CRLF
 * (a bare CR or LF is either converted or, in strict mode, refused), so
 * "<LF>.<LF>" and friends cannot survive; and every line starting with
 * "." gets one more, so "CRLF.CRLF" cannot appear inside the data. State
 * carries across chunks (a CR at the end of one chunk, a line start).
 * The transform writes straight into the output queue, from the caller's
 * own buffer for a body in memory, from a read buffer made per body (and
 * sized to it) for the other sources.
 */
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

int smtp_data_queue(mail_smtp *s, smtp_tx *tx, const unsigned char *in, size_t n)
{
  /* In pieces that fit the room the queue has (a piece of k bytes makes at
   * most 2k + 2): asking for the worst case at once would grow the queue
   * past what the output needs, and past what the driver keeps between
   * operations. All of it or none: a refusal takes back the pieces. */
  uint64_t mark = mail_conn_out_mark(s->conn);
  while (n) {
    unsigned char *at;
    size_t room, olen;
    int rc = mail_conn_out_room(s->conn, n + 64, &at, &room);
    size_t k = (room - 2) / 2 < n ? (room - 2) / 2 : n;
    if (!rc)
      rc = mail_dot_stuff(&tx->dot, s->strict, in, k, at, &olen);
    if (rc) {
      mail_conn_out_rollback(s->conn, mark);
      return rc;
    }
    mail_conn_out_commit(s->conn, olen);
    in += k;
    n -= k;
  }
  return MAIL_OK;
}

int smtp_data_end(smtp_tx *tx, int strict, unsigned char *out, size_t *olen)
{
  return mail_dot_stuff_end(&tx->dot, strict, out, olen);
}

int smtp_body_read(smtp_tx *tx, unsigned char *buf, size_t cap, size_t *got)
{
  mail_smtp_envelope *e = tx->env;
  *got = 0;
  switch (e->body_kind) {
  case SMTP_BODY_DATA: {
    size_t left = e->data_len - tx->data_pos;
    size_t k = left < cap ? left : cap;
    memcpy(buf, e->data + tx->data_pos, k);
    tx->data_pos += k;
    *got = k;
    return MAIL_OK;
  }
  case SMTP_BODY_CALLBACK:
    if (e->read(e->read_user, buf, cap, got) != 0 || *got > cap)
      return MAIL_ERR_CALLBACK;
    return MAIL_OK;
#if MAIL_WITH_MIME
  case SMTP_BODY_MIME: {
    int rc = mail_mime_builder_read(e->mime, buf, cap, got);
    return rc == MAIL_OK ? MAIL_OK : MAIL_ERR_CALLBACK;
  }
#endif
  default:
    return MAIL_ERR_INVALID;
  }
}

/* Largest body step: SMTP_CHUNK, or less when the output queue bound
 * leaves no room for a step's DATA transform beside the high water. */
static size_t chunk_bound(const mail_smtp *s)
{
  size_t b = mail_conn_limits(s->conn)->max_output / 8;
  return b < SMTP_CHUNK ? b : SMTP_CHUNK;
}

size_t smtp_high_water(const mail_smtp *s)
{
  size_t h = mail_conn_limits(s->conn)->max_output / 2;
  return h < SMTP_HIGH_WATER ? h : SMTP_HIGH_WATER;
}

size_t smtp_body_step(const mail_smtp *s, size_t want)
{
  size_t max = chunk_bound(s);
  if (want > max)
    want = max;
  return want < 64 ? 64 : want;
}

/* A read buffer of at least want bytes (within chunk_bound); given back
 * once the body is queued. */
int smtp_body_room(mail_smtp *s, size_t want)
{
  want = smtp_body_step(s, want);
  if (want <= s->chunk_cap)
    return MAIL_OK;
  unsigned char *c = mail_malloc(&s->alloc, want);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&s->alloc, s->chunk);
  s->chunk = c;
  s->chunk_cap = want;
  return MAIL_OK;
}

void smtp_body_buffers_free(mail_smtp *s)
{
  mail_dealloc(&s->alloc, s->chunk);
  s->chunk = NULL;
  s->chunk_cap = 0;
}

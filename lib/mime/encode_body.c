/* Body transfer encodings for the builder, written to be streamed: each
 * encoder keeps its state between chunks so a 1 GiB attachment passes
 * through a fixed-size buffer. */
#include "mime/encode.h"

#include <string.h>

#include "core/base64.h"

size_t mail_text_to_lf(int *last_cr, unsigned char *buf, size_t n)
{
  size_t o = 0;
  int cr = *last_cr;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = buf[i];
    if (c == '\r') {
      buf[o++] = '\n';
      cr = 1;
    } else if (c == '\n') {
      if (!cr)
        buf[o++] = '\n';
      cr = 0;
    } else {
      buf[o++] = c;
      cr = 0;
    }
  }
  *last_cr = cr;
  return o;
}

size_t mail_lf_to_crlf(const unsigned char *in, size_t n, unsigned char *out)
{
  unsigned char *o = out;
  while (n) {
    const unsigned char *nl = memchr(in, '\n', n);
    size_t k = nl ? (size_t)(nl - in) : n;
    memcpy(o, in, k);
    o += k;
    in += k;
    n -= k;
    if (nl) {
      *o++ = '\r';
      *o++ = '\n';
      in++;
      n--;
    }
  }
  return (size_t)(o - out);
}

/* ------------------------------------------------------------ QP */

static const char HEX[] = "0123456789ABCDEF";

void mail_qp_enc_init(mail_qp_enc *e, int text_mode)
{
  e->col = 0;
  e->pending_ws = 0;
  e->text = text_mode;
}

/* Soft line breaks keep every output line at 76 characters or less: a
 * token goes on the current line only if it leaves room for the '='. */
#define QP_ROOM 75

static size_t qp_put(mail_qp_enc *e, unsigned char *out, const char *tok, size_t len)
{
  size_t o = 0;
  if (e->col + len > QP_ROOM) {
    if (out) {
      out[0] = '=';
      out[1] = '\r';
      out[2] = '\n';
    }
    o = 3;
    e->col = 0;
  }
  if (out)
    memcpy(out + o, tok, len);
  e->col += (unsigned)len;
  return o + len;
}

static size_t qp_hex(mail_qp_enc *e, unsigned char *out, unsigned char c)
{
  char tok[3] = {'=', HEX[c >> 4], HEX[c & 15]};
  return qp_put(e, out, tok, 3);
}

/* A literal is safe unless it is '=', a control or 8-bit byte, or a
 * character that would be misread at the start of a line: also of the
 * line a soft break is about to open (the line is full). */
static int qp_literal(const mail_qp_enc *e, unsigned char c)
{
  if (c < 33 || c > 126 || c == '=')
    return 0;
  if ((e->col == 0 || e->col + 1 > QP_ROOM) && (c == '.' || c == 'F'))
    return 0;
  return 1;
}

static size_t qp_flush_ws(mail_qp_enc *e, unsigned char *out, int at_break)
{
  if (!e->pending_ws)
    return 0;
  unsigned char ws = (unsigned char)e->pending_ws;
  e->pending_ws = 0;
  if (at_break)
    return qp_hex(e, out, ws);
  char tok = (char)ws;
  return qp_put(e, out, &tok, 1);
}

size_t mail_qp_enc_update(mail_qp_enc *e, const unsigned char *in, size_t n, unsigned char *out)
{
  size_t o = 0;
#define OUT (out ? out + o : NULL)
  for (size_t i = 0; i < n; i++) {
    unsigned char c = in[i];
    if (e->text && c == '\n') {
      o += qp_flush_ws(e, OUT, 1);
      if (out) {
        out[o] = '\r';
        out[o + 1] = '\n';
      }
      o += 2;
      e->col = 0;
      continue;
    }
    o += qp_flush_ws(e, OUT, 0);
    if (c == ' ' || c == '\t') {
      e->pending_ws = c;
    } else if (qp_literal(e, c)) {
      /* fast path: a literal that fits */
      if (e->col + 1 <= QP_ROOM) {
        if (out)
          out[o] = c;
        o++;
        e->col++;
      } else {
        char tok = (char)c;
        o += qp_put(e, OUT, &tok, 1);
      }
    } else {
      o += qp_hex(e, OUT, c);
    }
  }
#undef OUT
  return o;
}

size_t mail_qp_enc_finish(mail_qp_enc *e, unsigned char *out)
{
  /* Whitespace at the very end would be stripped by a reader: encode it. */
  return qp_flush_ws(e, out, 1);
}

/* ------------------------------------------------------------ base64 */

#define B64_LINE 76

void mail_b64_wrap_init(mail_b64_wrap *e)
{
  memset(e, 0, sizeof *e);
}

uint64_t mail_b64_wrap_len(uint64_t n)
{
  uint64_t enc = (n + 2) / 3 * 4;
  if (enc == 0)
    return 0;
  uint64_t lines = (enc + B64_LINE - 1) / B64_LINE;
  return enc + 2 * (lines - 1);
}

/* Write groups of whole 3-byte input blocks, breaking lines before a group
 * that would start past column 76. */
static size_t b64_groups(mail_b64_wrap *e, const unsigned char *in, size_t ngroups, unsigned char *out)
{
  size_t o = 0;
  while (ngroups) {
    if (e->col == B64_LINE) {
      out[o++] = '\r';
      out[o++] = '\n';
      e->col = 0;
    }
    size_t fit = (B64_LINE - e->col) / 4;
    size_t k = ngroups < fit ? ngroups : fit;
    o += mail_b64_encode(in, k * 3, (char *)out + o);
    e->col += (unsigned)(k * 4);
    in += k * 3;
    ngroups -= k;
  }
  return o;
}

size_t mail_b64_wrap_update(mail_b64_wrap *e, const unsigned char *in, size_t n, unsigned char *out)
{
  size_t o = 0;
  while (e->ncarry && e->ncarry < 3 && n) {
    e->carry[e->ncarry++] = *in++;
    n--;
  }
  if (e->ncarry == 3) {
    o += b64_groups(e, e->carry, 1, out + o);
    e->ncarry = 0;
  }
  size_t g = n / 3;
  o += b64_groups(e, in, g, out + o);
  in += g * 3;
  n -= g * 3;
  memcpy(e->carry + e->ncarry, in, n);
  e->ncarry += (unsigned)n;
  return o;
}

size_t mail_b64_wrap_finish(mail_b64_wrap *e, unsigned char *out)
{
  size_t o = 0;
  if (e->ncarry) {
    if (e->col == B64_LINE) {
      out[o++] = '\r';
      out[o++] = '\n';
      e->col = 0;
    }
    o += mail_b64_encode(e->carry, e->ncarry, (char *)out + o);
    e->col += 4;
    e->ncarry = 0;
  }
  return o;
}

/* Dot-stuffing and unstuffing, for every protocol (see dot.h). */
#include "core/dot.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

#include <mail/common.h>

#include "core/reader.h"

void mail_dot_stuff_init(mail_dot_stuffer *s)
{
  s->at_line_start = 1;
  s->pending_cr = 0;
}

/*
 * Copy in[i..) to out + *o up to the first CR or LF, which is not copied;
 * return its index, or n. One pass finds both line-ending bytes and copies
 * the text before them: 32 bytes at a time with SSE2, else 8 (the
 * zero-byte test on the word XORed with each byte: bytes above the first
 * match may be marked falsely, the lowest mark is exact), then a byte at
 * a time. Whole blocks are stored before they are looked at, so up to 31
 * bytes past the returned length may be written: out has room for 2n + 2
 * bytes and holds at most 2i + 3 before in[i] (each input byte makes at
 * most two; a pending CR's CRLF and a line's extra dot the rest), so a
 * block read from in[i..i+32) fits.
 */
static size_t copy_line(const unsigned char *in, size_t i, size_t n, unsigned char *out, size_t *o)
{
  const unsigned char *p = in + i, *e = in + n;
  unsigned char *q = out + *o;
#if defined(__SSE2__) && defined(__GNUC__)
  const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
  while (e - p >= 32) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    _mm_storeu_si128((__m128i *)(void *)q, a);
    _mm_storeu_si128((__m128i *)(void *)(q + 16), b);
    unsigned ma = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(a, cr), _mm_cmpeq_epi8(a, lf)));
    unsigned mb = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, cr), _mm_cmpeq_epi8(b, lf)));
    unsigned m = ma | mb << 16;
    if (m) {
      unsigned k = (unsigned)__builtin_ctz(m);
      *o = (size_t)(q - out) + k;
      return (size_t)(p - in) + k;
    }
    p += 32;
    q += 32;
  }
#endif
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (e - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    memcpy(q, &x, 8);
    uint64_t a = x ^ (ones * '\r'), b = x ^ (ones * '\n');
    uint64_t m = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
    if (m) {
      size_t k = (size_t)__builtin_ctzll(m) >> 3;
      *o = (size_t)(q - out) + k;
      return (size_t)(p - in) + k;
    }
    p += 8;
    q += 8;
  }
#endif
  while (p < e && *p != '\r' && *p != '\n')
    *q++ = *p++;
  *o = (size_t)(q - out);
  return (size_t)(p - in);
}

int mail_dot_stuff(mail_dot_stuffer *s, int strict, const unsigned char *in, size_t n,
                   unsigned char *out, size_t *olen)
{
  size_t o = 0, i = 0;
  int bol = s->at_line_start, cr = s->pending_cr;
  if (cr && n) {
    /* The CR that ended the last chunk: CRLF, or a bare CR, after which
     * in[0] begins the next line. */
    cr = 0;
    out[o++] = '\r';
    out[o++] = '\n';
    bol = 1;
    if (in[0] == '\n')
      i = 1;
    else if (strict)
      return MAIL_ERR_INVALID; /* bare CR */
  }
  /* A line at a time: its first byte (a dot gets another), the text up to
   * its CR or LF in one pass, then its ending, always sent as CRLF. */
  while (i < n) {
    if (bol && in[i] == '.')
      out[o++] = '.';
    bol = 0;
    i = copy_line(in, i, n, out, &o);
    if (i == n)
      break;
    if (in[i] == '\r') {
      if (i + 1 == n) {
        cr = 1; /* its LF may be the next chunk's first byte */
        i = n;
        break;
      }
      if (in[i + 1] == '\n')
        i++;
      else if (strict)
        return MAIL_ERR_INVALID; /* bare CR */
    } else if (strict) {
      return MAIL_ERR_INVALID; /* bare LF */
    }
    i++;
    out[o++] = '\r';
    out[o++] = '\n';
    bol = 1;
  }
  s->at_line_start = bol;
  s->pending_cr = cr;
  *olen = o;
  return MAIL_OK;
}

int mail_dot_stuff_end(mail_dot_stuffer *s, int strict, unsigned char *out, size_t *olen)
{
  size_t o = 0;
  if (s->pending_cr) {
    if (strict)
      return MAIL_ERR_INVALID;
    s->pending_cr = 0;
    s->at_line_start = 1;
    out[o++] = '\r';
    out[o++] = '\n';
  }
  if (!s->at_line_start) {
    out[o++] = '\r';
    out[o++] = '\n';
  }
  memcpy(out + o, ".\r\n", 3);
  *olen = o + 3;
  return MAIL_OK;
}

enum {
  BODY_LINE_START = 0, /* the next byte starts a line */
  BODY_MID,            /* inside a line */
  BODY_DOT,            /* a line began with ".", which was taken */
  BODY_DOT_CR          /* a line began with ".\r" */
};

void mail_dot_unstuff_init(mail_dot_unstuffer *u)
{
  u->state = BODY_LINE_START;
}

int mail_dot_unstuff(mail_dot_unstuffer *u, const unsigned char *in, size_t n, size_t *consumed,
                     const unsigned char **chunk, size_t *chunk_len)
{
  size_t i = 0;
  *chunk = NULL;
  *chunk_len = 0;
  while (i < n) {
    switch (u->state) {
    case BODY_LINE_START:
      if (in[i] == '.') {
        i++;
        u->state = BODY_DOT;
      } else {
        u->state = BODY_MID;
      }
      break;
    case BODY_MID: {
      /* One chunk runs through as many lines as possible: up to the end
       * of the input or a line that starts with a dot. */
      size_t start = i;
      for (;;) {
        const unsigned char *lf = memchr(in + i, '\n', n - i);
        if (!lf) {
          i = n;
          break;
        }
        i = (size_t)(lf - in) + 1;
        if (i == n || in[i] == '.') {
          u->state = BODY_LINE_START;
          break;
        }
      }
      *chunk = in + start;
      *chunk_len = i - start;
      *consumed = i;
      return 0;
    }
    case BODY_DOT:
      if (in[i] == '\r') {
        i++;
        u->state = BODY_DOT_CR;
      } else if (in[i] == '\n') {
        u->state = BODY_LINE_START;
        *consumed = i + 1;
        return 1;
      } else {
        u->state = BODY_MID; /* a stuffed dot: dropped */
      }
      break;
    default: /* BODY_DOT_CR */
      if (in[i] == '\n') {
        u->state = BODY_LINE_START;
        *consumed = i + 1;
        return 1;
      }
      /* ".\r" then more: the dot was stuffing, the CR is data. */
      u->state = BODY_MID;
      *chunk = (const unsigned char *)"\r";
      *chunk_len = 1;
      *consumed = i;
      return 0;
    }
  }
  *consumed = i;
  return 0;
}

int mail_dot_line(const char *line, size_t len, const char **out, size_t *out_len)
{
  if (len == 1 && line[0] == '.')
    return 1;
  if (len > 0 && line[0] == '.') {
    line++;
    len--;
  }
  *out = line;
  *out_len = len;
  return 0;
}

int mail_dot_read(struct mail_reader *r, mail_dot_unstuffer *u, mail_dot_chunk_fn fn, void *ctx)
{
  for (;;) {
    size_t n;
    const unsigned char *in = mail_reader_data(r, &n);
    if (n == 0)
      return r->eof ? MAIL_ERR_CLOSED : MAIL_ERR_AGAIN;
    size_t used, clen;
    const unsigned char *chunk;
    int done = mail_dot_unstuff(u, in, n, &used, &chunk, &clen);
    if (clen)
      fn(ctx, chunk, clen);
    mail_reader_skip(r, used);
    if (done)
      return MAIL_OK;
  }
}

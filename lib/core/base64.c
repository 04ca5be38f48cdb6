#include "core/base64.h"

#include <stdint.h>
#include <string.h>

static const char ALPHABET[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63: value; 64: whitespace; 65: '='; 66: anything else. */
#define B64_WS 64
#define B64_PAD 65
#define B64_BAD 66

static const unsigned char DECODE[256] = {
#define X B64_BAD
  X, X, X, X, X, X, X, X, X, 64, 64, X, X, 64, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  64, X, X, X, X, X, X, X, X, X, X, 62, X, X, X, 63,
  52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X, X, X, 65, X, X,
  X, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
  15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X, X, X, X, X,
  X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
  41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
  X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
#undef X
};

size_t mail_b64_encode(const void *in_, size_t n, char *out)
{
  const unsigned char *in = in_;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    o[0] = ALPHABET[v >> 18];
    o[1] = ALPHABET[(v >> 12) & 63];
    o[2] = ALPHABET[(v >> 6) & 63];
    o[3] = ALPHABET[v & 63];
    o += 4;
  }
  if (i < n) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n)
      v |= (uint32_t)in[i + 1] << 8;
    o[0] = ALPHABET[v >> 18];
    o[1] = ALPHABET[(v >> 12) & 63];
    o[2] = i + 1 < n ? ALPHABET[(v >> 6) & 63] : '=';
    o[3] = '=';
    o += 4;
  }
  return (size_t)(o - out);
}

size_t mail_b64_encoded_wrapped_len(size_t n, size_t line_len)
{
  size_t enc = MAIL_B64_ENCODED_LEN(n);
  if (enc == 0)
    return 0;
  size_t lines = (enc + line_len - 1) / line_len;
  return enc + 2 * lines;
}

size_t mail_b64_encode_wrapped(const void *in_, size_t n, size_t line_len, char *out)
{
  const unsigned char *in = in_;
  size_t per_line = line_len / 4 * 3; /* input bytes per output line */
  char *o = out;
  while (n) {
    size_t k = n < per_line ? n : per_line;
    o += mail_b64_encode(in, k, o);
    *o++ = '\r';
    *o++ = '\n';
    in += k;
    n -= k;
  }
  return (size_t)(o - out);
}

/* One character's value for the strict decoder, as DECODE gives it but
 * for whitespace (B64_BAD here, 64 there: refused by both). Its inputs
 * are small (a SASL step, a certificate pin), so the value is computed:
 * a build without the streaming decoder (no MIME, no IMAP) then leaves
 * DECODE's 256 bytes out. */
static unsigned char b64_value(unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return (unsigned char)(ch - 'A');
  if (ch >= 'a' && ch <= 'z')
    return (unsigned char)(ch - 'a' + 26);
  if (ch >= '0' && ch <= '9')
    return (unsigned char)(ch - '0' + 52);
  if (ch == '+' || ch == '/')
    return ch == '+' ? 62 : 63;
  return ch == '=' ? B64_PAD : B64_BAD;
}

long mail_b64_decode_strict(const char *in, size_t n, unsigned char *out)
{
  if (n % 4)
    return -1;
  unsigned char *o = out;
  for (size_t i = 0; i < n; i += 4) {
    unsigned char a = b64_value((unsigned char)in[i]), b = b64_value((unsigned char)in[i + 1]);
    unsigned char c = b64_value((unsigned char)in[i + 2]), d = b64_value((unsigned char)in[i + 3]);
    if (a > 63 || b > 63)
      return -1;
    int last = i + 4 == n;
    if (c == B64_PAD) {
      /* "xx==": one byte; the unused bits must be zero. */
      if (!last || d != B64_PAD || (b & 15))
        return -1;
      *o++ = (unsigned char)(a << 2 | b >> 4);
      break;
    }
    if (c > 63)
      return -1;
    if (d == B64_PAD) {
      if (!last || (c & 3))
        return -1;
      *o++ = (unsigned char)(a << 2 | b >> 4);
      *o++ = (unsigned char)(b << 4 | c >> 2);
      break;
    }
    if (d > 63)
      return -1;
    o[0] = (unsigned char)(a << 2 | b >> 4);
    o[1] = (unsigned char)(b << 4 | c >> 2);
    o[2] = (unsigned char)(c << 6 | d);
    o += 3;
  }
  return (long)(o - out);
}

void mail_b64_stream_init(mail_b64_stream *s)
{
  memset(s, 0, sizeof *s);
}

size_t mail_b64_stream_decode(mail_b64_stream *s, const void *in_, size_t n, unsigned char *out)
{
  const unsigned char *in = in_, *end = in + n;
  unsigned char *o = out;
  unsigned int acc = s->acc, nacc = s->nacc;

  while (in < end) {
    if (s->padded) {
      /* After padding only whitespace and more '=' are expected. */
      unsigned char v = DECODE[*in++];
      if (v < 64)
        s->garbage++;
      else if (v == B64_BAD)
        s->garbage++;
      continue;
    }
    /* Fast path: four alphabet characters in a row, nothing pending. */
    if (nacc == 0) {
      while (end - in >= 4) {
        unsigned a = DECODE[in[0]], b = DECODE[in[1]], c = DECODE[in[2]], d = DECODE[in[3]];
        if ((a | b | c | d) > 63)
          break;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        o[0] = (unsigned char)(v >> 16);
        o[1] = (unsigned char)(v >> 8);
        o[2] = (unsigned char)v;
        o += 3;
        in += 4;
      }
      if (in >= end)
        break;
    }
    unsigned char v = DECODE[*in++];
    if (v < 64) {
      acc = acc << 6 | v;
      if (++nacc == 4) {
        o[0] = (unsigned char)(acc >> 16);
        o[1] = (unsigned char)(acc >> 8);
        o[2] = (unsigned char)acc;
        o += 3;
        acc = nacc = 0;
      }
    } else if (v == B64_PAD) {
      if (nacc == 2) {
        *o++ = (unsigned char)(acc >> 4);
      } else if (nacc == 3) {
        *o++ = (unsigned char)(acc >> 10);
        *o++ = (unsigned char)(acc >> 2);
      } else if (nacc == 1) {
        s->garbage++;
      }
      /* nacc == 0: a stray '=' after a complete group ends the data too. */
      acc = nacc = 0;
      s->padded = 1;
    } else if (v == B64_BAD) {
      s->garbage++;
    }
  }
  s->acc = acc;
  s->nacc = nacc;
  return (size_t)(o - out);
}

size_t mail_b64_stream_finish(mail_b64_stream *s, unsigned char out[2])
{
  size_t n = 0;
  if (s->nacc) {
    s->incomplete = 1;
    if (s->nacc == 2) {
      out[n++] = (unsigned char)(s->acc >> 4);
    } else if (s->nacc == 3) {
      out[n++] = (unsigned char)(s->acc >> 10);
      out[n++] = (unsigned char)(s->acc >> 2);
    }
  }
  s->acc = s->nacc = 0;
  return n;
}

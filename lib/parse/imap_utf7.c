/* Modified UTF-7 mailbox names (RFC 3501 section 5.1.3): "&" starts a run
 * of UTF-16 in base64 with "," for "/", "-" ends it, "&-" is "&". */
#include <mail/imap_parse.h>

#include <string.h>

#include "core/utf8.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64val(unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == ',')
    return 63;
  return -1;
}

typedef struct out {
  char *buf;
  size_t size, len;
} out;

static void put(out *o, unsigned char c)
{
  if (o->buf && o->len < o->size)
    o->buf[o->len] = (char)c;
  o->len++;
}

static void put_utf8(out *o, uint32_t cp)
{
  if (cp < 0x80) {
    put(o, (unsigned char)cp);
  } else if (cp < 0x800) {
    put(o, (unsigned char)(0xC0 | (cp >> 6)));
    put(o, (unsigned char)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    put(o, (unsigned char)(0xE0 | (cp >> 12)));
    put(o, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
    put(o, (unsigned char)(0x80 | (cp & 0x3F)));
  } else {
    put(o, (unsigned char)(0xF0 | (cp >> 18)));
    put(o, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
    put(o, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
    put(o, (unsigned char)(0x80 | (cp & 0x3F)));
  }
}

static int finish(out *o, size_t *out_len)
{
  *out_len = o->len;
  return o->len > o->size || (!o->buf && o->len) ? MAIL_ERR_BUFFER : MAIL_OK;
}

int mail_imap_utf7_decode(size_t *out_len, char *buf, size_t size, const char *in, size_t len)
{
  if (!out_len || (!in && len) || (!buf && size))
    return MAIL_ERR_INVALID;
  out o = {buf, size, 0};
  const unsigned char *s = (const unsigned char *)in, *e = s + len;
  while (s < e) {
    if (*s != '&') {
      /* Bytes other than "&" stand for themselves (servers also send raw
       * 8-bit names and control characters; they are kept as sent). */
      put(&o, *s++);
      continue;
    }
    s++;
    if (s < e && *s == '-') {
      put(&o, '&');
      s++;
      continue;
    }
    uint32_t acc = 0, hi = 0;
    int bits = 0, units = 0;
    while (s < e && *s != '-') {
      int v = b64val(*s++);
      if (v < 0)
        return MAIL_ERR_SYNTAX;
      acc = (acc << 6) | (uint32_t)v;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        uint32_t u = (acc >> bits) & 0xFFFF;
        units++;
        if (hi) {
          if (u < 0xDC00 || u > 0xDFFF)
            return MAIL_ERR_SYNTAX;
          put_utf8(&o, 0x10000 + ((hi - 0xD800) << 10) + (u - 0xDC00));
          hi = 0;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
          hi = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
          return MAIL_ERR_SYNTAX;
        } else if (u >= 0x20 && u < 0x7F) {
          return MAIL_ERR_SYNTAX; /* printable ASCII must not be encoded */
        } else {
          put_utf8(&o, u);
        }
      }
    }
    if (s == e || hi || !units || bits >= 6 || (acc & ((1u << bits) - 1)))
      return MAIL_ERR_SYNTAX;
    s++; /* '-' */
  }
  return finish(&o, out_len);
}

typedef struct enc {
  uint32_t acc;
  int bits, open;
} enc;

static void enc_unit(out *o, enc *st, uint16_t u)
{
  if (!st->open) {
    put(o, '&');
    st->open = 1;
  }
  st->acc = (st->acc << 16) | u;
  st->bits += 16;
  while (st->bits >= 6) {
    st->bits -= 6;
    put(o, (unsigned char)b64[(st->acc >> st->bits) & 0x3F]);
  }
}

static void enc_close(out *o, enc *st)
{
  if (!st->open)
    return;
  if (st->bits)
    put(o, (unsigned char)b64[(st->acc << (6 - st->bits)) & 0x3F]);
  put(o, '-');
  st->acc = 0;
  st->bits = st->open = 0;
}

int mail_imap_utf7_encode(size_t *out_len, char *buf, size_t size, const char *in, size_t len)
{
  if (!out_len || (!in && len) || (!buf && size))
    return MAIL_ERR_INVALID;
  if (len && !mail_utf8_valid(in, len))
    return MAIL_ERR_CHARSET;
  out o = {buf, size, 0};
  enc st = {0, 0, 0};
  const unsigned char *s = (const unsigned char *)in, *e = s + len;
  while (s < e) {
    if (*s >= 0x20 && *s < 0x7F) {
      enc_close(&o, &st);
      put(&o, *s);
      if (*s == '&')
        put(&o, '-');
      s++;
      continue;
    }
    uint32_t cp;
    int n;
    if (*s < 0x80) {
      cp = *s;
      n = 1;
    } else if (*s < 0xE0) {
      cp = *s & 0x1F;
      n = 2;
    } else if (*s < 0xF0) {
      cp = *s & 0x0F;
      n = 3;
    } else {
      cp = *s & 0x07;
      n = 4;
    }
    for (int k = 1; k < n; k++)
      cp = (cp << 6) | (s[k] & 0x3F);
    s += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      enc_unit(&o, &st, (uint16_t)(0xD800 + (cp >> 10)));
      enc_unit(&o, &st, (uint16_t)(0xDC00 + (cp & 0x3FF)));
    } else {
      enc_unit(&o, &st, (uint16_t)cp);
    }
  }
  enc_close(&o, &st);
  return finish(&o, out_len);
}

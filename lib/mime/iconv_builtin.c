/* iconv(3) for UTF-8 and ISO-8859-1 to UTF-8, where the C library has no
 * iconv (see iconv_builtin.h). */
#include "mime/iconv_builtin.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mime/mime_internal.h"

struct mime_iconv {
  int latin1; /* 0: from UTF-8 */
};

/* never written: descriptors are shared, iconv_t is not const only as
 * charset.c keeps one in a void * */
static struct mime_iconv FROM_UTF8 = {0}, FROM_LATIN1 = {1};

iconv_t mime_iconv_open(const char *to, const char *from)
{
  if (!mime_ascii_casecmp(to, "UTF-8")) {
    if (!mime_ascii_casecmp(from, "UTF-8"))
      return &FROM_UTF8;
    if (!mime_ascii_casecmp(from, "ISO-8859-1"))
      return &FROM_LATIN1;
  }
  errno = EINVAL;
  return (iconv_t)-1;
}

/* The length of the UTF-8 sequence at s[0..n): > 0 when complete and
 * valid, 0 when invalid, -1 when a valid start runs out at n. */
static int utf8_len(const unsigned char *s, size_t n)
{
  unsigned char c = s[0];
  int len;
  unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0; /* no overlong forms */
    else if (c == 0xED)
      hi = 0x9F; /* no surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F; /* nothing above U+10FFFF */
  } else {
    return 0;
  }
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n)
      return -1;
    unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (s[i] < min || s[i] > max)
      return 0;
  }
  return len;
}

size_t mime_iconv(iconv_t cd, char **in, size_t *in_left, char **out, size_t *out_left)
{
  if (!in || !*in)
    return 0; /* no shift state to reset or flush */
  const unsigned char *s = (const unsigned char *)*in;
  unsigned char *o = (unsigned char *)*out;
  size_t n = *in_left, room = *out_left, rc = 0;
  while (n) {
    unsigned char two[2];
    const unsigned char *src = s;
    int take = 1, put;
    if (cd->latin1) {
      put = s[0] < 0x80 ? 1 : 2;
      two[0] = (unsigned char)(0xC0 | s[0] >> 6);
      two[1] = (unsigned char)(0x80 | (s[0] & 0x3F));
      if (put == 2)
        src = two;
    } else {
      take = put = utf8_len(s, n);
      if (put <= 0) {
        errno = put == 0 ? EILSEQ : EINVAL;
        rc = (size_t)-1;
        break;
      }
    }
    if ((size_t)put > room) {
      errno = E2BIG;
      rc = (size_t)-1;
      break;
    }
    memcpy(o, src, (size_t)put);
    o += put;
    room -= (size_t)put;
    s += take;
    n -= (size_t)take;
  }
  *in = (char *)(uintptr_t)s;
  *in_left = n;
  *out = (char *)o;
  *out_left = room;
  return rc;
}

int mime_iconv_close(iconv_t cd)
{
  (void)cd;
  return 0;
}

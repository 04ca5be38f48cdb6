#include "core/utf8.h"

#include <stdint.h>
#include <string.h>

int mail_ascii_only(const void *str, size_t n)
{
  const unsigned char *s = str;
  size_t i = 0;
  /* 32 bytes a step, their high bits ORed together: a body of mail is
   * checked at a small fraction of a test per byte. */
  while (n - i >= 32) {
    uint64_t w[4];
    memcpy(w, s + i, 32);
    if ((w[0] | w[1] | w[2] | w[3]) & 0x8080808080808080ull)
      return 0;
    i += 32;
  }
  for (; i < n; i++)
    if (s[i] >= 0x80)
      return 0;
  return 1;
}

int mail_utf8_valid(const void *str, size_t n)
{
  const unsigned char *s = str;
  size_t i = 0;
  while (i < n) {
    /* Mail text is mostly ASCII: skip it eight bytes at a time. */
    while (n - i >= 8) {
      uint64_t w;
      memcpy(&w, s + i, 8);
      if (w & 0x8080808080808080ull)
        break;
      i += 8;
    }
    if (i >= n)
      break;
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2; cp = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3; cp = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4; cp = c & 0x07; min = 0x10000;
    } else {
      return 0;
    }
    if (n - i < len)
      return 0;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80)
        return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return 0;
    i += len;
  }
  return 1;
}

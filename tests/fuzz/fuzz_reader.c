/*
 * The core reader. Byte 0 sets max_line (1..64); then each control byte
 * picks an operation: feed the next few bytes, read a line, peek and skip
 * a line, take up to some bytes, or mark the end of input. A model of the
 * unconsumed bytes is kept alongside, and every byte the reader hands out
 * must match it.
 */
#include <string.h>

#include "core/mem.h"
#include "core/reader.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t max_line = 1 + data[0] % 64;
  mail_allocator a;
  mail_alloc_init(&a, NULL);
  mail_reader r;
  mail_reader_init(&r, &a, max_line);
  /* Model: every byte fed, and how many have been consumed. */
  unsigned char *fed = malloc(size);
  if (!fed)
    abort();
  size_t nfed = 0, used = 0;
  size_t i = 1;
  while (i < size) {
    unsigned op = data[i++];
    switch (op % 5) {
    case 0: { /* feed */
      size_t n = 1 + (op >> 3);
      if (n > size - i)
        n = size - i;
      int rc = mail_reader_feed(&r, data + i, n);
      if (rc) {
        FZ_ASSERT(rc == MAIL_ERR_LIMIT);
        goto out;
      }
      memcpy(fed + nfed, data + i, n);
      nfed += n;
      i += n;
      break;
    }
    case 1: { /* line */
      const char *line;
      size_t len;
      int cr;
      int rc = mail_reader_line(&r, &line, &len, &cr);
      if (rc == MAIL_OK) {
        size_t consumed = len + (cr ? 2 : 1);
        FZ_ASSERT(consumed <= max_line && used + consumed <= nfed);
        FZ_ASSERT(memcmp(line, fed + used, len) == 0 && !memchr(line, '\n', len));
        FZ_ASSERT(fed[used + consumed - 1] == '\n');
        FZ_ASSERT(!cr || fed[used + len] == '\r');
        used += consumed;
      } else {
        FZ_ASSERT(rc == MAIL_ERR_AGAIN || rc == MAIL_ERR_LIMIT || rc == MAIL_ERR_CLOSED);
        if (rc == MAIL_ERR_AGAIN || rc == MAIL_ERR_CLOSED)
          FZ_ASSERT(!memchr(fed + used, '\n', nfed - used));
      }
      break;
    }
    case 2: { /* peek + skip */
      const char *line;
      size_t len, consumed;
      if (mail_reader_peek_line(&r, &line, &len, &consumed) == MAIL_OK) {
        FZ_ASSERT(consumed >= len + 1 && consumed <= len + 2 && used + consumed <= nfed);
        FZ_ASSERT(memcmp(line, fed + used, len) == 0);
        mail_reader_skip(&r, consumed);
        used += consumed;
      }
      break;
    }
    case 3: { /* take */
      const unsigned char *p;
      size_t n;
      int rc = mail_reader_take(&r, 1 + (op >> 3), &p, &n);
      if (rc == MAIL_OK) {
        FZ_ASSERT(n >= 1 && n <= 1u + (op >> 3) && used + n <= nfed);
        FZ_ASSERT(memcmp(p, fed + used, n) == 0);
        used += n;
      } else {
        FZ_ASSERT(used == nfed);
      }
      break;
    }
    default:
      if (op & 0x80)
        mail_reader_set_eof(&r);
      break;
    }
    FZ_ASSERT(mail_reader_pending(&r) == nfed - used);
    size_t n;
    const unsigned char *d = mail_reader_data(&r, &n);
    FZ_ASSERT(n == nfed - used && (n == 0 || memcmp(d, fed + used, n) == 0));
  }
out:
  mail_reader_free(&r);
  free(fed);
  return 0;
}

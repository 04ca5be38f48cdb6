/*
 * SMTP/LMTP reply parser. Byte 0 chooses: bit 0 enhanced codes, bit 1
 * small limits, the rest the seed of the chunk sizes. The input is parsed
 * twice, whole and in chunks: the replies and the final status must be
 * the same (any split gives the same result).
 */
#include <string.h>

#include <mail/smtp_reply.h>

#include "fuzz_common.h"

static void describe(fz_hash *h, const mail_smtp_reply *r)
{
  unsigned c, s, d;
  fz_hash_int(h, mail_smtp_reply_code(r));
  if (mail_smtp_reply_enhanced(r, &c, &s, &d) == MAIL_OK) {
    FZ_ASSERT(c == 2 || c == 4 || c == 5);
    FZ_ASSERT(s < 1000 && d < 1000);
    fz_hash_int(h, (long)(c * 1000000 + s * 1000 + d));
  }
  size_t n = mail_smtp_reply_line_count(r), total = 0;
  FZ_ASSERT(n >= 1);
  for (size_t i = 0; i < n; i++) {
    size_t len;
    const char *t = mail_smtp_reply_line(r, i, &len);
    FZ_ASSERT(t && t[len] == 0 && !memchr(t, '\n', len));
    fz_hash_bytes(h, t, len);
    fz_hash_int(h, (long)len);
    total += len + 1;
  }
  size_t tl;
  const char *text = mail_smtp_reply_text(r, &tl);
  FZ_ASSERT(text && tl + 1 == total && text[tl] == 0);
  char buf[64];
  size_t need;
  int rc = mail_smtp_reply_copy_text(r, buf, sizeof buf, &need);
  FZ_ASSERT(need == tl + 1 && (rc == MAIL_OK) == (need <= sizeof buf));
}

static int run(const uint8_t *data, size_t size, unsigned flags, int chunked, uint64_t *out)
{
  mail_smtp_parser *p;
  if (mail_smtp_parser_new(&p, NULL))
    abort();
  mail_smtp_parser_set_enhanced_codes(p, flags & 1);
  if (flags & 2) {
    mail_limits l;
    mail_limits_default(&l);
    l.max_line = 80;
    l.max_response = 300;
    l.max_items = 6;
    FZ_ASSERT(mail_smtp_parser_set_limits(p, &l) == MAIL_OK);
  }
  fz_hash h;
  fz_hash_init(&h);
  int rc = MAIL_ERR_AGAIN;
  size_t at = 0, k = 0;
  while (at < size && rc == MAIL_ERR_AGAIN) {
    /* Unchunked still feeds at most 256 bytes at a time: unread input is
     * bounded by max_line + max_response, which the small limits make tiny. */
    size_t n = chunked ? fz_chunk(flags >> 2, k++) : 256;
    if (n > size - at)
      n = size - at;
    rc = mail_smtp_parser_feed(p, data + at, n);
    at += n;
    const mail_smtp_reply *r;
    while (!rc && (rc = mail_smtp_parser_next(p, &r)) == MAIL_OK) {
      describe(&h, r);
      if (k % 7 == 3) {
        mail_smtp_reply *c;
        FZ_ASSERT(mail_smtp_reply_clone(&c, r, NULL) == MAIL_OK);
        FZ_ASSERT(mail_smtp_reply_code(c) == mail_smtp_reply_code(r));
        mail_smtp_reply_free(c);
      }
    }
  }
  if (rc == MAIL_ERR_AGAIN) {
    mail_smtp_parser_end(p);
    const mail_smtp_reply *r;
    rc = mail_smtp_parser_next(p, &r);
    FZ_ASSERT(rc != MAIL_OK);
  }
  fz_hash_int(&h, rc);
  mail_smtp_parser_free(p);
  *out = h.h;
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  unsigned flags = data[0];
  uint64_t a, b;
  int ra = run(data + 1, size - 1, flags, 0, &a);
  int rb = run(data + 1, size - 1, flags, 1, &b);
  FZ_ASSERT(ra == rb && a == b);
  return 0;
}

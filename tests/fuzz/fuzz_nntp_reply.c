/*
 * NNTP response parser (include/mail/nntp_reply.h). Byte 0 chooses the
 * expectation of each response (two bits per response, cycling: single,
 * streamed block, block as lines), byte 1 the chunk sizes (bits 1..7) and
 * tiny limits (bit 0). The input is parsed whole and in chunks; the
 * events must agree (DATA compared as one byte stream, as its chunks may
 * be cut elsewhere). Every status line goes through the accessors, the
 * copy-out, a clone and the typed helpers; every data line through
 * mail_nntp_parse_active(); the typed results are hashed too.
 */
#include <string.h>

#include <mail/nntp_reply.h>

#include "fuzz_common.h"

static void typed(fz_hash *h, const char *t, size_t n)
{
  uint64_t a = 0, b = 0, c = 0;
  const char *s = NULL;
  size_t sl = 0;
  int rc = mail_nntp_parse_group(&a, &b, &c, &s, &sl, t, n);
  fz_hash_int(h, rc);
  if (!rc) {
    FZ_ASSERT(s >= t && s + sl <= t + n && sl > 0);
    fz_hash_int(h, (long)(a ^ b ^ c));
  }
  rc = mail_nntp_parse_article(&a, &s, &sl, t, n);
  fz_hash_int(h, rc);
  if (!rc) {
    FZ_ASSERT(s >= t && s + sl <= t + n && sl >= 2 && s[0] == '<' && s[sl - 1] == '>');
    fz_hash_int(h, (long)a);
  }
  int64_t secs = 0;
  rc = mail_nntp_parse_date(&secs, t, n);
  fz_hash_int(h, rc);
  if (!rc)
    fz_hash_int(h, (long)secs);
}

static void active(fz_hash *h, const char *t, size_t n)
{
  const char *g = NULL, *st = NULL;
  size_t gl = 0, sl = 0;
  uint64_t hi = 0, lo = 0;
  int rc = mail_nntp_parse_active(&g, &gl, &hi, &lo, &st, &sl, t, n);
  fz_hash_int(h, rc);
  if (!rc) {
    FZ_ASSERT(g >= t && g + gl <= t + n && gl > 0);
    FZ_ASSERT(st >= t && st + sl <= t + n);
    fz_hash_int(h, (long)(hi ^ lo));
    fz_hash_bytes(h, g, gl);
  }
}

static int run(const uint8_t *data, size_t size, unsigned modes, unsigned flags, int chunked,
               uint64_t *out)
{
  mail_nntp_parser *p;
  if (mail_nntp_parser_new(&p, NULL))
    abort();
  mail_limits l;
  mail_limits_default(&l);
  size_t max_line = l.max_line;
  if (flags & 1) {
    l.max_line = max_line = 64;
    l.max_response = 4096;
    FZ_ASSERT(mail_nntp_parser_set_limits(p, &l) == MAIL_OK);
  }
  fz_hash h;
  fz_hash_init(&h);
  int rc = MAIL_ERR_AGAIN, ev;
  size_t at = 0, k = 0, nreplies = 0;
  int ended = 0, in_block = 0;
  while (rc == MAIL_ERR_AGAIN) {
    if (at < size) {
      size_t n = chunked ? fz_chunk(flags >> 1, k++) : 256;
      if (n > size - at)
        n = size - at;
      rc = mail_nntp_parser_feed(p, data + at, n);
      at += n;
    } else if (!ended) {
      mail_nntp_parser_end(p);
      ended = 1;
      rc = MAIL_OK;
    } else {
      break;
    }
    while (!rc) {
      if (!in_block) {
        int mode = (int)((modes >> (2 * (nreplies % 4))) & 3);
        if (mode == 3)
          mode = MAIL_NNTP_EXPECT_SINGLE;
        FZ_ASSERT(mail_nntp_parser_expect(p, mode) == MAIL_OK);
      } else {
        FZ_ASSERT(mail_nntp_parser_expect(p, MAIL_NNTP_EXPECT_SINGLE) == MAIL_ERR_STATE);
      }
      rc = mail_nntp_parser_next(p, &ev);
      if (rc)
        break;
      if (ev == MAIL_NNTP_EVENT_DATA) {
        size_t n;
        const unsigned char *d = mail_nntp_parser_data(p, &n);
        FZ_ASSERT(in_block && d && n > 0);
        fz_hash_bytes(&h, d, n);
        continue;
      }
      fz_hash_int(&h, 1000 + ev);
      if (ev == MAIL_NNTP_EVENT_REPLY) {
        FZ_ASSERT(!in_block);
        const mail_nntp_reply *r = mail_nntp_parser_reply(p);
        size_t n;
        const char *t = mail_nntp_reply_text(r, &n);
        int code = mail_nntp_reply_code(r);
        FZ_ASSERT(code >= 100 && code <= 599);
        FZ_ASSERT(t && t[n] == 0 && n < max_line);
        char buf[64];
        size_t need = 0;
        int crc = mail_nntp_reply_copy_text(r, buf, sizeof buf, &need);
        FZ_ASSERT(need == n + 1);
        FZ_ASSERT(crc == (n + 1 <= sizeof buf ? MAIL_OK : MAIL_ERR_BUFFER));
        if (!crc)
          FZ_ASSERT(!memcmp(buf, t, n + 1));
        mail_nntp_reply *c = NULL;
        FZ_ASSERT(mail_nntp_reply_clone(&c, r, NULL) == MAIL_OK);
        size_t cn;
        const char *ct = mail_nntp_reply_text(c, &cn);
        FZ_ASSERT(mail_nntp_reply_code(c) == code && cn == n && !memcmp(ct, t, n));
        mail_nntp_reply_free(c);
        fz_hash_int(&h, code);
        fz_hash_bytes(&h, t, n);
        typed(&h, t, n);
        nreplies++;
        /* A block follows a 1xx/2xx when one was asked for. */
        int mode = (int)((modes >> (2 * ((nreplies - 1) % 4))) & 3);
        in_block = (mode == 1 || mode == 2) && code < 300;
      } else if (ev == MAIL_NNTP_EVENT_LINE) {
        FZ_ASSERT(in_block);
        size_t n;
        const unsigned char *d = mail_nntp_parser_data(p, &n);
        FZ_ASSERT(n == 0 || d);
        FZ_ASSERT(n < max_line);
        if (n)
          fz_hash_bytes(&h, d, n);
        fz_hash_int(&h, (long)n);
        if (n)
          active(&h, (const char *)d, n);
      } else {
        FZ_ASSERT(ev == MAIL_NNTP_EVENT_END && in_block);
        in_block = 0;
      }
    }
  }
  fz_hash_int(&h, rc);
  FZ_ASSERT(rc == MAIL_ERR_CLOSED || rc == MAIL_ERR_PROTOCOL || rc == MAIL_ERR_LIMIT);
  mail_nntp_parser_free(p);
  *out = h.h;
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  uint64_t a, b;
  int ra = run(data + 2, size - 2, data[0], data[1], 0, &a);
  int rb = run(data + 2, size - 2, data[0], data[1], 1, &b);
  FZ_ASSERT(ra == rb && a == b);
  return 0;
}

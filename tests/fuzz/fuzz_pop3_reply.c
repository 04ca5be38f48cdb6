/*
 * POP3 response parser. Byte 0 chooses the expectation of each response
 * (two bits per response, cycling: single, streamed multi-line, lines)
 * and byte 1 the chunk sizes and small limits. The input is parsed whole
 * and in chunks; the events must agree (DATA chunks compared as one byte
 * stream, since chunk boundaries may differ).
 */
#include <string.h>

#include <mail/pop3_reply.h>

#include "fuzz_common.h"

static int run(const uint8_t *data, size_t size, unsigned modes, unsigned flags, int chunked,
               uint64_t *out)
{
  mail_pop3_parser *p;
  if (mail_pop3_parser_new(&p, NULL))
    abort();
  if (flags & 1) {
    mail_limits l;
    mail_limits_default(&l);
    l.max_line = 64;
    l.max_response = 4096;
    FZ_ASSERT(mail_pop3_parser_set_limits(p, &l) == MAIL_OK);
  }
  fz_hash h;
  fz_hash_init(&h);
  int rc = MAIL_ERR_AGAIN, ev;
  size_t at = 0, k = 0, nreplies = 0;
  int ended = 0;
  while (rc == MAIL_ERR_AGAIN) {
    if (at < size) {
      size_t n = chunked ? fz_chunk(flags >> 1, k++) : 256;
      if (n > size - at)
        n = size - at;
      rc = mail_pop3_parser_feed(p, data + at, n);
      at += n;
    } else if (!ended) {
      mail_pop3_parser_end(p);
      ended = 1;
      rc = MAIL_OK;
    } else {
      break;
    }
    while (!rc) {
      int mode = (int)((modes >> (2 * (nreplies % 4))) & 3);
      if (mode == 3)
        mode = MAIL_POP3_EXPECT_SINGLE;
      (void)mail_pop3_parser_expect(p, mode);
      rc = mail_pop3_parser_next(p, &ev);
      if (rc)
        break;
      if (ev == MAIL_POP3_EVENT_DATA) {
        size_t n;
        const unsigned char *d = mail_pop3_parser_data(p, &n);
        FZ_ASSERT(d && n > 0);
        fz_hash_bytes(&h, d, n);
        continue;
      }
      fz_hash_int(&h, 1000 + ev);
      if (ev == MAIL_POP3_EVENT_REPLY) {
        const mail_pop3_reply *r = mail_pop3_parser_reply(p);
        size_t n, cn = 0;
        const char *t = mail_pop3_reply_text(r, &n);
        const char *code = mail_pop3_reply_resp_code(r, &cn);
        int st = mail_pop3_reply_status(r);
        FZ_ASSERT(st >= MAIL_POP3_OK && st <= MAIL_POP3_CONTINUE);
        FZ_ASSERT(t && t[n] == 0);
        FZ_ASSERT((code != NULL) == (mail_pop3_reply_resp_code_id(r) != MAIL_POP3_CODE_NONE));
        fz_hash_int(&h, st);
        fz_hash_int(&h, mail_pop3_reply_resp_code_id(r));
        if (code)
          fz_hash_bytes(&h, code, cn);
        fz_hash_bytes(&h, t, n);
        fz_hash_int(&h, (long)n);
        nreplies++;
      } else if (ev == MAIL_POP3_EVENT_LINE) {
        size_t n;
        const unsigned char *d = mail_pop3_parser_data(p, &n);
        FZ_ASSERT(n == 0 || d);
        if (n)
          fz_hash_bytes(&h, d, n);
        fz_hash_int(&h, (long)n);
      } else {
        FZ_ASSERT(ev == MAIL_POP3_EVENT_END);
      }
    }
  }
  fz_hash_int(&h, rc);
  mail_pop3_parser_free(p);
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

/*
 * IMAP response parser, whole. Byte 0: bit 0 tiny limits (depth 4, 8
 * items, 64-byte literals, 4 KiB responses), bit 1 UTF8=ACCEPT names, bit 2
 * not expecting a greeting, the rest the chunk sizes. The input is parsed
 * whole and in chunks; every response is printed as JSON through every
 * accessor (examples/imap_json.c) and hashed with the streamed bytes: both
 * parses must agree, and the bytes a response spans must add up.
 */
#include <stdio.h>
#include <string.h>

#include <mail/imap_parse.h>

#include "../../examples/imap_json.h"
#include "fuzz_common.h"

typedef struct body_state {
  fz_hash h;
  int open;
  uint64_t got;
} body_state;

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len)
{
  body_state *b = user;
  size_t n;
  FZ_ASSERT(s);
  const char *item = mail_imap_section_item(s, &n);
  FZ_ASSERT(item && n);
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    FZ_ASSERT(!b->open);
    b->open = 1;
    b->got = 0;
    fz_hash_bytes(&b->h, item, n);
    fz_hash_int(&b->h, (long)mail_imap_section_size(s));
  } else if (ev == MAIL_IMAP_BODY_DATA) {
    FZ_ASSERT(b->open && data && len);
    b->got += len;
    FZ_ASSERT(b->got <= mail_imap_section_size(s));
    fz_hash_bytes(&b->h, data, len);
  } else {
    FZ_ASSERT(ev == MAIL_IMAP_BODY_END && b->open);
    FZ_ASSERT(b->got == mail_imap_section_size(s));
    b->open = 0;
    fz_hash_int(&b->h, 77);
  }
  return 0;
}

static int run(const uint8_t *data, size_t size, unsigned flags, int chunked, uint64_t *out)
{
  mail_imap_parser *p;
  if (mail_imap_parser_new(&p, NULL))
    abort();
  if (flags & 1) {
    mail_limits l;
    mail_limits_default(&l);
    l.max_depth = 4;
    l.max_items = 8;
    l.max_literal = 64;
    l.max_response = 4096;
    FZ_ASSERT(mail_imap_parser_set_limits(p, &l) == MAIL_OK);
  }
  mail_imap_parser_set_utf8(p, (flags >> 1) & 1);
  mail_imap_parser_expect_greeting(p, !((flags >> 2) & 1));
  body_state b;
  memset(&b, 0, sizeof b);
  fz_hash_init(&b.h);
  mail_imap_parser_set_body_callback(p, on_body, &b);
  char *json = NULL;
  size_t json_len = 0;
  FILE *jf = open_memstream(&json, &json_len);
  FZ_ASSERT(jf);
  int rc = MAIL_ERR_AGAIN;
  size_t at = 0, k = 0;
  uint64_t last_end = 0;
  while (rc == MAIL_ERR_AGAIN) {
    if (at < size) {
      size_t n = chunked ? fz_chunk(flags >> 3, k++) : size;
      if (n > size - at)
        n = size - at;
      rc = mail_imap_parser_feed(p, data + at, n);
      at += n;
      if (rc)
        break;
    } else {
      mail_imap_parser_end(p);
    }
    const mail_imap_response *r;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK) {
      uint64_t s, e;
      mail_imap_response_span(r, &s, &e);
      FZ_ASSERT(s >= last_end && e > s && e <= at);
      last_end = e;
      int kind = mail_imap_response_kind(r);
      FZ_ASSERT(kind >= MAIL_IMAP_KIND_GREETING && kind <= MAIL_IMAP_KIND_CONTINUATION);
      for (size_t i = 0; i < mail_imap_response_defect_count(r); i++) {
        const char *raw;
        size_t rn;
        FZ_ASSERT(mail_imap_response_defect(r, i, NULL, NULL, NULL, &raw, &rn) == MAIL_OK);
        FZ_ASSERT(rn <= e - s);
      }
      imap_json_response(jf, r);
    }
    if (rc != MAIL_ERR_AGAIN)
      break;
  }
  FZ_ASSERT(rc == MAIL_ERR_CLOSED || rc == MAIL_ERR_PROTOCOL || rc == MAIL_ERR_LIMIT);
  fclose(jf);
  fz_hash_bytes(&b.h, json, json_len);
  fz_hash_int(&b.h, rc);
  free(json);
  mail_imap_parser_free(p);
  *out = b.h.h;
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  uint64_t a, b;
  int ra = run(data + 1, size - 1, data[0], 0, &a);
  int rb = run(data + 1, size - 1, data[0], 1, &b);
  FZ_ASSERT(ra == rb && a == b);
  return 0;
}

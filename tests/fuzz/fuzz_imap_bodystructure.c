/*
 * BODYSTRUCTURE alone: the input is the value of a FETCH BODYSTRUCTURE
 * item ("* 1 FETCH (BODYSTRUCTURE " input ")"), parsed whole and in
 * chunks. The part tree is walked with an explicit stack through every
 * accessor: parents and children agree, counts match the items, every
 * string has its length; either the item is typed or it is a defect.
 */
#include <string.h>

#include <mail/imap_parse.h>

#include "fuzz_common.h"

static void walk(fz_hash *h, const mail_imap_body *root)
{
  const mail_imap_body *stack[256];
  size_t sp = 0;
  stack[sp++] = root;
  while (sp) {
    const mail_imap_body *b = stack[--sp];
    size_t n;
    uint64_t v;
    for (int f = 0; f < 8; f++) {
      const char *s = mail_imap_body_field(b, f, &n);
      FZ_ASSERT(s || !n);
      if (s)
        fz_hash_bytes(h, s, n);
      fz_hash_int(h, (long)n);
    }
    for (int l = 0; l < 2; l++)
      for (size_t i = 0; i < mail_imap_body_param_count(b, l); i++) {
        const char *k, *val;
        size_t kn, vn;
        FZ_ASSERT(mail_imap_body_param(b, l, i, &k, &kn, &val, &vn) == MAIL_OK);
        FZ_ASSERT(k);
        fz_hash_bytes(h, k, kn);
        if (val)
          fz_hash_bytes(h, val, vn);
      }
    for (size_t i = 0; i < mail_imap_body_language_count(b); i++) {
      const char *s = mail_imap_body_language(b, i, &n);
      FZ_ASSERT(s);
      fz_hash_bytes(h, s, n);
    }
    fz_hash_int(h, mail_imap_body_size(b, &v) == MAIL_OK ? (long)v : -1);
    fz_hash_int(h, mail_imap_body_lines(b, &v) == MAIL_OK ? (long)v : -1);
    const mail_imap_envelope *e = mail_imap_body_envelope(b);
    if (e) {
      for (int f = 0; f < 4; f++) {
        const char *s = mail_imap_envelope_field(e, f, &n);
        if (s)
          fz_hash_bytes(h, s, n);
      }
      for (int f = 0; f < 6; f++)
        for (size_t i = 0; i < mail_imap_envelope_address_count(e, f); i++) {
          const mail_imap_address *a = mail_imap_envelope_address(e, f, i);
          FZ_ASSERT(a);
          const char *s = mail_imap_address_mailbox(a, &n);
          if (s)
            fz_hash_bytes(h, s, n);
        }
    }
    const char *x = mail_imap_body_extension(b, &n);
    if (x)
      fz_hash_bytes(h, x, n);
    size_t nc = mail_imap_body_child_count(b);
    FZ_ASSERT(!mail_imap_body_child(b, nc));
    fz_hash_int(h, (long)nc * 2 + mail_imap_body_is_multipart(b));
    for (size_t i = nc; i-- > 0;) {
      const mail_imap_body *c = mail_imap_body_child(b, i);
      FZ_ASSERT(c && mail_imap_body_parent(c) == b);
      FZ_ASSERT(sp < sizeof stack / sizeof stack[0]);
      stack[sp++] = c;
    }
  }
}

static void check(fz_hash *h, const mail_imap_response *r, size_t *count)
{
  const mail_imap_body *b = mail_imap_fetch_body(r);
  if (b)
    walk(h, b);
  /* the item is typed, or the first response carries a defect */
  if ((*count)++ == 0)
    FZ_ASSERT(b || mail_imap_response_defect_count(r) > 0);
  fz_hash_int(h, (long)mail_imap_response_defect_count(r));
  fz_hash_int(h, mail_imap_response_type(r));
}

static uint64_t run(const uint8_t *data, size_t size, unsigned seed, int chunked)
{
  static const char head[] = "* 1 FETCH (BODYSTRUCTURE ";
  static const char tail[] = ")\r\n";
  mail_imap_parser *p;
  if (mail_imap_parser_new(&p, NULL))
    abort();
  mail_imap_parser_expect_greeting(p, 0);
  fz_hash h;
  fz_hash_init(&h);
  int rc = mail_imap_parser_feed(p, head, sizeof head - 1);
  const mail_imap_response *r;
  size_t at = 0, k = 0, count = 0;
  while (!rc && at < size) {
    size_t n = chunked ? fz_chunk(seed, k++) : size;
    if (n > size - at)
      n = size - at;
    rc = mail_imap_parser_feed(p, data + at, n);
    at += n;
    while (!rc && (rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
      check(&h, r, &count);
    if (rc == MAIL_ERR_AGAIN)
      rc = 0;
  }
  if (!rc)
    rc = mail_imap_parser_feed(p, tail, sizeof tail - 1);
  mail_imap_parser_end(p);
  while (!rc && (rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
    check(&h, r, &count);
  fz_hash_int(&h, rc);
  mail_imap_parser_free(p);
  return h.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  FZ_ASSERT(run(data + 1, size - 1, data[0], 0) == run(data + 1, size - 1, data[0], 1));
  return 0;
}

/*
 * The MIME parser: streaming and tree, decoding, editing and writing.
 *
 * Byte 0: bit 0 MAIL_MIME_TO_UTF8, bit 1 MAIL_MIME_RAW_BODY, bit 2
 * MAIL_MIME_MBOX_FROM, bit 3 MAIL_MIME_CHECK_HEADERS, bit 4 tiny limits,
 * bit 5 an allocation failure in the tree parse (at call byte 1),
 * bit 6 MAIL_MIME_BORROW. Byte 1: the seed of the chunk sizes. The rest is
 * the message.
 *
 * Checked:
 *  - the streaming parser gives the same events (headers, body bytes,
 *    defects with their offsets) fed whole and fed in chunks;
 *  - the tree: every accessor of every part, offsets in range, every leaf
 *    decoded (buffer and callback give the same bytes), the decoded
 *    Subject/From, address lists (strict and lax), Date, Message-IDs,
 *    DSN/MDN bodies, the safe file name;
 *  - writing the unchanged tree reproduces the input byte for byte;
 *  - a header set on the root is there when the written message is
 *    parsed again;
 *  - an allocation failure gives MAIL_ERR_NOMEM; nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

#include "alloc.h"

#include "fuzz_common.h"

/* ------------------------------------------------------------ streaming */

static int ev_part_start(void *user, mail_mime_part *part)
{
  fz_hash *h = user;
  fz_hash_bytes(h, "S", 1);
  const char *path = mail_mime_part_path(part);
  fz_hash_bytes(h, path, strlen(path));
  fz_hash_int(h, mail_mime_part_depth(part));
  return 0;
}

static int ev_header(void *user, mail_mime_part *part, const char *name, size_t name_len,
                     const char *raw, size_t raw_len)
{
  fz_hash *h = user;
  (void)part;
  fz_hash_bytes(h, "H", 1);
  fz_hash_bytes(h, name, name_len);
  fz_hash_int(h, (long)name_len);
  fz_hash_bytes(h, raw, raw_len);
  fz_hash_int(h, (long)raw_len);
  return 0;
}

static int ev_headers_end(void *user, mail_mime_part *part)
{
  fz_hash *h = user;
  const char *ct = mail_mime_part_content_type(part);
  fz_hash_bytes(h, "E", 1);
  fz_hash_bytes(h, ct, strlen(ct));
  fz_hash_int(h, mail_mime_part_encoding(part));
  fz_hash_int(h, mail_mime_part_is_multipart(part));
  const char *fn = mail_mime_part_filename(part);
  if (fn)
    fz_hash_bytes(h, fn, strlen(fn));
  return 0;
}

/* Body bytes are hashed without their chunk lengths: only the bytes count. */
static int ev_body(void *user, mail_mime_part *part, const void *data, size_t len)
{
  (void)part;
  FZ_ASSERT(len > 0 || data);
  fz_hash_bytes(user, data, len);
  return 0;
}

static int ev_part_end(void *user, mail_mime_part *part)
{
  (void)part;
  fz_hash_bytes(user, "X", 1);
  return 0;
}

static int ev_defect(void *user, mail_mime_part *part, int kind, uint64_t offset)
{
  (void)part;
  fz_hash *h = user;
  fz_hash_bytes(h, "D", 1);
  fz_hash_int(h, kind);
  fz_hash_int(h, (long)offset);
  return 0;
}

static uint64_t stream(const uint8_t *msg, size_t len, unsigned flags, const mail_mime_limits *lim,
                       int chunk_seed)
{
  fz_hash h;
  fz_hash_init(&h);
  mail_mime_parser *p;
  FZ_ASSERT(mail_mime_parser_new(&p, NULL) == MAIL_OK);
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &h, ev_part_start, ev_header,
                            ev_headers_end, ev_body, ev_part_end, ev_defect};
  FZ_ASSERT(mail_mime_parser_set_callbacks(p, &cb) == MAIL_OK);
  FZ_ASSERT(mail_mime_parser_set_flags(p, flags) == MAIL_OK);
  if (lim)
    FZ_ASSERT(mail_mime_parser_set_limits(p, lim) == MAIL_OK);
  if (chunk_seed < 0) {
    FZ_ASSERT(mail_mime_parser_feed(p, msg, len) == MAIL_OK);
  } else {
    size_t at = 0, k = 0;
    while (at < len) {
      size_t n = fz_chunk((unsigned)chunk_seed, k++);
      if (n > len - at)
        n = len - at;
      FZ_ASSERT(mail_mime_parser_feed(p, msg + at, n) == MAIL_OK);
      at += n;
    }
  }
  FZ_ASSERT(mail_mime_parser_finish(p) == MAIL_OK);
  fz_hash_int(&h, (long)mail_mime_parser_defect_total(p));
  mail_mime_parser_free(p);
  return h.h;
}

/* ----------------------------------------------------------------- tree */

/* The tree's allocator: decoded bodies go back through it. */
static const mail_allocator *tree_alloc;

typedef struct sink {
  const unsigned char *expect;
  size_t len, at;
} sink;

static int compare_sink(void *user, const void *data, size_t len)
{
  sink *s = user;
  FZ_ASSERT(len <= s->len - s->at && memcmp(s->expect + s->at, data, len) == 0);
  s->at += len;
  return 0;
}

static void check_fields(mail_mime_part *part)
{
  static const char *const addr_fields[] = {"From", "To", "Cc", "Reply-To"};
  for (size_t i = 0; i < 4; i++) {
    const char *v = mail_mime_part_header(part, addr_fields[i]);
    if (!v)
      continue;
    for (unsigned strict = 0; strict < 2; strict++) {
      mail_address_list *l = NULL;
      unsigned defects = 0;
      int rc = mail_address_list_parse(&l, v, strlen(v), strict ? MAIL_ADDR_STRICT : 0, &defects,
                                       NULL);
      FZ_ASSERT(rc == MAIL_OK || (strict && rc == MAIL_ERR_SYNTAX));
      if (rc == MAIL_OK) {
        for (size_t j = 0; j < mail_address_list_count(l); j++) {
          const mail_address *a = mail_address_list_get(l, j);
          FZ_ASSERT(a && a->mailbox && a->local);
        }
        FZ_ASSERT(mail_address_list_get(l, mail_address_list_count(l)) == NULL);
      }
      mail_address_list_free(l);
    }
  }
  const char *d = mail_mime_part_header(part, "Date");
  if (d) {
    int64_t when;
    int zone;
    if (mail_date_parse(d, strlen(d), &when, &zone) == MAIL_OK)
      FZ_ASSERT(zone >= -(99 * 60 + 59) && zone <= 99 * 60 + 59); /* RFC 5322: -9959..+9959 */
  }
  static const char *const id_fields[] = {"Message-ID", "References", "In-Reply-To"};
  for (size_t i = 0; i < 3; i++) {
    const char *v = mail_mime_part_header(part, id_fields[i]);
    if (!v)
      continue;
    mail_msgid_list *l = NULL;
    FZ_ASSERT(mail_msgid_list_parse(&l, v, strlen(v), NULL, NULL) == MAIL_OK);
    for (size_t j = 0; j < mail_msgid_list_count(l); j++)
      FZ_ASSERT(mail_msgid_list_get(l, j) != NULL);
    mail_msgid_list_free(l);
  }
  (void)mail_mime_part_header_decoded(part, "Subject");
  (void)mail_mime_part_header_decoded(part, "From");
}

static void check_safe_name(const char *name)
{
  char *safe = mail_mime_safe_filename(name, NULL);
  FZ_ASSERT(safe);
  size_t n = strlen(safe);
  FZ_ASSERT(n > 0 && n <= 255);
  FZ_ASSERT(!strchr(safe, '/') && !strchr(safe, '\\') && safe[0] != '.');
  for (size_t i = 0; i < n; i++)
    FZ_ASSERT((unsigned char)safe[i] >= 0x20 && safe[i] != 0x7f);
  mail_free(safe);
}

static void check_report(const char *ct, const unsigned char *body, size_t len)
{
  if (!strcmp(ct, "message/delivery-status") || !strcmp(ct, "message/global-delivery-status")) {
    mail_dsn *dsn = NULL;
    int rc = mail_dsn_parse(&dsn, body, len, NULL);
    FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_SYNTAX);
    if (rc == MAIL_OK) {
      size_t n = mail_dsn_recipient_count(dsn);
      FZ_ASSERT(n > 0);
      for (size_t i = 0; i < n; i++) {
        const mail_dsn_recipient *r = mail_dsn_recipient_get(dsn, i);
        FZ_ASSERT(r);
        FZ_ASSERT(r->status_class == 0 || r->status_class == 2 || r->status_class == 4 ||
                  r->status_class == 5);
      }
      (void)mail_dsn_reporting_mta(dsn);
    }
    mail_dsn_free(dsn);
  } else if (!strcmp(ct, "message/disposition-notification")) {
    mail_mdn *mdn = NULL;
    int rc = mail_mdn_parse(&mdn, body, len, NULL);
    FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_SYNTAX);
    if (rc == MAIL_OK)
      FZ_ASSERT(mdn->disposition && mdn->final_recipient);
    mail_mdn_free(mdn);
  }
}

static void walk(mail_mime_part *part, unsigned decode_flags, size_t src_len, unsigned depth)
{
  FZ_ASSERT(depth < 200);
  uint64_t hs, bs, be;
  mail_mime_part_offsets(part, &hs, &bs, &be);
  FZ_ASSERT(hs <= bs && bs <= be && be <= src_len);
  FZ_ASSERT(mail_mime_part_content_type(part) && mail_mime_part_path(part));
  (void)mail_mime_part_type_param(part, "charset");
  (void)mail_mime_part_type_param(part, "boundary");
  (void)mail_mime_part_disposition(part);
  (void)mail_mime_part_disposition_param(part, "filename");
  (void)mail_mime_part_charset(part);
  (void)mail_mime_part_encoding_name(part);
  size_t nh = mail_mime_part_header_count(part);
  for (size_t i = 0; i < nh; i++) {
    const char *name, *raw;
    size_t raw_len;
    FZ_ASSERT(mail_mime_part_header_at(part, i, &name, &raw, &raw_len) == MAIL_OK);
    FZ_ASSERT(name && raw && raw[raw_len] == 0);
  }
  FZ_ASSERT(mail_mime_part_header_at(part, nh, NULL, NULL, NULL) == MAIL_ERR_NOT_FOUND);
  for (size_t i = 0; i < mail_mime_part_defect_count(part); i++) {
    int kind;
    uint64_t off;
    FZ_ASSERT(mail_mime_part_defect(part, i, &kind, &off) == MAIL_OK);
    FZ_ASSERT(off <= src_len && *mail_mime_defect_name(kind));
  }
  const char *fn = mail_mime_part_filename(part);
  if (fn)
    check_safe_name(fn);
  check_fields(part);

  size_t nc = mail_mime_part_child_count(part);
  if (mail_mime_part_is_multipart(part) || mail_mime_part_is_message(part)) {
    for (size_t i = 0; i < nc; i++) {
      mail_mime_part *c = mail_mime_part_child(part, i);
      FZ_ASSERT(c && mail_mime_part_parent(c) == part);
      FZ_ASSERT(mail_mime_part_depth(c) == mail_mime_part_depth(part) + 1);
      walk(c, decode_flags, src_len, depth + 1);
    }
  }
  if (mail_mime_part_is_multipart(part))
    return;
  unsigned char *out = NULL;
  size_t len = 0;
  int rc = mail_mime_part_decode(part, decode_flags, &out, &len);
  if (rc == MAIL_ERR_INVALID && nc) /* a message part with a child */
    return;
  FZ_ASSERT(rc == MAIL_OK && out && out[len] == 0);
  sink s = {out, len, 0};
  FZ_ASSERT(mail_mime_part_decode_cb(part, decode_flags, compare_sink, &s) == MAIL_OK);
  FZ_ASSERT(s.at == len);
  check_report(mail_mime_part_content_type(part), out, len);
  mail_free(out);
}

typedef struct outbuf {
  unsigned char *p;
  size_t len, cap;
} outbuf;

static int collect(void *user, const void *data, size_t len)
{
  outbuf *o = user;
  if (o->len + len > o->cap) {
    size_t cap = (o->len + len) * 2 + 64;
    unsigned char *p = realloc(o->p, cap);
    FZ_ASSERT(p);
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, data, len);
  o->len += len;
  return 0;
}

static void round_trip(const uint8_t *msg, size_t len, unsigned flags, const mail_mime_limits *lim)
{
  mail_mime_message *m = NULL;
  FZ_ASSERT(mail_mime_message_parse(&m, msg, len, flags, lim, NULL) == MAIL_OK);
  outbuf o = {0};
  FZ_ASSERT(mail_mime_message_write(m, collect, &o) == MAIL_OK);
  FZ_ASSERT(o.len == len && (len == 0 || memcmp(o.p, msg, len) == 0));

  /* One edit: a header set on the root shows up when read back. */
  mail_mime_part *root = mail_mime_message_root(m);
  int rc = mail_mime_part_set_header(root, "X-Fuzz-Edit", "edited value");
  FZ_ASSERT(rc == MAIL_OK);
  o.len = 0;
  FZ_ASSERT(mail_mime_message_write(m, collect, &o) == MAIL_OK);
  mail_mime_message_free(m);
  m = NULL;
  /* Default limits: tiny ones could skip the added field. */
  FZ_ASSERT(mail_mime_message_parse(&m, o.p, o.len, flags & ~MAIL_MIME_BORROW, NULL, NULL) ==
            MAIL_OK);
  const char *v = mail_mime_part_header(mail_mime_message_root(m), "X-Fuzz-Edit");
  FZ_ASSERT(v && strstr(v, "edited value"));
  mail_mime_message_free(m);
  free(o.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  unsigned sel = data[0], seed = data[1];
  const uint8_t *msg = data + 2;
  size_t len = size - 2;
  unsigned flags = 0;
  if (sel & 1)
    flags |= MAIL_MIME_TO_UTF8;
  if (sel & 2)
    flags |= MAIL_MIME_RAW_BODY;
  if (sel & 4)
    flags |= MAIL_MIME_MBOX_FROM;
  if (sel & 8)
    flags |= MAIL_MIME_CHECK_HEADERS;
  mail_mime_limits tiny, *lim = NULL;
  if (sel & 16) {
    mail_mime_limits_default(&tiny);
    tiny.max_depth = 3;
    tiny.max_parts = 5;
    tiny.max_headers = 6;
    tiny.max_header_length = 60;
    tiny.max_header_block = 200;
    tiny.max_decoded = 100;
    tiny.max_defects = 4;
    lim = &tiny;
  }

  /* Streaming: any split gives the same events. */
  uint64_t whole = stream(msg, len, flags, lim, -1);
  uint64_t split = stream(msg, len, flags, lim, (int)seed);
  FZ_ASSERT(whole == split);

  /* Tree, with an allocation failure when asked. */
  unsigned tflags = flags & ~MAIL_MIME_RAW_BODY & ~MAIL_MIME_TO_UTF8;
  if (sel & 64)
    tflags |= MAIL_MIME_BORROW;
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  if (sel & 32)
    mail_test_alloc_fail_at(&ta, 1u + seed, 0);
  mail_mime_message *m = NULL;
  tree_alloc = mail_test_alloc_hooks(&ta);
  int rc = mail_mime_message_parse(&m, msg, len, tflags, lim, tree_alloc);
  if (rc == MAIL_OK) {
    /* Decoding may fail for memory only when a failure was injected. */
    mail_mime_part *root = mail_mime_message_root(m);
    FZ_ASSERT(root && mail_mime_part_parent(root) == NULL);
    size_t src_len;
    FZ_ASSERT(mail_mime_message_source(m, &src_len) && src_len == len);
    if (!(sel & 32))
      walk(root, flags & MAIL_MIME_TO_UTF8, len, 0);
    for (size_t i = 0; i < mail_mime_message_defect_count(m); i++)
      FZ_ASSERT(mail_mime_message_defect(m, i, NULL, NULL, NULL) == MAIL_OK);
    mail_mime_message_free(m);
  } else {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM && ta.failures);
  }
  FZ_ASSERT(ta.live == 0);
  mail_test_alloc_cleanup(&ta);

  round_trip(msg, len, tflags, lim);
  return 0;
}

/* The tree API: the streaming parser run over a buffer with the parts
 * kept, and transfer decoding of a leaf on demand from the source. */
#include <string.h>

#include "core/handout.h"
#include "core/mem.h"
#include "mime/charset_internal.h"
#include "mime/mime_internal.h"

struct mail_mime_message {
  mail_mime_parser *parser;
  unsigned char *owned;
};

int mail_mime_message_parse(mail_mime_message **out, const void *data, size_t len,
                            unsigned int flags, const mail_mime_limits *limits,
                            const mail_allocator *alloc)
{
  if (!out || (!data && len))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_mime_parser *p;
  int rc = mail_mime_parser_new(&p, alloc);
  if (rc)
    return rc;
  if (limits && (rc = mail_mime_parser_set_limits(p, limits))) {
    mail_mime_parser_free(p);
    return rc;
  }
  p->flags = flags & (MAIL_MIME_HEADERS_ONLY | MAIL_MIME_MBOX_FROM | MAIL_MIME_CHECK_HEADERS);
  p->keep_tree = 1;
  mail_mime_message *m = mail_calloc(&p->alloc, 1, sizeof *m);
  if (!m) {
    mail_mime_parser_free(p);
    return MAIL_ERR_NOMEM;
  }
  m->parser = p;
  if (flags & MAIL_MIME_BORROW) {
    p->src = data;
  } else {
    m->owned = mail_malloc(&p->alloc, len ? len : 1);
    if (!m->owned) {
      mail_mime_message_free(m);
      return MAIL_ERR_NOMEM;
    }
    if (len)
      memcpy(m->owned, data, len);
    p->src = m->owned;
  }
  p->src_len = len;
  rc = mail_mime_parser_feed(p, p->src ? p->src : (const unsigned char *)"", len);
  if (rc == MAIL_OK)
    rc = mail_mime_parser_finish(p);
  if (rc) {
    mail_mime_message_free(m);
    return rc;
  }
  *out = m;
  return MAIL_OK;
}

void mail_mime_message_free(mail_mime_message *m)
{
  if (!m)
    return;
  mail_mime_parser *p = m->parser;
  mail_allocator a = p->alloc;
  mail_dealloc(&a, m->owned);
  mail_mime_parser_free(p);
  mail_dealloc(&a, m);
}

mail_mime_part *mail_mime_message_root(const mail_mime_message *m)
{
  return m ? m->parser->root : NULL;
}

const unsigned char *mail_mime_message_source(const mail_mime_message *m, size_t *len)
{
  if (len)
    *len = m ? m->parser->src_len : 0;
  return m ? m->parser->src : NULL;
}

size_t mail_mime_message_defect_count(const mail_mime_message *m)
{
  return m ? m->parser->ndefs : 0;
}

int mail_mime_message_defect(const mail_mime_message *m, size_t i, int *kind, uint64_t *offset,
                             const mail_mime_part **part)
{
  if (!m || i >= m->parser->ndefs)
    return MAIL_ERR_NOT_FOUND;
  const mime_defect_rec *d = &m->parser->defs[i];
  if (kind) *kind = d->kind;
  if (offset) *offset = d->offset;
  if (part) *part = d->part;
  return MAIL_OK;
}

typedef struct decode_ctx {
  mail_mime_part *part;
  mail_write_fn fn;
  void *user;
  int failed;
} decode_ctx;

static int ctx_sink(void *user, const unsigned char *data, size_t len)
{
  decode_ctx *c = user;
  if (c->fn(c->user, data, len)) {
    c->failed = 1;
    return 1;
  }
  return 0;
}

static void ctx_defect(void *user, int kind)
{
  decode_ctx *c = user;
  if (!c->part->decoded_once)
    mime_defect(c->part->parser, c->part, kind, c->part->body_start);
}

static int buf_sink(void *user, const void *data, size_t len)
{
  return mail_buf_append(user, data, len) ? 1 : 0;
}

/* Text parts converted to UTF-8 go through a buffer: iconv needs whole
 * characters, and the tree holds the message in memory anyway. */
static int decode_to_utf8(mail_mime_part *part, mail_write_fn fn, void *user)
{
  mail_mime_parser *p = part->parser;
  mail_buf raw, conv;
  mail_buf_init(&raw, &p->alloc, 0);
  mail_buf_init(&conv, &p->alloc, 0);
  int rc = mail_mime_part_decode_cb(part, 0, buf_sink, &raw);
  if (rc == MAIL_OK) {
    unsigned int replaced = 0;
    int crc = mime_append_converted(&conv, mail_mime_part_charset(part),
                                    raw.data ? raw.data : (const unsigned char *)"", raw.len, &replaced);
    if (replaced && !part->decoded_utf8_once)
      mime_defect(p, part, MAIL_MIME_DEFECT_UNDECODABLE_BYTES, part->body_start);
    if (crc == MAIL_ERR_CHARSET && part->decoded_utf8_once)
      crc = MAIL_OK;
    part->decoded_utf8_once = 1;
    if (crc == MAIL_ERR_CHARSET)
      mime_defect(p, part, MAIL_MIME_DEFECT_UNKNOWN_CHARSET, part->body_start);
    else if (crc)
      rc = crc;
  }
  if (rc == MAIL_OK && conv.len && fn(user, conv.data, conv.len))
    rc = MAIL_ERR_CALLBACK;
  mail_buf_free(&raw);
  mail_buf_free(&conv);
  return rc;
}

int mail_mime_part_decode_cb(mail_mime_part *part, unsigned int flags,
                             mail_write_fn fn, void *user)
{
  if (!part || !fn || !part->parser->src || part->is_multipart)
    return MAIL_ERR_INVALID;
  if ((flags & MAIL_MIME_TO_UTF8) && !strncmp(part->ctype, "text/", 5))
    return decode_to_utf8(part, fn, user);
  mail_mime_parser *p = part->parser;
  const unsigned char *src = p->src;
  uint64_t b = part->body_start, e = part->body_end;
  if (e > p->src_len) e = p->src_len;
  if (b > e) b = e;
  mime_decoder dec;
  mime_decoder_init(&dec, (flags & MAIL_MIME_RAW_BODY) ? MAIL_MIME_ENC_BINARY : part->enc);
  decode_ctx c = {part, fn, user, 0};
  mime_decoder_feed(&dec, src + b, (size_t)(e - b), ctx_sink, &c);
  if (!c.failed)
    mime_decoder_finish(&dec, ctx_sink, &c, ctx_defect, &c);
  part->decoded_once = 1;
  return c.failed ? MAIL_ERR_CALLBACK : MAIL_OK;
}

int mail_mime_part_decode(mail_mime_part *part, unsigned int flags, unsigned char **out, size_t *len)
{
  if (!part || !out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (len)
    *len = 0;
  mail_mime_parser *p = part->parser;
  mail_buf b;
  mail_buf_init(&b, &p->alloc, 0);
  /* Reserve once what the decoded body can take at most: base64 shrinks
   * to 3/4, the other encodings never grow. */
  size_t enc = (size_t)(part->body_end - part->body_start);
  size_t want = part->enc == MAIL_MIME_ENC_BASE64 && !(flags & MAIL_MIME_RAW_BODY) ? enc / 4 * 3 + 3 : enc;
  /* The buffer becomes the caller's as it is: room for its header first. */
  if (mail_handout_begin(&b))
    return MAIL_ERR_NOMEM;
  if (!(flags & MAIL_MIME_TO_UTF8) && mail_buf_reserve(&b, want + 3)) {
    mail_buf_free(&b);
    return MAIL_ERR_NOMEM;
  }
  int rc;
  if (part->enc == MAIL_MIME_ENC_BASE64 && !(flags & (MAIL_MIME_TO_UTF8 | MAIL_MIME_RAW_BODY)) &&
      p->src && !part->is_multipart) {
    /* The common large case: decode straight into the reserved buffer. */
    mail_b64_stream st;
    mail_b64_stream_init(&st);
    uint64_t e = part->body_end > p->src_len ? p->src_len : part->body_end;
    uint64_t s = part->body_start > e ? e : part->body_start;
    b.len += mail_b64_stream_decode(&st, p->src + s, (size_t)(e - s), b.data + b.len);
    unsigned int pending = st.nacc;
    b.len += mail_b64_stream_finish(&st, b.data + b.len);
    if (!part->decoded_once) {
      if (st.garbage)
        mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_BASE64_CHARACTERS, part->body_start);
      if (st.incomplete)
        mime_defect(p, part, pending == 1 ? MAIL_MIME_DEFECT_INVALID_BASE64_LENGTH
                                          : MAIL_MIME_DEFECT_INVALID_BASE64_PADDING,
                    part->body_start);
    }
    part->decoded_once = 1;
    rc = MAIL_OK;
  } else {
    rc = mail_mime_part_decode_cb(part, flags, buf_sink, &b);
  }
  if (rc == MAIL_ERR_CALLBACK)
    rc = MAIL_ERR_NOMEM;
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(&b, 0);
  if (rc) {
    mail_buf_free(&b);
    return rc;
  }
  size_t n;
  *out = mail_handout_finish(&b, &n);
  if (len)
    *len = n - 1;
  return MAIL_OK;
}

/* SMTP/LMTP replies: line grammar, reply accumulation, the public
 * incremental parser and EHLO capability lists. */
#include "parse/smtp_reply.h"

#include <string.h>

#include "core/limits.h"
#include "core/mem.h"
#include "core/reader.h"

struct smtp_line_rec {
  size_t off;  /* in reply->text */
  size_t len;
  int has_enhanced;
  unsigned int enh[3];
};

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

/* 1 to 3 digits at s[*i]; advances *i. */
static int enh_number(const unsigned char *s, size_t n, size_t *i, unsigned int *v)
{
  size_t start = *i;
  unsigned int x = 0;
  while (*i < n && *i - start < 3 && is_digit(s[*i]))
    x = x * 10 + (unsigned int)(s[(*i)++] - '0');
  if (*i == start || (*i < n && is_digit(s[*i])))
    return 0;
  *v = x;
  return 1;
}

/* An RFC 3463 code at the start of s whose class is cls; its length, or 0. */
static size_t enhanced_code(const unsigned char *s, size_t n, int cls, unsigned int enh[3])
{
  if (n < 5 || s[0] != (unsigned char)('0' + cls) || s[1] != '.')
    return 0;
  if (cls != 2 && cls != 4 && cls != 5)
    return 0;
  size_t i = 2;
  if (!enh_number(s, n, &i, &enh[1]) || i >= n || s[i] != '.')
    return 0;
  i++;
  if (!enh_number(s, n, &i, &enh[2]))
    return 0;
  if (i < n && s[i] != ' ')
    return 0;
  enh[0] = (unsigned int)cls;
  return i;
}

int mail_smtp_line_parse(const char *line, size_t len, int enhanced, mail_smtp_line *out)
{
  const unsigned char *s = (const unsigned char *)line;
  if (len < 3 || s[0] < '1' || s[0] > '5' || !is_digit(s[1]) || !is_digit(s[2]))
    return MAIL_ERR_PROTOCOL;
  if (memchr(s, 0, len))
    return MAIL_ERR_PROTOCOL;
  out->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  out->has_enhanced = 0;
  if (len == 3) {
    out->last = 1;
    out->text = line + 3;
    out->text_len = 0;
    return MAIL_OK;
  }
  if (s[3] == ' ')
    out->last = 1;
  else if (s[3] == '-')
    out->last = 0;
  else
    return MAIL_ERR_PROTOCOL;
  size_t i = 4;
  if (enhanced) {
    size_t k = enhanced_code(s + i, len - i, s[0] - '0', out->enh);
    if (k) {
      out->has_enhanced = 1;
      i += k;
      while (i < len && s[i] == ' ')
        i++;
    }
  }
  out->text = line + i;
  out->text_len = len - i;
  return MAIL_OK;
}

/* ------------------------------------------------------------ replies */

static void reply_init(mail_smtp_reply *r, const mail_allocator *alloc)
{
  memset(r, 0, sizeof *r);
  r->alloc = alloc;
  mail_buf_init(&r->text, alloc, 0);
  mail_buf_init(&r->lines, alloc, 0);
  mail_buf_init(&r->joined, alloc, 0);
}

/* Storage a reply keeps for the next one; what a long reply (a help
 * text, a hostile server's thousand lines) made grow beyond it is given
 * back when the accumulator takes its next reply, so a session holds at
 * most its last reply at full size. */
#define SMTP_REPLY_KEEP 2048

static void buf_clear_or_free(mail_buf *b)
{
  if (b->cap > SMTP_REPLY_KEEP)
    mail_buf_free(b);
  else
    mail_buf_clear(b);
}

static void reply_clear(mail_smtp_reply *r)
{
  buf_clear_or_free(&r->text);
  buf_clear_or_free(&r->lines);
  buf_clear_or_free(&r->joined);
  r->joined_ok = 0; /* rebuilt only if asked for again */
  r->nlines = 0;
  r->code = 0;
  r->has_enhanced = 0;
  r->complete = 0;
}

static void reply_release(mail_smtp_reply *r)
{
  mail_buf_free(&r->text);
  mail_buf_free(&r->lines);
  mail_buf_free(&r->joined);
  r->joined_ok = 0;
  r->nlines = 0;
  r->complete = 0;
}

static const struct smtp_line_rec *line_rec(const mail_smtp_reply *r, size_t i)
{
  return (const struct smtp_line_rec *)(const void *)r->lines.data + i;
}

/* Build the joined text, the lines' text with LF where the NULs were, the
 * first time it is asked for: most replies are only ever looked at line by
 * line, so their text is held once. */
static int reply_join(const mail_smtp_reply *cr)
{
  mail_smtp_reply *r = (mail_smtp_reply *)cr; /* joined is a cache */
  if (r->joined_ok)
    return MAIL_OK;
  mail_buf_clear(&r->joined);
  int rc = mail_buf_append(&r->joined, r->text.data, r->text.len);
  if (rc)
    return rc;
  for (size_t i = 0; i + 1 < r->nlines; i++) {
    const struct smtp_line_rec *l = line_rec(r, i);
    r->joined.data[l->off + l->len] = '\n';
  }
  /* text ends with the last line's NUL; drop it from the count. */
  if (r->joined.len)
    r->joined.len--;
  rc = mail_buf_terminate(&r->joined);
  r->joined_ok = rc == MAIL_OK;
  return rc;
}

void mail_smtp_acc_init(mail_smtp_acc *a, const mail_allocator *alloc, const mail_limits *limits)
{
  if (!limits)
    limits = mail_limits_builtin();
  reply_init(&a->reply, alloc);
  a->limits = limits;
  a->sink = a->cur_sink = NULL;
  a->lines_seen = 0;
  a->enhanced = 0;
  a->cur_enhanced = 0;
  a->in_reply = 0;
  a->complete = 0;
}

void mail_smtp_acc_free(mail_smtp_acc *a)
{
  reply_release(&a->reply);
  a->in_reply = a->complete = 0;
}

void mail_smtp_acc_reset(mail_smtp_acc *a)
{
  reply_clear(&a->reply);
  a->in_reply = a->complete = 0;
}

int mail_smtp_acc_line(mail_smtp_acc *a, const char *line, size_t len)
{
  mail_smtp_reply *r = &a->reply;
  if (a->complete || !a->in_reply) {
    reply_clear(r);
    a->complete = 0;
    a->cur_enhanced = a->enhanced;
    a->cur_sink = a->sink;
    a->lines_seen = 0;
  }
  mail_smtp_line l;
  int rc = mail_smtp_line_parse(line, len, a->cur_enhanced, &l);
  if (rc)
    return rc;
  if (a->in_reply && l.code != r->code)
    return MAIL_ERR_PROTOCOL;
  const mail_limits *lim = a->limits;
  if (a->lines_seen >= mail_limits_lines(lim))
    return MAIL_ERR_LIMIT;
  a->lines_seen++;
  if (a->in_reply && a->cur_sink) {
    /* A capability line: into the set, which has the same bounds. */
    rc = mail_capset_add_line(a->cur_sink, l.text, l.text_len);
    if (rc)
      return rc;
  } else {
    /* The text of the reply, NULs included, stays within max_response. */
    if (l.text_len >= lim->max_response || r->text.len > lim->max_response - l.text_len - 1)
      return MAIL_ERR_LIMIT;
    struct smtp_line_rec rec = {r->text.len, l.text_len, l.has_enhanced,
                                {l.enh[0], l.enh[1], l.enh[2]}};
    rc = mail_buf_append(&r->text, l.text, l.text_len);
    if (!rc)
      rc = mail_buf_append_byte(&r->text, 0);
    if (!rc)
      rc = mail_buf_append(&r->lines, &rec, sizeof rec);
    if (rc)
      return rc;
    r->nlines++;
  }
  if (!a->in_reply) {
    r->code = l.code;
    a->in_reply = 1;
    if (a->cur_sink)
      mail_capset_clear(a->cur_sink);
  }
  if (l.has_enhanced && !r->has_enhanced) {
    r->has_enhanced = 1;
    memcpy(r->enh, l.enh, sizeof r->enh);
  }
  if (!l.last)
    return MAIL_ERR_AGAIN;
  r->complete = 1;
  a->in_reply = 0;
  a->complete = 1;
  return MAIL_OK;
}

int mail_smtp_reply_code(const mail_smtp_reply *r)
{
  return r ? r->code : 0;
}

static int out_enh(const unsigned int enh[3], unsigned int *c, unsigned int *s, unsigned int *d)
{
  if (c)
    *c = enh[0];
  if (s)
    *s = enh[1];
  if (d)
    *d = enh[2];
  return MAIL_OK;
}

int mail_smtp_reply_enhanced(const mail_smtp_reply *r, unsigned int *cls, unsigned int *subject,
                             unsigned int *detail)
{
  if (!r || !r->has_enhanced)
    return MAIL_ERR_NOT_FOUND;
  return out_enh(r->enh, cls, subject, detail);
}

size_t mail_smtp_reply_line_count(const mail_smtp_reply *r)
{
  return r ? r->nlines : 0;
}

const char *mail_smtp_reply_line(const mail_smtp_reply *r, size_t i, size_t *len)
{
  if (!r || i >= r->nlines)
    return NULL;
  const struct smtp_line_rec *l = line_rec(r, i);
  if (len)
    *len = l->len;
  return (const char *)r->text.data + l->off;
}

int mail_smtp_reply_line_enhanced(const mail_smtp_reply *r, size_t i, unsigned int *cls,
                                  unsigned int *subject, unsigned int *detail)
{
  if (!r || i >= r->nlines || !line_rec(r, i)->has_enhanced)
    return MAIL_ERR_NOT_FOUND;
  return out_enh(line_rec(r, i)->enh, cls, subject, detail);
}

const char *mail_smtp_reply_text(const mail_smtp_reply *r, size_t *len)
{
  if (!r || !r->complete || reply_join(r) != MAIL_OK)
    return NULL;
  if (len)
    *len = r->joined.len;
  return (const char *)r->joined.data;
}

int mail_smtp_reply_copy_text(const mail_smtp_reply *r, char *buf, size_t size, size_t *needed)
{
  if (!r || !r->complete || !buf)
    return MAIL_ERR_INVALID;
  int rc = reply_join(r);
  if (rc)
    return rc;
  size_t need = r->joined.len + 1;
  if (needed)
    *needed = need;
  if (size < need)
    return MAIL_ERR_BUFFER;
  memcpy(buf, r->joined.data, need);
  return MAIL_OK;
}

int mail_smtp_reply_clone(mail_smtp_reply **out, const mail_smtp_reply *r,
                          const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (!r || !r->complete || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp_reply *c = mail_malloc(&a, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  reply_init(c, NULL);
  c->own_alloc = a;
  c->alloc = &c->own_alloc;
  mail_buf_init(&c->text, c->alloc, 0);
  mail_buf_init(&c->lines, c->alloc, 0);
  mail_buf_init(&c->joined, c->alloc, 0);
  c->owned = 1;
  c->complete = 1;
  c->code = r->code;
  c->has_enhanced = r->has_enhanced;
  memcpy(c->enh, r->enh, sizeof c->enh);
  c->nlines = r->nlines;
  int rc = mail_buf_append(&c->text, r->text.data, r->text.len);
  if (!rc)
    rc = mail_buf_append(&c->lines, r->lines.data, r->lines.len);
  if (rc) {
    mail_smtp_reply_free(c);
    return rc;
  }
  *out = c;
  return MAIL_OK;
}

void mail_smtp_reply_free(mail_smtp_reply *r)
{
  if (!r || !r->owned)
    return;
  reply_release(r);
  mail_allocator a = r->own_alloc;
  mail_dealloc(&a, r);
}

/* ------------------------------------------------------------- parser */

struct mail_smtp_parser {
  mail_allocator alloc;
  mail_limits limits;
  mail_reader reader;
  mail_smtp_acc acc;
  int enhanced;
  int err;      /* sticky error, 0 when running */
  int started;  /* bytes were fed since creation or reset */
};

/* Unread input may hold one maximal line plus one maximal reply. */
static void set_reader_limit(mail_smtp_parser *p)
{
  size_t lim = p->limits.max_line + p->limits.max_response;
  p->reader.buf.limit = lim < p->limits.max_line ? SIZE_MAX : lim;
}

int mail_smtp_parser_new(mail_smtp_parser **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp_parser *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  mail_limits_defaults(&p->limits);
  mail_reader_init(&p->reader, &p->alloc, p->limits.max_line);
  set_reader_limit(p);
  mail_smtp_acc_init(&p->acc, &p->alloc, &p->limits);
  *out = p;
  return MAIL_OK;
}

void mail_smtp_parser_free(mail_smtp_parser *p)
{
  if (!p)
    return;
  mail_reader_free(&p->reader);
  mail_smtp_acc_free(&p->acc);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

int mail_smtp_parser_set_limits(mail_smtp_parser *p, const mail_limits *l)
{
  mail_limits lim;
  if (!p || mail_limits_import(&lim, l) != MAIL_OK)
    return MAIL_ERR_INVALID;
  if (p->started)
    return MAIL_ERR_STATE;
  p->limits = lim; /* the accumulator reads them from here */
  p->reader.max_line = lim.max_line;
  set_reader_limit(p);
  return MAIL_OK;
}

int mail_smtp_parser_set_enhanced_codes(mail_smtp_parser *p, int on)
{
  if (!p)
    return MAIL_ERR_INVALID;
  p->acc.enhanced = on != 0;
  return MAIL_OK;
}

int mail_smtp_parser_feed(mail_smtp_parser *p, const void *data, size_t len)
{
  if (!p || (!data && len))
    return MAIL_ERR_INVALID;
  if (p->err)
    return p->err;
  p->started = 1;
  int rc = mail_reader_feed(&p->reader, data, len);
  if (rc)
    p->err = rc;
  return rc;
}

void mail_smtp_parser_end(mail_smtp_parser *p)
{
  if (p)
    mail_reader_set_eof(&p->reader);
}

int mail_smtp_parser_next(mail_smtp_parser *p, const mail_smtp_reply **reply)
{
  if (!p || !reply)
    return MAIL_ERR_INVALID;
  *reply = NULL;
  if (p->err)
    return p->err;
  for (;;) {
    const char *line;
    size_t len;
    int rc = mail_reader_line(&p->reader, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED && !p->acc.in_reply && mail_reader_pending(&p->reader) == 0)
      return rc; /* a clean end between replies: not an error state */
    if (!rc)
      rc = mail_smtp_acc_line(&p->acc, line, len);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      p->err = rc;
      return rc;
    }
    *reply = &p->acc.reply;
    return MAIL_OK;
  }
}

void mail_smtp_parser_reset(mail_smtp_parser *p)
{
  if (!p)
    return;
  mail_reader_reset(&p->reader);
  mail_smtp_acc_reset(&p->acc);
  p->err = 0;
  p->started = 0;
}

size_t mail_smtp_parser_pending(const mail_smtp_parser *p)
{
  return p ? mail_reader_pending(&p->reader) : 0;
}

/* ----------------------------------------------------------- EHLO caps */

struct mail_smtp_caps {
  mail_allocator alloc;
  mail_capset set;
};

int mail_smtp_caps_from_reply(mail_capset *c, const mail_smtp_reply *r)
{
  mail_capset_clear(c);
  if (r->code / 100 != 2)
    return MAIL_ERR_SERVER;
  for (size_t i = 1; i < r->nlines; i++) {
    const struct smtp_line_rec *l = line_rec(r, i);
    int rc = mail_capset_add_line(c, (const char *)r->text.data + l->off, l->len);
    if (rc) {
      mail_capset_clear(c);
      return rc;
    }
  }
  return MAIL_OK;
}

int mail_smtp_caps_new(mail_smtp_caps **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp_caps *c = mail_malloc(&a, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  c->alloc = a;
  mail_capset_init(&c->set, &c->alloc, MAIL_CAPS_SMTP);
  *out = c;
  return MAIL_OK;
}

void mail_smtp_caps_free(mail_smtp_caps *c)
{
  if (!c)
    return;
  mail_capset_free(&c->set);
  mail_allocator a = c->alloc;
  mail_dealloc(&a, c);
}

mail_capset *mail_smtp_caps_capset(mail_smtp_caps *c)
{
  return &c->set;
}

void mail_smtp_caps_set_limits(mail_smtp_caps *c, const mail_limits *limits)
{
  mail_capset_set_limits(&c->set, limits);
}

int mail_smtp_caps_parse_ehlo(mail_smtp_caps *c, const mail_smtp_reply *ehlo)
{
  if (!c || !ehlo)
    return MAIL_ERR_INVALID;
  return mail_smtp_caps_from_reply(&c->set, ehlo);
}

size_t mail_smtp_caps_count(const mail_smtp_caps *c)
{
  return c ? mail_capset_count(&c->set) : 0;
}

const char *mail_smtp_caps_keyword(const mail_smtp_caps *c, size_t i)
{
  return c ? mail_capset_keyword(&c->set, i) : NULL;
}

size_t mail_smtp_caps_param_count(const mail_smtp_caps *c, size_t i)
{
  return c ? mail_capset_param_count(&c->set, i) : 0;
}

const char *mail_smtp_caps_param(const mail_smtp_caps *c, size_t i, size_t j)
{
  return c ? mail_capset_param(&c->set, i, j) : NULL;
}

int mail_smtp_caps_find(const mail_smtp_caps *c, const char *keyword, size_t *index)
{
  if (!c || !keyword)
    return MAIL_ERR_INVALID;
  return mail_capset_find(&c->set, keyword, index);
}

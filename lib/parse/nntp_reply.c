/* NNTP responses: status lines, the public incremental parser (data
 * blocks unstuffed by core/dot.c), and the GROUP / article / DATE / active
 * line helpers. */
#include "parse/nntp_reply.h"

#include <string.h>

#include "core/civil.h"
#include "core/dot.h"
#include "core/limits.h"
#include "core/mem.h"
#include "core/reader.h"
#include "parse/block_parser.h"

/* ------------------------------------------------------- status lines */

void mail_nntp_reply_init(mail_nntp_reply *r, const mail_allocator *alloc)
{
  memset(r, 0, sizeof *r);
  mail_buf_init(&r->text, alloc, 0);
}

void mail_nntp_reply_release(mail_nntp_reply *r)
{
  mail_buf_free(&r->text);
  r->code = 0;
}

int mail_nntp_reply_parse(mail_nntp_reply *r, const char *line, size_t len)
{
  const unsigned char *s = (const unsigned char *)line;
  r->code = 0;
  if (len < 3 || s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' ||
      s[2] > '9' || (len > 3 && s[3] != ' ') || memchr(s, 0, len))
    return MAIL_ERR_PROTOCOL;
  size_t i = len > 3 ? 4 : 3;
  mail_buf_clear(&r->text);
  int rc = mail_buf_append(&r->text, s + i, len - i);
  if (!rc)
    rc = mail_buf_terminate(&r->text);
  if (rc)
    return rc;
  r->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
  return MAIL_OK;
}

int mail_nntp_code_has_block(int code)
{
  return code >= 100 && code < 300;
}

int mail_nntp_reply_code(const mail_nntp_reply *r)
{
  return r ? r->code : 0;
}

const char *mail_nntp_reply_text(const mail_nntp_reply *r, size_t *len)
{
  if (!r || !r->code)
    return NULL;
  if (len)
    *len = r->text.len;
  return (const char *)r->text.data;
}

int mail_nntp_reply_copy_text(const mail_nntp_reply *r, char *buf, size_t size, size_t *needed)
{
  if (!r || !r->code || !buf)
    return MAIL_ERR_INVALID;
  size_t n = r->text.len;
  if (needed)
    *needed = n + 1;
  if (size < n + 1)
    return MAIL_ERR_BUFFER;
  memcpy(buf, r->text.data, n + 1);
  return MAIL_OK;
}

int mail_nntp_reply_clone(mail_nntp_reply **out, const mail_nntp_reply *r,
                          const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (!r || !r->code || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_nntp_reply *c = mail_malloc(&a, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_nntp_reply_init(c, NULL);
  c->own_alloc = a;
  mail_buf_init(&c->text, &c->own_alloc, 0);
  c->owned = 1;
  int rc = mail_buf_append(&c->text, r->text.data, r->text.len);
  if (!rc)
    rc = mail_buf_terminate(&c->text);
  if (rc) {
    mail_nntp_reply_free(c);
    return rc;
  }
  c->code = r->code;
  *out = c;
  return MAIL_OK;
}

void mail_nntp_reply_free(mail_nntp_reply *r)
{
  if (!r || !r->owned)
    return;
  mail_nntp_reply_release(r);
  mail_allocator a = r->own_alloc;
  mail_dealloc(&a, r);
}

/* ------------------------------------------------------------- parser */

/* The public parser: the shared status-then-block machinery
 * (parse/block_parser.c) with NNTP's status lines. */
struct mail_nntp_parser {
  mail_allocator alloc;
  mail_block_parser b;
  mail_nntp_reply reply;
};

static int status_line(void *reply, const char *line, size_t len, int *block)
{
  mail_nntp_reply *r = reply;
  int rc = mail_nntp_reply_parse(r, line, len);
  *block = !rc && mail_nntp_code_has_block(r->code);
  return rc;
}

int mail_nntp_parser_new(mail_nntp_parser **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_nntp_parser *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  mail_block_parser_init(&p->b, &p->alloc);
  mail_nntp_reply_init(&p->reply, &p->alloc);
  *out = p;
  return MAIL_OK;
}

void mail_nntp_parser_free(mail_nntp_parser *p)
{
  if (!p)
    return;
  mail_block_parser_free(&p->b);
  mail_nntp_reply_release(&p->reply);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

int mail_nntp_parser_set_limits(mail_nntp_parser *p, const mail_limits *l)
{
  return p ? mail_block_parser_set_limits(&p->b, l) : MAIL_ERR_INVALID;
}

int mail_nntp_parser_expect(mail_nntp_parser *p, int mode)
{
  return p ? mail_block_parser_expect(&p->b, mode) : MAIL_ERR_INVALID;
}

int mail_nntp_parser_feed(mail_nntp_parser *p, const void *data, size_t len)
{
  return p ? mail_block_parser_feed(&p->b, data, len) : MAIL_ERR_INVALID;
}

void mail_nntp_parser_end(mail_nntp_parser *p)
{
  if (p)
    mail_block_parser_end(&p->b);
}

int mail_nntp_parser_next(mail_nntp_parser *p, int *event)
{
  if (!p || !event)
    return MAIL_ERR_INVALID;
  return mail_block_parser_next(&p->b, event, status_line, &p->reply);
}

const mail_nntp_reply *mail_nntp_parser_reply(const mail_nntp_parser *p)
{
  return p && p->b.have_reply ? &p->reply : NULL;
}

const unsigned char *mail_nntp_parser_data(const mail_nntp_parser *p, size_t *len)
{
  if (!p) {
    if (len)
      *len = 0;
    return NULL;
  }
  return mail_block_parser_data(&p->b, len);
}

void mail_nntp_parser_reset(mail_nntp_parser *p)
{
  if (p)
    mail_block_parser_reset(&p->b);
}

size_t mail_nntp_parser_pending(const mail_nntp_parser *p)
{
  return p ? mail_block_parser_pending(&p->b) : 0;
}

/* ------------------------------------------------------------ helpers */

int mail_nntp_number(const char *s, size_t n, size_t *i, uint64_t *v)
{
  size_t start = *i;
  uint64_t x = 0;
  while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < 16)
    x = x * 10 + (uint64_t)(s[(*i)++] - '0');
  if (*i == start || (*i < n && s[*i] != ' '))
    return 0;
  *v = x;
  return 1;
}

static void skip_spaces(const char *s, size_t n, size_t *i)
{
  while (*i < n && s[*i] == ' ')
    (*i)++;
}

/* A word (no space) at s[*i]: its start and length; 0 when empty. */
static int word(const char *s, size_t n, size_t *i, const char **w, size_t *wl)
{
  skip_spaces(s, n, i);
  size_t start = *i;
  while (*i < n && s[*i] != ' ' && s[*i] != '\t')
    (*i)++;
  if (*i == start)
    return 0;
  *w = s + start;
  *wl = *i - start;
  return 1;
}

int mail_nntp_parse_group(uint64_t *count, uint64_t *low, uint64_t *high, const char **group,
                          size_t *group_len, const char *text, size_t len)
{
  if (!count || !low || !high || !text)
    return MAIL_ERR_INVALID;
  size_t i = 0;
  uint64_t c, l, h;
  if (!mail_nntp_number(text, len, &i, &c))
    return MAIL_ERR_PROTOCOL;
  skip_spaces(text, len, &i);
  if (!mail_nntp_number(text, len, &i, &l))
    return MAIL_ERR_PROTOCOL;
  skip_spaces(text, len, &i);
  if (!mail_nntp_number(text, len, &i, &h))
    return MAIL_ERR_PROTOCOL;
  const char *g;
  size_t gl;
  if (!word(text, len, &i, &g, &gl))
    return MAIL_ERR_PROTOCOL;
  *count = c;
  *low = l;
  *high = h;
  if (group)
    *group = g;
  if (group_len)
    *group_len = gl;
  return MAIL_OK;
}

int mail_nntp_parse_article(uint64_t *number, const char **msgid, size_t *msgid_len,
                            const char *text, size_t len)
{
  if (!number || !msgid || !msgid_len || !text)
    return MAIL_ERR_INVALID;
  size_t i = 0;
  uint64_t num;
  if (!mail_nntp_number(text, len, &i, &num))
    return MAIL_ERR_PROTOCOL;
  const char *m;
  size_t ml;
  if (!word(text, len, &i, &m, &ml) || ml < 3 || m[0] != '<' || m[ml - 1] != '>')
    return MAIL_ERR_PROTOCOL;
  *number = num;
  *msgid = m;
  *msgid_len = ml;
  return MAIL_OK;
}

int mail_nntp_parse_date(int64_t *seconds, const char *text, size_t len)
{
  if (!seconds || !text)
    return MAIL_ERR_INVALID;
  unsigned v[6];
  static const unsigned width[6] = {4, 2, 2, 2, 2, 2};
  size_t i = 0;
  for (int k = 0; k < 6; k++) {
    v[k] = 0;
    for (unsigned w = 0; w < width[k]; w++, i++) {
      if (i >= len || text[i] < '0' || text[i] > '9')
        return MAIL_ERR_PROTOCOL;
      v[k] = v[k] * 10 + (unsigned)(text[i] - '0');
    }
  }
  if (i < len && text[i] != ' ')
    return MAIL_ERR_PROTOCOL;
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
    return MAIL_ERR_PROTOCOL;
  int64_t days = mail_days_from_civil(v[0], v[1], v[2]);
  *seconds = days * 86400 + (int64_t)v[3] * 3600 + (int64_t)v[4] * 60 + v[5];
  return MAIL_OK;
}

int mail_nntp_parse_active(const char **group, size_t *group_len, uint64_t *high, uint64_t *low,
                           const char **status, size_t *status_len, const char *line, size_t len)
{
  if (!group || !group_len || !high || !low || !status || !status_len || !line)
    return MAIL_ERR_INVALID;
  size_t i = 0;
  const char *g, *st;
  size_t gl, sl;
  uint64_t h, l;
  if (!word(line, len, &i, &g, &gl))
    return MAIL_ERR_PROTOCOL;
  skip_spaces(line, len, &i);
  if (!mail_nntp_number(line, len, &i, &h))
    return MAIL_ERR_PROTOCOL;
  skip_spaces(line, len, &i);
  if (!mail_nntp_number(line, len, &i, &l))
    return MAIL_ERR_PROTOCOL;
  if (!word(line, len, &i, &st, &sl))
    return MAIL_ERR_PROTOCOL;
  *group = g;
  *group_len = gl;
  *high = h;
  *low = l;
  *status = st;
  *status_len = sl;
  return MAIL_OK;
}

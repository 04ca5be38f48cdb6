/* POP3 responses: status lines with RESP-CODES, streamed dot-unstuffing,
 * the public incremental parser, and STAT/LIST/UIDL/CAPA helpers. */
#include "parse/pop3_reply.h"

#include <string.h>

#include "core/mem.h"
#include "core/reader.h"
#include "parse/block_parser.h"
#include "core/limits.h"
#include "parse/caps.h"

static int lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

/* ------------------------------------------------------- status lines */

void mail_pop3_reply_init(mail_pop3_reply *r, const mail_allocator *alloc)
{
  memset(r, 0, sizeof *r);
  mail_buf_init(&r->text, alloc, 0);
}

void mail_pop3_reply_release(mail_pop3_reply *r)
{
  mail_buf_free(&r->text);
  r->status = 0;
}

static const struct {
  const char *name;
  int id;
} known_codes[] = {
  {"SYS/TEMP", MAIL_POP3_CODE_SYS_TEMP},
  {"SYS/PERM", MAIL_POP3_CODE_SYS_PERM},
  {"AUTH", MAIL_POP3_CODE_AUTH},
  {"IN-USE", MAIL_POP3_CODE_IN_USE},
  {"LOGIN-DELAY", MAIL_POP3_CODE_LOGIN_DELAY},
};

int mail_pop3_code_id(const char *code, size_t len)
{
  if (len == 0)
    return MAIL_POP3_CODE_NONE;
  for (size_t k = 0; k < sizeof known_codes / sizeof known_codes[0]; k++) {
    const char *name = known_codes[k].name;
    size_t n = strlen(name);
    if (len < n || (len > n && code[n] != '/'))
      continue;
    size_t i = 0;
    while (i < n && lower((unsigned char)code[i]) == lower((unsigned char)name[i]))
      i++;
    if (i == n)
      return known_codes[k].id;
  }
  return MAIL_POP3_CODE_OTHER;
}

/* resp-code (RFC 2449): "[" resp-level *("/" resp-level) "]", a level being
 * printable characters other than "/" and "]". Length up to and including
 * "]", or 0 when s does not start with one. */
static size_t resp_code_len(const unsigned char *s, size_t n)
{
  if (n < 3 || s[0] != '[')
    return 0;
  size_t level = 0;
  for (size_t i = 1; i < n; i++) {
    unsigned char c = s[i];
    if (c == ']')
      return level ? i + 1 : 0;
    if (c == '/') {
      if (!level)
        return 0;
      level = 0;
    } else if (c > 0x20 && c < 0x7f) {
      level++;
    } else {
      return 0;
    }
  }
  return 0;
}

int mail_pop3_reply_parse(mail_pop3_reply *r, const char *line, size_t len)
{
  const unsigned char *s = (const unsigned char *)line;
  int status;
  size_t i;
  if (len >= 3 && s[0] == '+' && lower(s[1]) == 'o' && lower(s[2]) == 'k' &&
      (len == 3 || s[3] == ' ')) {
    status = MAIL_POP3_OK;
    i = 3;
  } else if (len >= 4 && s[0] == '-' && lower(s[1]) == 'e' && lower(s[2]) == 'r' &&
             lower(s[3]) == 'r' && (len == 4 || s[4] == ' ')) {
    status = MAIL_POP3_ERR;
    i = 4;
  } else if (len >= 1 && s[0] == '+' && (len == 1 || s[1] == ' ')) {
    status = MAIL_POP3_CONTINUE;
    i = 1;
  } else {
    return MAIL_ERR_PROTOCOL;
  }
  if (memchr(s, 0, len))
    return MAIL_ERR_PROTOCOL;
  while (i < len && s[i] == ' ')
    i++;
  size_t code_start = i, code_len = 0;
  if (status != MAIL_POP3_CONTINUE) {
    size_t k = resp_code_len(s + i, len - i);
    if (k) {
      code_start = i + 1;
      code_len = k - 2;
      i += k;
      while (i < len && s[i] == ' ')
        i++;
    }
  }
  mail_buf_clear(&r->text);
  int rc = mail_buf_append(&r->text, s + code_start, code_len);
  if (!rc)
    rc = mail_buf_append_byte(&r->text, 0);
  if (!rc)
    rc = mail_buf_append(&r->text, s + i, len - i);
  if (!rc)
    rc = mail_buf_terminate(&r->text);
  if (rc) {
    r->status = 0;
    return rc;
  }
  r->status = status;
  r->code_len = code_len;
  r->code_id = mail_pop3_code_id(line + code_start, code_len);
  r->text_off = code_len + 1;
  return MAIL_OK;
}

int mail_pop3_reply_status(const mail_pop3_reply *r)
{
  return r ? r->status : 0;
}

const char *mail_pop3_reply_text(const mail_pop3_reply *r, size_t *len)
{
  if (!r || !r->status)
    return NULL;
  if (len)
    *len = r->text.len - r->text_off;
  return (const char *)r->text.data + r->text_off;
}

const char *mail_pop3_reply_resp_code(const mail_pop3_reply *r, size_t *len)
{
  if (!r || !r->status || r->code_id == MAIL_POP3_CODE_NONE)
    return NULL;
  if (len)
    *len = r->code_len;
  return (const char *)r->text.data;
}

int mail_pop3_reply_resp_code_id(const mail_pop3_reply *r)
{
  return r && r->status ? r->code_id : MAIL_POP3_CODE_NONE;
}

int mail_pop3_reply_copy_text(const mail_pop3_reply *r, char *buf, size_t size, size_t *needed)
{
  if (!r || !r->status || !buf)
    return MAIL_ERR_INVALID;
  size_t n;
  const char *t = mail_pop3_reply_text(r, &n);
  if (needed)
    *needed = n + 1;
  if (size < n + 1)
    return MAIL_ERR_BUFFER;
  memcpy(buf, t, n + 1);
  return MAIL_OK;
}

int mail_pop3_reply_clone(mail_pop3_reply **out, const mail_pop3_reply *r,
                          const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (!r || !r->status || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_pop3_reply *c = mail_malloc(&a, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_pop3_reply_init(c, NULL);
  c->own_alloc = a;
  mail_buf_init(&c->text, &c->own_alloc, 0);
  c->owned = 1;
  int rc = mail_buf_append(&c->text, r->text.data, r->text.len);
  if (!rc)
    rc = mail_buf_terminate(&c->text);
  if (rc) {
    mail_pop3_reply_free(c);
    return rc;
  }
  c->status = r->status;
  c->code_id = r->code_id;
  c->code_len = r->code_len;
  c->text_off = r->text_off;
  *out = c;
  return MAIL_OK;
}

void mail_pop3_reply_free(mail_pop3_reply *r)
{
  if (!r || !r->owned)
    return;
  mail_pop3_reply_release(r);
  mail_allocator a = r->own_alloc;
  mail_dealloc(&a, r);
}

/* ------------------------------------------------------------- parser */

/* The public parser: the shared status-then-block machinery
 * (parse/block_parser.c) with POP3's status lines. */
struct mail_pop3_parser {
  mail_allocator alloc;
  mail_block_parser b;
  mail_pop3_reply reply;
};

static int status_line(void *reply, const char *line, size_t len, int *block)
{
  mail_pop3_reply *r = reply;
  int rc = mail_pop3_reply_parse(r, line, len);
  *block = !rc && r->status == MAIL_POP3_OK; /* only +OK opens a body */
  return rc;
}

int mail_pop3_parser_new(mail_pop3_parser **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_pop3_parser *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  mail_block_parser_init(&p->b, &p->alloc);
  mail_pop3_reply_init(&p->reply, &p->alloc);
  *out = p;
  return MAIL_OK;
}

void mail_pop3_parser_free(mail_pop3_parser *p)
{
  if (!p)
    return;
  mail_block_parser_free(&p->b);
  mail_pop3_reply_release(&p->reply);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

int mail_pop3_parser_set_limits(mail_pop3_parser *p, const mail_limits *l)
{
  return p ? mail_block_parser_set_limits(&p->b, l) : MAIL_ERR_INVALID;
}

int mail_pop3_parser_expect(mail_pop3_parser *p, int mode)
{
  return p ? mail_block_parser_expect(&p->b, mode) : MAIL_ERR_INVALID;
}

int mail_pop3_parser_feed(mail_pop3_parser *p, const void *data, size_t len)
{
  return p ? mail_block_parser_feed(&p->b, data, len) : MAIL_ERR_INVALID;
}

void mail_pop3_parser_end(mail_pop3_parser *p)
{
  if (p)
    mail_block_parser_end(&p->b);
}

int mail_pop3_parser_next(mail_pop3_parser *p, int *event)
{
  if (!p || !event)
    return MAIL_ERR_INVALID;
  return mail_block_parser_next(&p->b, event, status_line, &p->reply);
}

const mail_pop3_reply *mail_pop3_parser_reply(const mail_pop3_parser *p)
{
  return p && p->b.have_reply ? &p->reply : NULL;
}

const unsigned char *mail_pop3_parser_data(const mail_pop3_parser *p, size_t *len)
{
  if (!p) {
    if (len)
      *len = 0;
    return NULL;
  }
  return mail_block_parser_data(&p->b, len);
}

void mail_pop3_parser_reset(mail_pop3_parser *p)
{
  if (p)
    mail_block_parser_reset(&p->b);
}

size_t mail_pop3_parser_pending(const mail_pop3_parser *p)
{
  return p ? mail_block_parser_pending(&p->b) : 0;
}

/* ------------------------------------------------------------ helpers */

/* 1*DIGIT at s[*i] into *v, refusing overflow; then the end or a space. */
static int field_u64(const unsigned char *s, size_t n, size_t *i, uint64_t *v)
{
  size_t start = *i;
  uint64_t x = 0;
  while (*i < n && is_digit(s[*i])) {
    unsigned int d = (unsigned int)(s[*i] - '0');
    if (x > (UINT64_MAX - d) / 10)
      return 0;
    x = x * 10 + d;
    (*i)++;
  }
  if (*i == start || (*i < n && s[*i] != ' '))
    return 0;
  *v = x;
  return 1;
}

static int field_msg(const unsigned char *s, size_t n, size_t *i, uint32_t *msg)
{
  uint64_t v;
  if (!field_u64(s, n, i, &v) || v == 0 || v > UINT32_MAX)
    return 0;
  *msg = (uint32_t)v;
  return 1;
}

static void skip_spaces(const unsigned char *s, size_t n, size_t *i)
{
  while (*i < n && s[*i] == ' ')
    (*i)++;
}

/* "a b[ anything]" with a a message number (or a count) and b a size. */
static int number_pair(const char *text, size_t len, int a_is_msg, uint32_t *a, uint64_t *b)
{
  if (!text || !a || !b)
    return MAIL_ERR_INVALID;
  const unsigned char *s = (const unsigned char *)text;
  size_t i = 0;
  uint32_t x;
  uint64_t y;
  if (a_is_msg) {
    if (!field_msg(s, len, &i, &x))
      return MAIL_ERR_PROTOCOL;
  } else {
    uint64_t v;
    if (!field_u64(s, len, &i, &v) || v > UINT32_MAX)
      return MAIL_ERR_PROTOCOL;
    x = (uint32_t)v;
  }
  if (i == len)
    return MAIL_ERR_PROTOCOL;
  skip_spaces(s, len, &i);
  if (!field_u64(s, len, &i, &y))
    return MAIL_ERR_PROTOCOL;
  *a = x;
  *b = y;
  return MAIL_OK;
}

int mail_pop3_parse_stat(uint32_t *count, uint64_t *size, const char *text, size_t len)
{
  return number_pair(text, len, 0, count, size);
}

int mail_pop3_parse_list(uint32_t *msg, uint64_t *size, const char *line, size_t len)
{
  return number_pair(line, len, 1, msg, size);
}

int mail_pop3_parse_uidl(uint32_t *msg, const char **uid, size_t *uid_len, const char *line,
                         size_t len)
{
  if (!line || !msg || !uid || !uid_len)
    return MAIL_ERR_INVALID;
  const unsigned char *s = (const unsigned char *)line;
  size_t i = 0;
  uint32_t m;
  if (!field_msg(s, len, &i, &m) || i == len)
    return MAIL_ERR_PROTOCOL;
  skip_spaces(s, len, &i);
  size_t start = i;
  while (i < len && s[i] > 0x20 && s[i] < 0x7f)
    i++;
  if (i == start || i - start > 70 || (i < len && s[i] != ' '))
    return MAIL_ERR_PROTOCOL;
  *msg = m;
  *uid = line + start;
  *uid_len = i - start;
  return MAIL_OK;
}

/* -------------------------------------------------------------- CAPA */

struct mail_pop3_caps {
  mail_allocator alloc;
  mail_capset set;
};

int mail_pop3_caps_new(mail_pop3_caps **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_pop3_caps *c = mail_malloc(&a, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  c->alloc = a;
  mail_capset_init(&c->set, &c->alloc, MAIL_CAPS_POP3);
  *out = c;
  return MAIL_OK;
}

void mail_pop3_caps_free(mail_pop3_caps *c)
{
  if (!c)
    return;
  mail_capset_free(&c->set);
  mail_allocator a = c->alloc;
  mail_dealloc(&a, c);
}

void mail_pop3_caps_set_limits(mail_pop3_caps *c, const mail_limits *limits)
{
  mail_capset_set_limits(&c->set, limits);
}

void mail_pop3_caps_clear(mail_pop3_caps *c)
{
  if (c)
    mail_capset_clear(&c->set);
}

int mail_pop3_caps_add_line(mail_pop3_caps *c, const char *line, size_t len)
{
  if (!c || (!line && len))
    return MAIL_ERR_INVALID;
  return mail_capset_add_line(&c->set, line ? line : "", len);
}

size_t mail_pop3_caps_count(const mail_pop3_caps *c)
{
  return c ? mail_capset_count(&c->set) : 0;
}

const char *mail_pop3_caps_keyword(const mail_pop3_caps *c, size_t i)
{
  return c ? mail_capset_keyword(&c->set, i) : NULL;
}

size_t mail_pop3_caps_param_count(const mail_pop3_caps *c, size_t i)
{
  return c ? mail_capset_param_count(&c->set, i) : 0;
}

const char *mail_pop3_caps_param(const mail_pop3_caps *c, size_t i, size_t j)
{
  return c ? mail_capset_param(&c->set, i, j) : NULL;
}

int mail_pop3_caps_find(const mail_pop3_caps *c, const char *keyword, size_t *index)
{
  if (!c || !keyword)
    return MAIL_ERR_INVALID;
  return mail_capset_find(&c->set, keyword, index);
}

#include "parse/caps.h"

#include <string.h>

#include "core/limits.h"

struct caps_entry {
  size_t first_word; /* index in words of the keyword */
  size_t nwords;     /* keyword + parameters */
};

void mail_capset_init(mail_capset *c, const mail_allocator *a, int grammar)
{
  mail_buf_init(&c->text, a, 0);
  mail_buf_init(&c->words, a, 0);
  mail_buf_init(&c->entries, a, 0);
  c->nentries = 0;
  c->lines = 0;
  c->limits = mail_limits_builtin();
  c->grammar = grammar;
}

void mail_capset_set_limits(mail_capset *c, const mail_limits *limits)
{
  c->limits = limits ? limits : mail_limits_builtin();
}

void mail_capset_free(mail_capset *c)
{
  mail_buf_free(&c->text);
  mail_buf_free(&c->words);
  mail_buf_free(&c->entries);
  c->nentries = 0;
  c->lines = 0;
}

void mail_capset_clear(mail_capset *c)
{
  mail_buf_clear(&c->text);
  mail_buf_clear(&c->words);
  mail_buf_clear(&c->entries);
  c->nentries = 0;
  c->lines = 0;
}

/* Bytes the set holds (lengths, not capacities: growth by doubling is
 * capped at each buffer's limit, so capacities stay within twice this). */
static size_t held(const mail_capset *c)
{
  return c->text.len + c->words.len + c->entries.len;
}

static int is_alnum(unsigned char ch)
{
  return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static int is_space(unsigned char ch)
{
  return ch == ' ' || ch == '\t';
}

/* Length of the keyword at the start of s, or 0 when it is malformed. */
static size_t keyword_len(int grammar, const unsigned char *s, size_t n)
{
  size_t i = 0;
  if (grammar == MAIL_CAPS_SMTP) {
    if (n == 0 || !is_alnum(s[0]))
      return 0;
    for (i = 1; i < n && (is_alnum(s[i]) || s[i] == '-'); i++)
      ;
    /* The keyword must end at a separator. */
    if (i < n && !is_space(s[i]) && s[i] != '=')
      return 0;
    return i;
  }
  for (; i < n && s[i] > 0x20 && s[i] < 0x7f; i++)
    ;
  if (i < n && !is_space(s[i]))
    return 0;
  return i;
}

static int add_word(mail_capset *c, const unsigned char *w, size_t n)
{
  size_t off = c->text.len;
  int rc = mail_buf_append(&c->text, w, n);
  if (!rc)
    rc = mail_buf_append_byte(&c->text, 0);
  if (!rc)
    rc = mail_buf_append(&c->words, &off, sizeof off);
  return rc;
}

int mail_capset_add_line(mail_capset *c, const char *line, size_t len)
{
  const unsigned char *s = (const unsigned char *)line;
  const mail_limits *lim = c->limits;
  /* Skipped lines count too: endless blank or malformed lines end. */
  if (c->lines >= mail_limits_lines(lim))
    return MAIL_ERR_LIMIT;
  c->lines++;
  if (memchr(s, 0, len))
    return MAIL_OK;
  size_t i = 0;
  while (i < len && is_space(s[i]))
    i++;
  size_t kl = keyword_len(c->grammar, s + i, len - i);
  if (kl == 0)
    return MAIL_OK;
  /* Each buffer alone stays within max_response; their sum is checked
   * once the line is in. */
  c->text.limit = c->words.limit = c->entries.limit = lim->max_response;

  /* Remember where we were so a failed allocation leaves nothing half-added. */
  size_t text_len = c->text.len, words_len = c->words.len;
  struct caps_entry e = {c->words.len / sizeof(size_t), 0};
  int rc = add_word(c, s + i, kl);
  e.nwords++;
  i += kl;
  if (!rc && c->grammar == MAIL_CAPS_SMTP && i < len && s[i] == '=')
    i++;
  while (!rc) {
    while (i < len && is_space(s[i]))
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && !is_space(s[i]))
      i++;
    rc = add_word(c, s + start, i - start);
    e.nwords++;
  }
  if (!rc)
    rc = mail_buf_append(&c->entries, &e, sizeof e);
  if (!rc && held(c) > lim->max_response) {
    c->entries.len -= sizeof e;
    rc = MAIL_ERR_LIMIT;
  }
  if (rc) {
    c->text.len = text_len;
    c->words.len = words_len;
    c->lines--;
    return rc;
  }
  c->nentries++;
  return MAIL_OK;
}

static const struct caps_entry *entry(const mail_capset *c, size_t i)
{
  return (const struct caps_entry *)(const void *)c->entries.data + i;
}

static const char *word(const mail_capset *c, size_t w)
{
  size_t off;
  memcpy(&off, c->words.data + w * sizeof off, sizeof off);
  return (const char *)c->text.data + off;
}

size_t mail_capset_count(const mail_capset *c)
{
  return c->nentries;
}

const char *mail_capset_keyword(const mail_capset *c, size_t i)
{
  if (i >= c->nentries)
    return NULL;
  return word(c, entry(c, i)->first_word);
}

size_t mail_capset_param_count(const mail_capset *c, size_t i)
{
  if (i >= c->nentries)
    return 0;
  return entry(c, i)->nwords - 1;
}

const char *mail_capset_param(const mail_capset *c, size_t i, size_t j)
{
  if (i >= c->nentries)
    return NULL;
  const struct caps_entry *e = entry(c, i);
  if (j + 1 >= e->nwords)
    return NULL;
  return word(c, e->first_word + 1 + j);
}

static int ascii_lower(int ch)
{
  return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

int mail_capset_find(const mail_capset *c, const char *kw, size_t *index)
{
  if (!kw)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < c->nentries; i++) {
    const char *k = word(c, entry(c, i)->first_word);
    size_t j = 0;
    while (k[j] && kw[j] && ascii_lower((unsigned char)k[j]) == ascii_lower((unsigned char)kw[j]))
      j++;
    if (k[j] == 0 && kw[j] == 0) {
      if (index)
        *index = i;
      return MAIL_OK;
    }
  }
  return MAIL_ERR_NOT_FOUND;
}

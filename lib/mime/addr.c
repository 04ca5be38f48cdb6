/* RFC 5322 address lists (with the obsolete forms of section 4.4 and the
 * UTF-8 of RFC 6532): tokens first, then mailboxes and groups. The strict
 * mode refuses any input whose reading is not unique, so a display name or
 * comment can never smuggle a second address past a check
 * (CVE-2023-27043). */
#include <string.h>

#include "core/buf.h"
#include "core/mem.h"
#include "mime/mime_internal.h"

enum { T_ATOM, T_QUOTED, T_DLIT, T_SPECIAL, T_END };

typedef struct tok {
  int type;
  char ch;            /* T_SPECIAL */
  size_t start, len;  /* raw span in the input */
  char *text;         /* atom/quoted/dlit: the value (quoted: unescaped) */
  int space_before;   /* blank or comment before it */
  int had_comment;
} tok;

struct mail_address_list {
  mail_allocator alloc;
  mail_address *v;
  size_t n, cap;
};

typedef struct lexer {
  const mail_allocator *a;
  tok *t;
  size_t n, cap;
  unsigned int bad;
} lexer;

static int is_atext(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static int push(lexer *lx, int type, char ch, size_t start, size_t len, char *text, int sp, int cm)
{
  if (lx->n == lx->cap) {
    size_t nc = lx->cap ? lx->cap * 2 : 16;
    tok *nt = mail_realloc(lx->a, lx->t, nc * sizeof *nt);
    if (!nt) {
      mail_dealloc(lx->a, text);
      return MAIL_ERR_NOMEM;
    }
    lx->t = nt;
    lx->cap = nc;
  }
  tok *t = &lx->t[lx->n++];
  t->type = type;
  t->ch = ch;
  t->start = start;
  t->len = len;
  t->text = text;
  t->space_before = sp;
  t->had_comment = cm;
  return MAIL_OK;
}

static int lex(lexer *lx, const char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    int sp = 0, cm = 0;
    for (;;) {
      while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
        i++;
        sp = 1;
      }
      if (i < n && s[i] == '(') {
        int depth = 0, closed = 0;
        while (i < n) {
          if (s[i] == '\\' && i + 1 < n) { i += 2; continue; }
          if (s[i] == '(') depth++;
          else if (s[i] == ')' && --depth == 0) { i++; closed = 1; break; }
          i++;
        }
        if (!closed)
          lx->bad++;
        sp = cm = 1;
        continue;
      }
      break;
    }
    if (i >= n)
      break;
    size_t st = i;
    unsigned char c = (unsigned char)s[i];
    int rc;
    if (is_atext(c)) {
      while (i < n && is_atext((unsigned char)s[i]))
        i++;
      char *t = mail_strndup(lx->a, s + st, i - st);
      if (!t)
        return MAIL_ERR_NOMEM;
      rc = push(lx, T_ATOM, 0, st, i - st, t, sp, cm);
    } else if (c == '"' || c == '[') {
      char close = c == '"' ? '"' : ']';
      mail_buf b;
      mail_buf_init(&b, lx->a, 0);
      i++;
      int closed = 0;
      while (i < n) {
        if (s[i] == '\\' && i + 1 < n)
          i++;
        else if (s[i] == close) {
          closed = 1;
          i++;
          break;
        } else if (s[i] == '\r' || s[i] == '\n') {
          i++;
          continue;
        }
        if (mail_buf_append_byte(&b, (unsigned char)s[i++])) {
          mail_buf_free(&b);
          return MAIL_ERR_NOMEM;
        }
      }
      if (!closed)
        lx->bad++;
      if (mail_buf_append_byte(&b, 0)) {
        mail_buf_free(&b);
        return MAIL_ERR_NOMEM;
      }
      rc = push(lx, c == '"' ? T_QUOTED : T_DLIT, 0, st, i - st, (char *)b.data, sp, cm);
    } else {
      i++;
      rc = push(lx, T_SPECIAL, (char)c, st, 1, NULL, sp, cm);
      if (!strchr("<>@,;:", c))
        lx->bad++;
    }
    if (rc)
      return rc;
  }
  return push(lx, T_END, 0, n, 0, NULL, 0, 0);
}

typedef struct parser {
  lexer *lx;
  size_t i;
  int strict;
  unsigned int bad;
  mail_address_list *out;
  const char *src;
  char *group;   /* current group name (owned by the list once used) */
} parser;

static tok *cur(parser *p) { return &p->lx->t[p->i]; }
static int is_sp(parser *p, char c) { return cur(p)->type == T_SPECIAL && cur(p)->ch == c; }

static int word_tok(const tok *t) { return t->type == T_ATOM || t->type == T_QUOTED; }

/* Join the raw text of tokens [from, to) as a phrase; decode RFC 2047
 * words when decode is set (display names), never in an addr-spec
 * (RFC 2047 section 5: encoded words must not appear there). */
static char *join_words(parser *p, size_t from, size_t to, int decode)
{
  const mail_allocator *a = p->lx->a;
  mail_buf b;
  mail_buf_init(&b, a, 0);
  for (size_t k = from; k < to; k++) {
    const tok *t = &p->lx->t[k];
    if (k > from && (t->space_before || t->type == T_QUOTED))
      if (mail_buf_append_byte(&b, ' ')) goto nomem;
    if (t->type == T_SPECIAL) {
      if (mail_buf_append_byte(&b, (unsigned char)t->ch)) goto nomem;
    } else if (t->text && mail_buf_append_str(&b, t->text)) {
      goto nomem;
    }
  }
  char *res = NULL;
  if (!decode) {
    if (mail_buf_append_byte(&b, 0))
      goto nomem;
    return (char *)b.data;
  }
  if (mime_header_decode(&res, NULL, NULL, b.data ? (const char *)b.data : "", b.len, a))
    goto nomem;
  mail_buf_free(&b);
  return res;
nomem:
  mail_buf_free(&b);
  return NULL;
}

static char *phrase(parser *p, size_t from, size_t to)
{
  return join_words(p, from, to, 1);
}

static int needs_quoting(const char *local)
{
  if (!*local || *local == '.' || local[strlen(local) - 1] == '.' || strstr(local, ".."))
    return 1;
  for (const unsigned char *c = (const unsigned char *)local; *c; c++)
    if (!is_atext(*c))
      return 1;
  return 0;
}

static int add(parser *p, char *name, char *local, char *domain)
{
  mail_address_list *l = p->out;
  const mail_allocator *a = &l->alloc;
  char *mailbox = NULL, *group = NULL;
  if (!local)
    goto nomem;
  /* An obsolete quoted-pair (a backslash before CR or LF) can put a line break in
   * a local part or domain literal: such a mailbox cannot be written on
   * the wire, so it is not kept. */
  if (strpbrk(local, "\r\n") || (domain && strpbrk(domain, "\r\n"))) {
    mail_dealloc(a, name);
    mail_dealloc(a, local);
    mail_dealloc(a, domain);
    if (p->strict)
      return MAIL_ERR_SYNTAX;
    p->bad++;
    return MAIL_OK;
  }
  mail_buf b;
  mail_buf_init(&b, a, 0);
  int q = needs_quoting(local);
  int rc = 0;
  if (q) {
    rc |= mail_buf_append_byte(&b, '"');
    for (const char *c = local; *c; c++) {
      if (*c == '"' || *c == '\\')
        rc |= mail_buf_append_byte(&b, '\\');
      rc |= mail_buf_append_byte(&b, (unsigned char)*c);
    }
    rc |= mail_buf_append_byte(&b, '"');
  } else {
    rc |= mail_buf_append_str(&b, local);
  }
  if (domain) {
    rc |= mail_buf_append_byte(&b, '@');
    rc |= mail_buf_append_str(&b, domain);
  }
  rc |= mail_buf_append_byte(&b, 0);
  if (rc) {
    mail_buf_free(&b);
    goto nomem;
  }
  mailbox = (char *)b.data;
  if (p->group && !(group = mail_strdup(a, p->group)))
    goto nomem;
  if (l->n == l->cap) {
    size_t nc = l->cap ? l->cap * 2 : 4;
    mail_address *nv = mail_realloc(a, l->v, nc * sizeof *nv);
    if (!nv)
      goto nomem;
    l->v = nv;
    l->cap = nc;
  }
  if (name && !*name) {
    mail_dealloc(a, name);
    name = NULL;
  }
  l->v[l->n].name = name;
  l->v[l->n].mailbox = mailbox;
  l->v[l->n].local = local;
  l->v[l->n].domain = domain;
  l->v[l->n].group = group;
  l->n++;
  return MAIL_OK;
nomem:
  mail_dealloc(a, name);
  mail_dealloc(a, local);
  mail_dealloc(a, domain);
  mail_dealloc(a, mailbox);
  mail_dealloc(a, group);
  return MAIL_ERR_NOMEM;
}

/* addr-spec from the current token: local "@" domain. Returns 1 parsed,
 * 0 no addr-spec here, <0 error. */
static int addr_spec(parser *p, char **local, char **domain)
{
  const mail_allocator *a = p->lx->a;
  mail_buf lb;
  mail_buf_init(&lb, a, 0);
  size_t start = p->i;
  while (word_tok(cur(p))) {
    if (p->i > start && cur(p)->space_before && p->strict) {
      mail_buf_free(&lb);
      return 0;
    }
    if (mail_buf_append_str(&lb, cur(p)->text)) goto nomem;
    p->i++;
  }
  if (p->i == start || !is_sp(p, '@')) {
    mail_buf_free(&lb);
    p->i = start;
    return 0;
  }
  p->i++;
  mail_buf db;
  mail_buf_init(&db, a, 0);
  if (cur(p)->type == T_DLIT) {
    if (mail_buf_append_byte(&db, '[') || mail_buf_append_str(&db, cur(p)->text) ||
        mail_buf_append_byte(&db, ']')) {
      mail_buf_free(&db);
      goto nomem;
    }
    p->i++;
  } else {
    size_t ds = p->i;
    while (cur(p)->type == T_ATOM && (p->i == ds || !cur(p)->space_before || !p->strict)) {
      if (mail_buf_append_str(&db, cur(p)->text)) {
        mail_buf_free(&db);
        goto nomem;
      }
      p->i++;
    }
  }
  if (!db.len) {
    mail_buf_free(&db);
    mail_buf_free(&lb);
    p->bad++;
    return -2;
  }
  if (mail_buf_append_byte(&lb, 0) || mail_buf_append_byte(&db, 0)) {
    mail_buf_free(&db);
    goto nomem;
  }
  *local = (char *)lb.data;
  *domain = (char *)db.data;
  return 1;
nomem:
  mail_buf_free(&lb);
  return MAIL_ERR_NOMEM;
}

/* Skip to the next ',' (or ';' inside a group), counting a defect. */
static void recover(parser *p)
{
  p->bad++;
  while (cur(p)->type != T_END && !is_sp(p, ',') && !(p->group && is_sp(p, ';')))
    p->i++;
}

static int mailbox(parser *p)
{
  const mail_allocator *a = p->lx->a;
  size_t start = p->i;
  /* phrase (display name) */
  while (word_tok(cur(p)) || (cur(p)->type == T_SPECIAL && cur(p)->ch == '.'))
    p->i++;
  size_t pend = p->i;
  if (is_sp(p, '<')) {
    p->i++;
    /* obs-route: "@a,@b:" */
    if (is_sp(p, '@')) {
      p->bad++;
      if (p->strict)
        return MAIL_ERR_SYNTAX;
      while (cur(p)->type != T_END && !is_sp(p, ':') && !is_sp(p, '>'))
        p->i++;
      if (is_sp(p, ':'))
        p->i++;
    }
    char *local = NULL, *domain = NULL;
    int r = addr_spec(p, &local, &domain);
    if (r == MAIL_ERR_NOMEM)
      return r;
    if (r == 1 && is_sp(p, '>')) {
      p->i++;
      char *name = pend > start ? phrase(p, start, pend) : NULL;
      if (pend > start && !name) {
        mail_dealloc(a, local);
        mail_dealloc(a, domain);
        return MAIL_ERR_NOMEM;
      }
      return add(p, name, local, domain);
    }
    mail_dealloc(a, local);
    mail_dealloc(a, domain);
    if (is_sp(p, '>') && r == 0) {
      /* "<>": the null path; nothing to add. */
      p->i++;
      return MAIL_OK;
    }
    if (p->strict)
      return MAIL_ERR_SYNTAX;
    recover(p);
    return MAIL_OK;
  }
  /* addr-spec alone */
  p->i = start;
  char *local = NULL, *domain = NULL;
  int r = addr_spec(p, &local, &domain);
  if (r == MAIL_ERR_NOMEM)
    return r;
  if (r == 1) {
    if (cur(p)->type == T_END || is_sp(p, ',') || (p->group && is_sp(p, ';')))
      return add(p, NULL, local, domain);
    /* Something follows the address: "a@b <c@d>" or "a@b(<c@d>". */
    mail_dealloc(a, local);
    mail_dealloc(a, domain);
    if (p->strict)
      return MAIL_ERR_SYNTAX;
    p->bad++;
    /* Tolerant: if an angle address follows, that is the address. */
    while (cur(p)->type != T_END && !is_sp(p, '<') && !is_sp(p, ','))
      p->i++;
    if (is_sp(p, '<')) {
      p->i = start;
      while (cur(p)->type != T_END && !is_sp(p, '<'))
        p->i++;
      size_t lt = p->i;
      p->i++;
      r = addr_spec(p, &local, &domain);
      if (r == MAIL_ERR_NOMEM)
        return r;
      if (r == 1 && is_sp(p, '>')) {
        p->i++;
        char *name = phrase(p, start, lt);
        if (!name) {
          mail_dealloc(a, local);
          mail_dealloc(a, domain);
          return MAIL_ERR_NOMEM;
        }
        return add(p, name, local, domain);
      }
      if (r == 1) {
        mail_dealloc(a, local);
        mail_dealloc(a, domain);
      }
    }
    recover(p);
    return MAIL_OK;
  }
  if (r == -2 && p->strict)
    return MAIL_ERR_SYNTAX;
  /* A bare word list: a local part without domain (obsolete, tolerated). */
  p->i = start;
  if (word_tok(cur(p)) && !p->strict) {
    size_t ws = p->i;
    while (word_tok(cur(p)))
      p->i++;
    if (cur(p)->type == T_END || is_sp(p, ',') || (p->group && is_sp(p, ';'))) {
      char *l = join_words(p, ws, p->i, 0);
      if (!l)
        return MAIL_ERR_NOMEM;
      p->bad++;
      return add(p, NULL, l, NULL);
    }
  }
  if (p->strict)
    return MAIL_ERR_SYNTAX;
  recover(p);
  return MAIL_OK;
}

static int address_list(parser *p)
{
  const mail_allocator *a = p->lx->a;
  while (cur(p)->type != T_END) {
    if (is_sp(p, ',')) {
      p->i++;
      continue;
    }
    /* group: phrase ":" ... ";" */
    size_t start = p->i;
    while (word_tok(cur(p)))
      p->i++;
    if (p->i > start && is_sp(p, ':') && !p->group) {
      char *g = phrase(p, start, p->i);
      if (!g)
        return MAIL_ERR_NOMEM;
      p->group = g;
      p->i++;
      int rc = MAIL_OK;
      while (rc == MAIL_OK && cur(p)->type != T_END && !is_sp(p, ';')) {
        if (is_sp(p, ',')) {
          p->i++;
          continue;
        }
        rc = mailbox(p);
      }
      mail_dealloc(a, p->group);
      p->group = NULL;
      if (rc)
        return rc;
      if (is_sp(p, ';'))
        p->i++;
      else if (p->strict)
        return MAIL_ERR_SYNTAX;
      else
        p->bad++;
      continue;
    }
    p->i = start;
    int rc = mailbox(p);
    if (rc)
      return rc;
    if (cur(p)->type != T_END && !is_sp(p, ',')) {
      if (p->strict)
        return MAIL_ERR_SYNTAX;
      recover(p);
    }
  }
  return MAIL_OK;
}

int mail_address_list_parse(mail_address_list **out, const char *text, size_t len,
                            unsigned int flags, unsigned int *defects, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || (!text && len) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_address_list *l = mail_calloc(&a, 1, sizeof *l);
  if (!l)
    return MAIL_ERR_NOMEM;
  l->alloc = a;
  lexer lx = {&l->alloc, NULL, 0, 0, 0};
  int rc = lex(&lx, text ? text : "", len);
  parser p = {&lx, 0, (flags & MAIL_ADDR_STRICT) != 0, 0, l, text, NULL};
  if (rc == MAIL_OK && p.strict && lx.bad)
    rc = MAIL_ERR_SYNTAX;
  if (rc == MAIL_OK)
    rc = address_list(&p);
  for (size_t i = 0; i < lx.n; i++)
    mail_dealloc(&l->alloc, lx.t[i].text);
  mail_dealloc(&l->alloc, lx.t);
  mail_dealloc(&l->alloc, p.group);
  if (rc) {
    mail_address_list_free(l);
    return rc;
  }
  if (defects)
    *defects = lx.bad + p.bad;
  *out = l;
  return MAIL_OK;
}

size_t mail_address_list_count(const mail_address_list *l)
{
  return l ? l->n : 0;
}

const mail_address *mail_address_list_get(const mail_address_list *l, size_t i)
{
  return l && i < l->n ? &l->v[i] : NULL;
}

void mail_address_list_free(mail_address_list *l)
{
  if (!l)
    return;
  mail_allocator a = l->alloc;
  for (size_t i = 0; i < l->n; i++) {
    mail_dealloc(&a, (void *)(uintptr_t)l->v[i].name);
    mail_dealloc(&a, (void *)(uintptr_t)l->v[i].mailbox);
    mail_dealloc(&a, (void *)(uintptr_t)l->v[i].local);
    mail_dealloc(&a, (void *)(uintptr_t)l->v[i].domain);
    mail_dealloc(&a, (void *)(uintptr_t)l->v[i].group);
  }
  mail_dealloc(&a, l->v);
  mail_dealloc(&a, l);
}

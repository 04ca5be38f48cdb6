/* IMAP framing and tokenising: complete lines are cut into arguments (an
 * explicit stack of open lists, no recursion); a literal marker at a line's
 * end switches to counting bytes, which are held, streamed to the body
 * callback or skipped. A response ends at a line that does not end in a
 * literal marker. Every state survives a return for more input. */
#include "parse/imap_internal.h"

#include <string.h>

#include "core/limits.h"
#include "core/mem.h"

enum { TOK_DONE = 1, TOK_LIT = 2, TOK_EMPTY = 3 };

int imap_fail(mail_imap_parser *p, int rc)
{
  if (!p->err)
    p->err = rc;
  return p->err;
}

/* ------------------------------------------------------------ lifecycle */

/* A buffer grown for one large response (a million-UID SEARCH) is given
 * back, so what the parser holds between responses stays small. */
#define IMAP_KEEP_BYTES (256u * 1024)

static void trim(mail_buf *b)
{
  if (b->cap > IMAP_KEEP_BYTES)
    mail_buf_free(b);
}

static void clear_response(mail_imap_parser *p)
{
  trim(&p->nodes);
  trim(&p->esc);
  trim(&p->defects);
  trim(&p->sections);
  trim(&p->work);
  trim(&p->list);
  trim(&p->list_pairs);
  mail_buf_free(&p->set_text);
  p->listing = 0;
  p->list_phase = 0;
  p->list_over = p->list_skip = 0;
  p->set_next = p->in_set = p->set_seen = p->set_text_over = 0;
  p->list.len = 0;
  p->list_pairs.len = 0;
  p->has_esearch_tag = 0;
  p->esearch_tag_off = p->esearch_tag_len = 0;
  p->list_waste = 0;
  p->mode = IMAP_MODE_START;
  p->nodes.len = 0;
  p->nnodes = 0;
  p->depth = 0;
  p->top_count = 0;
  p->top_limit = UINT32_MAX;
  p->nomem = 0;
  p->skipping = 0;
  p->fetch = 0;
  p->fetch_seq = 0;
  p->esc.len = 0;
  p->defects.len = 0;
  p->sections.len = 0;
  p->cur_section = NULL;
  p->status = 0;
  p->text_off = p->text_len = 0;
  p->code_first = p->code_end = 0;
  p->code_raw_off = p->code_raw_len = 0;
  p->has_code = 0;
  p->last1 = p->prev1 = UINT32_MAX;
  imap_arena_reset(&p->arena);
  memset(&p->resp, 0, sizeof p->resp);
  p->returned = 0;
  p->resp_start = p->stream_pos;
}

int mail_imap_parser_new(mail_imap_parser **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  int rc = mail_alloc_init(&a, alloc);
  if (rc)
    return rc;
  mail_imap_parser *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  mail_limits_defaults(&p->lim);
  p->node_limit = 2u * (uint32_t)p->lim.max_items + 8;
  p->stack = mail_calloc(&p->alloc, p->lim.max_depth, sizeof *p->stack);
  if (!p->stack) {
    mail_dealloc(&p->alloc, p);
    return MAIL_ERR_NOMEM;
  }
  mail_buf_init(&p->in, &p->alloc, 0);
  mail_buf_init(&p->nodes, &p->alloc, 0);
  mail_buf_init(&p->esc, &p->alloc, 0);
  mail_buf_init(&p->defects, &p->alloc, 0);
  mail_buf_init(&p->sections, &p->alloc, 0);
  mail_buf_init(&p->work, &p->alloc, 0);
  mail_buf_init(&p->list, &p->alloc, 0);
  mail_buf_init(&p->set_text, &p->alloc, 0);
  mail_buf_init(&p->list_pairs, &p->alloc, 0);
  imap_arena_init(&p->arena, &p->alloc);
  p->greeting = 1;
  clear_response(p);
  *out = p;
  return MAIL_OK;
}

void mail_imap_parser_free(mail_imap_parser *p)
{
  if (!p)
    return;
  mail_buf_free(&p->in);
  mail_buf_free(&p->nodes);
  mail_buf_free(&p->esc);
  mail_buf_free(&p->defects);
  mail_buf_free(&p->sections);
  mail_buf_free(&p->work);
  mail_buf_free(&p->list);
  mail_buf_free(&p->set_text);
  mail_buf_free(&p->list_pairs);
  imap_arena_free(&p->arena);
  mail_dealloc(&p->alloc, p->stack);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

int mail_imap_parser_set_limits(mail_imap_parser *p, const mail_limits *l)
{
  mail_limits lim;
  /* versions 1 and 2 alike; the tree's offsets and counts are 32-bit */
  if (!p || mail_limits_import(&lim, l) != MAIL_OK || lim.max_response > UINT32_MAX - 1 ||
      lim.max_items > UINT32_MAX / 4)
    return MAIL_ERR_INVALID;
  if (p->fed)
    return MAIL_ERR_STATE;
  uint32_t *st = mail_calloc(&p->alloc, lim.max_depth, sizeof *st);
  if (!st)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&p->alloc, p->stack);
  p->stack = st;
  p->lim = lim;
  p->node_limit = 2u * (uint32_t)lim.max_items + 8;
  return MAIL_OK;
}

int mail_imap_parser_set_utf8(mail_imap_parser *p, int on)
{
  if (!p)
    return MAIL_ERR_INVALID;
  p->utf8 = on != 0;
  return MAIL_OK;
}

int mail_imap_parser_expect_greeting(mail_imap_parser *p, int on)
{
  if (!p)
    return MAIL_ERR_INVALID;
  p->greeting = on != 0;
  return MAIL_OK;
}

int mail_imap_parser_set_body_callback(mail_imap_parser *p, mail_imap_body_fn fn, void *user)
{
  if (!p)
    return MAIL_ERR_INVALID;
  p->body_fn = fn;
  p->body_user = user;
  return MAIL_OK;
}

void mail_imap_parser_reset(mail_imap_parser *p)
{
  if (!p)
    return;
  p->in.len = 0;
  p->start = p->pos = p->scan = 0;
  p->stream_pos = 0;
  p->state = IMAP_ST_LINE;
  p->lit_left = 0;
  p->err = p->eof = p->fed = 0;
  p->greeting = 1;
  clear_response(p);
}

size_t mail_imap_parser_pending(const mail_imap_parser *p)
{
  if (!p)
    return 0;
  return p->in.len - (p->returned ? p->pos : p->start);
}

size_t mail_imap_parser_held(const mail_imap_parser *p)
{
  if (!p)
    return 0;
  return p->in.cap + p->nodes.cap + p->esc.cap + p->defects.cap + p->sections.cap + p->work.cap + p->list.cap + p->set_text.cap + p->list_pairs.cap +
         p->arena.total + p->lim.max_depth * sizeof *p->stack;
}

/* Drop the response handed out last and the bytes before it. */
static void release_returned(mail_imap_parser *p)
{
  if (p->returned) {
    p->start = p->pos;
    clear_response(p);
  }
}

int mail_imap_parser_feed(mail_imap_parser *p, const void *data, size_t len)
{
  if (!p || (!data && len))
    return MAIL_ERR_INVALID;
  if (p->err)
    return p->err;
  p->fed = 1;
  release_returned(p);
  if (p->start) {
    size_t keep = p->in.len - p->start;
    if (keep)
      memmove(p->in.data, p->in.data + p->start, keep);
    p->in.len = keep;
    p->pos -= p->start;
    p->scan -= p->start;
    p->start = 0;
  }
  if (p->in.cap > 4 * IMAP_KEEP_BYTES && p->in.len + len < IMAP_KEEP_BYTES) {
    unsigned char *d = mail_realloc(&p->alloc, p->in.data, IMAP_KEEP_BYTES);
    if (d) {
      p->in.data = d;
      p->in.cap = IMAP_KEEP_BYTES;
    }
  }
  if (!len)
    return MAIL_OK;
  if (p->in.len - p->pos > p->lim.max_response || len > p->lim.max_response - (p->in.len - p->pos))
    return MAIL_ERR_LIMIT;
  int rc = mail_buf_append(&p->in, data, len);
  return rc ? rc : MAIL_OK;
}

void mail_imap_parser_end(mail_imap_parser *p)
{
  if (p)
    p->eof = 1;
}

/* ------------------------------------------------------------ defects */

void imap_defect_add(mail_imap_parser *p, int kind, uint32_t item_off, uint32_t item_len,
                     int has_item, uint32_t raw_off, uint32_t raw_end)
{
  imap_defect d;
  d.kind = kind;
  d.item_off = item_off;
  d.item_len = item_len;
  d.has_item = has_item;
  d.copied = 0;
  d.raw_off = raw_off;
  d.raw_len = raw_end > raw_off ? raw_end - raw_off : 0;
  /* Defects are bounded by the values of the response. */
  if (p->defects.len / sizeof d < 2u * p->lim.max_items &&
      mail_buf_append(&p->defects, &d, sizeof d))
    p->nomem = 1;
}

/* ------------------------------------------------------------ tree building */

uint32_t imap_rel(const mail_imap_parser *p, const unsigned char *s)
{
  return (uint32_t)(s - (p->in.data + p->start));
}

static void start_skipping(mail_imap_parser *p, int kind, uint32_t off)
{
  if (p->skipping)
    return;
  p->skipping = 1;
  imap_defect_add(p, kind, 0, 0, 0, off, off);
}

/* Append a node as a child of the innermost open list. Returns its index,
 * UINT32_MAX when it is not kept (skipping), or sets the error. */
uint32_t imap_add_node(mail_imap_parser *p, int type, uint32_t off, uint32_t len, uint32_t end)
{
  if (p->skipping)
    return UINT32_MAX;
  uint32_t n = imap_node_count(p);
  if (p->depth) {
    imap_node *parent = &imap_nodes(p)[p->stack[p->depth - 1]];
    if (parent->count >= p->lim.max_items) {
      start_skipping(p, MAIL_IMAP_DEFECT_TOO_MANY, off);
      return UINT32_MAX;
    }
    parent->count++;
  } else if (p->top_count >= p->top_limit) {
    start_skipping(p, MAIL_IMAP_DEFECT_TOO_MANY, off);
    return UINT32_MAX;
  } else {
    p->top_count++;
  }
  if (n >= p->node_limit) {
    start_skipping(p, MAIL_IMAP_DEFECT_TOO_MANY, off);
    return UINT32_MAX;
  }
  if (p->nodes.cap - p->nodes.len < sizeof(imap_node) &&
      mail_buf_reserve(&p->nodes, sizeof(imap_node))) {
    imap_fail(p, MAIL_ERR_NOMEM);
    return UINT32_MAX;
  }
  imap_node *nd = (imap_node *)p->nodes.data + n;
  p->nodes.len += sizeof *nd;
  p->nnodes = n + 1;
  nd->type = (uint8_t)type;
  nd->flags = 0;
  nd->off = off;
  nd->len = len;
  nd->end = end;
  nd->next = n + 1;
  nd->count = 0;
  if (p->depth == 1) {
    p->prev1 = p->last1;
    p->last1 = n;
  }
  return n;
}

/* imap_add_node() for the common case, inlined into the tokeniser: inside
 * a list, under every bound, with room for the node. Anything else takes
 * the general path, which applies the same checks in the same order. */
static inline uint32_t add_node(mail_imap_parser *p, int type, uint32_t off, uint32_t len,
                                uint32_t end)
{
  uint32_t n = p->nnodes;
  unsigned depth = p->depth;
  if (depth && !p->skipping && n < p->node_limit &&
      p->nodes.cap - p->nodes.len >= sizeof(imap_node)) {
    imap_node *all = (imap_node *)p->nodes.data;
    imap_node *parent = &all[p->stack[depth - 1]];
    if (parent->count < p->lim.max_items) {
      /* the parser's fields first, the node last: its byte-sized stores
       * may alias anything, and nothing is read back after them */
      parent->count++;
      p->nodes.len += sizeof(imap_node);
      p->nnodes = n + 1;
      if (depth == 1) {
        p->prev1 = p->last1;
        p->last1 = n;
      }
      imap_node nd = {(uint8_t)type, 0, off, len, end, n + 1, 0};
      all[n] = nd;
      return n;
    }
  }
  return imap_add_node(p, type, off, len, end);
}

static void open_list(mail_imap_parser *p, uint32_t off)
{
  if (p->skipping)
    return;
  if (p->depth >= p->lim.max_depth) {
    start_skipping(p, MAIL_IMAP_DEFECT_TOO_DEEP, off);
    return;
  }
  uint32_t n = add_node(p, IMAP_N_LIST, off, 0, off + 1);
  if (n != UINT32_MAX)
    p->stack[p->depth++] = n;
}

static void close_list(mail_imap_parser *p, uint32_t off)
{
  if (p->skipping)
    return;
  if (!p->depth) {
    imap_defect_add(p, MAIL_IMAP_DEFECT_SYNTAX, 0, 0, 0, off, off + 1);
    return;
  }
  imap_node *nd = &imap_nodes(p)[p->stack[--p->depth]];
  nd->end = off + 1;
  nd->next = imap_node_count(p);
}

/* ------------------------------------------------------------ FETCH values */

static const char *const held_items[] = {
  "UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODYSTRUCTURE", "BODY", "MODSEQ",
  "EMAILID", "THREADID", "PREVIEW", "X-GM-MSGID", "X-GM-THRID", "X-GM-LABELS",
};

/* What a value at depth 1 of a FETCH is, from the item name before it:
 * 2 streamed, 1 held (a known item), 0 skipped (an unknown item). added:
 * the value's node is already in the tree. */
static int fetch_value_kind(mail_imap_parser *p, struct mail_imap_section *sec, int added)
{
  if (p->depth != 1)
    return 1;
  imap_node *parent = &imap_nodes(p)[p->stack[0]];
  uint32_t before = parent->count - (uint32_t)added, name_i = added ? p->prev1 : p->last1;
  if (!(before & 1) || name_i == UINT32_MAX)
    return 1;
  imap_node *name = &imap_nodes(p)[name_i];
  if (name->type != IMAP_N_ATOM)
    return 1;
  const char *s = (const char *)p->in.data + p->start + name->off;
  memset(sec, 0, sizeof *sec);
  if (imap_section_name(s, name->len, &sec->item_len, &sec->spec_off, &sec->spec_len,
                        &sec->origin, &sec->has_origin)) {
    sec->item_off = name->off;
    sec->spec_off += name->off;
    return 2;
  }
  for (size_t k = 0; k < sizeof held_items / sizeof held_items[0]; k++)
    if (imap_mem_ieq((const unsigned char *)s, name->len, held_items[k]))
      return 1;
  if (name->len > 12 && imap_mem_ieq((const unsigned char *)s, 12, "BINARY.SIZE["))
    return 1;
  return 0;
}

static void resolve_section(mail_imap_parser *p, struct mail_imap_section *s)
{
  const char *b = (const char *)p->in.data + p->start;
  s->item.p = b + s->item_off;
  s->item.n = s->item_len;
  s->spec.p = b + s->spec_off;
  s->spec.n = s->spec_len;
}

static int body_event(mail_imap_parser *p, int ev, const unsigned char *d, size_t n)
{
  if (!p->body_fn)
    return MAIL_OK;
  resolve_section(p, p->cur_section);
  if (p->body_fn(p->body_user, (mail_imap_body_event)ev, p->cur_section, d, n))
    return imap_fail(p, MAIL_ERR_CALLBACK);
  return MAIL_OK;
}

/* A streamed value begins: record its section, mark its node. */
static int section_begin(mail_imap_parser *p, const struct mail_imap_section *tmpl, uint32_t node,
                         uint64_t size, int nil)
{
  struct mail_imap_section *s = imap_arena_alloc(&p->arena, sizeof *s);
  if (!s)
    return imap_fail(p, MAIL_ERR_NOMEM);
  *s = *tmpl;
  s->size = size;
  s->nil = nil;
  s->msg = p->fetch_seq;
  size_t idx = p->sections.len / sizeof s;
  if (mail_buf_append(&p->sections, &s, sizeof s))
    return imap_fail(p, MAIL_ERR_NOMEM);
  if (node != UINT32_MAX) {
    imap_nodes(p)[node].type = IMAP_N_STREAMED;
    imap_nodes(p)[node].len = (uint32_t)idx;
  }
  p->cur_section = s;
  return body_event(p, MAIL_IMAP_BODY_BEGIN, NULL, 0);
}

/* A NIL or quoted value of a streamed item: delivered at once. */
static int inline_section(mail_imap_parser *p, uint32_t node)
{
  struct mail_imap_section tmpl;
  if (node == UINT32_MAX || fetch_value_kind(p, &tmpl, 1) != 2)
    return MAIL_OK;
  imap_node *nd = &imap_nodes(p)[node];
  int nil = nd->type == IMAP_N_NIL;
  const unsigned char *d = (nd->flags & IMAP_NF_ESC) ? p->esc.data + nd->off
                                                     : p->in.data + p->start + nd->off;
  size_t n = nil ? 0 : nd->len;
  int rc = section_begin(p, &tmpl, node, n, nil);
  if (!rc && n)
    rc = body_event(p, MAIL_IMAP_BODY_DATA, d, n);
  if (!rc)
    rc = body_event(p, MAIL_IMAP_BODY_END, NULL, 0);
  return rc;
}

/* The bytes of a literal of size n start at pos: hold, stream or skip. */
static int literal_begin(mail_imap_parser *p, uint64_t n)
{
  p->lit_left = n;
  if (p->skipping) {
    p->state = IMAP_ST_SKIP;
    return MAIL_OK;
  }
  uint32_t off = (uint32_t)(p->pos - p->start);
  int kind = 1;
  struct mail_imap_section tmpl;
  if (p->fetch)
    kind = fetch_value_kind(p, &tmpl, 0);
  if (kind == 2) {
    uint32_t nd = imap_add_node(p, IMAP_N_STREAMED, off, 0, off);
    p->state = IMAP_ST_STREAM;
    return section_begin(p, &tmpl, nd, n, 0);
  }
  if (kind == 0) {
    imap_add_node(p, IMAP_N_SKIPPED, off, 0, off);
    p->state = IMAP_ST_SKIP;
    return p->err;
  }
  if (n > p->lim.max_literal || n > p->lim.max_response - (p->pos - p->start))
    return imap_fail(p, MAIL_ERR_LIMIT);
  imap_add_node(p, IMAP_N_LITERAL, off, (uint32_t)n, off + (uint32_t)n);
  p->state = IMAP_ST_HOLD;
  return p->err;
}

/* ------------------------------------------------------------ tokens */

/* Whether a '"' followed by s ends the quoted string (see the header). */
static int quote_closes(const unsigned char *s, const unsigned char *e)
{
  if (s == e || *s == ')' || *s == ']' || *s == '(')
    return 1;
  if (*s != ' ')
    return 0;
  while (s < e && *s == ' ')
    s++;
  if (s == e || *s == '"')
    return 1;
  for (; s < e && *s != ' ' && *s != '(' && *s != ')'; s++)
    if (*s == '"')
      return 0;
  return 1;
}

/* The first '"' or '\\' in [t, e), or e. Eight bytes at a time: a byte
 * equal to the one searched for becomes zero after the XOR, and the
 * classic zero-byte test marks it (bytes above the first match may be
 * marked falsely; the lowest mark is exact). */
static const unsigned char *quote_or_backslash(const unsigned char *t, const unsigned char *e)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (e - t >= 8) {
    uint64_t w;
    memcpy(&w, t, 8);
    uint64_t a = w ^ (ones * '"'), b = w ^ (ones * '\\');
    uint64_t m = ((a - ones) & ~a & highs) | ((b - ones) & ~b & highs);
    if (m)
      return t + (__builtin_ctzll(m) >> 3);
    t += 8;
  }
#endif
  while (t < e && *t != '"' && *t != '\\')
    t++;
  return t;
}

static const unsigned char *quoted(mail_imap_parser *p, const unsigned char *s,
                                   const unsigned char *e, uint32_t *node)
{
  const unsigned char *t = s + 1;
  int esc = 0;
  while (t < e) {
    t = quote_or_backslash(t, e);
    if (t == e)
      break;
    if (*t == '\\') {
      /* a backslash before the next quote: it escapes the byte after it */
      esc = 1;
      t = t + 2 <= e ? t + 2 : e;
      continue;
    }
    if (quote_closes(t + 1, e))
      break;
    t++;
  }
  const unsigned char *cend = t < e ? t : e;
  const unsigned char *tend = t < e ? t + 1 : e;
  if (t >= e)
    imap_defect_add(p, MAIL_IMAP_DEFECT_SYNTAX, 0, 0, 0, imap_rel(p, s), imap_rel(p, e));
  *node = add_node(p, IMAP_N_QUOTED, imap_rel(p, s + 1), (uint32_t)(cend - s - 1), imap_rel(p, tend));
  if (esc && *node != UINT32_MAX) {
    size_t at = p->esc.len;
    if (mail_buf_reserve(&p->esc, (size_t)(cend - s))) {
      imap_fail(p, MAIL_ERR_NOMEM);
      return e;
    }
    unsigned char *o = p->esc.data + at;
    for (const unsigned char *u = s + 1; u < cend; u++) {
      if (*u == '\\' && u + 1 < cend && (u[1] == '\\' || u[1] == '"'))
        u++;
      *o++ = *u;
    }
    imap_node *nd = &imap_nodes(p)[*node];
    nd->flags |= IMAP_NF_ESC;
    nd->count = imap_rel(p, s);
    nd->off = (uint32_t)at;
    nd->len = (uint32_t)(o - (p->esc.data + at));
    p->esc.len = (size_t)(o - p->esc.data);
  }
  return tend;
}

/* "{n}", "{n+}" or "~{n}" ending exactly at e. 1: a marker (size in *n);
 * 0: not one; MAIL_ERR_PROTOCOL: a marker whose size overflows 64 bits. */
int imap_literal_marker(const unsigned char *s, const unsigned char *e, uint64_t *n)
{
  if (*s == '~')
    s++;
  if (s >= e || *s != '{')
    return 0;
  s++;
  const unsigned char *d = s;
  uint64_t v = 0;
  int over = 0;
  while (s < e && *s >= '0' && *s <= '9') {
    unsigned dig = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - dig) / 10)
      over = 1;
    else
      v = v * 10 + dig;
    s++;
  }
  if (s == d)
    return 0;
  if (s < e && *s == '+')
    s++;
  if (s + 1 != e || *s != '}')
    return 0;
  if (over)
    return MAIL_ERR_PROTOCOL;
  *n = v;
  return 1;
}

/* An atom starting this way is a FETCH section name ("BODY[...]<n>"), whose
 * brackets may hold spaces and parentheses. */
static int section_prefix(const unsigned char *s, size_t n)
{
  return imap_mem_ieq(s, n, "BODY") || imap_mem_ieq(s, n, "BINARY") ||
         imap_mem_ieq(s, n, "BINARY.SIZE") || imap_mem_ieq(s, n, "BODY.PEEK") ||
         imap_mem_ieq(s, n, "BINARY.PEEK");
}

/* Bytes that end an atom or need a look: space, parentheses, brackets. */
static const unsigned char atom_special[256] = {
  [' '] = 1, ['('] = 1, [')'] = 1, ['['] = 1, [']'] = 1,
};

/* Arguments from s to e. In code mode (a response code) the arguments stop
 * at a "]" outside lists, *stop gets its position, and there are no
 * literals. */
static int tok_args(mail_imap_parser *p, const unsigned char *s, const unsigned char *e, int code,
                    const unsigned char **stop)
{
  unsigned code_depth = p->depth;
  while (s < e && !p->err) {
    unsigned char c = *s;
    if (c == ' ' || c == '\t') {
      s++;
      continue;
    }
    if (c == '(') {
      open_list(p, imap_rel(p, s));
      s++;
      continue;
    }
    if (c == ')') {
      if (code && p->depth == code_depth && !p->skipping) {
        imap_defect_add(p, MAIL_IMAP_DEFECT_SYNTAX, 0, 0, 0, imap_rel(p, s), imap_rel(p, s + 1));
      } else {
        close_list(p, imap_rel(p, s));
      }
      s++;
      continue;
    }
    if (code && c == ']' && p->depth == code_depth) {
      *stop = s;
      return TOK_DONE;
    }
    if (c == '"') {
      uint32_t nd;
      s = quoted(p, s, e, &nd);
      if (p->fetch && !code && p->depth == 1 && inline_section(p, nd))
        return p->err;
      continue;
    }
    if (!code && (c == '{' || c == '~')) {
      uint64_t n;
      int m = imap_literal_marker(s, e, &n);
      if (m < 0)
        return imap_fail(p, m);
      if (m == 1) {
        p->lit_left = n;
        return TOK_LIT;
      }
    }
    /* An atom; a "[...]" inside it (a FETCH section) may hold spaces and
     * parentheses when its "]" is on the same line. */
    const unsigned char *t = s;
    while (t < e) {
      c = *t;
      if (!atom_special[c]) {
        t++;
        continue;
      }
      if (c == ' ' || c == '(' || c == ')')
        break;
      if (code && c == ']' && p->depth == code_depth)
        break;
      if (c == '[' && !code && section_prefix(s, (size_t)(t - s))) {
        const unsigned char *close = memchr(t, ']', (size_t)(e - t));
        if (close) {
          t = close + 1;
          continue;
        }
      }
      t++;
    }
    uint32_t off = imap_rel(p, s), len = (uint32_t)(t - s);
    int nil = len == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l';
    uint32_t nd = add_node(p, nil ? IMAP_N_NIL : IMAP_N_ATOM, off, len, off + len);
    /* only a value at depth 1 can be a streamed item's (fetch_value_kind) */
    if (p->fetch && !code && nil && p->depth == 1 && inline_section(p, nd))
      return p->err;
    s = t;
  }
  if (p->err)
    return p->err;
  if (code) {
    *stop = NULL;
    return TOK_DONE;
  }
  return TOK_DONE;
}

static int is_status_word(const unsigned char *s, size_t n)
{
  static const struct {
    const char *w;
    int type;
  } words[] = {
    {"OK", MAIL_IMAP_TYPE_OK},   {"NO", MAIL_IMAP_TYPE_NO},           {"BAD", MAIL_IMAP_TYPE_BAD},
    {"BYE", MAIL_IMAP_TYPE_BYE}, {"PREAUTH", MAIL_IMAP_TYPE_PREAUTH},
  };
  for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
    if (imap_mem_ieq(s, n, words[k].w))
      return words[k].type;
  return 0;
}

/* The rest of a status response: an optional "[code args]" and text. */
static int tok_status(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  while (s < e && *s == ' ')
    s++;
  if (s < e && *s == '[') {
    const unsigned char *name = s + 1, *t = name;
    while (t < e && *t != ' ' && *t != ']')
      t++;
    p->code_first = imap_node_count(p);
    imap_add_node(p, IMAP_N_ATOM, imap_rel(p, name), (uint32_t)(t - name), imap_rel(p, t));
    p->top_limit = p->top_count + (uint32_t)p->lim.max_items;
    const unsigned char *args = t;
    while (args < e && *args == ' ')
      args++;
    const unsigned char *stop = NULL;
    int rc = tok_args(p, t, e, 1, &stop);
    if (rc < 0)
      return rc;
    while (p->depth && !p->skipping)
      close_list(p, imap_rel(p, e));
    p->code_end = imap_node_count(p);
    if (stop) {
      p->has_code = 1;
      p->code_raw_off = imap_rel(p, args);
      p->code_raw_len = stop > args ? (uint32_t)(stop - args) : 0;
      s = stop + 1;
    } else {
      /* No "]": not a code after all; it stays text. */
      imap_defect_add(p, MAIL_IMAP_DEFECT_CODE, imap_rel(p, name), (uint32_t)(t - name), 1,
                      imap_rel(p, s), imap_rel(p, e));
      p->nnodes = p->code_first;
      p->nodes.len = p->code_first * sizeof(imap_node);
      p->top_count = p->code_first;
      p->skipping = 0;
      p->code_end = p->code_first;
    }
    while (s < e && *s == ' ')
      s++;
  }
  while (e > s && e[-1] == ' ')
    e--;
  p->text_off = imap_rel(p, s);
  p->text_len = (uint32_t)(e - s);
  return TOK_DONE;
}

/* The first line of a response: tag, number, name, then the rest. */
static int tok_first(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  if (s == e)
    return TOK_EMPTY;
  if (*s == '[') {
    /* a bare "[CODE ...] text" line with no "*" (Exchange): an untagged OK */
    imap_add_node(p, IMAP_N_ATOM, imap_rel(p, s), 0, imap_rel(p, s));
    p->resp.kind = MAIL_IMAP_KIND_UNTAGGED;
    p->status = MAIL_IMAP_TYPE_OK;
    return tok_status(p, s, e);
  }
  const unsigned char *t = s;
  while (t < e && *t != ' ')
    t++;
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, s), (uint32_t)(t - s), imap_rel(p, t));
  int plus = t - s == 1 && *s == '+';
  int star = t - s == 1 && *s == '*';
  p->resp.kind = plus ? MAIL_IMAP_KIND_CONTINUATION
                      : star ? MAIL_IMAP_KIND_UNTAGGED : MAIL_IMAP_KIND_TAGGED;
  if (plus) {
    if (t < e)
      t++;
    p->text_off = imap_rel(p, t);
    p->text_len = (uint32_t)(e - t);
    return TOK_DONE;
  }
  while (t < e && *t == ' ')
    t++;
  /* Everything after the tag is the text of an unknown response. */
  p->text_off = imap_rel(p, t);
  p->text_len = (uint32_t)(e - t);
  if (t < e && *t == '[') {
    p->status = MAIL_IMAP_TYPE_OK;
    return tok_status(p, t, e);
  }
  const unsigned char *w = t;
  while (t < e && *t != ' ' && *t != '(')
    t++;
  int numeric = t > w;
  for (const unsigned char *u = w; u < t; u++)
    numeric &= *u >= '0' && *u <= '9';
  if (star && numeric) {
    uint64_t v = 0;
    for (const unsigned char *u = w; u < t && v <= UINT32_MAX; u++)
      v = v * 10 + (unsigned)(*u - '0');
    imap_add_node(p, IMAP_N_ATOM, imap_rel(p, w), (uint32_t)(t - w), imap_rel(p, t));
    while (t < e && *t == ' ')
      t++;
    w = t;
    while (t < e && *t != ' ' && *t != '(')
      t++;
    if (v <= UINT32_MAX && imap_mem_ieq(w, (size_t)(t - w), "FETCH")) {
      p->fetch = 1;
      p->fetch_seq = (uint32_t)v;
    }
  }
  int st = is_status_word(w, (size_t)(t - w));
  if (st && !numeric) {
    imap_add_node(p, IMAP_N_ATOM, imap_rel(p, w), (uint32_t)(t - w), imap_rel(p, t));
    p->status = st;
    return tok_status(p, t, e);
  }
  p->mode = IMAP_MODE_DATA;
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, w), (uint32_t)(t - w), imap_rel(p, t));
  p->top_limit = p->top_count + (uint32_t)p->lim.max_items;
  return tok_args(p, t, e, 0, NULL);
}

/* ------------------------------------------------------------ the driver */

void imap_cut(mail_imap_parser *p, size_t n)
{
  size_t before = p->pos - p->start, after = p->in.len - p->pos - n;
  if (before <= after) {
    if (before)
      memmove(p->in.data + p->start + n, p->in.data + p->start, before);
    p->start += n;
    p->pos += n;
  } else {
    if (after)
      memmove(p->in.data + p->pos, p->in.data + p->pos + n, after);
    p->in.len -= n;
  }
  p->scan = p->pos;
}

static int complete(mail_imap_parser *p, const mail_imap_response **out)
{
  if (p->depth && !p->skipping)
    imap_defect_add(p, MAIL_IMAP_DEFECT_SYNTAX, 0, 0, 0, (uint32_t)(p->pos - p->start),
                    (uint32_t)(p->pos - p->start));
  while (p->depth) {
    imap_node *nd = &imap_nodes(p)[p->stack[--p->depth]];
    nd->end = (uint32_t)(p->pos - p->start);
    nd->next = imap_node_count(p);
  }
  mail_imap_response *r = &p->resp;
  r->base = (const char *)p->in.data + p->start;
  r->span_start = p->resp_start;
  r->span_end = p->stream_pos;
  int rc = imap_interpret(p);
  if (!rc && p->nomem)
    rc = MAIL_ERR_NOMEM;
  if (rc)
    return imap_fail(p, rc);
  size_t nsec = p->sections.len / sizeof(struct mail_imap_section *);
  struct mail_imap_section **secs = (struct mail_imap_section **)p->sections.data;
  for (size_t i = 0; i < nsec; i++)
    resolve_section(p, secs[i]);
  r->sections = secs;
  r->nsections = nsec;
  r->defects = (imap_defect *)p->defects.data;
  r->copied = (const char *)p->esc.data;
  r->ndefects = p->defects.len / sizeof(imap_defect);
  p->mode = IMAP_MODE_DONE;
  p->returned = 1;
  p->greeting = 0;
  *out = r;
  return MAIL_OK;
}

int mail_imap_parser_next(mail_imap_parser *p, const mail_imap_response **resp)
{
  if (!p || !resp)
    return MAIL_ERR_INVALID;
  *resp = NULL;
  if (p->err)
    return p->err;
  release_returned(p);
  for (;;) {
    if (p->state == IMAP_ST_LINE && p->mode == IMAP_MODE_START) {
      /* SEARCH and SORT grow with the mailbox: read as they arrive */
      int rc = imap_list_begin(p);
      if (rc == MAIL_ERR_AGAIN)
        return rc;
      if (rc == 1)
        p->state = IMAP_ST_LIST;
    }
    if (p->state == IMAP_ST_LIST) {
      int rc = imap_list_step(p);
      if (p->err)
        return p->err;
      if (rc == MAIL_OK)
        return complete(p, resp);
      if (rc == MAIL_ERR_AGAIN && p->state == IMAP_ST_LIST)
        return rc;
      continue;
    }
    if (p->state == IMAP_ST_LINE) {
      const unsigned char *lf = NULL;
      if (p->scan < p->in.len)
        lf = memchr(p->in.data + p->scan, '\n', p->in.len - p->scan);
      if (!lf) {
        p->scan = p->in.len;
        if (p->in.len - p->start > p->lim.max_response)
          return imap_fail(p, MAIL_ERR_LIMIT);
        if (!p->eof)
          return MAIL_ERR_AGAIN;
        if (p->in.len == p->start && p->mode == IMAP_MODE_START)
          return MAIL_ERR_CLOSED;
        return imap_fail(p, MAIL_ERR_CLOSED);
      }
      size_t eol = (size_t)(lf - p->in.data);
      if (eol + 1 - p->start > p->lim.max_response)
        return imap_fail(p, MAIL_ERR_LIMIT);
      const unsigned char *s = p->in.data + p->pos;
      const unsigned char *e = lf;
      if (e > s && e[-1] == '\r')
        e--;
      int rc;
      if (p->mode == IMAP_MODE_START)
        rc = tok_first(p, s, e);
      else
        rc = tok_args(p, s, e, 0, NULL);
      if (rc < 0 || p->err)
        return imap_fail(p, rc < 0 ? rc : p->err);
      p->stream_pos += eol + 1 - p->pos;
      p->pos = p->scan = eol + 1;
      if (rc == TOK_EMPTY) {
        p->start = p->pos;
        p->resp_start = p->stream_pos;
        p->nodes.len = 0;
        p->nnodes = 0;
        continue;
      }
      if (rc == TOK_DONE)
        return complete(p, resp);
      rc = literal_begin(p, p->lit_left);
      if (rc)
        return imap_fail(p, rc);
      continue;
    }
    if (p->state == IMAP_ST_HOLD) {
      if (p->in.len - p->pos < p->lit_left) {
        if (p->eof)
          return imap_fail(p, MAIL_ERR_CLOSED);
        return MAIL_ERR_AGAIN;
      }
      p->pos += (size_t)p->lit_left;
      p->stream_pos += p->lit_left;
      p->scan = p->pos;
      p->state = IMAP_ST_LINE;
      continue;
    }
    /* IMAP_ST_STREAM or IMAP_ST_SKIP */
    if (p->lit_left == 0) {
      if (p->state == IMAP_ST_STREAM) {
        int rc = body_event(p, MAIL_IMAP_BODY_END, NULL, 0);
        if (rc)
          return rc;
      }
      p->state = p->listing ? IMAP_ST_LIST : IMAP_ST_LINE;
      continue;
    }
    size_t avail = p->in.len - p->pos;
    if (avail > p->lit_left)
      avail = (size_t)p->lit_left;
    if (!avail) {
      if (p->eof)
        return imap_fail(p, MAIL_ERR_CLOSED);
      return MAIL_ERR_AGAIN;
    }
    if (p->state == IMAP_ST_STREAM) {
      int rc = body_event(p, MAIL_IMAP_BODY_DATA, p->in.data + p->pos, avail);
      if (rc)
        return rc;
    }
    imap_cut(p, avail);
    p->lit_left -= avail;
    p->stream_pos += avail;
  }
}

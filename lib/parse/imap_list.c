/* Results that grow with the mailbox (SEARCH, SORT, ESEARCH, VANISHED,
 * THREAD): a million UIDs is one line of several MiB, so their text is
 * never held. Tokens are taken as soon as they are complete (a sequence
 * set piece by piece, at its commas), the bytes taken are dropped from the
 * input, and what they mean goes straight into compact arrays bounded by
 * max_items: uint32_t numbers, ranges, thread nodes. Everything else in
 * such a response (a "(MODSEQ n)", ESEARCH's other items, a token that
 * does not fit, what comes past max_items) counts against max_response. */
#include "parse/imap_internal.h"

#include <string.h>

enum { LIST_NUMBERS = 1, LIST_VANISHED, LIST_ESEARCH, LIST_THREAD };

/* A response is read this way when it is "*", spaces, one of these names
 * and then a space, "(", or the line end. */
static const struct {
  const char *name;
  int kind;
} list_names[] = {
  {"SEARCH", LIST_NUMBERS},   {"SORT", LIST_NUMBERS},   {"ESEARCH", LIST_ESEARCH},
  {"VANISHED", LIST_VANISHED}, {"THREAD", LIST_THREAD},
};
#define LONGEST_NAME 8

/* Phases of ESEARCH: before "(TAG ...)", before "UID", an item's name
 * expected, its value expected. VANISHED: before "(EARLIER)", after it,
 * after the set. */
enum { PH_START = 0, PH_TAGGED, PH_NAME, PH_VALUE, PH_DONE };

/* An ESEARCH item while the response is read: offsets in p->esc. */
typedef struct list_pair {
  uint32_t name_off, name_len, val_off, val_len;
  int val_is_set;
} list_pair;

/* An open THREAD list: the node its members hang from and the last one. */
typedef struct thread_frame {
  uint32_t parent, cur;
  int any, branched;
} thread_frame;

#define NO_NODE UINT32_MAX

int imap_list_begin(mail_imap_parser *p)
{
  if (p->pos == p->in.len) /* (the buffer may not be allocated yet) */
    return p->eof ? 0 : MAIL_ERR_AGAIN;
  const unsigned char *s = p->in.data + p->pos, *e = p->in.data + p->in.len;
  const unsigned char *t = s;
  if (*t != '*')
    return 0;
  for (t++; t < e && *t == ' '; t++)
    ;
  if (t == s + 1 && t < e)
    return 0; /* "*" not followed by a space */
  const unsigned char *name = t;
  while (t < e && *t != ' ' && *t != '(' && *t != '\r' && *t != '\n' &&
         (size_t)(t - name) <= LONGEST_NAME)
    t++;
  if ((size_t)(t - name) > LONGEST_NAME)
    return 0;
  /* the byte after the name decides; "\r" only when "\n" follows it */
  if (t == e || (*t == '\r' && t + 1 == e))
    return p->eof || (size_t)(e - s) > p->lim.max_response ? 0 : MAIL_ERR_AGAIN;
  if (*t == '\r' && t[1] != '\n')
    return 0;
  int kind = 0;
  for (size_t k = 0; k < sizeof list_names / sizeof list_names[0]; k++)
    if (imap_mem_ieq(name, (size_t)(t - name), list_names[k].name))
      kind = list_names[k].kind;
  if (!kind)
    return 0;
  p->resp.kind = MAIL_IMAP_KIND_UNTAGGED;
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, s), 1, imap_rel(p, s + 1));
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, name), (uint32_t)(t - name), imap_rel(p, t));
  p->text_off = imap_rel(p, name);
  p->text_len = (uint32_t)(t - name);
  p->mode = IMAP_MODE_DATA;
  p->listing = kind;
  p->list_phase = PH_START;
  p->set_next = kind == LIST_VANISHED;
  p->work.len = 0;
  p->stream_pos += (uint64_t)(t - s);
  p->pos += (size_t)(t - s);
  return p->err ? p->err : 1;
}

/* ------------------------------------------------------------ bounds and copies */

/* Bytes of the response that are not kept numbers: bounded like a reply. */
static int waste(mail_imap_parser *p, size_t n)
{
  p->list_waste += n;
  if (p->list_waste > p->lim.max_response)
    return imap_fail(p, MAIL_ERR_LIMIT);
  return MAIL_OK;
}

/* Copy n bytes into the copy buffer; its offset into *off. */
static int copy(mail_imap_parser *p, const unsigned char *s, size_t n, uint32_t *off)
{
  *off = (uint32_t)p->esc.len;
  if (n && mail_buf_append(&p->esc, s, n))
    return imap_fail(p, MAIL_ERR_NOMEM);
  return MAIL_OK;
}

/* A defect whose bytes are in the copy buffer at off; an atom names
 * itself, as in a response held whole. */
static int copied_defect(mail_imap_parser *p, int kind, uint32_t off, size_t n, int atom)
{
  if (p->defects.len / sizeof(imap_defect) >= 2u * p->lim.max_items)
    return MAIL_OK;
  imap_defect d;
  memset(&d, 0, sizeof d);
  d.kind = kind;
  d.copied = 1;
  d.item_off = d.raw_off = off;
  d.raw_len = (uint32_t)n;
  d.has_item = atom;
  d.item_len = atom ? (uint32_t)n : 0;
  if (mail_buf_append(&p->defects, &d, sizeof d))
    return imap_fail(p, MAIL_ERR_NOMEM);
  return MAIL_OK;
}

/* A token that does not fit: a defect holding a copy of its bytes (the
 * input they were in is dropped); they count against max_response. */
static int list_defect(mail_imap_parser *p, int kind, const unsigned char *s, size_t n)
{
  uint32_t off;
  if (waste(p, n) || copy(p, s, n, &off))
    return p->err;
  return copied_defect(p, kind, off, n,
                       kind != MAIL_IMAP_DEFECT_SYNTAX && n && *s != '"' && *s != '(');
}

/* One more entry of size bytes in p->list, unless max_items are there:
 * then a too-many defect (once) and NULL with no error. */
static void *list_add(mail_imap_parser *p, size_t size, size_t n_bytes)
{
  if (!p->list_over && p->list.len / size < p->lim.max_items) {
    if (mail_buf_reserve(&p->list, size)) {
      imap_fail(p, MAIL_ERR_NOMEM);
      return NULL;
    }
    void *at = p->list.data + p->list.len;
    p->list.len += size;
    return at;
  }
  if (!p->list_over) {
    p->list_over = 1;
    uint32_t off = imap_rel(p, p->in.data + p->pos);
    imap_defect_add(p, MAIL_IMAP_DEFECT_TOO_MANY, 0, 0, 0, off, off);
  }
  waste(p, n_bytes);
  return NULL;
}

/* ------------------------------------------------------------ tokens */

/* Digits only, 1 to 2^32 - 1 (a sequence number or UID). */
static int nz_number(const unsigned char *s, const unsigned char *e, uint32_t *out)
{
  uint64_t v = 0;
  if (s == e)
    return -1;
  for (; s < e; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    v = v * 10 + (unsigned)(*s - '0');
    if (v > UINT32_MAX)
      return -1;
  }
  if (!v)
    return -1;
  *out = (uint32_t)v;
  return 0;
}

/* One piece of a sequence set ("7" or "3:9", either order): a range. */
static int set_piece(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  const unsigned char *colon = memchr(s, ':', (size_t)(e - s));
  uint32_t a, b;
  if (nz_number(s, colon ? colon : e, &a) || (colon && nz_number(colon + 1, e, &b)))
    return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, (size_t)(e - s));
  if (!colon)
    b = a;
  imap_range *r = list_add(p, sizeof *r, (size_t)(e - s));
  if (r) {
    r->first = a < b ? a : b;
    r->last = a < b ? b : a;
  }
  return p->err;
}

/* The set as sent is kept while it is short enough to be held. */
static int set_text(mail_imap_parser *p, const unsigned char *s, size_t n)
{
  if (p->set_text_over)
    return MAIL_OK;
  if (p->set_text.len + n > p->lim.max_response) {
    p->set_text_over = 1;
    mail_buf_free(&p->set_text);
    return MAIL_OK;
  }
  if (mail_buf_append(&p->set_text, s, n))
    return imap_fail(p, MAIL_ERR_NOMEM);
  return MAIL_OK;
}

static void set_end(mail_imap_parser *p)
{
  p->in_set = 0;
  if (p->listing == LIST_VANISHED)
    p->list_phase = PH_DONE;
  else
    p->list_phase = PH_NAME; /* ESEARCH ALL: its pair was recorded at the name */
}

/* "(NAME value)" with one value: the value's bytes into *v, *vn. */
static int group_of(const unsigned char *s, const unsigned char *e, const char *name,
                    const unsigned char **v, size_t *vn)
{
  size_t k = strlen(name);
  if (e - s < (ptrdiff_t)(k + 2) || e[-1] != ')' || !imap_prefix_ieq(s + 1, k, name))
    return 0;
  const unsigned char *t = s + 1 + k, *end = e - 1;
  if (t == end) {
    *v = t;
    *vn = 0;
    return 1;
  }
  if (*t != ' ')
    return 0;
  while (t < end && *t == ' ')
    t++;
  if (end - t >= 2 && *t == '"' && end[-1] == '"') {
    t++;
    end--;
  }
  *v = t;
  *vn = (size_t)(end - t);
  return 1;
}

static int numbers_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  size_t n = (size_t)(e - s);
  const unsigned char *v;
  size_t vn;
  uint64_t num;
  if (*s == '(') {
    if (group_of(s, e, "MODSEQ", &v, &vn) && vn &&
        imap_str_num((const char *)v, vn, &num) == 0) {
      p->resp.modseq = num;
      p->resp.has_modseq = 1;
      return waste(p, n);
    }
    return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, n);
  }
  if (imap_str_num((const char *)s, n, &num) != 0 || num == 0 || num > UINT32_MAX)
    return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, n);
  uint32_t *at = list_add(p, sizeof *at, n);
  if (at)
    *at = (uint32_t)num;
  return p->err;
}

static int vanished_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  const unsigned char *v;
  size_t vn;
  if (p->list_phase == PH_START && *s == '(' && group_of(s, e, "EARLIER", &v, &vn) && !vn) {
    p->resp.earlier = 1;
    p->list_phase = PH_TAGGED;
    return waste(p, (size_t)(e - s));
  }
  return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, (size_t)(e - s));
}

static int esearch_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  size_t n = (size_t)(e - s);
  const unsigned char *v;
  size_t vn;
  if (p->list_phase == PH_START && *s == '(') {
    p->list_phase = PH_TAGGED;
    if (!group_of(s, e, "TAG", &v, &vn) || !vn)
      return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, n);
    p->has_esearch_tag = 1;
    p->esearch_tag_len = (uint32_t)vn;
    return waste(p, n) ? p->err : copy(p, v, vn, &p->esearch_tag_off);
  }
  if (p->list_phase <= PH_TAGGED && imap_mem_ieq(s, n, "UID")) {
    p->resp.esearch_uid = 1;
    p->list_phase = PH_NAME;
    return waste(p, n);
  }
  if (p->list_phase != PH_VALUE) {
    if (*s == '(' || *s == '"')
      return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, n);
    if (waste(p, n))
      return p->err;
    list_pair pr;
    memset(&pr, 0, sizeof pr);
    pr.name_len = (uint32_t)n;
    if (copy(p, s, n, &pr.name_off))
      return p->err;
    pr.val_is_set = imap_mem_ieq(s, n, "ALL");
    if (mail_buf_append(&p->list_pairs, &pr, sizeof pr))
      return imap_fail(p, MAIL_ERR_NOMEM);
    p->list_phase = PH_VALUE;
    p->set_next = pr.val_is_set;
    return MAIL_OK;
  }
  /* the value of the last item (not ALL's: that one is a set) */
  list_pair *pr = (list_pair *)(p->list_pairs.data + p->list_pairs.len) - 1;
  if (*s == '"' && n >= 2 && e[-1] == '"') {
    s++;
    n -= 2;
  }
  pr->val_len = (uint32_t)n;
  p->list_phase = PH_NAME;
  return waste(p, (size_t)(e - s)) ? p->err : copy(p, s, n, &pr->val_off);
}

/* THREAD: "(" and ")" open and close lists; numbers chain inside them. */
static int thread_paren(mail_imap_parser *p, const unsigned char *s)
{
  size_t depth = p->work.len / sizeof(thread_frame);
  thread_frame *top = depth ? (thread_frame *)p->work.data + depth - 1 : NULL;
  if (*s == ')') {
    if (!top)
      return list_defect(p, MAIL_IMAP_DEFECT_SYNTAX, s, 1);
    p->work.len -= sizeof(thread_frame);
    return MAIL_OK;
  }
  if (depth >= p->lim.max_depth) {
    p->list_skip = 1;
    uint32_t off = imap_rel(p, p->in.data + p->pos);
    imap_defect_add(p, MAIL_IMAP_DEFECT_TOO_DEEP, 0, 0, 0, off, off);
    return MAIL_OK;
  }
  uint32_t parent = NO_NODE;
  if (top) {
    if (!top->any) {
      /* a list that starts with a list: the threads share no message */
      imap_thread *t = list_add(p, sizeof *t, 1);
      if (!t)
        return p->err;
      t->number = 0;
      t->parent = top->parent;
      top->cur = (uint32_t)(p->list.len / sizeof *t - 1);
    }
    top->any = top->branched = 1;
    parent = top->cur;
  }
  if (mail_buf_reserve(&p->work, sizeof(thread_frame)))
    return imap_fail(p, MAIL_ERR_NOMEM);
  thread_frame *f = (thread_frame *)(p->work.data + p->work.len);
  p->work.len += sizeof *f;
  f->parent = f->cur = parent;
  f->any = f->branched = 0;
  return MAIL_OK;
}

static int thread_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  size_t depth = p->work.len / sizeof(thread_frame);
  thread_frame *top = depth ? (thread_frame *)p->work.data + depth - 1 : NULL;
  uint64_t v;
  if (!top || top->branched || imap_str_num((const char *)s, (size_t)(e - s), &v) != 0 ||
      v > UINT32_MAX)
    return list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, s, (size_t)(e - s));
  imap_thread *t = list_add(p, sizeof *t, (size_t)(e - s));
  if (!t)
    return p->err;
  t->number = (uint32_t)v;
  t->parent = top->cur;
  top->cur = (uint32_t)(p->list.len / sizeof *t - 1);
  top->any = 1;
  return MAIL_OK;
}

static int list_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  if (p->list_skip)
    return waste(p, (size_t)(e - s));
  switch (p->listing) {
  case LIST_NUMBERS:
    return numbers_token(p, s, e);
  case LIST_VANISHED:
    return vanished_token(p, s, e);
  case LIST_ESEARCH:
    return esearch_token(p, s, e);
  default:
    return thread_token(p, s, e);
  }
}

/* Where the token starting at s ends, NULL when it may go on past e
 * (the line end has not come). A list runs to its closing parenthesis
 * (in THREAD, parentheses are tokens of their own), a quoted string to
 * its closing quote. */
static const unsigned char *token_end(mail_imap_parser *p, const unsigned char *s,
                                      const unsigned char *e, int line_done)
{
  const unsigned char *t = s;
  if (*t == '(' && p->listing != LIST_THREAD) {
    unsigned depth = 0;
    int quote = 0;
    for (; t < e; t++) {
      quote |= *t == '"';
      if (*t == '(')
        depth++;
      else if (*t == ')' && --depth == 0)
        return t + 1;
    }
    if (!line_done)
      return NULL;
    /* Left open at the line end: a literal marker that is a word of its
     * own there ("(MODSEQ {3}") is still a literal, outside quotes. */
    const unsigned char *m = e;
    while (m > s && *--m != ' ' && *m != '(')
      ;
    uint64_t n;
    if (!quote && m + 1 < e && imap_literal_marker(m + 1, e, &n))
      return m + 1;
    return e;
  }
  if (*t == '"') {
    const unsigned char *q = memchr(t + 1, '"', (size_t)(e - t - 1));
    if (q)
      return q + 1;
    return line_done ? e : NULL;
  }
  while (t < e && *t != ' ' && *t != '(' && (*t != ')' || p->listing != LIST_THREAD))
    t++;
  return t < e || line_done ? t : NULL;
}

/* ------------------------------------------------------------ the loop */

/* The response's last line has been read: its typed results. */
static int list_finish(mail_imap_parser *p)
{
  mail_imap_response *r = &p->resp;
  if (p->in_set)
    set_end(p);
  switch (p->listing) {
  case LIST_NUMBERS:
    r->nums = (uint32_t *)p->list.data;
    r->nnums = p->list.len / sizeof(uint32_t);
    break;
  case LIST_VANISHED:
  case LIST_ESEARCH:
    r->ranges = (imap_range *)p->list.data;
    r->nranges = p->list.len / sizeof(imap_range);
    imap_str set = {NULL, 0};
    if (p->set_seen && !p->set_text_over) {
      set.p = p->set_text.data ? (const char *)p->set_text.data : "";
      set.n = p->set_text.len;
    }
    if (p->listing == LIST_VANISHED) {
      r->set = set;
      if (!p->set_seen)
        imap_item_defect(p, MAIL_IMAP_DEFECT_RESPONSE, 1, 1);
      break;
    }
    r->is_esearch = 1;
    size_t np = p->list_pairs.len / sizeof(list_pair);
    const list_pair *lp = (const list_pair *)p->list_pairs.data;
    if (p->list_phase == PH_VALUE && np) {
      /* the last name has no value */
      np--;
      copied_defect(p, MAIL_IMAP_DEFECT_RESPONSE, lp[np].name_off, lp[np].name_len, 1);
    }
    /* the copy buffer is complete: pointers into it from here */
    const char *esc = (const char *)p->esc.data;
    if (p->has_esearch_tag) {
      r->esearch_tag.p = esc + p->esearch_tag_off;
      r->esearch_tag.n = p->esearch_tag_len;
    }
    if (np && !(r->pairs = imap_arena_array(&p->arena, np, sizeof *r->pairs)))
      return imap_fail(p, MAIL_ERR_NOMEM);
    for (size_t i = 0; i < np; i++) {
      imap_pair *pr = &r->pairs[i];
      pr->name.p = esc + lp[i].name_off;
      pr->name.n = lp[i].name_len;
      if (lp[i].val_is_set) {
        pr->value = set;
      } else {
        pr->value.p = lp[i].val_len ? esc + lp[i].val_off : "";
        pr->value.n = lp[i].val_len;
      }
    }
    r->npairs = np;
    break;
  default:
    if (p->work.len && !p->list_skip)
      imap_defect_add(p, MAIL_IMAP_DEFECT_SYNTAX, 0, 0, 0, (uint32_t)(p->pos - p->start),
                      (uint32_t)(p->pos - p->start));
    p->work.len = 0;
    r->thread = (imap_thread *)p->list.data;
    r->nthread = p->list.len / sizeof(imap_thread);
    break;
  }
  return p->err;
}

int imap_list_step(mail_imap_parser *p)
{
  const unsigned char *s = p->in.data + p->pos, *avail = p->in.data + p->in.len;
  const unsigned char *lf = memchr(s, '\n', (size_t)(avail - s));
  const unsigned char *e = lf ? lf : avail;
  /* a CR at the end may be half of the line end: not a byte of a token */
  if (e > s && e[-1] == '\r')
    e--;
  const unsigned char *t = s;
  while (t < e && !p->err) {
    if (*t == ' ') {
      if (p->in_set)
        set_end(p);
      t++;
      continue;
    }
    /* a literal marker that is a word of its own at the line end */
    uint64_t n;
    int m = lf && (*t == '{' || *t == '~') && !p->in_set ? imap_literal_marker(t, e, &n) : 0;
    if (m < 0)
      return imap_fail(p, m);
    if (m == 1) {
      /* no literal belongs in these responses: a defect, its bytes skipped */
      p->set_next = 0;
      if (list_defect(p, MAIL_IMAP_DEFECT_RESPONSE, t, (size_t)(e - t)))
        return p->err;
      if (n > p->lim.max_response || waste(p, (size_t)n))
        return imap_fail(p, MAIL_ERR_LIMIT);
      size_t used = (size_t)(lf + 1 - s);
      imap_cut(p, used);
      p->stream_pos += used;
      p->lit_left = n;
      p->state = IMAP_ST_SKIP;
      return MAIL_ERR_AGAIN;
    }
    if (p->set_next && (*t != '(' || p->listing == LIST_ESEARCH)) {
      if (!lf && (*t == '{' || *t == '~'))
        break; /* a literal marker if the line ends there: wait and see */
      p->set_next = 0;
      p->in_set = p->set_seen = 1;
    }
    if (p->in_set) {
      /* a sequence set is taken piece by piece: it may be MiB long */
      const unsigned char *pe = t;
      while (pe < e && *pe != ',' && *pe != ' ')
        pe++;
      if (pe == e && !lf)
        break;
      if (pe < e && *pe == ',')
        pe++;
      if (!p->list_skip && pe > t + (*(pe - 1) == ','))
        set_piece(p, t, pe - (*(pe - 1) == ','));
      if (!p->err)
        set_text(p, t, (size_t)(pe - t));
      t = pe;
      continue;
    }
    if (p->listing == LIST_THREAD && (*t == '(' || *t == ')')) {
      if (p->list_skip)
        waste(p, 1);
      else
        thread_paren(p, t);
      t++;
      continue;
    }
    const unsigned char *te = token_end(p, t, e, lf != NULL);
    if (!te)
      break;
    list_token(p, t, te);
    t = te;
  }
  if (p->err)
    return p->err;
  size_t used = (size_t)(t - s);
  if (used) {
    imap_cut(p, used);
    p->stream_pos += used;
  }
  if (!lf || t < e) {
    /* what waits is one unfinished token (or set piece): held, so bounded */
    if (p->in.len - p->start > p->lim.max_response)
      return imap_fail(p, MAIL_ERR_LIMIT);
    if (p->eof)
      return imap_fail(p, MAIL_ERR_CLOSED);
    return MAIL_ERR_AGAIN;
  }
  /* the line end: the response is complete */
  size_t rest = p->in.len - p->pos;
  const unsigned char *now = p->in.data + p->pos;
  size_t term = (size_t)((const unsigned char *)memchr(now, '\n', rest) + 1 - now);
  p->pos += term;
  p->scan = p->pos;
  p->stream_pos += term;
  p->state = IMAP_ST_LINE;
  return list_finish(p) ? p->err : MAIL_OK;
}

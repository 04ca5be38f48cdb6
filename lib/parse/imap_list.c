/* SEARCH and SORT results grow with the mailbox: a million UIDs is one
 * line of several MiB. Their text is never held: tokens are taken as
 * soon as they are complete, numbers go into a uint32_t array bounded by
 * max_items, and the bytes taken are dropped from the input. Everything
 * else in such a response (a "(MODSEQ n)", a token that is not a number,
 * the numbers past max_items, a literal) is bounded by max_response. */
#include "parse/imap_internal.h"

#include <string.h>

/* The names read this way; a response is one when "*", spaces, the name
 * and then a space, "(", or the line end. */
static const char *const list_names[] = {"SEARCH", "SORT"};
#define LONGEST_NAME 6

int imap_list_begin(mail_imap_parser *p)
{
  const unsigned char *s = p->in.data + p->pos, *e = p->in.data + p->in.len;
  const unsigned char *t = s;
  if (t == e)
    return p->eof ? 0 : MAIL_ERR_AGAIN;
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
  int known = 0;
  for (size_t k = 0; k < sizeof list_names / sizeof list_names[0]; k++)
    known |= imap_mem_ieq(name, (size_t)(t - name), list_names[k]);
  if (!known)
    return 0;
  p->resp.kind = MAIL_IMAP_KIND_UNTAGGED;
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, s), 1, imap_rel(p, s + 1));
  imap_add_node(p, IMAP_N_ATOM, imap_rel(p, name), (uint32_t)(t - name), imap_rel(p, t));
  p->text_off = imap_rel(p, name);
  p->text_len = (uint32_t)(t - name);
  p->mode = IMAP_MODE_DATA;
  p->listing = 1;
  p->stream_pos += (uint64_t)(t - s);
  p->pos += (size_t)(t - s);
  return p->err ? p->err : 1;
}

/* Bytes of the response that are not kept numbers: bounded like a reply. */
static int waste(mail_imap_parser *p, size_t n)
{
  p->list_waste += n;
  if (p->list_waste > p->lim.max_response)
    return imap_fail(p, MAIL_ERR_LIMIT);
  return MAIL_OK;
}

/* A token that is not a number: a defect holding a copy of its bytes
 * (the input they were in is dropped). */
static int list_defect(mail_imap_parser *p, const unsigned char *s, size_t n)
{
  if (p->defects.len / sizeof(imap_defect) >= 2u * p->lim.max_items)
    return MAIL_OK;
  imap_defect d;
  memset(&d, 0, sizeof d);
  d.kind = MAIL_IMAP_DEFECT_RESPONSE;
  d.copied = 1;
  d.raw_off = d.item_off = (uint32_t)p->esc.len;
  d.raw_len = (uint32_t)n;
  /* an atom names itself, as in a response held whole */
  d.has_item = *s != '"' && *s != '(';
  d.item_len = d.has_item ? (uint32_t)n : 0;
  if (mail_buf_append(&p->esc, s, n) || mail_buf_append(&p->defects, &d, sizeof d))
    return imap_fail(p, MAIL_ERR_NOMEM);
  return MAIL_OK;
}

/* "(MODSEQ n)" of a CONDSTORE SEARCH or SORT. */
static int modseq_group(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  const unsigned char *t = s + 1, *end = e - 1;
  if (e - s >= 2 && *end == ')' && end - t > 7 && imap_prefix_ieq(t, (size_t)(end - t), "MODSEQ") &&
      t[6] == ' ') {
    t += 7;
    while (t < end && *t == ' ')
      t++;
    uint64_t v;
    if (t < end && imap_str_num((const char *)t, (size_t)(end - t), &v) == 0) {
      p->resp.modseq = v;
      p->resp.has_modseq = 1;
      return MAIL_OK;
    }
  }
  return list_defect(p, s, (size_t)(e - s));
}

static int list_token(mail_imap_parser *p, const unsigned char *s, const unsigned char *e)
{
  size_t n = (size_t)(e - s);
  if (*s == '(') {
    int rc = waste(p, n);
    return rc ? rc : modseq_group(p, s, e);
  }
  uint64_t v;
  if (imap_str_num((const char *)s, n, &v) != 0 || v == 0 || v > UINT32_MAX) {
    int rc = waste(p, n);
    return rc ? rc : list_defect(p, s, n);
  }
  if (p->list_over || p->list.len / sizeof(uint32_t) >= p->lim.max_items) {
    if (!p->list_over) {
      p->list_over = 1;
      uint32_t off = imap_rel(p, p->in.data + p->pos);
      imap_defect_add(p, MAIL_IMAP_DEFECT_TOO_MANY, 0, 0, 0, off, off);
    }
    return waste(p, n);
  }
  uint32_t u = (uint32_t)v;
  if (mail_buf_append(&p->list, &u, sizeof u))
    return imap_fail(p, MAIL_ERR_NOMEM);
  return MAIL_OK;
}

/* Where the token starting at s ends, NULL when it may go on past e
 * (the line end has not come). A list runs to its closing parenthesis. */
static const unsigned char *token_end(const unsigned char *s, const unsigned char *e, int line_done)
{
  const unsigned char *t = s;
  if (*t == '(') {
    unsigned depth = 0;
    for (; t < e; t++) {
      if (*t == '(')
        depth++;
      else if (*t == ')' && --depth == 0)
        return t + 1;
    }
    return line_done ? e : NULL;
  }
  while (t < e && *t != ' ' && *t != '(')
    t++;
  return t < e || line_done ? t : NULL;
}

int imap_list_step(mail_imap_parser *p)
{
  const unsigned char *s = p->in.data + p->pos, *avail = p->in.data + p->in.len;
  const unsigned char *lf = memchr(s, '\n', (size_t)(avail - s));
  const unsigned char *e = lf ? lf : avail;
  if (lf && e > s && e[-1] == '\r')
    e--;
  const unsigned char *t = s;
  while (t < e && !p->err) {
    if (*t == ' ') {
      t++;
      continue;
    }
    const unsigned char *te = token_end(t, e, lf != NULL);
    if (!te)
      break;
    uint64_t n;
    int m = te == e && lf ? imap_literal_marker(t, te, &n) : 0;
    if (m < 0)
      return imap_fail(p, m);
    if (m == 1) {
      /* no literal belongs in a number list: a defect, its bytes skipped */
      if (list_defect(p, t, (size_t)(te - t)) || waste(p, (size_t)(te - t)))
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
    if (list_token(p, t, te))
      return p->err;
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
    /* what waits is one unfinished token: held, so bounded */
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
  return MAIL_OK;
}

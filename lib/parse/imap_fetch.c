/* FETCH responses: each item typed on its own (a malformed one becomes a
 * defect and the others stay), ENVELOPE with the known server habits, and
 * BODYSTRUCTURE built with an explicit stack (no recursion). */
#include "parse/imap_internal.h"

#include <string.h>

int imap_section_name(const char *s, size_t n, uint32_t *item_len, uint32_t *spec_off,
                      uint32_t *spec_len, uint64_t *origin, int *has_origin)
{
  *has_origin = 0;
  *origin = 0;
  size_t k;
  if (imap_prefix_ieq(s, n, "RFC822")) {
    if (n == 6 || (n == 13 && imap_prefix_ieq(s, n, "RFC822.HEADER")) ||
        (n == 11 && imap_prefix_ieq(s, n, "RFC822.TEXT"))) {
      *item_len = (uint32_t)n;
      *spec_off = (uint32_t)n;
      *spec_len = 0;
      return 1;
    }
    return 0;
  }
  if (imap_prefix_ieq(s, n, "BODY["))
    k = 4;
  else if (imap_prefix_ieq(s, n, "BINARY["))
    k = 6;
  else
    return 0;
  const char *close = memchr(s + k, ']', n - k);
  if (!close)
    return 0;
  *item_len = (uint32_t)k;
  *spec_off = (uint32_t)(k + 1);
  *spec_len = (uint32_t)(close - s - k - 1);
  const char *t = close + 1, *e = s + n;
  if (t == e)
    return 1;
  if (*t != '<' || e[-1] != '>' || e - t < 3)
    return 0;
  uint64_t v = 0;
  for (t++; t < e - 1; t++) {
    if (*t < '0' || *t > '9' || v > (UINT64_MAX - 9) / 10)
      return 0;
    v = v * 10 + (uint64_t)(*t - '0');
  }
  *origin = v;
  *has_origin = 1;
  return 1;
}

/* A list-or-NIL value at node i: 0 NIL or empty (nothing to read),
 * 1 neither (a bad shape), 2 a list with children. */
static int list_or_nil(const mail_imap_parser *p, uint32_t i)
{
  const imap_node *nd = &imap_nodes(p)[i];
  if (nd->type == IMAP_N_NIL)
    return 0;
  if (nd->type != IMAP_N_LIST)
    return 1;
  return nd->count ? 2 : 0;
}

/* ------------------------------------------------------------ ENVELOPE */

static int looks_like_date(imap_str s)
{
  /* "Mon, 1 Nov 2026 00:00:00 +0100": digits around a ':' */
  if (!s.p)
    return 0;
  for (size_t i = 1; i + 1 < s.n; i++)
    if (s.p[i] == ':' && s.p[i - 1] >= '0' && s.p[i - 1] <= '9' && s.p[i + 1] >= '0' &&
        s.p[i + 1] <= '9')
      return 1;
  return 0;
}

static int address_list(mail_imap_parser *p, uint32_t i, struct mail_imap_address **out,
                        size_t *n)
{
  const imap_node *nd = imap_nodes(p);
  *out = NULL;
  *n = 0;
  int k0 = list_or_nil(p, i);
  if (k0 < 2)
    return k0;
  struct mail_imap_address *a = imap_arena_array(&p->arena, nd[i].count, sizeof *a);
  if (!a)
    return -1;
  size_t k = 0;
  for (uint32_t c = i + 1; c < nd[i].next; c = nd[c].next) {
    if (nd[c].type != IMAP_N_LIST || nd[c].count != 4) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, c, c);
      continue;
    }
    uint32_t f = c + 1;
    imap_str *dst[4] = {&a[k].name, &a[k].adl, &a[k].mailbox, &a[k].host};
    int ok = 1;
    for (int j = 0; j < 4; j++, f = nd[f].next) {
      if (!imap_is_nstring(p, f))
        ok = 0;
      *dst[j] = imap_node_str(p, f);
    }
    if (!ok) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, c, c);
      continue;
    }
    k++;
  }
  *out = a;
  *n = k;
  return 0;
}

/* The fields start at node f (siblings). Some servers leave out the last
 * ones when the message lacks them: with nine, the ninth is the
 * Message-ID (In-Reply-To is the one more often absent); with eight, both
 * are NIL. NULL on a bad shape. */
static const struct mail_imap_envelope *envelope_fields(mail_imap_parser *p, uint32_t f,
                                                        uint32_t end, int *nomem)
{
  const imap_node *nd = imap_nodes(p);
  uint32_t idx[10];
  int k = 0;
  for (uint32_t c = f; c < end && k < 10; c = nd[c].next)
    idx[k++] = c;
  if (k < 8)
    return NULL;
  struct mail_imap_envelope *e = imap_arena_alloc(&p->arena, sizeof *e);
  if (!e) {
    *nomem = 1;
    return NULL;
  }
  int slot[4] = {0, 1, 8, 9};
  if (k == 9) {
    slot[2] = -1;
    slot[3] = 8;
  } else if (k == 8) {
    slot[2] = slot[3] = -1;
  }
  for (int j = 0; j < 4; j++) {
    if (slot[j] < 0)
      continue;
    uint32_t c = idx[slot[j]];
    if (!imap_is_nstring(p, c))
      return NULL;
    e->f[j] = imap_node_str(p, c);
  }
  /* Some servers swap date and subject. */
  if (!looks_like_date(e->f[0]) && looks_like_date(e->f[1])) {
    imap_str t = e->f[0];
    e->f[0] = e->f[1];
    e->f[1] = t;
  }
  for (int j = 0; j < 6; j++) {
    int rc = address_list(p, idx[2 + j], &e->a[j], &e->na[j]);
    if (rc < 0) {
      *nomem = 1;
      return NULL;
    }
    if (rc)
      return NULL;
  }
  return e;
}

/* ENVELOPE value at node v: a list of ten (or a list holding that list);
 * or, with the parentheses missing, ten siblings from v. *last gets the
 * last node used. */
static const struct mail_imap_envelope *envelope(mail_imap_parser *p, uint32_t v, uint32_t end,
                                                 uint32_t *last, int *nomem)
{
  const imap_node *nd = imap_nodes(p);
  *last = v;
  if (nd[v].type == IMAP_N_LIST) {
    uint32_t l = v;
    while (nd[l].count == 1 && nd[l + 1].type == IMAP_N_LIST)
      l++;
    return envelope_fields(p, l + 1, nd[l].next, nomem);
  }
  uint32_t c = v;
  for (int k = 0; k < 9 && c < end; k++)
    c = nd[c].next;
  if (c >= end)
    return NULL;
  *last = c;
  return envelope_fields(p, v, nd[c].next, nomem);
}

/* ------------------------------------------------------------ BODYSTRUCTURE */

static int params(mail_imap_parser *p, uint32_t i, imap_param **out, size_t *n)
{
  const imap_node *nd = imap_nodes(p);
  *out = NULL;
  *n = 0;
  int k0 = list_or_nil(p, i);
  if (k0 < 2)
    return k0;
  imap_param *a = imap_arena_array(&p->arena, (nd[i].count / 2 + 1), sizeof *a);
  if (!a)
    return -1;
  size_t k = 0;
  for (uint32_t c = i + 1; c < nd[i].next; c = nd[c].next) {
    uint32_t v = nd[c].next;
    if (v >= nd[i].next || !imap_is_string(p, c) || !imap_is_nstring(p, v))
      return 1;
    a[k].name = imap_node_str(p, c);
    a[k].value = imap_node_str(p, v);
    k++;
    c = v;
  }
  *out = a;
  *n = k;
  return 0;
}

/* An optional string or NIL at *c: 0 when there is none (the fields end),
 * -1 when it is not one (a bad shape), 1 when taken (*c moves past it). */
static int optional_nstring(const mail_imap_parser *p, uint32_t *c, uint32_t end, imap_str *dst)
{
  if (*c >= end)
    return 0;
  if (!imap_is_nstring(p, *c))
    return -1;
  *dst = imap_node_str(p, *c);
  *c = imap_nodes(p)[*c].next;
  return 1;
}

/* Optional extension fields from node c to end: disposition, language,
 * location, then anything else kept raw. */
static int body_ext(mail_imap_parser *p, struct mail_imap_body *b, uint32_t c, uint32_t end)
{
  const imap_node *nd = imap_nodes(p);
  if (c >= end)
    return 0;
  /* disposition: ("attachment" (params)) or NIL; some servers send a bare string */
  if (nd[c].type == IMAP_N_LIST) {
    if (nd[c].count < 1 || !imap_is_string(p, c + 1))
      return 1;
    b->f[MAIL_IMAP_BODY_DISPOSITION] = imap_node_str(p, c + 1);
    uint32_t pl = nd[c + 1].next;
    if (pl < nd[c].next) {
      int rc = params(p, pl, &b->params[1], &b->nparams[1]);
      if (rc)
        return rc;
    }
  } else if (imap_is_string(p, c)) {
    b->f[MAIL_IMAP_BODY_DISPOSITION] = imap_node_str(p, c);
  } else if (nd[c].type != IMAP_N_NIL) {
    return 1;
  }
  c = nd[c].next;
  if (c >= end)
    return 0;
  if (nd[c].type == IMAP_N_LIST) {
    if (imap_string_list(p, c, &b->lang, &b->nlang, 0))
      return -1;
  } else if (imap_is_string(p, c)) {
    b->lang = imap_arena_alloc(&p->arena, sizeof *b->lang);
    if (!b->lang)
      return -1;
    b->lang[0] = imap_node_str(p, c);
    b->nlang = 1;
  } else if (nd[c].type != IMAP_N_NIL) {
    return 1;
  }
  c = nd[c].next;
  int rc = optional_nstring(p, &c, end, &b->f[MAIL_IMAP_BODY_LOCATION]);
  if (rc <= 0)
    return -rc;
  if (c < end) {
    uint32_t off = imap_raw_start(p, c), last = c;
    while (nd[last].next < end)
      last = nd[last].next;
    b->ext.p = p->resp.base + off;
    b->ext.n = nd[last].end - off;
  }
  return 0;
}

static int body_num(mail_imap_parser *p, uint32_t i, uint64_t *v, int *has)
{
  int rc = imap_node_num(p, i, v);
  if (rc < 0)
    return imap_nodes(p)[i].type == IMAP_N_NIL ? 0 : 1;
  *has = rc == 0;
  return 0;
}

/* A multipart from its subtype at node c (a string, or c == end when
 * there is none) on: parameters and extensions. */
static int multipart_tail(mail_imap_parser *p, struct mail_imap_body *b, uint32_t c, uint32_t end)
{
  const imap_node *nd = imap_nodes(p);
  b->multipart = 1;
  b->f[MAIL_IMAP_BODY_TYPE].p = "MULTIPART";
  b->f[MAIL_IMAP_BODY_TYPE].n = 9;
  if (c >= end)
    return 0;
  b->f[MAIL_IMAP_BODY_SUBTYPE] = imap_node_str(p, c);
  c = nd[c].next;
  if (c >= end)
    return 0;
  int rc = params(p, c, &b->params[0], &b->nparams[0]);
  if (rc)
    return rc;
  return body_ext(p, b, nd[c].next, end);
}

typedef struct body_work {
  uint32_t node;
  struct mail_imap_body *b;
} body_work;

/* Fill b from list node i; children are pushed on the work stack.
 * 0 ok, 1 bad shape, -1 no memory. */
static int body_part(mail_imap_parser *p, uint32_t i, struct mail_imap_body *b, size_t *sp)
{
  const imap_node *nd = imap_nodes(p);
  if (nd[i].type != IMAP_N_LIST || !nd[i].count)
    return 1;
  uint32_t end = nd[i].next, c = i + 1;
  body_work *st;
  if (nd[c].type == IMAP_N_LIST) {
    /* multipart: parts, then the subtype and extensions */
    size_t k = 0;
    for (uint32_t t = c; t < end && nd[t].type == IMAP_N_LIST; t = nd[t].next)
      k++;
    b->child = imap_arena_array(&p->arena, k, sizeof *b->child);
    if (!b->child)
      return -1;
    b->nchild = k;
    if (imap_work_reserve(p, k, sizeof(body_work)))
      return -1;
    st = (body_work *)p->work.data;
    /* pushed in reverse so they are built in order */
    size_t at = *sp + k;
    for (size_t j = 0; j < k; j++, c = nd[c].next) {
      b->child[j].parent = b;
      st[at - 1 - j].node = c;
      st[at - 1 - j].b = &b->child[j];
    }
    *sp = at;
    if (c < end && !imap_is_string(p, c))
      return 1;
    return multipart_tail(p, b, c, end);
  }
  if (!imap_is_string(p, c))
    return 1;
  if (nd[i].count < 7) /* ("ALTERNATIVE"): a multipart sent with no children, only its subtype */
    return multipart_tail(p, b, c, end);
  uint32_t f[7];
  for (int k = 0; k < 7; k++, c = nd[c].next)
    f[k] = c;
  if (!imap_is_string(p, f[1]))
    return 1;
  b->f[MAIL_IMAP_BODY_TYPE] = imap_node_str(p, f[0]);
  b->f[MAIL_IMAP_BODY_SUBTYPE] = imap_node_str(p, f[1]);
  int rc = params(p, f[2], &b->params[0], &b->nparams[0]);
  if (rc)
    return rc;
  if (!imap_is_nstring(p, f[3]) || !imap_is_nstring(p, f[4]) || !imap_is_nstring(p, f[5]))
    return 1;
  b->f[MAIL_IMAP_BODY_ID] = imap_node_str(p, f[3]);
  b->f[MAIL_IMAP_BODY_DESCRIPTION] = imap_node_str(p, f[4]);
  b->f[MAIL_IMAP_BODY_ENCODING] = imap_node_str(p, f[5]);
  if (body_num(p, f[6], &b->size, &b->has_size))
    return 1;
  imap_str t = b->f[MAIL_IMAP_BODY_TYPE], s = b->f[MAIL_IMAP_BODY_SUBTYPE];
  if (imap_str_ieq(t, "MESSAGE") && (imap_str_ieq(s, "RFC822") || imap_str_ieq(s, "GLOBAL")) &&
      c < end && nd[c].type == IMAP_N_LIST) {
    uint32_t env = c, body = nd[c].next;
    if (body >= end || nd[body].type != IMAP_N_LIST)
      return 1;
    int nomem = 0;
    uint32_t last;
    b->env = envelope(p, env, end, &last, &nomem);
    if (nomem)
      return -1;
    if (!b->env)
      return 1;
    b->child = imap_arena_alloc(&p->arena, sizeof *b->child);
    if (!b->child || mail_buf_reserve(&p->work, sizeof(body_work)))
      return -1;
    b->nchild = 1;
    b->child->parent = b;
    st = (body_work *)p->work.data;
    st[*sp].node = body;
    st[*sp].b = b->child;
    (*sp)++;
    c = nd[body].next;
    if (c < end) {
      if (body_num(p, c, &b->lines, &b->has_lines))
        return 1;
      c = nd[c].next;
    }
  } else if (imap_str_ieq(t, "TEXT") && c < end) {
    if (body_num(p, c, &b->lines, &b->has_lines))
      return 1;
    c = nd[c].next;
  }
  rc = optional_nstring(p, &c, end, &b->f[MAIL_IMAP_BODY_MD5]);
  if (rc <= 0)
    return -rc;
  return body_ext(p, b, c, end);
}

static const struct mail_imap_body *bodystructure(mail_imap_parser *p, uint32_t v, int *nomem)
{
  struct mail_imap_body *root = imap_arena_alloc(&p->arena, sizeof *root);
  if (!root || mail_buf_reserve(&p->work, sizeof(body_work))) {
    *nomem = 1;
    return NULL;
  }
  p->work.len = 0;
  body_work *st = (body_work *)p->work.data;
  st[0].node = v;
  st[0].b = root;
  size_t sp = 1;
  while (sp) {
    st = (body_work *)p->work.data;
    body_work w = st[--sp];
    p->work.len = sp * sizeof(body_work);
    int rc = body_part(p, w.node, w.b, &sp);
    p->work.len = sp * sizeof(body_work);
    if (rc < 0) {
      *nomem = 1;
      return NULL;
    }
    if (rc)
      return NULL;
  }
  return root;
}

/* ------------------------------------------------------------ items */

static int set_bit(mail_imap_response *r, int item)
{
  r->items |= 1u << item;
  return 1;
}

/* Which known FETCH item a name is: by length first, then by letters. */
enum {
  IT_OTHER = 0,
  IT_UID,
  IT_RFC822_SIZE,
  IT_FLAGS,
  IT_INTERNALDATE,
  IT_ENVELOPE,
  IT_BODYSTRUCTURE,
  IT_BODY,
  IT_MODSEQ,
  IT_EMAILID,
  IT_THREADID,
  IT_PREVIEW,
  IT_X_GM_MSGID,
  IT_X_GM_THRID,
  IT_X_GM_LABELS,
  IT_SAVEDATE,
};

static int item_id(imap_str name)
{
#define KNOWN(w, id) {w, sizeof w - 1, id}
  static const struct {
    const char *w;
    size_t n;
    int id;
  } known[] = {
    KNOWN("UID", IT_UID),
    KNOWN("RFC822.SIZE", IT_RFC822_SIZE),
    KNOWN("FLAGS", IT_FLAGS),
    KNOWN("INTERNALDATE", IT_INTERNALDATE),
    KNOWN("ENVELOPE", IT_ENVELOPE),
    KNOWN("BODYSTRUCTURE", IT_BODYSTRUCTURE),
    KNOWN("BODY", IT_BODY),
    KNOWN("MODSEQ", IT_MODSEQ),
    KNOWN("EMAILID", IT_EMAILID),
    KNOWN("THREADID", IT_THREADID),
    KNOWN("PREVIEW", IT_PREVIEW),
    KNOWN("X-GM-MSGID", IT_X_GM_MSGID),
    KNOWN("X-GM-THRID", IT_X_GM_THRID),
    KNOWN("X-GM-LABELS", IT_X_GM_LABELS),
    KNOWN("SAVEDATE", IT_SAVEDATE),
  };
#undef KNOWN
  /* lengths first: most names are ruled out without a byte compared */
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (name.n == known[k].n && imap_prefix_ieq(name.p, name.n, known[k].w))
      return known[k].id;
  return IT_OTHER;
}

/* X-GM-LABELS: astrings in modified UTF-7. Gmail writes a label named
 * "NIL" as the bare atom NIL (seen as ("\\Starred" NIL)), so NIL there is
 * that label, not an absent value. */
static int gm_labels(mail_imap_parser *p, uint32_t v)
{
  mail_imap_response *r = &p->resp;
  const imap_node *nd = imap_nodes(p);
  r->labels = NULL;
  r->nlabels = 0;
  if (!nd[v].count)
    return 0;
  r->labels = imap_arena_array(&p->arena, nd[v].count, sizeof *r->labels);
  if (!r->labels)
    return -1;
  for (uint32_t c = v + 1; c < nd[v].next; c = nd[c].next) {
    if (nd[c].type == IMAP_N_NIL)
      r->labels[r->nlabels++] = (imap_str){"NIL", 3};
    else if (imap_is_string(p, c))
      r->labels[r->nlabels++] = imap_mailbox_name(p, imap_node_str(p, c));
  }
  return 0;
}

int imap_interpret_fetch(mail_imap_parser *p, uint32_t list)
{
  mail_imap_response *r = &p->resp;
  const imap_node *nd = imap_nodes(p);
  uint32_t end = nd[list].next;
  size_t nbin = 0;
  for (uint32_t c = list + 1; c < end; c = nd[c].next)
    if (nd[c].type == IMAP_N_ATOM && nd[c].len > 12 &&
        (imap_node_str(p, c).p[0] | 0x20) == 'b' && (imap_node_str(p, c).p[1] | 0x20) == 'i' &&
        imap_prefix_ieq(imap_node_str(p, c).p, nd[c].len, "BINARY.SIZE["))
      nbin++;
  if (nbin) {
    r->binsizes = imap_arena_array(&p->arena, nbin, sizeof *r->binsizes);
    if (!r->binsizes)
      return -1;
  }
  for (uint32_t c = list + 1; c < end; c = nd[c].next) {
    uint32_t v = nd[c].next;
    if (nd[c].type != IMAP_N_ATOM) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, c, c);
      continue;
    }
    if (v >= end) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, c, c);
      break;
    }
    imap_str name = imap_node_str(p, c);
    int id = item_id(name);
    int bad = 0, nomem = 0;
    uint64_t num;
    int t = nd[v].type;
    if (t == IMAP_N_STREAMED) {
      set_bit(r, MAIL_IMAP_ITEM_SECTION);
    } else if (id == IT_UID) {
      bad = imap_node_num(p, v, &r->uid) != 0 || !set_bit(r, MAIL_IMAP_ITEM_UID);
    } else if (id == IT_RFC822_SIZE) {
      bad = imap_node_num(p, v, &r->rfc822_size) != 0 || !set_bit(r, MAIL_IMAP_ITEM_RFC822_SIZE);
    } else if (id == IT_FLAGS) {
      if (t != IMAP_N_LIST)
        bad = 1;
      else if (imap_string_list(p, v, &r->flags, &r->nflags, 0))
        return -1;
      else
        set_bit(r, MAIL_IMAP_ITEM_FLAGS);
    } else if (id == IT_INTERNALDATE) {
      bad = !imap_is_string(p, v);
      if (!bad) {
        r->internaldate = imap_node_str(p, v);
        set_bit(r, MAIL_IMAP_ITEM_INTERNALDATE);
      }
    } else if (id == IT_ENVELOPE) {
      uint32_t last;
      r->env = envelope(p, v, end, &last, &nomem);
      if (nomem)
        return -1;
      if (r->env) {
        set_bit(r, MAIL_IMAP_ITEM_ENVELOPE);
        v = last;
      } else {
        bad = 1;
      }
    } else if (id == IT_BODYSTRUCTURE || id == IT_BODY) {
      r->body = bodystructure(p, v, &nomem);
      if (nomem)
        return -1;
      bad = !r->body;
      if (!bad)
        set_bit(r, MAIL_IMAP_ITEM_BODYSTRUCTURE);
    } else if (id == IT_MODSEQ) {
      int rc = -1;
      if (t == IMAP_N_LIST && nd[v].count == 1)
        rc = imap_node_num(p, v + 1, &r->modseq_item);
      bad = rc < 0;
      if (rc == 0)
        set_bit(r, MAIL_IMAP_ITEM_MODSEQ);
    } else if (id == IT_EMAILID || id == IT_THREADID) {
      int th = id == IT_THREADID;
      imap_str *dst = th ? &r->threadid : &r->emailid;
      if (t == IMAP_N_LIST && nd[v].count == 1 && imap_is_string(p, v + 1))
        *dst = imap_node_str(p, v + 1);
      else if (!(th && t == IMAP_N_NIL))
        bad = 1;
      if (!bad)
        set_bit(r, th ? MAIL_IMAP_ITEM_THREADID : MAIL_IMAP_ITEM_EMAILID);
    } else if (id == IT_PREVIEW) {
      uint32_t s = v;
      /* draft form: PREVIEW (FUZZY) "text" */
      if (t == IMAP_N_LIST && nd[v].next < end) {
        s = nd[v].next;
        v = s;
      }
      if (imap_is_nstring(p, s)) {
        r->preview = imap_node_str(p, s);
        set_bit(r, MAIL_IMAP_ITEM_PREVIEW);
      } else {
        bad = 1;
      }
    } else if (id == IT_X_GM_MSGID || id == IT_X_GM_THRID) {
      int th = id == IT_X_GM_THRID;
      bad = imap_node_num(p, v, th ? &r->gm_thrid : &r->gm_msgid) != 0;
      if (!bad)
        set_bit(r, th ? MAIL_IMAP_ITEM_GM_THRID : MAIL_IMAP_ITEM_GM_MSGID);
    } else if (id == IT_X_GM_LABELS) {
      if (t != IMAP_N_LIST)
        bad = 1;
      else if (gm_labels(p, v))
        return -1;
      else
        set_bit(r, MAIL_IMAP_ITEM_GM_LABELS);
    } else if (id == IT_SAVEDATE) {
      /* RFC 8514: a date-time, or NIL where the mailbox keeps none */
      bad = !imap_is_nstring(p, v);
      if (!bad) {
        r->savedate = imap_node_str(p, v);
        set_bit(r, MAIL_IMAP_ITEM_SAVEDATE);
      }
    } else if (imap_prefix_ieq(name.p, name.n, "BINARY.SIZE[") && name.p[name.n - 1] == ']') {
      bad = imap_node_num(p, v, &num) != 0;
      if (!bad) {
        imap_pair *pr = &r->binsizes[r->nbinsizes++];
        pr->name.p = name.p + 12;
        pr->name.n = name.n - 13;
        pr->num = num;
        set_bit(r, MAIL_IMAP_ITEM_BINARY_SIZE);
      }
    } else if (imap_section_name(name.p, name.n, &(uint32_t){0}, &(uint32_t){0}, &(uint32_t){0},
                                 &num, &(int){0})) {
      bad = 1; /* a section value that is neither NIL, a string nor a literal */
    }
    /* anything else: an unknown item, skipped with its value */
    if (bad)
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, c, v);
    c = v;
  }
  return 0;
}

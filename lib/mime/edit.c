/* Editing a parsed message: edits are splices on the source (replace the
 * bytes [start, end) with new bytes) applied when writing, so every byte
 * nobody edited is copied as it was. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/sort.h"
#include "mime/mime_internal.h"

typedef struct field {
  char *name;
  char *value;    /* raw value: what follows the colon */
} field;

typedef struct splice {
  uint64_t start, end;
  mail_mime_part *part;   /* header edits: the part whose block is rebuilt */
  field *fields;          /* header edits: the new field list */
  size_t nfields;
  unsigned char *data;    /* inserts */
  size_t len;
  size_t seq;
} splice;

typedef struct mime_edits {
  splice *v;
  size_t n, cap;
} mime_edits;

static mail_mime_parser *owner(mail_mime_part *part)
{
  return part && part->parser && part->parser->keep_tree && part->parser->src ? part->parser : NULL;
}

static splice *new_splice(mail_mime_parser *p)
{
  if (!p->edits && !(p->edits = mail_calloc(&p->alloc, 1, sizeof *p->edits)))
    return NULL;
  mime_edits *e = p->edits;
  if (e->n == e->cap) {
    size_t nc = e->cap ? e->cap * 2 : 8;
    splice *nv = mail_realloc(&p->alloc, e->v, nc * sizeof *nv);
    if (!nv)
      return NULL;
    e->v = nv;
    e->cap = nc;
  }
  splice *s = &e->v[e->n];
  memset(s, 0, sizeof *s);
  s->seq = e->n++;
  return s;
}

void mime_edits_free(mail_mime_parser *p)
{
  mime_edits *e = p->edits;
  if (!e)
    return;
  for (size_t i = 0; i < e->n; i++) {
    for (size_t k = 0; k < e->v[i].nfields; k++) {
      mail_dealloc(&p->alloc, e->v[i].fields[k].name);
      mail_dealloc(&p->alloc, e->v[i].fields[k].value);
    }
    mail_dealloc(&p->alloc, e->v[i].fields);
    mail_dealloc(&p->alloc, e->v[i].data);
  }
  mail_dealloc(&p->alloc, e->v);
  mail_dealloc(&p->alloc, e);
  p->edits = NULL;
}

static int valid_name(const char *n)
{
  if (!*n)
    return 0;
  for (; *n; n++)
    if ((unsigned char)*n <= 32 || (unsigned char)*n >= 127 || *n == ':')
      return 0;
  return 1;
}

/* The header splice of a part, created with the part's fields. */
static splice *header_splice(mail_mime_parser *p, mail_mime_part *part)
{
  for (size_t i = 0; p->edits && i < p->edits->n; i++)
    if (p->edits->v[i].part == part)
      return &p->edits->v[i];
  splice *s = new_splice(p);
  if (!s)
    return NULL;
  s->part = part;
  s->start = part->header_start;
  s->end = part->body_start;
  if (part->nhdrs && !(s->fields = mail_calloc(&p->alloc, part->nhdrs, sizeof *s->fields))) {
    p->edits->n--;
    return NULL;
  }
  for (size_t i = 0; i < part->nhdrs; i++) {
    const mime_hdr *h = &part->hdrs[i];
    s->fields[i].name = mail_strdup(&p->alloc, (const char *)part->hbuf.data + h->name_off);
    s->fields[i].value = mail_strdup(&p->alloc, (const char *)part->hbuf.data + h->value_off);
    s->nfields++;
    if (!s->fields[i].name || !s->fields[i].value)
      return NULL; /* freed with the edits */
  }
  return s;
}

int mail_mime_part_set_header(mail_mime_part *part, const char *name, const char *value)
{
  mail_mime_parser *p = owner(part);
  if (!p || !name || !valid_name(name) || (value && mail_has_crlfnul(value, strlen(value))))
    return MAIL_ERR_INVALID;
  splice *s = header_splice(p, part);
  if (!s)
    return MAIL_ERR_NOMEM;
  if (!value) {
    size_t o = 0;
    for (size_t i = 0; i < s->nfields; i++) {
      if (!mime_ascii_casecmp(s->fields[i].name, name)) {
        mail_dealloc(&p->alloc, s->fields[i].name);
        mail_dealloc(&p->alloc, s->fields[i].value);
      } else {
        s->fields[o++] = s->fields[i];
      }
    }
    s->nfields = o;
    return MAIL_OK;
  }
  size_t vl = strlen(value);
  char *v = mail_malloc(&p->alloc, vl + 2);
  if (!v)
    return MAIL_ERR_NOMEM;
  v[0] = ' ';
  memcpy(v + 1, value, vl + 1);
  for (size_t i = 0; i < s->nfields; i++) {
    if (!mime_ascii_casecmp(s->fields[i].name, name)) {
      mail_dealloc(&p->alloc, s->fields[i].value);
      s->fields[i].value = v;
      return MAIL_OK;
    }
  }
  field *nf = mail_realloc(&p->alloc, s->fields, (s->nfields + 1) * sizeof *nf);
  char *n = mail_strdup(&p->alloc, name);
  if (!nf || !n) {
    if (nf)
      s->fields = nf;
    mail_dealloc(&p->alloc, n);
    mail_dealloc(&p->alloc, v);
    return MAIL_ERR_NOMEM;
  }
  s->fields = nf;
  nf[s->nfields].name = n;
  nf[s->nfields].value = v;
  s->nfields++;
  return MAIL_OK;
}

int mail_mime_part_remove(mail_mime_part *part)
{
  mail_mime_parser *p = owner(part);
  if (!p || !part->parent || !part->parent->is_multipart)
    return MAIL_ERR_INVALID;
  splice *s = new_splice(p);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->start = part->delim_at;
  s->end = part->body_end;
  return MAIL_OK;
}

int mail_mime_part_append_raw(mail_mime_part *mp, const void *entity, size_t len)
{
  mail_mime_parser *p = owner(mp);
  if (!p || !mp->is_multipart || (!entity && len))
    return MAIL_ERR_INVALID;
  if (!mp->saw_close)
    return MAIL_ERR_STATE;
  /* the line break style of the source's boundary lines */
  const char *eol = mp->close_at + 1 < p->src_len && p->src[mp->close_at] == '\r' ? "\r\n" : "\n";
  size_t el = strlen(eol), bl = mp->boundary_len;
  /* refuse an entity that would end the multipart early */
  const unsigned char *e = entity;
  for (size_t i = 0; i + 2 + bl <= len; i++) {
    if ((i == 0 || e[i - 1] == '\n') && e[i] == '-' && e[i + 1] == '-' &&
        !memcmp(e + i + 2, mp->boundary, bl))
      return MAIL_ERR_INVALID;
  }
  splice *s = new_splice(p);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->start = s->end = mp->close_at;
  s->len = el + 2 + bl + el + len;
  if (!(s->data = mail_malloc(&p->alloc, s->len))) {
    p->edits->n--;
    return MAIL_ERR_NOMEM;
  }
  unsigned char *o = s->data;
  memcpy(o, eol, el), o += el;
  memcpy(o, "--", 2), o += 2;
  memcpy(o, mp->boundary, bl), o += bl;
  memcpy(o, eol, el), o += el;
  if (len)
    memcpy(o, entity, len);
  return MAIL_OK;
}

static int cmp_splice(const void *a, const void *b)
{
  const splice *x = a, *y = b;
  if (x->start != y->start)
    return x->start < y->start ? -1 : 1;
  /* at one offset: inserts first, then in the order they were made */
  int xi = x->start == x->end, yi = y->start == y->end;
  if (xi != yi)
    return xi ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_header_block(mail_mime_parser *p, const splice *s,
                              mail_write_fn fn, void *user)
{
  /* the line break style of the block being replaced */
  const char *eol = "\n";
  for (uint64_t i = s->start; i < s->end; i++)
    if (p->src[i] == '\n') {
      if (i > s->start && p->src[i - 1] == '\r')
        eol = "\r\n";
      break;
    }
  if (s->start == s->end && s->end + 1 < p->src_len && p->src[s->end] == '\r')
    eol = "\r\n";
  mail_buf b;
  mail_buf_init(&b, &p->alloc, 0);
  int rc = 0;
  for (size_t i = 0; i < s->nfields && !rc; i++) {
    rc |= mail_buf_append_str(&b, s->fields[i].name);
    rc |= mail_buf_append_byte(&b, ':');
    rc |= mail_buf_append_str(&b, s->fields[i].value);
    rc |= mail_buf_append_str(&b, eol);
  }
  rc |= mail_buf_append_str(&b, eol);
  if (rc) {
    mail_buf_free(&b);
    return MAIL_ERR_NOMEM;
  }
  rc = fn(user, b.data, b.len) ? MAIL_ERR_CALLBACK : MAIL_OK;
  mail_buf_free(&b);
  return rc;
}

int mail_mime_message_write(mail_mime_message *msg, mail_write_fn fn, void *user)
{
  mail_mime_part *root = mail_mime_message_root(msg);
  mail_mime_parser *p = owner(root);
  if (!p || !fn)
    return MAIL_ERR_INVALID;
  mime_edits *e = p->edits;
  size_t n = e ? e->n : 0;
  splice *v = NULL;
  if (n) {
    if (!(v = mail_malloc(&p->alloc, n * sizeof *v)))
      return MAIL_ERR_NOMEM;
    memcpy(v, e->v, n * sizeof *v);
    mail_sort(v, n, sizeof *v, cmp_splice);
  }
  uint64_t at = 0;
  int rc = MAIL_OK;
  for (size_t i = 0; i < n && rc == MAIL_OK; i++) {
    splice *s = &v[i];
    if (s->start < at)
      continue; /* inside a part removed before: dropped with it */
    if (s->start > at && fn(user, p->src + at, (size_t)(s->start - at))) {
      rc = MAIL_ERR_CALLBACK;
      break;
    }
    if (s->part)
      rc = write_header_block(p, s, fn, user);
    else if (s->len && fn(user, s->data, s->len))
      rc = MAIL_ERR_CALLBACK;
    at = s->end;
  }
  if (rc == MAIL_OK && at < p->src_len && fn(user, p->src + at, (size_t)(p->src_len - at)))
    rc = MAIL_ERR_CALLBACK;
  mail_dealloc(&p->alloc, v);
  return rc;
}

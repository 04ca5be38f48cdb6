/* The part object: creation, analysis of its MIME headers once the header
 * block has ended, and the public accessors. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "mime/mime_internal.h"

static const char *const DEFECT_NAMES[] = {
  "none",
  "no-boundary-in-multipart", "start-boundary-not-found", "close-boundary-not-found",
  "first-header-line-is-continuation", "misplaced-envelope-header",
  "missing-header-body-separator", "multipart-invariant-violation", "invalid-multipart-cte",
  "undecodable-bytes", "invalid-base64-padding", "invalid-base64-characters",
  "invalid-base64-length", "invalid-header", "header-missing-required-value", "non-printable",
  "obsolete-header-syntax", "non-ascii-local-part", "invalid-date", "invalid-quoted-printable",
  "invalid-uuencode", "unknown-charset", "unknown-transfer-encoding", "invalid-encoded-word",
  "invalid-parameter", "invalid-header-name", "duplicate-header", "truncated-headers",
  "nul-byte", "bare-line-ending", "limit-depth", "limit-parts", "limit-headers",
  "limit-header-length", "limit-decoded", "invalid-address", "invalid-message-id",
  "boundary-too-long", "encoded-message",
};

const char *mail_mime_defect_name(int kind)
{
  if (kind <= 0 || (size_t)kind >= sizeof DEFECT_NAMES / sizeof DEFECT_NAMES[0])
    return "unknown";
  return DEFECT_NAMES[kind];
}

void mail_mime_limits_default(mail_mime_limits *l)
{
  if (!l)
    return;
  memset(l, 0, sizeof *l);
  l->version = MAIL_MIME_LIMITS_VERSION;
  l->max_depth = 64;
  l->max_parts = 100000;
  l->max_headers = 10000;
  l->max_header_length = 1024 * 1024;
  l->max_header_block = 4 * 1024 * 1024;
  l->max_decoded = 0;
  l->max_defects = 1000;
}

void mime_defect(mail_mime_parser *p, mail_mime_part *part, int kind, uint64_t offset)
{
  p->defect_total++;
  if (part)
    part->ndefects++;
  if (p->ndefs < p->lim.max_defects) {
    if (p->ndefs == p->defs_cap) {
      size_t nc = p->defs_cap ? p->defs_cap * 2 : 8;
      mime_defect_rec *nd = mail_realloc(&p->alloc, p->defs, nc * sizeof *nd);
      if (nd) {
        p->defs = nd;
        p->defs_cap = nc;
      }
    }
    if (p->ndefs < p->defs_cap) {
      p->defs[p->ndefs].kind = kind;
      p->defs[p->ndefs].offset = offset;
      p->defs[p->ndefs].part = part;
      p->ndefs++;
    }
  }
  if (p->cb.defect && !p->failed && p->cb.defect(p->cb.user, part, kind, offset))
    p->failed = MAIL_ERR_CALLBACK;
}

mail_mime_part *mime_part_new(mail_mime_parser *p, mail_mime_part *parent, uint64_t header_start)
{
  mail_mime_part *part = mail_calloc(&p->alloc, 1, sizeof *part);
  if (!part)
    return NULL;
  part->parser = p;
  part->parent = parent;
  part->header_start = part->body_start = part->body_end = header_start;
  part->depth = parent ? parent->depth + 1 : 0;
  mail_buf_init(&part->hbuf, &p->alloc, 0);
  if (parent) {
    part->index = (unsigned int)parent->nchildren + 1;
    if (p->keep_tree) {
      if (parent->last)
        parent->last->next = part;
      else
        parent->first = part;
      parent->last = part;
    }
    parent->nchildren++;
  } else {
    part->index = 1;
  }
  p->nparts++;
  return part;
}

void mime_part_free(mail_mime_part *part, const mail_allocator *a)
{
  if (!part)
    return;
  mail_buf_free(&part->hbuf);
  mail_dealloc(a, part->hdrs);
  mail_dealloc(a, part->ctype);
  mail_dealloc(a, part->disp);
  mail_dealloc(a, part->cte_name);
  mail_dealloc(a, part->path);
  mime_params_free(a, &part->tparams);
  mime_params_free(a, &part->dparams);
  for (size_t i = 0; i < part->ncache; i++) {
    mail_dealloc(a, part->cache[i].name);
    mail_dealloc(a, part->cache[i].value);
  }
  mail_dealloc(a, part->cache);
  mail_dealloc(a, part);
}

void mime_part_free_tree(mail_mime_part *part, const mail_allocator *a)
{
  /* Iterative: a hostile message may nest deeply and have long child lists. */
  mail_mime_part *stop = part ? part->parent : NULL;
  while (part && part != stop) {
    if (part->first) {
      mail_mime_part *c = part->first;
      part->first = NULL;
      part = c;
      continue;
    }
    mail_mime_part *next = part->next, *up = part->parent;
    mime_part_free(part, a);
    part = next ? next : up;
  }
}

int mime_part_make_path(mail_mime_part *part)
{
  const mail_allocator *a = &part->parser->alloc;
  char buf[32];
  mail_mime_part *par = part->parent;
  char *path;
  if (!par) {
    path = mail_strdup(a, part->is_multipart ? "" : "1");
  } else if (par->is_message) {
    /* The inner message's root: decided once its type is known. */
    path = mail_strdup(a, par->path);
  } else {
    snprintf(buf, sizeof buf, "%u", part->index);
    size_t pl = strlen(par->path);
    path = mail_malloc(a, pl + strlen(buf) + 2);
    if (path) {
      if (pl)
        sprintf(path, "%s.%s", par->path, buf);
      else
        strcpy(path, buf);
    }
  }
  if (!path)
    return MAIL_ERR_NOMEM;
  mail_dealloc(a, part->path);
  part->path = path;
  return MAIL_OK;
}

static const mime_hdr *find_hdr(const mail_mime_part *part, const char *name, size_t *count)
{
  const mime_hdr *first = NULL;
  size_t n = 0, nl = strlen(name);
  for (size_t i = 0; i < part->nhdrs; i++) {
    const mime_hdr *h = &part->hdrs[i];
    if (h->name_len == nl && !mime_ascii_ncasecmp((const char *)part->hbuf.data + h->name_off, name, nl)) {
      if (!first)
        first = h;
      n++;
    }
  }
  if (count)
    *count = n;
  return first;
}

static void lower(char *s)
{
  for (; *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s + 32);
}

static char *trimmed_lower(const mail_allocator *a, const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  char *r = mail_strndup(a, s, n);
  if (r)
    lower(r);
  return r;
}

static int valid_token(const char *s, size_t n)
{
  if (!n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c))
      return 0;
  }
  return 1;
}

/* The structured headers of a message, checked on request. */
static int check_message_headers(mail_mime_part *part)
{
  static const char *const ADDR[] = {"from", "sender", "reply-to", "to", "cc", "bcc"};
  static const char *const IDS[] = {"message-id", "in-reply-to", "references"};
  mail_mime_parser *p = part->parser;
  const mail_allocator *a = &p->alloc;
  for (size_t i = 0; i < part->nhdrs; i++) {
    const mime_hdr *h = &part->hdrs[i];
    const char *name = (const char *)part->hbuf.data + h->name_off;
    const char *v = (const char *)part->hbuf.data + h->value_off;
    uint64_t off = part->header_start;
    unsigned int bad = 0;
    for (size_t k = 0; k < sizeof ADDR / sizeof ADDR[0]; k++) {
      if (mime_ascii_casecmp(name, ADDR[k]))
        continue;
      mail_address_list *l = NULL;
      int rc = mail_address_list_parse(&l, v, h->value_len, 0, &bad, a);
      if (rc == MAIL_ERR_NOMEM)
        return rc;
      if (bad || (rc == MAIL_OK && !mail_address_list_count(l) && k != 5))
        mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_ADDRESS, off);
      for (size_t j = 0; j < mail_address_list_count(l); j++) {
        const unsigned char *lp = (const unsigned char *)mail_address_list_get(l, j)->local;
        while (*lp && *lp < 0x80)
          lp++;
        if (*lp) {
          mime_defect(p, part, MAIL_MIME_DEFECT_NON_ASCII_LOCAL_PART, off);
          break;
        }
      }
      mail_address_list_free(l);
    }
    for (size_t k = 0; k < sizeof IDS / sizeof IDS[0]; k++) {
      if (mime_ascii_casecmp(name, IDS[k]))
        continue;
      mail_msgid_list *l = NULL;
      if (mail_msgid_list_parse(&l, v, h->value_len, &bad, a))
        return MAIL_ERR_NOMEM;
      if (bad || !mail_msgid_list_count(l))
        mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_MESSAGE_ID, off);
      mail_msgid_list_free(l);
    }
    if (!mime_ascii_casecmp(name, "date") && mail_date_parse(v, h->value_len, NULL, NULL))
      mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_DATE, off);
    if (!mime_ascii_casecmp(name, "subject")) {
      char *out = NULL;
      if (mime_header_decode(&out, NULL, &bad, v, h->value_len, a))
        return MAIL_ERR_NOMEM;
      mail_dealloc(a, out);
      if (bad)
        mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_ENCODED_WORD, off);
    }
  }
  return MAIL_OK;
}

int mime_part_analyze(mail_mime_part *part)
{
  mail_mime_parser *p = part->parser;
  const mail_allocator *a = &p->alloc;
  uint64_t off = part->header_start;
  size_t count;
  unsigned int pdef = 0;

  const mime_hdr *ct = find_hdr(part, "content-type", &count);
  if (count > 1)
    mime_defect(p, part, MAIL_MIME_DEFECT_DUPLICATE_HEADER, off);
  if (ct) {
    char *unf = NULL, *val = NULL;
    size_t ul;
    if (mime_unfold(a, (const char *)part->hbuf.data + ct->value_off, ct->value_len, &unf, &ul))
      return MAIL_ERR_NOMEM;
    int rc = mime_parse_params(a, unf, ul, &val, &part->tparams, &pdef);
    mail_dealloc(a, unf);
    if (rc)
      return rc;
    const char *slash = val ? strchr(val, '/') : NULL;
    if (val && !*val)
      mime_defect(p, part, MAIL_MIME_DEFECT_HEADER_MISSING_REQUIRED_VALUE, off);
    else if (slash && valid_token(val, (size_t)(slash - val)) && valid_token(slash + 1, strlen(slash + 1))) {
      lower(val);
      part->ctype = val;
    } else if (val && *val) {
      mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_HEADER, off);
    }
    if (val != part->ctype)
      mail_dealloc(a, val);
    if (pdef)
      mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_PARAMETER, off);
  }
  if (!part->ctype) {
    int digest = part->parent && part->parent->ctype && !strcmp(part->parent->ctype, "multipart/digest");
    part->ctype = mail_strdup(a, digest ? "message/rfc822" : "text/plain");
    if (!part->ctype)
      return MAIL_ERR_NOMEM;
  }

  const mime_hdr *cte = find_hdr(part, "content-transfer-encoding", &count);
  if (count > 1)
    mime_defect(p, part, MAIL_MIME_DEFECT_DUPLICATE_HEADER, off);
  if (cte) {
    char *unf = NULL;
    size_t ul;
    if (mime_unfold(a, (const char *)part->hbuf.data + cte->value_off, cte->value_len, &unf, &ul))
      return MAIL_ERR_NOMEM;
    part->cte_name = trimmed_lower(a, unf);
    mail_dealloc(a, unf);
    if (!part->cte_name)
      return MAIL_ERR_NOMEM;
    part->enc = mime_encoding_from_name(part->cte_name);
    if (part->enc == MAIL_MIME_ENC_UNKNOWN)
      mime_defect(p, part, MAIL_MIME_DEFECT_UNKNOWN_TRANSFER_ENCODING, off);
  } else {
    part->enc = MAIL_MIME_ENC_7BIT;
  }

  const mime_hdr *cd = find_hdr(part, "content-disposition", &count);
  if (count > 1)
    mime_defect(p, part, MAIL_MIME_DEFECT_DUPLICATE_HEADER, off);
  if (cd) {
    char *unf = NULL, *val = NULL;
    size_t ul;
    pdef = 0;
    if (mime_unfold(a, (const char *)part->hbuf.data + cd->value_off, cd->value_len, &unf, &ul))
      return MAIL_ERR_NOMEM;
    int rc = mime_parse_params(a, unf, ul, &val, &part->dparams, &pdef);
    mail_dealloc(a, unf);
    if (rc)
      return rc;
    if (val && *val) {
      lower(val);
      part->disp = val;
    } else {
      mail_dealloc(a, val);
    }
    if (pdef)
      mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_PARAMETER, off);
  }

  if (!strncmp(part->ctype, "multipart/", 10)) {
    const char *b = mime_params_get(&part->tparams, "boundary");
    size_t bl = b ? strlen(b) : 0;
    if (!b || !bl) {
      mime_defect(p, part, MAIL_MIME_DEFECT_NO_BOUNDARY_IN_MULTIPART, off);
    } else if (bl > 200) {
      mime_defect(p, part, MAIL_MIME_DEFECT_BOUNDARY_TOO_LONG, off);
    } else if (part->depth >= p->lim.max_depth) {
      mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_DEPTH, off);
    } else {
      if (bl > 70)
        mime_defect(p, part, MAIL_MIME_DEFECT_BOUNDARY_TOO_LONG, off);
      part->is_multipart = 1;
      part->boundary = b;
      part->boundary_len = bl;
      if (part->enc != MAIL_MIME_ENC_7BIT && part->enc != MAIL_MIME_ENC_8BIT &&
          part->enc != MAIL_MIME_ENC_BINARY)
        mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_MULTIPART_CTE, off);
    }
  } else if (!strcmp(part->ctype, "message/rfc822") || !strcmp(part->ctype, "message/global")) {
    if (part->enc == MAIL_MIME_ENC_BASE64 || part->enc == MAIL_MIME_ENC_QUOTED_PRINTABLE ||
        part->enc == MAIL_MIME_ENC_UUENCODE || part->enc == MAIL_MIME_ENC_UNKNOWN)
      mime_defect(p, part, MAIL_MIME_DEFECT_ENCODED_MESSAGE, off);
    else if (part->depth >= p->lim.max_depth)
      mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_DEPTH, off);
    else
      part->is_message = 1;
  }
  if (part->is_multipart || part->is_message)
    part->enc = part->enc == MAIL_MIME_ENC_UNKNOWN ? MAIL_MIME_ENC_7BIT : part->enc;

  if ((p->flags & MAIL_MIME_CHECK_HEADERS) && (!part->parent || part->parent->is_message)) {
    int rc = check_message_headers(part);
    if (rc)
      return rc;
  }
  /* The root of an inner message that is a leaf gets "<parent>.1". */
  if (part->parent && part->parent->is_message && !part->is_multipart) {
    size_t pl = strlen(part->parent->path);
    char *np = mail_malloc(a, pl + 3);
    if (!np)
      return MAIL_ERR_NOMEM;
    memcpy(np, part->parent->path, pl);
    memcpy(np + pl, pl ? ".1" : "1", pl ? 3 : 2);
    mail_dealloc(a, part->path);
    part->path = np;
  } else if (!part->parent) {
    return mime_part_make_path(part);
  }
  return MAIL_OK;
}

/* ---------------------------------------------------------------- accessors */

const char *mail_mime_part_content_type(const mail_mime_part *part)
{
  return part && part->ctype ? part->ctype : "text/plain";
}

const char *mail_mime_part_type_param(const mail_mime_part *part, const char *name)
{
  return part && name ? mime_params_get(&part->tparams, name) : NULL;
}

const char *mail_mime_part_disposition(const mail_mime_part *part)
{
  return part ? part->disp : NULL;
}

const char *mail_mime_part_disposition_param(const mail_mime_part *part, const char *name)
{
  return part && name ? mime_params_get(&part->dparams, name) : NULL;
}

const char *mail_mime_part_filename(const mail_mime_part *part)
{
  if (!part)
    return NULL;
  const char *f = mime_params_get(&part->dparams, "filename");
  return f ? f : mime_params_get(&part->tparams, "name");
}

const char *mail_mime_part_charset(const mail_mime_part *part)
{
  return part ? mime_params_get(&part->tparams, "charset") : NULL;
}

int mail_mime_part_encoding(const mail_mime_part *part)
{
  return part ? part->enc : MAIL_MIME_ENC_7BIT;
}

const char *mail_mime_part_encoding_name(const mail_mime_part *part)
{
  return part && part->cte_name ? part->cte_name : "7bit";
}

int mail_mime_part_is_multipart(const mail_mime_part *part)
{
  return part ? part->is_multipart : 0;
}

int mail_mime_part_is_message(const mail_mime_part *part)
{
  return part ? part->is_message : 0;
}

const char *mail_mime_part_path(const mail_mime_part *part)
{
  return part && part->path ? part->path : "";
}

unsigned int mail_mime_part_depth(const mail_mime_part *part)
{
  return part ? part->depth : 0;
}

void mail_mime_part_offsets(const mail_mime_part *part, uint64_t *hs, uint64_t *bs, uint64_t *be)
{
  if (hs) *hs = part ? part->header_start : 0;
  if (bs) *bs = part ? part->body_start : 0;
  if (be) *be = part ? part->body_end : 0;
}

size_t mail_mime_part_header_count(const mail_mime_part *part)
{
  return part ? part->nhdrs : 0;
}

int mail_mime_part_header_at(const mail_mime_part *part, size_t i, const char **name,
                             const char **raw_value, size_t *raw_len)
{
  if (!part || i >= part->nhdrs)
    return MAIL_ERR_NOT_FOUND;
  const mime_hdr *h = &part->hdrs[i];
  if (name) *name = (const char *)part->hbuf.data + h->name_off;
  if (raw_value) *raw_value = (const char *)part->hbuf.data + h->value_off;
  if (raw_len) *raw_len = h->value_len;
  return MAIL_OK;
}

const char *mail_mime_part_header(const mail_mime_part *part, const char *name)
{
  if (!part || !name)
    return NULL;
  const mime_hdr *h = find_hdr(part, name, NULL);
  return h ? (const char *)part->hbuf.data + h->value_off : NULL;
}

const char *mail_mime_part_header_decoded(mail_mime_part *part, const char *name)
{
  if (!part || !name)
    return NULL;
  for (size_t i = 0; i < part->ncache; i++)
    if (!mime_ascii_casecmp(part->cache[i].name, name))
      return part->cache[i].value;
  const mime_hdr *h = find_hdr(part, name, NULL);
  if (!h)
    return NULL;
  const mail_allocator *a = &part->parser->alloc;
  mime_cached *nc = mail_realloc(a, part->cache, (part->ncache + 1) * sizeof *nc);
  if (!nc)
    return NULL;
  part->cache = nc;
  char *v = NULL, *n = mail_strdup(a, name);
  size_t vl;
  if (!n || mime_header_decode(&v, &vl, NULL, (const char *)part->hbuf.data + h->value_off,
                                    h->value_len, a) != MAIL_OK) {
    mail_dealloc(a, n);
    return NULL;
  }
  nc[part->ncache].name = n;
  nc[part->ncache].value = v;
  part->ncache++;
  return v;
}

size_t mail_mime_part_child_count(const mail_mime_part *part)
{
  return part ? part->nchildren : 0;
}

mail_mime_part *mail_mime_part_child(const mail_mime_part *part, size_t i)
{
  if (!part || i >= part->nchildren)
    return NULL;
  /* Walking children in order is O(1) per call through the cached cursor. */
  mail_mime_part *self = (mail_mime_part *)(uintptr_t)part;
  mail_mime_part *c = part->first;
  size_t k = 0;
  if (part->cache_child && part->cache_index <= i) {
    c = part->cache_child;
    k = part->cache_index;
  }
  for (; c && k < i; k++)
    c = c->next;
  self->cache_child = c;
  self->cache_index = i;
  return c;
}

mail_mime_part *mail_mime_part_parent(const mail_mime_part *part)
{
  return part ? part->parent : NULL;
}

size_t mail_mime_part_defect_count(const mail_mime_part *part)
{
  if (!part)
    return 0;
  size_t n = 0;
  const mail_mime_parser *p = part->parser;
  for (size_t i = 0; i < p->ndefs; i++)
    if (p->defs[i].part == part)
      n++;
  return n;
}

int mail_mime_part_defect(const mail_mime_part *part, size_t i, int *kind, uint64_t *offset)
{
  if (!part)
    return MAIL_ERR_NOT_FOUND;
  const mail_mime_parser *p = part->parser;
  for (size_t k = 0; k < p->ndefs; k++) {
    if (p->defs[k].part != part)
      continue;
    if (i-- == 0) {
      if (kind) *kind = p->defs[k].kind;
      if (offset) *offset = p->defs[k].offset;
      return MAIL_OK;
    }
  }
  return MAIL_ERR_NOT_FOUND;
}

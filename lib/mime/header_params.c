/* Content-Type / Content-Disposition values: "value; name=token;
 * name="quoted"; name*=charset'lang'%XX; name*0*=...; name*1=..."
 * (RFC 2045, RFC 2183, RFC 2231). Values are returned decoded as UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/sort.h"
#include "mime/mime_internal.h"

#define MAX_PARAMS 256
#define MAX_SECTIONS 1000

typedef struct raw_param {
  char *base;       /* lower case name without the RFC 2231 suffix */
  long section;     /* -1: not sectioned */
  int extended;     /* "*" suffix: charset'lang'%XX */
  char *value;
} raw_param;

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static size_t skip_cfws(const char *s, size_t i, size_t n)
{
  for (;;) {
    while (i < n && is_ws(s[i]))
      i++;
    if (i < n && s[i] == '(') {
      int depth = 0;
      while (i < n) {
        if (s[i] == '\\' && i + 1 < n) { i += 2; continue; }
        if (s[i] == '(') depth++;
        else if (s[i] == ')' && --depth == 0) { i++; break; }
        i++;
      }
      continue;
    }
    return i;
  }
}

void mime_params_free(const mail_allocator *a, mime_params *ps)
{
  for (size_t i = 0; i < ps->n; i++) {
    mail_dealloc(a, ps->v[i].name);
    mail_dealloc(a, ps->v[i].value);
  }
  mail_dealloc(a, ps->v);
  ps->v = NULL;
  ps->n = 0;
}

const char *mime_params_get(const mime_params *ps, const char *name)
{
  for (size_t i = 0; i < ps->n; i++)
    if (!mime_ascii_casecmp(ps->v[i].name, name))
      return ps->v[i].value;
  return NULL;
}

static int hexv(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Percent-decode in place; returns the new length. */
static size_t pct_decode(char *s, size_t n, unsigned int *defects)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n + 0 && hexv(s[i + 1]) >= 0 && hexv(s[i + 2]) >= 0) {
      s[o++] = (char)(hexv(s[i + 1]) << 4 | hexv(s[i + 2]));
      i += 2;
    } else {
      if (s[i] == '%')
        (*defects)++;
      s[o++] = s[i];
    }
  }
  s[o] = 0;
  return o;
}

static int cmp_section(const void *x, const void *y)
{
  const raw_param *a = x, *b = y;
  int c = strcmp(a->base, b->base);
  if (c)
    return c;
  return (a->section > b->section) - (a->section < b->section);
}

/* Append decoded value to out (a new param), converting charsets. */
static int finish_param(const mail_allocator *a, mime_params *out, const char *name,
                        char *bytes, size_t n, const char *charset, unsigned int *defects)
{
  for (size_t i = 0; i < out->n; i++)
    if (!strcmp(out->v[i].name, name))
      return MAIL_OK; /* first wins */
  char *val = NULL;
  size_t vl;
  if (charset && *charset) {
    int rc = mime_charset_to_utf8(&val, &vl, charset, bytes, n, a);
    if (rc == MAIL_ERR_CHARSET)
      (*defects)++;
    else if (rc)
      return rc;
  } else if (memmem(bytes, n, "=?", 2)) {
    unsigned int d = 0;
    if (mime_header_decode(&val, &vl, &d, bytes, n, a))
      return MAIL_ERR_NOMEM;
  } else {
    /* No charset (plain, or an extended value without one): keep UTF-8,
     * take other 8-bit bytes as Latin-1, so the value is UTF-8 as
     * documented even when %XX escapes made arbitrary bytes. */
    int rc = mime_charset_to_utf8(&val, &vl, "", bytes, n, a);
    if (rc)
      return rc;
  }
  if (!val)
    return MAIL_ERR_NOMEM;
  mime_param *nv = mail_realloc(a, out->v, (out->n + 1) * sizeof *nv);
  char *nm = mail_strdup(a, name);
  if (!nv || !nm) {
    if (nv)
      out->v = nv;
    mail_dealloc(a, nm);
    mail_dealloc(a, val);
    return MAIL_ERR_NOMEM;
  }
  out->v = nv;
  nv[out->n].name = nm;
  nv[out->n].value = val;
  out->n++;
  return MAIL_OK;
}

/* Join the raw parameters (sorted by base, section) into out. */
static int join_params(const mail_allocator *a, raw_param *rp, size_t nrp, mime_params *out,
                       unsigned int *defects)
{
  mail_sort(rp, nrp, sizeof *rp, cmp_section);
  /* RFC 2231 forms win over a plain one of the same name: handle the
   * sectioned/extended groups first, then plain ones. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < nrp;) {
      size_t j = i;
      int any2231 = 0;
      while (j < nrp && !strcmp(rp[j].base, rp[i].base)) {
        if (rp[j].section >= 0 || rp[j].extended)
          any2231 = 1;
        j++;
      }
      if (pass == 0 && any2231) {
        mail_buf b;
        mail_buf_init(&b, a, 0);
        char *charset = NULL;
        long expect = 0;
        int rc = MAIL_OK;
        for (size_t k = i; k < j && rc == MAIL_OK; k++) {
          raw_param *r = &rp[k];
          if (r->section < 0 && !r->extended)
            continue; /* the plain twin is ignored */
          long sec = r->section < 0 ? 0 : r->section;
          if (sec != expect) {
            (*defects)++;
            if (sec < expect)
              continue; /* duplicate section */
          }
          expect = sec + 1;
          char *v = r->value;
          size_t vl = strlen(v);
          if (r->extended) {
            if (sec == 0) {
              char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
              if (q2) {
                charset = mail_strndup(a, v, (size_t)(q1 - v));
                if (!charset) { rc = MAIL_ERR_NOMEM; break; }
                v = q2 + 1;
                vl = strlen(v);
              } else {
                (*defects)++;
              }
            }
            vl = pct_decode(v, vl, defects);
          }
          rc = mail_buf_append(&b, v, vl);
        }
        if (rc == MAIL_OK)
          rc = mail_buf_append_byte(&b, 0);
        if (rc == MAIL_OK)
          rc = finish_param(a, out, rp[i].base, (char *)b.data, b.len - 1,
                            charset ? charset : "", defects);
        mail_dealloc(a, charset);
        mail_buf_free(&b);
        if (rc)
          return rc;
      } else if (pass == 1) {
        for (size_t k = i; k < j; k++) {
          if (rp[k].section >= 0 || rp[k].extended)
            continue;
          int rc = finish_param(a, out, rp[k].base, rp[k].value, strlen(rp[k].value), NULL, defects);
          if (rc)
            return rc;
          break;
        }
      }
      i = j;
    }
  }
  return MAIL_OK;
}

int mime_parse_params(const mail_allocator *a, const char *s, size_t n, char **value,
                      mime_params *out, unsigned int *defects)
{
  raw_param rp[MAX_PARAMS];
  size_t nrp = 0;
  int rc = MAIL_OK;
  *value = NULL;

  /* The value: everything up to the first ';', comments and blanks removed. */
  size_t i = skip_cfws(s, 0, n);
  mail_buf v;
  mail_buf_init(&v, a, 0);
  while (i < n && s[i] != ';') {
    if (s[i] == '(') {
      i = skip_cfws(s, i, n);
      continue;
    }
    if (!is_ws(s[i]) && (rc = mail_buf_append_byte(&v, (unsigned char)s[i])))
      goto fail;
    i++;
  }
  if ((rc = mail_buf_append_byte(&v, 0)))
    goto fail;
  *value = (char *)v.data;
  v.data = NULL;

  while (i < n) {
    while (i < n && (s[i] == ';' || is_ws(s[i])))
      i++;
    i = skip_cfws(s, i, n);
    if (i >= n)
      break;
    size_t ns = i;
    while (i < n && s[i] != '=' && s[i] != ';' && !is_ws(s[i]))
      i++;
    size_t ne = i;
    i = skip_cfws(s, i, n);
    if (i >= n || s[i] != '=' || ne == ns) {
      (*defects)++;
      while (i < n && s[i] != ';')
        i++;
      continue;
    }
    i = skip_cfws(s, i + 1, n);
    mail_buf pv;
    mail_buf_init(&pv, a, 0);
    if (i < n && s[i] == '"') {
      i++;
      int closed = 0;
      while (i < n) {
        if (s[i] == '\\' && i + 1 < n) {
          i++;
        } else if (s[i] == '"') {
          closed = 1;
          i++;
          break;
        } else if (s[i] == '\r' || s[i] == '\n') {
          i++;
          continue;
        }
        if ((rc = mail_buf_append_byte(&pv, (unsigned char)s[i++]))) {
          mail_buf_free(&pv);
          goto fail;
        }
      }
      if (!closed)
        (*defects)++;
    } else {
      while (i < n && s[i] != ';' && !is_ws(s[i]) && s[i] != '(') {
        if ((rc = mail_buf_append_byte(&pv, (unsigned char)s[i++]))) {
          mail_buf_free(&pv);
          goto fail;
        }
      }
    }
    while (i < n && s[i] != ';') {
      if (!is_ws(s[i]) && s[i] != '(') {
        (*defects)++;
        while (i < n && s[i] != ';')
          i++;
        break;
      }
      i = skip_cfws(s, i, n);
    }
    if ((rc = mail_buf_append_byte(&pv, 0))) {
      mail_buf_free(&pv);
      goto fail;
    }
    if (nrp == MAX_PARAMS) {
      (*defects)++;
      mail_buf_free(&pv);
      continue;
    }
    /* name, name*, name*N, name*N* */
    char *name = mail_strndup(a, s + ns, ne - ns);
    if (!name) {
      mail_buf_free(&pv);
      rc = MAIL_ERR_NOMEM;
      goto fail;
    }
    for (char *c = name; *c; c++)
      if (*c >= 'A' && *c <= 'Z')
        *c = (char)(*c + 32);
    raw_param *r = &rp[nrp];
    r->section = -1;
    r->extended = 0;
    size_t nl = strlen(name);
    if (nl && name[nl - 1] == '*') {
      r->extended = 1;
      name[--nl] = 0;
    }
    char *star = strchr(name, '*');
    if (star) {
      char *end;
      long sec = strtol(star + 1, &end, 10);
      if (*end || end == star + 1 || sec < 0 || sec >= MAX_SECTIONS) {
        (*defects)++;
        mail_dealloc(a, name);
        mail_buf_free(&pv);
        continue;
      }
      r->section = sec;
      *star = 0;
    }
    r->base = name;
    r->value = (char *)pv.data;
    nrp++;
  }
  rc = join_params(a, rp, nrp, out, defects);
fail:
  mail_buf_free(&v);
  for (size_t k = 0; k < nrp; k++) {
    mail_dealloc(a, rp[k].base);
    mail_dealloc(a, rp[k].value);
  }
  if (rc) {
    mail_dealloc(a, *value);
    *value = NULL;
  }
  return rc;
}

/* Delivery status notifications (RFC 3464) and message disposition
 * notifications (RFC 8098): header-like field blocks separated by blank
 * lines, read into typed fields. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "mime/mime_internal.h"

#define MAX_FIELDS_PER_BLOCK 64
#define MAX_BLOCKS 10000

typedef struct kv {
  char *name;   /* lower case */
  char *value;  /* unfolded, trimmed */
  size_t len, cap; /* of value while continuation lines are added */
} kv;

typedef struct block {
  kv f[MAX_FIELDS_PER_BLOCK];
  size_t n;
} block;

/* Read the next block of fields from s[*pos..n); 0 when none is left. */
static int next_block(const mail_allocator *a, const char *s, size_t n, size_t *pos, block *b, int *nomem)
{
  size_t i = *pos;
  b->n = 0;
  /* skip blank lines */
  while (i < n) {
    size_t k = i;
    while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r'))
      k++;
    if (k < n && s[k] == '\n')
      i = k + 1;
    else if (k >= n)
      i = n;
    else
      break;
  }
  if (i >= n) {
    *pos = n;
    return 0;
  }
  while (i < n) {
    const char *nl = memchr(s + i, '\n', n - i);
    size_t e = nl ? (size_t)(nl - s) : n, next = nl ? e + 1 : n;
    size_t le = e;
    if (le > i && s[le - 1] == '\r')
      le--;
    int blank = 1;
    for (size_t k = i; k < le; k++)
      if (s[k] != ' ' && s[k] != '\t')
        blank = 0;
    if (blank) {
      i = next;
      break;
    }
    if ((s[i] == ' ' || s[i] == '\t') && b->n) {
      /* continuation of the last field */
      kv *f = &b->f[b->n - 1];
      size_t al = le - i;
      if (f->len + al + 1 > f->cap) {
        /* geometric growth: many continuation lines stay linear */
        size_t nc = (f->len + al + 1) * 2;
        char *nv = mail_realloc(a, f->value, nc);
        if (!nv) {
          *nomem = 1;
          break;
        }
        f->value = nv;
        f->cap = nc;
      }
      memcpy(f->value + f->len, s + i, al);
      f->len += al;
      f->value[f->len] = 0;
    } else {
      const char *colon = memchr(s + i, ':', le - i);
      if (colon && b->n < MAX_FIELDS_PER_BLOCK) {
        kv *f = &b->f[b->n];
        f->name = mail_strndup(a, s + i, (size_t)(colon - (s + i)));
        f->value = mail_strndup(a, colon + 1, le - (size_t)(colon + 1 - s));
        f->len = f->value ? strlen(f->value) : 0;
        f->cap = f->len + 1;
        if (!f->name || !f->value) {
          mail_dealloc(a, f->name);
          mail_dealloc(a, f->value);
          *nomem = 1;
          break;
        }
        for (char *c = f->name; *c; c++)
          if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c + 32);
        b->n++;
      }
    }
    i = next;
  }
  /* trim blanks; tabs inside folded values become spaces */
  for (size_t k = 0; k < b->n; k++) {
    char *v = b->f[k].value, *st = v;
    while (*st == ' ' || *st == '\t')
      st++;
    size_t l = strlen(st);
    while (l && (st[l - 1] == ' ' || st[l - 1] == '\t'))
      l--;
    memmove(v, st, l);
    v[l] = 0;
    char *nm = b->f[k].name;
    size_t nl2 = strlen(nm);
    while (nl2 && (nm[nl2 - 1] == ' ' || nm[nl2 - 1] == '\t'))
      nm[--nl2] = 0;
  }
  *pos = i;
  return 1;
}

static void block_free(const mail_allocator *a, block *b)
{
  for (size_t k = 0; k < b->n; k++) {
    mail_dealloc(a, b->f[k].name);
    mail_dealloc(a, b->f[k].value);
  }
  b->n = 0;
}

/* Take the value of a field out of the block (NULL when absent). */
static char *take(block *b, const char *name)
{
  for (size_t k = 0; k < b->n; k++)
    if (b->f[k].value && !strcmp(b->f[k].name, name)) {
      char *v = b->f[k].value;
      b->f[k].value = NULL;
      return v;
    }
  return NULL;
}

/* "type; value": split in place, returning the value; *type gets a copy. */
static char *split_typed(const mail_allocator *a, char *v, const char **type, int *nomem)
{
  if (!v)
    return NULL;
  char *semi = strchr(v, ';');
  if (!semi) {
    if (type)
      *type = NULL;
    return v;
  }
  if (type) {
    char *t = mail_strndup(a, v, (size_t)(semi - v));
    if (!t) {
      *nomem = 1;
    } else {
      size_t tl = strlen(t);
      while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
        t[--tl] = 0;
      for (char *c = t; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c + 32);
    }
    *type = t;
  }
  char *st = semi + 1;
  while (*st == ' ' || *st == '\t')
    st++;
  memmove(v, st, strlen(st) + 1);
  return v;
}

/* 1 to 3 digits at *p; moves *p past them. */
static int status_number(const char **p, int *out)
{
  int v = 0, n = 0;
  while (n < 3 && **p >= '0' && **p <= '9') {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  *out = v;
  return n > 0 && !(**p >= '0' && **p <= '9');
}

/* RFC 3464 status-code: class "." subject "." detail, class 2, 4 or 5,
 * subject and detail 1 to 3 digits; text may follow after a blank. */
static int parse_status(const char *s, int *cls, int *subject, int *detail)
{
  while (*s == ' ' || *s == '\t')
    s++;
  if ((*s != '2' && *s != '4' && *s != '5') || s[1] != '.')
    return 0;
  *cls = *s - '0';
  s += 2;
  if (!status_number(&s, subject) || *s++ != '.' || !status_number(&s, detail))
    return 0;
  return *s == 0 || *s == ' ' || *s == '\t' || *s == '(';
}

static void lower_str(char *s)
{
  for (; s && *s; s++)
    if (*s >= 'A' && *s <= 'Z')
      *s = (char)(*s + 32);
}

struct mail_dsn {
  mail_allocator alloc;
  char *reporting_mta, *envelope_id, *arrival_date;
  mail_dsn_recipient *r;
  size_t n;
};

static void recipient_free(const mail_allocator *a, mail_dsn_recipient *r)
{
  const char *fields[] = {r->final_recipient, r->final_recipient_type, r->original_recipient,
                          r->action, r->status, r->remote_mta, r->diagnostic_code,
                          r->diagnostic_type, r->last_attempt_date, r->will_retry_until};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    mail_dealloc(a, (void *)(uintptr_t)fields[i]);
}

void mail_dsn_free(mail_dsn *d)
{
  if (!d)
    return;
  mail_allocator a = d->alloc;
  for (size_t i = 0; i < d->n; i++)
    recipient_free(&a, &d->r[i]);
  mail_dealloc(&a, d->r);
  mail_dealloc(&a, d->reporting_mta);
  mail_dealloc(&a, d->envelope_id);
  mail_dealloc(&a, d->arrival_date);
  mail_dealloc(&a, d);
}

int mail_dsn_parse(mail_dsn **out, const void *body, size_t len, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || (!body && len) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_dsn *d = mail_calloc(&a, 1, sizeof *d);
  block *b = mail_malloc(&a, sizeof *b);
  if (!d || !b) {
    mail_dealloc(&a, d);
    mail_dealloc(&a, b);
    return MAIL_ERR_NOMEM;
  }
  d->alloc = a;
  const char *s = body ? body : "";
  size_t pos = 0;
  int nomem = 0, first = 1;
  while (!nomem && d->n < MAX_BLOCKS && next_block(&a, s, len, &pos, b, &nomem)) {
    if (first) {
      first = 0;
      d->reporting_mta = split_typed(&a, take(b, "reporting-mta"), NULL, &nomem);
      d->envelope_id = take(b, "original-envelope-id");
      d->arrival_date = take(b, "arrival-date");
      int has_recipient = 0;
      for (size_t k = 0; k < b->n; k++)
        if (b->f[k].value && !strcmp(b->f[k].name, "final-recipient"))
          has_recipient = 1;
      if (d->reporting_mta || d->envelope_id || d->arrival_date || !has_recipient) {
        block_free(&a, b);
        continue;
      }
      /* no per-message block: this block is already a recipient */
    }
    mail_dsn_recipient *nr = mail_realloc(&a, d->r, (d->n + 1) * sizeof *nr);
    if (!nr) {
      nomem = 1;
      break;
    }
    d->r = nr;
    mail_dsn_recipient *r = &nr[d->n++];
    memset(r, 0, sizeof *r);
    r->final_recipient = split_typed(&a, take(b, "final-recipient"), &r->final_recipient_type, &nomem);
    r->original_recipient = split_typed(&a, take(b, "original-recipient"), NULL, &nomem);
    char *action = take(b, "action");
    lower_str(action);
    r->action = action;
    char *status = take(b, "status");
    r->status = status;
    if (status) {
      int c, sj, dt;
      if (parse_status(status, &c, &sj, &dt)) {
        r->status_class = c;
        r->status_subject = sj;
        r->status_detail = dt;
      }
    }
    r->remote_mta = split_typed(&a, take(b, "remote-mta"), NULL, &nomem);
    r->diagnostic_code = split_typed(&a, take(b, "diagnostic-code"), &r->diagnostic_type, &nomem);
    r->last_attempt_date = take(b, "last-attempt-date");
    r->will_retry_until = take(b, "will-retry-until");
    block_free(&a, b);
  }
  block_free(&a, b);
  mail_dealloc(&a, b);
  if (nomem) {
    mail_dsn_free(d);
    return MAIL_ERR_NOMEM;
  }
  if (!d->n) {
    mail_dsn_free(d);
    return MAIL_ERR_SYNTAX;
  }
  *out = d;
  return MAIL_OK;
}

const char *mail_dsn_reporting_mta(const mail_dsn *d) { return d ? d->reporting_mta : NULL; }
const char *mail_dsn_envelope_id(const mail_dsn *d) { return d ? d->envelope_id : NULL; }
const char *mail_dsn_arrival_date(const mail_dsn *d) { return d ? d->arrival_date : NULL; }
size_t mail_dsn_recipient_count(const mail_dsn *d) { return d ? d->n : 0; }

const mail_dsn_recipient *mail_dsn_recipient_get(const mail_dsn *d, size_t i)
{
  return d && i < d->n ? &d->r[i] : NULL;
}

/* ---------------------------------------------------------------- MDN */

typedef struct mdn_impl {
  mail_mdn pub;     /* first: the public view */
  mail_allocator alloc;
  char *disp_copy;  /* the parts of Disposition point into it */
} mdn_impl;

void mail_mdn_free(mail_mdn *m)
{
  if (!m)
    return;
  mdn_impl *x = (mdn_impl *)m;
  mail_allocator a = x->alloc;
  const char *fields[] = {m->reporting_ua, m->original_recipient, m->final_recipient,
                          m->original_message_id, m->disposition, m->error};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
    mail_dealloc(&a, (void *)(uintptr_t)fields[i]);
  mail_dealloc(&a, x->disp_copy);
  mail_dealloc(&a, x);
}

int mail_mdn_parse(mail_mdn **out, const void *body, size_t len, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || (!body && len) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mdn_impl *x = mail_calloc(&a, 1, sizeof *x);
  block *b = mail_malloc(&a, sizeof *b);
  if (!x || !b) {
    mail_dealloc(&a, x);
    mail_dealloc(&a, b);
    return MAIL_ERR_NOMEM;
  }
  x->alloc = a;
  mail_mdn *m = &x->pub;
  size_t pos = 0;
  int nomem = 0;
  if (next_block(&a, body ? body : "", len, &pos, b, &nomem) && !nomem) {
    m->reporting_ua = take(b, "reporting-ua");
    m->original_recipient = split_typed(&a, take(b, "original-recipient"), NULL, &nomem);
    m->final_recipient = split_typed(&a, take(b, "final-recipient"), NULL, &nomem);
    char *id = take(b, "original-message-id");
    if (id) {
      char *lt = strchr(id, '<'), *gt = lt ? strchr(lt, '>') : NULL;
      if (lt && gt) {
        memmove(id, lt + 1, (size_t)(gt - lt - 1));
        id[gt - lt - 1] = 0;
      }
    }
    m->original_message_id = id;
    m->disposition = take(b, "disposition");
    m->error = take(b, "error");
  }
  block_free(&a, b);
  mail_dealloc(&a, b);
  if (!nomem && m->disposition) {
    /* "manual-action/MDN-sent-manually; displayed/modifier" */
    x->disp_copy = mail_strdup(&a, m->disposition);
    if (!x->disp_copy) {
      nomem = 1;
    } else {
      lower_str(x->disp_copy);
      char *c = x->disp_copy, *semi = strchr(c, ';');
      if (semi) {
        *semi = 0;
        char *slash = strchr(c, '/');
        if (slash) {
          *slash = 0;
          m->sending_mode = slash + 1;
        }
        m->action_mode = c;
        char *t = semi + 1;
        while (*t == ' ' || *t == '\t')
          t++;
        char *end = t;
        while (*end && *end != '/' && *end != ' ' && *end != '\t' && *end != ';')
          end++;
        *end = 0;
        m->type = t;
        /* trim blanks around the modes */
        for (char *s2 = (char *)m->action_mode; *s2; s2++)
          if (*s2 == ' ' || *s2 == '\t') { *s2 = 0; break; }
        if (m->sending_mode)
          for (char *s2 = (char *)m->sending_mode; *s2; s2++)
            if (*s2 == ' ' || *s2 == '\t') { *s2 = 0; break; }
      }
    }
  }
  if (nomem) {
    mail_mdn_free(m);
    return MAIL_ERR_NOMEM;
  }
  if (!m->disposition || !m->final_recipient) {
    mail_mdn_free(m);
    return MAIL_ERR_SYNTAX;
  }
  *out = m;
  return MAIL_OK;
}

/* imap URL list [PATTERN] [--status] | status MAILBOX | select MAILBOX [--read-only]:
 * mailboxes, their attributes (special use included) and counts. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_session.h"

#define MAX_STATUS 8

/* A mailbox as LIST and STATUS described it. */
typedef struct mbox {
  char *name;
  char delim;
  char **attrs;
  size_t nattrs;
  size_t nstatus;
  char status_name[MAX_STATUS][24];
  uint64_t status_value[MAX_STATUS];
} mbox;

typedef struct mbox_list {
  mbox *v;
  size_t n, cap;
} mbox_list;

static char *dup_n(const char *s, size_t n)
{
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = 0;
  }
  return d;
}

static mbox *find(mbox_list *l, const char *name, size_t n)
{
  for (size_t i = 0; i < l->n; i++)
    if (strlen(l->v[i].name) == n && !memcmp(l->v[i].name, name, n))
      return &l->v[i];
  return NULL;
}

static int take_status(mbox *m, const mail_imap_response *r)
{
  const char *name;
  size_t n;
  uint64_t v;
  m->nstatus = 0;
  for (size_t i = 0; m->nstatus < MAX_STATUS &&
                     mail_imap_response_status_item(r, i, &name, &n, &v) == MAIL_OK; i++) {
    char *out = m->status_name[m->nstatus];
    size_t k = n < sizeof m->status_name[0] - 1 ? n : sizeof m->status_name[0] - 1;
    for (size_t j = 0; j < k; j++)
      out[j] = (char)tolower((unsigned char)name[j]);
    out[k] = 0;
    m->status_value[m->nstatus++] = v;
  }
  return 0;
}

/* LIST adds a mailbox; STATUS fills the counts of one already listed (or
 * of a new one, for the status action). */
static int on_list(imap_ctx *x, const mail_imap_response *r)
{
  mbox_list *l = x->data;
  int type = mail_imap_response_type(r);
  size_t n;
  if (type != MAIL_IMAP_TYPE_LIST && type != MAIL_IMAP_TYPE_STATUS)
    return 0;
  const char *name = mail_imap_response_mailbox(r, &n, NULL, NULL);
  if (!name)
    return 0;
  mbox *m = find(l, name, n);
  if (!m) {
    if (l->n == l->cap) {
      size_t cap = l->cap ? l->cap * 2 : 16;
      mbox *v = realloc(l->v, cap * sizeof *v);
      if (!v)
        return 1;
      l->v = v;
      l->cap = cap;
    }
    m = &l->v[l->n];
    memset(m, 0, sizeof *m);
    if (!(m->name = dup_n(name, n)))
      return 1;
    l->n++;
  }
  if (type == MAIL_IMAP_TYPE_STATUS)
    return take_status(m, r);
  mail_imap_response_delimiter(r, &m->delim);
  size_t count = mail_imap_response_string_count(r);
  if (!(m->attrs = calloc(count + 1, sizeof *m->attrs)))
    return 1;
  for (size_t i = 0; i < count; i++) {
    const char *s = mail_imap_response_string(r, i, &n);
    if (!(m->attrs[m->nattrs++] = dup_n(s, n)))
      return 1;
  }
  return 0;
}

static void free_list(mbox_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    for (size_t j = 0; j < l->v[i].nattrs; j++)
      free(l->v[i].attrs[j]);
    free(l->v[i].attrs);
    free(l->v[i].name);
  }
  free(l->v);
}

static int has_attr(const mbox *m, const char *a)
{
  for (size_t i = 0; i < m->nattrs; i++)
    if (!strcasecmp(m->attrs[i], a))
      return 1;
  return 0;
}

static void print_status_json(const mbox *m, int *first)
{
  json_key(stdout, first, "status");
  putchar('{');
  for (size_t i = 0; i < m->nstatus; i++)
    printf("%s\"%s\": %" PRIu64, i ? ", " : "", m->status_name[i], m->status_value[i]);
  putchar('}');
}

static void print_mbox(const cli_options *o, const mbox *m, int with_status)
{
  if (o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "mailbox", m->name);
    json_key(stdout, &first, "delimiter");
    if (m->delim) {
      char d[2] = {m->delim, 0};
      json_string(stdout, d);
    } else {
      fputs("null", stdout);
    }
    json_key(stdout, &first, "flags");
    putchar('[');
    for (size_t i = 0; i < m->nattrs; i++) {
      fputs(i ? ", " : "", stdout);
      json_string(stdout, m->attrs[i]);
    }
    putchar(']');
    if (with_status)
      print_status_json(m, &first);
    puts("}");
    return;
  }
  printf("%s", m->name);
  fputs(" (", stdout);
  for (size_t i = 0; i < m->nattrs; i++)
    printf("%s%s", i ? " " : "", m->attrs[i]);
  putchar(')');
  for (size_t i = 0; with_status && i < m->nstatus; i++)
    printf(" %s=%" PRIu64, m->status_name[i], m->status_value[i]);
  putchar('\n');
}

static const unsigned status_items = MAIL_IMAP_STATUS_MESSAGES | MAIL_IMAP_STATUS_UNSEEN |
                                     MAIL_IMAP_STATUS_UIDNEXT | MAIL_IMAP_STATUS_UIDVALIDITY;

int imap_do_list(imap_ctx *x)
{
  mbox_list l = {NULL, 0, 0};
  const char *pattern = x->c->npos ? x->c->pos[0] : "*";
  unsigned ret = 0;
  if (mail_imap_has_capability(x->im, "SPECIAL-USE"))
    ret |= MAIL_IMAP_LIST_SPECIAL_USE;
  int list_status = x->c->status && mail_imap_has_capability(x->im, "LIST-STATUS");
  if (list_status)
    ret |= MAIL_IMAP_LIST_STATUS;
  x->on = on_list;
  x->data = &l;
  int code = EXIT_OK;
  int rc = mail_imap_list(x->im, "", pattern, ret);
  if (rc) {
    char what[300];
    snprintf(what, sizeof what, "LIST \"\" %s", pattern);
    code = cli_imap_fail(x->im, rc, what);
  }
  /* Without LIST-STATUS: one STATUS per mailbox that can be selected. */
  for (size_t i = 0; !code && x->c->status && !list_status && i < l.n; i++) {
    if (has_attr(&l.v[i], "\\Noselect") || has_attr(&l.v[i], "\\NonExistent"))
      continue;
    if ((rc = mail_imap_status(x->im, l.v[i].name, status_items)) != MAIL_OK) {
      char what[600];
      snprintf(what, sizeof what, "STATUS %s", l.v[i].name);
      code = cli_imap_fail(x->im, rc, what);
    }
  }
  for (size_t i = 0; !code && i < l.n; i++)
    print_mbox(x->o, &l.v[i], x->c->status);
  x->on = NULL;
  free_list(&l);
  return code;
}

int imap_do_status(imap_ctx *x)
{
  mbox_list l = {NULL, 0, 0};
  unsigned items = status_items | MAIL_IMAP_STATUS_RECENT;
  if (mail_imap_has_capability(x->im, "CONDSTORE"))
    items |= MAIL_IMAP_STATUS_HIGHESTMODSEQ;
  if (mail_imap_has_capability(x->im, "STATUS=SIZE"))
    items |= MAIL_IMAP_STATUS_SIZE;
  x->on = on_list;
  x->data = &l;
  int code = EXIT_OK;
  int rc = mail_imap_status(x->im, x->c->pos[0], items);
  if (rc) {
    char what[300];
    snprintf(what, sizeof what, "STATUS %s", x->c->pos[0]);
    code = cli_imap_fail(x->im, rc, what);
  } else if (l.n == 0) {
    code = cli_imap_fail(x->im, MAIL_ERR_PROTOCOL, "STATUS: no STATUS response");
  } else if (x->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "mailbox", l.v[0].name);
    print_status_json(&l.v[0], &first);
    puts("}");
  } else {
    printf("%s:", l.v[0].name);
    for (size_t i = 0; i < l.v[0].nstatus; i++)
      printf(" %s=%" PRIu64, l.v[0].status_name[i], l.v[0].status_value[i]);
    putchar('\n');
  }
  x->on = NULL;
  free_list(&l);
  return code;
}

static void print_flag_list(const cli_options *o, mail_imap *im, int list, int *first,
                            const char *key)
{
  size_t n = mail_imap_mailbox_flag_count(im, list);
  if (o->json) {
    json_key(stdout, first, key);
    putchar('[');
    for (size_t i = 0; i < n; i++) {
      fputs(i ? ", " : "", stdout);
      json_string(stdout, mail_imap_mailbox_flag(im, list, i));
    }
    putchar(']');
    return;
  }
  printf("  %s:", key);
  for (size_t i = 0; i < n; i++)
    printf(" %s", mail_imap_mailbox_flag(im, list, i));
  putchar('\n');
}

int imap_do_select(imap_ctx *x)
{
  int code = cli_imap_select(x->im, x->c->pos[0], x->c->read_only);
  if (code)
    return code;
  static const struct { int field; const char *name; } nums[] = {
    {MAIL_IMAP_MAILBOX_EXISTS, "exists"},
    {MAIL_IMAP_MAILBOX_RECENT, "recent"},
    {MAIL_IMAP_MAILBOX_UIDVALIDITY, "uidvalidity"},
    {MAIL_IMAP_MAILBOX_UIDNEXT, "uidnext"},
    {MAIL_IMAP_MAILBOX_HIGHESTMODSEQ, "highestmodseq"},
    {MAIL_IMAP_MAILBOX_UNSEEN, "first_unseen"},
  };
  int first = 1, ro = mail_imap_mailbox_read_only(x->im);
  if (x->o->json) {
    putchar('{');
    json_field(stdout, &first, "mailbox", x->c->pos[0]);
    json_key(stdout, &first, "read_only");
    fputs(ro ? "true" : "false", stdout);
  } else {
    printf("%s (%s)\n", x->c->pos[0], ro ? "read-only" : "read-write");
  }
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
    uint64_t v;
    if (mail_imap_mailbox_number(&v, x->im, nums[i].field) != MAIL_OK)
      continue;
    if (x->o->json) {
      json_key(stdout, &first, nums[i].name);
      printf("%" PRIu64, v);
    } else {
      printf("  %s: %" PRIu64 "\n", nums[i].name, v);
    }
  }
  print_flag_list(x->o, x->im, MAIL_IMAP_FLAGS_DEFINED, &first, "flags");
  print_flag_list(x->o, x->im, MAIL_IMAP_FLAGS_PERMANENT, &first, "permanent_flags");
  if (x->o->json)
    puts("}");
  return EXIT_OK;
}

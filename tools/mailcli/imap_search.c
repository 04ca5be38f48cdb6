/* imap URL search MAILBOX [CRITERIA...] [--seq]: the UIDs of the messages
 * that match (message numbers with --seq), one a line, or with --json one
 * object {"mailbox", "uid", "results"}. UIDs are the default because each
 * mailcli run is its own session: a UID names the same message in the
 * next run (fetch --uid), a message number may not.
 *
 * CRITERIA are IMAP search keys, one word each: a word of letters, digits
 * and : , * . - $ \ ( ) (keys, sets, dates, flags) goes as it is; any
 * other word (an address, text with spaces, non-ASCII, a Message-ID) is
 * sent as a string, quoted or as a literal, with CHARSET UTF-8 when it is
 * not ASCII:   search INBOX HEADER Message-ID '<id@example.org>'  */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_session.h"

typedef struct found {
  uint32_t *v;
  size_t n, cap;
} found;

static int on_search(imap_ctx *x, const mail_imap_response *r)
{
  found *f = x->data;
  size_t count;
  const uint32_t *nums = mail_imap_response_numbers(r, &count);
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_SEARCH || !nums)
    return 0;
  if (f->n + count > f->cap) {
    size_t cap = f->cap ? f->cap : 64;
    while (cap < f->n + count)
      cap *= 2;
    uint32_t *v = realloc(f->v, cap * sizeof *v);
    if (!v)
      return 1;
    f->v = v;
    f->cap = cap;
  }
  memcpy(f->v + f->n, nums, count * sizeof *nums);
  f->n += count;
  return 0;
}

static int plain_word(const char *w)
{
  if (!*w)
    return 0;
  for (const unsigned char *p = (const unsigned char *)w; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          strchr(":,*.-$\\()", *p)))
      return 0;
  return 1;
}

int imap_do_search(imap_ctx *x)
{
  const imap_cmd *c = x->c;
  size_t nwords = (size_t)c->npos - 1, len = 4;
  for (size_t i = 0; i < nwords; i++)
    len += strlen(c->pos[1 + i]) + 2;
  char *criteria = malloc(len);
  const char **args = calloc(nwords + 1, sizeof *args);
  found f = {NULL, 0, 0};
  int code = EXIT_OK;
  if (!criteria || !args) {
    code = cli_fail(EXIT_INPUT, "search", "out of memory");
    goto out;
  }
  size_t nargs = 0, at = 0;
  for (size_t i = 0; i < nwords; i++) {
    const char *w = c->pos[1 + i];
    at += (size_t)sprintf(criteria + at, "%s%s", at ? " " : "", plain_word(w) ? w : "?");
    if (!plain_word(w))
      args[nargs++] = w;
  }
  if (!nwords)
    strcpy(criteria, "ALL");
  if ((code = cli_imap_select(x->im, c->pos[0], 1)) != EXIT_OK)
    goto out;
  x->on = on_search;
  x->data = &f;
  int uid = !c->seq;
  int rc = mail_imap_search(x->im, uid, NULL, criteria, args, nargs);
  x->on = NULL;
  if (rc) {
    char what[300];
    snprintf(what, sizeof what, "%sSEARCH %.200s", uid ? "UID " : "", criteria);
    code = rc == MAIL_ERR_INVALID ? (mail_imap_logout(x->im),
                                     cli_fail(EXIT_INPUT, what, "a search word holds NUL"))
                                  : cli_imap_fail(x->im, rc, what);
    goto out;
  }
  if (x->o->json) {
    printf("{\"mailbox\": ");
    json_string(stdout, c->pos[0]);
    printf(", \"uid\": %s, \"results\": [", uid ? "true" : "false");
    for (size_t i = 0; i < f.n; i++)
      printf("%s%" PRIu32, i ? ", " : "", f.v[i]);
    puts("]}");
  } else {
    for (size_t i = 0; i < f.n; i++)
      printf("%" PRIu32 "\n", f.v[i]);
  }
out:
  free(f.v);
  free(criteria);
  free(args);
  return code;
}

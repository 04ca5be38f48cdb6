/* SORT and THREAD (RFC 5256), with ESORT's RETURN (RFC 5267) and
 * SORT=DISPLAY's keys (RFC 5957). The search criteria and their "?"
 * arguments are those of SEARCH (imap_search.c); the charset, which both
 * commands must name, is US-ASCII when every argument is ASCII and UTF-8
 * otherwise. One command each, no set cut: a [BADCHARSET] refusal is the
 * caller's to see (MAIL_ERR_SERVER). */
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

/* 1 when text has the word w (upper case) as one of its space-separated
 * words, ignoring ASCII case. */
static int has_word(const char *text, const char *w)
{
  size_t wl = strlen(w);
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, " ");
    if (n == wl) {
      size_t k = 0;
      while (k < n && (p[k] >= 'a' && p[k] <= 'z' ? p[k] - 32 : p[k]) == w[k])
        k++;
      if (k == n)
        return 1;
    }
    p += n;
    while (*p == ' ')
      p++;
  }
  return 0;
}

/* The checks SEARCH makes of criteria and args; then the fields its
 * builder reads. */
static int prepare(mail_imap *im, const char *criteria, const char *const *args, size_t nargs)
{
  int all_ascii, rc = imap_search_check(im, criteria, args, nargs, &all_ascii);
  if (rc)
    return rc;
  im->srch_ret = NULL;
  im->srch_criteria = criteria;
  im->srch_args = args;
  im->srch_nargs = nargs;
  im->srch_retry = 0;
  im->srch_charset = all_ascii ? IMAP_SRCH_ASCII : IMAP_SRCH_UTF8;
  return MAIL_OK;
}

int mail_imap_sort(mail_imap *im, int uid, const char *ret, const char *order,
                   const char *criteria, const char *const *args, size_t nargs)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SORT, &rc))
    return rc;
  if (!imap_raw_ok(order) || strpbrk(order, "()") || (ret && !imap_raw_ok(ret)))
    return MAIL_ERR_INVALID;
  if ((rc = prepare(im, criteria, args, nargs)))
    return rc;
  if ((rc = imap_need_cap(im, "SORT", NULL)))
    return rc;
  if (ret && (rc = imap_need_cap(im, "ESORT", NULL)))
    return rc;
  if ((has_word(order, "DISPLAYFROM") || has_word(order, "DISPLAYTO")) &&
      (rc = imap_need_cap(im, "SORT=DISPLAY", NULL)))
    return rc;
  if ((rc = imap_search_gate(im, ret, criteria)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, uid ? "UID SORT" : "SORT", &tag);
  if (!rc && ret) {
    rc = imap_wire_atom(im, "RETURN (");
    if (!rc)
      rc = imap_wire_raw(im, ret);
    if (!rc)
      rc = imap_wire_raw(im, ")");
  }
  if (!rc)
    rc = imap_wire_atom(im, "(");
  if (!rc)
    rc = imap_wire_raw(im, order);
  if (!rc)
    rc = imap_wire_raw(im, im->srch_charset == IMAP_SRCH_UTF8 ? ") UTF-8 " : ") US-ASCII ");
  if (!rc)
    rc = imap_search_criteria(im);
  return rc ? rc : imap_send_run(im, IMAP_OP_SORT, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_thread(mail_imap *im, int uid, const char *algorithm, const char *criteria,
                     const char *const *args, size_t nargs)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_THREAD, &rc))
    return rc;
  if (!imap_raw_ok(algorithm) || strpbrk(algorithm, " ()\"\\{%*]") || strlen(algorithm) > 64)
    return MAIL_ERR_INVALID;
  if ((rc = prepare(im, criteria, args, nargs)))
    return rc;
  char cap[80] = "THREAD=";
  size_t k = 7;
  for (const char *p = algorithm; *p; p++)
    cap[k++] = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
  cap[k] = '\0';
  if ((rc = imap_need_cap(im, cap, NULL)))
    return rc;
  if ((rc = imap_search_gate(im, NULL, criteria)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, uid ? "UID THREAD" : "THREAD", &tag);
  if (!rc)
    rc = imap_wire_atom(im, cap + 7);
  if (!rc)
    rc = imap_wire_atom(im, im->srch_charset == IMAP_SRCH_UTF8 ? "UTF-8" : "US-ASCII");
  if (!rc)
    rc = imap_wire_raw(im, " ");
  if (!rc)
    rc = imap_search_criteria(im);
  return rc ? rc : imap_send_run(im, IMAP_OP_THREAD, IMAP_CMD_SIMPLE, tag);
}

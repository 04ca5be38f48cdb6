/* SEARCH / UID SEARCH (RFC 9051 6.4.4): the caller's criteria with "?"
 * standing for string arguments (quoted strings or literals), CHARSET
 * UTF-8 when an argument is not ASCII (none under UTF8=ACCEPT, RFC 6855
 * 3), ESEARCH RETURN options, optionally within a set of messages (cut by
 * the line bound like any set, imap_setcmd.c).
 *
 * The [BADCHARSET (list)] fallback (RFC 9051 7.1): a server that refuses
 * UTF-8 is asked again only in a way that keeps the meaning: without
 * CHARSET when every argument is ASCII, or in ISO-8859-1 (or
 * windows-1252) when the server lists it and every character of the
 * arguments exists there. Otherwise the search ends with MAIL_ERR_CHARSET
 * and an error that says so: never a search for other text than asked. */
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

static int is_ascii(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return 0;
  return 1;
}

int imap_search_check(const mail_imap *im, const char *criteria, const char *const *args,
                      size_t nargs, int *all_ascii)
{
  if (!imap_raw_ok(criteria) || (nargs && !args))
    return MAIL_ERR_INVALID;
  size_t marks = 0;
  for (const char *p = criteria; *p; p++)
    marks += *p == '?';
  if (marks != nargs)
    return MAIL_ERR_INVALID;
  *all_ascii = 1;
  for (size_t i = 0; i < nargs; i++) {
    if (!args[i])
      return MAIL_ERR_INVALID;
    *all_ascii &= is_ascii(args[i]);
  }
  return im->state == MAIL_IMAP_STATE_SELECTED ? MAIL_OK : MAIL_ERR_STATE;
}

/* UTF-8 s as ISO-8859-1 into out; 0 when a character is not in it (or in
 * windows-1252's printable range when c1 is 0: U+0080..U+009F excluded). */
static int to_latin1(const char *s, mail_buf *out, int c1, int *rc)
{
  const unsigned char *p = (const unsigned char *)s;
  mail_buf_clear(out);
  *rc = MAIL_OK;
  while (*p && !*rc) {
    unsigned cp;
    if (p[0] < 0x80) {
      cp = *p++;
    } else if ((p[0] == 0xC2 || p[0] == 0xC3) && (p[1] & 0xC0) == 0x80) {
      cp = ((unsigned)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
      p += 2;
    } else {
      return 0;
    }
    if (cp >= 0x80 && cp < 0xA0 && !c1)
      return 0;
    *rc = mail_buf_append_byte(out, (unsigned char)cp);
  }
  return 1;
}

static int upper_eq(const char *a, size_t n, const char *b)
{
  if (strlen(b) != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = a[i] >= 'a' && a[i] <= 'z' ? (char)(a[i] - 32) : a[i];
    if (c != b[i])
      return 0;
  }
  return 1;
}

/* 1 for ISO-8859-1 by one of its IANA names, 2 for windows-1252. */
static int latin1_name(const char *s, size_t n)
{
  static const char *const iso[] = {"ISO-8859-1", "ISO_8859-1", "ISO8859-1", "ISO_8859-1:1987",
                                    "LATIN1", "L1", "IBM819", "CP819", "CSISOLATIN1",
                                    "ISO-IR-100"};
  for (size_t i = 0; i < sizeof iso / sizeof iso[0]; i++)
    if (upper_eq(s, n, iso[i]))
      return 1;
  return upper_eq(s, n, "WINDOWS-1252") || upper_eq(s, n, "CP1252") ? 2 : 0;
}

int imap_search_build(mail_imap *im, const char *set, uint32_t *tag)
{
  int rc = imap_wire_begin(im, im->setop.uid ? "UID SEARCH" : "SEARCH", tag);
  if (!rc && im->srch_ret) {
    rc = imap_wire_atom(im, "RETURN (");
    if (!rc)
      rc = imap_wire_raw(im, im->srch_ret);
    if (!rc)
      rc = imap_wire_raw(im, ")");
  }
  if (!rc && im->srch_charset == IMAP_SRCH_UTF8)
    rc = imap_wire_atom(im, "CHARSET UTF-8");
  if (!rc && im->srch_charset == IMAP_SRCH_LATIN1) {
    rc = imap_wire_atom(im, "CHARSET");
    if (!rc)
      rc = imap_wire_atom(im, im->srch_charset_name);
  }
  if (!rc && set && im->setop.uid)
    rc = imap_wire_atom(im, "UID");
  if (!rc && set)
    rc = imap_wire_atom(im, set);
  if (!rc)
    rc = imap_wire_raw(im, " ");
  return rc ? rc : imap_search_criteria(im);
}

int imap_search_criteria(mail_imap *im)
{
  int rc = MAIL_OK;
  mail_buf conv;
  mail_buf_init(&conv, &im->alloc, 0);
  size_t a = 0;
  for (const char *p = im->srch_criteria; *p && !rc; p++) {
    if (*p != '?') {
      char c[2] = {*p, 0};
      rc = imap_wire_raw(im, c);
      continue;
    }
    const char *s = im->srch_args[a++];
    size_t len = strlen(s);
    if (im->srch_charset == IMAP_SRCH_LATIN1) {
      if (!to_latin1(s, &conv, 1, &rc) && !rc)
        rc = MAIL_ERR_CHARSET; /* checked before: cannot happen */
      s = (const char *)conv.data;
      len = conv.len;
    }
    if (!rc)
      rc = imap_wire_string(im, s ? s : "", len, 0, IMAP_STR_QUOTED | IMAP_STR_NOSPACE);
  }
  mail_buf_free(&conv);
  return rc;
}

/* The charset a [BADCHARSET (list)] lets the arguments go in, or 0. */
static int fallback(mail_imap *im, const mail_imap_response *r)
{
  int ascii = 1;
  for (size_t i = 0; i < im->srch_nargs; i++)
    ascii &= is_ascii(im->srch_args[i]);
  if (ascii)
    return IMAP_SRCH_ASCII;
  mail_buf conv;
  mail_buf_init(&conv, &im->alloc, 0);
  int pick = 0;
  for (size_t k = 0; k < mail_imap_response_string_count(r) && !pick; k++) {
    size_t n;
    const char *name = mail_imap_response_string(r, k, &n);
    int kind = name ? latin1_name(name, n) : 0;
    if (!kind || !imap_atom_ok(name, n) || n >= sizeof im->srch_charset_name)
      continue;
    int fits = 1, rc = MAIL_OK;
    for (size_t i = 0; i < im->srch_nargs && fits && !rc; i++)
      fits = to_latin1(im->srch_args[i], &conv, kind == 1, &rc);
    if (fits && !rc) {
      memcpy(im->srch_charset_name, name, n);
      im->srch_charset_name[n] = '\0';
      pick = IMAP_SRCH_LATIN1;
    }
  }
  mail_buf_free(&conv);
  return pick;
}

int imap_search_reply(mail_imap *im, const mail_imap_response *r)
{
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_OK)
    return MAIL_OK;
  if (mail_imap_response_code(r) != MAIL_IMAP_CODE_BADCHARSET)
    return imap_refusal(r);
  if (im->srch_retry)
    return MAIL_OK; /* another piece's refusal: the retry is chosen */
  int pick = im->srch_charset == IMAP_SRCH_UTF8 ? fallback(im, r) : 0;
  if (!pick) {
    const char *list = mail_imap_last_code_data(im);
    return mail_conn_fail(im->conn, MAIL_ERR_CHARSET,
                          "SEARCH: the server does not take the search text's charset "
                          "([BADCHARSET%s%s]) and it cannot be written in one it lists; "
                          "nothing was searched", *list ? " " : "", list);
  }
  im->srch_retry = pick;
  im->setop.hold = 1; /* no more pieces in the refused charset */
  return MAIL_OK;
}

int imap_search_next(mail_imap *im)
{
  if (!im->srch_retry)
    return MAIL_OK;
  im->srch_charset = im->srch_retry;
  im->srch_retry = 0;
  mail_conn_trace_info(im->conn, "imap: SEARCH again %s",
                       im->srch_charset == IMAP_SRCH_ASCII ? "without CHARSET"
                                                           : "in the charset the server lists");
  return imap_setop_restart(im);
}

static int search(mail_imap *im, int uid, const char *ret, mail_imap_seqset *set,
                  const char *criteria, const char *const *args, size_t nargs)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SEARCH, &rc))
    return rc;
  if (ret && !imap_raw_ok(ret))
    return MAIL_ERR_INVALID;
  int ascii;
  if ((rc = imap_search_check(im, criteria, args, nargs, &ascii)))
    return rc;
  if (ret && (rc = imap_need_cap(im, "ESEARCH", "IMAP4REV2")))
    return rc;
  if ((rc = imap_search_gate(im, ret, criteria)))
    return rc;
  im->srch_ret = ret;
  im->srch_criteria = criteria;
  im->srch_args = args;
  im->srch_nargs = nargs;
  im->srch_retry = 0;
  /* RFC 6855 3: under UTF8=ACCEPT the strings are UTF-8 with no CHARSET. */
  im->srch_charset = ascii || im->utf8 ? IMAP_SRCH_ASCII : IMAP_SRCH_UTF8;
  if (set && !imap_seqset_count(set))
    return MAIL_ERR_INVALID;
  return imap_setop_start(im, IMAP_OP_SEARCH, set, uid, "SEARCH", NULL, NULL);
}

int mail_imap_search(mail_imap *im, int uid, const char *ret, const char *criteria,
                     const char *const *args, size_t nargs)
{
  return search(im, uid, ret, NULL, criteria, args, nargs);
}

int mail_imap_search_within(mail_imap *im, int uid, const char *ret, mail_imap_seqset *set,
                            const char *criteria, const char *const *args, size_t nargs)
{
  if (im && !im->op.kind && !set)
    return MAIL_ERR_INVALID;
  return search(im, uid, ret, set, criteria, args, nargs);
}

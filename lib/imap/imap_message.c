/* Commands over a sequence set (FETCH, STORE, COPY, MOVE, UID EXPUNGE,
 * with their UID forms) and the listing and searching commands (LIST,
 * NAMESPACE, STATUS, SEARCH). A set longer than the session's bound
 * becomes several commands, all sent at once (pipelined: replies come back
 * by tag). Results arrive as responses through the untagged callback, one
 * at a time, and FETCH bodies through the body callback, never held. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

static int logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

/* The caller's own syntax (FETCH items, SEARCH criteria, RETURN options):
 * printable ASCII only, so it can never end or split the command. */
static int raw_ok(const char *s)
{
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

int imap_flag_ok(const char *f)
{
  if (!f)
    return 0;
  if (*f == '\\')
    f++;
  if (!*f)
    return 0;
  for (; *f; f++) {
    unsigned char c = (unsigned char)*f;
    if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
      return 0;
  }
  return 1;
}

typedef struct set_cmd {
  const char *verb;      /* "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE" */
  int uid;
  const char *items;     /* FETCH items / STORE arguments, raw (may be NULL) */
  const char *mailbox;   /* COPY / MOVE destination */
} set_cmd;

/* Queue one command per piece of the set, then run op. */
static int run_set(mail_imap *im, int op, mail_imap_seqset *set, const set_cmd *c)
{
  if (!set || imap_seqset_count(set) == 0)
    return MAIL_ERR_INVALID;
  mail_buf piece;
  mail_buf_init(&piece, &im->alloc, 0);
  size_t at = 0, sent = 0;
  int rc = MAIL_OK;
  while (!rc && at < imap_seqset_count(set)) {
    uint32_t tag;
    rc = imap_seqset_piece(set, &at, im->max_set, &piece);
    if (!rc)
      rc = imap_wire_begin(im, c->uid ? "UID " : "", &tag);
    if (!rc)
      rc = imap_wire_raw(im, c->verb);
    if (!rc)
      rc = imap_wire_atom(im, (const char *)piece.data);
    if (!rc && c->items)
      rc = imap_wire_atom(im, c->items);
    if (!rc && c->mailbox)
      rc = imap_wire_mailbox(im, c->mailbox);
    if (!rc)
      rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
    if (!rc)
      sent++;
  }
  mail_buf_free(&piece);
  if (rc && !sent)
    return rc;
  /* Some are in flight: their replies are read before the error is told. */
  im->pending_rc = rc;
  return imap_run(im, op);
}

int mail_imap_set_max_set_length(mail_imap *im, size_t bytes)
{
  if (!im || bytes < 32 || bytes > 1u << 20)
    return MAIL_ERR_INVALID;
  im->max_set = bytes;
  return MAIL_OK;
}

int mail_imap_fetch(mail_imap *im, mail_imap_seqset *set, int uid, const char *items,
                    mail_imap_body_fn body, void *user)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_FETCH, &rc))
    return rc;
  if (!raw_ok(items))
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  mail_imap_parser_set_body_callback(im->parser, body, body ? user : NULL);
  im->body_set = 1;
  set_cmd c = {"FETCH", uid, items, NULL};
  return run_set(im, IMAP_OP_FETCH, set, &c);
}

int mail_imap_store(mail_imap *im, mail_imap_seqset *set, int uid, int how,
                    const char *const *flags, size_t nflags, int silent, uint64_t unchangedsince)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_STORE, &rc))
    return rc;
  if (!set || how < MAIL_IMAP_STORE_REPLACE || how > MAIL_IMAP_STORE_REMOVE || (nflags && !flags))
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < nflags; i++)
    if (!imap_flag_ok(flags[i]))
      return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (unchangedsince && !imap_has_cap(im, "CONDSTORE"))
    return MAIL_ERR_UNSUPPORTED;
  mail_buf a;
  mail_buf_init(&a, &im->alloc, 0);
  rc = MAIL_OK;
  if (unchangedsince)
    rc = mail_buf_appendf(&a, "(UNCHANGEDSINCE %llu) ", (unsigned long long)unchangedsince);
  static const char *const ops[] = {"FLAGS", "+FLAGS", "-FLAGS"};
  if (!rc)
    rc = mail_buf_appendf(&a, "%s%s (", ops[how], silent ? ".SILENT" : "");
  for (size_t i = 0; i < nflags && !rc; i++)
    rc = mail_buf_appendf(&a, "%s%s", i ? " " : "", flags[i]);
  if (!rc)
    rc = mail_buf_append_str(&a, ")");
  if (!rc)
    rc = mail_buf_terminate(&a);
  if (!rc) {
    set_cmd c = {"STORE", uid, (const char *)a.data, NULL};
    rc = run_set(im, IMAP_OP_STORE, set, &c);
  }
  mail_buf_free(&a);
  return rc;
}

int mail_imap_copy(mail_imap *im, mail_imap_seqset *set, int uid, const char *mailbox, int move)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_COPY, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox))
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (move && !imap_has_cap(im, "MOVE") && !imap_has_cap(im, "IMAP4REV2"))
    return MAIL_ERR_UNSUPPORTED;
  set_cmd c = {move ? "MOVE" : "COPY", uid, NULL, mailbox};
  return run_set(im, IMAP_OP_COPY, set, &c);
}

int mail_imap_uid_expunge(mail_imap *im, mail_imap_seqset *set)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_UID_EXPUNGE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (!imap_has_cap(im, "UIDPLUS") && !imap_has_cap(im, "IMAP4REV2"))
    return MAIL_ERR_UNSUPPORTED;
  set_cmd c = {"EXPUNGE", 1, NULL, NULL};
  return run_set(im, IMAP_OP_UID_EXPUNGE, set, &c);
}

/* ------------------------------------------------------------ listing */

int mail_imap_list(mail_imap *im, const char *reference, const char *pattern, unsigned ret)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_LIST, &rc))
    return rc;
  if (!imap_mailbox_ok(reference) || !imap_mailbox_ok(pattern) || (ret & ~(unsigned)(MAIL_IMAP_LIST_SUBSCRIBED |
                                                   MAIL_IMAP_LIST_CHILDREN |
                                                   MAIL_IMAP_LIST_SPECIAL_USE |
                                                   MAIL_IMAP_LIST_STATUS)))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  int rev2 = imap_has_cap(im, "IMAP4REV2");
  if ((ret & (MAIL_IMAP_LIST_SUBSCRIBED | MAIL_IMAP_LIST_CHILDREN)) && !rev2 &&
      !imap_has_cap(im, "LIST-EXTENDED"))
    return MAIL_ERR_UNSUPPORTED;
  if ((ret & MAIL_IMAP_LIST_SPECIAL_USE) && !rev2 && !imap_has_cap(im, "SPECIAL-USE"))
    return MAIL_ERR_UNSUPPORTED;
  if ((ret & MAIL_IMAP_LIST_STATUS) && !rev2 && !imap_has_cap(im, "LIST-STATUS"))
    return MAIL_ERR_UNSUPPORTED;
  uint32_t tag;
  rc = imap_wire_begin(im, "LIST", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, reference);
  if (!rc)
    rc = imap_wire_mailbox(im, pattern);
  if (!rc && ret) {
    char opts[128];
    snprintf(opts, sizeof opts, "RETURN (%s%s%s%s)",
             ret & MAIL_IMAP_LIST_SUBSCRIBED ? "SUBSCRIBED " : "",
             ret & MAIL_IMAP_LIST_CHILDREN ? "CHILDREN " : "",
             ret & MAIL_IMAP_LIST_SPECIAL_USE ? "SPECIAL-USE " : "",
             ret & MAIL_IMAP_LIST_STATUS ? "STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY) " : "");
    char *end = strrchr(opts, ' '); /* the last option's space */
    if (end) {
      end[0] = ')';
      end[1] = '\0';
    }
    rc = imap_wire_atom(im, opts);
  }
  if (rc)
    return rc;
  rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_LIST);
}

int mail_imap_namespace(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_NAMESPACE, &rc))
    return rc;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  if (!imap_has_cap(im, "NAMESPACE") && !imap_has_cap(im, "IMAP4REV2"))
    return MAIL_ERR_UNSUPPORTED;
  uint32_t tag;
  rc = imap_wire_begin(im, "NAMESPACE", &tag);
  if (!rc)
    rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_NAMESPACE);
}

int mail_imap_status(mail_imap *im, const char *mailbox, unsigned items)
{
  static const char *const names[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                                      "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ"};
  int rc;
  if (imap_op_enter(im, IMAP_OP_STATUS, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !items || items >= (1u << 8))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, "STATUS", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  int first = 1;
  for (unsigned i = 0; i < 8 && !rc; i++) {
    if (!(items & (1u << i)))
      continue;
    rc = first ? imap_wire_raw(im, " (") : imap_wire_raw(im, " ");
    if (!rc)
      rc = imap_wire_raw(im, names[i]);
    first = 0;
  }
  if (!rc)
    rc = imap_wire_raw(im, ")");
  if (rc)
    return rc;
  rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_STATUS);
}

/* ------------------------------------------------------------ searching */

int mail_imap_search(mail_imap *im, int uid, const char *ret, const char *criteria,
                     const char *const *args, size_t nargs)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SEARCH, &rc))
    return rc;
  if (!raw_ok(criteria) || (ret && !raw_ok(ret)) || (nargs && !args))
    return MAIL_ERR_INVALID;
  size_t marks = 0;
  for (const char *p = criteria; *p; p++)
    marks += *p == '?';
  if (marks != nargs)
    return MAIL_ERR_INVALID;
  int eight = 0;
  for (size_t i = 0; i < nargs; i++) {
    if (!args[i])
      return MAIL_ERR_INVALID;
    for (const char *p = args[i]; *p; p++)
      eight |= (unsigned char)*p >= 0x80;
  }
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (ret && !imap_has_cap(im, "ESEARCH") && !imap_has_cap(im, "IMAP4REV2"))
    return MAIL_ERR_UNSUPPORTED;
  uint32_t tag;
  rc = imap_wire_begin(im, uid ? "UID SEARCH" : "SEARCH", &tag);
  if (!rc && ret) {
    rc = imap_wire_atom(im, "RETURN (");
    if (!rc)
      rc = imap_wire_raw(im, ret);
    if (!rc)
      rc = imap_wire_raw(im, ")");
  }
  /* RFC 6855 3: under UTF8=ACCEPT the strings are UTF-8 with no CHARSET. */
  if (!rc && eight && !im->utf8)
    rc = imap_wire_atom(im, "CHARSET UTF-8");
  if (!rc)
    rc = imap_wire_raw(im, " ");
  size_t a = 0;
  for (const char *p = criteria; *p && !rc; p++) {
    if (*p != '?') {
      char c[2] = {*p, 0};
      rc = imap_wire_raw(im, c);
      continue;
    }
    rc = imap_wire_string(im, args[a], strlen(args[a]), 0, IMAP_STR_QUOTED | IMAP_STR_NOSPACE);
    a++;
  }
  if (rc)
    return rc;
  im->search_charset = eight && !im->utf8;
  rc = imap_wire_send(im, IMAP_CMD_SEARCH, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_SEARCH);
}

/* Commands over a sequence set (FETCH, STORE, COPY, MOVE, UID EXPUNGE,
 * with their UID forms) and the listing commands (LIST,
 * NAMESPACE, STATUS). A set too long for one command becomes several
 * (imap_setcmd.c: pipelined, replies come back by tag). Results arrive as
 * responses through the untagged callback, one at a time, and FETCH bodies
 * through the body callback, never held. */
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
int imap_raw_ok(const char *s)
{
  if (!s || !*s)
    return 0;
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
      return 0;
  return 1;
}

int imap_atom_ok(const char *s, size_t n)
{
  if (!s || !n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c))
      return 0;
  }
  return 1;
}

int imap_flag_ok(const char *f)
{
  if (!f)
    return 0;
  if (*f == '\\')
    f++;
  return imap_atom_ok(f, strlen(f));
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
  if (!imap_raw_ok(items))
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if ((rc = imap_fetch_gate(im, items)))
    return rc;
  mail_imap_parser_set_body_callback(im->parser, body, body ? user : NULL);
  im->body_set = 1;
  if (!set)
    return MAIL_ERR_INVALID;
  return imap_setop_start(im, IMAP_OP_FETCH, set, uid, "FETCH", items, NULL);
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
  if (unchangedsince && (rc = imap_need_cap(im, "CONDSTORE", NULL)))
    return rc;
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
  if (!rc)
    rc = imap_setop_start(im, IMAP_OP_STORE, set, uid, "STORE", (const char *)a.data, NULL);
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
  if (move && (rc = imap_need_cap(im, "MOVE", "IMAP4REV2")))
    return rc;
  if (!set)
    return MAIL_ERR_INVALID;
  return imap_setop_start(im, IMAP_OP_COPY, set, uid, move ? "MOVE" : "COPY", NULL, mailbox);
}

int mail_imap_uid_expunge(mail_imap *im, mail_imap_seqset *set)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_UID_EXPUNGE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "UIDPLUS", "IMAP4REV2")))
    return rc;
  if (!set)
    return MAIL_ERR_INVALID;
  return imap_setop_start(im, IMAP_OP_UID_EXPUNGE, set, 1, "EXPUNGE", NULL, NULL);
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
                                                   MAIL_IMAP_LIST_STATUS |
                                                   MAIL_IMAP_LIST_MYRIGHTS)))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  if ((ret & (MAIL_IMAP_LIST_SUBSCRIBED | MAIL_IMAP_LIST_CHILDREN)) &&
      (rc = imap_need_cap(im, "LIST-EXTENDED", "IMAP4REV2")))
    return rc;
  if ((ret & MAIL_IMAP_LIST_SPECIAL_USE) && (rc = imap_need_cap(im, "SPECIAL-USE", "IMAP4REV2")))
    return rc;
  if ((ret & MAIL_IMAP_LIST_STATUS) && (rc = imap_need_cap(im, "LIST-STATUS", "IMAP4REV2")))
    return rc;
  if ((ret & MAIL_IMAP_LIST_MYRIGHTS) && (rc = imap_need_cap(im, "LIST-MYRIGHTS", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "LIST", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, reference);
  if (!rc)
    rc = imap_wire_mailbox(im, pattern);
  if (!rc && ret) {
    char opts[128];
    snprintf(opts, sizeof opts, "RETURN (%s%s%s%s%s)",
             ret & MAIL_IMAP_LIST_SUBSCRIBED ? "SUBSCRIBED " : "",
             ret & MAIL_IMAP_LIST_CHILDREN ? "CHILDREN " : "",
             ret & MAIL_IMAP_LIST_SPECIAL_USE ? "SPECIAL-USE " : "",
             ret & MAIL_IMAP_LIST_STATUS ? "STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY) " : "",
             ret & MAIL_IMAP_LIST_MYRIGHTS ? "MYRIGHTS " : "");
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
  if ((rc = imap_need_cap(im, "NAMESPACE", "IMAP4REV2")))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "NAMESPACE", &tag);
  if (!rc)
    rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_NAMESPACE);
}

int mail_imap_status(mail_imap *im, const char *mailbox, unsigned items)
{
  static const char *const names[] = {"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY",
                                      "UNSEEN", "DELETED", "SIZE", "HIGHESTMODSEQ",
                                      "APPENDLIMIT", "MAILBOXID"};
  int rc;
  if (imap_op_enter(im, IMAP_OP_STATUS, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !items || items >= (1u << 10))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  if ((items & MAIL_IMAP_STATUS_APPENDLIMIT) && !imap_cap_value(im, "APPENDLIMIT", NULL) &&
      (rc = imap_need_cap(im, "APPENDLIMIT", NULL)))
    return rc;
  if ((items & MAIL_IMAP_STATUS_MAILBOXID) && (rc = imap_need_cap(im, "OBJECTID", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "STATUS", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  int first = 1;
  for (unsigned i = 0; i < 10 && !rc; i++) {
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

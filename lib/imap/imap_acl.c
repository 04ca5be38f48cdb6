/* ACL (RFC 4314): SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS. Their
 * ACL, LISTRIGHTS and MYRIGHTS responses are typed by the parser
 * (lib/parse/imap_ext.c). */
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

/* Rights: RFC 4314 2.1 letters (and digits, for extensions), after an
 * optional "+" or "-". */
static int rights_ok(const char *r)
{
  if (!r)
    return 0;
  if (*r == '+' || *r == '-')
    r++;
  if (!*r)
    return 0;
  for (; *r; r++)
    if (!((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9')))
      return 0;
  return 1;
}

static int astring(mail_imap *im, const char *s)
{
  return imap_wire_string(im, s, strlen(s), 0, 0);
}

/* "verb mailbox [identifier [rights]]" */
static int acl_cmd(mail_imap *im, int op, const char *verb, const char *mailbox, const char *id,
                   const char *rights, int nargs)
{
  int rc;
  if (imap_op_enter(im, op, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || (nargs > 1 && (!id || !*id || strpbrk(id, "\r\n"))) ||
      (nargs > 2 && !rights_ok(rights)))
    return MAIL_ERR_INVALID;
  if (!imap_logged_in(im))
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "ACL", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, verb, &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc && nargs > 1)
    rc = astring(im, id);
  if (!rc && nargs > 2)
    rc = astring(im, rights);
  return rc ? rc : imap_send_run(im, op, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_setacl(mail_imap *im, const char *mailbox, const char *identifier,
                     const char *rights)
{
  return acl_cmd(im, IMAP_OP_SETACL, "SETACL", mailbox, identifier, rights, 3);
}

int mail_imap_deleteacl(mail_imap *im, const char *mailbox, const char *identifier)
{
  return acl_cmd(im, IMAP_OP_DELETEACL, "DELETEACL", mailbox, identifier, NULL, 2);
}

int mail_imap_getacl(mail_imap *im, const char *mailbox)
{
  return acl_cmd(im, IMAP_OP_GETACL, "GETACL", mailbox, NULL, NULL, 1);
}

int mail_imap_listrights(mail_imap *im, const char *mailbox, const char *identifier)
{
  return acl_cmd(im, IMAP_OP_LISTRIGHTS, "LISTRIGHTS", mailbox, identifier, NULL, 2);
}

int mail_imap_myrights(mail_imap *im, const char *mailbox)
{
  return acl_cmd(im, IMAP_OP_MYRIGHTS, "MYRIGHTS", mailbox, NULL, NULL, 1);
}

/* QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA. Their QUOTA and
 * QUOTAROOT responses are typed by the parser (lib/parse/imap_ext.c). */
#include <stdio.h>
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

static int begin(mail_imap *im, int op, const char *arg, const char *verb, int mailbox,
                 uint32_t *tag)
{
  int rc;
  if (imap_op_enter(im, op, &rc))
    return rc;
  if (!arg || (mailbox && !imap_mailbox_ok(arg)))
    return MAIL_ERR_INVALID;
  if (!imap_logged_in(im))
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "QUOTA", NULL)))
    return rc;
  rc = imap_wire_begin(im, verb, tag);
  if (!rc)
    rc = mailbox ? imap_wire_mailbox(im, arg) : imap_wire_string(im, arg, strlen(arg), 0, 0);
  return rc ? rc : 1; /* built: the caller adds the rest */
}

int mail_imap_getquota(mail_imap *im, const char *root)
{
  uint32_t tag;
  int rc = begin(im, IMAP_OP_GETQUOTA, root, "GETQUOTA", 0, &tag);
  return rc != 1 ? rc : imap_send_run(im, IMAP_OP_GETQUOTA, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_getquotaroot(mail_imap *im, const char *mailbox)
{
  uint32_t tag;
  int rc = begin(im, IMAP_OP_GETQUOTAROOT, mailbox, "GETQUOTAROOT", 1, &tag);
  return rc != 1 ? rc : imap_send_run(im, IMAP_OP_GETQUOTAROOT, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_setquota(mail_imap *im, const char *root, const char *const *resources,
                       const uint64_t *limits, size_t n)
{
  if (im && !im->op.kind) {
    if (n && (!resources || !limits))
      return MAIL_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
      if (!(resources[i] && imap_atom_ok(resources[i], strlen(resources[i]))) || limits[i] > INT64_MAX)
        return MAIL_ERR_INVALID;
  }
  uint32_t tag;
  int rc = begin(im, IMAP_OP_SETQUOTA, root, "SETQUOTA", 0, &tag);
  if (rc != 1)
    return rc;
  rc = imap_wire_atom(im, "(");
  for (size_t i = 0; i < n && !rc; i++) {
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)limits[i]);
    rc = i ? imap_wire_atom(im, resources[i]) : imap_wire_raw(im, resources[i]);
    if (!rc)
      rc = imap_wire_atom(im, num);
  }
  if (!rc)
    rc = imap_wire_raw(im, ")");
  return rc ? rc : imap_send_run(im, IMAP_OP_SETQUOTA, IMAP_CMD_SIMPLE, tag);
}

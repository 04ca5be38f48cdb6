/* CREATE with special uses (RFC 6154 CREATE-SPECIAL-USE) and the APPEND
 * limit a server announces in its capabilities (RFC 7889 APPENDLIMIT=n). */
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

/* "\\Sent": a backslash and an atom. */
static int use_ok(const char *u)
{
  return u && u[0] == '\\' && u[1] && imap_flag_ok(u);
}

int mail_imap_create_special_use(mail_imap *im, const char *mailbox, const char *const *uses,
                                 size_t n)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_CREATE_SPECIAL, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !uses || !n)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!use_ok(uses[i]))
      return MAIL_ERR_INVALID;
  if (!imap_logged_in(im))
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "CREATE-SPECIAL-USE", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "CREATE", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc)
    rc = imap_wire_atom(im, "(USE (");
  for (size_t i = 0; i < n && !rc; i++)
    rc = i ? imap_wire_atom(im, uses[i]) : imap_wire_raw(im, uses[i]);
  if (!rc)
    rc = imap_wire_raw(im, "))");
  return rc ? rc : imap_send_run(im, IMAP_OP_CREATE_SPECIAL, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_append_limit(uint64_t *out, const mail_imap *im)
{
  if (!out || !im)
    return MAIL_ERR_INVALID;
  *out = 0;
  const char *v;
  if (!imap_cap_value(im, "APPENDLIMIT", &v) || *v < '0' || *v > '9')
    return MAIL_ERR_NOT_FOUND;
  uint64_t n = 0;
  for (; *v >= '0' && *v <= '9'; v++) {
    if (n > (UINT64_MAX - 9) / 10)
      return MAIL_ERR_NOT_FOUND;
    n = n * 10 + (uint64_t)(*v - '0');
  }
  if (*v && *v != ' ')
    return MAIL_ERR_NOT_FOUND;
  *out = n;
  return MAIL_OK;
}

/* UNAUTHENTICATE (RFC 8437): back to the not-authenticated state on the
 * same connection, without a new TLS handshake. What belonged to the
 * login goes: the selected mailbox, the extensions ENABLEd (UTF8=ACCEPT
 * with them: mailbox names are modified UTF-7 again) and the
 * capabilities, which are asked again unless the OK carries them. */
#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

enum { PH_SENT = 0, PH_RECAPA, PH_RECAPA_WAIT, PH_DONE };

int mail_imap_unauthenticate(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_UNAUTHENTICATE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_AUTHENTICATED && im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "UNAUTHENTICATE", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "UNAUTHENTICATE", &tag);
  if (rc)
    return rc;
  rc = imap_wire_send(im, IMAP_CMD_UNAUTHENTICATE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_UNAUTHENTICATE);
}

int imap_unauth_reply(mail_imap *im, const mail_imap_response *r)
{
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK)
    return imap_refusal(r);
  imap_set_state(im, MAIL_IMAP_STATE_NOT_AUTHENTICATED);
  imap_mailbox_reset(im);
  mail_buf_clear(&im->enabled);
  im->utf8 = 0;
  mail_imap_parser_set_utf8(im->parser, 0);
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_CAPABILITY) {
    im->op.phase = PH_DONE;
    return imap_caps_set_from(im, r);
  }
  imap_caps_reset(im);
  im->op.phase = PH_RECAPA;
  return MAIL_OK;
}

int imap_unauth_next(mail_imap *im)
{
  if (im->op.phase != PH_RECAPA)
    return MAIL_OK;
  uint32_t tag;
  im->op.phase = PH_RECAPA_WAIT;
  int rc = imap_wire_begin(im, "CAPABILITY", &tag);
  if (!rc)
    rc = imap_wire_send(im, IMAP_CMD_CAPABILITY, tag);
  return rc ? rc : MAIL_ERR_AGAIN;
}

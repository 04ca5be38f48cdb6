/* The one-command operations: CAPABILITY, NOOP, LOGOUT, ENABLE, ID,
 * SELECT/EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, CLOSE,
 * UNSELECT, EXPUNGE. Each public call builds its command (nothing is sent
 * when an argument is refused), queues it and runs until its tagged reply. */
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

int imap_command_next(mail_imap *im)
{
  if (im->op.kind == IMAP_OP_SEARCH)
    return imap_search_next(im); /* a [BADCHARSET] retry, or done */
  if (im->op.kind == IMAP_OP_UNAUTHENTICATE)
    return imap_unauth_next(im); /* CAPABILITY again, unless the OK gave them */
  return MAIL_OK; /* the command's reply was read: its handler set the result */
}

int imap_command_reply(void *engine, const mail_cmd *cmd)
{
  mail_imap *im = engine;
  const mail_imap_response *r = im->resp;
  int ok = mail_imap_response_type(r) == MAIL_IMAP_TYPE_OK;
  switch (cmd->kind) {
  case IMAP_CMD_SELECT:
    if (!ok) {
      imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATED);
      imap_mailbox_reset(im);
      return imap_refusal(r);
    }
    im->mbox.read_only = im->select_ro || mail_imap_response_code(r) == MAIL_IMAP_CODE_READ_ONLY;
    imap_set_state(im, MAIL_IMAP_STATE_SELECTED);
    return MAIL_OK;
  case IMAP_CMD_CLOSE:
    if (ok)
      imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATED);
    return ok ? MAIL_OK : imap_refusal(r);
  case IMAP_CMD_SET:
    return imap_setop_reply(im, r);
  case IMAP_CMD_APPEND:
    return imap_append_reply(im, r);
  case IMAP_CMD_IDLE:
    return imap_idle_reply(im, r);
  case IMAP_CMD_COMPRESS:
    return imap_compress_reply(im, r);
  case IMAP_CMD_UNAUTHENTICATE:
    return imap_unauth_reply(im, r);
  case IMAP_CMD_ENABLE: {
    int rc = imap_enable_reply(im, ok);
    return rc ? rc : ok ? MAIL_OK : imap_refusal(r);
  }
  case IMAP_CMD_LOGOUT: /* the connection is closed by imap_finish() */
    return MAIL_OK;
  default:
    return ok ? MAIL_OK : imap_refusal(r);
  }
}

static int connected(const mail_imap *im)
{
  return im->state >= MAIL_IMAP_STATE_NOT_AUTHENTICATED && im->state != MAIL_IMAP_STATE_LOGOUT &&
         im->state != MAIL_IMAP_STATE_AUTHENTICATING;
}

static int logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

/* Queue the command built in im->out and run operation op. */
static int run(mail_imap *im, int op, int kind, uint32_t tag)
{
  int rc = imap_wire_send(im, kind, tag);
  if (rc)
    return imap_finish(im, rc);
  return imap_run(im, op);
}

static int bare(mail_imap *im, int op, int kind, const char *verb, int need_login)
{
  int rc;
  if (imap_op_enter(im, op, &rc))
    return rc;
  if (!(need_login ? logged_in(im) : connected(im)))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, verb, &tag);
  return rc ? rc : run(im, op, kind, tag);
}

int mail_imap_capability(mail_imap *im)
{
  return bare(im, IMAP_OP_CAPABILITY, IMAP_CMD_CAPABILITY, "CAPABILITY", 0);
}

int mail_imap_noop(mail_imap *im)
{
  return bare(im, IMAP_OP_NOOP, IMAP_CMD_NOOP, "NOOP", 0);
}

int mail_imap_logout(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_LOGOUT, &rc))
    return rc;
  if (!connected(im))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, "LOGOUT", &tag);
  if (rc)
    return rc;
  imap_set_state(im, MAIL_IMAP_STATE_LOGOUT);
  return run(im, IMAP_OP_LOGOUT, IMAP_CMD_LOGOUT, tag);
}

int mail_imap_close(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_CLOSE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  return bare(im, IMAP_OP_CLOSE, IMAP_CMD_CLOSE, "CLOSE", 1);
}

int mail_imap_unselect(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_UNSELECT, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "UNSELECT", "IMAP4REV2")))
    return rc;
  return bare(im, IMAP_OP_UNSELECT, IMAP_CMD_CLOSE, "UNSELECT", 1);
}

int mail_imap_expunge(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_EXPUNGE, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  return bare(im, IMAP_OP_EXPUNGE, IMAP_CMD_SIMPLE, "EXPUNGE", 1);
}

/* "verb mailbox [mailbox2]" */
static int mailbox_cmd(mail_imap *im, int op, const char *verb, const char *a, const char *b)
{
  int rc;
  if (imap_op_enter(im, op, &rc))
    return rc;
  if (!imap_mailbox_ok(a) || (op == IMAP_OP_RENAME && !imap_mailbox_ok(b)))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, verb, &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, a);
  if (!rc && b)
    rc = imap_wire_mailbox(im, b);
  return rc ? rc : run(im, op, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_create(mail_imap *im, const char *mailbox)
{
  return mailbox_cmd(im, IMAP_OP_CREATE, "CREATE", mailbox, NULL);
}

int mail_imap_delete(mail_imap *im, const char *mailbox)
{
  return mailbox_cmd(im, IMAP_OP_DELETE, "DELETE", mailbox, NULL);
}

int mail_imap_rename(mail_imap *im, const char *from, const char *to)
{
  return mailbox_cmd(im, IMAP_OP_RENAME, "RENAME", from, to);
}

int mail_imap_subscribe(mail_imap *im, const char *mailbox)
{
  return mailbox_cmd(im, IMAP_OP_SUBSCRIBE, "SUBSCRIBE", mailbox, NULL);
}

int mail_imap_unsubscribe(mail_imap *im, const char *mailbox)
{
  return mailbox_cmd(im, IMAP_OP_UNSUBSCRIBE, "UNSUBSCRIBE", mailbox, NULL);
}

int mail_imap_select(mail_imap *im, const char *mailbox, int read_only)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SELECT, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, read_only ? "EXAMINE" : "SELECT", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (rc)
    return rc;
  /* The old mailbox's state ends here (RFC 9051 6.3.2: a SELECT closes it). */
  imap_mailbox_reset(im);
  im->select_ro = read_only != 0;
  return run(im, IMAP_OP_SELECT, IMAP_CMD_SELECT, tag);
}

int mail_imap_enable(mail_imap *im, const char *const *names, size_t n)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_ENABLE, &rc))
    return rc;
  if (!names || n == 0)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!(names[i] && imap_atom_ok(names[i], strlen(names[i]))))
      return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_AUTHENTICATED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "ENABLE", "IMAP4REV2")))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "ENABLE", &tag);
  for (size_t i = 0; i < n && !rc; i++)
    rc = imap_wire_atom(im, names[i]);
  if (!rc)
    imap_enable_asked(im, names, n);
  return rc ? rc : run(im, IMAP_OP_ENABLE, IMAP_CMD_ENABLE, tag);
}

int mail_imap_id(mail_imap *im, const char *const *fields, const char *const *values, size_t n)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_ID, &rc))
    return rc;
  if (n && (!fields || !values))
    return MAIL_ERR_INVALID;
  if (n > 30) /* RFC 2971 3.3 */
    return MAIL_ERR_INVALID;
  if (!connected(im))
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "ID", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "ID", &tag);
  if (!rc && !n)
    rc = imap_wire_atom(im, "NIL");
  if (!rc && n)
    rc = imap_wire_atom(im, "(");
  for (size_t i = 0; i < n && !rc; i++) {
    if (!fields[i] || strlen(fields[i]) > 30 || (values[i] && strlen(values[i]) > 1024)) {
      rc = MAIL_ERR_INVALID;
      break;
    }
    rc = imap_wire_string(im, fields[i], strlen(fields[i]), 0,
                          IMAP_STR_QUOTED | (i ? 0 : IMAP_STR_NOSPACE));
    if (!rc)
      rc = imap_wire_string(im, values[i], values[i] ? strlen(values[i]) : 0, 0,
                            IMAP_STR_QUOTED | IMAP_STR_NIL);
  }
  if (!rc && n)
    rc = imap_wire_raw(im, ")");
  return rc ? rc : run(im, IMAP_OP_ID, IMAP_CMD_ID, tag);
}

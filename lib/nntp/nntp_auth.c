/* Logging in (RFC 4643): AUTHINFO USER/PASS, and AUTHINFO SASL through
 * the one SASL engine; CAPABILITIES again afterwards (RFC 4643 2.2: they
 * change). Every credential goes out with mail_conn_send_secret(). */
#include <string.h>

#include "nntp/nntp_internal.h"

enum { PH_START = 0, PH_USER_WAIT, PH_PASS_WAIT, PH_SASL_WAIT, PH_RECAPS, PH_RECAPS_WAIT, PH_DONE };

/* RFC 4643 2.4 / RFC 3977 3.1: a command line is at most 512 octets with
 * CRLF; "AUTHINFO SASL ", a mechanism name of up to 20 characters, a
 * space and CRLF leave 475 for the initial response. */
static const mail_sasl_profile nntp_sasl_profile = {
  .service = "nntp",
  .initial_response = 1,
  .max_initial_response = 475,
  .empty_response = "=",
  .abort_line = "*",
};

static int link_protected(const mail_nntp *n)
{
  return mail_conn_is_verified(n->conn) || mail_sasl_insecure_plaintext_allowed(n->sasl);
}

/* A refused login: 481 refuses the credentials; 483 wants TLS; the others
 * (482 out of sequence, 502 not allowed) say nothing about them. */
static int refused(const mail_nntp *n)
{
  switch (n->reply.code) {
  case 481:
    return MAIL_ERR_AUTH;
  case 483:
    return MAIL_ERR_INSECURE;
  case 500:
  case 503:
    return MAIL_ERR_UNSUPPORTED;
  default:
    return MAIL_ERR_SERVER;
  }
}

static int send_user(mail_nntp *n)
{
  const char *user = mail_sasl_username(n->sasl), *pass = mail_sasl_password(n->sasl);
  if (!user || !pass)
    return MAIL_ERR_INVALID;
  if (!link_protected(n))
    return mail_conn_fail(n->conn, MAIL_ERR_INSECURE,
                          "AUTHINFO USER refused: the connection is not TLS-verified");
  nntp_set_state(n, MAIL_NNTP_STATE_AUTHENTICATING);
  n->op.phase = PH_USER_WAIT;
  int rc = nntp_send(n, NNTP_CMD_AUTHINFO_USER, "AUTHINFO USER", user, 1, NULL);
  return rc ? rc : MAIL_ERR_AGAIN;
}

static int send_sasl(mail_nntp *n, int what, const mail_sasl_msg *m)
{
  n->sasl_lines = what == MAIL_SASL_SEND_COMMAND ? 0 : n->sasl_lines + 1;
  int rc = nntp_send_sasl(n, what, m);
  return rc ? rc : MAIL_ERR_AGAIN;
}

static int start_sasl(mail_nntp *n)
{
  mail_buf mechs;
  mail_buf_init(&mechs, &n->alloc, 0);
  size_t i;
  int rc = MAIL_OK;
  if (!n->caps_known || mail_capset_find(&n->caps, "SASL", &i) != MAIL_OK)
    rc = MAIL_ERR_NO_MECHANISM;
  for (size_t j = 0; !rc && j < mail_capset_param_count(&n->caps, i); j++) {
    rc = j ? mail_buf_append_byte(&mechs, ' ') : 0;
    if (!rc)
      rc = mail_buf_append_str(&mechs, mail_capset_param(&n->caps, i, j));
  }
  if (!rc)
    rc = mechs.len ? mail_buf_terminate(&mechs) : MAIL_ERR_NO_MECHANISM;
  if (!rc)
    rc = mail_sasl_use_conn(n->sasl, n->conn);
  mail_sasl_msg cmd;
  if (!rc)
    rc = mail_sasl_begin(n->sasl, &nntp_sasl_profile, (const char *)mechs.data, &cmd);
  mail_buf_free(&mechs);
  if (rc < 0)
    return rc;
  nntp_set_state(n, MAIL_NNTP_STATE_AUTHENTICATING);
  n->op.phase = PH_SASL_WAIT;
  return send_sasl(n, rc, &cmd);
}

static int choose(mail_nntp *n)
{
  int external = mail_sasl_external_enabled(n->sasl) && n->auth_method != MAIL_NNTP_AUTH_USER;
  if (!mail_sasl_username(n->sasl) && !external)
    return MAIL_ERR_INVALID;
  int user_ok = !n->caps_known || mail_nntp_has_capability_arg(n, "AUTHINFO", "USER");
  int sasl_ok = n->caps_known && mail_nntp_has_capability_arg(n, "AUTHINFO", "SASL");
  switch (n->auth_method) {
  case MAIL_NNTP_AUTH_USER:
    return send_user(n);
  case MAIL_NNTP_AUTH_SASL:
    return start_sasl(n);
  default:
    if (user_ok && mail_sasl_password(n->sasl) && !external)
      return send_user(n);
    if (sasl_ok || external)
      return start_sasl(n);
    return mail_conn_fail(n->conn, MAIL_ERR_NO_MECHANISM,
                          "the server offers no AUTHINFO method usable with these credentials");
  }
}

static int logged_in(mail_nntp *n)
{
  n->authenticated = 1;
  nntp_set_state(n, MAIL_NNTP_STATE_READY);
  /* RFC 4643 2.2: the list changes after login (when there is one). */
  n->op.phase = n->caps_known ? PH_RECAPS : PH_DONE;
  return MAIL_OK;
}

int nntp_login_next(mail_nntp *n)
{
  switch (n->op.phase) {
  case PH_START:
    return choose(n);
  case PH_RECAPS: {
    nntp_caps_reset(n);
    n->op.phase = PH_RECAPS_WAIT;
    int rc = nntp_send(n, NNTP_CMD_CAPABILITIES, "CAPABILITIES", NULL, 0, NULL);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_RECAPS_WAIT:
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

static int sasl_reply(mail_nntp *n)
{
  int kind;
  const char *payload = NULL;
  size_t plen = 0;
  switch (n->reply.code) {
  case 383:
    kind = MAIL_SASL_REPLY_CONTINUE;
    payload = (const char *)n->reply.text.data;
    plen = n->reply.text.len;
    break;
  case 281:
    kind = MAIL_SASL_REPLY_SUCCESS;
    break;
  case 283: /* success with additional data (RFC 4643 2.4.3) */
    kind = MAIL_SASL_REPLY_SUCCESS;
    payload = (const char *)n->reply.text.data;
    plen = n->reply.text.len;
    break;
  case 481:
    kind = MAIL_SASL_REPLY_FAILURE;
    break;
  case 503: /* mechanism not recognised, before any response of ours */
    kind = n->sasl_lines == 0 ? MAIL_SASL_REPLY_UNSUPPORTED : MAIL_SASL_REPLY_ERROR;
    break;
  default:
    kind = MAIL_SASL_REPLY_ERROR;
    break;
  }
  mail_sasl_msg next;
  int rc = mail_sasl_reply(n->sasl, kind, payload, plen, &next);
  if (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND) {
    rc = send_sasl(n, rc, &next);
    return rc == MAIL_ERR_AGAIN ? MAIL_OK : rc;
  }
  if (rc == MAIL_OK) {
    if (kind != MAIL_SASL_REPLY_SUCCESS)
      return mail_conn_fail(n->conn, MAIL_ERR_PROTOCOL, "SASL finished before the server did");
    return logged_in(n);
  }
  if (rc == MAIL_ERR_SASL_SERVER)
    return mail_conn_fail(n->conn, rc, "the server failed SASL mutual authentication");
  if (rc == MAIL_ERR_AUTH)
    return MAIL_ERR_AUTH;
  if (rc == MAIL_ERR_PROTOCOL)
    return mail_conn_fail(n->conn, rc, "unexpected reply during AUTHINFO SASL");
  if (rc == MAIL_ERR_SERVER)
    return refused(n);
  /* The server still waits for our line after a bad challenge we could
   * not answer: the session is out of step. */
  if (n->reply.code == 383 && !mail_status_is_fatal(rc))
    return nntp_abort(n, rc, "the SASL exchange broke off");
  return rc;
}

int nntp_login_reply(void *engine, const mail_cmd *cmd)
{
  mail_nntp *n = engine;
  int code = n->reply.code;
  switch (cmd->kind) {
  case NNTP_CMD_AUTHINFO_USER:
    if (code == 281)
      return logged_in(n); /* no password needed */
    if (code != 381)
      return refused(n);
    n->op.phase = PH_PASS_WAIT;
    return nntp_send(n, NNTP_CMD_AUTHINFO_PASS, "AUTHINFO PASS", mail_sasl_password(n->sasl), 1,
                     NULL);
  case NNTP_CMD_AUTHINFO_PASS:
    return code == 281 ? logged_in(n) : refused(n);
  case NNTP_CMD_AUTHINFO_SASL:
    return sasl_reply(n);
  default:
    return MAIL_ERR_INTERNAL;
  }
}

int mail_nntp_auth(mail_nntp *n)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_AUTH, &rc))
    return rc;
  if (n->state != MAIL_NNTP_STATE_READY)
    return nntp_wrong_state(n, "READY");
  if (n->authenticated)
    return mail_conn_fail(n->conn, MAIL_ERR_STATE, "already logged in on this connection");
  return nntp_run(n, NNTP_OP_AUTH);
}

/* Logging in: LOGIN (RFC 9051 6.2.3: only over TLS unless allowed, never
 * under LOGINDISABLED) and AUTHENTICATE (RFC 9051 6.2.2, RFC 4959 SASL-IR)
 * through the one SASL engine. Credentials go out only as secrets. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

enum { PH_START = 0, PH_WAIT, PH_RECAPA, PH_RECAPA_WAIT, PH_DONE };

/* RFC 4959: with SASL-IR the initial response goes on the command line
 * ("=" for an empty one); IMAP has no line limit for it. Without SASL-IR
 * it waits for the server's first "+". */
static const mail_sasl_profile imap_profile_ir = {
  .service = "imap",
  .initial_response = 1,
  .max_initial_response = 0,
  .empty_response = "=",
  .abort_line = "*",
};
static const mail_sasl_profile imap_profile = {
  .service = "imap",
  .initial_response = 0,
  .empty_response = "=",
  .abort_line = "*",
};

static int link_protected(const mail_imap *im)
{
  return mail_conn_is_verified(im->conn) || mail_sasl_insecure_plaintext_allowed(im->sasl);
}

static int send_login(mail_imap *im)
{
  if (!imap_user(im) || !imap_password(im))
    return MAIL_ERR_INVALID;
  if (imap_has_cap(im, "LOGINDISABLED"))
    return mail_conn_fail(im->conn, MAIL_ERR_NO_MECHANISM, "the server lists LOGINDISABLED");
  if (!link_protected(im))
    return mail_conn_fail(im->conn, MAIL_ERR_INSECURE,
                          "LOGIN refused: the connection is not TLS-verified");
  uint32_t tag;
  int rc = imap_wire_begin(im, "LOGIN", &tag);
  if (!rc)
    rc = imap_wire_string(im, imap_user(im), strlen(imap_user(im)), 1, 0);
  if (!rc)
    rc = imap_wire_string(im, imap_password(im), strlen(imap_password(im)), 1, 0);
  if (rc)
    return rc;
  imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATING);
  im->op.phase = PH_WAIT;
  rc = imap_wire_send(im, IMAP_CMD_LOGIN, tag);
  return rc ? rc : MAIL_ERR_AGAIN;
}

/* "Annn AUTHENTICATE mech [ir]" from the SASL engine, with a new tag. */
static int send_authenticate(mail_imap *im, const mail_sasl_msg *m)
{
  char verb[32];
  uint32_t tag = ++im->next_tag;
  snprintf(verb, sizeof verb, "A%lu AUTHENTICATE", (unsigned long)tag);
  mail_cmd c = {.kind = IMAP_CMD_AUTHENTICATE, .tag = tag};
  im->sasl_lines = 0;
  int rc = mail_sasl_queue(im->conn, &im->q, &c, verb, MAIL_SASL_SEND_COMMAND, m);
  if (rc == MAIL_ERR_INTERNAL || rc == MAIL_ERR_INVALID)
    return rc;
  if (rc)
    return imap_abort(im, rc, "cannot queue a command");
  return MAIL_OK;
}

/* A response line of the exchange: no tag, no queue entry of its own. */
static int send_line(mail_imap *im, const mail_sasl_msg *m)
{
  uint64_t mark = mail_conn_out_mark(im->conn);
  int rc = mail_conn_send_secret(im->conn, m->data, m->len);
  if (!rc)
    rc = mail_conn_send(im->conn, "\r\n", 2);
  if (rc) {
    mail_conn_out_rollback(im->conn, mark);
    return imap_abort(im, rc, "cannot queue a SASL response");
  }
  im->sasl_lines++;
  return MAIL_OK;
}

static int send_sasl(mail_imap *im, int what, const mail_sasl_msg *m)
{
  return what == MAIL_SASL_SEND_COMMAND ? send_authenticate(im, m) : send_line(im, m);
}

/* The AUTH=... capabilities as one space-separated list. */
static int mech_list(mail_imap *im, mail_buf *out)
{
  const char *s = (const char *)im->caps.data;
  size_t len = im->caps_known ? im->caps.len : 0;
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && s[j] != ' ')
      j++;
    if (j - i > 5 && !memcmp(s + i, "AUTH=", 5)) {
      int rc = out->len ? mail_buf_append_byte(out, ' ') : 0;
      if (!rc)
        rc = mail_buf_append(out, s + i + 5, j - i - 5);
      if (rc)
        return rc;
    }
    i = j + 1;
  }
  return out->len ? mail_buf_terminate(out) : MAIL_ERR_NO_MECHANISM;
}

static int start_sasl(mail_imap *im)
{
  mail_buf mechs;
  mail_buf_init(&mechs, &im->alloc, 0);
  int rc = mech_list(im, &mechs);
  if (!rc)
    rc = mail_sasl_use_conn(im->sasl, im->conn);
  mail_sasl_msg cmd;
  if (!rc)
    rc = mail_sasl_begin(im->sasl, imap_has_cap(im, "SASL-IR") ? &imap_profile_ir : &imap_profile,
                         (const char *)mechs.data, &cmd);
  mail_buf_free(&mechs);
  if (rc < 0)
    return rc;
  imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATING);
  im->op.phase = PH_WAIT;
  rc = send_sasl(im, rc, &cmd);
  return rc ? rc : MAIL_ERR_AGAIN;
}

static int choose(mail_imap *im)
{
  if (!imap_user(im) && !(mail_sasl_external_enabled(im->sasl) &&
                          im->auth_method != MAIL_IMAP_AUTH_LOGIN))
    return MAIL_ERR_INVALID;
  switch (im->auth_method) {
  case MAIL_IMAP_AUTH_LOGIN:
    return send_login(im);
  case MAIL_IMAP_AUTH_SASL:
    return start_sasl(im);
  default: {
    int rc = start_sasl(im);
    if (rc != MAIL_ERR_NO_MECHANISM || !imap_password(im) || imap_has_cap(im, "LOGINDISABLED"))
      return rc;
    return send_login(im);
  }
  }
}

int imap_login_next(mail_imap *im)
{
  switch (im->op.phase) {
  case PH_START:
    return choose(im);
  case PH_RECAPA: {
    uint32_t tag;
    im->op.phase = PH_RECAPA_WAIT;
    int rc = imap_wire_begin(im, "CAPABILITY", &tag);
    if (!rc)
      rc = imap_wire_send(im, IMAP_CMD_CAPABILITY, tag);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_RECAPA_WAIT:
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

static int logged_in(mail_imap *im, const mail_imap_response *r)
{
  imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATED);
  /* RFC 9051 6.2.2: capabilities may change after login. */
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_CAPABILITY) {
    im->op.phase = PH_DONE;
    return imap_caps_set_from(im, r);
  }
  imap_caps_reset(im);
  im->op.phase = PH_RECAPA;
  return MAIL_OK;
}

/* A refusal of the credentials, or of the login for another reason. */
static int refused(const mail_imap_response *r)
{
  int code = mail_imap_response_code(r);
  if (code == MAIL_IMAP_CODE_NONE || code == MAIL_IMAP_CODE_AUTHENTICATIONFAILED ||
      code == MAIL_IMAP_CODE_AUTHORIZATIONFAILED || code == MAIL_IMAP_CODE_EXPIRED)
    return MAIL_ERR_AUTH;
  int rc = imap_refusal(r);
  return rc == MAIL_ERR_SERVER ? MAIL_ERR_AUTH : rc;
}

static int classify(mail_imap *im, const mail_imap_response *r)
{
  int type = mail_imap_response_type(r);
  if (type == MAIL_IMAP_TYPE_OK)
    return MAIL_SASL_REPLY_SUCCESS;
  int code = mail_imap_response_code(r);
  size_t n;
  const char *t = mail_imap_response_text(r, &n);
  /* "NO Unsupported authentication mechanism" (Dovecot), "BAD Invalid
   * mechanism": only as the answer to the command itself. */
  if (im->sasl_lines == 0 && code == MAIL_IMAP_CODE_NONE && t && n >= 9) {
    for (size_t i = 0; i + 9 <= n; i++) {
      size_t k = 0;
      while (k < 9 && (t[i + k] | 0x20) == "mechanism"[k])
        k++;
      if (k == 9)
        return MAIL_SASL_REPLY_UNSUPPORTED;
    }
  }
  if (type == MAIL_IMAP_TYPE_NO && refused(r) == MAIL_ERR_AUTH)
    return MAIL_SASL_REPLY_FAILURE;
  return MAIL_SASL_REPLY_ERROR;
}

static int sasl_reply(mail_imap *im, const mail_imap_response *r)
{
  mail_sasl_msg next;
  int rc = mail_sasl_reply(im->sasl, classify(im, r), NULL, 0, &next);
  if (rc == MAIL_SASL_SEND_COMMAND)
    return send_sasl(im, rc, &next); /* the OAuth refresh or the downgrade retry */
  if (rc == MAIL_SASL_SEND_LINE)
    return imap_abort(im, MAIL_ERR_PROTOCOL, "SASL wants to go on after the tagged reply");
  if (rc == MAIL_OK) {
    if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK)
      return mail_conn_fail(im->conn, MAIL_ERR_PROTOCOL, "SASL finished before the server did");
    return logged_in(im, r);
  }
  if (rc == MAIL_ERR_SASL_SERVER)
    return mail_conn_fail(im->conn, rc, "the server failed SASL mutual authentication");
  if (rc == MAIL_ERR_AUTH)
    return refused(r);
  return rc;
}

int imap_login_continue(mail_imap *im, const mail_imap_response *r)
{
  size_t n;
  const char *payload = mail_imap_response_text(r, &n);
  mail_sasl_msg next;
  int rc = mail_sasl_reply(im->sasl, MAIL_SASL_REPLY_CONTINUE, payload, n, &next);
  if (rc == MAIL_SASL_SEND_LINE)
    return send_line(im, &next);
  /* The server waits for our line: anything else leaves us out of step. */
  return imap_abort(im, rc < 0 ? rc : MAIL_ERR_PROTOCOL,
                    "the SASL exchange broke off");
}

int imap_login_reply(void *engine, const mail_cmd *cmd)
{
  mail_imap *im = engine;
  const mail_imap_response *r = im->resp;
  if (cmd->kind == IMAP_CMD_AUTHENTICATE)
    return sasl_reply(im, r);
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_OK)
    return logged_in(im, r);
  return refused(r);
}

int mail_imap_login(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_LOGIN, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_NOT_AUTHENTICATED)
    return MAIL_ERR_STATE;
  return imap_run(im, IMAP_OP_LOGIN);
}

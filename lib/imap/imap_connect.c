/* Connection setup: greeting (OK, PREAUTH, BYE), CAPABILITY, STARTTLS
 * (RFC 9051 6.2.1, RFC 2595) and CAPABILITY again. Every way STARTTLS can
 * fail while it is required ends the connection here, before
 * mail_imap_login() can send a credential; nothing learned before TLS is
 * kept after it. */
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

enum {
  PH_TCP = 0, /* mail_conn_connect (imap_engine.c) */
  PH_GREETING = 1,
  PH_GREETING_WAIT,
  PH_CAPA,
  PH_CAPA_WAIT,
  PH_DECIDE,
  PH_STARTTLS_WAIT,
  PH_AFTER_TLS,
  PH_DONE
};

static int tls_required(const mail_imap *im)
{
  return im->security == MAIL_SECURITY_STARTTLS;
}

static int tls_wanted(const mail_imap *im)
{
  return im->security == MAIL_SECURITY_STARTTLS ||
         im->security == MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE;
}

static int done(mail_imap *im)
{
  im->op.phase = PH_DONE;
  if (im->state == MAIL_IMAP_STATE_CONNECTING)
    imap_set_state(im, MAIL_IMAP_STATE_NOT_AUTHENTICATED);
  return MAIL_OK;
}

static int send_simple(mail_imap *im, int kind, const char *verb)
{
  uint32_t tag;
  int rc = imap_wire_begin(im, verb, &tag);
  if (!rc)
    rc = imap_wire_send(im, kind, tag);
  return rc;
}

int imap_connect_next(mail_imap *im)
{
  int rc;
  switch (im->op.phase) {
  case PH_GREETING: {
    im->op.phase = PH_GREETING_WAIT;
    mail_cmd c = {.kind = IMAP_CMD_GREETING};
    rc = mail_cmd_send(im->conn, &im->q, &c, NULL, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_CAPA:
    im->op.phase = PH_CAPA_WAIT;
    rc = send_simple(im, IMAP_CMD_CAPABILITY, "CAPABILITY");
    return rc ? rc : MAIL_ERR_AGAIN;
  case PH_DECIDE:
    if (im->tls_done || !tls_wanted(im) || im->state == MAIL_IMAP_STATE_AUTHENTICATED)
      return done(im);
    if (!imap_has_cap(im, "STARTTLS")) {
      if (tls_required(im))
        return imap_abort(im, MAIL_ERR_STARTTLS,
                          im->caps_known ? "the server does not offer STARTTLS"
                                         : "the server did not list its capabilities");
      return done(im);
    }
    im->op.phase = PH_STARTTLS_WAIT;
    rc = send_simple(im, IMAP_CMD_STARTTLS, "STARTTLS");
    return rc ? rc : MAIL_ERR_AGAIN;
  case PH_AFTER_TLS:
    /* The handshake runs before the next advance; CAPABILITY follows it. */
    im->op.phase = PH_CAPA;
    return MAIL_ERR_AGAIN;
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

static int greeting(mail_imap *im, const mail_imap_response *r)
{
  int type = mail_imap_response_type(r);
  if (type == MAIL_IMAP_TYPE_BYE)
    return imap_abort(im, imap_refusal(r) == MAIL_ERR_TOO_MANY_CONNECTIONS
                              ? MAIL_ERR_TOO_MANY_CONNECTIONS
                              : MAIL_ERR_SERVER_CLOSING,
                      "the server refused the session");
  if (type != MAIL_IMAP_TYPE_OK && type != MAIL_IMAP_TYPE_PREAUTH)
    return imap_abort(im, MAIL_ERR_PROTOCOL, "the greeting is neither OK, PREAUTH nor BYE");
  if (type == MAIL_IMAP_TYPE_PREAUTH && !im->tls_done && tls_required(im))
    /* Already logged in over plaintext: STARTTLS is no longer allowed, and
     * the session would run unprotected. */
    return imap_abort(im, MAIL_ERR_STARTTLS, "a PREAUTH greeting over plaintext while TLS is required");
  size_t n;
  const char *t = mail_imap_response_text(r, &n);
  mail_buf_clear(&im->greeting);
  int rc = mail_buf_append(&im->greeting, t, n);
  if (!rc)
    rc = mail_buf_terminate(&im->greeting);
  if (!rc && mail_imap_response_code(r) == MAIL_IMAP_CODE_CAPABILITY)
    rc = imap_caps_set_from(im, r);
  if (rc)
    return rc;
  if (type == MAIL_IMAP_TYPE_PREAUTH)
    imap_set_state(im, MAIL_IMAP_STATE_AUTHENTICATED);
  im->op.phase = im->caps_known ? PH_DECIDE : PH_CAPA;
  return MAIL_OK;
}

static int starttls_reply(mail_imap *im, const mail_imap_response *r)
{
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK) {
    if (tls_required(im))
      return imap_abort(im, MAIL_ERR_STARTTLS, "the server refused STARTTLS");
    return done(im);
  }
  /* Any byte after the OK came before the handshake: an injection. The
   * parser's own unread bytes are checked here, the reader's by
   * mail_conn_start_tls(). */
  if (mail_imap_parser_pending(im->parser))
    return imap_abort(im, MAIL_ERR_STARTTLS_INJECTION,
                      "bytes arrived between the STARTTLS reply and the TLS handshake");
  int rc = mail_conn_start_tls(im->conn);
  if (rc)
    return rc;
  im->tls_done = 1;
  /* Nothing the server said in cleartext is trusted. */
  imap_caps_reset(im);
  imap_mailbox_reset(im);
  mail_imap_parser_reset(im->parser);
  mail_imap_parser_expect_greeting(im->parser, 0);
  im->op.phase = PH_AFTER_TLS;
  return MAIL_OK;
}

int imap_connect_reply(void *engine, const mail_cmd *cmd)
{
  mail_imap *im = engine;
  const mail_imap_response *r = im->resp;
  int ok = mail_imap_response_type(r) == MAIL_IMAP_TYPE_OK;
  switch (cmd->kind) {
  case IMAP_CMD_GREETING:
    return greeting(im, r);
  case IMAP_CMD_CAPABILITY:
    if (ok && mail_imap_response_code(r) == MAIL_IMAP_CODE_CAPABILITY) {
      int rc = imap_caps_set_from(im, r);
      if (rc)
        return rc;
    }
    if (im->op.kind == IMAP_OP_CONNECT) {
      im->op.phase = PH_DECIDE;
      return MAIL_OK;
    }
    if (im->op.kind == IMAP_OP_LOGIN)
      return MAIL_OK;
    return ok ? MAIL_OK : imap_refusal(r);
  case IMAP_CMD_STARTTLS:
    return starttls_reply(im, r);
  default:
    return MAIL_ERR_INTERNAL;
  }
}

/* Connection setup: greeting, CAPABILITIES, STARTTLS (RFC 4642) and MODE
 * READER (RFC 3977 5.3), CAPABILITIES again after each. Every way
 * STARTTLS can fail while it is required ends the connection here, before
 * mail_nntp_auth() can send a credential. */
#include <stdio.h>
#include <string.h>

#include "nntp/nntp_internal.h"

enum {
  PH_TCP = 0,  /* mail_conn_connect (nntp_engine.c) */
  PH_GREETING = 1,
  PH_GREETING_WAIT,
  PH_CAPS,
  PH_CAPS_WAIT,
  PH_DECIDE,
  PH_STARTTLS_WAIT,
  PH_AFTER_TLS,
  PH_READER_WAIT,
  PH_DONE
};

static int ready(mail_nntp *n)
{
  n->op.phase = PH_DONE;
  nntp_set_state(n, MAIL_NNTP_STATE_READY);
  return MAIL_OK;
}

static int send_and_wait(mail_nntp *n, int kind, const char *word, int phase)
{
  n->op.phase = phase;
  int rc = nntp_send(n, kind, word, NULL, 0, NULL);
  return rc ? rc : MAIL_ERR_AGAIN;
}

/* What comes after a capability list (or its absence). */
static int decide(mail_nntp *n)
{
  int tls_wanted = n->security == MAIL_SECURITY_STARTTLS ||
                   n->security == MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE;
  int reader_offered = n->caps_known && mail_nntp_has_capability(n, "MODE-READER");
  int reader_next = n->mode_reader && !n->reader_done && (!n->caps_known || reader_offered);
  if (tls_wanted && !n->tls_done) {
    if (n->caps_known && mail_nntp_has_capability(n, "STARTTLS"))
      return send_and_wait(n, NNTP_CMD_STARTTLS, "STARTTLS", PH_STARTTLS_WAIT);
    /* A server in transit mode may offer STARTTLS only in reader mode. */
    if (reader_next && n->caps_known) {
      n->reader_done = 1;
      return send_and_wait(n, NNTP_CMD_MODE_READER, "MODE READER", PH_READER_WAIT);
    }
    if (n->security == MAIL_SECURITY_STARTTLS)
      return mail_conn_fail(n->conn, MAIL_ERR_STARTTLS,
                            n->caps_known
                              ? "the server does not offer STARTTLS"
                              : "the server did not answer CAPABILITIES, so STARTTLS is not offered");
    n->tls_done = -1; /* opportunistic: going on without */
  }
  if (reader_next) {
    n->reader_done = 1;
    return send_and_wait(n, NNTP_CMD_MODE_READER, "MODE READER", PH_READER_WAIT);
  }
  return ready(n);
}

int nntp_connect_next(mail_nntp *n)
{
  switch (n->op.phase) {
  case PH_GREETING: {
    n->op.phase = PH_GREETING_WAIT;
    mail_cmd c = {.kind = NNTP_CMD_GREETING};
    int rc = mail_cmd_send(n->conn, &n->q, &c, NULL, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_CAPS:
    nntp_caps_reset(n);
    return send_and_wait(n, NNTP_CMD_CAPABILITIES, "CAPABILITIES", PH_CAPS_WAIT);
  case PH_DECIDE:
    return decide(n);
  case PH_AFTER_TLS:
    /* The handshake runs before the next advance; CAPABILITIES follows. */
    n->op.phase = PH_CAPS;
    return MAIL_ERR_AGAIN;
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

int nntp_connect_reply(void *engine, const mail_cmd *cmd)
{
  mail_nntp *n = engine;
  int code = n->reply.code;
  switch (cmd->kind) {
  case NNTP_CMD_GREETING: {
    if (code != 200 && code != 201)
      return nntp_abort(n, code >= 400 ? MAIL_ERR_SERVER : MAIL_ERR_PROTOCOL,
                        code >= 400 ? NULL : "the greeting is not 200 or 201");
    n->posting_code = code;
    mail_buf_clear(&n->greeting);
    int rc = mail_buf_append(&n->greeting, n->reply.text.data, n->reply.text.len);
    if (!rc)
      rc = mail_buf_terminate(&n->greeting);
    if (rc)
      return rc;
    n->op.phase = PH_CAPS;
    return MAIL_OK;
  }
  case NNTP_CMD_CAPABILITIES:
    n->caps_known = code == 101;
    if (!n->caps_known)
      mail_capset_clear(&n->caps);
    if (n->op.kind == NNTP_OP_CONNECT)
      n->op.phase = PH_DECIDE;
    return MAIL_OK;
  case NNTP_CMD_MODE_READER:
    if (code == 200 || code == 201) {
      n->posting_code = code;
    } else if (!(code == 500 && !n->caps_known)) {
      /* 502: no reading here. (A 500 from a server without
       * CAPABILITIES: an old reader-only server, already reading.) */
      return nntp_abort(n, nntp_refusal(code) == MAIL_ERR_AUTH ? MAIL_ERR_AUTH : MAIL_ERR_SERVER,
                        NULL);
    }
    n->op.phase = n->caps_known ? PH_CAPS : PH_DECIDE;
    return MAIL_OK;
  case NNTP_CMD_STARTTLS:
    if (code != 382) {
      if (n->security == MAIL_SECURITY_STARTTLS) {
        char refused[512]; /* the refusal, as nntp_advance recorded it */
        snprintf(refused, sizeof refused, "%s", mail_conn_last_error(n->conn));
        return mail_conn_fail(n->conn, MAIL_ERR_STARTTLS, "%s (STARTTLS is required)", refused);
      }
      n->tls_done = -1;
      n->op.phase = PH_DECIDE;
      return MAIL_OK;
    }
    {
      /* Any byte already buffered came before the handshake: an
       * injection, refused by the connection (and the session ends). */
      int rc = mail_conn_start_tls(n->conn);
      if (rc)
        return rc;
    }
    n->tls_done = 1;
    /* Nothing said in cleartext is trusted: capabilities, posting. */
    nntp_caps_reset(n);
    n->posting_code = 0;
    n->op.phase = PH_AFTER_TLS;
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

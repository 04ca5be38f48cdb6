/* Connection setup: greeting, CAPA, STLS (RFC 2595) and CAPA again.
 * Every way STLS can fail while it is required ends the connection here,
 * before mail_pop3_login() can send a credential. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"

enum {
  PH_TCP = 0,       /* mail_conn_connect (pop3_session.c) */
  PH_GREETING = 1,
  PH_GREETING_WAIT,
  PH_CAPA,
  PH_CAPA_WAIT,
  PH_DECIDE,
  PH_STLS_WAIT,
  PH_AFTER_TLS,
  PH_DONE
};

/* The APOP timestamp: the first "<...>" of the greeting (RFC 1939 §7),
 * printable ASCII without spaces. */
static int keep_stamp(mail_pop3 *p, const char *text, size_t len)
{
  mail_buf_clear(&p->apop_stamp);
  const char *lt = memchr(text, '<', len);
  if (!lt)
    return MAIL_OK;
  size_t start = (size_t)(lt - text);
  for (size_t i = start + 1; i < len && i - start < 512; i++) {
    unsigned char ch = (unsigned char)text[i];
    if (ch == '>') {
      if (i == start + 1)
        return MAIL_OK;
      int rc = mail_buf_append(&p->apop_stamp, lt, i - start + 1);
      return rc ? rc : mail_buf_terminate(&p->apop_stamp);
    }
    if (ch <= 0x20 || ch >= 0x7f)
      return MAIL_OK;
  }
  return MAIL_OK;
}

int pop3_connect_next(mail_pop3 *p)
{
  switch (p->op.phase) {
  case PH_GREETING: {
    p->op.phase = PH_GREETING_WAIT;
    mail_cmd c = {.kind = POP3_CMD_GREETING};
    int rc = mail_cmd_send(p->conn, &p->q, &c, NULL, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_CAPA: {
    pop3_caps_reset(p);
    p->op.phase = PH_CAPA_WAIT;
    int rc = pop3_send(p, POP3_CMD_CAPA, "CAPA", NULL, 0, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_DECIDE: {
    int tls_wanted = p->security == MAIL_SECURITY_STARTTLS ||
                     p->security == MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE;
    if (p->tls_done || !tls_wanted) {
      p->op.phase = PH_DONE;
      pop3_set_state(p, MAIL_POP3_STATE_AUTHORIZATION);
      return MAIL_OK;
    }
    int offered = p->caps_known && mail_pop3_has_capability(p, "STLS");
    if (!offered) {
      if (p->security == MAIL_SECURITY_STARTTLS)
        return mail_conn_fail(p->conn, MAIL_ERR_STARTTLS,
                              p->caps_known ? "the server does not offer STLS"
                                            : "the server did not answer CAPA, so STLS is not offered");
      p->op.phase = PH_DONE;
      pop3_set_state(p, MAIL_POP3_STATE_AUTHORIZATION);
      return MAIL_OK;
    }
    p->op.phase = PH_STLS_WAIT;
    int rc = pop3_send(p, POP3_CMD_STLS, "STLS", NULL, 0, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_AFTER_TLS:
    /* The handshake runs before the next advance; CAPA follows it. */
    p->op.phase = PH_CAPA;
    return MAIL_ERR_AGAIN;
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

int pop3_connect_reply(void *engine, const mail_cmd *cmd)
{
  mail_pop3 *p = engine;
  int st = p->reply.status;
  switch (cmd->kind) {
  case POP3_CMD_GREETING: {
    if (st != MAIL_POP3_OK)
      return pop3_abort(p, MAIL_ERR_SERVER, NULL); /* the -ERR is the error */
    size_t len;
    const char *text = mail_pop3_reply_text(&p->reply, &len);
    mail_buf_clear(&p->greeting);
    int rc = mail_buf_append(&p->greeting, text, len);
    if (!rc)
      rc = mail_buf_terminate(&p->greeting);
    if (!rc)
      rc = keep_stamp(p, text, len);
    if (rc)
      return rc;
    p->op.phase = PH_CAPA;
    return MAIL_OK;
  }
  case POP3_CMD_CAPA:
    p->caps_known = st == MAIL_POP3_OK;
    if (!p->caps_known)
      mail_pop3_caps_clear(p->caps);
    if (p->op.kind == POP3_OP_CONNECT)
      p->op.phase = PH_DECIDE;
    return MAIL_OK;
  case POP3_CMD_STLS:
    if (st != MAIL_POP3_OK) {
      if (p->security == MAIL_SECURITY_STARTTLS) {
        char refused[512]; /* the -ERR, as pop3_advance recorded it */
        snprintf(refused, sizeof refused, "%s", mail_conn_last_error(p->conn));
        return mail_conn_fail(p->conn, MAIL_ERR_STARTTLS, "%s (STLS is required)", refused);
      }
      p->op.phase = PH_DONE;
      pop3_set_state(p, MAIL_POP3_STATE_AUTHORIZATION);
      return MAIL_OK;
    }
    {
      /* Any byte already buffered came before the handshake: an
       * injection, refused by the connection (and the session ends). */
      int rc = mail_conn_start_tls(p->conn);
      if (rc)
        return rc;
    }
    p->tls_done = 1;
    /* What the server said in cleartext is not to be trusted. */
    pop3_caps_reset(p);
    p->op.phase = PH_AFTER_TLS;
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

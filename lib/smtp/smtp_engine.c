/*
 * The SMTP/LMTP engine: the step the driver runs (smtp_advance), the
 * replies to connection setup (greeting, EHLO/HELO/LHLO, STARTTLS) and
 * AUTH, and the helpers every part uses.
 *
 * The engine does no I/O. smtp_advance() parses reply lines from the
 * connection's reader, matches each complete reply to the oldest command
 * in the command queue and lets that command's handler decide what to send
 * next (transaction replies are handled in smtp_tx.c). smtp_state() is the
 * only place the protocol state changes, so the trace names every
 * transition.
 */
#include <string.h>

#include "core/mem.h"
#include "sasl/sasl_internal.h"
#include "smtp/smtp_internal.h"

static const char *const state_names[SMTP_ST_COUNT] = {
  "DISCONNECTED", "CONNECT", "GREETING", "EHLO", "HELO", "STARTTLS", "TLS", "AUTH",
  "IDLE", "ENVELOPE", "BODY", "FINAL", "RSET", "NOOP", "QUIT",
};

const char *smtp_state_label(int st)
{
  return st >= 0 && st < SMTP_ST_COUNT ? state_names[st] : "?";
}

/* The default EHLO name (see mail_conn_local_name). */
static const char *default_client_name(mail_smtp *s)
{
  if (mail_conn_local_name(s->conn, s->default_name, sizeof s->default_name) != MAIL_OK)
    return "[127.0.0.1]";
  return s->default_name;
}

void smtp_command_timeout(mail_smtp *s)
{
  mail_conn_set_wait_timeout(s->conn, s->command_ms == SMTP_TIMEOUT_CONN ? -1 : s->command_ms);
}

/* This is the ONLY place the protocol state changes. */
void smtp_state(mail_smtp *s, int st)
{
  if (s->state == st)
    return;
  mail_conn_trace_info(s->conn, "%s state %s -> %s", s->lmtp ? "LMTP" : "SMTP",
                       state_names[s->state], state_names[st]);
  s->state = st;
}

/* ------------------------------------------------------------------ */
/* Engine helpers                                                       */
/* ------------------------------------------------------------------ */

int smtp_has(const mail_smtp *s, const char *kw)
{
  return s->caps_valid && mail_smtp_caps_find(s->caps, kw, NULL) == MAIL_OK;
}

int smtp_send(mail_smtp *s, int kind, size_t arg, unsigned flags, const mail_wire_part *parts,
              size_t n)
{
  mail_cmd c = {.kind = kind, .flags = flags, .arg = arg};
  return mail_cmd_send(s->conn, &s->q, &c, parts, n);
}

int smtp_push(mail_smtp *s, int kind, size_t arg, unsigned flags)
{
  return smtp_send(s, kind, arg, flags, NULL, 0);
}

/* Queue one command line (text without CRLF) and its queue entry. */
int smtp_command(mail_smtp *s, int kind, size_t arg, const char *text)
{
  mail_wire_part parts[] = {{text, strlen(text), 0}, {"\r\n", 2, 0}};
  return smtp_send(s, kind, arg, 0, parts, 2);
}

/* The operation is over once the queue is empty; rc is its result. */
void smtp_finish(mail_smtp *s, int rc)
{
  mail_op_finish(&s->op, rc);
}

/* End the connection now (no QUIT): used when continuing would send
 * something it must not (STARTTLS failed) or cannot end cleanly (a body
 * source failed in the middle of DATA). */
int smtp_abort(mail_smtp *s, int rc, const char *why)
{
  mail_engine_abort(s->conn, &s->q, &s->op, rc, why);
  smtp_state(s, SMTP_ST_DISCONNECTED);
  return rc;
}

void smtp_set_enhanced(mail_smtp *s, int on)
{
  s->acc[0].enhanced = on;
  s->acc[1].enhanced = on;
}

static int send_hello(mail_smtp *s, int kind)
{
  const char *verb = kind == SMTP_CMD_HELO ? "HELO" : (s->lmtp ? "LHLO" : "EHLO");
  smtp_state(s, kind == SMTP_CMD_HELO ? SMTP_ST_HELO : SMTP_ST_EHLO);
  const char *name = s->client_name ? s->client_name : default_client_name(s);
  mail_wire_part parts[] = {
    {verb, strlen(verb), 0}, {" ", 1, 0}, {name, strlen(name), 0}, {"\r\n", 2, 0}};
  return smtp_send(s, kind, 0, 0, parts, 4);
}

/* ------------------------------------------------------------------ */
/* Connection setup: greeting, EHLO, STARTTLS                           */
/* ------------------------------------------------------------------ */

static int tls_wanted(const mail_smtp *s)
{
  return s->conn_security == MAIL_SECURITY_STARTTLS ||
         s->conn_security == MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE;
}

/* EHLO succeeded (or HELO): upgrade, or the connection is ready. */
static int after_hello(mail_smtp *s)
{
  if (!mail_conn_is_tls(s->conn) && tls_wanted(s)) {
    if (smtp_has(s, "STARTTLS")) {
      smtp_state(s, SMTP_ST_STARTTLS);
      return smtp_command(s, SMTP_CMD_STARTTLS, 0, "STARTTLS");
    }
    if (s->conn_security == MAIL_SECURITY_STARTTLS)
      return smtp_abort(s, MAIL_ERR_STARTTLS, "the server does not offer STARTTLS");
    mail_conn_trace_info(s->conn, "no STARTTLS offered: continuing WITHOUT TLS (opportunistic)");
  }
  smtp_state(s, SMTP_ST_IDLE);
  smtp_finish(s, MAIL_OK);
  return MAIL_OK;
}

static int on_greeting(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  int code = mail_smtp_reply_code(r);
  if (code != 220)
    return smtp_abort(s, MAIL_ERR_SERVER, "the server refused the session in its greeting");
  return send_hello(s, SMTP_CMD_EHLO);
}

static int on_hello(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  int kind = c->kind;
  int code = mail_smtp_reply_code(r);
  if (code / 100 == 2) {
    if (kind == SMTP_CMD_EHLO) {
      s->caps_valid = 1; /* the list was filled as the reply arrived */
      smtp_set_enhanced(s, smtp_has(s, "ENHANCEDSTATUSCODES"));
    } else {
      s->helo_mode = 1;
    }
    return after_hello(s);
  }
  int tls_required = s->conn_security == MAIL_SECURITY_STARTTLS && !mail_conn_is_tls(s->conn);
  if (kind == SMTP_CMD_EHLO && !s->lmtp && !tls_required && (code == 500 || code == 502 || code == 554 ||
                                                        code == 504 || code == 550))
    return send_hello(s, SMTP_CMD_HELO);
  if (tls_required)
    return smtp_abort(s, MAIL_ERR_STARTTLS, "EHLO refused: STARTTLS cannot be negotiated");
  return smtp_abort(s, MAIL_ERR_SERVER, "the server refused EHLO/HELO");
}

static int on_starttls(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  if (mail_smtp_reply_code(r) != 220) {
    if (s->conn_security == MAIL_SECURITY_STARTTLS)
      return smtp_abort(s, MAIL_ERR_STARTTLS, "the server refused STARTTLS");
    mail_conn_trace_info(s->conn, "STARTTLS refused: continuing WITHOUT TLS (opportunistic)");
    smtp_state(s, SMTP_ST_IDLE);
    smtp_finish(s, MAIL_OK);
    return MAIL_OK;
  }
  /* Fails (and closes) when any byte is already buffered after the go-ahead. */
  int rc = mail_conn_start_tls(s->conn);
  if (rc)
    return smtp_abort(s, rc, NULL);
  /* Everything learned before TLS is forgotten; EHLO again once the
   * handshake is done (smtp_advance() sees need_ehlo). */
  s->caps_valid = 0;
  smtp_set_enhanced(s, 0);
  s->helo_mode = 0;
  s->need_ehlo = 1;
  smtp_state(s, SMTP_ST_TLS);
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* AUTH                                                                 */
/* ------------------------------------------------------------------ */

int smtp_send_auth(mail_smtp *s, int rc, const mail_sasl_msg *m)
{
  /* The one way AUTH lines go out (mechanism in the clear, the rest as
   * secrets), through mail_cmd_send like every other command. */
  mail_cmd c = {.kind = SMTP_CMD_AUTH};
  return mail_sasl_queue(s->conn, &s->q, &c, "AUTH", rc, m);
}

static int on_auth(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  int code = mail_smtp_reply_code(r);
  int kind;
  const char *payload = NULL;
  size_t plen = 0;
  if (code == 334) {
    kind = MAIL_SASL_REPLY_CONTINUE;
    payload = mail_smtp_reply_line(r, 0, &plen);
    while (plen && (payload[plen - 1] == ' ' || payload[plen - 1] == '\t'))
      plen--;
  } else if (code == 235) {
    kind = MAIL_SASL_REPLY_SUCCESS;
  } else if (code == 535) {
    kind = MAIL_SASL_REPLY_FAILURE;
  } else if (code == 504) {
    kind = MAIL_SASL_REPLY_UNSUPPORTED;
  } else {
    kind = MAIL_SASL_REPLY_ERROR;
  }
  mail_sasl_msg next;
  int rc = mail_sasl_reply(s->sasl, kind, payload, plen, &next);
  if (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND)
    return smtp_send_auth(s, rc, &next);
  smtp_state(s, SMTP_ST_IDLE);
  if (rc == MAIL_ERR_SASL_SERVER)
    return smtp_abort(s, rc, "the server failed SASL mutual authentication");
  if (rc == MAIL_ERR_SERVER && code == 535)
    rc = MAIL_ERR_AUTH;
  smtp_finish(s, rc);
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* The step                                                             */
/* ------------------------------------------------------------------ */

static int on_unsolicited(void *e, const mail_cmd *c)
{
  return MAIL_ERR_PROTOCOL;
}

static int on_rset(void *e, const mail_cmd *c)
{
  mail_smtp *s = e;
  smtp_state(s, SMTP_ST_IDLE);
  if (c->arg) { /* the RSET after a failed transaction */
    if (s->decisive)
      s->last = s->decisive;
    smtp_finish(s, s->tx.result);
  } else {
    smtp_finish(s, mail_smtp_reply_code(s->last) / 100 == 2 ? MAIL_OK : MAIL_ERR_SERVER);
  }
  return MAIL_OK;
}

static int on_noop(void *e, const mail_cmd *c)
{
  mail_smtp *s = e;
  smtp_state(s, SMTP_ST_IDLE);
  smtp_finish(s, mail_smtp_reply_code(s->last) / 100 == 2 ? MAIL_OK : MAIL_ERR_SERVER);
  return MAIL_OK;
}

static int on_quit(void *e, const mail_cmd *c)
{
  smtp_finish(e, MAIL_OK); /* whatever the code; mail_smtp_quit() closes */
  return MAIL_OK;
}

/* One handler per command kind (the reply is s->last). */
static const mail_cmd_kind smtp_kinds[] = {
  [SMTP_CMD_GREETING] = {"greeting", on_greeting, 0},
  [SMTP_CMD_EHLO] = {"EHLO", on_hello, 0},
  [SMTP_CMD_HELO] = {"HELO", on_hello, 0},
  [SMTP_CMD_STARTTLS] = {"STARTTLS", on_starttls, 0},
  [SMTP_CMD_AUTH] = {"AUTH", on_auth, 0},
  [SMTP_CMD_MAIL] = {"MAIL", smtp_on_mail, 0},
  [SMTP_CMD_RCPT] = {"RCPT", smtp_on_rcpt, 0},
  [SMTP_CMD_DATA] = {"DATA", smtp_on_data, 0},
  [SMTP_CMD_BDAT] = {"BDAT", smtp_on_bdat, 0},
  [SMTP_CMD_FINAL] = {"end of data", smtp_on_final, 0},
  [SMTP_CMD_RSET] = {"RSET", on_rset, 0},
  [SMTP_CMD_NOOP] = {"NOOP", on_noop, 0},
  [SMTP_CMD_QUIT] = {"QUIT", on_quit, 0},
  [SMTP_CMD_UNSOLICITED] = {"unsolicited", on_unsolicited, 0},
};

/* A complete reply: a 421 ends the session whatever it answers (but
 * QUIT); anything else goes to the handler of the command it answers. */
static int dispatch(mail_smtp *s)
{
  const mail_cmd *head = mail_cmdq_head(&s->q);
  if (head && head->kind != SMTP_CMD_QUIT && mail_smtp_reply_code(s->last) == 421) {
    mail_cmdq_pop(&s->q, NULL);
    return smtp_abort(s, MAIL_ERR_SERVER_CLOSING, "the server is closing the session (421)");
  }
  if (!head) /* the queue is never empty here: checked before reading */
    return smtp_abort(s, MAIL_ERR_PROTOCOL, "a reply nothing asked for");
  return mail_cmd_dispatch(s->conn, &s->q, smtp_kinds, sizeof smtp_kinds / sizeof smtp_kinds[0], s);
}

int smtp_advance(void *engine)
{
  mail_smtp *s = engine;
  mail_reader *rd = mail_conn_reader(s->conn);
  if (s->cancelled) {
    s->cancelled = 0;
    return smtp_abort(s, MAIL_ERR_CANCELLED, "cancelled");
  }
  for (;;) {
    if (s->need_ehlo) {
      s->need_ehlo = 0;
      int rc = send_hello(s, SMTP_CMD_EHLO);
      if (rc)
        return rc;
    }
    if (s->state == SMTP_ST_BODY) {
      int rc = smtp_produce(s);
      if (rc == MAIL_ERR_AGAIN || (rc < 0 && rc != MAIL_OK))
        return rc;
    }
    if (mail_cmdq_count(&s->q) == 0) {
      if (s->op.done)
        return s->op.result;
      if (s->state == SMTP_ST_TLS)
        return MAIL_ERR_AGAIN; /* the handshake runs first */
      return mail_conn_fail(s->conn, MAIL_ERR_INTERNAL, "SMTP engine stalled in %s",
                            state_names[s->state]);
    }
    const char *line;
    size_t len;
    int rc = mail_reader_line(rd, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED) {
      mail_cmd *head = mail_cmdq_head(&s->q);
      if (head && head->kind == SMTP_CMD_QUIT) { /* a close answers QUIT as well */
        mail_cmdq_clear(&s->q);
        return MAIL_OK;
      }
      return smtp_abort(s, MAIL_ERR_CLOSED, "the server closed the connection");
    }
    if (rc == MAIL_ERR_LIMIT)
      return mail_conn_fail(s->conn, MAIL_ERR_LIMIT, "a reply line is too long");
    if (rc)
      return rc;
    mail_smtp_acc *a = &s->acc[s->cur_acc];
    /* EHLO's capability lines go straight into the list, held once. */
    a->sink = mail_cmdq_head(&s->q)->kind == SMTP_CMD_EHLO ? mail_smtp_caps_capset(s->caps) : NULL;
    rc = mail_smtp_acc_line(a, line, len);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      mail_smtp_acc_reset(a);
      if (rc == MAIL_ERR_PROTOCOL)
        return smtp_abort(s, rc, "malformed reply from the server");
      if (rc == MAIL_ERR_NOMEM)
        return smtp_abort(s, rc, "no memory for the server's reply");
      return smtp_abort(s, MAIL_ERR_LIMIT, "the server's reply exceeds the limits");
    }
    /* A complete reply: it stays intact as the last reply while the next
     * one collects in the other accumulator. */
    s->last = &a->reply;
    s->have_last = 1;
    s->cur_acc ^= 1;
    rc = dispatch(s);
    if (rc)
      return rc;
  }
}

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
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

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

static const char *const cap_names[SMTP_CAP_COUNT] = {
  "8BITMIME", "BINARYMIME", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES",
  "PIPELINING", "REQUIRETLS", "SIZE", "SMTPUTF8", "STARTTLS",
};

void smtp_caps_learned(mail_smtp *s)
{
  s->caps_valid = 1;
  s->cap_bits = 0;
  for (int i = 0; i < SMTP_CAP_COUNT; i++)
    if (mail_smtp_caps_find(s->caps, cap_names[i], NULL) == MAIL_OK)
      s->cap_bits |= 1u << i;
  s->size_max = 0;
  size_t idx;
  if (mail_smtp_caps_find(s->caps, "SIZE", &idx) == MAIL_OK &&
      mail_smtp_caps_param_count(s->caps, idx) > 0)
    s->size_max = strtoull(mail_smtp_caps_param(s->caps, idx, 0), NULL, 10);
}

int smtp_has(const mail_smtp *s, int cap)
{
  return s->caps_valid && (s->cap_bits >> cap & 1u);
}

int smtp_send_tx(mail_smtp *s, smtp_tx *tx, int kind, size_t arg, unsigned flags,
                 const mail_wire_part *parts, size_t n)
{
  mail_cmd c = {.kind = kind, .flags = flags, .arg = arg, .ctx = tx};
  return mail_cmd_send(s->conn, &s->q, &c, parts, n);
}

int smtp_send(mail_smtp *s, int kind, size_t arg, unsigned flags, const mail_wire_part *parts,
              size_t n)
{
  return smtp_send_tx(s, NULL, kind, arg, flags, parts, n);
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

/* out = a b c, cut to cap (cap > 0). Every reply names its command, so
 * this runs per reply: no format parsing. */
static void text3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
  size_t o = 0;
  const char *parts[3] = {a, b, c};
  for (int k = 0; k < 3; k++) {
    size_t n = strlen(parts[k]);
    if (n > cap - 1 - o)
      n = cap - 1 - o;
    memcpy(out + o, parts[k], n);
    o += n;
  }
  out[o] = '\0';
}

void smtp_cmd_text(const mail_smtp *s, const mail_cmd *c, char *out, size_t cap)
{
  const smtp_tx *tx = c->ctx ? (const smtp_tx *)c->ctx : &s->tx[s->cur];
  int have_addrs = tx->env && tx->wire_off;
  switch (c->kind) {
  case SMTP_CMD_GREETING:
    text3(out, cap, "greeting", "", "");
    return;
  case SMTP_CMD_EHLO:
    text3(out, cap, s->lmtp ? "LHLO" : "EHLO", "", "");
    return;
  case SMTP_CMD_AUTH: {
    const char *mech = mail_sasl_mechanism(s->sasl);
    text3(out, cap, "AUTH", mech ? " " : "", mech ? mech : "");
    return;
  }
  case SMTP_CMD_MAIL:
    if (have_addrs) {
      text3(out, cap, "MAIL FROM:<", (const char *)tx->wire.data + tx->wire_off[0], ">");
      return;
    }
    break;
  case SMTP_CMD_RCPT:
    if (have_addrs && c->arg < tx->env->nrcpts) {
      text3(out, cap, "RCPT TO:<", (const char *)tx->wire.data + tx->wire_off[c->arg + 1], ">");
      return;
    }
    break;
  case SMTP_CMD_FINAL:
    if (s->lmtp && have_addrs) {
      size_t i = tx->final_next; /* the next recipient accepted at RCPT */
      while (i < tx->env->nrcpts && !tx->env->rcpts[i].rcpt_ok)
        i++;
      if (i < tx->env->nrcpts) {
        text3(out, cap, "end of data for <", (const char *)tx->wire.data + tx->wire_off[i + 1], ">");
        return;
      }
    }
    text3(out, cap, "end of data", "", "");
    return;
  case SMTP_CMD_BDAT:
    text3(out, cap, (c->flags & SMTP_BDAT_LAST) ? "BDAT LAST" : "BDAT", "", "");
    return;
  case SMTP_CMD_UNSOLICITED:
    text3(out, cap, "unsolicited reply", "", "");
    return;
  }
  static const char *const verbs[] = {
    [SMTP_CMD_HELO] = "HELO", [SMTP_CMD_STARTTLS] = "STARTTLS", [SMTP_CMD_MAIL] = "MAIL FROM",
    [SMTP_CMD_RCPT] = "RCPT TO", [SMTP_CMD_DATA] = "DATA", [SMTP_CMD_RSET] = "RSET",
    [SMTP_CMD_NOOP] = "NOOP", [SMTP_CMD_QUIT] = "QUIT",
  };
  const char *v = c->kind > 0 && (size_t)c->kind < sizeof verbs / sizeof verbs[0] ? verbs[c->kind]
                                                                                   : NULL;
  text3(out, cap, v ? v : "command", "", "");
}

void smtp_reply_describe(const mail_smtp_reply *r, char *out, size_t cap)
{
  unsigned a, b, d;
  int n = mail_smtp_reply_enhanced(r, &a, &b, &d) == MAIL_OK
            ? snprintf(out, cap, "%d %u.%u.%u", mail_smtp_reply_code(r), a, b, d)
            : snprintf(out, cap, "%d", mail_smtp_reply_code(r));
  size_t pos = n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
  for (size_t i = 0; i < mail_smtp_reply_line_count(r); i++) {
    size_t len = 0;
    const char *line = mail_smtp_reply_line(r, i, &len);
    if (!line || !len)
      continue;
    for (size_t k = 0; k <= len && pos + 1 < cap; k++) {
      /* a space before the line, then its bytes; the server's text is
       * shown, never obeyed: control bytes become '?' */
      unsigned char ch = k == 0 ? ' ' : (unsigned char)line[k - 1];
      out[pos++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
  }
  out[pos] = '\0';
}

int smtp_refused(mail_smtp *s, int rc, const char *note)
{
  char reply[400];
  if (!s->last)
    return mail_conn_fail(s->conn, rc, "%s: %s", s->last_cmd, note ? note : mail_strerror(rc));
  smtp_reply_describe(s->last, reply, sizeof reply);
  return mail_conn_fail(s->conn, rc, "%s: %s%s%s", s->last_cmd, reply, note ? " " : "",
                        note ? note : "");
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
    if (smtp_has(s, SMTP_CAP_STARTTLS)) {
      smtp_state(s, SMTP_ST_STARTTLS);
      return smtp_command(s, SMTP_CMD_STARTTLS, 0, "STARTTLS");
    }
    if (s->conn_security == MAIL_SECURITY_STARTTLS)
      return smtp_abort(s, MAIL_ERR_STARTTLS,
                        "STARTTLS required, and the server does not offer it in its EHLO reply");
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
  mail_buf_clear(&s->greeting);
  for (size_t i = 0; i < mail_smtp_reply_line_count(r); i++) {
    size_t len = 0;
    const char *line = mail_smtp_reply_line(r, i, &len);
    if (!line || (i && mail_buf_append_byte(&s->greeting, '\n')) ||
        mail_buf_append(&s->greeting, line, len))
      return smtp_abort(s, MAIL_ERR_NOMEM, "greeting: no memory to keep it");
  }
  if (mail_buf_terminate(&s->greeting))
    return smtp_abort(s, MAIL_ERR_NOMEM, "greeting: no memory to keep it");
  if (code != 220) {
    smtp_refused(s, MAIL_ERR_SERVER, "(the server refused the session)");
    return smtp_abort(s, MAIL_ERR_SERVER, NULL);
  }
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
      smtp_caps_learned(s); /* the list was filled as the reply arrived */
      smtp_set_enhanced(s, smtp_has(s, SMTP_CAP_ENHANCEDSTATUSCODES));
    } else {
      s->helo_mode = 1;
    }
    return after_hello(s);
  }
  int tls_required = s->conn_security == MAIL_SECURITY_STARTTLS && !mail_conn_is_tls(s->conn);
  if (kind == SMTP_CMD_EHLO && !s->lmtp && !tls_required && (code == 500 || code == 502 || code == 554 ||
                                                        code == 504 || code == 550))
    return send_hello(s, SMTP_CMD_HELO);
  if (tls_required) {
    smtp_refused(s, MAIL_ERR_STARTTLS, "(STARTTLS cannot be negotiated without EHLO)");
    return smtp_abort(s, MAIL_ERR_STARTTLS, NULL);
  }
  smtp_refused(s, MAIL_ERR_SERVER, NULL);
  return smtp_abort(s, MAIL_ERR_SERVER, NULL);
}

static int on_starttls(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  if (mail_smtp_reply_code(r) != 220) {
    if (s->conn_security == MAIL_SECURITY_STARTTLS) {
      smtp_refused(s, MAIL_ERR_STARTTLS, "(STARTTLS is required)");
      return smtp_abort(s, MAIL_ERR_STARTTLS, NULL);
    }
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
  if (rc == MAIL_ERR_SASL_SERVER) {
    smtp_refused(s, rc, "(the server failed SASL mutual authentication)");
    return smtp_abort(s, rc, NULL);
  }
  if (rc == MAIL_ERR_SERVER && code == 535)
    rc = MAIL_ERR_AUTH;
  if (rc == MAIL_ERR_SERVER || rc == MAIL_ERR_AUTH)
    smtp_refused(s, rc, NULL);
  else if (rc < 0)
    mail_conn_fail(s->conn, rc, "%s: %s", s->last_cmd, mail_strerror(rc));
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
  if (s->batch) { /* the RSET between two messages: the message's result is known */
    if (s->state == SMTP_ST_RSET)
      smtp_state(s, SMTP_ST_IDLE);
    return smtp_batch_advance(s); /* without PIPELINING the next one waited */
  }
  smtp_state(s, SMTP_ST_IDLE);
  if (c->arg) { /* the RSET after a failed transaction */
    const smtp_tx *tx = c->ctx;
    if (s->decisive) {
      s->last = s->decisive;
      memcpy(s->last_cmd, s->decisive_cmd, sizeof s->last_cmd);
    }
    smtp_finish(s, tx->result);
  } else {
    int ok = mail_smtp_reply_code(s->last) / 100 == 2;
    smtp_finish(s, ok ? MAIL_OK : smtp_refused(s, MAIL_ERR_SERVER, NULL));
  }
  return MAIL_OK;
}

static int on_noop(void *e, const mail_cmd *c)
{
  mail_smtp *s = e;
  smtp_state(s, SMTP_ST_IDLE);
  int ok = mail_smtp_reply_code(s->last) / 100 == 2;
  smtp_finish(s, ok ? MAIL_OK : smtp_refused(s, MAIL_ERR_SERVER, NULL));
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
  if (!head) /* the queue is never empty here: checked before reading */
    return smtp_abort(s, MAIL_ERR_PROTOCOL, "a reply nothing asked for");
  smtp_cmd_text(s, head, s->last_cmd, sizeof s->last_cmd);
  if (head->kind != SMTP_CMD_QUIT && mail_smtp_reply_code(s->last) == 421) {
    mail_cmdq_pop(&s->q, NULL);
    smtp_refused(s, MAIL_ERR_SERVER_CLOSING, "(the server is closing the session)");
    return smtp_abort(s, MAIL_ERR_SERVER_CLOSING, NULL);
  }
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
    if (mail_cmdq_head(&s->q)->kind == SMTP_CMD_GREETING) {
      size_t n;
      const unsigned char *d = mail_reader_data(rd, &n);
      const char *what = mail_tls_record_kind(d, n);
      if (what)
        return smtp_abort(s, MAIL_ERR_PROTOCOL, s->lmtp ? mail_no_greeting_tls(s->conn, what, NULL)
                                                        : mail_no_greeting_tls(s->conn, what, "smtps://"));
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

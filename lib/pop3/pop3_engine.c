/* The POP3 engine core: the state function, queuing commands, reading
 * the head command's reply (status line, line-wise or streamed body) and
 * handing it to its completion handler. No I/O: mail_conn_run() drives
 * pop3_advance(). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"

static const char *const state_names[] = {
  "DISCONNECTED", "CONNECTING", "AUTHORIZATION", "AUTHENTICATING", "TRANSACTION", "UPDATE",
};

static const char *name_of(int state)
{
  if (state < 0 || state >= (int)(sizeof state_names / sizeof state_names[0]))
    return "UNKNOWN";
  return state_names[state];
}

const char *mail_pop3_state_name(const mail_pop3 *p)
{
  return name_of(p ? p->state : MAIL_POP3_STATE_DISCONNECTED);
}

void pop3_set_state(mail_pop3 *p, int state)
{
  if (p->state == state)
    return;
  mail_conn_trace_info(p->conn, "pop3: %s -> %s", name_of(p->state), name_of(state));
  p->state = state;
}

int pop3_abort(mail_pop3 *p, int rc, const char *why)
{
  return mail_engine_abort(p->conn, &p->q, &p->op, rc, why);
}

int pop3_send(mail_pop3 *p, int kind, const char *word, const char *arg, int secret, uint32_t msg)
{
  if (arg && mail_has_crlfnul(arg, strlen(arg)))
    return MAIL_ERR_INVALID;
  /* item: the command's index in the batch being sent (0 outside batches). */
  mail_cmd c = {.kind = kind, .arg = msg, .item = p->next};
  mail_wire_part parts[4];
  size_t n = 0;
  if (word)
    parts[n++] = (mail_wire_part){word, strlen(word), 0};
  if (word && arg)
    parts[n++] = (mail_wire_part){" ", 1, 0};
  if (arg)
    parts[n++] = (mail_wire_part){arg, strlen(arg), secret};
  parts[n++] = (mail_wire_part){"\r\n", 2, 0};
  int rc = mail_cmd_send(p->conn, &p->q, &c, parts, n);
  if (rc == MAIL_ERR_INTERNAL)
    return rc;
  if (rc) /* the operation cannot go on with its commands half queued */
    return pop3_abort(p, rc, "cannot queue a command");
  return MAIL_OK;
}

int pop3_send_sasl(mail_pop3 *p, int what, const mail_sasl_msg *m)
{
  mail_cmd c = {.kind = POP3_CMD_AUTH, .item = p->next};
  int rc = mail_sasl_queue(p->conn, &p->q, &c, "AUTH", what, m);
  if (rc == MAIL_ERR_INTERNAL)
    return rc;
  if (rc) /* the operation cannot go on with its commands half queued */
    return pop3_abort(p, rc, "cannot queue a command");
  return MAIL_OK;
}

int pop3_send_msg(mail_pop3 *p, int kind, const char *word, uint32_t msg, uint32_t lines)
{
  char arg[32];
  if (kind == POP3_CMD_TOP)
    snprintf(arg, sizeof arg, "%lu %lu", (unsigned long)msg, (unsigned long)lines);
  else
    snprintf(arg, sizeof arg, "%lu", (unsigned long)msg);
  return pop3_send(p, kind, word, arg, 0, msg);
}

/* Reply handlers by command kind; flags: how the reply reads after +OK. */
static const mail_cmd_kind pop3_kinds[] = {
  [POP3_CMD_GREETING] = {"greeting", pop3_connect_reply, POP3_RX_STATUS},
  [POP3_CMD_CAPA] = {"CAPA", pop3_connect_reply, POP3_RX_LINES},
  [POP3_CMD_STLS] = {"STLS", pop3_connect_reply, POP3_RX_STATUS},
  [POP3_CMD_USER] = {"USER", pop3_login_reply, POP3_RX_STATUS},
  [POP3_CMD_PASS] = {"PASS", pop3_login_reply, POP3_RX_STATUS},
  [POP3_CMD_APOP] = {"APOP", pop3_login_reply, POP3_RX_STATUS},
  [POP3_CMD_AUTH] = {"AUTH", pop3_login_reply, POP3_RX_STATUS},
  [POP3_CMD_STAT] = {"STAT", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_LIST] = {"LIST", pop3_transaction_reply, POP3_RX_LINES},
  [POP3_CMD_LIST_ONE] = {"LIST n", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_UIDL] = {"UIDL", pop3_transaction_reply, POP3_RX_LINES},
  [POP3_CMD_UIDL_ONE] = {"UIDL n", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_RETR] = {"RETR", pop3_transaction_reply, POP3_RX_BODY},
  [POP3_CMD_TOP] = {"TOP", pop3_transaction_reply, POP3_RX_BODY},
  [POP3_CMD_DELE] = {"DELE", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_RSET] = {"RSET", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_NOOP] = {"NOOP", pop3_transaction_reply, POP3_RX_STATUS},
  [POP3_CMD_QUIT] = {"QUIT", pop3_transaction_reply, POP3_RX_STATUS},
};
#define NKINDS (sizeof pop3_kinds / sizeof pop3_kinds[0])

/* Each operation's next step, by operation kind. */
static int (*const pop3_ops[])(mail_pop3 *) = {
  [POP3_OP_CONNECT] = pop3_connect_next,
  [POP3_OP_AUTH] = pop3_login_next,
  [POP3_OP_STAT] = pop3_simple_next,
  [POP3_OP_LIST] = pop3_simple_next,
  [POP3_OP_UIDL] = pop3_simple_next,
  [POP3_OP_RSET] = pop3_simple_next,
  [POP3_OP_NOOP] = pop3_simple_next,
  [POP3_OP_LIST_ONE] = pop3_batch_next,
  [POP3_OP_UIDL_MANY] = pop3_batch_next,
  [POP3_OP_UIDL_ONE] = pop3_batch_next,
  [POP3_OP_RETR] = pop3_batch_next,
  [POP3_OP_RETR_MANY] = pop3_batch_next,
  [POP3_OP_TOP] = pop3_batch_next,
  [POP3_OP_DELE] = pop3_batch_next,
  [POP3_OP_DELE_MANY] = pop3_batch_next,
  [POP3_OP_QUIT] = pop3_quit_next,
  [POP3_OP_LEAVE] = pop3_leave_next,
};

static int op_next(mail_pop3 *p)
{
  int k = p->op.kind;
  if (k <= 0 || (size_t)k >= sizeof pop3_ops / sizeof pop3_ops[0] || !pop3_ops[k])
    return MAIL_ERR_INTERNAL;
  return pop3_ops[k](p);
}

static int multi_line(const mail_cmd *c)
{
  const mail_cmd_kind *k = mail_cmd_kind_of(pop3_kinds, NKINDS, c);
  return k ? (int)k->flags : POP3_RX_STATUS;
}

static void deliver(mail_pop3 *p, const mail_cmd *c, int event, const unsigned char *d, size_t n)
{
  if (p->cancelled || !p->fn)
    return;
  if (p->fn(p->fn_user, (uint32_t)c->arg, event, d, n) != 0)
    p->cancelled = 1;
}

static void body_chunk(void *ctx, const unsigned char *d, size_t n)
{
  mail_pop3 *p = ctx;
  deliver(p, p->body_cmd, MAIL_POP3_BODY_DATA, d, n);
}

/* Read the reply to c. MAIL_OK when complete, MAIL_ERR_AGAIN, or an
 * error that ends the session. */
static int read_reply(mail_pop3 *p, const mail_cmd *c)
{
  mail_reader *r = mail_conn_reader(p->conn);
  for (;;) {
    const char *line;
    size_t len;
    int rc;
    if (p->rx == POP3_RX_BODY) {
      p->body_cmd = c;
      rc = mail_dot_read(r, &p->body, body_chunk, p);
      if (rc == MAIL_ERR_CLOSED)
        return pop3_abort(p, rc, "the server closed the connection inside a message");
      if (rc)
        return rc;
      deliver(p, c, MAIL_POP3_BODY_END, NULL, 0);
      p->rx = POP3_RX_STATUS;
      return MAIL_OK;
    }
    rc = mail_reader_line(r, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED)
      return pop3_abort(p, MAIL_ERR_CLOSED, "the server closed the connection");
    if (rc == MAIL_ERR_LIMIT)
      return pop3_abort(p, MAIL_ERR_LIMIT, "a line from the server is too long");
    if (rc)
      return pop3_abort(p, rc, "cannot read the reply");
    if (p->rx == POP3_RX_LINES) {
      const char *out;
      size_t olen;
      if (mail_dot_line(line, len, &out, &olen)) {
        p->rx = POP3_RX_STATUS;
        return MAIL_OK;
      }
      rc = pop3_body_line(p, c, out, olen);
      if (rc == MAIL_ERR_LIMIT)
        return pop3_abort(p, rc, "the server's list exceeds the item limit");
      if (rc == MAIL_ERR_PROTOCOL)
        return pop3_abort(p, rc, "malformed line in a multi-line reply");
      if (rc)
        return pop3_abort(p, rc, "cannot store the reply");
      continue;
    }
    /* A status line. */
    rc = mail_pop3_reply_parse(&p->reply, line, len);
    if (rc == MAIL_ERR_PROTOCOL)
      return pop3_abort(p, rc, "the server's reply is neither +OK nor -ERR");
    if (rc)
      return pop3_abort(p, rc, "cannot store the reply");
    p->have_reply = 1;
    int st = p->reply.status;
    if (st == MAIL_POP3_CONTINUE && c->kind != POP3_CMD_AUTH)
      return pop3_abort(p, MAIL_ERR_PROTOCOL, "a SASL continuation outside AUTH");
    if (st == MAIL_POP3_OK && multi_line(c) != POP3_RX_STATUS) {
      p->rx = multi_line(c);
      if (p->rx == POP3_RX_BODY) {
        mail_dot_unstuff_init(&p->body);
        deliver(p, c, MAIL_POP3_BODY_BEGIN, NULL, 0);
      }
      continue;
    }
    return MAIL_OK;
  }
}

/* How command c reads in an error and in mail_pop3_last_reply_command():
 * the verb, the message number, the SASL mechanism; never a user name,
 * password or digest. */
static void cmd_text(const mail_pop3 *p, const mail_cmd *c, char *out, size_t cap)
{
  const mail_cmd_kind *k = mail_cmd_kind_of(pop3_kinds, NKINDS, c);
  const char *name = k ? k->name : "command";
  switch (c->kind) {
  case POP3_CMD_LIST_ONE:
  case POP3_CMD_UIDL_ONE:
    snprintf(out, cap, "%.4s %lu", name, (unsigned long)c->arg);
    return;
  case POP3_CMD_RETR:
  case POP3_CMD_TOP:
  case POP3_CMD_DELE:
    snprintf(out, cap, "%s %lu", name, (unsigned long)c->arg);
    return;
  case POP3_CMD_AUTH: {
    const char *mech = mail_sasl_mechanism(p->sasl);
    snprintf(out, cap, "AUTH%s%s", mech ? " " : "", mech ? mech : "");
    return;
  }
  }
  snprintf(out, cap, "%s", name);
}

/* Record "<command>: -ERR [CODE] text" as the session's error (the latest
 * -ERR wins: after a fallback or a retry it is the one that counted). */
static void note_refusal(mail_pop3 *p)
{
  size_t clen = 0, tlen = 0;
  const char *code = mail_pop3_reply_resp_code(&p->reply, &clen);
  const char *text = mail_pop3_reply_text(&p->reply, &tlen);
  char shown[300];
  size_t n = 0;
  for (size_t i = 0; text && i < tlen && n + 1 < sizeof shown; i++) {
    unsigned char ch = (unsigned char)text[i]; /* shown, never obeyed */
    shown[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
  }
  shown[n] = '\0';
  if (code && clen)
    mail_conn_fail(p->conn, MAIL_ERR_SERVER, "%s: -ERR [%.*s]%s%s", p->last_cmd,
                   (int)(clen > 100 ? 100 : clen), code, n ? " " : "", shown);
  else
    mail_conn_fail(p->conn, MAIL_ERR_SERVER, "%s: -ERR%s%s", p->last_cmd, n ? " " : "", shown);
}

void pop3_name_timeout(mail_pop3 *p)
{
  char was[512];
  const char *why = mail_conn_last_error(p->conn);
  if (!*why || !strcmp(why, mail_strerror(MAIL_ERR_TIMEOUT)))
    why = "timed out waiting for the server";
  snprintf(was, sizeof was, "%s", why);
  const mail_cmd *head = mail_cmdq_head(&p->q);
  if (head && head->kind == POP3_CMD_GREETING)
    mail_conn_fail(p->conn, MAIL_ERR_TIMEOUT,
                   "no greeting: %s \xE2\x80\x94 if this is an implicit-TLS port, use pop3s://", was);
  else if (head) {
    char cmd[64];
    cmd_text(p, head, cmd, sizeof cmd);
    mail_conn_fail(p->conn, MAIL_ERR_TIMEOUT, "%s: %s", cmd, was);
  }
}

static int in_batch(const mail_pop3 *p)
{
  int k = p->op.kind;
  int batches = k > 0 && (size_t)k < sizeof pop3_ops / sizeof pop3_ops[0] &&
                (pop3_ops[k] == pop3_batch_next || pop3_ops[k] == pop3_leave_next);
  return batches && p->next < p->nmsgs && !p->cancelled && !p->op.done;
}

int pop3_advance(void *engine)
{
  mail_pop3 *p = engine;
  for (;;) {
    mail_cmd *head = mail_cmdq_head(&p->q);
    if (!head) {
      if (p->op.done)
        return p->op.result;
      int rc = op_next(p);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      if (!mail_cmdq_head(&p->q))
        return MAIL_ERR_AGAIN; /* a TLS handshake runs first */
      continue;
    }
    if (head->kind == POP3_CMD_GREETING) {
      size_t n;
      const unsigned char *d = mail_reader_data(mail_conn_reader(p->conn), &n);
      const char *what = mail_tls_record_kind(d, n);
      if (what)
        return pop3_abort(p, MAIL_ERR_PROTOCOL, mail_no_greeting_tls(p->conn, what, "pop3s://"));
    }
    int rc = read_reply(p, head);
    if (rc == MAIL_ERR_AGAIN) {
      /* Top the pipeline up while replies are on their way: everything
       * queued here leaves in one write. */
      if (in_batch(p)) {
        rc = pop3_batch_fill(p);
        if (rc && rc != MAIL_ERR_AGAIN)
          return rc;
      }
      return MAIL_ERR_AGAIN;
    }
    if (rc)
      return rc;
    cmd_text(p, head, p->last_cmd, sizeof p->last_cmd);
    if (p->reply.status == MAIL_POP3_ERR)
      note_refusal(p);
    rc = mail_cmd_dispatch(p->conn, &p->q, pop3_kinds, NKINDS, p);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      if (mail_status_is_fatal(rc) || !mail_conn_is_open(p->conn))
        return rc;
      if (!p->op.done)
        mail_op_finish(&p->op, rc); /* reported once the replies in flight are read */
    }
  }
}

int pop3_finish(mail_pop3 *p, int rc)
{
  int op = p->op.kind;
  mail_op_end(&p->op);
  p->next = p->nmsgs; /* a batch never goes on after its operation */
  p->fn = NULL;
  p->fn_user = NULL;
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(p->conn)) {
    mail_cmdq_clear(&p->q);
    p->rx = POP3_RX_STATUS;
    mail_conn_close(p->conn);
    pop3_set_state(p, MAIL_POP3_STATE_DISCONNECTED);
  } else if (p->state == MAIL_POP3_STATE_AUTHENTICATING) {
    pop3_set_state(p, MAIL_POP3_STATE_AUTHORIZATION);
  }
  if (op == POP3_OP_QUIT) {
    if (p->committed_out)
      *p->committed_out = p->committed;
    mail_cmdq_clear(&p->q);
    mail_conn_close(p->conn);
    pop3_set_state(p, MAIL_POP3_STATE_DISCONNECTED);
  }
  p->committed_out = NULL;
  p->out_count = NULL;
  p->out_size = NULL;
  p->out_uid = NULL;
  return rc;
}

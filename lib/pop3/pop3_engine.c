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

/* A failure after which the byte stream can no longer be trusted to be in
 * step with the command queue: the connection is closed. */
static int broken(mail_pop3 *p, int rc, const char *what)
{
  if (!mail_status_is_fatal(rc)) {
    mail_conn_fail(p->conn, rc, "%s", what);
    mail_conn_close(p->conn);
    return rc;
  }
  return mail_conn_fail(p->conn, rc, "%s", what);
}

int pop3_send(mail_pop3 *p, int kind, const char *word, const char *arg, int secret, uint32_t msg)
{
  if (arg && mail_has_crlfnul(arg, strlen(arg)))
    return MAIL_ERR_INVALID;
  /* tag: the item's index in the batch being sent (0 outside batches). */
  mail_cmd c = {kind, 0, (uint32_t)p->next, msg, NULL};
  int rc = mail_cmdq_push(&p->q, &c);
  if (rc)
    return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INTERNAL : rc;
  if (word)
    rc = mail_conn_send(p->conn, word, strlen(word));
  if (!rc && word && arg)
    rc = mail_conn_send(p->conn, " ", 1);
  if (!rc && arg)
    rc = secret ? mail_conn_send_secret(p->conn, arg, strlen(arg))
                : mail_conn_send(p->conn, arg, strlen(arg));
  if (!rc)
    rc = mail_conn_send(p->conn, "\r\n", 2);
  if (rc) /* part of a line may be queued: the stream is unusable */
    return broken(p, rc, "cannot queue a command");
  return MAIL_OK;
}

int pop3_send_sasl(mail_pop3 *p, int what, const mail_sasl_msg *m)
{
  mail_cmd c = {CMD_AUTH, 0, (uint32_t)p->next, 0, NULL};
  int rc = mail_cmdq_push(&p->q, &c);
  if (rc)
    return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INTERNAL : rc;
  rc = mail_sasl_queue(p->conn, "AUTH", what, m);
  if (rc) /* part of a line may be queued: the stream is unusable */
    return broken(p, rc, "cannot queue a command");
  return MAIL_OK;
}

int pop3_send_msg(mail_pop3 *p, int kind, const char *word, uint32_t msg, uint32_t lines)
{
  char arg[32];
  if (kind == CMD_TOP)
    snprintf(arg, sizeof arg, "%lu %lu", (unsigned long)msg, (unsigned long)lines);
  else
    snprintf(arg, sizeof arg, "%lu", (unsigned long)msg);
  return pop3_send(p, kind, word, arg, 0, msg);
}

static int multi_line(const mail_cmd *c)
{
  switch (c->kind) {
  case CMD_CAPA:
  case CMD_LIST:
  case CMD_UIDL:
    return RX_LINES;
  case CMD_RETR:
  case CMD_TOP:
    return RX_BODY;
  default:
    return RX_STATUS;
  }
}

static void deliver(mail_pop3 *p, const mail_cmd *c, int event, const unsigned char *d, size_t n)
{
  if (p->cancelled || !p->fn)
    return;
  if (p->fn(p->fn_user, (uint32_t)c->arg, event, d, n) != 0)
    p->cancelled = 1;
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
    if (p->rx == RX_BODY) {
      size_t n;
      const unsigned char *in = mail_reader_data(r, &n);
      if (n == 0) {
        if (r->eof)
          return broken(p, MAIL_ERR_CLOSED, "the server closed the connection inside a message");
        return MAIL_ERR_AGAIN;
      }
      size_t used;
      const unsigned char *chunk;
      size_t clen;
      int done = mail_pop3_body_step(&p->body, in, n, &used, &chunk, &clen);
      if (clen)
        deliver(p, c, MAIL_POP3_BODY_DATA, chunk, clen);
      mail_reader_skip(r, used);
      if (done) {
        deliver(p, c, MAIL_POP3_BODY_END, NULL, 0);
        p->rx = RX_STATUS;
        return MAIL_OK;
      }
      continue;
    }
    rc = mail_reader_line(r, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED)
      return broken(p, MAIL_ERR_CLOSED, "the server closed the connection");
    if (rc == MAIL_ERR_LIMIT)
      return broken(p, MAIL_ERR_LIMIT, "a line from the server is too long");
    if (rc)
      return broken(p, rc, "cannot read the reply");
    if (p->rx == RX_LINES) {
      const char *out;
      size_t olen;
      if (mail_pop3_body_line(line, len, &out, &olen)) {
        p->rx = RX_STATUS;
        return MAIL_OK;
      }
      rc = pop3_body_line(p, c, out, olen);
      if (rc == MAIL_ERR_LIMIT)
        return broken(p, rc, "the server's list exceeds the item limit");
      if (rc == MAIL_ERR_PROTOCOL)
        return broken(p, rc, "malformed line in a multi-line reply");
      if (rc)
        return broken(p, rc, "cannot store the reply");
      continue;
    }
    /* A status line. */
    rc = mail_pop3_reply_parse(&p->reply, line, len);
    if (rc == MAIL_ERR_PROTOCOL)
      return broken(p, rc, "the server's reply is neither +OK nor -ERR");
    if (rc)
      return broken(p, rc, "cannot store the reply");
    p->have_reply = 1;
    int st = p->reply.status;
    if (st == MAIL_POP3_CONTINUE && c->kind != CMD_AUTH)
      return broken(p, MAIL_ERR_PROTOCOL, "a SASL continuation outside AUTH");
    if (st == MAIL_POP3_OK && multi_line(c) != RX_STATUS) {
      p->rx = multi_line(c);
      if (p->rx == RX_BODY) {
        mail_pop3_body_init(&p->body);
        deliver(p, c, MAIL_POP3_BODY_BEGIN, NULL, 0);
      }
      continue;
    }
    return MAIL_OK;
  }
}

static int in_batch(const mail_pop3 *p)
{
  return (p->op == OP_BATCH || p->op == OP_LEAVE) && p->next < p->nmsgs && !p->cancelled &&
         !p->op_rc;
}

int pop3_advance(void *engine)
{
  mail_pop3 *p = engine;
  for (;;) {
    mail_cmd *head = mail_cmdq_head(&p->q);
    if (!head) {
      if (p->op_rc)
        return p->op_rc;
      int rc = pop3_op_next(p);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      if (!mail_cmdq_head(&p->q))
        return MAIL_ERR_AGAIN; /* a TLS handshake runs first */
      continue;
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
    mail_cmd cmd;
    mail_cmdq_pop(&p->q, &cmd);
    rc = pop3_cmd_done(p, &cmd);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      if (mail_status_is_fatal(rc) || !mail_conn_is_open(p->conn))
        return rc;
      if (!p->op_rc)
        p->op_rc = rc; /* reported once the replies in flight are read */
    }
  }
}

int pop3_finish(mail_pop3 *p, int rc)
{
  int op = p->op;
  p->op = OP_NONE;
  p->pending = 0;
  p->next = p->nmsgs; /* a batch never goes on after its operation */
  p->fn = NULL;
  p->fn_user = NULL;
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(p->conn)) {
    mail_cmdq_clear(&p->q);
    p->rx = RX_STATUS;
    mail_conn_close(p->conn);
    pop3_set_state(p, MAIL_POP3_STATE_DISCONNECTED);
  } else if (p->state == MAIL_POP3_STATE_AUTHENTICATING) {
    pop3_set_state(p, MAIL_POP3_STATE_AUTHORIZATION);
  }
  if (op == OP_QUIT) {
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

/* The NNTP engine core: the state function, queuing commands, reading the
 * head command's reply (status line, then a line-wise or streamed data
 * block) and handing it to its handler. No I/O: mail_conn_run() drives
 * nntp_advance(). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "nntp/nntp_internal.h"

/* mail_cmd.flags: the command reads as n->cmd_name in errors. */
#define NNTP_NAMED 0x100u

static const char *const state_names[] = {"DISCONNECTED", "CONNECTING", "READY",
                                          "AUTHENTICATING"};

static const char *name_of(int state)
{
  if (state < 0 || state >= (int)(sizeof state_names / sizeof state_names[0]))
    return "UNKNOWN";
  return state_names[state];
}

const char *mail_nntp_state_name(const mail_nntp *n)
{
  return name_of(n ? n->state : MAIL_NNTP_STATE_DISCONNECTED);
}

void nntp_set_state(mail_nntp *n, int state)
{
  if (n->state == state)
    return;
  mail_conn_trace_info(n->conn, "nntp: %s -> %s", name_of(n->state), name_of(state));
  n->state = state;
}

int nntp_abort(mail_nntp *n, int rc, const char *why)
{
  return mail_engine_abort(n->conn, &n->q, &n->op, rc, why);
}

int nntp_refusal(int code)
{
  switch (code) {
  case 400:
    return MAIL_ERR_SERVER_CLOSING;
  case 411:
  case 420:
  case 421:
  case 422:
  case 423:
  case 430:
    return MAIL_ERR_NOT_FOUND;
  case 412:
    return MAIL_ERR_STATE;
  case 480:
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

int nntp_send(mail_nntp *n, int kind, const char *word, const char *arg, int secret,
              const char *name)
{
  if (arg && mail_has_crlfnul(arg, strlen(arg)))
    return MAIL_ERR_INVALID;
  mail_cmd c = {.kind = kind, .item = n->next};
  if (name) {
    snprintf(n->cmd_name, sizeof n->cmd_name, "%s", name);
    c.flags = NNTP_NAMED;
  }
  mail_wire_part parts[4];
  size_t k = 0;
  parts[k++] = (mail_wire_part){word, strlen(word), 0};
  if (arg) {
    parts[k++] = (mail_wire_part){" ", 1, 0};
    parts[k++] = (mail_wire_part){arg, strlen(arg), secret};
  }
  parts[k++] = (mail_wire_part){"\r\n", 2, 0};
  int rc = mail_cmd_send(n->conn, &n->q, &c, parts, k);
  if (rc == MAIL_ERR_INTERNAL)
    return rc;
  if (rc) /* the operation cannot go on with its commands half queued */
    return nntp_abort(n, rc, "cannot queue a command");
  return MAIL_OK;
}

int nntp_send_sasl(mail_nntp *n, int what, const mail_sasl_msg *m)
{
  mail_cmd c = {.kind = NNTP_CMD_AUTHINFO_SASL};
  int rc = mail_sasl_queue(n->conn, &n->q, &c, "AUTHINFO SASL", what, m);
  if (rc == MAIL_ERR_INTERNAL)
    return rc;
  if (rc)
    return nntp_abort(n, rc, "cannot queue a command");
  return MAIL_OK;
}

/* Reply handlers by command kind; flags: how a 1xx/2xx reply reads on. */
static const mail_cmd_kind nntp_kinds[] = {
  [NNTP_CMD_GREETING] = {"greeting", nntp_connect_reply, NNTP_RX_STATUS},
  [NNTP_CMD_CAPABILITIES] = {"CAPABILITIES", nntp_connect_reply, NNTP_RX_LINES},
  [NNTP_CMD_MODE_READER] = {"MODE READER", nntp_connect_reply, NNTP_RX_STATUS},
  [NNTP_CMD_STARTTLS] = {"STARTTLS", nntp_connect_reply, NNTP_RX_STATUS},
  [NNTP_CMD_AUTHINFO_USER] = {"AUTHINFO USER", nntp_login_reply, NNTP_RX_STATUS},
  [NNTP_CMD_AUTHINFO_PASS] = {"AUTHINFO PASS", nntp_login_reply, NNTP_RX_STATUS},
  [NNTP_CMD_AUTHINFO_SASL] = {"AUTHINFO SASL", nntp_login_reply, NNTP_RX_STATUS},
  [NNTP_CMD_GROUP] = {"GROUP", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_LISTGROUP] = {"LISTGROUP", nntp_read_reply, NNTP_RX_LINES},
  [NNTP_CMD_NEXT] = {"NEXT", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_LAST] = {"LAST", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_ARTICLE] = {"ARTICLE", nntp_read_reply, NNTP_RX_BODY},
  [NNTP_CMD_STAT] = {"STAT", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_OVERVIEW_FMT] = {"LIST OVERVIEW.FMT", nntp_read_reply, NNTP_RX_LINES},
  [NNTP_CMD_OVER] = {"OVER", nntp_read_reply, NNTP_RX_LINES},
  [NNTP_CMD_HDR] = {"HDR", nntp_read_reply, NNTP_RX_LINES},
  [NNTP_CMD_LIST] = {"LIST", nntp_read_reply, NNTP_RX_LINES},
  [NNTP_CMD_DATE] = {"DATE", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_POST] = {"POST", nntp_post_reply, NNTP_RX_STATUS},
  [NNTP_CMD_POST_DATA] = {"POST data", nntp_post_reply, NNTP_RX_STATUS},
  [NNTP_CMD_QUIT] = {"QUIT", nntp_read_reply, NNTP_RX_STATUS},
  [NNTP_CMD_COMPRESS] = {"COMPRESS", nntp_read_reply, NNTP_RX_STATUS},
};
#define NKINDS (sizeof nntp_kinds / sizeof nntp_kinds[0])

/* Each operation's next step, by operation kind. */
static int (*const nntp_ops[])(mail_nntp *) = {
  [NNTP_OP_CONNECT] = nntp_connect_next, [NNTP_OP_AUTH] = nntp_login_next,
  [NNTP_OP_SIMPLE] = nntp_simple_next,   [NNTP_OP_OVER] = nntp_over_next,
  [NNTP_OP_BATCH] = nntp_batch_next,     [NNTP_OP_POST] = nntp_post_next,
  [NNTP_OP_QUIT] = nntp_quit_next,
};

static int op_next(mail_nntp *n)
{
  int k = n->op.kind;
  if (k <= 0 || (size_t)k >= sizeof nntp_ops / sizeof nntp_ops[0] || !nntp_ops[k])
    return MAIL_ERR_INTERNAL;
  return nntp_ops[k](n);
}

static int rx_mode(const mail_cmd *c)
{
  const mail_cmd_kind *k = mail_cmd_kind_of(nntp_kinds, NKINDS, c);
  return k ? (int)k->flags : NNTP_RX_STATUS;
}

static void deliver(mail_nntp *n, int event, const unsigned char *d, size_t len)
{
  if (n->cancelled || !n->fn)
    return;
  if (n->fn(n->fn_user, n->cur_number, event, d, len) != 0)
    n->cancelled = 1;
}

static void body_chunk(void *ctx, const unsigned char *d, size_t len)
{
  deliver(ctx, MAIL_NNTP_BODY_DATA, d, len);
}

/* The status line of an article's reply names it: it becomes current
 * (RFC 3977 6.2: the server's number, or 0 when asked by message-id). */
static void note_article(mail_nntp *n)
{
  uint64_t num;
  const char *id;
  size_t idlen;
  if (mail_nntp_parse_article(&num, &id, &idlen, (const char *)n->reply.text.data,
                              n->reply.text.len) != MAIL_OK)
    return;
  n->cur_number = num;
  mail_buf_clear(&n->cur_msgid);
  if (mail_buf_append(&n->cur_msgid, id, idlen) || mail_buf_terminate(&n->cur_msgid))
    mail_buf_clear(&n->cur_msgid);
}

/* Read the reply to c. MAIL_OK when complete, MAIL_ERR_AGAIN, or an error
 * that ends the session. */
static int read_reply(mail_nntp *n, const mail_cmd *c)
{
  mail_reader *r = mail_conn_reader(n->conn);
  for (;;) {
    const char *line;
    size_t len;
    int rc;
    if (n->rx == NNTP_RX_BODY) {
      rc = mail_dot_read(r, &n->body, body_chunk, n);
      if (rc == MAIL_ERR_CLOSED)
        return nntp_abort(n, rc, "the server closed the connection inside an article");
      if (rc)
        return rc;
      deliver(n, MAIL_NNTP_BODY_END, NULL, 0);
      n->rx = NNTP_RX_STATUS;
      return MAIL_OK;
    }
    rc = mail_reader_line(r, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED)
      return nntp_abort(n, MAIL_ERR_CLOSED, "the server closed the connection");
    if (rc == MAIL_ERR_LIMIT)
      return nntp_abort(n, MAIL_ERR_LIMIT, "a line from the server is too long");
    if (rc)
      return nntp_abort(n, rc, "cannot read the reply");
    if (n->rx == NNTP_RX_LINES) {
      const char *out;
      size_t olen;
      if (mail_dot_line(line, len, &out, &olen)) {
        n->rx = NNTP_RX_STATUS;
        return MAIL_OK;
      }
      rc = nntp_data_line(n, c, out, olen);
      if (rc == MAIL_ERR_LIMIT)
        return nntp_abort(n, rc, "the server's list exceeds the item limit");
      if (rc == MAIL_ERR_PROTOCOL)
        return nntp_abort(n, rc, "a data line from the server does not parse");
      if (rc)
        return nntp_abort(n, rc, "cannot keep the server's list");
      continue;
    }
    rc = mail_nntp_reply_parse(&n->reply, line, len);
    if (rc == MAIL_ERR_PROTOCOL)
      return nntp_abort(n, rc, "the server's reply is not an NNTP status line");
    if (rc)
      return nntp_abort(n, rc, "cannot keep the server's reply");
    n->have_reply = 1;
    int mode = rx_mode(c);
    if (mode != NNTP_RX_STATUS && mail_nntp_code_has_block(n->reply.code)) {
      n->rx = mode;
      if (mode == NNTP_RX_BODY) {
        note_article(n);
        mail_dot_unstuff_init(&n->body);
        deliver(n, MAIL_NNTP_BODY_BEGIN, NULL, 0);
      }
      continue;
    }
    return MAIL_OK;
  }
}

static const char *const part_verbs[] = {"ARTICLE", "HEAD", "BODY", "STAT"};

/* How command c reads in an error and in mail_nntp_last_reply_command():
 * never a credential. */
static void cmd_text(const mail_nntp *n, const mail_cmd *c, char *out, size_t cap)
{
  if (c->flags & NNTP_NAMED) {
    snprintf(out, cap, "%s", n->cmd_name);
    return;
  }
  if (c->kind == NNTP_CMD_ARTICLE || c->kind == NNTP_CMD_STAT) {
    snprintf(out, cap, "%s %llu", part_verbs[c->flags & 3u], (unsigned long long)c->arg);
    return;
  }
  if (c->kind == NNTP_CMD_AUTHINFO_SASL) {
    const char *mech = mail_sasl_mechanism(n->sasl);
    snprintf(out, cap, "AUTHINFO SASL%s%s", mech ? " " : "", mech ? mech : "");
    return;
  }
  if ((c->kind == NNTP_CMD_POST || c->kind == NNTP_CMD_POST_DATA) && n->is_ihave) {
    snprintf(out, cap, "%s", c->kind == NNTP_CMD_POST ? "IHAVE" : "IHAVE data");
    return;
  }
  const mail_cmd_kind *k = mail_cmd_kind_of(nntp_kinds, NKINDS, c);
  snprintf(out, cap, "%s", k ? k->name : "command");
}

/* Record "<command>: <code> <text>" as the session's error. */
static void note_refusal(mail_nntp *n)
{
  char shown[300];
  size_t k = 0;
  for (size_t i = 0; i < n->reply.text.len && k + 1 < sizeof shown; i++) {
    unsigned char ch = n->reply.text.data[i]; /* shown, never obeyed */
    shown[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
  }
  shown[k] = '\0';
  mail_conn_fail(n->conn, nntp_refusal(n->reply.code), "%s: %d%s%s", n->last_cmd, n->reply.code,
                 k ? " " : "", shown);
}

static void name_timeout(mail_nntp *n)
{
  char was[512];
  const char *why = mail_conn_last_error(n->conn);
  if (!*why || !strcmp(why, mail_strerror(MAIL_ERR_TIMEOUT)))
    why = "timed out waiting for the server";
  snprintf(was, sizeof was, "%s", why);
  const mail_cmd *head = mail_cmdq_head(&n->q);
  if (head && head->kind == NNTP_CMD_GREETING)
    mail_conn_fail(n->conn, MAIL_ERR_TIMEOUT,
                   "no greeting: %s \xE2\x80\x94 if this is an implicit-TLS port, use nntps://", was);
  else if (head) {
    char cmd[160];
    cmd_text(n, head, cmd, sizeof cmd);
    mail_conn_fail(n->conn, MAIL_ERR_TIMEOUT, "%s: %s", cmd, was);
  }
}

int nntp_advance(void *engine)
{
  mail_nntp *n = engine;
  for (;;) {
    mail_cmd *head = mail_cmdq_head(&n->q);
    if (!head) {
      if (n->op.done)
        return n->op.result;
      int rc = op_next(n);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      if (!mail_cmdq_head(&n->q))
        return MAIL_ERR_AGAIN; /* a TLS handshake, or output to drain first */
      continue;
    }
    if (head->kind == NNTP_CMD_GREETING) {
      size_t avail;
      const unsigned char *d = mail_reader_data(mail_conn_reader(n->conn), &avail);
      const char *what = mail_tls_record_kind(d, avail);
      if (what)
        return nntp_abort(n, MAIL_ERR_PROTOCOL, mail_no_greeting_tls(n->conn, what, "nntps://"));
    }
    int rc = read_reply(n, head);
    if (rc == MAIL_ERR_AGAIN) {
      /* Top the window up while replies are on their way. */
      if (n->op.kind == NNTP_OP_BATCH && !n->op.done && !n->cancelled && n->next < n->nnums) {
        rc = nntp_batch_fill(n);
        if (rc && rc != MAIL_ERR_AGAIN)
          return rc;
      }
      return MAIL_ERR_AGAIN;
    }
    if (rc)
      return rc;
    cmd_text(n, head, n->last_cmd, sizeof n->last_cmd);
    if (n->reply.code >= 400)
      note_refusal(n);
    if (n->reply.code == 400) /* the server is going away */
      return nntp_abort(n, MAIL_ERR_SERVER_CLOSING, NULL);
    rc = mail_cmd_dispatch(n->conn, &n->q, nntp_kinds, NKINDS, n);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      if (mail_status_is_fatal(rc) || !mail_conn_is_open(n->conn))
        return rc;
      if (!n->op.done)
        mail_op_finish(&n->op, rc); /* reported once the replies in flight are read */
    }
  }
}

/* ------------------------------------------------------------ driving */

static int drive(mail_nntp *n)
{
  int rc;
  if (n->op.kind == NNTP_OP_CONNECT && n->op.phase == 0) {
    int implicit = n->security == MAIL_SECURITY_IMPLICIT_TLS;
    rc = mail_conn_connect(n->conn, n->host, n->port, implicit);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return nntp_finish(n, rc);
    n->tls_done = implicit;
    n->op.phase = 1; /* the greeting */
    nntp_set_state(n, MAIL_NNTP_STATE_CONNECTING);
  }
  rc = mail_conn_run(n->conn, nntp_advance, n);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  if (rc == MAIL_ERR_TIMEOUT)
    name_timeout(n);
  else if (rc == MAIL_OK)
    mail_conn_clear_error(n->conn); /* a refusal that did not count (CAPABILITIES, XOVER) */
  return nntp_finish(n, rc);
}

int nntp_op_enter(mail_nntp *n, int op, int *rc)
{
  if (!n) {
    *rc = MAIL_ERR_INVALID;
    return 1;
  }
  if (!n->op.kind) {
    mail_conn_clear_error(n->conn);
    return 0;
  }
  int st = mail_op_begin(&n->op, op);
  if (st == MAIL_ERR_STATE)
    mail_conn_fail(n->conn, st, "another operation is in progress");
  *rc = st == MAIL_OP_RESUMED ? drive(n) : st;
  return 1;
}

int nntp_wrong_state(mail_nntp *n, const char *needed)
{
  return mail_conn_fail(n->conn, MAIL_ERR_STATE, "the session is in state %s, not %s",
                        mail_nntp_state_name(n), needed);
}

int nntp_run(mail_nntp *n, int op)
{
  mail_op_begin(&n->op, op);
  n->cancelled = 0;
  n->have_reply = 0;
  mail_conn_clear_error(n->conn);
  n->rx = NNTP_RX_STATUS;
  return drive(n);
}

int nntp_finish(mail_nntp *n, int rc)
{
  int op = n->op.kind;
  mail_op_end(&n->op);
  n->next = n->nnums; /* a batch never goes on after its operation */
  n->fn = NULL;
  n->fn_user = NULL;
  n->read = NULL;
  n->read_user = NULL;
  mail_dealloc(&n->alloc, n->chunk);
  n->chunk = NULL;
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(n->conn) || op == NNTP_OP_QUIT) {
    mail_cmdq_clear(&n->q);
    n->rx = NNTP_RX_STATUS;
    mail_conn_close(n->conn);
    nntp_set_state(n, MAIL_NNTP_STATE_DISCONNECTED);
    n->authenticated = 0;
  } else if (n->state == MAIL_NNTP_STATE_AUTHENTICATING) {
    nntp_set_state(n, MAIL_NNTP_STATE_READY);
  }
  for (size_t i = 0; i < 3; i++)
    n->out_u64[i] = NULL;
  n->out_i64 = NULL;
  return rc;
}

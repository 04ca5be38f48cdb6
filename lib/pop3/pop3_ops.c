/* Transaction commands: what each operation queues, what each reply
 * means, the typed results, and batches pipelined through the command
 * queue when the server offers PIPELINING (RFC 2449 §6.6). */
#include <string.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"

/* ------------------------------------------------------------ batches */

int pop3_batch_begin(mail_pop3 *p, int kind, const uint32_t *msgs, size_t n)
{
  mail_dealloc(&p->alloc, p->msgs);
  mail_dealloc(&p->alloc, p->results);
  p->msgs = NULL;
  p->results = NULL;
  p->nmsgs = p->nresults = p->next = 0;
  p->cmd_kind = kind;
  if (n == 0)
    return MAIL_OK;
  if (n > SIZE_MAX / sizeof(int) / 2)
    return MAIL_ERR_INVALID;
  p->msgs = mail_malloc(&p->alloc, n * sizeof *p->msgs);
  p->results = mail_malloc(&p->alloc, n * sizeof *p->results);
  if (!p->msgs || !p->results)
    return MAIL_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    p->msgs[i] = msgs[i];
    p->results[i] = MAIL_ERR_NOT_FOUND;
  }
  p->nmsgs = p->nresults = n;
  return MAIL_OK;
}

int pop3_batch_fill(mail_pop3 *p)
{
  size_t window = mail_pop3_has_capability(p, "PIPELINING") ? p->window : 1;
  /* The output queue has its own bound: leave room under it. */
  size_t room = mail_conn_limits(p->conn)->max_output / 2;
  while (p->next < p->nmsgs && mail_cmdq_count(&p->q) < window && !p->cancelled &&
         mail_conn_out_pending(p->conn) < room) {
    uint32_t m = p->msgs[p->next];
    int rc;
    switch (p->cmd_kind) {
    case POP3_CMD_RETR: rc = pop3_send_msg(p, POP3_CMD_RETR, "RETR", m, 0); break;
    case POP3_CMD_TOP: rc = pop3_send_msg(p, POP3_CMD_TOP, "TOP", m, p->cmd_lines); break;
    case POP3_CMD_DELE: rc = pop3_send_msg(p, POP3_CMD_DELE, "DELE", m, 0); break;
    case POP3_CMD_UIDL_ONE: rc = pop3_send_msg(p, POP3_CMD_UIDL_ONE, "UIDL", m, 0); break;
    case POP3_CMD_LIST_ONE: rc = pop3_send_msg(p, POP3_CMD_LIST_ONE, "LIST", m, 0); break;
    default: return MAIL_ERR_INTERNAL;
    }
    if (rc)
      return rc;
    p->next++;
  }
  return MAIL_ERR_AGAIN;
}

int pop3_batch_result(mail_pop3 *p)
{
  if (p->cancelled)
    return MAIL_ERR_CALLBACK;
  size_t ok = 0, failed = 0;
  int other = MAIL_OK;
  for (size_t i = 0; i < p->nresults; i++) {
    if (p->results[i] == MAIL_OK)
      ok++;
    else if (p->results[i] == MAIL_ERR_SERVER)
      failed++;
    else if (!other)
      other = p->results[i];
  }
  if (other)
    return other;
  if (!failed)
    return MAIL_OK;
  return ok ? MAIL_ERR_PARTIAL : MAIL_ERR_SERVER;
}

int pop3_batch_next(mail_pop3 *p)
{
  if (!p->cancelled && p->next < p->nmsgs)
    return pop3_batch_fill(p);
  if (mail_cmdq_count(&p->q))
    return MAIL_ERR_AGAIN;
  return pop3_batch_result(p);
}

int mail_pop3_batch_status(const mail_pop3 *p, size_t i)
{
  if (!p || i >= p->nresults)
    return MAIL_ERR_NOT_FOUND;
  return p->results[i];
}

/* -------------------------------------------- the operations' steps */

int pop3_simple_next(mail_pop3 *p)
{
  int rc;
  if (p->op.phase)
    return MAIL_OK;
  p->op.phase = 1;
  switch (p->cmd_kind) {
  case POP3_CMD_STAT: rc = pop3_send(p, POP3_CMD_STAT, "STAT", NULL, 0, 0); break;
  case POP3_CMD_LIST: rc = pop3_send(p, POP3_CMD_LIST, "LIST", NULL, 0, 0); break;
  case POP3_CMD_UIDL: rc = pop3_send(p, POP3_CMD_UIDL, "UIDL", NULL, 0, 0); break;
  case POP3_CMD_RSET: rc = pop3_send(p, POP3_CMD_RSET, "RSET", NULL, 0, 0); break;
  case POP3_CMD_NOOP: rc = pop3_send(p, POP3_CMD_NOOP, "NOOP", NULL, 0, 0); break;
  default: return MAIL_ERR_INTERNAL;
  }
  return rc ? rc : MAIL_ERR_AGAIN;
}

int pop3_quit_next(mail_pop3 *p)
{
  if (p->op.phase)
    return MAIL_OK;
  p->op.phase = 1;
  p->quit_sent_in_transaction = p->state == MAIL_POP3_STATE_TRANSACTION;
  int rc = pop3_send(p, POP3_CMD_QUIT, "QUIT", NULL, 0, 0);
  if (rc)
    return rc;
  if (p->quit_sent_in_transaction)
    pop3_set_state(p, MAIL_POP3_STATE_UPDATE);
  return MAIL_ERR_AGAIN;
}

static int add_uidl(mail_pop3 *p, const char *line, size_t len, uint32_t *msg_out)
{
  uint32_t msg;
  const char *uid;
  size_t ulen;
  if (mail_pop3_parse_uidl(&msg, &uid, &ulen, line, len))
    return MAIL_ERR_PROTOCOL;
  const mail_limits *lim = mail_conn_limits(p->conn);
  if (p->nuidl >= lim->max_items)
    return MAIL_ERR_LIMIT;
  pop3_uidl_entry e = {msg, p->uidl_text.len};
  int rc = mail_buf_append(&p->uidl_text, uid, ulen);
  if (!rc)
    rc = mail_buf_append_byte(&p->uidl_text, 0);
  if (!rc)
    rc = mail_buf_append(&p->uidl, &e, sizeof e);
  if (rc)
    return rc;
  p->nuidl++;
  if (msg_out)
    *msg_out = msg;
  return MAIL_OK;
}

int pop3_body_line(mail_pop3 *p, const mail_cmd *c, const char *line, size_t len)
{
  switch (c->kind) {
  case POP3_CMD_CAPA:
    return mail_pop3_caps_add_line(p->caps, line, len);
  case POP3_CMD_LIST: {
    pop3_list_entry e;
    if (mail_pop3_parse_list(&e.msg, &e.size, line, len))
      return MAIL_ERR_PROTOCOL;
    if (p->nlist >= mail_conn_limits(p->conn)->max_items)
      return MAIL_ERR_LIMIT;
    int rc = mail_buf_append(&p->list, &e, sizeof e);
    if (!rc)
      p->nlist++;
    return rc;
  }
  case POP3_CMD_UIDL:
    return add_uidl(p, line, len, NULL);
  default:
    return MAIL_ERR_INTERNAL;
  }
}

static int item_result(mail_pop3 *p, const mail_cmd *c, int rc)
{
  if (c->item < p->nresults)
    p->results[c->item] = rc;
  return MAIL_OK;
}

int pop3_transaction_reply(void *engine, const mail_cmd *c)
{
  mail_pop3 *p = engine;
  int ok = p->reply.status == MAIL_POP3_OK;
  size_t tlen;
  const char *text = mail_pop3_reply_text(&p->reply, &tlen);
  switch (c->kind) {
  case POP3_CMD_STAT: {
    if (!ok)
      return MAIL_ERR_SERVER;
    uint32_t count;
    uint64_t size;
    if (mail_pop3_parse_stat(&count, &size, text, tlen))
      return mail_conn_fail(p->conn, MAIL_ERR_PROTOCOL, "malformed STAT reply");
    if (p->out_count)
      *p->out_count = count;
    if (p->out_size)
      *p->out_size = size;
    return MAIL_OK;
  }
  case POP3_CMD_LIST:
  case POP3_CMD_UIDL:
  case POP3_CMD_RSET:
  case POP3_CMD_NOOP:
    if (!ok)
      return p->op.kind == POP3_OP_LEAVE && c->kind == POP3_CMD_UIDL ? MAIL_ERR_UNSUPPORTED : MAIL_ERR_SERVER;
    if (c->kind == POP3_CMD_RSET)
      p->deleted = 0;
    return MAIL_OK;
  case POP3_CMD_LIST_ONE: {
    if (!ok)
      return item_result(p, c, MAIL_ERR_SERVER);
    uint32_t msg;
    uint64_t size;
    if (mail_pop3_parse_list(&msg, &size, text, tlen) || msg != c->arg)
      return mail_conn_fail(p->conn, MAIL_ERR_PROTOCOL, "malformed LIST reply");
    if (p->out_size)
      *p->out_size = size;
    return item_result(p, c, MAIL_OK);
  }
  case POP3_CMD_UIDL_ONE: {
    if (!ok)
      return item_result(p, c, MAIL_ERR_SERVER);
    uint32_t msg;
    const char *uid;
    size_t ulen;
    if (mail_pop3_parse_uidl(&msg, &uid, &ulen, text, tlen) || msg != c->arg)
      return mail_conn_fail(p->conn, MAIL_ERR_PROTOCOL, "malformed UIDL reply");
    if (p->out_uid) {
      if (ulen + 1 > p->out_uid_cap)
        return item_result(p, c, MAIL_ERR_BUFFER);
      memcpy(p->out_uid, uid, ulen);
      p->out_uid[ulen] = '\0';
      return item_result(p, c, MAIL_OK);
    }
    int rc = add_uidl(p, text, tlen, NULL);
    if (rc)
      return rc;
    return item_result(p, c, MAIL_OK);
  }
  case POP3_CMD_RETR:
  case POP3_CMD_TOP:
    return item_result(p, c, ok ? MAIL_OK : MAIL_ERR_SERVER);
  case POP3_CMD_DELE:
    if (ok)
      p->deleted++;
    return item_result(p, c, ok ? MAIL_OK : MAIL_ERR_SERVER);
  case POP3_CMD_QUIT:
    p->committed = ok && p->quit_sent_in_transaction;
    return ok ? MAIL_OK : MAIL_ERR_SERVER;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

/* ------------------------------------------------------ public calls */

static int transaction_ready(mail_pop3 *p)
{
  return p->state == MAIL_POP3_STATE_TRANSACTION ? MAIL_OK : pop3_wrong_state(p, "TRANSACTION");
}

static int simple(mail_pop3 *p, int kind, int op)
{
  int rc = transaction_ready(p);
  if (rc)
    return rc;
  p->cmd_kind = kind;
  return pop3_run(p, op);
}

static int batch(mail_pop3 *p, int kind, const uint32_t *msgs, size_t n, mail_pop3_body_fn fn,
                 void *user, int op)
{
  int rc = transaction_ready(p);
  if (rc)
    return rc;
  if (!msgs && n)
    return mail_conn_fail(p->conn, MAIL_ERR_INVALID, "batch: no message numbers given for %zu", n);
  for (size_t i = 0; i < n; i++)
    if (msgs[i] == 0)
      return mail_conn_fail(p->conn, MAIL_ERR_INVALID,
                            "batch: message number 0 at position %zu (numbers start at 1)", i);
  rc = pop3_batch_begin(p, kind, msgs, n);
  if (rc)
    return rc;
  p->fn = fn;
  p->fn_user = user;
  return pop3_run(p, op);
}

int mail_pop3_stat(mail_pop3 *p, uint32_t *count, uint64_t *size)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_STAT, &rc))
    return rc;
  p->out_count = count;
  p->out_size = size;
  return simple(p, POP3_CMD_STAT, POP3_OP_STAT);
}

int mail_pop3_list(mail_pop3 *p)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_LIST, &rc))
    return rc;
  rc = transaction_ready(p);
  if (rc)
    return rc;
  mail_buf_clear(&p->list);
  p->nlist = 0;
  return simple(p, POP3_CMD_LIST, POP3_OP_LIST);
}

size_t mail_pop3_list_count(const mail_pop3 *p)
{
  return p ? p->nlist : 0;
}

int mail_pop3_list_at(const mail_pop3 *p, size_t i, uint32_t *msg, uint64_t *size)
{
  if (!p || i >= p->nlist)
    return MAIL_ERR_NOT_FOUND;
  pop3_list_entry e;
  memcpy(&e, p->list.data + i * sizeof e, sizeof e);
  if (msg)
    *msg = e.msg;
  if (size)
    *size = e.size;
  return MAIL_OK;
}

int mail_pop3_list_one(mail_pop3 *p, uint32_t msg, uint64_t *size)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_LIST_ONE, &rc))
    return rc;
  p->out_size = size;
  return batch(p, POP3_CMD_LIST_ONE, &msg, 1, NULL, NULL, POP3_OP_LIST_ONE);
}

static void uidl_reset(mail_pop3 *p)
{
  mail_buf_clear(&p->uidl);
  mail_buf_clear(&p->uidl_text);
  p->nuidl = 0;
  p->uidl_text.limit = SIZE_MAX; /* ids of at most 70 bytes, max_items of them */
}

int mail_pop3_uidl(mail_pop3 *p)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_UIDL, &rc))
    return rc;
  rc = transaction_ready(p);
  if (rc)
    return rc;
  uidl_reset(p);
  return simple(p, POP3_CMD_UIDL, POP3_OP_UIDL);
}

int mail_pop3_uidl_many(mail_pop3 *p, const uint32_t *msgs, size_t n)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_UIDL_MANY, &rc))
    return rc;
  rc = transaction_ready(p);
  if (rc)
    return rc;
  uidl_reset(p);
  return batch(p, POP3_CMD_UIDL_ONE, msgs, n, NULL, NULL, POP3_OP_UIDL_MANY);
}

size_t mail_pop3_uidl_count(const mail_pop3 *p)
{
  return p ? p->nuidl : 0;
}

int mail_pop3_uidl_at(const mail_pop3 *p, size_t i, uint32_t *msg, const char **uid)
{
  if (!p || i >= p->nuidl)
    return MAIL_ERR_NOT_FOUND;
  pop3_uidl_entry e;
  memcpy(&e, p->uidl.data + i * sizeof e, sizeof e);
  if (msg)
    *msg = e.msg;
  if (uid)
    *uid = (const char *)p->uidl_text.data + e.off;
  return MAIL_OK;
}

int mail_pop3_uidl_one(mail_pop3 *p, uint32_t msg, char *buf, size_t cap)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_UIDL_ONE, &rc))
    return rc;
  if (!buf || !cap)
    return mail_conn_fail(p->conn, MAIL_ERR_INVALID, "UIDL %u: no buffer for the UID", msg);
  p->out_uid = buf;
  p->out_uid_cap = cap;
  rc = batch(p, POP3_CMD_UIDL_ONE, &msg, 1, NULL, NULL, POP3_OP_UIDL_ONE);
  return rc == MAIL_OK && p->nresults ? p->results[0] : rc;
}

int mail_pop3_retr(mail_pop3 *p, uint32_t msg, mail_pop3_body_fn fn, void *user)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_RETR, &rc))
    return rc;
  return batch(p, POP3_CMD_RETR, &msg, 1, fn, user, POP3_OP_RETR);
}

int mail_pop3_retr_many(mail_pop3 *p, const uint32_t *msgs, size_t n, mail_pop3_body_fn fn,
                        void *user)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_RETR_MANY, &rc))
    return rc;
  return batch(p, POP3_CMD_RETR, msgs, n, fn, user, POP3_OP_RETR_MANY);
}

int mail_pop3_top(mail_pop3 *p, uint32_t msg, uint32_t lines, mail_pop3_body_fn fn, void *user)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_TOP, &rc))
    return rc;
  p->cmd_lines = lines;
  return batch(p, POP3_CMD_TOP, &msg, 1, fn, user, POP3_OP_TOP);
}

int mail_pop3_dele(mail_pop3 *p, uint32_t msg)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_DELE, &rc))
    return rc;
  return batch(p, POP3_CMD_DELE, &msg, 1, NULL, NULL, POP3_OP_DELE);
}

int mail_pop3_dele_many(mail_pop3 *p, const uint32_t *msgs, size_t n)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_DELE_MANY, &rc))
    return rc;
  return batch(p, POP3_CMD_DELE, msgs, n, NULL, NULL, POP3_OP_DELE_MANY);
}

int mail_pop3_rset(mail_pop3 *p)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_RSET, &rc))
    return rc;
  return simple(p, POP3_CMD_RSET, POP3_OP_RSET);
}

int mail_pop3_noop(mail_pop3 *p)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_NOOP, &rc))
    return rc;
  return simple(p, POP3_CMD_NOOP, POP3_OP_NOOP);
}

int mail_pop3_quit(mail_pop3 *p, int *committed)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_QUIT, &rc))
    return rc;
  if (committed)
    *committed = 0;
  if (p->state != MAIL_POP3_STATE_AUTHORIZATION && p->state != MAIL_POP3_STATE_TRANSACTION)
    return pop3_wrong_state(p, "AUTHORIZATION or TRANSACTION");
  p->committed = 0;
  p->committed_out = committed;
  return pop3_run(p, POP3_OP_QUIT);
}

size_t mail_pop3_deleted_count(const mail_pop3 *p)
{
  return p ? p->deleted : 0;
}

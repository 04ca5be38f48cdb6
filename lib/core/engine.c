/* The helpers every protocol engine is built on (see engine.h). */
#include "core/engine.h"

int mail_cmd_send(mail_conn *c, mail_cmdq *q, const mail_cmd *cmd, const mail_wire_part *parts,
                  size_t n)
{
  int rc = mail_cmdq_push(q, cmd);
  if (rc)
    return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INTERNAL : rc;
  uint64_t mark = mail_conn_out_mark(c);
  for (size_t i = 0; i < n && !rc; i++)
    rc = parts[i].secret ? mail_conn_send_secret(c, parts[i].data, parts[i].len)
                         : mail_conn_send(c, parts[i].data, parts[i].len);
  if (rc) {
    mail_conn_out_rollback(c, mark);
    mail_cmdq_remove_at(q, mail_cmdq_count(q) - 1, NULL);
  }
  return rc;
}

const mail_cmd_kind *mail_cmd_kind_of(const mail_cmd_kind *kinds, size_t nkinds,
                                      const mail_cmd *cmd)
{
  if (cmd->kind < 0 || (size_t)cmd->kind >= nkinds || !kinds[cmd->kind].on_reply)
    return NULL;
  return &kinds[cmd->kind];
}

static int dispatch(mail_conn *c, const mail_cmd_kind *kinds, size_t nkinds, void *engine,
                    const mail_cmd *cmd)
{
  const mail_cmd_kind *k = mail_cmd_kind_of(kinds, nkinds, cmd);
  if (!k)
    return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a reply to an unknown command kind %d",
                          cmd->kind);
  return k->on_reply(engine, cmd);
}

int mail_cmd_dispatch(mail_conn *c, mail_cmdq *q, const mail_cmd_kind *kinds, size_t nkinds,
                      void *engine)
{
  mail_cmd cmd;
  if (!mail_cmdq_pop(q, &cmd))
    return mail_conn_fail(c, MAIL_ERR_PROTOCOL, "a reply nothing asked for");
  return dispatch(c, kinds, nkinds, engine, &cmd);
}

int mail_cmd_dispatch_at(mail_conn *c, mail_cmdq *q, long i, const mail_cmd_kind *kinds,
                         size_t nkinds, void *engine)
{
  mail_cmd cmd;
  if (i < 0 || !mail_cmdq_remove_at(q, (size_t)i, &cmd))
    return mail_conn_fail(c, MAIL_ERR_PROTOCOL, "a reply to a tag nothing was sent with");
  return dispatch(c, kinds, nkinds, engine, &cmd);
}

int mail_op_begin(mail_op *op, int kind)
{
  if (op->kind == kind)
    return MAIL_OP_RESUMED;
  if (op->kind)
    return MAIL_ERR_STATE;
  op->kind = kind;
  op->phase = 0;
  op->done = 0;
  op->result = MAIL_OK;
  if (op->conn)
    mail_conn_busy(op->conn, MAIL_CONN_BUSY_SESSION, 1);
  return MAIL_OP_STARTED;
}

void mail_op_finish(mail_op *op, int rc)
{
  op->done = 1;
  op->result = rc;
}

void mail_op_end(mail_op *op)
{
  op->kind = 0;
  op->phase = 0;
  if (op->conn)
    mail_conn_busy(op->conn, MAIL_CONN_BUSY_SESSION, 0);
}

int mail_engine_abort(mail_conn *c, mail_cmdq *q, mail_op *op, int rc, const char *why)
{
  if (why)
    mail_conn_fail(c, rc, "%s", why);
  mail_conn_close(c);
  mail_cmdq_clear(q);
  mail_op_finish(op, rc);
  return rc;
}

const char *mail_tls_record_kind(const unsigned char *data, size_t n)
{
  /* A TLS record: content type, then the major version 3. */
  if (n < 2 || data[1] != 0x03)
    return NULL;
  if (data[0] == 0x16)
    return "TLS handshake bytes";
  if (data[0] == 0x15)
    return "a TLS alert";
  return NULL;
}

const char *mail_no_greeting_tls(mail_conn *c, const char *what, const char *scheme)
{
  if (scheme)
    mail_conn_fail(c, MAIL_ERR_PROTOCOL,
                   "no greeting: the server sent %s \xE2\x80\x94 is this an implicit-TLS port? use %s",
                   what, scheme);
  else
    mail_conn_fail(c, MAIL_ERR_PROTOCOL, "no greeting: the server sent %s", what);
  return NULL;
}

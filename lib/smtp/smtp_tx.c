/*
 * One mail transaction: the local checks, MAIL FROM / RCPT TO / DATA or
 * BDAT (all in one write with PIPELINING), the replies to them matched in
 * order, the body streamed with backpressure, and the per-recipient
 * results (one final reply for SMTP, one per accepted recipient for LMTP).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

/* ------------------------------------------------------------------ */
/* Transactions                                                         */
/* ------------------------------------------------------------------ */

int smtp_pipelined(const mail_smtp *s)
{
  return s->pipelining && smtp_has(s, SMTP_CAP_PIPELINING);
}

static int pipelined(const mail_smtp *s)
{
  return smtp_pipelined(s);
}

static const char *wire_addr(const smtp_tx *tx, size_t k)
{
  return (const char *)tx->wire.data + tx->wire_off[k];
}

smtp_tx *smtp_cur_tx(mail_smtp *s)
{
  return &s->tx[s->cur];
}

/* The transaction a reply belongs to. */
static smtp_tx *tx_of(mail_smtp *s, const mail_cmd *c)
{
  return c->ctx ? c->ctx : smtp_cur_tx(s);
}

/* A batch overlaps transactions; mail_smtp_send() runs one. */
static void tx_state(mail_smtp *s, smtp_tx *tx, int st)
{
  if (tx == smtp_cur_tx(s))
    smtp_state(s, st);
}

static int send_mail_from(mail_smtp *s, smtp_tx *tx)
{
  mail_smtp_envelope *e = tx->env;
  mail_buf *b = &s->line;
  mail_buf_clear(b);
  int rc = mail_buf_append_str(b, "MAIL FROM:<");
  if (!rc)
    rc = mail_buf_append_str(b, wire_addr(tx, 0));
  if (!rc)
    rc = mail_buf_append_byte(b, '>');
  if (!rc && tx->size != MAIL_SMTP_SIZE_UNKNOWN && smtp_has(s, SMTP_CAP_SIZE)) {
    /* By hand: this runs for every message, and printf costs more than the
     * rest of the command. */
    char num[32];
    size_t k = sizeof num;
    unsigned long long v = (unsigned long long)tx->size;
    do
      num[--k] = (char)('0' + v % 10);
    while (v /= 10);
    rc = mail_buf_append_str(b, " SIZE=");
    if (!rc)
      rc = mail_buf_append(b, num + k, sizeof num - k);
  }
  if (!rc && (e->needs & MAIL_SMTP_NEEDS_BINARY))
    rc = mail_buf_append_str(b, " BODY=BINARYMIME");
  else if (!rc && (e->needs & MAIL_SMTP_NEEDS_8BIT))
    rc = mail_buf_append_str(b, " BODY=8BITMIME");
  if (!rc && tx->utf8)
    rc = mail_buf_append_str(b, " SMTPUTF8");
  if (!rc && e->ret)
    rc = mail_buf_append_str(b, e->ret == MAIL_SMTP_RET_FULL ? " RET=FULL" : " RET=HDRS");
  if (!rc && e->envid) {
    rc = mail_buf_append_str(b, " ENVID=");
    if (!rc)
      rc = smtp_xtext_append(b, e->envid);
  }
  if (!rc && e->requiretls)
    rc = mail_buf_append_str(b, " REQUIRETLS");
  if (!rc)
    rc = mail_buf_append(b, "\r\n", 2);
  if (rc)
    return rc;
  mail_wire_part line = {b->data, b->len, 0};
  return smtp_send_tx(s, tx, SMTP_CMD_MAIL, 0, 0, &line, 1);
}

static int send_rcpt(mail_smtp *s, smtp_tx *tx, size_t i)
{
  const smtp_rcpt *r = &tx->env->rcpts[i];
  mail_buf *b = &s->line;
  mail_buf_clear(b);
  int rc = mail_buf_append_str(b, "RCPT TO:<");
  if (!rc)
    rc = mail_buf_append_str(b, wire_addr(tx, i + 1));
  if (!rc)
    rc = mail_buf_append_byte(b, '>');
  if (!rc && r->notify) {
    if (r->notify & MAIL_SMTP_NOTIFY_NEVER) {
      rc = mail_buf_append_str(b, " NOTIFY=NEVER");
    } else {
      const char *sep = " NOTIFY=";
      static const struct {
        unsigned bit;
        const char *name;
      } n[] = {{MAIL_SMTP_NOTIFY_SUCCESS, "SUCCESS"},
               {MAIL_SMTP_NOTIFY_FAILURE, "FAILURE"},
               {MAIL_SMTP_NOTIFY_DELAY, "DELAY"}};
      for (size_t k = 0; k < 3 && !rc; k++)
        if (r->notify & n[k].bit) {
          rc = mail_buf_appendf(b, "%s%s", sep, n[k].name);
          sep = ",";
        }
    }
  }
  if (!rc && r->orcpt) {
    rc = mail_buf_append_str(b, " ORCPT=rfc822;");
    if (!rc)
      rc = smtp_xtext_append(b, r->orcpt);
  }
  if (!rc)
    rc = mail_buf_append(b, "\r\n", 2);
  if (rc)
    return rc;
  mail_wire_part line = {b->data, b->len, 0};
  return smtp_send_tx(s, tx, SMTP_CMD_RCPT, i, 0, &line, 1);
}

static void start_body(mail_smtp *s, smtp_tx *tx)
{
  mail_dot_stuff_init(&tx->dot);
  smtp_state(s, SMTP_ST_BODY);
}

/* Queue the next commands: all of them up to issue_upto when pipelining,
 * else one at a time once the previous reply is in. */
int smtp_issue(mail_smtp *s, smtp_tx *tx)
{
  size_t n = tx->env->nrcpts;
  int pipe = pipelined(s);
  while (tx->next_cmd <= tx->issue_upto) {
    if (!pipe && mail_cmdq_count(&s->q) > 0)
      break;
    size_t k = tx->next_cmd++;
    int rc;
    if (k == 0) {
      rc = send_mail_from(s, tx);
    } else if (k <= n) {
      rc = send_rcpt(s, tx, k - 1);
    } else if (tx->chunking) {
      start_body(s, tx);
      return MAIL_OK;
    } else {
      mail_wire_part data = {"DATA\r\n", 6, 0};
      rc = smtp_send_tx(s, tx, SMTP_CMD_DATA, 0, 0, &data, 1);
    }
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

/* The first refusal of a transaction is what the caller is told (MAIL FROM
 * before RCPT TO before the data: replies arrive in that order); later
 * ones are counted. */
static void note_refusal(mail_smtp *s)
{
  if (!*mail_conn_last_error(s->conn))
    smtp_refused(s, MAIL_ERR_SERVER, NULL);
}

/* Keep the decisive reply (a clone, best effort) and what it answered. */
static void keep_decisive(mail_smtp *s, const mail_smtp_reply *r)
{
  if (!r || s->decisive)
    return;
  mail_smtp_reply_clone(&s->decisive, r, &s->alloc); /* best effort */
  memcpy(s->decisive_cmd, s->last_cmd, sizeof s->decisive_cmd);
}

/* The transaction's outcome rc in the session's error: the first refusal,
 * with what else the caller needs to read it right. */
static void describe_outcome(mail_smtp *s, const smtp_tx *tx, int rc)
{
  const mail_smtp_envelope *e = tx->env;
  size_t refused = tx->replies - tx->accepted;
  char first[512];
  snprintf(first, sizeof first, "%s", mail_conn_last_error(s->conn));
  if (!*first)
    return;
  if (rc == MAIL_ERR_RECIPIENTS && e->policy == MAIL_SMTP_POLICY_ALL && tx->accepted)
    mail_conn_fail(s->conn, rc, "%s (%zu of %zu recipients refused; policy ALL: nothing was sent)",
                   first, refused, e->nrcpts);
  else if (tx->mail_ok && refused > 1)
    mail_conn_fail(s->conn, rc, "%s (%zu of %zu recipients refused)", first, refused, e->nrcpts);
}

static size_t delivered(const mail_smtp_envelope *e)
{
  size_t d = 0;
  for (size_t i = 0; i < e->nrcpts; i++)
    d += e->rcpts[i].status == MAIL_OK;
  return d;
}

/* The transaction failed: RSET, then report. r (may be NULL) is the reply
 * that decided it: kept as the last reply, and the result of recipients
 * that were accepted but whose data was refused. */
static int fail_tx(mail_smtp *s, smtp_tx *tx, int rc, const mail_smtp_reply *r)
{
  tx->result = rc;
  keep_decisive(s, r);
  describe_outcome(s, tx, rc);
  if (r && tx->data_refused) {
    mail_smtp_envelope *e = tx->env;
    for (size_t i = 0; i < e->nrcpts; i++)
      if (e->rcpts[i].rcpt_ok && e->rcpts[i].status == MAIL_ERR_NOT_ATTEMPTED) {
        int q = smtp_envelope_record(e, i, r, MAIL_ERR_SERVER);
        if (q)
          return q;
      }
  }
  tx->next_cmd = tx->issue_upto + 1; /* issue nothing more */
  /* In a batch a transaction the final reply ended needs no RSET (RFC
   * 5321 4.1.1.4), and the next message's commands may be out already. */
  if (!tx->rset_sent &&
      !(s->batch && tx->mail_ok && tx->accepted && tx->body_done && !tx->data_refused)) {
    tx->rset_sent = 1;
    tx_state(s, tx, SMTP_ST_RSET);
    mail_wire_part rset = {"RSET\r\n", 6, 0};
    int q = smtp_send_tx(s, tx, SMTP_CMD_RSET, 1, 0, &rset, 1);
    if (q)
      return q;
  }
  if (s->batch)
    return smtp_batch_tx_done(s, tx, rc);
  smtp_finish(s, rc);
  return MAIL_OK;
}

static int refused_result(const smtp_tx *tx)
{
  if (!tx->mail_ok)
    return MAIL_ERR_SERVER;
  return tx->accepted == 0 ? MAIL_ERR_RECIPIENTS : MAIL_ERR_SERVER;
}

int smtp_on_mail(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  smtp_tx *tx = tx_of(s, c);
  tx->mail_ok = mail_smtp_reply_code(r) / 100 == 2;
  if (!tx->mail_ok)
    note_refusal(s);
  if (!tx->mail_ok && !pipelined(s))
    return fail_tx(s, tx, MAIL_ERR_SERVER, r);
  if (!tx->mail_ok)
    keep_decisive(s, r);
  return smtp_issue(s, tx);
}

static int all_rcpt_replies_in(mail_smtp *s, smtp_tx *tx, const mail_smtp_reply *r)
{
  mail_smtp_envelope *e = tx->env;
  if (e->policy == MAIL_SMTP_POLICY_ALL) {
    if (!tx->mail_ok)
      return fail_tx(s, tx, MAIL_ERR_SERVER, NULL);
    if (tx->accepted != e->nrcpts)
      return fail_tx(s, tx, MAIL_ERR_RECIPIENTS, r);
    tx->issue_upto = e->nrcpts + 1;
    return smtp_issue(s, tx);
  }
  if (!pipelined(s) && (!tx->mail_ok || tx->accepted == 0))
    return fail_tx(s, tx, refused_result(tx), NULL);
  int rc = smtp_issue(s, tx);
  if (!rc && s->batch && tx->body_done)
    rc = smtp_batch_data_queued(s, tx); /* BDAT: the envelope is in now */
  return rc;
}

int smtp_on_rcpt(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  size_t i = c->arg;
  smtp_tx *tx = tx_of(s, c);
  int ok = tx->mail_ok && mail_smtp_reply_code(r) / 100 == 2;
  if (!ok)
    note_refusal(s);
  /* Accepted at RCPT: not delivered until the reply after the data. */
  int rc = smtp_envelope_record(tx->env, i, r, ok ? MAIL_ERR_NOT_ATTEMPTED : MAIL_ERR_SERVER);
  if (rc)
    return rc;
  tx->env->rcpts[i].rcpt_ok = ok;
  tx->accepted += ok;
  if (++tx->replies == tx->env->nrcpts)
    return all_rcpt_replies_in(s, tx, r);
  return smtp_issue(s, tx);
}

static void wait_final(mail_smtp *s, smtp_tx *tx)
{
  mail_conn_set_wait_timeout(s->conn, s->final_ms);
  tx_state(s, tx, SMTP_ST_FINAL);
}

int smtp_on_data(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  smtp_tx *tx = tx_of(s, c);
  if (mail_smtp_reply_code(r) != 354) {
    note_refusal(s);
    tx->data_refused = 1;
    return fail_tx(s, tx, refused_result(tx), r);
  }
  if (!tx->mail_ok || tx->accepted == 0) {
    /* A server that takes DATA with no recipient: end the (empty) data
     * at once; nothing of the message is sent. */
    tx->data_refused = 1;
    tx->body_done = 1;
    wait_final(s, tx);
    mail_wire_part end = {".\r\n", 3, 0};
    return smtp_send_tx(s, tx, SMTP_CMD_FINAL, 0, 0, &end, 1);
  }
  start_body(s, tx);
  return MAIL_OK;
}

/* Index of the next recipient accepted at RCPT whose final reply is due. */
static size_t next_accepted(smtp_tx *tx)
{
  mail_smtp_envelope *e = tx->env;
  while (tx->final_next < e->nrcpts && !e->rcpts[tx->final_next].rcpt_ok)
    tx->final_next++;
  return tx->final_next;
}

static int complete_tx(mail_smtp *s, smtp_tx *tx, const mail_smtp_reply *r)
{
  smtp_command_timeout(s);
  size_t d = delivered(tx->env);
  if (d == 0)
    return fail_tx(s, tx, refused_result(tx), r);
  int rc = d == tx->env->nrcpts ? MAIL_OK : MAIL_ERR_PARTIAL;
  if (rc)
    describe_outcome(s, tx, rc);
  if (s->batch)
    return smtp_batch_tx_done(s, tx, rc);
  smtp_state(s, SMTP_ST_IDLE);
  smtp_finish(s, rc);
  return MAIL_OK;
}

/* A reply after the data: the final one (SMTP), or one recipient's (LMTP). */
int smtp_on_final(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  smtp_tx *tx = tx_of(s, c);
  mail_smtp_envelope *e = tx->env;
  int ok = mail_smtp_reply_code(r) / 100 == 2 && !tx->data_refused;
  if (mail_smtp_reply_code(r) / 100 != 2)
    note_refusal(s);
  if (tx->accepted == 0 || !tx->mail_ok)
    return complete_tx(s, tx, r);
  if (s->lmtp) {
    size_t i = next_accepted(tx);
    if (i < e->nrcpts) {
      int rc = smtp_envelope_record(e, i, r, ok ? MAIL_OK : MAIL_ERR_SERVER);
      if (rc)
        return rc;
      tx->final_next++;
    }
    if (next_accepted(tx) < e->nrcpts)
      return smtp_send_tx(s, tx, SMTP_CMD_FINAL, 0, 0, NULL, 0);
    return complete_tx(s, tx, r);
  }
  for (size_t i = 0; i < e->nrcpts; i++) {
    if (!e->rcpts[i].rcpt_ok)
      continue;
    int rc = smtp_envelope_record(e, i, r, ok ? MAIL_OK : MAIL_ERR_SERVER);
    if (rc)
      return rc;
  }
  return complete_tx(s, tx, r);
}

int smtp_on_bdat(void *engine, const mail_cmd *c)
{
  mail_smtp *s = engine;
  const mail_smtp_reply *r = s->last;
  if (c->flags & SMTP_BDAT_LAST)
    return smtp_on_final(s, c);
  smtp_tx *tx = tx_of(s, c);
  tx->bdat_pending--;
  if (mail_smtp_reply_code(r) / 100 != 2) {
    note_refusal(s);
    tx->data_refused = 1;
  }
  return s->batch && tx->body_done ? smtp_batch_data_queued(s, tx) : MAIL_OK;
}

/* The next step of the body in *data: the caller's memory itself for a
 * body in memory (borrowed for the send: no copy), else the chunk buffer
 * filled from the source (several reads when the source hands out small
 * pieces); with a declared size, never past it. tx->body_eof is set once
 * the source has no more. */
static int read_body(mail_smtp *s, smtp_tx *tx, const unsigned char **data, size_t *got)
{
  *got = 0;
  mail_smtp_envelope *e = tx->env;
  size_t want;
  if (tx->size != MAIL_SMTP_SIZE_UNKNOWN) {
    uint64_t left = tx->size - tx->produced;
    want = left < SMTP_CHUNK ? (size_t)left : SMTP_CHUNK;
  } else {
    want = !s->chunk_cap ? SMTP_CHUNK_MIN : tx->chunk_filled ? 2 * s->chunk_cap : s->chunk_cap;
  }
  int in_memory = e->body_kind == SMTP_BODY_DATA;
  int rc = in_memory ? MAIL_OK : smtp_body_room(s, want);
  if (rc)
    return rc;
  size_t cap = in_memory ? smtp_body_step(s, want) : s->chunk_cap;
  if (tx->size != MAIL_SMTP_SIZE_UNKNOWN && tx->chunking) {
    uint64_t left = tx->size - tx->produced;
    if (left < cap)
      cap = (size_t)left;
  }
  if (in_memory) {
    /* The steps and the end are where reading a copy would put them. */
    size_t left = e->data_len - tx->data_pos;
    *got = left < cap ? left : cap;
    *data = e->data + tx->data_pos;
    tx->data_pos += *got;
    tx->body_eof = *got < cap;
  }
  while (*got < cap && !tx->body_eof) {
    size_t k = 0;
    rc = smtp_body_read(tx, s->chunk + *got, cap - *got, &k);
    if (rc)
      return rc;
    if (k == 0)
      tx->body_eof = 1;
    *got += k;
  }
  if (!in_memory)
    *data = s->chunk;
  tx->chunk_filled = *got == cap;
  tx->produced += *got;
  if (s->progress && *got) {
    uint64_t total = tx->size == MAIL_SMTP_SIZE_UNKNOWN ? 0 : tx->size;
    if (s->progress(s->progress_user, tx->produced, total) != 0)
      return MAIL_ERR_CANCELLED;
  }
  return MAIL_OK;
}

/* One BDAT chunk. MAIL_OK when the LAST one is queued. */
static int produce_bdat(mail_smtp *s, smtp_tx *tx)
{
  const unsigned char *data;
  size_t got;
  int rc = read_body(s, tx, &data, &got);
  if (rc)
    return rc;
  int last = tx->body_eof;
  if (tx->size != MAIL_SMTP_SIZE_UNKNOWN) {
    if (tx->body_eof && tx->produced != tx->size)
      return MAIL_ERR_CALLBACK; /* shorter than declared */
    if (tx->produced == tx->size) {
      /* Declared size reached: the source must be at its end. */
      unsigned char probe;
      size_t extra = 0;
      if (!tx->body_eof && (smtp_body_read(tx, &probe, 1, &extra) || extra))
        return MAIL_ERR_CALLBACK;
      last = 1;
    }
  }
  char head[48];
  int hn = snprintf(head, sizeof head, last ? "BDAT %zu LAST\r\n" : "BDAT %zu\r\n", got);
  mail_wire_part parts[] = {{head, (size_t)hn, 0}, {data, got, 0}};
  rc = smtp_send_tx(s, tx, SMTP_CMD_BDAT, 0, last ? SMTP_BDAT_LAST : 0, parts, got ? 2 : 1);
  if (rc)
    return rc;
  if (last) {
    wait_final(s, tx);
    return MAIL_OK;
  }
  tx->bdat_pending++;
  return MAIL_ERR_AGAIN;
}

/* Some DATA body. MAIL_OK once the end-of-data marker is queued. */
static int produce_data(mail_smtp *s, smtp_tx *tx)
{
  const unsigned char *data;
  size_t got, olen;
  int rc = read_body(s, tx, &data, &got);
  if (rc)
    return rc;
  if (got && (rc = smtp_data_queue(s, tx, data, got)) != MAIL_OK)
    return rc;
  if (tx->body_eof) {
    unsigned char marker[5];
    rc = smtp_data_end(tx, s->strict, marker, &olen);
    if (rc)
      return rc;
    mail_wire_part end = {marker, olen, 0};
    rc = smtp_send_tx(s, tx, SMTP_CMD_FINAL, 0, 0, &end, 1);
    if (rc)
      return rc;
    wait_final(s, tx);
    return MAIL_OK;
  }
  return MAIL_ERR_AGAIN;
}

/* Stream the body while output room lasts. MAIL_OK: the body is queued;
 * MAIL_ERR_AGAIN: wait for the transport; 1: read replies first (BDAT
 * without PIPELINING). Errors end the connection: data cannot be taken back. */
int smtp_produce(mail_smtp *s)
{
  smtp_tx *tx = smtp_cur_tx(s);
  while (mail_conn_out_pending(s->conn) < smtp_high_water(s)) {
    if (tx->chunking && !pipelined(s) && mail_cmdq_count(&s->q) > 0)
      return 1;
    int rc = tx->chunking ? produce_bdat(s, tx) : produce_data(s, tx);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc == MAIL_OK) {
      tx->body_done = 1;
      if (!s->batch)
        smtp_body_buffers_free(s); /* all of it is in the output queue */
      else if ((rc = smtp_batch_data_queued(s, tx)) != MAIL_OK)
        return rc;
      return MAIL_OK;
    }
    if (rc == MAIL_ERR_NOMEM || rc == MAIL_ERR_TOO_BIG)
      return smtp_abort(s, rc, "cannot queue message data");
    if (rc == MAIL_ERR_CANCELLED)
      return smtp_abort(s, rc, "cancelled while sending message data");
    if (rc == MAIL_ERR_INVALID)
      return smtp_abort(s, rc, "bare CR or LF in the message data (strict mode)");
    return smtp_abort(s, MAIL_ERR_CALLBACK, "the message body source failed");
  }
  return MAIL_ERR_AGAIN;
}

/* Decide SMTPUTF8 and build the wire form of every address. */
int smtp_prepare_addresses(mail_smtp *s, smtp_tx *tx, mail_smtp_envelope *e)
{
  int smtputf8 = smtp_has(s, SMTP_CAP_SMTPUTF8);
  int need = (e->needs & MAIL_SMTP_NEEDS_SMTPUTF8) != 0 || e->smtputf8;
  int nonascii = e->from_eight != 0;
  for (size_t i = 0; i < e->nrcpts; i++) {
    need |= (e->rcpts[i].eight & SMTP_ADDR_8BIT_LOCAL) != 0;
    nonascii |= (e->rcpts[i].eight & SMTP_ADDR_8BIT_DOMAIN) != 0;
  }
  need |= (e->from_eight & SMTP_ADDR_8BIT_LOCAL) != 0;
  if (need && !smtputf8)
    return mail_conn_fail(s->conn, MAIL_ERR_NEEDS_SMTPUTF8,
                          "send: the message or an address needs SMTPUTF8, which the server does "
                          "not offer");
  tx->utf8 = smtputf8 && (need || nonascii);
  if (e->nrcpts + 1 > tx->wire_off_cap) {
    mail_dealloc(&s->alloc, tx->wire_off);
    tx->wire_off_cap = 0;
    tx->wire_off = mail_malloc(&s->alloc, (e->nrcpts + 1) * sizeof *tx->wire_off);
    if (!tx->wire_off)
      return MAIL_ERR_NOMEM;
    tx->wire_off_cap = e->nrcpts + 1;
  }
  mail_buf_clear(&tx->wire);
  for (size_t k = 0; k <= e->nrcpts; k++) {
    const char *a = k == 0 ? e->from : e->rcpts[k - 1].addr;
    unsigned eight = k == 0 ? e->from_eight : e->rcpts[k - 1].eight;
    tx->wire_off[k] = tx->wire.len;
    int rc = tx->utf8 || !(eight & SMTP_ADDR_8BIT_DOMAIN) ? mail_buf_append_str(&tx->wire, a)
                                                           : smtp_addr_append_alabel(&tx->wire, a);
    if (!rc)
      rc = mail_buf_append_byte(&tx->wire, 0);
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

/* Everything that can be refused without sending a byte. */
int smtp_check_send(mail_smtp *s, mail_smtp_envelope *e)
{
  if (!e->from || e->nrcpts == 0 || e->body_kind == SMTP_BODY_NONE)
    return mail_conn_fail(s->conn, MAIL_ERR_INVALID, "send: the envelope has no %s",
                          !e->from ? "sender" : e->nrcpts == 0 ? "recipient" : "body");
  if (e->size != MAIL_SMTP_SIZE_UNKNOWN && smtp_has(s, SMTP_CAP_SIZE)) {
    unsigned long long max = s->size_max;
    if (max > 0 && e->size > max)
      return mail_conn_fail(s->conn, MAIL_ERR_TOO_BIG,
                            "send: the message (%llu bytes) exceeds the server's SIZE %llu",
                            (unsigned long long)e->size, max);
  }
  if (e->needs & MAIL_SMTP_NEEDS_BINARY) {
    if (!smtp_has(s, SMTP_CAP_BINARYMIME) || !smtp_has(s, SMTP_CAP_CHUNKING) ||
        s->chunking_mode == MAIL_SMTP_CHUNKING_NEVER)
      return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED,
                            "send: binary body, and the server lacks BINARYMIME or CHUNKING");
  } else if ((e->needs & MAIL_SMTP_NEEDS_8BIT) && !smtp_has(s, SMTP_CAP_8BITMIME)) {
    return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED, "send: 8-bit body, and the server lacks 8BITMIME");
  }
  int dsn = e->ret || e->envid;
  for (size_t i = 0; i < e->nrcpts; i++)
    dsn |= e->rcpts[i].notify || e->rcpts[i].orcpt;
  if (dsn && !smtp_has(s, SMTP_CAP_DSN))
    return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED, "send: DSN options, and the server lacks DSN");
  if (e->requiretls && (!mail_conn_is_verified(s->conn) || !smtp_has(s, SMTP_CAP_REQUIRETLS)))
    return mail_conn_fail(s->conn, MAIL_ERR_REQUIRETLS,
                          "send: REQUIRETLS, and TLS is not verified or the server does not offer it");
  return MAIL_OK;
}

int smtp_tx_begin(mail_smtp *s, smtp_tx *tx, mail_smtp_envelope *e, int *sent)
{
  *sent = 0;
  int rc = smtp_check_send(s, e);
  if (rc)
    return rc;
  smtp_envelope_reset_results(e);
  mail_buf wire = tx->wire;
  size_t *off = tx->wire_off, off_cap = tx->wire_off_cap;
  memset(tx, 0, sizeof *tx);
  tx->wire = wire;
  tx->wire_off = off;
  tx->wire_off_cap = off_cap;
  tx->env = e;
  tx->size = e->size;
  rc = smtp_prepare_addresses(s, tx, e);
  if (rc)
    return rc;
#if MAIL_WITH_MIME
  if (e->body_kind == SMTP_BODY_MIME && e->sent_once && mail_mime_builder_rewind(e->mime) != MAIL_OK)
    return mail_conn_fail(s->conn, MAIL_ERR_CALLBACK, "send: the MIME message cannot be rewound");
#endif
  e->sent_once = 1;
  tx->chunking = smtp_has(s, SMTP_CAP_CHUNKING) &&
                 ((e->needs & MAIL_SMTP_NEEDS_BINARY) || s->chunking_mode == MAIL_SMTP_CHUNKING_PREFER);
  tx->issue_upto = e->nrcpts + (e->policy == MAIL_SMTP_POLICY_ANY ? 1 : 0);
  s->cur = (int)(tx - s->tx);
  smtp_state(s, SMTP_ST_ENVELOPE);
  *sent = 1;
  return smtp_issue(s, tx);
}

void smtp_tx_free(mail_smtp *s, smtp_tx *tx)
{
  mail_buf_free(&tx->wire);
  mail_dealloc(&s->alloc, tx->wire_off);
  tx->wire_off = NULL;
  tx->wire_off_cap = 0;
}

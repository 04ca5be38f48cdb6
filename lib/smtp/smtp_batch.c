/*
 * A batch: many messages on one session. Each message is a transaction of
 * smtp_tx.c in one of two slots; with PIPELINING the next message's
 * commands go out behind the previous one's end of data (RFC 2920 3.1),
 * so its envelope replies come with the previous final reply and a
 * message costs one round trip. Results are per message (and, in each
 * envelope, per recipient); one message's failure never reaches the next.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "smtp/smtp_internal.h"

/* ------------------------------------------------------------------ */
/* The batch object                                                     */
/* ------------------------------------------------------------------ */

int mail_smtp_batch_new(mail_smtp_batch **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp_batch *b = mail_calloc(&a, 1, sizeof *b);
  if (!b)
    return MAIL_ERR_NOMEM;
  b->alloc = a;
  *out = b;
  return MAIL_OK;
}

static void forget_results(mail_smtp_batch *b)
{
  for (size_t i = 0; i < b->n; i++) {
    smtp_batch_item *it = &b->items[i];
    mail_dealloc(&b->alloc, it->error);
    it->error = NULL;
    it->result = MAIL_ERR_NOT_ATTEMPTED;
    it->complete = 0;
    it->code = 0;
  }
  b->next = b->done = b->failed = b->reported = 0;
}

void mail_smtp_batch_free(mail_smtp_batch *b)
{
  if (!b)
    return;
  forget_results(b);
  mail_allocator a = b->alloc;
  mail_dealloc(&a, b->items);
  mail_dealloc(&a, b);
}

static int add_item(mail_smtp_batch *b, mail_smtp_envelope *env, void *mime, size_t *index)
{
  if (!b || !env)
    return MAIL_ERR_INVALID;
  if (b->running)
    return MAIL_ERR_STATE;
  if (b->n == b->cap) {
    if (b->cap >= SIZE_MAX / 64 / sizeof *b->items)
      return MAIL_ERR_LIMIT;
    size_t cap = b->cap ? 2 * b->cap : 16;
    smtp_batch_item *n = mail_realloc(&b->alloc, b->items, cap * sizeof *n);
    if (!n)
      return MAIL_ERR_NOMEM;
    b->items = n;
    b->cap = cap;
  }
  smtp_batch_item *it = &b->items[b->n];
  memset(it, 0, sizeof *it);
  it->env = env;
  it->mime = mime;
  it->result = MAIL_ERR_NOT_ATTEMPTED;
  if (index)
    *index = b->n;
  b->n++;
  return MAIL_OK;
}

int mail_smtp_batch_add(mail_smtp_batch *b, mail_smtp_envelope *env, size_t *index)
{
  return add_item(b, env, NULL, index);
}

int mail_smtp_batch_add_mime(mail_smtp_batch *b, mail_smtp_envelope *env,
                             struct mail_mime_builder *msg, size_t *index)
{
#if MAIL_WITH_MIME
  if (!msg)
    return MAIL_ERR_INVALID;
  return add_item(b, env, msg, index);
#else
  (void)b;
  (void)env;
  (void)msg;
  (void)index;
  return MAIL_ERR_UNSUPPORTED;
#endif
}

int mail_smtp_batch_set_callback(mail_smtp_batch *b, mail_smtp_batch_fn fn, void *user)
{
  if (!b)
    return MAIL_ERR_INVALID;
  if (b->running)
    return MAIL_ERR_STATE;
  b->fn = fn;
  b->user = fn ? user : NULL;
  return MAIL_OK;
}

size_t mail_smtp_batch_count(const mail_smtp_batch *b)
{
  return b ? b->n : 0;
}

int mail_smtp_batch_result(const mail_smtp_batch *b, size_t i)
{
  return b && i < b->n ? b->items[i].result : MAIL_ERR_NOT_FOUND;
}

int mail_smtp_batch_code(const mail_smtp_batch *b, size_t i)
{
  return b && i < b->n ? b->items[i].code : 0;
}

const char *mail_smtp_batch_error(const mail_smtp_batch *b, size_t i)
{
  return b && i < b->n && b->items[i].error ? b->items[i].error : "";
}

/* ------------------------------------------------------------------ */
/* Sending                                                              */
/* ------------------------------------------------------------------ */

/* Give the caller, in batch order, every result known. A message refused
 * locally can complete before the one ahead of it (still waiting for its
 * final reply): it waits here. Non-zero when the callback asks to stop. */
static int report(mail_smtp_batch *b)
{
  int stop = 0;
  while (b->reported < b->n && b->items[b->reported].complete) {
    smtp_batch_item *it = &b->items[b->reported];
    size_t i = b->reported++;
    if (b->fn && b->fn(b->user, i, it->env, it->result))
      stop = 1;
  }
  return stop;
}

/* Record message i's result (and what failed, from the session's error,
 * which is cleared for the next message) and report what can be.
 * Non-zero when the callback asks to stop. */
static int complete(mail_smtp *s, size_t i, int rc)
{
  mail_smtp_batch *b = s->batch;
  smtp_batch_item *it = &b->items[i];
  it->result = rc;
  it->complete = 1;
  b->done++;
  if (rc != MAIL_OK) {
    b->failed++;
    /* Recipients refused: the first refusal says why (not the DATA
     * reply that followed); else the reply that ended the transaction. */
    for (size_t k = 0; (rc == MAIL_ERR_PARTIAL || rc == MAIL_ERR_RECIPIENTS) && !it->code &&
                       k < it->env->nrcpts; k++)
      if (it->env->rcpts[k].status == MAIL_ERR_SERVER)
        it->code = it->env->rcpts[k].code;
    if (!it->code && s->decisive)
      it->code = mail_smtp_reply_code(s->decisive);
    const char *why = mail_conn_last_error(s->conn);
    if (*why)
      it->error = mail_strdup(&b->alloc, why); /* best effort: "" without memory */
  }
  mail_smtp_reply_free(s->decisive);
  s->decisive = NULL;
  mail_conn_clear_error(s->conn);
  return report(b);
}

static int any_live(const mail_smtp *s)
{
  return s->tx[0].live || s->tx[1].live;
}

int smtp_batch_tx_done(mail_smtp *s, smtp_tx *tx, int rc)
{
  tx->live = 0;
  if (!any_live(s) && s->state != SMTP_ST_RSET)
    smtp_state(s, SMTP_ST_IDLE);
  if (complete(s, tx->item, rc))
    return smtp_abort(s, MAIL_ERR_CANCELLED, "batch: cancelled by the callback");
  return smtp_batch_advance(s);
}

int smtp_batch_data_queued(mail_smtp *s, smtp_tx *tx)
{
  const mail_smtp_envelope *e = tx->env;
  if (tx->followed || !tx->live || !tx->body_done || tx->data_refused || s->lmtp ||
      !smtp_pipelined(s))
    return MAIL_OK;
  /* With BDAT the envelope replies may still be out: follow only a
   * transaction whose last open question is its final reply, so that a
   * refused one never needs an RSET behind the next message's commands. */
  if (tx->chunking && (tx->replies < e->nrcpts || !tx->mail_ok || tx->accepted == 0 ||
                       (e->policy == MAIL_SMTP_POLICY_ALL && tx->accepted != e->nrcpts) ||
                       tx->bdat_pending))
    return MAIL_OK;
  tx->followed = 1;
  return smtp_batch_advance(s);
}

static void describe_partial(mail_smtp *s)
{
  mail_smtp_batch *b = s->batch;
  for (size_t i = 0; i < b->n; i++)
    if (b->items[i].result != MAIL_OK) {
      mail_conn_fail(s->conn, MAIL_ERR_PARTIAL,
                     "batch: %zu of %zu messages not delivered to every recipient; message %zu: %s",
                     b->failed, b->n, i,
                     b->items[i].error ? b->items[i].error : mail_strerror(b->items[i].result));
      return;
    }
}

int smtp_batch_advance(mail_smtp *s)
{
  mail_smtp_batch *b = s->batch;
  while (b->next < b->n) {
    /* The message begun last is in s->cur; the next goes in the other
     * slot (one refused locally takes none). */
    const smtp_tx *prev = &s->tx[s->cur];
    smtp_tx *slot = &s->tx[s->cur ^ 1];
    if (slot->live || (prev->live && (!prev->followed || prev->env == b->items[b->next].env)))
      return MAIL_OK; /* (one envelope twice in a row: its results are not shared) */
    if (!smtp_pipelined(s) && mail_cmdq_count(&s->q) > 0)
      return MAIL_OK; /* the RSET's reply first */
    size_t i = b->next++;
    smtp_batch_item *it = &b->items[i];
    int rc = MAIL_OK, sent = 0;
#if MAIL_WITH_MIME
    if (it->mime)
      rc = smtp_use_mime(s, it->env, it->mime);
#endif
    if (!rc)
      rc = smtp_tx_begin(s, slot, it->env, &sent);
    if (rc && sent)
      return smtp_abort(s, rc == MAIL_ERR_NOMEM ? rc : MAIL_ERR_INTERNAL,
                        "batch: cannot queue a message's commands");
    if (rc) { /* refused locally: nothing was sent; on to the next */
      if (!*mail_conn_last_error(s->conn))
        mail_conn_fail(s->conn, rc, "send: %s", mail_strerror(rc));
      if (complete(s, i, rc))
        return smtp_abort(s, MAIL_ERR_CANCELLED, "batch: cancelled by the callback");
      if (!any_live(s))
        smtp_state(s, SMTP_ST_IDLE);
      continue;
    }
    slot->live = 1;
    slot->item = i;
  }
  if (b->done == b->n) {
    if (b->failed)
      describe_partial(s);
    smtp_finish(s, b->failed ? MAIL_ERR_PARTIAL : MAIL_OK);
  }
  return MAIL_OK;
}

int smtp_batch_start(mail_smtp *s, mail_smtp_batch *b)
{
  forget_results(b);
  for (size_t i = 0; i < b->n; i++)
    smtp_envelope_reset_results(b->items[i].env);
  b->running = 1;
  s->batch = b;
  s->tx[0].live = s->tx[1].live = 0;
  return smtp_batch_advance(s);
}

void smtp_batch_close(mail_smtp *s, int rc)
{
  mail_smtp_batch *b = s->batch;
  if (!b)
    return;
  if (b->done < b->n) {
    /* The session ended: a message whose data was out and whose final
     * reply was not in has the code that ended it; the rest were not
     * delivered and may be sent again. */
    char why[600];
    snprintf(why, sizeof why, "%s", mail_conn_last_error(s->conn));
    for (size_t i = 0; i < b->n; i++) {
      if (b->items[i].complete)
        continue;
      int r = MAIL_ERR_NOT_ATTEMPTED;
      for (int k = 0; k < 2; k++)
        if (s->tx[k].live && s->tx[k].item == i && s->tx[k].body_done)
          r = rc;
      smtp_batch_item *it = &b->items[i];
      it->result = r;
      it->complete = 1;
      b->done++;
      b->failed++;
      if (r != MAIL_ERR_NOT_ATTEMPTED && *why)
        it->error = mail_strdup(&b->alloc, why);
    }
    if (*why)
      mail_conn_fail(s->conn, rc, "%s", why);
  }
  report(b); /* the batch is over: a stop changes nothing */
  s->tx[0].live = s->tx[1].live = 0;
  mail_smtp_reply_free(s->decisive);
  s->decisive = NULL;
  smtp_body_buffers_free(s);
  b->running = 0;
  s->batch = NULL;
}

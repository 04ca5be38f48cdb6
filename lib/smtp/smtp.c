/*
 * The SMTP/LMTP session: settings, the public operations and the engine.
 *
 * The engine does no I/O. Each public operation queues its first
 * command(s), records them in the command queue and runs the connection's
 * driver (mail_conn_run) with advance() as the step: advance() parses
 * reply lines from the connection's reader, matches each complete reply to
 * the oldest command in the queue and lets that command's handler decide
 * what to send next. smtp_state() is the only place the protocol state
 * changes, so the trace names every transition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/mem.h"
#include "net/local_name.h"
#include "sasl/sasl_internal.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

#define DEFAULT_COMMAND_MS (5 * 60 * 1000)
#define DEFAULT_FINAL_MS (10 * 60 * 1000)
/* Body bytes read from the source at a time, and how much output may be
 * queued before the producer waits for the transport to drain. */
#define CHUNK 65536
#define HIGH_WATER (128 * 1024)
/* RFC 4954: an AUTH command line may be 12288 octets long. */
#define MAX_INITIAL_RESPONSE (12288 - 64)

static const char *const state_names[SMTP_ST_COUNT] = {
  "DISCONNECTED", "CONNECT", "GREETING", "EHLO", "HELO", "STARTTLS", "TLS", "AUTH",
  "IDLE", "ENVELOPE", "BODY", "FINAL", "RSET", "NOOP", "QUIT",
};

static const mail_sasl_profile smtp_sasl_profile = {
  .service = "smtp",
  .initial_response = 1,
  .max_initial_response = MAX_INITIAL_RESPONSE,
  .empty_response = "=",
  .abort_line = "*",
};

/* This is the ONLY place the protocol state changes. */
static void smtp_state(mail_smtp *s, int st)
{
  if (s->state == st)
    return;
  mail_conn_trace_info(s->conn, "%s state %s -> %s", s->lmtp ? "LMTP" : "SMTP",
                       state_names[s->state], state_names[st]);
  s->state = st;
}

/* ------------------------------------------------------------------ */
/* Construction and settings                                            */
/* ------------------------------------------------------------------ */

/* The default EHLO name: the host's name when it is fully qualified, else
 * the connection's local address as a literal (RFC 5321 4.1.4). No DNS
 * lookup: it could block an event loop. */
static const char *default_client_name(mail_smtp *s)
{
  char h[256];
  if (gethostname(h, sizeof h - 1) == 0) {
    h[sizeof h - 1] = '\0';
    size_t n = strlen(h);
    int ok = strchr(h, '.') != NULL && h[0] != '.' && h[n - 1] != '.';
    for (const char *p = h; *p && ok; p++)
      ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '-' || *p == '.';
    if (ok) {
      memcpy(s->default_name, h, n + 1);
      return s->default_name;
    }
  }
  if (mail_net_local_address_literal(mail_conn_fd(s->conn), s->default_name,
                                     sizeof s->default_name) == 0)
    return s->default_name;
  return "[127.0.0.1]";
}

int mail_smtp_new(mail_smtp **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp *s = mail_calloc(&a, 1, sizeof *s);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->alloc = a;
  int rc = mail_conn_new(&s->conn, &s->alloc);
  if (!rc)
    rc = mail_sasl_new(&s->sasl, &s->alloc);
  if (!rc)
    rc = mail_smtp_caps_new(&s->caps, &s->alloc);
  if (!rc)
    rc = mail_smtp_caps_new(&s->empty_caps, &s->alloc);
  if (!rc) {
    s->chunk = mail_malloc(&s->alloc, CHUNK);
    s->xform = mail_malloc(&s->alloc, 2 * CHUNK + 8);
    if (!s->chunk || !s->xform)
      rc = MAIL_ERR_NOMEM;
  }
  if (rc) {
    mail_smtp_free(s);
    return rc;
  }
  const mail_limits *lim = mail_conn_limits(s->conn);
  mail_cmdq_init(&s->q, &s->alloc, lim->max_items);
  mail_smtp_acc_init(&s->acc[0], &s->alloc, lim);
  mail_smtp_acc_init(&s->acc[1], &s->alloc, lim);
  mail_buf_init(&s->tx.wire, &s->alloc, 0);
  mail_buf_init(&s->line, &s->alloc, 0);
  s->security = MAIL_SECURITY_STARTTLS;
  s->pipelining = 1;
  s->command_ms = DEFAULT_COMMAND_MS;
  s->final_ms = DEFAULT_FINAL_MS;
  s->state = SMTP_ST_DISCONNECTED;
  *out = s;
  return MAIL_OK;
}

void mail_smtp_free(mail_smtp *s)
{
  if (!s)
    return;
  mail_conn_free(s->conn);
  mail_sasl_free(s->sasl);
  mail_smtp_caps_free(s->caps);
  mail_smtp_caps_free(s->empty_caps);
  mail_smtp_reply_free(s->decisive);
  mail_cmdq_free(&s->q);
  mail_smtp_acc_free(&s->acc[0]);
  mail_smtp_acc_free(&s->acc[1]);
  mail_buf_free(&s->tx.wire);
  mail_buf_free(&s->line);
  mail_dealloc(&s->alloc, s->tx.wire_off);
  mail_dealloc(&s->alloc, s->client_name);
  mail_dealloc(&s->alloc, s->chunk);
  mail_dealloc(&s->alloc, s->xform);
  mail_allocator a = s->alloc;
  mail_dealloc(&a, s);
}

mail_conn *mail_smtp_conn(mail_smtp *s)
{
  return s ? s->conn : NULL;
}

mail_sasl *mail_smtp_sasl(mail_smtp *s)
{
  return s ? s->sasl : NULL;
}

int mail_smtp_set_auth(mail_smtp *s, const char *user, const char *password)
{
  if (!s || !user)
    return MAIL_ERR_INVALID;
  int rc = mail_sasl_set_username(s->sasl, user);
  if (!rc && password)
    rc = mail_sasl_set_password(s->sasl, password);
  return rc;
}

int mail_smtp_set_security(mail_smtp *s, int security)
{
  if (!s || security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
    return MAIL_ERR_INVALID;
  s->security = security;
  return MAIL_OK;
}

int mail_smtp_set_client_name(mail_smtp *s, const char *name)
{
  if (!s || !name || !*name || strlen(name) > 255)
    return MAIL_ERR_INVALID;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return MAIL_ERR_INVALID;
  char *c = mail_strdup(&s->alloc, name);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&s->alloc, s->client_name);
  s->client_name = c;
  return MAIL_OK;
}

int mail_smtp_set_lmtp(mail_smtp *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op != OP_NONE || s->state != SMTP_ST_DISCONNECTED)
    return MAIL_ERR_STATE;
  s->lmtp = on != 0;
  return MAIL_OK;
}

int mail_smtp_set_strict(mail_smtp *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->strict = on != 0;
  return MAIL_OK;
}

int mail_smtp_set_pipelining(mail_smtp *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->pipelining = on != 0;
  return MAIL_OK;
}

int mail_smtp_set_chunking(mail_smtp *s, int mode)
{
  if (!s || mode < MAIL_SMTP_CHUNKING_WHEN_NEEDED || mode > MAIL_SMTP_CHUNKING_NEVER)
    return MAIL_ERR_INVALID;
  s->chunking_mode = mode;
  return MAIL_OK;
}

int mail_smtp_set_timeouts(mail_smtp *s, int command_ms, int final_ms)
{
  if (!s || command_ms < -1 || final_ms < -1)
    return MAIL_ERR_INVALID;
  if (command_ms)
    s->command_ms = command_ms;
  if (final_ms)
    s->final_ms = final_ms;
  return MAIL_OK;
}

void mail_smtp_set_progress(mail_smtp *s, mail_smtp_progress_fn fn, void *user)
{
  if (!s)
    return;
  s->progress = fn;
  s->progress_user = fn ? user : NULL;
}

void mail_smtp_cancel(mail_smtp *s)
{
  if (s && s->op != OP_NONE)
    s->cancelled = 1;
}

const mail_smtp_caps *mail_smtp_capabilities(const mail_smtp *s)
{
  if (!s)
    return NULL;
  return s->caps_valid ? s->caps : s->empty_caps;
}

int mail_smtp_has_extension(const mail_smtp *s, const char *keyword)
{
  return s && keyword && s->caps_valid && mail_smtp_caps_find(s->caps, keyword, NULL) == MAIL_OK;
}

const mail_smtp_reply *mail_smtp_last_reply(const mail_smtp *s)
{
  return s && s->have_last ? s->last : NULL;
}

const char *mail_smtp_state_name(const mail_smtp *s)
{
  return s ? state_names[s->state] : "";
}

/* ------------------------------------------------------------------ */
/* Engine helpers                                                       */
/* ------------------------------------------------------------------ */

static int has(const mail_smtp *s, const char *kw)
{
  return s->caps_valid && mail_smtp_caps_find(s->caps, kw, NULL) == MAIL_OK;
}

static int push(mail_smtp *s, int kind, size_t arg, unsigned flags)
{
  mail_cmd c = {.kind = kind, .flags = flags, .arg = arg};
  return mail_cmdq_push(&s->q, &c);
}

/* Queue one command line (text without CRLF) and its queue entry. */
static int command(mail_smtp *s, int kind, size_t arg, const char *text)
{
  int rc = mail_conn_sendf(s->conn, "%s\r\n", text);
  return rc ? rc : push(s, kind, arg, 0);
}

/* The operation is over once the queue is empty; rc is its result. */
static void finish(mail_smtp *s, int rc)
{
  s->op_done = 1;
  s->op_result = rc;
}

/* End the connection now (no QUIT): used when continuing would send
 * something it must not (STARTTLS failed) or cannot end cleanly (a body
 * source failed in the middle of DATA). */
static int abort_conn(mail_smtp *s, int rc, const char *why)
{
  mail_conn_fail(s->conn, rc, "%s", why);
  mail_conn_close(s->conn);
  mail_cmdq_clear(&s->q);
  smtp_state(s, SMTP_ST_DISCONNECTED);
  finish(s, rc);
  return rc;
}

static void set_enhanced(mail_smtp *s, int on)
{
  s->acc[0].enhanced = on;
  s->acc[1].enhanced = on;
}

static int send_hello(mail_smtp *s, int kind)
{
  const char *verb = kind == CMD_HELO ? "HELO" : (s->lmtp ? "LHLO" : "EHLO");
  smtp_state(s, kind == CMD_HELO ? SMTP_ST_HELO : SMTP_ST_EHLO);
  const char *name = s->client_name ? s->client_name : default_client_name(s);
  int rc = mail_conn_sendf(s->conn, "%s %s\r\n", verb, name);
  return rc ? rc : push(s, kind, 0, 0);
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
    if (has(s, "STARTTLS")) {
      smtp_state(s, SMTP_ST_STARTTLS);
      return command(s, CMD_STARTTLS, 0, "STARTTLS");
    }
    if (s->conn_security == MAIL_SECURITY_STARTTLS)
      return abort_conn(s, MAIL_ERR_STARTTLS, "the server does not offer STARTTLS");
    mail_conn_trace_info(s->conn, "no STARTTLS offered: continuing WITHOUT TLS (opportunistic)");
  }
  smtp_state(s, SMTP_ST_IDLE);
  finish(s, MAIL_OK);
  return MAIL_OK;
}

static int on_greeting(mail_smtp *s, const mail_smtp_reply *r)
{
  int code = mail_smtp_reply_code(r);
  if (code != 220)
    return abort_conn(s, MAIL_ERR_SERVER, "the server refused the session in its greeting");
  return send_hello(s, CMD_EHLO);
}

static int on_hello(mail_smtp *s, int kind, const mail_smtp_reply *r)
{
  int code = mail_smtp_reply_code(r);
  if (code / 100 == 2) {
    if (kind == CMD_EHLO) {
      int rc = mail_smtp_caps_parse_ehlo(s->caps, r);
      if (rc)
        return rc;
      s->caps_valid = 1;
      set_enhanced(s, has(s, "ENHANCEDSTATUSCODES"));
    } else {
      s->helo_mode = 1;
    }
    return after_hello(s);
  }
  int tls_required = s->conn_security == MAIL_SECURITY_STARTTLS && !mail_conn_is_tls(s->conn);
  if (kind == CMD_EHLO && !s->lmtp && !tls_required && (code == 500 || code == 502 || code == 554 ||
                                                        code == 504 || code == 550))
    return send_hello(s, CMD_HELO);
  if (tls_required)
    return abort_conn(s, MAIL_ERR_STARTTLS, "EHLO refused: STARTTLS cannot be negotiated");
  return abort_conn(s, MAIL_ERR_SERVER, "the server refused EHLO/HELO");
}

static int on_starttls(mail_smtp *s, const mail_smtp_reply *r)
{
  if (mail_smtp_reply_code(r) != 220) {
    if (s->conn_security == MAIL_SECURITY_STARTTLS)
      return abort_conn(s, MAIL_ERR_STARTTLS, "the server refused STARTTLS");
    mail_conn_trace_info(s->conn, "STARTTLS refused: continuing WITHOUT TLS (opportunistic)");
    smtp_state(s, SMTP_ST_IDLE);
    finish(s, MAIL_OK);
    return MAIL_OK;
  }
  /* Fails (and closes) when any byte is already buffered after the go-ahead. */
  int rc = mail_conn_start_tls(s->conn);
  if (rc) {
    smtp_state(s, SMTP_ST_DISCONNECTED);
    mail_cmdq_clear(&s->q);
    return rc;
  }
  /* Everything learned before TLS is forgotten; EHLO again once the
   * handshake is done (advance() sees need_ehlo). */
  s->caps_valid = 0;
  set_enhanced(s, 0);
  s->helo_mode = 0;
  s->need_ehlo = 1;
  smtp_state(s, SMTP_ST_TLS);
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* AUTH                                                                 */
/* ------------------------------------------------------------------ */

static int send_auth(mail_smtp *s, int rc, const mail_sasl_msg *m)
{
  int q;
  if (rc == MAIL_SASL_SEND_COMMAND) {
    q = mail_conn_sendf(s->conn, "AUTH %s", m->mech);
    if (!q && m->data) {
      q = mail_conn_send(s->conn, " ", 1);
      if (!q)
        q = mail_conn_send_secret(s->conn, m->data, m->len);
    }
  } else {
    q = mail_conn_send_secret(s->conn, m->data, m->len);
  }
  if (!q)
    q = mail_conn_send(s->conn, "\r\n", 2);
  return q ? q : push(s, CMD_AUTH, 0, 0);
}

static int on_auth(mail_smtp *s, const mail_smtp_reply *r)
{
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
    return send_auth(s, rc, &next);
  smtp_state(s, SMTP_ST_IDLE);
  if (rc == MAIL_ERR_SASL_SERVER)
    return abort_conn(s, rc, "the server failed SASL mutual authentication");
  if (rc == MAIL_ERR_SERVER && code == 535)
    rc = MAIL_ERR_AUTH;
  finish(s, rc);
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* Transactions                                                         */
/* ------------------------------------------------------------------ */

static int pipelined(const mail_smtp *s)
{
  return s->pipelining && has(s, "PIPELINING");
}

static const char *wire_addr(const mail_smtp *s, size_t k)
{
  return (const char *)s->tx.wire.data + s->tx.wire_off[k];
}

static int send_mail_from(mail_smtp *s)
{
  smtp_tx *tx = &s->tx;
  mail_smtp_envelope *e = tx->env;
  mail_buf *b = &s->line;
  mail_buf_clear(b);
  int rc = mail_buf_appendf(b, "MAIL FROM:<%s>", wire_addr(s, 0));
  if (!rc && tx->size != MAIL_SMTP_SIZE_UNKNOWN && has(s, "SIZE"))
    rc = mail_buf_appendf(b, " SIZE=%llu", (unsigned long long)tx->size);
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
      rc = mail_smtp_xtext_append(b, e->envid);
  }
  if (!rc && e->requiretls)
    rc = mail_buf_append_str(b, " REQUIRETLS");
  if (!rc)
    rc = mail_buf_append(b, "\r\n", 2);
  if (!rc)
    rc = mail_conn_send(s->conn, b->data, b->len);
  return rc ? rc : push(s, CMD_MAIL, 0, 0);
}

static int send_rcpt(mail_smtp *s, size_t i)
{
  const smtp_rcpt *r = &s->tx.env->rcpts[i];
  mail_buf *b = &s->line;
  mail_buf_clear(b);
  int rc = mail_buf_appendf(b, "RCPT TO:<%s>", wire_addr(s, i + 1));
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
      rc = mail_smtp_xtext_append(b, r->orcpt);
  }
  if (!rc)
    rc = mail_buf_append(b, "\r\n", 2);
  if (!rc)
    rc = mail_conn_send(s->conn, b->data, b->len);
  return rc ? rc : push(s, CMD_RCPT, i, 0);
}

static void start_body(mail_smtp *s)
{
  s->tx.at_line_start = 1;
  s->tx.pending_cr = 0;
  smtp_state(s, SMTP_ST_BODY);
}

/* Queue the next commands: all of them up to issue_upto when pipelining,
 * else one at a time once the previous reply is in. */
static int issue(mail_smtp *s)
{
  smtp_tx *tx = &s->tx;
  size_t n = tx->env->nrcpts;
  int pipe = pipelined(s);
  while (tx->next_cmd <= tx->issue_upto) {
    if (!pipe && mail_cmdq_count(&s->q) > 0)
      break;
    size_t k = tx->next_cmd++;
    int rc;
    if (k == 0) {
      rc = send_mail_from(s);
    } else if (k <= n) {
      rc = send_rcpt(s, k - 1);
    } else if (tx->chunking) {
      start_body(s);
      return MAIL_OK;
    } else {
      rc = command(s, CMD_DATA, 0, "DATA");
    }
    if (rc)
      return rc;
  }
  return MAIL_OK;
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
static int fail_tx(mail_smtp *s, int rc, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  tx->result = rc;
  if (r && !s->decisive)
    mail_smtp_reply_clone(r, &s->decisive, &s->alloc); /* best effort */
  if (r && tx->data_refused) {
    mail_smtp_envelope *e = tx->env;
    for (size_t i = 0; i < e->nrcpts; i++)
      if (e->rcpts[i].rcpt_ok && e->rcpts[i].status == MAIL_ERR_STATE) {
        int q = mail_smtp_envelope_record(e, i, r, MAIL_ERR_SERVER);
        if (q)
          return q;
      }
  }
  tx->next_cmd = tx->issue_upto + 1; /* issue nothing more */
  if (!tx->rset_sent) {
    tx->rset_sent = 1;
    smtp_state(s, SMTP_ST_RSET);
    int q = command(s, CMD_RSET, 1, "RSET");
    if (q)
      return q;
  }
  finish(s, rc);
  return MAIL_OK;
}

static int refused_result(const smtp_tx *tx)
{
  if (!tx->mail_ok)
    return MAIL_ERR_SERVER;
  return tx->accepted == 0 ? MAIL_ERR_RECIPIENTS : MAIL_ERR_SERVER;
}

static int on_mail(mail_smtp *s, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  tx->mail_ok = mail_smtp_reply_code(r) / 100 == 2;
  if (!tx->mail_ok && !pipelined(s))
    return fail_tx(s, MAIL_ERR_SERVER, r);
  if (!tx->mail_ok && !s->decisive)
    mail_smtp_reply_clone(r, &s->decisive, &s->alloc); /* best effort */
  return issue(s);
}

static int all_rcpt_replies_in(mail_smtp *s, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  mail_smtp_envelope *e = tx->env;
  if (e->policy == MAIL_SMTP_POLICY_ALL) {
    if (!tx->mail_ok)
      return fail_tx(s, MAIL_ERR_SERVER, NULL);
    if (tx->accepted != e->nrcpts)
      return fail_tx(s, MAIL_ERR_RECIPIENTS, r);
    tx->issue_upto = e->nrcpts + 1;
    return issue(s);
  }
  if (!pipelined(s) && (!tx->mail_ok || tx->accepted == 0))
    return fail_tx(s, refused_result(tx), NULL);
  return issue(s);
}

static int on_rcpt(mail_smtp *s, size_t i, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  int ok = tx->mail_ok && mail_smtp_reply_code(r) / 100 == 2;
  int rc = mail_smtp_envelope_record(tx->env, i, r, ok ? MAIL_ERR_STATE : MAIL_ERR_SERVER);
  if (rc)
    return rc;
  tx->env->rcpts[i].rcpt_ok = ok;
  tx->accepted += ok;
  if (++tx->replies == tx->env->nrcpts)
    return all_rcpt_replies_in(s, r);
  return issue(s);
}

static void wait_final(mail_smtp *s)
{
  mail_conn_set_wait_timeout(s->conn, s->final_ms);
  smtp_state(s, SMTP_ST_FINAL);
}

static int on_data(mail_smtp *s, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  if (mail_smtp_reply_code(r) != 354) {
    tx->data_refused = 1;
    return fail_tx(s, refused_result(tx), r);
  }
  if (!tx->mail_ok || tx->accepted == 0) {
    /* A server that takes DATA with no recipient: end the (empty) data
     * at once; nothing of the message is sent. */
    tx->data_refused = 1;
    wait_final(s);
    int rc = mail_conn_send(s->conn, ".\r\n", 3);
    return rc ? rc : push(s, CMD_FINAL, 0, 0);
  }
  start_body(s);
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

static int complete_tx(mail_smtp *s, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  mail_conn_set_wait_timeout(s->conn, s->command_ms);
  size_t d = delivered(tx->env);
  if (d == tx->env->nrcpts) {
    smtp_state(s, SMTP_ST_IDLE);
    finish(s, MAIL_OK);
    return MAIL_OK;
  }
  if (d > 0) {
    smtp_state(s, SMTP_ST_IDLE);
    finish(s, MAIL_ERR_PARTIAL);
    return MAIL_OK;
  }
  return fail_tx(s, refused_result(tx), r);
}

/* A reply after the data: the final one (SMTP), or one recipient's (LMTP). */
static int on_final(mail_smtp *s, const mail_smtp_reply *r)
{
  smtp_tx *tx = &s->tx;
  mail_smtp_envelope *e = tx->env;
  int ok = mail_smtp_reply_code(r) / 100 == 2 && !tx->data_refused;
  if (tx->accepted == 0 || !tx->mail_ok)
    return complete_tx(s, r);
  if (s->lmtp) {
    size_t i = next_accepted(tx);
    if (i < e->nrcpts) {
      int rc = mail_smtp_envelope_record(e, i, r, ok ? MAIL_OK : MAIL_ERR_SERVER);
      if (rc)
        return rc;
      tx->final_next++;
    }
    if (next_accepted(tx) < e->nrcpts)
      return push(s, CMD_FINAL, 0, 0);
    return complete_tx(s, r);
  }
  for (size_t i = 0; i < e->nrcpts; i++) {
    if (!e->rcpts[i].rcpt_ok)
      continue;
    int rc = mail_smtp_envelope_record(e, i, r, ok ? MAIL_OK : MAIL_ERR_SERVER);
    if (rc)
      return rc;
  }
  return complete_tx(s, r);
}

static int on_bdat(mail_smtp *s, const mail_cmd *c, const mail_smtp_reply *r)
{
  if (c->flags & BDAT_LAST)
    return on_final(s, r);
  if (mail_smtp_reply_code(r) / 100 != 2)
    s->tx.data_refused = 1;
  return MAIL_OK;
}

/* Fill the chunk buffer from the body source (several reads when the
 * source hands out small pieces); with a declared size, never past it.
 * tx->body_eof is set once the source said it has no more. */
static int read_body(mail_smtp *s, size_t *got)
{
  smtp_tx *tx = &s->tx;
  size_t cap = CHUNK;
  *got = 0;
  if (tx->size != MAIL_SMTP_SIZE_UNKNOWN && tx->chunking) {
    uint64_t left = tx->size - tx->produced;
    if (left < cap)
      cap = (size_t)left;
  }
  while (*got < cap && !tx->body_eof) {
    size_t k = 0;
    int rc = mail_smtp_body_read(tx, s->chunk + *got, cap - *got, &k);
    if (rc)
      return rc;
    if (k == 0)
      tx->body_eof = 1;
    *got += k;
  }
  tx->produced += *got;
  if (s->progress && *got) {
    uint64_t total = tx->size == MAIL_SMTP_SIZE_UNKNOWN ? 0 : tx->size;
    if (s->progress(s->progress_user, tx->produced, total) != 0)
      return MAIL_ERR_CANCELLED;
  }
  return MAIL_OK;
}

/* One BDAT chunk. MAIL_OK when the LAST one is queued. */
static int produce_bdat(mail_smtp *s)
{
  smtp_tx *tx = &s->tx;
  size_t got;
  int rc = read_body(s, &got);
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
      if (!tx->body_eof && (mail_smtp_body_read(tx, &probe, 1, &extra) || extra))
        return MAIL_ERR_CALLBACK;
      last = 1;
    }
  }
  rc = mail_conn_sendf(s->conn, last ? "BDAT %zu LAST\r\n" : "BDAT %zu\r\n", got);
  if (!rc && got)
    rc = mail_conn_send(s->conn, s->chunk, got);
  if (!rc)
    rc = push(s, CMD_BDAT, 0, last ? BDAT_LAST : 0);
  if (rc)
    return rc;
  if (last) {
    wait_final(s);
    return MAIL_OK;
  }
  return MAIL_ERR_AGAIN;
}

/* Some DATA body. MAIL_OK once the end-of-data marker is queued. */
static int produce_data(mail_smtp *s)
{
  smtp_tx *tx = &s->tx;
  size_t got, olen;
  int rc = read_body(s, &got);
  if (rc)
    return rc;
  if (got) {
    rc = mail_smtp_data_xform(tx, s->strict, s->chunk, got, s->xform, &olen);
    if (!rc)
      rc = mail_conn_send(s->conn, s->xform, olen);
    if (rc)
      return rc;
  }
  if (tx->body_eof) {
    rc = mail_smtp_data_end(tx, s->strict, s->xform, &olen);
    if (!rc)
      rc = mail_conn_send(s->conn, s->xform, olen);
    if (!rc)
      rc = push(s, CMD_FINAL, 0, 0);
    if (rc)
      return rc;
    wait_final(s);
    return MAIL_OK;
  }
  return MAIL_ERR_AGAIN;
}

/* Stream the body while output room lasts. MAIL_OK: the body is queued;
 * MAIL_ERR_AGAIN: wait for the transport; 1: read replies first (BDAT
 * without PIPELINING). Errors end the connection: data cannot be taken back. */
static int produce(mail_smtp *s)
{
  while (mail_conn_out_pending(s->conn) < HIGH_WATER) {
    if (s->tx.chunking && !pipelined(s) && mail_cmdq_count(&s->q) > 0)
      return 1;
    int rc = s->tx.chunking ? produce_bdat(s) : produce_data(s);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc == MAIL_OK)
      return MAIL_OK;
    if (rc == MAIL_ERR_NOMEM || rc == MAIL_ERR_TOO_BIG)
      return abort_conn(s, rc, "cannot queue message data");
    if (rc == MAIL_ERR_CANCELLED)
      return abort_conn(s, rc, "cancelled while sending message data");
    if (rc == MAIL_ERR_INVALID)
      return abort_conn(s, rc, "bare CR or LF in the message data (strict mode)");
    return abort_conn(s, MAIL_ERR_CALLBACK, "the message body source failed");
  }
  return MAIL_ERR_AGAIN;
}

/* ------------------------------------------------------------------ */
/* The step                                                             */
/* ------------------------------------------------------------------ */

static int dispatch(mail_smtp *s, const mail_cmd *c, const mail_smtp_reply *r)
{
  int code = mail_smtp_reply_code(r);
  if (c->kind == CMD_QUIT) { /* mail_smtp_quit() closes */
    finish(s, MAIL_OK);
    return MAIL_OK;
  }
  if (code == 421) {
    int rc = abort_conn(s, MAIL_ERR_SERVER_CLOSING, "the server is closing the session (421)");
    return rc;
  }
  switch (c->kind) {
  case CMD_GREETING:
    return on_greeting(s, r);
  case CMD_EHLO:
  case CMD_HELO:
    return on_hello(s, c->kind, r);
  case CMD_STARTTLS:
    return on_starttls(s, r);
  case CMD_AUTH:
    return on_auth(s, r);
  case CMD_MAIL:
    return on_mail(s, r);
  case CMD_RCPT:
    return on_rcpt(s, c->arg, r);
  case CMD_DATA:
    return on_data(s, r);
  case CMD_BDAT:
    return on_bdat(s, c, r);
  case CMD_FINAL:
    return on_final(s, r);
  case CMD_RSET:
    smtp_state(s, SMTP_ST_IDLE);
    if (c->arg) { /* the RSET after a failed transaction */
      if (s->decisive)
        s->last = s->decisive;
      finish(s, s->tx.result);
    }
    else
      finish(s, code / 100 == 2 ? MAIL_OK : MAIL_ERR_SERVER);
    return MAIL_OK;
  case CMD_NOOP:
    smtp_state(s, SMTP_ST_IDLE);
    finish(s, code / 100 == 2 ? MAIL_OK : MAIL_ERR_SERVER);
    return MAIL_OK;
  }
  return MAIL_ERR_INTERNAL;
}

static int advance(void *engine)
{
  mail_smtp *s = engine;
  mail_reader *rd = mail_conn_reader(s->conn);
  if (s->cancelled) {
    s->cancelled = 0;
    return abort_conn(s, MAIL_ERR_CANCELLED, "cancelled");
  }
  for (;;) {
    if (s->need_ehlo) {
      s->need_ehlo = 0;
      int rc = send_hello(s, CMD_EHLO);
      if (rc)
        return rc;
    }
    if (s->state == SMTP_ST_BODY) {
      int rc = produce(s);
      if (rc == MAIL_ERR_AGAIN || (rc < 0 && rc != MAIL_OK))
        return rc;
    }
    if (mail_cmdq_count(&s->q) == 0) {
      if (s->op_done)
        return s->op_result;
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
      if (head && head->kind == CMD_QUIT) { /* a close answers QUIT as well */
        mail_cmdq_clear(&s->q);
        return MAIL_OK;
      }
      smtp_state(s, SMTP_ST_DISCONNECTED);
      mail_cmdq_clear(&s->q);
      return mail_conn_fail(s->conn, MAIL_ERR_CLOSED, "the server closed the connection");
    }
    if (rc == MAIL_ERR_LIMIT)
      return mail_conn_fail(s->conn, MAIL_ERR_LIMIT, "a reply line is too long");
    if (rc)
      return rc;
    mail_smtp_acc *a = &s->acc[s->cur_acc];
    rc = mail_smtp_acc_line(a, line, len);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      mail_smtp_acc_reset(a);
      smtp_state(s, SMTP_ST_DISCONNECTED);
      mail_cmdq_clear(&s->q);
      if (rc == MAIL_ERR_PROTOCOL)
        return mail_conn_fail(s->conn, rc, "malformed reply from the server");
      return rc == MAIL_ERR_NOMEM ? MAIL_ERR_NOMEM : MAIL_ERR_LIMIT;
    }
    /* A complete reply: it stays intact as the last reply while the next
     * one collects in the other accumulator. */
    s->last = &a->reply;
    s->have_last = 1;
    s->cur_acc ^= 1;
    mail_cmd c;
    if (!mail_cmdq_pop(&s->q, &c)) {
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return mail_conn_fail(s->conn, MAIL_ERR_PROTOCOL, "a reply nothing asked for");
    }
    rc = dispatch(s, &c, s->last);
    if (rc)
      return rc;
  }
}

/* ------------------------------------------------------------------ */
/* Operations                                                           */
/* ------------------------------------------------------------------ */

/* Start op (or check that a resumed call continues it). 1: started now,
 * 0: resumed, <0: error. */
static int begin_op(mail_smtp *s, int op)
{
  if (s->op == op)
    return 0;
  if (s->op != OP_NONE)
    return MAIL_ERR_STATE;
  s->op = op;
  s->op_done = 0;
  s->op_result = MAIL_OK;
  s->cancelled = 0;
  if (s->decisive && s->last == s->decisive) {
    s->last = NULL;
    s->have_last = 0;
  }
  mail_smtp_reply_free(s->decisive);
  s->decisive = NULL;
  mail_conn_set_wait_timeout(s->conn, s->command_ms);
  return 1;
}

static int drive(mail_smtp *s)
{
  int rc = mail_conn_run(s->conn, advance, s);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  s->op = OP_NONE;
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(s->conn)) {
    mail_cmdq_clear(&s->q);
    smtp_state(s, SMTP_ST_DISCONNECTED);
  }
  return rc;
}

/* An operation that failed before talking to the server. */
static int op_error(mail_smtp *s, int rc)
{
  s->op = OP_NONE;
  return rc;
}

static void reset_session(mail_smtp *s)
{
  mail_cmdq_clear(&s->q);
  mail_smtp_acc_reset(&s->acc[0]);
  mail_smtp_acc_reset(&s->acc[1]);
  set_enhanced(s, 0);
  s->have_last = 0;
  s->last = NULL;
  s->need_ehlo = 0;
  s->helo_mode = 0;
  s->caps_valid = 0;
}

enum { TARGET_TCP, TARGET_UNIX };

static int connect_common(mail_smtp *s, int target, const char *host, unsigned port,
                          const char *path, int security)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, OP_CONNECT);
  if (st < 0)
    return st;
  if (st == 1) {
    if (security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
      return op_error(s, MAIL_ERR_INVALID);
    if (mail_conn_is_open(s->conn) && s->state != SMTP_ST_DISCONNECTED)
      return op_error(s, MAIL_ERR_STATE);
    reset_session(s);
    s->conn_security = target == TARGET_UNIX ? MAIL_SECURITY_NONE_INSECURE : security;
    s->connect_phase = 0;
    smtp_state(s, SMTP_ST_CONNECT);
  }
  if (s->connect_phase == 0) {
    int rc = target == TARGET_UNIX
               ? mail_conn_connect_unix(s->conn, path)
               : mail_conn_connect(s->conn, host, port,
                                   s->conn_security == MAIL_SECURITY_IMPLICIT_TLS);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc) {
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return op_error(s, rc);
    }
    s->connect_phase = 1;
    smtp_state(s, SMTP_ST_GREETING);
    rc = push(s, CMD_GREETING, 0, 0);
    if (rc) {
      mail_conn_close(s->conn);
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return op_error(s, rc);
    }
  }
  return drive(s);
}

int mail_smtp_connect(mail_smtp *s, const char *host, unsigned int port, int security)
{
  return connect_common(s, TARGET_TCP, host, port, NULL, security);
}

int mail_smtp_connect_unix(mail_smtp *s, const char *path)
{
  if (s && s->op == OP_NONE && !path)
    return MAIL_ERR_INVALID;
  return connect_common(s, TARGET_UNIX, NULL, 0, path, MAIL_SECURITY_NONE_INSECURE);
}

int mail_smtp_connect_url(mail_smtp *s, const char *url)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op == OP_CONNECT) /* resumed: the URL was taken apart already */
    return connect_common(s, TARGET_TCP, NULL, 0, NULL, s->conn_security);
  if (s->op != OP_NONE)
    return MAIL_ERR_STATE;
  mail_smtp_url u;
  int rc = mail_smtp_url_parse(url, &u);
  if (rc)
    return rc;
  if (s->state != SMTP_ST_DISCONNECTED && mail_conn_is_open(s->conn))
    return MAIL_ERR_STATE;
  s->lmtp = u.scheme == 2;
  if (u.path[0])
    return connect_common(s, TARGET_UNIX, NULL, 0, u.path, MAIL_SECURITY_NONE_INSECURE);
  int sec = u.scheme == 1 ? MAIL_SECURITY_IMPLICIT_TLS : s->security;
  return connect_common(s, TARGET_TCP, u.host, u.port, NULL, sec);
}

static int need_idle(mail_smtp *s)
{
  if (s->state != SMTP_ST_IDLE || !mail_conn_is_open(s->conn))
    return MAIL_ERR_STATE;
  return MAIL_OK;
}

int mail_smtp_auth(mail_smtp *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, OP_AUTH);
  if (st < 0)
    return st;
  if (st == 1) {
    int rc = need_idle(s);
    if (rc)
      return op_error(s, rc);
    size_t idx;
    if (!s->caps_valid || mail_smtp_caps_find(s->caps, "AUTH", &idx) != MAIL_OK)
      return op_error(s, MAIL_ERR_UNSUPPORTED);
    mail_buf *b = &s->line;
    mail_buf_clear(b);
    size_t np = mail_smtp_caps_param_count(s->caps, idx);
    for (size_t j = 0; j < np && !rc; j++)
      rc = mail_buf_appendf(b, "%s%s", j ? " " : "", mail_smtp_caps_param(s->caps, idx, j));
    if (!rc)
      rc = mail_buf_terminate(b);
    if (!rc)
      rc = mail_sasl_use_conn(s->sasl, s->conn);
    if (rc)
      return op_error(s, rc);
    mail_sasl_msg cmd;
    rc = mail_sasl_begin(s->sasl, &smtp_sasl_profile, (const char *)b->data, &cmd);
    if (rc < 0)
      return op_error(s, rc);
    smtp_state(s, SMTP_ST_AUTH);
    rc = send_auth(s, rc, &cmd);
    if (rc)
      return op_error(s, rc);
  }
  return drive(s);
}

static int simple_op(mail_smtp *s, int op, int kind, int state, const char *verb)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, op);
  if (st < 0)
    return st;
  if (st == 1) {
    int rc = need_idle(s);
    if (rc)
      return op_error(s, rc);
    smtp_state(s, state);
    rc = command(s, kind, 0, verb);
    if (rc)
      return op_error(s, rc);
  }
  return drive(s);
}

int mail_smtp_noop(mail_smtp *s)
{
  return simple_op(s, OP_NOOP, CMD_NOOP, SMTP_ST_NOOP, "NOOP");
}

int mail_smtp_rset(mail_smtp *s)
{
  return simple_op(s, OP_RSET, CMD_RSET, SMTP_ST_RSET, "RSET");
}

int mail_smtp_quit(mail_smtp *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op == OP_NONE && (!mail_conn_is_open(s->conn) || s->state == SMTP_ST_DISCONNECTED)) {
    mail_conn_close(s->conn);
    smtp_state(s, SMTP_ST_DISCONNECTED);
    return MAIL_OK;
  }
  if (s->op == OP_NONE && s->state != SMTP_ST_IDLE)
    return MAIL_ERR_STATE;
  int rc = simple_op(s, OP_QUIT, CMD_QUIT, SMTP_ST_QUIT, "QUIT");
  if (rc != MAIL_ERR_AGAIN) {
    mail_conn_close(s->conn);
    smtp_state(s, SMTP_ST_DISCONNECTED);
  }
  return rc;
}

/* Decide SMTPUTF8 and build the wire form of every address. */
static int prepare_addresses(mail_smtp *s, mail_smtp_envelope *e)
{
  smtp_tx *tx = &s->tx;
  int smtputf8 = has(s, "SMTPUTF8");
  int need = (e->needs & MAIL_SMTP_NEEDS_SMTPUTF8) != 0;
  int nonascii = mail_smtp_addr_local_utf8(e->from) || mail_smtp_addr_domain_utf8(e->from);
  for (size_t i = 0; i < e->nrcpts; i++) {
    need |= mail_smtp_addr_local_utf8(e->rcpts[i].addr);
    nonascii |= mail_smtp_addr_domain_utf8(e->rcpts[i].addr);
  }
  need |= mail_smtp_addr_local_utf8(e->from);
  if (need && !smtputf8)
    return MAIL_ERR_NEEDS_SMTPUTF8;
  tx->utf8 = smtputf8 && (need || nonascii);
  mail_dealloc(&s->alloc, tx->wire_off);
  tx->wire_off = mail_malloc(&s->alloc, (e->nrcpts + 1) * sizeof *tx->wire_off);
  if (!tx->wire_off)
    return MAIL_ERR_NOMEM;
  mail_buf_clear(&tx->wire);
  for (size_t k = 0; k <= e->nrcpts; k++) {
    const char *a = k == 0 ? e->from : e->rcpts[k - 1].addr;
    tx->wire_off[k] = tx->wire.len;
    int rc = tx->utf8 ? mail_buf_append_str(&tx->wire, a) : mail_smtp_addr_append_alabel(&tx->wire, a);
    if (!rc)
      rc = mail_buf_append_byte(&tx->wire, 0);
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

/* Everything that can be refused without sending a byte. */
static int check_send(mail_smtp *s, mail_smtp_envelope *e)
{
  if (!e->from || e->nrcpts == 0 || e->body_kind == BODY_NONE)
    return MAIL_ERR_INVALID;
  size_t idx;
  if (e->size != MAIL_SMTP_SIZE_UNKNOWN && s->caps_valid && mail_smtp_caps_find(s->caps, "SIZE", &idx) == MAIL_OK &&
      mail_smtp_caps_param_count(s->caps, idx) > 0) {
    unsigned long long max = strtoull(mail_smtp_caps_param(s->caps, idx, 0), NULL, 10);
    if (max > 0 && e->size > max)
      return mail_conn_fail(s->conn, MAIL_ERR_TOO_BIG,
                            "the message (%llu bytes) exceeds the server's SIZE %llu",
                            (unsigned long long)e->size, max);
  }
  if (e->needs & MAIL_SMTP_NEEDS_BINARY) {
    if (!has(s, "BINARYMIME") || !has(s, "CHUNKING") ||
        s->chunking_mode == MAIL_SMTP_CHUNKING_NEVER)
      return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED,
                            "binary body: the server lacks BINARYMIME or CHUNKING");
  } else if ((e->needs & MAIL_SMTP_NEEDS_8BIT) && !has(s, "8BITMIME")) {
    return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED, "8-bit body: the server lacks 8BITMIME");
  }
  int dsn = e->ret || e->envid;
  for (size_t i = 0; i < e->nrcpts; i++)
    dsn |= e->rcpts[i].notify || e->rcpts[i].orcpt;
  if (dsn && !has(s, "DSN"))
    return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED, "DSN options: the server lacks DSN");
  if (e->requiretls && (!mail_conn_is_verified(s->conn) || !has(s, "REQUIRETLS")))
    return mail_conn_fail(s->conn, MAIL_ERR_REQUIRETLS,
                          "REQUIRETLS: TLS is not verified or the server does not offer it");
  return MAIL_OK;
}

int mail_smtp_send(mail_smtp *s, mail_smtp_envelope *e)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, OP_SEND);
  if (st < 0)
    return st;
  if (st == 1) {
    if (!e)
      return op_error(s, MAIL_ERR_INVALID);
    int rc = need_idle(s);
    if (!rc)
      rc = check_send(s, e);
    if (rc)
      return op_error(s, rc);
    mail_smtp_envelope_reset_results(e);
    smtp_tx *tx = &s->tx;
    mail_buf wire = tx->wire;
    size_t *off = tx->wire_off;
    memset(tx, 0, sizeof *tx);
    tx->wire = wire;
    tx->wire_off = off;
    tx->env = e;
    tx->size = e->size;
    rc = prepare_addresses(s, e);
    if (rc)
      return op_error(s, rc);
#if MAIL_WITH_MIME
    if (e->body_kind == BODY_MIME && e->sent_once && mail_mime_builder_rewind(e->mime) != MAIL_OK)
      return op_error(s, MAIL_ERR_CALLBACK);
#endif
    e->sent_once = 1;
    tx->chunking = has(s, "CHUNKING") &&
                   ((e->needs & MAIL_SMTP_NEEDS_BINARY) ||
                    s->chunking_mode == MAIL_SMTP_CHUNKING_PREFER);
    tx->issue_upto = e->nrcpts + (e->policy == MAIL_SMTP_POLICY_ANY ? 1 : 0);
    smtp_state(s, SMTP_ST_ENVELOPE);
    rc = issue(s);
    if (rc) {
      mail_conn_close(s->conn);
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return op_error(s, rc);
    }
  }
  return drive(s);
}

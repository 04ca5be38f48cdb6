/*
 * The SMTP/LMTP session: construction, settings and the public operations.
 *
 * Each operation checks what it can locally, queues its first command(s)
 * and runs the connection's driver (mail_conn_run) with smtp_advance()
 * (smtp_engine.c) as the step, until the operation is over or, in
 * event-loop mode, until it would wait (MAIL_ERR_AGAIN: the caller calls
 * the same function again).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "sasl/sasl_internal.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

#define DEFAULT_FINAL_MS (10 * 60 * 1000)
/* RFC 4954: an AUTH command line may be 12288 octets long. */
#define MAX_INITIAL_RESPONSE (12288 - 64)

static const mail_sasl_profile smtp_sasl_profile = {
  .service = "smtp",
  .initial_response = 1,
  .max_initial_response = MAX_INITIAL_RESPONSE,
  .empty_response = "=",
  .abort_line = "*",
};

/* ------------------------------------------------------------------ */
/* Construction and settings                                            */
/* ------------------------------------------------------------------ */

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
  s->op.conn = s->conn;
  if (!rc)
    rc = mail_sasl_new(&s->sasl, &s->alloc);
  if (!rc)
    rc = mail_smtp_caps_new(&s->caps, &s->alloc);
  if (!rc)
    rc = mail_smtp_caps_new(&s->empty_caps, &s->alloc);
  if (rc) { /* the body buffers come with each body (smtp_body.c) */
    mail_smtp_free(s);
    return rc;
  }
  const mail_limits *lim = mail_conn_limits(s->conn);
  mail_cmdq_init(&s->q, &s->alloc, lim->max_items);
  mail_smtp_acc_init(&s->acc[0], &s->alloc, lim); /* read at every line */
  mail_smtp_acc_init(&s->acc[1], &s->alloc, lim);
  mail_smtp_caps_set_limits(s->caps, lim);
  mail_buf_init(&s->tx[0].wire, &s->alloc, 0);
  mail_buf_init(&s->tx[1].wire, &s->alloc, 0);
  mail_buf_init(&s->line, &s->alloc, 0);
  mail_buf_init(&s->greeting, &s->alloc, lim->max_response);
  s->security = MAIL_SECURITY_STARTTLS;
  s->pipelining = 1;
  s->command_ms = SMTP_TIMEOUT_CONN; /* the connection's MAIL_TIMEOUT_IO */
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
  smtp_tx_free(s, &s->tx[0]);
  smtp_tx_free(s, &s->tx[1]);
  mail_buf_free(&s->line);
  mail_buf_free(&s->greeting);
  mail_dealloc(&s->alloc, s->client_name);
  smtp_body_buffers_free(s);
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
  /* The rule of every module's set_auth (POP3, NNTP): no line break in a
   * credential, even one that SMTP would only send base64-encoded, so a
   * password that one protocol refuses is not quietly taken by another. */
  if (password && mail_has_crlfnul(password, strlen(password)))
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
  if (s->op.kind != SMTP_OP_NONE || s->state != SMTP_ST_DISCONNECTED)
    return MAIL_ERR_STATE;
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
  if (s->op.kind != SMTP_OP_NONE || s->state != SMTP_ST_DISCONNECTED)
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
  /* -1 (no limit) becomes a wait the driver can express: 24 days. */
  if (command_ms)
    s->command_ms = command_ms == -1 ? INT_MAX : command_ms;
  if (final_ms)
    s->final_ms = final_ms == -1 ? INT_MAX : final_ms;
  return MAIL_OK;
}

int mail_smtp_set_progress(mail_smtp *s, mail_smtp_progress_fn fn, void *user)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->progress = fn;
  s->progress_user = fn ? user : NULL;
  return MAIL_OK;
}

void mail_smtp_cancel(mail_smtp *s)
{
  if (s && s->op.kind != SMTP_OP_NONE)
    s->cancelled = 1;
}

const mail_smtp_caps *mail_smtp_capabilities(const mail_smtp *s)
{
  if (!s)
    return NULL;
  return s->caps_valid ? s->caps : s->empty_caps;
}

int mail_smtp_has_capability(const mail_smtp *s, const char *keyword)
{
  return s && keyword && s->caps_valid && mail_smtp_caps_find(s->caps, keyword, NULL) == MAIL_OK;
}

const mail_smtp_reply *mail_smtp_last_reply(const mail_smtp *s)
{
  return s && s->have_last ? s->last : NULL;
}

const char *mail_smtp_last_reply_command(const mail_smtp *s)
{
  return s && s->have_last ? s->last_cmd : NULL;
}

const char *mail_smtp_greeting(const mail_smtp *s)
{
  return s && s->greeting.len ? (const char *)s->greeting.data : NULL;
}

const char *mail_smtp_state_name(const mail_smtp *s)
{
  return s ? smtp_state_label(s->state) : "";
}

/* ------------------------------------------------------------------ */
/* Operations                                                           */
/* ------------------------------------------------------------------ */

/* Start op (or check that a resumed call continues it). 1: started now,
 * 0: resumed, <0: error. */
static int begin_op(mail_smtp *s, int op)
{
  int st = mail_op_begin(&s->op, op);
  if (st != MAIL_OP_STARTED)
    return st;
  s->cancelled = 0;
  /* What the server said and what failed belong to the operation that
   * caused them: a local refusal now must not show an old reply. */
  s->last = NULL;
  s->have_last = 0;
  mail_conn_clear_error(s->conn);
  mail_smtp_reply_free(s->decisive);
  s->decisive = NULL;
  smtp_command_timeout(s);
  return 1;
}

static const char *const op_names[] = {
  [SMTP_OP_NONE] = "", [SMTP_OP_CONNECT] = "connect", [SMTP_OP_AUTH] = "AUTH",
  [SMTP_OP_SEND] = "send", [SMTP_OP_RSET] = "RSET", [SMTP_OP_NOOP] = "NOOP",
  [SMTP_OP_QUIT] = "QUIT", [SMTP_OP_BATCH] = "batch",
};

/* A timeout says what it waited for: the greeting (where a plain-text
 * client on an implicit-TLS port waits forever), or a command's reply. */
static void name_timeout(mail_smtp *s)
{
  char was[512];
  const char *why = mail_conn_last_error(s->conn);
  if (!*why || !strcmp(why, mail_strerror(MAIL_ERR_TIMEOUT))) /* a transport's own timeout */
    why = "timed out waiting for the server";
  snprintf(was, sizeof was, "%s", why);
  const mail_cmd *head = mail_cmdq_head(&s->q);
  if (s->state == SMTP_ST_GREETING)
    mail_conn_fail(s->conn, MAIL_ERR_TIMEOUT,
                   "no greeting: %s%s", was,
                   s->lmtp ? "" : " \xE2\x80\x94 if this is an implicit-TLS port, use smtps://");
  else if (head) {
    char cmd[600];
    smtp_cmd_text(s, head, cmd, sizeof cmd);
    mail_conn_fail(s->conn, MAIL_ERR_TIMEOUT, "%s: %s", cmd, was);
  }
}

/* A call while another operation is in progress. */
static int busy(mail_smtp *s, int rc)
{
  mail_conn_fail(s->conn, rc, "another operation (%s) is in progress", op_names[s->op.kind]);
  return rc;
}

static int drive(mail_smtp *s)
{
  int rc = mail_conn_run(s->conn, smtp_advance, s);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  if (rc == MAIL_ERR_TIMEOUT)
    name_timeout(s);
  else if (rc == MAIL_OK)
    mail_conn_clear_error(s->conn);
  else if (!*mail_conn_last_error(s->conn))
    mail_conn_fail(s->conn, rc, "%s: %s", op_names[s->op.kind], mail_strerror(rc));
  if (s->batch)
    smtp_batch_close(s, rc);
  mail_op_end(&s->op);
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(s->conn)) {
    mail_cmdq_clear(&s->q);
    smtp_state(s, SMTP_ST_DISCONNECTED);
  }
  return rc;
}

/* An operation that failed before talking to the server (a more precise
 * description may have been recorded already). */
static int op_error(mail_smtp *s, int rc)
{
  if (!*mail_conn_last_error(s->conn))
    mail_conn_fail(s->conn, rc, "%s: %s", op_names[s->op.kind], mail_strerror(rc));
  mail_op_end(&s->op);
  return rc;
}

static void reset_session(mail_smtp *s)
{
  mail_cmdq_clear(&s->q);
  mail_smtp_acc_reset(&s->acc[0]);
  mail_smtp_acc_reset(&s->acc[1]);
  smtp_set_enhanced(s, 0);
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
  int st = begin_op(s, SMTP_OP_CONNECT);
  if (st < 0)
    return busy(s, st);
  if (st == 1) {
    if (security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
      return op_error(s, MAIL_ERR_INVALID);
    if (mail_conn_is_open(s->conn) && s->state != SMTP_ST_DISCONNECTED)
      return op_error(s, MAIL_ERR_STATE);
    reset_session(s);
    s->conn_security = target == TARGET_UNIX ? MAIL_SECURITY_NONE_INSECURE : security;
    smtp_state(s, SMTP_ST_CONNECT);
  }
  if (s->op.phase == SMTP_CONNECT_TRANSPORT) {
    int implicit = s->conn_security == MAIL_SECURITY_IMPLICIT_TLS;
    if (port == 0) /* the default port, as in every session module */
      port = implicit ? 465 : s->lmtp ? 24 : 25;
    int rc = target == TARGET_UNIX ? mail_conn_connect_unix(s->conn, path)
                                   : mail_conn_connect(s->conn, host, port, implicit);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc) {
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return op_error(s, rc);
    }
    s->op.phase = SMTP_CONNECT_PROTOCOL;
    smtp_state(s, SMTP_ST_GREETING);
    rc = smtp_push(s, SMTP_CMD_GREETING, 0, 0);
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
  if (s && s->op.kind == SMTP_OP_NONE && !path)
    return MAIL_ERR_INVALID;
  return connect_common(s, TARGET_UNIX, NULL, 0, path, MAIL_SECURITY_NONE_INSECURE);
}

int mail_smtp_connect_url(mail_smtp *s, const char *url)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op.kind == SMTP_OP_CONNECT) /* resumed: the URL was taken apart already */
    return connect_common(s, TARGET_TCP, NULL, 0, NULL, s->conn_security);
  if (s->op.kind != SMTP_OP_NONE)
    return MAIL_ERR_STATE;
  smtp_url u;
  int rc = smtp_url_parse(url, &u);
  if (rc)
    return rc;
  if (s->state != SMTP_ST_DISCONNECTED && mail_conn_is_open(s->conn))
    return MAIL_ERR_STATE;
  s->lmtp = (u.flags & SMTP_URL_LMTP) != 0;
  if (u.path[0])
    return connect_common(s, TARGET_UNIX, NULL, 0, u.path, MAIL_SECURITY_NONE_INSECURE);
  int sec = (u.flags & MAIL_URL_IMPLICIT_TLS) ? MAIL_SECURITY_IMPLICIT_TLS : s->security;
  return connect_common(s, TARGET_TCP, u.host, u.port, NULL, sec);
}

static int need_idle(mail_smtp *s)
{
  if (!mail_conn_is_open(s->conn) || s->state == SMTP_ST_DISCONNECTED)
    return mail_conn_fail(s->conn, MAIL_ERR_STATE, "%s: not connected", op_names[s->op.kind]);
  if (s->state != SMTP_ST_IDLE)
    return mail_conn_fail(s->conn, MAIL_ERR_STATE, "%s: the session is in state %s, not IDLE",
                          op_names[s->op.kind], smtp_state_label(s->state));
  if (mail_reader_pending(mail_conn_reader(s->conn)) == 0)
    return MAIL_OK;
  /* The server spoke while nothing was asked: a 421 (idle timeout,
   * shutdown) ends the session with that reply; anything else would be
   * taken for the answer to our next command, so it is a protocol error. */
  int rc = smtp_push(s, SMTP_CMD_UNSOLICITED, 0, 0);
  if (!rc)
    rc = smtp_advance(s);
  if (rc == MAIL_OK || rc == MAIL_ERR_AGAIN)
    rc = MAIL_ERR_PROTOCOL;
  if (rc != MAIL_ERR_SERVER_CLOSING)
    smtp_abort(s, rc, "the server sent a reply nothing asked for");
  return rc;
}

int mail_smtp_auth(mail_smtp *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, SMTP_OP_AUTH);
  if (st < 0)
    return busy(s, st);
  if (st == 1) {
    int rc = need_idle(s);
    if (rc)
      return op_error(s, rc);
    size_t idx;
    if (!s->caps_valid || mail_smtp_caps_find(s->caps, "AUTH", &idx) != MAIL_OK)
      return op_error(s, mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED,
                                        "AUTH: the server offers no authentication"));
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
    rc = smtp_send_auth(s, rc, &cmd);
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
    return busy(s, st);
  if (st == 1) {
    int rc = need_idle(s);
    if (rc)
      return op_error(s, rc);
    smtp_state(s, state);
    rc = smtp_command(s, kind, 0, verb);
    if (rc)
      return op_error(s, rc);
  }
  return drive(s);
}

int mail_smtp_noop(mail_smtp *s)
{
  return simple_op(s, SMTP_OP_NOOP, SMTP_CMD_NOOP, SMTP_ST_NOOP, "NOOP");
}

int mail_smtp_rset(mail_smtp *s)
{
  return simple_op(s, SMTP_OP_RSET, SMTP_CMD_RSET, SMTP_ST_RSET, "RSET");
}

int mail_smtp_quit(mail_smtp *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op.kind == SMTP_OP_NONE && (!mail_conn_is_open(s->conn) || s->state == SMTP_ST_DISCONNECTED)) {
    mail_conn_close(s->conn);
    smtp_state(s, SMTP_ST_DISCONNECTED);
    return MAIL_OK;
  }
  if (s->op.kind == SMTP_OP_NONE && s->state != SMTP_ST_IDLE)
    return MAIL_ERR_STATE;
  int rc = simple_op(s, SMTP_OP_QUIT, SMTP_CMD_QUIT, SMTP_ST_QUIT, "QUIT");
  if (rc != MAIL_ERR_AGAIN) {
    mail_conn_close(s->conn);
    smtp_state(s, SMTP_ST_DISCONNECTED);
  }
  return rc;
}

int mail_smtp_send_mime(mail_smtp *s, mail_smtp_envelope *e, struct mail_mime_builder *msg)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (s->op.kind == SMTP_OP_SEND) /* resumed: the body was chosen already */
    return mail_smtp_send(s, e);
#if MAIL_WITH_MIME
  if (!e || !msg)
    return mail_smtp_send(s, NULL); /* MAIL_ERR_INVALID, recorded */
  if (s->op.kind == SMTP_OP_NONE && s->state == SMTP_ST_IDLE) {
    int rc = smtp_use_mime(s, e, msg);
    if (rc)
      return rc;
  }
  return mail_smtp_send(s, e);
#else
  (void)e;
  (void)msg;
  return mail_conn_fail(s->conn, MAIL_ERR_UNSUPPORTED, "send: built without MIME");
#endif
}

#if MAIL_WITH_MIME
int smtp_use_mime(mail_smtp *s, mail_smtp_envelope *e, struct mail_mime_builder *msg)
{
  {
    /* What the path supports is what this server's EHLO offered. */
    unsigned opts = mail_mime_builder_get_options(msg) & MAIL_MIME_OPT_COMPAT_FILENAME;
    if (smtp_has(s, SMTP_CAP_8BITMIME))
      opts |= MAIL_MIME_OPT_8BITMIME;
    if (smtp_has(s, SMTP_CAP_SMTPUTF8) && smtp_has(s, SMTP_CAP_8BITMIME))
      opts |= MAIL_MIME_OPT_SMTPUTF8;
    if (smtp_has(s, SMTP_CAP_BINARYMIME) && smtp_has(s, SMTP_CAP_CHUNKING) &&
        s->chunking_mode != MAIL_SMTP_CHUNKING_NEVER)
      opts |= MAIL_MIME_OPT_BINARYMIME;
    int rc = mail_mime_builder_set_options(msg, opts);
    if (rc && rc != MAIL_ERR_STATE) /* frozen already: it goes as it was built */
      return rc;
    if (mail_smtp_envelope_recipient_count(e) == 0)
      rc = mail_smtp_envelope_add_mime_addresses(e, msg);
    if (!rc)
      rc = mail_smtp_envelope_set_body_mime(e, msg);
    if (rc)
      return mail_conn_fail(s->conn, rc, "send: the message: %s", mail_strerror(rc));
  }
  return MAIL_OK;
}
#endif

int mail_smtp_send(mail_smtp *s, mail_smtp_envelope *e)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, SMTP_OP_SEND);
  if (st < 0)
    return busy(s, st);
  if (st == 1) {
    if (!e)
      return op_error(s, MAIL_ERR_INVALID);
    int rc = need_idle(s), sent = 0;
    if (!rc)
      rc = smtp_tx_begin(s, &s->tx[0], e, &sent);
    if (rc && !sent)
      return op_error(s, rc);
    if (rc) {
      mail_conn_close(s->conn);
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return op_error(s, rc);
    }
  }
  return drive(s);
}

int mail_smtp_send_batch(mail_smtp *s, mail_smtp_batch *b)
{
  if (!s)
    return MAIL_ERR_INVALID;
  int st = begin_op(s, SMTP_OP_BATCH);
  if (st < 0)
    return busy(s, st);
  if (st == 1) {
    if (!b || b->n == 0)
      return op_error(s, mail_conn_fail(s->conn, MAIL_ERR_INVALID, "batch: no messages"));
    if (b->running)
      return op_error(s, mail_conn_fail(s->conn, MAIL_ERR_STATE, "batch: being sent already"));
    int rc = need_idle(s);
    if (rc)
      return op_error(s, rc);
    rc = smtp_batch_start(s, b);
    if (rc) { /* the connection was given up (smtp_abort) */
      smtp_batch_close(s, rc);
      mail_op_end(&s->op);
      mail_cmdq_clear(&s->q);
      smtp_state(s, SMTP_ST_DISCONNECTED);
      return rc;
    }
  } else if (s->batch != b) {
    return busy(s, MAIL_ERR_STATE);
  }
  return drive(s);
}

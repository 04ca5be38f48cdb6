/* The IMAP engine core: the state function, reading responses through
 * the public parser, routing them (tagged by tag, continuations to the
 * command waiting, untagged to the mailbox state and the caller) and
 * running the operation's phases. No I/O: mail_conn_run() drives
 * imap_advance(). */
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

static const char *const state_names[] = {
  "DISCONNECTED", "CONNECTING", "NOT_AUTHENTICATED", "AUTHENTICATING",
  "AUTHENTICATED", "SELECTED",  "LOGOUT",
};

static const char *name_of(int state)
{
  if (state < 0 || state >= (int)(sizeof state_names / sizeof state_names[0]))
    return "UNKNOWN";
  return state_names[state];
}

const char *mail_imap_state_name(const mail_imap *im)
{
  return name_of(im ? im->state : MAIL_IMAP_STATE_DISCONNECTED);
}

int mail_imap_get_state(const mail_imap *im)
{
  return im ? im->state : MAIL_IMAP_STATE_DISCONNECTED;
}

void imap_set_state(mail_imap *im, int state)
{
  if (im->state == state)
    return;
  mail_conn_trace_info(im->conn, "imap: %s -> %s", name_of(im->state), name_of(state));
  if (im->state == MAIL_IMAP_STATE_SELECTED)
    imap_mailbox_reset(im);
  im->state = state;
}

static void cont_drop(mail_imap *im)
{
  im->cont_active = 0;
  im->app_phase = 0;
  if (im->idle_phase) {
    im->idle_phase = 0;
    mail_conn_set_wake(im->conn, 0, -1);
    mail_conn_set_wait_timeout(im->conn, -1);
  }
  mail_buf_clear(&im->cont.bytes);
  im->cont.n = 0;
}

int imap_abort(mail_imap *im, int rc, const char *why)
{
  cont_drop(im);
  return mail_engine_abort(im->conn, &im->q, &im->op, rc, why);
}

/* Reply handlers by command kind. */
static const mail_cmd_kind imap_kinds[] = {
  [IMAP_CMD_GREETING] = {"greeting", imap_connect_reply, 0},
  [IMAP_CMD_CAPABILITY] = {"CAPABILITY", imap_connect_reply, 0},
  [IMAP_CMD_STARTTLS] = {"STARTTLS", imap_connect_reply, 0},
  [IMAP_CMD_LOGIN] = {"LOGIN", imap_login_reply, 0},
  [IMAP_CMD_AUTHENTICATE] = {"AUTHENTICATE", imap_login_reply, 0},
  [IMAP_CMD_ENABLE] = {"ENABLE", imap_command_reply, 0},
  [IMAP_CMD_ID] = {"ID", imap_command_reply, 0},
  [IMAP_CMD_NOOP] = {"NOOP", imap_command_reply, 0},
  [IMAP_CMD_LOGOUT] = {"LOGOUT", imap_command_reply, 0},
  [IMAP_CMD_SELECT] = {"SELECT", imap_command_reply, 0},
  [IMAP_CMD_SIMPLE] = {"command", imap_command_reply, 0},
  [IMAP_CMD_CLOSE] = {"CLOSE", imap_command_reply, 0},
  [IMAP_CMD_APPEND] = {"APPEND", imap_command_reply, 0},
  [IMAP_CMD_IDLE] = {"IDLE", imap_command_reply, 0},
  [IMAP_CMD_SET] = {"command", imap_command_reply, 0},
  [IMAP_CMD_COMPRESS] = {"COMPRESS", imap_command_reply, 0},
  [IMAP_CMD_UNAUTHENTICATE] = {"UNAUTHENTICATE", imap_command_reply, 0},
};
#define NKINDS (sizeof imap_kinds / sizeof imap_kinds[0])

/* Each operation's next step, by operation kind. */
static int op_next(mail_imap *im)
{
  switch (im->op.kind) {
  case IMAP_OP_CONNECT:
    return imap_connect_next(im);
  case IMAP_OP_LOGIN:
    return imap_login_next(im);
  default:
    if (im->op.kind > IMAP_OP_LOGIN && im->op.kind < IMAP_OP_COUNT)
      return imap_command_next(im);
    return MAIL_ERR_INTERNAL;
  }
}

/* The next complete response; the reader's bytes go to the parser only
 * when it has none left, so what follows a STARTTLS OK is still visible
 * (to the parser's pending count or the reader) when TLS starts. */
static int next_response(mail_imap *im, const mail_imap_response **r)
{
  for (;;) {
    int rc = mail_imap_parser_next(im->parser, r);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    mail_reader *rd = mail_conn_reader(im->conn);
    size_t n;
    const unsigned char *d = mail_reader_data(rd, &n);
    if (!n) {
      if (!rd->eof)
        return MAIL_ERR_AGAIN;
      mail_imap_parser_end(im->parser);
      continue;
    }
    /* The parser holds at most max_response unread bytes, and one read
     * may bring more (many small responses, a long VANISHED): feed what
     * it takes, halving until it fits. Not even one byte fitting is a
     * response over the limit. */
    size_t take = n;
    while ((rc = mail_imap_parser_feed(im->parser, d, take)) == MAIL_ERR_LIMIT && take > 1)
      take /= 2;
    if (rc)
      return rc;
    mail_reader_skip(rd, take);
  }
}

static int has_text(const mail_imap_response *r, const char *word)
{
  size_t n, wl = strlen(word);
  const char *t = mail_imap_response_text(r, &n);
  for (size_t i = 0; t && i + wl <= n; i++) {
    size_t k = 0;
    while (k < wl && (t[i + k] | 0x20) == word[k])
      k++;
    if (k == wl)
      return 1;
  }
  return 0;
}

/* A refusal for the connection count: RFC 5530 has no code for it;
 * Dovecot says "Maximum number of connections from user+IP exceeded",
 * others "Too many connections". */
static int too_many_connections(const mail_imap_response *r)
{
  return has_text(r, "too many connections") || has_text(r, "maximum number of connections") ||
         has_text(r, "too many simultaneous connections");
}

int imap_refusal(const mail_imap_response *r)
{
  if (imap_throttled(r))
    return MAIL_ERR_THROTTLED;
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_LIMIT)
    return MAIL_ERR_SERVER_LIMIT;
  if (too_many_connections(r))
    return MAIL_ERR_TOO_MANY_CONNECTIONS;
  return MAIL_ERR_SERVER;
}

int imap_keep_tagged(mail_imap *im, const mail_imap_response *r)
{
  imap_throttle_note(im, r);
  im->last_type = mail_imap_response_type(r);
  im->last_code = mail_imap_response_code(r);
  size_t n;
  const char *t = mail_imap_response_text(r, &n);
  mail_buf_clear(&im->last_text);
  mail_buf_clear(&im->last_data);
  int rc = mail_buf_append(&im->last_text, t, n);
  if (!rc)
    rc = mail_buf_terminate(&im->last_text);
  const char *d = mail_imap_response_code_raw(r, &n);
  while (d && n && *d == ' ') {
    d++;
    n--;
  }
  if (!rc && d)
    rc = mail_buf_append(&im->last_data, d, n);
  return rc ? rc : mail_buf_terminate(&im->last_data);
}

static int tag_number(const mail_imap_response *r, uint32_t *out)
{
  size_t n;
  const char *t = mail_imap_response_tag(r, &n);
  if (!t || n < 2 || n > 11 || t[0] != 'A')
    return MAIL_ERR_PROTOCOL;
  uint64_t v = 0;
  for (size_t i = 1; i < n; i++) {
    if (t[i] < '0' || t[i] > '9')
      return MAIL_ERR_PROTOCOL;
    v = v * 10 + (uint64_t)(t[i] - '0');
  }
  if (v == 0 || v > UINT32_MAX)
    return MAIL_ERR_PROTOCOL;
  *out = (uint32_t)v;
  return MAIL_OK;
}

static int in_flight(mail_imap *im, int kind)
{
  for (size_t i = 0; i < mail_cmdq_count(&im->q); i++)
    if (mail_cmdq_at(&im->q, i)->kind == kind)
      return 1;
  return 0;
}

/* State carried by untagged responses, then the caller's callback. */
static int untagged(mail_imap *im, const mail_imap_response *r)
{
  int type = mail_imap_response_type(r);
  int rc = MAIL_OK;
  if (type == MAIL_IMAP_TYPE_CAPABILITY || mail_imap_response_code(r) == MAIL_IMAP_CODE_CAPABILITY)
    rc = imap_caps_set_from(im, r);
  /* ENABLED answers an ENABLE (RFC 5161 3.2), never comes unasked: one
   * out of the blue (before STARTTLS, say) must not switch UTF8=ACCEPT or
   * QRESYNC on for the rest of the session. It still reaches the callback. */
  if (!rc && type == MAIL_IMAP_TYPE_ENABLED && in_flight(im, IMAP_CMD_ENABLE)) {
    im->enable_seen = 1;
    for (size_t i = 0; i < mail_imap_response_string_count(r) && !rc; i++) {
      size_t n;
      const char *s = mail_imap_response_string(r, i, &n);
      rc = im->enabled.len ? mail_buf_append_byte(&im->enabled, ' ') : 0;
      for (size_t k = 0; k < n && !rc; k++)
        rc = mail_buf_append_byte(&im->enabled, (unsigned char)(s[k] >= 'a' && s[k] <= 'z'
                                                                    ? s[k] - 32 : s[k]));
      if (!rc && n == 11 && !memcmp(im->enabled.data + im->enabled.len - 11, "UTF8=ACCEPT", 11)) {
        im->utf8 = 1;
        mail_imap_parser_set_utf8(im->parser, 1);
      }
    }
    if (!rc)
      rc = mail_buf_terminate(&im->enabled);
  }
  if (!rc)
    rc = imap_mailbox_apply(im, r);
  if (rc)
    return rc;
  imap_throttle_note(im, r);
  if (im->on_untagged && !im->cb_failed &&
      im->on_untagged(im->on_untagged_user, r, im->tls_done) != 0)
    im->cb_failed = 1;
  if (type == MAIL_IMAP_TYPE_BYE && !in_flight(im, IMAP_CMD_LOGOUT)) {
    int why = too_many_connections(r) ? MAIL_ERR_TOO_MANY_CONNECTIONS : MAIL_ERR_SERVER_CLOSING;
    return imap_abort(im, why, "the server said BYE");
  }
  if (type == MAIL_IMAP_TYPE_BYE)
    im->bye_seen = 1;
  return MAIL_OK;
}

/* Route one response. MAIL_OK to go on, or an error. */
static int route(mail_imap *im, const mail_imap_response *r)
{
  im->resp = r;
  switch (mail_imap_response_kind(r)) {
  case MAIL_IMAP_KIND_GREETING: {
    mail_cmd *h = mail_cmdq_head(&im->q);
    if (!h || h->kind != IMAP_CMD_GREETING)
      return imap_abort(im, MAIL_ERR_PROTOCOL, "a greeting in the middle of the session");
    return mail_cmd_dispatch(im->conn, &im->q, imap_kinds, NKINDS, im);
  }
  case MAIL_IMAP_KIND_TAGGED: {
    uint32_t tag;
    long i = -1;
    if (tag_number(r, &tag) == MAIL_OK)
      i = mail_cmdq_find(&im->q, tag);
    if (i < 0)
      return imap_abort(im, MAIL_ERR_PROTOCOL, "a tagged reply to no command in flight");
    if (im->cont_active && im->cont_tag == tag)
      cont_drop(im); /* the server refused the command before its literal */
    int rc = imap_keep_tagged(im, r);
    if (rc)
      return rc;
    return mail_cmd_dispatch_at(im->conn, &im->q, i, imap_kinds, NKINDS, im);
  }
  case MAIL_IMAP_KIND_CONTINUATION:
    if (imap_append_continue(im) || imap_idle_continue(im))
      return MAIL_OK;
    if (im->cont_active)
      return imap_wire_continue(im);
    if (in_flight(im, IMAP_CMD_AUTHENTICATE))
      return imap_login_continue(im, r);
    if (in_flight(im, IMAP_CMD_STARTTLS))
      return imap_abort(im, MAIL_ERR_STARTTLS, "the server answered STARTTLS with a continuation");
    return imap_abort(im, MAIL_ERR_PROTOCOL, "a continuation nothing waits for");
  default:
    return untagged(im, r);
  }
}

int imap_advance(void *engine)
{
  mail_imap *im = engine;
  for (;;) {
    int prc = imap_append_produce(im); /* an APPEND's literal streams first */
    if (!prc)
      prc = imap_setop_produce(im); /* the next pieces of a command over a set */
    if (!prc)
      prc = imap_idle_step(im); /* DONE once stopped or due */
    if (prc)
      return prc;
    if (!mail_cmdq_head(&im->q)) {
      if (im->op.done)
        return im->op.result;
      int rc = op_next(im);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      if (!mail_cmdq_head(&im->q))
        return MAIL_ERR_AGAIN; /* a TLS handshake runs first */
      continue;
    }
    const mail_imap_response *r;
    int rc = next_response(im, &r);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED) {
      if (im->bye_seen && in_flight(im, IMAP_CMD_LOGOUT)) {
        /* Closed after its BYE, before the tagged OK: logged out all the same. */
        mail_cmdq_clear(&im->q);
        return MAIL_OK;
      }
      return imap_abort(im, MAIL_ERR_CLOSED, "the server closed the connection");
    }
    if (rc == MAIL_ERR_LIMIT)
      return imap_abort(im, rc, "a response from the server exceeds a limit");
    if (rc == MAIL_ERR_CALLBACK) {
      im->cb_failed = 1;
      return imap_abort(im, rc, "a body callback stopped the transfer");
    }
    if (rc)
      return imap_abort(im, rc == MAIL_ERR_NOMEM ? rc : MAIL_ERR_PROTOCOL,
                        "cannot read the server's response");
    rc = route(im, r);
    im->resp = NULL;
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc) {
      if (mail_status_is_fatal(rc) || !mail_conn_is_open(im->conn))
        return rc;
      if (!im->op.done)
        mail_op_finish(&im->op, rc); /* reported once the replies in flight are read */
    }
  }
}

int imap_finish(mail_imap *im, int rc)
{
  int op = im->op.kind;
  mail_op_end(&im->op);
  imap_setop_end(im);
  if (im->body_set) {
    mail_imap_parser_set_body_callback(im->parser, NULL, NULL);
    im->body_set = 0;
  }
  if (rc == MAIL_OK && im->cb_failed)
    rc = MAIL_ERR_CALLBACK;
  im->cb_failed = 0;
  /* A refusal by the server: the session's one error string says so, as
   * SMTP's and POP3's do (the reply stays in mail_imap_last_*()). */
  if ((rc == MAIL_ERR_SERVER || rc == MAIL_ERR_AUTH || rc == MAIL_ERR_THROTTLED ||
       rc == MAIL_ERR_SERVER_LIMIT || rc == MAIL_ERR_TOO_MANY_CONNECTIONS) &&
      !mail_conn_last_error(im->conn)[0] &&
      (im->last_type == MAIL_IMAP_TYPE_NO || im->last_type == MAIL_IMAP_TYPE_BAD)) {
    mail_conn_fail(im->conn, rc, "the server answered %s: %s",
                   im->last_type == MAIL_IMAP_TYPE_NO ? "NO" : "BAD",
                   im->last_text.len ? (const char *)im->last_text.data : "");
  }
  /* A connection that did not get through its setup is of no use. */
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(im->conn) ||
      (op == IMAP_OP_CONNECT && rc != MAIL_OK) || op == IMAP_OP_LOGOUT) {
    mail_cmdq_clear(&im->q);
    cont_drop(im);
    mail_conn_close(im->conn);
    imap_set_state(im, MAIL_IMAP_STATE_DISCONNECTED);
  } else if (im->state == MAIL_IMAP_STATE_AUTHENTICATING) {
    imap_set_state(im, MAIL_IMAP_STATE_NOT_AUTHENTICATED);
  }
  return rc;
}

static int drive(mail_imap *im)
{
  int rc;
  if (im->op.kind == IMAP_OP_CONNECT && im->op.phase == 0) {
    int implicit = im->security == MAIL_SECURITY_IMPLICIT_TLS;
    rc = mail_conn_connect(im->conn, im->host, im->port, implicit);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return imap_finish(im, rc);
    im->tls_done = implicit;
    im->op.phase = 1;
    imap_set_state(im, MAIL_IMAP_STATE_CONNECTING);
  }
  rc = mail_conn_run(im->conn, imap_advance, im);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  return imap_finish(im, rc);
}

int imap_op_enter(mail_imap *im, int op, int *rc)
{
  if (!im) {
    *rc = MAIL_ERR_INVALID;
    return 1;
  }
  if (!im->op.kind)
    return 0;
  int st = mail_op_begin(&im->op, op);
  *rc = st == MAIL_OP_RESUMED ? drive(im) : st;
  return 1;
}

int imap_run(mail_imap *im, int op)
{
  mail_op_begin(&im->op, op);
  im->cb_failed = 0;
  im->throttled = 0;
  im->throttle_ms = 0;
  return drive(im);
}

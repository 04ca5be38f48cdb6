/* Logging in: USER/PASS, APOP (RFC 1939 §7) and AUTH (RFC 5034) through
 * the one SASL engine. Every credential-bearing argument goes out with
 * mail_conn_send_secret(). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "crypto/crypto.h"
#include "pop3/pop3_internal.h"
#include "sasl/sasl_internal.h"

enum {
  PH_START = 0,
  PH_USER_WAIT,
  PH_PASS_WAIT,
  PH_APOP_WAIT,
  PH_AUTH_WAIT,
  PH_RECAPA,
  PH_RECAPA_WAIT,
  PH_DONE
};

/* RFC 5034 §4: the AUTH line, CRLF included, fits in 255 octets; with
 * "AUTH ", a mechanism name of up to 20 characters, a space and CRLF,
 * 227 octets are left for the initial response. */
static const mail_sasl_profile pop3_sasl_profile = {
  .service = "pop",
  .initial_response = 1,
  .max_initial_response = 227,
  .empty_response = "=",
  .abort_line = "*",
};

static int link_protected(const mail_pop3 *p)
{
  return mail_conn_is_verified(p->conn) || pop3_allow_insecure(p);
}

/* A refusal of the credentials, or of the login for another reason named
 * by an RFC 2449/3206 response code. */
static int refused(mail_pop3 *p)
{
  int code = p->have_reply ? p->reply.code_id : MAIL_POP3_CODE_NONE;
  if (code != MAIL_POP3_CODE_NONE && code != MAIL_POP3_CODE_AUTH)
    return MAIL_ERR_SERVER;
  return MAIL_ERR_AUTH;
}

static int send_user(mail_pop3 *p)
{
  if (!pop3_user(p) || !pop3_password(p))
    return MAIL_ERR_INVALID;
  if (!link_protected(p))
    return mail_conn_fail(p->conn, MAIL_ERR_INSECURE,
                          "USER/PASS refused: the connection is not TLS-verified");
  pop3_set_state(p, MAIL_POP3_STATE_AUTHENTICATING);
  p->op.phase = PH_USER_WAIT;
  int rc = pop3_send(p, POP3_CMD_USER, "USER", pop3_user(p), 1, 0);
  return rc ? rc : MAIL_ERR_AGAIN;
}

static int send_apop(mail_pop3 *p)
{
  if (!pop3_user(p) || !pop3_password(p))
    return MAIL_ERR_INVALID;
  if (!p->apop_stamp.len)
    return mail_conn_fail(p->conn, MAIL_ERR_UNSUPPORTED, "the greeting carries no APOP timestamp");
  size_t slen = p->apop_stamp.len, plen = strlen(pop3_password(p));
  size_t n = slen + plen;
  unsigned char *in = mail_malloc(&p->alloc, n ? n : 1);
  if (!in)
    return MAIL_ERR_NOMEM;
  memcpy(in, p->apop_stamp.data, slen);
  memcpy(in + slen, pop3_password(p), plen);
  unsigned char md[16];
  int rc = mail_sasl_crypto_digest(p->sasl, MAIL_MD_MD5, in, n, md);
  mail_dealloc_secret(&p->alloc, in, n ? n : 1);
  if (rc)
    return rc == MAIL_ERR_UNSUPPORTED ? rc : MAIL_ERR_INTERNAL;
  /* "name digest": both are the secret part of the line. */
  size_t ulen = strlen(pop3_user(p));
  char *arg = mail_malloc(&p->alloc, ulen + 34);
  if (!arg) {
    mail_wipe(md, sizeof md);
    return MAIL_ERR_NOMEM;
  }
  memcpy(arg, pop3_user(p), ulen);
  arg[ulen] = ' ';
  for (int i = 0; i < 16; i++)
    snprintf(arg + ulen + 1 + 2 * i, 3, "%02x", md[i]);
  mail_wipe(md, sizeof md);
  pop3_set_state(p, MAIL_POP3_STATE_AUTHENTICATING);
  p->op.phase = PH_APOP_WAIT;
  rc = pop3_send(p, POP3_CMD_APOP, "APOP", arg, 1, 0);
  mail_dealloc_secret(&p->alloc, arg, ulen + 34);
  return rc ? rc : MAIL_ERR_AGAIN;
}

/* "AUTH mech[ ir]" or a response line, from the SASL engine. */
static int send_sasl(mail_pop3 *p, int what, const mail_sasl_msg *m)
{
  p->sasl_lines = what == MAIL_SASL_SEND_COMMAND ? 0 : p->sasl_lines + 1;
  int rc = pop3_send_sasl(p, what, m);
  return rc ? rc : MAIL_ERR_AGAIN;
}

/* The server's SASL list as one space-separated string. */
static int sasl_list(mail_pop3 *p, mail_buf *out)
{
  size_t i;
  if (!p->caps_known || mail_pop3_caps_find(p->caps, "SASL", &i) != MAIL_OK)
    return MAIL_ERR_NO_MECHANISM;
  size_t n = mail_pop3_caps_param_count(p->caps, i);
  for (size_t j = 0; j < n; j++) {
    int rc = (j ? mail_buf_append_byte(out, ' ') : 0);
    if (!rc)
      rc = mail_buf_append_str(out, mail_pop3_caps_param(p->caps, i, j));
    if (rc)
      return rc;
  }
  return mail_buf_terminate(out);
}

static int start_sasl(mail_pop3 *p)
{
  mail_buf mechs;
  mail_buf_init(&mechs, &p->alloc, 0);
  int rc = sasl_list(p, &mechs);
  if (!rc && !mechs.len)
    rc = MAIL_ERR_NO_MECHANISM;
  if (!rc)
    rc = mail_sasl_use_conn(p->sasl, p->conn);
  mail_sasl_msg cmd;
  if (!rc)
    rc = mail_sasl_begin(p->sasl, &pop3_sasl_profile, (const char *)mechs.data, &cmd);
  mail_buf_free(&mechs);
  if (rc < 0)
    return rc;
  pop3_set_state(p, MAIL_POP3_STATE_AUTHENTICATING);
  p->op.phase = PH_AUTH_WAIT;
  return send_sasl(p, rc, &cmd);
}

static int choose(mail_pop3 *p)
{
  /* EXTERNAL takes the identity from the client certificate: no user name. */
  if (!pop3_user(p) && !(pop3_external(p) && p->auth_method != MAIL_POP3_AUTH_USER &&
                         p->auth_method != MAIL_POP3_AUTH_APOP))
    return MAIL_ERR_INVALID;
  switch (p->auth_method) {
  case MAIL_POP3_AUTH_USER:
    return send_user(p);
  case MAIL_POP3_AUTH_APOP:
    return send_apop(p);
  case MAIL_POP3_AUTH_SASL:
    return start_sasl(p);
  default: {
    int user_ok = !p->caps_known || mail_pop3_has_capability(p, "USER");
    if (p->caps_known && mail_pop3_has_capability(p, "SASL")) {
      int rc = start_sasl(p);
      if (rc != MAIL_ERR_NO_MECHANISM || !user_ok || !pop3_password(p))
        return rc;
    }
    if (!user_ok)
      return MAIL_ERR_NO_MECHANISM;
    return send_user(p);
  }
  }
}

static int logged_in(mail_pop3 *p)
{
  pop3_set_state(p, MAIL_POP3_STATE_TRANSACTION);
  /* RFC 2449 §5: capabilities (LOGIN-DELAY, EXPIRE) may differ now. */
  p->op.phase = p->caps_known ? PH_RECAPA : PH_DONE;
  return MAIL_OK;
}

int pop3_login_next(mail_pop3 *p)
{
  switch (p->op.phase) {
  case PH_START:
    return choose(p);
  case PH_RECAPA: {
    pop3_caps_reset(p);
    p->op.phase = PH_RECAPA_WAIT;
    int rc = pop3_send(p, POP3_CMD_CAPA, "CAPA", NULL, 0, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PH_RECAPA_WAIT:
  case PH_DONE:
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

/* 1 when text (n bytes) contains word, ignoring ASCII case. */
static int has_word(const char *text, size_t n, const char *word)
{
  size_t wl = strlen(word);
  for (size_t i = 0; i + wl <= n; i++) {
    size_t k = 0;
    while (k < wl && (text[i + k] | 0x20) == word[k])
      k++;
    if (k == wl)
      return 1;
  }
  return 0;
}

/*
 * RFC 5034 gives "mechanism not supported" no response code of its own: it
 * is a -ERR like a refused login. It is taken as "unsupported" (try the
 * next mechanism) only when it answers the AUTH command itself, before any
 * response line of ours, carries no response code and says so
 * ("-ERR Unsupported authentication mechanism."). With a code it is a
 * failure: [AUTH] says the login was refused (Dovecot 2.3 sends exactly
 * that text with [AUTH]; it only refuses mechanisms it did not advertise),
 * [SYS/...] and the others name another problem. Anything else ends the
 * login too: never guess in favour of sending credentials again.
 */
static int unsupported_mechanism(mail_pop3 *p)
{
  if (p->sasl_lines != 0)
    return 0;
  if (p->reply.code_id != MAIL_POP3_CODE_NONE)
    return 0;
  size_t n = 0;
  const char *text = mail_pop3_reply_text(&p->reply, &n);
  if (!text || !has_word(text, n, "mechanism"))
    return 0;
  static const char *const words[] = {"unsupported", "not supported", "unknown",
                                      "unrecognized", "not available"};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
    if (has_word(text, n, words[i]))
      return 1;
  return 0;
}

static int sasl_reply(mail_pop3 *p)
{
  int kind;
  const char *payload = NULL;
  size_t plen = 0;
  switch (p->reply.status) {
  case MAIL_POP3_CONTINUE:
    kind = MAIL_SASL_REPLY_CONTINUE;
    payload = mail_pop3_reply_text(&p->reply, &plen);
    break;
  case MAIL_POP3_OK:
    kind = MAIL_SASL_REPLY_SUCCESS; /* +OK carries text, not SASL data */
    break;
  default:
    /* Only a refusal of the credentials is a failure: [SYS/TEMP],
     * [IN-USE] and the like say nothing about them, so they must not
     * cost a retry (OAuth refresh, channel-binding downgrade). */
    if (unsupported_mechanism(p))
      kind = MAIL_SASL_REPLY_UNSUPPORTED;
    else if (refused(p) == MAIL_ERR_AUTH)
      kind = MAIL_SASL_REPLY_FAILURE;
    else
      kind = MAIL_SASL_REPLY_ERROR;
    break;
  }
  mail_sasl_msg next;
  int rc = mail_sasl_reply(p->sasl, kind, payload, plen, &next);
  if (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND) {
    rc = send_sasl(p, rc, &next);
    if (rc == MAIL_ERR_AGAIN)
      return MAIL_OK;
  } else if (rc == MAIL_OK) {
    if (p->reply.status != MAIL_POP3_OK)
      return mail_conn_fail(p->conn, MAIL_ERR_PROTOCOL, "SASL finished before the server did");
    return logged_in(p);
  } else if (rc == MAIL_ERR_SASL_SERVER) {
    return mail_conn_fail(p->conn, rc, "the server failed SASL mutual authentication");
  } else if (rc == MAIL_ERR_AUTH) {
    return refused(p);
  } else if (rc == MAIL_ERR_PROTOCOL) {
    return mail_conn_fail(p->conn, rc, "unexpected reply during AUTH");
  }
  /* A bad challenge was answered with the abort line by the engine; an
   * error left now (no memory) while the server still waits for our line
   * leaves the session out of step: it ends here. */
  if (p->reply.status == MAIL_POP3_CONTINUE && !mail_status_is_fatal(rc))
    return pop3_abort(p, rc, "the SASL exchange broke off");
  return rc;
}

int pop3_login_reply(void *engine, const mail_cmd *cmd)
{
  mail_pop3 *p = engine;
  int ok = p->reply.status == MAIL_POP3_OK;
  switch (cmd->kind) {
  case POP3_CMD_USER:
    if (!ok)
      return refused(p);
    p->op.phase = PH_PASS_WAIT;
    return pop3_send(p, POP3_CMD_PASS, "PASS", pop3_password(p), 1, 0);
  case POP3_CMD_PASS:
  case POP3_CMD_APOP:
    return ok ? logged_in(p) : refused(p);
  case POP3_CMD_AUTH:
    return sasl_reply(p);
  default:
    return MAIL_ERR_INTERNAL;
  }
}

int mail_pop3_auth(mail_pop3 *p)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_AUTH, &rc))
    return rc;
  if (p->state != MAIL_POP3_STATE_AUTHORIZATION)
    return pop3_wrong_state(p, "AUTHORIZATION");
  return pop3_run(p, POP3_OP_AUTH);
}

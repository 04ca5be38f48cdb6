/* Driving the SASL engine from a protocol engine: base64 on the wire,
 * initial responses, aborts and fallback (see sasl_internal.h). */
#include <string.h>

#include "core/base64.h"
#include "core/mem.h"
#include "sasl/sasl_internal.h"
#include "sasl/sasl_mech.h"

/* Put the base64 form of raw into s->line, NUL-terminated. */
static int encode_line(mail_sasl *s, const unsigned char *raw, size_t n)
{
  mail_buf_clear(&s->line);
  int rc = mail_buf_reserve(&s->line, MAIL_B64_ENCODED_LEN(n) + 1);
  if (rc)
    return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
  s->line.len = mail_b64_encode(raw, n, (char *)s->line.data);
  s->line.data[s->line.len] = '\0';
  return MAIL_OK;
}

/* Start mech and describe the AUTH command that carries it. */
static int command(mail_sasl *s, const char *mech, mail_sasl_msg *cmd)
{
  const unsigned char *out;
  size_t olen;
  s->pending = 0;
  int rc = mail_sasl_start(s, mech, &out, &olen);
  if (rc)
    return rc;
  cmd->mech = s->mech->name;
  cmd->data = NULL;
  cmd->len = 0;
  if (!out || !s->profile->initial_response)
    return MAIL_SASL_SEND_COMMAND;
  if (olen == 0) {
    if (s->profile->empty_response) {
      cmd->data = s->profile->empty_response;
      cmd->len = strlen(cmd->data);
    }
    return MAIL_SASL_SEND_COMMAND;
  }
  rc = encode_line(s, out, olen);
  if (rc)
    return rc;
  /* Too long for the command line: the server will ask for it with an
   * empty challenge and mail_sasl_step() sends it then. */
  if (s->profile->max_initial_response && s->line.len > s->profile->max_initial_response)
    return MAIL_SASL_SEND_COMMAND;
  cmd->data = (const char *)s->line.data;
  cmd->len = s->line.len;
  return MAIL_SASL_SEND_COMMAND;
}

int mail_sasl_begin(mail_sasl *s, const mail_sasl_profile *profile, const char *server_mechs,
                    mail_sasl_msg *cmd)
{
  if (!s || !profile || !server_mechs || !cmd)
    return MAIL_ERR_INVALID;
  memset(cmd, 0, sizeof *cmd);
  s->profile = profile;
  s->refreshed = 0;
  const mail_sasl_mech *again = s->downgrade_next;
  s->downgrade_next = NULL;
  const char *mech;
  int rc = mail_sasl_select(s, server_mechs, &mech);
  if (rc)
    return rc;
  if (again) {
    /* The same login on a new connection, after the -PLUS refusal: its
     * one retry is this one. */
    s->downgraded = 1;
    if (mail_sasl_server_offers(s, again->name) && mail_sasl_mech_usable(s, again) == MAIL_OK)
      mech = again->name;
  }
  return command(s, mech, cmd);
}

/* The server refused the credentials (mail_sasl_failure() already said
 * MAIL_ERR_AUTH): the one retry without channel binding when the engine
 * allows it, on this connection or, when the protocol cannot start
 * another exchange on it, remembered for the next mail_sasl_begin(). */
static int refused(mail_sasl *s, mail_sasl_msg *next)
{
  const char *mech;
  if (mail_sasl_downgrade_channel_binding(s, &mech) != MAIL_OK)
    return MAIL_ERR_AUTH;
  if (s->profile->retry_needs_new_connection) {
    s->downgrade_next = mail_sasl_mech_find(mech, strlen(mech));
    return MAIL_ERR_AUTH;
  }
  return command(s, mech, next);
}

int mail_sasl_retry_on_new_connection(const mail_sasl *s)
{
  return s->downgrade_next != NULL;
}

/* Cancel the exchange; the error is reported when the server answers. */
static int abort_with(mail_sasl *s, int err, mail_sasl_msg *next)
{
  if (!s->profile->abort_line)
    return err;
  s->pending = err;
  next->data = s->profile->abort_line;
  next->len = strlen(next->data);
  return MAIL_SASL_SEND_LINE;
}

/* Strictly decode a payload into a fresh buffer (wiped when freed). */
static int decode(mail_sasl *s, const char *b64, size_t len, unsigned char **raw, size_t *n)
{
  *raw = NULL;
  *n = 0;
  if (len == 0)
    return MAIL_OK;
  if (len > MAIL_B64_ENCODED_LEN(MAIL_SASL_MAX_CHALLENGE))
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  unsigned char *buf = mail_malloc(&s->env.alloc, MAIL_B64_DECODED_MAX(len));
  if (!buf)
    return MAIL_ERR_NOMEM;
  long got = mail_b64_decode_strict(b64, len, buf);
  if (got < 0 || (size_t)got > MAIL_SASL_MAX_CHALLENGE) {
    mail_dealloc_secret(&s->env.alloc, buf, MAIL_B64_DECODED_MAX(len));
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  }
  *raw = buf;
  *n = (size_t)got;
  return MAIL_OK;
}

int mail_sasl_reply(mail_sasl *s, int kind, const char *b64, size_t len, mail_sasl_msg *next)
{
  if (!s || !next || (!b64 && len) || !s->profile)
    return MAIL_ERR_INVALID;
  memset(next, 0, sizeof *next);
  if (s->pending) {
    /* The server's answer to our abort: whatever it says, the exchange
     * failed for the reason we aborted. */
    int rc = s->pending;
    s->pending = 0;
    /* A SCRAM "e=" error is a refusal like a failure reply. */
    return rc == MAIL_ERR_AUTH ? refused(s, next) : rc;
  }
  unsigned char *raw = NULL;
  size_t n = 0;
  int rc;
  switch (kind) {
  case MAIL_SASL_REPLY_CONTINUE: {
    if (s->state != SASL_RUNNING)
      return MAIL_ERR_PROTOCOL;
    rc = decode(s, b64, len, &raw, &n);
    if (rc == MAIL_ERR_NOMEM)
      return rc;
    if (rc) {
      mail_sasl_fail(s, rc);
      return abort_with(s, rc, next);
    }
    const unsigned char *out;
    size_t olen;
    rc = mail_sasl_step(s, raw, n, &out, &olen);
    if (raw)
      mail_dealloc_secret(&s->env.alloc, raw, MAIL_B64_DECODED_MAX(len));
    if (rc)
      return rc == MAIL_ERR_NOMEM ? rc : abort_with(s, rc, next);
    rc = encode_line(s, out, olen);
    if (rc)
      return rc;
    next->data = (const char *)s->line.data;
    next->len = s->line.len;
    return MAIL_SASL_SEND_LINE;
  }
  case MAIL_SASL_REPLY_SUCCESS:
    if (s->state != SASL_RUNNING)
      return MAIL_ERR_PROTOCOL;
    rc = decode(s, b64, len, &raw, &n);
    if (rc == MAIL_OK) {
      rc = mail_sasl_success(s, raw, n);
    } else if (rc != MAIL_ERR_NOMEM) {
      /* Final data we cannot read proves nothing. */
      rc = mail_sasl_fail(s, MAIL_ERR_SASL_SERVER);
    }
    if (raw)
      mail_dealloc_secret(&s->env.alloc, raw, MAIL_B64_DECODED_MAX(len));
    return rc;
  case MAIL_SASL_REPLY_FAILURE:
    rc = mail_sasl_failure(s);
    if (rc == MAIL_ERR_AUTH)
      return refused(s, next);
    if (rc)
      return rc;
    return command(s, s->mech->name, next);
  case MAIL_SASL_REPLY_UNSUPPORTED: {
    const char *mech;
    rc = mail_sasl_next_mechanism(s, &mech);
    if (rc)
      return mail_sasl_fail(s, rc);
    return command(s, mech, next);
  }
  default:
    return mail_sasl_fail(s, MAIL_ERR_SERVER);
  }
}

const char *mail_sasl_username(const mail_sasl *s)
{
  return s->username;
}

const char *mail_sasl_password(const mail_sasl *s)
{
  return s->password;
}

int mail_sasl_external_enabled(const mail_sasl *s)
{
  return s->external;
}

int mail_sasl_insecure_plaintext_allowed(const mail_sasl *s)
{
  return s->allow_insecure;
}

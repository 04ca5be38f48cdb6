/* The mechanisms without cryptography: PLAIN (RFC 4616), LOGIN (the
 * de-facto "Username:" / "Password:" exchange) and EXTERNAL (RFC 4422
 * appendix A). */
#include <string.h>

#include "core/mem.h"
#include "sasl/sasl_mech.h"
#include "sasl/saslprep.h"

static int plain_start(mail_sasl *s, mail_buf *out)
{
  char *user = NULL, *pass = NULL;
  int rc = mail_saslprep(&s->env.alloc, s->username, &user);
  if (rc == MAIL_OK)
    rc = mail_saslprep(&s->env.alloc, s->password, &pass);
  /* message = [authzid] NUL authcid NUL passwd: a NUL inside a name would
   * move the fields, which set_username/set_authzid already refuse. */
  if (rc == MAIL_OK && s->authzid)
    rc = mail_buf_append_str(out, s->authzid);
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(out, 0);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, user);
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(out, 0);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, pass);
  mail_dealloc_secret_str(&s->env.alloc, user);
  mail_dealloc_secret_str(&s->env.alloc, pass);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

/* Client-first mechanisms that are done once their message is sent: any
 * further challenge is a server error. */
static int no_more_steps(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  (void)s; (void)in; (void)n; (void)out;
  return MAIL_ERR_SASL_BAD_CHALLENGE;
}

const mail_sasl_mech mail_sasl_mech_plain = {
  "PLAIN", MECH_CLIENT_FIRST | MECH_PASSWORD | MECH_CLEARTEXT, 0,
  plain_start, no_more_steps, NULL
};

static int login_start(mail_sasl *s, mail_buf *out)
{
  (void)s; (void)out;
  return MAIL_OK;
}

/* The prompts' text varies between servers ("Username:", "User Name",
 * empty), so the order of the challenges is what counts. */
static int login_step(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  (void)in; (void)n;
  int rc;
  switch (s->phase++) {
  case 0: rc = mail_buf_append_str(out, s->username); break;
  case 1: rc = mail_buf_append_str(out, s->password); break;
  default: return MAIL_ERR_SASL_BAD_CHALLENGE;
  }
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

const mail_sasl_mech mail_sasl_mech_login = {
  "LOGIN", MECH_PASSWORD | MECH_CLEARTEXT, 0,
  login_start, login_step, NULL
};

static int external_start(mail_sasl *s, mail_buf *out)
{
  /* An empty message asks the server to derive the identity from the
   * client certificate. */
  return s->authzid ? mail_buf_append_str(out, s->authzid) : MAIL_OK;
}

const mail_sasl_mech mail_sasl_mech_external = {
  "EXTERNAL", MECH_CLIENT_FIRST | MECH_EXTERNAL, 0,
  external_start, no_more_steps, NULL
};

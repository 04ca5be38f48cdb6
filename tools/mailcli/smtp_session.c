/* Opening, authenticating and closing an SMTP/LMTP session for mailcli. */
#include <stdio.h>
#include <string.h>

#include "smtp_session.h"

int cli_smtp_url(const char *url)
{
  return cli_url_is(url, "smtp") || cli_url_is(url, "smtps") || cli_url_is(url, "submission") ||
         cli_url_is(url, "lmtp");
}

int cli_smtp_new(const cli_options *o, const cli_secrets *sec, const char *url, int security,
                 mail_smtp **out)
{
  mail_smtp *s = NULL;
  int implicit = cli_url_is(url, "smtps");
  if (security < 0 && (security = cli_security_for(o, url, implicit, 1)) < 0)
    return EXIT_USAGE;
  if (sec->password && !o->user)
    return cli_usage_error("a password needs --user");
  if (mail_smtp_new(&s, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "smtp", "out of memory");
  int code = cli_setup_conn(o, mail_smtp_conn(s));
  if (!code)
    code = cli_setup_sasl(o, sec, mail_smtp_sasl(s));
  if (!code && o->timeout_s)
    mail_smtp_set_timeouts(s, o->timeout_s * 1000, o->timeout_s * 1000);
  if (!code && !implicit && mail_smtp_set_security(s, security) != MAIL_OK)
    code = cli_usage_error("--tls: not usable with %s", url);
  if (code) {
    mail_smtp_free(s);
    return code;
  }
  *out = s;
  return EXIT_OK;
}

int cli_smtp_fail(mail_smtp *s, int rc, const char *what)
{
  /* The library's one description of the failure: a refusal is the
   * command and the server's reply; anything else gets the status first. */
  int code = cli_exit_code(rc);
  const char *why = mail_conn_last_error(mail_smtp_conn(s));
  if ((rc == MAIL_ERR_SERVER || rc == MAIL_ERR_AUTH || rc == MAIL_ERR_SERVER_CLOSING) && *why)
    cli_fail(code, what, "%s", why); /* "<command>: <the server's reply>" */
  else
    cli_fail_status(mail_smtp_conn(s), rc, what);
  /* A refusal leaves the session usable: say goodbye properly. */
  if (!mail_status_is_fatal(rc))
    mail_smtp_quit(s);
  return code;
}

int cli_smtp_connect(const cli_options *o, const cli_secrets *sec, mail_smtp *s, const char *url)
{
  int rc = mail_smtp_connect_url(s, url);
  if (rc == MAIL_ERR_SYNTAX || rc == MAIL_ERR_INVALID)
    return cli_usage_error("bad URL '%s'", url);
  if (rc)
    return cli_smtp_fail(s, rc, "connect");
  if (o->user || sec->token) {
    rc = mail_smtp_auth(s);
    if (rc == MAIL_ERR_SERVER)
      rc = MAIL_ERR_AUTH; /* any refusal of AUTH is an authentication failure */
    if (rc == MAIL_ERR_UNSUPPORTED) {
      cli_fail(EXIT_AUTH, "AUTH", "the server offers no authentication");
      mail_smtp_quit(s);
      return EXIT_AUTH;
    }
    if (rc)
      return cli_smtp_fail(s, rc, "AUTH");
    cli_trace_note("authenticated with %s", mail_sasl_mechanism(mail_smtp_sasl(s)));
  }
  return EXIT_OK;
}

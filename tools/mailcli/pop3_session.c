/* Opening, logging in and closing a POP3 session for mailcli. */
#include <stdio.h>
#include <string.h>

#include "pop3_session.h"

int cli_pop3_url(const char *url)
{
  return cli_url_is(url, "pop3") || cli_url_is(url, "pop3s");
}

int cli_pop3_new(const cli_options *o, const cli_secrets *sec, const char *url, int security,
                 mail_pop3 **out)
{
  mail_pop3 *p = NULL;
  if (security < 0 && (security = cli_security_for(o, url, cli_url_is(url, "pop3s"), 0)) < 0)
    return EXIT_USAGE;
  if (mail_pop3_new(&p, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "pop3", "out of memory");
  int code = cli_setup_conn(o, mail_pop3_conn(p));
  if (!code)
    code = cli_setup_sasl(o, sec, mail_pop3_sasl(p));
  if (!code && mail_pop3_set_security(p, security) != MAIL_OK)
    code = cli_usage_error("--tls: not usable with %s", url);
  if (code) {
    mail_pop3_free(p);
    return code;
  }
  *out = p;
  return EXIT_OK;
}

void cli_pop3_reply_str(const mail_pop3_reply *r, char *buf, size_t cap)
{
  size_t clen = 0;
  const char *code = mail_pop3_reply_resp_code(r, &clen);
  const char *text = mail_pop3_reply_text(r, NULL);
  int ok = mail_pop3_reply_status(r) == MAIL_POP3_OK;
  if (code && clen)
    snprintf(buf, cap, "%s [%.*s] %s", ok ? "+OK" : "-ERR", (int)clen, code, text ? text : "");
  else
    snprintf(buf, cap, "%s %s", ok ? "+OK" : "-ERR", text ? text : "");
}

int cli_pop3_fail(mail_pop3 *p, int rc, const char *what)
{
  const mail_pop3_reply *r = mail_pop3_last_reply(p);
  int code = cli_exit_code(rc);
  if ((rc == MAIL_ERR_SERVER || rc == MAIL_ERR_AUTH) && r &&
      mail_pop3_reply_status(r) == MAIL_POP3_ERR) {
    char line[1024];
    cli_pop3_reply_str(r, line, sizeof line);
    cli_fail(code, what, "%s", line);
  } else {
    cli_fail_status(mail_pop3_conn(p), rc, what);
  }
  if (mail_pop3_get_state(p) != MAIL_POP3_STATE_DISCONNECTED) {
    if (mail_pop3_deleted_count(p))
      mail_pop3_rset(p);
    mail_pop3_quit(p, NULL);
  }
  return code;
}

int cli_pop3_connect_only(mail_pop3 *p, const char *url, const char *what)
{
  int rc = mail_pop3_connect_url(p, url);
  if (rc == MAIL_ERR_SYNTAX)
    return cli_usage_error("bad URL '%s'", url);
  return rc ? cli_pop3_fail(p, rc, what) : EXIT_OK;
}

int cli_pop3_login(const cli_options *o, const cli_secrets *sec, mail_pop3 *p, const char *url)
{
  int code = cli_pop3_connect_only(p, url, "connect");
  if (code)
    return code;
  /* A user in the URL replaced the credentials: --user and the password
   * from the options win again. */
  mail_sasl *sasl = mail_pop3_sasl(p);
  int rc = cli_reapply_credentials(o, sec, sasl);
  if (rc) {
    mail_pop3_quit(p, NULL);
    return cli_fail(EXIT_INPUT, "credentials", "%s", mail_strerror(rc));
  }
  rc = mail_pop3_auth(p);
  if (rc == MAIL_ERR_INVALID) {
    mail_pop3_quit(p, NULL);
    return cli_usage_error("pop3 needs a user name (--user or pop3://user@host) and a password");
  }
  if (rc == MAIL_ERR_SERVER)
    rc = MAIL_ERR_AUTH; /* the login was refused, whatever the reason */
  if (rc)
    return cli_pop3_fail(p, rc, "login");
  const char *mech = mail_sasl_mechanism(sasl);
  cli_trace_note("authenticated with %s", mech ? mech : "USER/PASS or APOP");
  return EXIT_OK;
}

/* What every protocol subcommand sets up the same way on its session's
 * connection and SASL handle. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

int cli_setup_conn(const cli_options *o, mail_conn *conn)
{
  if (o->trace)
    cli_trace_install(conn);
  if (o->timeout_s) {
    mail_conn_set_timeout(conn, MAIL_TIMEOUT_CONNECT, o->timeout_s * 1000);
    mail_conn_set_timeout(conn, MAIL_TIMEOUT_IO, o->timeout_s * 1000);
  }
  if (o->max_line || o->max_response) {
    mail_limits lim;
    mail_limits_default(&lim);
    if (o->max_line)
      lim.max_line = o->max_line;
    if (o->max_response)
      lim.max_response = o->max_response;
    int rc = mail_conn_set_limits(conn, &lim);
    if (rc)
      return cli_fail(EXIT_USAGE, "limits", "%s", mail_strerror(rc));
  }
  if (o->cafile || o->insecure) {
    mail_tls_config *cfg = NULL;
    int rc = mail_tls_config_new(&cfg, NULL);
    if (!rc && o->cafile)
      rc = mail_tls_config_set_ca_file(cfg, o->cafile);
    if (!rc && o->insecure)
      rc = mail_tls_config_set_insecure_no_verify(cfg, 1);
    if (!rc)
      rc = mail_conn_set_tls_config(conn, cfg);
    mail_tls_config_free(cfg); /* the connection holds its own reference */
    if (rc)
      return cli_fail(EXIT_INPUT, o->cafile ? "--cafile" : "--insecure", "%s%s%s",
                      mail_strerror(rc), o->cafile ? ": " : "", o->cafile ? o->cafile : "");
  }
  const char *proxy = o->proxy;
  if (o->proxy_env && !(proxy = getenv(o->proxy_env)))
    return cli_fail(EXIT_USAGE, "--proxy-env", "%s is not set", o->proxy_env);
  if (proxy) {
    int rc = mail_conn_set_proxy_url(conn, proxy);
    if (rc) /* not the URL: it may hold the proxy's password */
      return cli_fail(EXIT_USAGE, o->proxy_env ? "--proxy-env" : "--proxy", "%s",
                      mail_strerror(rc));
  }
  return EXIT_OK;
}

int cli_setup_sasl(const cli_options *o, const cli_secrets *s, mail_sasl *sasl)
{
  int rc = MAIL_OK;
  if (o->user)
    rc = mail_sasl_set_username(sasl, o->user);
  if (!rc && s->password)
    rc = mail_sasl_set_password(sasl, s->password);
  if (rc)
    return cli_fail(EXIT_INPUT, "credentials", "%s", mail_strerror(rc));
  if (s->token && (rc = mail_sasl_set_oauth_token(sasl, s->token)) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "--oauth-token-env", "%s", mail_strerror(rc));
  if (o->mech && (rc = mail_sasl_set_mechanisms(sasl, o->mech)) != MAIL_OK)
    return cli_fail(EXIT_USAGE, "--mech", "%s: %s", o->mech, mail_strerror(rc));
  if (o->insecure)
    mail_sasl_set_allow_insecure_plaintext(sasl, 1);
  return EXIT_OK;
}

int cli_reapply_credentials(const cli_options *o, const cli_secrets *s, mail_sasl *sasl)
{
  int rc = MAIL_OK;
  if (o->user)
    rc = mail_sasl_set_username(sasl, o->user);
  if (!rc && s->password)
    rc = mail_sasl_set_password(sasl, s->password);
  if (!rc && s->token)
    rc = mail_sasl_set_oauth_token(sasl, s->token);
  return rc;
}

int cli_url_is(const char *url, const char *scheme)
{
  size_t n = strlen(scheme);
  return !strncasecmp(url, scheme, n) && !strncmp(url + n, "://", 3);
}

int cli_security_for(const cli_options *o, const char *url, int scheme_implicit,
                     int implicit_allowed)
{
  if (o->security < 0)
    return scheme_implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS;
  const char *end = strstr(url, "://");
  int len = end ? (int)(end - url) : (int)strlen(url);
  if (scheme_implicit && o->security != MAIL_SECURITY_IMPLICIT_TLS) {
    cli_usage_error("%.*s:// is implicit TLS; --tls can only be implicit there", len, url);
    return -1;
  }
  if (!scheme_implicit && o->security == MAIL_SECURITY_IMPLICIT_TLS && !implicit_allowed) {
    cli_usage_error("%.*s:// cannot be used with --tls implicit; use the scheme with 's'", len, url);
    return -1;
  }
  return o->security;
}

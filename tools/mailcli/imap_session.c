/* Opening, logging in and closing an IMAP session for mailcli, and the
 * small argument forms the imap subcommands share (sets, flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap_session.h"

int cli_imap_url(const char *url)
{
  return cli_url_is(url, "imap") || cli_url_is(url, "imaps");
}

int cli_imap_new(const cli_options *o, const cli_secrets *sec, const char *url, mail_imap **out)
{
  mail_imap *im = NULL;
  int security = cli_security_for(o, url, cli_url_is(url, "imaps"), 0);
  if (security < 0)
    return EXIT_USAGE;
  if (mail_imap_new(&im, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "imap", "out of memory");
  int code = cli_setup_conn(o, mail_imap_conn(im));
  if (!code)
    code = cli_setup_sasl(o, sec, mail_imap_sasl(im));
  if (!code && mail_imap_set_security(im, security) != MAIL_OK)
    code = cli_usage_error("--tls: not usable with %s", url);
  if (code) {
    mail_imap_free(im);
    return code;
  }
  *out = im;
  return EXIT_OK;
}

/* A refusal in the server's words, the tagged NO or BAD of the command
 * that failed, unless the session's error string says more than that. */
static int refused_by_reply(int rc)
{
  return rc == MAIL_ERR_SERVER || rc == MAIL_ERR_AUTH || rc == MAIL_ERR_THROTTLED ||
         rc == MAIL_ERR_SERVER_LIMIT || rc == MAIL_ERR_TOO_MANY_CONNECTIONS ||
         rc == MAIL_ERR_CHARSET;
}

int cli_imap_fail(mail_imap *im, int rc, const char *what)
{
  const char *detail = mail_conn_last_error(mail_imap_conn(im));
  int status = mail_imap_last_status(im), code;
  int plain = !detail || !*detail || !strncmp(detail, "the server answered ", 20);
  if (plain && refused_by_reply(rc) &&
      (status == MAIL_IMAP_TYPE_NO || status == MAIL_IMAP_TYPE_BAD))
    code = cli_fail(cli_exit_code(rc), what, "%s %s", status == MAIL_IMAP_TYPE_NO ? "NO" : "BAD",
                    mail_imap_last_text(im));
  else
    code = cli_fail_status(mail_imap_conn(im), rc, what);
  if (mail_imap_get_state(im) != MAIL_IMAP_STATE_DISCONNECTED)
    mail_imap_logout(im);
  return code;
}

int cli_imap_login(const cli_options *o, const cli_secrets *sec, mail_imap *im, const char *url)
{
  int rc = mail_imap_connect_url(im, url);
  if (rc == MAIL_ERR_SYNTAX)
    return cli_usage_error("bad URL '%s'", url);
  if (rc)
    return cli_imap_fail(im, rc, "connect");
  if (mail_imap_get_state(im) == MAIL_IMAP_STATE_AUTHENTICATED) {
    cli_trace_note("PREAUTH: logged in by the server");
    return EXIT_OK;
  }
  mail_sasl *sasl = mail_imap_sasl(im);
  if ((rc = cli_reapply_credentials(o, sec, sasl)) != MAIL_OK) {
    mail_imap_logout(im);
    return cli_fail(EXIT_INPUT, "credentials", "%s", mail_strerror(rc));
  }
  rc = mail_imap_login(im);
  if (rc == MAIL_ERR_INVALID) {
    mail_imap_logout(im);
    return cli_usage_error("imap needs a user name (--user or imap://user@host) and a password");
  }
  if (rc == MAIL_ERR_SERVER)
    rc = MAIL_ERR_AUTH; /* the login was refused, whatever the reason */
  if (rc)
    return cli_imap_fail(im, rc, "login");
  const char *mech = mail_sasl_mechanism(sasl);
  cli_trace_note("authenticated with %s", mech ? mech : "LOGIN");
  return EXIT_OK;
}

int cli_imap_select(mail_imap *im, const char *mailbox, int read_only)
{
  int rc = mail_imap_select(im, mailbox, read_only);
  if (rc) {
    char what[300];
    snprintf(what, sizeof what, "%s %s", read_only ? "EXAMINE" : "SELECT", mailbox);
    return cli_imap_fail(im, rc, what);
  }
  return EXIT_OK;
}

/* One number of a set, or "*"; 0 when it is not. */
static int set_number(const char *p, size_t n, uint32_t *out)
{
  if (n == 1 && *p == '*') {
    *out = UINT32_MAX;
    return 1;
  }
  if (n == 0 || n > 10)
    return 0;
  unsigned long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return 0;
    v = v * 10 + (unsigned)(p[i] - '0');
  }
  if (v == 0 || v >= UINT32_MAX)
    return 0;
  *out = (uint32_t)v;
  return 1;
}

int cli_imap_parse_set(mail_imap_seqset *s, const char *text)
{
  const char *p = text;
  if (!*p)
    return -1;
  for (;;) {
    size_t n = strcspn(p, ",");
    const char *colon = memchr(p, ':', n);
    uint32_t a, b;
    if (colon) {
      if (!set_number(p, (size_t)(colon - p), &a) ||
          !set_number(colon + 1, n - (size_t)(colon - p) - 1, &b))
        return -1;
    } else if (!set_number(p, n, &a)) {
      return -1;
    } else {
      b = a;
    }
    if (mail_imap_seqset_add_range(s, a, b) != MAIL_OK)
      return -1;
    if (!p[n])
      return 0;
    p += n + 1;
  }
}

int cli_imap_single(const char *text)
{
  uint32_t v;
  return set_number(text, strlen(text), &v) && v != UINT32_MAX;
}

const char *cli_imap_flag(const char *text)
{
  static const char *const system[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                       "\\Draft"};
  for (size_t i = 0; i < sizeof system / sizeof system[0]; i++)
    if (!strcasecmp(text, system[i] + 1))
      return system[i];
  return text;
}

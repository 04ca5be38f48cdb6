/* smtp://, submission://, smtps:// and lmtp:// URLs (see
 * mail_smtp_connect_url): a scheme table for the one parser in
 * core/url.c. No userinfo (credentials go through mail_smtp_set_auth). */
#include <string.h>

#include "core/url.h"
#include "smtp/smtp_internal.h"

static const mail_url_scheme schemes[] = {
  {"smtp", 25, 0},
  {"smtps", 465, MAIL_URL_IMPLICIT_TLS},
  {"lmtp", 24, MAIL_URL_UNIX_PATH | SMTP_URL_LMTP},
  {"submission", 587, 0},
};

_Static_assert(sizeof ((smtp_url *)0)->host > MAIL_URL_HOST_MAX, "host buffer");

int smtp_url_parse(const char *url, smtp_url *out)
{
  if (!url || !out)
    return MAIL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  mail_url u;
  /* No userinfo is allowed, so nothing is allocated: the default
   * allocator is never used. */
  int rc = mail_url_parse(&u, url, schemes, sizeof schemes / sizeof schemes[0], NULL);
  if (rc)
    return rc;
  out->flags = u.scheme->flags;
  out->port = u.port;
  memcpy(out->host, u.host, sizeof out->host);
  if (u.socket_path) {
    size_t n = strlen(u.socket_path);
    if (n >= sizeof out->path)
      rc = MAIL_ERR_SYNTAX;
    else
      memcpy(out->path, u.socket_path, n + 1);
  }
  mail_url_clear(&u, NULL);
  return rc;
}

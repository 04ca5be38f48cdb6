/* pop3:// and pop3s:// URLs (RFC 2384 without the ";AUTH=" part): a
 * scheme table for the one parser in core/url.c, and what the URL means
 * for the session (security mode, credentials). */
#include "core/url.h"
#include "pop3/pop3_internal.h"

static const mail_url_scheme schemes[] = {
  {"pop3", 110, MAIL_URL_USERINFO},
  {"pop3s", 995, MAIL_URL_USERINFO | MAIL_URL_IMPLICIT_TLS},
};

int mail_pop3_connect_url(mail_pop3 *p, const char *url)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_CONNECT, &rc))
    return rc;
  if (!url)
    return MAIL_ERR_INVALID;
  mail_url u;
  rc = mail_url_parse(&u, url, schemes, sizeof schemes / sizeof schemes[0], &p->alloc);
  if (rc)
    return rc;
  int security = mail_url_security(u.scheme, p->security);
  if (p->state != MAIL_POP3_STATE_DISCONNECTED)
    rc = MAIL_ERR_STATE;
  if (!rc && u.user && *u.user)
    rc = mail_pop3_set_auth(p, u.user, u.password);
  if (!rc)
    rc = mail_pop3_connect(p, u.host, u.port, security);
  mail_url_clear(&u, &p->alloc);
  return rc;
}

/* The connection's proxy settings (mail_conn_set_proxy*); connecting
 * through the proxy is in conn_connect.c, the negotiation in proxy.c. */
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "core/url.h"
#include "net/conn_impl.h"
#include "net/proxy.h"

const char *mail_proxy_kind_name(int kind)
{
  return kind == MAIL_PROXY_SOCKS5 ? "SOCKS5" : "HTTP";
}

#if !MAIL_WITH_PROXY
/* A build without proxies (-Dproxy=disabled): the calls refuse, nothing is
 * kept (the connection's proxy fields stay empty). */
void conn_proxy_clear(mail_conn *c)
{
  (void)c;
}

int mail_conn_set_proxy(mail_conn *c, int kind, const char *host, unsigned int port)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (kind == MAIL_PROXY_NONE)
    return host || port ? MAIL_ERR_INVALID : MAIL_OK;
  return mail_conn_fail(c, MAIL_ERR_UNSUPPORTED, "built without proxies (-Dproxy)");
}

int mail_conn_set_proxy_auth(mail_conn *c, const char *user, const char *password)
{
  (void)user, (void)password;
  return c ? MAIL_ERR_STATE : MAIL_ERR_INVALID; /* no proxy can be set */
}

int mail_conn_set_proxy_url(mail_conn *c, const char *url)
{
  if (!c || !url)
    return MAIL_ERR_INVALID;
  return mail_conn_fail(c, MAIL_ERR_UNSUPPORTED, "built without proxies (-Dproxy)");
}
#else
static int settable(const mail_conn *c)
{
  return conn_can_start(c);
}

static void drop_auth(mail_conn *c)
{
  mail_dealloc_secret_str(A(c), c->proxy_user);
  mail_dealloc_secret_str(A(c), c->proxy_pass);
  c->proxy_user = c->proxy_pass = NULL;
}

void conn_proxy_clear(mail_conn *c)
{
  drop_auth(c);
  mail_dealloc(A(c), c->proxy_host);
  c->proxy_host = NULL;
  c->proxy_kind = MAIL_PROXY_NONE;
  c->proxy_port = 0;
}

int mail_conn_set_proxy(mail_conn *c, int kind, const char *host, unsigned int port)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (!settable(c))
    return MAIL_ERR_STATE;
  if (kind == MAIL_PROXY_NONE) {
    if (host || port)
      return MAIL_ERR_INVALID;
    conn_proxy_clear(c);
    return MAIL_OK;
  }
  if (kind != MAIL_PROXY_SOCKS5 && kind != MAIL_PROXY_HTTP)
    return MAIL_ERR_INVALID;
  size_t n = host ? strlen(host) : 0;
  if (n == 0 || n > 255 || mail_has_crlfnul(host, n) || strchr(host, ' ') || port == 0 ||
      port > 65535)
    return MAIL_ERR_INVALID;
  char *copy = mail_strdup(A(c), host);
  if (!copy)
    return MAIL_ERR_NOMEM;
  if (c->proxy_kind != kind)
    drop_auth(c); /* credentials belong to the proxy they were given for */
  mail_dealloc(A(c), c->proxy_host);
  c->proxy_host = copy;
  c->proxy_kind = kind;
  c->proxy_port = port;
  return MAIL_OK;
}

int mail_conn_set_proxy_auth(mail_conn *c, const char *user, const char *password)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (!settable(c) || c->proxy_kind == MAIL_PROXY_NONE)
    return MAIL_ERR_STATE;
  if (!user && !password) {
    drop_auth(c);
    return MAIL_OK;
  }
  if (!user || !password)
    return MAIL_ERR_INVALID;
  size_t ul = strlen(user), pl = strlen(password);
  if (ul > 255 || pl > 255 || mail_has_crlfnul(user, ul) || mail_has_crlfnul(password, pl))
    return MAIL_ERR_INVALID;
  if (c->proxy_kind == MAIL_PROXY_HTTP && strchr(user, ':'))
    return MAIL_ERR_INVALID; /* Basic cannot carry it (RFC 7617 2) */
  char *u = mail_strdup(A(c), user), *p = mail_strdup(A(c), password);
  if (!u || !p) {
    mail_dealloc_secret_str(A(c), u);
    mail_dealloc_secret_str(A(c), p);
    return MAIL_ERR_NOMEM;
  }
  drop_auth(c);
  c->proxy_user = u;
  c->proxy_pass = p;
  return MAIL_OK;
}

static const mail_url_scheme proxy_schemes[] = {
  {"socks5", 1080, MAIL_URL_USERINFO},
  {"socks5h", 1080, MAIL_URL_USERINFO},
  {"http", 8080, MAIL_URL_USERINFO},
};

int mail_conn_set_proxy_url(mail_conn *c, const char *url)
{
  if (!c || !url)
    return MAIL_ERR_INVALID;
  if (!settable(c))
    return MAIL_ERR_STATE;
  mail_url u;
  int rc = mail_url_parse(&u, url, proxy_schemes, sizeof proxy_schemes / sizeof proxy_schemes[0],
                          A(c));
  if (rc)
    return rc;
  int kind = u.scheme_index == 2 ? MAIL_PROXY_HTTP : MAIL_PROXY_SOCKS5;
  rc = mail_conn_set_proxy(c, kind, u.host, u.port);
  if (rc == MAIL_OK && u.has_userinfo && u.user && *u.user)
    rc = mail_conn_set_proxy_auth(c, u.user, u.password ? u.password : "");
  else if (rc == MAIL_OK)
    drop_auth(c);
  if (rc)
    conn_proxy_clear(c); /* nothing half-set */
  mail_url_clear(&u, A(c));
  return rc;
}
#endif

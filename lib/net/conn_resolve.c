/* The caller's name resolver (mail_conn_set_resolver): the query a connect
 * makes and the answer that lets it go on (mail_conn_resolved). The connect
 * side is in conn_connect.c. */
#include <string.h>

#include "core/mem.h"
#include "net/conn_impl.h"

int mail_conn_set_resolver(mail_conn *c, mail_resolve_fn fn, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (!conn_can_start(c) && c->state != ST_OPEN)
    return MAIL_ERR_STATE;
  c->resolver = fn;
  c->resolver_user = fn ? user : NULL;
  return MAIL_OK;
}

int mail_conn_resolved(mail_conn *c, int status, const void *const *addrs, const size_t *lens,
                       size_t n, const char *why)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (c->state != ST_RESOLVING || c->connector || c->resolve_rc)
    return MAIL_ERR_STATE;
  if (status != MAIL_OK) {
    if (status > 0 || (why && mail_has_crlfnul(why, strlen(why))))
      return MAIL_ERR_INVALID;
    c->resolve_rc = status;
    mail_conn_fail(c, status, "cannot resolve %s: %s", c->proxy_host ? c->proxy_host : c->host,
                   why ? why : mail_strerror(status));
    return MAIL_OK;
  }
  if (n == 0 || !addrs || !lens)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!mail_tcp_sockaddr_is_inet(addrs[i], lens[i]))
      return MAIL_ERR_INVALID;
  mail_tcp_connector *k = NULL;
  int rc = mail_tcp_connector_new_list(&k, c, addrs, lens, n);
  if (rc) {
    if (rc == MAIL_ERR_NOMEM)
      c->resolve_rc = rc;
    return rc;
  }
  mail_tcp_connector_set_port(k, c->proxy_kind != MAIL_PROXY_NONE ? c->proxy_port : c->port);
  c->connector = k;
  return MAIL_OK;
}

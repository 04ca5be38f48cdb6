/* The proxy layer of a build without sockets: there is no TCP to tunnel. */
#include "net/proxy.h"

#include <mail/common.h>

int mail_proxy_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower,
                         const mail_proxy_target *t)
{
  (void)conn;
  (void)lower;
  (void)t;
  if (out)
    *out = NULL;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_layer_is_proxy(const mail_layer *l)
{
  (void)l;
  return 0;
}

/*
 * The proxy layer: a tunnel through a SOCKS5 (RFC 1928, user/password of
 * RFC 1929) or HTTP CONNECT (RFC 9110 9.3.6) proxy, pushed on the socket
 * layer connected to the proxy. Its handshake asks the proxy for a tunnel
 * to the target; once it is done, reads and writes pass straight through,
 * and TLS (implicit or after STARTTLS) goes on top like on any socket.
 *
 * The target's name goes to the proxy as a name (SOCKS5 address type 3,
 * or the CONNECT authority): nothing about it is looked up here, so the
 * proxy resolves it. The proxy's answer is read exactly (SOCKS5) or up to
 * the end of its header block, bounded by the connection's max_line
 * (HTTP); bytes the proxy sent after that header belong to the server and
 * are handed up first. The proxy credentials never go through the output
 * queue, so no trace shows them; the layer wipes its copies.
 */
#ifndef MAIL_NET_PROXY_H
#define MAIL_NET_PROXY_H

#include "net/layer.h"

/* Everything the layer needs, borrowed for the call to _new only. */
typedef struct mail_proxy_target {
  int kind;              /* MAIL_PROXY_SOCKS5 or MAIL_PROXY_HTTP */
  const char *host;      /* the target: a name or an IP literal (IPv6 without brackets) */
  unsigned int port;
  const char *user;      /* NULL: no credentials */
  const char *password;
} mail_proxy_target;

/* Push a proxy layer on lower (which it then owns). MAIL_ERR_NOMEM,
 * MAIL_ERR_INVALID (a field out of range). On failure lower stays the
 * caller's. */
int mail_proxy_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower,
                         const mail_proxy_target *t);

/* "SOCKS5" or "HTTP" for the trace and error texts. */
const char *mail_proxy_kind_name(int kind);

#endif

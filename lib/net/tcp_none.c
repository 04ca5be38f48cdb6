/* The socket layer in a build without sockets (-Dsockets=disabled, bare
 * metal): nothing to connect with, so every way to open a socket says so.
 * Connections run over a user transport (mail_conn_set_transport). */
#include "net/tcp.h"

#include "core/conn_internal.h"

static int no_sockets(mail_tcp_connector **out, mail_conn *c)
{
  *out = NULL;
  return mail_conn_fail(c, MAIL_ERR_UNSUPPORTED,
                        "built without sockets: set a transport (mail_conn_set_transport)");
}

int mail_tcp_connector_new_host(mail_tcp_connector **out, mail_conn *c, const char *host,
                                unsigned int port)
{
  (void)host;
  (void)port;
  return no_sockets(out, c);
}

int mail_tcp_connector_new_addr(mail_tcp_connector **out, mail_conn *c, const void *sa,
                                size_t len)
{
  (void)sa;
  (void)len;
  return no_sockets(out, c);
}

int mail_tcp_connector_new_list(mail_tcp_connector **out, mail_conn *c, const void *const *sas,
                                const size_t *lens, size_t n)
{
  (void)sas;
  (void)lens;
  (void)n;
  return no_sockets(out, c);
}

int mail_tcp_connector_new_unix(mail_tcp_connector **out, mail_conn *c, const char *path)
{
  (void)path;
  return no_sockets(out, c);
}

/* No connector is ever made, so the rest is never reached with one. */
int mail_tcp_connector_step(mail_tcp_connector *k, int64_t now, int64_t deadline, int waited_out,
                            int *fd)
{
  (void)k;
  (void)now;
  (void)deadline;
  (void)waited_out;
  *fd = -1;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tcp_connector_fd(const mail_tcp_connector *k)
{
  (void)k;
  return -1;
}

int64_t mail_tcp_connector_attempt_deadline(const mail_tcp_connector *k)
{
  (void)k;
  return -1;
}

const char *mail_tcp_connector_address(const mail_tcp_connector *k)
{
  (void)k;
  return "";
}

void mail_tcp_connector_free(mail_tcp_connector *k) { (void)k; }

void mail_tcp_connector_set_port(mail_tcp_connector *k, unsigned int port)
{
  (void)k;
  (void)port;
}

int mail_tcp_sockaddr_is_inet(const void *sa, size_t len)
{
  (void)sa;
  (void)len;
  return 0;
}

int mail_tcp_is_ip_literal(const char *host)
{
  (void)host;
  return 0;
}

int mail_tcp_prepare_fd(int fd)
{
  (void)fd;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tcp_layer_new(mail_layer **out, mail_conn *c, int fd, int own)
{
  (void)fd;
  (void)own;
  *out = NULL;
  return mail_conn_fail(c, MAIL_ERR_UNSUPPORTED, "built without sockets");
}

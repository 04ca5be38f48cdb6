/* The default client name an engine greets the server with (SMTP's EHLO
 * name): see mail_conn_local_name() in core/conn_internal.h. Socket code,
 * so it lives here and engines reach it only through the connection. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/conn_internal.h"

#if MAIL_WITH_SOCKETS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3) for the local
 * address of socket fd. 0, or -1 when fd is not a connected IP socket (a
 * Unix socket, a user transport) or cap is too small. */
static int local_address_literal(int fd, char *out, size_t cap)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  char ip[INET6_ADDRSTRLEN];
  if (fd < 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return -1;
  int n;
  if (ss.ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)&ss;
    if (!inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip))
      return -1;
    n = snprintf(out, cap, "[%s]", ip);
  } else if (ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&ss;
    if (!inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip))
      return -1;
    n = snprintf(out, cap, "[IPv6:%s]", ip);
  } else {
    return -1;
  }
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* 1 when h is a fully qualified host name of letters, digits, '-', '.'. */
static int fully_qualified(const char *h, size_t n)
{
  int ok = n > 0 && strchr(h, '.') != NULL && h[0] != '.' && h[n - 1] != '.';
  for (const char *p = h; *p && ok; p++)
    ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
         *p == '-' || *p == '.';
  return ok;
}
#endif

int mail_conn_local_name(const mail_conn *c, char *out, size_t cap)
{
  if (!out || cap == 0)
    return MAIL_ERR_INVALID;
#if MAIL_WITH_SOCKETS
  char h[256];
  if (gethostname(h, sizeof h - 1) == 0) {
    h[sizeof h - 1] = '\0';
    size_t n = strlen(h);
    if (fully_qualified(h, n) && n < cap) {
      memcpy(out, h, n + 1);
      return MAIL_OK;
    }
  }
  if (local_address_literal(mail_conn_fd(c), out, cap) == 0)
    return MAIL_OK;
#else
  /* no host name or socket address to ask (bare metal): the literal
   * below, unless the caller names the client (mail_smtp_set_client_name) */
  (void)c;
#endif
  if (cap < sizeof "[127.0.0.1]")
    return MAIL_ERR_BUFFER;
  memcpy(out, "[127.0.0.1]", sizeof "[127.0.0.1]");
  return MAIL_OK;
}

/* The local address of a socket as an SMTP address literal (see local_name.h). */
#include "net/local_name.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int mail_net_local_address_literal(int fd, char *out, size_t cap)
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

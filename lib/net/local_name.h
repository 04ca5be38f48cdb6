/* The local end of a connection as an SMTP address literal, for the
 * default EHLO name (no socket header here: protocol engines include it). */
#ifndef MAIL_NET_LOCAL_NAME_H
#define MAIL_NET_LOCAL_NAME_H

#include <stddef.h>

/* Write "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3) for the
 * local address of socket fd into out. 0 on success, -1 when fd is not a
 * connected IP socket (a Unix socket, a user transport) or cap is too small. */
int mail_net_local_address_literal(int fd, char *out, size_t cap);

#endif

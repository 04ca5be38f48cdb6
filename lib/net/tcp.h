/*
 * The socket layer (TCP and Unix-domain stream sockets) and the connector
 * that opens one.
 *
 * The connector holds the candidate addresses of one connect: every address
 * getaddrinfo() gave for a host (IPv6 and IPv4, in its order), or one
 * address the caller resolved, or one Unix socket path. They are tried in
 * order within one deadline; each attempt is a non-blocking connect() that
 * the caller waits on (poll for writing) between calls to
 * mail_tcp_connector_step(). So that a silent first address cannot use up
 * the whole deadline, an attempt gets an equal share of the time left:
 * (deadline - now) / (addresses not tried yet); the last one gets all that
 * remains.
 *
 * Sockets are always O_NONBLOCK and FD_CLOEXEC, TCP sockets TCP_NODELAY,
 * and the layer writes with send(MSG_NOSIGNAL) so a closed peer gives an
 * error, never SIGPIPE.
 */
#ifndef MAIL_NET_TCP_H
#define MAIL_NET_TCP_H

#include <stddef.h>
#include <stdint.h>

#include "net/layer.h"

typedef struct mail_tcp_connector mail_tcp_connector;

/*
 * Resolve host:port (blocking: getaddrinfo has no deadline; event-loop
 * callers that cannot block resolve themselves and use _new_addr). host may
 * be a name or an IPv4/IPv6 literal (without brackets). Errors:
 * MAIL_ERR_RESOLVE (text in mail_conn_last_error), MAIL_ERR_NOMEM,
 * MAIL_ERR_INVALID (port 0 or above 65535).
 */
int mail_tcp_connector_new_host(mail_tcp_connector **out, mail_conn *c, const char *host,
                                unsigned int port);
/* One resolved address (struct sockaddr_in / sockaddr_in6 / sockaddr_un). */
int mail_tcp_connector_new_addr(mail_tcp_connector **out, mail_conn *c, const void *sa,
                                size_t len);
/* Several resolved addresses, tried in order (sas[i] has lens[i] bytes). */
int mail_tcp_connector_new_list(mail_tcp_connector **out, mail_conn *c, const void *const *sas,
                                const size_t *lens, size_t n);
/* Set the port of every IPv4/IPv6 address of k (a caller's resolver gave
 * them without one). */
void mail_tcp_connector_set_port(mail_tcp_connector *k, unsigned int port);
/* 1 when sa (len bytes) is a complete struct sockaddr_in or sockaddr_in6. */
int mail_tcp_sockaddr_is_inet(const void *sa, size_t len);
/* 1 when host is an IPv4 or IPv6 literal (brackets and a zone allowed). */
int mail_tcp_is_ip_literal(const char *host);
/* A Unix-domain stream socket. MAIL_ERR_INVALID when the path is too long. */
int mail_tcp_connector_new_unix(mail_tcp_connector **out, mail_conn *c, const char *path);

/*
 * Make progress. now and deadline are mail_env_now() milliseconds (deadline
 * -1: none). waited_out is non-zero when the caller's wait for the current
 * attempt ran out (so a stopped clock cannot keep an attempt alive).
 * Returns MAIL_OK with *fd connected (the caller owns it from then on),
 * MAIL_ERR_AGAIN (wait for mail_tcp_connector_fd() to become writable until
 * mail_tcp_connector_attempt_deadline()), or MAIL_ERR_CONNECT /
 * MAIL_ERR_TIMEOUT / MAIL_ERR_NOMEM with mail_conn_last_error() set.
 */
int mail_tcp_connector_step(mail_tcp_connector *k, int64_t now, int64_t deadline, int waited_out,
                            int *fd);
/* The socket of the attempt in progress, or -1. */
int mail_tcp_connector_fd(const mail_tcp_connector *k);
/* When the attempt in progress gives way to the next address (-1: none). */
int64_t mail_tcp_connector_attempt_deadline(const mail_tcp_connector *k);
/* The address of the latest attempt ("127.0.0.1:25", "[::1]:25",
 * "unix:/path"), for trace and error text; "" before the first. */
const char *mail_tcp_connector_address(const mail_tcp_connector *k);
/* Close the attempt in progress and free. NULL is fine. */
void mail_tcp_connector_free(mail_tcp_connector *k);

/* Set O_NONBLOCK, FD_CLOEXEC and (on TCP) TCP_NODELAY on a connected
 * stream socket. MAIL_ERR_INVALID when fd is not a usable descriptor. */
int mail_tcp_prepare_fd(int fd);

/* The bottom layer over a connected socket; owns fd from then on (closes
 * it when destroyed). On failure (MAIL_ERR_NOMEM) fd is left to the caller.
 * own: 1 for a socket this library connected, whose file flags it may
 * change (reads that wait in the kernel); 0 for an adopted descriptor. */
int mail_tcp_layer_new(mail_layer **out, mail_conn *c, int fd, int own);

#endif

/* TCP and Unix-domain sockets: the connector and the bottom layer. */
#include "net/tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/conn_internal.h"
#include "core/mem.h"

typedef struct tcp_addr {
  struct sockaddr_storage ss;
  socklen_t len;
} tcp_addr;

struct mail_tcp_connector {
  mail_conn *conn;
  tcp_addr *addrs;
  size_t n;
  size_t next;            /* index of the next address to try */
  int fd;                 /* attempt in progress, or -1 */
  int64_t attempt_deadline;
  int last_errno;         /* why the last attempt failed (ETIMEDOUT for our timeout) */
  char last_addr[128];    /* the address of the last attempt, for error text */
  char target[96];        /* what was asked for, for error text */
};

static const mail_allocator *conn_alloc(mail_conn *c)
{
  return &mail_conn_env(c)->alloc;
}

static void format_addr(const tcp_addr *a, char *out, size_t cap)
{
  char ip[INET6_ADDRSTRLEN];
  if (a->ss.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&a->ss;
    inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
    snprintf(out, cap, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
  } else if (a->ss.ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
    snprintf(out, cap, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
  } else if (a->ss.ss_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
    snprintf(out, cap, "unix:%.*s", (int)sizeof un->sun_path, un->sun_path);
  } else {
    snprintf(out, cap, "address family %d", (int)a->ss.ss_family);
  }
}

static int connector_alloc(mail_tcp_connector **out, mail_conn *c, size_t n)
{
  const mail_allocator *a = conn_alloc(c);
  mail_tcp_connector *k = mail_calloc(a, 1, sizeof *k);
  if (!k)
    return MAIL_ERR_NOMEM;
  k->addrs = mail_calloc(a, n, sizeof *k->addrs);
  if (!k->addrs) {
    mail_dealloc(a, k);
    return MAIL_ERR_NOMEM;
  }
  k->conn = c;
  k->n = n;
  k->fd = -1;
  k->attempt_deadline = -1;
  *out = k;
  return MAIL_OK;
}

static int valid_sockaddr(const void *sa, size_t len)
{
  if (!sa || len < sizeof(sa_family_t) || len > sizeof(struct sockaddr_storage))
    return 0;
  sa_family_t fam = ((const struct sockaddr *)sa)->sa_family;
  if (fam == AF_INET)
    return len >= sizeof(struct sockaddr_in);
  if (fam == AF_INET6)
    return len >= sizeof(struct sockaddr_in6);
  if (fam == AF_UNIX)
    return len > offsetof(struct sockaddr_un, sun_path);
  return 0;
}

int mail_tcp_connector_new_list(mail_tcp_connector **out, mail_conn *c, const void *const *sas,
                                const size_t *lens, size_t n)
{
  *out = NULL;
  if (n == 0)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!valid_sockaddr(sas[i], lens[i]))
      return mail_conn_fail(c, MAIL_ERR_INVALID, "unsupported socket address");
  mail_tcp_connector *k;
  int rc = connector_alloc(&k, c, n);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++) {
    memcpy(&k->addrs[i].ss, sas[i], lens[i]);
    k->addrs[i].len = (socklen_t)lens[i];
  }
  format_addr(&k->addrs[0], k->target, sizeof k->target);
  *out = k;
  return MAIL_OK;
}

void mail_tcp_connector_set_port(mail_tcp_connector *k, unsigned int port)
{
  for (size_t i = 0; i < k->n; i++) {
    struct sockaddr_storage *ss = &k->addrs[i].ss;
    if (ss->ss_family == AF_INET)
      ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else if (ss->ss_family == AF_INET6)
      ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
  }
  format_addr(&k->addrs[0], k->target, sizeof k->target);
}

int mail_tcp_sockaddr_is_inet(const void *sa, size_t len)
{
  if (!valid_sockaddr(sa, len))
    return 0;
  sa_family_t fam = ((const struct sockaddr *)sa)->sa_family;
  return fam == AF_INET || fam == AF_INET6;
}

int mail_tcp_is_ip_literal(const char *host)
{
  unsigned char a[16];
  char name[64];
  size_t n = strlen(host);
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    if (n - 2 >= sizeof name)
      return 0;
    memcpy(name, host + 1, n - 2);
    name[n - 2] = '\0';
    host = name;
  }
  /* A zone ("fe80::1%eth0") makes it a literal too: the resolver has no
   * business with it. */
  const char *pct = strchr(host, '%');
  if (pct && (size_t)(pct - host) < sizeof name) {
    if (host != name)
      memcpy(name, host, (size_t)(pct - host));
    name[pct - host] = '\0';
    host = name;
  }
  return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int mail_tcp_connector_new_addr(mail_tcp_connector **out, mail_conn *c, const void *sa, size_t len)
{
  return mail_tcp_connector_new_list(out, c, &sa, &len, 1);
}

int mail_tcp_connector_new_unix(mail_tcp_connector **out, mail_conn *c, const char *path)
{
  *out = NULL;
  struct sockaddr_un un;
  size_t plen = path ? strlen(path) : 0;
  if (plen == 0 || plen >= sizeof un.sun_path)
    return mail_conn_fail(c, MAIL_ERR_INVALID, "Unix socket path empty or too long");
  memset(&un, 0, sizeof un);
  un.sun_family = AF_UNIX;
  memcpy(un.sun_path, path, plen);
  size_t len = offsetof(struct sockaddr_un, sun_path) + plen + 1;
  return mail_tcp_connector_new_addr(out, c, &un, len);
}

int mail_tcp_connector_new_host(mail_tcp_connector **out, mail_conn *c, const char *host,
                                unsigned int port)
{
  *out = NULL;
  if (!host || !*host || port == 0 || port > 65535)
    return mail_conn_fail(c, MAIL_ERR_INVALID, "invalid host or port");
  size_t hlen = strlen(host);
  if (mail_has_crlfnul(host, hlen) || hlen > 1024)
    return mail_conn_fail(c, MAIL_ERR_INVALID, "invalid host name");
  /* Accept a bracketed IPv6 literal as URLs write it. */
  char name[1025];
  if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
    memcpy(name, host + 1, hlen - 2);
    name[hlen - 2] = '\0';
  } else {
    memcpy(name, host, hlen + 1);
  }
  char service[8];
  snprintf(service, sizeof service, "%u", port);

  /* No AI_ADDRCONFIG: it hides ::1 on hosts whose only IPv6 address is the
   * loopback one; an address of an unusable family just fails fast and the
   * next one is tried. */
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV;
  int g = getaddrinfo(name, service, &hints, &res);
  if (g != 0) {
    const char *why = g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g);
    return mail_conn_fail(c, MAIL_ERR_RESOLVE, "cannot resolve %.200s: %s", name, why);
  }
  size_t n = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        ai->ai_addrlen <= sizeof(struct sockaddr_storage))
      n++;
  if (n == 0) {
    freeaddrinfo(res);
    return mail_conn_fail(c, MAIL_ERR_RESOLVE, "%.200s has no IPv4 or IPv6 address", name);
  }
  mail_tcp_connector *k;
  int rc = connector_alloc(&k, c, n);
  if (rc) {
    freeaddrinfo(res);
    return rc;
  }
  size_t i = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        ai->ai_addrlen <= sizeof(struct sockaddr_storage)) {
      memcpy(&k->addrs[i].ss, ai->ai_addr, ai->ai_addrlen);
      k->addrs[i].len = ai->ai_addrlen;
      i++;
    }
  }
  freeaddrinfo(res);
  snprintf(k->target, sizeof k->target, "%.60s port %u", name, port);
  *out = k;
  return MAIL_OK;
}

static void close_fd(int fd)
{
  /* Linux releases the descriptor even when close() reports EINTR, so it
   * must not be retried. */
  if (fd >= 0)
    close(fd);
}

static void set_nodelay(int fd)
{
  int one = 1;
  /* Fails harmlessly (ENOTSUP/EOPNOTSUPP) on Unix-domain sockets. */
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int mail_tcp_prepare_fd(int fd)
{
  if (fd < 0)
    return MAIL_ERR_INVALID;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return MAIL_ERR_INVALID;
  int fdfl = fcntl(fd, F_GETFD);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
    return MAIL_ERR_INVALID;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
      (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
    set_nodelay(fd);
  return MAIL_OK;
}

static void attempt_failed(mail_tcp_connector *k, int err)
{
  close_fd(k->fd);
  k->fd = -1;
  k->attempt_deadline = -1;
  k->last_errno = err;
}

static int give_up(mail_tcp_connector *k, int timed_out)
{
  mail_conn *c = k->conn;
  if (timed_out || k->last_errno == ETIMEDOUT)
    return mail_conn_fail(c, MAIL_ERR_TIMEOUT, "connect to %s timed out (%zu address%s tried)",
                          k->target, k->next, k->next == 1 ? "" : "es");
  if (k->n == 1)
    return mail_conn_fail(c, MAIL_ERR_CONNECT, "connect to %s: %s", k->last_addr,
                          strerror(k->last_errno));
  return mail_conn_fail(c, MAIL_ERR_CONNECT, "connect to %s failed on all %zu addresses; last, %s: %s",
                        k->target, k->n, k->last_addr, strerror(k->last_errno));
}

/* Start a connect() to the next address. MAIL_OK: connected at once (*fd);
 * MAIL_ERR_AGAIN: in progress; otherwise the attempt failed (already
 * recorded) and the caller moves on. */
static int start_attempt(mail_tcp_connector *k, int64_t now, int64_t deadline, int *fd)
{
  const tcp_addr *a = &k->addrs[k->next];
  size_t left = k->n - k->next;
  k->next++;
  format_addr(a, k->last_addr, sizeof k->last_addr);
  int s = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) {
    k->last_errno = errno;
    return MAIL_ERR_CONNECT;
  }
  k->fd = s;
  if (connect(s, (const struct sockaddr *)&a->ss, a->len) == 0) {
    k->fd = -1;
    *fd = s;
    return MAIL_OK;
  }
  if (errno != EINPROGRESS && errno != EINTR) {
    /* EAGAIN here means a Unix listener's backlog is full. */
    attempt_failed(k, errno);
    return MAIL_ERR_CONNECT;
  }
  k->attempt_deadline = deadline < 0 ? -1 : now + (deadline - now) / (int64_t)left;
  return MAIL_ERR_AGAIN;
}

int mail_tcp_connector_step(mail_tcp_connector *k, int64_t now, int64_t deadline, int waited_out,
                            int *fd)
{
  *fd = -1;
  for (;;) {
    if (k->fd >= 0) {
      struct pollfd p = {k->fd, POLLOUT, 0};
      int r = poll(&p, 1, 0);
      if (r > 0) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
          err = errno;
        if (err == 0) {
          *fd = k->fd;
          k->fd = -1;
          k->attempt_deadline = -1;
          set_nodelay(*fd);
          return MAIL_OK;
        }
        attempt_failed(k, err);
        continue;
      }
      if (r < 0 && errno != EINTR) {
        attempt_failed(k, errno);
        continue;
      }
      if (waited_out || (k->attempt_deadline >= 0 && now >= k->attempt_deadline)) {
        attempt_failed(k, ETIMEDOUT);
        waited_out = 0;
        continue;
      }
      return MAIL_ERR_AGAIN;
    }
    if (k->next == k->n)
      return give_up(k, 0);
    if (deadline >= 0 && now >= deadline)
      return give_up(k, 1);
    int rc = start_attempt(k, now, deadline, fd);
    if (rc == MAIL_OK) {
      set_nodelay(*fd);
      return MAIL_OK;
    }
    if (rc == MAIL_ERR_AGAIN)
      return rc;
  }
}

int mail_tcp_connector_fd(const mail_tcp_connector *k)
{
  return k->fd;
}

int64_t mail_tcp_connector_attempt_deadline(const mail_tcp_connector *k)
{
  return k->attempt_deadline;
}

const char *mail_tcp_connector_address(const mail_tcp_connector *k)
{
  return k->last_addr;
}

void mail_tcp_connector_free(mail_tcp_connector *k)
{
  if (!k)
    return;
  const mail_allocator *a = conn_alloc(k->conn);
  close_fd(k->fd);
  mail_dealloc(a, k->addrs);
  mail_dealloc(a, k);
}

/* ------------------------------------------------------------------ */
/* The layer                                                            */
/* ------------------------------------------------------------------ */

typedef struct tcp_layer {
  mail_layer base;
  int fd;
  /* A socket this library connected (not an adopted descriptor, whose
   * file flags belong to the caller): it may be switched to blocking for
   * reads that wait in the kernel (mail_layer_take_read_block). Every
   * other read and every write passes MSG_DONTWAIT, so event-loop mode
   * and the duplex writes never block on it. */
  int own;
  int blocking;     /* O_NONBLOCK cleared */
  int rcvtimeo_ms;  /* the SO_RCVTIMEO set now; -1: none (wait forever) */
} tcp_layer;

/* Make a blocking read wait ms at most (-1: forever). A receive timeout
 * that ends early is safe: the read then returns MAIL_ERR_AGAIN and the
 * driver polls for the time really left. So the one in place is kept when
 * it ends no more than 1/64 after ms and no sooner than half of it (a
 * forever wait keeps one of a minute or more): a wait starts right after
 * progress, its time left is nearly always the whole I/O timeout, and
 * SMTP's two (5 minutes a command, 10 for the end of data) then share
 * one setting instead of two setsockopt calls a message. A wait may so
 * end up to 1.6% late, never early. 0 when the socket cannot block (the
 * caller then polls as before). */
static int tcp_can_block(tcp_layer *t, int ms)
{
  if (!t->own)
    return 0;
  if (!t->blocking) {
    int fl = fcntl(t->fd, F_GETFL);
    if (fl < 0 || fcntl(t->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
      t->own = 0;
      return 0;
    }
    t->blocking = 1;
    t->rcvtimeo_ms = -1;
  }
  int keep = ms < 0 ? t->rcvtimeo_ms < 0 || t->rcvtimeo_ms >= 60000
                    : t->rcvtimeo_ms >= 0 && t->rcvtimeo_ms >= ms / 2 &&
                          t->rcvtimeo_ms - ms <= 1 + ms / 64;
  if (keep)
    return 1;
  struct timeval tv = {0, 0};
  if (ms >= 0) {
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (ms == 0)
      tv.tv_usec = 1000; /* 0 would mean forever */
  }
  if (setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
    return 0;
  t->rcvtimeo_ms = ms == 0 ? 1 : ms;
  return 1;
}

static int tcp_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                    int timeout_ms)
{
  (void)timeout_ms;
  tcp_layer *t = (tcp_layer *)l;
  *got = 0;
  int ms;
  int block = mail_layer_take_read_block(l->conn, &ms) && tcp_can_block(t, ms);
  for (;;) {
    ssize_t n = recv(t->fd, buf, len, block ? 0 : MSG_DONTWAIT);
    if (n > 0) {
      *got = (size_t)n;
      return MAIL_OK;
    }
    if (n == 0)
      return MAIL_ERR_CLOSED;
    /* A signal or the receive timeout ending a blocking read: the driver
     * polls for the time that is really left. */
    if (errno == EINTR && !block)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      *want = MAIL_WANT_READ;
      return MAIL_ERR_AGAIN;
    }
    return mail_conn_fail(l->conn, MAIL_ERR_IO, "read failed: %s", strerror(errno));
  }
}

static int tcp_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written,
                     int *want, int timeout_ms)
{
  (void)timeout_ms;
  tcp_layer *t = (tcp_layer *)l;
  *written = 0;
  for (;;) {
    ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK)
      n = write(t->fd, buf, len); /* an adopted pipe-like descriptor */
    if (n >= 0) {
      if (n == 0 && len > 0) {
        *want = MAIL_WANT_WRITE;
        return MAIL_ERR_AGAIN;
      }
      *written = (size_t)n;
      return MAIL_OK;
    }
    if (errno == EINTR)
      continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      *want = MAIL_WANT_WRITE;
      return MAIL_ERR_AGAIN;
    }
    if (errno == EPIPE || errno == ECONNRESET)
      return mail_conn_fail(l->conn, MAIL_ERR_CLOSED, "the server closed the connection");
    return mail_conn_fail(l->conn, MAIL_ERR_IO, "write failed: %s", strerror(errno));
  }
}

static int tcp_fd(const mail_layer *l)
{
  return ((const tcp_layer *)l)->fd;
}

static void tcp_destroy(mail_layer *l)
{
  tcp_layer *t = (tcp_layer *)l;
  close_fd(t->fd);
  mail_dealloc(conn_alloc(l->conn), t);
}

/* What has arrived is in the kernel: poll() sees it. */
static int tcp_pending(const mail_layer *l)
{
  (void)l;
  return 0;
}

static const mail_layer_ops tcp_ops = {
  .name = "tcp",
  .read = tcp_read,
  .write = tcp_write,
  .handshake = NULL,
  .fd = tcp_fd,
  .pending = tcp_pending,
  .destroy = tcp_destroy,
};

int mail_tcp_layer_new(mail_layer **out, mail_conn *c, int fd, int own)
{
  *out = NULL;
  tcp_layer *t = mail_calloc(conn_alloc(c), 1, sizeof *t);
  if (!t)
    return MAIL_ERR_NOMEM;
  t->base.ops = &tcp_ops;
  t->base.lower = NULL;
  t->base.conn = c;
  t->fd = fd;
  t->own = own;
  t->rcvtimeo_ms = -1;
  *out = &t->base;
  return MAIL_OK;
}

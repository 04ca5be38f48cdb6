/*
 * The firmware use case: a device sends one alert by SMTP. Everything a
 * small system would supply itself is supplied here:
 *   - the network: a socket the program opens (a modem or an lwIP stack on
 *     a device), handed to libmail as a user transport (mail_transport_ops);
 *   - the memory: a static arena (arena.c), so libmail never calls malloc;
 *     its high-water mark is printed, and the arena is sized to the
 *     documented peak plus about 10%.
 * The body comes from a buffer (no MIME builder). Built plain
 * (firmware-alert), the link is plain SMTP chosen by name
 * (MAIL_SECURITY_NONE_INSECURE). Built with ALERT_MBEDTLS
 * (firmware-alert-tls), the device's TLS is mbedTLS: the transport's
 * start_tls op (transport_mbedtls.c) gives STARTTLS, required, verified
 * against the CA file in ALERT_CA; with ALERT_USER and ALERT_PASS it logs
 * in, and SASL's hashes come from mbedTLS too (crypto_mbedtls.c).
 *
 *   [ALERT_CA=ca.pem [ALERT_USER=u ALERT_PASS=p]] alert IPV4 PORT FROM TO SUBJECT
 *
 * A 4xx reply or a lost link is retried with backoff (mail_smtp_send_retry:
 * the socket is dialled again by the reconnect callback); a 5xx is not.
 * Exit 0 when the server accepted the alert. Output: one line with the
 * server's reply and the arena's peak.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/smtp.h>

#include "arena.h"
#ifdef ALERT_MBEDTLS
#include "crypto_mbedtls.h"
#include "transport_mbedtls.h"
#endif

/* Sending this 1 KB alert to Postfix peaks at 17,472 bytes of the arena
 * (libmail's heap plus the arena's 32-byte block headers; measured, see
 * doc/firmware.md), 19,440 with STARTTLS and AUTH (the TLS state is
 * mbedTLS's own): the arena is that plus 10-14%. */
#ifdef ALERT_MBEDTLS
#define ARENA_SIZE (21 * 1024 + 512)
#else
#define ARENA_SIZE (19 * 1024 + 512)
#endif
static _Alignas(16) unsigned char arena_mem[ARENA_SIZE];

/* ------------------------------------------------------ the transport */

static int wait_fd(int fd, short events, int timeout_ms)
{
  struct pollfd p = {fd, events, 0};
  int r;
  do
    r = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
  while (r < 0 && errno == EINTR);
  return r > 0 ? MAIL_OK : r == 0 ? MAIL_ERR_TIMEOUT : MAIL_ERR_IO;
}

static int t_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  int fd = *(int *)user;
  int rc = wait_fd(fd, POLLIN, timeout_ms);
  if (rc)
    return rc;
  ssize_t n = recv(fd, buf, len, 0);
  if (n == 0)
    return MAIL_ERR_CLOSED;
  if (n < 0)
    return MAIL_ERR_IO;
  *got = (size_t)n;
  return MAIL_OK;
}

static int t_write(void *user, const unsigned char *buf, size_t len, size_t *written, int timeout_ms)
{
  int fd = *(int *)user;
  int rc = wait_fd(fd, POLLOUT, timeout_ms);
  if (rc)
    return rc;
  ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
  if (n <= 0)
    return MAIL_ERR_IO;
  *written = (size_t)n;
  return MAIL_OK;
}

static void t_close(void *user)
{
  int *fd = user;
  if (*fd >= 0)
    close(*fd);
  *fd = -1;
}

/* Connected before it is handed over: no connect op. */
static const mail_transport_ops transport = {
  .version = 1,
  .read = t_read,
  .write = t_write,
  .close = t_close,
};

static int dial(const char *ip, unsigned port)
{
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
    return -1;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* ------------------------------------------------------ the alert */

/* What a (re)connect needs: the retry helper calls open_link() before the
 * first attempt and again after a lost link or a 421. */
typedef struct device {
  const char *ip;
  unsigned port;
  int fd;
  int security;
  const char *server_name;
  int auth;
#ifdef ALERT_MBEDTLS
  mbedtls_link tls;
  int tls_live;
  const char *ca;
#endif
} device;

static int open_link(void *user, mail_smtp *s)
{
  device *d = user;
  if (d->fd >= 0)
    close(d->fd);
  d->fd = dial(d->ip, d->port);
  if (d->fd < 0)
    return MAIL_ERR_CONNECT; /* temporary: the retry waits and dials again */
  const mail_transport_ops *ops = &transport;
  void *link = &d->fd;
#ifdef ALERT_MBEDTLS
  if (d->tls_live)
    mbedtls_link_free(&d->tls);
  d->tls_live = 0;
  if (mbedtls_link_init(&d->tls, d->fd, d->ca) != 0)
    return MAIL_ERR_TLS; /* a bad CA file: not worth a retry */
  d->tls_live = 1;
  d->fd = -1; /* the link owns it now */
  ops = &mbedtls_link_ops;
  link = &d->tls;
#endif
  int rc = mail_conn_set_transport(mail_smtp_conn(s), ops, link);
  if (!rc)
    rc = mail_smtp_connect(s, d->server_name, d->port, d->security);
  if (!rc && d->auth)
    rc = mail_smtp_auth(s);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 6) {
    fprintf(stderr, "usage: %s IPV4 PORT FROM TO SUBJECT\n", argv[0]);
    return 2;
  }
  static device dev;
  dev.ip = argv[1];
  dev.port = (unsigned)atoi(argv[2]);
  dev.fd = -1;
  dev.server_name = "device-uplink";
  dev.security = MAIL_SECURITY_NONE_INSECURE;
  arena a;
  arena_init(&a, arena_mem, sizeof arena_mem);
  mail_allocator hooks = arena_hooks(&a);

  /* A 1 KB report: headers by hand, then the readings. */
  static char body[1400];
  int n = snprintf(body, sizeof body,
                   "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n"
                   "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n",
                   argv[3], argv[4], argv[5]);
  for (int i = 0; n + 40 < 1100; i++)
    n += snprintf(body + n, sizeof body - (size_t)n, "sensor %02d: %d.%d C\r\n", i, 20 + i % 7, i % 10);

  mail_smtp *s = NULL;
  mail_smtp_envelope *e = NULL;
  int rc = mail_smtp_new(&s, &hooks);
#ifdef ALERT_MBEDTLS
  dev.ca = getenv("ALERT_CA");
  if (!dev.ca) {
    fprintf(stderr, "alert: ALERT_CA must name a readable CA file\n");
    return 1;
  }
  dev.server_name = "localhost"; /* the name in the server's certificate */
  dev.security = MAIL_SECURITY_STARTTLS;
  if (!rc && getenv("ALERT_USER") && getenv("ALERT_PASS")) {
    dev.auth = 1;
    rc = mail_smtp_set_auth(s, getenv("ALERT_USER"), getenv("ALERT_PASS"));
    if (!rc)
      rc = mail_sasl_set_crypto(mail_smtp_sasl(s), &crypto_mbedtls_ops, NULL);
  }
#endif
  if (!rc)
    rc = mail_smtp_envelope_new(&e, &hooks);
  if (!rc)
    rc = mail_smtp_envelope_set_from(e, argv[3]);
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(e, argv[4], NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(e, body, (size_t)n);
  /* A 4xx reply (greylisting, a full queue) or a lost link is tried again
   * after 2, 4, 8 s (each less up to half, at random) within two minutes; a
   * 5xx is final. A device would pass its own wait (p.wait) to sleep in
   * low power; the library's default sleeps. */
  mail_smtp_retry p;
  if (!rc)
    rc = mail_smtp_retry_init(&p, MAIL_SMTP_RETRY_VERSION);
  if (!rc) {
    p.max_attempts = 4;
    p.first_delay_ms = 2000;
    p.deadline_ms = 120000;
    p.reconnect = open_link;
    p.reconnect_user = &dev;
    rc = mail_smtp_send_retry(s, e, &p);
  }
  char reply[160] = "";
  if (s) {
    const char *err = mail_conn_last_error(mail_smtp_conn(s));
    snprintf(reply, sizeof reply, "%s", rc ? (err && *err ? err : mail_strerror(rc)) : "accepted");
  }
  if (!rc)
    rc = mail_smtp_quit(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  if (dev.fd >= 0)
    close(dev.fd);
#ifdef ALERT_MBEDTLS
  if (dev.tls_live)
    mbedtls_link_free(&dev.tls);
#endif
  printf("alert: %s (%s); arena peak %zu of %zu bytes, %lu refused, %zu still held\n",
         rc ? "failed" : "sent", reply, a.peak, a.size, a.fails, a.used);
  return rc || a.used ? 1 : 0;
}

/*
 * Feed/drain mode: an SMTP session whose connection has no descriptor.
 * The program owns the socket and carries the bytes itself, the way an
 * asyncio protocol, a Rust or Go runtime or a firmware network stack
 * would: after every MAIL_ERR_AGAIN it drains what the session wants to
 * send, and when the session wants to read it feeds what the server sent.
 * The loop here is poll(); any other runtime does the same three things.
 *
 * usage: feed-drain MESSAGES HOST PORT   (a local sink: no TLS; against a
 * real server pass MAIL_SECURITY_STARTTLS and libmail's TLS runs over the
 * fed bytes, verification included)
 */
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/smtp.h>

static const char message[] =
  "From: <example@libmail.test>\r\n"
  "To: <sink@libmail.test>\r\n"
  "Subject: sent through feed and drain\r\n"
  "\r\n"
  "The session never saw a socket.\r\n";

/* The caller's side of the connection: its socket, and bytes it read that
 * the session could not take yet (it holds at most max_line unread). */
typedef struct wire {
  int fd;
  unsigned char in[16384];
  size_t off, len;
} wire;

static int open_socket(const char *host, const char *port)
{
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0)
    return -1;
  int fd = -1;
  for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

/* Send everything the session has for the server. */
static int drain(mail_conn *c, wire *l)
{
  unsigned char out[4096];
  size_t n;
  while (mail_conn_drain(c, out, sizeof out, &n) == MAIL_OK && n) {
    for (size_t off = 0; off < n;) {
      ssize_t w = send(l->fd, out + off, n - off, MSG_NOSIGNAL);
      if (w <= 0)
        return mail_conn_feed_error(c, MAIL_ERR_IO);
      off += (size_t)w;
    }
  }
  return MAIL_OK;
}

/* One turn of the caller's loop after MAIL_ERR_AGAIN. */
static void turn(mail_conn *c, wire *l)
{
  drain(c, l);
  if (!(mail_conn_want(c) & MAIL_WANT_READ))
    return; /* called again at once: it can go on */
  if (l->off == l->len) {
    /* Wait for the server, but no longer than the session's deadline:
     * when it passes, the operation called again fails with
     * MAIL_ERR_TIMEOUT. */
    int64_t ms = mail_conn_timeout_ms(c);
    struct pollfd p = {l->fd, POLLIN, 0};
    if (poll(&p, 1, ms < 0 ? -1 : ms > 60000 ? 60000 : (int)ms) <= 0)
      return;
    ssize_t r = recv(l->fd, l->in, sizeof l->in, 0);
    if (r == 0) {
      mail_conn_feed_eof(c);
      return;
    }
    if (r < 0) {
      mail_conn_feed_error(c, MAIL_ERR_IO);
      return;
    }
    l->off = 0;
    l->len = (size_t)r;
  }
  size_t taken = 0;
  mail_conn_feed(c, l->in + l->off, l->len - l->off, &taken);
  l->off += taken;
}

/* Call an operation until it stops asking to wait, turning the loop. */
#define RUN(rc, c, l, call)                           \
  do {                                                \
    while (((rc) = (call)) == MAIL_ERR_AGAIN)         \
      turn(c, l);                                     \
    drain(c, l); /* the last bytes (QUIT's) too */    \
  } while (0)

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: feed-drain MESSAGES HOST PORT\n");
    return 2;
  }
  int messages = atoi(argv[1]);
  wire l = {.fd = open_socket(argv[2], argv[3])};
  if (l.fd < 0) {
    fprintf(stderr, "feed-drain: cannot connect to %s:%s\n", argv[2], argv[3]);
    return 1;
  }
  mail_smtp *s = NULL;
  mail_smtp_envelope *e = NULL;
  int rc = mail_smtp_new(&s, NULL);
  if (!rc)
    rc = mail_smtp_envelope_new(&e, NULL);
  if (!rc)
    rc = mail_smtp_set_client_name(s, "example.libmail.test");
  if (!rc)
    rc = mail_smtp_envelope_set_from(e, "example@libmail.test");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(e, "sink@libmail.test", NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(e, message, sizeof message - 1);
  mail_conn *c = mail_smtp_conn(s);
  /* Before connecting: no socket of the library's, TLS (if any) libmail's. */
  if (!rc)
    rc = mail_conn_set_feed(c, MAIL_FEED_LIBMAIL_TLS);
  /* The host and port only name the server (for TLS); the link is ours. */
  if (!rc)
    RUN(rc, c, &l, mail_smtp_connect(s, argv[2], (unsigned)atoi(argv[3]),
                                     MAIL_SECURITY_NONE_INSECURE));
  int sent = 0;
  while (!rc && sent < messages) {
    RUN(rc, c, &l, mail_smtp_send(s, e));
    sent += rc == MAIL_OK;
  }
  if (!rc)
    RUN(rc, c, &l, mail_smtp_quit(s));
  if (rc)
    fprintf(stderr, "feed-drain: %s (%s)\n", mail_strerror(rc), mail_conn_last_error(c));
  printf("feed-drain: %d of %d messages sent\n", sent, messages);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  close(l.fd);
  return rc ? 1 : 0;
}

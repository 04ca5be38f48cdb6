/*
 * POP3 RETR benchmark: log in with USER/PASS over plain TCP on loopback,
 * STAT, then retrieve every message; print one result line:
 *
 *   <peer> <messages> <bytes> <seconds> <max-rss-KiB>
 *
 * Peers:
 *   raw      the floor: every RETR written at once (pipelined), replies
 *            read until the last "." line; no parsing beyond that
 *   libmail  mail_pop3_retr_many() (pipelined through the command queue,
 *            dot-unstuffed, streamed to a callback)
 *   libetpan mailpop3_retr() one message at a time (no pipelining)
 *
 * usage: bench_pop3 PEER HOST PORT USER PASSWORD
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mail/pop3.h>

#ifdef HAVE_ETPAN
#include <libetpan/libetpan.h>
#endif

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long max_rss_kib(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

static void die(const char *what)
{
  fprintf(stderr, "bench_pop3: %s\n", what);
  exit(1);
}

/* ------------------------------------------------------------------ raw */

typedef struct rawconn {
  int fd;
  char buf[256 * 1024];
  size_t start, len;
} rawconn;

static void raw_write(rawconn *c, const char *s, size_t n)
{
  while (n) {
    ssize_t k = send(c->fd, s, n, MSG_NOSIGNAL);
    if (k <= 0)
      die("write");
    s += k;
    n -= (size_t)k;
  }
}

static void raw_fill(rawconn *c)
{
  if (c->start == c->len)
    c->start = c->len = 0;
  ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (k <= 0)
    die("read");
  c->len += (size_t)k;
}

/* One status line; returns 1 for +OK. */
static int raw_line(rawconn *c, char *out, size_t cap)
{
  for (;;) {
    char *lf = memchr(c->buf + c->start, '\n', c->len - c->start);
    if (lf) {
      size_t n = (size_t)(lf - (c->buf + c->start)) + 1;
      if (out) {
        size_t k = n < cap - 1 ? n : cap - 1;
        memcpy(out, c->buf + c->start, k);
        out[k] = '\0';
      }
      int ok = c->buf[c->start] == '+';
      c->start += n;
      return ok;
    }
    if (c->start > 0) {
      memmove(c->buf, c->buf + c->start, c->len - c->start);
      c->len -= c->start;
      c->start = 0;
    }
    raw_fill(c);
  }
}

static int raw_connect(const char *host, int port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
    die("host must be an IPv4 address");
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
    die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void run_raw(const char *host, int port, const char *user, const char *pass)
{
  static rawconn c;
  char line[1024];
  double t0 = now();
  c.fd = raw_connect(host, port);
  if (!raw_line(&c, NULL, 0))
    die("greeting");
  snprintf(line, sizeof line, "USER %s\r\nPASS %s\r\nSTAT\r\n", user, pass);
  raw_write(&c, line, strlen(line));
  if (!raw_line(&c, NULL, 0) || !raw_line(&c, NULL, 0) || !raw_line(&c, line, sizeof line))
    die("login");
  unsigned long count = strtoul(line + 4, NULL, 10);
  /* Every RETR in one write. */
  size_t cap = count * 24 + 16, o = 0;
  char *cmds = malloc(cap);
  for (unsigned long i = 1; i <= count; i++)
    o += (size_t)snprintf(cmds + o, cap - o, "RETR %lu\r\n", i);
  raw_write(&c, cmds, o);
  free(cmds);
  /* Count terminators: a "." line at a line start ends a body. */
  unsigned long done = 0;
  unsigned long long bytes = 0;
  int state = 0; /* 0 at line start in a body, 1 mid-line, 2 saw ".", 3 ".\r", 4 status line */
  state = 4;
  while (done < count) {
    if (c.start == c.len)
      raw_fill(&c);
    const char *p = c.buf + c.start, *end = c.buf + c.len;
    bytes += (unsigned long long)(end - p);
    while (p < end && done < count) {
      if (state == 1 || state == 4) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (!lf) {
          p = end;
          break;
        }
        p = lf + 1;
        state = 0;
        continue;
      }
      char ch = *p++;
      if (state == 0)
        state = ch == '.' ? 2 : (ch == '\n' ? 0 : 1);
      else if (state == 2)
        state = ch == '\r' ? 3 : (ch == '\n' ? (done++, 4) : 1);
      else /* 3 */
        state = ch == '\n' ? (done++, 4) : 1;
    }
    c.start = c.len; /* everything read was consumed */
  }
  double t1 = now();
  raw_write(&c, "QUIT\r\n", 6);
  close(c.fd);
  printf("raw %lu %llu %.4f %ld\n", count, bytes, t1 - t0, max_rss_kib());
}

/* -------------------------------------------------------------- libmail */

typedef struct counter {
  unsigned long long bytes;
  unsigned long ends;
} counter;

static int count_body(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  counter *k = user;
  (void)msg;
  (void)d;
  if (event == MAIL_POP3_BODY_DATA)
    k->bytes += n;
  else if (event == MAIL_POP3_BODY_END)
    k->ends++;
  return 0;
}

static void run_libmail(const char *host, int port, const char *user, const char *pass)
{
  mail_pop3 *p;
  if (mail_pop3_new(&p, NULL))
    die("mail_pop3_new");
  const char *w = getenv("POP3_WINDOW");
  if (w)
    mail_pop3_set_pipeline_window(p, (unsigned int)atoi(w));
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), 1);
  mail_pop3_set_auth(p, user, pass);
  mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER);
  double t0 = now();
  if (mail_pop3_connect(p, host, (unsigned int)port, MAIL_SECURITY_NONE_INSECURE) ||
      mail_pop3_auth(p))
    die(mail_conn_last_error(mail_pop3_conn(p)));
  uint32_t count = 0;
  if (mail_pop3_stat(p, &count, NULL))
    die("STAT");
  uint32_t *msgs = malloc((count ? count : 1) * sizeof *msgs);
  for (uint32_t i = 0; i < count; i++)
    msgs[i] = i + 1;
  counter k = {0, 0};
  int rc = mail_pop3_retr_many(p, msgs, count, count_body, &k);
  double t1 = now();
  if (rc || k.ends != count)
    die("RETR");
  mail_pop3_quit(p, NULL);
  mail_pop3_free(p);
  free(msgs);
  printf("libmail %u %llu %.4f %ld\n", count, k.bytes, t1 - t0, max_rss_kib());
}

/* ------------------------------------------------------------- libetpan */

#ifdef HAVE_ETPAN
static void run_etpan(const char *host, int port, const char *user, const char *pass)
{
  mailpop3 *f = mailpop3_new(0, NULL);
  double t0 = now();
  if (mailpop3_socket_connect(f, host, (uint16_t)port) != MAILPOP3_NO_ERROR ||
      mailpop3_user(f, user) != MAILPOP3_NO_ERROR || mailpop3_pass(f, pass) != MAILPOP3_NO_ERROR)
    die("libetpan login");
  carray *list = NULL;
  if (mailpop3_list(f, &list) != MAILPOP3_NO_ERROR)
    die("libetpan LIST");
  unsigned int count = carray_count(list);
  unsigned long long bytes = 0;
  for (unsigned int i = 1; i <= count; i++) {
    char *msg;
    size_t len;
    if (mailpop3_retr(f, i, &msg, &len) != MAILPOP3_NO_ERROR)
      die("libetpan RETR");
    bytes += len;
    mailpop3_retr_free(msg);
  }
  double t1 = now();
  mailpop3_quit(f);
  mailpop3_free(f);
  printf("libetpan %u %llu %.4f %ld\n", count, bytes, t1 - t0, max_rss_kib());
}
#endif

int main(int argc, char **argv)
{
  if (argc != 6) {
    fprintf(stderr, "usage: bench_pop3 raw|libmail|libetpan HOST PORT USER PASSWORD\n");
    return 2;
  }
  int port = atoi(argv[3]);
  if (!strcmp(argv[1], "raw"))
    run_raw(argv[2], port, argv[4], argv[5]);
  else if (!strcmp(argv[1], "libmail"))
    run_libmail(argv[2], port, argv[4], argv[5]);
#ifdef HAVE_ETPAN
  else if (!strcmp(argv[1], "libetpan"))
    run_etpan(argv[2], port, argv[4], argv[5]);
#endif
  else
    return 2;
  return 0;
}

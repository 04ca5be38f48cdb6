/*
 * loop-sink: an SMTP sink for many connections at once (adapted from
 * bench/smtp/sink.c, which serves one): one thread, epoll, every
 * connection non-blocking. It advertises PIPELINING, CHUNKING and
 * 8BITMIME, answers every complete command in a read before writing, and
 * counts what it took.
 *
 * usage: loop-sink   -- prints its port (127.0.0.1) on stdout, then serves
 * until its stdin ends or gives a line; then prints one line
 *   messages=M accepted=A peak=P quits=Q stalled=S cpu=C wall=W busy=B%
 * and exits. M counts messages taken (the final 250 sent), A connections
 * accepted, P the most connections open at once, Q QUITs answered.
 *
 * usage: loop-sink --expect N PROGRAM ARGS...   -- runs PROGRAM ARGS
 * 127.0.0.1 PORT, serves until it exits, prints the same line and exits
 * 0 only if the program did, the sink took N messages and every
 * connection said QUIT (how the adapter examples run as tests).
 *
 * A client whose EHLO name starts with "stall" is stalled: its MAIL FROM
 * and everything after get no reply (the timeout tests' sessions that
 * must end MAIL_ERR_TIMEOUT); S counts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (64 * 1024)
#define OUT_CAP (16 * 1024)

typedef struct client {
  int fd;
  int data, bdat_last, stalled, quit;
  size_t bdat_left;
  size_t have, olen;
  char in[IN_CAP];
  char out[OUT_CAP];
} client;

static long messages, accepted, quits, stalled_count;
static int open_now, peak;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(client *c, const char *s)
{
  size_t n = strlen(s);
  if (c->olen + n <= sizeof c->out) {
    memcpy(c->out + c->olen, s, n);
    c->olen += n;
  }
}

/* 0: everything written or waiting for POLLOUT; -1: the peer is gone. */
static int flush_out(client *c)
{
  size_t o = 0;
  while (o < c->olen) {
    ssize_t w = send(c->fd, c->out + o, c->olen - o, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN)
      break;
    if (w <= 0)
      return -1;
    o += (size_t)w;
  }
  memmove(c->out, c->out + o, c->olen - o);
  c->olen -= o;
  return 0;
}

static void command(client *c, char *line, size_t len)
{
  if (c->stalled)
    return;
  if (len >= 4 && (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "LHLO", 4))) {
    if (len >= 10 && !strncasecmp(line + 5, "stall", 5)) {
      c->stalled = 1;
      stalled_count++;
    }
    put(c, "250-sink.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-8BITMIME\r\n"
           "250-SIZE 10000000\r\n250 ENHANCEDSTATUSCODES\r\n");
  } else if (len >= 4 && !strncasecmp(line, "HELO", 4)) {
    put(c, "250 sink.test\r\n");
  } else if (len >= 4 && !strncasecmp(line, "MAIL", 4)) {
    put(c, "250 2.1.0 Ok\r\n");
  } else if (len >= 4 && !strncasecmp(line, "RCPT", 4)) {
    put(c, "250 2.1.5 Ok\r\n");
  } else if (len == 4 && !strncasecmp(line, "DATA", 4)) {
    c->data = 1;
    put(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
  } else if (len > 5 && !strncasecmp(line, "BDAT ", 5)) {
    char tmp[64];
    size_t k = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
    memcpy(tmp, line, k);
    tmp[k] = '\0';
    char *end;
    c->bdat_left = strtoul(tmp + 5, &end, 10);
    c->bdat_last = strstr(end, "LAST") != NULL;
    if (c->bdat_left == 0) {
      if (c->bdat_last)
        messages++;
      put(c, "250 2.0.0 Ok\r\n");
    }
  } else if (len == 4 && !strncasecmp(line, "QUIT", 4)) {
    put(c, "221 2.0.0 Bye\r\n");
    quits++;
    c->quit = 1;
  } else if (len >= 4 && (!strncasecmp(line, "RSET", 4) || !strncasecmp(line, "NOOP", 4))) {
    put(c, "250 2.0.0 Ok\r\n");
  } else {
    put(c, "500 5.5.2 What?\r\n");
  }
}

/* Everything complete in c->in answered; -1 when the client is done. */
static int serve(client *c)
{
  size_t pos = 0;
  while (!c->quit) {
    if (c->bdat_left) {
      size_t k = c->have - pos < c->bdat_left ? c->have - pos : c->bdat_left;
      pos += k;
      c->bdat_left -= k;
      if (c->bdat_left)
        break;
      if (c->bdat_last)
        messages++;
      if (!c->stalled)
        put(c, "250 2.0.0 Ok\r\n");
      continue;
    }
    char *nl = memchr(c->in + pos, '\n', c->have - pos);
    if (!nl)
      break;
    char *line = c->in + pos;
    size_t len = (size_t)(nl - line);
    pos += len + 1;
    if (len && line[len - 1] == '\r')
      len--;
    if (c->data) {
      if (len == 1 && line[0] == '.') {
        c->data = 0;
        messages++;
        put(c, "250 2.0.0 Ok: queued\r\n");
      }
      continue;
    }
    command(c, line, len);
  }
  memmove(c->in, c->in + pos, c->have - pos);
  c->have -= pos;
  if (c->have == sizeof c->in)
    return -1; /* a line longer than the buffer: not a client of ours */
  return 0;
}

static void drop(int ep, client *c)
{
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
  open_now--;
}

static void rearm(int ep, client *c)
{
  struct epoll_event ev;
  ev.events = EPOLLIN | (c->olen ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  int one = 1;
  if (ls >= 0)
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096) ||
      getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("loop-sink");
    return 1;
  }
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev;
  ev.events = EPOLLIN;
  ev.data.ptr = &ls;
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  int in_fd = 0;
  long expect = -1;
  pid_t child = -1;
  if (argc >= 4 && !strcmp(argv[1], "--expect")) {
    /* The child holds the write end of a pipe: its exit ends the serving. */
    expect = atol(argv[2]);
    int p[2];
    char port[16];
    snprintf(port, sizeof port, "%u", ntohs(a.sin_port));
    if (pipe(p) != 0)
      return 1;
    child = fork();
    if (child == 0) {
      close(p[0]);
      close(ls);
      close(ep);
      char **av = calloc((size_t)argc + 2, sizeof *av);
      int k = 0;
      for (int i = 3; i < argc; i++)
        av[k++] = argv[i];
      av[k++] = "127.0.0.1";
      av[k++] = port;
      execvp(av[0], av);
      perror("loop-sink: exec");
      _exit(127);
    }
    close(p[1]);
    in_fd = p[0];
  } else {
    printf("%u\n", ntohs(a.sin_port));
    fflush(stdout);
  }
  ev.data.ptr = &in_fd;
  epoll_ctl(ep, EPOLL_CTL_ADD, in_fd, &ev);
  double t0 = now_s();
  struct epoll_event evs[256];
  int running = 1;
  while (running) {
    int n = epoll_wait(ep, evs, 256, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == &in_fd) {
        running = 0;
        continue;
      }
      if (evs[i].data.ptr == &ls) {
        for (;;) {
          int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0)
            break;
          client *c = calloc(1, sizeof *c);
          if (!c) {
            close(fd);
            continue;
          }
          c->fd = fd;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          accepted++;
          if (++open_now > peak)
            peak = open_now;
          put(c, "220 sink.test ESMTP loop sink\r\n");
          ev.events = EPOLLIN;
          ev.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
          if (flush_out(c))
            drop(ep, c);
          else if (c->olen)
            rearm(ep, c);
        }
        continue;
      }
      client *c = evs[i].data.ptr;
      int gone = 0;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = read(c->fd, c->in + c->have, sizeof c->in - c->have);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
          gone = 1;
        else if (r > 0) {
          c->have += (size_t)r;
          gone = serve(c) != 0;
        }
      }
      size_t before = c->olen;
      if (!gone && c->olen)
        gone = flush_out(c) != 0;
      if (!gone && c->quit && !c->olen)
        gone = 1;
      if (gone)
        drop(ep, c);
      else if ((before != 0) != (c->olen != 0) || (evs[i].events & EPOLLOUT) || c->olen)
        rearm(ep, c);
    }
  }
  double wall = now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  printf("messages=%ld accepted=%ld peak=%d quits=%ld stalled=%ld cpu=%.3f wall=%.3f busy=%.0f%%\n",
         messages, accepted, peak, quits, stalled_count, cpu, wall,
         wall > 0 ? 100.0 * cpu / wall : 0.0);
  fflush(stdout);
  if (child > 0) {
    int st = 0;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      fprintf(stderr, "loop-sink: the program failed (status %d)\n", st);
      return 1;
    }
    if (messages != expect || quits != accepted || open_now != 0) {
      fprintf(stderr, "loop-sink: expected %ld messages and a QUIT per connection\n", expect);
      return 1;
    }
  }
  return 0;
}

/*
 * smtp-sink: a minimal SMTP server for the benchmark. Listens on
 * 127.0.0.1 (an ephemeral port, printed on stdout), serves ONE connection
 * and exits, printing on stderr how many messages it took and the CPU time
 * it used, so the run shows whether the sink was the bottleneck.
 *
 * It advertises PIPELINING and CHUNKING, answers every complete command
 * in the buffer before writing (one write per batch of pipelined replies),
 * and discards the message data (DATA up to the lone ".", BDAT by count).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define BUF (512 * 1024)

static char in[BUF], out[64 * 1024];
static size_t olen;

static void put(const char *s)
{
  size_t n = strlen(s);
  if (olen + n <= sizeof out) {
    memcpy(out + olen, s, n);
    olen += n;
  }
}

static int flush_out(int fd)
{
  size_t o = 0;
  while (o < olen) {
    ssize_t w = write(fd, out + o, olen - o);
    if (w <= 0)
      return -1;
    o += (size_t)w;
  }
  olen = 0;
  return 0;
}

int main(void)
{
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) ||
      getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("sink");
    return 1;
  }
  printf("%u\n", ntohs(a.sin_port));
  fflush(stdout);
  int fd = accept(ls, NULL, NULL);
  if (fd < 0)
    return 1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  double t0 = bench_now();
  long messages = 0;
  size_t have = 0;
  int data = 0;          /* inside DATA */
  size_t bdat_left = 0;  /* BDAT bytes still to skip */
  int bdat_last = 0;
  int quit = 0;
  put("220 sink.test ESMTP benchmark sink\r\n");
  if (flush_out(fd))
    return 1;
  while (!quit) {
    ssize_t r = read(fd, in + have, sizeof in - have);
    if (r <= 0)
      break;
    have += (size_t)r;
    size_t pos = 0;
    for (;;) {
      if (bdat_left) {
        size_t k = have - pos < bdat_left ? have - pos : bdat_left;
        pos += k;
        bdat_left -= k;
        if (bdat_left)
          break;
        if (bdat_last)
          messages++;
        put("250 2.0.0 Ok\r\n");
        continue;
      }
      char *nl = memchr(in + pos, '\n', have - pos);
      if (!nl)
        break;
      char *line = in + pos;
      size_t len = (size_t)(nl - line);
      pos += len + 1;
      if (len && line[len - 1] == '\r')
        len--;
      if (data) {
        if (len == 1 && line[0] == '.') {
          data = 0;
          messages++;
          put("250 2.0.0 Ok: queued\r\n");
        }
        continue;
      }
      if (len >= 4 && (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "LHLO", 4)))
        put("250-sink.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-8BITMIME\r\n"
            "250-SIZE 10000000\r\n250 ENHANCEDSTATUSCODES\r\n");
      else if (len >= 4 && !strncasecmp(line, "HELO", 4))
        put("250 sink.test\r\n");
      else if (len >= 4 && !strncasecmp(line, "MAIL", 4))
        put("250 2.1.0 Ok\r\n");
      else if (len >= 4 && !strncasecmp(line, "RCPT", 4))
        put("250 2.1.5 Ok\r\n");
      else if (len == 4 && !strncasecmp(line, "DATA", 4)) {
        data = 1;
        put("354 End data with <CR><LF>.<CR><LF>\r\n");
      } else if (len > 5 && !strncasecmp(line, "BDAT ", 5)) {
        char tmp[64];
        size_t k = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
        memcpy(tmp, line, k);
        tmp[k] = '\0';
        char *end;
        bdat_left = strtoul(tmp + 5, &end, 10);
        bdat_last = strstr(end, "LAST") != NULL;
        if (bdat_left == 0) {
          if (bdat_last)
            messages++;
          put("250 2.0.0 Ok\r\n");
        }
      } else if (len == 4 && !strncasecmp(line, "QUIT", 4)) {
        put("221 2.0.0 Bye\r\n");
        quit = 1;
        break;
      } else if (len >= 4 && (!strncasecmp(line, "RSET", 4) || !strncasecmp(line, "NOOP", 4)))
        put("250 2.0.0 Ok\r\n");
      else
        put("500 5.5.2 What?\r\n");
    }
    memmove(in, in + pos, have - pos);
    have -= pos;
    if (olen && flush_out(fd))
      break;
  }
  double wall = bench_now() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  fprintf(stderr, "sink messages=%ld wall=%.3f cpu=%.3f busy=%.0f%%\n", messages, wall, cpu,
          wall > 0 ? 100.0 * cpu / wall : 0.0);
  close(fd);
  close(ls);
  return 0;
}

/* Helpers shared by the SMTP benchmark programs. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *bench_message(size_t *len)
{
  static char msg[BENCH_MSG_SIZE + 1];
  static int made;
  if (!made) {
    int o = snprintf(msg, sizeof msg,
                     "From: <" BENCH_FROM ">\r\nTo: <" BENCH_TO ">\r\n"
                     "Subject: benchmark message\r\nMessage-ID: <bench@libmail.test>\r\n"
                     "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
    int line = 0;
    while (o < BENCH_MSG_SIZE) {
      /* 72-character lines; the last one cut to fit, CRLF-terminated */
      int room = BENCH_MSG_SIZE - o;
      int n = room >= 74 ? 72 : room - 2;
      for (int i = 0; i < n; i++)
        msg[o + i] = (char)('a' + (line + i) % 26);
      if (line % 7 == 3 && n > 0)
        msg[o] = '.'; /* some lines start with a dot: stuffing is exercised */
      o += n;
      msg[o++] = '\r';
      msg[o++] = '\n';
      line++;
    }
    made = 1;
  }
  *len = BENCH_MSG_SIZE;
  return msg;
}

double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_report(const char *name, long count, double seconds)
{
  printf("%s %ld %.3f %.0f\n", name, count, seconds, (double)count / seconds);
  fflush(stdout);
}

int bench_connect(unsigned port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

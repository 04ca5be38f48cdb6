/*
 * The protocol floor: a hand-written client that writes RFC 2920
 * pipelined commands with no library in between. Per message:
 *   data: MAIL + RCPT + DATA in one write, 3 replies; the (pre-stuffed)
 *         body and "." in one write, 1 reply;
 *   bdat: MAIL + RCPT + "BDAT 2048 LAST" + the body in one write, 3 replies;
 *   pipe: the one-round-trip floor for DATA (RFC 2920 3.1): the body, "."
 *         and the NEXT message's MAIL + RCPT + DATA in one write, 4
 *         replies (the final one, 250, 250, 354).
 * data is the two-round-trip floor (each message waits for its final
 * reply before the next MAIL), bdat and pipe the one-round-trip floors.
 * usage: raw-smtp PORT COUNT data|bdat|pipe
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"

static char rbuf[65536];
static size_t rlen;

/* Read until n complete replies ("DDD " lines) arrived; -1 on error or a
 * reply outside 2xx/3xx. */
static int replies(int fd, int n)
{
  while (n > 0) {
    char *nl;
    while ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
      size_t len = (size_t)(nl - rbuf) + 1;
      if (len >= 4 && rbuf[3] != '-') {
        if (rbuf[0] != '2' && rbuf[0] != '3')
          return -1;
        n--;
      }
      memmove(rbuf, rbuf + len, rlen - len);
      rlen -= len;
      if (n == 0)
        return 0;
    }
    ssize_t r = read(fd, rbuf + rlen, sizeof rbuf - rlen);
    if (r <= 0)
      return -1;
    rlen += (size_t)r;
  }
  return 0;
}

static int put(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 4)
    return 2;
  unsigned port = (unsigned)atoi(argv[1]);
  long count = atol(argv[2]);
  int bdat = !strcmp(argv[3], "bdat");
  int pipe = !strcmp(argv[3], "pipe");
  size_t mlen;
  const char *msg = bench_message(&mlen);
  /* Pre-built wire forms: the floor does no per-message work. */
  static char env[16384], body[2 * BENCH_MSG_SIZE + 8];
  size_t elen, blen = 0;
  if (bdat) {
    elen = (size_t)snprintf(env, sizeof env, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nBDAT %zu LAST\r\n",
                            BENCH_FROM, BENCH_TO, mlen);
    memcpy(env + elen, msg, mlen);
    elen += mlen;
  } else {
    elen = (size_t)snprintf(env, sizeof env, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n",
                            BENCH_FROM, BENCH_TO);
    int bol = 1;
    for (size_t i = 0; i < mlen; i++) {
      if (bol && msg[i] == '.')
        body[blen++] = '.';
      body[blen++] = msg[i];
      bol = msg[i] == '\n';
    }
    memcpy(body + blen, ".\r\n", 3);
    blen += 3;
  }
  int fd = bench_connect(port);
  if (fd < 0 || replies(fd, 1) || put(fd, "EHLO raw.test\r\n", 15) || replies(fd, 1))
    return 1;
  /* pipe: the body, "." and the next envelope, ready to write at once. */
  static char next[2 * BENCH_MSG_SIZE + 16384];
  size_t nlen = 0;
  if (pipe) {
    memcpy(next, body, blen);
    memcpy(next + blen, env, elen);
    nlen = blen + elen;
  }
  double t0 = bench_now();
  if (pipe && count > 0) {
    if (put(fd, env, elen) || replies(fd, 3))
      return 1;
    for (long i = 0; i + 1 < count; i++)
      if (put(fd, next, nlen) || replies(fd, 4))
        return 1;
    if (put(fd, body, blen) || replies(fd, 1))
      return 1;
  }
  for (long i = 0; !pipe && i < count; i++) {
    if (put(fd, env, elen) || replies(fd, 3))
      return 1;
    if (!bdat && (put(fd, body, blen) || replies(fd, 1)))
      return 1;
  }
  double t = bench_now() - t0;
  if (put(fd, "QUIT\r\n", 6) || replies(fd, 1))
    return 1;
  close(fd);
  bench_report(bdat ? "raw-bdat" : pipe ? "raw-pipe" : "raw-data", count, t);
  return 0;
}

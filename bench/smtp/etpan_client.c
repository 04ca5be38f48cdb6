/*
 * libetpan's SMTP in the benchmark: one session, EHLO, then per message
 * MAIL, RCPT, DATA and the message (libetpan does not pipeline).
 * usage: etpan-smtp PORT COUNT
 */
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  uint16_t port = (uint16_t)atoi(argv[1]);
  long count = atol(argv[2]);
  size_t mlen;
  const char *msg = bench_message(&mlen);
  mailsmtp *s = mailsmtp_new(0, NULL);
  if (!s || mailsmtp_socket_connect(s, "127.0.0.1", port) != MAILSMTP_NO_ERROR ||
      mailesmtp_ehlo(s) != MAILSMTP_NO_ERROR)
    return 1;
  double t0 = bench_now();
  for (long i = 0; i < count; i++) {
    if (mailsmtp_mail(s, BENCH_FROM) != MAILSMTP_NO_ERROR ||
        mailsmtp_rcpt(s, BENCH_TO) != MAILSMTP_NO_ERROR || mailsmtp_data(s) != MAILSMTP_NO_ERROR ||
        mailsmtp_data_message(s, msg, mlen) != MAILSMTP_NO_ERROR) {
      fprintf(stderr, "libetpan: message %ld failed\n", i);
      return 1;
    }
  }
  double t = bench_now() - t0;
  mailsmtp_quit(s);
  mailsmtp_free(s);
  bench_report("libetpan", count, t);
  return 0;
}

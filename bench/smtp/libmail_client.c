/*
 * libmail's SMTP client in the benchmark: one session, one envelope sent
 * COUNT times (results reset each time), pipelined; DATA or BDAT.
 * usage: libmail-smtp PORT COUNT data|bdat
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
  if (argc != 4)
    return 2;
  unsigned port = (unsigned)atoi(argv[1]);
  long count = atol(argv[2]);
  int bdat = !strcmp(argv[3], "bdat");
  size_t mlen;
  const char *msg = bench_message(&mlen);
  mail_smtp *s;
  mail_smtp_envelope *e;
  if (mail_smtp_new(&s, NULL) || mail_smtp_envelope_new(&e, NULL))
    return 1;
  mail_smtp_set_client_name(s, "libmail.test");
  if (bdat)
    mail_smtp_set_chunking(s, MAIL_SMTP_CHUNKING_PREFER);
  int rc = mail_smtp_connect(s, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE);
  if (rc) {
    fprintf(stderr, "connect: %s\n", mail_strerror(rc));
    return 1;
  }
  mail_smtp_envelope_set_from(e, BENCH_FROM);
  mail_smtp_envelope_add_recipient(e, BENCH_TO, NULL);
  mail_smtp_envelope_set_body_data(e, msg, mlen);
  double t0 = bench_now();
  for (long i = 0; i < count; i++) {
    rc = mail_smtp_send(s, e);
    if (rc) {
      fprintf(stderr, "send %ld: %s\n", i, mail_strerror(rc));
      return 1;
    }
  }
  double t = bench_now() - t0;
  mail_smtp_quit(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  bench_report(bdat ? "libmail-bdat" : "libmail-data", count, t);
  return 0;
}

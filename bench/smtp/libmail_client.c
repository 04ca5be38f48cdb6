/*
 * libmail's SMTP client in the benchmark: one session; DATA or BDAT.
 *   data, bdat: one envelope sent COUNT times with mail_smtp_send()
 *               (results reset each time; two round trips a message with
 *               DATA, one with BDAT);
 *   batch, batch-bdat: COUNT envelopes (made before the clock starts, as
 *               the raw client builds its bytes) sent with one
 *               mail_smtp_send_batch() (one round trip a message).
 * usage: libmail-smtp PORT COUNT data|bdat|batch|batch-bdat
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>

#include "bench_common.h"

static int send_batch(mail_smtp *s, mail_smtp_envelope *e, long count, const char *msg,
                      size_t mlen, int bdat)
{
  mail_smtp_batch *b;
  mail_smtp_envelope **es = calloc((size_t)count, sizeof *es);
  if (!es || mail_smtp_batch_new(&b, NULL))
    return 1;
  for (long i = 0; i < count; i++) {
    if (mail_smtp_envelope_new(&es[i], NULL) || mail_smtp_envelope_set_from(es[i], BENCH_FROM) ||
        mail_smtp_envelope_add_recipient(es[i], BENCH_TO, NULL) ||
        mail_smtp_envelope_set_body_data(es[i], msg, mlen) || mail_smtp_batch_add(b, es[i], NULL))
      return 1;
  }
  double t0 = bench_now();
  int rc = mail_smtp_send_batch(s, b);
  double t = bench_now() - t0;
  if (rc) {
    fprintf(stderr, "batch: %s (%s)\n", mail_strerror(rc), mail_conn_last_error(mail_smtp_conn(s)));
    return 1;
  }
  mail_smtp_quit(s);
  for (long i = 0; i < count; i++)
    mail_smtp_envelope_free(es[i]);
  free(es);
  mail_smtp_batch_free(b);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  bench_report(bdat ? "libmail-batch-bdat" : "libmail-batch", count, t);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 4)
    return 2;
  unsigned port = (unsigned)atoi(argv[1]);
  long count = atol(argv[2]);
  int bdat = !strcmp(argv[3], "bdat") || !strcmp(argv[3], "batch-bdat");
  int batch = !strncmp(argv[3], "batch", 5);
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
  if (batch)
    return send_batch(s, e, count, msg, mlen, bdat);
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

/* Shared by the SMTP benchmark clients: the message, timing, connecting. */
#ifndef BENCH_SMTP_COMMON_H
#define BENCH_SMTP_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_FROM "bench@libmail.test"
#define BENCH_TO "sink@libmail.test"
#define BENCH_MSG_SIZE 2048

/* A 2,048-byte message (headers and 7-bit text lines, CRLF endings). */
const char *bench_message(size_t *len);
/* Monotonic seconds. */
double bench_now(void);
/* Print the result line every client prints: "<name> <count> <seconds> <msg/s>". */
void bench_report(const char *name, long count, double seconds);
/* Blocking TCP connection to 127.0.0.1:port, or -1. */
int bench_connect(unsigned port);

#endif

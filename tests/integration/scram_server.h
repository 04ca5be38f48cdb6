/*
 * Running tests/sasl/scram_server.py (a SCRAM server in Python with
 * python3-openssl, no libmail code) from a Check test: start it with
 * arguments, read its port, collect the exchanges it saw.
 */
#ifndef MAIL_TEST_SCRAM_SERVER_H
#define MAIL_TEST_SCRAM_SERVER_H

#include <stdio.h>
#include <sys/types.h>

#define SCRAM_SERVER_MAX_ATTEMPTS 8

typedef struct scram_server {
  pid_t pid;
  FILE *out;
  unsigned int port;
  char result[256];   /* RESULT: the last exchange's result */
  /* ATTEMPT lines: "<mech> <gs2 flag> <TLS version> <result>" */
  char attempts[SCRAM_SERVER_MAX_ATTEMPTS][256];
  int nattempts;
} scram_server;

/* The tests/ directory: $MAIL_TEST_SRCDIR or MAIL_SRCDIR "/tests". */
const char *scram_server_srcdir(void);

/* 0 when /usr/bin/python3 can import OpenSSL; else the exit status a
 * test's main() returns: 77 (skip), or failure when
 * MAIL_TEST_REQUIRE_SERVERS=1 (a message says why). */
int scram_server_check(void);

/* A trace hook's whole output, NUL-terminated (cut at the size). */
typedef struct trace_log {
  char text[65536];
  size_t len;
} trace_log;
void trace_log_clear(trace_log *t);
void trace_log_fn(void *user, int dir, const char *data, size_t len);

/* Start scram_server.py --cert/--key (tests/data/tls) plus extra
 * (NULL-terminated) and wait for its port. */
void scram_server_start(scram_server *sv, const char *const *extra);

/* Wait for it to exit; keep RESULT and the ATTEMPT lines. */
void scram_server_finish(scram_server *sv);

#define SCRAM_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

#endif

/*
 * The driver scenarios: each plays one transcript file through the test
 * line protocol engine. test_transcript.c runs them and checks their
 * results; test_transcript_nomem.c re-runs them failing the Nth
 * allocation.
 */
#ifndef SCENARIOS_H
#define SCENARIOS_H

#include <stddef.h>
#include <mail/conn.h>

#include "lineproto.h"
#include "transcript.h"

typedef struct scn_result {
  int rc;                 /* status of the last operation (or of setup) */
  int done;               /* the transcript was played completely, no mismatch */
  char report[1200];      /* the transcript's report */
  char last_error[256];   /* mail_conn_last_error() at the end */
  int is_open, is_tls, verified;
  size_t writes;          /* transport write calls */
  size_t agains;          /* MAIL_ERR_AGAIN returns seen by the caller */
  char wants[64];         /* 'R' / 'W' / '?' per AGAIN, in order */
  int bad_timeout;        /* an AGAIN came with no deadline */
  char sent[1024];        /* SEND trace chunks, each followed by '|' */
  char recv[1024];        /* RECV trace chunks, each followed by '|' */
  size_t body_lines;      /* from the engine */
  char last_reply[128];
  int cb_ok;              /* channel binding worked after TLS */
} scn_result;

typedef struct scenario {
  const char *name;
  const char *file;               /* under tests/transcript/ */
  int (*ops)(lp *p);              /* the operations, in order */
  int expect;                     /* expected final status */
  int nonblocking;
  int auto_again;
  size_t max_line;                /* 0: default limits */
  int show_secrets;
} scenario;

extern const scenario scenarios[];
extern const size_t n_scenarios;

const scenario *scenario_find(const char *name);

/* Run s with alloc (NULL: libc) and fill *res. Returns 0, or -1 when the
 * transcript file does not load (res->report says why). */
int scenario_run(const scenario *s, const mail_allocator *alloc, scn_result *res);
/* The same in feed mode (mail_transcript_attach_feed): no transport, the
 * pump carries the bytes; s->nonblocking and s->auto_again do not apply. */
int scenario_run_feed(const scenario *s, const mail_allocator *alloc, scn_result *res);

#endif

/*
 * SMTP sessions run by a mail_loop, shared by the loop tests and the
 * loop benchmark: each job is one session that connects, sends its
 * messages one mail_smtp_send() at a time and quits, as one chained step
 * (connect -> [auth] -> send x n -> quit) or, with a barrier, as two
 * operations (connect; then, once every job is connected, the sends and
 * QUIT) so that every connection is open at once.
 */
#ifndef MAIL_TEST_LOOP_JOBS_H
#define MAIL_TEST_LOOP_JOBS_H

#include <stddef.h>

#include <mail/loop.h>
#include <mail/smtp.h>

typedef struct loop_job loop_job;

typedef struct loop_jobs {
  mail_loop *loop;
  loop_job *job;
  size_t n;
  int barrier;        /* connect everyone first */
  size_t connected;   /* jobs whose connect ended MAIL_OK */
  size_t finished;    /* jobs whose last operation ended */
  size_t ok_messages; /* sends that ended MAIL_OK with a 250 for the recipient */
  size_t ok_jobs;     /* jobs that sent everything and quit */
  size_t timeouts;    /* jobs that ended MAIL_ERR_TIMEOUT */
  size_t other;       /* jobs that ended with any other failure */
  int first_error;    /* the first failure's status */
  char first_text[256];
} loop_jobs;

typedef struct loop_jobs_conf {
  const char *host;
  unsigned port;
  int security;          /* mail_security */
  const char *ca_file;   /* trust for STARTTLS, or NULL */
  const char *user, *password; /* AUTH when user is set */
  const char *from, *to;
  const void *body;
  size_t body_len;
  int messages;          /* per session */
  int command_ms;        /* per-command timeout (0: the default) */
  const char *client_name;
  const char *stall_name; /* client name of every stall_every-th job (0: none) */
  size_t stall_every;
  int stall_ms;          /* their command timeout */
  const mail_allocator *alloc; /* the sessions' and envelopes', or NULL */
} loop_jobs_conf;

/* Make n sessions and register them with loop; 0 or a status. */
int loop_jobs_start(loop_jobs *js, mail_loop *loop, size_t n, const loop_jobs_conf *conf,
                    int barrier);
/* Free the sessions. */
void loop_jobs_free(loop_jobs *js);
/* 1 when job i was one of the stalled ones. */
int loop_jobs_is_stalled(const loop_jobs *js, size_t i);
/* Status and messages sent of job i. */
int loop_jobs_status(const loop_jobs *js, size_t i, int *sent);

#endif

/*
 * The job both adapter examples run: one SMTP session that connects,
 * sends its messages and quits, written once as a step function for
 * mail/loop.h's mail_loop_step_fn. Whichever loop drives it (libmail's
 * own, libuv, libevent) calls send_job_step() again whenever the
 * connection is ready, and the done function gets the final status.
 */
#ifndef SEND_JOB_H
#define SEND_JOB_H

#include <mail/loop.h>
#include <mail/smtp.h>

typedef struct send_job {
  mail_smtp *smtp;
  mail_smtp_envelope *env;
  const char *host;
  unsigned port;
  int phase;    /* 0 connect, 1 send, 2 quit, 3 done */
  int messages; /* to send */
  int sent;
  int status;   /* final status, MAIL_ERR_AGAIN while running */
} send_job;

/* Make the session and its envelope; MAIL_OK or a status. */
int send_job_init(send_job *j, const char *host, unsigned port, int messages);
void send_job_free(send_job *j);
/* mail_loop_step_fn: connect -> send x messages -> quit. */
int send_job_step(void *user, mail_conn *conn);
/* mail_loop_done_fn: records the status. */
void send_job_done(void *user, int status);

#endif

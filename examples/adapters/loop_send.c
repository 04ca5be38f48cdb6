/*
 * The same SMTP job on libmail's own loop (mail/loop.h), for programs
 * without a loop of their own; exits 0 when every session sent its
 * messages.
 * usage: loop-send SESSIONS MESSAGES HOST PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <mail/loop.h>

#include "send_job.h"

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: loop-send SESSIONS MESSAGES HOST PORT\n");
    return 2;
  }
  int n = atoi(argv[1]), messages = atoi(argv[2]);
  send_job *jobs = calloc((size_t)n, sizeof *jobs);
  mail_loop *loop = NULL;
  if (!jobs || mail_loop_new(&loop, NULL))
    return 1;
  for (int i = 0; i < n; i++) {
    if (send_job_init(&jobs[i], argv[3], (unsigned)atoi(argv[4]), messages) ||
        mail_loop_add(NULL, loop, mail_smtp_conn(jobs[i].smtp), send_job_step, send_job_done,
                      &jobs[i]))
      return 1;
  }
  int rc = mail_loop_run(loop); /* until every operation is done */
  int failed = 0;
  for (int i = 0; i < n; i++) {
    failed += jobs[i].status != MAIL_OK;
    send_job_free(&jobs[i]);
  }
  free(jobs);
  mail_loop_free(loop);
  printf("mail_loop: %d sessions x %d messages, %d failed\n", n, messages, failed);
  return rc || failed ? 1 : 0;
}

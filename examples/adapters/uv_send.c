/*
 * Several SMTP sessions on one libuv loop through the header-only adapter
 * mail/adapters/mail_uv.h: each connects, sends MESSAGES messages and
 * quits; exits 0 when every one did.
 * usage: uv-send SESSIONS MESSAGES HOST PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <mail/adapters/mail_uv.h>

#include "send_job.h"

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: uv-send SESSIONS MESSAGES HOST PORT\n");
    return 2;
  }
  int n = atoi(argv[1]), messages = atoi(argv[2]);
  send_job *jobs = calloc((size_t)n, sizeof *jobs);
  uv_loop_t *loop = uv_default_loop();
  for (int i = 0; i < n; i++) {
    if (send_job_init(&jobs[i], argv[3], (unsigned)atoi(argv[4]), messages) ||
        mail_uv_add(loop, mail_smtp_conn(jobs[i].smtp), send_job_step, send_job_done, &jobs[i]))
      return 1;
  }
  uv_run(loop, UV_RUN_DEFAULT); /* returns once every handle is closed */
  int failed = 0;
  for (int i = 0; i < n; i++) {
    failed += jobs[i].status != MAIL_OK;
    send_job_free(&jobs[i]);
  }
  free(jobs);
  uv_loop_close(loop);
  printf("libuv: %d sessions x %d messages, %d failed\n", n, messages, failed);
  return failed ? 1 : 0;
}

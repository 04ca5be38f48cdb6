/*
 * Several SMTP sessions on one libevent base through the header-only
 * adapter mail/adapters/mail_event.h: each connects, sends MESSAGES
 * messages and quits; exits 0 when every one did.
 * usage: event-send SESSIONS MESSAGES HOST PORT
 */
#include <stdio.h>
#include <stdlib.h>

#include <mail/adapters/mail_event.h>

#include "send_job.h"

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: event-send SESSIONS MESSAGES HOST PORT\n");
    return 2;
  }
  int n = atoi(argv[1]), messages = atoi(argv[2]);
  send_job *jobs = calloc((size_t)n, sizeof *jobs);
  struct event_base *base = event_base_new();
  if (!jobs || !base)
    return 1;
  for (int i = 0; i < n; i++) {
    if (send_job_init(&jobs[i], argv[3], (unsigned)atoi(argv[4]), messages) ||
        mail_event_add(base, mail_smtp_conn(jobs[i].smtp), send_job_step, send_job_done,
                       &jobs[i]))
      return 1;
  }
  event_base_dispatch(base); /* returns once no event is left */
  int failed = 0;
  for (int i = 0; i < n; i++) {
    failed += jobs[i].status != MAIL_OK;
    send_job_free(&jobs[i]);
  }
  free(jobs);
  event_base_free(base);
  printf("libevent: %d sessions x %d messages, %d failed\n", n, messages, failed);
  return failed ? 1 : 0;
}

/* The adapter examples' SMTP job (send_job.h). */
#include "send_job.h"

#include <stdio.h>
#include <string.h>

static const char message[] =
  "From: <example@libmail.test>\r\n"
  "To: <sink@libmail.test>\r\n"
  "Subject: sent from an event loop\r\n"
  "\r\n"
  "One of several sessions sharing one thread.\r\n";

int send_job_init(send_job *j, const char *host, unsigned port, int messages)
{
  memset(j, 0, sizeof *j);
  j->host = host;
  j->port = port;
  j->messages = messages;
  j->status = MAIL_ERR_AGAIN;
  int rc = mail_smtp_new(&j->smtp, NULL);
  if (!rc)
    rc = mail_smtp_envelope_new(&j->env, NULL);
  if (!rc)
    rc = mail_smtp_set_client_name(j->smtp, "example.libmail.test");
  if (!rc)
    rc = mail_smtp_envelope_set_from(j->env, "example@libmail.test");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(j->env, "sink@libmail.test", NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(j->env, message, sizeof message - 1);
  return rc;
}

void send_job_free(send_job *j)
{
  mail_smtp_envelope_free(j->env);
  mail_smtp_free(j->smtp);
}

int send_job_step(void *user, mail_conn *conn)
{
  send_job *j = user;
  (void)conn;
  int rc = MAIL_OK;
  while (rc == MAIL_OK && j->phase < 3) {
    switch (j->phase) {
    case 0:
      /* A local sink: no TLS. Against a real server use MAIL_SECURITY_STARTTLS. */
      rc = mail_smtp_connect(j->smtp, j->host, j->port, MAIL_SECURITY_NONE_INSECURE);
      break;
    case 1:
      rc = j->sent < j->messages ? mail_smtp_send(j->smtp, j->env) : MAIL_OK;
      if (rc == MAIL_OK && j->sent < j->messages) {
        j->sent++;
        continue; /* the next message, same phase */
      }
      break;
    case 2:
      rc = mail_smtp_quit(j->smtp);
      break;
    }
    if (rc == MAIL_OK)
      j->phase++;
  }
  return rc; /* MAIL_ERR_AGAIN: the loop calls again when conn is ready */
}

void send_job_done(void *user, int status)
{
  send_job *j = user;
  j->status = status;
  if (status != MAIL_OK)
    fprintf(stderr, "session: %s (%s)\n", mail_strerror(status),
            mail_conn_last_error(mail_smtp_conn(j->smtp)));
}

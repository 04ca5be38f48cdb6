/* SMTP sessions run by a mail_loop (loop_jobs.h). */
#include "loop_jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PH_CONNECT, PH_AUTH, PH_SEND, PH_QUIT, PH_END };

struct loop_job {
  loop_jobs *js;
  const loop_jobs_conf *conf;
  mail_smtp *s;
  mail_smtp_envelope *e;
  int phase;
  int sent;
  int status;
  int stalled;
  int two_ops; /* the connect is an operation of its own */
};

static int job_call(loop_job *j)
{
  const loop_jobs_conf *c = j->conf;
  switch (j->phase) {
  case PH_CONNECT:
    return mail_smtp_connect(j->s, c->host, c->port, c->security);
  case PH_AUTH:
    return c->user ? mail_smtp_auth(j->s) : MAIL_OK;
  case PH_SEND:
    while (j->sent < c->messages) {
      int rc = mail_smtp_send(j->s, j->e);
      if (rc != MAIL_OK)
        return rc; /* MAIL_ERR_AGAIN: this same send is called again */
      const mail_smtp_reply *r = mail_smtp_last_reply(j->s);
      if (mail_smtp_envelope_recipient_status(j->e, 0) != MAIL_OK ||
          mail_smtp_envelope_recipient_code(j->e, 0) != 250 || !r ||
          mail_smtp_reply_code(r) != 250)
        return MAIL_ERR_PROTOCOL;
      j->sent++;
      j->js->ok_messages++;
    }
    return MAIL_OK;
  case PH_QUIT:
    return mail_smtp_quit(j->s);
  }
  return MAIL_OK;
}

/* The chain: each phase is called until it stops saying MAIL_ERR_AGAIN;
 * MAIL_OK moves on at once. With the barrier the first operation is the
 * connect alone. */
static int job_step(void *user, mail_conn *conn)
{
  loop_job *j = user;
  (void)conn;
  for (;;) {
    int rc = job_call(j);
    if (rc != MAIL_OK)
      return rc;
    j->phase++;
    if (j->phase == PH_AUTH && j->two_ops)
      return MAIL_OK;
    if (j->phase == PH_END)
      return MAIL_OK;
  }
}

static void job_done(void *user, int status);

static void job_fail(loop_job *j, int status)
{
  loop_jobs *js = j->js;
  j->status = status;
  js->finished++;
  if (status == MAIL_ERR_TIMEOUT) {
    js->timeouts++;
  } else {
    js->other++;
  }
  if (!js->first_error && !(j->stalled && status == MAIL_ERR_TIMEOUT)) {
    js->first_error = status;
    snprintf(js->first_text, sizeof js->first_text, "job %zu phase %d: %s (%s)",
             (size_t)(j - js->job), j->phase, mail_strerror(status),
             mail_conn_last_error(mail_smtp_conn(j->s)));
  }
}

static void job_done(void *user, int status)
{
  loop_job *j = user;
  loop_jobs *js = j->js;
  if (status != MAIL_OK) {
    job_fail(j, status);
    if (j->two_ops && j->phase == PH_CONNECT)
      js->connected++; /* counted for the barrier all the same */
    else
      return;
  } else if (j->phase == PH_END) {
    j->status = MAIL_OK;
    js->finished++;
    js->ok_jobs++;
    return;
  } else {
    js->connected++; /* the barrier's first operation */
  }
  if (js->connected < js->n)
    return;
  /* Everyone is connected (or failed to): the second operations. */
  for (size_t i = 0; i < js->n; i++) {
    loop_job *k = &js->job[i];
    if (k->phase != PH_AUTH || k->status != MAIL_ERR_AGAIN)
      continue;
    k->two_ops = 0;
    int rc = mail_loop_add(NULL, js->loop, mail_smtp_conn(k->s), job_step, job_done, k);
    if (rc != MAIL_OK)
      job_fail(k, rc);
  }
}

int loop_jobs_start(loop_jobs *js, mail_loop *loop, size_t n, const loop_jobs_conf *conf,
                    int barrier)
{
  memset(js, 0, sizeof *js);
  js->loop = loop;
  js->n = n;
  js->barrier = barrier;
  js->job = calloc(n, sizeof *js->job);
  if (!js->job)
    return MAIL_ERR_NOMEM;
  mail_tls_config *tls = NULL;
  if (conf->ca_file) {
    int rc = mail_tls_config_new(&tls, NULL);
    if (!rc)
      rc = mail_tls_config_set_ca_file(tls, conf->ca_file);
    if (rc)
      return rc;
  }
  for (size_t i = 0; i < n; i++) {
    loop_job *j = &js->job[i];
    j->js = js;
    j->conf = conf;
    j->status = MAIL_ERR_AGAIN;
    j->two_ops = barrier;
    j->stalled = conf->stall_every && i % conf->stall_every == 0;
    int rc = mail_smtp_new(&j->s, conf->alloc);
    if (!rc)
      rc = mail_smtp_envelope_new(&j->e, conf->alloc);
    if (!rc)
      rc = mail_smtp_set_client_name(j->s, j->stalled ? conf->stall_name
                                           : conf->client_name ? conf->client_name
                                                               : "loop.libmail.test");
    if (!rc && conf->user)
      rc = mail_smtp_set_auth(j->s, conf->user, conf->password);
    if (!rc && tls)
      rc = mail_conn_set_tls_config(mail_smtp_conn(j->s), tls);
    if (!rc) {
      int ms = j->stalled ? conf->stall_ms : conf->command_ms;
      if (ms)
        rc = mail_smtp_set_timeouts(j->s, ms, ms);
    }
    if (!rc)
      rc = mail_smtp_envelope_set_from(j->e, conf->from);
    if (!rc)
      rc = mail_smtp_envelope_add_recipient(j->e, conf->to, NULL);
    if (!rc)
      rc = mail_smtp_envelope_set_body_data(j->e, conf->body, conf->body_len);
    if (!rc)
      rc = mail_loop_add(NULL, loop, mail_smtp_conn(j->s), job_step, job_done, j);
    if (rc) {
      mail_tls_config_free(tls);
      return rc;
    }
  }
  mail_tls_config_free(tls);
  return MAIL_OK;
}

void loop_jobs_free(loop_jobs *js)
{
  for (size_t i = 0; i < js->n; i++) {
    mail_smtp_envelope_free(js->job[i].e);
    mail_smtp_free(js->job[i].s);
  }
  free(js->job);
  js->job = NULL;
}

int loop_jobs_is_stalled(const loop_jobs *js, size_t i)
{
  return js->job[i].stalled;
}

int loop_jobs_status(const loop_jobs *js, size_t i, int *sent)
{
  if (sent)
    *sent = js->job[i].sent;
  return js->job[i].status;
}

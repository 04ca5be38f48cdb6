/* The driver scenarios (see scenarios.h). */
#include "scenarios.h"

#include <stdio.h>
#include <string.h>

#include "core/conn_internal.h"

#ifndef MAIL_TRANSCRIPT_DIR
#error "MAIL_TRANSCRIPT_DIR must name tests/transcript"
#endif

/* The scenario being run, for drive() and the trace hook, and its
 * transcript (for the feed-mode pump). */
static scn_result *cur;
static mail_transcript *cur_t;

static void append(char *dst, size_t cap, const char *data, size_t len)
{
  size_t have = strlen(dst);
  if (have + len + 2 > cap)
    len = have + 2 < cap ? cap - have - 2 : 0;
  memcpy(dst + have, data, len);
  dst[have + len] = '|';
  dst[have + len + 1] = '\0';
}

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  scn_result *r = user;
  if (dir == MAIL_TRACE_SEND)
    append(r->sent, sizeof r->sent, data, len);
  else if (dir == MAIL_TRACE_RECV)
    append(r->recv, sizeof r->recv, data, len);
}

/* In event-loop mode, step the operation until it stops asking to wait,
 * noting what it waited for each time. */
static int drive(lp *p, int rc)
{
  for (int guard = 0; rc == MAIL_ERR_AGAIN && guard < 1000; guard++) {
    int w = mail_conn_want(p->conn);
    size_t n = strlen(cur->wants);
    if (n + 1 < sizeof cur->wants) {
      cur->wants[n] = w == MAIL_WANT_READ ? 'R' : w == MAIL_WANT_WRITE ? 'W'
                      : w == MAIL_WANT_TLS ? 'T' : '?';
      cur->wants[n + 1] = '\0';
    }
    if (mail_conn_timeout_ms(p->conn) < 0)
      cur->bad_timeout = 1;
    cur->agains++;
    mail_transcript_pump(cur_t); /* feed mode: carry the bytes */
    rc = lp_resume(p);
  }
  mail_transcript_pump_flush(cur_t);
  return rc;
}

#define STEP(call)              \
  do {                          \
    int rc_ = drive(p, (call)); \
    if (rc_)                    \
      return rc_;               \
  } while (0)

static int ops_greeting_command(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_command(p, "NOOP"));
}

static int ops_pipelined(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_pipeline(p, "FIRST", "SECOND"));
}

static int ops_list(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_list(p, "LIST"));
}

static int ops_starttls(lp *p)
{
  STEP(lp_greeting(p));
  STEP(lp_starttls(p));
  return drive(p, lp_command(p, "NOOP"));
}

static int ops_starttls_only(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_starttls(p));
}

static int ops_pass(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_pass(p, "hunter2"));
}

static int ops_quit(lp *p)
{
  STEP(lp_greeting(p));
  return drive(p, lp_quit_nowait(p));
}

const scenario scenarios[] = {
  {"greeting_command", "greeting_command.txt", ops_greeting_command, MAIL_OK, 0, 0, 0, 0},
  {"pipelined", "pipelined.txt", ops_pipelined, MAIL_OK, 0, 0, 0, 0},
  {"multiline", "multiline.txt", ops_list, MAIL_OK, 0, 0, 0, 0},
  {"close_mid_reply", "close_mid_reply.txt", ops_list, MAIL_ERR_CLOSED, 0, 0, 0, 0},
  {"timeout", "timeout.txt", ops_greeting_command, MAIL_ERR_TIMEOUT, 0, 0, 0, 0},
  {"starttls", "starttls.txt", ops_starttls, MAIL_OK, 0, 0, 0, 0},
  {"starttls_injection", "starttls_injection.txt", ops_starttls_only,
   MAIL_ERR_STARTTLS_INJECTION, 0, 0, 0, 0},
  {"secret", "secret.txt", ops_pass, MAIL_OK, 0, 0, 0, 0},
  {"secret_shown", "secret.txt", ops_pass, MAIL_OK, 0, 0, 0, 1},
  {"secret_partial", "secret_partial.txt", ops_pass, MAIL_OK, 0, 0, 0, 0},
  {"line_limit", "line_limit.txt", ops_greeting_command, MAIL_ERR_LIMIT, 0, 0, 64, 0},
  {"quit_nowait", "quit_nowait.txt", ops_quit, MAIL_OK, 0, 0, 0, 0},
  {"event_loop", "event_loop.txt", ops_greeting_command, MAIL_OK, 1, 0, 0, 0},
  {"event_loop_blocking", "event_loop.txt", ops_greeting_command, MAIL_OK, 0, 0, 0, 0},
  {"event_loop_every_step", "starttls.txt", ops_starttls, MAIL_OK, 1, 1, 0, 0},
  {"event_loop_pipelined", "pipelined.txt", ops_pipelined, MAIL_OK, 1, 1, 0, 0},
  {"event_loop_quit", "quit_nowait.txt", ops_quit, MAIL_OK, 1, 1, 0, 0},
};
const size_t n_scenarios = sizeof scenarios / sizeof scenarios[0];

const scenario *scenario_find(const char *name)
{
  for (size_t i = 0; i < n_scenarios; i++)
    if (!strcmp(scenarios[i].name, name))
      return &scenarios[i];
  return NULL;
}

static int run_mode(const scenario *s, const mail_allocator *alloc, scn_result *res, int feed)
{
  memset(res, 0, sizeof *res);
  char path[1024], err[256];
  snprintf(path, sizeof path, "%s/%s", MAIL_TRANSCRIPT_DIR, s->file);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  if (!t) {
    snprintf(res->report, sizeof res->report, "%s", err);
    res->rc = MAIL_ERR_FILE;
    return -1;
  }
  mail_transcript_set_auto_again(t, s->auto_again);
  cur = res;
  cur_t = t;

  mail_conn *c = NULL;
  lp p;
  int rc = mail_conn_new(&c, alloc);
  if (rc)
    goto out;
  rc = feed ? mail_transcript_attach_feed(t, c) : mail_transcript_attach(t, c);
  if (rc)
    goto out;
  mail_conn_set_trace(c, on_trace, res);
  mail_conn_set_trace_show_secrets_insecure(c, s->show_secrets);
  if (s->max_line) {
    mail_limits lim;
    mail_limits_default(&lim);
    lim.max_line = s->max_line;
    rc = mail_conn_set_limits(c, &lim);
    if (rc)
      goto out;
  }
  if (!feed)
    mail_conn_set_nonblocking(c, s->nonblocking);
  lp_init(&p, c);
  rc = drive(&p, mail_conn_connect(c, "transcript.test", 110, 0));
  if (rc)
    goto out;
  rc = s->ops(&p);
  res->body_lines = p.body_lines;
  snprintf(res->last_reply, sizeof res->last_reply, "%s", p.last);
out:
  res->rc = rc;
  if (c) {
    snprintf(res->last_error, sizeof res->last_error, "%s", mail_conn_last_error(c));
    res->is_open = mail_conn_is_open(c);
    res->is_tls = mail_conn_is_tls(c);
    res->verified = mail_conn_is_verified(c);
    unsigned char cb[64];
    size_t cblen = 0;
    res->cb_ok = mail_conn_channel_binding(c, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &cblen) ==
                     MAIL_OK && cblen == MAIL_TEST_CB_LEN && cb[0] == MAIL_CB_TLS_EXPORTER;
  }
  mail_conn_free(c);
  res->done = mail_transcript_done(t);
  res->writes = mail_transcript_write_calls(t);
  snprintf(res->report, sizeof res->report, "%s", mail_transcript_report(t));
  mail_transcript_free(t);
  cur = NULL;
  cur_t = NULL;
  return 0;
}

int scenario_run(const scenario *s, const mail_allocator *alloc, scn_result *res)
{
  return run_mode(s, alloc, res, 0);
}

int scenario_run_feed(const scenario *s, const mail_allocator *alloc, scn_result *res)
{
  return run_mode(s, alloc, res, 1);
}

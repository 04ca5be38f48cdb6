/* The test line protocol engine (see lineproto.h). */
#include "lineproto.h"

#include <stdio.h>
#include <string.h>

#include "core/conn_internal.h"

enum { PH_STATUS, PH_BODY, PH_DONE };
enum { LP_AFTER_NOTHING, LP_AFTER_STARTTLS };

static int lp_advance(void *engine);

void lp_init(lp *p, mail_conn *conn)
{
  memset(p, 0, sizeof *p);
  p->conn = conn;
  p->phase = PH_DONE;
}

static int begin(lp *p, int replies, int after)
{
  p->phase = replies ? PH_STATUS : PH_DONE;
  p->replies_left = replies;
  p->after = after;
  p->result = MAIL_OK;
  p->body_lines = 0;
  p->list = 0;
  p->last[0] = '\0';
  return MAIL_OK;
}

static int queue_line(lp *p, const char *cmd)
{
  uint64_t mark = mail_conn_out_mark(p->conn);
  int rc = mail_conn_send(p->conn, cmd, strlen(cmd));
  if (!rc)
    rc = mail_conn_send(p->conn, "\r\n", 2);
  if (rc)
    mail_conn_out_rollback(p->conn, mark);
  return rc;
}

int lp_resume(lp *p)
{
  return mail_conn_run(p->conn, lp_advance, p);
}

int lp_greeting(lp *p)
{
  begin(p, 1, LP_AFTER_NOTHING);
  return lp_resume(p);
}

int lp_command(lp *p, const char *cmd)
{
  begin(p, 1, LP_AFTER_NOTHING);
  int rc = queue_line(p, cmd);
  return rc ? rc : lp_resume(p);
}

int lp_pipeline(lp *p, const char *cmd1, const char *cmd2)
{
  begin(p, 2, LP_AFTER_NOTHING);
  uint64_t mark = mail_conn_out_mark(p->conn);
  int rc = queue_line(p, cmd1);
  if (!rc)
    rc = queue_line(p, cmd2);
  if (rc) {
    mail_conn_out_rollback(p->conn, mark);
    return rc;
  }
  return lp_resume(p);
}

int lp_list(lp *p, const char *cmd)
{
  begin(p, 1, LP_AFTER_NOTHING);
  p->list = 1;
  int rc = queue_line(p, cmd);
  return rc ? rc : lp_resume(p);
}

int lp_starttls(lp *p)
{
  begin(p, 1, LP_AFTER_STARTTLS);
  int rc = queue_line(p, "STARTTLS");
  return rc ? rc : lp_resume(p);
}

int lp_pass(lp *p, const char *secret)
{
  begin(p, 1, LP_AFTER_NOTHING);
  uint64_t mark = mail_conn_out_mark(p->conn);
  int rc = mail_conn_send(p->conn, "PASS ", 5);
  if (!rc)
    rc = mail_conn_send_secret(p->conn, secret, strlen(secret));
  if (!rc)
    rc = mail_conn_send(p->conn, "\r\n", 2);
  if (rc) {
    mail_conn_out_rollback(p->conn, mark);
    return rc;
  }
  return lp_resume(p);
}

int lp_quit_nowait(lp *p)
{
  begin(p, 0, LP_AFTER_NOTHING);
  int rc = queue_line(p, "QUIT");
  return rc ? rc : lp_resume(p);
}

static int finish(lp *p)
{
  p->phase = PH_DONE;
  if (p->result == MAIL_OK && p->after == LP_AFTER_STARTTLS)
    return mail_conn_start_tls(p->conn);
  return p->result;
}

static int lp_advance(void *engine)
{
  lp *p = engine;
  mail_reader *r = mail_conn_reader(p->conn);
  for (;;) {
    if (p->phase == PH_DONE)
      return finish(p);
    const char *line;
    size_t len;
    int rc = mail_reader_line(r, &line, &len, NULL);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc == MAIL_ERR_CLOSED)
      return mail_conn_fail(p->conn, MAIL_ERR_CLOSED, "the server closed the connection mid-reply");
    if (rc == MAIL_ERR_LIMIT)
      return mail_conn_fail(p->conn, MAIL_ERR_LIMIT, "reply line too long");
    if (rc)
      return rc;
    if (p->phase == PH_BODY) {
      if (len == 1 && line[0] == '.') {
        if (--p->replies_left == 0)
          p->phase = PH_DONE;
        else
          p->phase = PH_STATUS;
      } else {
        p->body_lines++;
      }
      continue;
    }
    snprintf(p->last, sizeof p->last, "%.*s", (int)(len < 120 ? len : 120), line);
    if (len >= 3 && !memcmp(line, "+OK", 3)) {
      if (p->list) {
        p->phase = PH_BODY;
        continue;
      }
    } else if (len >= 4 && !memcmp(line, "-ERR", 4)) {
      p->result = MAIL_ERR_SERVER;
    } else {
      return mail_conn_fail(p->conn, MAIL_ERR_PROTOCOL, "reply is neither +OK nor -ERR");
    }
    if (--p->replies_left == 0)
      p->phase = PH_DONE;
  }
}

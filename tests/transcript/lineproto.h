/*
 * A tiny line protocol engine used only to test the connection driver
 * through transcripts (no real protocol engine exists at this layer).
 *
 * Replies are "+OK ..." or "-ERR ..."; a LIST reply is "+OK" followed by
 * lines up to a lone "." (POP3-like). The engine does no I/O: it queues
 * bytes and parses lines from the connection's reader, and every
 * operation is run by mail_conn_run(). In event-loop mode an operation
 * returns MAIL_ERR_AGAIN; call lp_resume() until it does not.
 */
#ifndef LINEPROTO_H
#define LINEPROTO_H

#include <stddef.h>
#include <mail/conn.h>

typedef struct lp {
  mail_conn *conn;
  int phase;
  int replies_left;    /* status lines still expected */
  int after;           /* what to do when the last reply is in (LP_AFTER_*) */
  int result;          /* MAIL_OK, or MAIL_ERR_SERVER after a -ERR */
  int list;            /* +OK replies carry a dot-terminated body */
  size_t body_lines;   /* lines of the last LIST body */
  char last[128];      /* the last status line (truncated) */
} lp;

void lp_init(lp *p, mail_conn *conn);

/* Wait for the greeting. */
int lp_greeting(lp *p);
/* Send one command, wait for its status line. */
int lp_command(lp *p, const char *cmd);
/* Queue two commands at once (one write), then wait for both replies. */
int lp_pipeline(lp *p, const char *cmd1, const char *cmd2);
/* Send cmd, read "+OK" and a dot-terminated body. */
int lp_list(lp *p, const char *cmd);
/* STARTTLS, then switch the connection to TLS at the go-ahead. */
int lp_starttls(lp *p);
/* "PASS <secret>": the secret is queued with mail_conn_send_secret. */
int lp_pass(lp *p, const char *secret);
/* Queue "QUIT" and finish at once without waiting for the reply (the
 * driver must still flush it before returning). */
int lp_quit_nowait(lp *p);
/* Continue the operation in progress (event-loop mode). */
int lp_resume(lp *p);

#endif

/*
 * The POP3 session inside: one command queue of commands in flight, one
 * reply reader (status line, then a line-wise or streamed body), one
 * operation at a time whose phases queue the next commands, and one
 * function that changes the protocol state.
 *
 * How a byte becomes a result: mail_conn_run() calls pop3_advance(); it
 * reads the head command's reply from the connection's reader
 * (pop3_engine.c), hands it to the handler of the command's kind
 * (mail_cmd_dispatch over the pop3_kinds table), and when nothing is in
 * flight asks the operation (pop3_ops.c, pop3_connect.c, pop3_auth.c,
 * pop3_leave.c) for its next commands or its result.
 */
#ifndef MAIL_POP3_INTERNAL_H
#define MAIL_POP3_INTERNAL_H

#include <mail/pop3.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/conn_internal.h"
#include "core/engine.h"
#include "parse/pop3_reply.h"
#include "sasl/sasl_internal.h"

/* Commands (mail_cmd.kind). */
enum {
  POP3_CMD_GREETING = 1, /* not sent: waits for the greeting */
  POP3_CMD_CAPA,
  POP3_CMD_STLS,
  POP3_CMD_USER,
  POP3_CMD_PASS,
  POP3_CMD_APOP,
  POP3_CMD_AUTH,         /* AUTH and every SASL response line */
  POP3_CMD_STAT,
  POP3_CMD_LIST,
  POP3_CMD_LIST_ONE,
  POP3_CMD_UIDL,
  POP3_CMD_UIDL_ONE,
  POP3_CMD_RETR,
  POP3_CMD_TOP,
  POP3_CMD_DELE,
  POP3_CMD_RSET,
  POP3_CMD_NOOP,
  POP3_CMD_QUIT
};

/* Operations, one per public call (mail_op.kind): a call made again while
 * its operation is pending resumes it. */
enum {
  POP3_OP_NONE = 0,
  POP3_OP_CONNECT,   /* mail_pop3_connect, mail_pop3_connect_url */
  POP3_OP_AUTH,
  POP3_OP_STAT,      /* one command, a one-shot reply: */
  POP3_OP_LIST,
  POP3_OP_UIDL,
  POP3_OP_RSET,
  POP3_OP_NOOP,
  POP3_OP_LIST_ONE,  /* batches of RETR/TOP/DELE/UIDL/LIST n (one or many): */
  POP3_OP_UIDL_MANY,
  POP3_OP_UIDL_ONE,
  POP3_OP_RETR,
  POP3_OP_RETR_MANY,
  POP3_OP_TOP,
  POP3_OP_DELE,
  POP3_OP_DELE_MANY,
  POP3_OP_QUIT,
  POP3_OP_LEAVE
};

/* Reply reader phases. */
enum { POP3_RX_STATUS = 0, POP3_RX_LINES, POP3_RX_BODY };

typedef struct pop3_list_entry {
  uint32_t msg;
  uint64_t size;
} pop3_list_entry;

typedef struct pop3_uidl_entry {
  uint32_t msg;
  size_t off; /* of the NUL-terminated id in uidl_text */
} pop3_uidl_entry;

struct mail_pop3 {
  mail_allocator alloc;
  mail_conn *conn;
  mail_sasl *sasl;
  mail_cmdq q;

  int state;            /* mail_pop3_state */
  int security;
  int auth_method;
  unsigned int window;
  char *host;
  unsigned int port;

  /* what the server said */
  mail_pop3_reply reply;
  int have_reply;
  char last_cmd[64];    /* what reply answered (mail_pop3_last_reply_command) */
  mail_buf greeting;
  mail_buf apop_stamp;  /* "<...>" from the greeting, or empty */
  mail_pop3_caps *caps;
  int caps_known;
  mail_buf impl;        /* IMPLEMENTATION, joined */

  /* typed results */
  mail_buf list;        /* pop3_list_entry */
  size_t nlist;
  mail_buf uidl;        /* pop3_uidl_entry */
  size_t nuidl;
  mail_buf uidl_text;
  size_t deleted;

  /* reply reader */
  int rx;
  mail_dot_unstuffer body;
  const mail_cmd *body_cmd; /* the command whose body streams now */

  /* the operation in progress; op.done/op.result: the first error, reported
   * once the replies in flight are read */
  mail_op op;
  int cancelled;        /* a body callback asked to stop */
  int tls_done;
  int quit_sent_in_transaction;
  int committed;
  int *committed_out;
  uint32_t *out_count;
  uint64_t *out_size;
  char *out_uid;
  size_t out_uid_cap;
  int leave_rc;         /* leave-on-server: the RETR step's outcome */
  int sasl_lines;       /* SASL response lines sent since the last AUTH command */

  /* one command or a batch */
  int cmd_kind;
  uint32_t cmd_msg;
  uint32_t cmd_lines;
  uint32_t *msgs;       /* batch items (copied) */
  int *results;         /* per item */
  size_t nmsgs, next, nresults;
  mail_pop3_body_fn fn;
  void *fn_user;

  /* leave-on-server */
  const mail_pop3_uidset *known;
  mail_pop3_uidset *seen;
  size_t *new_count;
  unsigned int delete_after_days;
  size_t nnew;
};

/* The one function that changes the protocol state (traced by name). */
void pop3_set_state(mail_pop3 *p, int state);

/* Queue a command line and its queue entry (mail_cmd_send): word (NULL
 * for a bare SASL response line), a space and arg when arg is not NULL
 * (sent as a secret when secret is set: redacted in traces, wiped from
 * buffers), CRLF. MAIL_ERR_INVALID, with nothing queued, when arg holds
 * CR, LF or NUL; a command that cannot be queued ends the session
 * (pop3_abort). */
int pop3_send(mail_pop3 *p, int kind, const char *word, const char *arg, int secret,
              uint32_t msg);
/* Queue what the SASL engine asked for (mail_sasl_queue: "AUTH mech
 * [redacted]" or a response line) and its POP3_CMD_AUTH queue entry, as
 * pop3_send() does (through mail_cmd_send; pop3_abort() if it cannot). */
int pop3_send_sasl(mail_pop3 *p, int what, const mail_sasl_msg *m);
/* "word msg" ("TOP msg lines" for POP3_CMD_TOP). */
int pop3_send_msg(mail_pop3 *p, int kind, const char *word, uint32_t msg, uint32_t lines);
/* The session's error for a timeout: what it waited for (the greeting,
 * with a word on implicit-TLS ports, or a command's reply). */
void pop3_name_timeout(mail_pop3 *p);
/* Give up on the connection (mail_engine_abort): returns rc. */
int pop3_abort(mail_pop3 *p, int rc, const char *why);

/* At the top of every public call that runs operation op: 1 when the call
 * is answered already (*rc: the resumed operation's status, or
 * MAIL_ERR_STATE while another one is pending, MAIL_ERR_INVALID for a NULL
 * handle), 0 to go on and start it with pop3_run(). */
int pop3_op_enter(mail_pop3 *p, int op, int *rc);
/* A call refused because the session is not in state needed (named in
 * the session's error). Returns MAIL_ERR_STATE. */
int pop3_wrong_state(mail_pop3 *p, const char *needed);
/* Start operation op: run it until done (or MAIL_ERR_AGAIN). */
int pop3_run(mail_pop3 *p, int op);

/* The credentials, as set on the SASL handle. */
const char *pop3_user(const mail_pop3 *p);
const char *pop3_password(const mail_pop3 *p);
int pop3_allow_insecure(const mail_pop3 *p);
int pop3_external(const mail_pop3 *p); /* mail_sasl_set_external() is on */
/* End the operation with rc (also used for fatal errors). */
int pop3_finish(mail_pop3 *p, int rc);

/* The driver's advance function (pop3_engine.c). */
int pop3_advance(void *engine);

/* Each operation's next step (the pop3_ops table in pop3_engine.c, by
 * operation kind), called whenever the queue is empty: queue the next
 * commands (MAIL_ERR_AGAIN) or return the result. */
int pop3_simple_next(mail_pop3 *p); /* STAT, LIST, UIDL, RSET, NOOP (pop3_ops.c) */
int pop3_batch_next(mail_pop3 *p);  /* the batches (pop3_ops.c) */
int pop3_quit_next(mail_pop3 *p);   /* pop3_ops.c */
/* Reply handlers (mail_cmd_kind.on_reply, engine = the mail_pop3): a
 * reply (status line + body, if any) to cmd is complete. MAIL_OK to go on,
 * MAIL_ERR_AGAIN to go on at once, or an error that ends the operation. */
int pop3_transaction_reply(void *engine, const mail_cmd *cmd);
/* A body line of a LIST/UIDL/CAPA reply. */
int pop3_body_line(mail_pop3 *p, const mail_cmd *cmd, const char *line, size_t len);

/* Login (pop3_auth.c). */
int pop3_login_next(mail_pop3 *p);
int pop3_login_reply(void *engine, const mail_cmd *cmd);
/* Connection setup (pop3_connect.c). */
int pop3_connect_next(mail_pop3 *p);
int pop3_connect_reply(void *engine, const mail_cmd *cmd);
void pop3_caps_reset(mail_pop3 *p);
/* Leave-on-server (pop3_leave.c). */
int pop3_leave_next(mail_pop3 *p);

/* Batch helpers (pop3_ops.c). */
int pop3_batch_fill(mail_pop3 *p);
int pop3_batch_result(mail_pop3 *p);
int pop3_batch_begin(mail_pop3 *p, int kind, const uint32_t *msgs, size_t n);

/* The unique-id rules of RFC 1939 (1-70 characters 0x21-0x7E). */
int pop3_uid_valid(const char *uid, size_t len);

#endif

/*
 * The POP3 session inside: one command queue of commands in flight, one
 * reply reader (status line, then a line-wise or streamed body), one
 * operation at a time whose phases queue the next commands, and one
 * function that changes the protocol state.
 *
 * How a byte becomes a result: mail_conn_run() calls pop3_advance(); it
 * reads the head command's reply from the connection's reader
 * (pop3_engine.c), hands it to the command's completion handler
 * (pop3_reply_done), and when nothing is in flight asks the operation
 * (pop3_ops.c, pop3_auth.c, pop3_leave.c) for its next commands or its
 * result.
 */
#ifndef MAIL_POP3_INTERNAL_H
#define MAIL_POP3_INTERNAL_H

#include <mail/pop3.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/conn_internal.h"
#include "parse/pop3_reply.h"
#include "sasl/sasl_internal.h"

/* Commands (mail_cmd.kind). */
enum {
  CMD_GREETING = 1, /* not sent: waits for the greeting */
  CMD_CAPA,
  CMD_STLS,
  CMD_USER,
  CMD_PASS,
  CMD_APOP,
  CMD_AUTH,         /* AUTH and every SASL response line */
  CMD_STAT,
  CMD_LIST,
  CMD_LIST_ONE,
  CMD_UIDL,
  CMD_UIDL_ONE,
  CMD_RETR,
  CMD_TOP,
  CMD_DELE,
  CMD_RSET,
  CMD_NOOP,
  CMD_QUIT
};

/* Operations (one at a time). */
enum {
  OP_NONE = 0,
  OP_CONNECT,
  OP_LOGIN,
  OP_SIMPLE,  /* one command: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP */
  OP_BATCH,   /* RETR/TOP/DELE/UIDL n for many messages */
  OP_QUIT,
  OP_LEAVE
};

/* Reply reader phases. */
enum { RX_STATUS = 0, RX_LINES, RX_BODY };

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
  mail_pop3_body body;

  /* the operation in progress */
  int op;
  int phase;
  int op_rc;            /* first error to report at the end */
  int pending;          /* an operation returned MAIL_ERR_AGAIN */
  int api;              /* which public call started it (resumed by calling it again) */
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

/* Queue a command line and its queue entry: word (NULL for a bare SASL
 * response line), a space and arg when arg is not NULL (sent as a secret
 * when secret is set: redacted in traces, wiped from buffers), CRLF.
 * MAIL_ERR_INVALID, with nothing queued, when arg holds CR, LF or NUL. */
int pop3_send(mail_pop3 *p, int kind, const char *word, const char *arg, int secret,
              uint32_t msg);
/* Queue what the SASL engine asked for (mail_sasl_queue: "AUTH mech
 * [redacted]" or a response line) and its CMD_AUTH queue entry. */
int pop3_send_sasl(mail_pop3 *p, int what, const mail_sasl_msg *m);
/* "word msg" ("TOP msg lines" for CMD_TOP). */
int pop3_send_msg(mail_pop3 *p, int kind, const char *word, uint32_t msg, uint32_t lines);

/* Public calls that start an operation (p->api). */
enum {
  API_CONNECT = 1, API_AUTH, API_STAT, API_LIST, API_LIST_ONE, API_UIDL, API_UIDL_MANY,
  API_UIDL_ONE, API_RETR, API_RETR_MANY, API_TOP, API_DELE, API_DELE_MANY, API_RSET, API_NOOP,
  API_QUIT, API_LEAVE
};

/* Start an operation for public call api: run it until done (or
 * MAIL_ERR_AGAIN). */
int pop3_run(mail_pop3 *p, int op, int api);
/* Continue the pending operation. */
int pop3_resume(mail_pop3 *p);
/* At the top of every public call that starts an operation: a call made
 * again while its operation is pending resumes it; another call gets
 * MAIL_ERR_STATE. */
#define POP3_RESUME(p, id)                                                   \
  do {                                                                       \
    if (!(p))                                                                \
      return MAIL_ERR_INVALID;                                               \
    if ((p)->pending)                                                        \
      return (p)->api == (id) ? pop3_resume(p) : MAIL_ERR_STATE;             \
  } while (0)

/* The credentials, as set on the SASL handle. */
const char *pop3_user(const mail_pop3 *p);
const char *pop3_password(const mail_pop3 *p);
int pop3_allow_insecure(const mail_pop3 *p);
int pop3_external(const mail_pop3 *p); /* mail_sasl_set_external() is on */
/* End the operation with rc (also used for fatal errors). */
int pop3_finish(mail_pop3 *p, int rc);

/* The driver's advance function (pop3_engine.c). */
int pop3_advance(void *engine);

/* Per operation: queue the next commands (MAIL_ERR_AGAIN) or return the
 * result, called whenever the queue has room (pop3_ops.c). */
int pop3_op_next(mail_pop3 *p);
/* A reply (status line + body, if any) to cmd is complete. Returns
 * MAIL_OK to go on, or an error that ends the operation. */
int pop3_cmd_done(mail_pop3 *p, const mail_cmd *cmd);
/* A body line of a LIST/UIDL/CAPA reply. */
int pop3_body_line(mail_pop3 *p, const mail_cmd *cmd, const char *line, size_t len);

/* Login (pop3_auth.c). */
int pop3_login_next(mail_pop3 *p);
int pop3_login_reply(mail_pop3 *p, const mail_cmd *cmd);
/* Connection setup (pop3_connect.c). */
int pop3_connect_next(mail_pop3 *p);
int pop3_connect_reply(mail_pop3 *p, const mail_cmd *cmd);
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

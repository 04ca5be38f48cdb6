/*
 * The NNTP session inside: one command queue of commands in flight, one
 * reply reader (status line, then a line-wise or streamed data block when
 * the command's kind may have one and the code is 1xx/2xx), one operation
 * at a time whose phases queue the next commands, and one function that
 * changes the protocol state.
 *
 * How a byte becomes a result: mail_conn_run() calls nntp_advance(); it
 * reads the head command's reply from the connection's reader
 * (nntp_engine.c), hands it to the handler of the command's kind
 * (mail_cmd_dispatch over the nntp_kinds table), and when nothing is in
 * flight asks the operation (nntp_connect.c, nntp_auth.c, nntp_read.c,
 * nntp_post.c) for its next commands or its result.
 */
#ifndef MAIL_NNTP_INTERNAL_H
#define MAIL_NNTP_INTERNAL_H

#include <mail/nntp.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/conn_internal.h"
#include "core/dot.h"
#include "core/engine.h"
#include "parse/caps.h"
#include "parse/nntp_reply.h"
#include "sasl/sasl_internal.h"

/* Commands (mail_cmd.kind). */
enum {
  NNTP_CMD_GREETING = 1, /* not sent: waits for the greeting */
  NNTP_CMD_CAPABILITIES,
  NNTP_CMD_MODE_READER,
  NNTP_CMD_STARTTLS,
  NNTP_CMD_AUTHINFO_USER,
  NNTP_CMD_AUTHINFO_PASS,
  NNTP_CMD_AUTHINFO_SASL, /* AUTHINFO SASL and every response line */
  NNTP_CMD_GROUP,
  NNTP_CMD_LISTGROUP,
  NNTP_CMD_NEXT,
  NNTP_CMD_LAST,
  NNTP_CMD_ARTICLE,      /* ARTICLE, HEAD, BODY (streamed) */
  NNTP_CMD_STAT,
  NNTP_CMD_OVERVIEW_FMT, /* LIST OVERVIEW.FMT asked for OVER */
  NNTP_CMD_OVER,         /* OVER, XOVER */
  NNTP_CMD_HDR,          /* HDR, XHDR */
  NNTP_CMD_LIST,         /* LIST ..., NEWGROUPS, NEWNEWS */
  NNTP_CMD_DATE,
  NNTP_CMD_POST,         /* POST, IHAVE: the 340/335 */
  NNTP_CMD_POST_DATA,    /* the article's terminating "." : the 240/235 */
  NNTP_CMD_QUIT,
  NNTP_CMD_COMPRESS       /* COMPRESS DEFLATE (RFC 8054): a 206 switches the connection */
};

/* Operations, one per public call (mail_op.kind). */
enum {
  NNTP_OP_NONE = 0,
  NNTP_OP_CONNECT,
  NNTP_OP_AUTH,
  NNTP_OP_SIMPLE,        /* one prepared command line and its reply */
  NNTP_OP_OVER,          /* LIST OVERVIEW.FMT (once) + OVER */
  NNTP_OP_BATCH,         /* article_many */
  NNTP_OP_POST,          /* POST, IHAVE */
  NNTP_OP_QUIT
};

/* How a kind's reply reads after a 1xx/2xx status (mail_cmd_kind.flags). */
enum { NNTP_RX_STATUS = 0, NNTP_RX_LINES, NNTP_RX_BODY };

/* A table of split lines: LIST, OVER, HDR results. Every field is
 * NUL-terminated in text; rows point at runs of fields. */
typedef struct nntp_field {
  uint32_t off, len;
} nntp_field;

struct mail_nntp_overview {
  const struct nntp_table *t;
  uint64_t number;
  uint64_t bytes, lines; /* OVER: :bytes, :lines parsed */
  size_t field0;         /* index of the first field */
  uint32_t nfields;
};
typedef struct mail_nntp_overview nntp_row;

typedef struct nntp_table {
  mail_buf text;
  mail_buf rows;   /* nntp_row */
  mail_buf fields; /* nntp_field */
  size_t nrows, nfields;
} nntp_table;

/* How a LIST line splits (nntp_list_split). */
enum { NNTP_SPLIT_WS = 0, NNTP_SPLIT_COLON, NNTP_SPLIT_WHOLE };

#define NNTP_MAX_OVER_FIELDS 32

struct mail_nntp {
  mail_allocator alloc;
  mail_conn *conn;
  mail_sasl *sasl;
  mail_cmdq q;

  int state;          /* mail_nntp_state_id */
  int security;
  int auth_method;
  int mode_reader;    /* send MODE READER at connect */
  unsigned int window;
  char *host;
  unsigned int port;
  char *url_group;

  /* what the server said */
  mail_nntp_reply reply;
  int have_reply;
  char last_cmd[160];
  mail_buf greeting;
  int posting_code;   /* 200 or 201 from the greeting / MODE READER */
  mail_capset caps;
  int caps_known;
  int tls_done;
  int reader_done;    /* MODE READER sent */
  int authenticated;

  /* the current group and article */
  mail_buf group;     /* NUL-terminated, or empty */
  uint64_t group_low, group_high; /* the current group's water marks (211) */
  uint64_t over_low, over_high;   /* the range of the OVER being started */
  uint64_t cur_number;
  mail_buf cur_msgid; /* NUL-terminated, or empty */

  /* results */
  mail_buf listgroup; /* uint64_t */
  size_t nlistgroup;
  nntp_table over, hdr, list;
  int list_split, list_max_fields;
  /* the overview format: names (for extras) and which fields are :full */
  mail_buf fmt_text;  /* names, NUL-terminated, one after another */
  size_t fmt_off[NNTP_MAX_OVER_FIELDS];
  unsigned char fmt_full[NNTP_MAX_OVER_FIELDS];
  size_t nfmt;        /* fields after the article number */
  int fmt_known;      /* LIST OVERVIEW.FMT asked on this connection */
  int use_xover, use_xhdr; /* the server lacks OVER / HDR */

  /* reply reader */
  int rx;
  mail_dot_unstuffer body;

  /* the operation in progress */
  mail_op op;
  int cancelled;      /* a body callback asked to stop */
  int sasl_lines;
  int cmd_kind;       /* NNTP_OP_SIMPLE: the command prepared in cmdline */
  mail_buf cmdline;   /* without CRLF */
  char cmd_name[160]; /* how it reads in an error */
  int empty_ok;       /* a 423 (or 420) is an empty result */
  int is_ihave;
  uint64_t *out_u64[3];
  int64_t *out_i64;
  mail_nntp_body_fn fn;
  void *fn_user;
  /* article_many */
  int part;
  uint64_t *nums;
  int *results;
  size_t nnums, next, nresults;
  /* POST / IHAVE */
  mail_read_fn read;
  void *read_user;
  struct mail_mime_builder *builder;
  mail_dot_stuffer stuff;
  unsigned char *chunk;  /* read buffer, then the stuffed bytes */
  int post_phase;
};

/* The one function that changes the protocol state (traced by name). */
void nntp_set_state(mail_nntp *n, int state);
/* Give up on the connection (mail_engine_abort): returns rc. */
int nntp_abort(mail_nntp *n, int rc, const char *why);
/* Queue "word[ arg]\r\n" and its queue entry (arg sent as a secret when
 * secret is set); name is how it reads in errors (NULL: word). A command
 * that cannot be queued ends the session. */
int nntp_send(mail_nntp *n, int kind, const char *word, const char *arg, int secret,
              const char *name);
/* Queue what the SASL engine asked for as an NNTP_CMD_AUTHINFO_SASL. */
int nntp_send_sasl(mail_nntp *n, int what, const mail_sasl_msg *m);
/* The status a refusal maps to (see nntp.h). */
int nntp_refusal(int code);

/* At the top of every public call (as pop3_op_enter). */
int nntp_op_enter(mail_nntp *n, int op, int *rc);
int nntp_wrong_state(mail_nntp *n, const char *needed);
int nntp_run(mail_nntp *n, int op);
int nntp_finish(mail_nntp *n, int rc);
int nntp_advance(void *engine);

/* Argument checks: 1 when s can go on the wire as one argument. */
int nntp_arg_ok(const char *s);
int nntp_msgid_ok(const char *s);
/* "low-high", "low-" or "" (low 0) into out (cap >= 48). */
void nntp_range(char *out, size_t cap, uint64_t low, uint64_t high);

/* Capabilities. */
void nntp_caps_reset(mail_nntp *n);

/* Phases of each operation (called when the queue is empty). */
int nntp_connect_next(mail_nntp *n);
int nntp_connect_reply(void *engine, const mail_cmd *cmd);
int nntp_login_next(mail_nntp *n);
int nntp_login_reply(void *engine, const mail_cmd *cmd);
int nntp_simple_next(mail_nntp *n);
int nntp_over_next(mail_nntp *n);
int nntp_batch_next(mail_nntp *n);
int nntp_batch_fill(mail_nntp *n);
int nntp_post_next(mail_nntp *n);
int nntp_post_reply(void *engine, const mail_cmd *cmd);
int nntp_quit_next(mail_nntp *n);
/* Replies of the reading commands (nntp_read.c). */
int nntp_read_reply(void *engine, const mail_cmd *cmd);
/* A data line of a LINES reply (unstuffed). */
int nntp_data_line(mail_nntp *n, const mail_cmd *cmd, const char *line, size_t len);
/* The prepared command of NNTP_OP_SIMPLE: cmdline is filled by the call. */
int nntp_prepare(mail_nntp *n, int kind, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Tables (nntp_table.c). */
void nntp_table_init(nntp_table *t, const mail_allocator *a);
void nntp_table_free(nntp_table *t);
void nntp_table_clear(nntp_table *t);
/* Start a row; then add its fields. MAIL_ERR_LIMIT past max_items rows. */
int nntp_table_row(nntp_table *t, uint64_t number, size_t max_items);
int nntp_table_field(nntp_table *t, const char *s, size_t len);
/* A row of s[0..len) cut at every sep into at most maxf fields (the rest
 * of the line is dropped), copied in one piece: the overview's hot path.
 * MAIL_ERR_LIMIT past max_items rows. */
int nntp_table_split_row(nntp_table *t, uint64_t number, const char *s, size_t len, char sep,
                         size_t maxf, size_t max_items);
const nntp_row *nntp_table_at(const nntp_table *t, size_t i);
/* Room for rows more rows of fields fields and text_bytes of text each:
 * a hint (one allocation instead of a run of doublings); failing it costs
 * nothing but the later growth. */
void nntp_table_expect(nntp_table *t, size_t rows, size_t fields, size_t text_bytes);
const char *nntp_row_field(const nntp_row *r, size_t j, size_t *len);

#endif

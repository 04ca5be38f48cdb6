/* The SMTP/LMTP engine's private structures, shared by its files. */
#ifndef MAIL_SMTP_INTERNAL_H
#define MAIL_SMTP_INTERNAL_H

#include <stdint.h>
#include <mail/smtp.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/dot.h"
#include "core/conn_internal.h"
#include "core/engine.h"
#include "core/url.h"
#include "parse/smtp_reply.h"
#include "sasl/sasl_internal.h"

/* Protocol states, named in the trace by smtp_state(). */
enum smtp_state {
  SMTP_ST_DISCONNECTED,
  SMTP_ST_CONNECT,   /* the transport connects */
  SMTP_ST_GREETING,
  SMTP_ST_EHLO,
  SMTP_ST_HELO,
  SMTP_ST_STARTTLS,
  SMTP_ST_TLS,       /* handshake, then EHLO again */
  SMTP_ST_AUTH,
  SMTP_ST_IDLE,      /* ready for a command */
  SMTP_ST_ENVELOPE,  /* MAIL/RCPT (and DATA or BDAT) in flight */
  SMTP_ST_BODY,      /* streaming message data */
  SMTP_ST_FINAL,     /* waiting for the reply(ies) after the data */
  SMTP_ST_RSET,
  SMTP_ST_NOOP,
  SMTP_ST_QUIT,
  SMTP_ST_COUNT
};

/* Command kinds in the command queue. */
enum smtp_cmd {
  SMTP_CMD_GREETING = 1,
  SMTP_CMD_EHLO,
  SMTP_CMD_HELO,
  SMTP_CMD_STARTTLS,
  SMTP_CMD_AUTH,
  SMTP_CMD_MAIL,
  SMTP_CMD_RCPT,   /* arg = recipient index */
  SMTP_CMD_DATA,
  SMTP_CMD_BDAT,   /* flags: SMTP_BDAT_LAST */
  SMTP_CMD_FINAL,  /* the reply after ".", arg = recipient index (LMTP) */
  SMTP_CMD_RSET,
  SMTP_CMD_NOOP,
  SMTP_CMD_QUIT,
  SMTP_CMD_UNSOLICITED /* stands in for the command a reply arrived without */
};
#define SMTP_BDAT_LAST 1u

/* Public operations (what the caller is waiting for; mail_op.kind). */
enum smtp_op { SMTP_OP_NONE, SMTP_OP_CONNECT, SMTP_OP_AUTH, SMTP_OP_SEND, SMTP_OP_RSET, SMTP_OP_NOOP, SMTP_OP_QUIT,
               SMTP_OP_BATCH };
/* SMTP_OP_CONNECT phases. */
enum { SMTP_CONNECT_TRANSPORT, SMTP_CONNECT_PROTOCOL };

typedef struct smtp_rcpt {
  char *addr;        /* as given */
  char *orcpt;       /* NULL: none */
  unsigned notify;
  int status;        /* MAIL_OK / MAIL_ERR_SERVER / MAIL_ERR_STATE */
  int code;
  int has_enh;
  unsigned enh[3];
  char *text;        /* shared with other recipients answered by the same reply */
  int rcpt_ok;       /* RCPT accepted */
  unsigned eight;    /* SMTP_ADDR_8BIT_* of addr, found when it is set */
} smtp_rcpt;

enum smtp_body_kind { SMTP_BODY_NONE, SMTP_BODY_MIME, SMTP_BODY_CALLBACK, SMTP_BODY_DATA };

struct mail_smtp_envelope {
  mail_allocator alloc;
  char *from;
  unsigned from_eight; /* SMTP_ADDR_8BIT_* of from */
  smtp_rcpt *rcpts;
  size_t nrcpts, cap;
  int ret;
  char *envid;
  int requiretls;
  int smtputf8;      /* the caller says the message needs SMTPUTF8 */
  int policy;
  int body_kind;
  void *mime;        /* struct mail_mime_builder * */
  mail_smtp_read_fn read;
  void *read_user;
  const unsigned char *data;
  size_t data_len;
  uint64_t size;     /* MAIL_SMTP_SIZE_UNKNOWN when unknown */
  unsigned needs;
  int sent_once;     /* a MIME body must be rewound before another send */
  char *last_text;   /* the last recorded result text (a reference; see envelope.c) */
};

/* The transaction in progress. */
typedef struct smtp_tx {
  mail_smtp_envelope *env;
  int chunking;       /* BDAT instead of DATA */
  uint64_t size;      /* body size or MAIL_SMTP_SIZE_UNKNOWN */
  uint64_t produced;  /* body bytes read from the source */
  size_t next_cmd;    /* 0 = MAIL, 1..n = RCPT, n+1 = DATA/first BDAT */
  size_t issue_upto;  /* issue commands up to this index (inclusive) */
  int mail_ok;
  size_t accepted;    /* RCPTs accepted */
  size_t replies;     /* RCPT replies seen */
  int data_refused;   /* DATA/BDAT refused */
  int body_done;      /* the whole body is queued */
  int final_seen;
  size_t finals_left; /* LMTP: final replies still expected */
  size_t final_next;  /* LMTP: next accepted recipient to match */
  int result;         /* outcome once everything has arrived */
  int rset_sent;
  /* DATA transform state */
  mail_dot_stuffer dot;
  int body_eof;
  size_t data_pos;    /* SMTP_BODY_DATA: bytes handed out */
  int chunk_filled;   /* the last read filled the chunk buffer: read more next time */
  int bdat_last_sent;
  uint64_t bdat_sent;
  /* Addresses as they go on the wire (IDNA), built at begin. */
  mail_buf wire;      /* from\0rcpt0\0rcpt1\0... */
  size_t *wire_off;
  size_t wire_off_cap; /* entries wire_off has room for (kept from send to send) */
  int utf8;           /* SMTPUTF8 parameter used */
  size_t bdat_pending; /* BDAT chunks before LAST without a reply */
  int followed;       /* the batch's next message went out behind it */
  int live;           /* a batch's message in this slot is in flight */
  size_t item;        /* its index in the batch */
} smtp_tx;

/* A batch's message (see mail_smtp_send_batch). */
typedef struct smtp_batch_item {
  mail_smtp_envelope *env;     /* borrowed */
  void *mime;                  /* struct mail_mime_builder *, or NULL */
  int result;                  /* MAIL_ERR_NOT_ATTEMPTED until it completes */
  int complete;                /* its result is known (and was reported) */
  int code;                    /* the reply that decided a failure, or 0 */
  char *error;                 /* the description of a failure, or NULL */
} smtp_batch_item;

struct mail_smtp_batch {
  mail_allocator alloc;
  smtp_batch_item *items;
  size_t n, cap;
  mail_smtp_batch_fn fn;
  void *user;
  /* While it is being sent: */
  size_t next;                 /* the next message to begin */
  size_t done;                 /* messages complete */
  size_t reported;             /* messages given to the callback (in order) */
  size_t failed;               /* of them, not MAIL_OK */
  int running;
};

struct mail_smtp {
  mail_allocator alloc;
  mail_conn *conn;
  mail_sasl *sasl;
  mail_smtp_caps *caps;        /* valid when caps_valid */
  mail_smtp_caps *empty_caps;  /* shown before EHLO and after STARTTLS */
  int caps_valid;
  unsigned int cap_bits;       /* 1 << enum smtp_cap, valid with caps_valid */
  unsigned long long size_max; /* SIZE's bound (0: none given), valid with caps_valid */
  mail_buf line;               /* a command being composed */
  int need_ehlo;               /* EHLO again once the TLS handshake is done */
  mail_smtp_reply *decisive;   /* the reply that failed a transaction (a clone),
                                * shown as the last reply after the RSET */
  mail_cmdq q;
  /* Two accumulators used in turn: the previous complete reply stays
   * intact while the next one arrives (mail_smtp_last_reply). */
  mail_smtp_acc acc[2];
  int cur_acc;
  int have_last;
  const mail_smtp_reply *last;

  int state;          /* enum smtp_state: changed only by smtp_state() */
  mail_op op;         /* the operation in progress (kind: enum smtp_op) */
  int cancelled;

  int security;       /* for connect_url */
  int conn_security;  /* of the current connection */
  int lmtp;
  int strict;
  int pipelining;
  int chunking_mode;
  int command_ms;
  int final_ms;
  char *client_name;           /* set by the caller, or NULL: the default */
  char default_name[300];      /* the default, worked out at EHLO time */
  int tls_started;
  int helo_mode;      /* the server only spoke HELO */
  char *connect_host;
  char *connect_path;
  unsigned connect_port;

  /* What the last reply answered (mail_smtp_last_reply_command), and what
   * the decisive reply of a failed transaction answered. */
  char last_cmd[600];
  char decisive_cmd[600];
  mail_buf greeting;  /* the greeting's text, NUL-terminated, or empty */

  mail_smtp_progress_fn progress;
  void *progress_user;

  /* Transactions: one for mail_smtp_send(); a batch overlaps two (the
   * one waiting for its final reply, the next one whose commands went out
   * behind its end of data), in alternate slots. */
  smtp_tx tx[2];
  int cur;                /* the slot being issued and streamed */
  mail_smtp_batch *batch; /* the batch being sent, or NULL */
  unsigned char *chunk;   /* body read buffer (chunk_cap bytes; NULL when no body is being
                           * read: none is sent, or it is the caller's memory) */
  size_t chunk_cap;
};

/* Body bytes read from the source at a time (at most; a body of known size
 * gets no more than it needs, one of unknown size starts at SMTP_CHUNK_MIN
 * and doubles), and how much output may be queued before the producer
 * waits for the transport to drain. Both shrink to fit max_output. */
#define SMTP_CHUNK 65536
#define SMTP_CHUNK_MIN 4096
#define SMTP_HIGH_WATER (128 * 1024)

/* command_ms value: use the connection's MAIL_TIMEOUT_IO. */
#define SMTP_TIMEOUT_CONN (-2)

/* ---- smtp_engine.c ---- */
/* Bound the next waits by the command timeout. */
void smtp_command_timeout(mail_smtp *s);
/* The driver's step (mail_advance_fn). */
int smtp_advance(void *engine);
/* Change the protocol state (the only place it changes; traced). */
void smtp_state(mail_smtp *s, int st);
const char *smtp_state_label(int st);
/* 1 when the server advertised kw (after the last EHLO). */
/* The extensions the engine asks about on every message, looked up once
 * per EHLO reply (smtp_caps_learned) instead of by name each time. */
enum smtp_cap {
  SMTP_CAP_8BITMIME,
  SMTP_CAP_BINARYMIME,
  SMTP_CAP_CHUNKING,
  SMTP_CAP_DSN,
  SMTP_CAP_ENHANCEDSTATUSCODES,
  SMTP_CAP_PIPELINING,
  SMTP_CAP_REQUIRETLS,
  SMTP_CAP_SIZE,
  SMTP_CAP_SMTPUTF8,
  SMTP_CAP_STARTTLS,
  SMTP_CAP_COUNT
};
/* The EHLO reply is complete: caps_valid, and the bits and SIZE bound
 * taken from it. */
void smtp_caps_learned(mail_smtp *s);
/* 1 when the last EHLO offered cap (enum smtp_cap). */
int smtp_has(const mail_smtp *s, int cap);
/* Queue a command (mail_cmd_send): its entry, then parts[0..n), whole or
 * not at all. */
int smtp_send(mail_smtp *s, int kind, size_t arg, unsigned flags, const mail_wire_part *parts,
              size_t n);
/* The same for a transaction's command (its entry's ctx is tx). */
int smtp_send_tx(mail_smtp *s, smtp_tx *tx, int kind, size_t arg, unsigned flags,
                 const mail_wire_part *parts, size_t n);
/* A queue entry with nothing sent (the greeting, a further LMTP reply). */
int smtp_push(mail_smtp *s, int kind, size_t arg, unsigned flags);
/* Queue one command line (text without CRLF) and its queue entry. */
int smtp_command(mail_smtp *s, int kind, size_t arg, const char *text);
/* The operation is over once the queue is empty; rc is its result. */
void smtp_finish(mail_smtp *s, int rc);
/* Close the connection at once (no QUIT) and finish with rc. */
int smtp_abort(mail_smtp *s, int rc, const char *why);
/* How command c reads in an error and in mail_smtp_last_reply_command():
 * "MAIL FROM:<a@b>", "RCPT TO:<x@y>", "AUTH PLAIN" (the mechanism only),
 * "greeting". */
void smtp_cmd_text(const mail_smtp *s, const mail_cmd *c, char *out, size_t cap);
/* "550 5.1.1 User unknown": code, enhanced code, the lines joined by a
 * space, control bytes shown as '?'. */
void smtp_reply_describe(const mail_smtp_reply *r, char *out, size_t cap);
/* Record "<command>: <reply>" for the last reply as the session's error
 * (plus note when not NULL) and return rc. */
int smtp_refused(mail_smtp *s, int rc, const char *note);
/* Recognise enhanced status codes in replies from now on (or not). */
void smtp_set_enhanced(mail_smtp *s, int on);
/* Queue an AUTH command or response (rc: MAIL_SASL_SEND_*), as a secret. */
int smtp_send_auth(mail_smtp *s, int rc, const mail_sasl_msg *m);

/* ---- smtp_tx.c ---- */
/* Everything that can be refused without sending a byte. */
int smtp_check_send(mail_smtp *s, mail_smtp_envelope *e);
/* Set up slot tx for envelope e (checks, addresses, body rewind) and
 * queue its first commands. A status < 0 from the local part: nothing was
 * sent (*sent 0); from queueing (*sent 1): the connection cannot go on. */
int smtp_tx_begin(mail_smtp *s, smtp_tx *tx, mail_smtp_envelope *e, int *sent);
/* Free what slot tx holds (at session free). */
void smtp_tx_free(mail_smtp *s, smtp_tx *tx);
/* Decide SMTPUTF8 and build the wire form of every address. */
int smtp_prepare_addresses(mail_smtp *s, smtp_tx *tx, mail_smtp_envelope *e);
/* Queue the next transaction commands (all at once when pipelining). */
int smtp_issue(mail_smtp *s, smtp_tx *tx);
/* The transaction being streamed (or issued). */
smtp_tx *smtp_cur_tx(mail_smtp *s);
/* Stream the body: MAIL_OK done, MAIL_ERR_AGAIN wait, 1 read replies first. */
int smtp_produce(mail_smtp *s);
/* Reply handlers for the transaction's commands (mail_cmd_kind.on_reply,
 * engine = the mail_smtp; the reply is s->last). */
int smtp_on_mail(void *engine, const mail_cmd *c);
int smtp_on_rcpt(void *engine, const mail_cmd *c);
int smtp_on_data(void *engine, const mail_cmd *c);
int smtp_on_bdat(void *engine, const mail_cmd *c);
int smtp_on_final(void *engine, const mail_cmd *c);

/* ---- smtp.c ---- */
/* Choose msg's body options from the EHLO and make it e's body (and its
 * addresses e's when e has none), as mail_smtp_send_mime() does. */
int smtp_use_mime(mail_smtp *s, mail_smtp_envelope *e, struct mail_mime_builder *msg);

/* ---- smtp_batch.c ---- */
/* Transaction tx is over with rc (its results are in its envelope). */
int smtp_batch_tx_done(mail_smtp *s, smtp_tx *tx, int rc);
/* Begin the next messages of the batch that may go out now. */
int smtp_batch_advance(mail_smtp *s);
/* tx's end of data is queued: the next message may follow it. */
int smtp_batch_data_queued(mail_smtp *s, smtp_tx *tx);
/* The operation ended with rc: every message without a result gets one. */
void smtp_batch_close(mail_smtp *s, int rc);
/* Start sending batch b on s (its results start over). */
int smtp_batch_start(mail_smtp *s, mail_smtp_batch *b);
/* 1 when commands may be pipelined on this session now. */
int smtp_pipelined(const mail_smtp *s);

/* ---- envelope.c ---- */
/* Forget the results of an earlier send. */
void smtp_envelope_reset_results(mail_smtp_envelope *e);
/* Record reply r as the result of recipient i. */
int smtp_envelope_record(mail_smtp_envelope *e, size_t i, const mail_smtp_reply *r, int status);

/* ---- smtp_addr.c ---- */
/* Check an addr-spec (see mail_smtp_envelope_set_from). allow_empty: ""
 * is the null path. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_SYNTAX. */
int smtp_addr_check(const char *addr, int allow_empty);
/* Which parts of an address hold a byte >= 0x80 (SMTPUTF8 needed for the
 * local part; IDNA A-labels or SMTPUTF8 for the domain), worked out once
 * when the envelope takes the address rather than on every send. */
#define SMTP_ADDR_8BIT_LOCAL 1u
#define SMTP_ADDR_8BIT_DOMAIN 2u
unsigned smtp_addr_eight(const char *addr);
/* 1 when the local part (before the last '@') holds a byte >= 0x80. */
int smtp_addr_local_utf8(const char *addr);
/* 1 when the domain (after the last '@') holds a byte >= 0x80. */
int smtp_addr_domain_utf8(const char *addr);
/* Append addr to b with its domain converted to IDNA A-labels.
 * MAIL_ERR_SYNTAX when the domain does not convert, MAIL_ERR_UNSUPPORTED
 * without libidn2. */
int smtp_addr_append_alabel(mail_buf *b, const char *addr);
/* Append s as RFC 3461 xtext. */
int smtp_xtext_append(mail_buf *b, const char *s);

/* ---- smtp_url.c ---- */
/* smtp_url.flags: the scheme's MAIL_URL_* flags and this one. */
#define SMTP_URL_LMTP MAIL_URL_PROTOCOL_FLAGS /* lmtp:// (LHLO, a reply per recipient) */
typedef struct smtp_url {
  unsigned flags;        /* the scheme's: MAIL_URL_IMPLICIT_TLS, SMTP_URL_LMTP, ... */
  char host[256];
  char path[256];        /* lmtp unix socket */
  unsigned port;
} smtp_url;
int smtp_url_parse(const char *url, smtp_url *out);

/* ---- smtp_body.c ---- */
/* Queue in[0..n) for DATA, transformed straight into the output queue:
 * CRLF line endings, dot-stuffing. MAIL_ERR_INVALID in strict mode on a
 * bare CR or LF, MAIL_ERR_TOO_BIG or MAIL_ERR_NOMEM from the queue; then
 * nothing of in was queued. */
int smtp_data_queue(mail_smtp *s, smtp_tx *tx, const unsigned char *in, size_t n);
/* What ends the data: a CRLF when the last line lacks one, then ".CRLF". */
int smtp_data_end(smtp_tx *tx, int strict, unsigned char *out, size_t *olen);
/* Read the next body bytes from the envelope's source. */
int smtp_body_read(smtp_tx *tx, unsigned char *buf, size_t cap, size_t *got);
/* How many body bytes one step takes for want: within what max_output
 * leaves room for, at least 64. */
size_t smtp_body_step(const mail_smtp *s, size_t want);
/* The read buffer (s->chunk) for a step of want bytes (smtp_body_step);
 * given back by smtp_body_buffers_free() once the body is queued. */
int smtp_body_room(mail_smtp *s, size_t want);
void smtp_body_buffers_free(mail_smtp *s);
/* How much output may be queued before the body producer waits. */
size_t smtp_high_water(const mail_smtp *s);

#endif

/*
 * The shape every protocol engine follows (SMTP and POP3 now; IMAP and NNTP
 * copy it). An engine is a session object holding:
 *
 *   - one protocol state enum and one function that changes it, tracing
 *     the names (smtp_state(), pop3_set_state());
 *   - one command queue (core/cmdq.h): every command goes out through
 *     mail_cmd_send(), which adds the queue entry first and then queues the
 *     bytes; a command that cannot be queued whole leaves nothing behind
 *     (no entry, no bytes: the output is rolled back to its mark);
 *   - one table of command kinds (mail_cmd_kind): mail_cmd_dispatch() hands
 *     each complete reply to the handler of the queue head's kind;
 *   - one operation in progress (mail_op): a public call begins it, a
 *     call made again after MAIL_ERR_AGAIN resumes it, a handler finishes
 *     it (the result is returned once the replies in flight are read), and
 *     mail_engine_abort() is the one way to give up on the connection.
 *
 * The engine's advance function (mail_advance_fn, run by mail_conn_run())
 * reads replies from the connection's reader, dispatches them, and returns
 * the operation's result once it is finished and the queue is empty.
 */
#ifndef MAIL_CORE_ENGINE_H
#define MAIL_CORE_ENGINE_H

#include <stddef.h>

#include "core/cmdq.h"
#include "core/conn_internal.h"

/* ---- sending commands ---- */

/* One piece of a command's bytes; secret pieces are queued with
 * mail_conn_send_secret() (redacted in traces, wiped from buffers). */
typedef struct mail_wire_part {
  const void *data;
  size_t len;
  int secret;
} mail_wire_part;

/*
 * Queue command entry cmd, then its bytes parts[0..n) in order (the caller
 * includes the CRLF; n == 0 queues an entry with nothing sent: a greeting,
 * a further LMTP reply). On failure nothing of it stays: the entry is
 * removed and the output rolled back to where it was. MAIL_ERR_INTERNAL
 * when the queue is full (engines bound what they put in flight),
 * MAIL_ERR_NOMEM, MAIL_ERR_TOO_BIG (over the output bound).
 */
int mail_cmd_send(mail_conn *c, mail_cmdq *q, const mail_cmd *cmd, const mail_wire_part *parts,
                  size_t n);

/* ---- dispatching replies ---- */

/* What a protocol says about one command kind (its table is indexed by
 * mail_cmd.kind). on_reply gets the entry the reply answers, already
 * removed from the queue; the reply itself is in the engine. */
typedef struct mail_cmd_kind {
  const char *name;   /* for traces and errors */
  int (*on_reply)(void *engine, const mail_cmd *cmd);
  unsigned flags;     /* protocol-defined (e.g. POP3: multi-line reply) */
} mail_cmd_kind;

/* The table entry for cmd's kind, or NULL when the kind is not in it. */
const mail_cmd_kind *mail_cmd_kind_of(const mail_cmd_kind *kinds, size_t nkinds,
                                      const mail_cmd *cmd);

/* A reply is complete: pop the head of q and call its kind's handler.
 * MAIL_ERR_PROTOCOL (recorded on c) when nothing was asked for;
 * MAIL_ERR_INTERNAL for a kind missing from the table; else what the
 * handler returns. */
int mail_cmd_dispatch(mail_conn *c, mail_cmdq *q, const mail_cmd_kind *kinds, size_t nkinds,
                      void *engine);

/* The same for the entry at index i (IMAP: the command whose tag the
 * reply carries, mail_cmdq_find()): remove it and call its handler.
 * MAIL_ERR_PROTOCOL (recorded on c) when there is no such entry. */
int mail_cmd_dispatch_at(mail_conn *c, mail_cmdq *q, long i, const mail_cmd_kind *kinds,
                         size_t nkinds, void *engine);

/* ---- running an operation ---- */

typedef struct mail_op {
  mail_conn *conn; /* the session's connection, set once at creation: an
                    * operation under way is what mail_conn_cancel() ends */
  int kind;    /* the protocol's operation (the public call); 0: none */
  int phase;   /* where it is (protocol-defined; 0 when it begins) */
  int done;    /* a result is known: report it once the queue drains */
  int result;
} mail_op;

enum {
  MAIL_OP_STARTED = 1, /* no operation was in progress: kind begins now */
  MAIL_OP_RESUMED = 0  /* the same call again after MAIL_ERR_AGAIN */
};

/* At the top of every public call that runs an operation of kind:
 * MAIL_OP_STARTED (and the operation begins), MAIL_OP_RESUMED, or
 * MAIL_ERR_STATE when another operation is in progress. */
int mail_op_begin(mail_op *op, int kind);
/* The result is known (a later call replaces it: a 421 after a refused
 * transaction is what the caller hears). */
void mail_op_finish(mail_op *op, int rc);
/* No operation in progress any more (it returned, or failed before
 * anything was sent). */
void mail_op_end(mail_op *op);

/* The one way to give up on a connection (a reply that breaks the
 * protocol, a command that cannot be queued whole, STARTTLS refused while
 * required): record why, close the connection, forget the commands in
 * flight and finish op with rc. Returns rc. why NULL keeps the description
 * already recorded (the connection's own, e.g. a STARTTLS injection). */
int mail_engine_abort(mail_conn *c, mail_cmdq *q, mail_op *op, int rc, const char *why);

/* ---- a greeting that is not one ---- */

/* "TLS handshake bytes" or "a TLS alert" when data[0..n) starts like a
 * TLS record of that kind (what an implicit-TLS port may send where a
 * plain-text greeting was expected), else NULL (also for fewer than two
 * bytes: wait for more). */
const char *mail_tls_record_kind(const unsigned char *data, size_t n);
/* Record on c "no greeting: the server sent <what> — is this an
 * implicit-TLS port? use <scheme>" (scheme NULL: no advice) and return
 * NULL, so it can stand as the why of mail_engine_abort(). */
const char *mail_no_greeting_tls(mail_conn *c, const char *what, const char *scheme);

#endif

/*
 * The SASL engine as protocol engines (SMTP, POP3, IMAP, NNTP) drive it.
 *
 * A protocol engine owns a mail_sasl configured through the public setters
 * (credentials, allow-list, ...) plus the connection's facts
 * (mail_sasl_use_conn). It then:
 *
 *   1. calls mail_sasl_begin() with its profile and the mechanism list read
 *      AFTER TLS, and sends its AUTH command with cmd.mech and, when
 *      cmd.data is not NULL, cmd.data as the initial response;
 *   2. classifies each server reply (mail_sasl_reply_kind) and calls
 *      mail_sasl_reply() with the reply's base64 payload:
 *        - MAIL_SASL_SEND_LINE: send next.data followed by CRLF;
 *        - MAIL_SASL_SEND_COMMAND: send a new AUTH command built from next
 *          (fallback after "mechanism not supported", a retry with a
 *          refreshed OAuth token, or the one retry of a refused
 *          SCRAM-*-PLUS without channel binding, see
 *          mail_sasl_downgrade_channel_binding() in mail/sasl.h);
 *        - MAIL_OK: authenticated (the server proved itself where the
 *          mechanism can tell);
 *        - a negative status: the exchange is over. MAIL_ERR_AUTH (the
 *          credentials were refused), MAIL_ERR_NO_MECHANISM,
 *          MAIL_ERR_SASL_BAD_CHALLENGE, MAIL_ERR_SASL_SERVER (the server
 *          could not prove it knows the password: close the connection),
 *          MAIL_ERR_SERVER (another error reply), MAIL_ERR_NOMEM.
 *
 * Everything the engine hands out here (initial responses, lines) may hold
 * a credential or a value derived from one: protocol engines MUST queue the
 * initial response and every response line with mail_conn_send_secret()
 * (the trace then shows "[redacted]" and the output buffer is wiped), and
 * must not copy them into error text. mail_sasl_queue() does exactly that
 * and keeps the mechanism name visible in the trace: use it.
 *
 * When a challenge is bad (invalid base64, oversized, a wrong SCRAM
 * signature), mail_sasl_reply() asks for the profile's abort line ("*")
 * and reports the error when the server answers it. It never falls back to
 * another mechanism after an authentication failure; the only retries are
 * the OAuth refresh and the channel-binding downgrade, each once.
 *
 * Classify as MAIL_SASL_REPLY_FAILURE only replies that refuse the
 * credentials (535, NO, -ERR without a response code or with [AUTH]);
 * temporary or other errors are MAIL_SASL_REPLY_ERROR, so that they never
 * cost the user a second attempt.
 */
#ifndef MAIL_SASL_INTERNAL_H
#define MAIL_SASL_INTERNAL_H

#include <mail/conn.h>
#include <mail/sasl.h>

#include "core/cmdq.h"

/* What differs between protocols. */
typedef struct mail_sasl_profile {
  const char *service;          /* "smtp", "pop", "imap", "nntp": informational only */
  int initial_response;         /* the AUTH command may carry an initial response
                                 * (SMTP AUTH, POP3 RFC 5034, IMAP SASL-IR, NNTP) */
  size_t max_initial_response;  /* longest base64 initial response that fits the
                                 * command line; longer ones wait for the server's
                                 * empty challenge (0 = no limit) */
  const char *empty_response;   /* an empty initial response ("="); NULL: send none */
  const char *abort_line;       /* how the client cancels an exchange ("*") */
  int retry_needs_new_connection; /* after a refusal the protocol cannot start
                                 * another exchange on this connection: the
                                 * downgrade retry waits for a new one
                                 * (mail_sasl_retry_on_new_connection) */
} mail_sasl_profile;

/* How the protocol engine classified a server reply. */
typedef enum mail_sasl_reply_kind {
  MAIL_SASL_REPLY_CONTINUE = 1,    /* continuation with a base64 payload (334, "+") */
  MAIL_SASL_REPLY_SUCCESS = 2,     /* success; payload = optional base64 final data */
  MAIL_SASL_REPLY_FAILURE = 3,     /* authentication failed (535, NO, -ERR) */
  MAIL_SASL_REPLY_UNSUPPORTED = 4, /* mechanism not supported (504, NO [...] unknown) */
  MAIL_SASL_REPLY_ERROR = 5        /* any other error reply */
} mail_sasl_reply_kind;

/* Positive results of mail_sasl_begin()/mail_sasl_reply(). */
#define MAIL_SASL_SEND_LINE 1
#define MAIL_SASL_SEND_COMMAND 2

/* What to send. Pointers stay valid until the next call on the handle. */
typedef struct mail_sasl_msg {
  const char *mech; /* for a command: the mechanism name */
  const char *data; /* base64 text (NUL-terminated, no CRLF), the profile's
                     * empty or abort marker, or NULL: no initial response */
  size_t len;
} mail_sasl_msg;

/*
 * Choose a mechanism from server_mechs (space-separated) and start it.
 * Returns MAIL_SASL_SEND_COMMAND with *cmd filled, or MAIL_ERR_NO_MECHANISM,
 * MAIL_ERR_INSECURE, MAIL_ERR_INVALID, MAIL_ERR_CHARSET, MAIL_ERR_CALLBACK,
 * MAIL_ERR_NOMEM. profile must outlive the exchange.
 */
int mail_sasl_begin(mail_sasl *s, const mail_sasl_profile *profile, const char *server_mechs,
                    mail_sasl_msg *cmd);

/* Feed one classified server reply (b64 may be NULL when len is 0); see
 * the top of this header for the results. */
int mail_sasl_reply(mail_sasl *s, int kind, const char *b64, size_t len, mail_sasl_msg *next);

/*
 * Send on conn what mail_sasl_begin()/mail_sasl_reply() returned (what =
 * MAIL_SASL_SEND_COMMAND or MAIL_SASL_SEND_LINE, m as filled) as command
 * cmd of queue q, the way every protocol sends it: a command is verb
 * ("AUTH", "A1 AUTHENTICATE"), a space and the mechanism name in the
 * clear, then a space and m->data as a secret when there is an initial
 * response; a line is m->data as a secret; then CRLF. The trace shows
 * "AUTH SCRAM-SHA-256-PLUS [redacted]" and "[redacted]". The pieces go out
 * through mail_cmd_send() (core/engine.h): the queue entry first, and on
 * an error neither the entry nor any byte of the line stays.
 * MAIL_ERR_INVALID for bad arguments, else mail_cmd_send()'s errors.
 */
int mail_sasl_queue(mail_conn *conn, mail_cmdq *q, const mail_cmd *cmd, const char *verb,
                    int what, const mail_sasl_msg *m);

/*
 * 1 when the last mail_sasl_reply() refused the credentials but the login
 * is to be retried without channel binding on a new connection (profiles
 * with retry_needs_new_connection): connect again, then mail_sasl_use_conn()
 * and mail_sasl_begin() start that retry.
 */
int mail_sasl_retry_on_new_connection(const mail_sasl *s);

/*
 * Take the connection's facts: whether it is TLS-protected and verified
 * (mail_sasl_set_tls) and its channel-binding data (the first type the
 * connection has, in the order of mail_sasl_set_channel_binding_preference()).
 * Does no I/O.
 */
int mail_sasl_use_conn(mail_sasl *s, const mail_conn *conn);

/*
 * The credentials as set, for protocol logins outside SASL (POP3 USER/PASS
 * and APOP, IMAP LOGIN, NNTP AUTHINFO USER/PASS), which keep one place for
 * credentials. The strings belong to the handle (NULL when unset); send
 * them only with mail_conn_send_secret().
 */
const char *mail_sasl_username(const mail_sasl *s);
const char *mail_sasl_password(const mail_sasl *s);
/* mail_sasl_set_external() is on. */
int mail_sasl_external_enabled(const mail_sasl *s);
/* mail_sasl_set_allow_insecure_plaintext() is on. */
int mail_sasl_insecure_plaintext_allowed(const mail_sasl *s);

/* A digest through the handle's crypto hook (POP3 APOP uses the session's
 * SASL handle's), or the built-in shim when none is set. */
int mail_sasl_crypto_digest(const mail_sasl *s, int md, const void *data, size_t len,
                            unsigned char *out);

#endif

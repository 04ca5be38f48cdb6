/*
 * libmail — POP3 client session (RFC 1939, RFC 2449 CAPA / PIPELINING /
 * RESP-CODES, RFC 2595 STLS, RFC 5034 SASL, RFC 3206 AUTH-RESP-CODE).
 *
 * A mail_pop3 session owns one mail_conn (borrow it with mail_pop3_conn()
 * for trace, limits, timeouts and TLS settings) and one mail_sasl (borrow
 * it with mail_pop3_sasl() for OAuth tokens, channel-binding preference,
 * ...). The protocol engine does no I/O of its own: every operation
 * queues commands and is run by the connection's driver.
 *
 * Typical use:
 *
 *   mail_pop3_new(&p, NULL);
 *   mail_pop3_set_auth(p, "alice", "pw");
 *   mail_pop3_connect_url(p, "pop3://mail.example.org");  // STLS required
 *   mail_pop3_auth(p);
 *   mail_pop3_stat(p, &count, &size);
 *   mail_pop3_retr(p, 1, on_body, ctx);                   // streamed
 *   mail_pop3_dele(p, 1);
 *   mail_pop3_quit(p, &committed);
 *   mail_pop3_free(p);
 *
 * Blocking or event loop (as for SMTP): by default each operation blocks
 * until it is done or a deadline of the connection passes. After
 * mail_conn_set_nonblocking(mail_pop3_conn(p), 1) an operation may return
 * MAIL_ERR_AGAIN instead: wait until mail_conn_fd() is ready for
 * mail_conn_want() (or mail_conn_timeout_ms() passes) and call THE SAME
 * FUNCTION again with the same arguments; it resumes where it stopped
 * (the arguments of the resumed call are not looked at again) and finally
 * returns the operation's result. Calling another operation meanwhile
 * gives MAIL_ERR_STATE. Out-parameters (counts, sizes, the committed
 * flag) are written when the operation completes; the pointers, message
 * arrays and callbacks given to the first call must stay valid until then.
 * Over a user transport there is no fd: call again when it can move.
 *
 * Security: pop3:// (MAIL_SECURITY_STARTTLS, the default) requires STLS:
 * CAPA must answer, list STLS, the server must say +OK to STLS and the
 * handshake must verify; any failure ends the connection with
 * MAIL_ERR_STARTTLS (or the TLS error) before a credential byte is sent.
 * Bytes that arrive after the STLS +OK and before the handshake are
 * MAIL_ERR_STARTTLS_INJECTION. Capabilities read before TLS are discarded
 * and CAPA is read again. USER/PASS and the cleartext SASL mechanisms are
 * refused (MAIL_ERR_INSECURE) unless the server is TLS-verified or
 * mail_sasl_set_allow_insecure_plaintext() on mail_pop3_sasl() says
 * otherwise. APOP is only
 * used when asked for, and always after STLS when TLS is required.
 * Every argument that reaches the wire is checked: CR, LF or NUL gives
 * MAIL_ERR_INVALID and nothing is sent.
 *
 * Errors: a -ERR reply gives MAIL_ERR_SERVER (MAIL_ERR_AUTH when logging
 * in was refused for the credentials); the reply itself, with its RFC 2449
 * response code, stays available from mail_pop3_last_reply() (and
 * mail_pop3_last_reply_command() says what it answered). Fatal codes
 * (mail_status_is_fatal()) leave the session closed. The one description
 * of a failure is mail_conn_last_error(mail_pop3_conn(p)): the command and
 * the server's reply ("RETR 3: -ERR [SYS/TEMP] try later", "PASS: -ERR
 * [AUTH] Authentication failed" — never a user name, password or digest),
 * or the transport's reason ("no greeting: ... use pop3s://"). Every
 * operation clears it when it starts; one that succeeds leaves it empty.
 *
 * Threading: a session is used by one thread at a time.
 */
#ifndef MAIL_POP3_H
#define MAIL_POP3_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/conn.h>
#include <mail/pop3_reply.h>
#include <mail/sasl.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A POP3 client session (opaque). */
typedef struct mail_pop3 mail_pop3;

/** Session states (mail_pop3_state()). */
typedef enum mail_pop3_state_id {
  MAIL_POP3_STATE_DISCONNECTED = 0, /**< no connection */
  MAIL_POP3_STATE_CONNECTING = 1,   /**< connecting, greeting, CAPA, STLS in progress */
  MAIL_POP3_STATE_AUTHORIZATION = 2,/**< connected, not logged in */
  MAIL_POP3_STATE_AUTHENTICATING = 3,/**< a login is in progress */
  MAIL_POP3_STATE_TRANSACTION = 4,  /**< logged in: the maildrop is open */
  MAIL_POP3_STATE_UPDATE = 5        /**< QUIT sent, waiting for the server to commit */
} mail_pop3_state_id;

/** How mail_pop3_auth() logs in (mail_pop3_set_auth_method()). */
typedef enum mail_pop3_auth_method {
  /** SASL when the server lists SASL and a mechanism is usable, else
   *  USER/PASS (when the server lists USER or gave no capabilities). Never
   *  APOP. The default. */
  MAIL_POP3_AUTH_AUTO = 0,
  MAIL_POP3_AUTH_SASL = 1, /**< AUTH (RFC 5034) only */
  MAIL_POP3_AUTH_USER = 2, /**< USER/PASS only */
  MAIL_POP3_AUTH_APOP = 3  /**< APOP only (needs the greeting's timestamp) */
} mail_pop3_auth_method;

/** Events of a message body callback (mail_pop3_body_fn). */
typedef enum mail_pop3_body_event {
  MAIL_POP3_BODY_BEGIN = 1, /**< the server said +OK; data is NULL */
  MAIL_POP3_BODY_DATA = 2, /**< a chunk of the message, dot-unstuffed */
  MAIL_POP3_BODY_END = 3 /**< the terminating "." arrived; data is NULL */
} mail_pop3_body_event;

/**
 * Receives a message (RETR) or its headers and first lines (TOP) as it
 * arrives, in chunks of any size: the bytes as the server sent them (line
 * ends included, CRLF as sent) minus the stuffed dots and the terminating
 * ".". msg is the message number. Return 0 to go on; anything else stops
 * the operation: it ends with MAIL_ERR_CALLBACK once the responses already
 * in flight have been read (the session stays usable), and no further
 * callback is made. data is valid only during the call.
 */
typedef int (*mail_pop3_body_fn)(void *user, uint32_t msg, int event, const unsigned char *data,
                                 size_t len);

/* ------------------------------------------------------------------ */
/* Session and settings                                                 */
/* ------------------------------------------------------------------ */

/**
 * Create a session (with its connection and SASL handle). alloc may be
 * NULL; it is copied and used for everything the session allocates.
 * MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM. Does not block.
 */
MAIL_EXTERN int mail_pop3_new(mail_pop3 **out, const mail_allocator *alloc);

/** Close the connection (without QUIT: nothing marked deleted is
 *  removed), wipe the credentials and free. NULL is fine. */
MAIL_EXTERN void mail_pop3_free(mail_pop3 *p);

/** The session's connection, for mail_conn_set_* (trace, limits,
 *  timeouts, TLS configuration, user transport, non-blocking mode). Owned
 *  by the session. */
MAIL_EXTERN mail_conn *mail_pop3_conn(mail_pop3 *p);

/** The session's SASL handle: credentials beyond mail_pop3_set_auth()
 *  (authzid, OAuth token and callback, EXTERNAL), the mechanism
 *  allow-list, mail_sasl_set_allow_insecure_plaintext() (which also allows
 *  USER/PASS on an unverified link), channel-binding preference, SCRAM
 *  iteration bounds. Owned by the session. */
MAIL_EXTERN mail_sasl *mail_pop3_sasl(mail_pop3 *p);

/** How the connection is protected (mail_security). Default
 *  MAIL_SECURITY_STARTTLS. MAIL_ERR_INVALID for an unknown value,
 *  MAIL_ERR_STATE while connected. */
MAIL_EXTERN int mail_pop3_set_security(mail_pop3 *p, int security);

/**
 * The user name and password for USER/PASS, APOP and SASL (copied into
 * the SASL handle; the password is wiped when replaced or freed).
 * password may be NULL (OAuth and EXTERNAL need none). MAIL_ERR_INVALID
 * when user is NULL or either holds CR, LF or NUL, or user is not valid
 * UTF-8; MAIL_ERR_NOMEM. The password is taken as bytes and not checked
 * for UTF-8, so that a legacy password in another charset still works with
 * USER/PASS, APOP, LOGIN and CRAM-MD5: SCRAM and PLAIN prepare it with
 * SASLprep at login and refuse one that is not valid UTF-8 with
 * MAIL_ERR_CHARSET, before anything is sent.
 */
MAIL_EXTERN int mail_pop3_set_auth(mail_pop3 *p, const char *user, const char *password);

/** mail_pop3_auth_method value. MAIL_ERR_INVALID otherwise. */
MAIL_EXTERN int mail_pop3_set_auth_method(mail_pop3 *p, int method);

/**
 * Most commands in flight at once when the server offers PIPELINING
 * (batches of RETR, TOP, DELE, UIDL): the first window goes out in one
 * write and the window is topped up as replies arrive. Default 64;
 * 1 turns pipelining off. MAIL_ERR_INVALID for 0 or more than 4096.
 */
MAIL_EXTERN int mail_pop3_set_pipeline_window(mail_pop3 *p, unsigned int window);

/* ------------------------------------------------------------------ */
/* Connecting and logging in                                            */
/* ------------------------------------------------------------------ */

/**
 * Connect to host:port (0 = 110, or 995 for MAIL_SECURITY_IMPLICIT_TLS),
 * read the greeting and CAPA, and perform STLS as security (mail_security,
 * which also becomes the session's setting) says, then CAPA again. Does not log in. Blocks (see the top of this header).
 * Errors: the connection's (MAIL_ERR_RESOLVE, MAIL_ERR_CONNECT, MAIL_ERR_TLS,
 * MAIL_ERR_TLS_VERIFY, MAIL_ERR_TIMEOUT, ...), MAIL_ERR_STARTTLS,
 * MAIL_ERR_STARTTLS_INJECTION, MAIL_ERR_PROTOCOL, MAIL_ERR_SERVER (the
 * greeting was -ERR; the connection is closed), MAIL_ERR_INVALID,
 * MAIL_ERR_STATE (already connected).
 */
MAIL_EXTERN int mail_pop3_connect(mail_pop3 *p, const char *host, unsigned int port,
                                  int security);

/**
 * Connect by URL: "pop3://[user[:password]@]host[:port]" (STLS required)
 * or "pop3s://..." (implicit TLS); IPv6 literals in brackets. A user and
 * password in the URL (percent-encoded) replace those set before. The
 * security mode is taken from the scheme unless an insecure mode was set
 * with mail_pop3_set_security(), which a pop3:// URL keeps.
 * MAIL_ERR_SYNTAX for a malformed URL; otherwise as mail_pop3_connect().
 */
MAIL_EXTERN int mail_pop3_connect_url(mail_pop3 *p, const char *url);

/**
 * Log in with the method set by mail_pop3_set_auth_method(). After a
 * successful login CAPA is read again when the server answered it before
 * (capabilities may change in the TRANSACTION state).
 * Errors: MAIL_ERR_AUTH (credentials refused: no response code or
 * [AUTH]), MAIL_ERR_SERVER (refused for another reason, e.g. [IN-USE],
 * [LOGIN-DELAY], [SYS/TEMP]: see mail_pop3_last_reply()),
 * MAIL_ERR_INSECURE, MAIL_ERR_NO_MECHANISM, MAIL_ERR_UNSUPPORTED (APOP
 * without a timestamp in the greeting), MAIL_ERR_INVALID (no user name or
 * password; SASL EXTERNAL, enabled with mail_sasl_set_external() on
 * mail_pop3_sasl(), needs neither), MAIL_ERR_STATE (not in
 * AUTHORIZATION), the SASL engine's errors, and fatal errors. A -ERR to
 * the AUTH command itself that names the mechanism as unsupported (no
 * response code, e.g. "Unsupported authentication mechanism") makes the
 * next usable mechanism go out; any other -ERR ends the login, except
 * that a refused SCRAM-*-PLUS login (no response code or [AUTH]) on a
 * verified connection is retried once on the same connection without
 * channel binding (a downgrade, see
 * mail_sasl_set_allow_channel_binding_downgrade() on mail_pop3_sasl()):
 * a wrong password then costs two failed attempts. The trace shows the
 * mechanism, the credentials redacted ("C: AUTH SCRAM-SHA-256-PLUS
 * [redacted]", continuation lines "C: [redacted]").
 */
MAIL_EXTERN int mail_pop3_auth(mail_pop3 *p);

/** The session state (mail_pop3_state_id). */
MAIL_EXTERN int mail_pop3_get_state(const mail_pop3 *p);

/** The name of the session's state, e.g. "TRANSACTION" (never NULL). */
MAIL_EXTERN const char *mail_pop3_state_name(const mail_pop3 *p);

/* ------------------------------------------------------------------ */
/* What the server said                                                 */
/* ------------------------------------------------------------------ */

/** The last status line the server sent (with its response code), or
 *  NULL. Valid until the next operation, which clears it when it starts. */
MAIL_EXTERN const mail_pop3_reply *mail_pop3_last_reply(const mail_pop3 *p);

/** What mail_pop3_last_reply() answered, as it reads in an error:
 *  "greeting", "CAPA", "STLS", "USER", "PASS", "APOP", "AUTH PLAIN" (the
 *  mechanism only), "STAT", "LIST", "LIST 3", "UIDL", "UIDL 3", "RETR 3",
 *  "TOP 3", "DELE 3", "RSET", "NOOP", "QUIT"; NULL when there is no last
 *  reply. Owned by the session, valid as long as the last reply. (As
 *  mail_smtp_last_reply_command().) */
MAIL_EXTERN const char *mail_pop3_last_reply_command(const mail_pop3 *p);

/** The greeting's text (NUL-terminated), or NULL before one arrived. */
MAIL_EXTERN const char *mail_pop3_greeting(const mail_pop3 *p);

/** 1 when the server answered CAPA (capabilities are known), 0 when it
 *  did not (an RFC 1939-only server) or before CAPA. */
MAIL_EXTERN int mail_pop3_caps_known(const mail_pop3 *p);

/** The capabilities from the last CAPA (after TLS and after login when
 *  re-read), owned by the session and valid until the next operation.
 *  Never NULL for a valid p (empty when unknown). */
MAIL_EXTERN const mail_pop3_caps *mail_pop3_capabilities(const mail_pop3 *p);

/** 1 when the last CAPA listed keyword (ASCII case ignored). */
MAIL_EXTERN int mail_pop3_has_capability(const mail_pop3 *p, const char *keyword);

/**
 * LOGIN-DELAY from CAPA: the minimum seconds between logins into *seconds.
 * MAIL_OK, MAIL_ERR_NOT_FOUND (not advertised), MAIL_ERR_PROTOCOL (not a
 * number).
 */
MAIL_EXTERN int mail_pop3_login_delay(const mail_pop3 *p, uint32_t *seconds);

/**
 * EXPIRE from CAPA: days messages stay on the server after being
 * retrieved into *days, or *never = 1 for "NEVER" (then *days = 0).
 * *per_user is 1 when the value was followed by "USER" (it may differ
 * per user; read again after login). Any out pointer may be NULL.
 * MAIL_OK, MAIL_ERR_NOT_FOUND, MAIL_ERR_PROTOCOL.
 */
MAIL_EXTERN int mail_pop3_expire(const mail_pop3 *p, uint32_t *days, int *never, int *per_user);

/** IMPLEMENTATION from CAPA (its words joined by spaces), or NULL. The
 *  string lives until the next operation. */
MAIL_EXTERN const char *mail_pop3_implementation(const mail_pop3 *p);

/* ------------------------------------------------------------------ */
/* Transaction commands (TRANSACTION state, else MAIL_ERR_STATE)        */
/* ------------------------------------------------------------------ */

/** STAT: message count and maildrop size in octets. Out pointers may be
 *  NULL. MAIL_ERR_SERVER, MAIL_ERR_PROTOCOL, fatal errors. */
MAIL_EXTERN int mail_pop3_stat(mail_pop3 *p, uint32_t *count, uint64_t *size);

/**
 * LIST without argument: every message's number and size, kept in the
 * session until the next LIST and read with mail_pop3_list_count() /
 * mail_pop3_list_at(). MAIL_ERR_LIMIT beyond limits.max_items lines
 * (10,000,000 by default; the reply bound max_response does not apply).
 */
MAIL_EXTERN int mail_pop3_list(mail_pop3 *p);
/** Entries of the last LIST (0 before one). */
MAIL_EXTERN size_t mail_pop3_list_count(const mail_pop3 *p);
/** Entry i of the last LIST. MAIL_ERR_NOT_FOUND when out of range; out
 *  pointers may be NULL. */
MAIL_EXTERN int mail_pop3_list_at(const mail_pop3 *p, size_t i, uint32_t *msg, uint64_t *size);
/** LIST msg: the size of one message. MAIL_ERR_SERVER (no such message). */
MAIL_EXTERN int mail_pop3_list_one(mail_pop3 *p, uint32_t msg, uint64_t *size);

/**
 * UIDL without argument: every message's unique id, kept in the session
 * until the next UIDL and read with mail_pop3_uidl_count() /
 * mail_pop3_uidl_at(). MAIL_ERR_SERVER when the server has no UIDL.
 * Like LIST, a result that grows with the mailbox: bounded by
 * limits.max_items lines (10,000,000 by default), not by max_response;
 * each id is at most 70 bytes.
 */
MAIL_EXTERN int mail_pop3_uidl(mail_pop3 *p);
/**
 * UIDL for several messages: one "UIDL n" per message, pipelined when the
 * server offers PIPELINING; replaces the session's UIDL entries with the
 * ones answered +OK. MAIL_ERR_PARTIAL when some were refused, per message
 * with mail_pop3_batch_status().
 */
MAIL_EXTERN int mail_pop3_uidl_many(mail_pop3 *p, const uint32_t *msgs, size_t n);
/** Entries of the last UIDL. */
MAIL_EXTERN size_t mail_pop3_uidl_count(const mail_pop3 *p);
/** Entry i of the last UIDL: *uid is NUL-terminated and lives until the
 *  next UIDL. MAIL_ERR_NOT_FOUND when out of range. */
MAIL_EXTERN int mail_pop3_uidl_at(const mail_pop3 *p, size_t i, uint32_t *msg, const char **uid);
/** UIDL msg: the unique id of one message copied with a NUL into buf
 *  (cap bytes). MAIL_ERR_BUFFER when too small (71 bytes always do). */
MAIL_EXTERN int mail_pop3_uidl_one(mail_pop3 *p, uint32_t msg, char *buf, size_t cap);

/** RETR msg, streamed to fn (see mail_pop3_body_fn) with bounded memory.
 *  MAIL_ERR_SERVER (-ERR), MAIL_ERR_CALLBACK, fatal errors. */
MAIL_EXTERN int mail_pop3_retr(mail_pop3 *p, uint32_t msg, mail_pop3_body_fn fn, void *user);

/**
 * RETR several messages, pipelined when the server offers PIPELINING (see
 * mail_pop3_set_pipeline_window()). fn sees BEGIN, DATA..., END for each
 * message answered +OK, in the order of msgs. MAIL_OK when every message
 * came; MAIL_ERR_PARTIAL when some were refused (mail_pop3_batch_status());
 * MAIL_ERR_SERVER when all were; MAIL_ERR_CALLBACK.
 */
MAIL_EXTERN int mail_pop3_retr_many(mail_pop3 *p, const uint32_t *msgs, size_t n,
                                    mail_pop3_body_fn fn, void *user);

/** TOP msg lines: the headers, the blank line and the first lines lines
 *  of the body, streamed like RETR; statuses as mail_pop3_retr(). */
MAIL_EXTERN int mail_pop3_top(mail_pop3 *p, uint32_t msg, uint32_t lines, mail_pop3_body_fn fn,
                              void *user);

/** DELE msg: mark a message deleted (removed at QUIT). MAIL_OK, MAIL_ERR_SERVER (-ERR),
 *  MAIL_ERR_STATE outside the transaction state, fatal errors. */
MAIL_EXTERN int mail_pop3_dele(mail_pop3 *p, uint32_t msg);

/** DELE several messages, pipelined when offered. MAIL_ERR_PARTIAL /
 *  MAIL_ERR_SERVER as for mail_pop3_retr_many(). */
MAIL_EXTERN int mail_pop3_dele_many(mail_pop3 *p, const uint32_t *msgs, size_t n);

/** The result of item i of the last batch (…_many or the leave-on-server
 *  helper's last step): MAIL_OK, MAIL_ERR_SERVER, or MAIL_ERR_NOT_FOUND
 *  for no such item / an item not sent. */
MAIL_EXTERN int mail_pop3_batch_status(const mail_pop3 *p, size_t i);

/** RSET: unmark every message marked deleted. Statuses as mail_pop3_dele(). */
MAIL_EXTERN int mail_pop3_rset(mail_pop3 *p);

/** NOOP: keep the connection alive. Statuses as mail_pop3_dele(). */
MAIL_EXTERN int mail_pop3_noop(mail_pop3 *p);

/**
 * QUIT and close. *committed (may be NULL) is set to 1 when the server
 * entered the UPDATE state and answered +OK: the messages marked deleted
 * are gone. It is 0 when QUIT was sent before login (nothing to commit),
 * when the server answered -ERR (MAIL_ERR_SERVER: some deletions failed;
 * RFC 1939 §6) or when the connection broke before the answer (a fatal
 * error: the server may or may not have committed). The connection is
 * closed whatever happens. MAIL_ERR_STATE when not connected.
 */
MAIL_EXTERN int mail_pop3_quit(mail_pop3 *p, int *committed);

/** Messages marked deleted in this session and not unmarked by RSET. */
MAIL_EXTERN size_t mail_pop3_deleted_count(const mail_pop3 *p);

/* ------------------------------------------------------------------ */
/* Leave mail on the server                                             */
/* ------------------------------------------------------------------ */

/**
 * A set of unique ids, each with the time (seconds since the epoch) it
 * was first seen: what a client that leaves mail on the server keeps
 * between sessions. Ids are 1 to 70 printable ASCII characters.
 */
typedef struct mail_pop3_uidset mail_pop3_uidset;

/** Create an empty set. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_pop3_uidset_new(mail_pop3_uidset **out, const mail_allocator *alloc);
/** Free a set. NULL is fine. */
MAIL_EXTERN void mail_pop3_uidset_free(mail_pop3_uidset *s);
/** Add uid first seen at first_seen (replacing the time if already in).
 *  MAIL_ERR_INVALID for an id that is empty, longer than 70 characters or
 *  outside 0x21-0x7E; MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_pop3_uidset_add(mail_pop3_uidset *s, const char *uid, int64_t first_seen);
/** 1 when uid is in the set. */
MAIL_EXTERN int mail_pop3_uidset_contains(const mail_pop3_uidset *s, const char *uid);
/** Number of ids. */
MAIL_EXTERN size_t mail_pop3_uidset_count(const mail_pop3_uidset *s);
/** Id i (NUL-terminated, valid until the set changes) and its time (may
 *  be NULL), or NULL when out of range. */
MAIL_EXTERN const char *mail_pop3_uidset_at(const mail_pop3_uidset *s, size_t i,
                                            int64_t *first_seen);
/** Remove every id. */
MAIL_EXTERN void mail_pop3_uidset_clear(mail_pop3_uidset *s);

/**
 * The "leave mail on the server" cycle, in the TRANSACTION state:
 *   1. UIDL lists what the server holds;
 *   2. every message whose id is not in known is retrieved (RETR,
 *      pipelined when offered) into fn, like mail_pop3_retr_many();
 *   3. when delete_after_days > 0, every message in known first seen at
 *      least that many days ago (by the session's realtime clock) is
 *      marked deleted (DELE, pipelined) — it is removed at QUIT;
 *   4. seen (emptied first) receives the ids now on the server and not
 *      marked deleted: known ids with their times, new ids with the
 *      current time — store it and pass it as known next time.
 * new_count (may be NULL) gets the number of messages retrieved.
 * A message that could not be retrieved stays out of seen, so it is tried
 * again next time. known and seen must be different sets.
 * MAIL_OK; MAIL_ERR_PARTIAL (some RETR or DELE refused); MAIL_ERR_UNSUPPORTED
 * (the server refused UIDL); MAIL_ERR_CALLBACK; fatal errors.
 */
MAIL_EXTERN int mail_pop3_leave_on_server(mail_pop3 *p, const mail_pop3_uidset *known,
                                          unsigned int delete_after_days, mail_pop3_body_fn fn,
                                          void *user, mail_pop3_uidset *seen, size_t *new_count);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_POP3_H */

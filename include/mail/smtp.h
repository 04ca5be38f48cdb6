/*
 * libmail — SMTP and LMTP submission (RFC 5321, 3207, 4954, 2920, 1870,
 * 6152, 3030, 3461, 2034, 6531, 8689, 2033).
 *
 * A mail_smtp session talks to one server. It owns a mail_conn (borrow it
 * with mail_smtp_conn() for trace, TLS settings, limits, timeouts and
 * event-loop mode) and a mail_sasl (borrow it with mail_smtp_sasl() for
 * credentials and the mechanism allow-list).
 *
 *   mail_smtp *s; mail_smtp_envelope *e;
 *   mail_smtp_new(&s, NULL);
 *   mail_smtp_set_auth(s, "alice", "secret");
 *   mail_smtp_connect_url(s, "smtp://mail.example.org:587"); // STARTTLS required
 *   mail_smtp_auth(s);
 *   mail_smtp_envelope_new(&e, NULL);
 *   rc = mail_smtp_send_mime(s, e, msg);        // addresses from msg, body
 *                                               // options from EHLO;
 *                                               // per-recipient results in e
 *   mail_smtp_quit(s);
 *
 * Blocking and event-loop use. Every call that talks to the server blocks
 * until it is done (each wait bounded by the command timeout) — unless the
 * connection is non-blocking (mail_conn_set_nonblocking()). Then such a
 * call returns MAIL_ERR_AGAIN whenever it would wait: wait until
 * mail_conn_fd(mail_smtp_conn(s)) is ready for mail_conn_want() (or
 * mail_conn_timeout_ms() has passed) and call THE SAME FUNCTION again with
 * the same arguments; it resumes where it stopped. Calling another
 * operation while one is in progress gives MAIL_ERR_STATE. (Over a user
 * transport there is no fd: just call again when the transport can move.)
 *
 * Security. STARTTLS is required by default on plain ports: if the
 * upgrade fails in any way (not advertised, a refusal, EHLO refused, a
 * handshake or verification failure, bytes injected after the go-ahead)
 * the connection is closed before any credential or envelope byte is sent.
 * Everything learned before TLS is discarded and EHLO is sent again. AUTH
 * PLAIN/LOGIN is refused on an unverified link unless allowed on the
 * mail_sasl. CR, LF or NUL in any address, name or parameter gives
 * MAIL_ERR_INVALID from the setter (and nothing reaches the wire).
 *
 * Errors. A server's negative reply gives MAIL_ERR_SERVER (or a more
 * specific code) and the reply stays available from mail_smtp_last_reply()
 * (mail_smtp_last_reply_command() says what it answered). A 421 reply at
 * any point closes the connection and gives MAIL_ERR_SERVER_CLOSING, with
 * the 421 reply as the last reply. Fatal codes (mail_status_is_fatal)
 * leave the connection closed. Whatever failed, the one description of it
 * is mail_conn_last_error(mail_smtp_conn(s)): the command and the server's
 * reply ("RCPT TO:<x@example.org>: 550 5.1.1 User unknown", "AUTH PLAIN:
 * 535 5.7.8 ..." — the mechanism, never a credential), or the local or
 * transport reason ("send: the envelope has no sender", "TLS: certificate
 * for ... not trusted by CA file ca.pem", "no greeting: ..."). Every
 * operation clears it and the last reply when it starts; one that
 * succeeds leaves it empty.
 *
 * Threading: one session (and the envelope it is sending) is used by one
 * thread at a time.
 */
#ifndef MAIL_SMTP_H
#define MAIL_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/conn.h>
#include <mail/sasl.h>
#include <mail/smtp_reply.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An SMTP or LMTP session (opaque). */
typedef struct mail_smtp mail_smtp;

/** One message transaction: envelope, body source and, after sending,
 *  the per-recipient results (opaque). */
typedef struct mail_smtp_envelope mail_smtp_envelope;

/* The MIME builder's message (mail/mime_build.h), declared here so this
 * header does not depend on the MIME module being built. */
struct mail_mime_builder;

/* ------------------------------------------------------------------ */
/* Session                                                              */
/* ------------------------------------------------------------------ */

/**
 * Create a session (with its own connection and SASL handle). alloc may be
 * NULL; it is used for everything the session allocates. Returns MAIL_OK,
 * MAIL_ERR_INVALID or MAIL_ERR_NOMEM. Does not block.
 */
MAIL_EXTERN int mail_smtp_new(mail_smtp **out, const mail_allocator *alloc);

/** Close the connection (without QUIT) and free the session. NULL is fine. */
MAIL_EXTERN void mail_smtp_free(mail_smtp *s);

/** The session's connection, owned by the session (trace, TLS config,
 *  limits, timeouts, non-blocking mode, user transport). */
MAIL_EXTERN mail_conn *mail_smtp_conn(mail_smtp *s);

/** The session's SASL handle, owned by the session (credentials,
 *  mechanism allow-list, insecure-plaintext opt-in, OAuth token callback). */
MAIL_EXTERN mail_sasl *mail_smtp_sasl(mail_smtp *s);

/**
 * Convenience for mail_sasl_set_username() + mail_sasl_set_password() on
 * the session's SASL handle (copied; wiped when freed). password may be
 * NULL (token mechanisms). MAIL_ERR_INVALID when user is NULL or either
 * holds CR, LF or NUL (as in mail_pop3_set_auth()), or user is not valid
 * UTF-8; MAIL_ERR_NOMEM. The password is taken as bytes and not checked
 * for UTF-8 here, so that a legacy password in another
 * charset still works with LOGIN and CRAM-MD5: SCRAM and PLAIN prepare it
 * with SASLprep at AUTH time and refuse one that is not valid UTF-8 with
 * MAIL_ERR_CHARSET, before anything is sent.
 */
MAIL_EXTERN int mail_smtp_set_auth(mail_smtp *s, const char *user, const char *password);

/**
 * Security mode used by mail_smtp_connect_url() for smtp:// and lmtp://
 * over TCP (mail_security; default MAIL_SECURITY_STARTTLS). smtps://
 * always uses implicit TLS. MAIL_ERR_INVALID for an unknown mode,
 * MAIL_ERR_STATE while connected or while an operation is in progress.
 */
MAIL_EXTERN int mail_smtp_set_security(mail_smtp *s, int security);

/**
 * Name sent in EHLO/HELO/LHLO (a domain, or an address literal such as
 * "[192.0.2.1]"). Default: the host's name when it is fully qualified,
 * else the connection's local address as a literal ("[192.0.2.1]",
 * "[IPv6:2001:db8::1]"; "[127.0.0.1]" over a Unix socket or a user
 * transport). No DNS lookup is made for it. MAIL_ERR_INVALID for NULL, empty, or a name holding
 * a space, CR, LF, NUL or a control byte.
 */
MAIL_EXTERN int mail_smtp_set_client_name(mail_smtp *s, const char *name);

/** Speak LMTP (LHLO, one final reply per accepted recipient). Set before
 *  connecting; lmtp:// URLs set it. Off by default. MAIL_OK, MAIL_ERR_INVALID,
 *  MAIL_ERR_STATE while connected. */
MAIL_EXTERN int mail_smtp_set_lmtp(mail_smtp *s, int on);

/** Strict message data: a bare CR or LF in a DATA body is an error
 *  (MAIL_ERR_INVALID, the connection is closed so no partial message is
 *  delivered) instead of being turned into CRLF. Off by default. */
MAIL_EXTERN int mail_smtp_set_strict(mail_smtp *s, int on);

/** Use PIPELINING when the server offers it (default on). MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_set_pipelining(mail_smtp *s, int on);

/** When to use CHUNKING (BDAT) instead of DATA (mail_smtp_set_chunking). */
typedef enum mail_smtp_chunking {
  MAIL_SMTP_CHUNKING_WHEN_NEEDED = 0, /**< only for binary bodies (BINARYMIME); the default */
  MAIL_SMTP_CHUNKING_PREFER = 1, /**< whenever the server offers CHUNKING */
  MAIL_SMTP_CHUNKING_NEVER = 2 /**< never (a binary body then fails with MAIL_ERR_UNSUPPORTED) */
} mail_smtp_chunking;

/** Choose DATA or BDAT (MAIL_SMTP_CHUNKING_*). BDAT sends the body byte
 *  for byte: no dot-stuffing, line endings untouched. MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_set_chunking(mail_smtp *s, int mode);

/**
 * Timeouts in milliseconds (-1: no limit; 0 keeps the current value):
 * command_ms bounds each wait for a reply or for the server to take
 * bytes (default: the connection's MAIL_TIMEOUT_IO, itself 5 minutes by
 * default, RFC 5321 4.5.3.2); final_ms bounds the wait for the reply
 * after the end of the message data (default 10 minutes, RFC 5321
 * 4.5.3.2). MAIL_ERR_INVALID below -1.
 */
MAIL_EXTERN int mail_smtp_set_timeouts(mail_smtp *s, int command_ms, int final_ms);

/**
 * Progress callback: called as message data is queued for sending, with
 * the bytes of body produced so far and the total (0 when unknown).
 * Returning non-zero cancels the send (MAIL_ERR_CANCELLED; the connection
 * is closed, so no partial message is delivered). fn NULL removes it.
 * MAIL_OK, or MAIL_ERR_INVALID for a NULL s.
 */
typedef int (*mail_smtp_progress_fn)(void *user, uint64_t sent, uint64_t total);
MAIL_EXTERN int mail_smtp_set_progress(mail_smtp *s, mail_smtp_progress_fn fn, void *user);

/**
 * Connect to host:port (0: the default port, 25, or 465 for
 * MAIL_SECURITY_IMPLICIT_TLS, 24 for LMTP), read the greeting, EHLO (HELO where TLS is not
 * required and EHLO is refused), STARTTLS as security asks (mail_security)
 * and EHLO again. LMTP sessions send LHLO. Blocks (see the top of this
 * header). Errors: those of mail_conn_connect(), MAIL_ERR_STARTTLS (TLS
 * required and not offered or refused), MAIL_ERR_STARTTLS_INJECTION,
 * MAIL_ERR_TLS, MAIL_ERR_TLS_VERIFY, MAIL_ERR_SERVER (greeting or EHLO
 * refused), MAIL_ERR_SERVER_CLOSING (421), MAIL_ERR_PROTOCOL,
 * MAIL_ERR_TIMEOUT, MAIL_ERR_CLOSED, MAIL_ERR_STATE (already connected).
 */
MAIL_EXTERN int mail_smtp_connect(mail_smtp *s, const char *host, unsigned int port, int security);

/**
 * Connect by URL: smtp://host[:port] (port 25; STARTTLS per
 * mail_smtp_set_security), submission://host[:port] (port 587, as smtp),
 * smtps://host[:port] (port 465, implicit TLS), lmtp://host[:port] (port
 * 24, LMTP, security as smtp) and lmtp:///absolute/path (LMTP over a
 * Unix-domain socket: no TLS needed). host may be an [IPv6] literal; a
 * trailing "/" is allowed. MAIL_ERR_SYNTAX for anything else
 * (MAIL_ERR_INVALID for CR, LF or NUL); then as mail_smtp_connect().
 */
MAIL_EXTERN int mail_smtp_connect_url(mail_smtp *s, const char *url);

/** Connect to a Unix-domain socket (LMTP's usual home; no TLS). As
 *  mail_smtp_connect() otherwise. */
MAIL_EXTERN int mail_smtp_connect_unix(mail_smtp *s, const char *path);

/**
 * Authenticate with the strongest mechanism the server offers after TLS
 * and the SASL settings allow. What the SASL engine sends goes out as a
 * secret (redacted in the trace, wiped from buffers); the trace shows the
 * mechanism ("C: AUTH SCRAM-SHA-256-PLUS [redacted]"). A refused
 * SCRAM-*-PLUS login on a verified connection is retried once on the same
 * connection without channel binding (a downgrade, see
 * mail_sasl_set_allow_channel_binding_downgrade() on mail_smtp_sasl()):
 * a wrong password then costs two failed attempts. Errors: MAIL_ERR_UNSUPPORTED
 * (no AUTH offered), MAIL_ERR_NO_MECHANISM, MAIL_ERR_INSECURE (only a
 * cleartext mechanism would do on an unprotected link), MAIL_ERR_AUTH
 * (535, credentials refused), MAIL_ERR_SASL_SERVER (the server failed
 * mutual authentication; closed), MAIL_ERR_SERVER, MAIL_ERR_STATE, fatal codes.
 */
MAIL_EXTERN int mail_smtp_auth(mail_smtp *s);

/** NOOP. MAIL_OK, MAIL_ERR_SERVER, MAIL_ERR_STATE or a fatal code. */
MAIL_EXTERN int mail_smtp_noop(mail_smtp *s);
/** RSET. As mail_smtp_noop(). */
MAIL_EXTERN int mail_smtp_rset(mail_smtp *s);
/** QUIT, wait for the reply, close. A closed session gives MAIL_OK. */
MAIL_EXTERN int mail_smtp_quit(mail_smtp *s);

/**
 * Send one message. Checks locally first (nothing is sent on failure):
 * MAIL_ERR_INVALID (no sender, no recipient or no body),
 * MAIL_ERR_TOO_BIG (larger than the server's SIZE),
 * MAIL_ERR_NEEDS_SMTPUTF8 (an address or the message needs SMTPUTF8 and
 * the server lacks it; non-ASCII domains alone are sent as IDNA A-labels),
 * MAIL_ERR_UNSUPPORTED (8-bit body without 8BITMIME, binary body without
 * BINARYMIME+CHUNKING, DSN options without DSN), MAIL_ERR_REQUIRETLS.
 *
 * With PIPELINING, MAIL FROM, every RCPT TO and (policy ANY) DATA or the
 * BDAT chunks go out in one write and replies are matched in order. The
 * body streams from its source with bounded memory: DATA bodies are
 * dot-stuffed, bare CR/LF become CRLF (see mail_smtp_set_strict), a final
 * CRLF is added when missing and exactly one end-of-data marker is sent.
 *
 * Results: MAIL_OK (every recipient accepted the message), MAIL_ERR_PARTIAL
 * (some did; see the per-recipient results), MAIL_ERR_RECIPIENTS (every
 * recipient was refused, or policy ALL and one was: nothing was sent; the
 * session's error names the first refusal and, for policy ALL, how many),
 * MAIL_ERR_SERVER (MAIL FROM, DATA or the final reply refused), MAIL_ERR_CALLBACK
 * (the body source failed: closed), MAIL_ERR_CANCELLED, fatal codes.
 * After a failed transaction the session sends RSET and stays usable.
 */
MAIL_EXTERN int mail_smtp_send(mail_smtp *s, mail_smtp_envelope *env);

/**
 * Send a MIME builder message, its body options chosen now from this
 * server's EHLO: the message is frozen with MAIL_MIME_OPT_8BITMIME when
 * 8BITMIME is offered, MAIL_MIME_OPT_SMTPUTF8 when SMTPUTF8 is too, and
 * MAIL_MIME_OPT_BINARYMIME when BINARYMIME and CHUNKING are (and chunking
 * is not MAIL_SMTP_CHUNKING_NEVER); MAIL_MIME_OPT_COMPAT_FILENAME is kept
 * as set. So a message built before connecting goes out as 8-bit or
 * SMTPUTF8 where the server allows it, 7-bit elsewhere. A message frozen
 * already is sent as it was built. When e has no recipient, the sender
 * (unless set) and the To, Cc and Bcc addresses are taken from the message
 * (mail_smtp_envelope_add_mime_addresses); then the message becomes e's
 * body (mail_smtp_envelope_set_body_mime: borrowed, it must outlive the
 * send) and it is sent as mail_smtp_send() does, with the same results in
 * e. In event-loop mode call it again with the same arguments.
 * MAIL_ERR_UNSUPPORTED when built without MIME; otherwise the errors of
 * the calls above.
 */
MAIL_EXTERN int mail_smtp_send_mime(mail_smtp *s, mail_smtp_envelope *e,
                                    struct mail_mime_builder *msg);

/**
 * Cancel the operation in progress: it returns MAIL_ERR_CANCELLED (in
 * event-loop mode, at the next call of the operation that returned
 * MAIL_ERR_AGAIN) and the connection is closed. Call it from the progress
 * callback or between two calls of a non-blocking operation (same thread).
 */
MAIL_EXTERN void mail_smtp_cancel(mail_smtp *s);

/** The EHLO/LHLO capabilities (after TLS when TLS was started); owned by
 *  the session, valid until the next connect or free. Never NULL. The list
 *  is bounded by the connection's limits (max_response bytes, max_lines
 *  lines): a longer one ends the connect with MAIL_ERR_LIMIT. */
MAIL_EXTERN const mail_smtp_caps *mail_smtp_capabilities(const mail_smtp *s);

/** 1 when the server advertised keyword in its EHLO/LHLO reply (ASCII
 *  case-insensitive), else 0. (Named like mail_pop3_has_capability().) */
MAIL_EXTERN int mail_smtp_has_capability(const mail_smtp *s, const char *keyword);

/** The last complete reply from the server, or NULL before the first.
 *  Owned by the session; valid until the next operation, which clears it
 *  when it starts (so a local refusal never shows an older reply). After
 *  EHLO it holds the first line only: the capability lines went to
 *  mail_smtp_capabilities() (a list is not held twice). After a failed
 *  transaction it is the reply that decided it, not the RSET's. */
MAIL_EXTERN const mail_smtp_reply *mail_smtp_last_reply(const mail_smtp *s);

/**
 * What mail_smtp_last_reply() answered, as it reads in an error: "greeting",
 * "EHLO", "LHLO", "STARTTLS", "AUTH PLAIN" (the mechanism only),
 * "MAIL FROM:<a@b>", "RCPT TO:<x@y>" (addresses as sent, without
 * parameters), "DATA", "BDAT", "BDAT LAST", "end of data", "end of data for
 * <x@y>" (LMTP), "RSET", "NOOP", "QUIT"; NULL when there is no last reply.
 * Owned by the session, valid as long as the last reply.
 */
MAIL_EXTERN const char *mail_smtp_last_reply_command(const mail_smtp *s);

/** The greeting's text (its lines joined with "\n", without the code),
 *  or NULL before one arrived. Owned by the session; valid until the next
 *  connect or free. (As mail_pop3_greeting().) */
MAIL_EXTERN const char *mail_smtp_greeting(const mail_smtp *s);

/** The protocol state's name ("IDLE", "MAIL", "DATA", ...; for traces). */
MAIL_EXTERN const char *mail_smtp_state_name(const mail_smtp *s);

/* ------------------------------------------------------------------ */
/* Envelope (one transaction)                                           */
/* ------------------------------------------------------------------ */

/** DSN NOTIFY bits (RFC 3461); NEVER excludes the others. */
typedef enum mail_smtp_notify {
  MAIL_SMTP_NOTIFY_NEVER = 0x1,   /**< no notification at all */
  MAIL_SMTP_NOTIFY_SUCCESS = 0x2, /**< on delivery */
  MAIL_SMTP_NOTIFY_FAILURE = 0x4, /**< on failure */
  MAIL_SMTP_NOTIFY_DELAY = 0x8    /**< when delivery is delayed */
} mail_smtp_notify;

/** DSN RET values. */
typedef enum mail_smtp_ret {
  MAIL_SMTP_RET_DEFAULT = 0, /**< no RET parameter: the server chooses */
  MAIL_SMTP_RET_FULL = 1,    /**< RET=FULL: the whole message in a failure report */
  MAIL_SMTP_RET_HDRS = 2     /**< RET=HDRS: its headers only */
} mail_smtp_ret;

/** Recipient policies. */
typedef enum mail_smtp_policy {
  MAIL_SMTP_POLICY_ANY = 0, /**< send when at least one recipient is accepted (default) */
  MAIL_SMTP_POLICY_ALL = 1 /**< all-or-nothing: DATA only when every RCPT was accepted */
} mail_smtp_policy;

/** What a callback body needs from the server (same values as MAIL_MIME_NEEDS_*). */
typedef enum mail_smtp_needs {
  MAIL_SMTP_NEEDS_8BIT = 0x1, /**< 8-bit bytes in the body: BODY=8BITMIME */
  MAIL_SMTP_NEEDS_BINARY = 0x2, /**< binary content: BODY=BINARYMIME with BDAT */
  MAIL_SMTP_NEEDS_SMTPUTF8 = 0x4 /**< UTF-8 in headers: SMTPUTF8 */
} mail_smtp_needs;

/** Size of a callback body the caller does not know. */
#define MAIL_SMTP_SIZE_UNKNOWN UINT64_MAX

/** Body read callback: fill buf with up to cap bytes, store the count in
 *  *got (0 = end of the body) and return 0; anything else fails the send
 *  with MAIL_ERR_CALLBACK. (Same shape as mail_mime_read_fn.) */
typedef int (*mail_smtp_read_fn)(void *user, unsigned char *buf, size_t cap, size_t *got);

/** Create an empty envelope. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_smtp_envelope_new(mail_smtp_envelope **out, const mail_allocator *alloc);
/** Free an envelope (not the body source). NULL is fine. */
MAIL_EXTERN void mail_smtp_envelope_free(mail_smtp_envelope *e);

/**
 * Envelope sender (copied). "" is the null reverse-path "<>". The address
 * is an addr-spec without angle brackets: a dot-atom or quoted local part,
 * "@", a domain (UTF-8 allowed). MAIL_ERR_INVALID (NULL, CR, LF, NUL — also
 * inside a quoted local part), MAIL_ERR_SYNTAX (malformed), MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_smtp_envelope_set_from(mail_smtp_envelope *e, const char *address);

/** Add a recipient (copied; errors as _set_from, "" is refused with
 *  MAIL_ERR_SYNTAX). *index (may be NULL) gets its index. */
MAIL_EXTERN int mail_smtp_envelope_add_recipient(mail_smtp_envelope *e, const char *address,
                                                 size_t *index);

/** DSN NOTIFY for recipient index (MAIL_SMTP_NOTIFY_* bits; 0 = none).
 *  MAIL_ERR_INVALID for a bad index or NEVER combined with others. */
MAIL_EXTERN int mail_smtp_envelope_set_notify(mail_smtp_envelope *e, size_t index, unsigned int notify);

/** DSN ORCPT for recipient index: the original address, sent as
 *  "rfc822;" + xtext. NULL removes it. MAIL_ERR_INVALID (CR/LF/NUL, bad index). */
MAIL_EXTERN int mail_smtp_envelope_set_orcpt(mail_smtp_envelope *e, size_t index, const char *address);

/** DSN RET (MAIL_SMTP_RET_*). MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_envelope_set_ret(mail_smtp_envelope *e, int ret);

/** DSN ENVID (printable ASCII, at most 100 characters, sent as xtext).
 *  NULL removes it. MAIL_ERR_INVALID (CR/LF/NUL, non-ASCII, too long). */
MAIL_EXTERN int mail_smtp_envelope_set_envid(mail_smtp_envelope *e, const char *envid);

/** REQUIRETLS (RFC 8689): send only over verified TLS to a server that
 *  advertises it, else MAIL_ERR_REQUIRETLS before anything is sent. */
MAIL_EXTERN int mail_smtp_envelope_set_requiretls(mail_smtp_envelope *e, int on);

/** Declare that the message needs SMTPUTF8 (UTF-8 in its headers) even
 * when no address does: the SMTPUTF8 parameter is sent, and without
 * server support the send fails with MAIL_ERR_NEEDS_SMTPUTF8. (MIME and
 * callback bodies declare this through their needs already.) */
MAIL_EXTERN int mail_smtp_envelope_set_smtputf8(mail_smtp_envelope *e, int on);

/** MAIL_SMTP_POLICY_ANY (default) or MAIL_SMTP_POLICY_ALL. MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_envelope_set_policy(mail_smtp_envelope *e, int policy);

/**
 * Body from a MIME builder message (borrowed: it must outlive the send and
 * not be used meanwhile). This freezes the message (set its options, e.g.
 * MAIL_MIME_OPT_8BITMIME when mail_smtp_has_capability(s, "8BITMIME"),
 * before; mail_smtp_send_mime() does that from the server's EHLO). Its
 * exact size and needs (8-bit, binary, SMTPUTF8) go on MAIL FROM; it is
 * read once, as it is sent (rewound when sent again). Errors of
 * mail_mime_builder_size().
 * MAIL_ERR_UNSUPPORTED when built without MIME. Replaces an earlier body.
 */
MAIL_EXTERN int mail_smtp_envelope_set_body_mime(mail_smtp_envelope *e, struct mail_mime_builder *msg);

/**
 * Take the envelope from a MIME builder message: its From address as the
 * sender (unless one was set) and its To, Cc and Bcc addresses as
 * recipients, added after any already there. Does not set the body.
 * MAIL_ERR_NOT_FOUND when the message has no From, MAIL_ERR_UNSUPPORTED
 * when built without MIME; address errors as _add_recipient().
 */
MAIL_EXTERN int mail_smtp_envelope_add_mime_addresses(mail_smtp_envelope *e,
                                                      struct mail_mime_builder *msg);

/**
 * Body from a read callback, pulled as it is sent (never held whole).
 * size: the exact size in bytes, or MAIL_SMTP_SIZE_UNKNOWN (no SIZE=
 * then; BDAT ends with an empty LAST chunk); with BDAT a source that
 * delivers another count than a declared size fails with MAIL_ERR_CALLBACK.
 * needs: MAIL_SMTP_NEEDS_* bits. Replaces an earlier body.
 */
MAIL_EXTERN int mail_smtp_envelope_set_body_callback(mail_smtp_envelope *e, mail_smtp_read_fn read,
                                                     void *user, uint64_t size, unsigned int needs);

/**
 * Body from memory (borrowed, not copied: it must outlive the send). Needs
 * 8BITMIME when it holds a byte >= 0x80 (detected here). Replaces an
 * earlier body. MAIL_ERR_INVALID when data is NULL with len > 0.
 */
MAIL_EXTERN int mail_smtp_envelope_set_body_data(mail_smtp_envelope *e, const void *data, size_t len);

/** Number of recipients. */
MAIL_EXTERN size_t mail_smtp_envelope_recipient_count(const mail_smtp_envelope *e);
/** Address of recipient i as given, or NULL. */
MAIL_EXTERN const char *mail_smtp_envelope_recipient_address(const mail_smtp_envelope *e, size_t i);

/**
 * Outcome for recipient i after mail_smtp_send(): MAIL_OK (the server
 * accepted the message for it; for LMTP, its own final reply was 2xx),
 * MAIL_ERR_SERVER (refused at RCPT or by the final reply),
 * MAIL_ERR_NOT_ATTEMPTED (not sent yet, not attempted, or accepted at RCPT
 * but nothing was sent: policy ALL, or the transaction failed before the
 * data), MAIL_ERR_NOT_FOUND (bad i).
 */
MAIL_EXTERN int mail_smtp_envelope_recipient_status(const mail_smtp_envelope *e, size_t i);
/** The reply code that decided recipient i (the RCPT reply when refused
 *  there, else the final reply), or 0 when none. */
MAIL_EXTERN int mail_smtp_envelope_recipient_code(const mail_smtp_envelope *e, size_t i);
/** Its enhanced status code; MAIL_OK or MAIL_ERR_NOT_FOUND. Out pointers may be NULL. */
MAIL_EXTERN int mail_smtp_envelope_recipient_enhanced(const mail_smtp_envelope *e, size_t i,
                                                      unsigned int *cls, unsigned int *subject,
                                                      unsigned int *detail);
/** Its reply text (lines joined with "\n"), or "" when none; valid until
 *  the envelope is sent again or freed. */
MAIL_EXTERN const char *mail_smtp_envelope_recipient_text(const mail_smtp_envelope *e, size_t i);

/* ------------------------------------------------------------------ */
/* Batch: many messages on one session                                  */
/* ------------------------------------------------------------------ */

/** A list of messages sent one after another on one session (opaque). */
typedef struct mail_smtp_batch mail_smtp_batch;

/**
 * Called once for every message of a batch, in batch order, as its
 * outcome is known (a message refused locally, which is known at once, is
 * reported after the ones ahead of it): index in the batch, its envelope
 * (per-recipient results filled in) and its result (as
 * mail_smtp_batch_result()). Returning non-zero
 * cancels the rest of the batch (MAIL_ERR_CANCELLED, the connection is
 * closed; the messages not complete get their callback with their result).
 */
typedef int (*mail_smtp_batch_fn)(void *user, size_t index, mail_smtp_envelope *env, int result);

/** Create an empty batch. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_smtp_batch_new(mail_smtp_batch **out, const mail_allocator *alloc);
/** Free a batch (not its envelopes or messages). NULL is fine. */
MAIL_EXTERN void mail_smtp_batch_free(mail_smtp_batch *b);

/**
 * Append a message: an envelope with its body set (borrowed: it must
 * outlive the send and not be used meanwhile). *index (may be NULL) gets
 * its index. MAIL_ERR_INVALID (NULL), MAIL_ERR_STATE while the batch is
 * being sent, MAIL_ERR_NOMEM, MAIL_ERR_LIMIT (more than SIZE_MAX / 64).
 */
MAIL_EXTERN int mail_smtp_batch_add(mail_smtp_batch *b, mail_smtp_envelope *env, size_t *index);

/**
 * Append a MIME builder message (borrowed), sent as mail_smtp_send_mime()
 * sends it: its body options are chosen from the server's EHLO when its
 * turn comes, and an envelope without recipients takes its addresses from
 * the message. Errors as mail_smtp_batch_add(); MAIL_ERR_UNSUPPORTED when
 * built without MIME.
 */
MAIL_EXTERN int mail_smtp_batch_add_mime(mail_smtp_batch *b, mail_smtp_envelope *env,
                                         struct mail_mime_builder *msg, size_t *index);

/** Per-message callback (see mail_smtp_batch_fn); fn NULL removes it.
 *  MAIL_ERR_INVALID for a NULL b, MAIL_ERR_STATE while it is being sent. */
MAIL_EXTERN int mail_smtp_batch_set_callback(mail_smtp_batch *b, mail_smtp_batch_fn fn, void *user);

/** Number of messages. */
MAIL_EXTERN size_t mail_smtp_batch_count(const mail_smtp_batch *b);

/**
 * Outcome of message i after mail_smtp_send_batch(): what mail_smtp_send()
 * would have returned for it alone — MAIL_OK, MAIL_ERR_PARTIAL,
 * MAIL_ERR_RECIPIENTS, MAIL_ERR_SERVER (MAIL FROM, DATA or the final reply
 * refused), a local refusal (MAIL_ERR_INVALID, MAIL_ERR_TOO_BIG,
 * MAIL_ERR_UNSUPPORTED, MAIL_ERR_NEEDS_SMTPUTF8, MAIL_ERR_REQUIRETLS,
 * MAIL_ERR_CALLBACK for a MIME body that could not be rewound: nothing of
 * it was sent), or the fatal code that ended the session while its data
 * was out and its final reply was not in (a 421 answering its data gives
 * MAIL_ERR_SERVER_CLOSING; the server may or may not have taken it after
 * a MAIL_ERR_CLOSED or MAIL_ERR_TIMEOUT) —, MAIL_ERR_NOT_ATTEMPTED (not
 * sent yet, or the session ended before its data went out: safe to send
 * again), MAIL_ERR_NOT_FOUND (bad i).
 */
MAIL_EXTERN int mail_smtp_batch_result(const mail_smtp_batch *b, size_t i);

/** The reply code that decided message i's failure (MAIL FROM's, the
 *  first refused RCPT's, DATA's or the final reply's), or 0 (success, a
 *  local refusal, not attempted, bad i). */
MAIL_EXTERN int mail_smtp_batch_code(const mail_smtp_batch *b, size_t i);

/** The description of message i's failure, as mail_conn_last_error()
 *  reads after a failed mail_smtp_send() ("RCPT TO:<x@y>: 550 5.1.1 User
 *  unknown"), or "" (success, not attempted, bad i). Owned by the batch,
 *  valid until it is sent again or freed. */
MAIL_EXTERN const char *mail_smtp_batch_error(const mail_smtp_batch *b, size_t i);

/**
 * Send every message of b, in order, on one session. With PIPELINING
 * (and mail_smtp_set_pipelining() on) each message's MAIL FROM, RCPT TO
 * and DATA go out in the same write as the previous message's end of data
 * (RFC 2920 3.1), so a message costs one round trip; with BDAT the next
 * message follows once the previous one's envelope is accepted and its
 * data is queued. Without PIPELINING, and over LMTP, each message begins
 * once the previous one is complete, as mail_smtp_send() in a loop would.
 *
 * Each message is checked locally when its turn comes and sent as
 * mail_smtp_send() sends it (same checks, body streaming with bounded
 * memory, per-recipient results in its envelope). A message's failure
 * never affects the next: a transaction refused before its data is ended
 * with RSET (in the same write as the next message's commands), one
 * refused by the final reply needs none. Results go to the callback as
 * each message completes and stay readable (mail_smtp_batch_result()).
 *
 * Returns MAIL_OK (every message MAIL_OK), MAIL_ERR_PARTIAL (all were
 * tried, some not delivered to every recipient; the session's error
 * names the first), MAIL_ERR_INVALID (NULL s or b, or an empty batch),
 * MAIL_ERR_STATE, MAIL_ERR_CANCELLED (by the callback, or
 * mail_smtp_cancel()), or a fatal code that ended the session (a 421 gives
 * MAIL_ERR_SERVER_CLOSING): the messages not complete then are
 * MAIL_ERR_NOT_ATTEMPTED or, when their data was out, that code. In
 * event-loop mode call it again with the same arguments while it returns
 * MAIL_ERR_AGAIN. A batch may be sent again (results start over).
 */
MAIL_EXTERN int mail_smtp_send_batch(mail_smtp *s, mail_smtp_batch *b);

/* ------------------------------------------------------------------ */
/* Retry: one message sent again after a temporary failure (alerts)     */
/* ------------------------------------------------------------------ */

/** The mail_smtp_retry version this header declares (its version member). */
#define MAIL_SMTP_RETRY_VERSION 1

/**
 * Open the session for a retry: connect (mail_smtp_connect(),
 * mail_smtp_connect_url(), or a user transport's own set-up first) and
 * authenticate when needed. Called before the first attempt when the
 * session is not connected, and again after every lost link. Returns
 * MAIL_OK or the status of the call that failed: a temporary one (see
 * mail_smtp_send_retry()) is retried, any other ends the retry with it.
 */
typedef int (*mail_smtp_reconnect_fn)(void *user, mail_smtp *s);

/**
 * Wait ms milliseconds before the next attempt. Return 0 to go on, or
 * non-zero to stop (mail_smtp_send_retry() then gives MAIL_ERR_CANCELLED).
 * A device waits its own way here (an RTOS delay, a low-power sleep); a
 * test advances its fake clock (mail_conn_set_clock()) and returns at once.
 */
typedef int (*mail_smtp_wait_fn)(void *user, int ms);

/**
 * How mail_smtp_send_retry() tries again. Fill with
 * mail_smtp_retry_init(&p, MAIL_SMTP_RETRY_VERSION) and change what you
 * need; later versions only append members.
 *
 * The wait before attempt n+1 (n >= 1) is drawn evenly from [d/2, d],
 * where d = first_delay_ms * 2^(n-1), capped at max_delay_ms: exponential
 * backoff with jitter, so that many devices failing together do not come
 * back together. The jitter comes from seed (a fixed seed gives the same
 * waits on every run) or, when seed is 0, from the connection's random
 * source (mail_conn_set_random(): the crypto hook's random on a device).
 */
typedef struct mail_smtp_retry {
  unsigned int version;      /**< MAIL_SMTP_RETRY_VERSION (1) */
  unsigned int max_attempts; /**< attempts in all, the first included (default 5; 1: no retry) */
  int first_delay_ms;        /**< the wait before the second attempt, before jitter (default 1000) */
  int max_delay_ms;          /**< the longest wait, before jitter (default 60000) */
  int deadline_ms;           /**< time budget from the call, on the connection's monotonic clock:
                                  no wait or attempt starts that would end past it
                                  (default 300000; -1: none) */
  uint64_t seed;             /**< jitter seed; 0 (default): the connection's random source */
  mail_smtp_reconnect_fn reconnect; /**< opens the session; NULL (default): a lost link is not retried */
  void *reconnect_user;      /**< passed to reconnect */
  mail_smtp_wait_fn wait;    /**< waits between attempts; NULL (default): the library sleeps
                                  (MAIL_ERR_UNSUPPORTED from the first wait in a build whose
                                  C library has no nanosleep(): bare metal sets its own) */
  void *wait_user;           /**< passed to wait */
} mail_smtp_retry;

/**
 * Fill *policy with the defaults documented in mail_smtp_retry for the
 * given version and set policy->version. MAIL_ERR_INVALID for NULL or an
 * unknown version. Does not block.
 */
MAIL_EXTERN int mail_smtp_retry_init(mail_smtp_retry *policy, unsigned int version);

/**
 * Send one message, trying again after a temporary failure: a small helper
 * for a device's alert, not a queue (nothing outlives the call). Each
 * attempt is mail_smtp_send() (connecting first through policy->reconnect
 * when the session is not connected); between attempts it waits as the
 * policy says (policy NULL: the defaults, with no reconnect). The session
 * and the envelope are the caller's, borrowed for the call; the policy is
 * read during the call only.
 *
 * Retried (temporary): a 4xx reply to MAIL FROM, DATA or the end of data
 * (MAIL_ERR_SERVER with a 4xx last reply; the session stays connected and
 * the next attempt uses it), every refused recipient refused with 4xx
 * (MAIL_ERR_RECIPIENTS, nothing was sent: greylisting), a 421 or a lost
 * link (MAIL_ERR_SERVER_CLOSING, MAIL_ERR_CLOSED, MAIL_ERR_IO,
 * MAIL_ERR_TIMEOUT, MAIL_ERR_CONNECT, MAIL_ERR_RESOLVE,
 * MAIL_ERR_TOO_MANY_CONNECTIONS: only with a reconnect callback), and the
 * same statuses from reconnect. Never retried: a 5xx reply, a partial
 * delivery (MAIL_ERR_PARTIAL: sending again would reach the accepted
 * recipients twice), local refusals, TLS, STARTTLS and authentication
 * failures, MAIL_ERR_CANCELLED: those return at once.
 *
 * A link lost after the end of data and before its reply leaves it
 * unknown whether the server took the message; it is sent again, so a
 * recipient may get an alert twice (at least once, rather than at most
 * once). An attempt already running is bounded by the session's
 * timeouts (mail_smtp_set_timeouts()), not cut short by the deadline.
 *
 * Returns MAIL_OK (delivered, on whichever attempt), or the last attempt's
 * status when the attempts or the deadline ran out, with its reply and
 * error kept as mail_smtp_send() keeps them; MAIL_ERR_INVALID (NULL s or
 * e, a policy of an unknown version or with max_attempts 0, a callback
 * body: only memory and MIME bodies can be sent again), MAIL_ERR_STATE
 * (event-loop mode: this helper blocks, in its waits too; an operation in
 * progress), MAIL_ERR_CANCELLED (the wait callback stopped it),
 * MAIL_ERR_UNSUPPORTED (see mail_smtp_retry.wait). Each retry is noted
 * in the trace ("retry 2 of 5 in 1234 ms: ..."). Blocks.
 */
MAIL_EXTERN int mail_smtp_send_retry(mail_smtp *s, mail_smtp_envelope *e,
                                     const mail_smtp_retry *policy);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_SMTP_H */

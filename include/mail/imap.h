/*
 * libmail — IMAP client session (RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1,
 * RFC 2595 STARTTLS, RFC 4959 SASL-IR, RFC 7888 LITERAL+/LITERAL-,
 * RFC 5161 ENABLE, RFC 2971 ID, RFC 3691 UNSELECT), built on the public
 * response parser (mail/imap_parse.h).
 *
 * A mail_imap session owns one mail_conn (mail_imap_conn(): trace, limits,
 * timeouts, TLS settings, user transport, non-blocking mode) and one
 * mail_sasl (mail_imap_sasl(): OAuth tokens, mechanism allow-list,
 * channel-binding preference). The protocol engine does no I/O of its own:
 * every operation queues tagged commands and is run by the connection's
 * driver. Commands carry tags "A1", "A2", ...; replies are matched to the
 * command in flight by tag, so several commands may be in flight at once.
 *
 *   mail_imap_new(&im, NULL);
 *   mail_imap_set_auth(im, "alice", "pw");
 *   mail_imap_connect_url(im, "imap://mail.example.org/INBOX"); // STARTTLS required
 *   mail_imap_login(im);
 *   mail_imap_select(im, mail_imap_url_mailbox(im), 0);
 *   mail_imap_logout(im);
 *   mail_imap_free(im);
 *
 * Blocking or event loop (as for POP3 and SMTP): by default each operation
 * blocks until it is done or a deadline of the connection passes. After
 * mail_conn_set_nonblocking(mail_imap_conn(im), 1) an operation may return
 * MAIL_ERR_AGAIN: wait until mail_conn_fd() is ready for mail_conn_want()
 * (or mail_conn_timeout_ms() passes) and call THE SAME FUNCTION again; it
 * resumes where it stopped (its arguments are not looked at again: the
 * strings given to the first call must stay valid until the operation
 * returns). Another operation meanwhile gives MAIL_ERR_STATE.
 *
 * Security: imap:// (MAIL_SECURITY_STARTTLS, the default) requires
 * STARTTLS. When the server does not offer it, answers NO or BAD or a
 * continuation instead of OK, or greets with PREAUTH over plaintext, the
 * connection ends with MAIL_ERR_STARTTLS before any credential is sent.
 * Bytes after the STARTTLS OK and before the handshake are
 * MAIL_ERR_STARTTLS_INJECTION. Everything learned before TLS (capabilities,
 * ALERT, EXISTS, ...) is dropped and CAPABILITY is asked again after it;
 * untagged responses received before TLS reach the callback with
 * trusted = 0. Referrals are never followed. LOGIN is refused
 * (MAIL_ERR_INSECURE) unless the link is TLS-verified or
 * mail_sasl_set_allow_insecure_plaintext() says otherwise, and never used
 * when the server lists LOGINDISABLED. A string argument holding CR or LF
 * (a mailbox name under UTF8=ACCEPT, a SEARCH string, a LOGIN password,
 * an ID value) goes out as a literal, never as command text
 * (synchronizing, or LITERAL+ / LITERAL- for up to 4096 bytes when
 * offered); without UTF8=ACCEPT a mailbox name is modified UTF-7, where CR
 * and LF are base64. Arguments are C strings, so none holds NUL; counted
 * strings (SEARCH, FETCH syntax) holding one are MAIL_ERR_INVALID and
 * nothing is sent.
 *
 * Line length: no command line is longer than mail_imap_max_line_length()
 * (literal data not counted). A command over a set (FETCH, STORE, COPY,
 * MOVE, UID EXPUNGE, mail_imap_search_within()) whose set does not fit
 * becomes several commands, pipelined; any other command that would be
 * longer is MAIL_ERR_TOO_BIG, with nothing sent (the session goes on).
 *
 * Extensions: a call that needs a capability the server does not list
 * returns MAIL_ERR_UNSUPPORTED with nothing sent, and
 * mail_conn_last_error() says "<CAPABILITY> is not offered by this server".
 * More extension commands are in mail/imap_ext.h.
 *
 * Errors: a tagged NO or BAD gives MAIL_ERR_SERVER (MAIL_ERR_AUTH when a
 * login was refused for the credentials, MAIL_ERR_THROTTLED for
 * [THROTTLED], MAIL_ERR_SERVER_LIMIT for [LIMIT], MAIL_ERR_TOO_MANY_CONNECTIONS
 * when the server refuses the session for its connection count); the
 * tagged reply stays available from mail_imap_last_status() and
 * friends. An untagged BYE outside LOGOUT ends the session with
 * MAIL_ERR_SERVER_CLOSING. Fatal codes (mail_status_is_fatal()) leave the
 * session closed.
 *
 * Threading: a session is used by one thread at a time.
 */
#ifndef MAIL_IMAP_H
#define MAIL_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/conn.h>
#include <mail/imap_parse.h>
#include <mail/sasl.h>

struct mail_mime_builder; /* mail/mime_build.h, when MIME is built */

#ifdef __cplusplus
extern "C" {
#endif

/** An IMAP client session (opaque). */
typedef struct mail_imap mail_imap;

/** Session states (mail_imap_get_state()). */
typedef enum mail_imap_state_id {
  MAIL_IMAP_STATE_DISCONNECTED = 0,      /**< no connection */
  MAIL_IMAP_STATE_CONNECTING = 1,        /**< greeting, CAPABILITY, STARTTLS in progress */
  MAIL_IMAP_STATE_NOT_AUTHENTICATED = 2, /**< connected, not logged in */
  MAIL_IMAP_STATE_AUTHENTICATING = 3,    /**< a login is in progress */
  MAIL_IMAP_STATE_AUTHENTICATED = 4,     /**< logged in, no mailbox selected */
  MAIL_IMAP_STATE_SELECTED = 5,          /**< a mailbox is selected */
  MAIL_IMAP_STATE_LOGOUT = 6             /**< LOGOUT sent */
} mail_imap_state_id;

/** How mail_imap_login() logs in (mail_imap_set_auth_method()). */
typedef enum mail_imap_auth_method {
  /** AUTHENTICATE when the server lists a usable AUTH= mechanism, else
   *  LOGIN (unless LOGINDISABLED). The default. */
  MAIL_IMAP_AUTH_AUTO = 0,
  MAIL_IMAP_AUTH_SASL = 1,  /**< AUTHENTICATE only */
  MAIL_IMAP_AUTH_LOGIN = 2  /**< LOGIN only */
} mail_imap_auth_method;

/** Numbers of the selected mailbox (mail_imap_mailbox_number()). */
typedef enum mail_imap_mailbox_field {
  MAIL_IMAP_MAILBOX_EXISTS = 0,        /**< messages (EXISTS, less EXPUNGEs since) */
  MAIL_IMAP_MAILBOX_RECENT = 1,        /**< messages with \Recent (rev1 only) */
  MAIL_IMAP_MAILBOX_UIDVALIDITY = 2,   /**< UIDVALIDITY: UIDs are valid while it stays */
  MAIL_IMAP_MAILBOX_UIDNEXT = 3,       /**< the UID the next message will get (at least) */
  MAIL_IMAP_MAILBOX_HIGHESTMODSEQ = 4, /**< RFC 7162 (0 without CONDSTORE) */
  MAIL_IMAP_MAILBOX_UNSEEN = 5         /**< first unseen message (rev1's [UNSEEN]) */
} mail_imap_mailbox_field;

/** Flag lists of the selected mailbox (mail_imap_mailbox_flag()). */
typedef enum mail_imap_flag_list {
  MAIL_IMAP_FLAGS_DEFINED = 0,         /**< the FLAGS response */
  MAIL_IMAP_FLAGS_PERMANENT = 1        /**< the PERMANENTFLAGS code */
} mail_imap_flag_list;

/**
 * Receives every untagged response and continuation not consumed by the
 * command in flight (EXISTS, EXPUNGE, FETCH, VANISHED, BYE, ALERT in an
 * OK, LIST, STATUS, SEARCH, ID ...), after it has been applied to the
 * selected mailbox's state, whatever command is in flight. r is valid
 * during the call only (read it with the mail_imap_response_* accessors).
 * trusted is 0 for what arrived before TLS was in place (before the
 * STARTTLS handshake, or on a connection without TLS at all): an ALERT
 * then must not be shown as the server's word. Return 0 to go on; anything else ends the operation with
 * MAIL_ERR_CALLBACK once its tagged reply is read.
 */
typedef int (*mail_imap_untagged_fn)(void *user, const mail_imap_response *r, int trusted);

/* ------------------------------------------------------------------ */
/* Session and settings                                                 */
/* ------------------------------------------------------------------ */

/**
 * Create a session (with its connection, SASL handle and response
 * parser). alloc may be NULL; it is copied and used for everything the
 * session allocates. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_imap_new(mail_imap **out, const mail_allocator *alloc);

/** Close the connection (without LOGOUT), wipe the credentials and free. NULL is fine. */
MAIL_EXTERN void mail_imap_free(mail_imap *im);

/** The session's connection (owned by the session). NULL for NULL. */
MAIL_EXTERN mail_conn *mail_imap_conn(mail_imap *im);

/** The session's SASL handle (owned by the session). NULL for NULL. */
MAIL_EXTERN mail_sasl *mail_imap_sasl(mail_imap *im);

/** How the connection is protected (mail_security); default
 *  MAIL_SECURITY_STARTTLS. MAIL_ERR_INVALID, MAIL_ERR_STATE while connected. */
MAIL_EXTERN int mail_imap_set_security(mail_imap *im, int security);

/**
 * User name and password for LOGIN and SASL (copied into the SASL handle).
 * password may be NULL (OAuth, EXTERNAL). MAIL_ERR_INVALID when user is
 * NULL or holds CR or LF (the SASL handle's rule for identities). The
 * password may hold CR and LF: LOGIN sends it as a literal (never as
 * command text), SASL in base64 (a mechanism may still refuse it, e.g.
 * SCRAM's SASLprep).
 */
MAIL_EXTERN int mail_imap_set_auth(mail_imap *im, const char *user, const char *password);

/** mail_imap_auth_method; MAIL_ERR_INVALID for an unknown value. */
MAIL_EXTERN int mail_imap_set_auth_method(mail_imap *im, int method);

/** Set (fn NULL: clear) the callback for untagged responses. MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_imap_set_untagged_callback(mail_imap *im, mail_imap_untagged_fn fn,
                                                void *user);

/** The state (mail_imap_state_id); DISCONNECTED for NULL. */
MAIL_EXTERN int mail_imap_get_state(const mail_imap *im);

/** The state's name ("SELECTED", ...), for logs. Never NULL. */
MAIL_EXTERN const char *mail_imap_state_name(const mail_imap *im);

/* ------------------------------------------------------------------ */
/* Connecting and logging in                                            */
/* ------------------------------------------------------------------ */

/**
 * Connect (port 0: 143, or 993 for MAIL_SECURITY_IMPLICIT_TLS), read the
 * greeting, learn the capabilities (from the greeting's code or
 * CAPABILITY) and run STARTTLS as security requires (see the top). A
 * PREAUTH greeting (over TLS, or when TLS is not required) leaves the
 * session AUTHENTICATED. A BYE greeting gives MAIL_ERR_SERVER_CLOSING, or
 * MAIL_ERR_TOO_MANY_CONNECTIONS when it says so. Blocks unless
 * non-blocking.
 */
MAIL_EXTERN int mail_imap_connect(mail_imap *im, const char *host, unsigned int port,
                                  int security);

/**
 * Connect to "imap://[user[:password]@]host[:port][/mailbox]" (STARTTLS
 * required unless the session's security says otherwise) or "imaps://..."
 * (implicit TLS). The user (and password) become the credentials; the
 * mailbox (percent-decoded) is kept for mail_imap_url_mailbox().
 * MAIL_ERR_SYNTAX for a malformed URL; otherwise as mail_imap_connect().
 */
MAIL_EXTERN int mail_imap_connect_url(mail_imap *im, const char *url);

/** The mailbox named by the last URL connected to, or NULL. */
MAIL_EXTERN const char *mail_imap_url_mailbox(const mail_imap *im);

/**
 * Log in (mail_imap_set_auth_method()): AUTHENTICATE through the SASL
 * engine (SASL-IR when offered; the XOAUTH2/OAUTHBEARER error challenge is
 * answered and the login fails with MAIL_ERR_AUTH, after the OAuth refresh
 * retry when a token callback is set; a channel-binding mechanism refused
 * is retried once without channel binding) or LOGIN. Capabilities are
 * read again afterwards (from the OK's code or CAPABILITY). MAIL_ERR_AUTH,
 * MAIL_ERR_INSECURE, MAIL_ERR_NO_MECHANISM, MAIL_ERR_STATE (not
 * NOT_AUTHENTICATED), MAIL_ERR_INVALID (no user name).
 */
MAIL_EXTERN int mail_imap_login(mail_imap *im);

/** Ask CAPABILITY again. MAIL_OK, MAIL_ERR_SERVER (NO/BAD), MAIL_ERR_STATE, fatal errors. */
MAIL_EXTERN int mail_imap_capability(mail_imap *im);

/** 1 when the server's last capability list holds name (ASCII case ignored), else 0. */
MAIL_EXTERN int mail_imap_has_capability(const mail_imap *im, const char *name);

/** The capability list as one space-separated string, NULL when unknown. */
MAIL_EXTERN const char *mail_imap_capabilities(const mail_imap *im);

/** The greeting's text (after its code), NULL before one. */
MAIL_EXTERN const char *mail_imap_greeting(const mail_imap *im);

/**
 * ENABLE the n extensions names[0..n) (RFC 5161, e.g. "CONDSTORE",
 * "UTF8=ACCEPT"); the server's ENABLED list is kept (mail_imap_is_enabled()).
 * A bare OK without ENABLED enables the CONDSTORE / QRESYNC asked for and
 * advertised (iCloud; the rule is in mail/imap_sync.h). Names must be
 * atoms (MAIL_ERR_INVALID otherwise). MAIL_ERR_UNSUPPORTED when the server
 * lacks ENABLE.
 */
MAIL_EXTERN int mail_imap_enable(mail_imap *im, const char *const *names, size_t n);

/** 1 when the server said it ENABLED name. */
MAIL_EXTERN int mail_imap_is_enabled(const mail_imap *im, const char *name);

/**
 * ID (RFC 2971): send n field/value pairs (fields[i], values[i]; a NULL
 * value is NIL; n 0 sends NIL). The server's "* ID" reply reaches the
 * untagged callback. MAIL_ERR_UNSUPPORTED without ID.
 */
MAIL_EXTERN int mail_imap_id(mail_imap *im, const char *const *fields, const char *const *values,
                             size_t n);

/** NOOP: lets the server report changes (through the untagged callback). MAIL_OK, MAIL_ERR_SERVER (NO/BAD), MAIL_ERR_STATE, fatal errors. */
MAIL_EXTERN int mail_imap_noop(mail_imap *im);

/** LOGOUT, read the BYE and the tagged OK, close. The session is DISCONNECTED afterwards.
 *  MAIL_OK, MAIL_ERR_STATE (not connected), fatal errors. */
MAIL_EXTERN int mail_imap_logout(mail_imap *im);

/* ------------------------------------------------------------------ */
/* Mailboxes                                                            */
/* ------------------------------------------------------------------ */

/**
 * SELECT (read_only 0) or EXAMINE (read_only 1) mailbox (UTF-8; sent in
 * modified UTF-7 unless UTF8=ACCEPT is enabled). The mailbox's state is
 * reset and filled from the responses (mail_imap_mailbox_number(),
 * mail_imap_mailbox_flag(), mail_imap_mailbox_read_only()) and kept up to
 * date by later untagged responses. On NO the session is AUTHENTICATED.
 */
MAIL_EXTERN int mail_imap_select(mail_imap *im, const char *mailbox, int read_only);

/**
 * A number of the selected mailbox (mail_imap_mailbox_field) into *out.
 * MAIL_OK, MAIL_ERR_NOT_FOUND (the server did not say), MAIL_ERR_STATE
 * (nothing selected), MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_mailbox_number(uint64_t *out, const mail_imap *im, int field);

/** Number of flags in list (mail_imap_flag_list) of the selected mailbox. */
MAIL_EXTERN size_t mail_imap_mailbox_flag_count(const mail_imap *im, int list);

/** Flag i of list (NUL-terminated, e.g. "\\Seen", "\\*"), NULL when out of range. */
MAIL_EXTERN const char *mail_imap_mailbox_flag(const mail_imap *im, int list, size_t i);

/** 1 when the selected mailbox is read-only (EXAMINE, or [READ-ONLY]). */
MAIL_EXTERN int mail_imap_mailbox_read_only(const mail_imap *im);

/** CREATE mailbox. MAIL_OK, MAIL_ERR_SERVER (NO/BAD: mail_imap_last_code() tells
 *  [ALREADYEXISTS] and the like), MAIL_ERR_INVALID, MAIL_ERR_STATE (not logged in), fatal errors. */
MAIL_EXTERN int mail_imap_create(mail_imap *im, const char *mailbox);
/** DELETE mailbox. Statuses as mail_imap_create(). */
MAIL_EXTERN int mail_imap_delete(mail_imap *im, const char *mailbox);
/** RENAME from to. Statuses as mail_imap_create(). */
MAIL_EXTERN int mail_imap_rename(mail_imap *im, const char *from, const char *to);
/** SUBSCRIBE mailbox. Statuses as mail_imap_create(). */
MAIL_EXTERN int mail_imap_subscribe(mail_imap *im, const char *mailbox);
/** UNSUBSCRIBE mailbox. Statuses as mail_imap_create(). */
MAIL_EXTERN int mail_imap_unsubscribe(mail_imap *im, const char *mailbox);
/** CLOSE (expunges \Deleted messages); AUTHENTICATED afterwards. MAIL_ERR_STATE unless SELECTED. */
MAIL_EXTERN int mail_imap_close(mail_imap *im);
/** UNSELECT (RFC 3691; no expunge); MAIL_ERR_UNSUPPORTED without it. */
MAIL_EXTERN int mail_imap_unselect(mail_imap *im);
/** EXPUNGE; the EXPUNGE/VANISHED responses update the mailbox and reach the callback.
 *  MAIL_OK, MAIL_ERR_SERVER, MAIL_ERR_STATE unless SELECTED, fatal errors. */
MAIL_EXTERN int mail_imap_expunge(mail_imap *im);

/* ------------------------------------------------------------------ */
/* Listing and status                                                   */
/* ------------------------------------------------------------------ */

/** RETURN options of mail_imap_list() (bits). */
typedef enum mail_imap_list_return {
  MAIL_IMAP_LIST_SUBSCRIBED = 1,  /**< RFC 5258 (LIST-EXTENDED) */
  MAIL_IMAP_LIST_CHILDREN = 2,    /**< RFC 5258 */
  MAIL_IMAP_LIST_SPECIAL_USE = 4, /**< RFC 6154 */
  MAIL_IMAP_LIST_STATUS = 8,      /**< RFC 5819: MESSAGES UNSEEN UIDNEXT UIDVALIDITY */
  MAIL_IMAP_LIST_MYRIGHTS = 16    /**< RFC 8440 (LIST-MYRIGHTS): a MYRIGHTS response per mailbox */
} mail_imap_list_return;

/** STATUS items of mail_imap_status() (bits). */
typedef enum mail_imap_status_item {
  MAIL_IMAP_STATUS_MESSAGES = 1,      /**< MESSAGES */
  MAIL_IMAP_STATUS_RECENT = 2,        /**< RECENT (rev1 only) */
  MAIL_IMAP_STATUS_UIDNEXT = 4,       /**< UIDNEXT */
  MAIL_IMAP_STATUS_UIDVALIDITY = 8,   /**< UIDVALIDITY */
  MAIL_IMAP_STATUS_UNSEEN = 16,       /**< UNSEEN */
  MAIL_IMAP_STATUS_DELETED = 32,      /**< DELETED (rev2) */
  MAIL_IMAP_STATUS_SIZE = 64,         /**< SIZE (RFC 8438, STATUS=SIZE) */
  MAIL_IMAP_STATUS_HIGHESTMODSEQ = 128, /**< HIGHESTMODSEQ (RFC 7162) */
  MAIL_IMAP_STATUS_APPENDLIMIT = 256, /**< APPENDLIMIT (RFC 7889; MAIL_ERR_UNSUPPORTED without it) */
  MAIL_IMAP_STATUS_MAILBOXID = 512 /**< MAILBOXID (RFC 8474 OBJECTID; MAIL_ERR_UNSUPPORTED without it):
                                        mail_imap_response_status_mailboxid() */
} mail_imap_status_item;

/**
 * LIST reference pattern (UTF-8; "%" and "*" are wildcards), with the
 * RETURN options ret (mail_imap_list_return bits, 0 for none). Each LIST
 * (and STATUS, MYRIGHTS) response reaches the untagged callback. MAIL_ERR_UNSUPPORTED
 * when an option asked for is not offered by the server (nothing is sent).
 */
MAIL_EXTERN int mail_imap_list(mail_imap *im, const char *reference, const char *pattern,
                               unsigned ret);

/** NAMESPACE (RFC 2342); the response reaches the untagged callback. MAIL_OK, MAIL_ERR_SERVER (NO/BAD), MAIL_ERR_STATE, fatal errors. */
MAIL_EXTERN int mail_imap_namespace(mail_imap *im);

/** STATUS mailbox (items: mail_imap_status_item bits); the response reaches the untagged callback. */
MAIL_EXTERN int mail_imap_status(mail_imap *im, const char *mailbox, unsigned items);

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/** A set of message numbers or UIDs (opaque), built by the caller. */
typedef struct mail_imap_seqset mail_imap_seqset;

/** Create an empty set. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_imap_seqset_new(mail_imap_seqset **out, const mail_allocator *alloc);
/** Free a set. NULL is fine. */
MAIL_EXTERN void mail_imap_seqset_free(mail_imap_seqset *s);
/** Empty the set. */
MAIL_EXTERN void mail_imap_seqset_clear(mail_imap_seqset *s);
/** Add first..last (either order; last UINT32_MAX means "*"). 0 is MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_imap_seqset_add_range(mail_imap_seqset *s, uint32_t first, uint32_t last);
/** Add n numbers (any order, duplicates allowed: the set is sorted and merged). */
MAIL_EXTERN int mail_imap_seqset_add(mail_imap_seqset *s, const uint32_t *numbers, size_t n);

/**
 * The longest sequence set one command carries (default 7,800 bytes, for
 * servers' 8,192-byte lines; 32..1 MiB). A longer set becomes several
 * commands, all sent at once and answered by tag. The line bound
 * (mail_imap_set_max_line_length()) may make the pieces shorter still.
 * MAIL_OK, or MAIL_ERR_INVALID (NULL im, bytes out of range).
 */
MAIL_EXTERN int mail_imap_set_max_set_length(mail_imap *im, size_t bytes);

/**
 * The longest command line the session sends, in bytes with its CRLF and
 * without literal data (RFC 7162 4). 0 (the default) means by server:
 * 8,000 for Dovecot (its greeting), 8,192 for a server with CONDSTORE or
 * QRESYNC (RFC 7162 4 makes them take that much), else 1,000 (RFC 2683
 * 3.2.1.5, for servers nothing is known about). Otherwise 128..1 MiB
 * (MAIL_ERR_INVALID). Commands over a set are cut to fit, pipelined, and
 * their replies merged ([COPYUID] and [MODIFIED] sets joined in
 * mail_imap_last_code_data()); any other command that would not fit is
 * refused with MAIL_ERR_TOO_BIG before a byte of it is sent (a quoted
 * string that would not fit goes as a literal instead).
 */
MAIL_EXTERN int mail_imap_set_max_line_length(mail_imap *im, size_t bytes);

/** The command-line bound in force now (see mail_imap_set_max_line_length()); 0 for NULL. */
MAIL_EXTERN size_t mail_imap_max_line_length(const mail_imap *im);

/**
 * FETCH (uid 0) or UID FETCH (uid 1) set items, where items is the
 * caller's FETCH syntax, e.g. "(UID FLAGS ENVELOPE BODYSTRUCTURE)" or
 * "(UID BODY.PEEK[]<0.1024>)" (printable ASCII only: MAIL_ERR_INVALID
 * otherwise). Each FETCH response reaches the untagged callback (typed:
 * mail_imap_fetch_*); BODY[]/BINARY[]/RFC822 values stream to body (may
 * be NULL: they are skipped) and are never held. body returning non-zero
 * ends the session (the stream cannot be resynchronised): MAIL_ERR_CALLBACK.
 * MAIL_ERR_STATE unless SELECTED. MAIL_ERR_UNSUPPORTED (nothing sent) for
 * an item whose extension the server does not list: BINARY[...],
 * BINARY.PEEK, BINARY.SIZE (BINARY), EMAILID, THREADID (OBJECTID),
 * PREVIEW, SAVEDATE, X-GM-MSGID/THRID/LABELS (X-GM-EXT-1).
 */
MAIL_EXTERN int mail_imap_fetch(mail_imap *im, mail_imap_seqset *set, int uid, const char *items,
                                mail_imap_body_fn body, void *user);

/** How mail_imap_store() changes flags. */
typedef enum mail_imap_store_how {
  MAIL_IMAP_STORE_REPLACE = 0, /**< FLAGS */
  MAIL_IMAP_STORE_ADD = 1,     /**< +FLAGS */
  MAIL_IMAP_STORE_REMOVE = 2   /**< -FLAGS */
} mail_imap_store_how;

/**
 * STORE / UID STORE: flags[0..n) ("\Seen", "$Label"; each a flag atom,
 * else MAIL_ERR_INVALID) changed as how says. silent: ".SILENT" (no FETCH
 * back). unchangedsince non-zero: the RFC 7162 modifier (MAIL_ERR_UNSUPPORTED
 * without CONDSTORE); messages changed since come back in the [MODIFIED]
 * code of mail_imap_last_code().
 */
MAIL_EXTERN int mail_imap_store(mail_imap *im, mail_imap_seqset *set, int uid, int how,
                                const char *const *flags, size_t n, int silent,
                                uint64_t unchangedsince);

/**
 * COPY (move 0) or MOVE (move 1; MAIL_ERR_UNSUPPORTED without MOVE) set to
 * mailbox; uid 1 for the UID forms. The [COPYUID] of the last reply is in
 * mail_imap_last_code_data().
 */
MAIL_EXTERN int mail_imap_copy(mail_imap *im, mail_imap_seqset *set, int uid, const char *mailbox,
                               int move);

/** UID EXPUNGE set (UIDPLUS): only those \Deleted messages go. MAIL_OK,
 *  MAIL_ERR_UNSUPPORTED without UIDPLUS, MAIL_ERR_INVALID, MAIL_ERR_STATE
 *  (no mailbox selected), MAIL_ERR_SERVER (NO/BAD) or a fatal code. */
MAIL_EXTERN int mail_imap_uid_expunge(mail_imap *im, mail_imap_seqset *set);

/**
 * SEARCH (uid 0) or UID SEARCH (uid 1). criteria is the caller's search
 * syntax (printable ASCII) in which each "?" stands for the next of
 * args[0..nargs) (any UTF-8 text, sent as a quoted string or a literal),
 * e.g. criteria "UNSEEN SUBJECT ? FROM ?". When an arg is not ASCII,
 * "CHARSET UTF-8" is sent (unless UTF8=ACCEPT is enabled). A server that
 * refuses UTF-8 with [BADCHARSET (list)] is asked once more in a way that
 * keeps the meaning: without CHARSET when every arg is ASCII, or in
 * ISO-8859-1 / windows-1252 when the list names it and every character of
 * the args exists there; otherwise the call ends with MAIL_ERR_CHARSET
 * (the list in mail_imap_last_code_data(), the reason in
 * mail_conn_last_error()): never a search for other text. ret non-NULL
 * asks for ESEARCH results: "RETURN (ret)", e.g. "MIN MAX COUNT"
 * (MAIL_ERR_UNSUPPORTED without ESEARCH). Results (SEARCH or ESEARCH
 * responses) reach the untagged callback. A key whose extension the server
 * does not list is MAIL_ERR_UNSUPPORTED with nothing sent (see
 * mail/imap_ext.h: WITHIN, SEARCHRES, SAVEDATE, X-GM-EXT-1, ...).
 */
MAIL_EXTERN int mail_imap_search(mail_imap *im, int uid, const char *ret, const char *criteria,
                                 const char *const *args, size_t nargs);

/**
 * mail_imap_search() among the messages of set only (message numbers, or
 * UIDs when uid is 1): sent as "UID <set> criteria" (the search keys are
 * ANDed). A set too long for one line becomes several commands, each
 * answered by its own SEARCH (or ESEARCH) response: the union of their
 * numbers is the result. With ret (ESEARCH RETURN), whose MIN, MAX, COUNT
 * would not add up over several commands, such a set is MAIL_ERR_TOO_BIG
 * (nothing sent). MAIL_ERR_INVALID for an empty or NULL set.
 */
MAIL_EXTERN int mail_imap_search_within(mail_imap *im, int uid, const char *ret,
                                        mail_imap_seqset *set, const char *criteria,
                                        const char *const *args, size_t nargs);

/**
 * APPEND a message of exactly size bytes to mailbox, pulled from read
 * (mail_read_fn: called with user until size bytes came, then once
 * more, which must give 0 bytes) in chunks of at most 8 KiB while the
 * output queue has room, so the message is never held whole. flags[0..nflags)
 * are flag names ("\\Seen", "$Forwarded"); internal_date, when not 0, is
 * the message's internal date in seconds since 1970 (sent in UTC).
 * Without LITERAL+ (or LITERAL- for up to 4096 bytes) the literal waits
 * for the server's "+"; a NO instead sends nothing of it
 * (MAIL_ERR_SERVER, the session goes on). A source that fails, or gives
 * fewer or more bytes than size, ends the session with MAIL_ERR_CALLBACK
 * (part of a literal cannot be taken back). Errors: MAIL_ERR_INVALID (a
 * bad mailbox or flag, read NULL), MAIL_ERR_STATE (not logged in), the
 * refusal statuses of the other commands. The [APPENDUID] of the reply is
 * read with mail_imap_append_uid(). Blocks unless non-blocking
 * (MAIL_ERR_AGAIN: call again with the same arguments).
 */
MAIL_EXTERN int mail_imap_append(mail_imap *im, const char *mailbox, const char *const *flags,
                                 size_t nflags, int64_t internal_date, uint64_t size,
                                 mail_read_fn read, void *user);

/**
 * mail_imap_append() of the message msg builds: its exact size from
 * mail_mime_builder_size(), its bytes from the first (the builder is
 * rewound first when its sources allow) pulled in chunks. msg must stay
 * alive and unchanged until the call returns something other than
 * MAIL_ERR_AGAIN. Errors as
 * mail_imap_append() plus those of mail_mime_builder_size();
 * MAIL_ERR_UNSUPPORTED in a build without MIME (mail_imap_append() with a
 * read callback works there).
 */
MAIL_EXTERN int mail_imap_append_builder(mail_imap *im, const char *mailbox,
                                         const char *const *flags, size_t nflags,
                                         int64_t internal_date,
                                         struct mail_mime_builder *msg);

/**
 * The [APPENDUID uidvalidity uid] (UIDPLUS) of the last successful
 * APPEND: the mailbox's UIDVALIDITY and the new message's UID.
 * MAIL_ERR_NOT_FOUND when the reply had none, MAIL_ERR_INVALID for NULL.
 */
MAIL_EXTERN int mail_imap_append_uid(uint32_t *uidvalidity, uint32_t *uid, const mail_imap *im);

/**
 * IDLE (RFC 2177; MAIL_ERR_UNSUPPORTED without IDLE or IMAP4rev2), in the
 * authenticated or selected state. Sends IDLE and, after the server's
 * "+", delivers what it sends (EXISTS, EXPUNGE, FETCH, ...) through the
 * untagged callback and applies it to the selected mailbox's state. Every
 * idle interval (mail_imap_set_idle_interval(), default 25 minutes, on the
 * connection's clock) it sends DONE and a new IDLE. It ends with MAIL_OK
 * once stopped (mail_imap_idle_done() or mail_imap_idle_stop()) and the
 * server's tagged OK has come; a BYE ends the session
 * (MAIL_ERR_SERVER_CLOSING). Blocking mode: returns only then (the I/O
 * timeout does not end a quiet IDLE). Event-loop mode: returns
 * MAIL_ERR_AGAIN; the caller's loop waits on mail_conn_want() and
 * mail_conn_timeout_ms() (which counts down to the re-issue), and for
 * reading on mail_conn_wake_fd() (a mail_imap_idle_stop() from anywhere),
 * and calls mail_imap_idle_start() again to go on, or mail_imap_idle_done()
 * to end.
 */
MAIL_EXTERN int mail_imap_idle_start(mail_imap *im);

/**
 * End the IDLE in progress from the thread running the session (its event
 * loop): sends DONE and runs, like mail_imap_idle_start(), until the
 * tagged OK (MAIL_OK, or MAIL_ERR_AGAIN: call either again).
 * MAIL_ERR_STATE when no IDLE is in progress.
 */
MAIL_EXTERN int mail_imap_idle_done(mail_imap *im);

/**
 * Ask the IDLE of im to end, from ANY thread: an exception to the
 * one-thread rule of common.h. It sets an atomic flag and writes one byte
 * to a self-pipe the session owns (created by mail_imap_idle_start()),
 * which wakes a blocking IDLE at once; the session's own thread then
 * sends DONE and mail_imap_idle_start() returns MAIL_OK after the tagged
 * OK. In event-loop mode the same byte makes mail_conn_wake_fd() of
 * mail_imap_conn(im) readable: a loop that polls it next to mail_conn_fd()
 * wakes at once and calls mail_imap_idle_start() again, which sends DONE
 * (a loop that does not poll it sees the stop at its next call into the
 * session). A stop asked when no IDLE
 * is in progress ends the next one right after its "+". im must stay
 * alive during the call (do not free it concurrently).
 */
MAIL_EXTERN void mail_imap_idle_stop(mail_imap *im);

/** The IDLE re-issue interval in milliseconds (at least 1000; default 25
 * minutes: servers may drop a client idle for 30). MAIL_ERR_INVALID below. */
MAIL_EXTERN int mail_imap_set_idle_interval(mail_imap *im, int ms);

/**
 * COMPRESS DEFLATE (RFC 4978), in the authenticated or selected state:
 * from its tagged OK on, both directions are deflated (over TLS when TLS is
 * on; the trace still shows the plain protocol). MAIL_ERR_UNSUPPORTED when
 * the server does not offer COMPRESS=DEFLATE or the build has no zlib
 * (mail_features() & MAIL_FEATURE_ZLIB), MAIL_ERR_STATE before login or
 * when compression is already on, MAIL_ERR_SERVER (and the last_* reply)
 * when the server refuses; bytes that arrive uncompressed after the OK are
 * MAIL_ERR_STARTTLS_INJECTION and close the session. What it saves is in
 * mail_conn_compress_counts(mail_imap_conn(im)). Blocks unless
 * non-blocking.
 */
MAIL_EXTERN int mail_imap_compress(mail_imap *im);

/* ------------------------------------------------------------------ */
/* The server's last tagged reply                                       */
/* ------------------------------------------------------------------ */

/** Type of the last tagged reply (a mail_imap_type value: MAIL_IMAP_TYPE_OK / _NO / _BAD), 0 before one. */
MAIL_EXTERN int mail_imap_last_status(const mail_imap *im);

/** Its response code (mail_imap_code), MAIL_IMAP_CODE_NONE when none. */
MAIL_EXTERN int mail_imap_last_code(const mail_imap *im);

/** Its text (NUL-terminated), "" before one. */
MAIL_EXTERN const char *mail_imap_last_text(const mail_imap *im);

/**
 * Its response code's arguments as sent (NUL-terminated), e.g. for
 * [COPYUID 38505 304,319 3956:3957] "38505 304,319 3956:3957"; "" when none.
 */
MAIL_EXTERN const char *mail_imap_last_code_data(const mail_imap *im);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_IMAP_H */

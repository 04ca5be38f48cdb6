/*
 * libmail — NNTP client session (RFC 3977, RFC 4642 STARTTLS, RFC 4643
 * AUTHINFO, RFC 6048 LIST extensions): reading news and posting.
 *
 * A mail_nntp session owns one mail_conn (borrow it with mail_nntp_conn()
 * for trace, limits, timeouts and TLS settings) and one mail_sasl (borrow
 * it with mail_nntp_sasl() for the mechanism allow-list, OAuth tokens,
 * ...). The protocol engine does no I/O of its own: every operation queues
 * commands and is run by the connection's driver.
 *
 * Typical use:
 *
 *   mail_nntp_new(&n, NULL);
 *   mail_nntp_set_auth(n, "alice", "pw");
 *   mail_nntp_connect_url(n, "nntp://news.example.org");  // STARTTLS required
 *   mail_nntp_auth(n);
 *   mail_nntp_group(n, "comp.lang.c", &count, &low, &high);
 *   mail_nntp_over(n, low, high);                         // typed records
 *   for (i = 0; i < mail_nntp_over_count(n); i++) ...mail_nntp_over_at(n, i)
 *   mail_nntp_article(n, MAIL_NNTP_ARTICLE, high, on_body, ctx); // streamed
 *   mail_nntp_quit(n);
 *   mail_nntp_free(n);
 *
 * Blocking or event loop (as for SMTP and POP3): by default each operation
 * blocks until it is done or a deadline of the connection passes. After
 * mail_conn_set_nonblocking(mail_nntp_conn(n), 1) an operation may return
 * MAIL_ERR_AGAIN instead: wait until mail_conn_fd() is ready for
 * mail_conn_want() (or mail_conn_timeout_ms() passes) and call THE SAME
 * FUNCTION again with the same arguments; it resumes where it stopped
 * (the arguments of the resumed call are not looked at again) and finally
 * returns the operation's result. Calling another operation meanwhile
 * gives MAIL_ERR_STATE. Out-parameters are written when the operation
 * completes; pointers, arrays and callbacks given to the first call must
 * stay valid until then.
 *
 * Security: nntp:// (MAIL_SECURITY_STARTTLS, the default) requires
 * STARTTLS (RFC 4642): CAPABILITIES must list it (in transit or, after
 * MODE READER, in reader mode), the server must answer 382 and the
 * handshake must verify; any failure ends the connection with
 * MAIL_ERR_STARTTLS (or the TLS error) before a credential byte is sent.
 * Bytes that arrive after the 382 and before the handshake are
 * MAIL_ERR_STARTTLS_INJECTION. Capabilities read before TLS are discarded
 * and read again. AUTHINFO USER/PASS and cleartext SASL mechanisms are
 * refused (MAIL_ERR_INSECURE) unless the server is TLS-verified or
 * mail_sasl_set_allow_insecure_plaintext() on mail_nntp_sasl() says
 * otherwise. Every argument that reaches the wire is checked: a group
 * name, message-id, wildmat, header name or range holding CR, LF, NUL (or
 * any space or control character, which would end the argument) gives
 * MAIL_ERR_INVALID and nothing is sent; a message-id must be "<...>".
 *
 * Errors: the server's refusal maps to a status by its code: 411 (no such
 * group), 420/421/422 (no current, next or previous article), 423 (no
 * article with that number, an empty range), 430 (no article with that
 * message-id) give MAIL_ERR_NOT_FOUND; 412 (no group selected)
 * MAIL_ERR_STATE; 480 (authentication required) and 481 (credentials
 * refused) MAIL_ERR_AUTH; 483 (encryption required) MAIL_ERR_INSECURE;
 * 500 and 503 (unknown command, feature not supported)
 * MAIL_ERR_UNSUPPORTED; 400 (service discontinued) MAIL_ERR_SERVER_CLOSING
 * (fatal); any other 4xx/5xx MAIL_ERR_SERVER. The reply itself stays
 * available from mail_nntp_last_reply() and mail_nntp_last_reply_command()
 * says what it answered. The one description of a failure is
 * mail_conn_last_error(mail_nntp_conn(n)): the command and the server's
 * reply ("GROUP no.such: 411 No such group", "AUTHINFO PASS: 481 Bad
 * password" — never a user name or password) or the local reason.
 *
 * Pipelining (RFC 3977 3.5): reading commands of one call go out together
 * where they do not depend on each other's answer (LIST OVERVIEW.FMT
 * before the first OVER; mail_nntp_article_many() keeps a window of
 * commands in flight). STARTTLS, AUTHINFO and MODE READER are never
 * pipelined. COMPRESS DEFLATE (RFC 8054) is not offered by this version.
 *
 * Threading: a session is used by one thread at a time.
 */
#ifndef MAIL_NNTP_H
#define MAIL_NNTP_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/conn.h>
#include <mail/nntp_reply.h>
#include <mail/sasl.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An NNTP client session (opaque). */
typedef struct mail_nntp mail_nntp;

struct mail_mime_builder; /* mail/mime_build.h, when MIME is built */

/** Session states (mail_nntp_get_state()). */
typedef enum mail_nntp_state_id {
  MAIL_NNTP_STATE_DISCONNECTED = 0, /**< no connection */
  MAIL_NNTP_STATE_CONNECTING = 1,   /**< greeting, CAPABILITIES, STARTTLS, MODE READER */
  MAIL_NNTP_STATE_READY = 2,        /**< connected: commands may be sent */
  MAIL_NNTP_STATE_AUTHENTICATING = 3 /**< AUTHINFO in progress */
} mail_nntp_state_id;

/** How mail_nntp_auth() logs in (mail_nntp_set_auth_method()). */
typedef enum mail_nntp_auth_method {
  /** AUTHINFO USER/PASS when the server lists AUTHINFO USER (or lists no
   *  capabilities) and a password is set, else AUTHINFO SASL. USER comes
   *  first because servers such as INN list SASL mechanisms their
   *  password backend cannot check; a refused login is never retried
   *  with another method. The default. */
  MAIL_NNTP_AUTH_AUTO = 0,
  MAIL_NNTP_AUTH_USER = 1, /**< AUTHINFO USER/PASS only */
  MAIL_NNTP_AUTH_SASL = 2  /**< AUTHINFO SASL only */
} mail_nntp_auth_method;

/** What of an article to retrieve (mail_nntp_article()). */
typedef enum mail_nntp_part {
  MAIL_NNTP_ARTICLE = 0, /**< ARTICLE: headers, blank line, body */
  MAIL_NNTP_HEAD = 1,    /**< HEAD: the headers */
  MAIL_NNTP_BODY = 2,    /**< BODY: the body */
  MAIL_NNTP_STAT = 3     /**< STAT: nothing; only whether it exists (and selects it) */
} mail_nntp_part;

/** Events of an article callback (mail_nntp_body_fn). */
typedef enum mail_nntp_body_event {
  MAIL_NNTP_BODY_BEGIN = 1, /**< the server said 220/221/222; data is NULL */
  MAIL_NNTP_BODY_DATA = 2,  /**< a chunk, dot-unstuffed */
  MAIL_NNTP_BODY_END = 3    /**< the terminating "." arrived; data is NULL */
} mail_nntp_body_event;

/**
 * Receives an article (or its head or body) as it arrives, in chunks of
 * any size: the bytes as the server sent them (CRLF line ends included)
 * minus the stuffed dots and the terminating ".". number is the article
 * number the server gave (0 when asked by message-id). Return 0 to go on;
 * anything else stops the operation: it ends with MAIL_ERR_CALLBACK once
 * the responses in flight have been read (the session stays usable), and
 * no further callback is made. data is valid only during the call.
 */
typedef int (*mail_nntp_body_fn)(void *user, uint64_t number, int event, const unsigned char *data,
                                 size_t len);

/** The LIST variants (mail_nntp_list()). */
typedef enum mail_nntp_list_kind {
  MAIL_NNTP_LIST_ACTIVE = 0,       /**< "group high low status" per group */
  MAIL_NNTP_LIST_NEWSGROUPS = 1,   /**< "group" and its description */
  MAIL_NNTP_LIST_OVERVIEW_FMT = 2, /**< one overview field name per line */
  MAIL_NNTP_LIST_ACTIVE_TIMES = 3, /**< "group time creator" */
  MAIL_NNTP_LIST_HEADERS = 4,      /**< one header name (or ":bytes", ":lines") per line */
  MAIL_NNTP_LIST_DISTRIB_PATS = 5  /**< "weight", "wildmat", "distribution" (split at ':') */
} mail_nntp_list_kind;

/** The seven fixed fields of an overview record (RFC 3977 8.4). */
typedef enum mail_nntp_over_field {
  MAIL_NNTP_OVER_SUBJECT = 0,    /**< Subject, as sent (RFC 2047 words not decoded) */
  MAIL_NNTP_OVER_FROM = 1,       /**< From, as sent */
  MAIL_NNTP_OVER_DATE = 2,       /**< Date, as sent */
  MAIL_NNTP_OVER_MESSAGE_ID = 3, /**< Message-ID, with its angle brackets */
  MAIL_NNTP_OVER_REFERENCES = 4, /**< References (message-ids separated by spaces), or empty */
  MAIL_NNTP_OVER_BYTES = 5, /**< ":bytes" as text; mail_nntp_overview_bytes() as a number */
  MAIL_NNTP_OVER_LINES = 6  /**< ":lines" as text; mail_nntp_overview_lines() as a number */
} mail_nntp_over_field;

/** One overview record of the last OVER (opaque; owned by the session). */
typedef struct mail_nntp_overview mail_nntp_overview;

/* ------------------------------------------------------------------ */
/* Session and settings                                                 */
/* ------------------------------------------------------------------ */

/**
 * Create a session (with its connection and SASL handle). alloc may be
 * NULL; it is copied and used for everything the session allocates.
 * MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM. Does not block.
 */
MAIL_EXTERN int mail_nntp_new(mail_nntp **out, const mail_allocator *alloc);

/** Close the connection (without QUIT), wipe the credentials and free.
 *  NULL is fine. */
MAIL_EXTERN void mail_nntp_free(mail_nntp *n);

/** The session's connection, for mail_conn_set_* (trace, limits,
 *  timeouts, TLS configuration, user transport, non-blocking mode). Owned
 *  by the session. */
MAIL_EXTERN mail_conn *mail_nntp_conn(mail_nntp *n);

/** The session's SASL handle (mechanism allow-list, authzid, OAuth,
 *  EXTERNAL, mail_sasl_set_allow_insecure_plaintext(), which also allows
 *  AUTHINFO USER/PASS on an unverified link). Owned by the session. */
MAIL_EXTERN mail_sasl *mail_nntp_sasl(mail_nntp *n);

/** How the connection is protected (mail_security). Default
 *  MAIL_SECURITY_STARTTLS. MAIL_ERR_INVALID for an unknown value,
 *  MAIL_ERR_STATE while connected. */
MAIL_EXTERN int mail_nntp_set_security(mail_nntp *n, int security);

/**
 * The user name and password for AUTHINFO USER/PASS and SASL (copied into
 * the SASL handle; the password is wiped when replaced or freed).
 * password may be NULL (OAuth and EXTERNAL need none). MAIL_ERR_INVALID
 * when user is NULL or either holds CR, LF or NUL, or user is not valid
 * UTF-8; MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_nntp_set_auth(mail_nntp *n, const char *user, const char *password);

/** mail_nntp_auth_method value. MAIL_ERR_INVALID otherwise. */
MAIL_EXTERN int mail_nntp_set_auth_method(mail_nntp *n, int method);

/**
 * Whether mail_nntp_connect() switches the server to reader mode with
 * MODE READER (RFC 3977 5.3): when on (the default), it is sent when
 * CAPABILITIES lists MODE-READER, or when the server gave no capability
 * list (an RFC 977 server, which may need it); capabilities are read
 * again after it. MAIL_ERR_INVALID for a NULL handle.
 */
MAIL_EXTERN int mail_nntp_set_mode_reader(mail_nntp *n, int on);

/**
 * Most ARTICLE/HEAD/BODY/STAT commands of mail_nntp_article_many() in
 * flight at once. Default 16; 1 turns pipelining off. Servers that gave
 * no capability list (RFC 977) always get 1. MAIL_ERR_INVALID for 0 or
 * more than 1024.
 */
MAIL_EXTERN int mail_nntp_set_pipeline_window(mail_nntp *n, unsigned int window);

/* ------------------------------------------------------------------ */
/* Connecting and logging in                                            */
/* ------------------------------------------------------------------ */

/**
 * Connect to host:port (0 = 119, or 563 for MAIL_SECURITY_IMPLICIT_TLS),
 * read the greeting and CAPABILITIES, perform STARTTLS and MODE READER as
 * the security mode (which becomes the session's setting) and
 * mail_nntp_set_mode_reader() say, reading CAPABILITIES again after each.
 * Does not log in. Blocks (see the top of this header).
 * Errors: the connection's (MAIL_ERR_RESOLVE, MAIL_ERR_CONNECT,
 * MAIL_ERR_TLS, MAIL_ERR_TLS_VERIFY, MAIL_ERR_TIMEOUT, ...),
 * MAIL_ERR_STARTTLS, MAIL_ERR_STARTTLS_INJECTION, MAIL_ERR_PROTOCOL,
 * MAIL_ERR_SERVER (the greeting was 400 or 502, or MODE READER was
 * refused; the connection is closed), MAIL_ERR_INVALID, MAIL_ERR_STATE
 * (already connected).
 */
MAIL_EXTERN int mail_nntp_connect(mail_nntp *n, const char *host, unsigned int port,
                                  int security);

/**
 * Connect by URL: "nntp://[user[:password]@]host[:port][/group]"
 * (STARTTLS required) or "nntps://..." (implicit TLS, port 563); IPv6
 * literals in brackets. A user and password in the URL (percent-encoded)
 * replace those set before. A group in the path (RFC 5538) is not
 * selected; read it with mail_nntp_url_group(). The security mode is
 * taken from the scheme unless an insecure mode was set with
 * mail_nntp_set_security(), which an nntp:// URL keeps.
 * MAIL_ERR_SYNTAX for a malformed URL; otherwise as mail_nntp_connect().
 */
MAIL_EXTERN int mail_nntp_connect_url(mail_nntp *n, const char *url);

/** The group named in the path of the last URL given to
 *  mail_nntp_connect_url() (percent-decoded), or NULL. */
MAIL_EXTERN const char *mail_nntp_url_group(const mail_nntp *n);

/**
 * Log in with the method set by mail_nntp_set_auth_method() (RFC 4643),
 * then read CAPABILITIES again (they change after login: POST may
 * appear). The trace shows "AUTHINFO USER [redacted]", "AUTHINFO PASS
 * [redacted]", "AUTHINFO SASL PLAIN [redacted]".
 * Errors: MAIL_ERR_AUTH (481: refused), MAIL_ERR_SERVER (482, 502:
 * already logged in or not allowed), MAIL_ERR_INSECURE (the link is not
 * TLS-verified, or 483), MAIL_ERR_NO_MECHANISM, MAIL_ERR_INVALID (no user
 * name or password), MAIL_ERR_STATE (not connected, or already logged
 * in), the SASL engine's errors, fatal errors.
 */
MAIL_EXTERN int mail_nntp_auth(mail_nntp *n);

/** The session state (mail_nntp_state_id). */
MAIL_EXTERN int mail_nntp_get_state(const mail_nntp *n);

/** The name of the session's state, e.g. "READY" (never NULL). */
MAIL_EXTERN const char *mail_nntp_state_name(const mail_nntp *n);

/** 1 once mail_nntp_auth() succeeded on this connection, else 0 (also
 *  for NULL); not a status. */
MAIL_EXTERN int mail_nntp_is_authenticated(const mail_nntp *n);

/**
 * 1 when the server says posting is allowed: CAPABILITIES lists POST
 * (when the server gave a list), else the last greeting or MODE READER
 * answer was 200 (not 201).
 */
MAIL_EXTERN int mail_nntp_posting_allowed(const mail_nntp *n);

/* ------------------------------------------------------------------ */
/* What the server said                                                 */
/* ------------------------------------------------------------------ */

/** The last status line the server sent, or NULL. Valid until the next
 *  operation, which clears it when it starts. */
MAIL_EXTERN const mail_nntp_reply *mail_nntp_last_reply(const mail_nntp *n);

/** What mail_nntp_last_reply() answered, as it reads in an error:
 *  "greeting", "CAPABILITIES", "MODE READER", "STARTTLS", "AUTHINFO USER",
 *  "AUTHINFO PASS", "AUTHINFO SASL PLAIN", "GROUP misc.test", "ARTICLE 3",
 *  "OVER 1-10", "POST", "POST data", ...; never a credential. NULL when
 *  there is no last reply. Owned by the session. */
MAIL_EXTERN const char *mail_nntp_last_reply_command(const mail_nntp *n);

/** The greeting's text (NUL-terminated), or NULL before one arrived. */
MAIL_EXTERN const char *mail_nntp_greeting(const mail_nntp *n);

/**
 * CAPABILITIES (RFC 3977 5.2) again, replacing the list. A server that
 * does not know the command (500) leaves the list empty and
 * mail_nntp_caps_known() 0: MAIL_OK all the same. MAIL_ERR_STATE when
 * not connected.
 */
MAIL_EXTERN int mail_nntp_capabilities(mail_nntp *n);

/** 1 when the last CAPABILITIES was answered with a list. */
MAIL_EXTERN int mail_nntp_caps_known(const mail_nntp *n);

/** Entries of the capability list (one per line: "VERSION 2", "READER",
 *  "LIST ACTIVE NEWSGROUPS", ...). Valid until the next operation. */
MAIL_EXTERN size_t mail_nntp_capability_count(const mail_nntp *n);
/** Keyword of entry i ("LIST"), NUL-terminated, or NULL out of range. */
MAIL_EXTERN const char *mail_nntp_capability_keyword(const mail_nntp *n, size_t i);
/** Number of arguments of entry i (0 when out of range). */
MAIL_EXTERN size_t mail_nntp_capability_param_count(const mail_nntp *n, size_t i);
/** Argument j of entry i ("ACTIVE"), NUL-terminated, or NULL. */
MAIL_EXTERN const char *mail_nntp_capability_param(const mail_nntp *n, size_t i, size_t j);
/** 1 when the list holds keyword (ASCII case ignored). */
MAIL_EXTERN int mail_nntp_has_capability(const mail_nntp *n, const char *keyword);
/** 1 when the list holds keyword with argument arg, e.g. ("LIST",
 *  "OVERVIEW.FMT") or ("AUTHINFO", "USER"), ASCII case ignored. */
MAIL_EXTERN int mail_nntp_has_capability_arg(const mail_nntp *n, const char *keyword,
                                             const char *arg);

/* ------------------------------------------------------------------ */
/* Groups and articles (READY state, else MAIL_ERR_STATE)               */
/* ------------------------------------------------------------------ */

/**
 * GROUP: select a group. Its estimated article count and the low and high
 * water marks go to the out pointers (any may be NULL); the server's
 * answer also becomes the current group (mail_nntp_current_group()).
 * MAIL_ERR_NOT_FOUND (411), MAIL_ERR_AUTH (480), MAIL_ERR_INVALID (a bad
 * name), MAIL_ERR_PROTOCOL (a 211 that does not parse).
 */
MAIL_EXTERN int mail_nntp_group(mail_nntp *n, const char *group, uint64_t *count, uint64_t *low,
                                uint64_t *high);

/** The group the server last selected (GROUP or LISTGROUP), or NULL. */
MAIL_EXTERN const char *mail_nntp_current_group(const mail_nntp *n);

/**
 * LISTGROUP: select group (NULL: the current one) and list its article
 * numbers, all of them (low 0) or those in low-high (high 0: low and
 * every later one). The numbers are kept until the next LISTGROUP:
 * mail_nntp_listgroup_count() / _at(). MAIL_ERR_LIMIT beyond
 * limits.max_items numbers. Errors as mail_nntp_group(); MAIL_ERR_STATE
 * (412) with no group given or selected.
 */
MAIL_EXTERN int mail_nntp_listgroup(mail_nntp *n, const char *group, uint64_t low, uint64_t high);
/** Numbers of the last LISTGROUP. */
MAIL_EXTERN size_t mail_nntp_listgroup_count(const mail_nntp *n);
/** Number i of the last LISTGROUP, or 0 when out of range. */
MAIL_EXTERN uint64_t mail_nntp_listgroup_at(const mail_nntp *n, size_t i);

/** NEXT: move to the next article of the group; its number to *number
 *  (may be NULL). MAIL_ERR_NOT_FOUND (421: none), MAIL_ERR_STATE (412). */
MAIL_EXTERN int mail_nntp_next(mail_nntp *n, uint64_t *number);
/** LAST: move to the previous article (422: MAIL_ERR_NOT_FOUND). */
MAIL_EXTERN int mail_nntp_last(mail_nntp *n, uint64_t *number);

/**
 * ARTICLE, HEAD, BODY or STAT (part) of article number in the current
 * group (number 0: the current article), streamed to fn (may be NULL:
 * the bytes are read and dropped; unused for STAT) with bounded memory.
 * The article then becomes the current one: mail_nntp_current_article().
 * MAIL_ERR_NOT_FOUND (423, 420), MAIL_ERR_STATE (412), MAIL_ERR_CALLBACK,
 * MAIL_ERR_INVALID (a bad part), fatal errors.
 */
MAIL_EXTERN int mail_nntp_article(mail_nntp *n, int part, uint64_t number, mail_nntp_body_fn fn,
                                  void *user);

/** The same by message-id ("<...>"); the callback's number is 0.
 *  MAIL_ERR_NOT_FOUND (430), MAIL_ERR_INVALID (not a message-id). */
MAIL_EXTERN int mail_nntp_article_by_id(mail_nntp *n, int part, const char *msgid,
                                        mail_nntp_body_fn fn, void *user);

/**
 * The same for several article numbers, pipelined (see
 * mail_nntp_set_pipeline_window()): fn sees BEGIN, DATA..., END for each
 * article the server has, in the order of numbers. MAIL_OK when every one
 * came; MAIL_ERR_PARTIAL when some were refused (mail_nntp_batch_status());
 * MAIL_ERR_NOT_FOUND / the refusal's status when all were;
 * MAIL_ERR_CALLBACK.
 */
MAIL_EXTERN int mail_nntp_article_many(mail_nntp *n, int part, const uint64_t *numbers,
                                       size_t count, mail_nntp_body_fn fn, void *user);
/** Item i of the last mail_nntp_article_many(): MAIL_OK, the refusal's
 *  status, or MAIL_ERR_NOT_ATTEMPTED (not sent); MAIL_ERR_INVALID out of
 *  range. */
MAIL_EXTERN int mail_nntp_batch_status(const mail_nntp *n, size_t i);

/** The current article as the server last named it (ARTICLE, HEAD, BODY,
 *  STAT, NEXT, LAST): its number (0 when asked by message-id) to *number
 *  (may be NULL); returns its message-id (NUL-terminated) or NULL. */
MAIL_EXTERN const char *mail_nntp_current_article(const mail_nntp *n, uint64_t *number);

/* ------------------------------------------------------------------ */
/* Overview and headers                                                 */
/* ------------------------------------------------------------------ */

/**
 * OVER (or XOVER where the server does not list OVER) for the articles
 * low-high of the current group (high 0: low and every later one; low 0:
 * the current article), parsed into typed records with the field order
 * of LIST OVERVIEW.FMT (asked once per connection, pipelined with the
 * first OVER; RFC 3977's order when the server does not answer it). The
 * records are kept until the next OVER: mail_nntp_over_count() /
 * mail_nntp_over_at(). A range with no articles gives an empty list and
 * MAIL_OK whatever the server answers it with (INN: 423 to OVER, an empty
 * 224 to XOVER). MAIL_ERR_LIMIT beyond limits.max_items records; other
 * errors as mail_nntp_article().
 */
MAIL_EXTERN int mail_nntp_over(mail_nntp *n, uint64_t low, uint64_t high);
/** OVER of one article by message-id (430 gives MAIL_ERR_NOT_FOUND). */
MAIL_EXTERN int mail_nntp_over_by_id(mail_nntp *n, const char *msgid);
/** Records of the last OVER. */
MAIL_EXTERN size_t mail_nntp_over_count(const mail_nntp *n);
/** Record i of the last OVER, or NULL out of range. Valid until the next
 *  OVER or the session is freed. */
MAIL_EXTERN const mail_nntp_overview *mail_nntp_over_at(const mail_nntp *n, size_t i);
/** Extra fields (after the seven fixed ones) of the overview format in
 *  force, e.g. 1 for INN's "Xref:full". */
MAIL_EXTERN size_t mail_nntp_over_extra_count(const mail_nntp *n);
/** Name of extra field j without ":full" ("Xref"), or NULL. */
MAIL_EXTERN const char *mail_nntp_over_extra_name(const mail_nntp *n, size_t j);

/** The record's article number (0 for one asked by message-id). */
MAIL_EXTERN uint64_t mail_nntp_overview_number(const mail_nntp_overview *r);
/** Fixed field f (mail_nntp_over_field) as sent, NUL-terminated (empty
 *  when the server sent none); *len (may be NULL) its length. NULL for a
 *  bad f or NULL r. */
MAIL_EXTERN const char *mail_nntp_overview_field(const mail_nntp_overview *r, int f, size_t *len);
/** ":bytes" as a number (0 when missing or not a number). */
MAIL_EXTERN uint64_t mail_nntp_overview_bytes(const mail_nntp_overview *r);
/** ":lines" as a number (0 when missing or not a number). */
MAIL_EXTERN uint64_t mail_nntp_overview_lines(const mail_nntp_overview *r);
/** Extra field j's value, with the "Name: " of a ":full" field removed;
 *  NULL when the record has no such field. */
MAIL_EXTERN const char *mail_nntp_overview_extra(const mail_nntp_overview *r, size_t j,
                                                 size_t *len);

/**
 * HDR (or XHDR where the server does not list HDR) of header field
 * (e.g. "Subject", or ":bytes") for the articles low-high of the current
 * group (as mail_nntp_over()). Kept until the next HDR:
 * mail_nntp_hdr_count() / mail_nntp_hdr_at(). An empty range gives an
 * empty list whatever the code (INN: 423 to HDR, an empty 221 to XHDR).
 */
MAIL_EXTERN int mail_nntp_hdr(mail_nntp *n, const char *field, uint64_t low, uint64_t high);
/** HDR of one article by message-id. MAIL_ERR_NOT_FOUND (430),
 *  MAIL_ERR_INVALID (not a message-id, or a bad field name); otherwise as
 *  mail_nntp_hdr(). */
MAIL_EXTERN int mail_nntp_hdr_by_id(mail_nntp *n, const char *field, const char *msgid);
/** Entries of the last HDR. */
MAIL_EXTERN size_t mail_nntp_hdr_count(const mail_nntp *n);
/** Entry i: the article number to *number (may be NULL; 0 for one asked
 *  by message-id) and the value (NUL-terminated, *len its length), or
 *  NULL out of range. */
MAIL_EXTERN const char *mail_nntp_hdr_at(const mail_nntp *n, size_t i, uint64_t *number,
                                         size_t *len);

/* ------------------------------------------------------------------ */
/* Lists, news since, date                                              */
/* ------------------------------------------------------------------ */

/**
 * LIST kind (mail_nntp_list_kind) with an optional wildmat (NULL: none;
 * RFC 3977 allows one for ACTIVE, NEWSGROUPS, ACTIVE.TIMES; for HEADERS
 * it is "MSGID" or "RANGE"). The lines, split into fields, are kept until
 * the next LIST, NEWGROUPS or NEWNEWS: mail_nntp_list_count(),
 * mail_nntp_list_field(), mail_nntp_list_active_at(). MAIL_ERR_LIMIT
 * beyond limits.max_items lines; MAIL_ERR_UNSUPPORTED (500/503: the
 * server has no such list).
 */
MAIL_EXTERN int mail_nntp_list(mail_nntp *n, int kind, const char *wildmat);

/** NEWGROUPS: groups created since the time (seconds since the epoch,
 *  sent as GMT), as LIST ACTIVE lines in the list table. MAIL_ERR_INVALID
 *  for a negative time or one past the year 9999; otherwise as
 *  mail_nntp_list(). */
MAIL_EXTERN int mail_nntp_newgroups(mail_nntp *n, int64_t since);

/** NEWNEWS: message-ids of articles in groups matching wildmat that
 *  arrived since the time; one field per line in the list table.
 *  MAIL_ERR_INVALID (a bad wildmat or time), MAIL_ERR_SERVER (502: NEWNEWS
 *  not allowed, as INN says to anonymous readers without the N access);
 *  otherwise as mail_nntp_list(). */
MAIL_EXTERN int mail_nntp_newnews(mail_nntp *n, const char *wildmat, int64_t since);

/** Lines of the last LIST, NEWGROUPS or NEWNEWS. */
MAIL_EXTERN size_t mail_nntp_list_count(const mail_nntp *n);
/** Fields of line i (0 when out of range). */
MAIL_EXTERN size_t mail_nntp_list_field_count(const mail_nntp *n, size_t i);
/** Field j of line i, NUL-terminated (*len may be NULL), or NULL. */
MAIL_EXTERN const char *mail_nntp_list_field(const mail_nntp *n, size_t i, size_t j, size_t *len);
/**
 * Line i of a LIST ACTIVE or NEWGROUPS answer as typed values: the group
 * name (returned, NUL-terminated), *high, *low and *status (each may be
 * NULL). NULL when out of range or the line is not "group high low
 * status".
 */
MAIL_EXTERN const char *mail_nntp_list_active_at(const mail_nntp *n, size_t i, uint64_t *high,
                                                 uint64_t *low, const char **status);

/**
 * COMPRESS DEFLATE (RFC 8054), in the READY state: from the server's 206
 * on both directions are deflated (over TLS when TLS is on; the trace still
 * shows the plain protocol). MAIL_OK; MAIL_ERR_UNSUPPORTED when the server
 * does not offer "COMPRESS DEFLATE" or the build has no zlib; MAIL_ERR_STATE
 * when not READY or compression is already on; the refusal's status for a
 * 403 or 502; bytes that arrive uncompressed after the 206 are
 * MAIL_ERR_STARTTLS_INJECTION and end the session. What it saves is in
 * mail_conn_compress_counts(mail_nntp_conn(n)). Blocks unless non-blocking.
 */
MAIL_EXTERN int mail_nntp_compress(mail_nntp *n);

/** DATE: the server's clock, seconds since the epoch (UTC), to *seconds
 *  (may be NULL). MAIL_OK, MAIL_ERR_PROTOCOL (a 111 that does not parse),
 *  the refusal's status, MAIL_ERR_STATE (not READY), fatal errors. */
MAIL_EXTERN int mail_nntp_date(mail_nntp *n, int64_t *seconds);

/* ------------------------------------------------------------------ */
/* Posting                                                              */
/* ------------------------------------------------------------------ */

/**
 * POST an article (headers, blank line, body) read from read until it
 * gives 0 bytes. The bytes go out as they come, never held whole: every
 * line end becomes CRLF, lines starting with "." are dot-stuffed and the
 * terminating "." is added. 340 starts the data, 240 accepts it.
 * Errors: MAIL_ERR_SERVER (440: posting not permitted; 441: refused —
 * mail_nntp_last_reply() says why), MAIL_ERR_AUTH (480), MAIL_ERR_INVALID.
 * A source that fails after the data began ends the session with
 * MAIL_ERR_CALLBACK: half an article must not be ended with a "." that
 * would post it.
 */
MAIL_EXTERN int mail_nntp_post(mail_nntp *n, mail_read_fn read, void *user);

/** POST the message a MIME builder writes (it must hold Newsgroups:,
 *  From: and Subject:). MAIL_ERR_UNSUPPORTED in a build without MIME;
 *  otherwise as mail_nntp_post(). */
MAIL_EXTERN int mail_nntp_post_builder(mail_nntp *n, struct mail_mime_builder *msg);

/**
 * IHAVE msgid (RFC 3977 6.3.2): offer an article to a transit server and
 * send it from read when asked (335). MAIL_OK when transferred (235);
 * MAIL_ERR_SERVER for 435 (not wanted), 436 (try again later) and 437
 * (rejected): mail_nntp_last_reply() tells which.
 */
MAIL_EXTERN int mail_nntp_ihave(mail_nntp *n, const char *msgid, mail_read_fn read, void *user);

/** QUIT and close. The connection is closed whatever the server answers.
 *  MAIL_ERR_STATE when not connected. */
MAIL_EXTERN int mail_nntp_quit(mail_nntp *n);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_NNTP_H */

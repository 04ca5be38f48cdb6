/*
 * libmail — common definitions shared by every module.
 *
 * Threading rule: libmail keeps no global mutable state. A handle (a
 * session, a parser, a builder, a TLS configuration while it is being
 * configured) must be used by one thread at a time; distinct handles may be
 * used from distinct threads at once without locking. A mail_tls_config
 * that has been attached to a connection is only read from then on and may
 * be shared by connections living on different threads.
 * The two exceptions: mail_imap_idle_stop() may be called from any
 * thread while another runs the session's IDLE (mail/imap.h), and
 * mail_conn_cancel() from any thread while another runs an operation on
 * that connection (mail/conn.h).
 *
 * Ownership rule: anything libmail hands out is released with a libmail
 * call: mail_free(ptr) for plain buffers (it knows their allocator),
 * mail_<object>_free() for handles.
 * Every *_free() function accepts NULL. A const pointer a function returns
 * (a string, a reply, a part) belongs to the handle it came from: never
 * free it; it stays valid until that handle is freed, or until the call
 * its comment names replaces it (for a session, usually its next
 * operation). Pointers the caller passes in are read during the call and
 * not kept unless the comment says "borrowed" (then they must outlive the
 * use it names); strings the library keeps are copied.
 *
 * Blocking: nothing declared here blocks. Which calls block is said at the
 * top of each header: a session's operations block by default (or return
 * MAIL_ERR_AGAIN in event-loop mode, see mail/conn.h), parsers and the
 * MIME code never do.
 *
 * Argument order: a function that acts on a handle takes the handle
 * first. A function that makes something without a handle to act on (a
 * constructor, a copy, a parse or conversion into a new object, buffer or
 * caller's array) takes its out-parameters first, then its inputs, then the
 * allocator: mail_smtp_reply_clone(&copy, reply, alloc),
 * mail_charset_to_utf8(&out, &out_len, charset, in, len, alloc).
 */
#ifndef MAIL_COMMON_H
#define MAIL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <mail/version.h>
#include <mail/features.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MAIL_STATIC)
#  define MAIL_EXTERN
#elif defined(__GNUC__) || defined(__clang__)
#  define MAIL_EXTERN __attribute__((visibility("default")))
#else
#  define MAIL_EXTERN
#endif

/**
 * Status codes returned by every libmail function that can fail.
 *
 * MAIL_OK is zero; every error is negative. Values are part of the ABI and
 * are never renumbered: new codes are only ever appended to their range.
 *
 * Codes from -1 to -99 are non-fatal: the handle stays usable (for a session,
 * the connection is still in a defined protocol state). Codes at or below
 * MAIL_ERR_FATAL_THRESHOLD (-100) are fatal: the connection is unusable and
 * must be closed; mail_status_is_fatal() tells which is which.
 *
 * A server's own negative reply (an SMTP 5xx, a POP3 -ERR, an IMAP NO) is
 * reported as MAIL_ERR_SERVER, MAIL_ERR_AUTH or a more specific code, and the
 * reply itself (code, enhanced code, text) stays available from the session.
 *
 * The one error string: whenever a session operation fails, the session's
 * connection holds one English description of what failed and why,
 * mail_conn_last_error(mail_<proto>_conn(s)): the command and the server's
 * reply where there is one ("RCPT TO:<x@example.org>: 550 5.1.1 User
 * unknown"), else the local reason. It is cleared when an operation
 * starts and left empty by one that succeeds; it never holds a credential.
 */
typedef enum mail_status {
  MAIL_OK = 0,                  /**< success */

  /* ---- non-fatal ---- */
  MAIL_ERR_AGAIN = -1,          /**< would block: wait for mail_conn_want() and call again */
  MAIL_ERR_INVALID = -2,        /**< invalid argument (NULL, out of range, CR/LF/NUL in a wire argument) */
  MAIL_ERR_NOMEM = -3,          /**< an allocation failed */
  MAIL_ERR_STATE = -4,          /**< the call is not allowed in the current state */
  MAIL_ERR_UNSUPPORTED = -5,    /**< not compiled in, or not offered by the server */
  MAIL_ERR_SERVER = -6,         /**< the server refused the command; its reply is kept */
  MAIL_ERR_AUTH = -7,           /**< the server rejected the credentials */
  MAIL_ERR_NO_MECHANISM = -8,   /**< no SASL mechanism usable with the server and the settings */
  MAIL_ERR_INSECURE = -9,       /**< refused: would send credentials or data without the required protection */
  MAIL_ERR_TOO_BIG = -10,       /**< larger than the server (or a local limit) accepts; nothing was sent */
  MAIL_ERR_NOT_FOUND = -11,     /**< no such item */
  MAIL_ERR_BUFFER = -12,        /**< the caller's output buffer is too small */
  MAIL_ERR_CANCELLED = -13,     /**< the operation was cancelled by the caller */
  MAIL_ERR_RECIPIENTS = -14,    /**< recipients were refused and nothing was sent (every one, or
                                     one under MAIL_SMTP_POLICY_ALL) */
  MAIL_ERR_PARTIAL = -15,       /**< some, not all, recipients/items failed; per-item results are kept */
  MAIL_ERR_CALLBACK = -16,      /**< a caller's callback returned an error */
  MAIL_ERR_CHARSET = -17,       /**< unknown charset or invalid encoding in caller input */
  MAIL_ERR_SYNTAX = -18,        /**< caller-supplied text does not parse (an address, a URL, a date) */
  MAIL_ERR_FILE = -19,          /**< a local file could not be opened or read */
  MAIL_ERR_NEEDS_SMTPUTF8 = -20,/**< the message needs SMTPUTF8 and the server does not offer it */
  MAIL_ERR_REQUIRETLS = -21,    /**< REQUIRETLS asked for but TLS is not verified or not offered */
  MAIL_ERR_SASL_BAD_CHALLENGE = -22, /**< a SASL challenge was malformed, oversized or not valid base64 */
  MAIL_ERR_THROTTLED = -23,     /**< the server asks the client to slow down (IMAP [THROTTLED]) */
  MAIL_ERR_SERVER_LIMIT = -24,  /**< a server-side limit was hit (IMAP [LIMIT], RFC 5530) */
  MAIL_ERR_TOO_MANY_CONNECTIONS = -25, /**< the server refused the session: too many connections */
  MAIL_ERR_NOT_ATTEMPTED = -26, /**< an item (a recipient, a batch entry) was not attempted: the
                                     operation stopped before it, or sent nothing for it */

  /* ---- fatal: the connection is unusable ---- */
  MAIL_ERR_FATAL_THRESHOLD = -100,
  MAIL_ERR_IO = -100,           /**< read or write failed */
  MAIL_ERR_TIMEOUT = -101,      /**< no progress before the deadline */
  MAIL_ERR_CLOSED = -102,       /**< the peer closed the connection */
  MAIL_ERR_RESOLVE = -103,      /**< the host name did not resolve */
  MAIL_ERR_CONNECT = -104,      /**< no address accepted the connection */
  MAIL_ERR_TLS = -105,          /**< the TLS handshake or a TLS record failed */
  MAIL_ERR_TLS_VERIFY = -106,   /**< the server's certificate or name did not verify */
  MAIL_ERR_STARTTLS = -107,     /**< STARTTLS was required but not offered or refused */
  MAIL_ERR_STARTTLS_INJECTION = -108, /**< bytes arrived between the STARTTLS go-ahead and the handshake */
  MAIL_ERR_PROTOCOL = -109,     /**< the server violated the protocol */
  MAIL_ERR_LIMIT = -110,        /**< server input exceeded a configured limit */
  MAIL_ERR_SERVER_CLOSING = -111, /**< the server announced it is closing (SMTP 421, IMAP BYE) */
  MAIL_ERR_SASL_SERVER = -112,  /**< the server failed SASL mutual authentication (bad SCRAM signature) */
  MAIL_ERR_INTERNAL = -113,     /**< a bug in libmail; please report it */
  MAIL_ERR_PROXY = -114         /**< the proxy refused the tunnel or our credentials, or broke its protocol */
} mail_status;

/**
 * A short English description of a status code. Never NULL; unknown codes
 * give "unknown error". The strings never contain data from the network or
 * from the caller.
 */
MAIL_EXTERN const char *mail_strerror(int status);

/** Non-zero when a status leaves the connection unusable (see mail_status). */
MAIL_EXTERN int mail_status_is_fatal(int status);

/**
 * Allocator hooks. Passed to a constructor, they are used for every
 * allocation that handle makes (NULL means the C library's). All four
 * function pointers must be set. Memory the library returns to the caller
 * (strings, buffers) comes from the same hooks and goes back to them
 * through mail_free() or the handle's free function.
 *
 * Buffers that held secrets (passwords, tokens, SASL responses) are
 * overwritten before they reach free(): a free hook never sees a secret.
 *
 * What allocates outside the hooks: libmail's own code never calls
 * malloc() and friends directly, but the system libraries some features
 * use do, from inside libmail calls:
 *   - OpenSSL (-Dtls): TLS connections, mail_tls_config_*, and the hashes,
 *     HMAC and random bytes SASL uses (CRAM-MD5, SCRAM). OpenSSL is
 *     initialised only when one of these is first used, never by a
 *     constructor.
 *   - iconv (glibc): converting MIME text in a charset other than UTF-8 and
 *     US-ASCII (ISO-8859-1 included) to UTF-8: RFC 2047 words, RFC 2231
 *     parameters, mail_charset_to_utf8(), decoding with charset conversion.
 *   - libidn (-Dsaslprep): SASLprep of a non-ASCII user name or password;
 *     libidn2 (-Didna): IDNA A-labels for a non-ASCII domain.
 *   - getaddrinfo (resolving a host name in mail_*_connect()).
 *   - stdio (fopen) for a file attachment of the MIME builder.
 * A build with -Dtls=disabled -Dsaslprep=disabled -Didna=disabled, over a
 * user transport (mail_conn_set_transport), sends, retrieves, parses and
 * builds mail with every allocation made through the hooks (a test checks
 * it).
 */
typedef void *(*mail_malloc_fn)(size_t size, void *user);
typedef void (*mail_dealloc_fn)(void *ptr, void *user);
typedef void *(*mail_calloc_fn)(size_t nmemb, size_t size, void *user);
typedef void *(*mail_realloc_fn)(void *ptr, size_t size, void *user);

/** Allocator hooks (see above): every member is required when a mail_allocator is given. */
typedef struct mail_allocator {
  void *user;              /**< passed to every hook */
  mail_malloc_fn malloc;   /**< like malloc(3) */
  mail_dealloc_fn free;    /**< like free(3); never called with NULL */
  mail_calloc_fn calloc;   /**< like calloc(3), including its overflow check */
  mail_realloc_fn realloc; /**< like realloc(3); never called to free */
} mail_allocator;

/**
 * Release a buffer libmail handed to the caller (a decoded part, a
 * converted string, a built message). Such a buffer records the
 * allocator that made it, so nothing else needs to be named: whichever
 * handle or allocator produced it, mail_free(ptr) gives it back to the
 * same hooks. ptr may be NULL. Only for buffers documented as "release
 * with mail_free()"; never for handles (they have their own _free) and
 * never for memory the caller allocated; like free(), once per buffer.
 */
MAIL_EXTERN void mail_free(void *ptr);

/** The mail_limits version this header declares (its version member). */
#define MAIL_LIMITS_VERSION 2

/**
 * Bounds on what a session holds in memory. Server input that exceeds one
 * ends the operation with MAIL_ERR_LIMIT; it is never truncated silently.
 * Message bodies stream to callbacks and are not bounded by these limits.
 * Every buffer starts small and grows on demand up to its bound, so the
 * bounds cost nothing until a server sends that much. They apply from the
 * moment they are set, also to a session that already exists.
 *
 * Two kinds of response are told apart. A response that is not message
 * data and does not grow with the mailbox (an SMTP reply, an EHLO or CAPA
 * capability list, a POP3 status line) is held whole and bounded by
 * max_response bytes and max_lines lines (the smaller of max_lines and
 * max_items, so version 1 callers keep their bound). A result that grows
 * with the mailbox (POP3 LIST and UIDL; IMAP SEARCH and LIST later) is
 * bounded by max_items entries only, so a large maildrop still lists.
 *
 * Fill with mail_limits_init(&l, MAIL_LIMITS_VERSION) and change what you
 * need. Version 1 (the fields up to max_items) is still accepted
 * everywhere: the version 2 fields then get their defaults.
 */
typedef struct mail_limits {
  unsigned int version;   /**< MAIL_LIMITS_VERSION (2), or 1 */
  size_t max_line;        /**< longest line from a server, CRLF included (default 64 KiB) */
  size_t max_literal;     /**< largest IMAP literal or counted block held in memory (default 64 MiB) */
  size_t max_response;    /**< most bytes held for one response that is not message data:
                               a reply, a capability list (default 1 MiB) */
  unsigned int max_depth; /**< deepest nesting of lists/parts accepted (default 64) */
  size_t max_items;       /**< most entries in a result that grows with the mailbox, e.g.
                               POP3 LIST/UIDL lines (default 10,000,000) */
  /* ---- version 2 ---- */
  size_t max_lines;       /**< most lines in a response that is not message data, and most
                               capability entries (default 10,000) */
  size_t max_output;      /**< most bytes queued to send at once: commands, pipelined
                               batches, message data in flight (default 4 MiB, at least 16 KiB) */
} mail_limits;

/**
 * Fill *limits with the defaults documented in mail_limits for the given
 * version (1 or 2: only the fields of that version are written) and set
 * limits->version. MAIL_ERR_INVALID for NULL or an unknown version.
 */
MAIL_EXTERN int mail_limits_init(mail_limits *limits, unsigned int version);

/**
 * Fill the version 1 fields of *limits with their defaults and set
 * version to 1. Kept for callers built against version 1 (it never
 * writes past a version 1 struct); new code uses mail_limits_init().
 */
MAIL_EXTERN void mail_limits_default(mail_limits *limits);

/** Direction of a trace record. */
typedef enum mail_trace_dir {
  MAIL_TRACE_RECV = 0,  /**< bytes received from the server (after TLS decryption) */
  MAIL_TRACE_SEND = 1,  /**< bytes sent to the server (before TLS encryption) */
  MAIL_TRACE_INFO = 2   /**< a library message: connect, TLS up, STARTTLS, close */
} mail_trace_dir;

/**
 * Trace hook: sees every byte sent and received, in the chunks in which
 * they cross the transport. Secrets (passwords, SASL responses, tokens,
 * APOP digests, IMAP LOGIN literals) are replaced by the text
 * "[redacted]" unless the caller opted in with
 * mail_conn_set_trace_show_secrets_insecure(). The data is not
 * NUL-terminated and is valid only during the call.
 */
typedef void (*mail_trace_fn)(void *user, int dir, const char *data, size_t len);

/**
 * Source of random bytes (SASL nonces, MIME boundaries, Message-IDs). Must
 * fill buf completely and return 0, or return non-zero on failure. The
 * default is OpenSSL's RAND_bytes (or getrandom() without TLS). Tests inject
 * a fixed source to make output reproducible.
 */
typedef int (*mail_random_fn)(void *user, unsigned char *buf, size_t len);

/**
 * Clock hook. Returns milliseconds: monotonic when asked for
 * MAIL_CLOCK_MONOTONIC (used for timeouts), or since the Unix epoch in UTC
 * when asked for MAIL_CLOCK_REALTIME (Date headers, log lines).
 */
typedef int64_t (*mail_clock_fn)(void *user, int which);
/** Which clock mail_clock_fn is asked for. */
typedef enum mail_clock_kind {
  MAIL_CLOCK_MONOTONIC = 0, /**< a clock that never goes back: deadlines and timeouts */
  MAIL_CLOCK_REALTIME = 1   /**< wall-clock time since the epoch: Date headers, IDLE renewal */
} mail_clock_kind;

/**
 * The one write callback: every libmail function that hands bytes to the
 * caller as a stream (a message being written out, a decoded body, mbox
 * data) calls one of these. Consume all len bytes and return 0, or return
 * non-zero to stop: the call that was writing then returns
 * MAIL_ERR_CALLBACK. data is valid only during the call.
 */
typedef int (*mail_write_fn)(void *user, const void *data, size_t len);

/**
 * The one read callback shape: fill buf with up to cap bytes, set *got to
 * the number written (0 at the end) and return 0, or return non-zero to
 * stop (the reading call then returns MAIL_ERR_CALLBACK).
 * mail_mime_read_fn and mail_smtp_read_fn have this same shape.
 */
typedef int (*mail_read_fn)(void *user, unsigned char *buf, size_t cap, size_t *got);

/** The runtime library's version string, e.g. "0.1.0". */
MAIL_EXTERN const char *mail_version(void);

/** The runtime library's version as 0xMMmmpp (compare with MAIL_VERSION_NUMBER). */
MAIL_EXTERN unsigned int mail_version_number(void);

/**
 * What the runtime library was built with (mail_features()), one bit per
 * module or optional library; the same as the MAIL_HAVE_* macros of
 * mail/features.h for the headers of that build. Values never change;
 * new features take new bits.
 */
typedef enum mail_feature {
  MAIL_FEATURE_SMTP = 1 << 0,     /**< SMTP and LMTP (mail/smtp.h, mail/smtp_reply.h) */
  MAIL_FEATURE_POP3 = 1 << 1,     /**< POP3 (mail/pop3.h, mail/pop3_reply.h) */
  MAIL_FEATURE_IMAP = 1 << 2,     /**< IMAP: the response parser and the session (mail/imap_parse.h, mail/imap.h) */
  MAIL_FEATURE_NNTP = 1 << 3,     /**< NNTP (mail/nntp.h, mail/nntp_reply.h) */
  MAIL_FEATURE_MIME = 1 << 4,     /**< the MIME parser and builder (mail/mime.h, mail/mime_build.h) */
  MAIL_FEATURE_TLS = 1 << 5,      /**< TLS, STARTTLS and the crypto SCRAM/CRAM-MD5 need (OpenSSL) */
  MAIL_FEATURE_ZLIB = 1 << 6,     /**< linked with zlib (IMAP COMPRESS, with the IMAP session) */
  MAIL_FEATURE_SASLPREP = 1 << 7, /**< SASLprep of non-ASCII names and passwords (libidn) */
  MAIL_FEATURE_IDNA = 1 << 8,     /**< IDNA A-labels for non-ASCII domains (libidn2) */
  MAIL_FEATURE_MAILDIR = 1 << 9,  /**< the maildir store (mail/maildir.h) */
  MAIL_FEATURE_SOCKETS = 1 << 10, /**< TCP and Unix sockets (0 in a bare-metal build: user transports only) */
  MAIL_FEATURE_PROXY = 1 << 11,   /**< SOCKS5 and HTTP CONNECT proxies (mail_conn_set_proxy()) */
  MAIL_FEATURE_LOOP = 1 << 12,    /**< the built-in loop (mail/loop.h) */
  MAIL_FEATURE_SMTP_POOL = 1 << 13 /**< the SMTP session pool (mail/smtp_pool.h) */
} mail_feature;

/**
 * The MAIL_FEATURE_* bits of the runtime library. A program or binding
 * that may run against another build than the headers it was compiled
 * with checks the bits it needs (and mail_version_number()) first: a
 * function of a module that was not built is not exported at all.
 */
MAIL_EXTERN unsigned int mail_features(void);

/**
 * Optional, idempotent, thread-safe library initialisation (OpenSSL's own
 * initialisation). Never required: the first use of TLS initialises
 * OpenSSL (constructors do not, so a session that never uses TLS never
 * allocates through OpenSSL). A program that wants OpenSSL's global
 * allocations made up front may call it first.
 * Returns MAIL_OK or MAIL_ERR_INTERNAL.
 */
MAIL_EXTERN int mail_init(void);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_COMMON_H */

/*
 * libmail — common definitions shared by every module.
 *
 * Threading rule: libmail keeps no global mutable state. A handle (a
 * session, a parser, a builder, a TLS configuration while it is being
 * configured) must be used by one thread at a time; distinct handles may be
 * used from distinct threads at once without locking. A mail_tls_config
 * that has been attached to a connection is only read from then on and may
 * be shared by connections living on different threads.
 *
 * Ownership rule: anything libmail hands out is released with a libmail
 * call (mail_free() for plain buffers, mail_<object>_free() for handles).
 * Every *_free() function accepts NULL.
 */
#ifndef MAIL_COMMON_H
#define MAIL_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <mail/version.h>

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
 */
typedef enum mail_status {
  MAIL_OK = 0,

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
  MAIL_ERR_RECIPIENTS = -14,    /**< every recipient was refused */
  MAIL_ERR_PARTIAL = -15,       /**< some, not all, recipients/items failed; per-item results are kept */
  MAIL_ERR_CALLBACK = -16,      /**< a caller's callback returned an error */
  MAIL_ERR_CHARSET = -17,       /**< unknown charset or invalid encoding in caller input */
  MAIL_ERR_SYNTAX = -18,        /**< caller-supplied text does not parse (an address, a URL, a date) */
  MAIL_ERR_FILE = -19,          /**< a local file could not be opened or read */
  MAIL_ERR_NEEDS_SMTPUTF8 = -20,/**< the message needs SMTPUTF8 and the server does not offer it */
  MAIL_ERR_REQUIRETLS = -21,    /**< REQUIRETLS asked for but TLS is not verified or not offered */
  MAIL_ERR_SASL_BAD_CHALLENGE = -22, /**< a SASL challenge was malformed, oversized or not valid base64 */

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
  MAIL_ERR_INTERNAL = -113      /**< a bug in libmail; please report it */
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
 * (strings, buffers) comes from the same hooks and goes back through
 * mail_free() or the handle's free function.
 *
 * Buffers that held secrets (passwords, tokens, SASL responses) are
 * overwritten before they reach free(): a free hook never sees a secret.
 */
typedef struct mail_allocator {
  void *user;
  void *(*malloc)(size_t size, void *user);
  void (*free)(void *ptr, void *user);
  void *(*calloc)(size_t nmemb, size_t size, void *user);
  void *(*realloc)(void *ptr, size_t size, void *user);
} mail_allocator;

/**
 * Release a buffer libmail returned to the caller. alloc must be the
 * allocator the producing handle was created with (NULL for the default).
 * ptr may be NULL.
 */
MAIL_EXTERN void mail_free(const mail_allocator *alloc, void *ptr);

#define MAIL_LIMITS_VERSION 1

/**
 * Bounds on what a session buffers from the network. Server input that
 * exceeds one ends the operation with MAIL_ERR_LIMIT; it is never
 * truncated silently. Message bodies stream to callbacks and are not
 * bounded by these limits.
 *
 * Fill with mail_limits_default() and change what you need; version must
 * stay MAIL_LIMITS_VERSION so future fields get their defaults.
 */
typedef struct mail_limits {
  unsigned int version;   /**< MAIL_LIMITS_VERSION */
  size_t max_line;        /**< longest line from a server, CRLF included (default 64 KiB) */
  size_t max_literal;     /**< largest IMAP literal or counted block held in memory (default 64 MiB) */
  size_t max_response;    /**< most bytes buffered for one response (default 128 MiB) */
  unsigned int max_depth; /**< deepest nesting of lists/parts accepted (default 64) */
  size_t max_items;       /**< most items in one response list, e.g. capabilities, LIST lines (default 1,000,000) */
} mail_limits;

/** Fill *limits with the safe defaults documented in mail_limits. */
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
#define MAIL_CLOCK_MONOTONIC 0
#define MAIL_CLOCK_REALTIME 1

/** The runtime library's version string, e.g. "0.1.0". */
MAIL_EXTERN const char *mail_version(void);

/** The runtime library's version as 0xMMmmpp (compare with MAIL_VERSION_NUMBER). */
MAIL_EXTERN unsigned int mail_version_number(void);

/**
 * Optional, idempotent, thread-safe library initialisation (OpenSSL's own
 * initialisation). Every constructor calls it, so calling it is never
 * required; a program that starts threads may call it first.
 * Returns MAIL_OK or MAIL_ERR_INTERNAL.
 */
MAIL_EXTERN int mail_init(void);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_COMMON_H */

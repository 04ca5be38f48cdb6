/*
 * libmail — connections: the transport under every protocol session.
 *
 * A mail_conn is one connection to one server: plain TCP, TCP + TLS
 * (implicit or after STARTTLS), a Unix-domain socket, or a transport the
 * caller supplies (firmware). Every protocol session (SMTP, POP3, ...) owns
 * one and lends it out through mail_<proto>_conn(), so settings that are not
 * about a protocol — trace, limits, timeouts, TLS, transport, event-loop
 * mode — are made here, once, for every protocol.
 *
 * Blocking or event-loop: by default every call that talks to the server
 * blocks until it is done or its deadline passes. After
 * mail_conn_set_nonblocking(conn, 1) such calls return MAIL_ERR_AGAIN
 * instead of waiting; the caller then waits until mail_conn_fd() is ready
 * for mail_conn_want() (or mail_conn_timeout_ms() passes) and calls the
 * operation that returned MAIL_ERR_AGAIN (mail_smtp_send(),
 * mail_pop3_retr(), ...) again with the same arguments. There is no
 * separate step function: calling the operation again is the step.
 * Feed mode (mail_conn_set_feed(), below) goes one step further: the
 * connection has no descriptor, and the caller carries its bytes.
 *
 * Security defaults: certificates and host names are verified; TLS 1.2 is
 * the minimum; STARTTLS is required on plain ports unless the caller picks
 * an insecure mode by its name.
 *
 * Threading: a connection belongs to its session and is used by the
 * session's thread only (mail/common.h); a user transport's functions are
 * called from that thread, never from two at once.
 */
#ifndef MAIL_CONN_H
#define MAIL_CONN_H

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A connection (opaque): settings, the transport stack and the driver a session runs on. */
typedef struct mail_conn mail_conn;
/** TLS settings shared by connections (opaque, reference-counted; see below). */
typedef struct mail_tls_config mail_tls_config;

/** How a session protects its connection. */
typedef enum mail_security {
  /** Plain port, STARTTLS (STLS) required: if the upgrade fails in any way
   *  the session stops before a credential or envelope byte is sent. */
  MAIL_SECURITY_STARTTLS = 0,
  /** TLS from the first byte (smtps, pop3s, imaps, nntps). */
  MAIL_SECURITY_IMPLICIT_TLS = 1,
  /** Plain port, STARTTLS used when offered, else the session goes on in
   *  cleartext. Vulnerable to downgrade; an explicit opt-in. */
  MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE = 2,
  /** No TLS at all. An explicit opt-in (local sockets, test servers). */
  MAIL_SECURITY_NONE_INSECURE = 3
} mail_security;

/** Bits returned by mail_conn_want(). */
typedef enum mail_want {
  MAIL_WANT_READ = 1,  /**< wait until the descriptor is readable */
  MAIL_WANT_WRITE = 2, /**< wait until the descriptor is writable; in feed mode: drain output */
  /** Feed mode with the caller's TLS only (MAIL_FEED_CALLER_TLS): start
   *  TLS now, then answer with mail_conn_feed_tls_done(). */
  MAIL_WANT_TLS = 4
} mail_want;

/** Timeouts, in milliseconds, set with mail_conn_set_timeout(). */
typedef enum mail_timeout_kind {
  MAIL_TIMEOUT_CONNECT = 0, /**< name resolution + every address + TLS handshake (default 30 s) */
  MAIL_TIMEOUT_IO = 1       /**< longest wait without progress on a read or write (default 5 min) */
} mail_timeout_kind;

/**
 * Channel-binding types (RFC 5929, RFC 9266). Which one SCRAM-*-PLUS uses
 * is chosen by the SASL engine (see mail_sasl_set_channel_binding_preference
 * in mail/sasl.h for the order of preference).
 */
typedef enum mail_channel_binding {
  MAIL_CB_TLS_EXPORTER = 1,          /**< "tls-exporter": 32 bytes, TLS 1.3 or TLS 1.2 with EMS */
  MAIL_CB_TLS_SERVER_END_POINT = 2,  /**< "tls-server-end-point": hash of the server certificate */
  /** "tls-unique" (RFC 5929 section 3): the first Finished message of the
   *  latest handshake (the client's on a full handshake, the server's on a
   *  resumed one). TLS 1.2 and older only: undefined on TLS 1.3 (RFC 9266),
   *  and not given for a resumed session without the extended master
   *  secret, where the triple-handshake attack (RFC 7627) can make two
   *  connections share it. */
  MAIL_CB_TLS_UNIQUE = 3
} mail_channel_binding;

/* ------------------------------------------------------------------ */
/* User-supplied transport (firmware, custom stacks, tests)             */
/* ------------------------------------------------------------------ */

/* Version 2 adds no member: it only says that channel_binding may be asked
 * for MAIL_CB_TLS_UNIQUE. Version 1 transports never are (one written
 * before that type existed might answer it with another type's data). */
#define MAIL_TRANSPORT_OPS_VERSION 2

/**
 * A transport that replaces sockets and TLS entirely. Set version to
 * MAIL_TRANSPORT_OPS_VERSION; later versions only append members (or,
 * like version 2, widen what a member may be asked).
 *
 * Each function returns a mail_status. timeout_ms is the time left before
 * the operation's deadline; 0 in non-blocking mode means "do not wait":
 * return MAIL_ERR_AGAIN when nothing can be done now. -1 means no deadline.
 * In blocking mode (timeout_ms != 0) a function should wait up to
 * timeout_ms itself; if it returns MAIL_ERR_AGAIN anyway the library calls
 * it again after a pause of a few milliseconds until the deadline. In
 * non-blocking mode connect and start_tls are called again, with the same
 * arguments, until they return something other than MAIL_ERR_AGAIN.
 * Fatal statuses (MAIL_ERR_TIMEOUT, MAIL_ERR_TLS_VERIFY, ...) are passed
 * on as they are; any other non-fatal status than MAIL_OK and
 * MAIL_ERR_AGAIN becomes MAIL_ERR_IO (read, write), MAIL_ERR_CONNECT
 * (connect, which may also return MAIL_ERR_NOMEM or MAIL_ERR_INVALID) or
 * MAIL_ERR_TLS (start_tls).
 *
 * Full duplex: on a socket the library reads the server's replies while a
 * write is blocked, but it cannot wait on a transport without a descriptor
 * for both directions at once, so while write answers MAIL_ERR_AGAIN it
 * only calls write again (as above), never read. A transport whose peer
 * may stop reading until its replies are read (pipelined batches) should
 * keep receiving on its own while it waits to send and hand the buffered
 * bytes to the next read call.
 *
 * The library never calls these from more than one thread at a time, and
 * the struct and user pointer must outlive the connection.
 */
/* The members of mail_transport_ops, one type each (documented there):
 * each returns a mail_status as described above. */
typedef int (*mail_transport_connect_fn)(void *user, const char *host, unsigned int port, int timeout_ms);
typedef int (*mail_transport_read_fn)(void *user, unsigned char *buf, size_t len, size_t *got,
                                      int timeout_ms);
typedef int (*mail_transport_write_fn)(void *user, const unsigned char *buf, size_t len,
                                       size_t *written, int timeout_ms);
typedef int (*mail_transport_start_tls_fn)(void *user, const char *host, int timeout_ms);
typedef int (*mail_transport_is_verified_fn)(void *user);
typedef int (*mail_transport_channel_binding_fn)(void *user, int type, unsigned char *out, size_t cap,
                                                 size_t *len);
typedef void (*mail_transport_close_fn)(void *user);

/** A user transport: the functions above, in a versioned table (see mail_conn_set_transport()). */
typedef struct mail_transport_ops {
  /** 1, or 2 for a transport that can give MAIL_CB_TLS_UNIQUE; later versions only add members. */
  unsigned int version;
  /** Open the connection. May be NULL when the transport is connected
   *  before it is handed over. */
  mail_transport_connect_fn connect;
  /** Read at most len bytes; store the count in *got (> 0 on MAIL_OK).
   *  Return MAIL_ERR_CLOSED at end of stream, MAIL_ERR_TIMEOUT, MAIL_ERR_AGAIN
   *  or MAIL_ERR_IO as appropriate. */
  mail_transport_read_fn read;
  /** Write at most len bytes; store the count in *written (> 0 on MAIL_OK).
   *  The library passes each flush of its output buffer as one call. */
  mail_transport_write_fn write;
  /** Upgrade the live connection to TLS and verify the peer as host (also
   *  used for implicit TLS right after connect). NULL: TLS is unsupported on
   *  this transport and sessions that require it fail with MAIL_ERR_STARTTLS
   *  or MAIL_ERR_TLS. */
  mail_transport_start_tls_fn start_tls;
  /** 1 when TLS is up and the peer's certificate and name were verified.
   *  NULL means never verified: SASL PLAIN/LOGIN and REQUIRETLS then treat
   *  the link as unprotected. */
  mail_transport_is_verified_fn is_verified;
  /** Channel-binding data (mail_channel_binding) for SCRAM-*-PLUS. May be
   *  NULL (no -PLUS mechanisms then). Store the length in *len; return
   *  MAIL_ERR_BUFFER if cap is too small, MAIL_ERR_UNSUPPORTED for a type
   *  the connection does not have (tls-unique on TLS 1.3, a type the
   *  transport does not know). From version 2 on it may be asked for
   *  MAIL_CB_TLS_UNIQUE. */
  mail_transport_channel_binding_fn channel_binding;
  /** Close the connection; called once. May be NULL. */
  mail_transport_close_fn close;
} mail_transport_ops;

/* ------------------------------------------------------------------ */
/* TLS configuration (shared, reference-counted)                        */
/* ------------------------------------------------------------------ */

/*
 * Setters check and load what they are given at once (CA files, client
 * keys, pins), so a mistake is reported by the call that made it. None of
 * them blocks on the network. The first connection that uses a
 * configuration freezes it: its OpenSSL context is built then and shared
 * by every later connection (also across threads), and every setter
 * returns MAIL_ERR_STATE from then on; make a new configuration to change
 * settings. Setters also return MAIL_ERR_INVALID for a NULL cfg.
 */

/** Minimum protocol versions for mail_tls_config_set_min_version(). */
typedef enum mail_tls_version {
  MAIL_TLS_1_2 = 0x0303, /**< TLS 1.2 (the default minimum) */
  MAIL_TLS_1_3 = 0x0304  /**< TLS 1.3 */
} mail_tls_version;

/**
 * Verify callback: called once per full handshake after OpenSSL's chain and
 * host-name checks (and the pin check, when pins are set); not for a
 * resumed session, which is only ever one whose peer was accepted before
 * under the same configuration. It runs on the connection's thread, during
 * the handshake, and must not call back into that connection. preverify_ok is
 * 1 when they passed; reason is NULL then, else a short description. der is
 * the server's leaf certificate. Return 1 to accept the peer, 0 to refuse
 * (the handshake fails with MAIL_ERR_TLS_VERIFY). Trust-on-first-use is
 * built on this: remember the certificate, accept it when it matches.
 */
typedef int (*mail_tls_verify_fn)(void *user, int preverify_ok, const char *reason,
                                  const unsigned char *der, size_t der_len, const char *host);

/**
 * Create a TLS configuration with the secure defaults: the system CA store,
 * certificate and host-name verification on, TLS 1.2 minimum, session
 * resumption on. Returns MAIL_OK, MAIL_ERR_NOMEM or MAIL_ERR_UNSUPPORTED
 * (built without TLS). Does not block.
 */
MAIL_EXTERN int mail_tls_config_new(mail_tls_config **out, const mail_allocator *alloc);

/** Drop the caller's reference; the configuration lives on while connections use it. NULL is fine. */
MAIL_EXTERN void mail_tls_config_free(mail_tls_config *cfg);

/** Trust the CAs in a PEM file instead of the system store (may be called
 *  several times; CAs add up). MAIL_ERR_FILE if unreadable or without a certificate. */
MAIL_EXTERN int mail_tls_config_set_ca_file(mail_tls_config *cfg, const char *path);
/** Trust the CAs in an OpenSSL hashed directory instead of the system store.
 *  MAIL_ERR_FILE if dir is not a directory. */
MAIL_EXTERN int mail_tls_config_set_ca_path(mail_tls_config *cfg, const char *dir);
/** Trust the CAs in a PEM buffer instead of the system store (parsed at
 *  once; pem is not kept). MAIL_ERR_SYNTAX when it holds no certificate. */
MAIL_EXTERN int mail_tls_config_set_ca_mem(mail_tls_config *cfg, const char *pem, size_t len);
/** Keep the system store in addition to CAs set above (on by default only when no CA is set). */
MAIL_EXTERN int mail_tls_config_set_system_ca(mail_tls_config *cfg, int on);

/**
 * Client certificate and key (PEM) from files. cert_path may hold the
 * chain after the certificate. passphrase may be NULL; it is used once,
 * while loading, and not kept (the library never prompts). Errors:
 * MAIL_ERR_FILE (unreadable, or no certificate / no key in it),
 * MAIL_ERR_INVALID (the key does not decrypt with passphrase, or does not
 * belong to the certificate).
 */
MAIL_EXTERN int mail_tls_config_set_client_cert_file(mail_tls_config *cfg, const char *cert_path,
                                                      const char *key_path, const char *passphrase);
/** Client certificate and key (PEM) from memory; parsed at once and not
 *  kept. As above, with MAIL_ERR_SYNTAX instead of MAIL_ERR_FILE. */
MAIL_EXTERN int mail_tls_config_set_client_cert_mem(mail_tls_config *cfg, const char *cert_pem,
                                                     size_t cert_len, const char *key_pem,
                                                     size_t key_len, const char *passphrase);

/**
 * Pin the server's public key: sha256_b64 is the base64 SHA-256 of the
 * certificate's SubjectPublicKeyInfo (what `openssl x509 -pubkey | openssl
 * pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`
 * prints), optionally prefixed "sha256//". Several pins may be added; one
 * must match. Pins add to CA verification unless pin-only mode is set.
 * MAIL_ERR_SYNTAX when it is not 32 bytes of base64; MAIL_ERR_INVALID
 * beyond 32 pins.
 */
MAIL_EXTERN int mail_tls_config_add_pin_sha256(mail_tls_config *cfg, const char *sha256_b64);
/** Accept a certificate that matches a pin even if no CA vouches for it (the host name is still checked). */
MAIL_EXTERN int mail_tls_config_set_pin_only(mail_tls_config *cfg, int on);
/** Install a verify callback (see mail_tls_verify_fn; NULL removes it). A
 *  peer it accepts counts as verified (mail_conn_is_verified). */
MAIL_EXTERN int mail_tls_config_set_verify_callback(mail_tls_config *cfg, mail_tls_verify_fn fn, void *user);
/** MAIL_TLS_1_2 (default) or MAIL_TLS_1_3; anything else is MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_tls_config_set_min_version(mail_tls_config *cfg, int version);
/** Resume TLS sessions on reconnects to the same host and port (default
 *  on). Sessions are cached in the configuration, so share one
 *  configuration between the connections that should resume. Only
 *  sessions with a peer that passed verification are resumed. */
MAIL_EXTERN int mail_tls_config_set_session_resumption(mail_tls_config *cfg, int on);
/**
 * Turn certificate and host-name verification off. The connection is then
 * encrypted but not authenticated: anyone on the path can read it. For
 * tests only; the name says so.
 */
MAIL_EXTERN int mail_tls_config_set_insecure_no_verify(mail_tls_config *cfg, int on);

/* ------------------------------------------------------------------ */
/* Connections                                                          */
/* ------------------------------------------------------------------ */

/**
 * Create an unconnected connection. Protocol sessions create their own; use
 * this directly only to drive a protocol engine of your own. Returns
 * MAIL_OK or MAIL_ERR_NOMEM. alloc may be NULL; it is copied.
 */
MAIL_EXTERN int mail_conn_new(mail_conn **out, const mail_allocator *alloc);
/** Close (if open) and free. NULL is fine. */
MAIL_EXTERN void mail_conn_free(mail_conn *conn);

/** Install a trace hook (NULL to remove). See mail_trace_fn. MAIL_OK, or
 *  MAIL_ERR_INVALID for a NULL conn (as every conn setter). */
MAIL_EXTERN int mail_conn_set_trace(mail_conn *conn, mail_trace_fn fn, void *user);
/** Show secrets in the trace instead of "[redacted]". Off by default; for debugging only.
 *  MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_conn_set_trace_show_secrets_insecure(mail_conn *conn, int on);
/**
 * Replace the limits (copied; see mail_limits). Version 1 or 2; the fields
 * a version 1 struct lacks get their defaults. They apply to every module
 * of the session from its next use of a buffer, also when set after the
 * session was made or while it is connected (a response already held is
 * not cut). MAIL_ERR_INVALID on NULL, an unknown version, a zero bound,
 * max_line below 16 or max_output below 16 KiB (nothing changes then).
 */
MAIL_EXTERN int mail_conn_set_limits(mail_conn *conn, const mail_limits *limits);
/**
 * Read the limits in force into *out, writing only the fields of the
 * version the caller put in out->version (1 or 2; a newer version gets
 * version 2's fields and out->version is set to 2; 0 is taken as 1), so a
 * program built against version 1 can pass its smaller struct.
 */
MAIL_EXTERN void mail_conn_get_limits(const mail_conn *conn, mail_limits *out);
/** Set a timeout in milliseconds (mail_timeout_kind); -1 waits forever. */
MAIL_EXTERN int mail_conn_set_timeout(mail_conn *conn, int kind, int ms);
/** Replace the random source (NULL restores the default). MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_conn_set_random(mail_conn *conn, mail_random_fn fn, void *user);
/** Replace the clock (NULL restores the default). MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_conn_set_clock(mail_conn *conn, mail_clock_fn fn, void *user);
/** Use this TLS configuration (a reference is taken; NULL restores the defaults).
 *  It is used from the next connect or STARTTLS on. MAIL_OK or MAIL_ERR_INVALID (NULL conn). */
MAIL_EXTERN int mail_conn_set_tls_config(mail_conn *conn, mail_tls_config *cfg);
/** Name used for SNI and certificate checks when it differs from the host connected to.
 *  MAIL_OK, MAIL_ERR_INVALID (CR, LF or NUL), MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_conn_set_tls_server_name(mail_conn *conn, const char *name);
/** Event-loop mode (see the top of this header). Off by default. MAIL_OK, MAIL_ERR_INVALID,
 *  or MAIL_ERR_STATE when turning it off in feed mode (mail_conn_set_feed()). */
MAIL_EXTERN int mail_conn_set_nonblocking(mail_conn *conn, int on);

/**
 * Replace sockets and TLS by a user transport (see mail_transport_ops).
 * Must be called before connecting. ops and user must outlive conn.
 * MAIL_ERR_INVALID for an unknown ops->version; MAIL_ERR_STATE when
 * connecting or connected, or in feed mode (mail_conn_set_feed()).
 */
MAIL_EXTERN int mail_conn_set_transport(mail_conn *conn, const mail_transport_ops *ops, void *user);

/* ------------------------------------------------------------------ */
/* Feed/drain mode: no descriptor, the caller moves the bytes           */
/* ------------------------------------------------------------------ */

/** TLS in feed mode (mail_conn_set_feed()). */
typedef enum mail_feed_mode {
  MAIL_FEED_OFF = 0,          /**< a socket or a user transport (the default) */
  MAIL_FEED_LIBMAIL_TLS = 1,  /**< feed mode; TLS, when the session needs it, is libmail's */
  MAIL_FEED_CALLER_TLS = 2    /**< feed mode; TLS is the caller's (MAIL_WANT_TLS) */
} mail_feed_mode;

/**
 * Feed mode: the connection has no socket and no descriptor at all; the
 * caller carries the bytes with its own I/O (asyncio, Rust, Go, a
 * firmware stack): it feeds what the server sent with mail_conn_feed()
 * and takes what the client sends with mail_conn_drain().
 *
 * How it runs: every operation behaves as in event-loop mode (feed mode
 * turns it on and it cannot be turned off meanwhile): it returns
 * MAIL_ERR_AGAIN when it cannot go on, and mail_conn_want() says why:
 * MAIL_WANT_WRITE: output waits, drain it; MAIL_WANT_READ: bytes from
 * the server are needed, feed them (or mail_conn_feed_eof()); MAIL_WANT_TLS
 * (caller-TLS mode only): start TLS. Then call the operation again with
 * the same arguments. mail_conn_timeout_ms() gives the deadline as
 * usual: the caller's loop calls the operation again when it passes, and
 * the operation then fails with MAIL_ERR_TIMEOUT. mail_conn_fd() is -1.
 * Drain after every call, whatever it returned: a session's last bytes
 * (QUIT) are written just before it closes the connection, and stay to be
 * drained until the next connect or mail_conn_free().
 *
 * Connecting: mail_conn_connect() (and so every session's connect) makes
 * no socket and resolves nothing: host and port only name the server (for
 * TLS verification, SNI and session resumption). The other ways to
 * connect, a proxy and a user transport are MAIL_ERR_STATE in feed mode.
 *
 * TLS: with MAIL_FEED_LIBMAIL_TLS implicit TLS and STARTTLS run libmail's
 * TLS over the fed and drained bytes (they are then the TLS records), with
 * the usual verification (mail_tls_config). With MAIL_FEED_CALLER_TLS the
 * bytes are the plaintext, and when the session needs TLS (at connect
 * with implicit TLS, or after the server's STARTTLS go-ahead) the
 * operation returns MAIL_ERR_AGAIN with MAIL_WANT_TLS: the caller starts
 * TLS on its side, verifies the server, and answers with
 * mail_conn_feed_tls_done(); bytes fed in the clear before that are
 * refused as MAIL_ERR_STARTTLS_INJECTION. A caller whose TLS wants a
 * table of functions instead can use a user transport
 * (mail_conn_set_transport()), which also takes its own TLS.
 *
 * Set before connecting; mode is a mail_feed_mode (MAIL_FEED_OFF goes
 * back to sockets; event-loop mode stays on). Errors: MAIL_ERR_INVALID
 * (NULL conn, unknown mode), MAIL_ERR_STATE (connecting or connected, a
 * user transport or a proxy is set). Does not block.
 */
MAIL_EXTERN int mail_conn_set_feed(mail_conn *conn, int mode);

/**
 * Feed len bytes the server sent. *taken says how many were taken: the
 * connection holds at most max_line (mail_limits) fed bytes it has not
 * read yet and refuses the rest; call the pending operation (which reads
 * them) and feed the rest after. Returns MAIL_OK (*taken > 0, or len 0),
 * MAIL_ERR_AGAIN (nothing fit: *taken is 0), MAIL_ERR_INVALID (NULL conn
 * or taken, NULL buf with len > 0), MAIL_ERR_STATE (not in feed mode, not
 * connected, after mail_conn_feed_eof() / mail_conn_feed_error(), or
 * while MAIL_WANT_TLS waits for mail_conn_feed_tls_done()),
 * MAIL_ERR_NOMEM (nothing taken; the connection is unchanged). Does not
 * block; the bytes are copied.
 */
MAIL_EXTERN int mail_conn_feed(mail_conn *conn, const unsigned char *buf, size_t len,
                               size_t *taken);

/**
 * The server closed its side: once the fed bytes are read, reads see end
 * of stream (as a socket's would). MAIL_OK, MAIL_ERR_INVALID (NULL),
 * MAIL_ERR_STATE (not in feed mode or not connected). Does not block.
 */
MAIL_EXTERN int mail_conn_feed_eof(mail_conn *conn);

/**
 * The caller's I/O failed (a reset, its own timeout): the pending
 * operation fails with status, which must be fatal (mail_status_is_fatal:
 * MAIL_ERR_IO, MAIL_ERR_TIMEOUT, MAIL_ERR_TLS ...), and the connection
 * closes. Fed bytes not yet read are read first. MAIL_OK,
 * MAIL_ERR_INVALID (NULL, a status that is not fatal), MAIL_ERR_STATE
 * (not in feed mode or not connected). Does not block.
 */
MAIL_EXTERN int mail_conn_feed_error(mail_conn *conn, int status);

/**
 * Take up to cap bytes of output into buf; *len gets the count (0 when
 * nothing waits). Bytes come out in order and once; a small buffer just
 * takes several calls. The connection hands over one flush at a time
 * (at most max_output bytes, mail_limits): the next is queued only once
 * this one is drained completely. MAIL_OK, MAIL_ERR_INVALID (NULL conn or
 * len, NULL buf with cap > 0), MAIL_ERR_STATE (not in feed mode). Does
 * not block. Also after the connection closed, until the next connect.
 */
MAIL_EXTERN int mail_conn_drain(mail_conn *conn, unsigned char *buf, size_t cap, size_t *len);

/**
 * Caller-TLS mode: the answer to MAIL_WANT_TLS. status MAIL_OK when the
 * caller's TLS is up, and verified 1 only when it verified the server's
 * certificate and name (mail_conn_is_verified(); SASL PLAIN/LOGIN and
 * REQUIRETLS need it); from then on fed and drained bytes are the
 * plaintext inside the caller's TLS. Any other status fails the
 * operation (a non-fatal one becomes MAIL_ERR_TLS; use
 * MAIL_ERR_TLS_VERIFY for a refused server) and closes the connection.
 * Call the pending operation again after. MAIL_OK, MAIL_ERR_INVALID
 * (NULL), MAIL_ERR_STATE (not asked for TLS, or already answered). Does
 * not block.
 */
MAIL_EXTERN int mail_conn_feed_tls_done(mail_conn *conn, int status, int verified);

/**
 * Caller-TLS mode: channel-binding data of the caller's TLS
 * (mail_channel_binding type, at most 64 bytes, copied), for
 * SCRAM-*-PLUS; give it before or right after mail_conn_feed_tls_done().
 * len 0 removes it. mail_conn_channel_binding() answers with it.
 * MAIL_OK, MAIL_ERR_INVALID (NULL, unknown type, len over 64),
 * MAIL_ERR_STATE (not in caller-TLS feed mode or not connected). Does not
 * block.
 */
MAIL_EXTERN int mail_conn_feed_set_channel_binding(mail_conn *conn, int type,
                                                   const unsigned char *data, size_t len);

/**
 * A name resolver of the caller's (c-ares, the event loop's own, a cache):
 * asked for the addresses of host (a name: IP literals are never given to
 * it) for a connect to port. It answers with mail_conn_resolved() on the
 * connection's thread, either before it returns (any mode) or later
 * (event-loop mode only: the connect returns MAIL_ERR_AGAIN meanwhile,
 * with no descriptor to wait on and mail_conn_timeout_ms() counting down
 * to the connect deadline; call the connect again once it answered).
 * Return MAIL_OK when the query was taken, or a status that ends the
 * connect (MAIL_ERR_RESOLVE for "no such name", MAIL_ERR_NOMEM ...).
 */
typedef int (*mail_resolve_fn)(void *user, mail_conn *conn, const char *host, unsigned int port);

/**
 * Resolve host names with fn (user passed back) instead of the blocking
 * getaddrinfo(): mail_conn_connect() (and so every session's connect) asks
 * fn for the server's name, or the proxy's when a proxy is set. NULL
 * restores getaddrinfo(). MAIL_OK, MAIL_ERR_INVALID (NULL conn),
 * MAIL_ERR_STATE (while connecting). Does not block.
 */
MAIL_EXTERN int mail_conn_set_resolver(mail_conn *conn, mail_resolve_fn fn, void *user);

/**
 * The answer to the resolver's query (see mail_resolve_fn): status MAIL_OK
 * with n >= 1 addresses addrs[i] (struct sockaddr_in or sockaddr_in6 of
 * lens[i] bytes; their port is set to the connect's), tried in order under
 * the one connect deadline; or a failure status (MAIL_ERR_RESOLVE,
 * MAIL_ERR_TIMEOUT ...) with why (NULL allowed; no CR/LF) for
 * mail_conn_last_error(), which the connect then returns. The addresses
 * are copied. Errors: MAIL_ERR_STATE (no query is waiting for an answer,
 * or it was answered already), MAIL_ERR_INVALID (n 0 with MAIL_OK, an
 * address that is not IPv4 or IPv6), MAIL_ERR_NOMEM (the connect then
 * fails with it). Does not block.
 */
MAIL_EXTERN int mail_conn_resolved(mail_conn *conn, int status, const void *const *addrs,
                                   const size_t *lens, size_t n, const char *why);

/** Kinds of proxy (mail_conn_set_proxy()). */
typedef enum mail_proxy_kind {
  MAIL_PROXY_NONE = 0,   /**< connect to the server directly (the default) */
  MAIL_PROXY_SOCKS5 = 1, /**< a SOCKS5 proxy (RFC 1928); it resolves the server's name */
  MAIL_PROXY_HTTP = 2    /**< an HTTP proxy's CONNECT tunnel (RFC 9110 9.3.6) */
} mail_proxy_kind;

/**
 * Reach the server through a proxy from the next mail_conn_connect() on
 * (and so the sessions' connect calls): TCP goes to host:port, the proxy is
 * asked for a tunnel to the server's host and port (sent as a name, never
 * resolved here: the proxy resolves it), and the protocol, implicit TLS and
 * STARTTLS then run inside the tunnel exactly as without a proxy: the
 * server's certificate is verified against the server's name, not the
 * proxy's. The negotiation counts against the connect timeout. kind
 * MAIL_PROXY_NONE (host NULL, port 0) removes the proxy and its
 * credentials. Connecting by address, to a Unix socket, over an adopted
 * descriptor or a user transport while a proxy is set is MAIL_ERR_STATE.
 * A refused tunnel, refused proxy credentials or a proxy that breaks its
 * protocol is MAIL_ERR_PROXY (fatal) with the reason in
 * mail_conn_last_error(); an HTTP proxy's answer longer than max_line is
 * MAIL_ERR_LIMIT. Errors here: MAIL_ERR_INVALID (unknown kind; a host
 * that is empty, over 255 bytes or holds CR, LF, NUL or a space; port
 * outside 1..65535), MAIL_ERR_STATE (while connecting or connected),
 * MAIL_ERR_NOMEM. Does not block.
 */
MAIL_EXTERN int mail_conn_set_proxy(mail_conn *conn, int kind, const char *host, unsigned int port);

/**
 * Credentials for the proxy set by mail_conn_set_proxy(): SOCKS5
 * user/password (RFC 1929) or HTTP Basic (RFC 7617). Both travel to the
 * proxy as the protocol has them, unprotected by TLS (the proxy hop is
 * plain TCP): use them only on a network you trust. They never appear in a
 * trace or an error text, and are wiped when replaced, removed (user NULL)
 * or freed. Errors: MAIL_ERR_INVALID (user without password or the
 * reverse; either over 255 bytes; CR, LF or NUL; ':' in an HTTP user),
 * MAIL_ERR_STATE (no proxy set, or while connecting or connected),
 * MAIL_ERR_NOMEM. Does not block.
 */
MAIL_EXTERN int mail_conn_set_proxy_auth(mail_conn *conn, const char *user, const char *password);

/**
 * mail_conn_set_proxy() and mail_conn_set_proxy_auth() from one URL:
 * "socks5://[user:password@]host[:port]" (default port 1080; "socks5h" is
 * taken as a synonym, since the name always goes to the proxy) or
 * "http://[user:password@]host[:port]" (default port 8080), with the user
 * and password percent-encoded. Errors: MAIL_ERR_SYNTAX (another scheme,
 * a path, a malformed URL; the text names no credential), and those of the
 * two calls.
 */
MAIL_EXTERN int mail_conn_set_proxy_url(mail_conn *conn, const char *url);

/**
 * Use an already connected stream socket (event-loop callers that connect
 * themselves). On success conn takes ownership of fd (sets it non-blocking
 * and close-on-exec) and closes it when the connection closes; on failure
 * fd stays open and the caller's. host is used for TLS verification and may
 * be NULL when no TLS will be used. Does not block. Errors:
 * MAIL_ERR_INVALID (bad descriptor or host), MAIL_ERR_STATE (already open,
 * or a user transport is set), MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_conn_adopt_fd(mail_conn *conn, int fd, const char *host);

/**
 * Connect to host:port over TCP, trying every address getaddrinfo returns
 * (IPv6 and IPv4) within one MAIL_TIMEOUT_CONNECT deadline, then, when
 * implicit_tls is non-zero, perform the TLS handshake and verification.
 * With a user transport, calls its connect and start_tls.
 * So that a silent address cannot use up the whole deadline, each address
 * gets an equal share of the time left: (time left) / (addresses not yet
 * tried); a refusal moves on at once. host may be an IPv6 literal with or
 * without brackets.
 * Blocks unless non-blocking (then MAIL_ERR_AGAIN: wait for mail_conn_fd()
 * and mail_conn_want() until mail_conn_timeout_ms(), then call again with
 * the same arguments). Name resolution (getaddrinfo) always blocks, even in
 * non-blocking mode: event-loop callers that cannot afford that resolve
 * themselves and use mail_conn_connect_addr().
 * Errors: MAIL_ERR_RESOLVE, MAIL_ERR_CONNECT, MAIL_ERR_TIMEOUT, MAIL_ERR_TLS,
 * MAIL_ERR_TLS_VERIFY, MAIL_ERR_INVALID, MAIL_ERR_STATE (already open),
 * MAIL_ERR_NOMEM. mail_conn_last_error() says which address failed and why.
 */
MAIL_EXTERN int mail_conn_connect(mail_conn *conn, const char *host, unsigned int port, int implicit_tls);

/**
 * Connect to a resolved address (a struct sockaddr_in, sockaddr_in6 or
 * sockaddr_un of addr_len bytes; copied). host is used for TLS
 * verification (may be NULL without TLS). Does not resolve, so it never
 * blocks in non-blocking mode; otherwise as mail_conn_connect().
 * MAIL_ERR_STATE with a user transport (use mail_conn_connect()).
 */
MAIL_EXTERN int mail_conn_connect_addr(mail_conn *conn, const void *sockaddr, size_t addr_len,
                                       const char *host, int implicit_tls);

/**
 * Connect to a Unix-domain stream socket (LMTP's usual home), within the
 * MAIL_TIMEOUT_CONNECT deadline; blocking and event-loop use as
 * mail_conn_connect(). MAIL_ERR_INVALID for an empty or too long path,
 * MAIL_ERR_CONNECT when nothing listens there, MAIL_ERR_STATE with a user
 * transport or when already open.
 */
MAIL_EXTERN int mail_conn_connect_unix(mail_conn *conn, const char *path);

/** Close the connection (no protocol goodbye; sessions send theirs first). Safe to repeat. */
MAIL_EXTERN void mail_conn_close(mail_conn *conn);

/** The socket to poll, or -1 (not connected, a user transport, or feed mode). */
MAIL_EXTERN int mail_conn_fd(const mail_conn *conn);
/**
 * A mail_want value: MAIL_WANT_READ and/or MAIL_WANT_WRITE: what the pending operation waits
 * for. Both bits while output is blocked on a socket connection: the
 * library also listens for the server's replies then, so call the pending
 * operation again as soon as the descriptor is ready for either.
 */
MAIL_EXTERN int mail_conn_want(const mail_conn *conn);
/** Milliseconds until the pending operation's deadline (0 if passed), or -1 for none. */
MAIL_EXTERN int64_t mail_conn_timeout_ms(const mail_conn *conn);
/**
 * A second descriptor for an event loop to poll for reading, next to
 * mail_conn_fd(), or -1 when there is none: the read end of the wake pipe
 * a session creates for an operation that can be stopped from elsewhere
 * (IMAP IDLE: mail_imap_idle_stop()). When it is readable, call the
 * pending operation again (it reads the pipe empty and acts on the stop);
 * a loop that does not poll it sees a stop only at its next call.
 */
MAIL_EXTERN int mail_conn_wake_fd(const mail_conn *conn);

/**
 * Make mail_conn_cancel() from another thread end a blocking wait at once:
 * opens the connection's wake pipe now (two descriptors, kept until
 * mail_conn_free(); mail_conn_wake_fd() is its read end, for an event
 * loop to poll). Without it a cancel from another thread is acted on at
 * the next wait or step, or when the wait's timeout passes. MAIL_OK,
 * MAIL_ERR_IO (no pipe), MAIL_ERR_UNSUPPORTED (a build without sockets),
 * MAIL_ERR_INVALID (NULL). Does not block.
 */
MAIL_EXTERN int mail_conn_enable_cancel(mail_conn *conn);

/**
 * Cancel the operation in progress on conn (a connect, or any session
 * operation: a send, a FETCH, an IDLE ...): safe to call from ANY thread
 * (like mail_imap_idle_stop(), an exception to the one-thread rule of
 * common.h) and from the connection's own event loop between two calls
 * of a pending operation. The operation returns MAIL_ERR_CANCELLED on the
 * connection's thread at its next wait or step (at once in a blocking
 * wait after mail_conn_enable_cancel(); an event loop polling
 * mail_conn_wake_fd() wakes at once, and the operation called again
 * returns it). The connection is then closed (half a command exchange
 * cannot be taken back), the session's state is disconnected, and
 * mail_conn_last_error() says it was cancelled; connect again to go on.
 * What was done before stays done (messages a batch already sent stay
 * sent, with their results). When no operation is in progress the call
 * does nothing, and a cancel that arrives as the operation ends may find
 * nothing left to cancel (its own result stands). conn must stay alive
 * during the call. Returns nothing; never blocks.
 */
MAIL_EXTERN void mail_conn_cancel(mail_conn *conn);

/** 1 when TLS is active on the connection. */
MAIL_EXTERN int mail_conn_is_tls(const mail_conn *conn);
/** 1 when TLS is active and the server was verified (CA chain or pin, and name). */
MAIL_EXTERN int mail_conn_is_verified(const mail_conn *conn);
/** Negotiated TLS version, e.g. "TLSv1.3", or NULL without TLS. */
MAIL_EXTERN const char *mail_conn_tls_version(const mail_conn *conn);
/** Negotiated cipher name, or NULL without TLS. */
MAIL_EXTERN const char *mail_conn_tls_cipher(const mail_conn *conn);
/** 1 when the last handshake resumed an earlier TLS session. */
MAIL_EXTERN int mail_conn_tls_resumed(const mail_conn *conn);
/**
 * The server's leaf certificate (DER), available after a handshake,
 * including one that failed verification. Valid until the next connect or
 * free. MAIL_ERR_NOT_FOUND when there is none.
 */
MAIL_EXTERN int mail_conn_peer_certificate(const mail_conn *conn, const unsigned char **der, size_t *len);
/** Why verification failed (English text, no secrets), or NULL. */
MAIL_EXTERN const char *mail_conn_verify_error(const mail_conn *conn);

/**
 * Channel-binding data for the live TLS connection (mail_channel_binding).
 * Stores the length in *len. MAIL_ERR_UNSUPPORTED when not available (no
 * TLS; tls-exporter on TLS 1.2 without extended master secret; tls-unique
 * on TLS 1.3, on a resumed session without extended master secret, or
 * from a version 1 user transport). MAIL_ERR_INVALID for an unknown type.
 */
MAIL_EXTERN int mail_conn_channel_binding(const mail_conn *conn, int type, unsigned char *out,
                                          size_t cap, size_t *len);

/**
 * 1 when COMPRESS=DEFLATE (IMAP RFC 4978, NNTP RFC 8054) is active on the
 * connection: the session's compress call succeeded. It stays on until the
 * connection closes.
 */
MAIL_EXTERN int mail_conn_is_compressed(const mail_conn *conn);
/**
 * Bytes carried since compression started: *wire_in / *wire_out as sent on
 * the wire (compressed), *plain_in / *plain_out as the protocol sees them.
 * All four are 0 without compression. MAIL_ERR_INVALID for a NULL argument.
 */
MAIL_EXTERN int mail_conn_compress_counts(uint64_t *wire_in, uint64_t *plain_in, uint64_t *wire_out,
                                          uint64_t *plain_out, const mail_conn *conn);

/**
 * A description of the last failure on this connection (English, never a
 * credential), or "" when none. It is also the one error string of the
 * session that owns the connection (mail_smtp_conn(), mail_pop3_conn()):
 * what the last failed operation did and why, with the command and the
 * server's reply where there is one; each session operation clears it when
 * it starts, and one that succeeds leaves it empty. Valid until the next
 * call on the connection or its session.
 */
MAIL_EXTERN const char *mail_conn_last_error(const mail_conn *conn);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_CONN_H */

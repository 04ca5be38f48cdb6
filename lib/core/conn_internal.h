/*
 * What protocol engines see of a connection. Engines include this header,
 * never a socket or OpenSSL header: they read parsed input from the
 * connection's reader, queue output bytes, and ask the driver to run them.
 *
 * The driver (mail_conn_run) is the only code that moves bytes between the
 * transport and the engine:
 *
 *   loop:
 *     rc = advance(engine)          -- engine consumes reader input and
 *                                      queues output; no I/O
 *     if rc != MAIL_ERR_AGAIN:      -- operation finished (or failed)
 *        flush queued output (writing only), return rc
 *     if output queued: write it    -- one transport write per flush; if
 *                                      the write would block, also read
 *                                      what has arrived (see below)
 *     else: read into the reader    -- then advance again
 *     a step that would block: wait (blocking mode, with the deadline) or
 *     return MAIL_ERR_AGAIN (non-blocking mode; mail_conn_want() tells why)
 *
 * Full duplex: a server may stop reading until we read its replies
 * (pipelined batches, an early error while a body streams). So while a
 * write would block, the driver also reads into the reader and, when bytes
 * (or end of stream) arrive, calls advance() before writing on: the engine
 * sees replies while its output is still pending, and a reply may complete
 * the operation with output still queued (it is then flushed as above).
 * Blocking mode polls both directions; in non-blocking mode
 * mail_conn_want() is MAIL_WANT_READ | MAIL_WANT_WRITE. A TLS layer's own
 * wants (it may need to read to write, or the reverse) are merged in.
 * Reading stops while the reader is full (an engine that leaves replies
 * unread gets no more buffered: the wait then ends at the I/O deadline),
 * after end of stream, and for user transports, which have no fd to poll:
 * they keep write-only waits (see mail_transport_ops).
 *
 * advance() is also called after output drains, so a body producer can
 * queue its next chunk only when mail_conn_out_pending() is low
 * (backpressure keeps memory bounded).
 */
#ifndef MAIL_CORE_CONN_INTERNAL_H
#define MAIL_CORE_CONN_INTERNAL_H

#include <stdint.h>
#include <mail/conn.h>

#include "core/env.h"
#include "core/reader.h"

/* Engine step: MAIL_ERR_AGAIN = needs more input or output room. */
typedef int (*mail_advance_fn)(void *engine);

/* The handle's environment (allocator, random, clock). */
const mail_env *mail_conn_env(const mail_conn *c);
/* The limits in force (never NULL). */
const mail_limits *mail_conn_limits(const mail_conn *c);
/* The input reader the engine parses from. */
mail_reader *mail_conn_reader(mail_conn *c);

/* Queue bytes to send (traced as they are written). */
int mail_conn_send(mail_conn *c, const void *data, size_t len);
/* Queue bytes that are a secret: the trace shows "[redacted]" in their
 * place, and the output buffer is wiped from now on when it drops bytes. */
int mail_conn_send_secret(mail_conn *c, const void *data, size_t len);
/* printf-style mail_conn_send. */
int mail_conn_sendf(mail_conn *c, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/* Bytes queued and not yet written. */
size_t mail_conn_out_pending(const mail_conn *c);
/* Write in place at the end of the queue instead of building bytes
 * elsewhere and copying them in: make room for at least want more bytes
 * (within max_output: MAIL_ERR_TOO_BIG, or MAIL_ERR_NOMEM), *at is where
 * they go and *room how many fit there; mail_conn_out_commit() then
 * queues the first n written (n <= *room). Nothing else may be queued in
 * between. */
int mail_conn_out_room(mail_conn *c, size_t want, unsigned char **at, size_t *room);
void mail_conn_out_commit(mail_conn *c, size_t n);

/* A command built from several sends must never leave half: take a mark
 * before the first send and, if a later one fails, roll the queue back to
 * it (dropped bytes are wiped when the queue is sensitive). A mark stays
 * valid until the driver next writes. */
uint64_t mail_conn_out_mark(const mail_conn *c);
void mail_conn_out_rollback(mail_conn *c, uint64_t mark);

/* Run the engine until advance() returns something other than
 * MAIL_ERR_AGAIN (see above). In non-blocking mode returns MAIL_ERR_AGAIN
 * whenever the transport would block. On a fatal error the connection is
 * closed and mail_conn_last_error() says why; later calls return that same
 * status.
 *
 * When advance() finishes with output still queued, the queue is flushed
 * before its status is returned (in non-blocking mode the next
 * mail_conn_run() finishes the flush and returns it). If the server stops
 * taking bytes (the write fails because it closed), queued output is
 * dropped and reading goes on, so the engine still sees the reply the
 * server sent before closing (an SMTP 421); then MAIL_ERR_CLOSED. */
int mail_conn_run(mail_conn *c, mail_advance_fn advance, void *engine);

/* How long, in ms, a wait without progress may last instead of
 * MAIL_TIMEOUT_IO (e.g. SMTP's 10 minutes for the reply after the final
 * dot). It stays in force for every later wait until set again; -1 goes
 * back to MAIL_TIMEOUT_IO. */
void mail_conn_set_wait_timeout(mail_conn *c, int ms);


/* Ending a wait early (net/conn_wake.c). _wake_open() creates the
 * connection's self-pipe (once; closed by mail_conn_free()).
 * mail_conn_wake() writes to it and is the one function safe to call
 * from another thread (while the connection is alive). _set_wake(): while
 * listen is 1 a blocking wait also ends when the pipe is written, and
 * (listen or not) when the connection's clock reaches at_ms (-1: never);
 * the engine's advance() is then called again with nothing failed. In
 * event-loop mode mail_conn_timeout_ms() counts down to at_ms too, and the
 * loop polls the pipe (mail_conn_wake_fd()). Listening ends (listen 0)
 * with the pipe read empty. */
/* What is under way on c, for mail_conn_cancel(): a session's operation
 * (core/engine.c), a connect, a run of the driver. A cancel applies while
 * any is set; when the last ends, a cancel that came too late is dropped. */
enum { MAIL_CONN_BUSY_SESSION = 1, MAIL_CONN_BUSY_CONNECT = 2, MAIL_CONN_BUSY_RUN = 4 };
void mail_conn_busy(mail_conn *c, int what, int on);

int mail_conn_wake_open(mail_conn *c);
void mail_conn_wake(mail_conn *c);
void mail_conn_set_wake(mail_conn *c, int listen, int64_t at_ms);

/*
 * Switch the live connection to TLS after a STARTTLS/STLS go-ahead. Fails
 * with MAIL_ERR_STARTTLS_INJECTION, closing the connection, when the reader
 * holds any byte (they arrived before the handshake and must never be
 * read as data). The handshake itself runs inside the next mail_conn_run()
 * and fails it with MAIL_ERR_TLS or MAIL_ERR_TLS_VERIFY.
 */
int mail_conn_start_tls(mail_conn *c);

/*
 * Switch the live connection to COMPRESS=DEFLATE after the server's
 * go-ahead (lib/net/conn_compress.c). The STARTTLS rule holds: a byte
 * already in the reader arrived uncompressed after the go-ahead, so it is
 * MAIL_ERR_STARTTLS_INJECTION and the connection is closed. MAIL_ERR_STATE
 * when compression is already on; MAIL_ERR_UNSUPPORTED in a build without
 * zlib (check before sending the command); MAIL_ERR_NOMEM closes the
 * connection, since the server has switched.
 */
int mail_conn_start_compress(mail_conn *c);

/* Connect to the first of n resolved addresses that accepts, in order,
 * within one MAIL_TIMEOUT_CONNECT deadline (mail_conn_connect_addr is the
 * n == 1 case). Same errors and event-loop behaviour as mail_conn_connect. */
int mail_conn_connect_addrs(mail_conn *c, const void *const *sockaddrs, const size_t *lens,
                            size_t n, const char *host, int implicit_tls);

/* The host name used for TLS verification and SASL (may be NULL). */
const char *mail_conn_host(const mail_conn *c);
/* The port connected to (0: a socket, an adopted fd, a user transport). */
unsigned int mail_conn_port(const mail_conn *c);
/* The name the client greets the server with when the caller set none
 * (SMTP's default EHLO name): the host's name when it is fully qualified,
 * else the connection's local address as a literal ("[192.0.2.1]",
 * "[IPv6:...]", RFC 5321 4.1.4), else "[127.0.0.1]" (a user transport, a
 * Unix socket). No DNS lookup: it could block an event loop. Writes a
 * NUL-terminated string to out; MAIL_ERR_BUFFER when cap is too small. */
int mail_conn_local_name(const mail_conn *c, char *out, size_t cap);
/* 1 once the transport is open. */
int mail_conn_is_open(const mail_conn *c);
/* 1 in event-loop mode (mail_conn_set_nonblocking). */
int mail_conn_is_nonblocking(const mail_conn *c);

/* Record a failure description for mail_conn_last_error() (printf-style;
 * never pass a secret). Returns rc so callers can write
 * `return mail_conn_fail(c, MAIL_ERR_PROTOCOL, "...")`. */
int mail_conn_fail(mail_conn *c, int rc, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;

/* Forget the failure description: an operation starts (sessions call it
 * when one begins, and when one succeeds, so the string always belongs to
 * the last operation that failed). */
void mail_conn_clear_error(mail_conn *c);

/* Emit a MAIL_TRACE_INFO record. */
void mail_conn_trace_info(mail_conn *c, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 2, 3)))
#endif
  ;

/* OpenSSL's one-time initialisation (lib/net/tls_openssl.c); a no-op
 * without TLS. */
int mail_tls_global_init(void);

#endif

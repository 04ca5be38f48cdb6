/*
 * Transcript runner: an in-memory mail_transport_ops that plays a server
 * from a transcript and checks, write call by write call, what the client
 * sends. The format is described in tests/transcript/README.md.
 *
 * Typical use in a Check test:
 *
 *   mail_transcript *t = mail_transcript_from_string(
 *       "S: +OK hello\r\n"
 *       "C: NOOP\r\n"
 *       "S: +OK\r\n", err, sizeof err);
 *   mail_conn_new(&c, NULL);
 *   mail_transcript_attach(t, c);       // transport + fixed clock/random
 *   mail_conn_connect(c, "transcript.test", 1, 0);
 *   ... drive an engine with mail_conn_run() ...
 *   MAIL_TRANSCRIPT_ASSERT_DONE(t);
 *   mail_conn_free(c);
 *   mail_transcript_free(t);
 *
 * Mismatches never abort: the transport answers as a real server would
 * (a wrong write gets MAIL_ERR_IO, a read the script does not expect gets
 * MAIL_ERR_TIMEOUT) and the first mismatch is kept, escaped, for the report.
 */
#ifndef MAIL_TEST_TRANSCRIPT_H
#define MAIL_TEST_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <mail/conn.h>

typedef struct mail_transcript mail_transcript;

/* Parse a transcript. NULL on a syntax error (err says where) or no memory.
 * err may be NULL. Transcript memory comes from malloc, not from any
 * connection's allocator, so allocation-failure runs do not touch it. */
mail_transcript *mail_transcript_from_string(const char *text, char *err, size_t errlen);
mail_transcript *mail_transcript_from_file(const char *path, char *err, size_t errlen);
void mail_transcript_free(mail_transcript *t);

/* Start over: positions, counters, mismatches, the random stream. */
void mail_transcript_rewind(mail_transcript *t);

/*
 * Install t as c's transport (mail_conn_set_transport) together with the
 * fixed clock and random source below. Call before connecting; t must
 * outlive c's connection. Returns a mail_status.
 */
int mail_transcript_attach(mail_transcript *t, mail_conn *c);
/* The transport vtable; its user pointer is the mail_transcript. */
const mail_transport_ops *mail_transcript_ops(void);

/*
 * Feed mode: instead of the transport, put c in feed mode
 * (mail_conn_set_feed, caller's TLS) with the fixed clock and random
 * source, and play the script through mail_transcript_pump(): after each
 * MAIL_ERR_AGAIN of an operation the pump does one step as the caller of
 * a feed-mode connection would: answer a TLS request with the script's
 * TLS item (and its channel binding), or drain the client's bytes and
 * compare them as one write call (everything drained at once is one
 * flush of the driver), or read the script's next server bytes and feed
 * them (end of stream and failures as mail_conn_feed_eof() and
 * mail_conn_feed_error()). No connect, start_tls or close call of the
 * transport is counted. pump() returns 1 when it did something, 0 when
 * there was nothing to do; it does nothing unless attached so, so drivers
 * call it after every MAIL_ERR_AGAIN.
 */
int mail_transcript_attach_feed(mail_transcript *t, mail_conn *c);
int mail_transcript_pump(mail_transcript *t);
/* After an operation ended (any status but MAIL_ERR_AGAIN): hand what
 * it wrote last (QUIT before the close) to the script. */
void mail_transcript_pump_flush(mail_transcript *t);

/* Every read and write call first answers MAIL_ERR_AGAIN once (event-loop
 * tests: every step of the driver goes through the caller's loop). */
void mail_transcript_set_auto_again(mail_transcript *t, int on);

/*
 * Faults (tests/faults): once the server has sent `at` bytes (the S:
 * bytes in order; a read never crosses that offset), the next read meets
 * the fault instead of the script:
 *   CLOSE  every read from then on returns MAIL_ERR_CLOSED; writes are
 *          taken and dropped (the peer's kernel still acks them);
 *   RESET  every read and write returns MAIL_ERR_IO, start_tls MAIL_ERR_TLS;
 *   STALL  that one read returns MAIL_ERR_TIMEOUT; later reads hand out
 *          the rest of the server's bytes (the late reply) whatever the
 *          client writes, and writes are taken and dropped.
 * Past the fault nothing is compared (mail_transcript_ok() stays as it
 * was at the fault). A start_tls after the fault fails with MAIL_ERR_TLS.
 * mail_transcript_fault_hit() says whether the fault was reached.
 */
enum {
  MAIL_TRANSCRIPT_FAULT_NONE = 0,
  MAIL_TRANSCRIPT_FAULT_CLOSE = 1,
  MAIL_TRANSCRIPT_FAULT_RESET = 2,
  MAIL_TRANSCRIPT_FAULT_STALL = 3
};
void mail_transcript_set_fault(mail_transcript *t, int kind, size_t at);
int mail_transcript_fault_hit(const mail_transcript *t);
/* Reads hand out at most max_read bytes, writes take at most max_write
 * (0: no bound). With a write bound the client's bytes are compared as
 * one stream, not write call by write call: a short write may end
 * anywhere, even between two C: items. Kept by rewind(). */
void mail_transcript_set_io_bounds(mail_transcript *t, size_t max_read, size_t max_write);
/* All the bytes of the S: lines, in order (a stream of
 * mail_transcript_server_len() bytes, valid while t lives). */
const unsigned char *mail_transcript_server_bytes(mail_transcript *t);
size_t mail_transcript_server_len(mail_transcript *t);

/* 1 while nothing has mismatched. */
int mail_transcript_ok(const mail_transcript *t);
/* 1 when nothing mismatched and every item was consumed. */
int mail_transcript_done(const mail_transcript *t);
/* "" when done; else the first mismatch, or what is left to play. */
const char *mail_transcript_report(mail_transcript *t);

/* Counters, for tests that look closer. */
size_t mail_transcript_read_calls(const mail_transcript *t);
size_t mail_transcript_write_calls(const mail_transcript *t);
size_t mail_transcript_connect_calls(const mail_transcript *t);
size_t mail_transcript_close_calls(const mail_transcript *t);
/* 1 once the client started TLS at a TLS item. */
int mail_transcript_tls_active(const mail_transcript *t);
/* Host and port of the last connect call ("" / 0 before). */
const char *mail_transcript_connect_host(const mail_transcript *t);
unsigned int mail_transcript_connect_port(const mail_transcript *t);

/*
 * The fixed clock and random source attach() installs (user = the
 * transcript). The clock stands still: MAIL_CLOCK_MONOTONIC reads
 * MAIL_TEST_CLOCK_MONOTONIC_MS, MAIL_CLOCK_REALTIME reads
 * MAIL_TEST_CLOCK_REALTIME_MS (2026-01-01T00:00:00Z). The random bytes are
 * a fixed pseudo-random stream restarted by rewind().
 */
#define MAIL_TEST_CLOCK_MONOTONIC_MS INT64_C(1000000)
#define MAIL_TEST_CLOCK_REALTIME_MS INT64_C(1767225600000)
int64_t mail_test_fixed_clock(void *user, int which);
int mail_test_fixed_random(void *user, unsigned char *buf, size_t len);

/*
 * Channel binding data the transport reports after TLS: `type` repeated,
 * then bytes 0, 1, 2, ... (32 bytes in all), so SCRAM-PLUS transcripts are
 * reproducible. MAIL_CB_TLS_UNIQUE only after a "TLS 1.2" item.
 */
#define MAIL_TEST_CB_LEN 32

/* Escape bytes as the transcript format writes them (\r, \n, \xHH);
 * truncated with "..." to fit; always NUL-terminated. */
void mail_transcript_escape(const void *data, size_t len, char *out, size_t cap);

/*
 * Every transcript file says, in its leading comment block, which calls it
 * runs and the status they end with:
 *
 *   # call: mail_smtp_connect, mail_smtp_send (3 recipients), mail_smtp_quit
 *   # expect: MAIL_ERR_PARTIAL
 *
 * mail_transcript_file_header() reads such a "# key: value" line (0, or -1
 * when the file has none or cannot be read); the drivers check them
 * against their scenario tables with mail_transcript_check_header().
 */
int mail_transcript_file_header(const char *path, const char *key, char *out, size_t cap);
/* "MAIL_OK", "MAIL_ERR_PARTIAL", ...: a status's name as an expect: line
 * writes it ("?" for a value that is no status). */
const char *mail_test_status_name(int status);
/* 0 when path has a non-empty "call:" line and an "expect:" line naming
 * expect; else -1 with why in out. */
int mail_transcript_check_header(const char *path, int expect, char *out, size_t cap);

/* Every "*.txt" of dir must be played by some scenario: played(user, name)
 * says whether one is. Returns how many files there are, or -1 with the
 * first one no scenario plays (or why the directory cannot be read) in
 * out. */
long mail_transcript_dir_check(const char *dir, int (*played)(void *user, const char *name),
                               void *user, char *out, size_t cap);

/* For Check tests: fail with the report unless the transcript is done. */
#define MAIL_TRANSCRIPT_ASSERT_DONE(t) \
  ck_assert_msg(mail_transcript_done(t), "transcript: %s", mail_transcript_report(t))

#endif

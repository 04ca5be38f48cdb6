/*
 * Dot-stuffing and unstuffing (RFC 5321 4.5.2, RFC 1939 3, RFC 3977 3.1.1),
 * written once for every protocol whose data ends with a line holding one
 * ".": SMTP DATA and NNTP POST/IHAVE stuff what they send; POP3 RETR/TOP
 * and NNTP ARTICLE/HEAD/BODY/OVER/LIST unstuff what they receive. Both
 * directions keep their state across chunks, so data of any size streams
 * through in pieces cut anywhere.
 */
#ifndef MAIL_CORE_DOT_H
#define MAIL_CORE_DOT_H

#include <stddef.h>

/* ---- sending ---- */

/* What the stuffer remembers between chunks. */
typedef struct mail_dot_stuffer {
  int at_line_start; /* the next byte starts a line */
  int pending_cr;    /* the last chunk ended with a CR */
} mail_dot_stuffer;

/* Start of the data: the first byte starts a line. */
void mail_dot_stuff_init(mail_dot_stuffer *s);

/*
 * Stuff in[0..n) into out (room for 2n + 2 bytes, any of which may be
 * written; *olen says how many are output): every line ending
 * becomes CRLF (a bare CR or LF is converted, or refused in strict mode),
 * and a line starting with "." gets one more, so neither "CRLF.CRLF" nor
 * "<LF>.<LF>" can appear inside the data (SMTP smuggling,
 * CVE-2023-51764). *olen gets the length. MAIL_OK, or MAIL_ERR_INVALID
 * in strict mode on a bare CR or LF.
 */
int mail_dot_stuff(mail_dot_stuffer *s, int strict, const unsigned char *in, size_t n,
                   unsigned char *out, size_t *olen);

/* The end of the data into out (room for 5 bytes): a CRLF when the last
 * line lacks one, then ".CRLF". MAIL_ERR_INVALID in strict mode when the
 * data ended with a bare CR. */
int mail_dot_stuff_end(mail_dot_stuffer *s, int strict, unsigned char *out, size_t *olen);

/* ---- receiving ---- */

/* What the unstuffer remembers between chunks. */
typedef struct mail_dot_unstuffer {
  int state;
} mail_dot_unstuffer;

/* Start of a body: the next byte starts a line. */
void mail_dot_unstuff_init(mail_dot_unstuffer *u);

/*
 * Run n body bytes at in. *consumed gets how many were used (the rest
 * must be offered again). When *chunk_len > 0, *chunk holds body data to
 * deliver: it points into in, or to static storage. A line that is
 * exactly "." (CRLF or bare LF) ends the body; any other line starting
 * with "." loses that dot; line ends are delivered as received. Returns 1
 * when the terminator was consumed (bytes after *consumed belong to the
 * next response), else 0. With n > 0 every call makes progress.
 */
int mail_dot_unstuff(mail_dot_unstuffer *u, const unsigned char *in, size_t n, size_t *consumed,
                     const unsigned char **chunk, size_t *chunk_len);

/* Where mail_dot_read() hands each chunk of a block. */
typedef void (*mail_dot_chunk_fn)(void *ctx, const unsigned char *data, size_t len);

/*
 * Stream a block straight out of a protocol engine's reader (the
 * connection's): every unstuffed chunk goes to fn, the terminator is
 * consumed. MAIL_OK when the block is over (bytes after it stay in r for
 * the next response), MAIL_ERR_AGAIN when more input must come first,
 * MAIL_ERR_CLOSED when the peer closed inside the block.
 */
struct mail_reader;
int mail_dot_read(struct mail_reader *r, mail_dot_unstuffer *u, mail_dot_chunk_fn fn, void *ctx);

/*
 * One body line without its terminator, for bodies read line by line
 * (lists, capabilities, overview data): 1 for the terminator ".", else 0
 * with the unstuffed line in *out / *out_len.
 */
int mail_dot_line(const char *line, size_t len, const char **out, size_t *out_len);

#endif

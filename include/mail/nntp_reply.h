/*
 * libmail — NNTP response parser (RFC 3977 section 3.2: three-digit
 * status lines and dot-terminated data blocks) and typed helpers for the
 * status lines and data lines whose grammar RFC 3977 fixes (GROUP, the
 * article responses, DATE, LIST ACTIVE lines).
 *
 * Usable on its own, with no connection: feed the bytes a server sent and
 * pull events one at a time. Nothing here blocks or performs I/O; any
 * split of the input into feeds gives the same events (data chunks may be
 * cut at other places, their concatenation is the same). A parser is used
 * by one thread at a time.
 *
 * NNTP cannot tell from a status line alone whether a data block follows
 * (211 is single-line after GROUP and multi-line after LISTGROUP): the
 * caller says, with mail_nntp_parser_expect(), before the status line of
 * each command that may have one (CAPABILITIES, LIST, LISTGROUP, ARTICLE,
 * HEAD, BODY, OVER, HDR, NEWNEWS, NEWGROUPS, HELP). A block then follows
 * when the code is 1xx or 2xx (RFC 3977 gives every multi-line response
 * such a code); a 4xx or 5xx never has one.
 *
 * Status lines: three digits, the first 1 to 5, then the end of the line
 * or a space and text. Anything else, or a NUL byte, is a protocol error.
 * CRLF ends a line; a bare LF is accepted too.
 *
 * Data blocks: a line that is exactly "." ends the block; any other line
 * starting with "." loses that dot (dot-stuffing). The block's bytes are
 * delivered as received apart from the removed dots (line ends are not
 * rewritten), in chunks, never held whole.
 */
#ifndef MAIL_NNTP_REPLY_H
#define MAIL_NNTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An incremental NNTP response parser (opaque). */
typedef struct mail_nntp_parser mail_nntp_parser;

/** One status line (opaque). Owned by the parser or session, or by the
 *  caller when it came from mail_nntp_reply_clone(). */
typedef struct mail_nntp_reply mail_nntp_reply;

/** What mail_nntp_parser_next() found. */
typedef enum mail_nntp_event {
  MAIL_NNTP_EVENT_REPLY = 1, /**< a status line: mail_nntp_parser_reply() */
  MAIL_NNTP_EVENT_DATA = 2,  /**< a chunk of a streamed data block: mail_nntp_parser_data() */
  MAIL_NNTP_EVENT_LINE = 3,  /**< one unstuffed data line, no terminator: mail_nntp_parser_data() */
  MAIL_NNTP_EVENT_END = 4    /**< the block's "." terminator */
} mail_nntp_event;

/** How the next response is read (mail_nntp_parser_expect()). */
typedef enum mail_nntp_expect {
  MAIL_NNTP_EXPECT_SINGLE = 0,     /**< a status line only (the default) */
  MAIL_NNTP_EXPECT_MULTI = 1,      /**< after a 1xx/2xx, a block as DATA chunks, then END */
  MAIL_NNTP_EXPECT_MULTI_LINES = 2 /**< after a 1xx/2xx, a block as LINE events (each
                                        bounded by max_line), then END */
} mail_nntp_expect;

/**
 * Create a parser with the default limits, expecting a single-line
 * response. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_nntp_parser_new(mail_nntp_parser **out, const mail_allocator *alloc);

/** Free a parser and everything it buffered. NULL is accepted. */
MAIL_EXTERN void mail_nntp_parser_free(mail_nntp_parser *p);

/**
 * Replace the limits: limits->max_line bounds a status line and, in
 * MAIL_NNTP_EXPECT_MULTI_LINES, a data line (CRLF included). Allowed only
 * before the first feed or right after mail_nntp_parser_reset() (else
 * MAIL_ERR_STATE). MAIL_ERR_INVALID when limits is NULL, its version is
 * not 1 or 2, or a bound is 0.
 */
MAIL_EXTERN int mail_nntp_parser_set_limits(mail_nntp_parser *p, const mail_limits *limits);

/**
 * Say how the next response (the next status line pulled) is read:
 * MAIL_NNTP_EXPECT_SINGLE, _MULTI or _MULTI_LINES. It applies to that one
 * response; then the parser expects single lines again. MAIL_ERR_STATE
 * inside a block (before its END event), MAIL_ERR_INVALID on a bad mode.
 */
MAIL_EXTERN int mail_nntp_parser_expect(mail_nntp_parser *p, int mode);

/**
 * Hand len bytes received from the server to the parser (copied). At most
 * limits.max_line + limits.max_response bytes may wait unread: feed what
 * arrives and drain with mail_nntp_parser_next() after each feed.
 * MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM, MAIL_ERR_LIMIT, or the error
 * that stopped the parser earlier. Invalidates what _data() returned.
 */
MAIL_EXTERN int mail_nntp_parser_feed(mail_nntp_parser *p, const void *data, size_t len);

/** No more bytes will come (the server closed the connection). */
MAIL_EXTERN void mail_nntp_parser_end(mail_nntp_parser *p);

/**
 * Pull the next event into *event (MAIL_NNTP_EVENT_*).
 *
 * MAIL_OK: an event. For DATA and LINE, mail_nntp_parser_data() holds the
 * bytes, valid until the next call to _next(), _feed(), _reset() or
 * _free(); for REPLY, mail_nntp_parser_reply().
 * MAIL_ERR_AGAIN: nothing complete yet; feed more.
 * MAIL_ERR_PROTOCOL: a status line broke the grammar.
 * MAIL_ERR_LIMIT: a status line (or, in MULTI_LINES mode, a data line) is
 * longer than max_line.
 * MAIL_ERR_CLOSED: the input ended (mail_nntp_parser_end()); inside a
 * response this is an error, between responses a clean end.
 * After an error (a clean end aside) the parser is stopped: every call
 * returns the same error until mail_nntp_parser_reset().
 */
MAIL_EXTERN int mail_nntp_parser_next(mail_nntp_parser *p, int *event);

/** The status line of the last REPLY event (still available while its
 *  block is read), or NULL before the first one. Valid until the next
 *  REPLY event, mail_nntp_parser_reset() or _free(). */
MAIL_EXTERN const mail_nntp_reply *mail_nntp_parser_reply(const mail_nntp_parser *p);

/** The bytes of the last DATA or LINE event (not NUL-terminated; a DATA
 *  chunk may hold any byte); *len gets their count. NULL after others. */
MAIL_EXTERN const unsigned char *mail_nntp_parser_data(const mail_nntp_parser *p, size_t *len);

/** Drop buffered input and any partial response, clear the error state
 *  and expect a single-line response. Limits are kept. */
MAIL_EXTERN void mail_nntp_parser_reset(mail_nntp_parser *p);

/** Bytes fed but not yet consumed by an event. */
MAIL_EXTERN size_t mail_nntp_parser_pending(const mail_nntp_parser *p);

/** The status code, 100 to 599 (0 for NULL). */
MAIL_EXTERN int mail_nntp_reply_code(const mail_nntp_reply *r);

/** The text after the code and its space, NUL-terminated (possibly
 *  empty); *len (if not NULL) gets its length. NULL for NULL r. */
MAIL_EXTERN const char *mail_nntp_reply_text(const mail_nntp_reply *r, size_t *len);

/** Copy the text and a NUL into buf (size bytes); *needed (if not NULL)
 *  gets the size required. MAIL_ERR_BUFFER when too small (nothing
 *  written), MAIL_ERR_INVALID on NULL r or buf. */
MAIL_EXTERN int mail_nntp_reply_copy_text(const mail_nntp_reply *r, char *buf, size_t size,
                                          size_t *needed);

/** Independent copy owned by the caller, freed with mail_nntp_reply_free().
 *  alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_nntp_reply_clone(mail_nntp_reply **out, const mail_nntp_reply *r,
                                      const mail_allocator *alloc);

/** Free a clone. NULL is accepted; a reply owned by a parser is left alone. */
MAIL_EXTERN void mail_nntp_reply_free(mail_nntp_reply *r);

/*
 * Typed helpers. Numbers are 1*DIGIT (no sign), at most 16 digits as RFC
 * 3977 allows for article numbers; fields are separated by one or more
 * spaces and anything after the defined fields is ignored. Each returns
 * MAIL_OK or MAIL_ERR_PROTOCOL (a bad or missing field), MAIL_ERR_INVALID
 * for NULL pointers (out pointers marked "may be NULL" aside); out-values
 * are written only on success. Returned strings point into the input and
 * are not NUL-terminated.
 */

/** The text of a 211 answer to GROUP or LISTGROUP: "count low high group".
 *  group / group_len may be NULL. */
MAIL_EXTERN int mail_nntp_parse_group(uint64_t *count, uint64_t *low, uint64_t *high,
                                      const char **group, size_t *group_len, const char *text,
                                      size_t len);

/** The text of a 220, 221, 222 or 223 answer (ARTICLE, HEAD, BODY, STAT,
 *  NEXT, LAST): "number <message-id>" (number 0 when asked by message-id).
 *  The message-id keeps its angle brackets. */
MAIL_EXTERN int mail_nntp_parse_article(uint64_t *number, const char **msgid, size_t *msgid_len,
                                        const char *text, size_t len);

/** The text of a 111 answer to DATE, "yyyymmddhhmmss" in UTC, as seconds
 *  since 1970-01-01T00:00:00Z into *seconds. */
MAIL_EXTERN int mail_nntp_parse_date(int64_t *seconds, const char *text, size_t len);

/** One LIST ACTIVE (or NEWGROUPS) line: "group high low status". status
 *  is the status field ("y", "n", "m", "=other.group", ...). */
MAIL_EXTERN int mail_nntp_parse_active(const char **group, size_t *group_len, uint64_t *high,
                                       uint64_t *low, const char **status, size_t *status_len,
                                       const char *line, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_NNTP_REPLY_H */

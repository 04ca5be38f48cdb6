/*
 * libmail — POP3 response parser (RFC 1939, RFC 2449 RESP-CODES and CAPA,
 * RFC 5034 SASL continuations) and typed helpers for STAT, LIST, UIDL and
 * CAPA lines.
 *
 * Usable on its own, with no connection: feed the bytes a server sent and
 * pull events one at a time. Nothing here blocks or performs I/O; any
 * split of the input into feeds gives the same events (data chunks may be
 * cut at other places, their concatenation is the same). A parser is used
 * by one thread at a time.
 *
 * POP3 cannot tell from the bytes whether a response is multi-line: the
 * caller says so with mail_pop3_parser_expect() before the status line of
 * each multi-line command (RETR, TOP, LIST and UIDL without argument,
 * CAPA) is pulled. Only a "+OK" opens a multi-line body; "-ERR" and "+ "
 * never have one.
 *
 * Status lines: "+OK" or "-ERR" (any ASCII case) followed by a space and
 * text, or by the end of the line; "+" followed by a space or the end of
 * the line is a SASL continuation (its text is the base64 challenge).
 * Anything else, or a NUL byte, is a protocol error. An RFC 2449 response
 * code "[...]" right after the status is taken out of the text when it is
 * well-formed (levels of printable characters separated by "/"); a "["
 * that does not form one stays part of the text.
 *
 * Multi-line bodies: a line that is exactly "." ends the body; any other
 * line starting with "." loses that first "." (byte-stuffing; ".." becomes
 * ".", "..foo" becomes ".foo", and the invalid ".foo" becomes "foo"). The
 * terminator is recognised only at the start of a line, so the body
 * always ends with the line break of its last line, which is delivered as
 * part of the data; "text.\r\n" is data, not an end. Bare LF is accepted
 * as a line end everywhere (status lines, body lines, the terminator
 * ".\n"), and the body's bytes are delivered exactly as received apart
 * from the removed dots: line endings are not rewritten. Bodies stream in
 * chunks and are never held whole, whatever their size.
 */
#ifndef MAIL_POP3_REPLY_H
#define MAIL_POP3_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An incremental POP3 response parser (opaque). */
typedef struct mail_pop3_parser mail_pop3_parser;

/** One status line (opaque). Owned by the parser, or by the caller when
 *  it came from mail_pop3_reply_clone(). */
typedef struct mail_pop3_reply mail_pop3_reply;

/** Status of a reply (mail_pop3_reply_status()). */
typedef enum mail_pop3_status {
  MAIL_POP3_OK = 1, /**< "+OK" */
  MAIL_POP3_ERR = 2, /**< "-ERR" */
  MAIL_POP3_CONTINUE = 3 /**< "+ " SASL continuation (RFC 5034) */
} mail_pop3_status;

/** Known RFC 2449 / RFC 3206 response codes (mail_pop3_reply_resp_code_id()). */
typedef enum mail_pop3_resp_code {
  MAIL_POP3_CODE_NONE = 0, /**< no response code */
  MAIL_POP3_CODE_OTHER = 1, /**< a code not listed here; see the string */
  MAIL_POP3_CODE_SYS_TEMP = 2, /**< [SYS/TEMP] transient system problem */
  MAIL_POP3_CODE_SYS_PERM = 3, /**< [SYS/PERM] permanent system problem */
  MAIL_POP3_CODE_AUTH = 4, /**< [AUTH] credentials rejected */
  MAIL_POP3_CODE_IN_USE = 5, /**< [IN-USE] the maildrop is locked */
  MAIL_POP3_CODE_LOGIN_DELAY = 6 /**< [LOGIN-DELAY] logged in too recently */
} mail_pop3_resp_code;

/** What mail_pop3_parser_next() found. */
typedef enum mail_pop3_event {
  MAIL_POP3_EVENT_REPLY = 1, /**< a status line: mail_pop3_parser_reply() */
  MAIL_POP3_EVENT_DATA = 2, /**< a chunk of a streamed body: mail_pop3_parser_data() */
  MAIL_POP3_EVENT_LINE = 3, /**< one unstuffed body line, no terminator: mail_pop3_parser_data() */
  MAIL_POP3_EVENT_END = 4 /**< the body's "." terminator */
} mail_pop3_event;

/** How the next response is read (mail_pop3_parser_expect()). */
typedef enum mail_pop3_expect {
  MAIL_POP3_EXPECT_SINGLE = 0, /**< a status line only (the default) */
  MAIL_POP3_EXPECT_MULTI = 1, /**< after +OK, a body as DATA chunks, then END */
  MAIL_POP3_EXPECT_MULTI_LINES = 2 /**< after +OK, a body as LINE events (each bounded by max_line), then END */
} mail_pop3_expect;

/**
 * Create a parser with the default limits (mail_limits_default()),
 * expecting a single-line response. alloc may be NULL. MAIL_OK,
 * MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_pop3_parser_new(mail_pop3_parser **out, const mail_allocator *alloc);

/** Free a parser and everything it buffered. NULL is accepted. */
MAIL_EXTERN void mail_pop3_parser_free(mail_pop3_parser *p);

/**
 * Replace the limits: limits->max_line bounds a status line and, in
 * MAIL_POP3_EXPECT_MULTI_LINES, a body line (CRLF included). Allowed only
 * before the first feed or right after mail_pop3_parser_reset() (else
 * MAIL_ERR_STATE). MAIL_ERR_INVALID when limits is NULL, its version is
 * not 1 or 2, or a bound is 0.
 */
MAIL_EXTERN int mail_pop3_parser_set_limits(mail_pop3_parser *p, const mail_limits *limits);

/**
 * Say how the next response (the next status line pulled) is to be read:
 * MAIL_POP3_EXPECT_SINGLE, _MULTI or _MULTI_LINES. The setting applies to
 * that one response; afterwards the parser expects single lines again.
 * MAIL_ERR_STATE inside a body (before its END event), MAIL_ERR_INVALID
 * on a bad mode.
 */
MAIL_EXTERN int mail_pop3_parser_expect(mail_pop3_parser *p, int mode);

/**
 * Hand len bytes received from the server to the parser (copied). At most
 * limits.max_line + limits.max_response bytes may wait unread: feed what
 * arrives and drain with mail_pop3_parser_next() after each feed (a body
 * of any size then streams through a buffer the size of one feed).
 * MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM, MAIL_ERR_LIMIT, or the error
 * that stopped the parser earlier. Invalidates what _data() returned.
 */
MAIL_EXTERN int mail_pop3_parser_feed(mail_pop3_parser *p, const void *data, size_t len);

/** No more bytes will come (the server closed the connection). */
MAIL_EXTERN void mail_pop3_parser_end(mail_pop3_parser *p);

/**
 * Pull the next event into *event (MAIL_POP3_EVENT_*).
 *
 * MAIL_OK: an event. For DATA and LINE, mail_pop3_parser_data() holds
 * the bytes, valid until the next call to mail_pop3_parser_next(),
 * _feed(), _reset() or _free(); for REPLY, mail_pop3_parser_reply().
 * MAIL_ERR_AGAIN: nothing complete yet; feed more.
 * MAIL_ERR_PROTOCOL: a status line broke the grammar.
 * MAIL_ERR_LIMIT: a status line (or, in MULTI_LINES mode, a body line) is
 * longer than max_line.
 * MAIL_ERR_CLOSED: the input ended (mail_pop3_parser_end()); when it ended
 * inside a response this is an error, otherwise a clean end.
 *
 * After an error (a clean end aside) the parser is stopped: every call
 * returns the same error until mail_pop3_parser_reset(). On a connection
 * the session must then be closed.
 */
MAIL_EXTERN int mail_pop3_parser_next(mail_pop3_parser *p, int *event);

/**
 * The status line of the last REPLY event (still available while its body
 * is read), or NULL before the first one. It stays valid until the next
 * REPLY event, mail_pop3_parser_reset() or _free().
 */
MAIL_EXTERN const mail_pop3_reply *mail_pop3_parser_reply(const mail_pop3_parser *p);

/**
 * The bytes of the last DATA or LINE event (not NUL-terminated; a DATA
 * chunk may hold any byte, NUL included); *len gets their count. NULL
 * after other events.
 */
MAIL_EXTERN const unsigned char *mail_pop3_parser_data(const mail_pop3_parser *p, size_t *len);

/** Drop buffered input and any partial response, clear the error state
 *  and expect a single-line response. Limits are kept. */
MAIL_EXTERN void mail_pop3_parser_reset(mail_pop3_parser *p);

/** Bytes fed but not yet consumed by an event. */
MAIL_EXTERN size_t mail_pop3_parser_pending(const mail_pop3_parser *p);

/** MAIL_POP3_OK, MAIL_POP3_ERR or MAIL_POP3_CONTINUE (0 for NULL). */
MAIL_EXTERN int mail_pop3_reply_status(const mail_pop3_reply *r);

/**
 * The text after the status and any response code (leading spaces
 * removed), NUL-terminated; *len (if not NULL) gets its length. For a
 * continuation it is the base64 challenge, possibly empty.
 */
MAIL_EXTERN const char *mail_pop3_reply_text(const mail_pop3_reply *r, size_t *len);

/**
 * The response code without its brackets, e.g. "SYS/TEMP" or
 * "LOGIN-DELAY", NUL-terminated, or NULL when the reply has none.
 */
MAIL_EXTERN const char *mail_pop3_reply_resp_code(const mail_pop3_reply *r, size_t *len);

/**
 * The response code as a MAIL_POP3_CODE_* value, compared without regard
 * to ASCII case. A hierarchical code below a known one (e.g.
 * "SYS/TEMP/DISK") maps to the known one; other codes give
 * MAIL_POP3_CODE_OTHER, none MAIL_POP3_CODE_NONE.
 */
MAIL_EXTERN int mail_pop3_reply_resp_code_id(const mail_pop3_reply *r);

/**
 * Copy the text and a NUL into buf (size bytes); *needed (if not NULL)
 * gets the size required. MAIL_ERR_BUFFER when too small (nothing
 * written), MAIL_ERR_INVALID on NULL r or buf.
 */
MAIL_EXTERN int mail_pop3_reply_copy_text(const mail_pop3_reply *r, char *buf, size_t size,
                                          size_t *needed);

/** Independent copy owned by the caller, freed with mail_pop3_reply_free().
 *  alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_pop3_reply_clone(mail_pop3_reply **out, const mail_pop3_reply *r,
                                      const mail_allocator *alloc);

/** Free a clone. NULL is accepted; a reply owned by a parser is left alone. */
MAIL_EXTERN void mail_pop3_reply_free(mail_pop3_reply *r);

/*
 * Typed helpers. Numbers are strictly 1*DIGIT: no sign, no spaces inside,
 * overflow of the target type is an error. Message numbers start at 1.
 * Fields are separated by one or more spaces; RFC 1939 lets a server add
 * information after the defined fields, separated by a space, which is
 * ignored. Every helper returns MAIL_OK or MAIL_ERR_PROTOCOL (bad or
 * missing field), or MAIL_ERR_INVALID for NULL pointers; out-values are
 * written only on success.
 */

/** The text of a positive STAT reply: "count size". */
MAIL_EXTERN int mail_pop3_parse_stat(uint32_t *count, uint64_t *size, const char *text, size_t len);

/** One LIST line (or the text of "+OK" to LIST n): "msg size". */
MAIL_EXTERN int mail_pop3_parse_list(uint32_t *msg, uint64_t *size, const char *line, size_t len);

/**
 * One UIDL line (or the text of "+OK" to UIDL n): "msg uid". The unique id
 * is 1 to 70 characters from 0x21 to 0x7E (RFC 1939); *uid points into
 * line and is not NUL-terminated.
 */
MAIL_EXTERN int mail_pop3_parse_uidl(uint32_t *msg, const char **uid, size_t *uid_len,
                                     const char *line, size_t len);

/**
 * CAPA capabilities as data (RFC 2449): one entry per line with its
 * keyword and arguments ("SASL PLAIN SCRAM-SHA-256" gives keyword "SASL"
 * and two parameters). Keywords keep the server's spelling and are looked
 * up ignoring ASCII case.
 */
typedef struct mail_pop3_caps mail_pop3_caps;

/** Create an empty list. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_pop3_caps_new(mail_pop3_caps **out, const mail_allocator *alloc);

/** Free a list. NULL is accepted. */
MAIL_EXTERN void mail_pop3_caps_free(mail_pop3_caps *c);

/** Empty the list (to read a new CAPA response). */
MAIL_EXTERN void mail_pop3_caps_clear(mail_pop3_caps *c);

/**
 * Add one CAPA body line (unstuffed, without terminator, e.g. a LINE
 * event). Words are separated by spaces or tabs. A line whose keyword
 * holds a character outside 0x21-0x7E, an empty line or a line with NUL
 * is skipped. MAIL_OK, MAIL_ERR_INVALID (NULL), MAIL_ERR_NOMEM, or
 * MAIL_ERR_LIMIT past the default limits' line bound (10,000 lines,
 * skipped ones included) or when the list would hold more than
 * max_response (1 MiB) bytes; on error the list is unchanged. A session's
 * own list follows its connection's limits instead.
 */
MAIL_EXTERN int mail_pop3_caps_add_line(mail_pop3_caps *c, const char *line, size_t len);

/** Number of entries. */
MAIL_EXTERN size_t mail_pop3_caps_count(const mail_pop3_caps *c);

/** Keyword of entry i, NUL-terminated, or NULL when out of range. Pointers
 *  stay valid until the list is changed or freed. */
MAIL_EXTERN const char *mail_pop3_caps_keyword(const mail_pop3_caps *c, size_t i);

/** Number of parameters of entry i (0 when out of range). */
MAIL_EXTERN size_t mail_pop3_caps_param_count(const mail_pop3_caps *c, size_t i);

/** Parameter j of entry i, NUL-terminated, or NULL when out of range. */
MAIL_EXTERN const char *mail_pop3_caps_param(const mail_pop3_caps *c, size_t i, size_t j);

/** Index of the first entry with this keyword (ASCII case ignored) into
 *  *index (may be NULL). MAIL_OK, MAIL_ERR_NOT_FOUND or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_pop3_caps_find(const mail_pop3_caps *c, const char *keyword, size_t *index);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_POP3_REPLY_H */

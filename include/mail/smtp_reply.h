/*
 * libmail — SMTP / LMTP reply parser (RFC 5321 section 4.2, RFC 3463
 * enhanced status codes, RFC 2034) and EHLO / LHLO capability lists.
 *
 * Usable on its own, with no connection: feed the bytes a server sent,
 * pull complete replies one at a time.
 *
 *   mail_smtp_parser *p;
 *   const mail_smtp_reply *r;
 *   mail_smtp_parser_new(&p, NULL);
 *   mail_smtp_parser_feed(p, bytes, n);
 *   while (mail_smtp_parser_next(p, &r) == MAIL_OK)
 *     printf("%d %s\n", mail_smtp_reply_code(r), mail_smtp_reply_text(r, NULL));
 *
 * Any split of the input into feeds gives the same replies. Nothing here
 * blocks or performs I/O. A parser is used by one thread at a time.
 *
 * Grammar accepted. Each line is three digits (the first 1 to 5), then
 * either "-" (more lines follow), " " or the end of the line (the last
 * line), then the text. Every line of a reply must carry the same code.
 * Lines end with CRLF; a bare LF is accepted as well (some servers send
 * it) and a CR before the LF is never part of the text. A line holding a
 * NUL byte, or one that does not match the grammar, is a protocol error.
 *
 * Enhanced status codes (class.subject.detail, class 2, 4 or 5, subject
 * and detail of 1 to 3 digits) are recognised only when the caller turned
 * them on with mail_smtp_parser_set_enhanced_codes() — that is, after the
 * EHLO reply advertised ENHANCEDSTATUSCODES. They are not guessed from the
 * text: the greeting and the EHLO reply never carry them (RFC 2034), and
 * text that happens to start with digits and dots stays text. A code is
 * recognised at the start of each line's text when its class equals the
 * first digit of the reply code and it is followed by a space or the end
 * of the line; it is then removed from that line's text, with the spaces
 * after it.
 */
#ifndef MAIL_SMTP_REPLY_H
#define MAIL_SMTP_REPLY_H

#include <stddef.h>

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An incremental SMTP/LMTP reply parser (opaque). */
typedef struct mail_smtp_parser mail_smtp_parser;

/** One complete reply (opaque). Owned by the parser, or by the caller
 *  when it came from mail_smtp_reply_clone(). */
typedef struct mail_smtp_reply mail_smtp_reply;

/**
 * Create a parser with the default limits (mail_limits_default()) and
 * enhanced status codes off. alloc may be NULL (the C library's
 * allocator). Returns MAIL_OK, MAIL_ERR_INVALID (out NULL or an
 * incomplete allocator) or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_smtp_parser_new(mail_smtp_parser **out, const mail_allocator *alloc);

/** Free a parser and everything it buffered. NULL is accepted. */
MAIL_EXTERN void mail_smtp_parser_free(mail_smtp_parser *p);

/**
 * Replace the limits: limits->max_line bounds one line (CRLF included),
 * max_response the bytes of text held for one reply, the smaller of
 * max_lines and max_items its number of lines. Exceeding one makes
 * mail_smtp_parser_next() return MAIL_ERR_LIMIT. Allowed only before the
 * first feed or right after mail_smtp_parser_reset() (else
 * MAIL_ERR_STATE). MAIL_ERR_INVALID when limits is NULL, its version is
 * not 1 or 2, or a bound is 0.
 */
MAIL_EXTERN int mail_smtp_parser_set_limits(mail_smtp_parser *p, const mail_limits *limits);

/**
 * Turn recognition of RFC 3463 enhanced status codes on (on != 0) or off.
 * Takes effect from the next reply that starts. Returns MAIL_OK, or
 * MAIL_ERR_INVALID when p is NULL.
 */
MAIL_EXTERN int mail_smtp_parser_set_enhanced_codes(mail_smtp_parser *p, int on);

/**
 * Hand len bytes received from the server to the parser (they are
 * copied). Replies are then pulled with mail_smtp_parser_next(). At most
 * limits.max_line + limits.max_response bytes may wait unread in the
 * parser: feed what arrives and drain after each feed. Returns MAIL_OK,
 * MAIL_ERR_INVALID (p NULL, or data NULL with len > 0), MAIL_ERR_NOMEM,
 * MAIL_ERR_LIMIT (too much unread input), or the error that stopped the
 * parser earlier. A reply returned before stays valid.
 */
MAIL_EXTERN int mail_smtp_parser_feed(mail_smtp_parser *p, const void *data, size_t len);

/**
 * Tell the parser the server closed the connection: no more bytes will
 * come. A reply left incomplete then makes mail_smtp_parser_next() return
 * MAIL_ERR_CLOSED.
 */
MAIL_EXTERN void mail_smtp_parser_end(mail_smtp_parser *p);

/**
 * Pull the next complete reply.
 *
 * MAIL_OK: *reply points to it; it stays valid until the next call to
 * mail_smtp_parser_next(), _reset() or _free() on this parser (feeding
 * more bytes does not touch it) — use mail_smtp_reply_clone() to keep it
 * longer.
 * MAIL_ERR_AGAIN: the buffered bytes hold no complete reply; feed more.
 * MAIL_ERR_PROTOCOL: a line broke the grammar, or a line's code differed
 * from the first line's. MAIL_ERR_LIMIT: a limit was exceeded.
 * MAIL_ERR_CLOSED: the input ended (mail_smtp_parser_end()) and no
 * further reply is complete; when it ended inside a reply this is an
 * error, otherwise a clean end. MAIL_ERR_NOMEM.
 *
 * After an error (a clean end aside) the parser is stopped: every call
 * returns the same error until mail_smtp_parser_reset(). (On a connection, such an error means
 * the session must be closed: the position in the server's stream is
 * lost.) MAIL_ERR_INVALID when p or reply is NULL.
 */
MAIL_EXTERN int mail_smtp_parser_next(mail_smtp_parser *p, const mail_smtp_reply **reply);

/**
 * Drop all buffered input and any partial reply, clear the error state.
 * Limits and the enhanced-code setting are kept.
 */
MAIL_EXTERN void mail_smtp_parser_reset(mail_smtp_parser *p);

/** Bytes fed but not yet part of a returned reply. */
MAIL_EXTERN size_t mail_smtp_parser_pending(const mail_smtp_parser *p);

/** The reply code, 100 to 599 (e.g. 250). */
MAIL_EXTERN int mail_smtp_reply_code(const mail_smtp_reply *r);

/**
 * The reply's enhanced status code: the first one found on its lines.
 * Any of the out pointers may be NULL. Returns MAIL_OK, or
 * MAIL_ERR_NOT_FOUND when no line carried one (or recognition was off).
 */
MAIL_EXTERN int mail_smtp_reply_enhanced(const mail_smtp_reply *r, unsigned int *cls,
                                         unsigned int *subject, unsigned int *detail);

/** Number of lines in the reply (at least 1). */
MAIL_EXTERN size_t mail_smtp_reply_line_count(const mail_smtp_reply *r);

/**
 * The text of line i (0-based), without the code, separator, enhanced
 * code and line terminator; NUL-terminated, and *len (if not NULL) gets
 * its length. NULL when i is out of range. Valid as long as the reply.
 */
MAIL_EXTERN const char *mail_smtp_reply_line(const mail_smtp_reply *r, size_t i, size_t *len);

/** Enhanced status code of line i; MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_smtp_reply_line_enhanced(const mail_smtp_reply *r, size_t i, unsigned int *cls,
                                              unsigned int *subject, unsigned int *detail);

/**
 * All lines' text joined with "\n" (no trailing newline), NUL-terminated;
 * *len (if not NULL) gets its length. Valid as long as the reply. NULL for
 * a NULL or incomplete reply, or when the joined text (made on the first
 * call) cannot be allocated.
 */
MAIL_EXTERN const char *mail_smtp_reply_text(const mail_smtp_reply *r, size_t *len);

/**
 * Copy the joined text and a NUL into buf (size bytes). *needed (if not
 * NULL) gets the size required, NUL included. MAIL_ERR_BUFFER when size
 * is smaller (nothing is written then), MAIL_ERR_INVALID on NULL r or buf.
 */
MAIL_EXTERN int mail_smtp_reply_copy_text(const mail_smtp_reply *r, char *buf, size_t size,
                                          size_t *needed);

/**
 * Make an independent copy of a reply, owned by the caller and released
 * with mail_smtp_reply_free(). alloc may be NULL. MAIL_OK,
 * MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_smtp_reply_clone(mail_smtp_reply **out, const mail_smtp_reply *r,
                                      const mail_allocator *alloc);

/**
 * Free a reply made by mail_smtp_reply_clone(). NULL is accepted; a reply
 * still owned by a parser is left alone.
 */
MAIL_EXTERN void mail_smtp_reply_free(mail_smtp_reply *r);

/**
 * EHLO / LHLO capabilities as data: one entry per extension line, with
 * its keyword and parameters ("SIZE 35882577" gives keyword "SIZE" and
 * one parameter "35882577"). Keywords keep the server's spelling and are
 * looked up ignoring ASCII case.
 */
typedef struct mail_smtp_caps mail_smtp_caps;

/** Create an empty capability list. alloc may be NULL. MAIL_OK,
 *  MAIL_ERR_INVALID or MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_smtp_caps_new(mail_smtp_caps **out, const mail_allocator *alloc);

/** Free a capability list. NULL is accepted. */
MAIL_EXTERN void mail_smtp_caps_free(mail_smtp_caps *c);

/**
 * Replace the list's content with the capabilities of a positive EHLO or
 * LHLO reply. The first line (the server's name and greeting) is not a
 * capability and is skipped. Each further line is split at runs of spaces
 * (and tabs) into keyword and parameters; the pre-standard form
 * "AUTH=LOGIN PLAIN" is split at the "=" as well. A line whose keyword is
 * not ALPHA/DIGIT followed by ALPHA/DIGIT/"-" is skipped. Returns MAIL_OK,
 * MAIL_ERR_INVALID (NULL argument), MAIL_ERR_SERVER (the reply is not 2xx;
 * the list is emptied), MAIL_ERR_LIMIT (more than the default limits'
 * 10,000 lines or 1 MiB held; the list is emptied) or MAIL_ERR_NOMEM (the
 * list is emptied).
 *
 * A session does not keep its EHLO reply's capability lines twice: they
 * go straight into its list as they arrive (bounded by the connection's
 * limits), and mail_smtp_last_reply() after EHLO holds the first line only.
 */
MAIL_EXTERN int mail_smtp_caps_parse_ehlo(mail_smtp_caps *c, const mail_smtp_reply *ehlo);

/** Number of entries. */
MAIL_EXTERN size_t mail_smtp_caps_count(const mail_smtp_caps *c);

/** Keyword of entry i, NUL-terminated, or NULL when out of range.
 *  Pointers into the list stay valid until it is parsed again or freed. */
MAIL_EXTERN const char *mail_smtp_caps_keyword(const mail_smtp_caps *c, size_t i);

/** Number of parameters of entry i (0 when out of range). */
MAIL_EXTERN size_t mail_smtp_caps_param_count(const mail_smtp_caps *c, size_t i);

/** Parameter j of entry i, NUL-terminated, or NULL when out of range. */
MAIL_EXTERN const char *mail_smtp_caps_param(const mail_smtp_caps *c, size_t i, size_t j);

/**
 * Find the first entry whose keyword equals keyword, ignoring ASCII case;
 * its index goes to *index (which may be NULL). MAIL_OK,
 * MAIL_ERR_NOT_FOUND or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_smtp_caps_find(const mail_smtp_caps *c, const char *keyword, size_t *index);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_SMTP_REPLY_H */

/*
 * libmail — MIME parsing: a streaming parser, the part tree built on it,
 * header decoding (RFC 2047, RFC 2231, RFC 6532), address lists
 * (RFC 5322), dates and Message-ID lists.
 *
 * Nothing here does I/O or blocks: bytes are fed in, events and a tree
 * come out.
 * The parser never fails on malformed input: it records defects (a kind
 * and the byte offset in the source) and carries on. Hard limits
 * (mail_mime_limits) bound memory; reaching one stops descent with a
 * defect, never a crash.
 *
 * Threading: see mail/common.h (one thread per handle at a time).
 */
#ifndef MAIL_MIME_H
#define MAIL_MIME_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Defects                                                              */
/* ------------------------------------------------------------------ */

/**
 * Kinds of defect the parser records. The classes are at least as fine as
 * Python's email.errors (the Python name is given where one exists).
 * Values are ABI and never renumbered; new kinds are appended.
 */
typedef enum mail_mime_defect_kind {
  MAIL_MIME_DEFECT_NO_BOUNDARY_IN_MULTIPART = 1,     /**< NoBoundaryInMultipartDefect: multipart without boundary parameter */
  MAIL_MIME_DEFECT_START_BOUNDARY_NOT_FOUND = 2,     /**< StartBoundaryNotFoundDefect: the boundary never appears */
  MAIL_MIME_DEFECT_CLOSE_BOUNDARY_NOT_FOUND = 3,     /**< CloseBoundaryNotFoundDefect: input ended before the final boundary */
  MAIL_MIME_DEFECT_FIRST_HEADER_LINE_IS_CONTINUATION = 4, /**< FirstHeaderLineIsContinuationDefect */
  MAIL_MIME_DEFECT_MISPLACED_ENVELOPE_HEADER = 5,    /**< MisplacedEnvelopeHeaderDefect: a "From " line among the headers */
  MAIL_MIME_DEFECT_MISSING_HEADER_BODY_SEPARATOR = 6,/**< MissingHeaderBodySeparatorDefect: a line that is no header ends the headers */
  MAIL_MIME_DEFECT_MULTIPART_INVARIANT_VIOLATION = 7,/**< MultipartInvariantViolationDefect: multipart with no parts */
  MAIL_MIME_DEFECT_INVALID_MULTIPART_CTE = 8,        /**< InvalidMultipartContentTransferEncodingDefect */
  MAIL_MIME_DEFECT_UNDECODABLE_BYTES = 9,            /**< UndecodableBytesDefect: bytes invalid in the declared charset */
  MAIL_MIME_DEFECT_INVALID_BASE64_PADDING = 10,      /**< InvalidBase64PaddingDefect */
  MAIL_MIME_DEFECT_INVALID_BASE64_CHARACTERS = 11,   /**< InvalidBase64CharactersDefect */
  MAIL_MIME_DEFECT_INVALID_BASE64_LENGTH = 12,       /**< InvalidBase64LengthDefect */
  MAIL_MIME_DEFECT_INVALID_HEADER = 13,              /**< InvalidHeaderDefect / MalformedHeaderDefect: a header that does not parse */
  MAIL_MIME_DEFECT_HEADER_MISSING_REQUIRED_VALUE = 14, /**< HeaderMissingRequiredValue */
  MAIL_MIME_DEFECT_NON_PRINTABLE = 15,               /**< NonPrintableDefect: control characters in a header */
  MAIL_MIME_DEFECT_OBSOLETE_HEADER_SYNTAX = 16,      /**< ObsoleteHeaderDefect: obsolete syntax (routes, obs-zones...) */
  MAIL_MIME_DEFECT_NON_ASCII_LOCAL_PART = 17,        /**< NonASCIILocalPartDefect */
  MAIL_MIME_DEFECT_INVALID_DATE = 18,                /**< InvalidDateDefect */
  /* Finer classes of our own. */
  MAIL_MIME_DEFECT_INVALID_QUOTED_PRINTABLE = 19,    /**< '=' not followed by two hex digits or a line break */
  MAIL_MIME_DEFECT_INVALID_UUENCODE = 20,            /**< malformed uuencoded body (no begin/end, bad line) */
  MAIL_MIME_DEFECT_UNKNOWN_CHARSET = 21,             /**< charset iconv does not know; raw bytes kept */
  MAIL_MIME_DEFECT_UNKNOWN_TRANSFER_ENCODING = 22,   /**< unknown Content-Transfer-Encoding; body kept raw */
  MAIL_MIME_DEFECT_INVALID_ENCODED_WORD = 23,        /**< malformed RFC 2047 encoded word (kept as text) */
  MAIL_MIME_DEFECT_INVALID_PARAMETER = 24,           /**< malformed Content-Type/Disposition parameter or RFC 2231 section */
  MAIL_MIME_DEFECT_INVALID_HEADER_NAME = 25,         /**< a header line whose name holds invalid characters */
  MAIL_MIME_DEFECT_DUPLICATE_HEADER = 26,            /**< a header that must appear once appears twice (first one wins) */
  MAIL_MIME_DEFECT_TRUNCATED_HEADERS = 27,           /**< the input ended inside the header block */
  MAIL_MIME_DEFECT_NUL_BYTE = 28,                    /**< a NUL byte in the header block */
  MAIL_MIME_DEFECT_BARE_LINE_ENDING = 29,            /**< a bare CR in the header block */
  MAIL_MIME_DEFECT_LIMIT_DEPTH = 30,                 /**< nesting deeper than max_depth: the part is kept as a leaf */
  MAIL_MIME_DEFECT_LIMIT_PARTS = 31,                 /**< more parts than max_parts: the multipart's later parts are skipped */
  MAIL_MIME_DEFECT_LIMIT_HEADERS = 32,               /**< more headers than max_headers in one part: the rest are skipped */
  MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH = 33,         /**< one header longer than max_header_length: it is cut */
  MAIL_MIME_DEFECT_LIMIT_DECODED = 34,               /**< more than max_decoded bytes decoded: decoding stops */
  MAIL_MIME_DEFECT_INVALID_ADDRESS = 35,             /**< an address list that does not parse (or is ambiguous in strict mode) */
  MAIL_MIME_DEFECT_INVALID_MESSAGE_ID = 36,          /**< malformed Message-ID / References / In-Reply-To */
  MAIL_MIME_DEFECT_BOUNDARY_TOO_LONG = 37,           /**< boundary parameter over 70 characters (accepted up to 200) or empty */
  MAIL_MIME_DEFECT_ENCODED_MESSAGE = 38              /**< message/rfc822 with base64/QP encoding: kept as a leaf */
} mail_mime_defect_kind;

/** A short English name of a defect kind ("close-boundary-not-found"); never NULL. */
MAIL_EXTERN const char *mail_mime_defect_name(int kind);

/* ------------------------------------------------------------------ */
/* Limits                                                               */
/* ------------------------------------------------------------------ */

/** The mail_mime_limits version this header declares (its version member). */
#define MAIL_MIME_LIMITS_VERSION 1

/**
 * Hard bounds on what one parse may use. Fill with mail_mime_limits_default()
 * and change what you need. Exceeding a limit records a MAIL_MIME_DEFECT_LIMIT_*
 * defect; parsing goes on in a degraded but bounded way.
 */
typedef struct mail_mime_limits {
  unsigned int version;        /**< MAIL_MIME_LIMITS_VERSION */
  unsigned int max_depth;      /**< deepest nesting of multiparts/messages (default 64) */
  size_t max_parts;            /**< most parts in one message (default 100,000) */
  size_t max_headers;          /**< most header fields in one header block (default 10,000) */
  size_t max_header_length;    /**< longest header field, folding included (default 1 MiB) */
  size_t max_header_block;     /**< most bytes of header fields kept per part (default 4 MiB; more: limit-headers) */
  uint64_t max_decoded;        /**< most decoded body bytes the streaming parser delivers in all (default 0 = unlimited; a tree decodes only on request) */
  size_t max_defects;          /**< most defects recorded; later ones are only counted (default 1,000) */
} mail_mime_limits;

/** Fill *limits with the defaults documented in mail_mime_limits. */
MAIL_EXTERN void mail_mime_limits_default(mail_mime_limits *limits);

/* ------------------------------------------------------------------ */
/* Parts                                                                */
/* ------------------------------------------------------------------ */

/**
 * One MIME entity. In a tree (mail_mime_message) parts live as long as the
 * message. In the streaming parser a part is valid from its part_start
 * callback to the return of its part_end callback.
 */
typedef struct mail_mime_part mail_mime_part;

/** Transfer encodings. */
typedef enum mail_mime_encoding {
  MAIL_MIME_ENC_7BIT = 0,             /**< 7bit (also what a part without the header is) */
  MAIL_MIME_ENC_8BIT = 1,             /**< 8bit */
  MAIL_MIME_ENC_BINARY = 2,           /**< binary */
  MAIL_MIME_ENC_QUOTED_PRINTABLE = 3, /**< quoted-printable */
  MAIL_MIME_ENC_BASE64 = 4,         /**< base64 */
  MAIL_MIME_ENC_UUENCODE = 5,       /**< x-uuencode (read only) */
  MAIL_MIME_ENC_UNKNOWN = 6     /**< not recognised: the body is delivered raw */
} mail_mime_encoding;

/**
 * The content type as "type/subtype" in lower case. A part without a
 * (valid) Content-Type gets the default: "text/plain", or "message/rfc822"
 * inside multipart/digest. Never NULL.
 */
MAIL_EXTERN const char *mail_mime_part_content_type(const mail_mime_part *part);
/**
 * A Content-Type parameter by name (case-insensitive), RFC 2231 sections
 * joined and decoded, RFC 2047 in quoted values decoded, as UTF-8. NULL
 * when absent. Valid as long as the part.
 */
MAIL_EXTERN const char *mail_mime_part_type_param(const mail_mime_part *part, const char *name);
/** Content-Disposition value in lower case ("inline", "attachment"), or NULL. */
MAIL_EXTERN const char *mail_mime_part_disposition(const mail_mime_part *part);
/** A Content-Disposition parameter, decoded like mail_mime_part_type_param(). */
MAIL_EXTERN const char *mail_mime_part_disposition_param(const mail_mime_part *part, const char *name);
/** Disposition filename, else Content-Type name, decoded to UTF-8; NULL when neither. */
MAIL_EXTERN const char *mail_mime_part_filename(const mail_mime_part *part);
/** The charset parameter in lower case, or NULL. */
MAIL_EXTERN const char *mail_mime_part_charset(const mail_mime_part *part);
/** The transfer encoding (mail_mime_encoding). */
MAIL_EXTERN int mail_mime_part_encoding(const mail_mime_part *part);
/** The Content-Transfer-Encoding as written, lower case, or "7bit" when absent. */
MAIL_EXTERN const char *mail_mime_part_encoding_name(const mail_mime_part *part);
/** Non-zero for a multipart/ part that has a boundary (it has children). */
MAIL_EXTERN int mail_mime_part_is_multipart(const mail_mime_part *part);
/** Non-zero for a message/rfc822 or message/global part parsed recursively. */
MAIL_EXTERN int mail_mime_part_is_message(const mail_mime_part *part);
/**
 * The part's path, IMAP style: "" for a multipart root, "1" for a leaf
 * root, "1", "2.1", ... below. The root of a message inside a
 * message/rfc822 part shares its parent's path when multipart, else gets
 * "<parent>.1". Never NULL.
 */
MAIL_EXTERN const char *mail_mime_part_path(const mail_mime_part *part);
/** Nesting depth: 0 for the root. */
MAIL_EXTERN unsigned int mail_mime_part_depth(const mail_mime_part *part);

/**
 * Byte offsets in the source: where the header block starts, where the
 * body starts (after the blank line), and where the body ends (before the
 * line break that precedes the next boundary, or end of input). Any
 * pointer may be NULL.
 */
MAIL_EXTERN void mail_mime_part_offsets(const mail_mime_part *part, uint64_t *header_start,
                                        uint64_t *body_start, uint64_t *body_end);

/** Number of header fields kept for the part. */
MAIL_EXTERN size_t mail_mime_part_header_count(const mail_mime_part *part);
/**
 * The i-th header field: its name as written, and its raw value (the bytes
 * after the colon, folding kept, final line break removed). Not
 * NUL-terminated lengths are given; the strings are NUL-terminated too.
 * Returns MAIL_OK or MAIL_ERR_NOT_FOUND.
 */
MAIL_EXTERN int mail_mime_part_header_at(const mail_mime_part *part, size_t i,
                                         const char **name, const char **raw_value,
                                         size_t *raw_len);
/** The raw value of the first field named name (case-insensitive), or NULL. */
MAIL_EXTERN const char *mail_mime_part_header(const mail_mime_part *part, const char *name);
/**
 * The first field named name, unfolded, RFC 2047 words decoded, converted
 * to UTF-8 (RFC 6532 UTF-8 kept). Cached in the part; valid as long as the
 * part. NULL when absent or on allocation failure.
 */
MAIL_EXTERN const char *mail_mime_part_header_decoded(mail_mime_part *part, const char *name);

/** Number of children: parts of a multipart, or 1 (the inner message) for a message part. */
MAIL_EXTERN size_t mail_mime_part_child_count(const mail_mime_part *part);
/** The i-th child, or NULL. Tree mode only (NULL in streaming callbacks).
 *  Owned by the message: valid until mail_mime_message_free(). */
MAIL_EXTERN mail_mime_part *mail_mime_part_child(const mail_mime_part *part, size_t i);
/** The parent, or NULL for the root. Owned by the message (in a streaming
 *  callback: valid during the callback). */
MAIL_EXTERN mail_mime_part *mail_mime_part_parent(const mail_mime_part *part);
/** Number of defects recorded against this part. */
MAIL_EXTERN size_t mail_mime_part_defect_count(const mail_mime_part *part);
/** The i-th defect of the part. Returns MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_mime_part_defect(const mail_mime_part *part, size_t i, int *kind, uint64_t *offset);

/* ------------------------------------------------------------------ */
/* Streaming parser                                                     */
/* ------------------------------------------------------------------ */

/** A streaming MIME parser (opaque): fed bytes in any split, reports parts through callbacks. */
typedef struct mail_mime_parser mail_mime_parser;

/** The mail_mime_callbacks version this header declares (its version member). */
#define MAIL_MIME_CALLBACKS_VERSION 1

/**
 * Events of the streaming parser. Every function pointer may be NULL. A
 * callback returning non-zero stops the parse: feed/finish then return
 * MAIL_ERR_CALLBACK and the parser accepts nothing more.
 *
 * Order for one part: part_start, header (each field), headers_end, then
 * body (decoded data, any number of chunks) or the children's events,
 * then part_end. Defects are reported as they are found.
 */
/** A part event of the streaming parser: part_start, headers_end, part_end.
 *  Return 0 to go on; non-zero stops the parse (MAIL_ERR_CALLBACK). */
typedef int (*mail_mime_part_fn)(void *user, mail_mime_part *part);
/** One header field of a part, as received (raw_value unfolded by the caller).
 *  Return 0 to go on; non-zero stops the parse. */
typedef int (*mail_mime_header_fn)(void *user, mail_mime_part *part, const char *name, size_t name_len,
                                   const char *raw_value, size_t raw_len);
/** Body bytes of a leaf part. Return 0 to go on; non-zero stops the parse. */
typedef int (*mail_mime_body_fn)(void *user, mail_mime_part *part, const void *data, size_t len);
/** A defect (mail_mime_defect_kind) found at offset. Return 0 to go on;
 *  non-zero stops the parse. */
typedef int (*mail_mime_defect_fn)(void *user, mail_mime_part *part, int kind, uint64_t offset);

/** What a mail_mime_parser reports, versioned; any member may be NULL. */
typedef struct mail_mime_callbacks {
  unsigned int version;  /**< MAIL_MIME_CALLBACKS_VERSION */
  void *user;            /**< passed to every callback */
  mail_mime_part_fn part_start;   /**< a part begins (its headers follow) */
  mail_mime_header_fn header;     /**< one header field of the current part, unfolded */
  mail_mime_part_fn headers_end;  /**< the part's headers are complete */
  /** Transfer-decoded body bytes of a leaf (converted to UTF-8 with MAIL_MIME_TO_UTF8). */
  mail_mime_body_fn body;
  mail_mime_part_fn part_end;
  mail_mime_defect_fn defect;
} mail_mime_callbacks;

/* Parser flags. */
typedef enum mail_mime_parse_flag {
  MAIL_MIME_HEADERS_ONLY = 0x01, /**< stop after the top-level header block */
  MAIL_MIME_TO_UTF8 = 0x02, /**< convert text/ leaf bodies to UTF-8 through iconv */
  MAIL_MIME_RAW_BODY = 0x04, /**< deliver bodies without transfer decoding */
  MAIL_MIME_MBOX_FROM = 0x08, /**< accepted for clarity: a "From " first line is always skipped as an mbox envelope (no defect); later ones are misplaced-envelope-header */
  MAIL_MIME_BORROW = 0x10, /**< mail_mime_message_parse: use the caller's buffer without a copy */
  /** Also check each message's From/Sender/Reply-To/To/Cc/Bcc, Date, Message-ID,
   * In-Reply-To, References and Subject, recording invalid-address,
   * non-ascii-local-part, invalid-date, invalid-message-id and
   * invalid-encoded-word / undecodable-bytes defects. */
  MAIL_MIME_CHECK_HEADERS = 0x20
} mail_mime_parse_flag;

/** Create a streaming parser. Returns MAIL_OK, MAIL_ERR_NOMEM or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_mime_parser_new(mail_mime_parser **out, const mail_allocator *alloc);
/** Free the parser and any part still open. NULL is accepted. */
MAIL_EXTERN void mail_mime_parser_free(mail_mime_parser *parser);
/** Install the callbacks (copied). Before the first feed only: else MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_parser_set_callbacks(mail_mime_parser *parser, const mail_mime_callbacks *cb);
/** Install limits (copied). Before the first feed only. MAIL_ERR_INVALID on a wrong version. */
MAIL_EXTERN int mail_mime_parser_set_limits(mail_mime_parser *parser, const mail_mime_limits *limits);
/** Set MAIL_MIME_* flags. MAIL_OK; MAIL_ERR_INVALID (NULL parser); MAIL_ERR_STATE after the first feed. */
MAIL_EXTERN int mail_mime_parser_set_flags(mail_mime_parser *parser, unsigned int flags);
/**
 * Feed the next chunk of the message (any size, any split: the events are
 * the same). Never blocks. Returns MAIL_OK, MAIL_ERR_NOMEM,
 * MAIL_ERR_CALLBACK or MAIL_ERR_STATE (after finish or a failure).
 */
MAIL_EXTERN int mail_mime_parser_feed(mail_mime_parser *parser, const void *data, size_t len);
/** End of input: closes every open part (recording defects). Same returns as feed. */
MAIL_EXTERN int mail_mime_parser_finish(mail_mime_parser *parser);
/** Make the parser ready for another message, keeping callbacks, limits and flags. */
MAIL_EXTERN void mail_mime_parser_reset(mail_mime_parser *parser);
/** Total number of defects found so far (recorded or not). */
MAIL_EXTERN size_t mail_mime_parser_defect_total(const mail_mime_parser *parser);

/* ------------------------------------------------------------------ */
/* Tree                                                                 */
/* ------------------------------------------------------------------ */

/** A whole message parsed into a tree (opaque), from mail_mime_message_parse(). */
typedef struct mail_mime_message mail_mime_message;

/**
 * Parse a whole message held in memory into a tree. The data is copied
 * unless flags has MAIL_MIME_BORROW (then it must stay valid and unchanged
 * until mail_mime_message_free()). MAIL_MIME_HEADERS_ONLY,
 * MAIL_MIME_MBOX_FROM and MAIL_MIME_CHECK_HEADERS apply too; decoding
 * flags are given to mail_mime_part_decode(). limits may be NULL (defaults).
 * Malformed input still gives a tree (with defects). Returns MAIL_OK,
 * MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_mime_message_parse(mail_mime_message **out, const void *data, size_t len,
                                        unsigned int flags, const mail_mime_limits *limits,
                                        const mail_allocator *alloc);
/** Free the tree and every part. NULL is accepted. */
MAIL_EXTERN void mail_mime_message_free(mail_mime_message *msg);
/** The root part (never NULL for a parsed message). Owned by the message:
 *  valid until mail_mime_message_free(). */
MAIL_EXTERN mail_mime_part *mail_mime_message_root(const mail_mime_message *msg);
/** The source bytes the offsets refer to. */
MAIL_EXTERN const unsigned char *mail_mime_message_source(const mail_mime_message *msg, size_t *len);
/** Number of defects recorded in the whole message (decoding defects included once decoded). */
MAIL_EXTERN size_t mail_mime_message_defect_count(const mail_mime_message *msg);
/** The i-th defect: kind, offset and the part it belongs to (any out pointer may be NULL).
 *  MAIL_OK, MAIL_ERR_NOT_FOUND past the last, MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_mime_message_defect(const mail_mime_message *msg, size_t i, int *kind,
                                         uint64_t *offset, const mail_mime_part **part);
/**
 * Transfer-decode a leaf part of a tree into a new buffer (*out, *len),
 * allocated with the message's allocator: release with mail_free(*out). With MAIL_MIME_TO_UTF8 in flags a text/ part is also converted
 * to UTF-8. Decoding defects are added to the message (once). *out is
 * NUL-terminated (not counted). Returns MAIL_OK, MAIL_ERR_NOMEM or
 * MAIL_ERR_INVALID (not a part of a tree, or a multipart).
 */
MAIL_EXTERN int mail_mime_part_decode(mail_mime_part *part, unsigned int flags,
                                      unsigned char **out, size_t *len);
/**
 * Stream the decoded body of a tree leaf to fn in chunks (bounded memory).
 * Returns MAIL_OK, MAIL_ERR_CALLBACK (fn returned non-zero) or an error.
 */
MAIL_EXTERN int mail_mime_part_decode_cb(mail_mime_part *part, unsigned int flags,
                                         mail_write_fn fn, void *user);

/* ------------------------------------------------------------------ */
/* Editing                                                              */
/* ------------------------------------------------------------------ */

/*
 * Edits of a parsed tree are recorded and applied when the message is
 * written out; everything not edited is copied byte for byte, so writing
 * an unchanged message reproduces its source exactly. The accessors keep
 * showing the parsed source: parse the written message to see the edits.
 */

/**
 * Set the first field named name in the part's header block to value
 * (written as "Name: value"), or add it at the end of the block when
 * absent. value NULL removes every field of that name. name must be a
 * valid field name; name and value must not hold CR, LF or NUL (fold by
 * writing nothing: lines are not folded). Returns MAIL_OK,
 * MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_mime_part_set_header(mail_mime_part *part, const char *name, const char *value);
/**
 * Remove a part from its multipart parent. Returns MAIL_OK,
 * MAIL_ERR_INVALID (not a tree part, or no multipart parent) or
 * MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_mime_part_remove(mail_mime_part *part);
/**
 * Add a part at the end of a multipart: entity is the complete part
 * (header fields, blank line, encoded body), copied. The multipart must
 * have its closing boundary (else MAIL_ERR_STATE); an entity containing the
 * multipart's boundary line is refused (MAIL_ERR_INVALID).
 */
MAIL_EXTERN int mail_mime_part_append_raw(mail_mime_part *multipart, const void *entity, size_t len);
/**
 * Write the message with its edits to fn, in order, in chunks. Does not
 * block beyond fn. Returns MAIL_OK, MAIL_ERR_CALLBACK or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_mime_message_write(mail_mime_message *msg, mail_write_fn fn, void *user);

/* ------------------------------------------------------------------ */
/* Header values                                                        */
/* ------------------------------------------------------------------ */

/**
 * Unfold a header value, decode RFC 2047 encoded words (B and Q; adjacent
 * words joined, a character split across words kept whole) and convert to
 * UTF-8. Raw UTF-8 (RFC 6532) is kept; other 8-bit bytes are taken as
 * Latin-1. *out is NUL-terminated, allocated with alloc; release with
 * mail_free(*out).
 * defects (may be NULL) receives how many malformed words were kept as
 * text. Returns MAIL_OK, MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_mime_header_decode(char **out, size_t *out_len, unsigned int *defects,
                                        const char *value, size_t len, const mail_allocator *alloc);

/**
 * Convert text from charset to UTF-8 through iconv, with the usual aliases
 * (gb2312 -> gb18030, ks_c_5601-1987 -> cp949, iso-8859-8-i -> iso-8859-8,
 * ...). Invalid sequences become U+FFFD. Returns MAIL_OK, MAIL_ERR_CHARSET
 * (unknown charset: *out then holds a copy of the raw bytes),
 * MAIL_ERR_NOMEM. *out is NUL-terminated, allocated with alloc; release
 * with mail_free(*out).
 */
MAIL_EXTERN int mail_charset_to_utf8(char **out, size_t *out_len, const char *charset,
                                     const void *in, size_t len, const mail_allocator *alloc);

/**
 * Turn an attachment's file name into a safe local name: no path
 * separators, no "." or ".." (or leading dots), no control characters,
 * at most 255 bytes (UTF-8 kept whole); an empty result becomes
 * "attachment". Returns a new string allocated with alloc (release with
 * mail_free()), or NULL on NOMEM.
 */
MAIL_EXTERN char *mail_mime_safe_filename(const char *name, const mail_allocator *alloc);

/* ------------------------------------------------------------------ */
/* Addresses (RFC 5322, RFC 6532)                                       */
/* ------------------------------------------------------------------ */

/**
 * One mailbox of an address list. All strings are NUL-terminated UTF-8,
 * owned by the list. The builder (mail/mime_build.h) takes the same
 * struct as input: there only mailbox is required.
 */
typedef struct mail_address {
  const char *name;     /**< display name, decoded (RFC 2047), or NULL */
  const char *mailbox;  /**< addr-spec as it is written on the wire: local@domain, the local part quoted when it must be */
  const char *local;    /**< local part, unquoted */
  const char *domain;   /**< domain, or NULL when the mailbox has none */
  const char *group;    /**< display name of the group this mailbox belongs to, or NULL */
} mail_address;

/** Addresses parsed from a header field (opaque), read with the accessors below. */
typedef struct mail_address_list mail_address_list;

/** Reject ambiguous or obsolete forms (CVE-2023-27043 style) instead of guessing. */
typedef enum mail_addr_flag {
  MAIL_ADDR_STRICT = 0x01 /**< refuse what would need guessing */
} mail_addr_flag;

/**
 * Parse an address list (a header value, folded or not). Display names,
 * quoted local parts, groups, obsolete routes and comments are handled.
 * Tolerant mode skips what it cannot parse and counts it in defects (may
 * be NULL); strict mode returns MAIL_ERR_SYNTAX on anything ambiguous,
 * e.g. "a@b(<c@d>". An empty list is valid. Returns MAIL_OK,
 * MAIL_ERR_SYNTAX, MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_address_list_parse(mail_address_list **out, const char *text, size_t len,
                                        unsigned int flags, unsigned int *defects,
                                        const mail_allocator *alloc);
/** Number of mailboxes (groups flattened; an empty group adds none). */
MAIL_EXTERN size_t mail_address_list_count(const mail_address_list *list);
/** The i-th mailbox, or NULL. Valid as long as the list. */
MAIL_EXTERN const mail_address *mail_address_list_get(const mail_address_list *list, size_t i);
/** Free a list. NULL is accepted. */
MAIL_EXTERN void mail_address_list_free(mail_address_list *list);

/* ------------------------------------------------------------------ */
/* Dates and Message-IDs                                                */
/* ------------------------------------------------------------------ */

/**
 * Parse an RFC 5322 date (obsolete forms too: two-digit years, named
 * zones such as EST or UT, military zones taken as +0000, missing
 * seconds or day name). *when receives seconds since the epoch (UTC),
 * *zone_minutes the zone offset east of UTC (either may be NULL).
 * Returns MAIL_OK or MAIL_ERR_SYNTAX.
 */
MAIL_EXTERN int mail_date_parse(const char *text, size_t len, int64_t *when, int *zone_minutes);

/** Message-IDs parsed from References or In-Reply-To (opaque). */
typedef struct mail_msgid_list mail_msgid_list;

/**
 * Parse a Message-ID, In-Reply-To or References value into its ids
 * (without angle brackets). Comments and folding are skipped; a
 * malformed item is skipped and counted in defects (may be NULL).
 * Returns MAIL_OK, MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_msgid_list_parse(mail_msgid_list **out, const char *text, size_t len,
                                      unsigned int *defects, const mail_allocator *alloc);
/** Number of ids in the list. */
MAIL_EXTERN size_t mail_msgid_list_count(const mail_msgid_list *list);
/** The i-th id (NUL-terminated, no brackets) or NULL. */
MAIL_EXTERN const char *mail_msgid_list_get(const mail_msgid_list *list, size_t i);
/** Free a list. NULL is accepted. */
MAIL_EXTERN void mail_msgid_list_free(mail_msgid_list *list);

/* ------------------------------------------------------------------ */
/* mbox (RFC 4155)                                                      */
/* ------------------------------------------------------------------ */

/** An mbox splitter (opaque): fed a file's bytes, reports each message. */
typedef struct mail_mbox_reader mail_mbox_reader;

/** mbox formats (mail_mbox_reader_new()). */
typedef enum mail_mbox_format {
  MAIL_MBOX_MBOXRD = 0, /**< ">From ", ">>From ", ... lose one '>' */
  MAIL_MBOX_MBOXO = 1 /**< only ">From " loses its '>' */
} mail_mbox_format;

/** The mail_mbox_callbacks version this header declares (its version member). */
#define MAIL_MBOX_CALLBACKS_VERSION 1

/**
 * Events of the mbox reader. A message starts at a "From " line at the
 * start of the input or after a blank line (that blank line belongs to
 * the separator). Text before the first "From " line is a message with an
 * empty From_ line. A callback returning non-zero stops the reader
 * (MAIL_ERR_CALLBACK).
 */
/** The start of a message in an mbox: its From_ line. Return 0 to go on;
 *  non-zero stops the reader (MAIL_ERR_CALLBACK). */
typedef int (*mail_mbox_message_start_fn)(void *user, const char *from_line, size_t len);
/** The end of a message in an mbox. Return 0 to go on; non-zero stops the reader. */
typedef int (*mail_mbox_message_end_fn)(void *user);

/** What a mail_mbox_reader reports, versioned. */
typedef struct mail_mbox_callbacks {
  unsigned int version;  /**< MAIL_MBOX_CALLBACKS_VERSION */
  void *user;            /**< passed to every callback */
  /** The From_ line without its line break (cut at 4 KiB). */
  mail_mbox_message_start_fn message_start;
  /** Message bytes, unquoted, in chunks; feed them to a mail_mime_parser. */
  mail_write_fn data;
  /** The message is complete. */
  mail_mbox_message_end_fn message_end;
} mail_mbox_callbacks;

/** Create a reader for format MAIL_MBOX_MBOXRD or MAIL_MBOX_MBOXO. MAIL_OK,
 *  MAIL_ERR_INVALID (NULL, unknown format or callbacks version), MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_mbox_reader_new(mail_mbox_reader **out, int format,
                                     const mail_mbox_callbacks *cb, const mail_allocator *alloc);
/** Feed the next chunk (any split gives the same events). Never blocks. MAIL_OK,
 *  MAIL_ERR_CALLBACK (a callback returned non-zero: sticky), MAIL_ERR_STATE after finish. */
MAIL_EXTERN int mail_mbox_reader_feed(mail_mbox_reader *r, const void *data, size_t len);
/** End of input: ends the last message. Statuses as mail_mbox_reader_feed(). */
MAIL_EXTERN int mail_mbox_reader_finish(mail_mbox_reader *r);
/** Free the reader. NULL is accepted. */
MAIL_EXTERN void mail_mbox_reader_free(mail_mbox_reader *r);

/* ------------------------------------------------------------------ */
/* Delivery and disposition reports (RFC 3464, RFC 8098)                */
/* ------------------------------------------------------------------ */

/*
 * Pass the decoded body of a message/delivery-status (or
 * message/global-delivery-status) part, or of a
 * message/disposition-notification part (mail_mime_part_decode()). All
 * strings are NUL-terminated, unfolded, owned by the report; NULL when the
 * field is absent. Typed prefixes ("rfc822;", "dns;", "smtp;") are
 * removed, the type is kept in the *_type fields.
 */

/** Per-recipient fields of a DSN. */
typedef struct mail_dsn_recipient {
  const char *final_recipient;      /**< address from Final-Recipient */
  const char *final_recipient_type; /**< its type, e.g. "rfc822" */
  const char *original_recipient;   /**< address from Original-Recipient */
  const char *action;               /**< lower case: failed, delayed, delivered, relayed, expanded */
  const char *status;               /**< enhanced status code as written, e.g. "5.1.1" */
  int status_class;                 /**< 2, 4 or 5; 0 when Status does not parse */
  int status_subject;               /**< second number of Status */
  int status_detail;                /**< third number of Status */
  const char *remote_mta;           /**< host from Remote-MTA */
  const char *diagnostic_code;      /**< text from Diagnostic-Code */
  const char *diagnostic_type;      /**< its type, e.g. "smtp" */
  const char *last_attempt_date;    /**< Last-Attempt-Date as written */
  const char *will_retry_until;     /**< Will-Retry-Until as written */
} mail_dsn_recipient;

/** A parsed delivery-status report (opaque). */
typedef struct mail_dsn mail_dsn;

/**
 * Parse a delivery-status body: per-message fields, then one block per
 * recipient. Returns MAIL_OK, MAIL_ERR_SYNTAX (no recipient block),
 * MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_dsn_parse(mail_dsn **out, const void *body, size_t len,
                               const mail_allocator *alloc);
/** Reporting-MTA (host), or NULL. */
MAIL_EXTERN const char *mail_dsn_reporting_mta(const mail_dsn *dsn);
/** Original-Envelope-Id, or NULL. */
MAIL_EXTERN const char *mail_dsn_envelope_id(const mail_dsn *dsn);
/** Arrival-Date as written, or NULL. */
MAIL_EXTERN const char *mail_dsn_arrival_date(const mail_dsn *dsn);
/** Number of per-recipient blocks. */
MAIL_EXTERN size_t mail_dsn_recipient_count(const mail_dsn *dsn);
/** The i-th recipient block, or NULL. */
MAIL_EXTERN const mail_dsn_recipient *mail_dsn_recipient_get(const mail_dsn *dsn, size_t i);
/** Free a DSN. NULL is accepted. */
MAIL_EXTERN void mail_dsn_free(mail_dsn *dsn);

/** A message disposition notification (RFC 8098). */
typedef struct mail_mdn {
  const char *reporting_ua;        /**< Reporting-UA as written */
  const char *original_recipient;  /**< address from Original-Recipient */
  const char *final_recipient;     /**< address from Final-Recipient */
  const char *original_message_id; /**< Original-Message-ID without brackets */
  const char *disposition;         /**< the whole Disposition value */
  const char *action_mode;         /**< "manual-action" or "automatic-action" */
  const char *sending_mode;        /**< "mdn-sent-manually" or "mdn-sent-automatically" */
  const char *type;                /**< lower case: displayed, deleted, dispatched, processed */
  const char *error;               /**< Error field, or NULL */
} mail_mdn;

/**
 * Parse a disposition-notification body into *out (allocated; release
 * with mail_mdn_free()). Returns MAIL_OK, MAIL_ERR_SYNTAX (no
 * Disposition or Final-Recipient), MAIL_ERR_NOMEM or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_mdn_parse(mail_mdn **out, const void *body, size_t len,
                               const mail_allocator *alloc);
/** Free an MDN. NULL is accepted. */
MAIL_EXTERN void mail_mdn_free(mail_mdn *mdn);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_MIME_H */

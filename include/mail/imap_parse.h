/*
 * libmail — IMAP response parser (RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1
 * and the extensions clients meet: CONDSTORE/QRESYNC, ESEARCH, SORT/THREAD,
 * UIDPLUS, BINARY, OBJECTID, PREVIEW, NAMESPACE, LIST-EXTENDED, Gmail's
 * X-GM-*), usable on its own with no connection.
 *
 *   mail_imap_parser *p;
 *   const mail_imap_response *r;
 *   mail_imap_parser_new(&p, NULL);
 *   mail_imap_parser_feed(p, bytes, n);
 *   while (mail_imap_parser_next(p, &r) == MAIL_OK)
 *     ... mail_imap_response_kind(r), mail_imap_response_type(r) ...
 *
 * Nothing here blocks or performs I/O. Any split of the input into feeds
 * gives the same responses and the same body bytes (body chunks may be cut
 * at other places; their concatenation is the same). A parser is used by
 * one thread at a time.
 *
 * Framing counts bytes. A literal "{n}", "{n+}" or "~{n}" is recognised
 * only at the end of a line and outside a quoted string, and exactly n
 * bytes are taken after its CRLF, whatever they hold (CRLF, a line that
 * looks like a tagged OK, NUL). A literal size that does not fit in 64
 * bits stops the parser with MAIL_ERR_PROTOCOL. Status responses (OK, NO,
 * BAD, BYE, PREAUTH) and continuation requests never carry literals: their
 * text ends at the line end.
 *
 * Bounds (mail_imap_parser_set_limits()). Results that grow with the
 * mailbox (SEARCH, SORT, ESEARCH, VANISHED, THREAD) are never held as
 * text, whatever the length of their line: they are read as their bytes
 * arrive (a sequence set piece by piece, at its commas), and only the
 * unfinished token at the end of a feed waits in the input. What they
 * mean goes into compact arrays bounded by max_items entries: SEARCH and
 * SORT numbers as uint32_t (4 bytes each), the sequence sets of VANISHED
 * and ESEARCH ALL as ranges (8 bytes each, mail_imap_response_range()),
 * THREAD nodes (8 bytes each). Each array doubles as it grows, so for a
 * moment it may cost up to twice that with an allocator whose realloc
 * copies. Everything else in such a response (a "(MODSEQ n)", ESEARCH's
 * other items, a token that does not fit, what comes past max_items)
 * counts against max_response, so an endless SEARCH line ends with
 * MAIL_ERR_LIMIT; a set's text as sent is kept only while it is within
 * max_response. No literal belongs in them: one is counted out (its
 * bytes skipped, never read as responses) and is a defect. Every other response is held whole: its bytes (its lines
 * and the literals that are held) are bounded by max_response, not by
 * max_line (no response is bounded by max_line); one held literal is bounded by max_literal, checked when
 * its size is read, before anything is allocated for it (MAIL_ERR_LIMIT);
 * lists nest at most max_depth deep; one list holds at most max_items
 * values (the values after a response's name count as one list). A list
 * too deep or too long does not stop the parser: the rest of that response
 * is skipped (its literals still consumed) and the response carries a
 * defect (MAIL_IMAP_DEFECT_TOO_MANY for entries past max_items too,
 * MAIL_IMAP_DEFECT_TOO_DEEP for THREAD lists nested too deep).
 *
 * Bodies stream. The values of BODY[section]<origin>, BINARY[section] and
 * RFC822, RFC822.HEADER, RFC822.TEXT in a FETCH response are never held:
 * they go to the body callback (mail_imap_parser_set_body_callback()) as
 * BEGIN, DATA..., END while the response is parsed, and the FETCH keeps
 * only their section, origin and size. Literals elsewhere are held, up to
 * the bounds above; a literal value of an unknown FETCH item is skipped.
 *
 * Tolerance is item by item. A FETCH item, response code or response whose
 * value does not have the expected shape becomes a defect of that response
 * (mail_imap_response_defect()), kept with its raw bytes; the other items
 * of the response are still typed, and parsing goes on with the next
 * response. Habits of real servers are read as the server meant them: a
 * bare "[CODE ...]" after "*" or on a line of its own (an untagged OK; its
 * tag is then empty), "COPYUID n" with empty sets,
 * atoms holding control characters or "]" (mailbox names, flags), "\*" in
 * FLAGS, 8-bit bytes in quoted strings, an unescaped '"' inside a quoted
 * string (a '"' ends the string only when followed by a space, ')', ']' or
 * the line end, and when followed by a space, not by a word holding '"'),
 * a Content-Disposition sent as a bare string, a body size or MODSEQ of -1
 * (unknown), numbers written like "9.3736e+06" (9373600), UIDVALIDITY or
 * UIDNEXT of 0, multiparts with no children or only a subtype, an ENVELOPE
 * with its date and subject swapped, with missing or extra parentheses, or
 * with its last fields left out (nine: the Message-ID is the ninth; eight:
 * neither In-Reply-To nor Message-ID),
 * "* 0 FETCH", trailing spaces, data after BYE.
 *
 * Strings returned by accessors are NOT NUL-terminated: each accessor
 * gives the length through an out-parameter. NIL is a NULL pointer (with
 * length 0); an empty string is a non-NULL pointer with length 0. Every
 * pointer into a response (strings, envelopes, bodies, addresses) is valid
 * until the next call to mail_imap_parser_next(), _feed(), _reset() or
 * _free() on the parser that produced it.
 */
#ifndef MAIL_IMAP_PARSE_H
#define MAIL_IMAP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An incremental IMAP response parser (opaque). */
typedef struct mail_imap_parser mail_imap_parser;
/** One complete response (opaque), owned by the parser. */
typedef struct mail_imap_response mail_imap_response;
/** A FETCH ENVELOPE (opaque), owned by its response. */
typedef struct mail_imap_envelope mail_imap_envelope;
/** One address of an ENVELOPE address list (opaque). */
typedef struct mail_imap_address mail_imap_address;
/** One part of a BODY/BODYSTRUCTURE (opaque), owned by its response. */
typedef struct mail_imap_body mail_imap_body;
/** A streamed body value (BODY[...], BINARY[...], RFC822*) being delivered. */
typedef struct mail_imap_section mail_imap_section;

/** Who sent a response (mail_imap_response_kind()). */
typedef enum mail_imap_kind {
  MAIL_IMAP_KIND_GREETING = 1,     /**< the first response: untagged OK, PREAUTH or BYE */
  MAIL_IMAP_KIND_TAGGED = 2,       /**< completes the command carrying its tag */
  MAIL_IMAP_KIND_UNTAGGED = 3,     /**< "*" data or status */
  MAIL_IMAP_KIND_CONTINUATION = 4  /**< "+" continuation request */
} mail_imap_kind;

/** What a response is (mail_imap_response_type()). */
typedef enum mail_imap_type {
  MAIL_IMAP_TYPE_OTHER = 0,        /**< an unknown response; its words are in mail_imap_response_text() */
  MAIL_IMAP_TYPE_OK = 1,           /**< OK (tagged or untagged) */
  MAIL_IMAP_TYPE_NO = 2,           /**< NO */
  MAIL_IMAP_TYPE_BAD = 3,          /**< BAD */
  MAIL_IMAP_TYPE_PREAUTH = 4,      /**< a PREAUTH greeting */
  MAIL_IMAP_TYPE_BYE = 5,          /**< BYE: the server is closing */
  MAIL_IMAP_TYPE_CONTINUE = 6,     /**< the kind is CONTINUATION */
  MAIL_IMAP_TYPE_CAPABILITY = 7,   /**< strings: the capabilities */
  MAIL_IMAP_TYPE_ENABLED = 8,      /**< strings: the extensions enabled */
  MAIL_IMAP_TYPE_LIST = 9,         /**< strings: name attributes; mail_imap_response_mailbox() */
  MAIL_IMAP_TYPE_LSUB = 10,        /**< as LIST */
  MAIL_IMAP_TYPE_NAMESPACE = 11,   /**< mail_imap_response_namespace() */
  MAIL_IMAP_TYPE_STATUS = 12,      /**< mail_imap_response_mailbox(), mail_imap_response_status_item() */
  MAIL_IMAP_TYPE_FLAGS = 13,       /**< strings: the flags */
  MAIL_IMAP_TYPE_EXISTS = 14,      /**< mail_imap_response_number() */
  MAIL_IMAP_TYPE_RECENT = 15,      /**< mail_imap_response_number() */
  MAIL_IMAP_TYPE_EXPUNGE = 16,     /**< mail_imap_response_number(): the sequence number */
  MAIL_IMAP_TYPE_VANISHED = 17,    /**< mail_imap_response_set(), mail_imap_response_earlier() */
  MAIL_IMAP_TYPE_SEARCH = 18,      /**< numbers; mail_imap_response_modseq() for "(MODSEQ n)" */
  MAIL_IMAP_TYPE_ESEARCH = 19,     /**< mail_imap_response_esearch_item() */
  MAIL_IMAP_TYPE_SORT = 20,        /**< numbers */
  MAIL_IMAP_TYPE_THREAD = 21,      /**< mail_imap_response_thread_node() */
  MAIL_IMAP_TYPE_FETCH = 22,       /**< mail_imap_response_number() and the mail_imap_fetch_* accessors */
  MAIL_IMAP_TYPE_QUOTA = 23,       /**< RFC 9208: mailbox() is the quota root; mail_imap_response_quota() */
  MAIL_IMAP_TYPE_QUOTAROOT = 24,   /**< RFC 9208: mailbox(); strings: the quota roots */
  MAIL_IMAP_TYPE_ACL = 25,         /**< RFC 4314: mailbox(); mail_imap_response_acl() */
  MAIL_IMAP_TYPE_LISTRIGHTS = 26,  /**< RFC 4314: mailbox(); strings: identifier, required rights, optional groups */
  MAIL_IMAP_TYPE_MYRIGHTS = 27,    /**< RFC 4314: mailbox(); string 0: the rights */
  MAIL_IMAP_TYPE_METADATA = 28     /**< RFC 5464: mailbox() ("" for the server); mail_imap_response_metadata() */
} mail_imap_type;

/** Response codes (mail_imap_response_code()); names compared ignoring ASCII case. */
typedef enum mail_imap_code {
  MAIL_IMAP_CODE_NONE = 0,         /**< no "[...]" code */
  MAIL_IMAP_CODE_OTHER = 1,        /**< a code not listed here: see mail_imap_response_code_name() */
  MAIL_IMAP_CODE_ALERT = 2,        /**< text for the user (trusted only after TLS) */
  MAIL_IMAP_CODE_BADCHARSET = 3,   /**< strings: the charsets offered */
  MAIL_IMAP_CODE_CAPABILITY = 4,   /**< strings: the capabilities */
  MAIL_IMAP_CODE_PARSE = 5,        /**< the server could not parse a message */
  MAIL_IMAP_CODE_PERMANENTFLAGS = 6, /**< strings: the flags */
  MAIL_IMAP_CODE_READ_ONLY = 7,    /**< the mailbox is selected read-only */
  MAIL_IMAP_CODE_READ_WRITE = 8,   /**< the mailbox is selected read-write */
  MAIL_IMAP_CODE_TRYCREATE = 9,    /**< the target mailbox does not exist: CREATE may help */
  MAIL_IMAP_CODE_UIDNEXT = 10,     /**< mail_imap_response_code_number() */
  MAIL_IMAP_CODE_UIDVALIDITY = 11, /**< mail_imap_response_code_number() */
  MAIL_IMAP_CODE_UNSEEN = 12,      /**< mail_imap_response_code_number() */
  MAIL_IMAP_CODE_HIGHESTMODSEQ = 13, /**< mail_imap_response_code_number() */
  MAIL_IMAP_CODE_NOMODSEQ = 14,    /**< the mailbox keeps no mod-sequences (RFC 7162) */
  MAIL_IMAP_CODE_MODIFIED = 15,    /**< mail_imap_response_code_set() */
  MAIL_IMAP_CODE_APPENDUID = 16,   /**< code_number: UIDVALIDITY; code_set: the UIDs */
  MAIL_IMAP_CODE_COPYUID = 17,     /**< code_number: UIDVALIDITY; code_set: source; code_set2: destination */
  MAIL_IMAP_CODE_UIDNOTSTICKY = 18, /**< UIDs are not kept across sessions (RFC 4315) */
  MAIL_IMAP_CODE_CLOSED = 19,      /**< the previous mailbox was closed (RFC 7162) */
  MAIL_IMAP_CODE_UNAVAILABLE = 20, /**< RFC 5530 from here to CONTACTADMIN */
  MAIL_IMAP_CODE_AUTHENTICATIONFAILED = 21, /**< wrong credentials */
  MAIL_IMAP_CODE_AUTHORIZATIONFAILED = 22, /**< right credentials, not allowed to act as that identity */
  MAIL_IMAP_CODE_EXPIRED = 23,     /**< the credentials have expired */
  MAIL_IMAP_CODE_PRIVACYREQUIRED = 24, /**< refused without TLS */
  MAIL_IMAP_CODE_CONTACTADMIN = 25, /**< the account needs an administrator */
  MAIL_IMAP_CODE_NOPERM = 26,      /**< no permission (ACL) */
  MAIL_IMAP_CODE_INUSE = 27,       /**< in use by another session: try later */
  MAIL_IMAP_CODE_EXPUNGEISSUED = 28, /**< another session expunged messages meanwhile */
  MAIL_IMAP_CODE_CORRUPTION = 29,  /**< the server found corrupt data */
  MAIL_IMAP_CODE_SERVERBUG = 30,   /**< the server says it failed */
  MAIL_IMAP_CODE_CLIENTBUG = 31,   /**< the server says the client erred */
  MAIL_IMAP_CODE_CANNOT = 32,      /**< the operation can never succeed */
  MAIL_IMAP_CODE_LIMIT = 33,       /**< a server limit was hit (MAIL_ERR_SERVER_LIMIT) */
  MAIL_IMAP_CODE_OVERQUOTA = 34,   /**< over quota */
  MAIL_IMAP_CODE_ALREADYEXISTS = 35, /**< the mailbox exists already */
  MAIL_IMAP_CODE_NONEXISTENT = 36, /**< no such mailbox */
  MAIL_IMAP_CODE_HASCHILDREN = 37, /**< RFC 9051 */
  MAIL_IMAP_CODE_UNKNOWN_CTE = 38, /**< RFC 3516 */
  MAIL_IMAP_CODE_COMPRESSIONACTIVE = 39, /**< COMPRESS is already on (RFC 4978) */
  MAIL_IMAP_CODE_NOTSAVED = 40,    /**< a search result was not saved (RFC 5182) */
  MAIL_IMAP_CODE_MAILBOXID = 41,   /**< RFC 8474: code_set holds the id */
  MAIL_IMAP_CODE_THROTTLED = 42,   /**< the server asks to slow down (MAIL_ERR_THROTTLED) */
  MAIL_IMAP_CODE_METADATA = 43,    /**< RFC 5464: string 0 "LONGENTRIES", "MAXSIZE", "TOOMANY" or
                                        "NOPRIVATE"; code_number for LONGENTRIES and MAXSIZE */
  MAIL_IMAP_CODE_USEATTR = 44,     /**< RFC 6154: a special-use attribute was refused */
  MAIL_IMAP_CODE_TOOBIG = 45       /**< RFC 4469 / 7889: the message is over the server's limit */
} mail_imap_code;

/** FETCH items (mail_imap_fetch_has()). */
typedef enum mail_imap_item {
  MAIL_IMAP_ITEM_UID = 0,          /**< UID */
  MAIL_IMAP_ITEM_FLAGS = 1,        /**< FLAGS */
  MAIL_IMAP_ITEM_INTERNALDATE = 2, /**< INTERNALDATE */
  MAIL_IMAP_ITEM_RFC822_SIZE = 3,  /**< RFC822.SIZE */
  MAIL_IMAP_ITEM_ENVELOPE = 4,     /**< ENVELOPE */
  MAIL_IMAP_ITEM_BODYSTRUCTURE = 5, /**< BODYSTRUCTURE, or BODY without a section */
  MAIL_IMAP_ITEM_MODSEQ = 6,       /**< MODSEQ (RFC 7162) */
  MAIL_IMAP_ITEM_EMAILID = 7,      /**< EMAILID (RFC 8474) */
  MAIL_IMAP_ITEM_THREADID = 8,     /**< THREADID (RFC 8474) */
  MAIL_IMAP_ITEM_PREVIEW = 9,      /**< PREVIEW (RFC 8970) */
  MAIL_IMAP_ITEM_GM_MSGID = 10,    /**< Gmail's X-GM-MSGID */
  MAIL_IMAP_ITEM_GM_THRID = 11,    /**< Gmail's X-GM-THRID */
  MAIL_IMAP_ITEM_GM_LABELS = 12,   /**< Gmail's X-GM-LABELS */
  MAIL_IMAP_ITEM_BINARY_SIZE = 13, /**< BINARY.SIZE[...] (RFC 3516) */
  MAIL_IMAP_ITEM_SECTION = 14,      /**< at least one BODY[...], BINARY[...] or RFC822* value */
  MAIL_IMAP_ITEM_SAVEDATE = 15     /**< SAVEDATE (RFC 8514): mail_imap_fetch_string(), NULL for NIL */
} mail_imap_item;

/** ENVELOPE address lists (mail_imap_envelope_address_count()). */
typedef enum mail_imap_addr_field {
  MAIL_IMAP_ADDR_FROM = 0,         /**< From */
  MAIL_IMAP_ADDR_SENDER = 1,       /**< Sender */
  MAIL_IMAP_ADDR_REPLY_TO = 2,     /**< Reply-To */
  MAIL_IMAP_ADDR_TO = 3,           /**< To */
  MAIL_IMAP_ADDR_CC = 4,           /**< Cc */
  MAIL_IMAP_ADDR_BCC = 5           /**< Bcc */
} mail_imap_addr_field;

/** ENVELOPE strings (mail_imap_envelope_field()). */
typedef enum mail_imap_env_field {
  MAIL_IMAP_ENV_DATE = 0,          /**< the Date header as sent */
  MAIL_IMAP_ENV_SUBJECT = 1,       /**< the Subject as sent (RFC 2047 words not decoded) */
  MAIL_IMAP_ENV_IN_REPLY_TO = 2,   /**< In-Reply-To */
  MAIL_IMAP_ENV_MESSAGE_ID = 3     /**< Message-ID */
} mail_imap_env_field;

/** Strings of a body part (mail_imap_body_field()). */
typedef enum mail_imap_body_string {
  MAIL_IMAP_BODY_TYPE = 0,          /**< "TEXT", "MULTIPART", ... as sent */
  MAIL_IMAP_BODY_SUBTYPE = 1,      /**< "PLAIN", "MIXED", ... as sent */
  MAIL_IMAP_BODY_ID = 2,           /**< Content-ID */
  MAIL_IMAP_BODY_DESCRIPTION = 3,  /**< Content-Description */
  MAIL_IMAP_BODY_ENCODING = 4,     /**< Content-Transfer-Encoding */
  MAIL_IMAP_BODY_MD5 = 5,          /**< Content-MD5 */
  MAIL_IMAP_BODY_DISPOSITION = 6,   /**< the disposition type, e.g. "attachment" */
  MAIL_IMAP_BODY_LOCATION = 7      /**< Content-Location */
} mail_imap_body_string;

/** Parameter lists of a body part (mail_imap_body_param()). */
typedef enum mail_imap_body_params {
  MAIL_IMAP_PARAMS_CONTENT_TYPE = 0, /**< the Content-Type parameters */
  MAIL_IMAP_PARAMS_DISPOSITION = 1 /**< the Content-Disposition parameters */
} mail_imap_body_params;

/** What a defect is (mail_imap_response_defect()). */
typedef enum mail_imap_defect_kind {
  MAIL_IMAP_DEFECT_SYNTAX = 1,      /**< unbalanced parentheses, an unterminated string, a stray byte */
  MAIL_IMAP_DEFECT_ITEM = 2,        /**< a FETCH item whose value does not have the expected shape */
  MAIL_IMAP_DEFECT_CODE = 3,        /**< a response code with malformed arguments */
  MAIL_IMAP_DEFECT_RESPONSE = 4,    /**< a response whose data does not have the expected shape */
  MAIL_IMAP_DEFECT_TOO_DEEP = 5,    /**< nesting beyond max_depth; the rest of the response skipped */
  MAIL_IMAP_DEFECT_TOO_MANY = 6     /**< a list beyond max_items; the rest of the response skipped */
} mail_imap_defect_kind;

/** Body callback events. */
typedef enum mail_imap_body_event {
  MAIL_IMAP_BODY_BEGIN = 1,         /**< a streamed value starts (data NULL) */
  MAIL_IMAP_BODY_DATA = 2,          /**< a chunk of its bytes */
  MAIL_IMAP_BODY_END = 3            /**< it is complete (data NULL) */
} mail_imap_body_event;

/**
 * Receives streamed FETCH values. s describes the value (valid during the
 * call); data/len are the chunk for MAIL_IMAP_BODY_DATA (any byte, NUL
 * included; never empty). NIL values give BEGIN and END with no DATA.
 * Return 0 to go on; any other value stops the parser with
 * MAIL_ERR_CALLBACK (sticky, as every error of mail_imap_parser_next()).
 */
typedef int (*mail_imap_body_fn)(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                                 const unsigned char *data, size_t len);

/**
 * Create a parser with the default limits (mail_limits_init()),
 * expecting a greeting first, mailbox names in modified UTF-7. alloc may be
 * NULL. MAIL_OK, MAIL_ERR_INVALID or MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_imap_parser_new(mail_imap_parser **out, const mail_allocator *alloc);

/** Free a parser and everything it holds. NULL is accepted. */
MAIL_EXTERN void mail_imap_parser_free(mail_imap_parser *p);

/**
 * Replace the limits (see the bounds above; max_line, max_lines and
 * max_output are not used). limits may be version 1 or 2 (fields a
 * version 1 struct lacks keep their defaults). MAIL_ERR_INVALID first:
 * when p or limits is NULL, the version is not 1 or 2, a bound is 0,
 * max_response exceeds 4 GiB - 2 or max_items exceeds 2^30 - 1; then
 * MAIL_ERR_STATE when bytes were fed since the parser was made or reset
 * (limits are set before the first feed); MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_imap_parser_set_limits(mail_imap_parser *p, const mail_limits *limits);

/**
 * Mailbox names: on != 0 takes them as UTF-8 as sent (after the server
 * accepted ENABLE UTF8=ACCEPT); 0 (the default) decodes modified UTF-7
 * (RFC 3501 section 5.1.3) to UTF-8, keeping a name that is not valid
 * modified UTF-7 as sent (with a defect). Takes effect from the next
 * response. MAIL_OK or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_parser_set_utf8(mail_imap_parser *p, int on);

/**
 * Say whether the next response may be the greeting (on != 0, the state of
 * a new parser) or not (a parser used for the middle of a stream). Only
 * the first response after a new parser or a reset is taken as a greeting.
 * MAIL_OK or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_parser_expect_greeting(mail_imap_parser *p, int on);

/** Set (or clear, with fn NULL) the callback receiving streamed values. MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_imap_parser_set_body_callback(mail_imap_parser *p, mail_imap_body_fn fn,
                                                   void *user);

/**
 * Hand len bytes received from the server to the parser (copied). At most
 * limits.max_response bytes may wait unread beyond the response being
 * parsed: feed what arrives and drain with mail_imap_parser_next() after
 * each feed (a body of any size then streams through a buffer the size of
 * one feed). MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM, MAIL_ERR_LIMIT, or
 * the error that stopped the parser earlier. Invalidates the last response.
 */
MAIL_EXTERN int mail_imap_parser_feed(mail_imap_parser *p, const void *data, size_t len);

/** No more bytes will come (the server closed the connection). */
MAIL_EXTERN void mail_imap_parser_end(mail_imap_parser *p);

/**
 * Parse up to the end of the next response, delivering streamed values to
 * the body callback on the way.
 *
 * MAIL_OK: *resp is the response, valid until the next call to _next(),
 * _feed(), _reset() or _free().
 * MAIL_ERR_AGAIN: no complete response yet; feed more.
 * MAIL_ERR_PROTOCOL: the input cannot be framed (a literal size over 64
 * bits, a malformed literal marker).
 * MAIL_ERR_LIMIT: a held literal over max_literal, or a response over
 * max_response bytes.
 * MAIL_ERR_CALLBACK: the body callback returned non-zero.
 * MAIL_ERR_NOMEM.
 * MAIL_ERR_CLOSED: the input ended (mail_imap_parser_end()): a clean end
 * between responses, an error inside one.
 *
 * After an error (a clean end aside) the parser is stopped: every call
 * returns the same error until mail_imap_parser_reset(). On a connection
 * the session must then be closed. MAIL_ERR_INVALID when p or resp is NULL.
 */
MAIL_EXTERN int mail_imap_parser_next(mail_imap_parser *p, const mail_imap_response **resp);

/** Drop buffered input and any partial response and clear the error state;
 *  limits, the UTF-8 setting and the callback are kept; a greeting is
 *  expected again. */
MAIL_EXTERN void mail_imap_parser_reset(mail_imap_parser *p);

/** Bytes fed and not yet part of a returned response (of a result read
 *  as it arrives, such as a long SEARCH, only the bytes not yet taken). */
MAIL_EXTERN size_t mail_imap_parser_pending(const mail_imap_parser *p);

/** Bytes the parser holds now (input, the response being parsed, its values). */
MAIL_EXTERN size_t mail_imap_parser_held(const mail_imap_parser *p);

/* ------------------------------------------------------------ responses */

/** The kind (mail_imap_kind), 0 for NULL. */
MAIL_EXTERN int mail_imap_response_kind(const mail_imap_response *r);

/** The type (mail_imap_type), 0 for NULL. */
MAIL_EXTERN int mail_imap_response_type(const mail_imap_response *r);

/** The tag of a tagged response ("*" or "+" otherwise; empty for a bare
 *  "[CODE]" line); *len gets its length. */
MAIL_EXTERN const char *mail_imap_response_tag(const mail_imap_response *r, size_t *len);

/**
 * Where the response lies in the byte stream fed since the parser was
 * created or reset: [*start, *end), end just after its last CRLF. A session
 * learns from it where a tagged response completes. Either pointer may be
 * NULL.
 */
MAIL_EXTERN void mail_imap_response_span(const mail_imap_response *r, uint64_t *start,
                                         uint64_t *end);

/**
 * The text: of a status response, what follows the response code; of a
 * continuation, everything after "+ " (for SASL, a base64 challenge); of
 * an unknown response, everything after the tag. Never NULL for a
 * response (possibly empty).
 */
MAIL_EXTERN const char *mail_imap_response_text(const mail_imap_response *r, size_t *len);

/**
 * Decode the text as base64 (a SASL challenge, or the error JSON of a
 * failed XOAUTH2/OAUTHBEARER) into buf (size bytes); *out_len gets the
 * decoded length (or the size needed, with MAIL_ERR_BUFFER). MAIL_OK,
 * MAIL_ERR_BUFFER, MAIL_ERR_SYNTAX (not base64) or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_response_text_base64(const mail_imap_response *r, size_t *out_len,
                                               unsigned char *buf, size_t size);

/**
 * The number of EXISTS, RECENT, EXPUNGE and FETCH (the sequence number,
 * which a broken server may send as 0). MAIL_OK or MAIL_ERR_NOT_FOUND.
 */
MAIL_EXTERN int mail_imap_response_number(const mail_imap_response *r, uint32_t *out);

/** The response code (mail_imap_code). */
MAIL_EXTERN int mail_imap_response_code(const mail_imap_response *r);

/** The code's name as sent (e.g. "COPYUID"), NULL when there is none. */
MAIL_EXTERN const char *mail_imap_response_code_name(const mail_imap_response *r, size_t *len);

/** Everything after the code's name up to its "]", as sent (NULL when none). */
MAIL_EXTERN const char *mail_imap_response_code_raw(const mail_imap_response *r, size_t *len);

/**
 * The number of UIDNEXT, UIDVALIDITY, UNSEEN, HIGHESTMODSEQ, and the
 * UIDVALIDITY of APPENDUID and COPYUID. MAIL_OK, or MAIL_ERR_NOT_FOUND
 * (no such code, or its number was malformed: then a defect says so).
 */
MAIL_EXTERN int mail_imap_response_code_number(const mail_imap_response *r, uint64_t *out);

/**
 * A code's set, as sent (e.g. "1:3,7"): the UIDs of APPENDUID, the source
 * UIDs of COPYUID, the set of MODIFIED, the id of MAILBOXID. Possibly empty
 * (Exchange's "COPYUID n  "). NULL when the code has none.
 */
MAIL_EXTERN const char *mail_imap_response_code_set(const mail_imap_response *r, size_t *len);

/** The destination UIDs of COPYUID (possibly empty), NULL otherwise. */
MAIL_EXTERN const char *mail_imap_response_code_set2(const mail_imap_response *r, size_t *len);

/**
 * Strings of the response: capabilities (CAPABILITY, or the CAPABILITY
 * code of a status response), extensions (ENABLED), flags (FLAGS, or the
 * PERMANENTFLAGS code), name attributes (LIST, LSUB), charsets (the
 * BADCHARSET code). mail_imap_response_string_count() says how many.
 */
MAIL_EXTERN size_t mail_imap_response_string_count(const mail_imap_response *r);

/** String i of the response (see above), NULL when out of range. */
MAIL_EXTERN const char *mail_imap_response_string(const mail_imap_response *r, size_t i,
                                                  size_t *len);

/**
 * Numbers of SEARCH and SORT (sequence numbers or UIDs), in the order sent.
 * *count gets how many; the array is valid as long as the response. NULL
 * (with *count 0) for other responses. A number that is 0, over 2^32 - 1
 * or not a number is left out and becomes a defect with its bytes. The
 * array costs 4 bytes a number (read as the line arrives, never held as
 * text); while it grows it is doubled, so for a moment up to twice that
 * with an allocator whose realloc copies.
 */
MAIL_EXTERN const uint32_t *mail_imap_response_numbers(const mail_imap_response *r, size_t *count);

/** The "(MODSEQ n)" of a CONDSTORE SEARCH or SORT. MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_imap_response_modseq(const mail_imap_response *r, uint64_t *out);

/**
 * LIST, LSUB, STATUS, QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS, METADATA:
 * the mailbox name in UTF-8 (decoded from modified UTF-7 unless
 * mail_imap_parser_set_utf8() was set); QUOTA: the quota root as sent. *raw (may be NULL)
 * gets the name as sent, *raw_len its length.
 */
MAIL_EXTERN const char *mail_imap_response_mailbox(const mail_imap_response *r, size_t *len,
                                                   const char **raw, size_t *raw_len);

/**
 * LIST, LSUB: the hierarchy delimiter into *delim, or 0 for NIL. MAIL_OK or
 * MAIL_ERR_NOT_FOUND for other responses.
 */
MAIL_EXTERN int mail_imap_response_delimiter(const mail_imap_response *r, char *delim);

/**
 * LIST extended data (RFC 5258), e.g. "CHILDINFO" with "SUBSCRIBED", or
 * "OLDNAME" with the old name: item i's tag into *tag, its value as sent
 * into *raw. Returns MAIL_OK or MAIL_ERR_NOT_FOUND past the last.
 */
MAIL_EXTERN int mail_imap_response_list_ext(const mail_imap_response *r, size_t i,
                                            const char **tag, size_t *tag_len,
                                            const char **raw, size_t *raw_len);

/**
 * STATUS item i (e.g. "MESSAGES", "UIDNEXT", "HIGHESTMODSEQ", "SIZE"):
 * name into *name, value into *value. MAIL_OK or MAIL_ERR_NOT_FOUND past
 * the last.
 */
MAIL_EXTERN int mail_imap_response_status_item(const mail_imap_response *r, size_t i,
                                               const char **name, size_t *name_len,
                                               uint64_t *value);

/**
 * NAMESPACE: entry i of class cls (0 personal, 1 other users, 2 shared):
 * prefix in UTF-8 and delimiter (0 for NIL). MAIL_OK or MAIL_ERR_NOT_FOUND.
 */
MAIL_EXTERN int mail_imap_response_namespace(const mail_imap_response *r, int cls, size_t i,
                                             const char **prefix, size_t *prefix_len,
                                             char *delim);

/**
 * VANISHED: the UID set as sent, when it is at most max_response bytes
 * long; NULL for a longer set (take its ranges) and for other responses.
 */
MAIL_EXTERN const char *mail_imap_response_set(const mail_imap_response *r, size_t *len);

/**
 * The sequence set of VANISHED (the UIDs) or of ESEARCH's ALL item as
 * ranges, however long the set: how many there are (0 for other
 * responses). They cost 8 bytes each, are bounded by max_items (past it,
 * a MAIL_IMAP_DEFECT_TOO_MANY defect) and are read as the set arrives,
 * never held as text.
 */
MAIL_EXTERN size_t mail_imap_response_range_count(const mail_imap_response *r);

/**
 * Range i of the set, in the order sent: *first <= *last ("9:3" as sent
 * gives 3 and 9; "7" gives 7 and 7). A piece that is not a number or a
 * range of numbers 1 to 2^32 - 1 is left out and becomes a defect.
 * MAIL_OK, MAIL_ERR_NOT_FOUND past the last, MAIL_ERR_INVALID for NULL r.
 * first or last may be NULL.
 */
MAIL_EXTERN int mail_imap_response_range(const mail_imap_response *r, size_t i, uint32_t *first,
                                         uint32_t *last);

/** VANISHED: 1 for "VANISHED (EARLIER)", else 0. */
MAIL_EXTERN int mail_imap_response_earlier(const mail_imap_response *r);

/**
 * ESEARCH: the correlator tag into *tag (NULL when none), and *uid 1 when
 * "UID" was given. MAIL_OK or MAIL_ERR_NOT_FOUND for other responses.
 * Either pointer may be NULL.
 */
MAIL_EXTERN int mail_imap_response_esearch(const mail_imap_response *r, const char **tag,
                                           size_t *tag_len, int *uid);

/**
 * ESEARCH item i: its name ("MIN", "MAX", "COUNT", "ALL", "MODSEQ",
 * "PARTIAL", ...) and value as sent ("1:3,5", "17", "(1:100 ...)"). The
 * value of ALL is NULL when it is longer than max_response bytes: its
 * ranges are in mail_imap_response_range(). The other items count against
 * max_response. MAIL_OK or MAIL_ERR_NOT_FOUND past the last.
 */
MAIL_EXTERN int mail_imap_response_esearch_item(const mail_imap_response *r, size_t i,
                                                const char **name, size_t *name_len,
                                                const char **value, size_t *value_len);

/**
 * THREAD: node i of the forest in depth-first order: its message number
 * and the index of its parent (SIZE_MAX for a root). Threads whose root is
 * a "dummy" (RFC 5256 "(3 (4)(5))" forms with no shared parent message)
 * get a node of number 0. MAIL_OK or MAIL_ERR_NOT_FOUND past the last.
 */
MAIL_EXTERN int mail_imap_response_thread_node(const mail_imap_response *r, size_t i,
                                               uint32_t *number, size_t *parent);

/**
 * QUOTA (RFC 9208): resource i of the quota root (mail_imap_response_mailbox()
 * gives the root's name as sent): its name ("STORAGE" in units of 1024
 * bytes, "MESSAGE", "MAILBOX", "ANNOTATION-STORAGE", ...), usage and limit,
 * each up to 2^63 - 1. A resource whose numbers are not numbers is left out
 * with a defect. MAIL_OK, MAIL_ERR_NOT_FOUND past the last or for other
 * responses, MAIL_ERR_INVALID for NULL r. Any out pointer may be NULL.
 */
MAIL_EXTERN int mail_imap_response_quota(const mail_imap_response *r, size_t i,
                                         const char **name, size_t *name_len,
                                         uint64_t *usage, uint64_t *limit);

/**
 * ACL (RFC 4314): entry i, an identifier ("anyone", a user name, "-fred"
 * for a negative right) and its rights as sent ("lrswipkxtecda"). MAIL_OK,
 * MAIL_ERR_NOT_FOUND past the last or for other responses,
 * MAIL_ERR_INVALID for NULL r. Any out pointer may be NULL.
 */
MAIL_EXTERN int mail_imap_response_acl(const mail_imap_response *r, size_t i,
                                       const char **identifier, size_t *identifier_len,
                                       const char **rights, size_t *rights_len);

/**
 * METADATA (RFC 5464): entry i, its name ("/private/comment") and value
 * (any bytes, NUL included when sent as a literal; NULL for NIL, and for
 * every entry of the unsolicited form that lists changed entries without
 * values: see mail_imap_response_metadata_changed()). MAIL_OK,
 * MAIL_ERR_NOT_FOUND past the last or for other responses,
 * MAIL_ERR_INVALID for NULL r. Any out pointer may be NULL.
 */
MAIL_EXTERN int mail_imap_response_metadata(const mail_imap_response *r, size_t i,
                                            const char **entry, size_t *entry_len,
                                            const char **value, size_t *value_len);

/** METADATA: 1 for the unsolicited form that names changed entries without
 *  their values ("* METADATA INBOX /shared/comment"), else 0. */
MAIL_EXTERN int mail_imap_response_metadata_changed(const mail_imap_response *r);

/**
 * STATUS: the MAILBOXID item (RFC 8474 OBJECTID), "MAILBOXID (id)", which
 * mail_imap_response_status_item() leaves out as it is not a number. NULL
 * when absent or for other responses.
 */
MAIL_EXTERN const char *mail_imap_response_status_mailboxid(const mail_imap_response *r,
                                                            size_t *len);

/** Number of defects of the response. */
MAIL_EXTERN size_t mail_imap_response_defect_count(const mail_imap_response *r);

/**
 * Defect i: its kind (mail_imap_defect_kind), the name of the item or code
 * concerned (e.g. "BODYSTRUCTURE", NULL when none) and the raw bytes of the
 * item as received (within its response; streamed literal bytes are not
 * included). MAIL_OK or MAIL_ERR_NOT_FOUND past the last. Any out pointer
 * may be NULL.
 */
MAIL_EXTERN int mail_imap_response_defect(const mail_imap_response *r, size_t i, int *kind,
                                          const char **item, size_t *item_len,
                                          const char **raw, size_t *raw_len);

/* ------------------------------------------------------------ FETCH */

/** 1 when the FETCH response carries the item (mail_imap_item), else 0. */
MAIL_EXTERN int mail_imap_fetch_has(const mail_imap_response *r, int item);

/**
 * The numeric items: UID, RFC822.SIZE, MODSEQ, X-GM-MSGID, X-GM-THRID.
 * MAIL_OK, MAIL_ERR_NOT_FOUND (absent, or -1/unknown as some servers send
 * for MODSEQ), MAIL_ERR_INVALID for other items.
 */
MAIL_EXTERN int mail_imap_fetch_number(const mail_imap_response *r, int item, uint64_t *out);

/**
 * The string items: INTERNALDATE, EMAILID, THREADID (NULL for NIL),
 * PREVIEW (NULL for NIL), SAVEDATE (NULL for NIL). NULL when absent.
 */
MAIL_EXTERN const char *mail_imap_fetch_string(const mail_imap_response *r, int item, size_t *len);

/**
 * INTERNALDATE as seconds since the Unix epoch (UTC). MAIL_OK,
 * MAIL_ERR_NOT_FOUND or MAIL_ERR_SYNTAX (not a date-time).
 */
MAIL_EXTERN int mail_imap_fetch_internaldate(const mail_imap_response *r, int64_t *out);

/** Number of FLAGS (0 when absent: see mail_imap_fetch_has()). */
MAIL_EXTERN size_t mail_imap_fetch_flag_count(const mail_imap_response *r);

/** Flag i (e.g. "\\Seen"), NULL when out of range. */
MAIL_EXTERN const char *mail_imap_fetch_flag(const mail_imap_response *r, size_t i, size_t *len);

/** Number of X-GM-LABELS (a NIL in the list is Gmail's spelling of a label named "NIL"). */
MAIL_EXTERN size_t mail_imap_fetch_label_count(const mail_imap_response *r);

/** X-GM-LABELS label i (modified UTF-7 decoded unless UTF-8 mode). */
MAIL_EXTERN const char *mail_imap_fetch_label(const mail_imap_response *r, size_t i, size_t *len);

/**
 * BINARY.SIZE[section] item i: the section ("1.2", or "" for the whole
 * message) and the size. MAIL_OK or MAIL_ERR_NOT_FOUND past the last.
 */
MAIL_EXTERN int mail_imap_fetch_binary_size(const mail_imap_response *r, size_t i,
                                            const char **section, size_t *section_len,
                                            uint64_t *size);

/** The ENVELOPE, NULL when absent or malformed (then a defect says so). */
MAIL_EXTERN const mail_imap_envelope *mail_imap_fetch_envelope(const mail_imap_response *r);

/** The BODYSTRUCTURE (or BODY) root part, NULL when absent or malformed. */
MAIL_EXTERN const mail_imap_body *mail_imap_fetch_body(const mail_imap_response *r);

/** Number of streamed values (BODY[...], BINARY[...], RFC822*) in the response. */
MAIL_EXTERN size_t mail_imap_fetch_section_count(const mail_imap_response *r);

/** Streamed value i of the response (in the order sent), NULL when out of range. */
MAIL_EXTERN const mail_imap_section *mail_imap_fetch_section(const mail_imap_response *r,
                                                             size_t i);

/* ------------------------------------------------------------ sections */

/**
 * The item's name as sent: "BODY", "BINARY", "RFC822", "RFC822.HEADER" or
 * "RFC822.TEXT" (ASCII case as sent).
 */
MAIL_EXTERN const char *mail_imap_section_item(const mail_imap_section *s, size_t *len);

/** The section between the brackets as sent (e.g. "1.2.MIME", "HEADER.FIELDS (TO)"); "" for RFC822*. */
MAIL_EXTERN const char *mail_imap_section_spec(const mail_imap_section *s, size_t *len);

/** The "<origin>" of a partial fetch. MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_imap_section_origin(const mail_imap_section *s, uint64_t *out);

/** The value's size in bytes (0 for NIL). */
MAIL_EXTERN uint64_t mail_imap_section_size(const mail_imap_section *s);

/** 1 when the value is NIL, else 0. */
MAIL_EXTERN int mail_imap_section_is_nil(const mail_imap_section *s);

/** The FETCH sequence number of the message the value belongs to. */
MAIL_EXTERN uint32_t mail_imap_section_message(const mail_imap_section *s);

/* ------------------------------------------------------------ envelope */

/** A string of the ENVELOPE (mail_imap_env_field), NULL for NIL. */
MAIL_EXTERN const char *mail_imap_envelope_field(const mail_imap_envelope *e, int field,
                                                 size_t *len);

/** Number of entries of an address list (mail_imap_addr_field); NIL gives 0. */
MAIL_EXTERN size_t mail_imap_envelope_address_count(const mail_imap_envelope *e, int field);

/** Entry i of an address list, NULL when out of range. */
MAIL_EXTERN const mail_imap_address *mail_imap_envelope_address(const mail_imap_envelope *e,
                                                                int field, size_t i);

/** The display name (RFC 2047 words as sent), NULL for NIL. */
MAIL_EXTERN const char *mail_imap_address_name(const mail_imap_address *a, size_t *len);

/** The source route (obsolete), NULL for NIL. */
MAIL_EXTERN const char *mail_imap_address_adl(const mail_imap_address *a, size_t *len);

/**
 * The local part, NULL for NIL. In RFC 3501 group syntax an entry with NIL
 * host starts a group (the mailbox is the group's name) and one with NIL
 * mailbox and host ends it.
 */
MAIL_EXTERN const char *mail_imap_address_mailbox(const mail_imap_address *a, size_t *len);

/** The domain, NULL for NIL. */
MAIL_EXTERN const char *mail_imap_address_host(const mail_imap_address *a, size_t *len);

/* ------------------------------------------------------------ body structure */

/** 1 for a multipart, else 0. */
MAIL_EXTERN int mail_imap_body_is_multipart(const mail_imap_body *b);

/** Number of children: a multipart's parts, or 1 for a message/rfc822 (or global) part. */
MAIL_EXTERN size_t mail_imap_body_child_count(const mail_imap_body *b);

/** Child i, NULL when out of range. */
MAIL_EXTERN const mail_imap_body *mail_imap_body_child(const mail_imap_body *b, size_t i);

/** The enclosing part, NULL for the root. */
MAIL_EXTERN const mail_imap_body *mail_imap_body_parent(const mail_imap_body *b);

/** A string of the part (mail_imap_body_string), NULL for NIL or absent. */
MAIL_EXTERN const char *mail_imap_body_field(const mail_imap_body *b, int field, size_t *len);

/** Number of parameters of a list (mail_imap_body_params). */
MAIL_EXTERN size_t mail_imap_body_param_count(const mail_imap_body *b, int list);

/** Parameter i of a list: name and value. MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_imap_body_param(const mail_imap_body *b, int list, size_t i,
                                     const char **name, size_t *name_len,
                                     const char **value, size_t *value_len);

/** Number of Content-Language tags. */
MAIL_EXTERN size_t mail_imap_body_language_count(const mail_imap_body *b);

/** Language tag i, NULL when out of range. */
MAIL_EXTERN const char *mail_imap_body_language(const mail_imap_body *b, size_t i, size_t *len);

/** The size in bytes. MAIL_OK or MAIL_ERR_NOT_FOUND (multipart, or -1: unknown). */
MAIL_EXTERN int mail_imap_body_size(const mail_imap_body *b, uint64_t *out);

/** The size in lines of a text or message part. MAIL_OK or MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_imap_body_lines(const mail_imap_body *b, uint64_t *out);

/** The ENVELOPE of a message/rfc822 part, NULL otherwise. */
MAIL_EXTERN const mail_imap_envelope *mail_imap_body_envelope(const mail_imap_body *b);

/**
 * Extension data after the location, as sent (RFC 3501 body-extension),
 * NULL when there is none.
 */
MAIL_EXTERN const char *mail_imap_body_extension(const mail_imap_body *b, size_t *len);

/* ------------------------------------------------------------ modified UTF-7 */

/**
 * Decode a modified UTF-7 mailbox name (RFC 3501 section 5.1.3) into UTF-8
 * in buf (size bytes, not NUL-terminated); *out_len gets the length (or the
 * size needed, with MAIL_ERR_BUFFER). MAIL_OK, MAIL_ERR_BUFFER,
 * MAIL_ERR_SYNTAX (not valid modified UTF-7) or MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_utf7_decode(size_t *out_len, char *buf, size_t size,
                                      const char *in, size_t len);

/**
 * Encode a UTF-8 mailbox name as modified UTF-7 into buf; as above.
 * MAIL_ERR_CHARSET when in is not valid UTF-8.
 */
MAIL_EXTERN int mail_imap_utf7_encode(size_t *out_len, char *buf, size_t size,
                                      const char *in, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_IMAP_PARSE_H */

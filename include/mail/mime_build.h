/*
 * libmail — MIME message builder (RFC 5322, 2045-2049, 2047, 2231, 6532).
 *
 * A mail_mime_builder collects headers, a text and/or HTML body, inline
 * images and attachments, then produces the message as a byte stream that
 * SMTP DATA/BDAT and IMAP APPEND consume directly:
 *
 *   mail_mime_builder *m;
 *   mail_mime_builder_new(&m, NULL);
 *   mail_mime_builder_set_from(m, "Alice", "alice@example.org");
 *   mail_mime_builder_add_to(m, NULL, "bob@example.org");
 *   mail_mime_builder_set_subject(m, "Hello");
 *   mail_mime_builder_set_text(m, "Hi Bob\n", 7);
 *   uint64_t size; mail_mime_builder_size(m, &size);      // SIZE=, literal length
 *   unsigned needs; mail_mime_builder_transport(m, &needs); // BODY=, SMTPUTF8
 *   while (mail_mime_builder_read(m, buf, sizeof buf, &got) == MAIL_OK && got) ...
 *   mail_mime_builder_free(m);
 *
 * Structure is derived from what was added: text alone is text/plain; text
 * and HTML make multipart/alternative; inline parts with HTML make
 * multipart/related around the HTML; attachments make multipart/mixed
 * around the rest.
 *
 * Life cycle: setters work until the message is frozen by the first call
 * to mail_mime_builder_size(), _transport(), _read(), _to_buffer() or
 * _write(); afterwards they return MAIL_ERR_STATE. Freezing chooses every
 * transfer encoding, fixes Date, Message-ID and boundaries, and computes
 * the exact output size, reading file and rewindable callback sources once
 * to do so. If freezing fails (MAIL_ERR_NOMEM, a source error, a forced
 * encoding the options forbid) every later output call returns the same
 * error: free the message and build it again.
 *
 * Text given by the caller is UTF-8 (MAIL_ERR_CHARSET when it is not valid
 * UTF-8). CR, LF or NUL in any header name or value, display name, address,
 * filename, Content-ID or content type gives MAIL_ERR_INVALID (no header
 * injection). A malformed address gives MAIL_ERR_SYNTAX.
 *
 * Only sources the caller named are read (attachment files, read
 * callbacks); the builder does no other I/O and no function blocks except
 * on those reads. Threading: one thread at a time per message.
 */
#ifndef MAIL_MIME_BUILD_H
#define MAIL_MIME_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/mime.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A message being built. Opaque. */
typedef struct mail_mime_builder mail_mime_builder;

/** A leaf part inside a message (an attachment, an inline image). Owned by
 * its message; valid until the message is freed. */
typedef struct mail_mime_builder_part mail_mime_builder_part;

/**
 * Read callback for attachment content. Fill buf with up to cap bytes,
 * store the count in *got (0 means the end of the content) and return 0;
 * any other return value aborts the operation with MAIL_ERR_CALLBACK.
 */
typedef int (*mail_mime_read_fn)(void *user, unsigned char *buf, size_t cap, size_t *got);

/** Rewind callback: restart the content from its first byte. 0 on success. */
typedef int (*mail_mime_rewind_fn)(void *user);

/** Length of a callback source that the caller does not know. */
#define MAIL_MIME_LENGTH_UNKNOWN UINT64_MAX

/* ---- options: what the path to the recipient supports ---- */
/** What the path to the recipient supports (mail_mime_builder_set_options()). */
typedef enum mail_mime_build_option {
  /** The path supports 8BITMIME: 8bit transfer encoding may be used. */
  MAIL_MIME_OPT_8BITMIME = 0x1,
  /** The path supports BINARYMIME (SMTP with CHUNKING, IMAP APPEND with the
   * BINARY extension): binary transfer encoding may be used. Implies 8BITMIME. */
  MAIL_MIME_OPT_BINARYMIME = 0x2,
  /** The path supports SMTPUTF8 (RFC 6531/6532): display names and the
   * subject are written as raw UTF-8 instead of RFC 2047 encoded words.
   * Implies MAIL_MIME_OPT_8BITMIME, which every SMTPUTF8 server offers
   * (RFC 6531). */
  MAIL_MIME_OPT_SMTPUTF8 = 0x4,
  /** Also write an RFC 2047 encoded name= parameter next to the RFC 2231
   * filename*= for non-ASCII or long filenames (what Outlook reads). */
  MAIL_MIME_OPT_COMPAT_FILENAME = 0x8
} mail_mime_build_option;

/* ---- what the finished message needs from the transport ---- */
/** What the finished message needs (mail_mime_builder_needs()). */
typedef enum mail_mime_needs {
  /** Some part uses the 8bit transfer encoding (SMTP BODY=8BITMIME). */
  MAIL_MIME_NEEDS_8BIT = 0x1,
  /** Some part uses the binary transfer encoding (SMTP BODY=BINARYMIME, BDAT). */
  MAIL_MIME_NEEDS_BINARY = 0x2,
  /** Some header holds raw UTF-8 or an address is not ASCII (SMTPUTF8). */
  MAIL_MIME_NEEDS_SMTPUTF8 = 0x4
} mail_mime_needs;

/* Transfer encodings are mail_mime_encoding values from <mail/mime.h>
 * (MAIL_MIME_ENC_7BIT ... MAIL_MIME_ENC_BASE64); this one means "choose
 * from the content", the default. */
typedef enum mail_mime_build_encoding {
  MAIL_MIME_BUILD_ENC_AUTO = -1 /**< choose from the content */
} mail_mime_build_encoding;

/* Header fields for mail_mime_builder_add_address(). */
typedef enum mail_mime_field {
  MAIL_MIME_FIELD_FROM = 1,     /**< From */
  MAIL_MIME_FIELD_TO = 2,       /**< To */
  MAIL_MIME_FIELD_CC = 3,       /**< Cc */
  MAIL_MIME_FIELD_BCC = 4,      /**< Bcc (never written into the message) */
  MAIL_MIME_FIELD_REPLY_TO = 5, /**< Reply-To */
  MAIL_MIME_FIELD_SENDER = 6    /**< Sender */
} mail_mime_field;

/**
 * Create an empty message. alloc may be NULL (the C library's allocator).
 * Returns MAIL_OK, MAIL_ERR_INVALID (NULL out, incomplete allocator) or
 * MAIL_ERR_NOMEM. Free with mail_mime_builder_free().
 */
MAIL_EXTERN int mail_mime_builder_new(mail_mime_builder **out, const mail_allocator *alloc);

/** Free a message, its parts, nested messages it took over, and close the
 * files it opened. NULL is allowed. */
MAIL_EXTERN void mail_mime_builder_free(mail_mime_builder *msg);

/** Set the random source used for boundaries and the Message-ID (NULL
 * restores the default). Fixed random bytes and a fixed clock make the
 * output byte-identical from run to run. MAIL_ERR_INVALID, MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_builder_set_random(mail_mime_builder *msg, mail_random_fn fn, void *user);

/** Set the clock that dates the message when mail_mime_builder_set_date()
 * was not called (NULL restores the default). MAIL_ERR_INVALID, MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_builder_set_clock(mail_mime_builder *msg, mail_clock_fn fn, void *user);

/** Set MAIL_MIME_OPT_* flags (replacing earlier ones). Unknown bits give
 * MAIL_ERR_INVALID. MAIL_ERR_STATE once frozen. */
MAIL_EXTERN int mail_mime_builder_set_options(mail_mime_builder *msg, unsigned int options);

/** The MAIL_MIME_OPT_* flags in force (0 for NULL). */
MAIL_EXTERN unsigned int mail_mime_builder_get_options(const mail_mime_builder *msg);

/* ---- header setters. display_name may be NULL; it is UTF-8. The address
 * is an RFC 5322 addr-spec such as a.b@example.org or "a b"@example.org
 * (quoted local parts are accepted as written; non-ASCII makes the message
 * need SMTPUTF8). Errors: MAIL_ERR_INVALID (NULL message/address, CR/LF/NUL),
 * MAIL_ERR_SYNTAX (malformed address), MAIL_ERR_CHARSET (invalid UTF-8),
 * MAIL_ERR_NOMEM, MAIL_ERR_STATE (frozen). ---- */

/** Set the From address (replaces an earlier one). Also the envelope
 * sender, unless a Sender is set. */
MAIL_EXTERN int mail_mime_builder_set_from(mail_mime_builder *msg, const char *display_name, const char *address);
/** Set the Sender (RFC 5322 section 3.6.2: the mailbox that sends the
 * message on behalf of the From, e.g. a secretary or a list; replaces an
 * earlier one). Written after From; it becomes the envelope sender
 * (mail_mime_builder_envelope_from(), SMTP's MAIL FROM), so bounces go to
 * it. add_header() refuses "Sender": this is the way to set it. */
MAIL_EXTERN int mail_mime_builder_set_sender(mail_mime_builder *msg, const char *display_name, const char *address);
/** Add a To recipient. */
MAIL_EXTERN int mail_mime_builder_add_to(mail_mime_builder *msg, const char *display_name, const char *address);
/** Add a Cc recipient. */
MAIL_EXTERN int mail_mime_builder_add_cc(mail_mime_builder *msg, const char *display_name, const char *address);
/** Add a Bcc recipient: it is never written into the message, only
 * returned by mail_mime_builder_envelope_recipient(). */
MAIL_EXTERN int mail_mime_builder_add_bcc(mail_mime_builder *msg, const char *display_name, const char *address);
/** Add a Reply-To address. */
MAIL_EXTERN int mail_mime_builder_add_reply_to(mail_mime_builder *msg, const char *display_name, const char *address);

/** Add a mailbox from the parser's mail_address struct (only name and
 * mailbox are used) to field (MAIL_MIME_FIELD_FROM and _SENDER replace the
 * From and the Sender; the others add). Errors as the setters above. */
MAIL_EXTERN int mail_mime_builder_add_address(mail_mime_builder *msg, int field, const mail_address *address);

/** Set the Subject (UTF-8; RFC 2047 encoded when not ASCII, unless
 * MAIL_MIME_OPT_SMTPUTF8). Same errors as the address setters. */
MAIL_EXTERN int mail_mime_builder_set_subject(mail_mime_builder *msg, const char *subject);

/** Date the message: seconds since the Unix epoch (UTC) and the sender's
 * offset from UTC in minutes (-1439..1439). Without this call the message
 * is dated from the clock when it is frozen, with offset +0000.
 * MAIL_ERR_INVALID, MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_builder_set_date(mail_mime_builder *msg, int64_t unix_seconds, int utc_offset_minutes);

/** Use this Message-ID (id-left@id-right, without angle brackets) instead
 * of a generated one. MAIL_ERR_INVALID, MAIL_ERR_SYNTAX, MAIL_ERR_NOMEM,
 * MAIL_ERR_STATE. A generated Message-ID uses random bytes and the From
 * domain (or "localhost"). */
MAIL_EXTERN int mail_mime_builder_set_message_id(mail_mime_builder *msg, const char *id);

/** Add a header to the top level (name: printable ASCII without ':';
 * value: UTF-8, written as unstructured text, RFC 2047 encoded when not
 * ASCII). Names the builder writes itself (Date, From, Sender, To, Cc, Bcc,
 * Reply-To, Subject, Message-ID, MIME-Version, Content-*) give
 * MAIL_ERR_INVALID. Other errors as for the address setters. */
MAIL_EXTERN int mail_mime_builder_add_header(mail_mime_builder *msg, const char *name, const char *value);

/* ---- body ---- */

/** Set the text/plain body (UTF-8, any line endings: they become CRLF).
 * The bytes are copied. MAIL_ERR_INVALID, MAIL_ERR_CHARSET, MAIL_ERR_NOMEM,
 * MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_builder_set_text(mail_mime_builder *msg, const char *text, size_t len);

/** Set the text/html body (UTF-8). Errors as mail_mime_builder_set_text(). */
MAIL_EXTERN int mail_mime_builder_set_html(mail_mime_builder *msg, const char *html, size_t len);

/**
 * Add an inline part referenced from the HTML as cid:content_id (an image,
 * a style sheet). content_type is "type/subtype" (e.g. "image/png");
 * content_id is id-left@id-right without angle brackets; filename may be
 * NULL. The data is copied. *part (may be NULL) receives the part.
 * MAIL_ERR_INVALID, MAIL_ERR_SYNTAX, MAIL_ERR_CHARSET, MAIL_ERR_NOMEM,
 * MAIL_ERR_STATE.
 */
MAIL_EXTERN int mail_mime_builder_add_inline(mail_mime_builder *msg, const char *content_type,
                                             const char *filename, const void *data, size_t len,
                                             const char *content_id, mail_mime_builder_part **part);

/**
 * Add an attachment from memory (copied). content_type may be NULL
 * (application/octet-stream); filename (UTF-8) may be NULL. Text types
 * (text/...) get charset=utf-8 and CRLF line endings. Errors as
 * mail_mime_builder_add_inline().
 */
MAIL_EXTERN int mail_mime_builder_add_attachment(mail_mime_builder *msg, const char *content_type,
                                                 const char *filename, const void *data, size_t len,
                                                 mail_mime_builder_part **part);

/**
 * Add an attachment read from a local file. The file is opened now (so a
 * missing file fails here with MAIL_ERR_FILE) and kept open until the
 * message is freed; it is read when the message is frozen (once, to choose
 * the encoding and compute the size) and again while producing output.
 * filename may be NULL (no name is derived from path). The file must not
 * change meanwhile: a changed length gives MAIL_ERR_FILE while reading.
 */
MAIL_EXTERN int mail_mime_builder_add_attachment_file(mail_mime_builder *msg, const char *content_type,
                                                      const char *filename, const char *path,
                                                      mail_mime_builder_part **part);

/**
 * Add an attachment whose content comes from a read callback, pulled only
 * while producing output (never held whole in memory).
 * - With a rewind callback the content is read once when the message is
 *   frozen (to choose the encoding and count it) and again for output;
 *   length may then be MAIL_MIME_LENGTH_UNKNOWN.
 * - Without one the content is not inspected: length must be declared and
 *   the content is sent as base64 (or binary with
 *   MAIL_MIME_OPT_BINARYMIME, unchecked for the boundaries: their random
 *   part makes a clash by chance negligible) without line-ending
 *   conversion, and the message can be produced only once
 *   (mail_mime_builder_rewind() gives MAIL_ERR_UNSUPPORTED).
 * A callback that delivers a length other than the declared one makes the
 * read fail with MAIL_ERR_CALLBACK. user is not freed by libmail.
 */
MAIL_EXTERN int mail_mime_builder_add_attachment_callback(mail_mime_builder *msg, const char *content_type,
                                                          const char *filename, mail_mime_read_fn read,
                                                          mail_mime_rewind_fn rewind, void *user,
                                                          uint64_t length, mail_mime_builder_part **part);

/**
 * Attach a complete message (message/rfc822, or message/global when it
 * needs SMTPUTF8). On success msg takes ownership of inner (do not free or
 * change it afterwards); inner is built with msg's options. filename may be
 * NULL. MAIL_ERR_INVALID (NULL, inner == msg, inner already frozen or
 * attached), MAIL_ERR_NOMEM, MAIL_ERR_STATE.
 */
MAIL_EXTERN int mail_mime_builder_attach_message(mail_mime_builder *msg, mail_mime_builder *inner,
                                                 const char *filename, mail_mime_builder_part **part);

/**
 * Attach an existing message given as raw bytes (copied) as message/rfc822.
 * Its line endings become CRLF. It is sent 7bit, 8bit or binary as the
 * options allow, or as base64 when it holds 8-bit data the path cannot
 * carry (tolerated by common readers although RFC 2046 asks for 7bit).
 * MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM, MAIL_ERR_STATE (the message is
 * being written out).
 */
MAIL_EXTERN int mail_mime_builder_attach_message_data(mail_mime_builder *msg, const void *data, size_t len,
                                                      const char *filename, mail_mime_builder_part **part);

/* ---- part setters ---- */

/** Force a transfer encoding (MAIL_MIME_ENC_7BIT..MAIL_MIME_ENC_BASE64, or
 * MAIL_MIME_BUILD_ENC_AUTO) for a part. 8bit and binary
 * still need the matching option; quoted-printable is refused for parts from
 * a callback without rewind. MAIL_ERR_INVALID, MAIL_ERR_UNSUPPORTED,
 * MAIL_ERR_STATE. */
MAIL_EXTERN int mail_mime_builder_part_set_encoding(mail_mime_builder_part *part, int encoding);

/** Set the Content-ID (id-left@id-right without angle brackets). MAIL_OK,
 *  MAIL_ERR_INVALID (NULL, CR, LF, NUL), MAIL_ERR_SYNTAX (not id-left@id-right),
 *  MAIL_ERR_NOMEM, MAIL_ERR_STATE (being written out). */
MAIL_EXTERN int mail_mime_builder_part_set_content_id(mail_mime_builder_part *part, const char *content_id);

/** Add a header to the part (not Content-Type / Content-Transfer-Encoding /
 * Content-Disposition / Content-ID / MIME-Version). Errors as
 * mail_mime_builder_add_header(). */
MAIL_EXTERN int mail_mime_builder_part_add_header(mail_mime_builder_part *part, const char *name, const char *value);

/* ---- output ---- */

/** Freeze the message if needed and give its exact size in bytes (what
 * _read() will produce in total). Reads file and rewindable callback
 * sources once when freezing. A body sent as it is (7bit, 8bit, binary,
 * an attached message) never holds a line that starts with one of the
 * multipart boundaries around it: the boundaries are drawn again until
 * none clashes. Errors: MAIL_ERR_INVALID, MAIL_ERR_NOMEM, MAIL_ERR_FILE,
 * MAIL_ERR_CALLBACK, MAIL_ERR_UNSUPPORTED (a forced encoding the options
 * forbid, or a body that clashes with every boundary drawn, which only a
 * predictable random source allows). */
MAIL_EXTERN int mail_mime_builder_size(mail_mime_builder *msg, uint64_t *size);

/** Freeze the message if needed and give the MAIL_MIME_NEEDS_* flags the
 * transport must satisfy. Errors as mail_mime_builder_size(). */
MAIL_EXTERN int mail_mime_builder_transport(mail_mime_builder *msg, unsigned int *needs);

/**
 * Produce the next bytes of the message into buf (up to cap, which must
 * not be 0). *got is the count; 0 with MAIL_OK means the message is
 * complete. The signature
 * matches mail_mime_read_fn with the message as user data, so
 * mail_mime_builder_read_cb() can be handed to SMTP/IMAP directly.
 * Errors: MAIL_ERR_FILE, MAIL_ERR_CALLBACK (a source failed or changed
 * length), plus those of mail_mime_builder_size(); after an error the
 * output must be rewound (or abandoned).
 */
MAIL_EXTERN int mail_mime_builder_read(mail_mime_builder *msg, unsigned char *buf, size_t cap, size_t *got);

/** mail_mime_builder_read() with a void pointer, usable as a mail_mime_read_fn; statuses as
 *  mail_mime_builder_read(). */
MAIL_EXTERN int mail_mime_builder_read_cb(void *msg, unsigned char *buf, size_t cap, size_t *got);

/** Restart the output from the first byte (the same bytes come again).
 * MAIL_ERR_UNSUPPORTED when a callback source has no rewind function,
 * MAIL_ERR_FILE / MAIL_ERR_CALLBACK when rewinding a source fails. */
MAIL_EXTERN int mail_mime_builder_rewind(mail_mime_builder *msg);

/** Produce the whole message (from the start) into a new buffer (NUL
 * after the last byte, not counted), released with mail_free(*out). MAIL_ERR_TOO_BIG when it cannot fit in
 * memory's address space; other errors as mail_mime_builder_read(). */
MAIL_EXTERN int mail_mime_builder_to_buffer(mail_mime_builder *msg, unsigned char **out, size_t *len);

/** Produce the whole message (from the start) through a write callback
 * (mail_write_fn), in chunks of at most 64 KiB. Errors as
 * mail_mime_builder_read(). */
MAIL_EXTERN int mail_mime_builder_write(mail_mime_builder *msg, mail_write_fn write, void *user);

/**
 * Format an RFC 5322 date-time such as "Fri, 27 Nov 2026 04:05:54 +0100":
 * when is seconds since the epoch (UTC), zone_minutes the offset east of
 * UTC (-1439..1439) the time is shown in. out must hold 40 bytes; it is
 * NUL-terminated. Returns the length (0 when zone_minutes is out of range).
 */
MAIL_EXTERN size_t mail_date_format(char out[40], int64_t when, int zone_minutes);

/* ---- envelope ---- */

/** The envelope sender: the Sender address when one is set, else the From
 * address; MAIL_ERR_NOT_FOUND without either. The string belongs to the
 * message. */
MAIL_EXTERN int mail_mime_builder_envelope_from(const mail_mime_builder *msg, const char **address);

/** Number of distinct envelope recipients (To, Cc and Bcc addresses in the
 * order they were added, exact duplicates removed). */
MAIL_EXTERN size_t mail_mime_builder_envelope_count(const mail_mime_builder *msg);

/** The index-th envelope recipient address, or MAIL_ERR_NOT_FOUND. The
 * string belongs to the message. */
MAIL_EXTERN int mail_mime_builder_envelope_recipient(const mail_mime_builder *msg, size_t index,
                                                     const char **address);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_MIME_BUILD_H */

/* MIME encoders used by the builder: body transfer encodings (streamed)
 * and header encodings (RFC 2047 words, RFC 2231 parameters, folding,
 * addresses, dates). Pure functions over memory; no I/O. */
#ifndef MAIL_MIME_ENCODE_H
#define MAIL_MIME_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include <mail/mime_build.h>

#include "core/buf.h"
#include "core/utf8.h"

/* ---------------------------------------------------------------- bodies */

/* Line-ending normalisation of text: CRLF, bare CR and bare LF all become
 * one LF (the encoders below turn LF back into CRLF). In place; returns the
 * new length. *last_cr carries state across chunks (start with 0). */
size_t mail_text_to_lf(int *last_cr, unsigned char *buf, size_t n);

/* Identity encoding of LF-normalised text: every LF becomes CRLF. out must
 * hold 2 * n bytes. Returns bytes written. */
size_t mail_lf_to_crlf(const unsigned char *in, size_t n, unsigned char *out);

/* Streaming quoted-printable encoder (RFC 2045 6.7). Output lines are at
 * most 76 characters; trailing whitespace before a line break is encoded;
 * '.' and 'F' at the start of a line are encoded so neither SMTP's dot
 * nor a "From " line can be misread. In text mode the input is
 * LF-normalised and LF is a hard line break (written CRLF); otherwise every
 * byte, CR and LF included, is data. */
typedef struct mail_qp_enc {
  unsigned col;     /* characters on the current output line */
  int pending_ws;   /* a space or tab not yet written (0 when none) */
  int text;
} mail_qp_enc;

/* Most bytes one update of n input bytes can write. */
#define MAIL_QP_ENC_MAX(n) ((n) * 6 + 16)

void mail_qp_enc_init(mail_qp_enc *e, int text_mode);
/* Encode n bytes; out may be NULL to only count. Returns bytes produced. */
size_t mail_qp_enc_update(mail_qp_enc *e, const unsigned char *in, size_t n, unsigned char *out);
/* Flush (at most 6 bytes); out may be NULL. */
size_t mail_qp_enc_finish(mail_qp_enc *e, unsigned char *out);

/* Streaming base64 with 76-character lines separated by CRLF (no CRLF
 * after the last line: the MIME delimiter supplies it). */
typedef struct mail_b64_wrap {
  unsigned char carry[3];
  unsigned ncarry;
  unsigned col;
} mail_b64_wrap;

#define MAIL_B64_WRAP_MAX(n) (((n) + 3) / 3 * 4 + ((n) / 57 + 2) * 2)

void mail_b64_wrap_init(mail_b64_wrap *e);
size_t mail_b64_wrap_update(mail_b64_wrap *e, const unsigned char *in, size_t n, unsigned char *out);
/* At most 6 bytes. */
size_t mail_b64_wrap_finish(mail_b64_wrap *e, unsigned char *out);
/* Exact output length for n input bytes. */
uint64_t mail_b64_wrap_len(uint64_t n);

/* --------------------------------------------------------------- headers */

/* mail_utf8_valid() is the one UTF-8 check (core/utf8.h). */

/* A header being written with folding at 78 columns. Text is added as
 * unbreakable tokens; a token preceded by a space may move to a new line
 * (the space becomes the folding whitespace, so unfolding restores the
 * value exactly). No line ever exceeds 998 characters: tokens are bounded
 * by their producers. Errors stick in err. */
typedef struct mail_hdr_writer {
  mail_buf *out;
  size_t col;
  int tokens_on_line;
  int raw_utf8;   /* RFC 6532: UTF-8 may be written as is */
  int used_utf8;  /* set when raw UTF-8 was written */
  int err;
} mail_hdr_writer;

#define MAIL_HDR_FOLD 78
#define MAIL_HDR_MAX_LINE 998
/* Longest header field name the builder accepts. */
#define MAIL_HDR_MAX_NAME 76

void mail_hdr_begin(mail_hdr_writer *w, mail_buf *out, const char *name, int raw_utf8);
void mail_hdr_token(mail_hdr_writer *w, const char *s, size_t n, int space_before);
/* Append without a separator (";" after a value, "," after an address). */
void mail_hdr_glue(mail_hdr_writer *w, const char *s, size_t n);
/* End the header (CRLF). Returns w->err. */
int mail_hdr_end(mail_hdr_writer *w);

/* Unstructured text (Subject, custom headers): words written as they are,
 * runs of words that are not plain ASCII (or too long, or that would read
 * as encoded words) as RFC 2047 UTF-8 encoded words of at most 75
 * characters, split on character boundaries. */
void mail_hdr_unstructured(mail_hdr_writer *w, const char *s, size_t n);
/* A display name: atoms, a quoted string, or encoded words. */
void mail_hdr_phrase(mail_hdr_writer *w, const char *s, size_t n);
/* A mailbox: "phrase <addr>" or "addr"; glues "," when comma is set. */
void mail_hdr_mailbox(mail_hdr_writer *w, const char *name, const char *addr, int comma);
/* A parameter "; name=value": a token or quoted string when ASCII and
 * short, else RFC 2231 name*=utf-8''... split into name*0*, name*1*, ...
 * sections that each fit on a line. */
void mail_hdr_param(mail_hdr_writer *w, const char *name, const char *value, int force_quote);
/* "; name=\"=?utf-8?b?...?=\"": the RFC 2047-in-parameter form Outlook reads. */
void mail_hdr_param_2047(mail_hdr_writer *w, const char *name, const char *value);

/* RFC 2047 encoded words for s[0..n) (UTF-8), each with at most payload
 * characters of encoded text (4..63), appended to out separated by single
 * spaces. Returns MAIL_OK or a buffer error. Exposed for tests. */
int mail_rfc2047_encode(mail_buf *out, const char *s, size_t n, size_t payload);

/* Check an RFC 5322 addr-spec (dot-atom or quoted-string local part,
 * dot-atom or domain-literal domain, at most 254 bytes). *non_ascii is set
 * when it holds UTF-8 (RFC 6532). MAIL_OK, MAIL_ERR_INVALID (CR/LF/NUL),
 * MAIL_ERR_SYNTAX, MAIL_ERR_CHARSET. */
int mail_addr_spec_check(const char *addr, int *non_ascii);
/* Check id-left@id-right of a Message-ID / Content-ID (ASCII dot-atoms, or
 * a [literal] on the right). MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_SYNTAX. */
int mail_msg_id_check(const char *id);
/* Check "type/subtype" (RFC 2045 tokens). MAIL_OK or MAIL_ERR_SYNTAX. */
int mail_content_type_check(const char *ct);
/* Check a header field name (printable ASCII but ':', 1..76 chars). */
int mail_header_name_check(const char *name);

/* mail_date_format() is public, in mail/mime_build.h. */

#endif

/* The one base64 codec (RFC 4648): strict decoding for SASL, tolerant
 * streaming decoding for MIME bodies, encoding with optional line wrap. */
#ifndef MAIL_CORE_BASE64_H
#define MAIL_CORE_BASE64_H

#include <stddef.h>

/* Bytes needed to encode n bytes (no line breaks). */
#define MAIL_B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)
/* Most bytes n base64 characters can decode to. */
#define MAIL_B64_DECODED_MAX(n) (((n) / 4) * 3 + 3)

/* Encode n bytes into out (MAIL_B64_ENCODED_LEN(n) bytes, no NUL). Returns
 * the length written. */
size_t mail_b64_encode(const void *in, size_t n, char *out);

/* Encode with CRLF after every line_len output characters (line_len a
 * multiple of 4, e.g. 76) and after the last line. Returns bytes written;
 * out must hold mail_b64_encoded_wrapped_len(n, line_len). */
size_t mail_b64_encode_wrapped(const void *in, size_t n, size_t line_len, char *out);
size_t mail_b64_encoded_wrapped_len(size_t n, size_t line_len);

/* Strict decode (SASL): only the alphabet, correct '=' padding, length a
 * multiple of 4, no whitespace. Returns the decoded length, or -1. out must
 * hold MAIL_B64_DECODED_MAX(n) bytes. */
long mail_b64_decode_strict(const char *in, size_t n, unsigned char *out);

/* Tolerant streaming decoder (MIME): whitespace and line breaks are
 * skipped; other characters outside the alphabet are skipped and counted
 * as garbage; data after padding is counted as garbage too. */
typedef struct mail_b64_stream {
  unsigned int acc;    /* pending 6-bit groups */
  unsigned int nacc;   /* how many (0..3) */
  int padded;          /* '=' seen: the data has ended */
  size_t garbage;      /* characters outside the alphabet (not whitespace) */
  int incomplete;      /* the input ended inside a 4-character group */
} mail_b64_stream;

void mail_b64_stream_init(mail_b64_stream *s);
/* Decode a chunk; out must hold MAIL_B64_DECODED_MAX(n) bytes. Returns the
 * bytes written. */
size_t mail_b64_stream_decode(mail_b64_stream *s, const void *in, size_t n, unsigned char *out);
/* End of input: writes the bytes a trailing unpadded group still makes
 * (0 to 2, into out) and returns their count. Sets s->incomplete when the
 * input stopped inside a group (a defect). */
size_t mail_b64_stream_finish(mail_b64_stream *s, unsigned char out[2]);

#endif

/* Charset helpers shared by the header and body decoders. */
#ifndef MAIL_MIME_CHARSET_INTERNAL_H
#define MAIL_MIME_CHARSET_INTERNAL_H

#include <stddef.h>

#include "core/buf.h"
#include "core/utf8.h"

/* Append bytes in charset converted to UTF-8. Unknown charset: the bytes
 * are appended as UTF-8 (or Latin-1 when not valid UTF-8) and
 * MAIL_ERR_CHARSET is returned. Invalid sequences become U+FFFD and are
 * counted in *replaced (may be NULL). */
int mime_append_converted(mail_buf *out, const char *charset, const unsigned char *in, size_t n,
                          unsigned int *replaced);
/* Append bytes that are valid UTF-8 as they are, else as Latin-1. */
int mime_append_utf8_or_latin1(mail_buf *out, const unsigned char *in, size_t n);
/* 1 when in[0..n) is valid UTF-8. */

/* Streaming conversion of a body to UTF-8: characters split across
 * chunks are carried to the next call. */
typedef struct mime_conv {
  void *cd;                 /* iconv_t, NULL: pass through */
  unsigned char carry[16];
  size_t ncarry;
  unsigned int replaced;    /* invalid sequences turned into U+FFFD */
  int unknown;              /* the charset is unknown: raw bytes pass */
} mime_conv;

typedef int (*mime_conv_sink)(void *user, const unsigned char *data, size_t len);
void mime_conv_open(mime_conv *c, const char *charset);
int mime_conv_feed(mime_conv *c, const unsigned char *in, size_t n, int final,
                   mime_conv_sink sink, void *user);
void mime_conv_close(mime_conv *c);

#endif

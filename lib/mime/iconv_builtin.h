/*
 * A stand-in for iconv(3) where the C library has none (newlib on bare
 * metal, -Dmime without an iconv): conversion to UTF-8 from UTF-8 (checked
 * sequence by sequence) and ISO-8859-1 only. Any other charset cannot be
 * opened, so the MIME decoders treat it as they treat one iconv does not
 * know (charset_internal.h: the bytes pass, MAIL_ERR_CHARSET).
 *
 * The contract is iconv's, for what charset.c uses: (size_t)-1 with errno
 * EILSEQ at an invalid sequence, EINVAL at an incomplete one that ends the
 * input, E2BIG when the output is full, the pointers and counts advanced
 * past what was converted; a NULL input resets. Descriptors are static
 * (nothing allocated), and close does nothing.
 */
#ifndef MAIL_MIME_ICONV_BUILTIN_H
#define MAIL_MIME_ICONV_BUILTIN_H

#include <stddef.h>

typedef struct mime_iconv *iconv_t;

iconv_t mime_iconv_open(const char *to, const char *from);
size_t mime_iconv(iconv_t cd, char **in, size_t *in_left, char **out, size_t *out_left);
int mime_iconv_close(iconv_t cd);

#define iconv_open mime_iconv_open
#define iconv mime_iconv
#define iconv_close mime_iconv_close

#endif

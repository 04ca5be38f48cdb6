/* The one UTF-8 validity check (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF), shared by SASL and MIME. */
#ifndef MAIL_CORE_UTF8_H
#define MAIL_CORE_UTF8_H

#include <stddef.h>

/* 1 when s[0..n) is well-formed UTF-8 (ASCII included), else 0. */
int mail_utf8_valid(const void *s, size_t n);
/* 1 when every byte of s[0..n) is below 0x80, else 0. */
int mail_ascii_only(const void *s, size_t n);

#endif

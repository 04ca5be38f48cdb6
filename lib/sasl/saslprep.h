/* SASLprep (RFC 4013) for user names and passwords. */
#ifndef MAIL_SASL_SASLPREP_H
#define MAIL_SASL_SASLPREP_H

#include <stddef.h>

#include <mail/common.h>

#include "core/utf8.h"

/*
 * Prepare in (NUL-terminated UTF-8) with SASLprep, as a "query" string
 * (unassigned code points allowed, RFC 5802 section 2.2). *out is allocated
 * with a and must be released with mail_dealloc_secret_str(): the input is
 * usually a password. Printable ASCII passes through unchanged without
 * involving libidn.
 * Errors: MAIL_ERR_CHARSET (invalid UTF-8, a prohibited character such as a
 * control character, a bidi violation, or a non-empty input that maps to
 * nothing), MAIL_ERR_UNSUPPORTED (non-ASCII input in a build without
 * libidn), MAIL_ERR_NOMEM.
 */
int mail_saslprep(const mail_allocator *a, const char *in, char **out);

#endif

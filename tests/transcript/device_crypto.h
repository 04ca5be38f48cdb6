/*
 * The transcript drivers' crypto in a build without TLS. There is no
 * OpenSSL shim then, so SCRAM, CRAM-MD5 and APOP exist only through the
 * caller's crypto hook (mail_sasl_set_crypto): the drivers give every
 * session the mbedTLS hook of examples/firmware/crypto_mbedtls.c, and the
 * same transcripts that check the shim in the full build check the hook
 * there (issue 24). With TLS the shim is kept, so it stays tested too.
 */
#ifndef MAIL_TEST_DEVICE_CRYPTO_H
#define MAIL_TEST_DEVICE_CRYPTO_H

#include <mail/sasl.h>

/* Give sasl the device's crypto where the build has no TLS; MAIL_OK, or
 * mail_sasl_set_crypto()'s error (NULL sasl: MAIL_ERR_INVALID). */
int transcript_use_device_crypto(mail_sasl *sasl);

#endif

/*
 * libmail's crypto hook (mail_crypto_ops, mail/sasl.h) over mbedTLS's
 * message digests: what a device that has mbedTLS and not OpenSSL gives
 * libmail so SCRAM-SHA-1/256, CRAM-MD5 and APOP still work.
 *
 *   mail_sasl_set_crypto(mail_smtp_sasl(s), &crypto_mbedtls_ops, NULL);
 */
#ifndef LIBMAIL_EXAMPLE_CRYPTO_MBEDTLS_H
#define LIBMAIL_EXAMPLE_CRYPTO_MBEDTLS_H

#include <mail/sasl.h>

extern const mail_crypto_ops crypto_mbedtls_ops;

#endif

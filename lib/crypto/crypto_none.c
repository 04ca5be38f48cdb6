/* The crypto shim in a build without OpenSSL: everything that needs real
 * cryptography reports MAIL_ERR_UNSUPPORTED (SCRAM and CRAM-MD5 are then
 * unavailable; PLAIN, LOGIN, EXTERNAL and the OAuth mechanisms still work). */
#include "crypto/crypto.h"

int mail_crypto_available(void)
{
  return 0;
}

int mail_crypto_digest(int md, const void *data, size_t len, unsigned char *out)
{
  (void)md; (void)data; (void)len; (void)out;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_crypto_hmac(int md, const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char *out)
{
  (void)md; (void)key; (void)key_len; (void)data; (void)len; (void)out;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_crypto_pbkdf2(int md, const void *pass, size_t pass_len, const void *salt,
                       size_t salt_len, unsigned int iterations, unsigned char *out,
                       size_t out_len)
{
  (void)md; (void)pass; (void)pass_len; (void)salt; (void)salt_len; (void)iterations;
  (void)out; (void)out_len;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_crypto_random(void *buf, size_t len)
{
  (void)buf; (void)len;
  return MAIL_ERR_UNSUPPORTED;
}

/* Not cryptography, only a comparison whose time does not depend on where
 * the inputs differ; written out here because there is no library. */
int mail_crypto_memeq(const void *a, const void *b, size_t n)
{
  const volatile unsigned char *x = a, *y = b;
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (unsigned char)(x[i] ^ y[i]);
  return d == 0;
}

/* The crypto shim over OpenSSL's EVP interfaces (the pre-3.0 digest and
 * HMAC calls are deprecated, so only EVP and EVP_MAC are used). */
#include "crypto/crypto.h"

#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#include <openssl/params.h>
#else
#include <openssl/hmac.h>
#endif

static const EVP_MD *md_of(int md)
{
  switch (md) {
  case MAIL_MD_MD5: return EVP_md5();
  case MAIL_MD_SHA1: return EVP_sha1();
  case MAIL_MD_SHA256: return EVP_sha256();
  }
  return NULL;
}

int mail_crypto_available(void)
{
  return 1;
}

int mail_crypto_digest(int md, const void *data, size_t len, unsigned char *out)
{
  const EVP_MD *m = md_of(md);
  if (!m || (!data && len))
    return MAIL_ERR_INVALID;
  unsigned int n = 0;
  if (EVP_Digest(data ? data : "", len, out, &n, m, NULL) != 1 || n != mail_md_size(md))
    return MAIL_ERR_INTERNAL;
  return MAIL_OK;
}

int mail_crypto_hmac(int md, const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char *out)
{
  const EVP_MD *m = md_of(md);
  if (!m || (!key && key_len) || (!data && len))
    return MAIL_ERR_INVALID;
  size_t want = mail_md_size(md);
  static const unsigned char empty[1] = {0};
  if (!key)
    key = empty;
  if (!data)
    data = empty;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  int rc = MAIL_ERR_INTERNAL;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
  if (ctx) {
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)EVP_MD_get0_name(m), 0);
    params[1] = OSSL_PARAM_construct_end();
    size_t n = 0;
    if (EVP_MAC_init(ctx, key, key_len, params) == 1 && EVP_MAC_update(ctx, data, len) == 1 &&
        EVP_MAC_final(ctx, out, &n, want) == 1 && n == want)
      rc = MAIL_OK;
  }
  /* The context holds the key; OpenSSL cleanses it when freeing. */
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return rc;
#else
  unsigned int n = 0;
  if (key_len > INT_MAX || !HMAC(m, key, (int)key_len, data, len, out, &n) || n != want)
    return MAIL_ERR_INTERNAL;
  return MAIL_OK;
#endif
}

int mail_crypto_pbkdf2(int md, const void *pass, size_t pass_len, const void *salt,
                       size_t salt_len, unsigned int iterations, unsigned char *out,
                       size_t out_len)
{
  const EVP_MD *m = md_of(md);
  if (!m || iterations < 1 || iterations > INT_MAX || pass_len > INT_MAX ||
      salt_len > INT_MAX || out_len > INT_MAX || (!pass && pass_len) || (!salt && salt_len))
    return MAIL_ERR_INVALID;
  if (PKCS5_PBKDF2_HMAC(pass ? pass : "", (int)pass_len, salt ? salt : (const void *)"",
                        (int)salt_len, (int)iterations, m, (int)out_len, out) != 1)
    return MAIL_ERR_INTERNAL;
  return MAIL_OK;
}

int mail_crypto_random(void *buf, size_t len)
{
  unsigned char *p = buf;
  while (len) {
    int chunk = len > INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(p, chunk) != 1)
      return MAIL_ERR_INTERNAL;
    p += chunk;
    len -= (size_t)chunk;
  }
  return MAIL_OK;
}

int mail_crypto_memeq(const void *a, const void *b, size_t n)
{
  return CRYPTO_memcmp(a, b, n) == 0;
}

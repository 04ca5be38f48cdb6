/* mail_crypto_ops over mbedTLS (crypto_mbedtls.h). */
#include "crypto_mbedtls.h"

#include <stdint.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

static const mbedtls_md_info_t *info_of(int md)
{
  switch (md) {
  case MAIL_DIGEST_MD5: return mbedtls_md_info_from_type(MBEDTLS_MD_MD5);
  case MAIL_DIGEST_SHA1: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
  case MAIL_DIGEST_SHA256: return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  }
  return NULL;
}

static int digest(void *user, int md, const void *data, size_t len, unsigned char *out)
{
  (void)user;
  const mbedtls_md_info_t *info = info_of(md);
  return info && mbedtls_md(info, data, len, out) == 0 ? 0 : -1;
}

static int hmac(void *user, int md, const void *key, size_t key_len, const void *data, size_t len,
                unsigned char *out)
{
  (void)user;
  const mbedtls_md_info_t *info = info_of(md);
  return info && mbedtls_md_hmac(info, key, key_len, data, len, out) == 0 ? 0 : -1;
}

static int pbkdf2(void *user, int md, const void *pass, size_t pass_len, const void *salt,
                  size_t salt_len, unsigned int iterations, unsigned char *out, size_t out_len)
{
  (void)user;
  const mbedtls_md_info_t *info = info_of(md);
  if (!info || out_len > UINT32_MAX)
    return -1;
  mbedtls_md_context_t ctx;
  mbedtls_md_init(&ctx);
  int rc = mbedtls_md_setup(&ctx, info, 1);
  if (rc == 0)
    rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, pass, pass_len, salt, salt_len, iterations,
                                   (uint32_t)out_len, out);
  mbedtls_md_free(&ctx);
  return rc == 0 ? 0 : -1;
}

const mail_crypto_ops crypto_mbedtls_ops = {
  .version = MAIL_CRYPTO_OPS_VERSION_1,
  .digest = digest,
  .hmac = hmac,
  .pbkdf2 = pbkdf2,
};

/* The parts of the crypto shim that need no crypto library. */
#include "crypto/crypto.h"

size_t mail_md_size(int md)
{
  switch (md) {
  case MAIL_MD_MD5: return 16;
  case MAIL_MD_SHA1: return 20;
  case MAIL_MD_SHA256: return 32;
  }
  return 0;
}

/* The public digest numbers are the shim's own. */
_Static_assert((int)MAIL_DIGEST_MD5 == (int)MAIL_MD_MD5 && (int)MAIL_DIGEST_SHA1 == (int)MAIL_MD_SHA1 &&
                 (int)MAIL_DIGEST_SHA256 == (int)MAIL_MD_SHA256,
               "mail_digest and mail_md agree");

int mail_crypto_hook_set(mail_crypto_hook *h, const mail_crypto_ops *ops, void *user)
{
  if (!ops) {
    h->set = 0;
    h->user = NULL;
    return MAIL_OK;
  }
  if (ops->version != MAIL_CRYPTO_OPS_VERSION_1 || !ops->digest || !ops->hmac || !ops->pbkdf2)
    return MAIL_ERR_INVALID;
  h->ops = *ops;
  h->user = user;
  h->set = 1;
  return MAIL_OK;
}

int mail_crypto_hook_available(const mail_crypto_hook *h)
{
  return (h && h->set) || mail_crypto_available();
}

int mail_crypto_hook_digest(const mail_crypto_hook *h, int md, const void *data, size_t len,
                            unsigned char *out)
{
  if (!h || !h->set)
    return mail_crypto_digest(md, data, len, out);
  if (!mail_md_size(md))
    return MAIL_ERR_INVALID;
  return h->ops.digest(h->user, md, data, len, out) == 0 ? MAIL_OK : MAIL_ERR_INTERNAL;
}

int mail_crypto_hook_hmac(const mail_crypto_hook *h, int md, const void *key, size_t key_len,
                          const void *data, size_t len, unsigned char *out)
{
  if (!h || !h->set)
    return mail_crypto_hmac(md, key, key_len, data, len, out);
  if (!mail_md_size(md))
    return MAIL_ERR_INVALID;
  return h->ops.hmac(h->user, md, key, key_len, data, len, out) == 0 ? MAIL_OK : MAIL_ERR_INTERNAL;
}

int mail_crypto_hook_pbkdf2(const mail_crypto_hook *h, int md, const void *pass, size_t pass_len,
                            const void *salt, size_t salt_len, unsigned int iterations,
                            unsigned char *out, size_t out_len)
{
  if (!h || !h->set)
    return mail_crypto_pbkdf2(md, pass, pass_len, salt, salt_len, iterations, out, out_len);
  if (!mail_md_size(md) || iterations < 1)
    return MAIL_ERR_INVALID;
  return h->ops.pbkdf2(h->user, md, pass, pass_len, salt, salt_len, iterations, out, out_len) == 0
           ? MAIL_OK
           : MAIL_ERR_INTERNAL;
}

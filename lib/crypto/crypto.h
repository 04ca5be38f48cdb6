/*
 * The crypto shim: the one place (with the TLS transport) where OpenSSL is
 * used. SASL and anything else that needs a hash, an HMAC, PBKDF2 or random
 * bytes calls these, so no hand-written crypto exists in libmail and a build
 * without OpenSSL gets MAIL_ERR_UNSUPPORTED from one file (crypto_none.c).
 */
#ifndef MAIL_CRYPTO_CRYPTO_H
#define MAIL_CRYPTO_CRYPTO_H

#include <stddef.h>

#include <mail/common.h>
#include <mail/sasl.h>

/* Digest algorithms. */
typedef enum mail_md {
  MAIL_MD_MD5 = 1,
  MAIL_MD_SHA1 = 2,
  MAIL_MD_SHA256 = 3
} mail_md;

/* Largest digest any mail_md produces. */
#define MAIL_MD_MAX_SIZE 32

/* Output size of md in bytes, 0 for an unknown algorithm. Works without
 * OpenSSL too. */
size_t mail_md_size(int md);

/* 1 when the shim is backed by a crypto library, 0 in a build without. */
int mail_crypto_available(void);

/* out (mail_md_size(md) bytes) = md(data). MAIL_OK, MAIL_ERR_INVALID for
 * an unknown md, MAIL_ERR_INTERNAL when the library fails,
 * MAIL_ERR_UNSUPPORTED without OpenSSL. */
int mail_crypto_digest(int md, const void *data, size_t len, unsigned char *out);

/* out (mail_md_size(md) bytes) = HMAC-md(key, data). Errors as above. */
int mail_crypto_hmac(int md, const void *key, size_t key_len, const void *data, size_t len,
                     unsigned char *out);

/* PBKDF2 with HMAC-md (RFC 8018): out_len bytes into out. iterations must
 * be at least 1 and at most INT_MAX. Errors as above. */
int mail_crypto_pbkdf2(int md, const void *pass, size_t pass_len, const void *salt,
                       size_t salt_len, unsigned int iterations, unsigned char *out,
                       size_t out_len);

/* Fill buf with cryptographically strong random bytes. */
int mail_crypto_random(void *buf, size_t len);

/*
 * The caller's crypto (mail_crypto_ops, mail/sasl.h) or, when none is set,
 * the built-in functions above. Each handle that hashes embeds one.
 */
typedef struct mail_crypto_hook {
  mail_crypto_ops ops;
  void *user;
  int set;
} mail_crypto_hook;

/* MAIL_ERR_INVALID for a bad ops (NULL clears the hook). */
int mail_crypto_hook_set(mail_crypto_hook *h, const mail_crypto_ops *ops, void *user);
/* 1 when h is set or the shim is backed by a crypto library. */
int mail_crypto_hook_available(const mail_crypto_hook *h);
int mail_crypto_hook_digest(const mail_crypto_hook *h, int md, const void *data, size_t len,
                            unsigned char *out);
int mail_crypto_hook_hmac(const mail_crypto_hook *h, int md, const void *key, size_t key_len,
                          const void *data, size_t len, unsigned char *out);
int mail_crypto_hook_pbkdf2(const mail_crypto_hook *h, int md, const void *pass, size_t pass_len,
                            const void *salt, size_t salt_len, unsigned int iterations,
                            unsigned char *out, size_t out_len);

/* Constant-time comparison of n bytes: 1 when equal, 0 otherwise. Works
 * without OpenSSL too. */
int mail_crypto_memeq(const void *a, const void *b, size_t n);

#endif

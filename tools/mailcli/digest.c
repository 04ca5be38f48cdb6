/* SHA-256 for the checksums mailcli prints, through libcrypto (the
 * library's own crypto shim is private to it). */
#include <stdio.h>

#include <openssl/evp.h>

#include "cli.h"

struct cli_sha256 {
  EVP_MD_CTX *ctx;
};

cli_sha256 *cli_sha256_new(void)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (!ctx)
    return NULL;
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return NULL;
  }
  return (cli_sha256 *)ctx;
}

int cli_sha256_update(cli_sha256 *d, const void *data, size_t len)
{
  return EVP_DigestUpdate((EVP_MD_CTX *)d, data, len) == 1 ? 0 : -1;
}

int cli_sha256_finish(cli_sha256 *d, char hex[65])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)d, md, &n) == 1 && n == 32;
  EVP_MD_CTX_free((EVP_MD_CTX *)d);
  for (unsigned int i = 0; ok && i < n; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return ok ? 0 : -1;
}

/* CRAM-MD5 (RFC 2195): "user hex(HMAC-MD5(password, challenge))". The
 * password is not prepared: RFC 2195 keys the HMAC with it as stored. */
#include <string.h>

#include "core/mem.h"
#include "sasl/sasl_mech.h"

static int cram_start(mail_sasl *s, mail_buf *out)
{
  (void)s; (void)out;
  return MAIL_OK;
}

static int cram_step(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  if (s->phase++ != 0 || n == 0)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  unsigned char mac[MAIL_MD_MAX_SIZE];
  size_t mlen = mail_md_size(MAIL_MD_MD5);
  int rc = mail_crypto_hook_hmac(&s->crypto, MAIL_MD_MD5, s->password, strlen(s->password), in, n, mac);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, s->username);
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(out, ' ');
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; rc == MAIL_OK && i < mlen; i++) {
    char pair[2] = {hex[mac[i] >> 4], hex[mac[i] & 15]};
    rc = mail_buf_append(out, pair, 2);
  }
  mail_wipe(mac, sizeof mac);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

const mail_sasl_mech mail_sasl_mech_cram_md5 = {
  "CRAM-MD5", MECH_PASSWORD | MECH_CRYPTO, MAIL_MD_MD5,
  cram_start, cram_step, NULL
};

/* The transcript drivers' crypto in a build without TLS (device_crypto.h). */
#include "device_crypto.h"

#include <mail/features.h>

#if !MAIL_HAVE_TLS
#include "../../examples/firmware/crypto_mbedtls.h"
#endif

int transcript_use_device_crypto(mail_sasl *sasl)
{
  if (!sasl)
    return MAIL_ERR_INVALID;
#if MAIL_HAVE_TLS
  return MAIL_OK;
#else
  return mail_sasl_set_crypto(sasl, &crypto_mbedtls_ops, NULL);
#endif
}

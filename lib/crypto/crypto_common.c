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

/* SASLprep through libidn's stringprep. ASCII is handled here so that the
 * common case never copies a password into memory we cannot wipe (libidn
 * allocates its intermediate UCS-4 copies with malloc and frees them
 * without clearing). */
#include "sasl/saslprep.h"

#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "core/utf8.h"

#if MAIL_WITH_SASLPREP
#include <stringprep.h>
#endif

static int is_ascii(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s >= 0x80)
      return 0;
  return 1;
}

int mail_saslprep(const mail_allocator *a, const char *in, char **out)
{
  *out = NULL;
  size_t n = strlen(in);
  if (!mail_utf8_valid(in, n))
    return MAIL_ERR_CHARSET;
  if (is_ascii(in)) {
    /* RFC 4013 maps no ASCII character and prohibits only the controls
     * (C.2.1); everything else is its own preparation. */
    for (const char *p = in; *p; p++)
      if ((unsigned char)*p < 0x20 || *p == 0x7F)
        return MAIL_ERR_CHARSET;
    *out = mail_strndup(a, in, n);
    return *out ? MAIL_OK : MAIL_ERR_NOMEM;
  }
#if MAIL_WITH_SASLPREP
  /* NFKC can lengthen a string (U+2168 -> "IX", U+FDFA -> 18 bytes... ),
   * so grow the in-place buffer until stringprep() fits. */
  size_t cap = n * 2 + 16;
  for (int attempt = 0; attempt < 4; attempt++, cap *= 4) {
    char *buf = mail_malloc(a, cap);
    if (!buf)
      return MAIL_ERR_NOMEM;
    memcpy(buf, in, n + 1);
    int rc = stringprep(buf, cap, (Stringprep_profile_flags)0, stringprep_saslprep);
    if (rc == STRINGPREP_OK) {
      if (!buf[0]) {
        mail_dealloc_secret(a, buf, cap);
        return MAIL_ERR_CHARSET;
      }
      /* The result may be shorter than the input: clear what is left of
       * the input behind it, since the caller wipes only up to the NUL. */
      size_t used = strlen(buf) + 1;
      mail_wipe(buf + used, cap - used);
      *out = buf;
      return MAIL_OK;
    }
    mail_dealloc_secret(a, buf, cap);
    if (rc == STRINGPREP_MALLOC_ERROR)
      return MAIL_ERR_NOMEM;
    if (rc != STRINGPREP_TOO_SMALL_BUFFER)
      return MAIL_ERR_CHARSET;
  }
  return MAIL_ERR_CHARSET;
#else
  return MAIL_ERR_UNSUPPORTED;
#endif
}

/* Envelope addresses: syntax checks that keep every argument to one
 * token on the wire, xtext (RFC 3461) and IDNA A-labels (libidn2). */
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_IDNA
#include <idn2.h>
#endif

/* RFC 5322 specials plus space: never part of an unquoted local part. */
static int atext_ok(unsigned char c)
{
  if (c >= 0x80)
    return 1; /* UTF-8 (RFC 6531); decided by SMTPUTF8 later */
  if (c <= 0x20 || c == 0x7f)
    return 0;
  return strchr("()<>[]:;@\\,\"", c) == NULL;
}

static int domain_ok(const char *d, size_t n)
{
  if (n == 0)
    return 0;
  if (d[0] == '[') {
    /* address literal: printable, no brackets or backslash inside */
    if (n < 3 || d[n - 1] != ']')
      return 0;
    for (size_t i = 1; i + 1 < n; i++) {
      unsigned char c = (unsigned char)d[i];
      if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
        return 0;
    }
    return 1;
  }
  if (d[0] == '.' || d[n - 1] == '.')
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)d[i];
    if (c >= 0x80 || c == '-' || c == '.' || (c >= '0' && c <= '9') ||
        ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
      if (c == '.' && d[i + 1] == '.')
        return 0;
      continue;
    }
    return 0;
  }
  return 1;
}

int smtp_addr_check(const char *addr, int allow_empty)
{
  if (!addr)
    return MAIL_ERR_INVALID;
  size_t n = strlen(addr);
  if (mail_has_crlfnul(addr, n))
    return MAIL_ERR_INVALID;
  if (n == 0)
    return allow_empty ? MAIL_OK : MAIL_ERR_SYNTAX;
  if (n > 1000)
    return MAIL_ERR_SYNTAX;
  size_t i = 0;
  if (addr[0] == '"') {
    for (i = 1; i < n && addr[i] != '"'; i++) {
      unsigned char c = (unsigned char)addr[i];
      if (c == '\\') {
        if (++i >= n)
          return MAIL_ERR_SYNTAX;
        continue;
      }
      if (c < 0x20 && c != '\t')
        return MAIL_ERR_SYNTAX;
    }
    if (i >= n)
      return MAIL_ERR_SYNTAX;
    i++; /* closing quote */
  } else {
    if (addr[0] == '.')
      return MAIL_ERR_SYNTAX;
    for (; i < n && addr[i] != '@'; i++) {
      unsigned char c = (unsigned char)addr[i];
      if (c == '.') {
        if (addr[i + 1] == '.' || addr[i + 1] == '@')
          return MAIL_ERR_SYNTAX;
        continue;
      }
      if (!atext_ok(c))
        return MAIL_ERR_SYNTAX;
    }
    if (i == 0)
      return MAIL_ERR_SYNTAX;
  }
  if (i >= n || addr[i] != '@')
    return MAIL_ERR_SYNTAX;
  return domain_ok(addr + i + 1, n - i - 1) ? MAIL_OK : MAIL_ERR_SYNTAX;
}

static const char *at_sign(const char *addr)
{
  return strrchr(addr, '@');
}

unsigned smtp_addr_eight(const char *addr)
{
  return (smtp_addr_local_utf8(addr) ? SMTP_ADDR_8BIT_LOCAL : 0) |
         (smtp_addr_domain_utf8(addr) ? SMTP_ADDR_8BIT_DOMAIN : 0);
}

int smtp_addr_local_utf8(const char *addr)
{
  const char *at = at_sign(addr);
  for (const char *p = addr; *p && p != at; p++)
    if ((unsigned char)*p >= 0x80)
      return 1;
  return 0;
}

int smtp_addr_domain_utf8(const char *addr)
{
  const char *at = at_sign(addr);
  if (!at)
    return 0;
  for (const char *p = at + 1; *p; p++)
    if ((unsigned char)*p >= 0x80)
      return 1;
  return 0;
}

int smtp_addr_append_alabel(mail_buf *b, const char *addr)
{
  const char *at = at_sign(addr);
  if (!at || !smtp_addr_domain_utf8(addr))
    return mail_buf_append_str(b, addr);
#if MAIL_WITH_IDNA
  char *alabel = NULL;
  int r = idn2_to_ascii_8z(at + 1, &alabel, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (r != IDN2_OK || !alabel) {
    if (alabel)
      idn2_free(alabel);
    return MAIL_ERR_SYNTAX;
  }
  int rc = mail_buf_append(b, addr, (size_t)(at - addr) + 1);
  if (!rc)
    rc = mail_buf_append_str(b, alabel);
  idn2_free(alabel);
  return rc;
#else
  return MAIL_ERR_UNSUPPORTED;
#endif
}

int smtp_xtext_append(mail_buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    int rc;
    if (*p < 33 || *p > 126 || *p == '+' || *p == '=') {
      char esc[3] = {'+', hex[*p >> 4], hex[*p & 15]};
      rc = mail_buf_append(b, esc, 3);
    } else {
      rc = mail_buf_append_byte(b, *p);
    }
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

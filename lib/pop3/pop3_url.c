/* pop3:// and pop3s:// URLs (RFC 2384 without the ";AUTH=" part):
 * scheme, optional percent-encoded user and password, host (IPv6 in
 * brackets) and port. */
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* Percent-decode s[0..n) into a new string; NULL on a bad escape, a
 * decoded NUL or no memory (*rc says which). Secret copies are wiped. */
static char *decode(mail_pop3 *p, const char *s, size_t n, int *rc)
{
  char *out = mail_malloc(&p->alloc, n + 1);
  if (!out) {
    *rc = MAIL_ERR_NOMEM;
    return NULL;
  }
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '%') {
      out[o++] = s[i];
      continue;
    }
    int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
    int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
      mail_dealloc_secret(&p->alloc, out, n + 1);
      *rc = MAIL_ERR_SYNTAX;
      return NULL;
    }
    out[o++] = (char)(hi * 16 + lo);
    i += 2;
  }
  out[o] = '\0';
  return out;
}

int mail_pop3_connect_url(mail_pop3 *p, const char *url)
{
  POP3_RESUME(p, API_CONNECT);
  if (!url)
    return MAIL_ERR_INVALID;
  size_t ulen = strlen(url);
  if (mail_has_crlfnul(url, ulen))
    return MAIL_ERR_INVALID;
  int security;
  const char *s;
  if (!strncasecmp(url, "pop3://", 7)) {
    s = url + 7;
    security = p->security == MAIL_SECURITY_IMPLICIT_TLS ? MAIL_SECURITY_STARTTLS : p->security;
  } else if (!strncasecmp(url, "pop3s://", 8)) {
    s = url + 8;
    security = MAIL_SECURITY_IMPLICIT_TLS;
  } else {
    return MAIL_ERR_SYNTAX;
  }
  const char *end = s + strcspn(s, "/?#");
  if (*end == '/' && end[1] != '\0')
    return MAIL_ERR_SYNTAX;
  if (*end == '?' || *end == '#')
    return MAIL_ERR_SYNTAX;
  const char *at = NULL;
  for (const char *q = s; q < end; q++)
    if (*q == '@')
      at = q;
  char *user = NULL, *pass = NULL;
  int rc = MAIL_OK;
  const char *host = s;
  if (at) {
    const char *colon = memchr(s, ':', (size_t)(at - s));
    const char *uend = colon ? colon : at;
    user = decode(p, s, (size_t)(uend - s), &rc);
    if (user && colon)
      pass = decode(p, colon + 1, (size_t)(at - colon - 1), &rc);
    if (rc)
      goto out;
    host = at + 1;
  }
  const char *hend, *port_s = NULL;
  if (*host == '[') {
    const char *rb = memchr(host, ']', (size_t)(end - host));
    if (!rb) {
      rc = MAIL_ERR_SYNTAX;
      goto out;
    }
    hend = rb + 1;
    if (hend < end && *hend != ':') {
      rc = MAIL_ERR_SYNTAX;
      goto out;
    }
  } else {
    hend = memchr(host, ':', (size_t)(end - host));
    if (!hend)
      hend = end;
  }
  if (hend < end && *hend == ':')
    port_s = hend + 1;
  unsigned long port = 0;
  if (port_s) {
    if (port_s == end) {
      rc = MAIL_ERR_SYNTAX;
      goto out;
    }
    for (const char *q = port_s; q < end; q++) {
      if (*q < '0' || *q > '9' || (port = port * 10 + (unsigned long)(*q - '0')) > 65535) {
        rc = MAIL_ERR_SYNTAX;
        goto out;
      }
    }
    if (port == 0) {
      rc = MAIL_ERR_SYNTAX;
      goto out;
    }
  }
  size_t hlen = (size_t)(hend - host);
  if (*host == '[') {
    host++;
    hlen -= 2;
  }
  if (hlen == 0) {
    rc = MAIL_ERR_SYNTAX;
    goto out;
  }
  char *h = mail_strndup(&p->alloc, host, hlen);
  if (!h) {
    rc = MAIL_ERR_NOMEM;
    goto out;
  }
  if (p->state != MAIL_POP3_STATE_DISCONNECTED) {
    mail_dealloc(&p->alloc, h);
    rc = MAIL_ERR_STATE;
    goto out;
  }
  if (user && *user)
    rc = mail_pop3_set_auth(p, user, pass);
  if (!rc)
    rc = mail_pop3_connect(p, h, (unsigned int)port, security);
  mail_dealloc(&p->alloc, h);
out:
  if (user)
    mail_dealloc_secret_str(&p->alloc, user);
  if (pass)
    mail_dealloc_secret_str(&p->alloc, pass);
  return rc;
}

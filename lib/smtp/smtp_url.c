/* smtp://, submission://, smtps:// and lmtp:// URLs (see mail_smtp_connect_url). */
#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "smtp/smtp_internal.h"

static const struct {
  const char *prefix;
  int scheme;
  unsigned port;
} schemes[] = {
  {"smtp://", 0, 25},
  {"smtps://", 1, 465},
  {"lmtp://", 2, 24},
  {"submission://", 3, 587},
};

int mail_smtp_url_parse(const char *url, mail_smtp_url *out)
{
  if (!url || !out)
    return MAIL_ERR_INVALID;
  size_t n = strlen(url);
  if (mail_has_crlfnul(url, n))
    return MAIL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  const char *p = NULL;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    size_t k = strlen(schemes[i].prefix);
    if (n >= k && strncasecmp(url, schemes[i].prefix, k) == 0) {
      p = url + k;
      out->scheme = schemes[i].scheme;
      out->port = schemes[i].port;
      break;
    }
  }
  if (!p)
    return MAIL_ERR_SYNTAX;
  if (*p == '/') {
    /* lmtp:///path: a Unix-domain socket */
    if (out->scheme != 2 || strlen(p) >= sizeof out->path || p[1] == '\0')
      return MAIL_ERR_SYNTAX;
    strcpy(out->path, p);
    return MAIL_OK;
  }
  const char *host = p, *hend;
  if (*p == '[') {
    hend = strchr(p, ']');
    if (!hend)
      return MAIL_ERR_SYNTAX;
    host = p + 1;
    p = hend + 1;
  } else {
    while (*p && *p != ':' && *p != '/')
      p++;
    hend = p;
  }
  size_t hl = (size_t)(hend - host);
  if (hl == 0 || hl >= sizeof out->host)
    return MAIL_ERR_SYNTAX;
  for (size_t i = 0; i < hl; i++) {
    unsigned char c = (unsigned char)host[i];
    if (c <= 0x20 || c == 0x7f || c == '@' || c == '/' || c == '?' || c == '#' || c == '[')
      return MAIL_ERR_SYNTAX;
  }
  memcpy(out->host, host, hl);
  out->host[hl] = '\0';
  if (*p == ':') {
    p++;
    unsigned long port = 0;
    if (*p < '0' || *p > '9')
      return MAIL_ERR_SYNTAX;
    while (*p >= '0' && *p <= '9') {
      port = port * 10 + (unsigned long)(*p - '0');
      if (port > 65535)
        return MAIL_ERR_SYNTAX;
      p++;
    }
    if (port == 0)
      return MAIL_ERR_SYNTAX;
    out->port = (unsigned)port;
  }
  if (*p == '/')
    p++;
  return *p ? MAIL_ERR_SYNTAX : MAIL_OK;
}

/* The one URL parser (see url.h). Everything is checked before anything is
 * allocated, so the only allocations are the decoded user and password,
 * made last. */
#include "core/url.h"

#include <string.h>

#include <mail/conn.h>

#include "core/mem.h"

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int is_alpha(unsigned char c)
{
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

/* RFC 3986 unreserved. */
static int is_unreserved(unsigned char c)
{
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int is_control(unsigned char c)
{
  return c < 0x20 || c == 0x7f;
}

/* Check the escapes of s[0..n) and count the decoded bytes. */
static int decoded_len(const char *s, size_t n, size_t *len)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++, o++) {
    if (s[i] != '%')
      continue;
    if (n - i < 3)
      return MAIL_ERR_SYNTAX;
    int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
    if (hi < 0 || lo < 0)
      return MAIL_ERR_SYNTAX;
    int c = hi * 16 + lo;
    if (c == 0)
      return MAIL_ERR_SYNTAX; /* a C string cannot hold it */
    if (c == '\r' || c == '\n')
      return MAIL_ERR_INVALID; /* would reach the wire as a line break */
    i += 2;
  }
  *len = o;
  return MAIL_OK;
}

int mail_url_decode(const mail_allocator *alloc, const char *s, size_t n, char **out)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (!s && n)
    return MAIL_ERR_INVALID;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  size_t len;
  int rc = decoded_len(s, n, &len);
  if (rc)
    return rc;
  char *d = mail_malloc(&a, len + 1);
  if (!d)
    return MAIL_ERR_NOMEM;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      d[o++] = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
      i += 2;
    } else {
      d[o++] = s[i];
    }
  }
  d[o] = '\0';
  *out = d;
  return MAIL_OK;
}

/* A dotted quad inside an IPv6 literal: four decimal octets, no leading
 * zeros (RFC 3986 dec-octet). */
static int ipv4_ok(const char *s, size_t n)
{
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part) {
      if (i >= n || s[i] != '.')
        return 0;
      i++;
    }
    size_t start = i;
    unsigned v = 0;
    while (i < n && is_digit((unsigned char)s[i]) && i - start < 3)
      v = v * 10 + (unsigned)(s[i++] - '0');
    if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
      return 0;
  }
  return i == n;
}

/* RFC 4291 2.2 text form: up to eight groups of 1-4 hex digits, one "::"
 * at most, optionally ending in a dotted quad (worth two groups). */
static int ipv6_ok(const char *s, size_t n)
{
  size_t i = 0;
  int groups = 0, compressed = 0;
  if (n >= 2 && s[0] == ':' && s[1] == ':') {
    compressed = 1;
    i = 2;
    if (i == n)
      return 1;
  }
  for (;;) {
    size_t j = i;
    while (j < n && hexval((unsigned char)s[j]) >= 0)
      j++;
    if (j < n && s[j] == '.') {
      if (!ipv4_ok(s + i, n - i))
        return 0;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4)
      return 0;
    groups++;
    if (groups > 8)
      return 0;
    if (j == n)
      break;
    if (s[j] != ':')
      return 0;
    if (j + 1 < n && s[j + 1] == ':') {
      if (compressed)
        return 0;
      compressed = 1;
      i = j + 2;
      if (i == n)
        break;
    } else {
      i = j + 1;
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

/* "[...]" contents: an IPv6 address, then optionally a zone, written
 * "%25zone" (RFC 6874) or, as the earlier parsers took it, "%zone" (a
 * zone whose name starts with "25" must use the RFC form). Writes
 * "address%zone" to host. */
static int ip_literal(const char *s, size_t n, char *host)
{
  const char *pct = memchr(s, '%', n);
  size_t alen = pct ? (size_t)(pct - s) : n;
  if (alen > MAIL_URL_HOST_MAX || !ipv6_ok(s, alen))
    return MAIL_ERR_SYNTAX;
  memcpy(host, s, alen);
  host[alen] = '\0';
  if (!pct)
    return MAIL_OK;
  const char *z = pct + 1, *zend = s + n;
  if (zend - z >= 2 && z[0] == '2' && z[1] == '5')
    z += 2;
  if (z == zend)
    return MAIL_ERR_SYNTAX;
  for (const char *q = z; q < zend; q++)
    if (!is_unreserved((unsigned char)*q))
      return MAIL_ERR_SYNTAX;
  size_t zlen = (size_t)(zend - z);
  if (alen + 1 + zlen > MAIL_URL_HOST_MAX)
    return MAIL_ERR_SYNTAX;
  host[alen] = '%';
  memcpy(host + alen + 1, z, zlen);
  host[alen + 1 + zlen] = '\0';
  return MAIL_OK;
}

/* A host name: letters, digits, '-' and '_' in dot-separated labels of 1
 * to 63 bytes; one trailing dot (a rooted name) is allowed. No escapes,
 * no bytes above 0x7f (an IDN must come as A-labels). */
static int reg_name(const char *s, size_t n, char *host)
{
  if (n == 0 || n > MAIL_URL_HOST_MAX)
    return MAIL_ERR_SYNTAX;
  size_t label = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '.') {
      if (label == 0)
        return MAIL_ERR_SYNTAX;
      label = 0;
    } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
      if (++label > 63)
        return MAIL_ERR_SYNTAX;
    } else {
      return MAIL_ERR_SYNTAX;
    }
  }
  memcpy(host, s, n);
  host[n] = '\0';
  return MAIL_OK;
}

/* ":port" digits s[0..n): 1..65535 (leading zeros allowed). */
static int port_number(const char *s, size_t n, unsigned int *port)
{
  if (n == 0)
    return MAIL_ERR_SYNTAX;
  unsigned long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit((unsigned char)s[i]))
      return MAIL_ERR_SYNTAX;
    v = v * 10 + (unsigned long)(s[i] - '0');
    if (v > 65535)
      return MAIL_ERR_SYNTAX;
  }
  if (v == 0)
    return MAIL_ERR_SYNTAX;
  *port = (unsigned int)v;
  return MAIL_OK;
}

/* RFC 3986 path and query characters (pchar, "/", "?"), escapes well formed. */
static int path_ok(const char *s)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '%') {
      if (hexval((unsigned char)s[1]) < 0 || hexval((unsigned char)s[2]) < 0)
        return 0;
      s += 2;
    } else if (!is_unreserved(c) && !strchr("!$&'()*+,;=:@/?", c)) {
      return 0;
    }
  }
  return 1;
}

/* The scheme before "://", matched case-insensitively against the table. */
static const char *match_scheme(const char *url, const mail_url_scheme *schemes, size_t ns,
                                size_t *index)
{
  size_t k = 0;
  while (is_alpha((unsigned char)url[k]) || (k && (is_digit((unsigned char)url[k]) ||
                                                   url[k] == '+' || url[k] == '-' ||
                                                   url[k] == '.')))
    k++;
  if (k == 0 || strncmp(url + k, "://", 3) != 0)
    return NULL;
  for (size_t i = 0; i < ns; i++) {
    const char *name = schemes[i].name;
    if (!name || strlen(name) != k)
      continue;
    size_t j = 0;
    while (j < k && (unsigned char)(url[j] | 0x20) == (unsigned char)(name[j] | 0x20))
      j++;
    if (j == k) {
      *index = i;
      return url + k + 3;
    }
  }
  return NULL;
}

static int parse(mail_url *out, const char *url, const mail_url_scheme *schemes, size_t ns,
                 const mail_allocator *a)
{
  size_t n = strlen(url);
  if (mail_has_crlfnul(url, n))
    return MAIL_ERR_INVALID;
  if (n > MAIL_URL_MAX)
    return MAIL_ERR_SYNTAX;
  size_t idx;
  const char *p = match_scheme(url, schemes, ns, &idx);
  if (!p)
    return MAIL_ERR_SYNTAX;
  const mail_url_scheme *sc = &schemes[idx];
  out->scheme = sc;
  out->scheme_index = idx;

  if (*p == '/') { /* scheme:///path: an empty authority */
    if (!(sc->flags & MAIL_URL_UNIX_PATH) || p[1] == '\0')
      return MAIL_ERR_SYNTAX;
    for (const char *q = p; *q; q++)
      if (is_control((unsigned char)*q))
        return MAIL_ERR_SYNTAX;
    out->socket_path = p;
    return MAIL_OK;
  }

  const char *aend = p + strcspn(p, "/?#");
  /* The last '@' ends the userinfo, so an unencoded '@' in a user name
   * (user@domain) still works, as it did in the POP3 parser. */
  const char *at = NULL;
  for (const char *q = p; q < aend; q++)
    if (*q == '@')
      at = q;
  const char *hp = p;
  if (at) {
    if (!(sc->flags & MAIL_URL_USERINFO))
      return MAIL_ERR_SYNTAX;
    for (const char *q = p; q < at; q++)
      if (is_control((unsigned char)*q))
        return MAIL_ERR_SYNTAX;
    hp = at + 1;
  }

  const char *hend;
  int rc;
  if (*hp == '[') {
    const char *rb = memchr(hp, ']', (size_t)(aend - hp));
    if (!rb)
      return MAIL_ERR_SYNTAX;
    rc = ip_literal(hp + 1, (size_t)(rb - hp - 1), out->host);
    if (rc)
      return rc;
    out->host_is_ipv6 = 1;
    hend = rb + 1;
    if (hend < aend && *hend != ':')
      return MAIL_ERR_SYNTAX;
  } else {
    hend = memchr(hp, ':', (size_t)(aend - hp));
    if (!hend)
      hend = aend;
    rc = reg_name(hp, (size_t)(hend - hp), out->host);
    if (rc)
      return rc;
  }
  out->port = sc->port;
  if (hend < aend) { /* *hend == ':' */
    rc = port_number(hend + 1, (size_t)(aend - hend - 1), &out->port);
    if (rc)
      return rc;
    out->port_given = 1;
  }

  if (*aend == '/' && aend[1] != '\0') {
    if (!(sc->flags & MAIL_URL_PATH) || !path_ok(aend + 1))
      return MAIL_ERR_SYNTAX;
    out->path = aend + 1;
  } else if (*aend == '?' || *aend == '#') {
    return MAIL_ERR_SYNTAX;
  }

  if (at) { /* decoded last: nothing can fail after the secrets exist but memory */
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *uend = colon ? colon : at;
    out->has_userinfo = 1;
    rc = mail_url_decode(a, p, (size_t)(uend - p), &out->user);
    if (!rc && colon)
      rc = mail_url_decode(a, colon + 1, (size_t)(at - colon - 1), &out->password);
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

int mail_url_parse(mail_url *out, const char *url, const mail_url_scheme *schemes,
                   size_t nschemes, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  memset(out, 0, sizeof *out);
  mail_allocator a;
  if (!url || !schemes || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  int rc = parse(out, url, schemes, nschemes, &a);
  if (rc)
    mail_url_clear(out, &a);
  return rc;
}

void mail_url_clear(mail_url *u, const mail_allocator *alloc)
{
  if (!u)
    return;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc) == MAIL_OK) {
    mail_dealloc_secret_str(&a, u->user);
    mail_dealloc_secret_str(&a, u->password);
  }
  mail_wipe(u, sizeof *u);
}

int mail_url_security(const mail_url_scheme *scheme, int chosen)
{
  if (scheme->flags & MAIL_URL_IMPLICIT_TLS)
    return MAIL_SECURITY_IMPLICIT_TLS;
  return chosen == MAIL_SECURITY_IMPLICIT_TLS ? MAIL_SECURITY_STARTTLS : chosen;
}

/* The SOCKS5 and HTTP CONNECT proxy layer (see proxy.h for its contract). */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/conn_internal.h"
#include "core/mem.h"

/* The HTTP proxy's header block is read in pieces of this size; it may
 * grow up to the connection's max_line. */
#define PX_HTTP_CHUNK 512
/* SOCKS5's longest answer: 4 + 1 + 255 (a name) + 2. */
#define PX_SOCKS_MAX 262

enum px_step {
  S5_METHOD,  /* the method the proxy chose (2 bytes) */
  S5_AUTH,    /* the user/password verdict (2 bytes) */
  S5_REPLY,   /* the CONNECT reply: head, then the bound address */
  HTTP_REPLY, /* the status line and headers */
  PX_OPEN     /* the tunnel is up: pass through */
};

typedef struct proxy_layer {
  mail_layer base;
  mail_allocator alloc;
  int kind;
  int step;
  /* The request being sent; it may hold the credentials, so it is wiped
   * once written. */
  unsigned char *out;
  size_t olen, opos, ocap;
  /* What the proxy answered so far; after an HTTP header block, the bytes
   * from spos on are the server's. */
  unsigned char *in;
  size_t ilen, icap, need, spos;
  char *host, *user, *pass;
  unsigned int port;
} proxy_layer;

/* "the SOCKS5 proxy <what><detail>" */
static int px_fail(proxy_layer *p, int rc, const char *what, const char *detail)
{
  return mail_conn_fail(p->base.conn, rc, "the %s proxy %s%s", mail_proxy_kind_name(p->kind), what,
                        detail ? detail : "");
}

/* Room for a request of n bytes in out (the old one is wiped). */
static int px_request(proxy_layer *p, size_t n)
{
  if (n > p->ocap) {
    mail_dealloc_secret(&p->alloc, p->out, p->ocap);
    p->out = mail_malloc(&p->alloc, n);
    p->ocap = p->out ? n : 0;
    if (!p->out)
      return MAIL_ERR_NOMEM;
  }
  p->olen = n;
  p->opos = 0;
  return MAIL_OK;
}

/* What the proxy must answer next: exactly need bytes (SOCKS5) or up to the
 * end of the header block (HTTP, need 0). */
static void px_expect(proxy_layer *p, int step, size_t need)
{
  p->step = step;
  p->need = need;
  p->ilen = 0;
}

/* ---------------------------------------------------------------- SOCKS5 */

static int s5_hello(proxy_layer *p)
{
  int rc = px_request(p, p->user ? 4 : 3);
  if (rc)
    return rc;
  unsigned char *o = p->out;
  o[0] = 5;
  if (p->user) {
    o[1] = 2;
    o[2] = 0; /* no authentication */
    o[3] = 2; /* user name and password (RFC 1929) */
  } else {
    o[1] = 1;
    o[2] = 0;
  }
  px_expect(p, S5_METHOD, 2);
  return MAIL_OK;
}

static int s5_auth(proxy_layer *p)
{
  size_t ul = strlen(p->user), pl = strlen(p->pass);
  int rc = px_request(p, 3 + ul + pl);
  if (rc)
    return rc;
  unsigned char *o = p->out;
  o[0] = 1;
  o[1] = (unsigned char)ul;
  memcpy(o + 2, p->user, ul);
  o[2 + ul] = (unsigned char)pl;
  memcpy(o + 3 + ul, p->pass, pl);
  px_expect(p, S5_AUTH, 2);
  return MAIL_OK;
}

static int s5_connect(proxy_layer *p)
{
  unsigned char a[16];
  size_t alen;
  int atyp;
  if (inet_pton(AF_INET, p->host, a) == 1) {
    atyp = 1;
    alen = 4;
  } else if (inet_pton(AF_INET6, p->host, a) == 1) {
    atyp = 4;
    alen = 16;
  } else {
    atyp = 3; /* a name, resolved by the proxy */
    alen = strlen(p->host);
  }
  int rc = px_request(p, 4 + (atyp == 3) + alen + 2);
  if (rc)
    return rc;
  unsigned char *o = p->out;
  size_t k = 0;
  o[k++] = 5;
  o[k++] = 1; /* CONNECT */
  o[k++] = 0;
  o[k++] = (unsigned char)atyp;
  if (atyp == 3) {
    o[k++] = (unsigned char)alen;
    memcpy(o + k, p->host, alen);
  } else {
    memcpy(o + k, a, alen);
  }
  k += alen;
  o[k++] = (unsigned char)(p->port >> 8);
  o[k++] = (unsigned char)(p->port & 0xff);
  /* VER REP RSV ATYP and the first byte of the bound address, which for a
   * name is its length. */
  px_expect(p, S5_REPLY, 5);
  return MAIL_OK;
}

static const char *s5_reply_text(unsigned int rep)
{
  switch (rep) {
  case 1: return "general failure";
  case 2: return "not allowed by its rules";
  case 3: return "network unreachable";
  case 4: return "host unreachable";
  case 5: return "connection refused";
  case 6: return "TTL expired";
  case 7: return "command not supported";
  case 8: return "address type not supported";
  default: return "an unknown reply code";
  }
}

static int s5_answer(proxy_layer *p)
{
  const unsigned char *in = p->in;
  switch (p->step) {
  case S5_METHOD:
    if (in[0] != 5)
      return px_fail(p, MAIL_ERR_PROXY, "answered with another protocol", NULL);
    if (in[1] == 0)
      return s5_connect(p);
    if (in[1] == 2 && p->user)
      return s5_auth(p);
    if (in[1] == 0xff)
      return px_fail(p, MAIL_ERR_PROXY, "accepts none of our methods",
                     p->user ? " (none, user name and password)"
                             : " (it may want a user name and password)");
    return px_fail(p, MAIL_ERR_PROXY, "chose a method we did not offer", NULL);
  case S5_AUTH:
    if (in[1] != 0)
      return px_fail(p, MAIL_ERR_PROXY, "refused the user name and password", NULL);
    return s5_connect(p);
  default: /* S5_REPLY */
    if (p->need == 5) {
      if (in[0] != 5)
        return px_fail(p, MAIL_ERR_PROXY, "answered with another protocol", NULL);
      if (in[1] != 0) {
        char why[64];
        snprintf(why, sizeof why, ": %s", s5_reply_text(in[1]));
        return px_fail(p, MAIL_ERR_PROXY, "could not open the tunnel", why);
      }
      size_t rest;
      switch (in[3]) {
      case 1: rest = 4 + 4 + 2; break;
      case 3: rest = 4 + 1 + (size_t)in[4] + 2; break;
      case 4: rest = 4 + 16 + 2; break;
      default:
        return px_fail(p, MAIL_ERR_PROXY, "answered an unknown address type", NULL);
      }
      p->need = rest;
      return MAIL_OK;
    }
    p->step = PX_OPEN;
    p->ilen = p->spos = 0;
    return MAIL_OK;
  }
}

/* ------------------------------------------------------------------ HTTP */

static int http_request(proxy_layer *p)
{
  char auth[740] = "";
  if (p->user) {
    /* user:password, base64 (RFC 7617); each at most 255 bytes. */
    char plain[512];
    size_t ul = strlen(p->user), pl = strlen(p->pass);
    memcpy(plain, p->user, ul);
    plain[ul] = ':';
    memcpy(plain + ul + 1, p->pass, pl);
    char b64[690];
    size_t n = mail_b64_encode(plain, ul + 1 + pl, b64);
    mail_wipe(plain, sizeof plain);
    b64[n] = '\0';
    snprintf(auth, sizeof auth, "Proxy-Authorization: Basic %s\r\n", b64);
    mail_wipe(b64, sizeof b64);
  }
  int v6 = strchr(p->host, ':') != NULL;
  char hostport[300];
  snprintf(hostport, sizeof hostport, "%s%s%s:%u", v6 ? "[" : "", p->host, v6 ? "]" : "",
           p->port);
  size_t n = strlen("CONNECT  HTTP/1.1\r\nHost: \r\n\r\n") + 2 * strlen(hostport) + strlen(auth);
  int rc = px_request(p, n + 1);
  if (rc == MAIL_OK) {
    snprintf((char *)p->out, n + 1, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", hostport,
             hostport, auth);
    p->olen = n;
  }
  mail_wipe(auth, sizeof auth);
  px_expect(p, HTTP_REPLY, 0);
  return rc;
}

/* The end of the header block in in[0..ilen), or 0 when it has not come. */
static size_t http_header_end(const proxy_layer *p)
{
  for (size_t i = 1; i < p->ilen; i++) {
    if (p->in[i] != '\n')
      continue;
    if (p->in[i - 1] == '\n')
      return i + 1;
    if (i >= 2 && p->in[i - 1] == '\r' && p->in[i - 2] == '\n')
      return i + 1;
  }
  return 0;
}

static int http_answer(proxy_layer *p)
{
  size_t end = http_header_end(p);
  if (!end)
    return MAIL_OK; /* read on */
  /* The status line, kept printable for the error text. */
  char line[128];
  size_t k = 0;
  for (size_t i = 0; i < end && p->in[i] != '\r' && p->in[i] != '\n' && k + 1 < sizeof line; i++)
    line[k++] = p->in[i] >= 0x20 && p->in[i] < 0x7f ? (char)p->in[i] : '?';
  line[k] = '\0';
  unsigned int code = 0;
  if (strncmp(line, "HTTP/1.", 7) != 0 || k < 12 || line[8] != ' ' ||
      sscanf(line + 9, "%3u", &code) != 1)
    return px_fail(p, MAIL_ERR_PROXY, "did not answer in HTTP", NULL);
  if (code / 100 == 2) {
    p->step = PX_OPEN;
    p->spos = end;
    return MAIL_OK;
  }
  char why[160];
  snprintf(why, sizeof why, ": %s", line);
  if (code == 407)
    return px_fail(p, MAIL_ERR_PROXY,
                   p->user ? "refused our credentials"
                           : "asks for credentials",
                   why);
  return px_fail(p, MAIL_ERR_PROXY, "refused the tunnel", why);
}

/* ----------------------------------------------------------------- layer */

static int px_handshake(mail_layer *l, int *want, int timeout_ms)
{
  proxy_layer *p = (proxy_layer *)l;
  mail_layer *lo = l->lower;
  for (;;) {
    if (p->opos < p->olen) {
      size_t n = 0;
      int rc = lo->ops->write(lo, p->out + p->opos, p->olen - p->opos, &n, want, timeout_ms);
      if (rc)
        return rc;
      p->opos += n;
      if (p->opos == p->olen)
        mail_wipe(p->out, p->olen);
      continue;
    }
    if (p->step == PX_OPEN) {
      mail_dealloc_secret_str(&p->alloc, p->user);
      mail_dealloc_secret_str(&p->alloc, p->pass);
      p->user = p->pass = NULL;
      return MAIL_OK;
    }
    size_t room;
    if (p->need) {
      room = p->need - p->ilen;
    } else {
      size_t max = mail_conn_limits(l->conn)->max_line;
      if (p->ilen == p->icap) {
        if (p->icap >= max)
          return px_fail(p, MAIL_ERR_LIMIT, "sent an answer longer than max_line", NULL);
        size_t cap = p->icap + PX_HTTP_CHUNK;
        if (cap > max)
          cap = max;
        unsigned char *in = mail_realloc(&p->alloc, p->in, cap);
        if (!in)
          return MAIL_ERR_NOMEM;
        p->in = in;
        p->icap = cap;
      }
      room = p->icap - p->ilen;
    }
    size_t got = 0;
    int rc = lo->ops->read(lo, p->in + p->ilen, room, &got, want, timeout_ms);
    if (rc == MAIL_ERR_CLOSED)
      return px_fail(p, MAIL_ERR_PROXY, "closed the connection before the tunnel was open",
                     NULL);
    if (rc)
      return rc;
    p->ilen += got;
    if (p->need && p->ilen < p->need)
      continue;
    rc = p->kind == MAIL_PROXY_SOCKS5 ? s5_answer(p) : http_answer(p);
    if (rc)
      return rc;
  }
}

static int px_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                   int timeout_ms)
{
  proxy_layer *p = (proxy_layer *)l;
  if (p->spos < p->ilen) {
    size_t n = p->ilen - p->spos < len ? p->ilen - p->spos : len;
    memcpy(buf, p->in + p->spos, n);
    p->spos += n;
    *got = n;
    return MAIL_OK;
  }
  return l->lower->ops->read(l->lower, buf, len, got, want, timeout_ms);
}

static int px_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written, int *want,
                    int timeout_ms)
{
  return l->lower->ops->write(l->lower, buf, len, written, want, timeout_ms);
}

static int px_fd(const mail_layer *l)
{
  return l->lower->ops->fd(l->lower);
}

static int px_pending(const mail_layer *l)
{
  const proxy_layer *p = (const proxy_layer *)l;
  if (p->step != PX_OPEN || p->spos < p->ilen)
    return 1;
  const mail_layer *lo = l->lower;
  return lo->ops->pending ? lo->ops->pending(lo) : 1;
}

static void px_release(proxy_layer *p)
{
  mail_dealloc_secret(&p->alloc, p->out, p->ocap);
  mail_dealloc(&p->alloc, p->in);
  mail_dealloc(&p->alloc, p->host);
  mail_dealloc_secret_str(&p->alloc, p->user);
  mail_dealloc_secret_str(&p->alloc, p->pass);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

static void px_destroy(mail_layer *l)
{
  mail_layer *lower = l->lower;
  px_release((proxy_layer *)l);
  if (lower)
    lower->ops->destroy(lower);
}

static const mail_layer_ops proxy_ops = {
  .name = "proxy",
  .read = px_read,
  .write = px_write,
  .handshake = px_handshake,
  .fd = px_fd,
  .destroy = px_destroy,
  .pending = px_pending,
};

int mail_proxy_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower,
                         const mail_proxy_target *t)
{
  if (!out || !conn || !lower || !t || !t->host)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if ((t->kind != MAIL_PROXY_SOCKS5 && t->kind != MAIL_PROXY_HTTP) || strlen(t->host) > 255 ||
      t->port == 0 || t->port > 65535 || (t->user && !t->password) ||
      (t->user && (strlen(t->user) > 255 || strlen(t->password) > 255)))
    return MAIL_ERR_INVALID;
  const mail_allocator *a = &mail_conn_env(conn)->alloc;
  proxy_layer *p = mail_calloc(a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = *a;
  p->kind = t->kind;
  p->port = t->port;
  p->base.ops = &proxy_ops;
  p->base.lower = lower;
  p->base.conn = conn;
  p->host = mail_strdup(a, t->host);
  if (t->user) {
    p->user = mail_strdup(a, t->user);
    p->pass = mail_strdup(a, t->password);
  }
  int rc = p->host && (!t->user || (p->user && p->pass)) ? MAIL_OK : MAIL_ERR_NOMEM;
  if (rc == MAIL_OK && p->kind == MAIL_PROXY_SOCKS5) {
    p->in = mail_malloc(a, PX_SOCKS_MAX);
    p->icap = PX_SOCKS_MAX;
    rc = p->in ? s5_hello(p) : MAIL_ERR_NOMEM;
  } else if (rc == MAIL_OK) {
    rc = http_request(p);
  }
  if (rc) {
    p->base.lower = NULL;
    px_release(p);
    return rc;
  }
  *out = &p->base;
  return MAIL_OK;
}

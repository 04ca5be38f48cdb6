/*
 * The TLS layer over OpenSSL: a client SSL on top of any lower mail_layer.
 *
 * OpenSSL never sees a socket. It talks to a BIO of our own whose read and
 * write call the lower layer, so the TCP layer's MSG_NOSIGNAL sends keep
 * SIGPIPE away, TLS runs over whatever is below, and the lower layer's
 * MAIL_ERR_AGAIN becomes a BIO retry (and back into MAIL_ERR_AGAIN plus
 * the direction the lower layer waits for).
 *
 * Verification is decided in one place, during the handshake
 * (verify_chain_cb): OpenSSL's chain and name checks (or, in pin-only mode,
 * the name alone), then the SPKI pins, then the caller's callback. A
 * refused peer gets an alert and the handshake fails with
 * MAIL_ERR_TLS_VERIFY; the reason and the certificate stay on the layer.
 *
 * Plaintext passes straight between the caller's buffers and OpenSSL: the
 * layer keeps no copy of anything it sends or receives.
 */
#include "net/tls_openssl_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/conn_internal.h"
#include "core/mem.h"

typedef struct tls_layer {
  mail_layer base; /* first: the mail_layer * handed out is this struct */
  mail_allocator alloc;
  mail_tls_config *cfg;
  SSL *ssl;
  char *host;        /* server name as given, brackets stripped */
  char *session_key; /* host:port, or NULL without resumption */
  int is_ip;

  /* State of the current call, read by the BIO callbacks. */
  int timeout_ms;
  int lower_want; /* what the lower layer waits for after MAIL_ERR_AGAIN */
  int lower_rc;   /* the lower layer's fatal status (or MAIL_ERR_CLOSED) */

  int handshake_done;
  int failed;     /* a fatal error happened: no close_notify on destroy */
  int nomem;      /* an allocation failed inside an OpenSSL callback */
  int verified;
  int verify_failed;
  int verify_err;       /* OpenSSL's X509_V_ERR_* for a refused peer */
  char verify_reason[256];
  char peer_names[300]; /* "subject ..., issuer ..." of a refused leaf */
  unsigned char *peer_der;
  size_t peer_der_len;
} tls_layer;

/* ------------------------------------------------------------ global init */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_status = MAIL_ERR_INTERNAL;
static int ssl_index = -1;
static BIO_METHOD *bio_method;

static int bio_write_ex(BIO *b, const char *data, size_t len, size_t *written);
static int bio_read_ex(BIO *b, char *data, size_t len, size_t *got);
static long bio_ctrl(BIO *b, int cmd, long num, void *ptr);
static int bio_create(BIO *b);

static void init_once_fn(void)
{
  if (OPENSSL_init_ssl(0, NULL) != 1)
    return;
  ssl_index = SSL_get_ex_new_index(0, (void *)"libmail tls layer", NULL, NULL, NULL);
  if (ssl_index < 0)
    return;
  int type = BIO_get_new_index();
  if (type < 0)
    return;
  bio_method = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "libmail lower layer");
  if (!bio_method || BIO_meth_set_write_ex(bio_method, bio_write_ex) != 1 ||
      BIO_meth_set_read_ex(bio_method, bio_read_ex) != 1 ||
      BIO_meth_set_ctrl(bio_method, bio_ctrl) != 1 ||
      BIO_meth_set_create(bio_method, bio_create) != 1)
    return;
  init_status = MAIL_OK;
}

int mail_tls_global_init(void)
{
  if (pthread_once(&init_once, init_once_fn) != 0)
    return MAIL_ERR_INTERNAL;
  ERR_clear_error();
  return init_status;
}

int mail_tls_ssl_index(void) { return ssl_index; }
const BIO_METHOD *mail_tls_bio_method(void) { return bio_method; }

/* ------------------------------------------------------------ the BIO */

static int bio_create(BIO *b)
{
  BIO_set_init(b, 1);
  return 1;
}

static int bio_write_ex(BIO *b, const char *data, size_t len, size_t *written)
{
  tls_layer *t = BIO_get_data(b);
  mail_layer *lower = t->base.lower;
  int want = 0;
  BIO_clear_retry_flags(b);
  *written = 0;
  int rc = lower->ops->write(lower, (const unsigned char *)data, len, written, &want, t->timeout_ms);
  if (rc == MAIL_OK)
    return 1;
  if (rc == MAIL_ERR_AGAIN) {
    t->lower_want = want ? want : MAIL_WANT_WRITE;
    BIO_set_retry_write(b);
    return 0;
  }
  t->lower_rc = rc;
  return 0;
}

static int bio_read_ex(BIO *b, char *data, size_t len, size_t *got)
{
  tls_layer *t = BIO_get_data(b);
  mail_layer *lower = t->base.lower;
  int want = 0;
  BIO_clear_retry_flags(b);
  *got = 0;
  int rc = lower->ops->read(lower, (unsigned char *)data, len, got, &want, t->timeout_ms);
  if (rc == MAIL_OK)
    return 1;
  if (rc == MAIL_ERR_AGAIN) {
    t->lower_want = want ? want : MAIL_WANT_READ;
    BIO_set_retry_read(b);
    return 0;
  }
  t->lower_rc = rc;
  return 0;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  (void)num;
  (void)ptr;
  tls_layer *t = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1; /* every write went straight to the lower layer */
  case BIO_CTRL_EOF:
    return t && t->lower_rc == MAIL_ERR_CLOSED;
  default:
    return 0;
  }
}

/* ------------------------------------------------------------ verification */

static void set_reason(tls_layer *t, const char *text)
{
  snprintf(t->verify_reason, sizeof t->verify_reason, "%s", text);
}

static void set_name_reason(tls_layer *t)
{
  snprintf(t->verify_reason, sizeof t->verify_reason, "the certificate is not valid for %s",
           t->host);
}

static int keep_peer_der(tls_layer *t, X509 *leaf)
{
  if (!leaf || t->peer_der)
    return MAIL_OK;
  int n = i2d_X509(leaf, NULL);
  if (n <= 0)
    return MAIL_ERR_TLS;
  unsigned char *der = mail_malloc(&t->alloc, (size_t)n);
  if (!der)
    return MAIL_ERR_NOMEM;
  unsigned char *p = der;
  if (i2d_X509(leaf, &p) != n) {
    mail_dealloc(&t->alloc, der);
    return MAIL_ERR_TLS;
  }
  t->peer_der = der;
  t->peer_der_len = (size_t)n;
  return MAIL_OK;
}

static int name_matches(const tls_layer *t, X509 *leaf)
{
  if (t->is_ip)
    return X509_check_ip_asc(leaf, t->host, 0) == 1;
  return X509_check_host(leaf, t->host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

/* 1 when the SHA-256 of the leaf's SubjectPublicKeyInfo is one of the pins. */
static int pin_matches(const mail_tls_config *cfg, X509 *leaf)
{
  unsigned char *spki = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(leaf), &spki);
  if (n <= 0)
    return 0;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  int ok = EVP_Digest(spki, (size_t)n, digest, &dlen, EVP_sha256(), NULL) == 1 &&
           dlen == MAIL_TLS_PIN_LEN;
  OPENSSL_free(spki);
  int found = 0;
  for (size_t i = 0; ok && i < cfg->npins; i++)
    found |= CRYPTO_memcmp(digest, cfg->pins[i], MAIL_TLS_PIN_LEN) == 0;
  return found;
}

/* One name, RFC 2253 style ("CN=localhost,O=libmail tests"). */
static void name_text(const X509_NAME *name, char *out, size_t cap)
{
  out[0] = '\0';
  BIO *b = BIO_new(BIO_s_mem());
  if (!b)
    return;
  if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    if (n > 0 && data)
      snprintf(out, cap, "%.*s", (int)(n < (long)cap ? n : (long)cap - 1), data);
  }
  BIO_free(b);
}

static void describe_names(tls_layer *t, X509 *leaf)
{
  char subject[140], issuer[140];
  name_text(X509_get_subject_name(leaf), subject, sizeof subject);
  name_text(X509_get_issuer_name(leaf), issuer, sizeof issuer);
  snprintf(t->peer_names, sizeof t->peer_names, "subject %s, issuer %s", subject, issuer);
}

/* The chain did not lead to a CA of the trust store. */
static int untrusted(int err)
{
  return err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
         err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
         err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE ||
         err == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
         err == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || err == X509_V_ERR_CERT_UNTRUSTED;
}

/* The failure text of a refused peer: what was checked, against what. */
static int verify_failure(tls_layer *t)
{
  if (untrusted(t->verify_err)) {
    char trust[400];
    mail_tls_config_trust(t->cfg, trust, sizeof trust);
    return mail_conn_fail(t->base.conn, MAIL_ERR_TLS_VERIFY,
                          "TLS: certificate for %s (%s) not trusted by %s (%s)", t->host,
                          t->peer_names, trust, t->verify_reason);
  }
  return mail_conn_fail(t->base.conn, MAIL_ERR_TLS_VERIFY,
                        "TLS: certificate for %s (%s) did not verify: %s", t->host, t->peer_names,
                        t->verify_reason);
}

int mail_tls_verify_chain_cb(X509_STORE_CTX *xs, void *arg)
{
  (void)arg;
  SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
  tls_layer *t = ssl ? SSL_get_ex_data(ssl, ssl_index) : NULL;
  if (!t)
    return 0;
  const mail_tls_config *cfg = t->cfg;
  X509 *leaf = X509_STORE_CTX_get0_cert(xs);
  int rc = leaf ? keep_peer_der(t, leaf) : MAIL_ERR_TLS;
  if (rc != MAIL_OK) {
    t->nomem = rc == MAIL_ERR_NOMEM;
    X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
    return 0;
  }
  if (cfg->insecure)
    return 1; /* encrypted, not authenticated: t->verified stays 0 */

  int ok;
  int err = X509_V_OK;
  if (cfg->pin_only) {
    ok = name_matches(t, leaf);
    if (!ok) {
      err = t->is_ip ? X509_V_ERR_IP_ADDRESS_MISMATCH : X509_V_ERR_HOSTNAME_MISMATCH;
      set_name_reason(t);
    }
  } else {
    ok = X509_verify_cert(xs) == 1;
    if (!ok) {
      err = X509_STORE_CTX_get_error(xs);
      if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH)
        set_name_reason(t);
      else
        set_reason(t, X509_verify_cert_error_string(err));
    }
  }
  if (ok && cfg->pin_only && cfg->npins == 0) {
    ok = 0;
    err = X509_V_ERR_APPLICATION_VERIFICATION;
    set_reason(t, "pin-only mode but no pin is set");
  } else if (ok && cfg->npins && !pin_matches(cfg, leaf)) {
    ok = 0;
    err = X509_V_ERR_APPLICATION_VERIFICATION;
    set_reason(t, "the server's public key matches no pin");
  }

  int accept = ok;
  if (cfg->verify_fn) {
    accept = cfg->verify_fn(cfg->verify_user, ok, ok ? NULL : t->verify_reason, t->peer_der,
                            t->peer_der_len, t->host) == 1;
    if (!accept && ok) {
      err = X509_V_ERR_APPLICATION_VERIFICATION;
      set_reason(t, "refused by the verify callback");
    }
  }
  if (!accept) {
    t->verify_failed = 1;
    t->verify_err = err;
    describe_names(t, leaf);
    X509_STORE_CTX_set_error(xs, err);
    return 0;
  }
  /* Accepted, possibly by the caller's callback overruling a failed check
   * (trust on first use): the caller vouches for this peer. The reason it
   * overruled stays readable. */
  t->verified = 1;
  X509_STORE_CTX_set_error(xs, X509_V_OK);
  return 1;
}

/* ------------------------------------------------------------ sessions */

int mail_tls_new_session_cb(SSL *ssl, SSL_SESSION *session)
{
  tls_layer *t = SSL_get_ex_data(ssl, ssl_index);
  /* Only sessions whose peer we accepted are offered again: a resumed
   * handshake skips the certificate checks. */
  if (!t || !t->session_key || t->verify_failed || (!t->verified && !t->cfg->insecure))
    return 0;
  mail_tls_session_put(t->cfg, t->session_key, session);
  return 1; /* the cache now holds the reference */
}

/* "host:port" from the lower layer's peer address, or the port connected
 * to when the lower layer has no socket. */
static char *make_session_key(tls_layer *t)
{
  char port[16] = "";
  int fd = t->base.lower->ops->fd ? t->base.lower->ops->fd(t->base.lower) : -1;
  if (fd >= 0) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
      if (ss.ss_family == AF_INET)
        snprintf(port, sizeof port, "%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
      else if (ss.ss_family == AF_INET6)
        snprintf(port, sizeof port, "%u", ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
      else if (ss.ss_family == AF_UNIX)
        snprintf(port, sizeof port, "unix");
    }
  }
  /* No socket (feed mode): the port the caller named at connect, so that
   * two services of one host keep their sessions apart as over TCP. */
  if (fd < 0 && mail_conn_port(t->base.conn))
    snprintf(port, sizeof port, "%u", mail_conn_port(t->base.conn));
  size_t n = strlen(t->host) + 1 + strlen(port) + 1;
  char *key = mail_malloc(&t->alloc, n);
  if (key)
    snprintf(key, n, "%s:%s", t->host, port);
  return key;
}

/* ------------------------------------------------------------ status mapping */

static const char *openssl_reason(void)
{
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  return r ? r : "unknown error";
}

/* Turn the result of an SSL_* call into a mail_status (and the failure
 * text of the connection). */
static int map_result(tls_layer *t, int ret, int *want, int in_handshake)
{
  int err = SSL_get_error(t->ssl, ret);
  int rc;
  switch (err) {
  case SSL_ERROR_WANT_READ:
    *want = t->lower_want ? t->lower_want : MAIL_WANT_READ;
    ERR_clear_error();
    return MAIL_ERR_AGAIN;
  case SSL_ERROR_WANT_WRITE:
    *want = t->lower_want ? t->lower_want : MAIL_WANT_WRITE;
    ERR_clear_error();
    return MAIL_ERR_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
    rc = in_handshake ? mail_conn_fail(t->base.conn, MAIL_ERR_TLS,
                                       "TLS handshake with %s: the server closed the connection",
                                       t->host)
                      : MAIL_ERR_CLOSED;
    break;
  default:
    if (t->nomem) {
      rc = MAIL_ERR_NOMEM;
    } else if (in_handshake && t->verify_failed) {
      rc = verify_failure(t);
    } else if (t->lower_rc == MAIL_ERR_CLOSED) {
      rc = in_handshake ? mail_conn_fail(t->base.conn, MAIL_ERR_TLS,
                                         "TLS handshake with %s: the server closed the connection",
                                         t->host)
                        : MAIL_ERR_CLOSED; /* an EOF without close_notify */
    } else if (t->lower_rc != MAIL_OK) {
      rc = t->lower_rc; /* the lower layer's own failure (I/O, timeout) */
    } else if (err == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      rc = in_handshake ? mail_conn_fail(t->base.conn, MAIL_ERR_TLS,
                                         "TLS handshake with %s: the connection ended", t->host)
                        : MAIL_ERR_CLOSED;
    } else {
      rc = mail_conn_fail(t->base.conn, MAIL_ERR_TLS, "TLS %s with %s failed: %s",
                          in_handshake ? "handshake" : "record", t->host, openssl_reason());
    }
  }
  if (rc != MAIL_ERR_CLOSED || in_handshake)
    t->failed = 1;
  ERR_clear_error();
  return rc;
}

static void begin_call(tls_layer *t, int timeout_ms)
{
  t->timeout_ms = timeout_ms;
  t->lower_want = 0;
  t->lower_rc = MAIL_OK;
  ERR_clear_error();
}

/* ------------------------------------------------------------ layer ops */

static int tls_handshake(mail_layer *l, int *want, int timeout_ms)
{
  tls_layer *t = (tls_layer *)l;
  if (t->handshake_done)
    return MAIL_OK;
  if (t->failed)
    return MAIL_ERR_TLS;
  begin_call(t, timeout_ms);
  int ret = SSL_do_handshake(t->ssl);
  if (ret != 1)
    return map_result(t, ret, want, 1);
  t->handshake_done = 1;
  if (SSL_session_reused(t->ssl)) {
    /* No certificate checks ran: the session came from an accepted peer
     * of this same configuration (see mail_tls_new_session_cb). */
    t->verified = !t->cfg->insecure;
    if (keep_peer_der(t, SSL_get0_peer_certificate(t->ssl)) == MAIL_ERR_NOMEM) {
      t->failed = 1;
      return mail_conn_fail(l->conn, MAIL_ERR_NOMEM, "TLS: out of memory");
    }
  }
  ERR_clear_error();
  return MAIL_OK;
}

static int tls_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                    int timeout_ms)
{
  tls_layer *t = (tls_layer *)l;
  *got = 0;
  if (!t->handshake_done) {
    int rc = tls_handshake(l, want, timeout_ms);
    if (rc)
      return rc;
  }
  begin_call(t, timeout_ms);
  int ret = SSL_read_ex(t->ssl, buf, len, got);
  if (ret == 1)
    return MAIL_OK;
  *got = 0;
  return map_result(t, ret, want, 0);
}

static int tls_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written,
                     int *want, int timeout_ms)
{
  tls_layer *t = (tls_layer *)l;
  *written = 0;
  if (!t->handshake_done) {
    int rc = tls_handshake(l, want, timeout_ms);
    if (rc)
      return rc;
  }
  begin_call(t, timeout_ms);
  int ret = SSL_write_ex(t->ssl, buf, len, written);
  if (ret == 1)
    return MAIL_OK;
  *written = 0;
  return map_result(t, ret, want, 0);
}

static int tls_fd(const mail_layer *l)
{
  const mail_layer *lower = l->lower;
  return lower && lower->ops->fd ? lower->ops->fd(lower) : -1;
}

static void tls_destroy(mail_layer *l)
{
  tls_layer *t = (tls_layer *)l;
  if (t->ssl) {
    if (t->handshake_done && !t->failed) {
      /* One polite close_notify, never waited for; it also keeps the
       * session resumable. */
      begin_call(t, 0);
      (void)SSL_shutdown(t->ssl);
    }
    SSL_free(t->ssl);
    ERR_clear_error();
  }
  mail_dealloc(&t->alloc, t->peer_der);
  mail_dealloc(&t->alloc, t->host);
  mail_dealloc(&t->alloc, t->session_key);
  mail_tls_config_free(t->cfg);
  mail_layer *lower = l->lower;
  mail_allocator a = t->alloc;
  mail_dealloc(&a, t);
  if (lower)
    lower->ops->destroy(lower);
}

/* Decrypted bytes or a record OpenSSL read and has not handed out; before
 * the handshake is done, say so too (reading drives the handshake). */
static int tls_pending(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return !t->handshake_done || SSL_has_pending(t->ssl);
}

static const mail_layer_ops tls_ops = {
  .name = "tls",
  .read = tls_read,
  .write = tls_write,
  .handshake = tls_handshake,
  .fd = tls_fd,
  .pending = tls_pending,
  .destroy = tls_destroy,
};

/* ------------------------------------------------------------ construction */

static int looks_like_ip(const char *host)
{
  unsigned char addr[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* Free a layer that never got its lower layer (construction failed). */
static void free_unfinished(tls_layer *t)
{
  SSL_free(t->ssl);
  ERR_clear_error();
  mail_dealloc(&t->alloc, t->host);
  mail_dealloc(&t->alloc, t->session_key);
  mail_allocator a = t->alloc;
  mail_dealloc(&a, t);
}

int mail_tls_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower, mail_tls_config *cfg,
                       const char *server_name)
{
  if (!out || !conn || !lower || !cfg)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (!server_name && !cfg->insecure)
    return mail_conn_fail(conn, MAIL_ERR_INVALID, "TLS needs a server name to verify");
  if (mail_tls_global_init() != MAIL_OK)
    return mail_conn_fail(conn, MAIL_ERR_INTERNAL, "TLS: OpenSSL initialisation failed");

  const mail_allocator *alloc = &mail_conn_env(conn)->alloc;
  tls_layer *t = mail_calloc(alloc, 1, sizeof *t);
  if (!t)
    return MAIL_ERR_NOMEM;
  t->alloc = *alloc;
  t->base.ops = &tls_ops;
  t->base.lower = lower;
  t->base.conn = conn;

  const char *name = server_name ? server_name : "";
  size_t n = strlen(name);
  if (n >= 2 && name[0] == '[' && name[n - 1] == ']') {
    name++;
    n -= 2;
  }
  if (mail_has_crlfnul(name, n) || n > 255) {
    free_unfinished(t);
    return mail_conn_fail(conn, MAIL_ERR_INVALID, "TLS: invalid server name");
  }
  t->host = mail_strndup(alloc, name, n);
  if (!t->host) {
    free_unfinished(t);
    return MAIL_ERR_NOMEM;
  }
  t->is_ip = looks_like_ip(t->host);

  SSL_CTX *ctx = NULL;
  const char *why = NULL;
  int rc = mail_tls_config_context(cfg, &ctx, &why);
  if (rc) {
    free_unfinished(t);
    return rc == MAIL_ERR_NOMEM ? MAIL_ERR_NOMEM
                                : mail_conn_fail(conn, rc, "TLS setup failed: %s", why);
  }
  t->cfg = cfg;

  t->ssl = SSL_new(ctx);
  BIO *bio = t->ssl ? BIO_new(bio_method) : NULL;
  if (!bio || SSL_set_ex_data(t->ssl, ssl_index, t) != 1) {
    BIO_free(bio);
    free_unfinished(t);
    return MAIL_ERR_NOMEM;
  }
  BIO_set_data(bio, t);
  SSL_set_bio(t->ssl, bio, bio); /* one reference, owned by the SSL */
  SSL_set_connect_state(t->ssl);
  /* Read what has arrived in one call, not each record's 5-byte header
   * and then its body: one system call per arriving reply, as in the
   * clear. What is read ahead stays inside OpenSSL, and tls_pending (by
   * SSL_has_pending) tells the driver that data waits. */
  SSL_set_read_ahead(t->ssl, 1);

  int ok = 1;
  if (t->is_ip) {
    /* No SNI for address literals (RFC 6066); match an IP SAN instead. */
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), t->host) == 1;
  } else if (*t->host) {
    ok = SSL_set_tlsext_host_name(t->ssl, t->host) == 1 && SSL_set1_host(t->ssl, t->host) == 1;
    SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
  if (!ok) {
    free_unfinished(t);
    return mail_conn_fail(conn, MAIL_ERR_INVALID, "TLS: cannot use the server name");
  }

  if (cfg->resumption && *t->host) {
    t->session_key = make_session_key(t);
    if (!t->session_key) {
      free_unfinished(t);
      return MAIL_ERR_NOMEM;
    }
    SSL_SESSION *s = mail_tls_session_get(cfg, t->session_key);
    if (s) {
      (void)SSL_set_session(t->ssl, s);
      SSL_SESSION_free(s);
    }
  }
  ERR_clear_error();
  mail_tls_config_ref(cfg);
  *out = &t->base;
  return MAIL_OK;
}

/* ------------------------------------------------------------ facts */

int mail_layer_is_tls(const mail_layer *l) { return l && l->ops == &tls_ops; }

int mail_tls_layer_verified(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return mail_layer_is_tls(l) && t->handshake_done && t->verified;
}

const char *mail_tls_layer_version(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return mail_layer_is_tls(l) && t->handshake_done ? SSL_get_version(t->ssl) : NULL;
}

const char *mail_tls_layer_cipher(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return mail_layer_is_tls(l) && t->handshake_done ? SSL_get_cipher_name(t->ssl) : NULL;
}

int mail_tls_layer_resumed(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return mail_layer_is_tls(l) && t->handshake_done && SSL_session_reused(t->ssl);
}

int mail_tls_layer_peer_certificate(const mail_layer *l, const unsigned char **der, size_t *len)
{
  const tls_layer *t = (const tls_layer *)l;
  if (!der || !len)
    return MAIL_ERR_INVALID;
  *der = NULL;
  *len = 0;
  if (!mail_layer_is_tls(l) || !t->peer_der)
    return MAIL_ERR_NOT_FOUND;
  *der = t->peer_der;
  *len = t->peer_der_len;
  return MAIL_OK;
}

const char *mail_tls_layer_verify_error(const mail_layer *l)
{
  const tls_layer *t = (const tls_layer *)l;
  return mail_layer_is_tls(l) && t->verify_reason[0] ? t->verify_reason : NULL;
}

/* RFC 5929 section 4.1: the certificate's signature hash, SHA-256 instead
 * of MD5 or SHA-1; undefined (unsupported) without a single hash. */
static int server_end_point(const tls_layer *t, unsigned char *out, size_t cap, size_t *len)
{
  X509 *cert = SSL_get0_peer_certificate(t->ssl);
  int md_nid = NID_undef;
  if (!cert || X509_get_signature_info(cert, &md_nid, NULL, NULL, NULL) != 1 || md_nid == NID_undef)
    return MAIL_ERR_UNSUPPORTED;
  if (md_nid == NID_md5 || md_nid == NID_sha1)
    md_nid = NID_sha256;
  const EVP_MD *md = EVP_get_digestbynid(md_nid);
  if (!md)
    return MAIL_ERR_UNSUPPORTED;
  size_t need = (size_t)EVP_MD_get_size(md);
  *len = need;
  if (cap < need)
    return MAIL_ERR_BUFFER;
  unsigned int n = 0;
  if (X509_digest(cert, md, out, &n) != 1 || n != need)
    return MAIL_ERR_INTERNAL;
  return MAIL_OK;
}

/* RFC 9266: 32 bytes exported under "EXPORTER-Channel-Binding", only where
 * the exporter is unique to the connection (TLS 1.3, or 1.2 with EMS). */
static int exporter(const tls_layer *t, unsigned char *out, size_t cap, size_t *len)
{
  static const char label[] = "EXPORTER-Channel-Binding";
  int v = SSL_version(t->ssl);
  if (v != TLS1_3_VERSION && !(v == TLS1_2_VERSION && SSL_get_extms_support(t->ssl) == 1))
    return MAIL_ERR_UNSUPPORTED;
  *len = 32;
  if (cap < 32)
    return MAIL_ERR_BUFFER;
  if (SSL_export_keying_material(t->ssl, out, 32, label, sizeof label - 1, NULL, 0, 0) != 1)
    return MAIL_ERR_INTERNAL;
  return MAIL_OK;
}

/* RFC 5929 section 3.1: the first Finished message of the latest
 * handshake: ours (the client's) on a full handshake, the server's on an
 * abbreviated (resumed) one. Not defined for TLS 1.3 (RFC 9266). A resumed
 * session without the extended master secret is refused: the triple
 * handshake (RFC 7627) lets an attacker resume two sessions with the same
 * master secret and so the same Finished messages. Renegotiation, which
 * would change the value mid-connection, is off (tls_openssl_config.c). */
static int tls_unique(const tls_layer *t, unsigned char *out, size_t cap, size_t *len)
{
  if (SSL_version(t->ssl) != TLS1_2_VERSION) /* 1.2 is the oldest we negotiate */
    return MAIL_ERR_UNSUPPORTED;
  int resumed = SSL_session_reused(t->ssl) == 1;
  if (resumed && SSL_get_extms_support(t->ssl) != 1)
    return MAIL_ERR_UNSUPPORTED;
  unsigned char fin[EVP_MAX_MD_SIZE];
  size_t n = resumed ? SSL_get_peer_finished(t->ssl, fin, sizeof fin)
                     : SSL_get_finished(t->ssl, fin, sizeof fin);
  if (n == 0 || n > sizeof fin)
    return MAIL_ERR_UNSUPPORTED;
  *len = n;
  if (cap < n)
    return MAIL_ERR_BUFFER;
  memcpy(out, fin, n);
  return MAIL_OK;
}

int mail_tls_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                   size_t *len)
{
  const tls_layer *t = (const tls_layer *)l;
  if (!len || (!out && cap))
    return MAIL_ERR_INVALID;
  *len = 0;
  if (!mail_layer_is_tls(l) || !t->handshake_done)
    return MAIL_ERR_UNSUPPORTED;
  int rc;
  if (type == MAIL_CB_TLS_EXPORTER)
    rc = exporter(t, out, cap, len);
  else if (type == MAIL_CB_TLS_SERVER_END_POINT)
    rc = server_end_point(t, out, cap, len);
  else if (type == MAIL_CB_TLS_UNIQUE)
    rc = tls_unique(t, out, cap, len);
  else
    rc = MAIL_ERR_INVALID;
  ERR_clear_error();
  return rc;
}

/*
 * Unit tests for the TLS transport: the mail_tls_config API, and the TLS
 * layer driven through full handshakes against an in-memory OpenSSL server
 * (no sockets): verification, names, IP literals, pins, pin-only mode, the
 * verify callback, client certificates, versions, session resumption and
 * channel binding. The fixtures are in tests/data/tls (see make.sh there).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "core/base64.h"
#include "core/conn_internal.h"
#include "core/mem.h"
#include "net/tls.h"
#include "../support/alloc.h"
#include "each_alloc.h"

#define DATA MAIL_SRCDIR "/tests/data/tls/"

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  char *buf = malloc(65536);
  size_t n = fread(buf, 1, 65535, f);
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}

/* base64 SHA-256 of a certificate file's SubjectPublicKeyInfo. */
static void pin_of(const char *path, char out[64])
{
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  ck_assert_ptr_nonnull(x);
  unsigned char *spki = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  unsigned char d[32];
  unsigned int dl = 0;
  ck_assert_int_eq(EVP_Digest(spki, (size_t)n, d, &dl, EVP_sha256(), NULL), 1);
  OPENSSL_free(spki);
  X509_free(x);
  size_t k = mail_b64_encode(d, 32, out);
  out[k] = 0;
}

/* ------------------------------------------------------------ config API */

START_TEST(config_new_free_ref)
{
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  mail_tls_config_ref(cfg);
  mail_tls_config_free(cfg);
  mail_tls_config_free(cfg);
  mail_tls_config_free(NULL);
  ck_assert_int_eq(mail_tls_config_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_ca_file(NULL, DATA "ca.pem"), MAIL_ERR_INVALID);
}
END_TEST

START_TEST(config_ca_sources)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "no-such-file.pem"), MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "make.sh"), MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ""), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "ca.pem"), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_path(cfg, DATA "no-such-dir"), MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_ca_path(cfg, DATA "ca.pem"), MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_ca_path(cfg, DATA), MAIL_OK);

  size_t len;
  char *pem = slurp(DATA "ca.pem", &len);
  ck_assert_int_eq(mail_tls_config_set_ca_mem(cfg, pem, len), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_mem(cfg, "not a certificate", 17), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_set_ca_mem(cfg, pem, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_ca_mem(cfg, pem, len / 2), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_set_ca_mem(cfg, NULL, 5), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_system_ca(cfg, 1), MAIL_OK);
  free(pem);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(config_pins_and_modes)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  char pin[64], prefixed[80];
  pin_of(DATA "server.pem", pin);
  snprintf(prefixed, sizeof prefixed, "sha256//%s", pin);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, pin), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, prefixed), MAIL_OK);
  /* Wrong length, wrong alphabet, no padding, other hash names, empty. */
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, "AAAA"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, ""), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, NULL), MAIL_ERR_INVALID);
  char bad[80];
  memcpy(bad, pin, sizeof pin);
  bad[5] = '*';
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, bad), MAIL_ERR_SYNTAX);
  memcpy(bad, pin, sizeof pin);
  bad[43] = 'A'; /* no '=': 44 characters decode to 33 bytes */
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, bad), MAIL_ERR_SYNTAX);
  snprintf(bad, sizeof bad, "sha1//%s", pin);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, bad), MAIL_ERR_SYNTAX);
  /* At most 32 pins. */
  int rc = MAIL_OK, added = 2;
  while (rc == MAIL_OK && added < 100) {
    rc = mail_tls_config_add_pin_sha256(cfg, pin);
    if (rc == MAIL_OK)
      added++;
  }
  ck_assert_int_eq(rc, MAIL_ERR_INVALID);
  ck_assert_int_eq(added, 32);

  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, MAIL_TLS_1_3), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, MAIL_TLS_1_2), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, 0x0302), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_pin_only(cfg, 1), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_session_resumption(cfg, 0), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_insecure_no_verify(cfg, 1), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_verify_callback(cfg, NULL, NULL), MAIL_OK);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(config_client_cert_files)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client.key", NULL),
                   MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client-enc.key",
                                                        "test-passphrase"),
                   MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client-enc.key",
                                                        "wrong-passphrase"),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client-enc.key", NULL),
                   MAIL_ERR_INVALID);
  /* The key of another certificate. */
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "other.key", NULL),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "missing.pem", DATA "client.key", NULL),
                   MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "missing.key", NULL),
                   MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "make.sh", DATA "client.key", NULL),
                   MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "ca.pem", NULL),
                   MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA, DATA "client.key", NULL),
                   MAIL_ERR_FILE);
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, NULL, DATA "client.key", NULL),
                   MAIL_ERR_INVALID);
  mail_tls_config_free(cfg);
}
END_TEST

START_TEST(config_client_cert_mem)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  size_t cl, kl, el;
  char *cert = slurp(DATA "client.pem", &cl);
  char *key = slurp(DATA "client.key", &kl);
  char *enc = slurp(DATA "client-enc.key", &el);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, cert, cl, key, kl, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, cert, cl, enc, el, "test-passphrase"), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, cert, cl, enc, el, "nope"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, "junk", 4, key, kl, NULL), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, cert, cl, "junk", 4, NULL), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_tls_config_set_client_cert_mem(cfg, cert, cl, key, 0, NULL), MAIL_ERR_INVALID);
  free(cert);
  free(key);
  free(enc);
  mail_tls_config_free(cfg);
}
END_TEST

/* ------------------------------------------------------------ in-memory server */

/* A lower layer whose peer is an OpenSSL server in this process. */
typedef struct mem_peer {
  mail_layer base;
  SSL *srv;
  BIO *in, *out; /* the server's read and write memory BIOs */
  unsigned char s2c[65536];
  size_t s2c_len;
  int srv_done, srv_failed, greeted;
} mem_peer;

static void pump(mem_peer *p)
{
  if (!p->srv_done && !p->srv_failed) {
    int r = SSL_do_handshake(p->srv);
    if (r == 1) {
      p->srv_done = 1;
    } else {
      int e = SSL_get_error(p->srv, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        p->srv_failed = 1;
    }
  }
  if (p->srv_done && !p->greeted) {
    ck_assert_int_eq(SSL_write(p->srv, "* hello\r\n", 9), 9);
    p->greeted = 1;
  }
  if (p->srv_done) {
    char sink[256];
    while (SSL_read(p->srv, sink, sizeof sink) > 0) {
    }
  }
  int n;
  while (p->s2c_len < sizeof p->s2c &&
         (n = BIO_read(p->out, p->s2c + p->s2c_len, (int)(sizeof p->s2c - p->s2c_len))) > 0)
    p->s2c_len += (size_t)n;
  ERR_clear_error();
}

static int peer_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want, int t)
{
  (void)t;
  mem_peer *p = (mem_peer *)l;
  pump(p);
  if (p->s2c_len == 0) {
    if (p->srv_failed)
      return MAIL_ERR_CLOSED;
    *want = MAIL_WANT_READ;
    return MAIL_ERR_AGAIN;
  }
  size_t n = len < p->s2c_len ? len : p->s2c_len;
  memcpy(buf, p->s2c, n);
  memmove(p->s2c, p->s2c + n, p->s2c_len - n);
  p->s2c_len -= n;
  *got = n;
  return MAIL_OK;
}

static int peer_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written, int *want,
                      int t)
{
  (void)want;
  (void)t;
  mem_peer *p = (mem_peer *)l;
  ck_assert_int_eq(BIO_write(p->in, buf, (int)len), (int)len);
  *written = len;
  pump(p);
  return MAIL_OK;
}

static int peer_fd(const mail_layer *l)
{
  (void)l;
  return -1;
}

static void peer_destroy(mail_layer *l)
{
  mem_peer *p = (mem_peer *)l;
  SSL_free(p->srv);
  free(p);
}

static const mail_layer_ops peer_ops = {"mem-peer", peer_read, peer_write, NULL, peer_fd,
                                        peer_destroy, NULL};

static SSL_CTX *server_ctx(const char *cert, const char *key, int max_version, int want_client_cert)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  ck_assert_ptr_nonnull(ctx);
  ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(ctx, cert), 1);
  ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
  if (max_version)
    SSL_CTX_set_max_proto_version(ctx, max_version);
  if (want_client_cert) {
    ck_assert_int_eq(SSL_CTX_load_verify_locations(ctx, DATA "ca.pem", NULL), 1);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
  return ctx;
}

static mem_peer *peer_new(SSL_CTX *ctx)
{
  mem_peer *p = calloc(1, sizeof *p);
  p->base.ops = &peer_ops;
  p->srv = SSL_new(ctx);
  p->in = BIO_new(BIO_s_mem());
  p->out = BIO_new(BIO_s_mem());
  SSL_set_bio(p->srv, p->in, p->out);
  SSL_set_accept_state(p->srv);
  return p;
}

/* Allocator for the connections and configurations made below (NULL: libc). */
static const mail_allocator *hooks;

typedef struct session {
  mail_conn *conn;
  mail_layer *tls;
  mem_peer *peer;
} session;

/* Build the TLS layer over a fresh in-memory server and run the handshake
 * to its end; returns its status. */
static int start(session *s, SSL_CTX *sctx, mail_tls_config *cfg, const char *name)
{
  memset(s, 0, sizeof *s);
  int rc = mail_conn_new(&s->conn, hooks);
  if (rc)
    return rc;
  s->peer = peer_new(sctx);
  rc = mail_tls_layer_new(&s->tls, s->conn, &s->peer->base, cfg, name);
  if (rc) {
    peer_destroy(&s->peer->base);
    s->peer = NULL;
    return rc;
  }
  ck_assert(mail_layer_is_tls(s->tls));
  int want = 0;
  for (int i = 0; i < 100; i++) {
    rc = s->tls->ops->handshake(s->tls, &want, 0);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    ck_assert_int_ne(want, 0);
  }
  ck_abort_msg("handshake did not finish");
  return MAIL_ERR_INTERNAL;
}

/* Read the server's greeting through the layer (this also takes in the
 * TLS 1.3 session tickets the server sent before it). */
static void read_greeting(session *s)
{
  unsigned char buf[64];
  size_t got = 0;
  int want = 0, rc = MAIL_ERR_AGAIN;
  for (int i = 0; i < 100 && rc == MAIL_ERR_AGAIN; i++)
    rc = s->tls->ops->read(s->tls, buf, sizeof buf, &got, &want, 0);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(got, 9);
  ck_assert_int_eq(memcmp(buf, "* hello\r\n", 9), 0);
}

static void finish(session *s)
{
  if (s->tls)
    s->tls->ops->destroy(s->tls);
  mail_conn_free(s->conn);
}

static mail_tls_config *ca_config(void)
{
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, DATA "ca.pem"), MAIL_OK);
  return cfg;
}

START_TEST(layer_verified_by_ca)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  mail_tls_config *cfg = ca_config();
  session s;
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_OK);
  read_greeting(&s);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  ck_assert_str_eq(mail_tls_layer_version(s.tls), "TLSv1.3");
  ck_assert_ptr_nonnull(mail_tls_layer_cipher(s.tls));
  ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 0);
  ck_assert_ptr_null(mail_tls_layer_verify_error(s.tls));
  const unsigned char *der;
  size_t len;
  ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &len), MAIL_OK);
  ck_assert_uint_gt(len, 100);
  /* Write through the layer and see the server get it. */
  size_t w = 0;
  int want = 0;
  ck_assert_int_eq(s.tls->ops->write(s.tls, (const unsigned char *)"a1 NOOP\r\n", 9, &w, &want, 0),
                   MAIL_OK);
  ck_assert_uint_eq(w, 9);
  /* Frozen after first use. */
  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, MAIL_TLS_1_3), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                   MAIL_ERR_STATE);
  finish(&s);
  /* IP literals match the certificate's IP SANs. */
  ck_assert_int_eq(start(&s, sctx, cfg, "127.0.0.1"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  finish(&s);
  ck_assert_int_eq(start(&s, sctx, cfg, "::1"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  finish(&s);
  ck_assert_int_eq(start(&s, sctx, cfg, "[::1]"), MAIL_OK);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
}
END_TEST

START_TEST(layer_verify_failures)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  SSL_CTX *other = server_ctx(DATA "other.pem", DATA "other.key", 0, 0);
  mail_tls_config *cfg = ca_config();
  session s;
  /* Wrong host name: certificate kept, reason names the host. */
  ck_assert_int_eq(start(&s, sctx, cfg, "wrong.example"), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 0);
  ck_assert_ptr_nonnull(strstr(mail_tls_layer_verify_error(s.tls), "wrong.example"));
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(s.conn), "wrong.example"));
  const unsigned char *der;
  size_t len;
  ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &len), MAIL_OK);
  finish(&s);
  /* Wrong IP. */
  ck_assert_int_eq(start(&s, sctx, cfg, "127.0.0.2"), MAIL_ERR_TLS_VERIFY);
  finish(&s);
  /* A certificate no CA vouches for. */
  ck_assert_int_eq(start(&s, other, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  ck_assert_ptr_nonnull(mail_tls_layer_verify_error(s.tls));
  ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &len), MAIL_OK);
  finish(&s);
  mail_tls_config_free(cfg);
  /* Without our CA (system store only). */
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(s.conn), "localhost"));
  finish(&s);
  /* No server name with verification on. */
  ck_assert_int_eq(start(&s, sctx, cfg, NULL), MAIL_ERR_INVALID);
  finish(&s);
  ck_assert_int_eq(start(&s, sctx, cfg, "bad\r\nname"), MAIL_ERR_INVALID);
  finish(&s);
  mail_tls_config_free(cfg);
  /* The insecure opt-out connects, unverified. */
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_insecure_no_verify(cfg, 1), MAIL_OK);
  ck_assert_int_eq(start(&s, other, cfg, "wrong.example"), MAIL_OK);
  read_greeting(&s);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 0);
  ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &len), MAIL_OK);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
  SSL_CTX_free(other);
}
END_TEST

START_TEST(layer_pins)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  SSL_CTX *other = server_ctx(DATA "other.pem", DATA "other.key", 0, 0);
  char pin[64], other_pin[64];
  pin_of(DATA "server.pem", pin);
  pin_of(DATA "other.pem", other_pin);
  session s;

  /* Pin in addition to the CA: match, and mismatch. */
  mail_tls_config *cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, other_pin), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, pin), MAIL_OK);
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  finish(&s);
  mail_tls_config_free(cfg);
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, other_pin), MAIL_OK);
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  ck_assert_ptr_nonnull(strstr(mail_tls_layer_verify_error(s.tls), "pin"));
  finish(&s);
  mail_tls_config_free(cfg);

  /* Pin-only: no CA needed, the name is still checked. */
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_pin_only(cfg, 1), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_add_pin_sha256(cfg, other_pin), MAIL_OK);
  ck_assert_int_eq(start(&s, other, cfg, "localhost"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  finish(&s);
  ck_assert_int_eq(start(&s, other, cfg, "wrong.example"), MAIL_ERR_TLS_VERIFY);
  finish(&s);
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  finish(&s);
  mail_tls_config_free(cfg);
  /* Pin-only without a pin refuses everything. */
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_pin_only(cfg, 1), MAIL_OK);
  ck_assert_int_eq(start(&s, other, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
  SSL_CTX_free(other);
}
END_TEST

typedef struct tofu {
  int calls, last_preverify, answer;
  char reason[256];
  char host[64];
  size_t der_len;
} tofu;

static int tofu_cb(void *user, int preverify_ok, const char *reason, const unsigned char *der,
                   size_t der_len, const char *host)
{
  tofu *t = user;
  t->calls++;
  t->last_preverify = preverify_ok;
  snprintf(t->reason, sizeof t->reason, "%s", reason ? reason : "");
  snprintf(t->host, sizeof t->host, "%s", host);
  t->der_len = der && der_len ? der_len : 0;
  return t->answer;
}

START_TEST(layer_verify_callback)
{
  SSL_CTX *other = server_ctx(DATA "other.pem", DATA "other.key", 0, 0);
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  session s;
  tofu t = {0};
  mail_tls_config *cfg;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_verify_callback(cfg, tofu_cb, &t), MAIL_OK);
  t.answer = 1; /* trust on first use */
  ck_assert_int_eq(start(&s, other, cfg, "localhost"), MAIL_OK);
  ck_assert_int_eq(t.calls, 1);
  ck_assert_int_eq(t.last_preverify, 0);
  ck_assert_str_ne(t.reason, "");
  ck_assert_str_eq(t.host, "localhost");
  ck_assert_uint_gt(t.der_len, 0);
  ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
  finish(&s);
  t.answer = 0;
  ck_assert_int_eq(start(&s, other, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(t.calls, 2);
  finish(&s);
  mail_tls_config_free(cfg);
  /* Refusing a peer the CA vouches for. */
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_set_verify_callback(cfg, tofu_cb, &t), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_session_resumption(cfg, 0), MAIL_OK);
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_ERR_TLS_VERIFY);
  ck_assert_int_eq(t.last_preverify, 1);
  ck_assert_str_eq(t.reason, "");
  ck_assert_ptr_nonnull(strstr(mail_tls_layer_verify_error(s.tls), "callback"));
  finish(&s);
  t.answer = 1;
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_OK);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(other);
  SSL_CTX_free(sctx);
}
END_TEST

START_TEST(layer_versions_and_client_cert)
{
  session s;
  /* Server stops at 1.2: fine by default, refused with a 1.3 minimum. */
  SSL_CTX *tls12 = server_ctx(DATA "server.pem", DATA "server.key", TLS1_2_VERSION, 0);
  mail_tls_config *cfg = ca_config();
  ck_assert_int_eq(start(&s, tls12, cfg, "localhost"), MAIL_OK);
  ck_assert_str_eq(mail_tls_layer_version(s.tls), "TLSv1.2");
  /* TLS 1.2 with extended master secret (OpenSSL's default) exports. */
  unsigned char cb[64];
  size_t cbl = 0;
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &cbl), MAIL_OK);
  ck_assert_uint_eq(cbl, 32);
  /* tls-unique on a full handshake: the client's Finished, as the server
   * received it. */
  unsigned char fin[64];
  size_t fin_len = SSL_get_peer_finished(s.peer->srv, fin, sizeof fin);
  ck_assert_uint_gt(fin_len, 0);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, fin_len - 1, &cbl),
                   MAIL_ERR_BUFFER);
  ck_assert_uint_eq(cbl, fin_len);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &cbl), MAIL_OK);
  ck_assert_uint_eq(cbl, fin_len);
  ck_assert_int_eq(memcmp(cb, fin, fin_len), 0);
  finish(&s);
  mail_tls_config_free(cfg);
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_set_min_version(cfg, MAIL_TLS_1_3), MAIL_OK);
  ck_assert_int_eq(start(&s, tls12, cfg, "localhost"), MAIL_ERR_TLS);
  ck_assert_str_ne(mail_conn_last_error(s.conn), "");
  finish(&s);
  mail_tls_config_free(cfg);
  /* TLS 1.2 without EMS: no tls-exporter. */
  SSL_CTX_set_options(tls12, SSL_OP_NO_EXTENDED_MASTER_SECRET);
  cfg = ca_config();
  ck_assert_int_eq(start(&s, tls12, cfg, "localhost"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &cbl),
                   MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_SERVER_END_POINT, cb, sizeof cb, &cbl),
                   MAIL_OK);
  /* A full handshake without EMS still has a tls-unique of its own. */
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &cbl), MAIL_OK);
  read_greeting(&s);
  finish(&s);
  /* Resumed without EMS: the triple handshake could give another
   * connection the same Finished messages, so no tls-unique. */
  ck_assert_int_eq(start(&s, tls12, cfg, "localhost"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 1);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &cbl),
                   MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_SERVER_END_POINT, cb, sizeof cb, &cbl),
                   MAIL_OK);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(tls12);

  /* A server that demands a client certificate. */
  SSL_CTX *mtls = server_ctx(DATA "server.pem", DATA "server.key", 0, 1);
  cfg = ca_config();
  ck_assert_int_eq(start(&s, mtls, cfg, "localhost"), MAIL_OK);
  /* TLS 1.3: the server's refusal arrives after the client's handshake. */
  unsigned char buf[64];
  size_t got;
  int want, rc = MAIL_ERR_AGAIN;
  for (int i = 0; i < 50 && rc == MAIL_ERR_AGAIN; i++)
    rc = s.tls->ops->read(s.tls, buf, sizeof buf, &got, &want, 0);
  ck_assert(rc == MAIL_ERR_TLS || rc == MAIL_ERR_CLOSED);
  finish(&s);
  mail_tls_config_free(cfg);
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client-enc.key",
                                                        "test-passphrase"),
                   MAIL_OK);
  ck_assert_int_eq(start(&s, mtls, cfg, "localhost"), MAIL_OK);
  read_greeting(&s);
  X509 *seen = SSL_get1_peer_certificate(s.peer->srv);
  ck_assert_ptr_nonnull(seen);
  X509_free(seen);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(mtls);
}
END_TEST

START_TEST(layer_session_resumption)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  SSL_CTX *tls12 = server_ctx(DATA "server.pem", DATA "server.key", TLS1_2_VERSION, 0);
  mail_tls_config *cfg = ca_config();
  session s;
  for (int round = 0; round < 2; round++) {
    SSL_CTX *ctx = round ? tls12 : sctx;
    const char *name = round ? "127.0.0.1" : "localhost";
    ck_assert_int_eq(start(&s, ctx, cfg, name), MAIL_OK);
    ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 0);
    read_greeting(&s);
    finish(&s);
    ck_assert_int_eq(start(&s, ctx, cfg, name), MAIL_OK);
    ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 1);
    ck_assert_int_eq(mail_tls_layer_verified(s.tls), 1);
    unsigned char cb[64], fin[64];
    size_t cbl = 0;
    if (round) {
      /* tls-unique on a resumed TLS 1.2 handshake (with EMS): the server's
       * Finished, which comes first there. */
      size_t fin_len = SSL_get_finished(s.peer->srv, fin, sizeof fin);
      ck_assert_uint_gt(fin_len, 0);
      ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &cbl),
                       MAIL_OK);
      ck_assert_uint_eq(cbl, fin_len);
      ck_assert_int_eq(memcmp(cb, fin, fin_len), 0);
    } else {
      ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &cbl),
                       MAIL_ERR_UNSUPPORTED);
    }
    const unsigned char *der;
    size_t len;
    ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &len), MAIL_OK);
    read_greeting(&s);
    finish(&s);
  }
  /* Another name: a session of its own. */
  ck_assert_int_eq(start(&s, sctx, cfg, "::1"), MAIL_OK);
  ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 0);
  finish(&s);
  mail_tls_config_free(cfg);
  /* Resumption off. */
  cfg = ca_config();
  ck_assert_int_eq(mail_tls_config_set_session_resumption(cfg, 0), MAIL_OK);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_OK);
    ck_assert_int_eq(mail_tls_layer_resumed(s.tls), 0);
    read_greeting(&s);
    finish(&s);
  }
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
  SSL_CTX_free(tls12);
}
END_TEST

START_TEST(layer_channel_binding)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  mail_tls_config *cfg = ca_config();
  session s;
  ck_assert_int_eq(start(&s, sctx, cfg, "localhost"), MAIL_OK);
  unsigned char cb[64], expect[64];
  size_t len = 0;
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_EXPORTER, cb, 31, &len), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(len, 32);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_EXPORTER, cb, sizeof cb, &len), MAIL_OK);
  ck_assert_uint_eq(len, 32);
  ck_assert_int_eq(SSL_export_keying_material(s.peer->srv, expect, 32, "EXPORTER-Channel-Binding", 24,
                                              NULL, 0, 0),
                   1);
  ck_assert_int_eq(memcmp(cb, expect, 32), 0);

  /* tls-server-end-point: the certificate is signed with SHA-256. */
  const unsigned char *der;
  size_t der_len;
  ck_assert_int_eq(mail_tls_layer_peer_certificate(s.tls, &der, &der_len), MAIL_OK);
  unsigned int el = 0;
  ck_assert_int_eq(EVP_Digest(der, der_len, expect, &el, EVP_sha256(), NULL), 1);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_SERVER_END_POINT, cb, sizeof cb, &len),
                   MAIL_OK);
  ck_assert_uint_eq(len, 32);
  ck_assert_int_eq(memcmp(cb, expect, 32), 0);
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, 99, cb, sizeof cb, &len), MAIL_ERR_INVALID);
  /* TLS 1.3: tls-unique is not defined (RFC 9266). */
  ck_assert_str_eq(mail_tls_layer_version(s.tls), "TLSv1.3");
  ck_assert_int_eq(mail_tls_layer_channel_binding(s.tls, MAIL_CB_TLS_UNIQUE, cb, sizeof cb, &len),
                   MAIL_ERR_UNSUPPORTED);
  finish(&s);
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
}
END_TEST

/* Every allocation the layer and the configuration make goes through the
 * caller's hooks: fail each one in turn; every run ends in a clean error
 * with nothing left allocated, and no freed block holds the client key. */
static int full_run(mail_test_alloc *ta, SSL_CTX *sctx, const char *key_pem, size_t key_len,
                    const char *cert_pem, size_t cert_len)
{
  hooks = mail_test_alloc_hooks(ta);
  mail_tls_config *cfg = NULL;
  session s = {0};
  int rc = mail_tls_config_new(&cfg, hooks);
  if (rc == MAIL_OK)
    rc = mail_tls_config_set_ca_file(cfg, DATA "ca.pem");
  if (rc == MAIL_OK)
    rc = mail_tls_config_set_client_cert_file(cfg, DATA "client.pem", DATA "client.key", NULL);
  if (rc == MAIL_OK)
    rc = mail_tls_config_set_client_cert_mem(cfg, cert_pem, cert_len, key_pem, key_len, NULL);
  for (int round = 0; rc == MAIL_OK && round < 2; round++) {
    rc = start(&s, sctx, cfg, "localhost");
    if (rc == MAIL_OK)
      read_greeting(&s);
    finish(&s);
    memset(&s, 0, sizeof s);
  }
  mail_tls_config_free(cfg);
  hooks = NULL;
  return rc;
}

typedef struct tls_nomem_ctx {
  SSL_CTX *sctx;
  const char *key;
  size_t kl;
  const char *cert;
  size_t cl;
  const char *key_body;
} tls_nomem_ctx;

static int tls_nomem_run(void *user, mail_test_alloc *ta)
{
  tls_nomem_ctx *c = user;
  ck_assert_int_eq(mail_test_alloc_forbid(ta, c->key_body, 40), 0);
  return full_run(ta, c->sctx, c->key, c->kl, c->cert, c->cl);
}

START_TEST(layer_allocation_failures)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  size_t kl, cl;
  char *key = slurp(DATA "client.key", &kl);
  char *cert = slurp(DATA "client.pem", &cl);
  /* The key's base64 body must never reach a free hook unwiped. A failed
   * cache insert only costs the resumption: MAIL_OK is fine. */
  tls_nomem_ctx ctx = {sctx, key, kl, cert, cl, strchr(key, '\n') + 1};
  MAIL_TEST_ASSERT_EACH_ALLOCATION("tls", tls_nomem_run, &ctx, MAIL_OK, MAIL_TEST_NOMEM_CLEAN);
  free(key);
  free(cert);
  SSL_CTX_free(sctx);
}
END_TEST

/* One configuration shared by connections on several threads: the context
 * is built once and the session cache is written concurrently. */
typedef struct worker {
  SSL_CTX *sctx;
  mail_tls_config *cfg;
  int ok, resumed;
} worker;

static void *worker_run(void *arg)
{
  worker *w = arg;
  for (int i = 0; i < 10; i++) {
    session s;
    if (start(&s, w->sctx, w->cfg, "localhost") == MAIL_OK && mail_tls_layer_verified(s.tls)) {
      read_greeting(&s);
      w->ok++;
      w->resumed += mail_tls_layer_resumed(s.tls);
    }
    finish(&s);
  }
  return NULL;
}

START_TEST(layer_shared_config_threads)
{
  SSL_CTX *sctx = server_ctx(DATA "server.pem", DATA "server.key", 0, 0);
  mail_tls_config *cfg = ca_config();
  worker w[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (worker){sctx, cfg, 0, 0};
    ck_assert_int_eq(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
  }
  int resumed = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    ck_assert_int_eq(w[i].ok, 10);
    resumed += w[i].resumed;
  }
  ck_assert_int_gt(resumed, 0);
  mail_tls_config_free(cfg);
  SSL_CTX_free(sctx);
}
END_TEST

static Suite *tls_suite(void)
{
  Suite *s = suite_create("tls");
  TCase *c = tcase_create("config");
  tcase_add_test(c, config_new_free_ref);
  tcase_add_test(c, config_ca_sources);
  tcase_add_test(c, config_pins_and_modes);
  tcase_add_test(c, config_client_cert_files);
  tcase_add_test(c, config_client_cert_mem);
  suite_add_tcase(s, c);
  c = tcase_create("layer");
  tcase_add_test(c, layer_verified_by_ca);
  tcase_add_test(c, layer_verify_failures);
  tcase_add_test(c, layer_pins);
  tcase_add_test(c, layer_verify_callback);
  tcase_add_test(c, layer_versions_and_client_cert);
  tcase_add_test(c, layer_session_resumption);
  tcase_add_test(c, layer_channel_binding);
  tcase_add_test(c, layer_allocation_failures);
  tcase_add_test(c, layer_shared_config_threads);
  suite_add_tcase(s, c);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(tls_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

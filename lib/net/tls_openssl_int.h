/*
 * What the two files of the OpenSSL transport share: the configuration's
 * layout (tls_openssl_config.c owns it), the lazily built SSL_CTX, the
 * session cache, and the hooks the layer (tls_openssl.c) installs in the
 * context. Nothing outside lib/net/tls_openssl* includes this header.
 */
#ifndef MAIL_NET_TLS_OPENSSL_INT_H
#define MAIL_NET_TLS_OPENSSL_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/tls.h"

#define MAIL_TLS_MAX_PINS 32
#define MAIL_TLS_PIN_LEN 32       /* SHA-256 */
#define MAIL_TLS_MAX_SESSIONS 32  /* cached sessions per configuration */

typedef struct mail_tls_session_slot {
  char *key;            /* "server_name:port" */
  SSL_SESSION *session; /* one reference held by the slot */
  uint64_t stamp;       /* for evicting the least recently stored */
} mail_tls_session_slot;

struct mail_tls_config {
  mail_allocator alloc;
  atomic_int refs;
  /* Guards ctx/frozen (built once, by whichever connection comes first)
   * and the session cache (written by every connection's thread). */
  pthread_mutex_t lock;
  int frozen;
  SSL_CTX *ctx;

  X509_STORE *store;   /* the CAs added by set_ca_file/path/mem */
  int have_ca;
  char trust[320];     /* where they came from, for errors: "CA file x, CA directory y" */
  int system_ca;       /* -1: only when no CA was set */

  X509 *cert;          /* client certificate, its chain and key */
  STACK_OF(X509) *chain;
  EVP_PKEY *key;

  unsigned char pins[MAIL_TLS_MAX_PINS][MAIL_TLS_PIN_LEN];
  size_t npins;
  int pin_only;
  int insecure;
  int min_version;     /* MAIL_TLS_1_2 or MAIL_TLS_1_3 */
  int resumption;
  mail_tls_verify_fn verify_fn;
  void *verify_user;

  mail_tls_session_slot sessions[MAIL_TLS_MAX_SESSIONS];
  uint64_t session_clock;
};

/* The SSL ex_data index under which the layer hangs off its SSL, and the
 * BIO method over a lower mail_layer (both made once by
 * mail_tls_global_init). */
int mail_tls_ssl_index(void);
const BIO_METHOD *mail_tls_bio_method(void);

/* The configuration's SSL_CTX, built on first use; freezes the
 * configuration. MAIL_OK, MAIL_ERR_TLS (reason in *why) or MAIL_ERR_NOMEM. */
int mail_tls_config_context(mail_tls_config *cfg, SSL_CTX **ctx, const char **why);

/* The trust store in words, for a verification error: "CA file ca.pem",
 * "CA directory /etc/ssl/mine and the system CA store", "CA
 * certificates from memory", "the system CA store". */
void mail_tls_config_trust(const mail_tls_config *cfg, char *out, size_t cap);

/* Session cache: get returns a new reference (or NULL); put stores one
 * (taking over the caller's reference) and evicts the oldest when full. */
SSL_SESSION *mail_tls_session_get(mail_tls_config *cfg, const char *key);
void mail_tls_session_put(mail_tls_config *cfg, const char *key, SSL_SESSION *session);

/* Hooks of tls_openssl.c installed in every context. */
int mail_tls_verify_chain_cb(X509_STORE_CTX *xs, void *arg);
int mail_tls_new_session_cb(SSL *ssl, SSL_SESSION *session);

#endif

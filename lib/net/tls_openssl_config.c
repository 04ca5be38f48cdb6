/*
 * mail_tls_config over OpenSSL: the settings, the one SSL_CTX built from
 * them on first use, and the per-configuration session cache.
 *
 * Everything a setter is given is checked and loaded at once (CA files into
 * an X509_STORE, client keys decrypted with the passphrase, pins decoded),
 * so mistakes surface at the call that made them and a passphrase is
 * never kept. The first connection freezes the configuration: from then on
 * it is only read (and may be shared across threads), and setters return
 * MAIL_ERR_STATE.
 */
#include "net/tls_openssl_int.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/base64.h"
#include "core/conn_internal.h"
#include "core/mem.h"

/* Largest certificate or key file read into memory. */
#define MAIL_TLS_MAX_PEM_FILE (1024 * 1024)

int mail_tls_config_new(mail_tls_config **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (mail_tls_global_init() != MAIL_OK)
    return MAIL_ERR_INTERNAL;
  mail_allocator a;
  int rc = mail_alloc_init(&a, alloc);
  if (rc)
    return rc;
  mail_tls_config *cfg = mail_calloc(&a, 1, sizeof *cfg);
  if (!cfg)
    return MAIL_ERR_NOMEM;
  cfg->alloc = a;
  cfg->store = X509_STORE_new();
  if (!cfg->store || pthread_mutex_init(&cfg->lock, NULL) != 0) {
    X509_STORE_free(cfg->store);
    mail_dealloc(&a, cfg);
    ERR_clear_error();
    return MAIL_ERR_NOMEM;
  }
  atomic_init(&cfg->refs, 1);
  cfg->system_ca = -1;
  cfg->min_version = MAIL_TLS_1_2;
  cfg->resumption = 1;
  *out = cfg;
  return MAIL_OK;
}

void mail_tls_config_ref(mail_tls_config *cfg)
{
  if (cfg)
    atomic_fetch_add(&cfg->refs, 1);
}

static void drop_client_cert(mail_tls_config *cfg)
{
  X509_free(cfg->cert);
  sk_X509_pop_free(cfg->chain, X509_free);
  EVP_PKEY_free(cfg->key);
  cfg->cert = NULL;
  cfg->chain = NULL;
  cfg->key = NULL;
}

void mail_tls_config_free(mail_tls_config *cfg)
{
  if (!cfg || atomic_fetch_sub(&cfg->refs, 1) != 1)
    return;
  for (size_t i = 0; i < MAIL_TLS_MAX_SESSIONS; i++) {
    SSL_SESSION_free(cfg->sessions[i].session);
    mail_dealloc(&cfg->alloc, cfg->sessions[i].key);
  }
  SSL_CTX_free(cfg->ctx);
  X509_STORE_free(cfg->store);
  drop_client_cert(cfg);
  pthread_mutex_destroy(&cfg->lock);
  mail_allocator a = cfg->alloc;
  mail_dealloc_secret(&a, cfg, sizeof *cfg);
}

/* Setters may run until the first connection builds the context. */
static int editable(mail_tls_config *cfg)
{
  if (!cfg)
    return MAIL_ERR_INVALID;
  pthread_mutex_lock(&cfg->lock);
  int frozen = cfg->frozen;
  pthread_mutex_unlock(&cfg->lock);
  return frozen ? MAIL_ERR_STATE : MAIL_OK;
}

/* ------------------------------------------------------------ CAs */

static void add_trust(mail_tls_config *cfg, const char *what, const char *where)
{
  size_t n = strlen(cfg->trust);
  snprintf(cfg->trust + n, sizeof cfg->trust - n, "%s%s%s%s", n ? ", " : "", what,
           where ? " " : "", where ? where : "");
}

void mail_tls_config_trust(const mail_tls_config *cfg, char *out, size_t cap)
{
  int system = cfg->system_ca < 0 ? !cfg->have_ca : cfg->system_ca;
  if (cfg->have_ca && system)
    snprintf(out, cap, "%s and the system CA store", cfg->trust);
  else if (cfg->have_ca)
    snprintf(out, cap, "%s", cfg->trust);
  else if (system)
    snprintf(out, cap, "the system CA store");
  else
    snprintf(out, cap, "no CA (none set, the system store turned off)");
}

int mail_tls_config_set_ca_file(mail_tls_config *cfg, const char *path)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!path || !*path)
    return MAIL_ERR_INVALID;
  if (X509_STORE_load_file(cfg->store, path) != 1) {
    ERR_clear_error();
    return MAIL_ERR_FILE;
  }
  cfg->have_ca = 1;
  add_trust(cfg, "CA file", path);
  return MAIL_OK;
}

int mail_tls_config_set_ca_path(mail_tls_config *cfg, const char *dir)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!dir || !*dir)
    return MAIL_ERR_INVALID;
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
    return MAIL_ERR_FILE;
  if (X509_STORE_load_path(cfg->store, dir) != 1) {
    ERR_clear_error();
    return MAIL_ERR_FILE;
  }
  cfg->have_ca = 1;
  add_trust(cfg, "CA directory", dir);
  return MAIL_OK;
}

int mail_tls_config_set_ca_mem(mail_tls_config *cfg, const char *pem, size_t len)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!pem || len == 0 || len > INT32_MAX)
    return MAIL_ERR_INVALID;
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  if (!bio)
    return MAIL_ERR_NOMEM;
  STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (!infos) {
    ERR_clear_error();
    return MAIL_ERR_SYNTAX;
  }
  int added = 0;
  rc = MAIL_OK;
  for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
    X509_INFO *info = sk_X509_INFO_value(infos, i);
    if (!info->x509)
      continue;
    if (X509_STORE_add_cert(cfg->store, info->x509) != 1) {
      rc = MAIL_ERR_NOMEM;
      break;
    }
    added++;
  }
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  ERR_clear_error();
  if (rc == MAIL_OK && added == 0)
    rc = MAIL_ERR_SYNTAX;
  if (added) {
    cfg->have_ca = 1;
    add_trust(cfg, "CA certificates from memory", NULL);
  }
  return rc;
}

int mail_tls_config_set_system_ca(mail_tls_config *cfg, int on)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  cfg->system_ca = on ? 1 : 0;
  return MAIL_OK;
}

/* ------------------------------------------------------------ client certificate */

static int passphrase_cb(char *buf, int size, int rwflag, void *user)
{
  (void)rwflag;
  const char *pass = user;
  if (!pass)
    return 0; /* an encrypted key without a passphrase fails; never prompt */
  size_t n = strlen(pass);
  if (n > (size_t)size)
    return 0;
  memcpy(buf, pass, n);
  return (int)n;
}

static int has_pem_block(const char *pem, size_t len, const char *what)
{
  size_t wl = strlen(what);
  for (size_t i = 0; i + wl <= len; i++)
    if (memcmp(pem + i, what, wl) == 0)
      return 1;
  return 0;
}

/* Parse a certificate chain and key; bad_pem is the status for text that
 * holds no certificate or no key (MAIL_ERR_FILE for files, MAIL_ERR_SYNTAX
 * for memory). A key that is there but does not decrypt or does not match
 * the certificate is MAIL_ERR_INVALID. */
static int load_client_cert(mail_tls_config *cfg, const char *cert_pem, size_t cert_len,
                            const char *key_pem, size_t key_len, const char *passphrase,
                            int bad_pem)
{
  if (cert_len > INT32_MAX || key_len > INT32_MAX)
    return MAIL_ERR_INVALID;
  int rc = MAIL_OK;
  X509 *cert = NULL;
  STACK_OF(X509) *chain = NULL;
  EVP_PKEY *key = NULL;
  BIO *cb = BIO_new_mem_buf(cert_pem, (int)cert_len);
  BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
  if (!cb || !kb) {
    rc = MAIL_ERR_NOMEM;
    goto out;
  }
  cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
  if (!cert) {
    rc = bad_pem;
    goto out;
  }
  chain = sk_X509_new_null();
  if (!chain) {
    rc = MAIL_ERR_NOMEM;
    goto out;
  }
  for (;;) {
    X509 *extra = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    if (!extra)
      break;
    if (!sk_X509_push(chain, extra)) {
      X509_free(extra);
      rc = MAIL_ERR_NOMEM;
      goto out;
    }
  }
  if (!has_pem_block(key_pem, key_len, "PRIVATE KEY-----")) {
    rc = bad_pem;
    goto out;
  }
  key = PEM_read_bio_PrivateKey(kb, NULL, passphrase_cb, (void *)passphrase);
  if (!key || X509_check_private_key(cert, key) != 1) {
    rc = MAIL_ERR_INVALID;
    goto out;
  }
  drop_client_cert(cfg);
  cfg->cert = cert;
  cfg->chain = chain;
  cfg->key = key;
  cert = NULL;
  chain = NULL;
  key = NULL;
out:
  X509_free(cert);
  sk_X509_pop_free(chain, X509_free);
  EVP_PKEY_free(key);
  BIO_free(cb);
  BIO_free(kb);
  ERR_clear_error();
  return rc;
}

int mail_tls_config_set_client_cert_mem(mail_tls_config *cfg, const char *cert_pem,
                                        size_t cert_len, const char *key_pem, size_t key_len,
                                        const char *passphrase)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!cert_pem || !cert_len || !key_pem || !key_len)
    return MAIL_ERR_INVALID;
  return load_client_cert(cfg, cert_pem, cert_len, key_pem, key_len, passphrase, MAIL_ERR_SYNTAX);
}

/* Read a whole (small) file into memory from cfg's allocator. */
static int read_file(mail_tls_config *cfg, const char *path, char **data, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return MAIL_ERR_FILE;
  size_t cap = 4096, n = 0;
  char *buf = mail_malloc(&cfg->alloc, cap);
  int rc = buf ? MAIL_OK : MAIL_ERR_NOMEM;
  while (rc == MAIL_OK) {
    if (n == cap) {
      if (cap >= MAIL_TLS_MAX_PEM_FILE) {
        rc = MAIL_ERR_FILE;
        break;
      }
      /* Grow by copying so no stale copy of a key is left unwiped. */
      char *bigger = mail_malloc(&cfg->alloc, cap * 2);
      if (!bigger) {
        rc = MAIL_ERR_NOMEM;
        break;
      }
      memcpy(bigger, buf, n);
      mail_dealloc_secret(&cfg->alloc, buf, cap);
      buf = bigger;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f))
        rc = MAIL_ERR_FILE;
      break;
    }
  }
  fclose(f);
  if (rc) {
    if (buf)
      mail_dealloc_secret(&cfg->alloc, buf, cap);
    return rc;
  }
  *data = buf;
  *len = n;
  return MAIL_OK;
}

int mail_tls_config_set_client_cert_file(mail_tls_config *cfg, const char *cert_path,
                                         const char *key_path, const char *passphrase)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!cert_path || !key_path)
    return MAIL_ERR_INVALID;
  char *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0;
  rc = read_file(cfg, cert_path, &cert, &cert_len);
  if (rc == MAIL_OK)
    rc = read_file(cfg, key_path, &key, &key_len);
  if (rc == MAIL_OK)
    rc = (cert_len && key_len)
           ? load_client_cert(cfg, cert, cert_len, key, key_len, passphrase, MAIL_ERR_FILE)
           : MAIL_ERR_FILE;
  /* The key file's bytes are a secret (read_file wrote nothing past len). */
  if (cert)
    mail_dealloc(&cfg->alloc, cert);
  if (key)
    mail_dealloc_secret(&cfg->alloc, key, key_len);
  return rc;
}

/* ------------------------------------------------------------ pins, modes */

int mail_tls_config_add_pin_sha256(mail_tls_config *cfg, const char *sha256_b64)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (!sha256_b64)
    return MAIL_ERR_INVALID;
  const char *p = sha256_b64;
  if (strncmp(p, "sha256//", 8) == 0)
    p += 8;
  size_t n = strlen(p);
  unsigned char raw[MAIL_B64_DECODED_MAX(44)];
  /* 32 bytes are exactly 44 base64 characters with one '='. */
  if (n != 44 || mail_b64_decode_strict(p, n, raw) != MAIL_TLS_PIN_LEN)
    return MAIL_ERR_SYNTAX;
  if (cfg->npins == MAIL_TLS_MAX_PINS)
    return MAIL_ERR_INVALID;
  memcpy(cfg->pins[cfg->npins++], raw, MAIL_TLS_PIN_LEN);
  return MAIL_OK;
}

int mail_tls_config_set_pin_only(mail_tls_config *cfg, int on)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  cfg->pin_only = on ? 1 : 0;
  return MAIL_OK;
}

int mail_tls_config_set_verify_callback(mail_tls_config *cfg, mail_tls_verify_fn fn, void *user)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  cfg->verify_fn = fn;
  cfg->verify_user = fn ? user : NULL;
  return MAIL_OK;
}

int mail_tls_config_set_min_version(mail_tls_config *cfg, int version)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  if (version != MAIL_TLS_1_2 && version != MAIL_TLS_1_3)
    return MAIL_ERR_INVALID;
  cfg->min_version = version;
  return MAIL_OK;
}

int mail_tls_config_set_session_resumption(mail_tls_config *cfg, int on)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  cfg->resumption = on ? 1 : 0;
  return MAIL_OK;
}

int mail_tls_config_set_insecure_no_verify(mail_tls_config *cfg, int on)
{
  int rc = editable(cfg);
  if (rc)
    return rc;
  cfg->insecure = on ? 1 : 0;
  return MAIL_OK;
}

/* ------------------------------------------------------------ the context */

static int build_context(mail_tls_config *cfg, const char **why)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    *why = "cannot create the TLS context";
    return MAIL_ERR_NOMEM;
  }
  int version = cfg->min_version == MAIL_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, version) != 1) {
    *why = "cannot set the minimum TLS version";
    goto fail;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  /* The driver may retry a write from a grown (moved) buffer, and wants
   * to learn about every partial write. */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                          SSL_MODE_RELEASE_BUFFERS);

  int system = cfg->system_ca < 0 ? !cfg->have_ca : cfg->system_ca;
  if (system && X509_STORE_set_default_paths(cfg->store) != 1) {
    *why = "cannot load the system CA store";
    goto fail;
  }
  SSL_CTX_set1_cert_store(ctx, cfg->store);
  SSL_CTX_set_verify(ctx, cfg->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
  /* Our callback makes the whole decision (chain, name, pins, the
   * caller's callback) in one place, during the handshake. */
  SSL_CTX_set_cert_verify_callback(ctx, mail_tls_verify_chain_cb, NULL);

  if (cfg->cert) {
    if (SSL_CTX_use_certificate(ctx, cfg->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, cfg->key) != 1 ||
        SSL_CTX_set1_chain(ctx, cfg->chain) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      *why = "the client certificate cannot be used";
      goto fail;
    }
  }

  if (cfg->resumption) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, mail_tls_new_session_cb);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  cfg->ctx = ctx;
  ERR_clear_error();
  return MAIL_OK;
fail:
  SSL_CTX_free(ctx);
  ERR_clear_error();
  return MAIL_ERR_TLS;
}

int mail_tls_config_context(mail_tls_config *cfg, SSL_CTX **ctx, const char **why)
{
  int rc = MAIL_OK;
  *why = NULL;
  pthread_mutex_lock(&cfg->lock);
  if (!cfg->ctx)
    rc = build_context(cfg, why);
  if (rc == MAIL_OK) {
    cfg->frozen = 1;
    *ctx = cfg->ctx;
  }
  pthread_mutex_unlock(&cfg->lock);
  return rc;
}

/* ------------------------------------------------------------ session cache */

SSL_SESSION *mail_tls_session_get(mail_tls_config *cfg, const char *key)
{
  SSL_SESSION *s = NULL;
  pthread_mutex_lock(&cfg->lock);
  for (size_t i = 0; i < MAIL_TLS_MAX_SESSIONS; i++) {
    mail_tls_session_slot *slot = &cfg->sessions[i];
    if (slot->key && strcmp(slot->key, key) == 0) {
      if (SSL_SESSION_is_resumable(slot->session) && SSL_SESSION_up_ref(slot->session) == 1)
        s = slot->session;
      break;
    }
  }
  pthread_mutex_unlock(&cfg->lock);
  return s;
}

void mail_tls_session_put(mail_tls_config *cfg, const char *key, SSL_SESSION *session)
{
  pthread_mutex_lock(&cfg->lock);
  mail_tls_session_slot *slot = NULL, *victim = NULL;
  for (size_t i = 0; i < MAIL_TLS_MAX_SESSIONS; i++) {
    mail_tls_session_slot *s = &cfg->sessions[i];
    if (s->key && strcmp(s->key, key) == 0) {
      slot = s;
      break;
    }
    /* An empty slot, else the least recently stored one. */
    if (!victim || (victim->key && (!s->key || s->stamp < victim->stamp)))
      victim = s;
  }
  if (!slot) {
    slot = victim;
    char *copy = mail_strdup(&cfg->alloc, key);
    if (!copy) {
      pthread_mutex_unlock(&cfg->lock);
      SSL_SESSION_free(session);
      return;
    }
    mail_dealloc(&cfg->alloc, slot->key);
    slot->key = copy;
  }
  SSL_SESSION_free(slot->session);
  slot->session = session;
  slot->stamp = ++cfg->session_clock;
  pthread_mutex_unlock(&cfg->lock);
}

/*
 * The TLS transport of a build without OpenSSL (-Dtls=disabled): the same
 * symbols as tls_openssl.c, each saying MAIL_ERR_UNSUPPORTED, so the rest
 * of the library and the public API link unchanged.
 */
#include "net/tls.h"

#include "core/conn_internal.h"

int mail_tls_global_init(void) { return MAIL_OK; }

int mail_tls_config_new(mail_tls_config **out, const mail_allocator *alloc)
{
  (void)alloc;
  if (out)
    *out = NULL;
  return MAIL_ERR_UNSUPPORTED;
}

void mail_tls_config_ref(mail_tls_config *cfg) { (void)cfg; }
void mail_tls_config_free(mail_tls_config *cfg) { (void)cfg; }

int mail_tls_config_set_ca_file(mail_tls_config *cfg, const char *path)
{
  (void)cfg; (void)path;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_ca_path(mail_tls_config *cfg, const char *dir)
{
  (void)cfg; (void)dir;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_ca_mem(mail_tls_config *cfg, const char *pem, size_t len)
{
  (void)cfg; (void)pem; (void)len;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_system_ca(mail_tls_config *cfg, int on)
{
  (void)cfg; (void)on;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_client_cert_file(mail_tls_config *cfg, const char *cert_path,
                                         const char *key_path, const char *passphrase)
{
  (void)cfg; (void)cert_path; (void)key_path; (void)passphrase;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_client_cert_mem(mail_tls_config *cfg, const char *cert_pem,
                                        size_t cert_len, const char *key_pem, size_t key_len,
                                        const char *passphrase)
{
  (void)cfg; (void)cert_pem; (void)cert_len; (void)key_pem; (void)key_len; (void)passphrase;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_add_pin_sha256(mail_tls_config *cfg, const char *sha256_b64)
{
  (void)cfg; (void)sha256_b64;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_pin_only(mail_tls_config *cfg, int on)
{
  (void)cfg; (void)on;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_verify_callback(mail_tls_config *cfg, mail_tls_verify_fn fn, void *user)
{
  (void)cfg; (void)fn; (void)user;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_min_version(mail_tls_config *cfg, int version)
{
  (void)cfg; (void)version;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_session_resumption(mail_tls_config *cfg, int on)
{
  (void)cfg; (void)on;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_config_set_insecure_no_verify(mail_tls_config *cfg, int on)
{
  (void)cfg; (void)on;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower, mail_tls_config *cfg,
                       const char *server_name)
{
  (void)conn; (void)lower; (void)cfg; (void)server_name;
  if (out)
    *out = NULL;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_tls_layer_verified(const mail_layer *l) { (void)l; return 0; }
const char *mail_tls_layer_version(const mail_layer *l) { (void)l; return NULL; }
const char *mail_tls_layer_cipher(const mail_layer *l) { (void)l; return NULL; }
int mail_tls_layer_resumed(const mail_layer *l) { (void)l; return 0; }

int mail_tls_layer_peer_certificate(const mail_layer *l, const unsigned char **der, size_t *len)
{
  (void)l;
  if (der)
    *der = NULL;
  if (len)
    *len = 0;
  return MAIL_ERR_NOT_FOUND;
}

const char *mail_tls_layer_verify_error(const mail_layer *l) { (void)l; return NULL; }

int mail_tls_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                   size_t *len)
{
  (void)l; (void)type; (void)out; (void)cap;
  if (len)
    *len = 0;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_layer_is_tls(const mail_layer *l) { (void)l; return 0; }

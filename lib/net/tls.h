/*
 * The TLS layer (lib/net/tls_openssl.c, the only file of the transport that
 * includes OpenSSL) and the reference-counted mail_tls_config behind the
 * public mail_tls_config_* functions.
 */
#ifndef MAIL_NET_TLS_H
#define MAIL_NET_TLS_H

#include "net/layer.h"

/* Take a reference (connections hold one on their configuration). */
void mail_tls_config_ref(mail_tls_config *cfg);

/*
 * Push a TLS client layer on top of lower (which it then owns). server_name
 * is used for SNI and for host-name (or IP address) verification; it may
 * not be NULL unless verification is off. The handshake runs through
 * ops->handshake. Errors: MAIL_ERR_NOMEM, MAIL_ERR_TLS (context setup),
 * MAIL_ERR_INVALID (bad server_name), MAIL_ERR_UNSUPPORTED (built without
 * TLS). On failure lower stays the caller's.
 *
 * The first layer built from a configuration freezes it (its SSL_CTX is
 * built then and shared by every later connection); the setters return
 * MAIL_ERR_STATE from then on. Sessions are cached in the configuration,
 * keyed by server_name and the lower layer's peer port.
 */
int mail_tls_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower, mail_tls_config *cfg,
                       const char *server_name);

/* Facts about a TLS layer after its handshake (l must be a TLS layer). */
int mail_tls_layer_verified(const mail_layer *l);
const char *mail_tls_layer_version(const mail_layer *l);
const char *mail_tls_layer_cipher(const mail_layer *l);
int mail_tls_layer_resumed(const mail_layer *l);
int mail_tls_layer_peer_certificate(const mail_layer *l, const unsigned char **der, size_t *len);
const char *mail_tls_layer_verify_error(const mail_layer *l);
int mail_tls_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                   size_t *len);
/* 1 when l is a TLS layer. */
int mail_layer_is_tls(const mail_layer *l);

#endif

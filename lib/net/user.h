/*
 * The layer over a caller's mail_transport_ops (firmware stacks, in-memory
 * transcripts). It is the whole stack: no socket and no TLS layer go with
 * it; TLS is the transport's own start_tls op, run as this layer's
 * handshake so that it happens inside the driver like a TLS layer's.
 */
#ifndef MAIL_NET_USER_H
#define MAIL_NET_USER_H

#include "net/layer.h"

/* 1 when ops can be used: a known version, read and write set. */
int mail_user_ops_valid(const mail_transport_ops *ops);

/* MAIL_ERR_NOMEM. ops and user must outlive the layer. */
int mail_user_layer_new(mail_layer **out, mail_conn *c, const mail_transport_ops *ops, void *user);

/* ops->connect (MAIL_OK when it is NULL). timeout_ms as in the ops. */
int mail_user_layer_connect(mail_layer *l, const char *host, unsigned int port, int timeout_ms);

/*
 * Ask for TLS: the next handshake() calls ops->start_tls(user, server_name)
 * (server_name must stay valid until then). When the transport has no
 * start_tls: MAIL_ERR_TLS if implicit, else MAIL_ERR_STARTTLS.
 */
int mail_user_layer_request_tls(mail_layer *l, const char *server_name, int implicit);

/* 1 when l is a user-transport layer. */
int mail_layer_is_user(const mail_layer *l);
/* 1 after a successful start_tls, or when the transport says it is verified. */
int mail_user_layer_is_tls(const mail_layer *l);
/* ops->is_verified, 0 when NULL. */
int mail_user_layer_verified(const mail_layer *l);
/* ops->channel_binding; MAIL_ERR_UNSUPPORTED when NULL. */
int mail_user_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                    size_t *len);

#endif

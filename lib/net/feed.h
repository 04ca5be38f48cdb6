/*
 * The feed layer: the bottom of a connection in feed mode
 * (mail_conn_set_feed), with no descriptor at all. Its input is what the
 * caller fed (mail_conn_feed), its output what the caller drains
 * (mail_conn_drain); reads and writes never wait, they answer
 * MAIL_ERR_AGAIN. libmail's TLS sits on it like on a socket; in caller-TLS
 * mode TLS is instead the caller's, started as this layer's handshake
 * (MAIL_WANT_TLS) so that it happens inside the driver like a TLS layer's.
 *
 * The drained output lives in the connection (conn->feed_out), not here:
 * the last bytes of a session (QUIT, a SASL "*") are written just before
 * the session closes the connection, and the caller must still be able to
 * take them then.
 */
#ifndef MAIL_NET_FEED_H
#define MAIL_NET_FEED_H

#include "core/buf.h"
#include "net/layer.h"

/* MAIL_ERR_NOMEM. out is the connection's drain buffer (it outlives the
 * layer); caller_tls: TLS is the caller's (MAIL_FEED_CALLER_TLS). */
int mail_feed_layer_new(mail_layer **out, mail_conn *c, mail_buf *drain, int caller_tls);

/* 1 when l is a feed layer. */
int mail_layer_is_feed(const mail_layer *l);

/* mail_conn_feed(): take at most len bytes, no more than max_in held. */
int mail_feed_layer_put(mail_layer *l, const unsigned char *buf, size_t len, size_t *taken,
                        size_t max_in);
/* Between operations: give back the input storage when nothing waits in
 * it (an idle session keeps no buffer; it grows again on demand). */
void mail_feed_layer_trim(mail_layer *l);
/* mail_conn_feed_eof() / mail_conn_feed_error(). */
void mail_feed_layer_eof(mail_layer *l);
void mail_feed_layer_error(mail_layer *l, int status);

/* Caller-TLS mode. */
int mail_feed_layer_caller_tls(const mail_layer *l);
/* Ask the caller for TLS (the next handshake waits for tls_done).
 * MAIL_ERR_STARTTLS_INJECTION when fed bytes wait unread: they came in
 * the clear after the go-ahead. server_name must stay valid until done. */
int mail_feed_layer_request_tls(mail_layer *l, const char *server_name);
/* 1 while a TLS request waits for the caller's answer. */
int mail_feed_layer_tls_wanted(const mail_layer *l);
/* The caller's answer: MAIL_ERR_STATE when nothing was asked. */
int mail_feed_layer_tls_done(mail_layer *l, int status, int verified);
int mail_feed_layer_is_tls(const mail_layer *l);
int mail_feed_layer_verified(const mail_layer *l);
/* Channel binding the caller gave for its TLS. */
int mail_feed_layer_set_channel_binding(mail_layer *l, int type, const unsigned char *data,
                                        size_t len);
int mail_feed_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                    size_t *len);

#endif

/*
 * The COMPRESS=DEFLATE layer (RFC 4978 for IMAP, RFC 8054 for NNTP): raw
 * deflate in each direction over whatever lies below (TCP, TLS or a user
 * transport). lib/net/compress_zlib.c holds it, lib/net/compress_none.c
 * the stub of a build without zlib.
 *
 * Each write is deflated with a sync flush, so every command the engine
 * queued reaches the server whole; a write reports its bytes taken only
 * once their compressed form is in the lower layer (like SSL_write, the
 * driver retries with the same queue front after MAIL_ERR_AGAIN). Reads
 * inflate into the caller's buffer and never further, so a stream that
 * inflates without end (a compression bomb) costs no memory here: it meets
 * the reader's limits above (MAIL_ERR_LIMIT).
 */
#ifndef MAIL_NET_COMPRESS_H
#define MAIL_NET_COMPRESS_H

#include <stdint.h>
#include "net/layer.h"

/* Push a compression layer on lower (which it then owns). MAIL_ERR_NOMEM,
 * MAIL_ERR_UNSUPPORTED without zlib. On failure lower stays the caller's. */
int mail_compress_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower);

/* 1 when l is a compression layer. */
int mail_layer_is_compress(const mail_layer *l);

/* Bytes through l so far: compressed (wire) and plain, each direction. */
void mail_compress_layer_counts(const mail_layer *l, uint64_t *wire_in, uint64_t *plain_in,
                                uint64_t *wire_out, uint64_t *plain_out);

#endif

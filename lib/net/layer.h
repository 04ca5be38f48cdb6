/*
 * A transport layer: the plain socket (TCP or Unix), TLS over a lower
 * layer, or the caller's mail_transport_ops. A connection holds a stack of
 * them (TCP, then TLS after STARTTLS; later COMPRESS for IMAP) and only
 * ever talks to the top one.
 *
 * Socket layers are non-blocking: when they cannot proceed they return
 * MAIL_ERR_AGAIN and set *want (MAIL_WANT_READ / MAIL_WANT_WRITE), and the
 * connection's driver waits on fd() with poll() (blocking mode) or returns
 * to the caller's event loop. Layers without an fd (user transports) are
 * given timeout_ms and may block for that long themselves.
 */
#ifndef MAIL_NET_LAYER_H
#define MAIL_NET_LAYER_H

#include <stddef.h>
#include <mail/conn.h>

typedef struct mail_layer mail_layer;

typedef struct mail_layer_ops {
  const char *name;
  /* MAIL_OK with *got > 0; MAIL_ERR_AGAIN with *want; MAIL_ERR_CLOSED at
   * end of stream; a fatal status on failure. */
  int (*read)(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want, int timeout_ms);
  /* MAIL_OK with *written > 0; MAIL_ERR_AGAIN with *want; fatal status. */
  int (*write)(mail_layer *l, const unsigned char *buf, size_t len, size_t *written, int *want,
               int timeout_ms);
  /* Finish setting up (TCP connect completion, TLS handshake). MAIL_OK when
   * done, MAIL_ERR_AGAIN with *want, or a fatal status. NULL: nothing to do. */
  int (*handshake)(mail_layer *l, int *want, int timeout_ms);
  /* The descriptor to poll, or -1. */
  int (*fd)(const mail_layer *l);
  /* Release this layer and every layer below it. */
  void (*destroy)(mail_layer *l);
  /* 1 when this layer holds input it took from below and has not handed
   * out (a read may succeed although fd() is not readable), else 0. NULL:
   * not known, so the driver never waits for fd() before reading. */
  int (*pending)(const mail_layer *l);
} mail_layer_ops;

struct mail_layer {
  const mail_layer_ops *ops;
  mail_layer *lower;  /* NULL for the bottom layer */
  mail_conn *conn;    /* for mail_conn_fail() and the allocator */
};

/* For a socket layer's read: 1 and *ms (-1: no deadline) when the driver
 * lets this one read wait in the kernel instead of poll()ing first, else
 * 0. Taken once: a second read within the same layer read never waits. */
int mail_layer_take_read_block(mail_conn *c, int *ms);

#endif

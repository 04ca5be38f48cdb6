/* The feed layer (see feed.h): two bounded buffers in place of a socket. */
#include "net/feed.h"

#include <string.h>

#include "core/conn_internal.h"
#include "core/mem.h"

/* Channel-binding data of the caller's TLS: the longest type is
 * tls-server-end-point with SHA-512 (64 bytes). */
#define FEED_CB_MAX 64
#define FEED_CB_TYPES 3

typedef struct feed_layer {
  mail_layer base;
  mail_buf in;      /* fed, not yet read */
  mail_buf *drain;  /* the connection's: written, not yet drained */
  int eof;          /* mail_conn_feed_eof(): after in, end of stream */
  int error;        /* mail_conn_feed_error(): sticky, 0 when none */
  int caller_tls;
  int tls_wanted;   /* a request waits for mail_conn_feed_tls_done() */
  int tls_answered;
  int tls_rc;
  int tls_active;
  int tls_verified;
  unsigned char cb[FEED_CB_TYPES][FEED_CB_MAX];
  size_t cb_len[FEED_CB_TYPES];
} feed_layer;

static const mail_layer_ops feed_layer_ops;

static int feed_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                     int timeout_ms)
{
  (void)timeout_ms;
  feed_layer *f = (feed_layer *)l;
  *got = 0;
  if (f->in.len) {
    size_t k = f->in.len < len ? f->in.len : len;
    memcpy(buf, f->in.data, k);
    mail_buf_consume(&f->in, k);
    *got = k;
    return MAIL_OK;
  }
  if (f->error)
    return mail_conn_fail(l->conn, f->error, "the caller's I/O failed: %s",
                          mail_strerror(f->error));
  if (f->eof)
    return MAIL_ERR_CLOSED;
  *want = MAIL_WANT_READ;
  return MAIL_ERR_AGAIN;
}

/* One write at a time: the next is taken only once the caller drained the
 * last completely, so each drain-until-empty is exactly one flush of the
 * driver (what a socket's write call would have been given), and what the
 * library holds stays bounded by the output queue plus one flush. */
static int feed_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written,
                      int *want, int timeout_ms)
{
  (void)timeout_ms;
  feed_layer *f = (feed_layer *)l;
  *written = 0;
  if (f->error)
    return mail_conn_fail(l->conn, f->error, "the caller's I/O failed: %s",
                          mail_strerror(f->error));
  if (f->drain->len) {
    *want = MAIL_WANT_WRITE;
    return MAIL_ERR_AGAIN;
  }
  size_t bound = mail_conn_limits(l->conn)->max_output;
  size_t k = len < bound ? len : bound;
  int rc = mail_buf_append(f->drain, buf, k);
  if (rc)
    return rc == MAIL_ERR_NOMEM ? rc : mail_conn_fail(l->conn, MAIL_ERR_INTERNAL, "drain buffer");
  *written = k;
  return MAIL_OK;
}

static int feed_handshake(mail_layer *l, int *want, int timeout_ms)
{
  (void)timeout_ms;
  feed_layer *f = (feed_layer *)l;
  if (!f->tls_wanted)
    return MAIL_OK;
  if (f->error)
    return mail_conn_fail(l->conn, f->error, "the caller's I/O failed: %s",
                          mail_strerror(f->error));
  if (!f->tls_answered) {
    *want = MAIL_WANT_TLS;
    return MAIL_ERR_AGAIN;
  }
  f->tls_wanted = 0;
  f->tls_answered = 0;
  if (f->tls_rc == MAIL_OK) {
    f->tls_active = 1;
    return MAIL_OK;
  }
  int rc = mail_status_is_fatal(f->tls_rc) ? f->tls_rc : MAIL_ERR_TLS;
  return mail_conn_fail(l->conn, rc, "the caller's TLS failed: %s", mail_strerror(f->tls_rc));
}

static int feed_fd(const mail_layer *l)
{
  (void)l;
  return -1;
}

static int feed_pending(const mail_layer *l)
{
  return ((const feed_layer *)l)->in.len != 0;
}

static void feed_destroy(mail_layer *l)
{
  feed_layer *f = (feed_layer *)l;
  mail_buf_free(&f->in);
  const mail_allocator *a = &mail_conn_env(l->conn)->alloc;
  mail_wipe(f, sizeof *f); /* channel-binding data */
  mail_dealloc(a, f);
}

static const mail_layer_ops feed_layer_ops = {
  .name = "feed",
  .read = feed_read,
  .write = feed_write,
  .handshake = feed_handshake,
  .fd = feed_fd,
  .destroy = feed_destroy,
  .pending = feed_pending,
};

int mail_feed_layer_new(mail_layer **out, mail_conn *c, mail_buf *drain, int caller_tls)
{
  *out = NULL;
  feed_layer *f = mail_calloc(&mail_conn_env(c)->alloc, 1, sizeof *f);
  if (!f)
    return MAIL_ERR_NOMEM;
  f->base.ops = &feed_layer_ops;
  f->base.conn = c;
  /* What is fed may be a server's reply to AUTH, and in caller-TLS mode
   * it and the drained bytes are the plaintext: wiped when dropped. */
  mail_buf_init(&f->in, &mail_conn_env(c)->alloc, 0);
  mail_buf_set_sensitive(&f->in);
  f->drain = drain;
  f->caller_tls = caller_tls != 0;
  *out = &f->base;
  return MAIL_OK;
}

int mail_layer_is_feed(const mail_layer *l)
{
  return l && l->ops == &feed_layer_ops;
}

int mail_feed_layer_put(mail_layer *l, const unsigned char *buf, size_t len, size_t *taken,
                        size_t max_in)
{
  feed_layer *f = (feed_layer *)l;
  *taken = 0;
  /* Nothing more comes after end of stream; and while the caller's TLS
   * starts, a byte could be neither the clear text before it nor the
   * plaintext inside it (an injection either way). */
  if (f->eof || f->error || (f->tls_wanted && !f->tls_answered))
    return MAIL_ERR_STATE;
  size_t room = f->in.len < max_in ? max_in - f->in.len : 0;
  size_t k = len < room ? len : room;
  if (k == 0)
    return len ? MAIL_ERR_AGAIN : MAIL_OK;
  int rc = mail_buf_append(&f->in, buf, k);
  if (rc)
    return MAIL_ERR_NOMEM;
  *taken = k;
  return MAIL_OK;
}

void mail_feed_layer_trim(mail_layer *l)
{
  feed_layer *f = (feed_layer *)l;
  if (!f->in.len)
    mail_buf_free(&f->in);
}

void mail_feed_layer_eof(mail_layer *l)
{
  ((feed_layer *)l)->eof = 1;
}

void mail_feed_layer_error(mail_layer *l, int status)
{
  feed_layer *f = (feed_layer *)l;
  if (!f->error)
    f->error = status;
}

int mail_feed_layer_caller_tls(const mail_layer *l)
{
  return ((const feed_layer *)l)->caller_tls;
}

int mail_feed_layer_request_tls(mail_layer *l, const char *server_name)
{
  (void)server_name; /* the caller verifies against its own copy of the name */
  feed_layer *f = (feed_layer *)l;
  if (f->in.len)
    return mail_conn_fail(l->conn, MAIL_ERR_STARTTLS_INJECTION,
                          "%zu bytes were fed in the clear before TLS started", f->in.len);
  f->tls_wanted = 1;
  f->tls_answered = 0;
  return MAIL_OK;
}

int mail_feed_layer_tls_wanted(const mail_layer *l)
{
  const feed_layer *f = (const feed_layer *)l;
  return f->tls_wanted && !f->tls_answered;
}

int mail_feed_layer_tls_done(mail_layer *l, int status, int verified)
{
  feed_layer *f = (feed_layer *)l;
  if (!f->tls_wanted || f->tls_answered)
    return MAIL_ERR_STATE;
  f->tls_answered = 1;
  f->tls_rc = status;
  f->tls_verified = status == MAIL_OK && verified == 1;
  return MAIL_OK;
}

int mail_feed_layer_is_tls(const mail_layer *l)
{
  return ((const feed_layer *)l)->tls_active;
}

int mail_feed_layer_verified(const mail_layer *l)
{
  const feed_layer *f = (const feed_layer *)l;
  return f->tls_active && f->tls_verified;
}

static int cb_slot(int type)
{
  switch (type) {
  case MAIL_CB_TLS_EXPORTER: return 0;
  case MAIL_CB_TLS_SERVER_END_POINT: return 1;
  case MAIL_CB_TLS_UNIQUE: return 2;
  }
  return -1;
}

int mail_feed_layer_set_channel_binding(mail_layer *l, int type, const unsigned char *data,
                                        size_t len)
{
  feed_layer *f = (feed_layer *)l;
  int s = cb_slot(type);
  if (s < 0 || len > FEED_CB_MAX || (len && !data))
    return MAIL_ERR_INVALID;
  if (len)
    memcpy(f->cb[s], data, len);
  f->cb_len[s] = len;
  return MAIL_OK;
}

int mail_feed_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                    size_t *len)
{
  const feed_layer *f = (const feed_layer *)l;
  int s = cb_slot(type);
  if (s < 0 || !f->tls_active || !f->cb_len[s])
    return MAIL_ERR_UNSUPPORTED;
  *len = f->cb_len[s];
  if (cap < f->cb_len[s])
    return MAIL_ERR_BUFFER;
  memcpy(out, f->cb[s], f->cb_len[s]);
  return MAIL_OK;
}

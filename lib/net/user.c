/* The layer over a caller-supplied mail_transport_ops. */
#include "net/user.h"

#include "core/conn_internal.h"
#include "core/mem.h"

typedef struct user_layer {
  mail_layer base;
  const mail_transport_ops *ops;
  void *user;
  const char *tls_name;  /* set while a start_tls is pending */
  int tls_pending;
  int tls_active;
  int closed;
} user_layer;

static const mail_layer_ops user_layer_ops;

int mail_user_ops_valid(const mail_transport_ops *ops)
{
  return ops && ops->version >= 1 && ops->version <= MAIL_TRANSPORT_OPS_VERSION && ops->read &&
         ops->write;
}

/* A transport may only answer with codes the contract allows; anything
 * else non-fatal would leave the driver with nothing sensible to do. */
static int io_status(mail_layer *l, int rc, const char *what)
{
  if (rc == MAIL_OK || rc == MAIL_ERR_AGAIN || mail_status_is_fatal(rc))
    return rc;
  return mail_conn_fail(l->conn, MAIL_ERR_IO, "transport %s failed: %s", what, mail_strerror(rc));
}

static int user_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                     int timeout_ms)
{
  user_layer *u = (user_layer *)l;
  *got = 0;
  int rc = io_status(l, u->ops->read(u->user, buf, len, got, timeout_ms), "read");
  if (rc == MAIL_ERR_AGAIN)
    *want = MAIL_WANT_READ;
  else if (rc == MAIL_OK && (*got == 0 || *got > len))
    return mail_conn_fail(l->conn, MAIL_ERR_IO, "transport read returned a bad length");
  return rc;
}

static int user_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written,
                      int *want, int timeout_ms)
{
  user_layer *u = (user_layer *)l;
  *written = 0;
  int rc = io_status(l, u->ops->write(u->user, buf, len, written, timeout_ms), "write");
  if (rc == MAIL_ERR_AGAIN)
    *want = MAIL_WANT_WRITE;
  else if (rc == MAIL_OK && (*written == 0 || *written > len))
    return mail_conn_fail(l->conn, MAIL_ERR_IO, "transport write returned a bad length");
  return rc;
}

static int user_handshake(mail_layer *l, int *want, int timeout_ms)
{
  user_layer *u = (user_layer *)l;
  if (!u->tls_pending)
    return MAIL_OK;
  int rc = u->ops->start_tls(u->user, u->tls_name, timeout_ms);
  if (rc == MAIL_ERR_AGAIN) {
    /* The transport knows what it waits for; without an fd the caller
     * just steps again, so either flag will do. */
    *want = MAIL_WANT_READ;
    return rc;
  }
  u->tls_pending = 0;
  u->tls_name = NULL;
  if (rc == MAIL_OK) {
    u->tls_active = 1;
    return MAIL_OK;
  }
  if (!mail_status_is_fatal(rc))
    rc = MAIL_ERR_TLS;
  return mail_conn_fail(l->conn, rc, "transport TLS start failed: %s", mail_strerror(rc));
}

static int user_fd(const mail_layer *l)
{
  (void)l;
  return -1;
}

static void user_destroy(mail_layer *l)
{
  user_layer *u = (user_layer *)l;
  if (!u->closed && u->ops->close)
    u->ops->close(u->user);
  u->closed = 1;
  mail_dealloc(&mail_conn_env(l->conn)->alloc, u);
}

static const mail_layer_ops user_layer_ops = {
  .name = "user",
  .read = user_read,
  .write = user_write,
  .handshake = user_handshake,
  .fd = user_fd,
  .destroy = user_destroy,
};

int mail_user_layer_new(mail_layer **out, mail_conn *c, const mail_transport_ops *ops, void *user)
{
  *out = NULL;
  user_layer *u = mail_calloc(&mail_conn_env(c)->alloc, 1, sizeof *u);
  if (!u)
    return MAIL_ERR_NOMEM;
  u->base.ops = &user_layer_ops;
  u->base.lower = NULL;
  u->base.conn = c;
  u->ops = ops;
  u->user = user;
  *out = &u->base;
  return MAIL_OK;
}

int mail_user_layer_connect(mail_layer *l, const char *host, unsigned int port, int timeout_ms)
{
  user_layer *u = (user_layer *)l;
  if (!u->ops->connect)
    return MAIL_OK;
  int rc = u->ops->connect(u->user, host, port, timeout_ms);
  if (rc == MAIL_OK || rc == MAIL_ERR_AGAIN)
    return rc;
  if (!mail_status_is_fatal(rc) && rc != MAIL_ERR_NOMEM && rc != MAIL_ERR_INVALID)
    rc = MAIL_ERR_CONNECT;
  return mail_conn_fail(l->conn, rc, "transport connect failed: %s", mail_strerror(rc));
}

int mail_user_layer_request_tls(mail_layer *l, const char *server_name, int implicit)
{
  user_layer *u = (user_layer *)l;
  if (!u->ops->start_tls)
    return mail_conn_fail(l->conn, implicit ? MAIL_ERR_TLS : MAIL_ERR_STARTTLS,
                          "the transport cannot start TLS");
  u->tls_pending = 1;
  u->tls_name = server_name;
  return MAIL_OK;
}

int mail_layer_is_user(const mail_layer *l)
{
  return l && l->ops == &user_layer_ops;
}

int mail_user_layer_verified(const mail_layer *l)
{
  const user_layer *u = (const user_layer *)l;
  return u->ops->is_verified ? u->ops->is_verified(u->user) == 1 : 0;
}

int mail_user_layer_is_tls(const mail_layer *l)
{
  const user_layer *u = (const user_layer *)l;
  return u->tls_active || mail_user_layer_verified(l);
}

int mail_user_layer_channel_binding(const mail_layer *l, int type, unsigned char *out, size_t cap,
                                    size_t *len)
{
  const user_layer *u = (const user_layer *)l;
  /* A version 1 transport predates tls-unique and may answer an unknown
   * type with another type's data. */
  if (!u->ops->channel_binding || (type == MAIL_CB_TLS_UNIQUE && u->ops->version < 2))
    return MAIL_ERR_UNSUPPORTED;
  return u->ops->channel_binding(u->user, type, out, cap, len);
}

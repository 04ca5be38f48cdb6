/* Feed mode (mail_conn_set_feed): the public calls through which the
 * caller carries a connection's bytes itself. The layer that holds them is
 * net/feed.c; connecting in feed mode is in conn_connect.c. */
#include <string.h>

#include "net/conn_impl.h"

int mail_conn_set_feed(mail_conn *c, int mode)
{
  if (!c || (mode != MAIL_FEED_OFF && mode != MAIL_FEED_LIBMAIL_TLS && mode != MAIL_FEED_CALLER_TLS))
    return MAIL_ERR_INVALID;
  if (!conn_can_start(c) ||
      (mode != MAIL_FEED_OFF && (c->uops || c->proxy_kind != MAIL_PROXY_NONE)))
    return MAIL_ERR_STATE;
  c->feed = mode;
  if (mode != MAIL_FEED_OFF)
    c->nonblocking = 1; /* nothing to wait on: every wait is the caller's */
  return MAIL_OK;
}

/* The feed layer of a live connection in feed mode, or NULL. */
static mail_layer *live_feed(const mail_conn *c)
{
  return c->feed && c->state != ST_IDLE && c->state != ST_CLOSED ? feed_layer(c) : NULL;
}

int mail_conn_feed(mail_conn *c, const unsigned char *buf, size_t len, size_t *taken)
{
  if (taken)
    *taken = 0;
  if (!c || !taken || (!buf && len))
    return MAIL_ERR_INVALID;
  mail_layer *f = live_feed(c);
  if (!f)
    return MAIL_ERR_STATE;
  return mail_feed_layer_put(f, buf, len, taken, c->limits.max_line);
}

int mail_conn_feed_eof(mail_conn *c)
{
  if (!c)
    return MAIL_ERR_INVALID;
  mail_layer *f = live_feed(c);
  if (!f)
    return MAIL_ERR_STATE;
  mail_feed_layer_eof(f);
  return MAIL_OK;
}

int mail_conn_feed_error(mail_conn *c, int status)
{
  if (!c || !mail_status_is_fatal(status))
    return MAIL_ERR_INVALID;
  mail_layer *f = live_feed(c);
  if (!f)
    return MAIL_ERR_STATE;
  mail_feed_layer_error(f, status);
  return MAIL_OK;
}

int mail_conn_drain(mail_conn *c, unsigned char *buf, size_t cap, size_t *len)
{
  if (len)
    *len = 0;
  if (!c || !len || (!buf && cap))
    return MAIL_ERR_INVALID;
  if (!c->feed)
    return MAIL_ERR_STATE;
  size_t k = c->feed_out.len < cap ? c->feed_out.len : cap;
  if (k) {
    memcpy(buf, c->feed_out.data, k);
    mail_buf_consume(&c->feed_out, k);
  }
  if (!c->feed_out.len)
    mail_buf_free(&c->feed_out); /* an idle session keeps nothing */
  *len = k;
  return MAIL_OK;
}

/* The feed layer in caller-TLS mode, or NULL. */
static mail_layer *caller_tls_feed(const mail_conn *c)
{
  mail_layer *f = c->feed == MAIL_FEED_CALLER_TLS ? live_feed(c) : NULL;
  return f && mail_feed_layer_caller_tls(f) ? f : NULL;
}

int mail_conn_feed_tls_done(mail_conn *c, int status, int verified)
{
  if (!c)
    return MAIL_ERR_INVALID;
  mail_layer *f = caller_tls_feed(c);
  if (!f)
    return MAIL_ERR_STATE;
  return mail_feed_layer_tls_done(f, status, verified);
}

int mail_conn_feed_set_channel_binding(mail_conn *c, int type, const unsigned char *data,
                                       size_t len)
{
  if (!c)
    return MAIL_ERR_INVALID;
  mail_layer *f = caller_tls_feed(c);
  if (!f)
    return MAIL_ERR_STATE;
  return mail_feed_layer_set_channel_binding(f, type, data, len);
}

/*
 * The connection object: construction, settings, closing, and the facts a
 * caller asks about (fd and wants for an event loop, TLS state). The output
 * queue, the driver and connecting have files of their own (conn_impl.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "net/conn_impl.h"

/* ------------------------------------------------------------------ */
/* Library initialisation                                               */
/* ------------------------------------------------------------------ */

int mail_init(void)
{
  return mail_tls_global_init() == MAIL_OK ? MAIL_OK : MAIL_ERR_INTERNAL;
}

int mail_conn_fail(mail_conn *c, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->last_error, sizeof c->last_error, fmt, ap);
  va_end(ap);
  c->fail_seq++;
  return rc;
}

void mail_conn_clear_error(mail_conn *c)
{
  c->last_error[0] = '\0';
}

void mail_conn_trace_info(mail_conn *c, const char *fmt, ...)
{
  if (!c->trace)
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
  c->trace(c->trace_user, MAIL_TRACE_INFO, msg, len);
}

/* ------------------------------------------------------------------ */
/* Construction and settings                                            */
/* ------------------------------------------------------------------ */

int mail_conn_new(mail_conn **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  /* No mail_init() here: OpenSSL is initialised when TLS is first used,
   * so a session without TLS allocates only through the hooks. */
  mail_allocator a;
  int rc = mail_alloc_init(&a, alloc);
  if (rc)
    return rc;
  mail_conn *c = mail_calloc(&a, 1, sizeof *c);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_env_init(&c->env, alloc);
  mail_limits_defaults(&c->limits);
  mail_reader_init(&c->reader, A(c), c->limits.max_line);
  /* Engines pace what they queue (see mail_conn_out_pending); this bound
   * only stops a runaway producer. */
  mail_buf_init(&c->out, A(c), c->limits.max_output);
  mail_buf_init(&c->scratch, A(c), 0);
  mail_buf_init(&c->feed_out, A(c), 0);
  mail_buf_set_sensitive(&c->feed_out); /* may be plaintext with secrets */
  c->read_chunk = READ_MIN;
  c->timeout_connect = DEFAULT_TIMEOUT_CONNECT_MS;
  c->timeout_io = DEFAULT_TIMEOUT_IO_MS;
  c->wait_override = -1;
  c->state = ST_IDLE;
  c->keep_facts = 1;
  c->connect_deadline = -1;
  c->wait_deadline = -1;
  c->wake_rd = -1;
  atomic_init(&c->wake_wr, -1);
  c->wake_at = -1;
  *out = c;
  return MAIL_OK;
}

void conn_forget_tls_facts(mail_conn *c)
{
  mail_dealloc(A(c), c->peer_cert);
  c->peer_cert = NULL;
  c->peer_cert_len = 0;
  c->have_verify_error = 0;
  c->verify_error[0] = '\0';
}

void mail_conn_free(mail_conn *c)
{
  if (!c)
    return;
  /* No trace calls from inside free: the hook's owner may be tearing down
   * too. Nothing to keep from a TLS layer either. */
  c->trace = NULL;
  c->keep_facts = 0;
  mail_conn_close(c);
  conn_wake_close(c);
  conn_forget_tls_facts(c);
  mail_reader_free(&c->reader);
  mail_buf_free(&c->out);
  mail_buf_free(&c->scratch);
  mail_buf_free(&c->feed_out);
  mail_dealloc(A(c), c->spans);
  mail_dealloc(A(c), c->host);
  mail_dealloc(A(c), c->tls_server_name);
  conn_proxy_clear(c);
  mail_tls_config_free(c->tls_cfg);
  mail_allocator a = c->env.alloc;
  mail_wipe(c, sizeof *c);
  mail_dealloc(&a, c);
}

int mail_conn_set_trace(mail_conn *c, mail_trace_fn fn, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  c->trace = fn;
  c->trace_user = fn ? user : NULL;
  return MAIL_OK;
}

int mail_conn_set_trace_show_secrets_insecure(mail_conn *c, int on)
{
  if (!c)
    return MAIL_ERR_INVALID;
  c->trace_secrets = on != 0;
  return MAIL_OK;
}

/* Lines shorter than this could not hold a protocol's shortest reply. */
#define MIN_MAX_LINE 16
/* An output queue smaller than this could not hold one maximal SMTP AUTH
 * line (12,288 bytes, RFC 4954). */
#define MIN_MAX_OUTPUT (16 * 1024)

int mail_conn_set_limits(mail_conn *c, const mail_limits *limits)
{
  mail_limits l;
  if (!c || mail_limits_import(&l, limits) != MAIL_OK || l.max_line < MIN_MAX_LINE ||
      l.max_output < MIN_MAX_OUTPUT)
    return MAIL_ERR_INVALID;
  c->limits = l;
  /* Engines read the rest from mail_conn_limits() when they use it. */
  mail_reader_set_max_line(&c->reader, c->limits.max_line);
  c->out.limit = c->limits.max_output;
  return MAIL_OK;
}

void mail_conn_get_limits(const mail_conn *c, mail_limits *out)
{
  if (!out)
    return;
  mail_limits def;
  mail_limits_defaults(&def);
  mail_limits_export(c ? &c->limits : &def, out);
}

int mail_conn_set_timeout(mail_conn *c, int kind, int ms)
{
  if (!c || ms < -1)
    return MAIL_ERR_INVALID;
  switch (kind) {
  case MAIL_TIMEOUT_CONNECT:
    c->timeout_connect = ms;
    return MAIL_OK;
  case MAIL_TIMEOUT_IO:
    c->timeout_io = ms;
    return MAIL_OK;
  }
  return MAIL_ERR_INVALID;
}

void mail_conn_set_wait_timeout(mail_conn *c, int ms)
{
  c->wait_override = ms < -1 ? -1 : ms;
  c->io_deadline_set = 0;
}

int mail_conn_set_random(mail_conn *c, mail_random_fn fn, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  mail_env_set_random(&c->env, fn, user);
  return MAIL_OK;
}

int mail_conn_set_clock(mail_conn *c, mail_clock_fn fn, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  mail_env_set_clock(&c->env, fn, user);
  return MAIL_OK;
}

int mail_conn_set_tls_config(mail_conn *c, mail_tls_config *cfg)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (cfg)
    mail_tls_config_ref(cfg);
  mail_tls_config_free(c->tls_cfg);
  c->tls_cfg = cfg;
  return MAIL_OK;
}

int conn_set_string(mail_conn *c, char **dst, const char *s)
{
  char *copy = NULL;
  if (s) {
    if (mail_has_crlfnul(s, strlen(s)))
      return MAIL_ERR_INVALID;
    copy = mail_strdup(A(c), s);
    if (!copy)
      return MAIL_ERR_NOMEM;
  }
  mail_dealloc(A(c), *dst);
  *dst = copy;
  return MAIL_OK;
}

int mail_conn_set_tls_server_name(mail_conn *c, const char *name)
{
  if (!c || (name && !*name))
    return MAIL_ERR_INVALID;
  return conn_set_string(c, &c->tls_server_name, name);
}

int mail_conn_set_nonblocking(mail_conn *c, int on)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (c->feed && !on)
    return MAIL_ERR_STATE; /* nothing to wait on: a blocking wait could not end */
  c->nonblocking = on != 0;
  return MAIL_OK;
}

int mail_conn_set_transport(mail_conn *c, const mail_transport_ops *ops, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (!conn_can_start(c) || (ops && c->feed))
    return MAIL_ERR_STATE;
  if (ops && !mail_user_ops_valid(ops))
    return MAIL_ERR_INVALID;
  c->uops = ops;
  c->uuser = ops ? user : NULL;
  return MAIL_OK;
}

const mail_env *mail_conn_env(const mail_conn *c)
{
  return &c->env;
}

const mail_limits *mail_conn_limits(const mail_conn *c)
{
  return &c->limits;
}

mail_reader *mail_conn_reader(mail_conn *c)
{
  return &c->reader;
}

const char *mail_conn_host(const mail_conn *c)
{
  return c->host;
}

unsigned int mail_conn_port(const mail_conn *c)
{
  return c->port;
}

int mail_conn_is_open(const mail_conn *c)
{
  return c && c->state == ST_OPEN;
}

int mail_conn_is_nonblocking(const mail_conn *c)
{
  return c && c->nonblocking;
}

const char *mail_conn_last_error(const mail_conn *c)
{
  return c ? c->last_error : "";
}

/* ------------------------------------------------------------------ */
/* Closing                                                              */
/* ------------------------------------------------------------------ */

/* Keep what the caller may still ask about a TLS layer that is going away
 * (the certificate that failed verification, and why). */
static void keep_tls_facts(mail_conn *c, const mail_layer *tl)
{
  conn_forget_tls_facts(c);
  const unsigned char *der = NULL;
  size_t len = 0;
  if (mail_tls_layer_peer_certificate(tl, &der, &len) == MAIL_OK && der && len) {
    c->peer_cert = mail_memdup(A(c), der, len);
    if (c->peer_cert)
      c->peer_cert_len = len;
  }
  const char *why = mail_tls_layer_verify_error(tl);
  if (why) {
    snprintf(c->verify_error, sizeof c->verify_error, "%s", why);
    c->have_verify_error = 1;
  }
}

void mail_conn_close(mail_conn *c)
{
  if (!c)
    return;
  int was_open = c->top != NULL;
  mail_layer *tl = tls_layer(c);
  if (tl && c->keep_facts)
    keep_tls_facts(c, tl);
  if (c->top)
    c->top->ops->destroy(c->top);
  c->top = NULL;
  mail_tcp_connector_free(c->connector);
  c->connector = NULL;
  if (c->state != ST_IDLE)
    c->state = ST_CLOSED;
  mail_reader_reset(&c->reader);
  conn_drop_output(c);
  mail_buf_free(&c->scratch);
  c->handshake_pending = 0;
  c->finishing = 0;
  c->write_shut = 0;
  c->want = 0;
  c->wait_deadline = -1;
  c->io_deadline_set = 0;
  c->fatal_rc = 0;
  if (was_open)
    mail_conn_trace_info(c, "connection closed");
}

/* Close after a fatal error; later calls report rc. */
int conn_close_fatal(mail_conn *c, int rc)
{
  mail_conn_close(c);
  c->state = ST_CLOSED;
  c->fatal_rc = rc;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Event-loop surface and TLS facts                                     */
/* ------------------------------------------------------------------ */

int mail_conn_fd(const mail_conn *c)
{
  if (!c)
    return -1;
  if (c->top)
    return conn_top_fd(c);
  if (c->connector)
    return mail_tcp_connector_fd(c->connector);
  return -1;
}

int mail_conn_want(const mail_conn *c)
{
  if (!c)
    return 0;
  /* Feed mode: output to drain is worth saying whatever the driver waits
   * for (the last flush before an operation ends, or a close). */
  return c->want | (c->feed && c->feed_out.len ? MAIL_WANT_WRITE : 0);
}

int64_t mail_conn_timeout_ms(const mail_conn *c)
{
  /* Waiting for the caller's resolver: no descriptor, but a deadline. */
  if (!c || (!c->want && c->state != ST_RESOLVING) || c->wait_deadline < 0)
    return -1;
  int64_t left = c->wait_deadline - now_ms(c);
  return left > 0 ? left : 0;
}

/* The TLS layer once its handshake is done. */
static const mail_layer *live_tls(const mail_conn *c)
{
  return c->handshake_pending ? NULL : tls_layer(c);
}

int mail_conn_is_tls(const mail_conn *c)
{
  if (!c || c->handshake_pending)
    return 0;
  if (live_tls(c))
    return 1;
  const mail_layer *f = feed_layer(c);
  if (f)
    return mail_feed_layer_is_tls(f);
  const mail_layer *u = user_layer(c);
  return u ? mail_user_layer_is_tls(u) : 0;
}

int mail_conn_is_verified(const mail_conn *c)
{
  if (!c || c->handshake_pending)
    return 0;
  const mail_layer *tl = live_tls(c);
  if (tl)
    return mail_tls_layer_verified(tl) == 1;
  const mail_layer *f = feed_layer(c);
  if (f)
    return mail_feed_layer_verified(f);
  const mail_layer *u = user_layer(c);
  return u ? mail_user_layer_verified(u) : 0;
}

const char *mail_conn_tls_version(const mail_conn *c)
{
  const mail_layer *tl = c ? live_tls(c) : NULL;
  return tl ? mail_tls_layer_version(tl) : NULL;
}

const char *mail_conn_tls_cipher(const mail_conn *c)
{
  const mail_layer *tl = c ? live_tls(c) : NULL;
  return tl ? mail_tls_layer_cipher(tl) : NULL;
}

int mail_conn_tls_resumed(const mail_conn *c)
{
  const mail_layer *tl = c ? live_tls(c) : NULL;
  return tl ? mail_tls_layer_resumed(tl) == 1 : 0;
}

int mail_conn_peer_certificate(const mail_conn *c, const unsigned char **der, size_t *len)
{
  if (!c || !der || !len)
    return MAIL_ERR_INVALID;
  *der = NULL;
  *len = 0;
  const mail_layer *tl = tls_layer(c);
  if (tl)
    return mail_tls_layer_peer_certificate(tl, der, len);
  if (!c->peer_cert)
    return MAIL_ERR_NOT_FOUND;
  *der = c->peer_cert;
  *len = c->peer_cert_len;
  return MAIL_OK;
}

const char *mail_conn_verify_error(const mail_conn *c)
{
  if (!c)
    return NULL;
  const mail_layer *tl = tls_layer(c);
  if (tl)
    return mail_tls_layer_verify_error(tl);
  return c->have_verify_error ? c->verify_error : NULL;
}

int mail_conn_channel_binding(const mail_conn *c, int type, unsigned char *out, size_t cap,
                              size_t *len)
{
  if (!c || !len || (!out && cap))
    return MAIL_ERR_INVALID;
  *len = 0;
  if (type != MAIL_CB_TLS_EXPORTER && type != MAIL_CB_TLS_SERVER_END_POINT &&
      type != MAIL_CB_TLS_UNIQUE)
    return MAIL_ERR_INVALID;
  if (c->state != ST_OPEN || c->handshake_pending)
    return MAIL_ERR_UNSUPPORTED;
  const mail_layer *tl = live_tls(c);
  if (tl)
    return mail_tls_layer_channel_binding(tl, type, out, cap, len);
  const mail_layer *f = feed_layer(c);
  if (f)
    return mail_feed_layer_channel_binding(f, type, out, cap, len);
  const mail_layer *u = user_layer(c);
  if (u && mail_user_layer_is_tls(u))
    return mail_user_layer_channel_binding(u, type, out, cap, len);
  return MAIL_ERR_UNSUPPORTED;
}


/* Connecting: TCP (every resolved address within one deadline), Unix
 * sockets, the caller's transport, an adopted descriptor; implicit TLS at
 * connect and the STARTTLS switch on a live connection. */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "core/mem.h"
#include "net/conn_impl.h"
#include "net/proxy.h"

static const char *server_name(const mail_conn *c)
{
  return c->tls_server_name ? c->tls_server_name : c->host;
}

/* ------------------------------------------------------------------ */
/* TLS                                                                  */
/* ------------------------------------------------------------------ */

/* A TLS setup failure is a TLS failure (fatal), except running out of
 * memory; the layer's own description is kept when it gave one. */
static int tls_setup_failed(mail_conn *c, int rc, unsigned int seq)
{
  int out = rc == MAIL_ERR_NOMEM || mail_status_is_fatal(rc) ? rc : MAIL_ERR_TLS;
  if (c->fail_seq == seq)
    return mail_conn_fail(c, out, "cannot set up TLS: %s", mail_strerror(rc));
  return out;
}

static int push_tls(mail_conn *c, int implicit)
{
  mail_layer *u = user_layer(c);
  if (u)
    return mail_user_layer_request_tls(u, server_name(c), implicit);
  mail_layer *f = feed_layer(c);
  if (f && mail_feed_layer_caller_tls(f))
    return mail_feed_layer_request_tls(f, server_name(c));
  if (tls_layer(c))
    return mail_conn_fail(c, MAIL_ERR_STATE, "TLS is already active");
  unsigned int seq = c->fail_seq;
  if (!c->tls_cfg) {
    int rc = mail_tls_config_new(&c->tls_cfg, A(c));
    if (rc)
      return tls_setup_failed(c, rc, seq);
  }
  mail_layer *tl = NULL;
  int rc = mail_tls_layer_new(&tl, c, c->top, c->tls_cfg, server_name(c));
  if (rc)
    return tls_setup_failed(c, rc, seq);
  c->top = tl;
  return MAIL_OK;
}

int mail_conn_start_tls(mail_conn *c)
{
  if (!c || c->state != ST_OPEN)
    return MAIL_ERR_STATE;
  size_t pending = mail_reader_pending(&c->reader);
  if (pending) {
    mail_conn_fail(c, MAIL_ERR_STARTTLS_INJECTION,
                   "%zu bytes arrived after the STARTTLS go-ahead, before the TLS handshake",
                   pending);
    return conn_close_fatal(c, MAIL_ERR_STARTTLS_INJECTION);
  }
  mail_conn_trace_info(c, "starting TLS");
  int rc = push_tls(c, 0);
  if (rc)
    return conn_close_fatal(c, rc);
  c->handshake_pending = 1;
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* Connecting                                                           */
/* ------------------------------------------------------------------ */

/* Reset what belongs to the previous connection and remember the target. */
static int begin_connect(mail_conn *c, const char *host, unsigned int port, int implicit_tls)
{
  if (host && mail_has_crlfnul(host, strlen(host)))
    return mail_conn_fail(c, MAIL_ERR_INVALID, "invalid host name");
  mail_conn_close(c);
  conn_forget_tls_facts(c);
  mail_buf_free(&c->feed_out); /* the last connection's undrained bytes */
  c->last_error[0] = '\0';
  int rc = conn_set_string(c, &c->host, host);
  if (rc)
    return rc;
  c->port = port;
  c->implicit_tls = implicit_tls != 0;
  c->connect_deadline = deadline_after(c, c->timeout_connect);
  c->state = ST_CONNECTING;
  mail_conn_busy(c, MAIL_CONN_BUSY_CONNECT, 1);
  return MAIL_OK;
}

/* A failure while connecting: nothing stays half-open. */
static int connect_failed(mail_conn *c, int rc)
{
  mail_conn_busy(c, MAIL_CONN_BUSY_CONNECT, 0);
  if (mail_status_is_fatal(rc))
    return conn_close_fatal(c, rc);
  mail_conn_close(c);
  return rc;
}

static int connect_user(mail_conn *c)
{
  for (;;) {
    int rc = mail_user_layer_connect(c->top, c->host, c->port,
                                     layer_timeout(c, c->connect_deadline));
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    rc = conn_wait_for(c, -1, MAIL_WANT_READ | MAIL_WANT_WRITE, c->connect_deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "connecting");
    if (rc)
      return rc;
  }
}

static int connect_socket(mail_conn *c)
{
  int waited_out = 0;
  for (;;) {
    int fd = -1;
    int rc = mail_tcp_connector_step(c->connector, now_ms(c), c->connect_deadline, waited_out,
                                     &fd);
    waited_out = 0;
    if (rc == MAIL_OK) {
      mail_layer *l;
      rc = mail_tcp_layer_new(&l, c, fd, 1);
      if (rc) {
        close(fd);
        return rc;
      }
      mail_conn_trace_info(c, "connected to %s", mail_tcp_connector_address(c->connector));
      mail_tcp_connector_free(c->connector);
      c->connector = NULL;
      c->top = l;
      return MAIL_OK;
    }
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    int64_t until = mail_tcp_connector_attempt_deadline(c->connector);
    if (until < 0)
      until = c->connect_deadline;
    rc = conn_wait_for(c, mail_tcp_connector_fd(c->connector), MAIL_WANT_WRITE, until);
    if (rc == MAIL_ERR_TIMEOUT)
      waited_out = 1;
    else if (rc)
      return rc;
  }
}

/* The proxy in use: none in a build without proxies, so that what serves
 * them is left out. */
static inline int proxy_kind(const mail_conn *c)
{
  return MAIL_WITH_PROXY ? c->proxy_kind : MAIL_PROXY_NONE;
}

#if MAIL_WITH_PROXY
/* The socket to the proxy is up: ask it for the tunnel. */
static int push_proxy(mail_conn *c)
{
  mail_proxy_target t = {c->proxy_kind, c->host, c->port, c->proxy_user, c->proxy_pass};
  mail_layer *pl = NULL;
  int rc = mail_proxy_layer_new(&pl, c, c->top, &t);
  if (rc)
    return rc == MAIL_ERR_NOMEM ? rc
                                : mail_conn_fail(c, rc, "cannot ask the proxy for %s", c->host);
  c->top = pl;
  return MAIL_OK;
}

static int proxy_negotiate(mail_conn *c)
{
  for (;;) {
    int want = 0;
    int rc = c->top->ops->handshake(c->top, &want, layer_timeout(c, c->connect_deadline));
    if (rc == MAIL_OK) {
      mail_conn_trace_info(c, "the %s proxy opened a tunnel to %s:%u",
                           mail_proxy_kind_name(c->proxy_kind), c->host, c->port);
      return MAIL_OK;
    }
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    rc = conn_wait_for(c, conn_top_fd(c), want ? want : MAIL_WANT_READ, c->connect_deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return conn_timed_out(c, "waiting for the proxy");
    if (rc)
      return rc;
  }
}
#endif

/* Drive a connect that is under way; shared by every connect entry point
 * and by their repeated calls in event-loop mode. */
static int connect_steps(mail_conn *c);

static int connect_continue(mail_conn *c)
{
  int rc = conn_cancel_requested(c) ? conn_cancel_now(c) : connect_steps(c);
  if (rc != MAIL_ERR_AGAIN)
    mail_conn_busy(c, MAIL_CONN_BUSY_CONNECT, 0);
  return rc;
}

/* The name a connect resolves: the proxy's when there is one. */
static const char *resolve_name(const mail_conn *c)
{
  return proxy_kind(c) != MAIL_PROXY_NONE ? c->proxy_host : c->host;
}

/* Waiting for the caller's resolver (mail_conn_resolved()). */
static int resolving(mail_conn *c)
{
  if (c->resolve_rc)
    return c->resolve_rc;
  if (c->connector) {
    c->state = ST_CONNECTING;
    return MAIL_OK;
  }
  if (!c->nonblocking)
    return mail_conn_fail(c, MAIL_ERR_RESOLVE,
                          "the resolver did not answer for %s before it returned (blocking mode)",
                          resolve_name(c));
  int rc = conn_wait_for(c, -1, 0, c->connect_deadline);
  if (rc == MAIL_ERR_TIMEOUT)
    return conn_timed_out(c, "waiting for the resolver");
  return rc;
}

/* Ask the caller's resolver; it may answer at once. */
static int ask_resolver(mail_conn *c)
{
  c->resolve_rc = 0;
  c->state = ST_RESOLVING;
  mail_conn_trace_info(c, "asking the resolver for %s", resolve_name(c));
  unsigned int port = proxy_kind(c) != MAIL_PROXY_NONE ? c->proxy_port : c->port;
  int rc = c->resolver(c->resolver_user, c, resolve_name(c), port);
  if (rc > 0 || rc == MAIL_ERR_AGAIN)
    rc = MAIL_ERR_INTERNAL;
  if (rc && c->state == ST_RESOLVING && !c->resolve_rc)
    return mail_conn_fail(c, rc, "the resolver refused the query for %s: %s", resolve_name(c),
                          mail_strerror(rc));
  return rc;
}

static int connect_steps(mail_conn *c)
{
  int rc;
  if (c->state == ST_RESOLVING) {
    rc = resolving(c);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
  }
  if (c->state == ST_CONNECTING) {
    /* Feed mode: nothing to open; the caller's I/O is already there. */
    rc = c->feed ? MAIL_OK : c->connector ? connect_socket(c) : connect_user(c);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
#if MAIL_WITH_PROXY
    if (c->proxy_kind != MAIL_PROXY_NONE && !c->uops && !c->feed) {
      rc = push_proxy(c);
      if (rc)
        return connect_failed(c, rc);
      c->state = ST_PROXY;
    }
#endif
  }
#if MAIL_WITH_PROXY
  if (c->state == ST_PROXY) {
    rc = proxy_negotiate(c);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
    c->state = ST_CONNECTING; /* on to what a direct connect does next */
  }
#endif
  if (c->state == ST_CONNECTING) {
    if (c->implicit_tls) {
      rc = push_tls(c, 1);
      if (rc)
        return connect_failed(c, rc);
      c->handshake_pending = 1;
      c->state = ST_HANDSHAKE;
    } else {
      c->state = ST_OPEN;
    }
  }
  if (c->state == ST_HANDSHAKE) {
    rc = conn_handshake(c, c->connect_deadline);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
    c->state = ST_OPEN;
  }
  conn_progress(c);
  return MAIL_OK;
}

static int connecting(const mail_conn *c)
{
  return c->state == ST_CONNECTING || c->state == ST_RESOLVING || c->state == ST_PROXY ||
         c->state == ST_HANDSHAKE;
}

/* Connecting other than by name cannot name the server to a proxy. */
static int proxy_refuses(mail_conn *c)
{
  if (proxy_kind(c) == MAIL_PROXY_NONE)
    return 0;
  mail_conn_fail(c, MAIL_ERR_STATE, "a proxy is set: connect by host name");
  return 1;
}

int mail_conn_connect(mail_conn *c, const char *host, unsigned int port, int implicit_tls)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (connecting(c))
    return connect_continue(c);
  if (!conn_can_start(c))
    return MAIL_ERR_STATE;
  if (!c->uops && (!host || !*host || port == 0 || port > 65535))
    return mail_conn_fail(c, MAIL_ERR_INVALID, "invalid host or port");
  int rc = begin_connect(c, host, port, implicit_tls);
  if (rc)
    return connect_failed(c, rc);
  if ((c->uops || c->feed) && proxy_kind(c) != MAIL_PROXY_NONE) {
    mail_conn_close(c);
    return mail_conn_fail(c, MAIL_ERR_STATE, "a proxy cannot be used with the caller's transport");
  }
  if (c->feed) {
    rc = mail_feed_layer_new(&c->top, c, &c->feed_out, c->feed == MAIL_FEED_CALLER_TLS);
    if (rc)
      return connect_failed(c, rc);
    mail_conn_trace_info(c, "feed mode: the caller carries the bytes for %s:%u", host, port);
  } else if (c->uops) {
    rc = mail_user_layer_new(&c->top, c, c->uops, c->uuser);
    if (rc)
      return connect_failed(c, rc);
    mail_conn_trace_info(c, "connecting through the caller's transport");
  } else {
    if (proxy_kind(c) != MAIL_PROXY_NONE)
      mail_conn_trace_info(c, "connecting through the %s proxy %s:%u",
                           mail_proxy_kind_name(c->proxy_kind), c->proxy_host, c->proxy_port);
    unsigned int to = proxy_kind(c) != MAIL_PROXY_NONE ? c->proxy_port : port;
    if (c->resolver && !mail_tcp_is_ip_literal(resolve_name(c)))
      rc = ask_resolver(c);
    else
      rc = mail_tcp_connector_new_host(&c->connector, c, resolve_name(c), to);
    if (rc)
      return connect_failed(c, rc);
  }
  return connect_continue(c);
}

int mail_conn_connect_addrs(mail_conn *c, const void *const *sockaddrs, const size_t *lens,
                            size_t n, const char *host, int implicit_tls)
{
  if (!c || !sockaddrs || !lens || n == 0)
    return MAIL_ERR_INVALID;
  if (connecting(c))
    return connect_continue(c);
  if (!conn_can_start(c) || c->uops || c->feed || proxy_refuses(c))
    return MAIL_ERR_STATE;
  int rc = begin_connect(c, host, 0, implicit_tls);
  if (rc)
    return connect_failed(c, rc);
  rc = mail_tcp_connector_new_list(&c->connector, c, sockaddrs, lens, n);
  if (rc)
    return connect_failed(c, rc);
  return connect_continue(c);
}

int mail_conn_connect_addr(mail_conn *c, const void *sockaddr, size_t addr_len, const char *host,
                           int implicit_tls)
{
  if (!sockaddr)
    return MAIL_ERR_INVALID;
  return mail_conn_connect_addrs(c, &sockaddr, &addr_len, 1, host, implicit_tls);
}

int mail_conn_connect_unix(mail_conn *c, const char *path)
{
  if (!c || !path)
    return MAIL_ERR_INVALID;
  if (connecting(c))
    return connect_continue(c);
  if (!conn_can_start(c) || c->uops || c->feed || proxy_refuses(c))
    return MAIL_ERR_STATE;
  int rc = begin_connect(c, NULL, 0, 0);
  if (rc)
    return connect_failed(c, rc);
  rc = mail_tcp_connector_new_unix(&c->connector, c, path);
  if (rc)
    return connect_failed(c, rc);
  return connect_continue(c);
}

int mail_conn_adopt_fd(mail_conn *c, int fd, const char *host)
{
  if (!c || fd < 0)
    return MAIL_ERR_INVALID;
  if (!conn_can_start(c) || c->uops || c->feed || proxy_refuses(c))
    return MAIL_ERR_STATE;
  if (host && mail_has_crlfnul(host, strlen(host)))
    return MAIL_ERR_INVALID;
  if (mail_tcp_prepare_fd(fd) != MAIL_OK)
    return mail_conn_fail(c, MAIL_ERR_INVALID, "not a usable descriptor");
  int rc = begin_connect(c, host, 0, 0);
  if (rc)
    return connect_failed(c, rc);
  rc = mail_tcp_layer_new(&c->top, c, fd, 0);
  if (rc)
    return connect_failed(c, rc);
  c->state = ST_OPEN;
  mail_conn_busy(c, MAIL_CONN_BUSY_CONNECT, 0);
  mail_conn_trace_info(c, "using an adopted descriptor");
  return MAIL_OK;
}

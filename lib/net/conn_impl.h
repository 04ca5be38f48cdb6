/*
 * What the files of the connection share (lib/net only): the connection
 * object itself and the small helpers every part uses. The connection is
 * split by job:
 *
 *   conn.c         the object: construction, settings, closing, the facts
 *                  callers ask about (fd, wants, TLS), mail_init()
 *   conn_output.c  the output queue with its secret spans and the redacted
 *                  trace of what was written
 *   conn_driver.c  waiting, the read/write/handshake steps and the driver
 *                  loop mail_conn_run()
 *   conn_feed.c    feed mode: the caller feeds and drains the bytes
 *   conn_connect.c connecting (TCP, Unix, the caller's transport, an
 *                  adopted fd), implicit TLS and the STARTTLS switch
 */
#ifndef MAIL_NET_CONN_IMPL_H
#define MAIL_NET_CONN_IMPL_H

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/conn_internal.h"
#include "core/limits.h"
#include "net/feed.h"
#include "net/layer.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "net/user.h"

#define DEFAULT_TIMEOUT_CONNECT_MS 30000
#define DEFAULT_TIMEOUT_IO_MS 300000
/* Reads ask for room starting at READ_MIN; each read that fills at least
 * half of what it was given doubles the next one, up to one TLS record's
 * worth, so a session that exchanges short replies never holds more (see
 * idle_trim in conn_driver.c). */
#define READ_MIN 1024
#define READ_CHUNK 16384
/* Between operations, buffers larger than this are given back. */
#define IDLE_KEEP 4096
/* A user transport that says "again" in blocking mode is retried after
 * this pause (it should have waited itself; see mail_transport_ops). */
#define USER_RETRY_NAP_MS 10
#define REDACTED "[redacted]"

enum conn_state {
  ST_IDLE,        /* never connected */
  ST_CONNECTING,  /* TCP attempts or the user transport's connect */
  ST_RESOLVING,   /* waiting for the caller's resolver (mail_conn_resolved) */
  ST_PROXY,       /* asking the proxy for the tunnel, under the connect deadline */
  ST_HANDSHAKE,   /* implicit TLS handshake under the connect deadline */
  ST_OPEN,
  ST_CLOSED       /* closed by the caller or by a fatal error */
};

/* A secret's place in the output stream, by absolute byte offsets. */
typedef struct secret_span {
  uint64_t start, end;
} secret_span;

struct mail_conn {
  mail_env env;
  mail_limits limits;
  mail_reader reader;

  /* Output queue. out_base is the stream offset of out.data[0]. */
  mail_buf out;
  uint64_t out_base;
  secret_span *spans;
  size_t nspans, spans_cap;
  mail_buf scratch;  /* redacted copy of a written chunk for the trace */
  size_t read_chunk; /* room the next read asks for (READ_MIN..READ_CHUNK) */
  /* Blocking mode, when to wait before reading (conn_driver.c do_read):
   * read_more: the last read filled its room, more is likely waiting;
   * poll_streak/poll_left: after a read found nothing, the next reads wait
   * for poll() first (poll_left more times; the streak doubles while reads
   * keep finding nothing and halves when one finds data). */
  int read_more;
  /* Set by the driver for one read: the socket layer at the bottom may
   * wait in the read itself, read_block_ms at most (-1: no deadline),
   * instead of the driver's poll() before it (see blocking_read_ms). The
   * first socket read takes it (mail_layer_take_read_block), so a layer above
   * that reads again within one read never waits twice. */
  int read_block;
  int read_block_ms;
  int poll_streak;
  int poll_left;

  mail_trace_fn trace;
  void *trace_user;
  int trace_secrets;

  int timeout_connect;
  int timeout_io;
  int wait_override;  /* mail_conn_set_wait_timeout(); -1: timeout_io */
  int nonblocking;

  /* Feed mode (conn_feed.c): a mail_feed_mode, and what the feed layer
   * wrote and the caller has not drained yet (kept past a close). */
  int feed;
  mail_buf feed_out;

  const mail_transport_ops *uops;
  void *uuser;
  mail_tls_config *tls_cfg;
  char *tls_server_name;

  int state;
  char *host;
  unsigned int port;
  int implicit_tls;
  /* mail_conn_set_proxy(); proxy_pass is a secret (wiped). */
  int proxy_kind;
  char *proxy_host;
  unsigned int proxy_port;
  char *proxy_user;
  char *proxy_pass;
  /* mail_conn_set_resolver(); resolve_rc: the failure the resolver
   * answered (0: none yet, or addresses in connector). */
  mail_resolve_fn resolver;
  void *resolver_user;
  int resolve_rc;
  mail_tcp_connector *connector;
  mail_layer *top;
  int handshake_pending;
  int64_t connect_deadline;

  /* conn_wake.c: the self-pipe (write end atomic: mail_conn_wake() may
   * run on another thread) and the clock time a wait ends at (-1: none). */
  int wake_rd;
  atomic_int wake_wr;
  int wake_listen;
  int64_t wake_at;
  /* conn_cancel.c: what is under way (MAIL_CONN_BUSY_* bits);
   * mail_conn_cancel() asked to end it. Both may be set from another thread. */
  atomic_int busy;
  atomic_int cancel_req;

  /* The wait in progress (for mail_conn_want / mail_conn_timeout_ms). */
  int want;
  int64_t wait_deadline;
  /* Deadline of the current I/O wait; recomputed after progress. */
  int64_t io_deadline;
  int io_deadline_set;

  /* The engine finished while output was still queued: flush, then
   * return finish_rc. */
  int finishing;
  int finish_rc;
  /* The peer stopped taking bytes: drop output, keep reading what it sent. */
  int write_shut;
  int fatal_rc;

  /* Kept from the TLS layer when it goes away (failed verification). */
  unsigned char *peer_cert;
  size_t peer_cert_len;
  char verify_error[256];
  int have_verify_error;
  int keep_facts;      /* 0 while freeing */

  char last_error[512];
  unsigned int fail_seq;
};

static inline const mail_allocator *A(const mail_conn *c)
{
  return &c->env.alloc;
}

static inline int64_t now_ms(const mail_conn *c)
{
  return mail_env_now(&c->env, MAIL_CLOCK_MONOTONIC);
}

static inline int64_t deadline_after(const mail_conn *c, int ms)
{
  return ms < 0 ? -1 : now_ms(c) + ms;
}

/* What a layer without an fd may wait: 0 in event-loop mode, else the time
 * left (at least 1 ms so it is never read as "do not wait"). */
static inline int layer_timeout(const mail_conn *c, int64_t deadline)
{
  if (c->nonblocking)
    return 0;
  if (deadline < 0)
    return -1;
  int64_t left = deadline - now_ms(c);
  if (left < 1)
    return 1;
  return left > INT_MAX ? INT_MAX : (int)left;
}

static inline mail_layer *tls_layer(const mail_conn *c)
{
  for (mail_layer *l = c->top; l; l = l->lower)
    if (mail_layer_is_tls(l))
      return l;
  return NULL;
}

/* The caller's transport, wherever it sits (COMPRESS may lie above it). */
static inline mail_layer *user_layer(const mail_conn *c)
{
  for (mail_layer *l = c->top; l; l = l->lower)
    if (mail_layer_is_user(l))
      return l;
  return NULL;
}

/* The feed layer at the bottom of the stack, or NULL. */
static inline mail_layer *feed_layer(const mail_conn *c)
{
  mail_layer *l = c->top;
  while (l && l->lower)
    l = l->lower;
  return mail_layer_is_feed(l) ? l : NULL;
}

static inline int conn_top_fd(const mail_conn *c)
{
  return c->top ? c->top->ops->fd(c->top) : -1;
}

static inline int conn_can_start(const mail_conn *c)
{
  return c->state == ST_IDLE || c->state == ST_CLOSED;
}

/* conn.c */
void conn_forget_tls_facts(mail_conn *c);
int conn_set_string(mail_conn *c, char **dst, const char *s);
/* Close after a fatal error; later calls report rc. */
int conn_close_fatal(mail_conn *c, int rc);

/* conn_cancel.c: whether a cancel was asked; acting on it (close, and
 * MAIL_ERR_CANCELLED with the reason). */
int conn_cancel_requested(mail_conn *c);
int conn_cancel_now(mail_conn *c);

/* conn_proxy.c: forget the proxy and wipe its credentials. */
void conn_proxy_clear(mail_conn *c);

/* conn_output.c */
void conn_drop_output(mail_conn *c);
/* Trace n written bytes (the head of the output queue), secrets redacted. */
void conn_trace_sent(mail_conn *c, size_t n);
/* Drop n written bytes from the head of the queue. */
void conn_consume_output(mail_conn *c, size_t n);

/* conn_driver.c */
int conn_wait_for(mail_conn *c, int fd, int want, int64_t deadline);
/* conn_wake.c: what the wake pipe held (1 when anything), closing it. */
int conn_wake_drain(mail_conn *c);
void conn_wake_close(mail_conn *c);
/* A read wait ended by the wake pipe or the wake time (not an error). */
#define CONN_WOKEN 1
/* Bytes moved: fresh I/O deadline, nothing waited for. */
void conn_progress(mail_conn *c);
int conn_timed_out(mail_conn *c, const char *what);
/* Run the top layer's handshake (TLS after STARTTLS or at connect). */
int conn_handshake(mail_conn *c, int64_t deadline);

#endif

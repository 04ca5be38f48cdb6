/*
 * The connection: settings, the layer stack, connecting, the output queue
 * with its secret spans, the trace, deadlines, and the driver loop that
 * moves bytes between the top layer and a protocol engine.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/conn_internal.h"
#include "core/limits.h"
#include "core/mem.h"
#include "net/layer.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "net/user.h"

#define DEFAULT_TIMEOUT_CONNECT_MS 30000
#define DEFAULT_TIMEOUT_IO_MS 300000
/* Reads ask for room starting at READ_MIN; each read that fills at least
 * half of what it was given doubles the next one, up to one TLS record's
 * worth, so a session that exchanges short replies never holds more (see
 * idle_trim). */
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

  mail_trace_fn trace;
  void *trace_user;
  int trace_secrets;

  int timeout_connect;
  int timeout_io;
  int wait_override;  /* mail_conn_set_wait_timeout(); -1: timeout_io */
  int nonblocking;

  const mail_transport_ops *uops;
  void *uuser;
  mail_tls_config *tls_cfg;
  char *tls_server_name;

  int state;
  char *host;
  unsigned int port;
  int implicit_tls;
  mail_tcp_connector *connector;
  mail_layer *top;
  int handshake_pending;
  int64_t connect_deadline;

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

  char last_error[256];
  unsigned int fail_seq;
};

/* ------------------------------------------------------------------ */
/* Library initialisation                                               */
/* ------------------------------------------------------------------ */

int mail_init(void)
{
  return mail_tls_global_init() == MAIL_OK ? MAIL_OK : MAIL_ERR_INTERNAL;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static const mail_allocator *A(const mail_conn *c)
{
  return &c->env.alloc;
}

static int64_t now_ms(const mail_conn *c)
{
  return mail_env_now(&c->env, MAIL_CLOCK_MONOTONIC);
}

static int64_t deadline_after(const mail_conn *c, int ms)
{
  return ms < 0 ? -1 : now_ms(c) + ms;
}

/* What a layer without an fd may wait: 0 in event-loop mode, else the time
 * left (at least 1 ms so it is never read as "do not wait"). */
static int layer_timeout(const mail_conn *c, int64_t deadline)
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

static mail_layer *tls_layer(const mail_conn *c)
{
  for (mail_layer *l = c->top; l; l = l->lower)
    if (mail_layer_is_tls(l))
      return l;
  return NULL;
}

static mail_layer *user_layer(const mail_conn *c)
{
  return c->top && mail_layer_is_user(c->top) ? c->top : NULL;
}

static const char *server_name(const mail_conn *c)
{
  return c->tls_server_name ? c->tls_server_name : c->host;
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
  c->read_chunk = READ_MIN;
  c->timeout_connect = DEFAULT_TIMEOUT_CONNECT_MS;
  c->timeout_io = DEFAULT_TIMEOUT_IO_MS;
  c->wait_override = -1;
  c->state = ST_IDLE;
  c->keep_facts = 1;
  c->connect_deadline = -1;
  c->wait_deadline = -1;
  *out = c;
  return MAIL_OK;
}

static void forget_tls_facts(mail_conn *c)
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
  forget_tls_facts(c);
  mail_reader_free(&c->reader);
  mail_buf_free(&c->out);
  mail_buf_free(&c->scratch);
  mail_dealloc(A(c), c->spans);
  mail_dealloc(A(c), c->host);
  mail_dealloc(A(c), c->tls_server_name);
  mail_tls_config_free(c->tls_cfg);
  mail_allocator a = c->env.alloc;
  mail_wipe(c, sizeof *c);
  mail_dealloc(&a, c);
}

void mail_conn_set_trace(mail_conn *c, mail_trace_fn fn, void *user)
{
  if (!c)
    return;
  c->trace = fn;
  c->trace_user = fn ? user : NULL;
}

void mail_conn_set_trace_show_secrets_insecure(mail_conn *c, int on)
{
  if (c)
    c->trace_secrets = on != 0;
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

void mail_conn_set_random(mail_conn *c, mail_random_fn fn, void *user)
{
  if (c)
    mail_env_set_random(&c->env, fn, user);
}

void mail_conn_set_clock(mail_conn *c, mail_clock_fn fn, void *user)
{
  if (c)
    mail_env_set_clock(&c->env, fn, user);
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

static int set_string(mail_conn *c, char **dst, const char *s)
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
  return set_string(c, &c->tls_server_name, name);
}

void mail_conn_set_nonblocking(mail_conn *c, int on)
{
  if (c)
    c->nonblocking = on != 0;
}

static int can_start(const mail_conn *c)
{
  return c->state == ST_IDLE || c->state == ST_CLOSED;
}

int mail_conn_set_transport(mail_conn *c, const mail_transport_ops *ops, void *user)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (!can_start(c))
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

int mail_conn_is_open(const mail_conn *c)
{
  return c && c->state == ST_OPEN;
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
  forget_tls_facts(c);
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

static void drop_output(mail_conn *c)
{
  mail_buf_clear(&c->out);
  c->out_base = 0;
  c->nspans = 0;
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
  drop_output(c);
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
static int close_fatal(mail_conn *c, int rc)
{
  mail_conn_close(c);
  c->state = ST_CLOSED;
  c->fatal_rc = rc;
  return rc;
}

/* ------------------------------------------------------------------ */
/* Waiting                                                              */
/* ------------------------------------------------------------------ */

/*
 * The current step cannot proceed until fd is ready for want. Blocking mode:
 * wait and return MAIL_OK so the step is retried, or MAIL_ERR_TIMEOUT when
 * the deadline passes. Event-loop mode: record what we wait for and return
 * MAIL_ERR_AGAIN (or MAIL_ERR_TIMEOUT once the deadline has passed).
 */
static int wait_for(mail_conn *c, int fd, int want, int64_t deadline)
{
  c->want = want;
  c->wait_deadline = deadline;
  int64_t now = now_ms(c);
  if (deadline >= 0 && now >= deadline)
    return MAIL_ERR_TIMEOUT;
  if (c->nonblocking)
    return MAIL_ERR_AGAIN;
  for (;;) {
    int ms = -1;
    if (deadline >= 0) {
      int64_t left = deadline - now;
      ms = left > INT_MAX ? INT_MAX : (int)left;
    }
    if (fd < 0) {
      poll(NULL, 0, ms < 0 || ms > USER_RETRY_NAP_MS ? USER_RETRY_NAP_MS : ms);
      return MAIL_OK;
    }
    struct pollfd p = {fd, 0, 0};
    if (want & MAIL_WANT_READ)
      p.events |= POLLIN;
    if (want & MAIL_WANT_WRITE)
      p.events |= POLLOUT;
    int r = poll(&p, 1, ms);
    if (r > 0)
      return MAIL_OK;
    /* The wait itself running out is the timeout, whatever an injected
     * clock says: a stopped test clock must not make us wait forever. */
    if (r == 0)
      return MAIL_ERR_TIMEOUT;
    if (errno != EINTR)
      return mail_conn_fail(c, MAIL_ERR_IO, "poll failed: %s", strerror(errno));
    now = now_ms(c);
    if (deadline >= 0 && now >= deadline)
      return MAIL_ERR_TIMEOUT;
  }
}

static int64_t io_deadline(mail_conn *c)
{
  if (!c->io_deadline_set) {
    int ms = c->wait_override >= 0 ? c->wait_override : c->timeout_io;
    c->io_deadline = deadline_after(c, ms);
    c->io_deadline_set = 1;
  }
  return c->io_deadline;
}

static void progress(mail_conn *c)
{
  c->io_deadline_set = 0;
  c->want = 0;
  c->wait_deadline = -1;
}

static int top_fd(const mail_conn *c)
{
  return c->top ? c->top->ops->fd(c->top) : -1;
}

/* ------------------------------------------------------------------ */
/* Output queue and its trace                                           */
/* ------------------------------------------------------------------ */

static int queue_status(int rc)
{
  /* Over the output bound: nothing of this call was queued. */
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_TOO_BIG : rc;
}

int mail_conn_send(mail_conn *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MAIL_ERR_INVALID;
  return queue_status(mail_buf_append(&c->out, data, len));
}

int mail_conn_send_secret(mail_conn *c, const void *data, size_t len)
{
  if (!c || (!data && len))
    return MAIL_ERR_INVALID;
  if (!len)
    return MAIL_OK;
  /* Sensitive before the bytes arrive, so no growth leaves a copy behind. */
  mail_buf_set_sensitive(&c->out);
  uint64_t start = c->out_base + c->out.len;
  int merge = c->nspans && c->spans[c->nspans - 1].end == start;
  if (!merge && c->nspans == c->spans_cap) {
    size_t ncap = c->spans_cap ? c->spans_cap * 2 : 4;
    secret_span *ns = mail_realloc(A(c), c->spans, ncap * sizeof *ns);
    if (!ns)
      return MAIL_ERR_NOMEM;
    c->spans = ns;
    c->spans_cap = ncap;
  }
  int rc = mail_buf_append(&c->out, data, len);
  if (rc)
    return queue_status(rc);
  if (merge) {
    c->spans[c->nspans - 1].end = start + len;
  } else {
    c->spans[c->nspans].start = start;
    c->spans[c->nspans].end = start + len;
    c->nspans++;
  }
  return MAIL_OK;
}

int mail_conn_sendf(mail_conn *c, const char *fmt, ...)
{
  if (!c || !fmt)
    return MAIL_ERR_INVALID;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return MAIL_ERR_INTERNAL;
  int rc = mail_buf_reserve(&c->out, (size_t)n + 1);
  if (rc)
    return queue_status(rc);
  va_start(ap, fmt);
  vsnprintf((char *)c->out.data + c->out.len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  c->out.len += (size_t)n;
  return MAIL_OK;
}

size_t mail_conn_out_pending(const mail_conn *c)
{
  return c->out.len;
}

uint64_t mail_conn_out_mark(const mail_conn *c)
{
  return c->out_base + c->out.len;
}

void mail_conn_out_rollback(mail_conn *c, uint64_t mark)
{
  if (mark < c->out_base || mark >= c->out_base + c->out.len)
    return;
  size_t keep = (size_t)(mark - c->out_base);
  if (c->out.sensitive)
    mail_wipe(c->out.data + keep, c->out.len - keep);
  c->out.len = keep;
  while (c->nspans && c->spans[c->nspans - 1].start >= mark)
    c->nspans--;
  if (c->nspans && c->spans[c->nspans - 1].end > mark)
    c->spans[c->nspans - 1].end = mark;
}

/* Forget spans that lie wholly before the stream offset `upto`. */
static void drop_spans(mail_conn *c, uint64_t upto)
{
  size_t k = 0;
  while (k < c->nspans && c->spans[k].end <= upto)
    k++;
  if (k) {
    memmove(c->spans, c->spans + k, (c->nspans - k) * sizeof *c->spans);
    c->nspans -= k;
  }
}

/*
 * Walk the n written bytes at the head of the queue as pieces: plain bytes
 * as they are, each secret part as "[redacted]". With out == NULL, only
 * count the redacted length; with out set, append there; with neither,
 * trace each piece.
 */
static size_t redact_pieces(mail_conn *c, size_t n, mail_buf *out, int per_piece)
{
  const unsigned char *p = c->out.data;
  uint64_t base = c->out_base, end = base + n, pos = base;
  size_t total = 0;
  for (size_t i = 0; i <= c->nspans && pos < end; i++) {
    /* Past the last span, one plain piece runs to the end. */
    uint64_t s_start = i < c->nspans ? c->spans[i].start : end;
    uint64_t s_end = i < c->nspans ? c->spans[i].end : end;
    if (s_end <= pos)
      continue;
    if (s_start > end)
      s_start = end;
    if (s_start > pos) {
      size_t k = (size_t)(s_start - pos);
      if (per_piece)
        c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)p + (pos - base), k);
      else if (out)
        mail_buf_append(out, p + (pos - base), k); /* room reserved by the caller */
      total += k;
      pos = s_start;
    }
    if (i < c->nspans && pos < end) {
      if (per_piece)
        c->trace(c->trace_user, MAIL_TRACE_SEND, REDACTED, sizeof REDACTED - 1);
      else if (out)
        mail_buf_append(out, REDACTED, sizeof REDACTED - 1);
      total += sizeof REDACTED - 1;
      pos = s_end < end ? s_end : end;
    }
  }
  return total;
}

/* Trace n written bytes (the head of the output queue) with every secret
 * part shown as "[redacted]": one trace call per write when memory allows,
 * one per piece otherwise. */
static void trace_sent(mail_conn *c, size_t n)
{
  if (!c->trace || !n)
    return;
  if (c->trace_secrets || c->nspans == 0 || c->spans[0].start >= c->out_base + n) {
    c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)c->out.data, n);
    return;
  }
  size_t len = redact_pieces(c, n, NULL, 0);
  mail_buf_clear(&c->scratch);
  if (mail_buf_reserve(&c->scratch, len) != MAIL_OK) {
    redact_pieces(c, n, NULL, 1);
    return;
  }
  redact_pieces(c, n, &c->scratch, 0);
  c->trace(c->trace_user, MAIL_TRACE_SEND, (const char *)c->scratch.data, c->scratch.len);
  mail_buf_clear(&c->scratch);
}

static void consume_output(mail_conn *c, size_t n)
{
  mail_buf_consume(&c->out, n);
  c->out_base += n;
  drop_spans(c, c->out_base);
  if (c->out.len == 0 && c->nspans == 0)
    c->out_base = 0;
}

/* ------------------------------------------------------------------ */
/* Driver steps                                                         */
/* ------------------------------------------------------------------ */

static int timed_out(mail_conn *c, const char *what)
{
  return mail_conn_fail(c, MAIL_ERR_TIMEOUT, "timed out %s", what);
}

/* Run the top layer's handshake (TLS after STARTTLS or at connect). */
static int do_handshake(mail_conn *c, int64_t deadline)
{
  for (;;) {
    int want = 0;
    int rc = MAIL_OK;
    if (c->top->ops->handshake)
      rc = c->top->ops->handshake(c->top, &want, layer_timeout(c, deadline));
    if (rc == MAIL_OK) {
      c->handshake_pending = 0;
      progress(c);
      const mail_layer *tl = tls_layer(c);
      if (tl)
        mail_conn_trace_info(c, "TLS established: %s, %s%s",
                             mail_tls_layer_version(tl) ? mail_tls_layer_version(tl) : "?",
                             mail_tls_layer_cipher(tl) ? mail_tls_layer_cipher(tl) : "?",
                             mail_tls_layer_verified(tl) ? ", verified" : ", NOT verified");
      else
        mail_conn_trace_info(c, "TLS established by the transport%s",
                             mail_conn_is_verified(c) ? ", verified" : ", NOT verified");
      return MAIL_OK;
    }
    if (rc != MAIL_ERR_AGAIN) {
      if (!mail_status_is_fatal(rc) && rc != MAIL_ERR_NOMEM)
        rc = MAIL_ERR_TLS;
      return rc;
    }
    rc = wait_for(c, top_fd(c), want ? want : MAIL_WANT_READ, deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return timed_out(c, "during the TLS handshake");
    if (rc)
      return rc;
  }
}

/* One write call on the top layer with the whole queue, without waiting.
 * MAIL_OK after progress (bytes went out, or the peer stopped taking them
 * and the queue was dropped); MAIL_ERR_AGAIN with *want; a fatal status. */
static int write_once(mail_conn *c, int *want, int64_t deadline)
{
  size_t n = 0;
  int rc = c->top->ops->write(c->top, c->out.data, c->out.len, &n, want,
                              layer_timeout(c, deadline));
  if (rc == MAIL_OK) {
    if (n == 0 || n > c->out.len)
      return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a layer reported a bad write length");
    trace_sent(c, n);
    consume_output(c, n);
    progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_CLOSED) {
    /* The server may have said why before closing: stop writing and
     * read what it sent, so the engine can report its reply. */
    mail_conn_trace_info(c, "the server stopped reading; %zu bytes not sent", c->out.len);
    drop_output(c);
    c->write_shut = 1;
    progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_AGAIN && !*want)
    *want = MAIL_WANT_WRITE;
  return rc;
}

/* One read call on the top layer into at most room bytes of reader space,
 * without waiting. MAIL_OK after progress (bytes, or end of stream recorded
 * in the reader); MAIL_ERR_AGAIN with *want; a fatal status. */
static int read_once(mail_conn *c, size_t room, int *want, int64_t deadline)
{
  mail_reader *r = &c->reader;
  unsigned char *p;
  size_t avail;
  int rc = mail_reader_prepare(r, room < c->read_chunk ? room : c->read_chunk, &p, &avail);
  if (rc == MAIL_ERR_LIMIT)
    return mail_conn_fail(c, MAIL_ERR_LIMIT, "server input exceeds the %zu byte buffer",
                          r->buf.limit);
  if (rc)
    return rc;
  if (avail > room)
    avail = room;
  size_t got = 0;
  rc = c->top->ops->read(c->top, p, avail, &got, want, layer_timeout(c, deadline));
  if (rc == MAIL_OK) {
    if (got == 0 || got > avail)
      return mail_conn_fail(c, MAIL_ERR_INTERNAL, "a layer reported a bad read length");
    if (c->trace)
      c->trace(c->trace_user, MAIL_TRACE_RECV, (const char *)p, got);
    mail_reader_commit(r, got);
    if (got >= avail / 2 && c->read_chunk < READ_CHUNK)
      c->read_chunk *= 2; /* a stream is coming: read bigger pieces */
    progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_CLOSED) {
    mail_reader_set_eof(r);
    mail_conn_trace_info(c, "the server closed the connection");
    progress(c);
    return MAIL_OK;
  }
  if (rc == MAIL_ERR_AGAIN && !*want)
    *want = MAIL_WANT_READ;
  return rc;
}

/*
 * How much the reader may take while a write is blocked: nothing for a
 * layer without an fd (a user transport: one wait cannot cover both
 * directions, so it keeps write-only waits), after end of stream, or when
 * the engine has left the reader full (we stop reading rather than buffer
 * without bound; the server then waits for us as we wait for it).
 */
static size_t duplex_room(const mail_conn *c)
{
  const mail_reader *r = &c->reader;
  if (r->eof || top_fd(c) < 0)
    return 0;
  size_t pending = mail_reader_pending(r);
  return pending < r->buf.limit ? r->buf.limit - pending : 0;
}

/*
 * Write the queue (one call; the rest after a partial write). MAIL_OK after
 * progress. With duplex set, a write that would block does not stop us
 * hearing the server: the driver also reads whatever has arrived, waits for
 * either direction, and returns MAIL_OK after a read too, so the engine sees
 * replies (an early error, pipelined answers the server will not hold back)
 * while its output is still going out.
 */
static int do_write(mail_conn *c, int duplex)
{
  for (;;) {
    int want = 0;
    int64_t deadline = io_deadline(c);
    int rc = write_once(c, &want, deadline);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    size_t room = duplex ? duplex_room(c) : 0;
    if (room) {
      int read_want = 0;
      rc = read_once(c, room, &read_want, deadline);
      if (rc != MAIL_ERR_AGAIN)
        return rc;
      /* A TLS layer may need the other direction for either call: wait
       * for everything both of them asked for. */
      want |= read_want;
    }
    rc = wait_for(c, top_fd(c), want, deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return timed_out(c, "sending to the server");
    if (rc)
      return rc;
  }
}

/* One read from the top layer into the reader. MAIL_OK after progress
 * (bytes, or end of stream recorded in the reader). */
static int do_read(mail_conn *c)
{
  mail_reader *r = &c->reader;
  size_t pending = mail_reader_pending(r);
  size_t limit = r->buf.limit;
  if (pending >= limit)
    return mail_conn_fail(c, MAIL_ERR_LIMIT, "server input exceeds the %zu byte buffer", limit);
  for (;;) {
    int want = 0;
    int64_t deadline = io_deadline(c);
    int rc = read_once(c, limit - pending, &want, deadline);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    rc = wait_for(c, top_fd(c), want, deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return timed_out(c, "waiting for the server");
    if (rc)
      return rc;
  }
}

static int run_loop(mail_conn *c, mail_advance_fn advance, void *engine)
{
  for (;;) {
    if (c->state != ST_OPEN)
      return c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE;
    int rc;
    if (c->handshake_pending) {
      rc = do_handshake(c, io_deadline(c));
      if (rc)
        return rc;
    }
    if (c->finishing) {
      if (c->out.len == 0 || c->write_shut) {
        c->finishing = 0;
        if (c->write_shut)
          return mail_conn_fail(c, MAIL_ERR_CLOSED,
                                "the server closed the connection before taking our last bytes");
        return c->finish_rc;
      }
      /* The engine is done: what arrives now belongs to the next
       * operation, so this flush does not read. */
      rc = do_write(c, 0);
      if (rc)
        return rc;
      continue;
    }
    rc = advance(engine);
    if (c->state != ST_OPEN) /* the engine closed it (e.g. STARTTLS injection) */
      return rc != MAIL_ERR_AGAIN && rc != MAIL_OK ? rc
                                                   : (c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE);
    if (c->write_shut && c->out.len) {
      drop_output(c);
      if (rc != MAIL_ERR_AGAIN && !mail_status_is_fatal(rc))
        return mail_conn_fail(c, MAIL_ERR_CLOSED,
                              "the server closed the connection before taking our last bytes");
    }
    if (rc != MAIL_ERR_AGAIN) {
      if (mail_status_is_fatal(rc) || c->out.len == 0)
        return rc;
      c->finishing = 1;
      c->finish_rc = rc;
      continue;
    }
    if (c->handshake_pending)
      continue;
    if (c->out.len)
      rc = do_write(c, 1);
    else if (c->reader.eof)
      return mail_conn_fail(c, MAIL_ERR_CLOSED, "the server closed the connection");
    else
      rc = do_read(c);
    if (rc)
      return rc;
  }
}

/* Between operations a session holds no more than small buffers: what a
 * large reply or message body made grow is given back (and grows again on
 * demand), so many idle sessions stay cheap. */
static void idle_trim(mail_conn *c)
{
  mail_reader_trim(&c->reader, IDLE_KEEP);
  if (c->out.len == 0 && c->out.cap > IDLE_KEEP)
    mail_buf_free(&c->out);
  mail_buf_free(&c->scratch);
  c->read_chunk = READ_MIN;
}

int mail_conn_run(mail_conn *c, mail_advance_fn advance, void *engine)
{
  if (!c || !advance)
    return MAIL_ERR_INVALID;
  if (c->state != ST_OPEN) /* keep the description of what closed it */
    return c->state == ST_CLOSED && c->fatal_rc ? c->fatal_rc : MAIL_ERR_STATE;
  unsigned int seq = c->fail_seq;
  int rc = run_loop(c, advance, engine);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  /* The operation is over: the next one gets fresh deadlines. */
  c->io_deadline_set = 0;
  c->want = 0;
  c->wait_deadline = -1;
  idle_trim(c);
  if (mail_status_is_fatal(rc) && c->state != ST_IDLE) {
    if (c->fail_seq == seq)
      mail_conn_fail(c, rc, "%s", mail_strerror(rc));
    if (c->state != ST_CLOSED || c->fatal_rc != rc)
      close_fatal(c, rc);
  }
  return rc;
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
    return close_fatal(c, MAIL_ERR_STARTTLS_INJECTION);
  }
  mail_conn_trace_info(c, "starting TLS");
  int rc = push_tls(c, 0);
  if (rc)
    return close_fatal(c, rc);
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
  forget_tls_facts(c);
  c->last_error[0] = '\0';
  int rc = set_string(c, &c->host, host);
  if (rc)
    return rc;
  c->port = port;
  c->implicit_tls = implicit_tls != 0;
  c->connect_deadline = deadline_after(c, c->timeout_connect);
  c->state = ST_CONNECTING;
  return MAIL_OK;
}

/* A failure while connecting: nothing stays half-open. */
static int connect_failed(mail_conn *c, int rc)
{
  if (mail_status_is_fatal(rc))
    return close_fatal(c, rc);
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
    rc = wait_for(c, -1, MAIL_WANT_READ | MAIL_WANT_WRITE, c->connect_deadline);
    if (rc == MAIL_ERR_TIMEOUT)
      return timed_out(c, "connecting");
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
      rc = mail_tcp_layer_new(&l, c, fd);
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
    rc = wait_for(c, mail_tcp_connector_fd(c->connector), MAIL_WANT_WRITE, until);
    if (rc == MAIL_ERR_TIMEOUT)
      waited_out = 1;
    else if (rc)
      return rc;
  }
}

/* Drive a connect that is under way; shared by every connect entry point
 * and by their repeated calls in event-loop mode. */
static int connect_continue(mail_conn *c)
{
  int rc;
  if (c->state == ST_CONNECTING) {
    rc = c->connector ? connect_socket(c) : connect_user(c);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
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
    rc = do_handshake(c, c->connect_deadline);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return connect_failed(c, rc);
    c->state = ST_OPEN;
  }
  progress(c);
  return MAIL_OK;
}

static int connecting(const mail_conn *c)
{
  return c->state == ST_CONNECTING || c->state == ST_HANDSHAKE;
}

int mail_conn_connect(mail_conn *c, const char *host, unsigned int port, int implicit_tls)
{
  if (!c)
    return MAIL_ERR_INVALID;
  if (connecting(c))
    return connect_continue(c);
  if (!can_start(c))
    return MAIL_ERR_STATE;
  if (!c->uops && (!host || !*host || port == 0 || port > 65535))
    return mail_conn_fail(c, MAIL_ERR_INVALID, "invalid host or port");
  int rc = begin_connect(c, host, port, implicit_tls);
  if (rc)
    return connect_failed(c, rc);
  if (c->uops) {
    rc = mail_user_layer_new(&c->top, c, c->uops, c->uuser);
    if (rc)
      return connect_failed(c, rc);
    mail_conn_trace_info(c, "connecting through the caller's transport");
  } else {
    rc = mail_tcp_connector_new_host(&c->connector, c, host, port);
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
  if (!can_start(c) || c->uops)
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
  if (!can_start(c) || c->uops)
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
  if (!can_start(c) || c->uops)
    return MAIL_ERR_STATE;
  if (host && mail_has_crlfnul(host, strlen(host)))
    return MAIL_ERR_INVALID;
  if (mail_tcp_prepare_fd(fd) != MAIL_OK)
    return mail_conn_fail(c, MAIL_ERR_INVALID, "not a usable descriptor");
  int rc = begin_connect(c, host, 0, 0);
  if (rc)
    return connect_failed(c, rc);
  rc = mail_tcp_layer_new(&c->top, c, fd);
  if (rc)
    return connect_failed(c, rc);
  c->state = ST_OPEN;
  mail_conn_trace_info(c, "using an adopted descriptor");
  return MAIL_OK;
}

/* ------------------------------------------------------------------ */
/* Event-loop surface and TLS facts                                     */
/* ------------------------------------------------------------------ */

int mail_conn_fd(const mail_conn *c)
{
  if (!c)
    return -1;
  if (c->top)
    return top_fd(c);
  if (c->connector)
    return mail_tcp_connector_fd(c->connector);
  return -1;
}

int mail_conn_want(const mail_conn *c)
{
  return c ? c->want : 0;
}

int64_t mail_conn_timeout_ms(const mail_conn *c)
{
  if (!c || !c->want || c->wait_deadline < 0)
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
  const mail_layer *u = user_layer(c);
  if (u && mail_user_layer_is_tls(u))
    return mail_user_layer_channel_binding(u, type, out, cap, len);
  return MAIL_ERR_UNSUPPORTED;
}

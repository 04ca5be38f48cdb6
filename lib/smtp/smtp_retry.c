/*
 * mail_smtp_send_retry(): one message sent again after a temporary
 * failure, for a device's alert. Deliberately not a queue: the state lives
 * on the stack for the length of the call. Time is read through the
 * connection's clock and waits go through the caller's wait callback, so
 * a test with a fake clock runs every backoff without sleeping.
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "core/conn_internal.h"
#include "core/env.h"
#include "smtp/smtp_internal.h"

#define RETRY_ATTEMPTS 5
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 60000
#define RETRY_DEADLINE_MS 300000

int mail_smtp_retry_init(mail_smtp_retry *p, unsigned int version)
{
  if (!p || version != 1)
    return MAIL_ERR_INVALID;
  memset(p, 0, sizeof *p);
  p->version = version;
  p->max_attempts = RETRY_ATTEMPTS;
  p->first_delay_ms = RETRY_FIRST_MS;
  p->max_delay_ms = RETRY_MAX_MS;
  p->deadline_ms = RETRY_DEADLINE_MS;
  return MAIL_OK;
}

/* A statuses that says the link is gone but another may work. */
static int link_lost(int rc)
{
  switch (rc) {
  case MAIL_ERR_SERVER_CLOSING:
  case MAIL_ERR_CLOSED:
  case MAIL_ERR_IO:
  case MAIL_ERR_TIMEOUT:
  case MAIL_ERR_CONNECT:
  case MAIL_ERR_RESOLVE:
  case MAIL_ERR_TOO_MANY_CONNECTIONS:
    return 1;
  default:
    return 0;
  }
}

static int is_4xx(int code) { return code >= 400 && code < 500; }

/* 1 when rc (after an attempt on e, or from reconnect when e is NULL) is
 * worth another attempt. */
static int temporary(const mail_smtp *s, const mail_smtp_envelope *e, int rc)
{
  if (link_lost(rc))
    return 1;
  if (rc == MAIL_ERR_SERVER) {
    const mail_smtp_reply *r = mail_smtp_last_reply(s);
    return r && is_4xx(mail_smtp_reply_code(r));
  }
  if (rc == MAIL_ERR_RECIPIENTS && e) {
    /* Nothing was sent. Retry only when no refusal was permanent. */
    size_t refused = 0;
    for (size_t i = 0; i < e->nrcpts; i++) {
      int code = e->rcpts[i].code;
      if (code >= 500)
        return 0;
      if (is_4xx(code))
        refused++;
    }
    return refused > 0;
  }
  return 0;
}

/* splitmix64: small, and its output passes for random enough for jitter. */
static uint64_t next_rand(uint64_t *state)
{
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* The wait before attempt n + 1 (n >= 1 attempts made): uniform in
 * [d/2, d], d = first * 2^(n-1) capped at max. */
static int64_t backoff(const mail_smtp_retry *p, unsigned int n, uint64_t *rng)
{
  int64_t d = p->first_delay_ms;
  for (unsigned int i = 1; i < n && d < p->max_delay_ms; i++)
    d *= 2;
  if (d > p->max_delay_ms)
    d = p->max_delay_ms;
  int64_t lo = d / 2;
  return lo + (int64_t)(next_rand(rng) % (uint64_t)(d - lo + 1));
}

static int default_wait(int ms)
{
#if MAIL_WITH_CLOCK_GETTIME
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
    /* EINTR: go on sleeping for what is left. */
  }
  return MAIL_OK;
#else
  (void)ms;
  return MAIL_ERR_UNSUPPORTED;
#endif
}

static int is_open(const mail_smtp *s)
{
  return s->state != SMTP_ST_DISCONNECTED && mail_conn_is_open(s->conn);
}

int mail_smtp_send_retry(mail_smtp *s, mail_smtp_envelope *e, const mail_smtp_retry *policy)
{
  mail_smtp_retry defaults;
  if (!s || !e)
    return MAIL_ERR_INVALID;
  if (!policy) {
    mail_smtp_retry_init(&defaults, MAIL_SMTP_RETRY_VERSION);
    policy = &defaults;
  }
  if (policy->version != 1 || policy->max_attempts == 0 || policy->first_delay_ms < 0 ||
      policy->max_delay_ms < 0 || policy->deadline_ms < -1)
    return mail_conn_fail(s->conn, MAIL_ERR_INVALID, "retry: bad policy");
  if (e->body_kind == SMTP_BODY_CALLBACK)
    return mail_conn_fail(s->conn, MAIL_ERR_INVALID,
                          "retry: a callback body cannot be sent again (use memory or MIME)");
  if (mail_conn_is_nonblocking(s->conn))
    return mail_conn_fail(s->conn, MAIL_ERR_STATE, "retry: blocking only (the connection is in event-loop mode)");
  if (s->op.kind != SMTP_OP_NONE)
    return mail_conn_fail(s->conn, MAIL_ERR_STATE, "retry: another operation is in progress");

  const mail_env *env = mail_conn_env(s->conn);
  uint64_t rng = policy->seed;
  if (!rng && mail_env_random(env, &rng, sizeof rng))
    return mail_conn_fail(s->conn, MAIL_ERR_INTERNAL, "retry: no random bytes for the jitter");
  int64_t start = mail_env_now(env, MAIL_CLOCK_MONOTONIC);
  int rc = MAIL_OK;

  for (unsigned int n = 1;; n++) {
    if (!is_open(s) && policy->reconnect) {
      rc = policy->reconnect(policy->reconnect_user, s);
      if (!rc && !is_open(s))
        rc = mail_conn_fail(s->conn, MAIL_ERR_STATE, "retry: reconnect left the session closed");
    }
    if (!rc) {
      rc = mail_smtp_send(s, e);
      if (!rc)
        return MAIL_OK;
      if (!temporary(s, e, rc))
        return rc;
    } else if (!temporary(s, NULL, rc)) {
      return rc;
    }
    /* A temporary failure: try again if a connection can still be had. */
    if (!is_open(s) && !policy->reconnect)
      return rc;
    if (n >= policy->max_attempts)
      return rc;
    int64_t delay = backoff(policy, n, &rng);
    int64_t now = mail_env_now(env, MAIL_CLOCK_MONOTONIC);
    if (policy->deadline_ms >= 0 && now - start + delay >= policy->deadline_ms)
      return rc;
    /* The failure description is the attempt's own; keep it across the
     * trace line, which does not touch it. */
    mail_conn_trace_info(s->conn, "retry %u of %u in %lld ms: %s", n + 1, policy->max_attempts,
                         (long long)delay, mail_conn_last_error(s->conn));
    int w = policy->wait ? (policy->wait(policy->wait_user, (int)delay) ? MAIL_ERR_CANCELLED : MAIL_OK)
                         : default_wait((int)delay);
    if (w == MAIL_ERR_CANCELLED)
      return mail_conn_fail(s->conn, w, "retry: cancelled by the wait callback");
    if (w)
      return mail_conn_fail(s->conn, w, "retry: no way to wait in this build (set mail_smtp_retry.wait)");
    rc = MAIL_OK;
  }
}

/*
 * A user transport (mail_transport_ops) for the session fuzzers: it plays
 * a server that says the fuzzer's bytes, in fuzzer-chosen chunks, and
 * accepts every write. At the end of the bytes it reports the connection
 * closed, so every session ends. In non-blocking mode every other read
 * says MAIL_ERR_AGAIN first (the session must resume where it stopped).
 */
#ifndef MAIL_FUZZ_SESSION_H
#define MAIL_FUZZ_SESSION_H

#include <string.h>

#include <mail/conn.h>

#include "alloc.h"
#include "fuzz_common.h"

typedef struct fz_server {
  const uint8_t *data;
  size_t len, pos, k;
  unsigned seed;
  int nonblocking, tick;
  int tls;              /* start_tls succeeds */
  int tls_up;
  size_t written;       /* bytes the client wrote */
  size_t write_calls;
} fz_server;

static int fz_connect(void *user, const char *host, unsigned int port, int timeout_ms)
{
  (void)user;
  (void)host;
  (void)port;
  (void)timeout_ms;
  return MAIL_OK;
}

static int fz_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  fz_server *s = user;
  (void)timeout_ms;
  if (s->nonblocking && (s->tick++ & 1))
    return MAIL_ERR_AGAIN;
  if (s->pos >= s->len)
    return MAIL_ERR_CLOSED;
  size_t n = fz_chunk(s->seed, s->k++);
  if (n > len)
    n = len;
  if (n > s->len - s->pos)
    n = s->len - s->pos;
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  *got = n;
  return MAIL_OK;
}

static int fz_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                    int timeout_ms)
{
  fz_server *s = user;
  (void)timeout_ms;
  FZ_ASSERT(len > 0 && buf);
  /* Short writes too: the library must send the rest itself. */
  size_t n = len > 7 && (s->write_calls++ % 3) == 1 ? len / 2 : len;
  s->written += n;
  *written = n;
  return MAIL_OK;
}

static int fz_start_tls(void *user, const char *host, int timeout_ms)
{
  fz_server *s = user;
  (void)host;
  (void)timeout_ms;
  if (!s->tls)
    return MAIL_ERR_TLS;
  s->tls_up = 1;
  return MAIL_OK;
}

static int fz_verified(void *user)
{
  return ((fz_server *)user)->tls_up;
}

static int fz_channel_binding(void *user, int type, unsigned char *out, size_t cap, size_t *len)
{
  fz_server *s = user;
  if (!s->tls_up || type != MAIL_CB_TLS_EXPORTER)
    return MAIL_ERR_UNSUPPORTED;
  if (cap < 32)
    return MAIL_ERR_BUFFER;
  memset(out, 0x42, 32);
  *len = 32;
  return MAIL_OK;
}

static const mail_transport_ops fz_server_ops = {
  MAIL_TRANSPORT_OPS_VERSION, fz_connect, fz_read,          fz_write,
  fz_start_tls,               fz_verified, fz_channel_binding, NULL,
};

/*
 * The password for a session: base plus one printable character the
 * input does not hold. Server bytes then cannot spell it, not even in
 * pieces left over in a reused buffer (the fuzzer learns a fixed secret
 * from the allocator's compares and assembles it from fragments), so a
 * hit in freed memory can only be the client's copy. Returns 0 when the
 * input holds every printable character (no check then).
 */
static inline int fz_pick_password(const uint8_t *data, size_t size, const char *base, char *out,
                                   size_t cap)
{
  unsigned char seen[128] = {0};
  for (size_t i = 0; i < size; i++)
    if (data[i] < 128)
      seen[data[i]] = 1;
  size_t n = strlen(base);
  FZ_ASSERT(n + 2 <= cap);
  memcpy(out, base, n);
  out[n + 1] = 0;
  /* Which absent character: from a hash of the input, so the secret (and
   * its base64 forms) changes from input to input and cannot become a
   * dictionary word. */
  fz_hash h;
  fz_hash_init(&h);
  fz_hash_bytes(&h, data, size);
  unsigned start = (unsigned)(h.h % 94u);
  for (unsigned k = 0; k < 94; k++) {
    unsigned c = 0x21 + (start + k) % 94u;
    if (!seen[c]) {
      out[n] = (char)c;
      return 1;
    }
  }
  out[n] = '!';
  return 0;
}

/* Forbid a secret in freed memory unless the server's bytes hold it
 * (then it is server text, not a leak). */
static inline void fz_forbid(mail_test_alloc *ta, const uint8_t *data, size_t size,
                             const void *secret, size_t len)
{
  if (!memmem(data, size, secret, len))
    mail_test_alloc_forbid(ta, secret, len);
}

/* Every call ends with a documented status: never "try again" in blocking
 * mode, never an internal error. */
static inline void fz_check_rc(int rc, int nonblocking)
{
  FZ_ASSERT(rc <= 0 && rc > MAIL_ERR_INTERNAL);
  FZ_ASSERT(nonblocking || rc != MAIL_ERR_AGAIN);
}

/* Call op again while it says MAIL_ERR_AGAIN (bounded: every other read
 * answers, and the bytes run out). */
#define FZ_CALL(srv, rc, call) \
  do { \
    int fz_rounds_ = 0; \
    do { \
      rc = (call); \
    } while (rc == MAIL_ERR_AGAIN && (srv)->nonblocking && ++fz_rounds_ < 100000); \
    fz_check_rc(rc, 0); \
  } while (0)

#endif

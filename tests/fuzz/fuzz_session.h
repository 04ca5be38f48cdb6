/*
 * A user transport (mail_transport_ops) for the session fuzzers: it plays
 * a server that says the fuzzer's bytes, in fuzzer-chosen chunks, and
 * accepts every write. At the end of the bytes it reports the connection
 * closed, so every session ends. In non-blocking mode every other read
 * says MAIL_ERR_AGAIN first (the session must resume where it stopped).
 */
#ifndef MAIL_FUZZ_SESSION_H
#define MAIL_FUZZ_SESSION_H

#include <stdio.h>
#include <string.h>

#include <mail/conn.h>

#include "alloc.h"
#include "core/base64.h"
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
 * Secrets for a session: the password is base plus one printable
 * character the input does not hold, and each base64 form (of the PLAIN
 * response "\0user\0password" and of the password, what LOGIN sends) is
 * checked only when it holds a character the input lacks. The fuzzer
 * learns fixed strings from the allocator's compares and can assemble
 * them from server fragments left in a reused read buffer; a string with
 * a byte the server never sent cannot be made that way, so a hit in freed
 * memory is the client's own copy. The character is chosen by a hash of
 * the input, so the secrets change from input to input.
 */
typedef struct fz_secrets {
  char password[32];
  int check_password;
  char b64[2][96];
  size_t b64_len[2];
  int check_b64[2];
} fz_secrets;

static inline int fz_lacks(const unsigned char seen[256], const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!seen[(unsigned char)s[i]])
      return 1;
  return 0;
}

static inline void fz_pick_secrets(const uint8_t *data, size_t size, const char *user,
                                   const char *base, fz_secrets *out)
{
  unsigned char seen[256] = {0};
  for (size_t i = 0; i < size; i++)
    seen[data[i]] = 1;
  size_t n = strlen(base), ul = strlen(user);
  FZ_ASSERT(n + 2 <= sizeof out->password && ul + n + 3 <= 60);
  memset(out, 0, sizeof *out);
  memcpy(out->password, base, n);
  out->password[n] = '!';
  fz_hash h;
  fz_hash_init(&h);
  fz_hash_bytes(&h, data, size);
  unsigned start = (unsigned)(h.h % 94u);
  for (unsigned k = 0; k < 94; k++) {
    unsigned c = 0x21 + (start + k) % 94u;
    if (seen[c])
      continue;
    out->password[n] = (char)c;
    out->check_password = 1;
    char plain[64];
    plain[0] = 0;
    memcpy(plain + 1, user, ul);
    plain[1 + ul] = 0;
    memcpy(plain + 2 + ul, out->password, n + 1);
    out->b64_len[0] = mail_b64_encode(plain, ul + n + 3, out->b64[0]);
    out->b64_len[1] = mail_b64_encode(out->password, n + 1, out->b64[1]);
    for (int i = 0; i < 2; i++)
      out->check_b64[i] = fz_lacks(seen, out->b64[i], out->b64_len[i]);
    if (out->check_b64[0] && out->check_b64[1])
      break;
  }
}

static inline void fz_forbid_secrets(mail_test_alloc *ta, const fz_secrets *s)
{
  if (s->check_password)
    mail_test_alloc_forbid_str(ta, s->password);
  for (int i = 0; i < 2; i++)
    if (s->check_b64[i])
      mail_test_alloc_forbid(ta, s->b64[i], s->b64_len[i]);
}

/* The tracking allocator for one input: the password is base plus a
 * character the input lacks (in sec), it and its base64 forms must be
 * wiped before they are freed, and with fail the allocation numbered
 * 1 + seed * 2 fails. */
static inline const mail_allocator *fz_session_alloc(mail_test_alloc *ta, fz_secrets *sec,
                                                     const uint8_t *data, size_t size,
                                                     const char *user, const char *base,
                                                     int fail, unsigned seed)
{
  mail_test_alloc_init(ta);
  fz_pick_secrets(data, size, user, base, sec);
  fz_forbid_secrets(ta, sec);
  if (fail)
    mail_test_alloc_fail_at(ta, 1u + seed * 2, 0);
  return mail_test_alloc_hooks(ta);
}

/* Tiny limits: 100-byte lines, 400-byte responses, 5 items. */
static inline void fz_tiny_limits(mail_conn *conn)
{
  mail_limits lim;
  mail_limits_default(&lim);
  lim.max_line = 100;
  lim.max_response = 400;
  lim.max_items = 5;
  mail_conn_set_limits(conn, &lim);
}

/* The end of an input: no secret freed unwiped, nothing leaked. */
static inline void fz_session_alloc_end(mail_test_alloc *ta)
{
  if (ta->forbidden_hits) {
    fprintf(stderr, "secret freed unwiped: %s\n", ta->first_hit);
    abort();
  }
  FZ_ASSERT(ta->live == 0);
  mail_test_alloc_cleanup(ta);
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

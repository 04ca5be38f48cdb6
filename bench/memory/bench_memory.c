/*
 * Memory per session, counted through the public allocator hooks with the
 * tracking allocator of the tests (tests/support/alloc.c): what an idle
 * connected SMTP or POP3 session holds, and the peak while it sends or
 * retrieves a 1 KB message. Plain TCP to sink servers in this process (one
 * thread each, on 127.0.0.1); with the real test servers up
 * (tests/servers/servers.sh, servers.env), the same over STARTTLS/STLS,
 * OpenSSL's own heap counted apart through CRYPTO_set_mem_functions().
 *
 * usage: bench-memory [many N | sends N]   -- "many": N idle SMTP sessions
 * at once; "sends": allocator calls per 2 KB message sent
 * Prints a Markdown table (bytes and KiB).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/mime_build.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "alloc.h"

#if BENCH_WITH_OPENSSL
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#endif

static void die(const char *what, int rc)
{
  fprintf(stderr, "bench-memory: %s: %s\n", what, rc ? mail_strerror(rc) : "failed");
  exit(1);
}

/* ------------------------------------------------- OpenSSL's own heap */

static size_t ossl_live, ossl_peak;

#if BENCH_WITH_OPENSSL
typedef union ossl_hdr {
  size_t size;
  max_align_t align;
} ossl_hdr;

static void *ossl_malloc(size_t n, const char *file, int line)
{
  (void)file;
  (void)line;
  ossl_hdr *h = malloc(sizeof *h + n);
  if (!h)
    return NULL;
  h->size = n;
  ossl_live += n;
  if (ossl_live > ossl_peak)
    ossl_peak = ossl_live;
  return h + 1;
}

static void ossl_free(void *p, const char *file, int line)
{
  (void)file;
  (void)line;
  if (!p)
    return;
  ossl_hdr *h = (ossl_hdr *)p - 1;
  ossl_live -= h->size;
  free(h);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
  if (!p)
    return ossl_malloc(n, file, line);
  if (!n) {
    ossl_free(p, file, line);
    return NULL;
  }
  ossl_hdr *h = (ossl_hdr *)p - 1;
  size_t old = h->size;
  ossl_hdr *nh = realloc(h, sizeof *nh + n);
  if (!nh)
    return NULL;
  nh->size = n;
  ossl_live = ossl_live - old + n;
  if (ossl_live > ossl_peak)
    ossl_peak = ossl_live;
  return nh + 1;
}
#endif

/* ------------------------------------------------------ sink servers */

typedef struct sink {
  int lfd;
  int pop3;
  pthread_t th;
} sink;

typedef struct conn_in {
  int fd;
  char buf[8192];
  size_t len;
} conn_in;

/* One line (without CRLF) into out; 0 at end of stream. */
static int read_line(conn_in *c, char *out, size_t cap)
{
  for (;;) {
    char *lf = memchr(c->buf, '\n', c->len);
    if (lf) {
      size_t n = (size_t)(lf - c->buf) + 1;
      size_t k = n - 1;
      if (k && c->buf[k - 1] == '\r')
        k--;
      if (k >= cap)
        k = cap - 1;
      memcpy(out, c->buf, k);
      out[k] = '\0';
      memmove(c->buf, c->buf + n, c->len - n);
      c->len -= n;
      return 1;
    }
    if (c->len == sizeof c->buf)
      c->len = 0; /* an overlong line: dropped */
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r <= 0)
      return 0;
    c->len += (size_t)r;
  }
}

static void say(int fd, const char *s)
{
  size_t n = strlen(s);
  while (n) {
    ssize_t w = write(fd, s, n);
    if (w <= 0)
      return;
    s += w;
    n -= (size_t)w;
  }
}

static void serve_smtp(int fd)
{
  conn_in c = {fd, {0}, 0};
  char line[2048];
  say(fd, "220 sink.test ESMTP\r\n");
  while (read_line(&c, line, sizeof line)) {
    if (!strncmp(line, "EHLO", 4)) {
      say(fd, "250-sink.test\r\n250-PIPELINING\r\n250-SIZE 10000000\r\n250-8BITMIME\r\n"
              "250-ENHANCEDSTATUSCODES\r\n250 SMTPUTF8\r\n");
    } else if (!strncmp(line, "DATA", 4)) {
      say(fd, "354 go ahead\r\n");
      while (read_line(&c, line, sizeof line) && strcmp(line, "."))
        ;
      say(fd, "250 2.0.0 queued\r\n");
    } else if (!strncmp(line, "QUIT", 4)) {
      say(fd, "221 2.0.0 bye\r\n");
      break;
    } else {
      say(fd, "250 2.0.0 ok\r\n");
    }
  }
}

static const char *message_1k(void)
{
  static char msg[1100];
  if (!msg[0]) {
    size_t o = (size_t)snprintf(msg, sizeof msg,
                                "From: a@sink.test\r\nTo: b@sink.test\r\nSubject: alert\r\n\r\n");
    while (o + 66 <= 1024) {
      memcpy(msg + o, "0123456789012345678901234567890123456789012345678901234567890123\r\n", 66);
      o += 66;
    }
    memset(msg + o, 'x', 1022 - o); /* exactly 1,024 bytes */
    memcpy(msg + 1022, "\r\n", 3);
  }
  return msg;
}

static void serve_pop3(int fd)
{
  conn_in c = {fd, {0}, 0};
  char line[2048];
  say(fd, "+OK sink ready <1.2@sink.test>\r\n");
  while (read_line(&c, line, sizeof line)) {
    if (!strncmp(line, "CAPA", 4)) {
      say(fd, "+OK\r\nUSER\r\nUIDL\r\nTOP\r\nPIPELINING\r\n.\r\n");
    } else if (!strncmp(line, "STAT", 4)) {
      say(fd, "+OK 1 1024\r\n");
    } else if (!strncmp(line, "RETR", 4)) {
      say(fd, "+OK 1024 octets\r\n");
      say(fd, message_1k());
      say(fd, ".\r\n");
    } else if (!strncmp(line, "QUIT", 4)) {
      say(fd, "+OK bye\r\n");
      break;
    } else {
      say(fd, "+OK\r\n");
    }
  }
}

typedef struct client {
  int fd;
  int pop3;
} client;

static void *client_main(void *arg)
{
  client c = *(client *)arg;
  free(arg);
  if (c.pop3)
    serve_pop3(c.fd);
  else
    serve_smtp(c.fd);
  close(c.fd);
  return NULL;
}

/* One thread per connection, so many sessions can be open at once. */
static void *sink_main(void *arg)
{
  sink *k = arg;
  for (;;) {
    int fd = accept(k->lfd, NULL, NULL);
    if (fd < 0)
      return NULL;
    client *c = malloc(sizeof *c);
    pthread_t th;
    if (!c)
      die("malloc", 0);
    c->fd = fd;
    c->pop3 = k->pop3;
    if (pthread_create(&th, NULL, client_main, c))
      die("thread", 0);
    pthread_detach(th);
  }
}

static unsigned sink_start(sink *k, int pop3)
{
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  k->pop3 = pop3;
  k->lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (k->lfd < 0 || bind(k->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(k->lfd, 64) ||
      getsockname(k->lfd, (struct sockaddr *)&sa, &sl))
    die("sink", 0);
  if (pthread_create(&k->th, NULL, sink_main, k))
    die("thread", 0);
  return ntohs(sa.sin_port);
}

/* ------------------------------------------------------- measurements */

typedef struct row {
  const char *what;
  size_t bytes;      /* libmail heap through the hooks */
  size_t ossl;       /* OpenSSL's own heap, when TLS is used */
  size_t target;     /* 0: none */
} row;

static row rows[16];
static size_t nrows;

static void add_row(const char *what, size_t bytes, size_t ossl, size_t target)
{
  rows[nrows++] = (row){what, bytes, ossl, target};
}

/* Verify the test servers' certificates with their CA. */
static void use_ca(mail_test_alloc *t, mail_conn *conn, const char *ca)
{
  mail_tls_config *cfg;
  int rc;
  if ((rc = mail_tls_config_new(&cfg, mail_test_alloc_hooks(t))) ||
      (rc = mail_tls_config_set_ca_file(cfg, ca)) || (rc = mail_conn_set_tls_config(conn, cfg)))
    die("TLS configuration", rc);
  mail_tls_config_free(cfg);
}

static mail_smtp *smtp_session(mail_test_alloc *t, const char *host, unsigned port, int security,
                               const char *ca)
{
  mail_smtp *s;
  int rc = mail_smtp_new(&s, mail_test_alloc_hooks(t));
  if (rc)
    die("mail_smtp_new", rc);
  mail_smtp_set_client_name(s, "bench.test");
  if (ca)
    use_ca(t, mail_smtp_conn(s), ca);
  if ((rc = mail_smtp_connect(s, host, port, security)))
    die("mail_smtp_connect", rc);
  return s;
}

static void smtp_send(mail_test_alloc *t, mail_smtp *s, int mime, const char *from, const char *to)
{
  mail_smtp_envelope *e;
  mail_mime_builder *m = NULL;
  int rc = mail_smtp_envelope_new(&e, mail_test_alloc_hooks(t));
  if (!rc)
    rc = mail_smtp_envelope_set_from(e, from);
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(e, to, NULL);
  if (!rc && mime) {
    const char *text = strstr(message_1k(), "\r\n\r\n") + 4;
    rc = mail_mime_builder_new(&m, mail_test_alloc_hooks(t));
    if (!rc)
      rc = mail_mime_builder_set_from(m, NULL, from);
    if (!rc)
      rc = mail_mime_builder_add_to(m, NULL, to);
    if (!rc)
      rc = mail_mime_builder_set_subject(m, "alert");
    if (!rc)
      rc = mail_mime_builder_set_text(m, text, strlen(text));
    if (!rc)
      rc = mail_smtp_envelope_set_body_mime(e, m);
  } else if (!rc) {
    rc = mail_smtp_envelope_set_body_data(e, message_1k(), strlen(message_1k()));
  }
  if (rc)
    die("envelope", rc);
  if ((rc = mail_smtp_send(s, e)))
    die("mail_smtp_send", rc);
  mail_smtp_envelope_free(e);
  mail_mime_builder_free(m);
}

static void bench_smtp(unsigned port)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  mail_smtp *s = smtp_session(&t, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE, NULL);
  add_row("SMTP session, idle after connect + EHLO", t.live_bytes, 0, 16 * 1024);
  smtp_send(&t, s, 0, "a@sink.test", "b@sink.test");
  add_row("SMTP: send 1 KB from a buffer (peak, session included)", t.peak_bytes, 0, 32 * 1024);
  add_row("SMTP session, idle after the send", t.live_bytes, 0, 16 * 1024);
  mail_smtp_quit(s);
  mail_smtp_free(s);

  mail_test_alloc_init(&t);
  s = smtp_session(&t, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE, NULL);
  smtp_send(&t, s, 1, "a@sink.test", "b@sink.test");
  add_row("SMTP: send 1 KB from the MIME builder (peak, session included)", t.peak_bytes, 0,
          48 * 1024);
  mail_smtp_quit(s);
  mail_smtp_free(s);
  if (t.live)
    die("SMTP leaked", 0);
}

static int on_body(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  (void)msg;
  (void)event;
  (void)data;
  *(size_t *)user += len;
  return 0;
}

static mail_pop3 *pop3_session(mail_test_alloc *t, const char *host, unsigned port, int security,
                               const char *ca, const char *user, const char *pw)
{
  mail_pop3 *p;
  int rc = mail_pop3_new(&p, mail_test_alloc_hooks(t));
  if (rc)
    die("mail_pop3_new", rc);
  if (ca) {
    use_ca(t, mail_pop3_conn(p), ca);
  } else {
    mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), 1);
  }
  mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER);
  if ((rc = mail_pop3_set_auth(p, user, pw)) || (rc = mail_pop3_connect(p, host, port, security)) ||
      (rc = mail_pop3_auth(p)))
    die("POP3 connect + login", rc);
  return p;
}

static void bench_pop3(unsigned port)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  mail_pop3 *p = pop3_session(&t, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE, NULL, "u", "pw");
  add_row("POP3 session, idle after connect + CAPA + login", t.live_bytes, 0, 16 * 1024);
  size_t got = 0;
  int rc = mail_pop3_retr(p, 1, on_body, &got);
  if (rc || got != 1024)
    die("RETR", rc);
  add_row("POP3: RETR of 1 KB (peak, session included)", t.peak_bytes, 0, 0);
  add_row("POP3 session, idle after the RETR", t.live_bytes, 0, 16 * 1024);
  mail_pop3_quit(p, NULL);
  mail_pop3_free(p);
  if (t.live)
    die("POP3 leaked", 0);
}

/* The real servers over STARTTLS / STLS, when they are up. */
static const char *env_value(const char *file, const char *key, char *out, size_t cap)
{
  FILE *f = fopen(file, "r");
  if (!f)
    return NULL;
  char line[512];
  size_t kl = strlen(key);
  const char *found = NULL;
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, key, kl) && line[kl] == '=') {
      snprintf(out, cap, "%s", line + kl + 1);
      out[strcspn(out, "\r\n")] = '\0';
      found = out;
      break;
    }
  }
  fclose(f);
  return found;
}

static void bench_tls(void)
{
#if BENCH_WITH_OPENSSL
  const char *file = getenv("MAIL_TEST_SERVERS_ENV");
  if (!file)
    file = "/tmp/libmail-servers/servers.env";
  char host[64], ca[256], sport[16], pport[16], user[64], pw[64], addr[128];
  if (!env_value(file, "MAIL_TEST_HOST", host, sizeof host) ||
      !env_value(file, "MAIL_TEST_CA", ca, sizeof ca) ||
      !env_value(file, "MAIL_TEST_SMTP_PORT", sport, sizeof sport) ||
      !env_value(file, "MAIL_TEST_POP3_PORT", pport, sizeof pport) ||
      !env_value(file, "MAIL_TEST_USER1", user, sizeof user) ||
      !env_value(file, "MAIL_TEST_PASS1", pw, sizeof pw) ||
      !env_value(file, "MAIL_TEST_ADDR1", addr, sizeof addr)) {
    fprintf(stderr, "bench-memory: no test servers (servers.env): TLS rows left out\n");
    return;
  }
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  size_t o0 = ossl_live;
  mail_smtp *s = smtp_session(&t, host, (unsigned)atoi(sport), MAIL_SECURITY_STARTTLS, ca);
  add_row("SMTP + STARTTLS (Postfix), idle after EHLO", t.live_bytes, ossl_live - o0, 16 * 1024);
  smtp_send(&t, s, 0, addr, addr);
  add_row("SMTP + STARTTLS: send 1 KB from a buffer (peak)", t.peak_bytes, ossl_peak - o0,
          32 * 1024);
  mail_smtp_quit(s);
  mail_smtp_free(s);

  mail_test_alloc_init(&t);
  o0 = ossl_live;
  ossl_peak = ossl_live;
  mail_pop3 *p = pop3_session(&t, host, (unsigned)atoi(pport), MAIL_SECURITY_STARTTLS, ca, user, pw);
  add_row("POP3 + STLS (Dovecot), idle after login", t.live_bytes, ossl_live - o0, 16 * 1024);
  mail_pop3_quit(p, NULL);
  mail_pop3_free(p);
#endif
}

/* N idle SMTP sessions in one thread. */
static void bench_many(unsigned port, size_t n)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  mail_smtp **v = calloc(n, sizeof *v);
  if (!v)
    die("calloc", 0);
  for (size_t i = 0; i < n; i++)
    v[i] = smtp_session(&t, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE, NULL);
  printf("%zu idle SMTP sessions: %zu bytes of libmail heap (%.1f KiB each)\n", n, t.live_bytes,
         (double)t.live_bytes / (double)n / 1024);
  for (size_t i = 0; i < n; i++)
    mail_smtp_free(v[i]);
  free(v);
}

/* N sends of a 2 KB message from a buffer on one session: allocator calls
 * per message (the steady state, after a warm-up send). */
static void bench_sends(unsigned port, long n)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  mail_smtp *s = smtp_session(&t, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE, NULL);
  mail_smtp_envelope *e;
  static char msg[2048];
  memset(msg, 'x', sizeof msg);
  for (size_t i = 70; i < sizeof msg; i += 72)
    memcpy(msg + i, "\r\n", 2);
  int rc = mail_smtp_envelope_new(&e, mail_test_alloc_hooks(&t));
  if (!rc)
    rc = mail_smtp_envelope_set_from(e, "a@sink.test");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(e, "b@sink.test", NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(e, msg, sizeof msg);
  if (!rc)
    rc = mail_smtp_send(s, e);
  if (rc)
    die("send", rc);
  unsigned long calls = t.calls;
  for (long i = 0; i < n; i++)
    if ((rc = mail_smtp_send(s, e)))
      die("send", rc);
  printf("%ld sends of 2 KB: %.2f allocator calls per message, session %zu bytes, peak %zu\n", n,
         (double)(t.calls - calls) / (double)n, t.live_bytes, t.peak_bytes);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
}

int main(int argc, char **argv)
{
#if BENCH_WITH_OPENSSL
  /* Before OpenSSL's first allocation, so all of it is counted. */
  if (!CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free))
    die("CRYPTO_set_mem_functions (OpenSSL allocated before main)", 0);
#endif
  sink smtp_sink, pop3_sink;
  unsigned sport = sink_start(&smtp_sink, 0);
  unsigned pport = sink_start(&pop3_sink, 1);
  if (argc == 3 && !strcmp(argv[1], "many")) {
    bench_many(sport, (size_t)atol(argv[2]));
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "sends")) {
    bench_sends(sport, atol(argv[2]));
    return 0;
  }
  bench_smtp(sport);
  bench_pop3(pport);
#if BENCH_WITH_OPENSSL
  /* OpenSSL's process-wide state, so the rows show what a session adds. */
  OPENSSL_init_ssl(0, NULL);
#endif
  size_t o = ossl_live;
  ossl_peak = ossl_live;
  bench_tls();
  printf("| what | libmail heap (hooks) | KiB | target | OpenSSL's own heap |\n");
  printf("|---|---:|---:|---:|---:|\n");
  for (size_t i = 0; i < nrows; i++) {
    const row *r = &rows[i];
    char target[32] = "-", ossl[32] = "-";
    if (r->target)
      snprintf(target, sizeof target, "<= %zu KiB%s", r->target / 1024,
               r->bytes <= r->target ? "" : " MISSED");
    if (r->ossl)
      snprintf(ossl, sizeof ossl, "%.1f KiB", (double)r->ossl / 1024);
    printf("| %s | %zu | %.1f | %s | %s |\n", r->what, r->bytes, (double)r->bytes / 1024, target,
           ossl);
  }
  if (o)
    printf("(OpenSSL's heap: what the session added, its SSL_CTX included, beyond the %.1f "
           "KiB OpenSSL holds for the process once initialised)\n",
           (double)o / 1024);
  return 0;
}

/* Sessions through the SOCKS5 and HTTP CONNECT proxy of tests/proxy
 * (proxy_server.py) to the real servers of tests/servers: SMTP submission
 * with STARTTLS, IMAP over implicit TLS, POP3, NNTP; with and without
 * proxy credentials, in blocking and event-loop mode, and every way a
 * proxy can refuse or misbehave. Each case checks what the proxy saw
 * (its log: the target as named, the credentials' verdict) and that no
 * proxy credential reached a trace, an error text or unwiped memory. */
#include <check.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/nntp.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "servers_env.h"

#define PROXY_USER "proxy-user"
#define PROXY_PASS "pr0xy secret:%"
/* PROXY_PASS percent-encoded for a URL. */
#define PROXY_PASS_URL "pr0xy%20secret%3A%25"

static const char *script;

typedef struct proxy {
  pid_t pid;
  int in_fd; /* the proxy serves until this closes */
  unsigned int port;
  char log[256];
} proxy;

static void proxy_start(proxy *p, const char *mode, int auth, const char *fault)
{
  memset(p, 0, sizeof *p);
  snprintf(p->log, sizeof p->log, "%s/proxy-log-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  int lf = mkstemp(p->log);
  ck_assert_int_ge(lf, 0);
  close(lf);
  int in[2], out[2];
  ck_assert_int_eq(pipe(in), 0);
  ck_assert_int_eq(pipe(out), 0);
  p->pid = fork();
  ck_assert_int_ge(p->pid, 0);
  if (p->pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    const char *argv[12];
    int k = 0;
    argv[k++] = "python3";
    argv[k++] = script;
    argv[k++] = mode;
    argv[k++] = "--log";
    argv[k++] = p->log;
    if (auth) {
      argv[k++] = "--user";
      argv[k++] = PROXY_USER;
      argv[k++] = "--password";
      argv[k++] = PROXY_PASS;
    }
    if (fault) {
      argv[k++] = "--fault";
      argv[k++] = fault;
    }
    argv[k] = NULL;
    execvp("python3", (char *const *)argv);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  p->in_fd = in[1];
  FILE *f = fdopen(out[0], "r");
  ck_assert_ptr_nonnull(f);
  char line[64] = "";
  ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
  fclose(f);
  ck_assert_int_eq(sscanf(line, "PORT %u", &p->port), 1);
}

/* Stop the proxy and return its log (to free). */
static char *proxy_stop(proxy *p)
{
  close(p->in_fd);
  int st = 0;
  waitpid(p->pid, &st, 0);
  FILE *f = fopen(p->log, "r");
  ck_assert_ptr_nonnull(f);
  char *buf = calloc(1, 65536);
  size_t n = fread(buf, 1, 65535, f);
  buf[n] = '\0';
  fclose(f);
  unlink(p->log);
  return buf;
}

static unsigned int port_of(const char *key)
{
  return (unsigned int)mail_test_env_long(key, 0);
}

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

/* Trace records collected per session, to search for secrets. */
typedef struct trace_log {
  char text[1 << 16];
  size_t len;
} trace_log;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  trace_log *t = user;
  (void)dir;
  if (t->len + len + 1 < sizeof t->text) {
    memcpy(t->text + t->len, data, len);
    t->len += len;
    t->text[t->len++] = '\n';
    t->text[t->len] = '\0';
  }
}

/* Settings every session here shares: the test CA, short timeouts, a
 * trace, and the proxy. */
static void configure(mail_conn *c, trace_log *t, const char *kind, unsigned int pport, int auth)
{
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 20000);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 20000);
  memset(t, 0, sizeof *t);
  mail_conn_set_trace(c, on_trace, t);
  char url[256];
  if (auth)
    snprintf(url, sizeof url, "%s://%s:%s@127.0.0.1:%u", kind, PROXY_USER, PROXY_PASS_URL, pport);
  else
    snprintf(url, sizeof url, "%s://127.0.0.1:%u", kind, pport);
  ck_assert_int_eq(mail_conn_set_proxy_url(c, url), MAIL_OK);
}

static void no_secret(const trace_log *t, mail_conn *c)
{
  ck_assert_msg(strstr(t->text, PROXY_PASS) == NULL, "the proxy password reached the trace");
  ck_assert_msg(strstr(t->text, "cHJveHktdXNlcjpwcjB4eSBzZWNyZXQ6JQ") == NULL,
                "the Basic credentials reached the trace");
  ck_assert(strstr(mail_conn_last_error(c), PROXY_PASS) == NULL);
}

static void alloc_start(mail_test_alloc *a)
{
  mail_test_alloc_init(a);
  mail_test_alloc_forbid_str(a, PROXY_PASS);
  /* base64("proxy-user:pr0xy secret:%"), the Basic form */
  mail_test_alloc_forbid_str(a, "cHJveHktdXNlcjpwcjB4eSBzZWNyZXQ6JQ");
}

static void alloc_end(mail_test_alloc *a)
{
  ck_assert_msg(a->forbidden_hits == 0, "unwiped proxy secret: %s", a->first_hit);
  ck_assert_uint_eq(a->live, 0);
  mail_test_alloc_cleanup(a);
}

/* ------------------------------------------------------------------------ */

START_TEST(smtp_submission_through_socks5_with_auth)
{
  proxy px;
  proxy_start(&px, "socks5", 1, NULL);
  mail_test_alloc a;
  alloc_start(&a);
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, mail_test_alloc_hooks(&a)), MAIL_OK);
  trace_log t;
  configure(mail_smtp_conn(s), &t, "socks5", px.port, 1);
  ck_assert_int_eq(mail_smtp_set_auth(s, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")), MAIL_OK);
  int rc = mail_smtp_connect(s, "localhost", port_of("MAIL_TEST_SUBMISSION_PORT"),
                             MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_smtp_conn(s)));
  ck_assert_int_eq(mail_conn_is_verified(mail_smtp_conn(s)), 1);
  rc = mail_smtp_auth(s);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_smtp_conn(s)));
  ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  no_secret(&t, mail_smtp_conn(s));
  ck_assert_ptr_nonnull(strstr(t.text, "the SOCKS5 proxy opened a tunnel to localhost"));
  mail_smtp_free(s);
  alloc_end(&a);
  char *log = proxy_stop(&px);
  /* The name went to the proxy as a name (address type 3), with the
   * credentials it accepted. */
  ck_assert_msg(strstr(log, "\"target\": \"localhost\"") && strstr(log, "\"atyp\": 3") &&
                    strstr(log, "\"auth\": true") && strstr(log, "\"methods\": [0, 2]"),
                "proxy log: %s", log);
  free(log);
}
END_TEST

START_TEST(imaps_through_http_connect_with_basic_auth)
{
  proxy px;
  proxy_start(&px, "http", 1, NULL);
  mail_test_alloc a;
  alloc_start(&a);
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, mail_test_alloc_hooks(&a)), MAIL_OK);
  trace_log t;
  configure(mail_imap_conn(im), &t, "http", px.port, 1);
  ck_assert_int_eq(mail_imap_set_auth(im, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")), MAIL_OK);
  int rc = mail_imap_connect(im, "localhost", port_of("MAIL_TEST_IMAPS_PORT"),
                             MAIL_SECURITY_IMPLICIT_TLS);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_int_eq(mail_conn_is_verified(mail_imap_conn(im)), 1);
  ck_assert_int_eq(mail_imap_login(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  no_secret(&t, mail_imap_conn(im));
  mail_imap_free(im);
  alloc_end(&a);
  char *log = proxy_stop(&px);
  char want[128];
  snprintf(want, sizeof want, "\"CONNECT localhost:%u HTTP/1.1\", \"Host: localhost:%u\"",
           port_of("MAIL_TEST_IMAPS_PORT"), port_of("MAIL_TEST_IMAPS_PORT"));
  ck_assert_msg(strstr(log, want) && strstr(log, "\"auth\": true"), "proxy log: %s", log);
  free(log);
}
END_TEST

/* The server's greeting in the same segment as the proxy's 200: it is the
 * server's, handed up intact. */
START_TEST(pop3_greeting_in_the_proxy_answer)
{
  proxy px;
  proxy_start(&px, "http", 0, "greeting-with-200");
  mail_test_alloc a;
  alloc_start(&a);
  mail_pop3 *p = NULL;
  ck_assert_int_eq(mail_pop3_new(&p, mail_test_alloc_hooks(&a)), MAIL_OK);
  trace_log t;
  configure(mail_pop3_conn(p), &t, "http", px.port, 0);
  ck_assert_int_eq(mail_pop3_set_auth(p, env("MAIL_TEST_USER1"), env("MAIL_TEST_PASS1")), MAIL_OK);
  int rc = mail_pop3_connect(p, "localhost", port_of("MAIL_TEST_POP3_PORT"), MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_pop3_conn(p)));
  ck_assert_int_eq(mail_conn_is_verified(mail_pop3_conn(p)), 1);
  ck_assert_int_eq(mail_pop3_auth(p), MAIL_OK);
  uint32_t count = 0;
  uint64_t size = 0;
  ck_assert_int_eq(mail_pop3_stat(p, &count, &size), MAIL_OK);
  ck_assert_int_eq(mail_pop3_quit(p, NULL), MAIL_OK);
  mail_pop3_free(p);
  alloc_end(&a);
  char *log = proxy_stop(&px);
  ck_assert_msg(strstr(log, "\"surplus\": 0") == NULL && strstr(log, "\"surplus\": "),
                "the greeting did not come with the 200: %s", log);
  free(log);
}
END_TEST

/* An IPv6 literal goes as address type 4; the certificate is checked
 * against the name the caller gives. A proxy answering one byte at a time. */
START_TEST(nntp_through_socks5_ipv6_literal_slow_proxy)
{
  proxy px;
  proxy_start(&px, "socks5", 0, "slow-reply");
  mail_nntp *n = NULL;
  ck_assert_int_eq(mail_nntp_new(&n, NULL), MAIL_OK);
  trace_log t;
  configure(mail_nntp_conn(n), &t, "socks5", px.port, 0);
  ck_assert_int_eq(mail_conn_set_tls_server_name(mail_nntp_conn(n), "localhost"), MAIL_OK);
  int rc = mail_nntp_connect(n, "::1", port_of("MAIL_TEST_NNTPS_PORT"), MAIL_SECURITY_IMPLICIT_TLS);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_nntp_conn(n)));
  ck_assert_int_eq(mail_conn_is_verified(mail_nntp_conn(n)), 1);
  uint64_t count = 0, low = 0, high = 0;
  ck_assert_int_eq(mail_nntp_group(n, env("MAIL_TEST_NNTP_GROUP"), &count, &low, &high), MAIL_OK);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);
  char *log = proxy_stop(&px);
  ck_assert_msg(strstr(log, "\"target\": \"::1\"") && strstr(log, "\"atyp\": 4"), "proxy log: %s",
                log);
  free(log);
}
END_TEST

/* Event-loop mode: the negotiation returns MAIL_ERR_AGAIN like any step. */
START_TEST(event_loop_connect_through_socks5)
{
  proxy px;
  proxy_start(&px, "socks5", 1, "slow-reply");
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  mail_conn *c = mail_imap_conn(im);
  trace_log t;
  configure(c, &t, "socks5", px.port, 1);
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 1), MAIL_OK);
  int rc, again = 0;
  while ((rc = mail_imap_connect(im, "localhost", port_of("MAIL_TEST_IMAP_PORT"),
                                 MAIL_SECURITY_STARTTLS)) == MAIL_ERR_AGAIN) {
    struct pollfd pfd = {mail_conn_fd(c), 0, 0};
    int w = mail_conn_want(c);
    pfd.events = (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) | ((w & MAIL_WANT_WRITE) ? POLLOUT : 0));
    ck_assert_int_ge(poll(&pfd, 1, (int)mail_conn_timeout_ms(c)), 0);
    again++;
  }
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_int_gt(again, 0);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  mail_imap_free(im);
  free(proxy_stop(&px));
}
END_TEST

/* ------------------------------------------------------------ refusals */

typedef struct refusal {
  const char *mode;
  int proxy_auth; /* the proxy wants credentials */
  int give_auth;  /* we give them (right or wrong) */
  int wrong;      /* ... wrong */
  const char *fault;
  unsigned int target_port; /* 0: the SMTP port */
  int status;
  const char *text;
} refusal;

static const refusal refusals[] = {
  {"socks5", 1, 1, 1, NULL, 0, MAIL_ERR_PROXY, "the SOCKS5 proxy refused the user name and password"},
  {"socks5", 1, 0, 0, NULL, 0, MAIL_ERR_PROXY, "the SOCKS5 proxy accepts none of our methods"},
  {"socks5", 0, 0, 0, "refuse", 0, MAIL_ERR_PROXY,
   "the SOCKS5 proxy could not open the tunnel: not allowed by its rules"},
  {"socks5", 0, 0, 0, NULL, 1, MAIL_ERR_PROXY, "the SOCKS5 proxy could not open the tunnel: connection refused"},
  {"socks5", 0, 0, 0, "truncated", 0, MAIL_ERR_PROXY,
   "the SOCKS5 proxy closed the connection before the tunnel was open"},
  {"socks5", 0, 0, 0, "garbage", 0, MAIL_ERR_PROXY, "the SOCKS5 proxy answered with another protocol"},
  {"http", 1, 0, 0, NULL, 0, MAIL_ERR_PROXY,
   "the HTTP proxy asks for credentials: HTTP/1.1 407 Proxy Authentication Required"},
  {"http", 1, 1, 1, NULL, 0, MAIL_ERR_PROXY, "the HTTP proxy refused our credentials: HTTP/1.1 407"},
  {"http", 0, 0, 0, "refuse", 0, MAIL_ERR_PROXY, "the HTTP proxy refused the tunnel: HTTP/1.1 403 Forbidden"},
  {"http", 0, 0, 0, NULL, 1, MAIL_ERR_PROXY, "the HTTP proxy refused the tunnel: HTTP/1.1 502 Bad Gateway"},
  {"http", 0, 0, 0, "close", 0, MAIL_ERR_PROXY,
   "the HTTP proxy closed the connection before the tunnel was open"},
  {"http", 0, 0, 0, "garbage", 0, MAIL_ERR_PROXY, "the HTTP proxy did not answer in HTTP"},
  {"http", 0, 0, 0, "long-header", 0, MAIL_ERR_LIMIT, "the HTTP proxy sent an answer longer than max_line"},
};

START_TEST(proxy_refusals)
{
  const refusal *r = &refusals[_i];
  proxy px;
  proxy_start(&px, r->mode, r->proxy_auth, r->fault);
  mail_test_alloc a;
  alloc_start(&a);
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, mail_test_alloc_hooks(&a)), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  trace_log t;
  configure(c, &t, r->mode, px.port, 0);
  if (r->give_auth)
    ck_assert_int_eq(mail_conn_set_proxy_auth(c, PROXY_USER, r->wrong ? PROXY_PASS "x" : PROXY_PASS),
                     MAIL_OK);
  mail_limits lim;
  ck_assert_int_eq(mail_limits_init(&lim, MAIL_LIMITS_VERSION), MAIL_OK);
  mail_conn_get_limits(c, &lim);
  lim.max_line = 4096;
  ck_assert_int_eq(mail_conn_set_limits(c, &lim), MAIL_OK);
  /* Port 1 on loopback: nothing listens there. */
  unsigned int port = r->target_port ? r->target_port : port_of("MAIL_TEST_SMTP_PORT");
  int rc = mail_smtp_connect(s, "localhost", port, MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == r->status, "%s/%s: %s (%s)", r->mode, r->fault ? r->fault : "-",
                mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_msg(strncmp(mail_conn_last_error(c), r->text, strlen(r->text)) == 0, "error text: %s",
                mail_conn_last_error(c));
  ck_assert_int_eq(mail_conn_fd(c), -1); /* nothing left open */
  ck_assert(strstr(t.text, "EHLO") == NULL); /* nothing of the protocol was sent */
  no_secret(&t, c);
  mail_smtp_free(s);
  alloc_end(&a);
  free(proxy_stop(&px));
}
END_TEST

/* A proxy that accepts and never answers: the connect timeout ends it. */
START_TEST(silent_proxy_times_out)
{
  proxy px;
  proxy_start(&px, "socks5", 0, "silent");
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  trace_log t;
  configure(c, &t, "socks5", px.port, 0);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 300);
  int rc = mail_smtp_connect(s, "localhost", port_of("MAIL_TEST_SMTP_PORT"), MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_ERR_TIMEOUT, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "waiting for the proxy"));
  mail_smtp_free(s);
  free(proxy_stop(&px));
}
END_TEST

START_TEST(api_rules)
{
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", "p"), MAIL_ERR_STATE); /* no proxy yet */
  ck_assert_int_eq(mail_conn_set_proxy(c, 7, "h", 1080), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "", 1080), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "h\r\nx", 1080), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "h x", 1080), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "h", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "h", 65536), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_NONE, "h", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_HTTP, "127.0.0.1", 1), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u:x", "p"), MAIL_ERR_INVALID); /* Basic */
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", "p\r\n"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", NULL), MAIL_ERR_INVALID);
  char big[300];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", big), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", "p"), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, NULL, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy_url(c, "ftp://h:1"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_conn_set_proxy_url(c, "socks5://h:1/path"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_conn_set_proxy_url(c, "socks5://h:0"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_conn_set_proxy_url(c, "socks5h://u:p@h"), MAIL_OK);
  /* A proxy needs the server's name: connecting otherwise is refused. */
  struct {
    unsigned short family;
    char rest[126];
  } sa = {2, {0}};
  ck_assert_int_eq(mail_conn_connect_addr(c, &sa, 16, "h", 0), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_connect_unix(c, "/nonexistent"), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_NONE, NULL, 0), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy_auth(c, "u", "p"), MAIL_ERR_STATE);
  mail_conn_free(c);
}
END_TEST

/* No proxy listening: the TCP connect to it fails like any connect. */
START_TEST(proxy_not_listening)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "127.0.0.1", 1), MAIL_OK);
  ck_assert_int_eq(mail_smtp_connect(s, "localhost", port_of("MAIL_TEST_SMTP_PORT"),
                                     MAIL_SECURITY_STARTTLS), MAIL_ERR_CONNECT);
  mail_smtp_free(s);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  static char path[1024];
  const char *src = getenv("MAIL_TEST_SRCDIR");
  snprintf(path, sizeof path, "%s/proxy/proxy_server.py", src ? src : "tests");
  script = path;
  signal(SIGPIPE, SIG_IGN);
  Suite *su = suite_create("proxy");
  TCase *tc = tcase_create("proxy");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, smtp_submission_through_socks5_with_auth);
  tcase_add_test(tc, imaps_through_http_connect_with_basic_auth);
  tcase_add_test(tc, pop3_greeting_in_the_proxy_answer);
  tcase_add_test(tc, nntp_through_socks5_ipv6_literal_slow_proxy);
  tcase_add_test(tc, event_loop_connect_through_socks5);
  tcase_add_loop_test(tc, proxy_refusals, 0, (int)(sizeof refusals / sizeof refusals[0]));
  tcase_add_test(tc, silent_proxy_times_out);
  tcase_add_test(tc, api_rules);
  tcase_add_test(tc, proxy_not_listening);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

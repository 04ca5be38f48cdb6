/*
 * The connection layer against the real servers of tests/servers (plain
 * TCP over IPv4 and IPv6, by name, by a crafted address list whose first
 * address refuses, event-loop mode, LMTP over its Unix socket). Skipped
 * (exit 77) when servers.env is missing, unless MAIL_TEST_REQUIRE_SERVERS=1.
 */
#include <check.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/conn_internal.h"
#include "core/reader.h"
#include "servers_env.h"

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads one reply: SMTP/LMTP style ("250-..." continues, "250 ..." ends)
 * or, for IMAP and POP3 greetings, one line. */
typedef struct reply {
  mail_conn *c;
  int smtp;
  char first[256];
  char last[256];
  int lines;
} reply;

static int reply_advance(void *e)
{
  reply *r = e;
  for (;;) {
    const char *l;
    size_t n;
    int rc = mail_reader_line(mail_conn_reader(r->c), &l, &n, NULL);
    if (rc)
      return rc;
    snprintf(r->lines ? r->last : r->first, sizeof r->first, "%.*s", (int)(n < 200 ? n : 200), l);
    if (!r->lines)
      snprintf(r->last, sizeof r->last, "%s", r->first);
    r->lines++;
    if (!r->smtp || n < 4 || l[3] != '-')
      return MAIL_OK;
  }
}

static int get_reply(reply *r, mail_conn *c, int smtp, const char *send)
{
  memset(r, 0, sizeof *r);
  r->c = c;
  r->smtp = smtp;
  if (send) {
    int rc = mail_conn_send(c, send, strlen(send));
    if (rc)
      return rc;
  }
  return mail_conn_run(c, reply_advance, r);
}

static unsigned port(const char *key)
{
  long p = mail_test_env_long(key, 0);
  ck_assert_msg(p > 0, "%s missing from servers.env", key);
  return (unsigned)p;
}

static mail_conn *new_conn(void)
{
  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 5000), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 10000), MAIL_OK);
  return c;
}

static void smtp_greeting_and_quit(mail_conn *c)
{
  reply r;
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220 ", 4), "greeting: %s", r.first);
  ck_assert_int_eq(get_reply(&r, c, 1, "QUIT\r\n"), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "221", 3), "QUIT reply: %s", r.first);
}

START_TEST(smtp_ipv4_ipv6_and_name)
{
  const char *hosts[] = {
    mail_test_env("MAIL_TEST_HOST") ? mail_test_env("MAIL_TEST_HOST") : "127.0.0.1",
    mail_test_env("MAIL_TEST_HOST6") ? mail_test_env("MAIL_TEST_HOST6") : "::1",
    mail_test_env("MAIL_TEST_HOSTNAME") ? mail_test_env("MAIL_TEST_HOSTNAME") : "localhost",
  };
  for (size_t i = 0; i < 3; i++) {
    mail_conn *c = new_conn();
    int rc = mail_conn_connect(c, hosts[i], port("MAIL_TEST_SMTP_PORT"), 0);
    ck_assert_msg(rc == MAIL_OK, "%s: %s", hosts[i], mail_conn_last_error(c));
    smtp_greeting_and_quit(c);
    /* After QUIT the server closes: the next read reports it. */
    reply r;
    ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_ERR_CLOSED);
    mail_conn_free(c);
  }
}
END_TEST

START_TEST(imap_and_pop3_greetings)
{
  mail_conn *c = new_conn();
  reply r;
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port("MAIL_TEST_IMAP_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(get_reply(&r, c, 0, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "* OK", 4), "IMAP greeting: %s", r.first);
  ck_assert_int_eq(get_reply(&r, c, 0, "a1 LOGOUT\r\n"), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "* BYE", 5), "LOGOUT: %s", r.first);
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_connect(c, "::1", port("MAIL_TEST_POP3_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(get_reply(&r, c, 0, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "+OK", 3), "POP3 greeting: %s", r.first);
  ck_assert_int_eq(get_reply(&r, c, 0, "QUIT\r\n"), MAIL_OK);
  mail_conn_free(c);
}
END_TEST

START_TEST(first_address_refuses)
{
  /* A list whose first address refuses (a closed port on ::1), the second
   * the real SMTP server: connected within the one deadline. */
  struct sockaddr_storage dead;
  socklen_t dl = sizeof dead;
  memset(&dead, 0, sizeof dead);
  struct sockaddr_in6 *d6 = (struct sockaddr_in6 *)&dead;
  d6->sin6_family = AF_INET6;
  d6->sin6_addr = in6addr_loopback;
  int s = socket(AF_INET6, SOCK_STREAM, 0);
  if (s < 0 || bind(s, (struct sockaddr *)&dead, sizeof *d6) != 0) {
    /* No IPv6 loopback here: a closed IPv4 port does the same job. */
    if (s >= 0)
      close(s);
    memset(&dead, 0, sizeof dead);
    struct sockaddr_in *d4 = (struct sockaddr_in *)&dead;
    d4->sin_family = AF_INET;
    d4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&dead, sizeof *d4), 0);
  }
  ck_assert_int_eq(getsockname(s, (struct sockaddr *)&dead, &dl), 0);
  /* Bound, never listening: a connect there is refused, and while it
   * stays bound no other socket can be given the port. */
  struct sockaddr_in live = {0};
  live.sin_family = AF_INET;
  live.sin_port = htons((uint16_t)port("MAIL_TEST_SMTP_PORT"));
  live.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const void *addrs[] = {&dead, &live};
  size_t lens[] = {dl, sizeof live};
  mail_conn *c = new_conn();
  int64_t t0 = wall_ms();
  ck_assert_int_eq(mail_conn_connect_addrs(c, addrs, lens, 2, "localhost", 0), MAIL_OK);
  ck_assert_msg(wall_ms() - t0 < 5000, "connect took too long");
  smtp_greeting_and_quit(c);
  mail_conn_free(c);
  close(s);
}
END_TEST

/* A listening socket on 127.0.0.1 and a free port; *port gets the port. */
static int loopback_listener(unsigned *port)
{
  int l = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sin = {0};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sin;
  ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof sin), 0);
  ck_assert_int_eq(listen(l, 4), 0);
  ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
  *port = ntohs(sin.sin_port);
  return l;
}

/* A connection to a loopback listener, accepted (*server) and greeted
 * with "220 hi", the greeting not yet read. */
static mail_conn *greeted_conn(int *listener, int *server)
{
  unsigned p;
  *listener = loopback_listener(&p);
  mail_conn *c = new_conn();
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", p, 0), MAIL_OK);
  *server = accept(*listener, NULL, NULL);
  ck_assert_int_ge(*server, 0);
  ck_assert_int_eq(write(*server, "220 hi\r\n", 8), 8);
  return c;
}

START_TEST(silent_listener_times_out)
{
  /* A listener that accepts at the TCP level but never says a word. */
  unsigned p;
  int l = loopback_listener(&p);
  mail_conn *c = new_conn();
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 300), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", p, 0), MAIL_OK);
  reply r;
  int64_t t0 = wall_ms();
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_ERR_TIMEOUT);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 250 && took < 3000, "took %lld ms", (long long)took);
  mail_conn_free(c);
  close(l);
}
END_TEST

/* In blocking mode a read waits in the kernel (the socket's receive
 * timeout) rather than in poll(). A shorter I/O timeout set between two
 * operations must still end the next wait on time: the receive timeout
 * the first read left on the socket (10 s) is not reused for it. */
START_TEST(blocking_read_follows_a_shorter_timeout)
{
  int l, a;
  mail_conn *c = greeted_conn(&l, &a);
  reply r;
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK);
  ck_assert_str_eq(r.first, "220 hi");
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 300), MAIL_OK);
  int64_t t0 = wall_ms();
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_ERR_TIMEOUT);
  int64_t took = wall_ms() - t0;
  ck_assert_msg(took >= 250 && took < 5000, "took %lld ms", (long long)took);
  mail_conn_free(c);
  close(a);
  close(l);
}
END_TEST

/* The other way round: a read that may wait longer than the receive
 * timeout the socket keeps (it is kept when at least half the wait) must
 * not end when that timeout does: the driver polls for the rest. */
START_TEST(blocking_read_outlasts_a_shorter_socket_timeout)
{
  int l, a;
  mail_conn *c = greeted_conn(&l, &a);
  reply r;
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 1000), MAIL_OK);
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK); /* the socket's: 1 s */
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 1990), MAIL_OK);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct timespec d = {1, 300000000};
    nanosleep(&d, NULL);
    _exit(write(a, "250 late\r\n", 10) == 10 ? 0 : 1);
  }
  int64_t t0 = wall_ms();
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK);
  int64_t took = wall_ms() - t0;
  ck_assert_str_eq(r.first, "250 late");
  ck_assert_msg(took >= 1000, "took %lld ms", (long long)took);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  mail_conn_free(c);
  close(a);
  close(l);
}
END_TEST

START_TEST(event_loop_connect_and_greeting)
{
  mail_conn *c = new_conn();
  mail_conn_set_nonblocking(c, 1);
  unsigned p = port("MAIL_TEST_SMTP_PORT");
  int rc = mail_conn_connect(c, "127.0.0.1", p, 0);
  int rounds = 0;
  while (rc == MAIL_ERR_AGAIN && rounds++ < 1000) {
    struct pollfd pf = {mail_conn_fd(c), POLLOUT, 0};
    ck_assert_int_ge(poll(&pf, 1, (int)mail_conn_timeout_ms(c)), 0);
    rc = mail_conn_connect(c, "127.0.0.1", p, 0);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  reply r;
  memset(&r, 0, sizeof r);
  r.c = c;
  r.smtp = 1;
  rc = mail_conn_run(c, reply_advance, &r);
  rounds = 0;
  while (rc == MAIL_ERR_AGAIN && rounds++ < 1000) {
    short ev = (short)((mail_conn_want(c) & MAIL_WANT_READ ? POLLIN : 0) |
                       (mail_conn_want(c) & MAIL_WANT_WRITE ? POLLOUT : 0));
    ck_assert_int_ne(ev, 0);
    struct pollfd pf = {mail_conn_fd(c), ev, 0};
    ck_assert_int_ge(poll(&pf, 1, (int)mail_conn_timeout_ms(c)), 0);
    rc = mail_conn_run(c, reply_advance, &r);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220 ", 4), "greeting: %s", r.first);
  mail_conn_free(c);
}
END_TEST

/* Step an operation from a poll() loop until it stops asking to wait. */
static int poll_until_done(mail_conn *c, int rc, int (*again)(mail_conn *, void *), void *arg)
{
  for (int rounds = 0; rc == MAIL_ERR_AGAIN && rounds < 1000; rounds++) {
    int w = mail_conn_want(c);
    short ev = (short)((w & MAIL_WANT_READ ? POLLIN : 0) | (w & MAIL_WANT_WRITE ? POLLOUT : 0));
    ck_assert_int_ne(ev, 0);
    struct pollfd pf = {mail_conn_fd(c), ev, 0};
    ck_assert_int_ge(poll(&pf, 1, (int)mail_conn_timeout_ms(c)), 0);
    rc = again(c, arg);
  }
  return rc;
}

static int again_run(mail_conn *c, void *r)
{
  return mail_conn_run(c, reply_advance, r);
}

static int again_connect_smtps(mail_conn *c, void *unused)
{
  (void)unused;
  return mail_conn_connect(c, "localhost", port("MAIL_TEST_SMTPS_PORT"), 1);
}

static int nb_reply(reply *r, mail_conn *c, const char *send)
{
  memset(r, 0, sizeof *r);
  r->c = c;
  r->smtp = 1;
  if (send)
    ck_assert_int_eq(mail_conn_send(c, send, strlen(send)), MAIL_OK);
  return poll_until_done(c, mail_conn_run(c, reply_advance, r), again_run, r);
}

static mail_tls_config *test_tls_config(void)
{
  mail_tls_config *cfg = NULL;
  if (mail_tls_config_new(&cfg, NULL) != MAIL_OK)
    return NULL;
  const char *ca = mail_test_env("MAIL_TEST_CA");
  ck_assert_ptr_nonnull(ca);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ca), MAIL_OK);
  return cfg;
}

START_TEST(event_loop_implicit_tls)
{
  mail_tls_config *cfg = test_tls_config();
  if (!cfg)
    return; /* built without TLS */
  mail_conn *c = new_conn();
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_nonblocking(c, 1);
  int rc = poll_until_done(c, again_connect_smtps(c, NULL), again_connect_smtps, NULL);
  ck_assert_msg(rc == MAIL_OK, "connect: %d %s", rc, mail_conn_last_error(c));
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  reply r;
  ck_assert_int_eq(nb_reply(&r, c, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220 ", 4), "greeting: %s", r.first);
  ck_assert_int_eq(nb_reply(&r, c, "QUIT\r\n"), MAIL_OK);
  mail_conn_free(c);
}
END_TEST

START_TEST(event_loop_starttls)
{
  mail_tls_config *cfg = test_tls_config();
  if (!cfg)
    return;
  mail_conn *c = new_conn();
  ck_assert_int_eq(mail_conn_set_tls_config(c, cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_nonblocking(c, 1);
  unsigned p = port("MAIL_TEST_SMTP_PORT");
  int rc = mail_conn_connect(c, "localhost", p, 0);
  for (int i = 0; rc == MAIL_ERR_AGAIN && i < 1000; i++) {
    struct pollfd pf = {mail_conn_fd(c), POLLOUT, 0};
    poll(&pf, 1, (int)mail_conn_timeout_ms(c));
    rc = mail_conn_connect(c, "localhost", p, 0);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  reply r;
  ck_assert_int_eq(nb_reply(&r, c, NULL), MAIL_OK);
  ck_assert_int_eq(nb_reply(&r, c, "EHLO client.libmail.test\r\n"), MAIL_OK);
  ck_assert_int_eq(nb_reply(&r, c, "STARTTLS\r\n"), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220", 3), "STARTTLS: %s", r.first);
  ck_assert_int_eq(mail_conn_start_tls(c), MAIL_OK);
  ck_assert_int_eq(mail_conn_is_tls(c), 0); /* the handshake runs in the next step */
  ck_assert_int_eq(nb_reply(&r, c, "EHLO client.libmail.test\r\n"), MAIL_OK);
  ck_assert_msg(!strncmp(r.last, "250 ", 4), "EHLO over TLS: %s", r.last);
  ck_assert_int_eq(mail_conn_is_tls(c), 1);
  ck_assert_int_eq(mail_conn_is_verified(c), 1);
  ck_assert_ptr_nonnull(mail_conn_tls_version(c));
  ck_assert_int_eq(nb_reply(&r, c, "QUIT\r\n"), MAIL_OK);
  mail_conn_free(c);
}
END_TEST

START_TEST(lmtp_unix_socket_and_tcp)
{
  const char *path = mail_test_env("MAIL_TEST_LMTP_SOCKET");
  ck_assert_ptr_nonnull(path);
  mail_conn *c = new_conn();
  ck_assert_msg(mail_conn_connect_unix(c, path) == MAIL_OK, "%s", mail_conn_last_error(c));
  reply r;
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220 ", 4), "LMTP greeting: %s", r.first);
  ck_assert_int_eq(get_reply(&r, c, 1, "LHLO client.libmail.test\r\n"), MAIL_OK);
  ck_assert_msg(!strncmp(r.last, "250 ", 4) && r.lines > 1, "LHLO: %d lines, last %s", r.lines,
                r.last);
  ck_assert_int_eq(get_reply(&r, c, 1, "QUIT\r\n"), MAIL_OK);
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port("MAIL_TEST_LMTP_PORT"), 0), MAIL_OK);
  ck_assert_int_eq(get_reply(&r, c, 1, NULL), MAIL_OK);
  ck_assert_msg(!strncmp(r.first, "220 ", 4), "LMTP greeting: %s", r.first);
  mail_conn_free(c);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("tcp");
  TCase *tc = tcase_create("servers");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, smtp_ipv4_ipv6_and_name);
  tcase_add_test(tc, imap_and_pop3_greetings);
  tcase_add_test(tc, first_address_refuses);
  tcase_add_test(tc, silent_listener_times_out);
  tcase_add_test(tc, blocking_read_follows_a_shorter_timeout);
  tcase_add_test(tc, blocking_read_outlasts_a_shorter_socket_timeout);
  tcase_add_test(tc, event_loop_connect_and_greeting);
  tcase_add_test(tc, lmtp_unix_socket_and_tcp);
  tcase_add_test(tc, event_loop_implicit_tls);
  tcase_add_test(tc, event_loop_starttls);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

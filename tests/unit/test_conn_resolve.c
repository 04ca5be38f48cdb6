/* The caller's resolver (mail_conn_set_resolver / mail_conn_resolved):
 * answered at once in blocking mode, later in event-loop mode (no fd, a
 * deadline), with failures, too late, for the proxy's name; IP literals
 * never reach it. Connects go to a local listener. */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/conn.h>

static int listener(unsigned int *port)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, len), 0);
  ck_assert_int_eq(listen(fd, 8), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* What the resolver was asked, and how it answers. */
typedef struct query {
  int calls;
  char host[256];
  unsigned int port;
  int answer_now;  /* answer from inside the call */
  int fail_with;   /* answer with this failure (0: the loopback address) */
  int refuse_with; /* return this instead of taking the query */
} query;

static struct sockaddr_in loopback(void)
{
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a; /* port 0: the connect's is set */
}

static int answer(mail_conn *c, query *q)
{
  if (q->fail_with)
    return mail_conn_resolved(c, q->fail_with, NULL, NULL, 0, "NXDOMAIN from the test resolver");
  struct sockaddr_in a = loopback();
  const void *addrs[1] = {&a};
  size_t lens[1] = {sizeof a};
  return mail_conn_resolved(c, MAIL_OK, addrs, lens, 1, NULL);
}

static int resolve(void *user, mail_conn *c, const char *host, unsigned int port)
{
  query *q = user;
  q->calls++;
  snprintf(q->host, sizeof q->host, "%s", host);
  q->port = port;
  if (q->refuse_with)
    return q->refuse_with;
  if (q->answer_now)
    ck_assert_int_eq(answer(c, q), MAIL_OK);
  return MAIL_OK;
}

static void drive(mail_conn *c, const char *host, unsigned int port, int want_rc)
{
  int rc;
  while ((rc = mail_conn_connect(c, host, port, 0)) == MAIL_ERR_AGAIN) {
    struct pollfd p = {mail_conn_fd(c), 0, 0};
    int w = mail_conn_want(c);
    p.events = (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) | ((w & MAIL_WANT_WRITE) ? POLLOUT : 0));
    ck_assert_int_ge(p.fd, 0);
    ck_assert_int_gt(poll(&p, 1, 10000), 0);
  }
  ck_assert_msg(rc == want_rc, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
}

START_TEST(blocking_resolver_answers_at_once)
{
  unsigned int port;
  int l = listener(&port);
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  query q = {0};
  q.answer_now = 1;
  ck_assert_int_eq(mail_conn_set_resolver(c, resolve, &q), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "mail.example.invalid", port, 0), MAIL_OK);
  ck_assert_int_eq(q.calls, 1);
  ck_assert_str_eq(q.host, "mail.example.invalid");
  ck_assert_uint_eq(q.port, port);
  ck_assert_int_ge(mail_conn_fd(c), 0);
  /* IP literals do not reach the resolver. */
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_connect(c, "127.0.0.1", port, 0), MAIL_OK);
  ck_assert_int_eq(q.calls, 1);
  mail_conn_free(c);
  close(l);
}
END_TEST

START_TEST(event_loop_resolver_answers_later)
{
  unsigned int port;
  int l = listener(&port);
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 1), MAIL_OK);
  query q = {0};
  ck_assert_int_eq(mail_conn_set_resolver(c, resolve, &q), MAIL_OK);
  ck_assert_int_eq(mail_conn_resolved(c, MAIL_OK, NULL, NULL, 0, NULL), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_connect(c, "mail.example.invalid", port, 0), MAIL_ERR_AGAIN);
  /* Nothing to poll, a deadline to keep. */
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_int_eq(mail_conn_want(c), 0);
  ck_assert_int_gt(mail_conn_timeout_ms(c), 0);
  /* Called again before the answer: still waiting, no second query. */
  ck_assert_int_eq(mail_conn_connect(c, "mail.example.invalid", port, 0), MAIL_ERR_AGAIN);
  ck_assert_int_eq(q.calls, 1);
  /* Not an IP address: refused, the query still open. */
  struct sockaddr_storage bad;
  memset(&bad, 0, sizeof bad);
  bad.ss_family = AF_UNIX;
  const void *ba[1] = {&bad};
  size_t bl[1] = {sizeof bad};
  ck_assert_int_eq(mail_conn_resolved(c, MAIL_OK, ba, bl, 1, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_resolved(c, MAIL_OK, NULL, NULL, 0, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(answer(c, &q), MAIL_OK);
  ck_assert_int_eq(answer(c, &q), MAIL_ERR_STATE); /* answered already */
  drive(c, "mail.example.invalid", port, MAIL_OK);
  ck_assert_int_ge(mail_conn_fd(c), 0);
  mail_conn_free(c);
  close(l);
}
END_TEST

START_TEST(resolver_failures)
{
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  query q = {0};
  ck_assert_int_eq(mail_conn_set_resolver(c, resolve, &q), MAIL_OK);
  /* An answer that is a failure. */
  q.answer_now = 1;
  q.fail_with = MAIL_ERR_RESOLVE;
  ck_assert_int_eq(mail_conn_connect(c, "nx.example.invalid", 25, 0), MAIL_ERR_RESOLVE);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "NXDOMAIN from the test resolver"));
  ck_assert_int_eq(mail_conn_fd(c), -1);
  /* A resolver that will not take the query. */
  q.refuse_with = MAIL_ERR_NOMEM;
  ck_assert_int_eq(mail_conn_connect(c, "nx.example.invalid", 25, 0), MAIL_ERR_NOMEM);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "refused the query"));
  /* Blocking mode, and the resolver did not answer before it returned. */
  q.refuse_with = 0;
  q.answer_now = 0;
  ck_assert_int_eq(mail_conn_connect(c, "late.example.invalid", 25, 0), MAIL_ERR_RESOLVE);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "did not answer"));
  ck_assert_int_eq(mail_conn_resolved(c, MAIL_ERR_RESOLVE, NULL, NULL, 0, NULL), MAIL_ERR_STATE);
  mail_conn_free(c);
}
END_TEST

static int64_t fake_now;
static int64_t fake_clock(void *user, int which)
{
  (void)user;
  (void)which;
  return fake_now;
}

START_TEST(resolver_that_never_answers_times_out)
{
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  fake_now = 1000000;
  ck_assert_int_eq(mail_conn_set_clock(c, fake_clock, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 500), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 1), MAIL_OK);
  query q = {0};
  ck_assert_int_eq(mail_conn_set_resolver(c, resolve, &q), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(c, "slow.example.invalid", 25, 0), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_timeout_ms(c), 500);
  fake_now += 501;
  ck_assert_int_eq(mail_conn_connect(c, "slow.example.invalid", 25, 0), MAIL_ERR_TIMEOUT);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "waiting for the resolver"));
  /* The late answer finds nothing waiting. */
  ck_assert_int_eq(answer(c, &q), MAIL_ERR_STATE);
  mail_conn_free(c);
}
END_TEST

/* With a proxy the resolver is asked for the proxy's name and port. */
START_TEST(resolver_asked_for_the_proxy)
{
  unsigned int port;
  int l = listener(&port);
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  query q = {0};
  q.answer_now = 1;
  ck_assert_int_eq(mail_conn_set_resolver(c, resolve, &q), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, "proxy.example.invalid", port), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 300), MAIL_OK);
  /* The listener never answers the SOCKS5 hello: the connect times out in
   * the negotiation, after the resolver was asked. */
  ck_assert_int_eq(mail_conn_connect(c, "mail.example.invalid", 25, 0), MAIL_ERR_TIMEOUT);
  ck_assert_str_eq(q.host, "proxy.example.invalid");
  ck_assert_uint_eq(q.port, port);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "waiting for the proxy"));
  mail_conn_free(c);
  close(l);
}
END_TEST

int main(void)
{
  Suite *su = suite_create("conn_resolve");
  TCase *tc = tcase_create("resolve");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, blocking_resolver_answers_at_once);
  tcase_add_test(tc, event_loop_resolver_answers_later);
  tcase_add_test(tc, resolver_failures);
  tcase_add_test(tc, resolver_that_never_answers_times_out);
  if (mail_features() & MAIL_FEATURE_PROXY)
    tcase_add_test(tc, resolver_asked_for_the_proxy);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

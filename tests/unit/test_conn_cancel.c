/* mail_conn_cancel(): from another thread into a blocking wait (with and
 * without the wake pipe), from an event loop between two calls, before and
 * after an operation, during a connect; the session is left disconnected
 * and can connect again. The server is a local socket that accepts and
 * stays silent (or greets, for the second connect). */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/smtp.h>

typedef struct silent_server {
  int listen_fd;
  unsigned int port;
  mail_conn *cancel_on_accept; /* cancelled by the server thread once it accepted */
  int greet;                   /* 1: greet and answer EHLO/QUIT; 2: start a
                                * greeting that never ends */
  atomic_int accepted;
  pthread_t th;
} silent_server;

static void *server_main(void *arg)
{
  silent_server *s = arg;
  int fd = accept(s->listen_fd, NULL, NULL);
  if (fd < 0)
    return NULL;
  atomic_store(&s->accepted, 1);
  /* The client called connect(), so its operation is under way: the
   * cancel cannot come before it. */
  if (s->cancel_on_accept)
    mail_conn_cancel(s->cancel_on_accept);
  if (s->greet) {
    const char *g = s->greet == 2 ? "220-test: more to come\r\n" : "220 test ESMTP\r\n";
    (void)!write(fd, g, strlen(g));
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    if (s->greet == 1 && n >= 4 && !strncmp(buf, "EHLO", 4))
      (void)!write(fd, "250 test\r\n", 10);
    if (s->greet == 1 && n >= 4 && !strncmp(buf, "QUIT", 4)) {
      (void)!write(fd, "221 bye\r\n", 9);
      break;
    }
  }
  close(fd);
  return NULL;
}

static void server_start(silent_server *s, mail_conn *cancel, int greet)
{
  memset(s, 0, sizeof *s);
  s->cancel_on_accept = cancel;
  s->greet = greet;
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(s->listen_fd, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ck_assert_int_eq(bind(s->listen_fd, (struct sockaddr *)&a, len), 0);
  ck_assert_int_eq(listen(s->listen_fd, 4), 0);
  ck_assert_int_eq(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void server_stop(silent_server *s)
{
  shutdown(s->listen_fd, SHUT_RDWR);
  pthread_join(s->th, NULL);
  close(s->listen_fd);
}

static mail_smtp *session(void)
{
  mail_smtp *sm = NULL;
  ck_assert_int_eq(mail_smtp_new(&sm, NULL), MAIL_OK);
  /* No TLS in these tests: the server is ours and silent. */
  ck_assert_int_eq(mail_smtp_set_security(sm, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  return sm;
}

/* Another thread cancels a blocking wait for the greeting: with the wake
 * pipe the wait ends at once, long before the 60 s I/O timeout (the test's
 * own timeout, 20 s, would fail it otherwise). */
START_TEST(cancel_blocking_wait_from_another_thread)
{
  mail_smtp *sm = session();
  mail_conn *c = mail_smtp_conn(sm);
  ck_assert_int_eq(mail_conn_enable_cancel(c), MAIL_OK);
  ck_assert_int_ge(mail_conn_wake_fd(c), 0);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 60000);
  silent_server s;
  server_start(&s, c, 0);
  int rc = mail_smtp_connect(sm, "127.0.0.1", s.port, MAIL_SECURITY_NONE_INSECURE);
  ck_assert_int_eq(rc, MAIL_ERR_CANCELLED);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "cancelled"));
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_str_eq(mail_smtp_state_name(sm), "DISCONNECTED");
  server_stop(&s);
  /* The session connects again afterwards, and a cancel that finds no
   * operation under way does nothing. */
  mail_conn_cancel(c);
  server_start(&s, NULL, 1);
  rc = mail_smtp_connect(sm, "127.0.0.1", s.port, MAIL_SECURITY_NONE_INSECURE);
  ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(c));
  mail_conn_cancel(c);
  ck_assert_int_eq(mail_smtp_quit(sm), MAIL_OK);
  server_stop(&s);
  mail_smtp_free(sm);
}
END_TEST

/* Without the wake pipe the cancel is seen at the next step: here when the
 * first bytes of the greeting (sent after the cancel) end the wait. */
START_TEST(cancel_without_wake_pipe_acts_at_the_next_step)
{
  mail_smtp *sm = session();
  mail_conn *c = mail_smtp_conn(sm);
  ck_assert_int_eq(mail_conn_wake_fd(c), -1);
  mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 60000);
  silent_server s;
  server_start(&s, c, 2);
  int rc = mail_smtp_connect(sm, "127.0.0.1", s.port, MAIL_SECURITY_NONE_INSECURE);
  ck_assert_int_eq(rc, MAIL_ERR_CANCELLED);
  ck_assert_str_eq(mail_smtp_state_name(sm), "DISCONNECTED");
  server_stop(&s);
  mail_smtp_free(sm);
}
END_TEST

/* Event-loop mode: the loop polls the wake fd beside the connection's; a
 * cancel (here from the loop itself, between two calls, once the greeting
 * has begun) makes the next call return MAIL_ERR_CANCELLED. */
START_TEST(cancel_from_the_event_loop)
{
  mail_smtp *sm = session();
  mail_conn *c = mail_smtp_conn(sm);
  ck_assert_int_eq(mail_conn_enable_cancel(c), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 1), MAIL_OK);
  silent_server s;
  server_start(&s, NULL, 2);
  int rc, calls = 0;
  while ((rc = mail_smtp_connect(sm, "127.0.0.1", s.port, MAIL_SECURITY_NONE_INSECURE)) ==
         MAIL_ERR_AGAIN) {
    calls++;
    if (atomic_load(&s.accepted))
      mail_conn_cancel(c);
    struct pollfd p[2] = {{mail_conn_fd(c), 0, 0}, {mail_conn_wake_fd(c), POLLIN, 0}};
    int w = mail_conn_want(c);
    p[0].events = (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) | ((w & MAIL_WANT_WRITE) ? POLLOUT : 0));
    ck_assert_int_gt(poll(p, 2, 15000), 0); /* never the timeout */
    ck_assert_int_lt(calls, 10000);
  }
  ck_assert_int_eq(rc, MAIL_ERR_CANCELLED);
  ck_assert_str_eq(mail_smtp_state_name(sm), "DISCONNECTED");
  /* Called once more, the operation is over: no new cancel applies. */
  ck_assert_int_ne(mail_smtp_connect(sm, "127.0.0.1", s.port, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_CANCELLED);
  server_stop(&s);
  mail_smtp_free(sm);
}
END_TEST

START_TEST(cancel_null_and_unused)
{
  mail_conn_cancel(NULL);
  ck_assert_int_eq(mail_conn_enable_cancel(NULL), MAIL_ERR_INVALID);
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_conn_cancel(c); /* nothing under way */
  ck_assert_int_eq(mail_conn_enable_cancel(c), MAIL_OK);
  ck_assert_int_eq(mail_conn_enable_cancel(c), MAIL_OK); /* idempotent */
  mail_conn_free(c);
}
END_TEST

int main(void)
{
  Suite *su = suite_create("conn_cancel");
  TCase *tc = tcase_create("cancel");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, cancel_blocking_wait_from_another_thread);
  tcase_add_test(tc, cancel_without_wake_pipe_acts_at_the_next_step);
  tcase_add_test(tc, cancel_from_the_event_loop);
  tcase_add_test(tc, cancel_null_and_unused);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

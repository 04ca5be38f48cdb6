/*
 * 50 SMTP sessions x 4 messages in one thread (mail/loop.h) through the
 * real Postfix: every session connects to the plain SMTP port, upgrades
 * with STARTTLS (the private CA verified), and sends its messages to
 * alice one mail_smtp_send() at a time; every connection is open at once
 * (a barrier: all connect, then all send) and every one of the 200
 * results must be Postfix's 250 for the recipient. Postfix forks an smtpd
 * per connection (its process limit is raised in postfix-main.cf.in).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/loop.h>
#include <mail/smtp.h>

#include "loop_jobs.h"
#include "servers_env.h"

static void through_postfix(int backend, size_t n, int m)
{
  static char body[1024];
  snprintf(body, sizeof body,
           "From: <%s>\r\nTo: <%s>\r\nSubject: loop through Postfix\r\n\r\n"
           "One of %zu sessions in one thread.\r\n",
           mail_test_env("MAIL_TEST_ADDR2"), mail_test_env("MAIL_TEST_ADDR1"), n);
  loop_jobs_conf c;
  memset(&c, 0, sizeof c);
  c.host = mail_test_env("MAIL_TEST_HOST");
  c.port = (unsigned)mail_test_env_long("MAIL_TEST_SMTP_PORT", 12525);
  c.security = MAIL_SECURITY_STARTTLS;
  c.ca_file = mail_test_env("MAIL_TEST_CA");
  c.from = mail_test_env("MAIL_TEST_ADDR2");
  c.to = mail_test_env("MAIL_TEST_ADDR1");
  c.body = body;
  c.body_len = strlen(body);
  c.messages = m;
  c.command_ms = 120000; /* generous: 50 smtpd forks and handshakes on 2 CPUs */
  mail_loop *loop = NULL;
  ck_assert_int_eq(mail_loop_new_backend(&loop, NULL, backend), MAIL_OK);
  loop_jobs js;
  ck_assert_int_eq(loop_jobs_start(&js, loop, n, &c, 1), MAIL_OK);
  ck_assert_int_eq(mail_loop_run(loop), MAIL_OK);
  ck_assert_msg(js.first_error == 0, "%s", js.first_text);
  ck_assert_uint_eq(js.ok_jobs, n);
  ck_assert_uint_eq(js.ok_messages, n * (size_t)m);
  for (size_t i = 0; i < n; i++) {
    int sent;
    ck_assert_int_eq(loop_jobs_status(&js, i, &sent), MAIL_OK);
    ck_assert_int_eq(sent, m);
  }
  loop_jobs_free(&js);
  mail_loop_free(loop);
}

START_TEST(fifty_sessions_starttls)
{
  through_postfix(MAIL_LOOP_BACKEND_EPOLL, 50, 4);
}
END_TEST

START_TEST(twenty_sessions_poll)
{
  through_postfix(MAIL_LOOP_BACKEND_POLL, 20, 2);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("loop-postfix");
  TCase *tc = tcase_create("postfix");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, fifty_sessions_starttls);
  tcase_add_test(tc, twenty_sessions_poll);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

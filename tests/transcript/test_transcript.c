/*
 * The connection driver through transcripts: the test line protocol engine
 * plays each scenario of scenarios.c; the results are checked here. Also
 * tests of the transcript runner itself (it must catch what it is for).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conn_internal.h"
#include "lineproto.h"
#include "scenarios.h"
#include "transcript.h"

static scn_result R;

static const scn_result *play(const char *name)
{
  const scenario *s = scenario_find(name);
  ck_assert_msg(s != NULL, "no scenario %s", name);
  ck_assert_msg(scenario_run(s, NULL, &R) == 0, "%s: %s", name, R.report);
  ck_assert_msg(R.rc == s->expect, "%s: got %d (%s), expected %d; last error: %s; transcript: %s",
                name, R.rc, mail_strerror(R.rc), s->expect, R.last_error, R.report);
  ck_assert_msg(R.done, "%s: transcript: %s", name, R.report);
  char path[512], why[600];
  snprintf(path, sizeof path, "%s/%s", MAIL_TRANSCRIPT_DIR, s->file);
  ck_assert_msg(mail_transcript_check_header(path, s->expect, why, sizeof why) == 0, "%s", why);
  return &R;
}

/* Every scenario once more in feed mode: same status, every byte played. */
START_TEST(every_scenario_feed)
{
  const scenario *s = &scenarios[_i];
  ck_assert_msg(scenario_run_feed(s, NULL, &R) == 0, "%s: %s", s->name, R.report);
  ck_assert_msg(R.rc == s->expect, "%s (feed): got %d (%s), expected %d; last error: %s; %s",
                s->name, R.rc, mail_strerror(R.rc), s->expect, R.last_error, R.report);
  ck_assert_msg(R.done, "%s (feed): transcript: %s", s->name, R.report);
  ck_assert_msg(R.agains > 0, "%s: no MAIL_ERR_AGAIN in feed mode", s->name);
}
END_TEST

/* The caller's TLS in feed mode: asked for with MAIL_WANT_TLS, and what
 * it reports (verified, channel binding) is what the session sees. */
START_TEST(starttls_feed_caller_tls)
{
  ck_assert_int_eq(scenario_run_feed(scenario_find("starttls"), NULL, &R), 0);
  ck_assert_msg(R.done, "%s", R.report);
  ck_assert_int_eq(R.is_tls, 1);
  ck_assert_int_eq(R.verified, 1);
  ck_assert_int_eq(R.cb_ok, 1);
  ck_assert_ptr_nonnull(strchr(R.wants, 'T'));
  ck_assert_str_eq(R.sent, "STARTTLS\r\n|NOOP\r\n|");
  ck_assert_int_eq(R.bad_timeout, 0); /* every AGAIN has its deadline */
}
END_TEST

START_TEST(greeting_command)
{
  const scn_result *r = play("greeting_command");
  ck_assert_str_eq(r->sent, "NOOP\r\n|");
  ck_assert_str_eq(r->recv, "+OK lineproto ready\r\n|+OK fine\r\n|");
  ck_assert_str_eq(r->last_reply, "+OK fine");
  ck_assert_int_eq(r->is_open, 1);
  ck_assert_int_eq(r->is_tls, 0);
  ck_assert_int_eq(r->verified, 0);
  ck_assert_int_eq(r->cb_ok, 0);
}
END_TEST

START_TEST(pipelined_one_write)
{
  const scn_result *r = play("pipelined");
  ck_assert_uint_eq(r->writes, 1);
  ck_assert_str_eq(r->sent, "FIRST\r\nSECOND\r\n|");
  ck_assert_str_eq(r->last_reply, "+OK two");
}
END_TEST

START_TEST(multiline_chunks)
{
  const scn_result *r = play("multiline");
  ck_assert_uint_eq(r->body_lines, 3);
}
END_TEST

START_TEST(close_mid_reply)
{
  const scn_result *r = play("close_mid_reply");
  ck_assert_int_eq(r->is_open, 0);
  ck_assert_ptr_nonnull(strstr(r->last_error, "closed"));
}
END_TEST

START_TEST(timeout)
{
  const scn_result *r = play("timeout");
  ck_assert_int_eq(r->is_open, 0);
  ck_assert_str_ne(r->last_error, "");
}
END_TEST

START_TEST(starttls)
{
  const scn_result *r = play("starttls");
  ck_assert_int_eq(r->is_tls, 1);
  ck_assert_int_eq(r->verified, 1);
  ck_assert_int_eq(r->cb_ok, 1);
  ck_assert_str_eq(r->sent, "STARTTLS\r\n|NOOP\r\n|");
}
END_TEST

START_TEST(starttls_injection)
{
  const scn_result *r = play("starttls_injection");
  ck_assert_int_eq(r->is_open, 0);
  ck_assert_int_eq(r->is_tls, 0);
  /* Only STARTTLS itself was ever written. */
  ck_assert_uint_eq(r->writes, 1);
  ck_assert_str_eq(r->sent, "STARTTLS\r\n|");
  ck_assert_ptr_nonnull(strstr(r->last_error, "STARTTLS"));
}
END_TEST

START_TEST(secret_redacted)
{
  const scn_result *r = play("secret");
  ck_assert_str_eq(r->sent, "PASS [redacted]\r\n|");
  ck_assert_ptr_null(strstr(r->sent, "hunter2"));
}
END_TEST

START_TEST(secret_shown_on_request)
{
  const scn_result *r = play("secret_shown");
  ck_assert_str_eq(r->sent, "PASS hunter2\r\n|");
}
END_TEST

START_TEST(secret_split_by_partial_write)
{
  const scn_result *r = play("secret_partial");
  ck_assert_uint_eq(r->writes, 2);
  ck_assert_str_eq(r->sent, "PASS [redacted]|[redacted]\r\n|");
}
END_TEST

START_TEST(line_limit)
{
  const scn_result *r = play("line_limit");
  ck_assert_int_eq(r->is_open, 0);
}
END_TEST

START_TEST(quit_flushed_before_return)
{
  const scn_result *r = play("quit_nowait");
  ck_assert_str_eq(r->sent, "QUIT\r\n|");
}
END_TEST

START_TEST(event_loop_explicit_again)
{
  const scn_result *r = play("event_loop");
  ck_assert_str_eq(r->wants, "RWR");
  ck_assert_int_eq(r->bad_timeout, 0);
}
END_TEST

START_TEST(event_loop_again_in_blocking_mode)
{
  const scn_result *r = play("event_loop_blocking");
  ck_assert_uint_eq(r->agains, 0);
}
END_TEST

START_TEST(event_loop_every_step)
{
  const scn_result *r = play("event_loop_every_step");
  /* greeting read; STARTTLS write; go-ahead read; the TLS start itself is
   * the transport's (it does not block here); NOOP write; reply read. */
  ck_assert_str_eq(r->wants, "RWRWR");
  ck_assert_int_eq(r->is_tls, 1);
  ck_assert_int_eq(r->bad_timeout, 0);
}
END_TEST

START_TEST(event_loop_pipelined)
{
  const scn_result *r = play("event_loop_pipelined");
  ck_assert_uint_eq(r->writes, 2); /* one AGAIN, then the one real write */
  ck_assert_str_eq(r->sent, "FIRST\r\nSECOND\r\n|");
  ck_assert_str_eq(r->wants, "RWRR");
}
END_TEST

START_TEST(event_loop_finish_flush)
{
  const scn_result *r = play("event_loop_quit");
  ck_assert_str_eq(r->wants, "RW");
  ck_assert_str_eq(r->sent, "QUIT\r\n|");
}
END_TEST

/* ---- the runner itself ---- */

typedef struct run_ctx {
  mail_conn *c;
  mail_transcript *t;
  lp p;
} run_ctx;

static void open_inline(run_ctx *x, const char *text)
{
  char err[256];
  x->t = mail_transcript_from_string(text, err, sizeof err);
  ck_assert_msg(x->t != NULL, "parse: %s", err);
  ck_assert_int_eq(mail_conn_new(&x->c, NULL), MAIL_OK);
  ck_assert_int_eq(mail_transcript_attach(x->t, x->c), MAIL_OK);
  ck_assert_int_eq(mail_conn_connect(x->c, "inline.test", 25, 0), MAIL_OK);
  lp_init(&x->p, x->c);
}

static void close_inline(run_ctx *x)
{
  mail_conn_free(x->c);
  mail_transcript_free(x->t);
}

START_TEST(runner_catches_split_writes)
{
  /* The transcript wants two separate writes; the engine pipelines them
   * into one. The runner must say so, with both sides escaped. */
  run_ctx x;
  open_inline(&x, "S: +OK\\r\\n\n"
                  "C: FIRST\\r\\n\n"
                  "C: SECOND\\r\\n\n"
                  "S: +OK\\r\\n+OK\\r\\n\n");
  ck_assert_int_eq(lp_greeting(&x.p), MAIL_OK);
  ck_assert_int_eq(lp_pipeline(&x.p, "FIRST", "SECOND"), MAIL_ERR_IO);
  ck_assert(!mail_transcript_ok(x.t));
  const char *rep = mail_transcript_report(x.t);
  ck_assert_msg(strstr(rep, "expected one write of \"FIRST\\r\\n\", got \"FIRST\\r\\nSECOND\\r\\n\"") != NULL,
                "report: %s", rep);
  close_inline(&x);
}
END_TEST

START_TEST(runner_catches_wrong_bytes)
{
  run_ctx x;
  open_inline(&x, "S: +OK\\r\\n\nC: NOOP\\r\\n\nS: +OK\\r\\n\n");
  ck_assert_int_eq(lp_greeting(&x.p), MAIL_OK);
  ck_assert_int_eq(lp_command(&x.p, "NOOP\x01"), MAIL_ERR_IO);
  const char *rep = mail_transcript_report(x.t);
  ck_assert_msg(strstr(rep, "got \"NOOP\\x01\\r\\n\"") != NULL, "report: %s", rep);
  ck_assert_int_eq(mail_conn_is_open(x.c), 0);
  close_inline(&x);
}
END_TEST

START_TEST(runner_catches_unexpected_read)
{
  run_ctx x;
  open_inline(&x, "C: HELLO\\r\\n");
  ck_assert_int_eq(lp_greeting(&x.p), MAIL_ERR_TIMEOUT);
  const char *rep = mail_transcript_report(x.t);
  ck_assert_msg(strstr(rep, "line 1: C: HELLO\\r\\n") != NULL, "report: %s", rep);
  close_inline(&x);
}
END_TEST

START_TEST(runner_reports_leftovers)
{
  run_ctx x;
  open_inline(&x, "# comment\n\nS: +OK\\r\\n\nC: NOOP\\r\\n\nS: +OK\\r\\n\n");
  ck_assert_int_eq(lp_greeting(&x.p), MAIL_OK);
  ck_assert(mail_transcript_ok(x.t));
  ck_assert(!mail_transcript_done(x.t));
  const char *rep = mail_transcript_report(x.t);
  ck_assert_msg(strstr(rep, "2 item(s) not played; next: line 4: C: NOOP\\r\\n") != NULL,
                "report: %s", rep);
  close_inline(&x);
}
END_TEST

START_TEST(runner_tls_must_be_expected)
{
  run_ctx x;
  open_inline(&x, "S: +OK\\r\\n\nC: STARTTLS\\r\\n\nS: +OK go\\r\\n\nC: NOOP\\r\\n\n");
  ck_assert_int_eq(lp_greeting(&x.p), MAIL_OK);
  ck_assert_int_eq(lp_starttls(&x.p), MAIL_OK);
  /* The handshake runs in the next run: the transport refuses it. */
  ck_assert_int_eq(lp_command(&x.p, "NOOP"), MAIL_ERR_TLS);
  ck_assert_ptr_nonnull(strstr(mail_transcript_report(x.t), "started TLS"));
  ck_assert_int_eq(mail_conn_is_open(x.c), 0);
  close_inline(&x);
}
END_TEST

START_TEST(runner_parse_errors)
{
  char err[256];
  ck_assert_ptr_null(mail_transcript_from_string("S: bad \\q escape\n", err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "line 1"));
  ck_assert_ptr_null(mail_transcript_from_string("S: ok\nFROB\n", err, sizeof err));
  ck_assert_ptr_nonnull(strstr(err, "line 2"));
  ck_assert_ptr_null(mail_transcript_from_string("C+ orphan\n", err, sizeof err));
  ck_assert_ptr_null(mail_transcript_from_string("PARTIAL\n", err, sizeof err));
  ck_assert_ptr_null(mail_transcript_from_string("S: \\x4\n", err, sizeof err));
  ck_assert_ptr_null(mail_transcript_from_file("/nonexistent/x.txt", err, sizeof err));
  mail_transcript *t = mail_transcript_from_string("S: a\\x41\\0\\\\\\t\r\nS+ b\n", err, sizeof err);
  ck_assert_ptr_nonnull(t);
  mail_transcript_free(t);
}
END_TEST

START_TEST(runner_escape)
{
  char out[16];
  mail_transcript_escape("a\r\n\x01\\", 5, out, sizeof out);
  ck_assert_str_eq(out, "a\\r\\n\\x01\\\\");
  mail_transcript_escape("0123456789abcdefghij", 20, out, sizeof out);
  ck_assert_str_eq(out, "0123456789ab...");
}
END_TEST

START_TEST(fixed_clock_and_random)
{
  run_ctx x;
  open_inline(&x, "S: +OK\\r\\n");
  const mail_env *env = mail_conn_env(x.c);
  ck_assert(mail_env_now(env, MAIL_CLOCK_REALTIME) == MAIL_TEST_CLOCK_REALTIME_MS);
  ck_assert(mail_env_now(env, MAIL_CLOCK_MONOTONIC) == MAIL_TEST_CLOCK_MONOTONIC_MS);
  unsigned char a[16], b[16];
  ck_assert_int_eq(mail_env_random(env, a, sizeof a), MAIL_OK);
  mail_transcript_rewind(x.t);
  ck_assert_int_eq(mail_env_random(env, b, sizeof b), MAIL_OK);
  ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
  ck_assert_int_eq(mail_env_random(env, b, sizeof b), MAIL_OK);
  ck_assert_int_ne(memcmp(a, b, sizeof a), 0);
  close_inline(&x);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("transcript");
  TCase *tc = tcase_create("driver");
  tcase_add_test(tc, greeting_command);
  tcase_add_test(tc, pipelined_one_write);
  tcase_add_test(tc, multiline_chunks);
  tcase_add_test(tc, close_mid_reply);
  tcase_add_test(tc, timeout);
  tcase_add_test(tc, starttls);
  tcase_add_test(tc, starttls_injection);
  tcase_add_test(tc, secret_redacted);
  tcase_add_test(tc, secret_shown_on_request);
  tcase_add_test(tc, secret_split_by_partial_write);
  tcase_add_test(tc, line_limit);
  tcase_add_test(tc, quit_flushed_before_return);
  tcase_add_test(tc, event_loop_explicit_again);
  tcase_add_loop_test(tc, every_scenario_feed, 0, (int)n_scenarios);
  tcase_add_test(tc, starttls_feed_caller_tls);
  tcase_add_test(tc, event_loop_again_in_blocking_mode);
  tcase_add_test(tc, event_loop_every_step);
  tcase_add_test(tc, event_loop_pipelined);
  tcase_add_test(tc, event_loop_finish_flush);
  suite_add_tcase(s, tc);
  TCase *tr = tcase_create("runner");
  tcase_add_test(tr, runner_catches_split_writes);
  tcase_add_test(tr, runner_catches_wrong_bytes);
  tcase_add_test(tr, runner_catches_unexpected_read);
  tcase_add_test(tr, runner_reports_leftovers);
  tcase_add_test(tr, runner_tls_must_be_expected);
  tcase_add_test(tr, runner_parse_errors);
  tcase_add_test(tr, runner_escape);
  tcase_add_test(tr, fixed_clock_and_random);
  suite_add_tcase(s, tr);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

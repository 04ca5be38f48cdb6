/*
 * mail_smtp_send_retry() against the transcripts in retry/: each scenario
 * plays one file (every connection the retry opens comes from the same
 * script: a CLOSE ends one, the next connect reads on), with a fake
 * monotonic clock that only the wait callback moves, so every backoff runs
 * without sleeping. Checked: the status, how many attempts and waits, that
 * each wait lies in its jitter range, the deadline, that a fixed seed
 * gives the same waits twice, and allocation failures.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>

#include "each_alloc.h"
#include "transcript.h"

#ifndef RETRY_TRANSCRIPT_DIR
#error "RETRY_TRANSCRIPT_DIR must be defined"
#endif

#define BODY "Subject: alert\r\n\r\nsensor 7 over limit\r\n"

typedef struct run {
  mail_smtp *s;
  mail_smtp_envelope *e;
  mail_transcript *t;
  int64_t now;         /* the fake monotonic clock, in ms */
  int waits[16];
  size_t nwaits;
  size_t reconnects;
  int cancel_at_wait;  /* 1-based wait that answers "stop"; 0: never */
} run;

static int64_t fake_clock(void *user, int which)
{
  run *r = user;
  /* Real time only dates things; the retry reads the monotonic one. */
  return which == MAIL_CLOCK_MONOTONIC ? r->now : 1767225600000LL + r->now;
}

static int fake_wait(void *user, int ms)
{
  run *r = user;
  if (r->nwaits < sizeof r->waits / sizeof r->waits[0])
    r->waits[r->nwaits] = ms;
  r->nwaits++;
  r->now += ms;
  return r->cancel_at_wait && (int)r->nwaits == r->cancel_at_wait;
}

static int no_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  (void)user, (void)buf, (void)cap;
  *got = 0;
  return 0;
}

static int reconnect(void *user, mail_smtp *s)
{
  run *r = user;
  r->reconnects++;
  return mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE);
}

typedef struct scenario {
  const char *file;
  int with_reconnect;
  unsigned int max_attempts;
  int first_ms, max_ms, deadline_ms;
  int expect;
  size_t waits;      /* waits the retry makes */
  size_t reconnects; /* connects through the callback (the first included when it opens) */
} scenario;

static const scenario scenarios[] = {
  {"data_451_then_ok.txt", 0, 5, 1000, 60000, 300000, MAIL_OK, 1, 0},
  {"rcpt_450_then_ok.txt", 0, 5, 1000, 60000, 300000, MAIL_OK, 1, 0},
  {"lost_link_then_ok.txt", 1, 5, 1000, 60000, 300000, MAIL_OK, 1, 2},
  {"closing_421_then_ok.txt", 1, 5, 1000, 60000, 300000, MAIL_OK, 1, 2},
  {"data_554_no_retry.txt", 1, 5, 1000, 60000, 300000, MAIL_ERR_SERVER, 0, 1},
  {"rcpt_550_no_retry.txt", 1, 5, 1000, 60000, 300000, MAIL_ERR_RECIPIENTS, 0, 1},
  {"deadline_exhausted.txt", 0, 10, 4000, 4000, 10000, MAIL_ERR_SERVER, 3, 0},
  {"attempts_exhausted.txt", 1, 3, 1000, 60000, 300000, MAIL_ERR_SERVER_CLOSING, 2, 3},
};
#define NSCN (sizeof scenarios / sizeof scenarios[0])

/* Set up the session on the file; connect here unless the retry's own
 * reconnect opens it. */
static int open_run(run *r, const scenario *sc, const mail_allocator *alloc)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s/%s", RETRY_TRANSCRIPT_DIR, sc->file);
  r->t = mail_transcript_from_file(path, err, sizeof err);
  if (!r->t) {
    fprintf(stderr, "%s\n", err);
    return MAIL_ERR_FILE;
  }
  int rc = mail_smtp_new(&r->s, alloc);
  if (!rc)
    rc = mail_transcript_attach(r->t, mail_smtp_conn(r->s));
  if (!rc)
    rc = mail_conn_set_clock(mail_smtp_conn(r->s), fake_clock, r);
  if (!rc)
    rc = mail_smtp_set_client_name(r->s, "client.test");
  if (!rc)
    rc = mail_smtp_envelope_new(&r->e, alloc);
  if (!rc)
    rc = mail_smtp_envelope_set_from(r->e, "alert@device.test");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(r->e, "ops@libmail.test", NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(r->e, BODY, strlen(BODY));
  if (!rc && !sc->with_reconnect)
    rc = mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE);
  return rc;
}

static int play(run *r, const scenario *sc, uint64_t seed)
{
  mail_smtp_retry p;
  int rc = mail_smtp_retry_init(&p, MAIL_SMTP_RETRY_VERSION);
  if (rc)
    return rc;
  p.max_attempts = sc->max_attempts;
  p.first_delay_ms = sc->first_ms;
  p.max_delay_ms = sc->max_ms;
  p.deadline_ms = sc->deadline_ms;
  p.seed = seed;
  p.wait = fake_wait;
  p.wait_user = r;
  if (sc->with_reconnect) {
    p.reconnect = reconnect;
    p.reconnect_user = r;
  }
  return mail_smtp_send_retry(r->s, r->e, &p);
}

static void close_run(run *r)
{
  mail_smtp_envelope_free(r->e);
  mail_smtp_free(r->s);
  mail_transcript_free(r->t);
  r->e = NULL;
  r->s = NULL;
  r->t = NULL;
}

START_TEST(every_scenario)
{
  const scenario *sc = &scenarios[_i];
  char why[600], path[512];
  snprintf(path, sizeof path, "%s/%s", RETRY_TRANSCRIPT_DIR, sc->file);
  ck_assert_msg(mail_transcript_check_header(path, sc->expect, why, sizeof why) == 0, "%s", why);
  run r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(open_run(&r, sc, NULL), MAIL_OK);
  int rc = play(&r, sc, 0x5eed);
  ck_assert_msg(rc == sc->expect, "%s: %s, expected %s (%s)", sc->file, mail_test_status_name(rc),
                mail_test_status_name(sc->expect), mail_conn_last_error(mail_smtp_conn(r.s)));
  MAIL_TRANSCRIPT_ASSERT_DONE(r.t);
  ck_assert_uint_eq(r.nwaits, sc->waits);
  ck_assert_uint_eq(r.reconnects, sc->reconnects);
  /* Each wait in [d/2, d] for its d: first * 2^(n-1), capped. */
  int64_t d = sc->first_ms, total = 0;
  for (size_t i = 0; i < r.nwaits; i++) {
    int64_t cap = d > sc->max_ms ? sc->max_ms : d;
    ck_assert_msg(r.waits[i] >= cap / 2 && r.waits[i] <= cap, "%s: wait %zu is %d ms, not in [%lld, %lld]",
                  sc->file, i + 1, r.waits[i], (long long)(cap / 2), (long long)cap);
    total += r.waits[i];
    d *= 2;
  }
  if (sc->deadline_ms >= 0)
    ck_assert_int_lt(total, sc->deadline_ms);
  /* The deadline scenario stopped on time, not on attempts: one more
   * wait, however drawn, could have crossed it. */
  if (!strcmp(sc->file, "deadline_exhausted.txt")) {
    ck_assert_uint_lt(r.nwaits + 1, sc->max_attempts);
    ck_assert_int_ge(total + sc->max_ms, sc->deadline_ms);
  }
  /* A permanent failure is final: the session's error names it. */
  if (rc && !sc->waits)
    ck_assert_ptr_nonnull(strstr(mail_conn_last_error(mail_smtp_conn(r.s)), " 5"));
  close_run(&r);
}
END_TEST

/* The same seed gives the same waits; the jitter comes from the seed. */
START_TEST(seed_is_deterministic)
{
  const scenario *sc = &scenarios[6]; /* deadline_exhausted: three waits */
  int first[3];
  for (int round = 0; round < 2; round++) {
    run r;
    memset(&r, 0, sizeof r);
    ck_assert_int_eq(open_run(&r, sc, NULL), MAIL_OK);
    ck_assert_int_eq(play(&r, sc, 0x5eed), sc->expect);
    ck_assert_uint_eq(r.nwaits, 3);
    if (!round)
      memcpy(first, r.waits, sizeof first);
    else
      ck_assert_mem_eq(first, r.waits, sizeof first);
    close_run(&r);
  }
}
END_TEST

/* The wait callback says stop: MAIL_ERR_CANCELLED, no further attempt. */
START_TEST(wait_cancels)
{
  const scenario *sc = &scenarios[0];
  run r;
  memset(&r, 0, sizeof r);
  r.cancel_at_wait = 1;
  ck_assert_int_eq(open_run(&r, sc, NULL), MAIL_OK);
  ck_assert_int_eq(play(&r, sc, 1), MAIL_ERR_CANCELLED);
  ck_assert_uint_eq(r.nwaits, 1);
  ck_assert_int_eq(mail_transcript_ok(r.t), 1);
  ck_assert_int_eq(mail_transcript_done(r.t), 0);
  close_run(&r);
}
END_TEST

/* Refused before anything is sent. */
START_TEST(local_refusals)
{
  mail_smtp *s;
  mail_smtp_envelope *e;
  mail_smtp_retry p;
  ck_assert_int_eq(mail_smtp_retry_init(NULL, MAIL_SMTP_RETRY_VERSION), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_retry_init(&p, 99), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_retry_init(&p, MAIL_SMTP_RETRY_VERSION), MAIL_OK);
  ck_assert_uint_eq(p.max_attempts, 5);
  ck_assert_int_eq(p.first_delay_ms, 1000);
  ck_assert_int_eq(p.max_delay_ms, 60000);
  ck_assert_int_eq(p.deadline_ms, 300000);
  ck_assert_ptr_null(p.reconnect);
  ck_assert_ptr_null(p.wait);
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send_retry(NULL, e, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_send_retry(s, NULL, NULL), MAIL_ERR_INVALID);
  p.max_attempts = 0;
  ck_assert_int_eq(mail_smtp_send_retry(s, e, &p), MAIL_ERR_INVALID);
  p.max_attempts = 2;
  p.version = 2;
  ck_assert_int_eq(mail_smtp_send_retry(s, e, &p), MAIL_ERR_INVALID);
  p.version = MAIL_SMTP_RETRY_VERSION;
  ck_assert_int_eq(mail_smtp_envelope_set_body_callback(e, no_read, NULL, 0, 0), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send_retry(s, e, &p), MAIL_ERR_INVALID);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(mail_smtp_conn(s)), "callback body"));
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, BODY, strlen(BODY)), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_nonblocking(mail_smtp_conn(s), 1), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send_retry(s, e, &p), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_nonblocking(mail_smtp_conn(s), 0), MAIL_OK);
  /* Not connected and no reconnect callback: the send's own refusal,
   * which is not temporary, so there is no wait. */
  ck_assert_int_eq(mail_smtp_send_retry(s, e, &p), MAIL_ERR_STATE);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
}
END_TEST

static int run_allocating(void *user, mail_test_alloc *ta)
{
  const scenario *sc = user;
  run r;
  memset(&r, 0, sizeof r);
  int rc = open_run(&r, sc, mail_test_alloc_hooks(ta));
  if (!rc)
    rc = play(&r, sc, 0x5eed);
  close_run(&r);
  return rc;
}

START_TEST(allocation_failures)
{
  const scenario *sc = &scenarios[_i];
  MAIL_TEST_ASSERT_EACH_ALLOCATION(sc->file, run_allocating, (void *)sc, sc->expect,
                                   MAIL_TEST_NOMEM_ANY);
}
END_TEST

static int scn_played(void *user, const char *name)
{
  (void)user;
  for (size_t i = 0; i < NSCN; i++)
    if (!strcmp(scenarios[i].file, name))
      return 1;
  return 0;
}

START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(RETRY_TRANSCRIPT_DIR, scn_played, NULL, why, sizeof why) ==
                  (long)NSCN, "%s", why);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("smtp-retry");
  TCase *tc = tcase_create("retry");
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, every_scenario, 0, (int)NSCN);
  tcase_add_test(tc, seed_is_deterministic);
  tcase_add_test(tc, wait_cancels);
  tcase_add_test(tc, local_refusals);
  suite_add_tcase(s, tc);
  TCase *nomem = tcase_create("nomem");
  tcase_set_timeout(nomem, 240);
  tcase_add_loop_test(nomem, allocation_failures, 0, (int)NSCN);
  suite_add_tcase(s, nomem);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

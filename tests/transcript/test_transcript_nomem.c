/*
 * Allocation-failure run: every transcript scenario is replayed failing the
 * 1st, 2nd, ... allocation of the connection until a run completes without
 * reaching the failure. Each run that hit a failure must end in a clean
 * error (MAIL_ERR_NOMEM or a fatal status) or, when the failure was
 * absorbed (e.g. by the trace's fallback), in the scenario's own result;
 * and nothing may stay allocated once the connection is freed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "each_alloc.h"
#include "scenarios.h"

static int run_scenario(void *user, mail_test_alloc *ta)
{
  const scenario *s = user;
  scn_result r;
  ck_assert_msg(scenario_run(s, mail_test_alloc_hooks(ta), &r) == 0, "%s: %s", s->name, r.report);
  return r.rc;
}

/* The same in feed mode: the feed layer's buffers fail too. */
static int run_scenario_feed(void *user, mail_test_alloc *ta)
{
  const scenario *s = user;
  scn_result r;
  ck_assert_msg(scenario_run_feed(s, mail_test_alloc_hooks(ta), &r) == 0, "%s: %s", s->name,
                r.report);
  return r.rc;
}

static void run_failing_each_allocation(const scenario *s, int feed)
{
  mail_test_nomem_result res;
  ck_assert_msg(mail_test_each_allocation(s->name, feed ? run_scenario_feed : run_scenario,
                                          (void *)s, s->expect, MAIL_TEST_NOMEM_CLEAN, &res) == 0,
                "%s%s", feed ? "(feed) " : "", res.report);
  printf("%-24s %3lu allocation(s) failed one at a time, all clean%s\n", s->name,
         res.failed_runs, feed ? " (feed mode)" : "");
}

START_TEST(every_scenario)
{
  run_failing_each_allocation(&scenarios[_i], 0);
}
END_TEST

START_TEST(every_scenario_feed)
{
  run_failing_each_allocation(&scenarios[_i], 1);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("transcript-nomem");
  TCase *tc = tcase_create("nomem");
  tcase_add_loop_test(tc, every_scenario, 0, (int)n_scenarios);
  tcase_add_loop_test(tc, every_scenario_feed, 0, (int)n_scenarios);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

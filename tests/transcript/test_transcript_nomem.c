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

#include "alloc.h"
#include "scenarios.h"

/* Far above what any scenario allocates; stops a runaway loop. */
#define MAX_RUNS 2000

static void run_failing_each_allocation(const scenario *s)
{
  unsigned long n;
  for (n = 1; n <= MAX_RUNS; n++) {
    mail_test_alloc ta;
    mail_test_alloc_init(&ta);
    mail_test_alloc_fail_at(&ta, n, 0);
    scn_result r;
    ck_assert_msg(scenario_run(s, mail_test_alloc_hooks(&ta), &r) == 0, "%s: %s", s->name, r.report);
    ck_assert_msg(ta.live == 0 && ta.live_bytes == 0,
                  "%s, failing allocation %lu: %zu blocks (%zu bytes) leaked", s->name, n, ta.live,
                  ta.live_bytes);
    if (ta.failures == 0) {
      ck_assert_msg(r.rc == s->expect, "%s: clean run gave %d, expected %d", s->name, r.rc,
                    s->expect);
      printf("%-24s %3lu allocation(s) failed one at a time, all clean\n", s->name, n - 1);
      mail_test_alloc_cleanup(&ta);
      break;
    }
    ck_assert_msg(r.rc == s->expect || r.rc == MAIL_ERR_NOMEM || mail_status_is_fatal(r.rc),
                  "%s, failing allocation %lu: unclean status %d (%s)", s->name, n, r.rc,
                  mail_strerror(r.rc));
    mail_test_alloc_cleanup(&ta);
  }
  ck_assert_msg(n <= MAX_RUNS, "%s: still allocating after %d runs", s->name, MAX_RUNS);
}

START_TEST(every_scenario)
{
  run_failing_each_allocation(&scenarios[_i]);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("transcript-nomem");
  TCase *tc = tcase_create("nomem");
  tcase_add_loop_test(tc, every_scenario, 0, (int)n_scenarios);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

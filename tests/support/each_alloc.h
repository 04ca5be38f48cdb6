/*
 * Allocation-failure runs, written once (after nghttp2's failmalloc test):
 * a scenario is run again and again with a fresh tracking allocator
 * (alloc.h) that fails its 1st, 2nd, 3rd ... allocation, until a run
 * completes without reaching the failure. Every run must leave nothing
 * allocated and no secret in freed memory, and must never report
 * MAIL_ERR_INTERNAL; the run that reached no failure must give the
 * scenario's own status. The flags say what a run that hit the failure
 * may return.
 *
 *   static int run(void *user, mail_test_alloc *ta)
 *   {
 *     mail_pop3 *p;
 *     int rc = mail_pop3_new(&p, mail_test_alloc_hooks(ta));
 *     ...
 *     return rc;
 *   }
 *   MAIL_TEST_ASSERT_EACH_ALLOCATION("stls_user", run, &ctx, MAIL_OK,
 *                                    MAIL_TEST_NOMEM_CLEAN);
 *
 * With MAIL_TEST_NOMEM_OFF=1 in the environment only the complete run is
 * made (tests/run-all --valgrind: memcheck over the loops would take
 * hours, and the ASan run covers them).
 */
#ifndef MAIL_TEST_EACH_ALLOC_H
#define MAIL_TEST_EACH_ALLOC_H

#include "alloc.h"

/* A scenario run: allocate only through ta (it was just initialised with
 * its failure point set; forbid strings on it before allocating). Return
 * the scenario's status. ta->failures tells, at the end, whether the run
 * reached its failure (0: a complete run). */
typedef int (*mail_test_run_fn)(void *user, mail_test_alloc *ta);

enum {
  /* A run that hit its failure may return anything but MAIL_ERR_INTERNAL. */
  MAIL_TEST_NOMEM_ANY = 0,
  /* ... must return the scenario's status (the failure was absorbed),
   * MAIL_ERR_NOMEM or a fatal status. */
  MAIL_TEST_NOMEM_CLEAN = 1,
  /* ... must return MAIL_ERR_NOMEM: nothing absorbs a failure. */
  MAIL_TEST_NOMEM_EXACT = 2,
  /* ... must return MAIL_ERR_NOMEM or, when the failure was absorbed, the
   * scenario's status (no other error). */
  MAIL_TEST_NOMEM_OR_EXPECT = 3
};

/* Far above what any scenario allocates: stops a runaway loop. */
#define MAIL_TEST_NOMEM_MAX_RUNS 5000

typedef struct mail_test_nomem_result {
  unsigned long failed_runs; /* runs that hit their failure (= allocations seen) */
  char report[512];          /* "" when every run was clean, else the first problem */
} mail_test_nomem_result;

/* Run fn failing each allocation in turn (see above). 0 when every run was
 * clean, else -1 with out->report saying which run and what. name labels
 * the report. */
int mail_test_each_allocation(const char *name, mail_test_run_fn fn, void *user, int expect,
                              int flags, mail_test_nomem_result *out);

/* For Check tests: fail with the report unless every run was clean. */
#define MAIL_TEST_ASSERT_EACH_ALLOCATION(name, fn, user, expect, flags)                \
  do {                                                                                 \
    mail_test_nomem_result res_;                                                       \
    ck_assert_msg(mail_test_each_allocation((name), (fn), (user), (expect), (flags),   \
                                            &res_) == 0,                               \
                  "%s", res_.report);                                                  \
  } while (0)

#endif

/* Allocation-failure runs (see each_alloc.h). */
#include "each_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int clean_failure(int rc, int expect, int flags)
{
  switch (flags) {
  case MAIL_TEST_NOMEM_EXACT:
    return rc == MAIL_ERR_NOMEM;
  case MAIL_TEST_NOMEM_OR_EXPECT:
    return rc == expect || rc == MAIL_ERR_NOMEM;
  case MAIL_TEST_NOMEM_CLEAN:
    return rc == expect || rc == MAIL_ERR_NOMEM || mail_status_is_fatal(rc);
  default:
    return 1;
  }
}

int mail_test_each_allocation(const char *name, mail_test_run_fn fn, void *user, int expect,
                              int flags, mail_test_nomem_result *out)
{
  out->failed_runs = 0;
  out->report[0] = '\0';
  /* MAIL_TEST_NOMEM_OFF=1 (the valgrind run: ASan covers the loops)
   * keeps only the complete run, failing nothing. */
  const char *off = getenv("MAIL_TEST_NOMEM_OFF");
  unsigned long first = off && *off && strcmp(off, "0") ? 0 : 1;
  for (unsigned long n = first; n <= MAIL_TEST_NOMEM_MAX_RUNS; n++) {
    mail_test_alloc ta;
    mail_test_alloc_init(&ta);
    mail_test_alloc_fail_at(&ta, n, 0);
    int rc = fn(user, &ta);
    const char *why = NULL;
    char detail[160];
    if (ta.live || ta.live_bytes) {
      snprintf(detail, sizeof detail, "%zu blocks (%zu bytes) leaked", ta.live, ta.live_bytes);
      why = detail;
    } else if (ta.forbidden_hits) {
      snprintf(detail, sizeof detail, "a secret in freed memory: %s", ta.first_hit);
      why = detail;
    } else if (rc == MAIL_ERR_INTERNAL) {
      why = "MAIL_ERR_INTERNAL";
    } else if (ta.failures == 0 && rc != expect) {
      snprintf(detail, sizeof detail, "the complete run gave %d (%s), expected %d (%s)", rc,
               mail_strerror(rc), expect, mail_strerror(expect));
      why = detail;
    } else if (ta.failures && !clean_failure(rc, expect, flags)) {
      snprintf(detail, sizeof detail, "unclean status %d (%s)", rc, mail_strerror(rc));
      why = detail;
    }
    unsigned long failures = ta.failures;
    mail_test_alloc_cleanup(&ta);
    if (why) {
      snprintf(out->report, sizeof out->report, "%s, failing allocation %lu: %s", name, n, why);
      return -1;
    }
    if (failures == 0)
      return 0;
    out->failed_runs = n;
  }
  snprintf(out->report, sizeof out->report, "%s: still allocating after %d runs", name,
           MAIL_TEST_NOMEM_MAX_RUNS);
  return -1;
}

/*
 * A tracking allocator for tests, used through the library's allocator
 * hooks (mail_allocator).
 *
 * - Counts live allocations and bytes (a test ends with zero of both).
 * - Fails the Nth allocation (malloc, calloc or realloc; counted from 1),
 *   for allocation-failure runs.
 * - On every free (and on the old block of a realloc) scans the whole block
 *   for "forbidden" byte strings (passwords, tokens, their base64 forms):
 *   a hit means a secret reached the free hook unwiped.
 *
 * Each block carries a header with its size, so frees can be scanned and
 * counted. Not thread-safe: one per test.
 */
#ifndef MAIL_TEST_ALLOC_H
#define MAIL_TEST_ALLOC_H

#include <stddef.h>
#include <mail/common.h>

#define MAIL_TEST_ALLOC_MAX_FORBIDDEN 16

typedef struct mail_test_alloc {
  mail_allocator hooks;      /* pass &t->hooks to constructors */
  size_t live;               /* allocations not yet freed */
  size_t live_bytes;
  size_t peak_bytes;
  unsigned long calls;       /* allocation calls so far (malloc/calloc/realloc) */
  unsigned long fail_at;     /* fail this call (1-based); 0 = never */
  int fail_after;            /* non-zero: also fail every call after fail_at */
  unsigned long failures;    /* failures injected so far */
  struct {
    unsigned char *bytes;
    size_t len;
  } forbidden[MAIL_TEST_ALLOC_MAX_FORBIDDEN];
  size_t nforbidden;
  unsigned long forbidden_hits; /* freed blocks holding a forbidden string */
  char first_hit[128];          /* description of the first hit */
} mail_test_alloc;

/* Start counting from zero; no failures, no forbidden strings. */
void mail_test_alloc_init(mail_test_alloc *t);
/* Forget the forbidden strings (the counters stay). */
void mail_test_alloc_cleanup(mail_test_alloc *t);
/* The hooks to pass to mail_*_new(). */
const mail_allocator *mail_test_alloc_hooks(mail_test_alloc *t);

/* Fail allocation call number n (1-based) from now on counting from the
 * start; 0 disables. With sticky, every later call fails too. */
void mail_test_alloc_fail_at(mail_test_alloc *t, unsigned long n, int sticky);

/* Register a byte string that must never be found in freed memory.
 * Returns 0, or -1 when the table is full or len is 0. */
int mail_test_alloc_forbid(mail_test_alloc *t, const void *bytes, size_t len);
/* Same for a NUL-terminated string. */
int mail_test_alloc_forbid_str(mail_test_alloc *t, const char *s);

#endif

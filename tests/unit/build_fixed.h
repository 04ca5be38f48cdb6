/* A random source and a clock for the MIME builder tests that make the
 * output byte-identical from run to run (mail_mime_builder_set_random(),
 * mail_mime_builder_set_clock()). */
#ifndef TESTS_UNIT_BUILD_FIXED_H
#define TESTS_UNIT_BUILD_FIXED_H

#include <stddef.h>
#include <stdint.h>

#include <mail/mime_build.h>

/* An LCG over *(unsigned *)user: the same seed gives the same bytes. */
static int fixed_random(void *user, unsigned char *buf, size_t len)
{
  unsigned *seed = user;
  for (size_t i = 0; i < len; i++) {
    *seed = *seed * 1103515245u + 12345u;
    buf[i] = (unsigned char)(*seed >> 16);
  }
  return 0;
}

static int64_t fixed_clock(void *user, int which)
{
  (void)user;
  return which == MAIL_CLOCK_REALTIME ? 1795752354000LL : 1000;
}

#endif

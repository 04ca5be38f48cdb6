#include "core/env.h"

#include <errno.h>
#include <time.h>

#include "config.h"
#include "core/mem.h"

#if MAIL_WITH_GETRANDOM
#include <sys/random.h>
#endif

/* getrandom() rather than OpenSSL: firmware builds without TLS need random
 * bytes too, and the kernel's pool is what OpenSSL seeds from anyway.
 * Without it (bare metal) there is no default: every random draw fails
 * until the caller sets a source (mail_conn_set_random), so a nonce is
 * never made of guessable bytes. */
static int default_random(void *user, unsigned char *buf, size_t len)
{
  (void)user;
#if !MAIL_WITH_GETRANDOM
  (void)buf;
  (void)len;
  return -1;
#else
  while (len) {
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
#endif
}

/* Without clock_gettime() (bare metal) the default is time() in whole
 * seconds, which newlib turns into the board's _gettimeofday(); a device
 * with a millisecond tick sets its own (mail_conn_set_clock). */
static int64_t default_clock(void *user, int which)
{
  (void)user;
#if MAIL_WITH_CLOCK_GETTIME
  struct timespec ts;
  clock_gettime(which == MAIL_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#else
  (void)which;
  return (int64_t)time(NULL) * 1000;
#endif
}

int mail_env_init(mail_env *env, const mail_allocator *alloc)
{
  int rc = mail_alloc_init(&env->alloc, alloc);
  if (rc)
    return rc;
  mail_env_set_random(env, NULL, NULL);
  mail_env_set_clock(env, NULL, NULL);
  return MAIL_OK;
}

void mail_env_set_random(mail_env *env, mail_random_fn fn, void *user)
{
  env->random = fn ? fn : default_random;
  env->random_user = fn ? user : NULL;
}

void mail_env_set_clock(mail_env *env, mail_clock_fn fn, void *user)
{
  env->clock = fn ? fn : default_clock;
  env->clock_user = fn ? user : NULL;
}

int mail_env_clock_is_system(const mail_env *env)
{
  return env->clock == default_clock;
}

int mail_env_random(const mail_env *env, void *buf, size_t len)
{
  return env->random(env->random_user, buf, len) == 0 ? MAIL_OK : MAIL_ERR_INTERNAL;
}

int64_t mail_env_now(const mail_env *env, int which)
{
  return env->clock(env->clock_user, which);
}

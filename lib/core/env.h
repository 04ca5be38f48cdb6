/* What every handle carries: its allocator, random source and clock.
 * Sessions, parsers and the MIME builder embed one; tests inject fixed
 * random bytes and a fake clock through it. */
#ifndef MAIL_CORE_ENV_H
#define MAIL_CORE_ENV_H

#include <mail/common.h>

typedef struct mail_env {
  mail_allocator alloc;
  mail_random_fn random;
  void *random_user;
  mail_clock_fn clock;
  void *clock_user;
} mail_env;

/* alloc may be NULL (libc). MAIL_ERR_INVALID for incomplete hooks. */
int mail_env_init(mail_env *env, const mail_allocator *alloc);
void mail_env_set_random(mail_env *env, mail_random_fn fn, void *user);
void mail_env_set_clock(mail_env *env, mail_clock_fn fn, void *user);
/* Fill buf with random bytes; MAIL_OK or MAIL_ERR_INTERNAL. */
int mail_env_random(const mail_env *env, void *buf, size_t len);
/* 1 while the clock is the system's (no mail_env_set_clock hook): waits
 * the kernel times itself then end when this clock says they should. */
int mail_env_clock_is_system(const mail_env *env);
/* Milliseconds (MAIL_CLOCK_MONOTONIC or MAIL_CLOCK_REALTIME). */
int64_t mail_env_now(const mail_env *env, int which);

#endif

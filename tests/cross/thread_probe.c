/* Can this qemu-user run a thread? tests/cross/run.sh builds this for the
 * target and runs it under qemu with a short timeout: qemu-user 7.2 on a
 * recent host kernel hangs (aarch64) or crashes (armhf) in
 * pthread_create(), and the unit programs that start threads cannot run
 * there. Exit 0 when a thread ran and was joined. */
#include <pthread.h>
#include <stdio.h>

static void *run(void *arg)
{
  return arg;
}

int main(void)
{
  pthread_t t;
  int token = 7;
  void *back = NULL;
  if (pthread_create(&t, NULL, run, &token) != 0 || pthread_join(t, &back) != 0 || back != &token)
    return 1;
  puts("threads: ok");
  return 0;
}

/* The built-in loop's insides, shared by loop.c and its pollers
 * (loop_poll.c, loop_epoll.c). lib/net only. */
#ifndef MAIL_NET_LOOP_IMPL_H
#define MAIL_NET_LOOP_IMPL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <mail/loop.h>

/* Something with a due time in the loop's heap: an operation's deadline
 * or a timer. */
typedef struct loop_due {
  int64_t at;   /* monotonic ms */
  size_t hidx;  /* place in the heap, LOOP_NOWHERE when not in it */
  int is_timer;
} loop_due;

#define LOOP_NOWHERE ((size_t)-1)

/* One descriptor a poller watches: an operation's connection or wake fd,
 * or the loop's own wake pipe (op NULL). fd -1: not registered. */
typedef struct loop_watch {
  struct mail_loop_op *op;
  int fd;
  int events; /* MAIL_WANT_* bits as registered */
  size_t pidx; /* the poll backend's slot */
} loop_watch;

struct mail_loop_op {
  loop_due due; /* first: a heap entry is cast back to its owner */
  mail_loop *loop;
  mail_conn *conn;
  mail_loop_step_fn step;
  mail_loop_done_fn done;
  void *user;
  loop_watch io, wake;
  int dead;   /* finished or removed: freed at the end of the iteration */
  int queued; /* on the ready list */
  struct mail_loop_op *prev, *next;  /* every live operation */
  struct mail_loop_op *ready_next;
  struct mail_loop_op *grave_next;
};

struct mail_loop_timer {
  loop_due due; /* first, as above */
  mail_loop *loop;
  mail_loop_timer_fn fn;
  void *user;
  int dead;
  struct mail_loop_timer *due_next;
  struct mail_loop_timer *grave_next;
};

/* A poller: registers watches and waits. watch() makes w watch fd for
 * events (fd -1: stop watching); wait() blocks up to timeout_ms and calls
 * loop_ready() for each ready watch. */
typedef struct loop_poller {
  int kind; /* mail_loop_backend */
  int (*init)(mail_loop *l);
  void (*fini)(mail_loop *l);
  int (*watch)(mail_loop *l, loop_watch *w, int fd, int events);
  int (*wait)(mail_loop *l, int timeout_ms);
} loop_poller;

struct mail_loop {
  mail_allocator alloc;
  const loop_poller *poller;
  void *pstate; /* the poller's own */
  atomic_int stop;
  int wake_rd, wake_wr;
  loop_watch self; /* the wake pipe's read end */
  int running;
  size_t nops, ntimers;
  struct mail_loop_op *ops;
  struct mail_loop_op *ready;
  struct mail_loop_op *op_grave;
  struct mail_loop_timer *timer_grave;
  loop_due **heap;
  size_t nheap, capheap;
};

/* A poller saw w ready. */
void loop_ready(mail_loop *l, loop_watch *w);

extern const loop_poller mail_loop_poll_poller;
#if MAIL_WITH_EPOLL
extern const loop_poller mail_loop_epoll_poller;
#endif

#endif

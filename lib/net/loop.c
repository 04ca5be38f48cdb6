/*
 * mail_loop: many operations and timers in one thread. The loop only
 * waits and calls back; what an operation does is its step's business
 * (a libmail call returning MAIL_ERR_AGAIN until it is done). After every
 * step the connection says what it waits for (fd + want, wake fd,
 * deadline) and the loop registers exactly that with its poller and
 * heap. Nothing a callback may drop is freed before the iteration ends,
 * so a poller's event never points at freed memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/mem.h"
#include "net/loop_config.h"
#include "net/loop_impl.h"

static int64_t loop_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the heap */

static void heap_swap(mail_loop *l, size_t a, size_t b)
{
  loop_due *t = l->heap[a];
  l->heap[a] = l->heap[b];
  l->heap[b] = t;
  l->heap[a]->hidx = a;
  l->heap[b]->hidx = b;
}

static void heap_up(mail_loop *l, size_t i)
{
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (l->heap[p]->at <= l->heap[i]->at)
      break;
    heap_swap(l, i, p);
    i = p;
  }
}

static void heap_down(mail_loop *l, size_t i)
{
  for (;;) {
    size_t a = 2 * i + 1, b = a + 1, m = i;
    if (a < l->nheap && l->heap[a]->at < l->heap[m]->at)
      m = a;
    if (b < l->nheap && l->heap[b]->at < l->heap[m]->at)
      m = b;
    if (m == i)
      return;
    heap_swap(l, i, m);
    i = m;
  }
}

static void heap_del(mail_loop *l, loop_due *d)
{
  size_t i = d->hidx;
  if (i == LOOP_NOWHERE)
    return;
  d->hidx = LOOP_NOWHERE;
  l->nheap--;
  if (i == l->nheap)
    return;
  l->heap[i] = l->heap[l->nheap];
  l->heap[i]->hidx = i;
  heap_up(l, i);
  heap_down(l, l->heap[i]->hidx);
}

static int heap_set(mail_loop *l, loop_due *d, int64_t at)
{
  if (d->hidx != LOOP_NOWHERE) {
    int64_t old = d->at;
    d->at = at;
    if (at < old)
      heap_up(l, d->hidx);
    else
      heap_down(l, d->hidx);
    return MAIL_OK;
  }
  if (l->nheap == l->capheap) {
    size_t cap = l->capheap ? 2 * l->capheap : 64;
    loop_due **h = mail_realloc(&l->alloc, l->heap, cap * sizeof *h);
    if (!h)
      return MAIL_ERR_NOMEM;
    l->heap = h;
    l->capheap = cap;
  }
  d->at = at;
  d->hidx = l->nheap;
  l->heap[l->nheap++] = d;
  heap_up(l, d->hidx);
  return MAIL_OK;
}

/* ------------------------------------------------------- construction */

static int set_nonblock(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
    return -1;
  return 0;
}

int mail_loop_new_backend(mail_loop **out, const mail_allocator *alloc, int backend)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  const loop_poller *p;
  switch (backend) {
  case MAIL_LOOP_BACKEND_DEFAULT:
#if MAIL_WITH_EPOLL
    p = &mail_loop_epoll_poller;
#else
    p = &mail_loop_poll_poller;
#endif
    break;
  case MAIL_LOOP_BACKEND_POLL:
    p = &mail_loop_poll_poller;
    break;
  case MAIL_LOOP_BACKEND_EPOLL:
#if MAIL_WITH_EPOLL
    p = &mail_loop_epoll_poller;
    break;
#else
    return MAIL_ERR_UNSUPPORTED;
#endif
  default:
    return MAIL_ERR_INVALID;
  }
  mail_allocator a;
  if (mail_alloc_init(&a, alloc) != MAIL_OK)
    return MAIL_ERR_INVALID;
  mail_loop *l = mail_calloc(&a, 1, sizeof *l);
  if (!l)
    return MAIL_ERR_NOMEM;
  l->alloc = a;
  l->poller = p;
  atomic_init(&l->stop, 0);
  l->wake_rd = l->wake_wr = -1;
  l->self.fd = -1;
  int fds[2];
  if (pipe(fds) != 0) {
    mail_dealloc(&a, l);
    return MAIL_ERR_IO;
  }
  l->wake_rd = fds[0];
  l->wake_wr = fds[1];
  int rc = MAIL_OK;
  if (set_nonblock(fds[0]) || set_nonblock(fds[1]))
    rc = MAIL_ERR_IO;
  if (!rc)
    rc = p->init(l);
  if (!rc)
    rc = p->watch(l, &l->self, l->wake_rd, MAIL_WANT_READ);
  if (rc) {
    if (l->pstate)
      p->fini(l);
    close(fds[0]);
    close(fds[1]);
    mail_dealloc(&a, l);
    return rc;
  }
  *out = l;
  return MAIL_OK;
}

int mail_loop_new(mail_loop **out, const mail_allocator *alloc)
{
  return mail_loop_new_backend(out, alloc, MAIL_LOOP_BACKEND_DEFAULT);
}

static void free_graves(mail_loop *l)
{
  /* An operation readied for the next iteration and removed in this one
   * is still on the ready list: unlink it before it is freed. */
  for (struct mail_loop_op **pp = &l->ready; *pp;) {
    if ((*pp)->dead) {
      (*pp)->queued = 0;
      *pp = (*pp)->ready_next;
    } else {
      pp = &(*pp)->ready_next;
    }
  }
  while (l->op_grave) {
    struct mail_loop_op *o = l->op_grave;
    l->op_grave = o->grave_next;
    mail_dealloc(&l->alloc, o);
  }
  while (l->timer_grave) {
    mail_loop_timer *t = l->timer_grave;
    l->timer_grave = t->grave_next;
    mail_dealloc(&l->alloc, t);
  }
}

void mail_loop_free(mail_loop *l)
{
  if (!l)
    return;
  while (l->ops)
    mail_loop_remove(l->ops);
  for (size_t i = 0; i < l->nheap; i++) {
    mail_loop_timer *t = (mail_loop_timer *)l->heap[i];
    if (t->due.is_timer) {
      t->grave_next = l->timer_grave;
      l->timer_grave = t;
    }
  }
  l->nheap = 0;
  free_graves(l);
  l->poller->watch(l, &l->self, -1, 0);
  l->poller->fini(l);
  close(l->wake_rd);
  close(l->wake_wr);
  mail_dealloc(&l->alloc, l->heap);
  mail_allocator a = l->alloc;
  mail_dealloc(&a, l);
}

int mail_loop_backend_of(const mail_loop *l)
{
  return l ? l->poller->kind : 0;
}

size_t mail_loop_pending(const mail_loop *l)
{
  return l ? l->nops + l->ntimers : 0;
}

/* --------------------------------------------------------- operations */

static void make_ready(mail_loop *l, struct mail_loop_op *o)
{
  if (o->queued || o->dead)
    return;
  o->queued = 1;
  o->ready_next = l->ready;
  l->ready = o;
}

void loop_ready(mail_loop *l, loop_watch *w)
{
  if (w->op)
    make_ready(l, w->op);
  /* the loop's own pipe: drained once the wait is over */
}

int mail_loop_add(mail_loop_op **out, mail_loop *l, mail_conn *conn, mail_loop_step_fn step,
                  mail_loop_done_fn done, void *user)
{
  if (out)
    *out = NULL;
  if (!l || !conn || !step)
    return MAIL_ERR_INVALID;
  struct mail_loop_op *o = mail_calloc(&l->alloc, 1, sizeof *o);
  if (!o)
    return MAIL_ERR_NOMEM;
  mail_conn_set_nonblocking(conn, 1);
  o->due.hidx = LOOP_NOWHERE;
  o->loop = l;
  o->conn = conn;
  o->step = step;
  o->done = done;
  o->user = user;
  o->io.op = o->wake.op = o;
  o->io.fd = o->wake.fd = -1;
  o->next = l->ops;
  if (l->ops)
    l->ops->prev = o;
  l->ops = o;
  l->nops++;
  make_ready(l, o);
  if (out)
    *out = o;
  return MAIL_OK;
}

/* Out of every structure but the ready list (skipped there: dead) and
 * into the grave. */
static void op_bury(struct mail_loop_op *o)
{
  mail_loop *l = o->loop;
  o->dead = 1;
  l->poller->watch(l, &o->io, -1, 0);
  l->poller->watch(l, &o->wake, -1, 0);
  heap_del(l, &o->due);
  if (o->prev)
    o->prev->next = o->next;
  else
    l->ops = o->next;
  if (o->next)
    o->next->prev = o->prev;
  l->nops--;
  o->grave_next = l->op_grave;
  l->op_grave = o;
}

void mail_loop_remove(mail_loop_op *o)
{
  if (o && !o->dead)
    op_bury(o);
}

/* What the connection waits for now, registered. A connection without a
 * descriptor (a user transport) is stepped again every millisecond. */
static int op_rearm(mail_loop *l, struct mail_loop_op *o)
{
  int fd = mail_conn_fd(o->conn);
  int want = mail_conn_want(o->conn) & (MAIL_WANT_READ | MAIL_WANT_WRITE);
  if (fd >= 0 && !want)
    want = MAIL_WANT_READ;
  int rc = l->poller->watch(l, &o->io, fd, want);
  if (!rc)
    rc = l->poller->watch(l, &o->wake, mail_conn_wake_fd(o->conn), MAIL_WANT_READ);
  if (rc)
    return rc;
  int64_t ms = mail_conn_timeout_ms(o->conn);
  if (fd < 0 && (ms < 0 || ms > 1))
    ms = 1;
  if (ms < 0) {
    heap_del(l, &o->due);
    return MAIL_OK;
  }
  /* +1: the loop's clock and the connection's round differently, and a
   * step called a hair before its deadline only waits again. */
  return heap_set(l, &o->due, loop_now() + ms + (fd >= 0 ? 1 : 0));
}

static void op_step(mail_loop *l, struct mail_loop_op *o)
{
  int rc = o->step(o->user, o->conn);
  if (o->dead) /* removed by its own step */
    return;
  if (rc == MAIL_ERR_AGAIN) {
    rc = op_rearm(l, o);
    if (rc == MAIL_OK)
      return;
  }
  mail_loop_done_fn done = o->done;
  void *user = o->user;
  op_bury(o);
  if (done)
    done(user, rc);
}

/* ------------------------------------------------------------- timers */

int mail_loop_add_timer(mail_loop_timer **out, mail_loop *l, int64_t ms, mail_loop_timer_fn fn,
                        void *user)
{
  if (out)
    *out = NULL;
  if (!l || !fn || ms < 0)
    return MAIL_ERR_INVALID;
  mail_loop_timer *t = mail_calloc(&l->alloc, 1, sizeof *t);
  if (!t)
    return MAIL_ERR_NOMEM;
  t->due.hidx = LOOP_NOWHERE;
  t->due.is_timer = 1;
  t->loop = l;
  t->fn = fn;
  t->user = user;
  if (heap_set(l, &t->due, loop_now() + ms) != MAIL_OK) {
    mail_dealloc(&l->alloc, t);
    return MAIL_ERR_NOMEM;
  }
  l->ntimers++;
  if (out)
    *out = t;
  return MAIL_OK;
}

static void timer_bury(mail_loop_timer *t)
{
  mail_loop *l = t->loop;
  t->dead = 1;
  heap_del(l, &t->due);
  l->ntimers--;
  t->grave_next = l->timer_grave;
  l->timer_grave = t;
}

void mail_loop_cancel_timer(mail_loop_timer *t)
{
  if (t && !t->dead)
    timer_bury(t);
}

/* ----------------------------------------------------------- running */

void mail_loop_stop(mail_loop *l)
{
  if (!l)
    return;
  atomic_store(&l->stop, 1);
  ssize_t r;
  do
    r = write(l->wake_wr, "s", 1);
  while (r < 0 && errno == EINTR);
  /* EAGAIN: the pipe is full, the loop wakes anyway */
}

static void drain_self(mail_loop *l)
{
  char b[64];
  while (read(l->wake_rd, b, sizeof b) > 0)
    ;
}

static int wait_ms(mail_loop *l, int timeout_ms)
{
  if (l->ready || atomic_load(&l->stop))
    return 0;
  if (l->nheap) {
    int64_t left = l->heap[0]->at - loop_now();
    if (left < 0)
      left = 0;
    if (timeout_ms < 0 || left < timeout_ms)
      return left > INT32_MAX ? INT32_MAX : (int)left;
  }
  return timeout_ms;
}

int mail_loop_run_once(mail_loop *l, int timeout_ms)
{
  if (!l)
    return MAIL_ERR_INVALID;
  if (l->running)
    return MAIL_ERR_STATE;
  l->running = 1;
  int rc = l->poller->wait(l, wait_ms(l, timeout_ms));
  drain_self(l);
  if (rc == MAIL_OK) {
    /* What is due: deadlines make their operations ready, timers are
     * set apart and called after the steps. */
    int64_t now = loop_now();
    mail_loop_timer *fire = NULL, **tail = &fire;
    while (l->nheap && l->heap[0]->at <= now) {
      loop_due *d = l->heap[0];
      heap_del(l, d);
      if (d->is_timer) {
        mail_loop_timer *t = (mail_loop_timer *)d;
        t->due_next = NULL;
        *tail = t;
        tail = &t->due_next;
      } else {
        make_ready(l, (struct mail_loop_op *)d);
      }
    }
    /* Steps added or readied by these callbacks wait for the next
     * iteration: one busy session cannot starve the others. */
    struct mail_loop_op *batch = l->ready;
    l->ready = NULL;
    while (batch) {
      struct mail_loop_op *o = batch;
      batch = o->ready_next;
      o->queued = 0;
      if (!o->dead)
        op_step(l, o);
    }
    while (fire) {
      mail_loop_timer *t = fire;
      fire = t->due_next;
      if (t->dead)
        continue;
      timer_bury(t);
      t->fn(t->user);
    }
  }
  free_graves(l);
  l->running = 0;
  if (rc == MAIL_OK && atomic_exchange(&l->stop, 0))
    rc = MAIL_ERR_CANCELLED;
  return rc;
}

int mail_loop_run(mail_loop *l)
{
  if (!l)
    return MAIL_ERR_INVALID;
  for (;;) {
    if (atomic_exchange(&l->stop, 0)) {
      drain_self(l);
      return MAIL_ERR_CANCELLED;
    }
    if (!l->nops && !l->ntimers)
      return MAIL_OK;
    int rc = mail_loop_run_once(l, -1);
    if (rc != MAIL_OK)
      return rc;
  }
}

/* The loop's epoll(7) poller (Linux): level-triggered, one registration
 * per watched descriptor, so a wait costs what is ready, not what is
 * registered.
 *
 * Descriptors come and go under the loop's feet: a step may close its
 * socket (the kernel then drops the registration by itself) and another
 * step may get the same number for a new socket. So the poller keeps, per
 * descriptor number, the watch that registered it last: a stale watch is
 * never allowed to delete another's registration, and every re-arm is an
 * EPOLL_CTL_MOD that falls back to ADD when the kernel has forgotten the
 * descriptor (closed and reopened within one step). */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "config.h"
#include "core/mem.h"
#include "net/loop_config.h"
#include "net/loop_impl.h"

#define EPOLL_BATCH 256

typedef struct epoll_state {
  int ep;
  loop_watch **owner; /* by descriptor number */
  size_t nowner;
  struct epoll_event ev[EPOLL_BATCH];
} epoll_state;

static int ep_init(mail_loop *l)
{
  epoll_state *s = mail_calloc(&l->alloc, 1, sizeof *s);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->ep = epoll_create1(EPOLL_CLOEXEC);
  if (s->ep < 0) {
    mail_dealloc(&l->alloc, s);
    return MAIL_ERR_IO;
  }
  l->pstate = s;
  return MAIL_OK;
}

static void ep_fini(mail_loop *l)
{
  epoll_state *s = l->pstate;
  if (!s)
    return;
  close(s->ep);
  mail_dealloc(&l->alloc, s->owner);
  mail_dealloc(&l->alloc, s);
  l->pstate = NULL;
}

static int own(mail_loop *l, int fd, loop_watch *w)
{
  epoll_state *s = l->pstate;
  if ((size_t)fd >= s->nowner) {
    size_t n = s->nowner ? s->nowner : 64;
    while (n <= (size_t)fd)
      n *= 2;
    loop_watch **o = mail_realloc(&l->alloc, s->owner, n * sizeof *o);
    if (!o)
      return MAIL_ERR_NOMEM;
    for (size_t i = s->nowner; i < n; i++)
      o[i] = NULL;
    s->owner = o;
    s->nowner = n;
  }
  loop_watch *prev = s->owner[fd];
  if (prev && prev != w)
    prev->fd = -1; /* its descriptor was closed and the number reused */
  s->owner[fd] = w;
  return MAIL_OK;
}

static void disown(mail_loop *l, loop_watch *w)
{
  epoll_state *s = l->pstate;
  int fd = w->fd;
  if (fd >= 0 && (size_t)fd < s->nowner && s->owner[fd] == w) {
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL); /* ENOENT/EBADF: already gone */
    s->owner[fd] = NULL;
  }
  w->fd = -1;
  w->events = 0;
}

static int ep_watch(mail_loop *l, loop_watch *w, int fd, int events)
{
  epoll_state *s = l->pstate;
  if (w->fd >= 0 && w->fd != fd)
    disown(l, w);
  if (fd < 0)
    return MAIL_OK;
  struct epoll_event ev;
  ev.events = ((events & MAIL_WANT_READ) ? EPOLLIN : 0) | ((events & MAIL_WANT_WRITE) ? EPOLLOUT : 0);
  ev.data.ptr = w;
  int r = -1;
  if (w->fd == fd) {
    r = epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
    if (r < 0 && errno != ENOENT)
      return MAIL_ERR_IO;
  }
  if (r < 0) {
    r = epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
    if (r < 0 && errno == EEXIST)
      r = epoll_ctl(s->ep, EPOLL_CTL_MOD, fd, &ev);
    if (r < 0)
      return MAIL_ERR_IO;
  }
  if (own(l, fd, w) != MAIL_OK) {
    epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, NULL);
    w->fd = -1;
    return MAIL_ERR_NOMEM;
  }
  w->fd = fd;
  w->events = events;
  return MAIL_OK;
}

static int ep_wait(mail_loop *l, int timeout_ms)
{
  epoll_state *s = l->pstate;
  int n = epoll_wait(s->ep, s->ev, EPOLL_BATCH, timeout_ms);
  if (n < 0)
    return errno == EINTR ? MAIL_OK : MAIL_ERR_IO;
  for (int i = 0; i < n; i++)
    loop_ready(l, s->ev[i].data.ptr);
  return MAIL_OK;
}

const loop_poller mail_loop_epoll_poller = {
  MAIL_LOOP_BACKEND_EPOLL, ep_init, ep_fini, ep_watch, ep_wait,
};

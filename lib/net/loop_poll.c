/* The loop's poll(2) poller: the watched descriptors in one pollfd array
 * (a watch knows its slot; removal moves the last slot into the hole), so
 * a wait costs one system call over every registered descriptor. */
#include <errno.h>
#include <poll.h>

#include "config.h"
#include "core/mem.h"
#include "net/loop_config.h"
#include "net/loop_impl.h"

typedef struct poll_state {
  struct pollfd *pfd;
  loop_watch **who;
  size_t n, cap;
} poll_state;

static int poll_init(mail_loop *l)
{
  l->pstate = mail_calloc(&l->alloc, 1, sizeof(poll_state));
  return l->pstate ? MAIL_OK : MAIL_ERR_NOMEM;
}

static void poll_fini(mail_loop *l)
{
  poll_state *p = l->pstate;
  if (!p)
    return;
  mail_dealloc(&l->alloc, p->pfd);
  mail_dealloc(&l->alloc, p->who);
  mail_dealloc(&l->alloc, p);
  l->pstate = NULL;
}

static short poll_events(int want)
{
  return (short)(((want & MAIL_WANT_READ) ? POLLIN : 0) | ((want & MAIL_WANT_WRITE) ? POLLOUT : 0));
}

static int poll_watch(mail_loop *l, loop_watch *w, int fd, int events)
{
  poll_state *p = l->pstate;
  if (fd < 0) {
    if (w->fd >= 0) {
      size_t i = w->pidx;
      p->n--;
      if (i != p->n) {
        p->pfd[i] = p->pfd[p->n];
        p->who[i] = p->who[p->n];
        p->who[i]->pidx = i;
      }
    }
    w->fd = -1;
    w->events = 0;
    return MAIL_OK;
  }
  if (w->fd < 0) {
    if (p->n == p->cap) {
      size_t cap = p->cap ? 2 * p->cap : 64;
      struct pollfd *pf = mail_realloc(&l->alloc, p->pfd, cap * sizeof *pf);
      if (!pf)
        return MAIL_ERR_NOMEM;
      p->pfd = pf;
      loop_watch **who = mail_realloc(&l->alloc, p->who, cap * sizeof *who);
      if (!who)
        return MAIL_ERR_NOMEM;
      p->who = who;
      p->cap = cap;
    }
    w->pidx = p->n++;
    p->who[w->pidx] = w;
  }
  w->fd = fd;
  w->events = events;
  p->pfd[w->pidx].fd = fd;
  p->pfd[w->pidx].events = poll_events(events);
  p->pfd[w->pidx].revents = 0;
  return MAIL_OK;
}

static int poll_wait(mail_loop *l, int timeout_ms)
{
  poll_state *p = l->pstate;
  int r = poll(p->pfd, (nfds_t)p->n, timeout_ms);
  if (r < 0)
    return errno == EINTR ? MAIL_OK : MAIL_ERR_IO;
  for (size_t i = 0; i < p->n && r > 0; i++) {
    if (p->pfd[i].revents) {
      r--;
      loop_ready(l, p->who[i]);
    }
  }
  return MAIL_OK;
}

const loop_poller mail_loop_poll_poller = {
  MAIL_LOOP_BACKEND_POLL, poll_init, poll_fini, poll_watch, poll_wait,
};

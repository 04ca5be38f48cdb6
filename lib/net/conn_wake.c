/* Ending a blocking wait early: a self-pipe the connection owns (written by
 * mail_conn_wake(), the one call made from another thread) and a clock
 * time at which a wait ends (an IMAP IDLE's re-issue). Either makes the
 * driver hand control back to the engine instead of waiting on, with
 * nothing failed: the engine decides what to do (send DONE). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "config.h"
#include "net/conn_impl.h"

int mail_conn_wake_open(mail_conn *c)
{
  if (atomic_load(&c->wake_wr) >= 0)
    return MAIL_OK;
#if !MAIL_WITH_SOCKETS
  /* No descriptors to wait on without sockets; a blocking wait is the
   * transport's own and cannot be cut short from here. */
  return mail_conn_fail(c, MAIL_ERR_UNSUPPORTED, "built without sockets: no wake pipe");
#else
  int p[2];
  if (pipe(p) != 0)
    return mail_conn_fail(c, MAIL_ERR_IO, "cannot create the wake pipe");
  for (int i = 0; i < 2; i++) {
    fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK);
    fcntl(p[i], F_SETFD, FD_CLOEXEC);
  }
  c->wake_rd = p[0];
  atomic_store(&c->wake_wr, p[1]);
  return MAIL_OK;
#endif
}

void mail_conn_wake(mail_conn *c)
{
  int fd = atomic_load(&c->wake_wr);
  if (fd >= 0) {
    ssize_t r;
    do
      r = write(fd, "w", 1);
    while (r < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full, a wake is pending already. */
  }
}

void mail_conn_set_wake(mail_conn *c, int listen, int64_t at_ms)
{
  c->wake_listen = listen && c->wake_rd >= 0;
  c->wake_at = at_ms;
  /* A wake that came is acted on when listening ends: the pipe must not
   * stay readable for an event loop polling mail_conn_wake_fd(). */
  if (!listen)
    conn_wake_drain(c);
}

int mail_conn_wake_fd(const mail_conn *c)
{
  return c ? c->wake_rd : -1;
}

int conn_wake_drain(mail_conn *c)
{
  char b[64];
  int any = 0;
  while (c->wake_rd >= 0 && read(c->wake_rd, b, sizeof b) > 0)
    any = 1;
  return any;
}

void conn_wake_close(mail_conn *c)
{
  int fd = atomic_exchange(&c->wake_wr, -1);
  if (fd >= 0)
    close(fd);
  if (c->wake_rd >= 0)
    close(c->wake_rd);
  c->wake_rd = -1;
}

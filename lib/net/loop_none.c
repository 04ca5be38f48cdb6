/* The loop in a build without sockets (bare metal): nothing to poll, so
 * no loop; the symbols exist so the API is the same everywhere. */
#include <mail/loop.h>

int mail_loop_new_backend(mail_loop **out, const mail_allocator *alloc, int backend)
{
  (void)alloc;
  (void)backend;
  if (out)
    *out = NULL;
  return out ? MAIL_ERR_UNSUPPORTED : MAIL_ERR_INVALID;
}

int mail_loop_new(mail_loop **out, const mail_allocator *alloc)
{
  return mail_loop_new_backend(out, alloc, MAIL_LOOP_BACKEND_DEFAULT);
}

void mail_loop_free(mail_loop *loop) { (void)loop; }
int mail_loop_backend_of(const mail_loop *loop) { (void)loop; return 0; }
size_t mail_loop_pending(const mail_loop *loop) { (void)loop; return 0; }

int mail_loop_add(mail_loop_op **out, mail_loop *loop, mail_conn *conn, mail_loop_step_fn step,
                  mail_loop_done_fn done, void *user)
{
  (void)loop, (void)conn, (void)step, (void)done, (void)user;
  if (out)
    *out = NULL;
  return MAIL_ERR_INVALID;
}

void mail_loop_remove(mail_loop_op *op) { (void)op; }

int mail_loop_add_timer(mail_loop_timer **out, mail_loop *loop, int64_t ms, mail_loop_timer_fn fn,
                        void *user)
{
  (void)loop, (void)ms, (void)fn, (void)user;
  if (out)
    *out = NULL;
  return MAIL_ERR_INVALID;
}

void mail_loop_cancel_timer(mail_loop_timer *timer) { (void)timer; }
int mail_loop_run_once(mail_loop *loop, int timeout_ms) { (void)loop, (void)timeout_ms; return MAIL_ERR_INVALID; }
int mail_loop_run(mail_loop *loop) { (void)loop; return MAIL_ERR_INVALID; }
void mail_loop_stop(mail_loop *loop) { (void)loop; }

/*
 * The built-in loop (mail/loop.h): timers, stop from another thread,
 * removal inside callbacks, and SMTP sessions by the thousand in one
 * thread against tests/loop/loop_sink.c (a separate process, started per
 * test, that counts messages and its peak of open connections): 1,000
 * sessions x 20 messages with every connection open at once (a barrier:
 * all connect, then all send), on epoll and on poll; chained steps
 * without a barrier; and under load, sessions the sink stalls end
 * MAIL_ERR_TIMEOUT while the others complete.
 *
 * usage: test-loop PATH-TO-loop-sink
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include <mail/loop.h>
#include <mail/smtp.h>

#include "each_alloc.h"
#include "loop_jobs.h"

static const char *sink_path;

/* ------------------------------------------------------------ the sink */

typedef struct sink {
  pid_t pid;
  int to, from; /* its stdin (closing it ends the sink), its stdout */
  unsigned port;
  long messages, accepted, quits, stalled;
  int peak;
} sink;

static void sink_start(sink *k)
{
  int in[2], out[2];
  ck_assert(pipe(in) == 0 && pipe(out) == 0);
  k->pid = fork();
  ck_assert(k->pid >= 0);
  if (k->pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    execl(sink_path, sink_path, (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  k->to = in[1];
  k->from = out[0];
  char line[64];
  ssize_t n = 0, r;
  while (n < (ssize_t)sizeof line - 1 && (r = read(k->from, line + n, 1)) == 1 && line[n] != '\n')
    n++;
  line[n] = 0;
  k->port = (unsigned)atoi(line);
  ck_assert_msg(k->port > 0, "loop-sink gave no port (%s)", sink_path);
}

/* End the sink and read its counts. */
static void sink_stop(sink *k)
{
  close(k->to);
  char buf[512];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf - 1 && (r = read(k->from, buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = 0;
  close(k->from);
  int st;
  ck_assert(waitpid(k->pid, &st, 0) == k->pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_assert_msg(sscanf(buf, "messages=%ld accepted=%ld peak=%d quits=%ld stalled=%ld", &k->messages,
                       &k->accepted, &k->peak, &k->quits, &k->stalled) == 5,
                "sink said: %s", buf);
}

static char body[2048];

static void make_body(void)
{
  size_t o = (size_t)snprintf(body, sizeof body,
                              "From: <loop@libmail.test>\r\nTo: <sink@libmail.test>\r\n"
                              "Subject: loop test\r\n\r\n");
  while (o + 74 <= sizeof body) {
    memset(body + o, 'a' + (int)(o % 26), 72);
    if (o % 7 == 3)
      body[o] = '.';
    memcpy(body + o + 72, "\r\n", 2);
    o += 74;
  }
  memset(body + o, '\0', sizeof body - o);
}

static loop_jobs_conf sink_conf(const sink *k, int messages)
{
  loop_jobs_conf c;
  memset(&c, 0, sizeof c);
  c.host = "127.0.0.1";
  c.port = k->port;
  c.security = MAIL_SECURITY_NONE_INSECURE;
  c.from = "loop@libmail.test";
  c.to = "sink@libmail.test";
  c.body = body;
  c.body_len = strlen(body);
  c.messages = messages;
  /* Generous: 1,000 sessions on a loaded 2-CPU machine. */
  c.command_ms = 120000;
  return c;
}

/* n sessions x m messages through one loop; every result checked. */
static void run_sessions(int backend, size_t n, int m, int barrier)
{
  sink k;
  sink_start(&k);
  mail_loop *loop = NULL;
  ck_assert_int_eq(mail_loop_new_backend(&loop, NULL, backend), MAIL_OK);
  ck_assert_int_eq(mail_loop_backend_of(loop), backend);
  loop_jobs_conf conf = sink_conf(&k, m);
  loop_jobs js;
  ck_assert_int_eq(loop_jobs_start(&js, loop, n, &conf, barrier), MAIL_OK);
  ck_assert_uint_eq(mail_loop_pending(loop), n);
  ck_assert_int_eq(mail_loop_run(loop), MAIL_OK);
  ck_assert_uint_eq(mail_loop_pending(loop), 0);
  ck_assert_msg(js.first_error == 0, "%s", js.first_text);
  ck_assert_uint_eq(js.finished, n);
  ck_assert_uint_eq(js.ok_jobs, n);
  ck_assert_uint_eq(js.ok_messages, n * (size_t)m);
  for (size_t i = 0; i < n; i++) {
    int sent;
    ck_assert_int_eq(loop_jobs_status(&js, i, &sent), MAIL_OK);
    ck_assert_int_eq(sent, m);
  }
  loop_jobs_free(&js);
  mail_loop_free(loop);
  sink_stop(&k);
  ck_assert_int_eq(k.messages, (long)(n * (size_t)m));
  ck_assert_int_eq(k.accepted, (long)n);
  ck_assert_int_eq(k.quits, (long)n);
  if (barrier)
    ck_assert_msg(k.peak >= 900, "peak of open connections %d", k.peak);
  fprintf(stderr, "%s: %zu sessions x %d messages, sink peak %d open connections\n",
          backend == MAIL_LOOP_BACKEND_EPOLL ? "epoll" : "poll", n, m, k.peak);
}

START_TEST(thousand_sessions_epoll)
{
  run_sessions(MAIL_LOOP_BACKEND_EPOLL, 1000, 20, 1);
}
END_TEST

START_TEST(thousand_sessions_poll)
{
  run_sessions(MAIL_LOOP_BACKEND_POLL, 1000, 20, 1);
}
END_TEST

START_TEST(chained_steps)
{
  /* One operation per session, connect to QUIT, no barrier. */
  run_sessions(MAIL_LOOP_BACKEND_EPOLL, 200, 20, 0);
  run_sessions(MAIL_LOOP_BACKEND_POLL, 200, 20, 0);
}
END_TEST

/* Every 10th session's EHLO name makes the sink stop answering after
 * EHLO: those end MAIL_ERR_TIMEOUT after their 1.5 s command timeout,
 * while the rest, under the same load, complete (their timeout is
 * generous: they are not what is tested). */
static void run_stalls(int backend)
{
  sink k;
  sink_start(&k);
  mail_loop *loop = NULL;
  ck_assert_int_eq(mail_loop_new_backend(&loop, NULL, backend), MAIL_OK);
  loop_jobs_conf conf = sink_conf(&k, 5);
  conf.stall_every = 10;
  conf.stall_name = "stall.libmail.test";
  conf.stall_ms = 1500;
  size_t n = 300;
  loop_jobs js;
  ck_assert_int_eq(loop_jobs_start(&js, loop, n, &conf, 1), MAIL_OK);
  ck_assert_int_eq(mail_loop_run(loop), MAIL_OK);
  ck_assert_msg(js.first_error == 0, "%s", js.first_text);
  size_t stalled = 0;
  for (size_t i = 0; i < n; i++) {
    int sent;
    int st = loop_jobs_status(&js, i, &sent);
    if (loop_jobs_is_stalled(&js, i)) {
      stalled++;
      ck_assert_msg(st == MAIL_ERR_TIMEOUT, "stalled job %zu: %s", i, mail_strerror(st));
      ck_assert_int_eq(sent, 0);
    } else {
      ck_assert_msg(st == MAIL_OK, "job %zu: %s", i, mail_strerror(st));
      ck_assert_int_eq(sent, 5);
    }
  }
  ck_assert_uint_eq(stalled, 30);
  ck_assert_uint_eq(js.timeouts, 30);
  ck_assert_uint_eq(js.ok_jobs, n - 30);
  loop_jobs_free(&js);
  mail_loop_free(loop);
  sink_stop(&k);
  ck_assert_int_eq(k.stalled, 30);
  ck_assert_int_eq(k.messages, (long)(n - 30) * 5);
}

START_TEST(stalled_sessions_time_out)
{
  run_stalls(MAIL_LOOP_BACKEND_EPOLL);
  run_stalls(MAIL_LOOP_BACKEND_POLL);
}
END_TEST

/* ------------------------------------------------------------- timers */

typedef struct tick {
  mail_loop *loop;
  int order[8];
  int n;
  mail_loop_timer *victim;
  int rearm;
} tick;

static tick *tick_ctx;

static void on_tick(void *user)
{
  int id = (int)(intptr_t)user;
  tick *t = tick_ctx;
  t->order[t->n++] = id;
  if (id == 2)
    mail_loop_cancel_timer(t->victim); /* due in the same pass or later: never fires */
  if (id == 1 && t->rearm-- > 0)
    ck_assert_int_eq(mail_loop_add_timer(NULL, t->loop, 0, on_tick, (void *)(intptr_t)1), MAIL_OK);
}

static void timers(int backend)
{
  tick t;
  memset(&t, 0, sizeof t);
  tick_ctx = &t;
  ck_assert_int_eq(mail_loop_new_backend(&t.loop, NULL, backend), MAIL_OK);
  ck_assert_int_eq(mail_loop_run(t.loop), MAIL_OK); /* nothing registered */
  ck_assert_int_eq(mail_loop_run_once(t.loop, 0), MAIL_OK);
  ck_assert_int_eq(mail_loop_add_timer(NULL, t.loop, 40, on_tick, (void *)(intptr_t)3), MAIL_OK);
  ck_assert_int_eq(mail_loop_add_timer(NULL, t.loop, 10, on_tick, (void *)(intptr_t)1), MAIL_OK);
  ck_assert_int_eq(mail_loop_add_timer(NULL, t.loop, 20, on_tick, (void *)(intptr_t)2), MAIL_OK);
  ck_assert_int_eq(mail_loop_add_timer(&t.victim, t.loop, 30, on_tick, (void *)(intptr_t)9),
                   MAIL_OK);
  ck_assert_int_eq(mail_loop_add_timer(NULL, t.loop, -1, on_tick, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_loop_add_timer(NULL, t.loop, 1, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_uint_eq(mail_loop_pending(t.loop), 4);
  t.rearm = 2;
  ck_assert_int_eq(mail_loop_run(t.loop), MAIL_OK);
  ck_assert_int_eq(t.n, 5);
  ck_assert_int_eq(t.order[0], 1);
  ck_assert_int_eq(t.order[1], 1);
  ck_assert_int_eq(t.order[2], 1);
  ck_assert_int_eq(t.order[3], 2);
  ck_assert_int_eq(t.order[4], 3);
  ck_assert_uint_eq(mail_loop_pending(t.loop), 0);
  mail_loop_free(t.loop);
}

START_TEST(timers_epoll)
{
  timers(MAIL_LOOP_BACKEND_EPOLL);
}
END_TEST

START_TEST(timers_poll)
{
  timers(MAIL_LOOP_BACKEND_POLL);
}
END_TEST

static void *stopper(void *arg)
{
  mail_loop_stop(arg);
  return NULL;
}

static void never(void *user)
{
  (void)user;
  ck_abort_msg("a 10-minute timer fired");
}

START_TEST(stop_from_another_thread)
{
  for (int b = MAIL_LOOP_BACKEND_POLL; b <= MAIL_LOOP_BACKEND_EPOLL; b++) {
    mail_loop *loop = NULL;
    ck_assert_int_eq(mail_loop_new_backend(&loop, NULL, b), MAIL_OK);
    mail_loop_timer *t;
    ck_assert_int_eq(mail_loop_add_timer(&t, loop, 600000, never, NULL), MAIL_OK);
    /* Before or during the run: either way it returns, and only once. */
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, stopper, loop), 0);
    ck_assert_int_eq(mail_loop_run(loop), MAIL_ERR_CANCELLED);
    pthread_join(th, NULL);
    ck_assert_uint_eq(mail_loop_pending(loop), 1); /* the timer stays */
    ck_assert_int_eq(mail_loop_run_once(loop, 0), MAIL_OK);
    mail_loop_cancel_timer(t);
    ck_assert_int_eq(mail_loop_run(loop), MAIL_OK);
    mail_loop_free(loop);
  }
}
END_TEST

/* An operation removed by its own step, and one removed by a timer,
 * never reach their done callbacks; run_once from inside is refused. */
typedef struct rm {
  mail_loop *loop;
  mail_loop_op *self, *other;
  mail_conn *late_conn;
  int steps, dones;
} rm;

static int rm_step(void *user, mail_conn *conn)
{
  rm *r = user;
  (void)conn;
  r->steps++;
  ck_assert_int_eq(mail_loop_run_once(r->loop, 0), MAIL_ERR_STATE);
  mail_loop_remove(r->self);
  return MAIL_OK; /* ignored: removed */
}

static int wait_step(void *user, mail_conn *conn)
{
  (void)user;
  (void)conn;
  return MAIL_ERR_AGAIN; /* not connected: stepped every millisecond */
}

static void rm_done(void *user, int status)
{
  (void)status;
  ((rm *)user)->dones++;
}

static rm *rm_ctx;

static void rm_timer(void *user)
{
  (void)user;
  mail_loop_remove(rm_ctx->other);
  /* added and removed in the same pass: readied for the next one, never stepped */
  mail_loop_op *late = NULL;
  ck_assert_int_eq(mail_loop_add(&late, rm_ctx->loop, rm_ctx->late_conn, rm_step, rm_done, rm_ctx),
                   MAIL_OK);
  mail_loop_remove(late);
}

START_TEST(remove_inside_callbacks)
{
  for (int b = MAIL_LOOP_BACKEND_POLL; b <= MAIL_LOOP_BACKEND_EPOLL; b++) {
    rm r;
    memset(&r, 0, sizeof r);
    rm_ctx = &r;
    ck_assert_int_eq(mail_loop_new_backend(&r.loop, NULL, b), MAIL_OK);
    mail_smtp *s1, *s2;
    ck_assert_int_eq(mail_smtp_new(&s1, NULL), MAIL_OK);
    ck_assert_int_eq(mail_smtp_new(&s2, NULL), MAIL_OK);
    r.late_conn = mail_smtp_conn(s2);
    ck_assert_int_eq(mail_loop_add(&r.self, r.loop, mail_smtp_conn(s1), rm_step, rm_done, &r),
                     MAIL_OK);
    ck_assert_int_eq(mail_loop_add(&r.other, r.loop, mail_smtp_conn(s2), wait_step, rm_done, &r),
                     MAIL_OK);
    ck_assert_int_eq(mail_loop_add(NULL, r.loop, NULL, rm_step, rm_done, &r), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_loop_add_timer(NULL, r.loop, 20, rm_timer, NULL), MAIL_OK);
    ck_assert_int_eq(mail_loop_run(r.loop), MAIL_OK);
    ck_assert_int_eq(r.steps, 1);
    ck_assert_int_eq(r.dones, 0);
    /* an operation left registered is dropped by free, without its done */
    ck_assert_int_eq(mail_loop_add(NULL, r.loop, mail_smtp_conn(s2), wait_step, rm_done, &r),
                     MAIL_OK);
    mail_loop_free(r.loop);
    ck_assert_int_eq(r.dones, 0);
    mail_smtp_free(s1);
    mail_smtp_free(s2);
  }
  mail_loop *l = NULL;
  ck_assert_int_eq(mail_loop_new_backend(&l, NULL, 7), MAIL_ERR_INVALID);
  ck_assert_ptr_null(l);
  ck_assert_int_eq(mail_loop_new(NULL, NULL), MAIL_ERR_INVALID);
  mail_loop_free(NULL);
  mail_loop_stop(NULL);
  mail_loop_remove(NULL);
  mail_loop_cancel_timer(NULL);
  ck_assert_uint_eq(mail_loop_pending(NULL), 0);
  ck_assert_int_eq(mail_loop_run(NULL), MAIL_ERR_INVALID);
}
END_TEST

/* Failing each allocation of a loop's life: its construction, the heap
 * growing past its first 64 slots (70 timers), an operation's record and
 * the poller's tables; every failure comes back as MAIL_ERR_NOMEM with
 * nothing left allocated. */
static int nomem_count;

static void nomem_tick(void *user)
{
  (void)user;
  nomem_count++;
}

static int nomem_step(void *user, mail_conn *conn)
{
  (void)user;
  (void)conn;
  return MAIL_OK;
}

static int nomem_run(void *user, mail_test_alloc *ta)
{
  int backend = *(int *)user;
  mail_loop *loop = NULL;
  mail_smtp *s = NULL;
  int rc = mail_loop_new_backend(&loop, mail_test_alloc_hooks(ta), backend);
  for (int i = 0; !rc && i < 70; i++)
    rc = mail_loop_add_timer(NULL, loop, i % 3, nomem_tick, NULL);
  if (!rc)
    rc = mail_smtp_new(&s, mail_test_alloc_hooks(ta));
  if (!rc)
    rc = mail_loop_add(NULL, loop, mail_smtp_conn(s), nomem_step, NULL, NULL);
  if (!rc)
    rc = mail_loop_run(loop);
  mail_smtp_free(s);
  mail_loop_free(loop);
  return rc;
}

START_TEST(each_allocation_fails)
{
  for (int b = MAIL_LOOP_BACKEND_POLL; b <= MAIL_LOOP_BACKEND_EPOLL; b++)
    MAIL_TEST_ASSERT_EACH_ALLOCATION("loop", nomem_run, &b, MAIL_OK, MAIL_TEST_NOMEM_EXACT);
}
END_TEST

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: test-loop PATH-TO-loop-sink\n");
    return 2;
  }
  sink_path = argv[1];
  signal(SIGPIPE, SIG_IGN);
  /* 1,000 client sockets, the sink's own are in its process. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  make_body();
  Suite *s = suite_create("loop");
  TCase *tc = tcase_create("loop");
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, timers_epoll);
  tcase_add_test(tc, timers_poll);
  tcase_add_test(tc, stop_from_another_thread);
  tcase_add_test(tc, remove_inside_callbacks);
  tcase_add_test(tc, each_allocation_fails);
  tcase_add_test(tc, thousand_sessions_epoll);
  tcase_add_test(tc, thousand_sessions_poll);
  tcase_add_test(tc, chained_steps);
  tcase_add_test(tc, stalled_sessions_time_out);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

/*
 * Many SMTP sessions at once (bench/README.md, "Many sessions in one
 * thread"): N sessions x M messages of 2 KB against loop-sink
 * (tests/loop/loop_sink.c), each session connecting, sending its messages
 * one mail_smtp_send() (or curl transfer) at a time and quitting, the
 * whole run timed from the first connect to the last QUIT:
 *
 *   loop     libmail's own loop (mail/loop.h), one thread, epoll
 *   loop-poll  the same on the poll backend
 *   threads  the blocking API, one thread per session
 *   curl     libcurl's multi interface, one thread, driven by
 *            curl_multi_socket_action() over epoll (the way it scales),
 *            one easy handle per session re-added after each message so
 *            its connection is reused
 *   idle     N sessions connected through the loop and left idle: libmail
 *            heap per session (the tests' tracking allocator, the loop's
 *            own memory included) and the process RSS per session
 *
 * usage: bench-loop loop|loop-poll|threads|curl N M HOST PORT
 *        bench-loop idle N HOST PORT
 * Prints "<name> <messages> <seconds> <msg/s>" (idle: a table line).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mail/loop.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "loop_jobs.h"

#if BENCH_WITH_CURL
#include <curl/curl.h>
#endif

#define FROM "bench@libmail.test"
#define TO "sink@libmail.test"

static char msg[2048];
static size_t mlen;
static const char *host;
static unsigned port;
static int per; /* messages per session */

static void make_msg(void)
{
  size_t o = (size_t)snprintf(msg, sizeof msg,
                              "From: <" FROM ">\r\nTo: <" TO ">\r\nSubject: benchmark message\r\n"
                              "Message-ID: <bench@libmail.test>\r\n\r\n");
  int line = 0;
  while (o < sizeof msg) {
    size_t room = sizeof msg - o;
    size_t n = room >= 74 ? 72 : room - 2;
    for (size_t i = 0; i < n; i++)
      msg[o + i] = (char)('a' + (line + (int)i) % 26);
    if (line % 7 == 3 && n > 0)
      msg[o] = '.';
    o += n;
    msg[o++] = '\r';
    msg[o++] = '\n';
    line++;
  }
  mlen = sizeof msg;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *name, long count, double s)
{
  printf("%s %ld %.3f %.0f\n", name, count, s, (double)count / s);
  fflush(stdout);
}

static loop_jobs_conf conf(void)
{
  loop_jobs_conf c;
  memset(&c, 0, sizeof c);
  c.host = host;
  c.port = port;
  c.security = MAIL_SECURITY_NONE_INSECURE;
  c.from = FROM;
  c.to = TO;
  c.body = msg;
  c.body_len = mlen;
  c.messages = per;
  c.client_name = "bench.libmail.test";
  return c;
}

/* ------------------------------------------------------- libmail loop */

static int run_loop(size_t n, int backend, const char *name)
{
  mail_loop *loop;
  if (mail_loop_new_backend(&loop, NULL, backend))
    return 1;
  loop_jobs_conf c = conf();
  loop_jobs js;
  double t0 = now_s();
  if (loop_jobs_start(&js, loop, n, &c, 0) || mail_loop_run(loop))
    return 1;
  double t = now_s() - t0;
  if (js.ok_jobs != n || js.ok_messages != n * (size_t)per) {
    fprintf(stderr, "%s: %zu of %zu sessions ok (%s)\n", name, js.ok_jobs, n, js.first_text);
    return 1;
  }
  loop_jobs_free(&js);
  mail_loop_free(loop);
  report(name, (long)(n * (size_t)per), t);
  return 0;
}

/* -------------------------------------------------- thread per session */

static void *session_thread(void *arg)
{
  long *ok = arg;
  mail_smtp *s;
  mail_smtp_envelope *e;
  if (mail_smtp_new(&s, NULL) || mail_smtp_envelope_new(&e, NULL))
    return NULL;
  mail_smtp_set_client_name(s, "bench.libmail.test");
  mail_smtp_envelope_set_from(e, FROM);
  mail_smtp_envelope_add_recipient(e, TO, NULL);
  mail_smtp_envelope_set_body_data(e, msg, mlen);
  if (mail_smtp_connect(s, host, port, MAIL_SECURITY_NONE_INSECURE) == MAIL_OK) {
    int i = 0;
    while (i < per && mail_smtp_send(s, e) == MAIL_OK &&
           mail_smtp_envelope_recipient_code(e, 0) == 250)
      i++;
    if (i == per && mail_smtp_quit(s) == MAIL_OK)
      *ok = i;
  }
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  return NULL;
}

static int run_threads(size_t n)
{
  pthread_t *th = calloc(n, sizeof *th);
  long *ok = calloc(n, sizeof *ok);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 256 * 1024);
  double t0 = now_s();
  for (size_t i = 0; i < n; i++)
    if (pthread_create(&th[i], &at, session_thread, &ok[i]))
      return 1;
  long sum = 0;
  for (size_t i = 0; i < n; i++) {
    pthread_join(th[i], NULL);
    sum += ok[i];
  }
  double t = now_s() - t0;
  if (sum != (long)(n * (size_t)per)) {
    fprintf(stderr, "threads: %ld of %zu messages\n", sum, n * (size_t)per);
    return 1;
  }
  free(th);
  free(ok);
  report("threads", sum, t);
  return 0;
}

/* ------------------------------------------------------- libcurl multi */

#if BENCH_WITH_CURL
typedef struct cjob {
  CURL *easy;
  size_t pos;
  int sent;
} cjob;

static int ep;
static long curl_timeout = -1;

static size_t c_read(char *buf, size_t size, size_t nitems, void *user)
{
  cjob *j = user;
  size_t k = mlen - j->pos;
  if (k > size * nitems)
    k = size * nitems;
  memcpy(buf, msg + j->pos, k);
  j->pos += k;
  return k;
}

static int c_socket(CURL *e, curl_socket_t s, int what, void *u, void *sp)
{
  (void)e, (void)u;
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.data.fd = s;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
  if (epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  (void)sp;
  return 0;
}

static int c_timer(CURLM *m, long ms, void *u)
{
  (void)m, (void)u;
  curl_timeout = ms;
  return 0;
}

static int run_curl(size_t n)
{
  curl_global_init(CURL_GLOBAL_DEFAULT);
  ep = epoll_create1(0);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, c_socket);
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, c_timer);
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 16);
  char url[128];
  snprintf(url, sizeof url, "smtp://%s:%u/bench.libmail.test", host, port);
  struct curl_slist *rcpt = curl_slist_append(NULL, "<" TO ">");
  cjob *jobs = calloc(n, sizeof *jobs);
  double t0 = now_s();
  for (size_t i = 0; i < n; i++) {
    CURL *e = curl_easy_init();
    jobs[i].easy = e;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, "<" FROM ">");
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, c_read);
    curl_easy_setopt(e, CURLOPT_READDATA, &jobs[i]);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_INFILESIZE, (long)mlen);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &jobs[i]);
    curl_multi_add_handle(m, e);
  }
  int running = 1;
  long done = 0;
  curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
  struct epoll_event evs[256];
  while (done < (long)(n * (size_t)per)) {
    int k = epoll_wait(ep, evs, 256, curl_timeout < 0 ? 1000 : (int)curl_timeout);
    if (k == 0)
      curl_multi_socket_action(m, CURL_SOCKET_TIMEOUT, 0, &running);
    for (int i = 0; i < k; i++) {
      int f = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
              (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
              (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(m, evs[i].data.fd, f, &running);
    }
    CURLMsg *cm;
    int left;
    while ((cm = curl_multi_info_read(m, &left))) {
      if (cm->msg != CURLMSG_DONE)
        continue;
      cjob *j;
      curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, (char **)&j);
      long code = 0;
      curl_easy_getinfo(cm->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      if (cm->data.result != CURLE_OK || code != 250) {
        fprintf(stderr, "curl: %s (%ld)\n", curl_easy_strerror(cm->data.result), code);
        return 1;
      }
      done++;
      curl_multi_remove_handle(m, j->easy);
      if (++j->sent < per) {
        j->pos = 0;
        curl_multi_add_handle(m, j->easy); /* the next message, on its cached connection */
      }
    }
  }
  /* QUIT on every connection: closing the multi's connection cache. */
  for (size_t i = 0; i < n; i++)
    curl_easy_cleanup(jobs[i].easy);
  curl_multi_cleanup(m);
  double t = now_s() - t0;
  curl_slist_free_all(rcpt);
  free(jobs);
  curl_global_cleanup();
  report("curl-multi", done, t);
  return 0;
}
#endif

/* --------------------------------------------------- idle memory */

static long rss_kib(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, res = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
      res = 0;
    fclose(f);
  }
  return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int run_idle(size_t n)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  long rss0 = rss_kib();
  mail_loop *loop;
  if (mail_loop_new(&loop, &t.hooks))
    return 1;
  loop_jobs_conf c = conf();
  c.alloc = &t.hooks;
  c.messages = 0;
  loop_jobs js;
  /* The barrier: the run stops with every session connected and its
   * second operation (QUIT, no messages) not yet called. */
  if (loop_jobs_start(&js, loop, n, &c, 1))
    return 1;
  while (js.connected < n)
    if (mail_loop_run_once(loop, -1))
      return 1;
  /* The second operations are registered; the sessions are idle. */
  size_t heap = t.live_bytes;
  long rss = rss_kib() - rss0;
  printf("| %zu idle SMTP sessions on one mail_loop | %.1f KiB libmail heap each (loop included) "
         "| %.1f KiB RSS each |\n",
         n, (double)heap / (double)n / 1024, (double)rss / (double)n);
  if (mail_loop_run(loop) || js.ok_jobs != n)
    return 1;
  loop_jobs_free(&js);
  mail_loop_free(loop);
  return 0;
}

int main(int argc, char **argv)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  make_msg();
  if (argc == 5 && !strcmp(argv[1], "idle")) {
    host = argv[3];
    port = (unsigned)atoi(argv[4]);
    return run_idle((size_t)atol(argv[2]));
  }
  if (argc != 6)
    return 2;
  size_t n = (size_t)atol(argv[2]);
  per = atoi(argv[3]);
  host = argv[4];
  port = (unsigned)atoi(argv[5]);
  if (!strcmp(argv[1], "loop"))
    return run_loop(n, MAIL_LOOP_BACKEND_EPOLL, "loop");
  if (!strcmp(argv[1], "loop-poll"))
    return run_loop(n, MAIL_LOOP_BACKEND_POLL, "loop-poll");
  if (!strcmp(argv[1], "threads"))
    return run_threads(n);
#if BENCH_WITH_CURL
  if (!strcmp(argv[1], "curl"))
    return run_curl(n);
#endif
  return 2;
}

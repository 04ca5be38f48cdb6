/*
 * 200 IMAP sessions IDLE at once on one thread (mail/loop.h), against the
 * real Dovecot, each woken by a delivery: every session connects, logs
 * in as bob, selects INBOX and IDLEs; once every one of them has read the
 * server's "+", an LMTP session in the same loop delivers one message
 * with a unique Message-ID over Dovecot's LMTP socket. An EXISTS above
 * the count the session started from asks its IDLE to stop
 * (mail_imap_idle_stop(): the wake fd the loop polls); the session then
 * searches for the Message-ID and logs out when it is there. A message
 * another test delivered meanwhile means another IDLE, never a failure.
 * All 200 must find it. A second case runs two sessions on a 1 s IDLE
 * interval and checks that the loop re-issued IDLE on its deadline
 * before the delivery came.
 *
 * Nothing sleeps: each wait is the loop's, bounded by one generous
 * deadline (a timer that stops the loop and fails the test).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/loop.h>
#include <mail/smtp.h>

#include "plus_lines.h"
#include "servers_env.h"

#define DEADLINE_MS 180000

/* DEADLINE_MS is generous for the 200 logins of a loaded 2-CPU machine
 * (about 10 s there). Under valgrind the one thread that does them all is
 * 20-50 times slower (90-115 s measured to reach "all idling" on a loaded
 * machine): the guard scales with CK_TIMEOUT_MULTIPLIER, as check's own
 * timeout of this test does (tests/valgrind-wrap.sh sets it). */
static int64_t deadline_ms(void)
{
  const char *m = getenv("CK_TIMEOUT_MULTIPLIER");
  double k = m ? strtod(m, NULL) : 1;
  return (int64_t)(DEADLINE_MS * (k > 1 ? k : 1));
}

enum { P_CONNECT, P_LOGIN, P_SELECT, P_IDLE, P_SEARCH, P_LOGOUT, P_END };

typedef struct idler idler;

typedef struct fleet {
  mail_loop *loop;
  idler *v;
  size_t n;
  size_t idling;      /* sessions that have read their first "+" */
  size_t found;       /* sessions that found the message */
  int delivered;      /* the LMTP delivery has been started */
  int wait_reissue;   /* deliver only once every session has sent IDLE twice */
  int delivery_status;
  int expired;
  char token[128];
  char user[32], pass[32], addr[32]; /* servers.env keys of the user */
  mail_smtp *lmtp;
  mail_smtp_envelope *env;
  char body[512];
  int lmtp_phase;
} fleet;

struct idler {
  fleet *f;
  mail_imap *im;
  int phase;
  mail_test_lines lines;      /* followed in every phase */
  int idling, counted;       /* the "+" line of the current IDLE */
  int stop_asked;
  int idle_sends;            /* IDLE commands sent (re-issues included) */
  int sends_round;           /* IDLEs sent in the IDLE operation under way */
  int reissued;              /* one operation sent a second IDLE: its deadline came */
  uint64_t floor;
  uint64_t uidnext;          /* UIDNEXT at SELECT: the delivery's UID is at least this */
  int hits;                  /* SEARCH results seen */
  int searching;             /* a SEARCH is under way */
  int grew;                  /* an EXISTS came during it */
  int rounds;                /* IDLEs that ended */
  int status;
};

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  idler *w = user;
  if (dir == MAIL_TRACE_SEND && len >= 6 && !memcmp(data + len - 6, "IDLE\r\n", 6)) {
    w->idle_sends++;
    /* A second IDLE before the operation ended is the re-issue (a wake by
     * someone else's mail ends the operation instead). */
    if (++w->sends_round >= 2)
      w->reissued = 1;
  }
  if (dir == MAIL_TRACE_RECV && mail_test_plus_lines(&w->lines, data, len) &&
      w->phase == P_IDLE)
    w->idling = 1; /* the whole "+" line is in */
}

static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  idler *w = user;
  (void)trusted;
  int type = mail_imap_response_type(r);
  uint64_t count = 0;
  mail_imap_mailbox_number(&count, w->im, MAIL_IMAP_MAILBOX_EXISTS);
  if (type == MAIL_IMAP_TYPE_EXPUNGE && count < w->floor) {
    w->floor = count;
  } else if (type == MAIL_IMAP_TYPE_EXISTS && count > w->floor && w->phase == P_IDLE &&
             !w->stop_asked) {
    w->stop_asked = 1;
    mail_imap_idle_stop(w->im); /* wakes the loop through the wake fd */
  } else if (type == MAIL_IMAP_TYPE_SEARCH) {
    size_t n = 0;
    mail_imap_response_numbers(r, &n);
    w->hits += (int)n;
  }
  if (type == MAIL_IMAP_TYPE_EXISTS && w->searching)
    w->grew = 1;
  return 0;
}

/* The LMTP delivery, one chained step in the same loop. */
static int lmtp_step(void *user, mail_conn *conn)
{
  fleet *f = user;
  (void)conn;
  int rc = MAIL_OK;
  while (rc == MAIL_OK && f->lmtp_phase < 3) {
    switch (f->lmtp_phase) {
    case 0:
      rc = mail_smtp_connect_unix(f->lmtp, mail_test_env("MAIL_TEST_LMTP_SOCKET"));
      break;
    case 1:
      rc = mail_smtp_send(f->lmtp, f->env);
      break;
    case 2:
      rc = mail_smtp_quit(f->lmtp);
      break;
    }
    if (rc == MAIL_OK)
      f->lmtp_phase++;
  }
  return rc;
}

static void lmtp_done(void *user, int status)
{
  ((fleet *)user)->delivery_status = status;
}

static double secs(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double t_start;

static void deliver(fleet *f)
{
  fprintf(stderr, "%.2f s: all %zu sessions idling, delivering\n", secs() - t_start, f->n);
  f->delivered = 1;
  f->delivery_status = MAIL_ERR_AGAIN;
  ck_assert_int_eq(mail_smtp_new(&f->lmtp, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_lmtp(f->lmtp, 1), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_new(&f->env, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(f->env, mail_test_env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(f->env, mail_test_env(f->addr), NULL),
                   MAIL_OK);
  snprintf(f->body, sizeof f->body,
           "From: <%s>\r\nTo: <%s>\r\nSubject: wake the idlers\r\nMessage-ID: <%s>\r\n\r\n"
           "One delivery, %zu sessions woken.\r\n",
           mail_test_env("MAIL_TEST_ADDR1"), mail_test_env(f->addr), f->token, f->n);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(f->env, f->body, strlen(f->body)), MAIL_OK);
  ck_assert_int_eq(mail_loop_add(NULL, f->loop, mail_smtp_conn(f->lmtp), lmtp_step, lmtp_done, f),
                   MAIL_OK);
}

static int idler_call(idler *w)
{
  fleet *f = w->f;
  switch (w->phase) {
  case P_CONNECT:
    return mail_imap_connect(w->im, mail_test_env("MAIL_TEST_HOST"),
                             (unsigned)mail_test_env_long("MAIL_TEST_IMAP_PORT", 12143),
                             MAIL_SECURITY_NONE_INSECURE);
  case P_LOGIN:
    return mail_imap_login(w->im);
  case P_SELECT: {
    int rc = mail_imap_select(w->im, "INBOX", 0);
    if (rc == MAIL_OK) {
      mail_imap_mailbox_number(&w->floor, w->im, MAIL_IMAP_MAILBOX_EXISTS);
      mail_imap_mailbox_number(&w->uidnext, w->im, MAIL_IMAP_MAILBOX_UIDNEXT);
    }
    return rc;
  }
  case P_IDLE: {
    int rc = mail_imap_idle_start(w->im);
    if (w->idling && !w->counted) {
      w->counted = 1;
      f->idling++;
    }
    if (f->idling == f->n && !f->delivered) {
      int ready = 1;
      for (size_t i = 0; f->wait_reissue && i < f->n; i++)
        ready &= f->v[i].reissued;
      if (ready)
        deliver(f);
    }
    if (rc == MAIL_OK) {
      w->rounds++;
      w->sends_round = 0;
      w->stop_asked = 0;
      w->idling = 0;
    }
    return rc;
  }
  case P_SEARCH: {
    const char *args[1] = {f->token};
    uint64_t after = 0;
    if (!w->searching) { /* a new search, not the resumption of one */
      w->searching = 1;
      w->grew = 0;
      w->hits = 0;
    }
    /* Only the messages that came since the SELECT: the mailbox is shared
     * with other tests and keeps growing across runs. By UID, not by
     * message number: other sessions expunge here meanwhile, and an
     * EXPUNGE of an older message that comes with the wake (after the
     * delivery's EXISTS, with a later one's) moves the delivery below any
     * number counted from the IDLE's start. */
    char criteria[64];
    snprintf(criteria, sizeof criteria, "UID %llu:* HEADER Message-ID ?",
             (unsigned long long)w->uidnext);
    int rc = mail_imap_search(w->im, 1, NULL, criteria, args, 1);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    w->searching = 0;
    if (rc != MAIL_OK)
      return rc;
    if (w->hits) {
      f->found++;
      return MAIL_OK;
    }
    mail_imap_mailbox_number(&after, w->im, MAIL_IMAP_MAILBOX_EXISTS);
    /* More came during the search (its EXISTS is not announced again by
     * the next IDLE): look again. Any EXISTS, not a count above the one
     * the search began with: an EXPUNGE of someone else's message in the
     * same moment leaves the count where it was. */
    if (w->grew)
      return idler_call(w);
    /* Another delivery woke us: IDLE again from the count we have now
     * (the step moves on to the phase after this one). */
    w->floor = after;
    w->phase = P_IDLE - 1;
    return MAIL_OK;
  }
  case P_LOGOUT:
    return mail_imap_logout(w->im);
  }
  return MAIL_OK;
}

static int idler_step(void *user, mail_conn *conn)
{
  idler *w = user;
  (void)conn;
  for (;;) {
    int rc = idler_call(w);
    if (rc != MAIL_OK)
      return rc;
    if (++w->phase == P_END)
      return MAIL_OK;
  }
}

static void idler_done(void *user, int status)
{
  idler *w = user;
  w->status = status;
  if (status != MAIL_OK)
    fprintf(stderr, "idler %zu phase %d: %s (%s)\n", (size_t)(w - w->f->v), w->phase,
            mail_strerror(status), mail_conn_last_error(mail_imap_conn(w->im)));
}

static fleet *expire_ctx;

static void expire(void *user)
{
  (void)user;
  expire_ctx->expired = 1;
  mail_loop_stop(expire_ctx->loop);
}

static void run_fleet(size_t n, int idle_interval_ms, int backend, int user)
{
  fleet f;
  memset(&f, 0, sizeof f);
  snprintf(f.user, sizeof f.user, "MAIL_TEST_USER%d", user);
  snprintf(f.pass, sizeof f.pass, "MAIL_TEST_PASS%d", user);
  snprintf(f.addr, sizeof f.addr, "MAIL_TEST_ADDR%d", user);
  f.n = n;
  f.wait_reissue = idle_interval_ms != 0;
  snprintf(f.token, sizeof f.token, "loop-idle-%ld-%ld-%zu@libmail.test", (long)getpid(),
           (long)time(NULL), n);
  ck_assert_int_eq(mail_loop_new_backend(&f.loop, NULL, backend), MAIL_OK);
  f.v = calloc(n, sizeof *f.v);
  ck_assert_ptr_nonnull(f.v);
  for (size_t i = 0; i < n; i++) {
    idler *w = &f.v[i];
    w->f = &f;
    w->status = MAIL_ERR_AGAIN;
    ck_assert_int_eq(mail_imap_new(&w->im, NULL), MAIL_OK);
    ck_assert_int_eq(mail_imap_set_auth(w->im, mail_test_env(f.user), mail_test_env(f.pass)),
                     MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_allow_insecure_plaintext(mail_imap_sasl(w->im), 1), MAIL_OK);
    ck_assert_int_eq(mail_imap_set_untagged_callback(w->im, on_untagged, w), MAIL_OK);
    ck_assert_int_eq(mail_conn_set_trace(mail_imap_conn(w->im), on_trace, w), MAIL_OK);
    /* Generous: 200 logins at once on a loaded 2-CPU machine. */
    ck_assert_int_eq(mail_conn_set_timeout(mail_imap_conn(w->im), MAIL_TIMEOUT_CONNECT, 120000),
                     MAIL_OK);
    ck_assert_int_eq(mail_conn_set_timeout(mail_imap_conn(w->im), MAIL_TIMEOUT_IO, 120000),
                     MAIL_OK);
    if (idle_interval_ms)
      ck_assert_int_eq(mail_imap_set_idle_interval(w->im, idle_interval_ms), MAIL_OK);
    ck_assert_int_eq(mail_loop_add(NULL, f.loop, mail_imap_conn(w->im), idler_step, idler_done, w),
                     MAIL_OK);
  }
  expire_ctx = &f;
  t_start = secs();
  mail_loop_timer *deadline;
  ck_assert_int_eq(mail_loop_add_timer(&deadline, f.loop, deadline_ms(), expire, NULL), MAIL_OK);
  /* Returns when the deadline timer is the only thing left, or on expiry. */
  while (!f.expired && mail_loop_pending(f.loop) > 1) {
    int rc = mail_loop_run_once(f.loop, -1);
    ck_assert_msg(rc == MAIL_OK || (rc == MAIL_ERR_CANCELLED && f.expired), "%s",
                  mail_strerror(rc));
  }
  ck_assert_msg(!f.expired, "deadline: %zu of %zu idling, %zu found, delivery %s", f.idling, n,
                f.found, f.delivered ? mail_strerror(f.delivery_status) : "not started");
  mail_loop_cancel_timer(deadline);
  ck_assert_int_eq(f.delivery_status, MAIL_OK);
  ck_assert_uint_eq(f.idling, n);
  ck_assert_uint_eq(f.found, n);
  int reissued = 0;
  for (size_t i = 0; i < n; i++) {
    ck_assert_msg(f.v[i].status == MAIL_OK, "idler %zu: %s", i, mail_strerror(f.v[i].status));
    ck_assert_int_ge(f.v[i].rounds, 1);
    reissued += f.v[i].reissued;
    mail_imap_free(f.v[i].im);
  }
  if (idle_interval_ms)
    ck_assert_msg(reissued > 0, "no IDLE was re-issued on its deadline");
  fprintf(stderr, "%.2f s: %zu IDLE sessions in one thread (%s), all woken by one LMTP delivery\n",
          secs() - t_start, n, backend == MAIL_LOOP_BACKEND_EPOLL ? "epoll" : "poll");
  free(f.v);
  mail_smtp_envelope_free(f.env);
  mail_smtp_free(f.lmtp);
  mail_loop_free(f.loop);
}

START_TEST(two_hundred_idlers)
{
  run_fleet(200, 0, MAIL_LOOP_BACKEND_EPOLL, 2);
}
END_TEST

START_TEST(idle_reissued_from_the_loop)
{
  /* A 1 s interval, and the delivery held back until both sessions have
   * re-issued their IDLE: the re-issue came from the loop's deadline. As
   * the user "notify", whose INBOX no other test delivers to, so that a
   * second of quiet comes. */
  run_fleet(2, 1000, MAIL_LOOP_BACKEND_POLL, 5);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  Suite *s = suite_create("loop-idle");
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, two_hundred_idlers);
  tcase_add_test(tc, idle_reissued_from_the_loop);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

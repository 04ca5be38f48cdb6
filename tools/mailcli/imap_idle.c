/* imap URL idle [MAILBOX]: IDLE in the mailbox (INBOX by default, opened
 * read-only) and print what the server reports (EXISTS, EXPUNGE, FETCH
 * flag changes, ...) as it comes, one line each (with --json, one object
 * each, as `imap parse` prints them), until SIGINT or SIGTERM, or for
 * --timeout SECONDS. Either ends the IDLE cleanly: a thread of its own
 * waits for the signal (blocked everywhere else) or the time and calls
 * mail_imap_idle_stop(), the session's one thread-safe call; the session
 * then sends DONE, reads the tagged OK and logs out. Exit 0 then. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "imap_json.h"
#include "imap_session.h"

typedef struct stopper {
  mail_imap *im;
  sigset_t signals;
  int timeout_s;  /* 0: none */
  int got_signal; /* read after the join */
} stopper;

static void *wait_for_stop(void *arg)
{
  stopper *s = arg;
  int sig;
  if (s->timeout_s) {
    struct timespec ts = {s->timeout_s, 0};
    sig = sigtimedwait(&s->signals, NULL, &ts);
  } else {
    while (sigwait(&s->signals, &sig) != 0)
      ;
  }
  s->got_signal = sig > 0 ? sig : 0;
  mail_imap_idle_stop(s->im);
  return NULL;
}

static void print_event(const mail_imap_response *r)
{
  int type = mail_imap_response_type(r);
  uint32_t n = 0;
  size_t len;
  const char *s;
  mail_imap_response_number(r, &n);
  switch (type) {
  case MAIL_IMAP_TYPE_EXISTS: printf("%" PRIu32 " EXISTS\n", n); break;
  case MAIL_IMAP_TYPE_RECENT: printf("%" PRIu32 " RECENT\n", n); break;
  case MAIL_IMAP_TYPE_EXPUNGE: printf("%" PRIu32 " EXPUNGE\n", n); break;
  case MAIL_IMAP_TYPE_FETCH: {
    uint64_t uid;
    printf("%" PRIu32 " FETCH", n);
    if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) == MAIL_OK)
      printf(" UID %" PRIu64, uid);
    if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS)) {
      fputs(" FLAGS (", stdout);
      for (size_t i = 0; i < mail_imap_fetch_flag_count(r); i++) {
        s = mail_imap_fetch_flag(r, i, &len);
        printf("%s%.*s", i ? " " : "", (int)len, s);
      }
      putchar(')');
    }
    putchar('\n');
    break;
  }
  case MAIL_IMAP_TYPE_VANISHED:
    s = mail_imap_response_set(r, &len);
    printf("VANISHED %.*s\n", s ? (int)len : 3, s ? s : "...");
    break;
  case MAIL_IMAP_TYPE_OK:
  case MAIL_IMAP_TYPE_NO:
  case MAIL_IMAP_TYPE_BAD:
  case MAIL_IMAP_TYPE_BYE: {
    static const char *const names[] = {"", "OK", "NO", "BAD", "", "BYE"};
    size_t cn;
    const char *code = mail_imap_response_code_name(r, &cn);
    s = mail_imap_response_text(r, &len);
    printf("%s", names[type]);
    if (code)
      printf(" [%.*s]", (int)cn, code);
    printf(" %.*s\n", (int)len, s);
    break;
  }
  default:
    s = mail_imap_response_text(r, &len);
    printf("%.*s\n", (int)len, s);
    break;
  }
}

static int on_event(imap_ctx *x, const mail_imap_response *r)
{
  if (mail_imap_response_kind(r) == MAIL_IMAP_KIND_CONTINUATION)
    return 0;
  if (x->o->json)
    imap_json_response(stdout, r);
  else
    print_event(r);
  fflush(stdout);
  return 0;
}

int imap_do_idle(imap_ctx *x)
{
  const char *mailbox = x->c->npos ? x->c->pos[0] : "INBOX";
  int code = cli_imap_select(x->im, mailbox, 1);
  if (code)
    return code;
  if (!mail_imap_has_capability(x->im, "IDLE") && !mail_imap_has_capability(x->im, "IMAP4rev2")) {
    mail_imap_logout(x->im);
    return cli_fail(EXIT_REFUSED, "IDLE", "the server does not offer IDLE");
  }
  stopper st;
  memset(&st, 0, sizeof st);
  st.im = x->im;
  st.timeout_s = x->o->timeout_s;
  sigemptyset(&st.signals);
  sigaddset(&st.signals, SIGINT);
  sigaddset(&st.signals, SIGTERM);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &st.signals, &old);
  pthread_t thread;
  if ((errno = pthread_create(&thread, NULL, wait_for_stop, &st)) != 0) {
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    mail_imap_logout(x->im);
    return cli_fail(EXIT_INPUT, "IDLE", "a thread: %s", strerror(errno));
  }
  x->on = on_event;
  cli_trace_note("idling in %s until SIGINT or SIGTERM%s", mailbox,
                 st.timeout_s ? " or the --timeout" : "");
  int rc = mail_imap_idle_start(x->im);
  x->on = NULL;
  /* The IDLE may have ended otherwise (a BYE, a broken connection): wake
   * the thread so that it can be joined; its stop then finds no IDLE. */
  pthread_kill(thread, SIGTERM);
  pthread_join(thread, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc)
    return cli_imap_fail(x->im, rc, "IDLE");
  if (st.got_signal)
    cli_trace_note("stopped by %s", st.got_signal == SIGINT ? "SIGINT" : "SIGTERM");
  return EXIT_OK;
}

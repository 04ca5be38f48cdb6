/* IDLE on a user's INBOX in the real Dovecot, woken by a message that
 * goes the whole way a user's mail goes: built with the MIME builder,
 * submitted by libmail's SMTP client to Postfix's submission port
 * (STARTTLS, then AUTH), queued by Postfix and delivered by it: over LMTP
 * to Dovecot (ASCII mail, over IMAPS), or by virtual(8) into the maildir
 * Dovecot watches (mail that needs SMTPUTF8, over STARTTLS, once the
 * IDLE has been re-issued twice on a 1 s interval). The IDLE runs from an
 * event loop on one thread; the message is submitted once the server's
 * "+" has been read, and the test waits for
 * events (the EXISTS, then the IDLE's tagged OK), each wait bounded by one
 * generous deadline instead of sleeping. Other tests and processes
 * deliver to the same INBOX meanwhile: an EXISTS that is not this
 * message's (found by its unique Message-ID) means another look and
 * another IDLE, never a failure. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/mime_build.h>
#include <mail/smtp.h>

#include "imap_it.h"
#include "plus_lines.h"
#include "servers_env.h"

/* Postfix queues, then its LMTP client delivers: well under a second
 * here, but a loaded machine (or Postfix's queue manager waking late)
 * may take much longer; the test only ends early, never late. */
#define DEADLINE_MS 90000

typedef struct watch {
  mail_imap *im;
  mail_test_lines lines; /* followed throughout, not only in IDLE */
  int in_idle;      /* inside the IDLE operation (mail_imap_idle_start() calls) */
  int idling;       /* the whole "+" line of the current IDLE is in */
  int stop_asked;   /* an EXISTS asked this IDLE to end */
  int woke_in_idle; /* ... and it arrived after the "+" */
  int changed;      /* an EXISTS arrived outside IDLE (during a SEARCH) */
  uint64_t floor;   /* the lowest message count since this IDLE began */
  int idle_sends;   /* IDLE commands sent (re-issues included) */
  uint32_t uids[4];
  size_t nuids;
  char received[2048];
} watch;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  watch *w = user;
  if (dir == MAIL_TRACE_SEND && len >= 6 && !memcmp(data + len - 6, "IDLE\r\n", 6))
    w->idle_sends++;
  if (dir == MAIL_TRACE_RECV && mail_test_plus_lines(&w->lines, data, len) && w->in_idle)
    w->idling = 1;
}

/* EXISTS above the lowest count since the IDLE began means a new
 * message (EXPUNGEs by other sessions, POP3 tests among them, lower the
 * count meanwhile). */
static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  watch *w = user;
  ck_assert(trusted);
  int type = mail_imap_response_type(r);
  uint64_t count = 0;
  mail_imap_mailbox_number(&count, w->im, MAIL_IMAP_MAILBOX_EXISTS);
  if (type == MAIL_IMAP_TYPE_EXPUNGE && count < w->floor) {
    w->floor = count;
  } else if (type == MAIL_IMAP_TYPE_EXISTS && count > w->floor) {
    if (!w->in_idle) {
      w->changed = 1;
    } else if (!w->stop_asked) {
      w->stop_asked = 1;
      w->woke_in_idle = w->idling;
      mail_imap_idle_stop(w->im); /* ends the IDLE at the loop's next call */
    }
  } else if (type == MAIL_IMAP_TYPE_SEARCH) {
    size_t n;
    const uint32_t *u = mail_imap_response_numbers(r, &n);
    for (size_t i = 0; i < n && w->nuids < 4; i++)
      w->uids[w->nuids++] = u[i];
  }
  return 0;
}

static int on_header(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                     const unsigned char *d, size_t n)
{
  watch *w = user;
  (void)s;
  size_t have = strlen(w->received);
  if (ev == MAIL_IMAP_BODY_DATA && have + n < sizeof w->received) {
    memcpy(w->received + have, d, n);
    w->received[have + n] = 0;
  }
  return 0;
}

/* Submission with STARTTLS and AUTH as alice, to user 3 (cedric). A
 * non-ASCII display name makes the message need SMTPUTF8, which Postfix
 * hands to virtual(8) (Dovecot 2.3's LMTP lacks it: see postfix-main.cf.in);
 * ASCII mail goes to Dovecot's LMTP. */
static void submit(const char *token, int utf8)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  imap_it_trust(mail_smtp_conn(s));
  ck_assert_int_eq(mail_smtp_set_auth(s, mail_test_env("MAIL_TEST_USER1"),
                                      mail_test_env("MAIL_TEST_PASS1")),
                   MAIL_OK);
  int rc = mail_smtp_connect(s, mail_test_env("MAIL_TEST_HOSTNAME"),
                             (unsigned int)mail_test_env_long("MAIL_TEST_SUBMISSION_PORT", 12587),
                             MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "submission: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)));
  ck_assert(mail_conn_is_verified(mail_smtp_conn(s)));
  rc = mail_smtp_auth(s);
  ck_assert_msg(rc == MAIL_OK, "AUTH: %s", mail_strerror(rc));

  mail_mime_builder *m = NULL;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Alice", mail_test_env("MAIL_TEST_ADDR1")),
                   MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, utf8 ? "Cédric" : "Cedric",
                                           mail_test_env("MAIL_TEST_ADDR3")),
                   MAIL_OK);
  char subject[160], id[160];
  snprintf(subject, sizeof subject, "idle through Postfix %s", token);
  snprintf(id, sizeof id, "%s@libmail.test", token);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, subject), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_message_id(m, id), MAIL_OK);
  static const char text[] = "Submitted while you were idling.\n";
  ck_assert_int_eq(mail_mime_builder_set_text(m, text, sizeof text - 1), MAIL_OK);
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  rc = mail_smtp_send_mime(s, e, m);
  ck_assert_msg(rc == MAIL_OK, "send: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)));
  ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  mail_smtp_envelope_free(e);
  mail_mime_builder_free(m);
  mail_smtp_free(s);
}

/* reissues: submit only once the IDLE has been re-issued that often (on
 * a 1 s interval), so the message wakes an IDLE that followed a DONE. */
static void run_idle_postfix(int implicit, int utf8, int reissues)
{
  char token[128];
  snprintf(token, sizeof token, "idle-postfix-%d%d-%ld-%lld", implicit, utf8, (long)getpid(),
           (long long)imap_it_now_ms());
  char id[160];
  snprintf(id, sizeof id, "<%s@libmail.test>", token);
  const char *args[] = {id};

  mail_imap *im = imap_it_login(3, implicit, NULL);
  watch w = {.im = im};
  mail_conn_set_trace(mail_imap_conn(im), on_trace, &w);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, &w), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  mail_conn_set_nonblocking(mail_imap_conn(im), 1);
  if (reissues)
    ck_assert_int_eq(mail_imap_set_idle_interval(im, 1000), MAIL_OK);

  int64_t deadline = imap_it_now_ms() + DEADLINE_MS, sent_at = 0, seen_at = 0;
  int submitted = 0, rounds = 0, woke_after_submit = 0, rc;
  while (!w.nuids) {
    ck_assert_int_eq(mail_imap_mailbox_number(&w.floor, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
    w.in_idle = 1;
    w.idling = w.stop_asked = w.woke_in_idle = 0;
    rounds++;
    int in_time = 1, submitted_here = 0;
    while ((rc = mail_imap_idle_start(im)) == MAIL_ERR_AGAIN) {
      /* Idling and not ending: what the server sends from now on comes
       * during this IDLE, and only an EXISTS can end it. */
      if (w.idling && !w.stop_asked && !submitted && w.idle_sends > reissues) {
        submit(token, utf8);
        submitted = submitted_here = 1;
        sent_at = imap_it_now_ms();
      }
      if (!(in_time = imap_it_wait(im, deadline)))
        break;
    }
    if (!in_time) {
      /* End the IDLE cleanly, then fail with what was seen. */
      while ((rc = mail_imap_idle_done(im)) == MAIL_ERR_AGAIN)
        imap_it_wait(im, imap_it_now_ms() + 30000);
      ck_abort_msg("no EXISTS for the submitted message within %d ms (%d IDLEs; see %s)",
                   DEADLINE_MS, rounds, mail_test_env("MAIL_TEST_POSTFIX_LOG"));
    }
    w.in_idle = 0;
    ck_assert_msg(rc == MAIL_OK, "IDLE: %s (%s)", mail_strerror(rc),
                  mail_conn_last_error(mail_imap_conn(im)));
    ck_assert(w.stop_asked);
    if (submitted_here) {
      ck_assert(w.woke_in_idle);
      woke_after_submit = 1;
    }
    seen_at = imap_it_now_ms();
    /* Look for it; again while new messages come during the look (one of
     * them may be it, with its EXISTS already counted). */
    do {
      w.changed = 0;
      while ((rc = mail_imap_search(im, 1, NULL, "HEADER Message-ID ?", args, 1)) ==
             MAIL_ERR_AGAIN)
        ck_assert(imap_it_wait(im, deadline));
      ck_assert_int_eq(rc, MAIL_OK);
    } while (!w.nuids && w.changed);
  }
  ck_assert(woke_after_submit);
  ck_assert_int_gt(w.idle_sends, reissues);
  ck_assert_uint_eq(w.nuids, 1);
  mail_conn_set_nonblocking(mail_imap_conn(im), 0);
  mail_conn_set_trace(mail_imap_conn(im), NULL, NULL);

  /* It came through Postfix's submission service, over TLS and
   * authenticated ("ESMTPSA", RFC 3848; "UTF8SMTPSA", RFC 6531), and on
   * to Dovecot's LMTP (which adds its own Received) or virtual(8). */
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add(set, w.uids, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_fetch(im, set, 1, "(BODY.PEEK[HEADER.FIELDS (Received Subject)])",
                                   on_header, &w),
                   MAIL_OK);
  ck_assert_msg(strstr(w.received, utf8 ? "with UTF8SMTPSA" : "with ESMTPSA") &&
                    (utf8 || strstr(w.received, "with LMTP")) && strstr(w.received, token),
                "headers: %s", w.received);

  static const char *const del[] = {"\\Deleted"};
  ck_assert_int_eq(mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_uid_expunge(im, set), MAIL_OK);
  mail_imap_seqset_free(set);
  imap_it_logout(im);
  fprintf(stderr,
          "idle-postfix (%s, %s): EXISTS %lld ms after the submission, %d IDLE(s), %d IDLE "
          "command(s)\n",
          implicit ? "IMAPS" : "STARTTLS", utf8 ? "SMTPUTF8, virtual(8)" : "ASCII, LMTP",
          (long long)(seen_at - sent_at), rounds, w.idle_sends);
}

START_TEST(test_idle_postfix_imaps)
{
  run_idle_postfix(1, 0, 0);
}
END_TEST

START_TEST(test_idle_postfix_starttls)
{
  run_idle_postfix(0, 1, 2);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_idle_postfix_imaps, test_idle_postfix_starttls};
  return imap_it_main("imap-idle-postfix", 240, tests, sizeof tests / sizeof *tests);
}

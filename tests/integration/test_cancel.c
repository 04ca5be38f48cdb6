/* mail_conn_cancel() against the real servers: an LMTP send cancelled in
 * the middle of its data delivers nothing (the next message, delivered
 * synchronously, is there and the cancelled one is not), and a blocking
 * IMAP IDLE cancelled from another thread ends at once with the session
 * disconnected, after which it connects and logs in again. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/smtp.h>

#include "imap_it.h"
#include "maildir.h"
#include "plus_lines.h"
#include "servers_env.h"

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "%s missing from servers.env", key);
  return v;
}

/* A body of headers naming the marker, then lines up to total bytes; the
 * source cancels its own send once `cancel_at` bytes went out. */
typedef struct body_src {
  char head[256];
  size_t head_len, total, pos, cancel_at;
  mail_conn *conn;
} body_src;

static int body_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  body_src *b = user;
  if (b->cancel_at && b->pos >= b->cancel_at)
    mail_conn_cancel(b->conn);
  size_t n = 0;
  while (n < cap && b->pos < b->total) {
    buf[n++] = b->pos < b->head_len ? (unsigned char)b->head[b->pos]
                                    : (b->pos % 64 == 63 ? '\n' : (unsigned char)('a' + b->pos % 26));
    b->pos++;
  }
  *got = n;
  return 0;
}

static int lmtp_send(const char *marker, size_t total, int cancel)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  char url[512];
  snprintf(url, sizeof url, "lmtp://%s", env("MAIL_TEST_LMTP_SOCKET"));
  ck_assert_int_eq(mail_smtp_connect_url(s, url), MAIL_OK);
  body_src b;
  memset(&b, 0, sizeof b);
  b.head_len = (size_t)snprintf(b.head, sizeof b.head,
                                "From: <%s>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s@libmail.test>\n\n",
                                env("MAIL_TEST_ADDR1"), env("MAIL_TEST_ADDR2"), marker, marker);
  b.total = total;
  b.cancel_at = cancel ? total / 4 : 0;
  b.conn = mail_smtp_conn(s);
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, env("MAIL_TEST_ADDR2"), NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_callback(e, body_read, &b, total, 0), MAIL_OK);
  int rc = mail_smtp_send(s, e);
  if (cancel) {
    ck_assert_msg(rc == MAIL_ERR_CANCELLED, "%s: %s", mail_strerror(rc),
                  mail_conn_last_error(mail_smtp_conn(s)));
    ck_assert_str_eq(mail_smtp_state_name(s), "DISCONNECTED");
    /* No recipient is reported delivered. */
    ck_assert_int_ne(mail_smtp_envelope_recipient_status(e, 0), MAIL_OK);
  } else {
    ck_assert_msg(rc == MAIL_OK, "%s: %s", mail_strerror(rc), mail_conn_last_error(mail_smtp_conn(s)));
    ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  }
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  return rc;
}

/* The message file holding needle in bob's maildir, taken out; NULL when
 * none is there. One look can miss a file the server renames during it
 * (another session selecting this INBOX moves it from new/ to cur/, a
 * POP3 RETR or a STORE elsewhere changes its flags), so a few looks. */
static char *take_from_bob(const char *needle, size_t *len)
{
  char *got = NULL;
  for (int tries = 0; tries < 10 && !got; tries++)
    got = mail_test_maildir_take(env("MAIL_TEST_MAILDIR2"), needle, len);
  return got;
}

START_TEST(lmtp_cancelled_in_the_data_delivers_nothing)
{
  char m1[96], m2[96];
  snprintf(m1, sizeof m1, "cancelled-%d-%ld", (int)getpid(), (long)imap_it_now_ms());
  snprintf(m2, sizeof m2, "after-cancel-%d-%ld", (int)getpid(), (long)imap_it_now_ms());
  lmtp_send(m1, 4 << 20, 1);
  /* LMTP delivers before it answers: once the second message is accepted
   * it is in the maildir, and the first, had it been delivered, would be
   * there before it. */
  lmtp_send(m2, 4096, 0);
  size_t len;
  char *got = take_from_bob(m2, &len);
  ck_assert_msg(got != NULL, "the message after the cancel was not delivered");
  free(got);
  got = take_from_bob(m1, &len);
  ck_assert_msg(got == NULL, "the cancelled message was delivered");
}
END_TEST

/* The IDLE's "+" reached the trace: the other thread may cancel now. */
typedef struct idle_watch {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int idling;
  mail_conn *conn;
  mail_test_lines lines;
} idle_watch;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  idle_watch *w = user;
  if (dir == MAIL_TRACE_RECV && mail_test_plus_lines(&w->lines, data, len)) {
    pthread_mutex_lock(&w->mu);
    w->idling = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
  }
}

static void *canceller(void *arg)
{
  idle_watch *w = arg;
  pthread_mutex_lock(&w->mu);
  while (!w->idling)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
  mail_conn_cancel(w->conn);
  return NULL;
}

START_TEST(imap_idle_cancelled_from_another_thread)
{
  mail_imap *im = imap_it_login(1, 1, NULL);
  mail_conn *c = mail_imap_conn(im);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 1), MAIL_OK);
  ck_assert_int_eq(mail_conn_enable_cancel(c), MAIL_OK);
  idle_watch w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, c, {0}};
  ck_assert_int_eq(mail_conn_set_trace(c, on_trace, &w), MAIL_OK);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, canceller, &w), 0);
  int64_t t0 = imap_it_now_ms();
  int rc = mail_imap_idle_start(im); /* blocks until cancelled */
  pthread_join(th, NULL);
  ck_assert_int_eq(rc, MAIL_ERR_CANCELLED);
  ck_assert_int_lt(imap_it_now_ms() - t0, 60000); /* not the re-issue interval */
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_DISCONNECTED);
  mail_conn_set_trace(c, NULL, NULL);
  mail_imap_free(im);
  /* A new session works as before. */
  im = imap_it_login(1, 1, NULL);
  imap_it_logout(im);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {lmtp_cancelled_in_the_data_delivers_nothing,
                                       imap_idle_cancelled_from_another_thread};
  return imap_it_main("cancel", 120, tests, sizeof tests / sizeof tests[0]);
}

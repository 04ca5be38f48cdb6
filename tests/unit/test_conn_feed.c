/*
 * Feed mode (mail_conn_set_feed) at its edges: feeding past the bound,
 * draining through a one-byte buffer, end of stream in the middle of a
 * reply, the caller's I/O failing, deadlines, and every call made in the
 * wrong mode. An SMTP session is the engine; the test is its server.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>

#include "alloc.h"
#include "core/conn_internal.h" /* mail_conn_is_open */

static int64_t now_ms;

static int64_t test_clock(void *user, int which)
{
  (void)user;
  (void)which;
  return now_ms;
}

static const mail_allocator *session_alloc;

static mail_smtp *session(int mode)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, session_alloc), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
  mail_conn *c = mail_smtp_conn(s);
  now_ms = 1000000;
  ck_assert_int_eq(mail_conn_set_clock(c, test_clock, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_feed(c, mode), MAIL_OK);
  return s;
}

/* Everything waiting to be drained, as a string. */
static const char *drain_all(mail_conn *c)
{
  static char out[8192];
  size_t n = 0, got;
  do {
    ck_assert_int_eq(mail_conn_drain(c, (unsigned char *)out + n, sizeof out - 1 - n, &got),
                     MAIL_OK);
    n += got;
  } while (got);
  out[n] = '\0';
  return out;
}

static void feed_str(mail_conn *c, const char *s)
{
  size_t taken = 0;
  ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)s, strlen(s), &taken), MAIL_OK);
  ck_assert_uint_eq(taken, strlen(s));
}

#define GREETING "220 mx.test ESMTP\r\n"
#define EHLO_REPLY "250-mx.test\r\n250 8BITMIME\r\n"

/* Connect as far as the EHLO reply, plain. */
static mail_smtp *connected(void)
{
  mail_smtp *s = session(MAIL_FEED_LIBMAIL_TLS);
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ);
  ck_assert_str_eq(drain_all(c), "");
  feed_str(c, GREETING);
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c) & MAIL_WANT_WRITE, MAIL_WANT_WRITE);
  ck_assert_str_eq(drain_all(c), "EHLO client.test\r\n");
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_READ);
  feed_str(c, EHLO_REPLY);
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_int_eq(mail_conn_want(c), 0);
  return s;
}

START_TEST(session_through_feed_and_drain)
{
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  ck_assert_str_eq(drain_all(c), "NOOP\r\n");
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  feed_str(c, "250 2.0.0 Ok\r\n");
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_OK);
  /* QUIT: its bytes stay drainable after the session closed. */
  int rc;
  while ((rc = mail_smtp_quit(s)) == MAIL_ERR_AGAIN) {
    const char *out = drain_all(c);
    if (*out)
      ck_assert_str_eq(out, "QUIT\r\n");
    else
      feed_str(c, "221 2.0.0 Bye\r\n");
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_str_eq(drain_all(c), "");
  mail_smtp_free(s);
}
END_TEST

/* The connection holds at most max_line unread fed bytes and refuses the
 * rest; the operation reads them and makes room again. */
START_TEST(feed_over_the_bound)
{
  mail_smtp *s = session(MAIL_FEED_LIBMAIL_TLS);
  mail_conn *c = mail_smtp_conn(s);
  mail_limits lim;
  ck_assert_int_eq(mail_limits_init(&lim, MAIL_LIMITS_VERSION), MAIL_OK);
  lim.max_line = 64;
  ck_assert_int_eq(mail_conn_set_limits(c, &lim), MAIL_OK);
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_AGAIN);
  char greeting[2048] = "";
  for (int i = 0; i < 40; i++)
    strcat(greeting, "220-mx.test says hello\r\n");
  strcat(greeting, "220 mx.test ESMTP\r\n");
  size_t len = strlen(greeting), off = 0, taken = 0;
  ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)greeting, len, &taken), MAIL_OK);
  ck_assert_uint_eq(taken, 64);
  off += taken;
  ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)greeting + off, len - off, &taken),
                   MAIL_ERR_AGAIN);
  ck_assert_uint_eq(taken, 0);
  int rounds = 0;
  int rc;
  while ((rc = mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE)) ==
             MAIL_ERR_AGAIN &&
         off < len) {
    ck_assert_int_lt(++rounds, 1000);
    ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)greeting + off, len - off, &taken),
                     MAIL_OK);
    ck_assert_uint_le(taken, 64);
    off += taken;
  }
  ck_assert_int_eq(rc, MAIL_ERR_AGAIN);
  ck_assert_uint_eq(off, len);
  ck_assert_str_eq(drain_all(c), "EHLO client.test\r\n");
  mail_smtp_free(s);
}
END_TEST

/* A one-byte buffer takes the output a byte at a time; WRITE is wanted
 * until the last byte is out. */
START_TEST(drain_with_tiny_buffer)
{
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  char out[16] = "";
  size_t n = 0, got = 0;
  for (;;) {
    unsigned char b;
    int want = mail_conn_want(c);
    ck_assert_int_eq(mail_conn_drain(c, &b, 1, &got), MAIL_OK);
    if (!got) {
      ck_assert_int_eq(want & MAIL_WANT_WRITE, 0);
      break;
    }
    ck_assert_int_eq(want & MAIL_WANT_WRITE, MAIL_WANT_WRITE);
    ck_assert_uint_lt(n, sizeof out - 1);
    out[n++] = (char)b;
  }
  ck_assert_str_eq(out, "NOOP\r\n");
  /* A zero-byte buffer is allowed and takes nothing. */
  ck_assert_int_eq(mail_conn_drain(c, NULL, 0, &got), MAIL_OK);
  ck_assert_uint_eq(got, 0);
  mail_smtp_free(s);
}
END_TEST

START_TEST(eof_mid_reply)
{
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  drain_all(c);
  feed_str(c, "250-half a rep");
  ck_assert_int_eq(mail_conn_feed_eof(c), MAIL_OK);
  size_t taken = 9;
  /* After end of stream nothing more can come. */
  ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)"ly\r\n", 4, &taken), MAIL_ERR_STATE);
  ck_assert_uint_eq(taken, 0);
  int rc = mail_smtp_noop(s);
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)"x", 1, &taken), MAIL_ERR_STATE);
  ck_assert_uint_eq(taken, 0);
  ck_assert_int_eq(mail_conn_feed_eof(c), MAIL_ERR_STATE);
  mail_smtp_free(s);
}
END_TEST

START_TEST(caller_io_error)
{
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_conn_feed_error(c, MAIL_ERR_SERVER), MAIL_ERR_INVALID); /* not fatal */
  ck_assert_int_eq(mail_conn_feed_error(c, MAIL_ERR_IO), MAIL_OK);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_IO);
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(c), "caller's I/O"));
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  mail_smtp_free(s);
}
END_TEST

/* Deadlines work without a descriptor: the caller's loop sees the time
 * left and the operation times out once it passed. */
START_TEST(deadline_in_feed_mode)
{
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  ck_assert_int_eq(mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 5000), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_timeouts(s, 5000, 5000), MAIL_OK);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  drain_all(c);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_AGAIN);
  int64_t left = mail_conn_timeout_ms(c);
  ck_assert(left > 0 && left <= 5000);
  now_ms += left;
  ck_assert_int_eq(mail_conn_timeout_ms(c), 0);
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_TIMEOUT);
  mail_smtp_free(s);
}
END_TEST

/* Bytes held once a session that read a long reply is idle again, the
 * reply fed in pieces of at most chunk bytes. */
static size_t held_after_reply(size_t chunk, size_t *peak)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  session_alloc = mail_test_alloc_hooks(&ta);
  mail_smtp *s = connected();
  mail_conn *c = mail_smtp_conn(s);
  static char reply[64 * 1024];
  reply[0] = '\0';
  for (int i = 0; i < 1200; i++)
    strcat(reply, "250-a long line of a long reply\r\n");
  strcat(reply, "250 done\r\n");
  size_t len = strlen(reply), off = 0, taken;
  int rc;
  while ((rc = mail_smtp_noop(s)) == MAIL_ERR_AGAIN) {
    drain_all(c);
    size_t n = len - off < chunk ? len - off : chunk;
    if (n && mail_conn_feed(c, (const unsigned char *)reply + off, n, &taken) == MAIL_OK)
      off += taken;
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(off, len);
  size_t held = ta.live_bytes;
  *peak = ta.peak_bytes;
  mail_smtp_free(s);
  session_alloc = NULL;
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
  return held;
}

/* Feeding a long reply in big pieces fills the input up to its bound, but
 * once idle the session holds no more than when it was fed line-sized
 * pieces: the input storage was given back (the rest is the session's
 * own: the reply it keeps). */
START_TEST(idle_memory)
{
  size_t peak_big, peak_small;
  size_t big = held_after_reply(64 * 1024, &peak_big);
  size_t small = held_after_reply(40, &peak_small);
  ck_assert_uint_gt(peak_big, peak_small + 32 * 1024); /* it did hold the bound */
  ck_assert_msg(big <= small, "held %zu after big feeds, %zu after small ones", big, small);
  printf("feed mode: idle after a long reply: %zu bytes (fed 64 KiB at a time, peak %zu), "
         "%zu (40 bytes at a time, peak %zu)\n", big, peak_big, small, peak_small);
}
END_TEST

START_TEST(wrong_mode_calls)
{
  mail_conn *c = NULL;
  unsigned char buf[8];
  size_t n = 5;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  /* Not in feed mode. */
  ck_assert_int_eq(mail_conn_feed(c, buf, 1, &n), MAIL_ERR_STATE);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(mail_conn_drain(c, buf, sizeof buf, &n), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_feed_eof(c), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_feed_error(c, MAIL_ERR_IO), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_OK, 1), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_feed_set_channel_binding(c, MAIL_CB_TLS_EXPORTER, buf, 4),
                   MAIL_ERR_STATE);
  /* Bad arguments. */
  ck_assert_int_eq(mail_conn_set_feed(NULL, MAIL_FEED_LIBMAIL_TLS), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_set_feed(c, 3), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_feed(c, NULL, 1, &n), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_feed(c, buf, 1, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_drain(c, NULL, 1, &n), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_drain(c, buf, 1, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_feed_eof(NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_feed_tls_done(NULL, MAIL_OK, 1), MAIL_ERR_INVALID);

  /* In feed mode, not connected yet: nothing to feed, nothing drained. */
  ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_CALLER_TLS), MAIL_OK);
  ck_assert_int_eq(mail_conn_feed(c, buf, 1, &n), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_drain(c, buf, sizeof buf, &n), MAIL_OK);
  ck_assert_uint_eq(n, 0);
  /* Sockets, transports and blocking mode do not mix with it. */
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 0), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_nonblocking(c, 1), MAIL_OK);
  static const mail_transport_ops ops = {.version = 1};
  ck_assert_int_eq(mail_conn_set_transport(c, &ops, NULL), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_connect_unix(c, "/nonexistent"), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_adopt_fd(c, 0, NULL), MAIL_ERR_STATE);

  /* Connected: no TLS was asked for, so there is nothing to answer. */
  ck_assert_int_eq(mail_conn_connect(c, "mx.test", 25, 0), MAIL_OK);
  ck_assert_int_eq(mail_conn_fd(c), -1);
  ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_OK, 1), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_OFF), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_feed_set_channel_binding(c, 99, buf, 4), MAIL_ERR_INVALID);
  unsigned char big[65] = {0};
  ck_assert_int_eq(mail_conn_feed_set_channel_binding(c, MAIL_CB_TLS_EXPORTER, big, sizeof big),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_conn_feed(c, buf, 0, &n), MAIL_OK); /* len 0: fine, nothing taken */
  ck_assert_uint_eq(n, 0);
  mail_conn_close(c);
  ck_assert_int_eq(mail_conn_feed(c, buf, 1, &n), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_conn_set_feed(c, MAIL_FEED_OFF), MAIL_OK);
  ck_assert_int_eq(mail_conn_drain(c, buf, sizeof buf, &n), MAIL_ERR_STATE);
  mail_conn_free(c);

  /* libmail's TLS: the caller's TLS calls do not apply. */
  mail_smtp *s = connected();
  ck_assert_int_eq(mail_conn_feed_tls_done(mail_smtp_conn(s), MAIL_OK, 1), MAIL_ERR_STATE);
  mail_smtp_free(s);
}
END_TEST

/* The caller's TLS: asked for after the go-ahead, bytes fed in the clear
 * before the answer are refused, a failure ends the session. */
/* The go-ahead and plaintext behind it in one feed: STARTTLS injection. */
START_TEST(caller_tls_injection)
{
  mail_smtp *s = session(MAIL_FEED_CALLER_TLS);
  mail_conn *c = mail_smtp_conn(s);
  const char *const server[] = {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 STARTTLS\r\n",
                                "220 2.0.0 go ahead\r\n250 injected\r\n"};
  int rc, step = 0;
  while ((rc = mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_STARTTLS)) == MAIL_ERR_AGAIN) {
    ck_assert_int_eq(mail_conn_want(c) & MAIL_WANT_TLS, 0);
    if (*drain_all(c))
      continue;
    ck_assert_int_lt(step, 3);
    feed_str(c, server[step++]);
  }
  ck_assert_int_eq(rc, MAIL_ERR_STARTTLS_INJECTION);
  ck_assert_int_eq(mail_conn_is_open(c), 0);
  mail_smtp_free(s);
}
END_TEST

START_TEST(caller_tls_request)
{
  for (int variant = 0; variant < 3; variant++) {
    mail_smtp *s = session(MAIL_FEED_CALLER_TLS);
    mail_conn *c = mail_smtp_conn(s);
    int rc;
    int step = 0;
    const char *const server[] = {"220 mx.test ESMTP\r\n", "250-mx.test\r\n250 STARTTLS\r\n",
                                  "220 2.0.0 go ahead\r\n"};
    while ((rc = mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_STARTTLS)) == MAIL_ERR_AGAIN) {
      int want = mail_conn_want(c);
      if (want & MAIL_WANT_TLS)
        break;
      if (*drain_all(c))
        continue;
      ck_assert_int_lt(step, 3);
      feed_str(c, server[step++]);
    }
    ck_assert_int_eq(rc, MAIL_ERR_AGAIN);
    ck_assert_int_eq(mail_conn_want(c), MAIL_WANT_TLS);
    ck_assert(mail_conn_timeout_ms(c) > 0);
    ck_assert_int_eq(mail_conn_is_tls(c), 0);
    if (variant == 0) {
      /* Up and verified: the session goes on, EHLO again inside TLS. */
      ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_OK, 1), MAIL_OK);
      ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_OK, 1), MAIL_ERR_STATE);
      ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_STARTTLS),
                       MAIL_ERR_AGAIN);
      ck_assert_int_eq(mail_conn_is_tls(c), 1);
      ck_assert_int_eq(mail_conn_is_verified(c), 1);
      ck_assert_str_eq(drain_all(c), "EHLO client.test\r\n");
    } else if (variant == 1) {
      ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_ERR_TLS_VERIFY, 0), MAIL_OK);
      ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_STARTTLS),
                       MAIL_ERR_TLS_VERIFY);
      ck_assert_int_eq(mail_conn_is_open(c), 0);
    } else {
      /* Nothing is fed while the caller's TLS starts: such a byte would
       * be neither before TLS nor inside it. */
      size_t taken;
      ck_assert_int_eq(mail_conn_feed(c, (const unsigned char *)"250 injected\r\n", 14, &taken),
                       MAIL_ERR_STATE);
      ck_assert_uint_eq(taken, 0);
      ck_assert_int_eq(mail_conn_feed_tls_done(c, MAIL_ERR_TLS, 0), MAIL_OK);
      ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_STARTTLS), MAIL_ERR_TLS);
      ck_assert_int_eq(mail_conn_is_open(c), 0);
    }
    mail_smtp_free(s);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("conn_feed");
  TCase *tc = tcase_create("feed");
  tcase_add_test(tc, session_through_feed_and_drain);
  tcase_add_test(tc, feed_over_the_bound);
  tcase_add_test(tc, drain_with_tiny_buffer);
  tcase_add_test(tc, eof_mid_reply);
  tcase_add_test(tc, caller_io_error);
  tcase_add_test(tc, deadline_in_feed_mode);
  tcase_add_test(tc, wrong_mode_calls);
  tcase_add_test(tc, idle_memory);
  tcase_add_test(tc, caller_tls_request);
  tcase_add_test(tc, caller_tls_injection);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Unit tests for the SMTP/LMTP reply parser and EHLO capabilities. */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp_reply.h>

#include "core/mem.h"
#include "parse/smtp_reply.h"
#include "alloc.h"
#include "each_alloc.h"

/* ------------------------------------------------------- test helpers */

typedef struct sb {
  char *p;
  size_t len, cap;
} sb;

static void sb_add(sb *s, const char *p, size_t n)
{
  if (s->len + n + 1 > s->cap) {
    s->cap = (s->len + n + 1) * 2;
    s->p = realloc(s->p, s->cap);
    ck_assert_ptr_nonnull(s->p);
  }
  memcpy(s->p + s->len, p, n);
  s->len += n;
  s->p[s->len] = 0;
}

static void sb_addf(sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(sb *s, const char *fmt, ...)
{
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  sb_add(s, tmp, (size_t)n);
}

/* A canonical description of a reply, to compare parses. */
static void describe(sb *s, const mail_smtp_reply *r)
{
  unsigned c, sj, d;
  sb_addf(s, "[%d", mail_smtp_reply_code(r));
  if (mail_smtp_reply_enhanced(r, &c, &sj, &d) == MAIL_OK)
    sb_addf(s, " %u.%u.%u", c, sj, d);
  for (size_t i = 0; i < mail_smtp_reply_line_count(r); i++) {
    size_t len;
    const char *t = mail_smtp_reply_line(r, i, &len);
    ck_assert_uint_eq(strlen(t), len);
    sb_add(s, "|", 1);
    if (mail_smtp_reply_line_enhanced(r, i, &c, &sj, &d) == MAIL_OK)
      sb_addf(s, "<%u.%u.%u>", c, sj, d);
    sb_add(s, t, len);
  }
  sb_add(s, "]", 1);
}

/* Drain every available reply; returns the last status. */
static int drain(mail_smtp_parser *p, sb *s)
{
  const mail_smtp_reply *r;
  int rc;
  while ((rc = mail_smtp_parser_next(p, &r)) == MAIL_OK)
    describe(s, r);
  return rc;
}

/* Parse in pieces at the given cut points (sorted); describe everything
 * and the final status. */
static char *parse_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts, int enhanced)
{
  mail_smtp_parser *p;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  mail_smtp_parser_set_enhanced_codes(p, enhanced);
  sb s = {0};
  size_t at = 0;
  int rc = MAIL_ERR_AGAIN;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : n;
    if (rc == MAIL_ERR_AGAIN || rc == MAIL_OK) {
      int frc = mail_smtp_parser_feed(p, in + at, end - at);
      if (frc)
        rc = frc;
      else
        rc = drain(p, &s);
    }
    at = end;
  }
  sb_addf(&s, "rc=%d", -rc);
  mail_smtp_parser_free(p);
  return s.p;
}

static char *parse_whole(const char *in, size_t n, int enhanced)
{
  return parse_cuts(in, n, NULL, 0, enhanced);
}

/* ------------------------------------------------------------- tests */

START_TEST(single_line)
{
  char *d = parse_whole("250 OK\r\n", 8, 0);
  ck_assert_str_eq(d, "[250|OK]rc=1");
  free(d);
  d = parse_whole("250\r\n354 \r\n221 bye\n", 20, 0);
  ck_assert_str_eq(d, "[250|][354|][221|bye]rc=1");
  free(d);
}
END_TEST

START_TEST(multi_line_and_joined_text)
{
  const char *in = "250-mx.example.org Hello\r\n250-SIZE 1000\r\n250-\r\n250 HELP\r\n";
  mail_smtp_parser *p;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, in, strlen(in)), MAIL_OK);
  const mail_smtp_reply *r;
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_reply_code(r), 250);
  ck_assert_uint_eq(mail_smtp_reply_line_count(r), 4);
  ck_assert_str_eq(mail_smtp_reply_line(r, 0, NULL), "mx.example.org Hello");
  ck_assert_str_eq(mail_smtp_reply_line(r, 2, NULL), "");
  ck_assert_ptr_null(mail_smtp_reply_line(r, 4, NULL));
  size_t len;
  const char *t = mail_smtp_reply_text(r, &len);
  ck_assert_str_eq(t, "mx.example.org Hello\nSIZE 1000\n\nHELP");
  ck_assert_uint_eq(len, strlen(t));
  ck_assert_int_eq(mail_smtp_reply_enhanced(r, NULL, NULL, NULL), MAIL_ERR_NOT_FOUND);

  char small[4], big[64];
  size_t need;
  ck_assert_int_eq(mail_smtp_reply_copy_text(r, small, sizeof small, &need), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(need, len + 1);
  ck_assert_int_eq(mail_smtp_reply_copy_text(r, big, sizeof big, &need), MAIL_OK);
  ck_assert_str_eq(big, t);

  mail_smtp_reply *keep;
  ck_assert_int_eq(mail_smtp_reply_clone(&keep, r, NULL), MAIL_OK);
  mail_smtp_reply_free((mail_smtp_reply *)r); /* owned by the parser: ignored */
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_AGAIN);
  ck_assert_uint_eq(mail_smtp_parser_pending(p), 0);
  mail_smtp_parser_free(p);
  ck_assert_int_eq(mail_smtp_reply_code(keep), 250);
  ck_assert_str_eq(mail_smtp_reply_line(keep, 3, NULL), "HELP");
  ck_assert_str_eq(mail_smtp_reply_text(keep, NULL), "mx.example.org Hello\nSIZE 1000\n\nHELP");
  mail_smtp_reply_free(keep);
  mail_smtp_reply_free(NULL);
  mail_smtp_parser_free(NULL);
}
END_TEST

START_TEST(enhanced_codes)
{
  const char *in = "250 2.1.0 Sender ok\r\n"
                   "550-5.7.1 first\r\n550-second\r\n550 5.7.12  third\r\n"
                   "250 4.0.0 class differs\r\n"
                   "250 2.1000.0 too long\r\n"
                   "250 2.0.0\r\n"
                   "250 2.0.0x not followed by space\r\n"
                   "354 3.0.0 class 3 is not a class\r\n"
                   "421 4.4.2 closing\r\n";
  char *d = parse_whole(in, strlen(in), 1);
  ck_assert_str_eq(d, "[250 2.1.0|<2.1.0>Sender ok]"
                      "[550 5.7.1|<5.7.1>first|second|<5.7.12>third]"
                      "[250|4.0.0 class differs]"
                      "[250|2.1000.0 too long]"
                      "[250 2.0.0|<2.0.0>]"
                      "[250|2.0.0x not followed by space]"
                      "[354|3.0.0 class 3 is not a class]"
                      "[421 4.4.2|<4.4.2>closing]rc=1");
  free(d);
  /* Off: the text is left alone. */
  d = parse_whole("250 2.1.0 Sender ok\r\n", 21, 0);
  ck_assert_str_eq(d, "[250|2.1.0 Sender ok]rc=1");
  free(d);
}
END_TEST

START_TEST(enhanced_setting_applies_to_next_reply)
{
  mail_smtp_parser *p;
  const mail_smtp_reply *r;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-2.0.0 a\r\n", 13), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_AGAIN);
  mail_smtp_parser_set_enhanced_codes(p, 1);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250 2.0.0 b\r\n250 2.0.0 c\r\n", 26), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_reply_enhanced(r, NULL, NULL, NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_str_eq(mail_smtp_reply_text(r, NULL), "2.0.0 a\n2.0.0 b");
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_str_eq(mail_smtp_reply_text(r, NULL), "c");
  mail_smtp_parser_free(p);
}
END_TEST

START_TEST(malformed_lines)
{
  static const char *bad[] = {
    "25 x\r\n", "2500 x\r\n", "abc\r\n", "250x\r\n", "650 x\r\n", "050 x\r\n", "\r\n",
    "2a0 x\r\n", " 250 x\r\n", "250_x\r\n", "250-a\r\n251 b\r\n", "250-a\r\n550-b\r\n",
    "25\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *d = parse_whole(bad[i], strlen(bad[i]), 1);
    ck_assert_msg(strstr(d, "rc=109") != NULL, "%s gave %s", bad[i], d);
    free(d);
  }
  /* A NUL byte inside a line. */
  char *d = parse_whole("250 a\0b\r\n", 9, 0);
  ck_assert_str_eq(d, "rc=109");
  free(d);
}
END_TEST

START_TEST(error_is_sticky_until_reset)
{
  mail_smtp_parser *p;
  const mail_smtp_reply *r;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-a\r\n251 b\r\n250 ok\r\n", 22), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_PROTOCOL);
  ck_assert_ptr_null(r);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250 x\r\n", 7), MAIL_ERR_PROTOCOL);
  mail_smtp_parser_reset(p);
  ck_assert_uint_eq(mail_smtp_parser_pending(p), 0);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "220 ready\r\n", 11), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_reply_code(r), 220);
  mail_smtp_parser_free(p);
}
END_TEST

START_TEST(limits)
{
  mail_limits l;
  mail_limits_default(&l);
  l.max_line = 16;
  l.max_response = 20;
  l.max_items = 3;
  mail_smtp_parser *p;
  const mail_smtp_reply *r;

  /* Line length: 16 bytes with CRLF pass, 17 fail. */
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_set_limits(p, &l), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250 0123456789\r\n", 16), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_set_limits(p, &l), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250 0123456789a\r\n", 17), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_LIMIT);
  mail_smtp_parser_reset(p);

  /* Line count. */
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-a\r\n250-b\r\n250 c\r\n", 21), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-a\r\n250-b\r\n250-c\r\n250 d\r\n", 28), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_LIMIT);
  mail_smtp_parser_reset(p);

  /* Total text: 3 lines of 5 chars + NULs = 18 <= 20; 6+6+6 +3 = 21 > 20. */
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-aaaaa\r\n250-bbbbb\r\n250 ccccc\r\n", 33), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-aaaaaa\r\n250-bbbbbb\r\n250 cccccc\r\n", 36), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_LIMIT);
  mail_smtp_parser_reset(p);

  /* Too much unread input at once. */
  char big[64];
  memset(big, 'x', sizeof big);
  ck_assert_int_eq(mail_smtp_parser_feed(p, big, sizeof big), MAIL_ERR_LIMIT);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_LIMIT);

  l.version = 99;
  ck_assert_int_eq(mail_smtp_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  mail_smtp_parser_free(p);
}
END_TEST

START_TEST(end_of_input)
{
  mail_smtp_parser *p;
  const mail_smtp_reply *r;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "221 bye\r\n", 9), MAIL_OK);
  mail_smtp_parser_end(p);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_CLOSED);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_CLOSED);
  mail_smtp_parser_reset(p);
  /* Inside a reply, and inside a line. */
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250-a\r\n", 7), MAIL_OK);
  mail_smtp_parser_end(p);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_CLOSED);
  mail_smtp_parser_reset(p);
  ck_assert_int_eq(mail_smtp_parser_feed(p, "250 a", 5), MAIL_OK);
  mail_smtp_parser_end(p);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_ERR_CLOSED);
  mail_smtp_parser_free(p);
}
END_TEST

START_TEST(invalid_arguments)
{
  mail_smtp_parser *p;
  const mail_smtp_reply *r;
  mail_allocator half = {0};
  ck_assert_int_eq(mail_smtp_parser_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_parser_new(&p, &half), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_feed(p, NULL, 3), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_parser_feed(p, NULL, 0), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_parser_next(NULL, &r), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_parser_set_limits(p, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_reply_code(NULL), 0);
  ck_assert_ptr_null(mail_smtp_reply_text(NULL, NULL));
  mail_smtp_parser_free(p);
}
END_TEST

/* A short transcript: every split point, and every pair of split points. */
static const char SHORT[] = "220-mx ESMTP\r\n220 ready\n250-mx\r\n250-8BITMIME\r\n250 SIZE 10\r\n"
                            "550 5.1.1 no\r\n354\r\n";

START_TEST(every_split_and_pair)
{
  size_t n = sizeof SHORT - 1;
  for (int enh = 0; enh <= 1; enh++) {
    char *want = parse_whole(SHORT, n, enh);
    for (size_t a = 0; a <= n; a++) {
      char *got = parse_cuts(SHORT, n, &a, 1, enh);
      ck_assert_str_eq(got, want);
      free(got);
      for (size_t b = a; b <= n; b++) {
        size_t cuts[2] = {a, b};
        got = parse_cuts(SHORT, n, cuts, 2, enh);
        ck_assert_msg(strcmp(got, want) == 0, "cuts %zu,%zu: %s vs %s", a, b, got, want);
        free(got);
      }
    }
    free(want);
  }
}
END_TEST

/* Errors too are independent of the split. */
START_TEST(every_split_of_errors)
{
  static const char *ins[] = {"250 ok\r\n250-a\r\n251 b\r\n", "250 ok\r\n25x\r\n", "250 ok\r\n250 a\0\r\n"};
  static const size_t lens[] = {23, 13, 16};
  for (size_t k = 0; k < 3; k++) {
    char *want = parse_whole(ins[k], lens[k], 0);
    ck_assert(strstr(want, "rc=109") != NULL);
    for (size_t a = 0; a <= lens[k]; a++) {
      char *got = parse_cuts(ins[k], lens[k], &a, 1, 0);
      ck_assert_str_eq(got, want);
      free(got);
    }
    free(want);
  }
}
END_TEST

static uint32_t rng_state;

static uint32_t rng(void)
{
  rng_state = rng_state * 1103515245u + 12345u;
  return rng_state >> 8;
}

/* A large input: many replies, one of them thousands of lines long. */
static char *large_input(size_t *n)
{
  sb s = {0};
  for (int i = 0; i < 300; i++) {
    char line[128];
    int k = snprintf(line, sizeof line, "250%c2.0.%d line %d of a reply\r\n", i % 7 == 6 ? ' ' : '-',
                     i % 1000, i);
    sb_add(&s, line, (size_t)k);
  }
  for (int i = 0; i < 3000; i++) {
    char line[128];
    int k = snprintf(line, sizeof line, "550 5.%d.%d text %d\r\n", i % 10, i % 100, i);
    sb_add(&s, line, (size_t)k);
  }
  for (int i = 0; i < 5000; i++)
    sb_add(&s, "250-x\r\n", 7);
  sb_add(&s, "250 end\r\n", 9);
  *n = s.len;
  return s.p;
}

START_TEST(byte_at_a_time_and_random_splits)
{
  size_t n;
  char *in = large_input(&n);
  char *want = parse_whole(in, n, 1);
  ck_assert(strstr(want, "rc=1") != NULL);
  /* Byte at a time. */
  size_t *cuts = malloc(n * sizeof *cuts);
  for (size_t i = 0; i < n; i++)
    cuts[i] = i;
  char *got = parse_cuts(in, n, cuts, n, 1);
  ck_assert(strcmp(got, want) == 0);
  free(got);
  /* Seeded random splits. */
  rng_state = 20261127;
  for (int round = 0; round < 50; round++) {
    size_t nc = 0, at = 0;
    while (at < n) {
      at += 1 + rng() % (round < 25 ? 16 : 4096);
      if (at > n)
        at = n;
      cuts[nc++] = at;
    }
    got = parse_cuts(in, n, cuts, nc, 1);
    ck_assert(strcmp(got, want) == 0);
    free(got);
  }
  free(cuts);
  free(want);
  free(in);
}
END_TEST

/* The line-level API the engines use with the connection's reader. */
START_TEST(line_level_api)
{
  mail_smtp_line l;
  ck_assert_int_eq(mail_smtp_line_parse("250-2.1.5 ok", 12, 1, &l), MAIL_OK);
  ck_assert_int_eq(l.code, 250);
  ck_assert_int_eq(l.last, 0);
  ck_assert_int_eq(l.has_enhanced, 1);
  ck_assert_uint_eq(l.enh[2], 5);
  ck_assert_uint_eq(l.text_len, 2);
  ck_assert_int_eq(mail_smtp_line_parse("250", 3, 1, &l), MAIL_OK);
  ck_assert_int_eq(l.last, 1);

  mail_allocator a;
  mail_alloc_init(&a, NULL);
  mail_smtp_acc acc;
  mail_smtp_acc_init(&acc, &a, NULL);
  acc.enhanced = 1;
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "250-a", 5), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "250 2.0.0 b", 11), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_reply_line_count(&acc.reply), 2);
  ck_assert_str_eq(mail_smtp_reply_text(&acc.reply, NULL), "a\nb");
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "354 go", 6), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_reply_line_count(&acc.reply), 1);
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "354-go", 6), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "355 go", 6), MAIL_ERR_PROTOCOL);
  mail_smtp_acc_reset(&acc);
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "221 bye", 7), MAIL_OK);
  mail_smtp_acc_free(&acc);
}
END_TEST

/* A 1,200-line reply (each line 100 bytes) is held while it is the last
 * one; when its accumulator takes the next reply, the storage it grew is
 * given back, so a session does not keep a long reply's size for good. */
START_TEST(long_reply_storage_given_back)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_smtp_acc acc;
  mail_smtp_acc_init(&acc, mail_test_alloc_hooks(&ta), NULL);
  char line[128];
  memset(line, 'x', sizeof line);
  memcpy(line, "250-", 4);
  for (int i = 0; i < 1199; i++)
    ck_assert_int_eq(mail_smtp_acc_line(&acc, line, 100), MAIL_ERR_AGAIN);
  line[3] = ' ';
  ck_assert_int_eq(mail_smtp_acc_line(&acc, line, 100), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_reply_line_count(&acc.reply), 1200);
  ck_assert_ptr_nonnull(mail_smtp_reply_text(&acc.reply, NULL)); /* the joined form too */
  ck_assert_uint_gt(ta.live_bytes, 100000);
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "250 ok", 6), MAIL_OK);
  ck_assert_str_eq(mail_smtp_reply_text(&acc.reply, NULL), "ok");
  ck_assert_uint_lt(ta.live_bytes, 4096);
  /* Short replies keep their storage: no allocation per reply. */
  unsigned long calls = ta.calls;
  ck_assert_int_eq(mail_smtp_acc_line(&acc, "250 fine", 8), MAIL_OK);
  ck_assert_str_eq(mail_smtp_reply_text(&acc.reply, NULL), "fine");
  ck_assert_uint_eq(ta.calls, calls);
  mail_smtp_acc_free(&acc);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

/* --------------------------------------------------------- EHLO caps */

static const mail_smtp_reply *one_reply(mail_smtp_parser *p, const char *in)
{
  const mail_smtp_reply *r;
  ck_assert_int_eq(mail_smtp_parser_feed(p, in, strlen(in)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_parser_next(p, &r), MAIL_OK);
  return r;
}

START_TEST(ehlo_caps)
{
  mail_smtp_parser *p;
  mail_smtp_caps *c;
  ck_assert_int_eq(mail_smtp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_caps_new(&c, NULL), MAIL_OK);
  const mail_smtp_reply *r = one_reply(p,
    "250-mx.libmail.test Hello [127.0.0.1]\r\n"
    "250-PIPELINING\r\n"
    "250-SIZE 10240000\r\n"
    "250-AUTH PLAIN  LOGIN\tSCRAM-SHA-256\r\n"
    "250-AUTH=LOGIN PLAIN\r\n"
    "250-8BITMIME\r\n"
    "250--bad keyword\r\n"
    "250-bad_keyword x\r\n"
    "250-\r\n"
    "250-X-EXPS GSSAPI=1\r\n"
    "250 enhancedstatuscodes\r\n");
  ck_assert_int_eq(mail_smtp_caps_parse_ehlo(c, r), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_caps_count(c), 7);
  ck_assert_str_eq(mail_smtp_caps_keyword(c, 0), "PIPELINING");
  ck_assert_uint_eq(mail_smtp_caps_param_count(c, 0), 0);
  size_t i;
  ck_assert_int_eq(mail_smtp_caps_find(c, "size", &i), MAIL_OK);
  ck_assert_uint_eq(i, 1);
  ck_assert_str_eq(mail_smtp_caps_param(c, 1, 0), "10240000");
  ck_assert_ptr_null(mail_smtp_caps_param(c, 1, 1));
  ck_assert_int_eq(mail_smtp_caps_find(c, "AUTH", &i), MAIL_OK);
  ck_assert_uint_eq(i, 2);
  ck_assert_uint_eq(mail_smtp_caps_param_count(c, 2), 3);
  ck_assert_str_eq(mail_smtp_caps_param(c, 2, 1), "LOGIN");
  ck_assert_str_eq(mail_smtp_caps_param(c, 2, 2), "SCRAM-SHA-256");
  ck_assert_str_eq(mail_smtp_caps_keyword(c, 3), "AUTH");
  ck_assert_uint_eq(mail_smtp_caps_param_count(c, 3), 2);
  ck_assert_str_eq(mail_smtp_caps_param(c, 3, 0), "LOGIN");
  ck_assert_str_eq(mail_smtp_caps_param(c, 5, 0), "GSSAPI=1");
  ck_assert_int_eq(mail_smtp_caps_find(c, "ENHANCEDSTATUSCODES", NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_caps_find(c, "STARTTLS", NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_smtp_caps_find(c, "PIPELININGX", NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_ptr_null(mail_smtp_caps_keyword(c, 7));
  ck_assert_uint_eq(mail_smtp_caps_param_count(c, 7), 0);

  /* A single-line reply has no capabilities; a refusal empties the list. */
  r = one_reply(p, "250 mx.libmail.test\r\n");
  ck_assert_int_eq(mail_smtp_caps_parse_ehlo(c, r), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_caps_count(c), 0);
  r = one_reply(p, "250-mx\r\n250 STARTTLS\r\n");
  ck_assert_int_eq(mail_smtp_caps_parse_ehlo(c, r), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_caps_count(c), 1);
  r = one_reply(p, "502-no\r\n502 PIPELINING\r\n");
  ck_assert_int_eq(mail_smtp_caps_parse_ehlo(c, r), MAIL_ERR_SERVER);
  ck_assert_uint_eq(mail_smtp_caps_count(c), 0);
  ck_assert_int_eq(mail_smtp_caps_parse_ehlo(c, NULL), MAIL_ERR_INVALID);
  mail_smtp_caps_free(c);
  mail_smtp_caps_free(NULL);
  mail_smtp_parser_free(p);
}
END_TEST

/* ------------------------------------------- allocation failure runs */


/* Run a whole parse, clone and caps extraction; returns MAIL_OK or the
 * first error. */
static int full_run(void *user, mail_test_alloc *ta)
{
  const mail_allocator *FAILING = mail_test_alloc_hooks(ta);
  static const char in[] = "250-mx\r\n250-SIZE 100\r\n250 AUTH PLAIN\r\n550 5.1.1 no such user\r\n";
  mail_smtp_parser *p = NULL;
  mail_smtp_caps *c = NULL;
  mail_smtp_reply *keep = NULL;
  const mail_smtp_reply *r;
  int rc = mail_smtp_parser_new(&p, FAILING);
  if (!rc)
    rc = mail_smtp_caps_new(&c, FAILING);
  if (!rc)
    rc = mail_smtp_parser_set_enhanced_codes(p, 1);
  for (size_t i = 0; !rc && i < sizeof in - 1; i += 5)
    rc = mail_smtp_parser_feed(p, in + i, sizeof in - 1 - i < 5 ? sizeof in - 1 - i : 5);
  if (!rc)
    rc = mail_smtp_parser_next(p, &r);
  if (!rc)
    rc = mail_smtp_caps_parse_ehlo(c, r);
  if (!rc)
    rc = mail_smtp_reply_clone(&keep, r, FAILING);
  if (!rc)
    rc = mail_smtp_parser_next(p, &r);
  if (!rc)
    ck_assert_int_eq(mail_smtp_reply_code(r), 550);
  mail_smtp_reply_free(keep);
  mail_smtp_caps_free(c);
  mail_smtp_parser_free(p);
  return rc;
}

START_TEST(allocation_failures)
{
  mail_test_nomem_result res;
  ck_assert_msg(mail_test_each_allocation("smtp_reply", full_run, NULL, MAIL_OK, MAIL_TEST_NOMEM_EXACT,
                                          &res) == 0,
                "%s", res.report);
  ck_assert_uint_gt(res.failed_runs, 3);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("smtp_reply");
  TCase *t = tcase_create("smtp_reply");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, single_line);
  tcase_add_test(t, long_reply_storage_given_back);
  tcase_add_test(t, multi_line_and_joined_text);
  tcase_add_test(t, enhanced_codes);
  tcase_add_test(t, enhanced_setting_applies_to_next_reply);
  tcase_add_test(t, malformed_lines);
  tcase_add_test(t, error_is_sticky_until_reset);
  tcase_add_test(t, limits);
  tcase_add_test(t, end_of_input);
  tcase_add_test(t, invalid_arguments);
  tcase_add_test(t, every_split_and_pair);
  tcase_add_test(t, every_split_of_errors);
  tcase_add_test(t, byte_at_a_time_and_random_splits);
  tcase_add_test(t, line_level_api);
  tcase_add_test(t, ehlo_caps);
  tcase_add_test(t, allocation_failures);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Unit tests for the POP3 response parser and its helpers. */
#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mail/pop3_reply.h>

#include "core/mem.h"
#include "parse/pop3_reply.h"
#include "each_alloc.h"

/* ------------------------------------------------------- test helpers */

typedef struct sb {
  char *p;
  size_t len, cap;
} sb;

static void sb_add(sb *s, const void *p, size_t n)
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
  char tmp[128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  sb_add(s, tmp, (size_t)n);
}

/*
 * Parse in pieces at the given cut points. modes[k] is the expectation set
 * before the k-th status line. The description: each REPLY as
 * {status|code|text}, DATA chunks merged into <...> (so that the cut
 * places of chunks do not matter), LINE as (..), END as "$", then rc.
 */
typedef struct run {
  sb s;
  int in_data;
} run;

static void close_data(run *r)
{
  if (r->in_data)
    sb_add(&r->s, ">", 1);
  r->in_data = 0;
}

static int drain(mail_pop3_parser *p, run *r, const int *modes, size_t nmodes, size_t *nreplies)
{
  int rc, ev;
  for (;;) {
    /* Set the mode for the next status line whenever allowed. */
    int m = *nreplies < nmodes ? modes[*nreplies] : MAIL_POP3_EXPECT_SINGLE;
    (void)mail_pop3_parser_expect(p, m);
    rc = mail_pop3_parser_next(p, &ev);
    if (rc)
      return rc;
    if (ev == MAIL_POP3_EVENT_DATA) {
      size_t n;
      const unsigned char *d = mail_pop3_parser_data(p, &n);
      ck_assert_uint_gt(n, 0);
      if (!r->in_data)
        sb_add(&r->s, "<", 1);
      r->in_data = 1;
      sb_add(&r->s, d, n);
      continue;
    }
    close_data(r);
    if (ev == MAIL_POP3_EVENT_REPLY) {
      const mail_pop3_reply *rep = mail_pop3_parser_reply(p);
      size_t n;
      const char *t = mail_pop3_reply_text(rep, &n);
      ck_assert_uint_eq(strlen(t), n);
      const char *code = mail_pop3_reply_resp_code(rep, NULL);
      sb_addf(&r->s, "{%d|%s:%d|", mail_pop3_reply_status(rep), code ? code : "-",
              mail_pop3_reply_resp_code_id(rep));
      sb_add(&r->s, t, n);
      sb_add(&r->s, "}", 1);
      (*nreplies)++;
    } else if (ev == MAIL_POP3_EVENT_LINE) {
      size_t n;
      const unsigned char *d = mail_pop3_parser_data(p, &n);
      sb_add(&r->s, "(", 1);
      sb_add(&r->s, d, n);
      sb_add(&r->s, ")", 1);
    } else {
      ck_assert_int_eq(ev, MAIL_POP3_EVENT_END);
      sb_add(&r->s, "$", 1);
    }
  }
}

static char *parse_cuts(const char *in, size_t n, const size_t *cuts, size_t ncuts,
                        const int *modes, size_t nmodes, int end)
{
  mail_pop3_parser *p;
  ck_assert_int_eq(mail_pop3_parser_new(&p, NULL), MAIL_OK);
  run r = {{0}, 0};
  size_t at = 0, nreplies = 0;
  int rc = MAIL_ERR_AGAIN;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t stop = k < ncuts ? cuts[k] : n;
    if (rc == MAIL_ERR_AGAIN) {
      rc = mail_pop3_parser_feed(p, in + at, stop - at);
      if (!rc)
        rc = drain(p, &r, modes, nmodes, &nreplies);
    }
    at = stop;
  }
  if (end && rc == MAIL_ERR_AGAIN) {
    mail_pop3_parser_end(p);
    rc = drain(p, &r, modes, nmodes, &nreplies);
  }
  close_data(&r);
  sb_addf(&r.s, "rc=%d", -rc);
  mail_pop3_parser_free(p);
  return r.s.p;
}

static char *parse_whole(const char *in, const int *modes, size_t nmodes)
{
  return parse_cuts(in, strlen(in), NULL, 0, modes, nmodes, 0);
}

/* ------------------------------------------------------------- tests */

START_TEST(status_lines)
{
  const char *in = "+OK POP3 ready <1896.697170952@dbc.mit.edu>\r\n"
                   "-ERR [SYS/TEMP] try later\r\n"
                   "-ERR [sys/perm/disk] gone\r\n"
                   "-ERR [AUTH] bad password\r\n"
                   "-ERR [IN-USE]\r\n"
                   "-err [LOGIN-DELAY]  wait\r\n"
                   "-ERR [X-NEW/Y] new\r\n"
                   "-ERR [SYS/] not a code\r\n"
                   "-ERR [] nothing\r\n"
                   "-ERR [AUTH no close\r\n"
                   "-ERR text [AUTH] later\r\n"
                   "+ok\r\n"
                   "+OK  two spaces\r\n"
                   "-ERR\n"
                   "+ dGVzdA==\r\n"
                   "+\r\n"
                   "+ \r\n";
  char *d = parse_whole(in, NULL, 0);
  ck_assert_str_eq(d,
    "{1|-:0|POP3 ready <1896.697170952@dbc.mit.edu>}"
    "{2|SYS/TEMP:2|try later}"
    "{2|sys/perm/disk:3|gone}"
    "{2|AUTH:4|bad password}"
    "{2|IN-USE:5|}"
    "{2|LOGIN-DELAY:6|wait}"
    "{2|X-NEW/Y:1|new}"
    "{2|-:0|[SYS/] not a code}"
    "{2|-:0|[] nothing}"
    "{2|-:0|[AUTH no close}"
    "{2|-:0|text [AUTH] later}"
    "{1|-:0|}"
    "{1|-:0|two spaces}"
    "{2|-:0|}"
    "{3|-:0|dGVzdA==}"
    "{3|-:0|}"
    "{3|-:0|}"
    "rc=1");
  free(d);
}
END_TEST

START_TEST(bad_status_lines)
{
  static const char *bad[] = {"+OKAY\r\n", "-ERROR\r\n", "OK\r\n", "\r\n", "+O\r\n", "* OK\r\n",
                              "+OK\tx\r\n", "-ER\r\n", "++\r\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char *d = parse_whole(bad[i], NULL, 0);
    ck_assert_msg(strcmp(d, "rc=109") == 0, "%s gave %s", bad[i], d);
    free(d);
  }
  char *d = parse_cuts("+OK a\0b\r\n", 9, NULL, 0, NULL, 0, 0);
  ck_assert_str_eq(d, "rc=109");
  free(d);
}
END_TEST

START_TEST(codes_by_name)
{
  ck_assert_int_eq(mail_pop3_code_id("SYS/TEMP", 8), MAIL_POP3_CODE_SYS_TEMP);
  ck_assert_int_eq(mail_pop3_code_id("SYS/TEMPX", 9), MAIL_POP3_CODE_OTHER);
  ck_assert_int_eq(mail_pop3_code_id("SYS", 3), MAIL_POP3_CODE_OTHER);
  ck_assert_int_eq(mail_pop3_code_id("auth/x/y", 8), MAIL_POP3_CODE_AUTH);
  ck_assert_int_eq(mail_pop3_code_id("", 0), MAIL_POP3_CODE_NONE);
}
END_TEST

static const int MULTI1[] = {MAIL_POP3_EXPECT_MULTI};

START_TEST(dot_unstuffing)
{
  const char *in = "+OK 120 octets\r\n"
                   "line one\r\n"
                   "..\r\n"
                   "..foo\r\n"
                   ".bar\r\n"
                   "text.\r\n"
                   ".\rx\r\n"
                   "\r\n"
                   ".\r\n"
                   "+OK next\r\n";
  char *d = parse_whole(in, MULTI1, 1);
  ck_assert_str_eq(d, "{1|-:0|120 octets}<line one\r\n.\r\n.foo\r\nbar\r\ntext.\r\n\rx\r\n\r\n>${1|-:0|next}rc=1");
  free(d);
  /* An empty body; a bare-LF terminator; -ERR has no body. */
  d = parse_whole("+OK\r\n.\r\n", MULTI1, 1);
  ck_assert_str_eq(d, "{1|-:0|}$rc=1");
  free(d);
  d = parse_whole("+OK\nabc\n..\n.\n", MULTI1, 1);
  ck_assert_str_eq(d, "{1|-:0|}<abc\n.\n>$rc=1");
  free(d);
  d = parse_whole("-ERR no such message\r\n+OK x\r\n.\r\n", MULTI1, 1);
  ck_assert_str_eq(d, "{2|-:0|no such message}{1|-:0|x}rc=109");
  free(d);
  /* A continuation never opens a body. */
  d = parse_whole("+ abc\r\n", MULTI1, 1);
  ck_assert_str_eq(d, "{3|-:0|abc}rc=1");
  free(d);
}
END_TEST

START_TEST(line_mode)
{
  static const int modes[] = {MAIL_POP3_EXPECT_MULTI_LINES, MAIL_POP3_EXPECT_SINGLE,
                              MAIL_POP3_EXPECT_MULTI_LINES};
  const char *in = "+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"
                   "+OK 1 120\r\n"
                   "+OK\r\nUSER\r\n..odd\r\n\r\nSASL PLAIN\n.\r\n";
  char *d = parse_whole(in, modes, 3);
  ck_assert_str_eq(d, "{1|-:0|2 messages}(1 120)(2 200)${1|-:0|1 120}"
                      "{1|-:0|}(USER)(.odd)()(SASL PLAIN)$rc=1");
  free(d);
}
END_TEST

START_TEST(expect_rules)
{
  mail_pop3_parser *p;
  int ev;
  ck_assert_int_eq(mail_pop3_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_expect(p, 3), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_parser_expect(p, -1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_MULTI), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "+OK\r\nab", 7), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_REPLY);
  ck_assert_int_eq(mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_SINGLE), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_DATA);
  ck_assert_ptr_nonnull(mail_pop3_parser_reply(p));
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_AGAIN);
  ck_assert_ptr_null(mail_pop3_parser_data(p, NULL));
  ck_assert_int_eq(mail_pop3_parser_feed(p, "\r\n.\r\n+OK\r\n", 10), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_DATA);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_END);
  /* The expectation was used up: the next reply is single-line. */
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_REPLY);
  ck_assert_uint_eq(mail_pop3_parser_pending(p), 0);
  mail_pop3_parser_free(p);
  mail_pop3_parser_free(NULL);
}
END_TEST

START_TEST(end_of_input)
{
  char *d = parse_cuts("+OK bye\r\n", 9, NULL, 0, NULL, 0, 1);
  ck_assert_str_eq(d, "{1|-:0|bye}rc=102");
  free(d);
  d = parse_cuts("+OK\r\nabc\r\n", 10, NULL, 0, MULTI1, 1, 1);
  ck_assert_str_eq(d, "{1|-:0|}<abc\r\n>rc=102");
  free(d);
  d = parse_cuts("+OK par", 7, NULL, 0, NULL, 0, 1);
  ck_assert_str_eq(d, "rc=102");
  free(d);
  /* A clean end is not sticky; an end inside a response is. */
  mail_pop3_parser *p;
  int ev;
  ck_assert_int_eq(mail_pop3_parser_new(&p, NULL), MAIL_OK);
  mail_pop3_parser_end(p);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_CLOSED);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "x", 1), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_CLOSED);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "x", 1), MAIL_ERR_CLOSED);
  mail_pop3_parser_reset(p);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "+OK\r\n", 5), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  mail_pop3_parser_free(p);
}
END_TEST

START_TEST(limits)
{
  mail_limits l;
  mail_limits_default(&l);
  l.max_line = 12;
  l.max_response = 100;
  mail_pop3_parser *p;
  int ev;
  ck_assert_int_eq(mail_pop3_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_set_limits(p, &l), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "+OK 4567\r\n", 10), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_set_limits(p, &l), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "+OK 4567890\r\n", 13), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_LIMIT);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_LIMIT);
  mail_pop3_parser_reset(p);
  /* Body lines are not bounded by max_line when streamed... */
  ck_assert_int_eq(mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_MULTI), MAIL_OK);
  const char *body = "+OK\r\nthis body line is long\r\n.\r\n";
  ck_assert_int_eq(mail_pop3_parser_feed(p, body, strlen(body)), MAIL_OK);
  size_t got = 0;
  int last = 0;
  while (mail_pop3_parser_next(p, &ev) == MAIL_OK) {
    last = ev;
    if (ev == MAIL_POP3_EVENT_DATA) {
      size_t n;
      mail_pop3_parser_data(p, &n);
      got += n;
    }
  }
  ck_assert_uint_eq(got, 24);
  ck_assert_int_eq(last, MAIL_POP3_EVENT_END);
  /* ...but are in line mode. */
  ck_assert_int_eq(mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_MULTI_LINES), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, body, strlen(body)), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_ERR_LIMIT);
  mail_pop3_parser_reset(p);
  /* Unread input is bounded. */
  char big[200];
  memset(big, 'x', sizeof big);
  ck_assert_int_eq(mail_pop3_parser_feed(p, big, sizeof big), MAIL_ERR_LIMIT);
  l.max_line = 0;
  mail_pop3_parser_reset(p);
  ck_assert_int_eq(mail_pop3_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  mail_pop3_parser_free(p);
}
END_TEST

START_TEST(reply_copies)
{
  mail_pop3_parser *p;
  int ev;
  ck_assert_int_eq(mail_pop3_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "-ERR [IN-USE] locked\r\n", 22), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  const mail_pop3_reply *r = mail_pop3_parser_reply(p);
  char small[3], big[32];
  size_t need;
  ck_assert_int_eq(mail_pop3_reply_copy_text(r, small, sizeof small, &need), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(need, 7);
  ck_assert_int_eq(mail_pop3_reply_copy_text(r, big, sizeof big, NULL), MAIL_OK);
  ck_assert_str_eq(big, "locked");
  mail_pop3_reply *keep;
  ck_assert_int_eq(mail_pop3_reply_clone(&keep, r, NULL), MAIL_OK);
  mail_pop3_reply_free((mail_pop3_reply *)r); /* parser-owned: ignored */
  mail_pop3_parser_free(p);
  ck_assert_int_eq(mail_pop3_reply_status(keep), MAIL_POP3_ERR);
  ck_assert_int_eq(mail_pop3_reply_resp_code_id(keep), MAIL_POP3_CODE_IN_USE);
  size_t n;
  ck_assert_str_eq(mail_pop3_reply_resp_code(keep, &n), "IN-USE");
  ck_assert_uint_eq(n, 6);
  ck_assert_str_eq(mail_pop3_reply_text(keep, NULL), "locked");
  mail_pop3_reply_free(keep);
  mail_pop3_reply_free(NULL);
  ck_assert_int_eq(mail_pop3_reply_status(NULL), 0);
  ck_assert_ptr_null(mail_pop3_reply_text(NULL, NULL));
}
END_TEST

/* A short transcript, every split point and every pair. */
static const char SHORT[] = "+OK ready\r\n+OK\r\nA\r\n..B\r\n.\r\n-ERR [AUTH] no\n+OK\r\n.\n+ Zm9v\r\n";
static const int SHORT_MODES[] = {MAIL_POP3_EXPECT_SINGLE, MAIL_POP3_EXPECT_MULTI,
                                  MAIL_POP3_EXPECT_MULTI, MAIL_POP3_EXPECT_MULTI};

START_TEST(every_split_and_pair)
{
  size_t n = sizeof SHORT - 1;
  char *want = parse_cuts(SHORT, n, NULL, 0, SHORT_MODES, 4, 1);
  ck_assert_str_eq(want, "{1|-:0|ready}{1|-:0|}<A\r\n.B\r\n>${2|AUTH:4|no}{1|-:0|}${3|-:0|Zm9v}rc=102");
  for (size_t a = 0; a <= n; a++) {
    char *got = parse_cuts(SHORT, n, &a, 1, SHORT_MODES, 4, 1);
    ck_assert_str_eq(got, want);
    free(got);
    for (size_t b = a; b <= n; b++) {
      size_t cuts[2] = {a, b};
      got = parse_cuts(SHORT, n, cuts, 2, SHORT_MODES, 4, 1);
      ck_assert_msg(strcmp(got, want) == 0, "cuts %zu,%zu: %s", a, b, got);
      free(got);
    }
  }
  free(want);
}
END_TEST

/* The terminator and stuffed dots split across feeds, in every way. */
START_TEST(every_split_of_dot_cases)
{
  static const char *ins[] = {
    "+OK\r\n.\r\n", "+OK\r\n..\r\n.\r\n", "+OK\r\n..foo\r\n.\r\n", "+OK\r\nx\r\n.\rx\r\n.\r\n",
    "+OK\nx\n.\n", "+OK\r\nfoo.\r\n.\r\n", "+OK\r\n\r\n.\r\n\r\n.\r\n",
  };
  for (size_t k = 0; k < sizeof ins / sizeof *ins; k++) {
    size_t n = strlen(ins[k]);
    char *want = parse_cuts(ins[k], n, NULL, 0, MULTI1, 1, 0);
    for (size_t a = 0; a <= n; a++)
      for (size_t b = a; b <= n; b++) {
        size_t cuts[2] = {a, b};
        char *got = parse_cuts(ins[k], n, cuts, 2, MULTI1, 1, 0);
        ck_assert_msg(strcmp(got, want) == 0, "%zu: cuts %zu,%zu: %s vs %s", k, a, b, got, want);
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

/* Several RETR bodies with many dotted lines. */
static char *large_input(size_t *n, int *modes, size_t *nmodes)
{
  sb s = {0};
  *nmodes = 0;
  rng_state = 7;
  for (int msg = 0; msg < 12; msg++) {
    modes[(*nmodes)++] = msg % 3 == 2 ? MAIL_POP3_EXPECT_MULTI_LINES : MAIL_POP3_EXPECT_MULTI;
    sb_addf(&s, "+OK message %d follows\r\n", msg);
    for (int line = 0; line < 400; line++) {
      switch (rng() % 6) {
      case 0: sb_add(&s, "..\r\n", 4); break;
      case 1: sb_add(&s, "..leading dot\r\n", 15); break;
      case 2: sb_add(&s, "\r\n", 2); break;
      case 3: sb_addf(&s, "Subject: line %d.\r\n", line); break;
      case 4: sb_add(&s, "bare lf\n", 8); break;
      default: sb_addf(&s, "%.*s\r\n", (int)(rng() % 100), "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789");
      }
    }
    sb_add(&s, ".\r\n", 3);
    modes[(*nmodes)++] = MAIL_POP3_EXPECT_SINGLE;
    sb_add(&s, "-ERR [SYS/TEMP] later\r\n", 23);
  }
  *n = s.len;
  return s.p;
}

START_TEST(byte_at_a_time_and_random_splits)
{
  size_t n, nmodes;
  int modes[64];
  char *in = large_input(&n, modes, &nmodes);
  char *want = parse_cuts(in, n, NULL, 0, modes, nmodes, 1);
  ck_assert(strstr(want, "rc=102") != NULL);
  size_t *cuts = malloc(n * sizeof *cuts);
  for (size_t i = 0; i < n; i++)
    cuts[i] = i;
  char *got = parse_cuts(in, n, cuts, n, modes, nmodes, 1);
  ck_assert(strcmp(got, want) == 0);
  free(got);
  rng_state = 20261127;
  for (int round = 0; round < 50; round++) {
    size_t nc = 0, at = 0;
    while (at < n) {
      at += 1 + rng() % (round < 25 ? 8 : 3000);
      if (at > n)
        at = n;
      cuts[nc++] = at;
    }
    got = parse_cuts(in, n, cuts, nc, modes, nmodes, 1);
    ck_assert(strcmp(got, want) == 0);
    free(got);
  }
  free(cuts);
  free(want);
  free(in);
}
END_TEST

/* Peak bytes held by the parser, through the allocator hooks. */
static size_t cur_bytes, peak_bytes;

static void *track_malloc(size_t n, void *u)
{
  (void)u;
  size_t *p = malloc(n + 16);
  if (!p)
    return NULL;
  *p = n;
  cur_bytes += n;
  if (cur_bytes > peak_bytes)
    peak_bytes = cur_bytes;
  return (char *)p + 16;
}
static void track_free(void *q, void *u)
{
  (void)u;
  if (!q)
    return;
  size_t *p = (size_t *)(void *)((char *)q - 16);
  cur_bytes -= *p;
  free(p);
}
static void *track_calloc(size_t n, size_t s, void *u)
{
  void *q = track_malloc(n * s, u);
  if (q)
    memset(q, 0, n * s);
  return q;
}
static void *track_realloc(void *q, size_t n, void *u)
{
  void *nq = track_malloc(n, u);
  if (!nq || !q)
    return nq;
  size_t old = *(size_t *)(void *)((char *)q - 16);
  memcpy(nq, q, old < n ? old : n);
  track_free(q, u);
  return nq;
}

/* A 1 GiB RETR streams through: the parser never holds more than a few
 * feeds' worth, and every byte arrives unstuffed. */
START_TEST(one_gib_body_streams)
{
  static const mail_allocator track = {NULL, track_malloc, track_free, track_calloc, track_realloc};
  enum { FEED = 64 * 1024 };
  const uint64_t total = 1024ull * 1024 * 1024;
  char *chunk = malloc(FEED);
  /* 64-byte lines; every 8th starts with a stuffed dot. */
  for (size_t i = 0; i < FEED; i += 64) {
    memset(chunk + i, 'a' + (int)(i / 64 % 26), 62);
    if (i / 64 % 8 == 0)
      chunk[i] = '.', chunk[i + 1] = '.';
    chunk[i + 62] = '\r';
    chunk[i + 63] = '\n';
  }
  const uint64_t stuffed = total / 64 / 8;
  cur_bytes = peak_bytes = 0;
  mail_pop3_parser *p;
  int ev;
  ck_assert_int_eq(mail_pop3_parser_new(&p, &track), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_MULTI), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_feed(p, "+OK 1073741824 octets\r\n", 23), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  uint64_t got = 0, dots = 0;
  for (uint64_t fed = 0; fed < total; fed += FEED) {
    ck_assert_int_eq(mail_pop3_parser_feed(p, chunk, FEED), MAIL_OK);
    while (mail_pop3_parser_next(p, &ev) == MAIL_OK) {
      ck_assert_int_eq(ev, MAIL_POP3_EVENT_DATA);
      size_t n;
      const unsigned char *d = mail_pop3_parser_data(p, &n);
      if (d[0] == '.')
        dots++;
      got += n;
    }
  }
  ck_assert_int_eq(mail_pop3_parser_feed(p, ".\r\n", 3), MAIL_OK);
  ck_assert_int_eq(mail_pop3_parser_next(p, &ev), MAIL_OK);
  ck_assert_int_eq(ev, MAIL_POP3_EVENT_END);
  ck_assert_uint_eq(got, total - stuffed);
  ck_assert_uint_eq(dots, stuffed);
  ck_assert_uint_lt(peak_bytes, 4 * FEED + 4096);
  mail_pop3_parser_free(p);
  ck_assert_uint_eq(cur_bytes, 0);
  free(chunk);
}
END_TEST

/* ------------------------------------------------------------ helpers */

START_TEST(stat_list_uidl)
{
  uint32_t a;
  uint64_t b;
  ck_assert_int_eq(mail_pop3_parse_stat(&a, &b, "2 320", 5), MAIL_OK);
  ck_assert_uint_eq(a, 2);
  ck_assert_uint_eq(b, 320);
  ck_assert_int_eq(mail_pop3_parse_stat(&a, &b, "0 0", 3), MAIL_OK);
  ck_assert_uint_eq(a, 0);
  ck_assert_int_eq(mail_pop3_parse_stat(&a, &b, "4294967295 18446744073709551615", 31), MAIL_OK);
  ck_assert_uint_eq(a, UINT32_MAX);
  ck_assert_uint_eq(b, UINT64_MAX);
  ck_assert_int_eq(mail_pop3_parse_list(&a, &b, "1  120 extra info", 17), MAIL_OK);
  ck_assert_uint_eq(a, 1);
  ck_assert_uint_eq(b, 120);
  static const char *bad[] = {
    "", "1", "1 ", " 1 2", "0 5", "-1 2", "+1 2", "1 -2", "1 2x", "1x 2", "4294967296 1",
    "1 18446744073709551616", "1 99999999999999999999", "1\t2", "a b",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    a = 77;
    ck_assert_msg(mail_pop3_parse_list(&a, &b, bad[i], strlen(bad[i])) == MAIL_ERR_PROTOCOL, "%s", bad[i]);
    ck_assert_uint_eq(a, 77);
  }
  ck_assert_int_eq(mail_pop3_parse_stat(&a, &b, "4294967296 1", 12), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_pop3_parse_list(&a, &b, NULL, 0), MAIL_ERR_INVALID);

  const char *uid;
  size_t ul;
  ck_assert_int_eq(mail_pop3_parse_uidl(&a, &uid, &ul, "1 whqtswO00WBw418f9t5JxYwZ", 26), MAIL_OK);
  ck_assert_uint_eq(a, 1);
  ck_assert_uint_eq(ul, 24);
  ck_assert_int_eq(memcmp(uid, "whqtswO00WBw418f9t5JxYwZ", 24), 0);
  ck_assert_int_eq(mail_pop3_parse_uidl(&a, &uid, &ul, "7 ~!x more", 10), MAIL_OK);
  ck_assert_uint_eq(ul, 3);
  char line[80];
  memset(line, 'u', sizeof line);
  line[0] = '9';
  line[1] = ' ';
  ck_assert_int_eq(mail_pop3_parse_uidl(&a, &uid, &ul, line, 72), MAIL_OK);
  ck_assert_uint_eq(ul, 70);
  ck_assert_int_eq(mail_pop3_parse_uidl(&a, &uid, &ul, line, 73), MAIL_ERR_PROTOCOL);
  static const char *badu[] = {"1", "1 ", "0 x", "x y", "1 a\x7f", "1 a\x80", "1 a\tb", "1 \x01"};
  for (size_t i = 0; i < sizeof badu / sizeof *badu; i++)
    ck_assert_msg(mail_pop3_parse_uidl(&a, &uid, &ul, badu[i], strlen(badu[i])) == MAIL_ERR_PROTOCOL,
                  "%s", badu[i]);
}
END_TEST

START_TEST(capa)
{
  mail_pop3_caps *c;
  ck_assert_int_eq(mail_pop3_caps_new(&c, NULL), MAIL_OK);
  static const char *lines[] = {"TOP", "USER", "SASL PLAIN LOGIN  SCRAM-SHA-256",
                                "RESP-CODES", "LOGIN-DELAY 900", "PIPELINING", "EXPIRE NEVER",
                                "UIDL", "IMPLEMENTATION Dovecot", "", "   ", "bad\x01key x",
                                "X-ÄÖ y", "STLS"};
  for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
    ck_assert_int_eq(mail_pop3_caps_add_line(c, lines[i], strlen(lines[i])), MAIL_OK);
  ck_assert_int_eq(mail_pop3_caps_add_line(c, "A\0B", 3), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_caps_count(c), 10);
  size_t i;
  ck_assert_int_eq(mail_pop3_caps_find(c, "sasl", &i), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_caps_param_count(c, i), 3);
  ck_assert_str_eq(mail_pop3_caps_param(c, i, 2), "SCRAM-SHA-256");
  ck_assert_int_eq(mail_pop3_caps_find(c, "LOGIN-DELAY", &i), MAIL_OK);
  ck_assert_str_eq(mail_pop3_caps_param(c, i, 0), "900");
  ck_assert_int_eq(mail_pop3_caps_find(c, "STLS", &i), MAIL_OK);
  ck_assert_uint_eq(i, 9);
  ck_assert_str_eq(mail_pop3_caps_keyword(c, 0), "TOP");
  ck_assert_int_eq(mail_pop3_caps_find(c, "APOP", NULL), MAIL_ERR_NOT_FOUND);
  mail_pop3_caps_clear(c);
  ck_assert_uint_eq(mail_pop3_caps_count(c), 0);
  ck_assert_int_eq(mail_pop3_caps_add_line(NULL, "X", 1), MAIL_ERR_INVALID);
  mail_pop3_caps_free(c);
  mail_pop3_caps_free(NULL);
}
END_TEST

/* The line-level functions the engine uses with its reader (dot
 * unstuffing itself is tested in test_dot.c). */
START_TEST(engine_level_api)
{
  mail_allocator a;
  mail_alloc_init(&a, NULL);
  mail_pop3_reply r;
  mail_pop3_reply_init(&r, &a);
  ck_assert_int_eq(mail_pop3_reply_parse(&r, "-ERR [AUTH] no", 14), MAIL_OK);
  ck_assert_int_eq(r.code_id, MAIL_POP3_CODE_AUTH);
  ck_assert_int_eq(mail_pop3_reply_parse(&r, "+OK", 3), MAIL_OK);
  ck_assert_int_eq(r.code_id, MAIL_POP3_CODE_NONE);
  ck_assert_int_eq(mail_pop3_reply_parse(&r, "bad", 3), MAIL_ERR_PROTOCOL);
  mail_pop3_reply_release(&r);
}
END_TEST

/* ------------------------------------------- allocation failure runs */


static int full_run(void *user, mail_test_alloc *ta)
{
  const mail_allocator *FAILING = mail_test_alloc_hooks(ta);
  static const char in[] = "+OK\r\nSASL PLAIN\r\nUIDL\r\n.\r\n-ERR [SYS/TEMP] later\r\n";
  mail_pop3_parser *p = NULL;
  mail_pop3_caps *c = NULL;
  mail_pop3_reply *keep = NULL;
  int ev;
  int rc = mail_pop3_parser_new(&p, FAILING);
  if (!rc)
    rc = mail_pop3_caps_new(&c, FAILING);
  if (!rc)
    rc = mail_pop3_parser_expect(p, MAIL_POP3_EXPECT_MULTI_LINES);
  if (!rc)
    rc = mail_pop3_parser_feed(p, in, sizeof in - 1);
  while (!rc && (rc = mail_pop3_parser_next(p, &ev)) == MAIL_OK) {
    if (ev == MAIL_POP3_EVENT_LINE) {
      size_t n;
      const unsigned char *d = mail_pop3_parser_data(p, &n);
      rc = mail_pop3_caps_add_line(c, (const char *)d, n);
    } else if (ev == MAIL_POP3_EVENT_REPLY && mail_pop3_reply_status(mail_pop3_parser_reply(p)) == MAIL_POP3_ERR) {
      rc = mail_pop3_reply_clone(&keep, mail_pop3_parser_reply(p), FAILING);
      break;
    }
  }
  if (!rc)
    ck_assert_uint_eq(mail_pop3_caps_count(c), 2);
  mail_pop3_reply_free(keep);
  mail_pop3_caps_free(c);
  mail_pop3_parser_free(p);
  return rc;
}

START_TEST(allocation_failures)
{
  mail_test_nomem_result res;
  ck_assert_msg(mail_test_each_allocation("pop3_reply", full_run, NULL, MAIL_OK, MAIL_TEST_NOMEM_EXACT,
                                          &res) == 0,
                "%s", res.report);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("pop3_reply");
  TCase *t = tcase_create("pop3_reply");
  tcase_set_timeout(t, 100);
  tcase_add_test(t, status_lines);
  tcase_add_test(t, bad_status_lines);
  tcase_add_test(t, codes_by_name);
  tcase_add_test(t, dot_unstuffing);
  tcase_add_test(t, line_mode);
  tcase_add_test(t, expect_rules);
  tcase_add_test(t, end_of_input);
  tcase_add_test(t, limits);
  tcase_add_test(t, reply_copies);
  tcase_add_test(t, every_split_and_pair);
  tcase_add_test(t, every_split_of_dot_cases);
  tcase_add_test(t, byte_at_a_time_and_random_splits);
  tcase_add_test(t, one_gib_body_streams);
  tcase_add_test(t, stat_list_uidl);
  tcase_add_test(t, capa);
  tcase_add_test(t, engine_level_api);
  tcase_add_test(t, allocation_failures);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

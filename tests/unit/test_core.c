/* Unit tests for lib/core: buffers, the reader, the command queue, status. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/env.h"
#include "core/mem.h"
#include "core/reader.h"

static mail_allocator A;

static void setup(void) { mail_alloc_init(&A, NULL); }

START_TEST(status_strings)
{
  ck_assert_str_eq(mail_strerror(MAIL_OK), "success");
  ck_assert_str_eq(mail_strerror(12345), "unknown error");
  for (int s = -200; s <= 0; s++)
    ck_assert_ptr_nonnull(mail_strerror(s));
  ck_assert(!mail_status_is_fatal(MAIL_ERR_AUTH));
  ck_assert(mail_status_is_fatal(MAIL_ERR_TIMEOUT));
  ck_assert(mail_status_is_fatal(MAIL_ERR_STARTTLS_INJECTION));
  ck_assert(!mail_status_is_fatal(MAIL_OK));
}
END_TEST

START_TEST(limits_defaults)
{
  mail_limits l;
  mail_limits_default(&l);
  ck_assert_uint_eq(l.version, MAIL_LIMITS_VERSION);
  ck_assert_uint_eq(l.max_line, 64 * 1024);
  ck_assert_uint_gt(l.max_depth, 0);
}
END_TEST

START_TEST(buf_limit_and_growth)
{
  mail_buf b;
  mail_buf_init(&b, &A, 10);
  ck_assert_int_eq(mail_buf_append(&b, "0123456789", 10), MAIL_OK);
  ck_assert_int_eq(mail_buf_append(&b, "x", 1), MAIL_ERR_LIMIT);
  ck_assert_uint_eq(b.len, 10);
  mail_buf_consume(&b, 4);
  ck_assert_int_eq(memcmp(b.data, "456789", 6), 0);
  ck_assert_int_eq(mail_buf_appendf(&b, "%d", 42), MAIL_OK);
  ck_assert_int_eq(memcmp(b.data, "45678942", 8), 0);
  mail_buf_free(&b);

  mail_buf_init(&b, &A, 0);
  for (int i = 0; i < 10000; i++)
    ck_assert_int_eq(mail_buf_appendf(&b, "line %d\r\n", i), MAIL_OK);
  mail_buf_free(&b);
}
END_TEST

/* Feed the same input at every split point; the lines must not change. */
START_TEST(reader_every_split)
{
  const char *in = "250-first\r\n250 second\n\r\nlast\r\n";
  const char *want[] = {"250-first", "250 second", "", "last"};
  size_t n = strlen(in);
  for (size_t cut = 0; cut <= n; cut++) {
    mail_reader r;
    mail_reader_init(&r, &A, 1024);
    size_t got = 0;
    const char *line;
    size_t len;
    ck_assert_int_eq(mail_reader_feed(&r, in, cut), MAIL_OK);
    while (mail_reader_line(&r, &line, &len, NULL) == MAIL_OK) {
      ck_assert_uint_eq(len, strlen(want[got]));
      ck_assert_int_eq(memcmp(line, want[got], len), 0);
      got++;
    }
    ck_assert_int_eq(mail_reader_feed(&r, in + cut, n - cut), MAIL_OK);
    while (mail_reader_line(&r, &line, &len, NULL) == MAIL_OK) {
      ck_assert_uint_eq(len, strlen(want[got]));
      ck_assert_int_eq(memcmp(line, want[got], len), 0);
      got++;
    }
    ck_assert_uint_eq(got, 4);
    ck_assert_uint_eq(mail_reader_pending(&r), 0);
    mail_reader_free(&r);
  }
}
END_TEST

START_TEST(reader_line_limit)
{
  mail_reader r;
  mail_reader_init(&r, &A, 16);
  const char *line;
  size_t len;
  ck_assert_int_eq(mail_reader_feed(&r, "0123456789abcde", 15), MAIL_OK);
  ck_assert_int_eq(mail_reader_line(&r, &line, &len, NULL), MAIL_ERR_AGAIN);
  ck_assert_int_eq(mail_reader_feed(&r, "fg", 2), MAIL_OK);
  ck_assert_int_eq(mail_reader_line(&r, &line, &len, NULL), MAIL_ERR_LIMIT);
  mail_reader_free(&r);

  mail_reader_init(&r, &A, 16);
  ck_assert_int_eq(mail_reader_feed(&r, "0123456789abcd\r\n", 16), MAIL_OK);
  ck_assert_int_eq(mail_reader_line(&r, &line, &len, NULL), MAIL_OK);
  ck_assert_uint_eq(len, 14);
  mail_reader_set_eof(&r);
  ck_assert_int_eq(mail_reader_line(&r, &line, &len, NULL), MAIL_ERR_CLOSED);
  mail_reader_free(&r);
}
END_TEST

START_TEST(reader_take_streams)
{
  mail_reader r;
  mail_reader_init(&r, &A, 64);
  /* A body far larger than max_line streams through in pieces. */
  size_t total = 0;
  char chunk[1000];
  memset(chunk, 'x', sizeof chunk);
  for (int i = 0; i < 1000; i++) {
    ck_assert_int_eq(mail_reader_feed(&r, chunk, sizeof chunk), MAIL_OK);
    const unsigned char *p;
    size_t n;
    while (mail_reader_take(&r, 300, &p, &n) == MAIL_OK) {
      ck_assert_uint_le(n, 300);
      ck_assert_int_eq(p[0], 'x');
      total += n;
    }
  }
  ck_assert_uint_eq(total, 1000 * 1000);
  mail_reader_free(&r);
}
END_TEST

START_TEST(cmdq_fifo_and_find)
{
  mail_cmdq q;
  mail_cmdq_init(&q, &A, 100);
  for (uint32_t i = 0; i < 100; i++) {
    mail_cmd c = {.kind = 1, .tag = i, .arg = i * 2};
    ck_assert_int_eq(mail_cmdq_push(&q, &c), MAIL_OK);
  }
  mail_cmd c = {0};
  ck_assert_int_eq(mail_cmdq_push(&q, &c), MAIL_ERR_LIMIT);
  ck_assert_int_eq(mail_cmdq_pop(&q, &c), 1);
  ck_assert_uint_eq(c.tag, 0);
  long at = mail_cmdq_find(&q, 50);
  ck_assert_int_eq(at, 49);
  ck_assert_int_eq(mail_cmdq_remove_at(&q, (size_t)at, &c), 1);
  ck_assert_uint_eq(c.arg, 100);
  ck_assert_int_eq(mail_cmdq_find(&q, 50), -1);
  ck_assert_uint_eq(mail_cmdq_count(&q), 98);
  ck_assert_uint_eq(mail_cmdq_head(&q)->tag, 1);
  mail_cmdq_free(&q);
}
END_TEST

START_TEST(crlf_guard)
{
  ck_assert(mail_has_crlfnul("a\rb", 3));
  ck_assert(mail_has_crlfnul("a\nb", 3));
  ck_assert(mail_has_crlfnul("a\0b", 3));
  ck_assert(!mail_has_crlfnul("abc", 3));
}
END_TEST

static int fixed_random(void *u, unsigned char *b, size_t n)
{
  (void)u;
  memset(b, 0xab, n);
  return 0;
}

START_TEST(env_injection)
{
  mail_env e;
  ck_assert_int_eq(mail_env_init(&e, NULL), MAIL_OK);
  unsigned char b[8];
  ck_assert_int_eq(mail_env_random(&e, b, sizeof b), MAIL_OK);
  mail_env_set_random(&e, fixed_random, NULL);
  ck_assert_int_eq(mail_env_random(&e, b, sizeof b), MAIL_OK);
  ck_assert_int_eq(b[7], 0xab);
  ck_assert_int_gt(mail_env_now(&e, MAIL_CLOCK_REALTIME), 1600000000000LL);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("core");
  TCase *t = tcase_create("core");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, status_strings);
  tcase_add_test(t, limits_defaults);
  tcase_add_test(t, buf_limit_and_growth);
  tcase_add_test(t, reader_every_split);
  tcase_add_test(t, reader_line_limit);
  tcase_add_test(t, reader_take_streams);
  tcase_add_test(t, cmdq_fifo_and_find);
  tcase_add_test(t, crlf_guard);
  tcase_add_test(t, env_injection);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

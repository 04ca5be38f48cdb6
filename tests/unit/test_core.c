/* Unit tests for lib/core: buffers, the reader, the command queue, status. */
#include <check.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/cmdq.h"
#include "core/conn_internal.h"
#include "core/env.h"
#include "core/mem.h"
#include "core/reader.h"
#include "core/sort.h"
#include "core/utf8.h"

static mail_allocator A;

static void setup(void) { mail_alloc_init(&A, NULL); }

/* Every status there is: -Wswitch (with -Werror) fails this file's build
 * when a code is added to mail_status and not here, and the test below then
 * requires a text of its own for it. */
static int is_status(int s)
{
  switch ((mail_status)s) {
  case MAIL_OK:
  case MAIL_ERR_AGAIN:
  case MAIL_ERR_INVALID:
  case MAIL_ERR_NOMEM:
  case MAIL_ERR_STATE:
  case MAIL_ERR_UNSUPPORTED:
  case MAIL_ERR_SERVER:
  case MAIL_ERR_AUTH:
  case MAIL_ERR_NO_MECHANISM:
  case MAIL_ERR_INSECURE:
  case MAIL_ERR_TOO_BIG:
  case MAIL_ERR_NOT_FOUND:
  case MAIL_ERR_BUFFER:
  case MAIL_ERR_CANCELLED:
  case MAIL_ERR_RECIPIENTS:
  case MAIL_ERR_PARTIAL:
  case MAIL_ERR_CALLBACK:
  case MAIL_ERR_CHARSET:
  case MAIL_ERR_SYNTAX:
  case MAIL_ERR_FILE:
  case MAIL_ERR_NEEDS_SMTPUTF8:
  case MAIL_ERR_REQUIRETLS:
  case MAIL_ERR_SASL_BAD_CHALLENGE:
  case MAIL_ERR_THROTTLED:
  case MAIL_ERR_SERVER_LIMIT:
  case MAIL_ERR_TOO_MANY_CONNECTIONS:
  case MAIL_ERR_NOT_ATTEMPTED:
  case MAIL_ERR_IO:
  case MAIL_ERR_TIMEOUT:
  case MAIL_ERR_CLOSED:
  case MAIL_ERR_RESOLVE:
  case MAIL_ERR_CONNECT:
  case MAIL_ERR_TLS:
  case MAIL_ERR_TLS_VERIFY:
  case MAIL_ERR_STARTTLS:
  case MAIL_ERR_STARTTLS_INJECTION:
  case MAIL_ERR_PROTOCOL:
  case MAIL_ERR_LIMIT:
  case MAIL_ERR_SERVER_CLOSING:
  case MAIL_ERR_SASL_SERVER:
  case MAIL_ERR_INTERNAL:
  case MAIL_ERR_PROXY:
    return 1;
  }
  return 0;
}

START_TEST(status_strings)
{
  ck_assert_str_eq(mail_strerror(MAIL_OK), "success");
  ck_assert_str_eq(mail_strerror(MAIL_ERR_PROXY), "the proxy did not open the tunnel");
  ck_assert_str_eq(mail_strerror(MAIL_ERR_IO), "input/output error");
  ck_assert_str_eq(mail_strerror(12345), "unknown error");
  ck_assert_str_eq(mail_strerror(1), "unknown error");
  ck_assert_str_eq(mail_strerror(-2147483647 - 1), "unknown error");
  const char *seen[256] = {0};
  size_t n = 0;
  for (int s = -200; s <= 0; s++) {
    const char *t = mail_strerror(s);
    ck_assert_ptr_nonnull(t);
    if (!is_status(s)) {
      ck_assert_msg(strcmp(t, "unknown error") == 0, "status %d has text \"%s\"", s, t);
      continue;
    }
    ck_assert_msg(strcmp(t, "unknown error") != 0 && t[0], "status %d has no text", s);
    for (size_t i = 0; i < n; i++)
      ck_assert_msg(strcmp(seen[i], t) != 0, "status %d shares the text \"%s\"", s, t);
    seen[n++] = t;
  }
  ck_assert(!mail_status_is_fatal(MAIL_ERR_AUTH));
  ck_assert(mail_status_is_fatal(MAIL_ERR_TIMEOUT));
  ck_assert(mail_status_is_fatal(MAIL_ERR_STARTTLS_INJECTION));
  ck_assert(!mail_status_is_fatal(MAIL_OK));
}
END_TEST

START_TEST(limits_defaults)
{
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  ck_assert_uint_eq(l.version, MAIL_LIMITS_VERSION);
  ck_assert_uint_eq(l.max_line, 64 * 1024);
  ck_assert_uint_gt(l.max_depth, 0);
  ck_assert_uint_eq(l.max_response, 1024 * 1024);
  ck_assert_uint_eq(l.max_lines, 10000);
  ck_assert_uint_ge(l.max_items, 10000000);
  ck_assert_uint_ge(l.max_output, 16 * 1024);
  ck_assert_int_eq(mail_limits_init(&l, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION + 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_limits_init(NULL, 1), MAIL_ERR_INVALID);
}
END_TEST

/* A caller built against version 1: its struct ends after max_items. */
typedef struct limits_v1 {
  unsigned int version;
  size_t max_line, max_literal, max_response;
  unsigned int max_depth;
  size_t max_items;
} limits_v1;

/* The v1 struct between guard bytes: nothing past it may be written. */
typedef struct guarded_v1 {
  unsigned char before[32];
  limits_v1 l;
  unsigned char after[64];
} guarded_v1;

static void guard_fill(guarded_v1 *g)
{
  memset(g, 0xA5, sizeof *g);
}

static void guard_check(const guarded_v1 *g)
{
  for (size_t i = 0; i < sizeof g->before; i++)
    ck_assert_uint_eq(g->before[i], 0xA5);
  for (size_t i = 0; i < sizeof g->after; i++)
    ck_assert_uint_eq(g->after[i], 0xA5);
}

START_TEST(limits_version_1_struct)
{
  /* The v1 layout is a prefix of the v2 one. */
  ck_assert_uint_eq(offsetof(mail_limits, max_items), offsetof(limits_v1, max_items));
  ck_assert_uint_gt(sizeof(mail_limits), sizeof(limits_v1));

  guarded_v1 g;
  guard_fill(&g);
  mail_limits_default((mail_limits *)(void *)&g.l);
  guard_check(&g);
  ck_assert_uint_eq(g.l.version, 1);
  ck_assert_uint_eq(g.l.max_line, 64 * 1024);

  guard_fill(&g);
  g.l.version = 1;
  ck_assert_int_eq(mail_limits_init((mail_limits *)(void *)&g.l, 1), MAIL_OK);
  guard_check(&g);

  mail_conn *c;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  /* Set through a v1 struct: the v2 bounds keep their defaults. */
  g.l.max_response = 4096;
  ck_assert_int_eq(mail_conn_set_limits(c, (const mail_limits *)(const void *)&g.l), MAIL_OK);
  ck_assert_uint_eq(mail_conn_limits(c)->max_response, 4096);
  ck_assert_uint_eq(mail_conn_limits(c)->max_lines, 10000);
  ck_assert_uint_eq(mail_conn_limits(c)->max_output, 4u * 1024 * 1024);

  /* Read back into a v1 struct: only its fields are written. */
  guard_fill(&g);
  g.l.version = 1;
  mail_conn_get_limits(c, (mail_limits *)(void *)&g.l);
  guard_check(&g);
  ck_assert_uint_eq(g.l.version, 1);
  ck_assert_uint_eq(g.l.max_response, 4096);

  /* A v2 struct gets the v2 fields; a newer version is answered with 2. */
  mail_limits l2 = {.version = 2};
  l2.max_lines = 123;
  l2.max_output = 1;
  mail_conn_get_limits(c, &l2);
  ck_assert_uint_eq(l2.max_lines, 10000);
  ck_assert_uint_eq(l2.max_output, 4u * 1024 * 1024);
  l2.max_lines = 50;
  l2.max_output = 32 * 1024;
  ck_assert_int_eq(mail_conn_set_limits(c, &l2), MAIL_OK);
  ck_assert_uint_eq(mail_conn_limits(c)->max_lines, 50);
  l2.version = 7;
  mail_conn_get_limits(c, &l2);
  ck_assert_uint_eq(l2.version, 2);
  ck_assert_uint_eq(l2.max_output, 32 * 1024);
  /* Bad v2 bounds are refused and change nothing. */
  l2.max_output = 100;
  ck_assert_int_eq(mail_conn_set_limits(c, &l2), MAIL_ERR_INVALID);
  l2.max_output = 32 * 1024;
  l2.max_lines = 0;
  ck_assert_int_eq(mail_conn_set_limits(c, &l2), MAIL_ERR_INVALID);
  ck_assert_uint_eq(mail_conn_limits(c)->max_lines, 50);
  mail_conn_free(c);
}
END_TEST

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

START_TEST(sort_without_allocation)
{
  static int v[2000];
  for (size_t n = 0; n <= 2000; n = n ? n * 3 : 1) {
    unsigned x = 12345;
    for (size_t i = 0; i < n; i++) {
      x = x * 1103515245u + 12345u;
      v[i] = (int)(x >> 16) % 100; /* many equal keys */
    }
    mail_sort(v, n, sizeof v[0], cmp_int);
    for (size_t i = 1; i < n; i++)
      ck_assert_int_le(v[i - 1], v[i]);
  }
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

/* RFC 4648 section 10 vectors. */
static const char *B64_PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *B64_ENC[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

START_TEST(base64_vectors)
{
  for (int i = 0; i < 7; i++) {
    char enc[16];
    unsigned char dec[16];
    size_t n = mail_b64_encode(B64_PLAIN[i], strlen(B64_PLAIN[i]), enc);
    ck_assert_uint_eq(n, strlen(B64_ENC[i]));
    ck_assert_int_eq(memcmp(enc, B64_ENC[i], n), 0);
    long d = mail_b64_decode_strict(B64_ENC[i], strlen(B64_ENC[i]), dec);
    ck_assert_int_eq(d, (long)strlen(B64_PLAIN[i]));
    ck_assert_int_eq(memcmp(dec, B64_PLAIN[i], (size_t)d), 0);
  }
}
END_TEST

START_TEST(base64_strict_rejects)
{
  unsigned char out[16];
  const char *bad[] = {"Zg=", "Zg", "Z===", "Zm9v\r\n", "Zm 9v", "Zh==", "Zm9=", "Zg==Zg==", "Zm9v!A==", "=Zm9"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(mail_b64_decode_strict(bad[i], strlen(bad[i]), out) < 0, "accepted %s", bad[i]);
}
END_TEST

START_TEST(base64_stream_every_split)
{
  const char *in = "Zm9v\r\nYmFy IQ\t==\r\n";
  size_t n = strlen(in);
  for (size_t cut = 0; cut <= n; cut++) {
    mail_b64_stream s;
    mail_b64_stream_init(&s);
    unsigned char out[64];
    size_t k = mail_b64_stream_decode(&s, in, cut, out);
    k += mail_b64_stream_decode(&s, in + cut, n - cut, out + k);
    k += mail_b64_stream_finish(&s, out + k);
    ck_assert_uint_eq(k, 7);
    ck_assert_int_eq(memcmp(out, "foobar!", 7), 0);
    ck_assert_uint_eq(s.garbage, 0);
    ck_assert(!s.incomplete);
  }
}
END_TEST

START_TEST(base64_stream_defects)
{
  mail_b64_stream s;
  unsigned char out[64];
  mail_b64_stream_init(&s);
  size_t k = mail_b64_stream_decode(&s, "Zm9v*YmE", 8, out);
  k += mail_b64_stream_finish(&s, out + k);
  ck_assert_uint_eq(s.garbage, 1);
  ck_assert(s.incomplete);
  ck_assert_uint_eq(k, 5);
  ck_assert_int_eq(memcmp(out, "fooba", 5), 0);
}
END_TEST

START_TEST(base64_wrapped_roundtrip)
{
  unsigned char data[1000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (unsigned char)(i * 7);
  size_t need = mail_b64_encoded_wrapped_len(sizeof data, 76);
  char *enc = malloc(need);
  ck_assert_uint_eq(mail_b64_encode_wrapped(data, sizeof data, 76, enc), need);
  ck_assert_int_eq(enc[76], '\r');
  mail_b64_stream s;
  mail_b64_stream_init(&s);
  unsigned char *dec = malloc(MAIL_B64_DECODED_MAX(need));
  size_t k = mail_b64_stream_decode(&s, enc, need, dec);
  k += mail_b64_stream_finish(&s, dec + k);
  ck_assert_uint_eq(k, sizeof data);
  ck_assert_int_eq(memcmp(dec, data, k), 0);
  free(enc);
  free(dec);
}
END_TEST

START_TEST(utf8_validity)
{
  ck_assert(mail_utf8_valid("", 0));
  ck_assert(mail_utf8_valid("plain ascii text, longer than eight", 35));
  ck_assert(mail_utf8_valid("p\xc3\xa4ss w\xc3\xb6rd \xe2\x82\xac \xf0\x9f\x93\xa7", 20));
  ck_assert(!mail_utf8_valid("\xc0\xaf", 2));             /* overlong '/' */
  ck_assert(!mail_utf8_valid("\xe0\x80\xaf", 3));         /* overlong, 3 bytes */
  ck_assert(!mail_utf8_valid("\xed\xa0\x80", 3));         /* surrogate D800 */
  ck_assert(!mail_utf8_valid("\xf4\x90\x80\x80", 4));     /* past U+10FFFF */
  ck_assert(!mail_utf8_valid("abcdefgh\xe2\x82", 10));     /* truncated after the fast path */
  ck_assert(!mail_utf8_valid("\x80", 1));                  /* lone continuation */
  ck_assert(!mail_utf8_valid("\xff", 1));
}
END_TEST

/* One byte >= 0x80 anywhere in a buffer of any length is seen, in the
 * 32-byte steps and in the tail. */
START_TEST(ascii_only)
{
  unsigned char b[100];
  memset(b, 'a', sizeof b);
  ck_assert(mail_ascii_only(b, 0));
  for (size_t n = 1; n <= sizeof b; n++) {
    ck_assert(mail_ascii_only(b, n));
    for (size_t i = 0; i < n; i++) {
      b[i] = 0x80;
      if (mail_ascii_only(b, n))
        ck_abort_msg("0x80 at %zu of %zu not seen", i, n);
      b[i] = 0xff;
      if (mail_ascii_only(b, n))
        ck_abort_msg("0xff at %zu of %zu not seen", i, n);
      b[i] = 0x7f;
      if (!mail_ascii_only(b, n))
        ck_abort_msg("0x7f at %zu of %zu taken for 8-bit", i, n);
      b[i] = 'a';
    }
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("core");
  TCase *t = tcase_create("core");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, status_strings);
  tcase_add_test(t, limits_defaults);
  tcase_add_test(t, limits_version_1_struct);
  tcase_add_test(t, buf_limit_and_growth);
  tcase_add_test(t, sort_without_allocation);
  tcase_add_test(t, reader_every_split);
  tcase_add_test(t, reader_line_limit);
  tcase_add_test(t, reader_take_streams);
  tcase_add_test(t, cmdq_fifo_and_find);
  tcase_add_test(t, crlf_guard);
  tcase_add_test(t, env_injection);
  tcase_add_test(t, utf8_validity);
  tcase_add_test(t, ascii_only);
  tcase_add_test(t, base64_vectors);
  tcase_add_test(t, base64_strict_rejects);
  tcase_add_test(t, base64_stream_every_split);
  tcase_add_test(t, base64_stream_defects);
  tcase_add_test(t, base64_wrapped_roundtrip);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

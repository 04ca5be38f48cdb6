/* Unit tests for the IMAP response parser (mail/imap_parse.h). Every input
 * is also parsed at every split point and byte by byte: the JSON of the
 * responses (examples/imap_json.c) and the streamed bytes must not change. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap_parse.h>

#include "../../examples/imap_json.h"
#include "../support/alloc.h"
#include "../support/each_alloc.h"

/* ------------------------------------------------------------ harness */

typedef struct capture {
  char *json;
  size_t json_len;
  char *body;
  size_t body_len;
  FILE *bf;
  int rc;
} capture;

static int collect_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                        const unsigned char *data, size_t len)
{
  FILE *f = user;
  size_t n, sn;
  const char *item = mail_imap_section_item(s, &n);
  const char *spec = mail_imap_section_spec(s, &sn);
  if (ev == MAIL_IMAP_BODY_BEGIN)
    fprintf(f, "<%.*s[%.*s] %u %llu>", (int)n, item, (int)sn, spec, mail_imap_section_message(s),
            (unsigned long long)mail_imap_section_size(s));
  else if (ev == MAIL_IMAP_BODY_DATA)
    fwrite(data, 1, len, f);
  else
    fputs("</>", f);
  return 0;
}

/* Parse in chunks: split 0 whole, SIZE_MAX byte by byte, else two parts. */
static void run(capture *c, const char *in, size_t n, size_t split, const mail_limits *lim)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  if (lim)
    ck_assert_int_eq(mail_imap_parser_set_limits(p, lim), MAIL_OK);
  FILE *jf = open_memstream(&c->json, &c->json_len);
  c->bf = open_memstream(&c->body, &c->body_len);
  mail_imap_parser_set_body_callback(p, collect_body, c->bf);
  size_t at = 0;
  int rc = MAIL_ERR_AGAIN;
  while (rc == MAIL_ERR_AGAIN) {
    if (at < n) {
      size_t k = split == 0 ? n : split == SIZE_MAX ? 1 : (at < split ? split : n - at);
      if (k > n - at)
        k = n - at;
      rc = mail_imap_parser_feed(p, in + at, k);
      at += k;
      if (rc)
        break;
    } else {
      mail_imap_parser_end(p);
    }
    const mail_imap_response *r;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
      imap_json_response(jf, r);
    if (rc == MAIL_ERR_AGAIN && at == n && split != 0 && 0)
      break;
    if (rc != MAIL_ERR_AGAIN)
      break;
  }
  c->rc = rc;
  fclose(jf);
  fclose(c->bf);
  mail_imap_parser_free(p);
}

static void capture_free(capture *c)
{
  free(c->json);
  free(c->body);
}

/* Parse whole, at every split point and byte by byte; the results must
 * agree. Returns the JSON (caller frees), *rc the final status. */
static char *parse_all(const char *in, size_t n, const mail_limits *lim, int *rc, char **body)
{
  capture ref;
  run(&ref, in, n, 0, lim);
  size_t step = n > 3000 ? n / 300 : 1;
  for (size_t split = 1; split < n; split += step) {
    capture c;
    run(&c, in, n, split, lim);
    if (strcmp(c.json, ref.json) || c.body_len != ref.body_len ||
        memcmp(c.body, ref.body, c.body_len) || c.rc != ref.rc)
      ck_abort_msg("split at %zu differs:\n%s\nvs whole:\n%s", split, c.json, ref.json);
    capture_free(&c);
  }
  if (n < 20000) {
    capture c;
    run(&c, in, n, SIZE_MAX, lim);
    ck_assert_str_eq(c.json, ref.json);
    ck_assert_int_eq(c.rc, ref.rc);
    ck_assert(c.body_len == ref.body_len && !memcmp(c.body, ref.body, c.body_len));
    capture_free(&c);
  }
  if (rc)
    *rc = ref.rc;
  if (body)
    *body = ref.body;
  else
    free(ref.body);
  return ref.json;
}

/* The JSON of in must contain every string of want (NULL-terminated), the
 * parse must end cleanly, and every split must agree. */
static void expect_json(const char *in, const char *const *want)
{
  int rc;
  char *j = parse_all(in, strlen(in), NULL, &rc, NULL);
  ck_assert_msg(rc == MAIL_ERR_CLOSED, "status %d for %s", rc, in);
  for (; *want; want++)
    ck_assert_msg(strstr(j, *want), "missing %s in\n%s", *want, j);
  free(j);
}

#define EXPECT(in, ...)                                                                   \
  do {                                                                                    \
    static const char *const want_[] = {__VA_ARGS__, NULL};                               \
    expect_json(in, want_);                                                               \
  } while (0)

/* A parser holding the responses of in; take them with next(). */
typedef struct one {
  mail_imap_parser *p;
  const mail_imap_response *r;
} one;

static const mail_imap_response *first_n(one *o, const char *in, size_t n)
{
  /* the split check first */
  int rc;
  free(parse_all(in, n, NULL, &rc, NULL));
  ck_assert_int_eq(mail_imap_parser_new(&o->p, NULL), MAIL_OK);
  mail_imap_parser_expect_greeting(o->p, 0);
  ck_assert_int_eq(mail_imap_parser_feed(o->p, in, n), MAIL_OK);
  mail_imap_parser_end(o->p);
  ck_assert_int_eq(mail_imap_parser_next(o->p, &o->r), MAIL_OK);
  return o->r;
}

static const mail_imap_response *first(one *o, const char *in)
{
  return first_n(o, in, strlen(in));
}

static const mail_imap_response *again(one *o)
{
  ck_assert_int_eq(mail_imap_parser_next(o->p, &o->r), MAIL_OK);
  return o->r;
}

static void done(one *o)
{
  mail_imap_parser_free(o->p);
}

static int eq(const char *s, size_t n, const char *want)
{
  return s && n == strlen(want) && !memcmp(s, want, n);
}

#define STR_EQ(call, want)                                                                \
  do {                                                                                    \
    size_t n_;                                                                            \
    const char *s_ = call;                                                                \
    ck_assert_msg(eq(s_, n_, want), "%s: got '%.*s'", #call, s_ ? (int)n_ : 4,            \
                  s_ ? s_ : "NULL");                                                      \
  } while (0)

static size_t defects(const mail_imap_response *r)
{
  return mail_imap_response_defect_count(r);
}

/* ------------------------------------------------------------ framing */

START_TEST(greeting_and_tagged)
{
  one o;
  const char *in = "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n"
                   "a1 OK [READ-WRITE] Select completed (0.001 secs).\r\n";
  ck_assert_int_eq(mail_imap_parser_new(&o.p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_feed(o.p, in, strlen(in)), MAIL_OK);
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_next(o.p, &r), MAIL_OK);
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_GREETING);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_OK);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_CAPABILITY);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 4);
  STR_EQ(mail_imap_response_string(r, 3, &n_), "AUTH=PLAIN");
  STR_EQ(mail_imap_response_text(r, &n_), "Dovecot ready.");
  uint64_t a, b;
  mail_imap_response_span(r, &a, &b);
  ck_assert(a == 0 && b == (uint64_t)(strchr(in, '\n') + 1 - in));
  ck_assert_int_eq(mail_imap_parser_next(o.p, &r), MAIL_OK);
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_TAGGED);
  STR_EQ(mail_imap_response_tag(r, &n_), "a1");
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_READ_WRITE);
  mail_imap_response_span(r, &a, &b);
  ck_assert(a == (uint64_t)(strchr(in, '\n') + 1 - in) && b == strlen(in));
  ck_assert_int_eq(mail_imap_parser_next(o.p, &r), MAIL_ERR_AGAIN);
  mail_imap_parser_end(o.p);
  ck_assert_int_eq(mail_imap_parser_next(o.p, &r), MAIL_ERR_CLOSED);
  done(&o);
  EXPECT("* PREAUTH [CAPABILITY IMAP4rev2] hi\r\n", "\"kind\":\"greeting\"", "\"type\":\"PREAUTH\"");
  EXPECT("* BYE [UNAVAILABLE] busy\r\n", "\"kind\":\"greeting\"", "\"code\":\"UNAVAILABLE\"");
}
END_TEST

START_TEST(literal_holds_anything)
{
  /* A body holding CRLF, a forged tagged OK and a literal marker. */
  const char *in = "* 1 FETCH (UID 7 BODY[] {38}\r\n"
                   "A1 OK forged\r\n* 2 EXISTS\r\nx {5}\r\n\r\nabc"
                   " FLAGS (\\Seen))\r\n"
                   "A1 OK done\r\n";
  char *body;
  int rc;
  char *j = parse_all(in, strlen(in), NULL, &rc, &body);
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  ck_assert_str_eq(body, "<BODY[] 1 38>A1 OK forged\r\n* 2 EXISTS\r\nx {5}\r\n\r\nabc</>");
  ck_assert_ptr_nonnull(strstr(j, "\"UID\":7,"));
  ck_assert_ptr_nonnull(strstr(j, "\"FLAGS\":[\"\\\\Seen\"]"));
  ck_assert_ptr_nonnull(strstr(j, "\"tag\":\"A1\",\"type\":\"OK\",\"code\":null,\"text\":\"done\""));
  ck_assert_ptr_null(strstr(j, "forged\""));
  free(j);
  free(body);
  /* Held literals (a subject) and several literals in one response. */
  one o;
  static const char lit[] = "* 3 FETCH (ENVELOPE (NIL {7}\r\nA\r\nB\"C) NIL NIL NIL NIL NIL NIL NIL NIL) "
                            "BODY[HEADER.FIELDS (TO CC)]<0> {2}\r\nhi BINARY[1] ~{3}\r\na\0b"
                            " X-UNKNOWN {4}\r\n(((( UID 9)\r\n";
  const mail_imap_response *r = first_n(&o, lit, sizeof lit - 1);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_FETCH);
  const mail_imap_envelope *e = mail_imap_fetch_envelope(r);
  ck_assert_ptr_nonnull(e);
  size_t n;
  const char *s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n);
  ck_assert(n == 7 && !memcmp(s, "A\r\nB\"C)", 7));
  ck_assert_ptr_null(mail_imap_envelope_field(e, MAIL_IMAP_ENV_DATE, &n));
  ck_assert_uint_eq(mail_imap_fetch_section_count(r), 2);
  const mail_imap_section *sec = mail_imap_fetch_section(r, 0);
  STR_EQ(mail_imap_section_item(sec, &n_), "BODY");
  STR_EQ(mail_imap_section_spec(sec, &n_), "HEADER.FIELDS (TO CC)");
  uint64_t v;
  ck_assert_int_eq(mail_imap_section_origin(sec, &v), MAIL_OK);
  ck_assert_uint_eq(v, 0);
  sec = mail_imap_fetch_section(r, 1);
  STR_EQ(mail_imap_section_item(sec, &n_), "BINARY");
  ck_assert_uint_eq(mail_imap_section_size(sec), 3);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 9);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
}
END_TEST

START_TEST(literal_markers_outside_quotes_only)
{
  /* "{3}" at the end of an unterminated quoted string is no literal. */
  EXPECT("* 1 FETCH (UID 1 X-Q \"abc {3}\r\n* 2 EXISTS\r\n", "\"UID\":1",
         "\"kind\":\"syntax\"", "\"type\":\"EXISTS\",\"code\":null,\"number\":2");
  /* Not at the line end: an atom. */
  EXPECT("* CAPABILITY {3} IMAP4rev1\r\n", "\"strings\":[\"{3}\",\"IMAP4rev1\"]");
  /* {n+} from a server is still a literal. */
  EXPECT("* LIST () \"/\" {3+}\r\nabc\r\n", "\"mailbox\":\"abc\"");
  /* Status responses never carry literals. */
  EXPECT("* OK text {3}\r\n* 4 EXISTS\r\n", "\"text\":\"text {3}\"", "\"number\":4");
}
END_TEST

START_TEST(literal_size_overflow)
{
  int rc;
  const char *in = "* 1 FETCH (BODY[] {18446744073709551616}\r\nxx";
  free(parse_all(in, strlen(in), NULL, &rc, NULL));
  ck_assert_int_eq(rc, MAIL_ERR_PROTOCOL);
  /* 2^64 - 1 fits: streamed, then the input ends inside it. */
  in = "* 1 FETCH (BODY[] {18446744073709551615}\r\nxx";
  free(parse_all(in, strlen(in), NULL, &rc, NULL));
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
}
END_TEST

START_TEST(held_literal_over_bound)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
  const char *in = "* LIST () \"/\" {67108865}\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, in, strlen(in)), MAIL_OK);
  size_t before = ta.peak_bytes;
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_LIMIT);
  ck_assert_uint_lt(ta.peak_bytes, before + 65536);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_LIMIT);
  ck_assert_int_eq(mail_imap_parser_feed(p, "x", 1), MAIL_ERR_LIMIT);
  mail_imap_parser_reset(p);
  ck_assert_int_eq(mail_imap_parser_feed(p, "* 1 EXISTS\r\n", 12), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  mail_imap_parser_free(p);
  ck_assert_uint_eq(ta.live, 0);
  /* The same size streamed (a body) is fine; under a small max_literal too. */
  mail_limits l;
  mail_limits_default(&l);
  l.max_literal = 4;
  int rc;
  in = "* 1 FETCH (RFC822 {10}\r\n0123456789)\r\n* LIST () \"/\" {5}\r\nabcde\r\n";
  char *j = parse_all(in, strlen(in), &l, &rc, NULL);
  ck_assert_int_eq(rc, MAIL_ERR_LIMIT);
  ck_assert_ptr_nonnull(strstr(j, "\"RFC822\":{\"section\":\"\",\"size\":10"));
  free(j);
}
END_TEST

START_TEST(search_million_uids)
{
  size_t cap = 16 * 1000000;
  char *in = malloc(cap);
  size_t n = (size_t)sprintf(in, "* SEARCH");
  for (unsigned i = 1; i <= 1000000; i++)
    n += (size_t)sprintf(in + n, " %u", i * 3);
  n += (size_t)sprintf(in + n, "\r\nA5 OK done\r\n");
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  const mail_imap_response *r;
  /* fed in 64 KiB pieces, drained after each */
  size_t at = 0;
  int rc = MAIL_ERR_AGAIN;
  while (rc == MAIL_ERR_AGAIN && at < n) {
    size_t k = n - at < 65536 ? n - at : 65536;
    ck_assert_int_eq(mail_imap_parser_feed(p, in + at, k), MAIL_OK);
    at += k;
    rc = mail_imap_parser_next(p, &r);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_SEARCH);
  size_t cnt;
  const uint32_t *nums = mail_imap_response_numbers(r, &cnt);
  ck_assert_uint_eq(cnt, 1000000);
  ck_assert_uint_eq(nums[0], 3);
  ck_assert_uint_eq(nums[999999], 3000000);
  ck_assert_uint_eq(defects(r), 0);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_TAGGED);
  /* what was grown for the large response is given back */
  ck_assert_int_eq(mail_imap_parser_feed(p, "* 1 EXISTS\r\n", 12), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  ck_assert_uint_lt(mail_imap_parser_held(p), 1024 * 1024);
  mail_imap_parser_free(p);
  free(in);
}
END_TEST

/* A response generated as it is fed (64 KiB at a time, drained after
 * each feed), so a test can send hundreds of MiB without holding them. */
typedef struct gen {
  const char *head;        /* "* SEARCH" */
  unsigned long count;     /* numbers to send (ULONG_MAX: endless) */
  unsigned long step;      /* number i is i * step, or a range when range */
  int range;               /* "a:b," pieces (a sequence set) instead of " n" */
  const char *tail;        /* after the last number */
} gen;

/* Feed g through p with tracking allocator ta; returns the status of the
 * first next() that is not MAIL_ERR_AGAIN, *sent the bytes generated. */
static int feed_generated(mail_imap_parser *p, const gen *g, const mail_imap_response **r,
                          size_t *sent)
{
  static char buf[65536 + 64];
  size_t len = (size_t)sprintf(buf, "%s", g->head);
  *sent = 0;
  unsigned long i = 1;
  int tail_sent = 0;
  for (;;) {
    while (len < 65536 && i <= g->count) {
      if (g->range)
        len += (size_t)sprintf(buf + len, "%s%lu:%lu", i > 1 ? "," : "", i * g->step,
                               i * g->step + 1);
      else
        len += (size_t)sprintf(buf + len, " %lu", i * g->step);
      i++;
    }
    if (i > g->count && !tail_sent && len < 65536) {
      len += (size_t)sprintf(buf + len, "%s", g->tail);
      tail_sent = 1;
    }
    int rc = mail_imap_parser_feed(p, buf, len);
    if (rc)
      return rc;
    *sent += len;
    len = 0;
    rc = mail_imap_parser_next(p, r);
    if (rc != MAIL_ERR_AGAIN)
      return rc;
    if (tail_sent)
      return rc;
  }
}

/* Numbers of SEARCH and SORT are read as they arrive: held memory is the
 * uint32_t array (4 bytes a number, twice that for a moment while it
 * grows) plus one feed, never the text. */
static void million_numbers(const char *name, int type)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  char head[32];
  snprintf(head, sizeof head, "* %s", name);
  gen g = {head, 1000000, 3, 0, " (MODSEQ 77)\r\nA5 OK done\r\n"};
  const mail_imap_response *r;
  size_t sent;
  ck_assert_int_eq(feed_generated(p, &g, &r, &sent), MAIL_OK);
  ck_assert_int_eq(mail_imap_response_type(r), type);
  size_t cnt;
  const uint32_t *nums = mail_imap_response_numbers(r, &cnt);
  ck_assert_uint_eq(cnt, 1000000);
  ck_assert(nums[0] == 3 && nums[499999] == 1500000 && nums[999999] == 3000000);
  uint64_t v;
  ck_assert_int_eq(mail_imap_response_modseq(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 77);
  ck_assert_uint_eq(defects(r), 0);
  uint64_t a, b;
  mail_imap_response_span(r, &a, &b);
  ck_assert(a == 0 && b == sent - strlen("A5 OK done\r\n"));
  /* 4 bytes a number, 8 while the array doubles, plus the feeds */
  ck_assert_uint_gt(sent, 7500000);
  ck_assert_uint_le(ta.peak_bytes, 8 * cnt + 1024 * 1024);
  fprintf(stderr, "%s of 1,000,000: text %zu bytes, peak %zu bytes of heap\n", name, sent,
          ta.peak_bytes);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_TAGGED);
  ck_assert_int_eq(mail_imap_parser_feed(p, "* 1 EXISTS\r\n", 12), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  ck_assert_uint_lt(ta.live_bytes, 1024 * 1024);
  mail_imap_parser_free(p);
  ck_assert_uint_eq(ta.live, 0);
}

START_TEST(search_and_sort_million_in_bounded_memory)
{
  million_numbers("SEARCH", MAIL_IMAP_TYPE_SEARCH);
  million_numbers("SORT", MAIL_IMAP_TYPE_SORT);
}
END_TEST

/* Sequence sets (VANISHED, ESEARCH ALL) become ranges as they arrive, 8
 * bytes each; THREAD nodes 8 bytes each. The text as sent is kept only
 * while it is within max_response. */
START_TEST(sets_and_threads_in_bounded_memory)
{
  static const struct {
    const char *head, *tail;
    int range, type;
  } cases[] = {
    {"* VANISHED (EARLIER) ", "\r\n", 1, MAIL_IMAP_TYPE_VANISHED},
    {"* ESEARCH (TAG \"A7\") UID COUNT 1000000 ALL ", " MODSEQ 99\r\n", 1, MAIL_IMAP_TYPE_ESEARCH},
    {"* THREAD (", ")(1 (2)(3))\r\n", 0, MAIL_IMAP_TYPE_THREAD},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    mail_test_alloc ta;
    mail_test_alloc_init(&ta);
    mail_imap_parser *p;
    ck_assert_int_eq(mail_imap_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
    mail_imap_parser_expect_greeting(p, 0);
    unsigned long count = cases[c].range ? 500000 : 1000000;
    gen g = {cases[c].head, count, 3, cases[c].range, cases[c].tail};
    const mail_imap_response *r;
    size_t sent, n, entries = 0;
    ck_assert_int_eq(feed_generated(p, &g, &r, &sent), MAIL_OK);
    ck_assert_int_eq(mail_imap_response_type(r), cases[c].type);
    ck_assert_uint_eq(defects(r), 0);
    uint32_t a, b;
    if (cases[c].range) {
      entries = mail_imap_response_range_count(r);
      ck_assert_uint_eq(entries, count);
      ck_assert_int_eq(mail_imap_response_range(r, 0, &a, &b), MAIL_OK);
      ck_assert(a == 3 && b == 4);
      ck_assert_int_eq(mail_imap_response_range(r, count - 1, &a, &b), MAIL_OK);
      ck_assert(a == 3 * count && b == 3 * count + 1);
      ck_assert_int_eq(mail_imap_response_range(r, count, &a, &b), MAIL_ERR_NOT_FOUND);
    }
    if (cases[c].type == MAIL_IMAP_TYPE_VANISHED) {
      ck_assert_int_eq(mail_imap_response_earlier(r), 1);
      ck_assert_ptr_null(mail_imap_response_set(r, &n)); /* too long to keep as text */
    } else if (cases[c].type == MAIL_IMAP_TYPE_ESEARCH) {
      const char *tag, *name, *val;
      size_t tn, nn, vn;
      int uid;
      ck_assert_int_eq(mail_imap_response_esearch(r, &tag, &tn, &uid), MAIL_OK);
      ck_assert(eq(tag, tn, "A7") && uid);
      ck_assert_int_eq(mail_imap_response_esearch_item(r, 0, &name, &nn, &val, &vn), MAIL_OK);
      ck_assert(eq(name, nn, "COUNT") && eq(val, vn, "1000000"));
      ck_assert_int_eq(mail_imap_response_esearch_item(r, 1, &name, &nn, &val, &vn), MAIL_OK);
      ck_assert(eq(name, nn, "ALL") && !val);
      ck_assert_int_eq(mail_imap_response_esearch_item(r, 2, &name, &nn, &val, &vn), MAIL_OK);
      ck_assert(eq(name, nn, "MODSEQ") && eq(val, vn, "99"));
      ck_assert_int_eq(mail_imap_response_esearch_item(r, 3, &name, &nn, &val, &vn),
                       MAIL_ERR_NOT_FOUND);
    } else {
      size_t parent;
      entries = count + 3;
      ck_assert_int_eq(mail_imap_response_thread_node(r, count - 1, &a, &parent), MAIL_OK);
      ck_assert(a == 3 * count && parent == count - 2);
      ck_assert_int_eq(mail_imap_response_thread_node(r, count + 2, &a, &parent), MAIL_OK);
      ck_assert(a == 3 && parent == count);
      ck_assert_int_eq(mail_imap_response_thread_node(r, entries, &a, &parent), MAIL_ERR_NOT_FOUND);
    }
    /* 8 bytes an entry, twice that while the array doubles, plus the feeds */
    ck_assert_uint_gt(sent, 7000000);
    ck_assert_uint_le(ta.peak_bytes, 16 * entries + 1024 * 1024);
    fprintf(stderr, "%s: text %zu bytes, %zu entries, peak %zu bytes of heap\n", cases[c].head,
            sent, entries, ta.peak_bytes);
    mail_imap_parser_free(p);
    ck_assert_uint_eq(ta.live, 0);
  }
  /* short sets keep their text; a bad piece is a defect, split anywhere */
  EXPECT("* VANISHED 1:3,x,7:5\r\n* ESEARCH ALL 4,0 COUNT\r\n",
         "\"set\":\"1:3,x,7:5\",\"earlier\":false,\"defects\":[{\"kind\":\"response\",\"item\":\"x\"",
         "\"results\":{\"ALL\":\"4,0\"},\"defects\":[{\"kind\":\"response\",\"item\":\"0\",\"raw\":\"0\"},"
         "{\"kind\":\"response\",\"item\":\"COUNT\"");
  /* split between CR and LF after a list (found by fuzz-imap_parse) */
  EXPECT("* VANISHED (EARLIERX)\r\n* SEARCH 1\r\n", "\"set\":null,\"earlier\":false,\"ranges\":[]",
         "\"numbers\":[1]");
  one o;
  const mail_imap_response *r = first(&o, "* VANISHED 1:3,x,7:5\r\n* THREAD (1 (2)\r\n");
  uint32_t a, b;
  ck_assert_uint_eq(mail_imap_response_range_count(r), 2);
  ck_assert_int_eq(mail_imap_response_range(r, 1, &a, &b), MAIL_OK);
  ck_assert(a == 5 && b == 7);
  r = again(&o);
  ck_assert_uint_eq(defects(r), 1); /* the list left open */
  done(&o);
}
END_TEST

/* A hostile server's endless SEARCH line: numbers up to max_items are
 * kept, then a too-many defect, and the bytes after it are bounded by
 * max_response: MAIL_ERR_LIMIT, memory never beyond the two bounds. */
START_TEST(endless_search_hits_the_bounds)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_items = 200000;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_OK);
  gen g = {"* SEARCH", ULONG_MAX, 1, 0, ""};
  const mail_imap_response *r;
  size_t sent;
  ck_assert_int_eq(feed_generated(p, &g, &r, &sent), MAIL_ERR_LIMIT);
  /* stopped within max_response bytes of the text past max_items */
  ck_assert_uint_lt(sent, 200000 * 8 + l.max_response + 2 * 65536);
  ck_assert_uint_le(ta.peak_bytes, 8 * l.max_items + l.max_response + 256 * 1024);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_LIMIT);
  mail_imap_parser_free(p);
  ck_assert_uint_eq(ta.live, 0);
  /* at the default limits: an endless token is one held, unfinished token */
  mail_test_alloc_init(&ta);
  ck_assert_int_eq(mail_imap_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
  static char junk[65536];
  memset(junk, 'x', sizeof junk);
  ck_assert_int_eq(mail_imap_parser_feed(p, "* SORT 1 ", 9), MAIL_OK);
  int rc = MAIL_ERR_AGAIN;
  size_t fed = 0;
  while (rc == MAIL_ERR_AGAIN && fed < 4 * 1024 * 1024) {
    ck_assert_int_eq(mail_imap_parser_feed(p, junk, sizeof junk), MAIL_OK);
    fed += sizeof junk;
    rc = mail_imap_parser_next(p, &r);
  }
  ck_assert_int_eq(rc, MAIL_ERR_LIMIT);
  ck_assert_uint_le(fed, 1024 * 1024 + sizeof junk);
  /* the input buffer at the bound, and doubling once (a copying realloc) */
  ck_assert_uint_lt(ta.peak_bytes, 3 * 1024 * 1024 + 65536);
  mail_imap_parser_free(p);
  /* a non-number token in a SEARCH stays a defect, split anywhere */
  int st;
  char *j = parse_all("* SEARCH 4 x7 0 (MODSEQ 9) 5\r\n* SORT 2 {3}\r\nabc 3\r\n", 52, NULL, &st,
                      NULL);
  ck_assert_int_eq(st, MAIL_ERR_CLOSED);
  ck_assert_ptr_nonnull(strstr(j, "\"numbers\":[4,5],\"modseq\":9,\"defects\":[{\"kind\":\"response\","
                                  "\"item\":\"x7\",\"raw\":\"x7\"},{\"kind\":\"response\",\"item\":\"0\""));
  ck_assert_ptr_nonnull(strstr(j, "\"numbers\":[2,3],\"defects\":[{\"kind\":\"response\",\"item\":\"{3}\""));
  free(j);
  /* a literal at the end of a line inside a list left open is still
   * counted out, never read as responses */
  EXPECT("* SEARCH 1 (MODSEQ {10}\r\nA1 OK hi\r\n 2\r\n* 3 EXISTS\r\n",
         "\"numbers\":[1,2],\"defects\":[{\"kind\":\"response\",\"item\":null,\"raw\":\"(MODSEQ \"}",
         "\"type\":\"EXISTS\"");
  EXPECT("* VANISHED {5}\r\nA1 OK\r\n* SORT ({3}\r\nabc 4\r\n",
         "\"set\":null,\"earlier\":false,\"ranges\":[],\"defects\":[{\"kind\":\"response\",\"item\":\"{5}\"",
         "\"numbers\":[4]");
}
END_TEST

/* set_limits takes version 1 and version 2 structs alike. */
START_TEST(set_limits_versions)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  struct {
    unsigned char before[16];
    mail_limits l;
  } v1;
  memset(&v1, 0xAB, sizeof v1);
  mail_limits_default(&v1.l); /* a version 1 struct: its v2 fields untouched */
  ck_assert_uint_eq(v1.l.version, 1);
  v1.l.max_items = 2;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &v1.l), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  const char *in = "* SEARCH 1 2 3\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, in, strlen(in)), MAIL_OK);
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  size_t cnt;
  mail_imap_response_numbers(r, &cnt);
  ck_assert_uint_eq(cnt, 2);
  mail_imap_parser_reset(p);
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, 2), MAIL_OK);
  l.max_response = 64;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_OK);
  in = "* LIST () \"/\" \"a mailbox name long enough to pass the sixty-four byte bound\"\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, in, strlen(in)), MAIL_ERR_LIMIT);
  mail_imap_parser_reset(p);
  l.version = 3;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  l.version = 0;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  l.version = 2;
  l.max_lines = 0;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_parser_set_limits(p, NULL), MAIL_ERR_INVALID);
  mail_imap_parser_free(p);
}
END_TEST

START_TEST(bodies_stream_in_bounded_memory)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  uint64_t total = 0;
  const char *head = "* 9 FETCH (UID 12 BODY[TEXT] {104857600}\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, head, strlen(head)), MAIL_OK);
  static char chunk[65536];
  memset(chunk, 'x', sizeof chunk);
  const mail_imap_response *r;
  size_t peak = 0;
  for (uint64_t sent = 0; sent < 104857600; sent += sizeof chunk) {
    ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_AGAIN);
    ck_assert_int_eq(mail_imap_parser_feed(p, chunk, sizeof chunk), MAIL_OK);
    if (mail_imap_parser_held(p) > peak)
      peak = mail_imap_parser_held(p);
    total += sizeof chunk;
  }
  ck_assert_int_eq(mail_imap_parser_feed(p, ")\r\n", 3), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  ck_assert_uint_eq(mail_imap_section_size(mail_imap_fetch_section(r, 0)), total);
  ck_assert_uint_lt(peak, 1024 * 1024);
  mail_imap_parser_free(p);
}
END_TEST

START_TEST(end_inside_response)
{
  int rc;
  const char *in = "* 1 FETCH (UID 1\r\n";
  free(parse_all(in, strlen(in), NULL, &rc, NULL));
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED); /* a response ended by the line: complete */
  in = "* 1 FETCH (UID 1 BODY[] {10}\r\nabc";
  free(parse_all(in, strlen(in), NULL, &rc, NULL));
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  in = "* 1 EXISTS";
  free(parse_all(in, strlen(in), NULL, &rc, NULL));
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  /* LF alone ends lines too; blank lines between responses are ignored */
  EXPECT("* 3 EXISTS\n\r\n* 4 RECENT\n", "\"type\":\"EXISTS\",\"code\":null,\"number\":3",
         "\"type\":\"RECENT\",\"code\":null,\"number\":4");
}
END_TEST

START_TEST(callback_error_is_sticky)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_set_body_callback(p, NULL, NULL);
  ck_assert_int_eq(mail_imap_parser_set_body_callback(NULL, NULL, NULL), MAIL_ERR_INVALID);
  mail_imap_parser_free(p);
}
END_TEST

static int refuse(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                  const unsigned char *data, size_t len)
{
  (void)user;
  (void)s;
  (void)data;
  (void)len;
  return ev == MAIL_IMAP_BODY_DATA;
}

START_TEST(callback_refusal)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_set_body_callback(p, refuse, NULL);
  const char *in = "* 1 FETCH (BODY[] {3}\r\nabc)\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, in, strlen(in)), MAIL_OK);
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_imap_parser_feed(p, in, 1), MAIL_ERR_CALLBACK);
  mail_imap_parser_free(p);
}
END_TEST

/* ------------------------------------------------------------ status and codes */

START_TEST(response_codes)
{
  one o;
  uint64_t v;
  const mail_imap_response *r = first(
    &o, "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
        "* OK [UIDNEXT 4392] Predicted next UID\r\n"
        "* OK [UNSEEN 12] first unseen\r\n"
        "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Limited\r\n"
        "A3 OK [APPENDUID 38505 3955] APPEND completed\r\n"
        "A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
        "A5 OK [MODIFIED 7,9] Conditional STORE failed\r\n"
        "A6 NO [TRYCREATE] No such mailbox\r\n"
        "A7 OK [READ-ONLY] EXAMINE completed\r\n"
        "* OK [ALERT] System shutdown in 10 minutes\r\n"
        "A8 NO [BADCHARSET (UTF-8 US-ASCII)] charset\r\n"
        "A9 NO [OVERQUOTA] Quota exceeded\r\n"
        "B1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n"
        "B2 NO [X-MY-CODE some (args here)] other\r\n"
        "B3 OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Ok\r\n"
        "B4 BAD [CLIENTBUG] Bad\r\n");
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_UIDVALIDITY);
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 1700000000);
  STR_EQ(mail_imap_response_text(r, &n_), "UIDs valid");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_UIDNEXT);
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 4392);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_UNSEEN);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_HIGHESTMODSEQ);
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 715194045007ull);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_PERMANENTFLAGS);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 7);
  STR_EQ(mail_imap_response_string(r, 6, &n_), "\\*");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_APPENDUID);
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 38505);
  STR_EQ(mail_imap_response_code_set(r, &n_), "3955");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_COPYUID);
  STR_EQ(mail_imap_response_code_set(r, &n_), "304,319:320");
  STR_EQ(mail_imap_response_code_set2(r, &n_), "3956:3958");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_MODIFIED);
  STR_EQ(mail_imap_response_code_set(r, &n_), "7,9");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_NO);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_TRYCREATE);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_READ_ONLY);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_ALERT);
  STR_EQ(mail_imap_response_text(r, &n_), "System shutdown in 10 minutes");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_BADCHARSET);
  STR_EQ(mail_imap_response_string(r, 1, &n_), "US-ASCII");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_OVERQUOTA);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_AUTHENTICATIONFAILED);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_OTHER);
  STR_EQ(mail_imap_response_code_name(r, &n_), "X-MY-CODE");
  STR_EQ(mail_imap_response_code_raw(r, &n_), "some (args here)");
  STR_EQ(mail_imap_response_text(r, &n_), "other");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_MAILBOXID);
  STR_EQ(mail_imap_response_code_set(r, &n_), "F2212ea87-6097-4256-9d51-71338625");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_BAD);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_CLIENTBUG);
  done(&o);
  /* every RFC 5530 code by name */
  static const char *const names[] = {
    "UNAVAILABLE", "AUTHENTICATIONFAILED", "AUTHORIZATIONFAILED", "EXPIRED", "PRIVACYREQUIRED",
    "CONTACTADMIN", "NOPERM", "INUSE", "EXPUNGEISSUED", "CORRUPTION", "SERVERBUG", "CLIENTBUG",
    "CANNOT", "LIMIT", "OVERQUOTA", "ALREADYEXISTS", "NONEXISTENT"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    char line[100];
    snprintf(line, sizeof line, "t NO [%s] x\r\n", names[k]);
    r = first(&o, line);
    ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_UNAVAILABLE + (int)k);
    done(&o);
  }
  /* a malformed number is a defect, not an error */
  r = first(&o, "* OK [UIDNEXT abc] x\r\n");
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_ERR_NOT_FOUND);
  ck_assert_uint_eq(defects(r), 1);
  done(&o);
  /* "[" without "]" is text */
  r = first(&o, "* OK [ALERT broken\r\n");
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_NONE);
  STR_EQ(mail_imap_response_text(r, &n_), "[ALERT broken");
  done(&o);
}
END_TEST

/* ------------------------------------------------------------ data responses */

START_TEST(simple_data)
{
  one o;
  char d;
  const mail_imap_response *r =
    first(&o, "* CAPABILITY IMAP4rev1 IMAP4rev2 ID ENABLE IDLE CONDSTORE\r\n"
              "* ENABLED CONDSTORE QRESYNC\r\n"
              "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
              "* 23 EXISTS\r\n* 5 RECENT\r\n* 44 EXPUNGE\r\n"
              "* VANISHED (EARLIER) 41,43:116,118\r\n* VANISHED 405\r\n"
              "* SEARCH 2 84 882\r\n* SEARCH\r\n* SEARCH 2 5 6 (MODSEQ 917162500)\r\n"
              "* SORT 5 3 4 1 2\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_CAPABILITY);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 6);
  STR_EQ(mail_imap_response_string(r, 5, &n_), "CONDSTORE");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_ENABLED);
  STR_EQ(mail_imap_response_string(r, 1, &n_), "QRESYNC");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_FLAGS);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 5);
  uint32_t num;
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_EXISTS);
  ck_assert_int_eq(mail_imap_response_number(r, &num), MAIL_OK);
  ck_assert_uint_eq(num, 23);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_RECENT);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_EXPUNGE);
  ck_assert_int_eq(mail_imap_response_number(r, &num), MAIL_OK);
  ck_assert_uint_eq(num, 44);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_VANISHED);
  ck_assert_int_eq(mail_imap_response_earlier(r), 1);
  STR_EQ(mail_imap_response_set(r, &n_), "41,43:116,118");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_earlier(r), 0);
  STR_EQ(mail_imap_response_set(r, &n_), "405");
  size_t cnt;
  r = again(&o);
  const uint32_t *nums = mail_imap_response_numbers(r, &cnt);
  ck_assert(cnt == 3 && nums[0] == 2 && nums[2] == 882);
  r = again(&o);
  nums = mail_imap_response_numbers(r, &cnt);
  ck_assert(nums && cnt == 0);
  r = again(&o);
  uint64_t v;
  nums = mail_imap_response_numbers(r, &cnt);
  ck_assert_uint_eq(cnt, 3);
  ck_assert_int_eq(mail_imap_response_modseq(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 917162500);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_SORT);
  nums = mail_imap_response_numbers(r, &cnt);
  ck_assert(cnt == 5 && nums[0] == 5);
  ck_assert_int_eq(mail_imap_response_delimiter(r, &d), MAIL_ERR_NOT_FOUND);
  done(&o);
}
END_TEST

START_TEST(list_status_namespace)
{
  one o;
  char d;
  const char *raw;
  size_t rn;
  uint64_t v;
  const mail_imap_response *r =
    first(&o, "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
              "* LIST (\\Noselect) NIL \"\"\r\n"
              "* LIST () \".\" Entw&APw-rfe\r\n"
              "* LIST (\\Subscribed) \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (\"Bar\"))\r\n"
              "* LSUB () \"/\" INBOX\r\n"
              "* STATUS \"Sent Items\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 0 HIGHESTMODSEQ 7011231777)\r\n"
              "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\"))\r\n"
              "* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_LIST);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 2);
  STR_EQ(mail_imap_response_string(r, 1, &n_), "\\Sent");
  ck_assert_int_eq(mail_imap_response_delimiter(r, &d), MAIL_OK);
  ck_assert_int_eq(d, '/');
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "Sent Items");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_delimiter(r, &d), MAIL_OK);
  ck_assert_int_eq(d, 0);
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "");
  r = again(&o);
  STR_EQ(mail_imap_response_mailbox(r, &n_, &raw, &rn), "Entw\xc3\xbcrfe");
  ck_assert(eq(raw, rn, "Entw&APw-rfe"));
  r = again(&o);
  const char *tag;
  size_t tn;
  ck_assert_int_eq(mail_imap_response_list_ext(r, 0, &tag, &tn, &raw, &rn), MAIL_OK);
  ck_assert(eq(tag, tn, "CHILDINFO") && eq(raw, rn, "(\"SUBSCRIBED\")"));
  ck_assert_int_eq(mail_imap_response_list_ext(r, 1, &tag, &tn, &raw, &rn), MAIL_OK);
  ck_assert(eq(tag, tn, "OLDNAME"));
  ck_assert_int_eq(mail_imap_response_list_ext(r, 2, &tag, &tn, &raw, &rn), MAIL_ERR_NOT_FOUND);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_LSUB);
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "INBOX");
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_STATUS);
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "Sent Items");
  const char *name;
  size_t nn;
  ck_assert_int_eq(mail_imap_response_status_item(r, 2, &name, &nn, &v), MAIL_OK);
  ck_assert(eq(name, nn, "UIDVALIDITY") && v == 0);
  ck_assert_int_eq(mail_imap_response_status_item(r, 3, &name, &nn, &v), MAIL_OK);
  ck_assert_uint_eq(v, 7011231777ull);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_NAMESPACE);
  ck_assert_int_eq(mail_imap_response_namespace(r, 2, 1, &name, &nn, &d), MAIL_OK);
  ck_assert(eq(name, nn, "#public/") && d == '/');
  ck_assert_int_eq(mail_imap_response_namespace(r, 1, 0, &name, &nn, &d), MAIL_OK);
  ck_assert(eq(name, nn, "~"));
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_namespace(r, 0, 0, &name, &nn, &d), MAIL_OK);
  ck_assert(eq(name, nn, "INBOX.") && d == '.');
  ck_assert_int_eq(mail_imap_response_namespace(r, 1, 0, &name, &nn, &d), MAIL_ERR_NOT_FOUND);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* UTF8=ACCEPT: names as sent */
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_set_utf8(p, 1);
  const char *in = "* LIST () \"/\" \"Entw&APw-rfe\"\r\n";
  mail_imap_parser_feed(p, in, strlen(in));
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "Entw&APw-rfe");
  mail_imap_parser_free(p);
}
END_TEST

START_TEST(esearch_thread)
{
  one o;
  const char *tag, *name, *val;
  size_t tn, nn, vn;
  int uid;
  const mail_imap_response *r =
    first(&o, "* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3 ALL 2,10:11\r\n"
              "* ESEARCH (TAG \"B1\") UID PARTIAL (-1:-100 200:250,252:300)\r\n"
              "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"
              "* THREAD ((3)(5))\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_ESEARCH);
  ck_assert_int_eq(mail_imap_response_esearch(r, &tag, &tn, &uid), MAIL_OK);
  ck_assert(eq(tag, tn, "A282") && uid == 1);
  ck_assert_int_eq(mail_imap_response_esearch_item(r, 2, &name, &nn, &val, &vn), MAIL_OK);
  ck_assert(eq(name, nn, "ALL") && eq(val, vn, "2,10:11"));
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_esearch_item(r, 0, &name, &nn, &val, &vn), MAIL_OK);
  ck_assert(eq(name, nn, "PARTIAL") && eq(val, vn, "(-1:-100 200:250,252:300)"));
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_THREAD);
  /* depth-first: 2 | 3 > 6 > {4 > 23, 44 > 7 > 96} */
  static const uint32_t want_num[] = {2, 3, 6, 4, 23, 44, 7, 96};
  static const size_t want_parent[] = {SIZE_MAX, SIZE_MAX, 1, 2, 3, 2, 5, 6};
  for (size_t i = 0; i < 8; i++) {
    uint32_t num;
    size_t parent;
    ck_assert_int_eq(mail_imap_response_thread_node(r, i, &num, &parent), MAIL_OK);
    ck_assert_uint_eq(num, want_num[i]);
    ck_assert_uint_eq(parent, want_parent[i]);
  }
  ck_assert_int_eq(mail_imap_response_thread_node(r, 8, NULL, NULL), MAIL_ERR_NOT_FOUND);
  r = again(&o);
  uint32_t num;
  size_t parent;
  ck_assert_int_eq(mail_imap_response_thread_node(r, 0, &num, &parent), MAIL_OK);
  ck_assert(num == 0 && parent == SIZE_MAX);
  ck_assert_int_eq(mail_imap_response_thread_node(r, 2, &num, &parent), MAIL_OK);
  ck_assert(num == 5 && parent == 0);
  done(&o);
}
END_TEST

START_TEST(continuation_and_xoauth2)
{
  one o;
  const mail_imap_response *r =
    first(&o, "+ Ready for literal data\r\n+\r\n"
              "+ eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n");
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_CONTINUATION);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_CONTINUE);
  STR_EQ(mail_imap_response_text(r, &n_), "Ready for literal data");
  r = again(&o);
  STR_EQ(mail_imap_response_text(r, &n_), "");
  r = again(&o);
  unsigned char buf[200];
  size_t n;
  ck_assert_int_eq(mail_imap_response_text_base64(r, &n, buf, sizeof buf), MAIL_OK);
  ck_assert(eq((char *)buf, n,
               "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}"));
  ck_assert_int_eq(mail_imap_response_text_base64(r, &n, buf, 4), MAIL_ERR_BUFFER);
  done(&o);
}
END_TEST

/* ------------------------------------------------------------ FETCH */

START_TEST(fetch_items)
{
  one o;
  uint64_t v;
  int64_t t;
  const mail_imap_response *r = first(
    &o,
    "* 12 FETCH (UID 4827313 FLAGS (\\Seen $Label1) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
    "RFC822.SIZE 44827 MODSEQ (624140003) EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) "
    "PREVIEW \"Hello there\" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 "
    "X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\" &AOk-t&AOk-) "
    "BINARY.SIZE[1] 2003 BINARY.SIZE[] 3000 "
    "ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
    "\"<B27397-0100000@cac.washington.edu>\") "
    "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23 NIL NIL NIL NIL)"
    "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" "
    "\"Compiler diff\" \"BASE64\" 4554 73 \"md5sum\" (\"attachment\" (\"filename\" \"cc.diff\")) (\"en\" \"de\") \"http://loc\" 17 (x y))"
    "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 342 (NIL \"inner\" NIL NIL NIL NIL NIL NIL NIL NIL) "
    "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12) "
    "\"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL NIL))\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_FETCH);
  uint32_t seq;
  ck_assert_int_eq(mail_imap_response_number(r, &seq), MAIL_OK);
  ck_assert_uint_eq(seq, 12);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 4827313);
  ck_assert_uint_eq(mail_imap_fetch_flag_count(r), 2);
  STR_EQ(mail_imap_fetch_flag(r, 1, &n_), "$Label1");
  ck_assert_int_eq(mail_imap_fetch_internaldate(r, &t), MAIL_OK);
  ck_assert_int_eq(t, 837596665);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_RFC822_SIZE, &v), MAIL_OK);
  ck_assert_uint_eq(v, 44827);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_MODSEQ, &v), MAIL_OK);
  ck_assert_uint_eq(v, 624140003);
  STR_EQ(mail_imap_fetch_string(r, MAIL_IMAP_ITEM_EMAILID, &n_), "M6d99ac3275bb4e");
  STR_EQ(mail_imap_fetch_string(r, MAIL_IMAP_ITEM_THREADID, &n_), "T64b478a75b7ea9");
  STR_EQ(mail_imap_fetch_string(r, MAIL_IMAP_ITEM_PREVIEW, &n_), "Hello there");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_GM_MSGID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 1278455344230334865ull);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_GM_THRID, &v), MAIL_OK);
  ck_assert_uint_eq(mail_imap_fetch_label_count(r), 5);
  STR_EQ(mail_imap_fetch_label(r, 3, &n_), "Muy Importante");
  STR_EQ(mail_imap_fetch_label(r, 4, &n_), "\xc3\xa9t\xc3\xa9");
  const char *sec;
  size_t sn;
  ck_assert_int_eq(mail_imap_fetch_binary_size(r, 0, &sec, &sn, &v), MAIL_OK);
  ck_assert(eq(sec, sn, "1") && v == 2003);
  ck_assert_int_eq(mail_imap_fetch_binary_size(r, 1, &sec, &sn, &v), MAIL_OK);
  ck_assert(eq(sec, sn, "") && v == 3000);
  const mail_imap_envelope *e = mail_imap_fetch_envelope(r);
  ck_assert_ptr_nonnull(e);
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n_), "IMAP4rev1 WG mtg summary and minutes");
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, &n_), "<B27397-0100000@cac.washington.edu>");
  ck_assert_ptr_null(mail_imap_envelope_field(e, MAIL_IMAP_ENV_IN_REPLY_TO, NULL));
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_CC), 2);
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_BCC), 0);
  const mail_imap_address *a = mail_imap_envelope_address(e, MAIL_IMAP_ADDR_CC, 1);
  STR_EQ(mail_imap_address_name(a, &n_), "John Klensin");
  STR_EQ(mail_imap_address_mailbox(a, &n_), "KLENSIN");
  STR_EQ(mail_imap_address_host(a, &n_), "MIT.EDU");
  ck_assert_ptr_null(mail_imap_address_adl(a, NULL));
  const mail_imap_body *b = mail_imap_fetch_body(r);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(mail_imap_body_is_multipart(b), 1);
  ck_assert_uint_eq(mail_imap_body_child_count(b), 3);
  STR_EQ(mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n_), "MIXED");
  const char *pn, *pv;
  size_t pnn, pvn;
  ck_assert_int_eq(mail_imap_body_param(b, 0, 0, &pn, &pnn, &pv, &pvn), MAIL_OK);
  ck_assert(eq(pn, pnn, "BOUNDARY") && eq(pv, pvn, "x"));
  const mail_imap_body *c = mail_imap_body_child(b, 1);
  ck_assert_ptr_eq(mail_imap_body_parent(c), b);
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_ID, &n_), "<960723163407.20117h@cac.washington.edu>");
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_DESCRIPTION, &n_), "Compiler diff");
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_ENCODING, &n_), "BASE64");
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_MD5, &n_), "md5sum");
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_DISPOSITION, &n_), "attachment");
  STR_EQ(mail_imap_body_field(c, MAIL_IMAP_BODY_LOCATION, &n_), "http://loc");
  STR_EQ(mail_imap_body_extension(c, &n_), "17 (x y)");
  ck_assert_uint_eq(mail_imap_body_language_count(c), 2);
  STR_EQ(mail_imap_body_language(c, 1, &n_), "de");
  ck_assert_int_eq(mail_imap_body_param(c, MAIL_IMAP_PARAMS_DISPOSITION, 0, &pn, &pnn, &pv, &pvn),
                   MAIL_OK);
  ck_assert(eq(pv, pvn, "cc.diff"));
  ck_assert_int_eq(mail_imap_body_size(c, &v), MAIL_OK);
  ck_assert_uint_eq(v, 4554);
  ck_assert_int_eq(mail_imap_body_lines(c, &v), MAIL_OK);
  ck_assert_uint_eq(v, 73);
  const mail_imap_body *m = mail_imap_body_child(b, 2);
  ck_assert_ptr_nonnull(mail_imap_body_envelope(m));
  STR_EQ(mail_imap_envelope_field(mail_imap_body_envelope(m), MAIL_IMAP_ENV_SUBJECT, &n_), "inner");
  ck_assert_uint_eq(mail_imap_body_child_count(m), 1);
  ck_assert_int_eq(mail_imap_body_lines(m, &v), MAIL_OK);
  ck_assert_uint_eq(v, 12);
  ck_assert_int_eq(mail_imap_body_lines(mail_imap_body_child(m, 0), &v), MAIL_OK);
  ck_assert_uint_eq(v, 1);
  ck_assert_int_eq(mail_imap_body_size(b, &v), MAIL_ERR_NOT_FOUND);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* unknown items are skipped, literals included; NIL and quoted sections stream too */
  char *body;
  int rc;
  const char *in = "* 2 FETCH (X-NEW-THING (1 2 {3}\r\nabc) X-BLOB {5}\r\n12345 "
                   "BODY[1] NIL BODY[2] \"q\\\"x\" RFC822.HEADER {2}\r\nhh UID 8)\r\n";
  char *j = parse_all(in, strlen(in), NULL, &rc, &body);
  ck_assert_str_eq(body, "<BODY[1] 2 0></><BODY[2] 2 3>q\"x</><RFC822.HEADER[] 2 2>hh</>");
  ck_assert_ptr_nonnull(strstr(j, "\"UID\":8"));
  ck_assert_ptr_nonnull(strstr(j, "\"BODY[1]\":{\"section\":\"1\",\"size\":0,\"nil\":true}"));
  ck_assert_ptr_nonnull(strstr(j, "\"defects\":[]"));
  free(j);
  free(body);
}
END_TEST

START_TEST(malformed_item_is_a_defect)
{
  one o;
  uint64_t v;
  const mail_imap_response *r =
    first(&o, "* 5 FETCH (UID 10 BODYSTRUCTURE (1 2 3 4 5 6 7 8) FLAGS (\\Seen) ENVELOPE (\"x\") "
              "RFC822.SIZE abc MODSEQ (12))\r\n* 6 FETCH (UID 11)\r\n");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 10);
  ck_assert_uint_eq(mail_imap_fetch_flag_count(r), 1);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_MODSEQ, &v), MAIL_OK);
  ck_assert_ptr_null(mail_imap_fetch_body(r));
  ck_assert_ptr_null(mail_imap_fetch_envelope(r));
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_RFC822_SIZE, &v), MAIL_ERR_NOT_FOUND);
  ck_assert_uint_eq(defects(r), 3);
  int kind;
  const char *item, *raw;
  size_t in_, rn;
  ck_assert_int_eq(mail_imap_response_defect(r, 0, &kind, &item, &in_, &raw, &rn), MAIL_OK);
  ck_assert_int_eq(kind, MAIL_IMAP_DEFECT_ITEM);
  ck_assert(eq(item, in_, "BODYSTRUCTURE"));
  ck_assert(eq(raw, rn, "BODYSTRUCTURE (1 2 3 4 5 6 7 8)"));
  ck_assert_int_eq(mail_imap_response_defect(r, 2, &kind, &item, &in_, &raw, &rn), MAIL_OK);
  ck_assert(eq(raw, rn, "RFC822.SIZE abc"));
  r = again(&o);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 11);
  done(&o);
}
END_TEST

START_TEST(depth_and_items_bounds)
{
  /* 200 nested lists, with a literal inside: skipped, literal consumed */
  char in[2000];
  size_t n = (size_t)sprintf(in, "* 1 FETCH (UID 3 X ");
  for (int i = 0; i < 200; i++)
    in[n++] = '(';
  n += (size_t)sprintf(in + n, "{5}\r\n)))))");
  for (int i = 0; i < 200; i++)
    in[n++] = ')';
  n += (size_t)sprintf(in + n, ")\r\n* 2 EXISTS\r\n");
  in[n] = 0;
  EXPECT(in, "\"kind\":\"too-deep\"", "\"type\":\"EXISTS\",\"code\":null,\"number\":2");
  one o;
  const mail_imap_response *r = first(&o, in);
  uint64_t v;
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  done(&o);
  mail_limits l;
  mail_limits_default(&l);
  l.max_items = 3;
  l.max_depth = 2;
  int rc;
  const char *s = "* SEARCH 1 2 3 4 5 6 7 8\r\n* FLAGS (a b c d)\r\n* 1 FETCH (BODY ((x)))\r\n";
  char *j = parse_all(s, strlen(s), &l, &rc, NULL);
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  ck_assert_ptr_nonnull(strstr(j, "\"numbers\":[1,2,3],\"defects\":[{\"kind\":\"too-many\""));
  ck_assert_ptr_nonnull(strstr(j, "\"strings\":[\"a\",\"b\",\"c\"],\"defects\":[{\"kind\":\"too-many\""));
  ck_assert_ptr_nonnull(strstr(j, "\"kind\":\"too-deep\""));
  free(j);
}
END_TEST

/* ------------------------------------------------------------ real servers' habits */

START_TEST(quirks)
{
  one o;
  uint64_t v;
  uint32_t num;
  size_t n;
  /* Exchange: a bare response code after "*" */
  const mail_imap_response *r = first(&o, "* [COPYUID 1471 5:7 31:33] copied\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_OK);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_COPYUID);
  STR_EQ(mail_imap_response_code_set2(r, &n_), "31:33");
  done(&o);
  r = first(&o, "[COPYUID 1471 5 31] copied\r\n");
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_UNTAGGED);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_OK);
  ck_assert_int_eq(mail_imap_response_code(r), MAIL_IMAP_CODE_COPYUID);
  STR_EQ(mail_imap_response_code_set(r, &n_), "5");
  STR_EQ(mail_imap_response_text(r, &n_), "copied");
  done(&o);
  /* COPYUID n with both sets empty */
  r = first(&o, "A2 OK [COPYUID 1471  ] COPY completed\r\n");
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 1471);
  STR_EQ(mail_imap_response_code_set(r, &n_), "");
  STR_EQ(mail_imap_response_code_set2(r, &n_), "");
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* unquoted mailbox names holding control characters */
  r = first(&o, "* LIST () \"/\" Foo\x01" "Bar\x7f\r\n");
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "Foo\x01" "Bar\x7f");
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* disposition as a string; size and MODSEQ -1; exponent numbers */
  r = first(&o, "* 3 FETCH (MODSEQ (-1) BODYSTRUCTURE (\"application\" \"pdf\" NIL NIL NIL \"base64\" -1 "
                "NIL \"attachment\" NIL NIL) RFC822.SIZE 9.3736e+06)\r\n");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_MODSEQ, &v), MAIL_ERR_NOT_FOUND);
  const mail_imap_body *b = mail_imap_fetch_body(r);
  ck_assert_ptr_nonnull(b);
  STR_EQ(mail_imap_body_field(b, MAIL_IMAP_BODY_DISPOSITION, &n_), "attachment");
  ck_assert_int_eq(mail_imap_body_size(b, &v), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_RFC822_SIZE, &v), MAIL_OK);
  ck_assert_uint_eq(v, 9373600);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* UIDVALIDITY and UIDNEXT of 0 */
  r = first(&o, "* OK [UIDVALIDITY 0] x\r\n* OK [UIDNEXT 0] y\r\n");
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 0);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_code_number(r, &v), MAIL_OK);
  ck_assert_uint_eq(v, 0);
  done(&o);
  /* an unescaped quote inside a quoted string */
  r = first(&o, "* 4 FETCH (ENVELOPE (NIL \"The \"best\" offer\" NIL NIL NIL NIL NIL NIL NIL NIL) UID 2)\r\n");
  STR_EQ(mail_imap_envelope_field(mail_imap_fetch_envelope(r), MAIL_IMAP_ENV_SUBJECT, &n_),
         "The \"best\" offer");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  done(&o);
  /* multiparts with no children or only a subtype */
  r = first(&o, "* 5 FETCH (BODYSTRUCTURE (\"ALTERNATIVE\"))\r\n"
                "* 6 FETCH (BODYSTRUCTURE (\"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL))\r\n");
  b = mail_imap_fetch_body(r);
  ck_assert(b && mail_imap_body_is_multipart(b) && mail_imap_body_child_count(b) == 0);
  STR_EQ(mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n_), "ALTERNATIVE");
  r = again(&o);
  b = mail_imap_fetch_body(r);
  ck_assert(b && mail_imap_body_is_multipart(b));
  STR_EQ(mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n_), "MIXED");
  ck_assert_uint_eq(mail_imap_body_param_count(b, 0), 1);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* ENVELOPE with date and subject swapped, extra and missing parentheses */
  r = first(&o,
            "* 7 FETCH (ENVELOPE (\"Hello\" \"Tue, 3 Nov 2026 10:00:00 +0000\" NIL NIL NIL NIL NIL NIL NIL \"<a@b>\"))\r\n"
            "* 8 FETCH (ENVELOPE ((\"Tue, 3 Nov 2026 10:00:00 +0000\" \"S\" NIL NIL NIL NIL NIL NIL NIL \"<c@d>\")) UID 3)\r\n"
            "* 9 FETCH (ENVELOPE \"Tue, 3 Nov 2026 10:00:00 +0000\" \"S2\" ((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL NIL \"<e@f>\" UID 4)\r\n");
  const mail_imap_envelope *e = mail_imap_fetch_envelope(r);
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n_), "Hello");
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_DATE, &n_), "Tue, 3 Nov 2026 10:00:00 +0000");
  r = again(&o);
  STR_EQ(mail_imap_envelope_field(mail_imap_fetch_envelope(r), MAIL_IMAP_ENV_MESSAGE_ID, &n_), "<c@d>");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  r = again(&o);
  e = mail_imap_fetch_envelope(r);
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n_), "S2");
  STR_EQ(mail_imap_address_mailbox(mail_imap_envelope_address(e, MAIL_IMAP_ADDR_FROM, 0), &n_), "a");
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v), MAIL_OK);
  ck_assert_uint_eq(v, 4);
  ck_assert_uint_eq(defects(r), 0);
  done(&o);
  /* ENVELOPE with its last fields left out */
  r = first(&o, "* 10 FETCH (ENVELOPE (\"Tue, 3 Nov 2026 10:00:00 +0000\" \"nine\" ((NIL NIL \"a\" \"b\")) "
                "((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) ((NIL NIL \"c\" \"d\")) NIL NIL \"<m9@x>\"))\r\n"
                "* 11 FETCH (ENVELOPE (\"Tue, 3 Nov 2026 10:00:00 +0000\" \"eight\" NIL NIL NIL "
                "((NIL NIL \"c\" \"d\")) NIL NIL))\r\n");
  e = mail_imap_fetch_envelope(r);
  ck_assert_ptr_nonnull(e);
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, &n_), "<m9@x>");
  ck_assert_ptr_null(mail_imap_envelope_field(e, MAIL_IMAP_ENV_IN_REPLY_TO, NULL));
  ck_assert_uint_eq(defects(r), 0);
  r = again(&o);
  e = mail_imap_fetch_envelope(r);
  ck_assert_ptr_nonnull(e);
  STR_EQ(mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n_), "eight");
  ck_assert_ptr_null(mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, NULL));
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_TO), 1);
  done(&o);
  /* "* 0 FETCH", trailing spaces, "\*" in FLAGS, 8-bit bytes in quoted strings, "]" in flags */
  r = first(&o, "* 0 FETCH (UID 9 FLAGS (\\Seen \\* fo]o ba[r) ENVELOPE (NIL \"Gr\xfc\xdf" "e \xc3\xa9\" NIL NIL NIL NIL NIL NIL NIL NIL)) \r\n"
                "* SEARCH 1 2  \r\n* OK [PERMANENTFLAGS (\\Seen x]y \\*)] flags  \r\n");
  ck_assert_int_eq(mail_imap_response_number(r, &num), MAIL_OK);
  ck_assert_uint_eq(num, 0);
  ck_assert_uint_eq(mail_imap_fetch_flag_count(r), 4);
  STR_EQ(mail_imap_fetch_flag(r, 1, &n_), "\\*");
  STR_EQ(mail_imap_fetch_flag(r, 2, &n_), "fo]o");
  STR_EQ(mail_imap_fetch_flag(r, 3, &n_), "ba[r");
  STR_EQ(mail_imap_envelope_field(mail_imap_fetch_envelope(r), MAIL_IMAP_ENV_SUBJECT, &n_),
         "Gr\xfc\xdf" "e \xc3\xa9");
  ck_assert_uint_eq(defects(r), 0);
  r = again(&o);
  mail_imap_response_numbers(r, &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(defects(r), 0);
  r = again(&o);
  ck_assert_uint_eq(mail_imap_response_string_count(r), 3);
  STR_EQ(mail_imap_response_string(r, 1, &n_), "x]y");
  STR_EQ(mail_imap_response_text(r, &n_), "flags");
  done(&o);
  /* BYE followed by more data */
  r = first(&o, "* BYE Autologout; idle for too long\r\n* 3 EXPUNGE\r\nA1 OK done\r\n");
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_BYE);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_type(r), MAIL_IMAP_TYPE_EXPUNGE);
  r = again(&o);
  ck_assert_int_eq(mail_imap_response_kind(r), MAIL_IMAP_KIND_TAGGED);
  done(&o);
}
END_TEST

/* ------------------------------------------------------------ modified UTF-7 */

START_TEST(utf7)
{
  static const struct {
    const char *utf8, *utf7;
  } cases[] = {
    {"INBOX", "INBOX"},
    {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
    {"A&B", "A&-B"},
    {"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"},
    {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
    {"\xf0\x9f\x98\x80 x", "&2D3eAA- x"},
    {"", ""},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char buf[100];
    size_t n;
    ck_assert_int_eq(mail_imap_utf7_encode(&n, buf, sizeof buf, cases[k].utf8, strlen(cases[k].utf8)), MAIL_OK);
    ck_assert_msg(eq(buf, n, cases[k].utf7), "encode %s: %.*s", cases[k].utf7, (int)n, buf);
    ck_assert_int_eq(mail_imap_utf7_decode(&n, buf, sizeof buf, cases[k].utf7, strlen(cases[k].utf7)), MAIL_OK);
    ck_assert(eq(buf, n, cases[k].utf8));
  }
  static const char *const bad[] = {"&", "&AGE-", "&Jjo", "&2D0-", "&U,BTF-", "&*-"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    char buf[100];
    size_t n;
    ck_assert_int_eq(mail_imap_utf7_decode(&n, buf, sizeof buf, bad[k], strlen(bad[k])), MAIL_ERR_SYNTAX);
  }
  size_t n;
  char small[3];
  ck_assert_int_eq(mail_imap_utf7_encode(&n, small, sizeof small, "Entw\xc3\xbcrfe", 9), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(n, 12);
  ck_assert_int_eq(mail_imap_utf7_encode(&n, small, sizeof small, "\xff", 1), MAIL_ERR_CHARSET);
  /* an invalid name from a server is kept as sent */
  one o;
  const mail_imap_response *r = first(&o, "* LIST () \"/\" \"&Jjo\"\r\n");
  STR_EQ(mail_imap_response_mailbox(r, &n_, NULL, NULL), "&Jjo");
  done(&o);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

static const char *const alloc_input =
    "* OK [CAPABILITY IMAP4rev1] hi\r\n"
    "* 1 FETCH (UID 1 FLAGS (\\Seen) ENVELOPE (\"d\" {3}\r\nsub ((\"n\" NIL \"m\" \"h\")) NIL NIL NIL NIL NIL NIL \"<i>\") "
    "BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 5 "
    "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1) 2) \"mixed\") "
    "BODY[] {4}\r\nabcd X-GM-LABELS (\"a\\\"b\"))\r\n"
    "* THREAD (1 (2)(3))\r\n* LIST () \"/\" Entw&APw-rfe\r\n* ESEARCH (TAG \"x\") ALL 1\r\nA1 OK done\r\n";

/* The input fed in 7-byte pieces, every response taken: MAIL_OK with all
 * six responses, else the first error (a short count is
 * MAIL_ERR_INTERNAL, which no run may return). */
static int parse_allocating(void *user, mail_test_alloc *ta)
{
  const char *in = user;
  mail_imap_parser *p;
  int rc = mail_imap_parser_new(&p, mail_test_alloc_hooks(ta));
  if (rc)
    return rc;
  size_t got = 0;
  for (size_t at = 0; at < strlen(in) && rc == MAIL_OK; at += 7) {
    size_t k = strlen(in) - at < 7 ? strlen(in) - at : 7;
    rc = mail_imap_parser_feed(p, in + at, k);
    const mail_imap_response *r;
    while (rc == MAIL_OK && (rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
      got++;
    if (rc == MAIL_ERR_AGAIN)
      rc = MAIL_OK;
  }
  mail_imap_parser_free(p);
  if (rc == MAIL_OK && got != 6)
    return MAIL_ERR_INTERNAL;
  return rc;
}

/* Each allocation failing in turn: MAIL_ERR_NOMEM or, when the failure
 * was absorbed, every response; nothing left allocated. */
START_TEST(allocation_failures)
{
  MAIL_TEST_ASSERT_EACH_ALLOCATION("imap_parse", parse_allocating, (void *)alloc_input, MAIL_OK,
                                   MAIL_TEST_NOMEM_OR_EXPECT);
}
END_TEST

START_TEST(api_guards)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_limits l;
  mail_limits_default(&l);
  l.max_depth = 0;
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_ERR_INVALID);
  mail_limits_default(&l);
  ck_assert_int_eq(mail_imap_parser_feed(p, "* ", 2), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_parser_feed(p, NULL, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_parser_next(p, NULL), MAIL_ERR_INVALID);
  ck_assert_uint_eq(mail_imap_parser_pending(p), 2);
  mail_imap_parser_reset(p);
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &l), MAIL_OK);
  mail_imap_parser_free(p);
  mail_imap_parser_free(NULL);
  ck_assert_int_eq(mail_imap_response_kind(NULL), 0);
  ck_assert_ptr_null(mail_imap_fetch_envelope(NULL));
  ck_assert_ptr_null(mail_imap_body_child(NULL, 0));
  ck_assert_uint_eq(mail_imap_fetch_flag_count(NULL), 0);
}
END_TEST

/* ------------------------------------------------------------ a Dovecot capture */

START_TEST(dovecot_capture_zero_defects)
{
  char path[512];
  snprintf(path, sizeof path, "%s/tests/data/imap/dovecot-fetch.txt", MAIL_SRCDIR);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int rc;
  char *j = parse_all(buf, n, NULL, &rc, NULL);
  ck_assert_int_eq(rc, MAIL_ERR_CLOSED);
  size_t lines = 0;
  for (char *s = j; (s = strchr(s, '\n')) != NULL; s++)
    lines++;
  ck_assert_uint_gt(lines, 10);
  char *d = strstr(j, "\"defects\":[{");
  ck_assert_msg(!d, "defect: %.300s", d ? d : "");
  free(j);
}
END_TEST

static Suite *imap_parse_suite(void)
{
  Suite *s = suite_create("imap_parse");
  TCase *t = tcase_create("all");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, greeting_and_tagged);
  tcase_add_test(t, literal_holds_anything);
  tcase_add_test(t, literal_markers_outside_quotes_only);
  tcase_add_test(t, literal_size_overflow);
  tcase_add_test(t, held_literal_over_bound);
  tcase_add_test(t, search_million_uids);
  tcase_add_test(t, search_and_sort_million_in_bounded_memory);
  tcase_add_test(t, sets_and_threads_in_bounded_memory);
  tcase_add_test(t, endless_search_hits_the_bounds);
  tcase_add_test(t, set_limits_versions);
  tcase_add_test(t, bodies_stream_in_bounded_memory);
  tcase_add_test(t, end_inside_response);
  tcase_add_test(t, callback_error_is_sticky);
  tcase_add_test(t, callback_refusal);
  tcase_add_test(t, response_codes);
  tcase_add_test(t, simple_data);
  tcase_add_test(t, list_status_namespace);
  tcase_add_test(t, esearch_thread);
  tcase_add_test(t, continuation_and_xoauth2);
  tcase_add_test(t, fetch_items);
  tcase_add_test(t, malformed_item_is_a_defect);
  tcase_add_test(t, depth_and_items_bounds);
  tcase_add_test(t, quirks);
  tcase_add_test(t, utf7);
  tcase_add_test(t, allocation_failures);
  tcase_add_test(t, api_guards);
  tcase_add_test(t, dovecot_capture_zero_defects);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(imap_parse_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

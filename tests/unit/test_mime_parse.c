/* Unit tests for the MIME parser: the same events at every split point,
 * structure, decoding, limits and hostile inputs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

#include "core/buf.h"
#include "core/mem.h"
#include "../support/alloc.h"
#include "each_alloc.h"

static mail_allocator A;
static void setup(void) { mail_alloc_init(&A, NULL); }

/* ------------------------------------------------------------ event log */

typedef struct log {
  mail_buf b;
  mail_mime_part *last_body_part;
} log_t;

static int ev_start(void *u, mail_mime_part *p)
{
  log_t *l = u;
  l->last_body_part = NULL;
  return mail_buf_appendf(&l->b, "[start %s]", mail_mime_part_path(p)) ? 1 : 0;
}

static int ev_header(void *u, mail_mime_part *p, const char *n, size_t nl, const char *v, size_t vl)
{
  log_t *l = u;
  l->last_body_part = NULL;
  return mail_buf_appendf(&l->b, "[h %.*s=%.*s]", (int)nl, n, (int)vl, v) ? 1 : 0;
}

static int ev_hend(void *u, mail_mime_part *p)
{
  log_t *l = u;
  l->last_body_part = NULL;
  return mail_buf_appendf(&l->b, "[hend %s %s]", mail_mime_part_path(p),
                          mail_mime_part_content_type(p)) ? 1 : 0;
}

/* Body chunks are joined so that the log does not depend on the split. */
static int ev_body(void *u, mail_mime_part *p, const void *d, size_t n)
{
  log_t *l = u;
  if (l->last_body_part != p && mail_buf_append_str(&l->b, "[body]"))
    return 1;
  l->last_body_part = p;
  return mail_buf_append(&l->b, d, n) ? 1 : 0;
}

static int ev_end(void *u, mail_mime_part *p)
{
  log_t *l = u;
  l->last_body_part = NULL;
  uint64_t hs, bs, be;
  mail_mime_part_offsets(p, &hs, &bs, &be);
  return mail_buf_appendf(&l->b, "[end %s %llu %llu %llu]", mail_mime_part_path(p),
                          (unsigned long long)hs, (unsigned long long)bs, (unsigned long long)be) ? 1 : 0;
}

static int ev_defect(void *u, mail_mime_part *p, int kind, uint64_t off)
{
  log_t *l = u;
  l->last_body_part = NULL;
  return mail_buf_appendf(&l->b, "[defect %s %llu]", mail_mime_defect_name(kind),
                          (unsigned long long)off) ? 1 : 0;
}

/* Parse msg fed in the pieces given by cuts (sorted offsets); return the log. */
static char *parse_log(const char *msg, size_t n, const size_t *cuts, size_t ncuts, unsigned flags)
{
  log_t l;
  memset(&l, 0, sizeof l);
  mail_buf_init(&l.b, &A, 0);
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &l, ev_start, ev_header, ev_hend,
                            ev_body, ev_end, ev_defect};
  mail_mime_parser *p;
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_set_callbacks(p, &cb), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_set_flags(p, flags), MAIL_OK);
  size_t at = 0;
  for (size_t i = 0; i < ncuts; i++) {
    ck_assert_int_eq(mail_mime_parser_feed(p, msg + at, cuts[i] - at), MAIL_OK);
    at = cuts[i];
  }
  ck_assert_int_eq(mail_mime_parser_feed(p, msg + at, n - at), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  mail_mime_parser_free(p);
  mail_buf_append_byte(&l.b, 0);
  return (char *)l.b.data;
}

static const char *const SAMPLES[] = {
  /* nested multipart, QP, base64, message/rfc822, preamble/epilogue */
  "From: a@b\r\nSubject: =?utf-8?q?x?=\r\n  folded\r\nContent-Type: multipart/mixed;\r\n"
  " boundary=\"b1\"\r\n\r\npre\r\n--b1\r\nContent-Type: text/plain\r\n"
  "Content-Transfer-Encoding: quoted-printable\r\n\r\nh=C3=A9 =\r\nx\r\n"
  "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n\r\nalt1\r\n"
  "--b2\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n--b2--\r\n"
  "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\n--not\r\n-- b1\r\n"
  "--b1--\r\nepi\r\n",
  /* LF only, missing close boundary, boundary prefix lines */
  "Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\nA\n--zzz\n--z\n-\n--zz \t\n"
  "Content-Type: text/plain\n\nB\n",
  /* inner multipart never closed, outer boundary ends it */
  "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: multipart/mixed; boundary=i\n\n"
  "--i\n\ninner\n--o\n\nsecond\n--o--\n",
  /* no blank line, headers only */
  "Subject: x\r\nFrom: y\r\n",
  /* a line that is no header */
  "Subject: x\nthis is body\nmore\n",
  /* empty */
  "",
};

START_TEST(every_split_same_events)
{
  for (size_t s = 0; s < sizeof SAMPLES / sizeof SAMPLES[0]; s++) {
    const char *m = SAMPLES[s];
    size_t n = strlen(m);
    char *whole = parse_log(m, n, NULL, 0, 0);
    for (size_t c1 = 0; c1 <= n; c1++) {
      size_t cuts[1] = {c1};
      char *got = parse_log(m, n, cuts, 1, 0);
      if (strcmp(got, whole))
        ck_abort_msg("sample %zu cut %zu:\n%s\n!=\n%s", s, c1, got, whole);
      mail_dealloc(&A, got);
    }
    /* byte by byte */
    size_t *cuts = malloc((n + 1) * sizeof *cuts);
    for (size_t i = 0; i < n; i++)
      cuts[i] = i + 1;
    char *got = parse_log(m, n, cuts, n, 0);
    ck_assert_str_eq(got, whole);
    mail_dealloc(&A, got);
    free(cuts);
    mail_dealloc(&A, whole);
  }
}
END_TEST

START_TEST(every_two_splits_small)
{
  const char *m = SAMPLES[0];
  size_t n = strlen(m);
  char *whole = parse_log(m, n, NULL, 0, 0);
  for (size_t a = 0; a <= n; a += 3)
    for (size_t b = a; b <= n; b += 5) {
      size_t cuts[2] = {a, b};
      char *got = parse_log(m, n, cuts, 2, 0);
      ck_assert_str_eq(got, whole);
      mail_dealloc(&A, got);
    }
  mail_dealloc(&A, whole);
}
END_TEST

START_TEST(events_of_nested_sample)
{
  const char *m = SAMPLES[0];
  char *log = parse_log(m, strlen(m), NULL, 0, 0);
  ck_assert_ptr_nonnull(strstr(log, "[hend 1 text/plain][body]h\xC3\xA9 x[end 1"));
  ck_assert_ptr_nonnull(strstr(log, "[hend 2.1 text/plain][body]alt1[end 2.1"));
  ck_assert_ptr_nonnull(strstr(log, "[hend 2.2 text/plain][body]hello[end 2.2"));
  ck_assert_ptr_nonnull(strstr(log, "[hend 3 message/rfc822]"));
  ck_assert_ptr_nonnull(strstr(log, "[hend 3.1 text/plain][body]--not\r\n-- b1[end 3.1"));
  ck_assert_ptr_null(strstr(log, "[defect"));
  mail_dealloc(&A, log);

  log = parse_log(SAMPLES[1], strlen(SAMPLES[1]), NULL, 0, 0);
  ck_assert_ptr_nonnull(strstr(log, "[body]A\n--zzz\n--z\n-[end 1"));
  ck_assert_ptr_nonnull(strstr(log, "[body]B\n[end 2"));
  ck_assert_ptr_nonnull(strstr(log, "[defect close-boundary-not-found"));
  mail_dealloc(&A, log);

  log = parse_log(SAMPLES[2], strlen(SAMPLES[2]), NULL, 0, 0);
  ck_assert_ptr_nonnull(strstr(log, "[body]inner[end 1.1"));
  ck_assert_ptr_nonnull(strstr(log, "[defect close-boundary-not-found"));
  ck_assert_ptr_nonnull(strstr(log, "[body]second[end 2"));
  mail_dealloc(&A, log);

  log = parse_log(SAMPLES[4], strlen(SAMPLES[4]), NULL, 0, 0);
  ck_assert_ptr_nonnull(strstr(log, "[defect missing-header-body-separator 11]"));
  ck_assert_ptr_nonnull(strstr(log, "[body]this is body\nmore\n"));
  mail_dealloc(&A, log);
}
END_TEST

/* A large message cut at random points gives the same events. */
START_TEST(random_splits_large)
{
  mail_buf m;
  mail_buf_init(&m, &A, 0);
  mail_buf_append_str(&m, "Content-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n");
  srand(42);
  for (int part = 0; part < 40; part++) {
    mail_buf_appendf(&m, "--=_b\r\nContent-Type: application/x%d\r\n"
                         "Content-Transfer-Encoding: %s\r\n\r\n", part, part % 2 ? "base64" : "7bit");
    int lines = rand() % 200;
    for (int l = 0; l < lines; l++) {
      if (part % 2)
        mail_buf_append_str(&m, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\r\n");
      else
        mail_buf_appendf(&m, "%s line %d -- =_b\r\n", l % 7 ? "text" : "--=_", l);
    }
  }
  mail_buf_append_str(&m, "--=_b--\r\n");
  char *whole = parse_log((const char *)m.data, m.len, NULL, 0, 0);
  for (int round = 0; round < 30; round++) {
    size_t cuts[64];
    size_t nc = (size_t)(rand() % 64);
    for (size_t i = 0; i < nc; i++)
      cuts[i] = (size_t)rand() % (m.len + 1);
    for (size_t i = 1; i < nc; i++) /* insertion sort */
      for (size_t j = i; j > 0 && cuts[j - 1] > cuts[j]; j--) {
        size_t t = cuts[j];
        cuts[j] = cuts[j - 1];
        cuts[j - 1] = t;
      }
    char *got = parse_log((const char *)m.data, m.len, cuts, nc, 0);
    ck_assert_str_eq(got, whole);
    mail_dealloc(&A, got);
  }
  mail_dealloc(&A, whole);
  mail_buf_free(&m);
}
END_TEST

/* ------------------------------------------------------------ tree */

START_TEST(tree_structure_and_decode)
{
  const char *m = SAMPLES[0];
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m, strlen(m), 0, NULL, &A), MAIL_OK);
  mail_mime_part *root = mail_mime_message_root(msg);
  ck_assert_str_eq(mail_mime_part_content_type(root), "multipart/mixed");
  ck_assert_str_eq(mail_mime_part_path(root), "");
  ck_assert_uint_eq(mail_mime_part_child_count(root), 3);
  ck_assert_str_eq(mail_mime_part_header_decoded(root, "subject"), "x  folded");
  ck_assert_str_eq(mail_mime_part_header(root, "SUBJECT"), " =?utf-8?q?x?=\r\n  folded");
  mail_mime_part *alt = mail_mime_part_child(root, 1);
  ck_assert(mail_mime_part_is_multipart(alt));
  mail_mime_part *b64 = mail_mime_part_child(alt, 1);
  ck_assert_str_eq(mail_mime_part_path(b64), "2.2");
  unsigned char *out;
  size_t len;
  ck_assert_int_eq(mail_mime_part_decode(b64, 0, &out, &len), MAIL_OK);
  ck_assert_uint_eq(len, 5);
  ck_assert_str_eq((char *)out, "hello");
  mail_free(out);
  uint64_t hs, bs, be;
  mail_mime_part_offsets(b64, &hs, &bs, &be);
  ck_assert_int_eq(memcmp(m + hs, "Content-Transfer-Encoding: base64", 33), 0);
  ck_assert_int_eq(memcmp(m + bs, "aGVs\r\nbG8=", be - bs), 0);
  mail_mime_part *rfc = mail_mime_part_child(root, 2);
  ck_assert(mail_mime_part_is_message(rfc));
  mail_mime_part *inner = mail_mime_part_child(rfc, 0);
  ck_assert_str_eq(mail_mime_part_path(inner), "3.1");
  ck_assert_str_eq(mail_mime_part_header(inner, "subject"), " in");
  ck_assert_uint_eq(mail_mime_message_defect_count(msg), 0);
  mail_mime_message_free(msg);
  mail_mime_message_free(NULL);
}
END_TEST

START_TEST(tree_to_utf8_and_unknown_charset)
{
  const char *m = "Content-Type: text/plain; charset=iso-8859-1\n"
                  "Content-Transfer-Encoding: quoted-printable\n\ncaf=E9\n";
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m, strlen(m), MAIL_MIME_BORROW, NULL, &A), MAIL_OK);
  unsigned char *out;
  size_t len;
  ck_assert_int_eq(mail_mime_part_decode(mail_mime_message_root(msg), MAIL_MIME_TO_UTF8, &out, &len), MAIL_OK);
  ck_assert_str_eq((char *)out, "caf\xC3\xA9\n");
  mail_free(out);
  mail_mime_message_free(msg);

  m = "Content-Type: text/plain; charset=x-no-such\n\nraw\xff\n";
  ck_assert_int_eq(mail_mime_message_parse(&msg, m, strlen(m), 0, NULL, &A), MAIL_OK);
  ck_assert_int_eq(mail_mime_part_decode(mail_mime_message_root(msg), MAIL_MIME_TO_UTF8, &out, &len), MAIL_OK);
  ck_assert_uint_eq(mail_mime_message_defect_count(msg), 1);
  int kind;
  mail_mime_message_defect(msg, 0, &kind, NULL, NULL);
  ck_assert_int_eq(kind, MAIL_MIME_DEFECT_UNKNOWN_CHARSET);
  mail_free(out);
  mail_mime_message_free(msg);
}
END_TEST

/* ------------------------------------------------------------ limits */

static size_t count_defect(mail_mime_message *msg, int want)
{
  size_t n = 0;
  for (size_t i = 0; i < mail_mime_message_defect_count(msg); i++) {
    int k;
    mail_mime_message_defect(msg, i, &k, NULL, NULL);
    n += k == want;
  }
  return n;
}

START_TEST(limit_depth)
{
  mail_buf m;
  mail_buf_init(&m, &A, 0);
  for (int i = 0; i < 5000; i++)
    mail_buf_appendf(&m, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m.data, m.len, 0, NULL, &A), MAIL_OK);
  ck_assert_uint_eq(count_defect(msg, MAIL_MIME_DEFECT_LIMIT_DEPTH), 1);
  mail_mime_message_free(msg);
  /* message/rfc822 chains too */
  mail_buf_clear(&m);
  for (int i = 0; i < 5000; i++)
    mail_buf_append_str(&m, "Content-Type: message/rfc822\n\n");
  ck_assert_int_eq(mail_mime_message_parse(&msg, m.data, m.len, 0, NULL, &A), MAIL_OK);
  ck_assert_uint_eq(count_defect(msg, MAIL_MIME_DEFECT_LIMIT_DEPTH), 1);
  mail_mime_message_free(msg);
  mail_buf_free(&m);
}
END_TEST

START_TEST(limit_parts_and_many_parts)
{
  mail_buf m;
  mail_buf_init(&m, &A, 0);
  mail_buf_append_str(&m, "Content-Type: multipart/mixed; boundary=b\n\n");
  for (int i = 0; i < 300000; i++)
    mail_buf_append_str(&m, "--b\n\nx\n");
  mail_buf_append_str(&m, "--b--\n");
  mail_mime_message *msg;
  mail_mime_limits lim;
  mail_mime_limits_default(&lim);
  ck_assert_int_eq(mail_mime_message_parse(&msg, m.data, m.len, 0, &lim, &A), MAIL_OK);
  ck_assert_uint_eq(count_defect(msg, MAIL_MIME_DEFECT_LIMIT_PARTS), 1);
  ck_assert_uint_eq(mail_mime_part_child_count(mail_mime_message_root(msg)), lim.max_parts - 1);
  mail_mime_message_free(msg);
  mail_buf_free(&m);
}
END_TEST

START_TEST(limit_headers_and_long_header)
{
  mail_buf m;
  mail_buf_init(&m, &A, 0);
  /* a 2 MB header of folded lines, then 20,000 short headers */
  mail_buf_append_str(&m, "X-Long: start\n");
  for (int i = 0; i < 40000; i++)
    mail_buf_append_str(&m, " folded folded folded folded folded folded\n");
  for (int i = 0; i < 20000; i++)
    mail_buf_appendf(&m, "X-H%d: v\n", i);
  mail_buf_append_str(&m, "\nbody\n");
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m.data, m.len, 0, NULL, &A), MAIL_OK);
  ck_assert_uint_eq(count_defect(msg, MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH), 1);
  ck_assert_uint_ge(count_defect(msg, MAIL_MIME_DEFECT_LIMIT_HEADERS), 1);
  mail_mime_part *root = mail_mime_message_root(msg);
  ck_assert_uint_eq(mail_mime_part_header_count(root), 10000);
  unsigned char *out;
  size_t len;
  ck_assert_int_eq(mail_mime_part_decode(root, 0, &out, &len), MAIL_OK);
  ck_assert_str_eq((char *)out, "body\n");
  mail_free(out);
  mail_mime_message_free(msg);

  /* one endless line without a line break, fed in pieces: memory stays bounded */
  mail_mime_parser *p;
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  char chunk[4096];
  memset(chunk, 'a', sizeof chunk);
  memcpy(chunk, "X-A:", 4);
  for (int i = 0; i < 1024; i++)
    ck_assert_int_eq(mail_mime_parser_feed(p, chunk, sizeof chunk), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  ck_assert_uint_ge(mail_mime_parser_defect_total(p), 1);
  mail_mime_parser_free(p);
  mail_buf_free(&m);

  /* a 512 KiB header line fed one byte at a time stays linear */
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, "X-A: ", 5), MAIL_OK);
  for (int i = 0; i < 512 * 1024; i++)
    ck_assert_int_eq(mail_mime_parser_feed(p, "a", 1), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, "\n\nbody", 7), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  ck_assert_uint_eq(mail_mime_parser_defect_total(p), 0);
  mail_mime_parser_free(p);
}
END_TEST

START_TEST(limit_decoded)
{
  const char *m = "Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n";
  mail_mime_parser *p;
  log_t l;
  memset(&l, 0, sizeof l);
  mail_buf_init(&l.b, &A, 0);
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &l, NULL, NULL, NULL, ev_body, NULL, ev_defect};
  mail_mime_limits lim;
  mail_mime_limits_default(&lim);
  lim.max_decoded = 5;
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  mail_mime_parser_set_callbacks(p, &cb);
  ck_assert_int_eq(mail_mime_parser_set_limits(p, &lim), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, m, strlen(m)), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, "x", 1), MAIL_ERR_STATE);
  mail_buf_append_byte(&l.b, 0);
  ck_assert_ptr_nonnull(strstr((char *)l.b.data, "[body]hello[defect limit-decoded"));
  mail_mime_parser_free(p);
  mail_buf_free(&l.b);
}
END_TEST

/* Found by fuzzing (fuzz-mime_parse): the limit-decoded defect carried the
 * offset of the caller's current chunk, so it changed with the split. It is
 * now at the body start of the part, however the input is fed. */
START_TEST(limit_decoded_offset_any_split)
{
  const char *m = "Subject: x\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQ=\n";
  size_t len = strlen(m);
  for (size_t piece = 1; piece <= len; piece++) {
    mail_mime_parser *p;
    log_t l;
    memset(&l, 0, sizeof l);
    mail_buf_init(&l.b, &A, 0);
    mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &l, NULL, NULL, NULL, ev_body, NULL,
                              ev_defect};
    mail_mime_limits lim;
    mail_mime_limits_default(&lim);
    lim.max_decoded = 5;
    ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
    mail_mime_parser_set_callbacks(p, &cb);
    ck_assert_int_eq(mail_mime_parser_set_limits(p, &lim), MAIL_OK);
    for (size_t at = 0; at < len; at += piece)
      ck_assert_int_eq(mail_mime_parser_feed(p, m + at, len - at < piece ? len - at : piece),
                       MAIL_OK);
    ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
    mail_buf_append_byte(&l.b, 0);
    const char *d = strstr((char *)l.b.data, "[defect ");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(d, "[defect limit-decoded 46]");
    mail_mime_parser_free(p);
    mail_buf_free(&l.b);
  }
}
END_TEST

static int stop_cb(void *u, mail_mime_part *p) { return 1; }

START_TEST(callback_stops)
{
  mail_mime_parser *p;
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, NULL, NULL, NULL, stop_cb, NULL, NULL, NULL};
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_set_callbacks(p, &cb), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, "A: b\n\nbody", 10), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_ERR_CALLBACK);
  mail_mime_parser_free(p);
  mail_mime_parser_free(NULL);
}
END_TEST

/* A 64 MiB base64 body streamed in 64 KiB chunks: the parser's pending
 * buffer never holds more than a few bytes beyond one chunk. */
static int count_body(void *u, mail_mime_part *p, const void *d, size_t n)
{
  *(uint64_t *)u += n;
  return 0;
}

START_TEST(streams_large_body)
{
  mail_mime_parser *p;
  uint64_t total = 0;
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &total, NULL, NULL, NULL, count_body, NULL, NULL};
  ck_assert_int_eq(mail_mime_parser_new(&p, &A), MAIL_OK);
  mail_mime_parser_set_callbacks(p, &cb);
  const char *head = "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n";
  ck_assert_int_eq(mail_mime_parser_feed(p, head, strlen(head)), MAIL_OK);
  char chunk[65536 + 7];
  const char *line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
  size_t ll = strlen(line);
  for (size_t i = 0; i + ll <= sizeof chunk; i += ll)
    memcpy(chunk + i, line, ll);
  size_t used = sizeof chunk / ll * ll;
  for (int i = 0; i < 1000; i++)
    ck_assert_int_eq(mail_mime_parser_feed(p, chunk, used), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_feed(p, "--q--\r\n", 7), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  ck_assert_uint_eq(total, (uint64_t)1000 * (used / ll) * 54);
  ck_assert_uint_eq(mail_mime_parser_defect_total(p), 0);
  mail_mime_parser_free(p);
}
END_TEST

/* Conversion to UTF-8 while streaming: a character split across chunks
 * (and across base64 groups) comes out whole. */
START_TEST(streaming_to_utf8_every_split)
{
  const char *m = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                  "Content-Type: text/plain; charset=iso-2022-jp\n\n"
                  "\x1b$BF|K\\8l\x1b(B ok\n--b\n"
                  "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
                  "4oKs4oKs4oKs\n--b\n"
                  "Content-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: quoted-printable\n\n"
                  "=93=FA=96{\n--b\n"
                  "Content-Type: text/plain; charset=utf-8\n\nbad \xff\n--b--\n";
  size_t n = strlen(m);
  char *whole = parse_log(m, n, NULL, 0, MAIL_MIME_TO_UTF8);
  ck_assert_ptr_nonnull(strstr(whole, "[body]\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E ok[end 1"));
  ck_assert_ptr_nonnull(strstr(whole, "[body]\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC[end 2"));
  ck_assert_ptr_nonnull(strstr(whole, "[body]\xE6\x97\xA5\xE6\x9C\xAC[end 3"));
  ck_assert_ptr_nonnull(strstr(whole, "[body]bad \xEF\xBF\xBD[defect undecodable-bytes"));
  for (size_t c = 0; c <= n; c++) {
    size_t cuts[1] = {c};
    char *got = parse_log(m, n, cuts, 1, MAIL_MIME_TO_UTF8);
    if (strcmp(got, whole))
      ck_abort_msg("cut %zu:\n%s\n!=\n%s", c, got, whole);
    mail_dealloc(&A, got);
  }
  size_t *cuts = malloc(n * sizeof *cuts);
  for (size_t i = 0; i < n; i++)
    cuts[i] = i + 1;
  char *got = parse_log(m, n, cuts, n, MAIL_MIME_TO_UTF8);
  ck_assert_str_eq(got, whole);
  mail_dealloc(&A, got);
  free(cuts);
  mail_dealloc(&A, whole);
}
END_TEST

/* Every allocation of a parse (tree, decoding, header decoding, address
 * lists, streaming with UTF-8 conversion) made to fail in turn: the result
 * is MAIL_OK or MAIL_ERR_NOMEM, never a crash, and nothing leaks. */
static int fail_run(mail_test_alloc *t)
{
  const mail_allocator *a = mail_test_alloc_hooks(t);
  const char *m = SAMPLES[0];
  mail_mime_message *msg;
  int rc = mail_mime_message_parse(&msg, m, strlen(m), MAIL_MIME_CHECK_HEADERS, NULL, a);
  if (rc)
    return rc;
  mail_mime_part *root = mail_mime_message_root(msg);
  mail_mime_part_header_decoded(root, "subject");
  for (size_t i = 0; i < mail_mime_part_child_count(root); i++) {
    unsigned char *out;
    size_t len;
    if (mail_mime_part_decode(mail_mime_part_child(root, i), MAIL_MIME_TO_UTF8, &out, &len) == MAIL_OK)
      mail_free(out);
  }
  mail_mime_part_set_header(root, "Subject", "x");
  mail_mime_message_free(msg);
  mail_address_list *l;
  const char *s = "\"A\" <a@b>, g: c@d;, =?utf-8?q?x?= <e@f>";
  if (mail_address_list_parse(&l, s, strlen(s), 0, NULL, a) == MAIL_OK)
    mail_address_list_free(l);
  log_t lg;
  memset(&lg, 0, sizeof lg);
  mail_buf_init(&lg.b, &A, 0);
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &lg, ev_start, ev_header, ev_hend,
                            ev_body, ev_end, ev_defect};
  mail_mime_parser *p;
  if ((rc = mail_mime_parser_new(&p, a)) == MAIL_OK) {
    mail_mime_parser_set_callbacks(p, &cb);
    mail_mime_parser_set_flags(p, MAIL_MIME_TO_UTF8);
    rc = mail_mime_parser_feed(p, m, 50);
    if (!rc)
      rc = mail_mime_parser_feed(p, m + 50, strlen(m) - 50);
    if (!rc)
      rc = mail_mime_parser_finish(p);
    mail_mime_parser_free(p);
  }
  mail_buf_free(&lg.b);
  return rc;
}

static int fail_run_status(void *user, mail_test_alloc *t)
{
  return fail_run(t);
}

START_TEST(allocation_failures)
{
  mail_test_nomem_result res;
  ck_assert_msg(mail_test_each_allocation("mime parse", fail_run_status, NULL, MAIL_OK,
                                          MAIL_TEST_NOMEM_OR_EXPECT, &res) == 0,
                "%s", res.report);
  ck_assert_uint_gt(res.failed_runs + 1, 50); /* every allocation has failed once */
}
END_TEST

/* Random mutations of the samples (bytes flipped, lines duplicated or cut,
 * boundary-like lines inserted): the parser never fails, a tree parse
 * gives offsets inside the input, and a split feed gives the same events. */
START_TEST(mutations_split_invariant)
{
  static const char *const INSERTS[] = {"\r\n--b1\r\n", "\n--b2--\n", "\r\n\r\n", "=?utf-8?b?",
                                        "Content-Type: multipart/mixed; boundary=b1\r\n",
                                        "Content-Type: message/rfc822\n\n", "--", "=\r\n", "\0"};
  srand(7);
  char buf[4096];
  for (int iter = 0; iter < 3000; iter++) {
    const char *src = SAMPLES[iter % 4];
    size_t n = strlen(src);
    memcpy(buf, src, n);
    int edits = 1 + rand() % 6;
    for (int e = 0; e < edits && n > 2; e++) {
      size_t at = (size_t)rand() % n;
      switch (rand() % 3) {
      case 0:
        buf[at] = (char)(rand() % 256);
        break;
      case 1: {
        const char *ins = INSERTS[rand() % (sizeof INSERTS / sizeof INSERTS[0])];
        size_t il = strlen(ins) ? strlen(ins) : 1;
        if (n + il < sizeof buf) {
          memmove(buf + at + il, buf + at, n - at);
          memcpy(buf + at, ins, il);
          n += il;
        }
        break;
      }
      default: {
        size_t len = (size_t)rand() % 20;
        if (at + len > n)
          len = n - at;
        memmove(buf + at, buf + at + len, n - at - len);
        n -= len;
      }
      }
    }
    char *whole = parse_log(buf, n, NULL, 0, iter & 1 ? MAIL_MIME_TO_UTF8 : 0);
    size_t cuts[3] = {(size_t)rand() % (n + 1), 0, 0};
    cuts[1] = cuts[0] + (size_t)rand() % (n - cuts[0] + 1);
    cuts[2] = cuts[1] + (size_t)rand() % (n - cuts[1] + 1);
    char *got = parse_log(buf, n, cuts, 3, iter & 1 ? MAIL_MIME_TO_UTF8 : 0);
    if (strcmp(got, whole))
      ck_abort_msg("iteration %d differs at cuts %zu %zu %zu", iter, cuts[0], cuts[1], cuts[2]);
    mail_dealloc(&A, got);
    mail_dealloc(&A, whole);
    mail_mime_message *msg;
    ck_assert_int_eq(mail_mime_message_parse(&msg, buf, n, MAIL_MIME_CHECK_HEADERS, NULL, &A), MAIL_OK);
    mail_mime_part *root = mail_mime_message_root(msg);
    uint64_t hs, bs, be;
    mail_mime_part_offsets(root, &hs, &bs, &be);
    ck_assert(hs <= bs && bs <= be && be <= n);
    for (size_t i = 0; i < mail_mime_part_child_count(root); i++) {
      mail_mime_part *c = mail_mime_part_child(root, i);
      mail_mime_part_offsets(c, &hs, &bs, &be);
      ck_assert(hs <= bs && bs <= be && be <= n);
      unsigned char *out;
      size_t len;
      if (mail_mime_part_decode(c, MAIL_MIME_TO_UTF8, &out, &len) == MAIL_OK)
        mail_free(out);
    }
    mail_mime_message_free(msg);
  }
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("mime_parse");
  TCase *t = tcase_create("parse");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_set_timeout(t, 120);
  tcase_add_test(t, every_split_same_events);
  tcase_add_test(t, every_two_splits_small);
  tcase_add_test(t, events_of_nested_sample);
  tcase_add_test(t, random_splits_large);
  tcase_add_test(t, tree_structure_and_decode);
  tcase_add_test(t, tree_to_utf8_and_unknown_charset);
  tcase_add_test(t, limit_depth);
  tcase_add_test(t, limit_parts_and_many_parts);
  tcase_add_test(t, limit_headers_and_long_header);
  tcase_add_test(t, limit_decoded);
  tcase_add_test(t, limit_decoded_offset_any_split);
  tcase_add_test(t, callback_stops);
  tcase_add_test(t, streams_large_body);
  tcase_add_test(t, streaming_to_utf8_every_split);
  tcase_add_test(t, allocation_failures);
  tcase_add_test(t, mutations_split_invariant);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *r = srunner_create(suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

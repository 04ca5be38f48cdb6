/* Unit tests for the MIME builder's boundaries: a body sent as it is never
 * holds a line that a reader takes for a boundary around it, even when the
 * caller's random source is predictable (the fuzzer's is constant, which
 * is how it put the builder's own closing delimiter into a 7-bit text). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

#include "../support/alloc.h"
#include "each_alloc.h"
#include "build_fixed.h"

static int zero_random(void *user, unsigned char *buf, size_t len)
{
  (void)user;
  memset(buf, 0, len);
  return 0;
}

static mail_mime_builder *new_msg(const mail_allocator *alloc, mail_random_fn rnd, unsigned *seed)
{
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, alloc), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_random(m, rnd, seed), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_clock(m, fixed_clock, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, NULL, "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "bob@libmail.test"), MAIL_OK);
  return m;
}

/* The built bytes, checked against the size the builder predicted. */
static unsigned char *build(mail_mime_builder *m, size_t *len)
{
  uint64_t want;
  ck_assert_int_eq(mail_mime_builder_size(m, &want), MAIL_OK);
  unsigned char *out;
  ck_assert_int_eq(mail_mime_builder_to_buffer(m, &out, len), MAIL_OK);
  ck_assert_uint_eq(*len, want);
  return out;
}

/* The value of the first boundary="..." in a built message. */
static void first_boundary(const unsigned char *out, size_t len, char *b, size_t cap)
{
  char *copy = malloc(len + 1);
  memcpy(copy, out, len);
  copy[len] = 0;
  const char *at = strstr(copy, "boundary=\"");
  ck_assert_ptr_nonnull(at);
  at += strlen("boundary=\"");
  size_t n = strcspn(at, "\"");
  ck_assert_uint_lt(n, cap);
  memcpy(b, at, n);
  b[n] = 0;
  free(copy);
}

/* A message with a text and one attachment, to learn its boundary. */
static void boundary_of(mail_random_fn rnd, unsigned seed, char *b, size_t cap)
{
  mail_mime_builder *m = new_msg(NULL, rnd, &seed);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "a.bin", "\x01", 1, NULL), MAIL_OK);
  size_t len;
  unsigned char *out = build(m, &len);
  first_boundary(out, len, b, cap);
  mail_free(out);
  mail_mime_builder_free(m);
}

/* Every boundary="..." in the output differs from the others and starts
 * none of them, so that no reader can take one for another. */
static void boundaries_distinct(const unsigned char *out, size_t len)
{
  char *copy = malloc(len + 1);
  memcpy(copy, out, len);
  copy[len] = 0;
  const char *v[16];
  size_t l[16], n = 0;
  for (const char *at = copy; (at = strstr(at, "boundary=\"")) != NULL;) {
    at += strlen("boundary=\"");
    ck_assert_uint_lt(n, 16);
    v[n] = at;
    l[n] = strcspn(at, "\"");
    at += l[n++];
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      if (i != j)
        ck_assert_msg(l[i] > l[j] || memcmp(v[i], v[j], l[i]) != 0, "boundary %.*s starts %.*s", (int)l[i], v[i],
                      (int)l[j], v[j]);
  free(copy);
}

static size_t count_named(mail_mime_part *p, const char *filename)
{
  const char *f = mail_mime_part_filename(p);
  size_t n = f && strcmp(f, filename) == 0;
  for (size_t i = 0; i < mail_mime_part_child_count(p); i++)
    n += count_named(mail_mime_part_child(p, i), filename);
  return n;
}

static char *decoded(mail_mime_part *p)
{
  unsigned char *d;
  size_t n;
  ck_assert_int_eq(mail_mime_part_decode(p, 0, &d, &n), MAIL_OK);
  char *s = malloc(n + 1);
  memcpy(s, d, n);
  s[n] = 0;
  mail_free(d);
  return s;
}

/* The output's tree: parsed without a defect, its boundaries apart, root
 * with kids children. */
static mail_mime_part *parsed(const unsigned char *out, size_t len, size_t kids, mail_mime_message **msg)
{
  boundaries_distinct(out, len);
  ck_assert_int_eq(mail_mime_message_parse(msg, out, len, 0, NULL, NULL), MAIL_OK);
  ck_assert_uint_eq(mail_mime_message_defect_count(*msg), 0);
  mail_mime_part *root = mail_mime_message_root(*msg);
  ck_assert_uint_eq(mail_mime_part_child_count(root), kids);
  return root;
}

/* Child i of root holds want, sent as 7bit. */
static void check_7bit_child(mail_mime_part *root, size_t i, const char *want)
{
  mail_mime_part *t = mail_mime_part_child(root, i);
  ck_assert_int_eq(mail_mime_part_encoding(t), MAIL_MIME_ENC_7BIT);
  char *got = decoded(t);
  ck_assert_str_eq(got, want);
  free(got);
}

/* A 7-bit text holding the very delimiter lines the builder would draw:
 * the output still parses to the text and the attachment after it. */
START_TEST(text_holding_the_delimiter)
{
  char b[64], text[256];
  boundary_of(fixed_random, 7, b, sizeof b);
  snprintf(text, sizeof text, "before\r\n--%s\r\nmiddle\r\n--%s--\r\nafter\r\n", b, b);
  unsigned seed = 7;
  mail_mime_builder *m = new_msg(NULL, fixed_random, &seed);
  ck_assert_int_eq(mail_mime_builder_set_text(m, text, strlen(text)), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "a.bin", "\x01", 1, NULL), MAIL_OK);
  size_t len;
  unsigned char *out = build(m, &len);
  char nb[64];
  first_boundary(out, len, nb, sizeof nb);
  ck_assert_str_ne(nb, b);

  mail_mime_message *msg;
  mail_mime_part *root = parsed(out, len, 2, &msg);
  check_7bit_child(root, 0, text);
  ck_assert_uint_eq(count_named(root, "a.bin"), 1);
  mail_mime_message_free(msg);
  mail_free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* The same with the encoding forced to 7bit, and for a raw attached
 * message, which is never re-encoded: new boundaries, not a new encoding. */
START_TEST(forced_and_message_bodies_keep_their_encoding)
{
  char b[64], body[256], raw[512];
  boundary_of(fixed_random, 11, b, sizeof b);
  snprintf(body, sizeof body, "x\r\n--%s\r\ny\r\n", b);
  snprintf(raw, sizeof raw, "Subject: fwd\r\nContent-Type: text/plain\r\n\r\n--%s--\r\nend\r\n", b);
  unsigned seed = 11;
  mail_mime_builder *m = new_msg(NULL, fixed_random, &seed);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  mail_mime_builder_part *part;
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, "text/plain", "t.txt", body, strlen(body), &part), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(part, MAIL_MIME_ENC_7BIT), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_attach_message_data(m, raw, strlen(raw), "fwd.eml", NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "last.bin", "\x02", 1, NULL), MAIL_OK);
  size_t len;
  unsigned char *out = build(m, &len);

  mail_mime_message *msg;
  mail_mime_part *root = parsed(out, len, 4, &msg);
  check_7bit_child(root, 1, body);
  mail_mime_part *fwd = mail_mime_part_child(root, 2);
  ck_assert(mail_mime_part_is_message(fwd));
  ck_assert_int_eq(mail_mime_part_encoding(fwd), MAIL_MIME_ENC_7BIT);
  uint64_t hs, bs, be;
  mail_mime_part_offsets(fwd, &hs, &bs, &be);
  ck_assert_uint_eq(be - bs, strlen(raw));
  ck_assert_int_eq(memcmp(out + bs, raw, strlen(raw)), 0);
  ck_assert_uint_eq(count_named(root, "last.bin"), 1);
  mail_mime_message_free(msg);
  mail_free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* A message attached to one with the same random source draws the same
 * random characters: its boundaries are numbered on from the outer ones,
 * so the outer multipart still closes where it should. */
START_TEST(nested_message_with_the_same_random)
{
  unsigned so = 5, si = 5;
  mail_mime_builder *m = new_msg(NULL, fixed_random, &so);
  mail_mime_builder *in = new_msg(NULL, fixed_random, &si);
  ck_assert_int_eq(mail_mime_builder_set_text(in, "inner\n", 6), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(in, NULL, "inner.bin", "\x03", 1, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "outer\n", 6), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_attach_message(m, in, "in.eml", NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "outer.bin", "\x04", 1, NULL), MAIL_OK);
  size_t len;
  unsigned char *out = build(m, &len);

  mail_mime_message *msg;
  mail_mime_part *root = parsed(out, len, 3, &msg);
  ck_assert_uint_eq(count_named(root, "inner.bin"), 1);
  ck_assert_str_eq(mail_mime_part_filename(mail_mime_part_child(root, 2)), "outer.bin");
  mail_mime_message_free(msg);
  mail_free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* The text holding every delimiter a constant random source can draw in
 * the tries the builder makes: refused, not sent broken. */
static char *all_delimiters(size_t *len)
{
  char zeros[25];
  memset(zeros, '0', 24);
  zeros[24] = 0;
  size_t cap = 64 * 64, n = 0;
  char *t = malloc(cap);
  for (unsigned k = 1; k <= 64; k++)
    n += (size_t)snprintf(t + n, cap - n, "--=_%s_%u_\r\n", zeros, k);
  *len = n;
  return t;
}

START_TEST(clash_on_every_try_is_refused)
{
  size_t tl;
  char *text = all_delimiters(&tl);
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mail_mime_builder *m = new_msg(mail_test_alloc_hooks(&ta), zero_random, NULL);
  ck_assert_int_eq(mail_mime_builder_set_text(m, text, tl), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "a.bin", "\x01", 1, NULL), MAIL_OK);
  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_ERR_UNSUPPORTED);
  unsigned char *out;
  size_t len;
  ck_assert_int_eq(mail_mime_builder_to_buffer(m, &out, &len), MAIL_ERR_UNSUPPORTED);
  mail_mime_builder_free(m);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);

  /* As quoted-printable the same text cannot clash ("=" is "=3D"). */
  m = new_msg(NULL, zero_random, NULL);
  mail_mime_builder_part *part;
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, "text/plain", "t.txt", text, tl, &part), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(part, MAIL_MIME_ENC_QUOTED_PRINTABLE), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  out = build(m, &len);
  mail_free(out);
  mail_mime_builder_free(m);
  free(text);
}
END_TEST

/* A callback source of NUL bytes that counts what it gives. */
typedef struct nul_src {
  uint64_t len, pos, given;
} nul_src;

static int nul_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  nul_src *n = user;
  size_t k = n->len - n->pos < cap ? (size_t)(n->len - n->pos) : cap;
  memset(buf, 0, k);
  n->pos += k;
  n->given += k;
  *got = k;
  return 0;
}

static int nul_rewind(void *user)
{
  ((nul_src *)user)->pos = 0;
  return 0;
}

/* Bytes read to size a 1 MiB binary attachment under BINARYMIME. */
static uint64_t sizing_reads(int forced)
{
  nul_src src = {1u << 20, 0, 0};
  unsigned seed = 1;
  mail_mime_builder *m = new_msg(NULL, fixed_random, &seed);
  ck_assert_int_eq(mail_mime_builder_set_options(m, MAIL_MIME_OPT_BINARYMIME), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  mail_mime_builder_part *part;
  ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, NULL, "z.bin", nul_read, nul_rewind, &src,
                                                             src.len, &part),
                   MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(part, forced), MAIL_OK);
  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  mail_mime_builder_free(m);
  return src.given;
}

/* A body that may go out as binary is read to its end to be checked; one
 * forced to base64 stops at the first byte that rules out 7bit. */
START_TEST(binary_body_read_through_only_when_sent_binary)
{
  ck_assert_uint_eq(sizing_reads(MAIL_MIME_BUILD_ENC_AUTO), 1u << 20);
  ck_assert_uint_eq(sizing_reads(MAIL_MIME_ENC_BINARY), 1u << 20);
  ck_assert_uint_lt(sizing_reads(MAIL_MIME_ENC_BASE64), 1u << 20);
}
END_TEST

/* Laying the output out again after a clash fails cleanly at every
 * allocation, nested message included. */
static int clash_run(void *user, mail_test_alloc *t)
{
  const char *text = user;
  const mail_allocator *a = mail_test_alloc_hooks(t);
  mail_mime_builder *m = NULL, *in = NULL;
  unsigned so = 3, si = 3;
  int rc;
  if ((rc = mail_mime_builder_new(&m, a)) || (rc = mail_mime_builder_set_random(m, fixed_random, &so)) ||
      (rc = mail_mime_builder_set_clock(m, fixed_clock, NULL)) ||
      (rc = mail_mime_builder_set_text(m, text, strlen(text))) ||
      (rc = mail_mime_builder_add_attachment(m, NULL, "a.bin", "\x01", 1, NULL)))
    goto out;
  if ((rc = mail_mime_builder_new(&in, a)) || (rc = mail_mime_builder_set_random(in, fixed_random, &si)) ||
      (rc = mail_mime_builder_set_clock(in, fixed_clock, NULL)) ||
      (rc = mail_mime_builder_set_text(in, text, strlen(text))) ||
      (rc = mail_mime_builder_add_attachment(in, NULL, "b.bin", "\x02", 1, NULL)))
    goto out;
  if ((rc = mail_mime_builder_attach_message(m, in, NULL, NULL)))
    goto out;
  in = NULL;
  unsigned char *buf;
  size_t len;
  if ((rc = mail_mime_builder_to_buffer(m, &buf, &len)) == MAIL_OK)
    mail_free(buf);
out:
  mail_mime_builder_free(in);
  mail_mime_builder_free(m);
  return rc;
}

START_TEST(clash_allocation_failures)
{
  char b[64], text[256];
  /* new_msg() sets From and To, clash_run() does not: learn the boundary
   * the way clash_run() draws it. */
  unsigned seed = 3;
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_random(m, fixed_random, &seed), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_clock(m, fixed_clock, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "a.bin", "\x01", 1, NULL), MAIL_OK);
  size_t len;
  unsigned char *out = build(m, &len);
  first_boundary(out, len, b, sizeof b);
  mail_free(out);
  mail_mime_builder_free(m);
  snprintf(text, sizeof text, "a\r\n--%s--\r\n", b);
  MAIL_TEST_ASSERT_EACH_ALLOCATION("mime build clash", clash_run, text, MAIL_OK, MAIL_TEST_NOMEM_OR_EXPECT);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mime_build_boundary");
  TCase *t = tcase_create("boundary");
  tcase_add_test(t, text_holding_the_delimiter);
  tcase_add_test(t, forced_and_message_bodies_keep_their_encoding);
  tcase_add_test(t, nested_message_with_the_same_random);
  tcase_add_test(t, clash_on_every_try_is_refused);
  tcase_add_test(t, clash_allocation_failures);
  tcase_add_test(t, binary_body_read_through_only_when_sent_binary);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* core/dot.c: stuffing and unstuffing give the same bytes at every split
 * of their input, and unstuffing undoes stuffing. */
#include <check.h>
#include <string.h>

#include <mail/common.h>

#include "core/dot.h"

/* Stuff in, cut at one point, then end it. */
static size_t stuff_split(const char *in, size_t n, size_t cut, int strict, unsigned char *out,
                          int *rc)
{
  mail_dot_stuffer s;
  mail_dot_stuff_init(&s);
  size_t o = 0, olen;
  *rc = mail_dot_stuff(&s, strict, (const unsigned char *)in, cut, out, &olen);
  if (*rc)
    return 0;
  o += olen;
  *rc = mail_dot_stuff(&s, strict, (const unsigned char *)in + cut, n - cut, out + o, &olen);
  if (*rc)
    return 0;
  o += olen;
  *rc = mail_dot_stuff_end(&s, strict, out + o, &olen);
  return o + olen;
}

/* Unstuff in, offered in pieces of at most step bytes; returns the body
 * length, *end the offset just after the terminator (or n). */
static size_t unstuff_steps(const unsigned char *in, size_t n, size_t step, char *out, size_t *end)
{
  mail_dot_unstuffer u;
  mail_dot_unstuff_init(&u);
  size_t pos = 0, o = 0;
  *end = n;
  while (pos < n) {
    size_t avail = n - pos < step ? n - pos : step, used;
    const unsigned char *chunk;
    size_t cl;
    int done = mail_dot_unstuff(&u, in + pos, avail, &used, &chunk, &cl);
    ck_assert(used > 0 || cl > 0);
    if (cl)
      memcpy(out + o, chunk, cl);
    o += cl;
    pos += used;
    if (done) {
      *end = pos;
      break;
    }
  }
  return o;
}

/* The byte-at-a-time rule mail_dot_stuff() must match: every line ending
 * becomes CRLF (strict: a bare CR or LF is refused), a dot that starts a
 * line gets another. Returns the output length, or (size_t)-1 when strict
 * refuses. */
static size_t ref_stuff(const unsigned char *in, size_t n, int strict, unsigned char *out)
{
  size_t o = 0;
  int bol = 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = in[i];
    if (c == '\r' || c == '\n') {
      int crlf = c == '\r' && i + 1 < n && in[i + 1] == '\n';
      if (strict && !crlf)
        return (size_t)-1;
      if (crlf)
        i++;
      out[o++] = '\r';
      out[o++] = '\n';
      bol = 1;
      continue;
    }
    if (bol && c == '.')
      out[o++] = '.';
    out[o++] = c;
    bol = 0;
  }
  if (!bol) {
    out[o++] = '\r';
    out[o++] = '\n';
  }
  memcpy(out + o, ".\r\n", 3);
  return o + 3;
}

/* Random texts of CR, LF, dots and letters, fed in random pieces, against
 * the reference (the same seed every run). */
START_TEST(stuff_matches_reference)
{
  static const unsigned char alphabet[] = "\r\n.ab\r\n.";
  unsigned int seed = 12345;
  for (int round = 0; round < 20000; round++) {
    unsigned char in[200], got[700], want[700];
    seed = seed * 1103515245u + 12345u;
    size_t n = (seed >> 16) % sizeof in;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      /* mostly well-formed lines, so the fast path runs as well */
      unsigned r = (seed >> 16) % 64;
      in[i] = r < 8 ? alphabet[r] : (unsigned char)('c' + r % 20);
      if (r == 63 && i + 1 < n) {
        in[i] = '\r';
        in[++i] = '\n';
      }
    }
    for (int strict = 0; strict < 2; strict++) {
      size_t w = ref_stuff(in, n, strict, want);
      mail_dot_stuffer s;
      mail_dot_stuff_init(&s);
      size_t o = 0, pos = 0, olen;
      int rc = MAIL_OK;
      while (rc == MAIL_OK && pos < n) {
        seed = seed * 1103515245u + 12345u;
        size_t step = 1 + (seed >> 16) % 40;
        if (step > n - pos)
          step = n - pos;
        rc = mail_dot_stuff(&s, strict, in + pos, step, got + o, &olen);
        o += rc == MAIL_OK ? olen : 0;
        pos += step;
      }
      if (rc == MAIL_OK) {
        rc = mail_dot_stuff_end(&s, strict, got + o, &olen);
        o += olen;
      }
      if (w == (size_t)-1) {
        ck_assert_msg(rc == MAIL_ERR_INVALID, "round %d: strict accepted a bare CR or LF", round);
        continue;
      }
      ck_assert_msg(rc == MAIL_OK, "round %d strict %d: %d", round, strict, rc);
      ck_assert_msg(o == w && memcmp(got, want, o) == 0, "round %d strict %d: output differs", round,
                    strict);
    }
  }
}
END_TEST

START_TEST(stuff_every_split)
{
  static const char in[] = ".a\r\nb\n.\n\r.\r\n.\rc\r\n\r\n..d\rlast.";
  static const char want[] = "..a\r\nb\r\n..\r\n\r\n..\r\n..\r\nc\r\n\r\n...d\r\nlast.\r\n.\r\n";
  size_t n = sizeof in - 1;
  for (size_t cut = 0; cut <= n; cut++) {
    unsigned char out[256];
    int rc;
    size_t o = stuff_split(in, n, cut, 0, out, &rc);
    ck_assert_int_eq(rc, MAIL_OK);
    ck_assert_uint_eq(o, sizeof want - 1);
    ck_assert_int_eq(memcmp(out, want, o), 0);
    /* strict: the bare LF is refused wherever the cut falls */
    stuff_split(in, n, cut, 1, out, &rc);
    ck_assert_int_eq(rc, MAIL_ERR_INVALID);
  }
}
END_TEST

START_TEST(unstuff_every_step)
{
  static const unsigned char in[] = "ab\r\n..c\r\n.\rd\r\n.x\n\r\n.\r\nNEXT";
  static const char want[] = "ab\r\n.c\r\n\rd\r\nx\n\r\n";
  size_t n = sizeof in - 1;
  for (size_t step = 1; step <= n; step++) {
    char out[128];
    size_t end;
    size_t o = unstuff_steps(in, n, step, out, &end);
    ck_assert_uint_eq(o, sizeof want - 1);
    ck_assert_int_eq(memcmp(out, want, o), 0);
    ck_assert_uint_eq(end, n - 4); /* "NEXT" belongs to the next response */
  }
}
END_TEST

START_TEST(round_trip)
{
  static const char body[] = ".\r\n..\r\n.x\r\nplain\r\n\r\n. \r\nend\r\n";
  unsigned char wire[256];
  int rc;
  size_t n = stuff_split(body, sizeof body - 1, 7, 1, wire, &rc);
  ck_assert_int_eq(rc, MAIL_OK);
  char back[256];
  size_t end;
  size_t o = unstuff_steps(wire, n, 3, back, &end);
  ck_assert_uint_eq(end, n);
  ck_assert_uint_eq(o, sizeof body - 1);
  ck_assert_int_eq(memcmp(back, body, o), 0);
}
END_TEST

START_TEST(lines)
{
  const char *out;
  size_t n;
  ck_assert_int_eq(mail_dot_line(".", 1, &out, &n), 1);
  ck_assert_int_eq(mail_dot_line("..", 2, &out, &n), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(mail_dot_line("", 0, &out, &n), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(mail_dot_line("a.", 2, &out, &n), 0);
  ck_assert_uint_eq(n, 2);
}
END_TEST

/* Where each step stops: at a line that starts with a dot, and just
 * after the terminator. */
START_TEST(step_boundaries)
{
  mail_dot_unstuffer b;
  mail_dot_unstuff_init(&b);
  const unsigned char *chunk;
  size_t used, cl;
  const unsigned char in[] = "ab\r\n..c\r\n.\r\nNEXT";
  ck_assert_int_eq(mail_dot_unstuff(&b, in, sizeof in - 1, &used, &chunk, &cl), 0);
  ck_assert_uint_eq(cl, 4);
  ck_assert_uint_eq(used, 4);
  ck_assert_int_eq(mail_dot_unstuff(&b, in + 4, sizeof in - 5, &used, &chunk, &cl), 0);
  ck_assert_uint_eq(used, 5);
  ck_assert_int_eq(memcmp(chunk, ".c\r\n", 4), 0);
  ck_assert_int_eq(mail_dot_unstuff(&b, in + 9, sizeof in - 10, &used, &chunk, &cl), 1);
  ck_assert_uint_eq(used, 3);
  ck_assert_uint_eq(cl, 0);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("dot");
  TCase *tc = tcase_create("dot");
  tcase_add_test(tc, stuff_every_split);
  tcase_add_test(tc, stuff_matches_reference);
  tcase_add_test(tc, unstuff_every_step);
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, lines);
  tcase_add_test(tc, step_boundaries);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

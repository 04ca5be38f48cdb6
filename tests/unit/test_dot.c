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

/* Stuff in as pieces of the given lengths (the last runs to the end),
 * each into room of exactly 2 * piece + 2 bytes followed by a guard that
 * must stay intact (the scan stores whole blocks ahead of what it keeps),
 * then end it. Returns the length, or (size_t)-1 when refused. */
static size_t stuff_pieces(const unsigned char *in, size_t n, const size_t *cuts, size_t ncuts,
                           int strict, unsigned char *got)
{
  mail_dot_stuffer s;
  mail_dot_stuff_init(&s);
  size_t o = 0, pos = 0, olen;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t step = k < ncuts ? cuts[k] : n - pos;
    if (step > n - pos)
      step = n - pos;
    unsigned char room[2 * 700 + 2 + 16];
    memset(room, 0xA5, sizeof room);
    int rc = mail_dot_stuff(&s, strict, in + pos, step, room, &olen);
    size_t g = 2 * step + 2;
    while (g < sizeof room && room[g] == 0xA5)
      g++;
    if (g != sizeof room || (!rc && olen > 2 * step + 2))
      ck_abort_msg("wrote past 2n + 2 (piece of %zu bytes)", step);
    if (rc)
      return (size_t)-1;
    memcpy(got + o, room, olen);
    o += olen;
    pos += step;
  }
  if (mail_dot_stuff_end(&s, strict, got + o, &olen))
    return (size_t)-1;
  return o + olen;
}

/* Long lines (so the block scan runs, not only its byte-at-a-time tail)
 * with CR, LF, dots and NULs anywhere in a block, in random pieces,
 * against the reference. */
START_TEST(stuff_long_lines_match_reference)
{
  unsigned int seed = 777;
  for (int round = 0; round < 5000; round++) {
    unsigned char in[600], got[1300], want[1300];
    seed = seed * 1103515245u + 12345u;
    size_t n = (seed >> 16) % sizeof in;
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      unsigned r = (seed >> 16) % 512;
      in[i] = r == 0 ? '\r' : r == 1 ? '\n' : r == 2 ? '.' : r == 3 ? 0 : r == 4 ? 0x8d : r == 5 ? 0x8a
              : (unsigned char)('a' + r % 26);
      if (r >= 6 && r < 14 && i + 1 < n) { /* mostly CRLF line ends, some followed by a dot */
        in[i] = '\r';
        in[++i] = '\n';
        if (r < 8 && i + 1 < n)
          in[++i] = '.';
      }
    }
    size_t cuts[8];
    for (size_t k = 0; k < 8; k++) {
      seed = seed * 1103515245u + 12345u;
      cuts[k] = (seed >> 16) % 120;
    }
    for (int strict = 0; strict < 2; strict++) {
      size_t w = ref_stuff(in, n, strict, want);
      size_t o = stuff_pieces(in, n, cuts, 8, strict, got);
      if (w == (size_t)-1) {
        ck_assert_msg(o == (size_t)-1, "round %d: strict accepted a bare CR or LF", round);
        continue;
      }
      ck_assert_msg(o == w && memcmp(got, want, o) == 0, "round %d strict %d: output differs", round,
                    strict);
    }
  }
}
END_TEST

/* A line ending (CRLF, bare CR, bare LF) at every offset of the 16- and
 * 8-byte blocks, the line before it of every length up to 40, then a
 * dotted line; cut at every point. */
START_TEST(stuff_line_end_at_every_offset)
{
  static const char *const ends[] = {"\r\n", "\r", "\n"};
  for (size_t e = 0; e < 3; e++)
    for (size_t len = 0; len <= 40; len++) {
      unsigned char in[64], got[160], want[160];
      size_t n = 0;
      for (size_t i = 0; i < len; i++)
        in[n++] = (unsigned char)('a' + i % 26);
      for (const char *p = ends[e]; *p; p++)
        in[n++] = (unsigned char)*p;
      memcpy(in + n, ".x\r\n", 4);
      n += 4;
      for (int strict = 0; strict < 2; strict++) {
        size_t w = ref_stuff(in, n, strict, want);
        for (size_t cut = 0; cut <= n; cut++) {
          size_t o = stuff_pieces(in, n, &cut, 1, strict, got);
          if (o != w || (w != (size_t)-1 && memcmp(got, want, o) != 0))
            ck_abort_msg("end %zu, line of %zu, cut at %zu, strict %d: output differs", e, len, cut,
                         strict);
        }
      }
    }
}
END_TEST

/* The cases a chunk boundary makes, one by one. */
START_TEST(stuff_chunk_boundaries)
{
  static const struct {
    const char *a, *b, *want;
    int strict_ok;
  } t[] = {
    {"abc\r", "def", "abc\r\ndef\r\n.\r\n", 0},         /* a bare CR at the end of a chunk */
    {"abc\r", "\ndef\r\n", "abc\r\ndef\r\n.\r\n", 1},   /* CRLF split across chunks */
    {"abc\r", "\r\n", "abc\r\n\r\n.\r\n", 0},           /* a bare CR, then CRLF */
    {"abc\r\n", ".x\r\n", "abc\r\n..x\r\n.\r\n", 1},    /* a dot starting the next chunk's line */
    {"abc\r", "\n.\r\n", "abc\r\n..\r\n.\r\n", 1},      /* ... after a split CRLF */
    {"abc\r", ".x", "abc\r\n..x\r\n.\r\n", 0},          /* ... after a bare CR */
    {"abc.", "\r\n", "abc.\r\n.\r\n", 1},               /* a dot inside the line is left */
    {"", ".", "..\r\n.\r\n", 1},                        /* the data is one dot */
    {"ab\r", "", "ab\r\n.\r\n", 0},                     /* the data ends with a bare CR */
  };
  for (size_t k = 0; k < sizeof t / sizeof t[0]; k++) {
    unsigned char in[32], got[96];
    size_t na = strlen(t[k].a), n = na + strlen(t[k].b);
    memcpy(in, t[k].a, na);
    memcpy(in + na, t[k].b, n - na);
    size_t o = stuff_pieces(in, n, &na, 1, 0, got);
    ck_assert_uint_eq(o, strlen(t[k].want));
    ck_assert_int_eq(memcmp(got, t[k].want, o), 0);
    o = stuff_pieces(in, n, &na, 1, 1, got);
    ck_assert_msg((o != (size_t)-1) == t[k].strict_ok, "case %zu: strict", k);
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
  tcase_add_test(tc, stuff_long_lines_match_reference);
  tcase_add_test(tc, stuff_line_end_at_every_offset);
  tcase_add_test(tc, stuff_chunk_boundaries);
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

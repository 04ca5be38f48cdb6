/* Unit tests for the MIME builder: structure, exact size prediction,
 * transport needs, header injection, reproducible output, streaming with
 * bounded memory, sources that change or fail, allocation failures. */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

#include "../support/alloc.h"
#include "each_alloc.h"
#include "build_fixed.h"

/* ------------------------------------------------------------ helpers */

static unsigned seed_a, seed_b;

static mail_mime_builder *new_msg(const mail_allocator *alloc, unsigned *seed)
{
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, alloc), MAIL_OK);
  *seed = 42;
  ck_assert_int_eq(mail_mime_builder_set_random(m, fixed_random, seed), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_clock(m, fixed_clock, NULL), MAIL_OK);
  return m;
}

/* Read the whole output through reads of at most cap bytes. */
static unsigned char *read_all(mail_mime_builder *m, size_t cap, size_t *len)
{
  size_t n = 0, alloc = 4096;
  unsigned char *out = malloc(alloc);
  unsigned char *chunk = malloc(cap);
  for (;;) {
    size_t got = 12345;
    ck_assert_int_eq(mail_mime_builder_read(m, chunk, cap, &got), MAIL_OK);
    ck_assert_uint_le(got, cap);
    if (got == 0)
      break;
    if (n + got + 1 > alloc) {
      alloc = (n + got + 1) * 2;
      out = realloc(out, alloc);
    }
    memcpy(out + n, chunk, got);
    n += got;
  }
  free(chunk);
  out[n] = 0; /* callers may read it as a string */
  *len = n;
  return out;
}

/* Size announced == bytes produced, for several read sizes, and a rewind
 * reproduces the same bytes. Returns the output (free()). */
static unsigned char *check_exact(mail_mime_builder *m, size_t *len)
{
  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  size_t n1;
  unsigned char *a = read_all(m, 4096, &n1);
  ck_assert_uint_eq(n1, size);
  const size_t caps[] = {1, 7, 76, 65536};
  for (size_t i = 0; i < sizeof caps / sizeof *caps; i++) {
    if (caps[i] == 1 && size > 200000)
      continue;
    ck_assert_int_eq(mail_mime_builder_rewind(m), MAIL_OK);
    size_t n2;
    unsigned char *b = read_all(m, caps[i], &n2);
    ck_assert_uint_eq(n2, n1);
    ck_assert_int_eq(memcmp(a, b, n1), 0);
    free(b);
  }
  *len = n1;
  return a;
}

/* Lines never exceed 998 characters, line breaks are CRLF, and header
 * lines stay within 78 characters unless a single token is longer. */
static void check_lines(const unsigned char *s, size_t n, int strict_headers)
{
  size_t col = 0;
  int in_header = 1;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
      if (col == 0)
        in_header = 0;
      col = 0;
      i++;
      continue;
    }
    ck_assert_msg(s[i] != 0x0a && s[i] != 0x0d, "bare line break at %zu (%.40s)", i, (const char *)s + (i > 20 ? i - 20 : 0));
    col++;
    ck_assert_msg(col <= 998, "line over 998 at %zu", i);
    if (strict_headers && in_header)
      ck_assert_msg(col <= 78, "header line over 78 at %zu", i);
  }
}

static const char *find(const unsigned char *s, size_t n, const char *needle)
{
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(s + i, needle, k) == 0)
      return (const char *)s + i;
  return NULL;
}

/* ------------------------------------------------------------- tests */

static const char GOLDEN[] =
  "Date: Fri, 27 Nov 2026 04:05:54 +0000\r\n"
  "From: Alice <alice@example.org>\r\n"
  "To: bob@example.org\r\n"
  "Subject: Hello\r\n"
  "Message-ID: <ddFTw7L8z5miQqVM7bXFtqiQ@example.org>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "Content-Transfer-Encoding: 7bit\r\n"
  "\r\n"
  "Hi Bob\r\n"
  "bye\r\n";

/* Every buffer libmail hands out goes back to the allocator that made it
 * through mail_free(p) alone, whichever allocator that was. */
START_TEST(mail_free_knows_the_allocator)
{
  mail_test_alloc t1, t2;
  mail_test_alloc_init(&t1);
  mail_test_alloc_init(&t2);
  const mail_allocator *a1 = mail_test_alloc_hooks(&t1), *a2 = mail_test_alloc_hooks(&t2);
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, a1), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, NULL, "a@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, "application/octet-stream", "x.bin", "\x01\x02", 2, NULL),
                   MAIL_OK);
  unsigned char *msg;
  size_t len;
  ck_assert_int_eq(mail_mime_builder_to_buffer(m, &msg, &len), MAIL_OK);
  ck_assert_uint_eq(msg[len], 0);
  mail_mime_message *parsed;
  ck_assert_int_eq(mail_mime_message_parse(&parsed, msg, len, 0, NULL, a2), MAIL_OK);
  unsigned char *body;
  size_t blen;
  ck_assert_int_eq(mail_mime_part_decode(mail_mime_part_child(mail_mime_message_root(parsed), 1), 0,
                                         &body, &blen), MAIL_OK);
  ck_assert_uint_eq(blen, 2);
  ck_assert_int_eq(memcmp(body, "\x01\x02", 2), 0);
  ck_assert_uint_eq((uintptr_t)body % _Alignof(max_align_t), 0);
  char *dec, *conv, *safe = mail_mime_safe_filename("../x", a1);
  size_t dlen, clen;
  ck_assert_int_eq(mail_mime_header_decode(&dec, &dlen, NULL, "=?utf-8?q?h=C3=A9?=", 19, a2), MAIL_OK);
  ck_assert_str_eq(dec, "h\xC3\xA9");
  ck_assert_int_eq(mail_charset_to_utf8(&conv, &clen, "iso-8859-1", "\xE9", 1, a1), MAIL_OK);
  ck_assert_str_eq(conv, "\xC3\xA9");
  ck_assert_ptr_nonnull(safe);
  mail_mime_message_free(parsed);
  mail_mime_builder_free(m);
  ck_assert_uint_gt(t1.live, 0);
  ck_assert_uint_gt(t2.live, 0);
  mail_free(msg);
  mail_free(body);
  mail_free(dec);
  mail_free(conv);
  mail_free(safe);
  mail_free(NULL);
  ck_assert_uint_eq(t1.live, 0);
  ck_assert_uint_eq(t2.live, 0);
  mail_test_alloc_cleanup(&t1);
  mail_test_alloc_cleanup(&t2);
}
END_TEST

/* Sender (RFC 5322 3.6.2) has its setter: written after From, and the
 * envelope sender; add_header still refuses it. */
START_TEST(sender_setter)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Boss", "boss@example.org"), MAIL_OK);
  const char *env = NULL;
  ck_assert_int_eq(mail_mime_builder_envelope_from(m, &env), MAIL_OK);
  ck_assert_str_eq(env, "boss@example.org");
  ck_assert_int_eq(mail_mime_builder_add_header(m, "Sender", "sec@example.org"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_set_sender(m, "Sec\r\nBcc: x@y", "sec@example.org"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_set_sender(m, NULL, "not an address"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_mime_builder_set_sender(NULL, NULL, "sec@example.org"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_set_sender(m, "Old", "old@example.org"), MAIL_OK);
  mail_address a = {0};
  a.name = "Sec";
  a.mailbox = "sec@example.org";
  ck_assert_int_eq(mail_mime_builder_add_address(m, MAIL_MIME_FIELD_SENDER, &a), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_envelope_from(m, &env), MAIL_OK);
  ck_assert_str_eq(env, "sec@example.org");
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "bob@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hi\n", 3), MAIL_OK);
  size_t n;
  unsigned char *out = check_exact(m, &n);
  const char *from = strstr((char *)out, "\r\nFrom: Boss <boss@example.org>\r\n");
  ck_assert_ptr_nonnull(from);
  ck_assert_ptr_eq(strstr((char *)out, "\r\nSender: Sec <sec@example.org>\r\n"),
                   from + strlen("\r\nFrom: Boss <boss@example.org>"));
  ck_assert_ptr_null(strstr((char *)out, "old@example.org"));
  ck_assert_int_eq(mail_mime_builder_set_sender(m, NULL, "x@example.org"), MAIL_ERR_STATE);
  free(out);
  mail_mime_builder_free(m);
}
END_TEST

START_TEST(golden_simple)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Alice", "alice@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "bob@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, "Hello"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "Hi Bob\nbye\n", 11), MAIL_OK);
  size_t n;
  unsigned char *out = check_exact(m, &n);
  ck_assert_msg(n == strlen(GOLDEN) && memcmp(out, GOLDEN, n) == 0, "got:\n%.*s", (int)n, out);
  unsigned needs = 99;
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, 0);
  size_t got;
  unsigned char one;
  ck_assert_int_eq(mail_mime_builder_read(m, &one, 0, &got), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_read(m, NULL, 1, &got), MAIL_ERR_INVALID);
  /* frozen: setters refuse */
  ck_assert_int_eq(mail_mime_builder_set_subject(m, "x"), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "x@y"), MAIL_ERR_STATE);
  free(out);
  mail_mime_builder_free(m);
  mail_mime_builder_free(NULL);
}
END_TEST

static int file_counter;

/* A callback source producing len pseudo-random bytes, rewindable. */
typedef struct gen_src {
  uint64_t len, pos;
  unsigned seed, state;
  int fail_at_pos;     /* return an error once pos reaches this (0 = never) */
  uint64_t extra;      /* deliver this many bytes more than len */
  int text;            /* printable text with LF lines instead of binary */
} gen_src;

static int gen_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  gen_src *g = user;
  uint64_t total = g->len + g->extra;
  if (g->fail_at_pos && g->pos >= (uint64_t)g->fail_at_pos)
    return -1;
  size_t k = total - g->pos < cap ? (size_t)(total - g->pos) : cap;
  for (size_t i = 0; i < k; i++) {
    g->state = g->state * 1664525u + 1013904223u;
    if (g->text)
      buf[i] = (g->pos + i) % 61 == 60 ? '\n' : (unsigned char)('a' + (g->state >> 24) % 26);
    else
      buf[i] = (unsigned char)(g->state >> 24);
  }
  g->pos += k;
  *got = k;
  return 0;
}

static int gen_rewind(void *user)
{
  gen_src *g = user;
  g->pos = 0;
  g->state = g->seed;
  return 0;
}

static void write_file(const char *path, const void *data, size_t n)
{
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, n, f), n);
  fclose(f);
}

/* Every kind of message, under every set of options: the announced size
 * is the produced size, rewinds reproduce it, lines are bounded. */
START_TEST(exact_size_every_kind)
{
  const unsigned opts[] = {0, MAIL_MIME_OPT_8BITMIME, MAIL_MIME_OPT_BINARYMIME, MAIL_MIME_OPT_SMTPUTF8,
                           MAIL_MIME_OPT_COMPAT_FILENAME};
  char path[64];
  snprintf(path, sizeof path, "/tmp/mime-build-test-%d-%d.bin", (int)getpid(), file_counter++);
  unsigned char fdata[5000];
  for (size_t i = 0; i < sizeof fdata; i++)
    fdata[i] = (unsigned char)(i * 131 + 7);
  write_file(path, fdata, sizeof fdata);
  const char *text8 = "Grüße\r\nline two ends with space \nlast line without newline é";
  const char *html = "<html><body><p>Hällo <img src=\"cid:logo@example.org\"></p></body></html>\n";
  unsigned char png[300];
  for (size_t i = 0; i < sizeof png; i++)
    png[i] = (unsigned char)(i ^ 0x5a);

  for (size_t o = 0; o < sizeof opts / sizeof *opts; o++) {
    for (int kind = 0; kind < 10; kind++) {
      mail_mime_builder *m = new_msg(NULL, &seed_a);
      ck_assert_int_eq(mail_mime_builder_set_options(m, opts[o]), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_set_from(m, "Ölaf Sender", "olaf@example.org"), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_add_to(m, "Bob", "bob@example.org"), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_set_subject(m, "Prüfung — kind test"), MAIL_OK);
      gen_src g = {.len = 10000 + (uint64_t)kind, .seed = 7, .state = 7};
      switch (kind) {
      case 0: /* empty message */
        break;
      case 1:
        ck_assert_int_eq(mail_mime_builder_set_text(m, text8, strlen(text8)), MAIL_OK);
        break;
      case 2:
        ck_assert_int_eq(mail_mime_builder_set_html(m, html, strlen(html)), MAIL_OK);
        break;
      case 3:
        ck_assert_int_eq(mail_mime_builder_set_text(m, text8, strlen(text8)), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_set_html(m, html, strlen(html)), MAIL_OK);
        break;
      case 4:
        ck_assert_int_eq(mail_mime_builder_set_text(m, "plain", 5), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_set_html(m, html, strlen(html)), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_add_inline(m, "image/png", "logo.png", png, sizeof png,
                                                      "logo@example.org", NULL), MAIL_OK);
        break;
      case 5:
        ck_assert_int_eq(mail_mime_builder_set_text(m, "see attached", 12), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_add_attachment(m, "application/pdf", "Überblick 2026.pdf", png,
                                                          sizeof png, NULL), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_add_attachment(m, "text/csv", "data.csv", "a,b\n1,2\n", 8, NULL),
                         MAIL_OK);
        break;
      case 6:
        ck_assert_int_eq(mail_mime_builder_add_attachment_file(m, NULL, "file.bin", path, NULL), MAIL_OK);
        break;
      case 7:
        ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, "application/octet-stream", "gen.bin",
                                                                   gen_read, gen_rewind, &g,
                                                                   MAIL_MIME_LENGTH_UNKNOWN, NULL), MAIL_OK);
        g.text = 1;
        break;
      case 8: {
        mail_mime_builder *in = new_msg(NULL, &seed_b);
        ck_assert_int_eq(mail_mime_builder_set_subject(in, "inner ü"), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_set_text(in, text8, strlen(text8)), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_add_attachment(in, NULL, NULL, png, sizeof png, NULL), MAIL_OK);
        ck_assert_int_eq(mail_mime_builder_attach_message(m, in, "fwd.eml", NULL), MAIL_OK);
        break;
      }
      case 9: {
        const char *raw = "From: x@y\nSubject: raw\n\nbody é\n";
        ck_assert_int_eq(mail_mime_builder_attach_message_data(m, raw, strlen(raw), NULL, NULL), MAIL_OK);
        break;
      }
      }
      size_t n;
      unsigned char *out = check_exact(m, &n);
      if (getenv("MIME_DUMP") && atoi(getenv("MIME_DUMP")) == (int)(o * 10 + (size_t)kind))
        fwrite(out, 1, n, stderr);
      if (!(opts[o] & MAIL_MIME_OPT_BINARYMIME)) /* binary parts hold any bytes */
        check_lines(out, n, 0);
      unsigned needs;
      ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
      if (opts[o] == 0 || opts[o] == MAIL_MIME_OPT_COMPAT_FILENAME) {
        /* 7-bit path: every byte ASCII, no NUL */
        for (size_t i = 0; i < n; i++)
          ck_assert_msg(out[i] > 0 && out[i] < 0x80, "kind %d opt %u: byte %zu is 0x%02x", kind, opts[o], i,
                        out[i]);
        ck_assert_uint_eq(needs, 0);
      }
      if (!(opts[o] & MAIL_MIME_OPT_BINARYMIME))
        ck_assert_uint_eq(needs & MAIL_MIME_NEEDS_BINARY, 0);
      if (!(opts[o] & MAIL_MIME_OPT_SMTPUTF8))
        ck_assert_uint_eq(needs & MAIL_MIME_NEEDS_SMTPUTF8, 0);
      /* Bcc never appears; the From is there */
      ck_assert_ptr_nonnull(find(out, n, "olaf@example.org"));
      free(out);
      mail_mime_builder_free(m);
    }
  }
  unlink(path);
}
END_TEST

START_TEST(transport_needs)
{
  const char *t8 = "Grüße aus Köln, a mostly ASCII sentence\n";
  unsigned needs;
  /* 8-bit text: QP without 8BITMIME, 8bit with it */
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_text(m, t8, strlen(t8));
  size_t n;
  unsigned char *out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Content-Transfer-Encoding: quoted-printable"));
  free(out);
  mail_mime_builder_free(m);

  m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_options(m, MAIL_MIME_OPT_8BITMIME);
  mail_mime_builder_set_text(m, t8, strlen(t8));
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, MAIL_MIME_NEEDS_8BIT);
  out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Content-Transfer-Encoding: 8bit"));
  ck_assert_ptr_nonnull(find(out, n, "Grüße aus Köln, a mostly ASCII sentence\r\n"));
  free(out);
  mail_mime_builder_free(m);

  /* binary attachment: base64, or binary with BINARYMIME */
  unsigned char bin[100];
  for (int i = 0; i < 100; i++)
    bin[i] = (unsigned char)(i * 3);
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_options(m, MAIL_MIME_OPT_BINARYMIME);
  mail_mime_builder_add_attachment(m, NULL, "x.bin", bin, sizeof bin, NULL);
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, MAIL_MIME_NEEDS_BINARY);
  out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Content-Transfer-Encoding: binary"));
  free(out);
  mail_mime_builder_free(m);

  /* SMTPUTF8: raw UTF-8 headers with the option, encoded words without */
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_options(m, MAIL_MIME_OPT_SMTPUTF8);
  mail_mime_builder_set_subject(m, "Grüße");
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, MAIL_MIME_NEEDS_SMTPUTF8);
  out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Subject: Grüße\r\n"));
  free(out);
  mail_mime_builder_free(m);

  m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_subject(m, "Grüße");
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, 0);
  mail_mime_builder_free(m);

  /* a non-ASCII address always needs SMTPUTF8 */
  m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_add_bcc(m, NULL, "jürgen@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  ck_assert_uint_eq(needs, MAIL_MIME_NEEDS_SMTPUTF8);
  mail_mime_builder_free(m);

  /* a forced encoding the path cannot carry */
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_part *p;
  mail_mime_builder_add_attachment(m, "text/plain", NULL, "abc", 3, &p);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(p, MAIL_MIME_ENC_8BIT), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_size(m, &(uint64_t){0}), MAIL_ERR_UNSUPPORTED);
  mail_mime_builder_free(m);
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_add_attachment(m, "text/plain", NULL, "abc", 3, &p);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(p, MAIL_MIME_ENC_BASE64), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_set_encoding(p, MAIL_MIME_ENC_UUENCODE), MAIL_ERR_INVALID);
  out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "YWJj"));
  free(out);
  mail_mime_builder_free(m);
}
END_TEST

START_TEST(header_injection_every_setter)
{
  const char *evil[] = {"x\r\nBcc: victim@example.org", "x\nX: y", "x\rY"};
  for (size_t e = 0; e < 3; e++) {
    const char *v = evil[e];
    mail_mime_builder *m = new_msg(NULL, &seed_a);
    mail_mime_builder_part *p;
    ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "ok.txt", "a", 1, &p), MAIL_OK);
    ck_assert_int_eq(mail_mime_builder_set_from(m, v, "a@b"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_set_from(m, NULL, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_to(m, v, "a@b"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_cc(m, v, "a@b"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_cc(m, NULL, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_bcc(m, v, "a@b"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_bcc(m, NULL, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_reply_to(m, v, "a@b"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_reply_to(m, NULL, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_set_subject(m, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_set_message_id(m, v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_header(m, "X-Test", v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_header(m, v, "value"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_inline(m, v, NULL, "a", 1, "id@x", NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_inline(m, "image/png", NULL, "a", 1, v, NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_inline(m, "image/png", v, "a", 1, "id@x", NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_attachment(m, v, NULL, "a", 1, NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, v, "a", 1, NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_attachment_file(m, NULL, v, "/dev/null", NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, NULL, v, gen_read, NULL, NULL, 1, NULL),
                     MAIL_ERR_INVALID);
    mail_mime_builder *in = new_msg(NULL, &seed_b);
    ck_assert_int_eq(mail_mime_builder_attach_message(m, in, v, NULL), MAIL_ERR_INVALID);
    mail_mime_builder_free(in);
    ck_assert_int_eq(mail_mime_builder_attach_message_data(m, "a", 1, v, NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_part_add_header(p, "X-Part", v), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_part_add_header(p, v, "x"), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_mime_builder_part_set_content_id(p, v), MAIL_ERR_INVALID);
    mail_address a = {.name = v, .mailbox = "a@b"};
    ck_assert_int_eq(mail_mime_builder_add_address(m, MAIL_MIME_FIELD_TO, &a), MAIL_ERR_INVALID);
    /* nothing of it reached the message */
    size_t n;
    unsigned char *out = check_exact(m, &n);
    ck_assert_ptr_null(find(out, n, "victim"));
    ck_assert_ptr_null(find(out, n, "X: y"));
    free(out);
    mail_mime_builder_free(m);
  }
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  /* reserved and malformed header names */
  ck_assert_int_eq(mail_mime_builder_add_header(m, "Content-Type", "text/html"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "bcc", "x@y"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "X Y", "v"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "", "v"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "X-Bad-UTF8", "\xc3"), MAIL_ERR_CHARSET);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, "\xff"), MAIL_ERR_CHARSET);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "\xff", 1), MAIL_ERR_CHARSET);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "not an address"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "\"unterminated@x"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_mime_builder_set_message_id(m, "<x@y>"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, "nonsense", NULL, "a", 1, NULL), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_mime_builder_set_date(m, 0, 1440), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_set_options(m, 0x100), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_add_attachment_file(m, NULL, NULL, "/nonexistent/file", NULL), MAIL_ERR_FILE);
  ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, NULL, NULL, gen_read, NULL, NULL,
                                                             MAIL_MIME_LENGTH_UNKNOWN, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_builder_attach_message(m, m, NULL, NULL), MAIL_ERR_INVALID);
  mail_mime_builder_free(m);
}
END_TEST

START_TEST(envelope_and_bcc)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  const char *addr;
  ck_assert_int_eq(mail_mime_builder_envelope_from(m, &addr), MAIL_ERR_NOT_FOUND);
  mail_mime_builder_set_from(m, NULL, "me@example.org");
  mail_mime_builder_add_to(m, "A", "a@example.org");
  mail_mime_builder_add_bcc(m, "Hidden Person", "hidden@example.org");
  mail_mime_builder_add_cc(m, NULL, "c@example.org");
  mail_mime_builder_add_cc(m, NULL, "a@example.org");
  mail_address rt = {.name = "Replies", .mailbox = "r@example.org"};
  ck_assert_int_eq(mail_mime_builder_add_address(m, MAIL_MIME_FIELD_REPLY_TO, &rt), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_envelope_from(m, &addr), MAIL_OK);
  ck_assert_str_eq(addr, "me@example.org");
  ck_assert_uint_eq(mail_mime_builder_envelope_count(m), 3);
  const char *want[] = {"a@example.org", "hidden@example.org", "c@example.org"};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_int_eq(mail_mime_builder_envelope_recipient(m, i, &addr), MAIL_OK);
    ck_assert_str_eq(addr, want[i]);
  }
  ck_assert_int_eq(mail_mime_builder_envelope_recipient(m, 3, &addr), MAIL_ERR_NOT_FOUND);
  size_t n;
  unsigned char *out = check_exact(m, &n);
  ck_assert_ptr_null(find(out, n, "hidden"));
  ck_assert_ptr_null(find(out, n, "Hidden"));
  ck_assert_ptr_null(find(out, n, "Bcc"));
  ck_assert_ptr_nonnull(find(out, n, "Reply-To: Replies <r@example.org>\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "Cc: c@example.org, a@example.org\r\n"));
  free(out);
  mail_mime_builder_free(m);
}
END_TEST

static mail_mime_builder *complex_msg(const mail_allocator *alloc, unsigned *seed)
{
  mail_mime_builder *m;
  int rc = mail_mime_builder_new(&m, alloc);
  if (rc)
    return NULL;
  *seed = 9;
  if (mail_mime_builder_set_random(m, fixed_random, seed) || mail_mime_builder_set_clock(m, fixed_clock, NULL) ||
      mail_mime_builder_set_from(m, "Zoë", "zoe@example.org") ||
      mail_mime_builder_add_to(m, "Ünal", "u@example.org") ||
      mail_mime_builder_set_subject(m, "Ünïcödé subject with several words in it to fold, really a lot of them") ||
      mail_mime_builder_add_header(m, "X-Note", "ünïcödé header") ||
      mail_mime_builder_set_text(m, "text ü\n", 8) || mail_mime_builder_set_html(m, "<b>ü</b>", 9) ||
      mail_mime_builder_add_inline(m, "image/gif", NULL, "GIF89a", 6, "i@x", NULL) ||
      mail_mime_builder_add_attachment(m, NULL, "naïve résumé.bin", "\x01\x02\xff", 3, NULL)) {
    mail_mime_builder_free(m);
    return NULL;
  }
  mail_mime_builder *in;
  if (mail_mime_builder_new(&in, alloc)) {
    mail_mime_builder_free(m);
    return NULL;
  }
  /* The inner message has a Date of its own: from the fixed clock too, or
   * two messages built across a second boundary differ (seen under qemu). */
  if (mail_mime_builder_set_random(in, fixed_random, seed) || mail_mime_builder_set_clock(in, fixed_clock, NULL) ||
      mail_mime_builder_set_text(in, "inner", 5) ||
      mail_mime_builder_attach_message(m, in, NULL, NULL)) {
    mail_mime_builder_free(in);
    mail_mime_builder_free(m);
    return NULL;
  }
  return m;
}

START_TEST(reproducible_output)
{
  unsigned s1, s2;
  mail_mime_builder *a = complex_msg(NULL, &s1), *b = complex_msg(NULL, &s2);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  size_t na, nb;
  unsigned char *oa = check_exact(a, &na), *ob = check_exact(b, &nb);
  ck_assert_uint_eq(na, nb);
  ck_assert_int_eq(memcmp(oa, ob, na), 0);
  check_lines(oa, na, 0);
  /* the convenience outputs give the same bytes */
  unsigned char *buf;
  size_t blen;
  ck_assert_int_eq(mail_mime_builder_to_buffer(a, &buf, &blen), MAIL_OK);
  ck_assert_uint_eq(blen, na);
  ck_assert_int_eq(memcmp(buf, oa, na), 0);
  mail_free(buf);
  free(oa);
  free(ob);
  mail_mime_builder_free(a);
  mail_mime_builder_free(b);
}
END_TEST

/* Every allocation failure ends cleanly: an error, no leak, no crash. */
static int build_run(void *user, mail_test_alloc *t)
{
  unsigned seed;
  mail_mime_builder *m = complex_msg(mail_test_alloc_hooks(t), &seed);
  if (!m)
    return MAIL_ERR_NOMEM;
  unsigned char *buf = NULL;
  size_t len;
  int rc = mail_mime_builder_to_buffer(m, &buf, &len);
  if (rc == MAIL_OK)
    mail_free(buf);
  mail_mime_builder_free(m);
  return rc;
}

START_TEST(allocation_failures)
{
  MAIL_TEST_ASSERT_EACH_ALLOCATION("mime build", build_run, NULL, MAIL_OK,
                                   MAIL_TEST_NOMEM_OR_EXPECT);
}
END_TEST

static int collect(void *user, const void *data, size_t len)
{
  size_t *n = user;
  (void)data;
  *n += len;
  return 0;
}

/* A 64 MiB attachment streams through a bounded amount of memory. */
START_TEST(stream_large_callback)
{
  mail_test_alloc t;
  mail_test_alloc_init(&t);
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, mail_test_alloc_hooks(&t)), MAIL_OK);
  const uint64_t big = 64ull << 20;
  gen_src g = {.len = big, .seed = 3, .state = 3};
  ck_assert_int_eq(mail_mime_builder_set_text(m, "big one", 7), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, NULL, "big.bin", gen_read, gen_rewind, &g, big, NULL),
                   MAIL_OK);
  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  ck_assert_uint_gt(size, big / 3 * 4);
  size_t n = 0;
  ck_assert_int_eq(mail_mime_builder_write(m, collect, &n), MAIL_OK);
  ck_assert_uint_eq(n, size);
  ck_assert_msg(t.peak_bytes < 1024 * 1024, "peak %zu bytes", t.peak_bytes);
  mail_mime_builder_free(m);
  ck_assert_uint_eq(t.live, 0);
}
END_TEST

START_TEST(nonrewindable_and_changing_sources)
{
  /* without rewind: base64 from the declared length, produced once */
  gen_src g = {.len = 1000, .seed = 1, .state = 1};
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, NULL, NULL, gen_read, NULL, &g, 1000, NULL), MAIL_OK);
  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  ck_assert_uint_eq(g.pos, 0); /* sizing read nothing */
  ck_assert_int_eq(mail_mime_builder_rewind(m), MAIL_OK); /* nothing produced yet */
  size_t n;
  unsigned char *out = read_all(m, 100, &n);
  ck_assert_uint_eq(n, size);
  free(out);
  ck_assert_int_eq(mail_mime_builder_rewind(m), MAIL_ERR_UNSUPPORTED);
  mail_mime_builder_free(m);

  /* a callback delivering more than declared */
  gen_src g2 = {.len = 1000, .extra = 5, .seed = 1, .state = 1};
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_add_attachment_callback(m, NULL, NULL, gen_read, NULL, &g2, 1000, NULL);
  unsigned char buf[4096];
  size_t got;
  int rc;
  while ((rc = mail_mime_builder_read(m, buf, sizeof buf, &got)) == MAIL_OK && got)
    ;
  ck_assert_int_eq(rc, MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_mime_builder_read(m, buf, sizeof buf, &got), MAIL_ERR_CALLBACK);
  mail_mime_builder_free(m);

  /* a failing callback */
  gen_src g3 = {.len = 100000, .fail_at_pos = 50000, .seed = 1, .state = 1};
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_add_attachment_callback(m, NULL, NULL, gen_read, NULL, &g3, 100000, NULL);
  while ((rc = mail_mime_builder_read(m, buf, sizeof buf, &got)) == MAIL_OK && got)
    ;
  ck_assert_int_eq(rc, MAIL_ERR_CALLBACK);
  mail_mime_builder_free(m);

  /* a file that grows after the size was announced */
  char path[64];
  snprintf(path, sizeof path, "/tmp/mime-build-test-%d-grow.txt", (int)getpid());
  write_file(path, "hello\n", 6);
  m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_add_attachment_file(m, "text/plain", "h.txt", path, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  write_file(path, "hello, world\n", 13);
  while ((rc = mail_mime_builder_read(m, buf, sizeof buf, &got)) == MAIL_OK && got)
    ;
  ck_assert_int_eq(rc, MAIL_ERR_FILE);
  /* restored to what was measured, a rewind makes it good again */
  write_file(path, "hello\n", 6);
  ck_assert_int_eq(mail_mime_builder_rewind(m), MAIL_OK);
  out = read_all(m, 1000, &n);
  ck_assert_uint_eq(n, size);
  free(out);
  mail_mime_builder_free(m);
  unlink(path);
}
END_TEST

START_TEST(long_lines_and_folding)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  char *longline = malloc(5001);
  memset(longline, 'x', 5000);
  longline[5000] = 0;
  ck_assert_int_eq(mail_mime_builder_set_subject(m, longline), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "X-Long", longline), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, longline, 5000), MAIL_OK);
  char name[600];
  memset(name, 'n', 599);
  name[599] = 0;
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, name, "x", 1, NULL), MAIL_OK);
  for (int i = 0; i < 50; i++) {
    char addr[64];
    snprintf(addr, sizeof addr, "recipient%d@example.org", i);
    ck_assert_int_eq(mail_mime_builder_add_to(m, "Some Body", addr), MAIL_OK);
  }
  size_t n;
  unsigned char *out = check_exact(m, &n);
  check_lines(out, n, 1);
  /* the text went quoted-printable because of its long line */
  ck_assert_ptr_nonnull(find(out, n, "Content-Transfer-Encoding: quoted-printable"));
  free(out);
  free(longline);
  mail_mime_builder_free(m);
}
END_TEST

/* The transfer encoding follows the content (and the options). */
static const char *encoding_of(const char *ct, const void *data, size_t len, unsigned opts)
{
  static char enc[32];
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_options(m, opts);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, ct, "f", data, len, NULL), MAIL_OK);
  size_t n;
  unsigned char *out = check_exact(m, &n);
  const char *cte = find(out, n, "Content-Disposition: attachment");
  ck_assert_ptr_nonnull(cte);
  /* the attachment's own Content-Transfer-Encoding precedes its disposition */
  const char *p = cte;
  while (p > (const char *)out && strncmp(p, "Content-Transfer-Encoding: ", 27) != 0)
    p--;
  sscanf(p + 27, "%31[^\r]", enc);
  free(out);
  mail_mime_builder_free(m);
  return enc;
}

START_TEST(encoding_choice)
{
  char longline[1200];
  memset(longline, 'a', sizeof longline);
  ck_assert_str_eq(encoding_of("text/plain", "plain\nascii\n", 12, 0), "7bit");
  ck_assert_str_eq(encoding_of("text/plain", longline, sizeof longline, 0), "quoted-printable");
  ck_assert_str_eq(encoding_of("text/plain", longline, sizeof longline, MAIL_MIME_OPT_BINARYMIME), "binary");
  ck_assert_str_eq(encoding_of("text/plain", "nul\0byte", 8, 0), "quoted-printable");
  ck_assert_str_eq(encoding_of("text/plain", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 8, 0), "base64");
  ck_assert_str_eq(encoding_of("text/plain", "caf\xc3\xa9 au lait, s'il vous pla\xc3\xaet", 31, 0),
                   "quoted-printable");
  ck_assert_str_eq(encoding_of("text/plain", "caf\xc3\xa9", 5, MAIL_MIME_OPT_8BITMIME), "8bit");
  /* non-text: 7bit only when it already is CRLF text */
  ck_assert_str_eq(encoding_of("application/json", "{\"a\":1}\r\n", 9, 0), "7bit");
  ck_assert_str_eq(encoding_of("application/json", "{\"a\":1}\n", 8, 0), "base64");
  ck_assert_str_eq(encoding_of("application/octet-stream", "\x00\x01\x02", 3, 0), "base64");
  ck_assert_str_eq(encoding_of("application/octet-stream", "\x00\x01\x02", 3, MAIL_MIME_OPT_8BITMIME), "base64");
  ck_assert_str_eq(encoding_of("application/octet-stream", "\x00\x01\x02", 3, MAIL_MIME_OPT_BINARYMIME), "binary");
  ck_assert_str_eq(encoding_of("image/png", "\x89PNG\r\n", 6, MAIL_MIME_OPT_8BITMIME), "8bit");
}
END_TEST

START_TEST(headers_dates_ids_and_compat_names)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_set_date(m, 1709164800, -330), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_message_id(m, "fixed.id@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "In-Reply-To", "<a@b>"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "X-Unicode", "Grüße"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_options(m, MAIL_MIME_OPT_COMPAT_FILENAME), MAIL_OK);
  mail_mime_builder_part *p;
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "Résumé.pdf", "x", 1, &p), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_set_content_id(p, "cv@example.org"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_add_header(p, "Content-Description", "my CV"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_part_add_header(p, "Content-Type", "text/html"), MAIL_ERR_INVALID);
  mail_mime_builder *in = new_msg(NULL, &seed_b);
  ck_assert_int_eq(mail_mime_builder_set_subject(in, "Grüße"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_attach_message(m, in, NULL, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(in, "changed"), MAIL_ERR_STATE); /* taken over */
  size_t n;
  unsigned char *out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Date: Wed, 28 Feb 2024 18:30:00 -0530\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "Message-ID: <fixed.id@example.org>\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "In-Reply-To: <a@b>\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "X-Unicode: =?utf-8?"));
  ck_assert_ptr_nonnull(find(out, n, "name=\"=?utf-8?"));
  ck_assert_ptr_nonnull(find(out, n, "filename*=utf-8''R%C3%A9sum%C3%A9.pdf"));
  ck_assert_ptr_nonnull(find(out, n, "Content-ID: <cv@example.org>\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "Content-Description: my CV\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "Content-Type: message/rfc822\r\n"));
  free(out);
  mail_mime_builder_free(m);

  /* with SMTPUTF8 the inner message keeps raw UTF-8: message/global, 8bit */
  m = new_msg(NULL, &seed_a);
  mail_mime_builder_set_options(m, MAIL_MIME_OPT_SMTPUTF8);
  in = new_msg(NULL, &seed_b);
  mail_mime_builder_set_subject(in, "Grüße");
  ck_assert_int_eq(mail_mime_builder_attach_message(m, in, NULL, NULL), MAIL_OK);
  out = check_exact(m, &n);
  ck_assert_ptr_nonnull(find(out, n, "Content-Type: message/global\r\nContent-Transfer-Encoding: 8bit\r\n"));
  ck_assert_ptr_nonnull(find(out, n, "Subject: Grüße\r\n"));
  unsigned needs;
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  /* the message/global part is 8bit: BODY=8BITMIME as well */
  ck_assert_uint_eq(needs, MAIL_MIME_NEEDS_SMTPUTF8 | MAIL_MIME_NEEDS_8BIT);
  free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* Found by fuzzing (fuzz-mime_build): a file name that looks like an
 * RFC 2047 word was written quoted, and readers decode such words inside
 * quoted values, so it came back changed. It goes RFC 2231 encoded. */
START_TEST(filename_like_encoded_word)
{
  mail_mime_builder *m = new_msg(NULL, &seed_a);
  ck_assert_int_eq(mail_mime_builder_add_attachment(m, NULL, "=?utf-8?q?x?=", "x", 1, NULL),
                   MAIL_OK);
  size_t n;
  unsigned char *out = check_exact(m, &n);
  ck_assert_ptr_null(find(out, n, "name=\"=?utf-8?q?x?=\""));
  ck_assert_ptr_nonnull(find(out, n, "filename*=utf-8''%3D%3Futf-8%3Fq%3Fx%3F%3D"));
  free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* Hostile text in every text setter: it is refused (CR/LF/NUL, bad
 * UTF-8) or written so that the message stays well formed: exact size,
 * CRLF only, no line over 998, nothing injected. */
START_TEST(hostile_header_text)
{
  static const char *const PIECES[] = {"a", "Z", " ", "  ", "\t", "=?", "?=", "\"", "\\", "<", ">", ",", ";",
                                       ":", "@", "(", ")", "é", "日本", "😀", "\x01", "\x7f", "\r", "\n",
                                       "\xc3", "\xff", "Bcc: x@y", "=?utf-8?q?x?="};
  const size_t npieces = sizeof PIECES / sizeof *PIECES;
  unsigned rng = 1234;
  int iters = getenv("MIME_HOSTILE_ITERS") ? atoi(getenv("MIME_HOSTILE_ITERS")) : 300;
  for (int iter = 0; iter < iters; iter++) {
    mail_mime_builder *m = new_msg(NULL, &seed_a);
    char subject[3000] = "";
    rng = rng * 1103515245u + 12345u;
    mail_mime_builder_set_options(m, (rng >> 16) % 2 ? MAIL_MIME_OPT_SMTPUTF8 : 0);
    for (int field = 0; field < 5; field++) {
      char text[3000];
      size_t n = 0;
      rng = rng * 1103515245u + 12345u;
      size_t count = (rng >> 16) % (field == 0 ? 400 : 60);
      for (size_t i = 0; i < count; i++) {
        rng = rng * 1103515245u + 12345u;
        const char *piece = PIECES[(rng >> 16) % npieces];
        size_t k = strlen(piece);
        if (n + k >= sizeof text)
          break;
        memcpy(text + n, piece, k);
        n += k;
      }
      text[n] = 0;
      int has_crlf = strpbrk(text, "\r\n") != NULL;
      int rc;
      switch (field) {
      case 0: rc = mail_mime_builder_set_subject(m, text); break;
      case 1: rc = mail_mime_builder_add_header(m, "X-Hostile", text); break;
      case 2: rc = mail_mime_builder_add_to(m, text, "to@example.org"); break;
      case 3: rc = mail_mime_builder_add_attachment(m, NULL, n ? text : NULL, "x", 1, NULL); break;
      default: rc = mail_mime_builder_set_from(m, text, "from@example.org"); break;
      }
      if (rc == MAIL_OK && field == 0)
        snprintf(subject, sizeof subject, "%s", text);
      if (has_crlf)
        ck_assert_int_eq(rc, MAIL_ERR_INVALID);
      else
        ck_assert_msg(rc == MAIL_OK || rc == MAIL_ERR_CHARSET || (field == 3 && rc == MAIL_ERR_INVALID),
                      "field %d: %d for [%s]", field, rc, text);
    }
    size_t n;
    unsigned char *out = check_exact(m, &n);
    check_lines(out, n, 0);
    ck_assert_ptr_null(find(out, n, "\r\nBcc:"));
    /* the parser reads the subject back as it was given */
    mail_mime_message *pm;
    ck_assert_int_eq(mail_mime_message_parse(&pm, out, n, 0, NULL, NULL), MAIL_OK);
    if (*subject) {
      const char *got = mail_mime_part_header_decoded(mail_mime_message_root(pm), "Subject");
      ck_assert_msg(got && strcmp(got, subject) == 0, "iteration %d: subject [%s] read as [%s]", iter, subject,
                    got ? got : "(null)");
    }
    mail_mime_message_free(pm);
    free(out);
    mail_mime_builder_free(m);
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mime_build");
  TCase *t = tcase_create("build");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, golden_simple);
  tcase_add_test(t, sender_setter);
  tcase_add_test(t, mail_free_knows_the_allocator);
  tcase_add_test(t, exact_size_every_kind);
  tcase_add_test(t, transport_needs);
  tcase_add_test(t, header_injection_every_setter);
  tcase_add_test(t, envelope_and_bcc);
  tcase_add_test(t, reproducible_output);
  tcase_add_test(t, allocation_failures);
  tcase_add_test(t, stream_large_callback);
  tcase_add_test(t, nonrewindable_and_changing_sources);
  tcase_add_test(t, long_lines_and_folding);
  tcase_add_test(t, encoding_choice);
  tcase_add_test(t, headers_dates_ids_and_compat_names);
  tcase_add_test(t, hostile_header_text);
  tcase_add_test(t, filename_like_encoded_word);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

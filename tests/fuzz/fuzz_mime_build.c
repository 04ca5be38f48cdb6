/*
 * The MIME builder's setters and encoders with fuzzer-chosen text.
 *
 * Byte 0: bit 0 MAIL_MIME_OPT_8BITMIME, bit 1 MAIL_MIME_OPT_SMTPUTF8, bit 2
 * MAIL_MIME_OPT_COMPAT_FILENAME, bit 3 an HTML body too, bit 4 a forced
 * quoted-printable text body, bit 5 a text/plain attachment (else
 * application/octet-stream), bit 6 an allocation failure (at call byte
 * 1), bit 7 a message/rfc822 attachment of the same text. The rest holds
 * NUL-separated fields: subject, display name, file name, an extra header
 * value, a To address, the body text, the attachment data.
 *
 * Every setter may refuse its argument. When the message is produced:
 *  - every line is at most 998 bytes and ends in CRLF (no bare CR or LF
 *    anywhere: every body here is text, base64 or quoted-printable);
 *  - its size is what mail_mime_builder_size() said, and reading it in
 *    small pieces gives the same bytes;
 *  - the parser reads back the same subject, display name and file name.
 * With an injected allocation failure every call ends in a status and
 * nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

#include "alloc.h"

#include "fuzz_common.h"

#define NFIELDS 7

static int fixed_random(void *user, unsigned char *buf, size_t len)
{
  (void)user;
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char)(i * 7 + 1);
  return 0;
}

static int64_t fixed_clock(void *user, int which)
{
  (void)user;
  (void)which;
  return 1795000000000;
}

static void check_lines(const unsigned char *m, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    if (m[i] == '\r') {
      FZ_ASSERT(i + 1 < n && m[i + 1] == '\n');
    } else if (m[i] == '\n') {
      FZ_ASSERT(i > 0 && m[i - 1] == '\r');
      FZ_ASSERT(i - 1 - start <= 998);
      start = i + 1;
    }
  }
  FZ_ASSERT(n - start <= 998);
}

/* Equal but for the amount of blank space (SP, HTAB) between and around words. */
static int same_words(const char *x, const char *y)
{
  for (;;) {
    while (*x == ' ' || *x == '\t')
      x++;
    while (*y == ' ' || *y == '\t')
      y++;
    if (!*x || !*y)
      return !*x && !*y;
    while (*x && *x != ' ' && *x != '\t' && *x == *y)
      x++, y++;
    if ((*x == ' ' || *x == '\t' || !*x) != (*y == ' ' || *y == '\t' || !*y))
      return 0;
    if (*x && *x != ' ' && *x != '\t')
      return 0;
  }
}

/* The first leaf with a file name, depth first. */
static const mail_mime_part *find_named(const mail_mime_part *p)
{
  if (mail_mime_part_filename(p) && !mail_mime_part_is_multipart(p))
    return p;
  if (!mail_mime_part_is_multipart(p))
    return NULL;
  for (size_t i = 0; i < mail_mime_part_child_count(p); i++) {
    const mail_mime_part *f = find_named(mail_mime_part_child(p, i));
    if (f)
      return f;
  }
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  unsigned sel = data[0], fail = data[1];
  /* NUL-separated fields (a missing one is empty). */
  char *copy = malloc(size - 2 + 1);
  FZ_ASSERT(copy);
  memcpy(copy, data + 2, size - 2);
  copy[size - 2] = 0;
  const char *f[NFIELDS];
  size_t flen[NFIELDS];
  {
    size_t at = 0, n = size - 2;
    for (int i = 0; i < NFIELDS; i++) {
      f[i] = copy + (at < n ? at : n);
      flen[i] = at < n ? strlen(copy + at) : 0;
      at += flen[i] + 1;
    }
    /* The attachment takes the rest, NULs included. */
    size_t a = (size_t)(f[6] - copy);
    flen[6] = n - a;
  }
  const char *subject = f[0], *name = f[1], *filename = f[2], *hval = f[3], *to = f[4];

  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  if (sel & 0x40)
    mail_test_alloc_fail_at(&ta, 1u + fail, 0);
  const mail_allocator *A = mail_test_alloc_hooks(&ta);

  mail_mime_builder *b = NULL;
  int rc = mail_mime_builder_new(&b, A);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM);
    goto done;
  }
  unsigned opts = 0;
  if (sel & 1)
    opts |= MAIL_MIME_OPT_8BITMIME;
  if (sel & 2)
    opts |= MAIL_MIME_OPT_SMTPUTF8;
  if (sel & 4)
    opts |= MAIL_MIME_OPT_COMPAT_FILENAME;
  mail_mime_builder_set_options(b, opts);
  mail_mime_builder_set_random(b, fixed_random, NULL);
  mail_mime_builder_set_clock(b, fixed_clock, NULL);
  int from_ok = mail_mime_builder_set_from(b, name, "alice@libmail.test") == MAIL_OK;
  mail_mime_builder_add_to(b, NULL, *to ? to : "bob@libmail.test");
  mail_mime_builder_add_cc(b, name, "carol@libmail.test");
  int subject_ok = mail_mime_builder_set_subject(b, subject) == MAIL_OK;
  mail_mime_builder_add_header(b, "X-Fuzz", hval);
  mail_mime_builder_set_message_id(b, "fuzz.1@libmail.test");
  mail_mime_builder_set_text(b, f[5], flen[5]);
  if (sel & 8)
    mail_mime_builder_set_html(b, f[5], flen[5]);
  mail_mime_builder_part *part = NULL;
  int att_ok = mail_mime_builder_add_attachment(b, (sel & 0x20) ? "text/plain" : NULL,
                                                *filename ? filename : NULL, f[6], flen[6],
                                                &part) == MAIL_OK;
  if (att_ok && (sel & 0x10))
    mail_mime_builder_part_set_encoding(part, MAIL_MIME_ENC_QUOTED_PRINTABLE);
  if (att_ok)
    mail_mime_builder_part_add_header(part, "X-Part", hval);
  if (sel & 0x80)
    mail_mime_builder_attach_message_data(b, f[5], flen[5], NULL, NULL);

  uint64_t want = 0;
  rc = mail_mime_builder_size(b, &want);
  unsigned char *out = NULL;
  size_t len = 0;
  if (rc == MAIL_OK)
    rc = mail_mime_builder_to_buffer(b, &out, &len);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc <= 0 && rc > MAIL_ERR_INTERNAL);
    FZ_ASSERT(ta.failures || rc == MAIL_ERR_UNSUPPORTED);
    goto free_builder;
  }
  FZ_ASSERT(len == want);
  check_lines(out, len);

  /* Read again in small pieces: the same bytes. */
  if (mail_mime_builder_rewind(b) == MAIL_OK) {
    size_t at = 0, got = 0;
    unsigned char piece[7];
    do {
      rc = mail_mime_builder_read(b, piece, 1 + at % sizeof piece, &got);
      if (rc != MAIL_OK)
        break;
      FZ_ASSERT(at + got <= len && memcmp(out + at, piece, got) == 0);
      at += got;
    } while (got);
    FZ_ASSERT(rc != MAIL_OK || at == len);
  }

  /* The parser reads back what was set. */
  mail_mime_message *m = NULL;
  rc = mail_mime_message_parse(&m, out, len, 0, NULL, A);
  if (rc == MAIL_OK) {
    mail_mime_part *root = mail_mime_message_root(m);
    if (subject_ok) {
      const char *got = mail_mime_part_header_decoded(root, "Subject");
      if (got || !ta.failures)
        FZ_ASSERT(got && strcmp(got, subject) == 0);
    }
    if (from_ok && *name) {
      const char *raw = mail_mime_part_header(root, "From");
      mail_address_list *l = NULL;
      FZ_ASSERT(raw);
      if (mail_address_list_parse(&l, raw, strlen(raw), 0, NULL, A) == MAIL_OK) {
        FZ_ASSERT(mail_address_list_count(l) == 1);
        const mail_address *a = mail_address_list_get(l, 0);
        /* Whitespace at the ends and in runs is not kept by the address
         * parser (it unfolds the phrase): compare the rest exactly. */
        FZ_ASSERT(same_words(a->name ? a->name : "", name));
        FZ_ASSERT(strcmp(a->mailbox, "alice@libmail.test") == 0);
      } else {
        FZ_ASSERT(ta.failures);
      }
      mail_address_list_free(l);
    }
    if (att_ok && *filename) {
      const mail_mime_part *p = find_named(root);
      FZ_ASSERT(p && strcmp(mail_mime_part_filename(p), filename) == 0);
    }
    mail_mime_message_free(m);
  } else {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM && ta.failures);
  }
  mail_free(out);
free_builder:
  mail_mime_builder_free(b);
done:
  FZ_ASSERT(ta.live == 0);
  mail_test_alloc_cleanup(&ta);
  free(copy);
  return 0;
}

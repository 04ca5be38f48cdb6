/* The malformed corpus (tests/mime/malformed): one message per defect
 * class, named after the defect it must produce. Each is parsed as a tree
 * with header checks, every leaf is decoded (text to UTF-8), and the set of
 * defects must be exactly the expected one. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

/* Defects that come with the named one, by construction of the message. */
static const char *const EXTRA[][2] = {
  {"limit-depth", "close-boundary-not-found"},
};

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static void decode_leaves(mail_mime_part *p)
{
  size_t n = mail_mime_part_child_count(p);
  if (!n && !mail_mime_part_is_multipart(p)) {
    unsigned char *out;
    size_t len;
    ck_assert_int_eq(mail_mime_part_decode(p, MAIL_MIME_TO_UTF8, &out, &len), MAIL_OK);
    mail_free(out);
  }
  for (size_t i = 0; i < n; i++)
    decode_leaves(mail_mime_part_child(p, i));
}

START_TEST(corpus)
{
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/mime/malformed", MAIL_SRCDIR);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int files = 0, seen[64] = {0};
  while ((e = readdir(d))) {
    size_t nl = strlen(e->d_name);
    if (nl < 5 || strcmp(e->d_name + nl - 4, ".eml"))
      continue;
    char name[256], path[4400];
    snprintf(name, sizeof name, "%.*s", (int)(nl - 4), e->d_name);
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t len;
    char *data = slurp(path, &len);
    mail_mime_message *msg;
    ck_assert_int_eq(mail_mime_message_parse(&msg, data, len, MAIL_MIME_CHECK_HEADERS, NULL, NULL), MAIL_OK);
    decode_leaves(mail_mime_message_root(msg));
    int want_found = 0;
    for (size_t i = 0; i < mail_mime_message_defect_count(msg); i++) {
      int kind;
      uint64_t off;
      mail_mime_message_defect(msg, i, &kind, &off, NULL);
      ck_assert_uint_le(off, len);
      const char *dn = mail_mime_defect_name(kind);
      if (!strcmp(dn, name)) {
        want_found = 1;
        if (kind > 0 && kind < 64)
          seen[kind] = 1;
        continue;
      }
      int extra = 0;
      for (size_t k = 0; k < sizeof EXTRA / sizeof EXTRA[0]; k++)
        if (!strcmp(EXTRA[k][0], name) && !strcmp(EXTRA[k][1], dn))
          extra = 1;
      ck_assert_msg(extra, "%s: unexpected defect %s", name, dn);
    }
    ck_assert_msg(want_found, "%s: the defect was not recorded", name);
    mail_mime_message_free(msg);
    free(data);
    files++;
  }
  closedir(d);
  ck_assert_int_ge(files, 30);
  /* Every defect kind the parser can produce from one message is covered;
   * the size limits (parts, headers, header length, decoded bytes) are
   * covered by test_mime_parse.c instead of large corpus files. */
  for (int k = 1; k <= MAIL_MIME_DEFECT_ENCODED_MESSAGE; k++) {
    if (k == MAIL_MIME_DEFECT_LIMIT_PARTS || k == MAIL_MIME_DEFECT_LIMIT_HEADERS ||
        k == MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH || k == MAIL_MIME_DEFECT_LIMIT_DECODED)
      continue;
    ck_assert_msg(seen[k], "no corpus message for defect %s", mail_mime_defect_name(k));
  }
}
END_TEST

START_TEST(clean_message_has_no_defects)
{
  const char *m = "From: \"A\" <a@example.org>\r\nTo: b@example.org, c@example.org\r\n"
                  "Subject: =?utf-8?q?ok?=\r\nDate: Fri, 21 Nov 1997 09:55:06 -0600\r\n"
                  "Message-ID: <x@example.org>\r\nMIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
                  "Content-Type: text/plain; charset=utf-8\r\n\r\nh\xC3\xA9\r\n--b--\r\n";
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m, strlen(m), MAIL_MIME_CHECK_HEADERS, NULL, NULL), MAIL_OK);
  decode_leaves(mail_mime_message_root(msg));
  ck_assert_uint_eq(mail_mime_message_defect_count(msg), 0);
  mail_mime_message_free(msg);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mime_malformed");
  TCase *t = tcase_create("corpus");
  tcase_add_test(t, corpus);
  tcase_add_test(t, clean_message_has_no_defects);
  suite_add_tcase(s, t);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Unit tests for editing a parsed message: parse -> write of an unchanged
 * message reproduces its bytes; header changes, removed and added parts
 * come out as expected and everything else is copied byte for byte. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

#include "core/buf.h"
#include "core/mem.h"

static mail_allocator A;
static void setup(void) { mail_alloc_init(&A, NULL); }

static int to_buf(void *u, const void *d, size_t n)
{
  return mail_buf_append(u, d, n) ? 1 : 0;
}

static char *write_out(mail_mime_message *m, size_t *len)
{
  mail_buf b;
  mail_buf_init(&b, &A, 0);
  ck_assert_int_eq(mail_mime_message_write(m, to_buf, &b), MAIL_OK);
  mail_buf_append_byte(&b, 0);
  *len = b.len - 1;
  return (char *)b.data;
}

static const char *MSG =
  "From: a@example.org\r\nSubject: old\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
  "preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n"
  "--b\r\nContent-Type: text/plain\r\nX-Drop: 1\r\n\r\ntwo\r\n"
  "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
  "dGhyZWU=\r\n--b--\r\nepilogue\r\n";

START_TEST(unchanged_is_byte_exact)
{
  mail_mime_message *m;
  size_t len;
  ck_assert_int_eq(mail_mime_message_parse(&m, MSG, strlen(MSG), 0, NULL, &A), MAIL_OK);
  char *out = write_out(m, &len);
  ck_assert_uint_eq(len, strlen(MSG));
  ck_assert_int_eq(memcmp(out, MSG, len), 0);
  mail_dealloc(&A, out);
  mail_mime_message_free(m);

  /* every file of the malformed corpus too */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/mime/malformed", MAIL_SRCDIR);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  int files = 0;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_int_eq(mail_mime_message_parse(&m, buf, n, 0, NULL, &A), MAIL_OK);
    out = write_out(m, &len);
    ck_assert_uint_eq(len, n);
    ck_assert_int_eq(memcmp(out, buf, n), 0);
    mail_dealloc(&A, out);
    mail_mime_message_free(m);
    files++;
  }
  closedir(d);
  ck_assert_int_ge(files, 30);
}
END_TEST

START_TEST(edit_headers_and_parts)
{
  mail_mime_message *m;
  size_t len;
  ck_assert_int_eq(mail_mime_message_parse(&m, MSG, strlen(MSG), 0, NULL, &A), MAIL_OK);
  mail_mime_part *root = mail_mime_message_root(m);
  ck_assert_int_eq(mail_mime_part_set_header(root, "Subject", "new =?utf-8?q?s=C3=BCbject?="), MAIL_OK);
  ck_assert_int_eq(mail_mime_part_set_header(root, "X-Added", "yes"), MAIL_OK);
  ck_assert_int_eq(mail_mime_part_set_header(root, "X-Evil", "a\r\nBcc: x@y"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_part_set_header(root, "Bad Name", "v"), MAIL_ERR_INVALID);
  mail_mime_part *two = mail_mime_part_child(root, 1);
  ck_assert_int_eq(mail_mime_part_set_header(two, "X-Drop", NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_part_remove(mail_mime_part_child(root, 0)), MAIL_OK);
  const char *extra = "Content-Type: text/plain\r\n\r\nfour";
  ck_assert_int_eq(mail_mime_part_append_raw(root, extra, strlen(extra)), MAIL_OK);
  ck_assert_int_eq(mail_mime_part_append_raw(root, "\r\n--b\r\n", 7), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_mime_part_remove(root), MAIL_ERR_INVALID);
  char *out = write_out(m, &len);
  mail_mime_message_free(m);

  const char *want =
    "From: a@example.org\r\nSubject: new =?utf-8?q?s=C3=BCbject?=\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\nX-Added: yes\r\n\r\n"
    "preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\ntwo\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "dGhyZWU=\r\n--b\r\nContent-Type: text/plain\r\n\r\nfour\r\n--b--\r\nepilogue\r\n";
  ck_assert_str_eq(out, want);

  ck_assert_int_eq(mail_mime_message_parse(&m, out, len, 0, NULL, &A), MAIL_OK);
  root = mail_mime_message_root(m);
  ck_assert_str_eq(mail_mime_part_header_decoded(root, "subject"), "new s\xC3\xBC" "bject");
  ck_assert_uint_eq(mail_mime_part_child_count(root), 3);
  unsigned char *body;
  size_t bl;
  ck_assert_int_eq(mail_mime_part_decode(mail_mime_part_child(root, 1), 0, &body, &bl), MAIL_OK);
  ck_assert_str_eq((char *)body, "three");
  mail_free(body);
  ck_assert_int_eq(mail_mime_part_decode(mail_mime_part_child(root, 2), 0, &body, &bl), MAIL_OK);
  ck_assert_str_eq((char *)body, "four");
  mail_free(body);
  ck_assert_uint_eq(mail_mime_message_defect_count(m), 0);
  mail_mime_message_free(m);
  mail_dealloc(&A, out);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mime_edit");
  TCase *t = tcase_create("edit");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, unchanged_is_byte_exact);
  tcase_add_test(t, edit_headers_and_parts);
  suite_add_tcase(s, t);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

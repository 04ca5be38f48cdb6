/* Unit tests for MIME header decoding: RFC 2047, RFC 2231 parameters,
 * charsets, address lists (strict and tolerant), dates, Message-IDs and
 * safe file names. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

#include "core/mem.h"

static mail_allocator A;
static void setup(void) { mail_alloc_init(&A, NULL); }

static void dec_eq(const char *in, const char *want)
{
  char *out;
  size_t n;
  ck_assert_int_eq(mail_mime_header_decode(&out, &n, NULL, in, strlen(in), &A), MAIL_OK);
  if (strcmp(out, want))
    ck_abort_msg("decode(%s) = [%s], want [%s]", in, out, want);
  ck_assert_uint_eq(n, strlen(want));
  mail_free(out);
}

START_TEST(rfc2047)
{
  dec_eq("plain text", "plain text");
  dec_eq("  lead and trail  ", "lead and trail");
  dec_eq("=?utf-8?q?caf=C3=A9_au_lait?=", "caf\xC3\xA9 au lait");
  dec_eq("=?UTF-8?B?w6k=?=", "\xC3\xA9");
  dec_eq("=?iso-8859-1?q?=E9?= x =?iso-8859-1?q?=E9?=", "\xC3\xA9 x \xC3\xA9");
  /* adjacent words: the blank between them vanishes */
  dec_eq("=?utf-8?q?a?= =?utf-8?q?b?=", "ab");
  dec_eq("=?utf-8?q?a?=\r\n =?utf-8?q?b?=", "ab");
  /* a character split across two words */
  dec_eq("=?utf-8?b?4g==?= =?utf-8?b?gqw=?=", "\xE2\x82\xAC");
  dec_eq("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", "\xE2\x82\xAC");
  /* different charsets next to each other */
  dec_eq("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xC3\xA9\xC3\xA9");
  /* RFC 2231 language in the word */
  dec_eq("=?utf-8*en?q?hi?=", "hi");
  /* aliases through iconv */
  dec_eq("=?gb2312?b?1tDOxA==?=", "\xE4\xB8\xAD\xE6\x96\x87");
  dec_eq("=?ks_c_5601-1987?b?x9GxuQ==?=", "\xED\x95\x9C\xEA\xB5\xAD");
  dec_eq("=?iso-2022-jp?b?GyRCRnxLXDhsGyhC?=", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  /* malformed words stay text */
  dec_eq("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
  dec_eq("=?utf-8?q?no end", "=?utf-8?q?no end");
  dec_eq("a =?utf-8?q?b c?= d", "a =?utf-8?q?b c?= d");
  /* raw UTF-8 (RFC 6532) kept, Latin-1 bytes converted */
  dec_eq("h\xC3\xA9llo", "h\xC3\xA9llo");
  dec_eq("h\xE9llo", "h\xC3\xA9llo");
  /* malformed words are counted */
  unsigned int d = 0;
  char *o;
  ck_assert_int_eq(mail_mime_header_decode(&o, NULL, &d, "=?utf-8?x?abc?= ok", 18, &A), MAIL_OK);
  ck_assert_uint_eq(d, 1);
  mail_free(o);
  ck_assert_int_eq(mail_mime_header_decode(&o, NULL, &d, "a=?b c?= =?", 11, &A), MAIL_OK);
  ck_assert_uint_eq(d, 0);
  mail_free(o);
  /* unknown charset: bytes kept */
  dec_eq("=?x-none?q?abc?=", "abc");
}
END_TEST

START_TEST(rfc2047_linear)
{
  /* many "=?" without an end must not be quadratic */
  size_t n = 1 << 20;
  char *s = malloc(n + 1);
  for (size_t i = 0; i < n; i += 2)
    memcpy(s + i, "=?", 2);
  s[n] = 0;
  char *out;
  ck_assert_int_eq(mail_mime_header_decode(&out, NULL, NULL, s, n, &A), MAIL_OK);
  ck_assert_uint_eq(strlen(out), n);
  mail_free(out);
  free(s);
}
END_TEST

static mail_mime_message *parse(const char *m)
{
  mail_mime_message *msg;
  ck_assert_int_eq(mail_mime_message_parse(&msg, m, strlen(m), 0, NULL, &A), MAIL_OK);
  return msg;
}

START_TEST(params_rfc2231)
{
  mail_mime_message *msg = parse(
    "Content-Type: application/x-stuff;\r\n"
    " title*0*=us-ascii'en'This%20is%20even%20more%20;\r\n"
    " title*1*=%2A%2A%2Afun%2A%2A%2A%20;\r\n"
    " title*2=\"isn't it!\"; NAME=\"Plain \\\"q\\\"\"; (comment) x=y\r\n"
    "Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt;\r\n"
    " filename=\"fallback.txt\"\r\n\r\n");
  mail_mime_part *r = mail_mime_message_root(msg);
  ck_assert_str_eq(mail_mime_part_content_type(r), "application/x-stuff");
  ck_assert_str_eq(mail_mime_part_type_param(r, "title"), "This is even more ***fun*** isn't it!");
  ck_assert_str_eq(mail_mime_part_type_param(r, "name"), "Plain \"q\"");
  ck_assert_str_eq(mail_mime_part_type_param(r, "X"), "y");
  ck_assert_str_eq(mail_mime_part_disposition(r), "attachment");
  ck_assert_str_eq(mail_mime_part_filename(r), "\xE2\x82\xAC rates.txt");
  ck_assert_uint_eq(mail_mime_message_defect_count(msg), 0);
  mail_mime_message_free(msg);

  /* RFC 2047 inside a quoted name (what Outlook writes) */
  msg = parse("Content-Type: application/pdf; name=\"=?utf-8?q?r=C3=A9sum=C3=A9.pdf?=\"\r\n\r\n");
  ck_assert_str_eq(mail_mime_part_filename(mail_mime_message_root(msg)), "r\xC3\xA9sum\xC3\xA9.pdf");
  mail_mime_message_free(msg);

  /* broken parameters are defects, not failures */
  msg = parse("Content-Type: text/plain; charset; =x; a=\"unclosed\r\n\r\n");
  ck_assert_str_eq(mail_mime_part_content_type(mail_mime_message_root(msg)), "text/plain");
  ck_assert_uint_ge(mail_mime_message_defect_count(msg), 1);
  mail_mime_message_free(msg);

  /* Found by fuzzing (fuzz-mime_fields): an extended value without a
   * charset, or a plain one with 8-bit bytes, came out as raw bytes, not
   * the documented UTF-8. UTF-8 is kept, other bytes are Latin-1. */
  msg = parse("Content-Type: application/pdf; name*=r%E9sum%C3%A9.pdf; x=\"caf\xE9\"\r\n\r\n");
  ck_assert_str_eq(mail_mime_part_filename(mail_mime_message_root(msg)),
                   "r\xC3\xA9sum\xC3\x83\xC2\xA9.pdf");
  ck_assert_str_eq(mail_mime_part_type_param(mail_mime_message_root(msg), "x"), "caf\xC3\xA9");
  mail_mime_message_free(msg);

  /* invalid type defaults to text/plain */
  msg = parse("Content-Type: garbage\r\n\r\n");
  ck_assert_str_eq(mail_mime_part_content_type(mail_mime_message_root(msg)), "text/plain");
  mail_mime_message_free(msg);
}
END_TEST

static mail_address_list *addrs(const char *s, unsigned flags, int want_rc)
{
  mail_address_list *l = NULL;
  ck_assert_int_eq(mail_address_list_parse(&l, s, strlen(s), flags, NULL, &A), want_rc);
  return l;
}

START_TEST(addresses)
{
  mail_address_list *l = addrs("\"Doe, John\" <john@example.org>, jane@example.com (Jane),\r\n"
                               " =?utf-8?q?J=C3=BCrgen?= <j@x.de>, Undisclosed:;, "
                               "team: a@b, \"q u\"@c;, <@route1,@route2:r@d>", 0, MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), 6);
  const mail_address *a = mail_address_list_get(l, 0);
  ck_assert_str_eq(a->name, "Doe, John");
  ck_assert_str_eq(a->mailbox, "john@example.org");
  ck_assert_str_eq(a->local, "john");
  ck_assert_str_eq(a->domain, "example.org");
  ck_assert_ptr_null(a->group);
  a = mail_address_list_get(l, 1);
  ck_assert_ptr_null(a->name);
  ck_assert_str_eq(a->mailbox, "jane@example.com");
  ck_assert_str_eq(mail_address_list_get(l, 2)->name, "J\xC3\xBCrgen");
  a = mail_address_list_get(l, 3);
  ck_assert_str_eq(a->group, "team");
  ck_assert_str_eq(a->mailbox, "a@b");
  a = mail_address_list_get(l, 4);
  ck_assert_str_eq(a->local, "q u");
  ck_assert_str_eq(a->mailbox, "\"q u\"@c");
  ck_assert_str_eq(mail_address_list_get(l, 5)->mailbox, "r@d");
  ck_assert_ptr_null(mail_address_list_get(l, 6));
  mail_address_list_free(l);

  /* Found by fuzzing (fuzz-mime_fields): a bare local part (no domain)
   * had its RFC 2047 words decoded, so a mailbox could hold a CR. Encoded
   * words never apply in an addr-spec (RFC 2047 section 5). */
  l = addrs("=?utf-8?q?a=0Db?=", 0, MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), 1);
  ck_assert_str_eq(mail_address_list_get(l, 0)->local, "=?utf-8?q?a=0Db?=");
  ck_assert_ptr_null(strchr(mail_address_list_get(l, 0)->mailbox, '\r'));
  mail_address_list_free(l);
  /* Found by fuzzing too: an obsolete quoted-pair before LF put a line
   * break in the mailbox; such an address is skipped (strict: refused). */
  l = addrs("\"a\\\nb\"@c.test, d@e.test", 0, MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), 1);
  ck_assert_str_eq(mail_address_list_get(l, 0)->mailbox, "d@e.test");
  mail_address_list_free(l);
  l = addrs("\"a\\\nb\"@c.test", MAIL_ADDR_STRICT, MAIL_ERR_SYNTAX);
  mail_address_list_free(l);

  /* UTF-8 addresses (RFC 6532) */
  l = addrs("J\xC3\xB6rg <j\xC3\xB6rg@b\xC3\xBC.de>", MAIL_ADDR_STRICT, MAIL_OK);
  ck_assert_str_eq(mail_address_list_get(l, 0)->mailbox, "j\xC3\xB6rg@b\xC3\xBC.de");
  mail_address_list_free(l);

  /* empty list */
  l = addrs("", MAIL_ADDR_STRICT, MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), 0);
  mail_address_list_free(l);
}
END_TEST

START_TEST(addresses_strict_rejects_ambiguous)
{
  /* CVE-2023-27043 style inputs */
  const char *bad[] = {
    "a@b(<c@d>", "alice@example.org <bob@example.com>", "a@b@c", "\"unclosed@x",
    "<a@b", "a@b)", "Name <a@b> trailing", "(comment <x@y>",
    "<@route:a@b>", "word", "a@", "a@b c",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mail_address_list *l = NULL;
    int rc = mail_address_list_parse(&l, bad[i], strlen(bad[i]), MAIL_ADDR_STRICT, NULL, &A);
    if (rc != MAIL_ERR_SYNTAX)
      ck_abort_msg("strict accepted [%s] (%zu addresses)", bad[i], mail_address_list_count(l));
    ck_assert_ptr_null(l);
  }
  /* tolerant mode never fails and never yields the smuggled address as a
   * second recipient */
  unsigned int d = 0;
  mail_address_list *l = NULL;
  ck_assert_int_eq(mail_address_list_parse(&l, "a@b(<c@d>", 9, 0, &d, &A), MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), 1);
  ck_assert_str_eq(mail_address_list_get(l, 0)->mailbox, "a@b");
  ck_assert_uint_ge(d, 1);
  mail_address_list_free(l);
  mail_address_list_free(NULL);
}
END_TEST

START_TEST(dates)
{
  int64_t t;
  int z;
  ck_assert_int_eq(mail_date_parse("Fri, 21 Nov 1997 09:55:06 -0600", 31, &t, &z), MAIL_OK);
  ck_assert_int_eq(t, 880127706);
  ck_assert_int_eq(z, -360);
  const char *s = "21 Nov 97 09:55:06 GMT";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, &z), MAIL_OK);
  ck_assert_int_eq(t, 880106106);
  s = "Thu,\r\n 13\r\n Feb\r\n 1969 23:32 EST (comment)";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, &z), MAIL_OK);
  ck_assert_int_eq(t, -27718080);
  ck_assert_int_eq(z, -300);
  s = "1 Jan 2000 00:00:00 +0000";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, NULL), MAIL_OK);
  ck_assert_int_eq(t, 946684800);
  s = "29 Feb 2001 00:00 +0000";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, NULL), MAIL_ERR_SYNTAX);
  s = "garbage";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, NULL), MAIL_ERR_SYNTAX);
  s = "1 Jan 2000 25:00 +0000";
  ck_assert_int_eq(mail_date_parse(s, strlen(s), &t, NULL), MAIL_ERR_SYNTAX);
}
END_TEST

START_TEST(msgids)
{
  mail_msgid_list *l;
  unsigned int d;
  const char *s = "<a@b> (c) <c@d>\r\n <e\r\n @f> junk <nobracket";
  ck_assert_int_eq(mail_msgid_list_parse(&l, s, strlen(s), &d, &A), MAIL_OK);
  ck_assert_uint_eq(mail_msgid_list_count(l), 3);
  ck_assert_str_eq(mail_msgid_list_get(l, 0), "a@b");
  ck_assert_str_eq(mail_msgid_list_get(l, 1), "c@d");
  ck_assert_str_eq(mail_msgid_list_get(l, 2), "e@f");
  ck_assert_uint_eq(d, 2);
  mail_msgid_list_free(l);
  mail_msgid_list_free(NULL);
}
END_TEST

START_TEST(safe_filenames)
{
  const char *cases[][2] = {
    {"../../etc/passwd", "_.._etc_passwd"}, {"..", "attachment"}, {"", "attachment"},
    {"a\x01\x1f" "b.txt", "ab.txt"}, {"C:\\x\\y.exe", "C__x_y.exe"}, {".hidden", "hidden"},
    {"con.txt", "_con.txt"}, {"report. ", "report"}, {"r\xC3\xA9sum\xC3\xA9.pdf", "r\xC3\xA9sum\xC3\xA9.pdf"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *s = mail_mime_safe_filename(cases[i][0], &A);
    ck_assert_str_eq(s, cases[i][1]);
    mail_free(s);
  }
  char longname[600];
  memset(longname, 'a', sizeof longname);
  memcpy(longname + 253, "\xE2\x82\xAC", 3);
  longname[599] = 0;
  char *s = mail_mime_safe_filename(longname, &A);
  ck_assert_uint_eq(strlen(s), 253);
  mail_free(s);
  /* Found by fuzzing (fuzz-mime_fields): a long reserved device name got
   * its '_' after the cut and came out 256 bytes long. */
  memcpy(longname, "con.", 4);
  s = mail_mime_safe_filename(longname, &A);
  ck_assert_uint_eq(strlen(s), 254); /* the euro sign at 254..256 is dropped whole */
  ck_assert_int_eq(strncmp(s, "_con.aaa", 8), 0);
  mail_free(s);
}
END_TEST

START_TEST(charset_api)
{
  char *out;
  size_t n;
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "windows-1252", "\x80", 1, &A), MAIL_OK);
  ck_assert_str_eq(out, "\xE2\x82\xAC");
  mail_free(out);
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "iso-8859-8-i", "\xE0", 1, &A), MAIL_OK);
  ck_assert_str_eq(out, "\xD7\x90");
  mail_free(out);
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "utf-8", "a\xFF" "b", 3, &A), MAIL_OK);
  ck_assert_str_eq(out, "a\xEF\xBF\xBD" "b");
  mail_free(out);
  /* Found by fuzzing (fuzz-mime_fields): glibc's iconv passes the old
   * 31-bit UTF-8 forms (here U+1B1255) through; they become U+FFFD. */
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "utf-8", "a\xF6\xB1\x89\x95" "b", 6, &A), MAIL_OK);
  ck_assert_str_eq(out, "a\xEF\xBF\xBD" "b");
  mail_free(out);
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "utf-8", "\xFB\xBF\xBF\xBF\xBF", 5, &A), MAIL_OK);
  ck_assert_str_eq(out, "\xEF\xBF\xBD");
  mail_free(out);
  ck_assert_int_eq(mail_charset_to_utf8(&out, &n, "no-such-cs", "raw", 3, &A), MAIL_ERR_CHARSET);
  ck_assert_str_eq(out, "raw");
  mail_free(out);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("mime_header");
  TCase *t = tcase_create("header");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, rfc2047);
  tcase_add_test(t, rfc2047_linear);
  tcase_add_test(t, params_rfc2231);
  tcase_add_test(t, addresses);
  tcase_add_test(t, addresses_strict_rejects_ambiguous);
  tcase_add_test(t, dates);
  tcase_add_test(t, msgids);
  tcase_add_test(t, safe_filenames);
  tcase_add_test(t, charset_api);
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

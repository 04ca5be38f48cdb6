/* Unit tests for the extension data of the IMAP response parser: QUOTA,
 * QUOTAROOT (RFC 9208), ACL, LISTRIGHTS, MYRIGHTS (RFC 4314), METADATA
 * (RFC 5464, also unsolicited), the THROTTLED, METADATA, USEATTR and
 * TOOBIG codes, FETCH SAVEDATE and Gmail's X-GM-LABELS with NIL in the
 * list. Every input is parsed whole, split in two at every point and byte
 * by byte: a digest of everything these accessors give must not change. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap_parse.h>

/* ------------------------------------------------------------ digest */

static void put(FILE *f, const char *tag, const char *s, size_t n)
{
  if (!s)
    fprintf(f, " %s=NIL", tag);
  else
    fprintf(f, " %s=[%.*s]", tag, (int)n, s);
}

static void digest(FILE *f, const mail_imap_response *r)
{
  size_t n, m;
  const char *s, *v;
  uint64_t a, b;
  fprintf(f, "type=%d code=%d", mail_imap_response_type(r), mail_imap_response_code(r));
  if (mail_imap_response_code_number(r, &a) == MAIL_OK)
    fprintf(f, " codenum=%llu", (unsigned long long)a);
  s = mail_imap_response_mailbox(r, &n, NULL, NULL);
  if (s)
    put(f, "mbox", s, n);
  for (size_t i = 0; i < mail_imap_response_string_count(r); i++) {
    s = mail_imap_response_string(r, i, &n);
    put(f, "str", s, n);
  }
  for (size_t i = 0; mail_imap_response_quota(r, i, &s, &n, &a, &b) == MAIL_OK; i++) {
    put(f, "res", s, n);
    fprintf(f, " %llu/%llu", (unsigned long long)a, (unsigned long long)b);
  }
  for (size_t i = 0; mail_imap_response_acl(r, i, &s, &n, &v, &m) == MAIL_OK; i++) {
    put(f, "id", s, n);
    put(f, "rights", v, m);
  }
  for (size_t i = 0; mail_imap_response_metadata(r, i, &s, &n, &v, &m) == MAIL_OK; i++) {
    put(f, "entry", s, n);
    put(f, "value", v, m);
  }
  if (mail_imap_response_metadata_changed(r))
    fputs(" changed", f);
  s = mail_imap_response_status_mailboxid(r, &n);
  if (s)
    put(f, "mailboxid", s, n);
  for (size_t i = 0; mail_imap_response_status_item(r, i, &s, &n, &a) == MAIL_OK; i++) {
    put(f, "status", s, n);
    fprintf(f, "=%llu", (unsigned long long)a);
  }
  if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_SAVEDATE)) {
    s = mail_imap_fetch_string(r, MAIL_IMAP_ITEM_SAVEDATE, &n);
    put(f, "savedate", s, n);
  }
  for (size_t i = 0; i < mail_imap_fetch_label_count(r); i++) {
    s = mail_imap_fetch_label(r, i, &n);
    put(f, "label", s, n);
  }
  fprintf(f, " defects=%zu\n", mail_imap_response_defect_count(r));
}

/* Digest of in fed in pieces: split 0 whole, SIZE_MAX byte by byte, else
 * two parts cut at split. */
static char *run(const char *in, size_t n, size_t split, const mail_limits *lim)
{
  mail_imap_parser *p;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  if (lim)
    ck_assert_int_eq(mail_imap_parser_set_limits(p, lim), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  char *out = NULL;
  size_t olen = 0;
  FILE *f = open_memstream(&out, &olen);
  size_t at = 0;
  int rc = MAIL_ERR_AGAIN;
  while (rc == MAIL_ERR_AGAIN) {
    if (at < n) {
      size_t k = split == 0 ? n - at : split == SIZE_MAX ? 1 : (at < split ? split : n - at);
      if (k > n - at)
        k = n - at;
      ck_assert_int_eq(mail_imap_parser_feed(p, in + at, k), MAIL_OK);
      at += k;
    } else {
      mail_imap_parser_end(p);
    }
    const mail_imap_response *r;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
      digest(f, r);
  }
  fprintf(f, "end=%d\n", rc);
  fclose(f);
  mail_imap_parser_free(p);
  return out;
}

/* The digest of in, the same at every split point and byte by byte; it
 * must hold each of want (NULL-terminated). */
static void expect_lim(const char *in, const mail_limits *lim, const char *const *want)
{
  size_t n = strlen(in);
  char *ref = run(in, n, 0, lim);
  for (size_t split = 1; split < n; split++) {
    char *d = run(in, n, split, lim);
    ck_assert_msg(!strcmp(d, ref), "split at %zu differs:\n%s\nvs whole:\n%s", split, d, ref);
    free(d);
  }
  char *d = run(in, n, SIZE_MAX, lim);
  ck_assert_str_eq(d, ref);
  free(d);
  ck_assert_msg(strstr(ref, "end=-") != NULL, "%s", ref);
  for (; *want; want++)
    ck_assert_msg(strstr(ref, *want), "missing %s in\n%s", *want, ref);
  free(ref);
}

#define EXPECT(in, ...)                                         \
  do {                                                          \
    static const char *const want_[] = {__VA_ARGS__, NULL};     \
    expect_lim(in, NULL, want_);                                \
  } while (0)

/* ------------------------------------------------------------ QUOTA */

START_TEST(quota)
{
  char t[16], q[16];
  snprintf(t, sizeof t, "%d", MAIL_IMAP_TYPE_QUOTA);
  snprintf(q, sizeof q, "%d", MAIL_IMAP_TYPE_QUOTAROOT);
  /* RFC 9208 5.2's example, then Dovecot's named root, 64-bit values,
   * every resource of RFC 9208 section 5 */
  EXPECT("* QUOTAROOT INBOX \"\"\r\n"
         "* QUOTA \"\" (STORAGE 10 512)\r\n"
         "* QUOTAROOT comp.mail.mime\r\n"
         "* QUOTAROOT INBOX \"User quota\" \"Shared\"\r\n"
         "* QUOTA \"User quota\" (STORAGE 9007199254740993 9223372036854775807 MESSAGE 1 10000"
         " MAILBOX 3 100 ANNOTATION-STORAGE 0 1024)\r\n",
         "type=24 code=0 mbox=[INBOX] str=[] defects=0",
         "type=23 code=0 mbox=[] res=[STORAGE] 10/512 defects=0",
         "mbox=[comp.mail.mime] defects=0",
         "mbox=[INBOX] str=[User quota] str=[Shared] defects=0",
         "res=[STORAGE] 9007199254740993/9223372036854775807 res=[MESSAGE] 1/10000"
         " res=[MAILBOX] 3/100 res=[ANNOTATION-STORAGE] 0/1024 defects=0");
  /* a bad resource is a defect, the others stay; a value over 2^63 - 1 too */
  EXPECT("* QUOTA r (STORAGE x 5 MESSAGE 2 9)\r\n"
         "* QUOTA r (STORAGE 1 18446744073709551615)\r\n"
         "* QUOTA r (STORAGE 1)\r\n"
         "* QUOTA\r\n",
         "mbox=[r] res=[MESSAGE] 2/9 defects=1",
         "type=23 code=0 mbox=[r] defects=1\ntype=23 code=0 mbox=[r] defects=1",
         "type=23 code=0 defects=1");
  (void)t;
  (void)q;
}
END_TEST

/* ------------------------------------------------------------ ACL */

START_TEST(acl)
{
  /* RFC 4314 3.6 to 3.8, a literal identifier and a modified UTF-7 mailbox */
  EXPECT("* ACL INBOX Fred rwipsldexta anyone lr -bob w\r\n"
         "* ACL Entw&APw-rfe {4}\r\nFr d lr\r\n"
         "* LISTRIGHTS ~/Mail/saved smith la r swicdkxte\r\n"
         "* MYRIGHTS INBOX rwiptsldaex\r\n"
         "* ACL INBOX\r\n"
         "* ACL INBOX Fred\r\n",
         "type=25 code=0 mbox=[INBOX] id=[Fred] rights=[rwipsldexta] id=[anyone] rights=[lr]"
         " id=[-bob] rights=[w] defects=0",
         "mbox=[Entw\xc3\xbcrfe] id=[Fr d] rights=[lr] defects=0",
         "type=26 code=0 mbox=[~/Mail/saved] str=[smith] str=[la] str=[r] str=[swicdkxte] defects=0",
         "type=27 code=0 mbox=[INBOX] str=[rwiptsldaex] defects=0",
         "type=25 code=0 mbox=[INBOX] defects=0",
         "type=25 code=0 mbox=[INBOX] defects=1");
  EXPECT("* MYRIGHTS\r\n* LISTRIGHTS INBOX smith\r\n", "type=27 code=0 defects=1",
         "type=26 code=0 mbox=[INBOX] defects=1");
}
END_TEST

/* ------------------------------------------------------------ METADATA */

START_TEST(metadata)
{
  /* RFC 5464 4.4: values quoted, NIL, a literal holding CRLF and a NUL,
   * the server's annotations (""), and the unsolicited change list */
  static const char in[] = "* METADATA \"\" (/shared/comment \"Shared comment\")\r\n"
                           "* METADATA INBOX (/private/comment \"My own comment\" /shared/x NIL)\r\n"
                           "* METADATA INBOX (/private/bin {7}\r\na\r\nb\0cd)\r\n"
                           "* METADATA INBOX /shared/comment /private/comment\r\n"
                           "* METADATA INBOX\r\n"
                           "* METADATA INBOX (/a \"1\" /b)\r\n";
  size_t n = sizeof in - 1;
  char *ref = run(in, n, 0, NULL);
  for (size_t split = 1; split < n; split++) {
    char *d = run(in, n, split, NULL);
    ck_assert_msg(!memcmp(d, ref, strlen(ref) + 1), "split at %zu differs:\n%s\nvs\n%s", split,
                  d, ref);
    free(d);
  }
  ck_assert_ptr_nonnull(strstr(ref, "type=28 code=0 mbox=[] entry=[/shared/comment] value=[Shared comment] defects=0"));
  ck_assert_ptr_nonnull(strstr(ref, "mbox=[INBOX] entry=[/private/comment] value=[My own comment] entry=[/shared/x] value=NIL defects=0"));
  ck_assert_ptr_nonnull(strstr(ref, "entry=[/shared/comment] value=NIL entry=[/private/comment] value=NIL changed defects=0"));
  ck_assert_ptr_nonnull(strstr(ref, "type=28 code=0 mbox=[INBOX] defects=1\n"));
  ck_assert_ptr_nonnull(strstr(ref, "entry=[/a] value=[1] defects=1"));
  free(ref);

  /* the literal's bytes as sent, NUL included */
  mail_imap_parser *p;
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  static const char lit[] = "* METADATA INBOX (/private/bin {7}\r\na\r\nb\0cd)\r\n";
  ck_assert_int_eq(mail_imap_parser_feed(p, lit, sizeof lit - 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_OK);
  const char *e, *v;
  size_t en, vn;
  ck_assert_int_eq(mail_imap_response_metadata(r, 0, &e, &en, &v, &vn), MAIL_OK);
  ck_assert_uint_eq(vn, 7);
  ck_assert(!memcmp(v, "a\r\nb\0cd", 7));
  ck_assert_int_eq(mail_imap_response_metadata(r, 1, &e, &en, &v, &vn), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_response_quota(r, 0, NULL, NULL, NULL, NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_response_acl(r, 0, NULL, NULL, NULL, NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_response_metadata(NULL, 0, NULL, NULL, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_response_metadata_changed(NULL), 0);
  mail_imap_parser_free(p);
}
END_TEST

/* Bounds are those of every held response: a value over max_literal stops
 * the parser (MAIL_ERR_LIMIT), a list over max_items is cut with a defect. */
START_TEST(bounds)
{
  mail_limits lim;
  mail_limits_default(&lim);
  lim.max_items = 4;
  static const char *const cut[] = {"type=28 code=0 mbox=[INBOX]", "defects=1", NULL};
  expect_lim("* METADATA INBOX (/a \"1\" /b \"2\" /c \"3\")\r\n", &lim, cut);
  /* the cut leaves an identifier without rights: a second defect */
  static const char *const acl_cut[] = {"type=25 code=0 mbox=[INBOX] id=[a] rights=[l] defects=2", NULL};
  expect_lim("* ACL INBOX a l b l c l d l e l\r\n", &lim, acl_cut);
  mail_limits_default(&lim);
  lim.max_literal = 8;
  mail_imap_parser *p;
  const mail_imap_response *r;
  ck_assert_int_eq(mail_imap_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_parser_set_limits(p, &lim), MAIL_OK);
  mail_imap_parser_expect_greeting(p, 0);
  const char *in = "* METADATA INBOX (/a {9}\r\n123456789)\r\n";
  mail_imap_parser_feed(p, in, strlen(in));
  ck_assert_int_eq(mail_imap_parser_next(p, &r), MAIL_ERR_LIMIT);
  mail_imap_parser_free(p);
}
END_TEST

/* ------------------------------------------------------------ codes */

START_TEST(codes)
{
  /* Gmail puts [THROTTLED] at the end of the text: not a code there */
  EXPECT("A1 NO [THROTTLED] slow down\r\n"
         "A2 OK Success [THROTTLED]\r\n"
         "A3 NO [METADATA LONGENTRIES 2199] some left out\r\n"
         "A4 NO [METADATA MAXSIZE 1024] too big\r\n"
         "A5 NO [METADATA TOOMANY] too many\r\n"
         "A6 NO [METADATA NOPRIVATE] none\r\n"
         "A7 NO [METADATA] what\r\n"
         "A8 NO [METADATA MAXSIZE x] what\r\n"
         "A9 NO [USEATTR] \\All not supported\r\n"
         "A10 NO [TOOBIG] message too large\r\n",
         "type=2 code=42 defects=0", "type=1 code=0 defects=0",
         "type=2 code=43 codenum=2199 str=[LONGENTRIES] defects=0",
         "type=2 code=43 codenum=1024 str=[MAXSIZE] defects=0",
         "type=2 code=43 str=[TOOMANY] defects=0", "type=2 code=43 str=[NOPRIVATE] defects=0",
         "type=2 code=43 defects=1", "type=2 code=43 str=[MAXSIZE] defects=1",
         "type=2 code=44 defects=0", "type=2 code=45 defects=0");
}
END_TEST

/* ------------------------------------------------------------ FETCH */

START_TEST(fetch_savedate_labels)
{
  /* RFC 8514 4.3; Gmail's labels as it sends them: system labels quoted
   * with their backslash, a label named NIL as the atom NIL (MailKit
   * issue 244), modified UTF-7, an empty list */
  EXPECT("* 1 FETCH (UID 3 SAVEDATE \"02-Dec-2026 05:00:00 +0000\")\r\n"
         "* 2 FETCH (SAVEDATE NIL)\r\n"
         "* 3 FETCH (SAVEDATE (x))\r\n"
         "* 316 FETCH (X-GM-THRID 1507843069465059557 X-GM-LABELS (\"\\\\Starred\" NIL) UID 346)\r\n"
         "* 325 FETCH (X-GM-LABELS (Palazzani Pennelli Rigamonti) UID 355)\r\n"
         "* 4 FETCH (X-GM-LABELS (\"\\\\Inbox\" \"Entw&APw-rfe\") UID 9)\r\n"
         "* 6 FETCH (X-GM-LABELS () MODSEQ (100272))\r\n",
         "savedate=[02-Dec-2026 05:00:00 +0000] defects=0", "savedate=NIL defects=0",
         "type=22 code=0 defects=1", "label=[\\Starred] label=[NIL] defects=0",
         "label=[Palazzani] label=[Pennelli] label=[Rigamonti] defects=0",
         "label=[\\Inbox] label=[Entw\xc3\xbcrfe] defects=0");
}
END_TEST

/* RFC 8474 4: STATUS MAILBOXID, the one STATUS value that is a list */
START_TEST(status_mailboxid)
{
  EXPECT("* STATUS foo (MAILBOXID (F2212ea87-6097-4256-9d51-71338625) MESSAGES 2)\r\n"
         "* STATUS foo (MAILBOXID (a b) UIDNEXT 3)\r\n",
         "mbox=[foo] mailboxid=[F2212ea87-6097-4256-9d51-71338625] status=[MESSAGES]=2 defects=0",
         "mbox=[foo] status=[UIDNEXT]=3 defects=1");
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("imap_parse_ext");
  TCase *t = tcase_create("all");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, quota);
  tcase_add_test(t, acl);
  tcase_add_test(t, metadata);
  tcase_add_test(t, bounds);
  tcase_add_test(t, codes);
  tcase_add_test(t, fetch_savedate_labels);
  tcase_add_test(t, status_mailboxid);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

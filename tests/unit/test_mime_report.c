/* Unit tests for DSN/MDN reports and the mbox reader. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>

#include "core/buf.h"
#include "core/mem.h"

static mail_allocator A;
static void setup(void) { mail_alloc_init(&A, NULL); }

START_TEST(dsn)
{
  const char *body =
    "Reporting-MTA: dns; mx.example.org\r\nX-Postfix-Queue-ID: 4F2\r\n"
    "Arrival-Date: Fri, 21 Nov 2025 09:55:06 +0100\r\n\r\n"
    "Final-Recipient: rfc822; nobody@example.com\r\nOriginal-Recipient: rfc822;Nobody@example.com\r\n"
    "Action: FAILED\r\nStatus: 5.1.1\r\nRemote-MTA: dns; mx.example.com\r\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.com>: Recipient address\r\n"
    "    rejected: User unknown\r\n\r\n"
    "Final-Recipient: rfc822; later@example.com\r\nAction: delayed\r\nStatus: 4.4.1\r\n"
    "Will-Retry-Until: Sat, 22 Nov 2025 09:55:06 +0100\r\n";
  mail_dsn *d;
  ck_assert_int_eq(mail_dsn_parse(&d, body, strlen(body), &A), MAIL_OK);
  ck_assert_str_eq(mail_dsn_reporting_mta(d), "mx.example.org");
  ck_assert_str_eq(mail_dsn_arrival_date(d), "Fri, 21 Nov 2025 09:55:06 +0100");
  ck_assert_ptr_null(mail_dsn_envelope_id(d));
  ck_assert_uint_eq(mail_dsn_recipient_count(d), 2);
  const mail_dsn_recipient *r = mail_dsn_recipient_get(d, 0);
  ck_assert_str_eq(r->final_recipient, "nobody@example.com");
  ck_assert_str_eq(r->final_recipient_type, "rfc822");
  ck_assert_str_eq(r->original_recipient, "Nobody@example.com");
  ck_assert_str_eq(r->action, "failed");
  ck_assert_str_eq(r->status, "5.1.1");
  ck_assert_int_eq(r->status_class, 5);
  ck_assert_int_eq(r->status_subject, 1);
  ck_assert_int_eq(r->status_detail, 1);
  ck_assert_str_eq(r->remote_mta, "mx.example.com");
  ck_assert_str_eq(r->diagnostic_type, "smtp");
  ck_assert_str_eq(r->diagnostic_code,
                   "550 5.1.1 <nobody@example.com>: Recipient address    rejected: User unknown");
  r = mail_dsn_recipient_get(d, 1);
  ck_assert_str_eq(r->action, "delayed");
  ck_assert_int_eq(r->status_class, 4);
  ck_assert_str_eq(r->will_retry_until, "Sat, 22 Nov 2025 09:55:06 +0100");
  ck_assert_ptr_null(mail_dsn_recipient_get(d, 2));
  mail_dsn_free(d);
  mail_dsn_free(NULL);
  ck_assert_int_eq(mail_dsn_parse(&d, "Reporting-MTA: dns; x\n", 22, &A), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_dsn_parse(&d, "", 0, &A), MAIL_ERR_SYNTAX);

  /* a field folded over 300,000 lines stays linear */
  mail_buf b;
  mail_buf_init(&b, &A, 0);
  mail_buf_append_str(&b, "Final-Recipient: rfc822; a@b\nAction: failed\nDiagnostic-Code: smtp; x\n");
  for (int i = 0; i < 300000; i++)
    mail_buf_append_str(&b, " more text\n");
  ck_assert_int_eq(mail_dsn_parse(&d, b.data, b.len, &A), MAIL_OK);
  ck_assert_uint_eq(strlen(mail_dsn_recipient_get(d, 0)->diagnostic_code), 1 + 300000 * 10);
  mail_dsn_free(d);
  mail_buf_free(&b);
}
END_TEST

/* Found by fuzzing (fuzz-mime_parse): "Status: 3.4.1" gave status_class 3,
 * though the field is documented as 2, 4 or 5 (0 when Status does not
 * parse); sscanf also took signs, blanks and overlong numbers. */
START_TEST(dsn_status_strict)
{
  static const struct {
    const char *status;
    int cls, subject, detail;
  } cases[] = {
    {"5.1.1", 5, 1, 1},           {"4.4.7 (delayed)", 4, 4, 7}, {"2.0.0", 2, 0, 0},
    {"5.999.999", 5, 999, 999},   {"3.4.1", 0, 0, 0},           {"1.0.0", 0, 0, 0},
    {"5.+1.1", 0, 0, 0},          {"5. 1.1", 0, 0, 0},          {"5.1.1234", 0, 0, 0},
    {"5.1", 0, 0, 0},             {"5.1.1x", 0, 0, 0},          {"-5.1.1", 0, 0, 0},
    {"5.99999999999.1", 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char body[200];
    snprintf(body, sizeof body, "Reporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\n"
             "Action: failed\r\nStatus: %s\r\n", cases[i].status);
    mail_dsn *d = NULL;
    ck_assert_int_eq(mail_dsn_parse(&d, body, strlen(body), &A), MAIL_OK);
    const mail_dsn_recipient *r = mail_dsn_recipient_get(d, 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_msg(r->status_class == cases[i].cls, "%s", cases[i].status);
    if (cases[i].cls) {
      ck_assert_int_eq(r->status_subject, cases[i].subject);
      ck_assert_int_eq(r->status_detail, cases[i].detail);
    }
    mail_dsn_free(d);
  }
}
END_TEST

START_TEST(mdn)
{
  const char *body = "Reporting-UA: joes-pc.cs.example.com; Foomail 97.1\r\n"
                     "Original-Recipient: rfc822;Joe_Recipient@example.com\r\n"
                     "Final-Recipient: rfc822;Joe_Recipient@example.com\r\n"
                     "Original-Message-ID: <199509192301.23456@example.org>\r\n"
                     "Disposition: manual-action/MDN-sent-manually; displayed\r\n";
  mail_mdn *m;
  ck_assert_int_eq(mail_mdn_parse(&m, body, strlen(body), &A), MAIL_OK);
  ck_assert_str_eq(m->reporting_ua, "joes-pc.cs.example.com; Foomail 97.1");
  ck_assert_str_eq(m->final_recipient, "Joe_Recipient@example.com");
  ck_assert_str_eq(m->original_message_id, "199509192301.23456@example.org");
  ck_assert_str_eq(m->action_mode, "manual-action");
  ck_assert_str_eq(m->sending_mode, "mdn-sent-manually");
  ck_assert_str_eq(m->type, "displayed");
  ck_assert_ptr_null(m->error);
  mail_mdn_free(m);
  mail_mdn_free(NULL);
  ck_assert_int_eq(mail_mdn_parse(&m, "X: y\n", 5, &A), MAIL_ERR_SYNTAX);
}
END_TEST

/* ------------------------------------------------------------ mbox */

typedef struct mlog {
  mail_buf b;
} mlog;

static int mb_start(void *u, const char *l, size_t n)
{
  return mail_buf_appendf(&((mlog *)u)->b, "[start %.*s]", (int)n, l) ? 1 : 0;
}

static int mb_data(void *u, const void *d, size_t n)
{
  return mail_buf_append(&((mlog *)u)->b, d, n) ? 1 : 0;
}

static int mb_end(void *u)
{
  return mail_buf_append_str(&((mlog *)u)->b, "[end]") ? 1 : 0;
}

static char *read_mbox(const char *in, size_t n, int format, size_t step)
{
  mlog l;
  mail_buf_init(&l.b, &A, 0);
  mail_mbox_callbacks cb = {MAIL_MBOX_CALLBACKS_VERSION, &l, mb_start, mb_data, mb_end};
  mail_mbox_reader *r;
  ck_assert_int_eq(mail_mbox_reader_new(&r, format, &cb, &A), MAIL_OK);
  for (size_t i = 0; i < n; i += step)
    ck_assert_int_eq(mail_mbox_reader_feed(r, in + i, i + step <= n ? step : n - i), MAIL_OK);
  ck_assert_int_eq(mail_mbox_reader_finish(r), MAIL_OK);
  mail_mbox_reader_free(r);
  mail_buf_append_byte(&l.b, 0);
  return (char *)l.b.data;
}

START_TEST(mbox)
{
  const char *in =
    "From alice@example.org Fri Nov 21 09:55:06 2025\n"
    "Subject: one\n\n>From the start\n>>From quoted twice\nFrom inside (no blank before)\n\n"
    "From bob@example.org Fri Nov 21 09:56:00 2025\r\n"
    "Subject: two\r\n\r\nbody\r\n\r\n\r\n"
    "From carol@example.org Fri Nov 21 09:57:00 2025\n"
    "Subject: three\n\n>F\n>\nlast";
  size_t n = strlen(in);
  const char *want_rd =
    "[start From alice@example.org Fri Nov 21 09:55:06 2025]"
    "Subject: one\n\nFrom the start\n>From quoted twice\nFrom inside (no blank before)\n[end]"
    "[start From bob@example.org Fri Nov 21 09:56:00 2025]"
    "Subject: two\r\n\r\nbody\r\n\r\n[end]"
    "[start From carol@example.org Fri Nov 21 09:57:00 2025]"
    "Subject: three\n\n>F\n>\nlast[end]";
  char *whole = read_mbox(in, n, MAIL_MBOX_MBOXRD, n);
  ck_assert_str_eq(whole, want_rd);
  for (size_t step = 1; step < 40; step++) {
    char *got = read_mbox(in, n, MAIL_MBOX_MBOXRD, step);
    ck_assert_str_eq(got, whole);
    mail_dealloc(&A, got);
  }
  mail_dealloc(&A, whole);
  /* mboxo: only one level of quoting is removed, and only from ">From " */
  char *o = read_mbox(in, n, MAIL_MBOX_MBOXO, n);
  ck_assert_ptr_nonnull(strstr(o, "\nFrom the start\n>>From quoted twice\n"));
  mail_dealloc(&A, o);
  /* text before the first From_ line */
  o = read_mbox("no separator\n", 13, MAIL_MBOX_MBOXRD, 1);
  ck_assert_str_eq(o, "[start ]no separator\n[end]");
  mail_dealloc(&A, o);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("mime_report");
  TCase *t = tcase_create("report");
  tcase_add_checked_fixture(t, setup, NULL);
  tcase_add_test(t, dsn);
  tcase_add_test(t, dsn_status_strict);
  tcase_add_test(t, mdn);
  tcase_add_test(t, mbox);
  suite_add_tcase(s, t);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* NNTP session tests through transcripts (the files of this directory):
 * every command and the refusal codes, STARTTLS rules and injection,
 * AUTHINFO USER/PASS and SASL, typed results (groups, articles, overview
 * records by OVERVIEW.FMT, HDR values, LIST lines), streamed bodies,
 * pipelining, POST/IHAVE dot-stuffing, argument checks, secrets. Each
 * transcript runs blocking, in event-loop mode (every read and write
 * blocks once) and failing each allocation in turn. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/nntp.h>

#include "alloc.h"
#include "device_crypto.h"
#include "each_alloc.h"
#include "transcript.h"

#ifndef NNTP_TRANSCRIPT_DIR
#error "NNTP_TRANSCRIPT_DIR must be defined"
#endif
#define TDIR NNTP_TRANSCRIPT_DIR "/"

static mail_transcript *load(const char *name)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s%s", TDIR, name);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", name, err);
  return t;
}

static mail_transcript *script(const char *text)
{
  char err[256];
  mail_transcript *t = mail_transcript_from_string(text, err, sizeof err);
  ck_assert_msg(t != NULL, "%s", err);
  return t;
}

typedef struct body {
  char data[8192];
  size_t len;
  int begins, ends;
  uint64_t numbers[8];
  size_t nnumbers;
} body;

static int collect(void *user, uint64_t number, int event, const unsigned char *d, size_t n)
{
  body *b = user;
  if (event == MAIL_NNTP_BODY_BEGIN) {
    b->begins++;
    if (b->nnumbers < 8)
      b->numbers[b->nnumbers++] = number;
  } else if (event == MAIL_NNTP_BODY_END) {
    b->ends++;
  } else if (b->len + n <= sizeof b->data) {
    memcpy(b->data + b->len, d, n);
    b->len += n;
  }
  return 0;
}

typedef struct trace {
  char text[32768];
  size_t len;
} trace;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  trace *tr = user;
  (void)dir;
  if (tr->len + len + 1 < sizeof tr->text) {
    memcpy(tr->text + tr->len, data, len);
    tr->len += len;
    tr->text[tr->len] = '\0';
  }
}

/* The article the POST and IHAVE scenarios send: bare LF line ends, a
 * leading dot, a line of two dots, no final line end. */
static const char article_src[] = "From: alice@news.test\nNewsgroups: misc.test\nSubject: hi\n\n"
                                  ".leading dot\n..\nlast line without end";

typedef struct source {
  const char *data;
  size_t len, pos, step;
  int fail_at; /* return non-zero at this read (1-based); 0: never */
  int reads;
} source;

static int read_source(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  source *s = user;
  if (++s->reads == s->fail_at)
    return 1;
  size_t n = s->len - s->pos;
  if (s->step && n > s->step)
    n = s->step;
  if (n > cap)
    n = cap;
  memcpy(buf, s->data + s->pos, n);
  s->pos += n;
  *got = n;
  return 0;
}

/* ------------------------------------------------------------ scenarios */

typedef struct srun {
  mail_nntp *n;
  mail_transcript *t;
  const char *file;
  int check;     /* check typed values (not in allocation-failure runs) */
  size_t agains;
  trace tr;
  body b;
  char why[256];
} srun;

/* Call an operation, resuming it while it says MAIL_ERR_AGAIN. */
#define PDO(r, expr)                                               \
  ({                                                               \
    int rc_;                                                       \
    size_t guard_ = 0;                                             \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) { \
      (r)->agains++;                                               \
      mail_transcript_pump((r)->t);                                \
    }                                                              \
    mail_transcript_pump_flush((r)->t);                            \
    rc_;                                                           \
  })

#define TRY(x)         \
  do {                 \
    int rc__ = (x);    \
    if (rc__)          \
      return rc__;     \
  } while (0)

/* A step that must end with status want: any other status is returned
 * (MAIL_ERR_INTERNAL for a success that should have failed). */
#define WANT(r, want, expr)                                              \
  do {                                                                   \
    int rc__ = PDO(r, expr);                                             \
    if (rc__ != (want)) {                                                \
      snprintf((r)->why, sizeof (r)->why, "line %d: %s gave %d, want %d", \
               __LINE__, #expr, rc__, (want));                           \
      return rc__ == MAIL_OK || rc__ == (want) ? MAIL_ERR_INTERNAL : rc__; \
    }                                                                    \
  } while (0)

/* A typed value that must hold (checked in the complete runs). */
#define CHECK(r, cond)                                                          \
  do {                                                                          \
    if ((r)->check && !(cond)) {                                                \
      snprintf((r)->why, sizeof (r)->why, "line %d: %s", __LINE__, #cond);      \
      return MAIL_ERR_INTERNAL;                                                 \
    }                                                                           \
  } while (0)

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

static int connect_tls(srun *r)
{
  return PDO(r, mail_nntp_connect(r->n, "news.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
}

static int p_starttls_user(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "alice-pw-1"));
  TRY(PDO(r, mail_nntp_connect_url(r->n, "nntp://news.test/libmail.test")));
  CHECK(r, mail_transcript_tls_active(r->t));
  CHECK(r, streq(mail_nntp_url_group(r->n), "libmail.test"));
  CHECK(r, !mail_nntp_has_capability(r->n, "STARTTLS")); /* the list after TLS */
  CHECK(r, mail_nntp_has_capability_arg(r->n, "LIST", "overview.fmt"));
  CHECK(r, !mail_nntp_posting_allowed(r->n));
  CHECK(r, streq(mail_nntp_greeting(r->n),
                 "libmail.test InterNetNews NNRP server INN 2.7.1 ready (no posting)"));
  TRY(PDO(r, mail_nntp_auth(r->n)));
  CHECK(r, mail_nntp_is_authenticated(r->n));
  CHECK(r, mail_nntp_posting_allowed(r->n));
  CHECK(r, !mail_nntp_has_capability(r->n, "AUTHINFO"));
  return PDO(r, mail_nntp_quit(r->n));
}

static int p_starttls_required(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "alice-pw-1"));
  return PDO(r, mail_nntp_connect(r->n, "news.test", 119, MAIL_SECURITY_STARTTLS));
}

static int p_mode_reader(srun *r)
{
  TRY(PDO(r, mail_nntp_connect(r->n, "news.test", 0, MAIL_SECURITY_STARTTLS)));
  CHECK(r, mail_nntp_posting_allowed(r->n));
  CHECK(r, mail_nntp_has_capability(r->n, "READER"));
  return PDO(r, mail_nntp_quit(r->n));
}

static int p_no_capabilities(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "secret"));
  TRY(PDO(r, mail_nntp_connect(r->n, "news.test", 0, MAIL_SECURITY_NONE_INSECURE)));
  CHECK(r, !mail_nntp_caps_known(r->n));
  CHECK(r, mail_nntp_posting_allowed(r->n)); /* MODE READER said 200 */
  WANT(r, MAIL_ERR_INSECURE, mail_nntp_auth(r->n));
  mail_sasl_set_allow_insecure_plaintext(mail_nntp_sasl(r->n), 1);
  TRY(PDO(r, mail_nntp_auth(r->n)));
  static const uint64_t nums[] = {1, 2};
  TRY(PDO(r, mail_nntp_article_many(r->n, MAIL_NNTP_HEAD, nums, 2, collect, &r->b)));
  CHECK(r, r->b.begins == 2 && r->b.ends == 2 && r->b.numbers[1] == 2);
  return MAIL_OK;
}

static int p_greeting_refused(srun *r)
{
  int rc = connect_tls(r);
  CHECK(r, mail_nntp_get_state(r->n) == MAIL_NNTP_STATE_DISCONNECTED);
  CHECK(r, mail_nntp_reply_code(mail_nntp_last_reply(r->n)) == 502);
  return rc;
}

static int p_greeting_tls_bytes(srun *r)
{
  int rc = PDO(r, mail_nntp_connect(r->n, "news.test", 0, MAIL_SECURITY_NONE_INSECURE));
  CHECK(r, strstr(mail_conn_last_error(mail_nntp_conn(r->n)), "use nntps://") != NULL);
  return rc;
}

static int p_service_discontinued(srun *r)
{
  TRY(connect_tls(r));
  int rc = PDO(r, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL));
  CHECK(r, mail_nntp_get_state(r->n) == MAIL_NNTP_STATE_DISCONNECTED);
  return rc;
}

static int p_auth_refused(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "alice-pw-1"));
  TRY(connect_tls(r));
  WANT(r, MAIL_ERR_AUTH, mail_nntp_auth(r->n));
  CHECK(r, streq(mail_conn_last_error(mail_nntp_conn(r->n)),
                 "AUTHINFO PASS: 481 Authentication failed"));
  CHECK(r, mail_nntp_get_state(r->n) == MAIL_NNTP_STATE_READY);
  WANT(r, MAIL_ERR_SERVER, mail_nntp_auth(r->n));
  WANT(r, MAIL_ERR_SERVER, mail_nntp_auth(r->n));
  WANT(r, MAIL_ERR_INSECURE, mail_nntp_auth(r->n));
  TRY(PDO(r, mail_nntp_auth(r->n)));
  CHECK(r, mail_nntp_is_authenticated(r->n));
  return MAIL_OK;
}

static int p_auth_sasl_plain(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "alice-pw-1"));
  TRY(mail_nntp_set_auth_method(r->n, MAIL_NNTP_AUTH_SASL));
  TRY(connect_tls(r));
  return PDO(r, mail_nntp_auth(r->n));
}

static int p_auth_sasl_cram(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "tim", "tanstaaftanstaaf"));
  TRY(connect_tls(r));
  return PDO(r, mail_nntp_auth(r->n));
}

static int p_auth_sasl_refused(srun *r)
{
  TRY(mail_nntp_set_auth(r->n, "alice", "alice-pw-1"));
  TRY(mail_nntp_set_auth_method(r->n, MAIL_NNTP_AUTH_SASL));
  TRY(connect_tls(r));
  return PDO(r, mail_nntp_auth(r->n));
}

static int p_articles(srun *r)
{
  uint64_t count = 0, low = 0, high = 0, num = 0;
  TRY(connect_tls(r));
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_group(r->n, "no.such", &count, &low, &high));
  WANT(r, MAIL_ERR_STATE, mail_nntp_next(r->n, &num));
  TRY(PDO(r, mail_nntp_group(r->n, "misc.test", &count, &low, &high)));
  CHECK(r, count == 3 && low == 1 && high == 3);
  CHECK(r, streq(mail_nntp_current_group(r->n), "misc.test"));
  TRY(PDO(r, mail_nntp_listgroup(r->n, NULL, 0, 0)));
  CHECK(r, mail_nntp_listgroup_count(r->n) == 3 && mail_nntp_listgroup_at(r->n, 2) == 3);
  TRY(PDO(r, mail_nntp_listgroup(r->n, NULL, 2, 0)));
  CHECK(r, mail_nntp_listgroup_count(r->n) == 2 && mail_nntp_listgroup_at(r->n, 0) == 2);
  TRY(PDO(r, mail_nntp_listgroup(r->n, "misc.test", 2, 2)));
  CHECK(r, mail_nntp_listgroup_count(r->n) == 1);
  TRY(PDO(r, mail_nntp_article(r->n, MAIL_NNTP_STAT, 1, NULL, NULL)));
  CHECK(r, streq(mail_nntp_current_article(r->n, &num), "<one@news.test>") && num == 1);
  TRY(PDO(r, mail_nntp_next(r->n, &num)));
  CHECK(r, num == 2);
  TRY(PDO(r, mail_nntp_article(r->n, MAIL_NNTP_ARTICLE, 0, collect, &r->b)));
  static const char two[] = "Subject: two\r\nMessage-ID: <two@news.test>\r\n\r\n.dotted\r\nplain\r\n";
  CHECK(r, r->b.len == sizeof two - 1 && !memcmp(r->b.data, two, sizeof two - 1));
  CHECK(r, r->b.numbers[0] == 2);
  TRY(PDO(r, mail_nntp_article(r->n, MAIL_NNTP_HEAD, 3, collect, &r->b)));
  TRY(PDO(r, mail_nntp_article(r->n, MAIL_NNTP_BODY, 3, collect, &r->b)));
  CHECK(r, r->b.begins == 3 && r->b.ends == 3);
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_next(r->n, &num));
  TRY(PDO(r, mail_nntp_last(r->n, &num)));
  TRY(PDO(r, mail_nntp_last(r->n, &num)));
  CHECK(r, num == 1);
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_last(r->n, &num));
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_article(r->n, MAIL_NNTP_ARTICLE, 9, collect, &r->b));
  CHECK(r, streq(mail_nntp_last_reply_command(r->n), "ARTICLE 9"));
  TRY(PDO(r, mail_nntp_article_by_id(r->n, MAIL_NNTP_ARTICLE, "<two@news.test>", collect, &r->b)));
  CHECK(r, r->b.numbers[3] == 0);
  WANT(r, MAIL_ERR_NOT_FOUND,
       mail_nntp_article_by_id(r->n, MAIL_NNTP_HEAD, "<gone@news.test>", collect, &r->b));
  TRY(PDO(r, mail_nntp_group(r->n, "misc.empty", &count, &low, &high)));
  CHECK(r, count == 0 && low == 1 && high == 0);
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_article(r->n, MAIL_NNTP_ARTICLE, 0, collect, &r->b));
  return MAIL_OK;
}

static int field_is(const mail_nntp_overview *o, int f, const char *want)
{
  size_t len;
  const char *v = mail_nntp_overview_field(o, f, &len);
  return v && len == strlen(want) && !strcmp(v, want);
}

static int p_over(srun *r)
{
  TRY(connect_tls(r));
  TRY(PDO(r, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL)));
  TRY(PDO(r, mail_nntp_over(r->n, 1, 3)));
  CHECK(r, mail_nntp_over_count(r->n) == 3);
  CHECK(r, mail_nntp_over_extra_count(r->n) == 1 && streq(mail_nntp_over_extra_name(r->n, 0), "Xref"));
  const mail_nntp_overview *o = mail_nntp_over_at(r->n, 1);
  CHECK(r, o && mail_nntp_overview_number(o) == 2);
  CHECK(r, field_is(o, MAIL_NNTP_OVER_SUBJECT, "Re: first"));
  CHECK(r, field_is(o, MAIL_NNTP_OVER_FROM, "bob@news.test"));
  CHECK(r, field_is(o, MAIL_NNTP_OVER_DATE, "Wed, 2 Dec 2026 02:19:00 -0000 (UTC)"));
  CHECK(r, field_is(o, MAIL_NNTP_OVER_MESSAGE_ID, "<two@news.test>"));
  CHECK(r, field_is(o, MAIL_NNTP_OVER_REFERENCES, "<one@news.test>"));
  CHECK(r, field_is(o, MAIL_NNTP_OVER_BYTES, "500") && mail_nntp_overview_bytes(o) == 500);
  CHECK(r, mail_nntp_overview_lines(o) == 3);
  CHECK(r, streq(mail_nntp_overview_extra(o, 0, NULL), "news.test misc.test:2"));
  o = mail_nntp_over_at(r->n, 2);
  CHECK(r, o && mail_nntp_overview_extra(o, 0, NULL) == NULL);
  CHECK(r, field_is(mail_nntp_over_at(r->n, 0), MAIL_NNTP_OVER_REFERENCES, ""));
  CHECK(r, mail_nntp_over_at(r->n, 3) == NULL);
  TRY(PDO(r, mail_nntp_over(r->n, 5, 0)));
  CHECK(r, mail_nntp_over_count(r->n) == 0);
  TRY(PDO(r, mail_nntp_over_by_id(r->n, "<two@news.test>")));
  CHECK(r, mail_nntp_over_count(r->n) == 1 && mail_nntp_overview_number(mail_nntp_over_at(r->n, 0)) == 0);
  TRY(PDO(r, mail_nntp_hdr(r->n, "Subject", 1, 0)));
  uint64_t num;
  size_t len;
  CHECK(r, mail_nntp_hdr_count(r->n) == 3);
  CHECK(r, streq(mail_nntp_hdr_at(r->n, 1, &num, &len), "Re: first") && num == 2 && len == 9);
  CHECK(r, streq(mail_nntp_hdr_at(r->n, 2, &num, &len), "") && num == 3);
  TRY(PDO(r, mail_nntp_hdr(r->n, ":bytes", 7, 9)));
  CHECK(r, mail_nntp_hdr_count(r->n) == 0);
  TRY(PDO(r, mail_nntp_hdr_by_id(r->n, "Subject", "<two@news.test>")));
  CHECK(r, mail_nntp_hdr_count(r->n) == 1);
  return MAIL_OK;
}

static int p_over_xover(srun *r)
{
  TRY(connect_tls(r));
  TRY(PDO(r, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL)));
  TRY(PDO(r, mail_nntp_over(r->n, 1, 2)));
  CHECK(r, mail_nntp_over_count(r->n) == 2 && mail_nntp_over_extra_count(r->n) == 0);
  CHECK(r, field_is(mail_nntp_over_at(r->n, 1), MAIL_NNTP_OVER_REFERENCES, "<1@y>"));
  CHECK(r, mail_nntp_overview_lines(mail_nntp_over_at(r->n, 1)) == 2);
  TRY(PDO(r, mail_nntp_over(r->n, 8, 9)));
  CHECK(r, mail_nntp_over_count(r->n) == 0);
  TRY(PDO(r, mail_nntp_hdr(r->n, "Subject", 8, 9)));
  CHECK(r, mail_nntp_hdr_count(r->n) == 0);
  return MAIL_OK;
}

static int p_over_fallback(srun *r)
{
  TRY(connect_tls(r));
  TRY(PDO(r, mail_nntp_over(r->n, 1, 1)));
  CHECK(r, mail_nntp_over_count(r->n) == 1);
  CHECK(r, streq(mail_nntp_last_reply_command(r->n), "XOVER 1-1"));
  TRY(PDO(r, mail_nntp_hdr(r->n, "Subject", 1, 1)));
  CHECK(r, streq(mail_nntp_hdr_at(r->n, 0, NULL, NULL), "a"));
  return MAIL_OK;
}

static int p_lists(srun *r)
{
  TRY(connect_tls(r));
  TRY(PDO(r, mail_nntp_list(r->n, MAIL_NNTP_LIST_ACTIVE, "libmail.*")));
  uint64_t high = 0, low = 0;
  const char *status = NULL;
  CHECK(r, mail_nntp_list_count(r->n) == 2);
  CHECK(r, streq(mail_nntp_list_active_at(r->n, 0, &high, &low, &status), "libmail.test") &&
             high == 3 && low == 1 && streq(status, "y"));
  CHECK(r, streq(mail_nntp_list_active_at(r->n, 1, NULL, NULL, &status), "libmail.test.empty") &&
             streq(status, "m"));
  TRY(PDO(r, mail_nntp_list(r->n, MAIL_NNTP_LIST_NEWSGROUPS, "libmail.*")));
  CHECK(r, mail_nntp_list_field_count(r->n, 1) == 2 &&
             streq(mail_nntp_list_field(r->n, 1, 1, NULL), "never posted to"));
  CHECK(r, mail_nntp_list_active_at(r->n, 0, NULL, NULL, NULL) == NULL);
  TRY(PDO(r, mail_nntp_list(r->n, MAIL_NNTP_LIST_ACTIVE_TIMES, NULL)));
  CHECK(r, streq(mail_nntp_list_field(r->n, 0, 2, NULL), "libmail-tests"));
  TRY(PDO(r, mail_nntp_list(r->n, MAIL_NNTP_LIST_HEADERS, NULL)));
  CHECK(r, streq(mail_nntp_list_field(r->n, 0, 0, NULL), ":"));
  TRY(PDO(r, mail_nntp_list(r->n, MAIL_NNTP_LIST_DISTRIB_PATS, NULL)));
  CHECK(r, mail_nntp_list_field_count(r->n, 0) == 3 &&
             streq(mail_nntp_list_field(r->n, 0, 1, NULL), "libmail.test.*") &&
             streq(mail_nntp_list_field(r->n, 0, 2, NULL), "local"));
  WANT(r, MAIL_ERR_UNSUPPORTED, mail_nntp_list(r->n, MAIL_NNTP_LIST_OVERVIEW_FMT, NULL));
  TRY(PDO(r, mail_nntp_newgroups(r->n, INT64_C(1577836800))));
  CHECK(r, streq(mail_nntp_list_active_at(r->n, 0, &high, &low, NULL), "libmail.test") && high == 0);
  TRY(PDO(r, mail_nntp_newnews(r->n, "libmail.*", MAIL_TEST_CLOCK_REALTIME_MS / 1000)));
  CHECK(r, streq(mail_nntp_list_field(r->n, 0, 0, NULL), "<probe.1796177890@libmail.test>"));
  WANT(r, MAIL_ERR_SERVER, mail_nntp_newnews(r->n, "*", MAIL_TEST_CLOCK_REALTIME_MS / 1000));
  int64_t t = 0;
  TRY(PDO(r, mail_nntp_date(r->n, &t)));
  CHECK(r, t == INT64_C(1796177883)); /* 2026-12-02 02:18:03 UTC */
  TRY(PDO(r, mail_nntp_capabilities(r->n)));
  CHECK(r, mail_nntp_capability_count(r->n) == 2 && !mail_nntp_has_capability(r->n, "OVER"));
  return MAIL_OK;
}

static int p_post(srun *r)
{
  TRY(connect_tls(r));
  source s = {article_src, sizeof article_src - 1, 0, 0, 0, 0};
  WANT(r, MAIL_ERR_AUTH, mail_nntp_post(r->n, read_source, &s));
  CHECK(r, s.reads == 0);
  TRY(PDO(r, mail_nntp_post(r->n, read_source, &s)));
  CHECK(r, mail_nntp_reply_code(mail_nntp_last_reply(r->n)) == 240);
  source s2 = {article_src, sizeof article_src - 1, 0, 7, 0, 0}; /* in 7-byte reads */
  WANT(r, MAIL_ERR_SERVER, mail_nntp_post(r->n, read_source, &s2));
  CHECK(r, streq(mail_nntp_last_reply_command(r->n), "POST data"));
  source s3 = {article_src, sizeof article_src - 1, 0, 0, 0, 0};
  WANT(r, MAIL_ERR_SERVER, mail_nntp_post(r->n, read_source, &s3));
  CHECK(r, s3.reads == 0);
  return MAIL_OK;
}

static int p_ihave(srun *r)
{
  TRY(connect_tls(r));
  source s = {article_src, sizeof article_src - 1, 0, 0, 0, 0};
  TRY(PDO(r, mail_nntp_ihave(r->n, "<i1@news.test>", read_source, &s)));
  for (int code = 435; code <= 437; code++) {
    source s2 = {article_src, sizeof article_src - 1, 0, 0, 0, 0};
    WANT(r, MAIL_ERR_SERVER, mail_nntp_ihave(r->n, "<i1@news.test>", read_source, &s2));
    CHECK(r, mail_nntp_reply_code(mail_nntp_last_reply(r->n)) == code);
  }
  return MAIL_OK;
}

static int p_article_many(srun *r)
{
  static const uint64_t nums[] = {1, 2, 3}, gone[] = {7, 8};
  TRY(connect_tls(r));
  TRY(PDO(r, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL)));
  WANT(r, MAIL_ERR_PARTIAL, mail_nntp_article_many(r->n, MAIL_NNTP_ARTICLE, nums, 3, collect, &r->b));
  CHECK(r, mail_nntp_batch_status(r->n, 0) == MAIL_OK);
  CHECK(r, mail_nntp_batch_status(r->n, 1) == MAIL_ERR_NOT_FOUND);
  CHECK(r, mail_nntp_batch_status(r->n, 2) == MAIL_OK);
  CHECK(r, r->b.begins == 2 && r->b.numbers[1] == 3);
  CHECK(r, streq(mail_conn_last_error(mail_nntp_conn(r->n)), "ARTICLE 2: 423 No such article"));
  WANT(r, MAIL_ERR_NOT_FOUND, mail_nntp_article_many(r->n, MAIL_NNTP_BODY, gone, 2, collect, &r->b));
  return MAIL_OK;
}

static int p_refusals(srun *r)
{
  TRY(connect_tls(r));
  WANT(r, MAIL_ERR_AUTH, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL));
  WANT(r, MAIL_ERR_INSECURE, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL));
  WANT(r, MAIL_ERR_SERVER, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL));
  CHECK(r, streq(mail_conn_last_error(mail_nntp_conn(r->n)), "GROUP misc.test: 502 Permission denied"));
  WANT(r, MAIL_ERR_UNSUPPORTED, mail_nntp_list(r->n, MAIL_NNTP_LIST_ACTIVE, NULL));
  WANT(r, MAIL_ERR_SERVER, mail_nntp_list(r->n, MAIL_NNTP_LIST_NEWSGROUPS, NULL));
  int rc = PDO(r, mail_nntp_group(r->n, "misc.test", NULL, NULL, NULL));
  CHECK(r, mail_nntp_get_state(r->n) == MAIL_NNTP_STATE_DISCONNECTED);
  return rc;
}

static int p_bad_status(srun *r)
{
  TRY(connect_tls(r));
  int64_t t;
  return PDO(r, mail_nntp_date(r->n, &t));
}

typedef struct scenario {
  const char *file;
  int (*fn)(srun *r);
  int expect;
} scenario;

static const scenario scenarios[] = {
  {"starttls_user.txt", p_starttls_user, MAIL_OK},
  {"starttls_not_offered.txt", p_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_refused.txt", p_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_injection.txt", p_starttls_required, MAIL_ERR_STARTTLS_INJECTION},
  {"starttls_caps_unknown.txt", p_starttls_required, MAIL_ERR_STARTTLS},
  {"mode_reader.txt", p_mode_reader, MAIL_OK},
  {"no_capabilities.txt", p_no_capabilities, MAIL_OK},
  {"greeting_refused.txt", p_greeting_refused, MAIL_ERR_SERVER},
  {"greeting_tls_bytes.txt", p_greeting_tls_bytes, MAIL_ERR_PROTOCOL},
  {"service_discontinued.txt", p_service_discontinued, MAIL_ERR_SERVER_CLOSING},
  {"auth_refused.txt", p_auth_refused, MAIL_OK},
  {"auth_sasl_plain.txt", p_auth_sasl_plain, MAIL_OK},
  {"auth_sasl_cram.txt", p_auth_sasl_cram, MAIL_OK},
  {"auth_sasl_refused.txt", p_auth_sasl_refused, MAIL_ERR_AUTH},
  {"articles.txt", p_articles, MAIL_OK},
  {"over.txt", p_over, MAIL_OK},
  {"over_xover.txt", p_over_xover, MAIL_OK},
  {"over_fallback.txt", p_over_fallback, MAIL_OK},
  {"lists.txt", p_lists, MAIL_OK},
  {"post.txt", p_post, MAIL_OK},
  {"ihave.txt", p_ihave, MAIL_OK},
  {"article_many.txt", p_article_many, MAIL_OK},
  {"refusals.txt", p_refusals, MAIL_ERR_PROTOCOL},
  {"bad_status.txt", p_bad_status, MAIL_ERR_PROTOCOL},
};
#define NSCN (sizeof scenarios / sizeof scenarios[0])

static int scn_played(void *user, const char *name)
{
  (void)user;
  for (size_t i = 0; i < NSCN; i++)
    if (!strcmp(scenarios[i].file, name))
      return 1;
  return 0;
}

static int scenario_play(srun *r, const scenario *sc, mail_transcript *t, const mail_allocator *a,
                         int nonblock, int check)
{
  memset(r, 0, sizeof *r);
  r->t = t;
  r->file = sc->file;
  r->check = check;
  int rc = mail_nntp_new(&r->n, a);
  if (!rc) /* no TLS: AUTHINFO SASL CRAM-MD5 through the device's crypto */
    rc = transcript_use_device_crypto(mail_nntp_sasl(r->n));
  if (rc)
    return rc;
  /* nonblock 2: feed mode, the pump carries the bytes */
  rc = nonblock == 2 ? mail_transcript_attach_feed(t, mail_nntp_conn(r->n))
                     : mail_transcript_attach(t, mail_nntp_conn(r->n));
  if (rc)
    return rc;
  mail_conn_set_trace(mail_nntp_conn(r->n), on_trace, &r->tr);
  if (nonblock == 1) {
    mail_conn_set_nonblocking(mail_nntp_conn(r->n), 1);
    mail_transcript_set_auto_again(t, 1);
  }
  return sc->fn(r);
}

START_TEST(test_every_transcript)
{
  const scenario *sc = &scenarios[_i];
  char path[512], why[600];
  snprintf(path, sizeof path, "%s%s", TDIR, sc->file);
  ck_assert_msg(mail_transcript_check_header(path, sc->expect, why, sizeof why) == 0, "%s", why);
  for (int nonblock = 0; nonblock < 3; nonblock++) {
    mail_transcript *t = load(sc->file);
    srun r;
    int rc = scenario_play(&r, sc, t, NULL, nonblock, 1);
    static const char *const mode[] = {"blocking", "event loop", "feed"};
    ck_assert_msg(rc == sc->expect, "%s (%s): got %d (%s), expected %d; %s; conn error: %s; %s",
                  sc->file, mode[nonblock], rc, mail_strerror(rc), sc->expect,
                  r.why, mail_conn_last_error(mail_nntp_conn(r.n)), mail_transcript_report(t));
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    if (nonblock)
      ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in %s mode", sc->file, mode[nonblock]);
    if (nonblock == 2)
      ck_assert_uint_eq(mail_transcript_connect_calls(t), 0);
    /* No credential ever reaches the trace. */
    ck_assert_msg(!strstr(r.tr.text, "alice-pw-1") && !strstr(r.tr.text, "tanstaaf"), "%s: %s",
                  sc->file, r.tr.text);
    mail_nntp_free(r.n);
    mail_transcript_free(t);
  }
}
END_TEST

typedef struct nomem_ctx {
  const scenario *sc;
  mail_transcript *t;
  int feed; /* 1: in feed mode */
} nomem_ctx;

static int run_allocating(void *user, mail_test_alloc *ta)
{
  nomem_ctx *c = user;
  mail_transcript_rewind(c->t);
  srun r;
  mail_test_alloc_forbid_str(ta, "alice-pw-1");
  int rc = scenario_play(&r, c->sc, c->t, mail_test_alloc_hooks(ta), c->feed ? 2 : 0, 0);
  mail_nntp_free(r.n);
  return rc;
}

/* Every transcript failing each allocation in turn: nothing leaked, no
 * password left in freed memory, a clean status. */
START_TEST(test_every_transcript_nomem)
{
  nomem_ctx c = {&scenarios[_i], load(scenarios[_i].file), 0};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.sc->file, run_allocating, &c, c.sc->expect,
                                   MAIL_TEST_NOMEM_CLEAN);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(test_every_transcript_nomem_feed)
{
  nomem_ctx c = {&scenarios[_i], load(scenarios[_i].file), 1};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.sc->file, run_allocating, &c, c.sc->expect,
                                   MAIL_TEST_NOMEM_CLEAN);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(NNTP_TRANSCRIPT_DIR, scn_played, NULL, why, sizeof why) > 0,
                "%s", why);
}
END_TEST

/* ------------------------------------------------------ closer looks */

static mail_nntp *ready_session(mail_transcript *t)
{
  mail_nntp *n = NULL;
  ck_assert_int_eq(mail_nntp_new(&n, NULL), MAIL_OK);
  ck_assert_int_eq(mail_transcript_attach(t, mail_nntp_conn(n)), MAIL_OK);
  ck_assert_int_eq(mail_nntp_connect(n, "news.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  return n;
}

#define READY_SCRIPT "TLS\nS: 200 ok\\r\\n\nC: CAPABILITIES\\r\\n\nS: 101 c\\r\\nVERSION 2\\r\\nREADER\\r\\n.\\r\\n\n"

/* CR, LF, NUL, spaces in an argument: refused, nothing written. */
START_TEST(test_invalid_arguments)
{
  mail_transcript *t = script(READY_SCRIPT);
  mail_nntp *n = ready_session(t);
  size_t writes = mail_transcript_write_calls(t);
  static const char *const bad_groups[] = {"", "a b", "a\r\nQUIT", "a\nb", "a\tb", "a\x7f"};
  for (size_t i = 0; i < sizeof bad_groups / sizeof bad_groups[0]; i++) {
    ck_assert_int_eq(mail_nntp_group(n, bad_groups[i], NULL, NULL, NULL), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_nntp_listgroup(n, bad_groups[i], 0, 0), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_nntp_newnews(n, bad_groups[i], 0), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_ACTIVE, bad_groups[i]), MAIL_ERR_INVALID);
  }
  ck_assert_int_eq(mail_nntp_group(n, NULL, NULL, NULL, NULL), MAIL_ERR_INVALID);
  static const char *const bad_ids[] = {"x@y", "<x@y", "<x y>", "<x\r\n>", "<>", NULL};
  for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
    ck_assert_int_eq(mail_nntp_article_by_id(n, MAIL_NNTP_ARTICLE, bad_ids[i], NULL, NULL),
                     MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_nntp_over_by_id(n, bad_ids[i]), MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_nntp_ihave(n, bad_ids[i], read_source, NULL), MAIL_ERR_INVALID);
  }
  ck_assert_int_eq(mail_nntp_hdr(n, "Sub ject", 1, 2), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_hdr(n, "Subject:", 1, 2), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_hdr(n, "Subject\n", 1, 2), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_article(n, 9, 1, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_list(n, 17, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_newgroups(n, -1), MAIL_ERR_INVALID);
  uint64_t zero = 0;
  ck_assert_int_eq(mail_nntp_article_many(n, MAIL_NNTP_STAT, &zero, 1, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_post(n, NULL, NULL), MAIL_ERR_INVALID);
  char longname[600];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  ck_assert_int_eq(mail_nntp_group(n, longname, NULL, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_set_auth(n, "al\r\nice", "pw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_set_pipeline_window(n, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_nntp_set_security(n, MAIL_SECURITY_NONE_INSECURE), MAIL_ERR_STATE);
  ck_assert_uint_eq(mail_transcript_write_calls(t), writes);
  /* A session not connected refuses and says why. */
  mail_nntp *m = NULL;
  ck_assert_int_eq(mail_nntp_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_group(m, "misc.test", NULL, NULL, NULL), MAIL_ERR_STATE);
  ck_assert_str_eq(mail_conn_last_error(mail_nntp_conn(m)),
                   "the session is in state DISCONNECTED, not READY");
  ck_assert_int_eq(mail_nntp_quit(m), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_nntp_connect_url(m, "nntp://host/bad%20group"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_nntp_connect_url(m, "imap://host"), MAIL_ERR_SYNTAX);
  mail_nntp_free(m);
  mail_nntp_free(n);
  mail_nntp_free(NULL);
  mail_transcript_free(t);
}
END_TEST

/* The article of ARTICLE arrives in pieces cut at every byte: the
 * unstuffed bytes are the same. */
START_TEST(test_article_every_split)
{
  static const char art[] = "220 5 <a@b> article\r\nSubject: x\r\n\r\n..a\r\n.\r\r\nb.\r\n.\r\n";
  static const char want[] = "Subject: x\r\n\r\n.a\r\n\r\r\nb.\r\n";
  for (size_t cut = 1; cut < sizeof art - 1; cut++) {
    char text[1024] = READY_SCRIPT "C: ARTICLE 5\\r\\n\nS: ";
    size_t o = strlen(text);
    for (size_t i = 0; i < sizeof art - 1; i++) {
      if (i == cut)
        o += (size_t)snprintf(text + o, sizeof text - o, "\nS: ");
      o += (size_t)snprintf(text + o, sizeof text - o, "\\x%02x", (unsigned char)art[i]);
    }
    snprintf(text + o, sizeof text - o, "\n");
    mail_transcript *t = script(text);
    mail_nntp *n = ready_session(t);
    body b = {{0}, 0, 0, 0, {0}, 0};
    ck_assert_int_eq(mail_nntp_article(n, MAIL_NNTP_ARTICLE, 5, collect, &b), MAIL_OK);
    ck_assert_uint_eq(b.len, sizeof want - 1);
    ck_assert_int_eq(memcmp(b.data, want, b.len), 0);
    ck_assert_uint_eq(b.numbers[0], 5);
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    mail_nntp_free(n);
    mail_transcript_free(t);
  }
}
END_TEST

/* A callback that stops: MAIL_ERR_CALLBACK once the reply is read; the
 * session goes on. A source that fails once the data began ends it. */
static int stop_at_first(void *user, uint64_t number, int event, const unsigned char *d, size_t n)
{
  (void)user;
  (void)number;
  (void)d;
  (void)n;
  return event == MAIL_NNTP_BODY_DATA;
}

START_TEST(test_callback_and_source_failures)
{
  mail_transcript *t = script(READY_SCRIPT
                              "C: BODY 1\\r\\n\nS: 222 1 <a@b>\\r\\nx\\r\\n.\\r\\n\n"
                              "C: DATE\\r\\n\nS: 111 20260101000000\\r\\n\n"
                              "C: POST\\r\\n\nS: 340 go\\r\\n\n");
  mail_nntp *n = ready_session(t);
  ck_assert_int_eq(mail_nntp_article(n, MAIL_NNTP_BODY, 1, stop_at_first, NULL), MAIL_ERR_CALLBACK);
  int64_t when = 0;
  ck_assert_int_eq(mail_nntp_date(n, &when), MAIL_OK);
  ck_assert(when == MAIL_TEST_CLOCK_REALTIME_MS / 1000);
  source s = {article_src, sizeof article_src - 1, 0, 0, 1, 0};
  ck_assert_int_eq(mail_nntp_post(n, read_source, &s), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_nntp_get_state(n), MAIL_NNTP_STATE_DISCONNECTED);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_nntp_free(n);
  mail_transcript_free(t);
}
END_TEST

/* An overview line holding only its number (found by the fuzzer; XOVER:
 * the list names no OVER): a
 * record whose fields are all empty. */
START_TEST(test_over_number_only)
{
  mail_transcript *t = script(READY_SCRIPT "C: LIST OVERVIEW.FMT\\r\\n\nC+ XOVER 7-7\\r\\n\n"
                              "S: 503 no\\r\\n224 follows\\r\\n7\\r\\n.\\r\\n\n");
  mail_nntp *n = ready_session(t);
  ck_assert_int_eq(mail_nntp_over(n, 7, 7), MAIL_OK);
  ck_assert_uint_eq(mail_nntp_over_count(n), 1);
  const mail_nntp_overview *o = mail_nntp_over_at(n, 0);
  ck_assert_uint_eq(mail_nntp_overview_number(o), 7);
  size_t len = 9;
  ck_assert_str_eq(mail_nntp_overview_field(o, MAIL_NNTP_OVER_SUBJECT, &len), "");
  ck_assert_uint_eq(len, 0);
  ck_assert_uint_eq(mail_nntp_overview_bytes(o), 0);
  ck_assert_ptr_null(mail_nntp_overview_extra(o, 0, NULL));
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_nntp_free(n);
  mail_transcript_free(t);
}
END_TEST

/* A list longer than limits.max_items ends with MAIL_ERR_LIMIT. */
START_TEST(test_item_limit)
{
  mail_transcript *t = script(READY_SCRIPT "C: LISTGROUP\\r\\n\n"
                              "S: 211 3 1 3 g\\r\\n1\\r\\n2\\r\\n3\\r\\n.\\r\\n\n");
  mail_nntp *n = ready_session(t);
  mail_limits l;
  mail_limits_init(&l, MAIL_LIMITS_VERSION);
  l.max_items = 2;
  ck_assert_int_eq(mail_conn_set_limits(mail_nntp_conn(n), &l), MAIL_OK);
  ck_assert_int_eq(mail_nntp_listgroup(n, NULL, 0, 0), MAIL_ERR_LIMIT);
  mail_nntp_free(n);
  mail_transcript_free(t);
}
END_TEST

/* The public reply parser: status lines, blocks in both modes, every
 * split, the helpers. */
START_TEST(test_reply_parser)
{
  static const char in[] = "200 hello\r\n101 caps\r\nVERSION 2\r\n..x\r\n.\r\n"
                           "423 none\r\n220 1 <a@b>\r\nA\r\n.\r\n";
  for (size_t cut = 0; cut <= sizeof in - 1; cut++) {
    mail_nntp_parser *p = NULL;
    ck_assert_int_eq(mail_nntp_parser_new(&p, NULL), MAIL_OK);
    char lines[256] = "", data[64] = "";
    int codes[4], nc = 0, next = 1, ev, rc;
    size_t pos = 0;
    const char *chunks[2] = {in, in + cut};
    size_t lens[2] = {cut, sizeof in - 1 - cut};
    int expects[] = {MAIL_NNTP_EXPECT_SINGLE, MAIL_NNTP_EXPECT_MULTI_LINES,
                     MAIL_NNTP_EXPECT_MULTI, MAIL_NNTP_EXPECT_MULTI};
    for (int k = 0; k < 2; k++) {
      ck_assert_int_eq(mail_nntp_parser_feed(p, chunks[k], lens[k]), MAIL_OK);
      while ((rc = mail_nntp_parser_next(p, &ev)) == MAIL_OK) {
        size_t n;
        const unsigned char *d = mail_nntp_parser_data(p, &n);
        if (ev == MAIL_NNTP_EVENT_REPLY) {
          codes[nc] = mail_nntp_reply_code(mail_nntp_parser_reply(p));
          /* a response without a block is over: say how the next reads */
          if ((codes[nc] == 200 || codes[nc] == 423) && next < 4)
            ck_assert_int_eq(mail_nntp_parser_expect(p, expects[next++]), MAIL_OK);
          nc++;
        } else if (ev == MAIL_NNTP_EVENT_LINE) {
          strncat(lines, (const char *)d, n);
          strcat(lines, "|");
        } else if (ev == MAIL_NNTP_EVENT_END) {
          if (next < 4)
            ck_assert_int_eq(mail_nntp_parser_expect(p, expects[next++]), MAIL_OK);
        } else if (ev == MAIL_NNTP_EVENT_DATA) {
          memcpy(data + pos, d, n);
          pos += n;
        }
      }
      ck_assert_int_eq(rc, MAIL_ERR_AGAIN);
    }
    ck_assert_int_eq(nc, 4);
    ck_assert(codes[0] == 200 && codes[1] == 101 && codes[2] == 423 && codes[3] == 220);
    ck_assert_str_eq(lines, "VERSION 2|.x|");
    ck_assert_uint_eq(pos, 3);
    ck_assert_int_eq(memcmp(data, "A\r\n", 3), 0);
    mail_nntp_parser_end(p);
    ck_assert_int_eq(mail_nntp_parser_next(p, &ev), MAIL_ERR_CLOSED);
    mail_nntp_parser_free(p);
  }
  mail_nntp_parser *p = NULL;
  int ev;
  ck_assert_int_eq(mail_nntp_parser_new(&p, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_parser_feed(p, "2000 x\r\n", 8), MAIL_OK);
  ck_assert_int_eq(mail_nntp_parser_next(p, &ev), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_nntp_parser_next(p, &ev), MAIL_ERR_PROTOCOL);
  mail_nntp_parser_reset(p);
  ck_assert_int_eq(mail_nntp_parser_feed(p, "211 3 1 3 misc.test\r\n", 21), MAIL_OK);
  ck_assert_int_eq(mail_nntp_parser_next(p, &ev), MAIL_OK);
  const mail_nntp_reply *r = mail_nntp_parser_reply(p);
  mail_nntp_reply *copy = NULL;
  ck_assert_int_eq(mail_nntp_reply_clone(&copy, r, NULL), MAIL_OK);
  size_t len;
  ck_assert_str_eq(mail_nntp_reply_text(copy, &len), "3 1 3 misc.test");
  uint64_t c, lo, hi;
  const char *g;
  size_t gl;
  ck_assert_int_eq(mail_nntp_parse_group(&c, &lo, &hi, &g, &gl, "3 1 3 misc.test", 15), MAIL_OK);
  ck_assert(c == 3 && lo == 1 && hi == 3 && gl == 9);
  ck_assert_int_eq(mail_nntp_parse_group(&c, &lo, &hi, NULL, NULL, "3 1 3", 5), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_nntp_parse_group(&c, &lo, &hi, NULL, NULL, "12345678901234567 1 3 g", 23),
                   MAIL_ERR_PROTOCOL);
  const char *id;
  ck_assert_int_eq(mail_nntp_parse_article(&c, &id, &gl, "0 <a@b> article", 15), MAIL_OK);
  ck_assert(c == 0 && gl == 5);
  ck_assert_int_eq(mail_nntp_parse_article(&c, &id, &gl, "1 a@b", 5), MAIL_ERR_PROTOCOL);
  int64_t t;
  ck_assert_int_eq(mail_nntp_parse_date(&t, "19700101000001", 14), MAIL_OK);
  ck_assert(t == 1);
  ck_assert_int_eq(mail_nntp_parse_date(&t, "19701301000001", 14), MAIL_ERR_PROTOCOL);
  ck_assert_int_eq(mail_nntp_parse_date(&t, "1970010100000", 13), MAIL_ERR_PROTOCOL);
  const char *st;
  size_t sl;
  ck_assert_int_eq(mail_nntp_parse_active(&g, &gl, &hi, &lo, &st, &sl, "a.b 10 2 y", 10), MAIL_OK);
  ck_assert(hi == 10 && lo == 2 && sl == 1 && *st == 'y');
  char buf[4];
  ck_assert_int_eq(mail_nntp_reply_copy_text(copy, buf, sizeof buf, &len), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(len, 16);
  mail_nntp_reply_free(copy);
  mail_nntp_reply_free((mail_nntp_reply *)r); /* owned by the parser: left alone */
  mail_nntp_parser_free(p);
}
END_TEST

static Suite *nntp_suite(void)
{
  Suite *s = suite_create("nntp");
  TCase *tc = tcase_create("session");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, test_every_transcript, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem_feed, 0, (int)NSCN);
  tcase_add_test(tc, test_invalid_arguments);
  tcase_add_test(tc, test_article_every_split);
  tcase_add_test(tc, test_callback_and_source_failures);
  tcase_add_test(tc, test_item_limit);
  tcase_add_test(tc, test_over_number_only);
  tcase_add_test(tc, test_reply_parser);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(nntp_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

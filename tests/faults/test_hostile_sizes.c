/*
 * Hostile sizes (issue 21), completing tests/unit/test_bounded.c (SMTP
 * and POP3 continuation lines, million-line and 120 MiB replies) for IMAP
 * and NNTP and a line with no CRLF for every protocol, through the
 * generating scripted server (tests/support/genserver): the rule "bound
 * what is held, stream the rest".
 * - IMAP: a million untagged responses stream through the callback with
 *   no error in bounded memory; a BODYSTRUCTURE deeper than max_depth is
 *   a defect of that one FETCH response and the FETCH goes on; a literal
 *   size of 2^64 is MAIL_ERR_PROTOCOL; {9999999999} in a held position
 *   (a LIST mailbox name) is MAIL_ERR_LIMIT before anything is allocated
 *   for it; endless "+" continuation requests and a 120 MiB CAPABILITY
 *   before STARTTLS end with MAIL_ERR_LIMIT (STARTTLS never sent).
 * - NNTP: endless CAPABILITIES lines and a 120 MiB CAPABILITIES before
 *   STARTTLS end with MAIL_ERR_LIMIT.
 * - A line with no CRLF (SMTP, POP3, IMAP, NNTP greetings; a 10 MB+ reply
 *   line, read until the client stops) ends with MAIL_ERR_LIMIT.
 * - MIME: a 10 MB header field is cut at max_header_length with a defect,
 *   in bounded memory.
 * Each checks the tracking allocator's high-water mark against the bound
 * and that the client stopped reading early.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap.h>
#include <mail/mime.h>
#include <mail/nntp.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "genserver.h"

#define MIB (1024u * 1024u)
#define DEFAULT_BOUND MIB /* mail_limits' default max_response */

typedef struct hrun {
  mail_test_alloc ta;
  gen_server g;
  int mode;        /* what the server does: the test's own enum */
  char tag[32];    /* the IMAP command's tag */
  char final[64];  /* a tagged reply built from it */
  char deep[8192]; /* a deep BODYSTRUCTURE response */
  int saw_starttls;
  unsigned long untagged, fetches, defects_in_2, defects_elsewhere;
} hrun;

static void end_run(hrun *r, size_t bound, uint64_t most_read)
{
  ck_assert(!r->g.overflow);
  ck_assert_msg(r->ta.peak_bytes < 2 * bound, "peak %zu bytes for a %zu-byte bound",
                r->ta.peak_bytes, bound);
  ck_assert_msg(r->g.bytes_sent < most_read, "the client read %llu bytes",
                (unsigned long long)r->g.bytes_sent);
}

/* ------------------------------------------------------------ IMAP */

enum { I_MILLION, I_DEEP, I_LITERAL_2_64, I_LITERAL_HELD, I_ENDLESS_PLUS, I_120MIB_CAPA };

static void imap_on_line(gen_server *g, const char *line, size_t len)
{
  hrun *r = g->user;
  (void)len;
  size_t tl = strcspn(line, " ");
  snprintf(r->tag, sizeof r->tag, "%.*s", (int)(tl < 31 ? tl : 31), line);
  const char *cmd = line + tl + (line[tl] == ' ');
  snprintf(r->final, sizeof r->final, "%s OK done\r\n", r->tag);
  if (!strncmp(cmd, "STARTTLS", 8)) {
    r->saw_starttls = 1;
    gen_say(g, r->final);
  } else if (!strncmp(cmd, "CAPABILITY", 10) && r->mode == I_120MIB_CAPA) {
    /* One CAPABILITY response of 120 MiB and more (its line never ends). */
    gen_say(g, "* CAPABILITY IMAP4rev1 STARTTLS X");
    gen_endless_line(g);
  } else if (!strncmp(cmd, "NOOP", 4) && r->mode == I_MILLION) {
    gen_lines(g, "* OK [ALERT] note ", "", 1, 0, 1000000, r->final);
  } else if (!strncmp(cmd, "FETCH", 5) && r->mode == I_DEEP) {
    gen_say(g, "* 1 FETCH (UID 1 BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1))\r\n");
    gen_say(g, r->deep);
    gen_say(g, "* 3 FETCH (UID 3 BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 3 1))\r\n");
    gen_say(g, r->final);
  } else if (!strncmp(cmd, "FETCH", 5) && r->mode == I_LITERAL_2_64) {
    gen_say(g, "* 1 FETCH (BODY[] {18446744073709551616}\r\nxx)\r\n");
    gen_say(g, r->final);
  } else if (!strncmp(cmd, "LIST", 4) && r->mode == I_LITERAL_HELD) {
    gen_say(g, "* LIST () \"/\" {9999999999}\r\n");
    gen_endless_line(g);
  } else if (!strncmp(cmd, "APPEND", 6) && r->mode == I_ENDLESS_PLUS) {
    gen_lines(g, "+ more ", "", 1, 0, GEN_ENDLESS, NULL);
  } else {
    gen_say(g, r->final);
  }
}

static int count_untagged(void *user, const mail_imap_response *resp, int trusted)
{
  hrun *r = user;
  (void)trusted;
  r->untagged++;
  if (mail_imap_response_type(resp) == MAIL_IMAP_TYPE_FETCH) {
    uint32_t n = 0;
    r->fetches++;
    mail_imap_response_number(resp, &n);
    if (n == 2)
      r->defects_in_2 += mail_imap_response_defect_count(resp);
    else
      r->defects_elsewhere += mail_imap_response_defect_count(resp);
  }
  return 0;
}

static mail_imap *imap_start(hrun *r, int mode, const char *greeting)
{
  memset(r, 0, sizeof *r);
  mail_test_alloc_init(&r->ta);
  r->mode = mode;
  gen_server_init(&r->g, imap_on_line, r);
  mail_imap *im;
  ck_assert_int_eq(mail_imap_new(&im, mail_test_alloc_hooks(&r->ta)), MAIL_OK);
  ck_assert_int_eq(gen_server_attach(&r->g, mail_imap_conn(im)), MAIL_OK);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, count_untagged, r), MAIL_OK);
  gen_say(&r->g, greeting);
  return im;
}

#define PREAUTH "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n"

static void imap_end(hrun *r, mail_imap *im, size_t bound, uint64_t most_read)
{
  end_run(r, bound, most_read);
  mail_imap_free(im);
  ck_assert_uint_eq(r->ta.live, 0);
  mail_test_alloc_cleanup(&r->ta);
}

START_TEST(imap_million_untagged)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_MILLION, PREAUTH);
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  unsigned long before = r.untagged;
  int rc = mail_imap_noop(im);
  ck_assert_msg(rc == MAIL_OK, "NOOP: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_uint_eq(r.untagged - before, 1000000);
  /* Far below one response bound: each response is dropped after its call. */
  ck_assert_msg(r.ta.peak_bytes < DEFAULT_BOUND / 4, "peak %zu bytes", r.ta.peak_bytes);
  imap_end(&r, im, DEFAULT_BOUND, UINT64_MAX);
}
END_TEST

START_TEST(imap_bodystructure_too_deep)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_DEEP, PREAUTH);
  /* 200 nested multiparts (max_depth is 64 by default). */
  size_t o = (size_t)snprintf(r.deep, sizeof r.deep, "* 2 FETCH (UID 2 BODYSTRUCTURE ");
  for (int i = 0; i < 200; i++)
    r.deep[o++] = '(';
  o += (size_t)snprintf(r.deep + o, sizeof r.deep - o, "\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 2 1)");
  for (int i = 0; i < 199; i++)
    o += (size_t)snprintf(r.deep + o, sizeof r.deep - o, " \"MIXED\")");
  snprintf(r.deep + o, sizeof r.deep - o, ")\r\n");
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set;
  ck_assert_int_eq(mail_imap_seqset_new(&set, mail_test_alloc_hooks(&r.ta)), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, 3), MAIL_OK);
  int rc = mail_imap_fetch(im, set, 0, "(UID BODYSTRUCTURE)", NULL, NULL);
  mail_imap_seqset_free(set);
  ck_assert_msg(rc == MAIL_OK, "FETCH: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_uint_eq(r.fetches, 3);
  ck_assert_uint_ge(r.defects_in_2, 1);
  ck_assert_uint_eq(r.defects_elsewhere, 0);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK); /* the session goes on */
  imap_end(&r, im, DEFAULT_BOUND, UINT64_MAX);
}
END_TEST

START_TEST(imap_literal_2_64)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_LITERAL_2_64, PREAUTH);
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set;
  ck_assert_int_eq(mail_imap_seqset_new(&set, mail_test_alloc_hooks(&r.ta)), MAIL_OK);
  uint32_t one = 1;
  ck_assert_int_eq(mail_imap_seqset_add(set, &one, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_fetch(im, set, 0, "(BODY.PEEK[])", NULL, NULL), MAIL_ERR_PROTOCOL);
  mail_imap_seqset_free(set);
  imap_end(&r, im, DEFAULT_BOUND, UINT64_MAX);
}
END_TEST

START_TEST(imap_held_literal_too_big)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_LITERAL_HELD, PREAUTH);
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  size_t peak_before = r.ta.peak_bytes;
  ck_assert_int_eq(mail_imap_list(im, "", "*", 0), MAIL_ERR_LIMIT);
  /* Refused when its size was read: nothing near 10 GB, not even one
   * response bound, was allocated for it. */
  ck_assert_msg(r.ta.peak_bytes < peak_before + 64 * 1024, "peak %zu bytes (was %zu)",
                r.ta.peak_bytes, peak_before);
  imap_end(&r, im, DEFAULT_BOUND, 4 * MIB);
}
END_TEST

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  size_t *left = user;
  size_t n = *left < cap ? *left : cap;
  memset(buf, 'm', n);
  *left -= n;
  *got = n;
  return 0;
}

START_TEST(imap_endless_continuations)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_ENDLESS_PLUS, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  size_t left = 10;
  int rc = mail_imap_append(im, "INBOX", NULL, 0, 0, 10, src_read, &left);
  ck_assert_msg(mail_status_is_fatal(rc), "APPEND under endless \"+\": %s", mail_strerror(rc));
  imap_end(&r, im, DEFAULT_BOUND, 4 * MIB);
}
END_TEST

START_TEST(imap_120mib_before_starttls)
{
  hrun r;
  mail_imap *im = imap_start(&r, I_120MIB_CAPA, "* OK hi\r\n");
  ck_assert_int_eq(mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_STARTTLS), MAIL_ERR_LIMIT);
  ck_assert(!r.saw_starttls);
  imap_end(&r, im, DEFAULT_BOUND, 4 * MIB);
}
END_TEST

/* ------------------------------------------------------------ NNTP */

enum { N_ENDLESS_CAPS, N_120MIB_CAPS };

static void nntp_on_line(gen_server *g, const char *line, size_t len)
{
  hrun *r = g->user;
  (void)len;
  if (!strncmp(line, "CAPABILITIES", 12)) {
    gen_say(g, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n");
    if (r->mode == N_ENDLESS_CAPS)
      gen_lines(g, "X-CAP", "", 1, 0, GEN_ENDLESS, NULL);
    else
      gen_lines(g, "X-BIG", "", 1, 994, 120u * MIB / 1000, ".\r\n");
  } else if (!strncmp(line, "STARTTLS", 8)) {
    r->saw_starttls = 1;
    gen_say(g, "580 no\r\n");
  } else {
    gen_say(g, "500 what\r\n");
  }
}

static void nntp_hostile(int mode, int security)
{
  hrun r;
  memset(&r, 0, sizeof r);
  mail_test_alloc_init(&r.ta);
  r.mode = mode;
  gen_server_init(&r.g, nntp_on_line, &r);
  mail_nntp *n;
  ck_assert_int_eq(mail_nntp_new(&n, mail_test_alloc_hooks(&r.ta)), MAIL_OK);
  ck_assert_int_eq(gen_server_attach(&r.g, mail_nntp_conn(n)), MAIL_OK);
  gen_say(&r.g, "200 news.test ready\r\n");
  int rc = mail_nntp_connect(n, "news.test", 119, security);
  ck_assert_msg(rc == MAIL_ERR_LIMIT, "connect: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_nntp_conn(n)));
  ck_assert(!r.saw_starttls);
  end_run(&r, DEFAULT_BOUND, 4 * MIB);
  mail_nntp_free(n);
  ck_assert_uint_eq(r.ta.live, 0);
  mail_test_alloc_cleanup(&r.ta);
}

START_TEST(nntp_endless_capabilities)
{
  nntp_hostile(N_ENDLESS_CAPS, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(nntp_120mib_before_starttls)
{
  nntp_hostile(N_120MIB_CAPS, MAIL_SECURITY_STARTTLS);
}
END_TEST

/* ------------------------------------------------------------ no CRLF */

static void say_nothing(gen_server *g, const char *line, size_t len)
{
  (void)line;
  (void)len;
  gen_say(g, "x");
}

/* The greeting's line never ends: each protocol stops at max_line. */
START_TEST(line_without_crlf)
{
  static const char *const first[] = {"220 ", "+OK ", "* OK ", "200 "};
  hrun r;
  memset(&r, 0, sizeof r);
  mail_test_alloc_init(&r.ta);
  gen_server_init(&r.g, say_nothing, &r);
  gen_say(&r.g, first[_i]);
  gen_endless_line(&r.g);
  int rc = MAIL_ERR_INTERNAL;
  const mail_allocator *a = mail_test_alloc_hooks(&r.ta);
  if (_i == 0) {
    mail_smtp *s;
    ck_assert_int_eq(mail_smtp_new(&s, a), MAIL_OK);
    ck_assert_int_eq(gen_server_attach(&r.g, mail_smtp_conn(s)), MAIL_OK);
    rc = mail_smtp_connect(s, "srv.test", 25, MAIL_SECURITY_NONE_INSECURE);
    mail_smtp_free(s);
  } else if (_i == 1) {
    mail_pop3 *p;
    ck_assert_int_eq(mail_pop3_new(&p, a), MAIL_OK);
    ck_assert_int_eq(gen_server_attach(&r.g, mail_pop3_conn(p)), MAIL_OK);
    rc = mail_pop3_connect(p, "srv.test", 110, MAIL_SECURITY_NONE_INSECURE);
    mail_pop3_free(p);
  } else if (_i == 2) {
    mail_imap *im;
    ck_assert_int_eq(mail_imap_new(&im, a), MAIL_OK);
    ck_assert_int_eq(gen_server_attach(&r.g, mail_imap_conn(im)), MAIL_OK);
    rc = mail_imap_connect(im, "srv.test", 143, MAIL_SECURITY_NONE_INSECURE);
    mail_imap_free(im);
  } else {
    mail_nntp *n;
    ck_assert_int_eq(mail_nntp_new(&n, a), MAIL_OK);
    ck_assert_int_eq(gen_server_attach(&r.g, mail_nntp_conn(n)), MAIL_OK);
    rc = mail_nntp_connect(n, "srv.test", 119, MAIL_SECURITY_NONE_INSECURE);
    mail_nntp_free(n);
  }
  ck_assert_msg(rc == MAIL_ERR_LIMIT, "%s...: %s", first[_i], mail_strerror(rc));
  end_run(&r, DEFAULT_BOUND, 4 * MIB);
  ck_assert_uint_eq(r.ta.live, 0);
  mail_test_alloc_cleanup(&r.ta);
}
END_TEST

/* ------------------------------------------------------------ MIME */

typedef struct mime_seen {
  unsigned long headers, limit_defects, body;
  size_t longest;
} mime_seen;

static int on_header(void *user, mail_mime_part *part, const char *name, size_t nlen,
                     const char *value, size_t vlen)
{
  mime_seen *m = user;
  (void)part;
  (void)name;
  (void)nlen;
  (void)value;
  m->headers++;
  if (vlen > m->longest)
    m->longest = vlen;
  return 0;
}

static int on_defect(void *user, mail_mime_part *part, int kind, uint64_t offset)
{
  mime_seen *m = user;
  (void)part;
  (void)offset;
  m->limit_defects += kind == MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH;
  return 0;
}

static int on_body(void *user, mail_mime_part *part, const void *d, size_t n)
{
  mime_seen *m = user;
  (void)part;
  (void)d;
  m->body += n;
  return 0;
}

/* A 10 MB Subject, folded into 1,000-byte lines and fed 64 KiB at a time. */
START_TEST(mime_10mb_header)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  mime_seen m;
  memset(&m, 0, sizeof m);
  mail_mime_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.version = MAIL_MIME_CALLBACKS_VERSION;
  cb.user = &m;
  cb.header = on_header;
  cb.defect = on_defect;
  cb.body = on_body;
  mail_mime_parser *p;
  ck_assert_int_eq(mail_mime_parser_new(&p, mail_test_alloc_hooks(&ta)), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_set_callbacks(p, &cb), MAIL_OK);
  static char chunk[65536];
  ck_assert_int_eq(mail_mime_parser_feed(p, "From: a@b.test\r\nSubject: x", 26), MAIL_OK);
  size_t fed = 0;
  while (fed < 10u * 1000 * 1000) {
    for (size_t i = 0; i < sizeof chunk; i++)
      chunk[i] = (i % 1000 == 997) ? '\r' : (i % 1000 == 998) ? '\n' : (i % 1000 == 999) ? ' ' : 's';
    ck_assert_int_eq(mail_mime_parser_feed(p, chunk, sizeof chunk), MAIL_OK);
    fed += sizeof chunk;
  }
  ck_assert_int_eq(mail_mime_parser_feed(p, "\r\nTo: c@d.test\r\n\r\nbody\r\n", 24), MAIL_OK);
  ck_assert_int_eq(mail_mime_parser_finish(p), MAIL_OK);
  ck_assert_uint_eq(m.headers, 3);
  ck_assert_uint_ge(m.limit_defects, 1);
  ck_assert_uint_le(m.longest, 1u * MIB); /* max_header_length */
  ck_assert_uint_eq(m.body, 6);
  ck_assert_msg(ta.peak_bytes < 8 * MIB, "peak %zu bytes", ta.peak_bytes);
  mail_mime_parser_free(p);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

int main(void)
{
  Suite *su = suite_create("hostile-sizes");
  TCase *tc = tcase_create("sizes");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, imap_million_untagged);
  tcase_add_test(tc, imap_bodystructure_too_deep);
  tcase_add_test(tc, imap_literal_2_64);
  tcase_add_test(tc, imap_held_literal_too_big);
  tcase_add_test(tc, imap_endless_continuations);
  tcase_add_test(tc, imap_120mib_before_starttls);
  tcase_add_test(tc, nntp_endless_capabilities);
  tcase_add_test(tc, nntp_120mib_before_starttls);
  tcase_add_loop_test(tc, line_without_crlf, 0, 4);
  tcase_add_test(tc, mime_10mb_header);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

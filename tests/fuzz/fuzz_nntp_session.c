/*
 * A whole NNTP session against a server that says the fuzzer's bytes
 * (fuzz_session.h): connect (STARTTLS required, implicit TLS,
 * opportunistic or none, with a fake start_tls; MODE READER on or off),
 * CAPABILITIES, login (AUTO, USER/PASS, SASL), GROUP, LISTGROUP, NEXT,
 * LAST, ARTICLE/HEAD/BODY/STAT by number and message-id, a pipelined
 * batch, OVER (with LIST OVERVIEW.FMT) and HDR with their X- fallbacks,
 * the LIST variants, NEWGROUPS, NEWNEWS, DATE, POST, IHAVE and QUIT.
 *
 * Byte 0: bits 0-1 the security mode, bits 2-3 the login method, bit 4 a
 * pipeline window of 1 and MODE READER off, bit 5 tiny limits, bit 6 an
 * allocation failure (at call byte 1 * 2 + 1), bit 7 non-blocking. Byte
 * 1: chunk sizes. The rest is what the server says.
 *
 * Checked: every call ends with a documented status, body events come in
 * order, every typed result is readable through its accessors, nothing
 * leaks, and no freed block holds the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/nntp.h>

#include "alloc.h"
#include "core/base64.h"

#include "fuzz_session.h"

#define USER "alice"
#define PASSWORD_BASE "Zq8#kL2-nn"

typedef struct body_state {
  int open;
  size_t total;
} body_state;

static int on_body(void *user, uint64_t number, int event, const unsigned char *d, size_t n)
{
  body_state *b = user;
  (void)number;
  switch (event) {
  case MAIL_NNTP_BODY_BEGIN:
    FZ_ASSERT(!b->open && d == NULL);
    b->open = 1;
    break;
  case MAIL_NNTP_BODY_DATA:
    FZ_ASSERT(b->open && d && n);
    b->total += n;
    break;
  case MAIL_NNTP_BODY_END:
    FZ_ASSERT(b->open);
    b->open = 0;
    break;
  default:
    FZ_ASSERT(0);
  }
  return 0;
}

typedef struct article {
  const char *data;
  size_t len, pos;
} article;

static int read_article(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  article *a = user;
  size_t k = a->len - a->pos < cap ? a->len - a->pos : cap;
  memcpy(buf, a->data + a->pos, k);
  a->pos += k;
  *got = k;
  return 0;
}

static void walk_results(mail_nntp *n)
{
  for (size_t i = 0; i < mail_nntp_over_count(n); i++) {
    const mail_nntp_overview *o = mail_nntp_over_at(n, i);
    FZ_ASSERT(o);
    (void)mail_nntp_overview_number(o);
    for (int f = 0; f <= MAIL_NNTP_OVER_LINES; f++) {
      size_t len;
      const char *v = mail_nntp_overview_field(o, f, &len);
      FZ_ASSERT(v && strlen(v) <= len);
    }
    (void)mail_nntp_overview_bytes(o);
    (void)mail_nntp_overview_lines(o);
    for (size_t j = 0; j < mail_nntp_over_extra_count(n) + 1; j++)
      (void)mail_nntp_overview_extra(o, j, NULL);
  }
  for (size_t j = 0; j < mail_nntp_over_extra_count(n); j++)
    FZ_ASSERT(mail_nntp_over_extra_name(n, j));
  for (size_t i = 0; i < mail_nntp_hdr_count(n); i++) {
    uint64_t num;
    size_t len;
    FZ_ASSERT(mail_nntp_hdr_at(n, i, &num, &len));
  }
  for (size_t i = 0; i < mail_nntp_list_count(n); i++) {
    size_t nf = mail_nntp_list_field_count(n, i);
    for (size_t j = 0; j < nf; j++)
      FZ_ASSERT(mail_nntp_list_field(n, i, j, NULL));
    FZ_ASSERT(!mail_nntp_list_field(n, i, nf, NULL));
    uint64_t hi, lo;
    const char *st;
    (void)mail_nntp_list_active_at(n, i, &hi, &lo, &st);
  }
  for (size_t i = 0; i < mail_nntp_listgroup_count(n); i++)
    (void)mail_nntp_listgroup_at(n, i);
  for (size_t i = 0; i < mail_nntp_capability_count(n); i++) {
    FZ_ASSERT(mail_nntp_capability_keyword(n, i));
    for (size_t j = 0; j < mail_nntp_capability_param_count(n, i); j++)
      FZ_ASSERT(mail_nntp_capability_param(n, i, j));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  unsigned sel = data[0], seed = data[1];
  fz_server srv = {data + 2, size - 2, 0, 0, seed, (sel & 0x80) != 0, 0, 1, 0, 0, 0};
  int nb = srv.nonblocking;

  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  fz_secrets sec;
  fz_pick_secrets(data, size, USER, PASSWORD_BASE, &sec);
  fz_forbid_secrets(&ta, &sec);
  if (sel & 0x40)
    mail_test_alloc_fail_at(&ta, 1u + seed * 2, 0);
  const mail_allocator *A = mail_test_alloc_hooks(&ta);

  mail_nntp *n = NULL;
  int rc = mail_nntp_new(&n, A);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM);
    goto done;
  }
  mail_conn *conn = mail_nntp_conn(n);
  FZ_ASSERT(mail_conn_set_transport(conn, &fz_server_ops, &srv) == MAIL_OK);
  mail_conn_set_nonblocking(conn, nb);
  if (sel & 0x20) {
    mail_limits lim;
    mail_limits_default(&lim);
    lim.max_line = 100;
    lim.max_response = 400;
    lim.max_items = 5;
    mail_conn_set_limits(conn, &lim);
  }
  mail_nntp_set_auth(n, USER, sec.password);
  mail_nntp_set_auth_method(n, (int)((sel >> 2) & 3) % 3);
  mail_sasl_set_scram_iterations(mail_nntp_sasl(n), 1, 64);
  mail_sasl_set_allow_insecure_plaintext(mail_nntp_sasl(n), (seed & 2) != 0);
  if (sel & 0x10) {
    mail_nntp_set_pipeline_window(n, 1);
    mail_nntp_set_mode_reader(n, 0);
  }

  FZ_CALL(&srv, rc, mail_nntp_connect(n, "news.test", 119, (int)(sel & 3)));
  (void)mail_nntp_greeting(n);
  (void)mail_nntp_posting_allowed(n);
  FZ_CALL(&srv, rc, mail_nntp_auth(n));
  (void)mail_nntp_state_name(n);
  (void)mail_nntp_is_authenticated(n);

  uint64_t count, low, high, num;
  FZ_CALL(&srv, rc, mail_nntp_group(n, "misc.test", &count, &low, &high));
  (void)mail_nntp_current_group(n);
  FZ_CALL(&srv, rc, mail_nntp_listgroup(n, NULL, 2, 0));
  FZ_CALL(&srv, rc, mail_nntp_next(n, &num));
  FZ_CALL(&srv, rc, mail_nntp_last(n, &num));
  (void)mail_nntp_current_article(n, &num);
  body_state b = {0, 0};
  for (int part = MAIL_NNTP_ARTICLE; part <= MAIL_NNTP_STAT; part++) {
    FZ_CALL(&srv, rc, mail_nntp_article(n, part, (uint64_t)part, on_body, &b));
    b.open = 0;
  }
  FZ_CALL(&srv, rc, mail_nntp_article_by_id(n, MAIL_NNTP_ARTICLE, "<a@b>", on_body, &b));
  b.open = 0;
  uint64_t nums[] = {1, 2, 3};
  FZ_CALL(&srv, rc, mail_nntp_article_many(n, MAIL_NNTP_HEAD, nums, 3, on_body, &b));
  for (size_t i = 0; i < 3; i++) {
    int st = mail_nntp_batch_status(n, i);
    FZ_ASSERT(st <= 0 && st > MAIL_ERR_INTERNAL);
  }
  b.open = 0;
  FZ_CALL(&srv, rc, mail_nntp_over(n, 1, 0));
  walk_results(n);
  FZ_CALL(&srv, rc, mail_nntp_over_by_id(n, "<a@b>"));
  FZ_CALL(&srv, rc, mail_nntp_hdr(n, "Subject", 1, 3));
  FZ_CALL(&srv, rc, mail_nntp_hdr_by_id(n, ":bytes", "<a@b>"));
  walk_results(n);
  for (int k = MAIL_NNTP_LIST_ACTIVE; k <= MAIL_NNTP_LIST_DISTRIB_PATS; k++) {
    FZ_CALL(&srv, rc, mail_nntp_list(n, k, k == MAIL_NNTP_LIST_ACTIVE ? "misc.*" : NULL));
    walk_results(n);
  }
  FZ_CALL(&srv, rc, mail_nntp_newgroups(n, 1577836800));
  FZ_CALL(&srv, rc, mail_nntp_newnews(n, "*", 1577836800));
  walk_results(n);
  int64_t t;
  FZ_CALL(&srv, rc, mail_nntp_date(n, &t));
  FZ_CALL(&srv, rc, mail_nntp_capabilities(n));
  walk_results(n);
  static const char art[] = "From: a@b\nNewsgroups: misc.test\nSubject: s\n\n.dot\nbody\n";
  article a = {art, sizeof art - 1, 0};
  FZ_CALL(&srv, rc, mail_nntp_post(n, read_article, &a));
  article a2 = {art, sizeof art - 1, 0};
  FZ_CALL(&srv, rc, mail_nntp_ihave(n, "<i@b>", read_article, &a2));
  (void)mail_nntp_last_reply(n);
  (void)mail_nntp_last_reply_command(n);
  FZ_CALL(&srv, rc, mail_nntp_quit(n));
  mail_nntp_free(n);
done:
  if (ta.forbidden_hits) {
    fprintf(stderr, "secret freed unwiped: %s\n", ta.first_hit);
    abort();
  }
  FZ_ASSERT(ta.live == 0);
  mail_test_alloc_cleanup(&ta);
  return 0;
}

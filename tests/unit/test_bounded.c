/*
 * Hostile servers against the limits, per protocol, through the generating
 * scripted server (tests/support/genserver): endless continuation lines, a
 * million-line reply, a 120 MiB reply before STARTTLS/STLS and a
 * 100,000-entry capability list each end with MAIL_ERR_LIMIT, while the
 * tracking allocator's high-water mark stays under twice the response
 * bound; limits set after the session is made take effect; results that
 * grow with the mailbox (a 100,000-message UIDL and LIST) succeed under the
 * default limits. The huge replies are generated as they are read, so the
 * client's early stop is what keeps these tests fast.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <mail/pop3.h>
#include <mail/smtp.h>

#include "../support/alloc.h"
#include "../support/genserver.h"

#define MIB (1024u * 1024u)
#define DEFAULT_BOUND MIB /* mail_limits' default max_response */

/* ------------------------------------------------------------------ SMTP */

/* What the SMTP server does with EHLO (and with NOOP, later). */
enum { EHLO_SMALL, EHLO_ENDLESS, EHLO_ENDLESS_EMPTY, EHLO_MILLION, EHLO_120MIB, EHLO_100K,
       EHLO_200 };

typedef struct smtp_script {
  int ehlo;
  int noop;   /* like ehlo, for the reply to NOOP */
  int greeting_endless;
  int saw_starttls;
  int big_final; /* the reply after the data: 64 lines of 1,000 bytes */
} smtp_script;

static void reply_kind(gen_server *g, int kind, const char *code)
{
  static char first[16], prefix[16], last[32];
  snprintf(first, sizeof first, "%s-srv.test\r\n", code);
  snprintf(prefix, sizeof prefix, "%s-", code);
  snprintf(last, sizeof last, "%s DONE\r\n", code);
  switch (kind) {
  case EHLO_SMALL:
    gen_say(g, "250-srv.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
    return;
  case EHLO_ENDLESS: /* "250-K0", "250-K1", ... for ever */
    gen_say(g, first);
    gen_lines(g, prefix, "K", 1, 0, GEN_ENDLESS, NULL);
    return;
  case EHLO_ENDLESS_EMPTY: /* "250-" for ever: lines that name nothing */
    gen_say(g, first);
    gen_lines(g, prefix, "", 0, 0, GEN_ENDLESS, NULL);
    return;
  case EHLO_MILLION:
    gen_say(g, first);
    gen_lines(g, prefix, "X", 1, 0, 1000000, last);
    return;
  case EHLO_120MIB: /* 120 MiB of 1,000-byte lines */
    gen_say(g, first);
    gen_lines(g, prefix, "SIZE", 1, 994, 120u * MIB / 1000, last);
    return;
  case EHLO_100K:
    gen_say(g, first);
    gen_lines(g, prefix, "CAP", 1, 0, 100000, last);
    return;
  case EHLO_200:
    gen_say(g, first);
    gen_lines(g, prefix, "C", 1, 0, 200, last);
    return;
  }
}

static void smtp_on_line(gen_server *g, const char *line, size_t len)
{
  smtp_script *sc = g->user;
  (void)len;
  if (!strncmp(line, "EHLO", 4)) {
    reply_kind(g, sc->ehlo, "250");
  } else if (!strncmp(line, "NOOP", 4)) {
    reply_kind(g, sc->noop, "250");
  } else if (!strncmp(line, "STARTTLS", 8)) {
    sc->saw_starttls = 1;
    gen_say(g, "454 not now\r\n");
  } else if (!strncmp(line, "DATA", 4)) {
    gen_say(g, "354 go\r\n");
    gen_data_mode(g);
  } else if (!strncmp(line, "QUIT", 4)) {
    gen_say(g, "221 bye\r\n");
  } else if (!strcmp(line, ".") && sc->big_final) {
    gen_say(g, "250-queued\r\n");
    gen_lines(g, "250-", "Q", 1, 996, 64, "250 2.0.0 ok\r\n");
  } else {
    gen_say(g, "250 ok\r\n");
  }
}

typedef struct smtp_run {
  mail_test_alloc ta;
  gen_server g;
  smtp_script sc;
  mail_smtp *s;
} smtp_run;

static void smtp_start(smtp_run *r, int ehlo)
{
  mail_test_alloc_init(&r->ta);
  memset(&r->sc, 0, sizeof r->sc);
  r->sc.ehlo = ehlo;
  gen_server_init(&r->g, smtp_on_line, &r->sc);
  ck_assert_int_eq(mail_smtp_new(&r->s, mail_test_alloc_hooks(&r->ta)), MAIL_OK);
  ck_assert_int_eq(gen_server_attach(&r->g, mail_smtp_conn(r->s)), MAIL_OK);
  mail_smtp_set_client_name(r->s, "client.test");
}

static int smtp_connect(smtp_run *r, int security)
{
  if (r->sc.greeting_endless) {
    gen_say(&r->g, "220-srv.test\r\n");
    gen_lines(&r->g, "220-", "", 0, 0, GEN_ENDLESS, NULL);
  } else {
    gen_say(&r->g, "220 srv.test ESMTP\r\n");
  }
  return mail_smtp_connect(r->s, "srv.test", 25, security);
}

static void smtp_end(smtp_run *r, size_t bound)
{
  ck_assert(!r->g.overflow);
  ck_assert_msg(r->ta.peak_bytes < 2 * bound, "peak %zu bytes for a %zu-byte bound",
                r->ta.peak_bytes, bound);
  mail_smtp_free(r->s);
  ck_assert_uint_eq(r->ta.live, 0);
}

/* The client stopped reading long before the server's end. */
static void stopped_early(const smtp_run *r, uint64_t most)
{
  ck_assert_msg(r->g.bytes_sent < most, "the client read %llu bytes",
                (unsigned long long)r->g.bytes_sent);
}

/* A hostile EHLO (or greeting): the connect ends with MAIL_ERR_LIMIT under
 * the default limits, within twice the bound, and the client stops early. */
static void smtp_hostile(int ehlo, int greeting_endless, int security)
{
  smtp_run r;
  smtp_start(&r, ehlo);
  r.sc.greeting_endless = greeting_endless;
  ck_assert_int_eq(smtp_connect(&r, security), MAIL_ERR_LIMIT);
  ck_assert(!r.sc.saw_starttls);
  stopped_early(&r, 4 * MIB);
  smtp_end(&r, DEFAULT_BOUND);
}

START_TEST(smtp_endless_continuation)
{
  smtp_hostile(EHLO_ENDLESS, 0, MAIL_SECURITY_NONE_INSECURE);
  /* Lines that name no capability are skipped, but still counted. */
  smtp_hostile(EHLO_ENDLESS_EMPTY, 0, MAIL_SECURITY_NONE_INSECURE);
  /* A greeting that never ends. */
  smtp_hostile(EHLO_SMALL, 1, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(smtp_million_lines)
{
  smtp_hostile(EHLO_MILLION, 0, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(smtp_120mib_before_starttls)
{
  smtp_hostile(EHLO_120MIB, 0, MAIL_SECURITY_STARTTLS);
}
END_TEST

START_TEST(smtp_100k_capabilities)
{
  smtp_run r;
  smtp_start(&r, EHLO_100K);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_ERR_LIMIT);
  smtp_end(&r, DEFAULT_BOUND);

  /* Configurable upward: with room for them the list is taken. */
  smtp_start(&r, EHLO_100K);
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_lines = 200000;
  l.max_response = 8 * MIB;
  ck_assert_int_eq(mail_conn_set_limits(mail_smtp_conn(r.s), &l), MAIL_OK);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_caps_count(mail_smtp_capabilities(r.s)), 100001);
  ck_assert(mail_smtp_has_capability(r.s, "CAP99999"));
  smtp_end(&r, 8 * MIB);
}
END_TEST

START_TEST(smtp_limits_after_new)
{
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_lines = 100;

  /* Set after mail_smtp_new, before connecting: EHLO of 200 lines fails. */
  smtp_run r;
  smtp_start(&r, EHLO_200);
  ck_assert_int_eq(mail_conn_set_limits(mail_smtp_conn(r.s), &l), MAIL_OK);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_ERR_LIMIT);
  smtp_end(&r, DEFAULT_BOUND);

  /* Set on a connected session: the next reply follows them. */
  smtp_start(&r, EHLO_200);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_caps_count(mail_smtp_capabilities(r.s)), 201);
  r.sc.noop = EHLO_200;
  ck_assert_int_eq(mail_conn_set_limits(mail_smtp_conn(r.s), &l), MAIL_OK);
  ck_assert_int_eq(mail_smtp_noop(r.s), MAIL_ERR_LIMIT);
  smtp_end(&r, DEFAULT_BOUND);

  /* A smaller byte bound on a connected session: a 120 MiB NOOP reply
   * ends within twice 64 KiB. */
  smtp_start(&r, EHLO_SMALL);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_response = 64 * 1024;
  l.max_line = 4096;
  ck_assert_int_eq(mail_conn_set_limits(mail_smtp_conn(r.s), &l), MAIL_OK);
  r.ta.peak_bytes = r.ta.live_bytes;
  size_t before = r.ta.live_bytes;
  r.sc.noop = EHLO_120MIB;
  ck_assert_int_eq(mail_smtp_noop(r.s), MAIL_ERR_LIMIT);
  ck_assert_msg(r.ta.peak_bytes - before < 2 * 64 * 1024, "NOOP reply cost %zu bytes",
                r.ta.peak_bytes - before);
  stopped_early(&r, 1 * MIB);
  smtp_end(&r, DEFAULT_BOUND);
}
END_TEST

START_TEST(smtp_huge_reply_to_a_command)
{
  /* Not a capability list: the reply itself is held, within its bound. */
  smtp_run r;
  smtp_start(&r, EHLO_SMALL);
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  r.sc.noop = EHLO_120MIB;
  ck_assert_int_eq(mail_smtp_noop(r.s), MAIL_ERR_LIMIT);
  stopped_early(&r, 4 * MIB);
  smtp_end(&r, DEFAULT_BOUND);
}
END_TEST

START_TEST(smtp_final_reply_held_once)
{
  /* The reply after the data answers every recipient: its text is kept
   * once for all of them, not once each (64 KiB x 1,000 would be 64 MiB). */
  smtp_run r;
  smtp_start(&r, EHLO_SMALL);
  r.sc.big_final = 1;
  ck_assert_int_eq(smtp_connect(&r, MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE), MAIL_OK);
  mail_smtp_envelope *e;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, mail_test_alloc_hooks(&r.ta)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, "a@example.org"), MAIL_OK);
  for (int i = 0; i < 1000; i++) {
    char addr[64];
    snprintf(addr, sizeof addr, "r%d@example.org", i);
    ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, addr, NULL), MAIL_OK);
  }
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, "Subject: x\r\n\r\nhi\r\n", 19), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send(r.s, e), MAIL_OK);
  const char *t0 = mail_smtp_envelope_recipient_text(e, 0);
  ck_assert_uint_gt(strlen(t0), 63000);
  ck_assert_ptr_eq(mail_smtp_envelope_recipient_text(e, 999), t0);
  ck_assert_msg(r.ta.peak_bytes < 2 * MIB, "peak %zu", r.ta.peak_bytes);
  mail_smtp_envelope_free(e);
  smtp_end(&r, DEFAULT_BOUND);
}
END_TEST

/* ------------------------------------------------------------------ POP3 */

enum { CAPA_SMALL, CAPA_ENDLESS, CAPA_ENDLESS_BLANK, CAPA_MILLION, CAPA_120MIB, CAPA_100K,
       CAPA_200 };

typedef struct pop3_script {
  int capa;
  uint64_t messages; /* for UIDL and LIST */
  int saw_stls;
} pop3_script;

static void pop3_on_line(gen_server *g, const char *line, size_t len)
{
  pop3_script *sc = g->user;
  (void)len;
  if (!strncmp(line, "CAPA", 4)) {
    gen_say(g, "+OK\r\n");
    switch (sc->capa) {
    case CAPA_SMALL:
      gen_say(g, "USER\r\nUIDL\r\nPIPELINING\r\nSTLS\r\n.\r\n");
      break;
    case CAPA_ENDLESS:
      gen_lines(g, "", "K", 1, 0, GEN_ENDLESS, NULL);
      break;
    case CAPA_ENDLESS_BLANK:
      gen_lines(g, "", "", 0, 0, GEN_ENDLESS, NULL);
      break;
    case CAPA_MILLION:
      gen_lines(g, "", "X", 1, 0, 1000000, ".\r\n");
      break;
    case CAPA_120MIB:
      gen_lines(g, "", "IMPLEMENTATION", 1, 998, 120u * MIB / 1000, ".\r\n");
      break;
    case CAPA_100K:
      gen_lines(g, "", "CAP", 1, 0, 100000, ".\r\n");
      break;
    case CAPA_200:
      gen_lines(g, "", "C", 1, 0, 200, ".\r\n");
      break;
    }
  } else if (!strncmp(line, "STLS", 4)) {
    sc->saw_stls = 1;
    gen_say(g, "-ERR not now\r\n");
  } else if (!strncmp(line, "UIDL", 4)) {
    gen_say(g, "+OK\r\n");
    gen_listing(g, 24, sc->messages);
  } else if (!strncmp(line, "LIST", 4)) {
    gen_say(g, "+OK\r\n");
    gen_listing(g, 0, sc->messages);
  } else if (!strncmp(line, "RETR", 4)) {
    gen_say(g, "+OK\r\nx\r\n.\r\n"); /* short: the client sends the batch before reading */
  } else {
    gen_say(g, "+OK\r\n");
  }
}

typedef struct pop3_run {
  mail_test_alloc ta;
  gen_server g;
  pop3_script sc;
  mail_pop3 *p;
} pop3_run;

static void pop3_start(pop3_run *r, int capa)
{
  mail_test_alloc_init(&r->ta);
  memset(&r->sc, 0, sizeof r->sc);
  r->sc.capa = capa;
  gen_server_init(&r->g, pop3_on_line, &r->sc);
  ck_assert_int_eq(mail_pop3_new(&r->p, mail_test_alloc_hooks(&r->ta)), MAIL_OK);
  ck_assert_int_eq(gen_server_attach(&r->g, mail_pop3_conn(r->p)), MAIL_OK);
}

static int pop3_connect(pop3_run *r, int security)
{
  gen_say(&r->g, "+OK ready\r\n");
  return mail_pop3_connect(r->p, "pop.test", 110, security);
}

static void pop3_end(pop3_run *r, size_t bound)
{
  ck_assert(!r->g.overflow);
  ck_assert_msg(r->ta.peak_bytes < 2 * bound, "peak %zu bytes for a %zu-byte bound",
                r->ta.peak_bytes, bound);
  mail_pop3_free(r->p);
  ck_assert_uint_eq(r->ta.live, 0);
}

/* A hostile CAPA: as smtp_hostile(). */
static void pop3_hostile(int capa, int security)
{
  pop3_run r;
  pop3_start(&r, capa);
  ck_assert_int_eq(pop3_connect(&r, security), MAIL_ERR_LIMIT);
  ck_assert(!r.sc.saw_stls);
  ck_assert(r.g.bytes_sent < 4 * MIB);
  pop3_end(&r, DEFAULT_BOUND);
}

START_TEST(pop3_endless_capa)
{
  pop3_hostile(CAPA_ENDLESS, MAIL_SECURITY_NONE_INSECURE);
  pop3_hostile(CAPA_ENDLESS_BLANK, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(pop3_million_line_capa)
{
  pop3_hostile(CAPA_MILLION, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(pop3_120mib_before_stls)
{
  pop3_hostile(CAPA_120MIB, MAIL_SECURITY_STARTTLS);
}
END_TEST

START_TEST(pop3_100k_capabilities)
{
  pop3_hostile(CAPA_100K, MAIL_SECURITY_NONE_INSECURE);
}
END_TEST

START_TEST(pop3_limits_after_new)
{
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_lines = 100;
  pop3_run r;
  pop3_start(&r, CAPA_200);
  ck_assert_int_eq(mail_conn_set_limits(mail_pop3_conn(r.p), &l), MAIL_OK);
  ck_assert_int_eq(pop3_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_ERR_LIMIT);
  pop3_end(&r, DEFAULT_BOUND);

  /* Raised: the same list is taken. */
  l.max_lines = 1000;
  pop3_start(&r, CAPA_200);
  ck_assert_int_eq(mail_conn_set_limits(mail_pop3_conn(r.p), &l), MAIL_OK);
  ck_assert_int_eq(pop3_connect(&r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_caps_count(mail_pop3_capabilities(r.p)), 200);
  pop3_end(&r, DEFAULT_BOUND);
}
END_TEST

static void pop3_login(pop3_run *r)
{
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(r->p), 1);
  ck_assert_int_eq(mail_pop3_set_auth_method(r->p, MAIL_POP3_AUTH_USER), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_auth(r->p, "u", "pw"), MAIL_OK);
  ck_assert_int_eq(pop3_connect(r, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  ck_assert_int_eq(mail_pop3_auth(r->p), MAIL_OK);
}

START_TEST(pop3_uidl_100k_messages)
{
  /* A result that grows with the mailbox: not under the reply bound. */
  pop3_run r;
  pop3_start(&r, CAPA_SMALL);
  r.sc.messages = 100000;
  pop3_login(&r);
  ck_assert_int_eq(mail_pop3_uidl(r.p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_uidl_count(r.p), 100000);
  uint32_t msg;
  const char *uid;
  ck_assert_int_eq(mail_pop3_uidl_at(r.p, 99999, &msg, &uid), MAIL_OK);
  ck_assert_uint_eq(msg, 100000);
  ck_assert_str_eq(uid, "uid100000xxxxxxxx"); /* the line padded to 24 bytes */
  ck_assert_int_eq(mail_pop3_list(r.p), MAIL_OK);
  ck_assert_uint_eq(mail_pop3_list_count(r.p), 100000);
  mail_pop3_free(r.p);
  ck_assert_uint_eq(r.ta.live, 0);
}
END_TEST

START_TEST(pop3_batch_within_max_output)
{
  /* 3,000 pipelined RETRs with a window of 4,096 and a 16 KiB output
   * bound: the batch waits for room instead of overflowing the queue. */
  pop3_run r;
  pop3_start(&r, CAPA_SMALL);
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  l.max_output = 16 * 1024;
  ck_assert_int_eq(mail_conn_set_limits(mail_pop3_conn(r.p), &l), MAIL_OK);
  ck_assert_int_eq(mail_pop3_set_pipeline_window(r.p, 4096), MAIL_OK);
  pop3_login(&r);
  static uint32_t msgs[3000];
  for (uint32_t i = 0; i < 3000; i++)
    msgs[i] = i + 1;
  int rc = mail_pop3_retr_many(r.p, msgs, 3000, NULL, NULL);
  ck_assert_msg(rc == MAIL_OK, "%s: %s (overflow %d, lines %llu)", mail_strerror(rc),
                mail_conn_last_error(mail_pop3_conn(r.p)), r.g.overflow,
                (unsigned long long)r.g.lines_seen);
  ck_assert_int_eq(mail_pop3_batch_status(r.p, 2999), MAIL_OK);
  pop3_end(&r, DEFAULT_BOUND);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("bounded");
  TCase *t = tcase_create("smtp");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, smtp_endless_continuation);
  tcase_add_test(t, smtp_million_lines);
  tcase_add_test(t, smtp_120mib_before_starttls);
  tcase_add_test(t, smtp_100k_capabilities);
  tcase_add_test(t, smtp_limits_after_new);
  tcase_add_test(t, smtp_huge_reply_to_a_command);
  tcase_add_test(t, smtp_final_reply_held_once);
  suite_add_tcase(s, t);
  t = tcase_create("pop3");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, pop3_endless_capa);
  tcase_add_test(t, pop3_million_line_capa);
  tcase_add_test(t, pop3_120mib_before_stls);
  tcase_add_test(t, pop3_100k_capabilities);
  tcase_add_test(t, pop3_limits_after_new);
  tcase_add_test(t, pop3_uidl_100k_messages);
  tcase_add_test(t, pop3_batch_within_max_output);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *r = srunner_create(suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? 1 : 0;
}

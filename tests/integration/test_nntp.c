/* NNTP against the real INN of tests/servers: STARTTLS on the reader port
 * and implicit TLS (NNTPS), AUTHINFO USER/PASS good and bad, articles
 * posted through the library (a read callback and the MIME builder) read
 * back through OVER, HDR and ARTICLE byte for byte, the empty group's
 * empty ranges, LIST, NEWNEWS, DATE, LISTGROUP, a pipelined batch and the
 * event-loop mode. Every test posts under its own message-id and subject
 * (server state is kept across runs). */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mail/mail.h>

#include "servers_env.h"

static const char *env(const char *key)
{
  const char *v = mail_test_env(key);
  ck_assert_msg(v != NULL, "servers.env has no %s (servers.sh without INN?)", key);
  return v;
}

static unsigned int port_of(const char *key)
{
  return (unsigned int)atol(env(key));
}

/* Unique per run and call: pid, time, a counter. */
static void unique(char *out, size_t cap, const char *what)
{
  static unsigned counter;
  snprintf(out, cap, "%s.%ld.%ld.%u", what, (long)getpid(), (long)time(NULL), ++counter);
}

static mail_nntp *session(int implicit, const char *ca)
{
  mail_nntp *n = NULL;
  ck_assert_int_eq(mail_nntp_new(&n, NULL), MAIL_OK);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, ca ? ca : env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(mail_nntp_conn(n), cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(mail_nntp_conn(n), MAIL_TIMEOUT_IO, 20000);
  (void)implicit;
  return n;
}

static mail_nntp *connected(int implicit)
{
  mail_nntp *n = session(implicit, NULL);
  unsigned int port = port_of(implicit ? "MAIL_TEST_NNTPS_PORT" : "MAIL_TEST_NNTP_PORT");
  int rc = mail_nntp_connect(n, "localhost", port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect :%u: %s (%s)", port, mail_strerror(rc),
                mail_conn_last_error(mail_nntp_conn(n)));
  ck_assert(mail_conn_is_verified(mail_nntp_conn(n)));
  ck_assert(mail_nntp_caps_known(n));
  ck_assert(mail_nntp_has_capability(n, "READER"));
  ck_assert(!mail_nntp_has_capability(n, "STARTTLS")); /* the list read over TLS */
  return n;
}

static mail_nntp *logged_in(int implicit)
{
  mail_nntp *n = connected(implicit);
  ck_assert_int_eq(mail_nntp_set_auth(n, env("MAIL_TEST_NNTP_USER"), env("MAIL_TEST_NNTP_PASS")),
                   MAIL_OK);
  int rc = mail_nntp_auth(n);
  ck_assert_msg(rc == MAIL_OK, "auth: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_nntp_conn(n)));
  ck_assert(mail_nntp_posting_allowed(n));
  return n;
}

typedef struct src {
  const char *data;
  size_t len, pos;
} src;

static int read_src(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t k = s->len - s->pos < cap ? s->len - s->pos : cap;
  if (k > 1000)
    k = 1000; /* several reads */
  memcpy(buf, s->data + s->pos, k);
  s->pos += k;
  *got = k;
  return 0;
}

typedef struct sink {
  char data[1 << 16];
  size_t len;
  int begins, ends;
} sink;

static int to_sink(void *user, uint64_t number, int event, const unsigned char *d, size_t n)
{
  sink *s = user;
  (void)number;
  if (event == MAIL_NNTP_BODY_BEGIN)
    s->begins++;
  else if (event == MAIL_NNTP_BODY_END)
    s->ends++;
  else {
    ck_assert_uint_le(s->len + n, sizeof s->data);
    memcpy(s->data + s->len, d, n);
    s->len += n;
  }
  return 0;
}

/* The article number of msgid in the group, found through OVER of the
 * group's range (a new GROUP: INN shows a post to a session that selects
 * the group again), 50 articles at a time from the newest down: other
 * tests post to the same group meanwhile, however many. */
static uint64_t find_by_over(mail_nntp *n, const char *group, const char *msgid,
                             const mail_nntp_overview **rec)
{
  uint64_t count, low, high;
  ck_assert_int_eq(mail_nntp_group(n, group, &count, &low, &high), MAIL_OK);
  ck_assert_uint_ge(high, 1);
  if (low < 1)
    low = 1;
  for (uint64_t to = high; to >= low;) {
    uint64_t from = to - low >= 49 ? to - 49 : low;
    int rc = mail_nntp_over(n, from, to);
    ck_assert_msg(rc == MAIL_OK, "OVER: %s (%s)", mail_strerror(rc),
                  mail_conn_last_error(mail_nntp_conn(n)));
    for (size_t i = 0; i < mail_nntp_over_count(n); i++) {
      const mail_nntp_overview *o = mail_nntp_over_at(n, i);
      if (!strcmp(mail_nntp_overview_field(o, MAIL_NNTP_OVER_MESSAGE_ID, NULL), msgid)) {
        *rec = o;
        return mail_nntp_overview_number(o);
      }
    }
    if (from == low)
      break;
    to = from - 1;
  }
  ck_abort_msg("%s not in the OVER of %s", msgid, group);
  return 0;
}

/* Post through a read callback; read back through OVER, HDR and ARTICLE:
 * our header lines and the body byte for byte (INN adds Path, Date,
 * Injection-*, Xref), dot-stuffed lines included. */
START_TEST(test_post_and_read_back)
{
  const char *group = env("MAIL_TEST_NNTP_GROUP");
  mail_nntp *n = logged_in(0);
  char id[96], subject[128], msgid[160], head[1024], art[4096];
  unique(id, sizeof id, "post");
  snprintf(msgid, sizeof msgid, "<%s@libmail.test>", id);
  snprintf(subject, sizeof subject, "libmail test %s", id);
  snprintf(head, sizeof head,
           "From: Alice <alice@libmail.test>\r\nNewsgroups: %s\r\nSubject: %s\r\n"
           "Message-ID: %s\r\nUser-Agent: libmail tests\r\n",
           group, subject, msgid);
  static const char body[] = "first line\r\n.starts with a dot\r\n..two dots\r\n.\r\n"
                             "tab\there\r\n\r\nlast line\r\n";
  snprintf(art, sizeof art, "%s\r\n%s", head, body);
  src s = {art, strlen(art), 0};
  int rc = mail_nntp_post(n, read_src, &s);
  ck_assert_msg(rc == MAIL_OK, "POST: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_nntp_conn(n)));
  ck_assert_int_eq(mail_nntp_reply_code(mail_nntp_last_reply(n)), 240);

  const mail_nntp_overview *o = NULL;
  uint64_t num = find_by_over(n, group, msgid, &o);
  size_t len;
  ck_assert_str_eq(mail_nntp_overview_field(o, MAIL_NNTP_OVER_SUBJECT, &len), subject);
  ck_assert_str_eq(mail_nntp_overview_field(o, MAIL_NNTP_OVER_FROM, NULL),
                   "Alice <alice@libmail.test>");
  ck_assert_str_eq(mail_nntp_overview_field(o, MAIL_NNTP_OVER_REFERENCES, NULL), "");
  ck_assert_uint_eq(mail_nntp_overview_lines(o), 7);
  ck_assert_uint_gt(mail_nntp_overview_bytes(o), strlen(art));
  ck_assert_str_eq(mail_nntp_over_extra_name(n, 0), "Xref");
  char xref[256];
  snprintf(xref, sizeof xref, ":%llu", (unsigned long long)num);
  ck_assert_ptr_nonnull(strstr(mail_nntp_overview_extra(o, 0, NULL), xref));

  ck_assert_int_eq(mail_nntp_hdr(n, "Subject", num, num), MAIL_OK);
  ck_assert_uint_eq(mail_nntp_hdr_count(n), 1);
  uint64_t hnum;
  ck_assert_str_eq(mail_nntp_hdr_at(n, 0, &hnum, NULL), subject);
  ck_assert_uint_eq(hnum, num);
  ck_assert_int_eq(mail_nntp_hdr_by_id(n, "Message-ID", msgid), MAIL_OK);
  ck_assert_str_eq(mail_nntp_hdr_at(n, 0, NULL, NULL), msgid);

  static sink k;
  memset(&k, 0, sizeof k);
  ck_assert_int_eq(mail_nntp_article(n, MAIL_NNTP_ARTICLE, num, to_sink, &k), MAIL_OK);
  ck_assert_int_eq(k.begins, 1);
  ck_assert_int_eq(k.ends, 1);
  k.data[k.len] = '\0';
  uint64_t cur;
  ck_assert_str_eq(mail_nntp_current_article(n, &cur), msgid);
  ck_assert_uint_eq(cur, num);
  /* Each of our header lines, byte for byte, and the body exactly. */
  const char *sep = strstr(k.data, "\r\n\r\n");
  ck_assert_ptr_nonnull(sep);
  ck_assert_str_eq(sep + 4, body);
  for (const char *line = head; *line;) {
    const char *e = strstr(line, "\r\n") + 2;
    char one[512];
    snprintf(one, sizeof one, "%.*s", (int)(e - line), line);
    ck_assert_msg(memmem(k.data, (size_t)(sep + 2 - k.data), one, strlen(one)) != NULL,
                  "header line missing: %s", one);
    line = e;
  }
  /* BODY by message-id gives the same body; STAT finds it. */
  memset(&k, 0, sizeof k);
  ck_assert_int_eq(mail_nntp_article_by_id(n, MAIL_NNTP_BODY, msgid, to_sink, &k), MAIL_OK);
  ck_assert_uint_eq(k.len, strlen(body));
  ck_assert_int_eq(memcmp(k.data, body, k.len), 0);
  ck_assert_int_eq(mail_nntp_article_by_id(n, MAIL_NNTP_STAT, msgid, NULL, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_listgroup(n, group, num, num), MAIL_OK);
  ck_assert_uint_eq(mail_nntp_listgroup_count(n), 1);
  ck_assert_uint_eq(mail_nntp_listgroup_at(n, 0), num);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);
}
END_TEST

/* COMPRESS DEFLATE over STARTTLS after login: a post of compressible text
 * and its OVER and ARTICLE read back through the compression layer, the
 * wire carrying less than the protocol did; a second COMPRESS refused
 * before it reaches the server. */
START_TEST(test_compress)
{
  const char *group = env("MAIL_TEST_NNTP_GROUP");
  mail_nntp *n = logged_in(0);
  mail_conn *c = mail_nntp_conn(n);
  /* Debian's INN 2.7 is built with zlib and offers it after login. */
  ck_assert(mail_nntp_has_capability_arg(n, "COMPRESS", "DEFLATE"));
  int rc = mail_nntp_compress(n);
  ck_assert_msg(rc == MAIL_OK, "COMPRESS: %s (%s)", mail_strerror(rc), mail_conn_last_error(c));
  ck_assert(mail_conn_is_compressed(c));
  ck_assert_int_eq(mail_nntp_compress(n), MAIL_ERR_STATE);
  char id[96], msgid[160];
  unique(id, sizeof id, "compress");
  snprintf(msgid, sizeof msgid, "<%s@libmail.test>", id);
  static char art[16384];
  size_t len = (size_t)snprintf(art, sizeof art,
                                "From: Alice <alice@libmail.test>\r\nNewsgroups: %s\r\n"
                                "Subject: compressed %s\r\nMessage-ID: %s\r\n\r\n",
                                group, id, msgid);
  size_t body_at = len;
  for (int i = 0; len + 80 < sizeof art; i++)
    len += (size_t)snprintf(art + len, sizeof art - len, "line %d: the same words again and again\r\n", i);
  src s = {art, len, 0};
  rc = mail_nntp_post(n, read_src, &s);
  ck_assert_msg(rc == MAIL_OK, "POST: %s (%s)", mail_strerror(rc), mail_conn_last_error(c));
  const mail_nntp_overview *o = NULL;
  uint64_t num = find_by_over(n, group, msgid, &o);
  static sink k;
  memset(&k, 0, sizeof k);
  ck_assert_int_eq(mail_nntp_article(n, MAIL_NNTP_BODY, num, to_sink, &k), MAIL_OK);
  ck_assert_uint_eq(k.len, len - body_at);
  ck_assert_int_eq(memcmp(k.data, art + body_at, k.len), 0);
  uint64_t wi, pi, wo, po;
  ck_assert_int_eq(mail_conn_compress_counts(&wi, &pi, &wo, &po, c), MAIL_OK);
  ck_assert_uint_gt(po, len);
  ck_assert_uint_gt(pi, len - body_at);
  ck_assert_msg(wo * 2 < po && wi * 2 < pi, "wire %llu/%llu in, %llu/%llu out",
                (unsigned long long)wi, (unsigned long long)pi, (unsigned long long)wo,
                (unsigned long long)po);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);
}
END_TEST

/* Post from the MIME builder over NNTPS; read it over a new connection
 * by message-id; a pipelined batch of STAT and HEAD. */
START_TEST(test_post_builder_nntps)
{
#if MAIL_HAVE_MIME
  const char *group = env("MAIL_TEST_NNTP_GROUP");
  mail_nntp *n = logged_in(1);
  char id[96], subject[128], msgid[160];
  unique(id, sizeof id, "built");
  snprintf(msgid, sizeof msgid, "%s@libmail.test", id);
  snprintf(subject, sizeof subject, "built %s", id);
  mail_mime_builder *m = NULL;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Alice", "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_header(m, "Newsgroups", group), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, subject), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_message_id(m, msgid), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, "hello from the builder\n.dot\n", 28), MAIL_OK);
  int rc = mail_nntp_post_builder(n, m);
  ck_assert_msg(rc == MAIL_OK, "POST: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_nntp_conn(n)));
  mail_mime_builder_free(m);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);

  n = connected(1);
  char bracketed[200];
  snprintf(bracketed, sizeof bracketed, "<%s>", msgid);
  static sink k;
  memset(&k, 0, sizeof k);
  ck_assert_int_eq(mail_nntp_article_by_id(n, MAIL_NNTP_HEAD, bracketed, to_sink, &k), MAIL_OK);
  k.data[k.len] = '\0';
  char want[256];
  snprintf(want, sizeof want, "Subject: %s\r\n", subject);
  ck_assert_ptr_nonnull(strstr(k.data, want));
  const mail_nntp_overview *o = NULL;
  uint64_t num = find_by_over(n, group, bracketed, &o);
  ck_assert_str_eq(mail_nntp_overview_field(o, MAIL_NNTP_OVER_SUBJECT, NULL), subject);
  uint64_t nums[3] = {num, num + 1000000, num};
  memset(&k, 0, sizeof k);
  ck_assert_int_eq(mail_nntp_article_many(n, MAIL_NNTP_HEAD, nums, 3, to_sink, &k),
                   MAIL_ERR_PARTIAL);
  ck_assert_int_eq(mail_nntp_batch_status(n, 1), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(k.begins, 2);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);
#endif
}
END_TEST

/* A wrong password: 481, MAIL_ERR_AUTH, the session still usable, no
 * password in the error; posting without login is refused (480). */
START_TEST(test_auth_bad)
{
  mail_nntp *n = connected(0);
  ck_assert_int_eq(mail_nntp_set_auth(n, env("MAIL_TEST_NNTP_USER"), "wrong-pw-7"), MAIL_OK);
  ck_assert_int_eq(mail_nntp_auth(n), MAIL_ERR_AUTH);
  const char *e = mail_conn_last_error(mail_nntp_conn(n));
  ck_assert_msg(!strncmp(e, "AUTHINFO PASS: 481 ", 19), "%s", e);
  ck_assert_ptr_null(strstr(e, "wrong-pw-7"));
  ck_assert_int_eq(mail_nntp_get_state(n), MAIL_NNTP_STATE_READY);
  src s = {"From: a@b\r\nNewsgroups: x\r\nSubject: s\r\n\r\nb\r\n", 43, 0};
  ck_assert_int_eq(mail_nntp_post(n, read_src, &s), MAIL_ERR_AUTH);
  ck_assert_uint_eq(s.pos, 0);
  /* The right one on the same connection. */
  ck_assert_int_eq(mail_nntp_set_auth(n, env("MAIL_TEST_NNTP_USER"), env("MAIL_TEST_NNTP_PASS")),
                   MAIL_OK);
  ck_assert_int_eq(mail_nntp_auth(n), MAIL_OK);
  ck_assert_int_eq(mail_nntp_auth(n), MAIL_ERR_STATE);
  mail_nntp_free(n);
}
END_TEST

/* INN with ckpasswd lists SASL but cannot check it: 481, no fallback. */
START_TEST(test_auth_sasl_refused)
{
  mail_nntp *n = connected(1);
  ck_assert_int_eq(mail_nntp_set_auth(n, env("MAIL_TEST_NNTP_USER"), env("MAIL_TEST_NNTP_PASS")),
                   MAIL_OK);
  ck_assert_int_eq(mail_nntp_set_auth_method(n, MAIL_NNTP_AUTH_SASL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_mechanisms(mail_nntp_sasl(n), "PLAIN"), MAIL_OK);
  ck_assert_int_eq(mail_nntp_auth(n), MAIL_ERR_AUTH);
  mail_nntp_free(n);
}
END_TEST

/* The empty group: GROUP says 0, and OVER / HDR of a range are empty
 * lists (INN answers 423). LIST, NEWGROUPS, DATE, NEWNEWS. */
START_TEST(test_empty_group_and_lists)
{
  mail_nntp *n = connected(0);
  uint64_t count = 9, low, high;
  ck_assert_int_eq(mail_nntp_group(n, env("MAIL_TEST_NNTP_EMPTY_GROUP"), &count, &low, &high),
                   MAIL_OK);
  ck_assert_uint_eq(count, 0);
  ck_assert_int_eq(mail_nntp_over(n, 1, 0), MAIL_OK);
  ck_assert_uint_eq(mail_nntp_over_count(n), 0);
  ck_assert_int_eq(mail_nntp_hdr(n, "Subject", 1, 10), MAIL_OK);
  ck_assert_uint_eq(mail_nntp_hdr_count(n), 0);
  ck_assert_int_eq(mail_nntp_group(n, "libmail.no.such.group", NULL, NULL, NULL),
                   MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_ACTIVE, "libmail.*"), MAIL_OK);
  int found = 0;
  for (size_t i = 0; i < mail_nntp_list_count(n); i++) {
    const char *status = NULL;
    const char *g = mail_nntp_list_active_at(n, i, NULL, NULL, &status);
    ck_assert_ptr_nonnull(g);
    found += !strcmp(g, env("MAIL_TEST_NNTP_GROUP")) && !strcmp(status, "y");
  }
  ck_assert_int_eq(found, 1);
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_NEWSGROUPS, "libmail.*"), MAIL_OK);
  ck_assert_uint_ge(mail_nntp_list_count(n), 2);
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_OVERVIEW_FMT, NULL), MAIL_OK);
  ck_assert_str_eq(mail_nntp_list_field(n, 0, 0, NULL), "Subject:");
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_DISTRIB_PATS, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_ACTIVE_TIMES, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_list(n, MAIL_NNTP_LIST_HEADERS, NULL), MAIL_OK);
  ck_assert_int_eq(mail_nntp_newgroups(n, 0), MAIL_OK);
  ck_assert_uint_ge(mail_nntp_list_count(n), 2);
  int64_t now = 0;
  ck_assert_int_eq(mail_nntp_date(n, &now), MAIL_OK);
  ck_assert_int_le(llabs((long long)(now - (int64_t)time(NULL))), 120);
  ck_assert_int_eq(mail_nntp_newnews(n, "libmail.*", now - 86400), MAIL_OK);
  ck_assert_int_eq(mail_nntp_quit(n), MAIL_OK);
  mail_nntp_free(n);
}
END_TEST

/* A CA that did not sign INN's certificate: the handshake after STARTTLS
 * fails, nothing else is sent. */
START_TEST(test_starttls_wrong_ca)
{
  char path[512];
  snprintf(path, sizeof path, "%s/tests/data/tls/ca.pem", MAIL_SRCDIR);
  mail_nntp *n = session(0, path);
  int rc = mail_nntp_connect(n, "localhost", port_of("MAIL_TEST_NNTP_PORT"), MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_ERR_TLS_VERIFY || rc == MAIL_ERR_TLS, "%s", mail_strerror(rc));
  ck_assert_int_eq(mail_nntp_get_state(n), MAIL_NNTP_STATE_DISCONNECTED);
  mail_nntp_free(n);
}
END_TEST

/* Event-loop mode: each call returns MAIL_ERR_AGAIN while it waits; the
 * caller polls and calls again. */
static int loop(mail_nntp *n, int rc, int (*again)(mail_nntp *))
{
  mail_conn *c = mail_nntp_conn(n);
  while (rc == MAIL_ERR_AGAIN) {
    struct pollfd pfd = {mail_conn_fd(c), 0, 0};
    int want = mail_conn_want(c);
    if (want & MAIL_WANT_READ)
      pfd.events |= POLLIN;
    if (want & MAIL_WANT_WRITE)
      pfd.events |= POLLOUT;
    int64_t ms = mail_conn_timeout_ms(c);
    ck_assert_int_ge(poll(&pfd, 1, ms < 0 || ms > 10000 ? 10000 : (int)ms), 0);
    rc = again(n);
  }
  return rc;
}

static int again_connect(mail_nntp *n)
{
  return mail_nntp_connect(n, "localhost", port_of("MAIL_TEST_NNTP_PORT"), MAIL_SECURITY_STARTTLS);
}

static int again_group(mail_nntp *n)
{
  return mail_nntp_group(n, env("MAIL_TEST_NNTP_GROUP"), NULL, NULL, NULL);
}

static int again_over(mail_nntp *n)
{
  return mail_nntp_over(n, 1, 0);
}

START_TEST(test_event_loop)
{
  mail_nntp *n = session(0, NULL);
  mail_conn_set_nonblocking(mail_nntp_conn(n), 1);
  ck_assert_int_eq(loop(n, again_connect(n), again_connect), MAIL_OK);
  ck_assert(mail_conn_is_verified(mail_nntp_conn(n)));
  ck_assert_int_eq(loop(n, again_group(n), again_group), MAIL_OK);
  ck_assert_int_eq(loop(n, again_over(n), again_over), MAIL_OK);
  mail_nntp_free(n);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  if (!mail_test_env("MAIL_TEST_NNTP_PORT")) {
    /* servers.env from a servers.sh without INN */
    const char *req = getenv("MAIL_TEST_REQUIRE_SERVERS");
    fprintf(stderr, "test_nntp: no MAIL_TEST_NNTP_PORT in servers.env%s\n",
            req && !strcmp(req, "1") ? " (required)" : ": skipped");
    return req && !strcmp(req, "1") ? 1 : 77;
  }
  Suite *s = suite_create("nntp-inn");
  TCase *tc = tcase_create("inn");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_post_and_read_back);
  tcase_add_test(tc, test_post_builder_nntps);
  tcase_add_test(tc, test_auth_bad);
  tcase_add_test(tc, test_auth_sasl_refused);
  tcase_add_test(tc, test_empty_group_and_lists);
  tcase_add_test(tc, test_starttls_wrong_ca);
  tcase_add_test(tc, test_event_loop);
  tcase_add_test(tc, test_compress);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

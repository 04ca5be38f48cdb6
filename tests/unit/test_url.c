/* Unit tests for lib/core/url: the one URL parser. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/alloc.h"
#include "core/mem.h"
#include "core/url.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))

/* Tables shaped like the protocols' own. */
static const mail_url_scheme smtp_tab[] = {
  {"smtp", 25, 0},
  {"smtps", 465, MAIL_URL_IMPLICIT_TLS},
  {"lmtp", 24, MAIL_URL_UNIX_PATH},
  {"submission", 587, 0},
};
static const mail_url_scheme pop3_tab[] = {
  {"pop3", 110, MAIL_URL_USERINFO},
  {"pop3s", 995, MAIL_URL_USERINFO | MAIL_URL_IMPLICIT_TLS},
};
static const mail_url_scheme imap_tab[] = {
  {"imap", 143, MAIL_URL_USERINFO | MAIL_URL_PATH},
  {"imaps", 993, MAIL_URL_USERINFO | MAIL_URL_PATH | MAIL_URL_IMPLICIT_TLS},
  {"nntp", 119, MAIL_URL_PATH},
  {"nntps", 563, MAIL_URL_PATH | MAIL_URL_IMPLICIT_TLS},
};

static int parse_rc(const mail_url_scheme *tab, size_t n, const char *url)
{
  mail_url u;
  int rc = mail_url_parse(&u, url, tab, n, NULL);
  if (rc) {
    /* a failure leaves nothing behind */
    ck_assert_ptr_null(u.user);
    ck_assert_ptr_null(u.password);
    ck_assert_ptr_null(u.scheme);
  }
  mail_url_clear(&u, NULL);
  return rc;
}

#define POP3_RC(url) parse_rc(pop3_tab, N(pop3_tab), url)
#define SMTP_RC(url) parse_rc(smtp_tab, N(smtp_tab), url)
#define IMAP_RC(url) parse_rc(imap_tab, N(imap_tab), url)

/* Parse with the POP3 table and check host, port, user and password
 * (NULL: absent). */
static void expect_pop3(const char *url, const char *host, unsigned port, const char *user,
                        const char *pass)
{
  mail_url u;
  int rc = mail_url_parse(&u, url, pop3_tab, N(pop3_tab), NULL);
  ck_assert_msg(rc == MAIL_OK, "%s: %d", url, rc);
  ck_assert_str_eq(u.host, host);
  ck_assert_uint_eq(u.port, port);
  if (user)
    ck_assert_str_eq(u.user, user);
  else
    ck_assert_ptr_null(u.user);
  if (pass)
    ck_assert_str_eq(u.password, pass);
  else
    ck_assert_ptr_null(u.password);
  ck_assert_ptr_null(u.socket_path);
  ck_assert_ptr_null(u.path);
  mail_url_clear(&u, NULL);
}

START_TEST(schemes_and_defaults)
{
  mail_url u;
  ck_assert_int_eq(mail_url_parse(&u, "smtp://mx.example", smtp_tab, N(smtp_tab), NULL), MAIL_OK);
  ck_assert_ptr_eq(u.scheme, &smtp_tab[0]);
  ck_assert_uint_eq(u.scheme_index, 0);
  ck_assert_uint_eq(u.port, 25);
  ck_assert_int_eq(u.port_given, 0);
  ck_assert_int_eq(u.host_is_ipv6, 0);
  ck_assert_int_eq(u.has_userinfo, 0);
  ck_assert_str_eq(u.host, "mx.example");
  mail_url_clear(&u, NULL);

  /* case-insensitive scheme; the host is kept as written */
  ck_assert_int_eq(mail_url_parse(&u, "SubMission://MX.Example/", smtp_tab, N(smtp_tab), NULL),
                   MAIL_OK);
  ck_assert_uint_eq(u.scheme_index, 3);
  ck_assert_uint_eq(u.port, 587);
  ck_assert_str_eq(u.host, "MX.Example");
  ck_assert_ptr_null(u.path);
  mail_url_clear(&u, NULL);

  ck_assert_int_eq(mail_url_parse(&u, "SMTPS://mx.example:2465", smtp_tab, N(smtp_tab), NULL),
                   MAIL_OK);
  ck_assert_uint_eq(u.scheme_index, 1);
  ck_assert(u.scheme->flags & MAIL_URL_IMPLICIT_TLS);
  ck_assert_uint_eq(u.port, 2465);
  ck_assert_int_eq(u.port_given, 1);
  mail_url_clear(&u, NULL);

  /* "smtp" is a prefix of "smtps": the whole name must match */
  ck_assert_int_eq(SMTP_RC("smtpx://mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smt://mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("http://mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp:/mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp:mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp//mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("://mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC(" smtp://mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC(""), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("smtp://mx.example"), MAIL_ERR_SYNTAX); /* not in this table */

  /* a table entry without a name is skipped */
  static const mail_url_scheme holes[] = {{NULL, 1, 0}, {"x-mail+1.0", 7, 0}};
  ck_assert_int_eq(mail_url_parse(&u, "X-Mail+1.0://h", holes, N(holes), NULL), MAIL_OK);
  ck_assert_uint_eq(u.scheme_index, 1);
  ck_assert_uint_eq(u.port, 7);
  mail_url_clear(&u, NULL);
}
END_TEST

START_TEST(null_and_crlf)
{
  mail_url u;
  ck_assert_int_eq(mail_url_parse(NULL, "smtp://h", smtp_tab, N(smtp_tab), NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_url_parse(&u, NULL, smtp_tab, N(smtp_tab), NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_url_parse(&u, "smtp://h", NULL, 0, NULL), MAIL_ERR_INVALID);
  mail_allocator broken = {0};
  ck_assert_int_eq(mail_url_parse(&u, "smtp://h", smtp_tab, N(smtp_tab), &broken),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_url_parse(&u, "smtp://h", smtp_tab, 0, NULL), MAIL_ERR_SYNTAX);
  mail_url_clear(NULL, NULL);

  ck_assert_int_eq(SMTP_RC("smtp://mx.example\r\nQUIT"), MAIL_ERR_INVALID);
  ck_assert_int_eq(SMTP_RC("smtp://mx.example\n"), MAIL_ERR_INVALID);
  ck_assert_int_eq(SMTP_RC("smtp\r://mx.example"), MAIL_ERR_INVALID);
  ck_assert_int_eq(POP3_RC("pop3://al\rice:pw@host"), MAIL_ERR_INVALID);
  ck_assert_int_eq(SMTP_RC("lmtp:///run/lmtp\n"), MAIL_ERR_INVALID);
  /* other control bytes are malformed */
  ck_assert_int_eq(POP3_RC("pop3://al\tice:pw@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:p\x7fw@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("lmtp:///run/\x01lmtp"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp://mx\texample"), MAIL_ERR_SYNTAX);
}
END_TEST

START_TEST(userinfo_forms)
{
  expect_pop3("pop3://pop.example", "pop.example", 110, NULL, NULL);
  expect_pop3("pop3s://pop.example/", "pop.example", 995, NULL, NULL);
  expect_pop3("pop3://alice@pop.example", "pop.example", 110, "alice", NULL);
  expect_pop3("pop3://alice:@pop.example", "pop.example", 110, "alice", "");
  expect_pop3("pop3://:pw@pop.example", "pop.example", 110, "", "pw");
  expect_pop3("pop3://@pop.example", "pop.example", 110, "", NULL);
  expect_pop3("pop3://:@pop.example", "pop.example", 110, "", "");
  expect_pop3("pop3s://alice:alice-pw-1@pop.example:1995", "pop.example", 1995, "alice",
              "alice-pw-1");
  /* the first ':' splits; the last '@' ends the userinfo */
  expect_pop3("pop3://a:b:c@h", "h", 110, "a", "b:c");
  expect_pop3("pop3://alice@example.org:pw@h", "h", 110, "alice@example.org", "pw");
  expect_pop3("pop3://alice@example.org@h", "h", 110, "alice@example.org", NULL);
  /* raw UTF-8 and spaces are taken as they are */
  expect_pop3("pop3://c\xC3\xA9" "dric:p\xC3\xA4ssw\xC3\xB6rd-\xE2\x82\xAC@h", "h", 110,
              "c\xC3\xA9" "dric", "p\xC3\xA4ssw\xC3\xB6rd-\xE2\x82\xAC");
  expect_pop3("pop3://my user:my pass@h", "h", 110, "my user", "my pass");

  ck_assert_int_eq(SMTP_RC("smtp://user@mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp://user:pw@mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp://@mx.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(IMAP_RC("nntp://user@news.example"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw@"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw@:110"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw@/"), MAIL_ERR_SYNTAX);
}
END_TEST

START_TEST(percent_decoding)
{
  expect_pop3("pop3://al%69ce:p%40ss%3Aw%2fd@h", "h", 110, "alice", "p@ss:w/d");
  /* an encoded ':' or '@' is data, not a separator */
  expect_pop3("pop3://a%3Ab%40c@h", "h", 110, "a:b@c", NULL);
  expect_pop3("pop3://c%C3%A9dric:p%C3%A4ssw%c3%b6rd-%E2%82%AC@h", "h", 110, "c\xC3\xA9" "dric",
              "p\xC3\xA4ssw\xC3\xB6rd-\xE2\x82\xAC");
  expect_pop3("pop3://%25:%2525@h", "h", 110, "%", "%25");
  expect_pop3("pop3://%20%7F%FF@h", "h", 110, " \x7f\xff", NULL);

  ck_assert_int_eq(POP3_RC("pop3://a%00b@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%00@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice%:pw@host"), MAIL_ERR_SYNTAX);   /* '%' at the end of the user */
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%@host"), MAIL_ERR_SYNTAX);   /* ... of the password */
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%4@host"), MAIL_ERR_SYNTAX);  /* one digit */
  ck_assert_int_eq(POP3_RC("pop3://alice%4:pw@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%4g@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%g4@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%%41@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://alice:%@host"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://a%0d%0aUSER:x@host"), MAIL_ERR_INVALID);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%0Dx@host"), MAIL_ERR_INVALID);
  ck_assert_int_eq(POP3_RC("pop3://alice:pw%0ax@host"), MAIL_ERR_INVALID);

  /* the decoder alone */
  char *d;
  ck_assert_int_eq(mail_url_decode(NULL, "", 0, &d), MAIL_OK);
  ck_assert_str_eq(d, "");
  free(d);
  ck_assert_int_eq(mail_url_decode(NULL, "INBOX%2FSent%20Items", 20, &d), MAIL_OK);
  ck_assert_str_eq(d, "INBOX/Sent Items");
  free(d);
  /* n bounds the input: an escape cut by n is malformed */
  ck_assert_int_eq(mail_url_decode(NULL, "ab%41", 4, &d), MAIL_ERR_SYNTAX);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(mail_url_decode(NULL, "ab%41", 2, &d), MAIL_OK);
  ck_assert_str_eq(d, "ab");
  free(d);
  ck_assert_int_eq(mail_url_decode(NULL, "%", 1, &d), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_url_decode(NULL, "%00", 3, &d), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(mail_url_decode(NULL, "%0a", 3, &d), MAIL_ERR_INVALID);
  ck_assert_ptr_null(d);
  ck_assert_int_eq(mail_url_decode(NULL, NULL, 1, &d), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_url_decode(NULL, "x", 1, NULL), MAIL_ERR_INVALID);
}
END_TEST

START_TEST(ipv6_literals)
{
  static const struct {
    const char *url, *host;
  } ok[] = {
    {"pop3://[::1]", "::1"},
    {"pop3://[::]", "::"},
    {"pop3://[1::]", "1::"},
    {"pop3://[2001:DB8::1]", "2001:DB8::1"},
    {"pop3://[1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8"},
    {"pop3://[1:2:3:4:5:6:7::]", "1:2:3:4:5:6:7::"},
    {"pop3://[::2:3:4:5:6:7:8]", "::2:3:4:5:6:7:8"},
    {"pop3://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"pop3://[::ffff:192.0.2.1]", "::ffff:192.0.2.1"},
    {"pop3://[1:2:3:4:5:6:255.255.255.255]", "1:2:3:4:5:6:255.255.255.255"},
    {"pop3://[::0.0.0.0]", "::0.0.0.0"},
    {"pop3://[fe80::1%25eth0]", "fe80::1%eth0"},          /* RFC 6874 */
    {"pop3://[fe80::1%eth0]", "fe80::1%eth0"},            /* as typed to ping */
    {"pop3://[fe80::1%25en0.1_x~]", "fe80::1%en0.1_x~"},
    {"pop3://u:p@[::1]:12110/", "::1"},
  };
  for (size_t i = 0; i < N(ok); i++) {
    mail_url u;
    int rc = mail_url_parse(&u, ok[i].url, pop3_tab, N(pop3_tab), NULL);
    ck_assert_msg(rc == MAIL_OK, "%s: %d", ok[i].url, rc);
    ck_assert_str_eq(u.host, ok[i].host);
    ck_assert_int_eq(u.host_is_ipv6, 1);
    mail_url_clear(&u, NULL);
  }
  expect_pop3("pop3://[::1]:12110", "::1", 12110, NULL, NULL);

  static const char *const bad[] = {
    "pop3://[::1", "pop3://[::1]x", "pop3://[::1]]", "pop3://[::1]:", "pop3://[]",
    "pop3://[[::1]]", "pop3://x[::1]",
    "pop3://[1:2:3:4:5:6:7:8:9]", "pop3://[1:2:3:4:5:6:7]", "pop3://[1:2:3:4:5:6:7:8::]",
    "pop3://[1::2::3]", "pop3://[:::]", "pop3://[:1]", "pop3://[1:]", "pop3://[1:::2]",
    "pop3://[12345::]", "pop3://[g::1]", "pop3://[::1 ]", "pop3://[ ::1]",
    "pop3://[1.2.3.4]", "pop3://[::1.2.3]", "pop3://[::1.2.3.4.5]", "pop3://[::256.1.1.1]",
    "pop3://[::01.1.1.1]", "pop3://[::1.2.3.4:5]", "pop3://[1:2:3:4:5:6:7:1.2.3.4]",
    "pop3://[v1.fe]", "pop3://[::1%]", "pop3://[::1%25]", "pop3://[::1%eth 0]",
    "pop3://[::1%et%68]", "pop3://[::1%25eth0%]", "pop3://[%25eth0]",
  };
  for (size_t i = 0; i < N(bad); i++)
    ck_assert_msg(POP3_RC(bad[i]) == MAIL_ERR_SYNTAX, "%s accepted", bad[i]);
}
END_TEST

START_TEST(host_names)
{
  expect_pop3("pop3://127.0.0.1", "127.0.0.1", 110, NULL, NULL);
  expect_pop3("pop3://localhost", "localhost", 110, NULL, NULL);
  expect_pop3("pop3://mx-1.Example_x.org.", "mx-1.Example_x.org.", 110, NULL, NULL);
  expect_pop3("pop3://xn--bcher-kva.example", "xn--bcher-kva.example", 110, NULL, NULL);

  /* labels of 63 bytes, a name of exactly MAIL_URL_HOST_MAX bytes */
  char label[64], host[MAIL_URL_HOST_MAX + 2], url[MAIL_URL_HOST_MAX + 32];
  memset(label, 'a', 63);
  label[63] = '\0';
  snprintf(host, sizeof host, "%s.%s.%s.%s", label, label, label, label);
  ck_assert_uint_eq(strlen(host), MAIL_URL_HOST_MAX);
  snprintf(url, sizeof url, "pop3://%s:1", host);
  expect_pop3(url, host, 1, NULL, NULL);
  /* one byte more: over-long */
  snprintf(url, sizeof url, "pop3://%s.%s.%s.%sb", label, label, label, label);
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);
  snprintf(url, sizeof url, "pop3://b.%s.%s.%s.%s", label, label, label, label);
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);
  /* a 64-byte label */
  snprintf(url, sizeof url, "pop3://%sb.example", label);
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);

  static const char *const bad[] = {
    "pop3://", "pop3:///", "pop3://:110", "pop3://.", "pop3://.example", "pop3://a..b",
    "pop3://a.b..", "pop3://ho st", "pop3://ho%41st", "pop3://h\xC3\xB6.example",
    "pop3://host*", "pop3://ho!st", "pop3://h~st", "pop3://ho;st", "pop3://h]", "pop3://h[",
    "pop3://host\\x", "pop3://host:25:26",
  };
  for (size_t i = 0; i < N(bad); i++)
    ck_assert_msg(POP3_RC(bad[i]) == MAIL_ERR_SYNTAX, "%s accepted", bad[i]);
}
END_TEST

START_TEST(ports)
{
  expect_pop3("pop3://h:1", "h", 1, NULL, NULL);
  expect_pop3("pop3://h:65535", "h", 65535, NULL, NULL);
  expect_pop3("pop3://h:00025", "h", 25, NULL, NULL);
  expect_pop3("pop3://h:0000000000000000000000000000000000000110/", "h", 110, NULL, NULL);

  static const char *const bad[] = {
    "pop3://h:0", "pop3://h:00", "pop3://h:65536", "pop3://h:99999",
    "pop3://h:99999999999999999999999999", "pop3://h:", "pop3://h:/", "pop3://h:-1",
    "pop3://h:+25", "pop3://h: 25", "pop3://h:25 ", "pop3://h:12a", "pop3://h:0x19",
    "pop3://[::1]:0", "pop3://[::1]:65536",
  };
  for (size_t i = 0; i < N(bad); i++)
    ck_assert_msg(POP3_RC(bad[i]) == MAIL_ERR_SYNTAX, "%s accepted", bad[i]);
}
END_TEST

START_TEST(paths)
{
  mail_url u;
  /* Unix-domain socket form, taken byte for byte */
  ck_assert_int_eq(mail_url_parse(&u, "lmtp:///run/dovecot/lmtp", smtp_tab, N(smtp_tab), NULL),
                   MAIL_OK);
  ck_assert_uint_eq(u.scheme_index, 2);
  ck_assert_str_eq(u.socket_path, "/run/dovecot/lmtp");
  ck_assert_str_eq(u.host, "");
  ck_assert_uint_eq(u.port, 0);
  mail_url_clear(&u, NULL);
  ck_assert_int_eq(mail_url_parse(&u, "LMTP:///tmp/a b%20c?", smtp_tab, N(smtp_tab), NULL), MAIL_OK);
  ck_assert_str_eq(u.socket_path, "/tmp/a b%20c?");
  mail_url_clear(&u, NULL);
  ck_assert_int_eq(SMTP_RC("lmtp:///"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp:///sock"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3:///sock"), MAIL_ERR_SYNTAX);
  /* lmtp over TCP still works */
  ck_assert_int_eq(mail_url_parse(&u, "lmtp://127.0.0.1:12024", smtp_tab, N(smtp_tab), NULL),
                   MAIL_OK);
  ck_assert_ptr_null(u.socket_path);
  ck_assert_uint_eq(u.port, 12024);
  mail_url_clear(&u, NULL);

  /* paths only where the scheme takes them */
  ck_assert_int_eq(SMTP_RC("smtp://mx.example/x"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(SMTP_RC("smtp://mx.example//"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://h/INBOX"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://h?x"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://h/?x"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://h#x"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://h/#"), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(POP3_RC("pop3://u:p@h/x"), MAIL_ERR_SYNTAX);

  static const struct {
    const char *url, *path;
    size_t index;
  } ok[] = {
    {"imap://h", NULL, 0},
    {"imap://h/", NULL, 0},
    {"imap://h/INBOX", "INBOX", 0},
    {"imaps://u@h:1993/INBOX;UIDVALIDITY=385759045/;UID=20", "INBOX;UIDVALIDITY=385759045/;UID=20", 1},
    {"imap://h/Sent%20Items?SUBJECT%20hello", "Sent%20Items?SUBJECT%20hello", 0},
    {"imap://h/a:b@c!$&'()*+,=~-._/", "a:b@c!$&'()*+,=~-._/", 0},
    {"imap://h//x", "/x", 0},
    {"nntp://news.example/comp.lang.c", "comp.lang.c", 2},
    {"NNTPS://[::1]/comp.lang.c/12345", "comp.lang.c/12345", 3},
  };
  for (size_t i = 0; i < N(ok); i++) {
    int rc = mail_url_parse(&u, ok[i].url, imap_tab, N(imap_tab), NULL);
    ck_assert_msg(rc == MAIL_OK, "%s: %d", ok[i].url, rc);
    ck_assert_uint_eq(u.scheme_index, ok[i].index);
    if (ok[i].path)
      ck_assert_str_eq(u.path, ok[i].path);
    else
      ck_assert_ptr_null(u.path);
    ck_assert_ptr_null(u.socket_path);
    mail_url_clear(&u, NULL);
  }
  static const char *const bad[] = {
    "imap://h?x", "imap://h#x", "imap://h/a#b", "imap://h/a b", "imap://h/%zz", "imap://h/%4",
    "imap://h/%", "imap://h/a\"b", "imap://h/a<b>", "imap://h/a[b]", "imap://h/a{b}",
    "imap://h/a|b", "imap://h/a\\b", "imap://h/a^b", "imap://h/a`b", "imap://h/\xC3\xA4",
    "imap:///INBOX",
  };
  for (size_t i = 0; i < N(bad); i++)
    ck_assert_msg(IMAP_RC(bad[i]) == MAIL_ERR_SYNTAX, "%s accepted", bad[i]);
}
END_TEST

START_TEST(overlong)
{
  size_t cap = MAIL_URL_MAX + 16;
  char *url = malloc(cap);
  ck_assert_ptr_nonnull(url);
  /* exactly MAIL_URL_MAX bytes: accepted */
  int n = snprintf(url, cap, "imap://h/");
  memset(url + n, 'x', MAIL_URL_MAX - (size_t)n);
  url[MAIL_URL_MAX] = '\0';
  mail_url u;
  ck_assert_int_eq(mail_url_parse(&u, url, imap_tab, N(imap_tab), NULL), MAIL_OK);
  ck_assert_uint_eq(strlen(u.path), MAIL_URL_MAX - 9);
  mail_url_clear(&u, NULL);
  /* one more: refused before anything is looked at */
  url[MAIL_URL_MAX] = 'x';
  url[MAIL_URL_MAX + 1] = '\0';
  ck_assert_int_eq(IMAP_RC(url), MAIL_ERR_SYNTAX);
  /* a password that fills the URL to the limit, then one byte over */
  n = snprintf(url, cap, "pop3://u:");
  memset(url + n, 'p', MAIL_URL_MAX - (size_t)n - 2);
  strcpy(url + MAIL_URL_MAX - 2, "@h");
  ck_assert_int_eq(mail_url_parse(&u, url, pop3_tab, N(pop3_tab), NULL), MAIL_OK);
  ck_assert_uint_eq(strlen(u.password), MAIL_URL_MAX - (size_t)n - 2);
  mail_url_clear(&u, NULL);
  memset(url + n, 'p', MAIL_URL_MAX - (size_t)n - 1);
  strcpy(url + MAIL_URL_MAX - 1, "@h");
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);
  /* a long IPv6-looking literal, a long zone */
  n = snprintf(url, cap, "pop3://[");
  for (int i = 0; i < 1000; i++)
    n += snprintf(url + n, cap - (size_t)n, "1:");
  snprintf(url + n, cap - (size_t)n, ":1]");
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);
  n = snprintf(url, cap, "pop3://[::1%%25");
  memset(url + n, 'z', 300);
  snprintf(url + n + 300, 3, "]");
  ck_assert_int_eq(POP3_RC(url), MAIL_ERR_SYNTAX);
  free(url);
}
END_TEST

/* The decoded user and password never reach the free hook unwiped: after
 * success, after every failure, and when an allocation fails. */
START_TEST(secrets_wiped)
{
  static const char *const urls[] = {
    "pop3s://alice-user:s3cr3t-pw@pop.example:995",
    "pop3s://alice-user:s3cr%33t-pw@pop.example",    /* the decoded form is the secret */
    "pop3s://alice-user:s3cr3t-pw%00@pop.example",   /* fails after the user is decoded */
    "pop3s://alice-user:s3cr3t-pw%0a@pop.example",
    "pop3s://alice-user:s3cr3t-pw%@pop.example",
  };
  for (size_t i = 0; i < N(urls); i++) {
    for (unsigned long fail = 0; fail < 4; fail++) {
      mail_test_alloc ta;
      mail_test_alloc_init(&ta);
      mail_test_alloc_forbid_str(&ta, "s3cr3t-pw");
      mail_test_alloc_forbid_str(&ta, "alice-user");
      mail_test_alloc_fail_at(&ta, fail, 0);
      mail_url u;
      int rc = mail_url_parse(&u, urls[i], pop3_tab, N(pop3_tab), mail_test_alloc_hooks(&ta));
      if (i < 2 && ta.failures == 0) {
        ck_assert_int_eq(rc, MAIL_OK);
        ck_assert_str_eq(u.user, "alice-user");
        ck_assert_str_eq(u.password, "s3cr3t-pw");
      } else if (ta.failures) {
        ck_assert_int_eq(rc, MAIL_ERR_NOMEM);
      } else {
        ck_assert_int_ne(rc, MAIL_OK);
      }
      mail_url_clear(&u, mail_test_alloc_hooks(&ta));
      ck_assert_msg(ta.live == 0, "%s fail=%lu: %zu blocks leaked", urls[i], fail, ta.live);
      ck_assert_msg(ta.forbidden_hits == 0, "%s fail=%lu: %s", urls[i], fail, ta.first_hit);
      mail_test_alloc_cleanup(&ta);
    }
  }
}
END_TEST

int main(void)
{
  Suite *s = suite_create("url");
  TCase *t = tcase_create("url");
  tcase_add_test(t, schemes_and_defaults);
  tcase_add_test(t, null_and_crlf);
  tcase_add_test(t, userinfo_forms);
  tcase_add_test(t, percent_decoding);
  tcase_add_test(t, ipv6_literals);
  tcase_add_test(t, host_names);
  tcase_add_test(t, ports);
  tcase_add_test(t, paths);
  tcase_add_test(t, overlong);
  tcase_add_test(t, secrets_wiped);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * CR, LF and NUL through every string argument of the public API.
 *
 *   hostile-injection CHAR_ARGS_FILE
 *
 * CHAR_ARGS_FILE is made at build time by `tools/apidoc/apidoc.py
 * char-args` from the public headers: every function with a char *
 * parameter, one "name header" line each. Each must have an entry in
 * `table` below: a runner that calls it with hostile values, or an
 * exemption that says why none of its strings can reach the wire. A function
 * the headers declare and the table lacks fails the test (so a new public
 * function is covered when it is added), and so does an entry no header
 * declares any more.
 *
 * The rule, the same in every module: a caller's CR, LF or NUL never reaches
 * the wire as command text. The call returns MAIL_ERR_INVALID and writes
 * nothing (R_INVALID), or (IMAP strings, R_SAFE) the value goes where line
 * breaks cannot end the command: a literal, or the modified UTF-7 of a
 * mailbox name. The server (fakeserver.c) watches the command lines: one
 * that starts with "INJECTED", or holds a bare CR or a NUL, is an injection.
 *
 * Adding an entry: RUN("mail_x_y", run_x_y) with a runner below that brings a
 * session to where mail_x_y would send (the *_up helpers), calls it with the
 * hostile value x->e->s and judges each call with expect() (the runner is
 * called once per value; RUN_LEN for a function that also takes a length,
 * so NUL is tried too, x->e->len); or
 * EXEMPT("mail_x_y", "why no argument of it is sent"), using one of the
 * reasons of the WHY_* list when one fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <mail/mail.h>
#include "fakeserver.h"

/* ------------------------------------------------------------ hostile values */

typedef struct evil {
  const char *name;
  const char *s;
  size_t len;
} evil;

static const evil evils[] = {
  {"CR LF", "a\r\nINJECTED x", 14},
  {"LF", "a\nINJECTED x", 13},
  {"CR", "a\rINJECTED x", 13},
  {"NUL", "a\0INJECTED x", 13}, /* only where a length is passed */
};
#define N_STR_EVILS 3

/* ------------------------------------------------------------ judging */

/* R_INVALID: MAIL_ERR_INVALID, nothing written. R_SAFE: that, or the call
 * went on and the value made no line of its own. R_REFUSED: some error
 * (a URL that does not parse is MAIL_ERR_SYNTAX), nothing written. */
enum { R_INVALID, R_SAFE, R_REFUSED };

typedef struct ctx {
  const char *fn;
  const evil *e;
  int failures;
  int calls;
  fake_server f;
  size_t wire_mark;
} ctx;

static void fail(ctx *x, const char *what, const char *why, int rc)
{
  printf("FAIL %s (%s, %s): %s (returned %s)\n", x->fn, what, x->e->name, why,
         mail_strerror(rc));
  x->failures++;
}

/* Judge one call: rc is what it returned, what names the argument. */
static void expect(ctx *x, int rc, int rule, const char *what)
{
  x->calls++;
  if (getenv("HOSTILE_VERBOSE")) /* what each call returned, to compare modules */
    printf("  %s (%s, %s): %s\n", x->fn, what, x->e->name, mail_strerror(rc));
  fake_server *f = &x->f;
  if (f->injected || f->bare_cr || f->nul) {
    fail(x, what, f->injected ? "the value made a command line of its own"
                  : f->bare_cr ? "a bare CR reached a command line" : "a NUL reached the wire", rc);
    return;
  }
  if (rule == R_REFUSED) {
    if (rc == MAIL_OK)
      fail(x, what, "expected a refusal", rc);
    else if (fake_wire_mark(f) != x->wire_mark)
      fail(x, what, "refused, but bytes were written", rc);
    return;
  }
  if (rule == R_INVALID || rc != MAIL_OK) {
    if (rc != MAIL_ERR_INVALID)
      fail(x, what, "expected MAIL_ERR_INVALID", rc);
    else if (fake_wire_mark(f) != x->wire_mark)
      fail(x, what, "refused, but bytes were written", rc);
  }
}

/* Take the mark after a session is set up: expect() looks past it. */
static void mark(ctx *x)
{
  x->wire_mark = fake_wire_mark(&x->f);
}

static void reset(ctx *x, int proto)
{
  fake_free(&x->f);
  fake_init(&x->f, proto);
}

/* A value with the hostile bytes in the middle of something plausible. */
static const char *wrap(ctx *x, char *buf, size_t cap, const char *pre, const char *post)
{
  snprintf(buf, cap, "%s%s%s", pre, x->e->s, post);
  return buf;
}

/* The hostile value percent-encoded, as a URL would carry it. */
static const char *pct(ctx *x, char *buf, size_t cap)
{
  size_t o = 0;
  for (size_t i = 0; i < x->e->len && o + 4 < cap; i++) {
    unsigned char c = (unsigned char)x->e->s[i];
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      buf[o++] = (char)c;
    else
      o += (size_t)snprintf(buf + o, cap - o, "%%%02X", c);
  }
  buf[o] = 0;
  return buf;
}

/* URL variants: the raw value in the authority, and the percent-encoded
 * one in the user, the password, the host and (path != NULL) the path.
 * Each is a URL for scheme://...; *rule says how it is judged. */
static const char *url_variant(ctx *x, int i, const char *scheme, const char *path, char *buf,
                               size_t cap, const char **what)
{
  char enc[128];
  pct(x, enc, sizeof enc);
  switch (i) {
  case 0: *what = "url (raw)"; snprintf(buf, cap, "%s://%s/", scheme, x->e->s); return buf;
  case 1: *what = "url user"; snprintf(buf, cap, "%s://u%s:pw@fake.test/", scheme, enc); return buf;
  case 2: *what = "url password"; snprintf(buf, cap, "%s://u:p%s@fake.test/", scheme, enc); return buf;
  case 3: *what = "url host"; snprintf(buf, cap, "%s://fake.test%s/", scheme, enc); return buf;
  case 4:
    if (!path)
      return NULL;
    *what = "url path";
    snprintf(buf, cap, "%s://fake.test/%s%s", scheme, path, enc);
    return buf;
  }
  return NULL;
}

/* ------------------------------------------------------------ sessions */

#if MAIL_HAVE_SMTP
static mail_smtp *smtp_up(ctx *x, int connect)
{
  mail_smtp *s = NULL;
  reset(x, FAKE_SMTP);
  if (mail_smtp_new(&s, NULL) || fake_attach(&x->f, mail_smtp_conn(s)))
    abort();
  mail_smtp_set_client_name(s, "client.test");
  if (connect) {
    fake_say(&x->f, "220 fake.test ESMTP\r\n");
    if (mail_smtp_connect(s, "fake.test", 25, MAIL_SECURITY_NONE_INSECURE) != MAIL_OK)
      abort();
  }
  mark(x);
  return s;
}
#endif

#if MAIL_HAVE_POP3
static mail_pop3 *pop3_up(ctx *x)
{
  mail_pop3 *p = NULL;
  reset(x, FAKE_POP3);
  if (mail_pop3_new(&p, NULL) || fake_attach(&x->f, mail_pop3_conn(p)))
    abort();
  mark(x);
  return p;
}
#endif

#if MAIL_HAVE_IMAP
/* PREAUTH (so no login is needed), then SELECT INBOX when selected. */
static mail_imap *imap_up(ctx *x, int connect, int selected)
{
  mail_imap *im = NULL;
  reset(x, FAKE_IMAP);
  if (mail_imap_new(&im, NULL) || fake_attach(&x->f, mail_imap_conn(im)))
    abort();
  if (connect) {
    /* every extension a runner may need, so that calls are not refused
     * as unsupported before their arguments are looked at */
    fake_say(&x->f, "* PREAUTH [CAPABILITY IMAP4rev1 ENABLE ID ESEARCH UIDPLUS MOVE "
                    "LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE QRESYNC "
                    "QUOTA ACL METADATA SORT THREAD=REFERENCES MULTIAPPEND NOTIFY X-GM-EXT-1] "
                    "hi\r\n");
    if (mail_imap_connect(im, "fake.test", 143, MAIL_SECURITY_NONE_INSECURE) != MAIL_OK)
      abort();
    if (selected && mail_imap_select(im, "INBOX", 0) != MAIL_OK)
      abort();
  }
  mark(x);
  return im;
}

static mail_imap_seqset *one_to_three(void)
{
  mail_imap_seqset *set = NULL;
  if (mail_imap_seqset_new(&set, NULL) || mail_imap_seqset_add_range(set, 1, 3))
    abort();
  return set;
}
#endif

#if MAIL_HAVE_NNTP
static mail_nntp *nntp_up(ctx *x, int connect)
{
  mail_nntp *n = NULL;
  reset(x, FAKE_NNTP);
  if (mail_nntp_new(&n, NULL) || fake_attach(&x->f, mail_nntp_conn(n)))
    abort();
  if (connect) {
    fake_say(&x->f, "200 fake.test ready\r\n");
    if (mail_nntp_connect(n, "fake.test", 119, MAIL_SECURITY_NONE_INSECURE) != MAIL_OK)
      abort();
    if (mail_nntp_group(n, "g", NULL, NULL, NULL) != MAIL_OK)
      abort();
  }
  mark(x);
  return n;
}
#endif

#if MAIL_HAVE_IMAP || MAIL_HAVE_NNTP
static int null_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  (void)user, (void)buf, (void)cap;
  *got = 0;
  return MAIL_OK;
}
#endif

/* ------------------------------------------------------------ runners: conn, sasl */

static void run_conn_connect(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  fake_attach(&x->f, c);
  mark(x);
  expect(x, mail_conn_connect(c, x->e->s, 25, 0), R_INVALID, "host");
  mail_conn_free(c);
}

static void run_conn_connect_addr(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mark(x);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(9);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  expect(x, mail_conn_connect_addr(c, &sin, sizeof sin, x->e->s, 0), R_INVALID, "host");
  mail_conn_free(c);
}

static void run_conn_adopt_fd(ctx *x)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
    abort();
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mark(x);
  int rc = mail_conn_adopt_fd(c, sv[0], x->e->s);
  expect(x, rc, R_INVALID, "host");
  if (rc)
    close(sv[0]);
  mail_conn_free(c);
  close(sv[1]);
}

static void run_conn_set_tls_server_name(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mark(x);
  expect(x, mail_conn_set_tls_server_name(c, x->e->s), R_INVALID, "name");
  mail_conn_free(c);
}

static void run_sasl_setter(ctx *x, int which)
{
  mail_sasl *s = NULL;
  reset(x, FAKE_SMTP);
  mark(x);
  if (mail_sasl_new(&s, NULL))
    abort();
  int rc = which == 0   ? mail_sasl_set_username(s, x->e->s)
           : which == 1 ? mail_sasl_set_authzid(s, x->e->s)
           : which == 2 ? mail_sasl_set_oauth_token(s, x->e->s)
                        : mail_sasl_set_oauth_host(s, x->e->s, 993);
  expect(x, rc, R_INVALID, "value");
  mail_sasl_free(s);
}
static void run_sasl_set_username(ctx *x) { run_sasl_setter(x, 0); }
static void run_sasl_set_authzid(ctx *x) { run_sasl_setter(x, 1); }
static void run_sasl_set_oauth_token(ctx *x) { run_sasl_setter(x, 2); }
static void run_sasl_set_oauth_host(ctx *x) { run_sasl_setter(x, 3); }

/* The proxy: its host, credentials and URL never reach the proxy or the
 * server with a line break in them. */
static void run_conn_set_proxy(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mark(x);
  expect(x, mail_conn_set_proxy(c, MAIL_PROXY_SOCKS5, x->e->s, 1080), R_INVALID, "host");
  expect(x, mail_conn_set_proxy(c, MAIL_PROXY_HTTP, x->e->s, 8080), R_INVALID, "host");
  mail_conn_free(c);
}

static void run_conn_set_proxy_auth(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mail_conn_set_proxy(c, MAIL_PROXY_HTTP, "proxy.example", 8080);
  mark(x);
  expect(x, mail_conn_set_proxy_auth(c, x->e->s, "pw"), R_INVALID, "user");
  expect(x, mail_conn_set_proxy_auth(c, "user", x->e->s), R_INVALID, "password");
  mail_conn_free(c);
}

static void run_conn_set_proxy_url(ctx *x)
{
  char url[256], enc[128];
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mark(x);
  expect(x, mail_conn_set_proxy_url(c, wrap(x, url, sizeof url, "socks5://", ".example:1080")),
         R_REFUSED, "host");
  snprintf(url, sizeof url, "http://u:%s@proxy.example:8080", pct(x, enc, sizeof enc));
  expect(x, mail_conn_set_proxy_url(c, url), R_REFUSED, "encoded password");
  mail_conn_free(c);
}

/* A resolver that takes the query and answers later. */
static int pending_resolver(void *user, mail_conn *conn, const char *host, unsigned int port)
{
  (void)user, (void)conn, (void)host, (void)port;
  return MAIL_OK;
}

static void run_conn_resolved(ctx *x)
{
  mail_conn *c = NULL;
  reset(x, FAKE_SMTP);
  mail_conn_new(&c, NULL);
  mail_conn_set_nonblocking(c, 1);
  mail_conn_set_resolver(c, pending_resolver, NULL);
  if (mail_conn_connect(c, "mail.example", 25, 0) != MAIL_ERR_AGAIN)
    fail(x, "setup", "the connect did not wait for the resolver", MAIL_OK);
  mark(x);
  /* The reason goes into mail_conn_last_error(): refused with a line break. */
  expect(x, mail_conn_resolved(c, MAIL_ERR_RESOLVE, NULL, NULL, 0, x->e->s), R_INVALID, "why");
  mail_conn_free(c);
}

/* ------------------------------------------------------------ runners: SMTP */

#if MAIL_HAVE_SMTP
#if MAIL_HAVE_SMTP_POOL
/* The pool's key is compared with sessions' settings, never sent; a line
 * break in it is refused all the same. */
static void run_smtp_pool_take(ctx *x)
{
  mail_smtp_pool *p = NULL;
  mail_smtp *s = NULL;
  reset(x, FAKE_SMTP);
  mail_smtp_pool_new(&p, NULL);
  mark(x);
  expect(x, mail_smtp_pool_take(&s, p, x->e->s, 587, 0, "u", "PLAIN"), R_INVALID, "host");
  expect(x, mail_smtp_pool_take(&s, p, "h", 587, 0, x->e->s, "PLAIN"), R_INVALID, "user");
  expect(x, mail_smtp_pool_take(&s, p, "h", 587, 0, "u", x->e->s), R_INVALID, "mechanism");
  mail_smtp_pool_free(p);
}

static void run_smtp_pool_unreserve(ctx *x)
{
  mail_smtp_pool *p = NULL;
  reset(x, FAKE_SMTP);
  mail_smtp_pool_new(&p, NULL);
  mark(x);
  expect(x, mail_smtp_pool_unreserve(p, x->e->s, 587, 0, "u", "PLAIN"), R_INVALID, "host");
  expect(x, mail_smtp_pool_unreserve(p, "h", 587, 0, x->e->s, "PLAIN"), R_INVALID, "user");
  expect(x, mail_smtp_pool_unreserve(p, "h", 587, 0, "u", x->e->s), R_INVALID, "mechanism");
  mail_smtp_pool_free(p);
}
#endif

static void run_smtp_set_auth(ctx *x)
{
  mail_smtp *s = smtp_up(x, 0);
  expect(x, mail_smtp_set_auth(s, x->e->s, "pw"), R_INVALID, "user");
  expect(x, mail_smtp_set_auth(s, "user", x->e->s), R_INVALID, "password");
  mail_smtp_free(s);
}

static void run_smtp_set_client_name(ctx *x)
{
  mail_smtp *s = smtp_up(x, 0);
  expect(x, mail_smtp_set_client_name(s, x->e->s), R_INVALID, "name");
  mail_smtp_free(s);
}

static void run_smtp_connect(ctx *x)
{
  mail_smtp *s = smtp_up(x, 0);
  fake_say(&x->f, "220 fake.test ESMTP\r\n");
  expect(x, mail_smtp_connect(s, x->e->s, 25, MAIL_SECURITY_NONE_INSECURE), R_INVALID, "host");
  mail_smtp_free(s);
}

static void run_smtp_connect_url(ctx *x)
{
  char url[256];
  const char *what;
  for (int i = 0; url_variant(x, i, "smtp", NULL, url, sizeof url, &what); i++) {
    mail_smtp *s = smtp_up(x, 0);
    fake_say(&x->f, "220 fake.test ESMTP\r\n");
    expect(x, mail_smtp_connect_url(s, url), R_REFUSED, what);
    mail_smtp_free(s);
  }
}

static void run_smtp_envelope(ctx *x, int which)
{
  mail_smtp_envelope *e = NULL;
  mail_smtp *s = smtp_up(x, 1);
  if (mail_smtp_envelope_new(&e, NULL))
    abort();
  size_t idx = 0;
  char addr[64];
  wrap(x, addr, sizeof addr, "a", "@example.org");
  int rc;
  switch (which) {
  case 0:
    rc = mail_smtp_envelope_set_from(e, addr);
    break;
  case 1:
    rc = mail_smtp_envelope_add_recipient(e, addr, &idx);
    break;
  case 2:
    mail_smtp_envelope_add_recipient(e, "b@example.org", &idx);
    rc = mail_smtp_envelope_set_orcpt(e, idx, addr);
    break;
  default:
    rc = mail_smtp_envelope_set_envid(e, x->e->s);
    break;
  }
  if (rc == MAIL_OK) { /* accepted: it must not reach the wire as a line */
    mail_smtp_envelope_set_from(e, "a@example.org");
    if (!mail_smtp_envelope_recipient_count(e))
      mail_smtp_envelope_add_recipient(e, "b@example.org", &idx);
    mail_smtp_envelope_set_body_data(e, "Subject: x\r\n\r\nhi\r\n", 19);
    rc = mail_smtp_send(s, e);
  }
  expect(x, rc, R_INVALID, which == 3 ? "envid" : "address");
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
}
static void run_smtp_envelope_set_from(ctx *x) { run_smtp_envelope(x, 0); }
static void run_smtp_envelope_add_recipient(ctx *x) { run_smtp_envelope(x, 1); }
static void run_smtp_envelope_set_orcpt(ctx *x) { run_smtp_envelope(x, 2); }
static void run_smtp_envelope_set_envid(ctx *x) { run_smtp_envelope(x, 3); }
#endif

/* Beyond line breaks: a space, '=' or '>' in an address, ENVID or ORCPT
 * must not add an ESMTP parameter of its own (RFC 3461 xtext; addresses
 * checked by their grammar). The MAIL and RCPT lines are compared whole. */
static int smtp_parameters(void)
{
  static const struct {
    const char *from, *rcpt, *envid, *orcpt;
    const char *mail_line, *rcpt_line; /* NULL: the envelope is refused */
  } cases[] = {
    {"a@example.org", "b@example.org", "x SIZE=1", "y NOTIFY=NEVER",
     "MAIL FROM:<a@example.org> SIZE=11 ENVID=x+20SIZE+3D1",
     "RCPT TO:<b@example.org> ORCPT=rfc822;y+20NOTIFY+3DNEVER"},
    {"a@example.org", "b@example.org", "a+b=c", NULL,
     "MAIL FROM:<a@example.org> SIZE=11 ENVID=a+2Bb+3Dc", "RCPT TO:<b@example.org>"},
    {"a>@example.org SIZE=1", "b@example.org", NULL, NULL, NULL, NULL},
    {"a@example.org", "b@example.org> NOTIFY=NEVER <", NULL, NULL, NULL, NULL},
    {"a b@example.org", "b@example.org", NULL, NULL, NULL, NULL},
    {"\"a b\"@example.org", "b@example.org", NULL, NULL,
     "MAIL FROM:<\"a b\"@example.org> SIZE=11", "RCPT TO:<b@example.org>"},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ctx x;
    memset(&x, 0, sizeof x);
    mail_smtp *s = smtp_up(&x, 1);
    mail_smtp_envelope *e = NULL;
    size_t idx = 0;
    if (mail_smtp_envelope_new(&e, NULL))
      abort();
    int rc = mail_smtp_envelope_set_from(e, cases[i].from);
    if (!rc)
      rc = mail_smtp_envelope_add_recipient(e, cases[i].rcpt, &idx);
    if (!rc && cases[i].envid)
      rc = mail_smtp_envelope_set_envid(e, cases[i].envid);
    if (!rc && cases[i].orcpt)
      rc = mail_smtp_envelope_set_orcpt(e, idx, cases[i].orcpt);
    if (!rc) {
      mail_smtp_envelope_set_body_data(e, "S: x\r\n\r\nb\r\n", 11);
      rc = mail_smtp_send(s, e);
    }
    const char *mail = fake_line_with(&x.f, 0, "MAIL FROM:");
    const char *rcpt = fake_line_with(&x.f, 0, "RCPT TO:");
    if (!cases[i].mail_line) {
      if (rc == MAIL_OK || mail || rcpt) {
        printf("FAIL smtp parameters %zu: %s was not refused\n", i, cases[i].from);
        bad++;
      }
    } else if (rc != MAIL_OK || !mail || !rcpt || strcmp(mail, cases[i].mail_line) ||
               strcmp(rcpt, cases[i].rcpt_line)) {
      printf("FAIL smtp parameters %zu: sent \"%s\" / \"%s\" (%s)\n", i, mail ? mail : "",
             rcpt ? rcpt : "", mail_strerror(rc));
      bad++;
    }
    mail_smtp_envelope_free(e);
    mail_smtp_free(s);
    fake_free(&x.f);
  }
  return bad;
}

/* ------------------------------------------------------------ runners: POP3 */

#if MAIL_HAVE_POP3
static void run_pop3_set_auth(ctx *x)
{
  mail_pop3 *p = pop3_up(x);
  expect(x, mail_pop3_set_auth(p, x->e->s, "pw"), R_INVALID, "user");
  expect(x, mail_pop3_set_auth(p, "user", x->e->s), R_INVALID, "password");
  mail_pop3_free(p);
}

static void run_pop3_connect(ctx *x)
{
  mail_pop3 *p = pop3_up(x);
  fake_say(&x->f, "+OK ready\r\n");
  expect(x, mail_pop3_connect(p, x->e->s, 110, MAIL_SECURITY_NONE_INSECURE), R_INVALID, "host");
  mail_pop3_free(p);
}

static void run_pop3_connect_url(ctx *x)
{
  char url[256];
  const char *what;
  for (int i = 0; url_variant(x, i, "pop3", NULL, url, sizeof url, &what); i++) {
    mail_pop3 *p = pop3_up(x);
    fake_say(&x->f, "+OK ready\r\n");
    expect(x, mail_pop3_connect_url(p, url), R_REFUSED, what);
    mail_pop3_free(p);
  }
}
#endif

/* ------------------------------------------------------------ runners: IMAP */

#if MAIL_HAVE_IMAP
static void run_imap_set_auth(ctx *x)
{
  mail_imap *im = imap_up(x, 0, 0);
  expect(x, mail_imap_set_auth(im, x->e->s, "pw"), R_INVALID, "user");
  mail_imap_free(im);
  /* a password with a line break goes as a literal at LOGIN */
  im = imap_up(x, 0, 0);
  int rc = mail_imap_set_auth(im, "user", x->e->s);
  if (rc == MAIL_OK) {
    mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_LOGIN);
    fake_say(&x->f, "* OK [CAPABILITY IMAP4rev1] hi\r\n");
    if (mail_imap_connect(im, "fake.test", 993, MAIL_SECURITY_IMPLICIT_TLS) != MAIL_OK)
      abort();
    rc = mail_imap_login(im);
    if (rc == MAIL_OK && !fake_line_with(&x->f, 0, " LOGIN "))
      fail(x, "password", "no LOGIN was sent", rc);
  }
  expect(x, rc, R_SAFE, "password");
  mail_imap_free(im);
}

static void run_imap_connect(ctx *x)
{
  mail_imap *im = imap_up(x, 0, 0);
  fake_say(&x->f, "* OK hi\r\n");
  expect(x, mail_imap_connect(im, x->e->s, 143, MAIL_SECURITY_NONE_INSECURE), R_INVALID, "host");
  mail_imap_free(im);
}

static void run_imap_connect_url(ctx *x)
{
  char url[256];
  const char *what;
  for (int i = 0; url_variant(x, i, "imap", "INBOX", url, sizeof url, &what); i++) {
    mail_imap *im = imap_up(x, 0, 0);
    fake_say(&x->f, "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n");
    int rc = mail_imap_connect_url(im, url);
    if (i == 4 && rc == MAIL_OK) {
      /* the mailbox of the URL is the caller's to select: safe if it goes
       * as a literal or in modified UTF-7 */
      rc = mail_imap_select(im, mail_imap_url_mailbox(im), 0);
      expect(x, rc, R_SAFE, what);
    } else {
      expect(x, rc, R_REFUSED, what);
    }
    mail_imap_free(im);
  }
}

static void run_imap_enable(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  const char *names[] = {"CONDSTORE", x->e->s};
  expect(x, mail_imap_enable(im, names, 2), R_INVALID, "name");
  mail_imap_free(im);
}

static void run_imap_id(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  const char *f1[] = {x->e->s}, *v1[] = {"v"};
  expect(x, mail_imap_id(im, f1, v1, 1), R_SAFE, "field");
  mail_imap_free(im);
  im = imap_up(x, 1, 0);
  const char *f2[] = {"name"}, *v2[] = {x->e->s};
  expect(x, mail_imap_id(im, f2, v2, 1), R_SAFE, "value");
  mail_imap_free(im);
}

/* One mailbox-name call: literal or modified UTF-7 are both safe. */
static void run_imap_mailbox(ctx *x, int which)
{
  mail_imap *im = imap_up(x, 1, which == 6);
  const char *m = x->e->s;
  int rc;
  mail_imap_seqset *set = NULL;
  switch (which) {
  case 0: rc = mail_imap_select(im, m, 0); break;
  case 1: rc = mail_imap_create(im, m); break;
  case 2: rc = mail_imap_delete(im, m); break;
  case 3: rc = mail_imap_subscribe(im, m); break;
  case 4: rc = mail_imap_unsubscribe(im, m); break;
  case 5: rc = mail_imap_status(im, m, MAIL_IMAP_STATUS_MESSAGES); break;
  case 6:
    set = one_to_three();
    rc = mail_imap_copy(im, set, 0, m, 0);
    break;
  default: rc = mail_imap_append(im, m, NULL, 0, 0, 0, null_read, NULL); break;
  }
  expect(x, rc, R_SAFE, "mailbox");
  mail_imap_seqset_free(set);
  mail_imap_free(im);
}
static void run_imap_select(ctx *x) { run_imap_mailbox(x, 0); }
static void run_imap_create(ctx *x) { run_imap_mailbox(x, 1); }
static void run_imap_delete(ctx *x) { run_imap_mailbox(x, 2); }
static void run_imap_subscribe(ctx *x) { run_imap_mailbox(x, 3); }
static void run_imap_unsubscribe(ctx *x) { run_imap_mailbox(x, 4); }
static void run_imap_status(ctx *x) { run_imap_mailbox(x, 5); }
static void run_imap_copy(ctx *x) { run_imap_mailbox(x, 6); }

static void run_imap_rename(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  expect(x, mail_imap_rename(im, x->e->s, "b"), R_SAFE, "from");
  mail_imap_free(im);
  im = imap_up(x, 1, 0);
  expect(x, mail_imap_rename(im, "a", x->e->s), R_SAFE, "to");
  mail_imap_free(im);
}

static void run_imap_list(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  expect(x, mail_imap_list(im, x->e->s, "*", 0), R_SAFE, "reference");
  mail_imap_free(im);
  im = imap_up(x, 1, 0);
  expect(x, mail_imap_list(im, "", x->e->s, 0), R_SAFE, "pattern");
  mail_imap_free(im);
}

static void run_imap_fetch(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 1);
  mail_imap_seqset *set = one_to_three();
  char items[64];
  expect(x, mail_imap_fetch(im, set, 0, wrap(x, items, sizeof items, "(UID ", ")"), NULL, NULL),
         R_INVALID, "items");
  mail_imap_seqset_free(set);
  mail_imap_free(im);
}

static void run_imap_store(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 1);
  mail_imap_seqset *set = one_to_three();
  const char *flags[] = {"\\Seen", x->e->s};
  expect(x, mail_imap_store(im, set, 0, 1, flags, 2, 1, 0), R_INVALID, "flag");
  mail_imap_seqset_free(set);
  mail_imap_free(im);
}

static void run_imap_search_common(ctx *x, int within)
{
  for (int arg = 0; arg < 3; arg++) {
    mail_imap *im = imap_up(x, 1, 1);
    mail_imap_seqset *set = one_to_three();
    const char *ret = arg == 0 ? x->e->s : NULL;
    const char *criteria = arg == 1 ? x->e->s : "SUBJECT ?";
    const char *args[] = {arg == 2 ? x->e->s : "hello"};
    size_t nargs = arg == 1 ? 0 : 1;
    int rc = within ? mail_imap_search_within(im, 1, ret, set, criteria, args, nargs)
                    : mail_imap_search(im, 1, ret, criteria, args, nargs);
    expect(x, rc, arg == 2 ? R_SAFE : R_INVALID, arg == 0 ? "ret" : arg == 1 ? "criteria" : "arg");
    mail_imap_seqset_free(set);
    mail_imap_free(im);
  }
}
static void run_imap_search(ctx *x) { run_imap_search_common(x, 0); }
static void run_imap_search_within(ctx *x) { run_imap_search_common(x, 1); }

static void run_imap_append(ctx *x)
{
  run_imap_mailbox(x, 7);
  mail_imap *im = imap_up(x, 1, 0);
  const char *flags[] = {"\\Seen", x->e->s};
  expect(x, mail_imap_append(im, "INBOX", flags, 2, 0, 0, null_read, NULL), R_INVALID, "flag");
  mail_imap_free(im);
}

#if MAIL_HAVE_MIME
static void run_imap_append_builder(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  mail_mime_builder *b = NULL;
  if (mail_mime_builder_new(&b, NULL))
    abort();
  mail_mime_builder_set_subject(b, "s");
  mail_mime_builder_set_text(b, "hi\r\n", 4);
  expect(x, mail_imap_append_builder(im, x->e->s, NULL, 0, 0, b), R_SAFE, "mailbox");
  mail_mime_builder_free(b);
  mail_imap_free(im);
  im = imap_up(x, 1, 0);
  if (mail_mime_builder_new(&b, NULL))
    abort();
  mail_mime_builder_set_text(b, "hi\r\n", 4);
  const char *flags[] = {x->e->s};
  expect(x, mail_imap_append_builder(im, "INBOX", flags, 1, 0, b), R_INVALID, "flag");
  mail_mime_builder_free(b);
  mail_imap_free(im);
}

/* ---------------------------------------------------------------- imap_ext.h */

/* One mailbox-like argument of an ext call; every other argument plain. */
static void run_ext_call(ctx *x, int which, int arg)
{
  mail_imap *im = imap_up(x, 1, which == 12); /* STORE needs a selected mailbox */
  const char *v = x->e->s;
  const char *m = arg == 0 ? v : "INBOX";
  const char *id = arg == 1 ? v : "bob";
  const char *rights = arg == 2 ? v : "lrs";
  const char *one[] = {arg == 1 ? v : "/private/comment"};
  const char *val[] = {arg == 2 ? v : "hello"};
  size_t len[] = {arg == 2 ? x->e->len : 5};
  const char *res[] = {arg == 1 ? v : "STORAGE"};
  uint64_t lim[] = {100};
  const char *uses[] = {arg == 1 ? v : "\\Drafts"};
  const char *flags[] = {arg == 1 ? v : "\\Seen"};
  uint64_t sizes[] = {0};
  mail_imap_seqset *set = NULL;
  int rc, rule = R_SAFE;
  const char *what = arg == 0 ? "mailbox" : arg == 1 ? "second" : "third";
  switch (which) {
  case 0: rc = mail_imap_getquota(im, m); what = "root"; break;
  case 1: rc = mail_imap_getquotaroot(im, m); break;
  case 2:
    rc = mail_imap_setquota(im, m, res, lim, 1);
    rule = arg == 1 ? R_INVALID : R_SAFE; /* a resource name is an atom */
    what = arg == 1 ? "resource" : "root";
    break;
  case 3: rc = mail_imap_setacl(im, m, id, rights); break;
  case 4: rc = mail_imap_deleteacl(im, m, id); break;
  case 5: rc = mail_imap_getacl(im, m); break;
  case 6: rc = mail_imap_listrights(im, m, id); break;
  case 7: rc = mail_imap_myrights(im, m); break;
  case 8: rc = mail_imap_getmetadata(im, m, one, 1, 0, 0); what = arg == 1 ? "entry" : what; break;
  case 9:
    rc = mail_imap_setmetadata(im, m, one, val, len, 1);
    what = arg == 1 ? "entry" : arg == 2 ? "value" : what;
    break;
  case 10: rc = mail_imap_create_special_use(im, m, uses, 1); rule = arg == 1 ? R_INVALID : R_SAFE;
    what = arg == 1 ? "use" : what; break;
  case 11:
    rc = mail_imap_multiappend(im, m, flags, 1, sizes, 1, null_read, NULL);
    rule = arg == 1 ? R_INVALID : R_SAFE;
    what = arg == 1 ? "flag" : what;
    break;
  default: {
    set = one_to_three();
    const char *labels[] = {v};
    rc = mail_imap_store_labels(im, set, 0, 1, labels, 1, 1);
    what = "label";
    break;
  }
  }
  expect(x, rc, rule, what);
  mail_imap_seqset_free(set);
  mail_imap_free(im);
}
static void run_imap_getquota(ctx *x) { run_ext_call(x, 0, 0); }
static void run_imap_getquotaroot(ctx *x) { run_ext_call(x, 1, 0); }
static void run_imap_setquota(ctx *x) { run_ext_call(x, 2, 0); run_ext_call(x, 2, 1); }
static void run_imap_setacl(ctx *x) { for (int a = 0; a < 3; a++) run_ext_call(x, 3, a); }
static void run_imap_deleteacl(ctx *x) { run_ext_call(x, 4, 0); run_ext_call(x, 4, 1); }
static void run_imap_getacl(ctx *x) { run_ext_call(x, 5, 0); }
static void run_imap_listrights(ctx *x) { run_ext_call(x, 6, 0); run_ext_call(x, 6, 1); }
static void run_imap_myrights(ctx *x) { run_ext_call(x, 7, 0); }
static void run_imap_getmetadata(ctx *x) { run_ext_call(x, 8, 0); run_ext_call(x, 8, 1); }
static void run_imap_setmetadata(ctx *x) { for (int a = 0; a < 3; a++) run_ext_call(x, 9, a); }
static void run_imap_create_special_use(ctx *x) { run_ext_call(x, 10, 0); run_ext_call(x, 10, 1); }
static void run_imap_multiappend(ctx *x) { run_ext_call(x, 11, 0); run_ext_call(x, 11, 1); }
static void run_imap_store_labels(ctx *x) { run_ext_call(x, 12, 0); }

/* SORT and THREAD: ret / order / algorithm / criteria are syntax (refused),
 * the args strings (literal or quoted) are safe. */
static void run_sort_thread(ctx *x, int thread)
{
  for (int arg = 0; arg < 4; arg++) {
    if (thread && arg == 0)
      continue; /* THREAD has no ret */
    mail_imap *im = imap_up(x, 1, 1);
    const char *v = x->e->s;
    const char *args[] = {arg == 3 ? v : "hello"};
    const char *criteria = arg == 2 ? v : "SUBJECT ?";
    int rc = thread ? mail_imap_thread(im, 1, arg == 1 ? v : "REFERENCES", criteria, args, 1)
                    : mail_imap_sort(im, 1, arg == 0 ? v : NULL, arg == 1 ? v : "DATE", criteria,
                                     args, 1);
    expect(x, rc, arg == 3 ? R_SAFE : R_INVALID,
           arg == 0 ? "ret" : arg == 1 ? (thread ? "algorithm" : "order") : arg == 2 ? "criteria" : "arg");
    mail_imap_free(im);
  }
}
static void run_imap_sort(ctx *x) { run_sort_thread(x, 0); }
static void run_imap_thread(ctx *x) { run_sort_thread(x, 1); }

/* ---------------------------------------------------------------- imap_sync.h */

static void run_imap_select_qresync(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  /* QRESYNC must be enabled first (MAIL_ERR_STATE otherwise); the fake
   * server's plain OK counts, QRESYNC being advertised */
  static const char *const qresync[] = {"QRESYNC"};
  if (mail_imap_enable(im, qresync, 1) != MAIL_OK)
    abort();
  mark(x);
  expect(x, mail_imap_select_qresync(im, x->e->s, 0, 7, 1, NULL, NULL, NULL), R_SAFE, "mailbox");
  mail_imap_free(im);
}

static void run_imap_fetch_changedsince(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 1);
  mail_imap_seqset *set = one_to_three();
  char items[64];
  expect(x, mail_imap_fetch_changedsince(im, set, 1, wrap(x, items, sizeof items, "(FLAGS ", ")"),
                                         1, 0, NULL, NULL), R_INVALID, "items");
  mail_imap_seqset_free(set);
  mail_imap_free(im);
}

static void run_imap_notify_add(ctx *x)
{
  /* builds a local list; the mailbox names reach the wire at
   * mail_imap_notify_set(), where they must be safe */
  mail_imap *im = imap_up(x, 1, 0);
  mail_imap_notify *n = NULL;
  if (mail_imap_notify_new(&n, NULL))
    abort();
  const char *boxes[] = {x->e->s};
  int rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_MAILBOXES, boxes, 1, MAIL_IMAP_NOTIFY_MESSAGE_NEW);
  if (rc == MAIL_OK)
    rc = mail_imap_notify_set(im, n, 0);
  expect(x, rc, R_SAFE, "mailbox");
  mail_imap_notify_free(n);
  mail_imap_free(im);
}

static int sync_cb(void *user, int event, uint32_t uid, const char *flags)
{
  (void)user, (void)event, (void)uid, (void)flags;
  return 0;
}

static void run_imap_sync_run(ctx *x)
{
  mail_imap *im = imap_up(x, 1, 0);
  mail_imap_sync_state *st = NULL;
  if (mail_imap_sync_state_new(&st, NULL))
    abort();
  int used = 0;
  expect(x, mail_imap_sync_run(&used, im, st, x->e->s, 1, 0, sync_cb, NULL), R_SAFE, "mailbox");
  mail_imap_sync_state_free(st);
  mail_imap_free(im);
}

#endif
#endif

/* ------------------------------------------------------------ runners: NNTP */

#if MAIL_HAVE_NNTP
static void run_nntp_set_auth(ctx *x)
{
  mail_nntp *n = nntp_up(x, 0);
  expect(x, mail_nntp_set_auth(n, x->e->s, "pw"), R_INVALID, "user");
  expect(x, mail_nntp_set_auth(n, "user", x->e->s), R_INVALID, "password");
  mail_nntp_free(n);
}

static void run_nntp_connect(ctx *x)
{
  mail_nntp *n = nntp_up(x, 0);
  fake_say(&x->f, "200 ready\r\n");
  expect(x, mail_nntp_connect(n, x->e->s, 119, MAIL_SECURITY_NONE_INSECURE), R_INVALID, "host");
  mail_nntp_free(n);
}

static void run_nntp_connect_url(ctx *x)
{
  char url[256];
  const char *what;
  for (int i = 0; url_variant(x, i, "nntp", "misc.", url, sizeof url, &what); i++) {
    mail_nntp *n = nntp_up(x, 0);
    fake_say(&x->f, "200 ready\r\n");
    expect(x, mail_nntp_connect_url(n, url), R_REFUSED, what);
    mail_nntp_free(n);
  }
}

static void run_nntp_call(ctx *x, int which)
{
  mail_nntp *n = nntp_up(x, 1);
  const char *v = x->e->s;
  char id[64];
  wrap(x, id, sizeof id, "<", "@example.org>");
  int rc;
  const char *what = "argument";
  switch (which) {
  case 0: rc = mail_nntp_group(n, v, NULL, NULL, NULL); what = "group"; break;
  case 1: rc = mail_nntp_listgroup(n, v, 0, 0); what = "group"; break;
  case 2: rc = mail_nntp_article_by_id(n, MAIL_NNTP_ARTICLE, id, NULL, NULL); what = "msgid"; break;
  case 3: rc = mail_nntp_over_by_id(n, id); what = "msgid"; break;
  case 4: rc = mail_nntp_hdr(n, v, 1, 1); what = "field"; break;
  case 5: rc = mail_nntp_hdr_by_id(n, v, "<a@b>"); what = "field"; break;
  case 6: rc = mail_nntp_hdr_by_id(n, "Subject", id); what = "msgid"; break;
  case 7: rc = mail_nntp_list(n, MAIL_NNTP_LIST_ACTIVE, v); what = "wildmat"; break;
  case 8: rc = mail_nntp_newnews(n, v, 0); what = "wildmat"; break;
  default: rc = mail_nntp_ihave(n, id, null_read, NULL); what = "msgid"; break;
  }
  expect(x, rc, R_INVALID, what);
  mail_nntp_free(n);
}
static void run_nntp_group(ctx *x) { run_nntp_call(x, 0); }
static void run_nntp_listgroup(ctx *x) { run_nntp_call(x, 1); }
static void run_nntp_article_by_id(ctx *x) { run_nntp_call(x, 2); }
static void run_nntp_over_by_id(ctx *x) { run_nntp_call(x, 3); }
static void run_nntp_hdr(ctx *x) { run_nntp_call(x, 4); }
static void run_nntp_hdr_by_id(ctx *x) { run_nntp_call(x, 5); run_nntp_call(x, 6); }
static void run_nntp_list(ctx *x) { run_nntp_call(x, 7); }
static void run_nntp_newnews(ctx *x) { run_nntp_call(x, 8); }
static void run_nntp_ihave(ctx *x) { run_nntp_call(x, 9); }
#endif

/* ------------------------------------------------------------ runners: MIME */

#if MAIL_HAVE_MIME
/* A builder's strings end up in header lines: each must be refused. The
 * message is then built anyway, and no line of it may start with the
 * injected text (the "wire" of a message is its header block). */
static void builder_check(ctx *x, mail_mime_builder *b, int rc, const char *what)
{
  x->calls++;
  unsigned char *out = NULL;
  size_t len = 0;
  if (mail_mime_builder_to_buffer(b, &out, &len) == MAIL_OK) {
    for (size_t i = 0; i + 8 <= len; i++)
      if ((i == 0 || out[i - 1] == '\n' || out[i - 1] == '\r') && !memcmp(out + i, "INJECTED", 8)) {
        fail(x, what, "the value made a header line of its own", rc);
        break;
      }
    mail_free(out);
  }
  if (rc != MAIL_ERR_INVALID)
    fail(x, what, "expected MAIL_ERR_INVALID", rc);
}

static mail_mime_builder *builder(void)
{
  mail_mime_builder *b = NULL;
  if (mail_mime_builder_new(&b, NULL))
    abort();
  mail_mime_builder_set_text(b, "hi\r\n", 4);
  return b;
}

static void run_builder_address(ctx *x, int field)
{
  typedef int (*fn)(mail_mime_builder *, const char *, const char *);
  static const fn fns[] = {mail_mime_builder_set_from, mail_mime_builder_set_sender,
                           mail_mime_builder_add_to,   mail_mime_builder_add_cc,
                           mail_mime_builder_add_bcc,  mail_mime_builder_add_reply_to};
  char addr[64];
  mail_mime_builder *b = builder();
  builder_check(x, b, fns[field](b, x->e->s, "a@example.org"), "display name");
  mail_mime_builder_free(b);
  b = builder();
  builder_check(x, b, fns[field](b, "A", wrap(x, addr, sizeof addr, "a", "@example.org")), "address");
  mail_mime_builder_free(b);
}
static void run_builder_set_from(ctx *x) { run_builder_address(x, 0); }
static void run_builder_set_sender(ctx *x) { run_builder_address(x, 1); }
static void run_builder_add_to(ctx *x) { run_builder_address(x, 2); }
static void run_builder_add_cc(ctx *x) { run_builder_address(x, 3); }
static void run_builder_add_bcc(ctx *x) { run_builder_address(x, 4); }
static void run_builder_add_reply_to(ctx *x) { run_builder_address(x, 5); }

static void run_builder_set_subject(ctx *x)
{
  mail_mime_builder *b = builder();
  builder_check(x, b, mail_mime_builder_set_subject(b, x->e->s), "subject");
  mail_mime_builder_free(b);
}

static void run_builder_set_message_id(ctx *x)
{
  char id[64];
  mail_mime_builder *b = builder();
  builder_check(x, b, mail_mime_builder_set_message_id(b, wrap(x, id, sizeof id, "<", "@b>")), "id");
  mail_mime_builder_free(b);
}

static void run_builder_add_header(ctx *x)
{
  mail_mime_builder *b = builder();
  builder_check(x, b, mail_mime_builder_add_header(b, x->e->s, "v"), "name");
  mail_mime_builder_free(b);
  b = builder();
  builder_check(x, b, mail_mime_builder_add_header(b, "X-Test", x->e->s), "value");
  mail_mime_builder_free(b);
}

/* The part-making calls: content type, file name, content id. */
static void run_builder_part(ctx *x, int which)
{
  for (int arg = 0; arg < 3; arg++) {
    if (arg == 2 && which != 0)
      break;
    mail_mime_builder *b = builder();
    const char *ct = arg == 0 ? x->e->s : "text/plain";
    const char *fname = arg == 1 ? x->e->s : "f.txt";
    const char *cid = arg == 2 ? x->e->s : "c@d";
    int rc;
    switch (which) {
    case 0: rc = mail_mime_builder_add_inline(b, ct, fname, "x", 1, cid, NULL); break;
    case 1: rc = mail_mime_builder_add_attachment(b, ct, fname, "x", 1, NULL); break;
    case 2:
      rc = mail_mime_builder_add_attachment_file(b, ct, fname, MAIL_TEST_SRCFILE, NULL);
      break;
    default: rc = mail_mime_builder_add_attachment_callback(b, ct, fname, NULL, NULL, NULL, 0, NULL);
      break;
    }
    builder_check(x, b, rc, arg == 0 ? "content type" : arg == 1 ? "filename" : "content id");
    mail_mime_builder_free(b);
  }
}
static void run_builder_add_inline(ctx *x) { run_builder_part(x, 0); }
static void run_builder_add_attachment(ctx *x) { run_builder_part(x, 1); }
static void run_builder_add_attachment_file(ctx *x) { run_builder_part(x, 2); }

static int one_byte(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  (void)user, (void)cap;
  buf[0] = 'x';
  *got = 1;
  return MAIL_OK;
}
static int no_rewind(void *user)
{
  (void)user;
  return MAIL_OK;
}

static void run_builder_add_attachment_callback(ctx *x)
{
  for (int arg = 0; arg < 2; arg++) {
    mail_mime_builder *b = builder();
    int rc = mail_mime_builder_add_attachment_callback(b, arg == 0 ? x->e->s : "text/plain",
                                                       arg == 1 ? x->e->s : "f.txt", one_byte,
                                                       no_rewind, NULL, 1, NULL);
    builder_check(x, b, rc, arg == 0 ? "content type" : "filename");
    mail_mime_builder_free(b);
  }
}

static void run_builder_attach_message(ctx *x)
{
  mail_mime_builder *b = builder(), *inner = builder();
  int rc = mail_mime_builder_attach_message(b, inner, x->e->s, NULL);
  builder_check(x, b, rc, "filename");
  if (rc != MAIL_OK)
    mail_mime_builder_free(inner);
  mail_mime_builder_free(b);
}

static void run_builder_attach_message_data(ctx *x)
{
  mail_mime_builder *b = builder();
  builder_check(x, b, mail_mime_builder_attach_message_data(b, "Subject: a\r\n\r\nb\r\n", 17,
                                                            x->e->s, NULL), "filename");
  mail_mime_builder_free(b);
}

static void run_builder_part_set_content_id(ctx *x)
{
  mail_mime_builder *b = builder();
  mail_mime_builder_part *p = NULL;
  if (mail_mime_builder_add_attachment(b, "text/plain", "f.txt", "x", 1, &p))
    abort();
  builder_check(x, b, mail_mime_builder_part_set_content_id(p, x->e->s), "content id");
  mail_mime_builder_free(b);
}

static void run_builder_part_add_header(ctx *x)
{
  for (int arg = 0; arg < 2; arg++) {
    mail_mime_builder *b = builder();
    mail_mime_builder_part *p = NULL;
    if (mail_mime_builder_add_attachment(b, "text/plain", "f.txt", "x", 1, &p))
      abort();
    int rc = mail_mime_builder_part_add_header(p, arg == 0 ? x->e->s : "X-Test",
                                               arg == 1 ? x->e->s : "v");
    builder_check(x, b, rc, arg == 0 ? "name" : "value");
    mail_mime_builder_free(b);
  }
}

static void run_mime_part_set_header(ctx *x)
{
  static const char msg[] = "Subject: a\r\n\r\nbody\r\n";
  for (int arg = 0; arg < 2; arg++) {
    mail_mime_message *m = NULL;
    x->calls++;
    if (mail_mime_message_parse(&m, msg, sizeof msg - 1, 0, NULL, NULL))
      abort();
    int rc = mail_mime_part_set_header(mail_mime_message_root(m), arg == 0 ? x->e->s : "X-Test",
                                       arg == 1 ? x->e->s : "v");
    if (rc != MAIL_ERR_INVALID)
      fail(x, arg == 0 ? "name" : "value", "expected MAIL_ERR_INVALID", rc);
    mail_mime_message_free(m);
  }
}
#endif

/* ------------------------------------------------------------ the table */

typedef void (*runner)(ctx *x);

typedef struct entry {
  const char *name;
  runner run;       /* NULL: exempt */
  const char *why;  /* the exemption's reason */
  int lengths;      /* takes a length: NUL is a hostile value too */
} entry;

#define RUN(n, f) {n, f, NULL, 0}
#define RUN_LEN(n, f) {n, f, NULL, 1} /* takes a length: NUL is hostile too */
#define EXEMPT(n, why) {n, NULL, why, 0}

#define WHY_PARSER "parses bytes a server or a message gave: nothing of the caller's is sent"
#define WHY_LOOKUP "looks a name up in what the server said or the caller stored: nothing is sent"
#define WHY_OUT "the char * is a buffer or pointer the call fills"
#define WHY_FILE "a local file or directory: read, never sent"
#define WHY_MAILDIR "the local maildir store: names, keys and flags name files, nothing is sent"
#define WHY_BODY "message body bytes: line breaks are content (CRLF-normalised, dot-stuffed or encoded on the way)"
#define WHY_B64 "SASL data: only ever sent base64-encoded (the protocols' set_auth apply the line rule to passwords)"
#define WHY_LOCAL "kept by the caller's process only (a local set or conversion): nothing is sent"

static const entry table[] = {
  /* conn.h */
  EXEMPT("mail_tls_config_set_ca_file", WHY_FILE),
  EXEMPT("mail_tls_config_set_ca_path", WHY_FILE),
  EXEMPT("mail_tls_config_set_ca_mem", "PEM text loaded into the TLS configuration: nothing is sent"),
  EXEMPT("mail_tls_config_set_client_cert_file", WHY_FILE),
  EXEMPT("mail_tls_config_set_client_cert_mem", "PEM text and a key passphrase used locally: nothing is sent"),
  EXEMPT("mail_tls_config_add_pin_sha256", "a pin compared with the server's key: nothing is sent"),
  RUN("mail_conn_set_tls_server_name", run_conn_set_tls_server_name),
  RUN("mail_conn_adopt_fd", run_conn_adopt_fd),
  RUN("mail_conn_connect", run_conn_connect),
  RUN("mail_conn_connect_addr", run_conn_connect_addr),
  RUN("mail_conn_set_proxy", run_conn_set_proxy),
  RUN("mail_conn_set_proxy_auth", run_conn_set_proxy_auth),
  RUN("mail_conn_set_proxy_url", run_conn_set_proxy_url),
  RUN("mail_conn_resolved", run_conn_resolved),
  EXEMPT("mail_conn_connect_unix", WHY_FILE),
  EXEMPT("mail_conn_peer_certificate", WHY_OUT),
  EXEMPT("mail_conn_feed", "bytes the server sent, handed to the protocol's parser: nothing is sent"),
  EXEMPT("mail_conn_drain", WHY_OUT),
  EXEMPT("mail_conn_feed_set_channel_binding", "TLS channel-binding data: only ever sent base64-encoded inside SASL"),
  EXEMPT("mail_conn_channel_binding", WHY_OUT),
  /* sasl.h */
  RUN("mail_sasl_set_username", run_sasl_set_username),
  EXEMPT("mail_sasl_set_password", WHY_B64),
  RUN("mail_sasl_set_authzid", run_sasl_set_authzid),
  RUN("mail_sasl_set_oauth_token", run_sasl_set_oauth_token),
  RUN("mail_sasl_set_oauth_host", run_sasl_set_oauth_host),
  EXEMPT("mail_sasl_set_channel_binding", "channel-binding bytes from the TLS layer, sent base64-encoded"),
  EXEMPT("mail_sasl_set_mechanisms", "an allow list matched against the server's mechanism names: a name the server did not offer is never sent"),
  EXEMPT("mail_sasl_select", WHY_PARSER),
  EXEMPT("mail_sasl_next_mechanism", WHY_OUT),
  EXEMPT("mail_sasl_start", "mech is matched against the mechanisms the library knows (MAIL_ERR_UNSUPPORTED otherwise); the rest is output"),
  EXEMPT("mail_sasl_step", WHY_PARSER),
  EXEMPT("mail_sasl_success", WHY_PARSER),
  EXEMPT("mail_sasl_downgrade_channel_binding", WHY_OUT),
  EXEMPT("mail_sasl_b64_encode", WHY_OUT),
  EXEMPT("mail_sasl_b64_decode", WHY_PARSER),
#if MAIL_HAVE_SMTP
  /* smtp.h, smtp_reply.h */
  RUN("mail_smtp_set_auth", run_smtp_set_auth),
#if MAIL_HAVE_SMTP_POOL
  /* smtp_pool.h */
  RUN("mail_smtp_pool_take", run_smtp_pool_take),
  RUN("mail_smtp_pool_unreserve", run_smtp_pool_unreserve),
#endif
  RUN("mail_smtp_set_client_name", run_smtp_set_client_name),
  RUN("mail_smtp_connect", run_smtp_connect),
  RUN("mail_smtp_connect_url", run_smtp_connect_url),
  EXEMPT("mail_smtp_connect_unix", WHY_FILE),
  EXEMPT("mail_smtp_has_capability", WHY_LOOKUP),
  RUN("mail_smtp_envelope_set_from", run_smtp_envelope_set_from),
  RUN("mail_smtp_envelope_add_recipient", run_smtp_envelope_add_recipient),
  RUN("mail_smtp_envelope_set_orcpt", run_smtp_envelope_set_orcpt),
  RUN("mail_smtp_envelope_set_envid", run_smtp_envelope_set_envid),
  EXEMPT("mail_smtp_reply_copy_text", WHY_OUT),
  EXEMPT("mail_smtp_caps_find", WHY_LOOKUP),
#endif
#if MAIL_HAVE_POP3
  /* pop3.h, pop3_reply.h */
  RUN("mail_pop3_set_auth", run_pop3_set_auth),
  RUN("mail_pop3_connect", run_pop3_connect),
  RUN("mail_pop3_connect_url", run_pop3_connect_url),
  EXEMPT("mail_pop3_has_capability", WHY_LOOKUP),
  EXEMPT("mail_pop3_uidl_at", WHY_OUT),
  EXEMPT("mail_pop3_uidl_one", WHY_OUT),
  EXEMPT("mail_pop3_uidset_add", WHY_LOCAL),
  EXEMPT("mail_pop3_uidset_contains", WHY_LOOKUP),
  EXEMPT("mail_pop3_reply_copy_text", WHY_OUT),
  EXEMPT("mail_pop3_parse_stat", WHY_PARSER),
  EXEMPT("mail_pop3_parse_list", WHY_PARSER),
  EXEMPT("mail_pop3_parse_uidl", WHY_PARSER),
  EXEMPT("mail_pop3_caps_add_line", WHY_PARSER),
  EXEMPT("mail_pop3_caps_find", WHY_LOOKUP),
#endif
#if MAIL_HAVE_IMAP
  /* imap.h */
  RUN("mail_imap_set_auth", run_imap_set_auth),
  RUN("mail_imap_connect", run_imap_connect),
  RUN("mail_imap_connect_url", run_imap_connect_url),
  EXEMPT("mail_imap_has_capability", WHY_LOOKUP),
  RUN("mail_imap_enable", run_imap_enable),
  EXEMPT("mail_imap_is_enabled", WHY_LOOKUP),
  RUN("mail_imap_id", run_imap_id),
  RUN("mail_imap_select", run_imap_select),
  RUN("mail_imap_create", run_imap_create),
  RUN("mail_imap_delete", run_imap_delete),
  RUN("mail_imap_rename", run_imap_rename),
  RUN("mail_imap_subscribe", run_imap_subscribe),
  RUN("mail_imap_unsubscribe", run_imap_unsubscribe),
  RUN("mail_imap_list", run_imap_list),
  RUN("mail_imap_status", run_imap_status),
  RUN("mail_imap_fetch", run_imap_fetch),
  RUN("mail_imap_store", run_imap_store),
  RUN("mail_imap_copy", run_imap_copy),
  RUN("mail_imap_search", run_imap_search),
  RUN("mail_imap_search_within", run_imap_search_within),
  RUN("mail_imap_append", run_imap_append),
#if MAIL_HAVE_MIME
  RUN("mail_imap_append_builder", run_imap_append_builder),
  RUN("mail_imap_getquota", run_imap_getquota),
  RUN("mail_imap_getquotaroot", run_imap_getquotaroot),
  RUN("mail_imap_setquota", run_imap_setquota),
  RUN("mail_imap_setacl", run_imap_setacl),
  RUN("mail_imap_deleteacl", run_imap_deleteacl),
  RUN("mail_imap_getacl", run_imap_getacl),
  RUN("mail_imap_listrights", run_imap_listrights),
  RUN("mail_imap_myrights", run_imap_myrights),
  RUN("mail_imap_getmetadata", run_imap_getmetadata),
  RUN_LEN("mail_imap_setmetadata", run_imap_setmetadata),
  RUN("mail_imap_sort", run_imap_sort),
  RUN("mail_imap_thread", run_imap_thread),
  RUN("mail_imap_create_special_use", run_imap_create_special_use),
  RUN("mail_imap_multiappend", run_imap_multiappend),
  RUN("mail_imap_store_labels", run_imap_store_labels),
  EXEMPT("mail_imap_response_quota", WHY_OUT),     /* imap_parse.h, added by ext */
  EXEMPT("mail_imap_response_acl", WHY_OUT),
  EXEMPT("mail_imap_response_metadata", WHY_OUT),
  RUN("mail_imap_select_qresync", run_imap_select_qresync),
  RUN("mail_imap_fetch_changedsince", run_imap_fetch_changedsince),
  RUN("mail_imap_notify_add", run_imap_notify_add),
  EXEMPT("mail_imap_sync_state_flags", WHY_OUT),
  EXEMPT("mail_imap_sync_state_save", WHY_FILE),
  EXEMPT("mail_imap_sync_state_load", WHY_FILE),
  RUN("mail_imap_sync_run", run_imap_sync_run),
  EXEMPT("mail_imap_sync_wait", "the mailbox goes the way of mail_imap_sync_run(), covered there (it waits on the network between runs)"),
  EXEMPT("mail_imap_sync_maildir", "the mailbox goes the way of mail_imap_sync_run(), covered there (it writes a local maildir)"),
#endif
  /* imap_parse.h */
  EXEMPT("mail_imap_response_text_base64", WHY_OUT),
  EXEMPT("mail_imap_response_mailbox", WHY_OUT),
  EXEMPT("mail_imap_response_delimiter", WHY_OUT),
  EXEMPT("mail_imap_response_list_ext", WHY_OUT),
  EXEMPT("mail_imap_response_status_item", WHY_OUT),
  EXEMPT("mail_imap_response_namespace", WHY_OUT),
  EXEMPT("mail_imap_response_esearch", WHY_OUT),
  EXEMPT("mail_imap_response_esearch_item", WHY_OUT),
  EXEMPT("mail_imap_response_defect", WHY_OUT),
  EXEMPT("mail_imap_fetch_binary_size", WHY_OUT),
  EXEMPT("mail_imap_body_param", WHY_OUT),
  EXEMPT("mail_imap_utf7_decode", WHY_LOCAL),
  EXEMPT("mail_imap_utf7_encode", WHY_LOCAL),
#endif
#if MAIL_HAVE_MAILDIR
  /* maildir.h */
  EXEMPT("mail_maildir_open", WHY_MAILDIR),
  EXEMPT("mail_maildir_delivery_commit", WHY_MAILDIR),
  EXEMPT("mail_maildir_deliver", WHY_MAILDIR),
  EXEMPT("mail_maildir_message_path", WHY_MAILDIR),
  EXEMPT("mail_maildir_get_flags", WHY_MAILDIR),
  EXEMPT("mail_maildir_set_flags", WHY_MAILDIR),
  EXEMPT("mail_maildir_remove", WHY_MAILDIR),
  EXEMPT("mail_maildir_flags_from_imap", WHY_MAILDIR),
  EXEMPT("mail_maildir_map_set", WHY_MAILDIR),
  EXEMPT("mail_maildir_map_get", WHY_MAILDIR),
  EXEMPT("mail_maildir_map_remove", WHY_MAILDIR),
#endif
#if MAIL_HAVE_MIME
  /* mime.h */
  EXEMPT("mail_mime_part_type_param", WHY_LOOKUP),
  EXEMPT("mail_mime_part_disposition_param", WHY_LOOKUP),
  EXEMPT("mail_mime_part_header_at", WHY_OUT),
  EXEMPT("mail_mime_part_header", WHY_LOOKUP),
  EXEMPT("mail_mime_part_header_decoded", WHY_LOOKUP),
  EXEMPT("mail_mime_part_decode", WHY_OUT),
  RUN("mail_mime_part_set_header", run_mime_part_set_header),
  EXEMPT("mail_mime_header_decode", WHY_PARSER),
  EXEMPT("mail_charset_to_utf8", WHY_PARSER),
  EXEMPT("mail_mime_safe_filename", "makes a local file name out of a message's: nothing is sent"),
  EXEMPT("mail_address_list_parse", WHY_PARSER),
  EXEMPT("mail_date_parse", WHY_PARSER),
  EXEMPT("mail_msgid_list_parse", WHY_PARSER),
  /* mime_build.h */
  RUN("mail_mime_builder_set_from", run_builder_set_from),
  RUN("mail_mime_builder_set_sender", run_builder_set_sender),
  RUN("mail_mime_builder_add_to", run_builder_add_to),
  RUN("mail_mime_builder_add_cc", run_builder_add_cc),
  RUN("mail_mime_builder_add_bcc", run_builder_add_bcc),
  RUN("mail_mime_builder_add_reply_to", run_builder_add_reply_to),
  RUN("mail_mime_builder_set_subject", run_builder_set_subject),
  RUN("mail_mime_builder_set_message_id", run_builder_set_message_id),
  RUN("mail_mime_builder_add_header", run_builder_add_header),
  EXEMPT("mail_mime_builder_set_text", WHY_BODY),
  EXEMPT("mail_mime_builder_set_html", WHY_BODY),
  RUN("mail_mime_builder_add_inline", run_builder_add_inline),
  RUN("mail_mime_builder_add_attachment", run_builder_add_attachment),
  RUN("mail_mime_builder_add_attachment_file", run_builder_add_attachment_file),
  RUN("mail_mime_builder_add_attachment_callback", run_builder_add_attachment_callback),
  RUN("mail_mime_builder_attach_message", run_builder_attach_message),
  RUN("mail_mime_builder_attach_message_data", run_builder_attach_message_data),
  RUN("mail_mime_builder_part_set_content_id", run_builder_part_set_content_id),
  RUN("mail_mime_builder_part_add_header", run_builder_part_add_header),
  EXEMPT("mail_mime_builder_read", WHY_OUT),
  EXEMPT("mail_mime_builder_read_cb", WHY_OUT),
  EXEMPT("mail_mime_builder_to_buffer", WHY_OUT),
  EXEMPT("mail_mime_builder_envelope_from", WHY_OUT),
  EXEMPT("mail_mime_builder_envelope_recipient", WHY_OUT),
#endif
#if MAIL_HAVE_NNTP
  /* nntp.h, nntp_reply.h */
  RUN("mail_nntp_set_auth", run_nntp_set_auth),
  RUN("mail_nntp_connect", run_nntp_connect),
  RUN("mail_nntp_connect_url", run_nntp_connect_url),
  EXEMPT("mail_nntp_has_capability", WHY_LOOKUP),
  EXEMPT("mail_nntp_has_capability_arg", WHY_LOOKUP),
  RUN("mail_nntp_group", run_nntp_group),
  RUN("mail_nntp_listgroup", run_nntp_listgroup),
  RUN("mail_nntp_article_by_id", run_nntp_article_by_id),
  RUN("mail_nntp_over_by_id", run_nntp_over_by_id),
  RUN("mail_nntp_hdr", run_nntp_hdr),
  RUN("mail_nntp_hdr_by_id", run_nntp_hdr_by_id),
  RUN("mail_nntp_list", run_nntp_list),
  RUN("mail_nntp_newnews", run_nntp_newnews),
  EXEMPT("mail_nntp_list_active_at", WHY_OUT),
  RUN("mail_nntp_ihave", run_nntp_ihave),
  EXEMPT("mail_nntp_reply_copy_text", WHY_OUT),
  EXEMPT("mail_nntp_parse_group", WHY_PARSER),
  EXEMPT("mail_nntp_parse_article", WHY_PARSER),
  EXEMPT("mail_nntp_parse_date", WHY_PARSER),
  EXEMPT("mail_nntp_parse_active", WHY_PARSER),
#endif
};

#define N_TABLE (sizeof table / sizeof table[0])

static const entry *find(const char *name)
{
  for (size_t i = 0; i < N_TABLE; i++)
    if (!strcmp(table[i].name, name))
      return &table[i];
  return NULL;
}

/* The server must see what it is there to see: a line made by an
 * injected line break, a bare CR, a NUL; and not a literal's content. */
static int self_check(void)
{
  static const struct {
    const char *bytes;
    size_t len;
    int injected;
  } cases[] = {
#define C(bytes, injected) {bytes, sizeof bytes - 1, injected}
    C("A1 SELECT a\r\nINJECTED x\r\n", 1),
    C("A1 SELECT a\rINJECTED x\r\n", 1),
    C("A1 SELECT a\0INJECTED x\r\n", 1),
    C("A1 SELECT {11}\r\na\r\nINJECTED\r\n", 0),
    C("A1 SELECT \"a&AA0ACg-INJECTED\"\r\n", 0),
#undef C
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fake_server f;
    fake_init(&f, FAKE_IMAP);
    fake_feed(&f, cases[i].bytes, cases[i].len);
    int seen = f.injected || f.bare_cr || f.nul;
    if (seen != cases[i].injected) {
      printf("FAIL self-check %zu: the fake server %s an injection\n", i,
             seen ? "saw" : "missed");
      bad++;
    }
    fake_free(&f);
  }
  return bad;
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s CHAR_ARGS_FILE\n", argv[0]);
    return 2;
  }
  FILE *fp = fopen(argv[1], "r");
  if (!fp) {
    perror(argv[1]);
    return 2;
  }
  ctx x;
  memset(&x, 0, sizeof x);
  x.failures = self_check();
#if MAIL_HAVE_SMTP
  x.failures += smtp_parameters();
#endif
  char line[256];
  int missing = 0, listed = 0, ran = 0, exempt = 0;
  static char seen[N_TABLE];
  while (fgets(line, sizeof line, fp)) {
    char name[128], header[64];
    if (sscanf(line, "%127s %63s", name, header) != 2)
      continue;
    listed++;
    const entry *e = find(name);
    if (!e) {
      printf("MISSING %s (%s): add RUN(\"%s\", runner) or EXEMPT(\"%s\", \"reason\") to "
             "tests/hostile/test_injection.c\n", name, header, name, name);
      missing++;
      continue;
    }
    seen[e - table] = 1;
    if (!e->run) {
      if (!e->why || !*e->why) {
        printf("FAIL %s: an exemption without its reason\n", name);
        x.failures++;
      }
      exempt++;
      continue;
    }
    ran++;
    x.fn = name;
    for (size_t v = 0; v < (e->lengths ? 4u : N_STR_EVILS); v++) {
      x.e = &evils[v];
      e->run(&x);
    }
  }
  fclose(fp);
  int stale = 0;
  for (size_t i = 0; i < N_TABLE; i++)
    if (!seen[i]) {
      printf("STALE %s: in the table, but no public header declares it with a char * "
             "parameter (remove the entry)\n", table[i].name);
      stale++;
    }
  fake_free(&x.f);
  printf("hostile-injection: %d functions with char * parameters: %d run (%d calls), %d exempt, "
         "%d missing, %d stale, %d failures\n",
         listed, ran, x.calls, exempt, missing, stale, x.failures);
  return missing || stale || x.failures || !listed ? 1 : 0;
}

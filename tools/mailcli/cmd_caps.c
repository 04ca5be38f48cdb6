/* mailcli caps URL: the server's capabilities (EHLO/LHLO or CAPA), before
 * and after TLS. On a STARTTLS port the list before TLS comes from a
 * first, separate connection that stops before STARTTLS: the session
 * itself forgets what it learned before TLS, as it must. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_session.h"
#include "smtp_session.h"
#if MAIL_HAVE_IMAP
#include "imap_session.h"
#endif

/* One capability list, whichever protocol it came from. */
typedef struct caps_view {
  const void *list;
  size_t (*count)(const void *);
  const char *(*keyword)(const void *, size_t);
  size_t (*param_count)(const void *, size_t);
  const char *(*param)(const void *, size_t, size_t);
} caps_view;

static size_t smtp_count(const void *l) { return mail_smtp_caps_count(l); }
static const char *smtp_kw(const void *l, size_t i) { return mail_smtp_caps_keyword(l, i); }
static size_t smtp_np(const void *l, size_t i) { return mail_smtp_caps_param_count(l, i); }
static const char *smtp_p(const void *l, size_t i, size_t j) { return mail_smtp_caps_param(l, i, j); }
static size_t pop3_count(const void *l) { return mail_pop3_caps_count(l); }
static const char *pop3_kw(const void *l, size_t i) { return mail_pop3_caps_keyword(l, i); }
static size_t pop3_np(const void *l, size_t i) { return mail_pop3_caps_param_count(l, i); }
static const char *pop3_p(const void *l, size_t i, size_t j) { return mail_pop3_caps_param(l, i, j); }

static caps_view smtp_view(const mail_smtp_caps *c)
{
  caps_view v = {c, smtp_count, smtp_kw, smtp_np, smtp_p};
  return v;
}

static caps_view pop3_view(const mail_pop3_caps *c)
{
  caps_view v = {c, pop3_count, pop3_kw, pop3_np, pop3_p};
  return v;
}

static void print_list(const cli_options *o, const caps_view *v)
{
  size_t n = v->count(v->list);
  if (o->json)
    putchar('[');
  for (size_t i = 0; i < n; i++) {
    if (o->json) {
      printf("%s{\"keyword\": ", i ? ", " : "");
      json_string(stdout, v->keyword(v->list, i));
      fputs(", \"params\": [", stdout);
    } else {
      printf("  %s", v->keyword(v->list, i));
    }
    for (size_t j = 0; j < v->param_count(v->list, i); j++) {
      if (o->json) {
        fputs(j ? ", " : "", stdout);
        json_string(stdout, v->param(v->list, i, j));
      } else {
        printf(" %s", v->param(v->list, i, j));
      }
    }
    fputs(o->json ? "]}" : "\n", stdout);
  }
  if (o->json)
    putchar(']');
}

/* Print one connection's view: protocol, TLS state, list. */
static void print_section(const cli_options *o, const char *title, mail_conn *conn,
                          const caps_view *v, int *first)
{
  if (o->json) {
    json_key(stdout, first, title);
    print_list(o, v);
    return;
  }
  if (!strcmp(title, "after_tls") && mail_conn_is_tls(conn))
    printf("after TLS (%s, %s, %s):\n", mail_conn_tls_version(conn), mail_conn_tls_cipher(conn),
           mail_conn_is_verified(conn) ? "certificate verified" : "certificate NOT verified");
  else if (!strcmp(title, "after_tls"))
    printf("without TLS:\n");
  else
    printf("before TLS:\n");
  print_list(o, v);
}

static void print_tls_json(mail_conn *conn, int *first)
{
  json_key(stdout, first, "tls");
  if (!mail_conn_is_tls(conn)) {
    fputs("null", stdout);
    return;
  }
  int f = 1;
  putchar('{');
  json_field(stdout, &f, "version", mail_conn_tls_version(conn));
  json_field(stdout, &f, "cipher", mail_conn_tls_cipher(conn));
  json_key(stdout, &f, "verified");
  fputs(mail_conn_is_verified(conn) ? "true" : "false", stdout);
  putchar('}');
}

static int smtp_caps(const cli_options *o, const cli_secrets *sec, const char *url, int *first)
{
  mail_smtp *s = NULL;
  int code;
  int plain_port = !cli_url_is(url, "smtps") && strncmp(url, "lmtp:///", 8) != 0;
  if (plain_port) {
    if ((code = cli_smtp_new(o, sec, url, MAIL_SECURITY_NONE_INSECURE, &s)) != EXIT_OK)
      return code;
    int rc = mail_smtp_connect_url(s, url);
    if (rc) {
      code = rc == MAIL_ERR_SYNTAX ? cli_usage_error("bad URL '%s'", url)
                                   : cli_smtp_fail(s, rc, "connect (before TLS)");
      mail_smtp_free(s);
      return code;
    }
    caps_view v = smtp_view(mail_smtp_capabilities(s));
    print_section(o, "before_tls", mail_smtp_conn(s), &v, first);
    mail_smtp_quit(s);
    mail_smtp_free(s);
    s = NULL;
  }
  if ((code = cli_smtp_new(o, sec, url, -1, &s)) != EXIT_OK)
    return code;
  int rc = mail_smtp_connect_url(s, url);
  if (rc) {
    code = rc == MAIL_ERR_SYNTAX ? cli_usage_error("bad URL '%s'", url) : cli_smtp_fail(s, rc, "connect");
    mail_smtp_free(s);
    return code;
  }
  caps_view v = smtp_view(mail_smtp_capabilities(s));
  if (o->json) {
    print_tls_json(mail_smtp_conn(s), first);
    json_field(stdout, first, "greeting", mail_smtp_greeting(s));
  } else {
    printf("greeting: %s\n", mail_smtp_greeting(s) ? mail_smtp_greeting(s) : "");
  }
  print_section(o, "after_tls", mail_smtp_conn(s), &v, first);
  mail_smtp_quit(s);
  mail_smtp_free(s);
  return EXIT_OK;
}

static int pop3_caps(const cli_options *o, const cli_secrets *sec, const char *url, int *first)
{
  mail_pop3 *p = NULL;
  int code;
  if (!cli_url_is(url, "pop3s")) {
    if ((code = cli_pop3_new(o, sec, url, MAIL_SECURITY_NONE_INSECURE, &p)) != EXIT_OK)
      return code;
    if ((code = cli_pop3_connect_only(p, url, "connect (before TLS)")) != EXIT_OK) {
      mail_pop3_free(p);
      return code;
    }
    caps_view v = pop3_view(mail_pop3_capabilities(p));
    print_section(o, "before_tls", mail_pop3_conn(p), &v, first);
    mail_pop3_quit(p, NULL);
    mail_pop3_free(p);
    p = NULL;
  }
  if ((code = cli_pop3_new(o, sec, url, -1, &p)) != EXIT_OK)
    return code;
  if ((code = cli_pop3_connect_only(p, url, "connect")) != EXIT_OK) {
    mail_pop3_free(p);
    return code;
  }
  caps_view v = pop3_view(mail_pop3_capabilities(p));
  if (o->json) {
    print_tls_json(mail_pop3_conn(p), first);
    json_field(stdout, first, "greeting", mail_pop3_greeting(p));
  } else {
    printf("greeting: %s\n", mail_pop3_greeting(p) ? mail_pop3_greeting(p) : "");
  }
  print_section(o, "after_tls", mail_pop3_conn(p), &v, first);
  mail_pop3_quit(p, NULL);
  mail_pop3_free(p);
  return EXIT_OK;
}

#if MAIL_HAVE_IMAP
/* IMAP's list is one line of atoms: split (a copy) at the spaces. */
typedef struct imap_caps_list {
  char *text;
  char **word;
  size_t n;
} imap_caps_list;

static size_t imap_count(const void *l) { return ((const imap_caps_list *)l)->n; }
static const char *imap_kw(const void *l, size_t i) { return ((const imap_caps_list *)l)->word[i]; }
static size_t imap_np(const void *l, size_t i) { (void)l, (void)i; return 0; }
static const char *imap_p(const void *l, size_t i, size_t j) { (void)l, (void)i, (void)j; return NULL; }

static int imap_section(const cli_options *o, mail_imap *im, const char *title, int *first)
{
  imap_caps_list l = {NULL, NULL, 0};
  const char *caps = mail_imap_capabilities(im);
  size_t len = caps ? strlen(caps) : 0;
  if (!(l.text = malloc(len + 1)) || !(l.word = calloc(len / 2 + 2, sizeof *l.word))) {
    free(l.text);
    return cli_fail(EXIT_INPUT, "caps", "out of memory");
  }
  memcpy(l.text, caps ? caps : "", len + 1);
  for (char *p = strtok(l.text, " "); p; p = strtok(NULL, " "))
    l.word[l.n++] = p;
  caps_view v = {&l, imap_count, imap_kw, imap_np, imap_p};
  print_section(o, title, mail_imap_conn(im), &v, first);
  free(l.word);
  free(l.text);
  return EXIT_OK;
}

static int imap_caps(const cli_options *o, const cli_secrets *sec, const char *url, int *first)
{
  cli_options plain = *o;
  mail_imap *im = NULL;
  int code, rc;
  if (!cli_url_is(url, "imaps")) {
    plain.security = MAIL_SECURITY_NONE_INSECURE;
    if ((code = cli_imap_new(&plain, sec, url, &im)) != EXIT_OK)
      return code;
    if ((rc = mail_imap_connect_url(im, url)) != MAIL_OK) {
      code = rc == MAIL_ERR_SYNTAX ? cli_usage_error("bad URL '%s'", url)
                                   : cli_imap_fail(im, rc, "connect (before TLS)");
      mail_imap_free(im);
      return code;
    }
    code = imap_section(o, im, "before_tls", first);
    mail_imap_logout(im);
    mail_imap_free(im);
    if (code)
      return code;
    im = NULL;
  }
  if ((code = cli_imap_new(o, sec, url, &im)) != EXIT_OK)
    return code;
  if ((rc = mail_imap_connect_url(im, url)) != MAIL_OK) {
    code = rc == MAIL_ERR_SYNTAX ? cli_usage_error("bad URL '%s'", url) : cli_imap_fail(im, rc, "connect");
    mail_imap_free(im);
    return code;
  }
  if (o->json) {
    print_tls_json(mail_imap_conn(im), first);
    json_field(stdout, first, "greeting", mail_imap_greeting(im));
  } else {
    printf("greeting: %s\n", mail_imap_greeting(im) ? mail_imap_greeting(im) : "");
  }
  code = imap_section(o, im, "after_tls", first);
  mail_imap_logout(im);
  mail_imap_free(im);
  return code;
}
#endif

int cmd_caps(const cli_options *o, cli_args *a)
{
  if (a->argc != 1)
    return cli_usage_error("caps needs one URL");
  const char *url = a->argv[0];
  int is_smtp = cli_smtp_url(url), is_pop3 = cli_pop3_url(url), is_imap = 0;
#if MAIL_HAVE_IMAP
  is_imap = cli_imap_url(url);
#endif
  if (!is_smtp && !is_pop3 && !is_imap)
    return cli_usage_error("caps: '%s' is not an smtp://, submission://, smtps://, lmtp://, "
                           "pop3://, pop3s://, imap:// or imaps:// URL", url);
  cli_secrets sec;
  int code = cli_load_secrets(o, &sec);
  int first = 1;
  if (o->json) {
    putchar('{');
    json_field(stdout, &first, "protocol",
               is_smtp ? (cli_url_is(url, "lmtp") ? "lmtp" : "smtp") : is_imap ? "imap" : "pop3");
  }
#if MAIL_HAVE_IMAP
  if (!code && is_imap)
    code = imap_caps(o, &sec, url, &first);
  else
#endif
  if (!code)
    code = is_smtp ? smtp_caps(o, &sec, url, &first) : pop3_caps(o, &sec, url, &first);
  cli_wipe_secrets(&sec);
  if (o->json)
    puts("}");
  return code;
}

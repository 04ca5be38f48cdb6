/* mailcli send URL --from ADDR --to ADDR... : one message, one result
 * line (or JSON object) per recipient. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compose.h"
#include "smtp_session.h"

typedef struct send_job {
  compose c;
  mail_smtp_envelope *env;
  mail_mime_builder *msg;
  FILE *raw;
  uint64_t size;
  cli_progress progress;
} send_job;

/* --dsn SPEC: comma-separated never, success, failure, delay, ret=full,
 * ret=hdrs, envid=ID. */
static int apply_dsn(send_job *j)
{
  char spec[512];
  if (strlen(j->c.dsn) >= sizeof spec)
    return cli_usage_error("--dsn: too long");
  strcpy(spec, j->c.dsn);
  unsigned notify = 0;
  int rc = MAIL_OK;
  for (char *save = NULL, *w = strtok_r(spec, ",", &save); w && !rc; w = strtok_r(NULL, ",", &save)) {
    if (!strcmp(w, "never"))
      notify |= MAIL_SMTP_NOTIFY_NEVER;
    else if (!strcmp(w, "success"))
      notify |= MAIL_SMTP_NOTIFY_SUCCESS;
    else if (!strcmp(w, "failure"))
      notify |= MAIL_SMTP_NOTIFY_FAILURE;
    else if (!strcmp(w, "delay"))
      notify |= MAIL_SMTP_NOTIFY_DELAY;
    else if (!strcmp(w, "ret=full"))
      rc = mail_smtp_envelope_set_ret(j->env, MAIL_SMTP_RET_FULL);
    else if (!strcmp(w, "ret=hdrs"))
      rc = mail_smtp_envelope_set_ret(j->env, MAIL_SMTP_RET_HDRS);
    else if (!strncmp(w, "envid=", 6))
      rc = mail_smtp_envelope_set_envid(j->env, w + 6);
    else
      return cli_usage_error("--dsn: unknown item '%s' (never, success, failure, delay, "
                             "ret=full, ret=hdrs, envid=ID)", w);
  }
  for (size_t i = 0; !rc && notify && i < mail_smtp_envelope_recipient_count(j->env); i++)
    rc = mail_smtp_envelope_set_notify(j->env, i, notify);
  return rc ? cli_fail(EXIT_INPUT, "--dsn", "%s", mail_strerror(rc)) : EXIT_OK;
}

static int add_rcpts(mail_smtp_envelope *env, const char **list, size_t n, const char *opt)
{
  for (size_t i = 0; i < n; i++) {
    char buf[1024];
    const char *name, *addr;
    int rc = compose_split_address(list[i], buf, sizeof buf, &name, &addr)
                 ? MAIL_ERR_SYNTAX
                 : mail_smtp_envelope_add_recipient(env, addr, NULL);
    if (rc)
      return cli_fail(EXIT_INPUT, opt, "%s: %s", list[i], mail_strerror(rc));
  }
  return EXIT_OK;
}

static int build_envelope(send_job *j)
{
  char buf[1024];
  const char *name, *addr;
  int rc = mail_smtp_envelope_new(&j->env, NULL);
  if (rc)
    return cli_fail(EXIT_INPUT, "envelope", "%s", mail_strerror(rc));
  if (compose_split_address(j->c.from, buf, sizeof buf, &name, &addr) ||
      (rc = mail_smtp_envelope_set_from(j->env, addr)) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "--from", "%s: %s", j->c.from,
                    mail_strerror(rc ? rc : MAIL_ERR_SYNTAX));
  int code = add_rcpts(j->env, j->c.to, j->c.nto, "--to");
  if (!code)
    code = add_rcpts(j->env, j->c.cc, j->c.ncc, "--cc");
  if (!code)
    code = add_rcpts(j->env, j->c.bcc, j->c.nbcc, "--bcc");
  if (!code && j->c.dsn)
    code = apply_dsn(j);
  return code;
}

static int raw_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  FILE *f = user;
  *got = fread(buf, 1, cap, f);
  return ferror(f) ? -1 : 0;
}

/* --raw FILE|-: standard input is spooled to a temporary file first, so
 * the size is known and memory stays bounded. One pass finds what the
 * message needs (8-bit bytes; UTF-8 in the header section: SMTPUTF8). */
static int open_raw(send_job *j, unsigned *needs)
{
  FILE *f = strcmp(j->c.raw, "-") ? fopen(j->c.raw, "rb") : tmpfile();
  if (!f)
    return cli_fail(EXIT_INPUT, "--raw", "%s: %s", j->c.raw, strerror(errno));
  j->raw = f;
  if (!strcmp(j->c.raw, "-")) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
      if (fwrite(buf, 1, n, f) != n)
        return cli_fail(EXIT_INPUT, "--raw", "spooling standard input: %s", strerror(errno));
    if (ferror(stdin) || fflush(f))
      return cli_fail(EXIT_INPUT, "--raw", "reading standard input: %s", strerror(errno));
    rewind(f);
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0)
    return cli_fail(EXIT_INPUT, "--raw", "%s: %s", j->c.raw, strerror(errno));
  j->size = (uint64_t)st.st_size;
  int ch, prev = 0, prev2 = 0, in_headers = 1;
  *needs = 0;
  while ((ch = getc(f)) != EOF) {
    if (ch >= 0x80)
      *needs |= MAIL_SMTP_NEEDS_8BIT | (in_headers ? MAIL_SMTP_NEEDS_SMTPUTF8 : 0);
    if (ch == '\n' && (prev == '\n' || (prev == '\r' && prev2 == '\n')))
      in_headers = 0;
    prev2 = prev;
    prev = ch;
  }
  if (ferror(f))
    return cli_fail(EXIT_INPUT, "--raw", "%s: %s", j->c.raw, strerror(errno));
  rewind(f);
  return EXIT_OK;
}

static int on_progress(void *user, uint64_t sent, uint64_t total)
{
  (void)total;
  cli_progress_update(user, sent);
  return 0;
}

/* The body goes on the envelope once the server's extensions are known. */
static int set_body(send_job *j, mail_smtp *s, unsigned raw_needs)
{
  int rc;
  if (j->raw) {
    rc = mail_smtp_envelope_set_body_callback(j->env, raw_read, j->raw, j->size, raw_needs);
  } else {
    unsigned opts = 0;
    if (mail_smtp_has_capability(s, "8BITMIME"))
      opts |= MAIL_MIME_OPT_8BITMIME;
    if (mail_smtp_has_capability(s, "SMTPUTF8"))
      opts |= MAIL_MIME_OPT_SMTPUTF8;
    rc = mail_mime_builder_set_options(j->msg, opts);
    if (!rc)
      rc = mail_smtp_envelope_set_body_mime(j->env, j->msg);
    if (!rc)
      rc = mail_mime_builder_size(j->msg, &j->size);
  }
  return rc ? cli_fail(cli_exit_code(rc), "message", "%s", mail_strerror(rc)) : EXIT_OK;
}

static void print_results(const cli_options *o, mail_smtp_envelope *env)
{
  for (size_t i = 0; i < mail_smtp_envelope_recipient_count(env); i++) {
    int st = mail_smtp_envelope_recipient_status(env, i);
    const char *word = st == MAIL_OK ? "OK" : st == MAIL_ERR_SERVER ? "REFUSED" : "NOT-SENT";
    unsigned c = 0, sj = 0, d = 0;
    char enh[32] = "";
    if (mail_smtp_envelope_recipient_enhanced(env, i, &c, &sj, &d) == MAIL_OK)
      snprintf(enh, sizeof enh, "%u.%u.%u", c, sj, d);
    const char *addr = mail_smtp_envelope_recipient_address(env, i);
    const char *text = mail_smtp_envelope_recipient_text(env, i);
    int code = mail_smtp_envelope_recipient_code(env, i);
    if (o->json) {
      int first = 1;
      putchar('{');
      json_field(stdout, &first, "recipient", addr);
      json_field(stdout, &first, "status", st == MAIL_OK ? "ok" : st == MAIL_ERR_SERVER ? "refused" : "not-sent");
      json_key(stdout, &first, "code");
      printf("%d", code);
      json_field(stdout, &first, "enhanced", *enh ? enh : NULL);
      json_field(stdout, &first, "text", text);
      puts("}");
    } else {
      printf("%s: %s %d%s%s %s\n", addr, word, code, *enh ? " " : "", enh, text);
    }
  }
  fflush(stdout);
}

/* An SMTP reply that says authentication is needed or failed (RFC 4954:
 * 530 5.7.0, 534 5.7.9, 535 5.7.8, 538 5.7.11). */
static int is_auth_reply(const mail_smtp_reply *r)
{
  int code = mail_smtp_reply_code(r);
  return code == 530 || code == 534 || code == 535 || code == 538;
}

/* A refused transaction: the library's one description of it names the
 * command and the server's reply ("MAIL FROM:<a@b>: 530 5.7.0 ..."); a
 * decisive reply asking for authentication is an authentication failure. */
static int report_send(send_job *j, mail_smtp *s, int rc)
{
  (void)j;
  const mail_smtp_reply *r = mail_smtp_last_reply(s);
  if (rc == MAIL_ERR_SERVER || rc == MAIL_ERR_RECIPIENTS || rc == MAIL_ERR_PARTIAL) {
    int code = cli_exit_code(rc);
    if (rc == MAIL_ERR_SERVER && r && is_auth_reply(r))
      code = EXIT_AUTH;
    cli_fail(code, "send", "%s", mail_conn_last_error(mail_smtp_conn(s)));
    mail_smtp_quit(s);
    return code;
  }
  return cli_smtp_fail(s, rc, "send");
}

static int run(const cli_options *o, send_job *j, const char *url)
{
  cli_secrets sec;
  int code = cli_load_secrets(o, &sec);
  mail_smtp *s = NULL;
  if (!code)
    code = build_envelope(j);
  if (!code && !j->c.raw)
    code = compose_build(&j->c, 0, &j->msg);
  unsigned raw_needs = 0;
  if (!code && j->c.raw)
    code = open_raw(j, &raw_needs);
  if (!code)
    code = cli_smtp_new(o, &sec, url, -1, &s);
  if (!code)
    code = cli_smtp_connect(o, &sec, s, url);
  cli_wipe_secrets(&sec);
  if (code) {
    mail_smtp_free(s);
    return code;
  }
  if ((code = set_body(j, s, raw_needs)) != EXIT_OK) {
    mail_smtp_quit(s);
    mail_smtp_free(s);
    return code;
  }
  cli_progress_begin(&j->progress, o, "sending", j->size);
  mail_smtp_set_progress(s, on_progress, &j->progress);
  int rc = mail_smtp_send(s, j->env);
  cli_progress_end(&j->progress);
  print_results(o, j->env);
  if (rc == MAIL_OK) {
    mail_smtp_quit(s);
    code = EXIT_OK;
  } else {
    code = report_send(j, s, rc);
  }
  mail_smtp_free(s);
  return code;
}

int cmd_send(const cli_options *o, cli_args *a)
{
  send_job j;
  memset(&j, 0, sizeof j);
  int code = compose_parse(&j.c, a);
  if (!code && j.c.npositional != 1)
    code = cli_usage_error("send needs one URL (smtp://, submission://, smtps:// or lmtp://)");
  if (!code && !cli_smtp_url(j.c.positional[0]))
    code = cli_usage_error("send: '%s' is not an smtp://, submission://, smtps:// or lmtp:// URL",
                           j.c.positional[0]);
  if (!code && !j.c.from)
    code = cli_usage_error("send needs --from");
  if (!code && j.c.nto + j.c.ncc + j.c.nbcc == 0)
    code = cli_usage_error("send needs at least one --to, --cc or --bcc");
  if (!code)
    code = run(o, &j, j.c.positional[0]);
  mail_smtp_envelope_free(j.env);
  mail_mime_builder_free(j.msg);
  if (j.raw)
    fclose(j.raw);
  compose_free(&j.c);
  return code;
}

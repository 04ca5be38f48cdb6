/* mailcli pop3 URL stat | list | uidl | retr MSG | top MSG LINES | dele MSG
 *                  | fetch MAILDIR [--keep DAYS]
 * MSG is a message number, or --uid UID (looked up with UIDL in the same
 * session, so it names the same message even when others change the
 * mailbox between two runs). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pop3_session.h"

typedef struct pop3_cmd {
  const char *url, *action, *uid, *keep;
  const char *pos[3];
  int npos;
} pop3_cmd;

static int parse(cli_args *a, pop3_cmd *c)
{
  memset(c, 0, sizeof *c);
  int options = 1;
  for (int i = 0; i < a->argc; i++) {
    const char *k = a->argv[i];
    if (options && !strcmp(k, "--")) {
      options = 0;
    } else if (options && (!strcmp(k, "--uid") || !strcmp(k, "--keep"))) {
      if (i + 1 >= a->argc)
        return cli_usage_error("%s needs a value", k);
      *(!strcmp(k, "--uid") ? &c->uid : &c->keep) = a->argv[++i];
    } else if (options && k[0] == '-' && k[1]) {
      return cli_usage_error("pop3: unknown option %s", k);
    } else if (!c->url) {
      c->url = k;
    } else if (!c->action) {
      c->action = k;
    } else if (c->npos < 3) {
      c->pos[c->npos++] = k;
    } else {
      return cli_usage_error("pop3: too many arguments");
    }
  }
  if (!c->url || !c->action)
    return cli_usage_error("pop3 needs a URL and an action (stat, list, uidl, retr, top, dele, fetch)");
  if (!cli_pop3_url(c->url))
    return cli_usage_error("pop3: '%s' is not a pop3:// or pop3s:// URL", c->url);
  return EXIT_OK;
}

/* The message a MSG argument (or --uid) names, in this session. */
static int resolve(mail_pop3 *p, pop3_cmd *c, const char *arg, uint32_t *msg)
{
  unsigned long long n;
  if (!c->uid) {
    if (!arg || cli_number(arg, 1, UINT32_MAX, &n))
      return cli_usage_error("%s needs a message number or --uid UID", c->action);
    *msg = (uint32_t)n;
    return EXIT_OK;
  }
  int rc = mail_pop3_uidl(p);
  if (rc)
    return cli_pop3_fail(p, rc, "UIDL");
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    const char *uid;
    if (mail_pop3_uidl_at(p, i, msg, &uid) == MAIL_OK && !strcmp(uid, c->uid))
      return EXIT_OK;
  }
  mail_pop3_quit(p, NULL);
  return cli_fail(EXIT_REFUSED, c->action, "no message with UID %s", c->uid);
}

static int do_stat(const cli_options *o, mail_pop3 *p)
{
  uint32_t count;
  uint64_t size;
  int rc = mail_pop3_stat(p, &count, &size);
  if (rc)
    return cli_pop3_fail(p, rc, "STAT");
  if (o->json)
    printf("{\"count\": %u, \"size\": %llu}\n", (unsigned)count, (unsigned long long)size);
  else
    printf("%u messages, %llu bytes\n", (unsigned)count, (unsigned long long)size);
  return EXIT_OK;
}

static int do_list(const cli_options *o, mail_pop3 *p)
{
  int rc = mail_pop3_list(p);
  if (rc)
    return cli_pop3_fail(p, rc, "LIST");
  for (size_t i = 0; i < mail_pop3_list_count(p); i++) {
    uint32_t msg;
    uint64_t size;
    mail_pop3_list_at(p, i, &msg, &size);
    printf(o->json ? "{\"msg\": %u, \"size\": %llu}\n" : "%u %llu\n", (unsigned)msg,
           (unsigned long long)size);
  }
  return EXIT_OK;
}

static int do_uidl(const cli_options *o, mail_pop3 *p)
{
  int rc = mail_pop3_uidl(p);
  if (rc)
    return cli_pop3_fail(p, rc, "UIDL");
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    uint32_t msg;
    const char *uid;
    mail_pop3_uidl_at(p, i, &msg, &uid);
    if (o->json) {
      printf("{\"msg\": %u, \"uid\": ", (unsigned)msg);
      json_string(stdout, uid);
      puts("}");
    } else {
      printf("%u %s\n", (unsigned)msg, uid);
    }
  }
  return EXIT_OK;
}

typedef struct to_stdout {
  cli_progress progress;
  uint64_t done;
} to_stdout;

/* The message exactly as the server sent it (dot-unstuffed). */
static int write_body(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  to_stdout *t = user;
  (void)msg;
  if (event != MAIL_POP3_BODY_DATA)
    return 0;
  if (fwrite(data, 1, len, stdout) != len)
    return 1;
  t->done += len;
  cli_progress_update(&t->progress, t->done);
  return 0;
}

static int do_retr(const cli_options *o, mail_pop3 *p, pop3_cmd *c, int top)
{
  uint32_t msg;
  unsigned long long lines = 0;
  int code = resolve(p, c, c->uid ? NULL : c->pos[0], &msg);
  if (code)
    return code;
  const char *lines_arg = c->pos[c->uid ? 0 : 1];
  if (top && (!lines_arg || cli_number(lines_arg, 0, UINT32_MAX, &lines)))
    return cli_usage_error("top needs a line count: top MSG LINES");
  to_stdout t = {{0}, 0};
  uint64_t size = 0;
  char what[40];
  snprintf(what, sizeof what, "%s %u", top ? "TOP" : "RETR", (unsigned)msg);
  /* The size, for the progress bar only: no extra command without a terminal. */
  if (!top && !o->trace && isatty(STDERR_FILENO)) {
    int rc = mail_pop3_list_one(p, msg, &size);
    if (rc)
      return cli_pop3_fail(p, rc, what);
  }
  cli_progress_begin(&t.progress, o, "receiving", size);
  int rc = top ? mail_pop3_top(p, msg, (uint32_t)lines, write_body, &t)
               : mail_pop3_retr(p, msg, write_body, &t);
  cli_progress_end(&t.progress);
  if (fflush(stdout) != 0 && !rc)
    rc = MAIL_ERR_CALLBACK;
  if (rc == MAIL_ERR_CALLBACK) {
    mail_pop3_quit(p, NULL);
    return cli_fail(EXIT_INPUT, what, "writing to standard output failed");
  }
  return rc ? cli_pop3_fail(p, rc, what) : EXIT_OK;
}

static int do_dele(const cli_options *o, mail_pop3 *p, pop3_cmd *c)
{
  uint32_t msg;
  int code = resolve(p, c, c->pos[0], &msg);
  if (code)
    return code;
  char what[40];
  snprintf(what, sizeof what, "DELE %u", (unsigned)msg);
  int rc = mail_pop3_dele(p, msg);
  if (rc)
    return cli_pop3_fail(p, rc, what);
  int committed = 0;
  rc = mail_pop3_quit(p, &committed);
  if (rc || !committed)
    return cli_pop3_fail(p, rc ? rc : MAIL_ERR_SERVER, "QUIT (deletion not committed)");
  if (o->json)
    printf("{\"msg\": %u, \"deleted\": true}\n", (unsigned)msg);
  else
    printf("message %u deleted\n", (unsigned)msg);
  return EXIT_OK;
}

int cmd_pop3(const cli_options *o, cli_args *a)
{
  pop3_cmd c;
  int code = parse(a, &c);
  if (code)
    return code;
  static const char *const actions[] = {"stat", "list", "uidl", "retr", "top", "dele", "fetch"};
  static const int max_pos[] = {0, 0, 0, 1, 2, 1, 1};
  size_t k = 0;
  while (k < 7 && strcmp(c.action, actions[k]))
    k++;
  if (k == 7)
    return cli_usage_error("pop3: unknown action '%s' (stat, list, uidl, retr, top, dele, fetch)",
                           c.action);
  if (c.npos > max_pos[k] || (c.uid && (k < 3 || k == 6)) || (c.keep && k != 6))
    return cli_usage_error("pop3 %s: unexpected arguments (try --help)", c.action);
  if (k == 6 && c.npos != 1)
    return cli_usage_error("pop3 fetch needs a maildir: fetch MAILDIR [--keep DAYS]");
  unsigned long long keep = 0;
  int has_keep = c.keep != NULL;
  if (has_keep && cli_number(c.keep, 0, 36500, &keep))
    return cli_usage_error("--keep: a number of days from 0 to 36500, not '%s'", c.keep);

  cli_secrets sec;
  mail_pop3 *p = NULL;
  code = cli_load_secrets(o, &sec);
  if (!code)
    code = cli_pop3_new(o, &sec, c.url, -1, &p);
  if (!code)
    code = k == 6 ? pop3_fetch_prepare(c.pos[0]) : EXIT_OK;
  if (!code)
    code = cli_pop3_login(o, &sec, p, c.url);
  cli_wipe_secrets(&sec);
  if (!code) {
    switch (k) {
    case 0: code = do_stat(o, p); break;
    case 1: code = do_list(o, p); break;
    case 2: code = do_uidl(o, p); break;
    case 3: code = do_retr(o, p, &c, 0); break;
    case 4: code = do_retr(o, p, &c, 1); break;
    case 5: code = do_dele(o, p, &c); break;
    default: code = pop3_fetch(o, p, c.pos[0], has_keep, (unsigned)keep); break;
    }
  }
  if (p && mail_pop3_get_state(p) != MAIL_POP3_STATE_DISCONNECTED) {
    if (code && mail_pop3_deleted_count(p))
      mail_pop3_rset(p); /* a failed run commits no deletion */
    mail_pop3_quit(p, NULL);
  }
  mail_pop3_free(p);
  return code;
}

/* mailcli nntp URL groups [WILDMAT] | over GROUP RANGE | article GROUP N|<MSGID>
 *                  | post FILE|-
 * Reading logs in only when credentials are given (--user, or a user in
 * the URL); post always logs in when it can (servers such as INN refuse
 * posting to anonymous readers with 480). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct nntp_cmd {
  const char *url, *action;
  const char *pos[2];
  int npos;
} nntp_cmd;

static int parse(cli_args *a, nntp_cmd *c)
{
  memset(c, 0, sizeof *c);
  int options = 1;
  for (int i = 0; i < a->argc; i++) {
    const char *k = a->argv[i];
    if (options && !strcmp(k, "--"))
      options = 0;
    else if (options && k[0] == '-' && k[1])
      return cli_usage_error("nntp: unknown option %s", k);
    else if (!c->url)
      c->url = k;
    else if (!c->action)
      c->action = k;
    else if (c->npos < 2)
      c->pos[c->npos++] = k;
    else
      return cli_usage_error("nntp: too many arguments");
  }
  if (!c->url || !c->action)
    return cli_usage_error("nntp needs a URL and an action (groups, over, article, post)");
  if (!cli_url_is(c->url, "nntp") && !cli_url_is(c->url, "nntps"))
    return cli_usage_error("nntp: '%s' is not an nntp:// or nntps:// URL", c->url);
  return EXIT_OK;
}

/* A failed call: the server's status line when it refused, else the
 * session's error; then QUIT. */
static int fail(mail_nntp *n, int rc, const char *what)
{
  int code = cli_exit_code(rc);
  const mail_nntp_reply *r = mail_nntp_last_reply(n);
  if (r && mail_nntp_reply_code(r) >= 400 && !mail_status_is_fatal(rc))
    cli_fail(code, what, "%d %s", mail_nntp_reply_code(r), mail_nntp_reply_text(r, NULL));
  else
    cli_fail_status(mail_nntp_conn(n), rc, what);
  if (mail_nntp_get_state(n) != MAIL_NNTP_STATE_DISCONNECTED)
    mail_nntp_quit(n);
  return code;
}

/* A user name given by --user or in the URL's authority ("nntp://user@host"). */
static int have_user(const cli_options *o, const char *url)
{
  if (o->user)
    return 1;
  const char *auth = strstr(url, "://") + 3, *end = strchr(auth, '/');
  const char *at = strchr(auth, '@');
  return at && (!end || at < end);
}

static int open_session(const cli_options *o, const cli_secrets *sec, const char *url, int login,
                        mail_nntp **out)
{
  int security = cli_security_for(o, url, cli_url_is(url, "nntps"), 0);
  if (security < 0)
    return EXIT_USAGE;
  mail_nntp *n = NULL;
  if (mail_nntp_new(&n, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "nntp", "out of memory");
  *out = n;
  int code = cli_setup_conn(o, mail_nntp_conn(n));
  if (!code)
    code = cli_setup_sasl(o, sec, mail_nntp_sasl(n));
  if (!code && mail_nntp_set_security(n, security) != MAIL_OK)
    code = cli_usage_error("--tls: not usable with %s", url);
  if (code)
    return code;
  int rc = mail_nntp_connect_url(n, url);
  if (rc == MAIL_ERR_SYNTAX)
    return cli_usage_error("bad URL '%s'", url);
  if (rc)
    return fail(n, rc, "connect");
  /* A user in the URL replaced the credentials: the options win again. */
  mail_sasl *sasl = mail_nntp_sasl(n);
  if ((o->user && mail_sasl_set_username(sasl, o->user)) ||
      (sec->password && mail_sasl_set_password(sasl, sec->password)))
    return cli_fail(EXIT_INPUT, "credentials", "cannot set them");
  if (!have_user(o, url) && !login)
    return EXIT_OK; /* reading anonymously */
  rc = mail_nntp_auth(n);
  if (rc == MAIL_ERR_INVALID && !have_user(o, url))
    return EXIT_OK; /* post without credentials: the server decides */
  if (rc == MAIL_ERR_INVALID)
    return cli_usage_error("nntp needs a password with the user name (--password-env, --password-file)");
  if (rc == MAIL_ERR_SERVER)
    rc = MAIL_ERR_AUTH; /* the login was refused, whatever the reason */
  if (rc)
    return fail(n, rc, "login");
  cli_trace_note("authenticated");
  return EXIT_OK;
}

static int do_groups(const cli_options *o, mail_nntp *n, const char *wildmat)
{
  int rc = mail_nntp_list(n, MAIL_NNTP_LIST_ACTIVE, wildmat);
  if (rc)
    return fail(n, rc, "LIST ACTIVE");
  for (size_t i = 0; i < mail_nntp_list_count(n); i++) {
    uint64_t high, low;
    const char *status;
    const char *g = mail_nntp_list_active_at(n, i, &high, &low, &status);
    if (!g)
      continue;
    if (o->json) {
      int first = 1;
      fputc('{', stdout);
      json_field(stdout, &first, "group", g);
      printf(", \"high\": %llu, \"low\": %llu", (unsigned long long)high, (unsigned long long)low);
      json_field(stdout, &first, "status", status);
      puts("}");
    } else {
      printf("%s %llu %llu %s\n", g, (unsigned long long)high, (unsigned long long)low, status);
    }
  }
  return EXIT_OK;
}

/* "N", "N-" or "N-M". */
static int parse_range(const char *s, uint64_t *low, uint64_t *high)
{
  char a[32];
  const char *dash = strchr(s, '-');
  size_t alen = dash ? (size_t)(dash - s) : strlen(s);
  unsigned long long lo, hi = 0;
  if (alen == 0 || alen >= sizeof a)
    return -1;
  memcpy(a, s, alen);
  a[alen] = '\0';
  if (cli_number(a, 1, 9999999999999999ULL, &lo))
    return -1;
  if (!dash)
    hi = lo;
  else if (dash[1] && cli_number(dash + 1, lo, 9999999999999999ULL, &hi))
    return -1;
  *low = lo;
  *high = hi;
  return 0;
}

static int select_group(mail_nntp *n, const char *group)
{
  int rc = mail_nntp_group(n, group, NULL, NULL, NULL);
  if (rc == MAIL_ERR_INVALID)
    return cli_usage_error("'%s' is not a group name", group);
  return rc ? fail(n, rc, "GROUP") : EXIT_OK;
}

static const char *const over_names[] = {"subject", "from", "date", "message_id", "references"};

static int do_over(const cli_options *o, mail_nntp *n, const char *group, const char *range)
{
  uint64_t low, high;
  if (parse_range(range, &low, &high))
    return cli_usage_error("over: a range N, N- or N-M, not '%s'", range);
  int code = select_group(n, group);
  if (code)
    return code;
  int rc = mail_nntp_over(n, low, high);
  if (rc)
    return fail(n, rc, "OVER");
  for (size_t i = 0; i < mail_nntp_over_count(n); i++) {
    const mail_nntp_overview *r = mail_nntp_over_at(n, i);
    unsigned long long num = mail_nntp_overview_number(r);
    if (o->json) {
      int first = 0;
      printf("{\"number\": %llu", num);
      for (int f = 0; f < 5; f++)
        json_field(stdout, &first, over_names[f], mail_nntp_overview_field(r, f, NULL));
      printf(", \"bytes\": %llu, \"lines\": %llu}\n",
             (unsigned long long)mail_nntp_overview_bytes(r),
             (unsigned long long)mail_nntp_overview_lines(r));
    } else {
      printf("%llu", num);
      for (int f = 0; f <= MAIL_NNTP_OVER_LINES; f++)
        printf("\t%s", mail_nntp_overview_field(r, f, NULL));
      putchar('\n');
    }
  }
  return EXIT_OK;
}

static int write_article(void *user, uint64_t number, int event, const unsigned char *d, size_t len)
{
  (void)user;
  (void)number;
  return event == MAIL_NNTP_BODY_DATA && fwrite(d, 1, len, stdout) != len;
}

static int do_article(mail_nntp *n, const char *group, const char *which)
{
  int rc, code = select_group(n, group);
  if (code)
    return code;
  if (which[0] == '<') {
    rc = mail_nntp_article_by_id(n, MAIL_NNTP_ARTICLE, which, write_article, NULL);
    if (rc == MAIL_ERR_INVALID)
      return cli_usage_error("article: '%s' is not a message-id", which);
  } else {
    unsigned long long num;
    if (cli_number(which, 1, 9999999999999999ULL, &num))
      return cli_usage_error("article: an article number or <message-id>, not '%s'", which);
    rc = mail_nntp_article(n, MAIL_NNTP_ARTICLE, num, write_article, NULL);
  }
  if (fflush(stdout) != 0 && !rc)
    rc = MAIL_ERR_CALLBACK;
  if (rc == MAIL_ERR_CALLBACK) {
    mail_nntp_quit(n);
    return cli_fail(EXIT_INPUT, "ARTICLE", "writing to standard output failed");
  }
  return rc ? fail(n, rc, "ARTICLE") : EXIT_OK;
}

typedef struct file_src {
  FILE *f;
} file_src;

static int read_file(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  file_src *s = user;
  *got = fread(buf, 1, cap, s->f);
  return ferror(s->f) ? 1 : 0;
}

static int do_post(const cli_options *o, mail_nntp *n, const char *path)
{
  file_src s = {!strcmp(path, "-") ? stdin : fopen(path, "rb")};
  if (!s.f)
    return cli_fail(EXIT_INPUT, "post", "cannot open %s", path);
  int rc = mail_nntp_post(n, read_file, &s);
  if (s.f != stdin)
    fclose(s.f);
  if (rc == MAIL_ERR_CALLBACK)
    return cli_fail(EXIT_INPUT, "post", "reading %s failed", path);
  if (rc)
    return fail(n, rc, "POST");
  const char *text = mail_nntp_reply_text(mail_nntp_last_reply(n), NULL);
  if (o->json) {
    int first = 1;
    fputc('{', stdout);
    json_field(stdout, &first, "posted", text ? text : "");
    puts("}");
  } else {
    printf("posted: %s\n", text ? text : "");
  }
  return EXIT_OK;
}

int cmd_nntp(const cli_options *o, cli_args *a)
{
  nntp_cmd c;
  int code = parse(a, &c);
  if (code)
    return code;
  static const char *const actions[] = {"groups", "over", "article", "post"};
  static const int min_pos[] = {0, 2, 2, 1}, max_pos[] = {1, 2, 2, 1};
  size_t k = 0;
  while (k < 4 && strcmp(c.action, actions[k]))
    k++;
  if (k == 4)
    return cli_usage_error("nntp: unknown action '%s' (groups, over, article, post)", c.action);
  if (c.npos < min_pos[k] || c.npos > max_pos[k])
    return cli_usage_error("nntp %s: wrong arguments (try --help)", c.action);
  cli_secrets sec;
  mail_nntp *n = NULL;
  code = cli_load_secrets(o, &sec);
  if (!code)
    code = open_session(o, &sec, c.url, k == 3, &n);
  cli_wipe_secrets(&sec);
  if (!code) {
    switch (k) {
    case 0: code = do_groups(o, n, c.npos ? c.pos[0] : NULL); break;
    case 1: code = do_over(o, n, c.pos[0], c.pos[1]); break;
    case 2: code = do_article(n, c.pos[0], c.pos[1]); break;
    default: code = do_post(o, n, c.pos[0]); break;
    }
  }
  if (n && mail_nntp_get_state(n) != MAIL_NNTP_STATE_DISCONNECTED)
    mail_nntp_quit(n);
  mail_nntp_free(n);
  return code;
}

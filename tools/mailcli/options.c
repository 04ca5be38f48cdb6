/* The global options (before or after the subcommand), and the secrets
 * they point to (never taken from the command line itself). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Subcommand options that take a value: their value is passed on as it
 * is, even when it looks like a global option ("--subject --trace"). */
static const char *const sub_with_value[] = {
  "--from", "--to", "--cc", "--bcc", "--subject", "--text", "--html",
  "--attach", "--header", "--raw", "--dsn", "--keep", "--uid",
  "--section", "--partial", "--output", "--flag", "--message-id",
};

static int takes_value(const char *a)
{
  for (size_t i = 0; i < sizeof sub_with_value / sizeof sub_with_value[0]; i++)
    if (!strcmp(a, sub_with_value[i]))
      return 1;
  return 0;
}

int cli_number(const char *text, unsigned long long min, unsigned long long max,
               unsigned long long *out)
{
  if (!text || *text < '0' || *text > '9')
    return -1;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

static int parse_tls(const char *v, int *security)
{
  static const struct { const char *name; int mode; } modes[] = {
    {"implicit", MAIL_SECURITY_IMPLICIT_TLS},
    {"starttls", MAIL_SECURITY_STARTTLS},
    {"starttls-opportunistic", MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE},
    {"none", MAIL_SECURITY_NONE_INSECURE},
  };
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
    if (!strcmp(v, modes[i].name)) {
      *security = modes[i].mode;
      return 0;
    }
  return -1;
}

/* One option with a value; 1 when name was it, -1 on a bad value. */
static int value_option(cli_options *o, const char *name, const char *v)
{
  const char **slot = NULL;
  unsigned long long n;
  if (!strcmp(name, "--user"))
    slot = &o->user;
  else if (!strcmp(name, "--password-env"))
    slot = &o->password_env;
  else if (!strcmp(name, "--password-file"))
    slot = &o->password_file;
  else if (!strcmp(name, "--oauth-token-env"))
    slot = &o->oauth_token_env;
  else if (!strcmp(name, "--mech"))
    slot = &o->mech;
  else if (!strcmp(name, "--cafile"))
    slot = &o->cafile;
  else if (!strcmp(name, "--proxy-env"))
    slot = &o->proxy_env;
  if (!strcmp(name, "--proxy")) {
    if (strchr(v, '@'))
      return cli_usage_error("--proxy: credentials on the command line would show in ps; "
                             "put the URL in a variable and use --proxy-env VAR"), -1;
    o->proxy = v;
    return 1;
  }
  if (slot) {
    *slot = v;
    return 1;
  }
  if (!strcmp(name, "--tls")) {
    if (parse_tls(v, &o->security))
      return cli_usage_error("--tls: implicit, starttls, starttls-opportunistic or none, not '%s'", v), -1;
    return 1;
  }
  if (!strcmp(name, "--timeout")) {
    if (cli_number(v, 1, 86400, &n))
      return cli_usage_error("--timeout: whole seconds from 1 to 86400, not '%s'", v), -1;
    o->timeout_s = (int)n;
    return 1;
  }
  if (!strcmp(name, "--max-line") || !strcmp(name, "--max-response")) {
    if (cli_number(v, 64, (unsigned long long)1 << 40, &n))
      return cli_usage_error("%s: a byte count of at least 64, not '%s'", name, v), -1;
    if (!strcmp(name, "--max-line"))
      o->max_line = (size_t)n;
    else
      o->max_response = (size_t)n;
    return 1;
  }
  return 0;
}

static int is_value_option(const char *name)
{
  static const char *const names[] = {
    "--user", "--password-env", "--password-file", "--oauth-token-env", "--mech",
    "--cafile", "--tls", "--timeout", "--max-line", "--max-response", "--proxy", "--proxy-env",
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(name, names[i]))
      return 1;
  return 0;
}

int cli_parse_global(int argc, char **argv, cli_options *o, cli_args *rest)
{
  memset(o, 0, sizeof *o);
  o->security = -1;
  rest->argc = 0;
  rest->argv = argv + 1; /* compacted in place: never longer than argv */
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (!strcmp(a, "--")) {
      while (i < argc)
        rest->argv[rest->argc++] = argv[i++];
      break;
    }
    if (!strcmp(a, "--trace")) {
      o->trace = 1;
    } else if (!strcmp(a, "--json")) {
      o->json = 1;
    } else if (!strcmp(a, "--insecure")) {
      o->insecure = 1;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      return -1;
    } else if (!strcmp(a, "--version")) {
      return -2;
    } else if (takes_value(a) && !(!strcmp(a, "--raw") && rest->argc && !strcmp(rest->argv[0], "imap"))) {
      /* (imap's --raw is a switch; send's takes a file) */
      rest->argv[rest->argc++] = a;
      if (i + 1 < argc)
        rest->argv[rest->argc++] = argv[++i];
    } else {
      char name[32];
      const char *value = NULL;
      const char *eq = strchr(a, '=');
      if (a[0] == '-' && a[1] == '-' && eq && (size_t)(eq - a) < sizeof name) {
        memcpy(name, a, (size_t)(eq - a));
        name[eq - a] = 0;
        value = eq + 1;
      } else if (strlen(a) < sizeof name) {
        strcpy(name, a);
      } else {
        name[0] = 0;
      }
      if (is_value_option(name)) {
        if (!value) {
          if (i + 1 >= argc)
            return cli_usage_error("%s needs a value", name);
          value = argv[++i];
        }
        if (value_option(o, name, value) < 0)
          return EXIT_USAGE;
      } else {
        rest->argv[rest->argc++] = a;
      }
    }
  }
  if ((o->password_env != NULL) + (o->password_file != NULL) > 1)
    return cli_usage_error("--password-env and --password-file exclude each other");
  return EXIT_OK;
}

/* The first line of a file, without its line end. */
static char *first_line(const char *path)
{
  char *data;
  size_t len;
  if (cli_read_file(path, &data, &len) != 0)
    return NULL;
  size_t n = strcspn(data, "\r\n");
  if (n < len) {
    /* wipe what follows the first line, then cut */
    memset(data + n, 0, len - n);
  }
  return data;
}

int cli_load_secrets(const cli_options *o, cli_secrets *s)
{
  memset(s, 0, sizeof *s);
  if (o->password_env) {
    const char *v = getenv(o->password_env);
    if (!v)
      return cli_fail(EXIT_INPUT, "--password-env", "environment variable %s is not set",
                      o->password_env);
    if (!(s->password = strdup(v)))
      return cli_fail(EXIT_INPUT, "--password-env", "out of memory");
  } else if (o->password_file) {
    if (!(s->password = first_line(o->password_file)))
      return cli_fail(EXIT_INPUT, "--password-file", "%s: %s", o->password_file, strerror(errno));
  }
  if (o->oauth_token_env) {
    const char *v = getenv(o->oauth_token_env);
    if (!v || !*v)
      return cli_fail(EXIT_INPUT, "--oauth-token-env", "environment variable %s is not set",
                      o->oauth_token_env);
    if (!(s->token = strdup(v)))
      return cli_fail(EXIT_INPUT, "--oauth-token-env", "out of memory");
  }
  return EXIT_OK;
}

static void wipe_free(char *p)
{
  if (!p)
    return;
  volatile char *v = p;
  while (*v)
    *v++ = 0;
  free(p);
}

void cli_wipe_secrets(cli_secrets *s)
{
  wipe_free(s->password);
  wipe_free(s->token);
  s->password = s->token = NULL;
}

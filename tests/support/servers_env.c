/* Reading servers.env (see servers_env.h). */
#include "servers_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_VARS 128

static struct {
  char *key;
  char *value;
} vars[MAX_VARS];
static size_t nvars;
static int loaded;    /* 0: not tried, 1: read, -1: missing */

static const char *env_path(void)
{
  const char *p = getenv("MAIL_TEST_SERVERS_ENV");
  return p && *p ? p : "/tmp/libmail-servers/servers.env";
}

static char *trim(char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  return s;
}

static void load(void)
{
  if (loaded)
    return;
  FILE *f = fopen(env_path(), "r");
  if (!f) {
    loaded = -1;
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, f) && nvars < MAX_VARS) {
    char *s = trim(line);
    if (!strncmp(s, "export ", 7))
      s = trim(s + 7);
    if (*s == '#' || !*s)
      continue;
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
      continue;
    *eq = '\0';
    char *v = eq + 1;
    size_t vn = strlen(v);
    if (vn >= 2 && (v[0] == '"' || v[0] == '\'') && v[vn - 1] == v[0]) {
      v[vn - 1] = '\0';
      v++;
    }
    vars[nvars].key = strdup(s);
    vars[nvars].value = strdup(v);
    if (vars[nvars].key && vars[nvars].value)
      nvars++;
  }
  fclose(f);
  loaded = 1;
}

const char *mail_test_env(const char *key)
{
  load();
  for (size_t i = 0; i < nvars; i++)
    if (!strcmp(vars[i].key, key))
      return vars[i].value;
  return NULL;
}

long mail_test_env_long(const char *key, long fallback)
{
  const char *v = mail_test_env(key);
  if (!v || !*v)
    return fallback;
  char *end;
  long n = strtol(v, &end, 10);
  return *end ? fallback : n;
}

int mail_test_servers_available(void)
{
  load();
  return loaded == 1;
}

void mail_test_require_servers(void)
{
  if (mail_test_servers_available())
    return;
  const char *req = getenv("MAIL_TEST_REQUIRE_SERVERS");
  if (req && !strcmp(req, "1")) {
    fprintf(stderr, "test servers required but %s is missing (run tests/servers/servers.sh start)\n",
            env_path());
    exit(1);
  }
  fprintf(stderr, "skipped: %s is missing (run tests/servers/servers.sh start)\n", env_path());
  exit(77);
}

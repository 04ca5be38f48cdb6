/* Running tests/sasl/scram_server.py from a Check test. */
#include "scram_server.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *scram_server_srcdir(void)
{
  static char dir[1024];
  if (!dir[0]) {
    const char *src = getenv("MAIL_TEST_SRCDIR");
    snprintf(dir, sizeof dir, "%s", src && *src ? src : MAIL_SRCDIR "/tests");
  }
  return dir;
}

int scram_server_check(void)
{
  if (system("/usr/bin/python3 -c 'import OpenSSL' >/dev/null 2>&1") == 0)
    return 0;
  const char *req = getenv("MAIL_TEST_REQUIRE_SERVERS");
  fprintf(stderr, "skip: /usr/bin/python3 with python3-openssl is needed\n");
  return req && strcmp(req, "1") == 0 ? EXIT_FAILURE : 77;
}

void trace_log_clear(trace_log *t)
{
  t->len = 0;
  t->text[0] = '\0';
}

void trace_log_fn(void *user, int dir, const char *data, size_t len)
{
  trace_log *t = user;
  (void)dir;
  if (len > sizeof t->text - 1 - t->len)
    len = sizeof t->text - 1 - t->len;
  memcpy(t->text + t->len, data, len);
  t->len += len;
  t->text[t->len] = '\0';
}

void scram_server_start(scram_server *sv, const char *const *extra)
{
  memset(sv, 0, sizeof *sv);
  char script[1200], cert[1200], key[1200];
  snprintf(script, sizeof script, "%s/sasl/scram_server.py", scram_server_srcdir());
  snprintf(cert, sizeof cert, "%s/data/tls/server.pem", scram_server_srcdir());
  snprintf(key, sizeof key, "%s/data/tls/server.key", scram_server_srcdir());
  const char *argv[40] = {"/usr/bin/python3", script, "--cert", cert, "--key", key};
  int argc = 6;
  for (; extra && *extra && argc < 39; extra++)
    argv[argc++] = *extra;
  argv[argc] = NULL;

  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  sv->pid = fork();
  ck_assert_int_ge(sv->pid, 0);
  if (sv->pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  sv->out = fdopen(fds[0], "r");
  ck_assert_ptr_nonnull(sv->out);
  char line[128];
  ck_assert_ptr_nonnull(fgets(line, sizeof line, sv->out));
  ck_assert_int_eq(sscanf(line, "PORT %u", &sv->port), 1);
}

void scram_server_finish(scram_server *sv)
{
  char line[512];
  sv->result[0] = '\0';
  while (fgets(line, sizeof line, sv->out)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "RESULT ", 7) == 0)
      snprintf(sv->result, sizeof sv->result, "%.255s", line + 7);
    else if (strncmp(line, "ATTEMPT ", 8) == 0 && sv->nattempts < SCRAM_SERVER_MAX_ATTEMPTS)
      snprintf(sv->attempts[sv->nattempts++], sizeof sv->attempts[0], "%.255s", line + 8);
  }
  fclose(sv->out);
  int status;
  waitpid(sv->pid, &status, 0);
}

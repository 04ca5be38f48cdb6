/*
 * mailfetch — fetch mail over POP3 into a maildir, leaving it on the
 * server (the "leave mail on the server" cycle), or taking it off.
 *
 *   mailfetch [options] pop3://user@host[:port] | pop3s://user@host[:port]
 *
 *   --maildir DIR        deliver into DIR/{tmp,new} (created; default ./Maildir)
 *   --state FILE         the UIDs fetched before, one "uid first-seen" per
 *                        line (default DIR/.mailfetch-uids); rewritten after
 *   --delete-after DAYS  delete messages first seen DAYS or more days ago
 *   --delete             take every message off the server once fetched
 *   --ca FILE            trust the CAs in FILE (default: the system store)
 *   --insecure-plaintext allow USER/PASS or PLAIN without verified TLS
 *   --trace              print the protocol exchange (secrets redacted)
 *
 * The password comes from $MAILFETCH_PASSWORD (never the command line).
 * Exit codes: 0 done, 1 usage, 2 connection or TLS, 3 login refused,
 * 4 a message could not be fetched or stored, 5 other errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mail/pop3.h>

typedef struct delivery {
  const char *maildir;
  FILE *f;
  char tmp[4096];
  unsigned long seq;
  int cr;       /* a CR was held back at the end of the last chunk */
  int failed;
} delivery;

/* Each message goes to tmp/ and is renamed into new/ once complete. */
static int deliver(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  delivery *d = user;
  if (event == MAIL_POP3_BODY_BEGIN) {
    snprintf(d->tmp, sizeof d->tmp, "%s/tmp/%ld.P%dQ%lu.mailfetch", d->maildir, (long)time(NULL),
             (int)getpid(), ++d->seq);
    d->f = fopen(d->tmp, "wb");
    d->cr = 0;
    return d->f ? 0 : (d->failed = 1);
  }
  if (event == MAIL_POP3_BODY_DATA) {
    /* Maildir files hold LF line ends: CRLF becomes LF, across chunks. */
    for (size_t i = 0; i < len; i++) {
      if (d->cr && data[i] != '\n' && putc('\r', d->f) == EOF)
        return d->failed = 1;
      d->cr = data[i] == '\r';
      if (!d->cr && putc(data[i], d->f) == EOF)
        return d->failed = 1;
    }
    return 0;
  }
  if ((d->cr && putc('\r', d->f) == EOF) || fclose(d->f) != 0)
    return d->failed = 1;
  d->f = NULL;
  char final[8300];
  const char *base = strrchr(d->tmp, '/') + 1;
  snprintf(final, sizeof final, "%s/new/%s", d->maildir, base);
  if (rename(d->tmp, final) != 0)
    return d->failed = 1;
  (void)msg;
  return 0;
}

static int load_state(const char *path, mail_pop3_uidset *set)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : -1;
  char uid[128];
  long long when;
  while (fscanf(f, "%127s %lld", uid, &when) == 2)
    mail_pop3_uidset_add(set, uid, (int64_t)when);
  fclose(f);
  return 0;
}

static int save_state(const char *path, const mail_pop3_uidset *set)
{
  char tmp[4200];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.new", path) >= sizeof tmp)
    return -1;
  FILE *f = fopen(tmp, "w");
  if (!f)
    return -1;
  for (size_t i = 0; i < mail_pop3_uidset_count(set); i++) {
    int64_t when;
    const char *uid = mail_pop3_uidset_at(set, i, &when);
    fprintf(f, "%s %lld\n", uid, (long long)when);
  }
  if (fclose(f) != 0)
    return -1;
  return rename(tmp, path);
}

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  (void)user;
  fprintf(stderr, "%s %.*s%s", dir == MAIL_TRACE_SEND ? "C:" : dir == MAIL_TRACE_RECV ? "S:" : "--",
          (int)len, data, len && data[len - 1] == '\n' ? "" : "\n");
}

static int usage(void)
{
  fprintf(stderr, "usage: mailfetch [--maildir DIR] [--state FILE] [--delete-after DAYS | --delete]\n"
                  "                 [--ca FILE] [--insecure-plaintext] [--trace] URL\n");
  return 1;
}

static int exit_code(int rc)
{
  switch (rc) {
  case MAIL_OK: return 0;
  case MAIL_ERR_AUTH: case MAIL_ERR_NO_MECHANISM: case MAIL_ERR_INSECURE: return 3;
  case MAIL_ERR_PARTIAL: case MAIL_ERR_CALLBACK: return 4;
  default: return mail_status_is_fatal(rc) ? 2 : 5;
  }
}

int main(int argc, char **argv)
{
  const char *maildir = "Maildir", *state = NULL, *ca = NULL, *url = NULL;
  long days = 0;
  int delete_all = 0, insecure = 0, trace = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--maildir") && i + 1 < argc)
      maildir = argv[++i];
    else if (!strcmp(a, "--state") && i + 1 < argc)
      state = argv[++i];
    else if (!strcmp(a, "--delete-after") && i + 1 < argc)
      days = atol(argv[++i]);
    else if (!strcmp(a, "--delete"))
      delete_all = 1;
    else if (!strcmp(a, "--ca") && i + 1 < argc)
      ca = argv[++i];
    else if (!strcmp(a, "--insecure-plaintext"))
      insecure = 1;
    else if (!strcmp(a, "--trace"))
      trace = 1;
    else if (a[0] != '-' && !url)
      url = a;
    else
      return usage();
  }
  if (!url || days < 0 || days > 36500 || (delete_all && days))
    return usage();
  char path[4096], state_path[4096];
  const char *subs[] = {"", "/tmp", "/new", "/cur"};
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "%s%s", maildir, subs[i]);
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
      perror(path);
      return 4;
    }
  }
  snprintf(state_path, sizeof state_path, "%s", state ? state : "");
  if (!state)
    snprintf(state_path, sizeof state_path, "%s/.mailfetch-uids", maildir);

  mail_pop3 *p = NULL;
  mail_pop3_uidset *known = NULL, *seen = NULL;
  if (mail_pop3_new(&p, NULL) || mail_pop3_uidset_new(&known, NULL) ||
      mail_pop3_uidset_new(&seen, NULL))
    return 5;
  if (trace)
    mail_conn_set_trace(mail_pop3_conn(p), on_trace, NULL);
  if (ca) {
    mail_tls_config *cfg = NULL;
    if (mail_tls_config_new(&cfg, NULL) || mail_tls_config_set_ca_file(cfg, ca)) {
      fprintf(stderr, "mailfetch: cannot use %s\n", ca);
      return 1;
    }
    mail_conn_set_tls_config(mail_pop3_conn(p), cfg);
    mail_tls_config_free(cfg);
  }
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), insecure);
  if (load_state(state_path, known) != 0) {
    perror(state_path);
    return 4;
  }

  int rc = mail_pop3_connect_url(p, url);
  const char *pw = getenv("MAILFETCH_PASSWORD");
  if (rc == MAIL_OK && pw) {
    /* The user name came with the URL; keep it, add the password. */
    rc = mail_sasl_set_password(mail_pop3_sasl(p), pw);
  }
  if (rc == MAIL_OK)
    rc = mail_pop3_auth(p);
  delivery d = {maildir, NULL, "", 0, 0, 0};
  size_t fetched = 0;
  if (rc == MAIL_OK) {
    rc = mail_pop3_leave_on_server(p, known, (unsigned int)days, deliver, &d, seen, &fetched);
    if (rc == MAIL_ERR_CALLBACK && d.f) {
      fclose(d.f);
      unlink(d.tmp);
    }
  }
  if ((rc == MAIL_OK || rc == MAIL_ERR_PARTIAL) && delete_all) {
    /* Taking everything off: delete what this run fetched or knew. */
    int drc = mail_pop3_uidl(p);
    for (size_t i = 0; drc == MAIL_OK && i < mail_pop3_uidl_count(p); i++) {
      uint32_t msg;
      const char *uid;
      mail_pop3_uidl_at(p, i, &msg, &uid);
      if (mail_pop3_uidset_contains(seen, uid))
        drc = mail_pop3_dele(p, msg);
    }
    if (drc == MAIL_OK)
      mail_pop3_uidset_clear(seen);
    else
      rc = drc;
  }
  int committed = 0;
  if (mail_pop3_get_state(p) != MAIL_POP3_STATE_DISCONNECTED) {
    int qrc = mail_pop3_quit(p, &committed);
    if (rc == MAIL_OK)
      rc = qrc;
  }
  if (rc == MAIL_OK || rc == MAIL_ERR_PARTIAL) {
    if (save_state(state_path, seen) != 0) {
      perror(state_path);
      rc = MAIL_ERR_FILE;
    }
  }
  if (rc != MAIL_OK)
    fprintf(stderr, "mailfetch: %s%s%s\n", mail_strerror(rc),
            *mail_conn_last_error(mail_pop3_conn(p)) ? ": " : "",
            mail_conn_last_error(mail_pop3_conn(p)));
  printf("%zu new message(s)%s\n", fetched,
         committed && mail_pop3_deleted_count(p) ? ", deletions committed" : "");
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  mail_pop3_free(p);
  return rc == MAIL_ERR_FILE ? 4 : exit_code(rc);
}

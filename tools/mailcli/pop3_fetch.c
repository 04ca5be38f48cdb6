/* mailcli pop3 URL fetch MAILDIR [--keep DAYS]: the leave-on-server cycle
 * into a maildir. The UIDs already fetched, with the time each was first
 * seen, live in MAILDIR/.mailcli-uidl ("uid seconds" per line), rewritten
 * atomically after a successful cycle.
 *
 * Each message is written to tmp/ and renamed into new/ once complete.
 * Whatever ends the run early — a broken connection, a timeout, a server
 * breaking the protocol, a full disk, a signal — the half-written file in
 * tmp/ is removed: a maildir never keeps a partial message. Deletions are
 * not committed then; after an error (not a signal, which ends the process
 * at once) the state file records the messages that did arrive, so none is
 * fetched twice. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pop3_session.h"

#define STATE_NAME ".mailcli-uidl"

typedef struct fetched {
  uint32_t msg;
  uint64_t size;
  char name[96];
} fetched;

typedef struct delivery {
  const cli_options *o;
  mail_pop3 *p;
  const char *maildir;
  FILE *f;
  uint64_t size;
  unsigned long seq;
  int cr;  /* a CR was held back at the end of the last chunk */
  int err; /* errno of the local failure that stopped the cycle */
  fetched *done;
  size_t ndone, cap;
  cli_progress progress;
} delivery;

/* The file being written, for the signal handler (async-signal-safe unlink). */
static char current_tmp[4096];
static volatile sig_atomic_t writing;

static void on_signal(int sig)
{
  if (writing)
    unlink(current_tmp);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void drop_partial(delivery *d)
{
  if (!d->f)
    return;
  fclose(d->f);
  d->f = NULL;
  unlink(current_tmp);
  writing = 0;
}

int pop3_fetch_prepare(const char *maildir)
{
  static const char *const subs[] = {"", "/tmp", "/new", "/cur"};
  char path[4096];
  for (int i = 0; i < 4; i++) {
    if ((size_t)snprintf(path, sizeof path, "%s%s", maildir, subs[i]) >= sizeof path)
      return cli_fail(EXIT_INPUT, "fetch", "%s: name too long", maildir);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return cli_fail(EXIT_INPUT, "fetch", "%s: %s", path, strerror(errno));
  }
  return EXIT_OK;
}

static int begin_message(delivery *d)
{
  char host[64] = "localhost";
  gethostname(host, sizeof host - 1);
  for (char *h = host; *h; h++)
    if (*h == '/' || *h == ':')
      *h = '_';
  if (d->ndone == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    fetched *n = realloc(d->done, cap * sizeof *n);
    if (!n)
      return 1;
    d->done = n;
    d->cap = cap;
  }
  fetched *m = &d->done[d->ndone];
  snprintf(m->name, sizeof m->name, "%lld.P%dQ%lu.%s", (long long)time(NULL), (int)getpid(),
           ++d->seq, host);
  if ((size_t)snprintf(current_tmp, sizeof current_tmp, "%s/tmp/%s", d->maildir, m->name) >=
      sizeof current_tmp)
    return 1;
  int fd = open(current_tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return 1;
  writing = 1;
  if (!(d->f = fdopen(fd, "wb"))) {
    close(fd);
    unlink(current_tmp);
    writing = 0;
    return 1;
  }
  d->cr = 0;
  d->size = 0;
  return 0;
}

/* Maildir files hold LF line ends: CRLF becomes LF, across chunks. */
static int write_data(delivery *d, const unsigned char *data, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (d->cr && data[i] != '\n' && putc('\r', d->f) == EOF)
      return 1;
    d->cr = data[i] == '\r';
    if (!d->cr && putc(data[i], d->f) == EOF)
      return 1;
  }
  d->size += len;
  cli_progress_update(&d->progress, d->size);
  return 0;
}

static int end_message(delivery *d, uint32_t msg)
{
  int bad = (d->cr && putc('\r', d->f) == EOF) || fflush(d->f) != 0 || fsync(fileno(d->f)) != 0;
  FILE *f = d->f;
  d->f = NULL;
  if (fclose(f) != 0 || bad) {
    unlink(current_tmp);
    writing = 0;
    return 1;
  }
  fetched *m = &d->done[d->ndone];
  char final[4200];
  snprintf(final, sizeof final, "%s/new/%s", d->maildir, m->name);
  if (rename(current_tmp, final) != 0) {
    unlink(current_tmp);
    writing = 0;
    return 1;
  }
  writing = 0;
  m->msg = msg;
  m->size = d->size;
  d->ndone++;
  cli_progress_end(&d->progress);
  return 0;
}

/* The size from the LIST made before the cycle (0 when unknown). */
static uint64_t listed_size(mail_pop3 *p, uint32_t msg)
{
  for (size_t i = 0; i < mail_pop3_list_count(p); i++) {
    uint32_t m;
    uint64_t size;
    if (mail_pop3_list_at(p, i, &m, &size) == MAIL_OK && m == msg)
      return size;
  }
  return 0;
}

static int deliver(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  delivery *d = user;
  int failed;
  if (event == MAIL_POP3_BODY_BEGIN) {
    cli_progress_begin(&d->progress, d->o, "receiving", listed_size(d->p, msg));
    failed = begin_message(d);
  } else if (event == MAIL_POP3_BODY_DATA) {
    failed = write_data(d, data, len);
  } else {
    failed = end_message(d, msg);
  }
  if (failed)
    d->err = errno ? errno : EIO;
  return failed;
}

static int load_state(const char *path, mail_pop3_uidset *set)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : -1;
  char uid[128];
  long long when;
  int rc = 0;
  while (!rc && fscanf(f, "%127s %lld", uid, &when) == 2)
    rc = mail_pop3_uidset_add(set, uid, (int64_t)when) ? -1 : 0;
  if (ferror(f))
    rc = -1;
  fclose(f);
  return rc;
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
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    fclose(f);
    unlink(tmp);
    return -1;
  }
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* --keep 0: every message this cycle saw goes at QUIT. */
static int delete_seen(mail_pop3 *p, mail_pop3_uidset *seen)
{
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    uint32_t msg;
    const char *uid;
    mail_pop3_uidl_at(p, i, &msg, &uid);
    if (mail_pop3_uidset_contains(seen, uid)) {
      int rc = mail_pop3_dele(p, msg);
      if (rc)
        return rc;
    }
  }
  mail_pop3_uidset_clear(seen);
  return MAIL_OK;
}

static const char *uid_of(mail_pop3 *p, uint32_t msg)
{
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    uint32_t m;
    const char *uid;
    if (mail_pop3_uidl_at(p, i, &m, &uid) == MAIL_OK && m == msg)
      return uid;
  }
  return NULL;
}

/* After a failed cycle: what was known plus what did arrive, so that the
 * messages already in new/ are not fetched a second time. */
static int save_partial_state(mail_pop3 *p, const char *path, const mail_pop3_uidset *known,
                              const delivery *d)
{
  mail_pop3_uidset *now = NULL;
  int rc = mail_pop3_uidset_new(&now, NULL);
  for (size_t i = 0; !rc && i < mail_pop3_uidset_count(known); i++) {
    int64_t when;
    const char *uid = mail_pop3_uidset_at(known, i, &when);
    rc = mail_pop3_uidset_add(now, uid, when);
  }
  for (size_t i = 0; !rc && i < d->ndone; i++) {
    const char *uid = uid_of(p, d->done[i].msg);
    if (uid && !mail_pop3_uidset_contains(now, uid))
      rc = mail_pop3_uidset_add(now, uid, (int64_t)time(NULL));
  }
  if (!rc)
    rc = save_state(path, now);
  mail_pop3_uidset_free(now);
  return rc;
}

static void print_fetched(const cli_options *o, mail_pop3 *p, const delivery *d,
                          const char *maildir, size_t deleted)
{
  for (size_t i = 0; i < d->ndone; i++) {
    const fetched *m = &d->done[i];
    const char *uid = uid_of(p, m->msg);
    if (o->json) {
      printf("{\"msg\": %u, \"uid\": ", (unsigned)m->msg);
      json_string(stdout, uid);
      printf(", \"file\": \"new/");
      fputs(m->name, stdout); /* digits, dots, letters, '_' only */
      printf("\", \"size\": %llu}\n", (unsigned long long)m->size);
    } else {
      printf("%u %s -> new/%s (%llu bytes)\n", (unsigned)m->msg, uid ? uid : "?", m->name,
             (unsigned long long)m->size);
    }
  }
  if (o->json) {
    printf("{\"new\": %zu, \"deleted\": %zu, \"maildir\": ", d->ndone, deleted);
    json_string(stdout, maildir);
    puts("}");
  } else {
    printf("%zu new message(s) in %s, %zu deleted from the server\n", d->ndone, maildir, deleted);
  }
}

int pop3_fetch(const cli_options *o, mail_pop3 *p, const char *maildir, int has_keep,
               unsigned keep_days)
{
  char state[4096];
  if ((size_t)snprintf(state, sizeof state, "%s/%s", maildir, STATE_NAME) >= sizeof state)
    return cli_fail(EXIT_INPUT, "fetch", "%s: name too long", maildir);
  mail_pop3_uidset *known = NULL, *seen = NULL;
  if (mail_pop3_uidset_new(&known, NULL) || mail_pop3_uidset_new(&seen, NULL)) {
    mail_pop3_uidset_free(known);
    return cli_fail(EXIT_INPUT, "fetch", "out of memory");
  }
  int code = EXIT_OK;
  if (load_state(state, known) != 0)
    code = cli_fail(EXIT_INPUT, "fetch", "%s: unreadable or corrupt", state);
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  for (size_t i = 0; i < 4; i++)
    signal(sigs[i], on_signal);

  delivery d;
  memset(&d, 0, sizeof d);
  d.o = o;
  d.p = p;
  d.maildir = maildir;
  size_t fetched_count = 0, deleted = 0;
  int rc = MAIL_OK;
  if (!code) {
    unsigned days = has_keep && keep_days > 0 ? keep_days : 0;
    /* Sizes for the progress bar only: a server without LIST still works. */
    if (!o->trace && isatty(STDERR_FILENO))
      rc = mail_pop3_list(p);
    if (!mail_status_is_fatal(rc))
      rc = mail_pop3_leave_on_server(p, known, days, deliver, &d, seen, &fetched_count);
    drop_partial(&d); /* whatever stopped the cycle, tmp/ keeps nothing */
    cli_progress_end(&d.progress);
    if ((rc == MAIL_OK || rc == MAIL_ERR_PARTIAL) && has_keep && keep_days == 0)
    {
      int drc = delete_seen(p, seen);
      if (drc)
        rc = drc;
    }
    deleted = mail_pop3_deleted_count(p);
    if (rc == MAIL_ERR_CALLBACK) {
      code = cli_fail(EXIT_INPUT, "fetch", "writing into %s failed: %s", maildir, strerror(d.err));
    } else if (rc != MAIL_OK && rc != MAIL_ERR_PARTIAL) {
      code = cli_pop3_fail(p, rc, "fetch");
    } else {
      int committed = 0;
      int qrc = mail_pop3_quit(p, &committed);
      if (qrc)
        code = cli_pop3_fail(p, qrc, "QUIT");
      else if (save_state(state, seen) != 0)
        code = cli_fail(EXIT_INPUT, "fetch", "%s: %s", state, strerror(errno));
      else if (rc == MAIL_ERR_PARTIAL)
        code = cli_fail(EXIT_REFUSED, "fetch", "the server refused some messages; they are tried again next time");
      if (!committed)
        deleted = 0;
    }
  }
  if (code && d.ndone && save_partial_state(p, state, known, &d) != 0)
    cli_fail(EXIT_INPUT, "fetch", "%s: %s", state, strerror(errno));
  for (size_t i = 0; i < 4; i++)
    signal(sigs[i], SIG_DFL);
  print_fetched(o, p, &d, maildir, deleted);
  free(d.done);
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  return code;
}

/* mailcli pop3 URL fetch MAILDIR [--keep DAYS]: the leave-on-server cycle
 * into a maildir, through the library's maildir store (mail/maildir.h).
 * The UIDs already fetched, with the message each became and the time each
 * was first seen, live in the store's key map (MAILDIR/libmail-map),
 * saved atomically after a cycle.
 *
 * Each message is a store delivery: written under tmp/ and linked into new/
 * once complete.
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

#include <mail/maildir.h>

#include "pop3_session.h"

typedef struct fetched {
  uint32_t msg;
  uint64_t size;
  char name[MAIL_MAILDIR_NAME_MAX + 1];
} fetched;

typedef struct delivery {
  const cli_options *o;
  mail_pop3 *p;
  mail_maildir *md;
  mail_maildir_delivery *cur; /* the message being written */
  int failed;                 /* a local failure stopped the cycle */
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
  if (!d->cur)
    return;
  writing = 0;
  mail_maildir_delivery_abort(d->cur);
  d->cur = NULL;
}

/* The maildir and its key map, opened (and created) before connecting. */
static mail_maildir *open_store(const char *maildir, int *code)
{
  mail_maildir *md = NULL;
  int rc = mail_maildir_open(&md, maildir, MAIL_MAILDIR_CREATE, NULL);
  *code = EXIT_OK;
  if (rc == MAIL_ERR_SYNTAX)
    *code = cli_fail(EXIT_INPUT, "fetch", "%s/libmail-map: unreadable or corrupt", maildir);
  else if (rc)
    *code = cli_fail(EXIT_INPUT, "fetch", "%s: %s", maildir,
                     rc == MAIL_ERR_FILE ? "cannot be made or read as a maildir" : mail_strerror(rc));
  return md;
}

int pop3_fetch_prepare(const char *maildir)
{
  int code;
  mail_maildir_free(open_store(maildir, &code));
  return code;
}

static int begin_message(delivery *d)
{
  if (d->ndone == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    fetched *n = realloc(d->done, cap * sizeof *n);
    if (!n)
      return 1;
    d->done = n;
    d->cap = cap;
  }
  if (mail_maildir_delivery_begin(&d->cur, d->md))
    return 1;
  /* The signal handler's copy: it may not call into the library. */
  snprintf(current_tmp, sizeof current_tmp, "%s", mail_maildir_delivery_tmp_path(d->cur));
  writing = 1;
  return 0;
}

/* The store writes LF line ends: CRLF becomes LF, across chunks. */
static int write_data(delivery *d, const unsigned char *data, size_t len)
{
  if (mail_maildir_delivery_write(d->cur, data, len))
    return 1;
  cli_progress_update(&d->progress, mail_maildir_delivery_size(d->cur));
  return 0;
}

static int end_message(delivery *d, uint32_t msg)
{
  fetched *m = &d->done[d->ndone];
  m->size = mail_maildir_delivery_size(d->cur);
  writing = 0;
  int rc = mail_maildir_delivery_commit(m->name, sizeof m->name, d->cur, NULL, 0);
  d->cur = NULL;
  if (rc)
    return 1;
  m->msg = msg;
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
    d->failed = 1;
  return failed;
}

static const char *uid_of(mail_pop3 *p, uint32_t msg);

/* The key map's UIDs (key: the UID, value: when it was first seen). */
typedef struct load_ctx {
  mail_pop3_uidset *set;
  int rc;
} load_ctx;

static int load_one(void *user, const char *key, const char *name, int64_t value)
{
  load_ctx *l = user;
  (void)name;
  l->rc = mail_pop3_uidset_add(l->set, key, value);
  return l->rc != MAIL_OK;
}

/* The state file of mailcli before the store ("uid seconds" per line),
 * read once into an empty key map; the next save replaces it. */
static int load_legacy_state(mail_maildir *md, mail_pop3_uidset *set)
{
  char path[4200];
  snprintf(path, sizeof path, "%s/.mailcli-uidl", mail_maildir_path(md));
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : -1;
  char uid[128];
  long long when;
  int rc = 0;
  while (!rc && fscanf(f, "%127s %lld", uid, &when) == 2)
    rc = mail_pop3_uidset_add(set, uid, (int64_t)when) ||
             mail_maildir_map_set(md, uid, "unknown", (int64_t)when) ? -1 : 0;
  if (ferror(f))
    rc = -1;
  fclose(f);
  return rc;
}

static int load_state(mail_maildir *md, mail_pop3_uidset *set)
{
  if (mail_maildir_map_count(md) == 0)
    return load_legacy_state(md, set);
  load_ctx l = {set, MAIL_OK};
  int rc = mail_maildir_map_each(md, load_one, &l);
  return rc || l.rc ? -1 : 0;
}

/* The name a UID became here: fetched this cycle, or as the map says. */
static const char *name_of(mail_pop3 *p, mail_maildir *md, const delivery *d, const char *uid,
                           char *buf, size_t cap)
{
  for (size_t i = 0; i < d->ndone; i++) {
    const char *u = uid_of(p, d->done[i].msg);
    if (u && strcmp(u, uid) == 0)
      return d->done[i].name;
  }
  if (mail_maildir_map_get(buf, cap, NULL, md, uid) == MAIL_OK)
    return buf;
  return "unknown"; /* fetched by a cycle whose name was not kept */
}

typedef struct keys {
  char **v;
  size_t n, cap;
} keys;

static int collect_key(void *user, const char *key, const char *name, int64_t value)
{
  keys *k = user;
  (void)name;
  (void)value;
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 64;
    char **v = realloc(k->v, cap * sizeof *v);
    if (!v)
      return 1;
    k->v = v;
    k->cap = cap;
  }
  return !(k->v[k->n++] = strdup(key));
}

/* Make the key map hold exactly set (with each UID's name) and save it. */
static int save_state(mail_pop3 *p, mail_maildir *md, const delivery *d,
                      const mail_pop3_uidset *set)
{
  char buf[MAIL_MAILDIR_NAME_MAX + 1];
  keys old = {0};
  int rc = mail_maildir_map_each(md, collect_key, &old) ? -1 : 0;
  for (size_t i = 0; !rc && i < old.n; i++)
    if (!mail_pop3_uidset_contains(set, old.v[i]))
      mail_maildir_map_remove(md, old.v[i]);
  for (size_t i = 0; i < old.n; i++)
    free(old.v[i]);
  free(old.v);
  for (size_t i = 0; !rc && i < mail_pop3_uidset_count(set); i++) {
    int64_t when;
    const char *uid = mail_pop3_uidset_at(set, i, &when);
    const char *name = name_of(p, md, d, uid, buf, sizeof buf);
    rc = mail_maildir_map_set(md, uid, name, when) ? -1 : 0;
  }
  if (!rc)
    rc = mail_maildir_map_save(md) ? -1 : 0;
  if (!rc) {
    char legacy[4200];
    snprintf(legacy, sizeof legacy, "%s/.mailcli-uidl", mail_maildir_path(md));
    unlink(legacy); /* the key map holds it now */
  }
  return rc;
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
static int save_partial_state(mail_pop3 *p, mail_maildir *md, const mail_pop3_uidset *known,
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
    rc = save_state(p, md, d, now);
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
  int code;
  mail_maildir *md = open_store(maildir, &code);
  if (!md)
    return code;
  mail_pop3_uidset *known = NULL, *seen = NULL;
  if (mail_pop3_uidset_new(&known, NULL) || mail_pop3_uidset_new(&seen, NULL)) {
    mail_pop3_uidset_free(known);
    mail_maildir_free(md);
    return cli_fail(EXIT_INPUT, "fetch", "out of memory");
  }
  if (load_state(md, known) != 0)
    code = cli_fail(EXIT_INPUT, "fetch", "%s/libmail-map: unreadable", maildir);
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
  for (size_t i = 0; i < 4; i++)
    signal(sigs[i], on_signal);

  delivery d;
  memset(&d, 0, sizeof d);
  d.o = o;
  d.p = p;
  d.md = md;
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
      code = cli_fail(EXIT_INPUT, "fetch", "writing into %s failed: %s", maildir,
                      d.failed ? mail_maildir_last_error(md) : "the callback stopped");
    } else if (rc != MAIL_OK && rc != MAIL_ERR_PARTIAL) {
      code = cli_pop3_fail(p, rc, "fetch");
    } else {
      int committed = 0;
      int qrc = mail_pop3_quit(p, &committed);
      if (qrc)
        code = cli_pop3_fail(p, qrc, "QUIT");
      else if (save_state(p, md, &d, seen) != 0)
        code = cli_fail(EXIT_INPUT, "fetch", "%s/libmail-map: %s", maildir, mail_maildir_last_error(md));
      else if (rc == MAIL_ERR_PARTIAL)
        code = cli_fail(EXIT_REFUSED, "fetch", "the server refused some messages; they are tried again next time");
      if (!committed)
        deleted = 0;
    }
  }
  if (code && d.ndone && save_partial_state(p, md, known, &d) != 0)
    cli_fail(EXIT_INPUT, "fetch", "%s/libmail-map: %s", maildir, mail_maildir_last_error(md));
  for (size_t i = 0; i < 4; i++)
    signal(sigs[i], SIG_DFL);
  print_fetched(o, p, &d, maildir, deleted);
  free(d.done);
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  mail_maildir_free(md);
  return code;
}

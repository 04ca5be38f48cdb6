/* imap URL sync MAILBOX STATEFILE|MAILDIR [--strategy qresync|condstore|full]:
 * bring a local copy of MAILBOX up to date (the mailbox is EXAMINEd:
 * nothing changes on the server).
 *  - STATEFILE (a file, made on the first run): the sync state of
 *    mail/imap_sync.h; each change since the state was saved is printed,
 *    one line each ("new UID FLAGS", "flags UID FLAGS", "vanished UID",
 *    "reset UIDVALIDITY"; --json: one object each), then the state is
 *    saved (atomically);
 *  - MAILDIR (an existing directory, or a path ending in "/", made when
 *    missing): the mailbox mirrored into it (mail_imap_sync_maildir()).
 * The last line (or object) sums it up. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <mail/features.h>
#include <mail/imap_sync.h>
#if MAIL_HAVE_MAILDIR
#include <mail/maildir.h>
#endif

#include "imap_json.h"
#include "imap_session.h"

typedef struct sync_out {
  const cli_options *o;
  unsigned long n[5];
} sync_out;

static int on_change(void *user, int ev, uint32_t uid, const char *flags)
{
  sync_out *s = user;
  static const char *const names[] = {"", "reset", "new", "flags", "vanished"};
  if (ev < 1 || ev > 4)
    return 0;
  s->n[ev]++;
  if (s->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "event", names[ev]);
    json_key(stdout, &first, ev == MAIL_IMAP_SYNC_RESET ? "uidvalidity" : "uid");
    printf("%lu", (unsigned long)uid);
    if (ev == MAIL_IMAP_SYNC_NEW || ev == MAIL_IMAP_SYNC_FLAGS)
      json_field(stdout, &first, "flags", flags);
    puts("}");
  } else if (ev == MAIL_IMAP_SYNC_NEW || ev == MAIL_IMAP_SYNC_FLAGS) {
    printf("%s %lu %s\n", names[ev], (unsigned long)uid, flags);
  } else {
    printf("%s %lu\n", names[ev], (unsigned long)uid);
  }
  return 0;
}

static const char *strategy_name(int s)
{
  static const char *const names[] = {"auto", "qresync", "condstore", "full"};
  return s >= 0 && s <= 3 ? names[s] : "?";
}

static int is_maildir_target(const char *path)
{
  struct stat sb;
  size_t len = strlen(path);
  return (len && path[len - 1] == '/') || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
}

#if MAIL_HAVE_MAILDIR
static int mirror(imap_ctx *x, const char *mailbox, const char *dir, int strategy)
{
  mail_maildir *md;
  int rc = mail_maildir_open(&md, dir, MAIL_MAILDIR_CREATE, NULL);
  if (rc)
    return cli_fail(EXIT_INPUT, "imap sync", "%s: cannot open the maildir (%s)", dir,
                    mail_strerror(rc));
  size_t got = 0;
  rc = mail_imap_sync_maildir(&got, x->im, mailbox, md, strategy);
  int code = EXIT_OK;
  if (rc == MAIL_ERR_FILE || rc == MAIL_ERR_SYNTAX) {
    code = cli_fail(EXIT_INPUT, "imap sync", "%s: %s", dir,
                    mail_maildir_last_error(md)[0] ? mail_maildir_last_error(md)
                                                   : mail_strerror(rc));
  } else if (rc) {
    char what[600];
    snprintf(what, sizeof what, "sync %s into %s", mailbox, dir);
    code = cli_imap_fail(x->im, rc, what);
  } else if (x->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "mailbox", mailbox);
    json_field(stdout, &first, "maildir", dir);
    json_key(stdout, &first, "downloaded");
    printf("%zu", got);
    json_key(stdout, &first, "messages");
    printf("%zu}\n", mail_maildir_map_count(md) ? mail_maildir_map_count(md) - 1 : 0);
  } else {
    printf("%s mirrored into %s: %zu downloaded, %zu messages\n", mailbox, dir, got,
           mail_maildir_map_count(md) ? mail_maildir_map_count(md) - 1 : 0);
  }
  mail_maildir_free(md);
  return code;
}
#else
static int mirror(imap_ctx *x, const char *mailbox, const char *dir, int strategy)
{
  (void)x, (void)mailbox, (void)strategy;
  return cli_fail(EXIT_INPUT, "imap sync", "%s: this libmail was built without the maildir store",
                  dir);
}
#endif

int imap_do_sync(imap_ctx *x)
{
  const char *mailbox = x->c->pos[0], *target = x->c->pos[1];
  int strategy = MAIL_IMAP_SYNC_AUTO;
  if (x->c->strategy) {
    if (!strcmp(x->c->strategy, "qresync"))
      strategy = MAIL_IMAP_SYNC_QRESYNC;
    else if (!strcmp(x->c->strategy, "condstore"))
      strategy = MAIL_IMAP_SYNC_CONDSTORE;
    else if (!strcmp(x->c->strategy, "full"))
      strategy = MAIL_IMAP_SYNC_FULL;
    else
      return cli_usage_error("--strategy takes qresync, condstore or full");
  }
  if (is_maildir_target(target))
    return mirror(x, mailbox, target, strategy);
  mail_imap_sync_state *st;
  if (mail_imap_sync_state_new(&st, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "imap sync", "out of memory");
  int rc = mail_imap_sync_state_load(st, target);
  if (rc && rc != MAIL_ERR_NOT_FOUND) {
    mail_imap_sync_state_free(st);
    return cli_fail(EXIT_INPUT, "imap sync", "%s: not a sync state file (%s)", target,
                    mail_strerror(rc));
  }
  sync_out out = {x->o, {0}};
  int used = 0;
  rc = mail_imap_sync_run(&used, x->im, st, mailbox, 1, strategy, on_change, &out);
  int code = EXIT_OK;
  if (rc) {
    char what[600];
    snprintf(what, sizeof what, "sync %s", mailbox);
    code = cli_imap_fail(x->im, rc, what);
  } else if ((rc = mail_imap_sync_state_save(st, target)) != MAIL_OK) {
    code = cli_fail(EXIT_INPUT, "imap sync", "%s: cannot be written", target);
  } else if (x->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "mailbox", mailbox);
    json_field(stdout, &first, "strategy", strategy_name(used));
    json_key(stdout, &first, "uidvalidity");
    printf("%lu", (unsigned long)mail_imap_sync_state_uidvalidity(st));
    json_key(stdout, &first, "highestmodseq");
    printf("%llu", (unsigned long long)mail_imap_sync_state_highestmodseq(st));
    json_key(stdout, &first, "messages");
    printf("%zu", mail_imap_sync_state_count(st));
    printf(", \"new\": %lu, \"flags\": %lu, \"vanished\": %lu, \"reset\": %lu}\n", out.n[2],
           out.n[3], out.n[4], out.n[1]);
  } else {
    printf("%s: %zu messages (%s): %lu new, %lu flag changes, %lu vanished%s\n", mailbox,
           mail_imap_sync_state_count(st), strategy_name(used), out.n[2], out.n[3], out.n[4],
           out.n[1] ? ", UIDVALIDITY reset" : "");
  }
  mail_imap_sync_state_free(st);
  return code;
}

/* mailcli imap URL ACTION ...  and  mailcli imap parse FILE|-
 *
 * The command line of the imap subcommands, the actions that are one
 * command each (create, delete-mailbox, rename, copy, move, delete), and
 * the dispatch to the others (imap_list.c, imap_fetch.c, imap_append.c,
 * imap_idle.c, imap_sync.c). A SET is an IMAP sequence set of message numbers
 * ("1:3,7,10:*"), or of UIDs when given as --uid SET. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_json.h"
#include "imap_session.h"

typedef struct imap_action {
  const char *name;
  int min, max; /* positional arguments after the action, the SET not counted */
  int set;      /* 1: takes a SET (after the mailbox) or --uid SET */
  int (*run)(imap_ctx *x);
} imap_action;

static int do_create(imap_ctx *x);
static int do_delete_mailbox(imap_ctx *x);
static int do_rename(imap_ctx *x);
static int do_copy(imap_ctx *x);
static int do_delete(imap_ctx *x);

static const imap_action actions[] = {
  {"list", 0, 1, 0, imap_do_list},
  {"status", 1, 1, 0, imap_do_status},
  {"select", 1, 1, 0, imap_do_select},
  {"search", 1, -1, 0, imap_do_search},
  {"fetch", 1, 1, 1, imap_do_fetch},
  {"append", 2, 2, 0, imap_do_append},
  {"copy", 2, 2, 1, do_copy},
  {"move", 2, 2, 1, do_copy},
  {"store", 3, -1, 1, imap_do_store},
  {"delete", 1, 1, 1, do_delete},
  {"create", 1, 1, 0, do_create},
  {"delete-mailbox", 1, 1, 0, do_delete_mailbox},
  {"rename", 2, 2, 0, do_rename},
  {"idle", 0, 1, 0, imap_do_idle},
  {"sync", 2, 2, 0, imap_do_sync},
};
#define NACTIONS (sizeof actions / sizeof actions[0])

static const char action_names[] =
    "list, status, select, search, fetch, append, copy, move, store, delete, create, "
    "delete-mailbox, rename, idle, sync";

/* Options of the imap actions: name, the action(s) taking it, where it goes. */
static int take_option(imap_cmd *c, const char *k, const char *v, int *used_value)
{
  *used_value = 0;
  static const struct { const char *name; size_t off; } flags[] = {
    {"--envelope", offsetof(imap_cmd, envelope)}, {"--bodystructure", offsetof(imap_cmd, bodystructure)},
    {"--flags", offsetof(imap_cmd, want_flags)},  {"--raw", offsetof(imap_cmd, raw)},
    {"--binary", offsetof(imap_cmd, binary)},     {"--status", offsetof(imap_cmd, status)},
    {"--read-only", offsetof(imap_cmd, read_only)}, {"--seq", offsetof(imap_cmd, seq)},
  };
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (!strcmp(k, flags[i].name)) {
      *(int *)((char *)c + flags[i].off) = 1;
      return EXIT_OK;
    }
  const char **slot = NULL;
  if (!strcmp(k, "--uid"))
    slot = &c->set;
  else if (!strcmp(k, "--section"))
    slot = &c->section;
  else if (!strcmp(k, "--partial"))
    slot = &c->partial;
  else if (!strcmp(k, "--output"))
    slot = &c->output;
  else if (!strcmp(k, "--strategy"))
    slot = &c->strategy;
  else if (strcmp(k, "--flag"))
    return cli_usage_error("imap: unknown option %s", k);
  if (!v)
    return cli_usage_error("%s needs a value", k);
  *used_value = 1;
  if (slot) {
    if (*slot)
      return cli_usage_error("%s given twice", k);
    *slot = v;
    c->uid |= !strcmp(k, "--uid");
  } else {
    c->flags[c->nflags++] = v;
  }
  return EXIT_OK;
}

static int parse(cli_args *a, imap_cmd *c, const imap_action **act)
{
  int options = 1;
  for (int i = 0; i < a->argc; i++) {
    const char *k = a->argv[i];
    if (options && !strcmp(k, "--")) {
      options = 0;
    } else if (options && k[0] == '-' && k[1] == '-') {
      int used;
      int code = take_option(c, k, i + 1 < a->argc ? a->argv[i + 1] : NULL, &used);
      if (code)
        return code;
      i += used;
    } else if (!c->url) {
      c->url = k;
    } else if (!c->action) {
      c->action = k;
    } else {
      c->pos[c->npos++] = k;
    }
  }
  if (!c->url || !c->action)
    return cli_usage_error("imap needs a URL and an action (%s), or parse FILE", action_names);
  if (!cli_imap_url(c->url))
    return cli_usage_error("imap: '%s' is not an imap:// or imaps:// URL", c->url);
  size_t k = 0;
  while (k < NACTIONS && strcmp(c->action, actions[k].name))
    k++;
  if (k == NACTIONS)
    return cli_usage_error("imap: unknown action '%s' (%s)", c->action, action_names);
  *act = &actions[k];
  if ((*act)->set && !c->uid) {
    /* the SET is the argument after the mailbox */
    if (c->npos < 2)
      return cli_usage_error("imap %s needs a mailbox and a SET (or --uid SET)", c->action);
    c->set = c->pos[1];
    memmove(c->pos + 1, c->pos + 2, (size_t)(c->npos - 2) * sizeof *c->pos);
    c->npos--;
  } else if (!(*act)->set && c->uid) {
    return cli_usage_error("imap %s takes no --uid", c->action);
  }
  if (c->npos < (*act)->min || ((*act)->max >= 0 && c->npos > (*act)->max))
    return cli_usage_error("imap %s: wrong number of arguments (try --help)", c->action);
  int fetch = (*act)->run == imap_do_fetch;
  if (!fetch && (c->envelope || c->bodystructure || c->want_flags || c->raw || c->binary ||
                 c->section || c->partial || c->output))
    return cli_usage_error("imap %s: fetch options given (try --help)", c->action);
  if ((*act)->run != imap_do_append && c->nflags)
    return cli_usage_error("imap %s takes no --flag", c->action);
  if ((*act)->run != imap_do_list && c->status)
    return cli_usage_error("imap %s takes no --status", c->action);
  if ((*act)->run != imap_do_select && c->read_only)
    return cli_usage_error("imap %s takes no --read-only", c->action);
  if ((*act)->run != imap_do_sync && c->strategy)
    return cli_usage_error("imap %s takes no --strategy", c->action);
  if ((*act)->run != imap_do_search && c->seq)
    return cli_usage_error("imap %s takes no --seq", c->action);
  return EXIT_OK;
}

/* ---- the untagged callback ---- */

static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  imap_ctx *x = user;
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_ALERT) {
    size_t n;
    const char *t = mail_imap_response_text(r, &n);
    /* An ALERT from before TLS is not the server's word: not shown as one. */
    if (trusted)
      fprintf(stderr, "%s: server alert: %.*s\n", cli_progname, (int)n, t);
    else
      cli_trace_note("alert received before TLS (not shown): %.*s", (int)n, t);
  }
  return x->on ? x->on(x, r) : 0;
}

void imap_ctx_install(imap_ctx *x)
{
  mail_imap_set_untagged_callback(x->im, on_untagged, x);
}

int imap_cmd_set(const imap_cmd *c, mail_imap_seqset **out)
{
  if (mail_imap_seqset_new(out, NULL) != MAIL_OK)
    return cli_fail(EXIT_INPUT, "imap", "out of memory");
  if (cli_imap_parse_set(*out, c->set)) {
    mail_imap_seqset_free(*out);
    *out = NULL;
    return cli_usage_error("'%s' is not a set of %s (such as 1:3,7,10:*)", c->set,
                           c->uid ? "UIDs" : "message numbers");
  }
  return EXIT_OK;
}

/* ---- the actions of one command each ---- */

static int mailbox_done(imap_ctx *x, int rc, const char *cmd, const char *done)
{
  char what[600];
  snprintf(what, sizeof what, "%s %s", cmd, x->c->pos[0]);
  if (rc)
    return cli_imap_fail(x->im, rc, what);
  if (x->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "mailbox", x->c->pos[0]);
    json_field(stdout, &first, "done", done);
    if (x->c->npos > 1)
      json_field(stdout, &first, "to", x->c->pos[1]);
    puts("}");
  } else if (x->c->npos > 1) {
    printf("%s %s to %s\n", done, x->c->pos[0], x->c->pos[1]);
  } else {
    printf("%s %s\n", done, x->c->pos[0]);
  }
  return EXIT_OK;
}

static int do_create(imap_ctx *x)
{
  return mailbox_done(x, mail_imap_create(x->im, x->c->pos[0]), "CREATE", "created");
}

static int do_delete_mailbox(imap_ctx *x)
{
  return mailbox_done(x, mail_imap_delete(x->im, x->c->pos[0]), "DELETE", "deleted");
}

static int do_rename(imap_ctx *x)
{
  return mailbox_done(x, mail_imap_rename(x->im, x->c->pos[0], x->c->pos[1]), "RENAME",
                      "renamed");
}

/* "[COPYUID 38505 304,319 3956:3957]": the UIDs in the destination. It is
 * in the tagged OK of COPY, and in an untagged OK before it for MOVE
 * (RFC 6851). */
typedef struct copyuid {
  char validity[24], from[4096], to[4096];
} copyuid;

static int on_copy(imap_ctx *x, const mail_imap_response *r)
{
  copyuid *u = x->data;
  size_t n;
  const char *data;
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_COPYUID &&
      (data = mail_imap_response_code_raw(r, &n)) != NULL) {
    char buf[8300];
    snprintf(buf, sizeof buf, "%.*s", (int)n, data);
    sscanf(buf, "%23s %4095s %4095s", u->validity, u->from, u->to);
  }
  return 0;
}

static void print_copyuid(imap_ctx *x, copyuid *u, const char *verb)
{
  if (mail_imap_last_code(x->im) == MAIL_IMAP_CODE_COPYUID)
    sscanf(mail_imap_last_code_data(x->im), "%23s %4095s %4095s", u->validity, u->from, u->to);
  if (x->o->json) {
    int first = 1;
    putchar('{');
    json_field(stdout, &first, "done", verb);
    json_field(stdout, &first, "to", x->c->pos[1]);
    if (*u->to) {
      json_key(stdout, &first, "uidvalidity");
      fputs(u->validity, stdout);
      json_field(stdout, &first, "source_uids", u->from);
      json_field(stdout, &first, "destination_uids", u->to);
    }
    puts("}");
  } else if (*u->to) {
    printf("%s to %s: UIDs %s there (UIDVALIDITY %s; were %s)\n", verb, x->c->pos[1], u->to,
           u->validity, u->from);
  } else {
    printf("%s to %s\n", verb, x->c->pos[1]);
  }
}

static int do_copy(imap_ctx *x)
{
  int move = !strcmp(x->c->action, "move");
  copyuid u;
  memset(&u, 0, sizeof u);
  mail_imap_seqset *set;
  int code = imap_cmd_set(x->c, &set);
  if (code)
    return code;
  if (!(code = cli_imap_select(x->im, x->c->pos[0], 0))) {
    x->on = on_copy;
    x->data = &u;
    int rc = mail_imap_copy(x->im, set, x->c->uid, x->c->pos[1], move);
    if (rc) {
      char what[600];
      snprintf(what, sizeof what, "%s%s %s %s", x->c->uid ? "UID " : "", move ? "MOVE" : "COPY",
               x->c->set, x->c->pos[1]);
      code = cli_imap_fail(x->im, rc, what);
    } else {
      print_copyuid(x, &u, move ? "moved" : "copied");
    }
  }
  mail_imap_seqset_free(set);
  return code;
}

/* delete MAILBOX SET: \Deleted, then UID EXPUNGE of just those messages
 * (UIDPLUS; their UIDs asked for first when SET holds message numbers),
 * or EXPUNGE, which also takes what others marked \Deleted. */
typedef struct deleted {
  mail_imap_seqset *uids;
  unsigned long count;
} deleted;

static int on_deleted(imap_ctx *x, const mail_imap_response *r)
{
  deleted *d = x->data;
  uint64_t uid;
  int type = mail_imap_response_type(r);
  if (type == MAIL_IMAP_TYPE_FETCH && d->uids &&
      mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) == MAIL_OK) {
    uint32_t u = (uint32_t)uid;
    return mail_imap_seqset_add(d->uids, &u, 1) != MAIL_OK;
  }
  if (type == MAIL_IMAP_TYPE_EXPUNGE)
    d->count++;
  if (type == MAIL_IMAP_TYPE_VANISHED && !mail_imap_response_earlier(r)) {
    uint32_t a, b;
    for (size_t i = 0; mail_imap_response_range(r, i, &a, &b) == MAIL_OK; i++)
      d->count += b - a + 1;
  }
  return 0;
}

static int do_delete(imap_ctx *x)
{
  const imap_cmd *c = x->c;
  deleted d = {NULL, 0};
  mail_imap_seqset *set;
  int code = imap_cmd_set(c, &set);
  if (code)
    return code;
  static const char *const flag[] = {"\\Deleted"};
  int uidplus = 0, rc = MAIL_OK;
  const char *what = "STORE +FLAGS.SILENT (\\Deleted)";
  x->on = on_deleted;
  x->data = &d;
  if ((code = cli_imap_select(x->im, c->pos[0], 0)) != EXIT_OK)
    goto out;
  uidplus = mail_imap_has_capability(x->im, "UIDPLUS");
  if (uidplus && !c->uid) {
    if (mail_imap_seqset_new(&d.uids, NULL) != MAIL_OK) {
      code = cli_fail(EXIT_INPUT, "imap", "out of memory");
      goto out;
    }
    what = "FETCH (UID)";
    rc = mail_imap_fetch(x->im, set, 0, "(UID)", NULL, NULL);
  }
  if (!rc) {
    what = "STORE +FLAGS.SILENT (\\Deleted)";
    rc = mail_imap_store(x->im, set, c->uid, MAIL_IMAP_STORE_ADD, flag, 1, 1, 0);
  }
  if (!rc) {
    what = uidplus ? "UID EXPUNGE" : "EXPUNGE";
    rc = uidplus ? mail_imap_uid_expunge(x->im, d.uids ? d.uids : set) : mail_imap_expunge(x->im);
  }
  if (rc) {
    code = cli_imap_fail(x->im, rc, what);
  } else if (x->o->json) {
    printf("{\"mailbox\": ");
    json_string(stdout, c->pos[0]);
    printf(", \"deleted\": %lu, \"expunge\": \"%s\"}\n", d.count, what);
  } else {
    printf("%lu message%s deleted from %s (%s)\n", d.count, d.count == 1 ? "" : "s", c->pos[0],
           what);
  }
out:
  mail_imap_seqset_free(d.uids);
  mail_imap_seqset_free(set);
  return code;
}

/* ---- parse FILE|-: the stand-alone response parser ---- */

static int do_parse(cli_args *a)
{
  if (a->argc != 2)
    return cli_usage_error("imap parse needs one FILE (or - for standard input)");
  const char *path = a->argv[1];
  FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!in)
    return cli_fail(EXIT_INPUT, "imap parse", "%s: cannot be read", path);
  int rc = imap_json_run(in, stdout, stderr, "mailcli: imap parse");
  if (in != stdin)
    fclose(in);
  if (fflush(stdout) != 0)
    return cli_fail(EXIT_INPUT, "imap parse", "writing to standard output failed");
  return rc == 0 ? EXIT_OK : rc == 8 ? EXIT_PROTOCOL : EXIT_INPUT;
}

int cmd_imap(const cli_options *o, cli_args *a)
{
  if (a->argc >= 1 && !strcmp(a->argv[0], "parse"))
    return do_parse(a);
  imap_cmd c;
  memset(&c, 0, sizeof c);
  c.pos = calloc((size_t)a->argc + 1, sizeof *c.pos);
  c.flags = calloc((size_t)a->argc + 1, sizeof *c.flags);
  if (!c.pos || !c.flags) {
    free(c.pos);
    free(c.flags);
    return cli_fail(EXIT_INPUT, "imap", "out of memory");
  }
  const imap_action *act = NULL;
  int code = parse(a, &c, &act);
  cli_secrets sec;
  memset(&sec, 0, sizeof sec);
  mail_imap *im = NULL;
  if (!code)
    code = cli_load_secrets(o, &sec);
  if (!code)
    code = cli_imap_new(o, &sec, c.url, &im);
  imap_ctx x = {o, &c, im, NULL, NULL};
  if (!code) {
    imap_ctx_install(&x);
    code = cli_imap_login(o, &sec, im, c.url);
  }
  cli_wipe_secrets(&sec);
  if (!code)
    code = act->run(&x);
  if (im && mail_imap_get_state(im) != MAIL_IMAP_STATE_DISCONNECTED)
    mail_imap_logout(im);
  mail_imap_free(im);
  free(c.pos);
  free(c.flags);
  return code;
}

/* IMAP sessions as the `imap` subcommands open, use and close them. */
#ifndef MAILCLI_IMAP_SESSION_H
#define MAILCLI_IMAP_SESSION_H

#include "cli.h"

/* 1 for imap:// and imaps:// URLs. */
int cli_imap_url(const char *url);

/* A session with the global options applied (security from --tls or the
 * URL). EXIT_OK or an exit code (printed). */
int cli_imap_new(const cli_options *o, const cli_secrets *sec, const char *url, mail_imap **out);

/* Connect by URL and log in (user from --user or the URL; --user and the
 * password options win over the URL's). EXIT_OK or an exit code. */
int cli_imap_login(const cli_options *o, const cli_secrets *sec, mail_imap *im, const char *url);

/* Report a failed operation (the session's one error string, which names
 * the command and the server's tagged reply), LOGOUT when the session is
 * still usable, and return the exit code. */
int cli_imap_fail(mail_imap *im, int rc, const char *what);

/* SELECT (or EXAMINE) mailbox; EXIT_OK or an exit code (printed). */
int cli_imap_select(mail_imap *im, const char *mailbox, int read_only);

/* Parse an IMAP sequence set ("1:3,7,10:*") into s. 0, or -1 when text
 * is not one. */
int cli_imap_parse_set(mail_imap_seqset *s, const char *text);

/* 1 when text is a single number (not a range or a list). */
int cli_imap_single(const char *text);

/* A flag argument: "\Seen", "$Label", "Junk" (an atom); "seen", "answered",
 * "flagged", "deleted", "draft" are taken for the system flags. Returns
 * the flag as sent (static storage for the system flags, else text). */
const char *cli_imap_flag(const char *text);

/* ---- the imap command line (cmd_imap.c) ---- */
typedef struct imap_cmd {
  const char *url, *action;
  const char **pos; /* positional arguments after the action (mailbox, ...) */
  int npos;
  const char *set;  /* the SET argument or --uid's value */
  int uid;          /* set names UIDs (--uid) */
  const char *section, *partial, *output;
  const char *strategy; /* --strategy (sync) */
  const char **flags; /* --flag (append) */
  size_t nflags;
  int envelope, bodystructure, want_flags, raw, binary, status, read_only, seq;
} imap_cmd;

/* What the untagged callback hands on to the action running. */
typedef struct imap_ctx imap_ctx;
typedef int (*imap_on_fn)(imap_ctx *x, const mail_imap_response *r);
struct imap_ctx {
  const cli_options *o;
  const imap_cmd *c;
  mail_imap *im;
  imap_on_fn on; /* NULL: nothing but alerts is shown */
  void *data;
};
/* Install the callback (once, right after the session is made). */
void imap_ctx_install(imap_ctx *x);

/* Build the set of c (set or --uid) into a new seqset: EXIT_OK, or an
 * exit code (printed). */
int imap_cmd_set(const imap_cmd *c, mail_imap_seqset **out);

/* ---- the actions (each after the login; the session is logged out by
 * the caller) ---- */
int imap_do_list(imap_ctx *x);   /* imap_list.c */
int imap_do_status(imap_ctx *x);
int imap_do_select(imap_ctx *x);
int imap_do_fetch(imap_ctx *x);  /* imap_fetch.c */
int imap_do_store(imap_ctx *x);
int imap_do_search(imap_ctx *x);
int imap_do_append(imap_ctx *x); /* imap_append.c */
int imap_do_idle(imap_ctx *x);   /* imap_idle.c */
int imap_do_sync(imap_ctx *x);   /* imap_sync.c */

#endif

/* POP3 sessions as the `pop3` and `caps` subcommands open and close them. */
#ifndef MAILCLI_POP3_SESSION_H
#define MAILCLI_POP3_SESSION_H

#include "cli.h"

/* 1 for pop3:// and pop3s:// URLs. */
int cli_pop3_url(const char *url);

/* A session with the global options applied. security: a mail_security
 * mode, or -1 for --tls / the URL's default. EXIT_OK or an exit code. */
int cli_pop3_new(const cli_options *o, const cli_secrets *sec, const char *url, int security,
                 mail_pop3 **out);

/* Connect by URL without logging in. EXIT_OK or an exit code (printed). */
int cli_pop3_connect_only(mail_pop3 *p, const char *url, const char *what);

/* Connect and log in (user from --user or the URL). */
int cli_pop3_login(const cli_options *o, const cli_secrets *sec, mail_pop3 *p, const char *url);

/* "-ERR [AUTH] Authentication failed.": a status line on one line. */
void cli_pop3_reply_str(const mail_pop3_reply *r, char *buf, size_t cap);

/* Report a failed operation with the server's reply or the connection's
 * error, send QUIT when the session is still usable (nothing marked
 * deleted is committed then: QUIT after a failure is an RSET first), and
 * return the exit code. */
int cli_pop3_fail(mail_pop3 *p, int rc, const char *what);

/* ---- pop3_fetch.c: fetch MAILDIR [--keep DAYS] ---- */
/* Create the maildir (and tmp/, new/, cur/) before connecting. */
int pop3_fetch_prepare(const char *maildir);
/* The leave-on-server cycle into the maildir. Without --keep nothing is
 * deleted; --keep DAYS deletes messages first seen DAYS or more days ago
 * (0: as soon as they are fetched). */
int pop3_fetch(const cli_options *o, mail_pop3 *p, const char *maildir, int has_keep,
               unsigned keep_days);

#endif

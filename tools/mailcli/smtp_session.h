/* SMTP/LMTP sessions as `send` and `caps` open and close them. */
#ifndef MAILCLI_SMTP_SESSION_H
#define MAILCLI_SMTP_SESSION_H

#include "cli.h"

/* 1 for the URL schemes the SMTP client takes. */
int cli_smtp_url(const char *url);

/* A session with the global options applied. security: a mail_security
 * mode, or -1 for --tls / the URL's default. EXIT_OK or an exit code. */
int cli_smtp_new(const cli_options *o, const cli_secrets *sec, const char *url, int security,
                 mail_smtp **out);

/* Connect by URL, then authenticate when credentials were given. On
 * failure the error is printed, QUIT sent when the connection is still
 * usable, and the exit code returned. */
int cli_smtp_connect(const cli_options *o, const cli_secrets *sec, mail_smtp *s, const char *url);

/* Report a failed operation (what: "connect", "AUTH", ...) with the
 * server's reply or the connection's error, send QUIT when the session
 * is still usable, and return the exit code. */
int cli_smtp_fail(mail_smtp *s, int rc, const char *what);

#endif

/*
 * mailcli — what the subcommands share: the global options, the exit
 * codes, the session setup every protocol subcommand does the same way,
 * error reporting, output helpers. Built on the public API only.
 */
#ifndef MAILCLI_CLI_H
#define MAILCLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mail/mail.h>

/* Exit codes (documented in --help and doc/mailcli.1). */
enum {
  EXIT_OK = 0,
  EXIT_USAGE = 2,
  EXIT_CONNECTION = 3, /* connection or timeout */
  EXIT_TLS = 4,        /* handshake, verification, STARTTLS unavailable or refused */
  EXIT_AUTH = 5,
  EXIT_REFUSED = 6,    /* the server refused (send: every recipient refused) */
  EXIT_PARTIAL = 7,    /* some recipients refused */
  EXIT_PROTOCOL = 8,   /* protocol violation by the server */
  EXIT_INPUT = 9       /* bad local input (or a local file that cannot be read or written) */
};

/* The global options: before or after the subcommand. */
typedef struct cli_options {
  int trace;
  int json;
  const char *user;
  const char *password_env;
  const char *password_file;
  const char *oauth_token_env;
  const char *mech;
  const char *cafile;
  const char *proxy;     /* --proxy URL (no credentials in it) */
  const char *proxy_env; /* --proxy-env VAR: the URL, credentials allowed */
  int insecure;
  int security;        /* mail_security, or -1: from the URL scheme */
  int timeout_s;       /* 0: the library's defaults */
  size_t max_line;     /* 0: default */
  size_t max_response; /* 0: default */
} cli_options;

/* The command line after the global options were taken out of it. */
typedef struct cli_args {
  int argc;
  char **argv;
} cli_args;

/* Secrets read from the environment or a file, wiped at exit. */
typedef struct cli_secrets {
  char *password;
  char *token;
} cli_secrets;

/* ---- main.c ---- */
extern const char *cli_progname;

/* ---- options.c ---- */
/* Take the global options out of argv (anywhere after argv[0]); what is
 * left, in order, goes to *rest. Returns EXIT_OK or EXIT_USAGE (message
 * printed). "--" ends option parsing. */
int cli_parse_global(int argc, char **argv, cli_options *o, cli_args *rest);
/* The password / token named by the options (NULL when none was asked
 * for). EXIT_OK or EXIT_INPUT (message printed). */
int cli_load_secrets(const cli_options *o, cli_secrets *s);
void cli_wipe_secrets(cli_secrets *s);
/* Parse an unsigned decimal in [min, max]; 0 on success. */
int cli_number(const char *text, unsigned long long min, unsigned long long max,
               unsigned long long *out);

/* ---- report.c ---- */
/* Print "mailcli: what: detail" on stderr; returns code. */
int cli_fail(int code, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a library status (the one mapping). */
int cli_exit_code(int status);
/* Report a failed call: mail_strerror plus the connection's last error. */
int cli_fail_status(mail_conn *conn, int status, const char *what);

/* ---- conn_setup.c ---- */
/* Apply the options every connection takes: trace, TLS configuration,
 * timeouts, limits. EXIT_OK or an exit code (message printed). */
int cli_setup_conn(const cli_options *o, mail_conn *conn);
/* Apply credentials and --mech to a SASL handle. */
int cli_setup_sasl(const cli_options *o, const cli_secrets *s, mail_sasl *sasl);
/* After connecting by a URL with a user in it (which replaced the
 * credentials): --user and the password or token from the options win
 * again. A library status (MAIL_OK when all were taken). */
int cli_reapply_credentials(const cli_options *o, const cli_secrets *s, mail_sasl *sasl);
/* The security mode for a URL: --tls, checked against the scheme (an
 * implicit-TLS scheme needs implicit TLS and the others cannot have it
 * except where the library allows). -1 with a message when they contradict. */
int cli_security_for(const cli_options *o, const char *url, int scheme_implicit,
                     int implicit_allowed);
/* 1 when url starts with scheme followed by "://" (ASCII case ignored). */
int cli_url_is(const char *url, const char *scheme);

/* ---- trace.c ---- */
/* The trace hook: whole "C: " / "S: " lines on stderr, "* " for library notes. */
void cli_trace_install(mail_conn *conn);
/* Print what is left of partial lines (at the end of a session). */
void cli_trace_flush(void);
/* A "* " note of mailcli's own in the trace (only with --trace). */
void cli_trace_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- progress.c ---- */
/* A progress bar on stderr for transfers over 1 MB, only when stderr is a
 * terminal and no trace is shown. */
typedef struct cli_progress {
  int enabled;
  int shown;
  uint64_t total;
  int64_t start_ms;
  int64_t last_ms;
  const char *label;
} cli_progress;
void cli_progress_begin(cli_progress *p, const cli_options *o, const char *label, uint64_t total);
void cli_progress_update(cli_progress *p, uint64_t done);
void cli_progress_end(cli_progress *p);

/* ---- json.c ---- */
void json_string(FILE *f, const char *s);
void json_key(FILE *f, int *first, const char *key);
void json_field(FILE *f, int *first, const char *key, const char *value);

/* ---- digest.c ---- */
typedef struct cli_sha256 cli_sha256;
cli_sha256 *cli_sha256_new(void);
int cli_sha256_update(cli_sha256 *d, const void *data, size_t len);
/* Finish into hex (65 bytes) and free. Returns 0 on success. */
int cli_sha256_finish(cli_sha256 *d, char hex[65]);

/* ---- files.c ---- */
/* Read a whole file ("-" is stdin) into memory (NUL-terminated). 0 or -1 (errno). */
int cli_read_file(const char *path, char **out, size_t *len);

/* ---- subcommands ---- */
int cmd_caps(const cli_options *o, cli_args *a);
int cmd_send(const cli_options *o, cli_args *a);
int cmd_pop3(const cli_options *o, cli_args *a);
int cmd_mime(const cli_options *o, cli_args *a);
#if MAIL_HAVE_IMAP
int cmd_imap(const cli_options *o, cli_args *a);
#endif
int cmd_nntp(const cli_options *o, cli_args *a);

#endif /* MAILCLI_CLI_H */

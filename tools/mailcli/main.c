/*
 * mailcli — a mail client for operators, scripts and test rigs, built on
 * libmail's public API: the global options, the help text and the
 * subcommand table. Each subcommand lives in its own cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

const char *cli_progname = "mailcli";

static const char help_text[] =
    "usage: mailcli [GLOBAL OPTIONS] COMMAND ARGS... [GLOBAL OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  caps URL                      the server's capabilities, before and after TLS\n"
    "  send URL --from ADDR --to ADDR... [--cc ADDR]... [--bcc ADDR]...\n"
    "       [--subject TEXT] [--text FILE|-] [--html FILE] [--attach FILE]...\n"
    "       [--header \"Name: value\"]... [--raw FILE|-] [--dsn SPEC] [--message-id ID]\n"
    "                                one line (or JSON object) per recipient\n"
    "  pop3 URL stat | list | uidl | retr MSG | top MSG LINES | dele MSG\n"
    "       | fetch MAILDIR [--keep DAYS]\n"
    "                                MSG is a number, or --uid UID\n"
#if MAIL_HAVE_IMAP
    "  imap URL list [PATTERN] [--status] | status MAILBOX | select MAILBOX [--read-only]\n"
    "       | search MAILBOX [CRITERIA...] [--seq]\n"
    "       | fetch MAILBOX SET [--envelope] [--bodystructure] [--flags]\n"
    "               [--raw | --section PART [--binary]] [--partial START.LEN] [--output FILE]\n"
    "       | append MAILBOX FILE|- [--flag FLAG]... | copy|move MAILBOX SET DEST\n"
    "       | store MAILBOX SET add|remove|replace FLAG... | delete MAILBOX SET\n"
    "       | create|delete-mailbox MAILBOX | rename MAILBOX NEWNAME | idle [MAILBOX]\n"
    "       | sync MAILBOX STATEFILE|MAILDIR/ [--strategy qresync|condstore|full]\n"
    "                                SET: 1:3,7,10:* (message numbers) or --uid SET;\n"
    "                                search prints UIDs (--seq: numbers)\n"
    "  imap parse FILE|-             IMAP server bytes to one JSON object per response\n"
#endif
    "  nntp URL groups [WILDMAT] | over GROUP RANGE | article GROUP N|<MSGID>\n"
    "       | post FILE|-             RANGE is N, N- or N-M; reading is anonymous\n"
    "                                unless --user is given, post logs in\n"
    "  mime parse FILE|-             the MIME part tree (--json: subject, from, to,\n"
    "                                defects, leaf parts with their sha256)\n"
    "  mime extract FILE|- DIR       write the attachments into DIR under safe names\n"
    "  mime build [send options]     write the message to stdout\n"
    "\n"
    "URLs: smtp:// submission:// smtps:// lmtp://host or lmtp:///socket (send, caps);\n"
    "      pop3:// pop3s://[user@]host[:port] (pop3, caps);\n"
#if MAIL_HAVE_IMAP
    "      imap:// imaps://[user@]host[:port] (imap, caps);\n"
#endif
    "      nntp:// nntps://[user@]host[:port] (nntp).\n"
    "\n"
    "Global options:\n"
    "  --trace                  the conversation on stderr as C: / S: lines\n"
    "                           (credentials shown as [redacted])\n"
    "  --json                   machine-readable output (one JSON object per line)\n"
    "  --user NAME              log in as NAME\n"
    "  --password-env VAR       the password is in environment variable VAR\n"
    "  --password-file FILE     the password is the first line of FILE\n"
    "  --oauth-token-env VAR    an OAuth 2 bearer token (OAUTHBEARER, XOAUTH2) in VAR\n"
    "  --mech NAMES             only these SASL mechanisms (comma-separated, in order)\n"
    "  --cafile FILE            trust the CAs in FILE instead of the system store\n"
    "  --proxy URL              connect through socks5://host[:port] or http://host[:port]\n"
    "  --proxy-env VAR          the proxy URL is in VAR (may hold user:password@)\n"
    "  --insecure               do not verify the server's certificate, and allow\n"
    "                           cleartext credentials (PLAIN, LOGIN, USER/PASS) over\n"
    "                           an unverified link\n"
    "  --tls implicit|starttls|starttls-opportunistic|none\n"
    "                           default from the URL: smtps, pop3s, imaps, nntps: implicit;\n"
    "                           smtp, submission, lmtp, pop3, imap, nntp: starttls (required)\n"
    "  --timeout SECONDS        connect and I/O timeout (imap idle: how long to idle)\n"
    "  --max-line BYTES         longest server line accepted (default 64 KiB)\n"
    "  --max-response BYTES     largest server response buffered (default 1 MiB)\n"
    "  -h, --help               this text;  --version  the library version\n"
    "\n"
    "Exit codes:\n"
    "  0 ok                     2 usage\n"
    "  3 connection or timeout  4 TLS (handshake, verification, STARTTLS unavailable\n"
    "                             or refused)\n"
    "  5 authentication         6 the server refused (send: every recipient refused)\n"
    "  7 partial (some recipients refused)\n"
    "  8 protocol violation by the server\n"
    "  9 bad local input (or a local file that cannot be read or written)\n"
    "Errors print the session's error string on stderr. See mailcli(1).\n";

typedef struct command {
  const char *name;
  int (*run)(const cli_options *o, cli_args *a);
} command;

static const command commands[] = {
  {"caps", cmd_caps},
  {"send", cmd_send},
  {"pop3", cmd_pop3},
  {"mime", cmd_mime},
#if MAIL_HAVE_IMAP
  {"imap", cmd_imap},
#endif
#if MAIL_HAVE_NNTP
  {"nntp", cmd_nntp},
#endif
};

int main(int argc, char **argv)
{
  cli_options o;
  cli_args rest;
  int rc = cli_parse_global(argc, argv, &o, &rest);
  if (rc == -1) {
    fputs(help_text, stdout);
    return EXIT_OK;
  }
  if (rc == -2) {
    printf("mailcli (libmail %s)\n", mail_version());
    return EXIT_OK;
  }
  if (rc)
    return rc;
  if (rest.argc == 0) {
    fputs(help_text, stderr);
    return EXIT_USAGE;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(rest.argv[0], commands[i].name)) {
      rest.argc--;
      rest.argv++;
      rc = commands[i].run(&o, &rest);
      cli_trace_flush();
      return rc;
    }
  return cli_usage_error("unknown command '%s' (try --help)", rest.argv[0]);
}

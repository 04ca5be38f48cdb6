/* Errors on stderr and the one mapping from a library status to an exit code. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_fail(int code, const char *what, const char *fmt, ...)
{
  va_list ap;
  cli_trace_flush();
  fprintf(stderr, "%s: %s: ", cli_progname, what);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return code;
}

int cli_usage_error(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s: ", cli_progname);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n(try %s --help)\n", cli_progname);
  return EXIT_USAGE;
}

int cli_exit_code(int status)
{
  switch (status) {
  case MAIL_OK:
    return EXIT_OK;
  case MAIL_ERR_TLS:
  case MAIL_ERR_TLS_VERIFY:
  case MAIL_ERR_STARTTLS:
  case MAIL_ERR_STARTTLS_INJECTION:
  case MAIL_ERR_REQUIRETLS:
    return EXIT_TLS;
  case MAIL_ERR_AUTH:
  case MAIL_ERR_NO_MECHANISM:
  case MAIL_ERR_INSECURE:
  case MAIL_ERR_SASL_SERVER:
  case MAIL_ERR_SASL_BAD_CHALLENGE:
    return EXIT_AUTH;
  case MAIL_ERR_SERVER:
  case MAIL_ERR_THROTTLED:
  case MAIL_ERR_SERVER_LIMIT:
  case MAIL_ERR_TOO_MANY_CONNECTIONS:
  case MAIL_ERR_RECIPIENTS:
  case MAIL_ERR_NOT_FOUND:
    return EXIT_REFUSED;
  case MAIL_ERR_PARTIAL:
    return EXIT_PARTIAL;
  case MAIL_ERR_PROTOCOL:
  case MAIL_ERR_LIMIT:
    return EXIT_PROTOCOL;
  case MAIL_ERR_INVALID:
  case MAIL_ERR_SYNTAX:
  case MAIL_ERR_FILE:
  case MAIL_ERR_CHARSET:
  case MAIL_ERR_TOO_BIG:
  case MAIL_ERR_NEEDS_SMTPUTF8:
  case MAIL_ERR_UNSUPPORTED:
  case MAIL_ERR_CALLBACK:
  case MAIL_ERR_NOMEM:
  case MAIL_ERR_BUFFER:
    return EXIT_INPUT;
  default: /* resolve, connect, timeout, closed, I/O, 421, cancelled */
    return EXIT_CONNECTION;
  }
}

int cli_fail_status(mail_conn *conn, int status, const char *what)
{
  const char *detail = conn ? mail_conn_last_error(conn) : "";
  if (detail && *detail)
    return cli_fail(cli_exit_code(status), what, "%s: %s", mail_strerror(status), detail);
  return cli_fail(cli_exit_code(status), what, "%s", mail_strerror(status));
}

/* Status strings, version and the free function for
 * buffers handed to callers. */
#include <mail/common.h>

#include "config.h"
#include "core/mem.h"

const char *mail_strerror(int status)
{
  switch ((mail_status)status) {
  case MAIL_OK: return "success";
  case MAIL_ERR_AGAIN: return "operation would block";
  case MAIL_ERR_INVALID: return "invalid argument";
  case MAIL_ERR_NOMEM: return "out of memory";
  case MAIL_ERR_STATE: return "not allowed in the current state";
  case MAIL_ERR_UNSUPPORTED: return "not compiled in, or not offered by the server";
  case MAIL_ERR_SERVER: return "the server refused the command";
  case MAIL_ERR_AUTH: return "the server rejected the credentials";
  case MAIL_ERR_NO_MECHANISM: return "no usable authentication mechanism";
  case MAIL_ERR_INSECURE: return "refused: the connection lacks the required protection";
  case MAIL_ERR_TOO_BIG: return "larger than the server or a local limit accepts; nothing was sent";
  case MAIL_ERR_NOT_FOUND: return "not found";
  case MAIL_ERR_BUFFER: return "buffer too small";
  case MAIL_ERR_CANCELLED: return "cancelled by the caller";
  case MAIL_ERR_RECIPIENTS: return "recipients were refused; nothing was sent";
  case MAIL_ERR_PARTIAL: return "some, not all, items failed";
  case MAIL_ERR_CALLBACK: return "a callback returned an error";
  case MAIL_ERR_CHARSET: return "unknown charset or invalid encoding";
  case MAIL_ERR_SYNTAX: return "syntax error in the input";
  case MAIL_ERR_FILE: return "a local file could not be opened or read";
  case MAIL_ERR_NEEDS_SMTPUTF8: return "message needs SMTPUTF8, which the server does not offer";
  case MAIL_ERR_REQUIRETLS: return "REQUIRETLS cannot be honoured on this connection";
  case MAIL_ERR_SASL_BAD_CHALLENGE: return "malformed SASL challenge";
  case MAIL_ERR_THROTTLED: return "the server asks to slow down";
  case MAIL_ERR_SERVER_LIMIT: return "a server limit was reached";
  case MAIL_ERR_TOO_MANY_CONNECTIONS: return "the server has too many connections";
  case MAIL_ERR_NOT_ATTEMPTED: return "not attempted";
  case MAIL_ERR_IO: return "input/output error";
  case MAIL_ERR_TIMEOUT: return "timed out: no progress before the deadline";
  case MAIL_ERR_CLOSED: return "connection closed by the server";
  case MAIL_ERR_RESOLVE: return "host name did not resolve";
  case MAIL_ERR_CONNECT: return "could not connect";
  case MAIL_ERR_TLS: return "TLS failure";
  case MAIL_ERR_TLS_VERIFY: return "the server's certificate or name did not verify";
  case MAIL_ERR_STARTTLS: return "STARTTLS was required but not offered, or refused";
  case MAIL_ERR_STARTTLS_INJECTION: return "data arrived between the STARTTLS go-ahead and the TLS handshake";
  case MAIL_ERR_PROTOCOL: return "protocol violation by the server";
  case MAIL_ERR_LIMIT: return "server input exceeded a limit";
  case MAIL_ERR_SERVER_CLOSING: return "the server is closing the connection";
  case MAIL_ERR_SASL_SERVER: return "the server failed mutual authentication";
  case MAIL_ERR_INTERNAL: return "internal error";
  case MAIL_ERR_PROXY: return "the proxy did not open the tunnel";
  }
  return "unknown error";
}

int mail_status_is_fatal(int status)
{
  return status <= MAIL_ERR_FATAL_THRESHOLD;
}

const char *mail_version(void)
{
  return MAIL_VERSION_STRING;
}

unsigned int mail_version_number(void)
{
  return MAIL_VERSION_NUMBER;
}

unsigned int mail_features(void)
{
  unsigned int f = 0;
  if (MAIL_WITH_SMTP)
    f |= MAIL_FEATURE_SMTP;
  if (MAIL_WITH_POP3)
    f |= MAIL_FEATURE_POP3;
  if (MAIL_WITH_IMAP)
    f |= MAIL_FEATURE_IMAP;
  if (MAIL_WITH_NNTP)
    f |= MAIL_FEATURE_NNTP;
  if (MAIL_WITH_MIME)
    f |= MAIL_FEATURE_MIME;
  if (MAIL_WITH_TLS)
    f |= MAIL_FEATURE_TLS;
  if (MAIL_WITH_ZLIB)
    f |= MAIL_FEATURE_ZLIB;
  if (MAIL_WITH_SASLPREP)
    f |= MAIL_FEATURE_SASLPREP;
  if (MAIL_WITH_IDNA)
    f |= MAIL_FEATURE_IDNA;
  if (MAIL_WITH_MAILDIR)
    f |= MAIL_FEATURE_MAILDIR;
  if (MAIL_WITH_SOCKETS)
    f |= MAIL_FEATURE_SOCKETS;
  if (MAIL_WITH_PROXY)
    f |= MAIL_FEATURE_PROXY;
  if (MAIL_WITH_LOOP)
    f |= MAIL_FEATURE_LOOP;
  if (MAIL_WITH_SMTP_POOL)
    f |= MAIL_FEATURE_SMTP_POOL;
  return f;
}

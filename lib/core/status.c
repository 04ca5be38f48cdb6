/* Status strings, version and the free function for
 * buffers handed to callers. */
#include <mail/common.h>

#include <stddef.h>

#include "config.h"
#include "core/mem.h"

/* Every status and its text, once. mail_strerror() is a lookup, not a
 * switch: GCC compiled the switch to a 115-entry jump table and a
 * load-and-return per case (about 800 bytes); the texts in one struct and
 * a 16-bit offset per status take a tenth of that, with no relocations.
 * tests/unit/test_core.c checks, with a switch the compiler makes
 * complete (-Wswitch), that every status has its own text here. */
#define STATUS_TEXTS(X) \
  X(MAIL_OK, "success") \
  X(MAIL_ERR_AGAIN, "operation would block") \
  X(MAIL_ERR_INVALID, "invalid argument") \
  X(MAIL_ERR_NOMEM, "out of memory") \
  X(MAIL_ERR_STATE, "not allowed in the current state") \
  X(MAIL_ERR_UNSUPPORTED, "not compiled in, or not offered by the server") \
  X(MAIL_ERR_SERVER, "the server refused the command") \
  X(MAIL_ERR_AUTH, "the server rejected the credentials") \
  X(MAIL_ERR_NO_MECHANISM, "no usable authentication mechanism") \
  X(MAIL_ERR_INSECURE, "refused: the connection lacks the required protection") \
  X(MAIL_ERR_TOO_BIG, "larger than the server or a local limit accepts; nothing was sent") \
  X(MAIL_ERR_NOT_FOUND, "not found") \
  X(MAIL_ERR_BUFFER, "buffer too small") \
  X(MAIL_ERR_CANCELLED, "cancelled by the caller") \
  X(MAIL_ERR_RECIPIENTS, "recipients were refused; nothing was sent") \
  X(MAIL_ERR_PARTIAL, "some, not all, items failed") \
  X(MAIL_ERR_CALLBACK, "a callback returned an error") \
  X(MAIL_ERR_CHARSET, "unknown charset or invalid encoding") \
  X(MAIL_ERR_SYNTAX, "syntax error in the input") \
  X(MAIL_ERR_FILE, "a local file could not be opened or read") \
  X(MAIL_ERR_NEEDS_SMTPUTF8, "message needs SMTPUTF8, which the server does not offer") \
  X(MAIL_ERR_REQUIRETLS, "REQUIRETLS cannot be honoured on this connection") \
  X(MAIL_ERR_SASL_BAD_CHALLENGE, "malformed SASL challenge") \
  X(MAIL_ERR_THROTTLED, "the server asks to slow down") \
  X(MAIL_ERR_SERVER_LIMIT, "a server limit was reached") \
  X(MAIL_ERR_TOO_MANY_CONNECTIONS, "the server has too many connections") \
  X(MAIL_ERR_NOT_ATTEMPTED, "not attempted") \
  X(MAIL_ERR_IO, "input/output error") \
  X(MAIL_ERR_TIMEOUT, "timed out: no progress before the deadline") \
  X(MAIL_ERR_CLOSED, "connection closed by the server") \
  X(MAIL_ERR_RESOLVE, "host name did not resolve") \
  X(MAIL_ERR_CONNECT, "could not connect") \
  X(MAIL_ERR_TLS, "TLS failure") \
  X(MAIL_ERR_TLS_VERIFY, "the server's certificate or name did not verify") \
  X(MAIL_ERR_STARTTLS, "STARTTLS was required but not offered, or refused") \
  X(MAIL_ERR_STARTTLS_INJECTION, "data arrived between the STARTTLS go-ahead and the TLS handshake") \
  X(MAIL_ERR_PROTOCOL, "protocol violation by the server") \
  X(MAIL_ERR_LIMIT, "server input exceeded a limit") \
  X(MAIL_ERR_SERVER_CLOSING, "the server is closing the connection") \
  X(MAIL_ERR_SASL_SERVER, "the server failed mutual authentication") \
  X(MAIL_ERR_INTERNAL, "internal error") \
  X(MAIL_ERR_PROXY, "the proxy did not open the tunnel")

/* The texts back to back, each a member named after its status; the first
 * (offset 0, what a status without an entry gets) is the fallback. */
static const struct status_texts {
  char unknown[sizeof "unknown error"];
#define X(code, text) char t_##code[sizeof text];
  STATUS_TEXTS(X)
#undef X
} texts = {
  "unknown error",
#define X(code, text) text,
  STATUS_TEXTS(X)
#undef X
};

/* Offsets by slot: -status for 0 (MAIL_OK) down to -31, then the fatal
 * range from MAIL_ERR_FATAL_THRESHOLD down 16 codes; a slot no status
 * fills stays 0, the fallback. */
enum { STATUS_FATAL_BASE = 32, STATUS_SLOTS = STATUS_FATAL_BASE + 16 };
#define STATUS_SLOT(code) ((code) > MAIL_ERR_FATAL_THRESHOLD ? -(code) \
                           : STATUS_FATAL_BASE + (MAIL_ERR_FATAL_THRESHOLD - (code)))
static const unsigned short offsets[STATUS_SLOTS] = {
#define X(code, text) [STATUS_SLOT(code)] = offsetof(struct status_texts, t_##code),
  STATUS_TEXTS(X)
#undef X
};
/* Each code in its range's slots (a code past them must grow these). */
#define X(code, text) \
  _Static_assert((code) > MAIL_ERR_FATAL_THRESHOLD ? (code) <= 0 && -(code) < STATUS_FATAL_BASE \
                 : STATUS_SLOT(code) < STATUS_SLOTS, "no slot for " #code);
STATUS_TEXTS(X)
#undef X
_Static_assert(sizeof texts <= 0xffff, "the offsets are 16 bits");

const char *mail_strerror(int status)
{
  int slot;
  if (status <= 0 && status > -STATUS_FATAL_BASE)
    slot = -status;
  else if (status <= MAIL_ERR_FATAL_THRESHOLD &&
           status > MAIL_ERR_FATAL_THRESHOLD - (STATUS_SLOTS - STATUS_FATAL_BASE))
    slot = STATUS_FATAL_BASE + (MAIL_ERR_FATAL_THRESHOLD - status);
  else
    return texts.unknown;
  return (const char *)&texts + offsets[slot];
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

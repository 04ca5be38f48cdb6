/*
 * The one URL parser for every protocol (smtp, lmtp, pop3, imap, nntp):
 *
 *   scheme://[user[:password]@]host[:port][/[path]]
 *   scheme:///absolute/socket/path          (where the scheme allows it)
 *
 * The caller gives a table of the schemes it accepts; the parser matches
 * the scheme case-insensitively, percent-decodes the user and password
 * (RFC 3986 2.1, as RFC 2384 and RFC 5092 use them), checks the host
 * strictly (a DNS-style name or an [IPv6] literal) and the port
 * (1..65535). No I/O; nothing is looked up.
 */
#ifndef MAIL_CORE_URL_H
#define MAIL_CORE_URL_H

#include <stddef.h>
#include <mail/common.h>

/* Longest URL accepted, in bytes (a bound on hostile input). */
#define MAIL_URL_MAX 8192
/* Longest host name (DNS: 255 octets), without the brackets of a literal. */
#define MAIL_URL_HOST_MAX 255

/* mail_url_scheme.flags */
#define MAIL_URL_IMPLICIT_TLS 0x1u /* TLS from the first byte (smtps, pop3s, imaps, nntps) */
#define MAIL_URL_UNIX_PATH 0x2u    /* "scheme:///path" names a Unix-domain socket */
#define MAIL_URL_USERINFO 0x4u     /* "user[:password]@" may precede the host */
#define MAIL_URL_PATH 0x8u         /* a path (and query) may follow the host */
/* Bits from here up mean what the protocol's own table says (e.g. SMTP's
 * "this scheme is LMTP"); the parser ignores them. */
#define MAIL_URL_PROTOCOL_FLAGS 0x100u

/* One accepted scheme. */
typedef struct mail_url_scheme {
  const char *name;   /* lower case, without "://", e.g. "pop3s" */
  unsigned int port;  /* default port when the URL names none */
  unsigned int flags; /* MAIL_URL_* */
} mail_url_scheme;

/* A parsed URL. user and password are owned (free with mail_url_clear());
 * socket_path and path point into the parsed string and live as long as it. */
typedef struct mail_url {
  const mail_url_scheme *scheme; /* the matching table entry */
  size_t scheme_index;           /* its index in the table */
  char host[MAIL_URL_HOST_MAX + 1]; /* "" for a socket; an IPv6 literal without
                                     * brackets, its zone as "%zone" */
  int host_is_ipv6;              /* the host was an [IPv6] literal */
  unsigned int port;             /* given or the scheme's default; 0 for a socket */
  int port_given;                /* the URL named the port */
  int has_userinfo;              /* an '@' was present (user may still be "") */
  char *user;                    /* decoded; NULL without userinfo */
  char *password;                /* decoded; NULL when no ':' in the userinfo.
                                  * A secret: wiped by mail_url_clear(). */
  const char *socket_path;       /* MAIL_URL_UNIX_PATH form: the absolute path,
                                  * byte for byte (not decoded); else NULL */
  const char *path;              /* MAIL_URL_PATH: what follows the host's "/",
                                  * still percent-encoded (query included),
                                  * NULL when empty; else NULL */
} mail_url;

/*
 * Parse url against schemes[0..nschemes). On success *out holds the parts;
 * release them with mail_url_clear(). On failure nothing is held (no
 * secret is left in freed memory) and *out is cleared.
 * alloc: where user and password are allocated (NULL: the C library).
 * Errors: MAIL_ERR_INVALID (a NULL argument; CR, LF in url; CR or LF
 * decoded from the userinfo), MAIL_ERR_SYNTAX (unknown scheme, malformed
 * or over-long URL, bad host or port, a bad or NUL escape, a part the
 * scheme does not allow), MAIL_ERR_NOMEM. Error codes only: no text that
 * could carry the password.
 */
int mail_url_parse(mail_url *out, const char *url, const mail_url_scheme *schemes,
                   size_t nschemes, const mail_allocator *alloc);

/* Wipe and free what mail_url_parse() allocated, and clear *u. alloc must be
 * the one given to mail_url_parse(). u may be NULL. */
void mail_url_clear(mail_url *u, const mail_allocator *alloc);

/*
 * Percent-decode s[0..n) into a new NUL-terminated string (*out, allocated
 * from alloc, exactly as long as needed). For URL parts the caller decodes
 * itself (an IMAP mailbox, an NNTP group). Free it with
 * mail_dealloc_secret_str() when it may hold a secret.
 * Errors: MAIL_ERR_SYNTAX ('%' not followed by two hex digits, %00),
 * MAIL_ERR_INVALID (%0D or %0A), MAIL_ERR_NOMEM. *out is NULL on error.
 */
int mail_url_decode(const mail_allocator *alloc, const char *s, size_t n, char **out);

/* The security mode a mail URL asks for, given the mode the caller chose
 * for the session: implicit TLS for a scheme that has it (pop3s://,
 * imaps://); otherwise the caller's mode, except that implicit TLS becomes
 * STARTTLS, so a plain scheme keeps an insecure mode chosen by name. */
int mail_url_security(const mail_url_scheme *scheme, int chosen);

#endif

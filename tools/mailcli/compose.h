/* The message options `send` and `mime build` share, and building the
 * message from them. */
#ifndef MAILCLI_COMPOSE_H
#define MAILCLI_COMPOSE_H

#include "cli.h"

typedef struct compose {
  const char *from;
  const char **to, **cc, **bcc, **attach, **header;
  size_t nto, ncc, nbcc, nattach, nheader;
  const char *subject, *text, *html, *raw, *dsn, *message_id;
  const char **positional;
  size_t npositional;
  char *text_buf, *html_buf;
} compose;

/* Take the message options out of a; the other arguments go to
 * c->positional. EXIT_OK or EXIT_USAGE (message printed). */
int compose_parse(compose *c, cli_args *a);
void compose_free(compose *c);

/* Build the message (not for --raw). opts: MAIL_MIME_OPT_* the path
 * supports. EXIT_OK or an exit code (message printed). */
int compose_build(compose *c, unsigned int opts, mail_mime_builder **out);

/* The address part of an option value "Name <addr>" or "addr", copied
 * into buf; the display name (or NULL) into *name (also in buf). */
int compose_split_address(const char *value, char *buf, size_t cap, const char **name,
                          const char **addr);

#endif /* MAILCLI_COMPOSE_H */

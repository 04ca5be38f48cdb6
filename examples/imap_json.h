/* IMAP responses as JSON lines: the printer behind examples/imapparse,
 * kept apart so `mailcli imap parse` prints the same output. */
#ifndef IMAP_JSON_H
#define IMAP_JSON_H

#include <stdio.h>

#include <mail/imap_parse.h>

/* One JSON object (and a newline) for response r on out. */
void imap_json_response(FILE *out, const mail_imap_response *r);

/* The items of a FETCH response r as one JSON object (no newline): the
 * "items" member of imap_json_response(). */
void imap_json_fetch_items(FILE *out, const mail_imap_response *r);

/* Body callback that counts streamed bytes per section for the printer;
 * install with mail_imap_parser_set_body_callback(p, imap_json_body, NULL). */
int imap_json_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len);

/* Read server bytes from in until EOF, parse them with a new parser and
 * print every response. Returns 0, 8 when the input cannot be framed (an
 * error from the parser, or input ending inside a response), 1 on a read
 * or memory failure; a message, starting with "name: ", goes to err. */
int imap_json_run(FILE *in, FILE *out, FILE *err, const char *name);

#endif

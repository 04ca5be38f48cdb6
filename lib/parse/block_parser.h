/*
 * The machinery the public POP3 and NNTP response parsers share: a reader
 * of their own, one status line per response, then (when the caller said
 * one may come and the status line allows it) a dot-terminated block as
 * streamed chunks or as lines, unstuffed by core/dot.c. The protocols give
 * only their status-line grammar, as a callback. Their public event and
 * expectation values are the same numbers: REPLY 1, DATA 2, LINE 3, END 4;
 * SINGLE 0, MULTI 1, MULTI_LINES 2.
 */
#ifndef MAIL_PARSE_BLOCK_PARSER_H
#define MAIL_PARSE_BLOCK_PARSER_H

#include <stddef.h>
#include <mail/common.h>

#include "core/dot.h"
#include "core/reader.h"

enum { MAIL_BLOCK_REPLY = 1, MAIL_BLOCK_DATA, MAIL_BLOCK_LINE, MAIL_BLOCK_END };
enum { MAIL_BLOCK_SINGLE = 0, MAIL_BLOCK_MULTI, MAIL_BLOCK_MULTI_LINES };

/* Parse one status line (no terminator) into the protocol's reply; set
 * *block when a block may follow it (POP3: +OK; NNTP: 1xx/2xx). MAIL_OK,
 * MAIL_ERR_PROTOCOL, MAIL_ERR_NOMEM. */
typedef int (*mail_block_status_fn)(void *reply, const char *line, size_t len, int *block);

typedef struct mail_block_parser {
  mail_limits limits;
  mail_reader reader;
  mail_dot_unstuffer body;
  int expect; /* MAIL_BLOCK_SINGLE.. for the next status line */
  int state;
  int err;    /* sticky error */
  int started;
  int have_reply;
  const unsigned char *data;
  size_t data_len;
} mail_block_parser;

/* a must outlive p. */
void mail_block_parser_init(mail_block_parser *p, const mail_allocator *a);
void mail_block_parser_free(mail_block_parser *p);
int mail_block_parser_set_limits(mail_block_parser *p, const mail_limits *l);
int mail_block_parser_expect(mail_block_parser *p, int mode);
int mail_block_parser_feed(mail_block_parser *p, const void *data, size_t len);
void mail_block_parser_end(mail_block_parser *p);
/* The next event (MAIL_BLOCK_*); status lines go through fn into reply. */
int mail_block_parser_next(mail_block_parser *p, int *event, mail_block_status_fn fn, void *reply);
const unsigned char *mail_block_parser_data(const mail_block_parser *p, size_t *len);
void mail_block_parser_reset(mail_block_parser *p);
size_t mail_block_parser_pending(const mail_block_parser *p);

#endif

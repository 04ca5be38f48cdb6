/*
 * POP3 response parsing at the line and byte level, for the protocol
 * engine: it takes status lines from the connection's mail_reader and
 * runs multi-line bodies through mail_pop3_body_step() straight from the
 * reader's buffer (mail_reader_data() / mail_reader_skip()), so bodies
 * stream. The public parser (include/mail/pop3_reply.h) is a thin layer
 * over these functions with a mail_reader of its own.
 */
#ifndef MAIL_PARSE_POP3_REPLY_H
#define MAIL_PARSE_POP3_REPLY_H

#include <stddef.h>
#include <mail/pop3_reply.h>

#include "core/buf.h"

struct mail_pop3_reply {
  mail_allocator own_alloc;  /* used by clones */
  int owned;
  int status;                /* MAIL_POP3_OK / _ERR / _CONTINUE */
  int code_id;               /* MAIL_POP3_CODE_* */
  size_t code_len;           /* response code at text.data[0], NUL after it */
  size_t text_off;           /* the text after the code */
  mail_buf text;             /* "CODE\0text\0" or "\0text\0" */
};

void mail_pop3_reply_init(mail_pop3_reply *r, const mail_allocator *alloc);
void mail_pop3_reply_release(mail_pop3_reply *r);

/*
 * Parse one status line (without terminator) into r, replacing what it
 * held. MAIL_OK, MAIL_ERR_PROTOCOL or MAIL_ERR_NOMEM.
 */
int mail_pop3_reply_parse(mail_pop3_reply *r, const char *line, size_t len);

/* The known code a response code string names (MAIL_POP3_CODE_*). */
int mail_pop3_code_id(const char *code, size_t len);

/* The limits a session's capability list follows from now on (its
 * connection's; NULL: the defaults). */
void mail_pop3_caps_set_limits(mail_pop3_caps *c, const mail_limits *limits);

/* Dot-unstuffing of a streamed multi-line body. */
typedef struct mail_pop3_body {
  int state;
} mail_pop3_body;

void mail_pop3_body_init(mail_pop3_body *b);

/*
 * Run n body bytes at in. *consumed gets how many were used (the rest
 * must be offered again). When *chunk_len > 0, *chunk holds body data to
 * deliver: it points into in, or to static storage. Returns 1 when the
 * terminator was consumed (the body is over; bytes after *consumed belong
 * to the next response), else 0. With n > 0 every call makes progress.
 */
int mail_pop3_body_step(mail_pop3_body *b, const unsigned char *in, size_t n, size_t *consumed,
                        const unsigned char **chunk, size_t *chunk_len);

/*
 * One body line (without terminator) for callers that read bodies line by
 * line (LIST, UIDL, CAPA): returns 1 for the terminator ".", else 0 with
 * the unstuffed line in *out / *out_len.
 */
int mail_pop3_body_line(const char *line, size_t len, const char **out, size_t *out_len);

#endif

/*
 * POP3 response parsing at the line and byte level, for the protocol
 * engine: it takes status lines from the connection's mail_reader and
 * runs multi-line bodies through mail_dot_unstuff() (core/dot.h) straight from the
 * reader's buffer (mail_reader_data() / mail_reader_skip()), so bodies
 * stream. The public parser (include/mail/pop3_reply.h) is a thin layer
 * over these functions with a mail_reader of its own.
 */
#ifndef MAIL_PARSE_POP3_REPLY_H
#define MAIL_PARSE_POP3_REPLY_H

#include <stddef.h>
#include <mail/pop3_reply.h>

#include "core/buf.h"
#include "core/dot.h"

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

#endif

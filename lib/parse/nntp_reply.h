/*
 * NNTP status lines for the protocol engine, which takes lines from the
 * connection's mail_reader and runs data blocks through core/dot.h
 * straight from the reader's buffer. The public parser
 * (include/mail/nntp_reply.h) is a thin layer over the same functions with
 * a mail_reader of its own.
 */
#ifndef MAIL_PARSE_NNTP_REPLY_H
#define MAIL_PARSE_NNTP_REPLY_H

#include <stddef.h>
#include <mail/nntp_reply.h>

#include "core/buf.h"

struct mail_nntp_reply {
  mail_allocator own_alloc; /* used by clones */
  int owned;
  int code;                 /* 100..599; 0: none */
  mail_buf text;            /* the text, NUL-terminated */
};

void mail_nntp_reply_init(mail_nntp_reply *r, const mail_allocator *alloc);
void mail_nntp_reply_release(mail_nntp_reply *r);

/* Parse one status line (without terminator) into r, replacing what it
 * held. MAIL_OK, MAIL_ERR_PROTOCOL or MAIL_ERR_NOMEM. */
int mail_nntp_reply_parse(mail_nntp_reply *r, const char *line, size_t len);

/* 1 when a data block follows code (1xx, 2xx) for a command that may
 * have one. */
int mail_nntp_code_has_block(int code);

/* 1*16DIGIT at s[*i] (advancing *i), then the end or a space. */
int mail_nntp_number(const char *s, size_t n, size_t *i, uint64_t *v);

#endif

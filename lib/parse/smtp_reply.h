/*
 * SMTP/LMTP reply parsing at the line level, for the protocol engines:
 * they take lines from the connection's mail_reader and hand them here.
 * The public incremental parser (include/mail/smtp_reply.h) is a thin
 * layer over the same functions with a mail_reader of its own.
 */
#ifndef MAIL_PARSE_SMTP_REPLY_H
#define MAIL_PARSE_SMTP_REPLY_H

#include <stddef.h>
#include <mail/smtp_reply.h>

#include "core/buf.h"
#include "parse/caps.h"

/* One reply line taken apart; text points into the line given. */
typedef struct mail_smtp_line {
  int code;          /* 100..599 */
  int last;          /* the reply ends with this line ("DDD " or "DDD") */
  int has_enhanced;
  unsigned int enh[3];
  const char *text;  /* after the separator and any enhanced code */
  size_t text_len;
} mail_smtp_line;

/*
 * Split one line (without its line terminator). enhanced: recognise an
 * RFC 3463 code at the start of the text. MAIL_OK or MAIL_ERR_PROTOCOL.
 */
int mail_smtp_line_parse(const char *line, size_t len, int enhanced, mail_smtp_line *out);

struct mail_smtp_reply {
  const mail_allocator *alloc;
  mail_allocator own_alloc;  /* used by clones: alloc points here */
  int owned;                 /* a clone: mail_smtp_reply_free() releases it */
  int complete;              /* the last line is in */
  int code;
  int has_enhanced;
  unsigned int enh[3];
  mail_buf text;    /* each line's text followed by NUL */
  mail_buf lines;   /* struct smtp_line_rec per line */
  mail_buf joined;  /* lines joined with LF, NUL-terminated: built when first asked for */
  int joined_ok;    /* joined holds this reply's text */
  size_t nlines;
};

/* Collects the lines of one reply. alloc and limits must outlive it. */
typedef struct mail_smtp_acc {
  mail_smtp_reply reply;
  /* Read at every line, so limits changed at any time apply to the next
   * line: max_response bytes of text, mail_limits_lines() lines. */
  const mail_limits *limits;
  /* When set at the first line of a reply, every later line goes into
   * this capability set instead of the reply (EHLO: the list is held
   * once, bounded by the same limits). */
  mail_capset *sink;
  mail_capset *cur_sink; /* the sink the current reply started with */
  size_t lines_seen;     /* lines of the current reply, streamed ones too */
  int enhanced;        /* recognise enhanced codes in the next reply */
  int cur_enhanced;    /* the setting the current reply started with */
  int in_reply;        /* lines taken, last line not seen yet */
  int complete;        /* reply holds a complete reply */
} mail_smtp_acc;

/* limits may be NULL (defaults). */
void mail_smtp_acc_init(mail_smtp_acc *a, const mail_allocator *alloc, const mail_limits *limits);
void mail_smtp_acc_free(mail_smtp_acc *a);
/* Forget any partial or complete reply (storage kept). */
void mail_smtp_acc_reset(mail_smtp_acc *a);
/*
 * Take the next line of a reply (without terminator). A complete reply
 * left from before is discarded first.
 * MAIL_ERR_AGAIN: taken, the reply goes on; MAIL_OK: a->reply is complete;
 * MAIL_ERR_PROTOCOL, MAIL_ERR_LIMIT, MAIL_ERR_NOMEM: the accumulator
 * must be reset before it is used again.
 */
int mail_smtp_acc_line(mail_smtp_acc *a, const char *line, size_t len);

/* The capability set inside a public caps object, and the limits it
 * follows from now on (a session's connection limits; NULL: defaults). */
mail_capset *mail_smtp_caps_capset(mail_smtp_caps *c);
void mail_smtp_caps_set_limits(mail_smtp_caps *c, const mail_limits *limits);

/* Fill a capability set from an EHLO reply (first line skipped). */
int mail_smtp_caps_from_reply(mail_capset *c, const mail_smtp_reply *r);

#endif

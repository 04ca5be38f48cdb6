/*
 * A capability list: keyword + parameters per entry, shared by SMTP EHLO
 * replies and POP3 CAPA responses. The two protocols differ only in which
 * keywords are well-formed, so one store serves both.
 */
#ifndef MAIL_PARSE_CAPS_H
#define MAIL_PARSE_CAPS_H

#include <stddef.h>
#include <mail/common.h>

#include "core/buf.h"

/* Which grammar a keyword must follow. */
enum {
  MAIL_CAPS_SMTP = 0,  /* RFC 5321 ehlo-keyword: ALPHA/DIGIT, then ALPHA/DIGIT/"-" */
  MAIL_CAPS_POP3 = 1   /* RFC 2449 capa-tag: 1*cchar (printable, no space) */
};

typedef struct mail_capset {
  mail_buf text;      /* every word, NUL-terminated, one after another */
  mail_buf words;     /* size_t offsets into text, one per word */
  mail_buf entries;   /* struct caps_entry, one per keyword line */
  size_t nentries;
  size_t lines;       /* lines offered since the last clear, skipped ones too */
  const mail_limits *limits; /* read at every line; never NULL */
  int grammar;
} mail_capset;

void mail_capset_init(mail_capset *c, const mail_allocator *a, int grammar);
void mail_capset_free(mail_capset *c);
void mail_capset_clear(mail_capset *c);
/* Follow these limits from the next line on (NULL: the defaults); they
 * must outlive the set. A session passes its connection's. */
void mail_capset_set_limits(mail_capset *c, const mail_limits *limits);

/*
 * Add one capability line (no terminator). Words are separated by runs of
 * SP or HT. For SMTP a keyword followed by "=" (the pre-standard
 * "AUTH=LOGIN PLAIN") is split there too. A line whose keyword is
 * malformed or empty is skipped and MAIL_OK is returned: it names nothing
 * a client could use, but it still counts as a line. MAIL_ERR_NOMEM;
 * MAIL_ERR_LIMIT past mail_limits_lines() lines, or when everything the
 * set holds (words, their offsets, entries) would pass max_response
 * bytes. On error the set is unchanged.
 * A line holding NUL is malformed and skipped.
 */
int mail_capset_add_line(mail_capset *c, const char *line, size_t len);

size_t mail_capset_count(const mail_capset *c);
const char *mail_capset_keyword(const mail_capset *c, size_t i);
size_t mail_capset_param_count(const mail_capset *c, size_t i);
const char *mail_capset_param(const mail_capset *c, size_t i, size_t j);
/* Index of the first entry whose keyword equals kw (ASCII case-insensitive). */
int mail_capset_find(const mail_capset *c, const char *kw, size_t *index);

#endif

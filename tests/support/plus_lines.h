/*
 * Finding the server's "+ " continuation lines (an IDLE's "+ idling") in
 * what a trace callback (mail_conn_set_trace) is given: what each read
 * brought, which can begin inside a line or hold several (an EXISTS just
 * before the "+"), so the lines are followed across reads. Tests that act
 * "once the IDLE is in place" wait for one of these.
 */
#ifndef MAIL_TEST_PLUS_LINES_H
#define MAIL_TEST_PLUS_LINES_H

#include <stddef.h>

typedef struct mail_test_lines {
  int state; /* 0: at a line's start (the initial value), 1: after a '+' there,
                2: in a "+ " line, 3: in another line */
} mail_test_lines;

/* Follows one received chunk; the number of "+ " lines whose end (LF) it
 * held. Feed every received chunk of the connection, from a line start. */
int mail_test_plus_lines(mail_test_lines *t, const char *data, size_t len);

#endif

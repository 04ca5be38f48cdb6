/*
 * The real test servers' mailboxes (Maildir, tests/servers/servers.sh): the
 * file of a message a test delivered, found by a unique string it holds,
 * and taken out -- how integration tests keep the shared mailboxes small,
 * and what a POP3 session that already counted the message sees as an
 * expunge.
 */
#ifndef MAIL_TEST_MAILDIR_H
#define MAIL_TEST_MAILDIR_H

#include <stddef.h>

/* The first message file in maildir/new or maildir/cur holding needle:
 * removed, and its content returned (malloc, NUL-terminated, *len bytes
 * before the NUL); NULL when there is none now (no waiting). A file the
 * server moves from new/ to cur/ during the look can be missed: look again. */
char *mail_test_maildir_take(const char *maildir, const char *needle, size_t *len);

#endif

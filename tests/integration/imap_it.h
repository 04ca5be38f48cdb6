/*
 * Helpers the IMAP tests against the real Dovecot share
 * (test_imap_*.c): a session logged in as one of the servers.env users,
 * over IMAPS or STARTTLS with the private CA, names no other test or
 * process uses, and an event-loop wait with a deadline.
 */
#ifndef MAIL_TEST_IMAP_IT_H
#define MAIL_TEST_IMAP_IT_H

#include <check.h>
#include <stdint.h>

#include <mail/imap.h>

/* The private CA of the test servers as conn's TLS trust. */
void imap_it_trust(mail_conn *conn);

/* A session connected to Dovecot (implicit 1: IMAPS, 0: STARTTLS), the
 * certificate verified, not logged in. alloc and limits (set before
 * connecting) may be NULL. Fails the test on any error. */
mail_imap *imap_it_connect(int implicit, const mail_allocator *alloc, const mail_limits *limits);

/* Log in im with LOGIN as user n of servers.env (MAIL_TEST_USERn /
 * MAIL_TEST_PASSn). */
void imap_it_login_as(mail_imap *im, int user);

/* imap_it_connect() with the default limits, then imap_it_login_as(). */
mail_imap *imap_it_login(int user, int implicit, const mail_allocator *alloc);

/* LOGOUT (must succeed) and free. */
void imap_it_logout(mail_imap *im);

/* "libmail-<what>-<pid>-<time>-été": unique among concurrent tests and
 * processes, and not ASCII (it goes out in modified UTF-7). */
void imap_it_unique(char *out, size_t cap, const char *what);

/* Monotonic milliseconds. */
int64_t imap_it_now_ms(void);

/* For an operation that returned MAIL_ERR_AGAIN: wait until the session's
 * connection is ready for what it wants, its own timeout passes or the
 * deadline (imap_it_now_ms() clock) comes; 0 when the deadline has passed. */
int imap_it_wait(mail_imap *im, int64_t deadline_ms);

/* The main() of a test program: skip (77) without the servers, run the
 * n tests in one case with the given timeout in seconds, exit status. */
int imap_it_main(const char *suite, int timeout, const TTest *const *tests, size_t n);

#endif

/*
 * libmail — a pool of SMTP submission sessions.
 *
 * A program that submits mail now and then (a web application, a queue
 * runner) keeps its sessions open between messages instead of paying a
 * connect, TLS handshake, EHLO and AUTH for each. The pool keeps the idle
 * sessions and hands one out only to a caller asking for the same server
 * under the same terms: host (ignoring ASCII case), port, TLS policy
 * (mail_security), user name and SASL mechanism. It bounds the sessions per
 * such key, in use and idle together (servers limit them: Gmail allows
 * about 15 per account).
 *
 * The pool itself does no I/O, so it works the same from blocking code and
 * from an event loop: it hands out a session it holds, or reserves a place
 * for one the caller connects; the caller probes a session it got back
 * (mail_smtp_rset() or mail_smtp_noop(): a 421 or a dropped link shows
 * there), and gives it back when done.
 *
 *   mail_smtp *s;
 *   int rc = mail_smtp_pool_take(&s, pool, "mail.example.org", 587,
 *                                MAIL_SECURITY_STARTTLS, "me", "SCRAM-SHA-256");
 *   if (rc == MAIL_OK && mail_smtp_rset(s) != MAIL_OK) {
 *     mail_smtp_pool_discard(pool, s);          // stale: drop it, take again
 *     ...
 *   } else if (rc == MAIL_ERR_NOT_FOUND) {      // a place is reserved for us
 *     mail_smtp_new(&s, NULL); ... connect, auth ...
 *     (or mail_smtp_pool_unreserve(...) when that fails)
 *   }
 *   ... mail_smtp_send(s, env) ...
 *   mail_smtp_pool_put(pool, s);                 // idle again, or freed
 *
 * Threading: like every handle, a pool is used by one thread at a time.
 */
#ifndef MAIL_SMTP_POOL_H
#define MAIL_SMTP_POOL_H

#include <mail/smtp.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A pool of SMTP sessions (opaque). */
typedef struct mail_smtp_pool mail_smtp_pool;

/** Create an empty pool (at most 15 sessions per key, idle ones kept for
 *  60 s). alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_smtp_pool_new(mail_smtp_pool **out, const mail_allocator *alloc);

/**
 * Free the pool and the idle sessions it holds (closed without QUIT: see
 * mail_smtp_pool_close_idle()). Sessions out on loan stay valid and
 * become the caller's to free. NULL is harmless. Does not block.
 */
MAIL_EXTERN void mail_smtp_pool_free(mail_smtp_pool *pool);

/** The most sessions per key, in use, reserved and idle together (1..1000;
 *  default 15). MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_pool_set_limit(mail_smtp_pool *pool, unsigned int per_key);

/** How long an idle session is kept, in milliseconds (at least 1; default
 *  60,000: servers drop quiet clients after a few minutes). Older ones are
 *  freed instead of handed out. MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_pool_set_idle_timeout(mail_smtp_pool *pool, int ms);

/**
 * A session for host:port under security, logged in as user with
 * mechanism (both NULL or "" for a session that did not log in; mechanism
 * is the one the session logged in with, mail_sasl_mechanism()). MAIL_OK: *out is an idle session of that
 * key, now on loan: probe it before use (mail_smtp_rset()); when the probe
 * fails, mail_smtp_pool_discard() it and take again. MAIL_ERR_NOT_FOUND:
 * none is idle, and a place under the limit is now reserved for a session
 * the caller makes; it ends with mail_smtp_pool_put() of that session, or
 * mail_smtp_pool_unreserve() when making it failed. MAIL_ERR_TOO_MANY_CONNECTIONS:
 * the limit of that key is reached (nothing reserved): wait for a put.
 * MAIL_ERR_INVALID (NULL pool, out or host; CR, LF). MAIL_ERR_NOMEM.
 * Idle sessions past the idle timeout are freed on the way. Does not block.
 */
MAIL_EXTERN int mail_smtp_pool_take(mail_smtp **out, mail_smtp_pool *pool, const char *host,
                                    unsigned int port, int security, const char *user,
                                    const char *mechanism);

/**
 * Give s back: a session handed out by mail_smtp_pool_take(), or one the
 * caller made for a place it reserved (its key is read from the session:
 * the host and port it is connected to, its TLS policy, user name and the
 * mechanism it logged in with; it must match the reservation). A session
 * still connected with no transaction open is kept idle; any other
 * (disconnected, closing after a 421, mid-transaction) is freed. MAIL_OK;
 * MAIL_ERR_INVALID (NULL; a session the pool neither lent nor reserved a
 * place for: the caller keeps it). Does not block.
 */
MAIL_EXTERN int mail_smtp_pool_put(mail_smtp_pool *pool, mail_smtp *s);

/**
 * A session on loan that failed its probe or cannot be used: the pool
 * frees it (s is gone afterwards) and its place is free again. MAIL_OK,
 * MAIL_ERR_INVALID (NULL, or a session not on loan from this pool). Does
 * not block.
 */
MAIL_EXTERN int mail_smtp_pool_discard(mail_smtp_pool *pool, mail_smtp *s);

/**
 * Give up a place reserved by mail_smtp_pool_take() (MAIL_ERR_NOT_FOUND)
 * for the same key, when making the session failed. MAIL_OK;
 * MAIL_ERR_NOT_FOUND when no place is reserved for that key;
 * MAIL_ERR_INVALID. Does not block.
 */
MAIL_EXTERN int mail_smtp_pool_unreserve(mail_smtp_pool *pool, const char *host, unsigned int port,
                                         int security, const char *user, const char *mechanism);

/**
 * Send QUIT on every idle session and free them (blocking, each under its
 * own timeouts; a session in event-loop mode is freed without QUIT).
 * Returns the number of sessions closed.
 */
MAIL_EXTERN size_t mail_smtp_pool_close_idle(mail_smtp_pool *pool);

/** Sessions of the pool: idle (held), on loan, and reserved places. Any
 *  out-parameter may be NULL. MAIL_OK or MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_smtp_pool_counts(size_t *idle, size_t *on_loan, size_t *reserved,
                                      const mail_smtp_pool *pool);

#ifdef __cplusplus
}
#endif

#endif

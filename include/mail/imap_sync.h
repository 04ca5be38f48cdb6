/*
 * libmail — keeping a local copy of an IMAP mailbox exact: CONDSTORE and
 * QRESYNC (RFC 7162), NOTIFY (RFC 5465), and a sync helper over them that
 * reports what changed since a stored state and mirrors a mailbox into a
 * maildir (mail/maildir.h).
 *
 * The session calls (mail_imap_select_qresync(), mail_imap_fetch_changedsince(),
 * mail_imap_notify_set()) and mail_imap_sync_run() are operations of a
 * mail_imap session like those of mail/imap.h: blocking, or resumable after
 * MAIL_ERR_AGAIN in event-loop mode (call the same function again; its
 * arguments, which must stay valid, are not looked at again).
 * mail_imap_sync_wait() and mail_imap_sync_maildir() are blocking only: in
 * event-loop mode they give MAIL_ERR_STATE (IDLE and the maildir's file I/O
 * are the caller's to schedule there).
 *
 * ENABLE and iCloud: RFC 7162 3.2.3 and RFC 5161 3.1 say a server answers
 * ENABLE with "* ENABLED" naming what it turned on; iCloud answers
 * "ENABLE QRESYNC" with a bare OK. The rule here: when the tagged reply to
 * an ENABLE is OK and the server sent no ENABLED response at all, each of
 * CONDSTORE and QRESYNC that the command named and the server lists in its
 * capabilities counts as enabled (mail_imap_is_enabled()). RFC 7162 3.1
 * makes an "ENABLE CONDSTORE" a CONDSTORE-enabling command in any case, and
 * 3.2.3 makes QRESYNC imply CONDSTORE, so that reading keeps the RFC's
 * meaning. An ENABLED list that leaves a name out is believed.
 *
 * Threading: as for the session, one thread at a time per session and per
 * state.
 */
#ifndef MAIL_IMAP_SYNC_H
#define MAIL_IMAP_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/imap.h>

struct mail_maildir; /* mail/maildir.h */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* CONDSTORE / QRESYNC in the session                                   */
/* ------------------------------------------------------------------ */

/**
 * SELECT (read_only 0) or EXAMINE (1) mailbox with an RFC 7162 parameter,
 * as mail_imap_select() otherwise. uidvalidity 0: "(CONDSTORE)"
 * (MAIL_ERR_UNSUPPORTED when the server lacks CONDSTORE). uidvalidity not
 * 0: "(QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]]))", which
 * needs QRESYNC enabled first (mail_imap_enable(); MAIL_ERR_STATE
 * otherwise) and modseq not 0 (MAIL_ERR_INVALID). known_uids (may be
 * NULL) limits what the server reports as vanished; seq_match_seqs and
 * seq_match_uids (both or neither, the same count of numbers) are the
 * message sequence match data. When the optional parts would not fit on
 * one command line (mail_imap_max_line_length()) they are left out (the
 * server then reports every UID expunged since modseq, which is still
 * correct). The server's VANISHED (EARLIER) and FETCH responses reach the
 * untagged callback; a UIDVALIDITY other than the one given means the
 * server ignored the rest (compare MAIL_IMAP_MAILBOX_UIDVALIDITY). MAIL_OK,
 * MAIL_ERR_SERVER (NO/BAD: AUTHENTICATED afterwards), MAIL_ERR_INVALID,
 * MAIL_ERR_STATE, MAIL_ERR_UNSUPPORTED, fatal errors.
 */
MAIL_EXTERN int mail_imap_select_qresync(mail_imap *im, const char *mailbox, int read_only,
                                         uint32_t uidvalidity, uint64_t modseq,
                                         mail_imap_seqset *known_uids,
                                         mail_imap_seqset *seq_match_seqs,
                                         mail_imap_seqset *seq_match_uids);

/**
 * FETCH (uid 0) or UID FETCH (uid 1) as mail_imap_fetch(), with the
 * RFC 7162 modifier "(CHANGEDSINCE changedsince)" (only messages whose
 * MODSEQ is higher come back, with their MODSEQ) and, when vanished is 1,
 * "VANISHED" too: the UIDs of set expunged since then come back first as
 * one "* VANISHED (EARLIER)" response (through the untagged callback).
 * vanished needs uid 1 (MAIL_ERR_INVALID) and QRESYNC enabled
 * (MAIL_ERR_STATE); CHANGEDSINCE needs CONDSTORE (MAIL_ERR_UNSUPPORTED).
 * changedsince 0 is MAIL_ERR_INVALID. Otherwise as mail_imap_fetch().
 */
MAIL_EXTERN int mail_imap_fetch_changedsince(mail_imap *im, mail_imap_seqset *set, int uid,
                                             const char *items, uint64_t changedsince,
                                             int vanished, mail_imap_body_fn body, void *user);

/* ------------------------------------------------------------------ */
/* NOTIFY (RFC 5465)                                                    */
/* ------------------------------------------------------------------ */

/** Which mailboxes a NOTIFY group is about (mail_imap_notify_add()). */
typedef enum mail_imap_notify_filter {
  MAIL_IMAP_NOTIFY_SELECTED = 0,         /**< the selected mailbox */
  MAIL_IMAP_NOTIFY_SELECTED_DELAYED = 1, /**< the selected mailbox, expunges held until a command allows them */
  MAIL_IMAP_NOTIFY_INBOXES = 2,          /**< mailboxes where mail is delivered */
  MAIL_IMAP_NOTIFY_PERSONAL = 3,         /**< the user's personal namespace */
  MAIL_IMAP_NOTIFY_SUBSCRIBED = 4,       /**< the subscribed mailboxes */
  MAIL_IMAP_NOTIFY_SUBTREE = 5,          /**< the mailboxes given and all below them */
  MAIL_IMAP_NOTIFY_MAILBOXES = 6         /**< the mailboxes given */
} mail_imap_notify_filter;

/** Events of a NOTIFY group (bits). 0 is "NONE": nothing from those mailboxes. */
typedef enum mail_imap_notify_event {
  MAIL_IMAP_NOTIFY_MESSAGE_NEW = 1,         /**< MessageNew (with MessageExpunge) */
  MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE = 2,     /**< MessageExpunge (with MessageNew) */
  MAIL_IMAP_NOTIFY_FLAG_CHANGE = 4,         /**< FlagChange (needs both of the above) */
  MAIL_IMAP_NOTIFY_ANNOTATION_CHANGE = 8,   /**< AnnotationChange (needs both of the above) */
  MAIL_IMAP_NOTIFY_MAILBOX_NAME = 16,       /**< MailboxName: created, deleted, renamed */
  MAIL_IMAP_NOTIFY_SUBSCRIPTION_CHANGE = 32, /**< SubscriptionChange */
  MAIL_IMAP_NOTIFY_MAILBOX_METADATA = 64,   /**< MailboxMetadataChange */
  MAIL_IMAP_NOTIFY_SERVER_METADATA = 128    /**< ServerMetadataChange */
} mail_imap_notify_event;

/** A NOTIFY SET request being built (opaque). */
typedef struct mail_imap_notify mail_imap_notify;

/** An empty request. alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_imap_notify_new(mail_imap_notify **out, const mail_allocator *alloc);

/** Free a request. NULL is fine. */
MAIL_EXTERN void mail_imap_notify_free(mail_imap_notify *n);

/**
 * Add a group: filter (mail_imap_notify_filter), its mailboxes
 * mailboxes[0..nmailboxes) (UTF-8; only for SUBTREE and MAILBOXES, which
 * need at least one), events (mail_imap_notify_event bits). RFC 5465 5's
 * rules are checked: MessageNew and MessageExpunge come together,
 * FlagChange and AnnotationChange need them, the selected filters take
 * message events only, a request holds at most one selected filter, and
 * at most 32 groups and 1,000 mailboxes. MAIL_ERR_INVALID for anything
 * else (the request is unchanged), MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_imap_notify_add(mail_imap_notify *n, int filter,
                                     const char *const *mailboxes, size_t nmailboxes,
                                     unsigned events);

/**
 * Send "NOTIFY SET [STATUS] groups" (status 1 asks for a STATUS of each
 * mailbox of the groups at once). Events then arrive as untagged
 * responses (STATUS, LIST, EXISTS, FETCH, VANISHED, ...) through the
 * untagged callback during any later command; to wait for them, idle
 * (mail_imap_idle_start()) or, without IDLE, poll with mail_imap_noop().
 * The request is not kept after the call returns something other than
 * MAIL_ERR_AGAIN. MAIL_ERR_UNSUPPORTED without NOTIFY, MAIL_ERR_INVALID for
 * an empty request, MAIL_ERR_STATE before login, MAIL_ERR_SERVER when the
 * server refuses ([BADEVENT], [NOTIFICATIONOVERFLOW] in
 * mail_imap_last_code_data()), MAIL_ERR_TOO_BIG when the command would
 * not fit on one line, fatal errors.
 */
MAIL_EXTERN int mail_imap_notify_set(mail_imap *im, const mail_imap_notify *n, int status);

/** "NOTIFY NONE": no more notifications. Statuses as mail_imap_notify_set(). */
MAIL_EXTERN int mail_imap_notify_none(mail_imap *im);

/* ------------------------------------------------------------------ */
/* The sync state (the caller's, storable)                              */
/* ------------------------------------------------------------------ */

/**
 * What a client knows of one mailbox (opaque): its UIDVALIDITY, its
 * HIGHESTMODSEQ and the UIDs of its messages with their flags, kept sorted
 * in runs. Flags are the system flags (\Seen \Answered \Flagged \Deleted
 * \Draft) and up to MAIL_IMAP_SYNC_KEYWORDS_MAX keywords ($Forwarded,
 * $Label1, ...); \Recent is never kept.
 */
typedef struct mail_imap_sync_state mail_imap_sync_state;

/** Bounds of a sync state. */
typedef enum mail_imap_sync_limit {
  MAIL_IMAP_SYNC_KEYWORDS_MAX = 26,          /**< distinct keywords one state holds */
  MAIL_IMAP_SYNC_DEFAULT_MAX_UIDS = 1000000, /**< UIDs one state holds unless set otherwise */
  MAIL_IMAP_SYNC_FLAGS_TEXT_MAX = 1024       /**< longest flags text handed out (with NUL) */
} mail_imap_sync_limit;

/** An empty state (UIDVALIDITY 0: never synced). alloc may be NULL. MAIL_OK, MAIL_ERR_INVALID, MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_imap_sync_state_new(mail_imap_sync_state **out, const mail_allocator *alloc);

/** Free a state. NULL is fine. */
MAIL_EXTERN void mail_imap_sync_state_free(mail_imap_sync_state *st);

/** Forget everything (back to UIDVALIDITY 0). The limit stays. */
MAIL_EXTERN void mail_imap_sync_state_clear(mail_imap_sync_state *st);

/**
 * The most UIDs the state may hold (1..100,000,000; default
 * MAIL_IMAP_SYNC_DEFAULT_MAX_UIDS). A sync that would go beyond it ends
 * with MAIL_ERR_LIMIT. MAIL_OK, MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_sync_state_set_max_uids(mail_imap_sync_state *st, size_t max);

/** The UIDVALIDITY the state is for, 0 when never synced (or NULL). */
MAIL_EXTERN uint32_t mail_imap_sync_state_uidvalidity(const mail_imap_sync_state *st);

/** The HIGHESTMODSEQ at the last sync, 0 when unknown (no CONDSTORE, NOMODSEQ). */
MAIL_EXTERN uint64_t mail_imap_sync_state_highestmodseq(const mail_imap_sync_state *st);

/** The number of UIDs known (0 for NULL). */
MAIL_EXTERN size_t mail_imap_sync_state_count(const mail_imap_sync_state *st);

/** The i-th known UID in ascending order, 0 when i is out of range. */
MAIL_EXTERN uint32_t mail_imap_sync_state_uid(const mail_imap_sync_state *st, size_t i);

/**
 * The flags of uid as IMAP flags separated by spaces ("\\Seen $Label1",
 * "" for none) into buf (cap bytes; MAIL_IMAP_SYNC_FLAGS_TEXT_MAX is always
 * enough). MAIL_OK, MAIL_ERR_NOT_FOUND, MAIL_ERR_BUFFER, MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_sync_state_flags(char *buf, size_t cap, const mail_imap_sync_state *st,
                                           uint32_t uid);

/**
 * Save the state to path atomically: written to "path.tmp", synced, then
 * renamed over path, so a crash leaves the old file or the new one. The
 * file is text, versioned ("libmail-imap-sync 1"), runs of UIDs with the
 * same flags on one line. MAIL_OK, MAIL_ERR_FILE, MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_sync_state_save(const mail_imap_sync_state *st, const char *path);

/**
 * Replace st with the state saved in path. Bounded: a file over 64 MiB, a
 * line over 1,024 bytes, more UIDs than the state's limit, runs out of
 * order or overlapping, an unknown version: MAIL_ERR_SYNTAX (or
 * MAIL_ERR_LIMIT for the bounds), st unchanged. MAIL_ERR_NOT_FOUND when
 * the file does not exist (st unchanged: a first sync), MAIL_ERR_FILE,
 * MAIL_ERR_NOMEM, MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_sync_state_load(mail_imap_sync_state *st, const char *path);

/**
 * The state as mail_imap_sync_state_save() writes it, handed to fn(user,
 * data, len) a line at a time, for a caller that keeps it elsewhere (a
 * database, a key-value store). MAIL_OK, MAIL_ERR_CALLBACK (fn returned
 * non-zero), MAIL_ERR_INVALID.
 */
MAIL_EXTERN int mail_imap_sync_state_write(const mail_imap_sync_state *st, mail_write_fn fn,
                                           void *user);

/**
 * Replace st with the state read from fn (mail_read_fn: until it gives 0
 * bytes), under the same bounds and checks as mail_imap_sync_state_load()
 * (a NUL byte is MAIL_ERR_SYNTAX). MAIL_OK, MAIL_ERR_SYNTAX,
 * MAIL_ERR_LIMIT, MAIL_ERR_CALLBACK (fn returned non-zero), MAIL_ERR_NOMEM,
 * MAIL_ERR_INVALID; st unchanged on failure.
 */
MAIL_EXTERN int mail_imap_sync_state_read(mail_imap_sync_state *st, mail_read_fn fn, void *user);

/* ------------------------------------------------------------------ */
/* The sync helper                                                      */
/* ------------------------------------------------------------------ */

/** How mail_imap_sync_run() finds changes: the best the server offers, or a weaker one forced. */
typedef enum mail_imap_sync_strategy {
  MAIL_IMAP_SYNC_AUTO = 0,      /**< QRESYNC when offered, else CONDSTORE, else FULL */
  MAIL_IMAP_SYNC_QRESYNC = 1,   /**< at most QRESYNC (same as AUTO) */
  MAIL_IMAP_SYNC_CONDSTORE = 2, /**< at most CONDSTORE: CHANGEDSINCE, expunges from UID SEARCH ALL */
  MAIL_IMAP_SYNC_FULL = 3       /**< UID FETCH 1:* (UID FLAGS) compared with the state */
} mail_imap_sync_strategy;

/** What a change is (mail_imap_sync_fn). */
typedef enum mail_imap_sync_event {
  /** The mailbox's UIDVALIDITY is not the state's (the mailbox was
   *  recreated): every UID the state held is void and dropped (no
   *  VANISHED for them); uid is the new UIDVALIDITY. All messages then
   *  follow as MAIL_IMAP_SYNC_NEW. Not reported for a never-synced state. */
  MAIL_IMAP_SYNC_RESET = 1,
  MAIL_IMAP_SYNC_NEW = 2,     /**< a message the state did not know: uid, flags */
  MAIL_IMAP_SYNC_FLAGS = 3,   /**< a known message's flags changed: uid, its flags now */
  MAIL_IMAP_SYNC_VANISHED = 4 /**< a known message is gone: uid */
} mail_imap_sync_event;

/**
 * Receives each change, with the state already updated: event
 * (mail_imap_sync_event), the UID, the message's flags as IMAP flags
 * separated by spaces ("" for VANISHED and RESET; valid during the call).
 * The callback may run while a command's responses are being read (QRESYNC
 * changes are reported as they arrive): it must not call operations on the
 * session. Return 0 to go on; anything else stops the sync with
 * MAIL_ERR_CALLBACK once the command in flight is done; the state may
 * then be ahead of what was reported (later changes are applied but not
 * reported): do not save it, so the next sync from the saved one reports
 * them again.
 */
typedef int (*mail_imap_sync_fn)(void *user, int event, uint32_t uid, const char *flags);

/**
 * Bring st up to date with mailbox (UTF-8) and report every change to fn
 * (may be NULL). im must be logged in (AUTHENTICATED or SELECTED); the
 * mailbox is left SELECTED (read_only 1: EXAMINEd, nothing changes on the
 * server). With QRESYNC (offered, allowed by strategy, ENABLEd here while
 * AUTHENTICATED; mail_imap_sync_run() sends UNSELECT first when needed):
 * one SELECT (QRESYNC ...). With CONDSTORE: SELECT (CONDSTORE), UID FETCH
 * 1:* (UID FLAGS) (CHANGEDSINCE modseq), then UID SEARCH ALL for the
 * expunges. Otherwise UID FETCH 1:* (UID FLAGS), compared with the state.
 * A server that answers [NOMODSEQ] is synced the FULL way. The strategy
 * used goes into *used (may be NULL) when the sync is done. The callback
 * of mail_imap_set_untagged_callback() still sees every response. Blocks
 * unless non-blocking (MAIL_ERR_AGAIN: wait as for any operation and call
 * again; st, mailbox, used and user must stay valid until then; another
 * operation meanwhile gives MAIL_ERR_STATE). MAIL_OK; MAIL_ERR_CALLBACK; MAIL_ERR_LIMIT (more UIDs than the
 * state's limit, more than MAIL_IMAP_SYNC_KEYWORDS_MAX keywords: st holds
 * what was reported); MAIL_ERR_STATE (not logged in, an operation in
 * progress); MAIL_ERR_INVALID; the statuses of the commands.
 */
MAIL_EXTERN int mail_imap_sync_run(int *used, mail_imap *im, mail_imap_sync_state *st,
                                   const char *mailbox, int read_only, int strategy,
                                   mail_imap_sync_fn fn, void *user);

/**
 * Stay live: after mail_imap_sync_run() (the same mailbox selected), wait
 * until the server reports a change to it or timeout_ms passes (at least
 * 1000), then report the changes through fn exactly as mail_imap_sync_run()
 * does, and return. The wait is IDLE when offered (after "NOTIFY SET
 * (selected (MessageNew MessageExpunge FlagChange))" once per session when
 * NOTIFY is offered too), else NOOP every poll_ms (at least 1000) until
 * the timeout. A mail_imap_idle_stop() from another thread ends the wait
 * early. When the connection is lost (MAIL_ERR_CLOSED, _SERVER_CLOSING,
 * _TIMEOUT, _IO) and reconnect is 1, the session connects again to the
 * host it was connected to, logs in again (an OAuth token through the SASL
 * handle's token callback, as mail_imap_login() does) and runs
 * mail_imap_sync_run() once. Blocking only. Statuses as
 * mail_imap_sync_run(); MAIL_ERR_STATE when the mailbox is not selected.
 */
MAIL_EXTERN int mail_imap_sync_wait(mail_imap *im, mail_imap_sync_state *st, const char *mailbox,
                                    int strategy, int timeout_ms, int poll_ms, int reconnect,
                                    mail_imap_sync_fn fn, void *user);

/**
 * Mirror mailbox into the maildir md: mail_imap_sync_run() with the state
 * kept in the file "libmail-imap-sync" of the maildir (loaded before,
 * saved after, atomically), then: each new message downloaded with UID
 * FETCH (BODY.PEEK[] FLAGS INTERNALDATE), streamed into a delivery (never
 * held whole), its flags as maildir letters, its modification time its
 * INTERNALDATE, and mapped in the maildir's key map as "uid:N"; each flag
 * change renamed; each vanished message removed. A UIDVALIDITY reset
 * removes every message the map knows and downloads the mailbox again
 * (files not in the map are left alone). Keywords other than $Forwarded
 * are not kept in the maildir (they are in the state). A message already
 * in the map is not downloaded twice, so a mirror interrupted is finished
 * by the next call. The mailbox is EXAMINEd (nothing changes on the
 * server). *downloaded (may be NULL) gets the number of messages
 * downloaded. Blocking only. Statuses as mail_imap_sync_run(), plus the
 * maildir's (MAIL_ERR_FILE, MAIL_ERR_SYNTAX for a damaged state file).
 */
MAIL_EXTERN int mail_imap_sync_maildir(size_t *downloaded, mail_imap *im, const char *mailbox,
                                       struct mail_maildir *md, int strategy);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_IMAP_SYNC_H */

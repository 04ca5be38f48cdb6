/*
 * libmail — IMAP extension commands, on the session of mail/imap.h:
 * QUOTA (RFC 9208), ACL (RFC 4314), METADATA (RFC 5464), SORT and THREAD
 * (RFC 5256, ESORT RFC 5267, SORT=DISPLAY RFC 5957), MULTIAPPEND (RFC 3502), CREATE-SPECIAL-USE
 * (RFC 6154), UNAUTHENTICATE (RFC 8437), APPENDLIMIT (RFC 7889), Gmail's
 * X-GM-LABELS (X-GM-EXT-1) and the throttling servers announce.
 *
 * They follow mail/imap.h: each call builds its command (nothing is sent
 * when an argument is refused), runs until the tagged reply, blocks unless
 * the connection is non-blocking (MAIL_ERR_AGAIN: call again with the same
 * arguments), and returns MAIL_OK, MAIL_ERR_SERVER (NO/BAD; the reply in
 * mail_imap_last_status() and friends, e.g. [NOPERM], [OVERQUOTA],
 * [METADATA TOOMANY]), MAIL_ERR_THROTTLED, MAIL_ERR_INVALID (a bad
 * argument), MAIL_ERR_STATE (not in a state the command is valid in),
 * MAIL_ERR_TOO_BIG (a command line over the line bound) or a fatal error.
 * A call whose extension the server does not list returns
 * MAIL_ERR_UNSUPPORTED with nothing sent, and mail_conn_last_error() says
 * "<CAPABILITY> is not offered by this server". The data the server sends
 * back (QUOTA, QUOTAROOT, ACL, LISTRIGHTS, MYRIGHTS, METADATA, SORT,
 * ESEARCH, THREAD, FETCH) reaches the untagged callback, typed by the
 * parser (mail/imap_parse.h: mail_imap_response_quota(),
 * mail_imap_response_acl(), mail_imap_response_metadata(),
 * mail_imap_response_numbers(), mail_imap_response_thread_node(), ...).
 * Mailbox names are UTF-8 (sent in modified UTF-7 unless UTF8=ACCEPT is
 * enabled); other strings go as atoms, quoted strings or literals as
 * their bytes need, never as command text.
 *
 * Also in mail/imap.h: LIST RETURN (MYRIGHTS) (MAIL_IMAP_LIST_MYRIGHTS,
 * LIST-MYRIGHTS), STATUS APPENDLIMIT (MAIL_IMAP_STATUS_APPENDLIMIT), and
 * the search keys that need an extension, checked by mail_imap_search()
 * before anything is sent: YOUNGER/OLDER (WITHIN), "$" and RETURN (SAVE)
 * (SEARCHRES), SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED
 * (SAVEDATE), X-GM-RAW/X-GM-MSGID/X-GM-THRID/X-GM-LABELS (X-GM-EXT-1),
 * FUZZY (SEARCH=FUZZY), EMAILID/THREADID (OBJECTID).
 *
 * Threading: as mail/imap.h.
 */
#ifndef MAIL_IMAP_EXT_H
#define MAIL_IMAP_EXT_H

#include <stddef.h>
#include <stdint.h>

#include <mail/common.h>
#include <mail/imap.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* QUOTA (RFC 9208)                                                     */
/* ------------------------------------------------------------------ */

/**
 * GETQUOTA root ("" is many servers' only root; Dovecot names its roots,
 * e.g. "User quota"): the QUOTA response reaches the untagged callback
 * (mail_imap_response_quota(): STORAGE in units of 1024 bytes, MESSAGE,
 * MAILBOX, ANNOTATION-STORAGE, 64-bit usage and limit). Needs QUOTA
 * (MAIL_ERR_UNSUPPORTED), the authenticated or selected state
 * (MAIL_ERR_STATE); MAIL_ERR_INVALID for a NULL root; the statuses above.
 */
MAIL_EXTERN int mail_imap_getquota(mail_imap *im, const char *root);

/**
 * GETQUOTAROOT mailbox: a QUOTAROOT response (the mailbox's roots as
 * strings) and one QUOTA response per root reach the untagged callback.
 * Statuses as mail_imap_getquota().
 */
MAIL_EXTERN int mail_imap_getquotaroot(mail_imap *im, const char *mailbox);

/**
 * SETQUOTA root (resources[i] limits[i] ...) for n resources (n may be 0:
 * remove every limit). Each resource name must be an atom ("STORAGE",
 * "MESSAGE", ...) and each limit at most 2^63 - 1, else MAIL_ERR_INVALID.
 * Servers usually keep it for administrators (MAIL_ERR_SERVER). Needs
 * QUOTA (RFC 9208 servers also list QUOTASET). Statuses as
 * mail_imap_getquota().
 */
MAIL_EXTERN int mail_imap_setquota(mail_imap *im, const char *root,
                                   const char *const *resources, const uint64_t *limits,
                                   size_t n);

/* ------------------------------------------------------------------ */
/* ACL (RFC 4314)                                                       */
/* ------------------------------------------------------------------ */

/**
 * SETACL mailbox identifier rights: rights as RFC 4314 letters
 * ("lrswipkxtea"), replacing identifier's rights, or with a leading "+"
 * or "-" to add or remove those. identifier is a user name, "anyone", or
 * "-name" for negative rights. Needs ACL (MAIL_ERR_UNSUPPORTED), the
 * authenticated or selected state (MAIL_ERR_STATE); MAIL_ERR_INVALID for
 * a NULL or empty argument or a rights string with a byte that is not a
 * letter or digit after its sign; the statuses above.
 */
MAIL_EXTERN int mail_imap_setacl(mail_imap *im, const char *mailbox, const char *identifier,
                                 const char *rights);

/** DELETEACL mailbox identifier: identifier loses its entry. Statuses as mail_imap_setacl(). */
MAIL_EXTERN int mail_imap_deleteacl(mail_imap *im, const char *mailbox, const char *identifier);

/** GETACL mailbox: the ACL response (mail_imap_response_acl()) reaches the
 *  untagged callback. Statuses as mail_imap_setacl(). */
MAIL_EXTERN int mail_imap_getacl(mail_imap *im, const char *mailbox);

/** LISTRIGHTS mailbox identifier: the LISTRIGHTS response (strings:
 *  identifier, the rights always granted, then the optional groups)
 *  reaches the untagged callback. Statuses as mail_imap_setacl(). */
MAIL_EXTERN int mail_imap_listrights(mail_imap *im, const char *mailbox, const char *identifier);

/** MYRIGHTS mailbox: the MYRIGHTS response (string 0: the rights of the
 *  logged-in user) reaches the untagged callback. Statuses as mail_imap_setacl(). */
MAIL_EXTERN int mail_imap_myrights(mail_imap *im, const char *mailbox);

/* ------------------------------------------------------------------ */
/* METADATA (RFC 5464)                                                  */
/* ------------------------------------------------------------------ */

/** DEPTH of mail_imap_getmetadata(). */
typedef enum mail_imap_metadata_depth {
  MAIL_IMAP_METADATA_DEPTH_0 = 0,       /**< the entries named only (the default) */
  MAIL_IMAP_METADATA_DEPTH_1 = 1,       /**< and their children */
  MAIL_IMAP_METADATA_DEPTH_INFINITY = 2 /**< and all their descendants */
} mail_imap_metadata_depth;

/**
 * GETMETADATA [(MAXSIZE maxsize DEPTH depth)] mailbox (entries[0..n)):
 * mailbox "" asks for server annotations (METADATA-SERVER is enough then),
 * any other for a mailbox's (METADATA). maxsize non-zero leaves out values
 * longer than that (the reply's [METADATA LONGENTRIES n] says the longest
 * left out). The METADATA response reaches the untagged callback
 * (mail_imap_response_metadata(): values held whole, each bounded by the
 * connection's max_literal). MAIL_ERR_INVALID for NULL arguments, n 0, an
 * empty entry name, a depth not in mail_imap_metadata_depth; needs the
 * authenticated or selected state (MAIL_ERR_STATE); MAIL_ERR_UNSUPPORTED;
 * the statuses above.
 */
MAIL_EXTERN int mail_imap_getmetadata(mail_imap *im, const char *mailbox,
                                      const char *const *entries, size_t n, uint64_t maxsize,
                                      int depth);

/**
 * SETMETADATA mailbox (entries[i] values[i] ...) for n entries: values[i]
 * of lengths[i] bytes (sent as a quoted string or a literal; a NUL in it
 * is MAIL_ERR_INVALID), or NULL to remove the entry (NIL). lengths may be
 * NULL: the values are then C strings. Refusals come with [METADATA
 * MAXSIZE n], [METADATA TOOMANY], [METADATA NOPRIVATE] (MAIL_ERR_SERVER,
 * mail_imap_last_code() MAIL_IMAP_CODE_METADATA) or [OVERQUOTA]. Gating
 * and statuses as mail_imap_getmetadata().
 */
MAIL_EXTERN int mail_imap_setmetadata(mail_imap *im, const char *mailbox,
                                      const char *const *entries, const char *const *values,
                                      const size_t *lengths, size_t n);

/* ------------------------------------------------------------------ */
/* SORT and THREAD (RFC 5256, 5267, 5957)                               */
/* ------------------------------------------------------------------ */

/**
 * SORT (uid 0) or UID SORT (uid 1) in the selected mailbox: order is the
 * sort criteria without parentheses, e.g. "REVERSE ARRIVAL" or "SUBJECT
 * DATE" (printable ASCII; DISPLAYFROM and DISPLAYTO need SORT=DISPLAY),
 * criteria and args[0..nargs) as for mail_imap_search() ("?" stands for
 * the next arg). The charset is US-ASCII when every arg is ASCII, else
 * UTF-8 (a server that refuses it answers NO [BADCHARSET]:
 * MAIL_ERR_SERVER). ret non-NULL asks for ESORT results, "RETURN (ret)",
 * e.g. "MIN MAX COUNT" or "ALL" (MAIL_ERR_UNSUPPORTED without ESORT): an
 * ESEARCH response instead of SORT. The SORT response (its numbers in
 * order: mail_imap_response_numbers()) reaches the untagged callback.
 * Needs SORT; MAIL_ERR_STATE unless SELECTED; MAIL_ERR_INVALID for bad
 * syntax or a count of "?" other than nargs; the statuses above.
 */
MAIL_EXTERN int mail_imap_sort(mail_imap *im, int uid, const char *ret, const char *order,
                               const char *criteria, const char *const *args, size_t nargs);

/**
 * THREAD (uid 0) or UID THREAD (uid 1) algorithm criteria: algorithm is
 * "REFERENCES", "ORDEREDSUBJECT" or any other the server lists as
 * THREAD=<algorithm> (MAIL_ERR_UNSUPPORTED otherwise); criteria and args
 * and the charset as for mail_imap_sort(). The THREAD response (its forest
 * as nodes: mail_imap_response_thread_node()) reaches the untagged
 * callback. MAIL_ERR_STATE unless SELECTED; MAIL_ERR_INVALID for an
 * algorithm that is not an atom or bad criteria; the statuses above.
 */
MAIL_EXTERN int mail_imap_thread(mail_imap *im, int uid, const char *algorithm,
                                 const char *criteria, const char *const *args, size_t nargs);

/* ------------------------------------------------------------------ */
/* Mailboxes, sessions, limits                                          */
/* ------------------------------------------------------------------ */

/**
 * CREATE mailbox (USE (uses[0] ...)) (RFC 6154 CREATE-SPECIAL-USE): the
 * new mailbox gets the special uses, e.g. "\\Sent", "\\Archive",
 * "\\Drafts" (each a backslash and an atom, else MAIL_ERR_INVALID; n at
 * least 1). A server that will not give a use answers NO [USEATTR]
 * (MAIL_ERR_SERVER). Needs CREATE-SPECIAL-USE (MAIL_ERR_UNSUPPORTED), the
 * authenticated or selected state (MAIL_ERR_STATE); the statuses above.
 */
MAIL_EXTERN int mail_imap_create_special_use(mail_imap *im, const char *mailbox,
                                             const char *const *uses, size_t n);

/**
 * MULTIAPPEND (RFC 3502): n messages to mailbox in one APPEND command, of
 * exactly sizes[0..n) bytes, pulled from read one after the other (the
 * bytes of message 1 follow the last byte of message 0 in the same
 * source; once all are given, one more call must give 0 bytes), each
 * streamed as mail_imap_append() streams one, never held whole. flags[0..nflags)
 * go with every message. The server keeps all of them or none (a NO:
 * MAIL_ERR_SERVER; a synchronizing literal refused sends nothing more).
 * The [APPENDUID uidvalidity uid-set] of the reply (UIDPLUS) is in
 * mail_imap_last_code_data(), e.g. "38505 3955:3957"; mail_imap_append_uid()
 * gives it only for a single UID. sizes, flags and the source must stay
 * valid until the call returns something other than MAIL_ERR_AGAIN.
 * Needs MULTIAPPEND (MAIL_ERR_UNSUPPORTED), the authenticated or selected
 * state (MAIL_ERR_STATE); MAIL_ERR_INVALID for a bad mailbox or flag, n 0,
 * NULL sizes or read; a source that fails or gives another size ends the
 * session with MAIL_ERR_CALLBACK; the statuses above.
 */
MAIL_EXTERN int mail_imap_multiappend(mail_imap *im, const char *mailbox,
                                      const char *const *flags, size_t nflags,
                                      const uint64_t *sizes, size_t n, mail_read_fn read,
                                      void *user);

/**
 * UNAUTHENTICATE (RFC 8437): back to MAIL_IMAP_STATE_NOT_AUTHENTICATED on
 * the same connection (TLS stays), ready for mail_imap_login() with other
 * credentials (mail_imap_set_auth()). The selected mailbox, the ENABLEd
 * extensions (UTF8=ACCEPT too) and the capabilities are dropped; the
 * capabilities are asked again unless the OK carries them. Needs
 * UNAUTHENTICATE (MAIL_ERR_UNSUPPORTED), the authenticated or selected
 * state (MAIL_ERR_STATE); the statuses above.
 */
MAIL_EXTERN int mail_imap_unauthenticate(mail_imap *im);

/**
 * The largest message the server takes in an APPEND, from its
 * "APPENDLIMIT=n" capability (RFC 7889), into *out. MAIL_OK;
 * MAIL_ERR_NOT_FOUND when it lists APPENDLIMIT without a value (the limit
 * is per mailbox: ask STATUS with MAIL_IMAP_STATUS_APPENDLIMIT) or does not
 * list it at all; MAIL_ERR_INVALID for NULL arguments.
 */
MAIL_EXTERN int mail_imap_append_limit(uint64_t *out, const mail_imap *im);

/**
 * Whether the replies of the last operation said the server throttles
 * the client: a [THROTTLED] code, "[THROTTLED]" in an OK's text (Gmail:
 * the command succeeded, the next ones should wait), or Exchange's "Request
 * is throttled" (a NO or BAD: the operation returned MAIL_ERR_THROTTLED).
 * *backoff_ms gets the wait the server suggested ("Suggested Backoff
 * Time: 299609 milliseconds"), 0 when it named none (then a delay of the
 * caller's choosing). MAIL_OK when throttled, MAIL_ERR_NOT_FOUND when not
 * (*backoff_ms 0), MAIL_ERR_INVALID for NULL arguments. Cleared when the
 * next operation starts.
 */
MAIL_EXTERN int mail_imap_throttle(int64_t *backoff_ms, const mail_imap *im);

/* ------------------------------------------------------------------ */
/* Gmail (X-GM-EXT-1)                                                   */
/* ------------------------------------------------------------------ */

/**
 * STORE / UID STORE set [+-]X-GM-LABELS[.SILENT] (labels[0..n)): how as
 * for mail_imap_store() (REPLACE, ADD, REMOVE). Each label is UTF-8 (sent
 * in modified UTF-7 as a quoted string, as Gmail takes them), or a system
 * label as Gmail spells it ("\\Inbox", "\\Starred", "\\Important": sent as
 * is). n may be 0 only for REPLACE (no labels). The FETCH responses back
 * (X-GM-LABELS: mail_imap_fetch_label()) reach the untagged callback
 * unless silent. Fetch labels, X-GM-MSGID and X-GM-THRID with
 * mail_imap_fetch(); search with X-GM-RAW, X-GM-MSGID, X-GM-THRID,
 * X-GM-LABELS keys in mail_imap_search(). Needs X-GM-EXT-1
 * (MAIL_ERR_UNSUPPORTED); MAIL_ERR_STATE unless SELECTED; MAIL_ERR_INVALID
 * for a NULL set or label, an empty label or one holding CR, LF or NUL;
 * the statuses above.
 */
MAIL_EXTERN int mail_imap_store_labels(mail_imap *im, mail_imap_seqset *set, int uid, int how,
                                       const char *const *labels, size_t n, int silent);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_IMAP_EXT_H */

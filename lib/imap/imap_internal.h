/*
 * The IMAP session inside: one command queue of tagged commands in flight,
 * the public response parser fed from the connection's reader, one
 * operation at a time whose phases queue the next commands, and one
 * function that changes the protocol state.
 *
 * How a byte becomes a result: mail_conn_run() calls imap_advance()
 * (imap_engine.c); it feeds the reader's bytes to the parser only when the
 * parser has no complete response left (so bytes after a STARTTLS OK stay
 * in the parser or the reader and are caught), takes each response and
 * routes it: a tagged one to the queue entry with its tag (handler of its
 * kind, imap_kinds), a continuation to the command waiting for one, an
 * untagged one to the selected mailbox's state, to the operation's
 * collector and to the caller's callback. When nothing is in flight the
 * operation (imap_ops) queues its next commands or returns its result.
 */
#ifndef MAIL_IMAP_INTERNAL_H
#define MAIL_IMAP_INTERNAL_H

#include <stdatomic.h>

#include <mail/imap.h>

#include "core/buf.h"
#include "core/cmdq.h"
#include "core/conn_internal.h"
#include "core/engine.h"
#include "sasl/sasl_internal.h"

/* Commands (mail_cmd.kind). */
enum {
  IMAP_CMD_GREETING = 1, /* not sent: waits for the greeting */
  IMAP_CMD_CAPABILITY,
  IMAP_CMD_STARTTLS,
  IMAP_CMD_LOGIN,
  IMAP_CMD_AUTHENTICATE,
  IMAP_CMD_ENABLE,
  IMAP_CMD_ID,
  IMAP_CMD_NOOP,
  IMAP_CMD_LOGOUT,
  IMAP_CMD_SELECT,
  IMAP_CMD_SIMPLE,       /* CREATE, DELETE, RENAME, (UN)SUBSCRIBE, EXPUNGE */
  IMAP_CMD_CLOSE,        /* CLOSE, UNSELECT */
  IMAP_CMD_APPEND,
  IMAP_CMD_IDLE,
  IMAP_CMD_SET,          /* one piece of a command over a sequence set (imap_setcmd.c) */
  IMAP_CMD_COMPRESS,
  IMAP_CMD_UNAUTHENTICATE /* its OK leads back to NOT_AUTHENTICATED (imap_unauth.c) */
};

/* Operations, one per public call (mail_op.kind). */
enum {
  IMAP_OP_NONE = 0,
  IMAP_OP_CONNECT,
  IMAP_OP_LOGIN,
  /* one command each, its tagged reply is the result (imap_command_next): */
  IMAP_OP_CAPABILITY,
  IMAP_OP_ENABLE,
  IMAP_OP_ID,
  IMAP_OP_NOOP,
  IMAP_OP_LOGOUT,
  IMAP_OP_SELECT,
  IMAP_OP_CREATE,
  IMAP_OP_DELETE,
  IMAP_OP_RENAME,
  IMAP_OP_SUBSCRIBE,
  IMAP_OP_UNSUBSCRIBE,
  IMAP_OP_CLOSE,
  IMAP_OP_UNSELECT,
  IMAP_OP_EXPUNGE,
  IMAP_OP_FETCH,        /* over a sequence set: one command per piece (imap_message.c) */
  IMAP_OP_STORE,
  IMAP_OP_COPY,
  IMAP_OP_UID_EXPUNGE,
  IMAP_OP_LIST,
  IMAP_OP_NAMESPACE,
  IMAP_OP_STATUS,
  IMAP_OP_SEARCH,
  IMAP_OP_APPEND,
  IMAP_OP_IDLE,
  IMAP_OP_COMPRESS,
  /* extensions (mail/imap_ext.h) */
  IMAP_OP_GETQUOTA,
  IMAP_OP_GETQUOTAROOT,
  IMAP_OP_SETQUOTA,
  IMAP_OP_SETACL,
  IMAP_OP_DELETEACL,
  IMAP_OP_GETACL,
  IMAP_OP_LISTRIGHTS,
  IMAP_OP_MYRIGHTS,
  IMAP_OP_GETMETADATA,
  IMAP_OP_SETMETADATA,
  IMAP_OP_SORT,
  IMAP_OP_THREAD,
  IMAP_OP_CREATE_SPECIAL,
  IMAP_OP_UNAUTHENTICATE,
  IMAP_OP_STORE_LABELS,
  IMAP_OP_MULTIAPPEND,
  IMAP_OP_NOTIFY,
  IMAP_OP_COUNT
};

/* A command's bytes, cut where a synchronizing literal must wait for "+". */
#define IMAP_MAX_PIECES 64
typedef struct imap_piece {
  size_t off, len;
  int secret;
  int sync; /* a "+" must arrive before this piece goes out */
} imap_piece;

typedef struct imap_wire {
  mail_buf bytes;
  imap_piece pieces[IMAP_MAX_PIECES];
  size_t n;
  size_t lit; /* literal data bytes: not part of the command line's length */
} imap_wire;

/* A command over a sequence set (imap_setcmd.c), sent one piece of the set
 * at a time as the output drains, each piece small enough for the line
 * limit; a NULL set is one command without a set (a plain SEARCH). */
typedef struct imap_setop {
  int active;
  mail_imap_seqset *set;
  size_t at, n;          /* next range, number of ranges */
  size_t budget;         /* bytes of set per command */
  const char *verb;      /* "FETCH", "STORE", "COPY", "MOVE", "EXPUNGE", "SEARCH" */
  int uid;
  mail_buf items;        /* FETCH items / STORE arguments, raw ("" for none) */
  const char *mailbox;   /* COPY / MOVE destination */
  int hold;              /* send no more pieces (a SEARCH to be retried) */
  size_t sent, answered;
  /* [COPYUID] / [MODIFIED] of every piece, merged */
  int merge_code;        /* MAIL_IMAP_CODE_COPYUID or _MODIFIED while mergeable, else 0 */
  mail_buf merge_src, merge_dst;
  uint64_t merge_validity;
} imap_setop;

/* The selected mailbox. */
typedef struct imap_mailbox {
  uint64_t num[6];
  unsigned known; /* bit per mail_imap_mailbox_field */
  mail_buf flags[2]; /* NUL-separated */
  size_t nflags[2];
  int read_only;
} imap_mailbox;

struct mail_imap {
  mail_allocator alloc;
  mail_conn *conn;
  mail_sasl *sasl;
  mail_imap_parser *parser;
  mail_cmdq q;

  int state;            /* mail_imap_state_id */
  int security;
  int auth_method;
  char *host;
  unsigned int port;
  char *url_mailbox;
  uint32_t next_tag;

  /* what the server said */
  mail_buf caps;        /* space-separated, upper case */
  int caps_known;
  mail_buf enabled;     /* space-separated, upper case */
  mail_buf greeting;
  int last_type, last_code;
  mail_buf last_text;
  mail_buf last_data;   /* the code's arguments */
  imap_mailbox mbox;
  int utf8;             /* UTF8=ACCEPT enabled */
  const mail_imap_response *resp; /* the response being handled */

  /* the command waiting for "+": the rest of its bytes */
  imap_wire cont;
  size_t cont_next;
  uint32_t cont_tag;
  int cont_active;

  mail_imap_untagged_fn on_untagged;
  void *on_untagged_user;

  /* the operation in progress */
  mail_op op;
  int tls_done;
  int cb_failed;
  int bye_seen;
  int sasl_lines;
  int cmd_state_after;  /* the state a successful command leads to (-1: unchanged) */
  int select_ro;        /* the SELECT in flight is an EXAMINE */
  imap_wire out;        /* the command being built */
  size_t max_set;       /* longest sequence set in one command */
  int body_set;         /* a FETCH's body callback is on the parser */
  size_t max_line;      /* the caller's bound on a command line; 0: by server */
  imap_setop setop;

  /* SEARCH (imap_search.c): the caller's arguments, kept for a retry */
  const char *srch_ret, *srch_criteria;
  const char *const *srch_args;
  size_t srch_nargs;
  int srch_charset;     /* what the SEARCH in flight says: IMAP_SRCH_* */
  int srch_retry;       /* 0, or the IMAP_SRCH_* a [BADCHARSET] lets the text go in */
  char srch_charset_name[32]; /* that charset as the server spelled it */

  /* APPEND (imap_append.c): the literal's source and what is left of it */
  mail_read_fn app_read;
  void *app_user;
  uint64_t app_left;
  uint32_t app_tag;
  int app_phase;        /* 0, waiting for "+", streaming */
  int app_uid_known;
  uint32_t app_uidvalidity, app_uid;
  /* MULTIAPPEND (imap_multiappend.c): the messages after the one streaming */
  const uint64_t *app_sizes;
  size_t app_count, app_next;
  const char *const *app_flags;
  size_t app_nflags;

  /* IDLE (imap_idle.c) */
  int idle_interval;    /* ms; 0 until set: the default */
  int idle_phase;       /* 0, waiting for "+", idling, DONE sent */
  int idle_again;       /* the DONE was for the re-issue */
  int idle_done_req;    /* mail_imap_idle_done() */
  int64_t idle_started;
  atomic_int idle_stop_req; /* mail_imap_idle_stop(), from any thread */

  /* [THROTTLED] seen in the replies of the operation (imap_throttle.c) */
  int throttled;
  int64_t throttle_ms;  /* the server's suggested backoff, 0 when none */
  int idle_once;        /* the interval ends the IDLE instead of re-issuing it (sync wait) */

  /* ENABLE (imap_qresync.c): CONDSTORE (1) / QRESYNC (2) asked, ENABLED seen */
  int enable_ask, enable_seen;

  /* the sync helper (imap_sync*.c): the way the last sync ran, NOTIFY set */
  int sync_how;
  int sync_notify_set;
  void *sync_run;       /* a mail_imap_sync_run() resumed after MAIL_ERR_AGAIN */
};

/* The one function that changes the protocol state (traced by name). */
void imap_set_state(mail_imap *im, int state);
/* Give up on the connection (mail_engine_abort). */
int imap_abort(mail_imap *im, int rc, const char *why);

/* ---- building a command (imap_wire.c) ---- */
/* Start "Annn verb" in im->out; *tag gets the tag number. */
int imap_wire_begin(mail_imap *im, const char *verb, uint32_t *tag);
/* " atom" as is (the caller's constant text). */
int imap_wire_atom(mail_imap *im, const char *atom);
/* how: NULL is NIL; never an atom (a "string"); no space before it */
enum { IMAP_STR_NIL = 1, IMAP_STR_QUOTED = 2, IMAP_STR_NOSPACE = 4 };
/* text as is, with no space before it (the caller's constant syntax). */
int imap_wire_raw(mail_imap *im, const char *text);
/* " " then s as an astring: an atom, a quoted string, or a literal (for CR,
 * LF, 8-bit bytes or length): "{n+}" under LITERAL+ (or LITERAL- for up to
 * 4096 bytes), else "{n}" and the bytes wait for "+". NUL: MAIL_ERR_INVALID. */
int imap_wire_string(mail_imap *im, const char *s, size_t len, int secret, unsigned how);
/* 1 when s is the caller's own syntax that may go out as is (FETCH items,
 * SEARCH criteria): printable ASCII, not empty (imap_message.c). */
int imap_raw_ok(const char *s);
/* 1 when s[0..n) is an atom (RFC 3501 atom-char, not empty; imap_message.c). */
int imap_atom_ok(const char *s, size_t n);
/* 1 when f can be a flag: an atom, optionally after one backslash. */
int imap_flag_ok(const char *f);
/* 1 when name can be a mailbox argument (not NULL; CR and LF go as literals). */
int imap_mailbox_ok(const char *name);
/* The longest command line to send (literal data not counted): the
 * caller's bound, else what the server is known to take. */
size_t imap_max_line(const mail_imap *im);
/* The command line's length so far (im->out without literal data). */
size_t imap_wire_line_len(const mail_imap *im);
/* A mailbox name: UTF-8 → modified UTF-7 (unless UTF8=ACCEPT), then as a string. */
int imap_wire_mailbox(mail_imap *im, const char *name);
/* The same with imap_wire_string()'s how (IMAP_STR_NOSPACE: no space before it). */
int imap_wire_mailbox_how(mail_imap *im, const char *name, unsigned how);
/* CRLF, then queue it as command kind (mail_cmd_send with its first pieces;
 * the rest wait for "+"). A command that cannot be queued ends the session. */
int imap_wire_send(mail_imap *im, int kind, uint32_t tag);
/* A "+" arrived for the command waiting: send its next pieces. */
int imap_wire_continue(mail_imap *im);
void imap_wire_free(imap_wire *w);

/* ---- sequence sets (imap_seqset.c) ---- */
/* Sorted and merged: the number of ranges. */
size_t imap_seqset_count(mail_imap_seqset *s);
/* The ranges from *at as a set of at most max bytes (at least one range),
 * NUL-terminated in out; *at moves past them. */
int imap_seqset_piece(mail_imap_seqset *s, size_t *at, size_t max, mail_buf *out);

/* Decimal digits of v. */
size_t imap_digits(uint32_t v);
/* The longest text of one range of s ("a:b"), 0 for an empty set. */
size_t imap_seqset_longest(mail_imap_seqset *s);
/* The whole set's text length ("1:3,7,9:*"). */
size_t imap_seqset_text_len(mail_imap_seqset *s);

/* ---- commands over a set (imap_setcmd.c) ---- */
/* Start op with verb over set (NULL: one command with no set); items and
 * mailbox as the command takes them (NULL: none). Refuses with
 * MAIL_ERR_LIMIT, before anything is sent, a command whose line cannot be
 * made short enough. */
int imap_setop_start(mail_imap *im, int op, mail_imap_seqset *set, int uid, const char *verb,
                     const char *items, const char *mailbox);
/* Queue the next pieces while the output has room and no literal waits. */
int imap_setop_produce(mail_imap *im);
/* The whole set again (a SEARCH retried with another charset): MAIL_ERR_AGAIN
 * once its first command is queued. */
int imap_setop_restart(mail_imap *im);
int imap_setop_reply(mail_imap *im, const mail_imap_response *r);
void imap_setop_end(mail_imap *im);
void imap_setop_init(mail_imap *im);
void imap_setop_free(mail_imap *im);
/* The charset a SEARCH names: none (US-ASCII), UTF-8, ISO-8859-1 (or its
 * superset windows-1252, as the server spelled it in [BADCHARSET]). */
enum { IMAP_SRCH_ASCII = 1, IMAP_SRCH_UTF8, IMAP_SRCH_LATIN1 };
/* SEARCH's command for one piece of its set (NULL: none) (imap_search.c). */
int imap_search_build(mail_imap *im, const char *set, uint32_t *tag);
/* SEARCH's reply: the [BADCHARSET] fallback. */
int imap_search_reply(mail_imap *im, const mail_imap_response *r);
/* SEARCH's next step once its replies are read: a retry, or done. */
int imap_search_next(mail_imap *im);

/* ---- capabilities (imap_session.c) ---- */
int imap_caps_set_from(mail_imap *im, const mail_imap_response *r);
void imap_caps_reset(mail_imap *im);
int imap_has_cap(const mail_imap *im, const char *name);
/* The one capability gate: MAIL_OK when the server lists cap (or also,
 * when not NULL, which includes it, e.g. IMAP4REV2), else
 * MAIL_ERR_UNSUPPORTED with "<cap> is not offered by this server" as the
 * connection's error. Nothing is sent. */
int imap_need_cap(mail_imap *im, const char *cap, const char *also);
/* 1 when the server lists name or "name=value" (APPENDLIMIT=35651584);
 * *value (may be NULL) gets the value, NUL-terminated by the next space
 * or the end ("" when none). */
int imap_cap_value(const mail_imap *im, const char *name, const char **value);
/* Search keys that need an extension (WITHIN's YOUNGER/OLDER, SEARCHRES's
 * "$" and SAVE, SAVEDATE's SAVED*, Gmail's X-GM-*, FUZZY): the gate
 * for each key of criteria and ret (imap_search_gate.c). */
int imap_search_gate(mail_imap *im, const char *ret, const char *criteria);
/* What SEARCH, SORT and THREAD check first (imap_search.c): criteria
 * printable, one "?" per arg and no NULL arg (MAIL_ERR_INVALID), a
 * mailbox selected (MAIL_ERR_STATE); *all_ascii: every arg is ASCII. */
int imap_search_check(const mail_imap *im, const char *criteria, const char *const *args,
                      size_t nargs, int *all_ascii);
/* The same for FETCH items: BINARY[...], BINARY.PEEK, BINARY.SIZE
 * (BINARY), EMAILID/THREADID (OBJECTID), PREVIEW, SAVEDATE, X-GM-*
 * (X-GM-EXT-1); what is inside a section's brackets is not an item. */
int imap_fetch_gate(mail_imap *im, const char *items);
int imap_words_has(const mail_buf *b, const char *name, size_t nlen);

/* ---- the engine (imap_engine.c) ---- */
int imap_advance(void *engine);
int imap_op_enter(mail_imap *im, int op, int *rc);
int imap_run(mail_imap *im, int op);
int imap_finish(mail_imap *im, int rc);
/* Keep the tagged reply r (type, code, text) for mail_imap_last_*(). */
int imap_keep_tagged(mail_imap *im, const mail_imap_response *r);
/* The status a tagged NO/BAD stands for (MAIL_ERR_SERVER, _THROTTLED, ...). */
int imap_refusal(const mail_imap_response *r);
/* Untagged data applied to the selected mailbox (imap_mailbox.c). */
int imap_mailbox_apply(mail_imap *im, const mail_imap_response *r);
void imap_mailbox_reset(mail_imap *im);

/* Queue the command built in im->out (kind) and run operation op. */
static inline int imap_send_run(mail_imap *im, int op, int kind, uint32_t tag)
{
  int rc = imap_wire_send(im, kind, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, op);
}
static inline int imap_logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

/* Each operation's next step, called when the queue is empty. */
int imap_connect_next(mail_imap *im);
int imap_login_next(mail_imap *im);
int imap_command_next(mail_imap *im);
/* Reply handlers (mail_cmd_kind.on_reply): im->resp is the tagged reply. */
int imap_connect_reply(void *engine, const mail_cmd *cmd);
int imap_login_reply(void *engine, const mail_cmd *cmd);
int imap_command_reply(void *engine, const mail_cmd *cmd);
/* A continuation for an AUTHENTICATE in flight (imap_auth.c). */
int imap_login_continue(mail_imap *im, const mail_imap_response *r);
/* APPEND (imap_append.c): a "+" for its literal (1 when it was the one
 * waiting), the literal's next chunks while the output has room
 * (MAIL_ERR_AGAIN: wait for room), its tagged reply. */
int imap_append_continue(mail_imap *im);
int imap_append_produce(mail_imap *im);
int imap_append_reply(mail_imap *im, const mail_imap_response *r);
/* APPEND's phases (im->app_phase). */
enum { APP_IDLE = 0, APP_WAIT_PLUS, APP_STREAM };
/* MULTIAPPEND: the next message's literal header once one is sent
 * (1: a message follows; 0: that was the last). */
int imap_multiappend_next(mail_imap *im);
/* IDLE (imap_idle.c): a "+" for it (1 when it was waiting), DONE when a
 * stop or the re-issue time has come, its tagged reply. */
int imap_idle_continue(mail_imap *im);
int imap_idle_step(mail_imap *im);
int imap_idle_reply(mail_imap *im, const mail_imap_response *r);
/* UNAUTHENTICATE (imap_unauth.c): its reply and its next step (CAPABILITY). */
int imap_unauth_reply(mail_imap *im, const mail_imap_response *r);
int imap_unauth_next(mail_imap *im);
/* Throttling (imap_throttle.c): 1 when r says the server throttles
 * ([THROTTLED] as a code or in the text, Exchange's "Request is
 * throttled"); imap_throttle_note() keeps it and the suggested backoff. */
int imap_throttled(const mail_imap_response *r);
void imap_throttle_note(mail_imap *im, const mail_imap_response *r);
/* The criteria with each "?" replaced by the next argument (SEARCH, SORT,
 * THREAD; imap_search.c). */
int imap_search_criteria(mail_imap *im);
/* COMPRESS (imap_compress.c): its tagged reply switches the connection. */
int imap_compress_reply(mail_imap *im, const mail_imap_response *r);
/* ENABLE (imap_qresync.c): what was asked, and the iCloud rule at its OK. */
void imap_enable_asked(mail_imap *im, const char *const *names, size_t n);
int imap_enable_reply(mail_imap *im, int ok);
/* A sync in progress dropped (imap_sync.c), for mail_imap_free(). */
void imap_sync_discard(mail_imap *im);
/* The credentials as set on the SASL handle. */
const char *imap_user(const mail_imap *im);
const char *imap_password(const mail_imap *im);

#endif

/*
 * libmail — a maildir store (https://cr.yp.to/proto/maildir.html as
 * Dovecot, Courier and mutt read it).
 *
 * What a mail client that keeps a local copy needs: messages delivered
 * atomically (written under tmp/, synced, then linked into new/ or cur/,
 * so a reader never sees half a message and a crash leaves at most a file
 * in tmp/), flags kept in file names (":2,FRS"), and a small persistent
 * key map beside the messages (an IMAP UID or a POP3 UIDL to the message's
 * name, with a number such as the time it was first seen) that a sync
 * keeps and saves atomically.
 *
 * A message is named by its base name: the unique part of its file name,
 * without the ":2,..." info, so the name stays the same when its flags
 * change or it moves from new/ to cur/. Names are at most
 * MAIL_MAILDIR_NAME_MAX bytes.
 *
 * Flags are maildir letters, any order, each at most once: D (draft),
 * F (flagged), P (passed: forwarded), R (replied), S (seen), T (trashed:
 * deleted). Lower-case letters are refused (they are Dovecot keywords,
 * which need its dovecot-keywords file: not handled here).
 * mail_maildir_flags_from_imap() converts IMAP system flags.
 *
 * Files hold LF line ends unless MAIL_MAILDIR_KEEP_CRLF: CRLF written to a
 * delivery becomes LF (across write calls), a lone CR stays.
 *
 * This module does file I/O (POSIX open/link/rename/readdir) and nothing
 * else; it never talks to a server. Its calls block only on the file
 * system (a delivery syncs its file and the directory before it returns). A handle is used by one thread at a
 * time. Several processes may deliver into one maildir at once (names are
 * unique per host, process, time and counter); the key map is the
 * handle's: save it from one process only.
 */
#ifndef MAIL_MAILDIR_H
#define MAIL_MAILDIR_H

#include <stddef.h>
#include <stdint.h>
#include <mail/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A maildir opened by mail_maildir_open() (opaque). */
typedef struct mail_maildir mail_maildir;
/** A message being written (opaque): begin, write, then commit or abort. */
typedef struct mail_maildir_delivery mail_maildir_delivery;

/** Sizes. */
typedef enum mail_maildir_size {
  MAIL_MAILDIR_NAME_MAX = 255, /**< longest base name, without the terminating NUL */
  MAIL_MAILDIR_KEY_MAX = 255,  /**< longest key of the key map */
  MAIL_MAILDIR_FLAGS_MAX = 7   /**< longest flag string (DFPRST), without the NUL */
} mail_maildir_size;

/** Flags of mail_maildir_open(). */
typedef enum mail_maildir_open_flag {
  MAIL_MAILDIR_CREATE = 1 << 0,    /**< create the directory and cur/, new/, tmp/ (mode 0700) when missing */
  MAIL_MAILDIR_NO_FSYNC = 1 << 1,  /**< skip fsync of files and directories: faster, a crash may lose mail */
  MAIL_MAILDIR_KEEP_CRLF = 1 << 2  /**< store message bytes as given (no CRLF to LF) */
} mail_maildir_open_flag;

/**
 * Open the maildir at path (cur/, new/ and tmp/ must exist unless
 * MAIL_MAILDIR_CREATE) and load its key map (the file "libmail-map" in
 * it, when present). alloc may be NULL. MAIL_OK; MAIL_ERR_INVALID (NULL,
 * empty path, unknown flag bits); MAIL_ERR_NOT_FOUND (not a maildir and
 * not asked to create it); MAIL_ERR_FILE (a directory could not be made
 * or read); MAIL_ERR_SYNTAX (the key map is damaged: nothing is
 * overwritten, the file stays for a person to look at); MAIL_ERR_NOMEM.
 * On failure *out is NULL; mail_maildir_last_error() cannot be asked then,
 * so the status says which.
 */
MAIL_EXTERN int mail_maildir_open(mail_maildir **out, const char *path, unsigned int flags,
                                  const mail_allocator *alloc);

/** Close the handle (unsaved key-map changes are dropped). NULL is fine. */
MAIL_EXTERN void mail_maildir_free(mail_maildir *md);

/** The path it was opened with. */
MAIL_EXTERN const char *mail_maildir_path(const mail_maildir *md);

/** Why the last call on md failed (English, with the file and the system's reason), or "". */
MAIL_EXTERN const char *mail_maildir_last_error(const mail_maildir *md);

/* ------------------------------------------------------------------ */
/* Delivery                                                             */
/* ------------------------------------------------------------------ */

/**
 * Start a message: a new file under tmp/ with a unique name. MAIL_OK,
 * MAIL_ERR_FILE, MAIL_ERR_NOMEM, MAIL_ERR_INVALID. One maildir can have
 * several deliveries open at once.
 */
MAIL_EXTERN int mail_maildir_delivery_begin(mail_maildir_delivery **out, mail_maildir *md);

/** Append len bytes (any bytes; CRLF to LF unless MAIL_MAILDIR_KEEP_CRLF). MAIL_ERR_FILE on a write error. */
MAIL_EXTERN int mail_maildir_delivery_write(mail_maildir_delivery *d, const void *data, size_t len);

/**
 * Finish the message: flush and sync it, then link it into new/ (flags
 * NULL: a message nobody has seen) or into cur/ with the given flags ("" is
 * cur/ with no flags), with its modification time set to time_s when not 0
 * (an IMAP INTERNALDATE; seconds since the epoch). The base name goes into
 * name (cap bytes, at least MAIL_MAILDIR_NAME_MAX + 1 is always enough;
 * name may be NULL). d is freed whatever the result; on failure nothing is
 * left under tmp/, new/ or cur/. MAIL_OK; MAIL_ERR_INVALID (bad flags:
 * nothing was delivered); MAIL_ERR_BUFFER (name too small: the message is
 * delivered and the name cut); MAIL_ERR_FILE.
 */
MAIL_EXTERN int mail_maildir_delivery_commit(char *name, size_t cap, mail_maildir_delivery *d,
                                             const char *flags, int64_t time_s);

/** Give the message up: its tmp/ file is removed and d freed. NULL is fine. */
MAIL_EXTERN void mail_maildir_delivery_abort(mail_maildir_delivery *d);

/**
 * The tmp/ path of a delivery in progress (valid until commit or abort),
 * for a program's signal handler that must unlink it before exiting.
 */
MAIL_EXTERN const char *mail_maildir_delivery_tmp_path(const mail_maildir_delivery *d);

/** Bytes written to d so far, as given (before any CRLF to LF). */
MAIL_EXTERN uint64_t mail_maildir_delivery_size(const mail_maildir_delivery *d);

/**
 * Deliver a whole message read from read(user, ...) until it gives 0 bytes
 * (begin, write, commit in one call). A read callback's non-zero return
 * aborts the delivery with MAIL_ERR_CALLBACK. Otherwise as
 * mail_maildir_delivery_commit().
 */
MAIL_EXTERN int mail_maildir_deliver(char *name, size_t cap, mail_maildir *md, const char *flags,
                                     int64_t time_s, mail_read_fn read, void *user);

/* ------------------------------------------------------------------ */
/* Messages                                                             */
/* ------------------------------------------------------------------ */

/**
 * Called by mail_maildir_list() for each message: its base name, its flags
 * ("" for none), 1 when it is in new/, its size in bytes and modification
 * time (seconds since the epoch). The strings are valid during the call.
 * Return 0 to go on; anything else stops the listing with MAIL_ERR_CALLBACK.
 */
typedef int (*mail_maildir_entry_fn)(void *user, const char *name, const char *flags, int in_new,
                                     uint64_t size, int64_t mtime);

/**
 * Every message in new/ and cur/ (files whose names start with '.' are
 * skipped, as the maildir rules say), in no particular order. The listing
 * also refreshes the handle's index of where each message is.
 * MAIL_ERR_FILE, MAIL_ERR_NOMEM, MAIL_ERR_CALLBACK.
 */
MAIL_EXTERN int mail_maildir_list(mail_maildir *md, mail_maildir_entry_fn fn, void *user);

/** The current path of the message called name (cap bytes). MAIL_ERR_NOT_FOUND, MAIL_ERR_BUFFER. */
MAIL_EXTERN int mail_maildir_message_path(char *path, size_t cap, mail_maildir *md, const char *name);

/** Its flags (cap of at least MAIL_MAILDIR_FLAGS_MAX + 1), "" for none. MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_maildir_get_flags(char *flags, size_t cap, mail_maildir *md, const char *name);

/**
 * Give the message exactly these flags (it moves to cur/ if in new/).
 * MAIL_ERR_INVALID for a bad flag string, MAIL_ERR_NOT_FOUND, MAIL_ERR_FILE.
 */
MAIL_EXTERN int mail_maildir_set_flags(mail_maildir *md, const char *name, const char *flags);

/** Remove the message. MAIL_ERR_NOT_FOUND when it is not there (any more). */
MAIL_EXTERN int mail_maildir_remove(mail_maildir *md, const char *name);

/**
 * IMAP system flags to maildir letters: \Seen S, \Answered R, \Flagged F,
 * \Deleted T, \Draft D and the keyword $Forwarded P (case-insensitive);
 * other flags are left out. letters gets a NUL-terminated string (cap of
 * at least MAIL_MAILDIR_FLAGS_MAX + 1). MAIL_ERR_INVALID, MAIL_ERR_BUFFER.
 */
MAIL_EXTERN int mail_maildir_flags_from_imap(char *letters, size_t cap, const char *const *flags,
                                             size_t n);

/* ------------------------------------------------------------------ */
/* The key map                                                          */
/* ------------------------------------------------------------------ */

/**
 * Map key (1 to MAIL_MAILDIR_KEY_MAX printable ASCII bytes, no space) to a
 * message's base name and a number the caller chooses (a UID, the time it
 * was fetched, ...), replacing what key mapped to. In memory until
 * mail_maildir_map_save(). MAIL_ERR_INVALID, MAIL_ERR_NOMEM.
 */
MAIL_EXTERN int mail_maildir_map_set(mail_maildir *md, const char *key, const char *name,
                                     int64_t value);

/** What key maps to: the name (cap bytes; name may be NULL) and *value (may be NULL). MAIL_ERR_NOT_FOUND. */
MAIL_EXTERN int mail_maildir_map_get(char *name, size_t cap, int64_t *value, mail_maildir *md,
                                     const char *key);

/** Forget key. MAIL_ERR_NOT_FOUND when it was not mapped. */
MAIL_EXTERN int mail_maildir_map_remove(mail_maildir *md, const char *key);

/** How many keys are mapped. */
MAIL_EXTERN size_t mail_maildir_map_count(const mail_maildir *md);

/** Called for each mapping by mail_maildir_map_each(); non-zero stops it (MAIL_ERR_CALLBACK). */
typedef int (*mail_maildir_map_fn)(void *user, const char *key, const char *name, int64_t value);

/** Every mapping, in no particular order. The map must not be changed during the walk.
 *  MAIL_OK, MAIL_ERR_CALLBACK (fn stopped it), MAIL_ERR_INVALID. */
MAIL_EXTERN int mail_maildir_map_each(mail_maildir *md, mail_maildir_map_fn fn, void *user);

/**
 * Write the key map to "libmail-map" in the maildir atomically: a new file
 * under tmp/, synced, renamed over the old one, so a crash leaves the old
 * map or the new one, never a mix. MAIL_ERR_FILE.
 */
MAIL_EXTERN int mail_maildir_map_save(mail_maildir *md);

#ifdef __cplusplus
}
#endif

#endif /* MAIL_MAILDIR_H */

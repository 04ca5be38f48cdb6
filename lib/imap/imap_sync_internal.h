/* The sync helper inside (imap_sync*.c): the state's representation and
 * what the files of the helper share. */
#ifndef MAIL_IMAP_SYNC_INTERNAL_H
#define MAIL_IMAP_SYNC_INTERNAL_H

#include <mail/imap_sync.h>

#include "core/mem.h"

/* Flag bits: the system flags, then keyword i at bit SYNC_KW_BIT + i. */
enum {
  SYNC_SEEN = 1u << 0,
  SYNC_ANSWERED = 1u << 1,
  SYNC_FLAGGED = 1u << 2,
  SYNC_DELETED = 1u << 3,
  SYNC_DRAFT = 1u << 4,
  SYNC_KW_BIT = 5
};

typedef struct sync_entry {
  uint32_t uid;
  uint32_t flags;
} sync_entry;

struct mail_imap_sync_state {
  mail_allocator alloc;
  uint32_t uidvalidity;
  uint64_t highestmodseq;
  sync_entry *e; /* sorted by uid, no duplicates */
  size_t n, cap;
  size_t max_uids;
  char *kw[MAIL_IMAP_SYNC_KEYWORDS_MAX];
  size_t nkw;
};

/* The index of uid, or the index where it would go with *found 0. */
size_t sync_state_lower(const mail_imap_sync_state *st, uint32_t uid, int *found);
/* Insert (or replace) uid. MAIL_ERR_LIMIT past max_uids. */
int sync_state_put(mail_imap_sync_state *st, uint32_t uid, uint32_t flags);
/* Room for n entries. */
int sync_state_reserve(mail_imap_sync_state *st, size_t n);
/* The bit of flag name (len bytes), adding a keyword when new; 0 for
 * \Recent. MAIL_ERR_LIMIT past MAIL_IMAP_SYNC_KEYWORDS_MAX keywords. */
int sync_state_flag_bit(mail_imap_sync_state *st, const char *name, size_t len, uint32_t *bit);
/* flags as text ("\\Seen $X"). */
int sync_state_flags_text(const mail_imap_sync_state *st, uint32_t flags, char *buf, size_t cap);
/* Drop all UIDs (a UIDVALIDITY reset); keywords stay. */
void sync_state_drop_uids(mail_imap_sync_state *st);

#endif

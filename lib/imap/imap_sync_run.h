/* What the sync helper's files share (imap_sync.c, imap_sync_wait.c,
 * imap_sync_maildir.c): one sync in progress over a session. */
#ifndef MAIL_IMAP_SYNC_RUN_H
#define MAIL_IMAP_SYNC_RUN_H

#include "imap/imap_internal.h"
#include "imap/imap_sync_internal.h"

/* What the wrapped untagged callback does with FETCH responses. */
enum {
  SYNC_MODE_IGNORE = 0, /* nothing (VANISHED is always applied) */
  SYNC_MODE_INLINE,     /* applied to the state and reported at once */
  SYNC_MODE_COLLECT,    /* (UID, FLAGS) into the list, merged after */
  SYNC_MODE_UIDS        /* UIDs (FETCH or ESEARCH ALL) into the list */
};

typedef struct sync_item {
  uint32_t uid, flags, order;
} sync_item;

typedef struct sync_ctx {
  mail_imap *im;
  mail_imap_sync_state *st;
  mail_imap_sync_fn fn;
  void *user;
  mail_imap_untagged_fn prev;
  void *prev_user;
  int mode, selecting, qresync_select, reset;
  int searched, search_defect;
  int rc;      /* the first failure seen in the callback */
  int stopped; /* the caller's callback asked to stop */
  uint32_t max_known; /* the highest UID known before the SELECT */
  sync_item *list;
  size_t n, cap;
  /* the steps (imap_sync.c): where the sync is, what it decided */
  const char *mailbox;
  int read_only, strategy, after_select, *used;
  int phase, how, try_qresync, try_condstore, sel_kind, lkind, sub_active;
  uint32_t above;
  uint64_t hms;
  int hms_known;
  mail_imap_seqset *set; /* of the sub-operation in flight */
  const char *items;
  uint64_t since;
  int vanished;
  sync_item *changed;    /* CONDSTORE: what CHANGEDSINCE listed */
  size_t nchanged;
} sync_ctx;

/* imap_sync_apply.c: the wrapped untagged callback (user: the sync_ctx);
 * the known UIDs first..last removed and reported; the list sorted by UID
 * with the last word on each kept (UIDs vanished meanwhile dropped); the
 * state rebuilt from the changed (UID order) and present messages
 * (present NULL: the changed are all there is), each change reported. */
int imap_sync_hook(void *user, const mail_imap_response *r, int trusted);
int imap_sync_vanish(sync_ctx *c, uint32_t first, uint32_t last);
size_t imap_sync_settle(sync_item *l, size_t n);
int imap_sync_merge(sync_ctx *c, const sync_item *changed, size_t nc, const sync_item *present,
                    size_t np);

void imap_sync_begin(sync_ctx *c, mail_imap *im, mail_imap_sync_state *st, mail_imap_sync_fn fn,
                     void *user);
int imap_sync_end(sync_ctx *c, int rc);
int imap_sync_usable(mail_imap *im);
/* A sync in progress dropped (the session is being freed). */
void imap_sync_discard(mail_imap *im);
/* List the changes the way *how says (FULL when the mailbox has no
 * mod-sequences: *how then says so). */
int imap_sync_list(sync_ctx *c, int *how, int after_select);

#endif

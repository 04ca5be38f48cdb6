/* CONDSTORE / QRESYNC / NOTIFY and the sync helper through transcripts
 * (the *.txt files here): the exact commands for each strategy, servers
 * that do not offer an extension, the iCloud ENABLE rule, a UIDVALIDITY
 * reset, staying live; the changes reported and the state left. Each
 * blocking and failing every allocation in turn; the session-only calls in
 * event-loop mode too. Also the state file: round trip and damaged files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/imap_sync.h>

#include "each_alloc.h"
#include "transcript.h"

#ifndef SYNC_TRANSCRIPT_DIR
#error "SYNC_TRANSCRIPT_DIR must be defined"
#endif
#define TDIR SYNC_TRANSCRIPT_DIR "/"

typedef struct srun {
  mail_imap *im;
  mail_imap_sync_state *st;
  const mail_allocator *alloc;
  int full;
  size_t agains;
  char events[2048]; /* "V3 F5(\Seen) N11() R99" */
  int statuses, refreshes;
  int nonblocking;
  mail_transcript *t; /* for the feed-mode pump */
} srun;

typedef struct scenario {
  const char *file;
  int (*fn)(srun *r);
  int expect;
  int evloop; /* also played in event-loop mode */
} scenario;

#define DO(r, expr)                                               \
  ({                                                              \
    int rc_;                                                      \
    size_t guard_ = 0;                                            \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) { \
      (r)->agains++;                                              \
      mail_transcript_pump((r)->t);                               \
    }                                                             \
    mail_transcript_pump_flush((r)->t);                           \
    rc_;                                                          \
  })

#define STEP(r, expr, want)   \
  do {                        \
    int s_ = DO(r, expr);     \
    if (s_ != (want))         \
      return s_ ? s_ : -9999; \
  } while (0)

static int on_event(void *user, int ev, uint32_t uid, const char *flags)
{
  srun *r = user;
  char one[160];
  static const char letters[] = "?RNFV";
  if (ev == MAIL_IMAP_SYNC_NEW || ev == MAIL_IMAP_SYNC_FLAGS)
    snprintf(one, sizeof one, "%s%c%lu(%s)", r->events[0] ? " " : "", letters[ev],
             (unsigned long)uid, flags);
  else
    snprintf(one, sizeof one, "%s%c%lu", r->events[0] ? " " : "", letters[ev],
             (unsigned long)uid);
  if (strlen(r->events) + strlen(one) < sizeof r->events)
    strcat(r->events, one);
  return 0;
}

static int on_untagged(void *user, const mail_imap_response *resp, int trusted)
{
  srun *r = user;
  (void)trusted;
  if (mail_imap_response_type(resp) == MAIL_IMAP_TYPE_STATUS)
    r->statuses++;
  return 0;
}

static char state_path[256];

/* A state file with UIDs 1:10 (no flags), UIDVALIDITY 67890007, HIGHESTMODSEQ 9000. */
static int load_state(srun *r, const char *body)
{
  FILE *f = fopen(state_path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(body, f);
  fclose(f);
  return mail_imap_sync_state_load(r->st, state_path);
}

static const char ten_uids[] = "libmail-imap-sync 1\nuidvalidity 67890007\nhighestmodseq 9000\n"
                               "run 1 10 0\nend\n";

static int connect_tls(srun *r)
{
  return DO(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
}

static uint64_t num(srun *r, int field)
{
  uint64_t v = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, r->im, field), MAIL_OK);
  return v;
}

static void expect_events(srun *r, const char *want)
{
  if (r->full)
    ck_assert_str_eq(r->events, want);
}

static int sync10(srun *r, int strategy, int ro, int *used)
{
  int rc = load_state(r, ten_uids);
  if (rc)
    return rc;
  rc = connect_tls(r);
  if (rc)
    return rc;
  return DO(r, mail_imap_sync_run(used, r->im, r->st, "INBOX", ro, strategy, on_event, r));
}

static int s_qresync(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "V3 V4 F5(\\Seen $Label1) N11()");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_QRESYNC);
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 9);
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(r->st), 9100);
    ck_assert_uint_eq(mail_imap_sync_state_uid(r->st, 2), 5);
    char fl[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
    ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, r->st, 5), MAIL_OK);
    ck_assert_str_eq(fl, "\\Seen $Label1");
    ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, r->st, 3), MAIL_ERR_NOT_FOUND);
    ck_assert_int_eq(mail_imap_sync_state_flags(fl, 4, r->st, 5), MAIL_ERR_BUFFER);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 9);
    /* the state survives a save and a load */
    ck_assert_int_eq(mail_imap_sync_state_save(r->st, state_path), MAIL_OK);
    mail_imap_sync_state *again;
    ck_assert_int_eq(mail_imap_sync_state_new(&again, NULL), MAIL_OK);
    ck_assert_int_eq(mail_imap_sync_state_load(again, state_path), MAIL_OK);
    ck_assert_uint_eq(mail_imap_sync_state_count(again), 9);
    ck_assert_uint_eq(mail_imap_sync_state_uidvalidity(again), 67890007u);
    ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, again, 5), MAIL_OK);
    ck_assert_str_eq(fl, "\\Seen $Label1");
    mail_imap_sync_state_free(again);
  }
  return MAIL_OK;
}

static int s_icloud(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_QRESYNC);
    ck_assert(mail_imap_is_enabled(r->im, "QRESYNC"));
    ck_assert(mail_imap_is_enabled(r->im, "CONDSTORE"));
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 10);
  }
  return MAIL_OK;
}

static int s_enable_refused(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_CONDSTORE);
    ck_assert(!mail_imap_is_enabled(r->im, "QRESYNC"));
  }
  return MAIL_OK;
}

static int s_condstore(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "V3 V4 F5(\\Flagged) N12(\\Seen)");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_CONDSTORE);
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 9);
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(r->st), 9100);
  }
  return MAIL_OK;
}

static int s_full(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "F2(\\Deleted) V3 V4 V5 V6 V7 V8 V9 V10 N11(\\Seen)");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_FULL);
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 3);
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(r->st), 0);
  }
  return MAIL_OK;
}

static int s_full_forced(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_FULL, 1, &used);
  if (rc)
    return rc;
  expect_events(r, "F2(\\Deleted) V3 V4 V5 V6 V7 V8 V9 V10 N11(\\Seen)");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_FULL);
    ck_assert(mail_imap_mailbox_read_only(r->im));
  }
  return MAIL_OK;
}

static int s_full_vanished_during(srun *r)
{
  int rc = load_state(r, ten_uids);
  if (rc)
    return rc;
  STEP(r, connect_tls(r), MAIL_OK);
  static const char *const q[] = {"QRESYNC"};
  STEP(r, mail_imap_enable(r->im, q, 1), MAIL_OK);
  STEP(r, mail_imap_sync_run(NULL, r->im, r->st, "INBOX", 0, MAIL_IMAP_SYNC_FULL, on_event, r),
       MAIL_OK); /* STEP resumes it while it says MAIL_ERR_AGAIN */
  expect_events(r, "V2 V3 V4 V5 V6 V7 V8 V9 V10 N11()");
  if (r->full) {
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 2);
    ck_assert_uint_eq(mail_imap_sync_state_uid(r->st, 1), 11);
  }
  return MAIL_OK;
}

static int s_reset(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "R99 N1(\\Seen) N2()");
  if (r->full) {
    ck_assert_uint_eq(mail_imap_sync_state_uidvalidity(r->st), 99);
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(r->st), 200);
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 2);
  }
  return MAIL_OK;
}

static int s_nomodseq(srun *r)
{
  int used = -1;
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, &used);
  if (rc)
    return rc;
  expect_events(r, "V1 V2 V3 V4 V5 V6 F7(\\Answered) V8 V9 V10");
  if (r->full) {
    ck_assert_int_eq(used, MAIL_IMAP_SYNC_FULL);
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(r->st), 0);
  }
  return MAIL_OK;
}

static int s_wait_notify(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_sync_run(NULL, r->im, r->st, "INBOX", 0, 0, on_event, r), MAIL_OK);
  expect_events(r, "N1(\\Seen) N2()");
  r->events[0] = '\0';
  STEP(r, mail_imap_sync_wait(r->im, r->st, "INBOX", 0, 60000, 1000, 0, on_event, r), MAIL_OK);
  expect_events(r, "V1 N3()");
  if (r->full) {
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 2);
    ck_assert_uint_eq(mail_imap_sync_state_uid(r->st, 0), 2);
  }
  return MAIL_OK;
}

static int s_wait_noop(srun *r)
{
  int rc = sync10(r, MAIL_IMAP_SYNC_AUTO, 0, NULL);
  if (rc)
    return rc;
  r->events[0] = '\0';
  STEP(r, mail_imap_sync_wait(r->im, r->st, "INBOX", 0, 1000, 1000, 0, on_event, r), MAIL_OK);
  expect_events(r, "V1 F2(\\Flagged)");
  return MAIL_OK;
}

static int token_cb(void *user, mail_sasl *sasl, int refresh)
{
  srun *r = user;
  if (refresh)
    r->refreshes++;
  return mail_sasl_set_oauth_token(sasl, refresh ? "ya29.refreshed-token" : "ya29.first-token");
}

static int s_reconnect_oauth(srun *r)
{
  mail_sasl *sasl = mail_imap_sasl(r->im);
  STEP(r, mail_imap_set_auth(r->im, "alice", NULL), MAIL_OK);
  STEP(r, mail_sasl_set_token_callback(sasl, token_cb, r), MAIL_OK);
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  STEP(r, mail_imap_sync_run(NULL, r->im, r->st, "INBOX", 0, 0, on_event, r), MAIL_OK);
  expect_events(r, "N1(\\Seen)");
  r->events[0] = '\0';
  STEP(r, mail_imap_sync_wait(r->im, r->st, "INBOX", 0, 60000, 1000, 1, on_event, r), MAIL_OK);
  expect_events(r, "N2()");
  if (r->full) {
    ck_assert_int_eq(r->refreshes, 1);
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 2);
  }
  return MAIL_OK;
}

static int s_limit(srun *r)
{
  STEP(r, mail_imap_sync_state_set_max_uids(r->st, 2), MAIL_OK);
  STEP(r, connect_tls(r), MAIL_OK);
  int rc = DO(r, mail_imap_sync_run(NULL, r->im, r->st, "INBOX", 1, MAIL_IMAP_SYNC_FULL, on_event, r));
  if (rc != MAIL_ERR_LIMIT)
    return rc ? rc : -9999;
  if (r->full)
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 0); /* nothing half-merged */
  rc = load_state(r, "libmail-imap-sync 1\nuidvalidity 67890007\nhighestmodseq 9000\n"
                     "run 1 2 0\nend\n");
  if (rc)
    return rc;
  r->events[0] = '\0';
  rc = DO(r, mail_imap_sync_run(NULL, r->im, r->st, "INBOX", 1, MAIL_IMAP_SYNC_CONDSTORE, on_event, r));
  expect_events(r, "");
  if (r->full)
    ck_assert_uint_eq(mail_imap_sync_state_count(r->st), 2); /* unchanged */
  return rc;
}

static int s_notify(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  mail_imap_notify *n = NULL;
  int rc = mail_imap_notify_new(&n, r->alloc);
  if (rc)
    return rc;
  const unsigned msg = MAIL_IMAP_NOTIFY_MESSAGE_NEW | MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE;
  static const char *const boxes[] = {"Lists", "Work Mail"};
  /* RFC 5465 5's rules, checked before anything is sent */
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_SELECTED, NULL, 0,
                                        MAIL_IMAP_NOTIFY_MESSAGE_NEW), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_PERSONAL, NULL, 0,
                                        MAIL_IMAP_NOTIFY_FLAG_CHANGE), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_SELECTED, NULL, 0,
                                        MAIL_IMAP_NOTIFY_MAILBOX_NAME), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_MAILBOXES, NULL, 0, msg),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_INBOXES, boxes, 1, msg),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_notify_set(r->im, n, 0), MAIL_ERR_INVALID); /* empty */
  rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_SELECTED, NULL, 0,
                            msg | MAIL_IMAP_NOTIFY_FLAG_CHANGE);
  if (!rc)
    ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_SELECTED_DELAYED, NULL, 0, msg),
                     MAIL_ERR_INVALID); /* one selected filter */
  if (!rc)
    rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_MAILBOXES, boxes, 2,
                              MAIL_IMAP_NOTIFY_MAILBOX_NAME | MAIL_IMAP_NOTIFY_SUBSCRIPTION_CHANGE);
  if (!rc)
    rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_PERSONAL, NULL, 0, msg);
  if (!rc)
    rc = DO(r, mail_imap_notify_set(r->im, n, 1));
  mail_imap_notify_free(n);
  if (rc)
    return rc;
  if (r->full)
    ck_assert_int_eq(r->statuses, 1);
  return DO(r, mail_imap_notify_none(r->im));
}

static int s_notify_not_offered(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  mail_imap_notify *n = NULL;
  int rc = mail_imap_notify_new(&n, r->alloc);
  if (!rc)
    rc = mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_INBOXES, NULL, 0,
                              MAIL_IMAP_NOTIFY_MESSAGE_NEW | MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE);
  if (!rc)
    rc = DO(r, mail_imap_notify_set(r->im, n, 0));
  mail_imap_notify_free(n);
  if (rc != MAIL_ERR_UNSUPPORTED)
    return rc ? rc : -9999;
  ck_assert_int_eq(DO(r, mail_imap_notify_none(r->im)), MAIL_ERR_UNSUPPORTED);
  return DO(r, mail_imap_noop(r->im));
}

static int seqset(mail_imap_seqset **s, const mail_allocator *a, const uint32_t *pairs, size_t n)
{
  int rc = mail_imap_seqset_new(s, a);
  for (size_t i = 0; i + 1 < n && !rc; i += 2)
    rc = mail_imap_seqset_add_range(*s, pairs[i], pairs[i + 1]);
  return rc;
}

static int s_fetch_changedsince(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  static const char *const q[] = {"QRESYNC"};
  STEP(r, mail_imap_enable(r->im, q, 1), MAIL_OK);
  mail_imap_seqset *known = NULL, *seqs = NULL, *uids = NULL, *all = NULL;
  static const uint32_t k[] = {41, 211, 214, 541};
  static const uint32_t s[] = {1, 3, 5, 5};
  static const uint32_t u[] = {41, 41, 43, 43, 45, 45, 47, 47};
  static const uint32_t a[] = {1, UINT32_MAX};
  int rc = seqset(&known, r->alloc, k, 4);
  if (!rc)
    rc = seqset(&seqs, r->alloc, s, 4);
  if (!rc)
    rc = seqset(&uids, r->alloc, u, 8);
  if (!rc)
    rc = seqset(&all, r->alloc, a, 2);
  if (!rc) {
    ck_assert_int_eq(mail_imap_select_qresync(r->im, "INBOX", 1, 67890007, 0, known, NULL, NULL),
                     MAIL_ERR_INVALID);
    ck_assert_int_eq(mail_imap_select_qresync(r->im, "INBOX", 1, 67890007, 5, known, seqs, NULL),
                     MAIL_ERR_INVALID);
    rc = DO(r, mail_imap_select_qresync(r->im, "INBOX", 1, 67890007, 90060115194045000ull, known,
                                        seqs, uids));
  }
  if (!rc && r->full) {
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 100);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ), 90060115205545359ull);
  }
  if (!rc) {
    ck_assert_int_eq(mail_imap_fetch_changedsince(r->im, all, 0, "(FLAGS)", 5, 1, NULL, NULL),
                     MAIL_ERR_INVALID); /* VANISHED needs UID FETCH */
    ck_assert_int_eq(mail_imap_fetch_changedsince(r->im, all, 1, "(FLAGS)", 0, 0, NULL, NULL),
                     MAIL_ERR_INVALID);
    rc = DO(r, mail_imap_fetch_changedsince(r->im, all, 1, "(FLAGS)", 90060115205545359ull, 1,
                                            NULL, NULL));
  }
  if (!rc && r->full) {
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 100);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ), 90060115205545360ull);
  }
  mail_imap_seqset_free(known);
  mail_imap_seqset_free(seqs);
  mail_imap_seqset_free(uids);
  mail_imap_seqset_free(all);
  return rc;
}

static int s_condstore_not_offered(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(DO(r, mail_imap_select_qresync(r->im, "INBOX", 0, 0, 0, NULL, NULL, NULL)),
                   MAIL_ERR_UNSUPPORTED);
  static const char *const q[] = {"QRESYNC"};
  ck_assert_int_eq(DO(r, mail_imap_enable(r->im, q, 1)), MAIL_ERR_UNSUPPORTED);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *all = NULL;
  static const uint32_t a[] = {1, UINT32_MAX};
  int rc = seqset(&all, r->alloc, a, 2);
  if (!rc)
    rc = DO(r, mail_imap_fetch_changedsince(r->im, all, 1, "(FLAGS)", 5, 0, NULL, NULL));
  mail_imap_seqset_free(all);
  if (rc != MAIL_ERR_UNSUPPORTED)
    return rc ? rc : -9999;
  /* staying live is blocking only: refused in event-loop mode */
  int nb = r->nonblocking;
  mail_conn_set_nonblocking(mail_imap_conn(r->im), 1);
  ck_assert_int_eq(mail_imap_sync_wait(r->im, r->st, "INBOX", 0, 1000, 1000, 0, NULL, NULL),
                   MAIL_ERR_STATE);
  mail_conn_set_nonblocking(mail_imap_conn(r->im), nb);
  return MAIL_OK;
}

static const scenario scenarios[] = {
  {"qresync_select.txt", s_qresync, MAIL_OK, 1},
  {"enable_icloud.txt", s_icloud, MAIL_OK, 1},
  {"enable_refused_list.txt", s_enable_refused, MAIL_OK, 1},
  {"condstore_sync.txt", s_condstore, MAIL_OK, 1},
  {"condstore_no_esearch.txt", s_condstore, MAIL_OK, 1},
  {"full_sync.txt", s_full, MAIL_OK, 1},
  {"full_forced.txt", s_full_forced, MAIL_OK, 1},
  {"uidvalidity_reset.txt", s_reset, MAIL_OK, 1},
  {"full_vanished_during.txt", s_full_vanished_during, MAIL_OK, 1},
  {"nomodseq.txt", s_nomodseq, MAIL_OK, 1},
  {"sync_wait_notify.txt", s_wait_notify, MAIL_OK, 0},
  {"sync_wait_noop.txt", s_wait_noop, MAIL_OK, 0},
  {"sync_reconnect_oauth.txt", s_reconnect_oauth, MAIL_OK, 0},
  {"sync_limit.txt", s_limit, MAIL_ERR_LIMIT, 1},
  {"notify.txt", s_notify, MAIL_OK, 1},
  {"notify_not_offered.txt", s_notify_not_offered, MAIL_OK, 1},
  {"fetch_changedsince.txt", s_fetch_changedsince, MAIL_OK, 1},
  {"condstore_not_offered.txt", s_condstore_not_offered, MAIL_OK, 1},
};
#define NSCN (sizeof scenarios / sizeof scenarios[0])

static int played(void *user, const char *name)
{
  (void)user;
  for (size_t i = 0; i < NSCN; i++)
    if (!strcmp(scenarios[i].file, name))
      return 1;
  return 0;
}

static mail_transcript *load(const char *name)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s%s", TDIR, name);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", name, err);
  return t;
}

static int play(srun *r, const scenario *s, mail_transcript *t, const mail_allocator *a,
                int nonblock, int full)
{
  memset(r, 0, sizeof *r);
  r->full = full;
  r->alloc = a;
  r->t = t;
  int rc = mail_imap_new(&r->im, a);
  if (!rc)
    rc = mail_imap_sync_state_new(&r->st, a);
  if (!rc)
    /* nonblock 2: feed mode, the pump carries the bytes */
    rc = nonblock == 2 ? mail_transcript_attach_feed(t, mail_imap_conn(r->im))
                       : mail_transcript_attach(t, mail_imap_conn(r->im));
  if (rc)
    return rc;
  mail_imap_set_untagged_callback(r->im, on_untagged, r);
  r->nonblocking = nonblock;
  if (nonblock == 1) {
    mail_conn_set_nonblocking(mail_imap_conn(r->im), 1);
    mail_transcript_set_auto_again(t, 1);
  }
  return s->fn(r);
}

static void done(srun *r)
{
  mail_imap_free(r->im);
  mail_imap_sync_state_free(r->st);
}

START_TEST(test_every_transcript)
{
  const scenario *s = &scenarios[_i];
  char path[512], why[600];
  snprintf(path, sizeof path, "%s%s", TDIR, s->file);
  ck_assert_msg(mail_transcript_check_header(path, s->expect, why, sizeof why) == 0, "%s", why);
  /* Event-loop scenarios also run in feed mode (nonblock 2); the others
   * use what only blocking mode has. */
  for (int nonblock = 0; nonblock < (s->evloop ? 3 : 1); nonblock++) {
    mail_transcript *t = load(s->file);
    srun r;
    int rc = play(&r, s, t, NULL, nonblock, 1);
    static const char *const mode[] = {"blocking", "event loop", "feed"};
    ck_assert_msg(rc == s->expect, "%s (%s): got %d (%s), expected %d; conn error: %s; %s",
                  s->file, mode[nonblock], rc, mail_strerror(rc), s->expect,
                  mail_conn_last_error(mail_imap_conn(r.im)), mail_transcript_report(t));
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    if (nonblock)
      ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in %s mode", s->file, mode[nonblock]);
    done(&r);
    mail_transcript_free(t);
  }
}
END_TEST

typedef struct nomem_ctx {
  const scenario *s;
  mail_transcript *t;
} nomem_ctx;

static int run_allocating(void *user, mail_test_alloc *ta)
{
  nomem_ctx *c = user;
  mail_transcript_rewind(c->t);
  srun r;
  int rc = play(&r, c->s, c->t, mail_test_alloc_hooks(ta), 0, 0);
  if (ta->failures == 0)
    MAIL_TRANSCRIPT_ASSERT_DONE(c->t);
  done(&r);
  return rc;
}

START_TEST(test_every_transcript_nomem)
{
  nomem_ctx c = {&scenarios[_i], load(scenarios[_i].file)};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.s->file, run_allocating, &c, c.s->expect,
                                   MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(SYNC_TRANSCRIPT_DIR, played, NULL, why, sizeof why) > 0,
                "%s", why);
}
END_TEST

static int load_text(mail_imap_sync_state *st, const char *text)
{
  FILE *f = fopen(state_path, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  return mail_imap_sync_state_load(st, state_path);
}

typedef struct membuf {
  char data[65536];
  size_t len, at, chunk;
  int fail;
} membuf;

static int mem_write(void *user, const void *data, size_t len)
{
  membuf *m = user;
  if (m->fail || m->len + len > sizeof m->data)
    return 1;
  memcpy(m->data + m->len, data, len);
  m->len += len;
  return 0;
}

static int mem_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  membuf *m = user;
  if (m->fail)
    return 1;
  size_t n = m->len - m->at;
  if (n > cap)
    n = cap;
  if (m->chunk && n > m->chunk)
    n = m->chunk;
  memcpy(buf, m->data + m->at, n);
  m->at += n;
  *got = n;
  return 0;
}

/* The state kept elsewhere than in a file: written and read through the
 * caller's callbacks, byte for byte what the file holds. */
START_TEST(test_state_callbacks)
{
  mail_imap_sync_state *st, *b;
  ck_assert_int_eq(mail_imap_sync_state_new(&st, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_sync_state_new(&b, NULL), MAIL_OK);
  ck_assert_int_eq(load_text(st, "libmail-imap-sync 1\nuidvalidity 7\nhighestmodseq 12\n"
                                 "keyword $Forwarded\nrun 1 3 21\nrun 9 1000 1\nend\n"), MAIL_OK);
  static membuf m;
  memset(&m, 0, sizeof m);
  ck_assert_int_eq(mail_imap_sync_state_write(st, mem_write, &m), MAIL_OK);
  ck_assert_int_eq(mail_imap_sync_state_save(st, state_path), MAIL_OK);
  FILE *f = fopen(state_path, "rb");
  static char file[65536];
  size_t flen = fread(file, 1, sizeof file, f);
  fclose(f);
  ck_assert_uint_eq(flen, m.len);
  ck_assert(memcmp(file, m.data, flen) == 0);
  m.chunk = 7; /* lines cut across reads */
  ck_assert_int_eq(mail_imap_sync_state_read(b, mem_read, &m), MAIL_OK);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 995);
  char fl[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
  ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, b, 3), MAIL_OK);
  ck_assert_str_eq(fl, "\\Seen $Forwarded");
  m.at = 0;
  m.fail = 1;
  ck_assert_int_eq(mail_imap_sync_state_read(b, mem_read, &m), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(mail_imap_sync_state_write(st, mem_write, &m), MAIL_ERR_CALLBACK);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 995);
  m.fail = 0;
  m.at = 0;
  m.data[3] = '\0'; /* a NUL in the text */
  ck_assert_int_eq(mail_imap_sync_state_read(b, mem_read, &m), MAIL_ERR_SYNTAX);
  memset(m.data, 'x', 3000); /* a line past the bound */
  m.data[3000] = '\n';
  m.len = 3001;
  m.at = 0;
  ck_assert_int_eq(mail_imap_sync_state_read(b, mem_read, &m), MAIL_ERR_SYNTAX);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 995);
  ck_assert_int_eq(mail_imap_sync_state_read(b, NULL, NULL), MAIL_ERR_INVALID);
  mail_imap_sync_state_free(b);
  mail_imap_sync_state_free(st);
  unlink(state_path);
}
END_TEST

START_TEST(test_state_file)
{
  mail_imap_sync_state *st;
  ck_assert_int_eq(mail_imap_sync_state_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_sync_state_new(&st, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_sync_state_set_max_uids(st, 0), MAIL_ERR_INVALID);
  unlink(state_path);
  ck_assert_int_eq(mail_imap_sync_state_load(st, state_path), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(load_text(st, "libmail-imap-sync 1\nuidvalidity 7\nhighestmodseq 12\n"
                                 "keyword $Forwarded\nkeyword $Junk\nrun 1 3 21\nrun 5 5 0\n"
                                 "run 9 1000 1\nend\n"), MAIL_OK);
  ck_assert_uint_eq(mail_imap_sync_state_count(st), 3 + 1 + 992);
  ck_assert_uint_eq(mail_imap_sync_state_uidvalidity(st), 7);
  ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(st), 12);
  char fl[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
  ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, st, 2), MAIL_OK);
  ck_assert_str_eq(fl, "\\Seen $Forwarded");
  ck_assert_int_eq(mail_imap_sync_state_save(st, state_path), MAIL_OK);
  ck_assert_int_eq(access(state_path, R_OK), 0);
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s.tmp", state_path);
  ck_assert_int_ne(access(tmp, F_OK), 0); /* renamed over, nothing left behind */
  mail_imap_sync_state *b;
  ck_assert_int_eq(mail_imap_sync_state_new(&b, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_sync_state_load(b, state_path), MAIL_OK);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 996);
  ck_assert_uint_eq(mail_imap_sync_state_uid(b, 995), 1000);
  ck_assert_uint_eq(mail_imap_sync_state_uid(b, 996), 0);
  /* damaged files leave the state as it was */
  static const char *const bad[] = {
    "libmail-imap-sync 2\nend\n",
    "libmail-imap-sync 1\nrun 5 9 0\nrun 9 12 0\nend\n",  /* overlapping */
    "libmail-imap-sync 1\nrun 5 9 0\nrun 1 2 0\nend\n",   /* out of order */
    "libmail-imap-sync 1\nrun 5 9 0\n",                   /* cut short */
    "libmail-imap-sync 1\nrun 5 9 20\nend\n",             /* keyword bit without keyword */
    "libmail-imap-sync 1\nrun 0 9 0\nend\n",
    "libmail-imap-sync 1\nrun 9 5 0\nend\n",
    "libmail-imap-sync 1\nuidvalidity 4294967296\nend\n",
    "libmail-imap-sync 1\nkeyword a b\nend\n",
    "libmail-imap-sync 1\nkeyword $X\nkeyword $X\nend\n",
    "libmail-imap-sync 1\nend\nrun 1 1 0\n",
    "libmail-imap-sync 1\nwhat 1\nend\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(load_text(b, bad[i]) == MAIL_ERR_SYNTAX, "bad file %zu", i);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 996);
  ck_assert_int_eq(mail_imap_sync_state_set_max_uids(b, 100), MAIL_OK);
  ck_assert_int_eq(load_text(b, "libmail-imap-sync 1\nrun 1 101 0\nend\n"), MAIL_ERR_LIMIT);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 996);
  mail_imap_sync_state_clear(b);
  ck_assert_uint_eq(mail_imap_sync_state_count(b), 0);
  ck_assert_uint_eq(mail_imap_sync_state_uidvalidity(b), 0);
  mail_imap_sync_state_free(b);
  mail_imap_sync_state_free(st);
  mail_imap_sync_state_free(NULL);
  unlink(state_path);
}
END_TEST

int main(void)
{
  snprintf(state_path, sizeof state_path, "/tmp/libmail-sync-transcript-%ld.state", (long)getpid());
  Suite *s = suite_create("imap-sync");
  TCase *tc = tcase_create("sync");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_test(tc, test_state_file);
  tcase_add_test(tc, test_state_callbacks);
  tcase_add_loop_test(tc, test_every_transcript, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem, 0, (int)NSCN);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, CK_NOFORK);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  unlink(state_path);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The sync helper against the real Dovecot (CONDSTORE, QRESYNC, ESEARCH,
 * NOTIFY, IDLE): for each strategy (QRESYNC, and CONDSTORE and FULL forced
 * as if the server lacked the stronger ones), a mailbox changed by a
 * second connection between syncs (new messages, flags, expunges, then
 * UIDVALIDITY reset by deleting and recreating it), each sync on a fresh
 * connection from the state saved to a file, the events and the state
 * checked against a full listing; staying live (IDLE after NOTIFY SET);
 * a maildir mirrored, changed on the server, mirrored again and compared
 * file by file. Each run works in a mailbox of its own. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/imap_sync.h>
#include <mail/maildir.h>

#include "imap_it.h"
#include "plus_lines.h"

#define MAXMSG 64

typedef struct src {
  const char *data;
  size_t len, at;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t n = s->len - s->at < cap ? s->len - s->at : cap;
  memcpy(buf, s->data + s->at, n);
  s->at += n;
  *got = n;
  return 0;
}

static void append(mail_imap *im, const char *box, int i, const char *flag)
{
  char msg[512];
  int len = snprintf(msg, sizeof msg,
                     "From: bob@libmail.test\r\nSubject: sync %d\r\n\r\nbody of message %d\r\n"
                     "second line %d\r\n", i, i, i * 7);
  src s = {msg, (size_t)len, 0};
  const char *flags[] = {flag};
  ck_assert_int_eq(mail_imap_append(im, box, flags, flag ? 1 : 0, 0, (uint64_t)len, src_read, &s),
                   MAIL_OK);
}

static mail_imap_seqset *one(uint32_t uid)
{
  mail_imap_seqset *s;
  ck_assert_int_eq(mail_imap_seqset_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(s, uid, uid), MAIL_OK);
  return s;
}

/* ------------------------------------------------ the server's truth */

typedef struct listing {
  uint32_t uid[MAXMSG];
  char flags[MAXMSG][256];
  char *body[MAXMSG];
  size_t blen[MAXMSG];
  size_t n;
  int cur; /* the message whose body is arriving */
} listing;

static int list_untagged(void *user, const mail_imap_response *r, int trusted)
{
  listing *l = user;
  (void)trusted;
  uint64_t uid;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH ||
      mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) || !mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS))
    return 0;
  ck_assert_uint_lt(l->n, MAXMSG);
  size_t i = l->n++;
  l->uid[i] = (uint32_t)uid;
  l->flags[i][0] = '\0';
  /* the state's order: system flags first as the sync state keeps them */
  static const char *const sys[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"};
  for (int pass = 0; pass < 2; pass++)
    for (size_t k = 0; k < mail_imap_fetch_flag_count(r); k++) {
      size_t len;
      const char *f = mail_imap_fetch_flag(r, k, &len);
      int is_sys = -1;
      for (int s = 0; s < 5; s++)
        if (strlen(sys[s]) == len && !strncasecmp(f, sys[s], len))
          is_sys = s;
      if (len == 7 && !strncasecmp(f, "\\Recent", 7))
        continue;
      if ((pass == 0) != (is_sys >= 0))
        continue;
      if (l->flags[i][0])
        strcat(l->flags[i], " ");
      strncat(l->flags[i], f, len);
    }
  return 0;
}

static int list_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                     const unsigned char *d, size_t n)
{
  listing *l = user;
  (void)s;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    l->cur = (int)l->n;
    l->body[l->cur] = NULL;
    l->blen[l->cur] = 0;
  } else if (ev == MAIL_IMAP_BODY_DATA) {
    l->body[l->cur] = realloc(l->body[l->cur], l->blen[l->cur] + n + 1);
    memcpy(l->body[l->cur] + l->blen[l->cur], d, n);
    l->blen[l->cur] += n;
  }
  return 0;
}

/* System flags in the state's order, then keywords in the server's (the
 * keywords used here are one per message at most). */
static void full_listing(mail_imap *im, const char *box, listing *l, int bodies)
{
  memset(l, 0, sizeof *l);
  ck_assert_int_eq(mail_imap_select(im, box, 1), MAIL_OK);
  uint64_t exists = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&exists, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  if (exists) {
    mail_imap_seqset *all;
    ck_assert_int_eq(mail_imap_seqset_new(&all, NULL), MAIL_OK);
    ck_assert_int_eq(mail_imap_seqset_add_range(all, 1, UINT32_MAX), MAIL_OK);
    mail_imap_set_untagged_callback(im, list_untagged, l);
    ck_assert_int_eq(mail_imap_fetch(im, all, 1,
                                     bodies ? "(UID FLAGS BODY.PEEK[])" : "(UID FLAGS)",
                                     bodies ? list_body : NULL, l), MAIL_OK);
    mail_imap_set_untagged_callback(im, NULL, NULL);
    mail_imap_seqset_free(all);
  }
  ck_assert_int_eq(mail_imap_unselect(im), MAIL_OK);
}

static void free_listing(listing *l)
{
  for (size_t i = 0; i < MAXMSG; i++)
    free(l->body[i]);
}

static void assert_state_is(const mail_imap_sync_state *st, const listing *l)
{
  ck_assert_uint_eq(mail_imap_sync_state_count(st), l->n);
  for (size_t i = 0; i < l->n; i++) {
    ck_assert_uint_eq(mail_imap_sync_state_uid(st, i), l->uid[i]);
    char fl[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
    ck_assert_int_eq(mail_imap_sync_state_flags(fl, sizeof fl, st, l->uid[i]), MAIL_OK);
    ck_assert_msg(!strcmp(fl, l->flags[i]), "UID %u: state \"%s\", server \"%s\"",
                  l->uid[i], fl, l->flags[i]);
  }
}

/* ------------------------------------------------ events */

typedef struct events {
  int resets, news, flags, vanished;
  char text[4096];
} events;

static int on_event(void *user, int ev, uint32_t uid, const char *flags)
{
  events *e = user;
  char one[300];
  snprintf(one, sizeof one, "%s%c%u%s%s%s", e->text[0] ? " " : "", "?RNFV"[ev], uid,
           flags[0] ? "(" : "", flags, flags[0] ? ")" : "");
  if (strlen(e->text) + strlen(one) < sizeof e->text)
    strcat(e->text, one);
  e->resets += ev == MAIL_IMAP_SYNC_RESET;
  e->news += ev == MAIL_IMAP_SYNC_NEW;
  e->flags += ev == MAIL_IMAP_SYNC_FLAGS;
  e->vanished += ev == MAIL_IMAP_SYNC_VANISHED;
  return 0;
}

/* One sync on a fresh connection from the state in path, saved after. */
static void sync_once(const char *path, const char *box, int strategy, events *e,
                      mail_imap_sync_state **out)
{
  memset(e, 0, sizeof *e);
  mail_imap_sync_state *st;
  ck_assert_int_eq(mail_imap_sync_state_new(&st, NULL), MAIL_OK);
  int rc = mail_imap_sync_state_load(st, path);
  ck_assert(rc == MAIL_OK || rc == MAIL_ERR_NOT_FOUND);
  mail_imap *im = imap_it_login(1, 1, NULL);
  int used = -1;
  rc = mail_imap_sync_run(&used, im, st, box, 1, strategy, on_event, e);
  ck_assert_msg(rc == MAIL_OK, "sync: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_int_eq(used, strategy == MAIL_IMAP_SYNC_AUTO ? MAIL_IMAP_SYNC_QRESYNC : strategy);
  if (strategy == MAIL_IMAP_SYNC_FULL)
    ck_assert_uint_eq(mail_imap_sync_state_highestmodseq(st), 0);
  else
    ck_assert_uint_gt(mail_imap_sync_state_highestmodseq(st), 0);
  imap_it_logout(im);
  ck_assert_int_eq(mail_imap_sync_state_save(st, path), MAIL_OK);
  *out = st;
}

static void changes_between_syncs(int strategy, const char *what)
{
  char box[160], path[256];
  imap_it_unique(box, sizeof box, what);
  snprintf(path, sizeof path, "/tmp/libmail-it-sync-%s-%ld.state", what, (long)getpid());
  unlink(path);
  mail_imap *w = imap_it_login(1, 1, NULL); /* the second connection (same user): the writer */
  ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
  for (int i = 1; i <= 5; i++)
    append(w, box, i, i == 4 ? "\\Seen" : NULL);

  events e;
  mail_imap_sync_state *st;
  listing l;
  sync_once(path, box, strategy, &e, &st);
  ck_assert_int_eq(e.news, 5);
  ck_assert_int_eq(e.resets + e.flags + e.vanished, 0);
  full_listing(w, box, &l, 0);
  assert_state_is(st, &l);
  mail_imap_sync_state_free(st);

  /* nothing changed: nothing reported */
  sync_once(path, box, strategy, &e, &st);
  ck_assert_msg(!e.text[0], "unexpected: %s", e.text);
  mail_imap_sync_state_free(st);

  /* new, flagged, keyword, expunged */
  append(w, box, 6, NULL);
  append(w, box, 7, "$Label1");
  ck_assert_int_eq(mail_imap_select(w, box, 0), MAIL_OK);
  mail_imap_seqset *s = one(2);
  static const char *const flagged[] = {"\\Flagged", "$Work"};
  ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, flagged, 2, 1, 0), MAIL_OK);
  mail_imap_seqset_free(s);
  s = one(3);
  static const char *const del[] = {"\\Deleted"};
  ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_uid_expunge(w, s), MAIL_OK);
  mail_imap_seqset_free(s);
  s = one(4);
  static const char *const seen[] = {"\\Seen"};
  ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_REMOVE, seen, 1, 1, 0), MAIL_OK);
  mail_imap_seqset_free(s);
  ck_assert_int_eq(mail_imap_unselect(w), MAIL_OK);

  sync_once(path, box, strategy, &e, &st);
  ck_assert_msg(e.news == 2 && e.flags == 2 && e.vanished == 1 && e.resets == 0, "events: %s",
                e.text);
  ck_assert_ptr_nonnull(strstr(e.text, "V3"));
  ck_assert_ptr_nonnull(strstr(e.text, "F2(\\Flagged $Work)"));
  ck_assert_ptr_nonnull(strstr(e.text, "F4"));
  ck_assert_ptr_nonnull(strstr(e.text, "N7($Label1)"));
  full_listing(w, box, &l, 0);
  assert_state_is(st, &l);
  uint32_t old_validity = mail_imap_sync_state_uidvalidity(st);
  mail_imap_sync_state_free(st);

  /* UIDVALIDITY reset: the mailbox deleted and made again */
  ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
  for (int i = 1; i <= 3; i++)
    append(w, box, 100 + i, i == 2 ? "\\Answered" : NULL);
  sync_once(path, box, strategy, &e, &st);
  ck_assert_msg(e.resets == 1 && e.news == 3 && e.flags == 0 && e.vanished == 0, "events: %s",
                e.text);
  ck_assert(!strncmp(e.text, "R", 1));
  ck_assert_uint_ne(mail_imap_sync_state_uidvalidity(st), old_validity);
  full_listing(w, box, &l, 0);
  assert_state_is(st, &l);
  mail_imap_sync_state_free(st);

  /* expunge everything */
  ck_assert_int_eq(mail_imap_select(w, box, 0), MAIL_OK);
  s = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(s, 1, UINT32_MAX), MAIL_OK);
  ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_expunge(w), MAIL_OK);
  mail_imap_seqset_free(s);
  ck_assert_int_eq(mail_imap_unselect(w), MAIL_OK);
  sync_once(path, box, strategy, &e, &st);
  ck_assert_msg(e.vanished == 3 && e.news + e.flags + e.resets == 0, "events: %s", e.text);
  ck_assert_uint_eq(mail_imap_sync_state_count(st), 0);
  mail_imap_sync_state_free(st);

  ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
  imap_it_logout(w);
  unlink(path);
}

START_TEST(test_sync_qresync)
{
  changes_between_syncs(MAIL_IMAP_SYNC_AUTO, "sync-qresync");
}
END_TEST

START_TEST(test_sync_condstore)
{
  changes_between_syncs(MAIL_IMAP_SYNC_CONDSTORE, "sync-condstore");
}
END_TEST

START_TEST(test_sync_full)
{
  changes_between_syncs(MAIL_IMAP_SYNC_FULL, "sync-full");
}
END_TEST

/* Staying live: a change made while the session waits (IDLE after NOTIFY
 * SET) is reported by mail_imap_sync_wait(), for each strategy. */
START_TEST(test_sync_wait)
{
  static const int strategies[] = {MAIL_IMAP_SYNC_AUTO, MAIL_IMAP_SYNC_CONDSTORE,
                                   MAIL_IMAP_SYNC_FULL};
  for (size_t k = 0; k < 3; k++) {
    char box[160];
    imap_it_unique(box, sizeof box, "sync-wait");
    mail_imap *w = imap_it_login(1, 1, NULL);
    ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
    append(w, box, 1, NULL);
    mail_imap *im = imap_it_login(1, 1, NULL);
    mail_imap_sync_state *st;
    ck_assert_int_eq(mail_imap_sync_state_new(&st, NULL), MAIL_OK);
    events e;
    memset(&e, 0, sizeof e);
    ck_assert_int_eq(mail_imap_sync_run(NULL, im, st, box, 0, strategies[k], on_event, &e), MAIL_OK);
    ck_assert_int_eq(e.news, 1);
    /* made before the wait: IDLE reports it at once (Dovecot checks at its start) */
    append(w, box, 2, "\\Flagged");
    memset(&e, 0, sizeof e);
    int64_t t0 = imap_it_now_ms();
    int rc = mail_imap_sync_wait(im, st, box, strategies[k], 20000, 1000, 0, on_event, &e);
    ck_assert_msg(rc == MAIL_OK, "wait: %s (%s)", mail_strerror(rc),
                  mail_conn_last_error(mail_imap_conn(im)));
    ck_assert_msg(e.news == 1 && e.vanished == 0, "events: %s", e.text);
    ck_assert_ptr_nonnull(strstr(e.text, "(\\Flagged)"));
    ck_assert_int_lt(imap_it_now_ms() - t0, 15000);
    ck_assert_uint_eq(mail_imap_sync_state_count(st), 2);
    mail_imap_sync_state_free(st);
    imap_it_logout(im);
    ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
    imap_it_logout(w);
  }
}
END_TEST

/* mail_imap_sync_run() in event-loop mode (STARTTLS, MAIL_ERR_AGAIN
 * resumed by the shared wait): the same result as blocking, for each
 * strategy, on a mailbox changed between two syncs. */
START_TEST(test_sync_event_loop)
{
  static const int strategies[] = {MAIL_IMAP_SYNC_AUTO, MAIL_IMAP_SYNC_CONDSTORE,
                                   MAIL_IMAP_SYNC_FULL};
  for (size_t k = 0; k < 3; k++) {
    char box[160];
    imap_it_unique(box, sizeof box, "sync-evloop");
    mail_imap *w = imap_it_login(1, 1, NULL);
    ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
    for (int i = 1; i <= 4; i++)
      append(w, box, i, NULL);
    mail_imap_sync_state *st;
    ck_assert_int_eq(mail_imap_sync_state_new(&st, NULL), MAIL_OK);
    for (int round = 0; round < 2; round++) {
      mail_imap *im = imap_it_login(1, 0, NULL);
      ck_assert_int_eq(mail_conn_set_nonblocking(mail_imap_conn(im), 1), MAIL_OK);
      events e;
      memset(&e, 0, sizeof e);
      int used = -1, rc;
      while ((rc = mail_imap_sync_run(&used, im, st, box, 1, strategies[k], on_event, &e)) ==
             MAIL_ERR_AGAIN)
        ck_assert(imap_it_wait(im, imap_it_now_ms() + 30000));
      ck_assert_msg(rc == MAIL_OK, "sync: %s (%s)", mail_strerror(rc),
                    mail_conn_last_error(mail_imap_conn(im)));
      ck_assert_int_eq(used, strategies[k] ? strategies[k] : MAIL_IMAP_SYNC_QRESYNC);
      if (round == 0) {
        ck_assert_int_eq(e.news, 4);
      } else {
        ck_assert_msg(e.news == 1 && e.vanished == 1 && e.flags == 1, "events: %s", e.text);
      }
      ck_assert_int_eq(mail_conn_set_nonblocking(mail_imap_conn(im), 0), MAIL_OK);
      imap_it_logout(im);
      if (round == 0) {
        append(w, box, 5, NULL);
        ck_assert_int_eq(mail_imap_select(w, box, 0), MAIL_OK);
        mail_imap_seqset *s = one(1);
        static const char *const del[] = {"\\Deleted"};
        ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
        ck_assert_int_eq(mail_imap_uid_expunge(w, s), MAIL_OK);
        mail_imap_seqset_free(s);
        s = one(2);
        static const char *const seen[] = {"\\Seen"};
        ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, seen, 1, 1, 0), MAIL_OK);
        mail_imap_seqset_free(s);
        ck_assert_int_eq(mail_imap_unselect(w), MAIL_OK);
      }
    }
    /* Whether the sync ever had to wait is the server's pace (under
     * valgrind every reply is there before it is read): not asserted. The
     * transcripts make every step return MAIL_ERR_AGAIN. */
    listing l;
    full_listing(w, box, &l, 0);
    assert_state_is(st, &l);
    mail_imap_sync_state_free(st);
    ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
    imap_it_logout(w);
  }
}
END_TEST

/* ------------------------------------------------ the maildir mirror */

static void rm_rf(const char *dir)
{
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return b;
}

static int count_entry(void *user, const char *name, const char *flags, int in_new,
                       uint64_t size, int64_t mtime)
{
  (void)name, (void)flags, (void)in_new, (void)size, (void)mtime;
  ++*(size_t *)user;
  return 0;
}

/* Every message of the server is in the maildir, byte for byte, with its flags. */
static void assert_mirror(mail_imap *w, const char *box, mail_maildir *md)
{
  listing l;
  full_listing(w, box, &l, 1);
  size_t files = 0;
  ck_assert_int_eq(mail_maildir_list(md, count_entry, &files), MAIL_OK);
  ck_assert_uint_eq(files, l.n);
  for (size_t i = 0; i < l.n; i++) {
    char key[32], name[MAIL_MAILDIR_NAME_MAX + 1], path[1024];
    snprintf(key, sizeof key, "uid:%u", l.uid[i]);
    ck_assert_msg(mail_maildir_map_get(name, sizeof name, NULL, md, key) == MAIL_OK, "%s", key);
    ck_assert_int_eq(mail_maildir_message_path(path, sizeof path, md, name), MAIL_OK);
    size_t len;
    char *got = slurp(path, &len);
    ck_assert_uint_eq(len, l.blen[i]);
    ck_assert(memcmp(got, l.body[i], len) == 0);
    free(got);
    char want[16], have[16];
    char copy[256];
    snprintf(copy, sizeof copy, "%s", l.flags[i]);
    const char *words[16];
    size_t n = 0;
    for (char *t = strtok(copy, " "); t && n < 16; t = strtok(NULL, " "))
      words[n++] = t;
    ck_assert_int_eq(mail_maildir_flags_from_imap(want, sizeof want, words, n), MAIL_OK);
    ck_assert_int_eq(mail_maildir_get_flags(have, sizeof have, md, name), MAIL_OK);
    ck_assert_msg(!strcmp(want, have), "UID %u: maildir \"%s\", server \"%s\"", l.uid[i], have,
                  want);
  }
  free_listing(&l);
}

static void mirror(int strategy, const char *what)
{
  char box[160], dir[256];
  imap_it_unique(box, sizeof box, what);
  snprintf(dir, sizeof dir, "/tmp/libmail-it-%s-%ld", what, (long)getpid());
  rm_rf(dir);
  mail_imap *w = imap_it_login(1, 1, NULL);
  ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
  for (int i = 1; i <= 6; i++)
    append(w, box, i, i % 3 == 0 ? "\\Seen" : (i == 5 ? "\\Flagged" : NULL));

  for (int round = 0; round < 3; round++) {
    mail_maildir *md;
    ck_assert_int_eq(mail_maildir_open(&md, dir, MAIL_MAILDIR_CREATE | MAIL_MAILDIR_KEEP_CRLF |
                                                      MAIL_MAILDIR_NO_FSYNC, NULL), MAIL_OK);
    mail_imap *im = imap_it_login(1, 1, NULL);
    size_t got = 0;
    int rc = mail_imap_sync_maildir(&got, im, box, md, strategy);
    ck_assert_msg(rc == MAIL_OK, "mirror: %s (%s / %s)", mail_strerror(rc),
                  mail_conn_last_error(mail_imap_conn(im)), mail_maildir_last_error(md));
    imap_it_logout(im);
    ck_assert_uint_eq(got, round == 0 ? 6 : round == 1 ? 2 : 3);
    assert_mirror(w, box, md);
    mail_maildir_free(md);
    if (round == 0) {
      /* new, flag changes, expunged */
      append(w, box, 7, NULL);
      append(w, box, 8, "\\Draft");
      ck_assert_int_eq(mail_imap_select(w, box, 0), MAIL_OK);
      mail_imap_seqset *s = one(1);
      static const char *const rf[] = {"\\Answered", "$Forwarded"};
      ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, rf, 2, 1, 0), MAIL_OK);
      mail_imap_seqset_free(s);
      s = one(3);
      static const char *const seen[] = {"\\Seen"};
      ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_REMOVE, seen, 1, 1, 0), MAIL_OK);
      mail_imap_seqset_free(s);
      s = one(2);
      static const char *const del[] = {"\\Deleted"};
      ck_assert_int_eq(mail_imap_store(w, s, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
      ck_assert_int_eq(mail_imap_uid_expunge(w, s), MAIL_OK);
      mail_imap_seqset_free(s);
      ck_assert_int_eq(mail_imap_unselect(w), MAIL_OK);
    } else if (round == 1) {
      /* UIDVALIDITY reset: everything downloaded again */
      ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
      ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
      for (int i = 1; i <= 3; i++)
        append(w, box, 50 + i, NULL);
    }
  }
  ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
  imap_it_logout(w);
  rm_rf(dir);
}

START_TEST(test_mirror_qresync)
{
  mirror(MAIL_IMAP_SYNC_AUTO, "mirror-qresync");
}
END_TEST

START_TEST(test_mirror_condstore)
{
  mirror(MAIL_IMAP_SYNC_CONDSTORE, "mirror-condstore");
}
END_TEST

START_TEST(test_mirror_full)
{
  mirror(MAIL_IMAP_SYNC_FULL, "mirror-full");
}
END_TEST

/* ------------------------------------------------ NOTIFY */

typedef struct notified {
  mail_imap *im;
  const char *box;
  int plus, status, stopped;
  mail_test_lines lines;
} notified;

static void notify_trace(void *user, int dir, const char *data, size_t len)
{
  notified *n = user;
  if (dir == MAIL_TRACE_RECV && mail_test_plus_lines(&n->lines, data, len))
    n->plus = 1;
}

static int notify_untagged(void *user, const mail_imap_response *r, int trusted)
{
  notified *n = user;
  (void)trusted;
  size_t len;
  const char *name;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_STATUS &&
      (name = mail_imap_response_mailbox(r, &len, NULL, NULL)) != NULL &&
      len == strlen(n->box) && !memcmp(name, n->box, len)) {
    n->status++;
    if (!n->stopped) {
      n->stopped = 1;
      mail_imap_idle_stop(n->im);
    }
  }
  return 0;
}

/* NOTIFY SET for the personal namespace (not the selected mailbox): a
 * message appended to another mailbox by a second connection while the
 * first idles arrives as a STATUS response through the untagged callback.
 * The append is made once the IDLE's "+" has come (event-loop mode), so
 * the order is fixed; the deadline is only a guard. NOTIFY NONE after.
 * As the user "notify", the one the test Dovecot offers NOTIFY to (its
 * mailbox list index is on: tests/servers/dovecot.conf.in says why only
 * there). */
#define NOTIFY_USER 5
START_TEST(test_notify_status)
{
  char box[160];
  imap_it_unique(box, sizeof box, "notify");
  mail_imap *w = imap_it_login(NOTIFY_USER, 1, NULL);
  ck_assert_int_eq(mail_imap_create(w, box), MAIL_OK);
  mail_imap *im = imap_it_login(NOTIFY_USER, 1, NULL);
  ck_assert(mail_imap_has_capability(im, "NOTIFY"));
  mail_imap_notify *n;
  ck_assert_int_eq(mail_imap_notify_new(&n, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_notify_add(n, MAIL_IMAP_NOTIFY_PERSONAL, NULL, 0,
                                        MAIL_IMAP_NOTIFY_MESSAGE_NEW |
                                            MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE), MAIL_OK);
  int rc = mail_imap_notify_set(im, n, 0);
  mail_imap_notify_free(n);
  ck_assert_msg(rc == MAIL_OK, "NOTIFY SET: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  notified got = {im, box, 0, 0, 0, {0}};
  mail_imap_set_untagged_callback(im, notify_untagged, &got);
  mail_conn_set_trace(mail_imap_conn(im), notify_trace, &got);
  ck_assert_int_eq(mail_conn_set_nonblocking(mail_imap_conn(im), 1), MAIL_OK);
  int64_t deadline = imap_it_now_ms() + 30000;
  int appended = 0;
  while ((rc = mail_imap_idle_start(im)) == MAIL_ERR_AGAIN) {
    if (got.plus && !appended) {
      append(w, box, 1, NULL);
      appended = 1;
    }
    ck_assert_msg(imap_it_wait(im, deadline), "no STATUS for %s within 30 s", box);
  }
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(appended);
  ck_assert_int_ge(got.status, 1);
  mail_conn_set_trace(mail_imap_conn(im), NULL, NULL);
  ck_assert_int_eq(mail_conn_set_nonblocking(mail_imap_conn(im), 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_notify_none(im), MAIL_OK);
  mail_imap_set_untagged_callback(im, NULL, NULL);
  imap_it_logout(im);
  ck_assert_int_eq(mail_imap_delete(w, box), MAIL_OK);
  imap_it_logout(w);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_sync_qresync, test_sync_condstore, test_sync_full,
                                test_sync_wait, test_mirror_qresync, test_mirror_condstore,
                                test_mirror_full, test_notify_status, test_sync_event_loop};
  return imap_it_main("imap-sync", 240, tests, sizeof tests / sizeof *tests);
}

/* Mirroring a mailbox into a maildir (mail/maildir.h): a sync of the state
 * kept in the maildir ("libmail-imap-sync"), then the maildir reconciled
 * with the state rather than replayed from the events, so an interrupted
 * mirror is finished by the next one and nothing depends on the order of
 * what the server said:
 *  - a message mapped ("uid:N" in the key map) whose UID the state no
 *    longer holds is removed (vanished, or every one after a UIDVALIDITY
 *    reset, which the key "imap-uidvalidity" also catches when the state
 *    file was lost);
 *  - a UID of the state not mapped is downloaded: UID FETCH (UID FLAGS
 *    INTERNALDATE BODY.PEEK[]) in batches, the body streamed into a
 *    delivery as it arrives and committed when its FETCH response is
 *    complete (its flags and date are known only then);
 *  - a mapped message whose maildir flags differ from the state's is
 *    renamed.
 * The key map is saved after the downloads, the state only when all went
 * well (an older state only makes the next sync report more). */
#include <stdio.h>
#include <string.h>

#include <mail/features.h>

#include "imap/imap_sync_run.h"

#if MAIL_HAVE_MAILDIR
#include <mail/maildir.h>

#define SYNC_STATE_FILE "libmail-imap-sync"
#define SYNC_BATCH 64

typedef struct mirror {
  mail_imap *im;
  mail_maildir *md;
  mail_imap_sync_state *st;
  mail_maildir_delivery *d; /* the body arriving, not committed yet */
  uint32_t d_msg;           /* its message number */
  int rc;
  size_t downloaded;
  mail_imap_untagged_fn prev;
  void *prev_user;
  /* the mapped UIDs not in the state */
  uint32_t *drop;
  size_t ndrop, capdrop;
} mirror;

static int letters_of(const mail_imap_sync_state *st, uint32_t mask, char *out, size_t cap)
{
  char text[MAIL_IMAP_SYNC_FLAGS_TEXT_MAX];
  int rc = sync_state_flags_text(st, mask, text, sizeof text);
  if (rc)
    return rc;
  const char *words[40];
  size_t n = 0;
  for (char *p = text; *p && n < 40;) {
    words[n++] = p;
    char *sp = strchr(p, ' ');
    if (!sp)
      break;
    *sp = '\0';
    p = sp + 1;
  }
  return mail_maildir_flags_from_imap(out, cap, words, n);
}

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len)
{
  mirror *m = user;
  if (m->rc)
    return 0;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    mail_maildir_delivery_abort(m->d);
    m->d = NULL;
    m->rc = mail_maildir_delivery_begin(&m->d, m->md);
    m->d_msg = mail_imap_section_message(s);
  } else if (ev == MAIL_IMAP_BODY_DATA && m->d) {
    m->rc = mail_maildir_delivery_write(m->d, data, len);
  }
  /* a delivery error ends the transfer: the connection cannot be resynchronised */
  return m->rc ? 1 : 0;
}

static int commit(mirror *m, const mail_imap_response *r)
{
  uint64_t uid;
  uint32_t msg;
  if (!m->d || mail_imap_response_number(r, &msg) || msg != m->d_msg ||
      mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) || !uid || uid > UINT32_MAX)
    return MAIL_OK;
  mail_maildir_delivery *d = m->d;
  m->d = NULL;
  const char *words[64];
  char buf[2048];
  size_t n = 0, at = 0;
  for (size_t i = 0; i < mail_imap_fetch_flag_count(r) && n < 64; i++) {
    size_t len;
    const char *f = mail_imap_fetch_flag(r, i, &len);
    if (at + len + 1 > sizeof buf)
      break;
    memcpy(buf + at, f, len);
    buf[at + len] = '\0';
    words[n++] = buf + at;
    at += len + 1;
  }
  char letters[MAIL_MAILDIR_FLAGS_MAX + 1];
  int rc = mail_maildir_flags_from_imap(letters, sizeof letters, words, n);
  int64_t when = 0;
  if (mail_imap_fetch_internaldate(r, &when) != MAIL_OK)
    when = 0;
  char name[MAIL_MAILDIR_NAME_MAX + 1];
  if (rc) {
    mail_maildir_delivery_abort(d);
    return rc;
  }
  rc = mail_maildir_delivery_commit(name, sizeof name, d, letters[0] ? letters : NULL, when);
  char key[32];
  snprintf(key, sizeof key, "uid:%lu", (unsigned long)uid);
  if (!rc)
    rc = mail_maildir_map_set(m->md, key, name, (int64_t)uid);
  if (!rc)
    m->downloaded++;
  return rc;
}

static int on_fetch(void *user, const mail_imap_response *r, int trusted)
{
  mirror *m = user;
  int prc = m->prev ? m->prev(m->prev_user, r, trusted) : 0;
  if (!m->rc && mail_imap_response_type(r) == MAIL_IMAP_TYPE_FETCH)
    m->rc = commit(m, r);
  return prc;
}

static int download(mirror *m, mail_imap_seqset *set)
{
  m->prev = m->im->on_untagged;
  m->prev_user = m->im->on_untagged_user;
  m->im->on_untagged = on_fetch;
  m->im->on_untagged_user = m;
  int rc = mail_imap_fetch(m->im, set, 1, "(UID FLAGS INTERNALDATE BODY.PEEK[])", on_body, m);
  m->im->on_untagged = m->prev;
  m->im->on_untagged_user = m->prev_user;
  mail_maildir_delivery_abort(m->d); /* a body whose FETCH never completed */
  m->d = NULL;
  if (rc == MAIL_ERR_CALLBACK && m->rc)
    rc = m->rc;
  return rc ? rc : m->rc;
}

static int uid_of_key(const char *key, uint32_t *uid)
{
  if (strncmp(key, "uid:", 4))
    return 0;
  unsigned long long v = 0;
  const char *p = key + 4;
  if (!*p)
    return 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9' || v > UINT32_MAX)
      return 0;
    v = v * 10 + (unsigned)(*p - '0');
  }
  if (!v || v > UINT32_MAX)
    return 0;
  *uid = (uint32_t)v;
  return 1;
}

/* Collect the mapped UIDs the state does not hold (all of them when void). */
static int each_mapped(void *user, const char *key, const char *name, int64_t value)
{
  mirror *m = user;
  uint32_t uid;
  int found;
  (void)name;
  (void)value;
  if (!uid_of_key(key, &uid))
    return 0;
  if (m->st) {
    sync_state_lower(m->st, uid, &found);
    if (found)
      return 0;
  }
  if (m->ndrop == m->capdrop) {
    size_t cap = m->capdrop ? m->capdrop * 2 : 64;
    uint32_t *d = mail_realloc(&m->im->alloc, m->drop, cap * sizeof *d);
    if (!d) {
      m->rc = MAIL_ERR_NOMEM;
      return 1;
    }
    m->drop = d;
    m->capdrop = cap;
  }
  m->drop[m->ndrop++] = uid;
  return 0;
}

static int drop_mapped(mirror *m, int all)
{
  mail_imap_sync_state *keep = m->st;
  if (all)
    m->st = NULL;
  m->ndrop = 0;
  int rc = mail_maildir_map_each(m->md, each_mapped, m);
  m->st = keep;
  if (rc == MAIL_ERR_CALLBACK && m->rc)
    rc = m->rc;
  for (size_t i = 0; i < m->ndrop && !rc; i++) {
    char key[32], name[MAIL_MAILDIR_NAME_MAX + 1];
    snprintf(key, sizeof key, "uid:%lu", (unsigned long)m->drop[i]);
    if (mail_maildir_map_get(name, sizeof name, NULL, m->md, key) == MAIL_OK) {
      int r = mail_maildir_remove(m->md, name);
      if (r && r != MAIL_ERR_NOT_FOUND)
        rc = r;
    }
    if (!rc)
      mail_maildir_map_remove(m->md, key);
  }
  return rc;
}

static int ignore_entry(void *user, const char *name, const char *flags, int in_new,
                        uint64_t size, int64_t mtime)
{
  (void)user, (void)name, (void)flags, (void)in_new, (void)size, (void)mtime;
  return 0;
}

static int reconcile(mirror *m)
{
  mail_imap_sync_state *st = m->st;
  int64_t uv = -1;
  char name[MAIL_MAILDIR_NAME_MAX + 1];
  int have = mail_maildir_map_get(name, sizeof name, &uv, m->md, "imap-uidvalidity") == MAIL_OK;
  int rc = drop_mapped(m, have && uv != (int64_t)st->uidvalidity);
  if (!rc)
    rc = mail_maildir_map_set(m->md, "imap-uidvalidity", "uidvalidity", (int64_t)st->uidvalidity);
  /* Refresh the handle's index of where each message is (cur/ or new/). */
  if (!rc)
    rc = mail_maildir_list(m->md, ignore_entry, NULL);
  mail_imap_seqset *set = NULL;
  size_t inset = 0;
  if (!rc)
    rc = mail_imap_seqset_new(&set, &m->im->alloc);
  for (size_t i = 0; i < st->n && !rc; i++) {
    char key[32];
    snprintf(key, sizeof key, "uid:%lu", (unsigned long)st->e[i].uid);
    if (mail_maildir_map_get(name, sizeof name, NULL, m->md, key) == MAIL_OK) {
      char want[MAIL_MAILDIR_FLAGS_MAX + 1], have_f[MAIL_MAILDIR_FLAGS_MAX + 1];
      rc = letters_of(st, st->e[i].flags, want, sizeof want);
      int g = rc ? rc : mail_maildir_get_flags(have_f, sizeof have_f, m->md, name);
      if (!rc && g == MAIL_ERR_NOT_FOUND) {
        mail_maildir_map_remove(m->md, key); /* removed locally: fetch it again */
        rc = mail_imap_seqset_add_range(set, st->e[i].uid, st->e[i].uid);
        inset++;
      } else if (!rc && g) {
        rc = g;
      } else if (!rc && strcmp(want, have_f)) {
        rc = mail_maildir_set_flags(m->md, name, want);
      }
      continue;
    }
    rc = mail_imap_seqset_add_range(set, st->e[i].uid, st->e[i].uid);
    if (!rc && ++inset == SYNC_BATCH) {
      rc = download(m, set);
      mail_imap_seqset_clear(set);
      inset = 0;
    }
  }
  if (!rc && inset)
    rc = download(m, set);
  mail_imap_seqset_free(set);
  return rc;
}

int mail_imap_sync_maildir(size_t *downloaded, mail_imap *im, const char *mailbox,
                           struct mail_maildir *md, int strategy)
{
  if (downloaded)
    *downloaded = 0;
  if (!im || !mailbox || !md)
    return MAIL_ERR_INVALID;
  char path[4200];
  int n = snprintf(path, sizeof path, "%s/" SYNC_STATE_FILE, mail_maildir_path(md));
  if (n < 0 || (size_t)n >= sizeof path)
    return MAIL_ERR_INVALID;
  mail_imap_sync_state *st;
  int rc = mail_imap_sync_state_new(&st, &im->alloc);
  if (rc)
    return rc;
  rc = mail_imap_sync_state_load(st, path);
  if (rc == MAIL_ERR_NOT_FOUND)
    rc = MAIL_OK;
  if (!rc)
    rc = mail_imap_sync_run(NULL, im, st, mailbox, 1, strategy, NULL, NULL);
  mirror m;
  memset(&m, 0, sizeof m);
  m.im = im;
  m.md = md;
  m.st = st;
  if (!rc)
    rc = reconcile(&m);
  int src = mail_maildir_map_save(md);
  if (!rc)
    rc = src;
  if (!rc)
    rc = mail_imap_sync_state_save(st, path);
  if (downloaded)
    *downloaded = m.downloaded;
  mail_dealloc(&im->alloc, m.drop);
  mail_imap_sync_state_free(st);
  return rc;
}

#else

int mail_imap_sync_maildir(size_t *downloaded, mail_imap *im, const char *mailbox,
                           struct mail_maildir *md, int strategy)
{
  (void)im, (void)mailbox, (void)md, (void)strategy;
  if (downloaded)
    *downloaded = 0;
  return MAIL_ERR_UNSUPPORTED;
}

#endif

/* "Leave mail on the server": the uid set a client keeps between
 * sessions, and the UIDL -> RETR new -> DELE old cycle built on the
 * session's batches. */
#include <string.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"

/* ------------------------------------------------------------ uid sets */

typedef struct uid_entry {
  char uid[71];
  int64_t first_seen;
} uid_entry;

struct mail_pop3_uidset {
  mail_allocator alloc;
  uid_entry *items; /* sorted by uid (bytewise) */
  size_t n, cap;
};

int pop3_uid_valid(const char *uid, size_t len)
{
  if (len == 0 || len > 70)
    return 0;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)uid[i] < 0x21 || (unsigned char)uid[i] > 0x7e)
      return 0;
  return 1;
}

int mail_pop3_uidset_new(mail_pop3_uidset **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_pop3_uidset *s = mail_calloc(&a, 1, sizeof *s);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->alloc = a;
  *out = s;
  return MAIL_OK;
}

void mail_pop3_uidset_free(mail_pop3_uidset *s)
{
  if (!s)
    return;
  mail_dealloc(&s->alloc, s->items);
  mail_allocator a = s->alloc;
  mail_dealloc(&a, s);
}

/* Index of uid, or where it would go (*found says which). */
static size_t find(const mail_pop3_uidset *s, const char *uid, int *found)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(s->items[mid].uid, uid);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = 0;
  return lo;
}

int mail_pop3_uidset_add(mail_pop3_uidset *s, const char *uid, int64_t first_seen)
{
  if (!s || !uid || !pop3_uid_valid(uid, strlen(uid)))
    return MAIL_ERR_INVALID;
  int found;
  size_t at = find(s, uid, &found);
  if (found) {
    s->items[at].first_seen = first_seen;
    return MAIL_OK;
  }
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 32;
    uid_entry *ni = mail_realloc(&s->alloc, s->items, ncap * sizeof *ni);
    if (!ni)
      return MAIL_ERR_NOMEM;
    s->items = ni;
    s->cap = ncap;
  }
  memmove(s->items + at + 1, s->items + at, (s->n - at) * sizeof *s->items);
  strcpy(s->items[at].uid, uid);
  s->items[at].first_seen = first_seen;
  s->n++;
  return MAIL_OK;
}

int mail_pop3_uidset_contains(const mail_pop3_uidset *s, const char *uid)
{
  int found = 0;
  if (s && uid)
    find(s, uid, &found);
  return found;
}

static const uid_entry *lookup(const mail_pop3_uidset *s, const char *uid)
{
  int found;
  size_t at = find(s, uid, &found);
  return found ? &s->items[at] : NULL;
}

size_t mail_pop3_uidset_count(const mail_pop3_uidset *s)
{
  return s ? s->n : 0;
}

const char *mail_pop3_uidset_at(const mail_pop3_uidset *s, size_t i, int64_t *first_seen)
{
  if (!s || i >= s->n)
    return NULL;
  if (first_seen)
    *first_seen = s->items[i].first_seen;
  return s->items[i].uid;
}

void mail_pop3_uidset_clear(mail_pop3_uidset *s)
{
  if (s)
    s->n = 0;
}

/* ------------------------------------------------------------- cycle */

enum {
  PH_UIDL = 0,
  PH_UIDL_WAIT,
  PH_RETR,
  PH_DELE,
  PH_DONE
};

/* Per UIDL entry while the cycle runs (in p->results after the last
 * batch, so kept in a scratch array of its own). */
enum { U_OLD = 0, U_NEW_OK, U_NEW_FAILED, U_DELETED };

static const char *entry_uid(const mail_pop3 *p, size_t i, uint32_t *msg)
{
  const char *uid = NULL;
  mail_pop3_uidl_at(p, i, msg, &uid);
  return uid;
}

static int64_t now_seconds(const mail_pop3 *p)
{
  return mail_env_now(mail_conn_env(p->conn), MAIL_CLOCK_REALTIME) / 1000;
}

/* Message numbers of the UIDL entries matching want (1: not in known;
 * 2: in known and due for deletion). */
static int pick(mail_pop3 *p, int want, uint32_t **out, size_t *n)
{
  *out = NULL;
  *n = 0;
  if (!p->nuidl)
    return MAIL_OK;
  uint32_t *v = mail_malloc(&p->alloc, p->nuidl * sizeof *v);
  if (!v)
    return MAIL_ERR_NOMEM;
  int64_t limit = now_seconds(p) - (int64_t)p->delete_after_days * 86400;
  for (size_t i = 0; i < p->nuidl; i++) {
    uint32_t msg;
    const char *uid = entry_uid(p, i, &msg);
    const uid_entry *k = lookup(p->known, uid);
    if ((want == 1 && !k) || (want == 2 && k && k->first_seen <= limit))
      v[(*n)++] = msg;
  }
  *out = v;
  return MAIL_OK;
}

/* The result of the last batch for message msg. Batches follow the UIDL
 * order, which servers give in ascending message numbers: then a cursor
 * makes the walk over the UIDL list linear (ascending says so). A server
 * listing out of order costs a search per message. */
static int result_for(const mail_pop3 *p, uint32_t msg, size_t *cursor, int ascending)
{
  size_t j = *cursor;
  if (ascending) {
    while (j < p->nmsgs && p->msgs[j] < msg)
      j++;
    *cursor = j;
  } else {
    for (j = 0; j < p->nmsgs && p->msgs[j] != msg; j++)
      ;
  }
  if (j == p->nmsgs || p->msgs[j] != msg)
    return MAIL_ERR_NOT_FOUND;
  return p->results[j];
}

/* 1 when the UIDL list (and so every batch built from it) is in
 * ascending message order. */
static int uidl_ascending(const mail_pop3 *p)
{
  uint32_t prev = 0;
  for (size_t i = 0; i < p->nuidl; i++) {
    uint32_t msg;
    entry_uid(p, i, &msg);
    if (msg <= prev)
      return 0;
    prev = msg;
  }
  return 1;
}

static int start_batch(mail_pop3 *p, int kind, int want)
{
  uint32_t *v;
  size_t n;
  int rc = pick(p, want, &v, &n);
  if (!rc)
    rc = pop3_batch_begin(p, kind, v, n);
  mail_dealloc(&p->alloc, v);
  return rc;
}

/* Record the RETR results into seen, then the surviving known ids. */
static int fill_seen(mail_pop3 *p, int after_dele)
{
  int64_t now = now_seconds(p);
  size_t cursor = 0;
  int ascending = uidl_ascending(p);
  for (size_t i = 0; i < p->nuidl; i++) {
    uint32_t msg;
    const char *uid = entry_uid(p, i, &msg);
    const uid_entry *k = lookup(p->known, uid);
    int rc = MAIL_OK;
    if (!k && !after_dele) {
      if (result_for(p, msg, &cursor, ascending) == MAIL_OK) {
        p->nnew++;
        rc = mail_pop3_uidset_add(p->seen, uid, now);
      }
    } else if (k && after_dele) {
      if (p->delete_after_days == 0 || result_for(p, msg, &cursor, ascending) != MAIL_OK)
        rc = mail_pop3_uidset_add(p->seen, uid, k->first_seen);
    }
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

int pop3_leave_next(mail_pop3 *p)
{
  int rc;
  switch (p->op.phase) {
  case PH_UIDL:
    p->op.phase = PH_UIDL_WAIT;
    rc = pop3_send(p, POP3_CMD_UIDL, "UIDL", NULL, 0, 0);
    return rc ? rc : MAIL_ERR_AGAIN;
  case PH_UIDL_WAIT:
    rc = start_batch(p, POP3_CMD_RETR, 1);
    if (rc)
      return rc;
    p->op.phase = PH_RETR;
    /* fall through */
  case PH_RETR:
    if (!p->cancelled && p->next < p->nmsgs)
      return pop3_batch_fill(p);
    if (mail_cmdq_count(&p->q))
      return MAIL_ERR_AGAIN;
    if (p->cancelled)
      return MAIL_ERR_CALLBACK;
    {
      int retr_rc = pop3_batch_result(p);
      rc = fill_seen(p, 0);
      if (rc)
        return rc;
      p->leave_rc = retr_rc == MAIL_OK ? MAIL_OK : MAIL_ERR_PARTIAL;
    }
    if (p->delete_after_days) {
      rc = start_batch(p, POP3_CMD_DELE, 2);
      if (rc)
        return rc;
    } else {
      pop3_batch_begin(p, POP3_CMD_DELE, NULL, 0);
    }
    p->fn = NULL;
    p->op.phase = PH_DELE;
    /* fall through */
  case PH_DELE:
    if (p->next < p->nmsgs)
      return pop3_batch_fill(p);
    if (mail_cmdq_count(&p->q))
      return MAIL_ERR_AGAIN;
    rc = fill_seen(p, 1);
    if (rc)
      return rc;
    if (p->new_count)
      *p->new_count = p->nnew;
    p->op.phase = PH_DONE;
    if (p->leave_rc)
      return p->leave_rc;
    return pop3_batch_result(p) == MAIL_OK ? MAIL_OK : MAIL_ERR_PARTIAL;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

int mail_pop3_leave_on_server(mail_pop3 *p, const mail_pop3_uidset *known,
                              unsigned int delete_after_days, mail_pop3_body_fn fn, void *user,
                              mail_pop3_uidset *seen, size_t *new_count)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_LEAVE, &rc))
    return rc;
  if (!known || !seen || (const mail_pop3_uidset *)seen == known)
    return mail_conn_fail(p->conn, MAIL_ERR_INVALID,
                          "leave on server: the known and seen UID sets must be two different sets");
  if (p->state != MAIL_POP3_STATE_TRANSACTION)
    return pop3_wrong_state(p, "TRANSACTION");
  if (delete_after_days > 365u * 1000u)
    return mail_conn_fail(p->conn, MAIL_ERR_INVALID,
                          "leave on server: %u days is over the 365,000 accepted", delete_after_days);
  mail_pop3_uidset_clear(seen);
  mail_buf_clear(&p->uidl);
  mail_buf_clear(&p->uidl_text);
  p->nuidl = 0;
  p->uidl_text.limit = SIZE_MAX; /* ids of at most 70 bytes, max_items of them */
  pop3_batch_begin(p, POP3_CMD_RETR, NULL, 0);
  p->known = known;
  p->seen = seen;
  p->new_count = new_count;
  p->delete_after_days = delete_after_days;
  p->nnew = 0;
  p->leave_rc = 0;
  if (new_count)
    *new_count = 0;
  p->fn = fn;
  p->fn_user = user;
  return pop3_run(p, POP3_OP_LEAVE);
}

/* The pool of SMTP sessions (mail/smtp_pool.h): groups of sessions by key,
 * each group counting its idle, lent and reserved sessions against one
 * limit. No I/O but the QUITs of mail_smtp_pool_close_idle(). */
#include <mail/smtp_pool.h>

#include <string.h>
#include <strings.h>

#include "core/mem.h"
#include "sasl/sasl_internal.h"
#include "smtp/smtp_internal.h"

#define POOL_DEFAULT_LIMIT 15
#define POOL_DEFAULT_IDLE_MS 60000

typedef struct pool_idle {
  mail_smtp *s;
  int64_t since; /* on the session's own clock */
} pool_idle;

typedef struct pool_group {
  char *host, *user, *mech; /* user and mech: "" for none */
  unsigned int port;
  int security;
  pool_idle *idle;
  size_t nidle, idle_cap;
  mail_smtp **lent;
  size_t nlent, lent_cap;
  size_t reserved;
} pool_group;

struct mail_smtp_pool {
  mail_allocator alloc;
  pool_group *groups;
  size_t ngroups, groups_cap;
  unsigned int limit;
  int idle_ms;
};

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int64_t session_now(mail_smtp *s)
{
  return mail_env_now(mail_conn_env(s->conn), MAIL_CLOCK_MONOTONIC);
}

int mail_smtp_pool_new(mail_smtp_pool **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc) != MAIL_OK)
    return MAIL_ERR_INVALID;
  mail_smtp_pool *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  p->limit = POOL_DEFAULT_LIMIT;
  p->idle_ms = POOL_DEFAULT_IDLE_MS;
  *out = p;
  return MAIL_OK;
}

static void group_clear(mail_smtp_pool *p, pool_group *g)
{
  for (size_t i = 0; i < g->nidle; i++)
    mail_smtp_free(g->idle[i].s);
  mail_dealloc(&p->alloc, g->idle);
  mail_dealloc(&p->alloc, g->lent);
  mail_dealloc(&p->alloc, g->host);
  mail_dealloc(&p->alloc, g->user);
  mail_dealloc(&p->alloc, g->mech);
}

void mail_smtp_pool_free(mail_smtp_pool *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->ngroups; i++)
    group_clear(p, &p->groups[i]);
  mail_dealloc(&p->alloc, p->groups);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

int mail_smtp_pool_set_limit(mail_smtp_pool *p, unsigned int per_key)
{
  if (!p || per_key < 1 || per_key > 1000)
    return MAIL_ERR_INVALID;
  p->limit = per_key;
  return MAIL_OK;
}

int mail_smtp_pool_set_idle_timeout(mail_smtp_pool *p, int ms)
{
  if (!p || ms < 1)
    return MAIL_ERR_INVALID;
  p->idle_ms = ms;
  return MAIL_OK;
}

static int key_ok(const char *host, const char *user, const char *mech)
{
  return host && *host && !mail_has_crlfnul(host, strlen(host)) &&
         !mail_has_crlfnul(or_empty(user), strlen(or_empty(user))) &&
         !mail_has_crlfnul(or_empty(mech), strlen(or_empty(mech)));
}

static pool_group *find_group(mail_smtp_pool *p, const char *host, unsigned int port, int security,
                              const char *user, const char *mech)
{
  for (size_t i = 0; i < p->ngroups; i++) {
    pool_group *g = &p->groups[i];
    if (g->port == port && g->security == security && !strcasecmp(g->host, host) &&
        !strcmp(g->user, or_empty(user)) && !strcmp(g->mech, or_empty(mech)))
      return g;
  }
  return NULL;
}

static pool_group *add_group(mail_smtp_pool *p, const char *host, unsigned int port, int security,
                             const char *user, const char *mech)
{
  if (p->ngroups == p->groups_cap) {
    size_t cap = p->groups_cap ? 2 * p->groups_cap : 4;
    pool_group *g = mail_realloc(&p->alloc, p->groups, cap * sizeof *g);
    if (!g)
      return NULL;
    p->groups = g;
    p->groups_cap = cap;
  }
  pool_group *g = &p->groups[p->ngroups];
  memset(g, 0, sizeof *g);
  g->host = mail_strdup(&p->alloc, host);
  g->user = mail_strdup(&p->alloc, or_empty(user));
  g->mech = mail_strdup(&p->alloc, or_empty(mech));
  if (!g->host || !g->user || !g->mech) {
    group_clear(p, g);
    return NULL;
  }
  g->port = port;
  g->security = security;
  p->ngroups++;
  return g;
}

static size_t group_total(const pool_group *g)
{
  return g->nidle + g->nlent + g->reserved;
}

static int lend(mail_smtp_pool *p, pool_group *g, mail_smtp *s)
{
  if (g->nlent == g->lent_cap) {
    size_t cap = g->lent_cap ? 2 * g->lent_cap : 4;
    mail_smtp **l = mail_realloc(&p->alloc, g->lent, cap * sizeof *l);
    if (!l)
      return MAIL_ERR_NOMEM;
    g->lent = l;
    g->lent_cap = cap;
  }
  g->lent[g->nlent++] = s;
  return MAIL_OK;
}

/* The group and index of a session on loan, or NULL. */
static pool_group *find_lent(mail_smtp_pool *p, const mail_smtp *s, size_t *at)
{
  for (size_t i = 0; i < p->ngroups; i++)
    for (size_t j = 0; j < p->groups[i].nlent; j++)
      if (p->groups[i].lent[j] == s) {
        *at = j;
        return &p->groups[i];
      }
  return NULL;
}

static void unlend(pool_group *g, size_t at)
{
  g->lent[at] = g->lent[--g->nlent];
}

int mail_smtp_pool_take(mail_smtp **out, mail_smtp_pool *p, const char *host, unsigned int port,
                        int security, const char *user, const char *mechanism)
{
  if (!out || !p)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (!key_ok(host, user, mechanism))
    return MAIL_ERR_INVALID;
  pool_group *g = find_group(p, host, port, security, user, mechanism);
  if (!g && !(g = add_group(p, host, port, security, user, mechanism)))
    return MAIL_ERR_NOMEM;
  /* The most recently used first: it is the likeliest to be alive. */
  while (g->nidle) {
    pool_idle e = g->idle[--g->nidle];
    if (session_now(e.s) - e.since > p->idle_ms || !mail_conn_is_open(e.s->conn)) {
      mail_smtp_free(e.s);
      continue;
    }
    if (lend(p, g, e.s) != MAIL_OK) {
      g->idle[g->nidle++] = e;
      return MAIL_ERR_NOMEM;
    }
    *out = e.s;
    return MAIL_OK;
  }
  if (group_total(g) >= p->limit)
    return MAIL_ERR_TOO_MANY_CONNECTIONS;
  g->reserved++;
  return MAIL_ERR_NOT_FOUND;
}

/* The key a session is in: where it is connected, how, as whom. */
static pool_group *group_of_session(mail_smtp_pool *p, mail_smtp *s)
{
  const char *host = mail_conn_host(s->conn);
  if (!host)
    return NULL;
  /* Logged in: as whom and how; else no user and no mechanism. */
  int in = mail_sasl_outcome(s->sasl) == MAIL_OK;
  const char *user = in ? mail_sasl_username(s->sasl) : NULL;
  const char *mech = in ? mail_sasl_mechanism(s->sasl) : NULL;
  return find_group(p, host, mail_conn_port(s->conn), s->conn_security, user, mech);
}

static int reusable(const mail_smtp *s)
{
  return mail_conn_is_open(s->conn) && s->state == SMTP_ST_IDLE && s->op.kind == 0;
}

int mail_smtp_pool_put(mail_smtp_pool *p, mail_smtp *s)
{
  if (!p || !s)
    return MAIL_ERR_INVALID;
  size_t at;
  pool_group *g = find_lent(p, s, &at);
  if (g) {
    unlend(g, at);
  } else {
    g = group_of_session(p, s);
    if (!g || !g->reserved)
      return MAIL_ERR_INVALID;
    g->reserved--;
  }
  if (!reusable(s)) {
    mail_smtp_free(s);
    return MAIL_OK;
  }
  if (g->nidle == g->idle_cap) {
    size_t cap = g->idle_cap ? 2 * g->idle_cap : 4;
    pool_idle *l = mail_realloc(&p->alloc, g->idle, cap * sizeof *l);
    if (!l) {
      mail_smtp_free(s); /* cannot keep it: it goes, as any other would */
      return MAIL_OK;
    }
    g->idle = l;
    g->idle_cap = cap;
  }
  g->idle[g->nidle].s = s;
  g->idle[g->nidle].since = session_now(s);
  g->nidle++;
  return MAIL_OK;
}

int mail_smtp_pool_discard(mail_smtp_pool *p, mail_smtp *s)
{
  if (!p || !s)
    return MAIL_ERR_INVALID;
  size_t at;
  pool_group *g = find_lent(p, s, &at);
  if (!g)
    return MAIL_ERR_INVALID;
  unlend(g, at);
  mail_smtp_free(s);
  return MAIL_OK;
}

int mail_smtp_pool_unreserve(mail_smtp_pool *p, const char *host, unsigned int port, int security,
                             const char *user, const char *mechanism)
{
  if (!p || !key_ok(host, user, mechanism))
    return MAIL_ERR_INVALID;
  pool_group *g = find_group(p, host, port, security, user, mechanism);
  if (!g || !g->reserved)
    return MAIL_ERR_NOT_FOUND;
  g->reserved--;
  return MAIL_OK;
}

size_t mail_smtp_pool_close_idle(mail_smtp_pool *p)
{
  size_t n = 0;
  if (!p)
    return 0;
  for (size_t i = 0; i < p->ngroups; i++) {
    pool_group *g = &p->groups[i];
    for (size_t j = 0; j < g->nidle; j++) {
      mail_smtp *s = g->idle[j].s;
      if (!mail_conn_is_nonblocking(s->conn))
        (void)mail_smtp_quit(s);
      mail_smtp_free(s);
      n++;
    }
    g->nidle = 0;
  }
  return n;
}

int mail_smtp_pool_counts(size_t *idle, size_t *on_loan, size_t *reserved,
                          const mail_smtp_pool *p)
{
  if (!p)
    return MAIL_ERR_INVALID;
  size_t a = 0, b = 0, c = 0;
  for (size_t i = 0; i < p->ngroups; i++) {
    a += p->groups[i].nidle;
    b += p->groups[i].nlent;
    c += p->groups[i].reserved;
  }
  if (idle)
    *idle = a;
  if (on_loan)
    *on_loan = b;
  if (reserved)
    *reserved = c;
  return MAIL_OK;
}

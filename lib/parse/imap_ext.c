/* The data of QUOTA (RFC 9208 5.1, 5.2), ACL (RFC 4314 3.6 to 3.8) and
 * METADATA (RFC 5464 4.4) from the argument tree, and their accessors.
 * Like the other held responses, their lists are bounded by max_items
 * (the framer skips the rest with a defect) and their literals by
 * max_literal; an entry of the wrong shape is left out with a defect and
 * the others are kept. */
#include "parse/imap_internal.h"

static int defect(mail_imap_parser *p, uint32_t name, uint32_t end)
{
  imap_item_defect(p, MAIL_IMAP_DEFECT_RESPONSE, name, end > name + 1 ? end - 1 : name);
  return 0;
}

/* The mailbox (or quota root, as sent when raw) at node a. */
static int mailbox_at(mail_imap_parser *p, uint32_t a, uint32_t end, int raw)
{
  mail_imap_response *r = &p->resp;
  if (a >= end || !imap_is_string(p, a))
    return 0;
  r->mailbox_raw = imap_node_str(p, a);
  r->mailbox = raw ? r->mailbox_raw : imap_mailbox_name(p, r->mailbox_raw);
  return 1;
}

static size_t siblings(const mail_imap_parser *p, uint32_t a, uint32_t end)
{
  size_t k = 0;
  for (uint32_t c = a; c < end; c = imap_nodes(p)[c].next)
    k++;
  return k;
}

/* "* QUOTA root (name usage limit ...)" */
static int quota(mail_imap_parser *p, uint32_t name, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  if (!mailbox_at(p, a, end, 1))
    return defect(p, name, end);
  uint32_t l = n[a].next;
  if (l >= end || n[l].type != IMAP_N_LIST)
    return defect(p, name, end);
  r->quota = imap_arena_array(&p->arena, n[l].count / 3 + 1, sizeof *r->quota);
  if (!r->quota)
    return -1;
  for (uint32_t t = l + 1; t < n[l].next;) {
    uint32_t u = n[t].next, v = u < n[l].next ? n[u].next : u;
    imap_quota q;
    if (v >= n[l].next || !imap_is_string(p, t) || imap_node_num(p, u, &q.usage) != 0 ||
        imap_node_num(p, v, &q.limit) != 0 || q.usage > INT64_MAX || q.limit > INT64_MAX) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, t, v < n[l].next ? v : (u < n[l].next ? u : t));
      if (v >= n[l].next)
        break;
      t = n[v].next;
      continue;
    }
    q.name = imap_node_str(p, t);
    r->quota[r->nquota++] = q;
    t = n[v].next;
  }
  return 0;
}

/* Strings from node a to end into r->strs (NIL and lists left out). */
static int strings(mail_imap_parser *p, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  size_t cnt = siblings(p, a, end);
  if (!cnt)
    return 0;
  r->strs = imap_arena_array(&p->arena, cnt, sizeof *r->strs);
  if (!r->strs)
    return -1;
  for (uint32_t c = a; c < end; c = imap_nodes(p)[c].next)
    if (imap_is_string(p, c))
      r->strs[r->nstrs++] = imap_node_str(p, c);
  return 0;
}

/* "* ACL mailbox id rights id rights ..." */
static int acl(mail_imap_parser *p, uint32_t name, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  if (!mailbox_at(p, a, end, 0))
    return defect(p, name, end);
  uint32_t e = n[a].next;
  r->pairs = imap_arena_array(&p->arena, siblings(p, e, end) / 2 + 1, sizeof *r->pairs);
  if (!r->pairs)
    return -1;
  for (uint32_t t = e; t < end;) {
    uint32_t v = n[t].next;
    if (v >= end || !imap_is_string(p, t) || !imap_is_string(p, v)) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, t, v < end ? v : t);
      if (v >= end)
        break;
      t = n[v].next;
      continue;
    }
    imap_pair *pr = &r->pairs[r->npairs++];
    pr->name = imap_node_str(p, t);
    pr->value = imap_node_str(p, v);
    t = n[v].next;
  }
  return 0;
}

/* "* METADATA mailbox (entry value ...)" or, unsolicited, "* METADATA
 * mailbox entry entry ..." */
static int metadata(mail_imap_parser *p, uint32_t name, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  if (!mailbox_at(p, a, end, 0))
    return defect(p, name, end);
  uint32_t e = n[a].next;
  if (e >= end)
    return defect(p, name, end);
  if (n[e].type != IMAP_N_LIST) {
    r->meta_changed = 1;
    r->pairs = imap_arena_array(&p->arena, siblings(p, e, end), sizeof *r->pairs);
    if (!r->pairs)
      return -1;
    for (uint32_t t = e; t < end; t = n[t].next) {
      if (!imap_is_string(p, t)) {
        imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, t, t);
        continue;
      }
      r->pairs[r->npairs++].name = imap_node_str(p, t);
    }
    return 0;
  }
  r->pairs = imap_arena_array(&p->arena, n[e].count / 2 + 1, sizeof *r->pairs);
  if (!r->pairs)
    return -1;
  uint32_t le = n[e].next;
  for (uint32_t t = e + 1; t < le;) {
    uint32_t v = n[t].next;
    if (v >= le || !imap_is_string(p, t) || !imap_is_nstring(p, v)) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, t, v < le ? v : t);
      if (v >= le)
        break;
      t = n[v].next;
      continue;
    }
    imap_pair *pr = &r->pairs[r->npairs++];
    pr->name = imap_node_str(p, t);
    pr->value = imap_node_str(p, v); /* NULL for NIL */
    t = n[v].next;
  }
  return 0;
}

int imap_interpret_ext(mail_imap_parser *p, uint32_t name, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  switch (r->type) {
  case MAIL_IMAP_TYPE_QUOTA:
    return quota(p, name, a, end);
  case MAIL_IMAP_TYPE_QUOTAROOT:
    if (!mailbox_at(p, a, end, 0))
      return defect(p, name, end);
    return strings(p, n[a].next, end);
  case MAIL_IMAP_TYPE_ACL:
    return acl(p, name, a, end);
  case MAIL_IMAP_TYPE_LISTRIGHTS:
    /* mailbox identifier required optional... */
    if (!mailbox_at(p, a, end, 0) || n[a].next >= end || n[n[a].next].next >= end)
      return defect(p, name, end);
    return strings(p, n[a].next, end);
  case MAIL_IMAP_TYPE_MYRIGHTS:
    if (!mailbox_at(p, a, end, 0) || n[a].next >= end || !imap_is_string(p, n[a].next))
      return defect(p, name, end);
    return strings(p, n[a].next, n[n[a].next].next);
  case MAIL_IMAP_TYPE_METADATA:
    return metadata(p, name, a, end);
  default:
    return 0;
  }
}

/* ------------------------------------------------------------ accessors */

static void out_str(imap_str s, const char **p, size_t *n)
{
  if (p)
    *p = s.p;
  if (n)
    *n = s.p ? s.n : 0;
}

int mail_imap_response_quota(const mail_imap_response *r, size_t i, const char **name,
                             size_t *name_len, uint64_t *usage, uint64_t *limit)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (r->type != MAIL_IMAP_TYPE_QUOTA || i >= r->nquota)
    return MAIL_ERR_NOT_FOUND;
  out_str(r->quota[i].name, name, name_len);
  if (usage)
    *usage = r->quota[i].usage;
  if (limit)
    *limit = r->quota[i].limit;
  return MAIL_OK;
}

int mail_imap_response_acl(const mail_imap_response *r, size_t i, const char **identifier,
                           size_t *identifier_len, const char **rights, size_t *rights_len)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (r->type != MAIL_IMAP_TYPE_ACL || i >= r->npairs)
    return MAIL_ERR_NOT_FOUND;
  out_str(r->pairs[i].name, identifier, identifier_len);
  out_str(r->pairs[i].value, rights, rights_len);
  return MAIL_OK;
}

int mail_imap_response_metadata(const mail_imap_response *r, size_t i, const char **entry,
                                size_t *entry_len, const char **value, size_t *value_len)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (r->type != MAIL_IMAP_TYPE_METADATA || i >= r->npairs)
    return MAIL_ERR_NOT_FOUND;
  out_str(r->pairs[i].name, entry, entry_len);
  out_str(r->pairs[i].value, value, value_len);
  return MAIL_OK;
}

int mail_imap_response_metadata_changed(const mail_imap_response *r)
{
  return r && r->type == MAIL_IMAP_TYPE_METADATA && r->meta_changed;
}

const char *mail_imap_response_status_mailboxid(const mail_imap_response *r, size_t *len)
{
  imap_str none = {NULL, 0};
  imap_str s = r && r->type == MAIL_IMAP_TYPE_STATUS ? r->mailboxid : none;
  if (len)
    *len = s.p ? s.n : 0;
  return s.p;
}

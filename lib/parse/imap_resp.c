/* What an IMAP response means: its kind and type, the status response's
 * code, and the data of every response held whole other than FETCH,
 * taken from the argument tree in a pass of its own (after the framer has
 * the whole response); results that grow with the mailbox are typed as
 * they arrive (imap_list.c). Shapes that do not fit become defects, never errors. */
#include "parse/imap_internal.h"

#include <string.h>

#include "core/mem.h"

static const char empty[1] = "";

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int imap_prefix_ieq(const void *s, size_t n, const char *w)
{
  const unsigned char *c = s;
  size_t k = strlen(w);
  if (!s || n < k)
    return 0;
  for (size_t i = 0; i < k; i++)
    if (lower(c[i]) != lower((unsigned char)w[i]))
      return 0;
  return 1;
}

int imap_atom_is(const mail_imap_parser *p, uint32_t i, const char *w)
{
  if (i >= imap_node_count(p) || imap_nodes(p)[i].type != IMAP_N_ATOM)
    return 0;
  return imap_str_ieq(imap_node_str(p, i), w);
}

/* Digits, "-1" (unknown) or a decimal with exponent ("9.3736e+06") whose
 * value is a whole number. */
int imap_node_num(const mail_imap_parser *p, uint32_t i, uint64_t *out)
{
  if (!imap_is_string(p, i) || imap_nodes(p)[i].type == IMAP_N_LITERAL)
    return -1;
  imap_str s = imap_node_str(p, i);
  return imap_str_num(s.p, s.n, out);
}

int imap_str_num(const char *str, size_t n, uint64_t *out)
{
  const unsigned char *c = (const unsigned char *)str, *e = c + n;
  if (n == 2 && c[0] == '-' && c[1] == '1')
    return 1;
  uint64_t v = 0;
  int frac = 0, digits = 0, dot = 0;
  for (; c < e && ((*c >= '0' && *c <= '9') || (*c == '.' && !dot)); c++) {
    if (*c == '.') {
      dot = 1;
      continue;
    }
    unsigned d = (unsigned)(*c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
    digits++;
    frac += dot;
  }
  if (!digits)
    return -1;
  if (c == e) {
    if (dot)
      return -1;
    *out = v;
    return 0;
  }
  if (*c != 'e' && *c != 'E')
    return -1;
  c++;
  int neg = 0;
  if (c < e && (*c == '+' || *c == '-'))
    neg = *c++ == '-';
  int x = 0;
  if (c == e)
    return -1;
  for (; c < e; c++) {
    if (*c < '0' || *c > '9' || x > 40)
      return -1;
    x = x * 10 + (*c - '0');
  }
  int shift = (neg ? -x : x) - frac;
  for (; shift > 0; shift--) {
    if (v > UINT64_MAX / 10)
      return -1;
    v *= 10;
  }
  for (; shift < 0; shift++) {
    if (v % 10)
      return -1;
    v /= 10;
  }
  *out = v;
  return 0;
}

uint32_t imap_raw_start(const mail_imap_parser *p, uint32_t i)
{
  const imap_node *nd = &imap_nodes(p)[i];
  if (nd->type != IMAP_N_QUOTED)
    return nd->off;
  return (nd->flags & IMAP_NF_ESC) ? nd->count : nd->off - 1;
}

void imap_item_defect(mail_imap_parser *p, int kind, uint32_t name_i, uint32_t last_i)
{
  const imap_node *n = imap_nodes(p);
  uint32_t cnt = imap_node_count(p);
  if (name_i >= cnt)
    return;
  uint32_t end = n[name_i].end;
  if (last_i < cnt && n[last_i].end > end)
    end = n[last_i].end;
  int named = n[name_i].type == IMAP_N_ATOM;
  imap_defect_add(p, kind, n[name_i].off, n[name_i].len, named, imap_raw_start(p, name_i), end);
}

imap_str imap_mailbox_name(mail_imap_parser *p, imap_str raw)
{
  if (p->utf8 || !raw.p || !memchr(raw.p, '&', raw.n))
    return raw;
  size_t need = 0;
  if (mail_imap_utf7_decode(&need, NULL, 0, raw.p, raw.n) != MAIL_ERR_BUFFER)
    return raw;
  char *buf = imap_arena_alloc(&p->arena, need ? need : 1);
  if (!buf) {
    p->nomem = 1;
    return raw;
  }
  if (mail_imap_utf7_decode(&need, buf, need, raw.p, raw.n))
    return raw;
  imap_str s = {buf, need};
  return s;
}

int imap_string_list(mail_imap_parser *p, uint32_t i, imap_str **out, size_t *n, int mailbox)
{
  const imap_node *nd = &imap_nodes(p)[i];
  *out = NULL;
  *n = 0;
  if (!nd->count)
    return 0;
  imap_str *a = imap_arena_array(&p->arena, nd->count, sizeof *a);
  if (!a)
    return -1;
  size_t k = 0;
  for (uint32_t c = i + 1; c < nd->next; c = imap_nodes(p)[c].next)
    if (imap_is_string(p, c))
      a[k++] = mailbox ? imap_mailbox_name(p, imap_node_str(p, c)) : imap_node_str(p, c);
  *out = a;
  *n = k;
  return 0;
}

/* Strings of the siblings from node i up to (not including) end. */
static int sibling_strings(mail_imap_parser *p, uint32_t i, uint32_t end, imap_str **out, size_t *n)
{
  size_t cnt = 0;
  for (uint32_t c = i; c < end; c = imap_nodes(p)[c].next)
    cnt++;
  *out = NULL;
  *n = 0;
  if (!cnt)
    return 0;
  imap_str *a = imap_arena_array(&p->arena, cnt, sizeof *a);
  if (!a)
    return -1;
  size_t k = 0;
  for (uint32_t c = i; c < end; c = imap_nodes(p)[c].next)
    if (imap_is_string(p, c))
      a[k++] = imap_node_str(p, c);
  *out = a;
  *n = k;
  return 0;
}

static imap_str raw_span(const mail_imap_parser *p, uint32_t first, uint32_t last)
{
  uint32_t off = imap_raw_start(p, first), end = imap_nodes(p)[last].end;
  imap_str s = {p->resp.base + off, end > off ? end - off : 0};
  return s;
}

/* ------------------------------------------------------------ codes */

static const struct {
  const char *name;
  int id;
} codes[] = {
  {"ALERT", MAIL_IMAP_CODE_ALERT},
  {"BADCHARSET", MAIL_IMAP_CODE_BADCHARSET},
  {"CAPABILITY", MAIL_IMAP_CODE_CAPABILITY},
  {"PARSE", MAIL_IMAP_CODE_PARSE},
  {"PERMANENTFLAGS", MAIL_IMAP_CODE_PERMANENTFLAGS},
  {"READ-ONLY", MAIL_IMAP_CODE_READ_ONLY},
  {"READ-WRITE", MAIL_IMAP_CODE_READ_WRITE},
  {"TRYCREATE", MAIL_IMAP_CODE_TRYCREATE},
  {"UIDNEXT", MAIL_IMAP_CODE_UIDNEXT},
  {"UIDVALIDITY", MAIL_IMAP_CODE_UIDVALIDITY},
  {"UNSEEN", MAIL_IMAP_CODE_UNSEEN},
  {"HIGHESTMODSEQ", MAIL_IMAP_CODE_HIGHESTMODSEQ},
  {"NOMODSEQ", MAIL_IMAP_CODE_NOMODSEQ},
  {"MODIFIED", MAIL_IMAP_CODE_MODIFIED},
  {"APPENDUID", MAIL_IMAP_CODE_APPENDUID},
  {"COPYUID", MAIL_IMAP_CODE_COPYUID},
  {"UIDNOTSTICKY", MAIL_IMAP_CODE_UIDNOTSTICKY},
  {"CLOSED", MAIL_IMAP_CODE_CLOSED},
  {"UNAVAILABLE", MAIL_IMAP_CODE_UNAVAILABLE},
  {"AUTHENTICATIONFAILED", MAIL_IMAP_CODE_AUTHENTICATIONFAILED},
  {"AUTHORIZATIONFAILED", MAIL_IMAP_CODE_AUTHORIZATIONFAILED},
  {"EXPIRED", MAIL_IMAP_CODE_EXPIRED},
  {"PRIVACYREQUIRED", MAIL_IMAP_CODE_PRIVACYREQUIRED},
  {"CONTACTADMIN", MAIL_IMAP_CODE_CONTACTADMIN},
  {"NOPERM", MAIL_IMAP_CODE_NOPERM},
  {"INUSE", MAIL_IMAP_CODE_INUSE},
  {"EXPUNGEISSUED", MAIL_IMAP_CODE_EXPUNGEISSUED},
  {"CORRUPTION", MAIL_IMAP_CODE_CORRUPTION},
  {"SERVERBUG", MAIL_IMAP_CODE_SERVERBUG},
  {"CLIENTBUG", MAIL_IMAP_CODE_CLIENTBUG},
  {"CANNOT", MAIL_IMAP_CODE_CANNOT},
  {"LIMIT", MAIL_IMAP_CODE_LIMIT},
  {"OVERQUOTA", MAIL_IMAP_CODE_OVERQUOTA},
  {"ALREADYEXISTS", MAIL_IMAP_CODE_ALREADYEXISTS},
  {"NONEXISTENT", MAIL_IMAP_CODE_NONEXISTENT},
  {"HASCHILDREN", MAIL_IMAP_CODE_HASCHILDREN},
  {"UNKNOWN-CTE", MAIL_IMAP_CODE_UNKNOWN_CTE},
  {"COMPRESSIONACTIVE", MAIL_IMAP_CODE_COMPRESSIONACTIVE},
  {"NOTSAVED", MAIL_IMAP_CODE_NOTSAVED},
  {"MAILBOXID", MAIL_IMAP_CODE_MAILBOXID},
  {"THROTTLED", MAIL_IMAP_CODE_THROTTLED},
  {"METADATA", MAIL_IMAP_CODE_METADATA},
  {"USEATTR", MAIL_IMAP_CODE_USEATTR},
  {"TOOBIG", MAIL_IMAP_CODE_TOOBIG},
};

static int code_defect(mail_imap_parser *p)
{
  uint32_t last = p->code_end > p->code_first + 1 ? p->code_end - 1 : p->code_first;
  imap_item_defect(p, MAIL_IMAP_DEFECT_CODE, p->code_first, last);
  return 0;
}

static int interpret_code(mail_imap_parser *p)
{
  mail_imap_response *r = &p->resp;
  r->code_name = imap_node_str(p, p->code_first);
  r->code_raw.p = r->base + p->code_raw_off;
  r->code_raw.n = p->code_raw_len;
  r->code = MAIL_IMAP_CODE_OTHER;
  for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
    if (imap_str_ieq(r->code_name, codes[k].name))
      r->code = codes[k].id;
  uint32_t a = p->code_first + 1, end = p->code_end;
  const imap_node *n = imap_nodes(p);
  uint32_t b = a < end ? n[a].next : end;
  uint32_t c = b < end ? n[b].next : end;
  switch (r->code) {
  case MAIL_IMAP_CODE_CAPABILITY:
    return sibling_strings(p, a, end, &r->strs, &r->nstrs);
  case MAIL_IMAP_CODE_PERMANENTFLAGS:
  case MAIL_IMAP_CODE_BADCHARSET:
    if (a < end && n[a].type == IMAP_N_LIST)
      return imap_string_list(p, a, &r->strs, &r->nstrs, 0);
    if (a < end && r->code == MAIL_IMAP_CODE_PERMANENTFLAGS)
      return sibling_strings(p, a, end, &r->strs, &r->nstrs);
    return 0;
  case MAIL_IMAP_CODE_UIDNEXT:
  case MAIL_IMAP_CODE_UIDVALIDITY:
  case MAIL_IMAP_CODE_UNSEEN:
  case MAIL_IMAP_CODE_HIGHESTMODSEQ:
    if (a < end && imap_node_num(p, a, &r->code_number) == 0)
      r->has_code_number = 1;
    else
      code_defect(p);
    return 0;
  case MAIL_IMAP_CODE_APPENDUID:
  case MAIL_IMAP_CODE_COPYUID:
    if (a >= end || imap_node_num(p, a, &r->code_number) != 0)
      return code_defect(p);
    r->has_code_number = 1;
    /* Exchange sends "COPYUID n  " with both sets empty. */
    r->code_set.p = empty;
    if (b < end && imap_is_string(p, b))
      r->code_set = imap_node_str(p, b);
    else if (r->code == MAIL_IMAP_CODE_APPENDUID && b < end)
      code_defect(p);
    if (r->code == MAIL_IMAP_CODE_COPYUID) {
      r->code_set2.p = empty;
      if (c < end && imap_is_string(p, c))
        r->code_set2 = imap_node_str(p, c);
    }
    return 0;
  case MAIL_IMAP_CODE_MODIFIED:
    if (a < end && imap_is_string(p, a))
      r->code_set = imap_node_str(p, a);
    else
      code_defect(p);
    return 0;
  case MAIL_IMAP_CODE_MAILBOXID:
    if (a < end && n[a].type == IMAP_N_LIST && n[a].count == 1 && imap_is_string(p, a + 1))
      r->code_set = imap_node_str(p, a + 1);
    else
      code_defect(p);
    return 0;
  case MAIL_IMAP_CODE_METADATA: {
    /* RFC 5464 4.2.1, 4.3: LONGENTRIES n, MAXSIZE n, TOOMANY, NOPRIVATE */
    if (a >= end || n[a].type != IMAP_N_ATOM)
      return code_defect(p);
    imap_str w = imap_node_str(p, a);
    int wants_num = imap_str_ieq(w, "LONGENTRIES") || imap_str_ieq(w, "MAXSIZE");
    if (wants_num) {
      if (b < end && imap_node_num(p, b, &r->code_number) == 0)
        r->has_code_number = 1;
      else
        code_defect(p);
    }
    return sibling_strings(p, a, b, &r->strs, &r->nstrs);
  }
  default:
    return 0;
  }
}

/* ------------------------------------------------------------ data */

static const struct {
  const char *name;
  int type;
} names[] = {
  {"CAPABILITY", MAIL_IMAP_TYPE_CAPABILITY}, {"ENABLED", MAIL_IMAP_TYPE_ENABLED},
  {"LIST", MAIL_IMAP_TYPE_LIST},             {"LSUB", MAIL_IMAP_TYPE_LSUB},
  {"NAMESPACE", MAIL_IMAP_TYPE_NAMESPACE},   {"STATUS", MAIL_IMAP_TYPE_STATUS},
  {"FLAGS", MAIL_IMAP_TYPE_FLAGS},           {"EXISTS", MAIL_IMAP_TYPE_EXISTS},
  {"RECENT", MAIL_IMAP_TYPE_RECENT},         {"EXPUNGE", MAIL_IMAP_TYPE_EXPUNGE},
  {"VANISHED", MAIL_IMAP_TYPE_VANISHED},     {"SEARCH", MAIL_IMAP_TYPE_SEARCH},
  {"ESEARCH", MAIL_IMAP_TYPE_ESEARCH},       {"SORT", MAIL_IMAP_TYPE_SORT},
  {"THREAD", MAIL_IMAP_TYPE_THREAD},         {"FETCH", MAIL_IMAP_TYPE_FETCH},
  {"QUOTA", MAIL_IMAP_TYPE_QUOTA},           {"QUOTAROOT", MAIL_IMAP_TYPE_QUOTAROOT},
  {"ACL", MAIL_IMAP_TYPE_ACL},               {"LISTRIGHTS", MAIL_IMAP_TYPE_LISTRIGHTS},
  {"MYRIGHTS", MAIL_IMAP_TYPE_MYRIGHTS},     {"METADATA", MAIL_IMAP_TYPE_METADATA},
};

static int response_defect(mail_imap_parser *p, uint32_t name_i)
{
  uint32_t cnt = imap_node_count(p);
  imap_item_defect(p, MAIL_IMAP_DEFECT_RESPONSE, name_i, cnt ? cnt - 1 : name_i);
  return 0;
}

static int list_response(mail_imap_parser *p, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  if (a >= end || n[a].type != IMAP_N_LIST)
    return response_defect(p, a - 1);
  if (imap_string_list(p, a, &r->strs, &r->nstrs, 0))
    return -1;
  uint32_t d = n[a].next;
  if (d >= end || !imap_is_nstring(p, d))
    return response_defect(p, a - 1);
  imap_str ds = imap_node_str(p, d);
  r->has_delim = 1;
  r->delim = ds.p && ds.n ? ds.p[0] : 0;
  uint32_t m = n[d].next;
  if (m >= end || !imap_is_string(p, m))
    return response_defect(p, a - 1);
  r->mailbox_raw = imap_node_str(p, m);
  r->mailbox = imap_mailbox_name(p, r->mailbox_raw);
  uint32_t x = n[m].next;
  if (x < end && n[x].type == IMAP_N_LIST) {
    r->pairs = imap_arena_array(&p->arena, (n[x].count / 2 + 1), sizeof *r->pairs);
    if (!r->pairs)
      return -1;
    for (uint32_t t = x + 1; t < n[x].next; t = n[t].next) {
      uint32_t v = n[t].next;
      if (v >= n[x].next)
        break;
      imap_pair *pr = &r->pairs[r->npairs++];
      pr->name = imap_node_str(p, t);
      pr->value = raw_span(p, v, v);
      t = v;
    }
  }
  return 0;
}

static int status_response(mail_imap_parser *p, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  if (a >= end || !imap_is_string(p, a))
    return response_defect(p, a - 1);
  r->mailbox_raw = imap_node_str(p, a);
  r->mailbox = imap_mailbox_name(p, r->mailbox_raw);
  uint32_t l = n[a].next;
  if (l >= end || n[l].type != IMAP_N_LIST)
    return response_defect(p, a - 1);
  r->pairs = imap_arena_array(&p->arena, (n[l].count / 2 + 1), sizeof *r->pairs);
  if (!r->pairs)
    return -1;
  for (uint32_t t = l + 1; t < n[l].next; t = n[t].next) {
    uint32_t v = n[t].next;
    uint64_t num;
    /* RFC 8474 4: "MAILBOXID (id)", the one value that is not a number */
    if (v < n[l].next && imap_str_ieq(imap_node_str(p, t), "MAILBOXID") &&
        n[v].type == IMAP_N_LIST && n[v].count == 1 && imap_is_string(p, v + 1)) {
      r->mailboxid = imap_node_str(p, v + 1);
      t = v;
      continue;
    }
    if (v >= n[l].next || !imap_is_string(p, t) || imap_node_num(p, v, &num) != 0) {
      imap_item_defect(p, MAIL_IMAP_DEFECT_ITEM, t, v < n[l].next ? v : t);
      if (v >= n[l].next)
        break;
      t = v;
      continue;
    }
    imap_pair *pr = &r->pairs[r->npairs++];
    pr->name = imap_node_str(p, t);
    pr->num = num;
    t = v;
  }
  return 0;
}

static int namespace_response(mail_imap_parser *p, uint32_t a, uint32_t end)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  size_t total = 0;
  uint32_t c = a;
  for (int cls = 0; cls < 3 && c < end; cls++, c = n[c].next)
    if (n[c].type == IMAP_N_LIST)
      total += n[c].count;
  if (!total)
    return 0;
  r->ns = imap_arena_array(&p->arena, total, sizeof *r->ns);
  if (!r->ns)
    return -1;
  c = a;
  for (int cls = 0; cls < 3 && c < end; cls++, c = n[c].next) {
    if (n[c].type == IMAP_N_NIL)
      continue;
    if (n[c].type != IMAP_N_LIST)
      return response_defect(p, a - 1);
    for (uint32_t e = c + 1; e < n[c].next; e = n[e].next) {
      if (n[e].type != IMAP_N_LIST || n[e].count < 2 || !imap_is_string(p, e + 1) ||
          !imap_is_nstring(p, n[e + 1].next)) {
        imap_item_defect(p, MAIL_IMAP_DEFECT_RESPONSE, e, e);
        continue;
      }
      imap_ns *ns = &r->ns[r->nns++];
      ns->cls = cls;
      ns->prefix = imap_mailbox_name(p, imap_node_str(p, e + 1));
      imap_str d = imap_node_str(p, n[e + 1].next);
      ns->delim = d.p && d.n ? d.p[0] : 0;
    }
  }
  return 0;
}

int imap_interpret(mail_imap_parser *p)
{
  mail_imap_response *r = &p->resp;
  const imap_node *n = imap_nodes(p);
  uint32_t cnt = imap_node_count(p);
  r->tag = imap_node_str(p, 0);
  r->text.p = r->base + p->text_off;
  r->text.n = p->text_len;
  if (r->kind == MAIL_IMAP_KIND_CONTINUATION) {
    r->type = MAIL_IMAP_TYPE_CONTINUE;
    return 0;
  }
  if (p->status) {
    r->type = p->status;
    if (p->greeting && r->kind == MAIL_IMAP_KIND_UNTAGGED &&
        (r->type == MAIL_IMAP_TYPE_OK || r->type == MAIL_IMAP_TYPE_PREAUTH ||
         r->type == MAIL_IMAP_TYPE_BYE))
      r->kind = MAIL_IMAP_KIND_GREETING;
    if (p->has_code)
      return interpret_code(p) ? MAIL_ERR_NOMEM : 0;
    return 0;
  }
  if (cnt < 2)
    return 0;
  uint32_t name = 1;
  uint64_t num;
  if (r->kind == MAIL_IMAP_KIND_UNTAGGED && cnt > 2 && n[1].type == IMAP_N_ATOM &&
      imap_node_num(p, 1, &num) == 0 && n[1].len && p->resp.base[n[1].off] != '-') {
    name = 2;
    if (num <= UINT32_MAX) {
      r->has_number = 1;
      r->number = (uint32_t)num;
    }
  }
  imap_str nm = imap_node_str(p, name);
  r->type = MAIL_IMAP_TYPE_OTHER;
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
    if (imap_str_ieq(nm, names[k].name))
      r->type = names[k].type;
  int with_number = r->type == MAIL_IMAP_TYPE_EXISTS || r->type == MAIL_IMAP_TYPE_RECENT ||
                    r->type == MAIL_IMAP_TYPE_EXPUNGE || r->type == MAIL_IMAP_TYPE_FETCH;
  if (r->kind != MAIL_IMAP_KIND_UNTAGGED || with_number != (name == 2)) {
    if (r->type != MAIL_IMAP_TYPE_OTHER)
      response_defect(p, name);
    r->type = MAIL_IMAP_TYPE_OTHER;
    r->has_number = 0;
    return 0;
  }
  uint32_t a = n[name].next;
  int rc = 0;
  switch (r->type) {
  case MAIL_IMAP_TYPE_CAPABILITY:
  case MAIL_IMAP_TYPE_ENABLED:
    rc = sibling_strings(p, a, cnt, &r->strs, &r->nstrs);
    break;
  case MAIL_IMAP_TYPE_FLAGS:
    if (a < cnt && n[a].type == IMAP_N_LIST)
      rc = imap_string_list(p, a, &r->strs, &r->nstrs, 0);
    else
      response_defect(p, name);
    break;
  case MAIL_IMAP_TYPE_LIST:
  case MAIL_IMAP_TYPE_LSUB:
    rc = list_response(p, a, cnt);
    break;
  case MAIL_IMAP_TYPE_NAMESPACE:
    rc = namespace_response(p, a, cnt);
    break;
  case MAIL_IMAP_TYPE_STATUS:
    rc = status_response(p, a, cnt);
    break;
  case MAIL_IMAP_TYPE_SEARCH:
  case MAIL_IMAP_TYPE_SORT:
  case MAIL_IMAP_TYPE_ESEARCH:
  case MAIL_IMAP_TYPE_THREAD:
  case MAIL_IMAP_TYPE_VANISHED:
    /* read as they arrived, typed then (imap_list.c) */
    break;
  case MAIL_IMAP_TYPE_FETCH:
    if (a < cnt && n[a].type == IMAP_N_LIST)
      rc = imap_interpret_fetch(p, a);
    else
      response_defect(p, name);
    break;
  case MAIL_IMAP_TYPE_QUOTA:
  case MAIL_IMAP_TYPE_QUOTAROOT:
  case MAIL_IMAP_TYPE_ACL:
  case MAIL_IMAP_TYPE_LISTRIGHTS:
  case MAIL_IMAP_TYPE_MYRIGHTS:
  case MAIL_IMAP_TYPE_METADATA:
    rc = imap_interpret_ext(p, name, a, cnt);
    break;
  default:
    break;
  }
  return rc ? MAIL_ERR_NOMEM : 0;
}

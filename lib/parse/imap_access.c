/* The public accessors of IMAP responses, FETCH items, envelopes,
 * addresses, body parts and streamed sections. */
#include "parse/imap_internal.h"

#include <string.h>

#include "core/base64.h"

static const char *str_out(imap_str s, size_t *len)
{
  if (len)
    *len = s.p ? s.n : 0;
  return s.p;
}

int mail_imap_response_kind(const mail_imap_response *r)
{
  return r ? r->kind : 0;
}

int mail_imap_response_type(const mail_imap_response *r)
{
  return r ? r->type : 0;
}

const char *mail_imap_response_tag(const mail_imap_response *r, size_t *len)
{
  if (!r)
    return str_out((imap_str){NULL, 0}, len);
  return str_out(r->tag, len);
}

void mail_imap_response_span(const mail_imap_response *r, uint64_t *start, uint64_t *end)
{
  if (start)
    *start = r ? r->span_start : 0;
  if (end)
    *end = r ? r->span_end : 0;
}

const char *mail_imap_response_text(const mail_imap_response *r, size_t *len)
{
  if (!r)
    return str_out((imap_str){NULL, 0}, len);
  return str_out(r->text, len);
}

int mail_imap_response_text_base64(const mail_imap_response *r, size_t *out_len,
                                   unsigned char *buf, size_t size)
{
  if (!r || !out_len || (!buf && size))
    return MAIL_ERR_INVALID;
  const char *t = r->text.p;
  size_t n = r->text.n;
  if (n % 4)
    return MAIL_ERR_SYNTAX;
  /* group by group, so any buffer size works without scratch memory */
  size_t need = 0;
  for (size_t i = 0; i < n; i += 4) {
    unsigned char g[MAIL_B64_DECODED_MAX(4)];
    if (i + 4 < n && memchr(t + i, '=', 4))
      return MAIL_ERR_SYNTAX;
    long k = mail_b64_decode_strict(t + i, 4, g);
    if (k < 0)
      return MAIL_ERR_SYNTAX;
    for (long j = 0; j < k; j++, need++)
      if (need < size)
        buf[need] = g[j];
  }
  *out_len = need;
  return need > size ? MAIL_ERR_BUFFER : MAIL_OK;
}

int mail_imap_response_number(const mail_imap_response *r, uint32_t *out)
{
  if (!r || !out)
    return MAIL_ERR_INVALID;
  if (!r->has_number)
    return MAIL_ERR_NOT_FOUND;
  *out = r->number;
  return MAIL_OK;
}

int mail_imap_response_code(const mail_imap_response *r)
{
  return r ? r->code : 0;
}

const char *mail_imap_response_code_name(const mail_imap_response *r, size_t *len)
{
  return str_out(r && r->code ? r->code_name : (imap_str){NULL, 0}, len);
}

const char *mail_imap_response_code_raw(const mail_imap_response *r, size_t *len)
{
  return str_out(r && r->code ? r->code_raw : (imap_str){NULL, 0}, len);
}

int mail_imap_response_code_number(const mail_imap_response *r, uint64_t *out)
{
  if (!r || !out)
    return MAIL_ERR_INVALID;
  if (!r->has_code_number)
    return MAIL_ERR_NOT_FOUND;
  *out = r->code_number;
  return MAIL_OK;
}

const char *mail_imap_response_code_set(const mail_imap_response *r, size_t *len)
{
  return str_out(r ? r->code_set : (imap_str){NULL, 0}, len);
}

const char *mail_imap_response_code_set2(const mail_imap_response *r, size_t *len)
{
  return str_out(r ? r->code_set2 : (imap_str){NULL, 0}, len);
}

size_t mail_imap_response_string_count(const mail_imap_response *r)
{
  return r ? r->nstrs : 0;
}

const char *mail_imap_response_string(const mail_imap_response *r, size_t i, size_t *len)
{
  return str_out(r && i < r->nstrs ? r->strs[i] : (imap_str){NULL, 0}, len);
}

const uint32_t *mail_imap_response_numbers(const mail_imap_response *r, size_t *count)
{
  int ok = r && (r->type == MAIL_IMAP_TYPE_SEARCH || r->type == MAIL_IMAP_TYPE_SORT);
  if (count)
    *count = ok ? r->nnums : 0;
  if (!ok)
    return NULL;
  static const uint32_t none[1] = {0};
  return r->nums ? r->nums : none;
}

int mail_imap_response_modseq(const mail_imap_response *r, uint64_t *out)
{
  if (!r || !out)
    return MAIL_ERR_INVALID;
  if (!r->has_modseq)
    return MAIL_ERR_NOT_FOUND;
  *out = r->modseq;
  return MAIL_OK;
}

const char *mail_imap_response_mailbox(const mail_imap_response *r, size_t *len, const char **raw,
                                       size_t *raw_len)
{
  imap_str none = {NULL, 0};
  if (raw)
    *raw = str_out(r ? r->mailbox_raw : none, raw_len);
  return str_out(r ? r->mailbox : none, len);
}

int mail_imap_response_delimiter(const mail_imap_response *r, char *delim)
{
  if (!r || !delim)
    return MAIL_ERR_INVALID;
  if (!r->has_delim)
    return MAIL_ERR_NOT_FOUND;
  *delim = r->delim;
  return MAIL_OK;
}

static int pair_out(const mail_imap_response *r, size_t i, const char **a, size_t *an,
                    const char **b, size_t *bn)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (i >= r->npairs)
    return MAIL_ERR_NOT_FOUND;
  const char *s = str_out(r->pairs[i].name, an);
  if (a)
    *a = s;
  s = str_out(r->pairs[i].value, bn);
  if (b)
    *b = s;
  return MAIL_OK;
}

int mail_imap_response_list_ext(const mail_imap_response *r, size_t i, const char **tag,
                                size_t *tag_len, const char **raw, size_t *raw_len)
{
  if (r && r->type != MAIL_IMAP_TYPE_LIST && r->type != MAIL_IMAP_TYPE_LSUB)
    return MAIL_ERR_NOT_FOUND;
  return pair_out(r, i, tag, tag_len, raw, raw_len);
}

int mail_imap_response_status_item(const mail_imap_response *r, size_t i, const char **name,
                                   size_t *name_len, uint64_t *value)
{
  if (r && r->type != MAIL_IMAP_TYPE_STATUS)
    return MAIL_ERR_NOT_FOUND;
  int rc = pair_out(r, i, name, name_len, NULL, NULL);
  if (!rc && value)
    *value = r->pairs[i].num;
  return rc;
}

int mail_imap_response_namespace(const mail_imap_response *r, int cls, size_t i,
                                 const char **prefix, size_t *prefix_len, char *delim)
{
  if (!r)
    return MAIL_ERR_INVALID;
  for (size_t k = 0; k < r->nns; k++) {
    if (r->ns[k].cls != cls)
      continue;
    if (i--)
      continue;
    const char *s = str_out(r->ns[k].prefix, prefix_len);
    if (prefix)
      *prefix = s;
    if (delim)
      *delim = r->ns[k].delim;
    return MAIL_OK;
  }
  return MAIL_ERR_NOT_FOUND;
}

const char *mail_imap_response_set(const mail_imap_response *r, size_t *len)
{
  return str_out(r ? r->set : (imap_str){NULL, 0}, len);
}

size_t mail_imap_response_range_count(const mail_imap_response *r)
{
  return r ? r->nranges : 0;
}

int mail_imap_response_range(const mail_imap_response *r, size_t i, uint32_t *first,
                             uint32_t *last)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (i >= r->nranges)
    return MAIL_ERR_NOT_FOUND;
  if (first)
    *first = r->ranges[i].first;
  if (last)
    *last = r->ranges[i].last;
  return MAIL_OK;
}

int mail_imap_response_earlier(const mail_imap_response *r)
{
  return r ? r->earlier : 0;
}

int mail_imap_response_esearch(const mail_imap_response *r, const char **tag, size_t *tag_len,
                               int *uid)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (!r->is_esearch)
    return MAIL_ERR_NOT_FOUND;
  const char *s = str_out(r->esearch_tag, tag_len);
  if (tag)
    *tag = s;
  if (uid)
    *uid = r->esearch_uid;
  return MAIL_OK;
}

int mail_imap_response_esearch_item(const mail_imap_response *r, size_t i, const char **name,
                                    size_t *name_len, const char **value, size_t *value_len)
{
  if (r && !r->is_esearch)
    return MAIL_ERR_NOT_FOUND;
  return pair_out(r, i, name, name_len, value, value_len);
}

int mail_imap_response_thread_node(const mail_imap_response *r, size_t i, uint32_t *number,
                                   size_t *parent)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (i >= r->nthread)
    return MAIL_ERR_NOT_FOUND;
  if (number)
    *number = r->thread[i].number;
  if (parent)
    *parent = r->thread[i].parent == UINT32_MAX ? SIZE_MAX : r->thread[i].parent;
  return MAIL_OK;
}

size_t mail_imap_response_defect_count(const mail_imap_response *r)
{
  return r ? r->ndefects : 0;
}

int mail_imap_response_defect(const mail_imap_response *r, size_t i, int *kind, const char **item,
                              size_t *item_len, const char **raw, size_t *raw_len)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (i >= r->ndefects)
    return MAIL_ERR_NOT_FOUND;
  const imap_defect *d = &r->defects[i];
  if (kind)
    *kind = d->kind;
  const char *b = d->copied ? r->copied : r->base;
  if (item)
    *item = d->has_item ? b + d->item_off : NULL;
  if (item_len)
    *item_len = d->has_item ? d->item_len : 0;
  if (raw)
    *raw = d->raw_len ? b + d->raw_off : r->base;
  if (raw_len)
    *raw_len = d->raw_len;
  return MAIL_OK;
}

/* ------------------------------------------------------------ FETCH */

int mail_imap_fetch_has(const mail_imap_response *r, int item)
{
  if (!r || r->type != MAIL_IMAP_TYPE_FETCH || item < 0 || item > MAIL_IMAP_ITEM_SAVEDATE)
    return 0;
  return (r->items >> item) & 1;
}

int mail_imap_fetch_number(const mail_imap_response *r, int item, uint64_t *out)
{
  if (!r || !out)
    return MAIL_ERR_INVALID;
  const uint64_t *v;
  switch (item) {
  case MAIL_IMAP_ITEM_UID: v = &r->uid; break;
  case MAIL_IMAP_ITEM_RFC822_SIZE: v = &r->rfc822_size; break;
  case MAIL_IMAP_ITEM_MODSEQ: v = &r->modseq_item; break;
  case MAIL_IMAP_ITEM_GM_MSGID: v = &r->gm_msgid; break;
  case MAIL_IMAP_ITEM_GM_THRID: v = &r->gm_thrid; break;
  default: return MAIL_ERR_INVALID;
  }
  if (!mail_imap_fetch_has(r, item))
    return MAIL_ERR_NOT_FOUND;
  *out = *v;
  return MAIL_OK;
}

const char *mail_imap_fetch_string(const mail_imap_response *r, int item, size_t *len)
{
  imap_str s = {NULL, 0};
  if (mail_imap_fetch_has(r, item)) {
    switch (item) {
    case MAIL_IMAP_ITEM_INTERNALDATE: s = r->internaldate; break;
    case MAIL_IMAP_ITEM_EMAILID: s = r->emailid; break;
    case MAIL_IMAP_ITEM_THREADID: s = r->threadid; break;
    case MAIL_IMAP_ITEM_PREVIEW: s = r->preview; break;
    case MAIL_IMAP_ITEM_SAVEDATE: s = r->savedate; break;
    default: break;
    }
  }
  return str_out(s, len);
}

static int num2(const char *s)
{
  return (s[0] - '0') * 10 + (s[1] - '0');
}

static int isd(char c)
{
  return c >= '0' && c <= '9';
}

int mail_imap_fetch_internaldate(const mail_imap_response *r, int64_t *out)
{
  if (!r || !out)
    return MAIL_ERR_INVALID;
  if (!mail_imap_fetch_has(r, MAIL_IMAP_ITEM_INTERNALDATE))
    return MAIL_ERR_NOT_FOUND;
  /* "dd-Mon-yyyy hh:mm:ss +zzzz", day possibly " d" */
  imap_str s = r->internaldate;
  char d[26];
  if (s.n != 26 && s.n != 25)
    return MAIL_ERR_SYNTAX;
  if (s.n == 25) {
    d[0] = ' ';
    memcpy(d + 1, s.p, 25);
  } else {
    memcpy(d, s.p, 26);
  }
  if (d[0] == ' ')
    d[0] = '0';
  static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  int mon = -1;
  for (int k = 0; k < 12; k++)
    if ((d[3] | 32) == (months[3 * k] | 32) && (d[4] | 32) == (months[3 * k + 1] | 32) &&
        (d[5] | 32) == (months[3 * k + 2] | 32))
      mon = k;
  static const int pos[] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25};
  for (size_t k = 0; k < sizeof pos / sizeof pos[0]; k++)
    if (!isd(d[pos[k]]))
      return MAIL_ERR_SYNTAX;
  if (mon < 0 || d[2] != '-' || d[6] != '-' || d[11] != ' ' || d[14] != ':' || d[17] != ':' ||
      d[20] != ' ' || (d[21] != '+' && d[21] != '-'))
    return MAIL_ERR_SYNTAX;
  int day = num2(d), year = num2(d + 7) * 100 + num2(d + 9);
  int hh = num2(d + 12), mm = num2(d + 15), ss = num2(d + 18);
  int zone = num2(d + 22) * 60 + num2(d + 24);
  if (d[21] == '-')
    zone = -zone;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > mdays[mon] + (mon == 1 && leap) || hh > 23 || mm > 59 || ss > 60)
    return MAIL_ERR_SYNTAX;
  /* days from civil (Howard Hinnant's algorithm) */
  int y = year - (mon < 2);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int mp = (mon + 10) % 12;
  int doy = (153 * mp + 2) / 5 + day - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = (int64_t)era * 146097 + doe - 719468;
  *out = days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)zone * 60;
  return MAIL_OK;
}

size_t mail_imap_fetch_flag_count(const mail_imap_response *r)
{
  return mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS) ? r->nflags : 0;
}

const char *mail_imap_fetch_flag(const mail_imap_response *r, size_t i, size_t *len)
{
  return str_out(i < mail_imap_fetch_flag_count(r) ? r->flags[i] : (imap_str){NULL, 0}, len);
}

size_t mail_imap_fetch_label_count(const mail_imap_response *r)
{
  return mail_imap_fetch_has(r, MAIL_IMAP_ITEM_GM_LABELS) ? r->nlabels : 0;
}

const char *mail_imap_fetch_label(const mail_imap_response *r, size_t i, size_t *len)
{
  return str_out(i < mail_imap_fetch_label_count(r) ? r->labels[i] : (imap_str){NULL, 0}, len);
}

int mail_imap_fetch_binary_size(const mail_imap_response *r, size_t i, const char **section,
                                size_t *section_len, uint64_t *size)
{
  if (!r)
    return MAIL_ERR_INVALID;
  if (r->type != MAIL_IMAP_TYPE_FETCH || i >= r->nbinsizes)
    return MAIL_ERR_NOT_FOUND;
  const char *s = str_out(r->binsizes[i].name, section_len);
  if (section)
    *section = s;
  if (size)
    *size = r->binsizes[i].num;
  return MAIL_OK;
}

const mail_imap_envelope *mail_imap_fetch_envelope(const mail_imap_response *r)
{
  return mail_imap_fetch_has(r, MAIL_IMAP_ITEM_ENVELOPE) ? r->env : NULL;
}

const mail_imap_body *mail_imap_fetch_body(const mail_imap_response *r)
{
  return mail_imap_fetch_has(r, MAIL_IMAP_ITEM_BODYSTRUCTURE) ? r->body : NULL;
}

size_t mail_imap_fetch_section_count(const mail_imap_response *r)
{
  return r && r->type == MAIL_IMAP_TYPE_FETCH ? r->nsections : 0;
}

const mail_imap_section *mail_imap_fetch_section(const mail_imap_response *r, size_t i)
{
  return i < mail_imap_fetch_section_count(r) ? r->sections[i] : NULL;
}

/* ------------------------------------------------------------ sections */

const char *mail_imap_section_item(const mail_imap_section *s, size_t *len)
{
  return str_out(s ? s->item : (imap_str){NULL, 0}, len);
}

const char *mail_imap_section_spec(const mail_imap_section *s, size_t *len)
{
  return str_out(s ? s->spec : (imap_str){NULL, 0}, len);
}

int mail_imap_section_origin(const mail_imap_section *s, uint64_t *out)
{
  if (!s || !out)
    return MAIL_ERR_INVALID;
  if (!s->has_origin)
    return MAIL_ERR_NOT_FOUND;
  *out = s->origin;
  return MAIL_OK;
}

uint64_t mail_imap_section_size(const mail_imap_section *s)
{
  return s ? s->size : 0;
}

int mail_imap_section_is_nil(const mail_imap_section *s)
{
  return s ? s->nil : 0;
}

uint32_t mail_imap_section_message(const mail_imap_section *s)
{
  return s ? s->msg : 0;
}

/* ------------------------------------------------------------ envelope */

const char *mail_imap_envelope_field(const mail_imap_envelope *e, int field, size_t *len)
{
  return str_out(e && field >= 0 && field < 4 ? e->f[field] : (imap_str){NULL, 0}, len);
}

size_t mail_imap_envelope_address_count(const mail_imap_envelope *e, int field)
{
  return e && field >= 0 && field < 6 ? e->na[field] : 0;
}

const mail_imap_address *mail_imap_envelope_address(const mail_imap_envelope *e, int field,
                                                    size_t i)
{
  return i < mail_imap_envelope_address_count(e, field) ? &e->a[field][i] : NULL;
}

const char *mail_imap_address_name(const mail_imap_address *a, size_t *len)
{
  return str_out(a ? a->name : (imap_str){NULL, 0}, len);
}

const char *mail_imap_address_adl(const mail_imap_address *a, size_t *len)
{
  return str_out(a ? a->adl : (imap_str){NULL, 0}, len);
}

const char *mail_imap_address_mailbox(const mail_imap_address *a, size_t *len)
{
  return str_out(a ? a->mailbox : (imap_str){NULL, 0}, len);
}

const char *mail_imap_address_host(const mail_imap_address *a, size_t *len)
{
  return str_out(a ? a->host : (imap_str){NULL, 0}, len);
}

/* ------------------------------------------------------------ body */

int mail_imap_body_is_multipart(const mail_imap_body *b)
{
  return b ? b->multipart : 0;
}

size_t mail_imap_body_child_count(const mail_imap_body *b)
{
  return b ? b->nchild : 0;
}

const mail_imap_body *mail_imap_body_child(const mail_imap_body *b, size_t i)
{
  return b && i < b->nchild ? &b->child[i] : NULL;
}

const mail_imap_body *mail_imap_body_parent(const mail_imap_body *b)
{
  return b ? b->parent : NULL;
}

const char *mail_imap_body_field(const mail_imap_body *b, int field, size_t *len)
{
  return str_out(b && field >= 0 && field < 8 ? b->f[field] : (imap_str){NULL, 0}, len);
}

size_t mail_imap_body_param_count(const mail_imap_body *b, int list)
{
  return b && (list == 0 || list == 1) ? b->nparams[list] : 0;
}

int mail_imap_body_param(const mail_imap_body *b, int list, size_t i, const char **name,
                         size_t *name_len, const char **value, size_t *value_len)
{
  if (!b)
    return MAIL_ERR_INVALID;
  if (i >= mail_imap_body_param_count(b, list))
    return MAIL_ERR_NOT_FOUND;
  const char *s = str_out(b->params[list][i].name, name_len);
  if (name)
    *name = s;
  s = str_out(b->params[list][i].value, value_len);
  if (value)
    *value = s;
  return MAIL_OK;
}

size_t mail_imap_body_language_count(const mail_imap_body *b)
{
  return b ? b->nlang : 0;
}

const char *mail_imap_body_language(const mail_imap_body *b, size_t i, size_t *len)
{
  return str_out(b && i < b->nlang ? b->lang[i] : (imap_str){NULL, 0}, len);
}

int mail_imap_body_size(const mail_imap_body *b, uint64_t *out)
{
  if (!b || !out)
    return MAIL_ERR_INVALID;
  if (!b->has_size)
    return MAIL_ERR_NOT_FOUND;
  *out = b->size;
  return MAIL_OK;
}

int mail_imap_body_lines(const mail_imap_body *b, uint64_t *out)
{
  if (!b || !out)
    return MAIL_ERR_INVALID;
  if (!b->has_lines)
    return MAIL_ERR_NOT_FOUND;
  *out = b->lines;
  return MAIL_OK;
}

const mail_imap_envelope *mail_imap_body_envelope(const mail_imap_body *b)
{
  return b ? b->env : NULL;
}

const char *mail_imap_body_extension(const mail_imap_body *b, size_t *len)
{
  return str_out(b ? b->ext : (imap_str){NULL, 0}, len);
}

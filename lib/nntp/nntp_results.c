/* What the reading commands left in the session: the current group and
 * article, LISTGROUP numbers, overview records, HDR values, LIST lines. */
#include <string.h>

#include "nntp/nntp_internal.h"

const char *mail_nntp_current_group(const mail_nntp *n)
{
  return n && n->group.len ? (const char *)n->group.data : NULL;
}

const char *mail_nntp_current_article(const mail_nntp *n, uint64_t *number)
{
  if (number)
    *number = n ? n->cur_number : 0;
  return n && n->cur_msgid.len ? (const char *)n->cur_msgid.data : NULL;
}

size_t mail_nntp_listgroup_count(const mail_nntp *n)
{
  return n ? n->nlistgroup : 0;
}

uint64_t mail_nntp_listgroup_at(const mail_nntp *n, size_t i)
{
  if (!n || i >= n->nlistgroup)
    return 0;
  uint64_t v;
  memcpy(&v, n->listgroup.data + i * sizeof v, sizeof v);
  return v;
}

/* ------------------------------------------------------------ overview */

size_t mail_nntp_over_count(const mail_nntp *n)
{
  return n ? n->over.nrows : 0;
}

const mail_nntp_overview *mail_nntp_over_at(const mail_nntp *n, size_t i)
{
  return n ? nntp_table_at(&n->over, i) : NULL;
}

size_t mail_nntp_over_extra_count(const mail_nntp *n)
{
  return n && n->nfmt > 7 ? n->nfmt - 7 : 0;
}

const char *mail_nntp_over_extra_name(const mail_nntp *n, size_t j)
{
  if (!n || j >= mail_nntp_over_extra_count(n))
    return NULL;
  return (const char *)n->fmt_text.data + n->fmt_off[7 + j];
}

uint64_t mail_nntp_overview_number(const mail_nntp_overview *r)
{
  return r ? r->number : 0;
}

const char *mail_nntp_overview_field(const mail_nntp_overview *r, int f, size_t *len)
{
  if (!r || f < MAIL_NNTP_OVER_SUBJECT || f > MAIL_NNTP_OVER_LINES)
    return NULL;
  const char *v = nntp_row_field(r, (size_t)f, len);
  if (v)
    return v;
  if (len)
    *len = 0; /* the server sent fewer fields */
  return "";
}

uint64_t mail_nntp_overview_bytes(const mail_nntp_overview *r)
{
  return r ? r->bytes : 0;
}

uint64_t mail_nntp_overview_lines(const mail_nntp_overview *r)
{
  return r ? r->lines : 0;
}

const char *mail_nntp_overview_extra(const mail_nntp_overview *r, size_t j, size_t *len)
{
  return r && j <= SIZE_MAX - 7 ? nntp_row_field(r, 7 + j, len) : NULL;
}

/* ----------------------------------------------------------------- HDR */

size_t mail_nntp_hdr_count(const mail_nntp *n)
{
  return n ? n->hdr.nrows : 0;
}

const char *mail_nntp_hdr_at(const mail_nntp *n, size_t i, uint64_t *number, size_t *len)
{
  const nntp_row *r = n ? nntp_table_at(&n->hdr, i) : NULL;
  if (!r)
    return NULL;
  if (number)
    *number = r->number;
  return nntp_row_field(r, 0, len);
}

/* ---------------------------------------------------------------- LIST */

size_t mail_nntp_list_count(const mail_nntp *n)
{
  return n ? n->list.nrows : 0;
}

size_t mail_nntp_list_field_count(const mail_nntp *n, size_t i)
{
  const nntp_row *r = n ? nntp_table_at(&n->list, i) : NULL;
  return r ? r->nfields : 0;
}

const char *mail_nntp_list_field(const mail_nntp *n, size_t i, size_t j, size_t *len)
{
  return n ? nntp_row_field(nntp_table_at(&n->list, i), j, len) : NULL;
}

const char *mail_nntp_list_active_at(const mail_nntp *n, size_t i, uint64_t *high, uint64_t *low,
                                     const char **status)
{
  const nntp_row *r = n ? nntp_table_at(&n->list, i) : NULL;
  if (!r || r->nfields != 4)
    return NULL;
  size_t hl, ll;
  const char *h = nntp_row_field(r, 1, &hl), *l = nntp_row_field(r, 2, &ll);
  uint64_t hv, lv;
  size_t hi = 0, li = 0;
  if (!mail_nntp_number(h, hl, &hi, &hv) || hi != hl || !mail_nntp_number(l, ll, &li, &lv) ||
      li != ll)
    return NULL;
  if (high)
    *high = hv;
  if (low)
    *low = lv;
  if (status)
    *status = nntp_row_field(r, 3, NULL);
  return nntp_row_field(r, 0, NULL);
}

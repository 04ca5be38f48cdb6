/* Result tables of split lines (LIST, OVER, HDR): every field is copied
 * once into one text buffer, NUL-terminated; rows name runs of fields by
 * index, so the buffers may grow without invalidating anything kept. */
#include <string.h>

#include "nntp/nntp_internal.h"

void nntp_table_init(nntp_table *t, const mail_allocator *a)
{
  memset(t, 0, sizeof *t);
  mail_buf_init(&t->text, a, 0);
  mail_buf_init(&t->rows, a, 0);
  mail_buf_init(&t->fields, a, 0);
}

void nntp_table_free(nntp_table *t)
{
  mail_buf_free(&t->text);
  mail_buf_free(&t->rows);
  mail_buf_free(&t->fields);
  t->nrows = t->nfields = 0;
}

void nntp_table_clear(nntp_table *t)
{
  mail_buf_clear(&t->text);
  mail_buf_clear(&t->rows);
  mail_buf_clear(&t->fields);
  t->nrows = t->nfields = 0;
}

int nntp_table_row(nntp_table *t, uint64_t number, size_t max_items)
{
  if (t->nrows >= max_items)
    return MAIL_ERR_LIMIT;
  nntp_row r = {.t = t, .number = number, .field0 = t->nfields};
  int rc = mail_buf_append(&t->rows, &r, sizeof r);
  if (!rc)
    t->nrows++;
  return rc;
}

int nntp_table_field(nntp_table *t, const char *s, size_t len)
{
  if (t->text.len > UINT32_MAX - len - 1 || !t->nrows)
    return MAIL_ERR_LIMIT;
  nntp_field f = {(uint32_t)t->text.len, (uint32_t)len};
  int rc = mail_buf_reserve(&t->text, len + 1);
  if (!rc)
    rc = mail_buf_reserve(&t->fields, sizeof f);
  if (rc)
    return rc;
  memcpy(t->text.data + t->text.len, s, len);
  t->text.data[t->text.len + len] = '\0';
  t->text.len += len + 1;
  memcpy(t->fields.data + t->fields.len, &f, sizeof f);
  t->fields.len += sizeof f;
  t->nfields++;
  nntp_row *r = (nntp_row *)(void *)t->rows.data + (t->nrows - 1);
  r->nfields++;
  return MAIL_OK;
}

const nntp_row *nntp_table_at(const nntp_table *t, size_t i)
{
  if (i >= t->nrows)
    return NULL;
  return (const nntp_row *)(const void *)t->rows.data + i;
}

const char *nntp_row_field(const nntp_row *r, size_t j, size_t *len)
{
  if (!r || j >= r->nfields)
    return NULL;
  const nntp_field *f = (const nntp_field *)(const void *)r->t->fields.data + r->field0 + j;
  if (len)
    *len = f->len;
  return (const char *)r->t->text.data + f->off;
}

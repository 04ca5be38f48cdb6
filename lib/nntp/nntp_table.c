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

int nntp_table_split_row(nntp_table *t, uint64_t number, const char *s, size_t len, char sep,
                         size_t maxf, size_t max_items)
{
  if (t->text.len > UINT32_MAX - len - 1)
    return MAIL_ERR_LIMIT;
  /* Room first (reserving changes nothing), then the row: nothing to
   * undo. The calls only when the room is not there already. */
  int rc = MAIL_OK;
  if (t->text.cap - t->text.len < len + 1)
    rc = mail_buf_reserve(&t->text, len + 1);
  if (!rc && t->fields.cap - t->fields.len < maxf * sizeof(nntp_field))
    rc = mail_buf_reserve(&t->fields, maxf * sizeof(nntp_field));
  if (!rc && t->nrows >= max_items)
    rc = MAIL_ERR_LIMIT;
  if (!rc && t->rows.cap - t->rows.len < sizeof(nntp_row))
    rc = mail_buf_reserve(&t->rows, sizeof(nntp_row));
  if (rc)
    return rc;
  nntp_row *row = (nntp_row *)(void *)(t->rows.data + t->rows.len);
  *row = (nntp_row){.t = t, .number = number, .field0 = t->nfields};
  t->rows.len += sizeof *row;
  t->nrows++;
  char *text = (char *)t->text.data + t->text.len;
  memcpy(text, s, len);
  text[len] = '\0';
  nntp_field *f = (nntp_field *)(void *)(t->fields.data + t->fields.len);
  size_t k = 0, start = 0;
  for (;;) {
    const char *e = memchr(text + start, sep, len - start);
    size_t end = e ? (size_t)(e - text) : len;
    f[k].off = (uint32_t)(t->text.len + start);
    f[k].len = (uint32_t)(end - start);
    text[end] = '\0';
    k++;
    if (!e || k == maxf)
      break;
    start = end + 1;
  }
  t->text.len += len + 1;
  t->fields.len += k * sizeof *f;
  t->nfields += k;
  row->nfields = (uint32_t)k;
  return MAIL_OK;
}

void nntp_table_expect(nntp_table *t, size_t rows, size_t fields, size_t text_bytes)
{
  if (rows && mail_buf_reserve(&t->rows, rows * sizeof(nntp_row)) == MAIL_OK &&
      mail_buf_reserve(&t->fields, rows * fields * sizeof(nntp_field)) == MAIL_OK)
    (void)mail_buf_reserve(&t->text, rows * text_bytes);
}

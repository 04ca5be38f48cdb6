#include "core/cmdq.h"

#include <string.h>

#include "core/mem.h"

void mail_cmdq_init(mail_cmdq *q, const mail_allocator *a, size_t limit)
{
  memset(q, 0, sizeof *q);
  q->alloc = a;
  q->limit = limit ? limit : 100000;
}

void mail_cmdq_free(mail_cmdq *q)
{
  mail_dealloc(q->alloc, q->items);
  q->items = NULL;
  q->head = q->count = q->cap = 0;
}

static mail_cmd *slot(const mail_cmdq *q, size_t i)
{
  return &q->items[(q->head + i) % q->cap];
}

int mail_cmdq_push(mail_cmdq *q, const mail_cmd *c)
{
  if (q->count >= q->limit)
    return MAIL_ERR_LIMIT;
  if (q->count == q->cap) {
    size_t ncap = q->cap ? q->cap * 2 : 16;
    mail_cmd *n = mail_malloc(q->alloc, ncap * sizeof *n);
    if (!n)
      return MAIL_ERR_NOMEM;
    for (size_t i = 0; i < q->count; i++)
      n[i] = *slot(q, i);
    mail_dealloc(q->alloc, q->items);
    q->items = n;
    q->cap = ncap;
    q->head = 0;
  }
  *slot(q, q->count) = *c;
  q->count++;
  return MAIL_OK;
}

mail_cmd *mail_cmdq_head(mail_cmdq *q)
{
  return q->count ? slot(q, 0) : NULL;
}

mail_cmd *mail_cmdq_at(mail_cmdq *q, size_t i)
{
  return i < q->count ? slot(q, i) : NULL;
}

int mail_cmdq_pop(mail_cmdq *q, mail_cmd *out)
{
  return mail_cmdq_remove_at(q, 0, out);
}

int mail_cmdq_remove_at(mail_cmdq *q, size_t i, mail_cmd *out)
{
  if (i >= q->count)
    return 0;
  if (out)
    *out = *slot(q, i);
  if (i == 0) {
    q->head = (q->head + 1) % q->cap;
  } else {
    for (size_t k = i; k + 1 < q->count; k++)
      *slot(q, k) = *slot(q, k + 1);
  }
  q->count--;
  return 1;
}

long mail_cmdq_find(const mail_cmdq *q, uint32_t tag)
{
  for (size_t i = 0; i < q->count; i++)
    if (slot(q, i)->tag == tag)
      return (long)i;
  return -1;
}

size_t mail_cmdq_count(const mail_cmdq *q)
{
  return q->count;
}

void mail_cmdq_clear(mail_cmdq *q)
{
  q->head = q->count = 0;
}

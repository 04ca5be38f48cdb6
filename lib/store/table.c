/* The maildir store's hash table (table.h). */
#include "store/table.h"

#include <string.h>

#include "core/mem.h"

char store_tomb[1];

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

void store_table_init(store_table *t, const mail_allocator *a)
{
  memset(t, 0, sizeof *t);
  t->alloc = a;
}

void store_table_free(store_table *t)
{
  for (size_t i = 0; i < t->cap; i++)
    if (store_entry_live(&t->slots[i]))
      mail_dealloc(t->alloc, t->slots[i].key);
  mail_dealloc(t->alloc, t->slots);
  const mail_allocator *a = t->alloc;
  store_table_init(t, a);
}

static store_entry *find(const store_table *t, const char *key, store_entry **free_slot)
{
  *free_slot = NULL;
  if (!t->cap)
    return NULL;
  size_t mask = t->cap - 1;
  for (size_t i = (size_t)hash(key) & mask;; i = (i + 1) & mask) {
    store_entry *e = &t->slots[i];
    if (!e->key) {
      if (!*free_slot)
        *free_slot = e;
      return NULL;
    }
    if (e->key == store_tomb) {
      if (!*free_slot)
        *free_slot = e;
    } else if (strcmp(e->key, key) == 0) {
      return e;
    }
  }
}

static int grow(store_table *t)
{
  size_t cap = t->cap ? t->cap : 16;
  /* Double when live entries fill half; rebuild in place of tombstones. */
  while (t->count + 1 > cap / 2)
    cap *= 2;
  if (cap > SIZE_MAX / sizeof(store_entry))
    return MAIL_ERR_NOMEM;
  store_entry *slots = mail_calloc(t->alloc, cap, sizeof *slots);
  if (!slots)
    return MAIL_ERR_NOMEM;
  for (size_t i = 0; i < t->cap; i++) {
    store_entry *e = &t->slots[i];
    if (!store_entry_live(e))
      continue;
    size_t mask = cap - 1;
    size_t j = (size_t)hash(e->key) & mask;
    while (slots[j].key)
      j = (j + 1) & mask;
    slots[j] = *e;
  }
  mail_dealloc(t->alloc, t->slots);
  t->slots = slots;
  t->cap = cap;
  t->used = t->count;
  return MAIL_OK;
}

int store_table_put(store_table *t, const char *key, const char *val, int64_t num)
{
  size_t kl = strlen(key), vl = strlen(val);
  char *block = mail_malloc(t->alloc, kl + vl + 2);
  if (!block)
    return MAIL_ERR_NOMEM;
  memcpy(block, key, kl + 1);
  memcpy(block + kl + 1, val, vl + 1);
  store_entry *slot;
  store_entry *e = find(t, key, &slot);
  if (e) {
    mail_dealloc(t->alloc, e->key);
    e->key = block;
    e->val = block + kl + 1;
    e->num = num;
    return MAIL_OK;
  }
  if (!slot || (!slot->key && t->used + 1 > t->cap * 3 / 4)) {
    int rc = grow(t);
    if (rc) {
      mail_dealloc(t->alloc, block);
      return rc;
    }
    find(t, key, &slot);
  }
  if (!slot->key)
    t->used++;
  slot->key = block;
  slot->val = block + kl + 1;
  slot->num = num;
  t->count++;
  return MAIL_OK;
}

store_entry *store_table_get(const store_table *t, const char *key)
{
  store_entry *slot;
  return find(t, key, &slot);
}

int store_table_del(store_table *t, const char *key)
{
  store_entry *slot;
  store_entry *e = find(t, key, &slot);
  if (!e)
    return 0;
  mail_dealloc(t->alloc, e->key);
  e->key = store_tomb;
  e->val = NULL;
  t->count--;
  return 1;
}

/* A string-keyed hash table with open addressing, for the maildir store:
 * the index of where each message is and the key map. Each entry holds its
 * key and value strings in one allocation, and a number. */
#ifndef MAIL_STORE_TABLE_H
#define MAIL_STORE_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <mail/common.h>

typedef struct store_entry {
  char *key;  /* NULL: empty slot; store_tomb: a removed one */
  char *val;  /* inside the key's allocation */
  int64_t num;
} store_entry;

typedef struct store_table {
  store_entry *slots;
  size_t cap;    /* a power of two, or 0 */
  size_t count;  /* live entries */
  size_t used;   /* live + removed (probing stops only at empty slots) */
  const mail_allocator *alloc;
} store_table;

extern char store_tomb[1];

void store_table_init(store_table *t, const mail_allocator *a);
void store_table_free(store_table *t);
/* Insert or replace. MAIL_ERR_NOMEM. */
int store_table_put(store_table *t, const char *key, const char *val, int64_t num);
store_entry *store_table_get(const store_table *t, const char *key);
/* 1 when key was there. */
int store_table_del(store_table *t, const char *key);

static inline int store_entry_live(const store_entry *e)
{
  return e->key && e->key != store_tomb;
}

#endif

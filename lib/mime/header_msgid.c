/* Message-ID, In-Reply-To and References lists (RFC 5322 3.6.4). */
#include <string.h>

#include "core/mem.h"
#include "mime/mime_internal.h"

struct mail_msgid_list {
  mail_allocator alloc;
  char **v;
  size_t n, cap;
};

int mail_msgid_list_parse(mail_msgid_list **out, const char *s, size_t n, unsigned int *defects,
                          const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || (!s && n) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_msgid_list *l = mail_calloc(&a, 1, sizeof *l);
  if (!l)
    return MAIL_ERR_NOMEM;
  l->alloc = a;
  unsigned int bad = 0;
  size_t i = 0;
  while (i < n) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
      i++;
      continue;
    }
    if (c == '(') {
      int depth = 0;
      while (i < n) {
        char ch = s[i++];
        if (ch == '\\' && i < n) i++;
        else if (ch == '(') depth++;
        else if (ch == ')' && --depth == 0) break;
      }
      continue;
    }
    if (c != '<') {
      /* obsolete phrase or garbage: skip the word */
      bad++;
      while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '<' && s[i] != '\r' && s[i] != '\n')
        i++;
      continue;
    }
    size_t st = ++i;
    while (i < n && s[i] != '>' && s[i] != '<')
      i++;
    if (i >= n || s[i] != '>') {
      bad++;
      continue;
    }
    size_t e = i++;
    /* folding inside the brackets is removed */
    char *id = mail_malloc(&a, e - st + 1);
    if (!id) {
      mail_msgid_list_free(l);
      return MAIL_ERR_NOMEM;
    }
    size_t o = 0;
    for (size_t k = st; k < e; k++)
      if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r' && s[k] != '\n')
        id[o++] = s[k];
    id[o] = 0;
    if (!o || !strchr(id, '@'))
      bad++;
    if (!o) {
      mail_dealloc(&a, id);
      continue;
    }
    if (l->n == l->cap) {
      size_t nc = l->cap ? l->cap * 2 : 4;
      char **nv = mail_realloc(&a, l->v, nc * sizeof *nv);
      if (!nv) {
        mail_dealloc(&a, id);
        mail_msgid_list_free(l);
        return MAIL_ERR_NOMEM;
      }
      l->v = nv;
      l->cap = nc;
    }
    l->v[l->n++] = id;
  }
  if (defects)
    *defects = bad;
  *out = l;
  return MAIL_OK;
}

size_t mail_msgid_list_count(const mail_msgid_list *l)
{
  return l ? l->n : 0;
}

const char *mail_msgid_list_get(const mail_msgid_list *l, size_t i)
{
  return l && i < l->n ? l->v[i] : NULL;
}

void mail_msgid_list_free(mail_msgid_list *l)
{
  if (!l)
    return;
  mail_allocator a = l->alloc;
  for (size_t i = 0; i < l->n; i++)
    mail_dealloc(&a, l->v[i]);
  mail_dealloc(&a, l->v);
  mail_dealloc(&a, l);
}

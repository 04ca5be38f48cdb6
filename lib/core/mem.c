#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t n, void *u) { (void)u; return malloc(n); }
static void libc_free(void *p, void *u) { (void)u; free(p); }
static void *libc_calloc(size_t n, size_t s, void *u) { (void)u; return calloc(n, s); }
static void *libc_realloc(void *p, size_t n, void *u) { (void)u; return realloc(p, n); }

static const mail_allocator libc_allocator = {
  NULL, libc_malloc, libc_free, libc_calloc, libc_realloc
};

int mail_alloc_init(mail_allocator *dst, const mail_allocator *src)
{
  if (!src) {
    *dst = libc_allocator;
    return MAIL_OK;
  }
  if (!src->malloc || !src->free || !src->calloc || !src->realloc)
    return MAIL_ERR_INVALID;
  *dst = *src;
  return MAIL_OK;
}

void *mail_malloc(const mail_allocator *a, size_t n)
{
  return a->malloc(n ? n : 1, a->user);
}

void *mail_calloc(const mail_allocator *a, size_t nmemb, size_t size)
{
  if (nmemb == 0 || size == 0)
    nmemb = size = 1;
  return a->calloc(nmemb, size, a->user);
}

void *mail_realloc(const mail_allocator *a, void *p, size_t n)
{
  return a->realloc(p, n ? n : 1, a->user);
}

void mail_dealloc(const mail_allocator *a, void *p)
{
  if (p)
    a->free(p, a->user);
}

void mail_wipe(void *p, size_t n)
{
  if (!p || !n)
    return;
  /* A volatile function pointer keeps the compiler from proving the
   * memset dead before free(). */
  static void *(*const volatile memset_v)(void *, int, size_t) = memset;
  memset_v(p, 0, n);
}

void mail_dealloc_secret(const mail_allocator *a, void *p, size_t n)
{
  if (!p)
    return;
  mail_wipe(p, n);
  a->free(p, a->user);
}

void mail_dealloc_secret_str(const mail_allocator *a, char *s)
{
  if (s)
    mail_dealloc_secret(a, s, strlen(s));
}

char *mail_strndup(const mail_allocator *a, const char *s, size_t n)
{
  char *d = mail_malloc(a, n + 1);
  if (!d)
    return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *mail_strdup(const mail_allocator *a, const char *s)
{
  return s ? mail_strndup(a, s, strlen(s)) : NULL;
}

void *mail_memdup(const mail_allocator *a, const void *p, size_t n)
{
  void *d = mail_malloc(a, n);
  if (d && n)
    memcpy(d, p, n);
  return d;
}

int mail_has_crlfnul(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      return 1;
  return 0;
}

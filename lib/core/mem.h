/* Allocation through a handle's allocator hooks, and wiping of secrets. */
#ifndef MAIL_CORE_MEM_H
#define MAIL_CORE_MEM_H

#include <stddef.h>
#include <mail/common.h>

/* Copy src into dst, or install the C library's functions when src is NULL.
 * Returns MAIL_ERR_INVALID when src lacks a function. */
int mail_alloc_init(mail_allocator *dst, const mail_allocator *src);

void *mail_malloc(const mail_allocator *a, size_t n);
void *mail_calloc(const mail_allocator *a, size_t nmemb, size_t size);
void *mail_realloc(const mail_allocator *a, void *p, size_t n);
void mail_dealloc(const mail_allocator *a, void *p);

/* Overwrite n bytes in a way the compiler may not elide. */
void mail_wipe(void *p, size_t n);
/* Wipe n bytes at p, then free p. */
void mail_dealloc_secret(const mail_allocator *a, void *p, size_t n);
/* Wipe and free a NUL-terminated secret string. */
void mail_dealloc_secret_str(const mail_allocator *a, char *s);

char *mail_strdup(const mail_allocator *a, const char *s);
char *mail_strndup(const mail_allocator *a, const char *s, size_t n);
void *mail_memdup(const mail_allocator *a, const void *p, size_t n);

/* 1 when s[0..n) holds CR, LF or NUL: such an argument never reaches the wire. */
int mail_has_crlfnul(const char *s, size_t n);

#endif

/* The sort libmail uses instead of qsort(): glibc's qsort allocates a
 * merge buffer with malloc() for larger arrays, around the caller's
 * allocator hooks. */
#ifndef MAIL_CORE_SORT_H
#define MAIL_CORE_SORT_H

#include <stddef.h>

/* Sort n elements of size bytes in place by cmp (as qsort's): heapsort,
 * O(n log n) in the worst case, no allocation, not stable. */
void mail_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif

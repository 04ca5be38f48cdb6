#include "core/sort.h"

static void swap(unsigned char *a, unsigned char *b, size_t size)
{
  for (size_t i = 0; i < size; i++) {
    unsigned char t = a[i];
    a[i] = b[i];
    b[i] = t;
  }
}

/* Restore the max-heap below root in the first n elements. */
static void sift_down(unsigned char *v, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && cmp(v + child * size, v + (child + 1) * size) < 0)
      child++;
    if (cmp(v + root * size, v + child * size) >= 0)
      return;
    swap(v + root * size, v + child * size, size);
    root = child;
  }
}

void mail_sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
  unsigned char *v = base;
  if (n < 2 || size == 0)
    return;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(v, i, n, size, cmp);
  for (size_t end = n - 1; end > 0; end--) {
    swap(v, v + end * size, size);
    sift_down(v, 0, end, size, cmp);
  }
}

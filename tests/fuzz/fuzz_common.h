/* Small helpers shared by the fuzz targets. */
#ifndef MAIL_FUZZ_COMMON_H
#define MAIL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* FNV-1a, to compare two parses of the same input without storing them. */
typedef struct fz_hash {
  uint64_t h;
} fz_hash;

static inline void fz_hash_init(fz_hash *h)
{
  h->h = 1469598103934665603ull;
}

static inline void fz_hash_bytes(fz_hash *h, const void *p, size_t n)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++) {
    h->h ^= s[i];
    h->h *= 1099511628211ull;
  }
}

static inline void fz_hash_int(fz_hash *h, long v)
{
  fz_hash_bytes(h, &v, sizeof v);
}

/* A finding: abort so libFuzzer records the input. */
#define FZ_ASSERT(c) \
  do { \
    if (!(c)) \
      abort(); \
  } while (0)

/* Deterministic chunk sizes from a seed byte (1..64, varying). */
static inline size_t fz_chunk(unsigned seed, size_t k)
{
  return 1 + (size_t)((seed * 31u + k * 17u + (k >> 2) * seed) % 64u);
}

#endif

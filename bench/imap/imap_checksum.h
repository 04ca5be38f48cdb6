/*
 * The checksum of a typed FETCH shared by the IMAP benchmarks: UID, every
 * flag, every ENVELOPE field and address, and every BODYSTRUCTURE part
 * (type, subtype, parameters, id, description, encoding, size, lines,
 * embedded envelope and body, MD5, disposition and its parameters,
 * languages, location), read from libmail's accessors or from libetpan's
 * structures and folded the same way. A string is folded by its length
 * and its first and last 8 bytes, so the fold costs the same whatever
 * parser produced it; equal checksums mean equal values.
 */
#ifndef BENCH_IMAP_CHECKSUM_H
#define BENCH_IMAP_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include <mail/imap_parse.h>

#ifdef HAVE_ETPAN
#include <libetpan/libetpan.h>
#endif

typedef struct sum {
  uint64_t h;
} sum;

#define SUM_INIT 1469598103934665603ull

/* Seconds on the monotonic clock; the process's peak RSS (getrusage). */
double bench_now(void);
long bench_max_rss_kib(void);

void fold_num(sum *s, uint64_t v);
void fold_str(sum *s, const char *p, size_t n);
/* ASCII case folded first (type, subtype, encoding, disposition). */
void fold_lower(sum *s, const char *p, size_t n);

/* Fold one FETCH response; returns its UID. */
uint64_t sum_fetch_libmail(sum *s, const mail_imap_response *r);

#ifdef HAVE_ETPAN
uint64_t sum_fetch_libetpan(sum *s, struct mailimap_msg_att *ma);
#endif

#endif

/* Proleptic Gregorian dates <-> days since 1970-01-01 (UTC), for protocol
 * time stamps (NNTP DATE, NEWNEWS, NEWGROUPS). No time zone, no locale. */
#ifndef MAIL_CORE_CIVIL_H
#define MAIL_CORE_CIVIL_H

#include <stdint.h>

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31; not range-checked). */
int64_t mail_days_from_civil(int64_t y, unsigned m, unsigned d);
/* The date of day z since 1970-01-01. */
void mail_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif

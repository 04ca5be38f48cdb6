/* Calendar arithmetic on 400-year eras of 146,097 days, counted from
 * 0000-03-01 so that the leap day ends each year (the known integer
 * method; written out here once for the protocols that need it). */
#include "core/civil.h"

int64_t mail_days_from_civil(int64_t y, unsigned m, unsigned d)
{
  if (m <= 2)
    y--;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;                                  /* 0..399 */
  int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9;         /* March = 0 */
  int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;            /* 0..365 */
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
  return era * 146097 + doe - 719468;
}

void mail_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

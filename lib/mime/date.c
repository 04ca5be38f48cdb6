/* RFC 5322 date-time parsing, obsolete forms of section 4.3 included. */
#include <string.h>

#include "mime/mime_internal.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

typedef struct cursor {
  const char *s;
  size_t i, n;
} cursor;

static void skip_cfws(cursor *c)
{
  for (;;) {
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\r' ||
                           c->s[c->i] == '\n'))
      c->i++;
    if (c->i < c->n && c->s[c->i] == '(') {
      int depth = 0;
      while (c->i < c->n) {
        char ch = c->s[c->i++];
        if (ch == '\\' && c->i < c->n) c->i++;
        else if (ch == '(') depth++;
        else if (ch == ')' && --depth == 0) break;
      }
      continue;
    }
    return;
  }
}

static int number(cursor *c, int maxdigits, int *out)
{
  int v = 0, k = 0;
  while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9' && k < maxdigits) {
    v = v * 10 + (c->s[c->i++] - '0');
    k++;
  }
  if (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
    return -1;
  *out = v;
  return k;
}

static int word(cursor *c, char *buf, size_t cap)
{
  size_t k = 0;
  while (c->i < c->n && ((c->s[c->i] | 32) >= 'a' && (c->s[c->i] | 32) <= 'z')) {
    if (k + 1 < cap)
      buf[k++] = (char)(c->s[c->i] | 32);
    c->i++;
  }
  buf[k] = 0;
  return (int)k;
}

static const char *const MONTHS[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};

static int zone_by_name(const char *w, int *minutes)
{
  static const struct { const char *n; int m; } Z[] = {
    {"ut", 0}, {"gmt", 0}, {"utc", 0}, {"z", 0}, {"est", -300}, {"edt", -240},
    {"cst", -360}, {"cdt", -300}, {"mst", -420}, {"mdt", -360}, {"pst", -480}, {"pdt", -420},
  };
  for (size_t i = 0; i < sizeof Z / sizeof Z[0]; i++)
    if (!strcmp(w, Z[i].n)) {
      *minutes = Z[i].m;
      return 1;
    }
  if (strlen(w) == 1 && w[0] != 'j') {
    *minutes = 0; /* military zones: RFC 5322 says read as -0000 */
    return 1;
  }
  return 0;
}

int mail_date_parse(const char *text, size_t len, int64_t *when, int *zone_minutes)
{
  if (!text)
    return MAIL_ERR_INVALID;
  cursor c = {text, 0, len};
  char w[16];
  int day, year, hour, min, sec = 0, zone = 0, month = -1;
  skip_cfws(&c);
  size_t save = c.i;
  if (word(&c, w, sizeof w) >= 3) {
    skip_cfws(&c);
    if (c.i < c.n && c.s[c.i] == ',')
      c.i++;
    skip_cfws(&c);
  } else {
    c.i = save;
  }
  if (number(&c, 2, &day) < 1)
    return MAIL_ERR_SYNTAX;
  skip_cfws(&c);
  if (c.i < c.n && c.s[c.i] == '-') c.i++; /* "01-Jan-2020" */
  word(&c, w, sizeof w);
  w[3] = 0;
  for (int m = 0; m < 12; m++)
    if (!strcmp(w, MONTHS[m]))
      month = m + 1;
  if (month < 0)
    return MAIL_ERR_SYNTAX;
  skip_cfws(&c);
  if (c.i < c.n && c.s[c.i] == '-') c.i++;
  int yd = number(&c, 4, &year);
  if (yd < 2)
    return MAIL_ERR_SYNTAX;
  if (yd == 2)
    year += year < 50 ? 2000 : 1900;
  else if (yd == 3)
    year += 1900;
  skip_cfws(&c);
  if (number(&c, 2, &hour) < 1)
    return MAIL_ERR_SYNTAX;
  skip_cfws(&c);
  if (c.i >= c.n || c.s[c.i] != ':')
    return MAIL_ERR_SYNTAX;
  c.i++;
  skip_cfws(&c);
  if (number(&c, 2, &min) < 1)
    return MAIL_ERR_SYNTAX;
  skip_cfws(&c);
  if (c.i < c.n && c.s[c.i] == ':') {
    c.i++;
    skip_cfws(&c);
    if (number(&c, 2, &sec) < 1)
      return MAIL_ERR_SYNTAX;
    skip_cfws(&c);
  }
  if (c.i < c.n && (c.s[c.i] == '+' || c.s[c.i] == '-')) {
    int neg = c.s[c.i++] == '-', z;
    if (number(&c, 4, &z) != 4 || z % 100 >= 60)
      return MAIL_ERR_SYNTAX;
    zone = (z / 100 * 60 + z % 100) * (neg ? -1 : 1);
  } else if (c.i < c.n) {
    if (!word(&c, w, sizeof w) || !zone_by_name(w, &zone))
      return MAIL_ERR_SYNTAX;
  }
  skip_cfws(&c);
  if (c.i != c.n)
    return MAIL_ERR_SYNTAX;
  static const int MDAYS[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > MDAYS[month - 1] || (month == 2 && day == 29 && !leap) || hour > 23 ||
      min > 59 || sec > 60)
    return MAIL_ERR_SYNTAX;
  int64_t t = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 +
              min * 60 + sec - (int64_t)zone * 60;
  if (when)
    *when = t;
  if (zone_minutes)
    *zone_minutes = zone;
  return MAIL_OK;
}

/* JSON output: strings escaped for any byte a header or a server can hold. */
#include <stdio.h>

#include "cli.h"

void json_string(FILE *f, const char *s)
{
  if (!s) {
    fputs("null", f);
    return;
  }
  putc('"', f);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      fprintf(f, "\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", f);
    else if (*c == '\r')
      fputs("\\r", f);
    else if (*c == '\t')
      fputs("\\t", f);
    else if (*c < 0x20 || *c == 0x7f)
      fprintf(f, "\\u%04x", *c);
    else
      putc(*c, f);
  }
  putc('"', f);
}

/* The separator before a member, then "key": . */
void json_key(FILE *f, int *first, const char *key)
{
  fputs(*first ? "" : ", ", f);
  *first = 0;
  json_string(f, key);
  fputs(": ", f);
}

/* A string member: "key": "value" (null when value is NULL). */
void json_field(FILE *f, int *first, const char *key, const char *value)
{
  json_key(f, first, key);
  json_string(f, value);
}

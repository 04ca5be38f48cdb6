/* Local files: read whole ("-" is standard input). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_read_file(const char *path, char **out, size_t *len)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  if (!f)
    return -1;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  int err = 0;
  while (buf) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2 + 1);
      if (!nb) {
        err = ENOMEM;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0)
      break;
  }
  if (!buf)
    err = ENOMEM;
  else if (ferror(f))
    err = errno ? errno : EIO;
  if (f != stdin)
    fclose(f);
  if (err) {
    free(buf);
    errno = err;
    return -1;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

/* Taking a message out of a test server's Maildir (see maildir.h). */
#include "maildir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (buf) {
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
  }
  fclose(f);
  return buf;
}

char *mail_test_maildir_take(const char *maildir, const char *needle, size_t *len)
{
  static const char *const subs[] = {"new", "cur"};
  for (int k = 0; k < 2; k++) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", maildir, subs[k]);
    DIR *d = opendir(dir);
    if (!d)
      continue;
    struct dirent *de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.')
        continue;
      char path[2048];
      snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
      char *c = slurp(path, len);
      if (c && memmem(c, *len, needle, strlen(needle)) && unlink(path) == 0) {
        closedir(d);
        return c;
      }
      free(c);
    }
    closedir(d);
  }
  return NULL;
}

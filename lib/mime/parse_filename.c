/* A safe local name for an attachment's file name. */
#include <string.h>

#include "core/handout.h"
#include "core/mem.h"
#include "mime/mime_internal.h"

#define MAX_NAME 255

char *mail_mime_safe_filename(const char *name, const mail_allocator *alloc)
{
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return NULL;
  if (!name)
    name = "";
  size_t n = strlen(name);
  char *r = mail_handout_alloc(&a, n + sizeof "attachment" + 2);
  if (!r)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7f)
      continue;
    if (c == '/' || c == '\\' || c == ':' || c == '<' || c == '>' || c == '|' || c == '"' ||
        c == '?' || c == '*')
      c = '_';
    r[o++] = (char)c;
  }
  r[o] = 0;
  /* No leading dots or blanks (hidden files, ".."), no trailing ones (Windows). */
  size_t st = 0;
  while (st < o && (r[st] == '.' || r[st] == ' '))
    st++;
  while (o > st && (r[o - 1] == '.' || r[o - 1] == ' '))
    o--;
  memmove(r, r + st, o - st);
  o -= st;
  r[o] = 0;
  /* Device names Windows reserves. */
  static const char *const DEV[] = {"con", "prn", "aux", "nul", "com1", "com2", "com3", "lpt1", "lpt2"};
  for (size_t i = 0; i < sizeof DEV / sizeof DEV[0]; i++) {
    size_t dl = strlen(DEV[i]);
    if (o >= dl && !mime_ascii_ncasecmp(r, DEV[i], dl) && (r[dl] == 0 || r[dl] == '.')) {
      memmove(r + 1, r, o + 1);
      r[0] = '_';
      o++;
      break;
    }
  }
  /* Cut last, so the '_' added above cannot take the name past the limit. */
  if (o > MAX_NAME) {
    o = MAX_NAME;
    while (o && ((unsigned char)r[o] & 0xC0) == 0x80)
      o--; /* keep a UTF-8 character whole */
    r[o] = 0;
  }
  if (!o)
    strcpy(r, "attachment");
  return r;
}

/* The sync state's file: text, versioned, bounded, written atomically
 * (tmp file, fsync, rename). Runs of consecutive UIDs with the same flags
 * take one line, so a mailbox nobody flags piecemeal costs a few lines.
 *
 *   libmail-imap-sync 1
 *   uidvalidity 1700000000
 *   highestmodseq 4711
 *   keyword $Forwarded            (keyword i is flag bit 5 + i)
 *   run 1 240 1                   (UIDs 1..240, flags mask in hex)
 *   end
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imap/imap_sync_internal.h"

#define SYNC_FILE_MAGIC "libmail-imap-sync 1"
#define SYNC_FILE_MAX (64u << 20)
#define SYNC_LINE_MAX 1024

static int put(FILE *f, const char *s)
{
  return fputs(s, f) < 0 ? MAIL_ERR_FILE : MAIL_OK;
}

int mail_imap_sync_state_save(const mail_imap_sync_state *st, const char *path)
{
  if (!st || !path || !*path || strlen(path) > 4000)
    return MAIL_ERR_INVALID;
  char tmp[4100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return MAIL_ERR_FILE;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
    return MAIL_ERR_FILE;
  }
  char line[SYNC_LINE_MAX];
  int rc = put(f, SYNC_FILE_MAGIC "\n");
  snprintf(line, sizeof line, "uidvalidity %lu\nhighestmodseq %llu\n",
           (unsigned long)st->uidvalidity, (unsigned long long)st->highestmodseq);
  if (!rc)
    rc = put(f, line);
  for (size_t i = 0; i < st->nkw && !rc; i++) {
    snprintf(line, sizeof line, "keyword %s\n", st->kw[i]);
    rc = put(f, line);
  }
  for (size_t i = 0; i < st->n && !rc;) {
    size_t j = i;
    while (j + 1 < st->n && st->e[j + 1].uid == st->e[j].uid + 1 &&
           st->e[j + 1].flags == st->e[i].flags)
      j++;
    snprintf(line, sizeof line, "run %lu %lu %lx\n", (unsigned long)st->e[i].uid,
             (unsigned long)st->e[j].uid, (unsigned long)st->e[i].flags);
    rc = put(f, line);
    i = j + 1;
  }
  if (!rc)
    rc = put(f, "end\n");
  if (!rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
    rc = MAIL_ERR_FILE;
  if (fclose(f) != 0 && !rc)
    rc = MAIL_ERR_FILE;
  if (!rc && rename(tmp, path) != 0)
    rc = MAIL_ERR_FILE;
  if (rc)
    unlink(tmp);
  return rc;
}

static int number(const char *s, uint64_t max, uint64_t *out, const char **end, int base)
{
  if ((base == 10 && (*s < '0' || *s > '9')) ||
      (base == 16 && !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))))
    return MAIL_ERR_SYNTAX;
  errno = 0;
  char *e;
  unsigned long long v = strtoull(s, &e, base);
  if (errno || v > max)
    return MAIL_ERR_SYNTAX;
  *out = v;
  *end = e;
  return MAIL_OK;
}

static int load_into(mail_imap_sync_state *st, FILE *f)
{
  char line[SYNC_LINE_MAX + 2];
  int lineno = 0, ended = 0;
  uint64_t total = 0;
  while (fgets(line, sizeof line, f)) {
    size_t len = strlen(line);
    total += len;
    if (total > SYNC_FILE_MAX)
      return MAIL_ERR_LIMIT;
    if (!len || line[len - 1] != '\n' || ended)
      return MAIL_ERR_SYNTAX;
    line[--len] = '\0';
    const char *e;
    uint64_t a, b, c;
    if (lineno++ == 0) {
      if (strcmp(line, SYNC_FILE_MAGIC))
        return MAIL_ERR_SYNTAX;
    } else if (!strncmp(line, "uidvalidity ", 12)) {
      if (number(line + 12, UINT32_MAX, &a, &e, 10) || *e)
        return MAIL_ERR_SYNTAX;
      st->uidvalidity = (uint32_t)a;
    } else if (!strncmp(line, "highestmodseq ", 14)) {
      if (number(line + 14, UINT64_MAX, &a, &e, 10) || *e)
        return MAIL_ERR_SYNTAX;
      st->highestmodseq = a;
    } else if (!strncmp(line, "keyword ", 8)) {
      uint32_t bit;
      size_t before = st->nkw;
      int rc = sync_state_flag_bit(st, line + 8, strlen(line + 8), &bit);
      if (rc == MAIL_ERR_PROTOCOL || (!rc && st->nkw != before + 1))
        return MAIL_ERR_SYNTAX; /* not a keyword, or one seen before */
      if (rc)
        return rc;
    } else if (!strncmp(line, "run ", 4)) {
      if (number(line + 4, UINT32_MAX, &a, &e, 10) || a == 0 || *e != ' ' ||
          number(e + 1, UINT32_MAX, &b, &e, 10) || b < a || *e != ' ' ||
          number(e + 1, UINT32_MAX, &c, &e, 16) || *e)
        return MAIL_ERR_SYNTAX;
      if (c >> (SYNC_KW_BIT + st->nkw))
        return MAIL_ERR_SYNTAX; /* a keyword bit with no keyword */
      if (st->n && st->e[st->n - 1].uid >= a)
        return MAIL_ERR_SYNTAX; /* out of order or overlapping */
      if (b - a + 1 > st->max_uids - st->n)
        return MAIL_ERR_LIMIT;
      int rc = sync_state_reserve(st, st->n + (size_t)(b - a + 1));
      if (rc)
        return rc;
      for (uint64_t u = a; u <= b; u++)
        st->e[st->n++] = (sync_entry){(uint32_t)u, (uint32_t)c};
    } else if (!strcmp(line, "end")) {
      ended = 1;
    } else {
      return MAIL_ERR_SYNTAX;
    }
  }
  if (ferror(f))
    return MAIL_ERR_FILE;
  return ended ? MAIL_OK : MAIL_ERR_SYNTAX; /* a file cut short */
}

int mail_imap_sync_state_load(mail_imap_sync_state *st, const char *path)
{
  if (!st || !path || !*path)
    return MAIL_ERR_INVALID;
  FILE *f = fopen(path, "re");
  if (!f)
    return errno == ENOENT ? MAIL_ERR_NOT_FOUND : MAIL_ERR_FILE;
  mail_imap_sync_state *tmp;
  int rc = mail_imap_sync_state_new(&tmp, &st->alloc);
  if (!rc) {
    tmp->max_uids = st->max_uids;
    rc = load_into(tmp, f);
  }
  fclose(f);
  if (rc) {
    mail_imap_sync_state_free(tmp);
    return rc;
  }
  /* Swap the loaded contents in; st keeps its own allocator and limit. */
  mail_imap_sync_state old = *st;
  *st = *tmp;
  st->alloc = old.alloc;
  st->max_uids = old.max_uids;
  *tmp = old;
  mail_imap_sync_state_free(tmp);
  return MAIL_OK;
}

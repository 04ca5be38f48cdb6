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

/* Where the text goes: a FILE or the caller's write callback. */
typedef struct sink {
  FILE *f;
  mail_write_fn fn;
  void *user;
} sink;

static int put(sink *k, const char *s)
{
  size_t n = strlen(s);
  if (k->f)
    return fwrite(s, 1, n, k->f) == n ? MAIL_OK : MAIL_ERR_FILE;
  return k->fn(k->user, s, n) ? MAIL_ERR_CALLBACK : MAIL_OK;
}

static int write_to(const mail_imap_sync_state *st, sink *k)
{
  char line[SYNC_LINE_MAX];
  int rc = put(k, SYNC_FILE_MAGIC "\n");
  snprintf(line, sizeof line, "uidvalidity %lu\nhighestmodseq %llu\n",
           (unsigned long)st->uidvalidity, (unsigned long long)st->highestmodseq);
  if (!rc)
    rc = put(k, line);
  for (size_t i = 0; i < st->nkw && !rc; i++) {
    snprintf(line, sizeof line, "keyword %s\n", st->kw[i]);
    rc = put(k, line);
  }
  for (size_t i = 0; i < st->n && !rc;) {
    size_t j = i;
    while (j + 1 < st->n && st->e[j + 1].uid == st->e[j].uid + 1 &&
           st->e[j + 1].flags == st->e[i].flags)
      j++;
    snprintf(line, sizeof line, "run %lu %lu %lx\n", (unsigned long)st->e[i].uid,
             (unsigned long)st->e[j].uid, (unsigned long)st->e[i].flags);
    rc = put(k, line);
    i = j + 1;
  }
  return rc ? rc : put(k, "end\n");
}

int mail_imap_sync_state_write(const mail_imap_sync_state *st, mail_write_fn fn, void *user)
{
  if (!st || !fn)
    return MAIL_ERR_INVALID;
  sink k = {NULL, fn, user};
  return write_to(st, &k);
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
  sink k = {f, NULL, NULL};
  int rc = write_to(st, &k);
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

/* Where the text comes from: a FILE or the caller's read callback, one
 * line at a time (at most SYNC_LINE_MAX bytes with its LF). */
typedef struct source {
  FILE *f;
  mail_read_fn fn;
  void *user;
  unsigned char buf[4096];
  size_t at, len;
  int eof, failed;
} source;

/* 1 with a line (NUL-terminated, LF kept) in line, 0 at the end. */
static int next_line(source *src, char *line, size_t cap, int *rc)
{
  *rc = MAIL_OK;
  if (src->f) {
    if (fgets(line, (int)cap, src->f))
      return 1;
    if (ferror(src->f))
      *rc = MAIL_ERR_FILE;
    return 0;
  }
  size_t n = 0;
  for (;;) {
    if (src->at == src->len) {
      if (src->eof)
        break;
      size_t got = 0;
      if (src->fn(src->user, src->buf, sizeof src->buf, &got)) {
        *rc = MAIL_ERR_CALLBACK;
        return 0;
      }
      if (got > sizeof src->buf) {
        *rc = MAIL_ERR_CALLBACK;
        return 0;
      }
      src->at = 0;
      src->len = got;
      src->eof = got == 0;
      continue;
    }
    char c = (char)src->buf[src->at++];
    if (c == '\0') {
      *rc = MAIL_ERR_SYNTAX;
      return 0;
    }
    if (n + 1 >= cap) { /* a line too long: kept short, refused by the parser */
      line[n] = '\0';
      return 1;
    }
    line[n++] = c;
    if (c == '\n')
      break;
  }
  line[n] = '\0';
  return n > 0;
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

static int load_into(mail_imap_sync_state *st, source *src)
{
  char line[SYNC_LINE_MAX + 2];
  int lineno = 0, ended = 0, rrc;
  uint64_t total = 0;
  while (next_line(src, line, sizeof line, &rrc)) {
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
  if (rrc)
    return rrc;
  return ended ? MAIL_OK : MAIL_ERR_SYNTAX; /* a file cut short */
}

/* Load from src into a fresh state, swapped in only when it is whole. */
static int load_from(mail_imap_sync_state *st, source *src)
{
  mail_imap_sync_state *tmp;
  int rc = mail_imap_sync_state_new(&tmp, &st->alloc);
  if (rc)
    return rc;
  tmp->max_uids = st->max_uids;
  rc = load_into(tmp, src);
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

int mail_imap_sync_state_read(mail_imap_sync_state *st, mail_read_fn fn, void *user)
{
  if (!st || !fn)
    return MAIL_ERR_INVALID;
  source *src = mail_calloc(&st->alloc, 1, sizeof *src);
  if (!src)
    return MAIL_ERR_NOMEM;
  src->fn = fn;
  src->user = user;
  int rc = load_from(st, src);
  mail_dealloc(&st->alloc, src);
  return rc;
}

int mail_imap_sync_state_load(mail_imap_sync_state *st, const char *path)
{
  if (!st || !path || !*path)
    return MAIL_ERR_INVALID;
  FILE *f = fopen(path, "re");
  if (!f)
    return errno == ENOENT ? MAIL_ERR_NOT_FOUND : MAIL_ERR_FILE;
  source src;
  memset(&src, 0, sizeof src);
  src.f = f;
  int rc = load_from(st, &src);
  fclose(f);
  return rc;
}

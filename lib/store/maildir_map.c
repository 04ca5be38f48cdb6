/*
 * The maildir's key map, kept in "libmail-map" beside cur/ new/ tmp/:
 *
 *   libmail-map 1\n
 *   <key> TAB <name> TAB <decimal value> \n     one line per mapping
 *
 * Keys are printable ASCII without spaces, names maildir base names, so a
 * TAB never appears inside a field. Saved whole into tmp/ and renamed over
 * the old file.
 */
#include "store/maildir_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"

#define MAP_FILE "libmail-map"
#define MAP_HEADER "libmail-map 1"
/* key TAB name TAB value: the longest line a valid map holds. */
#define MAP_LINE_MAX (MAIL_MAILDIR_KEY_MAX + MAIL_MAILDIR_NAME_MAX + 32)

static int key_valid(const char *key)
{
  size_t n = key ? strlen(key) : 0;
  if (n == 0 || n > MAIL_MAILDIR_KEY_MAX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
      return 0;
  return 1;
}

static int parse_line(mail_maildir *md, char *line, size_t len, unsigned long lineno)
{
  if (lineno == 1) {
    if (len != strlen(MAP_HEADER) || memcmp(line, MAP_HEADER, len) != 0)
      return maildir_fail(md, MAIL_ERR_SYNTAX, "%s/" MAP_FILE ": not a libmail map (line 1)",
                          md->path);
    return MAIL_OK;
  }
  line[len] = '\0';
  char *t1 = strchr(line, '\t');
  char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
  if (!t2)
    return maildir_fail(md, MAIL_ERR_SYNTAX, "%s/" MAP_FILE ": line %lu: expected three fields",
                        md->path, lineno);
  *t1 = *t2 = '\0';
  char *end;
  errno = 0;
  long long v = strtoll(t2 + 1, &end, 10);
  if (!key_valid(line) || !maildir_name_valid(t1 + 1) || errno || end == t2 + 1 || *end)
    return maildir_fail(md, MAIL_ERR_SYNTAX, "%s/" MAP_FILE ": line %lu: bad field", md->path,
                        lineno);
  int rc = store_table_put(&md->map, line, t1 + 1, (int64_t)v);
  return rc ? maildir_fail(md, rc, "out of memory loading the key map") : MAIL_OK;
}

int maildir_map_load(mail_maildir *md)
{
  char path[PATH_MAX];
  int rc = maildir_join(md, path, "", MAP_FILE, NULL);
  if (rc)
    return rc;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? MAIL_OK
                           : maildir_fail(md, MAIL_ERR_FILE, "%s: %s", path, strerror(errno));
  char line[MAP_LINE_MAX + 1];
  size_t have = 0;
  unsigned long lineno = 0;
  unsigned char buf[16384];
  for (;;) {
    ssize_t k = read(fd, buf, sizeof buf);
    if (k < 0 && errno == EINTR)
      continue;
    if (k < 0) {
      rc = maildir_fail(md, MAIL_ERR_FILE, "%s: %s", path, strerror(errno));
      break;
    }
    if (k == 0) {
      if (have)
        rc = maildir_fail(md, MAIL_ERR_SYNTAX, "%s: the last line is cut short", path);
      else if (lineno == 0)
        rc = maildir_fail(md, MAIL_ERR_SYNTAX, "%s: empty", path);
      break;
    }
    for (ssize_t i = 0; i < k && !rc; i++) {
      if (buf[i] != '\n') {
        if (have == MAP_LINE_MAX)
          rc = maildir_fail(md, MAIL_ERR_SYNTAX, "%s: line %lu too long", path, lineno + 1);
        else
          line[have++] = (char)buf[i];
        continue;
      }
      rc = parse_line(md, line, have, ++lineno);
      have = 0;
    }
    if (rc)
      break;
  }
  close(fd);
  return rc;
}

int mail_maildir_map_set(mail_maildir *md, const char *key, const char *name, int64_t value)
{
  if (!md || !key_valid(key) || !maildir_name_valid(name))
    return MAIL_ERR_INVALID;
  int rc = store_table_put(&md->map, key, name, value);
  return rc ? maildir_fail(md, rc, "out of memory") : MAIL_OK;
}

int mail_maildir_map_get(char *name, size_t cap, int64_t *value, mail_maildir *md,
                         const char *key)
{
  if (!md || !key || (name && !cap))
    return MAIL_ERR_INVALID;
  if (name)
    name[0] = '\0';
  const store_entry *e = store_table_get(&md->map, key);
  if (!e)
    return MAIL_ERR_NOT_FOUND;
  if (value)
    *value = e->num;
  if (name) {
    size_t n = strlen(e->val);
    if (n >= cap)
      return MAIL_ERR_BUFFER;
    memcpy(name, e->val, n + 1);
  }
  return MAIL_OK;
}

int mail_maildir_map_remove(mail_maildir *md, const char *key)
{
  if (!md || !key)
    return MAIL_ERR_INVALID;
  return store_table_del(&md->map, key) ? MAIL_OK : MAIL_ERR_NOT_FOUND;
}

size_t mail_maildir_map_count(const mail_maildir *md)
{
  return md ? md->map.count : 0;
}

int mail_maildir_map_each(mail_maildir *md, mail_maildir_map_fn fn, void *user)
{
  if (!md || !fn)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < md->map.cap; i++) {
    const store_entry *e = &md->map.slots[i];
    if (store_entry_live(e) && fn(user, e->key, e->val, e->num))
      return MAIL_ERR_CALLBACK;
  }
  return MAIL_OK;
}

int mail_maildir_map_save(mail_maildir *md)
{
  if (!md)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  char base[MAIL_MAILDIR_NAME_MAX + 1], tmp[PATH_MAX], path[PATH_MAX];
  maildir_unique(md, base, sizeof base);
  int rc = maildir_join(md, tmp, "tmp", base, ".map");
  if (!rc)
    rc = maildir_join(md, path, "", MAP_FILE, NULL);
  if (rc)
    return rc;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return maildir_fail(md, MAIL_ERR_FILE, "create %s: %s", tmp, strerror(errno));
  mail_buf b;
  mail_buf_init(&b, &md->alloc, 0);
  rc = mail_buf_append_str(&b, MAP_HEADER "\n");
  for (size_t i = 0; i < md->map.cap && !rc; i++) {
    const store_entry *e = &md->map.slots[i];
    if (!store_entry_live(e))
      continue;
    rc = mail_buf_appendf(&b, "%s\t%s\t%" PRId64 "\n", e->key, e->val, e->num);
    if (!rc && b.len >= 65536) {
      ssize_t k = write(fd, b.data, b.len);
      if (k != (ssize_t)b.len)
        rc = MAIL_ERR_FILE;
      mail_buf_clear(&b);
    }
  }
  if (!rc && b.len && write(fd, b.data, b.len) != (ssize_t)b.len)
    rc = MAIL_ERR_FILE;
  int e = errno;
  mail_buf_free(&b);
  if (!rc && !(md->flags & MAIL_MAILDIR_NO_FSYNC) && fsync(fd) != 0) {
    rc = MAIL_ERR_FILE;
    e = errno;
  }
  if (close(fd) != 0 && !rc) {
    rc = MAIL_ERR_FILE;
    e = errno;
  }
  if (!rc && rename(tmp, path) != 0) {
    rc = MAIL_ERR_FILE;
    e = errno;
  }
  if (rc) {
    unlink(tmp);
    if (rc == MAIL_ERR_NOMEM)
      return maildir_fail(md, rc, "out of memory saving the key map");
    return maildir_fail(md, rc, "save %s: %s", path, strerror(e));
  }
  return maildir_sync_dir(md, "");
}

/* The maildir store: opening, names, the index of where each message is,
 * listing, flags and removal (deliveries: maildir_deliver.c; the key map:
 * maildir_map.c). */
#include "store/maildir_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/mem.h"

static const char *const subdirs[] = {"cur", "new", "tmp"};

int maildir_fail(mail_maildir *md, int rc, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(md->err, sizeof md->err, fmt, ap);
  va_end(ap);
  return rc;
}

int maildir_join(mail_maildir *md, char *out, const char *sub, const char *name, const char *suffix)
{
  int n = snprintf(out, PATH_MAX, "%s%s%s%s%s%s", md->path, *sub ? "/" : "", sub, *name ? "/" : "",
                   name, suffix ? suffix : "");
  if (n < 0 || n >= PATH_MAX)
    return maildir_fail(md, MAIL_ERR_INVALID, "%s/%s: path too long", md->path, sub);
  return MAIL_OK;
}

int maildir_name_valid(const char *name)
{
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > MAIL_MAILDIR_NAME_MAX || name[0] == '.')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (name[i] == '/' || name[i] == ':' || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
      return 0;
  return 1;
}

int maildir_flags_valid(const char *flags)
{
  unsigned seen = 0;
  for (const char *p = flags; *p; p++) {
    const char *at = strchr("DFPRST", *p);
    if (!at)
      return 0;
    unsigned bit = 1u << (at - "DFPRST");
    if (seen & bit)
      return 0;
    seen |= bit;
  }
  return 1;
}

void maildir_info(char *out, size_t cap, const char *flags, const char *old_info)
{
  size_t n = 0;
  out[n++] = ':';
  out[n++] = '2';
  out[n++] = ',';
  /* Flags in ASCII order, as the maildir rules ask; Dovecot's keyword
   * letters (a-z) of the old name come after and are kept. */
  for (const char *f = "DFPRST"; *f; f++)
    if (strchr(flags, *f) && n + 1 < cap)
      out[n++] = *f;
  const char *old = old_info && strncmp(old_info, ":2,", 3) == 0 ? old_info + 3 : "";
  for (char k = 'a'; k <= 'z'; k++)
    if (strchr(old, k) && n + 1 < cap)
      out[n++] = k;
  out[n] = '\0';
}

void maildir_unique(mail_maildir *md, char *out, size_t cap)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* time.MusecPpidQn.host: unique per host, process, microsecond and call. */
  snprintf(out, cap, "%lld.M%ldP%ldQ%lu.%s", (long long)ts.tv_sec, (long)(ts.tv_nsec / 1000),
           (long)getpid(), ++md->seq, md->host);
}

int maildir_sync_dir(mail_maildir *md, const char *sub)
{
  if (md->flags & MAIL_MAILDIR_NO_FSYNC)
    return MAIL_OK;
  char path[PATH_MAX];
  int rc = maildir_join(md, path, sub, "", NULL);
  if (rc)
    return rc;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return maildir_fail(md, MAIL_ERR_FILE, "%s: %s", path, strerror(errno));
  int bad = fsync(fd) != 0 && errno != EINVAL;
  int e = errno;
  close(fd);
  return bad ? maildir_fail(md, MAIL_ERR_FILE, "fsync %s: %s", path, strerror(e)) : MAIL_OK;
}

static void set_host(mail_maildir *md)
{
  char h[sizeof md->host] = "localhost";
  if (gethostname(h, sizeof h - 1) != 0 || !h[0])
    strcpy(h, "localhost");
  h[sizeof h - 1] = '\0';
  /* '/' and ':' cannot be in a name: the rules write them as \057, \072. */
  size_t n = 0;
  for (const char *p = h; *p && n + 5 < sizeof md->host; p++) {
    if (*p == '/' || *p == ':') {
      n += (size_t)snprintf(md->host + n, sizeof md->host - n, "\\%03o", (unsigned char)*p);
    } else if ((unsigned char)*p > 0x20 && *p != 0x7f) {
      md->host[n++] = *p;
    }
  }
  md->host[n] = '\0';
  if (!n)
    strcpy(md->host, "localhost");
}

static int ensure_dirs(mail_maildir *md)
{
  char path[PATH_MAX];
  int create = (md->flags & MAIL_MAILDIR_CREATE) != 0;
  for (int i = -1; i < 3; i++) {
    int rc = maildir_join(md, path, i < 0 ? "" : subdirs[i], "", NULL);
    if (rc)
      return rc;
    struct stat st;
    if (stat(path, &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        return maildir_fail(md, MAIL_ERR_FILE, "%s: not a directory", path);
      continue;
    }
    if (errno != ENOENT)
      return maildir_fail(md, MAIL_ERR_FILE, "%s: %s", path, strerror(errno));
    if (!create)
      return maildir_fail(md, MAIL_ERR_NOT_FOUND, "%s: not a maildir (no such directory)", path);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return maildir_fail(md, MAIL_ERR_FILE, "mkdir %s: %s", path, strerror(errno));
  }
  return MAIL_OK;
}

int mail_maildir_open(mail_maildir **out, const char *path, unsigned int flags,
                      const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  unsigned int known = MAIL_MAILDIR_CREATE | MAIL_MAILDIR_NO_FSYNC | MAIL_MAILDIR_KEEP_CRLF;
  if (!path || !*path || (flags & ~known) || strlen(path) > PATH_MAX - 300)
    return MAIL_ERR_INVALID;
  mail_allocator a;
  int rc = mail_alloc_init(&a, alloc);
  if (rc)
    return rc;
  mail_maildir *md = mail_calloc(&a, 1, sizeof *md);
  if (!md)
    return MAIL_ERR_NOMEM;
  md->alloc = a;
  md->flags = flags;
  store_table_init(&md->index, &md->alloc);
  store_table_init(&md->map, &md->alloc);
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    n--;
  md->path = mail_strndup(&md->alloc, path, n);
  if (!md->path) {
    mail_maildir_free(md);
    return MAIL_ERR_NOMEM;
  }
  set_host(md);
  rc = ensure_dirs(md);
  if (!rc)
    rc = maildir_map_load(md);
  if (rc) {
    mail_maildir_free(md);
    return rc;
  }
  *out = md;
  return MAIL_OK;
}

void mail_maildir_free(mail_maildir *md)
{
  if (!md)
    return;
  store_table_free(&md->index);
  store_table_free(&md->map);
  mail_dealloc(&md->alloc, md->path);
  mail_allocator a = md->alloc;
  mail_dealloc(&a, md);
}

const char *mail_maildir_path(const mail_maildir *md)
{
  return md ? md->path : NULL;
}

const char *mail_maildir_last_error(const mail_maildir *md)
{
  return md ? md->err : "";
}

/* ------------------------------------------------------------------ */
/* The index                                                            */
/* ------------------------------------------------------------------ */

int maildir_index_put(mail_maildir *md, const char *name, const char *suffix, int in_new)
{
  if (!md->indexed)
    return MAIL_OK; /* built in full by the first lookup */
  return store_table_put(&md->index, name, suffix, in_new);
}

typedef struct scan_ctx {
  mail_maildir_entry_fn fn;
  void *user;
} scan_ctx;

/* Read new/ and cur/ into a fresh index; report each message to ctx. */
static int scan(mail_maildir *md, const scan_ctx *ctx)
{
  store_table fresh;
  store_table_init(&fresh, &md->alloc);
  int rc = MAIL_OK;
  for (int s = 0; s < 2 && !rc; s++) {
    const char *sub = s == 0 ? "new" : "cur";
    char dir[PATH_MAX];
    rc = maildir_join(md, dir, sub, "", NULL);
    if (rc)
      break;
    DIR *d = opendir(dir);
    if (!d) {
      rc = maildir_fail(md, MAIL_ERR_FILE, "%s: %s", dir, strerror(errno));
      break;
    }
    struct dirent *de;
    errno = 0;
    while (!rc && (de = readdir(d)) != NULL) {
      if (de->d_name[0] == '.')
        continue;
      char base[MAIL_MAILDIR_NAME_MAX + 1];
      const char *colon = strchr(de->d_name, ':');
      size_t bl = colon ? (size_t)(colon - de->d_name) : strlen(de->d_name);
      if (bl == 0 || bl > MAIL_MAILDIR_NAME_MAX)
        continue; /* not a name this store can address */
      memcpy(base, de->d_name, bl);
      base[bl] = '\0';
      const char *suffix = colon ? colon : "";
      rc = store_table_put(&fresh, base, suffix, s == 0);
      if (rc || !ctx)
        continue;
      struct stat st;
      if (fstatat(dirfd(d), de->d_name, &st, 0) != 0)
        continue; /* moved or removed meanwhile */
      if (!S_ISREG(st.st_mode))
        continue;
      char flags[MAIL_MAILDIR_FLAGS_MAX + 1];
      size_t fl = 0;
      if (strncmp(suffix, ":2,", 3) == 0)
        for (const char *p = suffix + 3; *p && fl < MAIL_MAILDIR_FLAGS_MAX; p++)
          if (strchr("DFPRST", *p) && *p)
            flags[fl++] = *p;
      flags[fl] = '\0';
      if (ctx->fn(ctx->user, base, flags, s == 0, (uint64_t)st.st_size, (int64_t)st.st_mtime))
        rc = MAIL_ERR_CALLBACK;
      errno = 0;
    }
    if (!rc && errno)
      rc = maildir_fail(md, MAIL_ERR_FILE, "%s: %s", dir, strerror(errno));
    closedir(d);
  }
  if (rc && rc != MAIL_ERR_CALLBACK) {
    store_table_free(&fresh);
    if (rc == MAIL_ERR_NOMEM)
      maildir_fail(md, rc, "out of memory listing %s", md->path);
    return rc;
  }
  store_table_free(&md->index);
  md->index = fresh;
  md->indexed = 1;
  return rc;
}

int mail_maildir_list(mail_maildir *md, mail_maildir_entry_fn fn, void *user)
{
  if (!md || !fn)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  scan_ctx ctx = {fn, user};
  return scan(md, &ctx);
}

/* Where name is: its index entry, rescanning once when it is not known. */
static int locate(mail_maildir *md, const char *name, const store_entry **out)
{
  if (!maildir_name_valid(name))
    return maildir_fail(md, MAIL_ERR_INVALID, "not a message name");
  const store_entry *e = md->indexed ? store_table_get(&md->index, name) : NULL;
  if (!e) {
    int rc = scan(md, NULL);
    if (rc)
      return rc;
    e = store_table_get(&md->index, name);
  }
  if (!e)
    return maildir_fail(md, MAIL_ERR_NOT_FOUND, "%s: no message %s", md->path, name);
  *out = e;
  return MAIL_OK;
}

static int entry_path(mail_maildir *md, char *out, const char *name, const store_entry *e)
{
  return maildir_join(md, out, e->num ? "new" : "cur", name, e->val);
}

/* Run op on the message's file; when another process moved it meanwhile
 * (the op says MAIL_ERR_NOT_FOUND), look again once. */
typedef int (*file_op)(mail_maildir *md, const char *name, const store_entry *e, const char *path,
                       void *arg);

static int with_file(mail_maildir *md, const char *name, file_op op, void *arg)
{
  for (int attempt = 0;; attempt++) {
    const store_entry *e;
    int rc = locate(md, name, &e);
    if (rc)
      return rc;
    char path[PATH_MAX];
    rc = entry_path(md, path, name, e);
    if (rc)
      return rc;
    rc = op(md, name, e, path, arg);
    if (rc != MAIL_ERR_NOT_FOUND || attempt)
      return rc;
    store_table_del(&md->index, name);
  }
}

typedef struct path_arg {
  char *out;
  size_t cap;
} path_arg;

/* A failed call on path: MAIL_ERR_NOT_FOUND when the file is gone. */
static int file_error(mail_maildir *md, const char *what, const char *path)
{
  int e = errno;
  return maildir_fail(md, e == ENOENT ? MAIL_ERR_NOT_FOUND : MAIL_ERR_FILE, "%s%s%s: %s", what,
                      *what ? " " : "", path, strerror(e));
}

static int op_path(mail_maildir *md, const char *name, const store_entry *e, const char *path,
                   void *arg)
{
  (void)name;
  (void)e;
  path_arg *p = arg;
  if (access(path, F_OK) != 0)
    return file_error(md, "", path);
  size_t n = strlen(path);
  if (n >= p->cap)
    return maildir_fail(md, MAIL_ERR_BUFFER, "path buffer too small");
  memcpy(p->out, path, n + 1);
  return MAIL_OK;
}

int mail_maildir_message_path(char *path, size_t cap, mail_maildir *md, const char *name)
{
  if (!path || !cap || !md || !name)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  path[0] = '\0';
  path_arg p = {path, cap};
  return with_file(md, name, op_path, &p);
}

int mail_maildir_get_flags(char *flags, size_t cap, mail_maildir *md, const char *name)
{
  if (!flags || !cap || !md || !name)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  flags[0] = '\0';
  const store_entry *e;
  int rc = locate(md, name, &e);
  if (rc)
    return rc;
  size_t n = 0;
  if (strncmp(e->val, ":2,", 3) == 0)
    for (const char *p = e->val + 3; *p; p++)
      if (strchr("DFPRST", *p)) {
        if (n + 1 >= cap)
          return maildir_fail(md, MAIL_ERR_BUFFER, "flags buffer too small");
        flags[n++] = *p;
      }
  flags[n] = '\0';
  return MAIL_OK;
}

static int op_set_flags(mail_maildir *md, const char *name, const store_entry *e, const char *path,
                        void *arg)
{
  const char *flags = arg;
  char info[64], dest[PATH_MAX];
  maildir_info(info, sizeof info, flags, e->val);
  if (!e->num && strcmp(info, e->val) == 0)
    return MAIL_OK; /* already so */
  int rc = maildir_join(md, dest, "cur", name, info);
  if (rc)
    return rc;
  if (rename(path, dest) != 0)
    return file_error(md, "rename", path);
  int was_new = (int)e->num;
  rc = store_table_put(&md->index, name, info, 0);
  if (rc) {
    md->indexed = 0; /* the next lookup rebuilds it */
    store_table_free(&md->index);
  }
  if (was_new)
    maildir_sync_dir(md, "new");
  return maildir_sync_dir(md, "cur");
}

int mail_maildir_set_flags(mail_maildir *md, const char *name, const char *flags)
{
  if (!md || !name || !flags)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  if (!maildir_flags_valid(flags))
    return maildir_fail(md, MAIL_ERR_INVALID, "flags must be letters of DFPRST, each once");
  return with_file(md, name, op_set_flags, (void *)flags);
}

static int op_remove(mail_maildir *md, const char *name, const store_entry *e, const char *path,
                     void *arg)
{
  (void)arg;
  int in_new = (int)e->num;
  if (unlink(path) != 0)
    return file_error(md, "unlink", path);
  store_table_del(&md->index, name);
  return maildir_sync_dir(md, in_new ? "new" : "cur");
}

int mail_maildir_remove(mail_maildir *md, const char *name)
{
  if (!md || !name)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  return with_file(md, name, op_remove, NULL);
}

int mail_maildir_flags_from_imap(char *letters, size_t cap, const char *const *flags, size_t n)
{
  if (!letters || !cap || (n && !flags))
    return MAIL_ERR_INVALID;
  static const struct {
    const char *imap;
    char letter;
  } map[] = {{"\\Draft", 'D'}, {"\\Flagged", 'F'}, {"$Forwarded", 'P'},
             {"\\Answered", 'R'}, {"\\Seen", 'S'}, {"\\Deleted", 'T'}};
  char have[sizeof map / sizeof map[0]] = {0};
  for (size_t i = 0; i < n; i++) {
    if (!flags[i])
      return MAIL_ERR_INVALID;
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
      if (strcasecmp(flags[i], map[k].imap) == 0)
        have[k] = 1;
  }
  size_t len = 0;
  for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
    if (have[k]) {
      if (len + 1 >= cap)
        return MAIL_ERR_BUFFER;
      letters[len++] = map[k].letter;
    }
  letters[len] = '\0';
  return MAIL_OK;
}

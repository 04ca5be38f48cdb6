/* Deliveries into a maildir: written under tmp/, synced, linked into new/
 * or cur/, so a message appears whole or not at all. */
#include "store/maildir_internal.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/mem.h"

struct mail_maildir_delivery {
  mail_maildir *md;
  int fd;
  int cr;          /* the last byte given was a CR not yet written */
  uint64_t size;
  size_t blen;
  char base[MAIL_MAILDIR_NAME_MAX + 1];
  char tmp[PATH_MAX];
  unsigned char buf[16384];
};

static int write_all(mail_maildir_delivery *d, const unsigned char *p, size_t n)
{
  while (n) {
    ssize_t k = write(d->fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return maildir_fail(d->md, MAIL_ERR_FILE, "write %s: %s", d->tmp,
                          k < 0 ? strerror(errno) : "no progress");
    p += k;
    n -= (size_t)k;
  }
  return MAIL_OK;
}

static int flush(mail_maildir_delivery *d)
{
  int rc = write_all(d, d->buf, d->blen);
  d->blen = 0;
  return rc;
}

static int put(mail_maildir_delivery *d, unsigned char c)
{
  if (d->blen == sizeof d->buf) {
    int rc = flush(d);
    if (rc)
      return rc;
  }
  d->buf[d->blen++] = c;
  return MAIL_OK;
}

int mail_maildir_delivery_begin(mail_maildir_delivery **out, mail_maildir *md)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (!md)
    return MAIL_ERR_INVALID;
  md->err[0] = '\0';
  mail_maildir_delivery *d = mail_malloc(&md->alloc, sizeof *d);
  if (!d)
    return maildir_fail(md, MAIL_ERR_NOMEM, "out of memory");
  memset(d, 0, offsetof(mail_maildir_delivery, buf));
  d->md = md;
  d->fd = -1;
  /* A name taken meanwhile by another writer (same host, pid reused within
   * the microsecond) is simply the next one. */
  for (int attempt = 0; attempt < 8; attempt++) {
    maildir_unique(md, d->base, sizeof d->base);
    int rc = maildir_join(md, d->tmp, "tmp", d->base, NULL);
    if (rc) {
      mail_dealloc(&md->alloc, d);
      return rc;
    }
    d->fd = open(d->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (d->fd >= 0 || errno != EEXIST)
      break;
  }
  if (d->fd < 0) {
    int rc = maildir_fail(md, MAIL_ERR_FILE, "create %s: %s", d->tmp, strerror(errno));
    mail_dealloc(&md->alloc, d);
    return rc;
  }
  *out = d;
  return MAIL_OK;
}

int mail_maildir_delivery_write(mail_maildir_delivery *d, const void *data, size_t len)
{
  if (!d || (len && !data))
    return MAIL_ERR_INVALID;
  const unsigned char *p = data;
  d->size += len;
  if (d->md->flags & MAIL_MAILDIR_KEEP_CRLF) {
    if (len >= sizeof d->buf - d->blen) {
      int rc = flush(d);
      return rc ? rc : write_all(d, p, len);
    }
    memcpy(d->buf + d->blen, p, len);
    d->blen += len;
    return MAIL_OK;
  }
  for (size_t i = 0; i < len; i++) {
    int rc = MAIL_OK;
    if (d->cr && p[i] != '\n')
      rc = put(d, '\r'); /* a lone CR stays */
    d->cr = p[i] == '\r';
    if (!rc && !d->cr)
      rc = put(d, p[i]);
    if (rc)
      return rc;
  }
  return MAIL_OK;
}

static void discard(mail_maildir_delivery *d)
{
  if (d->fd >= 0)
    close(d->fd);
  unlink(d->tmp);
  mail_dealloc(&d->md->alloc, d);
}

void mail_maildir_delivery_abort(mail_maildir_delivery *d)
{
  if (d)
    discard(d);
}

const char *mail_maildir_delivery_tmp_path(const mail_maildir_delivery *d)
{
  return d ? d->tmp : NULL;
}

uint64_t mail_maildir_delivery_size(const mail_maildir_delivery *d)
{
  return d ? d->size : 0;
}

/* Everything written, synced, dated and closed. */
static int finish_file(mail_maildir_delivery *d, int64_t time_s)
{
  mail_maildir *md = d->md;
  int rc = d->cr ? put(d, '\r') : MAIL_OK;
  if (!rc)
    rc = flush(d);
  if (!rc && time_s > 0) {
    struct timespec times[2] = {{(time_t)time_s, 0}, {(time_t)time_s, 0}};
    if (futimens(d->fd, times) != 0)
      rc = maildir_fail(md, MAIL_ERR_FILE, "set the time of %s: %s", d->tmp, strerror(errno));
  }
  if (!rc && !(md->flags & MAIL_MAILDIR_NO_FSYNC) && fsync(d->fd) != 0)
    rc = maildir_fail(md, MAIL_ERR_FILE, "fsync %s: %s", d->tmp, strerror(errno));
  int fd = d->fd;
  d->fd = -1;
  if (close(fd) != 0 && !rc)
    rc = maildir_fail(md, MAIL_ERR_FILE, "close %s: %s", d->tmp, strerror(errno));
  return rc;
}

/* tmp/ to its place: link (never replaces a file), or rename where the
 * file system has no hard links. */
static int place(mail_maildir_delivery *d, const char *dest)
{
  if (link(d->tmp, dest) == 0) {
    unlink(d->tmp);
    return MAIL_OK;
  }
  int e = errno;
  if ((e == EPERM || e == ENOSYS || e == EOPNOTSUPP || e == EMLINK) && rename(d->tmp, dest) == 0)
    return MAIL_OK;
  return maildir_fail(d->md, MAIL_ERR_FILE, "deliver %s: %s", dest, strerror(e));
}

int mail_maildir_delivery_commit(char *name, size_t cap, mail_maildir_delivery *d,
                                 const char *flags, int64_t time_s)
{
  if (!d)
    return MAIL_ERR_INVALID;
  mail_maildir *md = d->md;
  if (name && cap)
    name[0] = '\0';
  if (flags && !maildir_flags_valid(flags)) {
    discard(d);
    return maildir_fail(md, MAIL_ERR_INVALID, "flags must be letters of DFPRST, each once");
  }
  int rc = finish_file(d, time_s);
  char info[64] = "", dest[PATH_MAX];
  if (flags)
    maildir_info(info, sizeof info, flags, NULL);
  if (!rc)
    rc = maildir_join(md, dest, flags ? "cur" : "new", d->base, info);
  if (!rc)
    rc = place(d, dest);
  if (rc) {
    discard(d);
    return rc;
  }
  rc = maildir_sync_dir(md, flags ? "cur" : "new");
  if (rc) {
    /* Not known to be durable: take it back rather than claim it. */
    unlink(dest);
    discard(d);
    return rc;
  }
  if (maildir_index_put(md, d->base, info, !flags) != MAIL_OK) {
    md->indexed = 0;
    store_table_free(&md->index);
  }
  int out = MAIL_OK;
  if (name && cap) {
    size_t n = strlen(d->base);
    if (n >= cap) {
      n = cap - 1;
      out = maildir_fail(md, MAIL_ERR_BUFFER, "name buffer too small");
    }
    memcpy(name, d->base, n);
    name[n] = '\0';
  }
  mail_dealloc(&md->alloc, d);
  return out;
}

int mail_maildir_deliver(char *name, size_t cap, mail_maildir *md, const char *flags,
                         int64_t time_s, mail_read_fn read, void *user)
{
  if (!md || !read)
    return MAIL_ERR_INVALID;
  if (flags && !maildir_flags_valid(flags))
    return maildir_fail(md, MAIL_ERR_INVALID, "flags must be letters of DFPRST, each once");
  mail_maildir_delivery *d;
  int rc = mail_maildir_delivery_begin(&d, md);
  if (rc)
    return rc;
  unsigned char buf[8192];
  for (;;) {
    size_t got = 0;
    if (read(user, buf, sizeof buf, &got) != 0) {
      discard(d);
      return maildir_fail(md, MAIL_ERR_CALLBACK, "the read callback failed");
    }
    if (got == 0)
      break;
    if (got > sizeof buf) {
      discard(d);
      return maildir_fail(md, MAIL_ERR_CALLBACK, "the read callback gave more than asked");
    }
    rc = mail_maildir_delivery_write(d, buf, got);
    if (rc) {
      discard(d);
      return rc;
    }
  }
  return mail_maildir_delivery_commit(name, cap, d, flags, time_s);
}

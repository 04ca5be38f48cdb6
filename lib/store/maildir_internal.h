/* The maildir store's handle and what its files share (lib/store). */
#ifndef MAIL_STORE_MAILDIR_INTERNAL_H
#define MAIL_STORE_MAILDIR_INTERNAL_H

#include <limits.h>
#include <mail/maildir.h>

#include "store/table.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct mail_maildir {
  mail_allocator alloc;
  char *path;
  unsigned int flags;
  /* Where each message is: base name -> the rest of its file name (":2,FS"
   * or ""), num 1 when in new/. Built by the first lookup or listing. */
  store_table index;
  int indexed;
  store_table map;     /* the key map: key -> name, num = the caller's value */
  unsigned long seq;   /* names made by this handle */
  char host[96];       /* this host's name as a maildir name part */
  char err[512];
};

/* Record why (rc is returned). */
int maildir_fail(mail_maildir *md, int rc, const char *fmt, ...)
#if defined(__GNUC__)
  __attribute__((format(printf, 3, 4)))
#endif
  ;
/* path/sub/name into out (PATH_MAX); MAIL_ERR_INVALID when too long. */
int maildir_join(mail_maildir *md, char *out, const char *sub, const char *name, const char *suffix);
/* A new unique base name (at most MAIL_MAILDIR_NAME_MAX bytes). */
void maildir_unique(mail_maildir *md, char *out, size_t cap);
/* fsync a directory of the maildir ("new", "cur", "" for the top) unless NO_FSYNC. */
int maildir_sync_dir(mail_maildir *md, const char *sub);
/* 1 for a valid flag string (upper-case letters DFPRST, each once). */
int maildir_flags_valid(const char *flags);
/* ":2," and the flags in ASCII order, plus the keywords (lower-case) of old_info. */
void maildir_info(char *out, size_t cap, const char *flags, const char *old_info);
/* A delivered message is now at sub/name+suffix (keeps the index current). */
int maildir_index_put(mail_maildir *md, const char *name, const char *suffix, int in_new);
/* The key map file: load at open, save on request (maildir_map.c). */
int maildir_map_load(mail_maildir *md);
/* 1 when name can be a base name. */
int maildir_name_valid(const char *name);

#endif

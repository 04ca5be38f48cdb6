/*
 * The maildir store (mail/maildir.h) in scratch directories: atomic
 * delivery into new/ and cur/ (CRLF to LF across writes, a lone CR kept,
 * flags in names, times), nothing left behind by an abort, a bad flag
 * string or a failing read callback; listing, flags (keywords of another
 * program kept), removal, a message moved by another program found again;
 * the key map saved atomically, loaded again, a damaged one refused; every
 * allocation failing in turn leaves no leak and no stray file.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mail/maildir.h>

#include "alloc.h"

static char root[256];

static void make_root(void)
{
  snprintf(root, sizeof root, "/tmp/libmail-maildir-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void rm_rf(const char *path)
{
  DIR *d = opendir(path);
  if (d) {
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
      if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
        continue;
      char p[1024];
      snprintf(p, sizeof p, "%s/%s", path, de->d_name);
      rm_rf(p);
    }
    closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static int count_files(const char *sub)
{
  char p[512];
  snprintf(p, sizeof p, "%s/md/%s", root, sub);
  DIR *d = opendir(p);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (de->d_name[0] != '.')
      n++;
  closedir(d);
  return n;
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  static char buf[262144];
  *len = fread(buf, 1, sizeof buf, f);
  fclose(f);
  return buf;
}

static mail_maildir *open_md(unsigned int flags)
{
  char p[512];
  snprintf(p, sizeof p, "%s/md", root);
  mail_maildir *md = NULL;
  ck_assert_int_eq(mail_maildir_open(&md, p, flags | MAIL_MAILDIR_CREATE, NULL), MAIL_OK);
  return md;
}

START_TEST(open_needs_a_maildir)
{
  make_root();
  char p[512];
  snprintf(p, sizeof p, "%s/md", root);
  mail_maildir *md = (mail_maildir *)1;
  ck_assert_int_eq(mail_maildir_open(&md, p, 0, NULL), MAIL_ERR_NOT_FOUND);
  ck_assert_ptr_null(md);
  ck_assert_int_eq(mail_maildir_open(&md, p, 1u << 20, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_open(&md, "", 0, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_open(&md, p, MAIL_MAILDIR_CREATE, NULL), MAIL_OK);
  ck_assert_int_eq(count_files("cur"), 0);
  ck_assert_int_eq(count_files("new"), 0);
  ck_assert_int_eq(count_files("tmp"), 0);
  ck_assert_str_eq(mail_maildir_path(md), p);
  mail_maildir_free(md);
  /* Now it is one. */
  ck_assert_int_eq(mail_maildir_open(&md, p, 0, NULL), MAIL_OK);
  mail_maildir_free(md);
  mail_maildir_free(NULL);
  rm_rf(root);
}
END_TEST

START_TEST(delivery_to_new_with_lf)
{
  make_root();
  mail_maildir *md = open_md(0);
  mail_maildir_delivery *d = NULL;
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(count_files("tmp"), 1);
  ck_assert_ptr_nonnull(strstr(mail_maildir_delivery_tmp_path(d), "/tmp/"));
  /* CRLF split across writes, a lone CR, a CR at the very end. */
  const char *parts[] = {"Subject: x\r", "\nA lone\rCR\r\n", "\r", "\nend\r"};
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(mail_maildir_delivery_write(d, parts[i], strlen(parts[i])), MAIL_OK);
  ck_assert_uint_eq(mail_maildir_delivery_size(d), 29);
  char name[MAIL_MAILDIR_NAME_MAX + 1];
  ck_assert_int_eq(mail_maildir_delivery_commit(name, sizeof name, d, NULL, 0), MAIL_OK);
  ck_assert_int_eq(count_files("tmp"), 0);
  ck_assert_int_eq(count_files("new"), 1);
  ck_assert_ptr_null(strchr(name, ':'));
  char path[1024];
  ck_assert_int_eq(mail_maildir_message_path(path, sizeof path, md, name), MAIL_OK);
  ck_assert_ptr_nonnull(strstr(path, "/new/"));
  size_t len;
  char *got = slurp(path, &len);
  const char *want = "Subject: x\nA lone\rCR\n\nend\r";
  ck_assert_uint_eq(len, strlen(want));
  ck_assert(memcmp(got, want, len) == 0);
  char flags[8];
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, name), MAIL_OK);
  ck_assert_str_eq(flags, "");
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

START_TEST(delivery_to_cur_with_flags_and_time)
{
  make_root();
  mail_maildir *md = open_md(MAIL_MAILDIR_KEEP_CRLF);
  mail_maildir_delivery *d = NULL;
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_write(d, "a\r\nb\r\n", 6), MAIL_OK);
  char name[MAIL_MAILDIR_NAME_MAX + 1];
  ck_assert_int_eq(mail_maildir_delivery_commit(name, sizeof name, d, "SF", 1700000000), MAIL_OK);
  ck_assert_int_eq(count_files("cur"), 1);
  char path[1024];
  ck_assert_int_eq(mail_maildir_message_path(path, sizeof path, md, name), MAIL_OK);
  ck_assert_ptr_nonnull(strstr(path, ":2,FS"));
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq((long)st.st_mtime, 1700000000L);
  ck_assert_int_eq((int)st.st_size, 6);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  char flags[8];
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, name), MAIL_OK);
  ck_assert_str_eq(flags, "FS");
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

START_TEST(nothing_left_behind)
{
  make_root();
  mail_maildir *md = open_md(0);
  mail_maildir_delivery *d = NULL;
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_write(d, "x", 1), MAIL_OK);
  mail_maildir_delivery_abort(d);
  mail_maildir_delivery_abort(NULL);
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_commit(NULL, 0, d, "SX", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_commit(NULL, 0, d, "SS", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_commit(NULL, 0, d, "s", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(count_files("tmp"), 0);
  ck_assert_int_eq(count_files("new"), 0);
  ck_assert_int_eq(count_files("cur"), 0);
  /* A name buffer too small: delivered, the name cut, the status says so. */
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  char small[4];
  ck_assert_int_eq(mail_maildir_delivery_commit(small, sizeof small, d, NULL, 0), MAIL_ERR_BUFFER);
  ck_assert_uint_eq(strlen(small), 3);
  ck_assert_int_eq(count_files("new"), 1);
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

typedef struct src {
  const char *data;
  size_t len, at, chunk;
  int fail_at; /* fail on this call (1-based), 0 never */
  int calls;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  if (++s->calls == s->fail_at)
    return -1;
  size_t n = s->len - s->at;
  if (n > cap)
    n = cap;
  if (n > s->chunk)
    n = s->chunk;
  memcpy(buf, s->data + s->at, n);
  s->at += n;
  *got = n;
  return 0;
}

START_TEST(deliver_from_a_callback)
{
  make_root();
  mail_maildir *md = open_md(0);
  static char msg[100000];
  size_t len = 0;
  while (len + 40 < sizeof msg)
    len += (size_t)snprintf(msg + len, sizeof msg - len, "line %zu\r\n", len);
  src s = {msg, len, 0, 3001, 0, 0};
  char name[MAIL_MAILDIR_NAME_MAX + 1];
  ck_assert_int_eq(mail_maildir_deliver(name, sizeof name, md, "S", 0, src_read, &s), MAIL_OK);
  char path[1024];
  ck_assert_int_eq(mail_maildir_message_path(path, sizeof path, md, name), MAIL_OK);
  size_t got_len;
  char *got = slurp(path, &got_len);
  /* Every CRLF became LF. */
  size_t lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += msg[i] == '\n';
  ck_assert_uint_eq(got_len, len - lines);
  ck_assert_ptr_null(memchr(got, '\r', got_len));
  /* A callback that fails: nothing delivered, tmp/ empty. */
  src bad = {msg, len, 0, 1000, 5, 0};
  ck_assert_int_eq(mail_maildir_deliver(NULL, 0, md, NULL, 0, src_read, &bad), MAIL_ERR_CALLBACK);
  ck_assert_int_eq(count_files("tmp"), 0);
  ck_assert_int_eq(count_files("new"), 0);
  ck_assert_int_eq(count_files("cur"), 1);
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

typedef struct listing {
  int n, in_new;
  uint64_t bytes;
  char flags_of[4][16];
} listing;

static int on_entry(void *user, const char *name, const char *flags, int in_new, uint64_t size,
                    int64_t mtime)
{
  listing *l = user;
  (void)name;
  (void)mtime;
  if (l->n < 4)
    snprintf(l->flags_of[l->n], sizeof l->flags_of[0], "%s", flags);
  l->n++;
  l->in_new += in_new;
  l->bytes += size;
  return 0;
}

static void put_msg(mail_maildir *md, const char *flags, char *name)
{
  mail_maildir_delivery *d = NULL;
  ck_assert_int_eq(mail_maildir_delivery_begin(&d, md), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_write(d, "hello\n", 6), MAIL_OK);
  ck_assert_int_eq(mail_maildir_delivery_commit(name, MAIL_MAILDIR_NAME_MAX + 1, d, flags, 0),
                   MAIL_OK);
}

START_TEST(list_flags_remove)
{
  make_root();
  mail_maildir *md = open_md(0);
  char a[MAIL_MAILDIR_NAME_MAX + 1], b[MAIL_MAILDIR_NAME_MAX + 1], c[MAIL_MAILDIR_NAME_MAX + 1];
  put_msg(md, NULL, a);
  put_msg(md, "S", b);
  put_msg(md, "", c);
  ck_assert_str_ne(a, b);
  listing l;
  memset(&l, 0, sizeof l);
  ck_assert_int_eq(mail_maildir_list(md, on_entry, &l), MAIL_OK);
  ck_assert_int_eq(l.n, 3);
  ck_assert_int_eq(l.in_new, 1);
  ck_assert_uint_eq(l.bytes, 18);
  /* new/ to cur/ with flags; then flags replaced. */
  ck_assert_int_eq(mail_maildir_set_flags(md, a, "RS"), MAIL_OK);
  ck_assert_int_eq(count_files("new"), 0);
  char flags[8];
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, a), MAIL_OK);
  ck_assert_str_eq(flags, "RS");
  ck_assert_int_eq(mail_maildir_set_flags(md, a, "T"), MAIL_OK);
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, a), MAIL_OK);
  ck_assert_str_eq(flags, "T");
  ck_assert_int_eq(mail_maildir_set_flags(md, a, "x"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_set_flags(md, "no-such", "S"), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_maildir_set_flags(md, "../evil", "S"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_remove(md, c), MAIL_OK);
  ck_assert_int_eq(mail_maildir_remove(md, c), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(count_files("cur"), 2);
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

START_TEST(moved_by_another_program)
{
  make_root();
  mail_maildir *md = open_md(0);
  char a[MAIL_MAILDIR_NAME_MAX + 1];
  put_msg(md, NULL, a);
  char flags[8];
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, a), MAIL_OK); /* indexed */
  /* A mail reader moves it to cur/ and gives it a keyword of its own. */
  char from[1024], to[1024];
  snprintf(from, sizeof from, "%s/md/new/%s", root, a);
  snprintf(to, sizeof to, "%s/md/cur/%s:2,Sab", root, a);
  ck_assert_int_eq(rename(from, to), 0);
  ck_assert_int_eq(mail_maildir_set_flags(md, a, "F"), MAIL_OK);
  snprintf(to, sizeof to, "%s/md/cur/%s:2,Fab", root, a);
  ck_assert_int_eq(access(to, F_OK), 0);
  ck_assert_int_eq(mail_maildir_get_flags(flags, sizeof flags, md, a), MAIL_OK);
  ck_assert_str_eq(flags, "F");
  /* And removes it: the store says so. */
  ck_assert_int_eq(unlink(to), 0);
  ck_assert_int_eq(mail_maildir_remove(md, a), MAIL_ERR_NOT_FOUND);
  char path[1024];
  ck_assert_int_eq(mail_maildir_message_path(path, sizeof path, md, a), MAIL_ERR_NOT_FOUND);
  mail_maildir_free(md);
  rm_rf(root);
}
END_TEST

START_TEST(flags_from_imap)
{
  char l[8];
  const char *f[] = {"\\Seen", "\\flagged", "$Forwarded", "$Junk", "\\Deleted", "\\Answered",
                     "\\Draft", "\\Recent"};
  ck_assert_int_eq(mail_maildir_flags_from_imap(l, sizeof l, f, 8), MAIL_OK);
  ck_assert_str_eq(l, "DFPRST");
  ck_assert_int_eq(mail_maildir_flags_from_imap(l, sizeof l, NULL, 0), MAIL_OK);
  ck_assert_str_eq(l, "");
  ck_assert_int_eq(mail_maildir_flags_from_imap(l, 3, f, 8), MAIL_ERR_BUFFER);
  ck_assert_int_eq(mail_maildir_flags_from_imap(l, sizeof l, NULL, 1), MAIL_ERR_INVALID);
}
END_TEST

typedef struct walk {
  int n;
  int64_t sum;
} walk;

static int on_map(void *user, const char *key, const char *name, int64_t value)
{
  walk *w = user;
  (void)key;
  (void)name;
  w->n++;
  w->sum += value;
  return 0;
}

START_TEST(key_map_saved_and_loaded)
{
  make_root();
  mail_maildir *md = open_md(MAIL_MAILDIR_NO_FSYNC);
  char key[32], name[64];
  for (int i = 0; i < 20000; i++) {
    snprintf(key, sizeof key, "1700.%d", i);
    snprintf(name, sizeof name, "msg%d.host", i);
    ck_assert_int_eq(mail_maildir_map_set(md, key, name, i), MAIL_OK);
  }
  ck_assert_int_eq(mail_maildir_map_set(md, "1700.5", "replaced", -5), MAIL_OK);
  for (int i = 10000; i < 15000; i++) {
    snprintf(key, sizeof key, "1700.%d", i);
    ck_assert_int_eq(mail_maildir_map_remove(md, key), MAIL_OK);
  }
  ck_assert_int_eq(mail_maildir_map_remove(md, "1700.10000"), MAIL_ERR_NOT_FOUND);
  ck_assert_uint_eq(mail_maildir_map_count(md), 15000);
  ck_assert_int_eq(mail_maildir_map_set(md, "has space", "n", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_map_set(md, "k", "a/b", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_map_set(md, "k", "a:2,S", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_maildir_map_save(md), MAIL_OK);
  ck_assert_int_eq(count_files("tmp"), 0);
  mail_maildir_free(md);

  md = open_md(0);
  ck_assert_uint_eq(mail_maildir_map_count(md), 15000);
  int64_t v = 0;
  ck_assert_int_eq(mail_maildir_map_get(name, sizeof name, &v, md, "1700.5"), MAIL_OK);
  ck_assert_str_eq(name, "replaced");
  ck_assert_int_eq((int)v, -5);
  ck_assert_int_eq(mail_maildir_map_get(name, sizeof name, &v, md, "1700.12000"), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_maildir_map_get(name, 3, &v, md, "1700.19999"), MAIL_ERR_BUFFER);
  ck_assert_int_eq(mail_maildir_map_get(NULL, 0, &v, md, "1700.19999"), MAIL_OK);
  ck_assert_int_eq((int)v, 19999);
  walk w = {0, 0};
  ck_assert_int_eq(mail_maildir_map_each(md, on_map, &w), MAIL_OK);
  ck_assert_int_eq(w.n, 15000);
  mail_maildir_free(md);

  /* A damaged map is refused and left as it is. */
  char p[512];
  snprintf(p, sizeof p, "%s/md/libmail-map", root);
  FILE *f = fopen(p, "a");
  ck_assert_ptr_nonnull(f);
  fputs("no tabs here\n", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/md", root);
  ck_assert_int_eq(mail_maildir_open(&md, p, 0, NULL), MAIL_ERR_SYNTAX);
  snprintf(p, sizeof p, "%s/md/libmail-map", root);
  f = fopen(p, "w");
  fputs("libmail-map 1\nk\tn\t1", f); /* no final LF: cut short */
  fclose(f);
  snprintf(p, sizeof p, "%s/md", root);
  ck_assert_int_eq(mail_maildir_open(&md, p, 0, NULL), MAIL_ERR_SYNTAX);
  snprintf(p, sizeof p, "%s/md/libmail-map", root);
  f = fopen(p, "w");
  fputs("something else\n", f);
  fclose(f);
  snprintf(p, sizeof p, "%s/md", root);
  ck_assert_int_eq(mail_maildir_open(&md, p, 0, NULL), MAIL_ERR_SYNTAX);
  rm_rf(root);
}
END_TEST

/* Open, deliver two messages, set flags, map and save, list, with the Nth
 * allocation failing: a clean error each time, nothing leaked, and never
 * a file in tmp/. */
START_TEST(every_allocation_fails)
{
  make_root();
  char p[512];
  snprintf(p, sizeof p, "%s/md", root);
  for (unsigned long n = 1;; n++) {
    mail_test_alloc t;
    mail_test_alloc_init(&t);
    mail_test_alloc_fail_at(&t, n, 0);
    mail_maildir *md = NULL;
    int rc = mail_maildir_open(&md, p, MAIL_MAILDIR_CREATE | MAIL_MAILDIR_NO_FSYNC,
                               mail_test_alloc_hooks(&t));
    char name[MAIL_MAILDIR_NAME_MAX + 1] = "";
    if (!rc) {
      mail_maildir_delivery *d = NULL;
      rc = mail_maildir_delivery_begin(&d, md);
      if (!rc) {
        mail_maildir_delivery_write(d, "x\r\n", 3);
        rc = mail_maildir_delivery_commit(name, sizeof name, d, NULL, 0);
      }
    }
    if (!rc)
      rc = mail_maildir_set_flags(md, name, "S");
    if (!rc)
      rc = mail_maildir_map_set(md, "1.1", name, 1);
    if (!rc)
      rc = mail_maildir_map_save(md);
    listing l;
    memset(&l, 0, sizeof l);
    if (!rc)
      rc = mail_maildir_list(md, on_entry, &l);
    ck_assert_msg(rc == MAIL_OK || rc == MAIL_ERR_NOMEM, "allocation %lu: %s", n, mail_strerror(rc));
    ck_assert_int_le(count_files("tmp"), 0);
    mail_maildir_free(md);
    ck_assert_uint_eq(t.live, 0);
    int injected = t.failures > 0;
    mail_test_alloc_cleanup(&t);
    rm_rf(p);
    if (rc == MAIL_OK && !injected)
      break;
    ck_assert_uint_lt(n, 1000);
  }
  rm_rf(root);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("maildir");
  TCase *tc = tcase_create("maildir");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, open_needs_a_maildir);
  tcase_add_test(tc, delivery_to_new_with_lf);
  tcase_add_test(tc, delivery_to_cur_with_flags_and_time);
  tcase_add_test(tc, nothing_left_behind);
  tcase_add_test(tc, deliver_from_a_callback);
  tcase_add_test(tc, list_flags_remove);
  tcase_add_test(tc, moved_by_another_program);
  tcase_add_test(tc, flags_from_imap);
  tcase_add_test(tc, key_map_saved_and_loaded);
  tcase_add_test(tc, every_allocation_fails);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

/* The IMAP extension commands (mail/imap_ext.h) against the real Dovecot
 * with its quota, acl and METADATA settings (tests/servers/dovecot.conf.in),
 * each asserting what the server reads back: quota usage after an APPEND
 * and [OVERQUOTA] past the limit, rights after SETACL / DELETEACL, the
 * metadata values stored (a literal with CRLF too) and removed, the sort
 * order and a thread's shape (REFERENCES and ORDEREDSUBJECT), ESORT's
 * COUNT, the UIDs of a MULTIAPPEND, WITHIN and SAVEDATE searches, FETCH SAVEDATE and PREVIEW typed,
 * STATUS SIZE. What Dovecot 2.3 does not offer (CREATE-SPECIAL-USE,
 * UNAUTHENTICATE, LIST-MYRIGHTS) is refused by the library with nothing
 * sent and the session goes on; its transcripts cover the rest. Each test
 * works in mailboxes of its own. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap.h>
#include <mail/imap_ext.h>

#include "imap_it.h"
#include "servers_env.h"

#define USER_ALICE 1
#define USER_QUOTA 4

/* What the untagged callback saw. */
typedef struct seen {
  int quota_found;
  uint64_t storage_used, storage_limit;
  char acl[512];       /* "id=rights " for each entry of the last ACL */
  char myrights[64];
  char listrights[256];
  char meta[1024];     /* "entry=value;" of the last METADATA */
  size_t nmeta;
  uint32_t sort[16];
  size_t nsort;
  uint32_t thr_num[16];
  size_t thr_parent[16];
  size_t nthr;
  char esearch[128];
  uint32_t search[16];
  size_t nsearch;
  int savedate, preview_ok;
  uint64_t size;
} seen;

static void cat(char *buf, size_t cap, const char *s, size_t n)
{
  size_t l = strlen(buf);
  if (l + n + 1 < cap) {
    memcpy(buf + l, s ? s : "NIL", s ? n : 3);
    buf[l + (s ? n : 3)] = '\0';
  }
}

static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  seen *sn = user;
  (void)trusted;
  size_t n, m;
  const char *s, *v;
  uint64_t a, b;
  switch (mail_imap_response_type(r)) {
  case MAIL_IMAP_TYPE_QUOTA:
    for (size_t i = 0; mail_imap_response_quota(r, i, &s, &n, &a, &b) == MAIL_OK; i++)
      if (n == 7 && !memcmp(s, "STORAGE", 7)) {
        sn->quota_found = 1;
        sn->storage_used = a;
        sn->storage_limit = b;
      }
    break;
  case MAIL_IMAP_TYPE_ACL:
    sn->acl[0] = '\0';
    for (size_t i = 0; mail_imap_response_acl(r, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      cat(sn->acl, sizeof sn->acl, s, n);
      cat(sn->acl, sizeof sn->acl, "=", 1);
      cat(sn->acl, sizeof sn->acl, v, m);
      cat(sn->acl, sizeof sn->acl, " ", 1);
    }
    break;
  case MAIL_IMAP_TYPE_MYRIGHTS:
    s = mail_imap_response_string(r, 0, &n);
    sn->myrights[0] = '\0';
    cat(sn->myrights, sizeof sn->myrights, s, n);
    break;
  case MAIL_IMAP_TYPE_LISTRIGHTS:
    sn->listrights[0] = '\0';
    for (size_t i = 0; i < mail_imap_response_string_count(r); i++) {
      s = mail_imap_response_string(r, i, &n);
      cat(sn->listrights, sizeof sn->listrights, s, n);
      cat(sn->listrights, sizeof sn->listrights, " ", 1);
    }
    break;
  case MAIL_IMAP_TYPE_METADATA:
    sn->meta[0] = '\0';
    sn->nmeta = 0;
    for (size_t i = 0; mail_imap_response_metadata(r, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      cat(sn->meta, sizeof sn->meta, s, n);
      cat(sn->meta, sizeof sn->meta, "=", 1);
      cat(sn->meta, sizeof sn->meta, v, m);
      cat(sn->meta, sizeof sn->meta, ";", 1);
      sn->nmeta++;
    }
    break;
  case MAIL_IMAP_TYPE_SORT: {
    const uint32_t *nums = mail_imap_response_numbers(r, &n);
    sn->nsort = n < 16 ? n : 16;
    memcpy(sn->sort, nums, sn->nsort * sizeof *nums);
    break;
  }
  case MAIL_IMAP_TYPE_SEARCH: {
    const uint32_t *nums = mail_imap_response_numbers(r, &n);
    sn->nsearch = n < 16 ? n : 16;
    memcpy(sn->search, nums, sn->nsearch * sizeof *nums);
    break;
  }
  case MAIL_IMAP_TYPE_THREAD:
    sn->nthr = 0;
    for (size_t i = 0; sn->nthr < 16 && mail_imap_response_thread_node(
                                            r, i, &sn->thr_num[sn->nthr],
                                            &sn->thr_parent[sn->nthr]) == MAIL_OK;
         i++)
      sn->nthr++;
    break;
  case MAIL_IMAP_TYPE_ESEARCH:
    sn->esearch[0] = '\0';
    for (size_t i = 0; mail_imap_response_esearch_item(r, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      cat(sn->esearch, sizeof sn->esearch, s, n);
      cat(sn->esearch, sizeof sn->esearch, "=", 1);
      cat(sn->esearch, sizeof sn->esearch, v, m);
      cat(sn->esearch, sizeof sn->esearch, " ", 1);
    }
    break;
  case MAIL_IMAP_TYPE_FETCH:
    if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_SAVEDATE) &&
        mail_imap_fetch_string(r, MAIL_IMAP_ITEM_SAVEDATE, &n) && n > 10)
      sn->savedate = 1;
    s = mail_imap_fetch_string(r, MAIL_IMAP_ITEM_PREVIEW, &n);
    if (s && n >= 5 && !memcmp(s, "Body ", 5))
      sn->preview_ok = 1;
    break;
  case MAIL_IMAP_TYPE_STATUS:
    for (size_t i = 0; mail_imap_response_status_item(r, i, &s, &n, &a) == MAIL_OK; i++)
      if (n == 4 && !memcmp(s, "SIZE", 4))
        sn->size = a;
    break;
  default:
    break;
  }
  return 0;
}

typedef struct src {
  const char *data;
  size_t len, at;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t n = s->len - s->at < cap ? s->len - s->at : cap;
  memcpy(buf, s->data + s->at, n);
  s->at += n;
  *got = n;
  return 0;
}

static int append(mail_imap *im, const char *box, const char *msg, size_t len)
{
  src s = {msg, len, 0};
  return mail_imap_append(im, box, NULL, 0, 0, len, src_read, &s);
}

static void create(mail_imap *im, const char *box)
{
  int rc = mail_imap_create(im, box);
  ck_assert_msg(rc == MAIL_OK, "CREATE %s: %s: %s", box, mail_strerror(rc),
                mail_imap_last_text(im));
}

static mail_imap *session(int user, seen *sn)
{
  mail_imap *im = imap_it_login(user, 1, NULL);
  memset(sn, 0, sizeof *sn);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, sn), MAIL_OK);
  return im;
}

/* A message of about size bytes. */
static char *message(size_t size, const char *subject)
{
  char *m = malloc(size + 256);
  int k = snprintf(m, 256, "From: a@libmail.test\r\nSubject: %s\r\n\r\n", subject);
  size_t at = (size_t)k;
  while (at + 2 < size) {
    size_t line = size - at - 2 < 70 ? size - at - 2 : 70;
    memset(m + at, 'q', line);
    at += line;
    memcpy(m + at, "\r\n", 2);
    at += 2;
  }
  m[at] = '\0';
  return m;
}

START_TEST(test_quota_usage_after_append)
{
  seen sn;
  mail_imap *im = session(USER_QUOTA, &sn);
  ck_assert(mail_imap_has_capability(im, "QUOTA"));
  char box[128];
  imap_it_unique(box, sizeof box, "quota");
  create(im, box);
  ck_assert_int_eq(mail_imap_getquotaroot(im, box), MAIL_OK);
  ck_assert(sn.quota_found);
  ck_assert_uint_eq(sn.storage_limit, 10); /* servers.sh: 10240 bytes, in KiB */
  uint64_t before = sn.storage_used;
  char *m = message(3000, "quota");
  ck_assert_int_eq(append(im, box, m, strlen(m)), MAIL_OK);
  sn.quota_found = 0;
  ck_assert_int_eq(mail_imap_getquota(im, "User quota"), MAIL_OK);
  ck_assert(sn.quota_found);
  ck_assert_msg(sn.storage_used >= before + 2, "usage %llu after %llu",
                (unsigned long long)sn.storage_used, (unsigned long long)before);
  /* past the limit: refused with [OVERQUOTA], nothing stored */
  char *big = message(12000, "too big");
  int rc = append(im, box, big, strlen(big));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_OVERQUOTA);
  free(big);
  free(m);
  /* SETQUOTA is the administrator's: Dovecot refuses it */
  static const char *const res[] = {"STORAGE"};
  ck_assert_int_eq(mail_imap_setquota(im, "User quota", res, (const uint64_t[]){20}, 1),
                   MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  sn.quota_found = 0;
  ck_assert_int_eq(mail_imap_getquota(im, "User quota"), MAIL_OK);
  ck_assert(sn.quota_found && sn.storage_used <= before + 1);
  imap_it_logout(im);
}
END_TEST

START_TEST(test_acl_rights_after_setacl)
{
  seen sn;
  mail_imap *im = session(USER_ALICE, &sn);
  ck_assert(mail_imap_has_capability(im, "ACL"));
  char box[128];
  imap_it_unique(box, sizeof box, "acl");
  create(im, box);
  const char *bob = mail_test_env("MAIL_TEST_USER2");
  ck_assert_ptr_nonnull(bob);
  ck_assert_int_eq(mail_imap_setacl(im, box, bob, "lrs"), MAIL_OK);
  ck_assert_int_eq(mail_imap_getacl(im, box), MAIL_OK);
  char want[64];
  snprintf(want, sizeof want, "%s=lrs ", bob);
  ck_assert_msg(strstr(sn.acl, want), "ACL: %s", sn.acl);
  ck_assert_int_eq(mail_imap_setacl(im, box, bob, "+w"), MAIL_OK);
  ck_assert_int_eq(mail_imap_getacl(im, box), MAIL_OK);
  snprintf(want, sizeof want, "%s=lrws ", bob); /* Dovecot's order of the letters */
  ck_assert_msg(strstr(sn.acl, want), "ACL: %s", sn.acl);
  ck_assert_int_eq(mail_imap_myrights(im, box), MAIL_OK);
  ck_assert_msg(strchr(sn.myrights, 'a') && strchr(sn.myrights, 'l'), "MYRIGHTS %s",
                sn.myrights);
  ck_assert_int_eq(mail_imap_listrights(im, box, bob), MAIL_OK);
  ck_assert_msg(!strncmp(sn.listrights, bob, strlen(bob)), "LISTRIGHTS %s", sn.listrights);
  ck_assert_int_eq(mail_imap_deleteacl(im, box, bob), MAIL_OK);
  ck_assert_int_eq(mail_imap_getacl(im, box), MAIL_OK);
  snprintf(want, sizeof want, "%s=", bob);
  ck_assert_msg(!strstr(sn.acl, want), "ACL after DELETEACL: %s", sn.acl);
  ck_assert_int_eq(mail_imap_setacl(im, box, bob, "l r"), MAIL_ERR_INVALID);
  /* LIST-MYRIGHTS is not in Dovecot 2.3: refused before a byte goes out */
  ck_assert_int_eq(mail_imap_list(im, "", box, MAIL_IMAP_LIST_MYRIGHTS), MAIL_ERR_UNSUPPORTED);
  ck_assert_str_eq(mail_conn_last_error(mail_imap_conn(im)),
                   "LIST-MYRIGHTS is not offered by this server");
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

START_TEST(test_metadata_value_stored)
{
  seen sn;
  mail_imap *im = session(USER_ALICE, &sn);
  ck_assert(mail_imap_has_capability(im, "METADATA"));
  char box[128];
  imap_it_unique(box, sizeof box, "metadata");
  create(im, box);
  static const char *const entries[] = {"/private/comment", "/shared/vendor/libmail/note"};
  static const char *const values[] = {"a comment \"quoted\"", "two\r\nlines"};
  ck_assert_int_eq(mail_imap_setmetadata(im, box, entries, values, NULL, 2), MAIL_OK);
  ck_assert_int_eq(mail_imap_getmetadata(im, box, entries, 2, 0, MAIL_IMAP_METADATA_DEPTH_0),
                   MAIL_OK);
  ck_assert_msg(strstr(sn.meta, "/private/comment=a comment \"quoted\";"), "%s", sn.meta);
  ck_assert_msg(strstr(sn.meta, "/shared/vendor/libmail/note=two\r\nlines;"), "%s", sn.meta);
  /* MAXSIZE: the longer value is left out and the OK says how long it is */
  ck_assert_int_eq(mail_imap_getmetadata(im, box, entries, 2, 12, MAIL_IMAP_METADATA_DEPTH_0),
                   MAIL_OK);
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_METADATA);
  ck_assert_str_eq(mail_imap_last_code_data(im), "LONGENTRIES 18");
  ck_assert_msg(strstr(sn.meta, "/shared/vendor/libmail/note=two\r\nlines;"), "%s", sn.meta);
  /* DEPTH: the children of /shared/vendor */
  sn.meta[0] = '\0';
  ck_assert_int_eq(mail_imap_getmetadata(im, box, (const char *const[]){"/shared/vendor"}, 1, 0,
                                         MAIL_IMAP_METADATA_DEPTH_INFINITY),
                   MAIL_OK);
  ck_assert_msg(strstr(sn.meta, "/shared/vendor/libmail/note=two\r\nlines;"), "%s", sn.meta);
  /* NIL removes an entry */
  ck_assert_int_eq(mail_imap_setmetadata(im, box, entries, (const char *const[]){NULL}, NULL, 1),
                   MAIL_OK);
  sn.meta[0] = '\0';
  sn.nmeta = 0;
  ck_assert_int_eq(mail_imap_getmetadata(im, box, entries, 2, 0, MAIL_IMAP_METADATA_DEPTH_0),
                   MAIL_OK);
  ck_assert_msg(!strstr(sn.meta, "/private/comment=a"), "%s", sn.meta);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

/* Three messages: 1 starts a thread (newest), 2 answers it (oldest), 3
 * stands alone. */
static const char *const msgs[] = {
  "From: a@libmail.test\r\nDate: Sat, 03 Jan 2026 10:00:00 +0000\r\n"
  "Subject: b-topic\r\nMessage-ID: <t1@libmail.test>\r\n\r\nBody one\r\n",
  "From: b@libmail.test\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\n"
  "Subject: Re: b-topic\r\nMessage-ID: <t2@libmail.test>\r\n"
  "In-Reply-To: <t1@libmail.test>\r\nReferences: <t1@libmail.test>\r\n\r\nBody two\r\n",
  "From: c@libmail.test\r\nDate: Fri, 02 Jan 2026 10:00:00 +0000\r\n"
  "Subject: a-other\r\nMessage-ID: <t3@libmail.test>\r\n\r\nBody three\r\n",
};

/* The parent number of message num in the last THREAD, 0 for a root, -1 absent. */
static long parent_of(const seen *sn, uint32_t num)
{
  for (size_t i = 0; i < sn->nthr; i++)
    if (sn->thr_num[i] == num)
      return sn->thr_parent[i] == SIZE_MAX ? 0 : (long)sn->thr_num[sn->thr_parent[i]];
  return -1;
}

START_TEST(test_sort_thread_shape)
{
  seen sn;
  mail_imap *im = session(USER_ALICE, &sn);
  char box[128];
  imap_it_unique(box, sizeof box, "sort");
  create(im, box);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(append(im, box, msgs[i], strlen(msgs[i])), MAIL_OK);
  ck_assert_int_eq(mail_imap_status(im, box, MAIL_IMAP_STATUS_SIZE), MAIL_OK);
  ck_assert_uint_eq(sn.size, strlen(msgs[0]) + strlen(msgs[1]) + strlen(msgs[2]));
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_sort(im, 0, NULL, "DATE", "ALL", NULL, 0), MAIL_OK);
  ck_assert_uint_eq(sn.nsort, 3);
  ck_assert(sn.sort[0] == 2 && sn.sort[1] == 3 && sn.sort[2] == 1);
  ck_assert_int_eq(mail_imap_sort(im, 0, NULL, "SUBJECT", "ALL", NULL, 0), MAIL_OK);
  ck_assert(sn.nsort == 3 && sn.sort[0] == 3 && sn.sort[1] == 1 && sn.sort[2] == 2);
  ck_assert_int_eq(mail_imap_sort(im, 0, NULL, "REVERSE DISPLAYFROM", "ALL", NULL, 0), MAIL_OK);
  ck_assert(sn.nsort == 3 && sn.sort[0] == 3 && sn.sort[1] == 2 && sn.sort[2] == 1);
  static const char *const who[] = {"b@libmail.test"};
  ck_assert_int_eq(mail_imap_sort(im, 1, "COUNT MIN", "ARRIVAL", "FROM ?", who, 1), MAIL_OK);
  ck_assert_msg(strstr(sn.esearch, "COUNT=1 "), "ESORT: %s", sn.esearch);
  ck_assert_int_eq(mail_imap_thread(im, 0, "REFERENCES", "ALL", NULL, 0), MAIL_OK);
  ck_assert_uint_eq(sn.nthr, 3);
  ck_assert_int_eq(parent_of(&sn, 2), 1);
  ck_assert_int_eq(parent_of(&sn, 1), 0);
  ck_assert_int_eq(parent_of(&sn, 3), 0);
  ck_assert_int_eq(mail_imap_thread(im, 0, "ORDEREDSUBJECT", "ALL", NULL, 0), MAIL_OK);
  ck_assert_int_eq(parent_of(&sn, 1), 2); /* the subject's oldest message leads */
  ck_assert_int_eq(parent_of(&sn, 3), 0);
  /* WITHIN and SAVEDATE searches, FETCH SAVEDATE and PREVIEW */
  ck_assert_int_eq(mail_imap_search(im, 0, NULL, "YOUNGER 86400", NULL, 0), MAIL_OK);
  ck_assert_uint_eq(sn.nsearch, 3);
  ck_assert_int_eq(mail_imap_search(im, 0, NULL, "OLDER 86400", NULL, 0), MAIL_OK);
  ck_assert_uint_eq(sn.nsearch, 0);
  ck_assert_int_eq(mail_imap_search(im, 0, NULL, "SAVEDSINCE 1-Jan-2020", NULL, 0), MAIL_OK);
  ck_assert_uint_eq(sn.nsearch, 3);
  mail_imap_seqset *set;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_fetch(im, set, 0, "(SAVEDATE PREVIEW)", NULL, NULL), MAIL_OK);
  ck_assert(sn.savedate);
  ck_assert(sn.preview_ok);
  /* Dovecot 2.3 has no X-GM-EXT-1: the library refuses the key */
  ck_assert_int_eq(mail_imap_search(im, 0, NULL, "X-GM-RAW \"in:inbox\"", NULL, 0),
                   MAIL_ERR_UNSUPPORTED);
  mail_imap_seqset_free(set);
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

/* MULTIAPPEND: three messages from one source in one command, the UIDs
 * of [APPENDUID] a range of three, the mailbox holding exactly them. */
START_TEST(test_multiappend_uids)
{
  seen sn;
  mail_imap *im = session(USER_ALICE, &sn);
  ck_assert(mail_imap_has_capability(im, "MULTIAPPEND"));
  char box[128];
  imap_it_unique(box, sizeof box, "multi");
  create(im, box);
  char all[2048] = "";
  uint64_t sizes[3];
  for (int i = 0; i < 3; i++) {
    sizes[i] = strlen(msgs[i]);
    strcat(all, msgs[i]);
  }
  src s = {all, strlen(all), 0};
  static const char *const flags[] = {"\\Seen"};
  ck_assert_int_eq(mail_imap_multiappend(im, box, flags, 1, sizes, 3, src_read, &s), MAIL_OK);
  unsigned long v, a, b;
  ck_assert_msg(sscanf(mail_imap_last_code_data(im), "%lu %lu:%lu", &v, &a, &b) == 3,
                "APPENDUID: %s", mail_imap_last_code_data(im));
  ck_assert_uint_eq(b - a, 2);
  ck_assert_int_eq(mail_imap_select(im, box, 1), MAIL_OK);
  uint64_t exists = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&exists, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(exists, 3);
  ck_assert_int_eq(mail_imap_search(im, 1, NULL, "SEEN", NULL, 0), MAIL_OK);
  ck_assert(sn.nsearch == 3 && sn.search[0] == a && sn.search[2] == b);
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

/* Dovecot 2.3 offers neither CREATE-SPECIAL-USE nor UNAUTHENTICATE:
 * refused with nothing sent, and the session goes on (the transcripts
 * play both against a server that offers them). */
START_TEST(test_not_in_dovecot_23)
{
  seen sn;
  mail_imap *im = session(USER_ALICE, &sn);
  mail_conn *c = mail_imap_conn(im);
  if (mail_imap_has_capability(im, "CREATE-SPECIAL-USE") ||
      mail_imap_has_capability(im, "UNAUTHENTICATE")) {
    imap_it_logout(im);
    return; /* a newer Dovecot: nothing to refuse */
  }
  ck_assert_int_eq(mail_imap_create_special_use(im, "x", (const char *const[]){"\\Archive"}, 1),
                   MAIL_ERR_UNSUPPORTED);
  ck_assert_str_eq(mail_conn_last_error(c), "CREATE-SPECIAL-USE is not offered by this server");
  ck_assert_int_eq(mail_imap_unauthenticate(im), MAIL_ERR_UNSUPPORTED);
  ck_assert_str_eq(mail_conn_last_error(c), "UNAUTHENTICATE is not offered by this server");
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_quota_usage_after_append, test_acl_rights_after_setacl,
                                test_metadata_value_stored, test_sort_thread_shape,
                                test_multiappend_uids, test_not_in_dovecot_23};
  return imap_it_main("imap-ext", 120, tests, sizeof tests / sizeof *tests);
}

/* IMAP extension commands (mail/imap_ext.h) through transcripts (the
 * files of this directory): QUOTA, ACL, METADATA, SORT/THREAD,
 * CREATE-SPECIAL-USE, APPENDLIMIT, UNAUTHENTICATE, Gmail's X-GM-EXT-1 as
 * Gmail answers, throttling as Gmail and Exchange say it, and a server
 * that offers none of them (MAIL_ERR_UNSUPPORTED, nothing sent). Each is
 * played blocking, in event-loop mode and failing every allocation in
 * turn; the values read back through the untagged callback are checked. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap.h>
#include <mail/imap_ext.h>

#include "alloc.h"
#include "device_crypto.h"
#include "each_alloc.h"
#include "transcript.h"

#ifndef IMAP_EXT_TRANSCRIPT_DIR
#error "IMAP_EXT_TRANSCRIPT_DIR must be defined"
#endif
#define TDIR IMAP_EXT_TRANSCRIPT_DIR "/"

static mail_transcript *load(const char *name)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s%s", TDIR, name);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", name, err);
  return t;
}

/* What the untagged callback saw, flattened to text for the checks. */
typedef struct srun {
  mail_imap *im;
  mail_transcript *t;
  int full;
  size_t agains;
  char seen[4096];
  size_t len;
} srun;

#define DO(r, expr)                                               \
  ({                                                              \
    int rc_;                                                      \
    size_t guard_ = 0;                                            \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) { \
      (r)->agains++;                                              \
      mail_transcript_pump((r)->t);                               \
    }                                                             \
    mail_transcript_pump_flush((r)->t);                           \
    rc_;                                                          \
  })

#define STEP(r, expr, want)       \
  do {                            \
    int s_ = DO(r, expr);         \
    if (s_ != (want))             \
      return s_ ? s_ : -9999;     \
  } while (0)

/* fmt is one of this file's constant formats, each with one "%.*s". */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void add(srun *r, const char *fmt, const char *s, size_t n)
{
  if (!s) {
    s = "NIL";
    n = 3;
  }
  if (r->len + n + 64 < sizeof r->seen)
    r->len += (size_t)snprintf(r->seen + r->len, sizeof r->seen - r->len, fmt, (int)n,
                               s ? s : "NIL");
}
#pragma GCC diagnostic pop

static int on_untagged(void *user, const mail_imap_response *resp, int trusted)
{
  srun *r = user;
  (void)trusted;
  size_t n, m;
  const char *s, *v;
  uint64_t a, b;
  uint32_t num;
  size_t parent;
  char buf[96];
  switch (mail_imap_response_type(resp)) {
  case MAIL_IMAP_TYPE_QUOTA:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, "quota[%.*s]", s, n);
    for (size_t i = 0; mail_imap_response_quota(resp, i, &s, &n, &a, &b) == MAIL_OK; i++) {
      add(r, " %.*s", s, n);
      snprintf(buf, sizeof buf, " %llu/%llu", (unsigned long long)a, (unsigned long long)b);
      add(r, "%.*s", buf, strlen(buf));
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_QUOTAROOT:
  case MAIL_IMAP_TYPE_LISTRIGHTS:
  case MAIL_IMAP_TYPE_MYRIGHTS:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, mail_imap_response_type(resp) == MAIL_IMAP_TYPE_QUOTAROOT   ? "root[%.*s]"
           : mail_imap_response_type(resp) == MAIL_IMAP_TYPE_MYRIGHTS ? "my[%.*s]"
                                                                       : "lr[%.*s]",
        s, n);
    for (size_t i = 0; i < mail_imap_response_string_count(resp); i++) {
      s = mail_imap_response_string(resp, i, &n);
      add(r, " %.*s", s, n);
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_ACL:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, "acl[%.*s]", s, n);
    for (size_t i = 0; mail_imap_response_acl(resp, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      add(r, " %.*s", s, n);
      add(r, "=%.*s", v, m);
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_METADATA:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, mail_imap_response_metadata_changed(resp) ? "changed[%.*s]" : "meta[%.*s]", s, n);
    for (size_t i = 0; mail_imap_response_metadata(resp, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      add(r, " %.*s", s, n);
      if (!mail_imap_response_metadata_changed(resp))
        add(r, "=%.*s", v, m);
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_SORT:
  case MAIL_IMAP_TYPE_SEARCH: {
    const uint32_t *nums = mail_imap_response_numbers(resp, &n);
    add(r, "%.*s", mail_imap_response_type(resp) == MAIL_IMAP_TYPE_SORT ? "sort" : "search", 
        mail_imap_response_type(resp) == MAIL_IMAP_TYPE_SORT ? 4 : 6);
    for (size_t i = 0; i < n; i++) {
      snprintf(buf, sizeof buf, " %u", nums[i]);
      add(r, "%.*s", buf, strlen(buf));
    }
    add(r, "%.*s;", "", 0);
    break;
  }
  case MAIL_IMAP_TYPE_ESEARCH:
    add(r, "%.*s", "esearch", 7);
    for (size_t i = 0; mail_imap_response_esearch_item(resp, i, &s, &n, &v, &m) == MAIL_OK; i++) {
      add(r, " %.*s", s, n);
      add(r, "=%.*s", v, m);
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_THREAD:
    add(r, "%.*s", "thread", 6);
    for (size_t i = 0; mail_imap_response_thread_node(resp, i, &num, &parent) == MAIL_OK; i++) {
      if (parent == SIZE_MAX)
        snprintf(buf, sizeof buf, " %u<-root", num);
      else
        snprintf(buf, sizeof buf, " %u<-%zu", num, parent);
      add(r, "%.*s", buf, strlen(buf));
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_LIST:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, "list[%.*s]", s, n);
    for (size_t i = 0; i < mail_imap_response_string_count(resp); i++) {
      s = mail_imap_response_string(resp, i, &n);
      add(r, " %.*s", s, n);
    }
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_STATUS:
    s = mail_imap_response_mailbox(resp, &n, NULL, NULL);
    add(r, "status[%.*s]", s, n);
    for (size_t i = 0; mail_imap_response_status_item(resp, i, &s, &n, &a) == MAIL_OK; i++) {
      add(r, " %.*s", s, n);
      snprintf(buf, sizeof buf, "=%llu", (unsigned long long)a);
      add(r, "%.*s", buf, strlen(buf));
    }
    if ((s = mail_imap_response_status_mailboxid(resp, &n)) != NULL)
      add(r, " MAILBOXID=%.*s", s, n);
    add(r, "%.*s;", "", 0);
    break;
  case MAIL_IMAP_TYPE_FETCH:
    mail_imap_response_number(resp, &num);
    snprintf(buf, sizeof buf, "fetch %u", num);
    add(r, "%.*s", buf, strlen(buf));
    if (mail_imap_fetch_number(resp, MAIL_IMAP_ITEM_GM_MSGID, &a) == MAIL_OK) {
      snprintf(buf, sizeof buf, " msgid=%llu", (unsigned long long)a);
      add(r, "%.*s", buf, strlen(buf));
    }
    if (mail_imap_fetch_number(resp, MAIL_IMAP_ITEM_GM_THRID, &a) == MAIL_OK) {
      snprintf(buf, sizeof buf, " thrid=%llu", (unsigned long long)a);
      add(r, "%.*s", buf, strlen(buf));
    }
    for (size_t i = 0; i < mail_imap_fetch_label_count(resp); i++) {
      s = mail_imap_fetch_label(resp, i, &n);
      add(r, " label=%.*s", s, n);
    }
    add(r, "%.*s;", "", 0);
    break;
  default:
    break;
  }
  return 0;
}

static int connect_tls(srun *r)
{
  mail_imap_set_auth(r->im, "alice", "pw");
  return DO(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
}

#define SEEN(r, want)                                                                    \
  do {                                                                                   \
    if ((r)->full)                                                                       \
      ck_assert_msg(strstr((r)->seen, want), "missing \"%s\" in \"%s\"", want, (r)->seen); \
  } while (0)

static const char *const inbox_only[] = {"/private/comment"};

static int src_none(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  (void)user;
  (void)buf;
  (void)cap;
  *got = 0;
  return -1; /* never called: nothing may be sent */
}

/* A server with none of the extensions: each call refused before a byte. */
static int s_not_offered(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  mail_conn *c = mail_imap_conn(r->im);
  static const char *const res[] = {"STORAGE"};
  static const uint64_t lim[] = {512};
  static const char *const uses[] = {"\\Sent"};
  static const char *const labels[] = {"x"};
#define UNSUP(expr, cap)                                                                  \
  do {                                                                                    \
    int u_ = (expr);                                                                      \
    ck_assert_msg(u_ == MAIL_ERR_UNSUPPORTED, "%s: %d", #expr, u_);                       \
    if (r->full)                                                                          \
      ck_assert_str_eq(mail_conn_last_error(c), cap " is not offered by this server");    \
  } while (0)
  UNSUP(mail_imap_getquota(r->im, ""), "QUOTA");
  UNSUP(mail_imap_getquotaroot(r->im, "INBOX"), "QUOTA");
  UNSUP(mail_imap_setquota(r->im, "", res, lim, 1), "QUOTA");
  UNSUP(mail_imap_setacl(r->im, "INBOX", "bob", "lr"), "ACL");
  UNSUP(mail_imap_deleteacl(r->im, "INBOX", "bob"), "ACL");
  UNSUP(mail_imap_getacl(r->im, "INBOX"), "ACL");
  UNSUP(mail_imap_listrights(r->im, "INBOX", "bob"), "ACL");
  UNSUP(mail_imap_myrights(r->im, "INBOX"), "ACL");
  UNSUP(mail_imap_getmetadata(r->im, "INBOX", inbox_only, 1, 0, 0), "METADATA");
  UNSUP(mail_imap_getmetadata(r->im, "", inbox_only, 1, 0, 0), "METADATA");
  UNSUP(mail_imap_setmetadata(r->im, "INBOX", inbox_only, inbox_only, NULL, 1), "METADATA");
  UNSUP(mail_imap_create_special_use(r->im, "Sent", uses, 1), "CREATE-SPECIAL-USE");
  UNSUP(mail_imap_list(r->im, "", "*", MAIL_IMAP_LIST_MYRIGHTS), "LIST-MYRIGHTS");
  UNSUP(mail_imap_list(r->im, "", "*", MAIL_IMAP_LIST_STATUS), "LIST-STATUS");
  UNSUP(mail_imap_status(r->im, "INBOX", MAIL_IMAP_STATUS_APPENDLIMIT), "APPENDLIMIT");
  UNSUP(mail_imap_status(r->im, "INBOX", MAIL_IMAP_STATUS_MAILBOXID), "OBJECTID");
  UNSUP(mail_imap_unauthenticate(r->im), "UNAUTHENTICATE");
  UNSUP(mail_imap_multiappend(r->im, "INBOX", NULL, 0, lim, 1, src_none, NULL), "MULTIAPPEND");
  UNSUP(mail_imap_idle_start(r->im), "IDLE");
  UNSUP(mail_imap_namespace(r->im), "NAMESPACE");
  uint64_t v;
  ck_assert_int_eq(mail_imap_append_limit(&v, r->im), MAIL_ERR_NOT_FOUND);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set;
  if (mail_imap_seqset_new(&set, NULL))
    return MAIL_ERR_NOMEM;
  mail_imap_seqset_add_range(set, 1, 2);
  static const char *const arg[] = {"1d"};
  UNSUP(mail_imap_sort(r->im, 0, NULL, "DATE", "ALL", NULL, 0), "SORT");
  UNSUP(mail_imap_thread(r->im, 0, "REFERENCES", "ALL", NULL, 0), "THREAD=REFERENCES");
  UNSUP(mail_imap_store_labels(r->im, set, 1, MAIL_IMAP_STORE_ADD, labels, 1, 0), "X-GM-EXT-1");
  UNSUP(mail_imap_search(r->im, 0, NULL, "YOUNGER 3600", NULL, 0), "WITHIN");
  UNSUP(mail_imap_search(r->im, 0, NULL, "NOT (OLDER 60)", NULL, 0), "WITHIN");
  UNSUP(mail_imap_search(r->im, 0, NULL, "X-GM-RAW ?", arg, 1), "X-GM-EXT-1");
  UNSUP(mail_imap_search(r->im, 0, NULL, "SAVEDSINCE 1-Jan-2026", NULL, 0), "SAVEDATE");
  UNSUP(mail_imap_search(r->im, 1, NULL, "UID $", NULL, 0), "SEARCHRES");
  UNSUP(mail_imap_search(r->im, 0, NULL, "EMAILID M6d99ac3275bb4e", NULL, 0), "OBJECTID");
  UNSUP(mail_imap_search(r->im, 0, "SAVE", "ALL", NULL, 0), "ESEARCH");
  UNSUP(mail_imap_copy(r->im, set, 1, "x", 1), "MOVE");
  UNSUP(mail_imap_uid_expunge(r->im, set), "UIDPLUS");
  UNSUP(mail_imap_unselect(r->im), "UNSELECT");
  UNSUP(mail_imap_fetch(r->im, set, 1, "(UID BINARY.PEEK[1]<0.100>)", NULL, NULL), "BINARY");
  UNSUP(mail_imap_fetch(r->im, set, 1, "BINARY.SIZE[1]", NULL, NULL), "BINARY");
  UNSUP(mail_imap_fetch(r->im, set, 1, "(EMAILID)", NULL, NULL), "OBJECTID");
  UNSUP(mail_imap_fetch(r->im, set, 1, "(UID PREVIEW (LAZY))", NULL, NULL), "PREVIEW");
  UNSUP(mail_imap_fetch(r->im, set, 1, "(SAVEDATE)", NULL, NULL), "SAVEDATE");
  UNSUP(mail_imap_fetch(r->im, set, 1, "(X-GM-LABELS)", NULL, NULL), "X-GM-EXT-1");
  /* a header field's name inside a section is not an item */
  int frc = DO(r, mail_imap_fetch(r->im, set, 0, "(BODY.PEEK[HEADER.FIELDS (X-GM-LABELS)])",
                                  NULL, NULL));
  mail_imap_seqset_free(set);
  if (frc)
    return frc;
  /* a search string that holds a key's word is not the key */
  STEP(r, mail_imap_search(r->im, 0, NULL, "SUBJECT \"YOUNGER $\"", NULL, 0), MAIL_OK);
  return DO(r, mail_imap_noop(r->im));
}

static int s_quota(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_getquotaroot(r->im, "INBOX"), MAIL_OK);
  SEEN(r, "root[INBOX] User quota;quota[User quota] STORAGE 10/10240 MESSAGE 1/1000;");
  STEP(r, mail_imap_getquota(r->im, "User quota"), MAIL_OK);
  SEEN(r, "quota[User quota] STORAGE 9007199254740993/9223372036854775807;");
  static const char *const res[] = {"STORAGE", "MESSAGE"};
  static const uint64_t lim[] = {512, 100};
  ck_assert_int_eq(mail_imap_setquota(r->im, "x", res, (const uint64_t[]){UINT64_MAX, 1}, 2),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_setquota(r->im, "x", (const char *const[]){"a b"}, lim, 1),
                   MAIL_ERR_INVALID);
  STEP(r, mail_imap_setquota(r->im, "", res, lim, 2), MAIL_ERR_SERVER);
  if (r->full)
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_NOPERM);
  return DO(r, mail_imap_setquota(r->im, "", NULL, NULL, 0));
}

static int s_acl(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_imap_setacl(r->im, "INBOX", "bob", "l r"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_setacl(r->im, "INBOX", "", "lr"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_setacl(r->im, "INBOX", "bob", "+"), MAIL_ERR_INVALID);
  STEP(r, mail_imap_setacl(r->im, "Shared Stuff", "bob", "lrs"), MAIL_OK);
  STEP(r, mail_imap_setacl(r->im, "Shared Stuff", "bob", "+w"), MAIL_OK);
  STEP(r, mail_imap_getacl(r->im, "Shared Stuff"), MAIL_OK);
  SEEN(r, "acl[Shared Stuff] alice=lrswipkxtecda bob=lrsw;");
  STEP(r, mail_imap_listrights(r->im, "Shared Stuff", "bob"), MAIL_OK);
  SEEN(r, "lr[Shared Stuff] bob  l r s w i p k x t e c d a 0 1 2 3 4 5 6 7 8 9;");
  STEP(r, mail_imap_myrights(r->im, "Shared Stuff"), MAIL_OK);
  SEEN(r, "my[Shared Stuff] lrswipkxtecda;");
  STEP(r, mail_imap_list(r->im, "", "*", MAIL_IMAP_LIST_MYRIGHTS), MAIL_OK);
  SEEN(r, "list[Shared Stuff] \\HasNoChildren;my[Shared Stuff] lrswipkxtecda;");
  STEP(r, mail_imap_deleteacl(r->im, "Shared Stuff", "bob"), MAIL_OK);
  return DO(r, mail_imap_deleteacl(r->im, "INBOX", "alice"));
}

static int s_metadata(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  static const char *const entries[] = {"/private/comment", "/shared/comment", "/private/note"};
  static const char *const values[] = {"My own comment", NULL, "two\r\nlines"};
  ck_assert_int_eq(mail_imap_setmetadata(r->im, "INBOX", entries, (const char *const[]){"a"},
                                         (const size_t[]){2}, 1),
                   MAIL_ERR_INVALID); /* the NUL after "a" */
  ck_assert_int_eq(mail_imap_getmetadata(r->im, "INBOX", entries, 1, 0, 7), MAIL_ERR_INVALID);
  STEP(r, mail_imap_setmetadata(r->im, "INBOX", entries, values, NULL, 3), MAIL_OK);
  STEP(r, mail_imap_getmetadata(r->im, "INBOX", entries, 3, 1024, MAIL_IMAP_METADATA_DEPTH_1),
       MAIL_OK);
  SEEN(r, "meta[INBOX] /private/comment=My own comment /shared/comment=NIL "
          "/private/note=two\r\nlines;");
  STEP(r, mail_imap_getmetadata(r->im, "", entries + 1, 1, 0, MAIL_IMAP_METADATA_DEPTH_INFINITY),
       MAIL_OK);
  SEEN(r, "meta[] /shared/comment=Shared server comment;");
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  SEEN(r, "changed[INBOX] /shared/comment;");
  static const char *const big[] = {"xxxxxxxx"};
  int rc = DO(r, mail_imap_setmetadata(r->im, "INBOX", entries, big, NULL, 1));
  if (rc != MAIL_ERR_SERVER)
    return rc ? rc : -9999;
  if (r->full) {
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_METADATA);
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "MAXSIZE 4");
  }
  return MAIL_OK;
}

static int s_sort_thread(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_sort(r->im, 0, NULL, "(DATE)", "ALL", NULL, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_sort(r->im, 0, NULL, "DATE", "FROM ?", NULL, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_thread(r->im, 0, "REF ERENCES", "ALL", NULL, 0), MAIL_ERR_INVALID);
  STEP(r, mail_imap_sort(r->im, 0, NULL, "REVERSE DATE", "ALL", NULL, 0), MAIL_OK);
  SEEN(r, "sort 3 1 2;");
  static const char *const who[] = {"J\xc3\xbcrgen"};
  STEP(r, mail_imap_sort(r->im, 1, NULL, "SUBJECT ARRIVAL", "FROM ?", who, 1), MAIL_OK);
  SEEN(r, "sort 14 9;");
  STEP(r, mail_imap_sort(r->im, 1, "MIN MAX COUNT", "DISPLAYFROM", "UNSEEN", NULL, 0), MAIL_OK);
  SEEN(r, "esearch MIN=9 MAX=14 COUNT=2;");
  STEP(r, mail_imap_thread(r->im, 0, "references", "ALL", NULL, 0), MAIL_OK);
  SEEN(r, "thread 2<-root 3<-root 6<-1 4<-2 23<-3 44<-2 7<-5 96<-6;");
  ck_assert_int_eq(mail_imap_thread(r->im, 0, "REFS", "ALL", NULL, 0), MAIL_ERR_UNSUPPORTED);
  return DO(r, mail_imap_thread(r->im, 1, "ORDEREDSUBJECT", "SINCE 1-Feb-1994", NULL, 0));
}

/* APPENDLIMIT, CREATE-SPECIAL-USE, UNAUTHENTICATE and a second login */
static int s_special_unauth(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  uint64_t v = 0;
  ck_assert_int_eq(mail_imap_append_limit(&v, r->im), MAIL_OK);
  ck_assert_uint_eq(v, 35651584);
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_LOGIN);
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_create_special_use(r->im, "x", (const char *const[]){"Sent"}, 1),
                   MAIL_ERR_INVALID);
  static const char *const uses[] = {"\\Sent", "\\Archive"};
  STEP(r, mail_imap_create_special_use(r->im, "Sent Mail", uses, 2), MAIL_OK);
  STEP(r, mail_imap_create_special_use(r->im, "All", (const char *const[]){"\\All"}, 1),
       MAIL_ERR_SERVER);
  if (r->full)
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_USEATTR);
  STEP(r, mail_imap_list(r->im, "", "Sent Mail", MAIL_IMAP_LIST_SPECIAL_USE), MAIL_OK);
  SEEN(r, "list[Sent Mail] \\Sent \\Archive;");
  STEP(r, mail_imap_status(r->im, "Sent Mail", MAIL_IMAP_STATUS_APPENDLIMIT | MAIL_IMAP_STATUS_SIZE |
                                                  MAIL_IMAP_STATUS_MAILBOXID),
       MAIL_OK);
  SEEN(r, "status[Sent Mail] SIZE=0 APPENDLIMIT=1048576 MAILBOXID=F2212ea87-6097-4256-9d51-71338625;");
  STEP(r, mail_imap_select(r->im, "Sent Mail", 0), MAIL_OK);
  STEP(r, mail_imap_unauthenticate(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_NOT_AUTHENTICATED);
  ck_assert_int_eq(mail_imap_select(r->im, "INBOX", 0), MAIL_ERR_STATE);
  if (r->full)
    ck_assert(mail_imap_has_capability(r->im, "AUTH=PLAIN"));
  mail_imap_set_auth(r->im, "bob", "pw2");
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_AUTHENTICATED);
  return DO(r, mail_imap_logout(r->im));
}

/* Gmail as it answers (its capability line, FETCH, STORE, X-GM-RAW, a
 * throttled OK). */
static int s_gmail(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set;
  if (mail_imap_seqset_new(&set, NULL))
    return MAIL_ERR_NOMEM;
  mail_imap_seqset_add_range(set, 1, 2);
  int rc = DO(r, mail_imap_fetch(r->im, set, 0, "(X-GM-MSGID X-GM-THRID X-GM-LABELS)", NULL, NULL));
  if (rc == MAIL_OK) {
    SEEN(r, "fetch 1 msgid=1278455344230334865 thrid=1278455344230334865 label=\\Inbox "
            "label=\\Important label=Entw\xc3\xbcrfe;");
    SEEN(r, "fetch 2 msgid=1278455344230334866 thrid=1266894439832287888 label=\\Starred label=NIL;");
    static const char *const add_l[] = {"\\Important", "Entw\xc3\xbcrfe", "a \"b\""};
    rc = DO(r, mail_imap_store_labels(r->im, set, 1, MAIL_IMAP_STORE_ADD, add_l, 3, 0));
  }
  if (rc == MAIL_OK)
    rc = DO(r, mail_imap_store_labels(r->im, set, 0, MAIL_IMAP_STORE_REPLACE, NULL, 0, 1));
  mail_imap_seqset_free(set);
  if (rc)
    return rc;
  static const char *const raw[] = {"has:attachment in:unread"};
  STEP(r, mail_imap_search(r->im, 1, NULL, "X-GM-RAW ?", raw, 1), MAIL_OK);
  SEEN(r, "search 4 8;");
  int64_t ms = -1;
  ck_assert_int_eq(mail_imap_throttle(&ms, r->im), MAIL_OK); /* "OK Success [THROTTLED]" */
  ck_assert_int_eq(ms, 0);
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_throttle(&ms, r->im), MAIL_ERR_NOT_FOUND);
  return MAIL_OK;
}

/* Exchange Online's refusal: no code, the backoff in the text. */
static int s_throttle_exchange(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  int64_t ms = 0;
  STEP(r, mail_imap_noop(r->im), MAIL_ERR_THROTTLED);
  ck_assert_int_eq(mail_imap_throttle(&ms, r->im), MAIL_OK);
  ck_assert_int_eq(ms, 299609);
  STEP(r, mail_imap_noop(r->im), MAIL_ERR_THROTTLED); /* [THROTTLED] as a code */
  ck_assert_int_eq(mail_imap_throttle(&ms, r->im), MAIL_OK);
  ck_assert_int_eq(ms, 5000);
  return DO(r, mail_imap_noop(r->im));
}

typedef struct msgs_src {
  const char *data;
  size_t len, at;
} msgs_src;

static int msgs_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  msgs_src *m = user;
  size_t n = m->len - m->at < cap ? m->len - m->at : cap;
  if (n > 3) /* small pieces: a message boundary inside a read is fine too */
    n = 3;
  memcpy(buf, m->data + m->at, n);
  m->at += n;
  *got = n;
  return 0;
}

static int s_multiappend(srun *r)
{
  static const char all[] = "one\r\nsecond\r\n3\r\n";
  static const uint64_t sizes[] = {5, 8, 3};
  static const char *const flags[] = {"\\Seen"};
  msgs_src m = {all, sizeof all - 1, 0};
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_imap_multiappend(r->im, "INBOX", flags, 1, sizes, 0, msgs_read, &m),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_multiappend(r->im, "INBOX", (const char *const[]){"a b"}, 1, sizes,
                                         3, msgs_read, &m),
                   MAIL_ERR_INVALID);
  STEP(r, mail_imap_multiappend(r->im, "INBOX", flags, 1, sizes, 3, msgs_read, &m), MAIL_OK);
  if (r->full) {
    ck_assert_uint_eq(m.at, m.len);
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "38505 3955:3957");
    uint32_t v, u;
    ck_assert_int_eq(mail_imap_append_uid(&v, &u, r->im), MAIL_ERR_NOT_FOUND);
  }
  if (!mail_imap_has_capability(r->im, "LITERAL+")) {
    m.at = 0;
    STEP(r, mail_imap_multiappend(r->im, "INBOX", flags, 1, sizes, 3, msgs_read, &m),
         MAIL_ERR_SERVER);
    if (r->full)
      ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_OVERQUOTA);
  }
  return DO(r, mail_imap_noop(r->im));
}

typedef struct scenario {
  const char *file;
  int (*fn)(srun *r);
  int expect;
} scenario;

static const scenario scenarios[] = {
  {"not_offered.txt", s_not_offered, MAIL_OK},
  {"quota.txt", s_quota, MAIL_OK},
  {"acl.txt", s_acl, MAIL_OK},
  {"metadata.txt", s_metadata, MAIL_OK},
  {"sort_thread.txt", s_sort_thread, MAIL_OK},
  {"special_use_unauthenticate.txt", s_special_unauth, MAIL_OK},
  {"gmail.txt", s_gmail, MAIL_OK},
  {"throttle_exchange.txt", s_throttle_exchange, MAIL_OK},
  {"multiappend_sync.txt", s_multiappend, MAIL_OK},
  {"multiappend_literal_plus.txt", s_multiappend, MAIL_OK},
};
#define NSCN (sizeof scenarios / sizeof scenarios[0])

static int played(void *user, const char *name)
{
  (void)user;
  for (size_t i = 0; i < NSCN; i++)
    if (!strcmp(scenarios[i].file, name))
      return 1;
  return 0;
}

static int play(srun *r, const scenario *s, mail_transcript *t, const mail_allocator *a,
                int nonblock, int full)
{
  memset(r, 0, sizeof *r);
  r->t = t;
  r->full = full;
  int rc = mail_imap_new(&r->im, a);
  if (!rc)
    rc = transcript_use_device_crypto(mail_imap_sasl(r->im));
  if (rc)
    return rc;
  /* nonblock 2: feed mode, the pump carries the bytes */
  rc = nonblock == 2 ? mail_transcript_attach_feed(t, mail_imap_conn(r->im))
                     : mail_transcript_attach(t, mail_imap_conn(r->im));
  if (rc)
    return rc;
  mail_imap_set_untagged_callback(r->im, on_untagged, r);
  if (nonblock == 1) {
    mail_conn_set_nonblocking(mail_imap_conn(r->im), 1);
    mail_transcript_set_auto_again(t, 1);
  }
  return s->fn(r);
}

START_TEST(every_transcript)
{
  const scenario *s = &scenarios[_i];
  char path[512], why[600];
  snprintf(path, sizeof path, "%s%s", TDIR, s->file);
  ck_assert_msg(mail_transcript_check_header(path, s->expect, why, sizeof why) == 0, "%s", why);
  for (int nonblock = 0; nonblock < 3; nonblock++) {
    mail_transcript *t = load(s->file);
    srun r;
    int rc = play(&r, s, t, NULL, nonblock, 1);
    static const char *const mode[] = {"blocking", "event loop", "feed"};
    ck_assert_msg(rc == s->expect, "%s (%s): got %d (%s), expected %d; conn error: %s; %s",
                  s->file, mode[nonblock], rc, mail_strerror(rc), s->expect,
                  mail_conn_last_error(mail_imap_conn(r.im)), mail_transcript_report(t));
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    if (nonblock)
      ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in %s mode", s->file, mode[nonblock]);
    if (nonblock == 2)
      ck_assert_uint_eq(mail_transcript_connect_calls(t), 0);
    mail_imap_free(r.im);
    mail_transcript_free(t);
  }
}
END_TEST

typedef struct nomem_ctx {
  const scenario *s;
  mail_transcript *t;
} nomem_ctx;

static int run_allocating(void *user, mail_test_alloc *ta)
{
  nomem_ctx *c = user;
  mail_transcript_rewind(c->t);
  srun r;
  int rc = play(&r, c->s, c->t, mail_test_alloc_hooks(ta), 0, 0);
  if (ta->failures == 0)
    MAIL_TRANSCRIPT_ASSERT_DONE(c->t);
  mail_imap_free(r.im);
  return rc;
}

START_TEST(every_transcript_nomem)
{
  nomem_ctx c = {&scenarios[_i], load(scenarios[_i].file)};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.s->file, run_allocating, &c, c.s->expect,
                                   MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(IMAP_EXT_TRANSCRIPT_DIR, played, NULL, why,
                                          sizeof why) == (long)NSCN,
                "%s", why);
}
END_TEST

START_TEST(arguments)
{
  mail_imap *im;
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_getquota(NULL, ""), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_getquota(im, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_getquota(im, ""), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_setacl(im, "INBOX", "bob", "lr"), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_getmetadata(im, "INBOX", NULL, 1, 0, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_unauthenticate(im), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_sort(im, 0, NULL, "DATE", "ALL", NULL, 0), MAIL_ERR_STATE);
  int64_t ms;
  uint64_t v;
  ck_assert_int_eq(mail_imap_throttle(&ms, im), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_throttle(NULL, im), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_append_limit(&v, im), MAIL_ERR_NOT_FOUND);
  ck_assert_int_eq(mail_imap_append_limit(NULL, im), MAIL_ERR_INVALID);
  mail_imap_free(im);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("imap_ext");
  TCase *tc = tcase_create("extensions");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, arguments);
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, every_transcript, 0, (int)NSCN);
  tcase_add_loop_test(tc, every_transcript_nomem, 0, (int)NSCN);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* IMAP session tests through transcripts (the files of this directory):
 * every STARTTLS failure, PREAUTH, LOGIN and AUTHENTICATE, literals
 * (synchronizing, LITERAL+, LITERAL-, refused), the selected mailbox's
 * state, mailbox commands, ENABLE/ID, BYE and the RFC 5530 statuses; each
 * blocking, in event-loop mode and failing every allocation in turn. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/features.h>
#include <mail/imap.h>

#include "alloc.h"
#include "device_crypto.h"
#include "each_alloc.h"
#include "sasl_scenarios.h"
#include "transcript.h"

#ifndef IMAP_TRANSCRIPT_DIR
#error "IMAP_TRANSCRIPT_DIR must be defined"
#endif
#define TDIR IMAP_TRANSCRIPT_DIR "/"

static mail_transcript *load(const char *name)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s%s", TDIR, name);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", name, err);
  return t;
}

typedef struct trace {
  char text[16384];
  size_t len;
} trace;

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  trace *tr = user;
  (void)dir;
  if (tr->len + len + 1 < sizeof tr->text) {
    memcpy(tr->text + tr->len, data, len);
    tr->len += len;
    tr->text[tr->len] = '\0';
  }
}

typedef struct srun {
  mail_imap *im;
  mail_transcript *t;
  const char *file;
  int full; /* an allocation-failure-free run: check everything */
  size_t agains;
  trace tr;
  int untagged, untrusted, ids, fetches;
  /* IDLE scenarios: the injected clock, and what an untagged response
   * does (the first of those pushes the clock on by advance ms, if set;
   * then EXISTS stops the IDLE) */
  int idle;
  int64_t clock, advance;
  int nonblocking;
  sasl_observed obs;
} srun;

/* Call an operation, resuming it while it says MAIL_ERR_AGAIN. */
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

/* Stop the scenario at an unexpected status (returned to the runner). */
#define STEP(r, expr, want)       \
  do {                            \
    int s_ = DO(r, expr);         \
    if (s_ != (want))             \
      return s_ ? s_ : -9999;     \
  } while (0)

static int on_untagged(void *user, const mail_imap_response *resp, int trusted)
{
  srun *r = user;
  r->untagged++;
  if (!trusted)
    r->untrusted++;
  size_t n;
  const char *text = mail_imap_response_text(resp, &n);
  if (mail_imap_response_type(resp) == MAIL_IMAP_TYPE_OTHER && n >= 2 && !memcmp(text, "ID", 2))
    r->ids++;
  if (mail_imap_response_type(resp) == MAIL_IMAP_TYPE_FETCH)
    r->fetches++;
  if (r->idle && r->advance) {
    r->clock += r->advance;
    r->advance = 0;
  } else if (r->idle && mail_imap_response_type(resp) == MAIL_IMAP_TYPE_EXISTS) {
    mail_imap_idle_stop(r->im);
  }
  return 0;
}

static uint64_t num(srun *r, int field)
{
  uint64_t v = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, r->im, field), MAIL_OK);
  return v;
}

static int s_starttls_login(srun *r)
{
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_LOGIN);
  STEP(r, mail_imap_connect_url(r->im, "imap://alice:p%5C%22w@imap.test/INBOX"), MAIL_OK);
  if (r->full) {
    ck_assert(mail_transcript_tls_active(r->t));
    ck_assert_str_eq(mail_imap_url_mailbox(r->im), "INBOX");
    ck_assert(!mail_imap_has_capability(r->im, "STARTTLS"));
    ck_assert(!mail_imap_has_capability(r->im, "LOGINDISABLED"));
    ck_assert(mail_imap_has_capability(r->im, "sasl-ir"));
    ck_assert_str_eq(mail_imap_greeting(r->im), "Dovecot ready.");
    ck_assert_int_eq(r->untrusted, 1); /* the CAPABILITY before TLS */
  }
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  if (r->full) {
    ck_assert(mail_imap_has_capability(r->im, "MOVE"));
    ck_assert_str_eq(mail_imap_state_name(r->im), "AUTHENTICATED");
    ck_assert_ptr_null(strstr(r->tr.text, "p\\\"w"));
  }
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  if (r->full) {
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_SELECTED);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 172);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_RECENT), 1);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_UNSEEN), 12);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_UIDVALIDITY), 3857529045u);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_UIDNEXT), 4392);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ), 715194045007u);
    ck_assert_uint_eq(mail_imap_mailbox_flag_count(r->im, MAIL_IMAP_FLAGS_DEFINED), 5);
    ck_assert_uint_eq(mail_imap_mailbox_flag_count(r->im, MAIL_IMAP_FLAGS_PERMANENT), 6);
    ck_assert_str_eq(mail_imap_mailbox_flag(r->im, MAIL_IMAP_FLAGS_PERMANENT, 5), "\\*");
    ck_assert(!mail_imap_mailbox_read_only(r->im));
  }
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  if (r->full) {
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 173);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ), 715194045010u);
    ck_assert_int_eq(r->fetches, 1);
  }
  STEP(r, mail_imap_logout(r->im), MAIL_OK);
  if (r->full)
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_DISCONNECTED);
  return MAIL_OK;
}

static int s_starttls_required(srun *r)
{
  mail_imap_set_auth(r->im, "alice", "pw");
  int rc = DO(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_STARTTLS));
  ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_DISCONNECTED);
  if (r->full) {
    ck_assert(!mail_transcript_tls_active(r->t));
    if (r->nonblocking != 2) /* feed mode has no transport connect to see */
      ck_assert_uint_eq(mail_transcript_connect_port(r->t), 143);
  }
  ck_assert_int_eq(mail_imap_login(r->im), MAIL_ERR_STATE);
  return rc;
}

static int connect_tls(srun *r)
{
  mail_imap_set_auth(r->im, "alice", "pw");
  return DO(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
}

static int s_greeting_bye(srun *r)
{
  return connect_tls(r);
}

static int s_logindisabled(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_LOGIN);
  STEP(r, mail_imap_login(r->im), MAIL_ERR_NO_MECHANISM);
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_SASL);
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  if (r->full) {
    ck_assert(mail_imap_has_capability(r->im, "IDLE"));
    ck_assert(!mail_imap_has_capability(r->im, "AUTH=PLAIN"));
    ck_assert_ptr_nonnull(strstr(r->tr.text, "AUTHENTICATE PLAIN [redacted]"));
  }
  return MAIL_OK;
}

static int s_login_ok(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  return DO(r, mail_imap_login(r->im));
}

static int s_login_refused(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_login(r->im), MAIL_ERR_AUTH);
  if (r->full) {
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_AUTHENTICATIONFAILED);
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_NOT_AUTHENTICATED);
  }
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  return MAIL_ERR_AUTH;
}

static int s_literal(srun *r)
{
  mail_imap_set_auth(r->im, "alice", "p\xc3\xa4ssword");
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_LOGIN);
  STEP(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  int rc = DO(r, mail_imap_login(r->im));
  if (r->full)
    ck_assert_ptr_null(strstr(r->tr.text, "p\xc3\xa4ssword"));
  if (rc == MAIL_ERR_AUTH)
    STEP(r, mail_imap_noop(r->im), MAIL_OK);
  return rc;
}

static int s_mailboxes(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_AUTHENTICATED);
  /* Nothing is sent for a missing name; one with CR/LF: mailbox_crlf.txt. */
  ck_assert_int_eq(mail_imap_create(r->im, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_rename(r->im, "a", NULL), MAIL_ERR_INVALID);
  /* Nothing known about the server: RFC 2683's 1,000-byte lines. */
  ck_assert_uint_eq(mail_imap_max_line_length(r->im), 1000);
  STEP(r, mail_imap_create(r->im, "a b\"c"), MAIL_OK);
  STEP(r, mail_imap_rename(r->im, "a b\"c", "\xc3\xa9t\xc3\xa9"), MAIL_OK);
  STEP(r, mail_imap_subscribe(r->im, "\xc3\xa9t\xc3\xa9"), MAIL_OK);
  STEP(r, mail_imap_unsubscribe(r->im, "\xc3\xa9t\xc3\xa9"), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "\xc3\xa9t\xc3\xa9", 1), MAIL_OK);
  if (r->full) {
    ck_assert(mail_imap_mailbox_read_only(r->im));
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 2);
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_UIDVALIDITY), 7);
  }
  STEP(r, mail_imap_unselect(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_AUTHENTICATED);
  STEP(r, mail_imap_select(r->im, "\xc3\xa9t\xc3\xa9", 0), MAIL_OK);
  if (r->full) {
    uint64_t v;
    ck_assert_int_eq(mail_imap_mailbox_number(&v, r->im, MAIL_IMAP_MAILBOX_UIDVALIDITY),
                     MAIL_ERR_NOT_FOUND); /* nothing kept from the EXAMINE */
  }
  STEP(r, mail_imap_expunge(r->im), MAIL_OK);
  if (r->full)
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 1);
  STEP(r, mail_imap_close(r->im), MAIL_OK);
  ck_assert_int_eq(mail_imap_expunge(r->im), MAIL_ERR_STATE);
  int rc = DO(r, mail_imap_delete(r->im, "INBOX"));
  if (r->full) {
    ck_assert_int_eq(mail_imap_last_status(r->im), MAIL_IMAP_TYPE_NO);
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_CANNOT);
    ck_assert_str_eq(mail_imap_last_text(r->im), "INBOX cannot be deleted");
  }
  return rc;
}

static int s_bye(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  int rc = DO(r, mail_imap_noop(r->im));
  if (rc == MAIL_ERR_SERVER_CLOSING)
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_DISCONNECTED);
  return rc;
}

static int s_throttled(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_noop(r->im), MAIL_ERR_THROTTLED);
  return DO(r, mail_imap_create(r->im, "x"));
}

#if MAIL_HAVE_ZLIB
static int s_compress(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  int rc = DO(r, mail_imap_compress(r->im));
  if (rc == MAIL_ERR_STARTTLS_INJECTION)
    return rc;
  if (rc != MAIL_ERR_SERVER && rc != MAIL_ERR_UNSUPPORTED)
    return rc ? rc : -9999;
  ck_assert_int_eq(mail_conn_is_compressed(mail_imap_conn(r->im)), 0);
  return DO(r, mail_imap_noop(r->im));
}
#endif

static int s_enable_id(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  static const char *const ext[] = {"IMAP4rev2", "UTF8=ACCEPT"};
  ck_assert_int_eq(mail_imap_enable(r->im, (const char *const[]){"a b"}, 1), MAIL_ERR_INVALID);
  STEP(r, mail_imap_enable(r->im, ext, 2), MAIL_OK);
  if (r->full) {
    ck_assert(mail_imap_is_enabled(r->im, "utf8=accept"));
    ck_assert(mail_imap_is_enabled(r->im, "IMAP4REV2"));
  }
  static const char *const f[] = {"name", "os"};
  static const char *const v[] = {"libmail", NULL};
  STEP(r, mail_imap_id(r->im, f, v, 2), MAIL_OK);
  if (r->full)
    ck_assert_int_eq(r->ids, 1);
  return DO(r, mail_imap_create(r->im, "\xc3\xa9t\xc3\xa9"));
}

static int s_enabled_unsolicited(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  if (r->full)
    ck_assert(!mail_imap_is_enabled(r->im, "UTF8=ACCEPT"));
  return DO(r, mail_imap_create(r->im, "\xc3\xa9t\xc3\xa9"));
}

typedef struct bodies {
  char data[256];
  size_t len;
  int begins, ends;
} bodies;

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *d, size_t n)
{
  bodies *b = user;
  (void)s;
  if (ev == MAIL_IMAP_BODY_BEGIN)
    b->begins++;
  else if (ev == MAIL_IMAP_BODY_END)
    b->ends++;
  else if (b->len + n <= sizeof b->data) {
    memcpy(b->data + b->len, d, n);
    b->len += n;
  }
  return 0;
}

static int s_fetch_pipelined(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set = NULL;
  int rc = mail_imap_seqset_new(&set, NULL);
  if (rc)
    return rc;
  for (uint32_t i = 37; i >= 1 && !rc; i -= 2) { /* any order: sorted and merged */
    rc = mail_imap_seqset_add(set, &i, 1);
    if (i == 1)
      break;
  }
  if (!rc)
    rc = mail_imap_seqset_add_range(set, 100, 39);
  if (!rc)
    rc = mail_imap_set_max_set_length(r->im, 32);
  bodies b = {{0}, 0, 0, 0};
  if (!rc)
    rc = DO(r, mail_imap_fetch(r->im, set, 1, "(UID BODY.PEEK[])", on_body, &b));
  mail_imap_seqset_free(set);
  if (r->full && rc == MAIL_OK) {
    ck_assert_int_eq(r->fetches, 2);
    ck_assert_int_eq(b.begins, 2);
    ck_assert_int_eq(b.ends, 2);
    ck_assert_uint_eq(b.len, 21);
    ck_assert(!memcmp(b.data, "A2 OK forged\r\nhi\r\nabc", 21));
  }
  return rc;
}

static int with_set(srun *r, uint32_t lo, uint32_t hi, mail_imap_seqset **set)
{
  int rc = mail_imap_seqset_new(set, NULL);
  if (!rc)
    rc = mail_imap_seqset_add_range(*set, lo, hi);
  return rc;
}

static int s_messages(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  ck_assert_uint_eq(mail_imap_max_line_length(r->im), 8192); /* CONDSTORE: RFC 7162 4 */
  mail_imap_seqset *set = NULL;
  int rc;
#define WITH_SET(lo, hi, expr, want)       \
  do {                                     \
    rc = with_set(r, lo, hi, &set);        \
    if (!rc)                               \
      rc = DO(r, expr);                    \
    mail_imap_seqset_free(set);            \
    set = NULL;                            \
    if (rc != (want))                      \
      return rc ? rc : -9999;              \
  } while (0)
  static const char *const f1[] = {"\\Seen", "$Work"};
  static const char *const f2[] = {"\\Deleted"};
  static const char *const bad[] = {"\\Seen)"};
  ck_assert_int_eq(mail_imap_store(r->im, NULL, 0, MAIL_IMAP_STORE_ADD, f1, 2, 1, 0),
                   MAIL_ERR_INVALID);
  WITH_SET(1, 3, mail_imap_store(r->im, set, 0, MAIL_IMAP_STORE_ADD, bad, 1, 1, 0),
           MAIL_ERR_INVALID);
  WITH_SET(1, 3, mail_imap_store(r->im, set, 0, MAIL_IMAP_STORE_ADD, f1, 2, 1, 0), MAIL_OK);
  WITH_SET(4, 4, mail_imap_store(r->im, set, 1, MAIL_IMAP_STORE_REPLACE, f2, 1, 0, 12), MAIL_OK);
  if (r->full) {
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_MODIFIED);
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "4");
  }
  WITH_SET(2, 2, mail_imap_copy(r->im, set, 0, "Archive", 0), MAIL_OK);
  if (r->full)
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "38505 2 3956");
  WITH_SET(4, 5, mail_imap_copy(r->im, set, 1, "Trash", 1), MAIL_OK);
  if (r->full)
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 3);
  WITH_SET(3, 3, mail_imap_uid_expunge(r->im, set), MAIL_OK);
  if (r->full)
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 2);
  static const char *const a1[] = {"caf\xc3\xa9!"};
  ck_assert_int_eq(mail_imap_search(r->im, 0, NULL, "SUBJECT ? ?", a1, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_search(r->im, 0, NULL, "SUBJECT\r\n?", a1, 1), MAIL_ERR_INVALID);
  STEP(r, mail_imap_search(r->im, 0, NULL, "UNSEEN SUBJECT ?", a1, 1), MAIL_OK);
  static const char *const a2[] = {"a\"b"};
  STEP(r, mail_imap_search(r->im, 1, "MIN COUNT", "FROM ?", a2, 1), MAIL_OK);
  static const char *const a3[] = {"\xc3\xa9"};
  return DO(r, mail_imap_search(r->im, 0, NULL, "BODY ?", a3, 1));
#undef WITH_SET
}

static int s_listing(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_list(r->im, "", "*",
                         MAIL_IMAP_LIST_SUBSCRIBED | MAIL_IMAP_LIST_SPECIAL_USE |
                             MAIL_IMAP_LIST_STATUS),
       MAIL_OK);
  if (r->full)
    ck_assert_int_eq(r->untagged, 3); /* two LISTs and the STATUS of LIST-STATUS */
  STEP(r, mail_imap_namespace(r->im), MAIL_OK);
  return DO(r, mail_imap_status(r->im, "INBOX",
                                MAIL_IMAP_STATUS_MESSAGES | MAIL_IMAP_STATUS_UIDNEXT |
                                    MAIL_IMAP_STATUS_HIGHESTMODSEQ));
}

static int refreshes;

static int token_cb(void *user, mail_sasl *sasl, int refresh)
{
  (void)user;
  if (!refresh)
    return mail_sasl_set_oauth_token(sasl, "ya29.first-token");
  refreshes++;
  const char *status = mail_sasl_error_detail(sasl, MAIL_SASL_DETAIL_OAUTH_STATUS);
  ck_assert_str_eq(status ? status : "", "invalid_token");
  return mail_sasl_set_oauth_token(sasl, "ya29.refreshed-token");
}

static int s_xoauth2(srun *r)
{
  mail_sasl *sasl = mail_imap_sasl(r->im);
  refreshes = 0;
  STEP(r, mail_imap_set_auth(r->im, "alice", NULL), MAIL_OK);
  STEP(r, mail_sasl_set_oauth_token(sasl, "ya29.first-token"), MAIL_OK);
  mail_sasl_set_token_callback(sasl, token_cb, NULL);
  STEP(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
  STEP(r, mail_imap_login(r->im), MAIL_OK);
  if (r->full) {
    ck_assert_int_eq(refreshes, 1);
    ck_assert(mail_imap_has_capability(r->im, "IDLE"));
    ck_assert_ptr_null(strstr(r->tr.text, "ya29"));
    ck_assert_ptr_null(strstr(r->tr.text, "dXNlcj1hbGljZQ"));
  }
  return MAIL_OK;
}

/* A message source handing out at most 5 bytes a call; fail_at > 0 makes
 * the call after that many bytes fail. */
typedef struct msg_src {
  const char *data;
  size_t len, at, fail_at;
} msg_src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  msg_src *m = user;
  if (m->fail_at && m->at >= m->fail_at)
    return -1;
  size_t n = m->len - m->at;
  if (n > cap)
    n = cap;
  if (n > 5)
    n = 5;
  memcpy(buf, m->data + m->at, n);
  m->at += n;
  *got = n;
  return 0;
}

#define MSG "Subject: hi\r\n\r\nhello\r\n"

static int s_append(srun *r)
{
  msg_src m = {MSG, sizeof MSG - 1, 0, 0};
  static const char *const flags[] = {"\\Seen", "$Label"};
  static const char *const bad[] = {"\\Seen)"};
  uint32_t v = 0, u = 0;
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_imap_append(r->im, "INBOX", bad, 1, 0, m.len, src_read, &m),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_append(r->im, NULL, NULL, 0, 0, m.len, src_read, &m),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_append(r->im, "INBOX", NULL, 0, 0, m.len, NULL, &m),
                   MAIL_ERR_INVALID);
  int sync = !mail_imap_has_capability(r->im, "LITERAL+");
  if (sync)
    STEP(r, mail_imap_append(r->im, "INBOX", flags, 2, 1700000000, m.len, src_read, &m), MAIL_OK);
  else
    STEP(r, mail_imap_append(r->im, "Sent Items", NULL, 0, 0, m.len, src_read, &m), MAIL_OK);
  if (r->full) {
    ck_assert_uint_eq(m.at, m.len);
    int rc = mail_imap_append_uid(&v, &u, r->im);
    if (sync) {
      ck_assert_int_eq(rc, MAIL_OK);
      ck_assert_uint_eq(v, 38505);
      ck_assert_uint_eq(u, 3955);
    } else {
      ck_assert_int_eq(rc, MAIL_ERR_NOT_FOUND);
    }
  }
  return MAIL_OK;
}

static int s_append_refused(srun *r)
{
  msg_src m = {MSG, sizeof MSG - 1, 0, 0};
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_append(r->im, "Nowhere", NULL, 0, 0, m.len, src_read, &m), MAIL_ERR_SERVER);
  if (r->full) {
    ck_assert_uint_eq(m.at, 0); /* nothing was read, nothing sent */
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_TRYCREATE);
  }
  return DO(r, mail_imap_noop(r->im));
}

static int s_append_source_error(srun *r)
{
  /* append_source_short.txt: the source ends at 10 of 22 bytes */
  int shortened = !strcmp(r->file, "append_source_short.txt");
  msg_src m = {MSG, shortened ? 10 : sizeof MSG - 1, 0, shortened ? 0 : 10};
  STEP(r, connect_tls(r), MAIL_OK);
  int rc = DO(r, mail_imap_append(r->im, "INBOX", NULL, 0, 0, sizeof MSG - 1, src_read, &m));
  if (r->full) {
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_DISCONNECTED);
    ck_assert_int_eq(mail_imap_noop(r->im), MAIL_ERR_STATE);
  }
  return rc;
}

static int64_t test_clock(void *user, int which)
{
  srun *r = user;
  return which == MAIL_CLOCK_MONOTONIC ? r->clock : 1700000000000;
}

static int s_idle(srun *r)
{
  mail_conn_set_clock(mail_imap_conn(r->im), test_clock, r);
  r->clock = 1000;
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_imap_idle_done(r->im), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_set_idle_interval(r->im, 999), MAIL_ERR_INVALID);
  int reissue = !strcmp(r->file, "idle_reissue.txt");
  if (!strcmp(r->file, "idle_exists.txt")) {
    STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  }
  r->idle = 1;
  r->advance = reissue ? 25 * 60 * 1000 : 0;
  int rc = DO(r, mail_imap_idle_start(r->im));
  if (r->full && rc == MAIL_OK) {
    uint64_t v = 0;
    if (!reissue) { /* the selected mailbox's count follows the EXISTS */
      ck_assert_int_eq(mail_imap_mailbox_number(&v, r->im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
      ck_assert_uint_eq(v, 3);
    }
    ck_assert_int_eq(r->untagged, 2);
    ck_assert_int_eq(mail_imap_get_state(r->im), reissue ? MAIL_IMAP_STATE_AUTHENTICATED
                                                         : MAIL_IMAP_STATE_SELECTED);
  }
  if (r->full && rc == MAIL_ERR_SERVER_CLOSING)
    ck_assert_int_eq(mail_imap_get_state(r->im), MAIL_IMAP_STATE_DISCONNECTED);
  return rc;
}

/* A VANISHED longer than max_response still counts, and reads longer than
 * it still parse (vanished_long.txt). */
static int s_vanished(srun *r)
{
  mail_limits l;
  mail_limits_init(&l, MAIL_LIMITS_VERSION);
  l.max_response = 512;
  STEP(r, mail_conn_set_limits(mail_imap_conn(r->im), &l), MAIL_OK);
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  mail_imap_seqset *set = NULL;
  int rc = mail_imap_seqset_new(&set, NULL);
  if (!rc)
    rc = mail_imap_seqset_add_range(set, 1, 1000);
  if (!rc)
    rc = DO(r, mail_imap_uid_expunge(r->im, set));
  mail_imap_seqset_free(set);
  if (rc)
    return rc;
  if (r->full)
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 500);
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  if (r->full) { /* 2:10 and 12 went; EARLIER ones were gone already */
    ck_assert_uint_eq(num(r, MAIL_IMAP_MAILBOX_EXISTS), 490);
    ck_assert_int_eq(r->fetches, 40);
  }
  return MAIL_OK;
}

static int odd_set(mail_imap_seqset **set, uint32_t from, uint32_t to)
{
  int rc = mail_imap_seqset_new(set, NULL);
  for (uint32_t i = from; i <= to && !rc; i += 2)
    rc = mail_imap_seqset_add(*set, &i, 1);
  return rc;
}

static int s_mailbox_crlf(srun *r)
{
  int minus = !strcmp(r->file, "mailbox_crlf_literal_minus.txt");
  mail_imap_seqset *set = NULL;
  int rc;
  if (!minus) {
    mail_imap_set_auth(r->im, "alice", "p\r\nw!");
    mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_LOGIN);
    STEP(r, mail_imap_connect(r->im, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS), MAIL_OK);
    STEP(r, mail_imap_login(r->im), MAIL_OK);
    if (r->full)
      ck_assert_ptr_null(strstr(r->tr.text, "p\r\nw!"));
    STEP(r, mail_imap_create(r->im, "a\r\nA3 LOGOUT"), MAIL_OK);
  } else {
    STEP(r, connect_tls(r), MAIL_OK);
  }
  static const char *const ext[] = {"UTF8=ACCEPT"};
  STEP(r, mail_imap_enable(r->im, ext, 1), MAIL_OK);
  if (!minus) {
    STEP(r, mail_imap_create(r->im, "a\r\nA5 LOGOUT"), MAIL_OK);
    STEP(r, mail_imap_rename(r->im, "a\r\nA5 LOGOUT", "x\ry\n"), MAIL_OK);
  }
  STEP(r, mail_imap_select(r->im, "x\ry\n", 0), MAIL_OK);
  rc = odd_set(&set, 1, 27);
  if (!rc)
    rc = mail_imap_set_max_set_length(r->im, 32);
  if (!rc)
    rc = DO(r, mail_imap_copy(r->im, set, 0, "x\ry\n", 0));
  mail_imap_seqset_free(set);
  if (rc)
    return rc;
  if (r->full && !minus) {
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_COPYUID);
    ck_assert_str_eq(mail_imap_last_code_data(r->im),
                     "9 1,3,5,7,9,11,13,15,17,19,21,23,25,27 101:112,113:114");
  }
  if (minus) {
    char name[4098];
    name[0] = 'n';
    name[1] = '\n';
    memset(name + 2, 'a', 4095);
    name[4097] = '\0';
    return DO(r, mail_imap_create(r->im, name));
  }
  STEP(r, mail_imap_list(r->im, "", "to\r\n*", 0), MAIL_OK);
  STEP(r, mail_imap_status(r->im, "to\r\nbox", MAIL_IMAP_STATUS_MESSAGES), MAIL_OK);
  static const char *const a[] = {"a\r\nb"};
  return DO(r, mail_imap_search(r->im, 0, NULL, "SUBJECT ?", a, 1));
}

static int s_search_badcharset(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  if (!strcmp(r->file, "search_badcharset_latin1.txt")) {
    static const char *const a[] = {"caf\xc3\xa9!"};
    STEP(r, mail_imap_search(r->im, 0, NULL, "UNSEEN SUBJECT ?", a, 1), MAIL_OK);
    if (r->full)
      ck_assert_int_eq(r->untagged, 2); /* the EXISTS and the SEARCH */
    return MAIL_OK;
  }
  static const char *const euro[] = {"5\xe2\x82\xac"};
  STEP(r, mail_imap_search(r->im, 0, NULL, "TEXT ?", euro, 1), MAIL_ERR_CHARSET);
  if (r->full) {
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "(US-ASCII ISO-8859-1 windows-1252)");
    ck_assert_ptr_nonnull(strstr(mail_conn_last_error(mail_imap_conn(r->im)),
                                 "cannot be written in one it lists"));
  }
  STEP(r, mail_imap_noop(r->im), MAIL_OK);
  static const char *const jose[] = {"Jos\xc3\xa9\xc2\xa0"};
  return DO(r, mail_imap_search(r->im, 0, NULL, "FROM ?", jose, 1));
}

static int s_line_limit(srun *r)
{
  mail_imap_seqset *set = NULL;
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_uint_eq(mail_imap_max_line_length(r->im), 8000); /* Dovecot */
  ck_assert_int_eq(mail_imap_set_max_line_length(r->im, 127), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_set_max_line_length(r->im, 128), MAIL_OK);
  ck_assert_uint_eq(mail_imap_max_line_length(r->im), 128);
  STEP(r, mail_imap_select(r->im, "INBOX", 0), MAIL_OK);
  int rc = odd_set(&set, 1, 99);
  if (!rc)
    rc = DO(r, mail_imap_fetch(r->im, set, 1, "(UID FLAGS ENVELOPE)", NULL, NULL));
  static const char *const seen[] = {"\\Seen"};
  if (!rc)
    rc = DO(r, mail_imap_store(r->im, set, 1, MAIL_IMAP_STORE_ADD, seen, 1, 1, 5));
  if (!rc && r->full) {
    ck_assert_int_eq(mail_imap_last_code(r->im), MAIL_IMAP_CODE_MODIFIED);
    ck_assert_str_eq(mail_imap_last_code_data(r->im), "7,9,91");
  }
  if (!rc) {
    /* Too long whatever the set: refused, nothing sent. */
    char items[200];
    memset(items, 'X', sizeof items - 1);
    items[0] = '(';
    items[sizeof items - 2] = ')';
    items[sizeof items - 1] = '\0';
    ck_assert_int_eq(mail_imap_fetch(r->im, set, 1, items, NULL, NULL), MAIL_ERR_TOO_BIG);
    ck_assert_ptr_nonnull(strstr(mail_conn_last_error(mail_imap_conn(r->im)), "nothing was sent"));
    rc = DO(r, mail_imap_search(r->im, 0, NULL, items, NULL, 0));
    if (rc == MAIL_ERR_TOO_BIG)
      rc = DO(r, mail_imap_search_within(r->im, 1, "MIN", set, "UNSEEN", NULL, 0));
    if (rc == MAIL_ERR_TOO_BIG)
      rc = DO(r, mail_imap_search_within(r->im, 1, NULL, set, "UNSEEN", NULL, 0));
    else if (rc == MAIL_OK)
      rc = -9999;
  }
  mail_imap_seqset_free(set);
  if (rc)
    return rc;
  if (r->full)
    ck_assert_int_eq(r->fetches, 1);
  return DO(r, mail_imap_noop(r->im));
}

static int wake_readable(srun *r)
{
  int fd = mail_conn_wake_fd(mail_imap_conn(r->im));
  ck_assert_int_ge(fd, 0);
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static int s_idle_stop_wake(srun *r)
{
  STEP(r, connect_tls(r), MAIL_OK);
  ck_assert_int_eq(mail_conn_wake_fd(mail_imap_conn(r->im)), -1); /* none before an IDLE */
  if (!r->nonblocking)
    mail_imap_idle_stop(r->im); /* before: ends the IDLE right after its "+" */
  int rc, stopped = !r->nonblocking;
  size_t guard = 0;
  while ((rc = mail_imap_idle_start(r->im)) == MAIL_ERR_AGAIN && ++guard < 100000) {
    r->agains++;
    if (!stopped && strstr(r->tr.text, "+ idling")) {
      ck_assert(!wake_readable(r));
      mail_imap_idle_stop(r->im);
      ck_assert(wake_readable(r)); /* the loop's poll wakes */
      stopped = 1;
      continue; /* feed mode: the call acts on the stop before more is fed */
    }
    mail_transcript_pump(r->t);
  }
  if (rc == MAIL_OK)
    ck_assert(!wake_readable(r)); /* read empty: no spinning loop afterwards */
  return rc;
}

/* The shared SASL scenarios (../sasl_scenarios.c), the same table SMTP
 * and POP3 run: every mechanism over implicit TLS (the runner's fixed
 * channel-binding data), the cleartext one without. */
static int d_set_auth(void *u, const char *user, const char *password)
{
  return mail_imap_set_auth(((srun *)u)->im, user, password);
}

static mail_sasl *d_sasl(void *u)
{
  return mail_imap_sasl(((srun *)u)->im);
}

static int d_connect(void *u, int tls)
{
  srun *r = u;
  return DO(r, mail_imap_connect(r->im, "imap.test", 0,
                                 tls ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_NONE_INSECURE));
}

static int d_auth(void *u)
{
  srun *r = u;
  mail_imap_set_auth_method(r->im, MAIL_IMAP_AUTH_SASL);
  return DO(r, mail_imap_login(r->im));
}

/* A final refusal: the session goes on (NOOP). */
static int d_after_refusal(void *u)
{
  srun *r = u;
  if (mail_imap_get_state(r->im) != MAIL_IMAP_STATE_NOT_AUTHENTICATED)
    return MAIL_ERR_STATE;
  return DO(r, mail_imap_noop(r->im));
}

static const sasl_driver imap_sasl_driver = {
  d_set_auth, d_sasl, d_connect, d_auth, d_after_refusal, 23, 993, "mx.test",
};

static int s_sasl(srun *r)
{
  return sasl_scenario_run(sasl_scenario_find(r->file), &imap_sasl_driver, r, &r->obs);
}

typedef struct scenario {
  const char *file;
  int (*fn)(srun *r);
  int expect;
} scenario;

static const scenario scenarios[] = {
  {"starttls_login.txt", s_starttls_login, MAIL_OK},
  {"starttls_not_offered.txt", s_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_refused_no.txt", s_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_refused_bad.txt", s_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_continuation.txt", s_starttls_required, MAIL_ERR_STARTTLS},
  {"starttls_injection.txt", s_starttls_required, MAIL_ERR_STARTTLS_INJECTION},
  {"preauth_plaintext.txt", s_starttls_required, MAIL_ERR_STARTTLS},
  {"greeting_bye.txt", s_greeting_bye, MAIL_ERR_TOO_MANY_CONNECTIONS},
  {"logindisabled.txt", s_logindisabled, MAIL_OK},
  {"authenticate_no_ir.txt", s_login_ok, MAIL_OK},
  {"authenticate_refused.txt", s_login_refused, MAIL_ERR_AUTH},
  {"literal_sync.txt", s_literal, MAIL_OK},
  {"literal_plus.txt", s_literal, MAIL_OK},
  {"literal_minus.txt", s_literal, MAIL_OK},
  {"literal_refused.txt", s_literal, MAIL_ERR_AUTH},
  {"mailboxes.txt", s_mailboxes, MAIL_ERR_SERVER},
  {"bye_unsolicited.txt", s_bye, MAIL_ERR_SERVER_CLOSING},
  {"throttled.txt", s_throttled, MAIL_ERR_SERVER_LIMIT},
  {"enable_id.txt", s_enable_id, MAIL_OK},
  {"enabled_unsolicited.txt", s_enabled_unsolicited, MAIL_OK},
#if MAIL_HAVE_ZLIB
  {"compress_refused.txt", s_compress, MAIL_OK},
  {"compress_not_offered.txt", s_compress, MAIL_OK},
  {"compress_injection.txt", s_compress, MAIL_ERR_STARTTLS_INJECTION},
#endif
  {"fetch_pipelined.txt", s_fetch_pipelined, MAIL_OK},
  {"messages.txt", s_messages, MAIL_ERR_CHARSET},
  {"listing.txt", s_listing, MAIL_OK},
  {"xoauth2_refresh.txt", s_xoauth2, MAIL_OK},
  {"append_sync.txt", s_append, MAIL_OK},
  {"append_literal_plus.txt", s_append, MAIL_OK},
  {"append_refused.txt", s_append_refused, MAIL_OK},
  {"append_source_error.txt", s_append_source_error, MAIL_ERR_CALLBACK},
  {"append_source_short.txt", s_append_source_error, MAIL_ERR_CALLBACK},
  {"idle_exists.txt", s_idle, MAIL_OK},
  {"idle_reissue.txt", s_idle, MAIL_OK},
  {"idle_bye.txt", s_idle, MAIL_ERR_SERVER_CLOSING},
  {"vanished_long.txt", s_vanished, MAIL_OK},
  {"mailbox_crlf.txt", s_mailbox_crlf, MAIL_OK},
  {"mailbox_crlf_literal_minus.txt", s_mailbox_crlf, MAIL_OK},
  {"search_badcharset_latin1.txt", s_search_badcharset, MAIL_OK},
  {"search_badcharset_refused.txt", s_search_badcharset, MAIL_ERR_CHARSET},
  {"line_limit.txt", s_line_limit, MAIL_OK},
  {"idle_stop_wake.txt", s_idle_stop_wake, MAIL_OK},
};
/* This directory's scenarios, then the shared SASL ones. */
SCN_DRIVER_TABLE(s_sasl)
#define NSCN scn_count()

static int play(srun *r, const scenario *s, mail_transcript *t, const mail_allocator *a,
                int nonblock, int full)
{
  memset(r, 0, sizeof *r);
  r->t = t;
  r->file = s->file;
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
  mail_conn_set_trace(mail_imap_conn(r->im), on_trace, &r->tr);
  mail_imap_set_untagged_callback(r->im, on_untagged, r);
  r->nonblocking = nonblock;
  if (nonblock == 1) {
    mail_conn_set_nonblocking(mail_imap_conn(r->im), 1);
    mail_transcript_set_auto_again(t, 1);
  }
  return s->fn(r);
}

static int play_file(srun *r, const char *file, mail_transcript *t, const mail_allocator *a,
                     int nonblock, int full)
{
  scenario sc = find(file);
  return play(r, &sc, t, a, nonblock, full);
}

START_TEST(test_every_transcript)
{
  scenario sc = scenario_at((size_t)_i);
  const scenario *s = &sc;
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
  scenario s;
  mail_transcript *t;
  int feed; /* 1: in feed mode */
} nomem_ctx;

static int run_allocating(void *user, mail_test_alloc *ta)
{
  nomem_ctx *c = user;
  mail_transcript_rewind(c->t);
  srun r;
  int rc = play(&r, &c->s, c->t, mail_test_alloc_hooks(ta), c->feed ? 2 : 0, 0);
  if (ta->failures == 0)
    MAIL_TRANSCRIPT_ASSERT_DONE(c->t);
  mail_imap_free(r.im);
  return rc;
}

/* Every transcript failing each allocation in turn: nothing leaked, no
 * MAIL_ERR_INTERNAL, and the complete run plays the whole transcript. */
START_TEST(test_every_transcript_nomem)
{
  nomem_ctx c = {scenario_at((size_t)_i), load(scenario_at((size_t)_i).file), 0};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.s.file, run_allocating, &c, c.s.expect,
                                   MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

START_TEST(test_every_transcript_nomem_feed)
{
  nomem_ctx c = {scenario_at((size_t)_i), load(scenario_at((size_t)_i).file), 1};
  MAIL_TEST_ASSERT_EACH_ALLOCATION(c.s.file, run_allocating, &c, c.s.expect,
                                   MAIL_TEST_NOMEM_ANY);
  mail_transcript_free(c.t);
}
END_TEST

/* Each SASL scenario: the mechanism that ran, and no secret in the trace,
 * the error text or any freed block. */
START_TEST(test_sasl_mechanism_and_no_secret_in_trace)
{
  const sasl_scenario *ss = &sasl_scenarios[_i];
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  sasl_forbid_secrets(&ta);
  mail_transcript *t = load(ss->file);
  srun r;
  int rc = play_file(&r, ss->file, t, mail_test_alloc_hooks(&ta), 0, 1);
  ck_assert_msg(rc == ss->expect, "%s: got %d (%s); %s", ss->file, rc, mail_strerror(rc),
                mail_transcript_report(t));
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  char path[512];
  snprintf(path, sizeof path, "%s%s", TDIR, ss->file);
  sasl_assert_clean(ss, mail_imap_sasl(r.im), r.tr.text,
                    mail_conn_last_error(mail_imap_conn(r.im)), path);
  if (ss->setup == SASL_OAUTH || ss->setup == SASL_OAUTH_TWICE)
    ck_assert_int_eq(r.obs.refreshes,
                     (strstr(ss->file, "refresh") || strstr(ss->file, "twice")) ? 1 : 0);
  mail_imap_free(r.im);
  mail_transcript_free(t);
  ck_assert_msg(ta.forbidden_hits == 0, "%s: %s", ss->file, ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(IMAP_TRANSCRIPT_DIR, scn_played, NULL, why, sizeof why) > 0,
                "%s", why);
}
END_TEST

START_TEST(test_arguments)
{
  mail_imap *im;
  ck_assert_int_eq(mail_imap_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_set_auth(im, NULL, "x"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_set_auth(im, "a\r\nb", "x"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_set_auth(im, "a", "x\r\ny"), MAIL_OK); /* LOGIN: a literal */
  ck_assert_int_eq(mail_imap_set_security(im, 99), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_set_auth_method(im, 9), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_login(im), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_imap_connect(im, "a\nb", 0, MAIL_SECURITY_STARTTLS), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_imap_connect_url(im, "pop3://x"), MAIL_ERR_SYNTAX);
  ck_assert_str_eq(mail_imap_state_name(im), "DISCONNECTED");
  ck_assert_str_eq(mail_imap_last_text(im), "");
  ck_assert_ptr_null(mail_imap_capabilities(im));
  mail_imap_free(im);
  mail_imap_free(NULL);
}
END_TEST

static Suite *imap_suite(void)
{
  Suite *s = suite_create("imap");
  TCase *tc = tcase_create("session");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_arguments);
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, test_every_transcript, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_every_transcript_nomem_feed, 0, (int)NSCN);
  tcase_add_loop_test(tc, test_sasl_mechanism_and_no_secret_in_trace, 0, (int)n_sasl_scenarios);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(imap_suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

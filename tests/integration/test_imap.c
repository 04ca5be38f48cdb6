/* IMAP against the real Dovecot of tests/servers: STARTTLS and IMAPS,
 * every SASL mechanism Dovecot offers plus LOGIN (also with a non-ASCII
 * password), a refused password, an imaps:// URL with user and mailbox,
 * and the mailbox commands in mailboxes each test creates under a unique
 * name and deletes (other processes use the same users meanwhile), also
 * driven event-loop style. */
#include <check.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/mime_build.h>
#include <mail/smtp.h>

#include "plus_lines.h"
#include "servers_env.h"

static unsigned int port_of(const char *key, long fallback)
{
  return (unsigned int)mail_test_env_long(key, fallback);
}

static const char *host(void)
{
  return mail_test_env("MAIL_TEST_HOSTNAME");
}

static mail_imap *new_session(void)
{
  mail_imap *im = NULL;
  ck_assert_int_eq(mail_imap_new(&im, NULL), MAIL_OK);
  mail_tls_config *cfg = NULL;
  ck_assert_int_eq(mail_tls_config_new(&cfg, NULL), MAIL_OK);
  ck_assert_int_eq(mail_tls_config_set_ca_file(cfg, mail_test_env("MAIL_TEST_CA")), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_tls_config(mail_imap_conn(im), cfg), MAIL_OK);
  mail_tls_config_free(cfg);
  mail_conn_set_timeout(mail_imap_conn(im), MAIL_TIMEOUT_IO, 20000);
  return im;
}

/* Connected and logged in; mech NULL means the LOGIN command. */
static mail_imap *open_session(int implicit, const char *user, const char *pass, const char *mech,
                               int *login_rc)
{
  mail_imap *im = new_session();
  ck_assert_int_eq(mail_imap_set_auth(im, user, pass), MAIL_OK);
  if (mech) {
    ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_SASL), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_mechanisms(mail_imap_sasl(im), mech), MAIL_OK);
  } else {
    ck_assert_int_eq(mail_imap_set_auth_method(im, MAIL_IMAP_AUTH_LOGIN), MAIL_OK);
  }
  unsigned int port = implicit ? port_of("MAIL_TEST_IMAPS_PORT", 12993)
                               : port_of("MAIL_TEST_IMAP_PORT", 12143);
  int rc = mail_imap_connect(im, host(), port,
                             implicit ? MAIL_SECURITY_IMPLICIT_TLS : MAIL_SECURITY_STARTTLS);
  ck_assert_msg(rc == MAIL_OK, "connect %u: %s (%s)", port, mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert(mail_conn_is_verified(mail_imap_conn(im)));
  ck_assert(!mail_imap_has_capability(im, "STARTTLS") || implicit);
  ck_assert(mail_imap_has_capability(im, "IMAP4rev1"));
  rc = mail_imap_login(im);
  if (login_rc) {
    *login_rc = rc;
    return im;
  }
  ck_assert_msg(rc == MAIL_OK, "login %s as %s: %s (%s; %s)", mech ? mech : "LOGIN", user,
                mail_strerror(rc), mail_conn_last_error(mail_imap_conn(im)),
                mail_imap_last_text(im));
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  /* Capabilities after login: Dovecot lists its extensions only now. */
  ck_assert(mail_imap_has_capability(im, "UIDPLUS"));
  return im;
}

START_TEST(test_mechanisms)
{
  static const char *const users[][2] = {{"MAIL_TEST_USER1", "MAIL_TEST_PASS1"},
                                         {"MAIL_TEST_USER3", "MAIL_TEST_PASS3"}};
  char mechs[256];
  snprintf(mechs, sizeof mechs, "%s", mail_test_env("MAIL_TEST_SASL_MECHS"));
  const char *list[16];
  size_t n = 0;
  list[n++] = NULL; /* LOGIN */
  for (char *save, *m = strtok_r(mechs, ",", &save); m && n < 16; m = strtok_r(NULL, ",", &save))
    list[n++] = m;
  ck_assert_uint_ge(n, 5);
  for (size_t u = 0; u < 2; u++)
    for (size_t i = 0; i < n; i++)
      for (int implicit = 0; implicit < 2; implicit++) {
        mail_imap *im = open_session(implicit, mail_test_env(users[u][0]),
                                     mail_test_env(users[u][1]), list[i], NULL);
        ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
        ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
        ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_DISCONNECTED);
        mail_imap_free(im);
      }
}
END_TEST

START_TEST(test_wrong_password)
{
  static const char *const mechs[] = {NULL, "PLAIN", "SCRAM-SHA-256"};
  for (size_t i = 0; i < 3; i++) {
    int rc = 0;
    mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER2"), "not-the-password",
                                 mechs[i], &rc);
    ck_assert_msg(rc == MAIL_ERR_AUTH, "%s: %s", mechs[i] ? mechs[i] : "LOGIN", mail_strerror(rc));
    ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_NOT_AUTHENTICATED);
    ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
    mail_imap_free(im);
  }
}
END_TEST

START_TEST(test_url)
{
  mail_imap *im = new_session();
  char url[512];
  snprintf(url, sizeof url, "imaps://%s:%s@%s:%u/INBOX", mail_test_env("MAIL_TEST_USER1"),
           mail_test_env("MAIL_TEST_PASS1"), host(), port_of("MAIL_TEST_IMAPS_PORT", 12993));
  ck_assert_int_eq(mail_imap_connect_url(im, url), MAIL_OK);
  ck_assert_str_eq(mail_imap_url_mailbox(im), "INBOX");
  ck_assert_int_eq(mail_imap_login(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, mail_imap_url_mailbox(im), 1), MAIL_OK);
  ck_assert(mail_imap_mailbox_read_only(im));
  uint64_t v;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDVALIDITY), MAIL_OK);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

static void unique_name(char *out, size_t cap, const char *what)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(out, cap, "libmail-%s-%ld-%ld-%ld-\xc3\xa9t\xc3\xa9", what, (long)getpid(),
           (long)ts.tv_sec, ts.tv_nsec);
}

/* Call again while MAIL_ERR_AGAIN, waiting on the fd as an event loop would. */
static int loop(mail_imap *im, int rc, int *agains)
{
  (void)im;
  if (rc == MAIL_ERR_AGAIN)
    (*agains)++;
  return rc;
}
/* Wait as an event loop would: the socket for what the operation wants,
 * and with wake the wake pipe too, at most ms (-1: the operation's own
 * timeout). The poll's result. */
static int wait_conn(mail_conn *c, int ms, int wake)
{
  int w = mail_conn_want(c);
  struct pollfd p[2] = {{mail_conn_fd(c),
                         (short)(((w & MAIL_WANT_READ) ? POLLIN : 0) |
                                 ((w & MAIL_WANT_WRITE) ? POLLOUT : 0)),
                         0},
                        {mail_conn_wake_fd(c), POLLIN, 0}};
  int64_t t = ms >= 0 ? ms : mail_conn_timeout_ms(c);
  return poll(p, wake ? 2 : 1, t > INT_MAX ? INT_MAX : (int)t);
}
#define LOOP(rc, im, expr)                                                        \
  do {                                                                            \
    while (((rc) = loop(im, (expr), &agains)) == MAIL_ERR_AGAIN)                  \
      wait_conn(mail_imap_conn(im), -1, 0);                                       \
  } while (0)

static void mailbox_round(int nonblocking)
{
  int agains = 0, rc;
  mail_imap *im = open_session(0, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  mail_conn_set_nonblocking(mail_imap_conn(im), nonblocking);
  char a[160], b[160];
  unique_name(a, sizeof a, "a");
  unique_name(b, sizeof b, "b");
  LOOP(rc, im, mail_imap_create(im, a));
  ck_assert_msg(rc == MAIL_OK, "CREATE: %s %s", mail_strerror(rc), mail_imap_last_text(im));
  LOOP(rc, im, mail_imap_create(im, a));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_ALREADYEXISTS);
  LOOP(rc, im, mail_imap_rename(im, a, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_subscribe(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  uint64_t v = 99;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, 0);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDNEXT), MAIL_OK);
  ck_assert_uint_eq(v, 1);
  ck_assert_uint_ge(mail_imap_mailbox_flag_count(im, MAIL_IMAP_FLAGS_PERMANENT), 5);
  ck_assert(!mail_imap_mailbox_read_only(im));
  LOOP(rc, im, mail_imap_expunge(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_unselect(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(mail_imap_mailbox_read_only(im));
  LOOP(rc, im, mail_imap_close(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_unsubscribe(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_delete(im, b));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_select(im, b, 0));
  ck_assert_int_eq(rc, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  static const char *const f[] = {"name"};
  static const char *const val[] = {"libmail-test"};
  LOOP(rc, im, mail_imap_id(im, f, val, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  static const char *const ext[] = {"CONDSTORE"};
  LOOP(rc, im, mail_imap_enable(im, ext, 1));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(mail_imap_is_enabled(im, "CONDSTORE"));
  LOOP(rc, im, mail_imap_logout(im));
  ck_assert_int_eq(rc, MAIL_OK);
  /* Not asserted: that a call returned MAIL_ERR_AGAIN. Whether a reply
   * is already there when the client reads is up to the scheduler (a
   * loaded machine may run the server between our write and our read
   * every time); the transcripts drive every operation through
   * MAIL_ERR_AGAIN deterministically, in event-loop and feed mode. */
  if (nonblocking)
    printf("mailboxes, event loop: %d MAIL_ERR_AGAIN\n", agains);
  mail_imap_free(im);
}

START_TEST(test_mailboxes)
{
  mailbox_round(0);
}
END_TEST

START_TEST(test_mailboxes_event_loop)
{
  mailbox_round(1);
}
END_TEST

/* Delivered through Dovecot's LMTP socket: in the mailbox when this returns. */
static void deliver(const char *to, const char *msg)
{
  mail_smtp *s = NULL;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  char url[1024];
  snprintf(url, sizeof url, "lmtp://%s", mail_test_env("MAIL_TEST_LMTP_SOCKET"));
  ck_assert_int_eq(mail_smtp_connect_url(s, url), MAIL_OK);
  mail_smtp_envelope *e = NULL;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, mail_test_env("MAIL_TEST_ADDR1")), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, to, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_body_data(e, msg, strlen(msg)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send(s, e), MAIL_OK);
  mail_smtp_quit(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
}

typedef struct seen {
  uint32_t uids[8];
  size_t nuids;
  int fetches, envelopes, multiparts;
  const char *token;
  char body[8192];
  size_t body_len;
} seen;

static int collect(void *user, const mail_imap_response *r, int trusted)
{
  seen *s = user;
  ck_assert(trusted);
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_SEARCH) {
    size_t n;
    const uint32_t *u = mail_imap_response_numbers(r, &n);
    for (size_t i = 0; i < n && s->nuids < 8; i++)
      s->uids[s->nuids++] = u[i];
  }
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_FETCH) {
    /* Only the test's own two: other sessions change flags in this INBOX
     * meanwhile, and Dovecot tells this one with an unsolicited
     * "* n FETCH (FLAGS ...)" (UID included under UID commands). */
    uint64_t uid = 0;
    int ours = 0;
    if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) == MAIL_OK)
      for (size_t i = 0; i < s->nuids; i++)
        ours |= s->uids[i] == uid;
    if (!ours || !mail_imap_fetch_has(r, MAIL_IMAP_ITEM_ENVELOPE))
      return 0;
    s->fetches++;
    const mail_imap_envelope *e = mail_imap_fetch_envelope(r);
    if (e) {
      size_t n;
      const char *subj = mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n);
      if (subj && memmem(subj, n, s->token, strlen(s->token)))
        s->envelopes++;
    }
    const mail_imap_body *b = mail_imap_fetch_body(r);
    if (b && mail_imap_body_is_multipart(b) && mail_imap_body_child_count(b) == 2)
      s->multiparts++;
    ck_assert_uint_eq(mail_imap_response_defect_count(r), 0);
  }
  return 0;
}

static int body_bytes(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                      const unsigned char *d, size_t n)
{
  seen *s = user;
  (void)sec;
  if (ev == MAIL_IMAP_BODY_DATA && s->body_len + n <= sizeof s->body) {
    memcpy(s->body + s->body_len, d, n);
    s->body_len += n;
  }
  return 0;
}

/* Two messages of its own in bob's INBOX (others use it meanwhile): found
 * by UID SEARCH on their Message-ID, fetched with ENVELOPE, BODYSTRUCTURE
 * and BODY[], copied to a mailbox of the test's own, removed from INBOX by
 * UID STORE + UID EXPUNGE (only theirs), moved on and the mailboxes deleted. */
START_TEST(test_messages)
{
  char token[96], msg[1024];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(token, sizeof token, "imap-it-%ld-%ld-%ld", (long)getpid(), (long)ts.tv_sec,
           ts.tv_nsec);
  for (int i = 0; i < 2; i++) {
    snprintf(msg, sizeof msg,
             "From: Alice <alice@libmail.test>\r\nTo: Bob <bob@libmail.test>\r\n"
             "Subject: %s %d\r\nMessage-ID: <%s@libmail.test>\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
             "--b\r\nContent-Type: text/plain\r\n\r\nbody of %s\r\n"
             "--b\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--b--\r\n",
             token, i, token, token);
    deliver(mail_test_env("MAIL_TEST_ADDR2"), msg);
  }
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER2"),
                               mail_test_env("MAIL_TEST_PASS2"), NULL, NULL);
  seen s = {.token = token};
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, collect, &s), MAIL_OK);
  char box[160], box2[160];
  unique_name(box, sizeof box, "msgs");
  unique_name(box2, sizeof box2, "moved");
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_create(im, box2), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  char id[128];
  snprintf(id, sizeof id, "<%s@libmail.test>", token);
  const char *args[] = {id};
  ck_assert_int_eq(mail_imap_search(im, 1, NULL, "HEADER Message-ID ?", args, 1), MAIL_OK);
  ck_assert_uint_eq(s.nuids, 2);
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add(set, s.uids, s.nuids), MAIL_OK);
  ck_assert_int_eq(mail_imap_fetch(im, set, 1, "(UID FLAGS ENVELOPE BODYSTRUCTURE BODY.PEEK[])",
                                   body_bytes, &s),
                   MAIL_OK);
  ck_assert_int_eq(s.fetches, 2);
  ck_assert_int_eq(s.envelopes, 2);
  ck_assert_int_eq(s.multiparts, 2);
  ck_assert_ptr_nonnull(memmem(s.body, s.body_len, "body of ", 8));
  ck_assert_int_eq(mail_imap_copy(im, set, 1, box, 0), MAIL_OK);
  ck_assert_str_ne(mail_imap_last_code_data(im), ""); /* COPYUID */
  static const char *const del[] = {"\\Deleted"};
  ck_assert_int_eq(mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_uid_expunge(im, set), MAIL_OK);
  s.nuids = 0;
  ck_assert_int_eq(mail_imap_search(im, 1, NULL, "HEADER Message-ID ?", args, 1), MAIL_OK);
  ck_assert_uint_eq(s.nuids, 0);
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  uint64_t v;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, 2);
  mail_imap_seqset_clear(set);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, UINT32_MAX), MAIL_OK);
  ck_assert_int_eq(mail_imap_copy(im, set, 1, box2, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, 0); /* the EXPUNGEs of the MOVE applied */
  ck_assert_int_eq(mail_imap_status(im, box2, MAIL_IMAP_STATUS_MESSAGES), MAIL_OK);
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_list(im, "", "libmail-*", MAIL_IMAP_LIST_SPECIAL_USE |
                                                        MAIL_IMAP_LIST_STATUS),
                   MAIL_OK);
  ck_assert_int_eq(mail_imap_namespace(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box2), MAIL_OK);
  mail_imap_seqset_free(set);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

/* A message read back from an in-memory buffer in pieces of up to 3000
 * bytes (so a literal comes from many reads). */
typedef struct mem_src {
  const char *data;
  size_t len, at;
} mem_src;

static int mem_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  mem_src *m = user;
  size_t n = m->len - m->at;
  if (n > cap)
    n = cap;
  if (n > 3000)
    n = 3000;
  memcpy(buf, m->data + m->at, n);
  m->at += n;
  *got = n;
  return 0;
}

static int count_fetch_search(void *user, const mail_imap_response *r, int trusted)
{
  int *n = user;
  (void)trusted;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_FETCH)
    n[0]++;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_SEARCH) {
    size_t k;
    mail_imap_response_numbers(r, &k);
    n[1] += (int)k;
  }
  return 0;
}

/* Sets far longer than the line bound against Dovecot: three real
 * messages among 3,000 UIDs that do not exist, the bound at 200 bytes, so
 * UID FETCH, UID SEARCH within the set, UID COPY and UID STORE each become
 * dozens of commands (pipelined, blocking and event loop); every message
 * is found once, the merged [COPYUID] names the three, and a FETCH whose
 * items alone are too long is refused with nothing sent. */
static void split_round(int nonblocking)
{
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  char box[160], box2[170];
  unique_name(box, sizeof box, "split");
  snprintf(box2, sizeof box2, "%s-to", box);
  int agains = 0, rc, n[2] = {0, 0};
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_create(im, box2), MAIL_OK);
  for (int i = 0; i < 3; i++) {
    char m[128];
    int len = snprintf(m, sizeof m, "From: alice@libmail.test\r\nSubject: split %d\r\n\r\nx\r\n", i);
    mem_src src = {m, (size_t)len, 0};
    ck_assert_int_eq(mail_imap_append(im, box, NULL, 0, 0, (uint64_t)len, mem_read, &src),
                     MAIL_OK);
  }
  ck_assert_uint_eq(mail_imap_max_line_length(im), 8000); /* Dovecot's greeting */
  ck_assert_int_eq(mail_imap_set_max_line_length(im, 200), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  mail_conn_set_nonblocking(mail_imap_conn(im), nonblocking);
  mail_imap_set_untagged_callback(im, count_fetch_search, n);
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  for (uint32_t u = 1; u <= 6000; u += (u < 3 ? 1 : 2))
    ck_assert_int_eq(mail_imap_seqset_add(set, &u, 1), MAIL_OK);
  LOOP(rc, im, mail_imap_fetch(im, set, 1, "(UID FLAGS)", NULL, NULL));
  ck_assert_msg(rc == MAIL_OK, "FETCH: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_int_eq(n[0], 3);
  LOOP(rc, im, mail_imap_search_within(im, 1, NULL, set, "ALL", NULL, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(n[1], 3);
  LOOP(rc, im, mail_imap_copy(im, set, 1, box2, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_COPYUID);
  const char *cu = mail_imap_last_code_data(im);
  ck_assert_msg(strstr(cu, " 1:3 ") != NULL || strstr(cu, " 1,2,3 ") != NULL, "COPYUID %s", cu);
  static const char *const flag_seen[] = {"\\Seen"};
  LOOP(rc, im, mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, flag_seen, 1, 1, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  char items[300];
  memset(items, 'X', sizeof items - 1);
  items[0] = '(';
  items[sizeof items - 2] = ')';
  items[sizeof items - 1] = '\0';
  ck_assert_int_eq(mail_imap_fetch(im, set, 1, items, NULL, NULL), MAIL_ERR_TOO_BIG);
  mail_imap_seqset_free(set);
  LOOP(rc, im, mail_imap_noop(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_close(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_delete(im, box));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_delete(im, box2));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_logout(im));
  mail_imap_free(im);
}

START_TEST(test_split_sets)
{
  split_round(0);
}
END_TEST

START_TEST(test_split_sets_event_loop)
{
  split_round(1);
}
END_TEST

#define NAPPEND 200

typedef struct got_body {
  char *data;
  size_t len, cap;
} got_body;

static int collect_body(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                        const unsigned char *d, size_t n)
{
  got_body *g = user;
  (void)sec;
  if (ev == MAIL_IMAP_BODY_DATA) {
    ck_assert_uint_le(g->len + n, g->cap);
    memcpy(g->data + g->len, d, n);
    g->len += n;
  }
  return 0;
}

/* 200 messages of growing size (200 bytes to ~20 KB) APPENDed to a
 * mailbox of the test's own, every tenth from a MIME builder, half of the
 * others with flags and an internal date; then each read back by the UID
 * its APPENDUID gave, BODY.PEEK[] equal byte for byte. */
START_TEST(test_append)
{
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  char box[160];
  unique_name(box, sizeof box, "append");
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  static unsigned char *msgs[NAPPEND];
  static size_t lens[NAPPEND];
  static uint32_t uids[NAPPEND];
  static const char *const flags[] = {"\\Seen", "$Libmail"};
  uint32_t validity = 0;
  for (int i = 0; i < NAPPEND; i++) {
    uint32_t v = 0, u = 0;
    int rc;
    if (i % 10 == 9) {
      mail_mime_builder *b = NULL;
      ck_assert_int_eq(mail_mime_builder_new(&b, NULL), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_set_from(b, "Alice", "alice@libmail.test"), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_add_to(b, NULL, "bob@libmail.test"), MAIL_OK);
      ck_assert_int_eq(mail_mime_builder_set_subject(b, "built"), MAIL_OK);
      char text[4096];
      for (size_t k = 0; k < sizeof text - 1; k++)
        text[k] = (k % 64 == 63) ? '\n' : (char)('a' + (k + (size_t)i) % 26);
      ck_assert_int_eq(mail_mime_builder_set_text(b, text, sizeof text - 1), MAIL_OK);
      rc = mail_imap_append_builder(im, box, NULL, 0, 0, b);
      ck_assert_msg(rc == MAIL_OK, "APPEND builder %d: %s (%s)", i, mail_strerror(rc),
                    mail_imap_last_text(im));
      /* The same bytes again (the builder restarts from its first). */
      ck_assert_int_eq(mail_mime_builder_to_buffer(b, &msgs[i], &lens[i]), MAIL_OK);
      mail_mime_builder_free(b);
    } else {
      size_t cap = (size_t)(100 * i + 400);
      char *m = malloc(cap);
      ck_assert_ptr_nonnull(m);
      int n = snprintf(m, cap,
                       "From: alice@libmail.test\r\nSubject: append %d\r\n"
                       "Message-ID: <append-%d-%ld@libmail.test>\r\n\r\n",
                       i, i, (long)getpid());
      size_t len = (size_t)n;
      for (int k = 0; len + 200 < cap; k++)
        len += (size_t)snprintf(m + len, cap - len, "line %d of message %d %s\r\n", k, i,
                                k % 3 ? "..." : "\xc3\xa9t\xc3\xa9");
      msgs[i] = (unsigned char *)m;
      lens[i] = len;
      mem_src src = {m, len, 0};
      int with = i % 2;
      rc = mail_imap_append(im, box, with ? flags : NULL, with ? 2 : 0, with ? 1700000000 : 0,
                            len, mem_read, &src);
      ck_assert_msg(rc == MAIL_OK, "APPEND %d: %s (%s)", i, mail_strerror(rc),
                    mail_imap_last_text(im));
      ck_assert_uint_eq(src.at, len);
    }
    ck_assert_int_eq(mail_imap_append_uid(&v, &u, im), MAIL_OK);
    if (!validity)
      validity = v;
    ck_assert_uint_eq(v, validity);
    ck_assert(i == 0 || u > uids[i - 1]);
    uids[i] = u;
  }
  ck_assert_int_eq(mail_imap_select(im, box, 1), MAIL_OK);
  uint64_t n = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&n, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(n, NAPPEND);
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  got_body g = {malloc(65536), 0, 65536};
  ck_assert_ptr_nonnull(g.data);
  for (int i = 0; i < NAPPEND; i++) {
    mail_imap_seqset_clear(set);
    ck_assert_int_eq(mail_imap_seqset_add(set, &uids[i], 1), MAIL_OK);
    g.len = 0;
    ck_assert_int_eq(mail_imap_fetch(im, set, 1, "(BODY.PEEK[])", collect_body, &g), MAIL_OK);
    ck_assert_msg(g.len == lens[i] && !memcmp(g.data, msgs[i], lens[i]),
                  "message %d (UID %u): %zu bytes back, %zu sent", i, uids[i], g.len, lens[i]);
    if (i % 10 == 9)
      mail_free(msgs[i]);
    else
      free(msgs[i]);
  }
  free(g.data);
  mail_imap_seqset_free(set);
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

/* Tells another thread when the server's "+" for the IDLE has been read
 * (seen in the trace), so what it does next happens while idling. */
typedef struct idle_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int idling;
  mail_test_lines lines;
  int stopped; /* idle_exists() asked for the stop: the IDLE is ending */
  mail_imap *im;
  const char *token; /* deliver this, or NULL: stop the IDLE */
} idle_gate;

static void gate_trace(void *user, int dir, const char *data, size_t len)
{
  idle_gate *g = user;
  if (dir != MAIL_TRACE_RECV)
    return;
  if (mail_test_plus_lines(&g->lines, data, len)) { /* the whole "+" line is in */
    pthread_mutex_lock(&g->mu);
    g->idling = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
  }
}

static void *gate_thread(void *arg)
{
  idle_gate *g = arg;
  pthread_mutex_lock(&g->mu);
  while (!g->idling)
    pthread_cond_wait(&g->cv, &g->mu);
  pthread_mutex_unlock(&g->mu);
  if (g->token) {
    char msg[512];
    snprintf(msg, sizeof msg,
             "From: alice@libmail.test\r\nTo: bob@libmail.test\r\nSubject: idle %s\r\n"
             "Message-ID: <%s@libmail.test>\r\n\r\nwake up\r\n",
             g->token, g->token);
    deliver(mail_test_env("MAIL_TEST_ADDR2"), msg);
  } else {
    mail_imap_idle_stop(g->im);
  }
  return NULL;
}

/* Any EXISTS during the IDLE: stop it and look. (Not "more than before
 * the IDLE": other tests expunge from this INBOX meanwhile, so the count
 * that announces our message can be below the one the IDLE began with.) */
static int idle_exists(void *user, const mail_imap_response *r, int trusted)
{
  idle_gate *g = user;
  (void)trusted;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_EXISTS) {
    g->stopped = 1;
    mail_imap_idle_stop(g->im);
  }
  return 0;
}

static int search_hits, search_grew;
static uint32_t search_uid;

/* The SEARCH's hits, and whether an EXISTS came with it: then a message
 * (ours, maybe) arrived after the search looked, and the next IDLE would
 * not announce it again. Any EXISTS, not a count above the one before:
 * an EXPUNGE of someone else's message in the same moment leaves the
 * count where it was. */
static int count_search(void *user, const mail_imap_response *r, int trusted)
{
  (void)user;
  (void)trusted;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_EXISTS)
    search_grew = 1;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_SEARCH) {
    size_t n;
    const uint32_t *u = mail_imap_response_numbers(r, &n);
    search_hits += (int)n;
    if (n)
      search_uid = u[0];
  }
  return 0;
}

/* A blocking IDLE in bob's INBOX woken by a message delivered through LMTP
 * once the IDLE is in place (other programs deliver there too: an EXISTS
 * that is not ours means another look and another IDLE). */
START_TEST(test_idle_lmtp)
{
  char token[96];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(token, sizeof token, "imap-idle-%ld-%ld-%ld", (long)getpid(), (long)ts.tv_sec,
           ts.tv_nsec);
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER2"),
                               mail_test_env("MAIL_TEST_PASS2"), NULL, NULL);
  idle_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0, im, token};
  mail_conn_set_trace(mail_imap_conn(im), gate_trace, &g);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, gate_thread, &g), 0);
  char id[128];
  snprintf(id, sizeof id, "<%s@libmail.test>", token);
  const char *args[] = {id};
  int found = 0;
  /* Other tests deliver here too (hundreds of messages at a time): each of
   * their EXISTS is one more round, bounded by the test's timeout. */
  for (int round = 0; round < 5000 && !found; round++) {
    /* An EXISTS that came with the last SEARCH (our message arriving
     * while we searched) would not be announced again by an IDLE: then
     * search again instead. */
    if (round == 0 || !search_grew) {
      mail_imap_set_untagged_callback(im, idle_exists, &g);
      int rc = mail_imap_idle_start(im);
      ck_assert_msg(rc == MAIL_OK, "IDLE: %s (%s)", mail_strerror(rc),
                    mail_conn_last_error(mail_imap_conn(im)));
    }
    mail_imap_set_untagged_callback(im, count_search, NULL);
    search_hits = search_grew = 0;
    ck_assert_int_eq(mail_imap_search(im, 1, NULL, "HEADER Message-ID ?", args, 1), MAIL_OK);
    found = search_hits == 1;
  }
  ck_assert(found);
  pthread_join(th, NULL);
  /* Remove that message again (only it: others use this INBOX). */
  static const char *const del[] = {"\\Deleted"};
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add(set, &search_uid, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  ck_assert_int_eq(mail_imap_uid_expunge(im, set), MAIL_OK);
  mail_imap_seqset_free(set);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

/* The same driven from an event loop on one thread: the loop polls the
 * connection, delivers once the "+" has been read, and the callback's stop
 * on a new EXISTS ends the IDLE at the loop's next call. */
START_TEST(test_idle_event_loop)
{
  char token[96];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(token, sizeof token, "imap-idle-ev-%ld-%ld-%ld", (long)getpid(), (long)ts.tv_sec,
           ts.tv_nsec);
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER2"),
                               mail_test_env("MAIL_TEST_PASS2"), NULL, NULL);
  idle_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0, im, token};
  mail_conn_set_trace(mail_imap_conn(im), gate_trace, &g);
  ck_assert_int_eq(mail_imap_select(im, "INBOX", 0), MAIL_OK);
  mail_conn_set_nonblocking(mail_imap_conn(im), 1);
  char id[128];
  snprintf(id, sizeof id, "<%s@libmail.test>", token);
  const char *args[] = {id};
  int found = 0, delivered = 0, agains = 0, rc;
  for (int round = 0; round < 5000 && !found; round++) {
    /* As in test_idle_lmtp: an EXISTS that came with the last SEARCH is
     * not announced again by an IDLE, so search again instead. */
    int idle_now = round == 0 || !search_grew;
    mail_imap_set_untagged_callback(im, idle_exists, &g);
    /* This IDLE's own "+" (the trace and the callback run on this
     * thread). One that an EXISTS, someone else's delivery, stops at
     * once (even in the read that brought the "+") is not idling: the
     * message goes out during a later one. */
    g.idling = g.stopped = 0;
    while (idle_now && (rc = mail_imap_idle_start(im)) == MAIL_ERR_AGAIN) {
      agains++;
      if (g.idling && !g.stopped && !delivered) {
        delivered = 1;
        /* idling: the I/O timeout is lifted, the wait runs to the re-issue */
        ck_assert_int_gt(mail_conn_timeout_ms(mail_imap_conn(im)), 60000);
        char msg[512];
        snprintf(msg, sizeof msg,
                 "From: alice@libmail.test\r\nTo: bob@libmail.test\r\nSubject: idle %s\r\n"
                 "Message-ID: <%s@libmail.test>\r\n\r\nwake up\r\n",
                 token, token);
        deliver(mail_test_env("MAIL_TEST_ADDR2"), msg);
      }
      wait_conn(mail_imap_conn(im), 20000, 0);
    }
    ck_assert_msg(!idle_now || rc == MAIL_OK, "IDLE: %s", mail_strerror(rc));
    mail_imap_set_untagged_callback(im, count_search, NULL);
    search_hits = search_grew = 0;
    LOOP(rc, im, mail_imap_search(im, 1, NULL, "HEADER Message-ID ?", args, 1));
    ck_assert_int_eq(rc, MAIL_OK);
    found = search_hits == 1;
  }
  ck_assert(found);
  ck_assert_int_gt(agains, 0);
  static const char *const del[] = {"\\Deleted"};
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add(set, &search_uid, 1), MAIL_OK);
  LOOP(rc, im, mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_uid_expunge(im, set));
  ck_assert_int_eq(rc, MAIL_OK);
  mail_imap_seqset_free(set);
  LOOP(rc, im, mail_imap_logout(im));
  mail_imap_free(im);
}
END_TEST

/* A blocking IDLE in a mailbox of the test's own, stopped from another
 * thread once idling (mail_imap_idle_stop: the self-pipe wakes the wait). */
START_TEST(test_idle_stop_thread)
{
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  char box[160];
  unique_name(box, sizeof box, "idle");
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  idle_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0, im, NULL};
  mail_conn_set_trace(mail_imap_conn(im), gate_trace, &g);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, gate_thread, &g), 0);
  int rc = mail_imap_idle_start(im);
  pthread_join(th, NULL);
  ck_assert_msg(rc == MAIL_OK, "IDLE: %s", mail_strerror(rc));
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_SELECTED);
  mail_conn_set_trace(mail_imap_conn(im), NULL, NULL);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_logout(im), MAIL_OK);
  mail_imap_free(im);
}
END_TEST

/* The same stop from another thread while an event loop waits: the loop
 * polls mail_conn_wake_fd() next to the socket with the connection's own
 * timeout (the re-issue, 25 minutes away), so only the wake can end its
 * wait; the IDLE must then end with DONE and the tagged OK. */
START_TEST(test_idle_stop_thread_event_loop)
{
  mail_imap *im = open_session(1, mail_test_env("MAIL_TEST_USER1"),
                               mail_test_env("MAIL_TEST_PASS1"), NULL, NULL);
  char box[160];
  unique_name(box, sizeof box, "idle-ev");
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  idle_gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, 0, im, NULL};
  mail_conn *c = mail_imap_conn(im);
  mail_conn_set_trace(c, gate_trace, &g);
  mail_conn_set_nonblocking(c, 1);
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, gate_thread, &g), 0);
  int rc;
  while ((rc = mail_imap_idle_start(im)) == MAIL_ERR_AGAIN) {
    ck_assert_int_ge(mail_conn_wake_fd(c), 0);
    /* Whether the stop lands during this wait or during the call before
     * it (which then sends DONE itself), only a wake or the server ends
     * the wait: never the 25-minute timeout. */
    ck_assert_int_gt(wait_conn(c, -1, 1), 0);
  }
  pthread_join(th, NULL);
  ck_assert_msg(rc == MAIL_OK, "IDLE: %s", mail_strerror(rc));
  mail_conn_set_trace(c, NULL, NULL);
  int agains = 0;
  LOOP(rc, im, mail_imap_close(im));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_delete(im, box));
  ck_assert_int_eq(rc, MAIL_OK);
  LOOP(rc, im, mail_imap_logout(im));
  mail_imap_free(im);
}
END_TEST

int main(void)
{
  mail_test_require_servers();
  Suite *s = suite_create("imap-integration");
  TCase *tc = tcase_create("dovecot");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_mechanisms);
  tcase_add_test(tc, test_wrong_password);
  tcase_add_test(tc, test_url);
  tcase_add_test(tc, test_mailboxes);
  tcase_add_test(tc, test_mailboxes_event_loop);
  tcase_add_test(tc, test_messages);
  tcase_add_test(tc, test_append);
  tcase_add_test(tc, test_split_sets);
  tcase_add_test(tc, test_split_sets_event_loop);
  tcase_add_test(tc, test_idle_lmtp);
  tcase_add_test(tc, test_idle_stop_thread);
  tcase_add_test(tc, test_idle_event_loop);
  tcase_add_test(tc, test_idle_stop_thread_event_loop);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

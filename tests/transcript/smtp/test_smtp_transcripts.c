/*
 * SMTP/LMTP engine transcripts: each scenario plays one file of this
 * directory against a mail_smtp session over the in-memory transport, and
 * the tests check the result, the per-recipient outcomes and that every
 * byte the client wrote matched (write call by write call). The same
 * scenarios run in event-loop mode (every read and write blocks once) and
 * with the Nth allocation failing, for every N.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>

#include "alloc.h"
#include "core/conn_internal.h"
#include "config.h"
#include "transcript.h"

#ifndef SMTP_TRANSCRIPT_DIR
#error "SMTP_TRANSCRIPT_DIR must be defined"
#endif

#define BODY "Subject: hi\r\n\r\nHello\r\n"

typedef struct run {
  mail_smtp *s;
  mail_transcript *t;
  mail_smtp_envelope *e;
  const mail_allocator *alloc;
  int nonblocking;
  size_t agains;
  int rc_connect;
  int rc_first;     /* the first send's result in two-step scenarios */
  char sent[8192];  /* SEND trace, chunks separated by '|' */
  int progress_calls;
  char all[65536];  /* every trace line, both directions */
  int refreshes;    /* token callback calls with refresh == 1 */
  char oauth_json[512], oauth_status[64]; /* error details seen in the refresh call */
} run;

/* Call an operation, resuming it while it says MAIL_ERR_AGAIN (event-loop
 * mode: the transcript transport is always "ready" on the next call). */
#define DO(r, expr)                                      \
  ({                                                     \
    int rc_;                                             \
    size_t guard_ = 0;                                   \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) \
      (r)->agains++;                                     \
    rc_;                                                 \
  })

static void trace_fn(void *user, int dir, const char *data, size_t len)
{
  run *r = user;
  size_t all = strlen(r->all);
  if (all + len + 1 < sizeof r->all) {
    memcpy(r->all + all, data, len);
    r->all[all + len] = '\0';
  }
  if (dir != MAIL_TRACE_SEND)
    return;
  size_t have = strlen(r->sent);
  if (have + len + 2 < sizeof r->sent) {
    memcpy(r->sent + have, data, len);
    r->sent[have + len] = '|';
    r->sent[have + len + 1] = '\0';
  }
}

/* Load the transcript and make a session on it. MAIL_OK or an error. */
static int open_run(run *r, const char *file)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s/%s", SMTP_TRANSCRIPT_DIR, file);
  r->t = mail_transcript_from_file(path, err, sizeof err);
  if (!r->t) {
    fprintf(stderr, "%s\n", err);
    return MAIL_ERR_FILE;
  }
  int rc = mail_smtp_new(&r->s, r->alloc);
  if (rc)
    return rc;
  mail_conn *c = mail_smtp_conn(r->s);
  rc = mail_transcript_attach(r->t, c);
  if (rc)
    return rc;
  mail_conn_set_trace(c, trace_fn, r);
  if (r->nonblocking) {
    mail_conn_set_nonblocking(c, 1);
    mail_transcript_set_auto_again(r->t, 1);
  }
  return mail_smtp_set_client_name(r->s, "client.test");
}

static void close_run(run *r)
{
  mail_smtp_envelope_free(r->e);
  mail_smtp_free(r->s);
  mail_transcript_free(r->t);
  r->e = NULL;
  r->s = NULL;
  r->t = NULL;
}

static int connect_plain(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE));
  return r->rc_connect;
}

/* A fresh envelope from alice to the given recipients with body. */
static int envelope(run *r, const char *const *rcpts, const void *body, size_t len)
{
  mail_smtp_envelope_free(r->e);
  r->e = NULL;
  int rc = mail_smtp_envelope_new(&r->e, r->alloc);
  if (!rc)
    rc = mail_smtp_envelope_set_from(r->e, "alice@libmail.test");
  for (size_t i = 0; !rc && rcpts[i]; i++)
    rc = mail_smtp_envelope_add_recipient(r->e, rcpts[i], NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(r->e, body, len);
  return rc;
}

#define TRY(x)       \
  do {               \
    int rc__ = (x);  \
    if (rc__)        \
      return rc__;   \
  } while (0)

static const char *const RCPT_BOB[] = {"bob@libmail.test", NULL};

static int send_bob(run *r)
{
  TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

/* ---------------------------------------------------------------- scenarios */

static int scn_submit(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 587, MAIL_SECURITY_STARTTLS));
  TRY(r->rc_connect);
  TRY(DO(r, mail_smtp_auth(r->s)));
  TRY(send_bob(r));
  return DO(r, mail_smtp_quit(r->s));
}

static int scn_rcpt3(run *r)
{
  static const char *const rc3[] = {"bob@libmail.test", "nobody@libmail.test",
                                    "carol@libmail.test", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc3, BODY, strlen(BODY)));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_rcpt452(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_data451(run *r)
{
  TRY(connect_plain(r));
  int rc = send_bob(r);
  r->rc_first = rc;
  if (rc != MAIL_ERR_SERVER)
    return rc == MAIL_OK ? MAIL_ERR_INTERNAL : rc;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_send_only(run *r)
{
  TRY(connect_plain(r));
  return send_bob(r);
}

static int scn_connect_starttls(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  return r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_STARTTLS));
}

static int scn_opportunistic(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25,
                                          MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE));
  TRY(r->rc_connect);
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_auth_cleartext(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  TRY(connect_plain(r));
  int rc = DO(r, mail_smtp_auth(r->s));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static const char DOT_BODY[] =
  ".first\r\nmid\n.\nsmuggled\r\n.\r\nMAIL FROM:<x@y>\r\nbare\rcr\n.\r\n..two\r\nlast";

static int scn_dots(run *r)
{
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, DOT_BODY, strlen(DOT_BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_strict(run *r)
{
  TRY(mail_smtp_set_strict(r->s, 1));
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, "a\nb", 3));
  return DO(r, mail_smtp_send(r->s, r->e));
}

/* A read callback over a fixed buffer, 3 bytes at a time. */
typedef struct src {
  const unsigned char *p;
  size_t len, pos;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t k = s->len - s->pos;
  if (k > cap)
    k = cap;
  if (k > 3)
    k = 3;
  memcpy(buf, s->p + s->pos, k);
  s->pos += k;
  *got = k;
  return 0;
}

static int scn_bdat_binary(run *r)
{
  static const unsigned char bin[] = "a\nb\0\r\n.\r\n\xFF\r";
  static src sr;
  sr.p = bin;
  sr.len = sizeof bin - 1;
  sr.pos = 0;
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, "", 0));
  TRY(mail_smtp_envelope_set_body_callback(r->e, src_read, &sr, sr.len, MAIL_SMTP_NEEDS_BINARY));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_lmtp(run *r)
{
  static const char *const rc3[] = {"bob@libmail.test", "ghost@libmail.test",
                                    "quota@libmail.test", NULL};
  TRY(mail_smtp_set_lmtp(r->s, 1));
  TRY(connect_plain(r));
  TRY(envelope(r, rc3, BODY, strlen(BODY)));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_size(run *r)
{
  TRY(connect_plain(r));
  int rc = send_bob(r);
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_idna(run *r)
{
  static const char *const utf8_local[] = {"j\xC3\xB6s\xC3\xA9@libmail.test", NULL};
  static const char *const utf8_domain[] = {"user@b\xC3\xBC" "cher.example", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, utf8_local, BODY, strlen(BODY)));
  r->rc_first = DO(r, mail_smtp_send(r->s, r->e));
  TRY(envelope(r, utf8_domain, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_smtputf8(run *r)
{
  static const char *const rc1[] = {"j\xC3\xB6s\xC3\xA9@b\xC3\xBC" "cher.example", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc1, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_dsn(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  TRY(mail_smtp_envelope_set_ret(r->e, MAIL_SMTP_RET_HDRS));
  TRY(mail_smtp_envelope_set_envid(r->e, "id+1=x"));
  TRY(mail_smtp_envelope_set_notify(r->e, 0, MAIL_SMTP_NOTIFY_SUCCESS | MAIL_SMTP_NOTIFY_FAILURE));
  TRY(mail_smtp_envelope_set_orcpt(r->e, 0, "bob+dsn@libmail.test"));
  TRY(mail_smtp_envelope_set_notify(r->e, 1, MAIL_SMTP_NOTIFY_NEVER));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_requiretls(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_STARTTLS));
  TRY(r->rc_connect);
  TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  TRY(mail_smtp_envelope_set_requiretls(r->e, 1));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_requiretls_refused(run *r)
{
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  TRY(mail_smtp_envelope_set_requiretls(r->e, 1));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_policy_all(run *r, const char *second)
{
  const char *rc2[] = {"bob@libmail.test", second, NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  TRY(mail_smtp_envelope_set_policy(r->e, MAIL_SMTP_POLICY_ALL));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_policy_all_refused(run *r)
{
  return scn_policy_all(r, "nobody@libmail.test");
}

static int scn_policy_all_ok(run *r)
{
  return scn_policy_all(r, "carol@libmail.test");
}

static int scn_helo(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_two(run *r)
{
  TRY(connect_plain(r));
  r->rc_first = send_bob(r);
  return send_bob(r);
}

static int scn_no_rcpt(run *r)
{
  static const char *const rc1[] = {"nobody@libmail.test", NULL};
  TRY(connect_plain(r));
  TRY(envelope(r, rc1, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_8bit(run *r)
{
  static const char body[] = "\r\nd\xC3\xA9j\xC3\xA0";
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, body, strlen(body)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_bdat_prefer(run *r)
{
  TRY(mail_smtp_set_chunking(r->s, MAIL_SMTP_CHUNKING_PREFER));
  TRY(connect_plain(r));
  return send_bob(r);
}

static int cancel_progress(void *user, uint64_t sent, uint64_t total)
{
  run *r = user;
  r->progress_calls++;
  return 1;
}

static int scn_cancel(run *r)
{
  mail_smtp_set_progress(r->s, cancel_progress, r);
  TRY(connect_plain(r));
  return send_bob(r);
}

static int scn_quit_close(run *r)
{
  TRY(connect_plain(r));
  return DO(r, mail_smtp_quit(r->s));
}

static int scn_bad_reply(run *r)
{
  TRY(connect_plain(r));
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_auth_535(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "wrong-pw"));
  mail_sasl_set_allow_insecure_plaintext(mail_smtp_sasl(r->s), 1);
  TRY(mail_sasl_set_mechanisms(mail_smtp_sasl(r->s), "LOGIN"));
  TRY(connect_plain(r));
  r->rc_first = DO(r, mail_smtp_auth(r->s));
  if (r->rc_first != MAIL_ERR_AUTH)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_greeting(run *r)
{
  return connect_plain(r);
}

static int scn_lmtp_bdat(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  TRY(mail_smtp_set_lmtp(r->s, 1));
  TRY(mail_smtp_set_chunking(r->s, MAIL_SMTP_CHUNKING_PREFER));
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_lmtp_dsn(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "c\xC3\xA9" "dric@libmail.test", NULL};
  TRY(mail_smtp_set_lmtp(r->s, 1));
  TRY(connect_plain(r));
  TRY(envelope(r, rc2, BODY, strlen(BODY)));
  TRY(mail_smtp_envelope_set_ret(r->e, MAIL_SMTP_RET_FULL));
  TRY(mail_smtp_envelope_set_envid(r->e, "lmtp-1"));
  TRY(mail_smtp_envelope_set_notify(r->e, 0, MAIL_SMTP_NOTIFY_FAILURE | MAIL_SMTP_NOTIFY_DELAY));
  TRY(mail_smtp_envelope_set_orcpt(r->e, 0, "bob@libmail.test"));
  TRY(mail_smtp_envelope_set_notify(r->e, 1, MAIL_SMTP_NOTIFY_SUCCESS));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_auth_mechs(run *r, const char *mechs, const char *pass)
{
  TRY(mail_smtp_set_auth(r->s, "alice", pass));
  mail_sasl_set_allow_insecure_plaintext(mail_smtp_sasl(r->s), 1);
  TRY(mail_sasl_set_mechanisms(mail_smtp_sasl(r->s), mechs));
  TRY(connect_plain(r));
  return DO(r, mail_smtp_auth(r->s));
}

static int scn_auth_504(run *r)
{
  return scn_auth_mechs(r, "CRAM-MD5 PLAIN", "alice-pw-1");
}

static int scn_auth_bad_challenge(run *r)
{
  r->rc_first = scn_auth_mechs(r, "LOGIN", "alice-pw-1");
  if (r->rc_first != MAIL_ERR_SASL_BAD_CHALLENGE)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_unsolicited(run *r)
{
  TRY(connect_plain(r));
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_smtputf8_declared(run *r)
{
  static const char body[] = "Subject: h\xC3\xA9llo\r\n\r\nHello\r\n";
  TRY(connect_plain(r));
  TRY(envelope(r, RCPT_BOB, body, strlen(body)));
  TRY(mail_smtp_envelope_set_smtputf8(r->e, 1));
  return DO(r, mail_smtp_send(r->s, r->e));
}


/* ------------------------------------------------- SASL per mechanism */
/* The sasl_*.txt files are written by tests/sasl/gen_transcripts.py, which
 * computes every expected client byte with hashlib/hmac; the values below
 * (user names, passwords, tokens) must match it. All run over implicit
 * TLS (the transcript's TLS item), where the runner offers fixed
 * channel-binding data. */

#define TOKEN1 "ya29.first-token"
#define TOKEN2 "ya29.refreshed-token"
#define AUTHZID "shared@libmail.test"
#define NONASCII_PASS "p\xC3\xA4ssw\xC3\xB6rd-\xE2\x82\xAC"

static int token_cb(void *user, mail_sasl *sasl, int refresh)
{
  run *r = user;
  if (!refresh)
    return mail_sasl_set_oauth_token(sasl, TOKEN1);
  r->refreshes++;
  const char *json = mail_sasl_error_detail(sasl, MAIL_SASL_DETAIL_OAUTH_JSON);
  const char *status = mail_sasl_error_detail(sasl, MAIL_SASL_DETAIL_OAUTH_STATUS);
  snprintf(r->oauth_json, sizeof r->oauth_json, "%s", json ? json : "");
  snprintf(r->oauth_status, sizeof r->oauth_status, "%s", status ? status : "");
  return mail_sasl_set_oauth_token(sasl, TOKEN2);
}

static int tls_auth(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 465, MAIL_SECURITY_IMPLICIT_TLS));
  TRY(r->rc_connect);
  return DO(r, mail_smtp_auth(r->s));
}

static int scn_sasl_alice(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  return tls_auth(r);
}

static int scn_sasl_long_password(run *r)
{
  static char pw[8 * 1150 + 1];
  for (size_t i = 0; i < 1150; i++)
    memcpy(pw + 8 * i, "long-pw-", 8);
  pw[sizeof pw - 1] = '\0';
  TRY(mail_smtp_set_auth(r->s, "alice", pw));
  return tls_auth(r);
}

static int scn_sasl_authzid(run *r)
{
  TRY(mail_sasl_set_authzid(mail_smtp_sasl(r->s), AUTHZID));
  return scn_sasl_alice(r);
}

static int scn_sasl_endpoint(run *r)
{
  TRY(mail_sasl_set_channel_binding_preference(mail_smtp_sasl(r->s), 2));
  return scn_sasl_alice(r);
}

static int scn_sasl_no_downgrade(run *r)
{
  TRY(mail_sasl_set_allow_channel_binding_downgrade(mail_smtp_sasl(r->s), 0));
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  r->rc_first = tls_auth(r);
  if (r->rc_first != MAIL_ERR_AUTH)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_sasl_nonascii(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "cedric", NONASCII_PASS));
  return tls_auth(r);
}

static int scn_sasl_wrong_then_noop(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "wrong-pw"));
  r->rc_first = tls_auth(r);
  if (r->rc_first != MAIL_ERR_AUTH)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_sasl_cleartext(run *r)
{
  TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  TRY(connect_plain(r));
  r->rc_first = DO(r, mail_smtp_auth(r->s));
  if (r->rc_first != MAIL_ERR_INSECURE)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int oauth_setup(run *r)
{
  mail_sasl *sasl = mail_smtp_sasl(r->s);
  TRY(mail_smtp_set_auth(r->s, "alice", NULL));
  TRY(mail_sasl_set_oauth_token(sasl, TOKEN1));
  TRY(mail_sasl_set_oauth_host(sasl, "mx.test", 465));
  mail_sasl_set_token_callback(sasl, token_cb, r);
  return MAIL_OK;
}

static int scn_sasl_oauth(run *r)
{
  TRY(oauth_setup(r));
  return tls_auth(r);
}

static int scn_sasl_oauth_refused_twice(run *r)
{
  TRY(oauth_setup(r));
  r->rc_first = tls_auth(r);
  if (r->rc_first != MAIL_ERR_AUTH)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_sasl_external(run *r)
{
  mail_sasl_set_external(mail_smtp_sasl(r->s), 1);
  return tls_auth(r);
}

static int scn_sasl_external_authzid(run *r)
{
  TRY(mail_sasl_set_authzid(mail_smtp_sasl(r->s), AUTHZID));
  return scn_sasl_external(r);
}

typedef struct scenario {
  const char *file;
  int (*fn)(run *r);
  int expect;
} scenario;

static const scenario scenarios[] = {
  {"submit_starttls_auth.txt", scn_submit, MAIL_OK},
  {"rcpt_550.txt", scn_rcpt3, MAIL_ERR_PARTIAL},
  {"rcpt_452.txt", scn_rcpt452, MAIL_ERR_PARTIAL},
  {"data_451.txt", scn_data451, MAIL_OK},
  {"close_421.txt", scn_send_only, MAIL_ERR_SERVER_CLOSING},
  {"close_in_data.txt", scn_send_only, MAIL_ERR_CLOSED},
  {"starttls_not_offered.txt", scn_connect_starttls, MAIL_ERR_STARTTLS},
  {"starttls_454.txt", scn_connect_starttls, MAIL_ERR_STARTTLS},
  {"starttls_502.txt", scn_connect_starttls, MAIL_ERR_STARTTLS},
  {"starttls_ehlo_unknown.txt", scn_connect_starttls, MAIL_ERR_STARTTLS},
  {"starttls_injection.txt", scn_connect_starttls, MAIL_ERR_STARTTLS_INJECTION},
  {"starttls_opportunistic.txt", scn_opportunistic, MAIL_OK},
  {"auth_cleartext.txt", scn_auth_cleartext, MAIL_ERR_INSECURE},
  {"dot_stuffing.txt", scn_dots, MAIL_OK},
  {"strict_bare_lf.txt", scn_strict, MAIL_ERR_INVALID},
  {"bdat_binary.txt", scn_bdat_binary, MAIL_OK},
  {"lmtp.txt", scn_lmtp, MAIL_ERR_PARTIAL},
  {"size_too_big.txt", scn_size, MAIL_ERR_TOO_BIG},
#if MAIL_WITH_IDNA
  {"idna_alabel.txt", scn_idna, MAIL_OK},
#endif
  {"smtputf8.txt", scn_smtputf8, MAIL_OK},
  {"smtputf8_declared.txt", scn_smtputf8_declared, MAIL_OK},
  {"dsn.txt", scn_dsn, MAIL_OK},
  {"requiretls.txt", scn_requiretls, MAIL_OK},
  {"requiretls_refused.txt", scn_requiretls_refused, MAIL_ERR_REQUIRETLS},
  {"policy_all_refused.txt", scn_policy_all_refused, MAIL_ERR_RECIPIENTS},
  {"policy_all_ok.txt", scn_policy_all_ok, MAIL_OK},
  {"helo_fallback.txt", scn_helo, MAIL_ERR_PARTIAL},
  {"two_messages.txt", scn_two, MAIL_OK},
  {"data_without_rcpt.txt", scn_no_rcpt, MAIL_ERR_RECIPIENTS},
  {"body_8bit.txt", scn_8bit, MAIL_OK},
  {"bdat_prefer.txt", scn_bdat_prefer, MAIL_OK},
  {"cancel.txt", scn_cancel, MAIL_ERR_CANCELLED},
  {"quit_close.txt", scn_quit_close, MAIL_OK},
  {"bad_reply.txt", scn_bad_reply, MAIL_ERR_PROTOCOL},
  {"timeout_final.txt", scn_send_only, MAIL_ERR_TIMEOUT},
  {"auth_login_535.txt", scn_auth_535, MAIL_OK},
  {"greeting_554.txt", scn_greeting, MAIL_ERR_SERVER},
  {"greeting_421.txt", scn_greeting, MAIL_ERR_SERVER_CLOSING},
  {"lmtp_bdat.txt", scn_lmtp_bdat, MAIL_ERR_PARTIAL},
  {"lmtp_dsn_smtputf8.txt", scn_lmtp_dsn, MAIL_OK},
  {"auth_504_fallback.txt", scn_auth_504, MAIL_OK},
  {"unsolicited_421.txt", scn_unsolicited, MAIL_ERR_SERVER_CLOSING},
  {"unsolicited_reply.txt", scn_unsolicited, MAIL_ERR_PROTOCOL},
  {"auth_bad_challenge.txt", scn_auth_bad_challenge, MAIL_OK},
  {"sasl_plain.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_plain_no_ir.txt", scn_sasl_long_password, MAIL_OK},
  {"sasl_plain_authzid.txt", scn_sasl_authzid, MAIL_OK},
  {"sasl_login.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_cram_md5.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_sha1.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_sha256.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_sha256_plus.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_sha1_plus.txt", scn_sasl_endpoint, MAIL_OK},
  {"sasl_scram_sha256_plus_tls_unique.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_plus_downgrade.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_scram_plus_no_downgrade.txt", scn_sasl_no_downgrade, MAIL_OK},
  {"sasl_scram_plus_wrong_password.txt", scn_sasl_wrong_then_noop, MAIL_OK},
  {"sasl_scram_bad_signature.txt", scn_sasl_alice, MAIL_ERR_SASL_SERVER},
#if MAIL_WITH_SASLPREP
  {"sasl_scram_nonascii.txt", scn_sasl_nonascii, MAIL_OK},
#endif
  {"sasl_scram_fallback.txt", scn_sasl_alice, MAIL_OK},
  {"sasl_no_fallback.txt", scn_sasl_wrong_then_noop, MAIL_OK},
  {"sasl_cleartext.txt", scn_sasl_cleartext, MAIL_OK},
  {"sasl_xoauth2.txt", scn_sasl_oauth, MAIL_OK},
  {"sasl_xoauth2_refresh.txt", scn_sasl_oauth, MAIL_OK},
  {"sasl_oauthbearer.txt", scn_sasl_oauth, MAIL_OK},
  {"sasl_oauthbearer_refresh.txt", scn_sasl_oauth, MAIL_OK},
  {"sasl_oauthbearer_refused_twice.txt", scn_sasl_oauth_refused_twice, MAIL_OK},
  {"sasl_external.txt", scn_sasl_external, MAIL_OK},
  {"sasl_external_authzid.txt", scn_sasl_external_authzid, MAIL_OK},
};
#define NSCN (sizeof scenarios / sizeof scenarios[0])

static const scenario *find(const char *file)
{
  for (size_t i = 0; i < NSCN; i++)
    if (!strcmp(scenarios[i].file, file))
      return &scenarios[i];
  ck_abort_msg("no scenario %s", file);
  return NULL;
}

/* Run a scenario; keeps the session open for inspection (close_run). */
static int play(run *r, const char *file, int nonblocking)
{
  memset(r, 0, sizeof *r);
  r->nonblocking = nonblocking;
  const scenario *sc = find(file);
  int rc = open_run(r, file);
  ck_assert_int_eq(rc, MAIL_OK);
  rc = sc->fn(r);
  ck_assert_msg(rc == sc->expect, "%s: got %d (%s), expected %d (%s); conn error: %s; %s", file,
                rc, mail_strerror(rc), sc->expect, mail_strerror(sc->expect),
                mail_conn_last_error(mail_smtp_conn(r->s)), mail_transcript_report(r->t));
  MAIL_TRANSCRIPT_ASSERT_DONE(r->t);
  return rc;
}

/* ---------------------------------------------------------------- tests */

START_TEST(every_scenario)
{
  run r;
  play(&r, scenarios[_i].file, 0);
  close_run(&r);
}
END_TEST

START_TEST(every_scenario_event_loop)
{
  run r;
  play(&r, scenarios[_i].file, 1);
  ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in event-loop mode", scenarios[_i].file);
  close_run(&r);
}
END_TEST

START_TEST(submit_redacts_credentials)
{
  run r;
  play(&r, "submit_starttls_auth.txt", 0);
  ck_assert_ptr_null(strstr(r.sent, "AGFsaWNl"));
  ck_assert_ptr_nonnull(strstr(r.sent, "AUTH PLAIN [redacted]\r\n"));
  ck_assert(mail_conn_is_tls(mail_smtp_conn(r.s)) == 0); /* closed after QUIT */
  ck_assert_str_eq(mail_smtp_state_name(r.s), "DISCONNECTED");
  close_run(&r);
}
END_TEST

static void check_rcpt(mail_smtp_envelope *e, size_t i, int status, int code, unsigned c,
                       unsigned s, unsigned d)
{
  unsigned a, b, x;
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(e, i), status);
  ck_assert_int_eq(mail_smtp_envelope_recipient_code(e, i), code);
  ck_assert_int_eq(mail_smtp_envelope_recipient_enhanced(e, i, &a, &b, &x), MAIL_OK);
  ck_assert_uint_eq(a, c);
  ck_assert_uint_eq(b, s);
  ck_assert_uint_eq(x, d);
}

START_TEST(auth_failure_redacted_no_fallback)
{
  run r;
  play(&r, "auth_login_535.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_AUTH);
  ck_assert_ptr_null(strstr(r.sent, "YWxpY2U="));
  ck_assert_ptr_null(strstr(r.sent, "d3JvbmctcHc="));
  ck_assert_ptr_null(strstr(r.sent, "PLAIN"));
  close_run(&r);
}
END_TEST


/* Every SASL transcript: the mechanism that ran, and no credential in any
 * trace line (either direction) or error text: not the passwords, not the
 * tokens, not any base64 payload the client sent after AUTH. */
static const struct {
  const char *file;
  const char *mech;
} sasl_mechs[] = {
  {"sasl_plain.txt", "PLAIN"},
  {"sasl_plain_no_ir.txt", "PLAIN"},
  {"sasl_plain_authzid.txt", "PLAIN"},
  {"sasl_login.txt", "LOGIN"},
  {"sasl_cram_md5.txt", "CRAM-MD5"},
  {"sasl_scram_sha1.txt", "SCRAM-SHA-1"},
  {"sasl_scram_sha256.txt", "SCRAM-SHA-256"},
  {"sasl_scram_sha256_plus.txt", "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_sha1_plus.txt", "SCRAM-SHA-1-PLUS"},
  {"sasl_scram_sha256_plus_tls_unique.txt", "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_plus_downgrade.txt", "SCRAM-SHA-256"},
  {"sasl_scram_plus_no_downgrade.txt", "SCRAM-SHA-256-PLUS"},
  {"sasl_scram_plus_wrong_password.txt", "SCRAM-SHA-256"},
  {"sasl_scram_bad_signature.txt", "SCRAM-SHA-256"},
#if MAIL_WITH_SASLPREP
  {"sasl_scram_nonascii.txt", "SCRAM-SHA-256"},
#endif
  {"sasl_scram_fallback.txt", "SCRAM-SHA-1"},
  {"sasl_no_fallback.txt", "CRAM-MD5"},
  {"sasl_cleartext.txt", NULL},
  {"sasl_xoauth2.txt", "XOAUTH2"},
  {"sasl_xoauth2_refresh.txt", "XOAUTH2"},
  {"sasl_oauthbearer.txt", "OAUTHBEARER"},
  {"sasl_oauthbearer_refresh.txt", "OAUTHBEARER"},
  {"sasl_oauthbearer_refused_twice.txt", "OAUTHBEARER"},
  {"sasl_external.txt", "EXTERNAL"},
  {"sasl_external_authzid.txt", "EXTERNAL"},
};
#define NSASL (sizeof sasl_mechs / sizeof sasl_mechs[0])

/* Fail if any base64 payload the client sends in file (the argument of
 * "AUTH mech <ir>" or a whole response line) shows up in text. */
static void assert_no_client_payload(const char *file, const char *text)
{
  char path[512], line[16384];
  snprintf(path, sizeof path, "%s/%s", SMTP_TRANSCRIPT_DIR, file);
  FILE *f = fopen(path, "r");
  ck_assert_ptr_nonnull(f);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "C: ", 3))
      continue;
    char *p = line + 3, *end = strstr(p, "\\r\\n");
    if (!end)
      continue;
    *end = '\0';
    if (!strncmp(p, "AUTH ", 5)) {
      char *sp = strchr(p + 5, ' ');
      if (!sp)
        continue;
      /* The mechanism shows, only the credentials are redacted. */
      char want[64];
      snprintf(want, sizeof want, "AUTH %.*s [redacted]", (int)(sp - p - 5), p + 5);
      ck_assert_msg(strstr(text, want) != NULL, "%s: no \"%s\" in the trace", file, want);
      p = sp + 1;
    } else if (strlen(p) >= 8 && strncmp(p, "EHLO ", 5)) {
      ck_assert_msg(strstr(text, "[redacted]") != NULL, "%s: a response line shown", file);
    }
    if (strlen(p) < 8 || !strncmp(p, "EHLO ", 5))
      continue;
    ck_assert_msg(strstr(text, p) == NULL, "%s: client payload %.40s... in the trace", file, p);
  }
  fclose(f);
}

START_TEST(sasl_mechanism_and_no_secret_in_trace)
{
  static const char *const secrets[] = {"alice-pw-1", "YWxpY2UtcHctMQ", "wrong-pw", "long-pw-",
                                        "p\xC3\xA4ssw", TOKEN1, TOKEN2, "eWEyOS5", "Bearer"};
  /* Freed memory too: every block the library frees is scanned. */
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
    mail_test_alloc_forbid_str(&ta, secrets[k]);
  mail_test_alloc_forbid_str(&ta, "AGFsaWNlAGFsaWNlLXB3LTE"); /* PLAIN's message */
  run r;
  memset(&r, 0, sizeof r);
  r.alloc = mail_test_alloc_hooks(&ta);
  const scenario *sc = find(sasl_mechs[_i].file);
  ck_assert_int_eq(open_run(&r, sc->file), MAIL_OK);
  int rc = sc->fn(&r);
  ck_assert_msg(rc == sc->expect, "%s: %d (%s)", sc->file, rc, mail_strerror(rc));
  MAIL_TRANSCRIPT_ASSERT_DONE(r.t);
  const char *mech = mail_sasl_mechanism(mail_smtp_sasl(r.s));
  if (sasl_mechs[_i].mech) {
    ck_assert_str_eq(mech, sasl_mechs[_i].mech);
    ck_assert_ptr_nonnull(strstr(r.all, "AUTH ")); /* the trace did see the exchange */
  }
  const char *err = mail_conn_last_error(mail_smtp_conn(r.s));
  for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++) {
    ck_assert_msg(strstr(r.all, secrets[k]) == NULL, "%s: \"%s\" in the trace",
                  sasl_mechs[_i].file, secrets[k]);
    ck_assert_msg(!err || strstr(err, secrets[k]) == NULL, "%s: \"%s\" in the error",
                  sasl_mechs[_i].file, secrets[k]);
  }
  assert_no_client_payload(sasl_mechs[_i].file, r.all);
  close_run(&r);
  ck_assert_msg(ta.forbidden_hits == 0, "%s: %s", sasl_mechs[_i].file, ta.first_hit);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

START_TEST(sasl_oauth_error_and_one_refresh)
{
  static const char json[] =
    "{\"status\":\"invalid_token\",\"scope\":\"https://mail.test/\","
    "\"openid-configuration\":\"https://auth.test/.well-known/openid-configuration\"}";
  static const char *const files[] = {"sasl_xoauth2_refresh.txt", "sasl_oauthbearer_refresh.txt",
                                      "sasl_oauthbearer_refused_twice.txt"};
  for (size_t i = 0; i < 3; i++) {
    run r;
    play(&r, files[i], 0);
    ck_assert_int_eq(r.refreshes, 1);
    ck_assert_str_eq(r.oauth_status, "invalid_token");
    ck_assert_str_eq(r.oauth_json, json);
    if (i == 2) {
      ck_assert_int_eq(r.rc_first, MAIL_ERR_AUTH);
      ck_assert_int_eq(mail_smtp_reply_code(mail_smtp_last_reply(r.s)), 250);
    } else {
      ck_assert_int_eq(mail_sasl_outcome(mail_smtp_sasl(r.s)), MAIL_OK);
    }
    close_run(&r);
  }
  /* Without a refresh the token is used as set, and no callback runs. */
  run r;
  play(&r, "sasl_oauthbearer.txt", 0);
  ck_assert_int_eq(r.refreshes, 0);
  close_run(&r);
}
END_TEST

START_TEST(sasl_refusals)
{
  run r;
  /* A wrong server signature: "*" went out, the session is over. */
  play(&r, "sasl_scram_bad_signature.txt", 0);
  ck_assert_int_eq(mail_conn_is_open(mail_smtp_conn(r.s)), 0);
  ck_assert_str_eq(mail_smtp_state_name(r.s), "DISCONNECTED");
  ck_assert_int_eq(mail_smtp_noop(r.s), MAIL_ERR_STATE);
  close_run(&r);
  /* An authentication failure is final: no other mechanism is tried. */
  play(&r, "sasl_no_fallback.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_AUTH);
  ck_assert_ptr_null(strstr(r.sent, "AUTH PLAIN"));
  close_run(&r);
  /* Cleartext: nothing but EHLO and the later NOOP was written. */
  play(&r, "sasl_cleartext.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_INSECURE);
  ck_assert_ptr_null(strstr(r.sent, "AUTH"));
  ck_assert_uint_eq(mail_transcript_write_calls(r.t), 2);
  close_run(&r);
}
END_TEST

/* RFC 5321 4.5.3.2 through the event-loop surface: 5 minutes per command,
 * 10 after the final dot, or what mail_smtp_set_timeouts() says. */
static void check_timeouts(int command_ms, int final_ms, int64_t want_cmd, int64_t want_final)
{
  run r;
  memset(&r, 0, sizeof r);
  r.nonblocking = 1;
  ck_assert_int_eq(open_run(&r, "rcpt_452.txt"), MAIL_OK);
  if (command_ms || final_ms)
    ck_assert_int_eq(mail_smtp_set_timeouts(r.s, command_ms, final_ms), MAIL_OK);
  ck_assert_int_eq(connect_plain(&r), MAIL_OK);
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  ck_assert_int_eq(envelope(&r, rc2, BODY, strlen(BODY)), MAIL_OK);
  int rc, seen_cmd = 0, seen_final = 0;
  while ((rc = mail_smtp_send(r.s, r.e)) == MAIL_ERR_AGAIN) {
    int64_t t = mail_conn_timeout_ms(mail_smtp_conn(r.s));
    if (!strcmp(mail_smtp_state_name(r.s), "FINAL")) {
      ck_assert_int_eq(t, want_final);
      seen_final = 1;
    } else {
      ck_assert_int_eq(t, want_cmd);
      seen_cmd = 1;
    }
  }
  ck_assert_int_eq(rc, MAIL_ERR_PARTIAL);
  ck_assert(seen_cmd && seen_final);
  close_run(&r);
}

START_TEST(rfc5321_timeouts)
{
  check_timeouts(0, 0, 300000, 600000);
  check_timeouts(1000, 2000, 1000, 2000);
}
END_TEST

START_TEST(one_of_three_refused)
{
  run r;
  play(&r, "rcpt_550.txt", 0);
  check_rcpt(r.e, 0, MAIL_OK, 250, 2, 0, 0);
  check_rcpt(r.e, 1, MAIL_ERR_SERVER, 550, 5, 1, 1);
  check_rcpt(r.e, 2, MAIL_OK, 250, 2, 0, 0);
  ck_assert_str_eq(mail_smtp_envelope_recipient_text(r.e, 1),
                   "<nobody@libmail.test>: Recipient address rejected");
  ck_assert_str_eq(mail_smtp_envelope_recipient_address(r.e, 1), "nobody@libmail.test");
  close_run(&r);
}
END_TEST

START_TEST(temporary_on_one)
{
  run r;
  play(&r, "rcpt_452.txt", 0);
  check_rcpt(r.e, 0, MAIL_OK, 250, 2, 0, 0);
  check_rcpt(r.e, 1, MAIL_ERR_SERVER, 452, 4, 5, 3);
  close_run(&r);
}
END_TEST

START_TEST(data_refused_then_usable)
{
  run r;
  play(&r, "data_451.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_SERVER);
  check_rcpt(r.e, 0, MAIL_ERR_SERVER, 451, 4, 3, 0);
  close_run(&r);
}
END_TEST

START_TEST(closing_421)
{
  run r;
  play(&r, "close_421.txt", 0);
  const mail_smtp_reply *last = mail_smtp_last_reply(r.s);
  ck_assert_ptr_nonnull(last);
  ck_assert_int_eq(mail_smtp_reply_code(last), 421);
  ck_assert_str_eq(mail_smtp_reply_text(last, NULL), "Service shutting down");
  ck_assert_int_eq(mail_conn_is_open(mail_smtp_conn(r.s)), 0);
  ck_assert_int_eq(mail_smtp_noop(r.s), MAIL_ERR_STATE);
  close_run(&r);
}
END_TEST

START_TEST(starttls_failures_close)
{
  static const char *const files[] = {"starttls_not_offered.txt", "starttls_454.txt",
                                      "starttls_502.txt", "starttls_ehlo_unknown.txt",
                                      "starttls_injection.txt"};
  for (size_t i = 0; i < 5; i++) {
    run r;
    play(&r, files[i], 0);
    ck_assert_int_eq(mail_conn_is_open(mail_smtp_conn(r.s)), 0);
    ck_assert_ptr_null(strstr(r.sent, "AUTH"));
    ck_assert_ptr_null(strstr(r.sent, "MAIL"));
    ck_assert_int_eq(mail_smtp_auth(r.s), MAIL_ERR_STATE);
    close_run(&r);
  }
}
END_TEST

START_TEST(lmtp_per_recipient)
{
  run r;
  play(&r, "lmtp.txt", 0);
  check_rcpt(r.e, 0, MAIL_OK, 250, 2, 0, 0);
  check_rcpt(r.e, 1, MAIL_ERR_SERVER, 550, 5, 1, 1);
  check_rcpt(r.e, 2, MAIL_ERR_SERVER, 552, 5, 2, 2);
  close_run(&r);
}
END_TEST

START_TEST(lmtp_bdat_per_recipient)
{
  run r;
  play(&r, "lmtp_bdat.txt", 0);
  check_rcpt(r.e, 0, MAIL_ERR_SERVER, 450, 4, 2, 0);
  check_rcpt(r.e, 1, MAIL_OK, 250, 2, 0, 0);
  close_run(&r);
}
END_TEST

START_TEST(policy_all_keeps_accepted_unsent)
{
  run r;
  play(&r, "policy_all_refused.txt", 0);
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.e, 0), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_smtp_envelope_recipient_code(r.e, 0), 250);
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.e, 1), MAIL_ERR_SERVER);
  close_run(&r);
}
END_TEST

START_TEST(two_messages_last_reply)
{
  run r;
  play(&r, "two_messages.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_SERVER);
  ck_assert_int_eq(mail_smtp_reply_code(mail_smtp_last_reply(r.s)), 250);
  close_run(&r);
}
END_TEST

START_TEST(local_refusals)
{
  run r;
#if MAIL_WITH_IDNA
  play(&r, "idna_alabel.txt", 0);
  ck_assert_int_eq(r.rc_first, MAIL_ERR_NEEDS_SMTPUTF8);
  close_run(&r);
#endif
  play(&r, "cancel.txt", 0);
  ck_assert_int_eq(r.progress_calls, 1);
  ck_assert_int_eq(mail_conn_is_open(mail_smtp_conn(r.s)), 0);
  close_run(&r);
  play(&r, "strict_bare_lf.txt", 0);
  ck_assert_int_eq(mail_conn_is_open(mail_smtp_conn(r.s)), 0);
  close_run(&r);
}
END_TEST

START_TEST(capabilities_as_data)
{
  run r;
  play(&r, "dsn.txt", 0);
  const mail_smtp_caps *c = mail_smtp_capabilities(r.s);
  size_t i;
  ck_assert_int_eq(mail_smtp_caps_find(c, "size", &i), MAIL_OK);
  ck_assert_str_eq(mail_smtp_caps_param(c, i, 0), "100000");
  ck_assert_int_eq(mail_smtp_has_extension(r.s, "CHUNKING"), 1);
  ck_assert_int_eq(mail_smtp_has_extension(r.s, "STARTTLS"), 0);
  close_run(&r);
}
END_TEST

/* A multi-line EHLO reply split into two reads at every byte, and one
 * byte per read: the same capabilities every time. */
START_TEST(multiline_split_everywhere)
{
  static const char ehlo[] = "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n";
  size_t n = strlen(ehlo);
  for (size_t k = 0; k <= n; k++) {
    char text[4096], esc[1024];
    strcpy(text, "S: 220 mx.test\\r\\n\nC: EHLO client.test\\r\\n\n");
    if (k < n) {
      /* k == n means one byte per read */
      if (k > 0) {
        mail_transcript_escape(ehlo, k, esc, sizeof esc);
        strcat(text, "S: ");
        strcat(text, esc);
        strcat(text, "\n");
      }
      mail_transcript_escape(ehlo + k, n - k, esc, sizeof esc);
      strcat(text, "S: ");
      strcat(text, esc);
      strcat(text, "\n");
    } else {
      for (size_t j = 0; j < n; j++) {
        mail_transcript_escape(ehlo + j, 1, esc, sizeof esc);
        strcat(text, "S: ");
        strcat(text, esc);
        strcat(text, "\n");
      }
    }
    strcat(text, "C: NOOP\\r\\n\nS: 250-one\\r\\n\nS: 250 two\\r\\n\n");
    char err[256];
    mail_transcript *t = mail_transcript_from_string(text, err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    mail_smtp *s;
    ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
    ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
    ck_assert_int_eq(mail_transcript_attach(t, mail_smtp_conn(s)), MAIL_OK);
    ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
    const mail_smtp_caps *c = mail_smtp_capabilities(s);
    ck_assert_uint_eq(mail_smtp_caps_count(c), 3);
    ck_assert_int_eq(mail_smtp_has_extension(s, "8BITMIME"), 1);
    ck_assert_int_eq(mail_smtp_noop(s), MAIL_OK);
    ck_assert_uint_eq(mail_smtp_reply_line_count(mail_smtp_last_reply(s)), 2);
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
    mail_smtp_free(s);
    mail_transcript_free(t);
  }
}
END_TEST

/* Every scenario with allocation N failing, for every N until a run no
 * longer reaches the failure: a clean status, nothing leaked. */
START_TEST(allocation_failures)
{
  const scenario *sc = &scenarios[_i];
  for (unsigned long n = 1; n < 5000; n++) {
    mail_test_alloc ta;
    mail_test_alloc_init(&ta);
    mail_test_alloc_fail_at(&ta, n, 0);
    run r;
    memset(&r, 0, sizeof r);
    r.alloc = mail_test_alloc_hooks(&ta);
    int rc = open_run(&r, sc->file);
    if (!rc)
      rc = sc->fn(&r);
    close_run(&r);
    ck_assert_msg(ta.live == 0, "%s: fail at %lu: %zu allocations leaked", sc->file, n, ta.live);
    ck_assert_msg(rc != MAIL_ERR_INTERNAL, "%s: fail at %lu: internal error", sc->file, n);
    if (ta.failures == 0) {
      ck_assert_int_eq(rc, sc->expect);
      mail_test_alloc_cleanup(&ta);
      break;
    }
    mail_test_alloc_cleanup(&ta);
  }
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("smtp-transcripts");
  TCase *tc = tcase_create("scenarios");
  tcase_add_loop_test(tc, every_scenario, 0, NSCN);
  tcase_add_loop_test(tc, every_scenario_event_loop, 0, NSCN);
  tcase_add_test(tc, submit_redacts_credentials);
  tcase_add_test(tc, auth_failure_redacted_no_fallback);
  tcase_add_test(tc, one_of_three_refused);
  tcase_add_test(tc, rfc5321_timeouts);
  tcase_add_test(tc, temporary_on_one);
  tcase_add_test(tc, data_refused_then_usable);
  tcase_add_test(tc, closing_421);
  tcase_add_test(tc, starttls_failures_close);
  tcase_add_test(tc, lmtp_per_recipient);
  tcase_add_test(tc, policy_all_keeps_accepted_unsent);
  tcase_add_test(tc, lmtp_bdat_per_recipient);
  tcase_add_test(tc, two_messages_last_reply);
  tcase_add_test(tc, local_refusals);
  tcase_add_test(tc, capabilities_as_data);
  tcase_add_test(tc, multiline_split_everywhere);
  tcase_add_loop_test(tc, sasl_mechanism_and_no_secret_in_trace, 0, NSASL);
  tcase_add_test(tc, sasl_oauth_error_and_one_refresh);
  tcase_add_test(tc, sasl_refusals);
  suite_add_tcase(s, tc);
  TCase *nomem = tcase_create("nomem");
  tcase_set_timeout(nomem, 240);
  tcase_add_loop_test(nomem, allocation_failures, 0, NSCN);
  suite_add_tcase(s, nomem);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

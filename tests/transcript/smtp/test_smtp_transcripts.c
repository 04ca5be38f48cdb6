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
#include "each_alloc.h"
#include "core/conn_internal.h"
#include "config.h"
#include "device_crypto.h"
#include "sasl_scenarios.h"
#include "transcript.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

#ifndef SMTP_TRANSCRIPT_DIR
#error "SMTP_TRANSCRIPT_DIR must be defined"
#endif

#define BODY "Subject: hi\r\n\r\nHello\r\n"

typedef struct run {
  mail_smtp *s;
  mail_transcript *t;
  mail_smtp_envelope *e;
  const mail_allocator *alloc;
  int nonblocking; /* 1: event-loop mode, 2: feed mode */
  size_t agains;
  int rc_connect;
  int rc_first;     /* the first send's result in two-step scenarios */
  char sent[8192];  /* SEND trace, chunks separated by '|' */
  int progress_calls;
  char all[65536];  /* every trace line, both directions */
  const char *file; /* the transcript being played */
  sasl_observed obs; /* what a shared SASL scenario saw */
  char err[600];    /* the session's error after the first failing call */
  /* A batch scenario: its envelopes and what the callback saw. */
  mail_smtp_batch *b;
  mail_smtp_envelope *es[8];
  size_t nes;
  size_t cb_index[8];
  int cb_result[8];
  size_t ncb;
} run;

/* Call an operation, resuming it while it says MAIL_ERR_AGAIN (event-loop
 * mode: the transcript transport is always "ready" on the next call). */
#define DO(r, expr)                                      \
  ({                                                     \
    int rc_;                                             \
    size_t guard_ = 0;                                   \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && ++guard_ < 100000) { \
      (r)->agains++;                                     \
      mail_transcript_pump((r)->t);                      \
    }                                                    \
    mail_transcript_pump_flush((r)->t);                  \
    if (rc_ && !(r)->err[0])                             \
      snprintf((r)->err, sizeof (r)->err, "%s",          \
               mail_conn_last_error(mail_smtp_conn((r)->s))); \
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
  r->file = file;
  r->t = mail_transcript_from_file(path, err, sizeof err);
  if (!r->t) {
    fprintf(stderr, "%s\n", err);
    return MAIL_ERR_FILE;
  }
  int rc = mail_smtp_new(&r->s, r->alloc);
  if (!rc)
    rc = transcript_use_device_crypto(mail_smtp_sasl(r->s));
  if (rc)
    return rc;
  mail_conn *c = mail_smtp_conn(r->s);
  rc = r->nonblocking == 2 ? mail_transcript_attach_feed(r->t, c) : mail_transcript_attach(r->t, c);
  if (rc)
    return rc;
  mail_conn_set_trace(c, trace_fn, r);
  if (r->nonblocking == 1) {
    mail_conn_set_nonblocking(c, 1);
    mail_transcript_set_auto_again(r->t, 1);
  }
  return mail_smtp_set_client_name(r->s, "client.test");
}

static void close_run(run *r)
{
  mail_smtp_envelope_free(r->e);
  for (size_t i = 0; i < r->nes; i++)
    mail_smtp_envelope_free(r->es[i]);
  r->nes = 0;
  mail_smtp_batch_free(r->b);
  r->b = NULL;
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

static const char *const RCPT_BOB[] = {"bob@libmail.test", NULL};

static int send_bob(run *r)
{
  SCN_TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

/* ---------------------------------------------------------------- batches */

static int batch_cb(void *user, size_t index, mail_smtp_envelope *env, int result)
{
  run *r = user;
  if (r->ncb < 8) {
    r->cb_index[r->ncb] = index;
    r->cb_result[r->ncb] = result;
  }
  r->ncb++;
  return 0;
}

/* One message of a batch scenario: from, then its recipients. */
typedef struct batch_msg {
  const char *from;
  const char *rcpts[3];
} batch_msg;

/* A body larger than the transcripts' SIZE 100000. */
static char big_body[100001];

/* Build and send a batch of n messages of BODY (message big, if < n,
 * larger than the server's SIZE); QUIT after when quit. */
static int run_batch_big(run *r, const batch_msg *m, size_t n, int quit, size_t big)
{
  SCN_TRY(connect_plain(r));
  SCN_TRY(mail_smtp_batch_new(&r->b, r->alloc));
  SCN_TRY(mail_smtp_batch_set_callback(r->b, batch_cb, r));
  for (size_t i = 0; i < n; i++) {
    SCN_TRY(mail_smtp_envelope_new(&r->es[i], r->alloc));
    r->nes = i + 1;
    SCN_TRY(mail_smtp_envelope_set_from(r->es[i], m[i].from));
    for (size_t k = 0; k < 3 && m[i].rcpts[k]; k++)
      SCN_TRY(mail_smtp_envelope_add_recipient(r->es[i], m[i].rcpts[k], NULL));
    if (i == big) {
      memset(big_body, 'x', sizeof big_body);
      SCN_TRY(mail_smtp_envelope_set_body_data(r->es[i], big_body, sizeof big_body));
    } else {
      SCN_TRY(mail_smtp_envelope_set_body_data(r->es[i], BODY, strlen(BODY)));
    }
    size_t idx = 99;
    SCN_TRY(mail_smtp_batch_add(r->b, r->es[i], &idx));
    if (idx != i)
      return MAIL_ERR_INTERNAL;
  }
  int rc = DO(r, mail_smtp_send_batch(r->s, r->b));
  if (!quit)
    return rc;
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int run_batch(run *r, const batch_msg *m, size_t n, int quit)
{
  return run_batch_big(r, m, n, quit, (size_t)-1);
}

#define ALICE "alice@libmail.test"
#define BOB "bob@libmail.test"

static int scn_batch_mixed(run *r)
{
  static const batch_msg m[] = {
    {ALICE, {BOB}}, {ALICE, {BOB, "nobody@libmail.test"}}, {"mallory@libmail.test", {BOB}},
    {ALICE, {BOB}}, {ALICE, {"carol@libmail.test"}}};
  return run_batch(r, m, 5, 1);
}

static int scn_batch_421(run *r)
{
  static const batch_msg m[] = {{ALICE, {BOB}}, {ALICE, {BOB}}, {ALICE, {BOB}}, {ALICE, {BOB}}};
  return run_batch(r, m, 4, 0);
}

static int scn_batch_no_pipelining(run *r)
{
  static const batch_msg m[] = {
    {ALICE, {BOB}}, {"mallory@libmail.test", {BOB}}, {ALICE, {BOB, "nobody@libmail.test"}}};
  return run_batch(r, m, 3, 1);
}

static int scn_batch_local(run *r)
{
  static const batch_msg m[] = {{ALICE, {BOB}}, {ALICE, {BOB}}, {ALICE, {BOB}}};
  return run_batch_big(r, m, 3, 1, 1);
}

static int scn_batch_bdat(run *r)
{
  static const batch_msg m[] = {{ALICE, {BOB}}, {"mallory@libmail.test", {BOB}}, {ALICE, {BOB}}};
  SCN_TRY(mail_smtp_set_chunking(r->s, MAIL_SMTP_CHUNKING_PREFER));
  return run_batch(r, m, 3, 1);
}

/* ---------------------------------------------------------------- scenarios */

static int scn_submit(run *r)
{
  SCN_TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 587, MAIL_SECURITY_STARTTLS));
  SCN_TRY(r->rc_connect);
  SCN_TRY(DO(r, mail_smtp_auth(r->s)));
  SCN_TRY(send_bob(r));
  return DO(r, mail_smtp_quit(r->s));
}

static int scn_rcpt3(run *r)
{
  static const char *const rc3[] = {"bob@libmail.test", "nobody@libmail.test",
                                    "carol@libmail.test", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc3, BODY, strlen(BODY)));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_rcpt452(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_data451(run *r)
{
  SCN_TRY(connect_plain(r));
  int rc = send_bob(r);
  r->rc_first = rc;
  if (rc != MAIL_ERR_SERVER)
    return rc == MAIL_OK ? MAIL_ERR_INTERNAL : rc;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_send_only(run *r)
{
  SCN_TRY(connect_plain(r));
  return send_bob(r);
}

static int scn_connect_starttls(run *r)
{
  SCN_TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  return r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_STARTTLS));
}

static int scn_opportunistic(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25,
                                          MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE));
  SCN_TRY(r->rc_connect);
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_auth_cleartext(run *r)
{
  SCN_TRY(mail_smtp_set_auth(r->s, "alice", "alice-pw-1"));
  SCN_TRY(connect_plain(r));
  int rc = DO(r, mail_smtp_auth(r->s));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static const char DOT_BODY[] =
  ".first\r\nmid\n.\nsmuggled\r\n.\r\nMAIL FROM:<x@y>\r\nbare\rcr\n.\r\n..two\r\nlast";

static int scn_dots(run *r)
{
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, DOT_BODY, strlen(DOT_BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_strict(run *r)
{
  SCN_TRY(mail_smtp_set_strict(r->s, 1));
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, "a\nb", 3));
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
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, "", 0));
  SCN_TRY(mail_smtp_envelope_set_body_callback(r->e, src_read, &sr, sr.len, MAIL_SMTP_NEEDS_BINARY));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_lmtp(run *r)
{
  static const char *const rc3[] = {"bob@libmail.test", "ghost@libmail.test",
                                    "quota@libmail.test", NULL};
  SCN_TRY(mail_smtp_set_lmtp(r->s, 1));
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc3, BODY, strlen(BODY)));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_size(run *r)
{
  SCN_TRY(connect_plain(r));
  int rc = send_bob(r);
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

#if MAIL_WITH_IDNA
static int scn_idna(run *r)
{
  static const char *const utf8_local[] = {"j\xC3\xB6s\xC3\xA9@libmail.test", NULL};
  static const char *const utf8_domain[] = {"user@b\xC3\xBC" "cher.example", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, utf8_local, BODY, strlen(BODY)));
  r->rc_first = DO(r, mail_smtp_send(r->s, r->e));
  SCN_TRY(envelope(r, utf8_domain, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}
#endif

static int scn_smtputf8(run *r)
{
  static const char *const rc1[] = {"j\xC3\xB6s\xC3\xA9@b\xC3\xBC" "cher.example", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc1, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_dsn(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  SCN_TRY(mail_smtp_envelope_set_ret(r->e, MAIL_SMTP_RET_HDRS));
  SCN_TRY(mail_smtp_envelope_set_envid(r->e, "id+1=x"));
  SCN_TRY(mail_smtp_envelope_set_notify(r->e, 0, MAIL_SMTP_NOTIFY_SUCCESS | MAIL_SMTP_NOTIFY_FAILURE));
  SCN_TRY(mail_smtp_envelope_set_orcpt(r->e, 0, "bob+dsn@libmail.test"));
  SCN_TRY(mail_smtp_envelope_set_notify(r->e, 1, MAIL_SMTP_NOTIFY_NEVER));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_requiretls(run *r)
{
  r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 25, MAIL_SECURITY_STARTTLS));
  SCN_TRY(r->rc_connect);
  SCN_TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  SCN_TRY(mail_smtp_envelope_set_requiretls(r->e, 1));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_requiretls_refused(run *r)
{
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, BODY, strlen(BODY)));
  SCN_TRY(mail_smtp_envelope_set_requiretls(r->e, 1));
  int rc = DO(r, mail_smtp_send(r->s, r->e));
  int q = DO(r, mail_smtp_quit(r->s));
  return q ? q : rc;
}

static int scn_policy_all(run *r, const char *second)
{
  const char *rc2[] = {"bob@libmail.test", second, NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  SCN_TRY(mail_smtp_envelope_set_policy(r->e, MAIL_SMTP_POLICY_ALL));
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
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_two(run *r)
{
  SCN_TRY(connect_plain(r));
  r->rc_first = send_bob(r);
  return send_bob(r);
}

static int scn_no_rcpt(run *r)
{
  static const char *const rc1[] = {"nobody@libmail.test", NULL};
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc1, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_8bit(run *r)
{
  static const char body[] = "\r\nd\xC3\xA9j\xC3\xA0";
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, body, strlen(body)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_bdat_prefer(run *r)
{
  SCN_TRY(mail_smtp_set_chunking(r->s, MAIL_SMTP_CHUNKING_PREFER));
  SCN_TRY(connect_plain(r));
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
  SCN_TRY(connect_plain(r));
  return send_bob(r);
}

static int scn_quit_close(run *r)
{
  SCN_TRY(connect_plain(r));
  return DO(r, mail_smtp_quit(r->s));
}

static int scn_bad_reply(run *r)
{
  SCN_TRY(connect_plain(r));
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_auth_535(run *r)
{
  SCN_TRY(mail_smtp_set_auth(r->s, "alice", "wrong-pw"));
  mail_sasl_set_allow_insecure_plaintext(mail_smtp_sasl(r->s), 1);
  SCN_TRY(mail_sasl_set_mechanisms(mail_smtp_sasl(r->s), "LOGIN"));
  SCN_TRY(connect_plain(r));
  r->rc_first = DO(r, mail_smtp_auth(r->s));
  if (r->rc_first != MAIL_ERR_AUTH)
    return r->rc_first;
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_greeting(run *r)
{
  return connect_plain(r);
}

static int scn_mail_530(run *r)
{
  SCN_TRY(connect_plain(r));
  return send_bob(r);
}

static int scn_lmtp_bdat(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "carol@libmail.test", NULL};
  SCN_TRY(mail_smtp_set_lmtp(r->s, 1));
  SCN_TRY(mail_smtp_set_chunking(r->s, MAIL_SMTP_CHUNKING_PREFER));
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_lmtp_dsn(run *r)
{
  static const char *const rc2[] = {"bob@libmail.test", "c\xC3\xA9" "dric@libmail.test", NULL};
  SCN_TRY(mail_smtp_set_lmtp(r->s, 1));
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, rc2, BODY, strlen(BODY)));
  SCN_TRY(mail_smtp_envelope_set_ret(r->e, MAIL_SMTP_RET_FULL));
  SCN_TRY(mail_smtp_envelope_set_envid(r->e, "lmtp-1"));
  SCN_TRY(mail_smtp_envelope_set_notify(r->e, 0, MAIL_SMTP_NOTIFY_FAILURE | MAIL_SMTP_NOTIFY_DELAY));
  SCN_TRY(mail_smtp_envelope_set_orcpt(r->e, 0, "bob@libmail.test"));
  SCN_TRY(mail_smtp_envelope_set_notify(r->e, 1, MAIL_SMTP_NOTIFY_SUCCESS));
  return DO(r, mail_smtp_send(r->s, r->e));
}

static int scn_auth_mechs(run *r, const char *mechs, const char *pass)
{
  SCN_TRY(mail_smtp_set_auth(r->s, "alice", pass));
  mail_sasl_set_allow_insecure_plaintext(mail_smtp_sasl(r->s), 1);
  SCN_TRY(mail_sasl_set_mechanisms(mail_smtp_sasl(r->s), mechs));
  SCN_TRY(connect_plain(r));
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
  SCN_TRY(connect_plain(r));
  return DO(r, mail_smtp_noop(r->s));
}

static int scn_smtputf8_declared(run *r)
{
  static const char body[] = "Subject: h\xC3\xA9llo\r\n\r\nHello\r\n";
  SCN_TRY(connect_plain(r));
  SCN_TRY(envelope(r, RCPT_BOB, body, strlen(body)));
  SCN_TRY(mail_smtp_envelope_set_smtputf8(r->e, 1));
  return DO(r, mail_smtp_send(r->s, r->e));
}


/* ------------------------------------------------- SASL per mechanism */
/* The shared table (../sasl_scenarios.c) over this session. All but the
 * cleartext one run over implicit TLS (the transcript's TLS item), where
 * the runner offers fixed channel-binding data. */

static int d_set_auth(void *u, const char *user, const char *password)
{
  return mail_smtp_set_auth(((run *)u)->s, user, password);
}

static mail_sasl *d_sasl(void *u)
{
  return mail_smtp_sasl(((run *)u)->s);
}

static int d_connect(void *u, int tls)
{
  run *r = u;
  if (!tls)
    return connect_plain(r);
  return r->rc_connect = DO(r, mail_smtp_connect(r->s, "mx.test", 465, MAIL_SECURITY_IMPLICIT_TLS));
}

static int d_auth(void *u)
{
  run *r = u;
  return DO(r, mail_smtp_auth(r->s));
}

static int d_after_refusal(void *u)
{
  run *r = u;
  return DO(r, mail_smtp_noop(r->s));
}

static const sasl_driver smtp_sasl_driver = {
  d_set_auth, d_sasl, d_connect, d_auth, d_after_refusal, 1150, 465, "mx.test",
};

static int scn_sasl(run *r)
{
  int rc = sasl_scenario_run(sasl_scenario_find(r->file), &smtp_sasl_driver, r, &r->obs);
  r->rc_first = r->obs.rc_first;
  return rc;
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
  {"greeting_tls.txt", scn_greeting, MAIL_ERR_PROTOCOL},
  {"mail_530.txt", scn_mail_530, MAIL_ERR_SERVER},
  {"lmtp_bdat.txt", scn_lmtp_bdat, MAIL_ERR_PARTIAL},
  {"lmtp_dsn_smtputf8.txt", scn_lmtp_dsn, MAIL_OK},
  {"auth_504_fallback.txt", scn_auth_504, MAIL_OK},
  {"unsolicited_421.txt", scn_unsolicited, MAIL_ERR_SERVER_CLOSING},
  {"unsolicited_reply.txt", scn_unsolicited, MAIL_ERR_PROTOCOL},
  {"auth_bad_challenge.txt", scn_auth_bad_challenge, MAIL_OK},
  {"batch_mixed.txt", scn_batch_mixed, MAIL_ERR_PARTIAL},
  {"batch_421.txt", scn_batch_421, MAIL_ERR_SERVER_CLOSING},
  {"batch_no_pipelining.txt", scn_batch_no_pipelining, MAIL_ERR_PARTIAL},
  {"batch_bdat.txt", scn_batch_bdat, MAIL_ERR_PARTIAL},
  {"batch_local_refusal.txt", scn_batch_local, MAIL_ERR_PARTIAL},
};
/* This directory's scenarios, then the shared SASL ones. */
SCN_DRIVER_TABLE(scn_sasl)
#define NSCN scn_count()

/* Run a scenario; keeps the session open for inspection (close_run). */
static int play(run *r, const char *file, int nonblocking)
{
  memset(r, 0, sizeof *r);
  r->nonblocking = nonblocking;
  scenario sc = find(file);
  int rc = open_run(r, file);
  ck_assert_int_eq(rc, MAIL_OK);
  rc = sc.fn(r);
  ck_assert_msg(rc == sc.expect, "%s: got %d (%s), expected %d (%s); conn error: %s; %s", file,
                rc, mail_strerror(rc), sc.expect, mail_strerror(sc.expect),
                mail_conn_last_error(mail_smtp_conn(r->s)), mail_transcript_report(r->t));
  MAIL_TRANSCRIPT_ASSERT_DONE(r->t);
  return rc;
}

/* ---------------------------------------------------------------- tests */

START_TEST(every_scenario)
{
  run r;
  scenario sc = scenario_at(_i);
  char path[512], why[600];
  snprintf(path, sizeof path, "%s/%s", SMTP_TRANSCRIPT_DIR, sc.file);
  ck_assert_msg(mail_transcript_check_header(path, sc.expect, why, sizeof why) == 0, "%s", why);
  play(&r, sc.file, 0);
  close_run(&r);
}
END_TEST

START_TEST(every_scenario_event_loop)
{
  run r;
  play(&r, scenario_at(_i).file, 1);
  ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in event-loop mode", scenario_at(_i).file);
  close_run(&r);
}
END_TEST

/* Feed mode: no transport; the pump feeds the server's bytes and drains
 * and checks the client's. */
START_TEST(every_scenario_feed)
{
  run r;
  play(&r, scenario_at(_i).file, 2);
  ck_assert_msg(r.agains > 0, "%s: no MAIL_ERR_AGAIN in feed mode", scenario_at(_i).file);
  /* The transport was never used: every byte went through the pump. */
  ck_assert_uint_eq(mail_transcript_connect_calls(r.t), 0);
  ck_assert_int_eq(mail_conn_fd(mail_smtp_conn(r.s)), -1);
  close_run(&r);
}
END_TEST

/* Per-message results, kept apart and reported once each in order. */
START_TEST(batch_results_apart)
{
  run r;
  for (int nb = 0; nb < 2; nb++) {
    play(&r, "batch_mixed.txt", nb);
    static const int want[] = {MAIL_OK, MAIL_ERR_PARTIAL, MAIL_ERR_SERVER, MAIL_ERR_SERVER, MAIL_OK};
    static const int code[] = {0, 550, 550, 451, 0};
    ck_assert_uint_eq(r.ncb, 5);
    for (size_t i = 0; i < 5; i++) {
      ck_assert_int_eq(mail_smtp_batch_result(r.b, i), want[i]);
      ck_assert_int_eq(mail_smtp_batch_code(r.b, i), code[i]);
      ck_assert_uint_eq(r.cb_index[i], i);
      ck_assert_int_eq(r.cb_result[i], want[i]);
      ck_assert_int_eq(*mail_smtp_batch_error(r.b, i) != 0, want[i] != MAIL_OK);
    }
    ck_assert_int_eq(mail_smtp_batch_result(r.b, 5), MAIL_ERR_NOT_FOUND);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[0], 0), MAIL_OK);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[1], 0), MAIL_OK);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[1], 1), MAIL_ERR_SERVER);
    ck_assert_int_eq(mail_smtp_envelope_recipient_code(r.es[1], 1), 550);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[2], 0), MAIL_ERR_SERVER);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[3], 0), MAIL_ERR_SERVER);
    ck_assert_int_eq(mail_smtp_envelope_recipient_code(r.es[3], 0), 451);
    ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[4], 0), MAIL_OK);
    ck_assert_str_eq(mail_smtp_batch_error(r.b, 1),
                     "RCPT TO:<nobody@libmail.test>: 550 5.1.1 <nobody@libmail.test>: Recipient "
                     "address rejected");
    ck_assert_str_eq(mail_smtp_batch_error(r.b, 2),
                     "MAIL FROM:<mallory@libmail.test>: 550 5.7.1 <mallory@libmail.test>: Sender "
                     "address rejected");
    ck_assert_str_eq(mail_smtp_batch_error(r.b, 3),
                     "end of data: 451 4.3.0 Error: queue file write error");
    ck_assert_ptr_nonnull(strstr(r.err, "batch: 3 of 5 messages not delivered to every recipient"));
    close_run(&r);
  }
}
END_TEST

/* Each message's result, as read after and as the callback was told. */
static void expect_results(const run *r, const int *want, size_t n)
{
  ck_assert_uint_eq(r->ncb, n);
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(mail_smtp_batch_result(r->b, i), want[i]);
    ck_assert_uint_eq(r->cb_index[i], i); /* in batch order */
    ck_assert_int_eq(r->cb_result[i], want[i]);
  }
}

START_TEST(batch_421_rest_not_attempted)
{
  run r;
  play(&r, "batch_421.txt", 0);
  static const int want[] = {MAIL_OK, MAIL_ERR_SERVER_CLOSING, MAIL_ERR_NOT_ATTEMPTED,
                             MAIL_ERR_NOT_ATTEMPTED};
  expect_results(&r, want, 4);
  ck_assert_ptr_nonnull(strstr(mail_smtp_batch_error(r.b, 1), "421 4.3.2"));
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.es[2], 0), MAIL_ERR_NOT_ATTEMPTED);
  ck_assert_str_eq(mail_smtp_state_name(r.s), "DISCONNECTED");
  ck_assert_ptr_nonnull(strstr(mail_conn_last_error(mail_smtp_conn(r.s)), "421"));
  close_run(&r);
}
END_TEST

START_TEST(batch_bdat_and_no_pipelining)
{
  run r;
  play(&r, "batch_bdat.txt", 0);
  static const int bdat[] = {MAIL_OK, MAIL_ERR_SERVER, MAIL_OK};
  expect_results(&r, bdat, 3);
  close_run(&r);
  play(&r, "batch_local_refusal.txt", 0);
  static const int local[] = {MAIL_OK, MAIL_ERR_TOO_BIG, MAIL_OK};
  expect_results(&r, local, 3); /* in order, though 1 was known first */
  ck_assert_int_eq(mail_smtp_batch_code(r.b, 1), 0);
  ck_assert_ptr_nonnull(strstr(mail_smtp_batch_error(r.b, 1), "exceeds the server's SIZE 100000"));
  close_run(&r);
  play(&r, "batch_no_pipelining.txt", 0);
  static const int nopipe[] = {MAIL_OK, MAIL_ERR_SERVER, MAIL_ERR_PARTIAL};
  expect_results(&r, nopipe, 3);
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
START_TEST(sasl_mechanism_and_no_secret_in_trace)
{
  const sasl_scenario *ss = &sasl_scenarios[_i];
  /* Freed memory too: every block the library frees is scanned. */
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  sasl_forbid_secrets(&ta);
  run r;
  memset(&r, 0, sizeof r);
  r.alloc = mail_test_alloc_hooks(&ta);
  ck_assert_int_eq(open_run(&r, ss->file), MAIL_OK);
  int rc = scn_sasl(&r);
  ck_assert_msg(rc == ss->expect, "%s: %d (%s)", ss->file, rc, mail_strerror(rc));
  MAIL_TRANSCRIPT_ASSERT_DONE(r.t);
  char path[512];
  snprintf(path, sizeof path, "%s/%s", SMTP_TRANSCRIPT_DIR, ss->file);
  sasl_assert_clean(ss, mail_smtp_sasl(r.s), r.all, mail_conn_last_error(mail_smtp_conn(r.s)),
                    path);
  close_run(&r);
  ck_assert_msg(ta.forbidden_hits == 0, "%s: %s", ss->file, ta.first_hit);
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
    ck_assert_int_eq(r.obs.refreshes, 1);
    ck_assert_str_eq(r.obs.oauth_status, "invalid_token");
    ck_assert_str_eq(r.obs.oauth_json, json);
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
  ck_assert_int_eq(r.obs.refreshes, 0);
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

/* The one error string: what the first failing call of each transcript
 * leaves on the session, word for word. */
static const struct {
  const char *file;
  const char *err;
} error_texts[] = {
  {"greeting_554.txt", "greeting: 554 5.3.2 No service for you (the server refused the session)"},
  {"greeting_tls.txt", "no greeting: the server sent TLS handshake bytes \xE2\x80\x94 is this an "
                       "implicit-TLS port? use smtps://"},
  {"mail_530.txt", "MAIL FROM:<alice@libmail.test>: 530 5.7.0 Authentication required"},
  {"rcpt_550.txt", "RCPT TO:<nobody@libmail.test>: 550 5.1.1 <nobody@libmail.test>: Recipient "
                   "address rejected"},
  {"data_without_rcpt.txt", "RCPT TO:<nobody@libmail.test>: 550 5.1.1 no such user"},
  {"policy_all_refused.txt", "RCPT TO:<nobody@libmail.test>: 550 5.1.1 no such user (1 of 2 "
                             "recipients refused; policy ALL: nothing was sent)"},
  {"data_451.txt", "DATA: 451 4.3.0 Try again later"},
  {"lmtp.txt", "RCPT TO:<ghost@libmail.test>: 550 5.1.1 <ghost@libmail.test> User doesn't exist"},
  {"auth_login_535.txt", "AUTH LOGIN: 535 5.7.8 Authentication credentials invalid"},
  {"close_421.txt", "RCPT TO:<bob@libmail.test>: 421 4.3.2 Service shutting down (the server is "
                    "closing the session)"},
  {"starttls_454.txt", "STARTTLS: 454 4.7.0 TLS not available due to temporary reason "
                       "(STARTTLS is required)"},
  {"timeout_final.txt", "end of data: timed out waiting for the server"},
  {"size_too_big.txt", "send: the message (22 bytes) exceeds the server's SIZE 10"},
};

START_TEST(one_error_string)
{
  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++) {
    run r;
    play(&r, error_texts[i].file, 0);
    ck_assert_msg(!strcmp(r.err, error_texts[i].err), "%s: \"%s\"", error_texts[i].file, r.err);
    close_run(&r);
  }
}
END_TEST

/* A local refusal shows no older reply: the 250 of EHLO is gone. */
START_TEST(local_refusal_clears_last_reply)
{
  run r;
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(open_run(&r, "size_too_big.txt"), MAIL_OK);
  ck_assert_int_eq(connect_plain(&r), MAIL_OK);
  ck_assert_ptr_nonnull(mail_smtp_last_reply(r.s));
  ck_assert_str_eq(mail_smtp_last_reply_command(r.s), "EHLO");
  ck_assert_str_eq(mail_smtp_greeting(r.s), "mx.test ESMTP ready");
  ck_assert_int_eq(send_bob(&r), MAIL_ERR_TOO_BIG);
  ck_assert_ptr_null(mail_smtp_last_reply(r.s));
  ck_assert_ptr_null(mail_smtp_last_reply_command(r.s));
  ck_assert_int_eq(DO(&r, mail_smtp_quit(r.s)), MAIL_OK);
  ck_assert_str_eq(mail_conn_last_error(mail_smtp_conn(r.s)), ""); /* QUIT succeeded */
  close_run(&r);
  /* After a failed transaction the decisive reply and its command stay. */
  play(&r, "mail_530.txt", 0);
  ck_assert_int_eq(mail_smtp_reply_code(mail_smtp_last_reply(r.s)), 530);
  ck_assert_str_eq(mail_smtp_last_reply_command(r.s), "MAIL FROM:<alice@libmail.test>");
  close_run(&r);
}
END_TEST

#if MAIL_WITH_MIME
/* The quick start's message, built before any connection. */
static mail_mime_builder *quickstart_message(unsigned opts)
{
  static const char text[] = "Gr\xC3\xBC\xC3\x9F" "e aus der Schnellstart-Anleitung.\r\n";
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_options(m, opts), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Alice", "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "bob@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, "Gr\xC3\xBC\xC3\x9F" "e"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_date(m, 1700000000, 0), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_message_id(m, "qs-1@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, text, strlen(text)), MAIL_OK);
  return m;
}

/* Append data in the transcript notation (\r, \n, \\, \xHH). */
static void escape_into(char *out, size_t cap, const unsigned char *d, size_t n)
{
  size_t o = strlen(out);
  for (size_t i = 0; i < n && o + 5 < cap; i++) {
    if (d[i] == '\r')
      o += (size_t)snprintf(out + o, cap - o, "\\r");
    else if (d[i] == '\n')
      o += (size_t)snprintf(out + o, cap - o, "\\n");
    else if (d[i] == '\\')
      o += (size_t)snprintf(out + o, cap - o, "\\\\");
    else if (d[i] < 0x20 || d[i] >= 0x7f)
      o += (size_t)snprintf(out + o, cap - o, "\\x%02X", d[i]);
    else
      out[o++] = (char)d[i];
  }
  out[o] = '\0';
}

/* mail_smtp_send_mime() freezes a message built before connecting with
 * what the server's EHLO offers: the exact bytes of the same message built
 * with those options, and the matching MAIL FROM parameters. */
static void send_mime_against(const char *caps, unsigned expect_opts, const char *mail_params)
{
  mail_mime_builder *ref = quickstart_message(expect_opts);
  static unsigned char bytes[8192];
  size_t n = 0, got;
  do {
    ck_assert_int_eq(mail_mime_builder_read(ref, bytes + n, sizeof bytes - n, &got), MAIL_OK);
    n += got;
  } while (got);
  static char text[32768];
  snprintf(text, sizeof text,
           "S: 220 mx.test ESMTP ready\\r\\n\n"
           "C: EHLO client.test\\r\\n\n"
           "S: 250-mx.test\\r\\n%s250 HELP\\r\\n\n"
           "C: MAIL FROM:<alice@libmail.test>%s\\r\\n\n"
           "S: 250 2.1.0 Ok\\r\\n\n"
           "C: RCPT TO:<bob@libmail.test>\\r\\n\n"
           "S: 250 2.1.5 Ok\\r\\n\n"
           "C: DATA\\r\\n\n"
           "S: 354 go ahead\\r\\n\n"
           "C: ", caps, mail_params);
  escape_into(text, sizeof text, bytes, n);
  snprintf(text + strlen(text), sizeof text - strlen(text),
           ".\\r\\n\n"
           "S: 250 2.0.0 Ok: queued\\r\\n\n");
  char err[256];
  mail_transcript *t = mail_transcript_from_string(text, err, sizeof err);
  ck_assert_msg(t != NULL, "%s", err);
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_transcript_attach(t, mail_smtp_conn(s)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "client.test"), MAIL_OK);
  mail_mime_builder *m = quickstart_message(0); /* before connecting, no options */
  ck_assert_int_eq(mail_smtp_connect(s, "mx.test", 0, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  mail_smtp_envelope *e;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  int rc = mail_smtp_send_mime(s, e, m);
  ck_assert_msg(rc == MAIL_OK, "%s: %s; %s", mail_strerror(rc),
                mail_conn_last_error(mail_smtp_conn(s)), mail_transcript_report(t));
  ck_assert_uint_eq(mail_smtp_envelope_recipient_count(e), 1);
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(e, 0), MAIL_OK);
  ck_assert_uint_eq(mail_mime_builder_get_options(m), expect_opts);
  MAIL_TRANSCRIPT_ASSERT_DONE(t);
  mail_smtp_envelope_free(e);
  mail_mime_builder_free(m);
  mail_mime_builder_free(ref);
  mail_smtp_free(s);
  mail_transcript_free(t);
}

START_TEST(send_mime_picks_body_options)
{
  send_mime_against("250-8BITMIME\\r\\n250-SMTPUTF8\\r\\n",
                    MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_SMTPUTF8, " BODY=8BITMIME SMTPUTF8");
  send_mime_against("250-8BITMIME\\r\\n", MAIL_MIME_OPT_8BITMIME, " BODY=8BITMIME");
  send_mime_against("", 0, "");
}
END_TEST
#endif

START_TEST(policy_all_keeps_accepted_unsent)
{
  run r;
  play(&r, "policy_all_refused.txt", 0);
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(r.e, 0), MAIL_ERR_NOT_ATTEMPTED);
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
  ck_assert_int_eq(mail_smtp_has_capability(r.s, "CHUNKING"), 1);
  ck_assert_int_eq(mail_smtp_has_capability(r.s, "STARTTLS"), 0);
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
    ck_assert_int_eq(mail_smtp_has_capability(s, "8BITMIME"), 1);
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
static int run_allocating(void *user, mail_test_alloc *ta)
{
  const scenario *sc = user;
  run r;
  memset(&r, 0, sizeof r);
  r.alloc = mail_test_alloc_hooks(ta);
  int rc = open_run(&r, sc->file);
  if (!rc)
    rc = sc->fn(&r);
  close_run(&r);
  return rc;
}

START_TEST(allocation_failures)
{
  scenario sc = scenario_at(_i);
  MAIL_TEST_ASSERT_EACH_ALLOCATION(sc.file, run_allocating, &sc, sc.expect, MAIL_TEST_NOMEM_ANY);
}
END_TEST

/* The same in feed mode: the feed layer's buffers and the drain fail too. */
static int run_allocating_feed(void *user, mail_test_alloc *ta)
{
  const scenario *sc = user;
  run r;
  memset(&r, 0, sizeof r);
  r.alloc = mail_test_alloc_hooks(ta);
  r.nonblocking = 2;
  int rc = open_run(&r, sc->file);
  if (!rc)
    rc = sc->fn(&r);
  close_run(&r);
  return rc;
}

START_TEST(allocation_failures_feed)
{
  scenario sc = scenario_at(_i);
  MAIL_TEST_ASSERT_EACH_ALLOCATION(sc.file, run_allocating_feed, &sc, sc.expect,
                                   MAIL_TEST_NOMEM_ANY);
}
END_TEST

/* Every transcript file of the directory is some scenario's. */
START_TEST(every_file_has_a_scenario)
{
  char why[600];
  ck_assert_msg(mail_transcript_dir_check(SMTP_TRANSCRIPT_DIR, scn_played, NULL, why, sizeof why) > 0, "%s",
                why);
}
END_TEST

static Suite *suite(void)
{
  Suite *s = suite_create("smtp-transcripts");
  TCase *tc = tcase_create("scenarios");
  tcase_add_test(tc, every_file_has_a_scenario);
  tcase_add_loop_test(tc, every_scenario, 0, (int)NSCN);
  tcase_add_loop_test(tc, every_scenario_event_loop, 0, (int)NSCN);
  tcase_add_loop_test(tc, every_scenario_feed, 0, (int)NSCN);
  tcase_add_test(tc, submit_redacts_credentials);
  tcase_add_test(tc, batch_results_apart);
  tcase_add_test(tc, batch_421_rest_not_attempted);
  tcase_add_test(tc, batch_bdat_and_no_pipelining);
  tcase_add_test(tc, auth_failure_redacted_no_fallback);
  tcase_add_test(tc, one_of_three_refused);
  tcase_add_test(tc, rfc5321_timeouts);
  tcase_add_test(tc, temporary_on_one);
  tcase_add_test(tc, data_refused_then_usable);
  tcase_add_test(tc, closing_421);
  tcase_add_test(tc, starttls_failures_close);
  tcase_add_test(tc, lmtp_per_recipient);
  tcase_add_test(tc, policy_all_keeps_accepted_unsent);
  tcase_add_test(tc, one_error_string);
#if MAIL_WITH_MIME
  tcase_add_test(tc, send_mime_picks_body_options);
#endif
  tcase_add_test(tc, local_refusal_clears_last_reply);
  tcase_add_test(tc, lmtp_bdat_per_recipient);
  tcase_add_test(tc, two_messages_last_reply);
  tcase_add_test(tc, local_refusals);
  tcase_add_test(tc, capabilities_as_data);
  tcase_add_test(tc, multiline_split_everywhere);
  tcase_add_loop_test(tc, sasl_mechanism_and_no_secret_in_trace, 0, (int)n_sasl_scenarios);
  tcase_add_test(tc, sasl_oauth_error_and_one_refresh);
  tcase_add_test(tc, sasl_refusals);
  suite_add_tcase(s, tc);
  TCase *nomem = tcase_create("nomem");
  tcase_set_timeout(nomem, 240);
  tcase_add_loop_test(nomem, allocation_failures, 0, (int)NSCN);
  tcase_add_loop_test(nomem, allocation_failures_feed, 0, (int)NSCN);
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

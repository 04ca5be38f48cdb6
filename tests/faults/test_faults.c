/*
 * Faults at every byte (issue 21): scripted sessions of every protocol,
 * played from the transcripts of tests/transcript by the transcript
 * runner, with the server failing after each byte offset of what it sends:
 * closing (reads MAIL_ERR_CLOSED), resetting (reads and writes
 * MAIL_ERR_IO, a TLS handshake MAIL_ERR_TLS) or stalling (one read times
 * out, then the rest of its bytes arrive late); each with whole reads and
 * writes and again with 1-byte reads and 1-byte writes; and every session
 * once with 1-byte reads and writes and no fault.
 *
 * Each session is a list of steps (the library calls), each with the
 * server bytes that complete it (its final reply). For every run:
 * (SMTP also two messages on one connection and LMTP's reply per
 * recipient after the data.)
 * - never a false success: a step whose final reply had not arrived when
 *   the fault came ends with a fatal status (or MAIL_ERR_STATE after the
 *   session closed), never with its normal result; a step whose reply had
 *   arrived ends with its normal result;
 * - a streamed body ends (the END event) only complete, byte for byte;
 *   POP3 messages are delivered into a maildir (lib/store) the way mailcli
 *   pop3 fetch does, and neither tmp/ nor new/ ever holds a partial one;
 * - a late reply is never matched to the next command: after the fault a
 *   NOOP-like probe never succeeds;
 * - nothing leaks (the tracking allocator is at zero after the free) and
 *   the number of reads after the fault stays small (no busy loop).
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/maildir.h>
#include <mail/nntp.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "device_crypto.h"
#include "transcript.h"

#ifndef FAULTS_TRANSCRIPT_DIR
#error "FAULTS_TRANSCRIPT_DIR must be defined"
#endif

#define MAX_STEPS 8
#define MAX_BODIES 4

typedef struct frun frun;

typedef struct session {
  const char *file;           /* under tests/transcript */
  int (*open)(frun *r);       /* make the handle on r->ta, attach r->t */
  void (*play)(frun *r);      /* the steps, into r->rc[] */
  int (*probe)(frun *r);      /* a command after the steps */
  void (*close)(frun *r);
  size_t nsteps;
  int expect[MAX_STEPS];      /* each step's normal result */
  const char *done[MAX_STEPS]; /* the server bytes that complete it */
  const char *bodies[MAX_BODIES]; /* every complete streamed body */
  int maildir;                /* deliver bodies into a maildir */
  /* Steps that may give MAIL_OK whatever came: SMTP QUIT ("a closed
   * session gives MAIL_OK": closing loses nothing). POP3 QUIT is not one:
   * it commits the deletions. */
  unsigned ok_anyway;
} session;

struct frun {
  const session *s;
  mail_transcript *t;
  mail_test_alloc ta;
  mail_smtp *smtp;
  mail_smtp_envelope *env;
  mail_pop3 *pop3;
  mail_imap *imap;
  mail_nntp *nntp;
  int rc[MAX_STEPS];
  size_t nrc;
  /* the body being streamed */
  unsigned char body[4096];
  size_t body_len;
  int in_body;
  int ends;
  char bad_body[256]; /* "" or what was wrong with a body */
  mail_maildir *md;
  mail_maildir_delivery *dl;
  size_t src_pos;
};

static void step(frun *r, int rc)
{
  if (r->nrc < MAX_STEPS)
    r->rc[r->nrc++] = rc;
}

/* ------------------------------------------------------------ bodies */

static void body_event(frun *r, int begin, int end, const unsigned char *d, size_t n)
{
  if (begin) {
    if (r->in_body && !r->bad_body[0])
      snprintf(r->bad_body, sizeof r->bad_body, "BEGIN inside a body");
    r->in_body = 1;
    r->body_len = 0;
    if (r->md && mail_maildir_delivery_begin(&r->dl, r->md) != MAIL_OK)
      snprintf(r->bad_body, sizeof r->bad_body, "maildir delivery_begin failed");
    return;
  }
  if (!r->in_body) {
    if (!r->bad_body[0])
      snprintf(r->bad_body, sizeof r->bad_body, "DATA or END outside a body");
    return;
  }
  if (!end) {
    if (r->body_len + n <= sizeof r->body)
      memcpy(r->body + r->body_len, d, n);
    r->body_len += n;
    if (r->dl && mail_maildir_delivery_write(r->dl, d, n) != MAIL_OK)
      snprintf(r->bad_body, sizeof r->bad_body, "maildir delivery_write failed");
    return;
  }
  r->in_body = 0;
  r->ends++;
  int found = 0;
  for (size_t i = 0; i < MAX_BODIES && r->s->bodies[i]; i++)
    if (strlen(r->s->bodies[i]) == r->body_len && !memcmp(r->s->bodies[i], r->body, r->body_len))
      found = 1;
  if (!found && !r->bad_body[0]) {
    char esc[200];
    mail_transcript_escape(r->body, r->body_len < sizeof r->body ? r->body_len : sizeof r->body,
                           esc, sizeof esc);
    snprintf(r->bad_body, sizeof r->bad_body, "END of an incomplete body \"%s\"", esc);
  }
  if (r->dl) {
    if (mail_maildir_delivery_commit(NULL, 0, r->dl, NULL, 0) != MAIL_OK)
      snprintf(r->bad_body, sizeof r->bad_body, "maildir commit failed");
    r->dl = NULL;
  }
}

static int on_pop3_body(void *user, uint32_t msg, int ev, const unsigned char *d, size_t n)
{
  (void)msg;
  body_event(user, ev == MAIL_POP3_BODY_BEGIN, ev == MAIL_POP3_BODY_END, d, n);
  return 0;
}

static int on_nntp_body(void *user, uint64_t num, int ev, const unsigned char *d, size_t n)
{
  (void)num;
  body_event(user, ev == MAIL_NNTP_BODY_BEGIN, ev == MAIL_NNTP_BODY_END, d, n);
  return 0;
}

static int on_imap_body(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                        const unsigned char *d, size_t n)
{
  (void)sec;
  body_event(user, ev == MAIL_IMAP_BODY_BEGIN, ev == MAIL_IMAP_BODY_END, d, n);
  return 0;
}

/* A source handing out 5 bytes a call (APPEND, POST, BDAT). */
static const char *src_data;
static size_t src_len;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  frun *r = user;
  size_t n = src_len - r->src_pos;
  if (n > cap)
    n = cap;
  if (n > 5)
    n = 5;
  memcpy(buf, src_data + r->src_pos, n);
  r->src_pos += n;
  *got = n;
  return 0;
}

/* ------------------------------------------------------------ SMTP */

static int smtp_open(frun *r)
{
  int rc = mail_smtp_new(&r->smtp, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = transcript_use_device_crypto(mail_smtp_sasl(r->smtp));
  if (!rc)
    rc = mail_transcript_attach(r->t, mail_smtp_conn(r->smtp));
  if (!rc)
    rc = mail_smtp_set_client_name(r->smtp, "client.test");
  return rc;
}

static void smtp_close(frun *r)
{
  mail_smtp_envelope_free(r->env);
  mail_smtp_free(r->smtp);
  r->env = NULL;
  r->smtp = NULL;
}

static int smtp_probe(frun *r)
{
  return mail_smtp_noop(r->smtp);
}

static int smtp_envelope(frun *r, const char *body)
{
  int rc = mail_smtp_envelope_new(&r->env, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = mail_smtp_envelope_set_from(r->env, "alice@libmail.test");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(r->env, "bob@libmail.test", NULL);
  if (!rc && body)
    rc = mail_smtp_envelope_set_body_data(r->env, body, strlen(body));
  return rc;
}

static const char DOT_BODY[] =
  ".first\r\nmid\n.\nsmuggled\r\n.\r\nMAIL FROM:<x@y>\r\nbare\rcr\n.\r\n..two\r\nlast";

/* DATA: the message is sent only with the reply after the final dot. */
static void smtp_data(frun *r)
{
  step(r, mail_smtp_connect(r->smtp, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE));
  int rc = smtp_envelope(r, DOT_BODY);
  step(r, rc ? rc : mail_smtp_send(r->smtp, r->env));
}

#define SMALL_BODY "Subject: hi\r\n\r\nHello\r\n"

/* Two messages: the first refused at MAIL (then RSET), the second sent. */
static void smtp_two(frun *r)
{
  step(r, mail_smtp_connect(r->smtp, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE));
  for (int i = 0; i < 2; i++) {
    mail_smtp_envelope_free(r->env);
    r->env = NULL;
    int rc = smtp_envelope(r, SMALL_BODY);
    step(r, rc ? rc : mail_smtp_send(r->smtp, r->env));
  }
}

/* LMTP: one reply per accepted recipient after the data. */
static void smtp_lmtp(frun *r)
{
  int rc = mail_smtp_set_lmtp(r->smtp, 1);
  step(r, rc ? rc : mail_smtp_connect(r->smtp, "lmtp.test", 24, MAIL_SECURITY_NONE_INSECURE));
  rc = mail_smtp_envelope_new(&r->env, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = mail_smtp_envelope_set_from(r->env, "alice@libmail.test");
  static const char *const to[] = {"bob@libmail.test", "ghost@libmail.test", "quota@libmail.test"};
  for (size_t i = 0; i < 3 && !rc; i++)
    rc = mail_smtp_envelope_add_recipient(r->env, to[i], NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_data(r->env, SMALL_BODY, strlen(SMALL_BODY));
  step(r, rc ? rc : mail_smtp_send(r->smtp, r->env));
  step(r, mail_smtp_quit(r->smtp));
}

static const unsigned char BIN[] = "a\nb\0\r\n.\r\n\xFF\r";

/* BDAT LAST: sent only with its reply. */
static void smtp_bdat(frun *r)
{
  step(r, mail_smtp_connect(r->smtp, "mx.test", 25, MAIL_SECURITY_NONE_INSECURE));
  int rc = smtp_envelope(r, "");
  src_data = (const char *)BIN;
  src_len = sizeof BIN - 1;
  r->src_pos = 0;
  if (!rc)
    rc = mail_smtp_envelope_set_body_callback(r->env, src_read, r, src_len,
                                              MAIL_SMTP_NEEDS_BINARY);
  step(r, rc ? rc : mail_smtp_send(r->smtp, r->env));
}

/* ------------------------------------------------------------ POP3 */

static int pop3_open(frun *r)
{
  int rc = mail_pop3_new(&r->pop3, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = transcript_use_device_crypto(mail_pop3_sasl(r->pop3));
  if (!rc)
    rc = mail_transcript_attach(r->t, mail_pop3_conn(r->pop3));
  if (!rc)
    rc = mail_pop3_set_auth(r->pop3, "alice", "pw");
  return rc;
}

static void pop3_close(frun *r)
{
  mail_pop3_free(r->pop3);
  r->pop3 = NULL;
}

static int pop3_probe(frun *r)
{
  return mail_pop3_noop(r->pop3);
}

static void pop3_login(frun *r)
{
  step(r, mail_pop3_connect(r->pop3, "pop.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  step(r, mail_pop3_auth(r->pop3));
}

/* RETR of three (one refused), pipelined: multi-line bodies. */
static void pop3_retr(frun *r)
{
  static const uint32_t msgs[] = {1, 2, 3};
  static const uint32_t del[] = {1, 3};
  pop3_login(r);
  step(r, mail_pop3_retr_many(r->pop3, msgs, 3, on_pop3_body, r));
  step(r, mail_pop3_dele_many(r->pop3, del, 2));
  step(r, mail_pop3_uidl_many(r->pop3, del, 2));
  step(r, mail_pop3_quit(r->pop3, NULL));
}

/* Leave mail on the server, into a maildir. */
static void pop3_leave(frun *r)
{
  mail_pop3_uidset *known = NULL, *seen = NULL;
  int64_t now = MAIL_TEST_CLOCK_REALTIME_MS / 1000;
  size_t nnew = 0;
  pop3_login(r);
  int rc = mail_pop3_uidset_new(&known, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = mail_pop3_uidset_new(&seen, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = mail_pop3_uidset_add(known, "old-1", now - 40 * 86400);
  if (!rc)
    rc = mail_pop3_uidset_add(known, "old-2", now - 86400);
  step(r, rc ? rc : mail_pop3_leave_on_server(r->pop3, known, 30, on_pop3_body, r, seen, &nnew));
  step(r, mail_pop3_quit(r->pop3, NULL));
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
}

/* ------------------------------------------------------------ IMAP */

static int imap_open(frun *r)
{
  int rc = mail_imap_new(&r->imap, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = transcript_use_device_crypto(mail_imap_sasl(r->imap));
  if (!rc)
    rc = mail_transcript_attach(r->t, mail_imap_conn(r->imap));
  if (!rc)
    rc = mail_imap_set_auth(r->imap, "alice", "pw");
  return rc;
}

static void imap_close(frun *r)
{
  mail_imap_free(r->imap);
  r->imap = NULL;
}

static int imap_probe(frun *r)
{
  return mail_imap_noop(r->imap);
}

/* UID FETCH of bodies in literals, two commands in flight. */
static void imap_fetch(frun *r)
{
  step(r, mail_imap_connect(r->imap, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  step(r, mail_imap_select(r->imap, "INBOX", 0));
  mail_imap_seqset *set = NULL;
  int rc = mail_imap_seqset_new(&set, mail_test_alloc_hooks(&r->ta));
  for (uint32_t i = 1; i <= 37 && !rc; i += 2)
    rc = mail_imap_seqset_add(set, &i, 1);
  if (!rc)
    rc = mail_imap_seqset_add_range(set, 39, 100);
  if (!rc)
    rc = mail_imap_set_max_set_length(r->imap, 32);
  step(r, rc ? rc : mail_imap_fetch(r->imap, set, 1, "(UID BODY.PEEK[])", on_imap_body, r));
  mail_imap_seqset_free(set);
}

#define IMAP_MSG "Subject: hi\r\n\r\nhello\r\n"

/* APPEND with a synchronizing literal: stored only with the tagged OK. */
static void imap_append(frun *r)
{
  static const char *const flags[] = {"\\Seen", "$Label"};
  step(r, mail_imap_connect(r->imap, "imap.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  src_data = IMAP_MSG;
  src_len = sizeof IMAP_MSG - 1;
  r->src_pos = 0;
  step(r, mail_imap_append(r->imap, "INBOX", flags, 2, 1700000000, src_len, src_read, r));
}

/* ------------------------------------------------------------ NNTP */

static int nntp_open(frun *r)
{
  int rc = mail_nntp_new(&r->nntp, mail_test_alloc_hooks(&r->ta));
  if (!rc)
    rc = transcript_use_device_crypto(mail_nntp_sasl(r->nntp));
  if (!rc)
    rc = mail_transcript_attach(r->t, mail_nntp_conn(r->nntp));
  return rc;
}

static void nntp_close(frun *r)
{
  mail_nntp_free(r->nntp);
  r->nntp = NULL;
}

static int nntp_probe(frun *r)
{
  int64_t secs;
  return mail_nntp_date(r->nntp, &secs);
}

/* ARTICLE of three pipelined (one gone), then BODY of two gone. */
static void nntp_articles(frun *r)
{
  static const uint64_t nums[] = {1, 2, 3}, gone[] = {7, 8};
  step(r, mail_nntp_connect(r->nntp, "news.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  step(r, mail_nntp_group(r->nntp, "misc.test", NULL, NULL, NULL));
  step(r, mail_nntp_article_many(r->nntp, MAIL_NNTP_ARTICLE, nums, 3, on_nntp_body, r));
  step(r, mail_nntp_article_many(r->nntp, MAIL_NNTP_BODY, gone, 2, on_nntp_body, r));
}

static const char ARTICLE[] = "From: alice@news.test\nNewsgroups: misc.test\nSubject: hi\n\n"
                              ".leading dot\n..\nlast line without end";

/* POST: refused (480), accepted (240), refused after the data (441). */
static void nntp_post(frun *r)
{
  step(r, mail_nntp_connect(r->nntp, "news.test", 0, MAIL_SECURITY_IMPLICIT_TLS));
  for (int i = 0; i < 4; i++) {
    src_data = ARTICLE;
    src_len = sizeof ARTICLE - 1;
    r->src_pos = 0;
    step(r, mail_nntp_post(r->nntp, src_read, r));
  }
}

/* ------------------------------------------------------------ table */

static const session sessions[] = {
  {"smtp/dot_stuffing.txt", smtp_open, smtp_data, smtp_probe, smtp_close, 2,
   {MAIL_OK, MAIL_OK}, {"250 CHUNKING\r\n", "250 2.0.0 Ok\r\n"}, {NULL}, 0, 0},
  {"smtp/bdat_binary.txt", smtp_open, smtp_bdat, smtp_probe, smtp_close, 2,
   {MAIL_OK, MAIL_OK}, {"250 CHUNKING\r\n", "250 2.0.0 Ok: 11 octets\r\n"}, {NULL}, 0, 0},
  {"smtp/two_messages.txt", smtp_open, smtp_two, smtp_probe, smtp_close, 3,
   {MAIL_OK, MAIL_ERR_SERVER, MAIL_OK},
   {"250 CHUNKING\r\n", "250 2.0.0 Ok\r\n", "250 2.0.0 Ok\r\n"}, {NULL}, 0, 0},
  {"smtp/lmtp.txt", smtp_open, smtp_lmtp, smtp_probe, smtp_close, 3,
   {MAIL_OK, MAIL_ERR_PARTIAL, MAIL_OK},
   {"250 PIPELINING\r\n", "Quota exceeded\r\n", "221 Bye\r\n"}, {NULL}, 0, 1u << 2},
  {"pop3/pipelined.txt", pop3_open, pop3_retr, pop3_probe, pop3_close, 6,
   {MAIL_OK, MAIL_OK, MAIL_ERR_PARTIAL, MAIL_OK, MAIL_OK, MAIL_OK},
   {"+OK\r\nPIPELINING\r\nUIDL\r\nUSER\r\n.\r\n", "+OK\r\nPIPELINING\r\nUIDL\r\nUSER\r\n.\r\n",
    "..dot\r\n.\r\n", "+OK deleted\r\n+OK deleted\r\n", "+OK 3 QhdPYR:00WBw1Ph7x7\r\n",
    "+OK bye\r\n"},
   {"abc\r\n", ".dot\r\n"}, 1, 0},
  {"pop3/leave_on_server.txt", pop3_open, pop3_leave, pop3_probe, pop3_close, 4,
   {MAIL_OK, MAIL_OK, MAIL_OK, MAIL_OK},
   {"+OK\r\nPIPELINING\r\nUIDL\r\nUSER\r\n.\r\n", "+OK\r\nPIPELINING\r\nUIDL\r\nUSER\r\n.\r\n",
    "four\r\n.\r\n+OK\r\n", "+OK\r\n"},
   {"three\r\n", "four\r\n"}, 1, 0},
  {"imap/fetch_pipelined.txt", imap_open, imap_fetch, imap_probe, imap_close, 3,
   {MAIL_OK, MAIL_OK, MAIL_OK}, {"hi\r\n", "A1 OK [READ-WRITE] done\r\n", "A2 OK done\r\n"},
   {"A2 OK forged\r\nhi\r\n", "abc"}, 0, 0},
  {"imap/append_sync.txt", imap_open, imap_append, imap_probe, imap_close, 2,
   {MAIL_OK, MAIL_OK}, {"hi\r\n", "Append completed.\r\n"}, {NULL}, 0, 0},
  {"nntp/article_many.txt", nntp_open, nntp_articles, nntp_probe, nntp_close, 4,
   {MAIL_OK, MAIL_OK, MAIL_ERR_PARTIAL, MAIL_ERR_NOT_FOUND},
   {"DISTRIB.PATS\r\n.\r\n", "211 3 1 3 misc.test\r\n", "body 3\r\n.\r\n",
    "423 No such article\r\n423 No such article\r\n"},
   {"Subject: one\r\n\r\nbody 1\r\n", "Subject: three\r\n\r\nbody 3\r\n"}, 0, 0},
  {"nntp/post.txt", nntp_open, nntp_post, nntp_probe, nntp_close, 5,
   {MAIL_OK, MAIL_ERR_AUTH, MAIL_OK, MAIL_ERR_SERVER, MAIL_ERR_SERVER},
   {"DISTRIB.PATS\r\n.\r\n", "480 Posting not allowed\r\n", "240 Article received <11env52$cig$1@vm.localdomain>\r\n",
    "441 435 Duplicate\r\n", "440 Posting not permitted\r\n"},
   {NULL}, 0, 0},
};
#define NSESSIONS (sizeof sessions / sizeof sessions[0])

/* ------------------------------------------------------------ runner */

static char md_root[256];

static void md_clean(const char *sub)
{
  char dir[512];
  snprintf(dir, sizeof dir, "%s/%s", md_root, sub);
  DIR *d = opendir(dir);
  ck_assert_ptr_nonnull(d);
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') {
      char p[1024];
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
  closedir(d);
}

/* What the maildir holds after a run: tmp/ empty, every file in new/ one
 * complete body. "" or the problem. */
static void md_check(const session *s, char *why, size_t cap)
{
  char dir[512];
  why[0] = '\0';
  snprintf(dir, sizeof dir, "%s/tmp", md_root);
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.' && !why[0])
      snprintf(why, cap, "a file left in tmp/: %.100s", e->d_name);
  if (d)
    closedir(d);
  snprintf(dir, sizeof dir, "%s/new", md_root);
  d = opendir(dir);
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.' || why[0])
      continue;
    char p[1024], buf[4096];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
      fclose(f);
    int found = 0;
    for (size_t i = 0; i < MAX_BODIES && s->bodies[i]; i++)
      if (strlen(s->bodies[i]) == n && !memcmp(s->bodies[i], buf, n))
        found = 1;
    if (!found)
      snprintf(why, cap, "a partial message in new/ (%zu bytes)", n);
  }
  if (d)
    closedir(d);
}

/* Offsets just past each step's final reply in the server's bytes. */
static void step_ends(const session *s, mail_transcript *t, size_t *ends)
{
  const unsigned char *b = mail_transcript_server_bytes(t);
  size_t n = mail_transcript_server_len(t), from = 0;
  for (size_t i = 0; i < s->nsteps; i++) {
    size_t m = strlen(s->done[i]), at = n + 1;
    for (size_t k = from; k + m <= n; k++)
      if (!memcmp(b + k, s->done[i], m)) {
        at = k + m;
        break;
      }
    ck_assert_msg(at <= n, "%s: step %zu's reply \"%s\" not in the transcript", s->file, i,
                  s->done[i]);
    ends[i] = at;
    from = at;
  }
}

static const char *fault_name(int kind)
{
  return kind == MAIL_TRANSCRIPT_FAULT_CLOSE ? "close"
         : kind == MAIL_TRANSCRIPT_FAULT_RESET ? "reset"
         : kind == MAIL_TRANSCRIPT_FAULT_STALL ? "stall"
                                               : "none";
}

/* One run: fault kind at offset at (kind NONE: no fault), with io bounds
 * bytewise (1-byte reads and writes) or not. */
static void run_one(const session *s, mail_transcript *t, const size_t *ends, int kind, size_t at,
                    int bytewise)
{
  frun r;
  memset(&r, 0, sizeof r);
  r.s = s;
  r.t = t;
  mail_transcript_rewind(t);
  mail_transcript_set_fault(t, kind, at);
  mail_transcript_set_io_bounds(t, bytewise, bytewise);
  mail_test_alloc_init(&r.ta);
  if (s->maildir) {
    md_clean("new");
    md_clean("tmp");
    ck_assert_int_eq(mail_maildir_open(&r.md, md_root, MAIL_MAILDIR_KEEP_CRLF, NULL), MAIL_OK);
  }
  char what[400];
  snprintf(what, sizeof what, "%s, %s at byte %zu%s", s->file, fault_name(kind), at,
           bytewise ? ", 1-byte reads and writes" : "");
  ck_assert_msg(s->open(&r) == MAIL_OK, "%s: setting up failed", what);
  s->play(&r);
  ck_assert_uint_eq(r.nrc, s->nsteps);
  size_t reads_at_fault = mail_transcript_read_calls(t);
  int hit = mail_transcript_fault_hit(t);
  if (!hit) {
    ck_assert_msg(kind == MAIL_TRANSCRIPT_FAULT_NONE || at >= ends[s->nsteps - 1],
                  "%s: the fault was never reached", what);
    MAIL_TRANSCRIPT_ASSERT_DONE(t);
  }
  for (size_t i = 0; i < s->nsteps; i++) {
    int rc = r.rc[i];
    ck_assert_msg(rc != MAIL_ERR_INTERNAL && rc != MAIL_ERR_AGAIN, "%s: step %zu gave %s", what,
                  i, mail_test_status_name(rc));
    if (kind == MAIL_TRANSCRIPT_FAULT_NONE || at >= ends[i]) {
      ck_assert_msg(rc == s->expect[i], "%s: step %zu gave %s, want %s (its reply had arrived)",
                    what, i, mail_test_status_name(rc), mail_test_status_name(s->expect[i]));
    } else if (!(rc == MAIL_OK && (s->ok_anyway & (1u << i)))) {
      ck_assert_msg(mail_status_is_fatal(rc) || rc == MAIL_ERR_STATE,
                    "%s: step %zu gave %s before its reply arrived (want a fatal status)", what,
                    i, mail_test_status_name(rc));
    }
  }
  ck_assert_msg(!r.bad_body[0], "%s: %s", what, r.bad_body);
  if (hit) {
    /* The late reply (STALL) or nothing (CLOSE, RESET): never a success. */
    int prc = s->probe(&r);
    ck_assert_msg(prc != MAIL_OK, "%s: a command after the fault succeeded", what);
    ck_assert_msg(mail_transcript_read_calls(t) - reads_at_fault < 100,
                  "%s: %zu reads after the fault", what,
                  mail_transcript_read_calls(t) - reads_at_fault);
  }
  /* What mailcli pop3 fetch does when a run ends early: drop the partial
   * message (the store removes its tmp/ file). */
  if (r.dl)
    mail_maildir_delivery_abort(r.dl);
  r.dl = NULL;
  s->close(&r);
  ck_assert_msg(r.ta.live == 0 && r.ta.live_bytes == 0, "%s: %zu allocation(s) leaked", what,
                r.ta.live);
  if (s->maildir) {
    char why[256];
    md_check(s, why, sizeof why);
    ck_assert_msg(!why[0], "%s: %s", what, why);
    mail_maildir_free(r.md);
  }
  mail_test_alloc_cleanup(&r.ta);
}

static mail_transcript *load(const session *s)
{
  char path[512], err[256];
  snprintf(path, sizeof path, "%s/%s", FAULTS_TRANSCRIPT_DIR, s->file);
  mail_transcript *t = mail_transcript_from_file(path, err, sizeof err);
  ck_assert_msg(t != NULL, "%s: %s", s->file, err);
  return t;
}

/* The session plays whole with 1-byte reads and writes, no fault. */
START_TEST(bytewise_io)
{
  const session *s = &sessions[_i];
  mail_transcript *t = load(s);
  size_t ends[MAX_STEPS];
  step_ends(s, t, ends);
  run_one(s, t, ends, MAIL_TRANSCRIPT_FAULT_NONE, 0, 0);
  run_one(s, t, ends, MAIL_TRANSCRIPT_FAULT_NONE, 0, 1);
  mail_transcript_free(t);
}
END_TEST

/* Close, reset and stall after every byte the server sends. */
START_TEST(fault_at_every_byte)
{
  const session *s = &sessions[_i];
  mail_transcript *t = load(s);
  size_t ends[MAX_STEPS];
  step_ends(s, t, ends);
  size_t n = mail_transcript_server_len(t);
  unsigned long runs = 0;
  for (int kind = MAIL_TRANSCRIPT_FAULT_CLOSE; kind <= MAIL_TRANSCRIPT_FAULT_STALL; kind++)
    for (int bytewise = 0; bytewise < 2; bytewise++)
      for (size_t at = 0; at < n; at++) {
        run_one(s, t, ends, kind, at, bytewise);
        runs++;
      }
  printf("%-28s %4zu server bytes: %lu faulted runs, all clean\n", s->file, n, runs);
  mail_transcript_free(t);
}
END_TEST

static void md_setup(void)
{
  const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(md_root, sizeof md_root, "%s/libmail-faults-XXXXXX", base);
  ck_assert_ptr_nonnull(mkdtemp(md_root));
  mail_maildir *md = NULL;
  ck_assert_int_eq(mail_maildir_open(&md, md_root, MAIL_MAILDIR_CREATE, NULL), MAIL_OK);
  mail_maildir_free(md);
}

static void md_teardown(void)
{
  static const char *const subs[] = {"new", "cur", "tmp"};
  for (size_t i = 0; i < 3; i++) {
    char p[512];
    md_clean(subs[i]);
    snprintf(p, sizeof p, "%s/%s", md_root, subs[i]);
    rmdir(p);
  }
  char p[512];
  snprintf(p, sizeof p, "%s/libmail-map", md_root);
  unlink(p);
  rmdir(md_root);
}

int main(void)
{
  Suite *su = suite_create("faults");
  TCase *tc = tcase_create("faults");
  tcase_add_unchecked_fixture(tc, md_setup, md_teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, bytewise_io, 0, (int)NSESSIONS);
  tcase_add_loop_test(tc, fault_at_every_byte, 0, (int)NSESSIONS);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

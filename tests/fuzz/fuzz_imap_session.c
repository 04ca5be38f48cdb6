/*
 * A whole IMAP session against a server that says the fuzzer's bytes
 * (fuzz_session.h): connect (STARTTLS required, implicit TLS,
 * opportunistic or none, with a fake start_tls), the greeting, CAPABILITY,
 * login (AUTO, AUTHENTICATE, LOGIN; a password with CR LF, so LOGIN sends
 * literals that wait for "+"), ENABLE UTF8=ACCEPT, ID, LIST, STATUS,
 * SELECT, FETCH with bodies, STORE, COPY/MOVE over a set cut by a small
 * line bound, SEARCH with a UTF-8 string (the [BADCHARSET] fallback) and
 * within a set, APPEND (its "+"), IDLE (stopped before it, from the
 * callback, or by mail_imap_idle_done()), NOOP, UID EXPUNGE, CLOSE,
 * LOGOUT.
 *
 * Byte 0: bits 0-1 the security mode, bits 2-3 the login method, bit 4
 * tiny limits, bit 5 an allocation failure (at call byte 1 * 2 + 1), bit 6
 * a 128-byte line bound (sets cut into many commands), bit 7 non-blocking
 * (the same call again after MAIL_ERR_AGAIN). Byte 1: chunk sizes and
 * choices (bit 1 plaintext LOGIN allowed, bit 2 ENABLE UTF8=ACCEPT, bit 3
 * the IDLE stopped before it starts). The rest is what the server says.
 *
 * Checked: every call ends with a documented status (no hang: the bytes
 * end in "closed"), body events come in order (BEGIN, DATA, END) with no
 * more DATA than announced, nothing leaks, and no freed block holds the
 * password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/imap.h>

#include "alloc.h"
#include "core/base64.h"

#include "fuzz_session.h"

#define USER "alice"
#define PASSWORD_BASE "Zq8#kL2\r\npw"

typedef struct body_state {
  int open;
  uint64_t total;
} body_state;

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *d, size_t n)
{
  body_state *b = user;
  (void)s;
  switch (ev) {
  case MAIL_IMAP_BODY_BEGIN:
    FZ_ASSERT(!b->open);
    b->open = 1;
    break;
  case MAIL_IMAP_BODY_DATA:
    FZ_ASSERT(b->open && (d || !n));
    b->total += n;
    break;
  case MAIL_IMAP_BODY_END:
    FZ_ASSERT(b->open);
    b->open = 0;
    break;
  default:
    FZ_ASSERT(0);
  }
  return 0;
}

typedef struct cb_state {
  mail_imap *im;
  int idle_stop_on_exists;
  size_t seen;
} cb_state;

static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  cb_state *c = user;
  (void)trusted;
  c->seen++;
  size_t n;
  (void)mail_imap_response_text(r, &n);
  (void)mail_imap_response_code(r);
  if (c->idle_stop_on_exists && mail_imap_response_type(r) == MAIL_IMAP_TYPE_EXISTS)
    mail_imap_idle_stop(c->im);
  return 0;
}

static const char msg[] = "Subject: hi\r\n\r\nhello\r\n";

typedef struct src {
  size_t at;
} src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  src *s = user;
  size_t n = sizeof msg - 1 - s->at;
  if (n > cap)
    n = cap;
  memcpy(buf, msg + s->at, n);
  s->at += n;
  *got = n;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  unsigned sel = data[0], seed = data[1];
  fz_server srv = {data + 2, size - 2, 0, 0, seed, (sel & 0x80) != 0, 0, 1, 0, 0, 0};
  int nb = srv.nonblocking;

  mail_test_alloc ta;
  fz_secrets sec;
  const mail_allocator *A =
    fz_session_alloc(&ta, &sec, data, size, USER, PASSWORD_BASE, (sel & 0x20) != 0, seed);

  mail_imap *im = NULL;
  mail_imap_seqset *set = NULL;
  int rc = mail_imap_new(&im, A);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM);
    goto done;
  }
  mail_conn *conn = mail_imap_conn(im);
  FZ_ASSERT(mail_conn_set_transport(conn, &fz_server_ops, &srv) == MAIL_OK);
  mail_conn_set_nonblocking(conn, nb);
  if (sel & 0x10)
    fz_tiny_limits(conn);
  if (sel & 0x40)
    FZ_ASSERT(mail_imap_set_max_line_length(im, 128) == MAIL_OK);
  cb_state cb = {im, 1, 0};
  mail_imap_set_untagged_callback(im, on_untagged, &cb);
  rc = mail_imap_set_auth(im, USER, sec.password);
  FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_NOMEM); /* the allocation failure may come here */
  mail_imap_set_auth_method(im, (int)((sel >> 2) & 3) % 3);
  mail_sasl_set_scram_iterations(mail_imap_sasl(im), 1, 64);
  mail_sasl_set_allow_insecure_plaintext(mail_imap_sasl(im), (seed & 2) != 0);

  FZ_CALL(&srv, rc, mail_imap_connect(im, "imap.test", 0, (int)(sel & 3)));
  (void)mail_imap_greeting(im);
  (void)mail_imap_has_capability(im, "IDLE");
  (void)mail_imap_max_line_length(im);
  FZ_CALL(&srv, rc, mail_imap_capability(im));
  FZ_CALL(&srv, rc, mail_imap_login(im));
  (void)mail_imap_state_name(im);
  if (seed & 4) {
    static const char *const ext[] = {"UTF8=ACCEPT"};
    FZ_CALL(&srv, rc, mail_imap_enable(im, ext, 1));
  }
  static const char *const idf[] = {"name"};
  static const char *const idv[] = {"libmail\r\n"};
  FZ_CALL(&srv, rc, mail_imap_id(im, idf, idv, 1));
  FZ_CALL(&srv, rc, mail_imap_list(im, "", "*", MAIL_IMAP_LIST_SPECIAL_USE));
  FZ_CALL(&srv, rc, mail_imap_status(im, "INBOX", MAIL_IMAP_STATUS_MESSAGES));
  FZ_CALL(&srv, rc, mail_imap_select(im, "IN\r\nBOX", 0));
  uint64_t v;
  (void)mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS);
  (void)mail_imap_mailbox_flag(im, MAIL_IMAP_FLAGS_PERMANENT, 0);
  (void)mail_imap_mailbox_read_only(im);

  if (mail_imap_seqset_new(&set, A) == MAIL_OK) {
    int ok = 1;
    for (uint32_t u = 1; u <= 120 && ok; u += 1 + (u > 3))
      ok = mail_imap_seqset_add(set, &u, 1) == MAIL_OK;
    if (ok)
      ok = mail_imap_seqset_add_range(set, 500, UINT32_MAX) == MAIL_OK;
    if (ok) {
      body_state b = {0, 0};
      FZ_CALL(&srv, rc, mail_imap_fetch(im, set, 1, "(UID FLAGS BODY.PEEK[])", on_body, &b));
      static const char *const flags[] = {"\\Seen"};
      FZ_CALL(&srv, rc, mail_imap_store(im, set, 1, MAIL_IMAP_STORE_ADD, flags, 1, 0, 7));
      FZ_CALL(&srv, rc, mail_imap_copy(im, set, 1, "Ar\nchive", (seed & 8) != 0));
      (void)mail_imap_last_code_data(im);
      FZ_CALL(&srv, rc, mail_imap_search_within(im, 1, NULL, set, "UNSEEN", NULL, 0));
      FZ_CALL(&srv, rc, mail_imap_uid_expunge(im, set));
    }
  }
  static const char *const sargs[] = {"caf\xc3\xa9", "a\r\nb"};
  FZ_CALL(&srv, rc, mail_imap_search(im, 0, (seed & 16) ? "MIN COUNT" : NULL,
                                     "SUBJECT ? TEXT ?", sargs, 2));
  (void)mail_imap_last_code_data(im);
  src s = {0};
  FZ_CALL(&srv, rc, mail_imap_append(im, "Sent", NULL, 0, 1700000000, sizeof msg - 1, src_read, &s));
  uint32_t uv, uid;
  (void)mail_imap_append_uid(&uv, &uid, im);

  cb.idle_stop_on_exists = (seed & 32) != 0;
  if (seed & 8)
    mail_imap_idle_stop(im); /* ends the IDLE right after its "+" */
  {
    int rounds = 0;
    do {
      rc = mail_imap_idle_start(im);
      if (rc == MAIL_ERR_AGAIN && (seed & 64) && ++rounds == 3)
        rc = mail_imap_idle_done(im);
    } while (rc == MAIL_ERR_AGAIN && nb && ++rounds < 100000);
    fz_check_rc(rc, 0);
  }
  (void)mail_conn_wake_fd(conn);
  FZ_CALL(&srv, rc, mail_imap_noop(im));
  FZ_CALL(&srv, rc, mail_imap_expunge(im));
  FZ_CALL(&srv, rc, mail_imap_close(im));
  (void)mail_imap_last_status(im);
  (void)mail_imap_last_text(im);
  FZ_CALL(&srv, rc, mail_imap_logout(im));
  mail_imap_seqset_free(set);
  mail_imap_free(im);
done:
  fz_session_alloc_end(&ta);
  return 0;
}

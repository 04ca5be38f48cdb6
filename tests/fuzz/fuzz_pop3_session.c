/*
 * A whole POP3 session against a server that says the fuzzer's bytes
 * (fuzz_session.h): connect (STLS required, implicit TLS, opportunistic
 * or none, with a fake start_tls), CAPA, login (AUTO, SASL, USER/PASS,
 * APOP), STAT, LIST, UIDL, RETR, TOP, DELE, the leave-on-server cycle,
 * NOOP, RSET and QUIT.
 *
 * Byte 0: bits 0-1 the security mode, bits 2-3 the login method, bit 4 a
 * pipeline window of 1, bit 5 tiny limits, bit 6 an allocation failure (at
 * call byte 1 * 2 + 1), bit 7 non-blocking (the same call again after
 * MAIL_ERR_AGAIN). Byte 1: chunk sizes. The rest is what the server says.
 *
 * Checked: every call ends with a documented status (no hang: the bytes
 * end in "closed"), body events come in order, nothing leaks, and no
 * freed block holds the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/pop3.h>

#include "alloc.h"
#include "core/base64.h"

#include "fuzz_session.h"

#define USER "alice"
#define PASSWORD_BASE "Zq8#kL2-pw"

typedef struct body_state {
  int open;
  size_t total;
} body_state;

static int on_body(void *user, uint32_t msg, int event, const unsigned char *d, size_t n)
{
  body_state *b = user;
  (void)msg;
  switch (event) {
  case MAIL_POP3_BODY_BEGIN:
    FZ_ASSERT(!b->open && d == NULL);
    b->open = 1;
    break;
  case MAIL_POP3_BODY_DATA:
    FZ_ASSERT(b->open && (d || !n));
    b->total += n;
    break;
  case MAIL_POP3_BODY_END:
    FZ_ASSERT(b->open);
    b->open = 0;
    break;
  default:
    FZ_ASSERT(0);
  }
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
    fz_session_alloc(&ta, &sec, data, size, USER, PASSWORD_BASE, (sel & 0x40) != 0, seed);

  mail_pop3 *p = NULL;
  mail_pop3_uidset *known = NULL, *seen = NULL;
  int rc = mail_pop3_new(&p, A);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM);
    goto done;
  }
  mail_conn *conn = mail_pop3_conn(p);
  FZ_ASSERT(mail_conn_set_transport(conn, &fz_server_ops, &srv) == MAIL_OK);
  mail_conn_set_nonblocking(conn, nb);
  if (sel & 0x20)
    fz_tiny_limits(conn);
  mail_pop3_set_auth(p, USER, sec.password);
  mail_pop3_set_auth_method(p, (int)((sel >> 2) & 3));
  mail_sasl_set_scram_iterations(mail_pop3_sasl(p), 1, 64);
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), (seed & 2) != 0);
  if (sel & 0x10)
    mail_pop3_set_pipeline_window(p, 1);

  FZ_CALL(&srv, rc, mail_pop3_connect(p, "pop.test", 110, (int)(sel & 3)));
  (void)mail_pop3_greeting(p);
  (void)mail_pop3_caps_known(p);
  (void)mail_pop3_has_capability(p, "UIDL");
  FZ_CALL(&srv, rc, mail_pop3_auth(p));
  (void)mail_pop3_state_name(p);

  uint32_t count;
  uint64_t sz;
  FZ_CALL(&srv, rc, mail_pop3_stat(p, &count, &sz));
  FZ_CALL(&srv, rc, mail_pop3_list(p));
  for (size_t i = 0; i < mail_pop3_list_count(p); i++) {
    uint32_t m;
    FZ_ASSERT(mail_pop3_list_at(p, i, &m, &sz) == MAIL_OK);
  }
  FZ_CALL(&srv, rc, mail_pop3_list_one(p, 2, &sz));
  FZ_CALL(&srv, rc, mail_pop3_uidl(p));
  for (size_t i = 0; i < mail_pop3_uidl_count(p); i++) {
    uint32_t m;
    const char *uid;
    FZ_ASSERT(mail_pop3_uidl_at(p, i, &m, &uid) == MAIL_OK && uid);
  }
  char uid[71];
  FZ_CALL(&srv, rc, mail_pop3_uidl_one(p, 1, uid, sizeof uid));
  body_state b = {0, 0};
  FZ_CALL(&srv, rc, mail_pop3_retr(p, 1, on_body, &b));
  b.open = 0;
  uint32_t msgs[] = {1, 2, 3};
  FZ_CALL(&srv, rc, mail_pop3_retr_many(p, msgs, 3, on_body, &b));
  for (size_t i = 0; i < 3; i++) {
    int st = mail_pop3_batch_status(p, i);
    FZ_ASSERT(st <= 0 && st > MAIL_ERR_INTERNAL);
  }
  b.open = 0;
  FZ_CALL(&srv, rc, mail_pop3_top(p, 1, 3, on_body, &b));
  b.open = 0;
  FZ_CALL(&srv, rc, mail_pop3_dele(p, 1));
  FZ_CALL(&srv, rc, mail_pop3_dele_many(p, msgs + 1, 2));
  FZ_CALL(&srv, rc, mail_pop3_noop(p));
  FZ_CALL(&srv, rc, mail_pop3_rset(p));
  if (mail_pop3_uidset_new(&known, A) == MAIL_OK && mail_pop3_uidset_new(&seen, A) == MAIL_OK) {
    mail_pop3_uidset_add(known, "uid-2", 0);
    size_t new_count = 0;
    FZ_CALL(&srv, rc, mail_pop3_leave_on_server(p, known, 1, on_body, &b, seen, &new_count));
    b.open = 0;
  }
  uint32_t days;
  int never, per_user;
  (void)mail_pop3_login_delay(p, &days);
  (void)mail_pop3_expire(p, &days, &never, &per_user);
  (void)mail_pop3_implementation(p);
  (void)mail_pop3_last_reply(p);
  int committed = 0;
  FZ_CALL(&srv, rc, mail_pop3_quit(p, &committed));
  (void)mail_pop3_deleted_count(p);
  mail_pop3_uidset_free(known);
  mail_pop3_uidset_free(seen);
  mail_pop3_free(p);
done:
  fz_session_alloc_end(&ta);
  return 0;
}

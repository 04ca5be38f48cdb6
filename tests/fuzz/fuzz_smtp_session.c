/*
 * A whole SMTP/LMTP session against a server that says the fuzzer's bytes
 * (fuzz_session.h): connect (STARTTLS required, implicit TLS,
 * opportunistic or none, with a fake start_tls), EHLO/LHLO, AUTH, one or
 * two transactions, NOOP, RSET, QUIT.
 *
 * Byte 0: bits 0-1 the security mode, bit 2 LMTP, bit 3 no pipelining,
 * bit 4 prefer CHUNKING, bit 5 strict data, bit 6 an allocation failure
 * (at call byte 1), bit 7 non-blocking (the same call again after
 * MAIL_ERR_AGAIN). Byte 1: chunk sizes. Byte 2: the transaction: bit 0
 * DSN, bit 1 an 8-bit body, bit 2 a UTF-8 recipient, bit 3 policy ALL,
 * bit 4 send twice, bit 5 REQUIRETLS, bit 6 a binary callback body,
 * bit 7 a MIME builder body. The rest is what the server says.
 *
 * Checked: every call ends with a documented status (no hang: the bytes
 * end in "closed"), nothing leaks, and no freed block holds the password
 * or its base64 forms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime_build.h>
#include <mail/smtp.h>

#include "alloc.h"
#include "core/base64.h"

#include "fuzz_session.h"

#define USER "alice"
#define PASSWORD_BASE "Zq8#kL2-pw"

typedef struct body_src {
  const char *data;
  size_t len, at;
} body_src;

static int read_body(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  body_src *b = user;
  size_t n = b->len - b->at;
  if (n > cap)
    n = cap;
  if (n > 5)
    n = 5; /* small pieces: the stream must be rebuilt across reads */
  memcpy(buf, b->data + b->at, n);
  b->at += n;
  *got = n;
  return 0;
}

static int progress(void *user, uint64_t sent, uint64_t total)
{
  (void)user;
  FZ_ASSERT(total == 0 || sent <= total);
  return 0;
}

static void look(const mail_smtp *s)
{
  (void)mail_smtp_state_name(s);
  FZ_ASSERT(mail_smtp_capabilities(s) != NULL);
  (void)mail_smtp_has_capability(s, "PIPELINING");
  const mail_smtp_reply *r = mail_smtp_last_reply(s);
  if (r) {
    size_t len;
    const char *t = mail_smtp_reply_text(r, &len);
    FZ_ASSERT(!t || t[len] == 0); /* NULL: the joined text could not be allocated */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 3)
    return 0;
  unsigned sel = data[0], seed = data[1], tx = data[2];
  fz_server srv = {data + 3, size - 3, 0, 0, seed, (sel & 0x80) != 0, 0, 1, 0, 0, 0};

  mail_test_alloc ta;
  fz_secrets sec;
  const mail_allocator *A =
    fz_session_alloc(&ta, &sec, data, size, USER, PASSWORD_BASE, (sel & 0x40) != 0, seed);

  mail_smtp *s = NULL;
  mail_smtp_envelope *e = NULL;
  mail_mime_builder *mb = NULL;
  int rc = mail_smtp_new(&s, A);
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM);
    goto done;
  }
  mail_conn *conn = mail_smtp_conn(s);
  FZ_ASSERT(mail_conn_set_transport(conn, &fz_server_ops, &srv) == MAIL_OK);
  mail_conn_set_nonblocking(conn, srv.nonblocking);
  mail_limits lim;
  mail_limits_default(&lim);
  if (seed & 1) {
    lim.max_line = 200;
    lim.max_response = 1000;
    lim.max_items = 8;
  }
  mail_conn_set_limits(conn, &lim);
  mail_smtp_set_auth(s, USER, sec.password);
  mail_sasl *sasl = mail_smtp_sasl(s);
  mail_sasl_set_scram_iterations(sasl, 1, 64);
  mail_sasl_set_allow_insecure_plaintext(sasl, (seed & 2) != 0);
  mail_smtp_set_client_name(s, "client.test");
  mail_smtp_set_lmtp(s, (sel & 4) != 0);
  mail_smtp_set_pipelining(s, !(sel & 8));
  mail_smtp_set_chunking(s, (sel & 16) ? MAIL_SMTP_CHUNKING_PREFER : MAIL_SMTP_CHUNKING_WHEN_NEEDED);
  mail_smtp_set_strict(s, (sel & 32) != 0);
  mail_smtp_set_progress(s, progress, NULL);

  FZ_CALL(&srv, rc, mail_smtp_connect(s, "mx.test", 25, (int)(sel & 3)));
  look(s);
  FZ_CALL(&srv, rc, mail_smtp_auth(s));
  look(s);

  rc = mail_smtp_envelope_new(&e, A);
  if (rc != MAIL_OK)
    goto quit;
  mail_smtp_envelope_set_from(e, "alice@libmail.test");
  size_t idx = 0;
  mail_smtp_envelope_add_recipient(e, "bob@libmail.test", &idx);
  mail_smtp_envelope_add_recipient(e, (tx & 4) ? "d\xc3\xb6rte@libmail.test" : "carol@libmail.test",
                                   NULL);
  if (tx & 1) {
    mail_smtp_envelope_set_notify(e, idx, MAIL_SMTP_NOTIFY_FAILURE | MAIL_SMTP_NOTIFY_DELAY);
    mail_smtp_envelope_set_orcpt(e, idx, "bob+x@libmail.test");
    mail_smtp_envelope_set_ret(e, MAIL_SMTP_RET_HDRS);
    mail_smtp_envelope_set_envid(e, "ENV=1+x");
  }
  mail_smtp_envelope_set_policy(e, (tx & 8) ? MAIL_SMTP_POLICY_ALL : MAIL_SMTP_POLICY_ANY);
  mail_smtp_envelope_set_requiretls(e, (tx & 32) != 0);
  static const char text7[] = "Subject: hi\r\n\r\nHello\r\n.dot\r\nbare\nlf\r\n.\r\nend";
  static const char text8[] = "Subject: hi\r\n\r\nGr\xc3\xbc\xc3\x9f" "e\r\n";
  static const char bin[] = "Content-Type: application/octet-stream\r\n\r\n\0\1\2\r.\r\n";
  body_src src = {bin, sizeof bin - 1, 0};
  if (tx & 0x80) {
    if (mail_mime_builder_new(&mb, A) == MAIL_OK) {
      mail_mime_builder_set_from(mb, "Alice", "alice@libmail.test");
      mail_mime_builder_add_to(mb, NULL, "bob@libmail.test");
      mail_mime_builder_set_subject(mb, "Gr\xc3\xbc\xc3\x9f" "e");
      mail_mime_builder_set_date(mb, 1795000000, 60);
      mail_mime_builder_set_message_id(mb, "fuzz@libmail.test");
      mail_mime_builder_set_text(mb, "Hello\r\n.\r\n", 10);
      mail_smtp_envelope_set_body_mime(e, mb);
    }
  } else if (tx & 0x40) {
    mail_smtp_envelope_set_body_callback(e, read_body, &src,
                                         (tx & 1) ? MAIL_SMTP_SIZE_UNKNOWN : src.len,
                                         MAIL_SMTP_NEEDS_BINARY);
  } else if (tx & 2) {
    mail_smtp_envelope_set_body_data(e, text8, sizeof text8 - 1);
  } else {
    mail_smtp_envelope_set_body_data(e, text7, sizeof text7 - 1);
  }
  for (int round = 0; round < ((tx & 16) ? 2 : 1); round++) {
    src.at = 0;
    FZ_CALL(&srv, rc, mail_smtp_send(s, e));
    look(s);
    for (size_t i = 0; i < mail_smtp_envelope_recipient_count(e); i++) {
      int st = mail_smtp_envelope_recipient_status(e, i);
      FZ_ASSERT(st == MAIL_OK || st == MAIL_ERR_SERVER || st == MAIL_ERR_NOT_ATTEMPTED);
      (void)mail_smtp_envelope_recipient_code(e, i);
      (void)mail_smtp_envelope_recipient_enhanced(e, i, NULL, NULL, NULL);
      FZ_ASSERT(mail_smtp_envelope_recipient_text(e, i) != NULL);
    }
  }
  FZ_CALL(&srv, rc, mail_smtp_noop(s));
  FZ_CALL(&srv, rc, mail_smtp_rset(s));
quit:
  FZ_CALL(&srv, rc, mail_smtp_quit(s));
  look(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  mail_mime_builder_free(mb);
done:
  fz_session_alloc_end(&ta);
  return 0;
}

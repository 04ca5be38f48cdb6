/*
 * The SASL engine driven by a fuzzer-chosen server, through either API.
 *
 * Byte 0 (settings): bit 0 protected link, bit 1 channel binding, bit 2
 * authzid, bit 3 token callback, bit 4 public API (mail_sasl_start/step/
 * success/failure) instead of the protocol API (mail_sasl_begin/reply),
 * bit 5 EXTERNAL allowed, bit 6 allocation failure at call byte 1, bit 7
 * a profile without initial responses.
 * Byte 2..3: which mechanisms the server offers (a bit per mechanism);
 * byte 2 also picks the one the public API starts.
 * Then records [op][len][payload...]: for the protocol API op & 7 is the
 * reply kind and op & 8 says "base64-encode the payload" (else it is
 * passed as the base64 text itself); for the public API op chooses
 * step / success / failure / next mechanism / a new start / the details.
 *
 * Checked: every status is a documented one, every line to send is
 * printable with no CR/LF, an allocation failure gives MAIL_ERR_NOMEM
 * without a leak, and no freed block holds the password or the token
 * (the tracking allocator scans every free).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/sasl.h>

#include "alloc.h"
#include "core/base64.h"
#include "sasl/sasl_internal.h"

#include "fuzz_common.h"

#define PASSWORD "pencil-Zq8#kL2"
#define TOKEN1 "tok-S3cr3t-9xQ"
#define TOKEN2 "tok-R3fr3sh-7wP"

static const char *const mechs[] = {
  "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "OAUTHBEARER",
  "XOAUTH2", "EXTERNAL", "CRAM-MD5", "PLAIN", "LOGIN",
};
#define NMECHS (sizeof mechs / sizeof mechs[0])

typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static int take(input *in, uint8_t *b)
{
  if (!in->n)
    return 0;
  *b = *in->p++;
  in->n--;
  return 1;
}

/* Deterministic "random" bytes: all zero, so the SCRAM client nonce is
 * 32 'A's and seeds can extend it. */
static int zero_random(void *user, unsigned char *buf, size_t len)
{
  (void)user;
  memset(buf, 0, len);
  return 0;
}

static int token_cb(void *user, mail_sasl *s, int refresh)
{
  unsigned flags = *(unsigned *)user;
  /* The server's details are readable during a refresh. */
  for (int f = MAIL_SASL_DETAIL_OAUTH_STATUS; f <= MAIL_SASL_DETAIL_SCRAM_ERROR; f++) {
    const char *d = mail_sasl_error_detail(s, f);
    if (d)
      (void)strlen(d);
  }
  if (refresh && (flags & 1))
    return -1;
  return mail_sasl_set_oauth_token(s, refresh ? TOKEN2 : TOKEN1) == MAIL_OK ? 0 : -1;
}

static void check_status(int rc)
{
  FZ_ASSERT(rc <= MAIL_SASL_SEND_COMMAND && rc > MAIL_ERR_INTERNAL);
  FZ_ASSERT(rc != MAIL_ERR_AGAIN);
}

static void check_msg(int rc, const mail_sasl_msg *m)
{
  if (rc != MAIL_SASL_SEND_LINE && rc != MAIL_SASL_SEND_COMMAND)
    return;
  if (rc == MAIL_SASL_SEND_COMMAND)
    FZ_ASSERT(m->mech && *m->mech);
  if (rc == MAIL_SASL_SEND_LINE)
    FZ_ASSERT(m->data != NULL);
  if (m->data) {
    FZ_ASSERT(strlen(m->data) == m->len);
    for (size_t i = 0; i < m->len; i++)
      FZ_ASSERT(m->data[i] > ' ' && m->data[i] < 0x7f);
  }
}

static void check_details(const mail_sasl *s)
{
  for (int f = MAIL_SASL_DETAIL_OAUTH_STATUS; f <= MAIL_SASL_DETAIL_SCRAM_ERROR; f++) {
    const char *d = mail_sasl_error_detail(s, f);
    if (d)
      (void)strlen(d);
  }
  (void)mail_sasl_mechanism(s);
  int o = mail_sasl_outcome(s);
  FZ_ASSERT(o <= 0 && o > MAIL_ERR_INTERNAL);
}

static void drive_protocol(mail_sasl *s, const mail_sasl_profile *prof, const char *offer, input *in)
{
  mail_sasl_msg m = {0};
  int rc = mail_sasl_begin(s, prof, offer, &m);
  check_status(rc);
  check_msg(rc, &m);
  /* A bounded number of server replies. */
  for (int step = 0; step < 24 && (rc == MAIL_SASL_SEND_LINE || rc == MAIL_SASL_SEND_COMMAND);
       step++) {
    uint8_t op, len;
    if (!take(in, &op) || !take(in, &len))
      break;
    if (len > in->n)
      len = (uint8_t)in->n;
    const uint8_t *payload = in->p;
    in->p += len;
    in->n -= len;
    int kind = 1 + (op & 7) % 5;
    char enc[4 * 256 / 3 + 8];
    const char *b64 = (const char *)payload;
    size_t blen = len;
    if (op & 8) {
      blen = mail_b64_encode(payload, len, enc);
      b64 = enc;
    }
    mail_sasl_msg next = {0};
    rc = mail_sasl_reply(s, kind, blen ? b64 : NULL, blen, &next);
    check_status(rc);
    check_msg(rc, &next);
  }
  check_details(s);
}

static void check_out(int rc, const unsigned char *out, size_t len)
{
  check_status(rc);
  FZ_ASSERT(rc <= 0);
  if (rc == MAIL_OK && out)
    (void)memchr(out, 0, len); /* readable */
}

static void drive_public(mail_sasl *s, const char *offer, unsigned pick, input *in)
{
  const char *mech = NULL;
  int rc = mail_sasl_select(s, offer, &mech);
  check_status(rc);
  if (rc != MAIL_OK)
    mech = mechs[pick % NMECHS];
  const unsigned char *out = NULL;
  size_t out_len = 0;
  rc = mail_sasl_start(s, mech, &out, &out_len);
  check_out(rc, out, out_len);
  for (int step = 0; step < 24; step++) {
    uint8_t op, len;
    if (!take(in, &op) || !take(in, &len))
      break;
    if (len > in->n)
      len = (uint8_t)in->n;
    const uint8_t *payload = in->p;
    in->p += len;
    in->n -= len;
    switch (op % 6) {
    case 0:
    case 1:
      rc = mail_sasl_step(s, payload, len, &out, &out_len);
      check_out(rc, out, out_len);
      break;
    case 2:
      check_status(mail_sasl_success(s, len ? payload : NULL, len));
      break;
    case 3:
      check_status(mail_sasl_failure(s));
      break;
    case 4:
      rc = mail_sasl_next_mechanism(s, &mech);
      check_status(rc);
      if (rc == MAIL_OK) {
        rc = mail_sasl_start(s, mech, &out, &out_len);
        check_out(rc, out, out_len);
      }
      break;
    default:
      /* Start again (a second SCRAM exchange may reuse the cached key). */
      rc = mail_sasl_start(s, mechs[(op >> 3) % NMECHS], &out, &out_len);
      check_out(rc, out, out_len);
      break;
    }
    check_details(s);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  input in = {data, size};
  uint8_t flags = 0, fail = 0, m1 = 0, m2 = 0;
  take(&in, &flags);
  take(&in, &fail);
  take(&in, &m1);
  take(&in, &m2);

  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  /* A secret the server itself sends back is server text, not a leak. */
  static const char *const secrets[] = {PASSWORD, TOKEN1, TOKEN2};
  for (size_t i = 0; i < 3; i++)
    if (!memmem(data, size, secrets[i], strlen(secrets[i])))
      mail_test_alloc_forbid_str(&ta, secrets[i]);
  if (flags & 0x40)
    mail_test_alloc_fail_at(&ta, 1u + fail, fail & 1);

  mail_sasl *s = NULL;
  int rc = mail_sasl_new(&s, mail_test_alloc_hooks(&ta));
  if (rc != MAIL_OK) {
    FZ_ASSERT(rc == MAIL_ERR_NOMEM && ta.failures);
    goto done;
  }
  unsigned cb_flags = fail;
  mail_sasl_set_random(s, zero_random, NULL);
  mail_sasl_set_scram_iterations(s, 1, 64); /* keep PBKDF2 cheap */
  mail_sasl_set_username(s, "user,=x");
  mail_sasl_set_password(s, PASSWORD);
  mail_sasl_set_tls(s, flags & 1);
  if (flags & 2) {
    unsigned char cb[32];
    memset(cb, 0x5a, sizeof cb);
    mail_sasl_set_channel_binding(s, 1 + (m2 >> 7), cb, sizeof cb);
  }
  if (flags & 4)
    mail_sasl_set_authzid(s, "admin");
  if (flags & 8)
    mail_sasl_set_token_callback(s, token_cb, &cb_flags);
  else
    mail_sasl_set_oauth_token(s, TOKEN1);
  mail_sasl_set_oauth_host(s, "mail.test", 587);
  mail_sasl_set_external(s, flags & 0x20);

  char offer[256];
  size_t o = 0;
  unsigned bits = m1 | (unsigned)(m2 & 3) << 8;
  for (size_t i = 0; i < NMECHS; i++)
    if (bits & (1u << i)) {
      size_t l = strlen(mechs[i]);
      memcpy(offer + o, mechs[i], l);
      offer[o + l] = ' ';
      o += l + 1;
    }
  offer[o ? o - 1 : 0] = 0;

  static const mail_sasl_profile with_ir = {"smtp", 1, 64, "=", "*", 0};
  static const mail_sasl_profile without_ir = {"imap", 0, 0, NULL, "*", 0};
  if (flags & 0x10)
    drive_public(s, offer, m1, &in);
  else
    drive_protocol(s, (flags & 0x80) ? &without_ir : &with_ir, offer, &in);

  mail_sasl_free(s);
done:
  if (ta.forbidden_hits) {
    fprintf(stderr, "secret freed unwiped: %s\n", ta.first_hit);
    abort();
  }
  FZ_ASSERT(ta.live == 0);
  mail_test_alloc_cleanup(&ta);
  return 0;
}

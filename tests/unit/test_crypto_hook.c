/*
 * The caller's crypto (mail_crypto_ops, mail_sasl_set_crypto) in place of
 * OpenSSL: the RFC exchanges of SCRAM-SHA-1 (RFC 5802), SCRAM-SHA-256
 * (RFC 7677) and CRAM-MD5 (RFC 2195) through examples/firmware's mbedTLS
 * hook, every hash counted so the hook is known to have done the work. Also
 * built in the minimal build (no OpenSSL at all), where these mechanisms
 * exist only through the hook; a failing hook fails the exchange; bad ops
 * are refused.
 */
#include <check.h>
#include <string.h>

#include <mail/sasl.h>

#include "../../examples/firmware/crypto_mbedtls.h"
#include "sasl/sasl_mech.h"

static const char b64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Random bytes that make the SCRAM client nonce the RFC's. */
static int nonce_random(void *user, unsigned char *buf, size_t len)
{
  const char *nonce = user;
  for (size_t i = 0; i < len; i++) {
    const char *c = strchr(b64_alphabet, nonce[i % strlen(nonce)]);
    buf[i] = (unsigned char)(c ? c - b64_alphabet : 0);
  }
  return 0;
}

typedef struct counts {
  int digest, hmac, pbkdf2;
  int fail; /* make every call fail */
} counts;

static int c_digest(void *user, int md, const void *d, size_t n, unsigned char *out)
{
  counts *c = user;
  c->digest++;
  return c->fail ? -1 : crypto_mbedtls_ops.digest(NULL, md, d, n, out);
}

static int c_hmac(void *user, int md, const void *k, size_t kl, const void *d, size_t n,
                  unsigned char *out)
{
  counts *c = user;
  c->hmac++;
  return c->fail ? -1 : crypto_mbedtls_ops.hmac(NULL, md, k, kl, d, n, out);
}

static int c_pbkdf2(void *user, int md, const void *p, size_t pl, const void *s, size_t sl,
                    unsigned int it, unsigned char *out, size_t ol)
{
  counts *c = user;
  c->pbkdf2++;
  return c->fail ? -1 : crypto_mbedtls_ops.pbkdf2(NULL, md, p, pl, s, sl, it, out, ol);
}

static const mail_crypto_ops counting = {MAIL_CRYPTO_OPS_VERSION_1, c_digest, c_hmac, c_pbkdf2};

static mail_sasl *hooked(const char *user, const char *pass, counts *c)
{
  mail_sasl *s = NULL;
  ck_assert_int_eq(mail_sasl_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_username(s, user), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_password(s, pass), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_crypto(s, &counting, c), MAIL_OK);
  return s;
}

static int step_str(mail_sasl *s, const char *chal, const unsigned char **out, size_t *n)
{
  return mail_sasl_step(s, (const unsigned char *)chal, strlen(chal), out, n);
}

#define ck_assert_bytes(p, n, str)                \
  do {                                            \
    ck_assert_uint_eq((n), strlen(str));          \
    ck_assert_int_eq(memcmp((p), (str), (n)), 0); \
  } while (0)

static void scram(const char *mech, const char *cnonce, const char *sfirst, const char *cfinal,
                  const char *sfinal)
{
  counts c = {0};
  mail_sasl *s = hooked("user", "pencil", &c);
  mail_sasl_set_random(s, nonce_random, (void *)cnonce);
  s->scram_nonce_len = strlen(cnonce);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, sfirst, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, cfinal);
  ck_assert_int_eq(mail_sasl_success(s, (const unsigned char *)sfinal, strlen(sfinal)), MAIL_OK);
  ck_assert_int_eq(c.pbkdf2, 1);
  ck_assert_int_ge(c.hmac, 4);
  ck_assert_int_ge(c.digest, 1);
  mail_sasl_free(s);
}

START_TEST(scram_sha1_through_the_hook)
{
  scram("SCRAM-SHA-1", "fyko+d2lbbFgONRv9qkxdawL",
        "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
        "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}
END_TEST

START_TEST(scram_sha256_through_the_hook)
{
  scram("SCRAM-SHA-256", "rOprNGfwEbeRWgbNEkqO",
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}
END_TEST

START_TEST(cram_md5_through_the_hook)
{
  counts c = {0};
  mail_sasl *s = hooked("tim", "tanstaaftanstaaf", &c);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "CRAM-MD5", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "<1896.697170952@postoffice.reston.mci.net>", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "tim b913a602c7eda7a495b4e6e7334d3890");
  ck_assert_int_eq(c.hmac, 1);
  mail_sasl_free(s);
}
END_TEST

START_TEST(failing_hook_fails_the_exchange)
{
  counts c = {0};
  c.fail = 1;
  mail_sasl *s = hooked("tim", "tanstaaftanstaaf", &c);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "CRAM-MD5", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "<1896.697170952@postoffice.reston.mci.net>", &out, &n),
                   MAIL_ERR_INTERNAL);
  mail_sasl_free(s);
}
END_TEST

START_TEST(ops_are_checked)
{
  mail_sasl *s = NULL;
  ck_assert_int_eq(mail_sasl_new(&s, NULL), MAIL_OK);
  mail_crypto_ops bad = counting;
  bad.version = 2;
  ck_assert_int_eq(mail_sasl_set_crypto(s, &bad, NULL), MAIL_ERR_INVALID);
  bad = counting;
  bad.pbkdf2 = NULL;
  ck_assert_int_eq(mail_sasl_set_crypto(s, &bad, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_crypto(NULL, &counting, NULL), MAIL_ERR_INVALID);
  /* Without a hook, a build without OpenSSL has no SCRAM; with one it has. */
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_set_username(s, "u"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_password(s, "p"), MAIL_OK);
  int rc = mail_sasl_start(s, "SCRAM-SHA-256", &out, &n);
  if (mail_features() & MAIL_FEATURE_TLS)
    ck_assert_int_eq(rc, MAIL_OK);
  else
    ck_assert_int_ne(rc, MAIL_OK);
  counts c = {0};
  ck_assert_int_eq(mail_sasl_set_crypto(s, &counting, &c), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256", &out, &n), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_crypto(s, NULL, NULL), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

int main(void)
{
  Suite *su = suite_create("crypto_hook");
  TCase *tc = tcase_create("mbedtls");
  tcase_add_test(tc, scram_sha1_through_the_hook);
  tcase_add_test(tc, scram_sha256_through_the_hook);
  tcase_add_test(tc, cram_md5_through_the_hook);
  tcase_add_test(tc, failing_hook_fails_the_exchange);
  tcase_add_test(tc, ops_are_checked);
  suite_add_tcase(su, tc);
  SRunner *sr = srunner_create(su);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? 1 : 0;
}

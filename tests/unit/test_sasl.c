/* Unit tests for the crypto shim and the SASL engine: RFC test vectors,
 * hostile servers, mechanism choice and the protocol-engine API. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/sasl.h>

#include "config.h"
#include "core/base64.h"
#include "core/conn_internal.h"
#include "core/mem.h"
#include "crypto/crypto.h"
#include "sasl/sasl_internal.h"
#include "sasl/sasl_mech.h"
#include "sasl/saslprep.h"
#include "each_alloc.h"

/* ------------------------------------------------------------ helpers */

static const char b64_alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A random source that spells the nonce given as user data. */
static int nonce_random(void *user, unsigned char *buf, size_t len)
{
  const char *nonce = user;
  for (size_t i = 0; i < len; i++) {
    const char *c = strchr(b64_alphabet, nonce[i % strlen(nonce)]);
    buf[i] = (unsigned char)(c ? c - b64_alphabet : 0);
  }
  return 0;
}

static mail_sasl *new_sasl(const char *user, const char *pass)
{
  mail_sasl *s = NULL;
  ck_assert_int_eq(mail_sasl_new(&s, NULL), MAIL_OK);
  if (user)
    ck_assert_int_eq(mail_sasl_set_username(s, user), MAIL_OK);
  if (pass)
    ck_assert_int_eq(mail_sasl_set_password(s, pass), MAIL_OK);
  return s;
}

static void set_nonce(mail_sasl *s, const char *nonce)
{
  mail_sasl_set_random(s, nonce_random, (void *)nonce);
  s->scram_nonce_len = strlen(nonce);
}

#define ck_assert_bytes(p, n, str)                                  \
  do {                                                              \
    ck_assert_uint_eq((n), strlen(str));                            \
    ck_assert_int_eq(memcmp((p), (str), (n)), 0);                   \
  } while (0)

static int step_str(mail_sasl *s, const char *chal, const unsigned char **out, size_t *n)
{
  return mail_sasl_step(s, (const unsigned char *)chal, strlen(chal), out, n);
}

static int success_str(mail_sasl *s, const char *data)
{
  return mail_sasl_success(s, (const unsigned char *)data, data ? strlen(data) : 0);
}

/* ------------------------------------------------------------ crypto */

static void hex(const unsigned char *p, size_t n, char *out)
{
  for (size_t i = 0; i < n; i++)
    sprintf(out + 2 * i, "%02x", p[i]);
}

START_TEST(crypto_vectors)
{
  unsigned char d[MAIL_MD_MAX_SIZE];
  char h[2 * MAIL_MD_MAX_SIZE + 1];
  ck_assert_int_eq(mail_crypto_digest(MAIL_MD_SHA1, "abc", 3, d), MAIL_OK);
  hex(d, 20, h);
  ck_assert_str_eq(h, "a9993e364706816aba3e25717850c26c9cd0d89d");
  ck_assert_int_eq(mail_crypto_digest(MAIL_MD_SHA256, "abc", 3, d), MAIL_OK);
  hex(d, 32, h);
  ck_assert_str_eq(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ck_assert_int_eq(mail_crypto_digest(MAIL_MD_MD5, "", 0, d), MAIL_OK);
  hex(d, 16, h);
  ck_assert_str_eq(h, "d41d8cd98f00b204e9800998ecf8427e");
  /* RFC 4231 test case 2 */
  ck_assert_int_eq(mail_crypto_hmac(MAIL_MD_SHA256, "Jefe", 4, "what do ya want for nothing?",
                                    28, d), MAIL_OK);
  hex(d, 32, h);
  ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  /* RFC 2202 test case 2 (HMAC-MD5) */
  ck_assert_int_eq(mail_crypto_hmac(MAIL_MD_MD5, "Jefe", 4, "what do ya want for nothing?",
                                    28, d), MAIL_OK);
  hex(d, 16, h);
  ck_assert_str_eq(h, "750c783e6ab0b503eaa86e310a5db738");
  /* RFC 6070 test case 2 */
  ck_assert_int_eq(mail_crypto_pbkdf2(MAIL_MD_SHA1, "password", 8, "salt", 4, 2, d, 20), MAIL_OK);
  hex(d, 20, h);
  ck_assert_str_eq(h, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
  ck_assert_int_eq(mail_crypto_pbkdf2(MAIL_MD_SHA1, "p", 1, "s", 1, 0, d, 20), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_crypto_digest(99, "", 0, d), MAIL_ERR_INVALID);
  ck_assert(mail_crypto_memeq("abcd", "abcd", 4));
  ck_assert(!mail_crypto_memeq("abcd", "abce", 4));
  unsigned char r1[16] = {0}, r2[16] = {0};
  ck_assert_int_eq(mail_crypto_random(r1, sizeof r1), MAIL_OK);
  ck_assert_int_eq(mail_crypto_random(r2, sizeof r2), MAIL_OK);
  ck_assert(memcmp(r1, r2, sizeof r1) != 0);
  ck_assert_uint_eq(mail_md_size(MAIL_MD_SHA256), 32);
}
END_TEST

/* ------------------------------------------------------------ SASLprep */

static void prep_ok(const char *in, const char *want)
{
  mail_allocator a;
  char *out = NULL;
  mail_alloc_init(&a, NULL);
  ck_assert_int_eq(mail_saslprep(&a, in, &out), MAIL_OK);
  ck_assert_str_eq(out, want);
  mail_dealloc_secret_str(&a, out);
}

static int prep_rc(const char *in)
{
  mail_allocator a;
  char *out = NULL;
  mail_alloc_init(&a, NULL);
  int rc = mail_saslprep(&a, in, &out);
  mail_dealloc_secret_str(&a, out);
  return rc;
}

START_TEST(saslprep_rfc4013_examples)
{
  prep_ok("user", "user");
  prep_ok("USER", "USER");
  ck_assert_int_eq(prep_rc("\x07"), MAIL_ERR_CHARSET);       /* U+0007 prohibited */
  ck_assert_int_eq(prep_rc("a\xff"), MAIL_ERR_CHARSET);      /* not UTF-8 */
  ck_assert_int_eq(prep_rc("\xc0\xaf"), MAIL_ERR_CHARSET);   /* overlong */
#if MAIL_WITH_SASLPREP
  prep_ok("I\xc2\xadX", "IX");                 /* U+00AD mapped to nothing */
  prep_ok("\xc2\xaa", "a");                    /* U+00AA -> "a" */
  prep_ok("\xe2\x85\xa8", "IX");               /* U+2168 -> "IX" */
  prep_ok("a\xc2\xa0" "b", "a b");             /* U+00A0 -> space */
  prep_ok("p\xc3\xa4sswo\xcc\x88rd", "p\xc3\xa4ssw\xc3\xb6rd"); /* NFKC composes */
  ck_assert_int_eq(prep_rc("\xd8\xa7" "1"), MAIL_ERR_CHARSET); /* bidi: U+0627 U+0031 */
  ck_assert_int_eq(prep_rc("\xc2\xad"), MAIL_ERR_CHARSET);     /* maps to nothing at all */
#else
  ck_assert_int_eq(prep_rc("\xe2\x85\xa8"), MAIL_ERR_UNSUPPORTED);
#endif
}
END_TEST

/* ------------------------------------------------------------ PLAIN, LOGIN, EXTERNAL, CRAM-MD5 */

START_TEST(plain_rfc4616)
{
  mail_sasl *s = new_sasl("Kurt", "xipj3plmq");
  ck_assert_int_eq(mail_sasl_set_authzid(s, "Ursel"), MAIL_OK);
  mail_sasl_set_tls(s, 1);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "PLAIN", &out, &n), MAIL_OK);
  ck_assert_uint_eq(n, 20);
  ck_assert_int_eq(memcmp(out, "Ursel\0Kurt\0xipj3plmq", 20), 0);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_AGAIN);
  ck_assert_int_eq(success_str(s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_OK);

  /* without authzid; and an unexpected challenge afterwards */
  ck_assert_int_eq(mail_sasl_set_authzid(s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, "plain", &out, &n), MAIL_OK);
  ck_assert_uint_eq(n, 15);
  ck_assert_int_eq(memcmp(out, "\0Kurt\0xipj3plmq", 15), 0);
  ck_assert_int_eq(step_str(s, "more?", &out, &n), MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_SASL_BAD_CHALLENGE);
  mail_sasl_free(s);
}
END_TEST

/* Every setter that can fail says so: a NULL handle is MAIL_ERR_INVALID,
 * never a silent no-op. */
START_TEST(setters_return_status)
{
  ck_assert_int_eq(mail_sasl_set_token_callback(NULL, NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_external(NULL, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_tls(NULL, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_allow_insecure_plaintext(NULL, 1), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_random(NULL, NULL, NULL), MAIL_ERR_INVALID);
  mail_sasl *s = new_sasl(NULL, NULL);
  ck_assert_int_eq(mail_sasl_set_token_callback(s, NULL, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_external(s, 1), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_tls(s, 1), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_allow_insecure_plaintext(s, 0), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_random(s, NULL, NULL), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(identity_crlfnul_rejected)
{
  mail_sasl *s = new_sasl(NULL, NULL);
  ck_assert_int_eq(mail_sasl_set_username(s, "a\rb"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_username(s, "a\nb"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_authzid(s, "x\r\ny"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_username(s, "bad\xff"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_oauth_token(s, "tok\x01" "en"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_oauth_host(s, "h\nx", 1), MAIL_ERR_INVALID);
  /* A NUL cannot be passed through a C string at all; a password with a
   * control character is refused by SASLprep at start. */
  ck_assert_int_eq(mail_sasl_set_username(s, "u"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_password(s, "p\x07w"), MAIL_OK);
  mail_sasl_set_tls(s, 1);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "PLAIN", &out, &n), MAIL_ERR_CHARSET);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256", &out, &n), MAIL_ERR_CHARSET);
  /* a Latin-1 password: refused where SASLprep applies, sent as is by LOGIN */
  ck_assert_int_eq(mail_sasl_set_password(s, "p\xe4ss"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-1", &out, &n), MAIL_ERR_CHARSET);
  ck_assert_int_eq(mail_sasl_start(s, "LOGIN", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "Username:", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "Password:", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "p\xe4ss");
  mail_sasl_free(s);
}
END_TEST

START_TEST(plain_insecure)
{
  mail_sasl *s = new_sasl("u", "p");
  const unsigned char *out;
  size_t n;
  const char *mech;
  ck_assert_int_eq(mail_sasl_start(s, "PLAIN", &out, &n), MAIL_ERR_INSECURE);
  ck_assert_int_eq(mail_sasl_start(s, "LOGIN", &out, &n), MAIL_ERR_INSECURE);
  ck_assert_int_eq(mail_sasl_select(s, "PLAIN LOGIN", &mech), MAIL_ERR_INSECURE);
  ck_assert_int_eq(mail_sasl_select(s, "PLAIN CRAM-MD5", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "CRAM-MD5");
  mail_sasl_set_allow_insecure_plaintext(s, 1);
  ck_assert_int_eq(mail_sasl_start(s, "PLAIN", &out, &n), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(login_exchange)
{
  mail_sasl *s = new_sasl("tim", "secret pw");
  mail_sasl_set_tls(s, 1);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "LOGIN", &out, &n), MAIL_OK);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(step_str(s, "Username:", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "tim");
  ck_assert_int_eq(step_str(s, "Password:", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "secret pw");
  ck_assert_int_eq(step_str(s, "What?", &out, &n), MAIL_ERR_SASL_BAD_CHALLENGE);
  mail_sasl_free(s);
}
END_TEST

START_TEST(external_exchange)
{
  mail_sasl *s = new_sasl(NULL, NULL);
  const unsigned char *out;
  size_t n;
  const char *mech;
  ck_assert_int_eq(mail_sasl_start(s, "EXTERNAL", &out, &n), MAIL_ERR_INVALID);
  mail_sasl_set_external(s, 1);
  ck_assert_int_eq(mail_sasl_select(s, "PLAIN EXTERNAL", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "EXTERNAL");
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_ptr_nonnull(out);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(success_str(s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_authzid(s, "admin"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "admin");
  mail_sasl_free(s);
}
END_TEST

START_TEST(cram_md5_rfc2195)
{
  mail_sasl *s = new_sasl("tim", "tanstaaftanstaaf");
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "CRAM-MD5", &out, &n), MAIL_OK);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(step_str(s, "<1896.697170952@postoffice.reston.mci.net>", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "tim b913a602c7eda7a495b4e6e7334d3890");
  ck_assert_int_eq(success_str(s, NULL), MAIL_OK);
  /* an empty challenge is not a challenge */
  ck_assert_int_eq(mail_sasl_start(s, "CRAM-MD5", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "", &out, &n), MAIL_ERR_SASL_BAD_CHALLENGE);
  mail_sasl_free(s);
}
END_TEST

/* ------------------------------------------------------------ SCRAM */

#define R5802_CNONCE "fyko+d2lbbFgONRv9qkxdawL"
#define R5802_SFIRST "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define R5802_CFINAL "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
#define R5802_SFINAL "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

#define R7677_CNONCE "rOprNGfwEbeRWgbNEkqO"
#define R7677_SFIRST "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define R7677_CFINAL "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define R7677_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static mail_sasl *scram_rfc(const char *mech, const char *cnonce)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, cnonce);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  char want[128];
  snprintf(want, sizeof want, "n,,n=user,r=%s", cnonce);
  ck_assert_bytes(out, n, want);
  return s;
}

START_TEST(scram_sha1_rfc5802)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, R5802_CFINAL);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(scram_salted_password_cache)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_OK);
  ck_assert(s->scram_cache.valid);
  /* the same salt again: the cached SaltedPassword gives the same proof */
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-1", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, R5802_CFINAL);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_OK);
  /* a new password must not reuse it */
  ck_assert_int_eq(mail_sasl_set_password(s, "pencil2"), MAIL_OK);
  ck_assert(!s->scram_cache.valid);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-1", &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_OK);
  ck_assert(n != strlen(R5802_CFINAL) || memcmp(out, R5802_CFINAL, n) != 0);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);
}
END_TEST

START_TEST(scram_sha256_rfc7677)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-256", R7677_CNONCE);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, R7677_SFIRST, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, R7677_CFINAL);
  /* server-final in a continuation, then a success without data */
  ck_assert_int_eq(step_str(s, R7677_SFINAL, &out, &n), MAIL_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_int_eq(success_str(s, NULL), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(scram_bad_server_signature)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-256", R7677_CNONCE);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, R7677_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(success_str(s, "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
                   MAIL_ERR_SASL_SERVER);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);

  s = scram_rfc("SCRAM-SHA-256", R7677_CNONCE);
  ck_assert_int_eq(step_str(s, R7677_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "v=AAAA", &out, &n), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);

  /* a success with no proof at all */
  s = scram_rfc("SCRAM-SHA-256", R7677_CNONCE);
  ck_assert_int_eq(step_str(s, R7677_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(success_str(s, NULL), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);

  /* success before the client proved anything */
  s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);

  /* the SHA-1 signature on a SHA-256 exchange */
  s = scram_rfc("SCRAM-SHA-256", R7677_CNONCE);
  ck_assert_int_eq(step_str(s, R7677_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(success_str(s, R5802_SFINAL), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);
}
END_TEST

static int scram_first_rc(const char *server_first)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  const unsigned char *out;
  size_t n;
  int rc = step_str(s, server_first, &out, &n);
  mail_sasl_free(s);
  return rc;
}

START_TEST(scram_hostile_server_first)
{
  /* nonce not extending ours */
  ck_assert_int_eq(scram_first_rc("r=Xyko+d2lbbFgONRv9qkxdawL3rfc,s=QSXCR+Q6sek8bf92,i=4096"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  /* nonce equal to ours: the server added nothing */
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE ",s=QSXCR+Q6sek8bf92,i=4096"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  /* iteration count below / above the bounds, or malformed */
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i=4095"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i=600001"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i=99999999999"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i=-1"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i="),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  /* salt not base64 / empty; attributes missing or out of order */
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf9,i=4096"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=,i=4096"), MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,i=4096,s=QSXCR+Q6sek8bf92"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(scram_first_rc("r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  /* a mandatory extension we do not know */
  ck_assert_int_eq(scram_first_rc("m=ext,r=" R5802_CNONCE "x,s=QSXCR+Q6sek8bf92,i=4096"),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  /* optional extensions after the iteration count are fine */
  ck_assert_int_eq(scram_first_rc(R5802_SFIRST ",x=ext"), MAIL_OK);
  /* a server error instead of server-first */
  mail_sasl *s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, "e=unknown-user", &out, &n), MAIL_ERR_AUTH);
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_SCRAM_ERROR), "unknown-user");
  mail_sasl_free(s);
  /* a server error in server-final */
  s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_OK);
  ck_assert_int_eq(step_str(s, "e=invalid-proof", &out, &n), MAIL_ERR_AUTH);
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_SCRAM_ERROR), "invalid-proof");
  mail_sasl_free(s);
  /* oversized challenge */
  s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  unsigned char *big = malloc(MAIL_SASL_MAX_CHALLENGE + 1);
  memset(big, 'a', MAIL_SASL_MAX_CHALLENGE + 1);
  ck_assert_int_eq(mail_sasl_step(s, big, MAIL_SASL_MAX_CHALLENGE + 1, &out, &n),
                   MAIL_ERR_SASL_BAD_CHALLENGE);
  free(big);
  mail_sasl_free(s);
}
END_TEST

START_TEST(scram_iteration_bounds_configurable)
{
  mail_sasl *s = scram_rfc("SCRAM-SHA-1", R5802_CNONCE);
  ck_assert_int_eq(mail_sasl_set_scram_iterations(s, 5000, 10000), MAIL_OK);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(step_str(s, R5802_SFIRST, &out, &n), MAIL_ERR_SASL_BAD_CHALLENGE);
  ck_assert_int_eq(mail_sasl_set_scram_iterations(s, 10, 5), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_scram_iterations(s, 0, 5), MAIL_ERR_INVALID);
  mail_sasl_free(s);
}
END_TEST

START_TEST(scram_gs2_and_escaping)
{
  static const unsigned char cb[] = "0123456789abcdef0123456789abcdef";
  mail_sasl *s = new_sasl("a,b=c", "pencil");
  set_nonce(s, "abcd");
  const unsigned char *out;
  size_t n;
  const char *mech;
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "n,,n=a=2Cb=3Dc,r=abcd");
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256-PLUS", &out, &n), MAIL_ERR_UNSUPPORTED);

  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 1, cb, 32), MAIL_OK);
  /* server offers no -PLUS: "y" */
  ck_assert_int_eq(mail_sasl_select(s, "SCRAM-SHA-256 PLAIN", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "SCRAM-SHA-256");
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "y,,n=a=2Cb=3Dc,r=abcd");
  /* server offers -PLUS: chosen, "p=tls-exporter" and c= carries the data */
  ck_assert_int_eq(mail_sasl_select(s, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(mail_sasl_set_authzid(s, "x=y"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "p=tls-exporter,a=x=3Dy,n=a=2Cb=3Dc,r=abcd");
  ck_assert_int_eq(step_str(s, "r=abcdEF,s=QSXCR+Q6sek8bf92,i=4096", &out, &n), MAIL_OK);
  char gs2cb[128];
  char want[256];
  memcpy(gs2cb, "p=tls-exporter,a=x=3Dy,", 23);
  memcpy(gs2cb + 23, cb, 32);
  size_t l = mail_b64_encode(gs2cb, 55, want + 2);
  memcpy(want, "c=", 2);
  memcpy(want + 2 + l, ",r=abcdEF,p=", 13);
  ck_assert_int_eq(memcmp(out, want, strlen(want)), 0);
  /* the allow-list excludes -PLUS although the server offers it: "n" */
  ck_assert_int_eq(mail_sasl_set_authzid(s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, "SCRAM-SHA-256"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_select(s, "SCRAM-SHA-256 SCRAM-SHA-256-PLUS", &mech), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "n,,n=a=2Cb=3Dc,r=abcd");
  /* tls-server-end-point */
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 2, cb, 32), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-1-PLUS", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "p=tls-server-end-point,,n=a=2Cb=3Dc,r=abcd");
  /* tls-unique */
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 3, cb, 32), MAIL_OK);
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256-PLUS", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "p=tls-unique,,n=a=2Cb=3Dc,r=abcd");
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 4, cb, 32), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 0, cb, 32), MAIL_ERR_INVALID);
  mail_sasl_free(s);
}
END_TEST

/* ------------------------------------------------------------ OAuth */

typedef struct token_state {
  int calls;
  int refreshes;
  const char *tokens[3];
  char seen_status[64];
} token_state;

static int token_cb(void *user, mail_sasl *s, int refresh)
{
  token_state *t = user;
  if (refresh) {
    t->refreshes++;
    const char *st = mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_STATUS);
    snprintf(t->seen_status, sizeof t->seen_status, "%s", st ? st : "");
  }
  const char *tok = t->tokens[t->calls++];
  if (!tok)
    return -1;
  return mail_sasl_set_oauth_token(s, tok);
}

#define OAUTH_ERR "{\"status\":\"invalid_token\",\"scope\":\"mail\\/imap x\"," \
                  "\"openid-configuration\":\"https://example.com/.well-known/openid-configuration\"," \
                  "\"n\":[1,{\"a\":\"}\"}]}"

START_TEST(oauthbearer_error_refresh_once)
{
  token_state t = {0, 0, {"old-token", "new-token", NULL}, ""};
  mail_sasl *s = new_sasl("user@example.com", NULL);
  mail_sasl_set_tls(s, 1);
  mail_sasl_set_token_callback(s, token_cb, &t);
  ck_assert_int_eq(mail_sasl_set_oauth_host(s, "server.example.com", 587), MAIL_OK);
  const char *mech;
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_select(s, "PLAIN XOAUTH2 OAUTHBEARER", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "OAUTHBEARER");
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "n,a=user@example.com,\x01host=server.example.com\x01port=587\x01"
                          "auth=Bearer old-token\x01\x01");
  ck_assert_int_eq(step_str(s, OAUTH_ERR, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "\x01");
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_STATUS), "invalid_token");
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_SCOPE), "mail/imap x");
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_OPENID),
                   "https://example.com/.well-known/openid-configuration");
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_JSON), OAUTH_ERR);
  ck_assert_int_eq(mail_sasl_failure(s), MAIL_OK);
  ck_assert_int_eq(t.refreshes, 1);
  ck_assert_str_eq(t.seen_status, "invalid_token");
  ck_assert_int_eq(mail_sasl_start(s, "OAUTHBEARER", &out, &n), MAIL_OK);
  ck_assert_ptr_nonnull(memmem(out, n, "auth=Bearer new-token\x01\x01", 23));
  ck_assert_int_eq(step_str(s, "{\"status\":\"invalid_token\"}", &out, &n), MAIL_OK);
  /* refused again: no second refresh */
  ck_assert_int_eq(mail_sasl_failure(s), MAIL_ERR_AUTH);
  ck_assert_int_eq(t.refreshes, 1);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_AUTH);
  mail_sasl_free(s);
}
END_TEST

START_TEST(xoauth2_and_bad_json)
{
  mail_sasl *s = new_sasl("someuser@example.com", NULL);
  mail_sasl_set_tls(s, 1);
  ck_assert_int_eq(mail_sasl_set_oauth_token(s, "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"), MAIL_OK);
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_start(s, "XOAUTH2", &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "user=someuser@example.com\x01" "auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
  ck_assert_int_eq(step_str(s, "{not json", &out, &n), MAIL_OK);
  ck_assert_uint_eq(n, 0);
  ck_assert_str_eq(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_JSON), "{not json");
  ck_assert_ptr_null(mail_sasl_error_detail(s, MAIL_SASL_DETAIL_OAUTH_STATUS));
  ck_assert_int_eq(mail_sasl_failure(s), MAIL_ERR_AUTH); /* no callback: no retry */
  /* OAuth over an unprotected link is refused */
  mail_sasl_set_tls(s, 0);
  ck_assert_int_eq(mail_sasl_start(s, "XOAUTH2", &out, &n), MAIL_ERR_INSECURE);
  mail_sasl_free(s);
}
END_TEST

/* ------------------------------------------------------------ selection */

static const char *pick(mail_sasl *s, const char *server, int *rc)
{
  const char *mech = NULL;
  *rc = mail_sasl_select(s, server, &mech);
  return mech ? mech : "-";
}

START_TEST(selection_matrix)
{
  static const unsigned char cb[32] = {1};
  const char *all = "LOGIN PLAIN CRAM-MD5 EXTERNAL XOAUTH2 OAUTHBEARER SCRAM-SHA-1 "
                    "SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS";
  int rc;
  mail_sasl *s = new_sasl("u", "p");
  /* no TLS, no channel binding */
  ck_assert_str_eq(pick(s, all, &rc), "SCRAM-SHA-256");
  ck_assert_str_eq(pick(s, "scram-sha-1 plain", &rc), "SCRAM-SHA-1");
  ck_assert_str_eq(pick(s, "CRAM-MD5 PLAIN LOGIN", &rc), "CRAM-MD5");
  ck_assert_str_eq(pick(s, "PLAIN LOGIN", &rc), "-");
  ck_assert_int_eq(rc, MAIL_ERR_INSECURE);
  ck_assert_str_eq(pick(s, "GSSAPI NTLM", &rc), "-");
  ck_assert_int_eq(rc, MAIL_ERR_NO_MECHANISM);
  ck_assert_str_eq(pick(s, "", &rc), "-");
  ck_assert_int_eq(rc, MAIL_ERR_NO_MECHANISM);
  /* OAuth and EXTERNAL only when configured */
  ck_assert_str_eq(pick(s, "XOAUTH2 OAUTHBEARER EXTERNAL CRAM-MD5", &rc), "CRAM-MD5");
  /* TLS: PLAIN and LOGIN become usable */
  mail_sasl_set_tls(s, 1);
  ck_assert_str_eq(pick(s, "LOGIN PLAIN", &rc), "PLAIN");
  ck_assert_str_eq(pick(s, "LOGIN", &rc), "LOGIN");
  ck_assert_str_eq(pick(s, all, &rc), "SCRAM-SHA-256");
  /* channel binding available: -PLUS first */
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, 1, cb, sizeof cb), MAIL_OK);
  ck_assert_str_eq(pick(s, all, &rc), "SCRAM-SHA-256-PLUS");
  ck_assert_str_eq(pick(s, "SCRAM-SHA-1-PLUS SCRAM-SHA-256", &rc), "SCRAM-SHA-256");
  ck_assert_str_eq(pick(s, "SCRAM-SHA-1-PLUS SCRAM-SHA-1", &rc), "SCRAM-SHA-1-PLUS");
  /* a token: OAuth before EXTERNAL and CRAM-MD5 */
  ck_assert_int_eq(mail_sasl_set_oauth_token(s, "tok"), MAIL_OK);
  mail_sasl_set_external(s, 1);
  ck_assert_str_eq(pick(s, "PLAIN EXTERNAL XOAUTH2 CRAM-MD5", &rc), "XOAUTH2");
  ck_assert_str_eq(pick(s, "PLAIN EXTERNAL OAUTHBEARER XOAUTH2", &rc), "OAUTHBEARER");
  ck_assert_str_eq(pick(s, "PLAIN EXTERNAL CRAM-MD5", &rc), "EXTERNAL");
  /* allow-list: its order wins, requirements still apply */
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, "PLAIN, SCRAM-SHA-1"), MAIL_OK);
  ck_assert_str_eq(pick(s, all, &rc), "PLAIN");
  ck_assert_str_eq(pick(s, "SCRAM-SHA-256 SCRAM-SHA-1", &rc), "SCRAM-SHA-1");
  ck_assert_str_eq(pick(s, "SCRAM-SHA-256 LOGIN", &rc), "-");
  ck_assert_int_eq(rc, MAIL_ERR_NO_MECHANISM);
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, "PLAIN BOGUS"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, "SCRAM-SHA-256-PLUS"), MAIL_OK);
  mail_sasl_set_channel_binding(s, 0, NULL, 0);
  ck_assert_str_eq(pick(s, all, &rc), "-");
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, NULL), MAIL_OK);
  /* no password: only what needs none */
  ck_assert_int_eq(mail_sasl_set_password(s, NULL), MAIL_OK);
  mail_sasl_set_external(s, 0);
  ck_assert_int_eq(mail_sasl_set_oauth_token(s, NULL), MAIL_OK);
  ck_assert_str_eq(pick(s, all, &rc), "-");
  ck_assert_int_eq(rc, MAIL_ERR_NO_MECHANISM);
  mail_sasl_free(s);
}
END_TEST

START_TEST(fallback_order)
{
  mail_sasl *s = new_sasl("u", "p");
  mail_sasl_set_tls(s, 1);
  const char *mech;
  ck_assert_int_eq(mail_sasl_select(s, "PLAIN SCRAM-SHA-1 CRAM-MD5 LOGIN", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "SCRAM-SHA-1");
  ck_assert_int_eq(mail_sasl_next_mechanism(s, &mech), MAIL_OK);
  ck_assert_str_eq(mech, "CRAM-MD5");
  ck_assert_int_eq(mail_sasl_next_mechanism(s, &mech), MAIL_OK);
  ck_assert_str_eq(mech, "PLAIN");
  ck_assert_int_eq(mail_sasl_next_mechanism(s, &mech), MAIL_OK);
  ck_assert_str_eq(mech, "LOGIN");
  ck_assert_int_eq(mail_sasl_next_mechanism(s, &mech), MAIL_ERR_NO_MECHANISM);
  mail_sasl_free(s);
}
END_TEST

/* ------------------------------------------------------------ protocol-engine API */

static const mail_sasl_profile smtp_like = {"smtp", 1, 200, "=", "*", 0};
static const mail_sasl_profile no_ir = {"imap", 0, 0, NULL, "*", 0};

static char *b64(const char *raw)
{
  static char buf[4][512];
  static int i;
  char *o = buf[i++ & 3];
  size_t n = mail_b64_encode(raw, strlen(raw), o);
  o[n] = '\0';
  return o;
}

static int reply(mail_sasl *s, int kind, const char *payload_b64, mail_sasl_msg *m)
{
  return mail_sasl_reply(s, kind, payload_b64, payload_b64 ? strlen(payload_b64) : 0, m);
}

START_TEST(proto_scram_with_ir)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, R7677_CNONCE);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "PLAIN SCRAM-SHA-256", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  ck_assert_str_eq(m.data, b64("n,,n=user,r=" R7677_CNONCE));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R7677_SFIRST), &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, b64(R7677_CFINAL));
  ck_assert_uint_eq(m.len, strlen(m.data));
  /* final data in the success reply */
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, b64(R7677_SFINAL), &m), MAIL_OK);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_scram_final_in_continuation)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, R5802_CNONCE);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &no_ir, "SCRAM-SHA-1", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_ptr_null(m.data);
  /* no SASL-IR: the server's empty challenge asks for client-first */
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, "", &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, b64("n,,n=user,r=" R5802_CNONCE));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, b64(R5802_CFINAL));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFINAL), &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

/* A -PLUS handle on a verified link, "abcd" as every nonce. */
static mail_sasl *plus_sasl(void)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, "abcd");
  unsigned char cb[32];
  memset(cb, 7, sizeof cb);
  ck_assert_int_eq(mail_sasl_set_channel_binding(s, MAIL_CB_TLS_EXPORTER, cb, sizeof cb), MAIL_OK);
  mail_sasl_set_tls(s, 1);
  return s;
}

static const char *const BOTH = "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN";

/* Begin a -PLUS exchange and have the server refuse it with kind. */
static int plus_refused(mail_sasl *s, const mail_sasl_profile *prof, const char *offer, int kind,
                        mail_sasl_msg *m)
{
  ck_assert_int_eq(mail_sasl_begin(s, prof, offer, m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m->mech, "SCRAM-SHA-256-PLUS");
  ck_assert_str_eq(m->data, b64("p=tls-exporter,,n=user,r=abcd"));
  return reply(s, kind, NULL, m);
}

START_TEST(proto_plus_downgrade_once)
{
  mail_sasl *s = plus_sasl();
  mail_sasl_msg m;
  /* Refused: the same SCRAM without binding, gs2 "n" (never "y": the
   * server advertised -PLUS), then a second refusal is final. */
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m),
                   MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  ck_assert_str_eq(m.data, b64("n,,n=user,r=abcd"));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_AUTH);
  /* Each login has its own retry. */
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m),
                   MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  /* A SCRAM "e=" error in a challenge is a refusal too: abort, then retry. */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, BOTH, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("e=unsupported-channel-binding-type"), &m),
                   MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "*");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_ERROR, NULL, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  ck_assert_str_eq(m.data, b64("n,,n=user,r=abcd"));
  /* Not an authentication failure: no retry. */
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_ERROR, &m), MAIL_ERR_SERVER);
  /* A server that failed to prove itself: no retry either. */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, BOTH, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("r=abcdXY,s=QSXCR+Q6sek8bf92,i=4096"), &m),
                   MAIL_SASL_SEND_LINE);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="), &m),
                   MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "*");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_ERROR, NULL, &m), MAIL_ERR_SASL_SERVER);
  /* A refused non-PLUS exchange is final as before. */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-256 PLAIN", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_AUTH);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_plus_downgrade_refused)
{
  mail_sasl_msg m;
  /* The caller requires channel binding. */
  mail_sasl *s = plus_sasl();
  ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(s, 0), MAIL_OK);
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(s, 1), MAIL_OK);
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m),
                   MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(mail_sasl_set_allow_channel_binding_downgrade(NULL, 0), MAIL_ERR_INVALID);
  /* An unverified link: binding is all that protects the exchange. */
  mail_sasl_set_tls(s, 0);
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m), MAIL_ERR_AUTH);
  mail_sasl_set_tls(s, 1);
  /* The server does not offer SCRAM-SHA-256 without -PLUS. */
  ck_assert_int_eq(plus_refused(s, &smtp_like, "SCRAM-SHA-256-PLUS PLAIN", MAIL_SASL_REPLY_FAILURE, &m),
                   MAIL_ERR_AUTH);
  /* The allow-list does not admit it. */
  ck_assert_int_eq(mail_sasl_set_mechanisms(s, "SCRAM-SHA-256-PLUS"), MAIL_OK);
  ck_assert_int_eq(plus_refused(s, &smtp_like, BOTH, MAIL_SASL_REPLY_FAILURE, &m), MAIL_ERR_AUTH);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_plus_downgrade_new_connection)
{
  /* A protocol that cannot start another exchange after a refusal. */
  static const mail_sasl_profile once = {"test", 1, 0, "=", "*", 1};
  mail_sasl *s = plus_sasl();
  mail_sasl_msg m;
  ck_assert_int_eq(plus_refused(s, &once, BOTH, MAIL_SASL_REPLY_FAILURE, &m), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_retry_on_new_connection(s), 1);
  /* The new connection: the retry, and then nothing more. */
  ck_assert_int_eq(mail_sasl_begin(s, &once, BOTH, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(mail_sasl_retry_on_new_connection(s), 0);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-256");
  ck_assert_str_eq(m.data, b64("n,,n=user,r=abcd"));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_retry_on_new_connection(s), 0);
  mail_sasl_free(s);
}
END_TEST

START_TEST(public_plus_downgrade)
{
  mail_sasl *s = plus_sasl();
  const char *mech;
  const unsigned char *out;
  size_t n;
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(s, &mech), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_select(s, BOTH, &mech), MAIL_OK);
  ck_assert_str_eq(mech, "SCRAM-SHA-256-PLUS");
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  /* Not before the failure. */
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(s, &mech), MAIL_ERR_AUTH);
  ck_assert_ptr_null(mech);
  ck_assert_int_eq(mail_sasl_failure(s), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(s, &mech), MAIL_OK);
  ck_assert_str_eq(mech, "SCRAM-SHA-256");
  ck_assert_int_eq(mail_sasl_start(s, mech, &out, &n), MAIL_OK);
  ck_assert_bytes(out, n, "n,,n=user,r=abcd");
  ck_assert_int_eq(mail_sasl_failure(s), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(s, &mech), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(NULL, &mech), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_downgrade_channel_binding(s, NULL), MAIL_ERR_INVALID);
  mail_sasl_free(s);
}
END_TEST

START_TEST(queue_arguments)
{
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, NULL), MAIL_OK);
  mail_sasl_msg cmd = {"PLAIN", "AHUAcA==", 8}, line = {NULL, "AHUAcA==", 8}, none = {NULL, NULL, 0};
  mail_cmdq q;
  mail_cmdq_init(&q, &mail_conn_env(c)->alloc, 4);
  mail_cmd e = {.kind = 1};
  ck_assert_int_eq(mail_sasl_queue(NULL, &q, &e, "AUTH", MAIL_SASL_SEND_COMMAND, &cmd),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, &e, NULL, MAIL_SASL_SEND_COMMAND, &cmd), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, &e, "AUTH", MAIL_SASL_SEND_COMMAND, &line),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, &e, "AUTH", MAIL_SASL_SEND_LINE, &none), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, &e, "AUTH", 0, &cmd), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, &e, "AUTH", MAIL_SASL_SEND_LINE, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, NULL, &e, "AUTH", MAIL_SASL_SEND_COMMAND, &cmd),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_queue(c, &q, NULL, "AUTH", MAIL_SASL_SEND_COMMAND, &cmd),
                   MAIL_ERR_INVALID);
  /* Nothing was queued by a refused call. */
  ck_assert_uint_eq(mail_cmdq_count(&q), 0);
  mail_cmdq_free(&q);
  mail_conn_free(c);
}
END_TEST

START_TEST(channel_binding_preference_values)
{
  mail_sasl *s = new_sasl(NULL, NULL);
  for (int t = 0; t <= 3; t++)
    ck_assert_int_eq(mail_sasl_set_channel_binding_preference(s, t), MAIL_OK);
  ck_assert_int_eq(mail_sasl_set_channel_binding_preference(s, 4), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_sasl_set_channel_binding_preference(s, -1), MAIL_ERR_INVALID);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_bad_signature_aborts)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, R5802_CNONCE);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), &m),
                   MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "*");
  /* whatever the server answers to the abort, the outcome is the reason */
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_ERR_SASL_SERVER);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_SASL_SERVER);

  /* bad signature in the success reply: no abort possible, just the error */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="), &m),
                   MAIL_ERR_SASL_SERVER);
  /* final data that is not base64 */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, "v=!!", &m), MAIL_ERR_SASL_SERVER);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_invalid_and_oversized_challenge)
{
  mail_sasl *s = new_sasl("tim", "tanstaaftanstaaf");
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "CRAM-MD5", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_ptr_null(m.data);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ", &m),
                   MAIL_SASL_SEND_LINE); /* missing padding */
  ck_assert_str_eq(m.data, "*");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_SASL_BAD_CHALLENGE);

  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "CRAM-MD5", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, "PDE4 OTYu", &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "*");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_SASL_BAD_CHALLENGE);

  size_t big = MAIL_B64_ENCODED_LEN(MAIL_SASL_MAX_CHALLENGE + 3);
  char *huge = malloc(big + 1);
  memset(huge, 'A', big);
  huge[big] = '\0';
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "CRAM-MD5", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, huge, &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "*");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_SASL_BAD_CHALLENGE);
  free(huge);

  /* the RFC 2195 exchange through the protocol API */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "CRAM-MD5", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("<1896.697170952@postoffice.reston.mci.net>"), &m),
                   MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_server_aborts_midway)
{
  mail_sasl *s = new_sasl("user", "pencil");
  set_nonce(s, R5802_CNONCE);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1 PLAIN", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
  /* an authentication failure never falls back to another mechanism */
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_ERR_AUTH);
  ck_assert_int_eq(mail_sasl_outcome(s), MAIL_ERR_AUTH);
  /* another error reply */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_ERROR, NULL, &m), MAIL_ERR_SERVER);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_fallback_only_on_unsupported)
{
  mail_sasl *s = new_sasl("tim", "tanstaaftanstaaf");
  mail_sasl_set_tls(s, 1);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "LOGIN PLAIN SCRAM-SHA-1 CRAM-MD5", &m),
                   MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "SCRAM-SHA-1");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_UNSUPPORTED, NULL, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "CRAM-MD5");
  ck_assert_ptr_null(m.data);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_UNSUPPORTED, NULL, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "PLAIN");
  char want[64];
  want[mail_b64_encode("\0tim\0tanstaaftanstaaf", 21, want)] = '\0';
  ck_assert_str_eq(m.data, want);
  /* after "unsupported" for the last one: nothing left */
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_UNSUPPORTED, NULL, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "LOGIN");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_UNSUPPORTED, NULL, &m), MAIL_ERR_NO_MECHANISM);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_ir_rules)
{
  mail_sasl *s = new_sasl(NULL, NULL);
  mail_sasl_set_external(s, 1);
  mail_sasl_msg m;
  /* empty initial response: "=" */
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "EXTERNAL", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.data, "=");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  /* a profile without an empty marker sends none and answers the empty challenge */
  ck_assert_int_eq(mail_sasl_begin(s, &no_ir, "EXTERNAL", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_ptr_null(m.data);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, "", &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  /* too long for the command line: sent after the empty challenge */
  static const mail_sasl_profile tiny = {"smtp", 1, 8, "=", "*", 0};
  ck_assert_int_eq(mail_sasl_set_authzid(s, "a-rather-long-identity"), MAIL_OK);
  ck_assert_int_eq(mail_sasl_begin(s, &tiny, "EXTERNAL", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_ptr_null(m.data);
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, "", &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, b64("a-rather-long-identity"));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  mail_sasl_free(s);
}
END_TEST

START_TEST(proto_oauth_refresh_retry)
{
  token_state t = {0, 0, {"tok-1", "tok-2", NULL}, ""};
  mail_sasl *s = new_sasl("u@example.com", NULL);
  mail_sasl_set_tls(s, 1);
  mail_sasl_set_token_callback(s, token_cb, &t);
  mail_sasl_msg m;
  ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, "OAUTHBEARER", &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.data, b64("n,a=u@example.com,\x01" "auth=Bearer tok-1\x01\x01"));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(OAUTH_ERR), &m), MAIL_SASL_SEND_LINE);
  ck_assert_str_eq(m.data, "AQ==");
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m), MAIL_SASL_SEND_COMMAND);
  ck_assert_str_eq(m.mech, "OAUTHBEARER");
  ck_assert_str_eq(m.data, b64("n,a=u@example.com,\x01" "auth=Bearer tok-2\x01\x01"));
  ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m), MAIL_OK);
  ck_assert_int_eq(t.refreshes, 1);
  mail_sasl_free(s);
}
END_TEST

/* ------------------------------------------------------------ secrets */

/* An allocator that records every block and, when one is freed, scans it
 * for any of the forbidden strings. */
#define MAX_FORBIDDEN 16
typedef struct scan_alloc {
  const char *forbidden[MAX_FORBIDDEN];
  size_t nforbidden;
  int found;
  char what[128];
} scan_alloc;

typedef struct blk {
  size_t size;
  size_t pad;
} blk;

static void scan(scan_alloc *sa, const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < sa->nforbidden; i++) {
    size_t l = strlen(sa->forbidden[i]);
    if (l && memmem(p, n, sa->forbidden[i], l)) {
      sa->found++;
      snprintf(sa->what, sizeof sa->what, "%s", sa->forbidden[i]);
    }
  }
}

static void *sa_malloc(size_t n, void *u)
{
  (void)u;
  blk *b = malloc(sizeof *b + n);
  if (!b)
    return NULL;
  b->size = n;
  /* Defined contents, so scanning a block's unused tail reads no
   * uninitialised memory. */
  memset(b + 1, 0xA5, n);
  return b + 1;
}

static void sa_free(void *p, void *u)
{
  if (!p)
    return;
  blk *b = (blk *)p - 1;
  scan(u, p, b->size);
  free(b);
}

static void *sa_calloc(size_t m, size_t n, void *u)
{
  void *p = sa_malloc(m * n, u);
  if (p)
    memset(p, 0, m * n);
  return p;
}

static void *sa_realloc(void *p, size_t n, void *u)
{
  void *q = sa_malloc(n, u);
  if (q && p) {
    blk *b = (blk *)p - 1;
    memcpy(q, p, b->size < n ? b->size : n);
    sa_free(p, u);
  }
  return q;
}

static void forbid(scan_alloc *sa, const char *s)
{
  ck_assert_uint_lt(sa->nforbidden, MAX_FORBIDDEN);
  sa->forbidden[sa->nforbidden++] = s;
}

static void check_strings_clean(scan_alloc *sa, mail_sasl *s)
{
  for (int st = -200; st <= 0; st++) {
    const char *e = mail_strerror(st);
    scan(sa, (const unsigned char *)e, strlen(e));
  }
  for (int f = 1; f <= 5; f++) {
    const char *d = mail_sasl_error_detail(s, f);
    if (d)
      scan(sa, (const unsigned char *)d, strlen(d));
  }
}

static int never_refresh(void *user, mail_sasl *s, int refresh)
{
  (void)user;
  return refresh ? -1 : mail_sasl_set_oauth_token(s, "Secret-Token-0123456789abcdef");
}

START_TEST(secrets_never_left_in_freed_memory)
{
  static const char pass[] = "pencil-Secret-Pw-42";
  static const char token[] = "Secret-Token-0123456789abcdef";
  char pass_b64[64], token_b64[64];
  pass_b64[mail_b64_encode(pass, strlen(pass), pass_b64)] = '\0';
  token_b64[mail_b64_encode(token, strlen(token), token_b64)] = '\0';
  /* base64 of the password at each of the three alignments a message
   * may put it in */
  char a1[64], a2[64];
  char tmp[64];
  snprintf(tmp, sizeof tmp, "x%s", pass);
  a1[mail_b64_encode(tmp, strlen(tmp), a1)] = '\0';
  snprintf(tmp, sizeof tmp, "xy%s", pass);
  a2[mail_b64_encode(tmp, strlen(tmp), a2)] = '\0';

  scan_alloc sa = {{0}, 0, 0, ""};
  forbid(&sa, pass);
  forbid(&sa, token);
  forbid(&sa, pass_b64);
  forbid(&sa, token_b64);
  /* interior of the aligned encodings (skip the prefix characters) */
  forbid(&sa, a1 + 4);
  forbid(&sa, a2 + 4);
  mail_allocator A = {&sa, sa_malloc, sa_free, sa_calloc, sa_realloc};

  const char *mechs[] = {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
                         "SCRAM-SHA-256-PLUS", "XOAUTH2", "OAUTHBEARER", "EXTERNAL"};
  static const unsigned char cb[32] = {7};
  for (size_t i = 0; i < sizeof mechs / sizeof mechs[0]; i++) {
    mail_sasl *s = NULL;
    ck_assert_int_eq(mail_sasl_new(&s, &A), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_username(s, "user"), MAIL_OK);
    ck_assert_int_eq(mail_sasl_set_password(s, pass), MAIL_OK);
    mail_sasl_set_token_callback(s, never_refresh, NULL);
    mail_sasl_set_external(s, 1);
    mail_sasl_set_tls(s, 1);
    ck_assert_int_eq(mail_sasl_set_channel_binding(s, 1, cb, sizeof cb), MAIL_OK);
    /* replacing a password wipes the old copy */
    ck_assert_int_eq(mail_sasl_set_password(s, pass), MAIL_OK);
    set_nonce(s, R5802_CNONCE);
    mail_sasl_msg m;
    char server[64];
    snprintf(server, sizeof server, "%s", mechs[i]);
    ck_assert_int_eq(mail_sasl_begin(s, &smtp_like, server, &m), MAIL_SASL_SEND_COMMAND);
    /* drive each one through a couple of exchanges and a failure */
    if (!strcmp(mechs[i], "LOGIN") || !strcmp(mechs[i], "CRAM-MD5")) {
      ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64("<1.2@x>"), &m), MAIL_SASL_SEND_LINE);
      reply(s, MAIL_SASL_REPLY_CONTINUE, b64("Password:"), &m);
    } else if (!strncmp(mechs[i], "SCRAM", 5)) {
      ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m), MAIL_SASL_SEND_LINE);
      reply(s, MAIL_SASL_REPLY_CONTINUE, b64("v=AAAA"), &m);
    } else if (!strncmp(mechs[i], "XOAUTH2", 7) || !strncmp(mechs[i], "OAUTH", 5)) {
      ck_assert_int_eq(reply(s, MAIL_SASL_REPLY_CONTINUE, b64(OAUTH_ERR), &m), MAIL_SASL_SEND_LINE);
    }
    reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m);
    /* and once more to success through the raw API */
    const unsigned char *out;
    size_t n;
    if (mail_sasl_start(s, mechs[i], &out, &n) == MAIL_OK && !strcmp(mechs[i], "PLAIN"))
      ck_assert_int_eq(success_str(s, NULL), MAIL_OK);
    check_strings_clean(&sa, s);
    mail_sasl_free(s);
    ck_assert_msg(sa.found == 0, "%s: secret '%s' found in freed memory or strings", mechs[i],
                  sa.what);
  }
  /* SASLprep's own buffers (non-ASCII needs libidn; without it the
   * ASCII path, which copies too) */
  char *out = NULL;
#if MAIL_WITH_SASLPREP
  ck_assert_int_eq(mail_saslprep(&A, "I\xc2\xad" "pencil-Secret-Pw-42", &out), MAIL_OK);
#else
  ck_assert_int_eq(mail_saslprep(&A, "I\xc2\xad" "pencil-Secret-Pw-42", &out), MAIL_ERR_UNSUPPORTED);
  ck_assert_ptr_null(out);
  ck_assert_int_eq(mail_saslprep(&A, "pencil-Secret-Pw-42", &out), MAIL_OK);
#endif
  mail_dealloc_secret_str(&A, out);
  ck_assert_int_eq(sa.found, 0);
}
END_TEST

/* ------------------------------------------------------------ allocation failures */

/* Every mechanism through the protocol API; 1 when everything succeeded. */
static int alloc_scenario(const mail_allocator *A)
{
  mail_sasl *s = NULL;
  if (mail_sasl_new(&s, A))
    return 0;
  int ok = 0;
  mail_sasl_msg m;
  token_state t = {0, 0, {"tok-1", "tok-2", NULL}, ""};
  if (mail_sasl_set_username(s, "user") || mail_sasl_set_password(s, "pencil"))
    goto out;
  set_nonce(s, R5802_CNONCE);
  mail_sasl_set_tls(s, 1);
  if (mail_sasl_begin(s, &smtp_like, "SCRAM-SHA-1 PLAIN", &m) != MAIL_SASL_SEND_COMMAND ||
      reply(s, MAIL_SASL_REPLY_CONTINUE, b64(R5802_SFIRST), &m) != MAIL_SASL_SEND_LINE ||
      reply(s, MAIL_SASL_REPLY_SUCCESS, b64(R5802_SFINAL), &m) != MAIL_OK)
    goto out;
  if (mail_sasl_begin(s, &smtp_like, "CRAM-MD5", &m) != MAIL_SASL_SEND_COMMAND ||
      reply(s, MAIL_SASL_REPLY_CONTINUE, b64("<1.2@x>"), &m) != MAIL_SASL_SEND_LINE ||
      reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m) != MAIL_OK)
    goto out;
  if (mail_sasl_begin(s, &smtp_like, "PLAIN", &m) != MAIL_SASL_SEND_COMMAND ||
      reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m) != MAIL_OK)
    goto out;
  mail_sasl_set_token_callback(s, token_cb, &t);
  if (mail_sasl_set_mechanisms(s, "OAUTHBEARER") ||
      mail_sasl_begin(s, &smtp_like, "OAUTHBEARER", &m) != MAIL_SASL_SEND_COMMAND ||
      reply(s, MAIL_SASL_REPLY_CONTINUE, b64(OAUTH_ERR), &m) != MAIL_SASL_SEND_LINE ||
      reply(s, MAIL_SASL_REPLY_FAILURE, NULL, &m) != MAIL_SASL_SEND_COMMAND ||
      reply(s, MAIL_SASL_REPLY_SUCCESS, NULL, &m) != MAIL_OK)
    goto out;
  char *prepped = NULL;
#if MAIL_WITH_SASLPREP
  if (mail_saslprep(A, "I\xc2\xadX", &prepped))
#else
  if (mail_saslprep(A, "IX", &prepped)) /* non-ASCII needs libidn */
#endif
    goto out;
  mail_dealloc_secret_str(A, prepped);
  ok = 1;
out:
  mail_sasl_free(s);
  return ok;
}

static int alloc_scenario_status(void *user, mail_test_alloc *ta)
{
  return alloc_scenario(mail_test_alloc_hooks(ta)) ? MAIL_OK : MAIL_ERR_NOMEM;
}

/* A failed allocation makes the scenario report failure, never success. */
START_TEST(allocation_failures_every_n)
{
  MAIL_TEST_ASSERT_EACH_ALLOCATION("sasl", alloc_scenario_status, NULL, MAIL_OK,
                                   MAIL_TEST_NOMEM_EXACT);
}
END_TEST

/* A build without OpenSSL: no SCRAM or CRAM-MD5, the rest still works. */
START_TEST(without_crypto)
{
  unsigned char d[MAIL_MD_MAX_SIZE];
  ck_assert_int_eq(mail_crypto_digest(MAIL_MD_SHA1, "abc", 3, d), MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_crypto_hmac(MAIL_MD_MD5, "k", 1, "d", 1, d), MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_crypto_random(d, 4), MAIL_ERR_UNSUPPORTED);
  ck_assert(mail_crypto_memeq("ab", "ab", 2));
  mail_sasl *s = new_sasl("u", "p");
  mail_sasl_set_tls(s, 1);
  const unsigned char *out;
  size_t n;
  const char *mech;
  ck_assert_int_eq(mail_sasl_start(s, "SCRAM-SHA-256", &out, &n), MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_sasl_start(s, "CRAM-MD5", &out, &n), MAIL_ERR_UNSUPPORTED);
  ck_assert_int_eq(mail_sasl_select(s, "SCRAM-SHA-256 CRAM-MD5 PLAIN", &mech), MAIL_OK);
  ck_assert_str_eq(mech, "PLAIN");
  mail_sasl_free(s);
}
END_TEST

static Suite *sasl_suite(void)
{
  Suite *s = suite_create("sasl");
  TCase *t = tcase_create("saslprep");
  tcase_add_test(t, saslprep_rfc4013_examples);
  suite_add_tcase(s, t);
  t = tcase_create("simple");
  tcase_add_test(t, plain_rfc4616);
  tcase_add_test(t, login_exchange);
  tcase_add_test(t, external_exchange);
  suite_add_tcase(s, t);
  t = tcase_create("oauth");
  tcase_add_test(t, oauthbearer_error_refresh_once);
  tcase_add_test(t, xoauth2_and_bad_json);
  suite_add_tcase(s, t);
  if (!mail_crypto_available()) {
    t = tcase_create("nocrypto");
    tcase_add_test(t, without_crypto);
    suite_add_tcase(s, t);
    return s;
  }
  /* Everything below needs the crypto shim (SCRAM, CRAM-MD5). */
  t = tcase_create("crypto");
  tcase_add_test(t, crypto_vectors);
  suite_add_tcase(s, t);
  t = tcase_create("simple-crypto");
  tcase_add_test(t, setters_return_status);
  tcase_add_test(t, identity_crlfnul_rejected);
  tcase_add_test(t, plain_insecure);
  tcase_add_test(t, cram_md5_rfc2195);
  suite_add_tcase(s, t);
  t = tcase_create("scram");
  tcase_add_test(t, scram_sha1_rfc5802);
  tcase_add_test(t, scram_sha256_rfc7677);
  tcase_add_test(t, scram_salted_password_cache);
  tcase_add_test(t, scram_bad_server_signature);
  tcase_add_test(t, scram_hostile_server_first);
  tcase_add_test(t, scram_iteration_bounds_configurable);
  tcase_add_test(t, scram_gs2_and_escaping);
  suite_add_tcase(s, t);
  t = tcase_create("select");
  tcase_add_test(t, selection_matrix);
  tcase_add_test(t, fallback_order);
  suite_add_tcase(s, t);
  t = tcase_create("proto");
  tcase_add_test(t, proto_scram_with_ir);
  tcase_add_test(t, proto_scram_final_in_continuation);
  tcase_add_test(t, proto_bad_signature_aborts);
  tcase_add_test(t, proto_invalid_and_oversized_challenge);
  tcase_add_test(t, proto_server_aborts_midway);
  tcase_add_test(t, proto_fallback_only_on_unsupported);
  tcase_add_test(t, proto_ir_rules);
  tcase_add_test(t, proto_oauth_refresh_retry);
  tcase_add_test(t, proto_plus_downgrade_once);
  tcase_add_test(t, proto_plus_downgrade_refused);
  tcase_add_test(t, proto_plus_downgrade_new_connection);
  tcase_add_test(t, public_plus_downgrade);
  tcase_add_test(t, channel_binding_preference_values);
  tcase_add_test(t, queue_arguments);
  suite_add_tcase(s, t);
  t = tcase_create("secrets");
  tcase_add_test(t, secrets_never_left_in_freed_memory);
  suite_add_tcase(s, t);
  t = tcase_create("alloc");
  tcase_add_test(t, allocation_failures_every_n);
  suite_add_tcase(s, t);
  return s;
}

int main(void)
{
  SRunner *r = srunner_create(sasl_suite());
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* SCRAM-SHA-1 and SCRAM-SHA-256, with and without channel binding
 * (RFC 5802, RFC 7677; tls-unique and tls-server-end-point RFC 5929,
 * tls-exporter RFC 9266). The server must always prove it knows the password: a
 * success without a valid server signature is MAIL_ERR_SASL_SERVER. */
#include <mail/conn.h>
#include <string.h>

#include "core/base64.h"
#include "core/mem.h"
#include "sasl/sasl_mech.h"
#include "sasl/saslprep.h"

/* Nonce characters: printable, no ','. A random byte's low six bits pick
 * one, so every character is equally likely and a test can inject the
 * bytes that spell a known nonce. */
static const char nonce_chars[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#define NONCE_DEFAULT_LEN 32

static const char *cb_name(int type)
{
  switch (type) {
  case MAIL_CB_TLS_EXPORTER:
    return "tls-exporter";
  case MAIL_CB_TLS_UNIQUE:
    return "tls-unique";
  default:
    return "tls-server-end-point";
  }
}

static int scram_start(mail_sasl *s, mail_buf *out)
{
  const mail_sasl_mech *m = s->mech;
  int plus = (m->flags & MECH_PLUS) != 0;
  int rc;

  /* gs2 header: "p=<type>" when binding; "y" when we could bind but the
   * server did not offer the -PLUS variant (a server that does support it
   * then knows a man in the middle removed it); "n" otherwise, which
   * includes the downgrade retry after a refused -PLUS exchange: the
   * server advertised -PLUS, so "y" would make it refuse us (RFC 5802
   * section 6). */
  if (plus) {
    rc = mail_buf_appendf(&s->scram.gs2, "p=%s,", cb_name(s->cb_type));
  } else {
    char plusname[32];
    size_t nlen = strlen(m->name);
    memcpy(plusname, m->name, nlen);
    memcpy(plusname + nlen, "-PLUS", 6);
    int y = s->cb_len && !s->downgraded && s->server_mechs &&
            !mail_sasl_server_offers(s, plusname);
    rc = mail_buf_append_str(&s->scram.gs2, y ? "y," : "n,");
  }
  if (rc == MAIL_OK && s->authzid) {
    rc = mail_buf_append_str(&s->scram.gs2, "a=");
    if (rc == MAIL_OK)
      rc = mail_sasl_append_saslname(&s->scram.gs2, s->authzid);
  }
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(&s->scram.gs2, ',');
  if (rc)
    return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;

  size_t nlen = s->scram_nonce_len ? s->scram_nonce_len : NONCE_DEFAULT_LEN;
  if (nlen > sizeof s->scram.cnonce)
    nlen = sizeof s->scram.cnonce;
  unsigned char rnd[sizeof s->scram.cnonce];
  rc = mail_env_random(&s->env, rnd, nlen);
  if (rc)
    return rc;
  for (size_t i = 0; i < nlen; i++)
    s->scram.cnonce[i] = nonce_chars[rnd[i] & 63];
  s->scram.cnonce_len = nlen;
  mail_wipe(rnd, sizeof rnd);

  /* Prepare the password now only to refuse it before anything is sent;
   * it is prepared again when the salt arrives. */
  char *user = NULL;
  rc = mail_saslprep(&s->env.alloc, s->password, &user);
  mail_dealloc_secret_str(&s->env.alloc, user);
  user = NULL;
  if (rc == MAIL_OK)
    rc = mail_saslprep(&s->env.alloc, s->username, &user);
  if (rc)
    return rc;
  rc = mail_buf_append(&s->scram.auth, "n=", 2);
  if (rc == MAIL_OK)
    rc = mail_sasl_append_saslname(&s->scram.auth, user);
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, ",r=", 3);
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, s->scram.cnonce, s->scram.cnonce_len);
  mail_dealloc_secret_str(&s->env.alloc, user);
  s->scram.bare_len = s->scram.auth.len;
  if (rc == MAIL_OK)
    rc = mail_buf_append(out, s->scram.gs2.data, s->scram.gs2.len);
  if (rc == MAIL_OK)
    rc = mail_buf_append(out, s->scram.auth.data, s->scram.auth.len);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

/* One "x=value" attribute at *p of the server's message (which ends at
 * end). On success *p moves past the attribute and its ','. */
static int next_attr(const char **p, const char *end, char *name, const char **val,
                     size_t *vlen)
{
  const char *a = *p;
  if (end - a < 2 || a[1] != '=' || !((a[0] >= 'a' && a[0] <= 'z') || (a[0] >= 'A' && a[0] <= 'Z')))
    return -1;
  *name = a[0];
  const char *v = a + 2;
  const char *comma = memchr(v, ',', (size_t)(end - v));
  const char *vend = comma ? comma : end;
  *val = v;
  *vlen = (size_t)(vend - v);
  *p = comma ? comma + 1 : end;
  return 0;
}

/* A decimal iteration count without sign or spaces. */
static int parse_iterations(const char *v, size_t n, unsigned long *out)
{
  if (n == 0 || n > 9 || v[0] == '0')
    return -1;
  unsigned long x = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i] < '0' || v[i] > '9')
      return -1;
    x = x * 10 + (unsigned long)(v[i] - '0');
  }
  *out = x;
  return 0;
}

static int record_server_error(mail_sasl *s, const char *v, size_t n)
{
  int rc = mail_sasl_set_detail(s, MAIL_SASL_DETAIL_SCRAM_ERROR, v, n);
  return rc ? rc : MAIL_ERR_AUTH;
}

static int append_b64(mail_buf *b, const unsigned char *in, size_t n)
{
  int rc = mail_buf_reserve(b, MAIL_B64_ENCODED_LEN(n));
  if (rc)
    return rc;
  b->len += mail_b64_encode(in, n, (char *)b->data + b->len);
  return MAIL_OK;
}

static int cache_hit(const mail_sasl *s, int md, unsigned long iter, const unsigned char *salt,
                     size_t salt_len)
{
  return s->scram_cache.valid && s->scram_cache.md == md && s->scram_cache.iter == iter &&
         s->scram_cache.salt_len == salt_len && memcmp(s->scram_cache.salt, salt, salt_len) == 0;
}

static void cache_store(mail_sasl *s, int md, unsigned long iter, const unsigned char *salt,
                        size_t salt_len, const unsigned char *salted, size_t hlen)
{
  mail_sasl_scram_cache_clear(s);
  if (salt_len > sizeof s->scram_cache.salt)
    return;
  s->scram_cache.md = md;
  s->scram_cache.iter = iter;
  s->scram_cache.salt_len = salt_len;
  memcpy(s->scram_cache.salt, salt, salt_len);
  memcpy(s->scram_cache.salted, salted, hlen);
  s->scram_cache.valid = 1;
}

/* server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count ["," extensions] */
static int scram_client_final(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  const char *msg = (const char *)in, *end = msg + n, *p = msg;
  char name;
  const char *nonce, *salt_b64, *iter_s;
  size_t nonce_len, salt_len, iter_len;

  if (memchr(msg, '\0', n))
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (next_attr(&p, end, &name, &nonce, &nonce_len))
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (name == 'e')
    return record_server_error(s, nonce, nonce_len);
  if (name != 'r')   /* 'm' (a mandatory extension) lands here too */
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (next_attr(&p, end, &name, &salt_b64, &salt_len) || name != 's')
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (next_attr(&p, end, &name, &iter_s, &iter_len) || name != 'i')
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  /* The combined nonce extends ours with at least one server character. */
  if (nonce_len <= s->scram.cnonce_len ||
      memcmp(nonce, s->scram.cnonce, s->scram.cnonce_len) != 0)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  for (size_t i = 0; i < nonce_len; i++)
    if (nonce[i] < 0x21 || nonce[i] > 0x7E)
      return MAIL_ERR_SASL_BAD_CHALLENGE;
  unsigned long iter;
  if (parse_iterations(iter_s, iter_len, &iter) || iter < s->scram_min || iter > s->scram_max)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (salt_len == 0)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  unsigned char *salt = mail_malloc(&s->env.alloc, MAIL_B64_DECODED_MAX(salt_len));
  if (!salt)
    return MAIL_ERR_NOMEM;
  long slen = mail_b64_decode_strict(salt_b64, salt_len, salt);
  if (slen <= 0) {
    mail_dealloc(&s->env.alloc, salt);
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  }

  int md = s->mech->md;
  size_t hlen = mail_md_size(md);
  unsigned char salted[MAIL_MD_MAX_SIZE], client_key[MAIL_MD_MAX_SIZE];
  unsigned char stored_key[MAIL_MD_MAX_SIZE], server_key[MAIL_MD_MAX_SIZE];
  unsigned char client_sig[MAIL_MD_MAX_SIZE], proof[MAIL_MD_MAX_SIZE];
  char *pass = NULL;
  mail_buf cbind;
  mail_buf_init(&cbind, &s->env.alloc, 2048);
  mail_buf_set_sensitive(&cbind);

  int rc = MAIL_OK;
  if (cache_hit(s, md, iter, salt, (size_t)slen)) {
    memcpy(salted, s->scram_cache.salted, hlen);
  } else {
    rc = mail_saslprep(&s->env.alloc, s->password, &pass);
    if (rc == MAIL_OK)
      rc = mail_crypto_hook_pbkdf2(&s->crypto, md, pass, strlen(pass), salt, (size_t)slen, (unsigned int)iter,
                              salted, hlen);
    if (rc == MAIL_OK)
      cache_store(s, md, iter, salt, (size_t)slen, salted, hlen);
  }
  if (rc == MAIL_OK)
    rc = mail_crypto_hook_hmac(&s->crypto, md, salted, hlen, "Client Key", 10, client_key);
  if (rc == MAIL_OK)
    rc = mail_crypto_hook_digest(&s->crypto, md, client_key, hlen, stored_key);
  if (rc == MAIL_OK)
    rc = mail_crypto_hook_hmac(&s->crypto, md, salted, hlen, "Server Key", 10, server_key);

  /* client-final-message-without-proof = "c=" base64(gs2 header [cbind-data]) ",r=" nonce */
  if (rc == MAIL_OK)
    rc = mail_buf_append(&cbind, s->scram.gs2.data, s->scram.gs2.len);
  if (rc == MAIL_OK && (s->mech->flags & MECH_PLUS))
    rc = mail_buf_append(&cbind, s->cb_data, s->cb_len);
  size_t final_start = 0;
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, ",", 1);
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, msg, n);
  if (rc == MAIL_OK) {
    rc = mail_buf_append(&s->scram.auth, ",c=", 3);
    final_start = s->scram.auth.len - 2;
  }
  if (rc == MAIL_OK)
    rc = append_b64(&s->scram.auth, cbind.data, cbind.len);
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, ",r=", 3);
  if (rc == MAIL_OK)
    rc = mail_buf_append(&s->scram.auth, nonce, nonce_len);
  /* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
  if (rc == MAIL_OK)
    rc = mail_crypto_hook_hmac(&s->crypto, md, stored_key, hlen, s->scram.auth.data, s->scram.auth.len,
                          client_sig);
  if (rc == MAIL_OK)
    rc = mail_crypto_hook_hmac(&s->crypto, md, server_key, hlen, s->scram.auth.data, s->scram.auth.len,
                          s->scram.server_sig);
  if (rc == MAIL_OK) {
    for (size_t i = 0; i < hlen; i++)
      proof[i] = client_key[i] ^ client_sig[i];
    rc = mail_buf_append(out, s->scram.auth.data + final_start,
                         s->scram.auth.len - final_start);
  }
  if (rc == MAIL_OK)
    rc = mail_buf_append(out, ",p=", 3);
  if (rc == MAIL_OK)
    rc = append_b64(out, proof, hlen);

  mail_wipe(salted, sizeof salted);
  mail_wipe(client_key, sizeof client_key);
  mail_wipe(stored_key, sizeof stored_key);
  mail_wipe(server_key, sizeof server_key);
  mail_wipe(client_sig, sizeof client_sig);
  mail_wipe(proof, sizeof proof);
  mail_dealloc_secret_str(&s->env.alloc, pass);
  mail_buf_free(&cbind);
  mail_dealloc(&s->env.alloc, salt);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_SASL_BAD_CHALLENGE : rc;
}

/* server-final-message = (server-error / verifier) ["," extensions].
 * MAIL_OK when the verifier matches, MAIL_ERR_AUTH for "e=",
 * MAIL_ERR_SASL_SERVER for a wrong or malformed verifier. */
static int scram_verify(mail_sasl *s, const unsigned char *in, size_t n)
{
  const char *msg = (const char *)in, *p = msg;
  char name;
  const char *v;
  size_t vlen;
  if (memchr(msg, '\0', n) || next_attr(&p, msg + n, &name, &v, &vlen))
    return MAIL_ERR_SASL_SERVER;
  if (name == 'e')
    return record_server_error(s, v, vlen);
  if (name != 'v' || vlen > 4 * MAIL_MD_MAX_SIZE)
    return MAIL_ERR_SASL_SERVER;
  unsigned char sig[MAIL_B64_DECODED_MAX(4 * MAIL_MD_MAX_SIZE)];
  long slen = mail_b64_decode_strict(v, vlen, sig);
  size_t hlen = mail_md_size(s->mech->md);
  if (slen < 0 || (size_t)slen != hlen || !mail_crypto_memeq(sig, s->scram.server_sig, hlen))
    return MAIL_ERR_SASL_SERVER;
  s->scram.verified = 1;
  return MAIL_OK;
}

static int scram_step(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  (void)out;
  switch (s->phase++) {
  case 0:
    return scram_client_final(s, in, n, out);
  case 1:
    /* server-final in a continuation (IMAP, SMTP 334): verified here,
     * answered with an empty response, then the server's success. */
    return scram_verify(s, in, n);
  default:
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  }
}

static int scram_success(mail_sasl *s, const unsigned char *in, size_t n)
{
  if (s->scram.verified)
    return MAIL_OK;
  if (s->phase != 1 || n == 0)
    return MAIL_ERR_SASL_SERVER;
  int rc = scram_verify(s, in, n);
  /* An "e=" inside a success reply is a contradiction, not a proof. */
  return rc == MAIL_OK ? MAIL_OK : MAIL_ERR_SASL_SERVER;
}

#define SCRAM_FLAGS (MECH_CLIENT_FIRST | MECH_PASSWORD | MECH_CRYPTO)

const mail_sasl_mech mail_sasl_mech_scram_sha1 = {
  "SCRAM-SHA-1", SCRAM_FLAGS, MAIL_MD_SHA1, scram_start, scram_step, scram_success
};
const mail_sasl_mech mail_sasl_mech_scram_sha1_plus = {
  "SCRAM-SHA-1-PLUS", SCRAM_FLAGS | MECH_PLUS, MAIL_MD_SHA1, scram_start, scram_step,
  scram_success
};
const mail_sasl_mech mail_sasl_mech_scram_sha256 = {
  "SCRAM-SHA-256", SCRAM_FLAGS, MAIL_MD_SHA256, scram_start, scram_step, scram_success
};
const mail_sasl_mech mail_sasl_mech_scram_sha256_plus = {
  "SCRAM-SHA-256-PLUS", SCRAM_FLAGS | MECH_PLUS, MAIL_MD_SHA256, scram_start, scram_step,
  scram_success
};

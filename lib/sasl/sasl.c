/* The SASL client engine: settings, mechanism choice and the exchange
 * state machine shared by every mechanism. */
#include "sasl/sasl_internal.h"
#include "sasl/sasl_mech.h"

#include <mail/conn.h>
#include <string.h>
#include <strings.h>

#include "core/base64.h"
#include "core/mem.h"
#include "sasl/saslprep.h"

/* The default order of preference: strongest first; mechanisms that need
 * something the caller did not configure are skipped. */
static const mail_sasl_mech *const default_order[] = {
  &mail_sasl_mech_scram_sha256_plus,
  &mail_sasl_mech_scram_sha256,
  &mail_sasl_mech_scram_sha1_plus,
  &mail_sasl_mech_scram_sha1,
  &mail_sasl_mech_oauthbearer,
  &mail_sasl_mech_xoauth2,
  &mail_sasl_mech_external,
  &mail_sasl_mech_cram_md5,
  &mail_sasl_mech_plain,
  &mail_sasl_mech_login,
};
#define NDEFAULT (sizeof default_order / sizeof default_order[0])

const mail_sasl_mech *mail_sasl_mech_find(const char *name, size_t len)
{
  for (size_t i = 0; i < NDEFAULT; i++) {
    const char *n = default_order[i]->name;
    if (strlen(n) == len && strncasecmp(n, name, len) == 0)
      return default_order[i];
  }
  return NULL;
}

int mail_sasl_new(mail_sasl **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_env env;
  int rc = mail_env_init(&env, alloc);
  if (rc)
    return rc;
  mail_sasl *s = mail_calloc(&env.alloc, 1, sizeof *s);
  if (!s)
    return MAIL_ERR_NOMEM;
  s->env = env;
  s->scram_min = MAIL_SASL_SCRAM_MIN_ITERATIONS;
  s->scram_max = MAIL_SASL_SCRAM_MAX_ITERATIONS;
  s->outcome = MAIL_ERR_AGAIN;
  /* Every buffer may hold a credential or a response derived from one. */
  mail_buf_init(&s->first, &s->env.alloc, 64 * 1024);
  mail_buf_init(&s->out, &s->env.alloc, 64 * 1024);
  mail_buf_init(&s->scram.auth, &s->env.alloc, 64 * 1024);
  mail_buf_init(&s->scram.gs2, &s->env.alloc, 1024);
  mail_buf_init(&s->line, &s->env.alloc, 128 * 1024);
  mail_buf_set_sensitive(&s->line);
  mail_buf_set_sensitive(&s->first);
  mail_buf_set_sensitive(&s->out);
  mail_buf_set_sensitive(&s->scram.auth);
  mail_buf_set_sensitive(&s->scram.gs2);
  *out = s;
  return MAIL_OK;
}

void mail_sasl_mech_reset(mail_sasl *s)
{
  s->phase = 0;
  mail_buf_clear(&s->scram.auth);
  mail_buf_clear(&s->scram.gs2);
  s->scram.bare_len = 0;
  mail_wipe(s->scram.cnonce, sizeof s->scram.cnonce);
  s->scram.cnonce_len = 0;
  mail_wipe(s->scram.server_sig, sizeof s->scram.server_sig);
  s->scram.verified = 0;
}

void mail_sasl_scram_cache_clear(mail_sasl *s)
{
  mail_wipe(&s->scram_cache, sizeof s->scram_cache);
}

static void clear_details(mail_sasl *s)
{
  for (size_t i = 0; i < sizeof s->detail / sizeof s->detail[0]; i++) {
    mail_dealloc(&s->env.alloc, s->detail[i]);
    s->detail[i] = NULL;
  }
}

void mail_sasl_free(mail_sasl *s)
{
  if (!s)
    return;
  mail_allocator a = s->env.alloc;
  mail_sasl_mech_reset(s);
  mail_sasl_scram_cache_clear(s);
  mail_buf_free(&s->first);
  mail_buf_free(&s->out);
  mail_buf_free(&s->scram.auth);
  mail_buf_free(&s->scram.gs2);
  mail_buf_free(&s->line);
  mail_dealloc_secret_str(&a, s->username);
  mail_dealloc_secret_str(&a, s->password);
  mail_dealloc_secret_str(&a, s->authzid);
  mail_dealloc_secret_str(&a, s->token);
  mail_dealloc(&a, s->oauth_host);
  mail_dealloc(&a, s->server_mechs);
  clear_details(s);
  mail_dealloc_secret(&a, s, sizeof *s);
}

/* ---------------------------------------------------------------- settings */

/* Replace *slot with a copy of v (wiping the old value). */
static int replace_str(mail_sasl *s, char **slot, const char *v)
{
  char *copy = NULL;
  if (v) {
    copy = mail_strdup(&s->env.alloc, v);
    if (!copy)
      return MAIL_ERR_NOMEM;
  }
  mail_dealloc_secret_str(&s->env.alloc, *slot);
  *slot = copy;
  return MAIL_OK;
}

static int valid_identity(const char *v)
{
  size_t n = strlen(v);
  return !mail_has_crlfnul(v, n) && mail_utf8_valid(v, n);
}

int mail_sasl_set_username(mail_sasl *s, const char *authcid)
{
  if (!s || (authcid && !valid_identity(authcid)))
    return MAIL_ERR_INVALID;
  mail_sasl_scram_cache_clear(s);
  return replace_str(s, &s->username, authcid);
}

int mail_sasl_set_password(mail_sasl *s, const char *password)
{
  /* Any bytes: LOGIN and CRAM-MD5 use the password as it is (legacy
   * servers may store non-UTF-8 ones); SCRAM and PLAIN check it when
   * SASLprep prepares it. It only ever travels base64-encoded. */
  if (!s)
    return MAIL_ERR_INVALID;
  mail_sasl_scram_cache_clear(s);
  return replace_str(s, &s->password, password);
}

int mail_sasl_set_authzid(mail_sasl *s, const char *authzid)
{
  if (!s || (authzid && !valid_identity(authzid)))
    return MAIL_ERR_INVALID;
  return replace_str(s, &s->authzid, authzid);
}

int mail_sasl_set_oauth_token(mail_sasl *s, const char *token)
{
  /* A token travels inside a ^A-separated line: none of these may appear. */
  if (!s || (token && (mail_has_crlfnul(token, strlen(token)) || strchr(token, '\x01'))))
    return MAIL_ERR_INVALID;
  return replace_str(s, &s->token, token);
}

int mail_sasl_set_token_callback(mail_sasl *s, mail_sasl_token_fn fn, void *user)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->token_fn = fn;
  s->token_user = fn ? user : NULL;
  return MAIL_OK;
}

int mail_sasl_set_oauth_host(mail_sasl *s, const char *host, unsigned int port)
{
  if (!s || port > 65535 ||
      (host && (mail_has_crlfnul(host, strlen(host)) || strchr(host, '\x01'))))
    return MAIL_ERR_INVALID;
  int rc = replace_str(s, &s->oauth_host, host);
  if (rc == MAIL_OK)
    s->oauth_port = port;
  return rc;
}

int mail_sasl_set_external(mail_sasl *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->external = on != 0;
  return MAIL_OK;
}

int mail_sasl_set_tls(mail_sasl *s, int protected_link)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->tls = protected_link != 0;
  return MAIL_OK;
}

int mail_sasl_set_allow_insecure_plaintext(mail_sasl *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->allow_insecure = on != 0;
  return MAIL_OK;
}

int mail_sasl_set_channel_binding(mail_sasl *s, int type, const unsigned char *data, size_t len)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (!data) {
    mail_wipe(s->cb_data, sizeof s->cb_data);
    s->cb_len = 0;
    s->cb_type = 0;
    return MAIL_OK;
  }
  if (type < MAIL_CB_TLS_EXPORTER || type > MAIL_CB_TLS_UNIQUE || len == 0 ||
      len > sizeof s->cb_data)
    return MAIL_ERR_INVALID;
  memcpy(s->cb_data, data, len);
  s->cb_len = len;
  s->cb_type = type;
  return MAIL_OK;
}

int mail_sasl_set_channel_binding_preference(mail_sasl *s, int type)
{
  if (!s || type < 0 || type > MAIL_CB_TLS_UNIQUE)
    return MAIL_ERR_INVALID;
  s->cb_prefer = type;
  return MAIL_OK;
}

int mail_sasl_set_allow_channel_binding_downgrade(mail_sasl *s, int on)
{
  if (!s)
    return MAIL_ERR_INVALID;
  s->cb_no_downgrade = on == 0;
  return MAIL_OK;
}

int mail_sasl_set_mechanisms(mail_sasl *s, const char *list)
{
  if (!s)
    return MAIL_ERR_INVALID;
  if (!list) {
    s->nallow = 0;
    return MAIL_OK;
  }
  const mail_sasl_mech *tmp[MAIL_SASL_MAX_MECHS];
  size_t n = 0;
  const char *p = list;
  while (*p) {
    size_t skip = strspn(p, " ,\t");
    p += skip;
    size_t len = strcspn(p, " ,\t");
    if (!len)
      break;
    const mail_sasl_mech *m = mail_sasl_mech_find(p, len);
    if (!m)
      return MAIL_ERR_INVALID;
    int dup = 0;
    for (size_t i = 0; i < n; i++)
      dup |= tmp[i] == m;
    if (!dup) {
      if (n == MAIL_SASL_MAX_MECHS)
        return MAIL_ERR_INVALID;
      tmp[n++] = m;
    }
    p += len;
  }
  if (!n)
    return MAIL_ERR_INVALID;
  memcpy(s->allow, tmp, n * sizeof tmp[0]);
  s->nallow = n;
  return MAIL_OK;
}

int mail_sasl_set_scram_iterations(mail_sasl *s, unsigned int min, unsigned int max)
{
  if (!s || min < 1 || min > max || max > 100000000u)
    return MAIL_ERR_INVALID;
  s->scram_min = min;
  s->scram_max = max;
  return MAIL_OK;
}

int mail_sasl_set_random(mail_sasl *s, mail_random_fn fn, void *user)
{
  if (!s)
    return MAIL_ERR_INVALID;
  mail_env_set_random(&s->env, fn, user);
  return MAIL_OK;
}

int mail_sasl_set_crypto(mail_sasl *s, const mail_crypto_ops *ops, void *user)
{
  if (!s)
    return MAIL_ERR_INVALID;
  return mail_crypto_hook_set(&s->crypto, ops, user);
}

int mail_sasl_crypto_digest(const mail_sasl *s, int md, const void *data, size_t len,
                            unsigned char *out)
{
  return mail_crypto_hook_digest(s ? &s->crypto : NULL, md, data, len, out);
}

int mail_sasl_set_detail(mail_sasl *s, int field, const char *text, size_t len)
{
  if (field < 1 || field > 5)
    return MAIL_ERR_INVALID;
  char *copy = NULL;
  if (text) {
    copy = mail_strndup(&s->env.alloc, text, len);
    if (!copy)
      return MAIL_ERR_NOMEM;
  }
  mail_dealloc(&s->env.alloc, s->detail[field]);
  s->detail[field] = copy;
  return MAIL_OK;
}

const char *mail_sasl_error_detail(const mail_sasl *s, int field)
{
  if (!s || field < 1 || field > 5)
    return NULL;
  return s->detail[field];
}

int mail_sasl_append_saslname(mail_buf *b, const char *v)
{
  int rc = MAIL_OK;
  for (; *v && rc == MAIL_OK; v++) {
    if (*v == ',')
      rc = mail_buf_append(b, "=2C", 3);
    else if (*v == '=')
      rc = mail_buf_append(b, "=3D", 3);
    else
      rc = mail_buf_append_byte(b, (unsigned char)*v);
  }
  return rc;
}

/* ---------------------------------------------------------------- selection */

int mail_sasl_mech_usable(const mail_sasl *s, const mail_sasl_mech *m)
{
  if ((m->flags & MECH_CRYPTO) && !mail_crypto_hook_available(&s->crypto))
    return MAIL_ERR_UNSUPPORTED;
  if ((m->flags & MECH_PLUS) && !s->cb_len)
    return MAIL_ERR_UNSUPPORTED;
  if ((m->flags & MECH_PASSWORD) && (!s->username || !s->password))
    return MAIL_ERR_INVALID;
  if ((m->flags & MECH_TOKEN) && !s->token && !s->token_fn)
    return MAIL_ERR_INVALID;
  if (m == &mail_sasl_mech_xoauth2 && !s->username)
    return MAIL_ERR_INVALID;
  if ((m->flags & MECH_EXTERNAL) && !s->external)
    return MAIL_ERR_INVALID;
  if ((m->flags & MECH_CLEARTEXT) && !s->tls && !s->allow_insecure)
    return MAIL_ERR_INSECURE;
  return MAIL_OK;
}

int mail_sasl_server_offers(const mail_sasl *s, const char *name)
{
  if (!s->server_mechs)
    return 0;
  size_t nlen = strlen(name);
  const char *p = s->server_mechs;
  while (*p) {
    p += strspn(p, " \t");
    size_t len = strcspn(p, " \t");
    if (len == nlen && strncasecmp(p, name, len) == 0)
      return 1;
    p += len;
  }
  return 0;
}

int mail_sasl_select(mail_sasl *s, const char *server_mechs, const char **mech)
{
  if (mech)
    *mech = NULL;
  if (!s || !server_mechs || !mech)
    return MAIL_ERR_INVALID;
  char *copy = mail_strdup(&s->env.alloc, server_mechs);
  if (!copy)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&s->env.alloc, s->server_mechs);
  s->server_mechs = copy;
  s->downgraded = 0; /* a new login: its own single retry */

  const mail_sasl_mech *const *order = s->nallow ? s->allow : default_order;
  size_t norder = s->nallow ? s->nallow : NDEFAULT;
  int insecure = 0;
  s->ncand = s->icand = 0;
  for (size_t i = 0; i < norder; i++) {
    if (!mail_sasl_server_offers(s, order[i]->name))
      continue;
    int rc = mail_sasl_mech_usable(s, order[i]);
    if (rc == MAIL_ERR_INSECURE)
      insecure = 1;
    if (rc == MAIL_OK)
      s->cand[s->ncand++] = order[i];
  }
  if (!s->ncand)
    return insecure ? MAIL_ERR_INSECURE : MAIL_ERR_NO_MECHANISM;
  *mech = s->cand[0]->name;
  return MAIL_OK;
}

int mail_sasl_next_mechanism(mail_sasl *s, const char **mech)
{
  if (mech)
    *mech = NULL;
  if (!s || !mech)
    return MAIL_ERR_INVALID;
  if (s->icand + 1 >= s->ncand)
    return MAIL_ERR_NO_MECHANISM;
  s->icand++;
  *mech = s->cand[s->icand]->name;
  return MAIL_OK;
}

/* The SCRAM mechanism m is with channel binding stripped, or NULL. */
static const mail_sasl_mech *unbound(const mail_sasl_mech *m)
{
  if (m == &mail_sasl_mech_scram_sha256_plus)
    return &mail_sasl_mech_scram_sha256;
  if (m == &mail_sasl_mech_scram_sha1_plus)
    return &mail_sasl_mech_scram_sha1;
  return NULL;
}

/* 1 when m is in the caller's allow-list (any mechanism without one). */
static int allowed(const mail_sasl *s, const mail_sasl_mech *m)
{
  if (!s->nallow)
    return 1;
  for (size_t i = 0; i < s->nallow; i++)
    if (s->allow[i] == m)
      return 1;
  return 0;
}

int mail_sasl_downgrade_channel_binding(mail_sasl *s, const char **mech)
{
  if (mech)
    *mech = NULL;
  if (!s || !mech)
    return MAIL_ERR_INVALID;
  const mail_sasl_mech *m = s->mech ? unbound(s->mech) : NULL;
  /* Once per login, only after the server refused the credentials (not
   * after a bad challenge or a server that failed to prove itself), and
   * only on a verified link, where a man in the middle would need a
   * certificate we trust: there the binding is a second line of defence,
   * which the caller may insist on. */
  if (!m || s->state != SASL_FAILED || s->outcome != MAIL_ERR_AUTH || !s->tls ||
      s->cb_no_downgrade || s->downgraded || !allowed(s, m) ||
      !mail_sasl_server_offers(s, m->name) || mail_sasl_mech_usable(s, m) != MAIL_OK)
    return MAIL_ERR_AUTH;
  s->downgraded = 1;
  *mech = m->name;
  return MAIL_OK;
}

/* ---------------------------------------------------------------- exchange */

int mail_sasl_fail(mail_sasl *s, int rc)
{
  s->state = SASL_FAILED;
  s->outcome = rc;
  mail_buf_clear(&s->out);
  mail_buf_clear(&s->first);
  mail_sasl_mech_reset(s);
  return rc;
}

static void set_out(const mail_sasl *s, const unsigned char **out, size_t *out_len)
{
  /* An empty response still needs a non-NULL pointer: NULL means "no
   * message" only from mail_sasl_start(). */
  static const unsigned char empty[1] = {0};
  *out = s->out.len ? s->out.data : empty;
  *out_len = s->out.len;
}

int mail_sasl_start(mail_sasl *s, const char *name, const unsigned char **out, size_t *out_len)
{
  if (out)
    *out = NULL;
  if (out_len)
    *out_len = 0;
  if (!s || !name || !out || !out_len)
    return MAIL_ERR_INVALID;
  const mail_sasl_mech *m = mail_sasl_mech_find(name, strlen(name));
  if (!m)
    return MAIL_ERR_UNSUPPORTED;
  s->mech = m;
  s->steps = 0;
  s->state = SASL_RUNNING;
  s->outcome = MAIL_ERR_AGAIN;
  mail_buf_clear(&s->out);
  mail_buf_clear(&s->first);
  mail_sasl_mech_reset(s);
  if (!s->refreshed)
    clear_details(s);

  int rc = mail_sasl_mech_usable(s, m);
  if (rc)
    return mail_sasl_fail(s, rc);
  if ((m->flags & MECH_TOKEN) && !s->token) {
    if (s->token_fn(s->token_user, s, 0) != 0 || !s->token)
      return mail_sasl_fail(s, MAIL_ERR_CALLBACK);
  }
  rc = m->start(s, &s->out);
  if (rc)
    return mail_sasl_fail(s, rc);
  if (m->flags & MECH_CLIENT_FIRST) {
    rc = mail_buf_append(&s->first, s->out.data, s->out.len);
    if (rc)
      return mail_sasl_fail(s, rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc);
    set_out(s, out, out_len);
  }
  return MAIL_OK;
}

int mail_sasl_step(mail_sasl *s, const unsigned char *in, size_t n, const unsigned char **out,
                   size_t *out_len)
{
  if (out)
    *out = NULL;
  if (out_len)
    *out_len = 0;
  if (!s || !out || !out_len || (!in && n))
    return MAIL_ERR_INVALID;
  if (s->state != SASL_RUNNING)
    return MAIL_ERR_STATE;
  if (n > MAIL_SASL_MAX_CHALLENGE)
    return mail_sasl_fail(s, MAIL_ERR_SASL_BAD_CHALLENGE);
  mail_buf_clear(&s->out);
  int rc;
  if (s->steps == 0 && n == 0 && (s->mech->flags & MECH_CLIENT_FIRST)) {
    /* The initial message was not sent with the command (no SASL-IR, or
     * too long): the server asks for it with an empty challenge. */
    rc = mail_buf_append(&s->out, s->first.data, s->first.len);
  } else {
    rc = s->mech->step(s, in ? in : (const unsigned char *)"", n, &s->out);
  }
  s->steps++;
  if (rc)
    return mail_sasl_fail(s, rc);
  set_out(s, out, out_len);
  return MAIL_OK;
}

int mail_sasl_success(mail_sasl *s, const unsigned char *data, size_t n)
{
  if (!s || (!data && n))
    return MAIL_ERR_INVALID;
  if (s->state != SASL_RUNNING)
    return MAIL_ERR_STATE;
  if (n > MAIL_SASL_MAX_CHALLENGE)
    return mail_sasl_fail(s, MAIL_ERR_SASL_SERVER);
  if (s->mech->success) {
    int rc = s->mech->success(s, data ? data : (const unsigned char *)"", n);
    if (rc)
      return mail_sasl_fail(s, rc);
  }
  s->state = SASL_DONE;
  s->outcome = MAIL_OK;
  mail_buf_clear(&s->out);
  mail_buf_clear(&s->first);
  mail_sasl_mech_reset(s);
  return MAIL_OK;
}

int mail_sasl_failure(mail_sasl *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  const mail_sasl_mech *m = s->mech;
  mail_sasl_fail(s, MAIL_ERR_AUTH);
  if (!m || !(m->flags & MECH_TOKEN) || !s->token_fn || s->refreshed)
    return MAIL_ERR_AUTH;
  /* One refresh per handle: a server that keeps refusing fresh tokens
   * must not make us loop. */
  s->refreshed = 1;
  mail_dealloc_secret_str(&s->env.alloc, s->token);
  s->token = NULL;
  if (s->token_fn(s->token_user, s, 1) != 0 || !s->token)
    return MAIL_ERR_AUTH;
  s->state = SASL_IDLE;
  s->outcome = MAIL_ERR_AGAIN;
  return MAIL_OK;
}

int mail_sasl_outcome(const mail_sasl *s)
{
  return s ? s->outcome : MAIL_ERR_INVALID;
}

const char *mail_sasl_mechanism(const mail_sasl *s)
{
  return s && s->mech ? s->mech->name : NULL;
}

/* ---------------------------------------------------------------- base64 */

int mail_sasl_b64_encode(size_t *out_len, char *out, size_t cap, const unsigned char *in, size_t len)
{
  if ((!in && len) || !out || len > (SIZE_MAX / 4) * 3 - 3)
    return MAIL_ERR_INVALID;
  size_t need = MAIL_B64_ENCODED_LEN(len) + 1;
  if (cap < need)
    return MAIL_ERR_BUFFER;
  size_t n = mail_b64_encode(in ? in : (const unsigned char *)"", len, out);
  out[n] = '\0';
  if (out_len)
    *out_len = n;
  return MAIL_OK;
}

int mail_sasl_b64_decode(size_t *out_len, unsigned char *out, size_t cap, const char *in, size_t len)
{
  if ((!in && len) || !out)
    return MAIL_ERR_INVALID;
  if (cap < MAIL_B64_DECODED_MAX(len))
    return MAIL_ERR_BUFFER;
  long n = mail_b64_decode_strict(in ? in : "", len, out);
  if (n < 0)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  if (out_len)
    *out_len = (size_t)n;
  return MAIL_OK;
}

/* OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's older form). A rejected
 * token comes back as a JSON error in a challenge; the client must answer
 * it (^A for OAUTHBEARER, an empty line for XOAUTH2) before the server
 * reports the failure, after which sasl.c may refresh the token once. */
#include <string.h>

#include "core/mem.h"
#include "sasl/sasl_mech.h"

/* ---------------------------------------------------------------- JSON */

/* A tiny reader for the one flat object the server sends. Only string
 * values of top-level keys are extracted; anything else is skipped. */
typedef struct jreader {
  const char *p, *end;
} jreader;

static void jskip_ws(jreader *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
    j->p++;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse a string at j->p (which is '"'); decode it into b when b is not
 * NULL. -1: malformed; JSTRING_NOMEM: b could not grow. */
#define JSTRING_NOMEM (-2)
static int jstring(jreader *j, mail_buf *b)
{
  if (j->p >= j->end || *j->p != '"')
    return -1;
  j->p++;
  while (j->p < j->end) {
    unsigned char c = (unsigned char)*j->p++;
    if (c == '"')
      return 0;
    if (c < 0x20)
      return -1;
    if (c != '\\') {
      if (b && mail_buf_append_byte(b, c))
        return JSTRING_NOMEM;
      continue;
    }
    if (j->p >= j->end)
      return -1;
    char e = *j->p++;
    unsigned long cp;
    switch (e) {
    case '"': case '\\': case '/': cp = (unsigned char)e; break;
    case 'b': cp = '\b'; break;
    case 'f': cp = '\f'; break;
    case 'n': cp = '\n'; break;
    case 'r': cp = '\r'; break;
    case 't': cp = '\t'; break;
    case 'u':
      if (j->end - j->p < 4)
        return -1;
      cp = 0;
      for (int i = 0; i < 4; i++) {
        int h = hexval(j->p[i]);
        if (h < 0)
          return -1;
        cp = cp << 4 | (unsigned long)h;
      }
      j->p += 4;
      /* Surrogates and NUL cannot become a C string: keep a placeholder. */
      if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = '?';
      break;
    default:
      return -1;
    }
    if (!b)
      continue;
    unsigned char u[3];
    size_t ul;
    if (cp < 0x80) {
      u[0] = (unsigned char)cp; ul = 1;
    } else if (cp < 0x800) {
      u[0] = (unsigned char)(0xC0 | cp >> 6); u[1] = (unsigned char)(0x80 | (cp & 63)); ul = 2;
    } else {
      u[0] = (unsigned char)(0xE0 | cp >> 12); u[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
      u[2] = (unsigned char)(0x80 | (cp & 63)); ul = 3;
    }
    if (mail_buf_append(b, u, ul))
      return JSTRING_NOMEM;
  }
  return -1;
}

/* Skip any value (strings, numbers, literals, nested containers). */
static int jskip_value(jreader *j)
{
  jskip_ws(j);
  if (j->p >= j->end)
    return -1;
  if (*j->p == '"')
    return jstring(j, NULL);
  if (*j->p == '{' || *j->p == '[') {
    size_t depth = 0;
    while (j->p < j->end) {
      char c = *j->p;
      if (c == '"') {
        if (jstring(j, NULL))
          return -1;
        continue;
      }
      j->p++;
      if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0)
        return 0;
    }
    return -1;
  }
  const char *start = j->p;
  while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ' ' && *j->p != '\t' &&
         *j->p != '\r' && *j->p != '\n')
    j->p++;
  return j->p > start ? 0 : -1;
}

static const struct {
  const char *key;
  int field;
} json_fields[] = {
  {"status", MAIL_SASL_DETAIL_OAUTH_STATUS},
  {"scope", MAIL_SASL_DETAIL_OAUTH_SCOPE},
  {"openid-configuration", MAIL_SASL_DETAIL_OAUTH_OPENID},
};

/* Keep the raw JSON and the fields a caller acts on. A malformed object
 * still leaves the raw text for the caller to show. */
static int record_oauth_error(mail_sasl *s, const unsigned char *in, size_t n)
{
  const char *text = (const char *)in;
  const char *nul = memchr(text, '\0', n);
  if (nul)
    n = (size_t)(nul - text);
  int rc = mail_sasl_set_detail(s, MAIL_SASL_DETAIL_OAUTH_JSON, text, n);
  if (rc)
    return rc;
  jreader j = {text, text + n};
  mail_buf key, val;
  mail_buf_init(&key, &s->env.alloc, MAIL_SASL_MAX_CHALLENGE);
  mail_buf_init(&val, &s->env.alloc, MAIL_SASL_MAX_CHALLENGE);
  /* Server text only, but each key is written over the last in the same
   * buffer, and the pieces left side by side can spell anything, a
   * credential included: wiped on free like every buffer of this engine
   * that could. */
  mail_buf_set_sensitive(&key);
  mail_buf_set_sensitive(&val);
  jskip_ws(&j);
  if (j.p >= j.end || *j.p++ != '{')
    goto done;
  for (;;) {
    jskip_ws(&j);
    if (j.p < j.end && *j.p == '}')
      break;
    mail_buf_clear(&key);
    int jr = jstring(&j, &key);
    if (jr == JSTRING_NOMEM)
      rc = MAIL_ERR_NOMEM;
    if (jr)
      break;
    jskip_ws(&j);
    if (j.p >= j.end || *j.p++ != ':')
      break;
    jskip_ws(&j);
    int field = 0;
    for (size_t i = 0; i < sizeof json_fields / sizeof json_fields[0]; i++)
      if (key.len == strlen(json_fields[i].key) &&
          memcmp(key.data, json_fields[i].key, key.len) == 0)
        field = json_fields[i].field;
    if (field && j.p < j.end && *j.p == '"') {
      mail_buf_clear(&val);
      int vr = jstring(&j, &val);
      if (vr == JSTRING_NOMEM)
        rc = MAIL_ERR_NOMEM;
      if (vr)
        break;
      rc = mail_sasl_set_detail(s, field, val.len ? (const char *)val.data : "", val.len);
      if (rc)
        break;
    } else if (jskip_value(&j)) {
      break;
    }
    jskip_ws(&j);
    if (j.p < j.end && *j.p == ',') {
      j.p++;
      continue;
    }
    break;
  }
done:
  mail_buf_free(&key);
  mail_buf_free(&val);
  return rc;
}

/* ---------------------------------------------------------------- mechanisms */

/* gs2-header kvsep *(kvpair) "auth=Bearer " token kvsep kvsep */
static int oauthbearer_start(mail_sasl *s, mail_buf *out)
{
  const char *who = s->authzid ? s->authzid : s->username;
  int rc = mail_buf_append_str(out, "n,");
  if (rc == MAIL_OK && who) {
    rc = mail_buf_append_str(out, "a=");
    if (rc == MAIL_OK)
      rc = mail_sasl_append_saslname(out, who);
  }
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, ",\x01");
  if (rc == MAIL_OK && s->oauth_host)
    rc = mail_buf_appendf(out, "host=%s\x01", s->oauth_host);
  if (rc == MAIL_OK && s->oauth_port)
    rc = mail_buf_appendf(out, "port=%u\x01", s->oauth_port);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, "auth=Bearer ");
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, s->token);
  if (rc == MAIL_OK)
    rc = mail_buf_append(out, "\x01\x01", 2);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

static int oauth_step(mail_sasl *s, const unsigned char *in, size_t n, mail_buf *out)
{
  if (s->phase++ != 0)
    return MAIL_ERR_SASL_BAD_CHALLENGE;
  int rc = record_oauth_error(s, in, n);
  if (rc)
    return rc;
  /* RFC 7628 3.2.3: a single ^A lets the server finish with its failure. */
  return s->mech == &mail_sasl_mech_oauthbearer ? mail_buf_append_byte(out, 0x01) : MAIL_OK;
}

const mail_sasl_mech mail_sasl_mech_oauthbearer = {
  "OAUTHBEARER", MECH_CLIENT_FIRST | MECH_TOKEN | MECH_CLEARTEXT, 0,
  oauthbearer_start, oauth_step, NULL
};

/* "user=" user ^A "auth=Bearer " token ^A ^A */
static int xoauth2_start(mail_sasl *s, mail_buf *out)
{
  int rc = mail_buf_append_str(out, "user=");
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, s->username);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, "\x01" "auth=Bearer ");
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(out, s->token);
  if (rc == MAIL_OK)
    rc = mail_buf_append(out, "\x01\x01", 2);
  return rc == MAIL_ERR_LIMIT ? MAIL_ERR_INVALID : rc;
}

const mail_sasl_mech mail_sasl_mech_xoauth2 = {
  "XOAUTH2", MECH_CLIENT_FIRST | MECH_TOKEN | MECH_CLEARTEXT, 0,
  xoauth2_start, oauth_step, NULL
};

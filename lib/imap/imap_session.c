/* The IMAP session object: construction, settings, capabilities, the
 * connect calls (imap:// and imaps:// URLs) and the last tagged reply. */
#include <string.h>

#include "core/mem.h"
#include "core/url.h"
#include "imap/imap_internal.h"

int mail_imap_new(mail_imap **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_imap *im = mail_calloc(&a, 1, sizeof *im);
  if (!im)
    return MAIL_ERR_NOMEM;
  im->alloc = a;
  im->security = MAIL_SECURITY_STARTTLS;
  im->max_set = 8000 - 200; /* RFC 7162 3.2.1: lines of 8,192 octets; room for the rest */
  mail_cmdq_init(&im->q, &im->alloc, 1024);
  mail_buf_init(&im->caps, &im->alloc, 0);
  mail_buf_init(&im->enabled, &im->alloc, 0);
  mail_buf_init(&im->greeting, &im->alloc, 0);
  mail_buf_init(&im->last_text, &im->alloc, 0);
  mail_buf_init(&im->last_data, &im->alloc, 0);
  mail_buf_init(&im->mbox.flags[0], &im->alloc, 0);
  mail_buf_init(&im->mbox.flags[1], &im->alloc, 0);
  /* Commands may hold a password (LOGIN): wiped when dropped. */
  mail_buf_init(&im->out.bytes, &im->alloc, 0);
  mail_buf_set_sensitive(&im->out.bytes);
  mail_buf_init(&im->cont.bytes, &im->alloc, 0);
  mail_buf_set_sensitive(&im->cont.bytes);
  imap_setop_init(im);
  int rc = mail_conn_new(&im->conn, &im->alloc);
  im->op.conn = im->conn;
  if (!rc)
    rc = mail_sasl_new(&im->sasl, &im->alloc);
  if (!rc)
    rc = mail_imap_parser_new(&im->parser, &im->alloc);
  if (rc) {
    mail_imap_free(im);
    return rc;
  }
  *out = im;
  return MAIL_OK;
}

void mail_imap_free(mail_imap *im)
{
  if (!im)
    return;
  imap_sync_discard(im);
  mail_conn_free(im->conn);
  mail_sasl_free(im->sasl);
  mail_imap_parser_free(im->parser);
  mail_cmdq_free(&im->q);
  mail_buf_free(&im->caps);
  mail_buf_free(&im->enabled);
  mail_buf_free(&im->greeting);
  mail_buf_free(&im->last_text);
  mail_buf_free(&im->last_data);
  mail_buf_free(&im->mbox.flags[0]);
  mail_buf_free(&im->mbox.flags[1]);
  imap_wire_free(&im->out);
  imap_wire_free(&im->cont);
  imap_setop_free(im);
  mail_dealloc(&im->alloc, im->host);
  mail_dealloc(&im->alloc, im->url_mailbox);
  mail_allocator a = im->alloc;
  mail_dealloc(&a, im);
}

mail_conn *mail_imap_conn(mail_imap *im)
{
  return im ? im->conn : NULL;
}

mail_sasl *mail_imap_sasl(mail_imap *im)
{
  return im ? im->sasl : NULL;
}

int mail_imap_set_security(mail_imap *im, int security)
{
  if (!im || security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_DISCONNECTED || im->op.kind)
    return MAIL_ERR_STATE;
  im->security = security;
  return MAIL_OK;
}

int mail_imap_set_auth(mail_imap *im, const char *user, const char *password)
{
  if (!im || !user)
    return MAIL_ERR_INVALID;
  /* The SASL handle refuses CR and LF in an identity; a password may
   * hold them: LOGIN sends it as a literal, SASL in base64. */
  if (mail_has_crlfnul(user, strlen(user)))
    return MAIL_ERR_INVALID;
  int rc = mail_sasl_set_username(im->sasl, user);
  if (!rc)
    rc = mail_sasl_set_password(im->sasl, password);
  return rc;
}

const char *imap_user(const mail_imap *im)
{
  return mail_sasl_username(im->sasl);
}

const char *imap_password(const mail_imap *im)
{
  return mail_sasl_password(im->sasl);
}

int mail_imap_set_auth_method(mail_imap *im, int method)
{
  if (!im || method < MAIL_IMAP_AUTH_AUTO || method > MAIL_IMAP_AUTH_LOGIN)
    return MAIL_ERR_INVALID;
  im->auth_method = method;
  return MAIL_OK;
}

int mail_imap_set_untagged_callback(mail_imap *im, mail_imap_untagged_fn fn, void *user)
{
  if (!im)
    return MAIL_ERR_INVALID;
  im->on_untagged = fn;
  im->on_untagged_user = fn ? user : NULL;
  return MAIL_OK;
}

/* ------------------------------------------------------ capabilities */

int imap_words_has(const mail_buf *b, const char *name, size_t nlen)
{
  const char *s = (const char *)b->data;
  size_t len = b->len;
  for (size_t i = 0; i < len;) {
    size_t j = i;
    while (j < len && s[j] != ' ')
      j++;
    if (j - i == nlen) {
      size_t k = 0;
      while (k < nlen && (unsigned char)s[i + k] ==
                             (unsigned char)(name[k] >= 'a' && name[k] <= 'z' ? name[k] - 32
                                                                             : name[k]))
        k++;
      if (k == nlen)
        return 1;
    }
    i = j + 1;
  }
  return 0;
}

int imap_has_cap(const mail_imap *im, const char *name)
{
  return im->caps_known && imap_words_has(&im->caps, name, strlen(name));
}

int imap_need_cap(mail_imap *im, const char *cap, const char *also)
{
  if (imap_has_cap(im, cap) || (also && imap_has_cap(im, also)))
    return MAIL_OK;
  return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED, "%s is not offered by this server", cap);
}

void imap_caps_reset(mail_imap *im)
{
  mail_buf_clear(&im->caps);
  im->caps_known = 0;
}

int imap_caps_set_from(mail_imap *im, const mail_imap_response *r)
{
  imap_caps_reset(im);
  int rc = MAIL_OK;
  for (size_t i = 0; i < mail_imap_response_string_count(r) && !rc; i++) {
    size_t n;
    const char *s = mail_imap_response_string(r, i, &n);
    rc = i ? mail_buf_append_byte(&im->caps, ' ') : 0;
    for (size_t k = 0; k < n && !rc; k++)
      rc = mail_buf_append_byte(&im->caps,
                                (unsigned char)(s[k] >= 'a' && s[k] <= 'z' ? s[k] - 32 : s[k]));
  }
  if (!rc)
    rc = mail_buf_terminate(&im->caps);
  if (rc) {
    imap_caps_reset(im);
    return rc;
  }
  im->caps_known = 1;
  return MAIL_OK;
}

int mail_imap_has_capability(const mail_imap *im, const char *name)
{
  return im && name && imap_has_cap(im, name);
}

const char *mail_imap_capabilities(const mail_imap *im)
{
  return im && im->caps_known ? (const char *)im->caps.data : NULL;
}

int mail_imap_is_enabled(const mail_imap *im, const char *name)
{
  return im && name && im->enabled.len && imap_words_has(&im->enabled, name, strlen(name));
}

const char *mail_imap_greeting(const mail_imap *im)
{
  return im && im->greeting.len ? (const char *)im->greeting.data : NULL;
}

/* ------------------------------------------------------- connecting */

int mail_imap_connect(mail_imap *im, const char *host, unsigned int port, int security)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_CONNECT, &rc))
    return rc;
  if (!host || !*host || port > 65535 || security < MAIL_SECURITY_STARTTLS ||
      security > MAIL_SECURITY_NONE_INSECURE || mail_has_crlfnul(host, strlen(host)))
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_DISCONNECTED)
    return MAIL_ERR_STATE;
  char *h = mail_strdup(&im->alloc, host);
  if (!h)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&im->alloc, im->host);
  im->host = h;
  im->security = security;
  im->port = port ? port : (security == MAIL_SECURITY_IMPLICIT_TLS ? 993 : 143);
  mail_cmdq_clear(&im->q);
  imap_caps_reset(im);
  mail_buf_clear(&im->enabled);
  mail_buf_clear(&im->greeting);
  imap_mailbox_reset(im);
  im->utf8 = 0;
  im->tls_done = 0;
  im->bye_seen = 0;
  im->last_type = 0;
  mail_buf_clear(&im->last_text);
  mail_buf_clear(&im->last_data);
  mail_imap_parser_reset(im->parser);
  mail_imap_parser_set_utf8(im->parser, 0);
  rc = mail_imap_parser_set_limits(im->parser, mail_conn_limits(im->conn));
  if (rc)
    return rc;
  return imap_run(im, IMAP_OP_CONNECT);
}

static const mail_url_scheme schemes[] = {
  {"imap", 143, MAIL_URL_USERINFO | MAIL_URL_PATH},
  {"imaps", 993, MAIL_URL_USERINFO | MAIL_URL_PATH | MAIL_URL_IMPLICIT_TLS},
};

/* RFC 5092: the path names a mailbox ("/INBOX"); what follows ';' or '?'
 * (UIDVALIDITY, a UID, a search) is not a mailbox. */
static int keep_mailbox(mail_imap *im, const char *path)
{
  mail_dealloc(&im->alloc, im->url_mailbox);
  im->url_mailbox = NULL;
  if (!path)
    return MAIL_OK;
  size_t n = strcspn(path, ";?");
  while (n && path[n - 1] == '/')
    n--;
  if (!n)
    return MAIL_OK;
  char *m = NULL;
  int rc = mail_url_decode(&im->alloc, path, n, &m);
  if (rc) /* %0D, %0A and %00 are refused there */
    return rc;
  im->url_mailbox = m;
  return MAIL_OK;
}

int mail_imap_connect_url(mail_imap *im, const char *url)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_CONNECT, &rc))
    return rc;
  if (!url)
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_DISCONNECTED)
    return MAIL_ERR_STATE;
  mail_url u;
  rc = mail_url_parse(&u, url, schemes, sizeof schemes / sizeof schemes[0], &im->alloc);
  if (rc)
    return rc;
  int security = mail_url_security(u.scheme, im->security);
  rc = keep_mailbox(im, u.path);
  if (!rc && u.user && *u.user)
    rc = mail_imap_set_auth(im, u.user, u.password);
  if (!rc)
    rc = mail_imap_connect(im, u.host, u.port, security);
  mail_url_clear(&u, &im->alloc);
  return rc;
}

const char *mail_imap_url_mailbox(const mail_imap *im)
{
  return im ? im->url_mailbox : NULL;
}

/* ---------------------------------------------------- the last reply */

int mail_imap_last_status(const mail_imap *im)
{
  return im ? im->last_type : 0;
}

int mail_imap_last_code(const mail_imap *im)
{
  return im && im->last_type ? im->last_code : MAIL_IMAP_CODE_NONE;
}

const char *mail_imap_last_text(const mail_imap *im)
{
  return im && im->last_text.len ? (const char *)im->last_text.data : "";
}

const char *mail_imap_last_code_data(const mail_imap *im)
{
  return im && im->last_data.len ? (const char *)im->last_data.data : "";
}

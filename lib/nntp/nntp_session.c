/* The NNTP session object: construction, settings, connecting (by host
 * or URL), what the server said and its capabilities as data. */
#include <string.h>

#include "core/mem.h"
#include "core/url.h"
#include "nntp/nntp_internal.h"

int mail_nntp_new(mail_nntp **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_nntp *n = mail_calloc(&a, 1, sizeof *n);
  if (!n)
    return MAIL_ERR_NOMEM;
  n->alloc = a;
  n->window = 16;
  n->mode_reader = 1;
  n->security = MAIL_SECURITY_STARTTLS;
  mail_cmdq_init(&n->q, &n->alloc, 1024 + 4);
  mail_nntp_reply_init(&n->reply, &n->alloc);
  mail_buf_init(&n->greeting, &n->alloc, 0);
  mail_buf_init(&n->group, &n->alloc, 0);
  mail_buf_init(&n->cur_msgid, &n->alloc, 0);
  mail_buf_init(&n->listgroup, &n->alloc, 0);
  mail_buf_init(&n->fmt_text, &n->alloc, 0);
  mail_buf_init(&n->cmdline, &n->alloc, 0);
  nntp_table_init(&n->over, &n->alloc);
  nntp_table_init(&n->hdr, &n->alloc);
  nntp_table_init(&n->list, &n->alloc);
  mail_capset_init(&n->caps, &n->alloc, MAIL_CAPS_POP3); /* 1*cchar keywords, as RFC 3977 */
  int rc = mail_conn_new(&n->conn, &n->alloc);
  n->op.conn = n->conn;
  if (!rc)
    rc = mail_sasl_new(&n->sasl, &n->alloc);
  if (rc) {
    mail_nntp_free(n);
    return rc;
  }
  mail_capset_set_limits(&n->caps, mail_conn_limits(n->conn));
  *out = n;
  return MAIL_OK;
}

void mail_nntp_free(mail_nntp *n)
{
  if (!n)
    return;
  mail_conn_free(n->conn);
  mail_sasl_free(n->sasl);
  mail_capset_free(&n->caps);
  mail_cmdq_free(&n->q);
  mail_nntp_reply_release(&n->reply);
  mail_buf_free(&n->greeting);
  mail_buf_free(&n->group);
  mail_buf_free(&n->cur_msgid);
  mail_buf_free(&n->listgroup);
  mail_buf_free(&n->fmt_text);
  mail_buf_free(&n->cmdline);
  nntp_table_free(&n->over);
  nntp_table_free(&n->hdr);
  nntp_table_free(&n->list);
  mail_dealloc(&n->alloc, n->nums);
  mail_dealloc(&n->alloc, n->results);
  mail_dealloc(&n->alloc, n->chunk);
  mail_dealloc(&n->alloc, n->host);
  mail_dealloc(&n->alloc, n->url_group);
  mail_allocator a = n->alloc;
  mail_dealloc(&a, n);
}

mail_conn *mail_nntp_conn(mail_nntp *n)
{
  return n ? n->conn : NULL;
}

mail_sasl *mail_nntp_sasl(mail_nntp *n)
{
  return n ? n->sasl : NULL;
}

int mail_nntp_set_security(mail_nntp *n, int security)
{
  if (!n || security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
    return MAIL_ERR_INVALID;
  if (n->state != MAIL_NNTP_STATE_DISCONNECTED || n->op.kind)
    return MAIL_ERR_STATE;
  n->security = security;
  return MAIL_OK;
}

int mail_nntp_set_auth(mail_nntp *n, const char *user, const char *password)
{
  if (!n || !user)
    return MAIL_ERR_INVALID;
  if (mail_has_crlfnul(user, strlen(user)) ||
      (password && mail_has_crlfnul(password, strlen(password))))
    return MAIL_ERR_INVALID;
  int rc = mail_sasl_set_username(n->sasl, user);
  if (!rc)
    rc = mail_sasl_set_password(n->sasl, password);
  return rc;
}

int mail_nntp_set_auth_method(mail_nntp *n, int method)
{
  if (!n || method < MAIL_NNTP_AUTH_AUTO || method > MAIL_NNTP_AUTH_SASL)
    return MAIL_ERR_INVALID;
  n->auth_method = method;
  return MAIL_OK;
}

int mail_nntp_set_mode_reader(mail_nntp *n, int on)
{
  if (!n)
    return MAIL_ERR_INVALID;
  n->mode_reader = on != 0;
  return MAIL_OK;
}

int mail_nntp_set_pipeline_window(mail_nntp *n, unsigned int window)
{
  if (!n || window == 0 || window > 1024)
    return MAIL_ERR_INVALID;
  n->window = window;
  return MAIL_OK;
}

/* ----------------------------------------------------------- connecting */

int mail_nntp_connect(mail_nntp *n, const char *host, unsigned int port, int security)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_CONNECT, &rc))
    return rc;
  if (!host || !*host || port > 65535 || security < MAIL_SECURITY_STARTTLS ||
      security > MAIL_SECURITY_NONE_INSECURE || mail_has_crlfnul(host, strlen(host)))
    return MAIL_ERR_INVALID;
  if (n->state != MAIL_NNTP_STATE_DISCONNECTED)
    return nntp_wrong_state(n, "DISCONNECTED");
  n->security = security;
  char *h = mail_strdup(&n->alloc, host);
  if (!h)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&n->alloc, n->host);
  n->host = h;
  n->port = port ? port : (security == MAIL_SECURITY_IMPLICIT_TLS ? 563 : 119);
  mail_cmdq_clear(&n->q);
  nntp_caps_reset(n);
  n->tls_done = n->reader_done = n->authenticated = 0;
  n->posting_code = 0;
  n->fmt_known = n->use_xover = n->use_xhdr = 0;
  mail_buf_clear(&n->greeting);
  mail_buf_clear(&n->group);
  mail_buf_clear(&n->cur_msgid);
  n->cur_number = 0;
  return nntp_run(n, NNTP_OP_CONNECT);
}

static const mail_url_scheme schemes[] = {
  {"nntp", 119, MAIL_URL_USERINFO | MAIL_URL_PATH},
  {"nntps", 563, MAIL_URL_USERINFO | MAIL_URL_PATH | MAIL_URL_IMPLICIT_TLS},
};

int mail_nntp_connect_url(mail_nntp *n, const char *url)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_CONNECT, &rc))
    return rc;
  if (!url)
    return MAIL_ERR_INVALID;
  mail_url u;
  rc = mail_url_parse(&u, url, schemes, sizeof schemes / sizeof schemes[0], &n->alloc);
  if (rc)
    return rc;
  int security = mail_url_security(u.scheme, n->security);
  char *group = NULL;
  if (n->state != MAIL_NNTP_STATE_DISCONNECTED)
    rc = MAIL_ERR_STATE;
  if (!rc && u.path) {
    /* RFC 5538: "/group" or "/group/number"; the group is the first part. */
    const char *end = strchr(u.path, '/');
    size_t len = end ? (size_t)(end - u.path) : strlen(u.path);
    const char *q = memchr(u.path, '?', len);
    if (q)
      len = (size_t)(q - u.path);
    if (len) {
      rc = mail_url_decode(&n->alloc, u.path, len, &group);
      if (!rc && !nntp_arg_ok(group))
        rc = MAIL_ERR_SYNTAX;
    }
  }
  if (!rc && u.user && *u.user)
    rc = mail_nntp_set_auth(n, u.user, u.password);
  if (!rc) {
    mail_dealloc(&n->alloc, n->url_group);
    n->url_group = group;
    group = NULL;
    rc = mail_nntp_connect(n, u.host, u.port, security);
  }
  mail_dealloc(&n->alloc, group);
  mail_url_clear(&u, &n->alloc);
  return rc;
}

const char *mail_nntp_url_group(const mail_nntp *n)
{
  return n ? n->url_group : NULL;
}

int mail_nntp_get_state(const mail_nntp *n)
{
  return n ? n->state : MAIL_NNTP_STATE_DISCONNECTED;
}

int mail_nntp_is_authenticated(const mail_nntp *n)
{
  return n ? n->authenticated : 0;
}

int mail_nntp_posting_allowed(const mail_nntp *n)
{
  if (!n || n->state == MAIL_NNTP_STATE_DISCONNECTED)
    return 0;
  if (n->caps_known)
    return mail_nntp_has_capability(n, "POST");
  return n->posting_code == 200;
}

/* ------------------------------------------------------- server's words */

const mail_nntp_reply *mail_nntp_last_reply(const mail_nntp *n)
{
  return n && n->have_reply ? &n->reply : NULL;
}

const char *mail_nntp_last_reply_command(const mail_nntp *n)
{
  return n && n->have_reply ? n->last_cmd : NULL;
}

const char *mail_nntp_greeting(const mail_nntp *n)
{
  return n && n->greeting.len ? (const char *)n->greeting.data : NULL;
}

void nntp_caps_reset(mail_nntp *n)
{
  mail_capset_clear(&n->caps);
  n->caps_known = 0;
}

int mail_nntp_caps_known(const mail_nntp *n)
{
  return n ? n->caps_known : 0;
}

size_t mail_nntp_capability_count(const mail_nntp *n)
{
  return n ? mail_capset_count(&n->caps) : 0;
}

const char *mail_nntp_capability_keyword(const mail_nntp *n, size_t i)
{
  return n ? mail_capset_keyword(&n->caps, i) : NULL;
}

size_t mail_nntp_capability_param_count(const mail_nntp *n, size_t i)
{
  return n ? mail_capset_param_count(&n->caps, i) : 0;
}

const char *mail_nntp_capability_param(const mail_nntp *n, size_t i, size_t j)
{
  return n ? mail_capset_param(&n->caps, i, j) : NULL;
}

int mail_nntp_has_capability(const mail_nntp *n, const char *keyword)
{
  return n && keyword && mail_capset_find(&n->caps, keyword, NULL) == MAIL_OK;
}

static int same_word(const char *a, const char *b)
{
  for (; *a && *b; a++, b++) {
    unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
    if ((x >= 'A' && x <= 'Z' ? x + 32 : x) != (y >= 'A' && y <= 'Z' ? y + 32 : y))
      return 0;
  }
  return !*a && !*b;
}

int mail_nntp_has_capability_arg(const mail_nntp *n, const char *keyword, const char *arg)
{
  size_t i;
  if (!n || !keyword || !arg || mail_capset_find(&n->caps, keyword, &i) != MAIL_OK)
    return 0;
  size_t np = mail_capset_param_count(&n->caps, i);
  for (size_t j = 0; j < np; j++)
    if (same_word(mail_capset_param(&n->caps, i, j), arg))
      return 1;
  return 0;
}

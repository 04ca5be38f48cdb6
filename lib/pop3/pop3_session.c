/* The POP3 session object: construction, settings, driving operations
 * (blocking or step by step) and what the server said. */
#include <string.h>

#include "core/mem.h"
#include "pop3/pop3_internal.h"
#include "sasl/sasl_internal.h"

int mail_pop3_new(mail_pop3 **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_pop3 *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  p->window = 64;
  p->security = MAIL_SECURITY_STARTTLS;
  mail_cmdq_init(&p->q, &p->alloc, 4096 + 4);
  mail_pop3_reply_init(&p->reply, &p->alloc);
  mail_buf_init(&p->greeting, &p->alloc, 0);
  mail_buf_init(&p->apop_stamp, &p->alloc, 0);
  mail_buf_init(&p->impl, &p->alloc, 0);
  mail_buf_init(&p->list, &p->alloc, 0);
  mail_buf_init(&p->uidl, &p->alloc, 0);
  mail_buf_init(&p->uidl_text, &p->alloc, 0);
  int rc = mail_conn_new(&p->conn, &p->alloc);
  p->op.conn = p->conn;
  if (!rc)
    rc = mail_sasl_new(&p->sasl, &p->alloc);
  if (!rc)
    rc = mail_pop3_caps_new(&p->caps, &p->alloc);
  if (!rc)
    mail_pop3_caps_set_limits(p->caps, mail_conn_limits(p->conn)); /* read at every line */
  if (rc) {
    mail_pop3_free(p);
    return rc;
  }
  *out = p;
  return MAIL_OK;
}

void mail_pop3_free(mail_pop3 *p)
{
  if (!p)
    return;
  mail_conn_free(p->conn);
  mail_sasl_free(p->sasl);
  mail_pop3_caps_free(p->caps);
  mail_cmdq_free(&p->q);
  mail_pop3_reply_release(&p->reply);
  mail_buf_free(&p->greeting);
  mail_buf_free(&p->apop_stamp);
  mail_buf_free(&p->impl);
  mail_buf_free(&p->list);
  mail_buf_free(&p->uidl);
  mail_buf_free(&p->uidl_text);
  mail_dealloc(&p->alloc, p->msgs);
  mail_dealloc(&p->alloc, p->results);
  mail_dealloc(&p->alloc, p->host);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

mail_conn *mail_pop3_conn(mail_pop3 *p)
{
  return p ? p->conn : NULL;
}

mail_sasl *mail_pop3_sasl(mail_pop3 *p)
{
  return p ? p->sasl : NULL;
}

int mail_pop3_set_security(mail_pop3 *p, int security)
{
  if (!p || security < MAIL_SECURITY_STARTTLS || security > MAIL_SECURITY_NONE_INSECURE)
    return MAIL_ERR_INVALID;
  if (p->state != MAIL_POP3_STATE_DISCONNECTED || p->op.kind)
    return MAIL_ERR_STATE;
  p->security = security;
  return MAIL_OK;
}

int mail_pop3_set_auth(mail_pop3 *p, const char *user, const char *password)
{
  if (!p || !user)
    return MAIL_ERR_INVALID;
  if (mail_has_crlfnul(user, strlen(user)) ||
      (password && mail_has_crlfnul(password, strlen(password))))
    return MAIL_ERR_INVALID;
  int rc = mail_sasl_set_username(p->sasl, user);
  if (!rc)
    rc = mail_sasl_set_password(p->sasl, password);
  return rc;
}

const char *pop3_user(const mail_pop3 *p)
{
  return mail_sasl_username(p->sasl);
}

const char *pop3_password(const mail_pop3 *p)
{
  return mail_sasl_password(p->sasl);
}

int pop3_external(const mail_pop3 *p)
{
  return mail_sasl_external_enabled(p->sasl);
}

int pop3_allow_insecure(const mail_pop3 *p)
{
  return mail_sasl_insecure_plaintext_allowed(p->sasl);
}

int mail_pop3_set_auth_method(mail_pop3 *p, int method)
{
  if (!p || method < MAIL_POP3_AUTH_AUTO || method > MAIL_POP3_AUTH_APOP)
    return MAIL_ERR_INVALID;
  p->auth_method = method;
  return MAIL_OK;
}

int mail_pop3_set_pipeline_window(mail_pop3 *p, unsigned int window)
{
  if (!p || window == 0 || window > 4096)
    return MAIL_ERR_INVALID;
  p->window = window;
  return MAIL_OK;
}

/* ------------------------------------------------------------ driving */

static int connect_transport(mail_pop3 *p)
{
  int implicit = p->security == MAIL_SECURITY_IMPLICIT_TLS;
  int rc = mail_conn_connect(p->conn, p->host, p->port, implicit);
  if (rc)
    return rc;
  p->tls_done = implicit;
  p->op.phase = 1; /* the greeting */
  pop3_set_state(p, MAIL_POP3_STATE_CONNECTING);
  return MAIL_OK;
}

static int drive(mail_pop3 *p)
{
  int rc;
  if (p->op.kind == POP3_OP_CONNECT && p->op.phase == 0) {
    rc = connect_transport(p);
    if (rc == MAIL_ERR_AGAIN)
      return rc;
    if (rc)
      return pop3_finish(p, rc);
  }
  rc = mail_conn_run(p->conn, pop3_advance, p);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  if (rc == MAIL_ERR_TIMEOUT)
    pop3_name_timeout(p);
  else if (rc == MAIL_OK)
    mail_conn_clear_error(p->conn); /* a -ERR that did not count (CAPA, a fallback) */
  return pop3_finish(p, rc);
}

int pop3_op_enter(mail_pop3 *p, int op, int *rc)
{
  if (!p) {
    *rc = MAIL_ERR_INVALID;
    return 1;
  }
  if (!p->op.kind) {
    /* A new operation: the error string belongs to it from here on. */
    mail_conn_clear_error(p->conn);
    return 0;
  }
  int st = mail_op_begin(&p->op, op);
  if (st == MAIL_ERR_STATE)
    mail_conn_fail(p->conn, st, "another operation is in progress");
  *rc = st == MAIL_OP_RESUMED ? drive(p) : st;
  return 1;
}

int pop3_wrong_state(mail_pop3 *p, const char *needed)
{
  return mail_conn_fail(p->conn, MAIL_ERR_STATE, "the session is in state %s, not %s",
                        mail_pop3_state_name(p), needed);
}

int pop3_run(mail_pop3 *p, int op)
{
  mail_op_begin(&p->op, op); /* none is pending: pop3_op_enter() said so */
  p->cancelled = 0;
  p->have_reply = 0;
  mail_conn_clear_error(p->conn);
  p->rx = POP3_RX_STATUS;
  return drive(p);
}

int mail_pop3_get_state(const mail_pop3 *p)
{
  return p ? p->state : MAIL_POP3_STATE_DISCONNECTED;
}

/* ----------------------------------------------------------- connecting */

int mail_pop3_connect(mail_pop3 *p, const char *host, unsigned int port, int security)
{
  int rc;
  if (pop3_op_enter(p, POP3_OP_CONNECT, &rc))
    return rc;
  if (!host || !*host || port > 65535 || security < MAIL_SECURITY_STARTTLS ||
      security > MAIL_SECURITY_NONE_INSECURE)
    return MAIL_ERR_INVALID;
  if (mail_has_crlfnul(host, strlen(host)))
    return MAIL_ERR_INVALID;
  if (p->state != MAIL_POP3_STATE_DISCONNECTED)
    return pop3_wrong_state(p, "DISCONNECTED");
  p->security = security;
  char *h = mail_strdup(&p->alloc, host);
  if (!h)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&p->alloc, p->host);
  p->host = h;
  p->port = port ? port : (p->security == MAIL_SECURITY_IMPLICIT_TLS ? 995 : 110);
  mail_cmdq_clear(&p->q);
  pop3_caps_reset(p);
  p->caps_known = 0;
  p->deleted = 0;
  p->tls_done = 0;
  mail_buf_clear(&p->greeting);
  mail_buf_clear(&p->apop_stamp);
  return pop3_run(p, POP3_OP_CONNECT);
}

/* ------------------------------------------------------- server's words */

const char *mail_pop3_last_reply_command(const mail_pop3 *p)
{
  return p && p->have_reply ? p->last_cmd : NULL;
}

const mail_pop3_reply *mail_pop3_last_reply(const mail_pop3 *p)
{
  return p && p->have_reply ? &p->reply : NULL;
}

const char *mail_pop3_greeting(const mail_pop3 *p)
{
  if (!p || !p->greeting.len)
    return NULL;
  return (const char *)p->greeting.data;
}

int mail_pop3_caps_known(const mail_pop3 *p)
{
  return p ? p->caps_known : 0;
}

const mail_pop3_caps *mail_pop3_capabilities(const mail_pop3 *p)
{
  return p ? p->caps : NULL;
}

int mail_pop3_has_capability(const mail_pop3 *p, const char *keyword)
{
  return p && keyword && mail_pop3_caps_find(p->caps, keyword, NULL) == MAIL_OK;
}

/* A capability's first parameter as a number. */
static int cap_number(const mail_pop3 *p, const char *kw, uint32_t *out, const char **word2,
                      int *is_never)
{
  size_t i;
  if (!p || mail_pop3_caps_find(p->caps, kw, &i) != MAIL_OK)
    return MAIL_ERR_NOT_FOUND;
  const char *v = mail_pop3_caps_param(p->caps, i, 0);
  if (word2)
    *word2 = mail_pop3_caps_param(p->caps, i, 1);
  if (!v)
    return MAIL_ERR_PROTOCOL;
  if (is_never && (v[0] == 'N' || v[0] == 'n')) {
    const char *n = "never";
    size_t k = 0;
    while (v[k] && n[k] && (v[k] | 0x20) == n[k])
      k++;
    if (v[k] || n[k])
      return MAIL_ERR_PROTOCOL;
    *is_never = 1;
    *out = 0;
    return MAIL_OK;
  }
  uint64_t x = 0;
  size_t k = 0;
  for (; v[k] >= '0' && v[k] <= '9'; k++) {
    x = x * 10 + (uint64_t)(v[k] - '0');
    if (x > UINT32_MAX)
      return MAIL_ERR_PROTOCOL;
  }
  if (k == 0 || v[k])
    return MAIL_ERR_PROTOCOL;
  *out = (uint32_t)x;
  return MAIL_OK;
}

int mail_pop3_login_delay(const mail_pop3 *p, uint32_t *seconds)
{
  uint32_t v;
  int rc = cap_number(p, "LOGIN-DELAY", &v, NULL, NULL);
  if (!rc && seconds)
    *seconds = v;
  return rc;
}

int mail_pop3_expire(const mail_pop3 *p, uint32_t *days, int *never, int *per_user)
{
  uint32_t v;
  int nev = 0;
  const char *w2 = NULL;
  int rc = cap_number(p, "EXPIRE", &v, &w2, &nev);
  if (rc)
    return rc;
  if (days)
    *days = v;
  if (never)
    *never = nev;
  if (per_user)
    *per_user = w2 && (w2[0] | 0x20) == 'u' && (w2[1] | 0x20) == 's' && (w2[2] | 0x20) == 'e' &&
                (w2[3] | 0x20) == 'r' && !w2[4];
  return MAIL_OK;
}

const char *mail_pop3_implementation(const mail_pop3 *p)
{
  if (!p)
    return NULL;
  size_t i;
  if (mail_pop3_caps_find(p->caps, "IMPLEMENTATION", &i) != MAIL_OK)
    return NULL;
  mail_pop3 *mp = (mail_pop3 *)p; /* the joined string is a cache */
  mail_buf_clear(&mp->impl);
  size_t n = mail_pop3_caps_param_count(p->caps, i);
  for (size_t j = 0; j < n; j++) {
    if ((j && mail_buf_append_byte(&mp->impl, ' ')) ||
        mail_buf_append_str(&mp->impl, mail_pop3_caps_param(p->caps, i, j)))
      return NULL;
  }
  if (mail_buf_terminate(&mp->impl))
    return NULL;
  return (const char *)mp->impl.data;
}

void pop3_caps_reset(mail_pop3 *p)
{
  mail_pop3_caps_clear(p->caps);
  p->caps_known = 0;
}

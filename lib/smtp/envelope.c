/* The envelope object: sender, recipients with DSN options, the body
 * source, and the per-recipient results mail_smtp_send() fills in. */
#include <stddef.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "core/utf8.h"
#include "smtp/smtp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

int mail_smtp_envelope_new(mail_smtp_envelope **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_smtp_envelope *e = mail_calloc(&a, 1, sizeof *e);
  if (!e)
    return MAIL_ERR_NOMEM;
  e->alloc = a;
  e->size = MAIL_SMTP_SIZE_UNKNOWN;
  *out = e;
  return MAIL_OK;
}

/* A result text with a reference count: one reply answering every
 * recipient (the reply after the data) is held once, not once each. */
typedef struct shared_text {
  size_t refs;
  char s[];
} shared_text;

static shared_text *text_of(char *s)
{
  return (shared_text *)(void *)(s - offsetof(shared_text, s));
}

static char *text_ref(char *s)
{
  if (s)
    text_of(s)->refs++;
  return s;
}

static void text_unref(mail_smtp_envelope *e, char *s)
{
  if (s && --text_of(s)->refs == 0)
    mail_dealloc(&e->alloc, text_of(s));
}

static char *text_new(mail_smtp_envelope *e, const char *t, size_t len)
{
  shared_text *x = mail_malloc(&e->alloc, sizeof *x + len + 1);
  if (!x)
    return NULL;
  x->refs = 1;
  memcpy(x->s, t, len);
  x->s[len] = '\0';
  return x->s;
}

static void clear_result(mail_smtp_envelope *e, smtp_rcpt *r)
{
  text_unref(e, r->text);
  r->text = NULL;
  r->status = MAIL_ERR_NOT_ATTEMPTED;
  r->code = 0;
  r->has_enh = 0;
  r->rcpt_ok = 0;
}

void mail_smtp_envelope_free(mail_smtp_envelope *e)
{
  if (!e)
    return;
  for (size_t i = 0; i < e->nrcpts; i++) {
    clear_result(e, &e->rcpts[i]);
    mail_dealloc(&e->alloc, e->rcpts[i].addr);
    mail_dealloc(&e->alloc, e->rcpts[i].orcpt);
  }
  text_unref(e, e->last_text);
  mail_dealloc(&e->alloc, e->rcpts);
  mail_dealloc(&e->alloc, e->from);
  mail_dealloc(&e->alloc, e->envid);
  mail_allocator a = e->alloc;
  mail_dealloc(&a, e);
}

int mail_smtp_envelope_set_from(mail_smtp_envelope *e, const char *address)
{
  if (!e)
    return MAIL_ERR_INVALID;
  int rc = smtp_addr_check(address, 1);
  if (rc)
    return rc;
  char *c = mail_strdup(&e->alloc, address);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_dealloc(&e->alloc, e->from);
  e->from = c;
  e->from_eight = smtp_addr_eight(c);
  return MAIL_OK;
}

int mail_smtp_envelope_add_recipient(mail_smtp_envelope *e, const char *address, size_t *index)
{
  if (!e)
    return MAIL_ERR_INVALID;
  int rc = smtp_addr_check(address, 0);
  if (rc)
    return rc;
  if (e->nrcpts == e->cap) {
    size_t ncap = e->cap ? e->cap * 2 : 4;
    smtp_rcpt *n = mail_realloc(&e->alloc, e->rcpts, ncap * sizeof *n);
    if (!n)
      return MAIL_ERR_NOMEM;
    e->rcpts = n;
    e->cap = ncap;
  }
  smtp_rcpt *r = &e->rcpts[e->nrcpts];
  memset(r, 0, sizeof *r);
  r->addr = mail_strdup(&e->alloc, address);
  if (!r->addr)
    return MAIL_ERR_NOMEM;
  r->status = MAIL_ERR_NOT_ATTEMPTED;
  r->eight = smtp_addr_eight(r->addr);
  if (index)
    *index = e->nrcpts;
  e->nrcpts++;
  return MAIL_OK;
}

int mail_smtp_envelope_set_notify(mail_smtp_envelope *e, size_t index, unsigned int notify)
{
  if (!e || index >= e->nrcpts || (notify & ~0xFu) ||
      ((notify & MAIL_SMTP_NOTIFY_NEVER) && notify != MAIL_SMTP_NOTIFY_NEVER))
    return MAIL_ERR_INVALID;
  e->rcpts[index].notify = notify;
  return MAIL_OK;
}

int mail_smtp_envelope_set_orcpt(mail_smtp_envelope *e, size_t index, const char *address)
{
  if (!e || index >= e->nrcpts)
    return MAIL_ERR_INVALID;
  char *c = NULL;
  if (address) {
    size_t n = strlen(address);
    if (n == 0 || n > 500 || mail_has_crlfnul(address, n))
      return MAIL_ERR_INVALID;
    c = mail_strdup(&e->alloc, address);
    if (!c)
      return MAIL_ERR_NOMEM;
  }
  mail_dealloc(&e->alloc, e->rcpts[index].orcpt);
  e->rcpts[index].orcpt = c;
  return MAIL_OK;
}

int mail_smtp_envelope_set_ret(mail_smtp_envelope *e, int ret)
{
  if (!e || ret < MAIL_SMTP_RET_DEFAULT || ret > MAIL_SMTP_RET_HDRS)
    return MAIL_ERR_INVALID;
  e->ret = ret;
  return MAIL_OK;
}

int mail_smtp_envelope_set_envid(mail_smtp_envelope *e, const char *envid)
{
  if (!e)
    return MAIL_ERR_INVALID;
  char *c = NULL;
  if (envid) {
    size_t n = strlen(envid);
    if (n == 0 || n > 100 || mail_has_crlfnul(envid, n))
      return MAIL_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
      if ((unsigned char)envid[i] < 0x20 || (unsigned char)envid[i] >= 0x7f)
        return MAIL_ERR_INVALID;
    c = mail_strdup(&e->alloc, envid);
    if (!c)
      return MAIL_ERR_NOMEM;
  }
  mail_dealloc(&e->alloc, e->envid);
  e->envid = c;
  return MAIL_OK;
}

int mail_smtp_envelope_set_requiretls(mail_smtp_envelope *e, int on)
{
  if (!e)
    return MAIL_ERR_INVALID;
  e->requiretls = on != 0;
  return MAIL_OK;
}

int mail_smtp_envelope_set_smtputf8(mail_smtp_envelope *e, int on)
{
  if (!e)
    return MAIL_ERR_INVALID;
  e->smtputf8 = on != 0;
  return MAIL_OK;
}

int mail_smtp_envelope_set_policy(mail_smtp_envelope *e, int policy)
{
  if (!e || (policy != MAIL_SMTP_POLICY_ANY && policy != MAIL_SMTP_POLICY_ALL))
    return MAIL_ERR_INVALID;
  e->policy = policy;
  return MAIL_OK;
}

int mail_smtp_envelope_set_body_mime(mail_smtp_envelope *e, struct mail_mime_builder *msg)
{
  if (!e || !msg)
    return MAIL_ERR_INVALID;
#if MAIL_WITH_MIME
  uint64_t size;
  unsigned needs;
  int rc = mail_mime_builder_size(msg, &size);
  if (!rc)
    rc = mail_mime_builder_transport(msg, &needs);
  if (rc)
    return rc;
  e->body_kind = SMTP_BODY_MIME;
  e->mime = msg;
  e->size = size;
  e->needs = needs & 7u;
  return MAIL_OK;
#else
  return MAIL_ERR_UNSUPPORTED;
#endif
}

int mail_smtp_envelope_add_mime_addresses(mail_smtp_envelope *e, struct mail_mime_builder *msg)
{
  if (!e || !msg)
    return MAIL_ERR_INVALID;
#if MAIL_WITH_MIME
  const char *addr;
  int rc;
  if (!e->from) {
    rc = mail_mime_builder_envelope_from(msg, &addr);
    if (!rc)
      rc = mail_smtp_envelope_set_from(e, addr);
    if (rc)
      return rc;
  }
  size_t n = mail_mime_builder_envelope_count(msg);
  for (size_t i = 0; i < n; i++) {
    rc = mail_mime_builder_envelope_recipient(msg, i, &addr);
    if (!rc)
      rc = mail_smtp_envelope_add_recipient(e, addr, NULL);
    if (rc)
      return rc;
  }
  return MAIL_OK;
#else
  return MAIL_ERR_UNSUPPORTED;
#endif
}

int mail_smtp_envelope_set_body_callback(mail_smtp_envelope *e, mail_smtp_read_fn read, void *user,
                                         uint64_t size, unsigned int needs)
{
  if (!e || !read || (needs & ~7u))
    return MAIL_ERR_INVALID;
  e->body_kind = SMTP_BODY_CALLBACK;
  e->read = read;
  e->read_user = user;
  e->size = size;
  e->needs = needs;
  return MAIL_OK;
}

int mail_smtp_envelope_set_body_data(mail_smtp_envelope *e, const void *data, size_t len)
{
  if (!e || (!data && len))
    return MAIL_ERR_INVALID;
  e->body_kind = SMTP_BODY_DATA;
  e->data = data ? data : (const unsigned char *)"";
  e->data_len = len;
  e->size = len;
  e->needs = mail_ascii_only(e->data, len) ? 0 : MAIL_SMTP_NEEDS_8BIT;
  return MAIL_OK;
}

size_t mail_smtp_envelope_recipient_count(const mail_smtp_envelope *e)
{
  return e ? e->nrcpts : 0;
}

const char *mail_smtp_envelope_recipient_address(const mail_smtp_envelope *e, size_t i)
{
  return e && i < e->nrcpts ? e->rcpts[i].addr : NULL;
}

int mail_smtp_envelope_recipient_status(const mail_smtp_envelope *e, size_t i)
{
  if (!e || i >= e->nrcpts)
    return MAIL_ERR_NOT_FOUND;
  return e->rcpts[i].status;
}

int mail_smtp_envelope_recipient_code(const mail_smtp_envelope *e, size_t i)
{
  return e && i < e->nrcpts ? e->rcpts[i].code : 0;
}

int mail_smtp_envelope_recipient_enhanced(const mail_smtp_envelope *e, size_t i, unsigned int *cls,
                                          unsigned int *subject, unsigned int *detail)
{
  if (!e || i >= e->nrcpts || !e->rcpts[i].has_enh)
    return MAIL_ERR_NOT_FOUND;
  if (cls)
    *cls = e->rcpts[i].enh[0];
  if (subject)
    *subject = e->rcpts[i].enh[1];
  if (detail)
    *detail = e->rcpts[i].enh[2];
  return MAIL_OK;
}

const char *mail_smtp_envelope_recipient_text(const mail_smtp_envelope *e, size_t i)
{
  if (!e || i >= e->nrcpts || !e->rcpts[i].text)
    return "";
  return e->rcpts[i].text;
}

void smtp_envelope_reset_results(mail_smtp_envelope *e)
{
  for (size_t i = 0; i < e->nrcpts; i++)
    clear_result(e, &e->rcpts[i]);
  text_unref(e, e->last_text);
  e->last_text = NULL;
}

int smtp_envelope_record(mail_smtp_envelope *e, size_t i, const mail_smtp_reply *r, int status)
{
  smtp_rcpt *rc = &e->rcpts[i];
  rc->status = status;
  rc->code = mail_smtp_reply_code(r);
  rc->has_enh = mail_smtp_reply_enhanced(r, &rc->enh[0], &rc->enh[1], &rc->enh[2]) == MAIL_OK;
  size_t len = 0;
  const char *t = mail_smtp_reply_text(r, &len);
  if (!t)
    t = "";
  char *text;
  if (e->last_text && strlen(e->last_text) == len && !memcmp(e->last_text, t, len)) {
    text = text_ref(e->last_text);
  } else {
    text = text_new(e, t, len);
    if (!text)
      return MAIL_ERR_NOMEM;
    text_unref(e, e->last_text);
    e->last_text = text_ref(text);
  }
  text_unref(e, rc->text);
  rc->text = text;
  return MAIL_OK;
}

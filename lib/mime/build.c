/* The MIME builder object: constructor, setters, parts and envelope. The
 * output side (freezing, encodings, streaming) is in build_output.c. */
#include "mime/build_internal.h"

#include <string.h>
#include <strings.h>

#include "core/mem.h"

static const mail_allocator *A(const mail_mime_builder *m)
{
  return &m->env.alloc;
}

static int grow(const mail_allocator *a, void **v, size_t *cap, size_t n, size_t elem)
{
  if (n < *cap)
    return MAIL_OK;
  size_t nc = *cap ? *cap * 2 : 4;
  if (nc > SIZE_MAX / elem)
    return MAIL_ERR_NOMEM;
  void *p = mail_realloc(a, *v, nc * elem);
  if (!p)
    return MAIL_ERR_NOMEM;
  *v = p;
  *cap = nc;
  return MAIL_OK;
}

int mail_build_parts_push(mail_mime_builder *msg, build_parts *list, mail_mime_builder_part *p)
{
  int rc = grow(A(msg), (void **)&list->v, &list->cap, list->n, sizeof *list->v);
  if (rc == MAIL_OK)
    list->v[list->n++] = p;
  return rc;
}

/* Caller text: no CR/LF/NUL (no header injection), valid UTF-8. */
static int check_text(const char *s)
{
  if (!s)
    return MAIL_ERR_INVALID;
  size_t n = strlen(s);
  if (mail_has_crlfnul(s, n))
    return MAIL_ERR_INVALID;
  if (!mail_utf8_valid(s, n))
    return MAIL_ERR_CHARSET;
  return MAIL_OK;
}

static int writable(const mail_mime_builder *m)
{
  if (!m)
    return MAIL_ERR_INVALID;
  return m->frozen || m->attached ? MAIL_ERR_STATE : MAIL_OK;
}

/* ------------------------------------------------------------ life */

int mail_mime_builder_new(mail_mime_builder **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_env env;
  int rc = mail_env_init(&env, alloc);
  if (rc)
    return rc;
  mail_mime_builder *m = mail_calloc(&env.alloc, 1, sizeof *m);
  if (!m)
    return MAIL_ERR_NOMEM;
  m->env = env;
  mail_buf_init(&m->lit, &m->env.alloc, 0);
  *out = m;
  return MAIL_OK;
}

static void headers_free(const mail_allocator *a, build_headers *h)
{
  for (size_t i = 0; i < h->n; i++) {
    mail_dealloc(a, h->v[i].name);
    mail_dealloc(a, h->v[i].value);
  }
  mail_dealloc(a, h->v);
  memset(h, 0, sizeof *h);
}

static void addrs_free(const mail_allocator *a, build_addrs *l)
{
  for (size_t i = 0; i < l->n; i++) {
    mail_dealloc(a, l->v[i].name);
    mail_dealloc(a, l->v[i].addr);
  }
  mail_dealloc(a, l->v);
  memset(l, 0, sizeof *l);
}

static void part_free(const mail_allocator *a, mail_mime_builder_part *p)
{
  mail_dealloc(a, p->content_type);
  mail_dealloc(a, p->filename);
  mail_dealloc(a, p->content_id);
  headers_free(a, &p->headers);
  mail_dealloc(a, p->mem);
  if (p->fp)
    fclose(p->fp);
  if (p->inner) {
    p->inner->attached = 0;
    mail_mime_builder_free(p->inner);
  }
  mail_dealloc(a, p->kids.v);
  mail_dealloc(a, p);
}

void mail_mime_builder_free(mail_mime_builder *m)
{
  if (!m)
    return;
  const mail_allocator a = m->env.alloc;
  for (size_t i = 0; i < m->owned.n; i++)
    part_free(&a, m->owned.v[i]);
  mail_dealloc(&a, m->owned.v);
  mail_dealloc(&a, m->inlines.v);
  mail_dealloc(&a, m->attachments.v);
  mail_dealloc(&a, m->from.name);
  mail_dealloc(&a, m->from.addr);
  mail_dealloc(&a, m->sender.name);
  mail_dealloc(&a, m->sender.addr);
  addrs_free(&a, &m->to);
  addrs_free(&a, &m->cc);
  addrs_free(&a, &m->bcc);
  addrs_free(&a, &m->reply_to);
  mail_dealloc(&a, m->subject);
  mail_dealloc(&a, m->msg_id);
  headers_free(&a, &m->headers);
  mail_dealloc(&a, m->rcpt);
  mail_buf_free(&m->lit);
  mail_dealloc(&a, m->segs);
  mail_build_stream_free(m);
  mail_dealloc(&a, m);
}

int mail_mime_builder_set_random(mail_mime_builder *m, mail_random_fn fn, void *user)
{
  int rc = writable(m);
  if (rc)
    return rc;
  mail_env_set_random(&m->env, fn, user);
  return MAIL_OK;
}

int mail_mime_builder_set_clock(mail_mime_builder *m, mail_clock_fn fn, void *user)
{
  int rc = writable(m);
  if (rc)
    return rc;
  mail_env_set_clock(&m->env, fn, user);
  return MAIL_OK;
}

unsigned int mail_mime_builder_get_options(const mail_mime_builder *m)
{
  return m ? m->options : 0;
}

int mail_mime_builder_set_options(mail_mime_builder *m, unsigned int options)
{
  int rc = writable(m);
  if (rc)
    return rc;
  if (options & ~(MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_BINARYMIME | MAIL_MIME_OPT_SMTPUTF8 |
                  MAIL_MIME_OPT_COMPAT_FILENAME))
    return MAIL_ERR_INVALID;
  m->options = options;
  return MAIL_OK;
}

/* ------------------------------------------------------- addresses */

static int make_addr(mail_mime_builder *m, const char *name, const char *addr, build_addr *out)
{
  int rc = writable(m);
  if (rc)
    return rc;
  if (name && (rc = check_text(name)) != MAIL_OK)
    return rc;
  int non_ascii = 0;
  if ((rc = mail_addr_spec_check(addr, &non_ascii)) != MAIL_OK)
    return rc;
  out->name = name && *name ? mail_strdup(A(m), name) : NULL;
  out->addr = mail_strdup(A(m), addr);
  if ((name && *name && !out->name) || !out->addr) {
    mail_dealloc(A(m), out->name);
    mail_dealloc(A(m), out->addr);
    return MAIL_ERR_NOMEM;
  }
  if (non_ascii)
    m->addr_utf8 = 1;
  return MAIL_OK;
}

static int add_rcpt(mail_mime_builder *m, const char *addr)
{
  for (size_t i = 0; i < m->nrcpt; i++)
    if (strcmp(m->rcpt[i], addr) == 0)
      return MAIL_OK;
  int rc = grow(A(m), (void **)&m->rcpt, &m->rcpt_cap, m->nrcpt, sizeof *m->rcpt);
  if (rc == MAIL_OK)
    m->rcpt[m->nrcpt++] = addr;
  return rc;
}

static int add_addr(mail_mime_builder *m, build_addrs *list, const char *name, const char *addr, int rcpt)
{
  build_addr a;
  int rc = make_addr(m, name, addr, &a);
  if (rc)
    return rc;
  rc = grow(A(m), (void **)&list->v, &list->cap, list->n, sizeof *list->v);
  if (rc == MAIL_OK && rcpt)
    rc = grow(A(m), (void **)&m->rcpt, &m->rcpt_cap, m->nrcpt, sizeof *m->rcpt);
  if (rc) {
    mail_dealloc(A(m), a.name);
    mail_dealloc(A(m), a.addr);
    return rc;
  }
  list->v[list->n++] = a;
  if (rcpt)
    add_rcpt(m, a.addr); /* room was reserved above: cannot fail */
  return MAIL_OK;
}

/* A single-mailbox field (From, Sender): the new one replaces the old. */
static int set_addr(mail_mime_builder *m, build_addr *field, const char *name, const char *addr)
{
  build_addr a;
  int rc = make_addr(m, name, addr, &a);
  if (rc)
    return rc;
  mail_dealloc(A(m), field->name);
  mail_dealloc(A(m), field->addr);
  *field = a;
  return MAIL_OK;
}

int mail_mime_builder_set_from(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? set_addr(m, &m->from, name, addr) : MAIL_ERR_INVALID;
}

int mail_mime_builder_set_sender(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? set_addr(m, &m->sender, name, addr) : MAIL_ERR_INVALID;
}

int mail_mime_builder_add_to(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? add_addr(m, &m->to, name, addr, 1) : MAIL_ERR_INVALID;
}

int mail_mime_builder_add_cc(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? add_addr(m, &m->cc, name, addr, 1) : MAIL_ERR_INVALID;
}

int mail_mime_builder_add_bcc(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? add_addr(m, &m->bcc, name, addr, 1) : MAIL_ERR_INVALID;
}

int mail_mime_builder_add_reply_to(mail_mime_builder *m, const char *name, const char *addr)
{
  return m ? add_addr(m, &m->reply_to, name, addr, 0) : MAIL_ERR_INVALID;
}

int mail_mime_builder_add_address(mail_mime_builder *m, int field, const mail_address *a)
{
  if (!m || !a)
    return MAIL_ERR_INVALID;
  switch (field) {
  case MAIL_MIME_FIELD_FROM: return mail_mime_builder_set_from(m, a->name, a->mailbox);
  case MAIL_MIME_FIELD_TO: return mail_mime_builder_add_to(m, a->name, a->mailbox);
  case MAIL_MIME_FIELD_CC: return mail_mime_builder_add_cc(m, a->name, a->mailbox);
  case MAIL_MIME_FIELD_BCC: return mail_mime_builder_add_bcc(m, a->name, a->mailbox);
  case MAIL_MIME_FIELD_REPLY_TO: return mail_mime_builder_add_reply_to(m, a->name, a->mailbox);
  case MAIL_MIME_FIELD_SENDER: return mail_mime_builder_set_sender(m, a->name, a->mailbox);
  default: return MAIL_ERR_INVALID;
  }
}

/* --------------------------------------------------------- headers */

static int set_string(mail_mime_builder *m, char **slot, const char *s)
{
  char *c = mail_strdup(A(m), s);
  if (!c)
    return MAIL_ERR_NOMEM;
  mail_dealloc(A(m), *slot);
  *slot = c;
  return MAIL_OK;
}

int mail_mime_builder_set_subject(mail_mime_builder *m, const char *subject)
{
  int rc = writable(m);
  if (rc == MAIL_OK)
    rc = check_text(subject);
  return rc ? rc : set_string(m, &m->subject, subject);
}

int mail_mime_builder_set_date(mail_mime_builder *m, int64_t secs, int off)
{
  int rc = writable(m);
  if (rc)
    return rc;
  /* years 1..9999 keep the four-digit year of RFC 5322 */
  if (off < -1439 || off > 1439 || secs < -62135596800LL + 86400 || secs > 253402214400LL - 86400)
    return MAIL_ERR_INVALID;
  m->has_date = 1;
  m->date = secs;
  m->date_off = off;
  return MAIL_OK;
}

int mail_mime_builder_set_message_id(mail_mime_builder *m, const char *id)
{
  int rc = writable(m);
  if (rc == MAIL_OK)
    rc = mail_msg_id_check(id);
  return rc ? rc : set_string(m, &m->msg_id, id);
}

/* Fields the builder writes itself: a caller's copy would duplicate or
 * contradict them (a second Content-Type changes how the body is read). */
static int reserved_name(const char *name, int part)
{
  static const char *const top[] = {"Date", "From", "Sender", "To", "Cc", "Bcc", "Reply-To",
                                    "Subject", "Message-ID", NULL};
  if (strncasecmp(name, "Content-", 8) == 0 || strcasecmp(name, "MIME-Version") == 0)
    return 1;
  if (!part)
    for (size_t i = 0; top[i]; i++)
      if (strcasecmp(name, top[i]) == 0)
        return 1;
  return 0;
}

static int add_header(mail_mime_builder *m, build_headers *h, const char *name, const char *value, int part)
{
  int rc = writable(m);
  if (rc)
    return rc;
  if (!name || !value)
    return MAIL_ERR_INVALID;
  if ((rc = mail_header_name_check(name)) != MAIL_OK)
    return rc;
  if ((rc = check_text(value)) != MAIL_OK)
    return rc;
  if (reserved_name(name, part) && !(part && strcasecmp(name, "Content-Description") == 0))
    return MAIL_ERR_INVALID;
  rc = grow(A(m), (void **)&h->v, &h->cap, h->n, sizeof *h->v);
  if (rc)
    return rc;
  build_header e = {mail_strdup(A(m), name), mail_strdup(A(m), value)};
  if (!e.name || !e.value) {
    mail_dealloc(A(m), e.name);
    mail_dealloc(A(m), e.value);
    return MAIL_ERR_NOMEM;
  }
  h->v[h->n++] = e;
  return MAIL_OK;
}

int mail_mime_builder_add_header(mail_mime_builder *m, const char *name, const char *value)
{
  return m ? add_header(m, &m->headers, name, value, 0) : MAIL_ERR_INVALID;
}

int mail_mime_builder_part_add_header(mail_mime_builder_part *p, const char *name, const char *value)
{
  return p ? add_header(p->msg, &p->headers, name, value, 1) : MAIL_ERR_INVALID;
}

/* ----------------------------------------------------------- parts */

int mail_build_part_new(mail_mime_builder *m, int kind, const char *ct, mail_mime_builder_part **out)
{
  mail_mime_builder_part *p = mail_calloc(A(m), 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->msg = m;
  p->kind = kind;
  p->forced_enc = MAIL_MIME_BUILD_ENC_AUTO;
  p->content_type = mail_strdup(A(m), ct);
  if (!p->content_type || mail_build_parts_push(m, &m->owned, p) != MAIL_OK) {
    mail_dealloc(A(m), p->content_type);
    mail_dealloc(A(m), p);
    return MAIL_ERR_NOMEM;
  }
  p->is_text = strncasecmp(ct, "text/", 5) == 0;
  *out = p;
  return MAIL_OK;
}

/* Drop the most recently created part (a later step of its setter failed). */
static void part_discard(mail_mime_builder *m, mail_mime_builder_part *p)
{
  if (m->owned.n && m->owned.v[m->owned.n - 1] == p) {
    m->owned.n--;
    if (p->inner)
      p->inner = NULL; /* the caller keeps it on failure */
    part_free(A(m), p);
  }
}

static int set_body(mail_mime_builder *m, mail_mime_builder_part **slot, const char *ct, const char *s, size_t n)
{
  int rc = writable(m);
  if (rc)
    return rc;
  if (!s && n)
    return MAIL_ERR_INVALID;
  if (n && !mail_utf8_valid(s, n))
    return MAIL_ERR_CHARSET;
  unsigned char *copy = mail_memdup(A(m), n ? s : "", n);
  if (!copy)
    return MAIL_ERR_NOMEM;
  if (!*slot) {
    if ((rc = mail_build_part_new(m, PK_LEAF, ct, slot)) != MAIL_OK) {
      mail_dealloc(A(m), copy);
      return rc;
    }
    (*slot)->src = SRC_MEM;
  }
  mail_dealloc(A(m), (*slot)->mem);
  (*slot)->mem = copy;
  (*slot)->mem_len = n;
  return MAIL_OK;
}

int mail_mime_builder_set_text(mail_mime_builder *m, const char *text, size_t len)
{
  return set_body(m, m ? &m->text : NULL, "text/plain", text, len);
}

int mail_mime_builder_set_html(mail_mime_builder *m, const char *html, size_t len)
{
  return set_body(m, m ? &m->html : NULL, "text/html", html, len);
}

/* Common start of every attachment setter: checks and a new leaf. */
static int new_leaf(mail_mime_builder *m, const char *ct, const char *filename, int kind,
                    mail_mime_builder_part **out)
{
  int rc = writable(m);
  if (rc)
    return rc;
  if (!ct)
    ct = "application/octet-stream";
  if ((rc = mail_content_type_check(ct)) != MAIL_OK)
    return rc;
  if (filename) {
    if ((rc = check_text(filename)) != MAIL_OK)
      return rc;
    if (!*filename || strlen(filename) > 1024)
      return MAIL_ERR_INVALID;
  }
  if ((rc = mail_build_part_new(m, kind, ct, out)) != MAIL_OK)
    return rc;
  (*out)->disposition = DISP_ATTACHMENT;
  if (filename && !((*out)->filename = mail_strdup(A(m), filename))) {
    part_discard(m, *out);
    return MAIL_ERR_NOMEM;
  }
  return MAIL_OK;
}

static int attach(mail_mime_builder *m, build_parts *list, mail_mime_builder_part *p, mail_mime_builder_part **out)
{
  int rc = mail_build_parts_push(m, list, p);
  if (rc) {
    part_discard(m, p);
    return rc;
  }
  if (out)
    *out = p;
  return MAIL_OK;
}

static int set_mem(mail_mime_builder *m, mail_mime_builder_part *p, const void *data, size_t len)
{
  p->src = SRC_MEM;
  p->mem_len = len;
  p->mem = mail_memdup(A(m), len ? data : "", len);
  if (!p->mem) {
    part_discard(m, p);
    return MAIL_ERR_NOMEM;
  }
  return MAIL_OK;
}

int mail_mime_builder_add_inline(mail_mime_builder *m, const char *ct, const char *filename,
                                 const void *data, size_t len, const char *content_id,
                                 mail_mime_builder_part **out)
{
  if (!m || (!data && len) || !ct)
    return MAIL_ERR_INVALID;
  int rc = mail_msg_id_check(content_id);
  if (rc)
    return rc;
  mail_mime_builder_part *p;
  if ((rc = new_leaf(m, ct, filename, PK_LEAF, &p)) != MAIL_OK)
    return rc;
  p->disposition = DISP_INLINE;
  if (!(p->content_id = mail_strdup(A(m), content_id))) {
    part_discard(m, p);
    return MAIL_ERR_NOMEM;
  }
  if ((rc = set_mem(m, p, data, len)) != MAIL_OK)
    return rc;
  return attach(m, &m->inlines, p, out);
}

int mail_mime_builder_add_attachment(mail_mime_builder *m, const char *ct, const char *filename,
                                     const void *data, size_t len, mail_mime_builder_part **out)
{
  if (!m || (!data && len))
    return MAIL_ERR_INVALID;
  mail_mime_builder_part *p;
  int rc = new_leaf(m, ct, filename, PK_LEAF, &p);
  if (rc == MAIL_OK)
    rc = set_mem(m, p, data, len);
  return rc ? rc : attach(m, &m->attachments, p, out);
}

int mail_mime_builder_add_attachment_file(mail_mime_builder *m, const char *ct, const char *filename,
                                          const char *path, mail_mime_builder_part **out)
{
  if (!m || !path)
    return MAIL_ERR_INVALID;
  mail_mime_builder_part *p;
  int rc = new_leaf(m, ct, filename, PK_LEAF, &p);
  if (rc)
    return rc;
  p->src = SRC_FILE;
  p->fp = fopen(path, "rb");
  if (!p->fp) {
    part_discard(m, p);
    return MAIL_ERR_FILE;
  }
  return attach(m, &m->attachments, p, out);
}

int mail_mime_builder_add_attachment_callback(mail_mime_builder *m, const char *ct, const char *filename,
                                              mail_mime_read_fn read, mail_mime_rewind_fn rewind,
                                              void *user, uint64_t length, mail_mime_builder_part **out)
{
  if (!m || !read || (!rewind && length == MAIL_MIME_LENGTH_UNKNOWN))
    return MAIL_ERR_INVALID;
  mail_mime_builder_part *p;
  int rc = new_leaf(m, ct, filename, PK_LEAF, &p);
  if (rc)
    return rc;
  p->src = SRC_CB;
  p->read_fn = read;
  p->rewind_fn = rewind;
  p->user = user;
  p->declared_len = length;
  return attach(m, &m->attachments, p, out);
}

int mail_mime_builder_attach_message(mail_mime_builder *m, mail_mime_builder *inner, const char *filename,
                                     mail_mime_builder_part **out)
{
  if (!m || !inner || inner == m || inner->frozen || inner->attached)
    return MAIL_ERR_INVALID;
  mail_mime_builder_part *p;
  int rc = new_leaf(m, "message/rfc822", filename, PK_MESSAGE, &p);
  if (rc)
    return rc;
  p->src = SRC_MSG;
  p->inner = inner;
  if ((rc = attach(m, &m->attachments, p, out)) != MAIL_OK)
    return rc;
  inner->attached = 1;
  return MAIL_OK;
}

int mail_mime_builder_attach_message_data(mail_mime_builder *m, const void *data, size_t len,
                                          const char *filename, mail_mime_builder_part **out)
{
  if (!m || (!data && len))
    return MAIL_ERR_INVALID;
  mail_mime_builder_part *p;
  int rc = new_leaf(m, "message/rfc822", filename, PK_MESSAGE, &p);
  if (rc == MAIL_OK)
    rc = set_mem(m, p, data, len);
  if (rc)
    return rc;
  p->normalise = 1;
  return attach(m, &m->attachments, p, out);
}

int mail_mime_builder_part_set_encoding(mail_mime_builder_part *p, int enc)
{
  if (!p || enc < MAIL_MIME_BUILD_ENC_AUTO || enc > MAIL_MIME_ENC_BASE64)
    return MAIL_ERR_INVALID;
  int rc = writable(p->msg);
  if (rc)
    return rc;
  if (p->src == SRC_CB && !p->rewind_fn && enc != MAIL_MIME_BUILD_ENC_AUTO && enc != MAIL_MIME_ENC_BASE64 &&
      enc != MAIL_MIME_ENC_BINARY)
    return MAIL_ERR_UNSUPPORTED;
  if (p->kind == PK_MESSAGE && p->src == SRC_MSG && enc != MAIL_MIME_BUILD_ENC_AUTO)
    return MAIL_ERR_UNSUPPORTED;
  p->forced_enc = enc;
  return MAIL_OK;
}

int mail_mime_builder_part_set_content_id(mail_mime_builder_part *p, const char *id)
{
  if (!p)
    return MAIL_ERR_INVALID;
  int rc = writable(p->msg);
  if (rc == MAIL_OK)
    rc = mail_msg_id_check(id);
  return rc ? rc : set_string(p->msg, &p->content_id, id);
}

/* -------------------------------------------------------- envelope */

int mail_mime_builder_envelope_from(const mail_mime_builder *m, const char **address)
{
  if (!m || !address)
    return MAIL_ERR_INVALID;
  /* The mailbox responsible for sending takes the bounces (RFC 5322
   * section 3.6.2): the Sender when there is one. */
  const char *a = m->sender.addr ? m->sender.addr : m->from.addr;
  if (!a)
    return MAIL_ERR_NOT_FOUND;
  *address = a;
  return MAIL_OK;
}

size_t mail_mime_builder_envelope_count(const mail_mime_builder *m)
{
  return m ? m->nrcpt : 0;
}

int mail_mime_builder_envelope_recipient(const mail_mime_builder *m, size_t index, const char **address)
{
  if (!m || !address)
    return MAIL_ERR_INVALID;
  if (index >= m->nrcpt)
    return MAIL_ERR_NOT_FOUND;
  *address = m->rcpt[index];
  return MAIL_OK;
}

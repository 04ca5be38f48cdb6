/* Freezing a message (structure, transfer encodings, exact size) and
 * producing it as a stream. The output is a list of segments: literal
 * bytes (headers, boundaries) kept in one buffer, and part bodies encoded
 * on the fly from their source through a fixed-size buffer, so memory use
 * does not depend on attachment sizes. */
#include "mime/build_internal.h"

#include <string.h>
#include <strings.h>

#include "core/handout.h"
#include "core/mem.h"

static const mail_allocator *A(const mail_mime_builder *m)
{
  return &m->env.alloc;
}

static unsigned allow_8bit(const mail_mime_builder *m)
{
  return m->options & (MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_BINARYMIME | MAIL_MIME_OPT_SMTPUTF8);
}

static unsigned allow_binary(const mail_mime_builder *m)
{
  return m->options & MAIL_MIME_OPT_BINARYMIME;
}

/* Errors from a source name the kind of source that failed. */
static int src_error(const mail_mime_builder_part *p)
{
  switch (p->src) {
  case SRC_FILE: return MAIL_ERR_FILE;
  case SRC_CB: return MAIL_ERR_CALLBACK;
  default: return MAIL_ERR_INTERNAL;
  }
}

/* ---------------------------------------------------------- sources */

static int src_rewind(mail_mime_builder_part *p, size_t *mem_pos)
{
  switch (p->src) {
  case SRC_MEM:
    *mem_pos = 0;
    return MAIL_OK;
  case SRC_FILE:
    clearerr(p->fp);
    return fseeko(p->fp, 0, SEEK_SET) == 0 ? MAIL_OK : MAIL_ERR_FILE;
  case SRC_CB:
    if (p->rewind_fn)
      return p->rewind_fn(p->user) == 0 ? MAIL_OK : MAIL_ERR_CALLBACK;
    if (p->consumed)
      return MAIL_ERR_UNSUPPORTED;
    p->consumed = 1;
    return MAIL_OK;
  default:
    return MAIL_ERR_INTERNAL;
  }
}

static int src_read(mail_mime_builder_part *p, size_t *mem_pos, unsigned char *buf, size_t cap, size_t *got)
{
  size_t k = 0;
  switch (p->src) {
  case SRC_MEM:
    k = p->mem_len - *mem_pos < cap ? p->mem_len - *mem_pos : cap;
    memcpy(buf, p->mem + *mem_pos, k);
    *mem_pos += k;
    break;
  case SRC_FILE:
    k = fread(buf, 1, cap, p->fp);
    if (k == 0 && ferror(p->fp))
      return MAIL_ERR_FILE;
    break;
  case SRC_CB:
    if (p->read_fn(p->user, buf, cap, &k) != 0 || k > cap)
      return MAIL_ERR_CALLBACK;
    break;
  default:
    return MAIL_ERR_INTERNAL;
  }
  *got = k;
  return MAIL_OK;
}

/* --------------------------------------------------------- analysis */

typedef struct body_stats {
  uint64_t raw;    /* source bytes */
  uint64_t ident;  /* bytes as 7bit/8bit/binary (text: CRLF line ends) */
  uint64_t qp;     /* bytes as quoted-printable */
  int has8, nul, longline, bare;
  int clash;       /* a line starts with "--" and a boundary around it */
} body_stats;

/* The start of a line, enough to hold "--" and any boundary we make. */
typedef struct line_head {
  unsigned char b[56];
  size_t n;
} line_head;

/* Parsers may take a line as a delimiter when it only starts with one
 * (RFC 2046 5.1.1 allows it), so a prefix is a clash. */
static int line_clashes(const line_head *h, const build_bnd *up)
{
  if (h->n < 3 || h->b[0] != '-' || h->b[1] != '-')
    return 0;
  for (; up; up = up->up)
    if (h->n >= 2 + up->len && memcmp(h->b + 2, up->s, up->len) == 0)
      return 1;
  return 0;
}

static void line_feed(line_head *h, const build_bnd *up, const unsigned char *d, size_t n, int *clash)
{
  size_t i = 0;
  while (i < n) {
    const unsigned char *nl = memchr(d + i, '\n', n - i);
    size_t end = nl ? (size_t)(nl - d) : n;
    size_t take = end - i < sizeof h->b - h->n ? end - i : sizeof h->b - h->n;
    memcpy(h->b + h->n, d + i, take);
    h->n += take;
    if (!nl)
      return;
    if (line_clashes(h, up))
      *clash = 1;
    h->n = 0;
    i = end + 1;
  }
}

/* Length of a source without reading it, when it can be known. */
static int src_length(mail_mime_builder_part *p, uint64_t *len)
{
  if (p->src == SRC_FILE) {
    if (fseeko(p->fp, 0, SEEK_END) != 0)
      return MAIL_ERR_FILE;
    off_t end = ftello(p->fp);
    if (end < 0)
      return MAIL_ERR_FILE;
    *len = (uint64_t)end;
    return MAIL_OK;
  }
  if (p->src == SRC_CB && p->declared_len != MAIL_MIME_LENGTH_UNKNOWN) {
    *len = p->declared_len;
    return MAIL_OK;
  }
  return MAIL_ERR_NOT_FOUND;
}

/* Read a source once: what it holds decides the encoding and gives every
 * candidate's exact length. Binary content stops early when its length is
 * known another way (a file, a declared length). */
static int analyse(mail_mime_builder *m, mail_mime_builder_part *p, int need_qp, const build_bnd *up,
                   body_stats *s)
{
  memset(s, 0, sizeof *s);
  size_t mem_pos = 0;
  int rc = src_rewind(p, &mem_pos);
  if (rc)
    return rc;
  mail_qp_enc qp;
  mail_qp_enc_init(&qp, p->normalise);
  int last_cr = 0, prev_cr = 0;
  uint64_t line = 0;
  line_head head = {{0}, 0};
  int may_be_binary = allow_binary(m) && (p->forced_enc == MAIL_MIME_BUILD_ENC_AUTO || p->forced_enc == MAIL_MIME_ENC_BINARY);
  unsigned char *buf = m->st.in;
  for (;;) {
    size_t k;
    if ((rc = src_read(p, &mem_pos, buf, m->st.chunk, &k)) != MAIL_OK)
      return rc;
    if (k == 0)
      break;
    s->raw += k;
    if (p->normalise)
      k = mail_text_to_lf(&last_cr, buf, k);
    if (up)
      line_feed(&head, up, buf, k, &s->clash);
    for (size_t i = 0; i < k; i++) {
      unsigned char c = buf[i];
      if (c == 0)
        s->nul = 1;
      else if (c >= 0x80)
        s->has8 = 1;
      if (p->normalise) {
        if (c == '\n') {
          s->ident += 2;
          line = 0;
        } else {
          s->ident++;
          if (++line > MAIL_HDR_MAX_LINE)
            s->longline = 1;
        }
      } else {
        s->ident++;
        if (c == '\n') {
          if (!prev_cr)
            s->bare = 1;
          prev_cr = 0;
          line = 0;
        } else {
          if (prev_cr)
            s->bare = 1;
          prev_cr = c == '\r';
          if (!prev_cr && ++line > MAIL_HDR_MAX_LINE)
            s->longline = 1;
        }
      }
    }
    if (need_qp)
      s->qp += mail_qp_enc_update(&qp, buf, k, NULL);
    int identity_possible = !s->nul && !s->longline && !s->bare && (!s->has8 || allow_8bit(m));
    /* Sent as binary, every line must be seen for a boundary. */
    if (!need_qp && !p->normalise && !identity_possible && !(up && may_be_binary)) {
      uint64_t len;
      if (src_length(p, &len) == MAIL_OK) {
        if (len < s->raw)
          return src_error(p);
        s->raw = s->ident = len;
        return MAIL_OK;
      }
    }
  }
  if (prev_cr)
    s->bare = 1;
  if (line_clashes(&head, up))
    s->clash = 1;
  if (need_qp)
    s->qp += mail_qp_enc_finish(&qp, NULL);
  if (p->src == SRC_CB && p->declared_len != MAIL_MIME_LENGTH_UNKNOWN && p->declared_len != s->raw)
    return MAIL_ERR_CALLBACK;
  return MAIL_OK;
}

static int choose_encoding(mail_mime_builder *m, mail_mime_builder_part *p, const body_stats *s)
{
  int clean7 = !s->has8 && !s->nul && !s->longline && !s->bare;
  int ok8 = allow_8bit(m) && !s->nul && !s->longline && !s->bare;
  uint64_t b64 = mail_b64_wrap_len(s->ident);
  switch (p->forced_enc) {
  case MAIL_MIME_ENC_7BIT:
    return clean7 ? MAIL_MIME_ENC_7BIT : MAIL_ERR_UNSUPPORTED;
  case MAIL_MIME_ENC_8BIT:
    return ok8 ? MAIL_MIME_ENC_8BIT : MAIL_ERR_UNSUPPORTED;
  case MAIL_MIME_ENC_BINARY:
    return allow_binary(m) ? MAIL_MIME_ENC_BINARY : MAIL_ERR_UNSUPPORTED;
  case MAIL_MIME_ENC_QUOTED_PRINTABLE:
  case MAIL_MIME_ENC_BASE64:
    if (p->kind == PK_MESSAGE)
      return MAIL_ERR_UNSUPPORTED;
    return p->forced_enc;
  default:
    break;
  }
  if (clean7)
    return MAIL_MIME_ENC_7BIT;
  if (ok8)
    return MAIL_MIME_ENC_8BIT;
  if (allow_binary(m))
    return MAIL_MIME_ENC_BINARY;
  if (p->normalise && p->kind == PK_LEAF && s->qp <= b64)
    return MAIL_MIME_ENC_QUOTED_PRINTABLE;
  return MAIL_MIME_ENC_BASE64;
}

/* Sent as it is, a body must not hold a line that reads as a boundary
 * around it; the caller makes new boundaries and tries again. */
static int as_is(int enc)
{
  return enc == MAIL_MIME_ENC_7BIT || enc == MAIL_MIME_ENC_8BIT || enc == MAIL_MIME_ENC_BINARY;
}

static int prepare_leaf(mail_mime_builder *m, mail_mime_builder_part *p, const build_bnd *up)
{
  if (p->src == SRC_CB && !p->rewind_fn) {
    /* Not inspected: sent as it comes, sized from the declared length. */
    int enc = p->forced_enc != MAIL_MIME_BUILD_ENC_AUTO ? p->forced_enc : allow_binary(m) ? MAIL_MIME_ENC_BINARY : MAIL_MIME_ENC_BASE64;
    if (enc == MAIL_MIME_ENC_BINARY && !allow_binary(m))
      return MAIL_ERR_UNSUPPORTED;
    p->enc = enc;
    p->normalise = 0;
    p->raw_len = p->declared_len;
    p->enc_len = enc == MAIL_MIME_ENC_BASE64 ? mail_b64_wrap_len(p->raw_len) : p->raw_len;
    m->has_nonrewindable = 1;
    return MAIL_OK;
  }
  if (p->kind == PK_LEAF)
    p->normalise = p->is_text;
  int need_qp = (p->normalise && p->kind == PK_LEAF) || p->forced_enc == MAIL_MIME_ENC_QUOTED_PRINTABLE;
  body_stats s;
  int rc = analyse(m, p, need_qp, up, &s);
  if (rc)
    return rc;
  int enc = choose_encoding(m, p, &s);
  if (enc < 0)
    return enc;
  if (s.clash && as_is(enc)) {
    m->clash = 1;
    return MAIL_ERR_UNSUPPORTED;
  }
  p->enc = enc;
  p->raw_len = s.raw;
  switch (enc) {
  case MAIL_MIME_ENC_QUOTED_PRINTABLE: p->enc_len = s.qp; break;
  case MAIL_MIME_ENC_BASE64: p->enc_len = mail_b64_wrap_len(s.ident); break;
  default: p->enc_len = s.ident; break;
  }
  return MAIL_OK;
}

/* -------------------------------------------------------- structure */

static int new_multi(mail_mime_builder *m, const char *ct, mail_mime_builder_part **out)
{
  int rc = mail_build_part_new(m, PK_MULTI, ct, out);
  if (rc == MAIL_OK)
    (*out)->is_text = 0;
  return rc;
}

static int push_kid(mail_mime_builder *m, mail_mime_builder_part *multi, mail_mime_builder_part *kid)
{
  return mail_build_parts_push(m, &multi->kids, kid);
}

/* text + html -> alternative; html + inline parts -> related; any
 * attachment -> mixed around the rest. */
static int build_tree(mail_mime_builder *m, mail_mime_builder_part **root)
{
  int rc;
  mail_mime_builder_part *html = m->html, *body = NULL;
  int orphans = m->inlines.n && !html;
  if (html && m->inlines.n) {
    mail_mime_builder_part *rel;
    if ((rc = new_multi(m, "multipart/related", &rel)) != MAIL_OK || (rc = push_kid(m, rel, html)) != MAIL_OK)
      return rc;
    rel->related_type = "text/html";
    for (size_t i = 0; i < m->inlines.n; i++)
      if ((rc = push_kid(m, rel, m->inlines.v[i])) != MAIL_OK)
        return rc;
    html = rel;
  }
  if (m->text && html) {
    if ((rc = new_multi(m, "multipart/alternative", &body)) != MAIL_OK ||
        (rc = push_kid(m, body, m->text)) != MAIL_OK || (rc = push_kid(m, body, html)) != MAIL_OK)
      return rc;
  } else {
    body = m->text ? m->text : html;
  }
  if (m->attachments.n || orphans) {
    mail_mime_builder_part *mixed;
    if ((rc = new_multi(m, "multipart/mixed", &mixed)) != MAIL_OK)
      return rc;
    if (body && (rc = push_kid(m, mixed, body)) != MAIL_OK)
      return rc;
    if (orphans)
      for (size_t i = 0; i < m->inlines.n; i++)
        if ((rc = push_kid(m, mixed, m->inlines.v[i])) != MAIL_OK)
          return rc;
    for (size_t i = 0; i < m->attachments.n; i++)
      if ((rc = push_kid(m, mixed, m->attachments.v[i])) != MAIL_OK)
        return rc;
    body = mixed;
  }
  if (!body) {
    /* nothing was added: an empty text/plain body */
    if ((rc = mail_build_part_new(m, PK_LEAF, "text/plain", &m->text)) != MAIL_OK)
      return rc;
    m->text->src = SRC_MEM;
    if (!(m->text->mem = mail_memdup(A(m), "", 0)))
      return MAIL_ERR_NOMEM;
    body = m->text;
  }
  *root = body;
  return MAIL_OK;
}

/* ---------------------------------------------------------- segments */

static int push_seg(mail_mime_builder *m, build_seg seg)
{
  if (seg.kind == SEG_LIT && seg.len == 0)
    return MAIL_OK;
  /* consecutive literals merge */
  if (seg.kind == SEG_LIT && m->nsegs && m->segs[m->nsegs - 1].kind == SEG_LIT &&
      m->segs[m->nsegs - 1].off + m->segs[m->nsegs - 1].len == seg.off) {
    m->segs[m->nsegs - 1].len += seg.len;
    return MAIL_OK;
  }
  if (m->nsegs == m->seg_cap) {
    size_t nc = m->seg_cap ? m->seg_cap * 2 : 16;
    build_seg *v = mail_realloc(A(m), m->segs, nc * sizeof *v);
    if (!v)
      return MAIL_ERR_NOMEM;
    m->segs = v;
    m->seg_cap = nc;
  }
  m->segs[m->nsegs++] = seg;
  return MAIL_OK;
}

/* Literal bytes written to m->lit since off become a segment. */
static int flush_lit(mail_mime_builder *m, size_t *mark)
{
  build_seg s = {SEG_LIT, *mark, m->lit.len - *mark, NULL};
  *mark = m->lit.len;
  return push_seg(m, s);
}

static const char ALNUM[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static int random_alnum(mail_mime_builder *m, char *out, size_t n)
{
  unsigned char r[32];
  if (n > sizeof r)
    return MAIL_ERR_INTERNAL;
  int rc = mail_env_random(&m->env, r, n);
  if (rc)
    return rc;
  for (size_t i = 0; i < n; i++)
    out[i] = ALNUM[r[i] % 62];
  return MAIL_OK;
}

/* "=_" cannot occur in base64 or quoted-printable output, and a body sent
 * as it is gets checked for our boundaries. The sequence number keeps
 * nested boundaries distinct even with a constant random source; the "_"
 * after it keeps one from being the start of another ("_1_", "_12_"). */
static int make_boundary(mail_mime_builder *m, char out[48])
{
  memcpy(out, "=_", 2);
  int rc = random_alnum(m, out + 2, 24);
  if (rc)
    return rc;
  snprintf(out + 26, 22, "_%u_", ++m->boundary_seq);
  return MAIL_OK;
}

static const char *enc_name(int enc)
{
  switch (enc) {
  case MAIL_MIME_ENC_8BIT: return "8bit";
  case MAIL_MIME_ENC_BINARY: return "binary";
  case MAIL_MIME_ENC_QUOTED_PRINTABLE: return "quoted-printable";
  case MAIL_MIME_ENC_BASE64: return "base64";
  default: return "7bit";
  }
}

/* A parameter value short and printable enough for a plain name="...". */
static int simple_param(const char *v)
{
  size_t n = 0;
  if (strstr(v, "=?")) /* would be read as an RFC 2047 word */
    return 0;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++, n++)
    if (*p < 32 || *p > 126 || *p == '"' || *p == '\\')
      return 0;
  return n <= 60;
}

static void hdr_simple(mail_hdr_writer *w, mail_buf *out, const char *name, const char *value, int raw)
{
  mail_hdr_begin(w, out, name, raw);
  mail_hdr_token(w, value, strlen(value), 1);
}

static int finish_hdr(mail_mime_builder *m, mail_hdr_writer *w)
{
  if (w->used_utf8)
    m->needs |= MAIL_MIME_NEEDS_SMTPUTF8;
  return mail_hdr_end(w);
}

static int write_part_headers(mail_mime_builder *m, mail_mime_builder_part *p, const char *boundary)
{
  int raw = (m->options & MAIL_MIME_OPT_SMTPUTF8) != 0;
  mail_hdr_writer w;
  int rc;
  hdr_simple(&w, &m->lit, "Content-Type", p->content_type, raw);
  if (p->is_text && p->kind == PK_LEAF)
    mail_hdr_param(&w, "charset", "utf-8", 0);
  if (boundary)
    mail_hdr_param(&w, "boundary", boundary, 1);
  if (p->related_type)
    mail_hdr_param(&w, "type", p->related_type, 1);
  if (p->filename) {
    if (simple_param(p->filename))
      mail_hdr_param(&w, "name", p->filename, 1);
    else if (m->options & MAIL_MIME_OPT_COMPAT_FILENAME)
      mail_hdr_param_2047(&w, "name", p->filename);
  }
  if ((rc = finish_hdr(m, &w)) != MAIL_OK)
    return rc;
  if (p->kind != PK_MULTI) {
    hdr_simple(&w, &m->lit, "Content-Transfer-Encoding", enc_name(p->enc), raw);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  if (p->disposition != DISP_NONE) {
    hdr_simple(&w, &m->lit, "Content-Disposition", p->disposition == DISP_INLINE ? "inline" : "attachment", raw);
    if (p->filename)
      mail_hdr_param(&w, "filename", p->filename, 1);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  if (p->content_id) {
    char id[MAIL_HDR_MAX_LINE];
    snprintf(id, sizeof id, "<%s>", p->content_id);
    hdr_simple(&w, &m->lit, "Content-ID", id, raw);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  for (size_t i = 0; i < p->headers.n; i++) {
    mail_hdr_begin(&w, &m->lit, p->headers.v[i].name, raw);
    mail_hdr_unstructured(&w, p->headers.v[i].value, strlen(p->headers.v[i].value));
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  return MAIL_OK;
}

static int write_addr_list(mail_mime_builder *m, const char *name, const build_addrs *l)
{
  if (!l->n)
    return MAIL_OK;
  mail_hdr_writer w;
  mail_hdr_begin(&w, &m->lit, name, (m->options & MAIL_MIME_OPT_SMTPUTF8) != 0);
  for (size_t i = 0; i < l->n; i++)
    mail_hdr_mailbox(&w, l->v[i].name, l->v[i].addr, i + 1 < l->n);
  return finish_hdr(m, &w);
}

static int write_top_headers(mail_mime_builder *m)
{
  int raw = (m->options & MAIL_MIME_OPT_SMTPUTF8) != 0;
  mail_hdr_writer w;
  int rc;
  if (!m->has_date) {
    int64_t ms = mail_env_now(&m->env, MAIL_CLOCK_REALTIME);
    m->date = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    m->date_off = 0;
    m->has_date = 1;
  }
  char date[40];
  mail_date_format(date, m->date, m->date_off);
  hdr_simple(&w, &m->lit, "Date", date, raw);
  if ((rc = finish_hdr(m, &w)) != MAIL_OK)
    return rc;
  if (m->from.addr) {
    mail_hdr_begin(&w, &m->lit, "From", raw);
    mail_hdr_mailbox(&w, m->from.name, m->from.addr, 0);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  if (m->sender.addr) {
    mail_hdr_begin(&w, &m->lit, "Sender", raw);
    mail_hdr_mailbox(&w, m->sender.name, m->sender.addr, 0);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  if ((rc = write_addr_list(m, "Reply-To", &m->reply_to)) != MAIL_OK ||
      (rc = write_addr_list(m, "To", &m->to)) != MAIL_OK || (rc = write_addr_list(m, "Cc", &m->cc)) != MAIL_OK)
    return rc;
  if (m->subject) {
    mail_hdr_begin(&w, &m->lit, "Subject", raw);
    mail_hdr_unstructured(&w, m->subject, strlen(m->subject));
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  if (!m->msg_id) {
    char id[MAIL_HDR_MAX_LINE];
    char rnd[24];
    const char *domain = "localhost";
    if (m->from.addr) {
      const char *at = strrchr(m->from.addr, '@');
      char probe[300];
      snprintf(probe, sizeof probe, "x@%s", at ? at + 1 : "");
      if (at && at[1] != '[' && mail_msg_id_check(probe) == MAIL_OK)
        domain = at + 1;
    }
    if ((rc = random_alnum(m, rnd, sizeof rnd)) != MAIL_OK)
      return rc;
    snprintf(id, sizeof id, "%.24s@%s", rnd, domain);
    if (!(m->msg_id = mail_strdup(A(m), id)))
      return MAIL_ERR_NOMEM;
  }
  {
    char id[MAIL_HDR_MAX_LINE];
    snprintf(id, sizeof id, "<%s>", m->msg_id);
    hdr_simple(&w, &m->lit, "Message-ID", id, raw);
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  for (size_t i = 0; i < m->headers.n; i++) {
    mail_hdr_begin(&w, &m->lit, m->headers.v[i].name, raw);
    mail_hdr_unstructured(&w, m->headers.v[i].value, strlen(m->headers.v[i].value));
    if ((rc = finish_hdr(m, &w)) != MAIL_OK)
      return rc;
  }
  return mail_buf_append_str(&m->lit, "MIME-Version: 1.0\r\n");
}

static int prepare_message_part(mail_mime_builder *m, mail_mime_builder_part *p, const build_bnd *up)
{
  if (p->src != SRC_MSG)
    return prepare_leaf(m, p, up);
  mail_mime_builder *in = p->inner;
  in->options = m->options;
  in->attached = 0;
  /* Built again on each try; numbered on from ours, its boundaries differ
   * from ours even when both share a constant random source. */
  in->frozen = 0;
  in->outer = up;
  if (in->boundary_seq < m->boundary_seq)
    in->boundary_seq = m->boundary_seq;
  int rc = mail_build_freeze(in);
  in->attached = 1;
  in->outer = NULL;
  m->boundary_seq = in->boundary_seq;
  if (!rc) {
    /* its own headers and delimiters, against the boundaries around it */
    line_head head = {{0}, 0};
    line_feed(&head, up, in->lit.data, in->lit.len, &in->clash);
    if (line_clashes(&head, up))
      in->clash = 1;
    if (in->clash)
      rc = MAIL_ERR_UNSUPPORTED;
  }
  if (in->clash)
    m->clash = 1;
  if (rc)
    return rc;
  if (in->needs & MAIL_MIME_NEEDS_BINARY)
    p->enc = MAIL_MIME_ENC_BINARY;
  else if (in->needs & (MAIL_MIME_NEEDS_8BIT | MAIL_MIME_NEEDS_SMTPUTF8))
    p->enc = MAIL_MIME_ENC_8BIT;
  else
    p->enc = MAIL_MIME_ENC_7BIT;
  if (in->needs & MAIL_MIME_NEEDS_SMTPUTF8) {
    char *ct = mail_strdup(A(m), "message/global");
    if (!ct)
      return MAIL_ERR_NOMEM;
    mail_dealloc(A(m), p->content_type);
    p->content_type = ct;
  }
  m->needs |= in->needs;
  m->has_nonrewindable |= in->has_nonrewindable;
  p->enc_len = in->size;
  return MAIL_OK;
}

static int emit(mail_mime_builder *m, mail_mime_builder_part *p, size_t *mark, unsigned depth, const build_bnd *up)
{
  int rc;
  if (depth > 64)
    return MAIL_ERR_LIMIT;
  char boundary[48];
  build_bnd here = {boundary, 0, up};
  if (p->kind == PK_MULTI) {
    if ((rc = make_boundary(m, boundary)) != MAIL_OK)
      return rc;
    here.len = strlen(boundary);
  }
  if (p->kind == PK_LEAF && (rc = prepare_leaf(m, p, up)) != MAIL_OK)
    return rc;
  if (p->kind == PK_MESSAGE && (rc = prepare_message_part(m, p, up)) != MAIL_OK)
    return rc;
  if ((rc = write_part_headers(m, p, p->kind == PK_MULTI ? boundary : NULL)) != MAIL_OK ||
      (rc = mail_buf_append(&m->lit, "\r\n", 2)) != MAIL_OK)
    return rc;
  if (p->kind == PK_MULTI) {
    for (size_t i = 0; i < p->kids.n; i++) {
      if ((rc = mail_buf_appendf(&m->lit, "%s--%s\r\n", i ? "\r\n" : "", boundary)) != MAIL_OK ||
          (rc = emit(m, p->kids.v[i], mark, depth + 1, &here)) != MAIL_OK)
        return rc;
    }
    return mail_buf_appendf(&m->lit, "\r\n--%s--", boundary);
  }
  if (p->enc == MAIL_MIME_ENC_8BIT)
    m->needs |= MAIL_MIME_NEEDS_8BIT;
  else if (p->enc == MAIL_MIME_ENC_BINARY)
    m->needs |= MAIL_MIME_NEEDS_BINARY;
  if (p->src == SRC_MSG) {
    /* the inner message's segments, its literals copied into ours */
    const mail_mime_builder *in = p->inner;
    for (size_t i = 0; i < in->nsegs; i++) {
      const build_seg *s = &in->segs[i];
      if (s->kind == SEG_LIT) {
        if ((rc = mail_buf_append(&m->lit, in->lit.data + s->off, (size_t)s->len)) != MAIL_OK)
          return rc;
      } else {
        if ((rc = flush_lit(m, mark)) != MAIL_OK || (rc = push_seg(m, *s)) != MAIL_OK)
          return rc;
      }
    }
    return MAIL_OK;
  }
  if ((rc = flush_lit(m, mark)) != MAIL_OK)
    return rc;
  build_seg s = {SEG_BODY, 0, p->enc_len, p};
  return push_seg(m, s);
}

/* The read chunk: BUILD_CHUNK, or the largest body when every body is in
 * memory and smaller (files, callbacks and attached messages may be of
 * any size). */
static size_t stream_chunk(const mail_mime_builder *m)
{
  size_t chunk = 64;
  for (size_t i = 0; i < m->owned.n; i++) {
    const mail_mime_builder_part *p = m->owned.v[i];
    if (!p->src)
      continue; /* a multipart: no body of its own */
    size_t need = p->src == SRC_MEM ? p->mem_len : BUILD_CHUNK;
    if (need > chunk)
      chunk = need < BUILD_CHUNK ? need : BUILD_CHUNK;
  }
  return chunk;
}

static int lay_out(mail_mime_builder *m)
{
  size_t mark = 0;
  int rc;
  if ((rc = write_top_headers(m)) != MAIL_OK || (rc = emit(m, m->root, &mark, 0, m->outer)) != MAIL_OK)
    return rc;
  if (m->root->kind == PK_MULTI && (rc = mail_buf_append(&m->lit, "\r\n", 2)) != MAIL_OK)
    return rc;
  return flush_lit(m, &mark);
}

/* Layouts tried before a body that clashes with every new set of
 * boundaries is refused (only a predictable random source allows it). */
#define BUILD_TRIES 8

static int freeze(mail_mime_builder *m)
{
  build_stream *st = &m->st;
  if (!st->in) {
    st->chunk = stream_chunk(m);
    st->in = mail_malloc(A(m), st->chunk);
    st->mid = mail_malloc(A(m), 2 * st->chunk);
    st->out = mail_malloc(A(m), MAIL_QP_ENC_MAX(st->chunk));
    if (!st->in || !st->mid || !st->out)
      return MAIL_ERR_NOMEM;
  }
  int rc;
  if (!m->root && (rc = build_tree(m, &m->root)) != MAIL_OK)
    return rc;
  /* A body that holds a line reading as one of the boundaries is found
   * while the output is laid out: lay it out again with new ones. Only
   * the outermost message tries again, as the clash may be with its
   * boundaries; with a random source worth the name one try is enough. */
  for (unsigned tries = 1;; tries++) {
    m->lit.len = 0;
    m->nsegs = 0;
    m->needs = m->addr_utf8 ? MAIL_MIME_NEEDS_SMTPUTF8 : 0;
    m->clash = 0;
    rc = lay_out(m);
    if (rc == MAIL_OK || !m->clash || m->outer || tries == BUILD_TRIES)
      break;
  }
  if (rc)
    return rc;
  m->size = 0;
  for (size_t i = 0; i < m->nsegs; i++)
    m->size += m->segs[i].len;
  return MAIL_OK;
}

int mail_build_freeze(mail_mime_builder *m)
{
  if (m->attached)
    return MAIL_ERR_STATE;
  if (m->frozen)
    return m->freeze_rc;
  m->frozen = 1;
  m->freeze_rc = freeze(m);
  return m->freeze_rc;
}

void mail_build_stream_free(mail_mime_builder *m)
{
  mail_dealloc(A(m), m->st.in);
  mail_dealloc(A(m), m->st.mid);
  mail_dealloc(A(m), m->st.out);
  m->st.in = m->st.mid = m->st.out = NULL;
}

/* ------------------------------------------------------------ output */

static int body_open(mail_mime_builder *m, mail_mime_builder_part *p)
{
  build_stream *st = &m->st;
  int rc = src_rewind(p, &st->mem_pos);
  if (rc)
    return rc;
  st->body_open = 1;
  st->body_eof = 0;
  st->src_seen = 0;
  st->produced = 0;
  st->last_cr = 0;
  mail_qp_enc_init(&st->qp, p->normalise);
  mail_b64_wrap_init(&st->b64);
  return MAIL_OK;
}

/* Encode the next chunk of the body into st->out. A source that delivers
 * other bytes than when it was measured would break the announced size:
 * that is an error, never a silently different message. */
static int body_fill(mail_mime_builder *m, mail_mime_builder_part *p)
{
  build_stream *st = &m->st;
  size_t k, o = 0;
  int rc = src_read(p, &st->mem_pos, st->in, st->chunk, &k);
  if (rc)
    return rc;
  if (k == 0) {
    if (p->enc == MAIL_MIME_ENC_QUOTED_PRINTABLE)
      o = mail_qp_enc_finish(&st->qp, st->out);
    else if (p->enc == MAIL_MIME_ENC_BASE64)
      o = mail_b64_wrap_finish(&st->b64, st->out);
    if (st->src_seen != p->raw_len || st->produced + o != p->enc_len)
      return src_error(p);
    st->body_eof = 1;
  } else {
    st->src_seen += k;
    if (st->src_seen > p->raw_len)
      return src_error(p);
    if (p->normalise)
      k = mail_text_to_lf(&st->last_cr, st->in, k);
    switch (p->enc) {
    case MAIL_MIME_ENC_QUOTED_PRINTABLE:
      o = mail_qp_enc_update(&st->qp, st->in, k, st->out);
      break;
    case MAIL_MIME_ENC_BASE64:
      if (p->normalise) {
        size_t mk = mail_lf_to_crlf(st->in, k, st->mid);
        o = mail_b64_wrap_update(&st->b64, st->mid, mk, st->out);
      } else {
        o = mail_b64_wrap_update(&st->b64, st->in, k, st->out);
      }
      break;
    default:
      if (p->normalise) {
        o = mail_lf_to_crlf(st->in, k, st->out);
      } else {
        memcpy(st->out, st->in, k);
        o = k;
      }
      break;
    }
    if (st->produced + o > p->enc_len)
      return src_error(p);
  }
  st->produced += o;
  st->out_len = o;
  st->out_pos = 0;
  return MAIL_OK;
}

int mail_mime_builder_read(mail_mime_builder *m, unsigned char *buf, size_t cap, size_t *got)
{
  if (got)
    *got = 0;
  /* a zero-sized read would look like the end of the message */
  if (!m || !got || !buf || cap == 0)
    return MAIL_ERR_INVALID;
  int rc = mail_build_freeze(m);
  if (rc)
    return rc;
  build_stream *st = &m->st;
  if (st->failed)
    return st->failed;
  size_t n = 0;
  while (n < cap) {
    if (st->out_pos < st->out_len) {
      size_t k = st->out_len - st->out_pos < cap - n ? st->out_len - st->out_pos : cap - n;
      memcpy(buf + n, st->out + st->out_pos, k);
      st->out_pos += k;
      n += k;
      continue;
    }
    if (st->seg >= m->nsegs)
      break;
    build_seg *s = &m->segs[st->seg];
    if (s->kind == SEG_LIT) {
      uint64_t left = s->len - st->seg_pos;
      size_t k = left < cap - n ? (size_t)left : cap - n;
      memcpy(buf + n, m->lit.data + s->off + st->seg_pos, k);
      st->seg_pos += k;
      n += k;
      if (st->seg_pos == s->len) {
        st->seg++;
        st->seg_pos = 0;
      }
      continue;
    }
    if (!st->body_open)
      rc = body_open(m, s->part);
    if (rc == MAIL_OK) {
      if (st->body_eof) {
        st->body_open = 0;
        st->seg++;
        continue;
      }
      rc = body_fill(m, s->part);
    }
    if (rc) {
      st->failed = rc;
      return rc;
    }
  }
  *got = n;
  return MAIL_OK;
}

int mail_mime_builder_read_cb(void *msg, unsigned char *buf, size_t cap, size_t *got)
{
  return mail_mime_builder_read(msg, buf, cap, got);
}

int mail_mime_builder_rewind(mail_mime_builder *m)
{
  if (!m)
    return MAIL_ERR_INVALID;
  int rc = mail_build_freeze(m);
  if (rc)
    return rc;
  build_stream *st = &m->st;
  if (m->has_nonrewindable) {
    int untouched = st->seg == 0 && st->seg_pos == 0 && !st->body_open && st->out_len == 0;
    for (size_t i = 0; i < m->nsegs && !untouched; i++)
      if (m->segs[i].kind == SEG_BODY && m->segs[i].part->consumed)
        return MAIL_ERR_UNSUPPORTED;
  }
  st->seg = 0;
  st->seg_pos = 0;
  st->body_open = 0;
  st->body_eof = 0;
  st->out_len = st->out_pos = 0;
  st->failed = 0;
  return MAIL_OK;
}

int mail_mime_builder_size(mail_mime_builder *m, uint64_t *size)
{
  if (!m || !size)
    return MAIL_ERR_INVALID;
  int rc = mail_build_freeze(m);
  if (rc == MAIL_OK)
    *size = m->size;
  return rc;
}

int mail_mime_builder_transport(mail_mime_builder *m, unsigned int *needs)
{
  if (!m || !needs)
    return MAIL_ERR_INVALID;
  int rc = mail_build_freeze(m);
  if (rc == MAIL_OK)
    *needs = m->needs;
  return rc;
}

int mail_mime_builder_to_buffer(mail_mime_builder *m, unsigned char **out, size_t *len)
{
  if (!m || !out || !len)
    return MAIL_ERR_INVALID;
  *out = NULL;
  *len = 0;
  int rc = mail_mime_builder_rewind(m);
  if (rc)
    return rc;
  if (m->size >= SIZE_MAX)
    return MAIL_ERR_TOO_BIG;
  size_t total = (size_t)m->size;
  unsigned char *buf = mail_handout_alloc(A(m), total + 1);
  if (!buf)
    return MAIL_ERR_NOMEM;
  size_t n = 0, got = 1;
  while (n < total && got) {
    rc = mail_mime_builder_read(m, buf + n, total - n, &got);
    if (rc)
      break;
    n += got;
  }
  if (rc == MAIL_OK) {
    /* the end must come exactly where the size said */
    unsigned char extra;
    rc = mail_mime_builder_read(m, &extra, 1, &got);
    if (rc == MAIL_OK && (n != total || got != 0))
      rc = MAIL_ERR_INTERNAL;
  }
  if (rc) {
    mail_free(buf);
    return rc;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return MAIL_OK;
}

int mail_mime_builder_write(mail_mime_builder *m, mail_write_fn write, void *user)
{
  if (!m || !write)
    return MAIL_ERR_INVALID;
  int rc = mail_mime_builder_rewind(m);
  if (rc)
    return rc;
  size_t cap = 64 * 1024;
  unsigned char *buf = mail_malloc(A(m), cap);
  if (!buf)
    return MAIL_ERR_NOMEM;
  for (;;) {
    size_t got;
    rc = mail_mime_builder_read(m, buf, cap, &got);
    if (rc || got == 0)
      break;
    if (write(user, buf, got) != 0) {
      rc = MAIL_ERR_CALLBACK;
      break;
    }
  }
  mail_dealloc(A(m), buf);
  return rc;
}

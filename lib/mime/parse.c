/* The streaming MIME parser. Input arrives in chunks of any size; the
 * parser keeps only an unfinished header line or the few bytes that might
 * start a boundary line, so memory stays bounded whatever the body size.
 *
 * Boundary search: a boundary line starts with "--" right after a line
 * break. Base64 bodies never contain '-', so the search is a memchr for
 * '-' that skips whole bodies; only a "--" at a line start is compared
 * with the live boundaries, innermost first. */
#include <string.h>

#include "core/mem.h"
#include "mime/mime_internal.h"

/* Longest line that may still be a boundary line: "--", the boundary
 * (at most 200), "--", trailing blanks. Longer lines are body. */
#define MAX_BOUNDARY_LINE (2 + 200 + 2 + 1024)

enum { STEP_MORE = 0, STEP_PROGRESS = 1 };

static int cb_fail(mail_mime_parser *p, int rc)
{
  if (rc && !p->failed)
    p->failed = MAIL_ERR_CALLBACK;
  return p->failed;
}

/* ------------------------------------------------------------ body sink */

static int deliver(void *user, const unsigned char *data, size_t len)
{
  mail_mime_parser *p = user;
  if (p->limit_decoded_hit)
    return 0;
  int over = 0;
  if (p->lim.max_decoded && p->decoded_total + len > p->lim.max_decoded) {
    len = (size_t)(p->lim.max_decoded - p->decoded_total);
    over = p->limit_decoded_hit = 1;
  }
  p->decoded_total += len;
  if (len && p->cb.body && p->cb.body(p->cb.user, p->cur, data, len))
    return cb_fail(p, 1);
  /* At the body start of the part that reached the limit, as decoding
   * defects are: p->base is where the caller's current chunk starts, so
   * it would change with how the input is split. */
  if (over)
    mime_defect(p, p->cur, MAIL_MIME_DEFECT_LIMIT_DECODED, p->cur ? p->cur->body_start : p->base);
  return p->failed;
}

/* Decoder output: through the charset converter when asked. */
static int body_sink(void *user, const unsigned char *data, size_t len)
{
  mail_mime_parser *p = user;
  if (p->conv_on)
    return mime_conv_feed(&p->conv, data, len, 0, deliver, p) ? cb_fail(p, 1) : 0;
  return deliver(p, data, len);
}

static void decoder_defect(void *user, int kind)
{
  mail_mime_parser *p = user;
  mime_defect(p, p->cur, kind, p->cur ? p->cur->body_start : 0);
}

static int emit_body(mail_mime_parser *p, const unsigned char *d, size_t n)
{
  if (!n || p->state != PS_BODY || !p->cb.body)
    return 0;
  return mime_decoder_feed(&p->dec, d, n, body_sink, p);
}

/* --------------------------------------------------------- part lifecycle */

static void forget_part(mail_mime_parser *p, mail_mime_part *part)
{
  if (!part->ndefects)
    return;
  for (size_t i = 0; i < p->ndefs; i++)
    if (p->defs[i].part == part)
      p->defs[i].part = NULL;
}

static int new_child(mail_mime_parser *p, mail_mime_part *parent, uint64_t at)
{
  mail_mime_part *c = mime_part_new(p, parent, at);
  if (!c)
    return p->failed = MAIL_ERR_NOMEM;
  if (mime_part_make_path(c)) {
    if (!p->keep_tree)
      mime_part_free(c, &p->alloc);
    return p->failed = MAIL_ERR_NOMEM;
  }
  p->cur = c;
  p->state = PS_HEADERS;
  p->hdr_first_line = 1;
  if (p->cb.part_start && p->cb.part_start(p->cb.user, c))
    return cb_fail(p, 1);
  return 0;
}

/* Close the field being collected: drop its final line break, store it,
 * tell the callback. */
static int finish_field(mail_mime_parser *p, mail_mime_part *part)
{
  if (!part->cur_open)
    return 0;
  int dropping = part->cur_open == 2;
  part->cur_open = 0;
  if (dropping)
    return 0;
  mime_hdr *h = &part->hdrs[part->nhdrs];
  h->value_len = part->hbuf.len - h->value_off;
  const char *v = (const char *)part->hbuf.data + h->value_off;
  if (h->value_len && v[h->value_len - 1] == '\n')
    h->value_len--;
  if (h->value_len && v[h->value_len - 1] == '\r')
    h->value_len--;
  part->hbuf.len = h->value_off + h->value_len;
  if (mail_buf_append_byte(&part->hbuf, 0))
    return p->failed = MAIL_ERR_NOMEM;
  part->nhdrs++;
  if (p->cb.header &&
      p->cb.header(p->cb.user, part, (const char *)part->hbuf.data + h->name_off, h->name_len,
                   (const char *)part->hbuf.data + h->value_off, h->value_len))
    return cb_fail(p, 1);
  return 0;
}

/* The header block of the current part is over (or cut short): analyse
 * it and tell the callback. */
static int close_headers(mail_mime_parser *p, uint64_t body_start)
{
  mail_mime_part *part = p->cur;
  if (finish_field(p, part))
    return p->failed;
  part->body_start = part->body_end = body_start;
  if (mime_part_analyze(part))
    return p->failed = MAIL_ERR_NOMEM;
  if (p->cb.headers_end && p->cb.headers_end(p->cb.user, part))
    return cb_fail(p, 1);
  return 0;
}

/* Headers ended normally: decide what the body is. */
static int enter_body(mail_mime_parser *p, uint64_t body_start)
{
  if (close_headers(p, body_start))
    return p->failed;
  mail_mime_part *part = p->cur;
  p->body_at_line_start = 1;
  if ((p->flags & MAIL_MIME_HEADERS_ONLY) && part == p->root) {
    p->state = PS_DONE;
    return 0;
  }
  if (part->is_multipart) {
    if (p->nbs == p->bs_cap) {
      size_t nc = p->bs_cap ? p->bs_cap * 2 : 8;
      mail_mime_part **nb = mail_realloc(&p->alloc, p->bs, nc * sizeof *nb);
      if (!nb)
        return p->failed = MAIL_ERR_NOMEM;
      p->bs = nb;
      p->bs_cap = nc;
    }
    p->bs[p->nbs++] = part;
    part->live = 1;
    p->state = PS_PREAMBLE;
    return 0;
  }
  if (part->is_message) {
    if (p->nparts >= p->lim.max_parts) {
      if (!p->limit_parts_hit)
        mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_PARTS, body_start);
      p->limit_parts_hit = 1;
      part->is_message = 0;
    } else {
      return new_child(p, part, body_start);
    }
  }
  mime_decoder_init(&p->dec, (p->flags & MAIL_MIME_RAW_BODY) ? MAIL_MIME_ENC_BINARY : part->enc);
  if ((p->flags & MAIL_MIME_TO_UTF8) && !(p->flags & MAIL_MIME_RAW_BODY) &&
      !strncmp(part->ctype, "text/", 5) && p->cb.body) {
    mime_conv_open(&p->conv, mail_mime_part_charset(part));
    p->conv_on = 1;
    if (p->conv.unknown)
      mime_defect(p, part, MAIL_MIME_DEFECT_UNKNOWN_CHARSET, body_start);
  }
  p->state = PS_BODY;
  return 0;
}

/* End the current part at source offset end and make its parent current. */
static int end_current(mail_mime_parser *p, uint64_t end)
{
  mail_mime_part *part = p->cur;
  if (p->state == PS_HEADERS) {
    if (close_headers(p, end))
      return p->failed;
  } else if (p->state == PS_BODY && p->cb.body) {
    if (mime_decoder_finish(&p->dec, body_sink, p, decoder_defect, p))
      return p->failed;
  }
  if (p->conv_on) {
    int rc = mime_conv_feed(&p->conv, NULL, 0, 1, deliver, p);
    if (p->conv.replaced)
      mime_defect(p, part, MAIL_MIME_DEFECT_UNDECODABLE_BYTES, part->body_start);
    mime_conv_close(&p->conv);
    p->conv_on = 0;
    if (rc)
      return cb_fail(p, 1);
  }
  part->body_end = end;
  if (part->is_multipart) {
    if (!part->saw_delim && !part->saw_close)
      mime_defect(p, part, MAIL_MIME_DEFECT_START_BOUNDARY_NOT_FOUND, end);
    else if (!part->saw_close)
      mime_defect(p, part, MAIL_MIME_DEFECT_CLOSE_BOUNDARY_NOT_FOUND, end);
    else if (!part->nchildren)
      mime_defect(p, part, MAIL_MIME_DEFECT_MULTIPART_INVARIANT_VIOLATION, end);
    if (part->live) {
      part->live = 0;
      p->nbs--; /* it is the innermost live multipart */
    }
  }
  if (p->cb.part_end && p->cb.part_end(p->cb.user, part))
    cb_fail(p, 1);
  mail_mime_part *parent = part->parent;
  if (!p->keep_tree) {
    forget_part(p, part);
    mime_part_free(part, &p->alloc);
    if (part == p->root)
      p->root = NULL;
  }
  p->cur = parent;
  /* The parent is a multipart (now between parts) or a message part
   * whose only child ended: either way its body has ended being read. */
  if (parent)
    p->state = parent->is_multipart && parent->live ? PS_PREAMBLE : PS_EPILOGUE;
  else
    p->state = PS_DONE;
  return p->failed;
}

/* A boundary line of bs[level] was found. ce: where the content before it
 * ends; after: the offset right after the boundary line. */
static int on_boundary(mail_mime_parser *p, size_t level, int is_close, uint64_t ce, uint64_t after)
{
  mail_mime_part *target = p->bs[level];
  while (p->cur != target && p->cur) {
    if (end_current(p, ce))
      return p->failed;
  }
  if (is_close) {
    target->close_at = ce;
    target->saw_close = 1;
    target->live = 0;
    p->nbs = level;
    p->state = PS_EPILOGUE;
    return 0;
  }
  target->saw_delim = 1;
  if (p->nparts >= p->lim.max_parts) {
    if (!p->limit_parts_hit)
      mime_defect(p, target, MAIL_MIME_DEFECT_LIMIT_PARTS, ce);
    p->limit_parts_hit = 1;
    target->skip_children = 1;
    p->state = PS_EPILOGUE;
    return 0;
  }
  if (new_child(p, target, after))
    return p->failed;
  p->cur->delim_at = ce;
  return 0;
}

/* ------------------------------------------------------------ boundaries */

enum { B_NOMATCH, B_MATCH, B_MORE };

static int rest_is_blank(const unsigned char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t')
      return 0;
  return 1;
}

/* d points at "--". Decide whether the line is a live boundary. */
static int match_boundary(mail_mime_parser *p, const unsigned char *d, size_t avail, int eof,
                          size_t *level, int *is_close, size_t *line_len)
{
  size_t lim = avail < MAX_BOUNDARY_LINE ? avail : MAX_BOUNDARY_LINE;
  const unsigned char *nl = memchr(d, '\n', lim);
  size_t len, full;
  int complete = 1;
  if (nl) {
    full = (size_t)(nl - d) + 1;
    len = full - 1;
  } else if (eof || avail >= MAX_BOUNDARY_LINE) {
    full = len = lim;
  } else {
    full = len = avail;
    complete = 0;
  }
  if (complete && len && d[len - 1] == '\r')
    len--;
  for (size_t k = p->nbs; k-- > 0;) {
    const mail_mime_part *mp = p->bs[k];
    const unsigned char *b = (const unsigned char *)mp->boundary;
    size_t bl = mp->boundary_len;
    if (!complete) {
      /* Could the line still become this boundary? */
      size_t have = len - 2;
      size_t cmp = have < bl ? have : bl;
      if (memcmp(d + 2, b, cmp))
        continue;
      if (have <= bl)
        return B_MORE;
      const unsigned char *r = d + 2 + bl;
      size_t rl = have - bl;
      if (rl >= 1 && r[0] == '-') {
        if (rl >= 2 && r[1] != '-')
          continue;
        r += rl >= 2 ? 2 : 1;
        rl -= rl >= 2 ? 2 : 1;
      }
      if (rest_is_blank(r, rl) || (rl && rest_is_blank(r, rl - 1) && r[rl - 1] == '\r'))
        return B_MORE;
      continue;
    }
    if (len < 2 + bl || memcmp(d + 2, b, bl))
      continue;
    const unsigned char *r = d + 2 + bl;
    size_t rl = len - 2 - bl;
    int close = 0;
    if (rl >= 2 && r[0] == '-' && r[1] == '-') {
      close = 1;
      r += 2;
      rl -= 2;
    }
    if (!rest_is_blank(r, rl))
      continue;
    if (!close && mp->skip_children)
      continue;
    *level = k;
    *is_close = close;
    *line_len = full;
    return B_MATCH;
  }
  return B_NOMATCH;
}

/* Scan body bytes (of a leaf, a preamble or an epilogue) for the next
 * live boundary line. */
static int step_body(mail_mime_parser *p, const unsigned char *d, size_t n, size_t *posp, int eof)
{
  size_t pos = *posp;
  if (p->nbs == 0) {
    if (emit_body(p, d + pos, n - pos))
      return STEP_MORE;
    *posp = n;
    p->body_at_line_start = 0;
    return STEP_MORE;
  }
  size_t s = pos;
  for (;;) {
    const unsigned char *m = s < n ? memchr(d + s, '-', n - s) : NULL;
    if (!m)
      break;
    s = (size_t)(m - d);
    int at_start = s == pos ? p->body_at_line_start : d[s - 1] == '\n';
    if (!at_start) {
      s++;
      continue;
    }
    /* Where the content before this line ends: before its line break. */
    size_t ce = s;
    if (s > pos) {
      ce = s - 1;
      if (ce > pos && d[ce - 1] == '\r')
        ce--;
    }
    if (s + 1 >= n) {
      if (eof)
        break;
      goto need_more;
    }
    if (d[s + 1] != '-') {
      s += 2;
      continue;
    }
    size_t level, line_len;
    int is_close;
    int r = match_boundary(p, d + s, n - s, eof, &level, &is_close, &line_len);
    if (r == B_NOMATCH) {
      s += 2;
      continue;
    }
    if (r == B_MORE) {
    need_more:
      if (emit_body(p, d + pos, ce - pos))
        return STEP_MORE;
      if (ce > pos)
        p->body_at_line_start = 0;
      *posp = ce;
      return STEP_MORE;
    }
    if (emit_body(p, d + pos, ce - pos))
      return STEP_MORE;
    *posp = s + line_len;
    p->body_at_line_start = 1;
    on_boundary(p, level, is_close, p->base + ce, p->base + s + line_len);
    return p->failed ? STEP_MORE : STEP_PROGRESS;
  }
  size_t keep = n;
  if (!eof) {
    if (keep > pos && d[keep - 1] == '\n')
      keep--;
    if (keep > pos && d[keep - 1] == '\r')
      keep--;
  }
  if (emit_body(p, d + pos, keep - pos))
    return STEP_MORE;
  if (keep > pos)
    p->body_at_line_start = 0;
  *posp = keep;
  return STEP_MORE;
}

/* -------------------------------------------------------------- headers */

static int add_field(mail_mime_parser *p, mail_mime_part *part, const unsigned char *name,
                     size_t name_len, const unsigned char *value, size_t value_len, uint64_t at)
{
  if (part->nhdrs >= p->lim.max_headers ||
      part->hbuf.len + name_len + value_len + 2 > p->lim.max_header_block) {
    mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_HEADERS, at);
    part->cur_open = 2;
    return 0;
  }
  if (part->nhdrs == part->hdrs_cap) {
    size_t nc = part->hdrs_cap ? part->hdrs_cap * 2 : 16;
    mime_hdr *nh = mail_realloc(&p->alloc, part->hdrs, nc * sizeof *nh);
    if (!nh)
      return p->failed = MAIL_ERR_NOMEM;
    part->hdrs = nh;
    part->hdrs_cap = nc;
  }
  mime_hdr *h = &part->hdrs[part->nhdrs];
  h->name_off = part->hbuf.len;
  h->name_len = name_len;
  if (mail_buf_append(&part->hbuf, name, name_len) || mail_buf_append_byte(&part->hbuf, 0))
    return p->failed = MAIL_ERR_NOMEM;
  h->value_off = part->hbuf.len;
  if (value_len > p->lim.max_header_length) {
    mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH, at);
    value_len = p->lim.max_header_length;
    part->cur_cut = 1;
  } else {
    part->cur_cut = 0;
  }
  if (mail_buf_append(&part->hbuf, value, value_len))
    return p->failed = MAIL_ERR_NOMEM;
  part->cur_open = 1;
  return 0;
}

static int continue_field(mail_mime_parser *p, mail_mime_part *part, const unsigned char *line,
                          size_t n, uint64_t at)
{
  if (part->cur_open != 1 || part->cur_cut)
    return 0;
  mime_hdr *h = &part->hdrs[part->nhdrs];
  size_t have = part->hbuf.len - h->value_off;
  if (have + n > p->lim.max_header_length ||
      part->hbuf.len + n + 1 > p->lim.max_header_block) {
    mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH, at);
    part->cur_cut = 1;
    return 0;
  }
  if (mail_buf_append(&part->hbuf, line, n))
    return p->failed = MAIL_ERR_NOMEM;
  return 0;
}

static int is_name_char(unsigned char c)
{
  return c >= 33 && c <= 126 && c != ':';
}

/* One header line. */
static int step_header(mail_mime_parser *p, const unsigned char *d, size_t n, size_t *posp, int eof)
{
  size_t pos = *posp;
  mail_mime_part *part = p->cur;
  if (pos >= n && !eof)
    return STEP_MORE;
  if (p->hdr_skip_eol) {
    const unsigned char *nl = memchr(d + pos, '\n', n - pos);
    if (!nl) {
      *posp = n;
      return STEP_MORE;
    }
    *posp = (size_t)(nl - d) + 1;
    p->hdr_skip_eol = 0;
    return STEP_PROGRESS;
  }
  /* Resume the search where the last chunk ended: feeding a long line in
   * small pieces stays linear. */
  size_t from = pos + (p->hdr_scanned < n - pos ? p->hdr_scanned : n - pos);
  const unsigned char *nl = memchr(d + from, '\n', n - from);
  size_t end, next;
  int terminated = 1;
  p->hdr_scanned = 0;
  /* A line longer than the limit allows is cut at the same length
   * whether its end is already here or not (an endless line is bounded
   * before its end arrives): what is kept, and when the defect is
   * recorded, must not depend on how the input is split. */
  size_t cap = p->lim.max_header_length + 2;
  if (nl && (size_t)(nl - d) - pos <= cap) {
    end = (size_t)(nl - d);
    next = end + 1;
  } else if (n - pos > cap) {
    /* Take what the limit allows, drop the rest of the line. */
    end = next = pos + cap;
    p->hdr_skip_eol = 1;
    mime_defect(p, part, MAIL_MIME_DEFECT_LIMIT_HEADER_LENGTH, p->base + pos);
  } else if (eof) {
    if (pos >= n) {
      /* Input ended inside the header block: no body. */
      if (close_headers(p, p->base + n))
        return STEP_MORE;
      part->body_start = p->base + n;
      p->state = PS_BODY;
      mime_decoder_init(&p->dec, MAIL_MIME_ENC_7BIT);
      return STEP_MORE;
    }
    end = next = n;
    terminated = 0;
  } else {
    p->hdr_scanned = n - pos;
    return STEP_MORE;
  }
  size_t cl = end;
  if (cl > pos && d[cl - 1] == '\r')
    cl--;
  uint64_t at = p->base + pos;
  const unsigned char *line = d + pos;
  size_t len = cl - pos;
  int first = p->hdr_first_line;
  p->hdr_first_line = 0;

  if (len == 0 && terminated) {
    *posp = next;
    enter_body(p, p->base + next);
    return p->failed ? STEP_MORE : STEP_PROGRESS;
  }
  if (!terminated)
    mime_defect(p, part, MAIL_MIME_DEFECT_TRUNCATED_HEADERS, at);
  for (size_t k = 0; k < len; k++) {
    if (line[k] < 0x20 && line[k] != '\t') {
      mime_defect(p, part, line[k] == 0 ? MAIL_MIME_DEFECT_NUL_BYTE
                           : line[k] == '\r' ? MAIL_MIME_DEFECT_BARE_LINE_ENDING
                           : MAIL_MIME_DEFECT_NON_PRINTABLE, at);
      break;
    }
  }

  /* A live boundary line ends a part that has no blank line. */
  if (p->nbs && len >= 2 && line[0] == '-' && line[1] == '-') {
    size_t level, ll;
    int is_close;
    if (match_boundary(p, line, n - pos, eof, &level, &is_close, &ll) == B_MATCH) {
      if (finish_field(p, part) || close_headers(p, at))
        return STEP_MORE;
      p->state = PS_BODY;
      mime_decoder_init(&p->dec, MAIL_MIME_ENC_7BIT);
      *posp = next;
      p->body_at_line_start = 1;
      on_boundary(p, level, is_close, at, p->base + next);
      return p->failed ? STEP_MORE : STEP_PROGRESS;
    }
  }
  if (line[0] == ' ' || line[0] == '\t') {
    if (first)
      mime_defect(p, part, MAIL_MIME_DEFECT_FIRST_HEADER_LINE_IS_CONTINUATION, at);
    else
      continue_field(p, part, d + pos, next - pos, at);
    *posp = next;
    return p->failed ? STEP_MORE : STEP_PROGRESS;
  }
  if (len >= 5 && !memcmp(line, "From ", 5)) {
    if (!first || part->parent)
      mime_defect(p, part, MAIL_MIME_DEFECT_MISPLACED_ENVELOPE_HEADER, at);
    if (finish_field(p, part))
      return STEP_MORE;
    *posp = next;
    return STEP_PROGRESS;
  }
  size_t i = 0;
  while (i < len && is_name_char(line[i]))
    i++;
  size_t name_len = i;
  int obsolete = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) {
    i++;
    obsolete = 1;
  }
  if (i >= len || line[i] != ':') {
    /* Not a header: the headers are over and this line is body. */
    mime_defect(p, part, MAIL_MIME_DEFECT_MISSING_HEADER_BODY_SEPARATOR, at);
    *posp = pos;
    enter_body(p, at);
    return p->failed ? STEP_MORE : STEP_PROGRESS;
  }
  if (finish_field(p, part))
    return STEP_MORE;
  if (name_len == 0) {
    mime_defect(p, part, MAIL_MIME_DEFECT_INVALID_HEADER_NAME, at);
    part->cur_open = 2;
    *posp = next;
    return STEP_PROGRESS;
  }
  if (obsolete)
    mime_defect(p, part, MAIL_MIME_DEFECT_OBSOLETE_HEADER_SYNTAX, at);
  add_field(p, part, line, name_len, d + pos + i + 1, next - (pos + i + 1), at);
  *posp = next;
  return p->failed ? STEP_MORE : STEP_PROGRESS;
}

/* ------------------------------------------------------------ driving */

static size_t process(mail_mime_parser *p, const unsigned char *d, size_t n, int eof)
{
  size_t pos = 0;
  while (!p->failed) {
    int r;
    switch (p->state) {
    case PS_HEADERS:
      r = step_header(p, d, n, &pos, eof);
      break;
    case PS_BODY:
    case PS_PREAMBLE:
    case PS_EPILOGUE:
      r = step_body(p, d, n, &pos, eof);
      break;
    default:
      pos = n;
      r = STEP_MORE;
      break;
    }
    if (r == STEP_MORE)
      break;
  }
  return pos;
}

static int start(mail_mime_parser *p)
{
  if (p->started)
    return 0;
  p->started = 1;
  mail_mime_part *root = mime_part_new(p, NULL, 0);
  if (!root)
    return p->failed = MAIL_ERR_NOMEM;
  p->root = p->cur = root;
  p->state = PS_HEADERS;
  p->hdr_first_line = 1;
  if (p->cb.part_start && p->cb.part_start(p->cb.user, root))
    return cb_fail(p, 1);
  return 0;
}

int mail_mime_parser_feed(mail_mime_parser *p, const void *data, size_t len)
{
  if (!p || (!data && len))
    return MAIL_ERR_INVALID;
  if (p->failed)
    return p->failed;
  if (p->finished)
    return MAIL_ERR_STATE;
  if (start(p))
    return p->failed;
  if (!len)
    return MAIL_OK;
  if (p->pend.len == 0) {
    size_t c = process(p, data, len, 0);
    p->base += c;
    if (c < len && !p->failed && mail_buf_append(&p->pend, (const unsigned char *)data + c, len - c))
      p->failed = MAIL_ERR_NOMEM;
  } else {
    if (mail_buf_append(&p->pend, data, len))
      return p->failed = MAIL_ERR_NOMEM;
    size_t c = process(p, p->pend.data, p->pend.len, 0);
    p->base += c;
    mail_buf_consume(&p->pend, c);
  }
  return p->failed;
}

int mail_mime_parser_finish(mail_mime_parser *p)
{
  if (!p)
    return MAIL_ERR_INVALID;
  if (p->failed)
    return p->failed;
  if (p->finished)
    return MAIL_ERR_STATE;
  if (start(p))
    return p->failed;
  /* Drain what is left: every state consumes everything at eof. */
  for (int rounds = 0; !p->failed && p->state != PS_DONE; rounds++) {
    size_t c = process(p, p->pend.data ? p->pend.data : (const unsigned char *)"", p->pend.len, 1);
    p->base += c;
    mail_buf_consume(&p->pend, c);
    if (p->pend.len == 0)
      break;
  }
  while (!p->failed && p->cur)
    end_current(p, p->base + p->pend.len);
  p->finished = 1;
  return p->failed;
}

/* ------------------------------------------------------------ handle */

static void parser_clear(mail_mime_parser *p)
{
  if (p->conv_on) {
    mime_conv_close(&p->conv);
    p->conv_on = 0;
  }
  mime_edits_free(p);
  if (p->keep_tree) {
    mime_part_free_tree(p->root, &p->alloc);
  } else {
    /* Open parts of an unfinished parse: free from the innermost up. */
    mail_mime_part *c = p->cur;
    while (c) {
      mail_mime_part *up = c->parent;
      mime_part_free(c, &p->alloc);
      c = up;
    }
  }
  p->root = p->cur = NULL;
  mail_buf_free(&p->pend);
  mail_dealloc(&p->alloc, p->bs);
  mail_dealloc(&p->alloc, p->defs);
  p->bs = NULL;
  p->defs = NULL;
  p->nbs = p->bs_cap = p->ndefs = p->defs_cap = p->defect_total = 0;
}

int mail_mime_parser_new(mail_mime_parser **out, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_mime_parser *p = mail_calloc(&a, 1, sizeof *p);
  if (!p)
    return MAIL_ERR_NOMEM;
  p->alloc = a;
  mail_mime_limits_default(&p->lim);
  mail_buf_init(&p->pend, &p->alloc, 0);
  *out = p;
  return MAIL_OK;
}

void mail_mime_parser_free(mail_mime_parser *p)
{
  if (!p)
    return;
  parser_clear(p);
  mail_allocator a = p->alloc;
  mail_dealloc(&a, p);
}

void mail_mime_parser_reset(mail_mime_parser *p)
{
  if (!p)
    return;
  parser_clear(p);
  mail_buf_init(&p->pend, &p->alloc, 0);
  p->started = p->finished = p->failed = 0;
  p->state = PS_HEADERS;
  p->base = 0;
  p->nparts = 0;
  p->decoded_total = 0;
  p->limit_parts_hit = p->limit_decoded_hit = 0;
  p->hdr_skip_eol = 0;
  p->hdr_scanned = 0;
}

int mail_mime_parser_set_callbacks(mail_mime_parser *p, const mail_mime_callbacks *cb)
{
  if (!p || !cb || cb->version != MAIL_MIME_CALLBACKS_VERSION)
    return MAIL_ERR_INVALID;
  if (p->started)
    return MAIL_ERR_STATE;
  p->cb = *cb;
  return MAIL_OK;
}

int mail_mime_parser_set_limits(mail_mime_parser *p, const mail_mime_limits *l)
{
  if (!p || !l || l->version != MAIL_MIME_LIMITS_VERSION || !l->max_header_length ||
      !l->max_parts || !l->max_headers || !l->max_header_block)
    return MAIL_ERR_INVALID;
  if (p->started)
    return MAIL_ERR_STATE;
  p->lim = *l;
  return MAIL_OK;
}

int mail_mime_parser_set_flags(mail_mime_parser *p, unsigned int flags)
{
  if (!p)
    return MAIL_ERR_INVALID;
  if (p->started)
    return MAIL_ERR_STATE;
  p->flags = flags;
  return MAIL_OK;
}

size_t mail_mime_parser_defect_total(const mail_mime_parser *p)
{
  return p ? p->defect_total : 0;
}

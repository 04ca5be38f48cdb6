/* Header values: unfolding and RFC 2047 encoded words, to UTF-8. */
#include <string.h>

#include "core/base64.h"
#include "core/handout.h"
#include "core/mem.h"
#include "mime/mime_internal.h"
#include "mime/charset_internal.h"

static int is_wsp(char c) { return c == ' ' || c == '\t'; }

int mime_unfold(const mail_allocator *a, const char *s, size_t n, char **out, size_t *out_len)
{
  while (n && (is_wsp(*s) || *s == '\r' || *s == '\n')) {
    s++;
    n--;
  }
  while (n && (is_wsp(s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n'))
    n--;
  char *r = mail_malloc(a, n + 1);
  if (!r)
    return MAIL_ERR_NOMEM;
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] != '\r' && s[i] != '\n')
      r[o++] = s[i];
  r[o] = 0;
  *out = r;
  if (out_len)
    *out_len = o;
  return MAIL_OK;
}

static int hexv(char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* One recognised encoded word. */
typedef struct ew {
  const char *charset;
  size_t charset_len;
  char enc;          /* 'B' or 'Q' */
  const char *text;
  size_t text_len;
  size_t total;      /* bytes from "=?" to after "?=" */
} ew;

/* Recognise "=?charset[*lang]?B|Q?text?=" at s (s[0..1] == "=?"). *noclose
 * remembers where a search for "?=" failed so a run of "=?" stays linear. */
static int parse_ew(const char *s, size_t n, ew *w, size_t *noclose)
{
  size_t i = 2;
  while (i < n && i < 2 + 64 && s[i] != '?' && !is_wsp(s[i]) && s[i] != '\r' && s[i] != '\n')
    i++;
  if (i >= n || s[i] != '?' || i == 2)
    return 0;
  w->charset = s + 2;
  w->charset_len = i - 2;
  const char *star = memchr(w->charset, '*', w->charset_len);
  if (star)
    w->charset_len = (size_t)(star - w->charset);
  if (i + 2 >= n || s[i + 2] != '?')
    return 0;
  char e = s[i + 1];
  if (e == 'b') e = 'B';
  if (e == 'q') e = 'Q';
  if (e != 'B' && e != 'Q')
    return 0;
  w->enc = e;
  size_t t = i + 3;
  if (t < *noclose)
    return 0;
  size_t k = t;
  while (k + 1 < n && !(s[k] == '?' && s[k + 1] == '=')) {
    if (is_wsp(s[k]) || s[k] == '\r' || s[k] == '\n') {
      *noclose = k;
      return 0;
    }
    k++;
  }
  if (k + 1 >= n) {
    *noclose = n;
    return 0;
  }
  w->text = s + t;
  w->text_len = k - t;
  w->total = k + 2;
  return 1;
}

static int ew_decode(const ew *w, mail_buf *b, unsigned int *bad)
{
  if (w->enc == 'B') {
    if (mail_buf_reserve(b, MAIL_B64_DECODED_MAX(w->text_len) + 2))
      return MAIL_ERR_NOMEM;
    mail_b64_stream st;
    mail_b64_stream_init(&st);
    size_t got = mail_b64_stream_decode(&st, w->text, w->text_len, b->data + b->len);
    got += mail_b64_stream_finish(&st, b->data + b->len + got);
    if (st.garbage)
      (*bad)++;
    b->len += got;
    return MAIL_OK;
  }
  for (size_t i = 0; i < w->text_len; i++) {
    char c = w->text[i];
    if (c == '_') {
      c = ' ';
    } else if (c == '=' && i + 2 < w->text_len && hexv(w->text[i + 1]) >= 0 &&
               hexv(w->text[i + 2]) >= 0) {
      c = (char)(hexv(w->text[i + 1]) << 4 | hexv(w->text[i + 2]));
      i += 2;
    } else if (c == '=') {
      (*bad)++;
    }
    if (mail_buf_append_byte(b, (unsigned char)c))
      return MAIL_ERR_NOMEM;
  }
  return MAIL_OK;
}

/* Convert the pending encoded-word bytes to UTF-8 and append them. */
static int flush_pending(mail_buf *out, mail_buf *pend, char *cs, unsigned int *bad,
                         const mail_allocator *a)
{
  if (!pend->len)
    return MAIL_OK;
  (void)a;
  int rc = mime_append_converted(out, cs, pend->data, pend->len, bad);
  if (rc == MAIL_ERR_CHARSET) {
    (*bad)++;
    rc = MAIL_OK;
  }
  mail_buf_clear(pend);
  return rc;
}

int mime_header_decode(char **out, size_t *out_len, unsigned int *defects, const char *value,
                       size_t len, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || (!value && len) || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  char *unf;
  size_t n;
  if (mime_unfold(&a, value ? value : "", len, &unf, &n))
    return MAIL_ERR_NOMEM;
  mail_buf res, pend;
  mail_buf_init(&res, &a, 0);
  mail_buf_init(&pend, &a, 0);
  char cs[65] = "";
  unsigned int bad = 0;
  size_t noclose = 0, tok_end = 0;
  int rc = MAIL_OK;
  size_t i = 0, lit = 0; /* lit: start of literal text not yet copied */
  int last_was_ew = 0;
  while (i < n && rc == MAIL_OK) {
    const char *hit = memchr(unf + i, '=', n - i);
    if (!hit)
      break;
    size_t at = (size_t)(hit - unf);
    ew w;
    if (at + 1 < n && unf[at + 1] == '?' && parse_ew(unf + at, n - at, &w, &noclose)) {
      /* Blanks between two encoded words vanish (RFC 2047 6.2). */
      int only_ws = 1;
      for (size_t k = lit; k < at; k++)
        if (!is_wsp(unf[k]))
          only_ws = 0;
      if (!(last_was_ew && only_ws)) {
        rc = flush_pending(&res, &pend, cs, &bad, &a);
        if (rc == MAIL_OK)
          rc = mime_append_utf8_or_latin1(&res, (const unsigned char *)unf + lit, at - lit);
      }
      char ncs[65];
      memcpy(ncs, w.charset, w.charset_len);
      ncs[w.charset_len] = 0;
      if (rc == MAIL_OK && pend.len && mime_ascii_casecmp(ncs, cs))
        rc = flush_pending(&res, &pend, cs, &bad, &a);
      memcpy(cs, ncs, w.charset_len + 1);
      if (rc == MAIL_OK)
        rc = ew_decode(&w, &pend, &bad);
      i = lit = at + w.total;
      last_was_ew = 1;
      continue;
    }
    /* Not an encoded word: literal text, looked at when the next word
     * (or the end) decides whether it separates two words. A token that
     * starts "=?" and ends "?=" was meant as one: a defect. */
    if (at + 1 < n && unf[at + 1] == '?' && at >= tok_end) {
      /* once per token, so a run of "=?" stays linear */
      size_t k = at + 2;
      while (k < n && !is_wsp(unf[k]))
        k++;
      tok_end = k;
      if (k - at >= 4 && unf[k - 2] == '?' && unf[k - 1] == '=')
        bad++;
    }
    i = at + 1;
  }
  if (rc == MAIL_OK)
    rc = flush_pending(&res, &pend, cs, &bad, &a);
  if (rc == MAIL_OK)
    rc = mime_append_utf8_or_latin1(&res, (const unsigned char *)unf + lit, n - lit);
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(&res, 0);
  mail_dealloc(&a, unf);
  mail_buf_free(&pend);
  if (rc) {
    mail_buf_free(&res);
    return rc;
  }
  *out = (char *)res.data;
  if (out_len)
    *out_len = res.len - 1;
  if (defects)
    *defects = bad;
  return MAIL_OK;
}

int mail_mime_header_decode(char **out, size_t *out_len, unsigned int *defects, const char *value,
                            size_t len, const mail_allocator *alloc)
{
  mail_allocator a;
  if (!out || mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  *out = NULL;
  char *v;
  size_t n;
  int rc = mime_header_decode(&v, &n, defects, value, len, &a);
  if (rc)
    return rc;
  /* Header values are small: one copy into a block the caller frees. */
  *out = mail_handout_copy(&a, v, n);
  mail_dealloc(&a, v);
  if (!*out)
    return MAIL_ERR_NOMEM;
  if (out_len)
    *out_len = n;
  return MAIL_OK;
}

/* Header encodings for the builder: folding, RFC 2047 encoded words,
 * RFC 2231 parameters, display names and mailboxes. Every token a producer
 * hands to the writer is bounded, so no output line can pass 998
 * characters whatever the caller's text. */
#include "mime/encode.h"

#include <stdio.h>
#include <string.h>

#include "core/base64.h"
#include "core/mem.h"

/* A word longer than this is RFC 2047 encoded (encoded words can be split
 * anywhere between characters), so quoting or a long header name can never
 * push a line past 998. */
#define LONG_WORD 400
/* Encoded text in one encoded word: 75 - strlen("=?utf-8?b?") - strlen("?="). */
#define EW_PAYLOAD_MAX 63
#define EW_OVERHEAD 12

static size_t utf8_char_len(unsigned char c)
{
  if (c < 0x80)
    return 1;
  if (c >= 0xF0)
    return 4;
  if (c >= 0xE0)
    return 3;
  return 2;
}

/* ------------------------------------------------------------ writer */

static void put(mail_hdr_writer *w, const char *s, size_t n)
{
  if (!w->err)
    w->err = mail_buf_append(w->out, s, n);
}

void mail_hdr_begin(mail_hdr_writer *w, mail_buf *out, const char *name, int raw_utf8)
{
  w->out = out;
  w->err = 0;
  w->raw_utf8 = raw_utf8;
  w->used_utf8 = 0;
  w->tokens_on_line = 0;
  size_t n = strlen(name);
  put(w, name, n);
  put(w, ":", 1);
  w->col = n + 1;
}

static void note_utf8(mail_hdr_writer *w, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80) {
      w->used_utf8 = 1;
      return;
    }
}

void mail_hdr_token(mail_hdr_writer *w, const char *s, size_t n, int space_before)
{
  if (w->err)
    return;
  if (n == 0) {
    /* an empty word stands for one more space; never fold there, or the
     * continuation line would hold only whitespace */
    if (space_before) {
      put(w, " ", 1);
      w->col++;
    }
    return;
  }
  if (space_before) {
    int over = w->col + 1 + n > MAIL_HDR_FOLD;
    if (over && (w->tokens_on_line || w->col + 1 + n > MAIL_HDR_MAX_LINE)) {
      put(w, "\r\n ", 3);
      w->col = 1;
      w->tokens_on_line = 0;
    } else {
      put(w, " ", 1);
      w->col++;
    }
  }
  if (w->col + n > MAIL_HDR_MAX_LINE) {
    if (!w->err)
      w->err = MAIL_ERR_INVALID;
    return;
  }
  put(w, s, n);
  note_utf8(w, s, n);
  w->col += n;
  w->tokens_on_line++;
}

void mail_hdr_glue(mail_hdr_writer *w, const char *s, size_t n)
{
  put(w, s, n);
  w->col += n;
}

int mail_hdr_end(mail_hdr_writer *w)
{
  put(w, "\r\n", 2);
  return w->err;
}

/* ------------------------------------------------------- RFC 2047 */

/* Characters that stand for themselves in a Q-encoded word anywhere,
 * phrases included (RFC 2047 5(3)). */
static int q_plain(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static size_t q_len(unsigned char c)
{
  return (q_plain(c) || c == ' ') ? 1 : 3;
}

static int use_b(const char *s, size_t n)
{
  size_t q = 0;
  for (size_t i = 0; i < n; i++)
    q += q_len((unsigned char)s[i]);
  return q > MAIL_B64_ENCODED_LEN(n);
}

/* Write one encoded word from s[*pos..n) with at most payload characters
 * of encoded text, whole UTF-8 characters only. out holds 80 bytes. */
static size_t ew_next(const char *s, size_t n, size_t *pos, size_t payload, int b, char *out)
{
  static const char HEXU[] = "0123456789ABCDEF";
  size_t i = *pos, o = 0;
  memcpy(out, b ? "=?utf-8?b?" : "=?utf-8?q?", 10);
  o = 10;
  if (b) {
    size_t max = payload / 4 * 3, end = i;
    while (end < n) {
      size_t cl = utf8_char_len((unsigned char)s[end]);
      if (end + cl > n)
        cl = n - end;
      if (end + cl - i > max && end > i)
        break;
      end += cl;
    }
    o += mail_b64_encode(s + i, end - i, out + o);
    i = end;
  } else {
    size_t used = 0;
    while (i < n) {
      size_t cl = utf8_char_len((unsigned char)s[i]);
      if (i + cl > n)
        cl = n - i;
      size_t need = 0;
      for (size_t k = 0; k < cl; k++)
        need += q_len((unsigned char)s[i + k]);
      if (used + need > payload && used > 0)
        break;
      for (size_t k = 0; k < cl; k++) {
        unsigned char c = (unsigned char)s[i + k];
        if (c == ' ') {
          out[o++] = '_';
        } else if (q_plain(c)) {
          out[o++] = (char)c;
        } else {
          out[o++] = '=';
          out[o++] = HEXU[c >> 4];
          out[o++] = HEXU[c & 15];
        }
      }
      used += need;
      i += cl;
    }
  }
  out[o++] = '?';
  out[o++] = '=';
  *pos = i;
  return o;
}

int mail_rfc2047_encode(mail_buf *out, const char *s, size_t n, size_t payload)
{
  if (payload < 12)
    payload = 12;
  if (payload > EW_PAYLOAD_MAX)
    payload = EW_PAYLOAD_MAX;
  int b = use_b(s, n);
  size_t pos = 0;
  char word[96];
  int rc = MAIL_OK;
  while (pos < n && rc == MAIL_OK) {
    if (pos)
      rc = mail_buf_append(out, " ", 1);
    size_t len = ew_next(s, n, &pos, payload, b, word);
    if (rc == MAIL_OK)
      rc = mail_buf_append(out, word, len);
  }
  return rc;
}

/* Encode a run of text as encoded words. With fill, the first word is
 * sized to what is left of the current line (unstructured text); without,
 * words are as long as allowed, so a short display name stays one word:
 * some readers (Python's email) keep the folding whitespace between two
 * encoded words of a phrase although RFC 2047 6.2 says to drop it. */
static void hdr_encoded_run(mail_hdr_writer *w, const char *s, size_t n, int fill)
{
  int b = use_b(s, n);
  size_t pos = 0;
  char word[96];
  while (pos < n && !w->err) {
    size_t payload = EW_PAYLOAD_MAX;
    size_t room = w->col + 1 + EW_OVERHEAD < MAIL_HDR_FOLD ? MAIL_HDR_FOLD - w->col - 1 - EW_OVERHEAD : 0;
    if (fill && room >= 12 && room < payload)
      payload = room;
    size_t len = ew_next(s, n, &pos, payload, b, word);
    mail_hdr_token(w, word, len, 1);
  }
}

/* ----------------------------------------------------- unstructured */

static int has_ew_marker(const char *s, size_t n)
{
  for (size_t i = 0; i + 1 < n; i++)
    if (s[i] == '=' && s[i + 1] == '?')
      return 1;
  return 0;
}

static int word_needs_encoding(const mail_hdr_writer *w, const char *s, size_t n)
{
  if (n > LONG_WORD || has_ew_marker(s, n))
    return 1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7F)
      return 1;
    if (c >= 0x80 && !w->raw_utf8)
      return 1;
  }
  return 0;
}

static int is_wsp(char c)
{
  return c == ' ' || c == '\t';
}

static int all_wsp(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!is_wsp(s[i]))
      return 0;
  return 1;
}

void mail_hdr_unstructured(mail_hdr_writer *w, const char *s, size_t n)
{
  /* Readers strip whitespace at the start and end of a value: the first
   * and last words go into encoded words together with it. */
  size_t a = 0, b = n;
  while (a < n && is_wsp(s[a]))
    a++;
  while (b > a && is_wsp(s[b - 1]))
    b--;
  size_t lead_end = 0, tail_start = n;
  if (a > 0) {
    const char *sp = memchr(s + a, ' ', n - a);
    lead_end = sp ? (size_t)(sp - s) : n;
  }
  if (b < n) {
    tail_start = b;
    while (tail_start > 0 && s[tail_start - 1] != ' ')
      tail_start--;
  }
  size_t i = 0;
  int in_run = 0;
  size_t run_start = 0, run_end = 0;
  for (;;) {
    const char *sp = memchr(s + i, ' ', n - i);
    size_t end = sp ? (size_t)(sp - s) : n;
    size_t len = end - i;
    int forced = i < lead_end || end > tail_start;
    /* A word of tabs only is blank like an empty one: left plain between
     * two encoded runs it would be dropped with the space around it
     * (RFC 2047 6.2), so inside a run it stays inside. */
    int blank = all_wsp(s + i, len);
    int need = forced || (blank ? in_run : word_needs_encoding(w, s + i, len));
    if (need) {
      if (!in_run)
        run_start = i;
      in_run = 1;
      run_end = end;
    } else {
      if (in_run)
        hdr_encoded_run(w, s + run_start, run_end - run_start, 1);
      in_run = 0;
      mail_hdr_token(w, s + i, len, 1);
    }
    if (!sp)
      break;
    i = end + 1;
  }
  if (in_run)
    hdr_encoded_run(w, s + run_start, run_end - run_start, 1);
}

/* ----------------------------------------------------------- phrase */

static int is_atext(unsigned char c)
{
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return 1;
  return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Split text at spaces into tokens, each space a possible fold. */
static void hdr_words(mail_hdr_writer *w, const char *s, size_t n)
{
  size_t i = 0;
  for (;;) {
    const char *sp = memchr(s + i, ' ', n - i);
    size_t end = sp ? (size_t)(sp - s) : n;
    mail_hdr_token(w, s + i, end - i, 1);
    if (!sp)
      break;
    i = end + 1;
  }
}

void mail_hdr_phrase(mail_hdr_writer *w, const char *s, size_t n)
{
  int atoms = n > 0 && s[0] != ' ' && s[n - 1] != ' ';
  /* Text that reads as an encoded word is encoded itself: many readers
   * decode encoded words even inside quoted strings. */
  int encode = has_ew_marker(s, n);
  size_t word = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    word = c == ' ' ? 0 : word + 1;
    if (word > LONG_WORD)
      encode = 1;
    if ((c < 0x20 && c != '\t') || c == 0x7F || (c >= 0x80 && !w->raw_utf8))
      encode = 1;
    if (c == ' ') {
      if (i + 1 < n && s[i + 1] == ' ')
        atoms = 0;
    } else if (!is_atext(c) && c < 0x80) {
      atoms = 0;
    }
  }
  if (encode) {
    hdr_encoded_run(w, s, n, 0);
  } else if (atoms) {
    hdr_words(w, s, n);
  } else {
    mail_buf q;
    mail_buf_init(&q, w->out->alloc, 0);
    int rc = mail_buf_append_byte(&q, '"');
    for (size_t i = 0; i < n && rc == MAIL_OK; i++) {
      if (s[i] == '"' || s[i] == '\\')
        rc = mail_buf_append_byte(&q, '\\');
      if (rc == MAIL_OK)
        rc = mail_buf_append_byte(&q, (unsigned char)s[i]);
    }
    if (rc == MAIL_OK)
      rc = mail_buf_append_byte(&q, '"');
    if (rc == MAIL_OK)
      hdr_words(w, (const char *)q.data, q.len);
    else if (!w->err)
      w->err = rc;
    mail_buf_free(&q);
  }
}

void mail_hdr_mailbox(mail_hdr_writer *w, const char *name, const char *addr, int comma)
{
  size_t an = strlen(addr);
  char tok[300];
  size_t t = 0;
  if (an > 254) {
    if (!w->err)
      w->err = MAIL_ERR_SYNTAX;
    return;
  }
  if (name && *name) {
    mail_hdr_phrase(w, name, strlen(name));
    tok[t++] = '<';
    memcpy(tok + t, addr, an);
    t += an;
    tok[t++] = '>';
  } else {
    memcpy(tok, addr, an);
    t = an;
  }
  if (comma)
    tok[t++] = ',';
  mail_hdr_token(w, tok, t, 1);
}

/* ------------------------------------------------------- parameters */

static int is_tspecial(unsigned char c)
{
  return c != 0 && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static int is_token_char(unsigned char c)
{
  return c > 32 && c < 127 && !is_tspecial(c);
}

/* RFC 2231 attribute-char: a token character except '*', '\'' and '%'. */
static int is_attr_char(unsigned char c)
{
  return is_token_char(c) && c != '*' && c != '\'' && c != '%';
}

void mail_hdr_param(mail_hdr_writer *w, const char *name, const char *value, int force_quote)
{
  size_t nn = strlen(name), vn = strlen(value);
  int printable = 1, token = vn > 0;
  size_t quoted = 0;
  for (size_t i = 0; i < vn; i++) {
    unsigned char c = (unsigned char)value[i];
    /* quotes and backslashes go percent-encoded: some readers (Python's
     * get_filename) unquote a quoted value twice */
    if (c < 32 || c > 126 || c == '"' || c == '\\')
      printable = 0;
    if (!is_token_char(c))
      token = 0;
    quoted += (c == '"' || c == '\\') ? 2 : 1;
  }
  /* Readers (ours, and those that accept what Outlook writes) decode
   * RFC 2047 words inside quoted values: a literal "=?" must not look like
   * one, so such values go RFC 2231 encoded. */
  if (memmem(value, vn, "=?", 2))
    printable = 0;
  mail_hdr_glue(w, ";", 1);
  if (printable && nn + 3 + quoted <= MAIL_HDR_FOLD - 2) {
    char tok[MAIL_HDR_FOLD];
    size_t t = 0;
    memcpy(tok, name, nn);
    t = nn;
    tok[t++] = '=';
    if (token && !force_quote) {
      memcpy(tok + t, value, vn);
      t += vn;
    } else {
      tok[t++] = '"';
      for (size_t i = 0; i < vn; i++) {
        if (value[i] == '"' || value[i] == '\\')
          tok[t++] = '\\';
        tok[t++] = value[i];
      }
      tok[t++] = '"';
    }
    mail_hdr_token(w, tok, t, 1);
    return;
  }

  /* RFC 2231: percent-encoded UTF-8, in sections that each fit a line. */
  static const char HEXU[] = "0123456789ABCDEF";
  size_t enc = 0;
  for (size_t i = 0; i < vn; i++)
    enc += is_attr_char((unsigned char)value[i]) ? 1 : 3;
  char tok[MAIL_HDR_FOLD + 8];
  size_t limit = MAIL_HDR_FOLD - 2; /* leading space and trailing ';' */
  if (nn + 2 + 7 + enc <= limit) {
    size_t t = (size_t)snprintf(tok, sizeof tok, "%s*=utf-8''", name);
    for (size_t i = 0; i < vn; i++) {
      unsigned char c = (unsigned char)value[i];
      if (is_attr_char(c)) {
        tok[t++] = (char)c;
      } else {
        tok[t++] = '%';
        tok[t++] = HEXU[c >> 4];
        tok[t++] = HEXU[c & 15];
      }
    }
    mail_hdr_token(w, tok, t, 1);
    return;
  }
  size_t i = 0;
  for (unsigned sec = 0; i < vn && !w->err; sec++) {
    if (sec)
      mail_hdr_glue(w, ";", 1);
    size_t t = (size_t)snprintf(tok, sizeof tok, "%s*%u*=%s", name, sec, sec ? "" : "utf-8''");
    if (t + 12 > limit) { /* a name so long no section fits */
      w->err = MAIL_ERR_INVALID;
      return;
    }
    size_t start = i;
    while (i < vn) {
      /* never split a UTF-8 character between sections */
      size_t cl = utf8_char_len((unsigned char)value[i]);
      if (i + cl > vn)
        cl = vn - i;
      size_t need = 0;
      for (size_t k = 0; k < cl; k++)
        need += is_attr_char((unsigned char)value[i + k]) ? 1 : 3;
      if (t + need > limit && i > start)
        break;
      for (size_t k = 0; k < cl; k++) {
        unsigned char c = (unsigned char)value[i + k];
        if (is_attr_char(c)) {
          tok[t++] = (char)c;
        } else {
          tok[t++] = '%';
          tok[t++] = HEXU[c >> 4];
          tok[t++] = HEXU[c & 15];
        }
      }
      i += cl;
    }
    mail_hdr_token(w, tok, t, 1);
  }
}

void mail_hdr_param_2047(mail_hdr_writer *w, const char *name, const char *value)
{
  mail_buf q;
  mail_buf_init(&q, w->out->alloc, 0);
  int rc = mail_buf_append_str(&q, name);
  if (rc == MAIL_OK)
    rc = mail_buf_append_str(&q, "=\"");
  if (rc == MAIL_OK)
    rc = mail_rfc2047_encode(&q, value, strlen(value), 56);
  if (rc == MAIL_OK)
    rc = mail_buf_append_byte(&q, '"');
  if (rc == MAIL_OK) {
    mail_hdr_glue(w, ";", 1);
    hdr_words(w, (const char *)q.data, q.len);
  } else if (!w->err) {
    w->err = rc;
  }
  mail_buf_free(&q);
}

/* ------------------------------------------------------- validation */

/* dot-atom-text over [s, e): atext (and UTF-8 when allowed), no empty atom. */
static int dot_atom_ok(const unsigned char *s, size_t n, int utf8, int *non_ascii)
{
  if (n == 0 || s[0] == '.' || s[n - 1] == '.')
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    if (c == '.') {
      if (s[i + 1] == '.')
        return 0;
    } else if (c >= 0x80) {
      if (!utf8)
        return 0;
      *non_ascii = 1;
    } else if (!is_atext(c)) {
      return 0;
    }
  }
  return 1;
}

int mail_addr_spec_check(const char *addr, int *non_ascii)
{
  int dummy;
  if (!non_ascii)
    non_ascii = &dummy;
  *non_ascii = 0;
  if (!addr)
    return MAIL_ERR_INVALID;
  size_t n = strlen(addr);
  if (mail_has_crlfnul(addr, n))
    return MAIL_ERR_INVALID;
  if (n == 0 || n > 254)
    return MAIL_ERR_SYNTAX;
  if (!mail_utf8_valid(addr, n))
    return MAIL_ERR_CHARSET;
  const unsigned char *s = (const unsigned char *)addr;
  size_t i = 0;
  if (s[0] == '"') {
    for (i = 1;; i++) {
      if (i >= n)
        return MAIL_ERR_SYNTAX;
      unsigned char c = s[i];
      if (c == '"')
        break;
      if (c == '\\') {
        i++;
        if (i >= n || (s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
          return MAIL_ERR_SYNTAX;
        if (s[i] >= 0x80)
          *non_ascii = 1;
        continue;
      }
      if (c >= 0x80)
        *non_ascii = 1;
      else if ((c < 0x20 && c != '\t') || c == 0x7F)
        return MAIL_ERR_SYNTAX;
    }
    i++;
  } else {
    const unsigned char *at = memchr(s, '@', n);
    if (!at)
      return MAIL_ERR_SYNTAX;
    /* the last '@' may not be this one; the local part ends at the first
     * '@' since '@' is not atext */
    i = (size_t)(at - s);
    if (!dot_atom_ok(s, i, 1, non_ascii))
      return MAIL_ERR_SYNTAX;
  }
  if (i >= n || s[i] != '@')
    return MAIL_ERR_SYNTAX;
  i++;
  const unsigned char *d = s + i;
  size_t dn = n - i;
  if (dn == 0)
    return MAIL_ERR_SYNTAX;
  if (d[0] == '[') {
    if (dn < 3 || d[dn - 1] != ']')
      return MAIL_ERR_SYNTAX;
    for (size_t k = 1; k + 1 < dn; k++) {
      unsigned char c = d[k];
      if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
        return MAIL_ERR_SYNTAX;
    }
    return MAIL_OK;
  }
  return dot_atom_ok(d, dn, 1, non_ascii) ? MAIL_OK : MAIL_ERR_SYNTAX;
}

int mail_msg_id_check(const char *id)
{
  if (!id)
    return MAIL_ERR_INVALID;
  size_t n = strlen(id);
  if (mail_has_crlfnul(id, n))
    return MAIL_ERR_INVALID;
  if (n == 0 || n > LONG_WORD)
    return MAIL_ERR_SYNTAX;
  const unsigned char *s = (const unsigned char *)id;
  const unsigned char *at = memchr(s, '@', n);
  if (!at)
    return MAIL_ERR_SYNTAX;
  int non_ascii = 0;
  size_t ln = (size_t)(at - s);
  if (!dot_atom_ok(s, ln, 0, &non_ascii))
    return MAIL_ERR_SYNTAX;
  const unsigned char *r = at + 1;
  size_t rn = n - ln - 1;
  if (rn >= 2 && r[0] == '[' && r[rn - 1] == ']') {
    for (size_t k = 1; k + 1 < rn; k++)
      if (r[k] < 33 || r[k] > 126 || r[k] == '[' || r[k] == ']' || r[k] == '\\')
        return MAIL_ERR_SYNTAX;
    return MAIL_OK;
  }
  return dot_atom_ok(r, rn, 0, &non_ascii) ? MAIL_OK : MAIL_ERR_SYNTAX;
}

int mail_content_type_check(const char *ct)
{
  size_t n = strlen(ct);
  if (mail_has_crlfnul(ct, n))
    return MAIL_ERR_INVALID;
  const char *slash = strchr(ct, '/');
  if (!slash || slash == ct || !slash[1] || n > 127)
    return MAIL_ERR_SYNTAX;
  for (const char *p = ct; *p; p++)
    if (p != slash && !is_token_char((unsigned char)*p))
      return MAIL_ERR_SYNTAX;
  return MAIL_OK;
}

int mail_header_name_check(const char *name)
{
  size_t n = strlen(name);
  if (mail_has_crlfnul(name, n))
    return MAIL_ERR_INVALID;
  if (n == 0 || n > MAIL_HDR_MAX_NAME)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    if (c < 33 || c > 126 || c == ':')
      return MAIL_ERR_INVALID;
  }
  return MAIL_OK;
}

/* ------------------------------------------------------------- date */

/* Days since 1970-01-01 to a proleptic Gregorian civil date. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t mail_date_format(char out[40], int64_t secs, int offset_min)
{
  if (!out || offset_min < -1439 || offset_min > 1439)
    return 0;
  static const char *const DAYS[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t local = secs + (int64_t)offset_min * 60;
  int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
  int64_t rem = local - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  int wd = (int)(((days % 7) + 7) % 7);
  int off = offset_min < 0 ? -offset_min : offset_min;
  int n = snprintf(out, 40, "%s, %u %s %04lld %02d:%02d:%02d %c%02d%02d", DAYS[wd], d, MONTHS[m - 1],
                   (long long)y, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                   offset_min < 0 ? '-' : '+', off / 60, off % 60);
  return n < 0 ? 0 : (size_t)n;
}

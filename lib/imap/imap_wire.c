/* Building a tagged command: atoms, quoted strings and literals (RFC 9051
 * 4.3, RFC 7888), cut into pieces where a synchronizing literal must wait
 * for the server's "+". Arguments never reach the wire as raw command
 * text: CR and LF go in literals, NUL is refused. */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

/* RFC 7888: LITERAL- allows non-synchronizing literals up to 4096 bytes. */
#define IMAP_LITERAL_MINUS_MAX 4096

static int add_piece(imap_wire *w, size_t off, int secret, int sync)
{
  if (w->n && !secret && !sync && !w->pieces[w->n - 1].secret) {
    w->pieces[w->n - 1].len += w->bytes.len - off;
    return MAIL_OK;
  }
  if (w->n == IMAP_MAX_PIECES)
    return MAIL_ERR_LIMIT;
  w->pieces[w->n++] = (imap_piece){off, w->bytes.len - off, secret, sync};
  return MAIL_OK;
}

static int append(imap_wire *w, const void *d, size_t n, int secret, int sync)
{
  size_t off = w->bytes.len;
  int rc = mail_buf_append(&w->bytes, d, n);
  return rc ? rc : add_piece(w, off, secret, sync);
}

int imap_wire_begin(mail_imap *im, const char *verb, uint32_t *tag)
{
  imap_wire *w = &im->out;
  mail_buf_clear(&w->bytes);
  w->n = 0;
  w->lit = 0;
  *tag = ++im->next_tag;
  char t[16];
  int n = snprintf(t, sizeof t, "A%lu ", (unsigned long)*tag);
  int rc = append(w, t, (size_t)n, 0, 0);
  return rc ? rc : append(w, verb, strlen(verb), 0, 0);
}

int imap_wire_atom(mail_imap *im, const char *atom)
{
  int rc = append(&im->out, " ", 1, 0, 0);
  return rc ? rc : append(&im->out, atom, strlen(atom), 0, 0);
}

int imap_wire_raw(mail_imap *im, const char *text)
{
  return append(&im->out, text, strlen(text), 0, 0);
}

static int atom_char(unsigned char c)
{
  return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

int imap_wire_string(mail_imap *im, const char *s, size_t len, int secret, unsigned how)
{
  imap_wire *w = &im->out;
  if (!s) {
    if (!(how & IMAP_STR_NIL))
      return MAIL_ERR_INVALID;
    return (how & IMAP_STR_NOSPACE) ? imap_wire_raw(im, "NIL") : imap_wire_atom(im, "NIL");
  }
  if (memchr(s, 0, len))
    return MAIL_ERR_INVALID;
  int rc = (how & IMAP_STR_NOSPACE) ? MAIL_OK : append(w, " ", 1, 0, 0);
  if (rc)
    return rc;
  int atom = len > 0 && !secret && !(how & IMAP_STR_QUOTED), quoted = len < 1024, eight = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!atom_char(c))
      atom = 0;
    if (c == '\r' || c == '\n')
      quoted = 0;
    if (c >= 0x80)
      eight = 1;
  }
  if (atom && len == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l')
    atom = 0; /* the string "NIL" is not NIL */
  if (eight && !im->utf8)
    quoted = 0;
  if (quoted && !atom) {
    /* A literal's data is not part of the line: a string that would make
     * the line too long goes as one. */
    size_t q = len + 2;
    for (size_t i = 0; i < len; i++)
      q += s[i] == '"' || s[i] == '\\';
    if (w->bytes.len - w->lit + q + 2 > imap_max_line(im))
      quoted = 0;
  }
  if (atom)
    return append(w, s, len, 0, 0);
  if (quoted) {
    rc = append(w, "\"", 1, 0, 0);
    size_t start = w->bytes.len;
    for (size_t i = 0; i < len && !rc; i++) {
      if (s[i] == '"' || s[i] == '\\')
        rc = mail_buf_append_byte(&w->bytes, '\\');
      if (!rc)
        rc = mail_buf_append_byte(&w->bytes, (unsigned char)s[i]);
    }
    if (!rc)
      rc = add_piece(w, start, secret, 0);
    return rc ? rc : append(w, "\"", 1, 0, 0);
  }
  int plus = imap_has_cap(im, "LITERAL+") ||
             (imap_has_cap(im, "LITERAL-") && len <= IMAP_LITERAL_MINUS_MAX);
  char hdr[40];
  int n = snprintf(hdr, sizeof hdr, "{%lu%s}\r\n", (unsigned long)len, plus ? "+" : "");
  rc = append(w, hdr, (size_t)n, 0, 0);
  if (!rc)
    rc = append(w, s, len, secret, !plus);
  if (!rc)
    w->lit += len;
  return rc;
}

/* A name is a C string (no NUL); CR and LF in it go out as a literal
 * (under UTF8=ACCEPT) or in modified UTF-7's base64 (otherwise). */
int imap_mailbox_ok(const char *name)
{
  return name != NULL;
}

/* RFC 2683 3.2.1.5: clients should keep command lines to about 1,000
 * octets for servers they know nothing about; RFC 7162 4 raised what a
 * server implementing CONDSTORE/QRESYNC must take to 8,192; Dovecot reads
 * lines of about 8,000. Literal data is not part of the line. */
size_t imap_max_line(const mail_imap *im)
{
  if (im->max_line)
    return im->max_line;
  if (im->greeting.len >= 7 && !memcmp(im->greeting.data, "Dovecot", 7))
    return 8000;
  if (imap_has_cap(im, "CONDSTORE") || imap_has_cap(im, "QRESYNC"))
    return 8192;
  return 1000;
}

size_t imap_wire_line_len(const mail_imap *im)
{
  return im->out.bytes.len - im->out.lit;
}

int mail_imap_set_max_line_length(mail_imap *im, size_t bytes)
{
  if (!im || (bytes && (bytes < 128 || bytes > (1u << 20))))
    return MAIL_ERR_INVALID;
  im->max_line = bytes;
  return MAIL_OK;
}

size_t mail_imap_max_line_length(const mail_imap *im)
{
  return im ? imap_max_line(im) : 0;
}

/* "FETCH", "UID STORE", ...: the command's name for an error text. */
static void verb_of(const imap_wire *w, char *out, size_t cap)
{
  const char *s = (const char *)w->bytes.data, *e = s + w->bytes.len;
  const char *p = memchr(s, ' ', w->bytes.len);
  p = p ? p + 1 : e;
  const char *q = p;
  for (int words = 0; q < e && words < 2; words++) {
    while (q < e && *q != ' ' && *q != '\r')
      q++;
    if (words == 0 && !(q - p == 3 && !memcmp(p, "UID", 3)))
      break;
    if (words == 0 && q < e && *q == ' ')
      q++;
  }
  size_t n = (size_t)(q - p) < cap - 1 ? (size_t)(q - p) : cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

int imap_wire_mailbox(mail_imap *im, const char *name)
{
  return imap_wire_mailbox_how(im, name, 0);
}

int imap_wire_mailbox_how(mail_imap *im, const char *name, unsigned how)
{
  if (!imap_mailbox_ok(name))
    return MAIL_ERR_INVALID;
  size_t len = strlen(name);
  if (im->utf8)
    return imap_wire_string(im, name, len, 0, how);
  /* Modified UTF-7 takes at most 3 bytes per byte of UTF-8 ("&" is "&-",
   * a 4-byte character is a surrogate pair: 6 base64 bytes plus "&-"). */
  size_t cap = len * 3 + 8, need = 0;
  char *buf = mail_malloc(&im->alloc, cap);
  if (!buf)
    return MAIL_ERR_NOMEM;
  int rc = mail_imap_utf7_encode(&need, buf, cap, name, len);
  if (rc && rc != MAIL_ERR_CHARSET)
    rc = MAIL_ERR_INVALID;
  if (!rc)
    rc = imap_wire_string(im, buf, need, 0, how);
  mail_dealloc(&im->alloc, buf);
  return rc;
}

/* The pieces from first up to the next synchronizing one, as wire parts. */
static size_t group(const imap_wire *w, size_t first, mail_wire_part *parts)
{
  size_t n = 0;
  for (size_t i = first; i < w->n; i++) {
    if (i > first && w->pieces[i].sync)
      break;
    parts[n++] = (mail_wire_part){w->bytes.data + w->pieces[i].off, w->pieces[i].len,
                                  w->pieces[i].secret};
  }
  return n;
}

static void swap_wire(imap_wire *a, imap_wire *b)
{
  imap_wire t = *a;
  *a = *b;
  *b = t;
}

int imap_wire_send(mail_imap *im, int kind, uint32_t tag)
{
  imap_wire *w = &im->out;
  int rc = append(w, "\r\n", 2, 0, 0);
  if (rc)
    return rc;
  if (im->cont_active)
    return MAIL_ERR_INTERNAL; /* one command waits for "+" at a time */
  size_t line = w->bytes.len - w->lit, max = imap_max_line(im);
  if (line > max) {
    char verb[32];
    verb_of(w, verb, sizeof verb);
    return mail_conn_fail(im->conn, MAIL_ERR_TOO_BIG,
                          "%s: the command line would be %zu bytes, over the %zu the server "
                          "takes (mail_imap_set_max_line_length); nothing was sent",
                          verb, line, max);
  }
  mail_wire_part parts[IMAP_MAX_PIECES];
  size_t n = group(w, 0, parts);
  mail_cmd c = {.kind = kind, .tag = tag};
  rc = mail_cmd_send(im->conn, &im->q, &c, parts, n);
  if (rc == MAIL_ERR_INTERNAL)
    return rc;
  if (rc)
    return imap_abort(im, rc, "cannot queue a command");
  if (n < w->n) {
    swap_wire(&im->cont, w);
    im->cont_next = n;
    im->cont_tag = tag;
    im->cont_active = 1;
  }
  return MAIL_OK;
}

int imap_wire_continue(mail_imap *im)
{
  imap_wire *w = &im->cont;
  mail_wire_part parts[IMAP_MAX_PIECES];
  size_t n = group(w, im->cont_next, parts);
  uint64_t mark = mail_conn_out_mark(im->conn);
  int rc = MAIL_OK;
  for (size_t i = 0; i < n && !rc; i++)
    rc = parts[i].secret ? mail_conn_send_secret(im->conn, parts[i].data, parts[i].len)
                         : mail_conn_send(im->conn, parts[i].data, parts[i].len);
  if (rc) {
    mail_conn_out_rollback(im->conn, mark);
    return imap_abort(im, rc, "cannot queue a literal");
  }
  im->cont_next += n;
  if (im->cont_next >= w->n) {
    im->cont_active = 0;
    mail_buf_clear(&w->bytes);
    w->n = 0;
  }
  return MAIL_OK;
}

void imap_wire_free(imap_wire *w)
{
  mail_buf_free(&w->bytes);
  w->n = 0;
}

/* Charset conversion to UTF-8 through iconv, with the aliases mail needs:
 * labels that mail software writes but iconv spells differently, or
 * charsets best read as their superset (gb2312 -> gb18030). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

#if MAIL_WITH_ICONV
#include <iconv.h>
#else
#include "mime/iconv_builtin.h"
#endif

#include "core/handout.h"
#include "core/mem.h"
#include "mime/charset_internal.h"
#include "mime/mime_internal.h"

static const struct { const char *label, *iconv; } ALIASES[] = {
  {"gb2312", "GB18030"}, {"gbk", "GB18030"}, {"x-gbk", "GB18030"}, {"cp936", "GB18030"},
  {"euc-cn", "GB18030"}, {"ks_c_5601-1987", "CP949"}, {"ks_c_5601", "CP949"},
  {"ks_c_5601-1989", "CP949"}, {"euc-kr", "CP949"}, {"iso-8859-8-i", "ISO-8859-8"},
  {"iso-8859-8-e", "ISO-8859-8"}, {"iso-8859-6-i", "ISO-8859-6"}, {"iso-8859-6-e", "ISO-8859-6"},
  {"windows-874", "CP874"}, {"x-sjis", "CP932"}, {"shift_jis", "CP932"}, {"sjis", "CP932"},
  {"x-mac-roman", "MACINTOSH"}, {"macintosh", "MACINTOSH"}, {"unicode-1-1-utf-7", "UTF-7"},
  {"utf8", "UTF-8"}, {"x-unknown", ""}, {"unknown-8bit", ""}, {"x-user-defined", ""},
  {"big5", "BIG5-HKSCS"}, {"x-euc-tw", "EUC-TW"}, {"tis-620", "TIS-620"},
  {"latin1", "ISO-8859-1"}, {"iso8859-1", "ISO-8859-1"}, {"iso_8859-1", "ISO-8859-1"},
};

const char *mime_charset_alias(const char *label)
{
  for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
    if (!mime_ascii_casecmp(label, ALIASES[i].label))
      return ALIASES[i].iconv;
  return label;
}

int mime_append_utf8_or_latin1(mail_buf *out, const unsigned char *in, size_t n)
{
  if (mail_utf8_valid(in, n))
    return mail_buf_append(out, in, n);
  if (mail_buf_reserve(out, n * 2))
    return MAIL_ERR_NOMEM;
  unsigned char *o = out->data + out->len;
  for (size_t i = 0; i < n; i++) {
    if (in[i] < 0x80) {
      *o++ = in[i];
    } else {
      *o++ = (unsigned char)(0xC0 | in[i] >> 6);
      *o++ = (unsigned char)(0x80 | (in[i] & 0x3F));
    }
  }
  out->len = (size_t)(o - out->data);
  return MAIL_OK;
}

static int is_utf8_label(const char *cs)
{
  return !mime_ascii_casecmp(cs, "utf-8") || !mime_ascii_casecmp(cs, "utf8") ||
         !mime_ascii_casecmp(cs, "us-ascii") || !mime_ascii_casecmp(cs, "ascii");
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
  size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
               : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  if (!len || len > n)
    return 0;
  return mail_utf8_valid(s, len) ? len : 0;
}

/*
 * Pass iconv's output on with every invalid sequence replaced by U+FFFD:
 * glibc's iconv still reads and writes the 31-bit UTF-8 of RFC 2279 (lead
 * bytes F5..FD, code points above U+10FFFF), which is not UTF-8. iconv
 * writes whole characters, so a chunk never ends inside a valid one.
 */
static int emit_utf8(const unsigned char *s, size_t n, mime_conv_sink sink, void *user,
                     unsigned int *replaced)
{
  static const unsigned char REPL[3] = {0xEF, 0xBF, 0xBD};
  if (mail_utf8_valid(s, n))
    return n ? sink(user, s, n) : 0;
  size_t run = 0, i = 0;
  int rc = 0;
  while (i < n && !rc) {
    size_t k = utf8_seq(s + i, n - i);
    if (k) {
      i += k;
      continue;
    }
    if (i > run && (rc = sink(user, s + run, i - run)))
      break;
    rc = sink(user, REPL, 3);
    if (replaced)
      (*replaced)++;
    i++;
    while (i < n && (s[i] & 0xC0) == 0x80)
      i++;
    run = i;
  }
  if (!rc && n > run)
    rc = sink(user, s + run, n - run);
  return rc;
}

static int buf_sink(void *user, const unsigned char *data, size_t len)
{
  return mail_buf_append(user, data, len);
}

/* Replace invalid sequences in out[from..] (see emit_utf8). */
static int fix_utf8_tail(mail_buf *out, size_t from, unsigned int *replaced)
{
  if (mail_utf8_valid(out->data + from, out->len - from))
    return MAIL_OK;
  mail_buf tmp;
  mail_buf_init(&tmp, out->alloc, 0);
  int rc = mail_buf_append(&tmp, out->data + from, out->len - from);
  if (rc == MAIL_OK) {
    out->len = from;
    rc = emit_utf8(tmp.data, tmp.len, buf_sink, out, replaced) ? MAIL_ERR_NOMEM : MAIL_OK;
  }
  mail_buf_free(&tmp);
  return rc;
}

int mime_append_converted(mail_buf *out, const char *charset, const unsigned char *in, size_t n,
                          unsigned int *replaced)
{
  static const unsigned char REPL[3] = {0xEF, 0xBF, 0xBD};
  if (!charset || !*charset)
    return mime_append_utf8_or_latin1(out, in, n);
  if (is_utf8_label(charset) && mail_utf8_valid(in, n))
    return mail_buf_append(out, in, n);
  const char *name = mime_charset_alias(charset);
  if (!*name) {
    int rc = mime_append_utf8_or_latin1(out, in, n);
    return rc ? rc : MAIL_ERR_CHARSET;
  }
  if (!mime_ascii_casecmp(name, "us-ascii") || !mime_ascii_casecmp(name, "ascii"))
    name = "UTF-8"; /* 8-bit bytes in "ASCII" text: keep valid UTF-8, replace the rest */
  iconv_t cd = iconv_open("UTF-8", name);
  if (cd == (iconv_t)-1) {
    int rc = mime_append_utf8_or_latin1(out, in, n);
    return rc ? rc : MAIL_ERR_CHARSET;
  }
  size_t start = out->len;
  char *ip = (char *)(uintptr_t)in;
  size_t il = n;
  int rc = MAIL_OK;
  while (il) {
    if (mail_buf_reserve(out, il * 4 + 16)) {
      rc = MAIL_ERR_NOMEM;
      break;
    }
    char *op = (char *)out->data + out->len;
    size_t ol = out->cap - out->len;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    out->len = (size_t)((unsigned char *)op - out->data);
    if (r != (size_t)-1)
      break;
    if (errno == E2BIG)
      continue;
    /* EILSEQ or EINVAL: one replacement character, skip one byte. */
    if ((rc = mail_buf_append(out, REPL, 3)))
      break;
    if (replaced)
      (*replaced)++;
    ip++;
    il--;
    iconv(cd, NULL, NULL, NULL, NULL);
  }
  if (rc == MAIL_OK) {
    /* Flush a stateful encoding's shift sequence. */
    if (mail_buf_reserve(out, 16) == MAIL_OK) {
      char *op = (char *)out->data + out->len;
      size_t ol = out->cap - out->len;
      iconv(cd, NULL, NULL, &op, &ol);
      out->len = (size_t)((unsigned char *)op - out->data);
    }
  }
  iconv_close(cd);
  if (rc == MAIL_OK)
    rc = fix_utf8_tail(out, start, replaced);
  return rc;
}

/* Both the module's and the caller's conversion: handout says whether the
 * result is the caller's (mail_free) or the module's (mail_dealloc). */
static int to_utf8(char **out, size_t *out_len, const char *charset, const void *in, size_t len,
                   const mail_allocator *a, int handout)
{
  if (!out || (!in && len))
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_buf b;
  mail_buf_init(&b, a, 0);
  if (handout && mail_handout_begin(&b))
    return MAIL_ERR_NOMEM;
  int rc = mime_append_converted(&b, charset, in, len, NULL);
  int rc2 = rc == MAIL_ERR_NOMEM ? rc : mail_buf_append_byte(&b, 0);
  if (rc == MAIL_ERR_NOMEM || rc2 || !b.data) {
    mail_buf_free(&b);
    return MAIL_ERR_NOMEM;
  }
  size_t n = b.len;
  if (handout)
    *out = mail_handout_finish(&b, &n);
  else
    *out = (char *)b.data;
  if (out_len)
    *out_len = n - 1;
  return rc;
}

int mime_charset_to_utf8(char **out, size_t *out_len, const char *charset, const void *in,
                         size_t len, const mail_allocator *a)
{
  return a ? to_utf8(out, out_len, charset, in, len, a, 0) : MAIL_ERR_INVALID;
}

int mail_charset_to_utf8(char **out, size_t *out_len, const char *charset, const void *in,
                         size_t len, const mail_allocator *alloc)
{
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  return to_utf8(out, out_len, charset, in, len, &a, 1);
}

void mime_conv_open(mime_conv *c, const char *charset)
{
  memset(c, 0, sizeof *c);
  if (!charset || !*charset || is_utf8_label(charset))
    charset = "UTF-8";
  const char *name = mime_charset_alias(charset);
  if (!*name) {
    c->unknown = 1;
    return;
  }
  iconv_t cd = iconv_open("UTF-8", name);
  if (cd == (iconv_t)-1)
    c->unknown = 1;
  else
    c->cd = cd;
}

void mime_conv_close(mime_conv *c)
{
  if (c->cd)
    iconv_close((iconv_t)c->cd);
  c->cd = NULL;
}

/* Convert in[0..n) (after the carried bytes) and pass the result on. */
static int conv_run(mime_conv *c, const unsigned char *in, size_t n, int final,
                    mime_conv_sink sink, void *user, size_t *used)
{
  static const unsigned char REPL[3] = {0xEF, 0xBF, 0xBD};
  char out[8192];
  char *ip = (char *)(uintptr_t)in;
  size_t il = n;
  int rc = 0;
  while (il && !rc) {
    char *op = out;
    size_t ol = sizeof out;
    size_t r = iconv((iconv_t)c->cd, &ip, &il, &op, &ol);
    int err = r == (size_t)-1 ? errno : 0;
    if (op > out)
      rc = emit_utf8((unsigned char *)out, (size_t)(op - out), sink, user, &c->replaced);
    if (rc || !err || err == E2BIG)
      continue;
    if (err == EINVAL && !final)
      break; /* an incomplete character: carried */
    rc = sink(user, REPL, 3);
    c->replaced++;
    ip++;
    il--;
    iconv((iconv_t)c->cd, NULL, NULL, NULL, NULL);
  }
  *used = n - il;
  return rc;
}

int mime_conv_feed(mime_conv *c, const unsigned char *in, size_t n, int final,
                   mime_conv_sink sink, void *user)
{
  if (!c->cd)
    return n ? sink(user, in, n) : 0;
  size_t used;
  int rc;
  /* Complete the carried character one byte at a time (it is short). */
  while (c->ncarry && n) {
    c->carry[c->ncarry++] = *in++;
    n--;
    if ((rc = conv_run(c, c->carry, c->ncarry, 0, sink, user, &used)))
      return rc;
    memmove(c->carry, c->carry + used, c->ncarry - used);
    c->ncarry -= used;
    if (c->ncarry == sizeof c->carry) {
      /* no character is this long: replace a byte and go on */
      c->replaced++;
      if ((rc = sink(user, (const unsigned char *)"\xEF\xBF\xBD", 3)))
        return rc;
      memmove(c->carry, c->carry + 1, --c->ncarry);
    }
  }
  if (n) {
    if ((rc = conv_run(c, in, n, final, sink, user, &used)))
      return rc;
    size_t left = n - used;
    if (left) {
      if (left > sizeof c->carry - 1) {
        /* only a truncated character can be left over */
        in += n - (sizeof c->carry - 1);
        left = sizeof c->carry - 1;
      } else {
        in += used;
      }
      memcpy(c->carry, in, left);
      c->ncarry = left;
    }
  }
  if (final && c->ncarry) {
    if ((rc = conv_run(c, c->carry, c->ncarry, 1, sink, user, &used)))
      return rc;
    c->ncarry = 0;
  }
  return 0;
}

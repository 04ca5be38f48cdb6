/* 1,000 varied messages against the real Dovecot: built with the MIME
 * builder (plain text, multipart/mixed with attachments,
 * multipart/alternative, multipart/related, message/rfc822 nested one and
 * two deep, base64 and quoted-printable, RFC 2047 and RFC 2231 non-ASCII
 * headers and filenames, 100 bytes to ~60 KB) and APPENDed to a mailbox of
 * the test's own; then LIST, SELECT (EXISTS, UIDNEXT, UIDVALIDITY), SEARCH
 * with known answers, FETCH ENVELOPE + BODYSTRUCTURE of all of them, each
 * BODYSTRUCTURE compared part by part with the MIME parser's view of the
 * bytes appended (which BODY.PEEK[] gives back byte for byte), partial UID
 * FETCHes checked against the same bytes and the parser's part offsets,
 * STORE of flags read back, a set split into many pipelined commands,
 * expunges by a second session (QRESYNC, a small max_response) counted
 * by both, and the mailbox deleted. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/mime.h>
#include <mail/mime_build.h>

#include "imap_it.h"
#include "servers_env.h"

#define NMSG 1000
#define NKINDS 10

/* ------------------------------------------------------------ messages */

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

static int rng_fill(void *user, unsigned char *buf, size_t len)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char)rng_next(user);
  return 0;
}

static const char *const words[] = {"mail", "library", "Dovecot", "été", "naïve", "Grüße",
                                    "日本語", "structure", "the", "of", "€uro", "zebra",
                                    "a", "line", "protocol", "øre"};

/* Text of about len bytes, lines of varying length (some over 76 bytes,
 * so quoted-printable needs soft breaks), non-ASCII words when utf8. */
static char *make_text(rng *r, size_t len, int utf8, size_t *out_len)
{
  char *t = malloc(len + 64);
  ck_assert_ptr_nonnull(t);
  size_t n = 0, col = 0, width = 20 + rng_next(r) % 120;
  while (n < len) {
    const char *w = words[rng_next(r) % 16];
    size_t wl = strlen(w);
    for (size_t j = 0; !utf8 && j < wl; j++)
      if ((unsigned char)w[j] >= 0x80) {
        w = "plain";
        wl = 5;
      }
    memcpy(t + n, w, wl);
    n += wl;
    col += wl;
    if (col >= width) {
      t[n++] = '\n';
      col = 0;
      width = 20 + rng_next(r) % 120;
    } else {
      t[n++] = ' ';
      col++;
    }
  }
  t[n++] = '\n';
  *out_len = n;
  return t;
}

static unsigned char *make_binary(rng *r, size_t len)
{
  unsigned char *b = malloc(len ? len : 1);
  ck_assert_ptr_nonnull(b);
  rng_fill(r, b, len);
  return b;
}

typedef struct bulk {
  char token[96];
  unsigned char *msg[NMSG];
  size_t len[NMSG];
  uint32_t uid[NMSG];
  int seen[NMSG];      /* APPENDed with \Seen */
  int kind[NMSG];
  int subject_ete[NMSG]; /* the subject holds "été" */
  int needle[NMSG];    /* a base64 text attachment holds "zebra-needle" */
  rng random;          /* the builders' random source: they use it when frozen */
} bulk;

static void add_common(mail_mime_builder *b, const bulk *k, int i, rng *r, int depth)
{
  char subj[256], id[160], val[64];
  int kind = i % NKINDS;
  ck_assert_int_eq(mail_mime_builder_set_random(b, rng_fill, r), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_date(b, 1700000000 + (int64_t)i * 3600, (i % 5 - 2) * 60),
                   MAIL_OK);
  if (i % 3 == 0)
    ck_assert_int_eq(mail_mime_builder_set_from(b, "Ålice Ünïcode", "alice@libmail.test"),
                     MAIL_OK);
  else
    ck_assert_int_eq(mail_mime_builder_set_from(b, "Alice", "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(b, i % 2 ? "Bob" : NULL, "bob@libmail.test"), MAIL_OK);
  if (i % 7 == 0)
    ck_assert_int_eq(mail_mime_builder_add_cc(b, "Cédric", "cedric@libmail.test"), MAIL_OK);
  if (depth == 0) {
    snprintf(id, sizeof id, "bulk-%d-%s@libmail.test", i, k->token);
    if (kind == 1 || kind == 6)
      snprintf(subj, sizeof subj, "bulk %d kind %d: été à Zürich, 日本語 %s", i, kind, k->token);
    else
      snprintf(subj, sizeof subj, "bulk %d kind %d %s", i, kind, k->token);
  } else {
    snprintf(id, sizeof id, "inner-%d-%d-%s@libmail.test", depth, i, k->token);
    snprintf(subj, sizeof subj, "inner message %d of bulk %d (Grüße)", depth, i);
  }
  ck_assert_int_eq(mail_mime_builder_set_message_id(b, id), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(b, subj), MAIL_OK);
  snprintf(val, sizeof val, "k%d", kind);
  if (depth == 0) {
    ck_assert_int_eq(mail_mime_builder_add_header(b, "X-Libmail-Kind", val), MAIL_OK);
    ck_assert_int_eq(mail_mime_builder_add_header(b, "X-Libmail-Note", "nöt ASCII: ½ ✓"),
                     MAIL_OK);
  }
}

static void set_text(mail_mime_builder *b, rng *r, size_t len, int utf8)
{
  size_t n;
  char *t = make_text(r, len, utf8, &n);
  ck_assert_int_eq(mail_mime_builder_set_text(b, t, n), MAIL_OK);
  free(t);
}

static void set_html(mail_mime_builder *b, rng *r, size_t len)
{
  size_t n;
  char *t = make_text(r, len, 1, &n);
  char *h = malloc(n + 64);
  ck_assert_ptr_nonnull(h);
  int hl = snprintf(h, n + 64, "<html><body><p>%.*s</p></body></html>\n", (int)n, t);
  ck_assert_int_eq(mail_mime_builder_set_html(b, h, (size_t)hl), MAIL_OK);
  free(t);
  free(h);
}

static void attach_binary(mail_mime_builder *b, rng *r, const char *type, const char *name,
                          size_t len)
{
  unsigned char *d = make_binary(r, len);
  ck_assert_int_eq(mail_mime_builder_add_attachment(b, type, name, d, len, NULL), MAIL_OK);
  free(d);
}

/* Message i of the run: its kind is i % 10, its size grows with i. */
static mail_mime_builder *build(bulk *k, int i)
{
  k->random.s = 0x9e3779b97f4a7c15ull ^ (uint64_t)(i + 1) * 0x100000001b3ull;
  rng_next(&k->random);
  rng *r = &k->random;
  size_t size = 100 + (size_t)(i * 37 % 3000) + (size_t)(i / 100) * 500;
  mail_mime_builder *b = NULL, *inner = NULL, *inner2 = NULL;
  ck_assert_int_eq(mail_mime_builder_new(&b, NULL), MAIL_OK);
  add_common(b, k, i, r, 0);
  mail_mime_builder_part *p = NULL;
  char name[128], raw[512];
  size_t n;
  char *t;
  k->kind[i] = i % NKINDS;
  switch (i % NKINDS) {
  case 0: /* text/plain, 7bit */
    set_text(b, r, size, 0);
    break;
  case 1: /* text/plain, UTF-8: quoted-printable or base64 as the builder chooses */
    set_text(b, r, size, 1);
    k->subject_ete[i] = 1;
    break;
  case 2: /* multipart/alternative */
    set_text(b, r, size, i % 4 == 2);
    set_html(b, r, size);
    break;
  case 3: /* multipart/mixed: text and one to three binary attachments (base64) */
    set_text(b, r, size / 2, 0);
    for (int a = 0; a <= i / NKINDS % 3; a++) {
      snprintf(name, sizeof name, "data-%d-%d.bin", i, a);
      attach_binary(b, r, a == 1 ? "image/png" : "application/octet-stream", name,
                    (size_t)(a * 1000) + size);
    }
    break;
  case 4: /* multipart/mixed > multipart/related > multipart/alternative, inline image */
    set_text(b, r, size, 1);
    set_html(b, r, size);
    t = (char *)make_binary(r, 300 + size / 4);
    snprintf(name, sizeof name, "img-%d@libmail.test", i);
    ck_assert_int_eq(mail_mime_builder_add_inline(b, "image/gif", "pixel.gif", t,
                                                  300 + size / 4, name, NULL),
                     MAIL_OK);
    free(t);
    attach_binary(b, r, "application/pdf", "report.pdf", size);
    break;
  case 5: /* a message/rfc822 holding a multipart/mixed */
    set_text(b, r, size / 3, 0);
    ck_assert_int_eq(mail_mime_builder_new(&inner, NULL), MAIL_OK);
    add_common(inner, k, i, r, 1);
    set_text(inner, r, size / 2, 1);
    attach_binary(inner, r, "application/zip", "inner.zip", size / 2);
    ck_assert_int_eq(mail_mime_builder_attach_message(b, inner, "forwarded.eml", NULL), MAIL_OK);
    break;
  case 6: /* RFC 2231 filename, a text attachment forced to quoted-printable */
    set_text(b, r, size / 2, 1);
    t = make_text(r, size, 1, &n);
    snprintf(name, sizeof name, "résumé %d — été.txt", i);
    ck_assert_int_eq(mail_mime_builder_add_attachment(b, "text/plain", name, t, n, &p), MAIL_OK);
    ck_assert_int_eq(mail_mime_builder_part_set_encoding(p, MAIL_MIME_ENC_QUOTED_PRINTABLE),
                     MAIL_OK);
    free(t);
    k->subject_ete[i] = 1;
    break;
  case 7: /* a text attachment forced to base64, holding the search needle */
    set_text(b, r, size / 4, 0);
    t = make_text(r, size, 0, &n);
    memcpy(t + n / 2, " zebra-needle ", 14);
    ck_assert_int_eq(mail_mime_builder_add_attachment(b, "text/csv", "table.csv", t, n, &p),
                     MAIL_OK);
    ck_assert_int_eq(mail_mime_builder_part_set_encoding(p, MAIL_MIME_ENC_BASE64), MAIL_OK);
    free(t);
    k->needle[i] = 1;
    break;
  case 8: /* one large text/plain, long UTF-8 lines */
    set_text(b, r, size * 4 + (size_t)i * 20, 1);
    break;
  case 9: /* message/rfc822 inside message/rfc822, and raw message bytes attached */
    set_text(b, r, size / 4, 0);
    ck_assert_int_eq(mail_mime_builder_new(&inner, NULL), MAIL_OK);
    add_common(inner, k, i, r, 1);
    set_text(inner, r, size / 3, 0);
    ck_assert_int_eq(mail_mime_builder_new(&inner2, NULL), MAIL_OK);
    add_common(inner2, k, i, r, 2);
    set_text(inner2, r, size / 3, 1);
    set_html(inner2, r, size / 3);
    ck_assert_int_eq(mail_mime_builder_attach_message(inner, inner2, NULL, NULL), MAIL_OK);
    ck_assert_int_eq(mail_mime_builder_attach_message(b, inner, NULL, NULL), MAIL_OK);
    /* Every other one has no MIME header at all (RFC 2045's defaults). */
    snprintf(raw, sizeof raw,
             "From: carol@libmail.test\nSubject: raw %d\n%s\nraw body of %d\nsecond line\n", i,
             i % 20 == 9 ? "" : "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n",
             i);
    ck_assert_int_eq(mail_mime_builder_attach_message_data(b, raw, strlen(raw), "raw.eml",
                                                           NULL),
                     MAIL_OK);
    break;
  }
  return b;
}

/* ------------------------------------------------------------ comparing */

/* A's view of one part: what the BODYSTRUCTURE must say about it. */
static int ieq(const char *a, size_t alen, const char *b)
{
  return a && b && strlen(b) == alen && !strncasecmp(a, b, alen);
}

/* Trimmed raw header value (NULL when absent): the part's own header. */
static char *header_trim(const mail_mime_part *p, const char *name, char *buf, size_t cap)
{
  const char *v = mail_mime_part_header(p, name);
  if (!v)
    return NULL;
  while (*v == ' ' || *v == '\t')
    v++;
  size_t n = strlen(v);
  while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
    n--;
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, v, n);
  buf[n] = 0;
  return buf;
}

/* "utf-8''r%C3%A9sum%C3%A9" (an RFC 2231 extended value, as Dovecot 2.3
 * passes it on: it joins continuations but does not decode) into UTF-8. */
static void rfc2231_decode(const char *v, size_t n, char *out, size_t cap)
{
  const char *q = memchr(v, '\'', n);
  const char *q2 = q ? memchr(q + 1, '\'', n - (size_t)(q + 1 - v)) : NULL;
  ck_assert_ptr_nonnull(q2);
  size_t o = 0;
  for (const char *s = q2 + 1; s < v + n && o + 1 < cap; s++) {
    if (*s == '%' && s + 2 < v + n) {
      char hex[3] = {s[1], s[2], 0};
      out[o++] = (char)strtol(hex, NULL, 16);
      s += 2;
    } else {
      out[o++] = *s;
    }
  }
  out[o] = 0;
}

/* What the comparison looked at, over all messages (so a run that
 * compared nothing cannot pass). */
static struct {
  size_t parts, leaves, multiparts, messages, params, encoded_params, dispositions, envelopes;
  size_t default_charsets;
} seen_stats;

typedef struct cmp {
  int msg;
  const unsigned char *src;
  char where[512];
} cmp;

#define CHECK(c, cond, fmt, ...)                                                   \
  ck_assert_msg(cond, "message %d part %s: " fmt, (c)->msg, (c)->where, __VA_ARGS__)

/* Each parameter the server lists must be the parser's; and the ones the
 * parser has that matter here (charset, name, boundary, filename) must be
 * listed. */
static void compare_params(cmp *c, const mail_imap_body *b, const mail_mime_part *p, int list)
{
  size_t n = mail_imap_body_param_count(b, list);
  for (size_t i = 0; i < n; i++) {
    const char *name, *value;
    size_t nl, vl;
    ck_assert_int_eq(mail_imap_body_param(b, list, i, &name, &nl, &value, &vl), MAIL_OK);
    char key[64], dec[512];
    ck_assert_uint_lt(nl, sizeof key);
    memcpy(key, name, nl);
    key[nl] = 0;
    const char *want;
    seen_stats.params++;
    if (nl && key[nl - 1] == '*') {
      seen_stats.encoded_params++;
      /* Dovecot 2.3 (imap-bodystructure.c, rfc2231_parse()) joins RFC 2231
       * continuations but keeps the extended value encoded, under the
       * name with its '*': decode it to compare with the parser's. */
      key[nl - 1] = 0;
      rfc2231_decode(value, vl, dec, sizeof dec);
      value = dec;
      vl = strlen(dec);
    }
    want = list == MAIL_IMAP_PARAMS_CONTENT_TYPE ? mail_mime_part_type_param(p, key)
                                                 : mail_mime_part_disposition_param(p, key);
    if (!want && list == MAIL_IMAP_PARAMS_CONTENT_TYPE && !mail_mime_part_header(p, "Content-Type") &&
        !strcasecmp(key, "charset") && ieq(value, vl, "us-ascii")) {
      /* No Content-Type at all: RFC 2045 5.2's default is "text/plain;
       * charset=us-ascii", and Dovecot writes that parameter out where
       * the parser (which reports what the header says) has none. */
      seen_stats.default_charsets++;
      continue;
    }
    CHECK(c, want && strlen(want) == vl && !memcmp(want, value, vl),
          "parameter %s: server \"%.*s\", parser \"%s\"", key, (int)vl, value,
          want ? want : "(none)");
  }
  static const char *const keys[] = {"charset", "name", "boundary", "filename"};
  for (size_t k = 0; k < 4; k++) {
    const char *want = list == MAIL_IMAP_PARAMS_CONTENT_TYPE
                           ? mail_mime_part_type_param(p, keys[k])
                           : mail_mime_part_disposition_param(p, keys[k]);
    if (!want)
      continue;
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
      const char *name;
      size_t nl;
      mail_imap_body_param(b, list, i, &name, &nl, NULL, NULL);
      found = ieq(name, nl, keys[k]) ||
              (nl == strlen(keys[k]) + 1 && !strncasecmp(name, keys[k], nl - 1) &&
               name[nl - 1] == '*');
    }
    CHECK(c, found, "parameter %s (%s) not in the BODYSTRUCTURE", keys[k], want);
  }
}

static void compare_string(cmp *c, const mail_imap_body *b, int field, const char *want,
                           const char *what)
{
  size_t n;
  const char *got = mail_imap_body_field(b, field, &n);
  if (!want) {
    CHECK(c, got == NULL, "%s: server \"%.*s\", parser none", what, (int)n, got);
    return;
  }
  CHECK(c, got && n == strlen(want) && !memcmp(got, want, n), "%s: server \"%.*s\", parser \"%s\"",
        what, got ? (int)n : 4, got ? got : "NIL", want);
}

static void compare_disposition(cmp *c, const mail_imap_body *b, const mail_mime_part *p)
{
  size_t n;
  const char *got = mail_imap_body_field(b, MAIL_IMAP_BODY_DISPOSITION, &n);
  const char *want = mail_mime_part_disposition(p);
  if (!want) {
    CHECK(c, got == NULL, "disposition: server \"%.*s\", parser none", (int)n, got);
    return;
  }
  seen_stats.dispositions++;
  CHECK(c, ieq(got, n, want), "disposition: server \"%.*s\", parser \"%s\"", got ? (int)n : 3,
        got ? got : "NIL", want);
  compare_params(c, b, p, MAIL_IMAP_PARAMS_DISPOSITION);
}

/* Lines of a body as Dovecot counts them for body-fld-lines (RFC 3501
 * says only "the size of the body in text lines"): the line feeds in the
 * body's bytes. A last line without one is not counted: the last line of
 * a part inside a multipart (its CRLF belongs to the boundary that
 * follows, RFC 2046 5.1.1), or of a message whose body does not end in
 * CRLF (the builder's base64 bodies end without one). */
static uint64_t count_lines(const unsigned char *s, uint64_t from, uint64_t to)
{
  uint64_t n = 0;
  for (uint64_t i = from; i < to; i++)
    n += s[i] == '\n';
  return n;
}

static void compare_part(cmp *c, const mail_imap_body *b, const mail_mime_part *p);

static void compare_envelope(cmp *c, const mail_imap_envelope *e, mail_mime_part *root)
{
  size_t n;
  char buf[1024];
  seen_stats.envelopes++;
  const char *s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, &n);
  const char *want = header_trim(root, "Message-ID", buf, sizeof buf);
  CHECK(c, want && s && n == strlen(want) && !memcmp(s, want, n), "Message-ID \"%.*s\" / \"%s\"",
        s ? (int)n : 3, s ? s : "NIL", want ? want : "none");
  s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_DATE, &n);
  want = header_trim(root, "Date", buf, sizeof buf);
  CHECK(c, want && s && n == strlen(want) && !memcmp(s, want, n), "Date \"%.*s\" / \"%s\"",
        s ? (int)n : 3, s ? s : "NIL", want ? want : "none");
  /* The subject as sent (RFC 2047 words: Dovecot does not decode ENVELOPE
   * strings), decoded, is the parser's decoded Subject. */
  s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n);
  ck_assert_ptr_nonnull(s);
  char *dec = NULL;
  size_t dl = 0;
  unsigned int defects = 0;
  ck_assert_int_eq(mail_mime_header_decode(&dec, &dl, &defects, s, n, NULL), MAIL_OK);
  want = mail_mime_part_header_decoded(root, "Subject");
  CHECK(c, want && dl == strlen(want) && !memcmp(dec, want, dl), "Subject \"%s\" / \"%s\"", dec,
        want ? want : "none");
  mail_free(dec);
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_FROM), 1);
  const mail_imap_address *a = mail_imap_envelope_address(e, MAIL_IMAP_ADDR_FROM, 0);
  s = mail_imap_address_mailbox(a, &n);
  CHECK(c, ieq(s, n, "alice"), "From mailbox %.*s", (int)n, s);
  s = mail_imap_address_host(a, &n);
  CHECK(c, ieq(s, n, "libmail.test"), "From host %.*s", (int)n, s);
  /* Sender and Reply-To default to From (RFC 3501 7.4.2). */
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_SENDER), 1);
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_REPLY_TO), 1);
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_TO), 1);
  ck_assert_uint_eq(mail_imap_envelope_address_count(e, MAIL_IMAP_ADDR_CC),
                    mail_mime_part_header(root, "Cc") ? 1 : 0);
}

static void compare_leaf(cmp *c, const mail_imap_body *b, const mail_mime_part *p)
{
  const char *ct = mail_mime_part_content_type(p);
  const char *slash = strchr(ct, '/');
  size_t n;
  const char *ty = mail_imap_body_field(b, MAIL_IMAP_BODY_TYPE, &n);
  CHECK(c, ty && n == (size_t)(slash - ct) && !strncasecmp(ty, ct, n), "type %.*s / %s",
        ty ? (int)n : 3, ty ? ty : "NIL", ct);
  const char *sub = mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n);
  CHECK(c, ieq(sub, n, slash + 1), "subtype %.*s / %s", sub ? (int)n : 3, sub ? sub : "NIL", ct);
  compare_params(c, b, p, MAIL_IMAP_PARAMS_CONTENT_TYPE);
  char buf[1024];
  compare_string(c, b, MAIL_IMAP_BODY_ID, header_trim(p, "Content-ID", buf, sizeof buf),
                 "Content-ID");
  compare_string(c, b, MAIL_IMAP_BODY_DESCRIPTION,
                 header_trim(p, "Content-Description", buf, sizeof buf), "Content-Description");
  const char *enc = mail_imap_body_field(b, MAIL_IMAP_BODY_ENCODING, &n);
  CHECK(c, ieq(enc, n, mail_mime_part_encoding_name(p)), "encoding %.*s / %s", enc ? (int)n : 3,
        enc ? enc : "NIL", mail_mime_part_encoding_name(p));
  uint64_t bs, be, size = 0, lines = 0;
  mail_mime_part_offsets(p, NULL, &bs, &be);
  CHECK(c, mail_imap_body_size(b, &size) == MAIL_OK && size == be - bs,
        "size %llu / %llu", (unsigned long long)size, (unsigned long long)(be - bs));
  int text = !strncmp(ct, "text/", 5);
  int message = mail_mime_part_is_message(p);
  if (text || message) {
    CHECK(c, mail_imap_body_lines(b, &lines) == MAIL_OK, "%s", "no line count");
    uint64_t want = count_lines(c->src, bs, be);
    CHECK(c, lines == want, "lines %llu / %llu", (unsigned long long)lines,
          (unsigned long long)want);
  } else {
    CHECK(c, mail_imap_body_lines(b, &lines) == MAIL_ERR_NOT_FOUND, "%s",
          "a line count on a part that is neither text nor message");
  }
  if (message) {
    seen_stats.messages++;
    /* message/rfc822: ENVELOPE, BODYSTRUCTURE and lines of the inner message. */
    CHECK(c, mail_mime_part_child_count(p) == 1 && mail_imap_body_child_count(b) == 1, "%s",
          "message/rfc822 without its message");
    mail_mime_part *inner = mail_mime_part_child(p, 0);
    const mail_imap_envelope *e = mail_imap_body_envelope(b);
    CHECK(c, e != NULL, "%s", "message/rfc822 without ENVELOPE");
    /* A raw message attached as it came has no Message-ID or Date:
     * Dovecot gives NIL there, nothing to compare. */
    if (mail_mime_part_header(inner, "Message-ID"))
      compare_envelope(c, e, inner);
    compare_part(c, mail_imap_body_child(b, 0), inner);
  }
  /* Extension data: MD5 NIL (we send no Content-MD5), the disposition,
   * no language, no location. */
  compare_string(c, b, MAIL_IMAP_BODY_MD5, NULL, "MD5");
  compare_disposition(c, b, p);
  CHECK(c, mail_imap_body_language_count(b) == 0, "%s", "a language");
  compare_string(c, b, MAIL_IMAP_BODY_LOCATION, NULL, "location");
}

static void compare_part(cmp *c, const mail_imap_body *b, const mail_mime_part *p)
{
  size_t at = strlen(c->where);
  snprintf(c->where + at, sizeof c->where - at, "[%s]",
           *mail_mime_part_path(p) ? mail_mime_part_path(p) : "root");
  ck_assert_uint_eq(mail_mime_part_defect_count(p), 0);
  seen_stats.parts++;
  if (mail_mime_part_is_multipart(p)) {
    seen_stats.multiparts++;
    CHECK(c, mail_imap_body_is_multipart(b), "%s", "multipart in the parser only");
    const char *ct = mail_mime_part_content_type(p);
    size_t n;
    const char *sub = mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n);
    CHECK(c, ieq(sub, n, ct + strlen("multipart/")), "subtype %.*s / %s", sub ? (int)n : 3,
          sub ? sub : "NIL", ct);
    size_t kids = mail_mime_part_child_count(p);
    CHECK(c, mail_imap_body_child_count(b) == kids, "%zu parts / %zu",
          mail_imap_body_child_count(b), kids);
    for (size_t i = 0; i < kids; i++)
      compare_part(c, mail_imap_body_child(b, i), mail_mime_part_child(p, i));
    compare_params(c, b, p, MAIL_IMAP_PARAMS_CONTENT_TYPE);
    compare_disposition(c, b, p);
    CHECK(c, mail_imap_body_language_count(b) == 0, "%s", "a language");
  } else {
    CHECK(c, !mail_imap_body_is_multipart(b), "%s", "multipart in the BODYSTRUCTURE only");
    seen_stats.leaves++;
    compare_leaf(c, b, p);
  }
  c->where[at] = 0;
}

/* ------------------------------------------------------------ the session */

typedef struct state {
  bulk *k;
  uint32_t uidvalidity;
  /* FETCH ENVELOPE BODYSTRUCTURE */
  int fetched;
  uint8_t done[NMSG];
  /* SEARCH / ESEARCH */
  uint32_t hits[NMSG + 8];
  size_t nhits;
  char esearch[256];
  int es_all[NMSG]; /* messages in the ESEARCH ALL ranges (by index) */
  size_t es_ranges;
  /* LIST */
  int listed;
  uint64_t list_messages;
  const char *box;
  /* STORE: flags seen in FETCH responses */
  int store_fetches;
  /* the expected flags after the STOREs */
  int flagged[NMSG], kw[NMSG];
  /* BODY.PEEK[]: one buffer per message, filled as it streams */
  unsigned char *body;
  size_t body_len, body_cap;
  uint32_t body_seq;
  int bodies;
  /* a partial value */
  uint64_t origin;
  int has_origin;
} state;

static int index_of_uid(const state *st, uint32_t uid)
{
  for (int i = 0; i < NMSG; i++)
    if (st->k->uid[i] == uid)
      return i;
  return -1;
}

static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  state *st = user;
  ck_assert(trusted);
  ck_assert_uint_eq(mail_imap_response_defect_count(r), 0);
  int type = mail_imap_response_type(r);
  if (type == MAIL_IMAP_TYPE_SEARCH) {
    size_t n;
    const uint32_t *u = mail_imap_response_numbers(r, &n);
    for (size_t i = 0; i < n; i++) {
      ck_assert_uint_lt(st->nhits, NMSG + 8);
      st->hits[st->nhits++] = u[i];
    }
  } else if (type == MAIL_IMAP_TYPE_ESEARCH) {
    st->esearch[0] = 0;
    uint32_t first, last;
    for (size_t i = 0; mail_imap_response_range(r, i, &first, &last) == MAIL_OK; i++) {
      st->es_ranges++;
      for (uint64_t u = first; u <= last; u++) {
        int at = index_of_uid(st, (uint32_t)u);
        ck_assert_int_ge(at, 0);
        st->es_all[at]++;
      }
    }
    const char *name, *value;
    size_t nl, vl;
    for (size_t i = 0; mail_imap_response_esearch_item(r, i, &name, &nl, &value, &vl) == MAIL_OK;
         i++) {
      size_t at = strlen(st->esearch);
      snprintf(st->esearch + at, sizeof st->esearch - at, "%s%.*s %.*s", at ? " " : "", (int)nl,
               name, (int)vl, value);
    }
  } else if (type == MAIL_IMAP_TYPE_LIST) {
    size_t n;
    const char *name = mail_imap_response_mailbox(r, &n, NULL, NULL);
    if (name && n == strlen(st->box) && !memcmp(name, st->box, n))
      st->listed++;
  } else if (type == MAIL_IMAP_TYPE_STATUS) {
    const char *name;
    size_t nl;
    uint64_t v;
    for (size_t i = 0; mail_imap_response_status_item(r, i, &name, &nl, &v) == MAIL_OK; i++)
      if (ieq(name, nl, "MESSAGES"))
        st->list_messages = v;
  }
  return 0;
}

static int on_structure(void *user, const mail_imap_response *r, int trusted)
{
  state *st = user;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
    return on_untagged(user, r, trusted);
  ck_assert_uint_eq(mail_imap_response_defect_count(r), 0);
  uint64_t uid = 0, size = 0;
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid), MAIL_OK);
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_RFC822_SIZE, &size), MAIL_OK);
  uint32_t seq = 0;
  ck_assert_int_eq(mail_imap_response_number(r, &seq), MAIL_OK);
  int i = index_of_uid(st, (uint32_t)uid);
  ck_assert_int_ge(i, 0);
  ck_assert_uint_eq(seq, (uint32_t)i + 1); /* appended in order to a mailbox of our own */
  ck_assert_uint_eq(size, st->k->len[i]);
  ck_assert(!st->done[i]);
  st->done[i] = 1;
  st->fetched++;
  mail_mime_message *m = NULL;
  ck_assert_int_eq(mail_mime_message_parse(&m, st->k->msg[i], st->k->len[i], MAIL_MIME_BORROW,
                                           NULL, NULL),
                   MAIL_OK);
  ck_assert_uint_eq(mail_mime_message_defect_count(m), 0);
  cmp c = {i, st->k->msg[i], ""};
  const mail_imap_envelope *e = mail_imap_fetch_envelope(r);
  ck_assert_ptr_nonnull(e);
  compare_envelope(&c, e, mail_mime_message_root(m));
  const mail_imap_body *b = mail_imap_fetch_body(r);
  ck_assert_ptr_nonnull(b);
  compare_part(&c, b, mail_mime_message_root(m));
  /* FLAGS as APPENDed. */
  int seen = 0;
  for (size_t f = 0; f < mail_imap_fetch_flag_count(r); f++) {
    size_t n;
    const char *fl = mail_imap_fetch_flag(r, f, &n);
    seen |= ieq(fl, n, "\\Seen");
  }
  ck_assert_int_eq(seen, st->k->seen[i]);
  mail_mime_message_free(m);
  return 0;
}

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *d, size_t n)
{
  state *st = user;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    st->body_len = 0;
    st->body_seq = mail_imap_section_message(s);
    st->has_origin = mail_imap_section_origin(s, &st->origin) == MAIL_OK;
    ck_assert_uint_le(mail_imap_section_size(s), st->body_cap);
  } else if (ev == MAIL_IMAP_BODY_DATA) {
    ck_assert_uint_le(st->body_len + n, st->body_cap);
    memcpy(st->body + st->body_len, d, n);
    st->body_len += n;
  } else {
    ck_assert_uint_eq(st->body_len, mail_imap_section_size(s));
  }
  return 0;
}

/* BODY.PEEK[] of every message, each equal to the bytes appended. */
static int on_whole(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                    const unsigned char *d, size_t n)
{
  state *st = user;
  on_body(user, ev, s, d, n);
  if (ev == MAIL_IMAP_BODY_END) {
    uint32_t i = st->body_seq - 1;
    ck_assert_uint_lt(i, NMSG);
    ck_assert_msg(st->body_len == st->k->len[i] && !memcmp(st->body, st->k->msg[i], st->body_len),
                  "message %u: BODY[] differs from what was appended", i);
    st->bodies++;
  }
  return 0;
}

static int on_flags(void *user, const mail_imap_response *r, int trusted)
{
  state *st = user;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
    return on_untagged(user, r, trusted);
  uint32_t seq = 0;
  ck_assert_int_eq(mail_imap_response_number(r, &seq), MAIL_OK);
  ck_assert(seq >= 1 && seq <= NMSG);
  int i = (int)seq - 1, flagged = 0, kw = 0, seen = 0;
  ck_assert(mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS));
  for (size_t f = 0; f < mail_imap_fetch_flag_count(r); f++) {
    size_t n;
    const char *fl = mail_imap_fetch_flag(r, f, &n);
    flagged |= ieq(fl, n, "\\Flagged");
    kw |= ieq(fl, n, "$LibmailBulk");
    seen |= ieq(fl, n, "\\Seen");
  }
  ck_assert_msg(flagged == st->flagged[i] && kw == st->kw[i] && seen == st->k->seen[i],
                "message %d: flags %d %d %d, want %d %d %d", i, flagged, kw, seen,
                st->flagged[i], st->kw[i], st->k->seen[i]);
  st->store_fetches++;
  return 0;
}

/* Commands sent (the trace shows each write; a command starts a line). */
static void count_fetches(void *user, int dir, const char *data, size_t len)
{
  int *n = user;
  if (dir != MAIL_TRACE_SEND)
    return;
  for (const char *p = data; (p = memmem(p, len - (size_t)(p - data), " UID FETCH ", 11)) != NULL;
       p += 11)
    (*n)++;
}

/* FETCH (UID) over a split set: each message once. */
static int on_uid(void *user, const mail_imap_response *r, int trusted)
{
  state *st = user;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
    return on_untagged(user, r, trusted);
  uint64_t uid = 0;
  ck_assert_int_eq(mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid), MAIL_OK);
  int i = index_of_uid(st, (uint32_t)uid);
  ck_assert_int_ge(i, 0);
  st->done[i]++;
  st->fetched++;
  return 0;
}

static void search(mail_imap *im, state *st, int uid, const char *criteria,
                   const char *const *args, size_t nargs)
{
  st->nhits = 0;
  int rc = mail_imap_search(im, uid, NULL, criteria, args, nargs);
  ck_assert_msg(rc == MAIL_OK, "SEARCH %s: %s (%s)", criteria, mail_strerror(rc),
                mail_imap_last_text(im));
}

/* The search found exactly the messages want says (by UID or number). */
static void expect_hits(const state *st, int uid, const int *want, const char *what)
{
  size_t expected = 0;
  for (int i = 0; i < NMSG; i++)
    expected += want[i] != 0;
  ck_assert_msg(st->nhits == expected, "%s: %zu hits, %zu expected", what, st->nhits, expected);
  for (size_t h = 0; h < st->nhits; h++) {
    int i = uid ? index_of_uid(st, st->hits[h]) : (int)st->hits[h] - 1;
    ck_assert_msg(i >= 0 && i < NMSG && want[i], "%s: %u is not expected", what, st->hits[h]);
  }
}

static void fetch_one(mail_imap *im, state *st, mail_imap_seqset *set, uint32_t uid,
                      const char *items)
{
  mail_imap_seqset_clear(set);
  ck_assert_int_eq(mail_imap_seqset_add(set, &uid, 1), MAIL_OK);
  st->body_len = 0;
  st->has_origin = 0;
  int rc = mail_imap_fetch(im, set, 1, items, on_body, st);
  ck_assert_msg(rc == MAIL_OK, "UID FETCH %u %s: %s", uid, items, mail_strerror(rc));
}

/* Partial fetches of message i: of the whole message, of its header and
 * of its first part, checked against the bytes and the parser's offsets. */
static void partials(mail_imap *im, state *st, mail_imap_seqset *set, int i)
{
  const unsigned char *m = st->k->msg[i];
  size_t len = st->k->len[i];
  uint32_t uid = st->k->uid[i];
  char items[128];
  size_t starts[] = {0, 1, len / 3, len - 7, len, len + 100};
  size_t lens[] = {10, 1000, 4096, 100, 10, 10};
  for (size_t t = 0; t < 6; t++) {
    snprintf(items, sizeof items, "(BODY.PEEK[]<%zu.%zu>)", starts[t], lens[t]);
    fetch_one(im, st, set, uid, items);
    size_t from = starts[t] < len ? starts[t] : len;
    size_t want = len - from < lens[t] ? len - from : lens[t];
    ck_assert_msg(st->body_len == want && !memcmp(st->body, m + from, want),
                  "message %d %s: %zu bytes, want %zu", i, items, st->body_len, want);
    /* The reply names the origin ("BODY[]<start>"). */
    ck_assert(st->has_origin);
    ck_assert_uint_eq(st->origin, starts[t]);
  }
  mail_mime_message *mm = NULL;
  ck_assert_int_eq(mail_mime_message_parse(&mm, m, len, MAIL_MIME_BORROW, NULL, NULL), MAIL_OK);
  mail_mime_part *root = mail_mime_message_root(mm);
  uint64_t hs, bs, be;
  mail_mime_part_offsets(root, &hs, &bs, &be);
  fetch_one(im, st, set, uid, "(BODY.PEEK[HEADER])");
  ck_assert_uint_eq(st->body_len, bs - hs);
  ck_assert(!memcmp(st->body, m + hs, st->body_len));
  mail_mime_part *p1 = mail_mime_part_is_multipart(root) ? mail_mime_part_child(root, 0) : root;
  mail_mime_part_offsets(p1, &hs, &bs, &be);
  fetch_one(im, st, set, uid, "(BODY.PEEK[1]<3.200>)");
  size_t want = be - bs - 3 < 200 ? (size_t)(be - bs - 3) : 200;
  ck_assert_msg(st->body_len == want && !memcmp(st->body, m + bs + 3, want),
                "message %d BODY[1]<3.200>: %zu bytes, want %zu", i, st->body_len, want);
  if (mail_mime_part_is_multipart(root)) {
    fetch_one(im, st, set, uid, "(BODY.PEEK[1.MIME])");
    ck_assert_uint_eq(st->body_len, bs - hs);
    ck_assert(!memcmp(st->body, m + hs, st->body_len));
  }
  mail_mime_message_free(mm);
}

static void store(mail_imap *im, state *st, mail_imap_seqset *set, int how, const char *const *flags,
                  size_t n)
{
  st->store_fetches = 0;
  int rc = mail_imap_store(im, set, 1, how, flags, n, 0, 0);
  ck_assert_msg(rc == MAIL_OK, "STORE: %s (%s)", mail_strerror(rc), mail_imap_last_text(im));
}

START_TEST(test_thousand)
{
  static bulk k;
  static state st;
  memset(&k, 0, sizeof k);
  memset(&st, 0, sizeof st);
  st.k = &k;
  snprintf(k.token, sizeof k.token, "t%ld%ld", (long)getpid(), (long)imap_it_now_ms());
  char box[160];
  imap_it_unique(box, sizeof box, "bulk");
  st.box = box;
  int64_t t0 = imap_it_now_ms();
  mail_imap *im = imap_it_login(1, 1, NULL);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, &st), MAIL_OK);
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);

  /* APPEND: every message from its builder, a quarter with \Seen. */
  static const char *const seen[] = {"\\Seen"};
  for (int i = 0; i < NMSG; i++) {
    mail_mime_builder *b = build(&k, i);
    k.seen[i] = i % 4 == 1;
    int rc = mail_imap_append_builder(im, box, k.seen[i] ? seen : NULL, k.seen[i] ? 1 : 0,
                                      i % 5 == 0 ? 1600000000 + i : 0, b);
    ck_assert_msg(rc == MAIL_OK, "APPEND %d: %s (%s)", i, mail_strerror(rc),
                  mail_imap_last_text(im));
    ck_assert_int_eq(mail_mime_builder_to_buffer(b, &k.msg[i], &k.len[i]), MAIL_OK);
    mail_mime_builder_free(b);
    uint32_t v;
    ck_assert_int_eq(mail_imap_append_uid(&v, &k.uid[i], im), MAIL_OK);
    if (!st.uidvalidity)
      st.uidvalidity = v;
    ck_assert_uint_eq(v, st.uidvalidity);
    ck_assert(i == 0 || k.uid[i] > k.uid[i - 1]);
  }
  int64_t t_append = imap_it_now_ms();

  /* LIST the mailbox by its (non-ASCII) name, with its STATUS. */
  ck_assert_int_eq(mail_imap_list(im, "", box, MAIL_IMAP_LIST_STATUS), MAIL_OK);
  ck_assert_int_eq(st.listed, 1);
  ck_assert_uint_eq(st.list_messages, NMSG);

  /* SELECT: the numbers the APPENDs imply. */
  ck_assert_int_eq(mail_imap_select(im, box, 0), MAIL_OK);
  uint64_t v = 0;
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, NMSG);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDVALIDITY), MAIL_OK);
  ck_assert_uint_eq(v, st.uidvalidity);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDNEXT), MAIL_OK);
  ck_assert_uint_eq(v, (uint64_t)k.uid[NMSG - 1] + 1);

  /* SEARCH with answers known from how the messages were built. */
  static int want[NMSG];
  for (int i = 0; i < NMSG; i++)
    want[i] = k.kind[i] == 3;
  const char *arg[1] = {"k3"};
  search(im, &st, 1, "HEADER X-Libmail-Kind ?", arg, 1);
  expect_hits(&st, 1, want, "UID SEARCH HEADER X-Libmail-Kind k3");
  arg[0] = "été à Zürich"; /* RFC 2047 in the Subject, CHARSET UTF-8 in the command */
  search(im, &st, 0, "SUBJECT ?", arg, 1);
  for (int i = 0; i < NMSG; i++)
    want[i] = k.subject_ete[i];
  expect_hits(&st, 0, want, "SEARCH SUBJECT été");
  arg[0] = "zebra-needle"; /* inside base64 text attachments */
  search(im, &st, 1, "BODY ?", arg, 1);
  for (int i = 0; i < NMSG; i++)
    want[i] = k.needle[i];
  expect_hits(&st, 1, want, "UID SEARCH BODY zebra-needle");
  search(im, &st, 0, "LARGER 20000 NOT SEEN", NULL, 0);
  for (int i = 0; i < NMSG; i++)
    want[i] = k.len[i] > 20000 && !k.seen[i];
  expect_hits(&st, 0, want, "SEARCH LARGER 20000 NOT SEEN");
  char id[160];
  snprintf(id, sizeof id, "<bulk-517-%s@libmail.test>", k.token);
  arg[0] = id;
  search(im, &st, 1, "HEADER Message-ID ?", arg, 1);
  ck_assert_uint_eq(st.nhits, 1);
  ck_assert_uint_eq(st.hits[0], k.uid[517]);
  ck_assert_int_eq(mail_imap_search(im, 1, "MIN MAX COUNT", "ALL", NULL, 0), MAIL_OK);
  char es[128];
  snprintf(es, sizeof es, "MIN %u MAX %u COUNT %d", k.uid[0], k.uid[NMSG - 1], NMSG);
  ck_assert_str_eq(st.esearch, es);
  int64_t t_search = imap_it_now_ms();

  /* ENVELOPE + BODYSTRUCTURE of all, each compared with the parser. */
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, UINT32_MAX), MAIL_OK);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_structure, &st), MAIL_OK);
  int rc = mail_imap_fetch(im, set, 0, "(UID RFC822.SIZE FLAGS ENVELOPE BODYSTRUCTURE)", NULL,
                           NULL);
  ck_assert_msg(rc == MAIL_OK, "FETCH: %s (%s)", mail_strerror(rc), mail_imap_last_text(im));
  ck_assert_int_eq(st.fetched, NMSG);
  fprintf(stderr,
          "bulk: compared %zu parts (%zu leaves, %zu multiparts, %zu message/rfc822), "
          "%zu parameters (%zu RFC 2231, %zu default charsets), %zu dispositions, %zu envelopes\n",
          seen_stats.parts, seen_stats.leaves, seen_stats.multiparts, seen_stats.messages,
          seen_stats.params, seen_stats.encoded_params, seen_stats.default_charsets,
          seen_stats.dispositions,
          seen_stats.envelopes);
  ck_assert_uint_ge(seen_stats.messages, 300);
  ck_assert_uint_ge(seen_stats.encoded_params, 100);
  ck_assert_uint_ge(seen_stats.default_charsets, 50);
  int64_t t_structure = imap_it_now_ms();

  /* BODY.PEEK[] of all: the bytes the parser looked at are the server's. */
  st.body_cap = 0;
  for (int i = 0; i < NMSG; i++)
    if (k.len[i] > st.body_cap)
      st.body_cap = k.len[i];
  st.body = malloc(st.body_cap);
  ck_assert_ptr_nonnull(st.body);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, &st), MAIL_OK);
  /* From an event loop, this one (how often it waits is not checked: a
   * loaded client may always find data). */
  mail_conn_set_nonblocking(mail_imap_conn(im), 1);
  int64_t deadline = imap_it_now_ms() + 120000;
  while ((rc = mail_imap_fetch(im, set, 0, "(BODY.PEEK[])", on_whole, &st)) == MAIL_ERR_AGAIN) {
    ck_assert_msg(imap_it_wait(im, deadline), "FETCH BODY[] still running after 120 s");
  }
  mail_conn_set_nonblocking(mail_imap_conn(im), 0);
  ck_assert_msg(rc == MAIL_OK, "FETCH BODY[]: %s", mail_strerror(rc));
  ck_assert_int_eq(st.bodies, NMSG);
  int64_t t_bodies = imap_it_now_ms();

  /* Partial UID FETCHes of one message of each kind. */
  for (int i = 990; i < NMSG; i++)
    partials(im, &st, set, i);

  /* STORE: \Flagged and a keyword on every third, the keyword off again
   * on every sixth, \Flagged replaced on a few; each FETCH that comes
   * back and a FETCH FLAGS of all match, as do SEARCHes for them. */
  static const char *const fl[] = {"\\Flagged", "$LibmailBulk"};
  mail_imap_seqset_clear(set);
  for (int i = 0; i < NMSG; i += 3) {
    ck_assert_int_eq(mail_imap_seqset_add(set, &k.uid[i], 1), MAIL_OK);
    st.flagged[i] = st.kw[i] = 1;
  }
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_flags, &st), MAIL_OK);
  store(im, &st, set, MAIL_IMAP_STORE_ADD, fl, 2);
  ck_assert_int_eq(st.store_fetches, (NMSG + 2) / 3);
  mail_imap_seqset_clear(set);
  for (int i = 0; i < NMSG; i += 6) {
    ck_assert_int_eq(mail_imap_seqset_add(set, &k.uid[i], 1), MAIL_OK);
    st.kw[i] = 0;
  }
  store(im, &st, set, MAIL_IMAP_STORE_REMOVE, fl + 1, 1);
  ck_assert_int_eq(st.store_fetches, (NMSG + 5) / 6);
  mail_imap_seqset_clear(set);
  for (int i = 1; i < 40; i += 4) { /* these have \Seen: REPLACE keeps only \Flagged */
    ck_assert_int_eq(mail_imap_seqset_add(set, &k.uid[i], 1), MAIL_OK);
    st.flagged[i] = 1;
    st.kw[i] = 0;
    k.seen[i] = 0;
  }
  store(im, &st, set, MAIL_IMAP_STORE_REPLACE, fl, 1);
  ck_assert_int_eq(st.store_fetches, 10);
  mail_imap_seqset_clear(set);
  ck_assert_int_eq(mail_imap_seqset_add_range(set, 1, UINT32_MAX), MAIL_OK);
  st.store_fetches = 0;
  ck_assert_int_eq(mail_imap_fetch(im, set, 0, "(FLAGS)", NULL, NULL), MAIL_OK);
  ck_assert_int_eq(st.store_fetches, NMSG);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, &st), MAIL_OK);
  search(im, &st, 1, "KEYWORD $LibmailBulk", NULL, 0);
  expect_hits(&st, 1, st.kw, "UID SEARCH KEYWORD $LibmailBulk");
  search(im, &st, 0, "FLAGGED", NULL, 0);
  expect_hits(&st, 0, st.flagged, "SEARCH FLAGGED");
  /* ESEARCH ALL: the same as a set of UID ranges. */
  memset(st.es_all, 0, sizeof st.es_all);
  st.es_ranges = 0;
  ck_assert_int_eq(mail_imap_search(im, 1, "ALL", "KEYWORD $LibmailBulk", NULL, 0), MAIL_OK);
  ck_assert_uint_gt(st.es_ranges, 100);
  for (int i = 0; i < NMSG; i++)
    ck_assert_int_eq(st.es_all[i], st.kw[i]);

  /* A set too long for one command at the bound set here: every other
   * UID, some 40 UID FETCH commands sent at once and answered by tag. */
  ck_assert_int_eq(mail_imap_set_max_set_length(im, 64), MAIL_OK);
  mail_imap_seqset_clear(set);
  for (int i = 0; i < NMSG; i += 2)
    ck_assert_int_eq(mail_imap_seqset_add(set, &k.uid[i], 1), MAIL_OK);
  memset(st.done, 0, sizeof st.done);
  st.fetched = 0;
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_uid, &st), MAIL_OK);
  int commands = 0;
  mail_conn_set_trace(mail_imap_conn(im), count_fetches, &commands);
  ck_assert_int_eq(mail_imap_fetch(im, set, 1, "(UID)", NULL, NULL), MAIL_OK);
  mail_conn_set_trace(mail_imap_conn(im), NULL, NULL);
  ck_assert_int_ge(commands, 30);
  ck_assert_int_eq(st.fetched, NMSG / 2);
  for (int i = 0; i < NMSG; i++)
    ck_assert_int_eq(st.done[i], i % 2 == 0);
  ck_assert_int_eq(mail_imap_set_untagged_callback(im, on_untagged, &st), MAIL_OK);

  /* A second session, with QRESYNC and a max_response of 1 KiB, removes
   * every other message: the VANISHED it gets back (a set of 500 single
   * UIDs, over 2 KiB, more than one read's worth for the parser) and the
   * 500 EXPUNGEs this session sees at its next NOOP both leave 500. */
  mail_limits small;
  ck_assert_int_eq(mail_limits_init(&small, MAIL_LIMITS_VERSION), MAIL_OK);
  small.max_response = 1024;
  mail_imap *other = imap_it_connect(0, NULL, &small);
  imap_it_login_as(other, 1);
  static const char *const qresync[] = {"QRESYNC"};
  ck_assert_int_eq(mail_imap_enable(other, qresync, 1), MAIL_OK);
  ck_assert_int_eq(mail_imap_select(other, box, 0), MAIL_OK);
  mail_imap_seqset_clear(set);
  for (int i = 1; i < NMSG; i += 2)
    ck_assert_int_eq(mail_imap_seqset_add(set, &k.uid[i], 1), MAIL_OK);
  static const char *const del[] = {"\\Deleted"};
  ck_assert_int_eq(mail_imap_store(other, set, 1, MAIL_IMAP_STORE_ADD, del, 1, 1, 0), MAIL_OK);
  rc = mail_imap_uid_expunge(other, set);
  ck_assert_msg(rc == MAIL_OK, "UID EXPUNGE: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(other)));
  ck_assert_int_eq(mail_imap_mailbox_number(&v, other, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, NMSG / 2);
  imap_it_logout(other);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS), MAIL_OK);
  ck_assert_uint_eq(v, NMSG / 2);

  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
  size_t total = 0;
  for (int i = 0; i < NMSG; i++)
    total += k.len[i];
  fprintf(stderr,
          "bulk: %d messages, %zu bytes: APPEND %lld ms, SEARCH %lld ms, ENVELOPE+BODYSTRUCTURE "
          "%lld ms, BODY[] %lld ms, rest %lld ms\n",
          NMSG, total, (long long)(t_append - t0),
          (long long)(t_search - t_append), (long long)(t_structure - t_search),
          (long long)(t_bodies - t_structure), (long long)(imap_it_now_ms() - t_bodies));
  for (int i = 0; i < NMSG; i++)
    mail_free(k.msg[i]);
  free(st.body);
  mail_imap_seqset_free(set);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_thousand};
  return imap_it_main("imap-bulk", 240, tests, sizeof tests / sizeof *tests);
}

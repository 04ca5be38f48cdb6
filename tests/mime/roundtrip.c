/* Round trip: messages built by the builder from seeded random structures
 * (text, HTML, inline parts, attachments from memory, files and callbacks,
 * nested and raw message/rfc822, every transport option) are parsed back
 * by the parser, which must find the same structure, the same decoded
 * content, filenames, headers and no defects. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

/* ---------------------------------------------------------------- rng */

static uint64_t rng_state;

static uint32_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)(rng_state >> 11);
}

static uint32_t below(uint32_t n)
{
  return n ? rnd() % n : 0;
}

static int builder_random(void *user, unsigned char *buf, size_t len)
{
  (void)user;
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char)rnd();
  return 0;
}

static int64_t builder_clock(void *user, int which)
{
  (void)user;
  (void)which;
  return 1795752354000LL;
}

/* ------------------------------------------------------------- model */

enum { M_LEAF, M_MULTI, M_MSG, M_RAWMSG };

typedef struct model_part {
  int kind;
  char ct[64];
  unsigned char *data;  /* expected decoded bytes (leaf, raw message) */
  size_t len;
  char *filename;
  char *cid;
  const char *disp;
  struct model_part *kids[64];
  size_t nkids;
  struct model_msg *inner;
} model_part;

typedef struct model_addr {
  char *name;
  char *addr;
} model_addr;

typedef struct model_msg {
  char *subject;
  model_addr from;
  model_addr to[4], cc[3], bcc[2];
  size_t nto, ncc, nbcc;
  model_part *root;
  int non_ascii_addr;
} model_msg;

/* Export mode leaves raw message/rfc822 attachments out: their expected
 * leaves would need a parser of their own. */
static int no_raw_messages;

/* everything allocated for one case, freed at its end */
static void *pool[4096];
static size_t npool;
static char tmpfiles[64][64];
static size_t ntmp;

static void *track(void *p)
{
  ck_assert_uint_lt(npool, sizeof pool / sizeof *pool);
  pool[npool++] = p;
  return p;
}

static void release_all(void)
{
  for (size_t i = 0; i < npool; i++)
    free(pool[i]);
  npool = 0;
  for (size_t i = 0; i < ntmp; i++)
    unlink(tmpfiles[i]);
  ntmp = 0;
}

static model_part *new_model(int kind, const char *ct)
{
  model_part *p = track(calloc(1, sizeof *p));
  p->kind = kind;
  snprintf(p->ct, sizeof p->ct, "%s", ct);
  return p;
}

static char *sdup(const char *s)
{
  return s ? track(strdup(s)) : NULL;
}

/* --------------------------------------------------------- generators */

static const char *const UWORDS[] = {"é", "Grüße", "日本語", "😀", "Ωμέγα", "naïve", "ß", "€uro"};
static const char *const AWORDS[] = {"hello", "world", "From", "Re:", "a", "the", "=?", "?=", "x=y",
                                     "(comment)", "\"q\"", "back\\slash", "semi;colon", "at@sign", "_"};

static void append(char **s, size_t *n, size_t *cap, const void *p, size_t k)
{
  if (*n + k + 1 > *cap) {
    *cap = (*n + k + 1) * 2;
    *s = realloc(*s, *cap);
  }
  memcpy(*s + *n, p, k);
  *n += k;
  (*s)[*n] = 0;
}

/* A header-ish phrase: words separated by single spaces. */
static char *gen_words(size_t maxwords, int utf8, int allow_long)
{
  char *s = NULL;
  size_t n = 0, cap = 0;
  size_t words = 1 + below((uint32_t)maxwords);
  for (size_t w = 0; w < words; w++) {
    if (w)
      append(&s, &n, &cap, " ", 1);
    const char *word;
    char longw[700];
    uint32_t r = below(20);
    if (allow_long && r == 0) {
      size_t len = 100 + below(500);
      for (size_t i = 0; i < len; i++)
        longw[i] = (char)('a' + below(26));
      longw[len] = 0;
      word = longw;
    } else if (utf8 && r < 6) {
      word = UWORDS[below(sizeof UWORDS / sizeof *UWORDS)];
    } else {
      word = AWORDS[below(sizeof AWORDS / sizeof *AWORDS)];
    }
    append(&s, &n, &cap, word, strlen(word));
  }
  return track(s);
}

/* Body text with every kind of line ending and the lines that need care. */
static unsigned char *gen_text(size_t *len, int utf8)
{
  char *s = NULL;
  size_t n = 0, cap = 0;
  append(&s, &n, &cap, "", 0);
  size_t lines = below(12);
  for (size_t l = 0; l < lines; l++) {
    switch (below(10)) {
    case 0: append(&s, &n, &cap, "From the start", 14); break;
    case 1: append(&s, &n, &cap, ".", 1); break;
    case 2: {
      size_t k = 80 + below(1500);
      for (size_t i = 0; i < k; i++)
        append(&s, &n, &cap, i % 7 == 6 ? " " : "z", 1);
      break;
    }
    case 3: append(&s, &n, &cap, "trailing space \t ", 17); break;
    case 4: append(&s, &n, &cap, "equals = sign =3D", 17); break;
    default: {
      char *w = gen_words(12, utf8, 0);
      append(&s, &n, &cap, w, strlen(w));
    }
    }
    static const char *const EOLS[] = {"\n", "\r\n", "\r", "\n", "\r\n"};
    const char *eol = EOLS[below(5)];
    if (l + 1 < lines || below(2))
      append(&s, &n, &cap, eol, strlen(eol));
  }
  *len = n;
  return track(s);
}

/* What a text part decodes to: every line break CRLF. */
static unsigned char *crlf_norm(const unsigned char *in, size_t n, size_t *out_len)
{
  unsigned char *o = track(malloc(2 * n + 1));
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '\r') {
      if (i + 1 < n && in[i + 1] == '\n')
        i++;
      o[k++] = '\r';
      o[k++] = '\n';
    } else if (in[i] == '\n') {
      o[k++] = '\r';
      o[k++] = '\n';
    } else {
      o[k++] = in[i];
    }
  }
  *out_len = k;
  return o;
}

static unsigned char *gen_binary(size_t *len)
{
  size_t n = below(4) == 0 ? below(5) : below(6000);
  unsigned char *b = track(malloc(n + 1));
  int flavour = (int)below(3);
  for (size_t i = 0; i < n; i++)
    b[i] = flavour == 0 ? (unsigned char)rnd() : flavour == 1 ? (unsigned char)("ab\r\ncd"[i % 6])
                                                              : (unsigned char)(' ' + below(95));
  *len = n;
  return b;
}

static const char *gen_filename(void)
{
  switch (below(6)) {
  case 0: return NULL;
  case 1: return "report.pdf";
  case 2: return "Überblick über alles 2026 — Entwurf.docx";
  case 3: return "quote\"and\\slash.txt";
  case 4: return "日本語のファイル名はとても長いのでいくつかのセクションに分割されます.txt";
  default: return gen_words(4, 1, 0);
  }
}

static void gen_addr(model_addr *a, int utf8_ok, int *non_ascii)
{
  static const char *const NAMES[] = {NULL, "", "Alice", "Bob Smith", "Smith, John", "Jürgen Weiß",
                                      "\"quoted\" name", "=?utf-8?q?fake?=", "日本 太郎", "a (b) <c>"};
  static const char *const ADDRS[] = {"alice@example.org", "bob.smith@mail.example.com", "\"john smith\"@example.net",
                                      "user+tag@[192.0.2.7]", "x@y.z", "jürgen@bücher.example"};
  a->name = sdup(NAMES[below(sizeof NAMES / sizeof *NAMES)]);
  size_t na = sizeof ADDRS / sizeof *ADDRS;
  const char *addr = ADDRS[below(utf8_ok ? (uint32_t)na : (uint32_t)na - 1)];
  if (strcmp(addr, "jürgen@bücher.example") == 0)
    *non_ascii = 1;
  a->addr = sdup(addr);
}

/* rewindable callback over a copy of some bytes */
typedef struct mem_src {
  const unsigned char *data;
  size_t len, pos;
} mem_src;

static int src_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  mem_src *s = user;
  size_t k = s->len - s->pos < cap ? s->len - s->pos : cap;
  if (k > 1000)
    k = 1000; /* short reads are allowed */
  memcpy(buf, s->data + s->pos, k);
  s->pos += k;
  *got = k;
  return 0;
}

static int src_rewind(void *user)
{
  ((mem_src *)user)->pos = 0;
  return 0;
}

static int is_text(const char *ct)
{
  return strncasecmp(ct, "text/", 5) == 0;
}

static model_msg *gen_message(mail_mime_builder *m, unsigned opts, int depth);

/* One attachment of a random kind, added to the builder and described. */
static model_part *gen_attachment(mail_mime_builder *m, unsigned opts, int depth)
{
  static const char *const CTS[] = {"application/octet-stream", "application/pdf", "text/plain", "text/csv",
                                    "image/jpeg"};
  const char *ct = CTS[below(sizeof CTS / sizeof *CTS)];
  const char *fn = gen_filename();
  uint32_t src = below(depth < 2 ? 7 : 5);
  if (src == 6 && no_raw_messages)
    src = 0;
  if (src == 5) {
    /* a nested message built by the builder */
    mail_mime_builder *in;
    ck_assert_int_eq(mail_mime_builder_new(&in, NULL), MAIL_OK);
    mail_mime_builder_set_random(in, builder_random, NULL);
    mail_mime_builder_set_clock(in, builder_clock, NULL);
    model_part *p = new_model(M_MSG, "message/rfc822");
    p->inner = gen_message(in, opts, depth + 1);
    p->filename = sdup(fn);
    p->disp = "attachment";
    ck_assert_int_eq(mail_mime_builder_attach_message(m, in, fn, NULL), MAIL_OK);
    return p;
  }
  if (src == 6) {
    /* a raw message; 8-bit only where the path carries it */
    const char *raw = (opts & (MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_BINARYMIME | MAIL_MIME_OPT_SMTPUTF8))
                        ? "Subject: raw\nFrom: r@example.org\n\nbody with ü\n"
                        : "Subject: raw\r\nFrom: r@example.org\r\n\r\nplain body\rlast";
    model_part *p = new_model(M_RAWMSG, "message/rfc822");
    p->data = crlf_norm((const unsigned char *)raw, strlen(raw), &p->len);
    p->filename = sdup(fn);
    p->disp = "attachment";
    ck_assert_int_eq(mail_mime_builder_attach_message_data(m, raw, strlen(raw), fn, NULL), MAIL_OK);
    return p;
  }
  size_t len;
  unsigned char *data = is_text(ct) && below(3) ? gen_text(&len, 1) : gen_binary(&len);
  model_part *p = new_model(M_LEAF, ct);
  p->filename = sdup(fn);
  p->disp = "attachment";
  int normalise = is_text(ct);
  switch (src) {
  case 0:
  case 1:
    ck_assert_int_eq(mail_mime_builder_add_attachment(m, ct, fn, data, len, NULL), MAIL_OK);
    break;
  case 2: {
    ck_assert_uint_lt(ntmp, 64);
    snprintf(tmpfiles[ntmp], sizeof tmpfiles[ntmp], "/tmp/mime-roundtrip-%d-%zu", (int)getpid(), ntmp);
    FILE *f = fopen(tmpfiles[ntmp], "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(mail_mime_builder_add_attachment_file(m, ct, fn, tmpfiles[ntmp], NULL), MAIL_OK);
    ntmp++;
    break;
  }
  case 3: {
    mem_src *s = track(calloc(1, sizeof *s));
    s->data = data;
    s->len = len;
    ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, ct, fn, src_read, src_rewind, s,
                                                               below(2) ? len : MAIL_MIME_LENGTH_UNKNOWN, NULL),
                     MAIL_OK);
    break;
  }
  case 4: {
    /* not rewindable: sent as it comes, no line-ending conversion */
    mem_src *s = track(calloc(1, sizeof *s));
    s->data = data;
    s->len = len;
    ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, ct, fn, src_read, NULL, s, len, NULL), MAIL_OK);
    normalise = 0;
    break;
  }
  }
  if (normalise)
    p->data = crlf_norm(data, len, &p->len);
  else {
    p->data = data;
    p->len = len;
  }
  return p;
}

static model_part *text_model(const char *ct, const unsigned char *s, size_t n)
{
  model_part *p = new_model(M_LEAF, ct);
  p->data = crlf_norm(s, n, &p->len);
  return p;
}

static model_part *multi(const char *ct)
{
  return new_model(M_MULTI, ct);
}

static void add_kid(model_part *parent, model_part *kid)
{
  ck_assert_uint_lt(parent->nkids, 64);
  parent->kids[parent->nkids++] = kid;
}

/* Fill a builder with a random message; return what it should parse to. */
static model_msg *gen_message(mail_mime_builder *m, unsigned opts, int depth)
{
  model_msg *mm = track(calloc(1, sizeof *mm));
  int utf8 = (opts & MAIL_MIME_OPT_SMTPUTF8) != 0;
  if (below(5)) {
    mm->subject = gen_words(15, 1, 1);
    ck_assert_int_eq(mail_mime_builder_set_subject(m, mm->subject), MAIL_OK);
  }
  if (below(5)) {
    gen_addr(&mm->from, utf8, &mm->non_ascii_addr);
    ck_assert_int_eq(mail_mime_builder_set_from(m, mm->from.name, mm->from.addr), MAIL_OK);
  }
  mm->nto = below(4);
  for (size_t i = 0; i < mm->nto; i++) {
    gen_addr(&mm->to[i], utf8, &mm->non_ascii_addr);
    ck_assert_int_eq(mail_mime_builder_add_to(m, mm->to[i].name, mm->to[i].addr), MAIL_OK);
  }
  mm->ncc = below(3);
  for (size_t i = 0; i < mm->ncc; i++) {
    gen_addr(&mm->cc[i], utf8, &mm->non_ascii_addr);
    ck_assert_int_eq(mail_mime_builder_add_cc(m, mm->cc[i].name, mm->cc[i].addr), MAIL_OK);
  }
  mm->nbcc = below(2);
  for (size_t i = 0; i < mm->nbcc; i++) {
    mm->bcc[i].addr = sdup("secret.bcc@hidden.example");
    ck_assert_int_eq(mail_mime_builder_add_bcc(m, "Hidden", mm->bcc[i].addr), MAIL_OK);
  }
  if (below(3) == 0)
    ck_assert_int_eq(mail_mime_builder_add_header(m, "X-Random", gen_words(8, 1, 0)), MAIL_OK);

  model_part *text = NULL, *html = NULL, *inl[4];
  size_t ninl = 0;
  if (below(3)) {
    size_t n;
    unsigned char *t = gen_text(&n, 1);
    ck_assert_int_eq(mail_mime_builder_set_text(m, (const char *)t, n), MAIL_OK);
    text = text_model("text/plain", t, n);
  }
  if (below(3) == 0) {
    size_t n;
    unsigned char *t = gen_text(&n, 1);
    ck_assert_int_eq(mail_mime_builder_set_html(m, (const char *)t, n), MAIL_OK);
    html = text_model("text/html", t, n);
  }
  ninl = below(4) == 0 ? 1 + below(3) : 0;
  for (size_t i = 0; i < ninl; i++) {
    size_t n;
    unsigned char *b = gen_binary(&n);
    char cid[64];
    snprintf(cid, sizeof cid, "part%zu.%u@example.org", i, depth);
    const char *fn = below(2) ? "image.png" : NULL;
    ck_assert_int_eq(mail_mime_builder_add_inline(m, "image/png", fn, b, n, cid, NULL), MAIL_OK);
    inl[i] = new_model(M_LEAF, "image/png");
    inl[i]->data = b;
    inl[i]->len = n;
    inl[i]->cid = sdup(cid);
    inl[i]->filename = sdup(fn);
    inl[i]->disp = "inline";
  }
  size_t natt = below(3) ? below(4) : 0;
  model_part *att[4];
  for (size_t i = 0; i < natt; i++)
    att[i] = gen_attachment(m, opts, depth);

  /* the structure the builder documents */
  model_part *h = html;
  if (html && ninl) {
    h = multi("multipart/related");
    add_kid(h, html);
    for (size_t i = 0; i < ninl; i++)
      add_kid(h, inl[i]);
  }
  model_part *body = text && h ? multi("multipart/alternative") : text ? text : h;
  if (text && h) {
    add_kid(body, text);
    add_kid(body, h);
  }
  int orphans = ninl && !html;
  if (natt || orphans) {
    model_part *mixed = multi("multipart/mixed");
    if (body)
      add_kid(mixed, body);
    if (orphans)
      for (size_t i = 0; i < ninl; i++)
        add_kid(mixed, inl[i]);
    for (size_t i = 0; i < natt; i++)
      add_kid(mixed, att[i]);
    body = mixed;
  }
  if (!body)
    body = text_model("text/plain", (const unsigned char *)"", 0);
  mm->root = body;
  return mm;
}

/* ------------------------------------------------------------ compare */

static void compare_addrs(mail_mime_part *part, const char *field, const model_addr *want, size_t n)
{
  const char *raw = mail_mime_part_header(part, field);
  if (n == 0) {
    ck_assert_msg(raw == NULL, "unexpected %s", field);
    return;
  }
  ck_assert_msg(raw != NULL, "missing %s", field);
  mail_address_list *l;
  ck_assert_int_eq(mail_address_list_parse(&l, raw, strlen(raw), MAIL_ADDR_STRICT, NULL, NULL), MAIL_OK);
  ck_assert_uint_eq(mail_address_list_count(l), n);
  for (size_t i = 0; i < n; i++) {
    const mail_address *a = mail_address_list_get(l, i);
    ck_assert_str_eq(a->mailbox, want[i].addr);
    const char *wn = want[i].name && *want[i].name ? want[i].name : NULL;
    const char *gn = a->name && *a->name ? a->name : NULL;
    ck_assert_msg((wn == NULL) == (gn == NULL) && (!wn || strcmp(wn, gn) == 0), "%s name: want [%s] got [%s]",
                  field, wn ? wn : "(none)", gn ? gn : "(none)");
  }
  mail_address_list_free(l);
}

static void compare_part(const model_part *mp, mail_mime_part *pp, const unsigned char *src);

static void compare_msg(const model_msg *mm, mail_mime_part *root, const unsigned char *src)
{
  const char *subj = mail_mime_part_header_decoded(root, "Subject");
  if (mm->subject) {
    ck_assert_ptr_nonnull(subj);
    ck_assert_msg(strcmp(subj, mm->subject) == 0, "subject: want [%s] got [%s]", mm->subject, subj);
  } else {
    ck_assert_ptr_null(subj);
  }
  compare_addrs(root, "From", &mm->from, mm->from.addr ? 1 : 0);
  compare_addrs(root, "To", mm->to, mm->nto);
  compare_addrs(root, "Cc", mm->cc, mm->ncc);
  ck_assert_ptr_null(mail_mime_part_header(root, "Bcc"));
  ck_assert_ptr_nonnull(mail_mime_part_header(root, "Date"));
  ck_assert_ptr_nonnull(mail_mime_part_header(root, "Message-ID"));
  ck_assert_str_eq(mail_mime_part_header(root, "MIME-Version"), " 1.0");
  compare_part(mm->root, root, src);
}

static void compare_part(const model_part *mp, mail_mime_part *pp, const unsigned char *src)
{
  const char *ct = mail_mime_part_content_type(pp);
  const char *path = mail_mime_part_path(pp);
  if (mp->kind == M_MSG || mp->kind == M_RAWMSG)
    ck_assert_msg(strcmp(ct, "message/rfc822") == 0 || strcmp(ct, "message/global") == 0, "%s: %s", path, ct);
  else
    ck_assert_msg(strcasecmp(ct, mp->ct) == 0, "part %s: want %s got %s", path, mp->ct, ct);
  if (mp->disp) {
    const char *d = mail_mime_part_disposition(pp);
    ck_assert_msg(d && strcmp(d, mp->disp) == 0, "part %s disposition", path);
  }
  const char *fn = mail_mime_part_filename(pp);
  if (mp->filename)
    ck_assert_msg(fn && strcmp(fn, mp->filename) == 0, "part %s filename: want [%s] got [%s]", path, mp->filename,
                  fn ? fn : "(null)");
  else if (mp->kind != M_MULTI)
    ck_assert_msg(fn == NULL, "part %s: unexpected filename %s", path, fn);
  if (mp->cid) {
    const char *cid = mail_mime_part_header(pp, "Content-ID");
    char want[128];
    snprintf(want, sizeof want, " <%s>", mp->cid);
    ck_assert_msg(cid && strcmp(cid, want) == 0, "part %s content-id", path);
  }
  switch (mp->kind) {
  case M_MULTI:
    ck_assert_msg(mail_mime_part_is_multipart(pp), "part %s not multipart", path);
    ck_assert_uint_eq(mail_mime_part_child_count(pp), mp->nkids);
    for (size_t i = 0; i < mp->nkids; i++)
      compare_part(mp->kids[i], mail_mime_part_child(pp, i), src);
    break;
  case M_MSG:
    ck_assert_msg(mail_mime_part_is_message(pp), "part %s not parsed as a message", path);
    ck_assert_uint_eq(mail_mime_part_child_count(pp), 1);
    compare_msg(mp->inner, mail_mime_part_child(pp, 0), src);
    break;
  case M_RAWMSG:
    if (mail_mime_part_is_message(pp)) {
      uint64_t b0, b1;
      mail_mime_part_offsets(pp, NULL, &b0, &b1);
      ck_assert_uint_eq(b1 - b0, mp->len);
      ck_assert_int_eq(memcmp(src + b0, mp->data, mp->len), 0);
      break;
    }
    /* FALLTHROUGH: kept as a leaf */
    __attribute__((fallthrough));
  default: {
    unsigned char *dec;
    size_t n;
    ck_assert_int_eq(mail_mime_part_decode(pp, 0, &dec, &n), MAIL_OK);
    ck_assert_msg(n == mp->len && memcmp(dec, mp->data, n) == 0, "part %s (%s, %s): decoded %zu bytes, want %zu",
                  path, ct, mail_mime_part_encoding_name(pp), n, mp->len);
    if (is_text(mp->ct))
      ck_assert_str_eq(mail_mime_part_charset(pp), "utf-8");
    mail_free(dec);
  }
  }
}

static int has_non_ascii_addr(const model_msg *mm)
{
  return mm->non_ascii_addr;
}

static int contains(const unsigned char *s, size_t n, const char *needle)
{
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(s + i, needle, k) == 0)
      return 1;
  return 0;
}

/* ------------------------------------------------------------- tests */

static void run_case(uint64_t seed)
{
  rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
  static const unsigned OPTS[] = {0, MAIL_MIME_OPT_8BITMIME, MAIL_MIME_OPT_BINARYMIME, MAIL_MIME_OPT_SMTPUTF8,
                                  MAIL_MIME_OPT_COMPAT_FILENAME, MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_SMTPUTF8};
  unsigned opts = OPTS[below(sizeof OPTS / sizeof *OPTS)];
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  mail_mime_builder_set_random(m, builder_random, NULL);
  mail_mime_builder_set_clock(m, builder_clock, NULL);
  ck_assert_int_eq(mail_mime_builder_set_options(m, opts), MAIL_OK);
  model_msg *mm = gen_message(m, opts, 0);

  uint64_t size;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  unsigned needs;
  ck_assert_int_eq(mail_mime_builder_transport(m, &needs), MAIL_OK);
  unsigned char *out;
  size_t len;
  int rc = mail_mime_builder_to_buffer(m, &out, &len);
  ck_assert_msg(rc == MAIL_OK, "seed %llu: to_buffer %d", (unsigned long long)seed, rc);
  ck_assert_uint_eq(len, size);
  if (getenv("ROUNDTRIP_DUMP") && (uint64_t)atoll(getenv("ROUNDTRIP_DUMP")) == seed)
    fwrite(out, 1, len, stderr);
  if (!(opts & (MAIL_MIME_OPT_8BITMIME | MAIL_MIME_OPT_BINARYMIME | MAIL_MIME_OPT_SMTPUTF8)) && !has_non_ascii_addr(mm)) {
    ck_assert_uint_eq(needs, 0);
    for (size_t i = 0; i < len; i++)
      ck_assert_msg(out[i] && out[i] < 0x80, "seed %llu: 8-bit byte on a 7-bit path", (unsigned long long)seed);
  }
  ck_assert_msg(!contains(out, len, "secret.bcc"), "Bcc leaked");

  mail_mime_message *pm;
  ck_assert_int_eq(mail_mime_message_parse(&pm, out, len, MAIL_MIME_CHECK_HEADERS, NULL, NULL), MAIL_OK);
  compare_msg(mm, mail_mime_message_root(pm), mail_mime_message_source(pm, NULL));
  /* no defects, but a UTF-8 local part is reported as such */
  for (size_t i = 0; i < mail_mime_message_defect_count(pm); i++) {
    int kind;
    uint64_t off;
    mail_mime_message_defect(pm, i, &kind, &off, NULL);
    if (kind == MAIL_MIME_DEFECT_NON_ASCII_LOCAL_PART)
      continue;
    if (kind == MAIL_MIME_DEFECT_ENCODED_MESSAGE)
      continue; /* our documented base64 fallback for 8-bit raw messages */
    ck_abort_msg("seed %llu: defect %d at offset %llu", (unsigned long long)seed, kind, (unsigned long long)off);
  }
  mail_mime_message_free(pm);
  mail_free(out);
  mail_mime_builder_free(m);
  release_all();
}

START_TEST(random_structures)
{
  const char *only = getenv("ROUNDTRIP_SEED");
  if (only) {
    run_case((uint64_t)atoll(only));
    return;
  }
  uint64_t count = getenv("ROUNDTRIP_COUNT") ? (uint64_t)atoll(getenv("ROUNDTRIP_COUNT")) : 400;
  for (uint64_t seed = 1; seed <= count; seed++)
    run_case(seed);
}
END_TEST

/* A raw message with 8-bit bytes on a 7-bit path goes base64 (RFC 2046
 * wants 7bit/8bit/binary there, but readers accept it): it still decodes
 * to the message. */
START_TEST(raw_message_base64_fallback)
{
  const char *raw = "Subject: x\r\n\r\nGrüße\r\n";
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_attach_message_data(m, raw, strlen(raw), NULL, NULL), MAIL_OK);
  unsigned char *out;
  size_t len;
  ck_assert_int_eq(mail_mime_builder_to_buffer(m, &out, &len), MAIL_OK);
  for (size_t i = 0; i < len; i++)
    ck_assert(out[i] < 0x80);
  mail_mime_message *pm;
  ck_assert_int_eq(mail_mime_message_parse(&pm, out, len, 0, NULL, NULL), MAIL_OK);
  mail_mime_part *root = mail_mime_message_root(pm);
  ck_assert_uint_eq(mail_mime_part_child_count(root), 1);
  mail_mime_part *p = mail_mime_part_child(root, 0);
  ck_assert_str_eq(mail_mime_part_content_type(p), "message/rfc822");
  ck_assert_int_eq(mail_mime_part_encoding(p), MAIL_MIME_ENC_BASE64);
  unsigned char *dec;
  size_t n;
  ck_assert_int_eq(mail_mime_part_decode(p, 0, &dec, &n), MAIL_OK);
  ck_assert_uint_eq(n, strlen(raw));
  ck_assert_int_eq(memcmp(dec, raw, n), 0);
  mail_free(dec);
  mail_mime_message_free(pm);
  mail_free(out);
  mail_mime_builder_free(m);
}
END_TEST

/* ------------------------------------------------------------ export */

/* --export DIR COUNT writes seed.eml, seed.json (what the message should
 * parse to) and seed.N.bin (the expected decoded leaves, in walk order),
 * so tests/mime/roundtrip_python.py can check the builder's output with
 * Python's email package: an independent reader. */
static const char *export_dir;
static unsigned export_count;

static void json_str(FILE *f, const char *s)
{
  if (!s) {
    fputs("null", f);
    return;
  }
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

static void json_addrs(FILE *f, const model_addr *a, size_t n)
{
  fputc('[', f);
  for (size_t i = 0; i < n; i++) {
    fputs(i ? ", [" : "[", f);
    json_str(f, a[i].name && *a[i].name ? a[i].name : "");
    fputs(", ", f);
    json_str(f, a[i].addr);
    fputc(']', f);
  }
  fputc(']', f);
}

static void export_leaves(FILE *f, const model_part *p, uint64_t seed, unsigned *k)
{
  switch (p->kind) {
  case M_MULTI:
    for (size_t i = 0; i < p->nkids; i++)
      export_leaves(f, p->kids[i], seed, k);
    return;
  case M_MSG:
    export_leaves(f, p->inner->root, seed, k);
    return;
  default: {
    char path[512];
    snprintf(path, sizeof path, "%s/%llu.%u.bin", export_dir, (unsigned long long)seed, *k);
    FILE *b = fopen(path, "wb");
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fwrite(p->data, 1, p->len, b), p->len);
    fclose(b);
    fprintf(f, "%s{\"content_type\": ", *k ? ", " : "");
    json_str(f, p->ct);
    fputs(", \"filename\": ", f);
    json_str(f, p->filename);
    fprintf(f, ", \"text\": %s}", is_text(p->ct) ? "true" : "false");
    (*k)++;
  }
  }
}

START_TEST(export_corpus)
{
  no_raw_messages = 1;
  for (uint64_t seed = 1; seed <= export_count; seed++) {
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    static const unsigned OPTS[] = {0, MAIL_MIME_OPT_8BITMIME, MAIL_MIME_OPT_SMTPUTF8, MAIL_MIME_OPT_COMPAT_FILENAME};
    unsigned opts = OPTS[below(sizeof OPTS / sizeof *OPTS)];
    mail_mime_builder *m;
    ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
    mail_mime_builder_set_random(m, builder_random, NULL);
    mail_mime_builder_set_clock(m, builder_clock, NULL);
    mail_mime_builder_set_options(m, opts);
    model_msg *mm = gen_message(m, opts, 0);
    unsigned char *out;
    size_t len;
    ck_assert_int_eq(mail_mime_builder_to_buffer(m, &out, &len), MAIL_OK);
    char path[512];
    snprintf(path, sizeof path, "%s/%llu.eml", export_dir, (unsigned long long)seed);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(out, 1, len, f), len);
    fclose(f);
    snprintf(path, sizeof path, "%s/%llu.json", export_dir, (unsigned long long)seed);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{\"subject\": ", f);
    json_str(f, mm->subject);
    fprintf(f, ", \"options\": %u, \"from\": ", opts);
    json_addrs(f, &mm->from, mm->from.addr ? 1 : 0);
    fputs(", \"to\": ", f);
    json_addrs(f, mm->to, mm->nto);
    fputs(", \"cc\": ", f);
    json_addrs(f, mm->cc, mm->ncc);
    fputs(", \"leaves\": [", f);
    unsigned k = 0;
    export_leaves(f, mm->root, seed, &k);
    fputs("]}\n", f);
    fclose(f);
    mail_free(out);
    mail_mime_builder_free(m);
    release_all();
  }
}
END_TEST

int main(int argc, char **argv)
{
  Suite *s = suite_create("mime_roundtrip");
  TCase *t = tcase_create("roundtrip");
  tcase_set_timeout(t, 120);
  if (argc == 4 && strcmp(argv[1], "--export") == 0) {
    export_dir = argv[2];
    export_count = (unsigned)atoi(argv[3]);
    tcase_add_test(t, export_corpus);
  } else {
    tcase_add_test(t, random_structures);
    tcase_add_test(t, raw_message_base64_fallback);
  }
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* IMAP responses as JSON lines (see imap_json.h). Strings are printed as
 * JSON strings: valid UTF-8 as is, other bytes as \u00XX of their value. */
#include "imap_json.h"

#include <inttypes.h>
#include <string.h>

/* The characters of a JSON string, without the quotes. */
static void jstr_bare(FILE *o, const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s, *e = p + n;
  while (p < e) {
    unsigned c = *p;
    if (c == '"' || c == '\\') {
      fprintf(o, "\\%c", c);
      p++;
    } else if (c < 0x20 || c == 0x7f) {
      fprintf(o, "\\u%04x", c);
      p++;
    } else if (c < 0x80) {
      fputc((int)c, o);
      p++;
    } else {
      int k = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      int ok = k && e - p >= k;
      for (int i = 1; ok && i < k; i++)
        ok = (p[i] & 0xC0) == 0x80;
      if (ok && k == 3)
        ok = !(c == 0xE0 && p[1] < 0xA0) && !(c == 0xED && p[1] >= 0xA0);
      if (ok && k == 4)
        ok = !(c == 0xF0 && p[1] < 0x90) && !(c == 0xF4 && p[1] >= 0x90);
      if (ok) {
        fwrite(p, 1, (size_t)k, o);
        p += k;
      } else {
        fprintf(o, "\\u%04x", c);
        p++;
      }
    }
  }
}

static void jstr(FILE *o, const char *s, size_t n)
{
  if (!s) {
    fputs("null", o);
    return;
  }
  fputc('"', o);
  jstr_bare(o, s, n);
  fputc('"', o);
}

static void jkey(FILE *o, int *first, const char *k)
{
  fprintf(o, "%s\"%s\":", *first ? "" : ",", k);
  *first = 0;
}

static const char *const kinds[] = {"", "greeting", "tagged", "untagged", "continuation"};
static const char *const types[] = {
  "OTHER", "OK", "NO", "BAD", "PREAUTH", "BYE", "CONTINUE", "CAPABILITY", "ENABLED", "LIST",
  "LSUB", "NAMESPACE", "STATUS", "FLAGS", "EXISTS", "RECENT", "EXPUNGE", "VANISHED", "SEARCH",
  "ESEARCH", "SORT", "THREAD", "FETCH",
};
static const char *const defect_kinds[] = {"", "syntax", "item", "code", "response", "too-deep",
                                           "too-many"};

typedef const char *(*string_at_fn)(const mail_imap_response *r, size_t i, size_t *len);

/* A JSON array of the count strings get() gives. */
static void string_array(FILE *o, const mail_imap_response *r, size_t count, string_at_fn get)
{
  fputc('[', o);
  for (size_t i = 0; i < count; i++) {
    size_t n;
    const char *s = get(r, i, &n);
    if (i)
      fputc(',', o);
    jstr(o, s, n);
  }
  fputc(']', o);
}

typedef int (*pair_at_fn)(const mail_imap_response *r, size_t i, const char **a, size_t *an,
                          const char **b, size_t *bn);

/* A JSON object of the name/value pairs get() gives until it says NOT_FOUND. */
static void string_pairs(FILE *o, const mail_imap_response *r, pair_at_fn get)
{
  const char *a, *b;
  size_t an, bn;
  fputc('{', o);
  for (size_t i = 0; get(r, i, &a, &an, &b, &bn) == MAIL_OK; i++) {
    if (i)
      fputc(',', o);
    jstr(o, a, an);
    fputc(':', o);
    jstr(o, b, bn);
  }
  fputc('}', o);
}

/* A sequence set too long to be kept as text, as [first,last] pairs. */
static void ranges(FILE *o, const mail_imap_response *r)
{
  uint32_t a, b;
  fputs(",\"ranges\":[", o);
  for (size_t i = 0; mail_imap_response_range(r, i, &a, &b) == MAIL_OK; i++)
    fprintf(o, "%s[%" PRIu32 ",%" PRIu32 "]", i ? "," : "", a, b);
  fputc(']', o);
}

static int all_too_long(const mail_imap_response *r)
{
  const char *a, *b;
  size_t an, bn;
  for (size_t i = 0; mail_imap_response_esearch_item(r, i, &a, &an, &b, &bn) == MAIL_OK; i++)
    if (!b && an == 3 && !memcmp(a, "ALL", 3))
      return 1;
  return 0;
}

static void addresses(FILE *o, const mail_imap_envelope *e, int f)
{
  size_t cnt = mail_imap_envelope_address_count(e, f);
  fputc('[', o);
  for (size_t i = 0; i < cnt; i++) {
    const mail_imap_address *a = mail_imap_envelope_address(e, f, i);
    size_t n;
    const char *s;
    fprintf(o, "%s{\"name\":", i ? "," : "");
    s = mail_imap_address_name(a, &n);
    jstr(o, s, n);
    fputs(",\"adl\":", o);
    s = mail_imap_address_adl(a, &n);
    jstr(o, s, n);
    fputs(",\"mailbox\":", o);
    s = mail_imap_address_mailbox(a, &n);
    jstr(o, s, n);
    fputs(",\"host\":", o);
    s = mail_imap_address_host(a, &n);
    jstr(o, s, n);
    fputc('}', o);
  }
  fputc(']', o);
}

static void envelope(FILE *o, const mail_imap_envelope *e)
{
  static const char *const sf[] = {"date", "subject", "in_reply_to", "message_id"};
  static const char *const af[] = {"from", "sender", "reply_to", "to", "cc", "bcc"};
  int first = 1;
  fputc('{', o);
  for (int k = 0; k < 4; k++) {
    size_t n;
    const char *s = mail_imap_envelope_field(e, k, &n);
    jkey(o, &first, sf[k]);
    jstr(o, s, n);
  }
  for (int k = 0; k < 6; k++) {
    jkey(o, &first, af[k]);
    addresses(o, e, k);
  }
  fputc('}', o);
}

static void params(FILE *o, const mail_imap_body *b, int list)
{
  fputc('{', o);
  for (size_t i = 0; i < mail_imap_body_param_count(b, list); i++) {
    const char *k, *v;
    size_t kn, vn;
    mail_imap_body_param(b, list, i, &k, &kn, &v, &vn);
    if (i)
      fputc(',', o);
    jstr(o, k, kn);
    fputc(':', o);
    jstr(o, v, vn);
  }
  fputc('}', o);
}

/* Recursion is bounded by the parser's max_depth. */
static void body(FILE *o, const mail_imap_body *b)
{
  static const char *const bf[] = {"type", "subtype", "id", "description", "encoding", "md5",
                                   "disposition", "location"};
  int first = 1;
  uint64_t v;
  fputc('{', o);
  for (int k = 0; k < 8; k++) {
    size_t n;
    const char *s = mail_imap_body_field(b, k, &n);
    if (!s && k > 1)
      continue;
    jkey(o, &first, bf[k]);
    jstr(o, s, n);
  }
  jkey(o, &first, "params");
  params(o, b, MAIL_IMAP_PARAMS_CONTENT_TYPE);
  if (mail_imap_body_param_count(b, MAIL_IMAP_PARAMS_DISPOSITION)) {
    jkey(o, &first, "disposition_params");
    params(o, b, MAIL_IMAP_PARAMS_DISPOSITION);
  }
  if (mail_imap_body_language_count(b)) {
    jkey(o, &first, "language");
    fputc('[', o);
    for (size_t i = 0; i < mail_imap_body_language_count(b); i++) {
      size_t n;
      const char *s = mail_imap_body_language(b, i, &n);
      if (i)
        fputc(',', o);
      jstr(o, s, n);
    }
    fputc(']', o);
  }
  if (!mail_imap_body_is_multipart(b)) {
    jkey(o, &first, "size");
    if (mail_imap_body_size(b, &v) == MAIL_OK)
      fprintf(o, "%" PRIu64, v);
    else
      fputs("null", o);
  }
  if (mail_imap_body_lines(b, &v) == MAIL_OK) {
    jkey(o, &first, "lines");
    fprintf(o, "%" PRIu64, v);
  }
  if (mail_imap_body_envelope(b)) {
    jkey(o, &first, "envelope");
    envelope(o, mail_imap_body_envelope(b));
  }
  size_t n;
  const char *ext = mail_imap_body_extension(b, &n);
  if (ext) {
    jkey(o, &first, "extension");
    jstr(o, ext, n);
  }
  if (mail_imap_body_child_count(b) || mail_imap_body_is_multipart(b)) {
    jkey(o, &first, "parts");
    fputc('[', o);
    for (size_t i = 0; i < mail_imap_body_child_count(b); i++) {
      if (i)
        fputc(',', o);
      body(o, mail_imap_body_child(b, i));
    }
    fputc(']', o);
  }
  fputc('}', o);
}

void imap_json_fetch_items(FILE *o, const mail_imap_response *r)
{
  int first = 1;
  uint64_t v;
  size_t n;
  const char *s;
  fputc('{', o);
  static const struct {
    int item;
    const char *name;
  } nums[] = {{MAIL_IMAP_ITEM_UID, "UID"},
              {MAIL_IMAP_ITEM_RFC822_SIZE, "RFC822.SIZE"},
              {MAIL_IMAP_ITEM_MODSEQ, "MODSEQ"},
              {MAIL_IMAP_ITEM_GM_MSGID, "X-GM-MSGID"},
              {MAIL_IMAP_ITEM_GM_THRID, "X-GM-THRID"}},
    strs[] = {{MAIL_IMAP_ITEM_INTERNALDATE, "INTERNALDATE"},
              {MAIL_IMAP_ITEM_EMAILID, "EMAILID"},
              {MAIL_IMAP_ITEM_THREADID, "THREADID"},
              {MAIL_IMAP_ITEM_PREVIEW, "PREVIEW"}};
  for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++)
    if (mail_imap_fetch_number(r, nums[k].item, &v) == MAIL_OK) {
      jkey(o, &first, nums[k].name);
      fprintf(o, "%" PRIu64, v);
    }
  for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
    if (mail_imap_fetch_has(r, strs[k].item)) {
      s = mail_imap_fetch_string(r, strs[k].item, &n);
      jkey(o, &first, strs[k].name);
      jstr(o, s, n);
    }
  if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS)) {
    jkey(o, &first, "FLAGS");
    string_array(o, r, mail_imap_fetch_flag_count(r), mail_imap_fetch_flag);
  }
  if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_GM_LABELS)) {
    jkey(o, &first, "X-GM-LABELS");
    string_array(o, r, mail_imap_fetch_label_count(r), mail_imap_fetch_label);
  }
  for (size_t i = 0; mail_imap_fetch_binary_size(r, i, &s, &n, &v) == MAIL_OK; i++) {
    fprintf(o, "%s\"BINARY.SIZE[", first ? "" : ",");
    first = 0;
    jstr(o, s, n);
    fprintf(o, "]\":%" PRIu64, v);
  }
  if (mail_imap_fetch_envelope(r)) {
    jkey(o, &first, "ENVELOPE");
    envelope(o, mail_imap_fetch_envelope(r));
  }
  if (mail_imap_fetch_body(r)) {
    jkey(o, &first, "BODYSTRUCTURE");
    body(o, mail_imap_fetch_body(r));
  }
  for (size_t i = 0; i < mail_imap_fetch_section_count(r); i++) {
    const mail_imap_section *sec = mail_imap_fetch_section(r, i);
    size_t in, sn;
    const char *item = mail_imap_section_item(sec, &in);
    const char *spec = mail_imap_section_spec(sec, &sn);
    fprintf(o, "%s", first ? "" : ",");
    first = 0;
    /* the key is the item as sent: BODY[1.2]<0>, RFC822.TEXT */
    fputc('"', o);
    jstr_bare(o, item, in);
    if ((item[0] | 32) == 'b') { /* BODY[...] or BINARY[...] */
      fputc('[', o);
      jstr_bare(o, spec, sn);
      fputc(']', o);
      if (mail_imap_section_origin(sec, &v) == MAIL_OK)
        fprintf(o, "<%" PRIu64 ">", v);
    }
    fputc('"', o);
    fputs(":{\"section\":", o);
    jstr(o, spec, sn);
    if (mail_imap_section_origin(sec, &v) == MAIL_OK)
      fprintf(o, ",\"origin\":%" PRIu64, v);
    fprintf(o, ",\"size\":%" PRIu64 ",\"nil\":%s}", mail_imap_section_size(sec),
            mail_imap_section_is_nil(sec) ? "true" : "false");
  }
  fputc('}', o);
}

void imap_json_response(FILE *o, const mail_imap_response *r)
{
  size_t n;
  const char *s;
  uint64_t v;
  uint32_t num;
  int type = mail_imap_response_type(r);
  fprintf(o, "{\"kind\":\"%s\",\"tag\":", kinds[mail_imap_response_kind(r)]);
  s = mail_imap_response_tag(r, &n);
  jstr(o, s, n);
  fprintf(o, ",\"type\":\"%s\",\"code\":", types[type]);
  s = mail_imap_response_code_name(r, &n);
  jstr(o, s, n);
  if (mail_imap_response_code(r)) {
    fputs(",\"code_args\":", o);
    s = mail_imap_response_code_raw(r, &n);
    jstr(o, s, n);
    if (mail_imap_response_code_number(r, &v) == MAIL_OK)
      fprintf(o, ",\"code_number\":%" PRIu64, v);
    if ((s = mail_imap_response_code_set(r, &n)) != NULL) {
      fputs(",\"code_set\":", o);
      jstr(o, s, n);
    }
    if ((s = mail_imap_response_code_set2(r, &n)) != NULL) {
      fputs(",\"code_set2\":", o);
      jstr(o, s, n);
    }
  }
  if (mail_imap_response_number(r, &num) == MAIL_OK)
    fprintf(o, ",\"number\":%" PRIu32, num);
  if (type <= MAIL_IMAP_TYPE_CONTINUE) {
    fputs(",\"text\":", o);
    s = mail_imap_response_text(r, &n);
    jstr(o, s, n);
  }
  if (mail_imap_response_string_count(r)) {
    fputs(",\"strings\":", o);
    string_array(o, r, mail_imap_response_string_count(r), mail_imap_response_string);
  }
  size_t cnt;
  const uint32_t *nums = mail_imap_response_numbers(r, &cnt);
  if (nums) {
    fputs(",\"numbers\":[", o);
    for (size_t i = 0; i < cnt; i++)
      fprintf(o, "%s%" PRIu32, i ? "," : "", nums[i]);
    fputc(']', o);
    if (mail_imap_response_modseq(r, &v) == MAIL_OK)
      fprintf(o, ",\"modseq\":%" PRIu64, v);
  }
  const char *raw;
  size_t rn;
  if ((s = mail_imap_response_mailbox(r, &n, &raw, &rn)) != NULL) {
    fputs(",\"mailbox\":", o);
    jstr(o, s, n);
    if (rn != n || memcmp(raw, s, n)) {
      fputs(",\"mailbox_raw\":", o);
      jstr(o, raw, rn);
    }
  }
  char delim;
  if (mail_imap_response_delimiter(r, &delim) == MAIL_OK) {
    fputs(",\"delimiter\":", o);
    if (delim)
      jstr(o, &delim, 1);
    else
      fputs("null", o);
    fputs(",\"extended\":", o);
    string_pairs(o, r, mail_imap_response_list_ext);
  }
  if (type == MAIL_IMAP_TYPE_STATUS) {
    fputs(",\"status\":{", o);
    for (size_t i = 0; mail_imap_response_status_item(r, i, &s, &n, &v) == MAIL_OK; i++) {
      if (i)
        fputc(',', o);
      jstr(o, s, n);
      fprintf(o, ":%" PRIu64, v);
    }
    fputc('}', o);
  }
  if (type == MAIL_IMAP_TYPE_NAMESPACE) {
    static const char *const cls[] = {"personal", "other", "shared"};
    for (int c = 0; c < 3; c++) {
      fprintf(o, ",\"%s\":[", cls[c]);
      for (size_t i = 0; mail_imap_response_namespace(r, c, i, &s, &n, &delim) == MAIL_OK; i++) {
        fprintf(o, "%s{\"prefix\":", i ? "," : "");
        jstr(o, s, n);
        fputs(",\"delimiter\":", o);
        if (delim)
          jstr(o, &delim, 1);
        else
          fputs("null", o);
        fputc('}', o);
      }
      fputc(']', o);
    }
  }
  if (type == MAIL_IMAP_TYPE_VANISHED) {
    fputs(",\"set\":", o);
    s = mail_imap_response_set(r, &n);
    jstr(o, s, n);
    fprintf(o, ",\"earlier\":%s", mail_imap_response_earlier(r) ? "true" : "false");
    if (!s)
      ranges(o, r);
  }
  int uid;
  if (mail_imap_response_esearch(r, &s, &n, &uid) == MAIL_OK) {
    fputs(",\"correlator\":", o);
    jstr(o, s, n);
    fprintf(o, ",\"uid\":%s,\"results\":", uid ? "true" : "false");
    string_pairs(o, r, mail_imap_response_esearch_item);
    if (all_too_long(r))
      ranges(o, r);
  }
  if (type == MAIL_IMAP_TYPE_THREAD) {
    fputs(",\"thread\":[", o);
    size_t parent;
    for (size_t i = 0; mail_imap_response_thread_node(r, i, &num, &parent) == MAIL_OK; i++) {
      fprintf(o, "%s[%" PRIu32 ",", i ? "," : "", num);
      if (parent == SIZE_MAX)
        fputs("null]", o);
      else
        fprintf(o, "%zu]", parent);
    }
    fputc(']', o);
  }
  if (type == MAIL_IMAP_TYPE_FETCH) {
    fputs(",\"items\":", o);
    imap_json_fetch_items(o, r);
  }
  fputs(",\"defects\":[", o);
  for (size_t i = 0; i < mail_imap_response_defect_count(r); i++) {
    int kind;
    const char *item;
    size_t in;
    mail_imap_response_defect(r, i, &kind, &item, &in, &raw, &rn);
    fprintf(o, "%s{\"kind\":\"%s\",\"item\":", i ? "," : "", defect_kinds[kind]);
    jstr(o, item, in);
    fputs(",\"raw\":", o);
    jstr(o, raw, rn);
    fputc('}', o);
  }
  fputs("]}\n", o);
}

int imap_json_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len)
{
  (void)user;
  (void)ev;
  (void)s;
  (void)data;
  (void)len;
  return 0;
}

int imap_json_run(FILE *in, FILE *out, FILE *err, const char *name)
{
  mail_imap_parser *p;
  if (mail_imap_parser_new(&p, NULL) != MAIL_OK) {
    fprintf(err, "%s: out of memory\n", name);
    return 1;
  }
  mail_imap_parser_set_body_callback(p, imap_json_body, NULL);
  static unsigned char buf[65536];
  int status = 0, done = 0;
  while (!done) {
    size_t n = fread(buf, 1, sizeof buf, in);
    if (n == 0) {
      if (ferror(in)) {
        fprintf(err, "%s: read error\n", name);
        status = 1;
        break;
      }
      mail_imap_parser_end(p);
      done = 1;
    } else if (mail_imap_parser_feed(p, buf, n) != MAIL_OK) {
      fprintf(err, "%s: input cannot be framed (too much unread input)\n", name);
      status = 8;
      break;
    }
    const mail_imap_response *r;
    int rc;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK)
      imap_json_response(out, r);
    if (rc == MAIL_ERR_AGAIN)
      continue;
    if (rc == MAIL_ERR_CLOSED && done && mail_imap_parser_pending(p) == 0)
      break;
    fprintf(err, "%s: input cannot be framed: %s\n", name, mail_strerror(rc));
    status = rc == MAIL_ERR_NOMEM ? 1 : 8;
    break;
  }
  mail_imap_parser_free(p);
  return status;
}

/*
 * IMAP parse benchmark: the captured response of
 * `UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)` (gen_capture.py),
 * parsed from memory.
 *
 *   bench_imap_parse raw|libmail|libetpan FILE [ITERATIONS=7]
 *
 * prints "<mode> <median s> <checksum> <responses> <held peak bytes> <VmHWM KiB>".
 *
 * raw: the floor, memchr to each line end, literals skipped by their
 * count, until the tagged line. libmail: mail_imap_parser fed in 64 KiB
 * pieces, each response taken as it completes and every field read through
 * the public accessors into the checksum. libetpan: mailimap_uid_fetch()
 * over an in-memory mailstream serving the same bytes, the same fields
 * folded the same way from its structures: the two checksums must match.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mail/imap_parse.h>

#ifdef HAVE_ETPAN
#include <libetpan/libetpan.h>
#endif

/* ------------------------------------------------------------ checksum */

/* BENCH_DEBUG set: print the checksum after each message (to find where two
 * parsers disagree). */
static int debug;

typedef struct sum {
  uint64_t h;
} sum;

static void fold_num(sum *s, uint64_t v)
{
  s->h = (s->h ^ v) * 1099511628211ull;
}

/* A string is folded by its length and its first and last 8 bytes: every
 * field is read, and the fold costs the same for every parser. */
static void fold_str(sum *s, const char *p, size_t n)
{
  if (!p) {
    fold_num(s, 0xfefefefeu);
    return;
  }
  uint64_t x = 0, y = 0;
  memcpy(&x, p, n < 8 ? n : 8);
  if (n > 8)
    memcpy(&y, p + n - 8, 8);
  fold_num(s, n);
  fold_num(s, x);
  fold_num(s, y);
}

static void fold_lower(sum *s, const char *p, size_t n)
{
  char buf[256];
  if (!p || n > sizeof buf) {
    fold_str(s, p, n);
    return;
  }
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
  fold_str(s, buf, n);
}

static double now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long vmhwm_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = 0;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      v = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

/* ------------------------------------------------------------ raw */

static uint64_t run_raw(const char *d, size_t n, size_t *responses)
{
  const char *p = d, *e = d + n;
  uint64_t lines = 0;
  int cont = 0; /* the line continues a response after a literal */
  while (p < e) {
    const char *lf = memchr(p, '\n', (size_t)(e - p));
    if (!lf)
      break;
    lines++;
    const char *end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    if (end > p && end[-1] == '}') {
      const char *b = end - 1;
      while (b > p && b[-1] >= '0' && b[-1] <= '9')
        b--;
      if (b > p && b[-1] == '{') {
        uint64_t len = strtoull(b, NULL, 10);
        p = lf + 1 + len;
        cont = 1;
        continue;
      }
    }
    if (!cont && p[0] != '*' && p[0] != '+') {
      p = lf + 1;
      break;
    }
    cont = 0;
    p = lf + 1;
  }
  *responses = lines;
  return lines;
}

/* ------------------------------------------------------------ libmail */

static void lm_envelope(sum *s, const mail_imap_envelope *e)
{
  size_t n;
  const char *p;
  p = mail_imap_envelope_field(e, MAIL_IMAP_ENV_DATE, &n);
  fold_str(s, p, n);
  p = mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n);
  fold_str(s, p, n);
  for (int f = 0; f < 6; f++) {
    size_t cnt = mail_imap_envelope_address_count(e, f);
    fold_num(s, cnt);
    for (size_t i = 0; i < cnt; i++) {
      const mail_imap_address *a = mail_imap_envelope_address(e, f, i);
      p = mail_imap_address_name(a, &n);
      fold_str(s, p, n);
      p = mail_imap_address_adl(a, &n);
      fold_str(s, p, n);
      p = mail_imap_address_mailbox(a, &n);
      fold_str(s, p, n);
      p = mail_imap_address_host(a, &n);
      fold_str(s, p, n);
    }
  }
  p = mail_imap_envelope_field(e, MAIL_IMAP_ENV_IN_REPLY_TO, &n);
  fold_str(s, p, n);
  p = mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, &n);
  fold_str(s, p, n);
}

static void lm_params(sum *s, const mail_imap_body *b, int list)
{
  size_t cnt = mail_imap_body_param_count(b, list);
  fold_num(s, cnt);
  for (size_t i = 0; i < cnt; i++) {
    const char *k, *v;
    size_t kn, vn;
    mail_imap_body_param(b, list, i, &k, &kn, &v, &vn);
    fold_str(s, k, kn);
    fold_str(s, v, vn);
  }
}

static void lm_ext(sum *s, const mail_imap_body *b)
{
  size_t n;
  const char *p = mail_imap_body_field(b, MAIL_IMAP_BODY_DISPOSITION, &n);
  fold_lower(s, p, n);
  if (p)
    lm_params(s, b, MAIL_IMAP_PARAMS_DISPOSITION);
  size_t cnt = mail_imap_body_language_count(b);
  fold_num(s, cnt);
  for (size_t i = 0; i < cnt; i++) {
    p = mail_imap_body_language(b, i, &n);
    fold_str(s, p, n);
  }
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_LOCATION, &n);
  fold_str(s, p, n);
}

/* Recursion bounded by the parser's max_depth. */
static void lm_body(sum *s, const mail_imap_body *b)
{
  size_t n;
  const char *p;
  uint64_t v;
  if (mail_imap_body_is_multipart(b)) {
    fold_num(s, 1);
    size_t cnt = mail_imap_body_child_count(b);
    fold_num(s, cnt);
    for (size_t i = 0; i < cnt; i++)
      lm_body(s, mail_imap_body_child(b, i));
    p = mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n);
    fold_lower(s, p, n);
    lm_params(s, b, MAIL_IMAP_PARAMS_CONTENT_TYPE);
    lm_ext(s, b);
    return;
  }
  fold_num(s, 2);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_TYPE, &n);
  fold_lower(s, p, n);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n);
  fold_lower(s, p, n);
  lm_params(s, b, MAIL_IMAP_PARAMS_CONTENT_TYPE);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_ID, &n);
  fold_str(s, p, n);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_DESCRIPTION, &n);
  fold_str(s, p, n);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_ENCODING, &n);
  fold_lower(s, p, n);
  fold_num(s, mail_imap_body_size(b, &v) == MAIL_OK ? v : 0);
  if (mail_imap_body_envelope(b)) {
    lm_envelope(s, mail_imap_body_envelope(b));
    lm_body(s, mail_imap_body_child(b, 0));
  }
  if (mail_imap_body_lines(b, &v) == MAIL_OK)
    fold_num(s, v);
  p = mail_imap_body_field(b, MAIL_IMAP_BODY_MD5, &n);
  fold_str(s, p, n);
  lm_ext(s, b);
}

static uint64_t run_libmail(const char *d, size_t n, size_t *responses, size_t *held_peak)
{
  sum s = {1469598103934665603ull};
  mail_imap_parser *p;
  if (mail_imap_parser_new(&p, NULL))
    abort();
  mail_imap_parser_expect_greeting(p, 0);
  size_t count = 0, peak = 0;
  for (size_t at = 0; at < n;) {
    size_t k = n - at < 65536 ? n - at : 65536;
    if (mail_imap_parser_feed(p, d + at, k))
      abort();
    at += k;
    const mail_imap_response *r;
    int rc;
    while ((rc = mail_imap_parser_next(p, &r)) == MAIL_OK) {
      count++;
      size_t h = mail_imap_parser_held(p);
      if (h > peak)
        peak = h;
      if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
        continue;
      uint64_t uid = 0;
      mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid);
      fold_num(&s, uid);
      size_t nf = mail_imap_fetch_flag_count(r);
      fold_num(&s, nf);
      for (size_t i = 0; i < nf; i++) {
        size_t fl;
        const char *f = mail_imap_fetch_flag(r, i, &fl);
        fold_str(&s, f, fl);
      }
      lm_envelope(&s, mail_imap_fetch_envelope(r));
      lm_body(&s, mail_imap_fetch_body(r));
      fold_num(&s, mail_imap_response_defect_count(r));
      if (debug)
        printf("%llu %016llx\n", (unsigned long long)uid, (unsigned long long)s.h);
    }
    if (rc != MAIL_ERR_AGAIN)
      abort();
  }
  mail_imap_parser_free(p);
  *responses = count;
  *held_peak = peak;
  return s.h;
}

/* ------------------------------------------------------------ libetpan */

#ifdef HAVE_ETPAN
typedef struct memsrc {
  const char *data;
  size_t len, pos;
} memsrc;

static ssize_t mem_read(mailstream_low *l, void *buf, size_t n)
{
  memsrc *m = l->data;
  if (n > m->len - m->pos)
    n = m->len - m->pos;
  memcpy(buf, m->data + m->pos, n);
  m->pos += n;
  return (ssize_t)n;
}
static ssize_t mem_write(mailstream_low *l, const void *buf, size_t n)
{
  (void)l;
  (void)buf;
  return (ssize_t)n;
}
static int mem_close(mailstream_low *l)
{
  (void)l;
  return 0;
}
static int mem_fd(mailstream_low *l)
{
  (void)l;
  return -1;
}
static void mem_free(mailstream_low *l)
{
  free(l);
}
static void mem_cancel(mailstream_low *l)
{
  (void)l;
}
static struct mailstream_cancel *mem_get_cancel(mailstream_low *l)
{
  (void)l;
  return NULL;
}
static mailstream_low_driver mem_driver = {
  mem_read, mem_write, mem_close, mem_fd, mem_free, mem_cancel, mem_get_cancel, NULL, NULL, NULL,
  NULL,
};

static void et_addrs(sum *s, clist *l)
{
  fold_num(s, l ? (uint64_t)clist_count(l) : 0);
  if (!l)
    return;
  for (clistiter *it = clist_begin(l); it; it = clist_next(it)) {
    struct mailimap_address *a = clist_content(it);
    const char *f[4] = {a->ad_personal_name, a->ad_source_route, a->ad_mailbox_name,
                        a->ad_host_name};
    for (int k = 0; k < 4; k++)
      fold_str(s, f[k], f[k] ? strlen(f[k]) : 0);
  }
}

static void et_cstr(sum *s, const char *p)
{
  fold_str(s, p, p ? strlen(p) : 0);
}

static void et_envelope(sum *s, const struct mailimap_envelope *e)
{
  et_cstr(s, e->env_date);
  et_cstr(s, e->env_subject);
  et_addrs(s, e->env_from ? e->env_from->frm_list : NULL);
  et_addrs(s, e->env_sender ? e->env_sender->snd_list : NULL);
  et_addrs(s, e->env_reply_to ? e->env_reply_to->rt_list : NULL);
  et_addrs(s, e->env_to ? e->env_to->to_list : NULL);
  et_addrs(s, e->env_cc ? e->env_cc->cc_list : NULL);
  et_addrs(s, e->env_bcc ? e->env_bcc->bcc_list : NULL);
  et_cstr(s, e->env_in_reply_to);
  et_cstr(s, e->env_message_id);
}

static void et_params(sum *s, const struct mailimap_body_fld_param *p)
{
  fold_num(s, p ? (uint64_t)clist_count(p->pa_list) : 0);
  if (!p)
    return;
  for (clistiter *it = clist_begin(p->pa_list); it; it = clist_next(it)) {
    struct mailimap_single_body_fld_param *sp = clist_content(it);
    et_cstr(s, sp->pa_name);
    et_cstr(s, sp->pa_value);
  }
}

static void et_ext(sum *s, struct mailimap_body_fld_dsp *dsp, struct mailimap_body_fld_lang *lang,
                   const char *loc)
{
  if (dsp) {
    fold_lower(s, dsp->dsp_type, strlen(dsp->dsp_type));
    et_params(s, dsp->dsp_attributes);
  } else {
    fold_str(s, NULL, 0);
  }
  if (!lang) {
    fold_num(s, 0);
  } else if (lang->lg_type == MAILIMAP_BODY_FLD_LANG_SINGLE) {
    fold_num(s, lang->lg_data.lg_single ? 1 : 0);
    if (lang->lg_data.lg_single)
      et_cstr(s, lang->lg_data.lg_single);
  } else {
    fold_num(s, (uint64_t)clist_count(lang->lg_data.lg_list));
    for (clistiter *it = clist_begin(lang->lg_data.lg_list); it; it = clist_next(it))
      et_cstr(s, clist_content(it));
  }
  et_cstr(s, loc);
}

static void et_body(sum *s, const struct mailimap_body *b)
{
  if (b->bd_type == MAILIMAP_BODY_MPART) {
    struct mailimap_body_type_mpart *m = b->bd_data.bd_body_mpart;
    fold_num(s, 1);
    fold_num(s, (uint64_t)clist_count(m->bd_list));
    for (clistiter *it = clist_begin(m->bd_list); it; it = clist_next(it))
      et_body(s, clist_content(it));
    fold_lower(s, m->bd_media_subtype, strlen(m->bd_media_subtype));
    struct mailimap_body_ext_mpart *x = m->bd_ext_mpart;
    et_params(s, x ? x->bd_parameter : NULL);
    et_ext(s, x ? x->bd_disposition : NULL, x ? x->bd_language : NULL, x ? x->bd_loc : NULL);
    return;
  }
  struct mailimap_body_type_1part *o = b->bd_data.bd_body_1part;
  static const char *const basic[] = {"application", "audio", "image", "message", "video"};
  struct mailimap_body_fields *f;
  const char *type, *subtype;
  uint64_t lines = 0;
  int has_lines = 0;
  const struct mailimap_type_msg_dummy *unused = NULL;
  (void)unused;
  if (o->bd_type == MAILIMAP_BODY_TYPE_1PART_TEXT) {
    type = "text";
    subtype = o->bd_data.bd_type_text->bd_media_text;
    f = o->bd_data.bd_type_text->bd_fields;
    lines = o->bd_data.bd_type_text->bd_lines;
    has_lines = 1;
  } else if (o->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG) {
    type = "message";
    subtype = "rfc822";
    f = o->bd_data.bd_type_msg->bd_fields;
    lines = o->bd_data.bd_type_msg->bd_lines;
    has_lines = 1;
  } else {
    struct mailimap_media_basic *mb = o->bd_data.bd_type_basic->bd_media_basic;
    type = mb->med_type == MAILIMAP_MEDIA_BASIC_OTHER ? mb->med_basic_type : basic[mb->med_type];
    subtype = mb->med_subtype;
    f = o->bd_data.bd_type_basic->bd_fields;
  }
  fold_num(s, 2);
  fold_lower(s, type, strlen(type));
  fold_lower(s, subtype, strlen(subtype));
  et_params(s, f->bd_parameter);
  et_cstr(s, f->bd_id);
  et_cstr(s, f->bd_description);
  static const char *const enc[] = {"7bit", "8bit", "binary", "base64", "quoted-printable"};
  const char *e = f->bd_encoding->enc_type == MAILIMAP_BODY_FLD_ENC_OTHER
                    ? f->bd_encoding->enc_value
                    : enc[f->bd_encoding->enc_type];
  fold_lower(s, e, strlen(e));
  fold_num(s, f->bd_size);
  if (o->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG) {
    et_envelope(s, o->bd_data.bd_type_msg->bd_envelope);
    et_body(s, o->bd_data.bd_type_msg->bd_body);
  }
  if (has_lines)
    fold_num(s, lines);
  struct mailimap_body_ext_1part *x = o->bd_ext_1part;
  et_cstr(s, x ? x->bd_md5 : NULL);
  et_ext(s, x ? x->bd_disposition : NULL, x ? x->bd_language : NULL, x ? x->bd_loc : NULL);
}

static void et_flag(sum *s, struct mailimap_flag_fetch *ff)
{
  static const char *const names[] = {"\\Answered", "\\Flagged", "\\Deleted", "\\Seen",
                                      "\\Draft"};
  char buf[256];
  if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
    et_cstr(s, "\\Recent");
    return;
  }
  struct mailimap_flag *f = ff->fl_flag;
  if (f->fl_type <= MAILIMAP_FLAG_DRAFT) {
    et_cstr(s, names[f->fl_type]);
  } else if (f->fl_type == MAILIMAP_FLAG_KEYWORD) {
    et_cstr(s, f->fl_data.fl_keyword);
  } else {
    snprintf(buf, sizeof buf, "\\%s", f->fl_data.fl_extension);
    et_cstr(s, buf);
  }
}

static uint64_t run_libetpan(const char *d, size_t n, size_t *responses)
{
  sum s = {1469598103934665603ull};
  mailimap *im = mailimap_new(0, NULL);
  /* libetpan numbers its tags; the capture's tagged line gets the one it sends */
  char tag[32];
  snprintf(tag, sizeof tag, "%d", im->imap_tag + 1);
  const char *last = d + n - 1;
  while (last > d && last[-1] != '\n')
    last--;
  const char *sp = memchr(last, ' ', (size_t)(d + n - last));
  size_t head = (size_t)(last - d), rest = (size_t)(d + n - sp);
  char *copy = malloc(head + strlen(tag) + rest);
  memcpy(copy, d, head);
  memcpy(copy + head, tag, strlen(tag));
  memcpy(copy + head + strlen(tag), sp, rest);
  memsrc *m = calloc(1, sizeof *m);
  m->data = copy;
  m->len = head + strlen(tag) + rest;
  mailstream_low *low = mailstream_low_new(m, &mem_driver);
  im->imap_stream = mailstream_new(low, 65536);
  im->imap_state = MAILIMAP_STATE_SELECTED;
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
  mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
  struct mailimap_set *set = mailimap_set_new_interval(1, 0);
  clist *result = NULL;
  int rc = mailimap_uid_fetch(im, set, ft, &result);
  if (rc != MAILIMAP_NO_ERROR) {
    fprintf(stderr, "libetpan: uid_fetch failed: %d\n", rc);
    exit(1);
  }
  size_t count = 0;
  for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
    struct mailimap_msg_att *ma = clist_content(it);
    uint64_t uid = 0;
    clist *flags = NULL;
    struct mailimap_envelope *env = NULL;
    struct mailimap_body *body = NULL;
    for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
      struct mailimap_msg_att_item *item = clist_content(j);
      if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
        flags = item->att_data.att_dyn->att_list;
      } else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC) {
        struct mailimap_msg_att_static *st = item->att_data.att_static;
        if (st->att_type == MAILIMAP_MSG_ATT_UID)
          uid = st->att_data.att_uid;
        else if (st->att_type == MAILIMAP_MSG_ATT_ENVELOPE)
          env = st->att_data.att_env;
        else if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE)
          body = st->att_data.att_bodystructure;
      }
    }
    count++;
    fold_num(&s, uid);
    fold_num(&s, flags ? (uint64_t)clist_count(flags) : 0);
    if (flags)
      for (clistiter *j = clist_begin(flags); j; j = clist_next(j))
        et_flag(&s, clist_content(j));
    et_envelope(&s, env);
    et_body(&s, body);
    fold_num(&s, 0); /* no defects: libetpan fails instead */
    if (debug)
      printf("%llu %016llx\n", (unsigned long long)uid, (unsigned long long)s.h);
  }
  mailimap_fetch_list_free(result);
  mailimap_set_free(set);
  mailimap_fetch_type_free(ft);
  mailimap_free(im);
  free(copy);
  free(m);
  *responses = count + 1;
  return s.h;
}
#endif

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fputs("usage: bench_imap_parse raw|libmail|libetpan FILE [ITERATIONS]\n", stderr);
    return 2;
  }
  const char *mode = argv[1];
  debug = getenv("BENCH_DEBUG") != NULL;
  int iters = argc > 3 ? atoi(argv[3]) : 7;
  if (iters < 1 || iters > 100)
    iters = 7;
  FILE *f = fopen(argv[2], "rb");
  if (!f) {
    perror(argv[2]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *d = malloc((size_t)len);
  if (!d || fread(d, 1, (size_t)len, f) != (size_t)len)
    return 1;
  fclose(f);
  double t[100];
  uint64_t ck = 0;
  size_t responses = 0, held = 0;
  for (int i = 0; i < iters; i++) {
    double t0 = now();
    if (!strcmp(mode, "raw")) {
      ck = run_raw(d, (size_t)len, &responses);
    } else if (!strcmp(mode, "libmail")) {
      ck = run_libmail(d, (size_t)len, &responses, &held);
#ifdef HAVE_ETPAN
    } else if (!strcmp(mode, "libetpan")) {
      ck = run_libetpan(d, (size_t)len, &responses);
#endif
    } else {
      fprintf(stderr, "unknown mode %s\n", mode);
      return 2;
    }
    t[i] = now() - t0;
  }
  qsort(t, (size_t)iters, sizeof t[0], cmp);
  printf("%s %.6f %016llx %zu %zu %ld\n", mode, t[iters / 2], (unsigned long long)ck, responses,
         held, vmhwm_kib());
  free(d);
  return 0;
}

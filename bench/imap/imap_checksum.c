/*
 * The checksum of a typed FETCH (UID, FLAGS, ENVELOPE, BODYSTRUCTURE)
 * shared by the IMAP benchmarks (bench/imap, bench/imap_parse): every
 * field is read from libmail's accessors or from libetpan's structures and
 * folded the same way, so equal checksums show the two parsers delivered
 * the same values.
 */
#include "imap_checksum.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long bench_max_rss_kib(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

void fold_num(sum *s, uint64_t v)
{
  s->h = (s->h ^ v) * 1099511628211ull;
}

/* A string is folded by its length and its first and last 8 bytes: every
 * field is read, and the fold costs the same for every parser. */
void fold_str(sum *s, const char *p, size_t n)
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

void fold_lower(sum *s, const char *p, size_t n)
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


uint64_t sum_fetch_libmail(sum *s, const mail_imap_response *r)
{
  uint64_t uid = 0;
  mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid);
  fold_num(s, uid);
  size_t nf = mail_imap_fetch_flag_count(r);
  fold_num(s, nf);
  for (size_t i = 0; i < nf; i++) {
    size_t fl;
    const char *f = mail_imap_fetch_flag(r, i, &fl);
    fold_str(s, f, fl);
  }
  lm_envelope(s, mail_imap_fetch_envelope(r));
  lm_body(s, mail_imap_fetch_body(r));
  fold_num(s, mail_imap_response_defect_count(r));
  return uid;
}

#ifdef HAVE_ETPAN
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


uint64_t sum_fetch_libetpan(sum *s, struct mailimap_msg_att *ma)
{
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
  fold_num(s, uid);
  fold_num(s, flags ? (uint64_t)clist_count(flags) : 0);
  if (flags)
    for (clistiter *j = clist_begin(flags); j; j = clist_next(j))
      et_flag(s, clist_content(j));
  if (env)
    et_envelope(s, env);
  if (body)
    et_body(s, body);
  fold_num(s, 0); /* no defects: libetpan fails instead */
  return uid;
}
#endif

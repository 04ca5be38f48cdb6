/*
 * The MIME header and report decoders on their own, one per input.
 *
 * Byte 0 % 10 chooses: RFC 2047 header decoding, an address list (lax,
 * then strict), a date (formatted and parsed again), a Message-ID list,
 * RFC 2231 parameters of Content-Type and Content-Disposition, the safe
 * file name, the mbox reader (both formats, fed whole and in chunks of
 * byte 1's sizes), a DSN body, an MDN body, a charset conversion (the
 * charset name up to the first ';'). The rest is the text.
 *
 * Checked: documented statuses only; NUL-terminated results; decoded
 * headers are valid UTF-8; a strictly parsed address list parses the
 * same leniently; a parsed date formats and parses back to the same time
 * and zone; safe names hold no separator, control byte or leading dot
 * and are at most 255 bytes; the mbox reader gives the same events for
 * any split; nothing leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

#include "fuzz_common.h"

static int valid_utf8(const unsigned char *s, size_t n)
{
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k;
    unsigned min;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      k = 1, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      k = 2, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      k = 3, min = 0x10000, c &= 0x07;
    } else {
      return 0;
    }
    if (i + k >= n)
      return 0;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xc0) != 0x80)
        return 0;
      c = c << 6 | (s[i + j] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
      return 0;
    i += k + 1;
  }
  return 1;
}

static void header_decode(const char *t, size_t n)
{
  char *out = NULL;
  size_t len = 0;
  unsigned defects = 0;
  FZ_ASSERT(mail_mime_header_decode(&out, &len, &defects, t, n, NULL) == MAIL_OK);
  FZ_ASSERT(out && out[len] == 0);
  FZ_ASSERT(valid_utf8((const unsigned char *)out, len));
  mail_free(out);
}

static size_t addresses(const char *t, size_t n, unsigned flags, int *rc)
{
  mail_address_list *l = NULL;
  unsigned defects = 0;
  *rc = mail_address_list_parse(&l, t, n, flags, &defects, NULL);
  FZ_ASSERT(*rc == MAIL_OK || ((flags & MAIL_ADDR_STRICT) && *rc == MAIL_ERR_SYNTAX));
  size_t count = 0;
  if (*rc == MAIL_OK) {
    count = mail_address_list_count(l);
    for (size_t i = 0; i < count; i++) {
      const mail_address *a = mail_address_list_get(l, i);
      FZ_ASSERT(a && a->mailbox && a->local);
      FZ_ASSERT(!strchr(a->mailbox, '\r') && !strchr(a->mailbox, '\n'));
    }
  }
  mail_address_list_free(l);
  return count;
}

static void date(const char *t, size_t n)
{
  int64_t when;
  int zone;
  if (mail_date_parse(t, n, &when, &zone) != MAIL_OK)
    return;
  FZ_ASSERT(zone >= -(99 * 60 + 59) && zone <= 99 * 60 + 59); /* RFC 5322: -9959..+9959 */
  char buf[40];
  size_t len = mail_date_format(buf, when, zone);
  if (!len) /* a zone beyond a day, or a year the formatter cannot write */
    return;
  int64_t when2;
  int zone2;
  FZ_ASSERT(mail_date_parse(buf, len, &when2, &zone2) == MAIL_OK);
  FZ_ASSERT(when2 == when && zone2 == zone);
}

static void msgids(const char *t, size_t n)
{
  mail_msgid_list *l = NULL;
  unsigned defects = 0;
  FZ_ASSERT(mail_msgid_list_parse(&l, t, n, &defects, NULL) == MAIL_OK);
  for (size_t i = 0; i < mail_msgid_list_count(l); i++)
    FZ_ASSERT(mail_msgid_list_get(l, i) != NULL);
  FZ_ASSERT(mail_msgid_list_get(l, mail_msgid_list_count(l)) == NULL);
  mail_msgid_list_free(l);
}

static void params(const char *t, size_t n)
{
  static const char pre[] = "Content-Type: application/x-fuzz; ";
  static const char mid[] = "\r\nContent-Disposition: attachment; ";
  static const char post[] = "\r\n\r\nbody\r\n";
  size_t len = sizeof pre - 1 + n + sizeof mid - 1 + n + sizeof post - 1;
  char *m = malloc(len);
  FZ_ASSERT(m);
  size_t o = 0;
  memcpy(m + o, pre, sizeof pre - 1), o += sizeof pre - 1;
  memcpy(m + o, t, n), o += n;
  memcpy(m + o, mid, sizeof mid - 1), o += sizeof mid - 1;
  memcpy(m + o, t, n), o += n;
  memcpy(m + o, post, sizeof post - 1);
  mail_mime_message *msg = NULL;
  FZ_ASSERT(mail_mime_message_parse(&msg, m, len, MAIL_MIME_BORROW, NULL, NULL) == MAIL_OK);
  mail_mime_part *root = mail_mime_message_root(msg);
  static const char *const names[] = {"name", "filename", "charset", "boundary", "title"};
  for (size_t i = 0; i < 5; i++) {
    const char *v = mail_mime_part_type_param(root, names[i]);
    if (v)
      (void)strlen(v);
    v = mail_mime_part_disposition_param(root, names[i]);
    if (v)
      (void)strlen(v);
  }
  const char *fn = mail_mime_part_filename(root);
  if (fn)
    FZ_ASSERT(valid_utf8((const unsigned char *)fn, strlen(fn)));
  mail_mime_message_free(msg);
  free(m);
}

static void safe_name(const char *t)
{
  char *safe = mail_mime_safe_filename(t, NULL);
  FZ_ASSERT(safe);
  size_t n = strlen(safe);
  FZ_ASSERT(n > 0 && n <= 255);
  FZ_ASSERT(!strchr(safe, '/') && !strchr(safe, '\\') && safe[0] != '.');
  for (size_t i = 0; i < n; i++)
    FZ_ASSERT((unsigned char)safe[i] >= 0x20 && safe[i] != 0x7f);
  mail_free(safe);
}

static int mb_start(void *user, const char *line, size_t len)
{
  fz_hash *h = user;
  FZ_ASSERT(len <= 4096);
  fz_hash_bytes(h, "S", 1);
  fz_hash_bytes(h, line, len);
  fz_hash_int(h, (long)len);
  return 0;
}

static int mb_data(void *user, const void *d, size_t len)
{
  fz_hash_bytes(user, d, len);
  return 0;
}

static int mb_end(void *user)
{
  fz_hash_bytes(user, "E", 1);
  return 0;
}

static uint64_t mbox(const char *t, size_t n, int format, int seed)
{
  fz_hash h;
  fz_hash_init(&h);
  mail_mbox_callbacks cb = {MAIL_MBOX_CALLBACKS_VERSION, &h, mb_start, mb_data, mb_end};
  mail_mbox_reader *r = NULL;
  FZ_ASSERT(mail_mbox_reader_new(&r, format, &cb, NULL) == MAIL_OK);
  if (seed < 0) {
    FZ_ASSERT(mail_mbox_reader_feed(r, t, n) == MAIL_OK);
  } else {
    size_t at = 0, k = 0;
    while (at < n) {
      size_t c = fz_chunk((unsigned)seed, k++);
      if (c > n - at)
        c = n - at;
      FZ_ASSERT(mail_mbox_reader_feed(r, t + at, c) == MAIL_OK);
      at += c;
    }
  }
  FZ_ASSERT(mail_mbox_reader_finish(r) == MAIL_OK);
  mail_mbox_reader_free(r);
  return h.h;
}

static void dsn(const char *t, size_t n)
{
  mail_dsn *d = NULL;
  int rc = mail_dsn_parse(&d, t, n, NULL);
  FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_SYNTAX);
  if (rc == MAIL_OK) {
    FZ_ASSERT(mail_dsn_recipient_count(d) > 0);
    for (size_t i = 0; i < mail_dsn_recipient_count(d); i++) {
      const mail_dsn_recipient *r = mail_dsn_recipient_get(d, i);
      FZ_ASSERT(r);
      FZ_ASSERT(r->status_class == 0 || r->status_class == 2 || r->status_class == 4 ||
                r->status_class == 5);
      if (r->action)
        for (const char *c = r->action; *c; c++)
          FZ_ASSERT(!(*c >= 'A' && *c <= 'Z'));
    }
    (void)mail_dsn_reporting_mta(d);
    (void)mail_dsn_envelope_id(d);
    (void)mail_dsn_arrival_date(d);
  }
  mail_dsn_free(d);
}

static void mdn(const char *t, size_t n)
{
  mail_mdn *m = NULL;
  int rc = mail_mdn_parse(&m, t, n, NULL);
  FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_SYNTAX);
  if (rc == MAIL_OK)
    FZ_ASSERT(m->disposition && m->final_recipient);
  mail_mdn_free(m);
}

static void charset(const char *t, size_t n)
{
  const char *semi = memchr(t, ';', n);
  size_t cl = semi ? (size_t)(semi - t) : 0;
  char cs[64];
  if (cl >= sizeof cs)
    cl = sizeof cs - 1;
  memcpy(cs, t, cl);
  cs[cl] = 0;
  const char *in = semi ? semi + 1 : t;
  size_t len = n - (size_t)(in - t);
  char *out = NULL;
  size_t out_len = 0;
  int rc = mail_charset_to_utf8(&out, &out_len, cs, in, len, NULL);
  FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_CHARSET);
  FZ_ASSERT(out && out[out_len] == 0);
  mail_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  unsigned sel = data[0] % 10, seed = data[1];
  size_t n = size - 2;
  /* A NUL-terminated copy: some functions take C strings. */
  char *t = malloc(n + 1);
  FZ_ASSERT(t);
  memcpy(t, data + 2, n);
  t[n] = 0;
  int rc, rc2;
  switch (sel) {
  case 0:
    header_decode(t, n);
    break;
  case 1: {
    size_t lax = addresses(t, n, 0, &rc);
    size_t strict = addresses(t, n, MAIL_ADDR_STRICT, &rc2);
    if (rc2 == MAIL_OK)
      FZ_ASSERT(strict == lax);
    break;
  }
  case 2:
    date(t, n);
    break;
  case 3:
    msgids(t, n);
    break;
  case 4:
    params(t, n);
    break;
  case 5:
    safe_name(t);
    break;
  case 6:
    for (int format = MAIL_MBOX_MBOXRD; format <= MAIL_MBOX_MBOXO; format++)
      FZ_ASSERT(mbox(t, n, format, -1) == mbox(t, n, format, (int)seed));
    break;
  case 7:
    dsn(t, n);
    break;
  case 8:
    mdn(t, n);
    break;
  default:
    charset(t, n);
    break;
  }
  free(t);
  return 0;
}

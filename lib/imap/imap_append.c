/* APPEND (RFC 9051 6.3.12): the message goes out as one literal of a size
 * known in advance, pulled from the caller's read callback (or a MIME
 * builder) in chunks while the output queue has room, so it is never held
 * whole. A synchronizing literal waits for "+" (a tagged NO instead sends
 * nothing of it); under LITERAL+ it follows the command at once. A source
 * that fails or gives another size than declared ends the session: half a
 * literal cannot be taken back. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "imap/imap_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

#define IMAP_APPEND_CHUNK 8192
#define IMAP_APPEND_HIGH_WATER (64u * 1024u)

/* RFC 9051 date-time, "dd-Mon-yyyy hh:mm:ss +0000", from seconds since
 * 1970 in UTC (days to civil date: H. Hinnant's algorithm). */
static void date_time(char out[32], int64_t t)
{
  static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t days = t / 86400, secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  snprintf(out, 32, "%02d-%s-%04d %02d:%02d:%02d +0000", (int)d, mon[m - 1], (int)y,
           (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

static int logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

int mail_imap_append(mail_imap *im, const char *mailbox, const char *const *flags, size_t nflags,
                     int64_t internal_date, uint64_t size, mail_read_fn read, void *user)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_APPEND, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !read || (nflags && !flags) || internal_date < 0)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < nflags; i++)
    if (!imap_flag_ok(flags[i]))
      return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  uint32_t tag;
  rc = imap_wire_begin(im, "APPEND", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc && nflags)
    rc = imap_wire_raw(im, " (");
  for (size_t i = 0; i < nflags && !rc; i++) {
    if (i)
      rc = imap_wire_raw(im, " ");
    if (!rc)
      rc = imap_wire_raw(im, flags[i]);
  }
  if (!rc && nflags)
    rc = imap_wire_raw(im, ")");
  if (!rc && internal_date) {
    char d[32], q[40];
    date_time(d, internal_date);
    snprintf(q, sizeof q, " \"%s\"", d);
    rc = imap_wire_raw(im, q);
  }
  /* LITERAL- allows a non-synchronizing literal of up to 4096 bytes. */
  int plus = imap_has_cap(im, "LITERAL+") || (imap_has_cap(im, "LITERAL-") && size <= 4096);
  if (!rc) {
    char lit[40];
    snprintf(lit, sizeof lit, " {%llu%s}", (unsigned long long)size, plus ? "+" : "");
    rc = imap_wire_raw(im, lit);
  }
  if (rc)
    return rc;
  im->app_uid_known = 0;
  im->app_count = im->app_next = 0; /* one message */
  im->app_read = read;
  im->app_user = user;
  im->app_left = size;
  im->app_tag = tag;
  rc = imap_wire_send(im, IMAP_CMD_APPEND, tag);
  if (rc)
    return imap_finish(im, rc);
  im->app_phase = plus ? APP_STREAM : APP_WAIT_PLUS;
  return imap_run(im, IMAP_OP_APPEND);
}

int mail_imap_append_builder(mail_imap *im, const char *mailbox, const char *const *flags,
                             size_t nflags, int64_t internal_date, struct mail_mime_builder *msg)
{
#if MAIL_WITH_MIME
  int rc;
  if (imap_op_enter(im, IMAP_OP_APPEND, &rc)) /* also resumes after MAIL_ERR_AGAIN */
    return rc;
  if (!msg)
    return MAIL_ERR_INVALID;
  uint64_t size;
  rc = mail_mime_builder_size(msg, &size);
  if (rc)
    return rc;
  /* From its first byte; a builder whose callback source cannot rewind
   * has not been read yet, or it could not be sent again at all. */
  rc = mail_mime_builder_rewind(msg);
  if (rc && rc != MAIL_ERR_UNSUPPORTED)
    return rc;
  return mail_imap_append(im, mailbox, flags, nflags, internal_date, size,
                          mail_mime_builder_read_cb, msg);
#else
  (void)mailbox;
  (void)flags;
  (void)nflags;
  (void)internal_date;
  (void)msg;
  if (!im)
    return MAIL_ERR_INVALID;
  return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED, "APPEND: built without MIME");
#endif
}

int mail_imap_append_uid(uint32_t *uidvalidity, uint32_t *uid, const mail_imap *im)
{
  if (!uidvalidity || !uid || !im)
    return MAIL_ERR_INVALID;
  if (!im->app_uid_known)
    return MAIL_ERR_NOT_FOUND;
  *uidvalidity = im->app_uidvalidity;
  *uid = im->app_uid;
  return MAIL_OK;
}

int imap_append_continue(mail_imap *im)
{
  if (im->app_phase != APP_WAIT_PLUS)
    return 0;
  im->app_phase = APP_STREAM;
  return 1;
}

static int source_failed(mail_imap *im, const char *why)
{
  im->app_phase = APP_IDLE;
  return imap_abort(im, MAIL_ERR_CALLBACK, why);
}

int imap_append_produce(mail_imap *im)
{
  unsigned char chunk[IMAP_APPEND_CHUNK];
  while (im->app_phase == APP_STREAM) {
    if (mail_conn_out_pending(im->conn) >= IMAP_APPEND_HIGH_WATER)
      return MAIL_ERR_AGAIN;
    if (im->app_left == 0) {
      /* MULTIAPPEND: the next message's literal follows this one. */
      int more = imap_multiappend_next(im);
      if (more < 0)
        return imap_abort(im, more, "cannot queue the next message of MULTIAPPEND");
      if (more)
        continue;
      /* Declared size reached: the source must be at its end. */
      size_t extra = 0;
      if (im->app_read(im->app_user, chunk, 1, &extra) != 0 || extra)
        return source_failed(im, "the message source gave more bytes than its size");
      im->app_phase = APP_IDLE;
      int rc = mail_conn_send(im->conn, "\r\n", 2);
      return rc ? imap_abort(im, rc, "cannot queue the end of APPEND") : MAIL_OK;
    }
    size_t want = im->app_left < sizeof chunk ? (size_t)im->app_left : sizeof chunk, got = 0;
    if (im->app_read(im->app_user, chunk, want, &got) != 0 || got > want)
      return source_failed(im, "the message source failed");
    if (got == 0)
      return source_failed(im, "the message source ended before its size");
    int rc = mail_conn_send(im->conn, chunk, got);
    if (rc)
      return imap_abort(im, rc, "cannot queue message data");
    im->app_left -= got;
  }
  return MAIL_OK;
}

int imap_append_reply(mail_imap *im, const mail_imap_response *r)
{
  if (im->app_phase == APP_WAIT_PLUS)
    im->app_phase = APP_IDLE; /* refused before "+": nothing of it was sent */
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK)
    return imap_refusal(r);
  uint64_t v;
  size_t n;
  const char *set = mail_imap_response_code_set(r, &n);
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_APPENDUID &&
      mail_imap_response_code_number(r, &v) == MAIL_OK && v <= UINT32_MAX && set && n) {
    uint64_t u = 0;
    size_t i = 0;
    while (i < n && set[i] >= '0' && set[i] <= '9' && u <= UINT32_MAX)
      u = u * 10 + (uint64_t)(set[i++] - '0');
    if (i == n && u && u <= UINT32_MAX) {
      im->app_uidvalidity = (uint32_t)v;
      im->app_uid = (uint32_t)u;
      im->app_uid_known = 1;
    }
  }
  return MAIL_OK;
}

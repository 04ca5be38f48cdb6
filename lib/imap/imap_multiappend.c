/* MULTIAPPEND (RFC 3502): several messages in one APPEND command, each its
 * own literal streamed from the caller's source as APPEND streams one
 * (imap_append.c), so no message is ever held whole. After a message's
 * last byte the next one's " (flags) {size}" follows on the same command;
 * a synchronizing literal waits for its "+" (a NO instead ends the
 * command: the server keeps none of the messages, RFC 3502 3). */
#include <stdio.h>
#include <string.h>

#include <mail/imap_ext.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

/* " (flags) {size[+]}": into out, NUL-terminated; 1 when non-synchronizing. */
static int header(mail_imap *im, mail_buf *out, uint64_t size, int *plus)
{
  int rc = MAIL_OK;
  mail_buf_clear(out);
  if (im->app_nflags) {
    rc = mail_buf_append_str(out, " (");
    for (size_t i = 0; i < im->app_nflags && !rc; i++)
      rc = mail_buf_appendf(out, "%s%s", i ? " " : "", im->app_flags[i]);
    if (!rc)
      rc = mail_buf_append_str(out, ")");
  }
  /* LITERAL- allows a non-synchronizing literal of up to 4096 bytes. */
  *plus = imap_has_cap(im, "LITERAL+") || (imap_has_cap(im, "LITERAL-") && size <= 4096);
  if (!rc)
    rc = mail_buf_appendf(out, " {%llu%s}", (unsigned long long)size, *plus ? "+" : "");
  return rc ? rc : mail_buf_terminate(out);
}

int mail_imap_multiappend(mail_imap *im, const char *mailbox, const char *const *flags,
                          size_t nflags, const uint64_t *sizes, size_t n, mail_read_fn read,
                          void *user)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_MULTIAPPEND, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !read || (nflags && !flags) || !sizes || !n)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < nflags; i++)
    if (!imap_flag_ok(flags[i]))
      return MAIL_ERR_INVALID;
  if (!imap_logged_in(im))
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "MULTIAPPEND", NULL)))
    return rc;
  im->app_flags = flags;
  im->app_nflags = nflags;
  mail_buf h;
  mail_buf_init(&h, &im->alloc, 0);
  int plus = 0;
  uint32_t tag;
  rc = imap_wire_begin(im, "APPEND", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc)
    rc = header(im, &h, sizes[0], &plus);
  if (!rc)
    rc = imap_wire_raw(im, (const char *)h.data);
  mail_buf_free(&h);
  if (rc)
    return rc;
  im->app_uid_known = 0;
  im->app_sizes = sizes;
  im->app_count = n;
  im->app_next = 1;
  im->app_read = read;
  im->app_user = user;
  im->app_left = sizes[0];
  im->app_tag = tag;
  rc = imap_wire_send(im, IMAP_CMD_APPEND, tag);
  if (rc)
    return imap_finish(im, rc);
  im->app_phase = plus ? APP_STREAM : APP_WAIT_PLUS;
  return imap_run(im, IMAP_OP_MULTIAPPEND);
}

int imap_multiappend_next(mail_imap *im)
{
  if (im->app_next >= im->app_count)
    return 0;
  uint64_t size = im->app_sizes[im->app_next++];
  mail_buf h;
  mail_buf_init(&h, &im->alloc, 0);
  int plus = 0;
  int rc = header(im, &h, size, &plus);
  if (!rc)
    rc = mail_buf_append_str(&h, "\r\n");
  if (!rc)
    rc = mail_conn_send(im->conn, h.data, h.len);
  mail_buf_free(&h);
  if (rc)
    return rc;
  im->app_left = size;
  im->app_phase = plus ? APP_STREAM : APP_WAIT_PLUS;
  return 1;
}

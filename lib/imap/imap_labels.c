/* Gmail's X-GM-LABELS in STORE (X-GM-EXT-1): the labels as a
 * parenthesised list of quoted strings in modified UTF-7, system labels
 * ("\\Inbox") as Gmail spells them, over a sequence set cut to the line
 * bound like any STORE (imap_setcmd.c). */
#include <string.h>

#include <mail/imap_ext.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

/* A label as a quoted string: modified UTF-7, '"' and '\\' escaped. */
static int quoted_label(mail_imap *im, mail_buf *a, const char *label)
{
  size_t len = strlen(label), cap = len * 3 + 8, need = 0;
  char *buf = mail_malloc(&im->alloc, cap);
  if (!buf)
    return MAIL_ERR_NOMEM;
  int rc = mail_imap_utf7_encode(&need, buf, cap, label, len);
  if (rc)
    rc = rc == MAIL_ERR_NOMEM ? rc : MAIL_ERR_INVALID;
  if (!rc)
    rc = mail_buf_append_byte(a, '"');
  for (size_t i = 0; i < need && !rc; i++) {
    if (buf[i] == '"' || buf[i] == '\\')
      rc = mail_buf_append_byte(a, '\\');
    if (!rc)
      rc = mail_buf_append_byte(a, (unsigned char)buf[i]);
  }
  if (!rc)
    rc = mail_buf_append_byte(a, '"');
  mail_dealloc(&im->alloc, buf);
  return rc;
}

int mail_imap_store_labels(mail_imap *im, mail_imap_seqset *set, int uid, int how,
                           const char *const *labels, size_t n, int silent)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_STORE_LABELS, &rc))
    return rc;
  if (!set || how < MAIL_IMAP_STORE_REPLACE || how > MAIL_IMAP_STORE_REMOVE ||
      (n && !labels) || (!n && how != MAIL_IMAP_STORE_REPLACE))
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!labels[i] || !*labels[i] || strpbrk(labels[i], "\r\n"))
      return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if ((rc = imap_need_cap(im, "X-GM-EXT-1", NULL)))
    return rc;
  static const char *const ops[] = {"X-GM-LABELS", "+X-GM-LABELS", "-X-GM-LABELS"};
  mail_buf a;
  mail_buf_init(&a, &im->alloc, 0);
  rc = mail_buf_appendf(&a, "%s%s (", ops[how], silent ? ".SILENT" : "");
  for (size_t i = 0; i < n && !rc; i++) {
    if (i)
      rc = mail_buf_append_byte(&a, ' ');
    if (!rc && labels[i][0] == '\\' && imap_flag_ok(labels[i]))
      rc = mail_buf_append_str(&a, labels[i]); /* a system label */
    else if (!rc)
      rc = quoted_label(im, &a, labels[i]);
  }
  if (!rc)
    rc = mail_buf_append_str(&a, ")");
  if (!rc)
    rc = mail_buf_terminate(&a);
  if (!rc)
    rc = imap_setop_start(im, IMAP_OP_STORE_LABELS, set, uid, "STORE", (const char *)a.data, NULL);
  mail_buf_free(&a);
  return rc;
}

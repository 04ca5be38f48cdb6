/* METADATA (RFC 5464): GETMETADATA with MAXSIZE and DEPTH, SETMETADATA
 * with values (quoted or literal) and NIL. The METADATA responses, also
 * the unsolicited ones, are typed by the parser (lib/parse/imap_ext.c). */
#include <stdio.h>
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

/* METADATA for a mailbox's entries; METADATA-SERVER is enough for "" (the server's). */
static int gate(mail_imap *im, const char *mailbox)
{
  if (!*mailbox && imap_has_cap(im, "METADATA-SERVER"))
    return MAIL_OK;
  return imap_need_cap(im, "METADATA", NULL);
}

static int entry_ok(const char *e)
{
  return e && *e && !strpbrk(e, "\r\n");
}

static int begin(mail_imap *im, const char *verb, const char *mailbox, uint32_t *tag)
{
  if (!imap_logged_in(im))
    return MAIL_ERR_STATE;
  int rc = gate(im, mailbox);
  if (!rc)
    rc = imap_wire_begin(im, verb, tag);
  return rc;
}

int mail_imap_getmetadata(mail_imap *im, const char *mailbox, const char *const *entries,
                          size_t n, uint64_t maxsize, int depth)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_GETMETADATA, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !entries || !n || depth < MAIL_IMAP_METADATA_DEPTH_0 ||
      depth > MAIL_IMAP_METADATA_DEPTH_INFINITY)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!entry_ok(entries[i]))
      return MAIL_ERR_INVALID;
  uint32_t tag;
  rc = begin(im, "GETMETADATA", mailbox, &tag);
  if (!rc && (maxsize || depth)) {
    static const char *const depths[] = {"0", "1", "infinity"};
    char opts[64];
    if (maxsize && depth)
      snprintf(opts, sizeof opts, "(MAXSIZE %llu DEPTH %s)", (unsigned long long)maxsize,
               depths[depth]);
    else if (maxsize)
      snprintf(opts, sizeof opts, "(MAXSIZE %llu)", (unsigned long long)maxsize);
    else
      snprintf(opts, sizeof opts, "(DEPTH %s)", depths[depth]);
    rc = imap_wire_atom(im, opts);
  }
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc && n > 1)
    rc = imap_wire_atom(im, "(");
  for (size_t i = 0; i < n && !rc; i++)
    rc = imap_wire_string(im, entries[i], strlen(entries[i]), 0,
                          n > 1 && i == 0 ? IMAP_STR_NOSPACE : 0);
  if (!rc && n > 1)
    rc = imap_wire_raw(im, ")");
  return rc ? rc : imap_send_run(im, IMAP_OP_GETMETADATA, IMAP_CMD_SIMPLE, tag);
}

int mail_imap_setmetadata(mail_imap *im, const char *mailbox, const char *const *entries,
                          const char *const *values, const size_t *lengths, size_t n)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SETMETADATA, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || !entries || !values || !n)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n; i++)
    if (!entry_ok(entries[i]) ||
        (values[i] && lengths && memchr(values[i], 0, lengths[i])))
      return MAIL_ERR_INVALID;
  uint32_t tag;
  rc = begin(im, "SETMETADATA", mailbox, &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (!rc)
    rc = imap_wire_atom(im, "(");
  for (size_t i = 0; i < n && !rc; i++) {
    rc = imap_wire_string(im, entries[i], strlen(entries[i]), 0, i ? 0 : IMAP_STR_NOSPACE);
    if (!rc) {
      const char *v = values[i];
      size_t len = v ? (lengths ? lengths[i] : strlen(v)) : 0;
      rc = imap_wire_string(im, v, len, 0, IMAP_STR_QUOTED | IMAP_STR_NIL);
    }
  }
  if (!rc)
    rc = imap_wire_raw(im, ")");
  return rc ? rc : imap_send_run(im, IMAP_OP_SETMETADATA, IMAP_CMD_SIMPLE, tag);
}

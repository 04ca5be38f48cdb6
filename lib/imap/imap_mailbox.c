/* The selected mailbox's state (RFC 9051 7.1, 7.3, 7.5; RFC 7162
 * HIGHESTMODSEQ and VANISHED), kept up to date by untagged responses
 * whatever command is in flight. */
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

void imap_mailbox_reset(mail_imap *im)
{
  imap_mailbox *m = &im->mbox;
  memset(m->num, 0, sizeof m->num);
  m->known = 0;
  m->read_only = 0;
  for (int i = 0; i < 2; i++) {
    mail_buf_clear(&m->flags[i]);
    m->nflags[i] = 0;
  }
}

static void set_num(imap_mailbox *m, int field, uint64_t v)
{
  m->num[field] = v;
  m->known |= 1u << field;
}

static int set_flags(mail_imap *im, int list, const mail_imap_response *r)
{
  imap_mailbox *m = &im->mbox;
  mail_buf_clear(&m->flags[list]);
  m->nflags[list] = 0;
  for (size_t i = 0; i < mail_imap_response_string_count(r); i++) {
    size_t n;
    const char *s = mail_imap_response_string(r, i, &n);
    if (memchr(s, 0, n))
      continue;
    int rc = mail_buf_append(&m->flags[list], s, n);
    if (!rc)
      rc = mail_buf_append_byte(&m->flags[list], 0);
    if (rc)
      return rc;
    m->nflags[list]++;
  }
  return MAIL_OK;
}

int imap_mailbox_apply(mail_imap *im, const mail_imap_response *r)
{
  /* Mailbox data means something only while a mailbox is (being) selected. */
  if (im->state != MAIL_IMAP_STATE_SELECTED && im->op.kind != IMAP_OP_SELECT)
    return MAIL_OK;
  imap_mailbox *m = &im->mbox;
  uint32_t n;
  uint64_t v;
  switch (mail_imap_response_type(r)) {
  case MAIL_IMAP_TYPE_EXISTS:
    if (mail_imap_response_number(r, &n) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_EXISTS, n);
    return MAIL_OK;
  case MAIL_IMAP_TYPE_RECENT:
    if (mail_imap_response_number(r, &n) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_RECENT, n);
    return MAIL_OK;
  case MAIL_IMAP_TYPE_EXPUNGE:
    if (m->num[MAIL_IMAP_MAILBOX_EXISTS])
      m->num[MAIL_IMAP_MAILBOX_EXISTS]--;
    return MAIL_OK;
  case MAIL_IMAP_TYPE_VANISHED:
    if (!mail_imap_response_earlier(r)) {
      /* Count the UIDs of the set: each one left the mailbox. From its
       * ranges, which the parser keeps however long the set is (its text
       * only up to max_response). */
      uint64_t total = 0;
      uint32_t first, last;
      for (size_t i = 0; mail_imap_response_range(r, i, &first, &last) == MAIL_OK; i++)
        total += (uint64_t)(last - first) + 1;
      uint64_t *e = &m->num[MAIL_IMAP_MAILBOX_EXISTS];
      *e = total > *e ? 0 : *e - total;
    }
    return MAIL_OK;
  case MAIL_IMAP_TYPE_FLAGS:
    return set_flags(im, MAIL_IMAP_FLAGS_DEFINED, r);
  case MAIL_IMAP_TYPE_FETCH:
    if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_MODSEQ, &v) == MAIL_OK &&
        (m->known & (1u << MAIL_IMAP_MAILBOX_HIGHESTMODSEQ)) &&
        v > m->num[MAIL_IMAP_MAILBOX_HIGHESTMODSEQ])
      m->num[MAIL_IMAP_MAILBOX_HIGHESTMODSEQ] = v;
    return MAIL_OK;
  case MAIL_IMAP_TYPE_OK:
    break;
  default:
    return MAIL_OK;
  }
  switch (mail_imap_response_code(r)) {
  case MAIL_IMAP_CODE_UIDVALIDITY:
    if (mail_imap_response_code_number(r, &v) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_UIDVALIDITY, v);
    break;
  case MAIL_IMAP_CODE_UIDNEXT:
    if (mail_imap_response_code_number(r, &v) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_UIDNEXT, v);
    break;
  case MAIL_IMAP_CODE_UNSEEN:
    if (mail_imap_response_code_number(r, &v) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_UNSEEN, v);
    break;
  case MAIL_IMAP_CODE_HIGHESTMODSEQ:
    if (mail_imap_response_code_number(r, &v) == MAIL_OK)
      set_num(m, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ, v);
    break;
  case MAIL_IMAP_CODE_NOMODSEQ:
    m->known &= ~(1u << MAIL_IMAP_MAILBOX_HIGHESTMODSEQ);
    break;
  case MAIL_IMAP_CODE_PERMANENTFLAGS:
    return set_flags(im, MAIL_IMAP_FLAGS_PERMANENT, r);
  default:
    break;
  }
  return MAIL_OK;
}

int mail_imap_mailbox_number(uint64_t *out, const mail_imap *im, int field)
{
  if (!out || !im || field < MAIL_IMAP_MAILBOX_EXISTS || field > MAIL_IMAP_MAILBOX_UNSEEN)
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (!(im->mbox.known & (1u << field)))
    return MAIL_ERR_NOT_FOUND;
  *out = im->mbox.num[field];
  return MAIL_OK;
}

size_t mail_imap_mailbox_flag_count(const mail_imap *im, int list)
{
  if (!im || list < 0 || list > 1 || im->state != MAIL_IMAP_STATE_SELECTED)
    return 0;
  return im->mbox.nflags[list];
}

const char *mail_imap_mailbox_flag(const mail_imap *im, int list, size_t i)
{
  if (i >= mail_imap_mailbox_flag_count(im, list))
    return NULL;
  const char *s = (const char *)im->mbox.flags[list].data;
  while (i--)
    s += strlen(s) + 1;
  return s;
}

int mail_imap_mailbox_read_only(const mail_imap *im)
{
  return im && im->state == MAIL_IMAP_STATE_SELECTED && im->mbox.read_only;
}

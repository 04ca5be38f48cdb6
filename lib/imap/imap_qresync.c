/* CONDSTORE and QRESYNC (RFC 7162) in the session: SELECT/EXAMINE with
 * their parameter, FETCH with CHANGEDSINCE (and VANISHED), and the ENABLE
 * rule for servers that answer OK without "* ENABLED" (iCloud; see
 * mail/imap_sync.h). The mailbox state (HIGHESTMODSEQ from the untagged OK
 * codes and FETCH MODSEQ, VANISHED against EXISTS) is kept by
 * imap_mailbox.c whatever command is in flight. */
#include <stdio.h>
#include <string.h>

#include <mail/imap_sync.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

static int word_is(const char *s, const char *w)
{
  size_t i = 0;
  for (; s[i] && w[i]; i++)
    if ((s[i] & ~0x20) != (w[i] & ~0x20))
      return 0;
  return !s[i] && !w[i];
}

void imap_enable_asked(mail_imap *im, const char *const *names, size_t n)
{
  im->enable_ask = 0;
  im->enable_seen = 0;
  for (size_t i = 0; i < n; i++) {
    if (word_is(names[i], "CONDSTORE"))
      im->enable_ask |= 1;
    else if (word_is(names[i], "QRESYNC"))
      im->enable_ask |= 2;
  }
}

static int add_enabled(mail_imap *im, const char *name)
{
  if (imap_words_has(&im->enabled, name, strlen(name)))
    return MAIL_OK;
  int rc = im->enabled.len ? mail_buf_append_byte(&im->enabled, ' ') : 0;
  if (!rc)
    rc = mail_buf_append_str(&im->enabled, name);
  return rc ? rc : mail_buf_terminate(&im->enabled);
}

int imap_enable_reply(mail_imap *im, int ok)
{
  int ask = im->enable_ask, seen = im->enable_seen;
  im->enable_ask = 0;
  im->enable_seen = 0;
  if (!ok || seen)
    return MAIL_OK;
  int rc = MAIL_OK;
  if ((ask & 2) && imap_has_cap(im, "QRESYNC")) {
    mail_conn_trace_info(im->conn, "imap: ENABLE answered OK without ENABLED: QRESYNC taken "
                                   "as enabled (it is advertised)");
    rc = add_enabled(im, "QRESYNC");
    if (!rc)
      rc = add_enabled(im, "CONDSTORE"); /* RFC 7162 3.2.3 */
  }
  if (!rc && (ask & 1) && imap_has_cap(im, "CONDSTORE"))
    rc = add_enabled(im, "CONDSTORE");
  return rc;
}

static int logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

/* " (seqs uids)" / " uids": the set's text when all of it fits in room bytes. */
static int set_text(mail_imap *im, mail_imap_seqset *s, size_t room, mail_buf *out, int *fits)
{
  size_t at = 0;
  int rc = imap_seqset_piece(s, &at, room, out);
  *fits = !rc && at == imap_seqset_count(s) && out->len <= room;
  return rc;
}

int mail_imap_select_qresync(mail_imap *im, const char *mailbox, int read_only,
                             uint32_t uidvalidity, uint64_t modseq, mail_imap_seqset *known_uids,
                             mail_imap_seqset *seq_match_seqs, mail_imap_seqset *seq_match_uids)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_SELECT, &rc))
    return rc;
  if (!imap_mailbox_ok(mailbox) || (uidvalidity && !modseq) ||
      (!seq_match_seqs != !seq_match_uids))
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  if (!uidvalidity && !imap_has_cap(im, "CONDSTORE") && !imap_has_cap(im, "QRESYNC"))
    return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED,
                          "CONDSTORE is not offered by this server");
  if (uidvalidity && !mail_imap_is_enabled(im, "QRESYNC"))
    return mail_conn_fail(im->conn, MAIL_ERR_STATE,
                          "SELECT (QRESYNC ...) needs QRESYNC enabled first (mail_imap_enable)");
  uint32_t tag;
  rc = imap_wire_begin(im, read_only ? "EXAMINE" : "SELECT", &tag);
  if (!rc)
    rc = imap_wire_mailbox(im, mailbox);
  if (rc)
    return rc;
  if (!uidvalidity) {
    rc = imap_wire_atom(im, "(CONDSTORE)");
  } else {
    char head[64];
    snprintf(head, sizeof head, "(QRESYNC (%lu %llu", (unsigned long)uidvalidity,
             (unsigned long long)modseq);
    rc = imap_wire_atom(im, head);
    size_t max = imap_max_line(im), used = imap_wire_line_len(im) + 5; /* "))\r\n" */
    mail_buf a, b;
    mail_buf_init(&a, &im->alloc, 0);
    mail_buf_init(&b, &im->alloc, 0);
    int fa = 0, fb = 0;
    if (!rc && known_uids && imap_seqset_count(known_uids) && used + 1 < max)
      rc = set_text(im, known_uids, max - used - 1, &a, &fa);
    if (!rc && fa) {
      rc = imap_wire_atom(im, (const char *)a.data);
      used += 1 + a.len;
      mail_buf_clear(&a);
      if (!rc && seq_match_seqs && imap_seqset_count(seq_match_seqs) &&
          imap_seqset_count(seq_match_uids) && used + 4 < max) {
        rc = set_text(im, seq_match_seqs, max - used - 4, &a, &fa);
        if (!rc && fa && used + 4 + a.len < max)
          rc = set_text(im, seq_match_uids, max - used - 4 - a.len, &b, &fb);
        if (!rc && fa && fb) {
          rc = imap_wire_raw(im, " (");
          if (!rc)
            rc = imap_wire_raw(im, (const char *)a.data);
          if (!rc)
            rc = imap_wire_atom(im, (const char *)b.data);
          if (!rc)
            rc = imap_wire_raw(im, ")");
        }
      }
    }
    mail_buf_free(&a);
    mail_buf_free(&b);
    if (!rc)
      rc = imap_wire_raw(im, "))");
  }
  if (rc)
    return rc;
  imap_mailbox_reset(im);
  im->select_ro = read_only != 0;
  rc = imap_wire_send(im, IMAP_CMD_SELECT, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_SELECT);
}

int mail_imap_fetch_changedsince(mail_imap *im, mail_imap_seqset *set, int uid, const char *items,
                                 uint64_t changedsince, int vanished, mail_imap_body_fn body,
                                 void *user)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_FETCH, &rc))
    return rc;
  if (!imap_raw_ok(items) || !set || !changedsince || (vanished && !uid))
    return MAIL_ERR_INVALID;
  if (im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (!imap_has_cap(im, "CONDSTORE") && !imap_has_cap(im, "QRESYNC"))
    return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED,
                          "CHANGEDSINCE: CONDSTORE is not offered by this server");
  if (vanished && !mail_imap_is_enabled(im, "QRESYNC"))
    return mail_conn_fail(im->conn, MAIL_ERR_STATE,
                          "FETCH (VANISHED) needs QRESYNC enabled first (mail_imap_enable)");
  mail_buf a;
  mail_buf_init(&a, &im->alloc, 0);
  rc = mail_buf_appendf(&a, "%s (CHANGEDSINCE %llu%s)", items, (unsigned long long)changedsince,
                        vanished ? " VANISHED" : "");
  if (!rc)
    rc = mail_buf_terminate(&a);
  if (!rc) {
    mail_imap_parser_set_body_callback(im->parser, body, body ? user : NULL);
    im->body_set = 1;
    rc = imap_setop_start(im, IMAP_OP_FETCH, set, uid, "FETCH", (const char *)a.data, NULL);
  }
  mail_buf_free(&a);
  return rc;
}

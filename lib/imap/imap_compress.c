/* COMPRESS DEFLATE (RFC 4978): one command, then the connection's
 * compression layer (lib/net/compress_zlib.c) takes over both directions. */
#include "imap/imap_internal.h"

int mail_imap_compress(mail_imap *im)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_COMPRESS, &rc))
    return rc;
  if (im->state != MAIL_IMAP_STATE_AUTHENTICATED && im->state != MAIL_IMAP_STATE_SELECTED)
    return MAIL_ERR_STATE;
  if (mail_conn_is_compressed(im->conn))
    return mail_conn_fail(im->conn, MAIL_ERR_STATE, "COMPRESS: compression is already active");
  if (!(mail_features() & MAIL_FEATURE_ZLIB))
    return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED, "COMPRESS: this build has no zlib");
  if ((rc = imap_need_cap(im, "COMPRESS=DEFLATE", NULL)))
    return rc;
  uint32_t tag;
  rc = imap_wire_begin(im, "COMPRESS DEFLATE", &tag);
  if (rc)
    return rc;
  rc = imap_wire_send(im, IMAP_CMD_COMPRESS, tag);
  if (rc)
    return imap_finish(im, rc);
  return imap_run(im, IMAP_OP_COMPRESS);
}

int imap_compress_reply(mail_imap *im, const mail_imap_response *r)
{
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK)
    return imap_refusal(r);
  /* As at STARTTLS: whatever follows the OK was sent uncompressed after
   * the switch. The parser's unread bytes are checked here, the reader's
   * by mail_conn_start_compress(). */
  if (mail_imap_parser_pending(im->parser))
    return imap_abort(im, MAIL_ERR_STARTTLS_INJECTION,
                      "bytes arrived between the COMPRESS reply and the start of compression");
  return mail_conn_start_compress(im->conn);
}

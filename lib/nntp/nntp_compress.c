/* COMPRESS DEFLATE (RFC 8054): one command, then the connection's
 * compression layer (lib/net/compress_zlib.c), shared with IMAP. */
#include "nntp/nntp_internal.h"

int mail_nntp_compress(mail_nntp *n)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (n->state != MAIL_NNTP_STATE_READY)
    return nntp_wrong_state(n, "READY");
  if (mail_conn_is_compressed(n->conn))
    return mail_conn_fail(n->conn, MAIL_ERR_STATE, "COMPRESS: compression is already active");
  if (!(mail_features() & MAIL_FEATURE_ZLIB))
    return mail_conn_fail(n->conn, MAIL_ERR_UNSUPPORTED, "COMPRESS: this build has no zlib");
  if (!mail_nntp_has_capability_arg(n, "COMPRESS", "DEFLATE"))
    return mail_conn_fail(n->conn, MAIL_ERR_UNSUPPORTED,
                          "COMPRESS DEFLATE is not offered by this server");
  rc = nntp_prepare(n, NNTP_CMD_COMPRESS, "COMPRESS DEFLATE");
  return rc ? rc : nntp_run(n, NNTP_OP_SIMPLE);
}

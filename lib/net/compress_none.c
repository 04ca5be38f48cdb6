/* A build without zlib: no compression layer (COMPRESS is never offered
 * to the server, MAIL_ERR_UNSUPPORTED if asked for). */
#include "net/compress.h"

int mail_compress_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower)
{
  (void)conn;
  (void)lower;
  if (out)
    *out = NULL;
  return MAIL_ERR_UNSUPPORTED;
}

int mail_layer_is_compress(const mail_layer *l)
{
  (void)l;
  return 0;
}

void mail_compress_layer_counts(const mail_layer *l, uint64_t *wire_in, uint64_t *plain_in,
                                uint64_t *wire_out, uint64_t *plain_out)
{
  (void)l;
  *wire_in = *plain_in = *wire_out = *plain_out = 0;
}

/* COMPRESS=DEFLATE on a live connection: the switch and what it reports. */
#include "net/compress.h"
#include "net/conn_impl.h"

static mail_layer *compress_layer(const mail_conn *c)
{
  for (mail_layer *l = c->top; l; l = l->lower)
    if (mail_layer_is_compress(l))
      return l;
  return NULL;
}

int mail_conn_start_compress(mail_conn *c)
{
  if (!c || c->state != ST_OPEN || c->handshake_pending)
    return MAIL_ERR_STATE;
  if (compress_layer(c))
    return mail_conn_fail(c, MAIL_ERR_STATE, "compression is already active");
  size_t pending = mail_reader_pending(&c->reader);
  if (pending) {
    mail_conn_fail(c, MAIL_ERR_STARTTLS_INJECTION,
                   "%zu bytes arrived after the COMPRESS go-ahead, before compression began",
                   pending);
    return conn_close_fatal(c, MAIL_ERR_STARTTLS_INJECTION);
  }
  mail_layer *l = NULL;
  int rc = mail_compress_layer_new(&l, c, c->top);
  if (rc == MAIL_ERR_UNSUPPORTED)
    return mail_conn_fail(c, rc, "this build has no zlib: COMPRESS is not available");
  if (rc) {
    mail_conn_fail(c, rc, "could not start compression");
    return conn_close_fatal(c, rc);
  }
  c->top = l;
  mail_conn_trace_info(c, "COMPRESS=DEFLATE active");
  return MAIL_OK;
}

int mail_conn_is_compressed(const mail_conn *c)
{
  return c && c->state == ST_OPEN && compress_layer(c) != NULL;
}

int mail_conn_compress_counts(uint64_t *wire_in, uint64_t *plain_in, uint64_t *wire_out,
                              uint64_t *plain_out, const mail_conn *c)
{
  if (!wire_in || !plain_in || !wire_out || !plain_out || !c)
    return MAIL_ERR_INVALID;
  const mail_layer *l = compress_layer(c);
  if (!l) {
    *wire_in = *plain_in = *wire_out = *plain_out = 0;
    return MAIL_OK;
  }
  mail_compress_layer_counts(l, wire_in, plain_in, wire_out, plain_out);
  return MAIL_OK;
}

/* The COMPRESS=DEFLATE layer over zlib (see compress.h for its contract). */
#include "net/compress.h"

#include <string.h>
#include <zlib.h>

#include "core/conn_internal.h"
#include "core/mem.h"

/* What one write deflates at most: the compressed form fits a buffer
 * allocated once, so a large queue (an APPEND literal) goes out in pieces
 * without the layer growing. */
#define CZ_CHUNK 16384
/* Compressed bytes read from below per call. */
#define CZ_IN 16384
/* Our direction uses a 4 KiB window and small hash tables (about 32 KiB of
 * zlib state instead of 256 KiB): commands are short and compress well
 * enough. The server's direction needs the full 32 KiB window RFC 1951
 * allows, since the server picks it. */
#define CZ_OUT_WBITS 12
#define CZ_OUT_MEMLEVEL 5

typedef struct compress_layer {
  mail_layer base;
  mail_allocator alloc;
  z_stream zin, zout;
  int zin_ready, zout_ready;
  int in_ended;           /* the server ended its deflate stream */
  int out_full;           /* the last inflate filled the caller's buffer */
  unsigned char *obuf;    /* compressed bytes of the last write not yet below */
  size_t ocap, opos, olen;
  size_t taken;           /* plain bytes those compressed bytes stand for */
  uint64_t wire_in, plain_in, wire_out, plain_out;
  unsigned char ibuf[CZ_IN];
} compress_layer;

static voidpf cz_alloc(voidpf opaque, uInt items, uInt size)
{
  if (size && items > (uInt)-1 / size)
    return Z_NULL;
  return mail_malloc(opaque, (size_t)items * size);
}

static void cz_free(voidpf opaque, voidpf p)
{
  mail_dealloc(opaque, p);
}

static int corrupt(compress_layer *z, const char *msg)
{
  return mail_conn_fail(z->base.conn, MAIL_ERR_PROTOCOL, "corrupt compressed data from the server%s%s",
                        msg ? ": " : "", msg ? msg : "");
}

static int cz_read(mail_layer *l, unsigned char *buf, size_t len, size_t *got, int *want,
                   int timeout_ms)
{
  compress_layer *z = (compress_layer *)l;
  *got = 0;
  if (len > (uInt)-1)
    len = (uInt)-1;
  for (;;) {
    if (z->zin.avail_in || z->out_full) {
      if (z->in_ended)
        return corrupt(z, "bytes after the end of the compressed stream");
      z->zin.next_out = buf;
      z->zin.avail_out = (uInt)len;
      int ret = inflate(&z->zin, Z_SYNC_FLUSH);
      size_t produced = len - z->zin.avail_out;
      z->out_full = z->zin.avail_out == 0;
      if (ret == Z_STREAM_END) {
        z->in_ended = 1;
        z->out_full = 0;
      } else if (ret == Z_MEM_ERROR) {
        return mail_conn_fail(l->conn, MAIL_ERR_NOMEM, "out of memory inflating server data");
      } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
        return corrupt(z, z->zin.msg);
      }
      if (produced) {
        z->plain_in += produced;
        *got = produced;
        return MAIL_OK;
      }
      /* With room left, inflate stops only once its input is used up. */
    }
    if (z->in_ended)
      return MAIL_ERR_CLOSED;
    size_t n = 0;
    int rc = l->lower->ops->read(l->lower, z->ibuf, sizeof z->ibuf, &n, want, timeout_ms);
    if (rc)
      return rc;
    z->wire_in += n;
    z->zin.next_in = z->ibuf;
    z->zin.avail_in = (uInt)n;
  }
}

static int cz_write(mail_layer *l, const unsigned char *buf, size_t len, size_t *written,
                    int *want, int timeout_ms)
{
  compress_layer *z = (compress_layer *)l;
  *written = 0;
  if (z->opos == z->olen) {
    size_t take = len < CZ_CHUNK ? len : CZ_CHUNK;
    z->zout.next_in = (Bytef *)(uintptr_t)buf; /* zlib's API is not const */
    z->zout.avail_in = (uInt)take;
    z->zout.next_out = z->obuf;
    z->zout.avail_out = (uInt)z->ocap;
    int ret = deflate(&z->zout, Z_SYNC_FLUSH);
    if (ret != Z_OK || z->zout.avail_in != 0 || z->zout.avail_out == 0)
      return mail_conn_fail(l->conn, MAIL_ERR_INTERNAL, "deflate failed (%d)", ret);
    z->olen = z->ocap - z->zout.avail_out;
    z->opos = 0;
    z->taken = take;
    z->plain_out += take;
  } else if (z->taken > len) {
    /* A retry must start with the bytes the pending output stands for. */
    return mail_conn_fail(l->conn, MAIL_ERR_INTERNAL, "the output queue changed under COMPRESS");
  }
  while (z->opos < z->olen) {
    size_t n = 0;
    int rc = l->lower->ops->write(l->lower, z->obuf + z->opos, z->olen - z->opos, &n, want,
                                  timeout_ms);
    if (rc)
      return rc; /* MAIL_ERR_AGAIN: the driver calls again with the same front */
    z->opos += n;
    z->wire_out += n;
  }
  *written = z->taken;
  z->taken = 0;
  return MAIL_OK;
}

static int cz_fd(const mail_layer *l)
{
  const mail_layer *lower = l->lower;
  return lower && lower->ops->fd ? lower->ops->fd(lower) : -1;
}

static void cz_release(compress_layer *z)
{
  if (z->zin_ready)
    inflateEnd(&z->zin);
  if (z->zout_ready)
    deflateEnd(&z->zout);
  mail_dealloc(&z->alloc, z->obuf);
  mail_allocator a = z->alloc;
  mail_dealloc(&a, z);
}

static void cz_destroy(mail_layer *l)
{
  mail_layer *lower = l->lower;
  cz_release((compress_layer *)l);
  if (lower)
    lower->ops->destroy(lower);
}

static const mail_layer_ops compress_ops = {
  .name = "compress",
  .read = cz_read,
  .write = cz_write,
  .handshake = NULL,
  .fd = cz_fd,
  .destroy = cz_destroy,
};

int mail_compress_layer_new(mail_layer **out, mail_conn *conn, mail_layer *lower)
{
  if (!out || !conn || !lower)
    return MAIL_ERR_INVALID;
  *out = NULL;
  const mail_allocator *a = &mail_conn_env(conn)->alloc;
  compress_layer *z = mail_calloc(a, 1, sizeof *z);
  if (!z)
    return MAIL_ERR_NOMEM;
  z->alloc = *a;
  z->zin.zalloc = z->zout.zalloc = cz_alloc;
  z->zin.zfree = z->zout.zfree = cz_free;
  z->zin.opaque = z->zout.opaque = &z->alloc;
  int ret = inflateInit2(&z->zin, -15);
  if (ret == Z_OK) {
    z->zin_ready = 1;
    ret = deflateInit2(&z->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -CZ_OUT_WBITS, CZ_OUT_MEMLEVEL,
                       Z_DEFAULT_STRATEGY);
  }
  if (ret == Z_OK) {
    z->zout_ready = 1;
    /* deflateBound() covers one deflate() call; a sync flush adds an empty
     * stored block (5 bytes) and the pending bits. */
    z->ocap = deflateBound(&z->zout, CZ_CHUNK) + 16;
    z->obuf = mail_malloc(a, z->ocap);
  }
  if (ret != Z_OK || !z->obuf) {
    cz_release(z);
    return ret == Z_OK || ret == Z_MEM_ERROR ? MAIL_ERR_NOMEM : MAIL_ERR_INTERNAL;
  }
  z->base.ops = &compress_ops;
  z->base.lower = lower;
  z->base.conn = conn;
  *out = &z->base;
  return MAIL_OK;
}

int mail_layer_is_compress(const mail_layer *l)
{
  return l && l->ops == &compress_ops;
}

void mail_compress_layer_counts(const mail_layer *l, uint64_t *wire_in, uint64_t *plain_in,
                                uint64_t *wire_out, uint64_t *plain_out)
{
  const compress_layer *z = (const compress_layer *)l;
  *wire_in = z->wire_in;
  *plain_in = z->plain_in;
  *wire_out = z->wire_out;
  *plain_out = z->plain_out;
}

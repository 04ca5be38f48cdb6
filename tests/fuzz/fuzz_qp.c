/*
 * Quoted-printable (and uuencode, the other hand-written body decoder):
 * lib/mime's streaming transfer decoder and the builder's QP encoder.
 * Byte 0: bit 0 uuencode instead of QP for the decoder, bit 1 text mode
 * for the encoder, the rest the chunk sizes.
 * - The decoder, fed whole and in chunks, gives the same bytes and the
 *   same defects.
 * - The encoder, fed in chunks, writes lines of at most 76 characters
 *   (CRLF aside) of printable ASCII, space and tab only (no trailing blank
 *   before a line break, no '.' or "From " a line could be misread by),
 *   at most MAIL_QP_ENC_MAX bytes per update, and decodes back without a
 *   defect to the input (text mode: to its LF-normalised form with CRLF
 *   line breaks).
 */
#include <string.h>

#include "fuzz_common.h"
#include "mime/encode.h"
#include "mime/mime_internal.h"

typedef struct sink {
  unsigned char *buf;
  size_t len, cap;
  fz_hash h;
} sink;

static int put(void *user, const unsigned char *d, size_t n)
{
  sink *s = user;
  FZ_ASSERT(n > 0);
  fz_hash_bytes(&s->h, d, n);
  if (s->buf) {
    FZ_ASSERT(s->len + n <= s->cap);
    memcpy(s->buf + s->len, d, n);
  }
  s->len += n;
  return 0;
}

static void on_defect(void *user, int kind)
{
  fz_hash_int(user, 7000 + kind);
}

static uint64_t decode(int enc, const uint8_t *in, size_t n, unsigned seed, int chunked,
                       sink *out, unsigned *ndefects)
{
  mime_decoder d;
  mime_decoder_init(&d, enc);
  fz_hash dh;
  fz_hash_init(&dh);
  fz_hash_init(&out->h);
  out->len = 0;
  size_t at = 0, k = 0;
  while (at < n) {
    size_t c = chunked ? fz_chunk(seed, k++) : n;
    if (c > n - at)
      c = n - at;
    FZ_ASSERT(mime_decoder_feed(&d, in + at, c, put, out) == 0);
    at += c;
  }
  FZ_ASSERT(mime_decoder_finish(&d, put, out, on_defect, &dh) == 0);
  *ndefects = dh.h != 1469598103934665603ull;
  fz_hash_int(&out->h, (long)dh.h);
  return out->h.h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  unsigned flags = data[0];
  const uint8_t *in = data + 1;
  size_t n = size - 1;
  int enc = (flags & 1) ? MAIL_MIME_ENC_UUENCODE : MAIL_MIME_ENC_QUOTED_PRINTABLE;
  unsigned seed = flags >> 2, d1, d2;

  /* Decoder: any split, the same bytes and defects. */
  sink a = {NULL, 0, 0, {0}}, b = {NULL, 0, 0, {0}};
  uint64_t ha = decode(enc, in, n, seed, 0, &a, &d1);
  uint64_t hb = decode(enc, in, n, seed, 1, &b, &d2);
  FZ_ASSERT(ha == hb && a.len == b.len && d1 == d2);
  if (enc == MAIL_MIME_ENC_QUOTED_PRINTABLE)
    FZ_ASSERT(a.len <= n); /* QP never grows */

  /* Encoder round trip. */
  int text = (flags >> 1) & 1;
  unsigned char *plain = malloc(n + 1);
  FZ_ASSERT(plain);
  memcpy(plain, in, n);
  size_t pn = n;
  if (text) {
    int cr = 0;
    pn = mail_text_to_lf(&cr, plain, n);
  }
  size_t cap = MAIL_QP_ENC_MAX(pn) + 16;
  unsigned char *enc_out = malloc(cap);
  FZ_ASSERT(enc_out);
  mail_qp_enc e;
  mail_qp_enc_init(&e, text);
  size_t o = 0, at = 0, k = 0;
  while (at < pn) {
    size_t c = fz_chunk(seed + 1, k++);
    if (c > pn - at)
      c = pn - at;
    size_t counted;
    {
      mail_qp_enc probe = e;
      counted = mail_qp_enc_update(&probe, plain + at, c, NULL);
    }
    size_t w = mail_qp_enc_update(&e, plain + at, c, enc_out + o);
    FZ_ASSERT(w == counted && w <= MAIL_QP_ENC_MAX(c));
    o += w;
    at += c;
  }
  o += mail_qp_enc_finish(&e, enc_out + o);
  FZ_ASSERT(o <= cap);
  /* Lines: printable, at most 76 characters, no blank before CRLF. */
  size_t col = 0;
  for (size_t i = 0; i < o; i++) {
    unsigned char c = enc_out[i];
    if (c == '\r') {
      FZ_ASSERT(i + 1 < o && enc_out[i + 1] == '\n');
      FZ_ASSERT(col == 0 || (enc_out[i - 1] != ' ' && enc_out[i - 1] != '\t'));
      i++;
      col = 0;
      continue;
    }
    FZ_ASSERT(c == ' ' || c == '\t' || (c > 32 && c < 127));
    FZ_ASSERT(!(col == 0 && c == '.'));
    FZ_ASSERT(!(col == 0 && o - i >= 5 && !memcmp(enc_out + i, "From ", 5)));
    col++;
    FZ_ASSERT(col <= 76);
  }
  FZ_ASSERT(o == 0 || (enc_out[o - 1] != ' ' && enc_out[o - 1] != '\t'));
  /* Decoded back: the input (text: LF as CRLF), no defect. */
  size_t want_n = pn;
  for (size_t i = 0; text && i < pn; i++)
    want_n += plain[i] == '\n';
  unsigned char *want = malloc(want_n + 1);
  FZ_ASSERT(want);
  size_t wn = 0;
  for (size_t i = 0; i < pn; i++) {
    if (text && plain[i] == '\n')
      want[wn++] = '\r';
    want[wn++] = plain[i];
  }
  unsigned char *back = malloc(o + 1);
  FZ_ASSERT(back);
  sink c = {back, 0, o + 1, {0}};
  unsigned d3;
  decode(MAIL_MIME_ENC_QUOTED_PRINTABLE, enc_out, o, seed, 1, &c, &d3);
  FZ_ASSERT(d3 == 0);
  FZ_ASSERT(c.len == wn && (wn == 0 || !memcmp(back, want, wn)));
  free(back);
  free(want);
  free(enc_out);
  free(plain);
  return 0;
}

/* Streaming transfer decoders for leaf bodies: base64 (through the one
 * codec in core/base64), quoted-printable and uuencode. Output goes to a
 * sink in bounded chunks so a body of any size decodes in fixed memory. */
#include <string.h>

#include "mime/mime_internal.h"

#define OUT_CHUNK 16384

int mime_ascii_casecmp(const char *a, const char *b)
{
  for (;; a++, b++) {
    int ca = (unsigned char)*a, cb = (unsigned char)*b;
    if (ca >= 'A' && ca <= 'Z') ca += 32;
    if (cb >= 'A' && cb <= 'Z') cb += 32;
    if (ca != cb || !ca)
      return ca - cb;
  }
}

int mime_ascii_ncasecmp(const char *a, const char *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    int ca = (unsigned char)a[i], cb = (unsigned char)b[i];
    if (ca >= 'A' && ca <= 'Z') ca += 32;
    if (cb >= 'A' && cb <= 'Z') cb += 32;
    if (ca != cb || !ca)
      return ca - cb;
  }
  return 0;
}

int mime_encoding_from_name(const char *name)
{
  static const struct { const char *n; int e; } tab[] = {
    {"7bit", MAIL_MIME_ENC_7BIT}, {"8bit", MAIL_MIME_ENC_8BIT},
    {"binary", MAIL_MIME_ENC_BINARY}, {"quoted-printable", MAIL_MIME_ENC_QUOTED_PRINTABLE},
    {"base64", MAIL_MIME_ENC_BASE64}, {"x-uuencode", MAIL_MIME_ENC_UUENCODE},
    {"uuencode", MAIL_MIME_ENC_UUENCODE}, {"x-uue", MAIL_MIME_ENC_UUENCODE},
    {"uue", MAIL_MIME_ENC_UUENCODE},
  };
  if (!name)
    return MAIL_MIME_ENC_7BIT;
  for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (!mime_ascii_casecmp(name, tab[i].n))
      return tab[i].e;
  return MAIL_MIME_ENC_UNKNOWN;
}

void mime_decoder_init(mime_decoder *d, int enc)
{
  memset(d, 0, sizeof *d);
  d->enc = enc;
  mail_b64_stream_init(&d->b64);
}

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static int b64_feed(mime_decoder *d, const unsigned char *in, size_t n, mime_sink_fn sink, void *user)
{
  unsigned char out[OUT_CHUNK];
  const size_t step = (OUT_CHUNK / 3) * 4 - 4;
  while (n) {
    size_t k = n < step ? n : step;
    size_t got = mail_b64_stream_decode(&d->b64, in, k, out);
    if (got) {
      int rc = sink(user, out, got);
      if (rc)
        return rc;
    }
    in += k;
    n -= k;
  }
  return 0;
}

/* Quoted-printable as binascii.a2b_qp reads it: "=XX" (either case) is a
 * byte, "=" before a line break is a soft break (trailing blanks after the
 * "=" are allowed, RFC 2045 6.7), anything else is kept literally and
 * counted as a defect. Line breaks and trailing blanks are kept. */
static int qp_feed(mime_decoder *d, const unsigned char *in, size_t n, mime_sink_fn sink, void *user)
{
  unsigned char out[OUT_CHUNK];
  size_t o = 0;
  int rc;
#define QP_PUT(c) do { out[o++] = (c); if (o == sizeof out) { if ((rc = sink(user, out, o))) return rc; o = 0; } } while (0)
  for (size_t i = 0; i < n; i++) {
    unsigned char c = in[i];
    switch (d->qp_state) {
    case 0:
      if (c != '=') {
        /* Copy the run up to the next '=' at once. */
        const unsigned char *eq = memchr(in + i, '=', n - i);
        size_t run = eq ? (size_t)(eq - (in + i)) : n - i;
        while (run) {
          size_t room = sizeof out - o, k = run < room ? run : room;
          memcpy(out + o, in + i, k);
          o += k;
          i += k;
          run -= k;
          if (o == sizeof out) {
            if ((rc = sink(user, out, o)))
              return rc;
            o = 0;
          }
        }
        i--;
      } else {
        d->qp_state = 1;
      }
      break;
    case 1:
      if (hexval(c) >= 0) {
        d->qp_hex = c;
        d->qp_state = 2;
      } else if (c == '\n') {
        d->qp_state = 0;
      } else if (c == '\r') {
        d->qp_state = 3;
      } else if (c == ' ' || c == '\t') {
        d->qp_state = 4;
      } else {
        d->qp_bad = 1;
        QP_PUT('=');
        d->qp_state = 0;
        i--;
      }
      break;
    case 2:
      if (hexval(c) >= 0) {
        QP_PUT((unsigned char)(hexval(d->qp_hex) << 4 | hexval(c)));
      } else {
        d->qp_bad = 1;
        QP_PUT('=');
        QP_PUT(d->qp_hex);
        i--;
      }
      d->qp_state = 0;
      break;
    case 3: /* "=\r": a soft break when '\n' follows */
      d->qp_state = 0;
      if (c != '\n')
        i--;
      break;
    case 4: /* "=" + blanks: soft break if only blanks remain on the line */
      if (c == ' ' || c == '\t')
        break;
      if (c == '\n') {
        d->qp_state = 0;
      } else if (c == '\r') {
        d->qp_state = 3;
      } else {
        /* The blanks are lost; a rare malformed case. */
        d->qp_bad = 1;
        QP_PUT('=');
        d->qp_state = 0;
        i--;
      }
      break;
    }
  }
#undef QP_PUT
  if (o)
    return sink(user, out, o);
  return 0;
}

static int uu_line(mime_decoder *d, mime_sink_fn sink, void *user)
{
  unsigned char *l = d->uu_line;
  size_t len = d->uu_len;
  while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
    len--;
  if (d->uu_overlong) {
    d->uu_overlong = 0;
    d->uu_bad = 1;
    return 0;
  }
  if (d->uu_state == 0) {
    if (len >= 6 && !memcmp(l, "begin ", 6))
      d->uu_state = 1;
    return 0;
  }
  if (d->uu_state == 2)
    return 0;
  if (len == 3 && !memcmp(l, "end", 3)) {
    d->uu_state = 2;
    return 0;
  }
  if (len == 0)
    return 0;
  size_t count = (size_t)((l[0] - ' ') & 63);
  unsigned char out[64];
  size_t o = 0;
  for (size_t i = 1; o < count; i += 4) {
    unsigned char v[4];
    for (int k = 0; k < 4; k++)
      v[k] = i + (size_t)k < len ? (unsigned char)((l[i + (size_t)k] - ' ') & 63) : 0;
    if (i + 4 > len + 3) {
      d->uu_bad = 1;
      break;
    }
    out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
    if (o < count) out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
    if (o < count) out[o++] = (unsigned char)(v[2] << 6 | v[3]);
  }
  return o ? sink(user, out, o) : 0;
}

static int uu_feed(mime_decoder *d, const unsigned char *in, size_t n, mime_sink_fn sink, void *user)
{
  for (size_t i = 0; i < n; i++) {
    if (in[i] == '\n') {
      int rc = uu_line(d, sink, user);
      d->uu_len = 0;
      if (rc)
        return rc;
    } else if (d->uu_len < sizeof d->uu_line) {
      d->uu_line[d->uu_len++] = in[i];
    } else {
      d->uu_overlong = 1;
    }
  }
  return 0;
}

int mime_decoder_feed(mime_decoder *d, const unsigned char *in, size_t n, mime_sink_fn sink, void *user)
{
  if (!n)
    return 0;
  switch (d->enc) {
  case MAIL_MIME_ENC_BASE64:
    return b64_feed(d, in, n, sink, user);
  case MAIL_MIME_ENC_QUOTED_PRINTABLE:
    return qp_feed(d, in, n, sink, user);
  case MAIL_MIME_ENC_UUENCODE:
    return uu_feed(d, in, n, sink, user);
  default:
    return sink(user, in, n);
  }
}

int mime_decoder_finish(mime_decoder *d, mime_sink_fn sink, void *user,
                        void (*defect)(void *user, int kind), void *duser)
{
  int rc = 0;
  switch (d->enc) {
  case MAIL_MIME_ENC_BASE64: {
    unsigned char tail[2];
    unsigned int pending = d->b64.nacc;
    size_t k = mail_b64_stream_finish(&d->b64, tail);
    if (k)
      rc = sink(user, tail, k);
    if (d->b64.garbage)
      defect(duser, MAIL_MIME_DEFECT_INVALID_BASE64_CHARACTERS);
    if (d->b64.incomplete)
      defect(duser, pending == 1 ? MAIL_MIME_DEFECT_INVALID_BASE64_LENGTH
                                     : MAIL_MIME_DEFECT_INVALID_BASE64_PADDING);
    break;
  }
  case MAIL_MIME_ENC_QUOTED_PRINTABLE:
    if (d->qp_state == 1 || d->qp_state == 4) {
      /* "=" at the very end: a soft break without a line break. */
    } else if (d->qp_state == 2) {
      unsigned char t[2] = {'=', d->qp_hex};
      rc = sink(user, t, 2);
      d->qp_bad = 1;
    }
    if (d->qp_bad)
      defect(duser, MAIL_MIME_DEFECT_INVALID_QUOTED_PRINTABLE);
    break;
  case MAIL_MIME_ENC_UUENCODE:
    if (d->uu_len) {
      rc = uu_line(d, sink, user);
      d->uu_len = 0;
    }
    if (d->uu_bad || d->uu_state != 2)
      defect(duser, MAIL_MIME_DEFECT_INVALID_UUENCODE);
    break;
  default:
    break;
  }
  return rc;
}

/*
 * The base64 codec. Strict decoding (SASL) must accept exactly the
 * canonical encodings: whatever it accepts re-encodes to the same text.
 * The streaming decoder (MIME) must give the same bytes for any split of
 * its input, and agree with the strict decoder where that one accepts.
 */
#include <string.h>

#include "core/base64.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  size_t cut = data[0] % (size);
  const char *in = (const char *)data + 1;
  size_t n = size - 1;
  if (cut > n)
    cut = n;

  unsigned char *strict = malloc(MAIL_B64_DECODED_MAX(n));
  unsigned char *whole = malloc(MAIL_B64_DECODED_MAX(n) + 2);
  unsigned char *split = malloc(MAIL_B64_DECODED_MAX(n) + 4);
  if (!strict || !whole || !split)
    abort();

  long sl = mail_b64_decode_strict(in, n, strict);
  if (sl >= 0) {
    FZ_ASSERT((size_t)sl <= MAIL_B64_DECODED_MAX(n));
    char *enc = malloc(MAIL_B64_ENCODED_LEN((size_t)sl) + 1);
    if (!enc)
      abort();
    size_t el = mail_b64_encode(strict, (size_t)sl, enc);
    FZ_ASSERT(el == n && memcmp(enc, in, n) == 0);
    free(enc);
  }

  mail_b64_stream s1, s2;
  mail_b64_stream_init(&s1);
  size_t w = mail_b64_stream_decode(&s1, in, n, whole);
  w += mail_b64_stream_finish(&s1, whole + w);
  mail_b64_stream_init(&s2);
  size_t k = mail_b64_stream_decode(&s2, in, cut, split);
  k += mail_b64_stream_decode(&s2, in + cut, n - cut, split + k);
  k += mail_b64_stream_finish(&s2, split + k);
  FZ_ASSERT(w == k && memcmp(whole, split, w) == 0);
  FZ_ASSERT(s1.garbage == s2.garbage && s1.incomplete == s2.incomplete);
  if (sl >= 0) {
    FZ_ASSERT((size_t)sl == w && memcmp(strict, whole, w) == 0);
    FZ_ASSERT(s1.garbage == 0 && !s1.incomplete);
  }

  /* Wrapped encoding decodes back through the stream decoder. */
  size_t wl = mail_b64_encoded_wrapped_len(n, 76);
  char *wrapped = malloc(wl + 1);
  unsigned char *back = malloc(MAIL_B64_DECODED_MAX(wl) + 2);
  if (!wrapped || !back)
    abort();
  FZ_ASSERT(mail_b64_encode_wrapped(in, n, 76, wrapped) == wl);
  mail_b64_stream s3;
  mail_b64_stream_init(&s3);
  size_t bl = mail_b64_stream_decode(&s3, wrapped, wl, back);
  bl += mail_b64_stream_finish(&s3, back + bl);
  FZ_ASSERT(bl == n && memcmp(back, in, n) == 0 && s3.garbage == 0 && !s3.incomplete);

  free(wrapped);
  free(back);
  free(strict);
  free(whole);
  free(split);
  return 0;
}

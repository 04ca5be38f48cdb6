/* A 50 MB message through the real Dovecot in bounded memory: APPENDed
 * from a read callback that makes its bytes as they are asked for (the
 * message never exists whole), fetched back with BODY.PEEK[] streamed to
 * a body callback (blocking, then again from an event loop), the SHA-256
 * of what came back equal to that of what went out, while the session's
 * heap, counted through its allocator hooks, stays under a small bound;
 * and a 20 MB attachment streamed by the MIME builder from a read
 * callback, read back decoded with BINARY[2].
 *
 * Limits: APPEND goes to Dovecot directly, so Postfix's
 * message_size_limit (servers.env MAIL_TEST_MAX_MESSAGE_SIZE, 50 MiB) does
 * not apply; the message stays under it all the same. Dovecot 2.3 has no
 * APPEND size limit of its own (no APPENDLIMIT) and the test users have no
 * quota (quota_rule = *:storage=0) except "quota", not used here. */
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mail/imap.h>
#include <mail/mime_build.h>

#include "alloc.h"
#include "imap_it.h"
#include "servers_env.h"

#define TARGET_SIZE 50000000u /* "50 MB" */
#define LINE 78               /* 76 base64 characters and CRLF */

/* The library's heap may not grow with the message: what a session needs
 * for its buffers, its parser and one read's worth of data. */
#define HEAP_BOUND (512u * 1024u)

/* The message: a header, then lines of pseudo-random base64 characters
 * (a large attachment as mail clients send it), made on demand. */
typedef struct source {
  char header[512];
  size_t header_len;
  uint64_t size, at;
  uint64_t rng;
  EVP_MD_CTX *md;
  size_t max_ask; /* largest cap the library asked for */
  unsigned calls;
} source;

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void source_init(source *s, const char *token)
{
  memset(s, 0, sizeof *s);
  s->header_len = (size_t)snprintf(
      s->header, sizeof s->header,
      "From: Alice <alice@libmail.test>\r\nTo: Bob <bob@libmail.test>\r\n"
      "Subject: large %s\r\nMessage-ID: <large-%s@libmail.test>\r\nMIME-Version: 1.0\r\n"
      "Content-Type: application/octet-stream; name=\"big.bin\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n",
      token, token);
  s->size = s->header_len + (TARGET_SIZE - s->header_len) / LINE * LINE;
  s->rng = 0x2545f4914f6cdd1dull;
  s->md = EVP_MD_CTX_new();
  ck_assert_ptr_nonnull(s->md);
  ck_assert_int_eq(EVP_DigestInit_ex(s->md, EVP_sha256(), NULL), 1);
}

static char next_char(source *s)
{
  s->rng ^= s->rng << 13;
  s->rng ^= s->rng >> 7;
  s->rng ^= s->rng << 17;
  return b64[s->rng & 63];
}

static int source_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  source *s = user;
  s->calls++;
  if (cap > s->max_ask)
    s->max_ask = cap;
  size_t n = 0;
  while (n < cap && s->at < s->size) {
    if (s->at < s->header_len) {
      buf[n] = (unsigned char)s->header[s->at];
    } else {
      uint64_t col = (s->at - s->header_len) % LINE;
      buf[n] = col == LINE - 2 ? '\r' : col == LINE - 1 ? '\n' : (unsigned char)next_char(s);
    }
    n++;
    s->at++;
  }
  ck_assert_int_eq(EVP_DigestUpdate(s->md, buf, n), 1);
  *got = n;
  return 0;
}

typedef struct sink {
  EVP_MD_CTX *md;
  uint64_t bytes;
  int begins, ends;
  uint64_t announced; /* the literal's size */
} sink;

static int sink_body(void *user, mail_imap_body_event ev, const mail_imap_section *sec,
                     const unsigned char *d, size_t n)
{
  sink *k = user;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    k->begins++;
    k->announced = mail_imap_section_size(sec);
  } else if (ev == MAIL_IMAP_BODY_DATA) {
    ck_assert_int_eq(EVP_DigestUpdate(k->md, d, n), 1);
    k->bytes += n;
  } else {
    k->ends++;
  }
  return 0;
}

static long max_rss_kib(void)
{
  struct rusage ru;
  ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
  return ru.ru_maxrss;
}

/* The one streamed value items asks for (BODY.PEEK[], BINARY.PEEK[2]) of
 * uid into a digest; blocking, or from a poll loop. */
static void fetch_digest(mail_imap *im, uint32_t uid, const char *items, int event_loop,
                         unsigned char *digest, uint64_t *bytes)
{
  sink k = {EVP_MD_CTX_new(), 0, 0, 0, 0};
  ck_assert_ptr_nonnull(k.md);
  ck_assert_int_eq(EVP_DigestInit_ex(k.md, EVP_sha256(), NULL), 1);
  mail_imap_seqset *set = NULL;
  ck_assert_int_eq(mail_imap_seqset_new(&set, NULL), MAIL_OK);
  ck_assert_int_eq(mail_imap_seqset_add(set, &uid, 1), MAIL_OK);
  mail_conn_set_nonblocking(mail_imap_conn(im), event_loop);
  int64_t deadline = imap_it_now_ms() + 120000;
  /* How often the loop had to wait is the machine's business (a client
   * slower than the server may always find data): not checked. */
  int rc;
  while ((rc = mail_imap_fetch(im, set, 1, items, sink_body, &k)) == MAIL_ERR_AGAIN) {
    ck_assert_msg(imap_it_wait(im, deadline), "FETCH still running after 120 s");
  }
  mail_conn_set_nonblocking(mail_imap_conn(im), 0);
  ck_assert_msg(rc == MAIL_OK, "FETCH: %s (%s)", mail_strerror(rc),
                mail_conn_last_error(mail_imap_conn(im)));
  ck_assert_int_eq(k.begins, 1);
  ck_assert_int_eq(k.ends, 1);
  ck_assert_uint_eq(k.announced, k.bytes);
  unsigned int dl = 0;
  ck_assert_int_eq(EVP_DigestFinal_ex(k.md, digest, &dl), 1);
  ck_assert_uint_eq(dl, 32);
  EVP_MD_CTX_free(k.md);
  mail_imap_seqset_free(set);
  *bytes = k.bytes;
}

START_TEST(test_fifty_megabytes)
{
  uint64_t limit = (uint64_t)mail_test_env_long("MAIL_TEST_MAX_MESSAGE_SIZE", 52428800);
  char token[64], box[160];
  snprintf(token, sizeof token, "%ld-%lld", (long)getpid(), (long long)imap_it_now_ms());
  imap_it_unique(box, sizeof box, "large");
  static source src;
  source_init(&src, token);
  ck_assert_uint_le(src.size, limit);
  ck_assert_uint_gt(src.size, TARGET_SIZE - LINE);

  static mail_test_alloc heap;
  mail_test_alloc_init(&heap);
  long rss0 = max_rss_kib();
  mail_imap *im = imap_it_login(1, 1, mail_test_alloc_hooks(&heap));
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  size_t after_login = heap.peak_bytes;

  int64_t t0 = imap_it_now_ms();
  int rc = mail_imap_append(im, box, NULL, 0, 0, src.size, source_read, &src);
  ck_assert_msg(rc == MAIL_OK, "APPEND: %s (%s; %s)", mail_strerror(rc), mail_imap_last_text(im),
                mail_conn_last_error(mail_imap_conn(im)));
  int64_t t1 = imap_it_now_ms();
  ck_assert_uint_eq(src.at, src.size);
  uint32_t validity, uid;
  ck_assert_int_eq(mail_imap_append_uid(&validity, &uid, im), MAIL_OK);
  unsigned char sent[32];
  unsigned int dl = 0;
  ck_assert_int_eq(EVP_DigestFinal_ex(src.md, sent, &dl), 1);
  EVP_MD_CTX_free(src.md);
  size_t append_peak = heap.peak_bytes;

  ck_assert_int_eq(mail_imap_select(im, box, 1), MAIL_OK);
  heap.peak_bytes = heap.live_bytes;
  unsigned char got[32];
  uint64_t bytes = 0;
  fetch_digest(im, uid, "(BODY.PEEK[])", 0, got, &bytes);
  int64_t t2 = imap_it_now_ms();
  ck_assert_uint_eq(bytes, src.size);
  ck_assert(!memcmp(got, sent, 32));
  size_t fetch_peak = heap.peak_bytes;
  memset(got, 0, sizeof got);
  fetch_digest(im, uid, "(BODY.PEEK[])", 1, got, &bytes);
  int64_t t3 = imap_it_now_ms();
  ck_assert_uint_eq(bytes, src.size);
  ck_assert(!memcmp(got, sent, 32));
  if (heap.peak_bytes > fetch_peak)
    fetch_peak = heap.peak_bytes;

  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
  ck_assert_uint_eq(heap.live, 0);
  long rss = max_rss_kib();
  fprintf(stderr,
          "large: %llu bytes; APPEND %lld ms (%u reads of at most %zu bytes), BODY[] %lld ms, "
          "from an event loop %lld ms; library heap peak: %zu bytes after login, %zu during "
          "APPEND, %zu during FETCH; max RSS %ld KiB (%ld KiB before the session)\n",
          (unsigned long long)src.size, (long long)(t1 - t0), src.calls, src.max_ask,
          (long long)(t2 - t1), (long long)(t3 - t2), after_login, append_peak, fetch_peak, rss,
          rss0);
  ck_assert_uint_le(append_peak, HEAP_BOUND);
  ck_assert_uint_le(fetch_peak, HEAP_BOUND);
  /* Nothing outside the hooks held the message either (OpenSSL's buffers,
   * the process's own): the whole process stayed far below its size.
   * (Not under AddressSanitizer, whose quarantine keeps freed memory, nor
   * under valgrind, whose own memory the RSS counts: tests/valgrind-wrap.sh
   * sets MAIL_TEST_VALGRIND. The heap bounds above still hold there.) */
#if !defined(__SANITIZE_ADDRESS__)
  if (!getenv("MAIL_TEST_VALGRIND"))
    ck_assert_int_lt(rss, 32 * 1024);
#endif
}
END_TEST

/* A 20 MB attachment pulled from a read callback by the MIME builder
 * (declared length, no rewind: it is read once, while APPEND sends it,
 * and goes out as base64), and read back decoded with BINARY.PEEK[2]
 * (RFC 3516; Dovecot decodes it): the digest of the bytes the callback
 * gave equals that of the bytes that came back, and neither the builder
 * nor the session, sharing one counting allocator, held them. */
#define ATTACHMENT_SIZE 20000000u

typedef struct blob {
  uint64_t left, rng;
  EVP_MD_CTX *md;
} blob;

static int blob_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  blob *b = user;
  size_t n = cap < b->left ? cap : (size_t)b->left;
  for (size_t i = 0; i < n; i++) {
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    buf[i] = (unsigned char)(b->rng >> 11);
  }
  ck_assert_int_eq(EVP_DigestUpdate(b->md, buf, n), 1);
  b->left -= n;
  *got = n;
  return 0;
}

START_TEST(test_builder_attachment)
{
  char box[160];
  imap_it_unique(box, sizeof box, "large-built");
  static mail_test_alloc heap;
  mail_test_alloc_init(&heap);
  blob b = {ATTACHMENT_SIZE, 0x9e3779b97f4a7c15ull, EVP_MD_CTX_new()};
  ck_assert_ptr_nonnull(b.md);
  ck_assert_int_eq(EVP_DigestInit_ex(b.md, EVP_sha256(), NULL), 1);
  mail_mime_builder *m = NULL;
  ck_assert_int_eq(mail_mime_builder_new(&m, mail_test_alloc_hooks(&heap)), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, "Alice", "alice@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "bob@libmail.test"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_subject(m, "a built 20 MB attachment"), MAIL_OK);
  static const char text[] = "The archive is attached.\n";
  ck_assert_int_eq(mail_mime_builder_set_text(m, text, sizeof text - 1), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_attachment_callback(m, "application/x-tar", "big.tar",
                                                             blob_read, NULL, &b,
                                                             ATTACHMENT_SIZE, NULL),
                   MAIL_OK);
  uint64_t size = 0;
  ck_assert_int_eq(mail_mime_builder_size(m, &size), MAIL_OK);
  ck_assert_uint_gt(size, ATTACHMENT_SIZE / 3 * 4);

  mail_imap *im = imap_it_login(1, 0, mail_test_alloc_hooks(&heap));
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  int rc = mail_imap_append_builder(im, box, NULL, 0, 0, m);
  ck_assert_msg(rc == MAIL_OK, "APPEND: %s (%s)", mail_strerror(rc), mail_imap_last_text(im));
  ck_assert_uint_eq(b.left, 0);
  size_t append_peak = heap.peak_bytes;
  mail_mime_builder_free(m);
  unsigned char sent[32], got[32];
  unsigned int dl = 0;
  ck_assert_int_eq(EVP_DigestFinal_ex(b.md, sent, &dl), 1);
  EVP_MD_CTX_free(b.md);
  uint32_t validity, uid;
  ck_assert_int_eq(mail_imap_append_uid(&validity, &uid, im), MAIL_OK);
  ck_assert(mail_imap_has_capability(im, "BINARY"));
  ck_assert_int_eq(mail_imap_select(im, box, 1), MAIL_OK);
  heap.peak_bytes = heap.live_bytes;
  uint64_t bytes = 0;
  fetch_digest(im, uid, "(BINARY.PEEK[2])", 0, got, &bytes);
  ck_assert_uint_eq(bytes, ATTACHMENT_SIZE);
  ck_assert(!memcmp(got, sent, 32));
  size_t fetch_peak = heap.peak_bytes;
  ck_assert_int_eq(mail_imap_close(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
  ck_assert_uint_eq(heap.live, 0);
  fprintf(stderr,
          "large-built: %llu-byte message (a %u-byte attachment); heap peak (builder and "
          "session) %zu bytes during APPEND, %zu during FETCH BINARY[2]\n",
          (unsigned long long)size, ATTACHMENT_SIZE, append_peak, fetch_peak);
  ck_assert_uint_le(append_peak, HEAP_BOUND);
  ck_assert_uint_le(fetch_peak, HEAP_BOUND);
}
END_TEST

/* A 5 MB APPEND to a mailbox that does not exist yet: under LITERAL+
 * the whole literal goes out before Dovecot answers NO [TRYCREATE]; the
 * session stays usable, and after CREATE the same APPEND succeeds. */
START_TEST(test_append_trycreate)
{
  char box[160];
  imap_it_unique(box, sizeof box, "large-trycreate");
  mail_imap *im = imap_it_login(1, 1, NULL);
  ck_assert(mail_imap_has_capability(im, "LITERAL+"));
  blob b = {5000000, 1, EVP_MD_CTX_new()};
  ck_assert_ptr_nonnull(b.md);
  ck_assert_int_eq(EVP_DigestInit_ex(b.md, EVP_sha256(), NULL), 1);
  int rc = mail_imap_append(im, box, NULL, 0, 0, b.left, blob_read, &b);
  ck_assert_msg(rc == MAIL_ERR_SERVER, "APPEND to a missing mailbox: %s", mail_strerror(rc));
  ck_assert_int_eq(mail_imap_last_code(im), MAIL_IMAP_CODE_TRYCREATE);
  ck_assert_uint_eq(b.left, 0);
  ck_assert_int_eq(mail_imap_get_state(im), MAIL_IMAP_STATE_AUTHENTICATED);
  ck_assert_int_eq(mail_imap_noop(im), MAIL_OK);
  ck_assert_int_eq(mail_imap_create(im, box), MAIL_OK);
  b.left = 5000000;
  rc = mail_imap_append(im, box, NULL, 0, 0, b.left, blob_read, &b);
  ck_assert_msg(rc == MAIL_OK, "APPEND after CREATE: %s (%s)", mail_strerror(rc),
                mail_imap_last_text(im));
  EVP_MD_CTX_free(b.md);
  ck_assert_int_eq(mail_imap_delete(im, box), MAIL_OK);
  imap_it_logout(im);
}
END_TEST

int main(void)
{
  const TTest *const tests[] = {test_fifty_megabytes, test_builder_attachment,
                                test_append_trycreate};
  return imap_it_main("imap-large", 240, tests, sizeof tests / sizeof *tests);
}

/* Benchmark: build a message with a very large attachment (1 GiB by
 * default) generated on the fly, stream it out through
 * mail_mime_builder_read() and report throughput and peak RSS (VmHWM).
 * With --parse the output is fed to the streaming parser as it is
 * produced, and the decoded attachment is checked byte for byte.
 *
 *   bench-mime-build [--size MiB] [--text] [--parse]
 *
 * --text makes the attachment text/plain (quoted-printable or 7bit
 * after a measuring pass) instead of binary (base64). Exit status 1 when
 * peak RSS reaches 16 MiB or a check fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mail/mime.h>
#include <mail/mime_build.h>

typedef struct gen {
  uint64_t len, pos;
  uint32_t state;
  int text;
} gen;

static unsigned char gen_byte(gen *g, uint64_t pos)
{
  g->state = g->state * 1664525u + 1013904223u;
  if (g->text)
    return pos % 73 == 72 ? '\n' : (unsigned char)(' ' + (g->state >> 25) % 95);
  return (unsigned char)(g->state >> 24);
}

static int gen_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  gen *g = user;
  size_t k = g->len - g->pos < cap ? (size_t)(g->len - g->pos) : cap;
  for (size_t i = 0; i < k; i++)
    buf[i] = gen_byte(g, g->pos + i);
  g->pos += k;
  *got = k;
  return 0;
}

static int gen_rewind(void *user)
{
  gen *g = user;
  g->pos = 0;
  g->state = 12345;
  return 0;
}

/* Parser side: compare the decoded attachment with a second generator. */
typedef struct check {
  gen expect;
  uint64_t decoded;
  int in_attachment;
  int mismatch;
} check;

static int on_part_start(void *user, mail_mime_part *part)
{
  check *c = user;
  c->in_attachment = mail_mime_part_filename(part) != NULL;
  return 0;
}

static int on_headers_end(void *user, mail_mime_part *part)
{
  check *c = user;
  c->in_attachment = mail_mime_part_filename(part) != NULL;
  return 0;
}

static int on_body(void *user, mail_mime_part *part, const void *data, size_t len)
{
  (void)part;
  check *c = user;
  if (!c->in_attachment)
    return 0;
  const unsigned char *d = data;
  for (size_t i = 0; i < len; i++) {
    /* the generator never makes CR: text went out with CRLF line ends */
    if (c->expect.text && d[i] == '\r')
      continue;
    unsigned char want = gen_byte(&c->expect, c->decoded);
    if (d[i] != want && !c->mismatch) {
      fprintf(stderr, "mismatch at decoded byte %llu\n", (unsigned long long)c->decoded);
      c->mismatch = 1;
    }
    c->decoded++;
  }
  return 0;
}

static long vm_hwm_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0)
      kib = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kib;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  uint64_t mib = 1024;
  int text = 0, parse = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
      mib = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--text") == 0)
      text = 1;
    else if (strcmp(argv[i], "--parse") == 0)
      parse = 1;
    else {
      fprintf(stderr, "usage: %s [--size MiB] [--text] [--parse]\n", argv[0]);
      return 2;
    }
  }
  gen g = {.len = mib << 20, .state = 12345, .text = text};
  mail_mime_builder *m;
  if (mail_mime_builder_new(&m, NULL) != MAIL_OK)
    return 1;
  mail_mime_builder_set_from(m, "Bench", "bench@example.org");
  mail_mime_builder_add_to(m, NULL, "sink@example.org");
  mail_mime_builder_set_subject(m, "large attachment");
  mail_mime_builder_set_text(m, "see attached\n", 13);
  int rc = mail_mime_builder_add_attachment_callback(m, text ? "text/plain" : "application/octet-stream",
                                                     text ? "large.txt" : "large.bin", gen_read, gen_rewind, &g,
                                                     g.len, NULL);
  if (rc)
    return 1;

  double t0 = now();
  uint64_t size;
  unsigned needs;
  if ((rc = mail_mime_builder_size(m, &size)) != MAIL_OK || mail_mime_builder_transport(m, &needs) != MAIL_OK) {
    fprintf(stderr, "size: %s\n", mail_strerror(rc));
    return 1;
  }
  double t1 = now();

  mail_mime_parser *p = NULL;
  check c = {.expect = {.len = g.len, .state = 12345, .text = text}};
  if (parse) {
    mail_mime_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.version = MAIL_MIME_CALLBACKS_VERSION;
    cb.user = &c;
    cb.part_start = on_part_start;
    cb.headers_end = on_headers_end;
    cb.body = on_body;
    if (mail_mime_parser_new(&p, NULL) != MAIL_OK || mail_mime_parser_set_callbacks(p, &cb) != MAIL_OK)
      return 1;
  }
  static unsigned char buf[64 * 1024];
  uint64_t total = 0;
  for (;;) {
    size_t got;
    if ((rc = mail_mime_builder_read(m, buf, sizeof buf, &got)) != MAIL_OK) {
      fprintf(stderr, "read: %s\n", mail_strerror(rc));
      return 1;
    }
    if (!got)
      break;
    total += got;
    if (p && mail_mime_parser_feed(p, buf, got) != MAIL_OK)
      return 1;
  }
  if (p && mail_mime_parser_finish(p) != MAIL_OK)
    return 1;
  double t2 = now();
  long hwm = vm_hwm_kib();
  int ok = total == size && hwm >= 0 && hwm < 16 * 1024;
  if (parse)
    ok = ok && !c.mismatch && c.decoded == g.len;
  printf("attachment %llu MiB (%s): message %llu bytes, needs 0x%x\n", (unsigned long long)mib,
         text ? "text" : "binary", (unsigned long long)size, needs);
  printf("  size pass   %.2f s\n", t1 - t0);
  printf("  output      %.2f s, %.0f MB/s%s\n", t2 - t1, (double)total / 1e6 / (t2 - t1),
         parse ? " (with streaming parse)" : "");
  if (parse)
    printf("  parsed      %llu decoded attachment bytes, %s\n", (unsigned long long)c.decoded,
           c.mismatch ? "MISMATCH" : "identical");
  printf("  peak RSS    %ld KiB (limit 16384) %s\n", hwm, ok ? "OK" : "FAIL");
  mail_mime_parser_free(p);
  mail_mime_builder_free(m);
  return ok ? 0 : 1;
}

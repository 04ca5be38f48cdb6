/*
 * Every allocation goes through the caller's hooks: this program defines
 * malloc, calloc, realloc, free (and the aligned variants) itself, so every
 * call to them in the process (libmail.so's and libc's own included) lands
 * here, and it fails if one is reached from inside a libmail call. The
 * hooks it hands to libmail allocate with glibc's __libc_* functions, which
 * do not come back here.
 *
 * Run over a user transport (tests/support/genserver, which never
 * allocates): an SMTP send (from a buffer and from the MIME builder), a
 * POP3 retrieve, a MIME parse with decoding and a MIME build. It is built
 * in every configuration; tests/run-all also runs it in a build with
 * -Dtls=disabled -Dsaslprep=disabled -Didna=disabled, the configuration
 * common.h promises to keep entirely within the hooks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mime.h>
#include <mail/mime_build.h>
#include <mail/pop3.h>
#include <mail/smtp.h>

#include "../support/genserver.h"

/* ------------------------------------------------------- interposition */

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t s);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
extern void *__libc_memalign(size_t align, size_t n);
void *memalign(size_t align, size_t n); /* <malloc.h>, not included: we define these */

static int inside;              /* > 0 while a libmail call runs */
static unsigned long bypasses;  /* allocator calls from inside one */
static void *first_caller;
static const char *first_what;
static unsigned long outside_calls;

static void seen(const char *what, void *caller)
{
  if (!inside) {
    outside_calls++;
    return;
  }
  if (!bypasses++) {
    first_what = what;
    first_caller = caller;
  }
}

void *malloc(size_t n)
{
  seen("malloc", __builtin_return_address(0));
  return __libc_malloc(n);
}

void *calloc(size_t n, size_t s)
{
  seen("calloc", __builtin_return_address(0));
  return __libc_calloc(n, s);
}

void *realloc(void *p, size_t n)
{
  seen("realloc", __builtin_return_address(0));
  return __libc_realloc(p, n);
}

void free(void *p)
{
  if (p)
    seen("free", __builtin_return_address(0));
  __libc_free(p);
}

void *memalign(size_t align, size_t n)
{
  seen("memalign", __builtin_return_address(0));
  return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
  seen("aligned_alloc", __builtin_return_address(0));
  return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
  seen("posix_memalign", __builtin_return_address(0));
  *out = __libc_memalign(align, n);
  return *out ? 0 : 12;
}

/* --------------------------------------------------------- the hooks */

static unsigned long hook_calls;

static void *h_malloc(size_t n, void *u)
{
  (void)u;
  hook_calls++;
  return __libc_malloc(n);
}

static void h_free(void *p, void *u)
{
  (void)u;
  __libc_free(p);
}

static void *h_calloc(size_t n, size_t s, void *u)
{
  (void)u;
  hook_calls++;
  return __libc_calloc(n, s);
}

static void *h_realloc(void *p, size_t n, void *u)
{
  (void)u;
  hook_calls++;
  return __libc_realloc(p, n);
}

static const mail_allocator hooks = {NULL, h_malloc, h_free, h_calloc, h_realloc};

/* Run one libmail call with the interposer armed. */
static int lm_rc;
static int lm_end(int rc)
{
  inside--;
  lm_rc = rc;
  return rc;
}
#define LM(call) (inside++, lm_end(call))

static int failures;

static void check(int ok, const char *what)
{
  if (!ok) {
    fprintf(stderr, "FAIL: %s\n", what);
    failures++;
  }
}

static void expect(int rc, int want, const char *what)
{
  if (rc != want) {
    fprintf(stderr, "FAIL: %s: %s (expected %s)\n", what, mail_strerror(rc), mail_strerror(want));
    failures++;
  }
}

static void report(const char *step)
{
  if (bypasses) {
    fprintf(stderr, "FAIL: %s: %lu allocator call(s) went around the hooks; the first: %s from %p\n",
            step, bypasses, first_what, first_caller);
    failures++;
    bypasses = 0;
  } else {
    printf("ok: %s: every allocation through the hooks\n", step);
  }
}

/* ---------------------------------------------------------------- SMTP */

static const char message[] =
  "From: a@example.org\r\nTo: b@example.org\r\nSubject: alert\r\n\r\n"
  "The pump in room 3 stopped at 04:12.\r\n.a line with a dot\r\n";

static void smtp_line(gen_server *g, const char *line, size_t len)
{
  (void)len;
  if (!strncmp(line, "EHLO", 4))
    gen_say(g, "250-srv.example\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 1000000\r\n"
               "250 ENHANCEDSTATUSCODES\r\n");
  else if (!strncmp(line, "DATA", 4)) {
    gen_say(g, "354 go\r\n");
    gen_data_mode(g);
  } else if (!strncmp(line, "QUIT", 4))
    gen_say(g, "221 2.0.0 bye\r\n");
  else
    gen_say(g, "250 2.0.0 ok\r\n");
}

static void smtp_send(void)
{
  gen_server g;
  gen_server_init(&g, smtp_line, NULL);
  gen_say(&g, "220 srv.example ESMTP\r\n");
  mail_smtp *s = NULL;
  mail_smtp_envelope *e = NULL;
  mail_mime_builder *m = NULL;
  expect(LM(mail_smtp_new(&s, &hooks)), MAIL_OK, "mail_smtp_new");
  expect(LM(gen_server_attach(&g, mail_smtp_conn(s))), MAIL_OK, "transport");
  expect(LM(mail_smtp_set_client_name(s, "client.example")), MAIL_OK, "client name");
  expect(LM(mail_smtp_connect(s, "srv.example", 25, MAIL_SECURITY_NONE_INSECURE)), MAIL_OK,
         "SMTP connect");
  expect(LM(mail_smtp_envelope_new(&e, &hooks)), MAIL_OK, "envelope");
  expect(LM(mail_smtp_envelope_set_from(e, "a@example.org")), MAIL_OK, "from");
  expect(LM(mail_smtp_envelope_add_recipient(e, "b@example.org", NULL)), MAIL_OK, "rcpt");
  expect(LM(mail_smtp_envelope_set_body_data(e, message, sizeof message - 1)), MAIL_OK, "body");
  expect(LM(mail_smtp_send(s, e)), MAIL_OK, "SMTP send from a buffer");
  /* From the builder. */
  expect(LM(mail_mime_builder_new(&m, &hooks)), MAIL_OK, "builder");
  LM(mail_mime_builder_set_from(m, "Alarm", "a@example.org"));
  LM(mail_mime_builder_add_to(m, NULL, "b@example.org"));
  LM(mail_mime_builder_set_subject(m, "Pumpe 3 gestört"));
  LM(mail_mime_builder_set_text(m, "Ünterbrechung um 04:12.\n", 25));
  expect(LM(mail_smtp_envelope_set_body_mime(e, m)), MAIL_OK, "MIME body");
  expect(LM(mail_smtp_send(s, e)), MAIL_OK, "SMTP send from the builder");
  expect(LM(mail_smtp_quit(s)), MAIL_OK, "QUIT");
  inside++;
  mail_smtp_envelope_free(e);
  mail_mime_builder_free(m);
  mail_smtp_free(s);
  inside--;
  check(!g.overflow, "SMTP script");
  report("SMTP send (buffer and MIME builder)");
}

/* ---------------------------------------------------------------- POP3 */

static void pop3_line(gen_server *g, const char *line, size_t len)
{
  (void)len;
  if (!strncmp(line, "CAPA", 4))
    gen_say(g, "+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n");
  else if (!strncmp(line, "STAT", 4))
    gen_say(g, "+OK 2 300\r\n");
  else if (!strncmp(line, "UIDL", 4))
    gen_say(g, "+OK\r\n1 a1\r\n2 b2\r\n.\r\n");
  else if (!strncmp(line, "RETR", 4)) {
    gen_say(g, "+OK\r\n");
    gen_say(g, message);
    gen_say(g, "..stuffed\r\n.\r\n");
  } else
    gen_say(g, "+OK\r\n");
}

static int on_body(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  (void)msg;
  (void)event;
  (void)data;
  *(size_t *)user += len;
  return 0;
}

static void pop3_retrieve(void)
{
  gen_server g;
  gen_server_init(&g, pop3_line, NULL);
  gen_say(&g, "+OK ready <1.2@srv.example>\r\n");
  mail_pop3 *p = NULL;
  expect(LM(mail_pop3_new(&p, &hooks)), MAIL_OK, "mail_pop3_new");
  expect(LM(gen_server_attach(&g, mail_pop3_conn(p))), MAIL_OK, "transport");
  inside++;
  mail_sasl_set_allow_insecure_plaintext(mail_pop3_sasl(p), 1);
  inside--;
  LM(mail_pop3_set_auth_method(p, MAIL_POP3_AUTH_USER));
  expect(LM(mail_pop3_set_auth(p, "alice", "pw")), MAIL_OK, "auth");
  expect(LM(mail_pop3_connect(p, "srv.example", 110, MAIL_SECURITY_NONE_INSECURE)), MAIL_OK,
         "POP3 connect");
  expect(LM(mail_pop3_auth(p)), MAIL_OK, "POP3 login");
  uint32_t count = 0;
  uint64_t size = 0;
  expect(LM(mail_pop3_stat(p, &count, &size)), MAIL_OK, "STAT");
  expect(LM(mail_pop3_uidl(p)), MAIL_OK, "UIDL");
  size_t got = 0;
  expect(LM(mail_pop3_retr(p, 1, on_body, &got)), MAIL_OK, "RETR");
  check(got == sizeof message - 1 + 9, "RETR body");
  expect(LM(mail_pop3_quit(p, NULL)), MAIL_OK, "QUIT");
  inside++;
  mail_pop3_free(p);
  inside--;
  report("POP3 retrieve");
}

/* ---------------------------------------------------------------- MIME */

static const char mime_message[] =
  "From: =?utf-8?q?J=C3=B6rg?= <j@example.org>\r\n"
  "To: a@example.org, \"B\" <b@example.org>\r\n"
  "Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\n" /* iconv (other charsets) is outside the hooks */
  "Date: Tue, 1 Dec 2026 10:00:00 +0100\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
  "\r\n"
  "--b1\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "Content-Transfer-Encoding: quoted-printable\r\n"
  "\r\n"
  "Gr=C3=BC=C3=9Fe, soft=\r\nbreak\r\n"
  "--b1\r\n"
  "Content-Type: application/octet-stream\r\n"
  "Content-Disposition: attachment; filename*0*=utf-8''r%C3%A9; filename*1=sum.txt\r\n"
  "Content-Transfer-Encoding: base64\r\n"
  "\r\n"
  "aGVsbG8gd29ybGQK\r\n"
  "--b1--\r\n";

static void walk(mail_mime_part *part)
{
  inside++;
  mail_mime_part_filename(part);
  mail_mime_part_header_decoded(part, "Subject");
  mail_mime_part_header_decoded(part, "From");
  if (!mail_mime_part_is_multipart(part)) {
    unsigned char *out = NULL;
    size_t len = 0;
    int rc = mail_mime_part_decode(part, 0, &out, &len);
    if (rc == MAIL_OK)
      mail_free(out);
    else
      failures++;
  }
  size_t n = mail_mime_part_child_count(part);
  inside--;
  for (size_t i = 0; i < n; i++)
    walk(mail_mime_part_child(part, i));
}

/* A file name in 200 RFC 2231 sections: sorting them must not allocate
 * (glibc's qsort would, for an array this size). */
static size_t sectioned_message(char *buf, size_t cap)
{
  size_t o = (size_t)snprintf(buf, cap, "Content-Type: text/plain\r\nContent-Disposition: attachment");
  for (int i = 199; i >= 0; i--)
    o += (size_t)snprintf(buf + o, cap - o, ";\r\n filename*%d=\"p%03d\"", i, i);
  o += (size_t)snprintf(buf + o, cap - o, "\r\n\r\nbody\r\n");
  return o;
}

static void mime_parse(void)
{
  mail_mime_message *msg = NULL;
  expect(LM(mail_mime_message_parse(&msg, mime_message, sizeof mime_message - 1, 0, NULL,
                                    &hooks)),
         MAIL_OK, "MIME parse");
  if (msg)
    walk(mail_mime_message_root(msg));
  inside++;
  mail_mime_message_free(msg);
  inside--;
  static char big[16384];
  size_t n = sectioned_message(big, sizeof big);
  msg = NULL;
  expect(LM(mail_mime_message_parse(&msg, big, n, 0, NULL, &hooks)), MAIL_OK, "MIME parse (2231)");
  if (msg) {
    inside++;
    const char *name = mail_mime_part_filename(mail_mime_message_root(msg));
    inside--;
    check(name && !strncmp(name, "p000p001p002", 12) && strlen(name) == 800, "2231 sections in order");
  }
  inside++;
  mail_mime_message_free(msg);
  inside--;
  report("MIME parse and decode");
}

static void mime_build(void)
{
  mail_mime_builder *m = NULL;
  static const unsigned char blob[300] = {0, 1, 2, 0xff, 0x80};
  expect(LM(mail_mime_builder_new(&m, &hooks)), MAIL_OK, "builder");
  LM(mail_mime_builder_set_from(m, "Jörg", "j@example.org"));
  LM(mail_mime_builder_add_to(m, "B", "b@example.org"));
  LM(mail_mime_builder_set_subject(m, "Grüße aus dem Keller"));
  LM(mail_mime_builder_set_text(m, "Grüße\n", 8));
  LM(mail_mime_builder_set_html(m, "<p>Grüße</p>\n", 15));
  expect(LM(mail_mime_builder_add_attachment(m, "application/octet-stream", "résumé.bin", blob,
                                             sizeof blob, NULL)),
         MAIL_OK, "attachment");
  unsigned char buf[512];
  size_t got = 0, total = 0;
  while (LM(mail_mime_builder_read(m, buf, sizeof buf, &got)) == MAIL_OK && got)
    total += got;
  check(lm_rc == MAIL_OK && total > 500, "MIME build output");
  inside++;
  mail_mime_builder_free(m);
  inside--;
  report("MIME build");
}

int main(void)
{
  /* The interposer works: a libc call that allocates, made while armed,
   * is seen. */
  static char *(*volatile dup)(const char *) = strdup; /* not folded by the compiler */
  inside++;
  char *d = dup("x");
  inside--;
  if (!d || d[0] != 'x')
    return 1;
  free(d);
  if (!bypasses) {
    fprintf(stderr, "FAIL: the malloc interposer does not see libc's allocations\n");
    return 1;
  }
  bypasses = 0;

  smtp_send();
  pop3_retrieve();
  mime_parse();
  mime_build();
  check(hook_calls > 0, "the hooks were used");
  printf("%lu allocations through the hooks, %lu outside libmail calls\n", hook_calls,
         outside_calls);
  return failures ? 1 : 0;
}

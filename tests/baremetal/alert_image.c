/*
 * The bare-metal test image: libmail built for a Cortex-class ARM with
 * newlib and no sockets (-Dsockets=disabled), linked into a program that
 * sends one alert as a device would: a MIME message from the builder, over
 * a user transport, every allocation in a static arena (no malloc), the
 * clock and random source the device's own.
 *
 * The transport is a stub standing in for the modem or lwIP link: it plays
 * a scripted SMTP server and checks each command the library writes, so the
 * image is its own test. Under qemu-arm (semihosting: tests/baremetal/run.sh)
 * it exits 0 when the whole exchange matched; on a board it would do the
 * same over its UART. Output: one line with the result and the arena's
 * peak.
 */
#include <stdio.h>
#include <string.h>

#include <mail/mime_build.h>
#include <mail/smtp.h>

#include "../../examples/firmware/arena.h"

static _Alignas(16) unsigned char arena_mem[40 * 1024];

/* ------------------------------------------------------ the server stub */

/* What the client must send (a prefix of its line; "" for the message,
 * checked separately) and what the server answers. */
static const struct {
  const char *expect, *reply;
} script[] = {
  {NULL, "220 relay.example ESMTP\r\n"},
  {"EHLO device-17.example\r\n", "250-relay.example\r\n250-8BITMIME\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n"},
  {"MAIL FROM:<device-17@example.org>", "250 ok\r\n"},
  {"RCPT TO:<ops@example.org>", "250 ok\r\n"},
  {"DATA\r\n", "354 go ahead\r\n"},
  {"", "250 2.0.0 queued as A1\r\n"},
  {"QUIT\r\n", "221 bye\r\n"},
};
enum { NSTEPS = sizeof script / sizeof script[0] };

/* Replies queue up as commands arrive (the client pipelines MAIL, RCPT
 * and DATA), and reads hand them out. */
typedef struct stub {
  size_t next;         /* the script entry whose command is awaited */
  char out[512];       /* replies not read yet */
  size_t out_len, out_pos;
  char line[1024];     /* the client's current line */
  size_t len;
  int failed;
  size_t message_bytes;
  int saw_subject, saw_reading;
} stub;

static void fail(stub *st, const char *why)
{
  if (!st->failed)
    printf("image: step %u: %s\n", (unsigned)st->next, why);
  st->failed = 1;
}

static void queue_reply(stub *st, const char *r)
{
  size_t n = strlen(r);
  if (st->out_pos == st->out_len)
    st->out_pos = st->out_len = 0;
  if (st->out_len + n > sizeof st->out) {
    fail(st, "replies overflow");
    return;
  }
  memcpy(st->out + st->out_len, r, n);
  st->out_len += n;
}

/* A whole line from the client: a command, or a line of the message. */
static void client_line(stub *st)
{
  if (st->next >= NSTEPS) {
    fail(st, "the client wrote after QUIT");
    return;
  }
  const char *want = script[st->next].expect;
  if (!*want) {
    st->message_bytes += st->len;
    if (st->len == 3 && !memcmp(st->line, ".\r\n", 3)) {
      queue_reply(st, script[st->next++].reply);
      return;
    }
    static const char subject[] = "Subject: furnace 3 over temperature\r\n";
    if (st->len == sizeof subject - 1 && !memcmp(st->line, subject, st->len))
      st->saw_subject = 1;
    static const char reading[] = "reading 412 C";
    for (size_t i = 0; i + sizeof reading - 1 <= st->len; i++)
      if (!memcmp(st->line + i, reading, sizeof reading - 1))
        st->saw_reading = 1;
    return;
  }
  size_t wl = strlen(want);
  if (st->len < wl || memcmp(st->line, want, wl) != 0) {
    fail(st, "not the command the script expects");
    return;
  }
  queue_reply(st, script[st->next++].reply);
}

static int stub_read(void *user, unsigned char *buf, size_t cap, size_t *got, int timeout_ms)
{
  (void)timeout_ms;
  stub *st = user;
  if (st->failed)
    return MAIL_ERR_IO;
  if (st->out_pos == st->out_len)
    return st->next >= NSTEPS ? MAIL_ERR_CLOSED : MAIL_ERR_TIMEOUT; /* would wait forever */
  size_t n = st->out_len - st->out_pos;
  if (n > cap)
    n = cap;
  memcpy(buf, st->out + st->out_pos, n);
  st->out_pos += n;
  *got = n;
  return MAIL_OK;
}

static int stub_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                      int timeout_ms)
{
  (void)timeout_ms;
  stub *st = user;
  for (size_t i = 0; i < len && !st->failed; i++) {
    if (st->len == sizeof st->line) {
      fail(st, "a line longer than the stub takes");
      break;
    }
    st->line[st->len++] = (char)buf[i];
    if (buf[i] == '\n') {
      client_line(st);
      st->len = 0;
    }
  }
  *written = len;
  return st->failed ? MAIL_ERR_IO : MAIL_OK;
}

static void stub_close(void *user) { (void)user; }

static const mail_transport_ops stub_ops = {
  .version = 1,
  .read = stub_read,
  .write = stub_write,
  .close = stub_close,
};

/* ------------------------------------------------------ the device */

/* A millisecond tick (a board's SysTick); here it advances per call. */
static int64_t device_clock(void *user, int which)
{
  static int64_t tick = 1767225600000; /* 2026-01-01T00:00:00Z */
  (void)user;
  (void)which;
  return tick++;
}

/* The board's TRNG; here a fixed xorshift (no secret depends on it). */
static int device_random(void *user, unsigned char *buf, size_t len)
{
  static unsigned int x = 2463534242u;
  (void)user;
  for (size_t i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    buf[i] = (unsigned char)x;
  }
  return 0;
}

int main(void)
{
  arena a;
  arena_init(&a, arena_mem, sizeof arena_mem);
  mail_allocator hooks = arena_hooks(&a);
  static stub st;
  queue_reply(&st, script[0].reply); /* the greeting */
  st.next = 1;

  mail_mime_builder *m = NULL;
  mail_smtp *s = NULL;
  mail_smtp_envelope *e = NULL;
  int rc = mail_mime_builder_new(&m, &hooks);
  if (!rc)
    rc = mail_mime_builder_set_clock(m, device_clock, NULL);
  if (!rc)
    rc = mail_mime_builder_set_random(m, device_random, NULL);
  if (!rc)
    rc = mail_mime_builder_set_from(m, "Device 17", "device-17@example.org");
  if (!rc)
    rc = mail_mime_builder_add_to(m, NULL, "ops@example.org");
  if (!rc)
    rc = mail_mime_builder_set_subject(m, "furnace 3 over temperature");
  static const char text[] = "furnace 3: reading 412 C, limit 400 C\r\n";
  if (!rc)
    rc = mail_mime_builder_set_text(m, text, sizeof text - 1);

  if (!rc)
    rc = mail_smtp_new(&s, &hooks);
  if (!rc)
    rc = mail_conn_set_clock(mail_smtp_conn(s), device_clock, NULL);
  if (!rc)
    rc = mail_conn_set_random(mail_smtp_conn(s), device_random, NULL);
  if (!rc)
    rc = mail_conn_set_transport(mail_smtp_conn(s), &stub_ops, &st);
  if (!rc)
    rc = mail_smtp_set_client_name(s, "device-17.example");
  if (!rc)
    rc = mail_smtp_connect(s, "relay.example", 25, MAIL_SECURITY_NONE_INSECURE);
  if (!rc)
    rc = mail_smtp_envelope_new(&e, &hooks);
  if (!rc)
    rc = mail_smtp_envelope_set_from(e, "device-17@example.org");
  if (!rc)
    rc = mail_smtp_envelope_add_recipient(e, "ops@example.org", NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_body_mime(e, m);
  if (!rc)
    rc = mail_smtp_send(s, e);
  if (!rc)
    rc = mail_smtp_quit(s);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  mail_mime_builder_free(m);

  int ok = rc == MAIL_OK && !st.failed && st.next == NSTEPS && st.saw_subject &&
           st.saw_reading && a.used == 0 && a.fails == 0;
  printf("image: %s (%s), message %u bytes, arena peak %u of %u bytes, %u left in use\n",
         ok ? "alert sent" : "FAILED", mail_strerror(rc), (unsigned)st.message_bytes,
         (unsigned)a.peak, (unsigned)sizeof arena_mem, (unsigned)a.used);
  return ok ? 0 : 1;
}

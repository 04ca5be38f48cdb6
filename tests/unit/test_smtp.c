/* Unit tests for the SMTP engine's pieces: address checks, xtext, URLs,
 * the DATA transform (every split of the input gives the same bytes), and
 * CR/LF/NUL refused at every entry point that reaches the wire. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/smtp.h>
#include <mail/mime_build.h>

#include "../support/alloc.h"
#include "config.h"
#include "core/buf.h"
#include "core/mem.h"
#include "smtp/smtp_internal.h"

/* set_auth (smtp.h): a user name must be UTF-8; the password is bytes
 * without CR, LF or NUL, checked by SASLprep when SCRAM or PLAIN prepares
 * it (test_sasl). */
START_TEST(set_auth_utf8)
{
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_auth(s, "al\xff", "pw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_auth(s, "al\r\nice", "pw"), MAIL_ERR_INVALID);
  /* no line break in a password either, as in POP3 and NNTP */
  ck_assert_int_eq(mail_smtp_set_auth(s, "alice", "p\r\nw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_auth(s, "alice", "p\nw"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_auth(s, "alice", "p\xe4ss"), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_auth(s, "al\xc3\xaf" "ce", "p\xc3\xa4ss"), MAIL_OK);
  mail_smtp_free(s);
}
END_TEST

START_TEST(address_checks)
{
  ck_assert_int_eq(smtp_addr_check("a@b.example", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("a.b+c@b-x.example", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("\"a b\"@b.example", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("\"a\\\"b\"@b.example", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("a@[192.0.2.1]", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("j\xC3\xB6@b\xC3\xBC.example", 0), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("", 1), MAIL_OK);
  ck_assert_int_eq(smtp_addr_check("", 0), MAIL_ERR_SYNTAX);
  /* CR, LF, NUL: invalid wherever they are, quoted local part included */
  ck_assert_int_eq(smtp_addr_check("a\r\n@b.example", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(smtp_addr_check("\"a\r\nRCPT TO:<x@y>\"@b.example", 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(smtp_addr_check("a@b.example\n", 0), MAIL_ERR_INVALID);
  /* anything that would add a parameter or close the path */
  ck_assert_int_eq(smtp_addr_check("a@b.example> SIZE=1", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("a b@b.example", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("<a@b.example>", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("a@b..example", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("a..b@example", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("@example", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("a@", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check("\"a@b", 0), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_addr_check(NULL, 0), MAIL_ERR_INVALID);
}
END_TEST

START_TEST(xtext)
{
  mail_allocator a;
  mail_alloc_init(&a, NULL);
  mail_buf b;
  mail_buf_init(&b, &a, 0);
  ck_assert_int_eq(smtp_xtext_append(&b, "a+b=c d\xC3\xA9"), MAIL_OK);
  ck_assert_int_eq(mail_buf_terminate(&b), MAIL_OK);
  ck_assert_str_eq((char *)b.data, "a+2Bb+3Dc+20d+C3+A9");
  mail_buf_free(&b);
}
END_TEST

START_TEST(idna)
{
#if MAIL_WITH_IDNA
  mail_allocator a;
  mail_alloc_init(&a, NULL);
  mail_buf b;
  mail_buf_init(&b, &a, 0);
  ck_assert_int_eq(smtp_addr_append_alabel(&b, "u@b\xC3\xBC" "cher.example"), MAIL_OK);
  ck_assert_int_eq(mail_buf_terminate(&b), MAIL_OK);
  ck_assert_str_eq((char *)b.data, "u@xn--bcher-kva.example");
  mail_buf_clear(&b);
  ck_assert_int_eq(smtp_addr_append_alabel(&b, "u@plain.example"), MAIL_OK);
  ck_assert_int_eq(mail_buf_terminate(&b), MAIL_OK);
  ck_assert_str_eq((char *)b.data, "u@plain.example");
  mail_buf_free(&b);
#endif
}
END_TEST

START_TEST(urls)
{
  smtp_url u;
  ck_assert_int_eq(smtp_url_parse("smtp://mx.example", &u), MAIL_OK);
  ck_assert_uint_eq(u.flags, 0);
  ck_assert_uint_eq(u.port, 25);
  ck_assert_str_eq(u.host, "mx.example");
  ck_assert_int_eq(smtp_url_parse("submission://mx.example/", &u), MAIL_OK);
  ck_assert_uint_eq(u.port, 587);
  ck_assert_int_eq(smtp_url_parse("smtps://[::1]:12465", &u), MAIL_OK);
  ck_assert(u.flags & MAIL_URL_IMPLICIT_TLS);
  ck_assert_uint_eq(u.port, 12465);
  ck_assert_str_eq(u.host, "::1");
  ck_assert_int_eq(smtp_url_parse("lmtp:///run/dovecot/lmtp", &u), MAIL_OK);
  ck_assert(u.flags & SMTP_URL_LMTP);
  ck_assert_str_eq(u.path, "/run/dovecot/lmtp");
  ck_assert_int_eq(smtp_url_parse("LMTP://127.0.0.1:12024", &u), MAIL_OK);
  ck_assert_uint_eq(u.port, 12024);
  ck_assert_int_eq(smtp_url_parse("smtp://mx.example:0", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("smtp://mx.example:70000", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("smtp://user@mx.example", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("http://mx.example", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("smtp://", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("smtp:///sock", &u), MAIL_ERR_SYNTAX);
  ck_assert_int_eq(smtp_url_parse("smtp://mx.example\r\nQUIT", &u), MAIL_ERR_INVALID);
}
END_TEST

/* The bytes queued on s's connection (nothing was written: the queue
 * starts at its storage, which ends where mail_conn_out_room() points). */
static const unsigned char *queued(mail_smtp *s, size_t *n)
{
  unsigned char *at;
  size_t room;
  ck_assert_int_eq(mail_conn_out_room(s->conn, 0, &at, &room), MAIL_OK);
  *n = mail_conn_out_pending(s->conn);
  return at - *n;
}

/* Transform in, split into pieces at the given points, for DATA: queued
 * as the session queues it, then the end of the data. */
static size_t xform_split(const char *in, size_t n, const size_t *cuts, size_t ncuts, int strict,
                          unsigned char *out, int *rc)
{
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  s->strict = strict;
  smtp_tx tx;
  memset(&tx, 0, sizeof tx);
  mail_dot_stuff_init(&tx.dot);
  size_t start = 0, o;
  for (size_t k = 0; k <= ncuts; k++) {
    size_t end = k < ncuts ? cuts[k] : n;
    size_t before = mail_conn_out_pending(s->conn);
    *rc = smtp_data_queue(s, &tx, (const unsigned char *)in + start, end - start);
    if (*rc) {
      /* refused: nothing of the piece is queued */
      ck_assert_uint_eq(mail_conn_out_pending(s->conn), before);
      break;
    }
    start = end;
  }
  const unsigned char *q = queued(s, &o);
  if (o) /* nothing queued: q may be NULL */
    memcpy(out, q, o);
  if (!*rc) {
    size_t olen;
    *rc = smtp_data_end(&tx, strict, out + o, &olen);
    o += *rc ? 0 : olen;
  }
  mail_smtp_free(s);
  return o;
}

/* A body whose stuffed form is larger than the room the output queue has
 * is queued in pieces that fit; the bytes are those of one
 * mail_dot_stuff() over all of it. */
START_TEST(data_queue_in_pieces)
{
  static unsigned char in[20000], want[2 * sizeof in + 2];
  for (size_t i = 0; i < sizeof in; i++)
    in[i] = i % 3 == 0 ? '\n' : i % 3 == 1 ? '.' : 'x'; /* every byte grows: LF, leading dots */
  mail_dot_stuffer d;
  mail_dot_stuff_init(&d);
  size_t wlen;
  ck_assert_int_eq(mail_dot_stuff(&d, 0, in, sizeof in, want, &wlen), MAIL_OK);
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  smtp_tx tx;
  memset(&tx, 0, sizeof tx);
  mail_dot_stuff_init(&tx.dot);
  ck_assert_int_eq(smtp_data_queue(s, &tx, in, sizeof in), MAIL_OK);
  size_t o;
  const unsigned char *q = queued(s, &o);
  ck_assert_uint_eq(o, wlen);
  ck_assert_int_eq(memcmp(q, want, o), 0);
  mail_smtp_free(s);
}
END_TEST

START_TEST(data_transform_every_split)
{
  static const char in[] = ".a\r\nb\n.\n\r.\r\n.\rc\r\n\r\n..d\rlast.";
  static const char want[] = "..a\r\nb\r\n..\r\n\r\n..\r\n..\r\nc\r\n\r\n...d\r\nlast.\r\n.\r\n";
  size_t n = strlen(in);
  for (size_t a = 0; a <= n; a++)
    for (size_t b = a; b <= n; b++) {
      size_t cuts[2] = {a, b};
      unsigned char out[256];
      int rc;
      size_t o = xform_split(in, n, cuts, 2, 0, out, &rc);
      ck_assert_int_eq(rc, MAIL_OK);
      ck_assert_uint_eq(o, strlen(want));
      ck_assert_msg(memcmp(out, want, o) == 0, "split %zu/%zu", a, b);
    }
}
END_TEST

START_TEST(data_transform_edges)
{
  unsigned char out[64];
  int rc;
  size_t o = xform_split("", 0, NULL, 0, 0, out, &rc);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert_uint_eq(o, 3);
  ck_assert(memcmp(out, ".\r\n", 3) == 0);
  o = xform_split("x\r", 2, NULL, 0, 0, out, &rc);
  ck_assert_uint_eq(o, 6);
  ck_assert(memcmp(out, "x\r\n.\r\n", 6) == 0);
  /* strict mode */
  xform_split("a\r\nb\nc", 6, NULL, 0, 1, out, &rc);
  ck_assert_int_eq(rc, MAIL_ERR_INVALID);
  xform_split("a\rb", 3, NULL, 0, 1, out, &rc);
  ck_assert_int_eq(rc, MAIL_ERR_INVALID);
  xform_split("a\r", 2, NULL, 0, 1, out, &rc);
  ck_assert_int_eq(rc, MAIL_ERR_INVALID);
  o = xform_split(".\r\n", 3, NULL, 0, 1, out, &rc);
  ck_assert_int_eq(rc, MAIL_OK);
  ck_assert(memcmp(out, "..\r\n.\r\n", 7) == 0);
}
END_TEST

/* CR, LF or NUL through every public entry point that reaches the wire:
 * MAIL_ERR_INVALID, and the session stays usable (nothing was sent). */
START_TEST(crlf_every_entry_point)
{
  mail_smtp_envelope *e;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, "a@b.example\r\nRSET"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, "\"a\r\nb\"@b.example"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, "\"x\r\nDATA\"@b.example", NULL),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, "x@b.example\n", NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, "x@b.example", NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_orcpt(e, 0, "x@b\r\n.example"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_set_envid(e, "id\r\nQUIT"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_set_envid(e, "id\xC3\xA9"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_set_notify(e, 0, MAIL_SMTP_NOTIFY_NEVER |
                                                       MAIL_SMTP_NOTIFY_SUCCESS),
                   MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_envelope_recipient_count(e), 1);
  mail_smtp_envelope_free(e);

  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "me\r\nMAIL FROM:<x@y>"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_client_name(s, "me example"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_connect_url(s, "smtp://mx\r\n.example"), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_connect(s, "mx.example\r\n", 25, MAIL_SECURITY_NONE_INSECURE),
                   MAIL_ERR_INVALID);
  ck_assert_str_eq(mail_smtp_state_name(s), "DISCONNECTED");
  mail_smtp_free(s);
}
END_TEST

START_TEST(session_api_edges)
{
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(NULL, NULL), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_ptr_nonnull(mail_smtp_conn(s));
  ck_assert_ptr_nonnull(mail_smtp_sasl(s));
  ck_assert_ptr_nonnull(mail_smtp_capabilities(s));
  ck_assert_ptr_null(mail_smtp_last_reply(s));
  ck_assert_int_eq(mail_smtp_noop(s), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_smtp_auth(s), MAIL_ERR_STATE);
  ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  ck_assert_int_eq(mail_smtp_set_security(s, 7), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_chunking(s, 9), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_timeouts(s, -2, 0), MAIL_ERR_INVALID);
  ck_assert_int_eq(mail_smtp_set_timeouts(s, 1000, 2000), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send(s, NULL), MAIL_ERR_INVALID);
  mail_smtp_free(s);
  mail_smtp_free(NULL);
  mail_smtp_envelope_free(NULL);
}
END_TEST

/* ---- a server that takes a large body, to check memory stays bounded ---- */

typedef struct fake {
  int stage;             /* 0 greeting read, 1 EHLO, 2 envelope, 3 body, 4 QUIT */
  char out[512];
  size_t olen, opos;
  unsigned char tail[5];
  uint64_t body_bytes;
  size_t max_write;
} fake;

static void fake_say(fake *f, const char *s)
{
  size_t n = strlen(s);
  memcpy(f->out + f->olen, s, n);
  f->olen += n;
}

static int fake_read(void *u, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  fake *f = u;
  if (f->stage == 0) {
    fake_say(f, "220 fake ESMTP\r\n");
    f->stage = 1;
  }
  if (f->opos == f->olen)
    return MAIL_ERR_TIMEOUT;
  size_t k = f->olen - f->opos < len ? f->olen - f->opos : len;
  memcpy(buf, f->out + f->opos, k);
  f->opos += k;
  if (f->opos == f->olen)
    f->opos = f->olen = 0;
  *got = k;
  return MAIL_OK;
}

/* Answer a pipelined envelope: 250 per MAIL/RCPT line, 354 for DATA. */
static void fake_envelope(fake *f, const unsigned char *buf, size_t len)
{
  for (size_t i = 0; i + 4 <= len; i++) {
    if (i && buf[i - 1] != '\n')
      continue;
    if (!memcmp(buf + i, "MAIL", 4) || !memcmp(buf + i, "RCPT", 4))
      fake_say(f, "250 ok\r\n");
    else if (!memcmp(buf + i, "DATA", 4))
      fake_say(f, "354 go\r\n");
  }
  f->stage = 3;
}

static int fake_write(void *u, const unsigned char *buf, size_t len, size_t *written, int timeout_ms)
{
  fake *f = u;
  if (len > f->max_write)
    f->max_write = len;
  *written = len;
  switch (f->stage) {
  case 1:
    fake_say(f, "250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
    f->stage = 2;
    break;
  case 2:
    fake_envelope(f, buf, len);
    break;
  case 3:
    f->body_bytes += len;
    for (size_t i = 0; i < len; i++) {
      memmove(f->tail, f->tail + 1, 4);
      f->tail[4] = buf[i];
    }
    if (!memcmp(f->tail, "\r\n.\r\n", 5)) {
      fake_say(f, "250 queued\r\n");
      f->stage = 4;
    }
    break;
  default:
    if (len >= 4 && !memcmp(buf, "QUIT", 4)) {
      fake_say(f, "221 bye\r\n");
    } else { /* the next transaction's envelope */
      fake_envelope(f, buf, len);
    }
  }
  return MAIL_OK;
}

static const mail_transport_ops fake_ops = {
  .version = MAIL_TRANSPORT_OPS_VERSION, .read = fake_read, .write = fake_write,
};

/* 20 MB of 100-byte lines with bare LF endings, from a callback. */
typedef struct gen {
  uint64_t left;
  unsigned col;
} gen;

static int gen_read(void *u, unsigned char *buf, size_t cap, size_t *got)
{
  gen *g = u;
  size_t n = 0;
  while (n < cap && g->left) {
    buf[n++] = g->col == 99 ? '\n' : (unsigned char)('a' + g->col % 26);
    g->col = (g->col + 1) % 100;
    g->left--;
  }
  *got = n;
  return 0;
}

START_TEST(large_body_streams_in_bounded_memory)
{
  mail_test_alloc ta;
  mail_test_alloc_init(&ta);
  fake f;
  memset(&f, 0, sizeof f);
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, mail_test_alloc_hooks(&ta)), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(mail_smtp_conn(s), &fake_ops, &f), MAIL_OK);
  ck_assert_int_eq(mail_smtp_connect(s, "fake", 25, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  mail_smtp_envelope *e;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, mail_test_alloc_hooks(&ta)), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_set_from(e, "a@b.example"), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_recipient(e, "c@d.example", NULL), MAIL_OK);
  gen g = {20u * 1000 * 1000, 0};
  ck_assert_int_eq(mail_smtp_envelope_set_body_callback(e, gen_read, &g, MAIL_SMTP_SIZE_UNKNOWN, 0),
                   MAIL_OK);
  size_t before = ta.peak_bytes;
  ck_assert_int_eq(mail_smtp_send(s, e), MAIL_OK);
  /* every LF became CRLF: 200,000 lines of 101 bytes, plus ".\r\n" */
  ck_assert_uint_eq(f.body_bytes, 200000ull * 101 + 3);
  ck_assert_msg(ta.peak_bytes - before < 1024 * 1024, "peak %zu bytes while streaming",
                ta.peak_bytes - before);
  ck_assert_uint_le(f.max_write, 512 * 1024);
  ck_assert_int_eq(mail_smtp_quit(s), MAIL_OK);
  mail_smtp_envelope_free(e);
  mail_smtp_free(s);
  ck_assert_uint_eq(ta.live, 0);
  mail_test_alloc_cleanup(&ta);
}
END_TEST

#if MAIL_WITH_MIME
/* A MIME message as the body, sent twice (rewound in between), with the
 * envelope taken from its headers. */
START_TEST(mime_body_sent_twice)
{
  fake f;
  memset(&f, 0, sizeof f);
  mail_smtp *s;
  ck_assert_int_eq(mail_smtp_new(&s, NULL), MAIL_OK);
  ck_assert_int_eq(mail_conn_set_transport(mail_smtp_conn(s), &fake_ops, &f), MAIL_OK);
  ck_assert_int_eq(mail_smtp_connect(s, "fake", 25, MAIL_SECURITY_NONE_INSECURE), MAIL_OK);
  mail_mime_builder *m;
  ck_assert_int_eq(mail_mime_builder_new(&m, NULL), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_from(m, NULL, "a@b.example"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_to(m, NULL, "c@d.example"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_add_bcc(m, NULL, "e@f.example"), MAIL_OK);
  ck_assert_int_eq(mail_mime_builder_set_text(m, ".dot\nline\n", 10), MAIL_OK);
  mail_smtp_envelope *e;
  ck_assert_int_eq(mail_smtp_envelope_new(&e, NULL), MAIL_OK);
  ck_assert_int_eq(mail_smtp_envelope_add_mime_addresses(e, m), MAIL_OK);
  ck_assert_uint_eq(mail_smtp_envelope_recipient_count(e), 2);
  ck_assert_str_eq(mail_smtp_envelope_recipient_address(e, 1), "e@f.example");
  ck_assert_int_eq(mail_smtp_envelope_set_body_mime(e, m), MAIL_OK);
  ck_assert_int_eq(mail_smtp_send(s, e), MAIL_OK);
  uint64_t first = f.body_bytes;
  ck_assert_uint_gt(first, 100);
  f.body_bytes = 0;
  ck_assert_int_eq(mail_smtp_send(s, e), MAIL_OK);
  ck_assert_uint_eq(f.body_bytes, first);
  ck_assert_int_eq(mail_smtp_envelope_recipient_status(e, 1), MAIL_OK);
  mail_smtp_envelope_free(e);
  mail_mime_builder_free(m);
  mail_smtp_free(s);
}
END_TEST
#endif

static Suite *suite(void)
{
  Suite *s = suite_create("smtp");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, address_checks);
  tcase_add_test(tc, set_auth_utf8);
  tcase_add_test(tc, xtext);
  tcase_add_test(tc, idna);
  tcase_add_test(tc, urls);
  tcase_add_test(tc, data_transform_every_split);
  tcase_add_test(tc, data_transform_edges);
  tcase_add_test(tc, data_queue_in_pieces);
  tcase_add_test(tc, crlf_every_entry_point);
  tcase_add_test(tc, session_api_edges);
  tcase_add_test(tc, large_body_streams_in_bounded_memory);
#if MAIL_WITH_MIME
  tcase_add_test(tc, mime_body_sent_twice);
#endif
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  SRunner *sr = srunner_create(suite());
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

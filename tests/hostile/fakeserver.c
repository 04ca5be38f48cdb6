/* The permissive in-memory server of the injection test (fakeserver.h). */
#include "fakeserver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fake_init(fake_server *f, int proto)
{
  memset(f, 0, sizeof *f);
  f->proto = proto;
}

void fake_free(fake_server *f)
{
  free(f->wire);
  free(f->lines);
  memset(f, 0, sizeof *f);
}

static void append(unsigned char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
  if (*len + n > *cap) {
    size_t c = *cap ? *cap : 4096;
    while (c < *len + n)
      c *= 2;
    unsigned char *p = realloc(*buf, c);
    if (!p)
      abort();
    *buf = p;
    *cap = c;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
}

void fake_say(fake_server *f, const char *s)
{
  size_t n = strlen(s);
  if (f->out_pos == f->out_len)
    f->out_pos = f->out_len = 0;
  if (f->out_len + n > sizeof f->out)
    abort(); /* a test bug: the script does not fit */
  memcpy(f->out + f->out_len, s, n);
  f->out_len += n;
}

size_t fake_wire_mark(const fake_server *f)
{
  return f->wire_len;
}

const char *fake_line_with(const fake_server *f, size_t mark, const char *needle)
{
  for (size_t i = mark; i < f->lines_len; i += strlen(f->lines + i) + 1)
    if (strstr(f->lines + i, needle))
      return f->lines + i;
  return NULL;
}

/* A trailing IMAP literal announcement: "{n}" or "{n+}" (n < 1e9). */
static int trailing_literal(const char *line, size_t n, size_t *len, int *sync)
{
  if (n < 3 || line[n - 1] != '}')
    return 0;
  size_t end = n - 1;
  *sync = 1;
  if (line[end - 1] == '+') {
    *sync = 0;
    end--;
  }
  size_t start = end;
  while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
    start--;
  if (start == end || start == 0 || line[start - 1] != '{' || end - start > 9)
    return 0;
  *len = (size_t)strtoul(line + start, NULL, 10);
  return 1;
}

static void smtp_answer(fake_server *f, const char *line)
{
  if (f->data_mode) {
    if (!strcmp(line, ".")) {
      f->data_mode = 0;
      fake_say(f, "250 2.0.0 queued\r\n");
    }
    return;
  }
  if (!strncmp(line, "EHLO", 4) || !strncmp(line, "LHLO", 4))
    fake_say(f, "250-fake.test\r\n250-DSN\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                "250-AUTH PLAIN LOGIN\r\n250 SIZE 1000000\r\n");
  else if (!strncmp(line, "DATA", 4)) {
    fake_say(f, "354 go\r\n");
    f->data_mode = 1;
  } else if (!strncmp(line, "AUTH", 4))
    fake_say(f, "235 2.7.0 ok\r\n");
  else if (!strncmp(line, "QUIT", 4))
    fake_say(f, "221 bye\r\n");
  else
    fake_say(f, "250 ok\r\n");
}

static void pop3_answer(fake_server *f, const char *line)
{
  if (!strcmp(line, "CAPA"))
    fake_say(f, "+OK\r\nUSER\r\nUIDL\r\nTOP\r\nPIPELINING\r\nSASL PLAIN\r\n.\r\n");
  else if (!strcmp(line, "STAT"))
    fake_say(f, "+OK 1 100\r\n");
  else if (!strcmp(line, "LIST"))
    fake_say(f, "+OK\r\n1 100\r\n.\r\n");
  else if (!strcmp(line, "UIDL"))
    fake_say(f, "+OK\r\n1 u1\r\n.\r\n");
  else if (!strncmp(line, "UIDL ", 5))
    fake_say(f, "+OK 1 u1\r\n");
  else if (!strncmp(line, "RETR", 4) || !strncmp(line, "TOP", 3))
    fake_say(f, "+OK\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
  else
    fake_say(f, "+OK\r\n");
}

static void imap_answer(fake_server *f, const char *line)
{
  char tag[32];
  size_t t = strcspn(line, " ");
  if (t == 0 || t >= sizeof tag) {
    fake_say(f, "* BAD what?\r\n");
    return;
  }
  memcpy(tag, line, t);
  tag[t] = 0;
  const char *cmd = line + t + (line[t] == ' ');
  char reply[256];
  if (!strncmp(cmd, "SELECT", 6) || !strncmp(cmd, "EXAMINE", 7)) {
    snprintf(reply, sizeof reply,
             "* 3 EXISTS\r\n* OK [UIDVALIDITY 7] u\r\n* FLAGS (\\Seen)\r\n%s OK [READ-WRITE] done\r\n",
             tag);
  } else if (!strncmp(cmd, "IDLE", 4)) {
    snprintf(reply, sizeof reply, "+ idling\r\n");
  } else if (!strncmp(cmd, "LOGOUT", 6)) {
    snprintf(reply, sizeof reply, "* BYE bye\r\n%s OK done\r\n", tag);
  } else {
    snprintf(reply, sizeof reply, "%s OK done\r\n", tag);
  }
  fake_say(f, reply);
}

static void nntp_answer(fake_server *f, const char *line)
{
  if (f->data_mode) {
    if (!strcmp(line, ".")) {
      fake_say(f, f->data_mode == 2 ? "235 thanks\r\n" : "240 posted\r\n");
      f->data_mode = 0;
    }
    return;
  }
  if (!strcmp(line, "CAPABILITIES"))
    fake_say(f, "101 caps\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nPOST\r\nHDR\r\nOVER MSGID\r\n"
                "LIST ACTIVE NEWSGROUPS HEADERS OVERVIEW.FMT\r\nNEWNEWS\r\nAUTHINFO USER\r\n.\r\n");
  else if (!strncmp(line, "GROUP", 5))
    fake_say(f, "211 1 1 1 g\r\n");
  else if (!strncmp(line, "LISTGROUP", 9))
    fake_say(f, "211 1 1 1 g\r\n1\r\n.\r\n");
  else if (!strncmp(line, "ARTICLE", 7))
    fake_say(f, "220 1 <a@b>\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
  else if (!strncmp(line, "HEAD", 4))
    fake_say(f, "221 1 <a@b>\r\nSubject: x\r\n.\r\n");
  else if (!strncmp(line, "BODY", 4))
    fake_say(f, "222 1 <a@b>\r\nbody\r\n.\r\n");
  else if (!strncmp(line, "STAT", 4))
    fake_say(f, "223 1 <a@b>\r\n");
  else if (!strncmp(line, "OVER", 4) || !strncmp(line, "XOVER", 5))
    fake_say(f, "224 overview\r\n.\r\n");
  else if (!strncmp(line, "HDR", 3) || !strncmp(line, "XHDR", 4))
    fake_say(f, "225 headers\r\n.\r\n");
  else if (!strncmp(line, "LIST", 4))
    fake_say(f, "215 list\r\n.\r\n");
  else if (!strncmp(line, "NEWNEWS", 7))
    fake_say(f, "230 news\r\n.\r\n");
  else if (!strncmp(line, "NEWGROUPS", 9))
    fake_say(f, "231 groups\r\n.\r\n");
  else if (!strncmp(line, "IHAVE", 5)) {
    fake_say(f, "335 send it\r\n");
    f->data_mode = 2;
  } else if (!strncmp(line, "POST", 4)) {
    fake_say(f, "340 send it\r\n");
    f->data_mode = 1;
  } else if (!strncmp(line, "AUTHINFO USER", 13))
    fake_say(f, "381 password\r\n");
  else if (!strncmp(line, "AUTHINFO PASS", 13))
    fake_say(f, "281 ok\r\n");
  else if (!strncmp(line, "MODE READER", 11))
    fake_say(f, "200 reader\r\n");
  else if (!strncmp(line, "QUIT", 4))
    fake_say(f, "205 bye\r\n");
  else if (!strncmp(line, "DATE", 4))
    fake_say(f, "111 20260101000000\r\n");
  else
    fake_say(f, "500 what?\r\n");
}

static void line_done(fake_server *f)
{
  size_t n = f->in_len;
  if (n && f->in[n - 1] == '\r')
    n--;
  if (!f->data_mode) { /* message data may hold anything */
    if (memchr(f->in, '\r', n))
      f->bare_cr = 1;
    if (memchr(f->in, 0, n))
      f->nul = 1;
    if (n >= 8 && !memcmp(f->in, "INJECTED", 8))
      f->injected = 1;
  }
  f->in[n] = 0;
  f->in_len = 0;
  append((unsigned char **)&f->lines, &f->lines_len, &f->lines_cap, f->in, n + 1);
  switch (f->proto) {
  case FAKE_SMTP:
    smtp_answer(f, f->in);
    return;
  case FAKE_POP3:
    pop3_answer(f, f->in);
    return;
  case FAKE_NNTP:
    nntp_answer(f, f->in);
    return;
  }
  size_t len;
  int sync;
  int first = !f->cont_line[0];
  if (first) {
    size_t k = n < sizeof f->cont_line - 1 ? n : sizeof f->cont_line - 1;
    memcpy(f->cont_line, f->in, k);
    f->cont_line[k] = 0;
  }
  if (trailing_literal(f->in, n, &len, &sync)) {
    /* the command goes on after the literal: answer it by its first line */
    f->literal_left = len;
    if (sync)
      fake_say(f, "+ go\r\n");
    return;
  }
  char cmd[sizeof f->cont_line];
  memcpy(cmd, f->cont_line, sizeof cmd);
  f->cont_line[0] = 0;
  imap_answer(f, cmd);
}

static int fake_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  (void)timeout_ms;
  fake_server *f = user;
  if (f->out_pos == f->out_len)
    return MAIL_ERR_TIMEOUT; /* nothing to say: the client waits for nothing */
  size_t k = f->out_len - f->out_pos < len ? f->out_len - f->out_pos : len;
  memcpy(buf, f->out + f->out_pos, k);
  f->out_pos += k;
  *got = k;
  return MAIL_OK;
}

static int fake_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                      int timeout_ms)
{
  (void)timeout_ms;
  fake_server *f = user;
  append(&f->wire, &f->wire_len, &f->wire_cap, buf, len);
  for (size_t i = 0; i < len; i++) {
    if (f->literal_left) {
      f->literal_left--;
      continue;
    }
    if (buf[i] == '\n') {
      line_done(f);
      continue;
    }
    if (f->in_len < sizeof f->in - 1)
      f->in[f->in_len++] = (char)buf[i];
  }
  *written = len;
  return MAIL_OK;
}

/* "TLS" that changes nothing but lets a session believe it is protected,
 * for the calls that send credentials only then. */
static int fake_start_tls(void *user, const char *host, int timeout_ms)
{
  (void)host, (void)timeout_ms;
  ((fake_server *)user)->tls = 1;
  return MAIL_OK;
}

static int fake_is_verified(void *user)
{
  return ((fake_server *)user)->tls;
}

static const mail_transport_ops fake_ops = {
  .version = MAIL_TRANSPORT_OPS_VERSION,
  .read = fake_read,
  .write = fake_write,
  .start_tls = fake_start_tls,
  .is_verified = fake_is_verified,
};

int fake_attach(fake_server *f, mail_conn *conn)
{
  return mail_conn_set_transport(conn, &fake_ops, f);
}

void fake_feed(fake_server *f, const void *data, size_t len)
{
  size_t w;
  fake_write(f, data, len, &w, 0);
}

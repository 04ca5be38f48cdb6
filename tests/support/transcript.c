/* The transcript runner (see transcript.h and tests/transcript/README.md). */
#include "transcript.h"

#include <dirent.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum item_kind {
  IT_SERVER,   /* S: bytes the server sends, one read chunk */
  IT_CLIENT,   /* C: bytes one client write call must hold exactly */
  IT_CLOSE,    /* the server closes */
  IT_TIMEOUT,  /* the next read times out */
  IT_TLS,      /* the client starts TLS here */
  IT_AGAIN,    /* the next read or write would block once */
  IT_PARTIAL   /* the next write takes only n bytes */
};

typedef struct item {
  int kind;
  int line;
  unsigned char *data;
  size_t len;
  size_t pos;  /* bytes of data already delivered or matched */
} item;

struct mail_transcript {
  item *items;
  size_t n, cap;
  size_t cur;

  int auto_again;
  int again_given;
  int closed;
  int tls;    /* 0 before TLS, then 13 (TLS 1.3-like) or 12 ("TLS 1.2") */
  size_t partial;

  int fault;          /* MAIL_TRANSCRIPT_FAULT_* armed */
  size_t fault_at;    /* server bytes before the fault */
  int fault_hit;      /* reached: 1 at the fault read, then 2 after a STALL's timeout */
  size_t served;      /* S: bytes handed out */
  size_t max_read, max_write;
  unsigned char *server;  /* the S: stream, built on demand */
  size_t server_len;

  size_t reads, writes, connects, closes;
  char host[256];
  unsigned int port;

  uint64_t rand_state;

  /* Feed mode (mail_transcript_attach_feed): the connection pumped, the
   * client's bytes drained and not yet taken by the script, the server's
   * bytes read from the script and not yet taken by the connection. */
  mail_conn *feed;
  unsigned char *fout;
  size_t fout_len, fout_cap;
  unsigned char fin[4096];
  size_t fin_off, fin_len;

  unsigned long mismatches;
  char first[1024];
  char report[1200];
};

static const char *kind_name(int kind)
{
  switch (kind) {
  case IT_SERVER: return "S:";
  case IT_CLIENT: return "C:";
  case IT_CLOSE: return "CLOSE";
  case IT_TIMEOUT: return "TIMEOUT";
  case IT_TLS: return "TLS";
  case IT_AGAIN: return "AGAIN";
  case IT_PARTIAL: return "PARTIAL";
  }
  return "?";
}

void mail_transcript_escape(const void *data, size_t len, char *out, size_t cap)
{
  const unsigned char *p = data;
  size_t o = 0;
  if (!cap)
    return;
  for (size_t i = 0; i < len; i++) {
    char tmp[8];
    unsigned char ch = p[i];
    if (ch == '\r')
      strcpy(tmp, "\\r");
    else if (ch == '\n')
      strcpy(tmp, "\\n");
    else if (ch == '\t')
      strcpy(tmp, "\\t");
    else if (ch == '\\')
      strcpy(tmp, "\\\\");
    else if (ch < 0x20 || ch >= 0x7f)
      snprintf(tmp, sizeof tmp, "\\x%02X", ch);
    else {
      tmp[0] = (char)ch;
      tmp[1] = '\0';
    }
    size_t k = strlen(tmp);
    /* Keep room for "..." and the NUL. */
    if (o + k + 4 > cap) {
      if (cap >= 4) {
        if (o > cap - 4)
          o = cap - 4;
        memcpy(out + o, "...", 3);
        o += 3;
      }
      break;
    }
    memcpy(out + o, tmp, k);
    o += k;
  }
  out[o < cap ? o : cap - 1] = '\0';
}

/* ------------------------------------------------------------------ */
/* Parsing                                                              */
/* ------------------------------------------------------------------ */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int hexval(int ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* Decode the escapes of s[0..n) into out (at most n bytes). -1 on a bad escape. */
static long unescape(const char *s, size_t n, unsigned char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = (unsigned char)s[i];
      continue;
    }
    if (++i >= n)
      return -1;
    switch (s[i]) {
    case 'r': out[o++] = '\r'; break;
    case 'n': out[o++] = '\n'; break;
    case 't': out[o++] = '\t'; break;
    case '0': out[o++] = '\0'; break;
    case '\\': out[o++] = '\\'; break;
    case 'x': {
      if (i + 2 >= n)
        return -1;
      int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
      if (hi < 0 || lo < 0)
        return -1;
      out[o++] = (unsigned char)(hi * 16 + lo);
      i += 2;
      break;
    }
    default:
      return -1;
    }
  }
  return (long)o;
}

static item *add_item(mail_transcript *t, int kind, int line)
{
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 16;
    item *ni = realloc(t->items, ncap * sizeof *ni);
    if (!ni)
      return NULL;
    t->items = ni;
    t->cap = ncap;
  }
  item *it = &t->items[t->n++];
  memset(it, 0, sizeof *it);
  it->kind = kind;
  it->line = line;
  return it;
}

static int append_bytes(item *it, const char *s, size_t n)
{
  unsigned char *d = realloc(it->data, it->len + n + 1);
  if (!d)
    return -1;
  it->data = d;
  long k = unescape(s, n, d + it->len);
  if (k < 0)
    return -2;
  it->len += (size_t)k;
  return 0;
}

static int parse_line(mail_transcript *t, const char *s, size_t n, int lineno, char *err,
                      size_t errlen)
{
  while (n && (s[n - 1] == '\r'))
    n--;
  size_t lead = 0;
  while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
    lead++;
  if (lead == n || s[lead] == '#')
    return 0;
  if (n >= 2 && (s[0] == 'S' || s[0] == 'C') && (s[1] == ':' || s[1] == '+')) {
    int kind = s[0] == 'S' ? IT_SERVER : IT_CLIENT;
    size_t off = 2;
    if (off < n && s[off] == ' ')
      off++;
    if (off == n) {
      set_err(err, errlen, "line %d: no bytes after %.2s", lineno, s);
      return -1;
    }
    item *it;
    if (s[1] == '+') {
      if (!t->n || t->items[t->n - 1].kind != kind) {
        set_err(err, errlen, "line %d: %c+ must follow a %c: line", lineno, s[0], s[0]);
        return -1;
      }
      it = &t->items[t->n - 1];
    } else {
      it = add_item(t, kind, lineno);
      if (!it)
        goto nomem;
    }
    int rc = append_bytes(it, s + off, n - off);
    if (rc == -1)
      goto nomem;
    if (rc == -2) {
      set_err(err, errlen, "line %d: bad escape (use \\r \\n \\t \\0 \\\\ \\xHH)", lineno);
      return -1;
    }
    return 0;
  }
  char word[32];
  size_t w = 0;
  size_t i = lead;
  while (i < n && s[i] != ' ' && w + 1 < sizeof word)
    word[w++] = s[i++];
  word[w] = '\0';
  while (i < n && s[i] == ' ')
    i++;
  int kind = -1;
  if (!strcmp(word, "CLOSE"))
    kind = IT_CLOSE;
  else if (!strcmp(word, "TIMEOUT"))
    kind = IT_TIMEOUT;
  else if (!strcmp(word, "TLS"))
    kind = IT_TLS;
  else if (!strcmp(word, "AGAIN"))
    kind = IT_AGAIN;
  else if (!strcmp(word, "PARTIAL"))
    kind = IT_PARTIAL;
  if (kind < 0) {
    set_err(err, errlen, "line %d: unknown directive \"%s\"", lineno, word);
    return -1;
  }
  size_t arg = 0;
  if (kind == IT_PARTIAL) {
    if (i == n) {
      set_err(err, errlen, "line %d: PARTIAL needs a byte count", lineno);
      return -1;
    }
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
      arg = arg * 10 + (size_t)(s[i] - '0');
    if (arg == 0) {
      set_err(err, errlen, "line %d: PARTIAL needs a byte count above 0", lineno);
      return -1;
    }
  }
  if (kind == IT_TLS && n - i == 3 && memcmp(s + i, "1.2", 3) == 0) {
    arg = 12; /* "TLS 1.2": tls-unique exists too */
    i = n;
  }
  if (i != n) {
    set_err(err, errlen, "line %d: unexpected text after %s", lineno, word);
    return -1;
  }
  item *it = add_item(t, kind, lineno);
  if (!it)
    goto nomem;
  it->len = arg;
  return 0;
nomem:
  set_err(err, errlen, "out of memory");
  return -1;
}

mail_transcript *mail_transcript_from_string(const char *text, char *err, size_t errlen)
{
  if (err && errlen)
    err[0] = '\0';
  mail_transcript *t = calloc(1, sizeof *t);
  if (!t) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  int lineno = 0;
  const char *p = text;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    lineno++;
    if (parse_line(t, p, len, lineno, err, errlen) != 0) {
      mail_transcript_free(t);
      return NULL;
    }
    p += len + (nl ? 1 : 0);
  }
  mail_transcript_rewind(t);
  return t;
}

mail_transcript *mail_transcript_from_file(const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_err(err, errlen, "cannot open %s", path);
    return NULL;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (!buf)
      break;
    if (len + 1 >= cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + len, 1, cap - len - 1, f);
    len += k;
    if (k == 0)
      break;
  }
  fclose(f);
  if (!buf) {
    set_err(err, errlen, "out of memory");
    return NULL;
  }
  buf[len] = '\0';
  if (strlen(buf) != len) {
    free(buf);
    set_err(err, errlen, "%s: NUL byte in file (write \\0)", path);
    return NULL;
  }
  mail_transcript *t = mail_transcript_from_string(buf, err, errlen);
  free(buf);
  return t;
}

void mail_transcript_free(mail_transcript *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    free(t->items[i].data);
  free(t->items);
  free(t->server);
  free(t->fout);
  free(t);
}

void mail_transcript_rewind(mail_transcript *t)
{
  for (size_t i = 0; i < t->n; i++)
    t->items[i].pos = 0;
  t->cur = 0;
  t->again_given = 0;
  t->closed = 0;
  t->tls = 0;
  t->partial = 0;
  t->fault_hit = 0;
  t->served = 0;
  t->reads = t->writes = t->connects = t->closes = 0;
  t->host[0] = '\0';
  t->port = 0;
  t->rand_state = UINT64_C(0x9E3779B97F4A7C15);
  t->mismatches = 0;
  t->first[0] = '\0';
  t->report[0] = '\0';
  t->fout_len = 0;
  t->fin_off = t->fin_len = 0;
  t->feed = NULL; /* attach_feed() again: the connection is a new one */
}

/* ------------------------------------------------------------------ */
/* Playing                                                              */
/* ------------------------------------------------------------------ */

static void mismatch(mail_transcript *t, const char *fmt, ...)
{
  if (t->mismatches++ == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->first, sizeof t->first, fmt, ap);
    va_end(ap);
  }
}

static void describe(const item *it, char *out, size_t cap)
{
  char esc[400];
  if (it->kind == IT_SERVER || it->kind == IT_CLIENT) {
    mail_transcript_escape(it->data + it->pos, it->len - it->pos, esc, sizeof esc);
    snprintf(out, cap, "line %d: %s %s", it->line, kind_name(it->kind), esc);
  } else if (it->kind == IT_PARTIAL) {
    snprintf(out, cap, "line %d: PARTIAL %zu", it->line, it->len);
  } else {
    snprintf(out, cap, "line %d: %s", it->line, kind_name(it->kind));
  }
}

static item *current(mail_transcript *t)
{
  return t->cur < t->n ? &t->items[t->cur] : NULL;
}

static int take_again(mail_transcript *t)
{
  if (t->auto_again && !t->again_given) {
    t->again_given = 1;
    return 1;
  }
  t->again_given = 0;
  return 0;
}

static int tr_connect(void *user, const char *host, unsigned int port, int timeout_ms)
{
  (void)timeout_ms;
  mail_transcript *t = user;
  t->connects++;
  snprintf(t->host, sizeof t->host, "%s", host ? host : "");
  t->port = port;
  return MAIL_OK;
}

static int tr_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  (void)timeout_ms;
  mail_transcript *t = user;
  char what[512];
  t->reads++;
  *got = 0;
  if (take_again(t))
    return MAIL_ERR_AGAIN;
  if (t->fault && !t->fault_hit && t->served >= t->fault_at)
    t->fault_hit = 1;
  if (t->fault_hit) {
    if (t->fault == MAIL_TRANSCRIPT_FAULT_CLOSE)
      return MAIL_ERR_CLOSED;
    if (t->fault == MAIL_TRANSCRIPT_FAULT_RESET)
      return MAIL_ERR_IO;
    if (t->fault_hit == 1) {
      t->fault_hit = 2;
      return MAIL_ERR_TIMEOUT;
    }
    /* After the stall: the rest of the server's bytes, late. */
    item *it;
    while ((it = current(t)) && it->kind != IT_SERVER && it->kind != IT_CLOSE)
      t->cur++;
    if (!it || it->kind == IT_CLOSE)
      return MAIL_ERR_CLOSED;
  }
  item *it = current(t);
  if (!it) {
    if (t->closed)
      return MAIL_ERR_CLOSED;
    mismatch(t, "read #%zu past the end of the transcript", t->reads);
    return MAIL_ERR_CLOSED;
  }
  switch (it->kind) {
  case IT_AGAIN:
    t->cur++;
    return MAIL_ERR_AGAIN;
  case IT_SERVER: {
    size_t k = it->len - it->pos;
    if (k > len)
      k = len;
    if (t->max_read && k > t->max_read)
      k = t->max_read;
    if (t->fault && !t->fault_hit && k > t->fault_at - t->served)
      k = t->fault_at - t->served;
    memcpy(buf, it->data + it->pos, k);
    it->pos += k;
    t->served += k;
    if (it->pos == it->len)
      t->cur++;
    *got = k;
    return MAIL_OK;
  }
  case IT_CLOSE:
    t->closed = 1;
    t->cur++;
    return MAIL_ERR_CLOSED;
  case IT_TIMEOUT:
    t->cur++;
    return MAIL_ERR_TIMEOUT;
  default:
    describe(it, what, sizeof what);
    mismatch(t, "read #%zu: the client reads, but the transcript expects %s", t->reads, what);
    /* A real server would wait for the client: the read times out. */
    return MAIL_ERR_TIMEOUT;
  }
}

/* A write under a write bound: take at most max_write bytes and compare
 * them with the client's expected bytes as one stream (C: items in a row,
 * PARTIAL items skipped). */
static int write_bounded(mail_transcript *t, const unsigned char *buf, size_t len,
                         size_t *written)
{
  size_t take = len < t->max_write ? len : t->max_write, done = 0;
  t->partial = 0;
  while (done < take) {
    item *it = current(t);
    while (it && it->kind == IT_PARTIAL) {
      t->cur++;
      it = current(t);
    }
    if (!it || it->kind != IT_CLIENT)
      break; /* a short write: the rest goes when the script expects it */
    size_t k = it->len - it->pos;
    if (k > take - done)
      k = take - done;
    if (memcmp(buf + done, it->data + it->pos, k) != 0) {
      char exp[400], got[400];
      mail_transcript_escape(it->data + it->pos, k, exp, sizeof exp);
      mail_transcript_escape(buf + done, k, got, sizeof got);
      mismatch(t, "write #%zu (line %d, bounded writes): expected \"%s\", got \"%s\"", t->writes,
               it->line, exp, got);
      return MAIL_ERR_IO;
    }
    it->pos += k;
    done += k;
    if (it->pos == it->len)
      t->cur++;
  }
  *written = done;
  return MAIL_OK;
}

static int tr_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                    int timeout_ms)
{
  (void)timeout_ms;
  mail_transcript *t = user;
  char got[400], want[512];
  t->writes++;
  *written = 0;
  if (take_again(t))
    return MAIL_ERR_AGAIN;
  if (t->fault_hit) {
    if (t->fault == MAIL_TRANSCRIPT_FAULT_RESET)
      return MAIL_ERR_IO;
    *written = len; /* taken and dropped: nobody reads them */
    return MAIL_OK;
  }
  item *it = current(t);
  while (it && it->kind == IT_PARTIAL) {
    t->partial = it->len;
    t->cur++;
    it = current(t);
  }
  if (t->max_write && it && it->kind == IT_CLIENT)
    return write_bounded(t, buf, len, written);
  mail_transcript_escape(buf, len, got, sizeof got);
  if (t->closed && (!it || it->kind != IT_CLIENT)) {
    mismatch(t, "write #%zu after the server closed: \"%s\"", t->writes, got);
    return MAIL_ERR_CLOSED;
  }
  if (!it) {
    mismatch(t, "write #%zu past the end of the transcript: \"%s\"", t->writes, got);
    return MAIL_ERR_IO;
  }
  if (it->kind == IT_AGAIN) {
    t->cur++;
    return MAIL_ERR_AGAIN;
  }
  if (it->kind != IT_CLIENT) {
    describe(it, want, sizeof want);
    mismatch(t, "write #%zu: the client wrote \"%s\" but the transcript expects %s", t->writes,
             got, want);
    return MAIL_ERR_IO;
  }
  size_t left = it->len - it->pos;
  if (len != left || memcmp(buf, it->data + it->pos, len) != 0) {
    char exp[400];
    mail_transcript_escape(it->data + it->pos, left, exp, sizeof exp);
    mismatch(t, "write #%zu (line %d): expected one write of \"%s\", got \"%s\"", t->writes,
             it->line, exp, got);
    return MAIL_ERR_IO;
  }
  size_t take = len;
  if (t->partial && t->partial < take)
    take = t->partial;
  t->partial = 0;
  it->pos += take;
  if (it->pos == it->len)
    t->cur++;
  *written = take;
  return MAIL_OK;
}

static int tr_start_tls(void *user, const char *host, int timeout_ms)
{
  (void)host;
  (void)timeout_ms;
  mail_transcript *t = user;
  if (t->fault_hit || (t->fault && t->served >= t->fault_at && t->fault != MAIL_TRANSCRIPT_FAULT_STALL)) {
    t->fault_hit = t->fault_hit ? t->fault_hit : 1;
    return MAIL_ERR_TLS; /* the handshake meets the fault */
  }
  item *it = current(t);
  if (!it || it->kind != IT_TLS) {
    char what[512];
    if (it)
      describe(it, what, sizeof what);
    else
      snprintf(what, sizeof what, "the end");
    mismatch(t, "the client started TLS, but the transcript expects %s", what);
    return MAIL_ERR_TLS;
  }
  t->tls = it->len == 12 ? 12 : 13;
  t->cur++;
  return MAIL_OK;
}

static int tr_is_verified(void *user)
{
  return ((mail_transcript *)user)->tls != 0;
}

static int tr_channel_binding(void *user, int type, unsigned char *out, size_t cap, size_t *len)
{
  mail_transcript *t = user;
  if (!t->tls || (type == MAIL_CB_TLS_UNIQUE && t->tls != 12))
    return MAIL_ERR_UNSUPPORTED; /* tls-unique: TLS 1.2 only */
  *len = MAIL_TEST_CB_LEN;
  if (cap < MAIL_TEST_CB_LEN)
    return MAIL_ERR_BUFFER;
  out[0] = (unsigned char)type;
  for (size_t i = 1; i < MAIL_TEST_CB_LEN; i++)
    out[i] = (unsigned char)(i - 1);
  return MAIL_OK;
}

static void tr_close(void *user)
{
  ((mail_transcript *)user)->closes++;
}

static const mail_transport_ops transcript_ops = {
  .version = MAIL_TRANSPORT_OPS_VERSION,
  .connect = tr_connect,
  .read = tr_read,
  .write = tr_write,
  .start_tls = tr_start_tls,
  .is_verified = tr_is_verified,
  .channel_binding = tr_channel_binding,
  .close = tr_close,
};

const mail_transport_ops *mail_transcript_ops(void)
{
  return &transcript_ops;
}

int64_t mail_test_fixed_clock(void *user, int which)
{
  (void)user;
  return which == MAIL_CLOCK_REALTIME ? MAIL_TEST_CLOCK_REALTIME_MS : MAIL_TEST_CLOCK_MONOTONIC_MS;
}

int mail_test_fixed_random(void *user, unsigned char *buf, size_t len)
{
  mail_transcript *t = user;
  uint64_t x = t ? t->rand_state : UINT64_C(0x9E3779B97F4A7C15);
  for (size_t i = 0; i < len; i++) {
    /* xorshift64*: a fixed, well-spread stream; not for real use. */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    buf[i] = (unsigned char)((x * UINT64_C(0x2545F4914F6CDD1D)) >> 56);
  }
  if (t)
    t->rand_state = x;
  return 0;
}

int mail_transcript_attach(mail_transcript *t, mail_conn *c)
{
  t->feed = NULL;
  int rc = mail_conn_set_transport(c, &transcript_ops, t);
  if (rc)
    return rc;
  mail_conn_set_clock(c, mail_test_fixed_clock, t);
  mail_conn_set_random(c, mail_test_fixed_random, t);
  return MAIL_OK;
}

/* ------------------------------------------------------------ feed mode */

int mail_transcript_attach_feed(mail_transcript *t, mail_conn *c)
{
  int rc = mail_conn_set_feed(c, MAIL_FEED_CALLER_TLS);
  if (rc)
    return rc;
  mail_conn_set_clock(c, mail_test_fixed_clock, t);
  mail_conn_set_random(c, mail_test_fixed_random, t);
  t->feed = c;
  return MAIL_OK;
}

/* A failure the script gave for a read or write: the caller's I/O fails. */
static void feed_fail(mail_transcript *t, int rc)
{
  mail_conn_feed_error(t->feed, mail_status_is_fatal(rc) ? rc : MAIL_ERR_IO);
}

/* The client started TLS: the script's TLS item answers, as the
 * transport's start_tls would. */
static void feed_tls(mail_transcript *t)
{
  int rc = tr_start_tls(t, NULL, 0);
  if (rc == MAIL_OK) {
    static const int types[] = {MAIL_CB_TLS_EXPORTER, MAIL_CB_TLS_SERVER_END_POINT,
                                MAIL_CB_TLS_UNIQUE};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
      unsigned char cb[64];
      size_t n = 0;
      if (tr_channel_binding(t, types[i], cb, sizeof cb, &n) == MAIL_OK)
        mail_conn_feed_set_channel_binding(t->feed, types[i], cb, n);
    }
  }
  mail_conn_feed_tls_done(t->feed, rc, rc == MAIL_OK ? tr_is_verified(t) : 0);
}

/* Drain the client's bytes into fout; 1 when anything came. */
static int feed_drain(mail_transcript *t)
{
  int any = 0;
  for (;;) {
    if (t->fout_cap - t->fout_len < 4096) {
      size_t ncap = t->fout_cap ? t->fout_cap * 2 : 8192;
      unsigned char *n = realloc(t->fout, ncap);
      if (!n)
        abort(); /* test memory, not the library's */
      t->fout = n;
      t->fout_cap = ncap;
    }
    size_t got = 0;
    if (mail_conn_drain(t->feed, t->fout + t->fout_len, 4096, &got) != MAIL_OK || !got)
      return any;
    t->fout_len += got;
    any = 1;
  }
}

/* Drain and hand what came to the script as one write call; 1 when
 * there was anything. */
static int feed_write(mail_transcript *t)
{
  feed_drain(t);
  if (!t->fout_len)
    return 0;
  size_t w = 0;
  int rc = tr_write(t, t->fout, t->fout_len, &w, 0);
  if (rc == MAIL_OK) {
    memmove(t->fout, t->fout + w, t->fout_len - w);
    t->fout_len -= w;
  } else if (rc != MAIL_ERR_AGAIN) {
    t->fout_len = 0;
    feed_fail(t, rc);
  }
  return 1;
}

void mail_transcript_pump_flush(mail_transcript *t)
{
  /* Bounded: an AGAIN or PARTIAL item of the script only delays. */
  for (int i = 0; t->feed && i < 1000 && feed_write(t); i++)
    ;
}

int mail_transcript_pump(mail_transcript *t)
{
  if (!t->feed)
    return 0;
  mail_conn *c = t->feed;
  int want = mail_conn_want(c);
  if (want & MAIL_WANT_TLS) {
    feed_tls(t);
    return 1;
  }
  if (feed_write(t))
    return 1;
  if (!(want & MAIL_WANT_READ))
    return 0;
  if (t->fin_off == t->fin_len) {
    size_t got = 0;
    int rc = tr_read(t, t->fin, sizeof t->fin, &got, 0);
    if (rc == MAIL_ERR_AGAIN)
      return 1;
    if (rc == MAIL_ERR_CLOSED) {
      mail_conn_feed_eof(c);
      return 1;
    }
    if (rc != MAIL_OK) {
      feed_fail(t, rc);
      return 1;
    }
    t->fin_off = 0;
    t->fin_len = got;
  }
  size_t taken = 0;
  if (mail_conn_feed(c, t->fin + t->fin_off, t->fin_len - t->fin_off, &taken) == MAIL_ERR_NOMEM)
    mail_conn_feed_error(c, MAIL_ERR_IO); /* a caller that cannot go on */
  t->fin_off += taken;
  return 1;
}

void mail_transcript_set_auto_again(mail_transcript *t, int on)
{
  t->auto_again = on != 0;
  t->again_given = 0;
}

void mail_transcript_set_fault(mail_transcript *t, int kind, size_t at)
{
  t->fault = kind;
  t->fault_at = at;
  t->fault_hit = 0;
}

int mail_transcript_fault_hit(const mail_transcript *t)
{
  return t->fault_hit != 0;
}

void mail_transcript_set_io_bounds(mail_transcript *t, size_t max_read, size_t max_write)
{
  t->max_read = max_read;
  t->max_write = max_write;
}

static void build_server(mail_transcript *t)
{
  if (t->server)
    return;
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->items[i].kind == IT_SERVER)
      n += t->items[i].len;
  t->server = malloc(n + 1);
  if (!t->server)
    abort(); /* test memory, not the library's */
  t->server_len = 0;
  for (size_t i = 0; i < t->n; i++)
    if (t->items[i].kind == IT_SERVER) {
      memcpy(t->server + t->server_len, t->items[i].data, t->items[i].len);
      t->server_len += t->items[i].len;
    }
}

const unsigned char *mail_transcript_server_bytes(mail_transcript *t)
{
  build_server(t);
  return t->server;
}

size_t mail_transcript_server_len(mail_transcript *t)
{
  build_server(t);
  return t->server_len;
}

int mail_transcript_ok(const mail_transcript *t)
{
  return t->mismatches == 0;
}

int mail_transcript_done(const mail_transcript *t)
{
  return t->mismatches == 0 && t->cur == t->n;
}

const char *mail_transcript_report(mail_transcript *t)
{
  if (t->mismatches) {
    snprintf(t->report, sizeof t->report, "%s%s", t->first,
             t->mismatches > 1 ? " (and later mismatches)" : "");
  } else if (t->cur < t->n) {
    char what[512];
    describe(&t->items[t->cur], what, sizeof what);
    snprintf(t->report, sizeof t->report, "%zu item(s) not played; next: %s", t->n - t->cur, what);
  } else {
    t->report[0] = '\0';
  }
  return t->report;
}

size_t mail_transcript_read_calls(const mail_transcript *t) { return t->reads; }
size_t mail_transcript_write_calls(const mail_transcript *t) { return t->writes; }
size_t mail_transcript_connect_calls(const mail_transcript *t) { return t->connects; }
size_t mail_transcript_close_calls(const mail_transcript *t) { return t->closes; }
int mail_transcript_tls_active(const mail_transcript *t) { return t->tls != 0; }
const char *mail_transcript_connect_host(const mail_transcript *t) { return t->host; }
unsigned int mail_transcript_connect_port(const mail_transcript *t) { return t->port; }

/* ------------------------------------------------ transcript headers */

int mail_transcript_file_header(const char *path, const char *key, char *out, size_t cap)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[1024];
  size_t klen = strlen(key);
  int rc = -1;
  while (rc && fgets(line, sizeof line, f)) {
    if (line[0] != '#')
      break; /* the leading comment block is over */
    const char *p = line + 1;
    while (*p == ' ')
      p++;
    if (strncmp(p, key, klen) || p[klen] != ':')
      continue;
    p += klen + 1;
    while (*p == ' ')
      p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
    rc = 0;
  }
  fclose(f);
  return rc;
}

const char *mail_test_status_name(int status)
{
  static const struct {
    int status;
    const char *name;
  } names[] = {
    {MAIL_OK, "MAIL_OK"},
    {MAIL_ERR_AGAIN, "MAIL_ERR_AGAIN"},
    {MAIL_ERR_INVALID, "MAIL_ERR_INVALID"},
    {MAIL_ERR_NOMEM, "MAIL_ERR_NOMEM"},
    {MAIL_ERR_STATE, "MAIL_ERR_STATE"},
    {MAIL_ERR_UNSUPPORTED, "MAIL_ERR_UNSUPPORTED"},
    {MAIL_ERR_SERVER, "MAIL_ERR_SERVER"},
    {MAIL_ERR_AUTH, "MAIL_ERR_AUTH"},
    {MAIL_ERR_NO_MECHANISM, "MAIL_ERR_NO_MECHANISM"},
    {MAIL_ERR_INSECURE, "MAIL_ERR_INSECURE"},
    {MAIL_ERR_TOO_BIG, "MAIL_ERR_TOO_BIG"},
    {MAIL_ERR_NOT_FOUND, "MAIL_ERR_NOT_FOUND"},
    {MAIL_ERR_BUFFER, "MAIL_ERR_BUFFER"},
    {MAIL_ERR_CANCELLED, "MAIL_ERR_CANCELLED"},
    {MAIL_ERR_RECIPIENTS, "MAIL_ERR_RECIPIENTS"},
    {MAIL_ERR_PARTIAL, "MAIL_ERR_PARTIAL"},
    {MAIL_ERR_CALLBACK, "MAIL_ERR_CALLBACK"},
    {MAIL_ERR_CHARSET, "MAIL_ERR_CHARSET"},
    {MAIL_ERR_SYNTAX, "MAIL_ERR_SYNTAX"},
    {MAIL_ERR_FILE, "MAIL_ERR_FILE"},
    {MAIL_ERR_NEEDS_SMTPUTF8, "MAIL_ERR_NEEDS_SMTPUTF8"},
    {MAIL_ERR_REQUIRETLS, "MAIL_ERR_REQUIRETLS"},
    {MAIL_ERR_SASL_BAD_CHALLENGE, "MAIL_ERR_SASL_BAD_CHALLENGE"},
    {MAIL_ERR_THROTTLED, "MAIL_ERR_THROTTLED"},
    {MAIL_ERR_SERVER_LIMIT, "MAIL_ERR_SERVER_LIMIT"},
    {MAIL_ERR_TOO_MANY_CONNECTIONS, "MAIL_ERR_TOO_MANY_CONNECTIONS"},
    {MAIL_ERR_IO, "MAIL_ERR_IO"},
    {MAIL_ERR_TIMEOUT, "MAIL_ERR_TIMEOUT"},
    {MAIL_ERR_CLOSED, "MAIL_ERR_CLOSED"},
    {MAIL_ERR_RESOLVE, "MAIL_ERR_RESOLVE"},
    {MAIL_ERR_CONNECT, "MAIL_ERR_CONNECT"},
    {MAIL_ERR_TLS, "MAIL_ERR_TLS"},
    {MAIL_ERR_TLS_VERIFY, "MAIL_ERR_TLS_VERIFY"},
    {MAIL_ERR_STARTTLS, "MAIL_ERR_STARTTLS"},
    {MAIL_ERR_STARTTLS_INJECTION, "MAIL_ERR_STARTTLS_INJECTION"},
    {MAIL_ERR_PROTOCOL, "MAIL_ERR_PROTOCOL"},
    {MAIL_ERR_LIMIT, "MAIL_ERR_LIMIT"},
    {MAIL_ERR_SERVER_CLOSING, "MAIL_ERR_SERVER_CLOSING"},
    {MAIL_ERR_SASL_SERVER, "MAIL_ERR_SASL_SERVER"},
    {MAIL_ERR_INTERNAL, "MAIL_ERR_INTERNAL"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].status == status)
      return names[i].name;
  return "?";
}

int mail_transcript_check_header(const char *path, int expect, char *out, size_t cap)
{
  char v[512];
  if (mail_transcript_file_header(path, "call", v, sizeof v) || !v[0]) {
    snprintf(out, cap, "%s: no \"# call:\" line", path);
    return -1;
  }
  if (mail_transcript_file_header(path, "expect", v, sizeof v)) {
    snprintf(out, cap, "%s: no \"# expect:\" line", path);
    return -1;
  }
  if (strcmp(v, mail_test_status_name(expect))) {
    snprintf(out, cap, "%s: \"# expect: %s\" but the scenario ends with %s", path, v,
             mail_test_status_name(expect));
    return -1;
  }
  out[0] = '\0';
  return 0;
}

long mail_transcript_dir_check(const char *dir, int (*played)(void *user, const char *name),
                               void *user, char *out, size_t cap)
{
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(out, cap, "%s: cannot read the directory", dir);
    return -1;
  }
  long files = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".txt"))
      continue;
    files++;
    if (!played(user, e->d_name)) {
      snprintf(out, cap, "%s/%s: no scenario plays it", dir, e->d_name);
      files = -1;
      break;
    }
  }
  closedir(d);
  return files;
}

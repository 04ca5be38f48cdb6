/* Dot-stuffing and unstuffing, for every protocol (see dot.h). */
#include "core/dot.h"

#include <string.h>

#include <mail/common.h>

#include "core/reader.h"

void mail_dot_stuff_init(mail_dot_stuffer *s)
{
  s->at_line_start = 1;
  s->pending_cr = 0;
}

/* The first CR or LF in in[i..n), or n. */
static size_t line_stop(const unsigned char *in, size_t i, size_t n)
{
  const unsigned char *lf = memchr(in + i, '\n', n - i);
  size_t end = lf ? (size_t)(lf - in) : n;
  const unsigned char *cr = memchr(in + i, '\r', end - i);
  return cr ? (size_t)(cr - in) : end;
}

int mail_dot_stuff(mail_dot_stuffer *s, int strict, const unsigned char *in, size_t n,
                   unsigned char *out, size_t *olen)
{
  size_t o = 0, i = 0;
  int bol = s->at_line_start, cr = s->pending_cr;
  while (i < n) {
    if (cr) {
      /* The CR that ended the last step: CRLF, or a bare CR. */
      cr = 0;
      out[o++] = '\r';
      out[o++] = '\n';
      bol = 1;
      if (in[i] == '\n') {
        i++;
        continue;
      }
      if (strict)
        return MAIL_ERR_INVALID; /* bare CR */
      continue; /* in[i] begins the next line */
    }
    /* The common case, found with memchr: whole lines that end in CRLF
     * and hold no other CR, copied in one run that only a line starting
     * with a dot interrupts (for its extra dot). */
    size_t run = i;
    for (;;) {
      if (bol && i < n && in[i] == '.') {
        memcpy(out + o, in + run, i - run);
        o += i - run;
        out[o++] = '.';
        run = i;
        bol = 0;
      }
      if (i >= n)
        break;
      const unsigned char *lf = memchr(in + i, '\n', n - i);
      if (!lf)
        break;
      size_t j = (size_t)(lf - in);
      if (j == i || in[j - 1] != '\r' || memchr(in + i, '\r', j - 1 - i))
        break;
      i = j + 1;
      bol = 1;
    }
    memcpy(out + o, in + run, i - run);
    o += i - run;
    if (i >= n)
      break;
    /* Anything else, a step at a time: a CR (its LF may be in the next
     * chunk), a bare LF, or the text up to the next CR or LF. */
    unsigned char c = in[i];
    if (c == '\r') {
      cr = 1;
      i++;
      continue;
    }
    if (c == '\n') {
      if (strict)
        return MAIL_ERR_INVALID; /* bare LF */
      out[o++] = '\r';
      out[o++] = '\n';
      bol = 1;
      i++;
      continue;
    }
    if (bol && c == '.')
      out[o++] = '.';
    bol = 0;
    size_t j = line_stop(in, i + 1, n);
    memcpy(out + o, in + i, j - i);
    o += j - i;
    i = j;
  }
  s->at_line_start = bol;
  s->pending_cr = cr;
  *olen = o;
  return MAIL_OK;
}

int mail_dot_stuff_end(mail_dot_stuffer *s, int strict, unsigned char *out, size_t *olen)
{
  size_t o = 0;
  if (s->pending_cr) {
    if (strict)
      return MAIL_ERR_INVALID;
    s->pending_cr = 0;
    s->at_line_start = 1;
    out[o++] = '\r';
    out[o++] = '\n';
  }
  if (!s->at_line_start) {
    out[o++] = '\r';
    out[o++] = '\n';
  }
  memcpy(out + o, ".\r\n", 3);
  *olen = o + 3;
  return MAIL_OK;
}

enum {
  BODY_LINE_START = 0, /* the next byte starts a line */
  BODY_MID,            /* inside a line */
  BODY_DOT,            /* a line began with ".", which was taken */
  BODY_DOT_CR          /* a line began with ".\r" */
};

void mail_dot_unstuff_init(mail_dot_unstuffer *u)
{
  u->state = BODY_LINE_START;
}

int mail_dot_unstuff(mail_dot_unstuffer *u, const unsigned char *in, size_t n, size_t *consumed,
                     const unsigned char **chunk, size_t *chunk_len)
{
  size_t i = 0;
  *chunk = NULL;
  *chunk_len = 0;
  while (i < n) {
    switch (u->state) {
    case BODY_LINE_START:
      if (in[i] == '.') {
        i++;
        u->state = BODY_DOT;
      } else {
        u->state = BODY_MID;
      }
      break;
    case BODY_MID: {
      /* One chunk runs through as many lines as possible: up to the end
       * of the input or a line that starts with a dot. */
      size_t start = i;
      for (;;) {
        const unsigned char *lf = memchr(in + i, '\n', n - i);
        if (!lf) {
          i = n;
          break;
        }
        i = (size_t)(lf - in) + 1;
        if (i == n || in[i] == '.') {
          u->state = BODY_LINE_START;
          break;
        }
      }
      *chunk = in + start;
      *chunk_len = i - start;
      *consumed = i;
      return 0;
    }
    case BODY_DOT:
      if (in[i] == '\r') {
        i++;
        u->state = BODY_DOT_CR;
      } else if (in[i] == '\n') {
        u->state = BODY_LINE_START;
        *consumed = i + 1;
        return 1;
      } else {
        u->state = BODY_MID; /* a stuffed dot: dropped */
      }
      break;
    default: /* BODY_DOT_CR */
      if (in[i] == '\n') {
        u->state = BODY_LINE_START;
        *consumed = i + 1;
        return 1;
      }
      /* ".\r" then more: the dot was stuffing, the CR is data. */
      u->state = BODY_MID;
      *chunk = (const unsigned char *)"\r";
      *chunk_len = 1;
      *consumed = i;
      return 0;
    }
  }
  *consumed = i;
  return 0;
}

int mail_dot_line(const char *line, size_t len, const char **out, size_t *out_len)
{
  if (len == 1 && line[0] == '.')
    return 1;
  if (len > 0 && line[0] == '.') {
    line++;
    len--;
  }
  *out = line;
  *out_len = len;
  return 0;
}

int mail_dot_read(struct mail_reader *r, mail_dot_unstuffer *u, mail_dot_chunk_fn fn, void *ctx)
{
  for (;;) {
    size_t n;
    const unsigned char *in = mail_reader_data(r, &n);
    if (n == 0)
      return r->eof ? MAIL_ERR_CLOSED : MAIL_ERR_AGAIN;
    size_t used, clen;
    const unsigned char *chunk;
    int done = mail_dot_unstuff(u, in, n, &used, &chunk, &clen);
    if (clen)
      fn(ctx, chunk, clen);
    mail_reader_skip(r, used);
    if (done)
      return MAIL_OK;
  }
}

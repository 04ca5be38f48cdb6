/* The status-line-then-block parser POP3 and NNTP share (block_parser.h). */
#include "parse/block_parser.h"

#include "core/limits.h"

enum { ST_STATUS = 0, ST_BODY, ST_LINES };

static void set_reader_limit(mail_block_parser *p)
{
  size_t lim = p->limits.max_line + p->limits.max_response;
  p->reader.buf.limit = lim < p->limits.max_line ? SIZE_MAX : lim;
}

void mail_block_parser_init(mail_block_parser *p, const mail_allocator *a)
{
  mail_limits_defaults(&p->limits);
  mail_reader_init(&p->reader, a, p->limits.max_line);
  set_reader_limit(p);
  mail_dot_unstuff_init(&p->body);
  p->expect = MAIL_BLOCK_SINGLE;
  p->state = ST_STATUS;
  p->err = p->started = p->have_reply = 0;
  p->data = NULL;
  p->data_len = 0;
}

void mail_block_parser_free(mail_block_parser *p)
{
  mail_reader_free(&p->reader);
}

int mail_block_parser_set_limits(mail_block_parser *p, const mail_limits *l)
{
  mail_limits lim;
  if (mail_limits_import(&lim, l) != MAIL_OK)
    return MAIL_ERR_INVALID;
  if (p->started)
    return MAIL_ERR_STATE;
  p->limits = lim;
  p->reader.max_line = lim.max_line;
  set_reader_limit(p);
  return MAIL_OK;
}

int mail_block_parser_expect(mail_block_parser *p, int mode)
{
  if (mode < MAIL_BLOCK_SINGLE || mode > MAIL_BLOCK_MULTI_LINES)
    return MAIL_ERR_INVALID;
  if (p->state != ST_STATUS)
    return MAIL_ERR_STATE;
  p->expect = mode;
  return MAIL_OK;
}

int mail_block_parser_feed(mail_block_parser *p, const void *data, size_t len)
{
  if (!data && len)
    return MAIL_ERR_INVALID;
  if (p->err)
    return p->err;
  p->started = 1;
  p->data = NULL;
  p->data_len = 0;
  int rc = mail_reader_feed(&p->reader, data, len);
  if (rc)
    p->err = rc;
  return rc;
}

void mail_block_parser_end(mail_block_parser *p)
{
  mail_reader_set_eof(&p->reader);
}

static int fail(mail_block_parser *p, int rc)
{
  p->err = rc;
  return rc;
}

static int next_status(mail_block_parser *p, int *event, mail_block_status_fn fn, void *reply)
{
  const char *line;
  size_t len;
  int rc = mail_reader_line(&p->reader, &line, &len, NULL);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  if (rc == MAIL_ERR_CLOSED && mail_reader_pending(&p->reader) == 0)
    return rc; /* a clean end between responses */
  if (rc)
    return fail(p, rc);
  int block = 0;
  rc = fn(reply, line, len, &block);
  if (rc)
    return fail(p, rc);
  int mode = p->expect;
  p->expect = MAIL_BLOCK_SINGLE;
  if (block && mode == MAIL_BLOCK_MULTI) {
    mail_dot_unstuff_init(&p->body);
    p->state = ST_BODY;
  } else if (block && mode == MAIL_BLOCK_MULTI_LINES) {
    p->state = ST_LINES;
  }
  p->have_reply = 1;
  *event = MAIL_BLOCK_REPLY;
  return MAIL_OK;
}

static int next_chunk(mail_block_parser *p, int *event)
{
  for (;;) {
    size_t n;
    const unsigned char *in = mail_reader_data(&p->reader, &n);
    if (n == 0)
      return p->reader.eof ? fail(p, MAIL_ERR_CLOSED) : MAIL_ERR_AGAIN;
    size_t used;
    const unsigned char *chunk;
    size_t chunk_len;
    int done = mail_dot_unstuff(&p->body, in, n, &used, &chunk, &chunk_len);
    mail_reader_skip(&p->reader, used);
    if (done) {
      p->state = ST_STATUS;
      *event = MAIL_BLOCK_END;
      return MAIL_OK;
    }
    if (chunk_len) {
      p->data = chunk;
      p->data_len = chunk_len;
      *event = MAIL_BLOCK_DATA;
      return MAIL_OK;
    }
  }
}

static int next_line(mail_block_parser *p, int *event)
{
  const char *line;
  size_t len;
  int rc = mail_reader_line(&p->reader, &line, &len, NULL);
  if (rc == MAIL_ERR_AGAIN)
    return rc;
  if (rc)
    return fail(p, rc);
  const char *out;
  size_t out_len;
  if (mail_dot_line(line, len, &out, &out_len)) {
    p->state = ST_STATUS;
    *event = MAIL_BLOCK_END;
    return MAIL_OK;
  }
  p->data = (const unsigned char *)out;
  p->data_len = out_len;
  *event = MAIL_BLOCK_LINE;
  return MAIL_OK;
}

int mail_block_parser_next(mail_block_parser *p, int *event, mail_block_status_fn fn, void *reply)
{
  *event = 0;
  p->data = NULL;
  p->data_len = 0;
  if (p->err)
    return p->err;
  switch (p->state) {
  case ST_BODY:
    return next_chunk(p, event);
  case ST_LINES:
    return next_line(p, event);
  default:
    return next_status(p, event, fn, reply);
  }
}

const unsigned char *mail_block_parser_data(const mail_block_parser *p, size_t *len)
{
  if (len)
    *len = p->data ? p->data_len : 0;
  return p->data;
}

void mail_block_parser_reset(mail_block_parser *p)
{
  mail_reader_reset(&p->reader);
  mail_dot_unstuff_init(&p->body);
  p->expect = MAIL_BLOCK_SINGLE;
  p->state = ST_STATUS;
  p->err = p->started = p->have_reply = 0;
  p->data = NULL;
  p->data_len = 0;
}

size_t mail_block_parser_pending(const mail_block_parser *p)
{
  return mail_reader_pending(&p->reader);
}

/* --trace: the conversation on stderr, one whole "C: " or "S: " line per
 * protocol line. The library hands the trace hook bytes in the chunks in
 * which they cross the transport, so a line can arrive in pieces: each
 * direction keeps its unfinished line until the line end comes. Secrets
 * are already "[redacted]" in what the hook sees. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A longer line is printed in pieces, each marked as continued. */
#define TRACE_LINE_MAX 65536

typedef struct pending_line {
  const char *tag;
  size_t len;
  char buf[TRACE_LINE_MAX];
} pending_line;

static int tracing;
static pending_line sent = {"C: ", 0, ""}, received = {"S: ", 0, ""};

static void emit(pending_line *p, int continued)
{
  size_t n = p->len;
  if (!continued && n && p->buf[n - 1] == '\r')
    n--;
  fprintf(stderr, "%s%.*s%s\n", p->tag, (int)n, p->buf, continued ? " [line continues]" : "");
  p->len = 0;
}

static void take(pending_line *p, const char *data, size_t len)
{
  while (len) {
    const char *nl = memchr(data, '\n', len);
    size_t n = nl ? (size_t)(nl - data) : len;
    while (n) {
      size_t room = sizeof p->buf - p->len;
      if (room == 0) {
        emit(p, 1);
        room = sizeof p->buf;
      }
      size_t k = n < room ? n : room;
      memcpy(p->buf + p->len, data, k);
      p->len += k;
      data += k;
      len -= k;
      n -= k;
    }
    if (nl) {
      emit(p, 0);
      data++;
      len--;
    }
  }
}

void cli_trace_flush(void)
{
  if (sent.len)
    emit(&sent, 0);
  if (received.len)
    emit(&received, 0);
}

static void on_trace(void *user, int dir, const char *data, size_t len)
{
  (void)user;
  if (dir == MAIL_TRACE_SEND) {
    take(&sent, data, len);
  } else if (dir == MAIL_TRACE_RECV) {
    take(&received, data, len);
  } else {
    /* A note may come while a line is half sent (the state moves on before
     * the queued bytes are written): the line stays pending, whole. */
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
      len--;
    fprintf(stderr, "* %.*s\n", (int)len, data);
  }
}

void cli_trace_install(mail_conn *conn)
{
  tracing = 1;
  mail_conn_set_trace(conn, on_trace, NULL);
}

void cli_trace_note(const char *fmt, ...)
{
  if (!tracing)
    return;
  va_list ap;
  fputs("* ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

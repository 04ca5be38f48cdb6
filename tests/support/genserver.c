/* The generating scripted server (see genserver.h). */
#include "genserver.h"

#include <stdio.h>
#include <string.h>

void gen_server_init(gen_server *g, gen_line_fn on_line, void *user)
{
  memset(g, 0, sizeof *g);
  g->on_line = on_line;
  g->user = user;
}

void gen_say(gen_server *g, const char *s)
{
  size_t n = strlen(s);
  if (g->out_pos == g->out_len)
    g->out_pos = g->out_len = 0;
  if (n > sizeof g->out - g->out_len && g->out_pos) {
    memmove(g->out, g->out + g->out_pos, g->out_len - g->out_pos);
    g->out_len -= g->out_pos;
    g->out_pos = 0;
  }
  if (n > sizeof g->out - g->out_len) {
    g->overflow = 1;
    return;
  }
  memcpy(g->out + g->out_len, s, n);
  g->out_len += n;
}

void gen_lines(gen_server *g, const char *prefix, const char *word, int numbered, size_t width,
               uint64_t n, const char *final)
{
  g->gen_prefix = prefix;
  g->gen_word = word ? word : "";
  g->gen_numbered = numbered;
  g->gen_width = width < sizeof g->out - 64 ? width : sizeof g->out - 64;
  g->gen_left = n;
  g->gen_index = 0;
  g->gen_final = final;
  g->gen_listing = 0;
  g->gen_raw = 0;
}

void gen_endless_line(gen_server *g)
{
  gen_lines(g, "", "", 0, 0, 0, NULL);
  g->gen_raw = 1;
}

void gen_listing(gen_server *g, size_t width, uint64_t n)
{
  gen_lines(g, "", "", 0, width, n, ".\r\n");
  g->gen_listing = 1;
}

void gen_data_mode(gen_server *g)
{
  g->data_mode = 1;
}

/* Refill the scripted bytes from the generated run, when it is on. */
static void generate(gen_server *g)
{
  if (g->out_pos < g->out_len)
    return;
  g->out_pos = g->out_len = 0;
  if (g->gen_raw) {
    memset(g->out, 'x', sizeof g->out);
    g->out_len = sizeof g->out;
    return;
  }
  while (g->gen_left && g->out_len + g->gen_width + 96 < sizeof g->out) {
    char *p = g->out + g->out_len;
    unsigned long long i = (unsigned long long)g->gen_index;
    int k;
    if (g->gen_listing)
      k = g->gen_width ? snprintf(p, 64, "%llu uid%llu", i + 1, i + 1)
                       : snprintf(p, 64, "%llu 1000", i + 1);
    else if (g->gen_numbered)
      k = snprintf(p, 64, "%s%s%llu", g->gen_prefix, g->gen_word, i);
    else
      k = snprintf(p, 64, "%s%s", g->gen_prefix, g->gen_word);
    size_t len = (size_t)k;
    size_t text = len - strlen(g->gen_prefix);
    while (text < g->gen_width) {
      p[len++] = 'x';
      text++;
    }
    p[len++] = '\r';
    p[len++] = '\n';
    g->out_len += len;
    g->gen_index++;
    if (g->gen_left != GEN_ENDLESS)
      g->gen_left--;
  }
  if (!g->gen_left && g->gen_final) {
    const char *f = g->gen_final;
    g->gen_final = NULL;
    gen_say(g, f);
  }
}

static int gen_read(void *user, unsigned char *buf, size_t len, size_t *got, int timeout_ms)
{
  (void)timeout_ms;
  gen_server *g = user;
  generate(g);
  if (g->out_pos == g->out_len)
    return MAIL_ERR_TIMEOUT; /* nothing to say: the client waits for nothing */
  size_t k = g->out_len - g->out_pos < len ? g->out_len - g->out_pos : len;
  memcpy(buf, g->out + g->out_pos, k);
  g->out_pos += k;
  g->bytes_sent += k;
  *got = k;
  return MAIL_OK;
}

static void line_done(gen_server *g)
{
  size_t n = g->in_len;
  if (n && g->in[n - 1] == '\r')
    n--;
  g->in[n] = '\0';
  g->in_len = 0;
  g->lines_seen++;
  if (g->data_mode) {
    if (n != 1 || g->in[0] != '.')
      return;
    g->data_mode = 0;
  }
  g->on_line(g, g->in, n);
}

static int gen_write(void *user, const unsigned char *buf, size_t len, size_t *written,
                     int timeout_ms)
{
  (void)timeout_ms;
  gen_server *g = user;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\n') {
      line_done(g);
      continue;
    }
    if (g->in_len < sizeof g->in - 1)
      g->in[g->in_len++] = (char)buf[i];
  }
  *written = len;
  return MAIL_OK;
}

static const mail_transport_ops gen_ops = {
  .version = MAIL_TRANSPORT_OPS_VERSION,
  .read = gen_read,
  .write = gen_write,
};

int gen_server_attach(gen_server *g, mail_conn *conn)
{
  return mail_conn_set_transport(conn, &gen_ops, g);
}

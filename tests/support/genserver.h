/*
 * A scripted server on a user transport whose replies may be generated on
 * the fly: an endless run of continuation lines, a million-line reply or a
 * 120 MiB one costs the test nothing, because lines are made as the client
 * reads them. For the limit tests and the allocation tests.
 *
 * It never allocates (fixed buffers only), so it can run inside libmail
 * calls in a program that interposes malloc and fails on any call.
 *
 * The test's on_line handler sees each line the client writes (CRLF
 * stripped) and answers with gen_say() and gen_lines(). After
 * gen_data_mode() the client's lines are swallowed up to the lone "."
 * (message data), which on_line then sees.
 */
#ifndef MAIL_TEST_GENSERVER_H
#define MAIL_TEST_GENSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <mail/conn.h>

#define GEN_ENDLESS UINT64_MAX

typedef struct gen_server gen_server;
typedef void (*gen_line_fn)(gen_server *g, const char *line, size_t len);

struct gen_server {
  gen_line_fn on_line;
  void *user;
  /* scripted bytes waiting to be read */
  char out[65536];
  size_t out_len, out_pos;
  /* the generated run: prefix, word, optional number, 'x' up to width */
  uint64_t gen_left;
  uint64_t gen_index;
  const char *gen_prefix, *gen_word, *gen_final;
  int gen_numbered;
  int gen_listing;       /* POP3 listing lines: "n uid<n>" or "n 1000" */
  int gen_raw;           /* gen_endless_line(): 'x' for ever, no line end */
  size_t gen_width;
  /* the client's line in progress */
  char in[16384];
  size_t in_len;
  int data_mode;
  /* counters */
  uint64_t bytes_sent;   /* to the client */
  uint64_t lines_seen;   /* from the client */
  int overflow;          /* a scripted reply did not fit: a test bug */
};

void gen_server_init(gen_server *g, gen_line_fn on_line, void *user);
/* Install g as conn's transport (call before connecting). */
int gen_server_attach(gen_server *g, mail_conn *conn);
/* Queue bytes (a NUL-terminated string) for the client. */
void gen_say(gen_server *g, const char *s);
/* After what is queued: n lines (GEN_ENDLESS: never ending), each
 * prefix + word (+ its index when numbered) padded with 'x' to width bytes
 * of text + CRLF; then final (NULL: none). The strings must stay valid. */
void gen_lines(gen_server *g, const char *prefix, const char *word, int numbered, size_t width,
               uint64_t n, const char *final);
/* After what is queued: n POP3 listing lines, "<i> uid<i>" padded with
 * 'x' to width (UIDL) or, with width 0, "<i> 1000" (LIST), i from 1;
 * then ".". */
void gen_listing(gen_server *g, size_t width, uint64_t n);
/* After what is queued: 'x' bytes for ever, never a line end (a line
 * with no CRLF, however long the client reads). */
void gen_endless_line(gen_server *g);
/* Swallow the client's lines up to the lone "." (message data). */
void gen_data_mode(gen_server *g);

#endif

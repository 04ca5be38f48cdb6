/*
 * A permissive in-memory server for the injection test: a user transport
 * that answers every command of one protocol with success, keeps every byte
 * the client wrote, and follows IMAP literals ({n} and {n+}) so that what a
 * literal carries is never mistaken for a command line.
 *
 * The point is not to play a protocol well but to bring a session to the
 * state where a call would send its arguments, and then to see whether any
 * of the caller's bytes became a line of their own.
 */
#ifndef MAIL_TEST_FAKESERVER_H
#define MAIL_TEST_FAKESERVER_H

#include <stddef.h>
#include <mail/conn.h>

enum fake_proto { FAKE_SMTP, FAKE_POP3, FAKE_IMAP, FAKE_NNTP };

typedef struct fake_server {
  int proto;
  /* what the client wrote, all of it */
  unsigned char *wire;
  size_t wire_len, wire_cap;
  /* command lines seen (literal bytes and message data excluded), each
   * NUL-terminated one after the other */
  char *lines;
  size_t lines_len, lines_cap;
  /* the client's line in progress */
  char in[8192];
  size_t in_len;
  size_t literal_left; /* bytes of an IMAP literal still to come */
  char cont_line[512]; /* the first line of an IMAP command cut by a literal */
  int data_mode;       /* SMTP DATA / NNTP POST: swallow up to "." */
  /* a command line (outside literals and message data) began with
   * "INJECTED", held a bare CR or a NUL: the caller's bytes made a line */
  int injected, bare_cr, nul;
  int tls; /* start_tls was called (nothing is encrypted: is_verified says 1) */
  /* scripted bytes waiting to be read */
  char out[16384];
  size_t out_len, out_pos;
} fake_server;

void fake_init(fake_server *f, int proto);
void fake_free(fake_server *f);
int fake_attach(fake_server *f, mail_conn *conn);
/* Queue bytes for the client (the greeting, before connecting). */
void fake_say(fake_server *f, const char *s);
/* Bytes written since a wire mark. */
size_t fake_wire_mark(const fake_server *f);
/* The first command line from offset mark of f->lines on that holds
 * needle, or NULL. */
const char *fake_line_with(const fake_server *f, size_t mark, const char *needle);

/* Take bytes as if the client wrote them (the test's self-check). */
void fake_feed(fake_server *f, const void *data, size_t len);

#endif

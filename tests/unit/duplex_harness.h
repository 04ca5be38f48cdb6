/*
 * Shared by the full-duplex driver tests (test_conn_duplex.c over plain
 * sockets, test_conn_duplex_tls.c over TLS): a peer that will not read
 * until it has written a large reply, and a test engine that streams a
 * large pipelined batch while it takes replies as they come.
 */
#ifndef MAIL_TEST_DUPLEX_HARNESS_H
#define MAIL_TEST_DUPLEX_HARNESS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conn_internal.h"

/* Reply lines are this long, CRLF included. */
#define DUPLEX_LINE 1024

/* The peer's end of the pipe: a plain descriptor or an SSL. Both return
 * the byte count, or <= 0 when the stream ended or failed. */
typedef struct duplex_io {
  void *ctx;
  long (*write)(void *ctx, const void *p, size_t n);
  long (*read)(void *ctx, void *p, size_t n);
} duplex_io;

/*
 * A one-way gate from the client's event loop to the peer thread. The
 * state the event-loop tests are about (our write blocked, every byte the
 * peer sent already read, so the only thing to do is wait for either
 * direction) must not depend on which thread the scheduler favours: the
 * peer holds still at the gate until the client has said so.
 */
typedef struct duplex_gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int open;
} duplex_gate;

void duplex_gate_init(duplex_gate *g);
void duplex_gate_open(duplex_gate *g);
void duplex_gate_wait(duplex_gate *g);
void duplex_gate_destroy(duplex_gate *g);

/* A connected Unix stream pair with send and receive buffers set small
 * (DUPLEX_SOCKBUF) on both ends, so "the buffers hold far less than the
 * reply and the batch" holds whatever the kernel's defaults are. 0 or -1. */
#define DUPLEX_SOCKBUF (64 * 1024)
int duplex_socket_pair(int sv[2]);

typedef struct duplex_peer {
  duplex_io io;
  size_t reply_bytes;  /* written first, in "+OK ..." lines, before reading */
  size_t expect_bytes; /* then read and checked against the pattern */
  duplex_gate *hold;   /* if set, waited for between writing and reading */
  /* Results. */
  size_t written, got;
  int pattern_ok;      /* every byte read matched duplex_pattern() */
  int done_sent;       /* "DONE\r\n" went out after the whole batch */
} duplex_peer;

/* Write reply_bytes, wait for hold (if set), read expect_bytes, then
 * answer "DONE\r\n". Stops at the first failed read or write. */
void duplex_peer_serve(duplex_peer *p);

/* The byte at stream offset i of the client's batch. */
char duplex_pattern(uint64_t i);

typedef enum duplex_mode {
  DUPLEX_ECHO,       /* consume replies as they come; done at "DONE" */
  DUPLEX_EARLY,      /* stop at the first line the server sends */
  DUPLEX_HOARD       /* leave replies in the reader until the batch is queued */
} duplex_mode;

typedef struct duplex_eng {
  mail_conn *c;
  duplex_mode mode;
  size_t to_send;         /* size of the pipelined batch */
  size_t reply_expected;  /* "+OK" line bytes to expect before "DONE" */
  /* Progress. */
  size_t queued;          /* batch bytes handed to mail_conn_send */
  size_t reply_got;
  size_t reply_while_sending; /* reply bytes taken while batch bytes were unsent */
  size_t max_pending;     /* most reader bytes ever seen unconsumed */
  char first_line[128];   /* DUPLEX_EARLY: the line, and the batch bytes */
  size_t queued_at_line;  /* queued when it was seen */
  size_t unsent_at_line;  /* and still in the output queue then */
} duplex_eng;

void duplex_eng_init(duplex_eng *e, mail_conn *c, duplex_mode mode, size_t to_send,
                     size_t reply_expected);
int duplex_eng_advance(void *engine);

/* What a non-blocking drive saw from mail_conn_want(). */
#define DUPLEX_SAW_READ 1
#define DUPLEX_SAW_WRITE 2
#define DUPLEX_SAW_BOTH 4

/*
 * mail_conn_run() the engine to its end. In non-blocking mode, poll the
 * descriptor for what mail_conn_want() says (never longer than
 * mail_conn_timeout_ms()) between calls, OR-ing DUPLEX_SAW_* into *saw
 * and opening on_both (if set) the first time it says READ|WRITE; gives
 * up with MAIL_ERR_TIMEOUT after limit_ms of wall time.
 */
int duplex_drive(mail_conn *c, duplex_eng *e, int nonblocking, int *saw, duplex_gate *on_both,
                 int limit_ms);

/* Monotonic wall clock, ms. */
int64_t duplex_wall_ms(void);

#endif

/*
 * Guide: drive many sessions from one event loop (doc/guide.md, "Many
 * sessions in one event loop"). N SMTP submissions and one POP3 check run
 * at once on one thread: every connection is non-blocking, each session
 * is a small state machine whose current call returns MAIL_ERR_AGAIN
 * while it would wait, and one poll() over all their descriptors says
 * which to call again. The call is repeated with the same arguments; it
 * resumes where it stopped.
 *
 *   MAIL_PASSWORD=... event_loop HOST SUBMISSION-PORT POP3-PORT CAFILE USER FROM TO N
 *
 * HOST must be an address (getaddrinfo would block the loop).
 */
#include <mail/mail.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SESSIONS 16

typedef struct session {
  int kind;   /* 0: SMTP submission, 1: POP3 STAT */
  int step;   /* which call is in progress */
  int done, rc;
  mail_smtp *smtp;
  mail_smtp_envelope *env;
  mail_pop3 *pop3;
  uint32_t count;
  char body[256];
} session;

static const char *host, *from, *to;
static unsigned smtp_port, pop3_port;

static mail_conn *conn_of(session *s)
{
  return s->kind == 0 ? mail_smtp_conn(s->smtp) : mail_pop3_conn(s->pop3);
}

/* Call the session's current operation once. Returns MAIL_ERR_AGAIN while
 * it waits; MAIL_OK moves on to the next step. */
static int step(session *s)
{
  if (s->kind == 0) {
    switch (s->step) {
    case 0: return mail_smtp_connect(s->smtp, host, smtp_port, MAIL_SECURITY_STARTTLS);
    case 1: return mail_smtp_auth(s->smtp);
    case 2: return mail_smtp_send(s->smtp, s->env);
    case 3: return mail_smtp_quit(s->smtp);
    }
  } else {
    switch (s->step) {
    case 0: return mail_pop3_connect(s->pop3, host, pop3_port, MAIL_SECURITY_STARTTLS);
    case 1: return mail_pop3_auth(s->pop3);
    case 2: return mail_pop3_stat(s->pop3, &s->count, NULL);
    case 3: return mail_pop3_quit(s->pop3, NULL);
    }
  }
  return MAIL_OK;
}

/* Run the session until it must wait (or is done). */
static void advance(session *s, int index)
{
  while (!s->done) {
    int rc = step(s);
    if (rc == MAIL_ERR_AGAIN)
      return;
    if (rc != MAIL_OK || ++s->step == 4) {
      s->done = 1;
      s->rc = rc;
      if (rc)
        printf("session %d: %s (%s)\n", index, mail_strerror(rc), mail_conn_last_error(conn_of(s)));
      else if (s->kind == 0)
        printf("session %d: sent, %s: %d\n", index, to, mail_smtp_envelope_recipient_code(s->env, 0));
      else
        printf("session %d: pop3 stat: %u messages\n", index, (unsigned)s->count);
    }
  }
}

static int setup(session *s, int kind, int index, const char *ca, const char *user, const char *pw)
{
  memset(s, 0, sizeof *s);
  s->kind = kind;
  mail_tls_config *tls = NULL;
  int rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, ca);
  if (kind == 0) {
    snprintf(s->body, sizeof s->body,
             "From: <%s>\r\nTo: <%s>\r\nSubject: event loop message %d\r\n\r\nHello %d.\r\n",
             from, to, index, index);
    if (!rc) rc = mail_smtp_new(&s->smtp, NULL);
    if (!rc) rc = mail_smtp_set_auth(s->smtp, user, pw);
    if (!rc) rc = mail_smtp_envelope_new(&s->env, NULL);
    if (!rc) rc = mail_smtp_envelope_set_from(s->env, from);
    if (!rc) rc = mail_smtp_envelope_add_recipient(s->env, to, NULL);
    if (!rc) rc = mail_smtp_envelope_set_body_data(s->env, s->body, strlen(s->body));
  } else {
    if (!rc) rc = mail_pop3_new(&s->pop3, NULL);
    if (!rc) rc = mail_pop3_set_auth(s->pop3, user, pw);
  }
  if (!rc) rc = mail_conn_set_tls_config(conn_of(s), tls);
  if (!rc) rc = mail_conn_set_nonblocking(conn_of(s), 1);
  mail_tls_config_free(tls);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 9 || !getenv("MAIL_PASSWORD") || atoi(argv[8]) < 1 || atoi(argv[8]) >= MAX_SESSIONS) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... event_loop HOST SUBMISSION-PORT POP3-PORT CAFILE USER FROM TO N"
                    " (N < %d)\n", MAX_SESSIONS);
    return 2;
  }
  host = argv[1];
  smtp_port = (unsigned)atoi(argv[2]);
  pop3_port = (unsigned)atoi(argv[3]);
  from = argv[6];
  to = argv[7];
  int n = atoi(argv[8]) + 1; /* N submissions and the POP3 session */
  static session ss[MAX_SESSIONS];
  for (int i = 0; i < n; i++) {
    int rc = setup(&ss[i], i == n - 1, i, argv[4], argv[5], getenv("MAIL_PASSWORD"));
    if (rc) {
      fprintf(stderr, "event_loop: setting up session %d: %s\n", i, mail_strerror(rc));
      return 1;
    }
    advance(&ss[i], i); /* starts the connect; returns at its first wait */
  }
  for (;;) {
    struct pollfd fds[MAX_SESSIONS];
    int who[MAX_SESSIONS], nfds = 0;
    int64_t wait_ms = -1;
    for (int i = 0; i < n; i++) {
      if (ss[i].done)
        continue;
      mail_conn *c = conn_of(&ss[i]);
      int want = mail_conn_want(c);
      fds[nfds].fd = mail_conn_fd(c);
      fds[nfds].events = (short)(((want & MAIL_WANT_READ) ? POLLIN : 0) | ((want & MAIL_WANT_WRITE) ? POLLOUT : 0));
      fds[nfds].revents = 0;
      who[nfds++] = i;
      /* The nearest deadline: the session that owns it is called when it
       * passes and then fails with MAIL_ERR_TIMEOUT. */
      int64_t t = mail_conn_timeout_ms(c);
      if (t >= 0 && (wait_ms < 0 || t < wait_ms))
        wait_ms = t;
    }
    if (!nfds)
      break;
    int r = poll(fds, (nfds_t)nfds, wait_ms > 60000 ? 60000 : (int)wait_ms);
    if (r < 0) {
      perror("poll");
      return 1;
    }
    for (int k = 0; k < nfds; k++) {
      session *s = &ss[who[k]];
      if (fds[k].revents || mail_conn_timeout_ms(conn_of(s)) == 0)
        advance(s, who[k]);
    }
  }
  int failed = 0;
  for (int i = 0; i < n; i++) {
    failed += ss[i].rc != MAIL_OK;
    mail_smtp_envelope_free(ss[i].env);
    mail_smtp_free(ss[i].smtp);
    mail_pop3_free(ss[i].pop3);
  }
  printf("%d sessions, %d failed\n", n, failed);
  return failed ? 1 : 0;
}

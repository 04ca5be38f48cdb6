/*
 * The client side of the hostile-server cases (run_hostile.py): one
 * session of one protocol against the scripted server, through the public
 * API only, over a real socket and real TLS.
 *
 *   hostile-client PROTO SECURITY HOST PORT CAFILE OP
 *
 * PROTO smtp | pop3 | imap | nntp; SECURITY starttls | implicit | insecure |
 * opportunistic (STARTTLS when offered, else plaintext);
 * CAFILE the only CA trusted (the system store is off); OP what to do
 * after connecting:
 *   session   log in as alice/secret and do one thing: SMTP sends a message,
 *             POP3 STAT, IMAP SELECT INBOX, NNTP GROUP misc.test
 *   connect   connect only, then QUIT/LOGOUT
 *   compress  (IMAP, NNTP) COMPRESS DEFLATE, then one command
 * (hostile-client --features: the protocols built, and "compress" with zlib.)
 * With HOSTILE_EVENT_LOOP=1 every call runs non-blocking, resumed after
 * poll() (the same outcome is expected).
 *
 * It prints what the runner checks, one "key=value" a line: each call's
 * status by name ("connect=MAIL_OK"), stopping at the first that fails;
 * for IMAP every untagged response the callback saw ("untagged=EXISTS
 * trusted=0", "alert=... trusted=1") and the mailbox's numbers after SELECT;
 * "trace=LEAKED A CREDENTIAL" if the connection's trace ever showed the
 * password or the PLAIN response.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mail/mail.h>

static const char *status_name(int rc)
{
  static const struct {
    int rc;
    const char *name;
  } names[] = {
#define S(x) {x, #x}
    S(MAIL_OK), S(MAIL_ERR_AGAIN), S(MAIL_ERR_INVALID), S(MAIL_ERR_NOMEM), S(MAIL_ERR_STATE),
    S(MAIL_ERR_UNSUPPORTED), S(MAIL_ERR_SERVER), S(MAIL_ERR_AUTH), S(MAIL_ERR_NO_MECHANISM),
    S(MAIL_ERR_INSECURE), S(MAIL_ERR_TOO_BIG), S(MAIL_ERR_NOT_FOUND), S(MAIL_ERR_BUFFER),
    S(MAIL_ERR_CANCELLED), S(MAIL_ERR_RECIPIENTS), S(MAIL_ERR_PARTIAL), S(MAIL_ERR_CALLBACK),
    S(MAIL_ERR_CHARSET), S(MAIL_ERR_SYNTAX), S(MAIL_ERR_FILE), S(MAIL_ERR_NEEDS_SMTPUTF8),
    S(MAIL_ERR_REQUIRETLS), S(MAIL_ERR_SASL_BAD_CHALLENGE), S(MAIL_ERR_THROTTLED),
    S(MAIL_ERR_SERVER_LIMIT), S(MAIL_ERR_TOO_MANY_CONNECTIONS), S(MAIL_ERR_NOT_ATTEMPTED),
    S(MAIL_ERR_IO), S(MAIL_ERR_TIMEOUT), S(MAIL_ERR_CLOSED), S(MAIL_ERR_RESOLVE),
    S(MAIL_ERR_CONNECT), S(MAIL_ERR_TLS), S(MAIL_ERR_TLS_VERIFY), S(MAIL_ERR_STARTTLS),
    S(MAIL_ERR_STARTTLS_INJECTION), S(MAIL_ERR_PROTOCOL), S(MAIL_ERR_LIMIT),
    S(MAIL_ERR_SERVER_CLOSING), S(MAIL_ERR_SASL_SERVER), S(MAIL_ERR_INTERNAL),
#undef S
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (names[i].rc == rc)
      return names[i].name;
  return "?";
}

/* Event-loop mode (HOSTILE_EVENT_LOOP=1 in the environment): every call
 * runs non-blocking and is called again, with the same arguments, after
 * poll() said the connection is ready, until it returns something other
 * than MAIL_ERR_AGAIN. The outcome must be the same as blocking. */
static int event_loop;
static mail_conn *loop_conn;

static int wait_ready(void)
{
  struct pollfd pfd = {.fd = mail_conn_fd(loop_conn), .events = 0};
  int want = mail_conn_want(loop_conn);
  if (want & MAIL_WANT_READ)
    pfd.events |= POLLIN;
  if (want & MAIL_WANT_WRITE)
    pfd.events |= POLLOUT;
  int64_t ms = mail_conn_timeout_ms(loop_conn);
  if (pfd.fd < 0)
    return 0; /* nothing to wait on yet: call again */
  return poll(&pfd, 1, ms < 0 || ms > 10000 ? 10000 : (int)ms) < 0 ? -1 : 0;
}

#define CALL(expr)                                                    \
  ({                                                                  \
    int rc_;                                                          \
    while ((rc_ = (expr)) == MAIL_ERR_AGAIN && event_loop && !wait_ready()) \
      ;                                                               \
    rc_;                                                              \
  })

/* Print one call's status; 1 when it failed (the session stops there). */
static int report(const char *call, int rc)
{
  printf("%s=%s\n", call, status_name(rc));
  return rc != MAIL_OK;
}

static const char *user = "alice", *password = "secret";

/* The trace must never show a credential: the password, or the PLAIN
 * response that carries it. Checked over everything traced, at exit. */
static int trace_leaked;

static int holds(const char *data, size_t len, const char *needle)
{
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (!memcmp(data + i, needle, n))
      return 1;
  return 0;
}

static void on_trace(void *u, int dir, const char *data, size_t len)
{
  (void)u, (void)dir;
  if (holds(data, len, password) || holds(data, len, "AGFsaWNlAHNlY3JldA=="))
    trace_leaked = 1;
}

static int setup_conn(mail_conn *c, const char *cafile)
{
  mail_tls_config *cfg = NULL;
  mail_conn_set_trace(c, on_trace, NULL);
  loop_conn = c;
  if (event_loop && mail_conn_set_nonblocking(c, 1))
    return 2;
  int rc = mail_tls_config_new(&cfg, NULL);
  if (!rc)
    rc = mail_tls_config_set_system_ca(cfg, 0);
  if (!rc)
    rc = mail_tls_config_set_ca_file(cfg, cafile);
  if (!rc)
    rc = mail_tls_config_set_session_resumption(cfg, 0);
  if (!rc)
    rc = mail_conn_set_tls_config(c, cfg);
  mail_tls_config_free(cfg);
  /* a stuck case ends in seconds, never the test's timeout */
  if (!rc)
    rc = mail_conn_set_timeout(c, MAIL_TIMEOUT_CONNECT, 5000);
  if (!rc)
    rc = mail_conn_set_timeout(c, MAIL_TIMEOUT_IO, 5000);
  return rc;
}

/* ------------------------------------------------------------ SMTP */

#if MAIL_HAVE_SMTP
static int run_smtp(const char *host, unsigned port, int security, const char *cafile,
                    const char *op)
{
  mail_smtp *s = NULL;
  if (mail_smtp_new(&s, NULL) || setup_conn(mail_smtp_conn(s), cafile))
    return 2;
  mail_smtp_set_client_name(s, "client.test");
  mail_smtp_set_auth(s, user, password);
  if (!report("connect", CALL(mail_smtp_connect(s, host, port, security)))) {
    if (!strcmp(op, "session") && !report("auth", CALL(mail_smtp_auth(s)))) {
      mail_smtp_envelope *e = NULL;
      size_t idx;
      mail_smtp_envelope_new(&e, NULL);
      mail_smtp_envelope_set_from(e, "alice@example.org");
      mail_smtp_envelope_add_recipient(e, "bob@example.org", &idx);
      mail_smtp_envelope_set_body_data(e, "Subject: hi\r\n\r\nhello\r\n", 22);
      report("send", CALL(mail_smtp_send(s, e)));
      mail_smtp_envelope_free(e);
    }
    report("quit", CALL(mail_smtp_quit(s)));
  }
  mail_smtp_free(s);
  return 0;
}
#endif

/* ------------------------------------------------------------ POP3 */

#if MAIL_HAVE_POP3
static int run_pop3(const char *host, unsigned port, int security, const char *cafile,
                    const char *op)
{
  mail_pop3 *p = NULL;
  if (mail_pop3_new(&p, NULL) || setup_conn(mail_pop3_conn(p), cafile))
    return 2;
  mail_pop3_set_auth(p, user, password);
  if (!report("connect", CALL(mail_pop3_connect(p, host, port, security)))) {
    if (!strcmp(op, "session") && !report("auth", CALL(mail_pop3_auth(p)))) {
      uint32_t count = 0;
      uint64_t size = 0;
      if (!report("stat", CALL(mail_pop3_stat(p, &count, &size))))
        printf("count=%u\n", (unsigned)count);
    }
    report("quit", CALL(mail_pop3_quit(p, NULL)));
  }
  mail_pop3_free(p);
  return 0;
}
#endif

/* ------------------------------------------------------------ IMAP */

#if MAIL_HAVE_IMAP
static const char *imap_type_name(int t)
{
  static const char *const names[] = {
    "OTHER", "OK", "NO", "BAD", "PREAUTH", "BYE", "CONTINUE", "CAPABILITY", "ENABLED", "LIST",
    "LSUB", "NAMESPACE", "STATUS", "FLAGS", "EXISTS", "RECENT", "EXPUNGE", "VANISHED", "SEARCH",
    "ESEARCH", "SORT", "THREAD", "FETCH"};
  return t >= 0 && (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static int on_untagged(void *u, const mail_imap_response *r, int trusted)
{
  (void)u;
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_ALERT) {
    size_t len = 0;
    const char *text = mail_imap_response_text(r, &len);
    printf("alert=%.*s trusted=%d\n", (int)len, text ? text : "", trusted);
    return 0;
  }
  printf("untagged=%s trusted=%d\n", imap_type_name(mail_imap_response_type(r)), trusted);
  return 0;
}

static int run_imap(const char *host, unsigned port, int security, const char *cafile,
                    const char *op)
{
  mail_imap *im = NULL;
  if (mail_imap_new(&im, NULL) || setup_conn(mail_imap_conn(im), cafile))
    return 2;
  mail_imap_set_auth(im, user, password);
  mail_imap_set_untagged_callback(im, on_untagged, NULL);
  if (!report("connect", CALL(mail_imap_connect(im, host, port, security)))) {
    int failed = 0;
    if (strcmp(op, "connect") && mail_imap_get_state(im) != MAIL_IMAP_STATE_AUTHENTICATED)
      failed = report("login", CALL(mail_imap_login(im)));
    if (!failed && !strcmp(op, "session") && !report("select", CALL(mail_imap_select(im, "INBOX", 0)))) {
      uint64_t v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_EXISTS);
      printf("exists=%llu\n", (unsigned long long)v);
      v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_RECENT);
      printf("recent=%llu\n", (unsigned long long)v);
      printf("flags=%zu\n", mail_imap_mailbox_flag_count(im, MAIL_IMAP_FLAGS_DEFINED));
      printf("permanentflags=%zu\n", mail_imap_mailbox_flag_count(im, MAIL_IMAP_FLAGS_PERMANENT));
      v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDVALIDITY);
      printf("uidvalidity=%llu\n", (unsigned long long)v);
      v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UIDNEXT);
      printf("uidnext=%llu\n", (unsigned long long)v);
      v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_UNSEEN);
      printf("unseen=%llu\n", (unsigned long long)v);
      v = 0;
      mail_imap_mailbox_number(&v, im, MAIL_IMAP_MAILBOX_HIGHESTMODSEQ);
      printf("highestmodseq=%llu\n", (unsigned long long)v);
      printf("read_only=%d\n", mail_imap_mailbox_read_only(im));
      /* what an unsolicited ENABLED before TLS must not have switched on */
      static const char *const ext[] = {"UTF8=ACCEPT", "CONDSTORE", "QRESYNC"};
      for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (mail_imap_is_enabled(im, ext[i]))
          printf("enabled=%s\n", ext[i]);
    }
    if (!failed && !strcmp(op, "compress") && !report("compress", CALL(mail_imap_compress(im))))
      report("noop", CALL(mail_imap_noop(im)));
    if (mail_imap_get_state(im) != MAIL_IMAP_STATE_LOGOUT)
      report("logout", CALL(mail_imap_logout(im)));
  }
  mail_imap_free(im);
  return 0;
}
#endif

/* ------------------------------------------------------------ NNTP */

#if MAIL_HAVE_NNTP
static int run_nntp(const char *host, unsigned port, int security, const char *cafile,
                    const char *op)
{
  mail_nntp *n = NULL;
  if (mail_nntp_new(&n, NULL) || setup_conn(mail_nntp_conn(n), cafile))
    return 2;
  mail_nntp_set_auth(n, user, password);
  if (!report("connect", CALL(mail_nntp_connect(n, host, port, security)))) {
    if (!strcmp(op, "session") && !report("auth", CALL(mail_nntp_auth(n)))) {
      uint64_t count = 0, low = 0, high = 0;
      if (!report("group", CALL(mail_nntp_group(n, "misc.test", &count, &low, &high))))
        printf("count=%llu\n", (unsigned long long)count);
    }
    if (!strcmp(op, "compress") && !report("compress", CALL(mail_nntp_compress(n)))) {
      int64_t secs = 0;
      report("date", CALL(mail_nntp_date(n, &secs)));
    }
    report("quit", CALL(mail_nntp_quit(n)));
  }
  mail_nntp_free(n);
  return 0;
}
#endif

int main(int argc, char **argv)
{
  if (argc == 2 && !strcmp(argv[1], "--features")) { /* what the runner may ask for */
    printf("%s%s%s%s%s\n", MAIL_HAVE_SMTP ? "smtp " : "", MAIL_HAVE_POP3 ? "pop3 " : "",
           MAIL_HAVE_IMAP ? "imap " : "", MAIL_HAVE_NNTP ? "nntp " : "",
           MAIL_HAVE_ZLIB ? "compress" : "");
    return 0;
  }
  if (argc != 7) {
    fprintf(stderr, "usage: %s PROTO SECURITY HOST PORT CAFILE OP\n", argv[0]);
    return 2;
  }
  const char *proto = argv[1], *sec = argv[2], *host = argv[3], *cafile = argv[5], *op = argv[6];
  unsigned port = (unsigned)strtoul(argv[4], NULL, 10);
  int security = !strcmp(sec, "implicit")        ? MAIL_SECURITY_IMPLICIT_TLS
                 : !strcmp(sec, "insecure")      ? MAIL_SECURITY_NONE_INSECURE
                 : !strcmp(sec, "opportunistic") ? MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE
                                                 : MAIL_SECURITY_STARTTLS;
  if (mail_init() != MAIL_OK)
    return 2;
  setvbuf(stdout, NULL, _IOLBF, 0);
  event_loop = getenv("HOSTILE_EVENT_LOOP") && *getenv("HOSTILE_EVENT_LOOP") == '1';
  int rc = 77;
#if MAIL_HAVE_SMTP
  if (!strcmp(proto, "smtp"))
    rc = run_smtp(host, port, security, cafile, op);
#endif
#if MAIL_HAVE_POP3
  if (!strcmp(proto, "pop3"))
    rc = run_pop3(host, port, security, cafile, op);
#endif
#if MAIL_HAVE_IMAP
  if (!strcmp(proto, "imap"))
    rc = run_imap(host, port, security, cafile, op);
#endif
#if MAIL_HAVE_NNTP
  if (!strcmp(proto, "nntp"))
    rc = run_nntp(host, port, security, cafile, op);
#endif
  if (rc == 77)
    fprintf(stderr, "%s: protocol not built\n", proto);
  if (trace_leaked)
    printf("trace=LEAKED A CREDENTIAL\n");
  return rc;
}

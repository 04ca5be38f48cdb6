/*
 * IMAP replay server for the IMAP benchmark: serves captured FETCH
 * responses from memory, so a client's time against it is the client's
 * own cost (plus the loopback copy every client pays the same).
 *
 *   imap-replay PORTFILE META [BODY]
 *
 * META is the untagged part of a captured `UID FETCH 1:* (UID FLAGS
 * ENVELOPE BODYSTRUCTURE)` response, BODY that of a `UID FETCH 1
 * (BODY.PEEK[])` (bench_imap capture-meta / capture-body). Listens on an
 * ephemeral port of 127.0.0.1 and writes it to PORTFILE once ready; serves
 * one connection at a time until SIGTERM. It speaks just enough IMAP for
 * the clients: a greeting with capabilities, LOGIN, SELECT/EXAMINE (the
 * message count of META), FETCH / UID FETCH (BODY when the items ask for
 * a body, META otherwise: all of it, or for "UID FETCH first:last" the
 * responses of those UIDs; then the tagged OK with the client's tag),
 * LOGOUT, and a tagged OK for anything else. Several commands in one read
 * (pipelining) are answered in order.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct blob {
  char *data;
  size_t len;
} blob;

static int load(blob *b, const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  b->data = malloc(n > 0 ? (size_t)n : 1);
  b->len = n > 0 ? (size_t)n : 0;
  int ok = b->data && fread(b->data, 1, b->len, f) == b->len;
  fclose(f);
  return ok ? 0 : -1;
}

/* A capture cut into its responses: where each starts and its UID, so a
 * UID FETCH of a range (libcurl's pieces) is served that range. */
typedef struct resp_index {
  size_t *at;       /* start of response i; at[n] is the end */
  unsigned long *uid;
  unsigned long n;
} resp_index;

static unsigned long uid_of(const char *p, const char *lf)
{
  for (const char *q = p; q + 4 < lf; q++)
    if (!memcmp(q, "UID ", 4) && (q[-1] == '(' || q[-1] == ' '))
      return strtoul(q + 4, NULL, 10);
  return 0;
}

static int index_capture(resp_index *x, const blob *b)
{
  const char *p = b->data, *e = b->data + b->len;
  size_t cap = 1024;
  x->at = malloc(cap * sizeof *x->at);
  x->uid = malloc(cap * sizeof *x->uid);
  x->n = 0;
  while (x->at && x->uid && p < e) {
    const char *lf = memchr(p, '\n', (size_t)(e - p));
    if (!lf)
      break;
    if (x->n + 1 >= cap) {
      cap *= 2;
      x->at = realloc(x->at, cap * sizeof *x->at);
      x->uid = realloc(x->uid, cap * sizeof *x->uid);
      if (!x->at || !x->uid)
        return -1;
    }
    x->at[x->n] = (size_t)(p - b->data);
    x->uid[x->n] = uid_of(p, lf);
    x->n++;
    /* a line ending in {n} is followed by n bytes of literal, then the rest
     * of the response */
    for (;;) {
      const char *end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
      p = lf + 1;
      const char *q = end;
      if (q == b->data || q[-1] != '}')
        break;
      q--;
      while (q > b->data && q[-1] >= '0' && q[-1] <= '9')
        q--;
      if (q == b->data || q[-1] != '{')
        break;
      p += strtoull(q, NULL, 10);
      if (p >= e)
        break;
      lf = memchr(p, '\n', (size_t)(e - p));
      if (!lf) {
        p = e;
        break;
      }
    }
  }
  if (!x->at || !x->uid)
    return -1;
  x->at[x->n] = b->len < (size_t)(p - b->data) ? b->len : (size_t)(p - b->data);
  return 0;
}

static int send_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return -1;
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

static int sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sendf(int fd, const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf)
    return -1;
  return send_all(fd, buf, (size_t)n);
}

static int word_is(const char *w, size_t n, const char *name)
{
  return strlen(name) == n && !strncasecmp(w, name, n);
}

static int contains(const char *s, size_t n, const char *needle)
{
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (!strncasecmp(s + i, needle, k))
      return 1;
  return 0;
}

/* Answer one command line (without CRLF). 1 after LOGOUT, -1 on error. */
static int answer(int fd, const char *line, size_t n, const blob *meta, const resp_index *mx,
                  const blob *body)
{
  unsigned long count = mx->n;
  int uid = 0;
  const char *sp = memchr(line, ' ', n);
  if (!sp)
    return sendf(fd, "* BAD no tag\r\n");
  int tl = (int)(sp - line);
  const char *cmd = sp + 1;
  size_t rest = n - (size_t)(cmd - line);
  const char *e = memchr(cmd, ' ', rest);
  size_t cl = e ? (size_t)(e - cmd) : rest;
  if (word_is(cmd, cl, "UID") && e) {
    uid = 1;
    cmd = e + 1;
    rest = n - (size_t)(cmd - line);
    e = memchr(cmd, ' ', rest);
    cl = e ? (size_t)(e - cmd) : rest;
  }
  if (word_is(cmd, cl, "CAPABILITY")) {
    if (sendf(fd, "* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS ENABLE\r\n"))
      return -1;
  } else if (word_is(cmd, cl, "SELECT") || word_is(cmd, cl, "EXAMINE")) {
    if (sendf(fd,
              "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded $Label1)\r\n"
              "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n"
              "* %lu EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
              "* OK [UIDNEXT %lu] Predicted next UID\r\n",
              count, count + 1))
      return -1;
    return sendf(fd, "%.*s OK [READ-ONLY] Examine completed.\r\n", tl, line);
  } else if (word_is(cmd, cl, "FETCH")) {
    if (contains(cmd, rest, "BODY[]") || contains(cmd, rest, "BODY.PEEK[]") ||
        contains(cmd, rest, "RFC822")) {
      if (body->len && send_all(fd, body->data, body->len))
        return -1;
      return sendf(fd, "%.*s OK Fetch completed.\r\n", tl, line);
    }
    /* "UID FETCH first:last" serves the responses of those UIDs ("*" or a
     * plain FETCH: all of them) */
    unsigned long first = 1, last = (unsigned long)-1, i = 0, j;
    if (uid && e) {
      char *q;
      first = strtoul(e + 1, &q, 10);
      if (*q == ':' && q[1] != '*')
        last = strtoul(q + 1, NULL, 10);
      else if (*q != ':')
        last = first;
    }
    while (i < count && mx->uid[i] < first)
      i++;
    for (j = i; j < count && mx->uid[j] <= last; j++)
      ;
    if (j > i && send_all(fd, meta->data + mx->at[i], mx->at[j] - mx->at[i]))
      return -1;
    return sendf(fd, "%.*s OK Fetch completed.\r\n", tl, line);
  } else if (word_is(cmd, cl, "LOGOUT")) {
    if (sendf(fd, "* BYE Logging out\r\n%.*s OK Logout completed.\r\n", tl, line))
      return -1;
    return 1;
  }
  return sendf(fd, "%.*s OK done.\r\n", tl, line);
}

static void serve(int fd, const blob *meta, const resp_index *mx, const blob *body)
{
  char buf[65536];
  size_t have = 0;
  if (sendf(fd, "* OK [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS ENABLE] replay ready.\r\n"))
    return;
  for (;;) {
    ssize_t k = read(fd, buf + have, sizeof buf - have);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return;
    have += (size_t)k;
    char *p = buf;
    char *lf;
    while ((lf = memchr(p, '\n', have - (size_t)(p - buf)))) {
      size_t n = (size_t)(lf - p);
      if (n && p[n - 1] == '\r')
        n--;
      int rc = answer(fd, p, n, meta, mx, body);
      if (rc)
        return;
      p = lf + 1;
    }
    have -= (size_t)(p - buf);
    memmove(buf, p, have);
    if (have == sizeof buf)
      return; /* a line longer than any command of the clients */
  }
}

int main(int argc, char **argv)
{
  if (argc < 3) {
    fputs("usage: imap-replay PORTFILE META [BODY]\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  blob meta = {0}, body = {0};
  if (load(&meta, argv[2]) || (argc > 3 && load(&body, argv[3]))) {
    perror("imap-replay: capture");
    return 1;
  }
  resp_index mx;
  if (index_capture(&mx, &meta)) {
    fputs("imap-replay: out of memory\n", stderr);
    return 1;
  }
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 8) ||
      getsockname(ls, (struct sockaddr *)&a, &al)) {
    perror("imap-replay: listen");
    return 1;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *pf = fopen(tmp, "w");
  if (!pf || fprintf(pf, "%u\n", ntohs(a.sin_port)) < 0 || fclose(pf) || rename(tmp, argv[1])) {
    perror("imap-replay: port file");
    return 1;
  }
  for (;;) {
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR)
        continue;
      perror("imap-replay: accept");
      return 1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    serve(fd, &meta, &mx, &body);
    close(fd);
  }
}

/*
 * NNTP OVER benchmark: OVER of COUNT articles from one replay server
 * (a child process on 127.0.0.1 that answers like INN 2.7.1: its greeting,
 * CAPABILITIES, GROUP and LIST OVERVIEW.FMT as captured from INN, and
 * overview lines in INN's exact format, Xref:full included), read by
 *
 *   raw      a C client: the same commands (LIST OVERVIEW.FMT pipelined
 *            with OVER), one read buffer, lines split at tabs by hand;
 *   libmail  mail_nntp_over() and every field read back through the
 *            accessors (mail_nntp_over_at, _overview_field, _bytes,
 *            _lines, _extra).
 *
 * Both fold the same values into one checksum (article number, the five
 * text fields, :bytes and :lines as numbers, the Xref value without its
 * "Xref: " name), which must agree: the same work was done. Connecting is
 * outside the timed part; one session per round for each, alternating,
 * medians of ROUNDS.
 *
 *   bench_nntp [COUNT=10000] [ROUNDS=9]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mail/nntp.h>

/* ------------------------------------------------------------ checksum */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
  const unsigned char *s = p;
  for (size_t i = 0; i < n; i++)
    h = (h ^ s[i]) * 0x100000001b3ULL;
  return h;
}

static uint64_t fold_num(uint64_t h, uint64_t v)
{
  return fnv(h, &v, sizeof v);
}

/* ------------------------------------------------------------ the server */

static char *over_blob;
static size_t over_len;

static void make_overview(unsigned count)
{
  size_t cap = (size_t)count * 400 + 256, o = 0;
  over_blob = malloc(cap);
  o += (size_t)snprintf(over_blob + o, cap - o, "224 Overview information for 1-%u follows\r\n",
                        count);
  static const char *const names[] = {"Alice Example <alice@libmail.test>",
                                      "bob@libmail.test (Bob)", "=?UTF-8?Q?C=C3=A9dric?= <c@x.test>"};
  for (unsigned i = 1; i <= count; i++) {
    char refs[200] = "";
    if (i > 1 && i % 3)
      snprintf(refs, sizeof refs, "<art.%u.%u@libmail.test>", i - 1, (i - 1) * 7919u);
    if (i > 2 && i % 5 == 0)
      snprintf(refs + strlen(refs), sizeof refs - strlen(refs), " <art.%u.%u@libmail.test>", i - 2,
               (i - 2) * 7919u);
    o += (size_t)snprintf(over_blob + o, cap - o,
                          "%u\t%sSubject number %u about things %.*s\t%s\t"
                          "Wed, %u Dec 2026 %02u:%02u:%02u -0000 (UTC)\t<art.%u.%u@libmail.test>\t%s"
                          "\t%u\t%u\tXref: libmail.test libmail.test.bench:%u\r\n",
                          i, i % 3 ? "Re: " : "", i, (int)(i % 40), "........................................",
                          names[i % 3], 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i, i * 7919u, refs,
                          600 + (i * 37) % 4000, 10 + (i * 13) % 90, i);
  }
  o += (size_t)snprintf(over_blob + o, cap - o, ".\r\n");
  over_len = o;
}

static int send_all(int fd, const void *p, size_t n)
{
  const char *s = p;
  while (n) {
    ssize_t k = write(fd, s, n);
    if (k <= 0)
      return -1;
    s += k;
    n -= (size_t)k;
  }
  return 0;
}

static void serve(int fd, unsigned count)
{
  static const char greeting[] =
    "200 libmail.test InterNetNews NNRP server INN 2.7.1 ready (posting ok)\r\n";
  static const char caps[] =
    "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION INN 2.7.1\r\nHDR\r\n"
    "LIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS DISTRIBUTIONS HEADERS MODERATORS MOTD "
    "NEWSGROUPS OVERVIEW.FMT SUBSCRIPTIONS\r\nNEWNEWS\r\nOVER\r\nPOST\r\nREADER\r\nXPAT\r\n.\r\n";
  static const char fmt[] = "215 Order of fields in overview database\r\nSubject:\r\nFrom:\r\n"
                            "Date:\r\nMessage-ID:\r\nReferences:\r\nBytes:\r\nLines:\r\nXref:full\r\n.\r\n";
  char group[128];
  snprintf(group, sizeof group, "211 %u 1 %u libmail.test.bench\r\n", count, count);
  if (send_all(fd, greeting, sizeof greeting - 1))
    return;
  char buf[4096];
  size_t have = 0;
  for (;;) {
    char *nl;
    while (!(nl = memchr(buf, '\n', have))) {
      ssize_t k = read(fd, buf + have, sizeof buf - have);
      if (k <= 0)
        return;
      have += (size_t)k;
    }
    size_t len = (size_t)(nl - buf) + 1;
    const char *r = "500 What?\r\n";
    size_t rl = strlen(r);
    if (!strncmp(buf, "CAPABILITIES", 12))
      r = caps, rl = sizeof caps - 1;
    else if (!strncmp(buf, "GROUP", 5))
      r = group, rl = strlen(group);
    else if (!strncmp(buf, "LIST OVERVIEW.FMT", 17))
      r = fmt, rl = sizeof fmt - 1;
    else if (!strncmp(buf, "OVER", 4) || !strncmp(buf, "XOVER", 5))
      r = over_blob, rl = over_len;
    else if (!strncmp(buf, "QUIT", 4)) {
      send_all(fd, "205 Bye!\r\n", 10);
      return;
    }
    if (send_all(fd, r, rl))
      return;
    memmove(buf, buf + len, have - len);
    have -= len;
  }
}

static pid_t start_server(unsigned count, unsigned *port)
{
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 8)) {
    perror("bind");
    exit(1);
  }
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  *port = ntohs(a.sin_port);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
      int fd = accept(ls, NULL, NULL);
      if (fd < 0)
        _exit(0);
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      serve(fd, count);
      close(fd);
    }
  }
  close(ls);
  return pid;
}

/* ---------------------------------------------------------- the clients */

static double clock_s(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
  return clock_s(CLOCK_MONOTONIC);
}

/* The client's own CPU time: on a shared machine wall time also counts
 * the other processes that ran meanwhile. */
static double cpu_s(void)
{
  return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

typedef struct timing {
  double wall, cpu;
} timing;

typedef struct raw_conn {
  int fd;
  char *buf;
  size_t cap, start, end;
} raw_conn;

/* The next line (without CRLF) into *line; 0 at EOF. */
static int raw_line(raw_conn *c, const char **line, size_t *len)
{
  for (;;) {
    char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
    if (nl) {
      *line = c->buf + c->start;
      *len = (size_t)(nl - *line);
      if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
      c->start = (size_t)(nl - c->buf) + 1;
      return 1;
    }
    if (c->start) {
      memmove(c->buf, c->buf + c->start, c->end - c->start);
      c->end -= c->start;
      c->start = 0;
    }
    if (c->end == c->cap)
      return 0;
    ssize_t k = read(c->fd, c->buf + c->end, c->cap - c->end);
    if (k <= 0)
      return 0;
    c->end += (size_t)k;
  }
}

static void raw_block(raw_conn *c)
{
  const char *l;
  size_t n;
  while (raw_line(c, &l, &n) && !(n == 1 && l[0] == '.'))
    ;
}

static uint64_t parse_u64(const char *s, size_t n)
{
  uint64_t v = 0;
  for (size_t i = 0; i < n && s[i] >= '0' && s[i] <= '9'; i++)
    v = v * 10 + (uint64_t)(s[i] - '0');
  return v;
}

/* One raw session's OVER: returns the checksum, *secs the timed part. */
static uint64_t run_raw(unsigned port, unsigned count, timing *tm, size_t *records)
{
  raw_conn c = {socket(AF_INET, SOCK_STREAM, 0), malloc(1 << 16), 1 << 16, 0, 0};
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (connect(c.fd, (struct sockaddr *)&a, sizeof a)) {
    perror("connect");
    exit(1);
  }
  const char *l;
  size_t n;
  raw_line(&c, &l, &n);
  send_all(c.fd, "CAPABILITIES\r\n", 14);
  raw_line(&c, &l, &n);
  raw_block(&c);
  send_all(c.fd, "GROUP libmail.test.bench\r\n", 26);
  raw_line(&c, &l, &n);
  double t0 = now_s(), c0 = cpu_s();
  char cmd[64];
  int cl = snprintf(cmd, sizeof cmd, "LIST OVERVIEW.FMT\r\nOVER 1-%u\r\n", count);
  send_all(c.fd, cmd, (size_t)cl);
  raw_line(&c, &l, &n);
  raw_block(&c);
  raw_line(&c, &l, &n); /* 224 */
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t recs = 0;
  while (raw_line(&c, &l, &n) && !(n == 1 && l[0] == '.')) {
    const char *f[9];
    size_t fl[9], k = 0, s = 0;
    if (n && l[0] == '.') /* unstuff */
      l++, n--;
    for (;;) { /* memchr: the floor splits as fast as it can */
      const char *tab = k < 8 ? memchr(l + s, '\t', n - s) : NULL;
      size_t e = tab ? (size_t)(tab - l) : n;
      f[k] = l + s;
      fl[k++] = e - s;
      if (!tab)
        break;
      s = e + 1;
    }
    h = fold_num(h, parse_u64(f[0], fl[0]));
    for (size_t j = 1; j <= 5; j++)
      h = fnv(h, f[j], fl[j]);
    h = fold_num(h, parse_u64(f[6], fl[6]));
    h = fold_num(h, parse_u64(f[7], fl[7]));
    if (k > 8 && fl[8] > 6 && !memcmp(f[8], "Xref: ", 6))
      h = fnv(h, f[8] + 6, fl[8] - 6);
    recs++;
  }
  tm->wall = now_s() - t0;
  tm->cpu = cpu_s() - c0;
  *records = recs;
  send_all(c.fd, "QUIT\r\n", 6);
  close(c.fd);
  free(c.buf);
  return h;
}

static uint64_t run_libmail(unsigned port, unsigned count, timing *tm, size_t *records)
{
  mail_nntp *n = NULL;
  if (mail_nntp_new(&n, NULL) || mail_nntp_connect(n, "127.0.0.1", port, MAIL_SECURITY_NONE_INSECURE) ||
      mail_nntp_group(n, "libmail.test.bench", NULL, NULL, NULL)) {
    fprintf(stderr, "libmail: %s\n", mail_conn_last_error(mail_nntp_conn(n)));
    exit(1);
  }
  double t0 = now_s(), c0 = cpu_s();
  int rc = mail_nntp_over(n, 1, count);
  if (rc) {
    fprintf(stderr, "OVER: %s\n", mail_conn_last_error(mail_nntp_conn(n)));
    exit(1);
  }
  uint64_t h = 0xcbf29ce484222325ULL;
  size_t recs = mail_nntp_over_count(n);
  for (size_t i = 0; i < recs; i++) {
    const mail_nntp_overview *o = mail_nntp_over_at(n, i);
    h = fold_num(h, mail_nntp_overview_number(o));
    for (int f = MAIL_NNTP_OVER_SUBJECT; f <= MAIL_NNTP_OVER_REFERENCES; f++) {
      size_t len;
      const char *v = mail_nntp_overview_field(o, f, &len);
      h = fnv(h, v, len);
    }
    h = fold_num(h, mail_nntp_overview_bytes(o));
    h = fold_num(h, mail_nntp_overview_lines(o));
    size_t xl;
    const char *x = mail_nntp_overview_extra(o, 0, &xl);
    if (x)
      h = fnv(h, x, xl);
  }
  tm->wall = now_s() - t0;
  tm->cpu = cpu_s() - c0;
  *records = recs;
  mail_nntp_quit(n);
  mail_nntp_free(n);
  return h;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
  unsigned count = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
  int rounds = argc > 2 ? atoi(argv[2]) : 9;
  if (!count || rounds < 1 || rounds > 99)
    return 2;
  make_overview(count);
  unsigned port;
  pid_t pid = start_server(count, &port);
  timing traw[99], tlib[99], warm;
  double wall_ratio[99], cpu_ratio[99];
  uint64_t hraw = 0, hlib = 0;
  size_t rraw = 0, rlib = 0;
  run_raw(port, count, &warm, &rraw); /* warm-up: page cache, allocator */
  run_libmail(port, count, &warm, &rlib);
  /* BENCH_ONLY=raw or =libmail: one side only (for a profile). */
  const char *only = getenv("BENCH_ONLY");
  for (int r = 0; r < rounds; r++) {
    if (!only || strcmp(only, "libmail"))
      hraw = run_raw(port, count, &traw[r], &rraw);
    if (!only || strcmp(only, "raw"))
      hlib = run_libmail(port, count, &tlib[r], &rlib);
    wall_ratio[r] = tlib[r].wall / traw[r].wall;
    cpu_ratio[r] = tlib[r].cpu / traw[r].cpu;
  }
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  if (only)
    return 0;
  double w[2][99], cp[2][99];
  for (int r = 0; r < rounds; r++)
    w[0][r] = traw[r].wall, w[1][r] = tlib[r].wall, cp[0][r] = traw[r].cpu, cp[1][r] = tlib[r].cpu;
  for (int k = 0; k < 2; k++) {
    qsort(w[k], (size_t)rounds, sizeof w[k][0], cmp_double);
    qsort(cp[k], (size_t)rounds, sizeof cp[k][0], cmp_double);
  }
  qsort(wall_ratio, (size_t)rounds, sizeof wall_ratio[0], cmp_double);
  qsort(cpu_ratio, (size_t)rounds, sizeof cpu_ratio[0], cmp_double);
  int m = rounds / 2;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("OVER of %u articles, %.1f MB on the wire, replay server (INN 2.7.1 format), %d rounds\n",
         count, (double)over_len / 1e6, rounds);
  printf("| client | records | checksum | median wall s | median CPU s | records/s (wall) |"
         " wall vs raw (median of pairs) | CPU vs raw (median of pairs) |\n");
  printf("|---|---:|---|---:|---:|---:|---:|---:|\n");
  printf("| raw | %zu | %016llx | %.4f | %.4f | %.0f | 1.00x | 1.00x |\n", rraw,
         (unsigned long long)hraw, w[0][m], cp[0][m], (double)rraw / w[0][m]);
  printf("| libmail | %zu | %016llx | %.4f | %.4f | %.0f | %.2fx | %.2fx |\n", rlib,
         (unsigned long long)hlib, w[1][m], cp[1][m], (double)rlib / w[1][m], wall_ratio[m],
         cpu_ratio[m]);
  printf("pair ratios, wall: %.2f..%.2f; CPU: %.2f..%.2f; max RSS of the process %.1f MiB\n",
         wall_ratio[0], wall_ratio[rounds - 1], cpu_ratio[0], cpu_ratio[rounds - 1],
         (double)ru.ru_maxrss / 1024.0);
  if (hraw != hlib || rraw != rlib || rraw != count) {
    fprintf(stderr, "the checksums or record counts differ: not the same work\n");
    return 1;
  }
  return 0;
}

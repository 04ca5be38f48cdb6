/*
 * IMAP FETCH benchmark clients: log in over plain TCP, EXAMINE the
 * mailbox, then time one command from its first byte out to its tagged OK
 * (the connect, login and EXAMINE are not timed):
 *
 *   meta  UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)
 *   body  UID FETCH 1 (BODY.PEEK[]), the mailbox's first message (50 MB)
 *
 * and print one line:
 *
 *   <client> <mode> <seconds> <checksum> <messages> <body bytes> <wire bytes> <max RSS KiB>
 *
 * Clients:
 *   raw       the floor: the command written, replies read into a 256 KiB
 *             buffer and scanned to the tagged OK (memchr to each line end,
 *             a literal's bytes skipped by its count). Unparsed: its
 *             checksum is "-".
 *   libmail   mail_imap_fetch(); each FETCH reaches the untagged callback
 *             typed and every field is read into the checksum
 *             (imap_checksum.c); BODY[] streams to the body callback.
 *   libetpan  mailimap_uid_fetch(); the same fields folded the same way
 *             from the list of results it returns (built whole).
 *   libcurl   CURLOPT_CUSTOMREQUEST "UID FETCH a:b (...)" (meta) or the URL
 *             ".../MAILBOX/;UID=1" (body, libcurl's own FETCH BODY[]); the
 *             untagged lines come back as text through the write callback:
 *             unparsed (and the rest of a line after a literal is dropped).
 *             libcurl holds a custom command's whole response as "headers"
 *             and fails past 300 KB ("Too large response headers", counted
 *             over and over as lines arrive: 40 messages were too many), so it
 *             cannot take 1:* of 10,000 messages in one command: it sends
 *             UID ranges of CURL_CHUNK (20) one after the other on the
 *             connection until one comes back empty (the mailboxes here have UIDs
 *             1..N). The timed transfers
 *             follow a NOOP that connects, logs in and SELECTs.
 *
 *   bench_imap CLIENT MODE HOST PORT USER PASSWORD MAILBOX
 *   bench_imap capture-meta|capture-body HOST PORT USER PASSWORD MAILBOX FILE
 *       (the raw client, writing the untagged bytes of the reply to FILE:
 *        what imap-replay serves)
 *   bench_imap gen-meta COUNT FILE | gen-body BYTES FILE
 *       (a synthetic META capture of COUNT varied messages, or a BODY one
 *        of a message of BYTES, for the short run: no server needed)
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mail/imap.h>

#include "imap_checksum.h"

#ifdef HAVE_CURL
#include <curl/curl.h>
#endif

#define META_ITEMS "(UID FLAGS ENVELOPE BODYSTRUCTURE)"
#define BODY_ITEMS "(BODY.PEEK[])"

static void die(const char *what)
{
  fprintf(stderr, "bench_imap: %s\n", what);
  exit(1);
}

typedef struct result {
  double seconds;
  int typed;           /* the checksum means something */
  uint64_t checksum;
  unsigned long messages;
  uint64_t body_bytes; /* literal bytes (meta) or the body's bytes */
  uint64_t wire_bytes; /* bytes received for the command, when known */
} result;

typedef struct target {
  const char *host, *user, *pass, *mailbox;
  unsigned port;
  int body;   /* mode body, else meta */
  int repeat; /* BENCH_REPEAT: the command runs this often, the fastest counts */
} target;

static void keep_best(result *res, double seconds)
{
  if (res->seconds == 0 || seconds < res->seconds)
    res->seconds = seconds;
}

/* ------------------------------------------------------------------ raw */

typedef struct rawconn {
  int fd;
  size_t start, len;
  uint64_t received;
  FILE *capture; /* capture modes: the untagged bytes go here */
  char buf[256 * 1024];
} rawconn;

static int tcp_connect(const char *host, unsigned port)
{
  char ps[16];
  snprintf(ps, sizeof ps, "%u", port);
  struct addrinfo hints = {0}, *ai;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, ps, &hints, &ai))
    die("resolve");
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
    die("connect");
  freeaddrinfo(ai);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void raw_write(rawconn *c, const char *s)
{
  size_t n = strlen(s);
  while (n) {
    ssize_t k = send(c->fd, s, n, MSG_NOSIGNAL);
    if (k <= 0)
      die("write");
    s += k;
    n -= (size_t)k;
  }
}

static void raw_fill(rawconn *c)
{
  if (c->start == c->len) {
    c->start = c->len = 0;
  } else if (c->len == sizeof c->buf) {
    memmove(c->buf, c->buf + c->start, c->len - c->start);
    c->len -= c->start;
    c->start = 0;
  }
  if (c->len == sizeof c->buf)
    die("a line longer than the buffer");
  ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
  if (k <= 0)
    die("read");
  c->len += (size_t)k;
  c->received += (uint64_t)k;
}

static void raw_keep(rawconn *c, const char *p, size_t n)
{
  if (c->capture && fwrite(p, 1, n, c->capture) != n)
    die("capture write");
}

/* Read to the tagged line of tag: lines by memchr, literals skipped by
 * their count. Counts untagged responses and literal bytes. */
static void raw_to_tagged(rawconn *c, const char *tag, unsigned long *messages, uint64_t *lit)
{
  size_t tl = strlen(tag);
  uint64_t skip = 0;
  int cont = 0; /* the next line continues a response after a literal */
  for (;;) {
    if (skip) {
      size_t k = c->len - c->start;
      if (k > skip)
        k = (size_t)skip;
      raw_keep(c, c->buf + c->start, k);
      c->start += k;
      skip -= k;
      *lit += k;
      if (skip) {
        raw_fill(c);
        continue;
      }
    }
    char *p = c->buf + c->start;
    char *lf = memchr(p, '\n', c->len - c->start);
    if (!lf) {
      raw_fill(c);
      continue;
    }
    size_t n = (size_t)(lf - p) + 1;
    if (!cont && n > tl && !memcmp(p, tag, tl) && p[tl] == ' ') {
      c->start += n;
      if (memcmp(p + tl + 1, "OK", 2))
        die("the command was refused");
      return;
    }
    if (!cont && p[0] == '*')
      ++*messages;
    raw_keep(c, p, n);
    c->start += n;
    const char *end = lf > p && lf[-1] == '\r' ? lf - 1 : lf;
    cont = 0;
    if (end > p && end[-1] == '}') {
      const char *b = end - 1;
      while (b > p && b[-1] >= '0' && b[-1] <= '9')
        b--;
      if (b > p && b[-1] == '{') {
        skip = strtoull(b, NULL, 10);
        cont = 1;
      }
    }
  }
}

static void raw_command(rawconn *c, const char *tag, const char *cmd)
{
  char line[1024];
  unsigned long m = 0;
  uint64_t l = 0;
  snprintf(line, sizeof line, "%s %s\r\n", tag, cmd);
  raw_write(c, line);
  raw_to_tagged(c, tag, &m, &l);
}

static void run_raw(const target *t, result *res, FILE *capture)
{
  rawconn *c = calloc(1, sizeof *c);
  if (!c)
    die("no memory");
  c->fd = tcp_connect(t->host, t->port);
  char cmd[1024];
  /* the greeting */
  for (;;) {
    raw_fill(c);
    char *lf = memchr(c->buf, '\n', c->len);
    if (lf) {
      c->start = (size_t)(lf - c->buf) + 1;
      break;
    }
  }
  snprintf(cmd, sizeof cmd, "LOGIN \"%s\" \"%s\"", t->user, t->pass);
  raw_command(c, "a1", cmd);
  snprintf(cmd, sizeof cmd, "EXAMINE \"%s\"", t->mailbox);
  raw_command(c, "a2", cmd);
  c->capture = capture;
  for (int i = 0; i < t->repeat; i++) {
    res->messages = 0;
    res->body_bytes = 0;
    c->received = c->len - c->start;
    double t0 = bench_now();
    raw_write(c, t->body ? "a3 UID FETCH 1 " BODY_ITEMS "\r\n"
                         : "a3 UID FETCH 1:* " META_ITEMS "\r\n");
    raw_to_tagged(c, "a3", &res->messages, &res->body_bytes);
    keep_best(res, bench_now() - t0);
    res->wire_bytes = c->received - (c->len - c->start);
    c->capture = NULL;
  }
  c->capture = NULL;
  raw_command(c, "a4", "LOGOUT");
  close(c->fd);
  free(c);
}

/* ------------------------------------------------------------------ libmail */

typedef struct lm_state {
  sum s;
  unsigned long messages;
  uint64_t body_bytes;
} lm_state;

static int lm_untagged(void *user, const mail_imap_response *r, int trusted)
{
  (void)trusted;
  lm_state *st = user;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
    return 0;
  st->messages++;
  sum_fetch_libmail(&st->s, r);
  return 0;
}

static int lm_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len)
{
  (void)s;
  (void)data;
  lm_state *st = user;
  if (ev == MAIL_IMAP_BODY_DATA)
    st->body_bytes += len;
  return 0;
}

static void lm_check(int rc, const char *what)
{
  if (rc) {
    fprintf(stderr, "bench_imap: libmail %s: %s\n", what, mail_strerror(rc));
    exit(1);
  }
}

static void run_libmail(const target *t, result *res)
{
  mail_imap *im;
  lm_state st = {{SUM_INIT}, 0, 0};
  lm_check(mail_imap_new(&im, NULL), "new");
  lm_check(mail_sasl_set_allow_insecure_plaintext(mail_imap_sasl(im), 1), "plaintext");
  lm_check(mail_imap_set_auth(im, t->user, t->pass), "auth");
  lm_check(mail_imap_connect(im, t->host, t->port, MAIL_SECURITY_NONE_INSECURE), "connect");
  lm_check(mail_imap_login(im), "login");
  lm_check(mail_imap_select(im, t->mailbox, 1), "examine");
  lm_check(mail_imap_set_untagged_callback(im, lm_untagged, &st), "callback");
  mail_imap_seqset *set;
  lm_check(mail_imap_seqset_new(&set, NULL), "set");
  lm_check(mail_imap_seqset_add_range(set, 1, t->body ? 1 : UINT32_MAX), "set");
  for (int i = 0; i < t->repeat; i++) {
    st = (lm_state){{SUM_INIT}, 0, 0};
    double t0 = bench_now();
    lm_check(mail_imap_fetch(im, set, 1, t->body ? BODY_ITEMS : META_ITEMS, lm_body, &st),
             "fetch");
    keep_best(res, bench_now() - t0);
  }
  mail_imap_seqset_free(set);
  lm_check(mail_imap_logout(im), "logout");
  mail_imap_free(im);
  res->typed = !t->body;
  res->checksum = st.s.h;
  res->messages = st.messages;
  res->body_bytes = st.body_bytes;
}

/* ------------------------------------------------------------------ libetpan */

#ifdef HAVE_ETPAN
static void et_check(int rc, const char *what)
{
  if (rc != MAILIMAP_NO_ERROR && rc != MAILIMAP_NO_ERROR_AUTHENTICATED &&
      rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
    fprintf(stderr, "bench_imap: libetpan %s: %d\n", what, rc);
    exit(1);
  }
}

static void run_libetpan(const target *t, result *res)
{
  mailimap *im = mailimap_new(0, NULL);
  et_check(mailimap_socket_connect(im, t->host, (uint16_t)t->port), "connect");
  et_check(mailimap_login(im, t->user, t->pass), "login");
  et_check(mailimap_examine(im, t->mailbox), "examine");
  struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
  if (t->body) {
    mailimap_fetch_type_new_fetch_att_list_add(
      ft, mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
  } else {
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_envelope());
    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_bodystructure());
  }
  struct mailimap_set *set = t->body ? mailimap_set_new_single(1) : mailimap_set_new_interval(1, 0);
  sum s = {SUM_INIT};
  for (int i = 0; i < t->repeat; i++) {
    s.h = SUM_INIT;
    res->messages = res->body_bytes = 0;
    clist *list = NULL;
    double t0 = bench_now();
    et_check(mailimap_uid_fetch(im, set, ft, &list), "uid fetch");
    for (clistiter *it = clist_begin(list); it; it = clist_next(it)) {
      struct mailimap_msg_att *ma = clist_content(it);
      res->messages++;
      if (!t->body) {
        sum_fetch_libetpan(&s, ma);
        continue;
      }
      for (clistiter *j = clist_begin(ma->att_list); j; j = clist_next(j)) {
        struct mailimap_msg_att_item *item = clist_content(j);
        if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC &&
            item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_BODY_SECTION)
          res->body_bytes += item->att_data.att_static->att_data.att_body_section->sec_length;
      }
    }
    mailimap_fetch_list_free(list);
    keep_best(res, bench_now() - t0);
  }
  mailimap_set_free(set);
  mailimap_fetch_type_free(ft);
  mailimap_logout(im);
  mailimap_free(im);
  res->typed = !t->body;
  res->checksum = s.h;
}
#endif

/* ------------------------------------------------------------------ libcurl */

#ifdef HAVE_CURL
/* libcurl counts a custom command's response as headers, re-counting
 * what it has buffered as lines arrive, and fails at 300 KB: 40 messages of
 * ~700 bytes already did here, 20 never did. */
#define CURL_CHUNK 20

typedef struct curl_state {
  unsigned long messages;
  uint64_t bytes;
} curl_state;

static size_t curl_sink(char *p, size_t size, size_t n, void *user)
{
  curl_state *st = user;
  size_t len = size * n;
  st->bytes += len;
  /* custom requests: one untagged line per call */
  if (len >= 2 && p[0] == '*' && p[1] == ' ')
    st->messages++;
  return len;
}

static void run_libcurl(const target *t, result *res)
{
  char url[1024];
  curl_state st = {0, 0};
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *c = curl_easy_init();
  if (!c)
    die("curl init");
  snprintf(url, sizeof url, "imap://%s:%u/%s", t->host, t->port, t->mailbox);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_USERNAME, t->user);
  curl_easy_setopt(c, CURLOPT_PASSWORD, t->pass);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &st);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
  if (curl_easy_perform(c) != CURLE_OK)
    die("curl: NOOP");
  st.messages = 0;
  st.bytes = 0;
  if (t->body) {
    snprintf(url, sizeof url, "imap://%s:%u/%s/;UID=1", t->host, t->port, t->mailbox);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
  }
  char cmd[256];
  for (int i = 0; i < t->repeat; i++) {
    st.messages = 0;
    st.bytes = 0;
    double t0 = bench_now();
    for (unsigned long first = 1;; first += CURL_CHUNK) {
      unsigned long before = st.messages;
      if (!t->body) {
        snprintf(cmd, sizeof cmd, "UID FETCH %lu:%lu " META_ITEMS, first, first + CURL_CHUNK - 1);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, cmd);
      }
      CURLcode rc = curl_easy_perform(c);
      if (rc != CURLE_OK) {
        fprintf(stderr, "bench_imap: curl: %s\n", curl_easy_strerror(rc));
        exit(1);
      }
      if (t->body || st.messages == before)
        break;
    }
    keep_best(res, bench_now() - t0);
  }
  curl_easy_cleanup(c);
  curl_global_cleanup();
  res->messages = t->body ? 1 : st.messages;
  res->body_bytes = t->body ? st.bytes : 0;
  res->wire_bytes = t->body ? 0 : st.bytes;
}
#endif

/* ------------------------------------------------------------------ gen-meta */

/* A synthetic META capture for the short run: COUNT FETCH responses of
 * varied shapes (plain, multipart/alternative, mixed with attachments and
 * RFC 2231 names, message/rfc822 with an embedded envelope, 8-bit values
 * as literals, NIL fields, several flags), in the form Dovecot sends. */
static void gen_meta(unsigned long count, const char *path)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    die("gen-meta: cannot write");
  static const char *const flags[] = {"", "\\Seen", "\\Seen \\Answered", "$Label1 \\Flagged",
                                      "\\Draft $Forwarded \\Seen"};
  static const char *const names[] = {"NIL", "\"Alice Martin\"", "\"=?UTF-8?B?Wm/DqyBLcmHDnw==?=\"",
                                      "\"Dave O'Brien\""};
  for (unsigned long i = 1; i <= count; i++) {
    const char *nm = names[i % 4];
    char env[1024];
    snprintf(env, sizeof env,
             "(\"Mon, %lu Nov 2026 10:%02lu:00 +0100\" \"report %lu\" ((%s NIL \"u%lu\" "
             "\"example%lu.test\")) ((%s NIL \"u%lu\" \"example%lu.test\")) ((%s NIL \"u%lu\" "
             "\"example%lu.test\")) ((NIL NIL \"bob\" \"libmail.test\")(%s NIL \"c%lu\" "
             "\"example.test\")) %s NIL %s \"<m%lu@libmail.test>\")",
             1 + i % 28, i % 60, i, nm, i, i % 5, nm, i, i % 5, nm, i, i % 5, names[(i + 1) % 4], i,
             i % 3 ? "NIL" : "((\"Carol\" NIL \"carol\" \"example.test\"))",
             i % 4 ? "NIL" : "\"<prev@libmail.test>\"", i);
    fprintf(f, "* %lu FETCH (UID %lu FLAGS (%s) ENVELOPE %s BODYSTRUCTURE ", i, i,
            flags[i % 5], env);
    switch (i % 4) {
    case 0:
      fprintf(f, "(\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"8bit\" %lu %lu NIL NIL "
                 "NIL NIL))\r\n",
              200 + i % 1000, 3 + i % 20);
      break;
    case 1:
      fprintf(f, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" %lu %lu NIL "
                 "NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL "
                 "\"quoted-printable\" %lu %lu NIL NIL NIL NIL) \"alternative\" (\"boundary\" "
                 "\"b-%lu\") NIL NIL NIL))\r\n",
              100 + i, 4 + i % 9, 150 + i, 5 + i % 9, i);
      break;
    case 2:
      /* an 8-bit parameter value comes as a literal, as Dovecot sends it */
      fprintf(f, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 1 NIL NIL "
                 "NIL NIL)(\"application\" \"octet-stream\" (\"name\" {14}\r\n\xc3\x9c"
                 "bersicht.xls) NIL NIL \"base64\" %lu NIL (\"attachment\" (\"filename*\" "
                 "\"utf-8''%%C3%%9Cbersicht.xls\")) \"en\" NIL) \"mixed\" (\"boundary\" "
                 "\"b-%lu\") NIL NIL NIL))\r\n",
              1000 + i * 7, i);
      break;
    default:
      fprintf(f, "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 9 0 NIL NIL NIL NIL)(\"message\" "
                 "\"rfc822\" NIL NIL NIL \"7bit\" %lu %s (\"text\" \"plain\" NIL NIL NIL "
                 "\"7bit\" 40 2 NIL NIL NIL NIL) %lu NIL NIL NIL NIL) \"mixed\" (\"boundary\" "
                 "\"b-%lu\") NIL NIL NIL))\r\n",
              300 + i, env, 8 + i % 5, i);
      break;
    }
  }
  if (fclose(f))
    die("gen-meta: write failed");
}

/* A BODY capture of one message of size bytes (short run). */
static void gen_body(unsigned long size, const char *path)
{
  FILE *f = fopen(path, "wb");
  if (!f)
    die("gen-body: cannot write");
  fprintf(f, "* 1 FETCH (UID 1 BODY[] {%lu}\r\n", size);
  static const char line[] = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n";
  for (unsigned long at = 0; at < size; at += sizeof line - 1) {
    size_t k = size - at < sizeof line - 1 ? (size_t)(size - at) : sizeof line - 1;
    fwrite(line, 1, k, f);
  }
  fputs(")\r\n", f);
  if (fclose(f))
    die("gen-body: write failed");
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
  fputs("usage: bench_imap raw|libmail|libetpan|libcurl meta|body HOST PORT USER PASSWORD "
        "MAILBOX\n"
        "       bench_imap capture-meta|capture-body HOST PORT USER PASSWORD MAILBOX FILE\n"
        "       bench_imap gen-meta COUNT FILE | gen-body BYTES FILE\n",
        stderr);
  exit(2);
}

int main(int argc, char **argv)
{
  if (argc == 4 && !strcmp(argv[1], "gen-meta")) {
    gen_meta(strtoul(argv[2], NULL, 10), argv[3]);
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "gen-body")) {
    gen_body(strtoul(argv[2], NULL, 10), argv[3]);
    return 0;
  }
  if (argc == 8 && !strncmp(argv[1], "capture-", 8)) {
    target t = {argv[2], argv[4], argv[5], argv[6], (unsigned)atoi(argv[3]),
                !strcmp(argv[1], "capture-body"), 1};
    result res = {0};
    FILE *f = fopen(argv[7], "wb");
    if (!f)
      die("cannot write the capture");
    run_raw(&t, &res, f);
    if (fclose(f))
      die("capture write failed");
    printf("%s: %lu messages, %llu bytes\n", argv[7], res.messages,
           (unsigned long long)res.wire_bytes);
    return 0;
  }
  if (argc != 8)
    usage();
  const char *client = argv[1], *mode = argv[2];
  if (strcmp(mode, "meta") && strcmp(mode, "body"))
    usage();
  target t = {argv[3], argv[5], argv[6], argv[7], (unsigned)atoi(argv[4]), !strcmp(mode, "body"),
              getenv("BENCH_REPEAT") ? atoi(getenv("BENCH_REPEAT")) : 1};
  if (t.repeat < 1 || t.repeat > 1000)
    t.repeat = 1;
  result res = {0};
  if (!strcmp(client, "raw"))
    run_raw(&t, &res, NULL);
  else if (!strcmp(client, "libmail"))
    run_libmail(&t, &res);
#ifdef HAVE_ETPAN
  else if (!strcmp(client, "libetpan"))
    run_libetpan(&t, &res);
#endif
#ifdef HAVE_CURL
  else if (!strcmp(client, "libcurl"))
    run_libcurl(&t, &res);
#endif
  else
    die("unknown client (or not built in)");
  char ck[32] = "-";
  if (res.typed)
    snprintf(ck, sizeof ck, "%016llx", (unsigned long long)res.checksum);
  printf("%s %s %.6f %s %lu %llu %llu %ld\n", client, mode, res.seconds, ck, res.messages,
         (unsigned long long)res.body_bytes, (unsigned long long)res.wire_bytes, bench_max_rss_kib());
  return 0;
}

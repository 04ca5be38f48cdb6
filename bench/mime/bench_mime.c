/* MIME benchmark: one peer per process, so peak RSS (VmHWM) is that peer's.
 *
 *   bench_mime PEER MODE DIR     PEER: libmail | libmail-stream | gmime | etpan | floor
 *                                MODE: full | headers
 *   bench_mime huge SIZE_MIB     a message with a SIZE_MIB attachment, generated on the fly
 *                                and parsed streamed (libmail)
 *   bench_mime scaling           pathological shapes at size N and 2N (libmail)
 *
 * "full": build the part tree and transfer-decode every leaf into memory,
 * no charset conversion. "headers": the top-level header block of each
 * message, the search for the blank line included. Every file is read
 * with read() into one reused buffer. Prints one line:
 *   peer mode bytes seconds MB/s vmhwm_kib
 * (headers mode goes over the corpus 5 times; bytes count every pass)
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mail/mime.h>

#ifdef HAVE_GMIME
#include <gmime/gmime.h>
#endif
#ifdef HAVE_ETPAN
#include <libetpan/libetpan.h>
#endif

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long vmhwm_kib(void)
{
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmHWM:", 6))
      v = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return v;
}

/* ---------------------------------------------------------------- files */

typedef struct corpus {
  char **paths;
  size_t n;
  unsigned char *buf;   /* the one reused read buffer */
  size_t cap;
} corpus;

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void corpus_open(corpus *c, const char *dir)
{
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    exit(1);
  }
  struct dirent *e;
  size_t cap = 0;
  memset(c, 0, sizeof *c);
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.')
      continue;
    if (c->n == cap)
      c->paths = realloc(c->paths, (cap = cap ? cap * 2 : 256) * sizeof *c->paths);
    size_t l = strlen(dir) + strlen(e->d_name) + 2;
    c->paths[c->n] = malloc(l);
    snprintf(c->paths[c->n++], l, "%s/%s", dir, e->d_name);
  }
  closedir(d);
  qsort(c->paths, c->n, sizeof *c->paths, cmp_str);
}

/* Read file i into the reused buffer; returns its length. */
static size_t corpus_read(corpus *c, size_t i)
{
  int fd = open(c->paths[i], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) {
    perror(c->paths[i]);
    exit(1);
  }
  size_t need = (size_t)st.st_size + 1;
  if (need > c->cap) {
    free(c->buf);
    c->buf = malloc(c->cap = need);
  }
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t r = read(fd, c->buf + got, (size_t)st.st_size - got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  return got;
}

/* A sink every peer writes its decoded bytes' count into, so the work
 * cannot be optimised away. */
static volatile unsigned long long g_decoded;

/* -------------------------------------------------------------- libmail */

static void lm_decode_leaves(mail_mime_part *p)
{
  size_t n = mail_mime_part_child_count(p);
  if (!n) {
    if (!mail_mime_part_is_multipart(p)) {
      unsigned char *out;
      size_t len;
      if (mail_mime_part_decode(p, 0, &out, &len) == MAIL_OK) {
        g_decoded += len + (len ? out[0] : 0);
        mail_free(out);
      }
    }
    return;
  }
  for (size_t i = 0; i < n; i++)
    lm_decode_leaves(mail_mime_part_child(p, i));
}

static void run_libmail(const unsigned char *d, size_t n, int headers)
{
  mail_mime_message *m;
  if (mail_mime_message_parse(&m, d, n, MAIL_MIME_BORROW | (headers ? MAIL_MIME_HEADERS_ONLY : 0),
                              NULL, NULL) != MAIL_OK)
    exit(2);
  if (headers)
    g_decoded += mail_mime_part_header_count(mail_mime_message_root(m));
  else
    lm_decode_leaves(mail_mime_message_root(m));
  mail_mime_message_free(m);
}

/* Streaming: decoded bytes of each leaf collected into one reused buffer. */
typedef struct stream_acc {
  unsigned char *buf;
  size_t len, cap;
} stream_acc;

static int st_body(void *u, mail_mime_part *p, const void *d, size_t n)
{
  stream_acc *a = u;
  if (a->len + n > a->cap) {
    a->cap = (a->len + n) * 2;
    a->buf = realloc(a->buf, a->cap);
  }
  memcpy(a->buf + a->len, d, n);
  a->len += n;
  return 0;
}

static int st_end(void *u, mail_mime_part *p)
{
  stream_acc *a = u;
  g_decoded += a->len;
  a->len = 0;
  return 0;
}

static void run_libmail_stream(mail_mime_parser *ps, const unsigned char *d, size_t n)
{
  mail_mime_parser_reset(ps);
  mail_mime_parser_feed(ps, d, n);
  mail_mime_parser_finish(ps);
}

/* ---------------------------------------------------------------- gmime */

#ifdef HAVE_GMIME
static void gm_leaf(GMimeObject *parent, GMimeObject *part, gpointer user)
{
  (void)parent;
  (void)user;
  if (GMIME_IS_MESSAGE_PART(part)) {
    GMimeMessage *inner = g_mime_message_part_get_message((GMimeMessagePart *)part);
    if (inner)
      g_mime_message_foreach(inner, gm_leaf, NULL);
    return;
  }
  if (!GMIME_IS_PART(part))
    return;
  GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)part);
  if (!w)
    return;
  GMimeStream *out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(w, out);
  GByteArray *ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)out);
  g_decoded += ba->len;
  g_object_unref(out);
}

static void run_gmime(GByteArray *ga, int headers)
{
  GMimeStream *s = g_mime_stream_mem_new_with_byte_array(ga);
  g_mime_stream_mem_set_owner((GMimeStreamMem *)s, FALSE);
  GMimeParser *p = g_mime_parser_new_with_stream(s);
  GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
  if (m) {
    if (headers)
      g_decoded += g_mime_header_list_get_count(g_mime_object_get_header_list((GMimeObject *)m));
    else
      g_mime_message_foreach(m, gm_leaf, NULL);
    g_object_unref(m);
  }
  g_object_unref(p);
  g_object_unref(s);
}
#endif

/* ---------------------------------------------------------------- libetpan */

#ifdef HAVE_ETPAN
static void et_leaves(struct mailmime *mm)
{
  switch (mm->mm_type) {
  case MAILMIME_SINGLE: {
    struct mailmime_data *d = mm->mm_data.mm_single;
    if (d && d->dt_type == MAILMIME_DATA_TEXT) {
      char *res;
      size_t idx = 0, rl;
      if (mailmime_part_parse(d->dt_data.dt_text.dt_data, d->dt_data.dt_text.dt_length, &idx,
                              d->dt_encoding, &res, &rl) == MAILIMF_NO_ERROR) {
        g_decoded += rl;
        mailmime_decoded_part_free(res);
      }
    }
    break;
  }
  case MAILMIME_MULTIPLE:
    for (clistiter *it = clist_begin(mm->mm_data.mm_multipart.mm_mp_list); it; it = clist_next(it))
      et_leaves(clist_content(it));
    break;
  case MAILMIME_MESSAGE:
    if (mm->mm_data.mm_message.mm_msg_mime)
      et_leaves(mm->mm_data.mm_message.mm_msg_mime);
    break;
  }
}

static void run_etpan(const unsigned char *d, size_t n, int headers)
{
  size_t idx = 0;
  if (headers) {
    struct mailimf_fields *f;
    if (mailimf_fields_parse((const char *)d, n, &idx, &f) == MAILIMF_NO_ERROR) {
      g_decoded += clist_count(f->fld_list);
      mailimf_fields_free(f);
    }
    return;
  }
  struct mailmime *mm;
  if (mailmime_parse((const char *)d, n, &idx, &mm) == MAILIMF_NO_ERROR) {
    et_leaves(mm);
    mailmime_free(mm);
  }
}
#endif

/* ---------------------------------------------------------------- floor */

static unsigned char B64[256];

static void floor_init(void)
{
  const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  memset(B64, 0x80, sizeof B64);
  for (int i = 0; i < 64; i++)
    B64[(unsigned char)al[i]] = (unsigned char)i;
}

/* memchr over every line; lines of base64 bodies decoded into out. */
static void run_floor(const unsigned char *d, size_t n, unsigned char *out, int headers)
{
  const unsigned char *p = d, *end = d + n;
  int in_b64 = 0, pending_b64 = 0, in_headers = 1;
  size_t o = 0, lines = 0;
  while (p < end) {
    const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
    const unsigned char *le = nl ? nl : end;
    size_t len = (size_t)(le - p);
    if (len && p[len - 1] == '\r')
      len--;
    lines++;
    if (len == 0) {
      if (headers && in_headers)
        break;
      in_headers = 0;
      if (pending_b64) {
        in_b64 = 1;
        pending_b64 = 0;
      }
    } else if (p[0] == '-' && len > 1 && p[1] == '-') {
      in_b64 = 0;
    } else if (in_b64) {
      for (size_t i = 0; i + 4 <= len; i += 4) {
        unsigned v = (unsigned)B64[p[i]] << 18 | (unsigned)B64[p[i + 1]] << 12 |
                     (unsigned)B64[p[i + 2]] << 6 | B64[p[i + 3]];
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
      }
    } else if (len == 33 && !memcmp(p, "Content-Transfer-Encoding: base64", 33)) {
      pending_b64 = 1;
    }
    p = le + 1;
  }
  g_decoded += o + lines;
}

/* ---------------------------------------------------------------- huge */

static int count_body(void *u, mail_mime_part *p, const void *d, size_t n)
{
  *(unsigned long long *)u += n;
  return 0;
}

static int run_huge(unsigned long mib)
{
  mail_mime_parser *ps;
  unsigned long long got = 0;
  mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &got, NULL, NULL, NULL, count_body, NULL, NULL};
  mail_mime_parser_new(&ps, NULL);
  mail_mime_parser_set_callbacks(ps, &cb);
  const char *head = "From: a@example.org\r\nSubject: huge\r\nMIME-Version: 1.0\r\n"
                     "Content-Type: multipart/mixed; boundary=\"huge-b\"\r\n\r\n--huge-b\r\n"
                     "Content-Type: text/plain\r\n\r\nsee attachment\r\n--huge-b\r\n"
                     "Content-Type: application/octet-stream\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n";
  double t0 = now();
  mail_mime_parser_feed(ps, head, strlen(head));
  /* 57 bytes per 76-character line; 64 KiB chunks generated on the fly */
  static unsigned char chunk[78 * 840];
  const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned long long want = (unsigned long long)mib << 20, lines = want / 57, fed = strlen(head);
  unsigned int seed = 1;
  for (unsigned long long l = 0; l < lines;) {
    size_t o = 0;
    for (int k = 0; k < 840 && l < lines; k++, l++) {
      for (int c = 0; c < 76; c++) {
        seed = seed * 1103515245u + 12345u;
        chunk[o++] = (unsigned char)al[(seed >> 16) & 63];
      }
      chunk[o++] = '\r';
      chunk[o++] = '\n';
    }
    mail_mime_parser_feed(ps, chunk, o);
    fed += o;
  }
  const char *tail = "--huge-b--\r\n";
  mail_mime_parser_feed(ps, tail, strlen(tail));
  mail_mime_parser_finish(ps);
  double dt = now() - t0;
  printf("libmail huge %llu %.3f %.1f %ld decoded=%llu defects=%zu\n", fed + strlen(tail), dt,
         fed / dt / 1e6, vmhwm_kib(), got, mail_mime_parser_defect_total(ps));
  mail_mime_parser_free(ps);
  /* the attachment plus the 14 bytes of the text part */
  return got == lines * 57 + 14 ? 0 : 1;
}

/* ---------------------------------------------------------------- scaling */

typedef void (*shape_fn)(char **buf, size_t *len, size_t n);

static void append(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap) {
    *cap = (*len + n + 1) * 2;
    *b = realloc(*b, *cap);
  }
  memcpy(*b + *len, s, n);
  *len += n;
}

static void shape_parts(char **b, size_t *len, size_t n)
{
  size_t cap = 0;
  *b = NULL;
  *len = 0;
  const char *h = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  append(b, len, &cap, h, strlen(h));
  for (size_t i = 0; i < n; i++)
    append(b, len, &cap, "--b\r\n\r\nx\r\n", 10);
  append(b, len, &cap, "--b--\r\n", 7);
}

static void shape_folded_header(char **b, size_t *len, size_t n)
{
  size_t cap = 0;
  *b = NULL;
  *len = 0;
  append(b, len, &cap, "Subject: x\r\n", 12);
  for (size_t i = 0; i < n; i++)
    append(b, len, &cap, " =?utf-8?q?folded?= line\r\n", 26);
  append(b, len, &cap, "\r\nbody\r\n", 8);
}

static void shape_long_line(char **b, size_t *len, size_t n)
{
  size_t cap = 0;
  *b = NULL;
  *len = 0;
  const char *h = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n";
  append(b, len, &cap, h, strlen(h));
  for (size_t i = 0; i < n; i++)
    append(b, len, &cap, "\n-\n--\n--c ", 10); /* near-boundaries, never a match */
  append(b, len, &cap, "\r\n--b--\r\n", 9);
}

static void shape_many_headers(char **b, size_t *len, size_t n)
{
  size_t cap = 0;
  *b = NULL;
  *len = 0;
  char line[64];
  for (size_t i = 0; i < n; i++) {
    int l = snprintf(line, sizeof line, "X-H%zu: v\r\n", i % 9000);
    append(b, len, &cap, line, (size_t)l);
  }
  append(b, len, &cap, "\r\nbody\r\n", 8);
}

static double time_shape(shape_fn f, size_t n)
{
  char *b;
  size_t len;
  f(&b, &len, n);
  double best = 1e9;
  for (int r = 0; r < 5; r++) {
    double t0 = now();
    mail_mime_message *m;
    mail_mime_limits lim;
    mail_mime_limits_default(&lim);
    lim.max_parts = 10000000;
    lim.max_headers = 10000000;
    lim.max_header_length = 1u << 30;
    lim.max_header_block = 1u << 30;
    mail_mime_message_parse(&m, b, len, MAIL_MIME_BORROW, &lim, NULL);
    /* decode what a client would: every leaf and the subject */
    mail_mime_part *root = mail_mime_message_root(m);
    mail_mime_part_header_decoded(root, "subject");
    for (size_t i = 0; i < mail_mime_part_child_count(root); i++) {
      unsigned char *o;
      size_t ol;
      if (mail_mime_part_decode(mail_mime_part_child(root, i), 0, &o, &ol) == MAIL_OK)
        mail_free(o);
    }
    mail_mime_message_free(m);
    double dt = now() - t0;
    if (dt < best)
      best = dt;
  }
  free(b);
  return best;
}

static int run_scaling(void)
{
  struct { const char *name; shape_fn f; size_t n; } shapes[] = {
    {"parts", shape_parts, 500000},
    {"folded-header", shape_folded_header, 400000},
    {"near-boundaries", shape_long_line, 2000000},
    {"many-headers", shape_many_headers, 800000},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    double a = time_shape(shapes[i].f, shapes[i].n);
    double b = time_shape(shapes[i].f, shapes[i].n * 2);
    printf("scaling %-16s N=%-8zu %.4fs  2N %.4fs  ratio %.2f\n", shapes[i].name, shapes[i].n, a, b, b / a);
  }
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
  if (argc == 3 && !strcmp(argv[1], "huge"))
    return run_huge(strtoul(argv[2], NULL, 10));
  if (argc == 2 && !strcmp(argv[1], "scaling"))
    return run_scaling();
  if (argc != 4) {
    fprintf(stderr, "usage: bench_mime PEER full|headers DIR | huge MIB | scaling\n");
    return 2;
  }
  const char *peer = argv[1];
  int headers = !strcmp(argv[2], "headers");
  corpus c;
  corpus_open(&c, argv[3]);
  unsigned long long total = 0;
  unsigned char *floor_out = NULL;
  mail_mime_parser *ps = NULL;
  stream_acc acc = {0};
#ifdef HAVE_GMIME
  GByteArray *ga = NULL;
  if (!strcmp(peer, "gmime")) {
    g_mime_init();
    ga = g_byte_array_new();
  }
#endif
  if (!strcmp(peer, "floor"))
    floor_init();
  if (!strcmp(peer, "libmail-stream")) {
    mail_mime_callbacks cb = {MAIL_MIME_CALLBACKS_VERSION, &acc, NULL, NULL, NULL, st_body, st_end, NULL};
    mail_mime_parser_new(&ps, NULL);
    mail_mime_parser_set_callbacks(ps, &cb);
    if (headers)
      mail_mime_parser_set_flags(ps, MAIL_MIME_HEADERS_ONLY);
  }
  /* headers-only passes are short: repeat them so timer noise matters less */
  int passes = headers ? 5 : 1;
  double t0 = now();
  for (size_t pi = 0; pi < c.n * (size_t)passes; pi++) {
    size_t i = pi % c.n;
    size_t n;
#ifdef HAVE_GMIME
    if (ga) {
      /* read() straight into the byte array GMime's stream reads from */
      struct stat st;
      int fd = open(c.paths[i], O_RDONLY);
      fstat(fd, &st);
      g_byte_array_set_size(ga, (guint)st.st_size);
      n = 0;
      while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, ga->data + n, (size_t)st.st_size - n);
        if (r <= 0)
          break;
        n += (size_t)r;
      }
      close(fd);
      total += n;
      run_gmime(ga, headers);
      continue;
    }
#endif
    n = corpus_read(&c, i);
    total += n;
    if (!strcmp(peer, "libmail")) {
      run_libmail(c.buf, n, headers);
    } else if (!strcmp(peer, "libmail-stream")) {
      run_libmail_stream(ps, c.buf, n);
    } else if (!strcmp(peer, "floor")) {
      static size_t fcap;
      if (fcap < c.cap) {
        free(floor_out);
        floor_out = malloc(fcap = c.cap);
      }
      run_floor(c.buf, n, floor_out, headers);
#ifdef HAVE_ETPAN
    } else if (!strcmp(peer, "etpan")) {
      run_etpan(c.buf, n, headers);
#endif
    } else {
      fprintf(stderr, "unknown or not built peer: %s\n", peer);
      return 2;
    }
  }
  double dt = now() - t0;
  printf("%s %s %llu %.3f %.1f %ld\n", peer, argv[2], total, dt, total / dt / 1e6, vmhwm_kib());
  mail_mime_parser_free(ps);
  free(acc.buf);
  free(floor_out);
  return 0;
}

/* mailcli mime parse FILE|- | extract FILE|- DIR | build [send options]
 *
 * parse prints every part (path, content type, charset, disposition,
 * filename, transfer encoding, decoded size, defects); with --json one
 * object: subject (decoded), from, to (address lists), defects and the
 * leaf parts in order, each with its size and the sha256 of its
 * transfer-decoded bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose.h"

typedef struct leaf_sum {
  uint64_t size;
  char hex[65];
  int fd; /* extract: also written here, or -1 */
} leaf_sum;

typedef struct sum_ctx {
  leaf_sum *sum;
  cli_sha256 *d;
} sum_ctx;

static int digest_chunk(void *user, const void *data, size_t len)
{
  sum_ctx *c = user;
  c->sum->size += len;
  if (cli_sha256_update(c->d, data, len))
    return 1;
  const char *p = data;
  while (c->sum->fd >= 0 && len) {
    ssize_t w = write(c->sum->fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return 1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Decode a leaf: its size and sha256 (and, with fd >= 0, its bytes into fd). */
static int leaf_digest(mail_mime_part *part, leaf_sum *s)
{
  sum_ctx c = {s, cli_sha256_new()};
  s->size = 0;
  s->hex[0] = 0;
  if (!c.d)
    return MAIL_ERR_NOMEM;
  int rc = mail_mime_part_decode_cb(part, 0, digest_chunk, &c);
  if (cli_sha256_finish(c.d, s->hex) && !rc)
    rc = MAIL_ERR_NOMEM;
  return rc;
}

static int is_leaf(const mail_mime_part *p)
{
  return mail_mime_part_child_count(p) == 0 && !mail_mime_part_is_multipart(p);
}

typedef struct walk_state {
  int json;
  leaf_sum *sums;
  size_t nsums, cap;
  size_t printed;
  int first;
} walk_state;

static void print_text_part(mail_mime_part *p)
{
  printf("%*s%s %s", (int)mail_mime_part_depth(p) * 2, "",
         *mail_mime_part_path(p) ? mail_mime_part_path(p) : "(root)", mail_mime_part_content_type(p));
  if (mail_mime_part_charset(p))
    printf(" charset=%s", mail_mime_part_charset(p));
  if (mail_mime_part_disposition(p))
    printf(" disposition=%s", mail_mime_part_disposition(p));
  if (mail_mime_part_filename(p))
    printf(" filename=\"%s\"", mail_mime_part_filename(p));
  printf(" encoding=%s", mail_mime_part_encoding_name(p));
  leaf_sum s = {0, "", -1};
  if (is_leaf(p) && leaf_digest(p, &s) == MAIL_OK)
    printf(" size=%llu", (unsigned long long)s.size);
  for (size_t i = 0; i < mail_mime_part_defect_count(p); i++) {
    int kind;
    uint64_t off;
    mail_mime_part_defect(p, i, &kind, &off);
    printf(" defect=%s@%llu", mail_mime_defect_name(kind), (unsigned long long)off);
  }
  putchar('\n');
}

static void print_json_leaf(mail_mime_part *p, const leaf_sum *s, int *first)
{
  printf("%s\n    {", *first ? "" : ",");
  *first = 0;
  int f = 1;
  json_field(stdout, &f, "path", mail_mime_part_path(p));
  json_field(stdout, &f, "content_type", mail_mime_part_content_type(p));
  json_field(stdout, &f, "charset", mail_mime_part_charset(p));
  json_field(stdout, &f, "disposition", mail_mime_part_disposition(p));
  json_field(stdout, &f, "filename", mail_mime_part_filename(p));
  json_field(stdout, &f, "encoding", mail_mime_part_encoding_name(p));
  printf(", \"size\": %llu, \"sha256\": \"%s\"}", (unsigned long long)s->size, s->hex);
}

/* Depth first; the parser bounds the depth. pass 1 decodes every leaf
 * (decoding adds defects, which the JSON lists before the parts); pass 2
 * prints the leaves. */
static int walk(mail_mime_part *p, walk_state *w, int pass)
{
  if (!w->json) {
    print_text_part(p);
  } else if (is_leaf(p) && pass == 1) {
    if (w->nsums == w->cap) {
      size_t cap = w->cap ? w->cap * 2 : 16;
      leaf_sum *n = realloc(w->sums, cap * sizeof *n);
      if (!n)
        return -1;
      w->sums = n;
      w->cap = cap;
    }
    leaf_sum *s = &w->sums[w->nsums++];
    s->fd = -1;
    leaf_digest(p, s);
  } else if (is_leaf(p)) {
    print_json_leaf(p, &w->sums[w->printed++], &w->first);
  }
  for (size_t i = 0; i < mail_mime_part_child_count(p); i++)
    if (walk(mail_mime_part_child(p, i), w, pass))
      return -1;
  return 0;
}

static void json_addresses(mail_mime_part *root, const char *name)
{
  const char *v = mail_mime_part_header(root, name);
  mail_address_list *l = NULL;
  putchar('[');
  if (v && mail_address_list_parse(&l, v, strlen(v), 0, NULL, NULL) == MAIL_OK) {
    for (size_t i = 0; i < mail_address_list_count(l); i++) {
      const mail_address *a = mail_address_list_get(l, i);
      int f = 1;
      printf("%s{", i ? ", " : "");
      json_field(stdout, &f, "name", a->name);
      json_field(stdout, &f, "address", a->mailbox);
      putchar('}');
    }
  }
  mail_address_list_free(l);
  putchar(']');
}

static int print_json(mail_mime_message *msg)
{
  mail_mime_part *root = mail_mime_message_root(msg);
  walk_state w = {1, NULL, 0, 0, 0, 1};
  printf("{\n  \"subject\": ");
  json_string(stdout, mail_mime_part_header_decoded(root, "subject"));
  printf(",\n  \"from\": ");
  json_addresses(root, "from");
  printf(",\n  \"to\": ");
  json_addresses(root, "to");
  if (walk(root, &w, 1)) {
    free(w.sums);
    return cli_fail(EXIT_INPUT, "mime parse", "out of memory");
  }
  printf(",\n  \"defects\": [");
  for (size_t i = 0; i < mail_mime_message_defect_count(msg); i++) {
    int kind;
    uint64_t off;
    const mail_mime_part *p;
    mail_mime_message_defect(msg, i, &kind, &off, &p);
    printf("%s{\"kind\": \"%s\", \"offset\": %llu, \"path\": ", i ? ", " : "",
           mail_mime_defect_name(kind), (unsigned long long)off);
    json_string(stdout, p ? mail_mime_part_path(p) : NULL);
    putchar('}');
  }
  printf("],\n  \"parts\": [");
  walk(root, &w, 2);
  printf("\n  ]\n}\n");
  free(w.sums);
  return EXIT_OK;
}

/* Parse FILE (or stdin) into a tree that borrows *data. */
static int load(const char *file, char **data, mail_mime_message **msg)
{
  size_t len;
  if (cli_read_file(file, data, &len))
    return cli_fail(EXIT_INPUT, "mime", "%s: %s", file, strerror(errno));
  int rc = mail_mime_message_parse(msg, *data, len, MAIL_MIME_BORROW | MAIL_MIME_CHECK_HEADERS,
                                   NULL, NULL);
  if (rc) {
    free(*data);
    return cli_fail(EXIT_INPUT, "mime", "%s: %s", file, mail_strerror(rc));
  }
  return EXIT_OK;
}

static int mime_parse(const cli_options *o, cli_args *a)
{
  if (a->argc != 1)
    return cli_usage_error("mime parse needs one FILE (or - for standard input)");
  char *data;
  mail_mime_message *msg;
  int code = load(a->argv[0], &data, &msg);
  if (code)
    return code;
  if (o->json) {
    code = print_json(msg);
  } else {
    walk_state w = {0, NULL, 0, 0, 0, 1};
    walk(mail_mime_message_root(msg), &w, 0);
  }
  mail_mime_message_free(msg);
  free(data);
  return fflush(stdout) ? cli_fail(EXIT_INPUT, "mime parse", "writing the output failed") : code;
}

/* Open DIR/name without overwriting: name, then name-1.ext, name-2.ext ... */
static int open_unique(const char *dir, const char *name, char *path, size_t cap)
{
  const char *dot = strrchr(name, '.');
  int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
  for (unsigned n = 0; n < 1000; n++) {
    if (n == 0)
      snprintf(path, cap, "%s/%s", dir, name);
    else
      snprintf(path, cap, "%s/%.*s-%u%s", dir, stem, name, n, name + stem);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

typedef struct extract_state {
  const cli_options *o;
  const char *dir;
  size_t count;
  int code;
} extract_state;

static void extract_part(mail_mime_part *p, extract_state *x)
{
  if (x->code)
    return;
  if (is_leaf(p)) {
    const char *fname = mail_mime_part_filename(p), *disp = mail_mime_part_disposition(p);
    if (fname || (disp && !strcmp(disp, "attachment"))) {
      char fallback[64], path[4096];
      snprintf(fallback, sizeof fallback, "attachment-%s", mail_mime_part_path(p));
      char *safe = mail_mime_safe_filename(fname ? fname : fallback, NULL);
      int fd = safe ? open_unique(x->dir, safe, path, sizeof path) : -1;
      mail_free(safe);
      if (fd < 0) {
        x->code = cli_fail(EXIT_INPUT, "mime extract", "%s: %s", x->dir, strerror(errno));
        return;
      }
      leaf_sum s = {0, "", fd};
      int rc = leaf_digest(p, &s);
      if (close(fd) != 0 && !rc)
        rc = MAIL_ERR_FILE;
      if (rc) {
        unlink(path);
        x->code = cli_fail(EXIT_INPUT, "mime extract", "%s: %s", path, mail_strerror(rc));
        return;
      }
      x->count++;
      if (x->o->json) {
        int f = 1;
        putchar('{');
        json_field(stdout, &f, "path", mail_mime_part_path(p));
        json_field(stdout, &f, "filename", fname);
        json_field(stdout, &f, "file", path);
        printf(", \"size\": %llu, \"sha256\": \"%s\"}\n", (unsigned long long)s.size, s.hex);
      } else {
        printf("%s -> %s (%llu bytes, sha256 %s)\n", mail_mime_part_path(p), path,
               (unsigned long long)s.size, s.hex);
      }
    }
  }
  for (size_t i = 0; i < mail_mime_part_child_count(p); i++)
    extract_part(mail_mime_part_child(p, i), x);
}

static int mime_extract(const cli_options *o, cli_args *a)
{
  if (a->argc != 2)
    return cli_usage_error("mime extract needs FILE (or -) and DIR");
  const char *dir = a->argv[1];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST)
    return cli_fail(EXIT_INPUT, "mime extract", "%s: %s", dir, strerror(errno));
  char *data;
  mail_mime_message *msg;
  int code = load(a->argv[0], &data, &msg);
  if (code)
    return code;
  extract_state x = {o, dir, 0, EXIT_OK};
  extract_part(mail_mime_message_root(msg), &x);
  mail_mime_message_free(msg);
  free(data);
  if (!x.code && !o->json)
    printf("%zu attachment(s) written to %s\n", x.count, dir);
  return x.code;
}

static int write_out(void *user, const void *data, size_t len)
{
  (void)user;
  return fwrite(data, 1, len, stdout) == len ? 0 : 1;
}

static int mime_build(const cli_options *o, cli_args *a)
{
  (void)o;
  compose c;
  mail_mime_builder *m = NULL;
  int code = compose_parse(&c, a);
  if (!code && (c.npositional || c.raw || c.dsn))
    code = cli_usage_error("mime build takes the message options of send (no URL, --raw or --dsn)");
  if (!code)
    code = compose_build(&c, 0, &m);
  if (!code) {
    int rc = mail_mime_builder_write(m, write_out, NULL);
    if (!rc && fflush(stdout))
      rc = MAIL_ERR_CALLBACK;
    if (rc)
      code = cli_fail(EXIT_INPUT, "mime build", "%s", mail_strerror(rc));
  }
  mail_mime_builder_free(m);
  compose_free(&c);
  return code;
}

int cmd_mime(const cli_options *o, cli_args *a)
{
  if (a->argc < 1)
    return cli_usage_error("mime needs an action: parse, extract or build");
  const char *action = a->argv[0];
  a->argc--;
  a->argv++;
  if (!strcmp(action, "parse"))
    return mime_parse(o, a);
  if (!strcmp(action, "extract"))
    return mime_extract(o, a);
  if (!strcmp(action, "build"))
    return mime_build(o, a);
  return cli_usage_error("mime: unknown action '%s' (parse, extract, build)", action);
}

/* mailparse FILE|- [--json]: print a message's MIME part tree.
 *
 * Text mode prints every part (path, content type, charset, disposition,
 * filename, transfer encoding, decoded size, defects). --json prints one
 * object: subject, from, to, defects and the leaf parts with the sha256 of
 * their transfer-decoded bytes. Uses only the public API of libmail, plus
 * OpenSSL's libcrypto for the digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <mail/mime.h>

static unsigned char *read_all(FILE *f, size_t *len)
{
  size_t cap = 1 << 16, n = 0;
  unsigned char *b = malloc(cap);
  if (!b)
    return NULL;
  for (;;) {
    if (n == cap) {
      unsigned char *nb = realloc(b, cap *= 2);
      if (!nb) {
        free(b);
        return NULL;
      }
      b = nb;
    }
    size_t r = fread(b + n, 1, cap - n, f);
    if (!r)
      break;
    n += r;
  }
  if (ferror(f)) {
    free(b);
    return NULL;
  }
  *len = n;
  return b;
}

static void json_str(const char *s)
{
  if (!s) {
    fputs("null", stdout);
    return;
  }
  putchar('"');
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      printf("\\%c", *c);
    else if (*c == '\n')
      fputs("\\n", stdout);
    else if (*c == '\r')
      fputs("\\r", stdout);
    else if (*c == '\t')
      fputs("\\t", stdout);
    else if (*c < 0x20 || *c == 0x7f)
      printf("\\u%04x", *c);
    else
      putchar(*c);
  }
  putchar('"');
}

typedef struct digest {
  EVP_MD_CTX *ctx;
  uint64_t size;
} digest;

static int digest_chunk(void *user, const void *data, size_t len)
{
  digest *d = user;
  d->size += len;
  return EVP_DigestUpdate(d->ctx, data, len) == 1 ? 0 : 1;
}

/* Decoded size and sha256 (hex) of a leaf. */
static int leaf_digest(mail_mime_part *part, uint64_t *size, char hex[65])
{
  digest d = {EVP_MD_CTX_new(), 0};
  unsigned char md[32];
  unsigned int mdlen = 0;
  if (!d.ctx || EVP_DigestInit_ex(d.ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(d.ctx);
    return -1;
  }
  int rc = mail_mime_part_decode_cb(part, 0, digest_chunk, &d);
  if (rc == MAIL_OK && EVP_DigestFinal_ex(d.ctx, md, &mdlen) != 1)
    rc = -1;
  EVP_MD_CTX_free(d.ctx);
  if (rc)
    return rc;
  for (unsigned int i = 0; i < mdlen; i++)
    sprintf(hex + 2 * i, "%02x", md[i]);
  *size = d.size;
  return 0;
}

typedef struct leaf_info {
  uint64_t size;
  char hex[65];
} leaf_info;

static leaf_info *g_leaves;
static size_t g_nleaves, g_printed;

static int is_leaf(const mail_mime_part *p)
{
  return mail_mime_part_child_count(p) == 0 && !mail_mime_part_is_multipart(p);
}

/* Depth-first walk without recursion limits of our own: the parser bounds depth. */
static void walk(mail_mime_part *p, int json, int *first)
{
  if (!json) {
    uint64_t size = 0;
    char hex[65] = "";
    printf("%*s%s %s", (int)mail_mime_part_depth(p) * 2, "",
           *mail_mime_part_path(p) ? mail_mime_part_path(p) : "(root)", mail_mime_part_content_type(p));
    if (mail_mime_part_charset(p))
      printf(" charset=%s", mail_mime_part_charset(p));
    if (mail_mime_part_disposition(p))
      printf(" disposition=%s", mail_mime_part_disposition(p));
    if (mail_mime_part_filename(p))
      printf(" filename=\"%s\"", mail_mime_part_filename(p));
    printf(" encoding=%s", mail_mime_part_encoding_name(p));
    if (is_leaf(p) && leaf_digest(p, &size, hex) == 0)
      printf(" size=%llu", (unsigned long long)size);
    for (size_t i = 0; i < mail_mime_part_defect_count(p); i++) {
      int kind;
      uint64_t off;
      mail_mime_part_defect(p, i, &kind, &off);
      printf(" defect=%s@%llu", mail_mime_defect_name(kind), (unsigned long long)off);
    }
    putchar('\n');
  } else if (is_leaf(p) && json == 1) {
    /* first pass: decode every leaf so its defects are known */
    leaf_info *li = realloc(g_leaves, (g_nleaves + 1) * sizeof *li);
    if (!li)
      exit(1);
    g_leaves = li;
    li[g_nleaves].size = 0;
    li[g_nleaves].hex[0] = 0;
    leaf_digest(p, &li[g_nleaves].size, li[g_nleaves].hex);
    g_nleaves++;
  } else if (is_leaf(p)) {
    uint64_t size = g_leaves[g_printed].size;
    const char *hex = g_leaves[g_printed].hex;
    g_printed++;
    printf("%s\n    {\"path\": ", *first ? "" : ",");
    *first = 0;
    json_str(mail_mime_part_path(p));
    printf(", \"content_type\": ");
    json_str(mail_mime_part_content_type(p));
    printf(", \"charset\": ");
    json_str(mail_mime_part_charset(p));
    printf(", \"disposition\": ");
    json_str(mail_mime_part_disposition(p));
    printf(", \"filename\": ");
    json_str(mail_mime_part_filename(p));
    printf(", \"encoding\": ");
    json_str(mail_mime_part_encoding_name(p));
    printf(", \"size\": %llu, \"sha256\": \"%s\"}", (unsigned long long)size, hex);
  }
  for (size_t i = 0; i < mail_mime_part_child_count(p); i++)
    walk(mail_mime_part_child(p, i), json, first);
}

static void json_addresses(mail_mime_part *root, const char *name)
{
  const char *v = mail_mime_part_header(root, name);
  mail_address_list *l = NULL;
  putchar('[');
  if (v && mail_address_list_parse(&l, v, strlen(v), 0, NULL, NULL) == MAIL_OK) {
    for (size_t i = 0; i < mail_address_list_count(l); i++) {
      const mail_address *a = mail_address_list_get(l, i);
      printf("%s{\"name\": ", i ? ", " : "");
      json_str(a->name);
      printf(", \"address\": ");
      json_str(a->mailbox);
      putchar('}');
    }
  }
  mail_address_list_free(l);
  putchar(']');
}

int main(int argc, char **argv)
{
  const char *file = NULL;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json"))
      json = 1;
    else if (!file)
      file = argv[i];
    else
      file = NULL, i = argc;
  }
  if (!file) {
    fprintf(stderr, "usage: mailparse [--json] FILE|-\n");
    return 2;
  }
  FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
  if (!f) {
    perror(file);
    return 1;
  }
  size_t len = 0;
  unsigned char *data = read_all(f, &len);
  if (f != stdin)
    fclose(f);
  if (!data) {
    fprintf(stderr, "mailparse: cannot read %s\n", file);
    return 1;
  }
  mail_mime_message *msg;
  int rc = mail_mime_message_parse(&msg, data, len, MAIL_MIME_BORROW | MAIL_MIME_CHECK_HEADERS, NULL, NULL);
  if (rc) {
    fprintf(stderr, "mailparse: %s\n", mail_strerror(rc));
    free(data);
    return 1;
  }
  mail_mime_part *root = mail_mime_message_root(msg);
  int first = 1;
  if (!json) {
    walk(root, 0, &first);
  } else {
    printf("{\n  \"subject\": ");
    json_str(mail_mime_part_header_decoded(root, "subject"));
    printf(",\n  \"from\": ");
    json_addresses(root, "from");
    printf(",\n  \"to\": ");
    json_addresses(root, "to");
    /* Decode every leaf first: decoding adds its defects. */
    walk(root, 1, &first);
    printf(",\n  \"defects\": [");
    for (size_t i = 0; i < mail_mime_message_defect_count(msg); i++) {
      int kind;
      uint64_t off;
      const mail_mime_part *p;
      mail_mime_message_defect(msg, i, &kind, &off, &p);
      printf("%s{\"kind\": \"%s\", \"offset\": %llu, \"path\": ", i ? ", " : "",
             mail_mime_defect_name(kind), (unsigned long long)off);
      json_str(p ? mail_mime_part_path(p) : NULL);
      putchar('}');
    }
    printf("],\n  \"parts\": [");
    first = 1;
    walk(root, 2, &first);
    printf("\n  ]\n}\n");
    free(g_leaves);
  }
  mail_mime_message_free(msg);
  free(data);
  return 0;
}

/* imap URL fetch MAILBOX SET [--envelope] [--bodystructure] [--flags]
 *                           [--raw | --section SPEC [--binary]] [--partial START.LEN]
 *                           [--output FILE]
 *      imap URL store MAILBOX SET add|remove|replace FLAG...
 *
 * The mailbox is opened read-only (EXAMINE) for fetch, and
 * bodies are fetched with BODY.PEEK / BINARY.PEEK, so neither changes a
 * flag. A body goes to standard output, or to --output FILE through a
 * temporary file in the same directory renamed into place once it is
 * complete (nothing is left after a failure or a signal). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap_json.h"
#include "imap_session.h"

typedef struct fetch_run {
  const cli_options *o;
  FILE *out;            /* where body bytes go */
  char tmp[4096];       /* the temporary file behind --output */
  cli_sha256 *digest;
  char sha256[65];
  uint64_t bytes;
  cli_progress progress;
  int failed;           /* a local write failed (errno in err) */
  int err;
  unsigned long messages;
  int want_envelope, want_body, want_section;
} fetch_run;

static volatile sig_atomic_t writing_tmp;
static char signal_tmp[4096];

static void on_signal(int sig)
{
  if (writing_tmp)
    unlink(signal_tmp);
  signal(sig, SIG_DFL);
  raise(sig);
}

static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};

static void catch_signals(void (*fn)(int))
{
  for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++)
    signal(cleanup_signals[i], fn);
}

/* ---- the body stream ---- */

static int on_body(void *user, mail_imap_body_event ev, const mail_imap_section *s,
                   const unsigned char *data, size_t len)
{
  fetch_run *f = user;
  if (f->failed)
    return 1;
  if (ev == MAIL_IMAP_BODY_BEGIN) {
    if (!(f->digest = cli_sha256_new()))
      return f->failed = 1, f->err = ENOMEM, 1;
    f->bytes = 0;
    return 0;
  }
  if (ev == MAIL_IMAP_BODY_DATA) {
    if (f->bytes == 0)
      cli_progress_begin(&f->progress, f->o, "receiving", mail_imap_section_size(s));
    if (fwrite(data, 1, len, f->out) != len || cli_sha256_update(f->digest, data, len)) {
      f->failed = 1;
      f->err = errno;
      return 1;
    }
    f->bytes += len;
    cli_progress_update(&f->progress, f->bytes);
    return 0;
  }
  cli_progress_end(&f->progress);
  if (cli_sha256_finish(f->digest, f->sha256))
    return f->failed = 1, f->err = ENOMEM, 1;
  f->digest = NULL;
  return 0;
}

/* ---- what each message looks like ---- */

static void print_decoded(const char *label, const char *s, size_t n)
{
  char *dec = NULL;
  size_t dn;
  if (!s)
    return;
  if (mail_mime_header_decode(&dec, &dn, NULL, s, n, NULL) == MAIL_OK) {
    printf("  %s: %s\n", label, dec);
    mail_free(dec);
  } else {
    printf("  %s: %.*s\n", label, (int)n, s);
  }
}

static void print_addresses(const char *label, const mail_imap_envelope *e, int field)
{
  size_t count = mail_imap_envelope_address_count(e, field);
  if (!count)
    return;
  printf("  %s:", label);
  for (size_t i = 0; i < count; i++) {
    const mail_imap_address *a = mail_imap_envelope_address(e, field, i);
    size_t nn, mn, hn;
    const char *name = mail_imap_address_name(a, &nn);
    const char *mbox = mail_imap_address_mailbox(a, &mn);
    const char *host = mail_imap_address_host(a, &hn);
    if (!host) /* the start or end of a group */
      continue;
    char *dec = NULL;
    size_t dn;
    if (name && mail_mime_header_decode(&dec, &dn, NULL, name, nn, NULL) == MAIL_OK)
      printf("%s %s <%.*s@%.*s>", i ? "," : "", dec, (int)mn, mbox ? mbox : "", (int)hn, host);
    else
      printf("%s %.*s@%.*s", i ? "," : "", (int)mn, mbox ? mbox : "", (int)hn, host);
    mail_free(dec);
  }
  putchar('\n');
}

static void print_envelope(const mail_imap_envelope *e)
{
  size_t n;
  const char *s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_DATE, &n);
  if (s)
    printf("  date: %.*s\n", (int)n, s);
  print_addresses("from", e, MAIL_IMAP_ADDR_FROM);
  print_addresses("to", e, MAIL_IMAP_ADDR_TO);
  print_addresses("cc", e, MAIL_IMAP_ADDR_CC);
  s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_SUBJECT, &n);
  print_decoded("subject", s, n);
  if ((s = mail_imap_envelope_field(e, MAIL_IMAP_ENV_MESSAGE_ID, &n)) != NULL)
    printf("  message-id: %.*s\n", (int)n, s);
}

static void lower(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    putchar(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
}

/* One line per part: its IMAP section path, type, parameters, disposition,
 * encoding and size. Depth is bounded by the parser's max_depth. */
static void print_part(const mail_imap_body *b, const char *path, int depth)
{
  size_t n;
  const char *s;
  uint64_t v;
  printf("    %*s%s ", depth * 2, "", *path ? path : "(message)");
  s = mail_imap_body_field(b, MAIL_IMAP_BODY_TYPE, &n);
  lower(s ? s : "?", s ? n : 1);
  putchar('/');
  s = mail_imap_body_field(b, MAIL_IMAP_BODY_SUBTYPE, &n);
  lower(s ? s : "?", s ? n : 1);
  for (size_t i = 0; i < mail_imap_body_param_count(b, MAIL_IMAP_PARAMS_CONTENT_TYPE); i++) {
    const char *k, *val;
    size_t kn, vn;
    mail_imap_body_param(b, MAIL_IMAP_PARAMS_CONTENT_TYPE, i, &k, &kn, &val, &vn);
    if (kn == 8 && !strncasecmp(k, "boundary", 8))
      continue;
    printf(" ");
    lower(k, kn);
    printf("=%.*s", (int)vn, val ? val : "");
  }
  if ((s = mail_imap_body_field(b, MAIL_IMAP_BODY_DISPOSITION, &n)) != NULL) {
    putchar(' ');
    lower(s, n);
    for (size_t i = 0; i < mail_imap_body_param_count(b, MAIL_IMAP_PARAMS_DISPOSITION); i++) {
      const char *k, *val;
      size_t kn, vn;
      mail_imap_body_param(b, MAIL_IMAP_PARAMS_DISPOSITION, i, &k, &kn, &val, &vn);
      printf(" ");
      lower(k, kn);
      printf("=\"%.*s\"", (int)vn, val ? val : "");
    }
  }
  if (!mail_imap_body_is_multipart(b)) {
    if ((s = mail_imap_body_field(b, MAIL_IMAP_BODY_ENCODING, &n)) != NULL) {
      putchar(' ');
      lower(s, n);
    }
    if (mail_imap_body_size(b, &v) == MAIL_OK)
      printf(" %" PRIu64 " bytes", v);
    if (mail_imap_body_lines(b, &v) == MAIL_OK)
      printf(" %" PRIu64 " lines", v);
  }
  putchar('\n');
  int multi = mail_imap_body_is_multipart(b);
  for (size_t i = 0; i < mail_imap_body_child_count(b); i++) {
    char child[256];
    const mail_imap_body *c = mail_imap_body_child(b, i);
    /* A message/rfc822 part's body keeps its path when it is a single
     * part; the parts of a multipart number from 1 (RFC 3501 6.4.5). */
    if (multi)
      snprintf(child, sizeof child, "%s%s%zu", path, *path ? "." : "", i + 1);
    else
      snprintf(child, sizeof child, "%s", *path ? path : "1");
    print_part(c, child, depth + 1);
  }
}

/* " \Seen \Flagged" */
static void print_flags(const mail_imap_response *r)
{
  for (size_t i = 0; i < mail_imap_fetch_flag_count(r); i++) {
    size_t n;
    const char *s = mail_imap_fetch_flag(r, i, &n);
    printf(" %.*s", (int)n, s);
  }
  putchar('\n');
}

static void print_text(const fetch_run *f, const imap_cmd *c, const mail_imap_response *r,
                       uint32_t seq)
{
  uint64_t v;
  printf("message %" PRIu32, seq);
  if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &v) == MAIL_OK)
    printf(" (UID %" PRIu64 ")", v);
  putchar('\n');
  if (mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS)) {
    fputs("  flags:", stdout);
    print_flags(r);
  }
  if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_RFC822_SIZE, &v) == MAIL_OK)
    printf("  size: %" PRIu64 " bytes\n", v);
  size_t n;
  const char *s = mail_imap_fetch_string(r, MAIL_IMAP_ITEM_INTERNALDATE, &n);
  if (s)
    printf("  received: %.*s\n", (int)n, s);
  if (mail_imap_fetch_envelope(r))
    print_envelope(mail_imap_fetch_envelope(r));
  if (mail_imap_fetch_body(r)) {
    puts("  body structure:");
    const mail_imap_body *b = mail_imap_fetch_body(r);
    print_part(b, mail_imap_body_is_multipart(b) ? "" : "1", 0);
  }
  if (f->want_section && mail_imap_fetch_section_count(r))
    printf("  %s: %" PRIu64 " bytes to %s, sha256 %s\n", c->section ? c->section : "body",
           f->bytes, c->output, f->sha256);
}

static int on_fetch(imap_ctx *x, const mail_imap_response *r)
{
  fetch_run *f = x->data;
  uint32_t seq = 0;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH)
    return 0;
  /* Only the messages asked for: a flag change of another one may come
   * unasked, with none of the items. */
  if ((f->want_envelope && !mail_imap_fetch_envelope(r)) ||
      (f->want_body && !mail_imap_fetch_body(r)) ||
      (f->want_section && !mail_imap_fetch_section_count(r)) ||
      !mail_imap_fetch_has(r, MAIL_IMAP_ITEM_UID))
    return 0;
  mail_imap_response_number(r, &seq);
  f->messages++;
  if (f->want_section && !x->c->output)
    return 0; /* the body itself was the output */
  if (x->o->json) {
    printf("{\"seq\": %" PRIu32 ", \"items\": ", seq);
    imap_json_fetch_items(stdout, r);
    if (f->want_section && mail_imap_fetch_section_count(r)) {
      printf(", \"output\": ");
      json_string(stdout, x->c->output);
      printf(", \"bytes\": %" PRIu64 ", \"sha256\": \"%s\"", f->bytes, f->sha256);
    }
    puts("}");
  } else {
    print_text(f, x->c, r, seq);
  }
  return 0;
}

/* The FETCH items the options ask for. */
static int build_items(const imap_cmd *c, fetch_run *f, char *items, size_t cap)
{
  char section[300] = "";
  int any = c->envelope || c->bodystructure || c->want_flags;
  f->want_section = c->raw || c->section || c->binary || c->partial;
  f->want_envelope = c->envelope || (!any && !f->want_section);
  f->want_body = c->bodystructure;
  if (f->want_section) {
    const char *spec = c->section ? c->section : "";
    for (const char *p = spec; *p; p++)
      if (*p < 0x21 || *p > 0x7e || *p == ']')
        return cli_usage_error("--section: '%s' is not a section (1, 1.2, HEADER, 2.MIME, ...)",
                               spec);
    if (c->binary && !c->section)
      return cli_usage_error("--binary needs --section PART (the decoded content of a part)");
    unsigned long long start = 0, len = 0;
    char partial[64] = "";
    if (c->partial) {
      const char *dot = strchr(c->partial, '.');
      char first[24];
      size_t fl = dot ? (size_t)(dot - c->partial) : 0;
      if (!dot || fl >= sizeof first)
        return cli_usage_error("--partial: START.LENGTH in bytes, not '%s'", c->partial);
      memcpy(first, c->partial, fl);
      first[fl] = 0;
      if (cli_number(first, 0, UINT32_MAX, &start) || cli_number(dot + 1, 1, UINT32_MAX, &len))
        return cli_usage_error("--partial: START.LENGTH in bytes, not '%s'", c->partial);
      snprintf(partial, sizeof partial, "<%llu.%llu>", start, len);
    }
    snprintf(section, sizeof section, " %s.PEEK[%s]%s", c->binary ? "BINARY" : "BODY", spec,
             partial);
  }
  int n = snprintf(items, cap, "(UID%s%s%s%s%s)", c->want_flags || !any ? " FLAGS" : "",
                   f->want_envelope ? " ENVELOPE" : "",
                   !any && !f->want_section ? " RFC822.SIZE INTERNALDATE" : "",
                   f->want_body ? " BODYSTRUCTURE" : "", section);
  return n > 0 && (size_t)n < cap ? EXIT_OK : cli_usage_error("--section: too long");
}

static int open_output(fetch_run *f, const char *path)
{
  const char *slash = strrchr(path, '/');
  int dl = slash ? (int)(slash - path + 1) : 0;
  snprintf(f->tmp, sizeof f->tmp, "%.*s.mailcli-fetch-XXXXXX", dl, path);
  int fd = mkstemp(f->tmp);
  if (fd < 0)
    return cli_fail(EXIT_INPUT, "--output", "%s: %s", path, strerror(errno));
  memcpy(signal_tmp, f->tmp, sizeof signal_tmp);
  writing_tmp = 1;
  catch_signals(on_signal);
  if (!(f->out = fdopen(fd, "wb"))) {
    close(fd);
    unlink(f->tmp);
    writing_tmp = 0;
    return cli_fail(EXIT_INPUT, "--output", "%s: %s", path, strerror(errno));
  }
  return EXIT_OK;
}

/* Rename the temporary file into place (ok) or remove it. */
static int close_output(fetch_run *f, const char *path, int ok)
{
  int code = EXIT_OK;
  if (fclose(f->out) != 0 && ok) {
    code = cli_fail(EXIT_INPUT, "--output", "%s: %s", path, strerror(errno));
    ok = 0;
  }
  if (ok && rename(f->tmp, path) != 0) {
    code = cli_fail(EXIT_INPUT, "--output", "%s: %s", path, strerror(errno));
    ok = 0;
  }
  if (!ok)
    unlink(f->tmp);
  writing_tmp = 0;
  catch_signals(SIG_DFL);
  return code;
}

int imap_do_fetch(imap_ctx *x)
{
  const imap_cmd *c = x->c;
  fetch_run f;
  memset(&f, 0, sizeof f);
  f.out = stdout;
  f.o = x->o;
  char items[512];
  int code = build_items(c, &f, items, sizeof items);
  if (code)
    return code;
  if (f.want_section && !cli_imap_single(c->set))
    return cli_usage_error("fetch of a body takes one message (a number, or --uid UID), not '%s'",
                           c->set);
  if (f.want_section && !c->output && (c->envelope || c->bodystructure || c->want_flags || x->o->json))
    return cli_usage_error("a body on standard output goes alone: add --output FILE for "
                           "--envelope, --bodystructure, --flags or --json");
  mail_imap_seqset *set;
  if ((code = imap_cmd_set(c, &set)) != EXIT_OK)
    return code;
  if ((code = cli_imap_select(x->im, c->pos[0], 1)) != EXIT_OK) {
    mail_imap_seqset_free(set);
    return code;
  }
  if (c->output && f.want_section && (code = open_output(&f, c->output)) != EXIT_OK) {
    mail_imap_seqset_free(set);
    return code;
  }
  x->on = on_fetch;
  x->data = &f;
  int rc = mail_imap_fetch(x->im, set, c->uid, items, f.want_section ? on_body : NULL, &f);
  x->on = NULL;
  if (f.digest) {
    char ignored[65];
    cli_sha256_finish(f.digest, ignored);
  }
  if (f.want_section && !c->output && fflush(stdout) != 0 && !f.failed) {
    f.failed = 1;
    f.err = errno;
  }
  char what[600];
  snprintf(what, sizeof what, "%sFETCH %s %s", c->uid ? "UID " : "", c->set, items);
  if (f.failed) {
    code = cli_fail(EXIT_INPUT, what, "writing %s failed: %s",
                    c->output ? c->output : "to standard output", strerror(f.err));
    if (mail_imap_get_state(x->im) != MAIL_IMAP_STATE_DISCONNECTED)
      mail_imap_logout(x->im);
  } else if (rc) {
    code = cli_imap_fail(x->im, rc, what);
  } else if (f.messages == 0) {
    code = cli_fail(EXIT_REFUSED, what, "no such message in %s", c->pos[0]);
  }
  if (c->output && f.want_section)
    code = close_output(&f, c->output, code == EXIT_OK) ? EXIT_INPUT : code;
  mail_imap_seqset_free(set);
  return code;
}

/* ---- store ---- */

static int on_store(imap_ctx *x, const mail_imap_response *r)
{
  uint32_t seq;
  uint64_t uid = 0;
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_FETCH || !mail_imap_fetch_has(r, MAIL_IMAP_ITEM_FLAGS))
    return 0;
  mail_imap_response_number(r, &seq);
  mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid);
  if (x->o->json) {
    printf("{\"seq\": %" PRIu32 ", \"items\": ", seq);
    imap_json_fetch_items(stdout, r);
    puts("}");
    return 0;
  }
  printf("message %" PRIu32, seq);
  if (uid)
    printf(" (UID %" PRIu64 ")", uid);
  fputs(" flags:", stdout);
  print_flags(r);
  return 0;
}

int imap_do_store(imap_ctx *x)
{
  const imap_cmd *c = x->c;
  static const char *const hows[] = {"replace", "add", "remove"};
  int how = 0;
  while (how < 3 && strcmp(c->pos[1], hows[how]))
    how++;
  if (how == 3)
    return cli_usage_error("store: add, remove or replace, not '%s'", c->pos[1]);
  size_t nflags = (size_t)c->npos - 2;
  const char **flags = calloc(nflags + 1, sizeof *flags);
  if (!flags)
    return cli_fail(EXIT_INPUT, "store", "out of memory");
  for (size_t i = 0; i < nflags; i++)
    flags[i] = cli_imap_flag(c->pos[2 + i]);
  mail_imap_seqset *set;
  int code = imap_cmd_set(c, &set);
  if (!code && !(code = cli_imap_select(x->im, c->pos[0], 0))) {
    x->on = on_store;
    int rc = mail_imap_store(x->im, set, c->uid, how, flags, nflags, 0, 0);
    x->on = NULL;
    if (rc == MAIL_ERR_INVALID) {
      mail_imap_logout(x->im);
      code = cli_fail(EXIT_INPUT, "store", "a flag is \\Seen, $Label or another atom");
    } else if (rc) {
      char what[600];
      snprintf(what, sizeof what, "%sSTORE %s", c->uid ? "UID " : "", c->set);
      code = cli_imap_fail(x->im, rc, what);
    }
  }
  mail_imap_seqset_free(set);
  free(flags);
  return code;
}

/* imap URL append MAILBOX FILE|- [--flag FLAG]...: the message as it is,
 * streamed from the file in chunks (standard input, or anything else
 * whose size is not known beforehand, is first spooled to a temporary
 * file: APPEND announces the size before the first byte). Prints the
 * [APPENDUID] the server gives: the new message's UID. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imap_session.h"

typedef struct source {
  FILE *f;
  uint64_t size, done;
  int err;
  cli_progress progress;
} source;

static int read_chunk(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  source *s = user;
  *got = fread(buf, 1, cap, s->f);
  if (*got == 0 && ferror(s->f)) {
    s->err = errno ? errno : EIO;
    return 1;
  }
  s->done += *got;
  cli_progress_update(&s->progress, s->done);
  return 0;
}

/* The file, or a spooled copy of a stream; its size. */
static int open_source(const char *path, source *s)
{
  FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
  struct stat st;
  if (!in)
    return cli_fail(EXIT_INPUT, "append", "%s: %s", path, strerror(errno));
  if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
    s->f = in;
    s->size = (uint64_t)st.st_size;
    return EXIT_OK;
  }
  FILE *spool = tmpfile();
  char buf[65536];
  size_t n;
  if (!spool) {
    if (in != stdin)
      fclose(in);
    return cli_fail(EXIT_INPUT, "append", "a temporary file: %s", strerror(errno));
  }
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, spool) != n)
      break;
  int bad = ferror(in) || ferror(spool) || fflush(spool) != 0;
  int err = errno;
  if (in != stdin)
    fclose(in);
  if (bad) {
    fclose(spool);
    return cli_fail(EXIT_INPUT, "append", "%s: %s", path, strerror(err));
  }
  s->size = (uint64_t)ftell(spool);
  rewind(spool);
  s->f = spool;
  return EXIT_OK;
}

int imap_do_append(imap_ctx *x)
{
  const imap_cmd *c = x->c;
  source s;
  memset(&s, 0, sizeof s);
  int code = open_source(c->pos[1], &s);
  if (code)
    return code;
  const char **flags = calloc(c->nflags + 1, sizeof *flags);
  if (!flags) {
    fclose(s.f);
    return cli_fail(EXIT_INPUT, "append", "out of memory");
  }
  for (size_t i = 0; i < c->nflags; i++)
    flags[i] = cli_imap_flag(c->flags[i]);
  cli_progress_begin(&s.progress, x->o, "sending", s.size);
  int rc = mail_imap_append(x->im, c->pos[0], flags, c->nflags, 0, s.size, read_chunk, &s);
  cli_progress_end(&s.progress);
  char what[300];
  snprintf(what, sizeof what, "APPEND %s", c->pos[0]);
  uint32_t validity = 0, uid = 0;
  int has_uid = mail_imap_append_uid(&validity, &uid, x->im) == MAIL_OK;
  if (rc == MAIL_ERR_CALLBACK && s.err) {
    code = cli_fail(EXIT_INPUT, what, "reading %s failed: %s", c->pos[1], strerror(s.err));
  } else if (rc == MAIL_ERR_INVALID) {
    mail_imap_logout(x->im);
    code = cli_fail(EXIT_INPUT, what, "a bad mailbox name or flag (a flag is \\Seen, $Label or another atom)");
  } else if (rc) {
    code = cli_imap_fail(x->im, rc, what);
  } else if (x->o->json) {
    printf("{\"mailbox\": ");
    json_string(stdout, c->pos[0]);
    printf(", \"size\": %" PRIu64, s.size);
    if (has_uid)
      printf(", \"uidvalidity\": %" PRIu32 ", \"uid\": %" PRIu32, validity, uid);
    puts("}");
  } else if (has_uid) {
    printf("appended %" PRIu64 " bytes to %s: UID %" PRIu32 " (UIDVALIDITY %" PRIu32 ")\n",
           s.size, c->pos[0], uid, validity);
  } else {
    printf("appended %" PRIu64 " bytes to %s (the server gave no APPENDUID)\n", s.size,
           c->pos[0]);
  }
  free(flags);
  fclose(s.f);
  return code;
}

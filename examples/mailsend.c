/*
 * mailsend — send one message over SMTP, submission, SMTPS or LMTP with
 * libmail, and print one line per recipient with its result.
 *
 *   mailsend [--user NAME --password-env VAR] [--cafile FILE] [--insecure]
 *            [--tls implicit|starttls|starttls-opportunistic|none] [--mech NAME]
 *            [--timeout S] [--trace] URL --from ADDR --to ADDR...
 *            [--subject TEXT] [--text FILE] [--attach FILE]... [--raw FILE]
 *
 * Exit codes: 0 ok, 2 usage, 3 connection or timeout, 4 TLS (handshake,
 * verification, STARTTLS unavailable or refused), 5 authentication,
 * 6 every recipient refused, 7 some refused, 8 protocol violation by the
 * server, 9 bad local input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mail/mail.h>

enum {
  EX_OK_ = 0,
  EX_USAGE_ = 2,
  EX_CONN = 3,
  EX_TLS = 4,
  EX_AUTH = 5,
  EX_ALL_REFUSED = 6,
  EX_SOME_REFUSED = 7,
  EX_PROTOCOL = 8,
  EX_INPUT = 9
};

#define MAX_LIST 64

static void usage(void)
{
  fprintf(stderr,
          "usage: mailsend [--user NAME --password-env VAR] [--cafile FILE] [--insecure]\n"
          "                [--tls implicit|starttls|starttls-opportunistic|none] [--mech NAME]\n"
          "                [--timeout S] [--trace] URL --from ADDR --to ADDR...\n"
          "                [--subject TEXT] [--text FILE] [--attach FILE]... [--raw FILE]\n");
}

/* Map a status to the exit code; during says what was going on. */
static int exit_code(int rc, int during_send)
{
  switch (rc) {
  case MAIL_OK:
    return EX_OK_;
  case MAIL_ERR_TLS:
  case MAIL_ERR_TLS_VERIFY:
  case MAIL_ERR_STARTTLS:
  case MAIL_ERR_STARTTLS_INJECTION:
    return EX_TLS;
  case MAIL_ERR_AUTH:
  case MAIL_ERR_NO_MECHANISM:
  case MAIL_ERR_SASL_SERVER:
  case MAIL_ERR_SASL_BAD_CHALLENGE:
    return EX_AUTH;
  case MAIL_ERR_INSECURE:
    return during_send ? EX_INPUT : EX_AUTH;
  case MAIL_ERR_RECIPIENTS:
    return EX_ALL_REFUSED;
  case MAIL_ERR_SERVER:
    return during_send ? EX_ALL_REFUSED : EX_CONN;
  case MAIL_ERR_PARTIAL:
    return EX_SOME_REFUSED;
  case MAIL_ERR_PROTOCOL:
  case MAIL_ERR_LIMIT:
    return EX_PROTOCOL;
  case MAIL_ERR_INVALID:
  case MAIL_ERR_SYNTAX:
  case MAIL_ERR_FILE:
  case MAIL_ERR_CHARSET:
  case MAIL_ERR_TOO_BIG:
  case MAIL_ERR_NEEDS_SMTPUTF8:
  case MAIL_ERR_UNSUPPORTED:
  case MAIL_ERR_REQUIRETLS:
  case MAIL_ERR_CALLBACK:
    return EX_INPUT;
  default:
    return EX_CONN; /* resolve, connect, timeout, closed, I/O, 421 */
  }
}

/* --trace: every line prefixed with C: or S:; library notes with "*". */
static void trace(void *user, int dir, const char *data, size_t len)
{
  (void)user;
  const char *tag = dir == MAIL_TRACE_SEND ? "C: " : dir == MAIL_TRACE_RECV ? "S: " : "* ";
  size_t i = 0;
  while (i < len) {
    size_t j = i;
    while (j < len && data[j] != '\n')
      j++;
    size_t end = j;
    if (end > i && data[end - 1] == '\r')
      end--;
    fprintf(stderr, "%s%.*s\n", tag, (int)(end - i), data + i);
    i = j + 1;
  }
}

static int read_file(const char *path, char **out, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t k = fread(buf + n, 1, cap - n, f);
    n += k;
    if (k == 0)
      break;
  }
  int err = ferror(f);
  fclose(f);
  if (!buf || err) {
    free(buf);
    return -1;
  }
  *out = buf;
  *len = n;
  return 0;
}

/* --raw: the file streams from a read callback. */
static int file_read(void *user, unsigned char *buf, size_t cap, size_t *got)
{
  FILE *f = user;
  *got = fread(buf, 1, cap, f);
  return ferror(f) ? -1 : 0;
}

static const char *basename_of(const char *p)
{
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
  const char *user = NULL, *pass_env = NULL, *cafile = NULL, *tls = NULL, *mech = NULL;
  const char *url = NULL, *from = NULL, *subject = NULL, *text = NULL, *raw = NULL;
  const char *to[MAX_LIST], *attach[MAX_LIST];
  size_t nto = 0, nattach = 0;
  int insecure = 0, do_trace = 0;
  long timeout = 0;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int has_arg = i + 1 < argc;
#define ARG(name, var)              \
  if (!strcmp(a, name)) {           \
    if (!has_arg) {                 \
      usage();                      \
      return EX_USAGE_;             \
    }                               \
    var = argv[++i];                \
    continue;                       \
  }
    ARG("--user", user)
    ARG("--password-env", pass_env)
    ARG("--cafile", cafile)
    ARG("--tls", tls)
    ARG("--mech", mech)
    ARG("--from", from)
    ARG("--subject", subject)
    ARG("--text", text)
    ARG("--raw", raw)
#undef ARG
    if (!strcmp(a, "--insecure")) {
      insecure = 1;
    } else if (!strcmp(a, "--trace")) {
      do_trace = 1;
    } else if (!strcmp(a, "--timeout") && has_arg) {
      char *end;
      timeout = strtol(argv[++i], &end, 10);
      if (*end || timeout <= 0 || timeout > 86400) {
        usage();
        return EX_USAGE_;
      }
    } else if (!strcmp(a, "--to") && has_arg) {
      if (nto == MAX_LIST) {
        usage();
        return EX_USAGE_;
      }
      to[nto++] = argv[++i];
    } else if (!strcmp(a, "--attach") && has_arg) {
      if (nattach == MAX_LIST) {
        usage();
        return EX_USAGE_;
      }
      attach[nattach++] = argv[++i];
    } else if (a[0] == '-' || url) {
      usage();
      return EX_USAGE_;
    } else {
      url = a;
    }
  }
  int security = -1;
  if (tls) {
    if (!strcmp(tls, "implicit"))
      security = MAIL_SECURITY_IMPLICIT_TLS;
    else if (!strcmp(tls, "starttls"))
      security = MAIL_SECURITY_STARTTLS;
    else if (!strcmp(tls, "starttls-opportunistic"))
      security = MAIL_SECURITY_STARTTLS_OPPORTUNISTIC_INSECURE;
    else if (!strcmp(tls, "none"))
      security = MAIL_SECURITY_NONE_INSECURE;
  }
  if (!url || !from || nto == 0 || (tls && security < 0) || (user && !pass_env) ||
      (raw && (subject || text || nattach))) {
    usage();
    return EX_USAGE_;
  }
  const char *password = NULL;
  if (pass_env) {
    password = getenv(pass_env);
    if (!password) {
      fprintf(stderr, "mailsend: environment variable %s is not set\n", pass_env);
      return EX_INPUT;
    }
  }

  mail_smtp *s = NULL;
  mail_smtp_envelope *env = NULL;
  mail_mime_builder *msg = NULL;
  mail_tls_config *cfg = NULL;
  FILE *rawf = NULL;
  char *textbuf = NULL;
  int rc, code = EX_OK_;
  if (mail_smtp_new(&s, NULL) != MAIL_OK) {
    fprintf(stderr, "mailsend: out of memory\n");
    return EX_INPUT;
  }
  mail_conn *conn = mail_smtp_conn(s);
  if (do_trace)
    mail_conn_set_trace(conn, trace, NULL);
  if (cafile || insecure) {
    rc = mail_tls_config_new(&cfg, NULL);
    if (!rc && cafile)
      rc = mail_tls_config_set_ca_file(cfg, cafile);
    if (!rc && insecure)
      rc = mail_tls_config_set_insecure_no_verify(cfg, 1);
    if (!rc)
      rc = mail_conn_set_tls_config(conn, cfg);
    if (rc) {
      fprintf(stderr, "mailsend: TLS settings: %s\n", mail_strerror(rc));
      code = EX_INPUT;
      goto out;
    }
  }
  if (timeout) {
    mail_conn_set_timeout(conn, MAIL_TIMEOUT_CONNECT, (int)timeout * 1000);
    mail_conn_set_timeout(conn, MAIL_TIMEOUT_IO, (int)timeout * 1000);
    mail_smtp_set_timeouts(s, (int)timeout * 1000, (int)timeout * 1000);
  }
  if (security >= 0)
    mail_smtp_set_security(s, security);
  if (user && (rc = mail_smtp_set_auth(s, user, password)) != MAIL_OK) {
    fprintf(stderr, "mailsend: credentials: %s\n", mail_strerror(rc));
    code = EX_INPUT;
    goto out;
  }
  if (mech && (rc = mail_sasl_set_mechanisms(mail_smtp_sasl(s), mech)) != MAIL_OK) {
    fprintf(stderr, "mailsend: --mech: %s\n", mail_strerror(rc));
    code = EX_USAGE_;
    goto out;
  }

  /* The envelope first: bad local input fails before connecting. */
  rc = mail_smtp_envelope_new(&env, NULL);
  if (!rc)
    rc = mail_smtp_envelope_set_from(env, from);
  for (size_t i = 0; !rc && i < nto; i++)
    rc = mail_smtp_envelope_add_recipient(env, to[i], NULL);
  if (rc) {
    fprintf(stderr, "mailsend: bad address: %s\n", mail_strerror(rc));
    code = EX_INPUT;
    goto out;
  }

  rc = mail_smtp_connect_url(s, url);
  if (rc == MAIL_ERR_SYNTAX || rc == MAIL_ERR_INVALID) {
    fprintf(stderr, "mailsend: bad URL\n");
    code = EX_USAGE_;
    goto out;
  }
  if (rc) {
    fprintf(stderr, "mailsend: connect: %s (%s)\n", mail_strerror(rc), mail_conn_last_error(conn));
    code = exit_code(rc, 0);
    goto out;
  }
  if (user) {
    rc = mail_smtp_auth(s);
    if (rc) {
      fprintf(stderr, "mailsend: authentication: %s\n", mail_strerror(rc));
      code = exit_code(rc, 0);
      goto out;
    }
  }

  if (raw) {
    rawf = fopen(raw, "rb");
    struct stat st;
    if (!rawf || fstat(fileno(rawf), &st) != 0) {
      fprintf(stderr, "mailsend: %s: %s\n", raw, strerror(errno));
      code = EX_INPUT;
      goto out;
    }
    /* What the message needs: one pass over the file (8-bit bytes; UTF-8
     * in the header section means SMTPUTF8), then it streams. */
    unsigned needs = 0;
    int ch, prev = 0, prev2 = 0, in_headers = 1;
    while ((ch = getc(rawf)) != EOF) {
      if (ch >= 0x80)
        needs |= MAIL_SMTP_NEEDS_8BIT | (in_headers ? MAIL_SMTP_NEEDS_SMTPUTF8 : 0);
      if (ch == '\n' && (prev == '\n' || (prev == '\r' && prev2 == '\n')))
        in_headers = 0;
      prev2 = prev;
      prev = ch;
    }
    rewind(rawf);
    rc = mail_smtp_envelope_set_body_callback(env, file_read, rawf, (uint64_t)st.st_size, needs);
  } else {
    unsigned opts = 0;
    if (mail_smtp_has_extension(s, "8BITMIME"))
      opts |= MAIL_MIME_OPT_8BITMIME;
    if (mail_smtp_has_extension(s, "SMTPUTF8"))
      opts |= MAIL_MIME_OPT_SMTPUTF8;
    rc = mail_mime_builder_new(&msg, NULL);
    if (!rc)
      rc = mail_mime_builder_set_options(msg, opts);
    if (!rc)
      rc = mail_mime_builder_set_from(msg, NULL, from);
    for (size_t i = 0; !rc && i < nto; i++)
      rc = mail_mime_builder_add_to(msg, NULL, to[i]);
    if (!rc && subject)
      rc = mail_mime_builder_set_subject(msg, subject);
    if (!rc && text) {
      size_t len;
      if (read_file(text, &textbuf, &len) != 0)
        rc = MAIL_ERR_FILE;
      else
        rc = mail_mime_builder_set_text(msg, textbuf, len);
    }
    if (!rc && !text && !nattach)
      rc = mail_mime_builder_set_text(msg, "", 0);
    for (size_t i = 0; !rc && i < nattach; i++)
      rc = mail_mime_builder_add_attachment_file(msg, NULL, basename_of(attach[i]), attach[i], NULL);
    if (!rc)
      rc = mail_smtp_envelope_set_body_mime(env, msg);
  }
  if (rc) {
    fprintf(stderr, "mailsend: message: %s\n", mail_strerror(rc));
    code = EX_INPUT;
    mail_smtp_quit(s);
    goto out;
  }

  rc = mail_smtp_send(s, env);
  for (size_t i = 0; i < nto; i++) {
    int st = mail_smtp_envelope_recipient_status(env, i);
    unsigned c = 0, sj = 0, d = 0;
    char enh[32] = "";
    if (mail_smtp_envelope_recipient_enhanced(env, i, &c, &sj, &d) == MAIL_OK)
      snprintf(enh, sizeof enh, " %u.%u.%u", c, sj, d);
    printf("%s: %s %d%s %s\n", to[i], st == MAIL_OK ? "OK" : st == MAIL_ERR_SERVER ? "REFUSED" : "NOT-SENT",
           mail_smtp_envelope_recipient_code(env, i), enh, mail_smtp_envelope_recipient_text(env, i));
  }
  if (rc && rc != MAIL_ERR_PARTIAL && rc != MAIL_ERR_RECIPIENTS) {
    const mail_smtp_reply *last = mail_smtp_last_reply(s);
    fprintf(stderr, "mailsend: send: %s", mail_strerror(rc));
    if (last && rc == MAIL_ERR_SERVER)
      fprintf(stderr, " (%d %s)", mail_smtp_reply_code(last), mail_smtp_reply_text(last, NULL));
    else if (mail_status_is_fatal(rc) || rc == MAIL_ERR_CALLBACK)
      fprintf(stderr, " (%s)", mail_conn_last_error(conn));
    fprintf(stderr, "\n");
  }
  code = exit_code(rc, 1);
  if (!mail_status_is_fatal(rc))
    mail_smtp_quit(s);

out:
  mail_smtp_envelope_free(env);
  mail_smtp_free(s);
  mail_mime_builder_free(msg);
  mail_tls_config_free(cfg);
  if (rawf)
    fclose(rawf);
  free(textbuf);
  return code;
}

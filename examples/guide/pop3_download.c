/*
 * Guide: download mail with POP3 (doc/guide.md, "Download with POP3").
 * Every message whose UIDL is not yet in DIR is saved there as
 * <uidl>.eml, streamed to the file as it arrives; messages stay on the
 * server ("leave mail on server"), so running it again fetches only what
 * is new. With --delete, the downloaded messages are deleted at QUIT.
 *
 *   MAIL_PASSWORD=... pop3_download URL CAFILE USER DIR [--delete]
 */
#include <mail/mail.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A UIDL is 1-70 printable characters chosen by the server: keep only
 * what is safe in a file name, so "../x" or "/etc" can do no harm. */
static void file_name(char *out, size_t cap, const char *dir, const char *uidl)
{
  char safe[80];
  size_t n = 0;
  for (const char *p = uidl; *p && n + 1 < sizeof safe; p++)
    safe[n++] = (strchr("/\\.", *p) || *p <= ' ' || *p > '~') ? '_' : *p;
  safe[n] = '\0';
  snprintf(out, cap, "%s/%s.eml", dir, safe);
}

typedef struct sink {
  FILE *f;
  int failed;
} sink;

static int on_body(void *user, uint32_t msg, int event, const unsigned char *data, size_t len)
{
  sink *s = user;
  (void)msg;
  if (event == MAIL_POP3_BODY_DATA && fwrite(data, 1, len, s->f) != len) {
    s->failed = 1;
    return 1; /* stops the RETR: MAIL_ERR_CALLBACK */
  }
  return 0;
}

int main(int argc, char **argv)
{
  if (argc < 5 || argc > 6 || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... pop3_download URL CAFILE USER DIR [--delete]\n");
    return 2;
  }
  const char *dir = argv[4];
  int delete = argc == 6 && !strcmp(argv[5], "--delete");
  mail_pop3 *p = NULL;
  mail_tls_config *tls = NULL;
  int rc = mail_pop3_new(&p, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, argv[2]);
  if (!rc) rc = mail_conn_set_tls_config(mail_pop3_conn(p), tls);
  mail_tls_config_free(tls);
  if (!rc) rc = mail_pop3_set_auth(p, argv[3], getenv("MAIL_PASSWORD"));
  if (!rc) rc = mail_pop3_connect_url(p, argv[1]); /* STARTTLS (STLS) required */
  if (!rc) rc = mail_pop3_auth(p);
  if (!rc) rc = mail_pop3_uidl(p); /* every message's number and unique id */
  size_t fetched = 0, skipped = 0;
  for (size_t i = 0; !rc && i < mail_pop3_uidl_count(p); i++) {
    uint32_t msg;
    const char *uidl;
    char path[4096], tmp[4200];
    rc = mail_pop3_uidl_at(p, i, &msg, &uidl);
    if (rc)
      break;
    file_name(path, sizeof path, dir, uidl);
    if (access(path, F_OK) == 0) {
      skipped++;
      continue;
    }
    /* Write to a temporary name and rename when complete: a crash or a
     * dropped link never leaves half a message under the final name. */
    snprintf(tmp, sizeof tmp, "%s.part", path);
    sink s = {fopen(tmp, "wb"), 0};
    if (!s.f) {
      fprintf(stderr, "pop3_download: %s: %s\n", tmp, strerror(errno));
      rc = MAIL_ERR_FILE;
      break;
    }
    rc = mail_pop3_retr(p, msg, on_body, &s);
    if (fclose(s.f) != 0 || s.failed)
      rc = rc ? rc : MAIL_ERR_FILE;
    if (!rc && rename(tmp, path) != 0)
      rc = MAIL_ERR_FILE;
    if (rc == MAIL_ERR_SERVER) {
      /* -ERR: the message went away meanwhile (another client deleted
       * it). The session is still usable: go on with the next one. */
      printf("message %u: %s\n", (unsigned)msg, mail_conn_last_error(mail_pop3_conn(p)));
      remove(tmp);
      rc = MAIL_OK;
      continue;
    }
    if (rc) {
      remove(tmp);
      break;
    }
    printf("saved %s\n", path);
    fetched++;
    if (delete)
      rc = mail_pop3_dele(p, msg); /* takes effect at QUIT only */
  }
  if (rc)
    fprintf(stderr, "pop3_download: %s (%s)\n", mail_strerror(rc),
            p ? mail_conn_last_error(mail_pop3_conn(p)) : "");
  int committed = 0;
  /* On an error, QUIT is not sent: the server then keeps every message. */
  if (!rc)
    rc = mail_pop3_quit(p, &committed);
  printf("%zu downloaded, %zu already here%s\n", fetched, skipped,
         delete && committed ? ", deleted on the server" : "");
  mail_pop3_free(p);
  return rc ? 1 : 0;
}

/*
 * Sync a mailbox into a maildir, and keep it in sync.
 *
 *   sync_mailbox URL CAFILE USER MAILBOX MAILDIR [WATCH-SECONDS]
 *
 * URL is imap://host[:port] (STARTTLS required) or imaps://host[:port];
 * the password comes from the environment variable MAIL_PASSWORD; CAFILE
 * is the CA to trust ("-" for the system's). The first run downloads the
 * mailbox into MAILDIR (made when missing); each later run downloads only
 * what is new, renames messages whose flags changed and removes those
 * expunged, using QRESYNC or CONDSTORE when the server has them. The
 * state of the sync is a small file in the maildir ("libmail-imap-sync"):
 * delete it, or let the server recreate the mailbox, and everything is
 * fetched again.
 *
 * With WATCH-SECONDS it stays connected that long and mirrors again each
 * time the server reports a change (IDLE, or NOOP polling without it).
 */
#include <mail/mail.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(mail_imap *im, const char *what, int rc)
{
  fprintf(stderr, "sync_mailbox: %s: %s (%s)\n", what, mail_strerror(rc),
          im ? mail_conn_last_error(mail_imap_conn(im)) : "");
  return 1;
}

/* Counts the changes sync_wait() reports (the mirror finds them again). */
static int count_change(void *user, int event, uint32_t uid, const char *flags)
{
  (void)event, (void)uid, (void)flags;
  ++*(int *)user;
  return 0;
}

int main(int argc, char **argv)
{
  if ((argc != 6 && argc != 7) || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... sync_mailbox URL CAFILE USER MAILBOX MAILDIR "
                    "[WATCH-SECONDS]\n");
    return 2;
  }
  const char *url = argv[1], *cafile = argv[2], *user = argv[3];
  const char *mailbox = argv[4], *dir = argv[5];
  int watch_s = argc == 7 ? atoi(argv[6]) : 0;

  mail_imap *im = NULL;
  mail_tls_config *tls = NULL;
  int rc = mail_imap_new(&im, NULL);
  if (!rc && strcmp(cafile, "-")) {
    rc = mail_tls_config_new(&tls, NULL);
    if (!rc) rc = mail_tls_config_set_ca_file(tls, cafile);
    if (!rc) rc = mail_conn_set_tls_config(mail_imap_conn(im), tls);
    mail_tls_config_free(tls); /* the connection keeps its own reference */
  }
  if (!rc) rc = mail_imap_set_auth(im, user, getenv("MAIL_PASSWORD"));
  if (!rc) rc = mail_imap_connect_url(im, url);
  if (!rc) rc = mail_imap_login(im);
  if (rc) {
    int code = fail(im, "connect and log in", rc);
    mail_imap_free(im);
    return code;
  }

  mail_maildir *md = NULL;
  rc = mail_maildir_open(&md, dir, MAIL_MAILDIR_CREATE, NULL);
  if (rc) {
    fprintf(stderr, "sync_mailbox: %s: %s\n", dir, mail_strerror(rc));
    mail_imap_logout(im);
    mail_imap_free(im);
    return 1;
  }

  size_t got = 0;
  rc = mail_imap_sync_maildir(&got, im, mailbox, md, MAIL_IMAP_SYNC_AUTO);
  if (!rc)
    printf("%s: %zu new message(s) in %s\n", mailbox, got, dir);

  /* Staying live: wait for the server to report a change (the helper picks
   * NOTIFY + IDLE, IDLE or NOOP polling), then mirror again. The wait keeps
   * its own copy of the state; the mirror re-reads the one in the maildir. */
  if (!rc && watch_s > 0) {
    char path[4096];
    snprintf(path, sizeof path, "%s/libmail-imap-sync", dir);
    mail_imap_sync_state *st = NULL;
    rc = mail_imap_sync_state_new(&st, NULL);
    if (!rc) rc = mail_imap_sync_state_load(st, path);
    for (int left = watch_s; !rc && left > 0;) {
      int step = left > 60 ? 60 : left < 1 ? 1 : left, changes = 0;
      rc = mail_imap_sync_wait(im, st, mailbox, MAIL_IMAP_SYNC_AUTO, step * 1000, 5000, 1,
                               count_change, &changes);
      left -= step;
      if (!rc && changes) {
        rc = mail_imap_sync_maildir(&got, im, mailbox, md, MAIL_IMAP_SYNC_AUTO);
        if (!rc)
          printf("%s: %d change(s), %zu new message(s)\n", mailbox, changes, got);
        fflush(stdout);
      }
    }
    mail_imap_sync_state_free(st);
  }
  int code = 0;
  if (rc)
    code = rc == MAIL_ERR_FILE ? (fprintf(stderr, "sync_mailbox: %s\n",
                                          mail_maildir_last_error(md)), 1)
                               : fail(im, "sync", rc);
  mail_maildir_free(md);
  if (mail_imap_get_state(im) != MAIL_IMAP_STATE_DISCONNECTED)
    mail_imap_logout(im);
  mail_imap_free(im);
  return code;
}

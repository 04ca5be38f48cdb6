/*
 * Guide: read new mail as it arrives, with IMAP IDLE (doc/guide.md,
 * "Wait for new mail with IDLE"). SELECT the mailbox, remember UIDNEXT,
 * then repeat: fetch the envelopes of messages at or above it, or IDLE
 * until the server announces more (EXISTS). The untagged callback ends
 * the IDLE from inside the session's own thread with
 * mail_imap_idle_stop(). Prints one line per new message; with
 * UNTIL-SUBJECT, exits once a message whose subject holds it came.
 *
 *   MAIL_PASSWORD=... idle_new_mail URL CAFILE USER [UNTIL-SUBJECT]
 *
 * URL names the mailbox: imap://host:port/INBOX. Prints "ready" once the
 * mailbox is selected: any message delivered after that line is reported.
 */
#include <mail/mail.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch {
  mail_imap *im;
  uint64_t exists;   /* messages seen so far, less those expunged since */
  uint32_t next_uid; /* the lowest UID not reported yet */
  const char *until;
  int done;
} watch;

/* Every untagged response comes here, after the session has applied it
 * to the mailbox's numbers. */
static int on_untagged(void *user, const mail_imap_response *r, int trusted)
{
  watch *w = user;
  (void)trusted;
  if (mail_imap_response_type(r) == MAIL_IMAP_TYPE_FETCH) {
    uint64_t uid = 0;
    const mail_imap_envelope *env = mail_imap_fetch_envelope(r);
    size_t len = 0;
    const char *subject = env ? mail_imap_envelope_field(env, MAIL_IMAP_ENV_SUBJECT, &len) : NULL;
    if (mail_imap_fetch_number(r, MAIL_IMAP_ITEM_UID, &uid) == MAIL_OK && uid >= w->next_uid) {
      printf("new: uid %" PRIu64 " subject %.*s\n", uid, subject ? (int)len : 6,
             subject ? subject : "(none)");
      fflush(stdout);
      w->next_uid = (uint32_t)uid + 1;
      if (w->until && subject && len && strstr(subject, w->until))
        w->done = 1;
    }
    return 0;
  }
  uint64_t exists = 0;
  if (mail_imap_mailbox_number(&exists, w->im, MAIL_IMAP_MAILBOX_EXISTS) != MAIL_OK)
    return 0;
  if (exists < w->exists) /* expunged (by any client): what is left was seen */
    w->exists = exists;
  else if (exists > w->exists)
    mail_imap_idle_stop(w->im); /* ends a running IDLE; harmless otherwise */
  return 0;
}

/* Fetch the envelopes of the messages from next_uid on (UID next:*). */
static int fetch_new(watch *w)
{
  mail_imap_seqset *set = NULL;
  int rc = mail_imap_seqset_new(&set, NULL);
  if (!rc) rc = mail_imap_seqset_add_range(set, w->next_uid, UINT32_MAX);
  if (!rc) rc = mail_imap_fetch(w->im, set, 1, "(UID ENVELOPE)", NULL, NULL);
  mail_imap_seqset_free(set);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc < 4 || argc > 5 || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... idle_new_mail URL CAFILE USER [UNTIL-SUBJECT]\n");
    return 2;
  }
  watch w = {0};
  w.until = argc == 5 ? argv[4] : NULL;
  mail_tls_config *tls = NULL;
  int rc = mail_imap_new(&w.im, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, argv[2]);
  if (!rc) rc = mail_conn_set_tls_config(mail_imap_conn(w.im), tls);
  mail_tls_config_free(tls);
  if (!rc) rc = mail_imap_set_auth(w.im, argv[3], getenv("MAIL_PASSWORD"));
  if (!rc) rc = mail_imap_set_untagged_callback(w.im, on_untagged, &w);
  if (!rc) rc = mail_imap_connect_url(w.im, argv[1]);
  if (!rc) rc = mail_imap_login(w.im);
  const char *mailbox = w.im ? mail_imap_url_mailbox(w.im) : NULL;
  if (!rc) rc = mail_imap_select(w.im, mailbox && *mailbox ? mailbox : "INBOX", 1);
  uint64_t uidnext = 0;
  if (!rc) rc = mail_imap_mailbox_number(&uidnext, w.im, MAIL_IMAP_MAILBOX_UIDNEXT);
  if (!rc) rc = mail_imap_mailbox_number(&w.exists, w.im, MAIL_IMAP_MAILBOX_EXISTS);
  w.next_uid = (uint32_t)uidnext;
  if (!rc) {
    printf("ready: %" PRIu64 " messages, waiting for uid %u on\n", w.exists, w.next_uid);
    fflush(stdout);
  }
  while (!rc && !w.done) {
    uint64_t exists = 0;
    rc = mail_imap_mailbox_number(&exists, w.im, MAIL_IMAP_MAILBOX_EXISTS);
    if (rc)
      break;
    if (exists > w.exists) {
      /* More than we have seen (announced during the IDLE, or with the
       * last FETCH's answer): look before idling again, the server will
       * not announce them a second time. */
      w.exists = exists;
      rc = fetch_new(&w);
    } else {
      rc = mail_imap_idle_start(w.im); /* returns after mail_imap_idle_stop() */
    }
  }
  if (rc)
    fprintf(stderr, "idle_new_mail: %s (%s)\n", mail_strerror(rc),
            w.im ? mail_conn_last_error(mail_imap_conn(w.im)) : "");
  if (w.im)
    mail_imap_logout(w.im);
  mail_imap_free(w.im);
  return rc ? 1 : 0;
}

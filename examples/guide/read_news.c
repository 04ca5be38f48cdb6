/*
 * Guide: read news with NNTP (doc/guide.md, "Read news"). Select a group,
 * list the overview (number, subject, author) of its last ten articles,
 * then print the body of the newest — or, with NEWS_FIND, of the newest
 * whose subject holds that text. With NEWS_USER and NEWS_PASSWORD it logs
 * in first, and with NEWS_POST also posts an article of that subject to
 * the group before reading (so a test can find it).
 *
 *   [NEWS_USER=u NEWS_PASSWORD=p [NEWS_POST=subject]] [NEWS_FIND=text]
 *     read_news URL CAFILE GROUP
 */
#include <mail/mail.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_body(void *user, uint64_t number, int event, const unsigned char *data, size_t len)
{
  (void)user;
  if (event == MAIL_NNTP_BODY_BEGIN)
    printf("--- body of %" PRIu64 "\n", number);
  else if (event == MAIL_NNTP_BODY_DATA)
    fwrite(data, 1, len, stdout);
  return 0;
}

static int post(mail_nntp *n, const char *group, const char *subject)
{
  static const char text[] = "Posted by the read_news example of the libmail guide.\r\n";
  mail_mime_builder *msg = NULL;
  int rc = mail_mime_builder_new(&msg, NULL);
  if (!rc) rc = mail_mime_builder_set_from(msg, NULL, "guide@libmail.test");
  if (!rc) rc = mail_mime_builder_add_header(msg, "Newsgroups", group);
  if (!rc) rc = mail_mime_builder_set_subject(msg, subject);
  if (!rc) rc = mail_mime_builder_set_text(msg, text, strlen(text));
  if (!rc) rc = mail_nntp_post_builder(n, msg);
  mail_mime_builder_free(msg);
  return rc;
}

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: read_news URL CAFILE GROUP\n");
    return 2;
  }
  const char *group = argv[3], *find = getenv("NEWS_FIND");
  mail_nntp *n = NULL;
  mail_tls_config *tls = NULL;
  int rc = mail_nntp_new(&n, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, argv[2]);
  if (!rc) rc = mail_conn_set_tls_config(mail_nntp_conn(n), tls);
  mail_tls_config_free(tls);
  if (!rc && getenv("NEWS_USER"))
    rc = mail_nntp_set_auth(n, getenv("NEWS_USER"), getenv("NEWS_PASSWORD"));
  if (!rc) rc = mail_nntp_connect_url(n, argv[1]); /* STARTTLS required on nntp:// */
  if (!rc && getenv("NEWS_USER"))
    rc = mail_nntp_auth(n);
  if (!rc && getenv("NEWS_USER") && getenv("NEWS_POST"))
    rc = post(n, group, getenv("NEWS_POST"));

  uint64_t count = 0, low = 0, high = 0;
  if (!rc) rc = mail_nntp_group(n, group, &count, &low, &high);
  if (!rc)
    printf("%s: about %" PRIu64 " articles, %" PRIu64 "-%" PRIu64 "\n", group, count, low, high);
  uint64_t pick = 0;
  if (!rc && count > 0) {
    rc = mail_nntp_over(n, high > low + 9 ? high - 9 : low, high);
    for (size_t i = 0; !rc && i < mail_nntp_over_count(n); i++) {
      const mail_nntp_overview *o = mail_nntp_over_at(n, i);
      size_t slen = 0, flen = 0;
      const char *subject = mail_nntp_overview_field(o, MAIL_NNTP_OVER_SUBJECT, &slen);
      const char *from = mail_nntp_overview_field(o, MAIL_NNTP_OVER_FROM, &flen);
      uint64_t number = mail_nntp_overview_number(o);
      printf("%" PRIu64 "\t%.*s\t%.*s\n", number, (int)slen, subject, (int)flen, from);
      if (!find || strstr(subject, find))
        pick = number;
    }
  }
  if (!rc && pick)
    rc = mail_nntp_article(n, MAIL_NNTP_BODY, pick, print_body, NULL);
  else if (!rc && find)
    rc = MAIL_ERR_NOT_FOUND;
  if (rc)
    fprintf(stderr, "read_news: %s (%s)\n", mail_strerror(rc),
            n ? mail_conn_last_error(mail_nntp_conn(n)) : "");
  if (n)
    mail_nntp_quit(n);
  mail_nntp_free(n);
  return rc ? 1 : 0;
}

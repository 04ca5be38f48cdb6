/*
 * Guide: submission with OAuth 2 (doc/guide.md, "Submit with an OAuth
 * token"). The token comes from a callback, asked when AUTH needs it and
 * once more if the server refuses it (a real program fetches a fresh one
 * from its identity provider then; this one reads MAIL_OAUTH_TOKEN
 * again). Only token mechanisms are allowed, so a password is never tried.
 *
 *   MAIL_OAUTH_TOKEN=... submit_oauth URL CAFILE USER FROM TO SUBJECT
 */
#include <mail/mail.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int token_cb(void *user, mail_sasl *sasl, int refresh)
{
  (void)user;
  const char *token = getenv("MAIL_OAUTH_TOKEN");
  if (refresh)
    fprintf(stderr, "submit_oauth: the server refused the token; asking for a new one\n");
  /* The library copies the token and wipes its copy when done. */
  return token ? mail_sasl_set_oauth_token(sasl, token) : 1;
}

int main(int argc, char **argv)
{
  if (argc != 7 || !getenv("MAIL_OAUTH_TOKEN")) {
    fprintf(stderr, "usage: MAIL_OAUTH_TOKEN=... submit_oauth URL CAFILE USER FROM TO SUBJECT\n");
    return 2;
  }
  static const char text[] = "Sent with an OAuth bearer token.\r\n";
  mail_mime_builder *msg = NULL;
  int rc = mail_mime_builder_new(&msg, NULL);
  if (!rc) rc = mail_mime_builder_set_from(msg, NULL, argv[4]);
  if (!rc) rc = mail_mime_builder_add_to(msg, NULL, argv[5]);
  if (!rc) rc = mail_mime_builder_set_subject(msg, argv[6]);
  if (!rc) rc = mail_mime_builder_set_text(msg, text, strlen(text));

  mail_smtp *smtp = NULL;
  mail_tls_config *tls = NULL;
  if (!rc) rc = mail_smtp_new(&smtp, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, argv[2]);
  if (!rc) rc = mail_conn_set_tls_config(mail_smtp_conn(smtp), tls);
  mail_tls_config_free(tls);
  mail_sasl *sasl = smtp ? mail_smtp_sasl(smtp) : NULL;
  /* The user name only (no password): OAUTHBEARER sends it with the token. */
  if (!rc) rc = mail_smtp_set_auth(smtp, argv[3], NULL);
  if (!rc) rc = mail_sasl_set_mechanisms(sasl, "OAUTHBEARER XOAUTH2");
  if (!rc) rc = mail_sasl_set_token_callback(sasl, token_cb, NULL);
  if (!rc) rc = mail_smtp_connect_url(smtp, argv[1]);
  if (!rc) rc = mail_smtp_auth(smtp);
  if (!rc)
    printf("authenticated with %s\n", mail_sasl_mechanism(sasl));

  mail_smtp_envelope *env = NULL;
  if (!rc) rc = mail_smtp_envelope_new(&env, NULL);
  if (!rc) rc = mail_smtp_send_mime(smtp, env, msg);
  if (rc)
    fprintf(stderr, "submit_oauth: %s (%s)\n", mail_strerror(rc),
            smtp ? mail_conn_last_error(mail_smtp_conn(smtp)) : "");
  for (size_t i = 0; i < mail_smtp_envelope_recipient_count(env); i++)
    printf("%s: %d\n", mail_smtp_envelope_recipient_address(env, i),
           mail_smtp_envelope_recipient_code(env, i));
  if (smtp)
    mail_smtp_quit(smtp);
  mail_smtp_envelope_free(env);
  mail_smtp_free(smtp);
  mail_mime_builder_free(msg);
  return rc ? 1 : 0;
}

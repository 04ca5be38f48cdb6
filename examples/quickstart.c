/*
 * The README's quick start, compiled so it stays true: build a message,
 * submit it over STARTTLS with authentication, print each recipient's
 * result.
 *
 *   quickstart URL CAFILE USER FROM TO
 *
 * The password comes from the environment variable MAIL_PASSWORD.
 * Example: quickstart submission://127.0.0.1:12587 ca.pem alice \
 *            alice@libmail.test bob@libmail.test
 */
#include <mail/mail.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what, int rc)
{
  fprintf(stderr, "quickstart: %s: %s\n", what, mail_strerror(rc));
  return 1;
}

int main(int argc, char **argv)
{
  if (argc != 6 || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... quickstart URL CAFILE USER FROM TO\n");
    return 2;
  }
  const char *url = argv[1], *cafile = argv[2], *user = argv[3];
  const char *from = argv[4], *to = argv[5];
  static const char text[] = "Hello from libmail.\r\n";

  /* The message: headers and a text body; the builder picks the encoding. */
  mail_mime_builder *msg = NULL;
  int rc = mail_mime_builder_new(&msg, NULL);
  if (!rc) rc = mail_mime_builder_set_from(msg, "Alice", from);
  if (!rc) rc = mail_mime_builder_add_to(msg, NULL, to);
  if (!rc) rc = mail_mime_builder_set_subject(msg, "Grüße from the quick start");
  if (!rc) rc = mail_mime_builder_set_text(msg, text, strlen(text));
  if (rc)
    return fail("building the message", rc);

  /* The session: trust our CA; STARTTLS is required by default. */
  mail_smtp *smtp = NULL;
  mail_tls_config *tls = NULL;
  rc = mail_smtp_new(&smtp, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, cafile);
  if (!rc) rc = mail_conn_set_tls_config(mail_smtp_conn(smtp), tls);
  if (!rc) rc = mail_smtp_set_auth(smtp, user, getenv("MAIL_PASSWORD"));
  mail_tls_config_free(tls); /* the connection keeps its own reference */
  if (rc)
    return fail("setting up", rc);

  if ((rc = mail_smtp_connect_url(smtp, url)) != MAIL_OK)
    return fail(mail_conn_last_error(mail_smtp_conn(smtp)), rc);
  if ((rc = mail_smtp_auth(smtp)) != MAIL_OK)
    return fail(mail_conn_last_error(mail_smtp_conn(smtp)), rc);

  /* Sender and recipients from the message; 8BITMIME and SMTPUTF8 used
   * when this server offers them (the body options are chosen now). */
  mail_smtp_envelope *env = NULL;
  rc = mail_smtp_envelope_new(&env, NULL);
  if (!rc)
    rc = mail_smtp_send_mime(smtp, env, msg);
  if (rc)
    fprintf(stderr, "quickstart: %s\n", mail_conn_last_error(mail_smtp_conn(smtp)));
  for (size_t i = 0; i < mail_smtp_envelope_recipient_count(env); i++)
    printf("%s: %d %s\n", mail_smtp_envelope_recipient_address(env, i),
           mail_smtp_envelope_recipient_code(env, i), mail_smtp_envelope_recipient_text(env, i));
  mail_smtp_quit(smtp);

  mail_smtp_free(smtp);
  mail_smtp_envelope_free(env);
  mail_mime_builder_free(msg);
  return rc == MAIL_OK ? 0 : fail("sending", rc);
}

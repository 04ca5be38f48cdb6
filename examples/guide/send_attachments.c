/*
 * Guide: send a message with attachments (doc/guide.md, "Send a message
 * with attachments"). A text body plus one attachment per FILE, submitted
 * over STARTTLS with authentication; the builder picks each part's
 * encoding and the session picks 8BITMIME/SMTPUTF8 from the server's EHLO.
 *
 *   MAIL_PASSWORD=... send_attachments URL CAFILE USER FROM TO SUBJECT [FILE...]
 *
 * Exit 0 when every recipient accepted the message.
 */
#include <mail/mail.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The name the recipient sees: the file's last path component. */
static const char *base_name(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* A few common types by extension; anything else is application/octet-stream. */
static const char *content_type(const char *name)
{
  static const struct { const char *ext, *type; } types[] = {
    {".txt", "text/plain"}, {".csv", "text/csv"}, {".pdf", "application/pdf"},
    {".png", "image/png"}, {".jpg", "image/jpeg"}, {".json", "application/json"},
  };
  const char *dot = strrchr(name, '.');
  for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(dot, types[i].ext))
      return types[i].type;
  return NULL;
}

static int fail(const char *what, int rc)
{
  fprintf(stderr, "send_attachments: %s: %s\n", what, mail_strerror(rc));
  return 1;
}

int main(int argc, char **argv)
{
  if (argc < 7 || !getenv("MAIL_PASSWORD")) {
    fprintf(stderr, "usage: MAIL_PASSWORD=... send_attachments URL CAFILE USER FROM TO SUBJECT [FILE...]\n");
    return 2;
  }
  static const char text[] = "The files you asked for are attached.\r\n";
  mail_mime_builder *msg = NULL;
  int rc = mail_mime_builder_new(&msg, NULL);
  if (!rc) rc = mail_mime_builder_set_from(msg, NULL, argv[4]);
  if (!rc) rc = mail_mime_builder_add_to(msg, NULL, argv[5]);
  if (!rc) rc = mail_mime_builder_set_subject(msg, argv[6]);
  if (!rc) rc = mail_mime_builder_set_text(msg, text, strlen(text));
  /* Each file is opened now (a missing one fails here, MAIL_ERR_FILE) and
   * read while the message is sent: a large file is never held whole. */
  for (int i = 7; !rc && i < argc; i++) {
    rc = mail_mime_builder_add_attachment_file(msg, content_type(argv[i]), base_name(argv[i]),
                                               argv[i], NULL);
    if (rc)
      fprintf(stderr, "send_attachments: %s: cannot attach\n", argv[i]);
  }
  if (rc)
    return fail("building the message", rc);

  mail_smtp *smtp = NULL;
  mail_tls_config *tls = NULL;
  rc = mail_smtp_new(&smtp, NULL);
  if (!rc) rc = mail_tls_config_new(&tls, NULL);
  if (!rc) rc = mail_tls_config_set_ca_file(tls, argv[2]);
  if (!rc) rc = mail_conn_set_tls_config(mail_smtp_conn(smtp), tls);
  if (!rc) rc = mail_smtp_set_auth(smtp, argv[3], getenv("MAIL_PASSWORD"));
  mail_tls_config_free(tls); /* the connection holds its own reference */
  if (!rc) rc = mail_smtp_connect_url(smtp, argv[1]);
  if (!rc) rc = mail_smtp_auth(smtp);

  mail_smtp_envelope *env = NULL;
  if (!rc) rc = mail_smtp_envelope_new(&env, NULL);
  if (!rc) rc = mail_smtp_send_mime(smtp, env, msg);
  if (rc)
    fprintf(stderr, "send_attachments: %s\n", mail_conn_last_error(mail_smtp_conn(smtp)));
  for (size_t i = 0; i < mail_smtp_envelope_recipient_count(env); i++)
    printf("%s: %d %s\n", mail_smtp_envelope_recipient_address(env, i),
           mail_smtp_envelope_recipient_code(env, i), mail_smtp_envelope_recipient_text(env, i));
  mail_smtp_quit(smtp);
  mail_smtp_envelope_free(env);
  mail_smtp_free(smtp);
  mail_mime_builder_free(msg);
  return rc ? fail("sending", rc) : 0;
}

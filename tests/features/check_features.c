/* Built against an installed libmail (tests/features/check-install.sh):
 * the MAIL_HAVE_* macros, the headers mail.h included and mail_features()
 * of the library it runs with must all tell the same story. */
#include <mail/mail.h>

#include <stdio.h>

/* mail.h includes a module's header exactly when the module was built. */
#if MAIL_HAVE_SMTP != defined(MAIL_SMTP_H) || MAIL_HAVE_SMTP != defined(MAIL_SMTP_REPLY_H)
#error "mail.h and MAIL_HAVE_SMTP disagree"
#endif
#if MAIL_HAVE_POP3 != defined(MAIL_POP3_H) || MAIL_HAVE_POP3 != defined(MAIL_POP3_REPLY_H)
#error "mail.h and MAIL_HAVE_POP3 disagree"
#endif
#if MAIL_HAVE_MIME != defined(MAIL_MIME_H) || MAIL_HAVE_MIME != defined(MAIL_MIME_BUILD_H)
#error "mail.h and MAIL_HAVE_MIME disagree"
#endif
#if MAIL_HAVE_IMAP != defined(MAIL_IMAP_PARSE_H)
#error "mail.h and MAIL_HAVE_IMAP disagree"
#endif

static int bad;

static void check(const char *name, int have, unsigned int bit)
{
  int runtime = (mail_features() & bit) != 0;
  printf("%-9s MAIL_HAVE %d, mail_features %d\n", name, have, runtime);
  if (runtime != have) {
    printf("  disagree\n");
    bad = 1;
  }
}

int main(void)
{
  check("smtp", MAIL_HAVE_SMTP, MAIL_FEATURE_SMTP);
  check("pop3", MAIL_HAVE_POP3, MAIL_FEATURE_POP3);
  check("imap", MAIL_HAVE_IMAP, MAIL_FEATURE_IMAP);
  check("nntp", MAIL_HAVE_NNTP, MAIL_FEATURE_NNTP);
  check("mime", MAIL_HAVE_MIME, MAIL_FEATURE_MIME);
  check("tls", MAIL_HAVE_TLS, MAIL_FEATURE_TLS);
  check("zlib", MAIL_HAVE_ZLIB, MAIL_FEATURE_ZLIB);
  check("saslprep", MAIL_HAVE_SASLPREP, MAIL_FEATURE_SASLPREP);
  check("idna", MAIL_HAVE_IDNA, MAIL_FEATURE_IDNA);
  check("maildir", MAIL_HAVE_MAILDIR, MAIL_FEATURE_MAILDIR);
  check("sockets", MAIL_HAVE_SOCKETS, MAIL_FEATURE_SOCKETS);
  check("proxy", MAIL_HAVE_PROXY, MAIL_FEATURE_PROXY);
  check("loop", MAIL_HAVE_LOOP, MAIL_FEATURE_LOOP);
  check("smtp_pool", MAIL_HAVE_SMTP_POOL, MAIL_FEATURE_SMTP_POOL);
  if (mail_version_number() != MAIL_VERSION_NUMBER) {
    printf("headers %s, library %s\n", MAIL_VERSION_STRING, mail_version());
    bad = 1;
  }
  /* Each built module links: its constructor is exported. */
#if MAIL_HAVE_SMTP
  mail_smtp *s;
  if (mail_smtp_new(&s, NULL) != MAIL_OK)
    bad = 1;
  mail_smtp_free(s);
#endif
#if MAIL_HAVE_POP3
  mail_pop3 *p;
  if (mail_pop3_new(&p, NULL) != MAIL_OK)
    bad = 1;
  mail_pop3_free(p);
#endif
#if MAIL_HAVE_MIME
  mail_mime_builder *m;
  if (mail_mime_builder_new(&m, NULL) != MAIL_OK)
    bad = 1;
  mail_mime_builder_free(m);
#endif
#if MAIL_HAVE_IMAP
  mail_imap_parser *ip;
  if (mail_imap_parser_new(&ip, NULL) != MAIL_OK)
    bad = 1;
  mail_imap_parser_free(ip);
#endif
  return bad;
}

/*
 * libmail — umbrella header: includes every public header of the modules
 * this installation was built with, and no other: a module left out of
 * the build (-Dsmtp=disabled, ...) has no header installed and none
 * included here. Which ones were built: MAIL_HAVE_* in mail/features.h at
 * compile time, mail_features() at run time. Including single headers
 * works too.
 */
#ifndef MAIL_MAIL_H
#define MAIL_MAIL_H

#include <mail/version.h>
#include <mail/features.h>
#include <mail/common.h>
#include <mail/conn.h>
#include <mail/sasl.h>
#if MAIL_HAVE_LOOP
#include <mail/loop.h>
#endif
#if MAIL_HAVE_MIME
#include <mail/mime.h>
#include <mail/mime_build.h>
#endif
#if MAIL_HAVE_SMTP
#include <mail/smtp_reply.h>
#include <mail/smtp.h>
#if MAIL_HAVE_SMTP_POOL
#include <mail/smtp_pool.h>
#endif
#endif
#if MAIL_HAVE_POP3
#include <mail/pop3_reply.h>
#include <mail/pop3.h>
#endif
#if MAIL_HAVE_IMAP
#include <mail/imap_parse.h>
#include <mail/imap.h>
#include <mail/imap_ext.h>
#include <mail/imap_sync.h>
#endif
#if MAIL_HAVE_NNTP
#include <mail/nntp_reply.h>
#include <mail/nntp.h>
#endif
#if MAIL_HAVE_MAILDIR
#include <mail/maildir.h>
#endif

#endif /* MAIL_MAIL_H */

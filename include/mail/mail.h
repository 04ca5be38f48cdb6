/*
 * libmail — umbrella header: includes every public header of the modules
 * this installation was built with. Including single headers works too.
 */
#ifndef MAIL_MAIL_H
#define MAIL_MAIL_H

#include <mail/version.h>
#include <mail/common.h>
#include <mail/conn.h>
#include <mail/sasl.h>
#include <mail/mime.h>
#include <mail/mime_build.h>
#include <mail/smtp_reply.h>
#include <mail/smtp.h>
#include <mail/pop3_reply.h>
#include <mail/pop3.h>
#include <mail/imap_parse.h>
#include <mail/imap.h>

#endif /* MAIL_MAIL_H */

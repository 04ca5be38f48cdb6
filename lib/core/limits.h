/* Versioned mail_limits in and out: every setter and getter of limits
 * goes through here, so versions 1 and 2 are handled in one place. */
#ifndef MAIL_CORE_LIMITS_H
#define MAIL_CORE_LIMITS_H

#include <mail/common.h>

/* The full defaults of the newest version, filled in or shared. */
void mail_limits_defaults(mail_limits *l);
const mail_limits *mail_limits_builtin(void);
/* Check src (version 1 or 2, no bound 0) and copy it into dst, a
 * full struct: fields src's version lacks get their defaults.
 * MAIL_ERR_INVALID with dst unchanged. */
int mail_limits_import(mail_limits *dst, const mail_limits *src);
/* Write into out only the fields of the version out->version names (a
 * version newer than ours gets ours; 0 or garbage is taken as 1). */
void mail_limits_export(const mail_limits *src, mail_limits *out);
/* Lines (and capability entries) in one response that is not message
 * data: the smaller of max_lines and max_items. */
size_t mail_limits_lines(const mail_limits *l);

#endif

/*
 * EHLO capability lists: every reply the parser finds becomes a list;
 * every entry, parameter and lookup is walked. Each input line is also
 * added straight to a capability set, as the engine's line-level path
 * does.
 */
#include <string.h>

#include <mail/smtp_reply.h>

#include "core/mem.h"
#include "fuzz_common.h"
#include "parse/caps.h"

static void walk(const mail_smtp_caps *c)
{
  size_t n = mail_smtp_caps_count(c);
  for (size_t i = 0; i < n; i++) {
    const char *kw = mail_smtp_caps_keyword(c, i);
    FZ_ASSERT(kw && kw[0]);
    for (const char *q = kw; *q; q++)
      FZ_ASSERT(*q != ' ' && *q != '\t' && *q != '=');
    size_t found;
    FZ_ASSERT(mail_smtp_caps_find(c, kw, &found) == MAIL_OK && found <= i);
    size_t np = mail_smtp_caps_param_count(c, i);
    for (size_t j = 0; j < np; j++) {
      const char *pa = mail_smtp_caps_param(c, i, j);
      FZ_ASSERT(pa && pa[0] && !strchr(pa, ' '));
    }
    FZ_ASSERT(mail_smtp_caps_param(c, i, np) == NULL);
  }
  FZ_ASSERT(mail_smtp_caps_keyword(c, n) == NULL);
  (void)mail_smtp_caps_find(c, "AUTH", NULL);
  (void)mail_smtp_caps_find(c, "size", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mail_smtp_parser *p;
  mail_smtp_caps *c;
  if (mail_smtp_parser_new(&p, NULL) || mail_smtp_caps_new(&c, NULL))
    abort();
  FZ_ASSERT(mail_smtp_parser_feed(p, data, size) == MAIL_OK);
  mail_smtp_parser_end(p);
  const mail_smtp_reply *r;
  while (mail_smtp_parser_next(p, &r) == MAIL_OK) {
    int rc = mail_smtp_caps_parse_ehlo(c, r);
    /* MAIL_ERR_LIMIT: the list would pass the default bounds (1 MiB held,
     * 10,000 lines); it is emptied then. */
    FZ_ASSERT(rc == MAIL_OK || (rc == MAIL_ERR_SERVER && mail_smtp_reply_code(r) / 100 != 2) ||
              (rc == MAIL_ERR_LIMIT && mail_smtp_caps_count(c) == 0));
    FZ_ASSERT(mail_smtp_caps_count(c) < mail_smtp_reply_line_count(r));
    walk(c);
  }

  /* Raw lines into a capability set of each grammar. */
  mail_allocator a;
  mail_alloc_init(&a, NULL);
  for (int g = MAIL_CAPS_SMTP; g <= MAIL_CAPS_POP3; g++) {
    mail_capset set;
    mail_capset_init(&set, &a, g);
    size_t at = 0;
    while (at < size) {
      const uint8_t *lf = memchr(data + at, '\n', size - at);
      size_t n = lf ? (size_t)(lf - (data + at)) : size - at;
      size_t before = mail_capset_count(&set);
      int rc = mail_capset_add_line(&set, (const char *)data + at, n);
      FZ_ASSERT(rc == MAIL_OK || rc == MAIL_ERR_LIMIT);
      FZ_ASSERT(mail_capset_count(&set) - before <= (rc == MAIL_OK));
      if (rc)
        break; /* past the default bounds: nothing more is taken */
      at += n + 1;
    }
    for (size_t i = 0; i < mail_capset_count(&set); i++) {
      FZ_ASSERT(mail_capset_keyword(&set, i) != NULL);
      for (size_t j = 0; j < mail_capset_param_count(&set, i); j++)
        FZ_ASSERT(mail_capset_param(&set, i, j) != NULL);
    }
    mail_capset_free(&set);
  }
  mail_smtp_caps_free(c);
  mail_smtp_parser_free(p);
  return 0;
}

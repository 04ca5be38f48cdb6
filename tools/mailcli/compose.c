/* `send` and `mime build` options: the envelope and the message. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compose.h"

static int list_add(const char ***list, size_t *n, size_t cap, const char *v)
{
  if (!*list && !(*list = calloc(cap, sizeof **list)))
    return -1;
  (*list)[(*n)++] = v;
  return 0;
}

int compose_parse(compose *c, cli_args *a)
{
  memset(c, 0, sizeof *c);
  size_t cap = (size_t)a->argc + 1;
  if (!(c->positional = calloc(cap, sizeof *c->positional)))
    return cli_fail(EXIT_INPUT, "arguments", "out of memory");
  for (int i = 0; i < a->argc; i++) {
    const char *k = a->argv[i];
    if (!strcmp(k, "--")) {
      while (++i < a->argc)
        c->positional[c->npositional++] = a->argv[i];
      break;
    }
    if (k[0] != '-' || !k[1]) {
      c->positional[c->npositional++] = k;
      continue;
    }
    /* "--name=value" or "--name value" */
    char name[32];
    const char *v, *eq = strchr(k, '=');
    if (eq && (size_t)(eq - k) < sizeof name) {
      memcpy(name, k, (size_t)(eq - k));
      name[eq - k] = 0;
      k = name;
      v = eq + 1;
    } else if (i + 1 < a->argc) {
      v = a->argv[++i];
    } else {
      return cli_usage_error("%s needs a value", k);
    }
    const char **single = NULL;
    const char ***list = NULL;
    size_t *count = NULL;
    if (!strcmp(k, "--from"))
      single = &c->from;
    else if (!strcmp(k, "--subject"))
      single = &c->subject;
    else if (!strcmp(k, "--text"))
      single = &c->text;
    else if (!strcmp(k, "--html"))
      single = &c->html;
    else if (!strcmp(k, "--raw"))
      single = &c->raw;
    else if (!strcmp(k, "--dsn"))
      single = &c->dsn;
    else if (!strcmp(k, "--message-id"))
      single = &c->message_id;
    else if (!strcmp(k, "--to"))
      list = &c->to, count = &c->nto;
    else if (!strcmp(k, "--cc"))
      list = &c->cc, count = &c->ncc;
    else if (!strcmp(k, "--bcc"))
      list = &c->bcc, count = &c->nbcc;
    else if (!strcmp(k, "--attach"))
      list = &c->attach, count = &c->nattach;
    else if (!strcmp(k, "--header"))
      list = &c->header, count = &c->nheader;
    else
      return cli_usage_error("unknown option %s", k);
    if (single) {
      if (*single)
        return cli_usage_error("%s given twice", k);
      *single = v;
    } else if (list_add(list, count, cap, v)) {
      return cli_fail(EXIT_INPUT, "arguments", "out of memory");
    }
  }
  if (c->raw && (c->subject || c->text || c->html || c->nattach || c->nheader || c->message_id))
    return cli_usage_error("--raw sends a file as it is: no --subject, --text, --html, "
                           "--attach, --header or --message-id with it");
  return EXIT_OK;
}

void compose_free(compose *c)
{
  free(c->to);
  free(c->cc);
  free(c->bcc);
  free(c->attach);
  free(c->header);
  free(c->positional);
  free(c->text_buf);
  free(c->html_buf);
  memset(c, 0, sizeof *c);
}

int compose_split_address(const char *value, char *buf, size_t cap, const char **name,
                          const char **addr)
{
  size_t n = strlen(value);
  if (n >= cap)
    return -1;
  memcpy(buf, value, n + 1);
  *name = NULL;
  *addr = buf;
  char *lt = strrchr(buf, '<');
  if (lt && n && buf[n - 1] == '>') {
    buf[n - 1] = 0;
    *addr = lt + 1;
    char *end = lt;
    while (end > buf && end[-1] == ' ')
      end--;
    *end = 0;
    char *start = buf;
    if (*start == '"' && end > start + 1 && end[-1] == '"') {
      start++;
      end[-1] = 0;
    }
    *name = *start ? start : NULL;
  }
  return 0;
}

static const char *base_name(const char *p)
{
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

typedef int (*add_fn)(mail_mime_builder *, const char *, const char *);

static int add_addresses(mail_mime_builder *m, add_fn fn, const char **list, size_t n,
                         const char *opt)
{
  for (size_t i = 0; i < n; i++) {
    char buf[1024];
    const char *name, *addr;
    int rc = compose_split_address(list[i], buf, sizeof buf, &name, &addr) ? MAIL_ERR_SYNTAX
                                                                          : fn(m, name, addr);
    if (rc)
      return cli_fail(EXIT_INPUT, opt, "%s: %s", list[i], mail_strerror(rc));
  }
  return EXIT_OK;
}

static int add_headers(compose *c, mail_mime_builder *m)
{
  for (size_t i = 0; i < c->nheader; i++) {
    const char *h = c->header[i], *colon = strchr(h, ':');
    char name[256];
    if (!colon || colon == h || (size_t)(colon - h) >= sizeof name)
      return cli_fail(EXIT_INPUT, "--header", "'%s' is not \"Name: value\"", h);
    memcpy(name, h, (size_t)(colon - h));
    name[colon - h] = 0;
    const char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    int rc = mail_mime_builder_add_header(m, name, v);
    if (rc)
      return cli_fail(EXIT_INPUT, "--header", "%s: %s", h, mail_strerror(rc));
  }
  return EXIT_OK;
}

static int add_body(compose *c, mail_mime_builder *m)
{
  size_t len;
  int rc = MAIL_OK;
  if (c->text) {
    if (cli_read_file(c->text, &c->text_buf, &len))
      return cli_fail(EXIT_INPUT, "--text", "%s: %s", c->text, strerror(errno));
    rc = mail_mime_builder_set_text(m, c->text_buf, len);
  } else if (!c->html) {
    rc = mail_mime_builder_set_text(m, "", 0);
  }
  if (rc)
    return cli_fail(EXIT_INPUT, "--text", "%s", mail_strerror(rc));
  if (c->html) {
    if (cli_read_file(c->html, &c->html_buf, &len))
      return cli_fail(EXIT_INPUT, "--html", "%s: %s", c->html, strerror(errno));
    if ((rc = mail_mime_builder_set_html(m, c->html_buf, len)) != MAIL_OK)
      return cli_fail(EXIT_INPUT, "--html", "%s", mail_strerror(rc));
  }
  for (size_t i = 0; i < c->nattach; i++) {
    /* application/octet-stream: the bytes arrive exactly as they are in
     * the file (text types would get CRLF line ends). */
    rc = mail_mime_builder_add_attachment_file(m, NULL, base_name(c->attach[i]), c->attach[i], NULL);
    if (rc)
      return cli_fail(EXIT_INPUT, "--attach", "%s: %s", c->attach[i], mail_strerror(rc));
  }
  return EXIT_OK;
}

int compose_build(compose *c, unsigned int opts, mail_mime_builder **out)
{
  mail_mime_builder *m = NULL;
  int rc = mail_mime_builder_new(&m, NULL);
  if (!rc)
    rc = mail_mime_builder_set_options(m, opts);
  if (rc) {
    mail_mime_builder_free(m);
    return cli_fail(EXIT_INPUT, "message", "%s", mail_strerror(rc));
  }
  int code = EXIT_OK;
  if (!c->from)
    code = cli_usage_error("the message needs --from");
  if (!code)
    code = add_addresses(m, mail_mime_builder_set_from, &c->from, 1, "--from");
  if (!code)
    code = add_addresses(m, mail_mime_builder_add_to, c->to, c->nto, "--to");
  if (!code)
    code = add_addresses(m, mail_mime_builder_add_cc, c->cc, c->ncc, "--cc");
  if (!code)
    code = add_addresses(m, mail_mime_builder_add_bcc, c->bcc, c->nbcc, "--bcc");
  if (!code && c->subject && (rc = mail_mime_builder_set_subject(m, c->subject)) != MAIL_OK)
    code = cli_fail(EXIT_INPUT, "--subject", "%s", mail_strerror(rc));
  /* --message-id: a Message-ID the caller knows, to find the message by
   * later (IMAP SEARCH HEADER Message-ID); written without the <>. */
  if (!code && c->message_id) {
    char id[512];
    size_t n = strlen(c->message_id);
    const char *v = c->message_id;
    if (n >= 2 && v[0] == '<' && v[n - 1] == '>')
      v++, n -= 2;
    snprintf(id, sizeof id, "%.*s", (int)n, v);
    if (n >= sizeof id || (rc = mail_mime_builder_set_message_id(m, id)) != MAIL_OK)
      code = cli_fail(EXIT_INPUT, "--message-id", "'%s' is not left@right", c->message_id);
  }
  if (!code)
    code = add_headers(c, m);
  if (!code)
    code = add_body(c, m);
  if (code) {
    mail_mime_builder_free(m);
    return code;
  }
  *out = m;
  return EXIT_OK;
}

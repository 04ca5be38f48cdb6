/* Default limits and the versioned copy in and out of mail_limits. */
#include "core/limits.h"

#include <stddef.h>
#include <string.h>

/* Bytes of the struct up to and including the last version 1 field. */
#define V1_SIZE (offsetof(mail_limits, max_items) + sizeof(size_t))

static const mail_limits builtin = {
  .version = MAIL_LIMITS_VERSION,
  .max_line = 64 * 1024,
  .max_literal = 64u * 1024 * 1024,
  .max_response = 1024 * 1024,
  .max_depth = 64,
  .max_items = 10000000,
  .max_lines = 10000,
  .max_output = 4u * 1024 * 1024,
};

const mail_limits *mail_limits_builtin(void)
{
  return &builtin;
}

void mail_limits_defaults(mail_limits *l)
{
  *l = builtin;
}

int mail_limits_init(mail_limits *l, unsigned int version)
{
  if (!l || version < 1 || version > MAIL_LIMITS_VERSION)
    return MAIL_ERR_INVALID;
  l->version = version; /* then export writes that version's fields */
  mail_limits_export(&builtin, l);
  return MAIL_OK;
}

void mail_limits_default(mail_limits *l)
{
  if (l)
    mail_limits_init(l, 1);
}

int mail_limits_import(mail_limits *dst, const mail_limits *src)
{
  if (!src || src->version < 1 || src->version > MAIL_LIMITS_VERSION)
    return MAIL_ERR_INVALID;
  mail_limits l;
  mail_limits_defaults(&l);
  memcpy(&l, src, V1_SIZE); /* a version 1 caller's struct ends there */
  if (src->version >= 2) {
    l.max_lines = src->max_lines;
    l.max_output = src->max_output;
  }
  l.version = MAIL_LIMITS_VERSION;
  if (l.max_line == 0 || l.max_literal == 0 || l.max_response == 0 || l.max_depth == 0 ||
      l.max_items == 0 || l.max_lines == 0 || l.max_output == 0)
    return MAIL_ERR_INVALID;
  *dst = l;
  return MAIL_OK;
}

void mail_limits_export(const mail_limits *src, mail_limits *out)
{
  unsigned int v = out->version;
  if (v < 1 || v > MAIL_LIMITS_VERSION)
    v = v > MAIL_LIMITS_VERSION ? MAIL_LIMITS_VERSION : 1;
  memcpy(out, src, V1_SIZE);
  if (v >= 2) {
    out->max_lines = src->max_lines;
    out->max_output = src->max_output;
  }
  out->version = v;
}

size_t mail_limits_lines(const mail_limits *l)
{
  return l->max_lines < l->max_items ? l->max_lines : l->max_items;
}

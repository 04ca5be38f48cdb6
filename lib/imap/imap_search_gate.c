/* Search keys and RETURN options that belong to an extension, checked
 * before a SEARCH, SORT or THREAD is sent, so that a server that does not
 * offer them gets nothing (RFC 5032 WITHIN, RFC 5182 SEARCHRES, RFC 8514
 * SAVEDATE, RFC 6203 FUZZY, RFC 8474 OBJECTID, Gmail's X-GM-EXT-1) and the
 * FETCH items of RFC 3516 BINARY, OBJECTID, RFC 8970 PREVIEW, SAVEDATE and
 * X-GM-EXT-1. Also
 * the capabilities that carry a value (APPENDLIMIT=n). */
#include <string.h>

#include "imap/imap_internal.h"

int imap_cap_value(const mail_imap *im, const char *name, const char **value)
{
  if (!im->caps_known)
    return 0;
  const char *s = (const char *)im->caps.data;
  size_t nl = strlen(name);
  for (size_t i = 0; i < im->caps.len;) {
    size_t j = i;
    while (j < im->caps.len && s[j] != ' ')
      j++;
    if (j - i >= nl && !memcmp(s + i, name, nl) && (j - i == nl || s[i + nl] == '=')) {
      if (value)
        *value = j - i == nl ? "" : s + i + nl + 1;
      return 1;
    }
    i = j + 1;
  }
  return 0;
}

static const struct {
  const char *key, *cap;
} keys[] = {
  {"YOUNGER", "WITHIN"},         {"OLDER", "WITHIN"},
  {"$", "SEARCHRES"},            {"SAVEDBEFORE", "SAVEDATE"},
  {"SAVEDON", "SAVEDATE"},       {"SAVEDSINCE", "SAVEDATE"},
  {"SAVEDATESUPPORTED", "SAVEDATE"}, {"X-GM-RAW", "X-GM-EXT-1"},
  {"X-GM-MSGID", "X-GM-EXT-1"},  {"X-GM-THRID", "X-GM-EXT-1"},
  {"X-GM-LABELS", "X-GM-EXT-1"}, {"FUZZY", "SEARCH=FUZZY"},
  {"EMAILID", "OBJECTID"},       {"THREADID", "OBJECTID"},
};

static int word_is(const char *s, size_t n, const char *w)
{
  if (strlen(w) != n)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 32) : s[i];
    if (c != w[i])
      return 0;
  }
  return 1;
}

/* Each word of text outside quoted strings, parentheses stripped. */
static int gate_words(mail_imap *im, const char *text, int ret)
{
  const char *p = text;
  while (*p) {
    if (*p == '"') { /* a quoted string the caller wrote: not a key */
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1])
          p++;
      if (*p)
        p++;
      continue;
    }
    if (*p == ' ' || *p == '(' || *p == ')') {
      p++;
      continue;
    }
    size_t n = strcspn(p, " ()\"");
    if (ret && word_is(p, n, "SAVE")) {
      int rc = imap_need_cap(im, "SEARCHRES", NULL);
      if (rc)
        return rc;
    }
    for (size_t k = 0; !ret && k < sizeof keys / sizeof keys[0]; k++) {
      if (!word_is(p, n, keys[k].key))
        continue;
      int rc = imap_need_cap(im, keys[k].cap, NULL);
      if (rc)
        return rc;
    }
    p += n;
  }
  return MAIL_OK;
}

int imap_search_gate(mail_imap *im, const char *ret, const char *criteria)
{
  int rc = ret ? gate_words(im, ret, 1) : MAIL_OK;
  return rc ? rc : gate_words(im, criteria, 0);
}

static const struct {
  const char *item, *cap, *also;
} items_ext[] = {
  {"BINARY", "BINARY", NULL},          {"BINARY.PEEK", "BINARY", NULL},
  {"BINARY.SIZE", "BINARY", NULL},     {"EMAILID", "OBJECTID", NULL},
  {"THREADID", "OBJECTID", NULL},      {"PREVIEW", "PREVIEW", "PREVIEW=FUZZY"},
  {"SAVEDATE", "SAVEDATE", NULL},      {"X-GM-MSGID", "X-GM-EXT-1", NULL},
  {"X-GM-THRID", "X-GM-EXT-1", NULL},  {"X-GM-LABELS", "X-GM-EXT-1", NULL},
};

int imap_fetch_gate(mail_imap *im, const char *items)
{
  const char *p = items;
  while (*p) {
    if (*p == '[') { /* a section: header field names are not items */
      while (*p && *p != ']')
        p++;
      continue;
    }
    if (*p == ' ' || *p == '(' || *p == ')' || *p == ']' || *p == '<') {
      if (*p == '<')
        p += strcspn(p, ">");
      if (*p)
        p++;
      continue;
    }
    size_t n = strcspn(p, " ()[<");
    for (size_t k = 0; k < sizeof items_ext / sizeof items_ext[0]; k++) {
      if (!word_is(p, n, items_ext[k].item))
        continue;
      int rc = imap_need_cap(im, items_ext[k].cap, items_ext[k].also);
      if (rc)
        return rc;
    }
    p += n;
  }
  return MAIL_OK;
}

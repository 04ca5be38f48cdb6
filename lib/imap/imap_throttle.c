/* Throttling: servers that ask the client to slow down say so in three
 * ways, none of them a standard: a [THROTTLED] response code, the same
 * word at the end of an OK's text as Gmail sends it ("A2 OK Success
 * [THROTTLED]": the command succeeded, the next ones should wait), and
 * Exchange Online's refusal "Request is throttled. Suggested Backoff
 * Time: 299609 milliseconds" (NO or BAD, no code). Each is noted for the
 * operation in progress, with the backoff when the text suggests one, and
 * read with mail_imap_throttle(). */
#include <string.h>

#include <mail/imap_ext.h>

#include "imap/imap_internal.h"

/* Where word (lower case) starts in t[0..n), ignoring ASCII case; NULL when absent. */
static const char *find(const char *t, size_t n, const char *word)
{
  size_t wl = strlen(word);
  for (size_t i = 0; t && i + wl <= n; i++) {
    size_t k = 0;
    while (k < wl && (t[i + k] >= 'A' && t[i + k] <= 'Z' ? t[i + k] + 32 : t[i + k]) == word[k])
      k++;
    if (k == wl)
      return t + i;
  }
  return NULL;
}

int imap_throttled(const mail_imap_response *r)
{
  int type = mail_imap_response_type(r);
  if (type != MAIL_IMAP_TYPE_OK && type != MAIL_IMAP_TYPE_NO && type != MAIL_IMAP_TYPE_BAD)
    return 0;
  if (mail_imap_response_code(r) == MAIL_IMAP_CODE_THROTTLED)
    return 1;
  size_t n;
  const char *t = mail_imap_response_text(r, &n);
  return find(t, n, "[throttled]") || find(t, n, "request is throttled");
}

/* "Suggested Backoff Time: 299609 milliseconds" (or seconds): in ms, 0 when none. */
static int64_t backoff(const char *t, size_t n)
{
  const char *b = find(t, n, "backoff");
  if (!b)
    return 0;
  const char *e = t + n;
  while (b < e && (*b < '0' || *b > '9'))
    b++;
  int64_t v = 0;
  while (b < e && *b >= '0' && *b <= '9' && v < INT64_MAX / 1000 / 10)
    v = v * 10 + (*b++ - '0');
  while (b < e && *b == ' ')
    b++;
  int secs = e - b >= 1 && (*b | 0x20) == 's';
  return secs ? v * 1000 : v;
}

void imap_throttle_note(mail_imap *im, const mail_imap_response *r)
{
  if (!imap_throttled(r))
    return;
  im->throttled = 1;
  size_t n;
  const char *t = mail_imap_response_text(r, &n);
  int64_t ms = backoff(t, n);
  if (ms > im->throttle_ms)
    im->throttle_ms = ms;
}

int mail_imap_throttle(int64_t *backoff_ms, const mail_imap *im)
{
  if (!backoff_ms || !im)
    return MAIL_ERR_INVALID;
  *backoff_ms = im->throttle_ms;
  return im->throttled ? MAIL_OK : MAIL_ERR_NOT_FOUND;
}

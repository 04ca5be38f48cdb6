/*
 * POP3 typed helpers: every input line goes through the STAT, LIST and
 * UIDL parsers and into a CAPA list. Successful parses are checked
 * against an independent reading of the same digits.
 */
#include <stdio.h>
#include <string.h>

#include <mail/pop3_reply.h>

#include "fuzz_common.h"

/* The leading decimal field as written, or -1 if it is not all digits. */
static int leading_digits(const char *s, size_t n, size_t *len)
{
  size_t i = 0;
  while (i < n && s[i] >= '0' && s[i] <= '9')
    i++;
  *len = i;
  return i > 0 ? 0 : -1;
}

static void check_number(const char *s, size_t n, uint64_t v)
{
  /* Compare digit by digit, leading zeros aside. */
  char buf[32];
  int k = snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  while (n > 1 && s[0] == '0') {
    s++;
    n--;
  }
  FZ_ASSERT((size_t)k == n && memcmp(buf, s, n) == 0);
}

static void one_line(mail_pop3_caps *caps, const char *line, size_t n)
{
  uint32_t a;
  uint64_t b;
  size_t dl;
  if (mail_pop3_parse_stat(&a, &b, line, n) == MAIL_OK) {
    FZ_ASSERT(leading_digits(line, n, &dl) == 0);
    check_number(line, dl, a);
    size_t i = dl;
    while (i < n && line[i] == ' ')
      i++;
    size_t dl2;
    FZ_ASSERT(leading_digits(line + i, n - i, &dl2) == 0);
    check_number(line + i, dl2, b);
    FZ_ASSERT(i + dl2 == n || line[i + dl2] == ' ');
  }
  if (mail_pop3_parse_list(&a, &b, line, n) == MAIL_OK) {
    FZ_ASSERT(a >= 1);
    FZ_ASSERT(leading_digits(line, n, &dl) == 0);
    check_number(line, dl, a);
  }
  const char *uid;
  size_t ul;
  if (mail_pop3_parse_uidl(&a, &uid, &ul, line, n) == MAIL_OK) {
    FZ_ASSERT(a >= 1 && ul >= 1 && ul <= 70);
    FZ_ASSERT(uid > line && uid + ul <= line + n);
    for (size_t i = 0; i < ul; i++)
      FZ_ASSERT(uid[i] > 0x20 && uid[i] < 0x7f);
  }
  size_t before = mail_pop3_caps_count(caps);
  FZ_ASSERT(mail_pop3_caps_add_line(caps, line, n) == MAIL_OK);
  size_t after = mail_pop3_caps_count(caps);
  FZ_ASSERT(after - before <= 1);
  if (after > before) {
    const char *kw = mail_pop3_caps_keyword(caps, before);
    size_t idx;
    FZ_ASSERT(kw && mail_pop3_caps_find(caps, kw, &idx) == MAIL_OK && idx <= before);
    for (size_t j = 0; j < mail_pop3_caps_param_count(caps, before); j++)
      FZ_ASSERT(mail_pop3_caps_param(caps, before, j) != NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  mail_pop3_caps *caps;
  if (mail_pop3_caps_new(&caps, NULL))
    abort();
  size_t at = 0;
  while (at < size) {
    const uint8_t *lf = memchr(data + at, '\n', size - at);
    size_t n = lf ? (size_t)(lf - (data + at)) : size - at;
    /* A private copy, so reading past the line is caught. */
    char *line = malloc(n ? n : 1);
    if (!line)
      abort();
    memcpy(line, data + at, n);
    one_line(caps, line, n);
    free(line);
    at += n + 1;
  }
  mail_pop3_caps_free(caps);
  return 0;
}

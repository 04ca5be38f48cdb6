#include "plus_lines.h"

int mail_test_plus_lines(mail_test_lines *t, const char *data, size_t len)
{
  int ended = 0;
  for (size_t i = 0; i < len; i++) {
    char ch = data[i];
    if (ch == '\n') {
      ended += t->state == 2;
      t->state = 0;
    } else if (t->state == 0) {
      t->state = ch == '+' ? 1 : 3;
    } else if (t->state == 1) {
      t->state = ch == ' ' ? 2 : 3;
    }
  }
  return ended;
}

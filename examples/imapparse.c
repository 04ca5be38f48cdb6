/* imapparse FILE|- : IMAP server bytes (a capture, as a client receives
 * them) to one JSON object per response. Exit 0, or 8 when the input
 * cannot be framed. The printer is examples/imap_json.c. */
#include <stdio.h>
#include <string.h>

#include "imap_json.h"

int main(int argc, char **argv)
{
  if (argc != 2) {
    fputs("usage: imapparse FILE|-\n", stderr);
    return 2;
  }
  FILE *in = strcmp(argv[1], "-") ? fopen(argv[1], "rb") : stdin;
  if (!in) {
    perror(argv[1]);
    return 1;
  }
  int rc = imap_json_run(in, stdout, stderr, "imapparse");
  if (in != stdin)
    fclose(in);
  if (fflush(stdout) != 0)
    return 1;
  return rc;
}

/*
 * Guide: parse a message and save its attachments safely (doc/guide.md,
 * "Save attachments safely"). The file name in a message is the sender's
 * choice: "../../.ssh/authorized_keys", "/etc/passwd", a name with control
 * characters or terminal escapes, "..", or the same name twice. Each is
 * reduced to a plain name inside DIR: the last path component only,
 * control bytes dropped, no leading dot, at most 100 bytes (cut on a
 * UTF-8 boundary), "attachment-N" when nothing is left; a file is never
 * overwritten (O_EXCL: "name-1.ext", "name-2.ext", ...) and never
 * followed through a link (O_NOFOLLOW). Bodies are decoded as they are
 * written.
 *
 *   save_attachments MESSAGE-FILE DIR
 */
#include <mail/mail.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_MAX_BYTES 100

/* The sender's name as a safe base name (out: at least NAME_MAX_BYTES + 1). */
static void sanitise(char *out, const char *name, unsigned index)
{
  /* Only what follows the last '/' or '\\' (Windows senders). */
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == '\\')
      name = p + 1;
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p && n < NAME_MAX_BYTES; p++) {
    if (*p < 0x20 || *p == 0x7f)
      continue; /* control bytes: never into a file name or a terminal */
    if (n == 0 && (*p == '.' || *p == ' ' || *p == '-'))
      continue; /* no hidden files, "..", or names read as options */
    out[n++] = (char)*p;
  }
  /* Do not end inside a UTF-8 sequence cut by the length limit. */
  size_t cut = n;
  while (cut > 0 && ((unsigned char)out[cut - 1] & 0xC0) == 0x80)
    cut--;
  if (cut > 0 && (unsigned char)out[cut - 1] >= 0xC0) {
    unsigned char lead = (unsigned char)out[cut - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    n = (n - (cut - 1) == need) ? n : cut - 1;
  }
  while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.'))
    n--;
  out[n] = '\0';
  if (!n)
    snprintf(out, NAME_MAX_BYTES + 1, "attachment-%u", index);
}

/* Create DIR/name, or DIR/name-1.ext, name-2.ext ... if taken. */
static int create_unique(const char *dir, const char *name, char *path, size_t cap)
{
  const char *dot = strrchr(name, '.');
  int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
  for (unsigned k = 0; k < 1000; k++) {
    if (k == 0)
      snprintf(path, cap, "%s/%s", dir, name);
    else
      snprintf(path, cap, "%s/%.*s-%u%s", dir, stem, name, k, dot && dot != name ? dot : "");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  errno = EEXIST;
  return -1;
}

static int write_fd(void *user, const void *data, size_t len)
{
  int fd = *(int *)user;
  const char *p = data;
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return 1;
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

static unsigned saved;

/* Depth-first over the tree: leaves that are attachments (a disposition
 * of "attachment", or any leaf with a file name) are saved. */
static int walk(mail_mime_part *part, const char *dir)
{
  size_t kids = mail_mime_part_child_count(part);
  if (mail_mime_part_is_multipart(part) || (mail_mime_part_is_message(part) && kids)) {
    for (size_t i = 0; i < kids; i++) {
      int rc = walk(mail_mime_part_child(part, i), dir);
      if (rc)
        return rc;
    }
    return 0;
  }
  const char *name = mail_mime_part_filename(part);
  const char *disp = mail_mime_part_disposition(part);
  if (!name && !(disp && !strcmp(disp, "attachment")))
    return 0; /* the message's text, not an attachment */
  char safe[NAME_MAX_BYTES + 1], path[4096];
  sanitise(safe, name ? name : "", saved + 1);
  int fd = create_unique(dir, safe, path, sizeof path);
  if (fd < 0) {
    fprintf(stderr, "save_attachments: %s/%s: %s\n", dir, safe, strerror(errno));
    return MAIL_ERR_FILE;
  }
  int rc = mail_mime_part_decode_cb(part, 0, write_fd, &fd);
  if (close(fd) != 0 && !rc)
    rc = MAIL_ERR_FILE;
  if (rc) {
    unlink(path);
    return rc;
  }
  saved++;
  printf("saved %s (%s)\n", path, mail_mime_part_content_type(part));
  return 0;
}

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: save_attachments MESSAGE-FILE DIR\n");
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  /* A bounded read: the parser has limits of its own (mail_mime_limits),
   * and so does this program: 50 MB. */
  static char buf[50 * 1024 * 1024];
  size_t len = fread(buf, 1, sizeof buf, f);
  int too_big = !feof(f);
  fclose(f);
  if (too_big) {
    fprintf(stderr, "save_attachments: %s: larger than 50 MB\n", argv[1]);
    return 1;
  }
  mail_mime_message *msg = NULL;
  int rc = mail_mime_message_parse(&msg, buf, len, MAIL_MIME_BORROW, NULL, NULL);
  if (!rc)
    rc = walk(mail_mime_message_root(msg), argv[2]);
  if (!rc)
    printf("%u attachments saved, %zu defects in the message\n", saved,
           mail_mime_message_defect_count(msg));
  else
    fprintf(stderr, "save_attachments: %s\n", mail_strerror(rc));
  mail_mime_message_free(msg);
  return rc ? 1 : 0;
}

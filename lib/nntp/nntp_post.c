/* POST and IHAVE (RFC 3977 6.3): the command, its 340/335, then the
 * article pulled from the caller's source in chunks while the output
 * queue has room (never held whole), dot-stuffed by core/dot.c, the
 * terminating "." and the 240/235. A source that fails once the data has
 * begun ends the session: ending half an article with "." would post it. */
#include <string.h>

#include "config.h"
#include "core/mem.h"
#include "nntp/nntp_internal.h"

#if MAIL_WITH_MIME
#include <mail/mime_build.h>
#endif

#define NNTP_POST_CHUNK 8192
#define NNTP_POST_HIGH_WATER (64u * 1024u)

enum { PP_START = 0, PP_WAIT_GO, PP_STREAM, PP_WAIT_FINAL, PP_DONE };

static size_t high_water(const mail_nntp *n)
{
  size_t h = mail_conn_limits(n->conn)->max_output / 2;
  return h < NNTP_POST_HIGH_WATER ? h : NNTP_POST_HIGH_WATER;
}

/* Queue article bytes until the output is full enough or the source
 * ends; then the terminating "." with its queue entry. */
static int stream(mail_nntp *n)
{
  if (!n->chunk) {
    n->chunk = mail_malloc(&n->alloc, NNTP_POST_CHUNK * 3 + 8);
    if (!n->chunk)
      return nntp_abort(n, MAIL_ERR_NOMEM, "no memory for the article");
  }
  unsigned char *in = n->chunk, *out = n->chunk + NNTP_POST_CHUNK;
  while (mail_conn_out_pending(n->conn) < high_water(n)) {
    size_t got = 0, olen;
    if (n->read(n->read_user, in, NNTP_POST_CHUNK, &got) != 0 || got > NNTP_POST_CHUNK)
      return nntp_abort(n, MAIL_ERR_CALLBACK, "the article's source failed after the data began");
    if (!got) {
      mail_dot_stuff_end(&n->stuff, 0, out, &olen);
      mail_cmd c = {.kind = NNTP_CMD_POST_DATA};
      mail_wire_part end = {out, olen, 0};
      int rc = mail_cmd_send(n->conn, &n->q, &c, &end, 1);
      if (rc)
        return nntp_abort(n, rc, "cannot queue the end of the article");
      n->post_phase = PP_WAIT_FINAL;
      return MAIL_ERR_AGAIN;
    }
    mail_dot_stuff(&n->stuff, 0, in, got, out, &olen);
    int rc = mail_conn_send(n->conn, out, olen);
    if (rc)
      return nntp_abort(n, rc, "cannot queue the article");
  }
  return MAIL_ERR_AGAIN; /* called again once the output drains */
}

int nntp_post_next(mail_nntp *n)
{
  switch (n->post_phase) {
  case PP_START: {
    n->post_phase = PP_WAIT_GO;
    int rc = n->is_ihave ? nntp_send(n, NNTP_CMD_POST, "IHAVE", (const char *)n->cmdline.data, 0,
                                     NULL)
                         : nntp_send(n, NNTP_CMD_POST, "POST", NULL, 0, NULL);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  case PP_STREAM:
    return stream(n);
  default:
    return MAIL_OK;
  }
}

int nntp_post_reply(void *engine, const mail_cmd *cmd)
{
  mail_nntp *n = engine;
  int code = n->reply.code;
  if (cmd->kind == NNTP_CMD_POST) {
    if (code != (n->is_ihave ? 335 : 340))
      return nntp_refusal(code);
    mail_dot_stuff_init(&n->stuff);
    n->post_phase = PP_STREAM;
    return MAIL_OK;
  }
  n->post_phase = PP_DONE;
  return code == (n->is_ihave ? 235 : 240) ? MAIL_OK : nntp_refusal(code);
}

static int post(mail_nntp *n, const char *msgid, mail_read_fn read, void *user)
{
  if (!read)
    return MAIL_ERR_INVALID;
  if (n->state != MAIL_NNTP_STATE_READY)
    return nntp_wrong_state(n, "READY");
  n->is_ihave = msgid != NULL;
  mail_buf_clear(&n->cmdline);
  if (msgid && (mail_buf_append_str(&n->cmdline, msgid) || mail_buf_terminate(&n->cmdline)))
    return MAIL_ERR_NOMEM;
  n->read = read;
  n->read_user = user;
  n->post_phase = PP_START;
  return nntp_run(n, NNTP_OP_POST);
}

int mail_nntp_post(mail_nntp *n, mail_read_fn read, void *user)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_POST, &rc))
    return rc;
  return post(n, NULL, read, user);
}

int mail_nntp_ihave(mail_nntp *n, const char *msgid, mail_read_fn read, void *user)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_POST, &rc))
    return rc;
  if (!nntp_msgid_ok(msgid))
    return MAIL_ERR_INVALID;
  return post(n, msgid, read, user);
}

int mail_nntp_post_builder(mail_nntp *n, struct mail_mime_builder *msg)
{
#if MAIL_WITH_MIME
  int rc;
  if (nntp_op_enter(n, NNTP_OP_POST, &rc)) /* also resumes after MAIL_ERR_AGAIN */
    return rc;
  if (!msg)
    return MAIL_ERR_INVALID;
  /* From its first byte (a callback source that cannot rewind has not
   * been read yet). */
  rc = mail_mime_builder_rewind(msg);
  if (rc && rc != MAIL_ERR_UNSUPPORTED)
    return rc;
  return post(n, NULL, mail_mime_builder_read_cb, msg);
#else
  (void)msg;
  if (!n)
    return MAIL_ERR_INVALID;
  return mail_conn_fail(n->conn, MAIL_ERR_UNSUPPORTED, "POST: built without MIME");
#endif
}

/* Commands over a sequence set (FETCH, STORE, COPY, MOVE, UID EXPUNGE,
 * SEARCH within a set), bounded by the server's line limit as a whole:
 * the set is cut into pieces that leave room for the rest of the command
 * (tag, verb, items, mailbox), each piece its own command. The pieces are
 * queued as the output drains (never more than IMAP_SET_HIGH_WATER bytes
 * ahead of the socket, so a set of any size takes bounded memory), all in
 * flight at once unless a synchronizing literal must wait for "+", and
 * answered by tag. A command that cannot be made short enough is refused
 * with MAIL_ERR_TOO_BIG before anything is sent. The [COPYUID] and
 * [MODIFIED] codes of the pieces' replies are merged into one (what
 * mail_imap_last_code_data() shows afterwards). */
#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

#define IMAP_SET_HIGH_WATER (64u * 1024u)
/* Tags grow while pieces go out: room for the widest ("A4294967295"). */
#define IMAP_TAG_DIGITS_MAX 10
/* A quoted string near the bound may go as a literal once the set is in
 * the line (imap_wire_string): its "{n}" can be a few bytes longer. */
#define IMAP_LITERAL_SLACK 8

static int build(mail_imap *im, const char *set, uint32_t *tag)
{
  const imap_setop *c = &im->setop;
  if (!strcmp(c->verb, "SEARCH"))
    return imap_search_build(im, set, tag);
  int rc = imap_wire_begin(im, c->uid ? "UID " : "", tag);
  if (!rc)
    rc = imap_wire_raw(im, c->verb);
  if (!rc)
    rc = imap_wire_atom(im, set);
  if (!rc && c->items.len)
    rc = imap_wire_atom(im, (const char *)c->items.data);
  if (!rc && c->mailbox)
    rc = imap_wire_mailbox(im, c->mailbox);
  return rc;
}

/* How many bytes of set each command may carry: what the line limit
 * leaves after the rest of the command, and no more than max_set. */
static int plan(mail_imap *im)
{
  imap_setop *c = &im->setop;
  uint32_t saved = im->next_tag, tag;
  int rc = build(im, c->set ? "" : NULL, &tag);
  size_t line = imap_wire_line_len(im) + 2;
  size_t rest = line - imap_digits(tag) + IMAP_TAG_DIGITS_MAX + IMAP_LITERAL_SLACK;
  im->next_tag = saved;
  mail_buf_clear(&im->out.bytes);
  im->out.n = 0;
  im->out.lit = 0;
  if (rc)
    return rc;
  size_t max = imap_max_line(im);
  if (!c->set) {
    if (line <= max)
      return MAIL_OK;
    return mail_conn_fail(im->conn, MAIL_ERR_TOO_BIG,
                          "%s%s: the command line would be %zu bytes, over the %zu the server "
                          "takes (mail_imap_set_max_line_length); nothing was sent",
                          c->uid ? "UID " : "", c->verb, line, max);
  }
  size_t longest = imap_seqset_longest(c->set);
  if (rest + longest > max)
    return mail_conn_fail(im->conn, MAIL_ERR_TOO_BIG,
                          "%s%s: %zu bytes of command around the set leave no room for its "
                          "ranges in the %zu-byte line the server takes "
                          "(mail_imap_set_max_line_length); nothing was sent",
                          c->uid ? "UID " : "", c->verb, rest, max);
  c->budget = max - rest < im->max_set ? max - rest : im->max_set;
  /* ESEARCH's MIN, MAX, COUNT, ALL of several commands are several
   * answers, not the one asked for. */
  if (!strcmp(c->verb, "SEARCH") && im->srch_ret && imap_seqset_text_len(c->set) > c->budget)
    return mail_conn_fail(im->conn, MAIL_ERR_TOO_BIG,
                          "SEARCH RETURN (%s): the set needs several commands and their "
                          "results cannot be merged into one; nothing was sent", im->srch_ret);
  return MAIL_OK;
}

void imap_setop_end(mail_imap *im)
{
  imap_setop *c = &im->setop;
  c->active = 0;
  c->set = NULL;
  c->hold = 0;
  mail_buf_clear(&c->items);
  mail_buf_clear(&c->merge_src);
  mail_buf_clear(&c->merge_dst);
}

void imap_setop_init(mail_imap *im)
{
  mail_buf_init(&im->setop.items, &im->alloc, 0);
  mail_buf_init(&im->setop.merge_src, &im->alloc, 0);
  mail_buf_init(&im->setop.merge_dst, &im->alloc, 0);
}

void imap_setop_free(mail_imap *im)
{
  mail_buf_free(&im->setop.items);
  mail_buf_free(&im->setop.merge_src);
  mail_buf_free(&im->setop.merge_dst);
}

int imap_setop_start(mail_imap *im, int op, mail_imap_seqset *set, int uid, const char *verb,
                     const char *items, const char *mailbox)
{
  imap_setop *c = &im->setop;
  size_t n = set ? imap_seqset_count(set) : 1;
  if (n == 0)
    return MAIL_ERR_INVALID;
  imap_setop_end(im);
  c->set = set;
  c->n = n;
  c->at = c->sent = c->answered = 0;
  c->verb = verb;
  c->uid = uid;
  c->mailbox = mailbox;
  c->merge_code = 0;
  int rc = mail_buf_append_str(&c->items, items ? items : "");
  if (!rc)
    rc = mail_buf_terminate(&c->items);
  if (!rc)
    rc = plan(im);
  if (rc) {
    /* Refused before the operation began: nothing sent, the session as it was. */
    imap_setop_end(im);
    return rc;
  }
  c->active = 1;
  return imap_run(im, op);
}

/* The pieces from c->at again (a SEARCH retried with another charset). */
int imap_setop_restart(mail_imap *im)
{
  imap_setop *c = &im->setop;
  c->at = c->sent = c->answered = 0;
  c->hold = 0;
  int rc = plan(im);
  if (rc == MAIL_ERR_TOO_BIG) /* the retry no longer fits: say what it means for the search */
    rc = mail_conn_fail(im->conn, MAIL_ERR_CHARSET,
                        "SEARCH: asked again in another charset it no longer fits the line "
                        "bound; nothing was searched");
  if (rc)
    return rc;
  rc = imap_setop_produce(im);
  if (rc)
    return rc;
  return mail_cmdq_head(&im->q) ? MAIL_ERR_AGAIN : (im->op.done ? im->op.result : MAIL_OK);
}

int imap_setop_produce(mail_imap *im)
{
  imap_setop *c = &im->setop;
  mail_buf piece;
  mail_buf_init(&piece, &im->alloc, 0);
  int rc = MAIL_OK;
  while (c->active && !c->hold && (c->set ? c->at < c->n : c->sent == 0)) {
    /* A literal waits for "+"; a refusal ends the rest; a full output
     * queue drains first (the replies are read meanwhile). */
    if (im->cont_active || im->op.done || !mail_conn_is_open(im->conn))
      break;
    if (c->sent && mail_conn_out_pending(im->conn) >= IMAP_SET_HIGH_WATER)
      break;
    if (c->set)
      rc = imap_seqset_piece(c->set, &c->at, c->budget, &piece);
    uint32_t tag;
    if (!rc)
      rc = build(im, c->set ? (const char *)piece.data : NULL, &tag);
    if (!rc)
      rc = imap_wire_send(im, IMAP_CMD_SET, tag);
    if (rc)
      break;
    c->sent++;
  }
  mail_buf_free(&piece);
  if (!rc)
    return MAIL_OK;
  c->active = 0;
  if (mail_status_is_fatal(rc) || !mail_conn_is_open(im->conn))
    return rc;
  /* Those in flight are answered first; then the error is told. */
  if (!im->op.done)
    mail_op_finish(&im->op, rc);
  return MAIL_OK;
}

static int add_set(mail_buf *b, const char *s, size_t n)
{
  int rc = b->len ? mail_buf_append_byte(b, ',') : MAIL_OK;
  return rc ? rc : mail_buf_append(b, s, n);
}

/* The merged code as the last reply's code and data. */
static int show_merged(mail_imap *im)
{
  imap_setop *c = &im->setop;
  mail_buf_clear(&im->last_data);
  int rc = MAIL_OK;
  if (c->merge_code == MAIL_IMAP_CODE_COPYUID)
    rc = mail_buf_appendf(&im->last_data, "%llu ", (unsigned long long)c->merge_validity);
  if (!rc)
    rc = mail_buf_append(&im->last_data, c->merge_src.data, c->merge_src.len);
  if (!rc && c->merge_code == MAIL_IMAP_CODE_COPYUID) {
    rc = mail_buf_append_byte(&im->last_data, ' ');
    if (!rc)
      rc = mail_buf_append(&im->last_data, c->merge_dst.data, c->merge_dst.len);
  }
  im->last_code = c->merge_code;
  return rc ? rc : mail_buf_terminate(&im->last_data);
}

/* [COPYUID v src dst] of each piece: one code with the sets joined (the
 * pieces go in UID order, so the n-th source still maps to the n-th
 * destination). [MODIFIED set]: the sets joined. A piece with neither
 * code adds nothing; one with another UIDVALIDITY ends the merging (the
 * last reply's own code is shown then). */
static int merge(mail_imap *im, const mail_imap_response *r)
{
  imap_setop *c = &im->setop;
  int code = mail_imap_response_code(r);
  size_t n1 = 0, n2 = 0;
  const char *s1 = mail_imap_response_code_set(r, &n1), *s2 = mail_imap_response_code_set2(r, &n2);
  uint64_t v = 0;
  if (c->merge_code < 0)
    return MAIL_OK;
  if (code == MAIL_IMAP_CODE_MODIFIED && s1 && n1 &&
      (c->merge_code == 0 || c->merge_code == code)) {
    c->merge_code = code;
    int rc = add_set(&c->merge_src, s1, n1);
    return rc ? rc : show_merged(im);
  }
  if (code == MAIL_IMAP_CODE_COPYUID && s1 && n1 && s2 && n2 &&
      mail_imap_response_code_number(r, &v) == MAIL_OK &&
      (c->merge_code == 0 || (c->merge_code == code && v == c->merge_validity))) {
    c->merge_code = code;
    c->merge_validity = v;
    int rc = add_set(&c->merge_src, s1, n1);
    if (!rc)
      rc = add_set(&c->merge_dst, s2, n2);
    return rc ? rc : show_merged(im);
  }
  if (code == MAIL_IMAP_CODE_COPYUID || code == MAIL_IMAP_CODE_MODIFIED) {
    c->merge_code = -1; /* another UIDVALIDITY, or a malformed code */
    return MAIL_OK;
  }
  /* A piece that copied or refused nothing (no code: none of its UIDs
   * exist, or all were stored) leaves the merged code as it was. */
  return c->merge_code ? show_merged(im) : MAIL_OK;
}

int imap_setop_reply(mail_imap *im, const mail_imap_response *r)
{
  imap_setop *c = &im->setop;
  c->answered++;
  if (!strcmp(c->verb, "SEARCH"))
    return imap_search_reply(im, r);
  if (mail_imap_response_type(r) != MAIL_IMAP_TYPE_OK) {
    c->merge_code = -1;
    return imap_refusal(r);
  }
  return merge(im, r);
}

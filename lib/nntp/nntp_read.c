/* The reading commands (RFC 3977 6-8, RFC 6048): GROUP, LISTGROUP, NEXT,
 * LAST, ARTICLE/HEAD/BODY/STAT (one or a pipelined batch), OVER/XOVER,
 * HDR/XHDR, LIST variants, NEWGROUPS, NEWNEWS, DATE, CAPABILITIES, QUIT:
 * their command lines, their replies and their data lines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
#include "core/mem.h"
#include "nntp/nntp_internal.h"

/* ------------------------------------------------------------ arguments */

int nntp_arg_ok(const char *s)
{
  if (!s || !*s)
    return 0;
  size_t len = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++, len++)
    if (*p <= 0x20 || *p == 0x7f)
      return 0; /* CR, LF, NUL, and anything that would end the argument */
  return len <= 497;
}

int nntp_msgid_ok(const char *s)
{
  if (!nntp_arg_ok(s))
    return 0;
  size_t len = strlen(s);
  return len >= 3 && len <= 250 && s[0] == '<' && s[len - 1] == '>';
}

void nntp_range(char *out, size_t cap, uint64_t low, uint64_t high)
{
  if (!low)
    out[0] = '\0';
  else if (!high)
    snprintf(out, cap, "%llu-", (unsigned long long)low);
  else
    snprintf(out, cap, "%llu-%llu", (unsigned long long)low, (unsigned long long)high);
}

int nntp_prepare(mail_nntp *n, int kind, const char *fmt, ...)
{
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  int k = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (k < 0 || k > 510) /* RFC 3977 3.1: 512 octets with CRLF */
    return MAIL_ERR_INVALID;
  mail_buf_clear(&n->cmdline);
  int rc = mail_buf_append(&n->cmdline, line, (size_t)k);
  if (!rc)
    rc = mail_buf_terminate(&n->cmdline);
  n->cmd_kind = kind;
  n->empty_ok = 0;
  return rc;
}

/* The common start of a reading call: the session must be READY. */
static int reading(mail_nntp *n)
{
  if (n->state != MAIL_NNTP_STATE_READY)
    return nntp_wrong_state(n, "READY");
  return MAIL_OK;
}

int nntp_simple_next(mail_nntp *n)
{
  if (n->op.phase == 0) {
    n->op.phase = 1;
    const char *line = (const char *)n->cmdline.data;
    int rc = nntp_send(n, n->cmd_kind, line, NULL, 0, line);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  return n->cancelled ? MAIL_ERR_CALLBACK : MAIL_OK;
}

/* ------------------------------------------------------------ commands */

int mail_nntp_capabilities(mail_nntp *n)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  if ((rc = nntp_prepare(n, NNTP_CMD_CAPABILITIES, "CAPABILITIES")) != MAIL_OK)
    return rc;
  nntp_caps_reset(n);
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int mail_nntp_group(mail_nntp *n, const char *group, uint64_t *count, uint64_t *low,
                    uint64_t *high)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (!nntp_arg_ok(group))
    return MAIL_ERR_INVALID;
  if ((rc = reading(n)) != MAIL_OK || (rc = nntp_prepare(n, NNTP_CMD_GROUP, "GROUP %s", group)))
    return rc;
  n->out_u64[0] = count;
  n->out_u64[1] = low;
  n->out_u64[2] = high;
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int mail_nntp_listgroup(mail_nntp *n, const char *group, uint64_t low, uint64_t high)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (group && !nntp_arg_ok(group))
    return MAIL_ERR_INVALID;
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  char range[48];
  nntp_range(range, sizeof range, low, high);
  if (!group && low) {
    /* The range needs a group before it: the current one. */
    if (!n->group.len)
      return mail_conn_fail(n->conn, MAIL_ERR_STATE, "LISTGROUP with a range: no group selected");
    group = (const char *)n->group.data;
  }
  if (!group)
    rc = nntp_prepare(n, NNTP_CMD_LISTGROUP, "LISTGROUP");
  else
    rc = nntp_prepare(n, NNTP_CMD_LISTGROUP, "LISTGROUP %s%s%s", group, *range ? " " : "", range);
  if (rc)
    return rc;
  mail_buf_clear(&n->listgroup);
  n->nlistgroup = 0;
  return nntp_run(n, NNTP_OP_SIMPLE);
}

static int next_last(mail_nntp *n, int kind, const char *word, uint64_t *number)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if ((rc = reading(n)) != MAIL_OK || (rc = nntp_prepare(n, kind, "%s", word)))
    return rc;
  n->out_u64[0] = number;
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int mail_nntp_next(mail_nntp *n, uint64_t *number)
{
  return next_last(n, NNTP_CMD_NEXT, "NEXT", number);
}

int mail_nntp_last(mail_nntp *n, uint64_t *number)
{
  return next_last(n, NNTP_CMD_LAST, "LAST", number);
}

static const char *const part_verbs[] = {"ARTICLE", "HEAD", "BODY", "STAT"};

static int article(mail_nntp *n, int part, const char *arg, mail_nntp_body_fn fn, void *user)
{
  int rc;
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  int kind = part == MAIL_NNTP_STAT ? NNTP_CMD_STAT : NNTP_CMD_ARTICLE;
  if (arg)
    rc = nntp_prepare(n, kind, "%s %s", part_verbs[part], arg);
  else
    rc = nntp_prepare(n, kind, "%s", part_verbs[part]);
  if (rc)
    return rc;
  n->fn = part == MAIL_NNTP_STAT ? NULL : fn;
  n->fn_user = user;
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int mail_nntp_article(mail_nntp *n, int part, uint64_t number, mail_nntp_body_fn fn, void *user)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (part < MAIL_NNTP_ARTICLE || part > MAIL_NNTP_STAT)
    return MAIL_ERR_INVALID;
  char num[24];
  snprintf(num, sizeof num, "%llu", (unsigned long long)number);
  return article(n, part, number ? num : NULL, fn, user);
}

int mail_nntp_article_by_id(mail_nntp *n, int part, const char *msgid, mail_nntp_body_fn fn,
                            void *user)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (part < MAIL_NNTP_ARTICLE || part > MAIL_NNTP_STAT || !nntp_msgid_ok(msgid))
    return MAIL_ERR_INVALID;
  return article(n, part, msgid, fn, user);
}

/* ---------------------------------------------------- pipelined batch */

static size_t window(const mail_nntp *n)
{
  return n->caps_known ? n->window : 1; /* RFC 977 servers may not pipeline */
}

int nntp_batch_fill(mail_nntp *n)
{
  int kind = n->part == MAIL_NNTP_STAT ? NNTP_CMD_STAT : NNTP_CMD_ARTICLE;
  while (n->next < n->nnums && mail_cmdq_count(&n->q) < window(n)) {
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)n->nums[n->next]);
    mail_cmd c = {.kind = kind, .flags = (unsigned)n->part, .arg = (size_t)n->nums[n->next],
                  .item = n->next};
    mail_wire_part parts[] = {{part_verbs[n->part], strlen(part_verbs[n->part]), 0},
                              {" ", 1, 0},
                              {num, strlen(num), 0},
                              {"\r\n", 2, 0}};
    int rc = mail_cmd_send(n->conn, &n->q, &c, parts, 4);
    if (rc)
      return rc == MAIL_ERR_INTERNAL ? rc : nntp_abort(n, rc, "cannot queue a command");
    n->next++;
  }
  return MAIL_OK;
}

int nntp_batch_next(mail_nntp *n)
{
  if (!n->cancelled && n->next < n->nnums) {
    int rc = nntp_batch_fill(n);
    if (rc)
      return rc;
    return MAIL_ERR_AGAIN;
  }
  if (n->cancelled)
    return MAIL_ERR_CALLBACK;
  size_t ok = 0;
  int first = MAIL_OK;
  for (size_t i = 0; i < n->nresults; i++) {
    if (n->results[i] == MAIL_OK)
      ok++;
    else if (first == MAIL_OK)
      first = n->results[i];
  }
  if (ok == n->nresults)
    return MAIL_OK;
  return ok ? MAIL_ERR_PARTIAL : first;
}

int mail_nntp_article_many(mail_nntp *n, int part, const uint64_t *numbers, size_t count,
                           mail_nntp_body_fn fn, void *user)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_BATCH, &rc))
    return rc;
  if (part < MAIL_NNTP_ARTICLE || part > MAIL_NNTP_STAT || !numbers || !count ||
      count > SIZE_MAX / sizeof(uint64_t))
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < count; i++)
    if (!numbers[i])
      return MAIL_ERR_INVALID;
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  uint64_t *nums = mail_malloc(&n->alloc, count * sizeof *nums);
  int *results = mail_malloc(&n->alloc, count * sizeof *results);
  if (!nums || !results) {
    mail_dealloc(&n->alloc, nums);
    mail_dealloc(&n->alloc, results);
    return MAIL_ERR_NOMEM;
  }
  memcpy(nums, numbers, count * sizeof *nums);
  for (size_t i = 0; i < count; i++)
    results[i] = MAIL_ERR_NOT_ATTEMPTED;
  mail_dealloc(&n->alloc, n->nums);
  mail_dealloc(&n->alloc, n->results);
  n->nums = nums;
  n->results = results;
  n->nnums = n->nresults = count;
  n->next = 0;
  n->part = part;
  n->fn = part == MAIL_NNTP_STAT ? NULL : fn;
  n->fn_user = user;
  return nntp_run(n, NNTP_OP_BATCH);
}

int mail_nntp_batch_status(const mail_nntp *n, size_t i)
{
  if (!n || i >= n->nresults)
    return MAIL_ERR_INVALID;
  return n->results[i];
}

/* ---------------------------------------------------- overview, headers */

/* RFC 3977 8.4: the seven fields every overview has, in this order. */
static int fmt_reset(mail_nntp *n)
{
  mail_buf_clear(&n->fmt_text);
  n->nfmt = 0;
  memset(n->fmt_full, 0, sizeof n->fmt_full);
  return MAIL_OK;
}

int nntp_over_next(mail_nntp *n)
{
  if (n->op.phase == 0) {
    n->op.phase = 1;
    if (n->cmd_kind == NNTP_CMD_OVER && !n->fmt_known) {
      fmt_reset(n);
      int rc = nntp_send(n, NNTP_CMD_OVERVIEW_FMT, "LIST OVERVIEW.FMT", NULL, 0, NULL);
      if (rc)
        return rc;
    }
    const char *args = (const char *)n->cmdline.data;
    int xover = n->cmd_kind == NNTP_CMD_OVER ? n->use_xover : n->use_xhdr;
    const char *word = n->cmd_kind == NNTP_CMD_OVER ? (xover ? "XOVER" : "OVER")
                                                    : (xover ? "XHDR" : "HDR");
    char name[160];
    snprintf(name, sizeof name, "%s%s%s", word, *args ? " " : "", args);
    int rc = nntp_send(n, n->cmd_kind, word, *args ? args : NULL, 0, name);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  return MAIL_OK;
}

/* Records to make room for at once: the range's size (an open range ends
 * at the group's high water mark), within max_items and a cap, so that a
 * sparse range costs at most that much untouched room. Overview lines of
 * real servers average 200-300 bytes. */
#define NNTP_OVER_EXPECT_MAX 16384
#define NNTP_OVER_EXPECT_TEXT 256

static void over_expect(mail_nntp *n, uint64_t low, uint64_t high)
{
  if (!high)
    high = n->group_high;
  if (!low || high < low)
    return;
  uint64_t rows = high - low + 1;
  size_t cap = mail_conn_limits(n->conn)->max_items;
  if (rows > cap)
    rows = cap;
  if (rows > NNTP_OVER_EXPECT_MAX)
    rows = NNTP_OVER_EXPECT_MAX;
  nntp_table_expect(&n->over, (size_t)rows, 9, NNTP_OVER_EXPECT_TEXT);
}

static int over_start(mail_nntp *n, const char *args)
{
  int rc;
  if ((rc = reading(n)) != MAIL_OK || (rc = nntp_prepare(n, NNTP_CMD_OVER, "%s", args)))
    return rc;
  /* Without OVER in the list (an RFC 2980 server), XOVER from the start. */
  if (n->caps_known && !mail_nntp_has_capability(n, "OVER"))
    n->use_xover = 1;
  n->empty_ok = 1;
  nntp_table_clear(&n->over);
  over_expect(n, n->over_low, n->over_high);
  return nntp_run(n, NNTP_OP_OVER);
}

int mail_nntp_over(mail_nntp *n, uint64_t low, uint64_t high)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_OVER, &rc))
    return rc;
  char range[48];
  nntp_range(range, sizeof range, low, high);
  n->over_low = low;
  n->over_high = high;
  return over_start(n, range);
}

int mail_nntp_over_by_id(mail_nntp *n, const char *msgid)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_OVER, &rc))
    return rc;
  if (!nntp_msgid_ok(msgid))
    return MAIL_ERR_INVALID;
  n->over_low = n->over_high = 0;
  return over_start(n, msgid);
}

static int hdr_start(mail_nntp *n, const char *field, const char *what)
{
  int rc;
  if (!nntp_arg_ok(field) || strchr(field, ':') != strrchr(field, ':') ||
      (strchr(field, ':') && field[0] != ':'))
    return MAIL_ERR_INVALID; /* a name, or ":bytes"-style metadata */
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  if ((rc = nntp_prepare(n, NNTP_CMD_HDR, "%s%s%s", field, *what ? " " : "", what)))
    return rc;
  if (n->caps_known && !mail_nntp_has_capability(n, "HDR"))
    n->use_xhdr = 1;
  n->empty_ok = 1;
  nntp_table_clear(&n->hdr);
  return nntp_run(n, NNTP_OP_OVER);
}

int mail_nntp_hdr(mail_nntp *n, const char *field, uint64_t low, uint64_t high)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_OVER, &rc))
    return rc;
  char range[48];
  nntp_range(range, sizeof range, low, high);
  return hdr_start(n, field, range);
}

int mail_nntp_hdr_by_id(mail_nntp *n, const char *field, const char *msgid)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_OVER, &rc))
    return rc;
  if (!nntp_msgid_ok(msgid))
    return MAIL_ERR_INVALID;
  return hdr_start(n, field, msgid);
}

/* --------------------------------------------------------------- lists */

static const struct {
  const char *word;
  int split;
  int max_fields;
} list_kinds[] = {
  [MAIL_NNTP_LIST_ACTIVE] = {"ACTIVE", NNTP_SPLIT_WS, 4},
  [MAIL_NNTP_LIST_NEWSGROUPS] = {"NEWSGROUPS", NNTP_SPLIT_WS, 2},
  [MAIL_NNTP_LIST_OVERVIEW_FMT] = {"OVERVIEW.FMT", NNTP_SPLIT_WHOLE, 1},
  [MAIL_NNTP_LIST_ACTIVE_TIMES] = {"ACTIVE.TIMES", NNTP_SPLIT_WS, 3},
  [MAIL_NNTP_LIST_HEADERS] = {"HEADERS", NNTP_SPLIT_WHOLE, 1},
  [MAIL_NNTP_LIST_DISTRIB_PATS] = {"DISTRIB.PATS", NNTP_SPLIT_COLON, 3},
};

static int list_start(mail_nntp *n, int split, int max_fields)
{
  n->list_split = split;
  n->list_max_fields = max_fields;
  nntp_table_clear(&n->list);
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int mail_nntp_list(mail_nntp *n, int kind, const char *wildmat)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if (kind < MAIL_NNTP_LIST_ACTIVE || kind > MAIL_NNTP_LIST_DISTRIB_PATS ||
      (wildmat && !nntp_arg_ok(wildmat)))
    return MAIL_ERR_INVALID;
  if ((rc = reading(n)) != MAIL_OK)
    return rc;
  rc = nntp_prepare(n, NNTP_CMD_LIST, "LIST %s%s%s", list_kinds[kind].word, wildmat ? " " : "",
                    wildmat ? wildmat : "");
  return rc ? rc : list_start(n, list_kinds[kind].split, list_kinds[kind].max_fields);
}

/* "yyyymmdd hhmmss" in GMT (RFC 3977 7.3). */
static int when(char *out, size_t cap, int64_t t)
{
  if (t < 0)
    return MAIL_ERR_INVALID;
  int64_t y;
  unsigned m, d;
  mail_civil_from_days(t / 86400, &y, &m, &d);
  int64_t s = t % 86400;
  if (y > 9999)
    return MAIL_ERR_INVALID;
  snprintf(out, cap, "%04d%02u%02u %02d%02d%02d", (int)y, m, d, (int)(s / 3600),
           (int)(s / 60 % 60), (int)(s % 60));
  return MAIL_OK;
}

int mail_nntp_newgroups(mail_nntp *n, int64_t since)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  char t[32];
  if ((rc = when(t, sizeof t, since)) != MAIL_OK || (rc = reading(n)) != MAIL_OK ||
      (rc = nntp_prepare(n, NNTP_CMD_LIST, "NEWGROUPS %s GMT", t)))
    return rc;
  return list_start(n, NNTP_SPLIT_WS, 4);
}

int mail_nntp_newnews(mail_nntp *n, const char *wildmat, int64_t since)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  char t[32];
  if (!nntp_arg_ok(wildmat))
    return MAIL_ERR_INVALID;
  if ((rc = when(t, sizeof t, since)) != MAIL_OK || (rc = reading(n)) != MAIL_OK ||
      (rc = nntp_prepare(n, NNTP_CMD_LIST, "NEWNEWS %s %s GMT", wildmat, t)))
    return rc;
  return list_start(n, NNTP_SPLIT_WHOLE, 1);
}

int mail_nntp_date(mail_nntp *n, int64_t *seconds)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_SIMPLE, &rc))
    return rc;
  if ((rc = reading(n)) != MAIL_OK || (rc = nntp_prepare(n, NNTP_CMD_DATE, "DATE")))
    return rc;
  n->out_i64 = seconds;
  return nntp_run(n, NNTP_OP_SIMPLE);
}

int nntp_quit_next(mail_nntp *n)
{
  if (n->op.phase == 0) {
    n->op.phase = 1;
    int rc = nntp_send(n, NNTP_CMD_QUIT, "QUIT", NULL, 0, NULL);
    return rc ? rc : MAIL_ERR_AGAIN;
  }
  return MAIL_OK;
}

int mail_nntp_quit(mail_nntp *n)
{
  int rc;
  if (nntp_op_enter(n, NNTP_OP_QUIT, &rc))
    return rc;
  if (n->state == MAIL_NNTP_STATE_DISCONNECTED)
    return nntp_wrong_state(n, "READY");
  return nntp_run(n, NNTP_OP_QUIT);
}

/* ------------------------------------------------------------- replies */

static int set_str(mail_buf *b, const char *s, size_t len)
{
  mail_buf_clear(b);
  int rc = mail_buf_append(b, s, len);
  return rc ? rc : mail_buf_terminate(b);
}

static int group_reply(mail_nntp *n)
{
  uint64_t count, low, high;
  const char *g;
  size_t gl;
  if (mail_nntp_parse_group(&count, &low, &high, &g, &gl, (const char *)n->reply.text.data,
                            n->reply.text.len) != MAIL_OK)
    return mail_conn_fail(n->conn, MAIL_ERR_PROTOCOL, "%s: a 211 that does not parse",
                          n->last_cmd);
  n->group_low = low;
  n->group_high = high;
  uint64_t v[3] = {count, low, high};
  for (int i = 0; i < 3; i++)
    if (n->out_u64[i])
      *n->out_u64[i] = v[i];
  return set_str(&n->group, g, gl);
}

static int article_reply(mail_nntp *n, const mail_cmd *cmd, int want)
{
  int code = n->reply.code, rc = MAIL_OK;
  if (code != want && !(want == 220 && code >= 220 && code <= 222))
    rc = nntp_refusal(code);
  else if (cmd->kind == NNTP_CMD_STAT || cmd->kind == NNTP_CMD_NEXT || cmd->kind == NNTP_CMD_LAST) {
    uint64_t num;
    const char *id;
    size_t idlen;
    if (mail_nntp_parse_article(&num, &id, &idlen, (const char *)n->reply.text.data,
                                n->reply.text.len) != MAIL_OK)
      return mail_conn_fail(n->conn, MAIL_ERR_PROTOCOL, "%s: a %d that does not parse",
                            n->last_cmd, code);
    n->cur_number = num;
    if (set_str(&n->cur_msgid, id, idlen))
      return MAIL_ERR_NOMEM;
    if (n->out_u64[0])
      *n->out_u64[0] = num;
  }
  if (n->op.kind == NNTP_OP_BATCH) {
    if (cmd->item < n->nresults)
      n->results[cmd->item] = rc;
    return MAIL_OK;
  }
  return rc;
}

/* OVER/XOVER, HDR/XHDR: an empty range may be 423 (or an empty 224/221);
 * a server that does not know the command gets the RFC 2980 one. */
static int over_reply(mail_nntp *n, const mail_cmd *cmd)
{
  int code = n->reply.code, is_over = cmd->kind == NNTP_CMD_OVER;
  if (code == 224 || code == 225 || code == 221)
    return MAIL_OK;
  if (code == 423 && n->empty_ok && *(const char *)n->cmdline.data)
    return MAIL_OK; /* a range holding no article: an empty list */
  int *x = is_over ? &n->use_xover : &n->use_xhdr;
  if (code == 500 && !*x) {
    *x = 1;
    n->op.phase = 0; /* the format was asked for already */
    int rc = nntp_over_next(n);
    return rc == MAIL_ERR_AGAIN ? MAIL_OK : rc;
  }
  return nntp_refusal(code);
}

int nntp_read_reply(void *engine, const mail_cmd *cmd)
{
  mail_nntp *n = engine;
  int code = n->reply.code;
  switch (cmd->kind) {
  case NNTP_CMD_GROUP:
    return code == 211 ? group_reply(n) : nntp_refusal(code);
  case NNTP_CMD_LISTGROUP:
    return code == 211 ? group_reply(n) : nntp_refusal(code);
  case NNTP_CMD_NEXT:
  case NNTP_CMD_LAST:
  case NNTP_CMD_STAT:
    return article_reply(n, cmd, 223);
  case NNTP_CMD_ARTICLE:
    return article_reply(n, cmd, 220);
  case NNTP_CMD_OVERVIEW_FMT:
    /* Asked again later when refused for now (480: log in first). */
    n->fmt_known = code == 215 || code >= 500;
    if (code != 215)
      fmt_reset(n); /* RFC 3977's seven fields */
    return MAIL_OK;
  case NNTP_CMD_OVER:
  case NNTP_CMD_HDR:
    return over_reply(n, cmd);
  case NNTP_CMD_LIST:
    return code >= 200 && code < 300 ? MAIL_OK : nntp_refusal(code);
  case NNTP_CMD_DATE:
    if (code != 111)
      return nntp_refusal(code);
    {
      int64_t t;
      if (mail_nntp_parse_date(&t, (const char *)n->reply.text.data, n->reply.text.len))
        return mail_conn_fail(n->conn, MAIL_ERR_PROTOCOL, "DATE: a 111 that does not parse");
      if (n->out_i64)
        *n->out_i64 = t;
    }
    return MAIL_OK;
  case NNTP_CMD_QUIT:
    return MAIL_OK; /* closed whatever the answer */
  case NNTP_CMD_COMPRESS:
    /* From the 206 on both directions are deflated; a byte already read
     * came uncompressed after it: the STARTTLS rule, in the connection. */
    return code == 206 ? mail_conn_start_compress(n->conn) : nntp_refusal(code);
  default:
    return MAIL_ERR_INTERNAL;
  }
}

/* ---------------------------------------------------------- data lines */

static int lower(int c)
{
  return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* One LIST OVERVIEW.FMT line: "Subject:", ":bytes", "Xref:full". */
static int fmt_line(mail_nntp *n, const char *line, size_t len)
{
  while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
    len--;
  if (n->nfmt >= NNTP_MAX_OVER_FIELDS)
    return MAIL_OK; /* later fields are not kept */
  int full = len > 5 && !strncmp(line + len - 5, ":full", 5);
  if (full)
    len -= 5;
  else if (len > 5 && lower(line[len - 5]) == ':' && lower(line[len - 4]) == 'f' &&
           lower(line[len - 3]) == 'u' && lower(line[len - 2]) == 'l' && lower(line[len - 1]) == 'l')
    full = 1, len -= 5;
  if (len && line[len - 1] == ':')
    len--;
  n->fmt_off[n->nfmt] = n->fmt_text.len;
  n->fmt_full[n->nfmt] = (unsigned char)full;
  int rc = mail_buf_append(&n->fmt_text, line, len);
  if (!rc)
    rc = mail_buf_append_byte(&n->fmt_text, 0);
  if (!rc)
    n->nfmt++;
  return rc;
}

/* :bytes, :lines: 1 to 16 digits, else 0. */
static uint64_t number_of(const char *s, size_t len)
{
  uint64_t v = 0;
  if (!len || len > 16)
    return 0;
  for (size_t i = 0; i < len; i++) {
    unsigned d = (unsigned char)s[i] - (unsigned)'0';
    if (d > 9)
      return 0;
    v = v * 10 + d;
  }
  return v;
}

/* "number<TAB>field<TAB>field..." (RFC 3977 8.3.2): the fields after the
 * number copied once and cut in place. */
static int over_line(mail_nntp *n, const char *line, size_t len)
{
  const char *tab = memchr(line, '\t', len);
  size_t nl = tab ? (size_t)(tab - line) : len, i = 0;
  uint64_t num;
  if (!mail_nntp_number(line, nl, &i, &num) || i != nl)
    return MAIL_ERR_PROTOCOL;
  size_t rest = tab ? len - nl - 1 : 0;
  int rc = tab ? nntp_table_split_row(&n->over, num, tab + 1, rest, '\t', NNTP_MAX_OVER_FIELDS,
                                      mail_conn_limits(n->conn)->max_items)
               : nntp_table_row(&n->over, num, mail_conn_limits(n->conn)->max_items);
  if (rc)
    return rc;
  nntp_table *t = &n->over;
  nntp_row *r = (nntp_row *)(void *)t->rows.data + (t->nrows - 1);
  if (!r->nfields)
    return MAIL_OK; /* a number alone (the table may hold no field yet) */
  nntp_field *fields = (nntp_field *)(void *)t->fields.data + r->field0, *f;
  const char *text = (const char *)t->text.data;
  if (r->nfields > MAIL_NNTP_OVER_BYTES)
    r->bytes = number_of(text + fields[MAIL_NNTP_OVER_BYTES].off, fields[MAIL_NNTP_OVER_BYTES].len);
  if (r->nfields > MAIL_NNTP_OVER_LINES)
    r->lines = number_of(text + fields[MAIL_NNTP_OVER_LINES].off, fields[MAIL_NNTP_OVER_LINES].len);
  for (size_t j = 7; j < n->nfmt && j < r->nfields; j++) {
    if (!n->fmt_full[j])
      continue;
    f = &fields[j];
    /* "Xref: host group:1": the value after the header's name */
    const char *v = text + f->off;
    const char *name = (const char *)n->fmt_text.data + n->fmt_off[j];
    size_t nlen = strlen(name), k = 0;
    while (k < nlen && k < f->len && lower((unsigned char)v[k]) == lower((unsigned char)name[k]))
      k++;
    if (k == nlen && k < f->len && v[k] == ':') {
      k++;
      while (k < f->len && (v[k] == ' ' || v[k] == '\t'))
        k++;
      f->off += (uint32_t)k;
      f->len -= (uint32_t)k;
    }
  }
  return MAIL_OK;
}

/* "number value" (RFC 3977 8.5.2); the value may be empty. */
static int hdr_line(mail_nntp *n, const char *line, size_t len)
{
  size_t i = 0;
  uint64_t num;
  if (!mail_nntp_number(line, len, &i, &num))
    return MAIL_ERR_PROTOCOL;
  if (i < len)
    i++;
  int rc = nntp_table_row(&n->hdr, num, mail_conn_limits(n->conn)->max_items);
  return rc ? rc : nntp_table_field(&n->hdr, line + i, len - i);
}

static int list_line(mail_nntp *n, const char *line, size_t len)
{
  int rc = nntp_table_row(&n->list, 0, mail_conn_limits(n->conn)->max_items);
  size_t i = 0;
  for (int j = 0; !rc && i <= len && j < n->list_max_fields; j++) {
    if (n->list_split == NNTP_SPLIT_WS)
      while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i >= len && j > 0)
      break;
    size_t e = i;
    int last = j == n->list_max_fields - 1 || n->list_split == NNTP_SPLIT_WHOLE;
    if (!last) {
      char sep = n->list_split == NNTP_SPLIT_COLON ? ':' : ' ';
      while (e < len && line[e] != sep && !(sep == ' ' && line[e] == '\t'))
        e++;
    } else {
      e = len;
    }
    rc = nntp_table_field(&n->list, line + i, e - i);
    i = e + 1;
  }
  return rc;
}

int nntp_data_line(mail_nntp *n, const mail_cmd *cmd, const char *line, size_t len)
{
  switch (cmd->kind) {
  case NNTP_CMD_CAPABILITIES:
    return mail_capset_add_line(&n->caps, line, len);
  case NNTP_CMD_LISTGROUP: {
    size_t i = 0;
    uint64_t num;
    if (!mail_nntp_number(line, len, &i, &num))
      return MAIL_ERR_PROTOCOL;
    if (n->nlistgroup >= mail_conn_limits(n->conn)->max_items)
      return MAIL_ERR_LIMIT;
    int rc = mail_buf_append(&n->listgroup, &num, sizeof num);
    if (!rc)
      n->nlistgroup++;
    return rc;
  }
  case NNTP_CMD_OVERVIEW_FMT:
    return fmt_line(n, line, len);
  case NNTP_CMD_OVER:
    return over_line(n, line, len);
  case NNTP_CMD_HDR:
    return hdr_line(n, line, len);
  case NNTP_CMD_LIST:
    return list_line(n, line, len);
  default:
    return MAIL_OK; /* a block nothing keeps (HELP-like text) */
  }
}

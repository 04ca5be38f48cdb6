/* NOTIFY (RFC 5465): a small builder for "NOTIFY SET" groups, checked
 * against the RFC's rules before anything is sent, and the NOTIFY SET /
 * NOTIFY NONE commands. Events arrive as ordinary untagged responses and
 * reach the mailbox state and the caller's callback through the engine;
 * waiting for them is IDLE's (or NOOP's) job: there is one way to run an
 * operation. */
#include <string.h>

#include <mail/imap_sync.h>

#include "core/mem.h"
#include "imap/imap_internal.h"

#define NOTIFY_MAX_GROUPS 32
#define NOTIFY_MAX_MAILBOXES 1000

#define MSG_EVENTS                                                                   \
  (MAIL_IMAP_NOTIFY_MESSAGE_NEW | MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE |                 \
   MAIL_IMAP_NOTIFY_FLAG_CHANGE | MAIL_IMAP_NOTIFY_ANNOTATION_CHANGE)
#define ALL_EVENTS 255u

typedef struct notify_group {
  int filter;
  unsigned events;
  size_t first, n; /* its mailboxes in names */
} notify_group;

struct mail_imap_notify {
  mail_allocator alloc;
  notify_group g[NOTIFY_MAX_GROUPS];
  size_t ng;
  char **names;
  size_t nnames;
};

int mail_imap_notify_new(mail_imap_notify **out, const mail_allocator *alloc)
{
  if (!out)
    return MAIL_ERR_INVALID;
  *out = NULL;
  mail_allocator a;
  if (mail_alloc_init(&a, alloc))
    return MAIL_ERR_INVALID;
  mail_imap_notify *n = mail_calloc(&a, 1, sizeof *n);
  if (!n)
    return MAIL_ERR_NOMEM;
  n->alloc = a;
  *out = n;
  return MAIL_OK;
}

void mail_imap_notify_free(mail_imap_notify *n)
{
  if (!n)
    return;
  for (size_t i = 0; i < n->nnames; i++)
    mail_dealloc(&n->alloc, n->names[i]);
  mail_dealloc(&n->alloc, n->names);
  mail_allocator a = n->alloc;
  mail_dealloc(&a, n);
}

static int events_ok(int filter, unsigned ev)
{
  if (ev & ~ALL_EVENTS)
    return 0;
  int nw = (ev & MAIL_IMAP_NOTIFY_MESSAGE_NEW) != 0;
  int ex = (ev & MAIL_IMAP_NOTIFY_MESSAGE_EXPUNGE) != 0;
  if (nw != ex) /* RFC 5465 5: both or neither */
    return 0;
  if ((ev & (MAIL_IMAP_NOTIFY_FLAG_CHANGE | MAIL_IMAP_NOTIFY_ANNOTATION_CHANGE)) && !nw)
    return 0;
  if ((filter == MAIL_IMAP_NOTIFY_SELECTED || filter == MAIL_IMAP_NOTIFY_SELECTED_DELAYED) &&
      (ev & ~(unsigned)MSG_EVENTS))
    return 0;
  return 1;
}

int mail_imap_notify_add(mail_imap_notify *n, int filter, const char *const *mailboxes,
                         size_t nmailboxes, unsigned events)
{
  if (!n || filter < MAIL_IMAP_NOTIFY_SELECTED || filter > MAIL_IMAP_NOTIFY_MAILBOXES ||
      !events_ok(filter, events) || n->ng >= NOTIFY_MAX_GROUPS)
    return MAIL_ERR_INVALID;
  int named = filter == MAIL_IMAP_NOTIFY_SUBTREE || filter == MAIL_IMAP_NOTIFY_MAILBOXES;
  if (named != (nmailboxes > 0) || (nmailboxes && !mailboxes) ||
      n->nnames + nmailboxes > NOTIFY_MAX_MAILBOXES)
    return MAIL_ERR_INVALID;
  for (size_t i = 0; i < nmailboxes; i++)
    if (!imap_mailbox_ok(mailboxes[i]) || !mailboxes[i][0])
      return MAIL_ERR_INVALID;
  for (size_t i = 0; i < n->ng; i++) {
    int f = n->g[i].filter;
    int sel = f == MAIL_IMAP_NOTIFY_SELECTED || f == MAIL_IMAP_NOTIFY_SELECTED_DELAYED;
    if (sel && (filter == MAIL_IMAP_NOTIFY_SELECTED || filter == MAIL_IMAP_NOTIFY_SELECTED_DELAYED))
      return MAIL_ERR_INVALID;
  }
  if (nmailboxes) {
    char **grown = mail_realloc(&n->alloc, n->names, (n->nnames + nmailboxes) * sizeof *grown);
    if (!grown)
      return MAIL_ERR_NOMEM;
    n->names = grown;
    size_t done = 0;
    for (; done < nmailboxes; done++) {
      size_t len = strlen(mailboxes[done]);
      char *c = mail_malloc(&n->alloc, len + 1);
      if (!c)
        break;
      memcpy(c, mailboxes[done], len + 1);
      n->names[n->nnames + done] = c;
    }
    if (done < nmailboxes) {
      while (done--)
        mail_dealloc(&n->alloc, n->names[n->nnames + done]);
      return MAIL_ERR_NOMEM;
    }
  }
  n->g[n->ng++] = (notify_group){filter, events, n->nnames, nmailboxes};
  n->nnames += nmailboxes;
  return MAIL_OK;
}

static int logged_in(const mail_imap *im)
{
  return im->state == MAIL_IMAP_STATE_AUTHENTICATED || im->state == MAIL_IMAP_STATE_SELECTED;
}

static int put_group(mail_imap *im, const mail_imap_notify *n, const notify_group *g)
{
  static const char *const filters[] = {"selected", "selected-delayed", "inboxes", "personal",
                                        "subscribed", "subtree", "mailboxes"};
  static const char *const events[] = {"MessageNew", "MessageExpunge", "FlagChange",
                                       "AnnotationChange", "MailboxName", "SubscriptionChange",
                                       "MailboxMetadataChange", "ServerMetadataChange"};
  int rc = imap_wire_raw(im, " (");
  if (!rc)
    rc = imap_wire_raw(im, filters[g->filter]);
  if (!rc && g->n == 1)
    rc = imap_wire_mailbox(im, n->names[g->first]);
  if (!rc && g->n > 1) {
    rc = imap_wire_raw(im, " (");
    for (size_t i = 0; i < g->n && !rc; i++)
      rc = imap_wire_mailbox_how(im, n->names[g->first + i], i ? 0 : IMAP_STR_NOSPACE);
    if (!rc)
      rc = imap_wire_raw(im, ")");
  }
  if (!rc && !g->events)
    rc = imap_wire_raw(im, " NONE");
  if (!rc && g->events) {
    int first = 1;
    for (unsigned b = 0; b < 8 && !rc; b++) {
      if (!(g->events & (1u << b)))
        continue;
      rc = imap_wire_raw(im, first ? " (" : " ");
      if (!rc)
        rc = imap_wire_raw(im, events[b]);
      first = 0;
    }
    if (!rc)
      rc = imap_wire_raw(im, ")");
  }
  return rc ? rc : imap_wire_raw(im, ")");
}

static int notify_cmd(mail_imap *im, const mail_imap_notify *n, int status)
{
  int rc;
  if (imap_op_enter(im, IMAP_OP_NOTIFY, &rc))
    return rc;
  if (n && !n->ng)
    return MAIL_ERR_INVALID;
  if (!logged_in(im))
    return MAIL_ERR_STATE;
  if (!imap_has_cap(im, "NOTIFY"))
    return mail_conn_fail(im->conn, MAIL_ERR_UNSUPPORTED, "NOTIFY is not offered by this server");
  uint32_t tag;
  rc = imap_wire_begin(im, n ? "NOTIFY SET" : "NOTIFY NONE", &tag);
  if (!rc && n && status)
    rc = imap_wire_raw(im, " STATUS");
  for (size_t i = 0; n && i < n->ng && !rc; i++)
    rc = put_group(im, n, &n->g[i]);
  if (rc)
    return rc;
  rc = imap_wire_send(im, IMAP_CMD_SIMPLE, tag);
  return rc ? imap_finish(im, rc) : imap_run(im, IMAP_OP_NOTIFY);
}

int mail_imap_notify_set(mail_imap *im, const mail_imap_notify *n, int status)
{
  if (im && !im->op.kind && !n)
    return MAIL_ERR_INVALID;
  return notify_cmd(im, n, status);
}

int mail_imap_notify_none(mail_imap *im)
{
  return notify_cmd(im, NULL, 0);
}

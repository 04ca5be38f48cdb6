/*
 * The one command queue: commands sent (or queued to send) whose replies
 * have not arrived yet, oldest first. SMTP and POP3 pipelining and IMAP
 * tagged pipelining put several entries in flight; replies complete them in
 * order (SMTP, POP3) or by tag (IMAP, via mail_cmdq_find()).
 *
 * Entries are small values; what a command means is the protocol's
 * business (kind, flags, arg, ctx). The queue is bounded.
 */
#ifndef MAIL_CORE_CMDQ_H
#define MAIL_CORE_CMDQ_H

#include <stddef.h>
#include <stdint.h>
#include <mail/common.h>

typedef struct mail_cmd {
  int kind;          /* protocol-defined command kind */
  unsigned flags;    /* protocol-defined */
  uint32_t tag;      /* IMAP tag number */
  size_t arg;        /* e.g. recipient index, message number */
  size_t item;       /* the command's index in a batch (POP3 RETR/DELE of many) */
  void *ctx;         /* caller context, not owned */
} mail_cmd;

typedef struct mail_cmdq {
  mail_cmd *items;
  size_t head, count, cap, limit;
  const mail_allocator *alloc;
} mail_cmdq;

void mail_cmdq_init(mail_cmdq *q, const mail_allocator *a, size_t limit);
void mail_cmdq_free(mail_cmdq *q);
/* Append; MAIL_ERR_LIMIT when limit entries are queued, MAIL_ERR_NOMEM. */
int mail_cmdq_push(mail_cmdq *q, const mail_cmd *c);
/* Oldest entry or NULL. */
mail_cmd *mail_cmdq_head(mail_cmdq *q);
/* The i-th entry from the oldest, or NULL. */
mail_cmd *mail_cmdq_at(mail_cmdq *q, size_t i);
/* Remove the oldest; returns 0 when empty. */
int mail_cmdq_pop(mail_cmdq *q, mail_cmd *out);
/* Remove the entry at index i (IMAP replies by tag). */
int mail_cmdq_remove_at(mail_cmdq *q, size_t i, mail_cmd *out);
/* Index of the entry with that tag, or -1. */
long mail_cmdq_find(const mail_cmdq *q, uint32_t tag);
size_t mail_cmdq_count(const mail_cmdq *q);
void mail_cmdq_clear(mail_cmdq *q);

#endif

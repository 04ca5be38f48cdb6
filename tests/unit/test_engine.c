/* The engine helpers every protocol uses (lib/core/engine.h): a command
 * goes on the output queue whole or not at all, replies are dispatched by
 * the queue head's kind, and one operation runs at a time. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/mem.h"
#include "each_alloc.h"

/* The C library's allocator, as the queue takes it. */
static const mail_allocator *libc(void)
{
  static mail_allocator a;
  mail_alloc_init(&a, NULL);
  return &a;
}

/* The smallest output bound a connection takes (mail_conn_set_limits). */
#define MIN_OUTPUT (16 * 1024)

/* A connection whose output queue holds at most cap bytes (the bound is
 * max_output, at least MIN_OUTPUT). */
static mail_conn *small_conn(size_t cap, const mail_allocator *a)
{
  mail_conn *c = NULL;
  ck_assert_int_eq(mail_conn_new(&c, a), MAIL_OK);
  mail_limits l;
  ck_assert_int_eq(mail_limits_init(&l, MAIL_LIMITS_VERSION), MAIL_OK);
  mail_conn_get_limits(c, &l);
  l.max_output = cap;
  ck_assert_int_eq(mail_conn_set_limits(c, &l), MAIL_OK);
  return c;
}

START_TEST(command_whole_or_not_at_all)
{
  mail_conn *c = small_conn(MIN_OUTPUT, NULL);
  static char filler[MIN_OUTPUT];
  memset(filler, 'x', sizeof filler);
  mail_cmdq q;
  mail_cmdq_init(&q, libc(), 8);
  mail_cmd first = {.kind = 1}, second = {.kind = 2, .arg = 7};
  mail_wire_part ok[] = {{"NOOP", 4, 0}, {"\r\n", 2, 0}};
  ck_assert_int_eq(mail_cmd_send(c, &q, &first, ok, 2), MAIL_OK);
  ck_assert_uint_eq(mail_conn_out_pending(c), 6);
  ck_assert_uint_eq(mail_cmdq_count(&q), 1);
  /* The secret piece fits, the next does not: the entry and every byte of
   * this command go, the earlier command stays. */
  mail_wire_part big[] = {{"PASS ", 5, 0}, {"hunter2", 7, 1}, {filler, sizeof filler, 0}};
  ck_assert_int_eq(mail_cmd_send(c, &q, &second, big, 3), MAIL_ERR_TOO_BIG);
  ck_assert_uint_eq(mail_conn_out_pending(c), 6);
  ck_assert_uint_eq(mail_cmdq_count(&q), 1);
  ck_assert_int_eq(mail_cmdq_head(&q)->kind, 1);
  /* After the rollback the queue takes the next command as usual. */
  mail_wire_part pass[] = {{"PASS ", 5, 0}, {"hunter2", 7, 1}, {"\r\n", 2, 0}};
  ck_assert_int_eq(mail_cmd_send(c, &q, &second, pass, 3), MAIL_OK);
  ck_assert_uint_eq(mail_conn_out_pending(c), 20);
  ck_assert_uint_eq(mail_cmdq_count(&q), 2);
  ck_assert_uint_eq(mail_cmdq_at(&q, 1)->arg, 7);
  /* An entry with nothing to send (a greeting). */
  ck_assert_int_eq(mail_cmd_send(c, &q, &first, NULL, 0), MAIL_OK);
  ck_assert_uint_eq(mail_conn_out_pending(c), 20);
  ck_assert_uint_eq(mail_cmdq_count(&q), 3);
  mail_cmdq_free(&q);
  mail_conn_free(c);
}
END_TEST

START_TEST(full_queue_sends_nothing)
{
  mail_conn *c = small_conn(MIN_OUTPUT, NULL);
  mail_cmdq q;
  mail_cmdq_init(&q, libc(), 1);
  mail_cmd cmd = {.kind = 1};
  mail_wire_part line = {"NOOP\r\n", 6, 0};
  ck_assert_int_eq(mail_cmd_send(c, &q, &cmd, &line, 1), MAIL_OK);
  ck_assert_int_eq(mail_cmd_send(c, &q, &cmd, &line, 1), MAIL_ERR_INTERNAL);
  ck_assert_uint_eq(mail_conn_out_pending(c), 6);
  ck_assert_uint_eq(mail_cmdq_count(&q), 1);
  mail_cmdq_free(&q);
  mail_conn_free(c);
}
END_TEST

/* Every allocation failing in turn: MAIL_ERR_NOMEM, nothing of the
 * command left, the secret never in freed memory unwiped. */
static int send_run(void *user, mail_test_alloc *ta)
{
  mail_test_alloc_forbid_str(ta, "hunter2");
  const mail_allocator *a = mail_test_alloc_hooks(ta);
  mail_conn *c = NULL;
  int rc = mail_conn_new(&c, a);
  if (rc)
    return rc;
  mail_cmdq q;
  mail_cmdq_init(&q, a, 8);
  mail_cmd cmd = {.kind = 1};
  mail_wire_part pass[] = {{"PASS ", 5, 0}, {"hunter2", 7, 1}, {"\r\n", 2, 0}};
  rc = mail_cmd_send(c, &q, &cmd, pass, 3);
  if (rc) {
    ck_assert_uint_eq(mail_conn_out_pending(c), 0);
    ck_assert_uint_eq(mail_cmdq_count(&q), 0);
  } else {
    ck_assert_uint_eq(mail_conn_out_pending(c), 14);
  }
  mail_cmdq_free(&q);
  mail_conn_free(c);
  return rc;
}

START_TEST(send_allocation_failures)
{
  MAIL_TEST_ASSERT_EACH_ALLOCATION("mail_cmd_send", send_run, NULL, MAIL_OK,
                                   MAIL_TEST_NOMEM_EXACT);
}
END_TEST

typedef struct eng {
  int calls[4];
  size_t last_arg;
} eng;

static int on_one(void *e, const mail_cmd *c)
{
  eng *g = e;
  g->calls[1]++;
  g->last_arg = c->arg;
  return MAIL_OK;
}

static int on_three(void *e, const mail_cmd *c)
{
  ((eng *)e)->calls[3]++;
  return MAIL_ERR_SERVER;
}

START_TEST(dispatch_by_kind)
{
  static const mail_cmd_kind kinds[] = {
    [1] = {"ONE", on_one, 0},
    [3] = {"THREE", on_three, 0},
  };
  mail_conn *c = small_conn(MIN_OUTPUT, NULL);
  mail_cmdq q;
  mail_cmdq_init(&q, libc(), 8);
  eng g = {{0}, 0};
  ck_assert_int_eq(mail_cmd_dispatch(c, &q, kinds, 4, &g), MAIL_ERR_PROTOCOL);
  ck_assert_str_eq(mail_conn_last_error(c), "a reply nothing asked for");
  mail_cmd one = {.kind = 1, .arg = 42}, two = {.kind = 2}, three = {.kind = 3};
  mail_cmdq_push(&q, &one);
  mail_cmdq_push(&q, &three);
  mail_cmdq_push(&q, &two);
  ck_assert_int_eq(mail_cmd_dispatch(c, &q, kinds, 4, &g), MAIL_OK);
  ck_assert_int_eq(g.calls[1], 1);
  ck_assert_uint_eq(g.last_arg, 42);
  ck_assert_int_eq(mail_cmd_dispatch(c, &q, kinds, 4, &g), MAIL_ERR_SERVER);
  ck_assert_int_eq(g.calls[3], 1);
  /* A kind the table does not handle is a bug, not the server's. */
  ck_assert_int_eq(mail_cmd_dispatch(c, &q, kinds, 4, &g), MAIL_ERR_INTERNAL);
  ck_assert_uint_eq(mail_cmdq_count(&q), 0);
  ck_assert_ptr_null(mail_cmd_kind_of(kinds, 4, &two));
  mail_cmd nine = {.kind = 9};
  ck_assert_ptr_null(mail_cmd_kind_of(kinds, 4, &nine));
  ck_assert_str_eq(mail_cmd_kind_of(kinds, 4, &three)->name, "THREE");
  mail_cmdq_free(&q);
  mail_conn_free(c);
}
END_TEST

START_TEST(one_operation_at_a_time)
{
  mail_op op = {0};
  ck_assert_int_eq(mail_op_begin(&op, 5), MAIL_OP_STARTED);
  op.phase = 2;
  ck_assert_int_eq(mail_op_begin(&op, 5), MAIL_OP_RESUMED);
  ck_assert_int_eq(op.phase, 2);
  ck_assert_int_eq(mail_op_begin(&op, 6), MAIL_ERR_STATE);
  mail_op_finish(&op, MAIL_ERR_SERVER);
  mail_op_finish(&op, MAIL_ERR_SERVER_CLOSING); /* a later outcome replaces it */
  ck_assert(op.done);
  ck_assert_int_eq(op.result, MAIL_ERR_SERVER_CLOSING);
  mail_op_end(&op);
  ck_assert_int_eq(mail_op_begin(&op, 6), MAIL_OP_STARTED);
  ck_assert(!op.done);
  ck_assert_int_eq(op.phase, 0);
  ck_assert_int_eq(op.result, MAIL_OK);
}
END_TEST

START_TEST(abort_closes_and_forgets)
{
  mail_conn *c = small_conn(MIN_OUTPUT, NULL);
  mail_cmdq q;
  mail_cmdq_init(&q, libc(), 8);
  mail_op op = {0};
  mail_op_begin(&op, 1);
  mail_cmd cmd = {.kind = 1};
  mail_cmdq_push(&q, &cmd);
  ck_assert_int_eq(mail_engine_abort(c, &q, &op, MAIL_ERR_PROTOCOL, "broken"), MAIL_ERR_PROTOCOL);
  ck_assert_uint_eq(mail_cmdq_count(&q), 0);
  ck_assert(op.done);
  ck_assert_int_eq(op.result, MAIL_ERR_PROTOCOL);
  ck_assert_str_eq(mail_conn_last_error(c), "broken");
  ck_assert(!mail_conn_is_open(c));
  /* NULL keeps the description already recorded. */
  mail_engine_abort(c, &q, &op, MAIL_ERR_STARTTLS_INJECTION, NULL);
  ck_assert_str_eq(mail_conn_last_error(c), "broken");
  mail_cmdq_free(&q);
  mail_conn_free(c);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("engine");
  TCase *t = tcase_create("engine");
  tcase_add_test(t, command_whole_or_not_at_all);
  tcase_add_test(t, full_queue_sends_nothing);
  tcase_add_test(t, send_allocation_failures);
  tcase_add_test(t, dispatch_by_kind);
  tcase_add_test(t, one_operation_at_a_time);
  tcase_add_test(t, abort_closes_and_forgets);
  suite_add_tcase(s, t);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

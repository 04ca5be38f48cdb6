#!/bin/sh
# meson test --wrapper for the valgrind run (tests/run-all --valgrind):
# memcheck around compiled test programs; scripts (shell, Python) run as
# they are, since memcheck would check their interpreters. Errors and
# definite leaks fail the test (exit 99); tests/valgrind.supp lists the
# known reports of the system libraries, each with its reason.
here=$(cd "$(dirname "$0")" && pwd)
case $(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ') in
  177ELF) ;;
  *) exec "$@" ;;
esac
# Tests that bound the process's RSS skip that check (valgrind's own
# memory counts there); their heap bounds still hold.
export MAIL_TEST_VALGRIND=1
# meson's timeouts are scaled (--timeout-multiplier 5 in tests/run-all),
# check's per-test timeouts (tcase_set_timeout, CK_DEFAULT_TIMEOUT) are
# not unless told: the same factor, so a test is not killed by the
# inner clock for running at valgrind's speed.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-5}"
exec valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
  --errors-for-leak-kinds=definite --track-origins=no --num-callers=30 \
  --suppressions="$here/valgrind.supp" --gen-suppressions=all "$@"

#!/bin/sh
# Run every libFuzzer target for a number of executions, one after another.
#
#   tests/fuzz/run.sh [BUILD_DIR] [RUNS] [TARGET...]
#
# BUILD_DIR defaults to build-fuzz (set up with
#   CC=clang-14 meson setup build-fuzz -Dfuzz=true \
#     -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled),
# RUNS to 1000000. New inputs go to BUILD_DIR/fuzz-work/<target>, never into
# the committed corpus; a crash leaves its input in BUILD_DIR/fuzz-work and
# makes the script fail. The last line of each target's log is libFuzzer's
# "Done N runs in S second(s)".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-fuzz}
runs=${2:-1000000}
[ $# -ge 2 ] && shift 2 || shift $#
targets=${*:-"reader base64 smtp_reply smtp_ehlo pop3_reply pop3_helpers nntp_reply qp sasl mime_parse mime_fields mime_build smtp_session pop3_session nntp_session imap_parse imap_bodystructure imap_session"}
fuzz_exes=""
for t in $targets; do fuzz_exes="$fuzz_exes tests/fuzz/fuzz-$t"; done
# Build only what is run (2 jobs at most: the machine is shared).
# shellcheck disable=SC2086
ninja -C "$build" -j2 $fuzz_exes >/dev/null || { echo "build failed in $build"; exit 1; }
# Any UBSan report is a finding too.
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
status=0
for t in $targets; do
  exe="$build/tests/fuzz/fuzz-$t"
  work="$build/fuzz-work/$t"
  mkdir -p "$work"
  log="$build/fuzz-work/$t.log"
  if "$exe" -runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
       -artifact_prefix="$work/" "$work" "$here/corpus/$t" >"$log" 2>&1; then
    printf '%-14s %s\n' "$t" "$(grep '^Done' "$log" | tail -1)"
  else
    printf '%-14s FAILED, see %s\n' "$t" "$log"
    status=1
  fi
done
exit $status

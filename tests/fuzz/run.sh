#!/bin/sh
# Run every libFuzzer target for a number of executions, one after another.
#
#   tests/fuzz/run.sh [BUILD_DIR] [RUNS] [TARGET...]
#
# BUILD_DIR defaults to build-fuzz (set up with
#   CC=clang-14 meson setup build-fuzz -Dfuzz=true \
#     -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled),
# RUNS to 1000000; RUNS written as a time ("20s") fuzzes each target that
# long instead (-max_total_time, what CI does: tests/run-all --fuzz). New
# inputs go to BUILD_DIR/fuzz-work/<target>, never into the committed
# corpus; a crash leaves its input in BUILD_DIR/fuzz-work and makes the
# script fail. The last line of each target's log is libFuzzer's
# "Done N runs in S second(s)". MAIL_FUZZ_PARALLEL=N runs N targets at a
# time (default 1: the machine is usually shared).
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
case $runs in
  *s) limit="-max_total_time=${runs%s}" ;;
  *) limit="-runs=$runs" ;;
esac
parallel=${MAIL_FUZZ_PARALLEL:-1}
# One target: its log's last "Done" line, or FAILED (status file for the
# parallel case).
one() {
  t=$1
  exe="$build/tests/fuzz/fuzz-$t"
  work="$build/fuzz-work/$t"
  mkdir -p "$work"
  log="$build/fuzz-work/$t.log"
  if "$exe" "$limit" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
       -artifact_prefix="$work/" "$work" "$here/corpus/$t" >"$log" 2>&1; then
    printf '%-18s %s\n' "$t" "$(grep -a '^Done' "$log" | tail -1)"
  else
    printf '%-18s FAILED, see %s\n' "$t" "$log"
    : >"$build/fuzz-work/$t.failed"
  fi
}
rm -f "$build"/fuzz-work/*.failed 2>/dev/null || true
mkdir -p "$build/fuzz-work"
n=0
for t in $targets; do
  one "$t" &
  n=$((n + 1))
  if [ "$n" -ge "$parallel" ]; then
    wait
    n=0
  fi
done
wait
status=0
for t in $targets; do
  [ ! -e "$build/fuzz-work/$t.failed" ] || status=1
done
exit $status

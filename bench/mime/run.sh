#!/bin/sh
# MIME benchmark driver: generate the corpus in a temp dir, run every peer
# (one process each, so VmHWM is that peer's) ROUNDS times side by side,
# print medians and ratios, delete the corpus. Then the 1 GiB streamed
# message and the scaling run.
#   run.sh [ROUNDS] [COUNT] [TARGET_MB]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench="$here/bench_mime"
rounds=${1:-3}
count=${2:-2000}
target=${3:-200}
py=${PYTHON:-python3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/libmail-bench-mime.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
"$py" "$here/gen_corpus.py" "$dir/corpus" "$count" "$target"
out="$dir/results"
: > "$out"
for r in $(seq "$rounds"); do
  for peer in floor libmail libmail-stream gmime etpan; do
    "$bench" "$peer" full "$dir/corpus" >> "$out" || true
  done
  "$py" "$here/bench_python.py" full "$dir/corpus" >> "$out"
  for peer in floor libmail libmail-stream gmime etpan; do
    "$bench" "$peer" headers "$dir/corpus" >> "$out" || true
  done
done
"$py" - "$out" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) < 6:
        continue
    rows.setdefault((f[0], f[1]), []).append((float(f[4]), int(f[5])))
for mode in ("full", "headers"):
    print("== %s" % mode)
    med = {}
    for (peer, m), v in sorted(rows.items()):
        if m != mode:
            continue
        med[peer] = (statistics.median(x[0] for x in v), max(x[1] for x in v))
    for peer, (mbs, rss) in sorted(med.items(), key=lambda kv: -kv[1][0]):
        extra = ""
        if "gmime" in med and mode == "full":
            extra += "  %.2fx GMime" % (mbs / med["gmime"][0])
        if "etpan" in med:
            extra += "  %.2fx libetpan" % (mbs / med["etpan"][0])
        print("  %-15s %8.1f MB/s  VmHWM %7.1f MiB%s" % (peer, mbs, rss / 1024, extra))
PY
"$bench" huge 1024
"$bench" scaling

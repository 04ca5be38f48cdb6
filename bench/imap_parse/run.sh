#!/bin/sh
# IMAP parse benchmark driver. Captures `UID FETCH 1:* (UID FLAGS ENVELOPE
# BODYSTRUCTURE)` over COUNT generated messages from the test Dovecot once
# (gen_capture.py: a mailbox of its own under bob, deleted afterwards; the
# capture is kept in CAPTURE), then runs every parser ROUNDS times side by
# side, each in its own process, and prints medians and ratios.
#   run.sh [ROUNDS=5] [COUNT=10000]
# Environment: SERVERS_ENV (default /tmp/libmail-servers/servers.env),
# CAPTURE (default $TMPDIR/libmail-imap-capture-COUNT.bin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench="$here/bench_imap_parse"
rounds=${1:-5}
count=${2:-10000}
env=${SERVERS_ENV:-/tmp/libmail-servers/servers.env}
capture=${CAPTURE:-${TMPDIR:-/tmp}/libmail-imap-capture-$count.bin}
[ -s "$capture" ] || python3 "$here/gen_capture.py" "$env" "$capture" "$count"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
  for peer in raw libmail libetpan; do
    "$bench" "$peer" "$capture" >> "$out" || echo "($peer failed)" >&2
  done
done
python3 - "$out" "$rounds" "$capture" <<'PY'
import os, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append((float(f[1]), f[2], int(f[3]), int(f[4]), int(f[5])))
mb = os.path.getsize(sys.argv[3]) / 1e6
raw = statistics.median(r[0] for r in rows["raw"])
lm = statistics.median(r[0] for r in rows["libmail"])
print("| parser | median s | MB/s | time vs raw | libmail speed-up | checksum | responses | held peak KiB | VmHWM MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for peer in ("raw", "libmail", "libetpan"):
    if peer not in rows:
        continue
    v = rows[peer]
    t = statistics.median(x[0] for x in v)
    held = max(x[3] for x in v) / 1024
    print("| %s | %.4f | %.0f | %.2fx | %.1fx | %s | %d | %s | %.1f |" % (
        peer, t, mb / t, t / raw, t / lm, v[0][1], v[0][2],
        ("%.0f" % held) if peer == "libmail" else "-", max(x[4] for x in v) / 1024))
print("(%s rounds, %.1f MB capture)" % (sys.argv[2], mb))
PY

#!/bin/sh
# IMAP FETCH benchmark driver (bench/README.md, "IMAP session").
#
#   run.sh [ROUNDS=5]     the full run, by hand (root: it starts Dovecot)
#   run.sh --short        the test suite's quick run: no servers, no pinning
#
# Full run: a private Dovecot + Postfix (tests/servers/servers.sh with its own
# run dir and port offset, started pinned to the server CPU and stopped
# afterwards) unless SERVERS_ENV names running servers; fill.py makes the
# mailboxes under bob once (10,000 varied messages; one 50 MB message);
# the raw reader captures both replies from Dovecot; imap-replay serves the
# captures from memory in its own process. Then, ROUNDS times, every client
# runs once per target (dovecot, replay) and mode (meta: UID FETCH 1:*
# (UID FLAGS ENVELOPE BODYSTRUCTURE); body: UID FETCH 1 (BODY.PEEK[])), each
# in its own process, and the medians are printed as a table with ratios to
# the raw reader. The typed clients' checksums must agree (libmail,
# libetpan) and every client must see the same messages and body bytes, or
# the run fails.
#
# Environment: COUNT (10000), BODY_MB (50), PIN (split: server on CPU 0,
# client on CPU 1; same: both on CPU 0; none), CLIENTS (raw libmail libetpan
# libcurl imaplib), SERVERS_ENV, BENCH_RUNDIR (/tmp/lm-imap-bench),
# BENCH_PORT_OFFSET (3700), KEEP_SERVERS=1 (leave the private servers up).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=@SOURCE_ROOT@
bench="$here/bench_imap"
replay="$here/imap-replay"
short=0
if [ "${1:-}" = "--short" ]; then
  short=1
  shift
fi
rounds=${1:-5}
count=${COUNT:-10000}
body_mb=${BODY_MB:-50}
pin=${PIN:-split}
clients=${CLIENTS:-raw libmail libetpan libcurl imaplib}
work=$(mktemp -d)
replay_pid=
started_servers=
cleanup() {
  [ -n "$replay_pid" ] && kill "$replay_pid" 2>/dev/null || true
  if [ -n "$started_servers" ] && [ -z "${KEEP_SERVERS:-}" ]; then
    MAIL_TEST_RUNDIR=$started_servers MAIL_TEST_PORT_OFFSET=${BENCH_PORT_OFFSET:-3700} \
      "$src/tests/servers/servers.sh" stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

case $pin in
  split) scpu="taskset -c 0" ccpu="taskset -c 1" ;;
  same) scpu="taskset -c 0" ccpu="taskset -c 0" ;;
  none) scpu="" ccpu="" ;;
  *) echo "run.sh: PIN must be split, same or none" >&2; exit 2 ;;
esac

# Which clients this build has (libetpan, libcurl are optional).
have() {
  case $1 in
    imaplib) command -v python3 >/dev/null ;;
    *) "$bench" "$1" meta 127.0.0.1 1 u p m 2>&1 | grep -q 'not built in' && return 1 || return 0 ;;
  esac
}
run_client() { # target mode client host port
  if [ "$3" = imaplib ]; then
    $ccpu python3 "$here/imaplib_client.py" "$2" "$4" "$5" "$user" "$pass" "$6"
  else
    $ccpu "$bench" "$3" "$2" "$4" "$5" "$user" "$pass" "$6"
  fi
}

start_replay() { # meta body
  rm -f "$work/port"
  $scpu "$replay" "$work/port" "$1" "$2" &
  replay_pid=$!
  i=0
  while [ ! -s "$work/port" ]; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "run.sh: imap-replay did not start" >&2; exit 1; }
    sleep 0.05
  done
  replay_port=$(cat "$work/port")
}

avail=
for c in $clients; do
  if have "$c"; then avail="$avail $c"; else echo "run.sh: $c not built in, skipped" >&2; fi
done

if [ $short = 1 ]; then
  # Quick and server-free: a generated capture, one round, no pinning.
  scpu="" ccpu="" user=bob pass=pw
  "$bench" gen-meta 300 "$work/meta.bin"
  "$bench" gen-body 300000 "$work/body.bin"
  start_replay "$work/meta.bin" "$work/body.bin"
  for mode in meta body; do
    for c in $avail; do
      run_client replay $mode "$c" 127.0.0.1 "$replay_port" bench-short | sed 's/^/replay /' >> "$work/out"
    done
  done
  cat "$work/out"
  python3 - "$work/out" 300 300000 <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
want_msgs, want_body = int(sys.argv[2]), int(sys.argv[3])
bad = []
for r in rows:
    target, client, mode, secs, ck, msgs, body = r[:7]
    if mode == "meta" and int(msgs) != want_msgs:
        bad.append("%s meta: %s messages, not %d" % (client, msgs, want_msgs))
    if mode == "body" and int(body) != want_body:
        bad.append("%s body: %s bytes, not %d" % (client, body, want_body))
typed = {r[1]: r[4] for r in rows if r[2] == "meta" and r[4] != "-"}
if "libmail" not in typed:
    bad.append("libmail gave no checksum")
if len(set(typed.values())) > 1:
    bad.append("typed checksums differ: %s" % typed)
for b in bad:
    print("run.sh --short: " + b)
print("run.sh --short: %d clients, typed checksums %s" % (len(set(r[1] for r in rows)), typed))
sys.exit(1 if bad else 0)
PY
  exit $?
fi

# --------------------------------------------------------------- full run
if [ -z "${SERVERS_ENV:-}" ]; then
  rundir=${BENCH_RUNDIR:-/tmp/lm-imap-bench}
  if [ ! -s "$rundir/servers.env" ]; then
    $scpu env MAIL_TEST_RUNDIR="$rundir" MAIL_TEST_PORT_OFFSET=${BENCH_PORT_OFFSET:-3700} \
      "$src/tests/servers/servers.sh" start >/dev/null
    started_servers=$rundir
  fi
  SERVERS_ENV=$rundir/servers.env
fi
host=$(sed -n 's/^MAIL_TEST_HOST=//p' "$SERVERS_ENV")
port=$(sed -n 's/^MAIL_TEST_IMAP_PORT=//p' "$SERVERS_ENV")
user=$(sed -n 's/^MAIL_TEST_USER2=//p' "$SERVERS_ENV")
pass=$(sed -n 's/^MAIL_TEST_PASS2=//p' "$SERVERS_ENV")
set -- $(python3 "$here/fill.py" "$SERVERS_ENV" "$count" "$body_mb")
meta_box=$1 body_box=$2
"$bench" capture-meta "$host" "$port" "$user" "$pass" "$meta_box" "$work/meta.bin" >&2
"$bench" capture-body "$host" "$port" "$user" "$pass" "$body_box" "$work/body.bin" >&2
start_replay "$work/meta.bin" "$work/body.bin"

for r in $(seq "$rounds"); do
  for mode in meta body; do
    box=$meta_box
    [ $mode = body ] && box=$body_box
    for c in $avail; do
      run_client dovecot $mode "$c" "$host" "$port" "$box" | sed 's/^/dovecot /' >> "$work/out" ||
        echo "run.sh: $c failed against dovecot" >&2
      run_client replay $mode "$c" 127.0.0.1 "$replay_port" "$box" | sed 's/^/replay /' >> "$work/out" ||
        echo "run.sh: $c failed against replay" >&2
    done
  done
done
[ -n "${BENCH_KEEP_OUT:-}" ] && cp "$work/out" "$BENCH_KEEP_OUT"

python3 - "$work/out" "$rounds" "$pin" "$count" "$body_mb" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault((f[0], f[2], f[1]), []).append(f)
labels = {"raw": "raw reader (floor, unparsed)", "libmail": "libmail (typed, callbacks)",
          "libetpan": "libetpan (typed)", "libcurl": "libcurl (unparsed text)",
          "imaplib": "Python imaplib (unparsed)"}
order = ["raw", "libmail", "libetpan", "libcurl", "imaplib"]
bad = []
print("PIN=%s, %s rounds, %s messages, %s MB body; medians" % (sys.argv[3], sys.argv[2], sys.argv[4], sys.argv[5]))
for mode in ("meta", "body"):
    for target in ("replay", "dovecot"):
        have = {c: rows[(target, mode, c)] for c in order if (target, mode, c) in rows}
        if "raw" not in have:
            continue
        raw = statistics.median(float(x[3]) for x in have["raw"])
        what = ("UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)" if mode == "meta"
                else "UID FETCH 1 (BODY.PEEK[])")
        print("\n%s from %s" % (what, target))
        if mode == "meta":
            print("| client | median s | time vs raw | checksum | messages | literal bytes | peak RSS MiB |")
            print("|---|---:|---:|---|---:|---:|---:|")
        else:
            print("| client | median s | MB/s | rate vs raw | body bytes | peak RSS MiB |")
            print("|---|---:|---:|---:|---:|---:|")
        for c, v in have.items():
            t = statistics.median(float(x[3]) for x in v)
            rss = max(int(x[8]) for x in v) / 1024
            cks = sorted(set(x[4] for x in v))
            msgs = sorted(set(x[5] for x in v))
            body = sorted(set(x[6] for x in v))
            if len(cks) > 1:
                bad.append("%s %s %s: checksum changes between rounds" % (target, mode, c))
            if mode == "meta":
                print("| %s | %.4f | %.2fx | %s | %s | %s | %.1f |" % (
                    labels[c], t, t / raw, cks[0], "/".join(msgs), "/".join(body), rss))
            else:
                b = int(body[0])
                print("| %s | %.4f | %.0f | %.2fx | %s | %.1f |" % (
                    labels[c], t, b / t / 1e6, raw / t, "/".join(body), rss))
        ref = have["raw"][0]
        for c, v in have.items():
            if mode == "meta" and c != "libcurl" and v[0][5] != ref[5]:
                bad.append("%s %s: %s saw %s messages, raw %s" % (target, mode, c, v[0][5], ref[5]))
            if mode == "body" and v[0][6] != ref[6]:
                bad.append("%s body: %s got %s bytes, raw %s" % (target, c, v[0][6], ref[6]))
typed = {}
for (target, mode, c), v in rows.items():
    if mode == "meta" and v[0][4] != "-":
        typed[(target, c)] = v[0][4]
print("\ntyped checksums: " + ", ".join("%s/%s %s" % (t, c, k) for (t, c), k in sorted(typed.items())))
if len(set(typed.values())) > 1:
    bad.append("typed checksums differ")
for b in bad:
    print("CHECK FAILED: " + b)
sys.exit(1 if bad else 0)
PY

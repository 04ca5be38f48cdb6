#!/bin/sh
# SMTP benchmark: every client sends COUNT (2,000) messages of 2 KB over
# one connection to its own fresh C sink; ROUNDS (3) rounds, median kept.
# usage: bench/smtp/run.sh BUILDDIR   (configured with -Dbench=true)
# PIN=split puts the sink on CPU 0 and the client on CPU 1 (taskset), so
# neither steals the other's core; PIN=same puts both on CPU 0; unset, the
# scheduler decides. Clients whose peer library was not found at build
# time are left out.
set -eu
B=${1:?usage: run.sh BUILDDIR}/bench/smtp
HERE=$(cd "$(dirname "$0")" && pwd)
COUNT=${COUNT:-2000}
ROUNDS=${ROUNDS:-3}
PY=${PYTHON:-python3}
case ${PIN:-} in
  split) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 1" ;;
  same) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 0" ;;
  '') PIN_SINK="" PIN_CLIENT="" ;;
  *) echo "PIN must be split or same" >&2; exit 2 ;;
esac
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run NAME CMD...: start a sink, run the client against it, keep "msg/s sink-busy%".
run() {
  name=$1; shift
  mkfifo "$TMP/port"
  $PIN_SINK "$B/smtp-sink" >"$TMP/port" 2>"$TMP/sink.err" &
  sink=$!
  read -r port <"$TMP/port"
  rm -f "$TMP/port"
  out=$("$@" "$port" "$COUNT" 2>"$TMP/client.err") || { echo "$name failed: $(cat "$TMP/client.err")" >&2; kill $sink 2>/dev/null; return 1; }
  wait $sink
  busy=$(sed -n 's/.*busy=\([0-9]*\)%.*/\1/p' "$TMP/sink.err")
  echo "$out" | awk -v b="$busy" '{print $4, b}' >>"$TMP/$name"
}


# The clients; raw and libmail take a mode argument after PORT COUNT.
client() {
  c=$PIN_CLIENT
  case $1 in
    raw-data) $c "$B/raw-smtp" "$2" "$3" data ;;
    raw-bdat) $c "$B/raw-smtp" "$2" "$3" bdat ;;
    libmail-data) $c "$B/libmail-smtp" "$2" "$3" data ;;
    libmail-bdat) $c "$B/libmail-smtp" "$2" "$3" bdat ;;
    libetpan) $c "$B/etpan-smtp" "$2" "$3" ;;
    libcurl) $c "$B/curl-smtp" "$2" "$3" ;;
    smtplib) $c "$PY" "$HERE/smtplib_client.py" "$2" "$3" ;;
  esac
}
NAMES="raw-data raw-bdat libmail-data libmail-bdat"
[ -x "$B/etpan-smtp" ] && NAMES="$NAMES libetpan"
[ -x "$B/curl-smtp" ] && NAMES="$NAMES libcurl"
NAMES="$NAMES smtplib"
for r in $(seq "$ROUNDS"); do
  for n in $NAMES; do
    run "$n" client "$n"
  done
done

median() { sort -n "$1" | awk '{a[NR]=$1; b[NR]=$2} END {m=int((NR+1)/2); print a[m], b[m]}'; }
printf '%-14s %10s %8s %10s %12s\n' client msg/s sink-cpu vs-raw vs-libetpan
rawd=$(median "$TMP/raw-data" | cut -d' ' -f1)
rawb=$(median "$TMP/raw-bdat" | cut -d' ' -f1)
etp=$rawd
[ -f "$TMP/libetpan" ] && etp=$(median "$TMP/libetpan" | cut -d' ' -f1)
for n in $NAMES; do
  set -- $(median "$TMP/$n")
  case $n in *bdat) raw=$rawb ;; *) raw=$rawd ;; esac
  awk -v n="$n" -v r="$1" -v b="$2" -v raw="$raw" -v e="$etp" \
    'BEGIN {printf "%-14s %10d %7s%% %9.2fx %11.2fx\n", n, r, b, r/raw, r/e}'
done
echo "(median of $ROUNDS rounds of $COUNT x 2 KB messages; vs-raw compares with the raw client in the same mode: DATA or BDAT; vs-libetpan is vs raw-data without libetpan; PIN=${PIN:-none})"

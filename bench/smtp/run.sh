#!/bin/sh
# SMTP benchmark: every client sends COUNT (2,000) messages of 2 KB over
# one connection to its own fresh C sink; ROUNDS (3) rounds, median kept.
# usage: bench/smtp/run.sh BUILDDIR   (configured with -Dbench=true)
set -eu
B=${1:?usage: run.sh BUILDDIR}/bench/smtp
HERE=$(cd "$(dirname "$0")" && pwd)
COUNT=${COUNT:-2000}
ROUNDS=${ROUNDS:-3}
PY=${PYTHON:-python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run NAME CMD...: start a sink, run the client against it, keep "msg/s sink-busy%".
run() {
  name=$1; shift
  mkfifo "$TMP/port"
  "$B/smtp-sink" >"$TMP/port" 2>"$TMP/sink.err" &
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
  case $1 in
    raw-data) "$B/raw-smtp" "$2" "$3" data ;;
    raw-bdat) "$B/raw-smtp" "$2" "$3" bdat ;;
    libmail-data) "$B/libmail-smtp" "$2" "$3" data ;;
    libmail-bdat) "$B/libmail-smtp" "$2" "$3" bdat ;;
    libetpan) "$B/etpan-smtp" "$2" "$3" ;;
    libcurl) "$B/curl-smtp" "$2" "$3" ;;
    smtplib) "$PY" "$HERE/smtplib_client.py" "$2" "$3" ;;
  esac
}
NAMES="raw-data raw-bdat libmail-data libmail-bdat libetpan libcurl smtplib"
for r in $(seq "$ROUNDS"); do
  for n in $NAMES; do
    run "$n" client "$n"
  done
done

median() { sort -n "$1" | awk '{a[NR]=$1; b[NR]=$2} END {m=int((NR+1)/2); print a[m], b[m]}'; }
printf '%-14s %10s %8s %10s %12s\n' client msg/s sink-cpu vs-raw vs-libetpan
rawd=$(median "$TMP/raw-data" | cut -d' ' -f1)
rawb=$(median "$TMP/raw-bdat" | cut -d' ' -f1)
etp=$(median "$TMP/libetpan" | cut -d' ' -f1)
for n in $NAMES; do
  set -- $(median "$TMP/$n")
  case $n in *bdat) raw=$rawb ;; *) raw=$rawd ;; esac
  awk -v n="$n" -v r="$1" -v b="$2" -v raw="$raw" -v e="$etp" \
    'BEGIN {printf "%-14s %10d %7s%% %9.2fx %11.2fx\n", n, r, b, r/raw, r/e}'
done
echo "(median of $ROUNDS rounds of $COUNT x 2 KB messages; vs-raw compares with the raw client in the same mode: DATA or BDAT)"

#!/bin/sh
# SMTP benchmark: every client sends COUNT (2,000) messages of 2 KB over
# one connection to its own fresh C sink; ROUNDS (5) rounds, the clients
# interleaved in each, medians kept.
# usage: bench/smtp/run.sh BUILDDIR   (configured with -Dbench=true)
# Placement, the same for every client: PIN=split puts the sink on CPU 0
# and the client on CPU 1 (taskset), PIN=same both on CPU 0, PIN=both (the
# default) runs and reports each; PIN=none lets the scheduler decide (on a
# 2-vCPU machine that alone changes the rate severalfold: not comparable).
# NICE=n (e.g. -15, as root) runs sink and client at that nice value, every
# client alike: on a machine loaded by other work, the cross-CPU wake-up
# otherwise waits for a time slice and the split rates mean little.
# Clients whose peer library was not found at build time are left out.
set -eu
B=${1:?usage: run.sh BUILDDIR}/bench/smtp
HERE=$(cd "$(dirname "$0")" && pwd)
COUNT=${COUNT:-2000}
ROUNDS=${ROUNDS:-5}
PY=${PYTHON:-python3}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run PLACEMENT NAME: start a sink, run the client against it, keep "msg/s sink-busy%".
run() {
  pl=$1 name=$2
  mkfifo "$TMP/port"
  $PIN_SINK "$B/smtp-sink" >"$TMP/port" 2>"$TMP/sink.err" &
  sink=$!
  read -r port <"$TMP/port"
  rm -f "$TMP/port"
  out=$(client "$name" "$port" "$COUNT" 2>"$TMP/client.err") ||
    { echo "$name failed: $(cat "$TMP/client.err")" >&2; kill $sink 2>/dev/null; return 1; }
  wait $sink
  # The same work for every client: the sink (one connection) must have
  # taken every message.
  took=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$TMP/sink.err")
  [ "$took" = "$COUNT" ] ||
    { echo "$name: the sink took ${took:-no} messages of $COUNT" >&2; return 1; }
  busy=$(sed -n 's/.*busy=\([0-9]*\)%.*/\1/p' "$TMP/sink.err")
  echo "$out" | awk -v b="$busy" '{print $4, b}' >>"$TMP/$pl-$name"
}

# The clients; raw and libmail take a mode argument after PORT COUNT.
#   raw-data      the two-round-trip floor (final reply, then the next MAIL)
#   raw-pipe      the one-round-trip floor for DATA (end of data and the
#                 next MAIL/RCPT/DATA in one write, RFC 2920 3.1)
#   raw-bdat      the one-round-trip floor for BDAT
#   libmail-data, libmail-bdat        mail_smtp_send() per message
#   libmail-batch, libmail-batch-bdat mail_smtp_send_batch() of them all
client() {
  c=$PIN_CLIENT
  case $1 in
    raw-data) $c "$B/raw-smtp" "$2" "$3" data ;;
    raw-pipe) $c "$B/raw-smtp" "$2" "$3" pipe ;;
    raw-bdat) $c "$B/raw-smtp" "$2" "$3" bdat ;;
    libmail-data) $c "$B/libmail-smtp" "$2" "$3" data ;;
    libmail-bdat) $c "$B/libmail-smtp" "$2" "$3" bdat ;;
    libmail-batch) $c "$B/libmail-smtp" "$2" "$3" batch ;;
    libmail-batch-bdat) $c "$B/libmail-smtp" "$2" "$3" batch-bdat ;;
    libetpan) $c "$B/etpan-smtp" "$2" "$3" ;;
    libcurl) $c "$B/curl-smtp" "$2" "$3" ;;
    smtplib) $c "$PY" "$HERE/smtplib_client.py" "$2" "$3" ;;
  esac
}
NAMES="raw-data raw-pipe raw-bdat libmail-data libmail-batch libmail-bdat libmail-batch-bdat"
[ -x "$B/etpan-smtp" ] && NAMES="$NAMES libetpan"
[ -x "$B/curl-smtp" ] && NAMES="$NAMES libcurl"
NAMES="$NAMES smtplib"

NICE_CMD=${NICE:+nice -n $NICE}
place() {
  case $1 in
    split) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 1" ;;
    same) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 0" ;;
    none) PIN_SINK="" PIN_CLIENT="" ;;
  esac
  PIN_SINK="$NICE_CMD $PIN_SINK" PIN_CLIENT="$NICE_CMD $PIN_CLIENT"
}
case ${PIN:-both} in
  both) PLACES="split same" ;;
  split | same | none) PLACES=$PIN ;;
  *) echo "PIN must be split, same, both or none" >&2; exit 2 ;;
esac

# Rounds outermost, placements and clients interleaved within each, so a
# burst of load elsewhere hits every client alike.
for r in $(seq "$ROUNDS"); do
  for pl in $PLACES; do
    place "$pl"
    for n in $NAMES; do
      run "$pl" "$n"
    done
  done
done

median() { sort -n "$1" | awk '{a[NR]=$1; b[NR]=$2} END {m=int((NR+1)/2); print a[m], b[m]}'; }
for pl in $PLACES; do
  echo "placement: $pl"
  printf '%-19s %9s %8s %12s %12s\n' client msg/s sink-cpu vs-2rtt-floor vs-1rtt-floor
  two=$(median "$TMP/$pl-raw-data" | cut -d' ' -f1)
  pipe=$(median "$TMP/$pl-raw-pipe" | cut -d' ' -f1)
  bdat=$(median "$TMP/$pl-raw-bdat" | cut -d' ' -f1)
  for n in $NAMES; do
    set -- $(median "$TMP/$pl-$n")
    case $n in *bdat) one=$bdat ;; *) one=$pipe ;; esac
    awk -v n="$n" -v r="$1" -v b="$2" -v two="$two" -v one="$one" \
      'BEGIN {printf "%-19s %9d %7s%% %11.2fx %11.2fx\n", n, r, b, r/two, r/one}'
  done
done
echo "(median of $ROUNDS rounds of $COUNT x 2 KB messages; 2rtt floor: raw-data; 1rtt floor: raw-pipe, or raw-bdat for *bdat clients; NICE=${NICE:-0})"

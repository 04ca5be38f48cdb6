#!/bin/sh
# Many sessions in one thread: N (1,000) SMTP sessions x M (20) messages
# of 2 KB each, against a fresh loop-sink per run, by libmail's loop
# (epoll and poll), the blocking API on a thread per session, and
# libcurl's multi interface (when found at build time). ROUNDS (5)
# rounds, the clients interleaved in each, medians kept. After every run
# the sink's own count must be N x M messages, N connections and N QUITs
# (the peers did the same work), or the script stops.
# usage: bench/loop/run.sh BUILDDIR   (configured with -Dbench=true)
# PIN=split (default: sink on CPU 0, client on CPU 1), same (both on CPU
# 0), both, or none; NICE=n runs sink and client at that nice value
# (e.g. -15 as root, as bench/smtp/run.sh), every client alike.
set -eu
B=${1:?usage: run.sh BUILDDIR}/bench/loop
N=${N:-1000}
M=${M:-20}
ROUNDS=${ROUNDS:-5}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
NICE_CMD=${NICE:+nice -n $NICE}

run() {
  pl=$1 name=$2
  rm -f "$TMP/sink.out"
  mkfifo "$TMP/in"
  $PIN_SINK "$B/loop-sink" <"$TMP/in" >"$TMP/sink.out" 2>&1 &
  sink=$!
  exec 3>"$TMP/in"
  while ! [ -s "$TMP/sink.out" ]; do sleep 0.05; done
  port=$(head -1 "$TMP/sink.out")
  out=$($PIN_CLIENT "$B/bench-loop" "$name" "$N" "$M" 127.0.0.1 "$port" 2>"$TMP/client.err") ||
    { echo "$name failed: $(cat "$TMP/client.err")" >&2; exec 3>&-; wait $sink; exit 1; }
  exec 3>&-
  wait $sink
  rm -f "$TMP/in"
  stats=$(tail -1 "$TMP/sink.out")
  want="messages=$((N * M)) accepted=$N peak="
  case $stats in
    "$want"*" quits=$N "*) ;;
    *) echo "$name: the sink saw other work: $stats" >&2; exit 1 ;;
  esac
  peak=$(echo "$stats" | sed -n 's/.*peak=\([0-9]*\).*/\1/p')
  busy=$(echo "$stats" | sed -n 's/.*busy=\([0-9]*\)%.*/\1/p')
  echo "$out" | awk -v p="$peak" -v b="$busy" '{print $4, $3, p, b}' >>"$TMP/$pl-$name"
}

NAMES="loop loop-poll threads"
if "$B/bench-loop" curl 0 0 127.0.0.1 1 >/dev/null 2>&1; then NAMES="$NAMES curl"; fi
place() {
  case $1 in
    split) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 1" ;;
    same) PIN_SINK="taskset -c 0" PIN_CLIENT="taskset -c 0" ;;
    none) PIN_SINK="" PIN_CLIENT="" ;;
  esac
  PIN_SINK="$NICE_CMD $PIN_SINK" PIN_CLIENT="$NICE_CMD $PIN_CLIENT"
}
PIN=${PIN:-split}
case $PIN in
  both) PLACES="split same" ;;
  split | same | none) PLACES=$PIN ;;
  *) echo "PIN must be split, same, both or none" >&2; exit 2 ;;
esac
for r in $(seq "$ROUNDS"); do
  for pl in $PLACES; do
    place "$pl"
    for n in $NAMES; do
      run "$pl" "$n"
    done
  done
done

median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
for pl in $PLACES; do
  echo "placement: $pl"
  printf '%-10s %9s %9s %10s %9s %8s\n' client msg/s seconds sink-peak sink-cpu vs-curl
  curl=1
  [ -f "$TMP/$pl-curl" ] && curl=$(median "$TMP/$pl-curl" | cut -d' ' -f1)
  for n in $NAMES; do
    set -- $(median "$TMP/$pl-$n")
    awk -v n="$n" -v r="$1" -v s="$2" -v p="$3" -v b="$4" -v c="$curl" \
      'BEGIN {printf "%-10s %9d %9.2f %10d %8s%% %7.2fx\n", n, r, s, p, b, r/c}'
  done
  printf 'all rounds (msg/s):'
  for n in $NAMES; do printf ' %s=' "$n"; cut -d' ' -f1 "$TMP/$pl-$n" | tr '\n' ',' | sed 's/,$//'; done
  echo
done
echo "(median of $ROUNDS rounds of $N sessions x $M messages of 2 KB; every run checked against the sink's counts; NICE=${NICE:-0})"

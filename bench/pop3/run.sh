#!/bin/sh
# POP3 benchmark driver: a private Dovecot instance (POP3 only, plain TCP on
# 127.0.0.1, its own run dir, port and user) holding COUNT messages of SIZE
# bytes; every peer retrieves them all, ROUNDS times side by side; medians
# and ratios to the raw pipelining client are printed. Dovecot is stopped
# by its PID and the run dir removed at the end.
#   run.sh [ROUNDS] [COUNT] [SIZE]      (as root: Dovecot needs it)
# PIN=split runs Dovecot on CPU 0 and the clients on CPU 1 (taskset);
# PIN=same runs all on CPU 0; unset, the scheduler decides.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench="$here/bench_pop3"
rounds=${1:-5}
count=${2:-1000}
size=${3:-51200}
port=${POP3_BENCH_PORT:-12119}
py=${PYTHON:-python3}
case ${PIN:-} in
  split) PIN_SERVER="taskset -c 0" PIN_CLIENT="taskset -c 1" ;;
  same) PIN_SERVER="taskset -c 0" PIN_CLIENT="taskset -c 0" ;;
  '') PIN_SERVER="" PIN_CLIENT="" ;;
  *) echo "PIN must be split or same" >&2; exit 2 ;;
esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/libmail-bench-pop3.XXXXXX")
chmod 755 "$dir"
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; sleep 1.5; fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM
uid=$(id -u nobody); gid=$(id -g nobody)
mkdir -p "$dir/run" "$dir/state" "$dir/mail"
echo "bench:{PLAIN}bench-pw:$uid:$gid::$dir/mail::" > "$dir/passwd"
chgrp dovecot "$dir/passwd"; chmod 640 "$dir/passwd"
cat > "$dir/dovecot.conf" <<CONF
instance_name = libmail-bench-pop3
base_dir = $dir/run
state_dir = $dir/state
protocols = pop3
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
first_valid_uid = $uid
first_valid_gid = $gid
default_internal_user = dovecot
default_login_user = dovenull
auth_mechanisms = plain
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
mail_location = maildir:$dir/mail/Maildir
service pop3-login {
  inet_listener pop3 {
    port = $port
  }
  service_count = 0
  process_min_avail = 1
}
CONF
"$py" "$here/gen_maildir.py" "$dir/mail/Maildir" "$count" "$size"
chown -R "$uid:$gid" "$dir/mail"
$PIN_SERVER dovecot -c "$dir/dovecot.conf" </dev/null >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; exit 1; }
# The master writes its PID file once it runs; wait for it (bounded).
for i in $(seq 50); do
  [ -s "$dir/run/master.pid" ] && break
  sleep 0.1
done
pid=$(cat "$dir/run/master.pid")
# Warm-up: Dovecot indexes the maildir and caches message sizes.
"$bench" raw 127.0.0.1 "$port" bench bench-pw >/dev/null
out="$dir/results"
: > "$out"
for r in $(seq "$rounds"); do
  for peer in raw libmail libetpan; do
    $PIN_CLIENT "$bench" "$peer" 127.0.0.1 "$port" bench bench-pw >> "$out" || echo "($peer failed)" >&2
  done
  $PIN_CLIENT "$py" "$here/bench_poplib.py" 127.0.0.1 "$port" bench bench-pw >> "$out"
done
"$py" - "$out" "$rounds" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 5:
        rows.setdefault(f[0], []).append((float(f[3]), int(f[4]), int(f[1]), int(f[2])))
raw = statistics.median(t for t, _, _, _ in rows["raw"])
print("| client | messages | MB | median s | MB/s | time vs raw | speed vs raw | max RSS MiB |")
print("|---|---|---|---|---|---|---|---|")
for peer in ("raw", "libmail", "libetpan", "poplib"):
    if peer not in rows:
        continue
    v = rows[peer]
    t = statistics.median(x for x, _, _, _ in v)
    mb = v[0][3] / 1e6
    rss = max(r for _, r, _, _ in v) / 1024
    print("| %s | %d | %.1f | %.3f | %.0f | %.2fx | %.2fx | %.1f |" %
          (peer, v[0][2], mb, t, mb / t, t / raw, raw / t, rss))
print("(%s rounds, PIN=%s)" % (sys.argv[2], __import__("os").environ.get("PIN", "none")))
PY

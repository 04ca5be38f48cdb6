#!/bin/bash
# The CLI under a hostile size (issue 21): `mailcli caps` against a
# loopback SMTP server whose EHLO reply is 120 MiB of 250- lines before
# STARTTLS. mailcli must fail with the limit error, never send STARTTLS,
# and its peak resident set (GNU time's %M) stay far below the reply:
# under MAIL_PEAK_RSS_KB (default 16384 KiB; 7.5 MiB measured).
#
#   tests/faults/cli_peak_rss.sh MAILCLI
set -euo pipefail
mailcli=$1
limit_kb=${MAIL_PEAK_RSS_KB:-16384}
TIME=/usr/bin/time
if [[ ! -x $TIME ]]; then
    echo "cli_peak_rss: /usr/bin/time missing (Debian package 'time')" >&2
    exit 77
fi
tmp=$(mktemp -d)
server_pid=
cleanup() {
    [[ -z $server_pid ]] || kill "$server_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

python3 - "$tmp/port" "$tmp/log" <<'PY' &
import socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(ls.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
c, _ = ls.accept()
c.sendall(b"220 srv.test ESMTP\r\n")
f = c.makefile("rb")
log = open(sys.argv[2], "w")
line = f.readline()
log.write(line.decode(errors="replace"))
log.flush()
chunk = b"".join(b"250-SIZE%06d%s\r\n" % (i, b"x" * 984) for i in range(1024))  # 1 MiB
try:
    c.sendall(b"250-srv.test\r\n250-STARTTLS\r\n")
    for _ in range(120):
        c.sendall(chunk)
    c.sendall(b"250 DONE\r\n")
    line = f.readline()
    log.write(line.decode(errors="replace"))
except OSError:
    pass
PY
server_pid=$!
# Wait while it lives (Python may be slow to start on a loaded machine).
for _ in $(seq 1200); do [[ -s $tmp/port ]] && break; kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
port=$(cat "$tmp/port")

set +e
"$TIME" -f '%M' -o "$tmp/rss" "$mailcli" caps "smtp://127.0.0.1:$port" --tls none --insecure \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
wait "$server_pid" 2>/dev/null || true
server_pid=
rss=$(tail -n 1 "$tmp/rss")
echo "cli_peak_rss: mailcli caps against a 120 MiB EHLO reply: exit $rc, peak RSS $rss KiB"
sed 's/^/  stderr: /' "$tmp/err"
fail=0
if ((rc == 0)); then echo "FAIL: mailcli succeeded"; fail=1; fi
if ! grep -qi 'limit' "$tmp/err"; then echo "FAIL: no limit error"; fail=1; fi
if grep -q STARTTLS "$tmp/log"; then echo "FAIL: STARTTLS was sent"; fail=1; fi
if ((rss >= limit_kb)); then echo "FAIL: peak RSS $rss KiB >= $limit_kb KiB"; fail=1; fi
exit $fail

#!/bin/bash
# mailcli --proxy / --proxy-env through the test tree's proxy
# (tests/proxy/proxy_server.py) to the real servers: caps over SOCKS5 with
# credentials from the environment, pop3 over an HTTP CONNECT tunnel; a
# URL with credentials on the command line is refused (exit 2); a refused
# proxy password is exit 3 and shows in no output or trace.
# usage: test_proxy.sh PATH-TO-MAILCLI PROXY-SERVER.py  (skips with 77 without servers)
set -u
M=${1:?usage: test_proxy.sh MAILCLI PROXY}
PROXY=${2:?usage: test_proxy.sh MAILCLI PROXY}
PY=${PYTHON:-python3}
ENVF=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
if [[ ! -r $ENVF ]]; then
  [[ ${MAIL_TEST_REQUIRE_SERVERS:-0} == 1 ]] && { echo "servers.env missing" >&2; exit 1; }
  exit 77
fi
. "$ENVF"
TMP=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do exec {p}>&-; done 2>/dev/null
  wait
  rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; sed 's/^/  | /' "$TMP/out" "$TMP/err" | head -30; fail=1; }
run() {
  local want=$1 what=$2
  shift 2
  "$M" --cafile "$MAIL_TEST_CA" "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  [[ $got == "$want" ]] || { bad "$what: exit $got, expected $want"; return 1; }
  ok "$what (exit $got)"
}
# Start a proxy; its stdin is a pipe we hold open (it serves until it
# closes); sets PORT.
start_proxy() {
  local log=$1
  shift
  exec {fd}> >("$PY" "$PROXY" "$@" --log "$log" >"$log.port")
  pids+=("$fd")
  for _ in $(seq 1 200); do
    [[ -s $log.port ]] && break
    sleep 0.05
  done
  read -r _ PORT <"$log.port"
}

start_proxy "$TMP/socks.log" socks5 --user pu --password 'p w'
export MY_PROXY="socks5://pu:p%20w@127.0.0.1:$PORT"
run 0 "caps through SOCKS5 with credentials from --proxy-env" --proxy-env MY_PROXY \
  caps "submission://$MAIL_TEST_HOSTNAME:$MAIL_TEST_SUBMISSION_PORT" &&
  { grep -q STARTTLS "$TMP/out" || bad "no capabilities shown"; }
grep -q '"auth": true' "$TMP/socks.log" || bad "the proxy did not see our credentials"
export BAD_PROXY="socks5://pu:wrong-secret@127.0.0.1:$PORT"
run 3 "a refused proxy password" --trace --proxy-env BAD_PROXY \
  caps "submission://$MAIL_TEST_HOSTNAME:$MAIL_TEST_SUBMISSION_PORT" &&
  { grep -q 'refused the user name and password' "$TMP/err" || bad "no reason shown"; }
if grep -q wrong-secret "$TMP/out" "$TMP/err"; then bad "the proxy password was shown"; fi
run 2 "credentials in --proxy are refused" --proxy "socks5://pu:x@127.0.0.1:$PORT" \
  caps "submission://$MAIL_TEST_HOSTNAME:$MAIL_TEST_SUBMISSION_PORT"
run 2 "an unknown --proxy scheme" --proxy "ftp://127.0.0.1:1" \
  caps "submission://$MAIL_TEST_HOSTNAME:$MAIL_TEST_SUBMISSION_PORT"

start_proxy "$TMP/http.log" http
export POP_PW=$MAIL_TEST_PASS1
run 0 "pop3 list through an HTTP CONNECT tunnel" --proxy "http://127.0.0.1:$PORT" \
  --user "$MAIL_TEST_USER1" --password-env POP_PW \
  pop3 "pop3://$MAIL_TEST_HOSTNAME:$MAIL_TEST_POP3_PORT" list
grep -q "\"CONNECT $MAIL_TEST_HOSTNAME:$MAIL_TEST_POP3_PORT HTTP/1.1\"" "$TMP/http.log" ||
  bad "the proxy log does not show the CONNECT: $(cat "$TMP/http.log" 2>&1)"
exit $fail

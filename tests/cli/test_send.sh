#!/bin/sh
# mailcli send (formerly examples/mailsend) against the real servers: every
# exit code of the issue that a real server can produce, and --trace with
# credentials redacted. The assertions are those of the mailsend test.
# usage: test_send.sh PATH-TO-MAILCLI   (skips with 77 without servers)
set -u
M=${1:?usage: test_send.sh MAILCLI}
ENVF=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
if [ ! -r "$ENVF" ]; then
  [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "servers.env missing" >&2; exit 1; }
  exit 77
fi
. "$ENVF"
fail=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "mailsend test body" >"$TMP/text"
export MAILSEND_PW="$MAIL_TEST_PASS1"
SUB="submission://localhost:$MAIL_TEST_SUBMISSION_PORT"

# expect CODE DESCRIPTION ARGS...: run mailcli send, compare its exit code
expect() {
  want=$1; what=$2; shift 2
  "$M" send "$@" >"$TMP/out" 2>"$TMP/err"
  got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, expected $want"; sed 's/^/  | /' "$TMP/out" "$TMP/err"
    fail=1
  else
    echo "ok: $what (exit $got)"
  fi
}
AUTH="--user $MAIL_TEST_USER1 --password-env MAILSEND_PW --cafile $MAIL_TEST_CA"
FROM="--from $MAIL_TEST_ADDR1"

expect 2 "usage: no URL" --from a@b.example --to c@d.example
expect 2 "usage: bad --tls" --tls maybe smtp://localhost --from a@b.example --to c@d.example
expect 9 "bad local input: CRLF in an address" $AUTH "$SUB" --from "a@b.example
RSET" --to "$MAIL_TEST_ADDR2"
expect 3 "connection refused" --tls none smtp://127.0.0.1:1 $FROM --to "$MAIL_TEST_ADDR2"
expect 4 "TLS: certificate not trusted (no --cafile)" smtp://localhost:$MAIL_TEST_SMTP_PORT $FROM --to "$MAIL_TEST_ADDR2"
MAILSEND_PW=wrong expect 5 "authentication refused" $AUTH "$SUB" $FROM --to "$MAIL_TEST_ADDR2"
expect 0 "sent over submission" $AUTH --trace "$SUB" $FROM --to "$MAIL_TEST_ADDR2" --subject "mailsend ok" --text "$TMP/text" --attach "$TMP/text"
if grep -q "$MAIL_TEST_PASS1" "$TMP/err" || ! grep -q '^C: AUTH [A-Z0-9-]* \[redacted\]' "$TMP/err"; then
  echo "FAIL: --trace shows a credential or no redacted AUTH line"; fail=1
else
  echo "ok: --trace redacts the credentials"
fi
grep -q "^$MAIL_TEST_ADDR2: OK 250" "$TMP/out" || { echo "FAIL: no per-recipient line"; fail=1; }
expect 7 "some recipients refused" $AUTH "$SUB" $FROM --to "$MAIL_TEST_ADDR2" --to "nobody@libmail.test" --text "$TMP/text"
expect 6 "every recipient refused" $AUTH "$SUB" $FROM --to "nobody@libmail.test" --text "$TMP/text"
printf 'Subject: raw\r\n\r\nraw body\r\n' >"$TMP/raw"
expect 0 "raw message over SMTPS" $AUTH "smtps://localhost:$MAIL_TEST_SMTPS_PORT" $FROM --to "$MAIL_TEST_ADDR2" --raw "$TMP/raw"
expect 0 "LMTP over the unix socket" "lmtp://$MAIL_TEST_LMTP_SOCKET" $FROM --to "$MAIL_TEST_ADDR2" --raw "$TMP/raw"
# A server that breaks the protocol (8) and one that never answers (3).
for mode in garbage silent; do
  rm -f "$TMP/port"
  ${PYTHON:-python3} "$(dirname "$0")/badserver.py" $mode "$TMP/port" &
  pid=$!
  # Wait while it lives (Python may be slow to start on a loaded machine).
  i=0; while [ ! -s "$TMP/port" ] && [ $i -lt 2400 ] && kill -0 $pid 2>/dev/null; do sleep 0.05; i=$((i+1)); done
  p=$(cat "$TMP/port")
  if [ $mode = garbage ]; then
    expect 8 "protocol violation by the server" --tls none "smtp://127.0.0.1:$p" $FROM --to "$MAIL_TEST_ADDR2"
  else
    expect 3 "timeout (no greeting)" --timeout 1 --tls none "smtp://127.0.0.1:$p" $FROM --to "$MAIL_TEST_ADDR2"
  fi
  kill $pid 2>/dev/null; wait $pid 2>/dev/null
done
exit $fail

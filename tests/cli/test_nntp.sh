#!/bin/bash
# mailcli nntp against the real INN of tests/servers: groups, post (with a
# unique subject), over finding it (--json parsed back), article N holding
# its body, and the exit codes of a refused post (480), a wrong password,
# a bad range and a bad URL; --trace never shows the password.
# usage: test_nntp.sh PATH-TO-MAILCLI   (skips with 77 without INN)
set -u
M=${1:?usage: test_nntp.sh MAILCLI}
PY=${PYTHON:-python3}
ENVF=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
required() { [[ ${MAIL_TEST_REQUIRE_SERVERS:-0} == 1 ]]; }
if [[ ! -r $ENVF ]]; then
  required && { echo "servers.env missing" >&2; exit 1; }
  exit 77
fi
. "$ENVF"
if [[ -z ${MAIL_TEST_NNTP_PORT:-} ]]; then
  echo "no MAIL_TEST_NNTP_PORT in $ENVF (servers.sh without INN)" >&2
  required && exit 1
  exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
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
URL="nntp://$MAIL_TEST_HOSTNAME:$MAIL_TEST_NNTP_PORT"
SURL="nntps://$MAIL_TEST_HOSTNAME:$MAIL_TEST_NNTPS_PORT"
G=$MAIL_TEST_NNTP_GROUP
export NNTP_PW=$MAIL_TEST_NNTP_PASS
TAG="cli-$$-$(date +%s%N)"

run 0 "groups" nntp "$URL" groups 'libmail.*' &&
  { grep -q "^$G [0-9]* [0-9]* y$" "$TMP/out" && ok "groups lists $G" || bad "groups lists $G"; }

printf 'From: Alice <alice@libmail.test>\nNewsgroups: %s\nSubject: %s\n\n.a dotted line\nbody %s\n' \
  "$G" "$TAG" "$TAG" >"$TMP/article"
run 5 "post without login is refused (480)" nntp "$URL" post "$TMP/article"
run 0 "post" --trace --user "$MAIL_TEST_NNTP_USER" --password-env NNTP_PW nntp "$URL" post "$TMP/article" &&
  { grep -q "AUTHINFO PASS \[redacted\]" "$TMP/err" && ! grep -qF "$NNTP_PW" "$TMP/err" &&
      ok "trace redacts the password" || bad "trace redacts the password"; }
run 0 "over --json (nntps)" --json nntp "$SURL" over "$G" 1-
num=$("$PY" -c "import json,sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d['subject'] == sys.argv[2]: print(d['number'])" "$TMP/out" "$TAG")
[[ $num =~ ^[0-9]+$ ]] && ok "over finds the post as $num" || bad "over finds the post"
run 0 "article" nntp "$URL" article "$G" "${num:-1}" &&
  { grep -q "^Subject: $TAG"$'\r'"$" "$TMP/out" && grep -q "^\.a dotted line"$'\r'"$" "$TMP/out" &&
      ok "article holds the post, dot unstuffed" || bad "article holds the post"; }
export NNTP_BAD=wrong-pw-3
run 5 "wrong password" --user "$MAIL_TEST_NNTP_USER" --password-env NNTP_BAD nntp "$URL" groups
run 2 "bad range" nntp "$URL" over "$G" 5-2
run 2 "not an nntp URL" nntp "pop3://$MAIL_TEST_HOSTNAME" groups
run 2 "unknown action" nntp "$URL" fetch
run 6 "no such group" nntp "$URL" over libmail.no.such.group 1-
exit $fail

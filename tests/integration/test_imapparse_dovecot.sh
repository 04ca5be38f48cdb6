#!/bin/sh
# The IMAP parser on what the running Dovecot sends now: a session recorded
# by tests/data/imap/capture.py (a mailbox of its own, deleted at the end)
# goes through examples/imapparse, which must frame it (exit 0) and find
# zero defects. usage: test_imapparse_dovecot.sh IMAPPARSE CAPTURE.PY
set -u
exe=${1:?usage}
capture=${2:?usage}
ENVF=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
if [ ! -r "$ENVF" ]; then
  [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "servers.env missing" >&2; exit 1; }
  exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$capture" "$ENVF" "$TMP/session" || { echo "capture failed"; exit 1; }
"$exe" "$TMP/session" > "$TMP/json" || { echo "imapparse: exit $?"; exit 1; }
if grep -v '"defects":\[\]}$' "$TMP/json"; then
  echo "defects in Dovecot's responses"; exit 1
fi
n=$(grep -c '"kind":"tagged"' "$TMP/json")
[ "$n" -ge 30 ] || { echo "only $n tagged responses"; exit 1; }
grep -q '"kind":"tagged","tag":"c[0-9]*","type":"NO"' "$TMP/json" || { echo "no NO for the missing mailbox"; exit 1; }
echo "ok: $(wc -l < "$TMP/json") responses, $n tagged, no defects"

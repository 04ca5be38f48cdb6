#!/bin/sh
# examples/imapparse: one JSON object per response, exit 0 on a recorded
# Dovecot session (zero defects), 8 on input that cannot be framed.
#   imapparse.sh IMAPPARSE SRCDIR
set -eu
exe=$1
data=$2/tests/data/imap/dovecot-fetch.txt
out=$("$exe" "$data")
lines=$(printf '%s\n' "$out" | wc -l)
responses=$(grep -c -a -E '^(\*|\+|[A-Za-z0-9]+ )' "$data" || true)
[ "$lines" -gt 50 ] || { echo "only $lines lines"; exit 1; }
if printf '%s\n' "$out" | grep -v '"defects":\[\]}$' >/dev/null; then
  echo "defects in the Dovecot session:"; printf '%s\n' "$out" | grep -v '"defects":\[\]}$' | head -3; exit 1
fi
printf '%s\n' "$out" | head -1 | grep -q '^{"kind":"greeting","tag":"\*","type":"OK"' || { echo "no greeting"; exit 1; }
# from stdin as well, the same output
[ "$(cat "$data" | "$exe" -)" = "$out" ] || { echo "stdin differs"; exit 1; }
set +e
printf '* 1 FETCH (BODY[] {18446744073709551616}\r\n' | "$exe" - >/dev/null 2>&1
[ $? -eq 8 ] || { echo "overflow: not 8"; exit 1; }
printf '* 1 FETCH (BODY[] {5}\r\nab' | "$exe" - >/dev/null 2>&1
[ $? -eq 8 ] || { echo "truncated: not 8"; exit 1; }
echo "ok: $lines responses ($responses lines start a response or continue one)"

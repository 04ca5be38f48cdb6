#!/bin/bash
# examples/guide/sync_mailbox.c against the real Dovecot: a mailbox of the
# test's own (made and changed with mailcli) mirrored into a maildir, then
# changed (a new message, a flag, an expunge) and mirrored again: the
# maildir holds exactly the server's messages with their flags. Skips (77)
# without servers unless they are required.
set -u
exe=${1:?usage: test_sync_mailbox.sh SYNC_MAILBOX MAILCLI}
M=${2:?}
envfile="${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}"
if [ ! -r "$envfile" ]; then
  [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "servers.env missing"; exit 1; }
  exit 77
fi
. "$envfile"
TMP=$(mktemp -d)
MB="sync-example-$$-$(date +%s%N)"
IMAPS="imaps://localhost:$MAIL_TEST_IMAPS_PORT"
export PW=$MAIL_TEST_PASS1 MAIL_PASSWORD=$MAIL_TEST_PASS1
AUTH="--user $MAIL_TEST_USER1 --password-env PW --cafile $MAIL_TEST_CA"
trap '"$M" imap "$IMAPS" delete-mailbox "$MB" $AUTH >/dev/null 2>&1; rm -rf "$TMP"' EXIT
fail=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi; }
files() { ls "$TMP/md/new" "$TMP/md/cur" 2>/dev/null | grep -c '^[0-9]'; }

"$M" imap "$IMAPS" create "$MB" $AUTH >/dev/null || exit 1
for i in 1 2 3; do
  printf 'Subject: example %s\r\n\r\nbody %s\r\n' $i $i >"$TMP/m$i"
  "$M" imap "$IMAPS" append "$MB" "$TMP/m$i" $AUTH >/dev/null || exit 1
done
out=$("$exe" "$IMAPS" "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MB" "$TMP/md" 2>&1)
check "first run: three messages downloaded ($out)" '[[ $out == *": 3 new message(s)"* && $(files) == 3 ]]'
"$M" imap "$IMAPS" store "$MB" 1 add flagged $AUTH >/dev/null
"$M" imap "$IMAPS" delete "$MB" 2 $AUTH >/dev/null
"$M" imap "$IMAPS" append "$MB" "$TMP/m1" $AUTH >/dev/null
out=$("$exe" "$IMAPS" "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MB" "$TMP/md" 2>&1)
check "second run: one new, one gone, one flagged ($out)" \
  '[[ $out == *": 1 new message(s)"* && $(files) == 3 && $(ls "$TMP/md/cur" | grep -c ":2,F$") == 1 ]]'
out=$("$exe" "$IMAPS" "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MB" "$TMP/md" 2>&1)
check "third run: nothing to do" '[[ $out == *": 0 new message(s)"* && $(files) == 3 ]]'
exit $fail

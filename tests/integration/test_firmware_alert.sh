#!/bin/sh
# examples/firmware/alert against the real Postfix: an alert sent over the
# program's own socket (a user transport) with every allocation in a static
# arena, then found in bob's maildir by its unique subject; the arena's peak
# must leave the documented margin (peak + 10% within the arena). With
# "tls" (firmware-alert-tls): through the submission port, STARTTLS by
# mbedTLS (the transport's start_tls), verified against the test CA, and
# AUTH as alice. Skips (77) without servers unless they are required.
#
#   test_firmware_alert.sh ALERT_PROGRAM [tls]
set -u
exe="$1"
mode="${2:-plain}"
envfile="${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}"
if [ ! -r "$envfile" ]; then
  [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "servers.env missing"; exit 1; }
  exit 77
fi
. "$envfile"
subject="firmware alert $$ $(date +%s%N)"
if [ "$mode" = tls ]; then
  out=$(ALERT_CA="$MAIL_TEST_CA" ALERT_USER="$MAIL_TEST_USER1" ALERT_PASS="$MAIL_TEST_PASS1" \
        "$exe" 127.0.0.1 "$MAIL_TEST_SUBMISSION_PORT" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR2" "$subject")
else
  out=$("$exe" 127.0.0.1 "$MAIL_TEST_SMTP_PORT" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR2" "$subject")
fi
[ $? -eq 0 ] || {
  echo "alert failed: $out"; exit 1; }
echo "$out"
peak=$(echo "$out" | sed -n 's/.*arena peak \([0-9]*\) of \([0-9]*\) bytes.*/\1/p')
size=$(echo "$out" | sed -n 's/.*arena peak \([0-9]*\) of \([0-9]*\) bytes.*/\2/p')
[ -n "$peak" ] && [ $((peak * 11 / 10)) -le "$size" ] || { echo "peak $peak leaves no 10% margin in $size"; exit 1; }
[ "$peak" -le 32768 ] || { echo "peak $peak over the 32 KiB target"; exit 1; }
# Postfix hands it to Dovecot's LMTP: wait for the file (bounded). Other
# sessions rename the files of bob's maildir at any time (an IMAP SELECT
# moves them from new/ to cur/, POP3 RETR and STORE change the flags in
# the name, and a flag set and cleared gives the old name back): the file
# is first taken out of the server's sight, renamed into the maildir's own
# tmp/, and only then read. A rename that came first means another look.
taken="$MAIL_TEST_MAILDIR2/tmp/alert-taken.$$"
trap 'rm -f "$taken"' EXIT
i=0
while [ $i -lt 300 ]; do
  f=$(grep -rlF "Subject: $subject" "$MAIL_TEST_MAILDIR2/new" "$MAIL_TEST_MAILDIR2/cur" 2>/dev/null | head -n 1)
  if [ -n "$f" ] && mv -- "$f" "$taken" 2>/dev/null; then
    grep -q "sensor 00: 20.0 C" "$taken" || { echo "delivered without its body"; exit 1; }
    exit 0
  fi
  i=$((i + 1))
  [ -n "$f" ] || sleep 0.1
done
echo "the alert never reached $MAIL_TEST_MAILDIR2"
exit 1

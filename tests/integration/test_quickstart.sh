#!/bin/sh
# The README's quick start against the real submission port: the message
# must be accepted for bob. Skips (77) without servers unless they are
# required.
set -u
exe="$1"
envfile="${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}"
if [ ! -r "$envfile" ]; then
  [ "${MAIL_TEST_REQUIRE_SERVERS:-0}" = 1 ] && { echo "servers.env missing"; exit 1; }
  exit 77
fi
. "$envfile"
out=$(MAIL_PASSWORD="$MAIL_TEST_PASS1" "$exe" "submission://127.0.0.1:$MAIL_TEST_SUBMISSION_PORT" \
      "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MAIL_TEST_USER1@libmail.test" "$MAIL_TEST_USER2@libmail.test") || {
  echo "quickstart failed: $out"; exit 1; }
echo "$out"
case "$out" in
  "$MAIL_TEST_USER2@libmail.test: 250 "*) exit 0 ;;
  *) echo "unexpected result"; exit 1 ;;
esac

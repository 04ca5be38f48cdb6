#!/bin/sh
# Bytes on the wire with and without COMPRESS=DEFLATE for FETCHes of COUNT
# messages from the Dovecot of tests/servers (bench/README.md): a mailbox of
# its own is created, filled straight into the maildir (fill.py), fetched
# by bench_compress, and deleted.
#
# usage: run.sh [ROUNDS=3] [COUNT=10000]   (with tests/servers/servers.sh started;
#        MAIL_TEST_SERVERS_ENV names its servers.env if not the default)
set -eu
ROUNDS=${1:-3}
COUNT=${2:-10000}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="@SOURCE_ROOT@"
ENVF=${MAIL_TEST_SERVERS_ENV:-/tmp/libmail-servers/servers.env}
. "$ENVF"
BOX="bench-compress-$$"
MAILCLI="$HERE/../../tools/mailcli/mailcli"
export PW="$MAIL_TEST_PASS1" MAIL_PASSWORD="$MAIL_TEST_PASS1"
AUTH="--user $MAIL_TEST_USER1 --password-env PW --cafile $MAIL_TEST_CA"
URL="imaps://localhost:$MAIL_TEST_IMAPS_PORT"
"$MAILCLI" imap "$URL" create "$BOX" $AUTH >/dev/null
trap '"$MAILCLI" imap "$URL" delete-mailbox "$BOX" $AUTH >/dev/null 2>&1 || true' EXIT
python3 "$SRC/bench/imap_compress/fill.py" "$MAIL_TEST_MAILDIR1/.$BOX" "$COUNT"
"$HERE/bench_compress" localhost "$MAIL_TEST_IMAPS_PORT" "$MAIL_TEST_CA" "$MAIL_TEST_USER1" \
  "$BOX" "$ROUNDS"

#!/bin/bash
# mailcli end to end: every subcommand against the real servers (Postfix
# submission/SMTPS/LMTP, Dovecot POP3/POP3S) and, for what they cannot show,
# the scripted servers of badserver.py. Asserts content (the Subject read
# back, the attachment's sha256 equal to sha256sum of the file sent), each
# exit code by a real condition, --json parsed back, --trace without a
# password, the progress bar through a pty and its absence without one.
#
# The mailboxes are shared with other test programs running at once: every
# message here carries a unique tag, is found by it (UIDL + TOP), handled by
# its UID, and deleted by its UID at the end. Nothing is assumed about
# other messages.
#
# usage: test_mailcli.sh PATH-TO-MAILCLI   (skips with 77 without servers)
set -u
M=${1:?usage: test_mailcli.sh MAILCLI}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
. "$HERE/cli_lib.sh"
load_servers_env
TMP=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
TAG="mailcli-$$-$(date +%s%N)"
# pyjson 'python expression over d (or lines)' FILE: --json output parsed back.
pyjson() {
  "$PY" -c "import json,sys
text = open(sys.argv[1], encoding='utf-8').read()
lines = [json.loads(l) for l in text.splitlines() if l.strip()] if not text.lstrip().startswith('{\n') else []
d = json.loads(text) if text.lstrip().startswith('{\n') else (lines[0] if len(lines) == 1 else None)
sys.exit(0 if ($1) else 1)" "$2"
}
no_secret() { ! grep -aqF -e "$MAIL_TEST_PASS1" -e "$MAIL_TEST_PASS2" -e "$MAIL_TEST_PASS3" "$@"; }

CA="--cafile $MAIL_TEST_CA"
SUB="submission://localhost:$MAIL_TEST_SUBMISSION_PORT"
POP="pop3://localhost:$MAIL_TEST_POP3_PORT"
POPS="pop3s://localhost:$MAIL_TEST_POP3S_PORT"
export PW_A=$MAIL_TEST_PASS1 PW_B=$MAIL_TEST_PASS2
printf '%s\n' "$MAIL_TEST_PASS3" >"$TMP/cedric.pw"
A_AUTH="--user $MAIL_TEST_USER1 --password-env PW_A $CA"
B_AUTH="--user $MAIL_TEST_USER2 --password-env PW_B $CA"
C_AUTH="--user $MAIL_TEST_USER3 --password-file $TMP/cedric.pw $CA"

# Messages already looked at, per mailbox, that are not this run's. Seeded with what the
# mailbox holds before the first send, so a search only reads (TOP) the
# messages that arrived since, once each, however busy the mailbox is.
# snapshot NAME AUTH...
snapshot() {
  local name=$1
  shift
  "$M" pop3 "$POP" uidl "$@" 2>/dev/null | cut -d' ' -f2 >"$TMP/known.$name"
}
# find_uid NAME SUBJECT AUTH...: the UIDL of the message with that Subject,
# waiting up to 30 s for its delivery.
find_uid() {
  local name=$1 subject=$2 i uid got
  shift 2
  for ((i = 0; i < 60; i++)); do
    "$M" pop3 "$POP" uidl "$@" 2>/dev/null | cut -d' ' -f2 | tac >"$TMP/uidl.$name"
    while read -r uid; do
      grep -qxF "$uid" "$TMP/known.$name" && continue
      got=$("$M" pop3 "$POP" top --uid "$uid" 0 "$@" 2>/dev/null | tr -d '\r' | grep -m1 '^Subject: ')
      if [[ $got == "Subject: $subject" ]]; then
        echo "$uid"
        return 0
      fi
      # Another of this run's messages may still be looked for; others never.
      [[ $got == *"$TAG"* ]] || echo "$uid" >>"$TMP/known.$name"
    done <"$TMP/uidl.$name"
    sleep 0.5
  done
  return 1
}

# ------------------------------------------------------------ usage
run 0 "--help" --help
expect "--help documents the exit codes" grep -q "9 bad local input" "$TMP/out"
expect "--help lists no NNTP command" bash -c "! grep -Eiq '(^|[^a-z])nntp' '$TMP/out'"
run 2 "no command"
run 2 "unknown command" frobnicate
run 2 "pop3: unknown action" pop3 "$POP" frobnicate $B_AUTH
run 2 "--tls implicit on a pop3:// URL" pop3 "$POP" stat --tls implicit $B_AUTH
run 2 "--mech with an unknown mechanism" send "$SUB" --mech NOPE $A_AUTH --from a@b.example --to c@d.example
run 2 "--timeout not a number" --timeout soon caps "$SUB"
run 9 "send: an attachment that does not exist" send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --attach "$TMP/nonexistent"
run 9 "mime parse: a file that does not exist" mime parse "$TMP/nonexistent"
run 9 "--password-env naming an unset variable" pop3 "$POP" stat --user bob --password-env MAILCLI_UNSET_VARIABLE $CA

# ------------------------------------------------------------ caps
if run 0 "caps over submission (STARTTLS)" caps "$SUB" $CA; then
  expect "caps: STARTTLS before TLS" grep -qx "  STARTTLS" "$TMP/out"
  expect "caps: AUTH after a verified TLS handshake" \
    bash -c "sed -n '/^after TLS (TLSv1.*certificate verified)/,\$p' '$TMP/out' | grep -q '^  AUTH '"
fi
if run 0 "caps --json over submission, the option after the command" caps "$SUB" --json $CA; then
  expect "caps --json parsed back" pyjson "'STARTTLS' in [c['keyword'] for c in d['before_tls']] and d['tls']['verified'] is True and 'AUTH' in [c['keyword'] for c in d['after_tls']] and 'STARTTLS' not in [c['keyword'] for c in d['after_tls']]" "$TMP/out"
fi
if run 0 "caps --json over POP3S (implicit TLS)" --json caps "$POPS" $CA; then
  expect "caps POP3S: no list before TLS, UIDL after" pyjson "'before_tls' not in d and 'UIDL' in [c['keyword'] for c in d['after_tls']] and d['tls']['verified'] is True" "$TMP/out"
fi
run 0 "caps over POP3 (STLS)" caps "$POP" $CA && expect "caps POP3: STLS before TLS" grep -qx "  STLS" "$TMP/out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/other.key" \
  -out "$TMP/other.pem" -days 2 -subj "/CN=another CA" >/dev/null 2>&1
run 4 "caps with the wrong CA (SMTPS)" caps "smtps://localhost:$MAIL_TEST_SMTPS_PORT" --cafile "$TMP/other.pem" &&
  expect "the wrong CA: the verification error is printed" grep -qi "verif" "$TMP/err"
run 4 "pop3 with the wrong CA (STLS)" pop3 "$POP" stat --user bob --password-env PW_B --cafile "$TMP/other.pem"
run 3 "caps: unreachable port" caps "pop3://127.0.0.1:1" $CA
run 8 "--max-response: an EHLO reply longer than the bound (Postfix)" caps "$SUB" --max-response 64 $CA

# ------------------------------------------------------------ send, read back through POP3
snapshot bob $B_AUTH
snapshot cedric $C_AUTH
head -c 300000 /dev/urandom >"$TMP/att.bin"
printf 'hello from %s\n' "$TAG" >"$TMP/text.txt"
want_sha=$(sha256sum "$TMP/att.bin" | cut -d' ' -f1)
if run 0 "send with an attachment, --json, --trace" --json --trace send "$SUB" $A_AUTH \
     --from "Alice <$MAIL_TEST_ADDR1>" --to "$MAIL_TEST_ADDR2" --subject "$TAG send" \
     --text "$TMP/text.txt" --attach "$TMP/att.bin" --header "X-Mailcli-Test: $TAG"; then
  expect "send --json: one object per recipient, accepted" pyjson "len(lines) == 1 and lines[0]['recipient'] == '$MAIL_TEST_ADDR2' and lines[0]['status'] == 'ok' and lines[0]['code'] == 250 and lines[0]['enhanced'] == '2.0.0'" "$TMP/out"
  expect "send --trace: no password" no_secret "$TMP/err"
  expect "send --trace: AUTH redacted" grep -q '^C: AUTH SCRAM-SHA-256 \[redacted\]' "$TMP/err"
  expect "send --trace: only whole C:/S:/* lines" bash -c "! grep -avE '^(C: |S: |\\* )' '$TMP/err'"
  # 300,000 bytes of base64 are 76-character lines: a line cut where a write
  # chunk ended would show up as a short one before the last.
  expect "send --trace: the body's base64 lines are whole" \
    bash -c "test \$(grep -aE '^C: [A-Za-z0-9+/]{1,75}=*\$' '$TMP/err' | grep -avxE 'C: ([A-Za-z0-9+/]{76}|STARTTLS|DATA|QUIT|RSET|NOOP)' | wc -l) -le 1"
  expect "send --trace: QUIT at the end" bash -c "grep -a '^C: ' '$TMP/err' | tail -n 1 | grep -qx 'C: QUIT'"
fi
if uid=$(find_uid bob "$TAG send" $B_AUTH); then
  ok "the message arrived in bob's mailbox (UID $uid)"
  run 0 "pop3 retr --uid" pop3 "$POP" retr --uid "$uid" $B_AUTH && cp "$TMP/out" "$TMP/msg.eml"
  expect "retr: the Subject read back" bash -c "tr -d '\\r' <'$TMP/msg.eml' | grep -qxF 'Subject: $TAG send'"
  if run 0 "mime parse --json of the message read back" --json mime parse "$TMP/msg.eml"; then
    expect "mime parse --json: subject, from, to and the attachment's sha256" pyjson "d['subject'] == '$TAG send' and d['from'] == [{'name': 'Alice', 'address': '$MAIL_TEST_ADDR1'}] and d['to'][0]['address'] == '$MAIL_TEST_ADDR2' and [p['sha256'] for p in d['parts'] if p['filename'] == 'att.bin'] == ['$want_sha'] and [p['size'] for p in d['parts'] if p['filename'] == 'att.bin'] == [300000] and d['parts'][0]['content_type'] == 'text/plain' and d['parts'][1]['path'] == '2' and d['parts'][1]['encoding'] == 'base64' and d['parts'][1]['disposition'] == 'attachment'" "$TMP/out"
  fi
  run 0 "mime parse (text)" mime parse "$TMP/msg.eml" &&
    expect "mime parse: the tree" grep -qE '^  2 application/octet-stream disposition=attachment filename="att.bin" encoding=base64 size=300000$' "$TMP/out"
  run 0 "mime extract" mime extract "$TMP/msg.eml" "$TMP/x" &&
    expect "mime extract: the attachment byte for byte, its sha256 printed" bash -c "cmp -s '$TMP/x/att.bin' '$TMP/att.bin' && grep -q '$want_sha' '$TMP/out'"
  run 0 "mime extract again: nothing overwritten" mime extract - "$TMP/x" <"$TMP/msg.eml" &&
    expect "mime extract: att-1.bin next to att.bin" cmp -s "$TMP/x/att-1.bin" "$TMP/att.bin"
  run 0 "pop3 dele --uid" pop3 "$POP" dele --uid "$uid" $B_AUTH
  run 0 "pop3 uidl after the deletion" pop3 "$POP" uidl $B_AUTH &&
    expect "the deleted message is gone" bash -c "! grep -q ' $uid\$' '$TMP/out'"
else
  bad "the message sent did not arrive in bob's mailbox"
fi

# ------------------------------------------------------------ POP3 listings and errors
run 0 "pop3 stat --json (options after the action)" pop3 "$POP" stat --json $B_AUTH &&
  expect "stat --json parsed back" pyjson "isinstance(d['count'], int) and isinstance(d['size'], int)" "$TMP/out"
run 0 "pop3 list --json" --json pop3 "$POP" list $B_AUTH &&
  expect "list --json: one object per message" pyjson "all(set(l) == {'msg', 'size'} for l in lines)" "$TMP/out"
run 0 "pop3 uidl --json over POP3S" --json pop3 "$POPS" uidl $B_AUTH &&
  expect "uidl --json: one object per message" pyjson "all(set(l) == {'msg', 'uid'} for l in lines)" "$TMP/out"
run 0 "pop3 --trace stat" --trace pop3 "$POP" stat $B_AUTH &&
  expect "pop3 --trace: STLS, AUTH redacted, no password" bash -c "grep -qx 'C: STLS' '$TMP/err' && grep -qE '^C: AUTH ([A-Z0-9-]+ )?\[redacted\]' '$TMP/err' && grep -q '^\* authenticated with SCRAM-SHA-256' '$TMP/err' && ! grep -qF '$MAIL_TEST_PASS2' '$TMP/err'"
run 0 "pop3 with --password-file (a non-ASCII password)" pop3 "$POP" stat $C_AUTH
run 0 "pop3 with the user in the URL" pop3 "pop3://$MAIL_TEST_USER2@localhost:$MAIL_TEST_POP3_PORT" stat --password-env PW_B $CA
PW_B=wrong-password run 5 "pop3: wrong password" pop3 "$POP" stat $B_AUTH &&
  expect "wrong password: the server's -ERR on stderr, no password" bash -c "grep -q '^mailcli: login: -ERR' '$TMP/err' && ! grep -q wrong-password '$TMP/err'"
run 6 "pop3 retr of a message that does not exist" pop3 "$POP" retr 4000000000 $B_AUTH &&
  expect "retr: the server's refusal printed" grep -q '^mailcli: RETR 4000000000: -ERR' "$TMP/err"
run 6 "pop3 dele --uid of an unknown UID" pop3 "$POP" dele --uid "no-such-uid-$TAG" $B_AUTH
run 3 "pop3: unreachable port" pop3 "pop3://127.0.0.1:1" stat $B_AUTH

# ------------------------------------------------------------ pop3 fetch (leave on server)
MD=$TMP/maildir
if run 0 "send to cedric for fetch" send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR3" --subject "$TAG fetch" --text "$TMP/text.txt" &&
   cuid=$(find_uid cedric "$TAG fetch" $C_AUTH); then
  # Another program may take one of its own messages out of cedric's
  # mailbox during the cycle: the server then refuses that RETR, which
  # is exit 6 ("tried again next time"), never a failure of ours.
  "$M" pop3 "$POP" fetch "$MD" --keep 36500 $C_AUTH >"$TMP/out" 2>"$TMP/err"
  got=$?
  if [[ $got == 0 || ($got == 6 && $(grep -c "refused some messages" "$TMP/err") == 1) ]]; then
    ok "pop3 fetch (exit $got)"
  else
    bad "pop3 fetch: exit $got"
  fi
  expect "fetch: our message in new/, LF line ends" bash -c "grep -lxF 'Subject: $TAG fetch' '$MD'/new/* | wc -l | grep -qx 1 && ! grep -lq \$'\\r' \$(grep -lxF 'Subject: $TAG fetch' '$MD'/new/*)"
  expect "fetch: tmp/ is empty" bash -c "test -z \"\$(ls -A '$MD/tmp')\""
  expect "fetch: its UID in the state file" grep -q "^$cuid	" "$MD/libmail-map"
  run 0 "pop3 fetch --json a second time" --json pop3 "$POP" fetch "$MD" --keep 36500 $C_AUTH &&
    expect "second fetch: our message not fetched again, summary parsed back" pyjson "lines[-1]['maildir'] == '$MD' and isinstance(lines[-1]['new'], int) and lines[-1]['deleted'] == 0 and '$cuid' not in [l.get('uid') for l in lines]" "$TMP/out"
  expect "fetch: still one copy" bash -c "grep -lxF 'Subject: $TAG fetch' '$MD'/new/* | wc -l | grep -qx 1"
  run 0 "pop3 dele --uid (cedric)" pop3 "$POP" dele --uid "$cuid" $C_AUTH
else
  bad "the message for cedric did not arrive"
fi

# ------------------------------------------------------------ scripted servers
start_server auth530 "$TMP/log530"
run 5 "530 at MAIL FROM (pipelined): authentication" send "smtp://127.0.0.1:$PORT" --tls none --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" &&
  expect "530: the error names MAIL FROM" grep -qxF "mailcli: send: MAIL FROM:<$MAIL_TEST_ADDR1>: 530 5.7.0 Authentication required" "$TMP/err"
stop_server
expect "530: QUIT sent" grep -qx QUIT "$TMP/log530"
start_server auth530-nopipe
run 5 "530 at MAIL FROM (no pipelining)" send "smtp://127.0.0.1:$PORT" --tls none --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" &&
  expect "530 without pipelining: the error names MAIL FROM" grep -qxF "mailcli: send: MAIL FROM:<$MAIL_TEST_ADDR1>: 530 5.7.0 Authentication required" "$TMP/err"
stop_server
PW_A=wrong run 5 "535: wrong password over submission" --trace send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" &&
  expect "535: QUIT after the refusal" bash -c "sed -n '/^S: 535/,\$p' '$TMP/err' | grep -qx 'C: QUIT'"
start_server nostarttls
run 4 "STARTTLS required, not offered" send "smtp://127.0.0.1:$PORT" --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2"
stop_server
start_server longline
run 8 "--max-line: a longer line from the server" caps "smtp://127.0.0.1:$PORT" --tls none --max-line 1024
stop_server
export ORACLE_TOKEN="tok-$TAG" TOK="tok-$TAG"
start_server oauth "$TMP/logoauth"
run 0 "--oauth-token-env (OAUTHBEARER over SMTPS)" --trace send "smtps://localhost:$PORT" $CA --user "$MAIL_TEST_USER1" --oauth-token-env TOK --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" &&
  expect "oauth: token redacted in the trace" bash -c "grep -q '^C: AUTH OAUTHBEARER \[redacted\]' '$TMP/err' && ! grep -qF 'tok-$TAG' '$TMP/err'"
stop_server
start_server oauth
TOK=stale-token run 5 "--oauth-token-env with a token the server refuses" send "smtps://localhost:$PORT" $CA --user "$MAIL_TEST_USER1" --oauth-token-env TOK --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2"
stop_server
POP_SCRIPTED="--tls none --insecure --user someone --password-env PW_B"
declare -A how=([pop3-cut]="closes the connection" [pop3-stall]="stops sending"
                [pop3-garbage]="breaks the protocol")
for mode in pop3-cut pop3-stall pop3-garbage; do
  want=3; [[ $mode == pop3-garbage ]] && want=8
  start_server $mode
  run $want "fetch from a server that ${how[$mode]} in a RETR" pop3 "pop3://127.0.0.1:$PORT" fetch "$TMP/md-$mode" --timeout 1 $POP_SCRIPTED
  if [[ $mode == pop3-cut ]]; then
    expect "$mode: no partial file in tmp/, message 1 in new/ and in the state file" bash -c "test -z \"\$(find '$TMP/md-$mode/tmp' -type f)\" && test \$(find '$TMP/md-$mode/new' -type f | wc -l) = 1 && grep -q 'Subject: scripted 1' '$TMP/md-$mode'/new/* && sed 1d '$TMP/md-$mode/libmail-map' | cut -f1 | grep -qx scripted-uid-1 && test \$(wc -l <'$TMP/md-$mode/libmail-map') = 2"
  else
    expect "$mode: no partial file in tmp/, nothing in new/, no state" bash -c "test -d '$TMP/md-$mode/tmp' && test -z \"\$(find '$TMP/md-$mode/tmp' '$TMP/md-$mode/new' -type f)\" && test ! -e '$TMP/md-$mode/libmail-map'"
  fi
  stop_server
done
# Message numbers, on a mailbox nobody else changes.
start_server pop3-ok "$TMP/logpop"
SCRIPTED="pop3://127.0.0.1:$PORT"
run 5 "USER/PASS without TLS refused unless --insecure" pop3 "$SCRIPTED" stat --tls none --user someone --password-env PW_B
run 0 "pop3 stat (scripted)" pop3 "$SCRIPTED" stat $POP_SCRIPTED && expect "stat: 2 messages" grep -q "^2 messages, [0-9]* bytes\$" "$TMP/out"
run 0 "pop3 list (scripted)" pop3 "$SCRIPTED" list $POP_SCRIPTED && expect "list: 2 lines" bash -c "wc -l <'$TMP/out' | grep -qx 2"
run 0 "pop3 retr 2 (by number)" pop3 "$SCRIPTED" retr 2 $POP_SCRIPTED &&
  expect "retr 2: message 2 on stdout, as sent" bash -c "grep -qx \$'Subject: scripted 2\r' '$TMP/out' && test \$(grep -c 'line of body text' '$TMP/out') = 200"
run 0 "pop3 top 1 0" pop3 "$SCRIPTED" top 1 0 $POP_SCRIPTED &&
  expect "top 1 0: the headers" bash -c "grep -qx \$'Subject: scripted 1\r' '$TMP/out'"
: >"$TMP/logpop"
run 0 "pop3 dele 1" pop3 "$SCRIPTED" dele 1 $POP_SCRIPTED &&
  expect "dele 1: DELE then QUIT, reported after the commit" bash -c "grep -qx 'message 1 deleted' '$TMP/out' && grep -A1 -x 'DELE 1' '$TMP/logpop' | grep -qx QUIT"
# A maildir that cannot be written (a full or read-only disk): exit 9, the
# cycle stops, nothing is deleted. Root writes anywhere, so as nobody.
if [[ $(id -u) -eq 0 ]] && setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$M"; then
  chmod 711 "$TMP"
  mkdir -p "$TMP/md-ro/tmp" "$TMP/md-ro/new" "$TMP/md-ro/cur"
  chmod 555 "$TMP/md-ro/tmp"
  : >"$TMP/logpop"
  setpriv --reuid=nobody --regid=nogroup --clear-groups "$M" pop3 "$SCRIPTED" fetch "$TMP/md-ro" --keep 0 $POP_SCRIPTED >"$TMP/out" 2>"$TMP/err"
  got=$?
  if [[ $got == 9 ]] && grep -q "writing into $TMP/md-ro failed: create $TMP/md-ro/tmp/[^:]*: Permission denied" "$TMP/err" && ! grep -q '^DELE' "$TMP/logpop"; then
    ok "fetch into a maildir that cannot be written: exit 9, nothing deleted"
  else
    bad "fetch into a maildir that cannot be written: exit $got"
  fi
fi
# The state file of mailcli before the maildir store: read once, then
# replaced by the store's key map.
mkdir -p "$TMP/md-legacy/new" "$TMP/md-legacy/cur" "$TMP/md-legacy/tmp"
echo "scripted-uid-1 1700000000" >"$TMP/md-legacy/.mailcli-uidl"
run 0 "fetch with the state file of before the store" pop3 "$SCRIPTED" fetch "$TMP/md-legacy" $POP_SCRIPTED &&
  expect "the old state read once: message 1 known, message 2 fetched, the old file gone" bash -c "test \$(ls '$TMP/md-legacy/new' | wc -l) = 1 && grep -q 'Subject: scripted 2' '$TMP/md-legacy'/new/* && test ! -e '$TMP/md-legacy/.mailcli-uidl' && grep -q \$'^scripted-uid-1\tunknown\t1700000000\$' '$TMP/md-legacy/libmail-map'"
: >"$TMP/logpop"
run 0 "fetch --keep 0 (scripted server)" pop3 "$SCRIPTED" fetch "$TMP/md-ok" --keep 0 $POP_SCRIPTED
stop_server
expect "--keep 0: both messages fetched and deleted, QUIT" bash -c "ls '$TMP/md-ok/new' | wc -l | grep -qx 2 && grep -qx 'DELE 1' '$TMP/logpop' && grep -qx 'DELE 2' '$TMP/logpop' && tail -n 1 '$TMP/logpop' | grep -qx QUIT"
start_server pop3-manyuids
run 0 "pop3 uidl: 100 lines within the default limits" pop3 "pop3://127.0.0.1:$PORT" uidl $POP_SCRIPTED &&
  expect "uidl: 100 lines" bash -c "wc -l <'$TMP/out' | grep -qx 100"
# A listing that grows with the mailbox is bounded by max_items, not by
# --max-response (issue 11): the same 100 lines pass under a 512-byte bound.
run 0 "--max-response does not cut a UIDL listing" pop3 "pop3://127.0.0.1:$PORT" uidl --max-response 512 $POP_SCRIPTED
stop_server
# A signal in the middle of a message: the partial file goes too.
start_server pop3-stall
"$M" pop3 "pop3://127.0.0.1:$PORT" fetch "$TMP/md-signal" $POP_SCRIPTED >"$TMP/out" 2>"$TMP/err" &
fetch_pid=$!
for ((i = 0; i < 200; i++)); do
  [[ -n $(find "$TMP/md-signal/tmp" -type f 2>/dev/null) ]] && break
  sleep 0.05
done
partial=$(find "$TMP/md-signal/tmp" -type f | wc -l)
kill -TERM "$fetch_pid"
wait "$fetch_pid"
got=$?
expect "SIGTERM during a RETR: the partial file was there, then removed (exit $got)" \
  bash -c "test '$partial' = 1 && test '$got' = 143 && test -z \"\$(find '$TMP/md-signal/tmp' '$TMP/md-signal/new' -type f)\""
stop_server
start_server nostarttls "$TMP/logopp"
run 0 "--tls starttls-opportunistic without STARTTLS: cleartext" send "smtp://127.0.0.1:$PORT" --tls starttls-opportunistic --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2"
stop_server
expect "opportunistic: the message went" grep -q "^MAIL FROM:<$MAIL_TEST_ADDR1>" "$TMP/logopp"

# ------------------------------------------------------------ DSN
if run 0 "send --dsn" --trace send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --subject "$TAG dsn" --dsn "failure,delay,ret=hdrs,envid=$TAG"; then
  expect "--dsn: RET, ENVID and NOTIFY on the wire" bash -c "grep -q '^C: MAIL FROM:<$MAIL_TEST_ADDR1> .*RET=HDRS ENVID=$TAG' '$TMP/err' && grep -q '^C: RCPT TO:<$MAIL_TEST_ADDR2> NOTIFY=FAILURE,DELAY' '$TMP/err'"
  if duid=$(find_uid bob "$TAG dsn" $B_AUTH); then
    run 0 "pop3 dele --uid (the DSN test message)" pop3 "$POP" dele --uid "$duid" $B_AUTH
  else
    bad "the DSN test message did not arrive"
  fi
fi
run 0 "--mech PLAIN over submission" --trace send "$SUB" $A_AUTH --mech PLAIN --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --subject "$TAG mech" &&
  expect "--mech PLAIN: AUTH PLAIN redacted" bash -c "grep -qx 'C: AUTH PLAIN \[redacted\]' '$TMP/err' && grep -qx '\* authenticated with PLAIN' '$TMP/err' && ! grep -qF '$MAIL_TEST_PASS1' '$TMP/err'"
if muid=$(find_uid bob "$TAG mech" $B_AUTH); then
  run 0 "pop3 --mech CRAM-MD5" --trace pop3 "$POP" dele --uid "$muid" --mech CRAM-MD5 $B_AUTH &&
    expect "pop3 --mech CRAM-MD5 used" grep -qx '\* authenticated with CRAM-MD5' "$TMP/err"
else
  bad "the --mech test message did not arrive"
fi
run 2 "--dsn with an unknown item" send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --dsn sometimes

# ------------------------------------------------------------ mime build, --raw from stdin
if run 0 "mime build" mime build --from "$MAIL_TEST_ADDR1" --to "Bob <$MAIL_TEST_ADDR2>" --subject "$TAG build" \
     --text "$TMP/text.txt" --attach "$TMP/att.bin" --header "X-Mailcli-Test: $TAG"; then
  cp "$TMP/out" "$TMP/built.eml"
  expect "mime build: the header written" bash -c "tr -d '\\r' <'$TMP/built.eml' | grep -qxF 'X-Mailcli-Test: $TAG'"
  "$M" --json mime parse - <"$TMP/built.eml" >"$TMP/out" 2>"$TMP/err"
  expect "mime build | mime parse --json -: subject and sha256" pyjson "d['subject'] == '$TAG build' and d['to'] == [{'name': 'Bob', 'address': '$MAIL_TEST_ADDR2'}] and [p['sha256'] for p in d['parts'] if p['filename'] == 'att.bin'] == ['$want_sha']" "$TMP/out"
fi
printf '<p>hello</p>\n' >"$TMP/body.html"
if run 0 "mime build with --html, --cc and --bcc" mime build --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" \
     --cc "$MAIL_TEST_ADDR3" --bcc "hidden@libmail.test" --text "$TMP/text.txt" --html "$TMP/body.html"; then
  cp "$TMP/out" "$TMP/alt.eml"
  expect "--cc written, --bcc not" bash -c "tr -d '\r' <'$TMP/alt.eml' | grep -qx 'Cc: $MAIL_TEST_ADDR3' && ! grep -qi 'hidden@' '$TMP/alt.eml'"
  "$M" --json mime parse "$TMP/alt.eml" >"$TMP/out" 2>"$TMP/err"
  expect "--html: text and HTML alternatives" pyjson "[p['content_type'] for p in d['parts']] == ['text/plain', 'text/html']" "$TMP/out"
fi
# Attachment names that try to leave the directory or hide in it.
printf 'From: a@b.example\r\nSubject: names\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Disposition: attachment; filename="../../evil.txt"\r\n\r\nevil\r\n--b\r\nContent-Disposition: attachment; filename=".hidden"\r\n\r\nh\r\n--b\r\nContent-Disposition: attachment\r\n\r\nnameless\r\n--b--\r\n' >"$TMP/names.eml"
mkdir -p "$TMP/names/inner"
run 0 "mime extract: hostile file names" mime extract "$TMP/names.eml" "$TMP/names/inner" &&
  expect "hostile names: three files inside DIR, none hidden, nothing outside" bash -c "test \$(find '$TMP/names' -type f | wc -l) = 3 && test \$(find '$TMP/names/inner' -maxdepth 1 -type f ! -name '.*' | wc -l) = 3 && test ! -e '$TMP/evil.txt'"
printf 'From: %s\r\nTo: %s\r\nSubject: %s raw\r\n\r\nraw body\r\n' "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR2" "$TAG" |
  "$M" send "lmtp://$MAIL_TEST_LMTP_SOCKET" --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --raw - >"$TMP/out" 2>"$TMP/err"
got=$?
if [[ $got == 0 ]] && grep -q "^$MAIL_TEST_ADDR2: OK 250" "$TMP/out"; then ok "send --raw - over LMTP"; else bad "send --raw - over LMTP: exit $got"; fi
if ruid=$(find_uid bob "$TAG raw" $B_AUTH); then
  run 0 "pop3 dele --uid (the raw message)" pop3 "$POP" dele --uid "$ruid" $B_AUTH
else
  bad "the raw message did not arrive"
fi

# ------------------------------------------------------------ progress bar
head -c 2500000 /dev/urandom >"$TMP/big.bin"
"$PY" "$HERE/pty_run.py" "$TMP/err" "$TMP/out" -- "$M" send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" \
  --to "$MAIL_TEST_ADDR2" --subject "$TAG big" --attach "$TMP/big.bin"
got=$?
if [[ $got == 0 ]] && grep -aqE "sending [0-9.]+ MB / [0-9.]+ MB 100%  [0-9.]+ [KM]B/s  ETA [0-9]+:[0-9]{2}" "$TMP/err"; then
  ok "send: progress bar on a terminal"
else
  bad "send: no progress bar on a terminal (exit $got)"
fi
run 0 "send without a terminal" send "$SUB" $A_AUTH --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --subject "$TAG big2" --attach "$TMP/big.bin" &&
  expect "no progress bar into a file" bash -c "! grep -aq ETA '$TMP/err'"
for s in big big2; do
  if buid=$(find_uid bob "$TAG $s" $B_AUTH); then
    if [[ $s == big ]]; then
      "$PY" "$HERE/pty_run.py" "$TMP/err" "$TMP/out" -- "$M" pop3 "$POP" retr --uid "$buid" $B_AUTH
      got=$?
      if [[ $got == 0 ]] && grep -aq "receiving .* MB / .* MB 100%" "$TMP/err" && tr -d '\r' <"$TMP/out" | grep -qxF "Subject: $TAG big"; then
        ok "retr: progress bar on a terminal, the message on stdout"
      else
        bad "retr: no progress bar on a terminal (exit $got)"
      fi
    fi
    run 0 "pop3 dele --uid ($s)" pop3 "$POP" dele --uid "$buid" $B_AUTH
  else
    bad "the $s message did not arrive"
  fi
done

exit $fail

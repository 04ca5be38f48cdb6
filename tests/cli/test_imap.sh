#!/bin/bash
# mailcli imap end to end against the real Dovecot (IMAP with STARTTLS and
# IMAPS), in mailboxes this run creates under unique names (and deletes at
# the end): append, list, status, select, search, fetch (envelope, body
# structure, raw, a part decoded, partial; the attachment's sha256 equal to
# sha256sum of the file sent), store, copy, move, delete, rename, idle, sync
# (a state file: new, flags, vanished, each strategy; a maildir mirror)
# (events, SIGINT, --timeout), --json parsed back, --trace without a
# password, the progress bar through a pty; and the exit codes of the
# error paths: a wrong password, a missing mailbox, the wrong CA, an
# unreachable port, and (scripted servers, badserver.py) STARTTLS not
# offered or refused, a PREAUTH greeting over plaintext, a server breaking
# the protocol. Also `imap parse`.
#
# usage: test_imap.sh PATH-TO-MAILCLI   (skips with 77 without servers)
set -u
M=${1:?usage: test_imap.sh MAILCLI}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
. "$HERE/cli_lib.sh"
load_servers_env
"$M" --help | grep -q '^  imap URL' || { echo "mailcli built without IMAP"; exit 77; }
TMP=$(mktemp -d)
server_pid= idle_pid=
MB="mailcli-imap-$$-$(date +%s%N)"
IMAP="imap://localhost:$MAIL_TEST_IMAP_PORT"
IMAPS="imaps://localhost:$MAIL_TEST_IMAPS_PORT"
export PW_A=$MAIL_TEST_PASS1
CA="--cafile $MAIL_TEST_CA"
A_AUTH="--user $MAIL_TEST_USER1 --password-env PW_A $CA"
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null
  [[ -n $idle_pid ]] && kill "$idle_pid" 2>/dev/null
  for b in "$MB" "$MB-copy" "$MB-renamed" "$MB-big" "$MB-sync"; do
    "$M" imap "$IMAP" delete-mailbox "$b" $A_AUTH >/dev/null 2>&1
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail=0
# pyjson 'expression over lines (every JSON line) and d (the first)' FILE
pyjson() {
  "$PY" -c "import json,sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8') if l.strip()]
d = lines[0] if lines else None
sys.exit(0 if ($1) else 1)" "$2"
}
no_secret() { ! grep -aqF -e "$MAIL_TEST_PASS1" -e "$MAIL_TEST_PASS3" "$@"; }
# wait_for PATTERN FILE: up to 20 s for a line matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < 200; i++)); do
    grep -aqE "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ------------------------------------------------------------ usage
run 0 "--help names the imap command" --help &&
  expect "--help: imap fetch and idle" bash -c "grep -q '^  imap URL list' '$TMP/out' && grep -q 'idle \[MAILBOX\]' '$TMP/out'"
run 2 "imap: unknown action" imap "$IMAP" frobnicate $A_AUTH
run 2 "imap: not an imap URL" imap "pop3://localhost" list $A_AUTH
run 2 "imap: a SET that is not one" imap "$IMAP" fetch INBOX 1:x $A_AUTH
run 2 "imap: --tls implicit on an imap:// URL" imap "$IMAP" list --tls implicit $A_AUTH
run 2 "imap fetch --raw of more than one message" imap "$IMAP" fetch INBOX 1:2 --raw $A_AUTH
run 2 "imap: a fetch option on another action" imap "$IMAP" status INBOX --envelope $A_AUTH
run 9 "imap append: a file that does not exist" imap "$IMAP" append INBOX "$TMP/nonexistent" $A_AUTH

# ------------------------------------------------------------ mailboxes
run 0 "create a mailbox" imap "$IMAP" create "$MB" $A_AUTH &&
  expect "create: said so" grep -qxF "created $MB" "$TMP/out"
run 0 "list --status --json" --json imap "$IMAP" list --status $A_AUTH &&
  expect "list: our mailbox, empty; INBOX; the special-use Sent" pyjson "[l['status']['messages'] for l in lines if l['mailbox'] == '$MB'] == [0] and 'INBOX' in [l['mailbox'] for l in lines] and any('\\\\Sent' in l['flags'] for l in lines)" "$TMP/out"
run 0 "list PATTERN (text)" imap "$IMAP" list "$MB*" $A_AUTH &&
  expect "list PATTERN: only ours" bash -c "test \"\$(cut -d' ' -f1 '$TMP/out')\" = '$MB'"

# ------------------------------------------------------------ append
head -c 300000 /dev/urandom >"$TMP/att.bin"
want_sha=$(sha256sum "$TMP/att.bin" | cut -d' ' -f1)
MID="mailcli-imap-$$-$RANDOM@libmail.test"
printf 'hello from %s\n' "$MB" >"$TMP/text.txt"
"$M" mime build --from "Alice <$MAIL_TEST_ADDR1>" --to "$MAIL_TEST_ADDR2" --subject "héllo $MB" \
  --message-id "<$MID>" --text "$TMP/text.txt" --attach "$TMP/att.bin" >"$TMP/msg.eml"
if run 0 "append a message with flags" imap "$IMAP" append "$MB" "$TMP/msg.eml" --flag flagged --flag '$Mailcli' $A_AUTH; then
  expect "append: the UID printed" grep -qE "^appended $(wc -c <"$TMP/msg.eml") bytes to $MB: UID 1 \(UIDVALIDITY [0-9]+\)\$" "$TMP/out"
fi
run 0 "append from standard input, --json" --json imap "$IMAP" append "$MB" - $A_AUTH <"$TMP/text.txt" &&
  expect "append --json: uid 2" pyjson "d['uid'] == 2 and d['size'] == $(wc -c <"$TMP/text.txt") and d['uidvalidity'] > 0" "$TMP/out"
run 0 "status --json" --json imap "$IMAP" status "$MB" $A_AUTH &&
  expect "status: two messages, uidnext 3" pyjson "d['mailbox'] == '$MB' and d['status']['messages'] == 2 and d['status']['uidnext'] == 3" "$TMP/out"
run 0 "select --json" --json imap "$IMAP" select "$MB" --read-only $A_AUTH &&
  expect "select: exists 2, read-only, the keyword among the flags" pyjson "d['exists'] == 2 and d['read_only'] is True and '\$Mailcli' in d['flags']" "$TMP/out"

# ------------------------------------------------------------ search
run 0 "search HEADER Message-ID" imap "$IMAP" search "$MB" HEADER Message-ID "<$MID>" $A_AUTH &&
  expect "search: UID 1 only" bash -c "test \"\$(cat '$TMP/out')\" = 1"
run 0 "search a non-ASCII subject (CHARSET UTF-8), --json" --json imap "$IMAP" search "$MB" SUBJECT "héllo" $A_AUTH &&
  expect "search --json: UID 1" pyjson "d['uid'] is True and d['results'] == [1]" "$TMP/out"
run 0 "search --seq FLAGGED" imap "$IMAP" search "$MB" FLAGGED --seq $A_AUTH &&
  expect "search --seq: message 1" bash -c "test \"\$(cat '$TMP/out')\" = 1"
run 0 "search with no criteria: ALL" imap "$IMAP" search "$MB" $A_AUTH &&
  expect "search ALL: two UIDs" bash -c "test \"\$(tr '\\n' ' ' <'$TMP/out')\" = '1 2 '"

# ------------------------------------------------------------ fetch
if run 0 "fetch (default items)" imap "$IMAP" fetch "$MB" 1 $A_AUTH; then
  expect "fetch: the decoded subject, the sender, the Message-ID, the flags" bash -c "grep -qxF '  subject: héllo $MB' '$TMP/out' && grep -qxF '  from: Alice <$MAIL_TEST_ADDR1>' '$TMP/out' && grep -qxF '  message-id: <$MID>' '$TMP/out' && grep -q '^  flags:.*\\\\Flagged' '$TMP/out'"
fi
if run 0 "fetch --bodystructure --envelope --json by UID" --json imap "$IMAP" fetch "$MB" --uid 1 --envelope --bodystructure $A_AUTH; then
  expect "fetch --json: envelope and body structure" pyjson "d['items']['UID'] == 1 and d['items']['ENVELOPE']['message_id'] == '<$MID>' and [p['subtype'].lower() for p in d['items']['BODYSTRUCTURE']['parts']] == ['plain', 'octet-stream'] and d['items']['BODYSTRUCTURE']['parts'][1]['disposition_params'] == {'filename': 'att.bin'} and d['items']['BODYSTRUCTURE']['parts'][1]['encoding'].lower() == 'base64'" "$TMP/out"
fi
run 0 "fetch --bodystructure (text)" imap "$IMAP" fetch "$MB" 1 --bodystructure $A_AUTH &&
  expect "fetch --bodystructure: the attachment's line" grep -qE '^      2 application/octet-stream name=att.bin attachment filename="att.bin" base64 [0-9]+ bytes$' "$TMP/out"
run 0 "fetch --raw to stdout" imap "$IMAP" fetch "$MB" 1 --raw $A_AUTH &&
  expect "fetch --raw: the message as appended" cmp -s "$TMP/out" "$TMP/msg.eml"
if run 0 "fetch --section 2 --binary --output (the attachment decoded)" imap "$IMAP" fetch "$MB" --uid 1 --section 2 --binary --output "$TMP/got.bin" $A_AUTH; then
  expect "the attachment byte for byte, its sha256 printed" bash -c "cmp -s '$TMP/got.bin' '$TMP/att.bin' && grep -qxF '  2: 300000 bytes to $TMP/got.bin, sha256 $want_sha' '$TMP/out'"
  expect "fetch --output: no temporary file left" bash -c "test -z \"\$(ls -A '$TMP' | grep mailcli-fetch)\""
fi
run 0 "fetch --partial 0.100" imap "$IMAP" fetch "$MB" 1 --partial 0.100 $A_AUTH &&
  expect "fetch --partial: the first 100 bytes" bash -c "head -c 100 '$TMP/msg.eml' | cmp -s - '$TMP/out'"
run 0 "fetch --flags of both" --json imap "$IMAP" fetch "$MB" 1:* --flags $A_AUTH &&
  expect "fetch --flags: two messages, nothing marked \\Seen by the fetches" pyjson "len(lines) == 2 and all('\\\\Seen' not in l['items']['FLAGS'] for l in lines)" "$TMP/out"
run 6 "fetch --uid of a UID that does not exist" imap "$IMAP" fetch "$MB" --uid 999 $A_AUTH &&
  expect "fetch: no such message" grep -q "no such message in $MB" "$TMP/err"
run 6 "fetch --output from a missing mailbox" imap "$IMAP" fetch "$MB-missing" 1 --raw --output "$TMP/none.eml" $A_AUTH &&
  expect "missing mailbox: the server's NO, no file" bash -c "grep -q '^mailcli: EXAMINE $MB-missing: NO ' '$TMP/err' && test ! -e '$TMP/none.eml'"

# ------------------------------------------------------------ store, copy, move, delete
run 0 "store add seen" imap "$IMAP" store "$MB" 2 add seen $A_AUTH &&
  expect "store: the new flags" grep -qE '^message 2 flags: .*\\Seen' "$TMP/out"
run 0 "store --uid remove flagged, --json" --json imap "$IMAP" store "$MB" --uid 1 remove flagged $A_AUTH &&
  expect "store --json: flagged gone" pyjson "d['items']['UID'] == 1 and '\\\\Flagged' not in d['items']['FLAGS']" "$TMP/out"
run 0 "create a second mailbox" imap "$IMAP" create "$MB-copy" $A_AUTH
run 0 "copy 1:2" imap "$IMAP" copy "$MB" 1:2 "$MB-copy" $A_AUTH &&
  expect "copy: COPYUID printed" grep -qE "^copied to $MB-copy: UIDs 1:2 there \(UIDVALIDITY [0-9]+; were 1:2\)\$" "$TMP/out"
run 0 "move --uid 2 back, --json" --json imap "$IMAP" move "$MB-copy" --uid 2 "$MB" $A_AUTH &&
  expect "move --json: new UID 3" pyjson "d['done'] == 'moved' and d['source_uids'] == '2' and d['destination_uids'] == '3'" "$TMP/out"
run 0 "delete --uid 3" imap "$IMAP" delete "$MB" --uid 3 $A_AUTH &&
  expect "delete: one message, UID EXPUNGE" grep -qxF "1 message deleted from $MB (UID EXPUNGE)" "$TMP/out"
run 0 "delete 2 (a message number)" --json imap "$IMAP" delete "$MB" 2 $A_AUTH &&
  expect "delete --json: one" pyjson "d['deleted'] == 1" "$TMP/out"
run 0 "status after the deletions" --json imap "$IMAP" status "$MB" $A_AUTH &&
  expect "one message left" pyjson "d['status']['messages'] == 1" "$TMP/out"
run 0 "rename" imap "$IMAP" rename "$MB-copy" "$MB-renamed" $A_AUTH
run 0 "delete-mailbox" imap "$IMAP" delete-mailbox "$MB-renamed" $A_AUTH
run 6 "delete-mailbox of a missing mailbox" imap "$IMAP" delete-mailbox "$MB-renamed" $A_AUTH &&
  expect "delete-mailbox: the server's NO on stderr" grep -q "^mailcli: DELETE $MB-renamed: NO " "$TMP/err"
run 6 "select a missing mailbox" imap "$IMAP" select "$MB-missing" $A_AUTH

# ------------------------------------------------------------ idle
"$M" --trace imap "$IMAP" idle "$MB" $A_AUTH >"$TMP/idle.out" 2>"$TMP/idle.err" &
idle_pid=$!
if wait_for '^S: \+ ' "$TMP/idle.err"; then
  "$M" imap "$IMAP" append "$MB" "$TMP/text.txt" $A_AUTH >/dev/null 2>&1
  expect "idle: the new message reported" wait_for '^2 EXISTS$' "$TMP/idle.out"
else
  bad "idle: no '+' from the server"
fi
kill -INT "$idle_pid"
wait "$idle_pid"
got=$?
idle_pid=
expect "idle: SIGINT ends it cleanly (exit $got): DONE, tagged OK, LOGOUT" bash -c "test $got = 0 && grep -qx 'C: DONE' '$TMP/idle.err' && grep -qE '^S: A[0-9]+ OK Idle completed' '$TMP/idle.err' && grep -qE '^C: A[0-9]+ LOGOUT' '$TMP/idle.err'"
expect "idle --trace: no password" no_secret "$TMP/idle.err"
run 0 "idle --timeout 1 --json" --json imap "$IMAP" idle "$MB" --timeout 1 $A_AUTH &&
  expect "idle --timeout: ends by itself, output is JSON" pyjson "all('kind' in l for l in lines)" "$TMP/out"

# ------------------------------------------------------------ caps
run 0 "caps over IMAP (STARTTLS)" caps "$IMAP" $CA &&
  expect "caps IMAP: STARTTLS before TLS, not after; verified" bash -c "sed -n '1,/^greeting/p' '$TMP/out' | grep -qx '  STARTTLS' && sed -n '/^after TLS (TLSv1.*certificate verified)/,\$p' '$TMP/out' | grep -qx '  AUTH=PLAIN' && ! sed -n '/^after TLS/,\$p' '$TMP/out' | grep -qx '  STARTTLS'"
run 0 "caps --json over IMAPS" --json caps "$IMAPS" $CA &&
  expect "caps IMAPS --json: no list before TLS, IDLE after" pyjson "d['protocol'] == 'imap' and 'before_tls' not in d and 'IDLE' in [c['keyword'] for c in d['after_tls']] and d['tls']['verified'] is True" "$TMP/out"

# ------------------------------------------------------------ TLS, login, trace
run 0 "--trace over STARTTLS" --trace imap "$IMAP" status "$MB" $A_AUTH &&
  expect "--trace: STARTTLS, AUTHENTICATE redacted, no password" bash -c "grep -qE '^C: A1 STARTTLS' '$TMP/err' && grep -qE '^C: A[0-9]+ AUTHENTICATE [A-Z0-9-]+ \[redacted\]' '$TMP/err' && ! grep -qF '$MAIL_TEST_PASS1' '$TMP/err' && ! grep -avE '^(C: |S: |\\* )' '$TMP/err' | grep -q ."
run 0 "IMAPS, --mech PLAIN" --trace imap "$IMAPS" status "$MB" --mech PLAIN $A_AUTH &&
  expect "IMAPS: PLAIN, redacted" bash -c "grep -qE '^C: A[0-9]+ AUTHENTICATE PLAIN \[redacted\]' '$TMP/err' && grep -qx '\* authenticated with PLAIN' '$TMP/err' && ! grep -qF '$MAIL_TEST_PASS1' '$TMP/err'"
printf '%s\n' "$MAIL_TEST_PASS3" >"$TMP/cedric.pw"
run 0 "a non-ASCII password from --password-file, the user in the URL" imap "imap://$MAIL_TEST_USER3@localhost:$MAIL_TEST_IMAP_PORT" status INBOX --password-file "$TMP/cedric.pw" $CA
PW_A=wrong-password run 5 "wrong password" --trace imap "$IMAP" list $A_AUTH &&
  expect "wrong password: the server's NO, LOGOUT, no password" bash -c "grep -q '^mailcli: login: NO ' '$TMP/err' && grep -qE '^C: A[0-9]+ LOGOUT' '$TMP/err' && ! grep -q wrong-password '$TMP/err'"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$TMP/other.key" \
  -out "$TMP/other.pem" -days 2 -subj "/CN=another CA" >/dev/null 2>&1
run 4 "the wrong CA (IMAPS)" imap "$IMAPS" list --user "$MAIL_TEST_USER1" --password-env PW_A --cafile "$TMP/other.pem" &&
  expect "wrong CA: the verification error" grep -qi "verif" "$TMP/err"
run 4 "the wrong CA (STARTTLS)" imap "$IMAP" list --user "$MAIL_TEST_USER1" --password-env PW_A --cafile "$TMP/other.pem"
run 3 "unreachable port" imap "imap://127.0.0.1:1" list $A_AUTH
for mode in imap-nostarttls imap-starttls-no imap-preauth; do
  start_server $mode "$TMP/log.$mode"
  run 4 "$mode: STARTTLS required" imap "imap://127.0.0.1:$PORT" list $A_AUTH
  stop_server
  expect "$mode: no credential sent" bash -c "! grep -qiE 'LOGIN|AUTHENTICATE' '$TMP/log.$mode' 2>/dev/null"
done
start_server imap-garbage
run 8 "a server that breaks the protocol" imap "imap://127.0.0.1:$PORT" list $A_AUTH
stop_server

# ------------------------------------------------------------ imap parse
printf '* OK [CAPABILITY IMAP4rev1] hi\r\n* 3 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\nA1 OK done\r\n' >"$TMP/capture"
run 0 "imap parse FILE" --json imap parse "$TMP/capture" &&
  expect "imap parse: three typed responses" pyjson "[l['type'] for l in lines] == ['OK', 'FETCH', 'OK'] and lines[1]['items']['UID'] == 7 and lines[1]['items']['BODY[]']['size'] == 5 and lines[0]['kind'] == 'greeting'" "$TMP/out"
printf '* OK hi\r\n* 1 FETCH (BODY[] {99999999999999999999999}\r\n' | { "$M" imap parse - >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc"; }
expect "imap parse -: unframeable input is exit 8" test "$(cat "$TMP/rc")" = 8

# ------------------------------------------------------------ progress bar
run 0 "create a mailbox for a big message" imap "$IMAP" create "$MB-big" $A_AUTH
head -c 2500000 /dev/urandom >"$TMP/big.bin"
"$M" mime build --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR2" --subject big --attach "$TMP/big.bin" >"$TMP/big.eml"
"$PY" "$HERE/pty_run.py" "$TMP/err" "$TMP/out" -- "$M" imap "$IMAP" append "$MB-big" "$TMP/big.eml" $A_AUTH
got=$?
if [[ $got == 0 ]] && grep -aqE "sending [0-9.]+ MB / [0-9.]+ MB 100%  [0-9.]+ [KM]B/s  ETA [0-9]+:[0-9]{2}" "$TMP/err"; then
  ok "append: progress bar on a terminal"
else
  bad "append: no progress bar on a terminal (exit $got)"
fi
"$PY" "$HERE/pty_run.py" "$TMP/err" "$TMP/out" -- "$M" imap "$IMAP" fetch "$MB-big" 1 --raw $A_AUTH
got=$?
if [[ $got == 0 ]] && grep -aq "receiving .* MB / .* MB 100%" "$TMP/err" && cmp -s "$TMP/out" "$TMP/big.eml"; then
  ok "fetch --raw: progress bar on a terminal, the message on stdout"
else
  bad "fetch --raw: no progress bar on a terminal (exit $got)"
fi
run 0 "fetch --raw without a terminal" imap "$IMAP" fetch "$MB-big" 1 --raw $A_AUTH &&
  expect "no progress bar into a file" bash -c "! grep -aq ETA '$TMP/err'"

# ------------------------------------------------------------ sync
run 0 "create a mailbox to sync" imap "$IMAP" create "$MB-sync" $A_AUTH
for i in 1 2 3; do "$M" imap "$IMAP" append "$MB-sync" "$TMP/text.txt" $A_AUTH >/dev/null 2>&1; done
run 0 "sync into a new state file" imap "$IMAPS" sync "$MB-sync" "$TMP/sync.state" $A_AUTH &&
  expect "sync: three new messages, QRESYNC" bash -c "test \$(grep -c '^new ' '$TMP/out') = 3 && grep -q '3 messages (qresync): 3 new, 0 flag changes, 0 vanished' '$TMP/out' && head -1 '$TMP/sync.state' | grep -qx 'libmail-imap-sync 1'"
run 0 "sync again: nothing changed" imap "$IMAPS" sync "$MB-sync" "$TMP/sync.state" $A_AUTH &&
  expect "sync again: no change lines" bash -c "! grep -qE '^(new|flags|vanished) ' '$TMP/out'"
"$M" imap "$IMAP" store "$MB-sync" 2 add flagged $A_AUTH >/dev/null 2>&1
"$M" imap "$IMAP" delete "$MB-sync" 1 $A_AUTH >/dev/null 2>&1
"$M" imap "$IMAP" append "$MB-sync" "$TMP/text.txt" $A_AUTH >/dev/null 2>&1
run 0 "sync --json after changes" --json imap "$IMAPS" sync "$MB-sync" "$TMP/sync.state" $A_AUTH &&
  expect "sync --json: vanished 1, flags of 2, one new" pyjson "{'event': 'vanished', 'uid': 1} in lines and {'event': 'flags', 'uid': 2, 'flags': '\\\\Flagged'} in lines and {'event': 'new', 'uid': 4, 'flags': ''} in lines and lines[-1]['messages'] == 3 and lines[-1]['strategy'] == 'qresync'" "$TMP/out"
for s in condstore:seen:Seen full:answered:Answered; do
  IFS=: read -r s flag shown <<<"$s"
  cp "$TMP/sync.state" "$TMP/sync-$s.state"
  "$M" imap "$IMAP" store "$MB-sync" add "$flag" --uid 3 $A_AUTH >/dev/null 2>&1
  run 0 "sync --strategy $s" imap "$IMAPS" sync "$MB-sync" "$TMP/sync-$s.state" --strategy $s $A_AUTH &&
    expect "sync --strategy $s: the flag change of UID 3" bash -c "grep -q '^flags 3 .*$shown' '$TMP/out' && grep -q '($s): 0 new, 1 flag changes, 0 vanished' '$TMP/out'"
  cp "$TMP/sync-$s.state" "$TMP/sync.state"
done
run 2 "sync --strategy nonsense" imap "$IMAPS" sync "$MB-sync" "$TMP/sync.state" --strategy fast $A_AUTH
run 2 "--strategy is for sync only" imap "$IMAPS" list --strategy full $A_AUTH
printf 'not a state\n' >"$TMP/bad.state"
run 9 "sync: a damaged state file is left alone" imap "$IMAPS" sync "$MB-sync" "$TMP/bad.state" $A_AUTH &&
  expect "damaged state: unchanged" grep -qx 'not a state' "$TMP/bad.state"
run 0 "sync into a maildir" imap "$IMAPS" sync "$MB-sync" "$TMP/md/" $A_AUTH &&
  expect "maildir: three files, all downloaded" bash -c "grep -q '3 downloaded, 3 messages' '$TMP/out' && test \$(ls '$TMP/md/new' '$TMP/md/cur' | grep -c '^[0-9]') = 3"
run 0 "sync into the maildir again" --json imap "$IMAPS" sync "$MB-sync" "$TMP/md" $A_AUTH &&
  expect "maildir again: nothing downloaded" pyjson "d['downloaded'] == 0 and d['messages'] == 3" "$TMP/out"

run 0 "delete-mailbox (the test's own)" imap "$IMAP" delete-mailbox "$MB" $A_AUTH
exit $fail

#!/bin/bash
# Runs one example of the programmer's guide (doc/guide.md) against the
# real servers of tests/servers (save_attachments needs none) and checks
# what it did: the message delivered with its attachments, the new mail
# IDLE reported, the files POP3 saved, the article read, the file names
# reduced to safe ones. Skips (77) without servers unless they are
# required.
#
#   test_guide.sh NAME PROGRAM SOURCE-ROOT
set -u
name=$1 exe=$2 root=$3
PY=${PYTHON:-python3}
TMP=$(mktemp -d)
# (and what take_delivered took but a failed check left behind)
trap 'rm -rf "$TMP"; rm -f "${MAIL_TEST_MAILDIR1:-/nonexistent}"/tmp/guide-taken.$$.* "${MAIL_TEST_MAILDIR2:-/nonexistent}"/tmp/guide-taken.$$.*' EXIT
die() { echo "guide $name: $*"; exit 1; }

if [[ $name != save_attachments ]]; then
  envfile=${MAIL_TEST_SERVERS_ENV:-${MAIL_TEST_RUNDIR:-/tmp/libmail-servers}/servers.env}
  if [[ ! -r $envfile ]]; then
    [[ ${MAIL_TEST_REQUIRE_SERVERS:-0} = 1 ]] && die "servers.env missing"
    exit 77
  fi
  . "$envfile"
fi
subject="guide $name $$ $(date +%s%N)"

# Plain SMTP to the local Postfix (port 25 takes mail for libmail.test).
deliver() { # TO SUBJECT
  "$PY" - "$MAIL_TEST_SMTP_PORT" "$1" "$2" <<'PYEOF'
import smtplib, sys
port, to, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = "From: <guide@libmail.test>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nHello.\r\n" % (to, subject)
with smtplib.SMTP("127.0.0.1", port) as s:
    s.sendmail("guide@libmail.test", [to], msg)
PYEOF
}
# The delivered file holding SUBJECT in MAILDIR, waited for (bounded).
# Only a sign that it came: other sessions rename the files of a shared
# maildir at any time (an IMAP SELECT moves them from new/ to cur/, POP3
# RETR and STORE change the flags in the name), so the name may be gone
# the moment after. To read or remove the message, take_delivered.
find_delivered() { # MAILDIR SUBJECT
  local f i
  for ((i = 0; i < 300; i++)); do
    f=$(grep -rlF "Subject: $2" "$1/new" "$1/cur" 2>/dev/null | head -n 1)
    [[ -n $f ]] && { echo "$f"; return 0; }
    sleep 0.1
  done
  return 1
}
# The same message taken out of the server's sight: renamed into MAILDIR's
# tmp/ (one rename on one file system, which the server never looks at),
# looked for again if it was renamed first. Prints the new path; the
# caller reads it and removes it.
take_delivered() { # MAILDIR SUBJECT
  local f i to="$1/tmp/guide-taken.$$.$RANDOM"
  for ((i = 0; i < 50; i++)); do
    f=$(find_delivered "$1" "$2") || return 1
    mv -- "$f" "$to" 2>/dev/null && { echo "$to"; return 0; }
  done
  return 1
}

case $name in
send_attachments)
  printf 'line one\nline two\n' >"$TMP/notes.txt"
  head -c 3000 /dev/urandom >"$TMP/data.bin"
  out=$(MAIL_PASSWORD="$MAIL_TEST_PASS1" "$exe" "submission://127.0.0.1:$MAIL_TEST_SUBMISSION_PORT" \
    "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR2" "$subject" \
    "$TMP/notes.txt" "$TMP/data.bin" 2>&1) || die "failed: $out"
  echo "$out"
  [[ $out == "$MAIL_TEST_ADDR2: 250 "* ]] || die "not accepted"
  f=$(take_delivered "$MAIL_TEST_MAILDIR2" "$subject") || die "never delivered"
  # The attachments arrive whole, under their names.
  "$PY" - "$f" "$TMP" <<'PYEOF' || die "attachments differ"
import email, email.policy, sys
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
got = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
want = {"notes.txt": open(sys.argv[2] + "/notes.txt").read().replace("\n", "\r\n"),
        "data.bin": open(sys.argv[2] + "/data.bin", "rb").read()}
norm = lambda v: v.replace("\r\n", "\n") if isinstance(v, str) else v
assert {k: norm(v) for k, v in got.items()} == {k: norm(v) for k, v in want.items()}, sorted(got)
PYEOF
  rm -f "$f"
  ;;
submit_oauth)
  [[ -n ${MAIL_TEST_OAUTH2_KEY:-} ]] || { echo "skip: no oauth2 passdb in these servers"; exit 77; }
  tok=$("$PY" "$root/tests/cli/make_jwt.py" "$MAIL_TEST_OAUTH2_KEY" "$MAIL_TEST_USER1")
  out=$(MAIL_OAUTH_TOKEN="$tok" "$exe" "submission://127.0.0.1:$MAIL_TEST_SUBMISSION_PORT" \
    "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR1" "$subject" 2>&1) ||
    die "failed: $out"
  echo "$out"
  grep -qx "authenticated with OAUTHBEARER" <<<"$out" || die "not OAUTHBEARER"
  grep -q "^$MAIL_TEST_ADDR1: 250" <<<"$out" || die "not accepted"
  # A token the server refuses: the callback is asked once more, then AUTH fails.
  bad=$("$PY" "$root/tests/cli/make_jwt.py" "$MAIL_TEST_OAUTH2_KEY" "$MAIL_TEST_USER1" -60)
  out=$(MAIL_OAUTH_TOKEN="$bad" "$exe" "submission://127.0.0.1:$MAIL_TEST_SUBMISSION_PORT" \
    "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR1" "$subject" 2>&1) &&
    die "an expired token was accepted: $out"
  grep -q "asking for a new one" <<<"$out" || die "no refresh asked: $out"
  f=$(take_delivered "$MAIL_TEST_MAILDIR1" "$subject") && rm -f "$f"
  ;;
idle_new_mail)
  MAIL_PASSWORD="$MAIL_TEST_PASS2" timeout 60 "$exe" "imap://127.0.0.1:$MAIL_TEST_IMAP_PORT/INBOX" \
    "$MAIL_TEST_CA" "$MAIL_TEST_USER2" "$subject" >"$TMP/out" 2>&1 &
  pid=$!
  for ((i = 0; i < 200; i++)); do
    grep -q '^ready' "$TMP/out" && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^ready' "$TMP/out" || { cat "$TMP/out"; die "never ready"; }
  deliver "$MAIL_TEST_ADDR2" "$subject" || die "could not deliver"
  wait $pid
  rc=$?
  cat "$TMP/out"
  ((rc == 0)) || die "exit $rc"
  grep -qF "subject $subject" "$TMP/out" || die "the new message was not reported"
  f=$(take_delivered "$MAIL_TEST_MAILDIR2" "$subject") && rm -f "$f"
  ;;
pop3_download)
  deliver "$MAIL_TEST_ADDR2" "$subject" || die "could not deliver"
  find_delivered "$MAIL_TEST_MAILDIR2" "$subject" >/dev/null || die "never delivered"
  mkdir "$TMP/dl"
  url="pop3://127.0.0.1:$MAIL_TEST_POP3_PORT"
  out=$(MAIL_PASSWORD="$MAIL_TEST_PASS2" "$exe" "$url" "$MAIL_TEST_CA" "$MAIL_TEST_USER2" "$TMP/dl" 2>&1) ||
    die "failed: $out"
  echo "$out"
  got=$(grep -lF "Subject: $subject" "$TMP/dl"/*.eml) || die "the message was not saved"
  first=$(ls "$TMP/dl" | wc -l)
  ! ls "$TMP/dl" | grep -q '\.part$' || die "a partial file was left"
  # Again: what is here already is not fetched again.
  out=$(MAIL_PASSWORD="$MAIL_TEST_PASS2" "$exe" "$url" "$MAIL_TEST_CA" "$MAIL_TEST_USER2" "$TMP/dl" 2>&1) ||
    die "second run failed: $out"
  echo "$out"
  # Other tests add and take messages of this mailbox meanwhile: only ours
  # is known to stay, and it must be among those skipped, not saved again.
  skipped=$(sed -n 's/.* downloaded, \([0-9]*\) already here.*/\1/p' <<<"$out")
  ((skipped >= 1)) || die "second run skipped none (of $first)"
  grep -qF "saved $got" <<<"$out" && die "downloaded twice"
  f=$(take_delivered "$MAIL_TEST_MAILDIR2" "$subject") && rm -f "$f"
  ;;
read_news)
  url="nntp://127.0.0.1:$MAIL_TEST_NNTP_PORT"
  out=$(NEWS_USER="$MAIL_TEST_NNTP_USER" NEWS_PASSWORD="$MAIL_TEST_NNTP_PASS" NEWS_POST="$subject" \
    NEWS_FIND="$subject" "$exe" "$url" "$MAIL_TEST_CA" "$MAIL_TEST_NNTP_GROUP" 2>&1)
  rc=$?
  # The overview may lag the post by a moment: read again (bounded).
  for ((i = 0; i < 50 && rc != 0; i++)); do
    grep -q "Not found\|not found" <<<"$out" || break
    sleep 0.1
    out=$(NEWS_FIND="$subject" "$exe" "$url" "$MAIL_TEST_CA" "$MAIL_TEST_NNTP_GROUP" 2>&1)
    rc=$?
  done
  echo "$out"
  ((rc == 0)) || die "failed"
  grep -qF "	$subject	" <<<"$out" || die "the article is not in the overview"
  grep -q "Posted by the read_news example" <<<"$out" || die "its body was not printed"
  ;;
event_loop)
  out=$(MAIL_PASSWORD="$MAIL_TEST_PASS1" "$exe" 127.0.0.1 "$MAIL_TEST_SUBMISSION_PORT" \
    "$MAIL_TEST_POP3_PORT" "$MAIL_TEST_CA" "$MAIL_TEST_USER1" "$MAIL_TEST_ADDR1" "$MAIL_TEST_ADDR1" 3 2>&1) ||
    die "failed: $out"
  echo "$out"
  [[ $(grep -c ': sent, .*: 250$' <<<"$out") == 3 ]] || die "not three submissions"
  grep -q ': pop3 stat: [0-9]* messages$' <<<"$out" || die "no POP3 result"
  grep -qx '4 sessions, 0 failed' <<<"$out" || die "a session failed"
  for k in 0 1 2; do
    f=$(take_delivered "$MAIL_TEST_MAILDIR1" "event loop message $k") && rm -f "$f"
  done
  ;;
save_attachments)
  mkdir "$TMP/out"
  ln -s "$TMP/victim" "$TMP/out/link.txt"
  att() { # HEADER-PARAMS BODY-BASE64
    printf -- '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; %s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n' "$1" "$2"
  }
  {
    printf 'From: <a@libmail.test>\r\nTo: <b@libmail.test>\r\nSubject: hostile names\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    printf -- '--b\r\nContent-Type: text/plain\r\n\r\nThe text, not an attachment.\r\n'
    att 'filename="../../evil.txt"' "$(printf 'evil' | base64)"
    att 'filename="/etc/passwd"' "$(printf 'root' | base64)"
    att "filename*=UTF-8''%2E%2E%2Fdot%01ctl%1B%5B31m.txt" "$(printf 'esc' | base64)"
    att 'filename=".."' "$(printf 'dots' | base64)"
    att 'filename="report.pdf"' "$(printf '%%PDF-1.4 one' | base64)"
    att 'filename="report.pdf"' "$(printf '%%PDF-1.4 two' | base64)"
    att 'filename="link.txt"' "$(printf 'through a link' | base64)"
    printf -- '--b--\r\n'
  } >"$TMP/msg.eml"
  out=$("$exe" "$TMP/msg.eml" "$TMP/out" 2>&1) || die "failed: $out"
  echo "$out"
  want=$'attachment-4\ndotctl[31m.txt\nevil.txt\nlink-1.txt\nlink.txt\npasswd\nreport-1.pdf\nreport.pdf'
  have=$(cd "$TMP/out" && LC_ALL=C ls -A | LC_ALL=C sort)
  [[ $have == "$(LC_ALL=C sort <<<"$want")" ]] || die "files: $(echo $have)"
  [[ ! -e $TMP/evil.txt && ! -e $TMP/../evil.txt && ! -e $TMP/victim ]] || die "wrote outside the directory"
  [[ $(cat "$TMP/out/report.pdf") == "%PDF-1.4 one" && $(cat "$TMP/out/report-1.pdf") == "%PDF-1.4 two" ]] ||
    die "contents differ"
  [[ $(cat "$TMP/out/evil.txt") == evil ]] || die "evil.txt content"
  grep -q '^7 attachments saved' <<<"$out" || die "count"
  ;;
*) die "unknown example" ;;
esac
echo "guide $name: ok"

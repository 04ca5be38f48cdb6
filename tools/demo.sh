#!/bin/bash
# The demo that `./run demo` shows once the servers are up: a message with
# an attachment goes out through submission (STARTTLS + AUTH) and comes
# back through POP3 (STLS + AUTH) and through IMAP (STARTTLS + AUTHENTICATE:
# found by its Message-ID, its BODYSTRUCTURE shown, the attachment fetched
# decoded and its checksum compared); its MIME tree and the attachment's
# checksum are printed, and the demo's message is removed again. Every
# step is a mailcli command, printed as it runs.
#
#   tools/demo.sh MAILCLI SERVERS_ENV [--trace]
#
# --trace also shows each conversation (C:/S: lines, credentials redacted).
set -euo pipefail

MAILCLI=${1:?usage: demo.sh MAILCLI SERVERS_ENV [--trace]}
ENVF=${2:?usage: demo.sh MAILCLI SERVERS_ENV [--trace]}
TRACE=0
[[ ${3:-} == --trace ]] && TRACE=1
. "$ENVF"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export DEMO_ALICE_PW=$MAIL_TEST_PASS1 DEMO_BOB_PW=$MAIL_TEST_PASS2
SUBMISSION="submission://localhost:$MAIL_TEST_SUBMISSION_PORT"
POP3="pop3://localhost:$MAIL_TEST_POP3_PORT"
IMAP="imap://localhost:$MAIL_TEST_IMAP_PORT"
SENDER_AUTH=(--user "$MAIL_TEST_USER1" --password-env DEMO_ALICE_PW --cafile "$MAIL_TEST_CA")
READER_AUTH=(--user "$MAIL_TEST_USER2" --password-env DEMO_BOB_PW --cafile "$MAIL_TEST_CA")
SUBJECT="libmail demo $(date -u +%Y-%m-%dT%H:%M:%SZ) $$"
ATTACHMENT=$WORK/demo-attachment.bin
# Unique, so that IMAP's SEARCH HEADER Message-ID finds this message only.
MESSAGE_ID="libmail-demo-$$-$(date +%s%N)@$MAIL_TEST_DOMAIN"

say() { printf '%s\n' "$*"; }
indent() { sed 's/^/    /'; }

# mc LABEL ARGS...: run mailcli, show the command line (passwords are only
# ever named, never given), keep stdout in $WORK/out and the trace in
# $WORK/trace; with --trace show the conversation too.
mc() {
  local label=$1
  shift
  say "  \$ mailcli ${*@Q}" | sed "s|$WORK/||g; s|$MAIL_TEST_CA|ca.pem|g; s|'\([^' <>|&;()\$]*\)'|\1|g"
  if ! "$MAILCLI" --trace "$@" >"$WORK/out" 2>"$WORK/trace"; then
    grep -v '^[CS*]: \|^\* ' "$WORK/trace" | indent >&2
    say "demo: $label failed" >&2
    exit 1
  fi
  if ((TRACE)); then shorten_bodies <"$WORK/trace" | indent; fi
}

# The trace with each message body (after DATA, or RETR's reply), each
# UIDL or LIST listing and each IMAP literal (a FETCH of the attachment:
# 48 KB of binary) cut to its first lines: the conversation, not 60 KB of
# base64.
shorten_bodies() {
  awk '
    literal {
      if ($0 ~ /^S: A[0-9]+ (OK|NO|BAD) /) {
        printf "S: ... (%d lines of the literal)\n", n; print; literal = 0
      } else n++
      next
    }
    /^S: .*[{][0-9]+[}]$/ { literal = 1; n = 0; print; next }
    /^C: DATA$/ { side = "C"; n = 0; print; next }
    /^C: (RETR |UIDL$|LIST$)/ { side = "S"; n = 0; print; next }
    side != "" && substr($0, 1, 3) == side ": " {
      if ($0 == side ": .") {
        if (n > 4) printf "%s: ... (%d more lines)\n", side, n - 4
        print; side = ""; next
      }
      if (++n <= 4) print
      next
    }
    { print }'
}

# What the trace says about the connection: TLS and the mechanism.
security_line() {
  local tls mech
  tls=$(sed -n 's/^\* TLS established: //p' "$WORK/trace" | tail -n 1)
  mech=$(sed -n 's/^\* authenticated with //p' "$WORK/trace" | head -n 1)
  say "    TLS: ${tls:-none}; authenticated with ${mech:-?} (password shown as [redacted] in traces)"
}

step_send() {
  say "1. Submit a message with an attachment (submission port, STARTTLS required, AUTH)"
  head -c 48000 /dev/urandom >"$ATTACHMENT"
  # What the mailbox holds before: the search afterwards reads only new messages.
  "$MAILCLI" pop3 "$POP3" uidl "${READER_AUTH[@]}" | cut -d' ' -f2 >"$WORK/before"
  printf 'Hello Bob,\n\nthe attachment was sent with libmail.\n' >"$WORK/text.txt"
  mc "send" send "$SUBMISSION" "${SENDER_AUTH[@]}" --from "Alice <$MAIL_TEST_ADDR1>" \
    --to "$MAIL_TEST_ADDR2" --subject "$SUBJECT" --message-id "<$MESSAGE_ID>" \
    --text "$WORK/text.txt" --attach "$ATTACHMENT"
  indent <"$WORK/out"
  security_line
}

# The message by its Subject: UIDL, then TOP 0 of each message that arrived
# since the send (newest first, each read once), waiting while Postfix
# delivers it to Dovecot.
find_message() {
  local tries uid
  for ((tries = 0; tries < 60; tries++)); do
    "$MAILCLI" pop3 "$POP3" uidl "${READER_AUTH[@]}" | cut -d' ' -f2 | tac >"$WORK/uidl"
    for uid in $(grep -vxF -f "$WORK/before" "$WORK/uidl"); do
      if "$MAILCLI" pop3 "$POP3" top --uid "$uid" 0 "${READER_AUTH[@]}" | tr -d '\r' |
        grep -qxF "Subject: $SUBJECT"; then
        MESSAGE_UID=$uid
        return 0
      fi
      echo "$uid" >>"$WORK/before"
    done
    sleep 0.5
  done
  say "demo: the message did not arrive in $MAIL_TEST_USER2's mailbox" >&2
  exit 1
}

step_read_back_pop3() {
  say "2. Read it back through POP3 (STLS required, AUTH)"
  find_message
  mc "retr" pop3 "$POP3" retr --uid "$MESSAGE_UID" "${READER_AUTH[@]}"
  cp "$WORK/out" "$WORK/message.eml"
  say "    found as UID $MESSAGE_UID, $(wc -c <"$WORK/message.eml") bytes, Subject: $SUBJECT"
  security_line
}

# The same message through IMAP: SEARCH HEADER Message-ID (waiting while
# it is delivered, should POP3 not have waited already), its envelope and
# BODYSTRUCTURE, then the attachment's part fetched decoded (BINARY) and
# its sha256 compared with the file sent. Nothing is marked \Seen: the
# mailbox is opened read-only and bodies are fetched with PEEK.
step_read_back_imap() {
  say "3. Read it back through IMAP (STARTTLS required, AUTHENTICATE), by its Message-ID"
  local tries
  for ((tries = 0; tries < 60; tries++)); do
    mc "search" imap "$IMAP" search INBOX HEADER Message-ID "<$MESSAGE_ID>" "${READER_AUTH[@]}"
    IMAP_UID=$(head -n 1 "$WORK/out")
    [[ -n $IMAP_UID ]] && break
    sleep 0.5
  done
  if [[ -z $IMAP_UID ]]; then
    say "demo: SEARCH HEADER Message-ID <$MESSAGE_ID> found nothing" >&2
    exit 1
  fi
  say "    SEARCH HEADER Message-ID <$MESSAGE_ID>: UID $IMAP_UID"
  mc "fetch" imap "$IMAP" fetch INBOX --uid "$IMAP_UID" --envelope --bodystructure "${READER_AUTH[@]}"
  grep -E '^  (subject|from|to|body structure):|^    ' "$WORK/out" | indent
  # The attachment's section path, from the body structure line that names it.
  local part
  part=$(sed -n 's/^ *\([0-9.]*\) .*filename="demo-attachment.bin".*/\1/p' "$WORK/out" | head -n 1)
  if [[ -z $part ]]; then
    say "demo: the BODYSTRUCTURE has no part for demo-attachment.bin" >&2
    exit 1
  fi
  mc "fetch part" imap "$IMAP" fetch INBOX --uid "$IMAP_UID" --section "$part" --binary \
    --output "$WORK/imap-attachment.bin" "${READER_AUTH[@]}"
  local got want
  got=$(sha256sum "$WORK/imap-attachment.bin" | cut -d' ' -f1)
  want=$(sha256sum "$ATTACHMENT" | cut -d' ' -f1)
  say "    part $part fetched decoded (BINARY[$part]): $(wc -c <"$WORK/imap-attachment.bin") bytes"
  say "    sha256 over IMAP: $got"
  say "    sha256 sent:      $want"
  if [[ $got != "$want" ]]; then
    say "demo: the attachment read through IMAP differs from the one sent" >&2
    exit 1
  fi
  say "    the attachment read through IMAP matches the one sent"
  security_line
}

step_mime_tree() {
  say "4. Its MIME tree"
  mc "mime parse" mime parse "$WORK/message.eml"
  indent <"$WORK/out"
}

step_checksum() {
  say "5. The attachment, extracted, and its checksum"
  mc "mime extract" mime extract "$WORK/message.eml" "$WORK/extracted"
  sed "s|$WORK/||g" "$WORK/out" | indent
  local got want
  got=$(sha256sum "$WORK/extracted/demo-attachment.bin" | cut -d' ' -f1)
  want=$(sha256sum "$ATTACHMENT" | cut -d' ' -f1)
  say "    sha256 received: $got"
  say "    sha256 sent:     $want"
  if [[ $got != "$want" ]]; then
    say "demo: the attachment changed on the way" >&2
    exit 1
  fi
  say "    the attachment arrived byte for byte"
}

step_clean_up() {
  say "6. Remove the demo's message from the mailbox (by its POP3 UID)"
  mc "dele" pop3 "$POP3" dele --uid "$MESSAGE_UID" "${READER_AUTH[@]}"
  indent <"$WORK/out"
}

for step in step_send step_read_back_pop3 step_read_back_imap step_mime_tree step_checksum \
  step_clean_up; do
  "$step"
  say ""
done
say "demo: done (sent through SMTP submission, read back through POP3 and IMAP)"

#!/bin/bash
# The README's first command, exactly as written (./run demo), and again
# with --trace; asserts what each run must show, the IMAP read-back among
# it: the message found by its Message-ID, its BODYSTRUCTURE with the
# attachment's part, and that part's sha256 over IMAP equal to the one
# sent. Inside the test run it finds everything installed and built, so it
# never calls apt-get (MAIL_RUN_NO_INSTALL=1).
# usage: test_demo.sh PATH-TO-RUN
set -u
RUN=${1:?usage: test_demo.sh RUN}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fail=1; fi
}

"$RUN" demo >"$TMP/out" 2>&1
rc=$?
cat "$TMP/out"
if grep -q '^run: no test servers: demo skipped' "$TMP/out"; then
  exit 77
fi
check "./run demo: exit 0" test "$rc" = 0
check "the IMAP step ran" grep -q '^3\. Read it back through IMAP' "$TMP/out"
check "SEARCH HEADER Message-ID found one UID" grep -qE '^    SEARCH HEADER Message-ID <libmail-demo-[0-9]+-[0-9]+@[^>]+>: UID [0-9]+$' "$TMP/out"
check "its BODYSTRUCTURE, with the attachment's part" grep -qE '^          2 application/octet-stream .*filename="demo-attachment\.bin" base64 [0-9]+ bytes$' "$TMP/out"
check "the attachment over IMAP: 48000 bytes, the checksum sent" bash -c "
  grep -q '^    part 2 fetched decoded (BINARY\[2\]): 48000 bytes$' '$TMP/out' &&
  imap=\$(sed -n 's/^    sha256 over IMAP: //p' '$TMP/out') &&
  sent=\$(sed -n 's/^    sha256 sent: *//p' '$TMP/out' | sort -u) &&
  test -n \"\$imap\" && test \"\$imap\" = \"\$sent\" &&
  grep -q '^    the attachment read through IMAP matches the one sent$' '$TMP/out'"
check "the POP3 read-back and the MIME steps ran" bash -c "grep -q '^2\. Read it back through POP3' '$TMP/out' && grep -q '^    the attachment arrived byte for byte$' '$TMP/out'"
check "the closing line names POP3 and IMAP" grep -qx 'demo: done (sent through SMTP submission, read back through POP3 and IMAP)' "$TMP/out"

"$RUN" demo --trace >"$TMP/trace" 2>&1
rc=$?
check "./run demo --trace: exit 0" test "$rc" = 0
check "--trace: the IMAP conversation (STARTTLS, UID SEARCH HEADER, BINARY.PEEK)" bash -c "
  grep -qE '^    C: A1 STARTTLS$' '$TMP/trace' &&
  grep -qE '^    C: A[0-9]+ UID SEARCH HEADER Message-ID \"<libmail-demo-' '$TMP/trace' &&
  grep -qE '^    C: A[0-9]+ UID FETCH [0-9]+ \(UID FLAGS BINARY\.PEEK\[2\]\)$' '$TMP/trace'"
check "--trace: the attachment's literal cut short" grep -qE '^    S: \.\.\. \([0-9]+ lines of the literal\)$' "$TMP/trace"
check "--trace: every AUTHENTICATE redacted" bash -c "! grep -E '^    C: A[0-9]+ (AUTHENTICATE|LOGIN) ' '$TMP/trace' | grep -qv '\[redacted\]'"
exit $fail

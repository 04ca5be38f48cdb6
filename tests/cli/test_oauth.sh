#!/bin/bash
# mailcli --oauth-token-env against the real servers: Dovecot's oauth2
# passdb validates the token (an HS256 JWT signed with the key servers.sh
# made, MAIL_TEST_OAUTH2_KEY) locally, for IMAP, POP3 and (through
# Dovecot's SASL) Postfix's submission port. OAUTHBEARER is used, the
# token never reaches the trace, and a token Dovecot refuses (expired,
# signed with another key, for another user) is exit 5 after the RFC 7628
# error challenge was answered.
#
# usage: test_oauth.sh PATH-TO-MAILCLI   (skips with 77 without servers, or
# when the running servers were started without the oauth2 passdb)
set -u
M=${1:?usage: test_oauth.sh MAILCLI}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
. "$HERE/cli_lib.sh"
load_servers_env
if [[ -z ${MAIL_TEST_OAUTH2_KEY:-} ]]; then
  echo "skip: these servers have no oauth2 passdb (started before it was configured)"
  exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
CA="--cafile $MAIL_TEST_CA"
jwt() { "$PY" "$HERE/make_jwt.py" "$MAIL_TEST_OAUTH2_KEY" "$@"; }
IMAP="imap://localhost:$MAIL_TEST_IMAP_PORT"
export TOK
TOK=$(jwt "$MAIL_TEST_USER1")

if "$M" --help | grep -q '^  imap URL'; then
  if run 0 "imap: OAUTHBEARER with a JWT the oauth2 passdb validates" --trace imap "$IMAP" status INBOX --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA; then
    expect "imap oauth: OAUTHBEARER, redacted, no token in the trace" bash -c "grep -qE '^C: A[0-9]+ AUTHENTICATE OAUTHBEARER \[redacted\]' '$TMP/err' && grep -qx '\* authenticated with OAUTHBEARER' '$TMP/err' && ! grep -qF '$TOK' '$TMP/err'"
    expect "imap oauth: logged in (the STATUS came)" grep -q '^INBOX: messages=' "$TMP/out"
  fi
  run 0 "imaps: OAUTHBEARER, the user in the URL" imap "imaps://$MAIL_TEST_USER1@localhost:$MAIL_TEST_IMAPS_PORT" list INBOX --oauth-token-env TOK $CA
  TOK=$(jwt "$MAIL_TEST_USER1" -60) run 5 "imap: an expired token" --trace imap "$IMAP" status INBOX --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA &&
    expect "expired: the error challenge answered, the server's NO, LOGOUT" bash -c "grep -qE '^S: \+ [A-Za-z0-9+/=]+\$' '$TMP/err' && grep -q '^mailcli: login: NO ' '$TMP/err' && grep -qE '^C: A[0-9]+ LOGOUT' '$TMP/err'"
  TOK=$("$PY" "$HERE/make_jwt.py" "$(openssl rand -base64 32)" "$MAIL_TEST_USER1") run 5 "imap: a token signed with another key" imap "$IMAP" status INBOX --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA
  TOK=$(jwt "$MAIL_TEST_USER2") run 5 "imap: a token for another user" imap "$IMAP" status INBOX --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA
fi
run 0 "pop3: OAUTHBEARER" --trace pop3 "pop3://localhost:$MAIL_TEST_POP3_PORT" stat --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA &&
  expect "pop3 oauth: OAUTHBEARER, no token in the trace" bash -c "grep -qx '\* authenticated with OAUTHBEARER' '$TMP/err' && ! grep -qF '$TOK' '$TMP/err'"
MID="mailcli-oauth-$$-$(date +%s%N)@$MAIL_TEST_DOMAIN"
if run 0 "submission: OAUTHBEARER through Dovecot's SASL" --trace send "submission://localhost:$MAIL_TEST_SUBMISSION_PORT" --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR1" --subject "mailcli oauth $$" --message-id "<$MID>"; then
  expect "submission oauth: AUTH OAUTHBEARER redacted, no token" bash -c "grep -qx 'C: AUTH OAUTHBEARER \[redacted\]' '$TMP/err' && ! grep -qF '$TOK' '$TMP/err'"
  # The message is this test's: found by its Message-ID once delivered, removed.
  if "$M" --help | grep -q '^  imap URL'; then
    for ((i = 0; i < 60; i++)); do
      uid=$("$M" imap "$IMAP" search INBOX HEADER Message-ID "<$MID>" --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA 2>/dev/null)
      [[ -n $uid ]] && break
      sleep 0.5
    done
    [[ -n $uid ]] && run 0 "remove the submission test's message (IMAP, OAUTHBEARER)" imap "$IMAP" delete INBOX --uid "$uid" --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA
  fi
fi
TOK=$(jwt "$MAIL_TEST_USER1" -60) run 5 "submission: an expired token" send "submission://localhost:$MAIL_TEST_SUBMISSION_PORT" --user "$MAIL_TEST_USER1" --oauth-token-env TOK $CA --from "$MAIL_TEST_ADDR1" --to "$MAIL_TEST_ADDR1"
exit $fail

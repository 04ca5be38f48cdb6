#!/bin/bash
# The bash completion file: loaded with stand-ins for bash-completion's
# helpers (_init_completion, _filedir), it completes commands, actions,
# options and option values.
# usage: test_completion.sh MAILCLI.BASH-COMPLETION
set -u
file=${1:?usage: test_completion.sh COMPLETION-FILE}
_init_completion() {
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  words=("${COMP_WORDS[@]}")
  cword=$COMP_CWORD
}
_filedir() { COMPREPLY=(FILES); }
complete() { :; }
. "$file"
fail=0
# check "WORDS ON THE LINE" EXPECTED...: completing the last word offers
# exactly EXPECTED (sorted).
check() {
  local line=$1
  shift
  read -ra COMP_WORDS <<<"$line"
  [[ $line == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _mailcli
  local got want
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
  want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
  if [[ $got == "$want" ]]; then
    echo "ok: '$line' -> $want"
  else
    echo "FAIL: '$line' -> '$got', expected '$want'"
    fail=1
  fi
}
check "mailcli " caps send pop3 imap nntp mime
check "mailcli nntp n" nntp:// nntps://
check "mailcli nntp nntp://h " groups over article post
check "mailcli nntp nntp://h post " FILES
check "mailcli --trace p" pop3
check "mailcli pop3 pop3://h " stat list uidl retr top dele fetch
check "mailcli --cafile ca.pem pop3 pop3://h r" retr
check "mailcli mime " parse extract build
check "mailcli --tls s" starttls starttls-opportunistic
check "mailcli send smtp://h --att" --attach
check "mailcli send smtp://h --attach " FILES
check "mailcli --mech SCRAM-SHA-256-" SCRAM-SHA-256-PLUS
check "mailcli pop3 pop3://h fetch --k" --keep
check "mailcli imap " imap:// imaps:// parse
check "mailcli imap imaps://h " list status select search fetch append copy move store delete create delete-mailbox rename idle sync
check "mailcli imap imaps://h sync INBOX state --str" --strategy
check "mailcli imap imaps://h sync INBOX state --strategy " condstore full qresync
check "mailcli --trace imap imaps://h de" delete delete-mailbox
check "mailcli imap imaps://h fetch INBOX 1 --bo" --bodystructure
check "mailcli imap imaps://h fetch INBOX 1 --raw --out" --output
check "mailcli imap imaps://h append INBOX " FILES
check "mailcli imap imaps://h append INBOX m.eml --fl" --flag
check "mailcli imap parse " FILES
check "mailcli caps im" imap:// imaps://
exit $fail

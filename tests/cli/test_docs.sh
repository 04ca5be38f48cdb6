#!/bin/bash
# mailcli's documentation agrees with it: every option --help names is in
# the man page and the bash completion, and both list the same exit codes.
# usage: test_docs.sh MAILCLI MANPAGE COMPLETION
set -u
M=${1:?usage: test_docs.sh MAILCLI MANPAGE COMPLETION}
MAN=${2:?}
COMP=${3:?}
fail=0
help=$("$M" --help) || { echo "FAIL: mailcli --help"; exit 1; }
for opt in $(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
  man_form=${opt//-/\\-}
  grep -qF -- "$man_form" "$MAN" || { echo "FAIL: $opt is not in the man page"; fail=1; }
  grep -qw -- "$opt" "$COMP" || { echo "FAIL: $opt is not in the bash completion"; fail=1; }
done
for code in 0 2 3 4 5 6 7 8 9; do
  grep -qE "(^|  )$code [a-zA-Z(]" <<<"$help" || { echo "FAIL: exit code $code not in --help"; fail=1; }
  sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$MAN" | grep -qx "\.B $code" ||
    { echo "FAIL: exit code $code not in the man page"; fail=1; }
done
((fail)) || echo "ok: --help, the man page and the completion agree"
exit $fail

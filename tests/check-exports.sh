#!/bin/sh
# Fails when libmail.so exports a symbol outside the mail_ namespace, or a
# mail_ symbol that no public header declares.
set -eu
lib="$1"
srcdir="${MAIL_TEST_SRCDIR:-$(dirname "$0")}/.."
syms=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
bad=0
for s in $syms; do
  case "$s" in
    LIBMAIL_*) continue ;;
    mail_*) ;;
    *) echo "exported symbol outside the mail_ namespace: $s"; bad=1; continue ;;
  esac
  if ! grep -qw "$s" "$srcdir"/include/mail/*.h "$srcdir"/include/mail/*.h.in 2>/dev/null; then
    echo "exported but not declared in a public header: $s"; bad=1
  fi
done
n=$(echo "$syms" | grep -c '^mail_' || true)
if [ "$bad" -ne 0 ]; then exit 1; fi
echo "$n exported symbols, all mail_* and declared in include/mail"

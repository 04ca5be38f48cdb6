#!/bin/sh
# Fails when a public header defines a constant as a macro: every public
# constant is a value of a named enum type, so bindings (ctypes, cffi,
# clang-based generators) read them from the headers instead of copying
# numbers by hand. The macros below are the exceptions, each with its reason.
#
#   tests/headers/check-defines.sh [header-dir ...]   (default: include/mail)
set -eu
srcdir="${MAIL_TEST_SRCDIR:-$(dirname "$0")/..}/.."
dirs="$*"
[ -n "$dirs" ] || dirs="$srcdir/include/mail"

# name<TAB>reason. A pattern ending in * matches a prefix.
allow='MAIL_*_H	include guard
MAIL_EXTERN	visibility attribute: a macro by nature
MAIL_VERSION_MAJOR	version of the headers: callers compare it in #if
MAIL_VERSION_MINOR	version of the headers: callers compare it in #if
MAIL_VERSION_PATCH	version of the headers: callers compare it in #if
MAIL_VERSION_STRING	a string literal: cannot be an enum
MAIL_VERSION_NUMBER	version of the headers: callers compare it in #if
MAIL_HAVE_*	which modules the headers were built with: callers test it in #if (mail_features() says the same at run time)
MAIL_LIMITS_VERSION	struct version: callers test it in #if to use newer fields
MAIL_TRANSPORT_OPS_VERSION	struct version: callers test it in #if to use newer members
MAIL_MIME_LIMITS_VERSION	struct version: callers test it in #if to use newer fields
MAIL_MIME_CALLBACKS_VERSION	struct version: callers test it in #if to use newer members
MAIL_MBOX_CALLBACKS_VERSION	struct version: callers test it in #if to use newer members
MAIL_SMTP_RETRY_VERSION	struct version: callers test it in #if to use newer members
MAIL_MIME_LENGTH_UNKNOWN	UINT64_MAX: wider than an enum (int) can hold
MAIL_SMTP_SIZE_UNKNOWN	UINT64_MAX: wider than an enum (int) can hold'

allowed() {
  echo "$allow" | while IFS='	' read -r pat reason; do
    case "$1" in
      $pat) echo yes; break ;;
    esac
  done
}

bad=0 n=0
for d in $dirs; do
  for h in "$d"/*.h "$d"/*.h.in; do
    [ -f "$h" ] || continue
    # Continuation lines never start with #define, so one name per match.
    for name in $(sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' "$h"); do
      n=$((n + 1))
      if [ -z "$(allowed "$name")" ]; then
        echo "$(basename "$h"): $name is a #define: make it a value of a named enum (or add it to the allow-list in $0 with the reason)"
        bad=1
      fi
    done
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "$n macros in the public headers, all on the allow-list"

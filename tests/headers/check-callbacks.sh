#!/bin/sh
# Fails when a public header writes a function-pointer type inline (a
# parameter or struct member) instead of naming a typedef, or when a
# callback with the shape of a write callback (user, bytes, length) is
# declared under another name than mail_write_fn: bindings declare each
# callback type once and every writer takes the same one.
#
#   tests/headers/check-callbacks.sh [header-dir ...]   (default: include/mail)
set -eu
srcdir="${MAIL_TEST_SRCDIR:-$(dirname "$0")/..}/.."
dirs="$*"
[ -n "$dirs" ] || dirs="$srcdir/include/mail"
bad=0 n=0
for d in $dirs; do
  for h in "$d"/*.h "$d"/*.h.in; do
    [ -f "$h" ] || continue
    # One declaration per record: comments and preprocessor lines dropped,
    # lines joined up to the ';' that ends the declaration.
    out=$(sed -e 's://.*$::' -e '/^[[:space:]]*#/d' "$h" | awk '
      { line = line " " $0 }
      END {
        gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", line)
        n = split(line, decl, ";")
        for (i = 1; i <= n; i++) {
          s = decl[i]; gsub(/[ \t]+/, " ", s)
          sub(/^.*[{}]/, "", s)
          if (s !~ /\( *\* *[A-Za-z_][A-Za-z0-9_]* *\) *\(/) continue
          if (s ~ /^ *typedef /) {
            print "T" s
          } else {
            print "I" s
          }
        }
      }')
    old_ifs=$IFS
    IFS='
'
    for rec in $out; do
      n=$((n + 1))
      kind=${rec%"${rec#?}"}; s=${rec#?}
      case $kind in
        I) echo "$(basename "$h"): inline function-pointer type, name a typedef:$s"; bad=1 ;;
        T) name=$(echo "$s" | sed -n 's/.*( *\* *\([A-Za-z_][A-Za-z0-9_]*\) *) *(.*/\1/p')
           if echo "$s" | grep -Eq '\( *void \*[a-z_]+ *, *const (void|unsigned char) \*[a-z_]+ *, *size_t [a-z_]+ *\) *$' \
              && echo "$s" | grep -Eq '^ *typedef int ' && [ "$name" != mail_write_fn ]; then
             echo "$(basename "$h"): $name has the write callback's shape: use mail_write_fn"; bad=1
           fi ;;
      esac
    done
    IFS=$old_ifs
  done
done
[ "$bad" -eq 0 ] || exit 1
echo "$n function-pointer types in the public headers, all named typedefs"

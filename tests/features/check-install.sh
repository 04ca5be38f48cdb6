#!/bin/sh
# Installs a configured build into a scratch directory and checks it the
# way a user of that installation would meet it: a module's headers are
# installed exactly when MAIL_HAVE_<module> is 1, and check_features.c,
# compiled as C99 -pedantic against the installed headers and library,
# finds MAIL_HAVE_*, the headers mail.h included and mail_features() in
# agreement; then the same program linked statically against libmail.a
# with the pkg-config file's private fields, and built by CMake through the
# installed package config (shared and static targets).
#
#   tests/features/check-install.sh BUILD_DIR [CC]   (CFLAGS: extra compiler flags)
set -eu
build=$(cd "$1" && pwd)
cc=${2:-${CC:-cc}}
here=$(cd "$(dirname "$0")" && pwd)
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null
feat=$(find "$dest" -path '*/mail/features.h' | head -n 1)
[ -n "$feat" ] || { echo "features.h not installed"; exit 1; }
inc=$(dirname "$(dirname "$feat")")
lib=$(find "$dest" -name 'libmail.so' | head -n 1)
[ -n "$lib" ] || { echo "libmail.so not installed"; exit 1; }
libdir=$(dirname "$lib")
bad=0
have() { sed -n "s/^#define MAIL_HAVE_$1 \([01]\)$/\1/p" "$feat"; }
for pair in SMTP:smtp.h SMTP:smtp_reply.h SMTP_POOL:smtp_pool.h LOOP:loop.h POP3:pop3.h POP3:pop3_reply.h MIME:mime.h \
            MIME:mime_build.h IMAP:imap_parse.h MAILDIR:maildir.h; do
  mod=${pair%%:*} h=${pair#*:}
  h_have=0
  [ -f "$inc/mail/$h" ] && h_have=1
  if [ "$(have "$mod")" != "$h_have" ]; then
    echo "MAIL_HAVE_$mod is $(have "$mod") but mail/$h is $( [ $h_have = 1 ] && echo installed || echo missing)"
    bad=1
  fi
done
# shellcheck disable=SC2086 # CFLAGS is a list of flags
"$cc" -std=c99 -pedantic -Wall -Wextra -Werror ${CFLAGS:-} -I"$inc" "$here/check_features.c" \
  -L"$libdir" -lmail -o "$dest/check_features"
LD_LIBRARY_PATH="$libdir" "$dest/check_features" || bad=1
# The same program linked statically: libmail.a plus what the pkg-config
# file's private fields say a static link needs.
if [ -f "$libdir/libmail.a" ]; then
  priv=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --static --libs libmail | sed 's/-lmail\b//')
  # shellcheck disable=SC2086 # CFLAGS and priv are lists of flags
  "$cc" -std=c99 -pedantic -Wall -Wextra -Werror ${CFLAGS:-} -I"$inc" "$here/check_features.c" \
    "$libdir/libmail.a" $priv -o "$dest/check_features_static" &&
    "$dest/check_features_static" || { echo "static link against libmail.a failed"; bad=1; }
else
  echo "libmail.a not installed"; bad=1
fi
# And through the CMake package config (find_package(libmail)).
prefix=$(dirname "$inc")
if command -v cmake >/dev/null 2>&1; then
  if cmake -S "$here/cmake" -B "$dest/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
       -DCMAKE_C_COMPILER="$cc" >"$dest/cmake.log" 2>&1 &&
     cmake --build "$dest/cmake-build" >>"$dest/cmake.log" 2>&1; then
    LD_LIBRARY_PATH="$libdir" "$dest/cmake-build/check_features_cmake" >/dev/null || bad=1
    if [ -x "$dest/cmake-build/check_features_cmake_static" ]; then
      "$dest/cmake-build/check_features_cmake_static" >/dev/null || bad=1
    else
      echo "find_package(libmail) gave no libmail::mail_static"; bad=1
    fi
  else
    cat "$dest/cmake.log"; echo "find_package(libmail) failed"; bad=1
  fi
else
  echo "cmake missing (.ci/packages.txt lists it)"; bad=1
fi
[ "$bad" -eq 0 ] || exit 1
echo "installed headers, MAIL_HAVE_* and mail_features() agree"

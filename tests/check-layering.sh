#!/bin/sh
# Architecture check (suite 'build'):
#  - OpenSSL headers are included only by the TLS transport
#    (lib/net/tls_openssl*) and the crypto shim (lib/crypto/crypto_openssl.c),
#    and never by a public header;
#  - socket headers are included only under lib/net/ (protocol, SASL, MIME
#    and core code does no I/O) and never by a public header.
set -eu
srcdir="${MAIL_TEST_SRCDIR:-$(dirname "$0")}/.."
cd "$srcdir"
bad=0
incl='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]'
files=$(find lib include -type f \( -name '*.c' -o -name '*.h' -o -name '*.in' \) | sort)
for f in $files; do
  case "$f" in
    lib/net/tls_openssl*|lib/crypto/crypto_openssl.c) ;;
    *)
      if grep -En "${incl}openssl/" "$f" >/dev/null; then
        grep -En "${incl}openssl/" "$f" | sed "s|^|$f: OpenSSL header outside the TLS transport and crypto shim: |"
        bad=1
      fi ;;
  esac
  case "$f" in
    lib/net/*) ;;
    *)
      pat="${incl}(sys/socket\.h|netdb\.h|netinet/|arpa/|poll\.h|sys/un\.h|sys/select\.h|sys/epoll\.h)"
      if grep -En "$pat" "$f" >/dev/null; then
        grep -En "$pat" "$f" | sed "s|^|$f: socket header outside lib/net/: |"
        bad=1
      fi ;;
  esac
  case "$f" in
    lib/net/*) ;;
    *)
      pat="${incl}(\\.\\./)*(lib/)?net/[^\">]*\\.h"
      if grep -En "$pat" "$f" >/dev/null; then
        grep -En "$pat" "$f" | sed "s|^|$f: lib/net header outside lib/net/ (use core/conn_internal.h): |"
        bad=1
      fi ;;
  esac
  case "$f" in
    include/*)
      pat="${incl}\"(\\.\\./)*(lib/)?(core|net|smtp|pop3|sasl|parse|mime|crypto)/"
      if grep -En "$pat" "$f" >/dev/null; then
        grep -En "$pat" "$f" | sed "s|^|$f: internal header in a public header: |"
        bad=1
      fi ;;
  esac
done
[ "$bad" -eq 0 ] || exit 1
echo "layering ok: $(echo "$files" | wc -l) files checked"

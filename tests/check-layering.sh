#!/bin/sh
# Architecture check (suite 'build'):
#  - OpenSSL headers are included only by the TLS transport
#    (lib/net/tls_openssl*) and the crypto shim (lib/crypto/crypto_openssl.c),
#    and never by a public header;
#  - socket headers are included only under lib/net/ (protocol, SASL, MIME
#    and core code does no I/O) and never by a public header;
#  - project headers: lib/net/*.h (the transport's insides) are included
#    only under lib/net/ (engines see a connection through
#    lib/core/conn_internal.h), and a public header includes no lib/ header.
set -eu
srcdir="${MAIL_TEST_SRCDIR:-$(dirname "$0")}/.."
cd "$srcdir"
bad=0
incl='^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]'
files=$(find lib include -type f \( -name '*.c' -o -name '*.h' -o -name '*.in' \) | sort)

# forbid FILE PATTERN MESSAGE: FILE must not include what PATTERN matches.
forbid() {
  if grep -En "${incl}$2" "$1" >/dev/null; then
    grep -En "${incl}$2" "$1" | sed "s|^|$1: $3: |"
    bad=1
  fi
}

for f in $files; do
  case "$f" in
    lib/net/tls_openssl*|lib/crypto/crypto_openssl.c) ;;
    *) forbid "$f" 'openssl/' 'OpenSSL header outside the TLS transport and crypto shim' ;;
  esac
  case "$f" in
    lib/net/*) ;;
    *)
      forbid "$f" '(sys/socket\.h|netdb\.h|netinet/|arpa/|poll\.h|sys/un\.h|sys/select\.h|sys/epoll\.h)' \
        'socket header outside lib/net/'
      forbid "$f" '(\.\./)*(lib/)?net/[^">]*\.h' \
        'lib/net header outside lib/net/ (use core/conn_internal.h)' ;;
  esac
  case "$f" in
    include/*)
      forbid "$f" '"(\.\./)*(lib/)?(core|net|smtp|pop3|sasl|parse|mime|crypto)/' \
        'internal header in a public header' ;;
  esac
done
[ "$bad" -eq 0 ] || exit 1
echo "layering ok: $(echo "$files" | wc -l) files checked"

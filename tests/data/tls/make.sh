#!/bin/sh
# Regenerates the TLS unit-test fixtures in this directory (test-only keys,
# valid for 100 years; committing them is deliberate):
#   ca.pem                a private CA
#   server.pem server.key  signed by ca.pem for localhost, 127.0.0.1, ::1
#   client.pem client.key  a client certificate signed by ca.pem
#   client-enc.key         the same key, encrypted with "test-passphrase"
#   other.pem other.key    a self-signed certificate no CA vouches for
set -eu
cd "$(dirname "$0")"
days=36500
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -new $ec -keyout "$tmp/ca.key" -out ca.pem -days $days -sha256 \
  -subj "/CN=libmail unit-test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
leaf() { # name cn san
  openssl req -new $ec -keyout "$1.key" -out "$tmp/$1.csr" -subj "/CN=$2"
  printf 'basicConstraints=CA:FALSE\n%s\n' "$3" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA ca.pem -CAkey "$tmp/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -out "$1.pem" -days $days -sha256 -extfile "$tmp/$1.ext"
}
leaf server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"
leaf client "libmail test client" "extendedKeyUsage=clientAuth"
openssl pkey -in client.key -aes-256-cbc -passout pass:test-passphrase -out client-enc.key
openssl req -x509 -new $ec -keyout other.key -out other.pem -days $days -sha256 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost"

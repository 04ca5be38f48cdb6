"""An HS256 JWT for Dovecot's oauth2 passdb in local validation mode.

usage: make_jwt.py BASE64-KEY SUB [EXPIRES-IN-SECONDS]
Prints header.payload.signature: {"alg": "HS256", "typ": "JWT"} and
{"sub": SUB, "iat": now, "exp": now + EXPIRES-IN-SECONDS (default 3600)},
signed with the key. A negative EXPIRES-IN gives an expired token.
Stdlib only."""
import base64
import hashlib
import hmac
import json
import sys
import time


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=")


key = base64.b64decode(sys.argv[1])
sub = sys.argv[2]
expires_in = int(sys.argv[3]) if len(sys.argv) > 3 else 3600
now = int(time.time())
header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
payload = b64url(json.dumps({"sub": sub, "iat": now, "exp": now + expires_in}).encode())
signature = b64url(hmac.new(key, header + b"." + payload, hashlib.sha256).digest())
print((header + b"." + payload + b"." + signature).decode())

#!/usr/bin/python3
"""A one-connection SCRAM test server over TLS, independent of libmail.

It implements the server side of SCRAM-SHA-1/256 and their -PLUS variants
(RFC 5802, RFC 7677) with hashlib/hmac, and takes channel-binding data from
pyOpenSSL (Debian's python3-openssl): tls-exporter (RFC 9266) through
export_keying_material, tls-server-end-point (RFC 5929) from its own
certificate. It never imports or reuses libmail code, so a libmail bug
cannot hide behind the same bug on both sides.

Line protocol (CRLF):
  S: * MECHS <advertised mechanisms>
  C: AUTH <mech> [<base64 initial response>]
  S: + <base64 challenge>          (empty after AUTH without a response)
  C: <base64 response> | *
  S: OK [<base64 final data>] | NO <reason> | BAD unsupported

It prints "PORT <n>" on stdout once listening, serves one connection, then
prints "RESULT <text>" and exits. Everything is bounded by a 30 s alarm.
"""
import argparse
import base64
import hashlib
import hmac
import os
import signal
import socket
import sys

from OpenSSL import SSL, crypto

SSL_OP_NO_EXTENDED_MASTER_SECRET = 0x1  # OpenSSL 3.0's SSL_OP_BIT(0)

HASHES = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tls", choices=["1.2", "1.3"], default="1.3")
    p.add_argument("--no-ems", action="store_true",
                   help="TLS 1.2 without the extended master secret")
    p.add_argument("--advertise", default="SCRAM-SHA-256-PLUS SCRAM-SHA-256 "
                   "SCRAM-SHA-1-PLUS SCRAM-SHA-1")
    p.add_argument("--supports-plus", action="store_true",
                   help="support channel binding even when not advertised")
    p.add_argument("--user", default="alice")
    p.add_argument("--password", default="alice-pw-1")
    p.add_argument("--iterations", type=int, default=4096)
    p.add_argument("--wrong-cb", choices=["no", "check", "proof"], default="no",
                   help="check: expect other CB data than the channel's (the "
                   "client is refused); proof: ignore the client's binding and "
                   "sign the server-final over other CB data")
    p.add_argument("--final-in-continuation", action="store_true")
    return p.parse_args()


class Lines:
    def __init__(self, conn):
        self.conn = conn
        self.buf = b""

    def read(self):
        while b"\r\n" not in self.buf:
            try:
                chunk = self.conn.recv(4096)
            except (SSL.ZeroReturnError, SSL.SysCallError):
                chunk = b""
            if not chunk:
                raise EOFError
            self.buf += chunk
            if len(self.buf) > 65536:
                raise ValueError("line too long")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8")

    def write(self, text):
        self.conn.sendall((text + "\r\n").encode("utf-8"))


def cb_data(conn, cb_type):
    if cb_type == "tls-exporter":
        return conn.export_keying_material(b"EXPORTER-Channel-Binding", 32)
    if cb_type == "tls-server-end-point":
        cert = conn.get_certificate()
        alg = cert.get_signature_algorithm().decode().lower()
        name = "sha256"
        for h in ("sha384", "sha512"):
            if h in alg:
                name = h
        der = crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)
        return hashlib.new(name, der).digest()
    raise ValueError("unknown channel-binding type " + cb_type)


def scram(io, conn, args, mech, first):
    plus = mech.endswith("-PLUS")
    hname = HASHES[mech[:-5] if plus else mech]

    # client-first-message = gs2-header client-first-message-bare
    cbflag, authzid, bare = first.split(",", 2)
    gs2 = cbflag + "," + authzid + ","
    attrs = dict(a.split("=", 1) for a in bare.split(","))
    user = attrs["n"].replace("=2C", ",").replace("=3D", "=")
    cnonce = attrs["r"]
    if plus != cbflag.startswith("p="):
        return "NO gs2 flag does not match the mechanism"
    if cbflag == "y" and (args.supports_plus or "-PLUS" in args.advertise):
        # RFC 5802: the client thinks we lack channel binding; we have it.
        return "NO downgrade detected"
    cbytes = b""
    if plus:
        cbytes = cb_data(conn, cbflag[2:])
        if args.wrong_cb != "no":
            cbytes = bytes([cbytes[0] ^ 0xFF]) + cbytes[1:]

    salt = os.urandom(16)
    snonce = cnonce + base64.b64encode(os.urandom(18)).decode()
    server_first = "r=%s,s=%s,i=%d" % (snonce, base64.b64encode(salt).decode(),
                                       args.iterations)
    io.write("+ " + base64.b64encode(server_first.encode()).decode())
    line = io.read()
    if line == "*":
        return "NO aborted"
    final = base64.b64decode(line, validate=True).decode()
    without_proof, proof_b64 = final.rsplit(",p=", 1)
    fattrs = dict(a.split("=", 1) for a in without_proof.split(","))
    if fattrs["r"] != snonce:
        return "NO nonce mismatch"

    expected_c = base64.b64encode(gs2.encode() + cbytes).decode()
    if args.wrong_cb == "proof":
        # Sign over our (wrong) view of the channel, as a man in the middle
        # with a different TLS session would.
        without_proof = "c=%s,r=%s" % (expected_c, snonce)
    elif fattrs["c"] != expected_c:
        return "NO channel bindings do not match"

    password = args.password.encode("utf-8")
    salted = hashlib.pbkdf2_hmac(hname, password, salt, args.iterations)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hname).digest()
    auth_message = ",".join([bare, server_first, without_proof]).encode()
    client_sig = hmac.new(stored_key, auth_message, hname).digest()
    if args.wrong_cb != "proof":
        proof = base64.b64decode(proof_b64, validate=True)
        recovered = bytes(a ^ b for a, b in zip(proof, client_sig))
        if user != args.user or hashlib.new(hname, recovered).digest() != stored_key:
            return "NO invalid proof"
    server_sig = hmac.new(server_key, auth_message, hname).digest()
    verifier = "v=" + base64.b64encode(server_sig).decode()
    verifier_b64 = base64.b64encode(verifier.encode()).decode()
    if args.final_in_continuation:
        io.write("+ " + verifier_b64)
        line = io.read()
        if line != "":
            return "NO client refused our signature (%s)" % line
        return "OK"
    return "OK " + verifier_b64


def main():
    args = parse_args()
    signal.alarm(30)
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.use_certificate_file(args.cert)
    ctx.use_privatekey_file(args.key)
    ver = SSL.TLS1_3_VERSION if args.tls == "1.3" else SSL.TLS1_2_VERSION
    ctx.set_min_proto_version(ver)
    ctx.set_max_proto_version(ver)
    if args.no_ems:
        ctx.set_options(SSL_OP_NO_EXTENDED_MASTER_SECRET)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("PORT %d" % lsock.getsockname()[1], flush=True)
    sock, _ = lsock.accept()
    conn = SSL.Connection(ctx, sock)
    conn.set_accept_state()
    result = "error"
    try:
        conn.do_handshake()
        io = Lines(conn)
        io.write("* MECHS " + args.advertise)
        words = io.read().split(" ")
        mech = words[1].upper() if len(words) > 1 else ""
        known = mech in args.advertise.split() or (
            args.supports_plus and mech.endswith("-PLUS"))
        if words[0] != "AUTH" or not known or mech.replace("-PLUS", "") not in HASHES:
            result = "BAD unsupported"
        else:
            if len(words) > 2:
                first = words[2]
            else:
                io.write("+ ")
                first = io.read()
            if first == "*":
                result = "NO aborted"
            else:
                first = base64.b64decode(first, validate=True).decode()
                result = scram(io, conn, args, mech, first)
        io.write(result)
        conn.shutdown()
    except (EOFError, SSL.Error, ValueError, KeyError) as e:
        result = "error %s" % type(e).__name__
    finally:
        sock.close()
    print("RESULT " + result, flush=True)


if __name__ == "__main__":
    sys.exit(main())

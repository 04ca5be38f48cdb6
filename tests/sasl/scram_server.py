#!/usr/bin/python3
"""A SCRAM test server over TLS, independent of libmail.

It implements the server side of SCRAM-SHA-1/256 and their -PLUS variants
(RFC 5802, RFC 7677) with hashlib/hmac, and takes channel-binding data from
pyOpenSSL (Debian's python3-openssl): tls-exporter (RFC 9266) through
export_keying_material, tls-server-end-point (RFC 5929) from its own
certificate, tls-unique (RFC 5929) from the handshake's first Finished
message (the client's on a full handshake, ours on a resumed one). It never
imports or reuses libmail code, so a libmail bug cannot hide behind the same
bug on both sides.

--cb-types limits the binding types it can check. With
"--cb-types tls-unique" it behaves like Cyrus IMAP/POP3 3.6 with Cyrus SASL
2.1.28: it advertises -PLUS (also under TLS 1.3, where tls-unique does not
exist) and refuses any other type, and any binding under TLS 1.3, only at
client-final, as an authentication failure.

--proto picks the framing:
  line (default):
    S: * MECHS <advertised mechanisms>
    C: AUTH <mech> [<base64 initial response>]
    S: + <base64 challenge>          (empty after AUTH without a response)
    C: <base64 response> | *
    S: OK [<base64 final data>] | NO <reason> | BAD unsupported
  smtp: 220 greeting, EHLO (250 AUTH ...), AUTH (RFC 4954: 334, 235, 535,
    501 after "*", 504), QUIT; --starttls: STARTTLS first (RFC 3207).
  pop3: +OK greeting, CAPA (SASL ...), AUTH (RFC 5034: "+ ", +OK,
    "-ERR [AUTH] ..."), CAPA, QUIT; --starttls: STLS first (RFC 2595).
  imap: "* OK [CAPABILITY ... SASL-IR AUTH=...]" greeting, tagged
    CAPABILITY, NOOP, LOGOUT, AUTHENTICATE (RFC 9051 6.2.2: "+ ", tagged
    OK / NO / BAD, the initial response on the line, RFC 4959);
    --starttls: CAPABILITY and STARTTLS first (RFC 9051 6.2.1), the
    capabilities asked again after TLS.
With smtp, pop3 and imap the server-final message always travels in a
continuation (neither protocol has success data) and a client may try
again after a failure on the same connection.

It prints "PORT <n>" on stdout once listening, serves --connections
connections one after the other (TLS sessions may resume between them),
prints "ATTEMPT <mech> <gs2 flag> <result>" for every exchange and
"RESULT <text>" (the last exchange's result) at the end, and exits.
Everything is bounded by a 30 s alarm.
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
CB_TYPES = ("tls-exporter", "tls-server-end-point", "tls-unique")


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--tls", choices=["1.2", "1.3"], default="1.3")
    p.add_argument("--no-ems", action="store_true",
                   help="TLS 1.2 without the extended master secret")
    p.add_argument("--proto", choices=["line", "smtp", "pop3", "imap"], default="line")
    p.add_argument("--starttls", action="store_true",
                   help="smtp/pop3: plain connection upgraded by STARTTLS/STLS")
    p.add_argument("--connections", type=int, default=1)
    p.add_argument("--close-after-failure", action="store_true",
                   help="end the connection after a failed exchange")
    p.add_argument("--advertise", default="SCRAM-SHA-256-PLUS SCRAM-SHA-256 "
                   "SCRAM-SHA-1-PLUS SCRAM-SHA-1")
    p.add_argument("--supports-plus", action="store_true",
                   help="support channel binding even when not advertised")
    p.add_argument("--cb-types", default=",".join(CB_TYPES),
                   help="comma-separated channel-binding types it can check; "
                   "others are refused at client-final (like Cyrus SASL)")
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


def tls_version(conn):
    return conn.get_protocol_version_name()


def cb_data(conn, cb_type):
    """The channel's binding data of cb_type, or None where it is undefined."""
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
    if cb_type == "tls-unique":
        if tls_version(conn) == "TLSv1.3":
            return None  # RFC 9266: not defined for TLS 1.3
        # pyOpenSSL has no public "session reused"; its cffi binding does.
        reused = SSL._lib.SSL_session_reused(conn._ssl) == 1
        # The first Finished of the handshake: the client's (our peer's) on
        # a full handshake, ours when the server speaks first (resumption).
        return conn.get_finished() if reused else conn.get_peer_finished()
    return None


class Dialect:
    """How one protocol frames the exchange: the line protocol here; the
    subclasses change only the texts and their own commands."""

    CHALLENGE = "+ "            # prefix of a challenge
    SUCCESS = None              # success reply; None: "OK <final data>"
    FAILURE = "NO %s"
    UNSUPPORTED = "BAD unsupported"
    ABORTED = "NO aborted"

    def __init__(self, io, args):
        self.io = io
        self.args = args

    def split(self, line):
        """A command line's words (IMAP: without its tag, AUTHENTICATE as AUTH)."""
        return line.split(" ")

    def reply(self, text):
        """A final reply as sent (IMAP: tagged)."""
        return text

    def greet(self):
        self.io.write("* MECHS " + self.args.advertise)

    def command(self, verb, tls):
        """Answer a command other than AUTH; False when it ends the session."""
        return False

    def auth_command(self):
        """The next AUTH command's words, or None when the client is done."""
        while True:
            try:
                line = self.io.read()
            except EOFError:
                return None
            words = self.split(line)
            if words[0].upper() == "AUTH" or self.SUCCESS is None:
                return words
            if not self.command(words[0].upper(), True):
                return None

    def challenge(self, b64):
        self.io.write(self.CHALLENGE + b64)

    def read_response(self):
        return self.io.read()

    def success(self, final_b64):
        if self.SUCCESS is None and not self.args.final_in_continuation:
            self.io.write("OK " + final_b64)
            return "OK " + final_b64
        # The server-final message in a continuation, answered empty.
        self.challenge(final_b64)
        line = self.io.read()
        if line != "":
            return "NO client refused our signature (%s)" % line
        self.io.write(self.reply(self.SUCCESS or "OK"))
        return "OK"

    def failure(self, reason):
        self.io.write(self.reply(self.FAILURE % reason))

    def unsupported(self):
        self.io.write(self.reply(self.UNSUPPORTED))

    def aborted(self):
        self.io.write(self.reply(self.ABORTED))


class Smtp(Dialect):
    CHALLENGE = "334 "
    SUCCESS = "235 2.7.0 Authentication successful"
    FAILURE = "535 5.7.8 Authentication credentials invalid (%s)"
    UNSUPPORTED = "504 5.5.4 Unrecognized authentication type"
    ABORTED = "501 5.7.0 Authentication aborted"
    UPGRADE = ("STARTTLS", "220 2.0.0 Ready to start TLS")
    UNKNOWN = "502 5.5.2 Unknown command"

    def greet(self):
        self.io.write("220 scram.test ESMTP")

    def command(self, verb, tls):
        if verb == "EHLO":
            ext = ["AUTH " + self.args.advertise] if tls else ["STARTTLS"]
            lines = ["scram.test", "ENHANCEDSTATUSCODES"] + ext
            for i, text in enumerate(lines):
                self.io.write("250%s%s" % (" " if i == len(lines) - 1 else "-", text))
        elif verb in ("NOOP", "RSET"):
            self.io.write("250 2.0.0 Ok")
        elif verb == "QUIT":
            self.io.write("221 2.0.0 Bye")
            return False
        else:
            self.io.write(self.UNKNOWN)
        return True


class Pop3(Dialect):
    SUCCESS = "+OK Logged in."
    # What Cyrus pop3d says when its SASL library refuses the exchange.
    FAILURE = "-ERR [AUTH] authenticating: %s"
    UNSUPPORTED = "-ERR Unsupported authentication mechanism."
    ABORTED = "-ERR [AUTH] Authentication aborted."
    UPGRADE = ("STLS", "+OK Begin TLS negotiation")
    UNKNOWN = "-ERR unknown command"

    def greet(self):
        self.io.write("+OK scram.test ready")

    def command(self, verb, tls):
        if verb == "CAPA":
            self.io.write("+OK")
            self.io.write("SASL " + self.args.advertise if tls else "STLS")
            self.io.write("RESP-CODES")
            self.io.write("AUTH-RESP-CODE")
            self.io.write(".")
        elif verb == "QUIT":
            self.io.write("+OK bye")
            return False
        else:
            self.io.write(self.UNKNOWN)
        return True


class Imap(Dialect):
    SUCCESS = "OK [CAPABILITY IMAP4rev1 IDLE] Logged in"
    # What Cyrus imapd says when its SASL library refuses the exchange.
    FAILURE = "NO %s"
    UNSUPPORTED = "NO Unsupported authentication mechanism."
    ABORTED = "BAD Authentication aborted."
    UPGRADE = ("STARTTLS", "OK Begin TLS negotiation now")
    tag = "*"
    secure = False

    def split(self, line):
        words = line.split(" ")
        self.tag = words[0]
        words = words[1:] or [""]
        if words[0].upper() == "AUTHENTICATE":
            words[0] = "AUTH"
        return words

    def reply(self, text):
        return "%s %s" % (self.tag, text)

    def caps(self):
        if not self.secure:
            return "IMAP4rev1 STARTTLS LOGINDISABLED"
        return "IMAP4rev1 SASL-IR " + " ".join("AUTH=" + m for m in self.args.advertise.split())

    def greet(self):
        self.io.write("* OK [CAPABILITY %s] scram.test ready" % self.caps())

    def command(self, verb, tls):
        if verb == "CAPABILITY":
            self.io.write("* CAPABILITY " + self.caps())
            self.io.write(self.reply("OK done"))
        elif verb == "NOOP":
            self.io.write(self.reply("OK done"))
        elif verb == "LOGOUT":
            self.io.write("* BYE logging out")
            self.io.write(self.reply("OK done"))
            return False
        else:
            self.io.write(self.reply("BAD unknown command"))
        return True


def scram(d, conn, args, mech, first):
    """One SCRAM exchange after the client-first message; returns the result."""
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
    refuse_binding = None
    if plus:
        cb_type = cbflag[2:]
        data = cb_data(conn, cb_type) if cb_type in args.cb_types.split(",") else None
        if data is None:
            # Like Cyrus SASL: not refused until client-final.
            refuse_binding = "bad protocol / cancel"
        else:
            cbytes = data
            if args.wrong_cb != "no":
                cbytes = bytes([cbytes[0] ^ 0xFF]) + cbytes[1:]

    salt = os.urandom(16)
    snonce = cnonce + base64.b64encode(os.urandom(18)).decode()
    server_first = "r=%s,s=%s,i=%d" % (snonce, base64.b64encode(salt).decode(),
                                       args.iterations)
    d.challenge(base64.b64encode(server_first.encode()).decode())
    line = d.read_response()
    if line == "*":
        return "NO aborted"
    if refuse_binding:
        return "NO " + refuse_binding
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
    return d.success(base64.b64encode(verifier.encode()).decode())


def one_exchange(d, conn, args, words):
    """Answer one AUTH command; returns (mech, gs2 flag, result)."""
    mech = words[1].upper() if len(words) > 1 else ""
    known = mech in args.advertise.split() or (
        args.supports_plus and mech.endswith("-PLUS"))
    if words[0].upper() != "AUTH" or not known or mech.replace("-PLUS", "") not in HASHES:
        d.unsupported()
        return mech, "-", "BAD unsupported"
    if len(words) > 2:
        first = words[2]
    else:
        d.challenge("")
        first = d.read_response()
    if first == "*":
        d.aborted()
        return mech, "-", "NO aborted"
    first = base64.b64decode(first, validate=True).decode()
    flag = first.split(",", 1)[0]
    result = scram(d, conn, args, mech, first)
    if result == "NO aborted" or result.startswith("NO client refused"):
        d.aborted()
    elif result.startswith("NO "):
        d.failure(result[3:])
    return mech, flag, result


def starttls(d, sock, ctx):
    """The plain part of an smtp/pop3 session up to the TLS handshake."""
    d.greet()
    while True:
        verb = d.split(d.io.read())[0].upper()
        if verb == d.UPGRADE[0]:
            if d.io.buf:
                raise ValueError("bytes after STARTTLS")  # injection
            d.io.write(d.reply(d.UPGRADE[1]))
            conn = SSL.Connection(ctx, sock)
            conn.set_accept_state()
            conn.do_handshake()
            return conn
        if not d.command(verb, False):
            raise EOFError


def serve(sock, ctx, args):
    """One connection; returns the results of its exchanges."""
    dialect = {"line": Dialect, "smtp": Smtp, "pop3": Pop3, "imap": Imap}[args.proto]
    if args.starttls and args.proto != "line":
        conn = starttls(dialect(Lines(sock), args), sock, ctx)
        d = dialect(Lines(conn), args)
        d.secure = True
    else:
        conn = SSL.Connection(ctx, sock)
        conn.set_accept_state()
        conn.do_handshake()
        d = dialect(Lines(conn), args)
        d.secure = True
        d.greet()
    results = []
    while True:
        words = d.auth_command()
        if words is None:
            break
        mech, flag, result = one_exchange(d, conn, args, words)
        shown = "OK" if result.startswith("OK") else result  # not the final data
        print("ATTEMPT %s %s %s %s" % (mech, flag, tls_version(conn), shown), flush=True)
        results.append(result)
        if args.close_after_failure and not result.startswith("OK"):
            break
    try:
        conn.shutdown()
    except SSL.Error:
        pass
    return results


def main():
    args = parse_args()
    signal.alarm(30)
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.use_certificate_file(args.cert)
    ctx.use_privatekey_file(args.key)
    ver = SSL.TLS1_3_VERSION if args.tls == "1.3" else SSL.TLS1_2_VERSION
    ctx.set_min_proto_version(ver)
    ctx.set_max_proto_version(ver)
    ctx.set_session_id(b"scram_server")
    if args.no_ems:
        ctx.set_options(SSL_OP_NO_EXTENDED_MASTER_SECRET)

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("PORT %d" % lsock.getsockname()[1], flush=True)
    result = "error"
    for _ in range(args.connections):
        sock, _ = lsock.accept()
        try:
            results = serve(sock, ctx, args)
            result = results[-1] if results else "none"
        except (EOFError, SSL.Error, ValueError, KeyError) as e:
            result = "error %s" % type(e).__name__
        finally:
            sock.close()
    print("RESULT " + result, flush=True)


if __name__ == "__main__":
    sys.exit(main())

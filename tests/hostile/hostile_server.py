#!/usr/bin/env python3
"""A scripted hostile server for SMTP, POP3, IMAP and NNTP over real sockets
and real TLS (standard library only: socket, ssl, zlib; certificates made with
the openssl command), and the runner of its case catalogue.

    hostile_server.py CLIENT WORKDIR [--list] [--show] [--event-loop] [CASE...]

CLIENT is tests/hostile/hostile_client (the library's client, one session
per run); WORKDIR receives the certificates made at start. Every case plays
one scripted server behaviour on a fresh listening socket (127.0.0.1, port 0,
one connection), runs the client against it and then asserts on both sides:
the exact lines the client sent (recorded by the server, with markers
where TLS started or the client refused it) and exactly what the client
printed (each call's status, IMAP untagged events with their trusted flag).
--show prints what happened without judging; CASE names run only those;
--event-loop runs every case a second time with the client in event-loop
mode (non-blocking calls resumed after poll()), expecting the same.

Nothing here waits on time: the server reads until the client closes, the
runner waits for the client to exit and for the server thread to finish.
"""
import concurrent.futures
import os
import socket
import ssl
import subprocess
import sys
import threading
import zlib

# ------------------------------------------------------------ certificates

CERTS = {}  # name -> (cert, key) paths; "ca" is the CA the client trusts


def make_certs(workdir):
    """A trusted CA, an unknown CA, and a server certificate per defect."""
    d = os.path.join(workdir, "certs")
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)

    def ca(name):
        run("req", "-x509", "-new", *ec, "-keyout", f"{d}/{name}.key", "-out", f"{d}/{name}.pem",
            "-days", "3650", "-subj", f"/CN=hostile {name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        db(name)

    def db(name):
        cadir = f"{d}/{name}.db"
        os.makedirs(cadir, exist_ok=True)
        open(f"{cadir}/index.txt", "w").close()
        with open(f"{cadir}/serial", "w") as f:
            f.write("1000\n")
        with open(f"{cadir}/ca.cnf", "w") as f:
            f.write(f"[ca]\ndefault_ca = d\n[d]\ndatabase = {cadir}/index.txt\n"
                    f"new_certs_dir = {cadir}\nserial = {cadir}/serial\ndefault_md = sha256\n"
                    "policy = p\nunique_subject = no\n[p]\ncommonName = supplied\n")

    def leaf(name, issuer, san, start, end, cn="localhost", eku="serverAuth"):
        key, csr, ext = f"{d}/{name}.key", f"{d}/{name}.csr", f"{d}/{name}.ext"
        run("req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        with open(ext, "w") as f:
            f.write(f"basicConstraints=CA:FALSE\nsubjectAltName={san}\n"
                    f"extendedKeyUsage={eku}\n")
        cadir = f"{d}/{issuer}.db"
        run("ca", "-batch", "-config", f"{cadir}/ca.cnf", "-cert", f"{d}/{issuer}.pem",
            "-keyfile", f"{d}/{issuer}.key", "-in", csr, "-out", f"{d}/{name}.pem",
            "-startdate", start, "-enddate", end, "-extfile", ext, "-notext")
        CERTS[name] = (f"{d}/{name}.pem", key)

    ca("ca")
    ca("other-ca")
    CERTS["ca"] = (f"{d}/ca.pem", f"{d}/ca.key")
    now_ok = ("20200101000000Z", "20991231000000Z")
    leaf("good", "ca", "DNS:localhost,IP:127.0.0.1", *now_ok)
    leaf("unknown-ca", "other-ca", "DNS:localhost,IP:127.0.0.1", *now_ok)
    leaf("wrong-name", "ca", "DNS:wrong.example", *now_ok, cn="wrong.example")
    leaf("dns-only", "ca", "DNS:localhost", *now_ok)
    leaf("ip-only", "ca", "IP:127.0.0.1", *now_ok, cn="127.0.0.1")
    # signed by the good leaf (CA:FALSE), which the server sends as the
    # intermediate: a chain through a certificate that may not issue
    db("good")
    leaf("issuer-not-ca", "good", "DNS:localhost,IP:127.0.0.1", *now_ok)
    with open(f"{d}/issuer-not-ca-chain.pem", "w") as f:
        f.write(open(f"{d}/issuer-not-ca.pem").read() + open(f"{d}/good.pem").read())
    CERTS["issuer-not-ca"] = (f"{d}/issuer-not-ca-chain.pem", f"{d}/issuer-not-ca.key")
    leaf("client-only-eku", "ca", "DNS:localhost,IP:127.0.0.1", *now_ok, eku="clientAuth")
    leaf("expired", "ca", "DNS:localhost,IP:127.0.0.1", "20200101000000Z", "20200201000000Z")
    leaf("not-yet-valid", "ca", "DNS:localhost,IP:127.0.0.1", "20980101000000Z",
         "20990101000000Z")
    run("req", "-x509", "-new", *ec, "-keyout", f"{d}/self-signed.key",
        "-out", f"{d}/self-signed.pem", "-days", "3650", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    CERTS["self-signed"] = (f"{d}/self-signed.pem", f"{d}/self-signed.key")


def server_context(name, seen_sni=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*CERTS[name])
    if seen_sni is not None:
        def sni(sock, server_name, context):
            seen_sni.append(server_name)
        ctx.sni_callback = sni
    return ctx

# ------------------------------------------------------------ the recording peer


class Stop(Exception):
    """The script cannot go on (the client closed, or refused TLS)."""


class Peer:
    """One client connection: what the script sends, and a log of every
    line the client sent, with markers ("<TLS>", "<TLS refused>",
    "<COMPRESS>") where the stream changed, and "<closed>" where the
    script would have started TLS but the client had closed instead."""

    def __init__(self, sock, cert, record_sni=False):
        self.sock = sock
        self.cert = cert
        self.record_sni = record_sni
        self.buf = b""
        self.log = []
        self.tls_up = False
        self.inflate = self.deflate = None

    def send(self, data):
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def _fill(self):
        try:
            d = self.sock.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            d = b""
        if not d:
            return False
        if self.inflate:
            d = self.inflate.decompress(d)
        self.buf += d
        return True

    def line(self):
        """The client's next line (recorded), or Stop at the end."""
        while b"\n" not in self.buf:
            if not self._fill():
                if self.buf:
                    self.log.append(self.buf)
                    self.buf = b""
                raise Stop()
        i = self.buf.index(b"\n") + 1
        ln, self.buf = self.buf[:i], self.buf[i:]
        self.log.append(ln)
        return ln

    def raw(self, n):
        """n bytes of an IMAP literal, recorded as one item."""
        while len(self.buf) < n:
            if not self._fill():
                raise Stop()
        data, self.buf = self.buf[:n], self.buf[n:]
        self.log.append(data)
        return data

    def not_tls(self, reply):
        """Where the client starts TLS, read its ClientHello (recorded as
        "<ClientHello>", its bytes are random) and answer in plaintext."""
        if self.buf:
            self.log.append(b"<pipelined:" + self.buf + b">")
            self.buf = b""
        first = self.sock.recv(1, socket.MSG_PEEK)
        if not first:
            self.log.append(b"<closed>")
            raise Stop()
        self.log.append(b"<ClientHello>" if first == b"\x16" else b"<not TLS>")
        self.sock.sendall(reply)
        try:
            while self.sock.recv(65536):  # the client's alert, if any, then EOF
                pass
        except OSError:
            pass
        raise Stop()

    def tls(self):
        """The handshake, as the server; Stop when the client refuses it.
        Bytes the client sent before the handshake (a pipelined command
        after STARTTLS: a client bug) are recorded first."""
        if self.buf:
            self.log.append(b"<pipelined:" + self.buf + b">")
            self.buf = b""
        try:
            if not self.sock.recv(1, socket.MSG_PEEK):
                self.log.append(b"<closed>")  # the client gave up instead
                raise Stop()
        except OSError:
            self.log.append(b"<closed>")
            raise Stop()
        self.log.append(b"<TLS>")
        seen = [] if self.record_sni else None
        tls = server_context(self.cert, seen).wrap_socket(self.sock, server_side=True,
                                                          do_handshake_on_connect=False)
        try:
            tls.do_handshake()
            if seen is not None:
                self.log.append(b"<SNI " + seen[0].encode() + b">" if seen and seen[0]
                                else b"<no SNI>")
        except (ssl.SSLError, OSError):
            self.log.append(b"<TLS refused>")
            # whatever comes after a refused handshake is plaintext the
            # client must not send (a QUIT in the clear, a credential)
            rest = b""
            try:
                while True:
                    d = os.read(tls.fileno(), 65536)
                    if not d:
                        break
                    rest += d
            except OSError:
                pass
            if rest:
                self.log.append(b"<after refusal:" + rest + b">")
            self.sock = tls
            raise Stop()
        self.sock = tls
        self.tls_up = True

    def compress(self):
        if self.buf:
            self.log.append(b"<pipelined:" + self.buf + b">")
            self.buf = b""
        self.log.append(b"<COMPRESS>")
        self.inflate = zlib.decompressobj(-15)
        self.deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)

    def drain(self):
        """Record whatever else the client sends until it closes."""
        try:
            while True:
                self.line()
        except Stop:
            pass

# ------------------------------------------------------------ the protocols
#
# Each plays a well-behaved server except where the case's options (o) say
# otherwise. Options common to all: implicit (TLS at once), greeting,
# caps_plain / caps_tls (the capability reply before / after TLS),
# starttls (the reply to STARTTLS), go (1: that reply is the go-ahead, so
# the handshake follows), inject (bytes sent in the same segment as the
# go-ahead), pre_tls (bytes sent before the STARTTLS reply),
# compress_inject (bytes in the same segment as the COMPRESS go-ahead),
# plain_on_tls_port (a plaintext server where implicit TLS was dialled),
# after_go (plaintext bytes instead of the handshake after the go-ahead),
# starttls_pieces (the reply to STARTTLS in several writes), record_sni
# (log the server name the client asked for, "<SNI name>" or "<no SNI>"),
# post_tls (IMAP: bytes right after the handshake), select (IMAP: the
# untagged part of the SELECT reply).


def go_ahead(p, o, default):
    """The reply to STARTTLS: in pieces (one write each) when the case says
    so, the injected bytes in the same write as its last piece."""
    pieces = o.get("starttls_pieces", [o.get("starttls", default)])
    for piece in pieces[:-1]:
        p.send(piece)
    p.send(pieces[-1] + o.get("inject", b""))


def smtp_server(p, o):
    if o.get("plain_on_tls_port"):
        p.not_tls(b"220 hostile.test ESMTP\r\n")
    if o.get("implicit"):
        p.tls()
    p.send(o.get("greeting", b"220 hostile.test ESMTP\r\n"))
    while True:
        ln = p.line()
        cmd = ln.upper()
        if cmd.startswith(b"EHLO"):
            p.send(o.get("caps_tls" if p.tls_up else "caps_plain"))
        elif cmd.startswith(b"HELO"):
            p.send(o.get("helo", b"250 hostile.test\r\n"))
        elif cmd.startswith(b"STARTTLS"):
            go_ahead(p, o, b"220 2.0.0 go ahead\r\n")
            if o.get("after_go"):
                p.not_tls(o["after_go"])
            if o.get("go", 1):
                p.tls()
        elif cmd.startswith(b"AUTH"):
            p.send(b"235 2.7.0 ok\r\n")
        elif cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT"):
            if cmd.startswith(b"MAIL") and p.buf:
                # the client wrote on without waiting for this reply: it
                # pipelines (only ever in one write, so this is no race)
                p.log.append(b"<pipelined after MAIL>")
            p.send(b"250 2.1.0 ok\r\n")
        elif cmd.startswith(b"DATA"):
            p.send(b"354 go\r\n")
            while p.line() != b".\r\n":
                pass
            p.send(b"250 2.0.0 queued\r\n")
        elif cmd.startswith(b"QUIT"):
            p.send(b"221 2.0.0 bye\r\n")
            return
        else:
            p.send(b"502 5.5.1 what?\r\n")


SMTP_CAPS_PLAIN = b"250-hostile.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
SMTP_CAPS_TLS = b"250-hostile.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"


def pop3_server(p, o):
    if o.get("plain_on_tls_port"):
        p.not_tls(b"+OK hostile.test ready\r\n")
    if o.get("implicit"):
        p.tls()
    p.send(o.get("greeting", b"+OK hostile.test ready\r\n"))
    while True:
        ln = p.line()
        cmd = ln.upper()
        if cmd.startswith(b"CAPA"):
            p.send(o.get("caps_tls" if p.tls_up else "caps_plain"))
        elif cmd.startswith(b"STLS"):
            go_ahead(p, o, b"+OK begin TLS\r\n")
            if o.get("after_go"):
                p.not_tls(o["after_go"])
            if o.get("go", 1):
                p.tls()
        elif cmd.startswith(b"AUTH"):
            if cmd.strip() == b"AUTH PLAIN":
                p.send(b"+ \r\n")
                p.line()
            p.send(b"+OK logged in\r\n")
        elif cmd.startswith(b"USER"):
            p.send(b"+OK\r\n")
        elif cmd.startswith(b"PASS"):
            p.send(b"+OK logged in\r\n")
        elif cmd.startswith(b"STAT"):
            p.send(b"+OK 2 320\r\n")
        elif cmd.startswith(b"QUIT"):
            p.send(b"+OK bye\r\n")
            return
        else:
            p.send(b"-ERR what?\r\n")


POP3_CAPS_PLAIN = b"+OK\r\nUSER\r\nSTLS\r\n.\r\n"
POP3_CAPS_TLS = b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"


def imap_server(p, o):
    if o.get("plain_on_tls_port"):
        p.not_tls(b"* OK hostile.test ready\r\n")
    if o.get("implicit"):
        p.tls()
    p.send(o.get("greeting", b"* OK hostile.test ready\r\n"))
    while True:
        ln = p.line()
        parts = ln.rstrip(b"\r\n").split(b" ")
        tag, cmd = parts[0], (parts[1].upper() if len(parts) > 1 else b"")
        if ln.rstrip(b"\r\n").endswith(b"}"):  # a synchronizing literal
            n = int(ln.rstrip(b"\r\n").rsplit(b"{", 1)[1].rstrip(b"}+"))
            if not ln.rstrip(b"\r\n").endswith(b"+}"):
                p.send(b"+ go\r\n")
            p.raw(n)
            p.line()
        if cmd == b"CAPABILITY":
            p.send(o.get("caps_tls" if p.tls_up else "caps_plain").replace(b"TAG", tag))
        elif cmd == b"STARTTLS":
            pieces = o.get("starttls_pieces", [o.get("starttls", b"TAG OK begin TLS\r\n")])
            pieces = [x.replace(b"TAG", tag) for x in pieces]
            pieces[0] = o.get("pre_tls", b"") + pieces[0]
            for piece in pieces[:-1]:
                p.send(piece)
            p.send(pieces[-1] + o.get("inject", b""))
            if o.get("after_go"):
                p.not_tls(o["after_go"])
            if o.get("go", 1):
                p.tls()
                p.send(o.get("post_tls", b""))
        elif cmd == b"LOGIN":
            p.send(tag + b" OK logged in\r\n")
        elif cmd == b"AUTHENTICATE":
            if len(parts) == 3:
                p.send(b"+ \r\n")
                p.line()
            p.send(tag + b" OK logged in\r\n")
        elif cmd in (b"SELECT", b"EXAMINE"):
            p.send(o.get("select", b"* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n"
                           b"* OK [UIDVALIDITY 7] ok\r\n") + tag + b" OK [READ-WRITE] selected\r\n")
        elif cmd == b"COMPRESS":
            p.send(tag + b" OK DEFLATE active\r\n" + o.get("compress_inject", b""))
            if not o.get("compress_inject"):
                p.compress()
        elif cmd == b"NOOP":
            p.send(tag + b" OK noop\r\n")
        elif cmd == b"LOGOUT":
            p.send(b"* BYE bye\r\n" + tag + b" OK logged out\r\n")
            return
        else:
            p.send(tag + b" BAD what?\r\n")


IMAP_CAPS_PLAIN = b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\nTAG OK done\r\n"
IMAP_CAPS_TLS = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n"


def nntp_server(p, o):
    if o.get("plain_on_tls_port"):
        p.not_tls(b"200 hostile.test ready\r\n")
    if o.get("implicit"):
        p.tls()
    p.send(o.get("greeting", b"200 hostile.test ready\r\n"))
    while True:
        ln = p.line()
        cmd = ln.upper()
        if cmd.startswith(b"CAPABILITIES"):
            p.send(o.get("caps_tls" if p.tls_up else "caps_plain"))
        elif cmd.startswith(b"STARTTLS"):
            go_ahead(p, o, b"382 continue with TLS\r\n")
            if o.get("after_go"):
                p.not_tls(o["after_go"])
            if o.get("go", 1):
                p.tls()
        elif cmd.startswith(b"AUTHINFO USER"):
            p.send(b"381 password please\r\n")
        elif cmd.startswith(b"AUTHINFO PASS"):
            p.send(b"281 ok\r\n")
        elif cmd.startswith(b"AUTHINFO SASL"):
            p.send(b"281 ok\r\n")
        elif cmd.startswith(b"MODE READER"):
            p.send(b"200 reader\r\n")
        elif cmd.startswith(b"GROUP"):
            p.send(b"211 3 1 3 misc.test\r\n")
        elif cmd.startswith(b"COMPRESS"):
            p.send(b"206 compression active\r\n" + o.get("compress_inject", b""))
            if not o.get("compress_inject"):
                p.compress()
        elif cmd.startswith(b"DATE"):
            p.send(b"111 20260101000000\r\n")
        elif cmd.startswith(b"QUIT"):
            p.send(b"205 bye\r\n")
            return
        else:
            p.send(b"500 what?\r\n")


NNTP_CAPS_PLAIN = b"101 caps\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n"
NNTP_CAPS_TLS = b"101 caps\r\nVERSION 2\r\nREADER\r\nAUTHINFO USER\r\nCOMPRESS DEFLATE\r\n.\r\n"

SERVERS = {"smtp": smtp_server, "pop3": pop3_server, "imap": imap_server, "nntp": nntp_server}
DEFAULT_CAPS = {
    "smtp": (SMTP_CAPS_PLAIN, SMTP_CAPS_TLS),
    "pop3": (POP3_CAPS_PLAIN, POP3_CAPS_TLS),
    "imap": (IMAP_CAPS_PLAIN, IMAP_CAPS_TLS),
    "nntp": (NNTP_CAPS_PLAIN, NNTP_CAPS_TLS),
}

# ------------------------------------------------------------ running one case


class Case:
    def __init__(self, name, proto, security="starttls", op="session", cert="good",
                 host="localhost", lines=(), out=(), **options):
        self.name, self.proto, self.security, self.op = name, proto, security, op
        self.cert, self.host = cert, host
        self.lines = [ln if isinstance(ln, bytes) else ln.encode() for ln in lines]
        self.out = list(out)
        self.options = options
        self.options.setdefault("implicit", security == "implicit")
        plain, tls = DEFAULT_CAPS[proto]
        self.options.setdefault("caps_plain", plain)
        self.options.setdefault("caps_tls", tls)


def run_case(client, case, event_loop=False):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    result = {}

    def serve():
        conn, _ = ls.accept()
        p = Peer(conn, case.cert, case.options.get("record_sni", False))
        try:
            SERVERS[case.proto](p, case.options)
            p.drain()
        except Stop:
            pass
        except Exception as e:  # a script bug: say so in the log
            p.log.append(f"<server error: {e!r}>".encode())
        finally:
            result["log"] = p.log
            try:
                p.sock.close()
            except OSError:
                pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    env = dict(os.environ, HOSTILE_EVENT_LOOP="1" if event_loop else "0")
    try:
        proc = subprocess.run([client, case.proto, case.security, case.host, str(port),
                               CERTS["ca"][0], case.op], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, env=env)
    except subprocess.TimeoutExpired as e:  # a hung client: a failure, reported as one
        proc = subprocess.CompletedProcess(e.cmd, -9, e.stdout or b"", e.stderr or b"")
    if not result and t.is_alive():
        # the client never connected (refused before connecting): unblock accept
        socket.create_connection(("127.0.0.1", port)).close()
    t.join(60)
    ls.close()
    out = proc.stdout.decode(errors="replace").splitlines()
    if proc.returncode:
        out.append(f"exit={proc.returncode}")
    return result.get("log", []), out


def show(log):
    return "\n".join("    " + repr(x)[1:] for x in log)

# ------------------------------------------------------------ the catalogue

CASES = []


def case(*a, **k):
    CASES.append(Case(*a, **k))


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    client, workdir = argv[1], argv[2]
    flags = [a for a in argv[3:] if a.startswith("--")]
    names = [a for a in argv[3:] if not a.startswith("--")]
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    from hostile_cases import add_cases  # the catalogue, beside this file
    add_cases(case)
    if "--list" in flags:
        for c in CASES:
            print(c.name)
        return 0
    built = subprocess.run([client, "--features"], stdout=subprocess.PIPE,
                           check=True).stdout.decode().split()
    make_certs(workdir)
    failures = 0
    ran = skipped = 0
    counts = {}
    todo = []
    for c in CASES:
        if names and c.name not in names:
            continue
        if c.proto not in built or (c.op == "compress" and "compress" not in built):
            skipped += 1  # a module or zlib left out of this build
            continue
        ran += 1
        group = c.name.split("-")[1] if "-" in c.name else c.name
        counts[(c.proto, group)] = counts.get((c.proto, group), 0) + 1
        for event_loop in ([False, True] if "--event-loop" in flags else [False]):
            todo.append((c, event_loop))
    # Cases share nothing (each its own socket, port and client process),
    # so they run side by side; results are reported in catalogue order.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: run_case(client, t[0], t[1]), todo))
    for (c, event_loop), (log, out) in zip(todo, results):
        mode = " (event loop)" if event_loop else ""
        if "--show" in flags:
            print(f"== {c.name}{mode}\n{show(log)}\n  out: {out}")
            continue
        bad = []
        if log != c.lines:
            bad.append(f"  client sent:\n{show(log)}\n  expected:\n{show(c.lines)}")
        if out != c.out:
            bad.append(f"  client printed: {out}\n  expected:       {c.out}")
        if bad:
            failures += 1
            print(f"FAIL {c.name}{mode}\n" + "\n".join(bad))
        else:
            print(f"ok   {c.name}{mode}")
    groups = {}
    for (proto, group), n in sorted(counts.items()):
        groups.setdefault(group, []).append(f"{proto} {n}")
    for group, per in groups.items():
        print(f"  {group}: " + ", ".join(per))
    runs = ran * (2 if "--event-loop" in flags else 1)
    print(f"hostile-server: {ran} cases ({runs} runs), {failures} failed, "
          f"{skipped} skipped (not built)")
    return 1 if failures or not ran else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Scripted SMTP and POP3 servers for the mailcli tests (loopback, one
client): the misbehaviours and the server features the real test servers
cannot show.

usage: badserver.py MODE PORTFILE [LOGFILE]

The port is written to PORTFILE once the server listens; what the client
sent is appended to LOGFILE (when given), one line per command.

SMTP modes:
  garbage        a valid greeting, then a reply that is not SMTP (exit 8)
  silent         accepts and never speaks (mailcli --timeout gives exit 3)
  longline       a greeting line of 4000 bytes (exit 8 with --max-line 1024)
  nostarttls     EHLO without STARTTLS (STARTTLS required: exit 4)
  auth530        530 5.7.0 at MAIL FROM with PIPELINING (exit 5)
  auth530-nopipe the same without PIPELINING
  oauth          implicit TLS (the test CA's server certificate), AUTH
                 OAUTHBEARER and XOAUTH2 accepting the token in $ORACLE_TOKEN
POP3 modes (USER/PASS, no STLS: mailcli --tls none --insecure):
  pop3-ok        two messages; commands logged; one client after another
                 until killed
  pop3-manyuids  as pop3-ok, with a UIDL listing of 100 lines (2 KB)
  pop3-cut       message 1 whole, then RETR 2 sends half and closes (exit 3)
  pop3-stall     RETR sends half a message and stalls (exit 3 with --timeout)
  pop3-garbage   RETR answers with a line that is no status (exit 8)
IMAP modes:
  imap-nostarttls  CAPABILITY without STARTTLS (STARTTLS required: exit 4,
                   no LOGIN or AUTHENTICATE sent)
  imap-starttls-no STARTTLS offered, answered NO (exit 4)
  imap-preauth     a PREAUTH greeting over plaintext (exit 4)
  imap-garbage     CAPABILITY answered with a tagged line for no command (exit 8)
"""
import base64
import json
import os
import socket
import ssl
import sys
import time

mode, portfile = sys.argv[1], sys.argv[2]
logfile = sys.argv[3] if len(sys.argv) > 3 else None


def log(line):
    if logfile:
        with open(logfile, "a") as f:
            f.write(line + "\n")


ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(portfile + ".tmp", portfile)
ls.settimeout(20)
c = rfile = None


def accept():
    global c, rfile
    c, _ = ls.accept()
    if mode == "oauth":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        rundir = os.environ.get("MAIL_TEST_RUNDIR", "/tmp/libmail-servers")
        ctx.load_cert_chain(os.path.join(rundir, "server.pem"), os.path.join(rundir, "server.key"))
        c = ctx.wrap_socket(c, server_side=True)
    rfile = c.makefile("rb")


class ClientGone(Exception):
    pass


def send(data):
    c.sendall(data)


def readline():
    line = rfile.readline()
    if not line:
        raise ClientGone()
    text = line.rstrip(b"\r\n").decode("utf-8", "replace")
    log("PASS ***" if text.upper().startswith("PASS ") else text)
    return text


MESSAGE = (b"From: a@b.example\r\nTo: c@d.example\r\nSubject: scripted %d\r\n"
           b"Message-ID: <scripted-%d@b.example>\r\n\r\n" + b"line of body text\r\n" * 200)


def pop3():
    send(b"+OK scripted POP3 ready\r\n")
    while True:
        cmd = readline()
        verb, _, arg = cmd.partition(" ")
        verb = verb.upper()
        if verb == "CAPA":
            send(b"+OK\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n")
        elif verb in ("USER", "PASS", "NOOP", "RSET"):
            send(b"+OK\r\n")
        elif verb == "STAT":
            send(b"+OK 2 %d\r\n" % (2 * len(MESSAGE % (1, 1))))
        elif verb == "LIST" and arg:
            send(b"+OK %d %d\r\n" % (int(arg), len(MESSAGE % (int(arg), int(arg)))))
        elif verb == "LIST":
            send(b"+OK\r\n1 %d\r\n2 %d\r\n.\r\n" % (len(MESSAGE % (1, 1)), len(MESSAGE % (2, 2))))
        elif verb == "TOP":
            n, lines = (int(x) for x in arg.split())
            head, body = (MESSAGE % (n, n)).split(b"\r\n\r\n", 1)
            kept = b"".join(body.splitlines(keepends=True)[:lines])
            send(b"+OK\r\n" + head + b"\r\n\r\n" + kept + b".\r\n")
        elif verb == "UIDL" and mode == "pop3-manyuids":
            send(b"+OK\r\n" + b"".join(b"%d scripted-uid-%d\r\n" % (i, i) for i in range(1, 101)) + b".\r\n")
        elif verb == "UIDL":
            send(b"+OK\r\n1 scripted-uid-1\r\n2 scripted-uid-2\r\n.\r\n")
        elif verb == "RETR":
            n = int(arg)
            body = MESSAGE % (n, n)
            if mode == "pop3-garbage":
                send(b"HELLO THERE\r\n")
                time.sleep(1)
                return
            if mode == "pop3-stall" or (mode == "pop3-cut" and n == 2):
                send(b"+OK message follows\r\n" + body[: len(body) // 2])
                time.sleep(10 if mode == "pop3-stall" else 0.2)
                return
            send(b"+OK message follows\r\n" + body + b".\r\n")
        elif verb == "DELE":
            send(b"+OK marked\r\n")
        elif verb == "QUIT":
            send(b"+OK bye\r\n")
            return
        else:
            send(b"-ERR unknown command\r\n")


def imap():
    if mode == "imap-preauth":
        send(b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] scripted IMAP, logged in\r\n")
    else:
        send(b"* OK scripted IMAP ready\r\n")
    while True:
        cmd = readline()
        tag, _, rest = cmd.partition(" ")
        verb = rest.split(" ", 1)[0].upper()
        if verb == "CAPABILITY":
            if mode == "imap-garbage":
                send(b"Z999 OK this answers nothing\r\n")
                time.sleep(1)
                return
            caps = b"IMAP4rev1 AUTH=PLAIN" + (b" STARTTLS" if mode == "imap-starttls-no" else b"")
            send(b"* CAPABILITY " + caps + b"\r\n" + tag.encode() + b" OK done\r\n")
        elif verb == "STARTTLS":
            send(tag.encode() + b" NO [UNAVAILABLE] not today\r\n")
        elif verb == "LOGOUT":
            send(b"* BYE bye\r\n" + tag.encode() + b" OK done\r\n")
            return
        else:
            send(tag.encode() + b" BAD unexpected here\r\n")


def smtp():
    if mode == "silent":
        time.sleep(5)
        return
    if mode == "longline":
        send(b"220 " + b"x" * 4000 + b"\r\n")
        time.sleep(1)
        return
    send(b"220 scripted.test ESMTP\r\n")
    if mode == "garbage":
        c.recv(1024)
        send(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        time.sleep(1)
        return
    token = os.environ.get("ORACLE_TOKEN", "")
    while True:
        cmd = readline()
        verb = cmd.split(" ", 1)[0].upper()
        if verb in ("EHLO", "HELO"):
            ext = [b"250-scripted.test"]
            if mode != "auth530-nopipe":
                ext.append(b"250-PIPELINING")
            if mode == "oauth":
                ext.append(b"250-AUTH OAUTHBEARER XOAUTH2")
            ext.append(b"250 8BITMIME")
            send(b"\r\n".join(ext) + b"\r\n")
        elif verb == "AUTH":
            parts = cmd.split(" ")
            ir = base64.b64decode(parts[2]) if len(parts) > 2 else b""
            # OAUTHBEARER and XOAUTH2 both carry "auth=Bearer TOKEN" between ^A
            ok = ("auth=Bearer " + token).encode() in ir.split(b"\x01")
            if ok and token:
                send(b"235 2.7.0 Authentication successful\r\n")
            else:
                err = json.dumps({"status": "invalid_token", "scope": "mail"}).encode()
                send(b"334 " + base64.b64encode(err) + b"\r\n")
                readline()
                send(b"535 5.7.8 Authentication credentials invalid\r\n")
        elif verb == "MAIL":
            if mode.startswith("auth530"):
                send(b"530 5.7.0 Authentication required\r\n")
            else:
                send(b"250 2.1.0 Ok\r\n")
        elif verb == "RCPT":
            if mode.startswith("auth530"):
                send(b"503 5.5.1 Error: need MAIL command\r\n")
            else:
                send(b"250 2.1.5 Ok\r\n")
        elif verb == "DATA":
            if mode.startswith("auth530"):
                send(b"503 5.5.1 Error: need RCPT command\r\n")
                continue
            send(b"354 go ahead\r\n")
            while readline() != ".":
                pass
            send(b"250 2.0.0 Ok: queued as SCRIPTED\r\n")
        elif verb in ("RSET", "NOOP"):
            send(b"250 2.0.0 Ok\r\n")
        elif verb == "QUIT":
            send(b"221 2.0.0 Bye\r\n")
            return
        else:
            send(b"502 5.5.2 Error: command not recognized\r\n")


while True:
    accept()
    try:
        if mode.startswith("pop3"):
            pop3()
        elif mode.startswith("imap"):
            imap()
        else:
            smtp()
    except (ClientGone, ConnectionError, ssl.SSLError):
        pass
    c.close()
    if mode not in ("pop3-ok", "pop3-manyuids"):
        break

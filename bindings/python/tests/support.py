"""Shared by the tests: the servers' settings, unique ids, a scripted
in-process server, finding our own delivered messages."""
from __future__ import annotations

import os
import socket
import threading
import time
import unittest
import uuid
from typing import Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def servers_env() -> Optional[Dict[str, str]]:
    path = os.environ.get("MAIL_TEST_SERVERS_ENV",
                          os.path.join(os.environ.get("MAIL_TEST_RUNDIR", "/tmp/libmail-servers"),
                                       "servers.env"))
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    return dict(l.split("=", 1) for l in lines if "=" in l and not l.startswith("#"))


ENV = servers_env()


def need_servers(cls):
    """Skip a TestCase without the real servers (fail when they are required)."""
    if ENV is None:
        if os.environ.get("MAIL_TEST_REQUIRE_SERVERS") == "1":
            raise RuntimeError("the test servers are required and not running")
        return unittest.skip("the test servers are not running")(cls)
    return cls


def url(scheme: str, port_var: str, host: Optional[str] = None) -> str:
    assert ENV is not None
    h = host or ENV["MAIL_TEST_HOST"]
    if ":" in h:
        h = "[%s]" % h
    return "%s://%s:%s" % (scheme, h, ENV[port_var])


def user(n: int) -> Tuple[str, str, str]:
    """(user, password, address) of test user n (1 alice, 2 bob, 3 cedric)."""
    assert ENV is not None
    return ENV["MAIL_TEST_USER%d" % n], ENV["MAIL_TEST_PASS%d" % n], ENV["MAIL_TEST_ADDR%d" % n]


def unique(tag: str) -> str:
    return "pytest-%s-%s" % (tag, uuid.uuid4().hex)


def pop3_find(libmail, n: int, needle: bytes, *, delete: bool = True,
              deadline: float = 60.0) -> bytes:
    """Wait (up to deadline, for Postfix's queue) until the message holding
    needle in its headers is in user n's mailbox; return it, deleting it."""
    u, pw, _ = user(n)
    end = time.monotonic() + deadline
    seen: Dict[str, bool] = {}
    while True:
        with libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u, password=pw,
                          cafile=ENV["MAIL_TEST_CA"]) as pop:
            for num, uid in pop.uidl().items():
                if uid in seen:
                    continue
                try:
                    head = pop.top(num, 0)
                except libmail.ServerError:
                    continue  # deleted meanwhile by another test's session
                seen[uid] = True
                if needle in head:
                    data = pop.retr(num)
                    if delete:
                        pop.dele(num)
                    return data
        if time.monotonic() > end:
            raise AssertionError("no message with %r arrived for %s" % (needle, u))
        time.sleep(0.2)


class ScriptedServer:
    """A one-connection TCP server on 127.0.0.1 in a thread: handler(sock)
    does the talking. .port; .join() waits for it; errors are re-raised."""

    def __init__(self, handler: Callable[[socket.socket], None]) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.error: Optional[BaseException] = None
        self.lines: List[bytes] = []
        self.thread = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self.thread.start()

    def _run(self, handler: Callable[[socket.socket], None]) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                handler(conn)
        except BaseException as e:  # noqa: B902 - reported by join()
            self.error = e
        finally:
            self.listener.close()

    def join(self) -> None:
        self.thread.join(30)
        if self.error is not None:
            raise self.error


def readline(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        c = sock.recv(1)
        if not c:
            break
        buf += c
    return buf


def fake_smtp(ehlo: bytes = b"250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
              auth: Optional[Callable[[socket.socket, bytes], None]] = None,
              log: Optional[List[bytes]] = None) -> Callable[[socket.socket], None]:
    """A small SMTP server for one client: greeting, EHLO, optional AUTH
    handler, MAIL/RCPT/DATA accepted, QUIT. Lines go to log."""
    def handler(sock: socket.socket) -> None:
        f = sock.makefile("rb")
        sock.sendall(b"220 fake ESMTP\r\n")
        while True:
            line = f.readline()
            if not line:
                return
            if log is not None:
                log.append(line)
            cmd = line[:4].upper()
            if cmd == b"EHLO":
                sock.sendall(ehlo)
            elif cmd == b"AUTH" and auth is not None:
                auth(sock, line)
            elif cmd in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                sock.sendall(b"250 2.0.0 ok\r\n")
            elif cmd == b"DATA":
                sock.sendall(b"354 go\r\n")
                while True:
                    l2 = f.readline()
                    if not l2 or l2 == b".\r\n":
                        break
                sock.sendall(b"250 2.0.0 queued\r\n")
            elif cmd == b"QUIT":
                sock.sendall(b"221 bye\r\n")
                return
            else:
                sock.sendall(b"502 5.5.1 no\r\n")
    return handler

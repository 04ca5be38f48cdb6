"""Callbacks from C into Python: kept alive, and an exception raised in one
stops the operation and comes out of the call that ran it."""
import base64
import gc
import io
import unittest

from support import ScriptedServer, fake_smtp, readline

import libmail


class Boom(Exception):
    pass


def smtp_to(srv, **kw):
    return libmail.SMTP("smtp://127.0.0.1:%d" % srv.port, tls="none-insecure", timeout=20, **kw)


class TestCallbacks(unittest.TestCase):
    def test_trace_sees_the_conversation(self):
        seen = []
        srv = ScriptedServer(fake_smtp())
        with smtp_to(srv, trace=lambda d, b: seen.append((d, b))) as s:
            s.noop()
        srv.join()
        self.assertIn(("recv", b"220 fake ESMTP\r\n"), seen)
        self.assertTrue(any(d == "send" and b.startswith(b"EHLO") for d, b in seen))

    def test_trace_exception_stops_and_is_raised(self):
        def trace(d, b):
            if d == "recv":
                raise Boom("trace")
        srv = ScriptedServer(fake_smtp())
        with self.assertRaises(Boom) as cm:
            smtp_to(srv, trace=trace)
        srv.join()
        self.assertEqual(str(cm.exception), "trace")

    def test_progress_exception_cancels_send(self):
        log = []
        srv = ScriptedServer(fake_smtp(log=log))
        s = smtp_to(srv)

        def progress(sent, total):
            raise Boom("progress")
        with self.assertRaises(Boom):
            s.send(b"Subject: x\r\n\r\nbody\r\n", "a@example.org", ["b@example.org"],
                   progress=progress)
        s.close()
        srv.join()
        self.assertFalse(any(l == b".\r\n" for l in log), "a cancelled message was completed")

    def test_body_stream_exception(self):
        class Broken(io.RawIOBase):
            def read(self, n=-1):
                raise Boom("read")
        srv = ScriptedServer(fake_smtp())
        s = smtp_to(srv)
        with self.assertRaises(Boom):
            s.send(Broken(), "a@example.org", ["b@example.org"])
        s.close()
        srv.join()

    def test_body_stream(self):
        log = []
        srv = ScriptedServer(fake_smtp(log=log))
        with smtp_to(srv) as s:
            r = s.send(io.BytesIO(b"Subject: streamed\r\n\r\n" + b"line\r\n" * 5000),
                       "a@example.org", "b@example.org")
        srv.join()
        self.assertTrue(r)
        self.assertEqual(r["b@example.org"].code, 250)

    def test_oauth_refresh(self):
        calls = []

        def auth(sock, line):
            resp = base64.b64decode(line.split()[2])
            if b"token-2" in resp:
                sock.sendall(b"235 2.7.0 ok\r\n")
                return
            sock.sendall(b"334 " + base64.b64encode(b'{"status":"401"}') + b"\r\n")
            readline(sock)  # the ^A answer
            sock.sendall(b"535 5.7.8 expired\r\n")

        def refresh(again):
            calls.append(again)
            return "token-2"
        srv = ScriptedServer(fake_smtp(ehlo=b"250-fake\r\n250 AUTH OAUTHBEARER\r\n", auth=auth))
        with smtp_to(srv, user="alice", oauth_token="token-1", oauth_refresh=refresh,
                     mechanisms="OAUTHBEARER", allow_insecure_auth=True):
            pass
        srv.join()
        self.assertEqual(calls, [True])

    def test_oauth_refresh_exception(self):
        def auth(sock, line):
            sock.sendall(b"334 " + base64.b64encode(b'{"status":"401"}') + b"\r\n")
            readline(sock)
            sock.sendall(b"535 5.7.8 expired\r\n")

        def refresh(again):
            raise Boom("no token")
        srv = ScriptedServer(fake_smtp(ehlo=b"250-fake\r\n250 AUTH OAUTHBEARER\r\n", auth=auth))
        with self.assertRaisesRegex(Boom, "no token"):
            smtp_to(srv, user="alice", oauth_token="token-1", oauth_refresh=refresh,
                    mechanisms="OAUTHBEARER", allow_insecure_auth=True)
        srv.join()

    def test_pop3_trace_exception_is_raised(self):
        # POP3 has no way to stop an operation from the trace hook
        # (mail_pop3 has no cancel): the operation ends, then it is raised
        def server(sock):
            sock.sendall(b"+OK ready\r\n")
            while True:
                line = readline(sock)
                if not line:
                    return
                if line.upper().startswith(b"QUIT"):
                    sock.sendall(b"+OK bye\r\n")
                    return
                sock.sendall(b"-ERR no\r\n")

        def trace(d, b):
            if d == "recv":
                raise Boom("pop3 trace")
        srv = ScriptedServer(server)
        p = libmail.POP3("pop3://127.0.0.1:%d" % srv.port, tls="none-insecure", timeout=20,
                         trace=trace, connect=False)
        with self.assertRaisesRegex(Boom, "pop3 trace"):
            p.connect()
        p.close()
        srv.join()

    def test_callbacks_kept_alive(self):
        # the lambda is referenced only by the session: gc must not drop it
        seen = []
        srv = ScriptedServer(fake_smtp())
        s = smtp_to(srv, trace=lambda d, b: seen.append(d), connect=False)
        gc.collect()
        s.connect()
        s.quit()
        s.close()
        srv.join()
        self.assertIn("recv", seen)

    def test_session_freed_by_finalizer(self):
        s = libmail.SMTP("smtp://127.0.0.1:1", connect=False)
        fin = s._finalizer
        del s
        gc.collect()
        self.assertFalse(fin.alive)

    def test_session_freed_by_with(self):
        srv = ScriptedServer(fake_smtp())
        with smtp_to(srv) as s:
            fin = s._finalizer
        srv.join()
        self.assertFalse(fin.alive)
        self.assertTrue(s.closed)


if __name__ == "__main__":
    unittest.main()

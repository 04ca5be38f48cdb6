"""Every exception class, each raised by a real condition, each carrying
the session's own error string."""
import socket
import unittest

from support import ENV, ScriptedServer, fake_smtp, need_servers, readline, unique, url, user

import libmail


class Boom(Exception):
    pass


@need_servers
class TestServerErrors(unittest.TestCase):
    def test_bad_password_is_auth_error(self):
        u, _, _ = user(1)
        with self.assertRaises(libmail.AuthError) as cm:
            libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u, password="wrong-pw",
                         cafile=ENV["MAIL_TEST_CA"])
        e = cm.exception
        self.assertEqual(e.status_name, "MAIL_ERR_AUTH")
        self.assertIn("server said", e.detail)
        self.assertNotIn("wrong-pw", str(e) + e.detail)
        with self.assertRaises(libmail.AuthError) as cm:
            libmail.SMTP(url("submission", "MAIL_TEST_SUBMISSION_PORT"), user=u,
                         password="wrong-pw", cafile=ENV["MAIL_TEST_CA"])
        self.assertEqual(cm.exception.code, 535)
        self.assertTrue(cm.exception.enhanced.startswith("5.7."))

    def test_wrong_ca_is_tls_error(self):
        # the server's own certificate is no CA: the chain does not verify
        for cls, scheme, port in ((libmail.POP3, "pop3s", "MAIL_TEST_POP3S_PORT"),
                                  (libmail.SMTP, "submission", "MAIL_TEST_SUBMISSION_PORT")):
            with self.subTest(scheme=scheme):
                with self.assertRaises(libmail.TLSError) as cm:
                    cls(url(scheme, port), cafile=ENV["MAIL_TEST_SERVER_CERT"])
                self.assertEqual(cm.exception.status_name, "MAIL_ERR_TLS_VERIFY")
                self.assertTrue(cm.exception.detail)

    def test_refused_recipient_is_server_error(self):
        tag = unique("rcpt")
        with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"]) as s:
            with self.assertRaises(libmail.ServerError) as cm:
                s.send(b"Subject: x\r\n\r\nx\r\n", user(2)[2], "nobody-%s@libmail.test" % tag)
        e = cm.exception
        self.assertIsInstance(e, libmail.RecipientsRefused)
        self.assertEqual(e.result[0].enhanced, "5.1.1")
        self.assertIn("nobody-%s" % tag, str(e))

    def test_limit_exceeded_is_limit_error(self):
        with self.assertRaises(libmail.LimitError) as cm:
            libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"],
                         limits=libmail.Limits(max_line=16))
        self.assertEqual(cm.exception.status_name, "MAIL_ERR_LIMIT")
        self.assertTrue(cm.exception.detail)

    def test_callback_raising_is_re_raised(self):
        from test_pop3 import deliver, ours, pop

        class Full(object):
            def write(self, b):
                raise Boom("disk full")
        tag = unique("cb")
        deliver(1, tag)
        with pop(1) as p:
            num = ours(p, [tag])[tag]
            with self.assertRaisesRegex(Boom, "disk full"):
                p.retr(num, Full())
            p.noop()  # the session stays usable
            self.assertIn(tag.encode(), p.retr(num))
            p.dele(num)

    def test_connection_refused_is_connection_error(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        with self.assertRaises(libmail.ConnectionError) as cm:
            libmail.SMTP("smtp://127.0.0.1:%d" % port)
        self.assertIsInstance(cm.exception, ConnectionError)
        self.assertIn("127.0.0.1", cm.exception.detail)

    def test_starttls_required(self):
        srv = ScriptedServer(fake_smtp())  # no STARTTLS offered
        with self.assertRaises(libmail.TLSError) as cm:
            libmail.SMTP("smtp://127.0.0.1:%d" % srv.port, timeout=20)
        srv.join()
        self.assertEqual(cm.exception.status_name, "MAIL_ERR_STARTTLS")


class TestLocalErrors(unittest.TestCase):
    def test_timeout_is_timeout_error(self):
        import threading
        done = threading.Event()
        srv = ScriptedServer(lambda sock: done.wait(30))  # accepts, never speaks
        try:
            with self.assertRaises(libmail.TimeoutError) as cm:
                libmail.POP3("pop3://127.0.0.1:%d" % srv.port, tls="none-insecure", timeout=0.3)
        finally:
            done.set()
            srv.join()
        self.assertIsInstance(cm.exception, TimeoutError)

    def test_garbage_is_protocol_error(self):
        def server(sock):
            sock.sendall(b"220 fake ESMTP\r\n")
            readline(sock)
            sock.sendall(b"this is not SMTP\r\n")
            readline(sock)
        srv = ScriptedServer(server)
        with self.assertRaises(libmail.ProtocolError) as cm:
            libmail.SMTP("smtp://127.0.0.1:%d" % srv.port, tls="none-insecure", timeout=20)
        srv.join()
        self.assertEqual(cm.exception.status_name, "MAIL_ERR_PROTOCOL")

    def test_bad_argument(self):
        with self.assertRaises(libmail.InvalidArgument):
            libmail.SMTP("gopher://x", connect=False).connect()
        with self.assertRaises(libmail.InvalidArgument):
            libmail.SMTP("smtp://x", tls="maybe")

    def test_hierarchy(self):
        for cls in (libmail.ConnectionError, libmail.TLSError, libmail.AuthError,
                    libmail.ProtocolError, libmail.ServerError, libmail.LimitError,
                    libmail.TimeoutError, libmail.RecipientsRefused):
            self.assertTrue(issubclass(cls, libmail.Error), cls)


if __name__ == "__main__":
    unittest.main()

"""Sessions through the test tree's SOCKS5 and HTTP CONNECT proxy
(tests/proxy/proxy_server.py) to the real servers: proxy= on every session
class, and errors that never show the proxy's password."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

from support import ENV, REPO, need_servers, url, user

import libmail

SCRIPT = os.path.join(REPO, "tests", "proxy", "proxy_server.py")


class Proxy:
    def __init__(self, mode, *args):
        fd, self.log = tempfile.mkstemp(prefix="proxy-log-")
        os.close(fd)
        self.proc = subprocess.Popen([sys.executable, SCRIPT, mode, "--log", self.log, *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.port = int(self.proc.stdout.readline().split()[1])

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()
        with open(self.log) as f:
            entries = [json.loads(line) for line in f]
        os.unlink(self.log)
        return entries


@need_servers
class TestProxy(unittest.TestCase):
    def test_pop3_through_socks5_with_credentials(self):
        px = Proxy("socks5", "--user", "pu", "--password", "p w")
        try:
            u, pw, _ = user(1)
            with libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u, password=pw,
                              cafile=ENV["MAIL_TEST_CA"], timeout=30,
                              proxy="socks5://pu:p%%20w@127.0.0.1:%d" % px.port) as p:
                self.assertTrue(p.verified)
                p.stat()
        finally:
            log = px.stop()
        self.assertEqual(log[0]["target"], ENV["MAIL_TEST_HOST"])
        self.assertTrue(log[0]["auth"])

    def test_smtp_through_http_connect(self):
        px = Proxy("http")
        try:
            u, pw, _ = user(1)
            with libmail.SMTP(url("submission", "MAIL_TEST_SUBMISSION_PORT"), user=u,
                              password=pw, cafile=ENV["MAIL_TEST_CA"], timeout=30,
                              proxy="http://127.0.0.1:%d" % px.port) as s:
                self.assertTrue(s.verified)
        finally:
            log = px.stop()
        self.assertEqual(log[0]["method"], "CONNECT")

    def test_refused_credentials_are_not_shown(self):
        px = Proxy("socks5", "--user", "pu", "--password", "right")
        try:
            with self.assertRaises(libmail.ConnectionError) as cm:
                libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), cafile=ENV["MAIL_TEST_CA"],
                             timeout=30, proxy="socks5://pu:wrong-secret@127.0.0.1:%d" % px.port)
        finally:
            px.stop()
        self.assertEqual(cm.exception.status, -114)  # MAIL_ERR_PROXY
        self.assertIn("refused the user name and password", str(cm.exception))
        self.assertNotIn("wrong-secret", str(cm.exception))

    def test_bad_proxy_url(self):
        with self.assertRaises(libmail.InvalidArgument) as cm:
            libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), connect=False,
                         proxy="ftp://u:hidden@127.0.0.1:1")
        self.assertNotIn("hidden", str(cm.exception))


if __name__ == "__main__":
    unittest.main()

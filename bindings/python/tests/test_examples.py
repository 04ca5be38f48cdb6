"""examples/python run against the real servers."""
import os
import subprocess
import sys
import tempfile
import threading
import unittest

from support import ENV, REPO, need_servers, unique, url, user

EXAMPLES = os.path.join(REPO, "examples", "python")


def run(name, *args, password=None):
    env = dict(os.environ, MAIL_CAFILE=ENV["MAIL_TEST_CA"],
               PYTHONPATH=os.path.join(REPO, "bindings", "python"))
    if password is not None:
        env["MAILPW"] = password
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name)] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


@need_servers
class TestExamples(unittest.TestCase):
    def test_send_refused(self):
        u, pw, addr = user(1)
        r = run("send.py", url("submission", "MAIL_TEST_SUBMISSION_PORT"), addr,
                "%s@libmail.test" % unique("nobody"), password=pw)
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertIn("550 5.1.1", r.stdout)

    def test_fetch_and_asyncio(self):
        u, pw, _ = user(3)
        with tempfile.TemporaryDirectory() as d:
            r = run("fetch.py", url("pop3", "MAIL_TEST_POP3_PORT"), u, d, password=pw)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("new, 0 marked deleted (committed)", r.stdout)
            self.assertTrue(os.path.exists(os.path.join(d, ".seen")))
        creds = ["%s:%s" % user(n)[:2] for n in (1, 2)]
        r = run("asyncio_stat.py", url("pop3", "MAIL_TEST_POP3_PORT"), *creds)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), 2)
        self.assertIn("messages", r.stdout)

    def test_idle_prints_new_subjects(self):
        import libmail
        if "imap" not in libmail.features():
            self.skipTest("libmail built without IMAP")
        u, pw, _ = user(2)
        box = unique("idle-example")
        with libmail.IMAP(url("imap", "MAIL_TEST_IMAP_PORT"), user=u, password=pw,
                          cafile=ENV["MAIL_TEST_CA"]) as im:
            im.create(box)
            try:
                env = dict(os.environ, MAIL_CAFILE=ENV["MAIL_TEST_CA"], MAILPW=pw,
                           PYTHONPATH=os.path.join(REPO, "bindings", "python"))
                p = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "idle.py"),
                                      url("imap", "MAIL_TEST_IMAP_PORT"), u, box, "2"],
                                     env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
                killer = threading.Timer(120, p.kill)
                killer.start()
                try:
                    first = p.stdout.readline()  # it has examined the mailbox
                    self.assertIn("watching %s (0 messages)" % box, first)
                    for subject in ("first one", "second one"):
                        im.append(box, b"From: Alice <alice@libmail.test>\r\nSubject: "
                                  + subject.encode() + b"\r\n\r\nhi\r\n")
                    out, err = p.communicate()
                finally:
                    killer.cancel()
                self.assertEqual(p.returncode, 0, err)
                lines = out.splitlines()
                self.assertEqual(len(lines), 2, out)
                self.assertTrue(lines[0].startswith("1  Alice <alice@libmail.test>  first one"))
                self.assertTrue(lines[1].endswith("second one"))
            finally:
                im.delete(box)


if __name__ == "__main__":
    unittest.main()

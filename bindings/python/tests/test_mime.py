"""libmail.parse, Part, Message <-> email.message, MessageBuilder, and
memory that stays flat over 10,000 parses."""
import email
import email.policy
import gc
import hashlib
import io
import os
import unittest
from email.message import EmailMessage

import libmail

SAMPLE = (b"From: =?utf-8?q?J=C3=BCrgen?= <j@example.org>\r\n"
          b"To: Alice <alice@example.com>, bob@example.net\r\n"
          b"Cc: undisclosed-recipients:;\r\n"
          b"Subject: =?utf-8?b?R3LDvMOfZQ==?= world\r\n"
          b"Message-ID: <1@example.org>\r\n"
          b"MIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
          b"preamble\r\n--b1\r\n"
          b"Content-Type: multipart/alternative; boundary=b2\r\n\r\n"
          b"--b2\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
          b"Content-Transfer-Encoding: quoted-printable\r\n\r\nh=E4llo=\r\n world\r\n"
          b"--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>hi</p>\r\n--b2--\r\n"
          b"--b1\r\nContent-Type: application/octet-stream\r\n"
          b"Content-Disposition: attachment; filename*=utf-8''%C3%A4.bin\r\n"
          b"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n"
          b"--b1\r\nContent-Type: message/rfc822\r\n\r\n"
          b"Subject: inner\r\n\r\ninner body\r\n"
          b"--b1--\r\n")


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class TestParse(unittest.TestCase):
    def test_tree(self):
        m = libmail.parse(SAMPLE)
        self.assertEqual(m.content_type, "multipart/mixed")
        self.assertEqual([(p.path, p.content_type) for p in m.walk()],
                         [("", "multipart/mixed"), ("1", "multipart/alternative"),
                          ("1.1", "text/plain"), ("1.2", "text/html"),
                          ("2", "application/octet-stream"), ("3", "message/rfc822"),
                          ("3.1", "text/plain")])
        self.assertTrue(m.is_multipart())
        self.assertTrue(m.children[2].is_message())

    def test_headers_decoded(self):
        m = libmail.parse(SAMPLE)
        self.assertEqual(m["Subject"], "Grüße world")
        self.assertEqual(m.get("From"), "Jürgen <j@example.org>")
        self.assertIsNone(m.get("X-Missing"))
        self.assertIn("subject", m)
        self.assertEqual(m.get_raw("Subject"), " =?utf-8?b?R3LDvMOfZQ==?= world")
        self.assertEqual(m.keys()[0], "From")
        addrs = m.addresses("To")
        self.assertEqual([a.mailbox for a in addrs], ["alice@example.com", "bob@example.net"])
        self.assertEqual(addrs[0].name, "Alice")
        self.assertEqual(m.addresses("From")[0].name, "Jürgen")

    def test_content(self):
        m = libmail.parse(SAMPLE)
        text, html = m.children[0].children
        self.assertEqual(text.get_content(), b"h\xe4llo world")
        self.assertEqual(text.get_text(), "hällo world")
        self.assertEqual(text.charset, "iso-8859-1")
        self.assertEqual(text.encoding, "quoted-printable")
        att = m.children[1]
        self.assertEqual(att.filename, "ä.bin")
        self.assertTrue(att.is_attachment())
        self.assertEqual(att.get_content(), b"\x00\x01\x02\x03\x04")
        out = io.BytesIO()
        att.stream_content(out.write)
        self.assertEqual(out.getvalue(), b"\x00\x01\x02\x03\x04")
        self.assertEqual(m.children[2].children[0]["Subject"], "inner")

    def test_defects(self):
        m = libmail.parse(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
                          b"Content-Transfer-Encoding: base64\r\n\r\nYWJj*\r\n")
        names = {d.name for d in m.all_defects}
        self.assertIn("close-boundary-not-found", names)
        m.children[0].get_content()
        names = {d.name for d in m.all_defects}
        self.assertTrue(any("base64" in n for n in names), names)
        self.assertTrue(all(isinstance(d.offset, int) for d in m.all_defects))

    def test_file_and_memoryview(self):
        self.assertEqual(libmail.parse(io.BytesIO(SAMPLE))["Subject"], "Grüße world")
        self.assertEqual(libmail.parse(memoryview(SAMPLE))["Subject"], "Grüße world")
        with self.assertRaises(TypeError):
            libmail.parse("not bytes")

    def test_parts_keep_message_alive(self):
        part = libmail.parse(SAMPLE).children[0].children[0]
        gc.collect()
        self.assertEqual(part.get_text(), "hällo world")
        self.assertEqual(part.raw[:12], b"Content-Type")

    def test_close_is_deterministic(self):
        with libmail.parse(SAMPLE) as m:
            tree = m._msg
            self.assertTrue(tree.finalizer.alive)
        self.assertFalse(tree.finalizer.alive)

    def test_email_message_round_trip(self):
        em = libmail.parse(SAMPLE).to_email_message()
        self.assertEqual(str(em["Subject"]), "Grüße world")
        e = EmailMessage()
        e["From"] = "a@example.org"
        e["To"] = "b@example.org"
        e["Subject"] = "Grüße"
        e.set_content("body ü\n")
        e.add_attachment(b"\x00\xff" * 100, maintype="application", subtype="octet-stream",
                         filename="x.bin")
        m = libmail.Message.from_email_message(e)
        self.assertEqual(m["Subject"], "Grüße")
        leaves = list(m.leaves())
        self.assertEqual(leaves[0].get_text(), "body ü\n".replace("\n", "\r\n")
                         if b"\r\n" in leaves[0].get_content() else "body ü\n")
        self.assertEqual(leaves[1].get_content(), b"\x00\xff" * 100)

    def test_agrees_with_email_package(self):
        """sha256 of every decoded leaf: libmail and email agree."""
        for data in (SAMPLE, _built_sample()):
            ours = [hashlib.sha256(p.get_content()).hexdigest()
                    for p in libmail.parse(data).leaves() if not p.is_message()]
            theirs = [hashlib.sha256(p.get_payload(decode=True) or b"").hexdigest()
                      for p in email.message_from_bytes(data, policy=email.policy.compat32).walk()
                      if not p.is_multipart() and p.get_content_maintype() != "message"]
            self.assertEqual(ours, theirs)

    def test_parse_addresses_and_decode_header(self):
        a = libmail.parse_addresses('"Doe, J" <j@x.org>, team: a@b.c, d@e.f;')
        self.assertEqual([x.mailbox for x in a], ["j@x.org", "a@b.c", "d@e.f"])
        self.assertEqual(a[0].name, "Doe, J")
        self.assertEqual(a[1].group, "team")
        self.assertEqual(libmail.decode_header("=?iso-8859-1?q?caf=E9?="), "café")
        with self.assertRaises(libmail.InvalidArgument):
            libmail.parse_addresses("a@b(<c@d>", strict=True)

    def test_rss_flat_over_10000_parses(self):
        data = SAMPLE
        gc.collect()
        before = None
        for i in range(1, 10001):
            m = libmail.parse(data)
            for p in m.leaves():
                p.get_content()
            m["Subject"]
            del m
            if i == 1000:
                gc.collect()
                before = rss_kib()
        gc.collect()
        grown = rss_kib() - before
        self.assertLessEqual(grown, 1024, "RSS grew by %d KiB between parse 1,000 and 10,000"
                             % grown)


def _built_sample() -> bytes:
    b = libmail.MessageBuilder(from_=("Al", "al@example.org"), to="bo@example.org",
                               subject="s", text="plain ü\n", html="<b>html</b>")
    b.add_attachment(os.urandom(3000), "application/octet-stream", "r.bin")
    b.add_inline(b"\x89PNG....", "image/png", "img1@example.org", "i.png")
    return b.as_bytes()


class TestBuilder(unittest.TestCase):
    def test_build(self):
        b = libmail.MessageBuilder(from_=("Alice", "alice@example.org"),
                                   to=["bob@example.org", ("Cé", "c@example.org")],
                                   bcc="hidden@example.org", subject="Grüße",
                                   text="Hi\n", html="<p>Hi</p>",
                                   message_id="abc@example.org",
                                   headers={"X-Tag": "t1"})
        b.add_attachment(b"data" * 1000, "application/pdf", "doc.pdf")
        b.set_date(1700000000, 60)
        raw = b.as_bytes()
        self.assertEqual(b.size, len(raw))
        self.assertNotIn(b"hidden@example.org", raw)
        self.assertEqual(b.envelope_from, "alice@example.org")
        self.assertEqual(b.envelope_recipients,
                         ["bob@example.org", "c@example.org", "hidden@example.org"])
        m = libmail.parse(raw)
        self.assertEqual(m["Subject"], "Grüße")
        self.assertEqual(m["X-Tag"], "t1")
        self.assertEqual(m["Message-ID"], "<abc@example.org>")
        self.assertIn("+0100", m["Date"])
        self.assertEqual([p.content_type for p in m.leaves()],
                         ["text/plain", "text/html", "application/pdf"])
        self.assertEqual(list(m.leaves())[2].get_content(), b"data" * 1000)
        with self.assertRaises(libmail.StateError):
            b.set_subject("too late")

    def test_header_injection_refused(self):
        b = libmail.MessageBuilder()
        with self.assertRaises(libmail.InvalidArgument):
            b.set_subject("a\r\nBcc: evil@example.org")
        with self.assertRaises(libmail.InvalidArgument):
            b.add_to("x@example.org\r\nX: y")

    def test_stream_and_file_attachments(self):
        import tempfile
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"file-content" * 500)
            f.flush()
            b = libmail.MessageBuilder(from_="a@example.org", to="b@example.org", text="t")
            b.add_attachment(f.name, "application/octet-stream", "f.bin")
            b.add_attachment(io.BytesIO(b"stream" * 300), "application/octet-stream", "s.bin")
            leaves = list(libmail.parse(b.as_bytes()).leaves())
        self.assertEqual(leaves[1].get_content(), b"file-content" * 500)
        self.assertEqual(leaves[2].get_content(), b"stream" * 300)

    def test_stream_exception_re_raised(self):
        class Broken(io.BytesIO):
            def read(self, n=-1):
                raise OSError("disk on fire")
        b = libmail.MessageBuilder(from_="a@example.org", to="b@example.org", text="t")
        b.add_attachment(Broken(b"x"), "application/octet-stream", "s.bin")
        with self.assertRaisesRegex(OSError, "disk on fire"):
            b.as_bytes()

    def test_builder_freed(self):
        b = libmail.MessageBuilder()
        fin = b._finalizer
        del b
        gc.collect()
        self.assertFalse(fin.alive)


if __name__ == "__main__":
    unittest.main()

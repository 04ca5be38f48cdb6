"""SMTP and LMTP against the real Postfix and Dovecot."""
import email
import email.policy
import unittest
from email.message import EmailMessage

from support import ENV, need_servers, pop3_find, unique, url, user

import libmail


def submission(**kw):
    u, pw, _ = user(1)
    return libmail.SMTP(url("submission", "MAIL_TEST_SUBMISSION_PORT"), user=u, password=pw,
                        cafile=ENV["MAIL_TEST_CA"], timeout=30, **kw)


@need_servers
class TestSMTP(unittest.TestCase):
    def test_send_email_message_read_back_through_pop3(self):
        tag = unique("em")
        _, _, alice = user(1)
        _, _, bob = user(2)
        m = EmailMessage()
        m["From"] = "Alice <%s>" % alice
        m["To"] = bob
        m["Bcc"] = "hidden-%s@libmail.test" % tag  # refused (unknown), not in the message
        m["Subject"] = "Grüße %s" % tag
        m["Message-ID"] = "<%s@libmail.test>" % tag
        m.set_content("Hallo Bob, ünïcode body\n")
        m.add_attachment(bytes(range(256)) * 40, maintype="application",
                         subtype="octet-stream", filename="data.bin")
        with submission() as s:
            self.assertTrue(s.verified)
            self.assertIn("AUTH", s.capabilities)
            result = s.send(m)
        self.assertEqual([r.address for r in result], [bob, "hidden-%s@libmail.test" % tag])
        self.assertTrue(result[bob].accepted)
        self.assertEqual(result[bob].code, 250)
        self.assertFalse(result[1].accepted)
        self.assertEqual(result[1].code, 550)
        self.assertEqual(result[1].enhanced, "5.1.1")
        raw = pop3_find(libmail, 2, tag.encode())
        got = libmail.parse(raw)
        self.assertEqual(got["Subject"], "Grüße %s" % tag)
        self.assertNotIn(b"hidden-", raw.split(b"\r\n\r\n", 1)[0])
        leaves = list(got.leaves())
        self.assertEqual(leaves[0].get_text().replace("\r\n", "\n"), "Hallo Bob, ünïcode body\n")
        self.assertEqual(leaves[1].get_content(), bytes(range(256)) * 40)
        self.assertEqual(leaves[1].filename, "data.bin")
        # and Python's email package reads the same message
        em = got.to_email_message()
        self.assertEqual(em["Message-ID"], "<%s@libmail.test>" % tag)

    def test_send_builder_bytes_and_libmail_message(self):
        tag = unique("b")
        _, _, alice = user(1)
        _, _, bob = user(2)
        b = libmail.MessageBuilder(from_=alice, to=bob, subject=tag, text="built\n",
                                   message_id="%s@libmail.test" % tag)
        b.add_attachment(b"\x00\x01" * 5000, "application/octet-stream", "x.bin")
        with submission() as s:
            self.assertTrue(s.send(b))
            raw = b.as_bytes()
            tag2 = unique("bytes")
            data = raw.replace(tag.encode(), tag2.encode())
            self.assertTrue(s.send(data))
            tag3 = unique("msg")
            self.assertTrue(s.send(libmail.parse(raw.replace(tag.encode(), tag3.encode()))))
        for t in (tag, tag2, tag3):
            self.assertIn(b"built", pop3_find(libmail, 2, t.encode()))

    def test_partial_refusal_and_all_refused(self):
        tag = unique("refused")
        _, _, bob = user(2)
        bad = ["nobody-%s-%d@libmail.test" % (tag, i) for i in range(2)]
        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\nx\r\n" % (bob, bob, tag)).encode()
        with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"]) as s:
            r = s.send(body, bob, [bob] + bad)
            self.assertEqual(len(r.accepted), 1)
            self.assertEqual([x.address for x in r.refused], bad)
            self.assertFalse(r)
            with self.assertRaises(libmail.RecipientsRefused) as cm:
                s.send(body, bob, bad)
            e = cm.exception
            self.assertIsInstance(e, libmail.ServerError)
            self.assertEqual([x.code for x in e.result], [550, 550])
            self.assertIn("User unknown", e.result[0].text)
            s.noop()  # the session is still usable
        pop3_find(libmail, 2, tag.encode())

    def test_dsn_smtputf8_chunking_options(self):
        tag = unique("dsn")
        _, _, bob = user(2)
        utf8 = ENV["MAIL_TEST_UTF8_ADDR"]
        msg = EmailMessage(policy=email.policy.SMTPUTF8)
        msg["From"] = bob
        msg["To"] = utf8
        msg["Subject"] = "ütf8 %s" % tag
        msg.set_content("x\n")
        sent = []
        with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"],
                          chunking="prefer",
                          trace=lambda d, b: sent.append(b) if d == "send" else None) as s:
            self.assertIn("CHUNKING", s.capabilities)
            r = s.send(msg, notify=["failure", "delay"], ret="hdrs", envid=tag, orcpt=True)
            self.assertTrue(r, r)
            wire = b"".join(sent)
            self.assertIn(b"SMTPUTF8", wire)
            self.assertIn(b"RET=HDRS", wire)
            self.assertIn(b"ENVID=" + tag.encode(), wire)
            self.assertIn(b"NOTIFY=FAILURE,DELAY", wire)
            self.assertIn(b"ORCPT=", wire)
            self.assertIn(b"BDAT ", wire)
            with self.assertRaises(libmail.TLSError):
                s.send(b"Subject: x\r\n\r\nx\r\n", bob, bob, requiretls=True)
        self.assertIn(tag.encode(), pop3_find(libmail, 3, tag.encode()))

    def test_lmtp_per_recipient_final_replies(self):
        tag = unique("lmtp")
        _, _, alice = user(1)
        _, _, bob = user(2)
        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@libmail.test>\r\n\r\n"
                "lmtp body\r\n" % (alice, bob, tag, tag)).encode()
        for target in ("lmtp://%s:%s" % (ENV["MAIL_TEST_HOST"], ENV["MAIL_TEST_LMTP_PORT"]),
                       "lmtp://" + ENV["MAIL_TEST_LMTP_SOCKET"]):
            with libmail.LMTP(target, tls="none-insecure") as s:
                self.assertIn("PIPELINING", s.capabilities)
                r = s.send(body, alice, [bob, "nobody-%s@libmail.test" % tag])
            self.assertTrue(r[0].accepted, r)
            self.assertEqual(r[0].code, 250)
            self.assertFalse(r[1].accepted)
            self.assertGreaterEqual(r[1].code, 500)
            self.assertIn(b"lmtp body", pop3_find(libmail, 2, tag.encode()))

    def test_trace_never_shows_the_password(self):
        u, pw, _ = user(3)  # cedric: a non-ASCII password
        seen = []
        with libmail.SMTP(url("submission", "MAIL_TEST_SUBMISSION_PORT"), user=u, password=pw,
                          cafile=ENV["MAIL_TEST_CA"], trace=lambda d, b: seen.append((d, b))):
            pass
        wire = b"".join(b for _, b in seen)
        self.assertIn(b"AUTH ", wire)
        self.assertIn(b"[redacted]", wire)
        self.assertNotIn(pw.encode("utf-8"), wire)

    def test_smtplib_shaped_sendmail(self):
        tag = unique("sendmail")
        _, _, bob = user(2)
        with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"]) as s:
            refused = s.sendmail(bob, [bob, "nobody-%s@libmail.test" % tag],
                                 "Subject: %s\r\n\r\nhi\r\n" % tag)
        self.assertEqual(list(refused), ["nobody-%s@libmail.test" % tag])
        self.assertEqual(refused["nobody-%s@libmail.test" % tag][0], 550)
        pop3_find(libmail, 2, tag.encode())


if __name__ == "__main__":
    unittest.main()

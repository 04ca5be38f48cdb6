"""The IMAP extension methods (libmail/imap_ext.py) against the real
Dovecot with its quota, acl and METADATA settings: each reads back what it
changed, in mailboxes of the test's own."""
import unittest

from support import ENV, need_servers, unique, url, user

import libmail

WITH_IMAP = unittest.skipUnless("imap" in libmail.features(), "libmail built without IMAP")

MSGS = [
    b"From: a@libmail.test\r\nDate: Sat, 03 Jan 2026 10:00:00 +0000\r\nSubject: b-topic\r\n"
    b"Message-ID: <p1@libmail.test>\r\n\r\none\r\n",
    b"From: b@libmail.test\r\nDate: Thu, 01 Jan 2026 10:00:00 +0000\r\nSubject: Re: b-topic\r\n"
    b"Message-ID: <p2@libmail.test>\r\nReferences: <p1@libmail.test>\r\n\r\ntwo\r\n",
    b"From: c@libmail.test\r\nDate: Fri, 02 Jan 2026 10:00:00 +0000\r\nSubject: a-other\r\n"
    b"Message-ID: <p3@libmail.test>\r\n\r\nthree\r\n",
]


def imap(n: int = 1):
    u, pw, _ = user(n)
    return libmail.IMAP(url("imaps", "MAIL_TEST_IMAPS_PORT"), user=u, password=pw,
                        cafile=ENV["MAIL_TEST_CA"], timeout=30)


@need_servers
@WITH_IMAP
class TestIMAPExtensions(unittest.TestCase):
    def test_quota_acl_metadata(self):
        with imap(4) as im:  # the quota user: 10 KiB of storage
            box = unique("pyquota")
            im.create(box)
            try:
                roots = im.getquotaroot(box)
                self.assertEqual(roots["User quota"]["STORAGE"][1], 10)
                before = roots["User quota"]["STORAGE"][0]
                im.append(box, MSGS[0] + b"x" * 3000)
                self.assertGreaterEqual(im.getquota("User quota")["STORAGE"][0], before + 2)
            finally:
                im.delete(box)
        bob = user(2)[0]
        with imap() as im:
            box = unique("pyacl")
            im.create(box)
            try:
                im.setacl(box, bob, "lr")
                self.assertEqual(im.getacl(box).get(bob), "lr")
                self.assertIn("a", im.myrights(box))
                required, optional = im.listrights(box, bob)
                self.assertIsInstance(optional, list)
                im.deleteacl(box, bob)
                self.assertNotIn(bob, im.getacl(box))
                im.setmetadata(box, {"/private/comment": "hé", "/shared/comment": "x"})
                got = im.getmetadata(box, "/private/comment", "/shared/comment")
                self.assertEqual(got["/private/comment"], "hé".encode())
                im.setmetadata(box, {"/shared/comment": None})
                self.assertNotIn(b"x", im.getmetadata(box, "/shared/comment").values())
            finally:
                im.delete(box)

    def test_sort_thread(self):
        with imap() as im:
            box = unique("pysort")
            im.create(box)
            try:
                for m in MSGS:
                    im.append(box, m)
                im.select(box)
                self.assertEqual(im.sort("DATE", uid=False), [2, 3, 1])
                # REVERSE turns the key only: equal subjects stay in message order
                self.assertEqual(im.sort("REVERSE SUBJECT", uid=False), [1, 2, 3])
                nodes = im.thread("REFERENCES", uid=False)
                parent = {n: (nodes[p][0] if p is not None else None) for n, p in nodes}
                self.assertEqual(parent, {1: None, 2: 1, 3: None})
                im.unselect()
            finally:
                im.delete(box)


if __name__ == "__main__":
    unittest.main()

"""POP3 against the real Dovecot: messages of our own, delivered over
LMTP (synchronous), read, streamed, pipelined, deleted, left on the server."""
import io
import time
import unittest

from support import ENV, need_servers, unique, url, user

import libmail


def deliver(n: int, tag: str, body: bytes = b"body line\r\n") -> None:
    _, _, addr = user(n)
    data = (b"From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@libmail.test>\r\n\r\n"
            % (addr.encode(), addr.encode(), tag.encode(), tag.encode())) + body
    with libmail.LMTP("lmtp://" + ENV["MAIL_TEST_LMTP_SOCKET"]) as s:
        r = s.send(data, addr, addr)
    assert r, r


def pop(n: int, **kw) -> libmail.POP3:
    u, pw, _ = user(n)
    return libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u, password=pw,
                        cafile=ENV["MAIL_TEST_CA"], timeout=30, **kw)


def ours(p: libmail.POP3, tags) -> dict:
    """Message number of each of our tags (by TOP 0)."""
    found = {}
    for num in p.uidl():
        try:
            head = p.top(num, 0)
        except libmail.ServerError:
            continue
        for t in tags:
            if t.encode() in head:
                found[t] = num
    return found


@need_servers
class TestPOP3(unittest.TestCase):
    def test_commands(self):
        tags = [unique("pop%d" % i) for i in range(3)]
        big = b"".join(b"%06d .dot-stuffed line\r\n" % i for i in range(20000))
        deliver(1, tags[0], big)
        deliver(1, tags[1])
        deliver(1, tags[2])
        with pop(1) as p:
            self.assertEqual(p.state, "TRANSACTION")
            self.assertIn("UIDL", p.capabilities)
            count, size = p.stat()
            self.assertGreaterEqual(count, 3)
            sizes = p.list()
            uids = p.uidl()
            found = ours(p, tags)
            self.assertEqual(set(found), set(tags))
            n0 = found[tags[0]]
            self.assertEqual(p.list(n0), {n0: sizes[n0]})
            self.assertEqual(p.uidl(n0), {n0: uids[n0]})
            whole = p.retr(n0)
            self.assertTrue(whole.endswith(big))
            sink = io.BytesIO()
            self.assertEqual(p.retr(n0, sink), len(whole))
            self.assertEqual(sink.getvalue(), whole)
            top = p.top(n0, 2)
            self.assertTrue(top.endswith(b"000000 .dot-stuffed line\r\n000001 .dot-stuffed line\r\n"))
            nums = [found[t] for t in tags]
            batch = p.retr_many(nums + [999999])
            self.assertEqual(batch.ok, nums)
            self.assertEqual(batch.refused, [999999])
            self.assertEqual(batch.messages[n0], whole)
            files = {}
            p.retr_many(nums, sink=lambda n: files.setdefault(n, io.BytesIO()))
            self.assertEqual(files[n0].getvalue(), whole)
            with self.assertRaises(libmail.ServerError) as cm:
                p.retr(999999)
            self.assertIsNone(cm.exception.code)
            self.assertTrue(cm.exception.text)
            d = p.dele(*nums)
            self.assertEqual(d.ok, nums)
            self.assertEqual(p.deleted_count, 3)
            p.rset()
            self.assertEqual(p.deleted_count, 0)
            p.dele(*nums)
            p.noop()
            self.assertTrue(p.quit())
        with pop(1) as p:
            self.assertEqual(ours(p, tags), {})

    def test_exception_in_with_block_deletes_nothing(self):
        tag = unique("keep")
        deliver(2, tag)
        with self.assertRaises(KeyError):
            with pop(2) as p:
                p.dele(ours(p, [tag])[tag])
                raise KeyError("stop")
        with pop(2) as p:
            n = ours(p, [tag])[tag]
            p.dele(n)
            self.assertTrue(p.quit())

    def test_leave_on_server_cycle(self):
        tags = [unique("leave%d" % i) for i in range(2)]
        with pop(3) as p:
            before = {uid: int(time.time()) for uid in p.uidl().values()}
        for t in tags:
            deliver(3, t)
        with pop(3) as p:
            r = p.leave_on_server(before)
            mine = {uid: data for uid, data in r.new.items() if any(t.encode() in data
                                                                     for t in tags)}
            self.assertEqual(len(mine), 2)
            self.assertTrue(set(mine) <= set(r.seen))
            self.assertEqual(r.deleted, 0)
            self.assertTrue(p.quit())
        # next cycle: ours first seen 10 days ago, everything else now
        known = {uid: (int(time.time()) - 10 * 86400 if uid in mine else t)
                 for uid, t in r.seen.items()}
        with pop(3) as p:
            r2 = p.leave_on_server(known, delete_after_days=5)
            self.assertFalse(set(mine) & set(r2.new))
            self.assertFalse(set(mine) & set(r2.seen))
            self.assertGreaterEqual(r2.deleted, 2)
            self.assertTrue(p.quit())
        with pop(3) as p:
            self.assertFalse(set(mine) & set(p.uidl().values()))

    def test_pop3s_and_ipv6(self):
        u, pw, _ = user(1)
        with libmail.POP3(url("pop3s", "MAIL_TEST_POP3S_PORT", ENV["MAIL_TEST_HOST6"]), user=u,
                          password=pw, cafile=ENV["MAIL_TEST_CA"],
                          server_name=ENV["MAIL_TEST_HOSTNAME"]) as p:
            self.assertTrue(p.verified)
            self.assertIsNotNone(p.tls_version)
            p.stat()


if __name__ == "__main__":
    unittest.main()

"""libmail.aio: many sessions on one asyncio loop, no threads."""
import asyncio
import threading
import time
import unittest

from support import ENV, ScriptedServer, need_servers, unique, url, user

import libmail
import libmail.aio

SESSIONS = 50
SMTP_SESSIONS = 30   # the rest are POP3, spread over the four users and
                     # both loopback addresses: at most 3 per user and
                     # address (Dovecot's mail_max_userip_connections was 10
                     # until tests/servers raised it; other tests use the
                     # same users meanwhile)


@need_servers
class TestAio(unittest.TestCase):
    def test_50_sessions_on_one_loop(self):
        tag = unique("aio")
        _, _, bob = user(2)
        hosts = [ENV["MAIL_TEST_HOST"], ENV["MAIL_TEST_HOST6"]]
        stats = {"connected": 0, "settled": 0, "in_flight": 0, "max_in_flight": 0,
                 "threads": set()}
        self.assertEqual(threading.active_count(), 1)

        async def one(i: int, all_in: asyncio.Event):
            host = hosts[i % 2]
            if i < SMTP_SESSIONS:
                s = libmail.aio.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT", host),
                                     cafile=ENV["MAIL_TEST_CA"], timeout=60)
            else:
                u, pw, _ = user(1 + (i // 2) % 4)
                s = libmail.aio.POP3(url("pop3", "MAIL_TEST_POP3_PORT", host), user=u,
                                     password=pw, cafile=ENV["MAIL_TEST_CA"], timeout=60)
            connected = False
            try:
                try:
                    await s.connect()
                    connected = True
                    stats["connected"] += 1
                    stats["in_flight"] += 1
                    stats["max_in_flight"] = max(stats["max_in_flight"], stats["in_flight"])
                finally:
                    stats["settled"] += 1
                    if stats["settled"] == SESSIONS:
                        all_in.set()
                await all_in.wait()  # every session is connected and logged in now
                stats["threads"].add(threading.active_count())
                if i < SMTP_SESSIONS:
                    msg = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s-%d\r\n\r\naio %d\r\n"
                           % (bob, bob, tag, i, i)).encode()
                    r = await s.send(msg, bob, bob)
                    assert r, r
                else:
                    count, size = await s.stat()
                    assert count >= 0 and size >= 0
                stats["threads"].add(threading.active_count())
                await s.quit()
            finally:
                if connected:
                    stats["in_flight"] -= 1
                s.close()

        async def main():
            all_in = asyncio.Event()
            return await asyncio.gather(*(one(i, all_in) for i in range(SESSIONS)),
                                        return_exceptions=True)
        results = asyncio.run(main())
        errors = [r for r in results if isinstance(r, BaseException)]
        self.assertEqual(errors, [])
        self.assertEqual(stats["connected"], SESSIONS)
        self.assertGreaterEqual(stats["max_in_flight"], 40)
        self.assertEqual(stats["threads"], {1})
        self.assertEqual(threading.active_count(), 1)
        # every message arrived; take ours out of bob's mailbox again
        wanted = {("%s-%d" % (tag, i)).encode() for i in range(SMTP_SESSIONS)}
        u, pw, _ = user(2)
        end = time.monotonic() + 60
        while wanted:
            with libmail.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u, password=pw,
                              cafile=ENV["MAIL_TEST_CA"]) as p:
                for num in p.list():
                    try:
                        head = p.top(num, 0)
                    except libmail.ServerError:
                        continue
                    for w in list(wanted):
                        if w + b"\r\n" in head:
                            p.dele(num)
                            wanted.discard(w)
            if wanted:
                self.assertLess(time.monotonic(), end, "not delivered: %s" % sorted(wanted))
                time.sleep(0.2)

    def test_aio_errors(self):
        u, _, _ = user(1)

        async def bad_password():
            async with libmail.aio.POP3(url("pop3", "MAIL_TEST_POP3_PORT"), user=u,
                                        password="wrong", cafile=ENV["MAIL_TEST_CA"]):
                pass
        with self.assertRaises(libmail.AuthError):
            asyncio.run(bad_password())

    def test_aio_pop3_retr_and_lmtp(self):
        tag = unique("aio-lmtp")
        _, _, alice = user(1)
        u, pw, _ = user(1)
        body = ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n" % (alice, alice, tag)).encode() \
            + b"x" * 300000 + b"\r\n"

        async def main():
            async with libmail.aio.LMTP("lmtp://" + ENV["MAIL_TEST_LMTP_SOCKET"]) as s:
                r = await s.send(body, alice, alice)
                self.assertTrue(r)
            async with libmail.aio.POP3(url("pop3s", "MAIL_TEST_POP3S_PORT"), user=u,
                                        password=pw, cafile=ENV["MAIL_TEST_CA"]) as p:
                for num in await p.uidl():
                    try:
                        head = await p.top(num, 0)
                    except libmail.ServerError:
                        continue
                    if tag.encode() in head:
                        data = await p.retr(num)
                        many = await p.retr_many([num])
                        await p.dele(num)
                        return data, many.messages[num]
        data, again = asyncio.run(main())
        self.assertTrue(data.endswith(b"x" * 300000 + b"\r\n"))
        self.assertEqual(data, again)


class TestAioLocal(unittest.TestCase):
    def test_timeout_on_the_loop(self):
        for cls, scheme in ((libmail.aio.POP3, "pop3"), (libmail.aio.IMAP, "imap")):
            if scheme not in libmail.features():
                continue
            with self.subTest(scheme=scheme):
                done = threading.Event()
                srv = ScriptedServer(lambda sock: done.wait(30))

                async def main():
                    s = cls("%s://127.0.0.1:%d" % (scheme, srv.port), tls="none-insecure",
                            timeout=0.3)
                    try:
                        await s.connect()
                    finally:
                        s.close()
                try:
                    # the server would close after 30 s (a ConnectionError): a
                    # TimeoutError means the loop's timer honoured the deadline
                    with self.assertRaises(libmail.TimeoutError):
                        asyncio.run(main())
                finally:
                    done.set()
                    srv.join()

    def test_cancel_closes_the_session(self):
        done = threading.Event()
        srv = ScriptedServer(lambda sock: done.wait(30))

        async def main():
            s = libmail.aio.POP3("pop3://127.0.0.1:%d" % srv.port, tls="none-insecure",
                                 timeout=30)
            task = asyncio.ensure_future(s.connect())
            await asyncio.sleep(0.05)
            task.cancel()
            with self.assertRaises(asyncio.CancelledError):
                await task
            self.assertEqual(s.fileno(), -1)
            self.assertTrue(s.closed)
            s.close()
        try:
            asyncio.run(main())
        finally:
            done.set()
            srv.join()


if __name__ == "__main__":
    unittest.main()

"""IMAP against a scripted server on loopback (no real servers): the
security defaults, a timeout (libmail.aio's: test_aio), an extension the
server lacks, typed results of exact server bytes (group addresses, a
message/rfc822 part), raising callbacks that leak nothing."""
import gc
import socket
import threading
import tracemalloc
import unittest

from support import ScriptedServer, readline

import libmail

ENVELOPE = (b'("Tue, 1 Dec 2026 10:00:00 +0000" "=?utf-8?q?caf=C3=A9?=" '
            b'(("Al" NIL "alice" "example.org")) NIL NIL '
            b'((NIL NIL "friends" NIL)("Bob" NIL "bob" "example.org")(NIL NIL NIL NIL)'
            b'("Carol" NIL "carol" "example.org")) NIL NIL NIL "<id@example.org>")')
BODYSTRUCTURE = (b'(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 5 1 NIL NIL NIL NIL)'
                 b'("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 300 ' + ENVELOPE +
                 b' (("TEXT" "PLAIN" NIL NIL NIL "7BIT" 3 1)("IMAGE" "PNG" ("NAME" "a.png") '
                 b'NIL NIL "BASE64" 8) "MIXED") 12) "MIXED")')

WITH_IMAP = unittest.skipUnless("imap" in libmail.features(), "libmail built without IMAP")


def imap_server(caps: bytes = b"IMAP4rev1 IDLE", greeting: bytes = b"PREAUTH",
                log=None, body: bytes = b"0123456789"):
    """A small IMAP server for one client: answers by tag."""
    def handler(sock: socket.socket) -> None:
        sock.sendall(b"* %s [CAPABILITY %s] hi\r\n" % (greeting, caps))
        while True:
            line = readline(sock)
            if not line:
                return
            if log is not None:
                log.append(line)
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            cmd = rest.split(b" ")[0].upper()
            if cmd == b"CAPABILITY":
                sock.sendall(b"* CAPABILITY %s\r\n%s OK done\r\n" % (caps, tag))
            elif cmd == b"SELECT":
                sock.sendall(b"* 1 EXISTS\r\n* FLAGS (\\Seen)\r\n"
                             b"* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 10] n\r\n"
                             b"%s OK [READ-WRITE] selected\r\n" % tag)
            elif cmd in (b"FETCH", b"UID"):
                sock.sendall(b"* 1 FETCH (UID 9 FLAGS (\\Seen) ENVELOPE " + ENVELOPE +
                             b" BODYSTRUCTURE " + BODYSTRUCTURE + b" BODY[] {%d}\r\n" % len(body)
                             + body + b")\r\n" + tag + b" OK fetched\r\n")
            elif cmd == b"LOGOUT":
                sock.sendall(b"* BYE bye\r\n%s OK done\r\n" % tag)
                return
            else:
                sock.sendall(b"%s BAD what\r\n" % tag)
    return handler


def local(srv: ScriptedServer, **kw) -> libmail.IMAP:
    kw.setdefault("tls", "none-insecure")
    return libmail.IMAP("imap://127.0.0.1:%d" % srv.port, timeout=20, **kw)


@WITH_IMAP
class TestIMAPLocal(unittest.TestCase):
    def test_starttls_required_before_any_credential(self):
        log = []
        srv = ScriptedServer(imap_server(caps=b"IMAP4rev1 AUTH=PLAIN", greeting=b"OK", log=log))
        with self.assertRaises(libmail.TLSError) as cm:
            libmail.IMAP("imap://127.0.0.1:%d" % srv.port, user="u", password="secret-pw",
                         timeout=20)
        srv.join()
        self.assertEqual(cm.exception.status_name, "MAIL_ERR_STARTTLS")
        self.assertFalse(any(b"secret-pw" in l or b"LOGIN" in l.upper() or
                             b"AUTHENTICATE" in l.upper() for l in log), log)

    def test_timeout(self):
        done = threading.Event()
        srv = ScriptedServer(lambda sock: done.wait(30))
        try:
            with self.assertRaises(libmail.TimeoutError):
                libmail.IMAP("imap://127.0.0.1:%d" % srv.port, tls="none-insecure", timeout=0.3)
        finally:
            done.set()
            srv.join()

    def test_idle_unsupported(self):
        srv = ScriptedServer(imap_server(caps=b"IMAP4rev1"))
        with local(srv) as im:
            self.assertEqual(im.state, "AUTHENTICATED")
            with self.assertRaises(libmail.UnsupportedError):
                list(im.idle(timeout=1))
        srv.join()

    def test_typed_fetch_of_exact_bytes(self):
        srv = ScriptedServer(imap_server())
        with local(srv) as im:
            box = im.select("INBOX")
            self.assertEqual((box.exists, box.uidvalidity, box.uidnext), (1, 7, 10))
            item = im.fetch(9, "(UID FLAGS ENVELOPE BODYSTRUCTURE BODY[])")[0]
        srv.join()
        self.assertEqual((item.seq, item.uid, item.flags), (1, 9, frozenset({"\\Seen"})))
        self.assertEqual(item.sections, {"BODY[]": b"0123456789"})
        env = item.envelope
        self.assertEqual(env.subject, "café")
        self.assertEqual(env.from_[0].name, "Al")
        self.assertEqual([(a.mailbox, a.group) for a in env.to],
                         [("bob@example.org", "friends"), ("carol@example.org", None)])
        self.assertEqual(env.message_id, "<id@example.org>")
        b = item.bodystructure
        self.assertTrue(b.is_multipart)
        self.assertEqual([(p.section, p.content_type) for p in b.walk()],
                         [("", "multipart/mixed"), ("1", "text/plain"),
                          ("2", "message/rfc822"), ("2", "multipart/mixed"),
                          ("2.1", "text/plain"), ("2.2", "image/png")])
        self.assertEqual(b.parts[0].charset, "utf-8")
        self.assertEqual((b.parts[0].size, b.parts[0].lines), (5, 1))
        self.assertEqual(b.parts[1].envelope.subject, "café")
        self.assertEqual(b.parts[1].lines, 12)
        self.assertEqual([p.filename for p in b.leaves()], [None, None, "a.png"])

    def test_borrowed_results_outlive_the_session(self):
        srv = ScriptedServer(imap_server())
        im = local(srv)
        im.select()
        item = im.fetch(9, "(UID ENVELOPE BODYSTRUCTURE)")[0]
        im.logout()
        im.close()
        del im
        srv.join()
        # results are plain Python objects: nothing in them points into C
        self.assertEqual(item.bodystructure.parts[1].parts[0].parts[1].filename, "a.png")
        self.assertEqual(item.envelope.to[0].group, "friends")

    def test_raising_callbacks_leak_nothing(self):
        class Boom(Exception):
            pass

        def on_item(item):
            raise Boom("no")

        class Full:
            def write(self, b):
                raise Boom("full")
        srv = ScriptedServer(imap_server())
        with local(srv) as im:
            im.select()
            keep = len(im._cb.keep)

            def rounds(n):
                for _ in range(n):
                    with self.assertRaises(Boom):
                        im.fetch(9, "(UID ENVELOPE BODY[])", callback=on_item)
                    with self.assertRaises(Boom):
                        im.fetch(9, "(UID ENVELOPE BODYSTRUCTURE)", callback=on_item)
            rounds(50)
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.take_snapshot()
            objects = len(gc.get_objects())
            rounds(300)
            gc.collect()
            grown = sum(st.size_diff for st in
                        tracemalloc.take_snapshot().compare_to(before, "filename"))
            tracemalloc.stop()
            self.assertLess(len(gc.get_objects()) - objects, 100)
            self.assertLess(grown, 64 * 1024)
            self.assertEqual(len(im._cb.keep), keep)
            # a body sink that raises ends the session (the stream cannot be resynchronised)
            with self.assertRaises(Boom):
                im.fetch(9, "(UID BODY[])", body=Full())
            self.assertLess(im.fileno(), 0)
        srv.join()


if __name__ == "__main__":
    unittest.main()


@WITH_IMAP
class TestSyncState(unittest.TestCase):
    def test_file_round_trip_and_damage(self):
        import os
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "box.state")
            st = libmail.SyncState.load(path)  # missing: empty
            self.assertEqual((len(st), st.uidvalidity, st.highestmodseq), (0, 0, 0))
            with open(path, "w") as f:
                f.write("libmail-imap-sync 1\nuidvalidity 7\nhighestmodseq 12\n"
                        "keyword $Forwarded\nrun 1 3 21\nrun 9 9 0\nend\n")
            st = libmail.SyncState.load(path)
            self.assertEqual(st.uids(), [1, 2, 3, 9])
            self.assertEqual(st.flags(2), frozenset({"\\Seen", "$Forwarded"}))
            self.assertEqual(st.flags(9), frozenset())
            with self.assertRaises(KeyError):
                st.flags(4)
            st.save(path + "2")
            self.assertEqual(libmail.SyncState.load(path + "2").items(), st.items())
            blob = st.to_bytes()
            with open(path + "2", "rb") as f:
                self.assertEqual(blob, f.read())
            self.assertEqual(libmail.SyncState.from_bytes(blob).items(), st.items())
            with self.assertRaises(libmail.InvalidArgument):
                libmail.SyncState.from_bytes(b"libmail-imap-sync 1\nrun 1 1 0\n")
            with open(path, "w") as f:
                f.write("libmail-imap-sync 1\nrun 5 9 0\n")  # cut short
            with self.assertRaises(libmail.InvalidArgument):  # MAIL_ERR_SYNTAX
                libmail.SyncState.load(path)
            with self.assertRaises(libmail.LimitError):
                libmail.SyncState.load(path + "2", max_uids=2)

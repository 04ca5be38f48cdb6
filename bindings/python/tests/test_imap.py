"""IMAP against the real Dovecot (and Postfix for deliveries): each test
works in mailboxes it creates under unique names, or finds its own
message by a unique Message-ID."""
import asyncio
import email.message
import gc
import io
import tempfile
import threading
import time
import tracemalloc
import unittest
import weakref

from support import ENV, need_servers, unique, url, user

import libmail
import libmail.aio

WITH_IMAP = unittest.skipUnless("imap" in libmail.features(), "libmail built without IMAP")


def imap(n: int = 1, scheme: str = "imap", port: str = "MAIL_TEST_IMAP_PORT", **kw):
    u, pw, _ = user(n)
    kw.setdefault("timeout", 30)
    return libmail.IMAP(url(scheme, port), user=u, password=pw, cafile=ENV["MAIL_TEST_CA"],
                        **kw)


def message(subject: str, body: bytes = b"hello\r\n", extra: bytes = b"") -> bytes:
    return (b"From: Alice Example <alice@libmail.test>\r\nTo: bob@libmail.test, "
            b"undisclosed-recipients:;\r\nCc: =?utf-8?q?C=C3=A9dric?= <cedric@libmail.test>\r\n"
            b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.encode() +
            b"@libmail.test>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n" + extra +
            b"\r\n" + body)


class Box:
    """A mailbox of the test's own, deleted at the end."""

    def __init__(self, im: libmail.IMAP, tag: str) -> None:
        self.im = im
        self.name = unique(tag)
        im.create(self.name)

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        if self.im.closed or not self.im.fileno() >= 0:
            with imap() as im:
                im.delete(self.name)
            return
        if self.im.state == "SELECTED":
            self.im.unselect()
        self.im.delete(self.name)


def bodystructure_shape(b):
    return [(p.section, p.content_type) for p in b.walk() if not p.is_multipart]


def mime_shape(msg):
    # the MIME parser's part paths are IMAP's section numbers ("" for a
    # multipart root; a single-part message's body is section 1)
    return [(p.path or "1", p.content_type) for p in msg.walk() if not p.is_multipart()]


@need_servers
@WITH_IMAP
class TestIMAP(unittest.TestCase):
    def test_mailbox_commands(self):
        with imap() as im:
            self.assertEqual(im.state, "AUTHENTICATED")
            self.assertTrue(im.verified)  # STARTTLS was required and done
            self.assertIn("IMAP4REV1", im.capabilities)
            self.assertTrue(im.has_capability("idle"))
            self.assertEqual(im.capability(), im.capabilities)
            name = unique("boxes")
            im.create(name)
            im.create(name + "/child")
            entries = im.list("", name + "*", status=True, children=True)
            by_name = {e.name: e for e in entries}
            self.assertEqual(set(by_name), {name, name + "/child"})
            self.assertEqual(by_name[name].delimiter, "/")
            self.assertIn("\\HasChildren", by_name[name].attributes)
            self.assertEqual(by_name[name].status.messages, 0)
            self.assertTrue(by_name[name].selectable)
            im.subscribe(name)
            self.assertEqual([e.name for e in im.list("", name, subscribed=True)
                              if "\\Subscribed" in e.attributes], [name])
            im.unsubscribe(name)
            st = im.status(name, ["MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "SIZE"])
            self.assertEqual((st.name, st.messages, st.unseen, st.size), (name, 0, 0, 0))
            self.assertGreater(st.uidvalidity, 0)
            box = im.select(name)
            self.assertEqual((box.name, box.exists, box.read_only), (name, 0, False))
            self.assertIn("\\Seen", box.flags)
            self.assertEqual(im.mailbox, box)
            ro = im.examine(name)
            self.assertTrue(ro.read_only)
            im.close_mailbox()
            self.assertIsNone(im.mailbox)
            im.rename(name + "/child", name + "/renamed")
            self.assertEqual(sorted(e.name for e in im.list("", name + "/*")), [name + "/renamed"])
            self.assertEqual(im.namespace().personal[0][1], "/")
            self.assertEqual(im.id(name="libmail-python").get("name"), "Dovecot")
            self.assertEqual(im.enable("CONDSTORE"), frozenset({"CONDSTORE"}))
            im.delete(name + "/renamed")
            im.delete(name)
            self.assertEqual(im.list("", name + "*"), [])

    def test_append_every_source_and_fetch_typed(self):
        with imap() as im, Box(im, "append") as box:
            tag = unique("src")
            raw = message(tag + "-bytes")
            em = email.message.EmailMessage()
            em["From"] = "Bob <bob@libmail.test>"
            em["To"] = "alice@libmail.test"
            em["Subject"] = "r\u00e9sum\u00e9 " + tag
            em.set_content("text body")
            em.add_attachment(b"\x00\x01binary" * 50, maintype="application",
                              subtype="octet-stream", filename="data.bin")
            builder = libmail.MessageBuilder(from_=("Cédric", "cedric@libmail.test"),
                                             to="bob@libmail.test", subject=tag + "-built",
                                             text="plain", html="<p>html</p>")
            builder.add_attachment(b"attached" * 100, "application/pdf", "a.pdf")
            with tempfile.NamedTemporaryFile() as f:
                f.write(message(tag + "-file"))
                f.flush()
                f.seek(0)
                results = [
                    im.append(box, raw, ["\\Seen", "$Label1"], 1700000000),
                    im.append(box, io.BytesIO(message(tag + "-bytesio"))),
                    im.append(box, f),
                    im.append(box, em),
                    im.append(box, libmail.parse(message(tag + "-parsed"))),
                    im.append(box, builder),
                ]
            self.assertEqual([r.uid for r in results], [1, 2, 3, 4, 5, 6])
            self.assertEqual(len({r.uidvalidity for r in results}), 1)
            self.assertEqual(im.select(box).exists, 6)
            items = im.fetch("1:*", ["UID", "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE",
                                     "BODYSTRUCTURE", "BODY.PEEK[]"])
            self.assertEqual([i.uid for i in items], [1, 2, 3, 4, 5, 6])
            first = items[0]
            self.assertEqual(first.flags - {"\\Recent"}, frozenset({"\\Seen", "$Label1"}))
            self.assertEqual(first.internaldate.timestamp(), 1700000000)
            self.assertEqual(first.size, len(raw))
            self.assertEqual(first.sections, {"BODY[]": raw})
            self.assertEqual(first.body, raw)
            env = first.envelope
            self.assertEqual(env.subject, tag + "-bytes")
            self.assertEqual(env.message_id, "<%s-bytes@libmail.test>" % tag)
            self.assertEqual(env.from_[0].name, "Alice Example")
            self.assertEqual(env.from_[0].mailbox, "alice@libmail.test")
            self.assertEqual(env.sender, env.from_)  # the server fills Sender from From
            self.assertEqual([a.mailbox for a in env.to], ["bob@libmail.test"])
            self.assertEqual(env.cc[0].name, "Cédric")
            self.assertEqual(env.datetime.year, 2026)
            self.assertEqual(items[3].envelope.subject, "r\u00e9sum\u00e9 " + tag)
            self.assertEqual(items[5].envelope.from_[0].name, "Cédric")
            for it in items:
                # the server's BODYSTRUCTURE and the MIME parser agree on every leaf
                with self.subTest(uid=it.uid):
                    parsed = libmail.parse(it.body)
                    self.assertEqual(bodystructure_shape(it.bodystructure), mime_shape(parsed))
            att = [p for p in items[5].bodystructure.walk() if p.filename == "a.pdf"][0]
            self.assertEqual(att.content_type, "application/pdf")
            self.assertEqual(att.disposition.lower(), "attachment")
            part = im.fetch(6, "BODY.PEEK[%s]" % att.section)[0]
            self.assertEqual(len(part.body), att.size)
            partial = im.fetch(1, "BODY.PEEK[]<0.10>")[0]
            self.assertEqual(partial.sections, {"BODY[]<0>": raw[:10]})
            seqs = im.fetch([2, 4], "FLAGS", uid=False)
            self.assertEqual([i.seq for i in seqs], [2, 4])

    def test_search_store_copy_move_expunge(self):
        with imap() as im, Box(im, "ops") as box, Box(im, "ops-dest") as dest:
            tag = unique("s")
            for i in range(5):
                im.append(box, message("%s-%d" % (tag, i), b"number %d\r\n" % i),
                          ["\\Seen"] if i % 2 else [])
            im.select(box)
            self.assertEqual(list(im.search()), [1, 2, 3, 4, 5])
            self.assertEqual(list(im.search("UNSEEN")), [1, 3, 5])
            self.assertEqual(list(im.search("SUBJECT ?", "%s-3" % tag)), [4])
            self.assertEqual(list(im.search("BODY ?", "numbér")), [])  # CHARSET UTF-8 sent
            r = im.search("ALL", ret="MIN MAX COUNT")
            self.assertEqual((r.min, r.max, r.count), (1, 5, 5))
            self.assertEqual(list(im.search("ALL", uid=False)), [1, 2, 3, 4, 5])
            changed = im.store("1:2", "+FLAGS", ["\\Flagged"])
            self.assertEqual([c.uid for c in changed], [1, 2])
            self.assertIn("\\Flagged", changed[0].flags)
            self.assertEqual(im.store(3, "add", "\\Answered", silent=True), [])
            im.store(1, "remove", "\\Flagged")
            self.assertEqual(list(im.search("FLAGGED")), [2])
            im.store(5, "replace", ["$Custom"])
            self.assertEqual(im.fetch(5, "FLAGS")[0].flags - {"\\Recent"},
                             frozenset({"$Custom"}))
            c = im.copy("1:2", dest)
            self.assertEqual((c.source, c.destination), ((1, 2), (1, 2)))
            self.assertEqual(c.mapping, {1: 1, 2: 2})
            m = im.move([4], dest)
            self.assertEqual((m.source, m.destination), ((4,), (3,)))
            self.assertEqual(im.mailbox.exists, 4)
            im.store([1, 2], "add", "\\Deleted")
            self.assertEqual(im.expunge([2]), [2])  # UID EXPUNGE: only uid 2
            self.assertEqual(im.mailbox.exists, 3)
            self.assertEqual(im.expunge(), [1])
            self.assertEqual([i.uid for i in im.fetch("1:*", "UID")], [3, 5])
            self.assertEqual(im.status(dest).messages, 3)

    def test_large_body_streams_in_bounded_memory(self):
        big = b"".join(b"%07d the quick brown fox jumps over the lazy dog\r\n" % i
                       for i in range(160000))  # 8.5 MB
        with imap() as im, Box(im, "big") as box, tempfile.TemporaryFile() as src:
            src.write(message(unique("big"), big))
            size = src.tell()
            src.seek(0)
            tracemalloc.start()
            try:
                im.append(box, src)  # streamed through the C read callback
                _, peak_append = tracemalloc.get_traced_memory()
                im.select(box)
                tracemalloc.reset_peak()
                with tempfile.TemporaryFile() as out:
                    items = im.fetch(1, "(UID BODY.PEEK[])", body=out)
                    _, peak_fetch = tracemalloc.get_traced_memory()
                    self.assertEqual(out.tell(), size)
                    out.seek(0)
                    src.seek(0)
                    self.assertEqual(out.read(), src.read())
            finally:
                tracemalloc.stop()
            self.assertEqual(items[0].section_sizes, {"BODY[]": size})
            self.assertEqual(items[0].sections, {})
            self.assertLess(peak_append, 1 << 20)
            self.assertLess(peak_fetch, 1 << 20)
            files = {}
            n = im.fetch(1, "(BODY.PEEK[HEADER] BODY.PEEK[TEXT])",
                         body=lambda seq, key: files.setdefault(key, io.BytesIO()),
                         callback=lambda item: None)
            self.assertEqual(n, 1)
            self.assertEqual(set(files), {"BODY[HEADER]", "BODY[TEXT]"})
            self.assertEqual(files["BODY[TEXT]"].getvalue(), big)

    def test_send_then_read_back(self):
        tag = unique("sent")
        _, _, alice = user(1)
        _, _, bob = user(2)
        msg = email.message.EmailMessage()
        msg["From"] = "Alice <%s>" % alice
        msg["To"] = "Bob <%s>" % bob
        msg["Subject"] = "sent " + tag
        msg["Message-ID"] = "<%s@libmail.test>" % tag
        msg.set_content("read me back")
        with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"), cafile=ENV["MAIL_TEST_CA"]) as s:
            self.assertTrue(s.send(msg))
        with imap(2) as im:
            im.select("INBOX")
            end = time.monotonic() + 60
            while True:
                found = im.search("HEADER Message-ID ?", "<%s@libmail.test>" % tag)
                if found:
                    break
                self.assertLess(time.monotonic(), end, "not delivered")
                time.sleep(0.2)
            item = im.fetch(list(found), "(ENVELOPE BODY.PEEK[TEXT])")[0]
            self.assertEqual(item.envelope.subject, "sent " + tag)
            self.assertEqual(item.envelope.to[0].name, "Bob")
            self.assertIn(b"read me back", item.body)
            im.store(list(found), "add", "\\Deleted", silent=True)
            im.expunge(list(found))

    def _gate(self):
        """A trace hook that sets the returned Event once the server's "+"
        for an IDLE has been read: what happens next happens while idling.
        A read can begin inside a line or hold several (an EXISTS just
        before the "+"), so the lines are followed across reads."""
        idling = threading.Event()
        state = {"line": b""}  # the start of the line being read (3 bytes at most)

        def trace(direction, data):
            if direction != "recv":
                return
            for piece in data.split(b"\n")[:-1]:
                if (state["line"] + piece).startswith(b"+ "):
                    idling.set()
                state["line"] = b""
            rest = data.rsplit(b"\n", 1)[-1]
            state["line"] = (state["line"] + rest)[:3]
        return idling, trace

    def test_idle_woken_by_a_delivery(self):
        tag = unique("idle")
        _, _, bob = user(2)
        idling, trace = self._gate()
        with imap(2, trace=trace) as im:
            im.select("INBOX")

            def deliver():
                idling.wait(30)
                with libmail.SMTP(url("smtp", "MAIL_TEST_SMTP_PORT"),
                                  cafile=ENV["MAIL_TEST_CA"]) as s:
                    s.send(message(tag), "alice@libmail.test", bob)
            th = threading.Thread(target=deliver)
            th.start()
            found = None
            for _ in range(50):  # other tests deliver to bob too: look again until it is ours
                # The messages there before this IDLE that are left: others
                # expunge here too, and an EXISTS that brings ours may not
                # exceed the count the IDLE began with (the IDLE would then
                # run to its 60 s timeout before the search found it).
                floor = im.mailbox.exists
                with im.idle(timeout=60) as idle:
                    for ev in idle:
                        if ev.kind == "expunge" and ev.number is not None and ev.number <= floor:
                            floor -= 1
                        elif ev.kind == "exists" and ev.number > floor:
                            idle.stop()
                found = im.search("HEADER Message-ID ?", "<%s@libmail.test>" % tag)
                if found:
                    break
            th.join()
            self.assertTrue(found)
            self.assertEqual(im.fetch(list(found), "ENVELOPE")[0].envelope.subject, tag)
            im.store(list(found), "add", "\\Deleted", silent=True)
            im.expunge(list(found))

    def test_idle_stopped_from_another_thread(self):
        idling, trace = self._gate()
        with imap(3, trace=trace) as im, Box(im, "idle-stop") as box:
            im.select(box)
            idle = im.idle()  # no timeout: only stop() ends it
            stopper = threading.Thread(target=lambda: idling.wait(30) and idle.stop())
            stopper.start()
            t0 = time.monotonic()
            self.assertEqual(list(idle), [])
            stopper.join()
            self.assertTrue(idle.stopped)
            self.assertLess(time.monotonic() - t0, 30)
            self.assertEqual(im.state, "SELECTED")
            idle.stop()  # after the end: harmless
            im.noop()
            # a timeout ends it too, and leaving the loop early is clean
            self.assertEqual(list(im.idle(timeout=0.2)), [])
            idling.clear()

            def append():
                idling.wait(30)
                with imap(3) as other:
                    other.append(box, message(unique("early")))
            th = threading.Thread(target=append)
            th.start()
            with im.idle(timeout=30) as idle:
                for ev in idle:
                    break
            th.join()
            self.assertEqual((ev.kind, ev.number), ("exists", 1))
            im.noop()

    def test_idle_keeps_its_session_alive(self):
        idle = imap(1).idle(timeout=0.2)  # the session has no other reference
        gc.collect()
        self.assertEqual(list(idle), [])
        ref = weakref.ref(idle._imap)
        del idle
        gc.collect()
        self.assertIsNone(ref())  # and nothing else holds it (no cycle via callbacks)

    def test_sync(self):
        # a state file across sessions: new, flags, vanished; each strategy
        # gives the same result; then a maildir mirror
        with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as w, Box(w, "sync") as box, \
                tempfile.TemporaryDirectory() as tmp:
            for i in range(3):
                w.append(box, message(unique("s%d" % i)), ["\\Seen"] if i == 1 else None)
            path = tmp + "/state"
            with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as im:
                r = im.sync(box, path)
            self.assertEqual(r.strategy, "qresync")
            self.assertEqual([c.event for c in r.changes], ["new"] * 3)
            self.assertEqual(r.changes[1].flags, frozenset({"\\Seen"}))
            self.assertEqual(len(r.state), 3)
            uids = r.state.uids()
            w.select(box)
            w.store(uids[0], "add", ["\\Flagged"])
            w.store(uids[2], "add", ["\\Deleted"])
            w.expunge()
            w.unselect()
            w.append(box, message(unique("s3")))
            for strategy in ("qresync", "condstore", "full"):
                st = libmail.SyncState.load(path)
                seen = []
                with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as im:
                    r = im.sync(box, st, strategy=strategy, callback=seen.append)
                self.assertEqual(r.strategy, strategy)
                self.assertEqual(seen, r.changes)
                got = sorted((c.event, c.uid) for c in r.changes)
                self.assertEqual(got, sorted([("flags", uids[0]), ("vanished", uids[2]),
                                              ("new", uids[2] + 1)]), strategy)
                self.assertEqual(st.flags(uids[0]), frozenset({"\\Flagged"}))
                with self.assertRaises(KeyError):
                    st.flags(uids[2])
                self.assertGreater(st.uidvalidity, 0)
            with self.assertRaises(libmail.InvalidArgument):
                w.sync(box, strategy="fast")
            with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as im:
                r = im.sync(box, maildir=tmp + "/md")
                self.assertEqual(r.downloaded, 3)
                self.assertEqual(im.sync(box, maildir=tmp + "/md").downloaded, 0)
            import os
            files = os.listdir(tmp + "/md/cur") + os.listdir(tmp + "/md/new")
            self.assertEqual(len(files), 3)

    def test_compress(self):
        if "zlib" not in libmail.features():
            self.skipTest("no zlib in this build")
        with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as im, Box(im, "z") as box:
            if not im.has_capability("COMPRESS=DEFLATE"):
                self.skipTest("the server offers no COMPRESS=DEFLATE")
            im.compress()
            self.assertTrue(im.compressed)
            text = b"compressible line of text\r\n" * 4000
            im.append(box, message(unique("z"), text))
            im.select(box)
            self.assertTrue(im.fetch(1, "BODY.PEEK[TEXT]")[0].body == text)
            wire_in, plain_in, wire_out, plain_out = im.compress_counts()
            self.assertLess(wire_out * 4, plain_out)  # the APPEND went out deflated
            self.assertLess(wire_in * 4, plain_in)

    def test_imaps_ipv6_and_url_mailbox(self):
        u, pw, _ = user(1)
        with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as im, Box(im, "url") as box:
            self.assertTrue(im.verified)
            host = "[%s]" % ENV["MAIL_TEST_HOST6"]
            with libmail.IMAP("imaps://%s@%s:%s/%s" % (u, host, ENV["MAIL_TEST_IMAPS_PORT"],
                                                        box),
                              password=pw, cafile=ENV["MAIL_TEST_CA"],
                              server_name=ENV["MAIL_TEST_HOSTNAME"]) as im2:
                self.assertEqual(im2.state, "SELECTED")
                self.assertEqual(im2.mailbox.name, box)
            with libmail.IMAP_SSL(ENV["MAIL_TEST_HOST"], int(ENV["MAIL_TEST_IMAPS_PORT"]),
                                  cafile=ENV["MAIL_TEST_CA"]) as im3:
                im3.login(u, pw)
                self.assertEqual(im3.state, "AUTHENTICATED")


@need_servers
@WITH_IMAP
class TestIMAPErrors(unittest.TestCase):
    def test_bad_password(self):
        u, _, _ = user(1)
        with self.assertRaises(libmail.AuthError) as cm:
            libmail.IMAP(url("imap", "MAIL_TEST_IMAP_PORT"), user=u, password="wrong-pw",
                         cafile=ENV["MAIL_TEST_CA"])
        e = cm.exception
        self.assertEqual(e.status_name, "MAIL_ERR_AUTH")
        self.assertEqual(e.enhanced, "AUTHENTICATIONFAILED")
        self.assertTrue(e.text)
        self.assertNotIn("wrong-pw", str(e) + e.detail)

    def test_wrong_ca(self):
        with self.assertRaises(libmail.TLSError) as cm:
            libmail.IMAP(url("imaps", "MAIL_TEST_IMAPS_PORT"),
                         cafile=ENV["MAIL_TEST_SERVER_CERT"])
        self.assertEqual(cm.exception.status_name, "MAIL_ERR_TLS_VERIFY")

    def test_refusals_and_local_errors(self):
        with imap() as im:
            with self.assertRaises(libmail.ServerError) as cm:
                im.select(unique("missing"))
            self.assertIn("exist", cm.exception.text)  # Dovecot 2.3 sends no [NONEXISTENT]
            self.assertIn("SELECT", str(cm.exception))
            self.assertEqual(im.state, "AUTHENTICATED")
            with self.assertRaises(libmail.StateError):
                im.fetch("1:*", "FLAGS")
            with self.assertRaises(libmail.InvalidArgument):
                im.create("bad\0name")
            im.select("INBOX")
            for bad in ("1:x", 2 ** 32 + 1, [0], range(0, 3), "1:4294967296"):
                with self.assertRaises(libmail.InvalidArgument, msg=repr(bad)):
                    im.fetch(bad, "FLAGS")
            im.unselect()
            with self.assertRaises(libmail.ServerError) as cm:
                im.append(unique("missing"), b"Subject: x\r\n\r\nx\r\n")
            self.assertEqual(cm.exception.enhanced, "TRYCREATE")
            im.noop()  # every refusal left the session usable

    def test_limit(self):
        with imap(limits=libmail.Limits(max_response=4096)) as im, Box(im, "limit") as box:
            im.append(box, message("x" * 8000))
            im.select(box)
            with self.assertRaises(libmail.LimitError):
                im.fetch(1, "ENVELOPE")
            self.assertTrue(im.closed or im.fileno() < 0)  # a limit ends the session

    def test_callbacks_raising(self):
        class Boom(Exception):
            pass

        with imap() as im, Box(im, "cb") as box:
            for i in range(3):
                im.append(box, message(unique("cb%d" % i)))
            im.select(box)
            keep = len(im._cb.keep)

            def on_item(item):
                raise Boom("item %d" % item.uid)
            with self.assertRaisesRegex(Boom, "item 1"):
                im.fetch("1:*", "UID", callback=on_item)
            self.assertEqual(len(im._cb.keep), keep)
            self.assertEqual(len(im.fetch("1:*", "UID")), 3)  # the session goes on

            class Broken(io.RawIOBase):
                def readable(self):
                    return True

                def read(self, n=-1):
                    raise Boom("read")
            with self.assertRaisesRegex(Boom, "read"):
                im.append(box, Broken(), size=100)
            self.assertEqual(len(im._cb.keep), keep)

        with imap() as im, Box(im, "cb2") as box:
            im.append(box, message(unique("cb")))
            im.select(box)

            class Full:
                def write(self, b):
                    raise Boom("disk full")
            with self.assertRaisesRegex(Boom, "disk full"):
                im.fetch(1, "BODY.PEEK[]", body=Full())
            # a body stream cannot resynchronise: the session is over
            self.assertLess(im.fileno(), 0)

        with imap() as im, Box(im, "cb3") as box:
            raised = []

            def on_event(ev):
                if not raised:
                    raised.append(ev)
                    raise Boom("event %s" % ev.kind)
            im2 = imap(on_event=on_event)
            im2.select(box)
            im.append(box, message(unique("ev")))
            with self.assertRaisesRegex(Boom, "event exists"):
                im2.noop()
            im2.noop()
            im2.logout()


SESSIONS = 50


@need_servers
@WITH_IMAP
class TestAioIMAP(unittest.TestCase):
    def test_sync(self):
        # libmail.aio.IMAP.sync(): the C sync resumed from the event loop
        with imap(scheme="imaps", port="MAIL_TEST_IMAPS_PORT") as w, Box(w, "aiosync") as box:
            for i in range(3):
                w.append(box, message(unique("as%d" % i)))
            u, pw, _ = user(1)

            async def run(state):
                async with libmail.aio.IMAP(url("imaps", "MAIL_TEST_IMAPS_PORT"), user=u,
                                            password=pw, cafile=ENV["MAIL_TEST_CA"]) as im:
                    return await im.sync(box, state)
            st = libmail.SyncState()
            r = asyncio.run(run(st))
            self.assertEqual((r.strategy, [c.event for c in r.changes]), ("qresync", ["new"] * 3))
            w.select(box)
            w.store(st.uids()[1], "add", ["\\Flagged"])
            w.unselect()
            r = asyncio.run(run(st))
            self.assertEqual([(c.event, c.uid) for c in r.changes], [("flags", st.uids()[1])])

    def test_50_sessions_on_one_loop(self):
        hosts = [ENV["MAIL_TEST_HOST"], ENV["MAIL_TEST_HOST6"]]
        stats = {"in": 0, "max": 0, "settled": 0, "threads": set()}
        self.assertEqual(threading.active_count(), 1)

        async def one(i, all_in):
            u, pw, _ = user(1 + i % 4)
            im = libmail.aio.IMAP(url("imap", "MAIL_TEST_IMAP_PORT", hosts[i % 2]), user=u,
                                  password=pw, cafile=ENV["MAIL_TEST_CA"], timeout=60)
            box = boxes[i]
            counted = False
            try:
                try:
                    await im.connect()
                    stats["in"] += 1
                    counted = True
                    stats["max"] = max(stats["max"], stats["in"])
                finally:
                    stats["settled"] += 1
                    if stats["settled"] == SESSIONS:
                        all_in.set()
                await all_in.wait()  # all 50 logged in at once
                stats["threads"].add(threading.active_count())
                r = await im.append(box, message("aio-%d" % i))
                await im.select(box)
                items = await im.fetch("1:*", "(UID ENVELOPE BODY.PEEK[])")
                assert items[0].uid == r.uid and items[0].envelope.subject == "aio-%d" % i
                assert list(await im.search("SUBJECT ?", "aio-%d" % i)) == [r.uid]
                stats["threads"].add(threading.active_count())
                await im.unselect()
                await im.logout()
            finally:
                if counted:
                    stats["in"] -= 1
                im.close()

        # Dovecot 2.3 answers a CREATE of a new name with [ALREADYEXISTS] now
        # and then when several sessions of one user create mailboxes at the
        # same moment (seen: one CREATE sent, refused): the mailboxes are made
        # and removed one after another, the 50 sessions work in them at once.
        boxes = [unique("aio%d" % i) for i in range(SESSIONS)]
        for n in range(1, 5):
            with imap(n) as im:
                for b in boxes[n - 1::4]:
                    im.create(b)

        async def main():
            all_in = asyncio.Event()
            return await asyncio.gather(*(one(i, all_in) for i in range(SESSIONS)),
                                        return_exceptions=True)
        try:
            results = asyncio.run(main())
        finally:
            for n in range(1, 5):
                with imap(n) as im:
                    for b in boxes[n - 1::4]:
                        im.delete(b)
        self.assertEqual([r for r in results if isinstance(r, BaseException)], [])
        self.assertEqual(stats["max"], SESSIONS)
        self.assertEqual(stats["threads"], {1})
        self.assertEqual(threading.active_count(), 1)

    def test_aio_idle_and_errors(self):
        u, pw, _ = user(3)
        box = unique("aio-idle")

        async def main():
            async with libmail.aio.IMAP(url("imaps", "MAIL_TEST_IMAPS_PORT"), user=u,
                                        password=pw, cafile=ENV["MAIL_TEST_CA"],
                                        timeout=30) as im:
                await im.create(box)
                await im.select(box)
                t0 = time.monotonic()
                async with im.idle(timeout=0.3) as idle:
                    got = [ev async for ev in idle]
                self.assertEqual(got, [])
                self.assertGreaterEqual(time.monotonic() - t0, 0.3)

                async def other():
                    async with libmail.aio.IMAP(url("imap", "MAIL_TEST_IMAP_PORT"), user=u,
                                                password=pw, cafile=ENV["MAIL_TEST_CA"]) as o:
                        await o.append(box, message(unique("woken")))
                task = asyncio.ensure_future(other())
                async with im.idle(timeout=30) as idle:
                    async for ev in idle:
                        if ev.kind == "exists":
                            break
                await task
                self.assertEqual(ev.number, 1)
                idle = im.idle()
                stopper = threading.Timer(0.2, idle.stop)  # stop() from another thread
                stopper.start()
                self.assertEqual([ev async for ev in idle], [])
                stopper.join()
                with self.assertRaises(libmail.ServerError):
                    await im.select(unique("missing"))
                await im.delete(box)
            with self.assertRaises(libmail.AuthError):
                async with libmail.aio.IMAP(url("imap", "MAIL_TEST_IMAP_PORT"), user=u,
                                            password="wrong", cafile=ENV["MAIL_TEST_CA"]):
                    pass
        asyncio.run(main())


if __name__ == "__main__":
    unittest.main()

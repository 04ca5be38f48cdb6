#!/usr/bin/env python3
"""libmail.IMAP against imaplib: the same UID FETCH of the same mailbox on
the same server (the test Dovecot of tests/servers), side by side in one run.

A mailbox of the benchmark's own is filled with N messages (a mix of plain
and multipart, with display names, Cc and encoded subjects), then each
round runs `UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)` over one
STARTTLS session per client:

- libmail.IMAP.fetch(): every item typed (Envelope, Address, the
  BodyStructure tree); every field is read into a checksum;
- the same with callback= (items handed over as they arrive, not held);
- imaplib.IMAP4.uid("FETCH", ...): the server's bytes split into responses,
  nothing parsed — labelled "unparsed": it is not the same work, and is no
  target, only the baseline a Python user knows.

Both must see the same UIDs (checked untimed, with a regex over imaplib's
bytes). Wall time and the client's CPU time (time.process_time: what the
client itself costs, less moved by other load on a shared machine).
usage: bench_imap.py [--messages N] [--rounds N]
"""
import argparse
import imaplib
import os
import re
import ssl
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

import libmail  # noqa: E402

ITEMS = "(UID FLAGS ENVELOPE BODYSTRUCTURE)"


def servers_env():
    path = os.path.join(os.environ.get("MAIL_TEST_RUNDIR", "/tmp/libmail-servers"),
                        "servers.env")
    with open(path, encoding="utf-8") as f:
        return dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l and
                    not l.startswith("#"))


def message(i):
    head = ("From: =?utf-8?q?Sender_N=C2=B0{0}?= <sender{0}@example.org>\r\n"
            "To: Alice <alice@libmail.test>, bob@libmail.test\r\n"
            "Cc: Carol <carol@example.org>\r\nSubject: message number {0} =?utf-8?q?caf=C3=A9?=\r\n"
            "Message-ID: <bench-{0}@libmail.test>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
            .format(i))
    if i % 2:
        return (head + "\r\n" + "line of text\r\n" * 20).encode()
    return (head + 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
            "--b\r\nContent-Type: application/pdf; name=\"f.pdf\"\r\n"
            "Content-Disposition: attachment; filename=\"f.pdf\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n").encode()


def addr_sum(addrs):
    return sum(len(a.name or "") + len(a.mailbox) for a in addrs)


def body_sum(b):
    return sum(len(p.content_type) + len(p.section) + (p.size or 0) + len(p.params) +
               len(p.encoding or "") + len(p.disposition or "") for p in b.walk())


def item_sum(it):
    e = it.envelope
    return (it.uid + len(it.flags) + len(e.subject or "") + len(e.date or "") +
            len(e.message_id or "") + addr_sum(e.from_) + addr_sum(e.sender) +
            addr_sum(e.reply_to) + addr_sum(e.to) + addr_sum(e.cc) + addr_sum(e.bcc) +
            body_sum(it.bodystructure))


def run_libmail(env, user, pw, box, callback):
    with libmail.IMAP("imap://%s:%s" % (env["MAIL_TEST_HOST"], env["MAIL_TEST_IMAP_PORT"]),
                      user=user, password=pw, cafile=env["MAIL_TEST_CA"]) as im:
        im.examine(box)
        t0, c0 = time.perf_counter(), time.process_time()
        if callback:
            acc = [0, []]

            def each(it):
                acc[0] += item_sum(it)
                acc[1].append(it.uid)
            im.fetch("1:*", ITEMS, callback=each)
            total, uids = acc
        else:
            items = im.fetch("1:*", ITEMS)
            total = sum(item_sum(it) for it in items)
            uids = [it.uid for it in items]
        return time.perf_counter() - t0, time.process_time() - c0, total, uids


def run_imaplib(env, user, pw, box):
    ctx = ssl.create_default_context(cafile=env["MAIL_TEST_CA"])
    im = imaplib.IMAP4(env["MAIL_TEST_HOST"], int(env["MAIL_TEST_IMAP_PORT"]))
    try:
        im.starttls(ssl_context=ctx)
        im.login(user, pw)
        im.select(box, readonly=True)
        t0, c0 = time.perf_counter(), time.process_time()
        typ, data = im.uid("FETCH", "1:*", ITEMS)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert typ == "OK", typ
        im.logout()
    finally:
        try:
            im.shutdown()
        except OSError:
            pass
    raw = b"".join(d if isinstance(d, bytes) else b"".join(d) for d in data)
    return dt, cpu, [int(u) for u in re.findall(rb"\(UID (\d+)", raw)], len(raw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    env = servers_env()
    user, pw = env["MAIL_TEST_USER1"], env["MAIL_TEST_PASS1"]
    box = "bench-imap-" + uuid.uuid4().hex
    url = "imap://%s:%s" % (env["MAIL_TEST_HOST"], env["MAIL_TEST_IMAP_PORT"])
    with libmail.IMAP(url, user=user, password=pw, cafile=env["MAIL_TEST_CA"]) as im:
        im.create(box)
        for i in range(args.messages):
            im.append(box, message(i))
        im.examine(box)
        im.fetch("1:*", ITEMS)  # warm-up, untimed: Dovecot builds its cache on the first one
    try:
        rows = {"typed": [], "callback": [], "imaplib": []}
        for _ in range(args.rounds):
            t, cpu, total, uids = run_libmail(env, user, pw, box, False)
            rows["typed"].append((t, cpu))
            t, cpu, total2, uids2 = run_libmail(env, user, pw, box, True)
            rows["callback"].append((t, cpu))
            t, cpu, puids, nbytes = run_imaplib(env, user, pw, box)
            rows["imaplib"].append((t, cpu))
            # the same work: every message, the same UIDs, the same checksum both ways
            assert uids == uids2 == puids and len(uids) == args.messages, \
                (len(uids), len(uids2), len(puids))
            assert total == total2
        med = {k: (statistics.median(t for t, _ in v), statistics.median(c for _, c in v))
               for k, v in rows.items()}
        n = args.messages
        pw_, pc = med["imaplib"]
        print("libmail %s, Python %s, Dovecot on loopback (STARTTLS), %d messages, "
              "%d rounds, medians; response %.1f MB; checksum %d; load average %.1f"
              % (libmail.library_version, sys.version.split()[0], n, args.rounds,
                 nbytes / 1e6, total, os.getloadavg()[0]))
        print()
        print("| UID FETCH 1:* %s | wall | client CPU | messages/s (CPU) | CPU vs imaplib |"
              % ITEMS)
        print("|---|---|---|---|---|")
        for key, label in (("typed", "libmail.IMAP.fetch(): typed, every field read"),
                           ("callback", "libmail.IMAP.fetch(callback=): typed, items not held"),
                           ("imaplib", "imaplib.IMAP4.uid('FETCH'): unparsed bytes")):
            w, c = med[key]
            print("| %s | %.3f s | %.3f s | %.0f | %.2fx |" % (label, w, c, n / c, c / pc))
    finally:
        with libmail.IMAP(url, user=user, password=pw, cafile=env["MAIL_TEST_CA"]) as im:
            im.delete(box)
    return 0


if __name__ == "__main__":
    sys.exit(main())

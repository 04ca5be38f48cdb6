#!/usr/bin/env python3
"""Make sure the IMAP benchmark's mailboxes exist under the test user bob.

    fill.py SERVERS_ENV COUNT BODY_MB

  bench-imap-fetch-COUNT   COUNT varied messages (the seeded generator of
                           bench/imap_parse/gen_capture.py: plain UTF-8
                           text, multipart/alternative, multipart/mixed with
                           attachments and RFC 2231 names, message/rfc822,
                           RFC 2047 names and subjects, several recipients,
                           random flags)
  bench-imap-body-BODY_MB  one message of BODY_MB million bytes (a base64
                           attachment)

Made once: a mailbox that is there with the right message count is reused,
one with another count is deleted and made again. Prints the two names.
"""
import imaplib, importlib.util, os, random, ssl, sys

here = os.path.dirname(os.path.abspath(__file__))
for cand in (os.path.join(here, "..", "imap_parse", "gen_capture.py"),
             os.path.join(here, "gen_capture.py")):
    if os.path.exists(cand):
        spec = importlib.util.spec_from_file_location("gen_capture", cand)
        gen = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(gen)
        break
else:
    raise SystemExit("fill.py: gen_capture.py not found")

def count_of(im, box):
    typ, data = im.status(box, "(MESSAGES)")
    if typ != "OK":
        return None
    return int(data[0].decode().rsplit("MESSAGES", 1)[1].strip(" )"))

def ensure(im, box, count, make):
    have = count_of(im, box)
    if have == count:
        return False
    if have is not None:
        im.delete(box)
    typ, _ = im.create(box)
    assert typ == "OK", "CREATE %s failed" % box
    for i in range(count):
        flags, msg = make(i)
        typ, _ = im.append(box, flags, None, msg)
        assert typ == "OK", "APPEND failed"
    assert count_of(im, box) == count
    # One SELECT takes the \Recent flags, so every later session (EXAMINE)
    # sees the same FLAGS and the checksums of every run agree.
    im.select(box)
    im.unselect()
    return True

def big_message(mb):
    head = ("From: Bench <bench@libmail.test>\r\nTo: bob@libmail.test\r\n"
            "Subject: a large attachment\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
            "Message-ID: <bench-imap-body@libmail.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: application/octet-stream; name=\"big.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n").encode()
    rng = random.Random(7)
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    line = bytes(rng.choice(alphabet) for _ in range(76 * 64))
    lines = b"\r\n".join(line[i:i + 76] for i in range(0, len(line), 76)) + b"\r\n"
    want = mb * 1000 * 1000 - len(head)
    body = (lines * (want // len(lines) + 1))[:want - 2] + b"\r\n"
    return head + body

def main():
    e = gen.env(sys.argv[1])
    count = int(sys.argv[2])
    mb = int(sys.argv[3])
    ctx = ssl.create_default_context(cafile=e["MAIL_TEST_CA"])
    ctx.check_hostname = False
    im = imaplib.IMAP4(e["MAIL_TEST_HOST"], int(e["MAIL_TEST_IMAP_PORT"]))
    im.starttls(ctx)
    im.login(e["MAIL_TEST_USER2"], e["MAIL_TEST_PASS2"])
    meta, body = "bench-imap-fetch-%d" % count, "bench-imap-body-%d" % mb
    rng = random.Random(13)
    flags = gen.FLAGS
    def one(i):
        return ("(" + " ".join(rng.sample(flags, rng.randrange(0, 3))) + ")",
                gen.message(rng, i).encode())
    if ensure(im, meta, count, one):
        print("fill.py: %s filled with %d messages" % (meta, count), file=sys.stderr)
    if ensure(im, body, 1, lambda i: ("()", big_message(mb))):
        print("fill.py: %s holds a %d MB message" % (body, mb), file=sys.stderr)
    im.logout()
    print(meta, body)

main()

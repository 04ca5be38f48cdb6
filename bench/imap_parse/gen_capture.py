#!/usr/bin/env python3
"""Capture the server bytes of `UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)`
over COUNT generated messages from the test Dovecot.

    gen_capture.py SERVERS_ENV OUT_FILE [COUNT=10000]

A mailbox of our own (unique name under the test user bob) is created and
filled by APPEND with a varied, seeded corpus: plain text, multipart/
alternative, multipart/mixed with attachments, nested message/rfc822,
RFC 2047 non-ASCII headers, several recipients and flags. The FETCH
response is written byte for byte as received (after STARTTLS), followed by
its tagged OK. Only the mailbox this script created is deleted at the end.
"""
import imaplib, os, random, ssl, sys, time

def env(path):
    d = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith('#') and '=' in line:
            k, v = line.split('=', 1)
            d[k] = v
    return d

NAMES = ["Alice Martin", "Bob Smith", "Zoë Kraß", "Jürgen Müller", "李雷", "Ольга Петрова",
         "Carol", "Dave O'Brien", "Émile Zola", "Team Ops"]
WORDS = "report meeting invoice holiday schedule update draft review budget lunch plan notes".split()
FLAGS = [r"\Seen", r"\Answered", r"\Flagged", "$Label1", "$Forwarded", r"\Draft"]

def enc_word(s):
    import base64
    if all(ord(c) < 128 for c in s):
        return s
    return "=?UTF-8?B?%s?=" % base64.b64encode(s.encode()).decode()

def addr(rng, i):
    n = rng.choice(NAMES)
    return '%s <%s%d@example%d.test>' % (enc_word(n), n.split()[0].lower().encode('ascii', 'ignore').decode() or 'u', i, rng.randrange(5))

def message(rng, i):
    subj = ' '.join(rng.choice(WORDS) for _ in range(rng.randrange(2, 8)))
    if rng.random() < 0.3:
        subj = enc_word("Réunion " + subj + " — ünïcödé")
    hdr = ["From: " + addr(rng, i), "To: " + ", ".join(addr(rng, i + k) for k in range(rng.randrange(1, 4)))]
    if rng.random() < 0.4:
        hdr.append("Cc: " + addr(rng, i + 7))
    if rng.random() < 0.2:
        hdr.append("Reply-To: " + addr(rng, i + 9))
    hdr += ["Subject: " + subj,
            "Date: Mon, %d Nov 2026 %02d:%02d:%02d +0100" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60),
            "Message-ID: <bench-imapparse-%d-%d@libmail.test>" % (os.getpid(), i)]
    if rng.random() < 0.3:
        hdr.append("In-Reply-To: <bench-imapparse-%d-%d@libmail.test>" % (os.getpid(), i - 1))
    body = "\r\n".join(' '.join(rng.choice(WORDS) for _ in range(10)) for _ in range(rng.randrange(2, 20)))
    kind = rng.random()
    hdr.append("MIME-Version: 1.0")
    if kind < 0.35:
        hdr.append("Content-Type: text/plain; charset=utf-8")
        hdr.append("Content-Transfer-Encoding: 8bit")
        return "\r\n".join(hdr) + "\r\n\r\n" + body + "\r\nÇa va? Grüße.\r\n"
    b = "b-%d" % i
    if kind < 0.6:
        hdr.append('Content-Type: multipart/alternative; boundary="%s"' % b)
        parts = ["Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body,
                 "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>" + body + "</p>"]
    elif kind < 0.9:
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
        parts = ["Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body]
        for k in range(rng.randrange(1, 4)):
            fn = rng.choice(["report.pdf", "photo.jpg", "Übersicht.xlsx", "data.csv"])
            data = "\r\n".join("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" * 2 for _ in range(rng.randrange(1, 30)))
            parts.append('Content-Type: application/octet-stream; name="%s"\r\n'
                         'Content-Disposition: attachment; filename*=utf-8\'\'%s\r\n'
                         'Content-Transfer-Encoding: base64\r\nContent-Language: en\r\n\r\n%s'
                         % (fn, fn.encode().hex(), data))
    else:
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
        inner = ("From: %s\r\nTo: %s\r\nSubject: inner %d\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n"
                 "Message-ID: <inner-%d@libmail.test>\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
                 % (addr(rng, i), addr(rng, i + 1), i, i, body))
        parts = ["Content-Type: text/plain\r\n\r\nforwarded", "Content-Type: message/rfc822\r\n\r\n" + inner]
    return ("\r\n".join(hdr) + "\r\n\r\n" + "".join("--%s\r\n%s\r\n" % (b, p) for p in parts)
            + "--%s--\r\n" % b)

def main():
    e = env(sys.argv[1])
    out = sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    rng = random.Random(13)
    ctx = ssl.create_default_context(cafile=e["MAIL_TEST_CA"])
    ctx.check_hostname = False
    im = imaplib.IMAP4(e["MAIL_TEST_HOST"], int(e["MAIL_TEST_IMAP_PORT"]))
    im.starttls(ctx)
    im.login(e["MAIL_TEST_USER2"], e["MAIL_TEST_PASS2"])
    box = "bench-imapparse-%d-%d" % (os.getpid(), int(time.time()))
    typ, _ = im.create(box)
    assert typ == "OK", "CREATE failed"
    try:
        for i in range(count):
            flags = "(" + " ".join(rng.sample(FLAGS, rng.randrange(0, 3))) + ")"
            typ, _ = im.append(box, flags, None, message(rng, i).encode())
            assert typ == "OK", "APPEND failed"
        im.select(box, readonly=True)
        im.send(b"X1 UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)\r\n")
        buf = bytearray()
        while True:
            line = im.readline()
            if not line:
                raise SystemExit("connection closed")
            buf += line
            if line.startswith(b"X1 "):
                break
            # A literal: its bytes follow the line ending in {n}.
            s = line.rstrip(b"\r\n")
            if s.endswith(b"}") and b"{" in s:
                n = int(s[s.rindex(b"{") + 1:-1].rstrip(b"+"))
                buf += im.read(n)
        im.close()
        with open(out + ".tmp", "wb") as f:
            f.write(bytes(buf))
        os.rename(out + ".tmp", out)
    finally:
        im.delete(box)
        im.logout()
    print("%s: %d messages, %d bytes" % (out, count, len(buf)))

if __name__ == "__main__":
    main()

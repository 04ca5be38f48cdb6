#!/usr/bin/env python3
"""Write the MIME benchmark corpus into a directory: about 2,000 messages,
about 200 MB: plain text (QP, encoded-word subjects), alternative, mixed
with base64 attachments from 10 KB to 2 MB, nested message/rfc822.
Deterministic (fixed seed). Stdlib only; does not use libmail.

Usage: gen_corpus.py DIR [COUNT] [TARGET_MB]
"""
import base64
import math
import os
import random
import sys

rng = random.Random(4242)
WORDS = ("the quick brown fox jumps over lazy dog mail parser boundary header "
         "caf\u00e9 na\u00efve \u00fcber stra\u00dfe").split()


def words(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def qp(text):
    out = []
    for line in text.split("\n"):
        enc = "".join(c if (32 < ord(c) < 127 and c != "=") or c == " " else
                      "".join("=%02X" % b for b in c.encode("utf-8")) for c in line)
        while len(enc) > 76:
            cut = 75
            while enc[cut - 1] == "=" or enc[cut - 2] == "=":
                cut -= 1
            out.append(enc[:cut] + "=")
            enc = enc[cut:]
        out.append(enc)
    return "\r\n".join(out)


def ew(text):
    return "=?utf-8?b?%s?=" % base64.b64encode(text.encode()).decode()


def headers(i, ctype, extra=""):
    return ("From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.org>\r\n"
            "To: Alice <alice@example.com>, bob@example.net\r\n"
            "Subject: %s %s\r\n"
            "Date: Fri, 21 Nov 2025 09:55:06 +0100\r\n"
            "Message-ID: <%d.bench@example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: %s\r\n%s\r\n") % (ew(words(6)), words(3), i, ctype, extra)


def text_part(lines=20):
    body = "\n".join(words(rng.randint(5, 14)) for _ in range(lines))
    return ("Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(body) + "\r\n")


def attachment(size, k):
    data = rng.randbytes(size)
    b = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("Content-Type: application/octet-stream; name=\"file%d.bin\"\r\n"
            "Content-Disposition: attachment; filename=\"file%d.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" % (k, k) + b)


def multipart(sub, parts, bnd):
    out = []
    for p in parts:
        out.append("--%s\r\n%s" % (bnd, p))
    return "This is a multi-part message in MIME format.\r\n" + "\r\n".join(out) + "\r\n--%s--\r\n" % bnd


def message(i, size_budget):
    kind = rng.random()
    bnd = "=_bnd_%d_%d" % (i, rng.randrange(1 << 30))
    if kind < 0.25:
        return headers(i, "text/plain; charset=utf-8",
                       "Content-Transfer-Encoding: quoted-printable\r\n") + qp(
            "\n".join(words(12) for _ in range(rng.randint(10, 200)))) + "\r\n"
    if kind < 0.45:
        html = ("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + qp("<html><body>" + "<p>".join(words(12) for _ in range(40)) + "</body></html>") + "\r\n")
        return headers(i, "multipart/alternative; boundary=\"%s\"" % bnd) + multipart(
            "alternative", [text_part(), html], bnd)
    if kind < 0.90:
        parts = [text_part()]
        for k in range(rng.randint(1, 2)):
            hi = 2_000_000 if rng.random() < 0.08 else size_budget
            size = int(math.exp(rng.uniform(math.log(10_000), math.log(hi))))
            parts.append(attachment(size, k))
        return headers(i, "multipart/mixed; boundary=\"%s\"" % bnd) + multipart("mixed", parts, bnd)
    inner = message(i + 1000000, min(size_budget, 200_000))
    fwd = "Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n" + inner
    return headers(i, "multipart/mixed; boundary=\"%s\"" % bnd) + multipart(
        "mixed", [text_part(5), fwd], bnd)


def main():
    d = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    target = (int(sys.argv[3]) if len(sys.argv) > 3 else 200) * 1_000_000
    os.makedirs(d, exist_ok=True)
    total = 0
    for i in range(count):
        # Keep the total near the target: the budget for the largest
        # attachment shrinks or grows with what is left.
        left = max(target - total, 0) / max(count - i, 1)
        budget = max(20_000, min(2_000_000, int(left * 3)))
        m = message(i, budget).encode("utf-8")
        with open(os.path.join(d, "m%05d.eml" % i), "wb") as f:
            f.write(m)
        total += len(m)
    print("%d messages, %.1f MB in %s" % (count, total / 1e6, d))


if __name__ == "__main__":
    main()

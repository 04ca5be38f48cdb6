"""Write COUNT messages of about SIZE bytes into a maildir (cur/), with
CRLF-free LF lines as maildir stores them; some body lines start with a
dot so the server must stuff them and the clients unstuff them.
usage: gen_maildir.py MAILDIR COUNT SIZE"""
import os
import random
import sys

maildir, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(maildir, sub), exist_ok=True)
rnd = random.Random(1939)
words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliet", "kilo", "lima", "mike", "november", "oscar", ".dot"]
for i in range(count):
    head = ("From: bench@libmail.test\nTo: bench@libmail.test\n"
            "Subject: bench message %d\nMessage-ID: <bench-%d@libmail.test>\n"
            "Date: Thu, 26 Nov 2026 10:00:00 +0000\n\n" % (i, i))
    body = []
    n = len(head)
    while n < size:
        line = " ".join(rnd.choice(words) for _ in range(11))
        body.append(line)
        n += len(line) + 1
    data = head + "\n".join(body) + "\n"
    name = "%d.M%dP1.bench,S=%d:2,S" % (1700000000 + i, i, len(data))
    with open(os.path.join(maildir, "cur", name), "w") as f:
        f.write(data)

#!/usr/bin/env python3
"""Fill a Dovecot maildir folder with N varied text messages (the bench's
mailbox): written straight into the folder's cur/ (Dovecot indexes them at
the next SELECT), so 10,000 messages take seconds, not 10,000 APPENDs.

usage: fill.py MAILDIR-FOLDER COUNT"""
import os
import random
import sys
import time

folder, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(4978)
words = ("the of and to in is that for it as was with be by on not he this are or his from "
         "at which but have an they you were her she there been one all we their has would when "
         "if so no will more can out up about what its into than them only other new some time "
         "could these two may first then do any like my now over such our man me even most made "
         "after also did many before must through years where much your way well down should "
         "because each just those people how too little state good very make world still own "
         "see men work long get here between both life being under never day same another know "
         "mailbox server message client sync offline flags uid modseq deflate window").split()
names = ["Alice Example", "Bob Builder", "Cédric Dupont", "Dana Scully", "Erik Lund"]
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(folder, d), exist_ok=True)
now = int(time.time())
for i in range(count):
    frm = rng.choice(names)
    subj = " ".join(rng.choice(words) for _ in range(rng.randint(3, 9)))
    paras = []
    for _ in range(rng.randint(2, 8)):
        line, lines = [], []
        for _ in range(rng.randint(20, 90)):
            line.append(rng.choice(words))
            if sum(len(w) + 1 for w in line) > 70:
                lines.append(" ".join(line))
                line = []
        if line:
            lines.append(" ".join(line))
        paras.append("\r\n".join(lines))
    body = "\r\n\r\n".join(paras)
    msg = ("Return-Path: <bench@libmail.test>\r\nFrom: %s <sender%d@libmail.test>\r\n"
           "To: alice@libmail.test\r\nSubject: %s\r\nDate: Tue, 1 Dec 2026 %02d:%02d:%02d +0000\r\n"
           "Message-ID: <bench-%d-%d@libmail.test>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
           % (frm, i % 97, subj, i % 24, i % 60, (i * 7) % 60, now, i, body))
    name = "%d.M%dP%d.bench:2,%s" % (now, i, os.getpid(), "S" if i % 3 else "")
    with open(os.path.join(folder, "cur", name), "wb") as f:
        f.write(msg.encode("utf-8"))

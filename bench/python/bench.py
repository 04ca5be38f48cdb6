#!/usr/bin/env python3
"""The Python package against the standard library, side by side in one run.

1. parse: libmail.parse + transfer-decode of every leaf of the MIME corpus
   (bench/mime/gen_corpus.py) against the email package (compat32,
   get_payload(decode=True)). First both take the sha256 of every decoded
   leaf and the run fails unless they agree on every one; then the timed
   rounds parse and decode (the hashing, the same cost for both, is left
   out of the timing).
2. send: 2,000 messages of 2 KB over one connection to bench/smtp's C sink
   (PIPELINING, CHUNKING), libmail.SMTP.send against smtplib.sendmail,
   client and sink on one CPU.

usage: bench.py [--rounds N] [--count N] [--mb N] [--messages N] [--sink PATH]
Prints a table of medians and the ratios (targets: parse >= 10x, send >= 2x).
"""
import argparse
import email
import email.policy
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))

import libmail  # noqa: E402

def corpus(args, tmp):
    d = os.path.join(tmp, "corpus")
    subprocess.run([sys.executable, os.path.join(REPO, "bench", "mime", "gen_corpus.py"), d,
                    str(args.count), str(args.mb)], check=True, stdout=subprocess.DEVNULL)
    out = []
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out.append(f.read())
    return out


def leaves_libmail(data):
    return [p.get_content() for p in libmail.parse(data).leaves() if not p.is_multipart()]


def leaves_email(data):
    m = email.message_from_bytes(data, policy=email.policy.compat32)
    return [p.get_payload(decode=True) or b"" for p in m.walk() if not p.is_multipart()]


def timed_pass(leaves, msgs):
    """The timed work: parse and decode every leaf (no hashing, which costs
    both sides the same)."""
    n = 0
    for data in msgs:
        for leaf in leaves(data):
            n += len(leaf)
    return n


def digests(leaves, msgs):
    """The check, untimed: sha256 of every decoded leaf, per message."""
    return [[hashlib.sha256(leaf).digest() for leaf in leaves(data)] for data in msgs]


def timed(fn, *a):
    t0 = time.perf_counter()
    r = fn(*a)
    return time.perf_counter() - t0, r


sys.path.insert(0, os.path.join(REPO, "bench", "smtp"))
import smtplib_client  # noqa: E402  the same 2 KB message and smtplib loop as bench/smtp

FROM, TO = smtplib_client.FROM, smtplib_client.TO


def message2k():
    return smtplib_client.message()


def sink_binary(args, tmp):
    if args.sink:
        return args.sink
    for b in (os.environ.get("MAIL_BUILD_DIR", ""), os.path.join(REPO, "build")):
        p = os.path.join(b, "bench", "smtp", "smtp-sink")
        if b and os.path.exists(p):
            return p
    # not configured with -Dbench=true: compile the sink on its own
    out = os.path.join(tmp, "smtp-sink")
    cc = shutil.which("cc") or "gcc"
    subprocess.run([cc, "-O2", "-o", out, os.path.join(REPO, "bench", "smtp", "sink.c"),
                    os.path.join(REPO, "bench", "smtp", "bench_common.c")], check=True)
    return out


def with_sink(sink, client, n):
    p = subprocess.Popen([sink], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = int(p.stdout.readline())
    try:
        dt = client(port, n)
    finally:
        _, err = p.communicate(timeout=60)
    return dt, err.strip()


def send_libmail(port, n, chunking="when-needed"):
    msg = message2k()
    with libmail.SMTP("smtp://127.0.0.1:%d" % port, tls="none-insecure",
                      chunking=chunking) as s:
        t0 = time.perf_counter()
        for _ in range(n):
            r = s.send(msg, FROM, [TO])
            assert r, r
        return time.perf_counter() - t0


def send_smtplib(port, n):
    return smtplib_client.send(port, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=2000, help="corpus messages")
    ap.add_argument("--mb", type=int, default=200, help="corpus size target")
    ap.add_argument("--messages", type=int, default=2000, help="messages to send")
    ap.add_argument("--sink")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="libmail-bench-python.")
    try:
        msgs = corpus(args, tmp)
        mb = sum(map(len, msgs)) / 1e6
        ours, theirs = digests(leaves_libmail, msgs), digests(leaves_email, msgs)
        if ours != theirs:
            bad = sum(1 for a, b in zip(ours, theirs) if a != b)
            print("parse: the decoded leaves differ in %d messages" % bad)
            return 1
        leaves = sum(map(len, ours))
        lt, et = [], []
        for _ in range(args.rounds):
            t, n1 = timed(timed_pass, leaves_libmail, msgs)
            lt.append(t)
            t, n2 = timed(timed_pass, leaves_email, msgs)
            et.append(t)
            assert n1 == n2, (n1, n2)
        sink = sink_binary(args, tmp)
        # Client and sink share one CPU (the sink inherits the affinity):
        # across two CPUs a loopback ping-pong mostly measures wake-up
        # latency, which swings threefold from run to run on a shared VM.
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        ls, lb, ss = [], [], []
        for _ in range(args.rounds):
            ls.append(with_sink(sink, send_libmail, args.messages)[0])
            lb.append(with_sink(sink, lambda p, n: send_libmail(p, n, "prefer"),
                                args.messages)[0])
            ss.append(with_sink(sink, send_smtplib, args.messages)[0])
        lp, ep = statistics.median(lt), statistics.median(et)
        lsend, ssend = statistics.median(ls), statistics.median(ss)
        lbdat = statistics.median(lb)
        print("libmail %s (%s), Python %s, %d rounds, medians"
              % (libmail.library_version, libmail.library_path, sys.version.split()[0],
                 args.rounds))
        print()
        print("| benchmark | libmail | stdlib peer | ratio | target |")
        print("|---|---|---|---|---|")
        print("| parse + decode every leaf: %d messages, %.1f MB, %d leaves (sha256 of each "
              "agree) "
              "| %.2f s (%.1f MB/s) | email: %.2f s (%.1f MB/s) | %.1fx | >= 10x |"
              % (len(msgs), mb, leaves, lp, mb / lp, ep, mb / ep, ep / lp))
        n = args.messages
        print("| send %d x 2 KB, one connection, C sink, DATA (the default) | %.3f s "
              "(%.0f msg/s) | smtplib: %.3f s (%.0f msg/s) | %.1fx | >= 2x |"
              % (n, lsend, n / lsend, ssend, n / ssend, ssend / lsend))
        print("| the same with chunking=\"prefer\" (BDAT; smtplib has none) | %.3f s "
              "(%.0f msg/s) | smtplib: %.3f s (%.0f msg/s) | %.1fx | |"
              % (lbdat, n / lbdat, ssend, n / ssend, ssend / lbdat))
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())

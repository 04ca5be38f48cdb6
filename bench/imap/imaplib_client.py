#!/usr/bin/env python3
"""Python imaplib peer of bench_imap (same output line; unparsed: imaplib
returns the raw response lines and literals).

    imaplib_client.py meta|body HOST PORT USER PASSWORD MAILBOX
"""
import imaplib, re, resource, sys, time

mode, host, port, user, pw, box = sys.argv[1:7]
im = imaplib.IMAP4(host, int(port))
im.login(user, pw)
typ, _ = im.select('"%s"' % box, readonly=True)
assert typ == "OK"
t0 = time.perf_counter()
if mode == "meta":
    typ, data = im.uid("FETCH", "1:*", "(UID FLAGS ENVELOPE BODYSTRUCTURE)")
else:
    typ, data = im.uid("FETCH", "1", "(BODY.PEEK[])")
dt = time.perf_counter() - t0
assert typ == "OK"
# data: "n (items...)" per response without a literal, a (line, literal)
# pair per literal, and the rest of a line after its last literal.
start = re.compile(rb"^\d+ \(")
messages = sum(1 for d in data if start.match(d[0] if isinstance(d, tuple) else d))
lit = sum(len(d[1]) for d in data if isinstance(d, tuple))
im.logout()
print("imaplib %s %.6f - %d %d 0 %d" % (mode, dt, messages, lit,
                                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))

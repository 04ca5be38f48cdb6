"""POP3 RETR benchmark peer: Python's poplib, one RETR at a time (poplib
does not pipeline). Prints: poplib <messages> <bytes> <seconds> <max-rss-KiB>
usage: bench_poplib.py HOST PORT USER PASSWORD"""
import poplib
import resource
import sys
import time

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t0 = time.monotonic()
p = poplib.POP3(host, port)
p.user(user)
p.pass_(password)
count, _ = p.stat()
total = 0
for i in range(1, count + 1):
    _, lines, octets = p.retr(i)
    total += octets
t1 = time.monotonic()
p.quit()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("poplib %d %d %.4f %d" % (count, total, t1 - t0, rss))

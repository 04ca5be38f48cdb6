#!/usr/bin/env python3
"""Python email peer of bench_mime: same work (part tree, transfer-decode
every leaf into memory, no charset conversion), files read with readinto()
into one reused buffer. Prints: python MODE BYTES SECONDS MB/s VMHWM_KIB"""
import email
import email.parser
import email.policy
import os
import sys
import time


def vmhwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    mode, d = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(d, n) for n in os.listdir(d) if not n.startswith("."))
    buf = bytearray(1 << 20)
    total = 0
    sink = 0
    headers = mode == "headers"
    hparser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    t0 = time.monotonic()
    for p in paths * (5 if headers else 1):
        size = os.path.getsize(p)
        if size > len(buf):
            buf = bytearray(size)
        with open(p, "rb", buffering=0) as f:
            n = f.readinto(memoryview(buf)[:size])
        data = bytes(memoryview(buf)[:n])
        total += n
        if headers:
            sink += len(hparser.parsebytes(data).keys())
            continue
        msg = email.message_from_bytes(data, policy=email.policy.compat32)
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            sink += len(payload or b"")
    dt = time.monotonic() - t0
    print("python %s %d %.3f %.1f %d" % (mode, total, dt, total / dt / 1e6, vmhwm()))


if __name__ == "__main__":
    main()

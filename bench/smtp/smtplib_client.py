"""Python smtplib in the SMTP benchmark: one connection, sendmail() per
message. usage: smtplib_client.py PORT COUNT"""
import smtplib
import sys
import time

FROM = "bench@libmail.test"
TO = "sink@libmail.test"


def message():
    # the same 2,048-byte message as bench_common.c
    head = ("From: <%s>\r\nTo: <%s>\r\nSubject: benchmark message\r\n"
            "Message-ID: <bench@libmail.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n" % (FROM, TO))
    out = head
    line = 0
    while len(out) < 2048:
        room = 2048 - len(out)
        n = 72 if room >= 74 else room - 2
        text = "".join(chr(ord("a") + (line + i) % 26) for i in range(n))
        if line % 7 == 3 and n > 0:
            text = "." + text[1:]
        out += text + "\r\n"
        line += 1
    return out.encode("ascii")


def send(port, count):
    """Seconds smtplib takes to send count messages over one connection
    (also used by bench/python)."""
    msg = message()
    s = smtplib.SMTP("127.0.0.1", port)
    s.ehlo("smtplib.test")
    t0 = time.monotonic()
    for _ in range(count):
        s.sendmail(FROM, [TO], msg)
    t = time.monotonic() - t0
    s.quit()
    return t


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    t = send(port, count)
    print("smtplib %d %.3f %.0f" % (count, t, count / t), flush=True)


if __name__ == "__main__":
    main()

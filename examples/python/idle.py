#!/usr/bin/env python3
"""Watch an IMAP mailbox and print the subject of each new message as it
arrives (IDLE; the server tells us, nothing polls).

usage: idle.py URL USER [MAILBOX] [COUNT]   (password in $MAILPW; $MAIL_CAFILE)
  e.g. MAILPW=... idle.py imaps://mail.example.org alice INBOX
COUNT: stop after that many new messages (default: run until Ctrl-C).
"""
import os
import signal
import sys

import libmail


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    url, user = sys.argv[1:3]
    mailbox = sys.argv[3] if len(sys.argv) > 3 else "INBOX"
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    seen = 0
    # Any EXISTS since the last FETCH began, also one the server sent during
    # that FETCH: an IDLE would not announce that message again. (Comparing
    # message counts is not enough: an expunge and a new message together
    # leave the count where it was.)
    arrived_since = [False]

    def on_event(event: libmail.Event) -> None:
        if event.kind == "exists":
            arrived_since[0] = True

    with libmail.IMAP(url, user=user, password=os.environ["MAILPW"],
                      cafile=os.environ.get("MAIL_CAFILE"), on_event=on_event) as im:
        box = im.examine(mailbox)
        next_uid = box.uidnext or 1
        arrived_since[0] = False
        print("watching %s (%d messages)" % (mailbox, box.exists), flush=True)
        while not count or seen < count:
            if not arrived_since[0]:
                # Ctrl-C ends the IDLE cleanly (stop() is safe from a signal handler too)
                idle = im.idle(timeout=25 * 60)
                signal.signal(signal.SIGINT, lambda *_: idle.stop())
                arrived = False
                for event in idle:
                    if event.kind == "exists":
                        arrived = True
                        idle.stop()  # leave IDLE to ask for the new messages
                signal.signal(signal.SIGINT, signal.default_int_handler)
                if not arrived:
                    if idle.stopped:
                        break  # Ctrl-C
                    continue  # the IDLE timed out: idle again
            arrived_since[0] = False
            for item in im.fetch("%d:*" % next_uid, "(UID ENVELOPE)"):
                if item.uid is None or item.uid < next_uid:
                    continue  # "n:*" names the last message when none is newer
                next_uid = item.uid + 1
                env = item.envelope
                sender = env.from_[0] if env and env.from_ else None
                print("%d  %s  %s" % (item.uid, sender or "-", (env and env.subject) or ""),
                      flush=True)
                seen += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

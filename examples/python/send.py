#!/usr/bin/env python3
"""Send a message with an attachment through submission (STARTTLS and
authentication required), and print what the server said per recipient.

usage: send.py URL FROM TO [FILE]    (password in $MAILPW; $MAIL_CAFILE for a private CA)
  e.g. MAILPW=... send.py submission://mail.example.org alice@example.org bob@example.org a.pdf
"""
import os
import sys
from email.message import EmailMessage

import libmail


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, sender, rcpt = sys.argv[1:4]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = rcpt
    msg["Subject"] = "Hello from libmail"
    msg.set_content("Sent with the libmail Python package.\n")
    if len(sys.argv) > 4:
        with open(sys.argv[4], "rb") as f:
            msg.add_attachment(f.read(), maintype="application", subtype="octet-stream",
                               filename=os.path.basename(sys.argv[4]))
    try:
        with libmail.SMTP(url, user=sender.split("@")[0], password=os.environ["MAILPW"],
                          cafile=os.environ.get("MAIL_CAFILE")) as smtp:
            result = smtp.send(msg)
    except libmail.RecipientsRefused as e:
        for r in e.result:
            print("refused %s: %d %s %s" % (r.address, r.code, r.enhanced, r.text))
        return 6
    except libmail.Error as e:
        print("send failed: %s" % e, file=sys.stderr)
        return 1
    for r in result:
        print("%s %s: %d %s" % ("accepted" if r.accepted else "refused", r.address, r.code,
                                r.text))
    return 0 if result else 7


if __name__ == "__main__":
    sys.exit(main())

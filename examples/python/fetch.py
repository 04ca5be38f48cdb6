#!/usr/bin/env python3
"""Fetch new mail over POP3 and leave it on the server: messages not seen
before are saved as DIR/<uid>.eml (streamed to disk), and the list of seen
unique ids is kept in DIR/.seen so the next run fetches only new ones.
Messages seen more than DAYS days ago are deleted from the server.

usage: fetch.py URL USER DIR [DAYS]    (password in $MAILPW; $MAIL_CAFILE)
  e.g. MAILPW=... fetch.py pop3s://mail.example.org alice ~/mail 30
"""
import json
import os
import sys

import libmail


def main() -> int:
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    url, user, out = sys.argv[1:4]
    days = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    os.makedirs(out, exist_ok=True)
    state = os.path.join(out, ".seen")
    known = json.load(open(state)) if os.path.exists(state) else {}
    files = {}

    def sink(num):
        files[num] = open(os.path.join(out, "incoming-%d.tmp" % num), "wb")
        return files[num]
    with libmail.POP3(url, user=user, password=os.environ["MAILPW"],
                      cafile=os.environ.get("MAIL_CAFILE")) as pop:
        uids = pop.uidl()
        result = pop.leave_on_server(known, delete_after_days=days, sink=sink)
        for num in result.new_numbers:
            files[num].close()
            # unique ids are printable ASCII, "/" included: not a file name as they are
            uid = str(uids.get(num, num))
            path = os.path.join(out, "%s.eml" % uid.replace("/", "_").lstrip("."))
            os.replace(files[num].name, path)
            with open(path, "rb") as f:
                print("%s  %s" % (uid, libmail.parse(f).get("Subject", "")))
        committed = pop.quit()
    with open(state + ".tmp", "w") as f:
        json.dump(result.seen, f)
    os.replace(state + ".tmp", state)
    print("%d new, %d marked deleted%s" % (len(result.new_numbers), result.deleted,
                                           " (committed)" if committed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

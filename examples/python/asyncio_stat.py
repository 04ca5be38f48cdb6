#!/usr/bin/env python3
"""Check many POP3 mailboxes at once on one asyncio loop (no threads):
each session is driven by libmail's event-loop mode on the running loop.

usage: asyncio_stat.py URL USER:PASSWORD...   ($MAIL_CAFILE for a private CA)
  e.g. asyncio_stat.py pop3s://127.0.0.1 alice:pw1 bob:pw2
"""
import asyncio
import os
import sys

import libmail
import libmail.aio


async def stat(url: str, cred: str) -> str:
    user, password = cred.split(":", 1)
    try:
        async with libmail.aio.POP3(url, user=user, password=password,
                                    cafile=os.environ.get("MAIL_CAFILE"), timeout=30) as pop:
            count, size = await pop.stat()
            return "%s: %d messages, %d bytes" % (user, count, size)
    except libmail.Error as e:
        return "%s: %s" % (user, e)


async def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    for line in await asyncio.gather(*(stat(sys.argv[1], c) for c in sys.argv[2:])):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

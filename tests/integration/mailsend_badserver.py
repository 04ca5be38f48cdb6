"""A misbehaving SMTP server for the mailsend test (loopback, one client).
usage: mailsend_badserver.py garbage|silent PORTFILE
garbage: a valid greeting, then a reply that is not SMTP (exit 8 expected);
silent: accepts and never speaks (mailsend --timeout gives exit 3)."""
import socket
import sys
import time

mode, portfile = sys.argv[1], sys.argv[2]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(portfile + ".tmp", portfile)
ls.settimeout(20)
c, _ = ls.accept()
if mode == "garbage":
    c.sendall(b"220 bad.test ESMTP\r\n")
    c.recv(1024)
    c.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    time.sleep(1)
else:
    time.sleep(5)
c.close()

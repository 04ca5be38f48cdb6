#!/usr/bin/env python3
"""Record what the test Dovecot sends for a session that exercises most of
the IMAP response grammar; the bytes become tests/data/imap/dovecot-fetch.txt
(a capture as a client receives it, greeting first, then everything after
STARTTLS). A mailbox of its own is created, filled by APPEND and deleted.

    capture.py SERVERS_ENV OUT
"""
import os, socket, ssl, sys, time

env = dict(l.strip().split('=', 1) for l in open(sys.argv[1]) if '=' in l and not l.startswith('#'))
out = bytearray()
s = socket.create_connection((env['MAIL_TEST_HOST'], int(env['MAIL_TEST_IMAP_PORT'])))
f = s.makefile('rb')

def readresp(tag, fh):
    data = bytearray()
    while True:
        line = fh.readline()
        if not line:
            raise SystemExit('closed')
        data += line
        st = line.rstrip(b'\r\n')
        if st.endswith(b'}') and b'{' in st:
            n = int(st[st.rindex(b'{') + 1:-1].rstrip(b'+'))
            data += fh.read(n)
            continue
        if line.startswith(tag + b' ') or (tag == b'+' and line.startswith(b'+')):
            return bytes(data)

out += f.readline()
s.sendall(b'a0 STARTTLS\r\n')
readresp(b'a0', f)
ctx = ssl.create_default_context(cafile=env['MAIL_TEST_CA'])
ctx.check_hostname = False
t = ctx.wrap_socket(s)
fh = t.makefile('rb')
n = [0]

def cmd(c, lit=None):
    n[0] += 1
    tag = b'c%d' % n[0]
    if lit is None:
        t.sendall(tag + b' ' + c + b'\r\n')
    else:
        t.sendall(tag + b' ' + c + b' {%d}\r\n' % len(lit))
        out.extend(readresp(b'+', fh))
        t.sendall(lit + b'\r\n')
    r = readresp(tag, fh)
    out.extend(r)
    return r

box = b'imapparse-capture-%d' % os.getpid()
cmd(b'CAPABILITY')
cmd(b'LOGIN %s %s' % (env['MAIL_TEST_USER1'].encode(), env['MAIL_TEST_PASS1'].encode()))
cmd(b'ENABLE CONDSTORE')
cmd(b'NAMESPACE')
cmd(b'CREATE ' + box)
cmd(b'CREATE ' + box + b'/Entw&APw-rfe')
msgs = [
    b'From: Alice <a@x.test>\r\nTo: "B, C" <b@y.test>, undisclosed-recipients:;\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= "quoted"\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\nMessage-ID: <c1@x.test>\r\n\r\nHello\r\n',
    b'From: Bob <b@y.test>\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Language: en, de\r\nContent-Location: http://x.test/a\r\n\r\nBody \xc3\xa9\r\n--b1\r\nContent-Type: application/pdf; name="r\xc3\xa9sum\xc3\xa9.pdf"\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <id1>\r\nContent-Description: the file\r\nContent-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n\r\nQUJD\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: Inner <i@z.test>\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\nx\r\n--b2\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n--b2--\r\n--b1--\r\n',
    b'Subject: empty\r\n\r\n',
]
for m in msgs:
    cmd(b'APPEND ' + box + b' (\\Seen $Label1)', m)
# Only our own mailboxes: others' come and go while other tests run.
cmd(b'SUBSCRIBE ' + box)
cmd(b'LIST "" "' + box + b'*"')
cmd(b'LIST (SUBSCRIBED) "" "' + box + b'*" RETURN (CHILDREN)')
cmd(b'LSUB "" "' + box + b'*"')
cmd(b'STATUS ' + box + b' (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)')
cmd(b'SELECT ' + box)
cmd(b'FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ)')
cmd(b'FETCH 1:* (BODY BINARY.SIZE[1] BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[]<0.20>)')
cmd(b'FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[1] RFC822.HEADER BODY.PEEK[3.TEXT])')
cmd(b'UID SEARCH ALL')
cmd(b'SEARCH RETURN (MIN MAX COUNT ALL) ALL')
cmd(b'SEARCH MODSEQ 1')
cmd(b'SORT (SUBJECT) UTF-8 ALL')
cmd(b'THREAD REFERENCES UTF-8 ALL')
cmd(b'STORE 1 +FLAGS (\\Flagged)')
cmd(b'COPY 1:2 ' + box + b'/Entw&APw-rfe')
cmd(b'STORE 3 +FLAGS.SILENT (\\Deleted)')
cmd(b'EXPUNGE')
cmd(b'NOOP')
cmd(b'SELECT nonexistent-' + box)
cmd(b'UNSELECT')
cmd(b'UNSUBSCRIBE ' + box)
cmd(b'DELETE ' + box + b'/Entw&APw-rfe')
cmd(b'DELETE ' + box)
cmd(b'LOGOUT')
# Dovecot's own version and timings change between runs; keep them stable.
import re
data = re.sub(rb'\(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)', b'(0.001 + 0.000 secs)', bytes(out))
open(sys.argv[2], 'wb').write(data)
print(len(data), 'bytes')

#!/usr/bin/python3
"""End-to-end check of the real test servers with Debian's own Python
(smtplib, imaplib, poplib), independent of libmail.

Usage: servers_smoke.py SERVERS_ENV

Checks: TLS with the private CA on every TLS port (IPv4 and IPv6, host name
and IP address); submission requires STARTTLS and AUTH; alice sends to bob
there and the message shows up in bob's POP3 and IMAP; the SMTP extensions
the tests rely on; every SASL mechanism (PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1
SCRAM-SHA-256) offered and working on IMAP, POP3 and submission, also with
cedric's non-ASCII password; a wrong password fails fast; SMTPUTF8 delivery
(UTF-8 recipient, UTF-8 headers); a DSN success report reaches the sender;
LMTP over TCP and the unix socket; the quota user refuses a 5 MB message.
"""

import base64
import hashlib
import hmac
import imaplib
import os
import poplib
import secrets
import smtplib
import ssl
import sys
import time

TIMEOUT = 15          # per socket operation
DELIVERY_WAIT = 15    # seconds to wait for a message to land
MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]

failures = []


def check(cond, what):
    if cond:
        print("ok   - " + what)
    else:
        print("FAIL - " + what)
        failures.append(what)
    return cond


def load_env(path):
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            env[key] = value
    return env


# ------------------------------------------------------------------ SASL
def sasl_steps(mech, user, password):
    """A generator: first yields the initial response (bytes), then for each
    server challenge sent in, yields the next response. Raises on a bad
    server signature (SCRAM)."""
    u = user.encode("utf-8")
    p = password.encode("utf-8")
    if mech == "PLAIN":
        yield b"\0" + u + b"\0" + p
        return
    if mech == "LOGIN":
        yield None
        yield u
        yield p
        return
    if mech == "CRAM-MD5":
        challenge = yield None
        yield u + b" " + hmac.new(p, challenge, hashlib.md5).hexdigest().encode()
        return
    if mech.startswith("SCRAM-"):
        h = {"SCRAM-SHA-1": hashlib.sha1, "SCRAM-SHA-256": hashlib.sha256}[mech]
        name = hashlib.new(h().name).name
        nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        bare = "n=" + user.replace("=", "=3D").replace(",", "=2C") + ",r=" + nonce
        first = yield ("n,," + bare).encode("utf-8")
        attrs = dict(kv.split("=", 1) for kv in first.decode().split(","))
        assert attrs["r"].startswith(nonce), "server nonce does not extend ours"
        salted = hashlib.pbkdf2_hmac(name, p, base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", h).digest()
        stored = h(client_key).digest()
        final_bare = "c=biws,r=" + attrs["r"]
        auth_msg = (bare + "," + first.decode() + "," + final_bare).encode("utf-8")
        sig = hmac.new(stored, auth_msg, h).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, sig))
        server_final = yield (final_bare + ",p=" + base64.b64encode(proof).decode()).encode()
        server_key = hmac.new(salted, b"Server Key", h).digest()
        expect = base64.b64encode(hmac.new(server_key, auth_msg, h).digest()).decode()
        assert server_final.decode() == "v=" + expect, "bad SCRAM server signature"
        yield b""
        return
    raise ValueError(mech)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def smtp_auth(s, mech, user, password):
    steps = sasl_steps(mech, user, password)
    first = next(steps)
    code, msg = s.docmd("AUTH", mech if first is None else mech + " " + (b64(first) or "="))
    while code == 334:
        code, msg = s.docmd(b64(steps.send(base64.b64decode(msg))))
    return code


def pop3_auth(p, mech, user, password):
    steps = sasl_steps(mech, user, password)
    first = next(steps)
    cmd = "AUTH " + mech + ("" if first is None else " " + (b64(first) or "="))
    try:
        resp = p._shortcmd(cmd)
        while resp.startswith(b"+ ") or resp == b"+":
            resp = p._shortcmd(b64(steps.send(base64.b64decode(resp[2:]))))
    except poplib.error_proto:
        return False
    return resp.startswith(b"+OK")


def imap_auth(m, mech, user, password):
    steps = sasl_steps(mech, user, password)
    state = {"started": False}

    def respond(challenge):
        if not state["started"]:
            state["started"] = True
            first = next(steps)
            if first is not None:
                return first
        return steps.send(challenge)
    try:
        typ, _ = m.authenticate(mech, respond)
    except imaplib.IMAP4.error:
        return False
    return typ == "OK"


# ------------------------------------------------------------------ helpers
def tls_context(ca):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def maildir_find(maildir, token, wait=DELIVERY_WAIT):
    """Paths of messages in maildir (new/ and cur/) containing token."""
    deadline = time.monotonic() + wait
    needle = token.encode("utf-8")
    while True:
        found = []
        for sub in ("new", "cur"):
            d = os.path.join(maildir, sub)
            for name in os.listdir(d):
                path = os.path.join(d, name)
                try:
                    with open(path, "rb") as f:
                        if needle in f.read():
                            found.append(path)
                except FileNotFoundError:
                    pass  # moved from new/ to cur/ meanwhile
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def maildir_take(maildir, token, wait=DELIVERY_WAIT):
    """Remove the messages in maildir holding token; how many went. Other
    sessions rename files meanwhile (an IMAP SELECT moves them from new/
    to cur/, a POP3 RETR or a STORE changes their flags): a file gone
    between the look and the unlink is looked for again, under its new
    name, rather than failing the check with FileNotFoundError."""
    deadline = time.monotonic() + wait
    taken = 0
    while True:
        moved = False
        for path in maildir_find(maildir, token, wait=0):
            try:
                os.unlink(path)
                taken += 1
            except FileNotFoundError:
                moved = True
        if (taken and not moved) or time.monotonic() >= deadline:
            return taken
        if not moved:
            time.sleep(0.1)


def submission(env, host="localhost"):
    s = smtplib.SMTP(host, int(env["MAIL_TEST_SUBMISSION_PORT"]), timeout=TIMEOUT)
    s.ehlo("client.libmail.test")
    s.starttls(context=tls_context(env["MAIL_TEST_CA"]))
    s.ehlo("client.libmail.test")
    return s


def message(sender, rcpt, subject, body="hello\r\n", extra=""):
    return ("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n%s\r\n%s"
            % (sender, rcpt, subject, extra, body)).encode("utf-8")


# ------------------------------------------------------------------ checks
def check_tls_ports(env):
    ctx = tls_context(env["MAIL_TEST_CA"])
    for host, name in (("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("localhost", "localhost")):
        try:
            m = imaplib.IMAP4_SSL(host, int(env["MAIL_TEST_IMAPS_PORT"]), ssl_context=ctx,
                                  timeout=TIMEOUT)
            m.logout()
            ok = True
        except (OSError, imaplib.IMAP4.error) as e:
            ok = False
            print("     " + repr(e))
        check(ok, "IMAPS verified TLS to %s" % name)
    try:
        p = poplib.POP3_SSL("localhost", int(env["MAIL_TEST_POP3S_PORT"]), context=ctx,
                            timeout=TIMEOUT)
        p.quit()
        ok = True
    except (OSError, poplib.error_proto) as e:
        ok = False
        print("     " + repr(e))
    check(ok, "POP3S verified TLS")
    try:
        s = smtplib.SMTP_SSL("::1", int(env["MAIL_TEST_SMTPS_PORT"]), context=ctx,
                             timeout=TIMEOUT)
        code, _ = s.ehlo("client.libmail.test")
        s.quit()
        ok = code == 250
    except (OSError, smtplib.SMTPException) as e:
        ok = False
        print("     " + repr(e))
    check(ok, "SMTPS verified TLS over IPv6")
    # A wrong name must fail verification (the cert is for localhost/IPs only).
    try:
        ctx2 = tls_context(env["MAIL_TEST_CA"])
        import socket
        with socket.create_connection(("127.0.0.1", int(env["MAIL_TEST_IMAPS_PORT"])),
                                      timeout=TIMEOUT) as raw:
            with ctx2.wrap_socket(raw, server_hostname="wrong.example"):
                pass
        ok = False
    except ssl.SSLCertVerificationError:
        ok = True
    check(ok, "wrong host name fails verification")


def check_submission_rules(env):
    s = smtplib.SMTP("127.0.0.1", int(env["MAIL_TEST_SUBMISSION_PORT"]), timeout=TIMEOUT)
    s.ehlo("client.libmail.test")
    check(s.has_extn("starttls") and not s.has_extn("auth"),
          "submission offers STARTTLS and no AUTH before TLS")
    code, _ = s.docmd("MAIL", "FROM:<%s>" % env["MAIL_TEST_ADDR1"])
    check(code == 530, "submission refuses MAIL before STARTTLS (530, got %d)" % code)
    s.close()

    s = submission(env)
    code, _ = s.docmd("MAIL", "FROM:<%s>" % env["MAIL_TEST_ADDR1"])
    code2, _ = s.docmd("RCPT", "TO:<%s>" % env["MAIL_TEST_ADDR2"])
    check(code2 >= 500, "submission refuses an unauthenticated recipient (%d %d)" % (code, code2))
    s.close()

    s = submission(env)
    exts = ["pipelining", "chunking", "8bitmime", "dsn", "size", "enhancedstatuscodes",
            "smtputf8"]
    missing = [e for e in exts if not s.has_extn(e)]
    check(not missing, "submission EHLO offers %s (missing: %s)" % (" ".join(exts), missing))
    check(s.esmtp_features.get("size", "") == env["MAIL_TEST_MAX_MESSAGE_SIZE"],
          "SIZE is %s" % env["MAIL_TEST_MAX_MESSAGE_SIZE"])
    offered = s.esmtp_features.get("auth", "").upper().split()
    check(all(m in offered for m in MECHS), "submission AUTH offers %s (got %s)"
          % (" ".join(MECHS), " ".join(offered)))
    s.quit()


def imap_starttls(env, host="localhost"):
    m = imaplib.IMAP4(host, int(env["MAIL_TEST_IMAP_PORT"]), timeout=TIMEOUT)
    m.starttls(ssl_context=tls_context(env["MAIL_TEST_CA"]))
    return m


def pop3_stls(env, host="localhost"):
    p = poplib.POP3(host, int(env["MAIL_TEST_POP3_PORT"]), timeout=TIMEOUT)
    p.stls(context=tls_context(env["MAIL_TEST_CA"]))
    return p


def check_mechanisms(env):
    people = [(env["MAIL_TEST_USER1"], env["MAIL_TEST_PASS1"]),
              (env["MAIL_TEST_USER3"], env["MAIL_TEST_PASS3"])]
    m = imap_starttls(env)
    caps = [c.upper() for c in m.capabilities]
    check(all("AUTH=" + mech in caps for mech in MECHS), "IMAP offers AUTH=%s" % ",".join(MECHS))
    m.logout()
    p = pop3_stls(env)
    sasl = p.capa().get("SASL", [])
    check(all(mech in sasl for mech in MECHS), "POP3 CAPA SASL offers %s" % ",".join(MECHS))
    p.quit()

    for mech in MECHS:
        for user, pw in people:
            s = submission(env)
            check(smtp_auth(s, mech, user, pw) == 235, "submission AUTH %s as %s" % (mech, user))
            s.close()
            m = imap_starttls(env)
            check(imap_auth(m, mech, user, pw), "IMAP AUTHENTICATE %s as %s" % (mech, user))
            m.logout()
            p = pop3_stls(env)
            check(pop3_auth(p, mech, user, pw), "POP3 AUTH %s as %s" % (mech, user))
            p.quit()

    # Wrong password: refused, and fast (no auth penalty, no failure delay).
    t0 = time.monotonic()
    m = imap_starttls(env)
    try:
        m.login(env["MAIL_TEST_USER1"], "wrong-password")
        ok = False
    except imaplib.IMAP4.error:
        ok = True
    m.logout()
    p = pop3_stls(env)
    ok = ok and not pop3_auth(p, "PLAIN", env["MAIL_TEST_USER2"], "wrong-password")
    p.quit()
    s = submission(env)
    ok = ok and smtp_auth(s, "PLAIN", env["MAIL_TEST_USER2"], "wrong-password") == 535
    s.close()
    elapsed = time.monotonic() - t0
    check(ok and elapsed < 1, "wrong passwords refused quickly (%.2f s)" % elapsed)
    # IMAP LOGIN with cedric's UTF-8 password too.
    m = imap_starttls(env)
    try:
        m._encoding = "utf-8"
        typ, _ = m.login(env["MAIL_TEST_USER3"], env["MAIL_TEST_PASS3"])
    except imaplib.IMAP4.error:
        typ = "NO"
    check(typ == "OK", "IMAP LOGIN with the non-ASCII password")
    m.logout()


def check_send_and_fetch(env):
    token = "libmail-smoke-" + secrets.token_hex(8)
    alice, bob = env["MAIL_TEST_ADDR1"], env["MAIL_TEST_ADDR2"]
    s = submission(env)
    check(smtp_auth(s, "PLAIN", env["MAIL_TEST_USER1"], env["MAIL_TEST_PASS1"]) == 235,
          "alice logs in on submission")
    refused = s.sendmail(alice, [bob], message(alice, bob, token),
                         rcpt_options=["NOTIFY=SUCCESS"], mail_options=["ENVID=" + token])
    s.quit()
    check(not refused, "submission accepts alice -> bob")
    check(maildir_find(env["MAIL_TEST_MAILDIR2"], token), "message lands in bob's maildir (LMTP)")

    p = pop3_stls(env, "::1")
    p.user(env["MAIL_TEST_USER2"])
    p.pass_(env["MAIL_TEST_PASS2"])
    count = len(p.list()[1])
    seen = False
    for i in range(count, 0, -1):
        try:
            head = p.top(i, 0)[1]
        except poplib.error_proto:
            continue  # expunged by another session since the LIST: not ours
        if any(token.encode() in line for line in head):
            seen = True
            p.dele(i)   # keep the mailbox small across runs
            break
    p.quit()
    check(seen, "bob finds it over POP3 (IPv6, STLS)")

    # Send again, find over IMAP.
    token2 = token + "-imap"
    s = submission(env)
    smtp_auth(s, "SCRAM-SHA-256", env["MAIL_TEST_USER1"], env["MAIL_TEST_PASS1"])
    s.sendmail(alice, [bob], message(alice, bob, token2))
    s.quit()
    maildir_find(env["MAIL_TEST_MAILDIR2"], token2)
    m = imaplib.IMAP4_SSL("127.0.0.1", int(env["MAIL_TEST_IMAPS_PORT"]),
                          ssl_context=tls_context(env["MAIL_TEST_CA"]), timeout=TIMEOUT)
    m.login(env["MAIL_TEST_USER2"], env["MAIL_TEST_PASS2"])
    m.select("INBOX")
    typ, data = m.search(None, "SUBJECT", token2)
    nums = data[0].split() if typ == "OK" else []
    check(len(nums) == 1, "bob finds it over IMAPS (SEARCH SUBJECT)")
    for n in nums:
        m.store(n, "+FLAGS", "\\Deleted")
    m.expunge()
    typ, data = m.capability()
    caps = data[0].decode().upper().split() if typ == "OK" else []
    check("COMPRESS=DEFLATE" in caps, "IMAP offers COMPRESS=DEFLATE after login")
    m.logout()

    # The DSN success report for the first message reaches alice.
    # (taken out: keep the mailbox small across runs)
    check(maildir_take(env["MAIL_TEST_MAILDIR1"], token), "DSN success report reaches alice")


def check_smtputf8(env):
    token = "libmail-utf8-" + secrets.token_hex(8)
    alice = env["MAIL_TEST_ADDR1"]
    utf8_rcpt = env["MAIL_TEST_UTF8_ADDR"]
    s = smtplib.SMTP("127.0.0.1", int(env["MAIL_TEST_SMTP_PORT"]), timeout=TIMEOUT)
    s.ehlo("client.libmail.test")
    check(s.has_extn("smtputf8") and s.has_extn("starttls"), "port 12525 offers SMTPUTF8, STARTTLS")
    refused = s.sendmail(alice, [utf8_rcpt],
                         message(alice, utf8_rcpt, "Grüße " + token, "Grüße, Cédric\r\n"),
                         mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    check(not refused, "SMTPUTF8 mail to %s accepted" % utf8_rcpt)
    # UTF-8 headers to an ASCII recipient (routed around Dovecot's LMTP).
    bob = env["MAIL_TEST_ADDR2"]
    s.sendmail(alice, [bob], message(alice, bob, "Ünïcödé " + token + "-hdr", "body\r\n"),
               mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    s.quit()
    check(maildir_take(env["MAIL_TEST_UTF8_MAILDIR"], "Grüße " + token),
          "SMTPUTF8 mail lands in cedric's maildir")
    check(maildir_take(env["MAIL_TEST_MAILDIR2"], token + "-hdr"),
          "SMTPUTF8 mail with UTF-8 headers lands in bob's maildir")


def lmtp_send(lmtp, sender, rcpt, body):
    lmtp.ehlo_or_helo_if_needed()
    try:
        refused = lmtp.sendmail(sender, [rcpt], body)
        return 250 if not refused else 550
    except smtplib.SMTPRecipientsRefused as e:
        return e.recipients[rcpt][0]
    except smtplib.SMTPDataError as e:
        return e.smtp_code
    except smtplib.SMTPSenderRefused as e:
        return e.smtp_code


def check_lmtp(env):
    token = "libmail-lmtp-" + secrets.token_hex(8)
    alice, bob = env["MAIL_TEST_ADDR1"], env["MAIL_TEST_ADDR2"]
    lm = smtplib.LMTP(env["MAIL_TEST_LMTP_SOCKET"], timeout=TIMEOUT)
    code = lmtp_send(lm, alice, bob, message(alice, bob, token))
    lm.quit()
    check(code == 250, "LMTP over the unix socket delivers to bob (%d)" % code)
    check(maildir_take(env["MAIL_TEST_MAILDIR2"], token, wait=2), "LMTP message is in bob's maildir")

    quota = env["MAIL_TEST_QUOTA_ADDR"]
    lm = smtplib.LMTP("::1", int(env["MAIL_TEST_LMTP_PORT"]), timeout=TIMEOUT)
    big = message(alice, quota, token + "-big", ("x" * 998 + "\r\n") * 5000)
    code = lmtp_send(lm, alice, quota, big)
    lm.quit()
    check(500 <= code < 600, "LMTP (TCP, IPv6) to the quota user refuses a 5 MB message (%d)" % code)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: servers_smoke.py SERVERS_ENV")
    env = load_env(sys.argv[1])
    t0 = time.monotonic()
    for step in (check_tls_ports, check_submission_rules, check_mechanisms,
                 check_send_and_fetch, check_smtputf8, check_lmtp):
        try:
            step(env)
        except Exception as e:  # report and go on: one broken step must not hide others
            check(False, "%s raised %r" % (step.__name__, e))
    print("%d failure(s) in %.1f s" % (len(failures), time.monotonic() - t0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

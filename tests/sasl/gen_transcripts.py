#!/usr/bin/python3
"""Write the per-mechanism SASL transcripts for SMTP, POP3 and IMAP.

    /usr/bin/python3 tests/sasl/gen_transcripts.py [--check]

writes tests/transcript/smtp/sasl_*.txt, tests/transcript/pop3/sasl_*.txt
and tests/transcript/imap/sasl_*.txt (--check only compares them and exits 1 when one differs). It first checks
its own SCRAM, CRAM-MD5 and PLAIN helpers against the RFCs' examples
(RFC 5802 section 5, RFC 7677 section 3, RFC 2195, RFC 4616).
Every expected client byte (SCRAM proofs, CRAM-MD5 digests, PLAIN and OAuth
messages) is computed here with hashlib/hmac/base64 only; nothing comes from
libmail, so a libmail bug cannot hide behind the same bug in its own test.

Reproducibility: the transcript runner (tests/support/transcript.c) gives the
client a fixed random stream (xorshift64* from 0x9E3779B97F4A7C15, the top
byte of each product) and, after TLS, fixed channel-binding data (the type
byte, 1 = tls-exporter, 2 = tls-server-end-point or 3 = tls-unique, the
last only after "TLS 1.2", then 0, 1, ..., 30).
libmail's SCRAM nonce is 32 characters, each picked from
A-Z a-z 0-9 + / by the low six bits of one random byte. Both are
reproduced below so the nonces, and so the proofs, are known in advance.
"""
import base64
import hashlib
import hmac
import os
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = {"smtp": os.path.join(ROOT, "tests", "transcript", "smtp"),
       "pop3": os.path.join(ROOT, "tests", "transcript", "pop3"),
       "imap": os.path.join(ROOT, "tests", "transcript", "imap")}

USER = "alice"
PASSWORD = "alice-pw-1"
NONASCII_USER = "cedric"
NONASCII_PASSWORD = "p\u00e4ssw\u00f6rd-\u20ac"
TOKEN = "ya29.first-token"
TOKEN2 = "ya29.refreshed-token"
SALT = bytes.fromhex("4125c247e43ab1e93c6dff76")  # 12 fixed bytes
SERVER_NONCE = "3rfcNHYJY1ZVvWVs7j"
ITERATIONS = 4096
NONCE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
OAUTH_ERROR = ('{"status":"invalid_token","scope":"https://mail.test/",'
               '"openid-configuration":"https://auth.test/.well-known/openid-configuration"}')

M64 = (1 << 64) - 1


def fixed_random(n):
    """The transcript runner's stream, from its start."""
    x = 0x9E3779B97F4A7C15
    out = bytearray()
    for _ in range(n):
        x ^= x >> 12
        x ^= (x << 25) & M64
        x ^= x >> 27
        out.append(((x * 0x2545F4914F6CDD1D) & M64) >> 56)
    return bytes(out)


def client_nonce():
    return "".join(NONCE_CHARS[b & 63] for b in fixed_random(32))


def cb_data(cb_type):
    return bytes([cb_type]) + bytes(range(31))


def b64(data):
    return base64.b64encode(data).decode("ascii")


def saslprep(s):
    # Enough of RFC 4013 for the strings used here: NFKC, nothing to map.
    return unicodedata.normalize("NFKC", s)


def scram_core(hname, user, password, gs2, cbind, cnonce, snonce, salt, iterations):
    """(client-first, server-first, client-final, server-final) as text."""
    first_bare = "n=%s,r=%s" % (user, cnonce)
    nonce = cnonce + snonce
    server_first = "r=%s,s=%s,i=%d" % (nonce, b64(salt), iterations)
    final_wo_proof = "c=%s,r=%s" % (b64(gs2.encode() + cbind), nonce)
    auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
    salted = hashlib.pbkdf2_hmac(hname, saslprep(password).encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hname).digest()
    stored_key = hashlib.new(hname, client_key).digest()
    client_sig = hmac.new(stored_key, auth_msg, hname).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, client_sig))
    server_key = hmac.new(salted, b"Server Key", hname).digest()
    server_sig = hmac.new(server_key, auth_msg, hname).digest()
    return (gs2 + first_bare, server_first, final_wo_proof + ",p=" + b64(proof),
            "v=" + b64(server_sig))


def scram(hname, password, gs2, cbind, cnonce, bad_signature=False):
    """Client-first, server-first, client-final, server-final (bytes)."""
    msgs = scram_core(hname, USER, password, gs2, cbind, cnonce, SERVER_NONCE, SALT, ITERATIONS)
    first, sfirst, final, sfinal = (m.encode() for m in msgs)
    if bad_signature:
        sig = bytearray(base64.b64decode(sfinal[2:]))
        sig[0] ^= 1
        sfinal = b"v=" + base64.b64encode(bytes(sig))
    return first, sfirst, final, sfinal


def self_test():
    """The RFCs' own examples, so the helpers above are known good."""
    # RFC 5802 section 5 (SCRAM-SHA-1, user "user", password "pencil").
    got = scram_core("sha1", "user", "pencil", "n,,", b"", "fyko+d2lbbFgONRv9qkxdawL",
                     "3rfcNHYJY1ZVvWVs7j", base64.b64decode("QSXCR+Q6sek8bf92"), 4096)
    assert got[2].endswith(",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="), got
    assert got[3] == "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", got
    # RFC 7677 section 3 (SCRAM-SHA-256).
    got = scram_core("sha256", "user", "pencil", "n,,", b"", "rOprNGfwEbeRWgbNEkqO",
                     "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
                     base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096)
    assert got[2].endswith(",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="), got
    assert got[3] == "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", got
    # RFC 2195 (CRAM-MD5).
    assert cram("tim", "tanstaaftanstaaf", b"<1896.697170952@postoffice.reston.mci.net>") == \
        b"tim b913a602c7eda7a495b4e6e7334d3890"
    # RFC 4616 section 4 (PLAIN).
    assert plain_msg("", "tim", "tanstaaftanstaaf") == b"\0tim\0tanstaaftanstaaf"


def scram_user(hname, user, password, gs2, cnonce):
    global USER
    saved, USER = USER, user
    try:
        return scram(hname, password, gs2, b"", cnonce)
    finally:
        USER = saved


def cram(user, password, challenge):
    digest = hmac.new(password.encode(), challenge, "md5").hexdigest()
    return ("%s %s" % (user, digest)).encode()


# ------------------------------------------------------------ protocols

def esc(data):
    out = []
    for c in data:
        if c == 0x0D:
            out.append("\\r")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c == 0x00:
            out.append("\\0")
        elif c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\x%02X" % c)
    return "".join(out)


class Proto:
    def __init__(self, name):
        self.name = name
        self.lines = []
        self.tag = 0  # IMAP: the tag of the last command

    def next_tag(self):
        self.tag += 1
        return "A%d" % self.tag

    def s(self, text):
        self.lines.append("S: " + esc(text.encode()))

    def c(self, text):
        self.lines.append("C: " + esc(text.encode()))

    def prelude(self, mechs, tls=True, sasl_ir=True):
        if tls:
            # "TLS" behaves as TLS 1.3 (no tls-unique), "TLS 1.2" as TLS 1.2.
            self.lines.append("TLS 1.2" if tls == "1.2" else "TLS")
        if self.name == "imap":
            # The greeting's CAPABILITY code: no CAPABILITY command needed.
            # Without SASL-IR every mechanism waits for the first "+".
            auths = " ".join("AUTH=" + m for m in mechs.split())
            self.s("* OK [CAPABILITY IMAP4rev1 %s%s] imap.test ready\r\n"
                   % ("SASL-IR " if sasl_ir else "", auths))
        elif self.name == "smtp":
            self.s("220 mx.test ESMTP\r\n")
            self.c("EHLO client.test\r\n")
            self.s("250-mx.test\r\n250-ENHANCEDSTATUSCODES\r\n250 AUTH %s\r\n" % mechs)
        else:
            self.s("+OK ready\r\n")
            self.c("CAPA\r\n")
            self.s("+OK\r\nSASL %s\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n.\r\n" % mechs)
        self.mechs = mechs

    def auth(self, mech, ir=None):
        if self.name == "imap":
            verb = "%s AUTHENTICATE %s" % (self.next_tag(), mech)
            if ir is None:
                self.c(verb + "\r\n")
            else:
                self.c("%s %s\r\n" % (verb, b64(ir) if ir else "="))
            return
        if ir is None:
            self.c("AUTH %s\r\n" % mech)
        elif ir == b"":
            self.c("AUTH %s =\r\n" % mech)
        else:
            self.c("AUTH %s %s\r\n" % (mech, b64(ir)))

    def chal(self, data):
        text = b64(data)
        self.s(("334 %s\r\n" if self.name == "smtp" else "+ %s\r\n") % text)

    def tagged(self, text):
        self.s("A%d %s\r\n" % (self.tag, text))

    def resp(self, data):
        self.c(b64(data) + "\r\n")

    def abort(self):
        self.c("*\r\n")
        if self.name == "imap":
            return self.tagged("BAD Authentication aborted")
        self.s("501 5.7.0 Authentication aborted\r\n" if self.name == "smtp"
               else "-ERR Authentication aborted.\r\n")

    def ok(self):
        if self.name == "imap":
            # The new capabilities in the OK: no CAPABILITY command after it.
            self.tagged("OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in")
        elif self.name == "smtp":
            self.s("235 2.7.0 Authentication successful\r\n")
        else:
            self.s("+OK Logged in.\r\n")
            self.c("CAPA\r\n")
            self.s("+OK\r\nUIDL\r\n.\r\n")

    def fail(self):
        if self.name == "imap":
            return self.tagged("NO [AUTHENTICATIONFAILED] Authentication failed.")
        self.s("535 5.7.8 Authentication credentials invalid\r\n" if self.name == "smtp"
               else "-ERR [AUTH] Authentication failed.\r\n")

    def cyrus_fail(self):
        # Cyrus pop3d 3.6 (Cyrus SASL 2.1.28) refusing a binding type it lacks.
        if self.name == "imap":  # imapd's words for the same refusal
            return self.tagged("NO bad protocol / cancel")
        self.s("535 5.7.0 authentication failed: bad protocol / cancel\r\n" if self.name == "smtp"
               else "-ERR [AUTH] authenticating: bad protocol / cancel\r\n")

    def unsupported(self):
        if self.name == "imap":  # Dovecot's, without a response code
            return self.tagged("NO Unsupported authentication mechanism.")
        self.s("504 5.5.4 Unrecognized authentication type\r\n" if self.name == "smtp"
               else "-ERR Unsupported authentication mechanism.\r\n")

    def noop(self):
        if self.name == "pop3":
            return  # NOOP is a TRANSACTION command; the C test checks the state
        if self.name == "imap":
            self.c("%s NOOP\r\n" % self.next_tag())
            return self.tagged("OK NOOP completed.")
        self.c("NOOP\r\n")
        self.s("250 2.0.0 Ok\r\n" if self.name == "smtp" else "+OK\r\n")


# ------------------------------------------------------------ scenarios
# Each writes one transcript per protocol; the matching C scenario (same
# file name in tests/transcript/sasl_scenarios.c, one table for both) sets
# the credentials and options named in the header comment.

def plain_msg(authzid, user, password):
    return ("%s\0%s\0%s" % (authzid, user, password)).encode()


def long_password(proto):
    # Too long for the AUTH line (SMTP: 12288 minus a margin, RFC 4954;
    # POP3: 255 octets, RFC 5034), so the message waits for an empty
    # challenge. IMAP has no such bound (RFC 4959): there the server lacks
    # SASL-IR.
    return "long-pw-" * (1150 if proto == "smtp" else 23)


def sc_plain(p):
    p.prelude("PLAIN LOGIN")
    p.auth("PLAIN", plain_msg("", USER, PASSWORD))
    p.ok()


def sc_plain_no_ir(p):
    p.prelude("PLAIN", sasl_ir=False)
    p.auth("PLAIN")
    p.chal(b"")
    p.resp(plain_msg("", USER, long_password(p.name)))
    p.ok()


def sc_plain_authzid(p):
    p.prelude("PLAIN")
    p.auth("PLAIN", plain_msg("shared@libmail.test", USER, PASSWORD))
    p.ok()


def sc_login(p):
    p.prelude("LOGIN")
    p.auth("LOGIN")
    p.chal(b"Username:")
    p.resp(USER.encode())
    p.chal(b"Password:")
    p.resp(PASSWORD.encode())
    p.ok()


def sc_cram_md5(p):
    challenge = b"<1896.697170952@mx.libmail.test>"
    p.prelude("CRAM-MD5 PLAIN")
    p.auth("CRAM-MD5")
    p.chal(challenge)
    p.resp(cram(USER, PASSWORD, challenge))
    p.ok()


def scram_exchange(p, mech, hname, gs2, cbind, bad_signature=False):
    first, sfirst, final, sfinal = scram(hname, PASSWORD, gs2, cbind, client_nonce(),
                                         bad_signature)
    p.auth(mech, first)
    p.chal(sfirst)
    p.resp(final)
    p.chal(sfinal)
    if bad_signature:
        p.abort()
        return
    p.resp(b"")
    p.ok()


def sc_scram_sha1(p):
    # TLS is up and we could bind, but the server offers no -PLUS: "y".
    p.prelude("SCRAM-SHA-1 PLAIN")
    scram_exchange(p, "SCRAM-SHA-1", "sha1", "y,,", b"")


def sc_scram_sha256(p):
    p.prelude("SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN")
    scram_exchange(p, "SCRAM-SHA-256", "sha256", "y,,", b"")


def sc_scram_sha256_plus(p):
    p.prelude("SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN")
    scram_exchange(p, "SCRAM-SHA-256-PLUS", "sha256", "p=tls-exporter,,", cb_data(1))


def sc_scram_sha1_plus(p):
    # The caller prefers tls-server-end-point (mail_sasl_set_channel_binding_preference).
    p.prelude("SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN")
    scram_exchange(p, "SCRAM-SHA-1-PLUS", "sha1", "p=tls-server-end-point,,", cb_data(2))


def sc_scram_sha256_plus_tls_unique(p):
    # TLS 1.2: the default binding is tls-unique (RFC 5802's mandatory type).
    p.prelude("SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN", tls="1.2")
    scram_exchange(p, "SCRAM-SHA-256-PLUS", "sha256", "p=tls-unique,,", cb_data(3))


def second_nonce():
    # A second start draws the next 32 random bytes.
    return "".join(NONCE_CHARS[b & 63] for b in fixed_random(64)[32:])


def scram_attempt(p, mech, gs2, cbind, cnonce, password=PASSWORD):
    """SCRAM-SHA-256 up to the client-final message; returns server-final."""
    first, sfirst, final, sfinal = scram("sha256", password, gs2, cbind, cnonce)
    p.auth(mech, first)
    p.chal(sfirst)
    p.resp(final)
    return sfinal


def plus_refused_at_final(p, password=PASSWORD, cyrus=True):
    """A -PLUS exchange with tls-exporter refused after client-final."""
    scram_attempt(p, "SCRAM-SHA-256-PLUS", "p=tls-exporter,,", cb_data(1), client_nonce(),
                  password)
    if cyrus:
        p.cyrus_fail()
    else:
        p.fail()


def sc_scram_plus_downgrade(p):
    # Like Cyrus under TLS 1.3: -PLUS advertised, only tls-unique known, so
    # tls-exporter is refused at client-final. One retry of the same SCRAM
    # without binding, gs2 "n" (not "y": the server did advertise -PLUS).
    p.prelude("SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN")
    plus_refused_at_final(p)
    p.chal(scram_attempt(p, "SCRAM-SHA-256", "n,,", b"", second_nonce()))
    p.resp(b"")
    p.ok()


def sc_scram_plus_no_downgrade(p):
    # The same server, the caller forbids the downgrade: the failure is final.
    p.prelude("SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN")
    plus_refused_at_final(p)
    p.noop()


def sc_scram_plus_wrong_password(p):
    # A wrong password with a server that does bind: refused twice, once
    # with binding and once in the downgrade retry. No third attempt.
    p.prelude("SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN")
    plus_refused_at_final(p, "wrong-pw", cyrus=False)
    scram_attempt(p, "SCRAM-SHA-256", "n,,", b"", second_nonce(), "wrong-pw")
    p.fail()
    p.noop()


def sc_scram_bad_signature(p):
    p.prelude("SCRAM-SHA-256 PLAIN")
    scram_exchange(p, "SCRAM-SHA-256", "sha256", "y,,", b"", bad_signature=True)


def sc_scram_nonascii(p):
    p.prelude("SCRAM-SHA-256")
    first, sfirst, final, sfinal = scram_user("sha256", NONASCII_USER, NONASCII_PASSWORD,
                                              "y,,", client_nonce())
    p.auth("SCRAM-SHA-256", first)
    p.chal(sfirst)
    p.resp(final)
    p.chal(sfinal)
    p.resp(b"")
    p.ok()


def sc_scram_fallback(p):
    # "Not supported" for SCRAM-SHA-256 (after its client-first message):
    # the next one, SCRAM-SHA-1, starts over with a fresh nonce.
    p.prelude("SCRAM-SHA-256 SCRAM-SHA-1")
    first, _, _, _ = scram("sha256", PASSWORD, "y,,", b"", client_nonce())
    p.auth("SCRAM-SHA-256", first)
    p.unsupported()
    # The second start draws the next 32 random bytes.
    cnonce2 = "".join(NONCE_CHARS[b & 63] for b in fixed_random(64)[32:])
    first, sfirst, final, sfinal = scram("sha1", PASSWORD, "y,,", b"", cnonce2)
    p.auth("SCRAM-SHA-1", first)
    p.chal(sfirst)
    p.resp(final)
    p.chal(sfinal)
    p.resp(b"")
    p.ok()


def sc_no_fallback(p):
    # An authentication failure is final: PLAIN is offered too, but never tried.
    p.prelude("CRAM-MD5 PLAIN")
    challenge = b"<77.1@mx.libmail.test>"
    p.auth("CRAM-MD5")
    p.chal(challenge)
    p.resp(cram(USER, "wrong-pw", challenge))
    p.fail()
    p.noop()


def sc_cleartext(p):
    # No TLS (explicitly allowed for the connection), only cleartext
    # mechanisms: nothing is sent, the session stays usable.
    p.prelude("PLAIN LOGIN", tls=False)
    p.noop()


def xoauth2_msg(token):
    return ("user=%s\x01auth=Bearer %s\x01\x01" % (USER, token)).encode()


def sc_xoauth2(p):
    p.prelude("XOAUTH2 PLAIN")
    p.auth("XOAUTH2", xoauth2_msg(TOKEN))
    p.ok()


def sc_xoauth2_refresh(p):
    # The error JSON, an empty answer, the failure, then the token callback
    # refreshes the token and the same mechanism is tried once more.
    p.prelude("XOAUTH2 PLAIN")
    p.auth("XOAUTH2", xoauth2_msg(TOKEN))
    p.chal(OAUTH_ERROR.encode())
    p.resp(b"")
    p.fail()
    p.auth("XOAUTH2", xoauth2_msg(TOKEN2))
    p.ok()


def bearer(token, proto):
    port = {"smtp": 465, "pop3": 995, "imap": 993}[proto]
    return ("n,a=%s,\x01host=mx.test\x01port=%d\x01auth=Bearer %s\x01\x01"
            % (USER, port, token)).encode()


def sc_oauthbearer(p):
    p.prelude("OAUTHBEARER XOAUTH2 PLAIN")
    p.auth("OAUTHBEARER", bearer(TOKEN, p.name))
    p.ok()


def sc_oauthbearer_refresh(p):
    p.prelude("OAUTHBEARER PLAIN")
    p.auth("OAUTHBEARER", bearer(TOKEN, p.name))
    p.chal(OAUTH_ERROR.encode())
    p.resp(b"\x01")
    p.fail()
    p.auth("OAUTHBEARER", bearer(TOKEN2, p.name))
    p.ok()


def sc_oauthbearer_refused_twice(p):
    # The refreshed token is refused too: one retry only, MAIL_ERR_AUTH.
    p.prelude("OAUTHBEARER PLAIN")
    for token in (TOKEN, TOKEN2):
        p.auth("OAUTHBEARER", bearer(token, p.name))
        p.chal(OAUTH_ERROR.encode())
        p.resp(b"\x01")
        p.fail()
    p.noop()


def sc_external(p):
    p.prelude("EXTERNAL PLAIN")
    p.auth("EXTERNAL", b"")
    p.ok()


def sc_external_authzid(p):
    p.prelude("EXTERNAL")
    p.auth("EXTERNAL", b"shared@libmail.test")
    p.ok()


SCENARIOS = [
    ("plain", sc_plain, "PLAIN with an initial response (alice / alice-pw-1)."),
    ("plain_no_ir", sc_plain_no_ir,
     "PLAIN without an initial response: the message (a very long password,\n"
     "\"long-pw-\" repeated) does not fit the AUTH line, so it waits for the\n"
     "server's empty challenge."),
    ("plain_authzid", sc_plain_authzid,
     "PLAIN with an authorization identity (shared@libmail.test)."),
    ("login", sc_login, "LOGIN: user name, then password, each on request."),
    ("cram_md5", sc_cram_md5, "CRAM-MD5: HMAC-MD5 of the server's challenge."),
    ("scram_sha1", sc_scram_sha1,
     "SCRAM-SHA-1 over TLS with channel binding available but no -PLUS offered:\n"
     "the gs2 header says \"y\"."),
    ("scram_sha256", sc_scram_sha256, "SCRAM-SHA-256 chosen first from the list."),
    ("scram_sha256_plus", sc_scram_sha256_plus,
     "SCRAM-SHA-256-PLUS with tls-exporter channel binding (the runner's fixed data)."),
    ("scram_sha1_plus", sc_scram_sha1_plus,
     "SCRAM-SHA-1-PLUS with tls-server-end-point (the caller's preference)."),
    ("scram_sha256_plus_tls_unique", sc_scram_sha256_plus_tls_unique,
     "SCRAM-SHA-256-PLUS over TLS 1.2: tls-unique, the default binding there."),
    ("scram_plus_downgrade", sc_scram_plus_downgrade,
     "A Cyrus-like server under TLS 1.3 refuses tls-exporter at client-final:\n"
     "one retry of SCRAM-SHA-256 without channel binding (gs2 \"n\") succeeds."),
    ("scram_plus_no_downgrade", sc_scram_plus_no_downgrade,
     "The same refusal with the downgrade forbidden\n"
     "(mail_sasl_set_allow_channel_binding_downgrade(s, 0)): MAIL_ERR_AUTH."),
    ("scram_plus_wrong_password", sc_scram_plus_wrong_password,
     "A wrong password costs two failed attempts: -PLUS, then the retry\n"
     "without binding; MAIL_ERR_AUTH, the session stays usable."),
    ("scram_bad_signature", sc_scram_bad_signature,
     "The server's final message has a wrong signature: the client aborts with\n"
     "\"*\" and the session ends (MAIL_ERR_SASL_SERVER)."),
    ("scram_nonascii", sc_scram_nonascii,
     "SCRAM-SHA-256 for cedric with a non-ASCII password (SASLprep, UTF-8)."),
    ("scram_fallback", sc_scram_fallback,
     "SCRAM-SHA-256 is refused as unsupported: fall back to SCRAM-SHA-1 (each\n"
     "start draws a fresh nonce from the random stream)."),
    ("no_fallback", sc_no_fallback,
     "CRAM-MD5 with a wrong password: the failure is final (MAIL_ERR_AUTH),\n"
     "PLAIN is never tried, the session stays usable."),
    ("cleartext", sc_cleartext,
     "Without TLS only PLAIN and LOGIN are offered: refused locally\n"
     "(MAIL_ERR_INSECURE), nothing is sent."),
    ("xoauth2", sc_xoauth2, "XOAUTH2 with a token (ya29.first-token)."),
    ("xoauth2_refresh", sc_xoauth2_refresh,
     "XOAUTH2 refused with the error JSON: empty answer, failure, the token\n"
     "callback refreshes (ya29.refreshed-token) and one retry succeeds."),
    ("oauthbearer", sc_oauthbearer, "OAUTHBEARER with host and port set."),
    ("oauthbearer_refresh", sc_oauthbearer_refresh,
     "OAUTHBEARER refused with the error JSON: ^A, failure, refresh, one retry."),
    ("oauthbearer_refused_twice", sc_oauthbearer_refused_twice,
     "OAUTHBEARER: the refreshed token is refused too; no second refresh."),
    ("external", sc_external, "EXTERNAL with an empty message (identity from the certificate)."),
    ("external_authzid", sc_external_authzid, "EXTERNAL asking for an authorization identity."),
]


# What each scenario ends with, and the refused login some of them show
# first (the C side: tests/transcript/sasl_scenarios.c).
EXPECT = {"scram_bad_signature": "MAIL_ERR_SASL_SERVER"}
REFUSED = {"no_fallback": "MAIL_ERR_AUTH", "oauthbearer_refused_twice": "MAIL_ERR_AUTH",
           "cleartext": "MAIL_ERR_INSECURE", "scram_plus_no_downgrade": "MAIL_ERR_AUTH",
           "scram_plus_wrong_password": "MAIL_ERR_AUTH"}


def call_line(proto, name):
    """The "# call:" header: the public calls the shared scenario makes."""
    tls = "no TLS" if name == "cleartext" else "implicit TLS"
    calls = ["mail_%s_connect (%s)" % (proto, tls)]
    login = "mail_imap_login" if proto == "imap" else "mail_%s_auth" % proto
    if name == "scram_plus_no_downgrade":
        calls.insert(0, "mail_sasl_set_allow_channel_binding_downgrade (0)")
    if name in REFUSED:
        calls.append("%s (refused: %s)" % (login, REFUSED[name]))
        if proto != "pop3":
            calls.append("mail_%s_noop" % proto)
    else:
        calls.append(login)
    return "# call: " + ", ".join(calls) + " (tests/transcript/sasl_scenarios.c)"


def main():
    """Write the transcripts; with --check, only compare (exit 1 on a difference)."""
    check = "--check" in sys.argv[1:]
    self_test()
    stale = []
    for proto in ("smtp", "pop3", "imap"):
        for name, fn, doc in SCENARIOS:
            p = Proto(proto)
            fn(p)
            path = os.path.join(OUT[proto], "sasl_%s.txt" % name)
            head = ["# " + line for line in doc.split("\n")]
            head.append("# Generated by tests/sasl/gen_transcripts.py (hashlib/hmac, not libmail);")
            head.append("# do not edit, run it again.")
            head.append(call_line(proto, name))
            head.append("# expect: " + EXPECT.get(name, "MAIL_OK"))
            text = "\n".join(head + p.lines) + "\n"
            if check:
                try:
                    with open(path) as f:
                        if f.read() == text:
                            continue
                except OSError:
                    pass
                stale.append(path)
            else:
                with open(path, "w") as f:
                    f.write(text)
    for path in stale:
        print("differs from the generator: " + path)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

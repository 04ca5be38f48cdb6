"""The case catalogue of hostile_server.py: named server behaviours, each
with the exact lines the client must send and exactly what it must print.

Markers in the expected lines: "<TLS>" (the handshake began), "<TLS refused>"
(the client refused the server's certificate), "<COMPRESS>" (the stream
switched to DEFLATE). A case's name is PROTO-GROUP-WHAT; the group (control,
negotiation, buffering, tampering, cert) is what the summary counts.
"""

USER_B64 = "AGFsaWNlAHNlY3JldA=="  # PLAIN: "\0alice\0secret"

# ------------------------------------------------------------ the sessions as they should go

SMTP_HELLO = ["EHLO client.test\r\n", "STARTTLS\r\n", "<TLS>"]
SMTP_AFTER = ["EHLO client.test\r\n", f"AUTH PLAIN {USER_B64}\r\n",
              "MAIL FROM:<alice@example.org>\r\n", "RCPT TO:<bob@example.org>\r\n", "DATA\r\n",
              "Subject: hi\r\n", "\r\n", "hello\r\n", ".\r\n", "QUIT\r\n"]
SMTP_OK = ["connect=MAIL_OK", "auth=MAIL_OK", "send=MAIL_OK", "quit=MAIL_OK"]

POP3_HELLO = ["CAPA\r\n", "STLS\r\n", "<TLS>"]
POP3_AFTER = ["CAPA\r\n", f"AUTH PLAIN {USER_B64}\r\n", "CAPA\r\n", "STAT\r\n", "QUIT\r\n"]
POP3_OK = ["connect=MAIL_OK", "auth=MAIL_OK", "stat=MAIL_OK", "count=2", "quit=MAIL_OK"]

IMAP_HELLO = ["A1 CAPABILITY\r\n", "A2 STARTTLS\r\n", "<TLS>"]
IMAP_SELECT_OUT = ["untagged=EXISTS trusted=1", "untagged=RECENT trusted=1",
                   "untagged=FLAGS trusted=1", "untagged=OK trusted=1", "select=MAIL_OK",
                   "exists=2", "recent=0", "flags=2", "permanentflags=0", "uidvalidity=7",
                   "uidnext=0", "unseen=0", "highestmodseq=0", "read_only=0",
                   "untagged=BYE trusted=1", "logout=MAIL_OK"]


def imap_after(n):
    """The session after TLS, tags from An on."""
    t = [f"A{n + i}" for i in range(5)]
    return [f"{t[0]} CAPABILITY\r\n", f"{t[1]} AUTHENTICATE PLAIN\r\n", f"{USER_B64}\r\n",
            f"{t[2]} CAPABILITY\r\n", f"{t[3]} SELECT INBOX\r\n", f"{t[4]} LOGOUT\r\n"]


IMAP_OK_STARTTLS = ["untagged=CAPABILITY trusted=0", "untagged=CAPABILITY trusted=1",
                    "connect=MAIL_OK", "untagged=CAPABILITY trusted=1", "login=MAIL_OK"] + \
    IMAP_SELECT_OUT

NNTP_HELLO = ["CAPABILITIES\r\n", "STARTTLS\r\n", "<TLS>"]
NNTP_AFTER = ["CAPABILITIES\r\n", "AUTHINFO USER alice\r\n", "AUTHINFO PASS secret\r\n",
              "CAPABILITIES\r\n", "GROUP misc.test\r\n", "QUIT\r\n"]
NNTP_OK = ["connect=MAIL_OK", "auth=MAIL_OK", "group=MAIL_OK", "count=3", "quit=MAIL_OK"]

HELLO = {"smtp": SMTP_HELLO, "pop3": POP3_HELLO, "imap": IMAP_HELLO, "nntp": NNTP_HELLO}
# What the client sends after giving up on a server that will not do TLS:
# nothing at all, not even QUIT/LOGOUT (it closes: mail_engine_abort()).
BYE = {"smtp": [], "pop3": [], "imap": [], "nntp": []}

IMAP_CAPS_COMPRESS = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN COMPRESS=DEFLATE\r\nTAG OK done\r\n"

# dns-only is dialled as 127.0.0.1, the others as localhost
CERT_DEFECTS = ("self-signed", "unknown-ca", "wrong-name", "dns-only", "ip-only", "expired",
                "not-yet-valid", "client-only-eku", "issuer-not-ca")


def add_cases(case):
    # -------------------------------------------------------- controls: the harness sees a good session
    case("smtp-control-starttls", "smtp", lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    case("smtp-control-implicit", "smtp", security="implicit", lines=["<TLS>"] + SMTP_AFTER,
         out=SMTP_OK)
    case("smtp-control-ip", "smtp", security="implicit", host="127.0.0.1",
         lines=["<TLS>"] + SMTP_AFTER, out=SMTP_OK)
    case("pop3-control-starttls", "pop3", lines=POP3_HELLO + POP3_AFTER, out=POP3_OK)
    case("pop3-control-implicit", "pop3", security="implicit", lines=["<TLS>"] + POP3_AFTER,
         out=POP3_OK)
    case("pop3-control-ip", "pop3", security="implicit", host="127.0.0.1",
         lines=["<TLS>"] + POP3_AFTER, out=POP3_OK)
    case("imap-control-starttls", "imap", lines=IMAP_HELLO + imap_after(3), out=IMAP_OK_STARTTLS)
    imap_implicit_out = ["untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
                         "untagged=CAPABILITY trusted=1", "login=MAIL_OK"] + IMAP_SELECT_OUT
    case("imap-control-implicit", "imap", security="implicit", lines=["<TLS>"] + imap_after(1),
         out=imap_implicit_out)
    case("imap-control-ip", "imap", security="implicit", host="127.0.0.1",
         lines=["<TLS>"] + imap_after(1), out=imap_implicit_out)
    case("nntp-control-starttls", "nntp", lines=NNTP_HELLO + NNTP_AFTER, out=NNTP_OK)
    case("nntp-control-implicit", "nntp", security="implicit", lines=["<TLS>"] + NNTP_AFTER,
         out=NNTP_OK)
    case("nntp-control-ip", "nntp", security="implicit", host="127.0.0.1",
         lines=["<TLS>"] + NNTP_AFTER, out=NNTP_OK)
    case("imap-control-compress", "imap", security="implicit", op="compress",
         caps_tls=IMAP_CAPS_COMPRESS,
         lines=["<TLS>", "A1 CAPABILITY\r\n", "A2 AUTHENTICATE PLAIN\r\n", f"{USER_B64}\r\n",
                "A3 CAPABILITY\r\n", "A4 COMPRESS DEFLATE\r\n", "<COMPRESS>", "A5 NOOP\r\n",
                "A6 LOGOUT\r\n"],
         out=["untagged=CAPABILITY trusted=1", "connect=MAIL_OK", "untagged=CAPABILITY trusted=1",
              "login=MAIL_OK", "compress=MAIL_OK", "noop=MAIL_OK", "untagged=BYE trusted=1",
              "logout=MAIL_OK"])
    case("nntp-control-compress", "nntp", security="implicit", op="compress",
         lines=["<TLS>", "CAPABILITIES\r\n", "COMPRESS DEFLATE\r\n", "<COMPRESS>", "DATE\r\n",
                "QUIT\r\n"],
         out=["connect=MAIL_OK", "compress=MAIL_OK", "date=MAIL_OK", "quit=MAIL_OK"])

    # -------------------------------------------------------- STARTTLS negotiation
    # STARTTLS required: a server that does not do it gets no credentials
    # and no data; the client gives up with MAIL_ERR_STARTTLS.
    no_tls = ["connect=MAIL_ERR_STARTTLS"]
    case("smtp-negotiation-not-advertised", "smtp",
         caps_plain=b"250-hostile.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n",
         lines=["EHLO client.test\r\n"] + BYE["smtp"], out=no_tls)
    case("smtp-negotiation-454", "smtp", starttls=b"454 4.7.0 TLS not available\r\n", go=0,
         lines=SMTP_HELLO[:2] + BYE["smtp"], out=no_tls)
    case("smtp-negotiation-502", "smtp", starttls=b"502 5.5.1 unknown\r\n", go=0,
         lines=SMTP_HELLO[:2] + BYE["smtp"], out=no_tls)
    case("smtp-negotiation-ehlo-unknown", "smtp", caps_plain=b"500 5.5.1 unknown command\r\n",
         lines=["EHLO client.test\r\n"] + BYE["smtp"], out=no_tls)  # HELO cannot do STARTTLS
    case("smtp-negotiation-354-continuation", "smtp", starttls=b"354 go ahead\r\n", go=0,
         lines=SMTP_HELLO[:2] + BYE["smtp"], out=no_tls)
    case("smtp-negotiation-greeting-554", "smtp", greeting=b"554 5.3.2 go away\r\n",
         lines=BYE["smtp"], out=["connect=MAIL_ERR_SERVER"])

    case("pop3-negotiation-not-advertised", "pop3", caps_plain=b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n",
         lines=["CAPA\r\n"] + BYE["pop3"], out=no_tls)
    case("pop3-negotiation-err", "pop3", starttls=b"-ERR not now\r\n", go=0,
         lines=POP3_HELLO[:2] + BYE["pop3"], out=no_tls)
    # CAPA refused: STLS cannot be known to be offered (RFC 2595), so a
    # required STLS fails without being tried (an attacker may strip CAPA)
    case("pop3-negotiation-capa-unknown", "pop3", caps_plain=b"-ERR unknown command\r\n",
         lines=["CAPA\r\n"] + BYE["pop3"], out=no_tls)
    case("pop3-negotiation-continuation", "pop3", starttls=b"+ go ahead\r\n", go=0,
         lines=POP3_HELLO[:2] + BYE["pop3"], out=["connect=MAIL_ERR_PROTOCOL"])

    case("imap-negotiation-not-advertised", "imap",
         caps_plain=b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n",
         lines=["A1 CAPABILITY\r\n"] + BYE["imap"],
         out=["untagged=CAPABILITY trusted=0"] + no_tls)
    case("imap-negotiation-no", "imap", starttls=b"TAG NO not now\r\n", go=0,
         lines=IMAP_HELLO[:2] + BYE["imap"], out=["untagged=CAPABILITY trusted=0"] + no_tls)
    case("imap-negotiation-bad", "imap", starttls=b"TAG BAD unknown command\r\n", go=0,
         lines=IMAP_HELLO[:2] + BYE["imap"], out=["untagged=CAPABILITY trusted=0"] + no_tls)
    case("imap-negotiation-capability-bad", "imap", caps_plain=b"TAG BAD unknown command\r\n",
         lines=["A1 CAPABILITY\r\n"] + BYE["imap"], out=no_tls)
    case("imap-negotiation-capability-no", "imap", caps_plain=b"TAG NO not now\r\n",
         lines=["A1 CAPABILITY\r\n"] + BYE["imap"], out=no_tls)
    case("imap-negotiation-continuation", "imap", starttls=b"+ go ahead\r\n", go=0,
         lines=IMAP_HELLO[:2] + BYE["imap"],
         out=["untagged=CAPABILITY trusted=0"] + no_tls)
    case("imap-negotiation-preauth-plaintext", "imap", greeting=b"* PREAUTH welcome\r\n",
         lines=BYE["imap"], out=no_tls)
    case("imap-negotiation-greeting-bye", "imap", greeting=b"* BYE go away\r\n",
         lines=[], out=["connect=MAIL_ERR_SERVER_CLOSING"])

    case("nntp-negotiation-not-advertised", "nntp",
         caps_plain=b"101 caps\r\nVERSION 2\r\nREADER\r\nAUTHINFO USER\r\n.\r\n",
         lines=["CAPABILITIES\r\n"] + BYE["nntp"], out=no_tls)
    case("nntp-negotiation-580", "nntp", starttls=b"580 can not initiate TLS\r\n", go=0,
         lines=NNTP_HELLO[:2] + BYE["nntp"], out=no_tls)
    case("nntp-negotiation-502", "nntp", starttls=b"502 not permitted\r\n", go=0,
         lines=NNTP_HELLO[:2] + BYE["nntp"], out=no_tls)
    # an RFC 977 server (no CAPABILITIES) cannot offer STARTTLS
    case("nntp-negotiation-caps-unknown", "nntp", caps_plain=b"500 unknown command\r\n",
         lines=["CAPABILITIES\r\n"] + BYE["nntp"], out=no_tls)
    case("nntp-negotiation-greeting-502", "nntp", greeting=b"502 access denied\r\n",
         lines=[], out=["connect=MAIL_ERR_SERVER"])

    # -------------------------------------------------------- buffering
    # Bytes in the same segment as the go-ahead were written by someone
    # before the handshake: MAIL_ERR_STARTTLS_INJECTION, no handshake.
    inj = ["connect=MAIL_ERR_STARTTLS_INJECTION"]
    extra = {
        "smtp": b"250-AUTH PLAIN\r\n250 ok\r\n",
        "pop3": b"+OK injected\r\n",
        "imap": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
        "nntp": b"101 caps\r\nAUTHINFO USER\r\n.\r\n",
    }
    for proto in ("smtp", "pop3", "imap", "nntp"):
        pre_out = ["untagged=CAPABILITY trusted=0"] if proto == "imap" else []
        for what, data in (("line", extra[proto]), ("partial", extra[proto][:7]),
                           ("nonascii", b"\xff\xfe\x80\x00\x1b[31m")):
            case(f"{proto}-buffering-{what}", proto, inject=data, go=0,
                 lines=HELLO[proto][:2], out=pre_out + inj)
    imap_compress_head = ["<TLS>", "A1 CAPABILITY\r\n", "A2 AUTHENTICATE PLAIN\r\n",
                          f"{USER_B64}\r\n", "A3 CAPABILITY\r\n", "A4 COMPRESS DEFLATE\r\n"]
    imap_compress_out = ["untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
                         "untagged=CAPABILITY trusted=1", "login=MAIL_OK",
                         "compress=MAIL_ERR_STARTTLS_INJECTION", "logout=MAIL_ERR_STATE"]
    for what, data in (("line", b"* 9 EXISTS\r\n"), ("partial", b"* 9 EX"),
                       ("nonascii", b"\xff\xfe\x80")):
        case(f"imap-buffering-compress-{what}", "imap", security="implicit", op="compress",
             caps_tls=IMAP_CAPS_COMPRESS, compress_inject=data, lines=imap_compress_head,
             out=imap_compress_out)
        case(f"nntp-buffering-compress-{what}", "nntp", security="implicit", op="compress",
             compress_inject=data.replace(b"* 9 EXISTS", b"111 20990101000000"),
             lines=["<TLS>", "CAPABILITIES\r\n", "COMPRESS DEFLATE\r\n"],
             out=["connect=MAIL_OK", "compress=MAIL_ERR_STARTTLS_INJECTION", "quit=MAIL_ERR_STATE"])

    # -------------------------------------------------------- tampering
    # Untagged responses before TLS reach the callback as untrusted and
    # change nothing: after SELECT the mailbox is what the server said
    # over TLS (2 messages, 0 recent, 2 flags).
    untagged = {
        "exists": (b"* 5 EXISTS\r\n", "EXISTS"),
        "recent": (b"* 4 RECENT\r\n", "RECENT"),
        "expunge": (b"* 1 EXPUNGE\r\n", "EXPUNGE"),
        "flags": (b"* FLAGS (\\Evil \\Seen \\Deleted \\Draft)\r\n", "FLAGS"),
        "list": (b'* LIST () "/" Evil\r\n', "LIST"),
        "status": (b"* STATUS INBOX (MESSAGES 9)\r\n", "STATUS"),
        "capability": (b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\r\n", "CAPABILITY"),
        "fetch": (b"* 1 FETCH (BODY[] {6}\r\nevil!!)\r\n", "FETCH"),
        "referral": (b"* OK [REFERRAL imap://evil.example/] go there\r\n", "OK"),
        "enabled": (b"* ENABLED UTF8=ACCEPT CONDSTORE QRESYNC\r\n", "ENABLED"),
        "uidvalidity": (b"* OK [UIDVALIDITY 99] u\r\n", "OK"),
        "uidnext": (b"* OK [UIDNEXT 50] u\r\n", "OK"),
        "permanentflags": (b"* OK [PERMANENTFLAGS (\\Seen \\Evil)] p\r\n", "OK"),
        "read-only": (b"* OK [READ-ONLY] r\r\n", "OK"),
        "unseen": (b"* OK [UNSEEN 1] u\r\n", "OK"),
        "highestmodseq": (b"* OK [HIGHESTMODSEQ 12345] h\r\n", "OK"),
        "closed": (b"* OK [CLOSED] c\r\n", "OK"),
        "id": (b'* ID ("name" "evil")\r\n', "OTHER"),
        "search": (b"* SEARCH 1 2 3\r\n", "SEARCH"),
        "vanished": (b"* VANISHED 1:2\r\n", "VANISHED"),
        "namespace": (b'* NAMESPACE (("" "/")) NIL NIL\r\n', "NAMESPACE"),
    }
    for what, (data, kind) in untagged.items():
        case(f"imap-tampering-{what}", "imap", pre_tls=data, lines=IMAP_HELLO + imap_after(3),
             out=["untagged=CAPABILITY trusted=0", f"untagged={kind} trusted=0"] +
             IMAP_OK_STARTTLS[1:])
    # a tagged reply for a command not sent yet (A3 would be the first
    # over TLS): the byte stream cannot be trusted, the session ends
    case("imap-tampering-future-tag", "imap",
         pre_tls=b"A3 OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done early\r\n",
         lines=IMAP_HELLO[:2] + ["<closed>"],
         out=["untagged=CAPABILITY trusted=0", "connect=MAIL_ERR_PROTOCOL"])
    # BYE before the STARTTLS OK: the client believes it and closes
    case("imap-tampering-bye", "imap", pre_tls=b"* BYE pretend to close\r\n",
         lines=IMAP_HELLO[:2] + ["<closed>"], out=["untagged=CAPABILITY trusted=0", "untagged=BYE trusted=0",
                                    "connect=MAIL_ERR_SERVER_CLOSING"])
    case("imap-tampering-alert", "imap", pre_tls=b"* OK [ALERT] call +1 555 0100 now\r\n",
         caps_tls=b"* OK [ALERT] the real one\r\n" + IMAP_CAPS_TLS_BYTES(),
         lines=IMAP_HELLO + imap_after(3),
         out=["untagged=CAPABILITY trusted=0", "alert=call +1 555 0100 now trusted=0",
              "alert=the real one trusted=1", "untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
              "alert=the real one trusted=1"] + IMAP_OK_STARTTLS[3:])
    # unsolicited right after the handshake: the server's word (trusted)
    case("imap-tampering-post-tls-alert", "imap", post_tls=b"* OK [ALERT] over TLS\r\n",
         lines=IMAP_HELLO + imap_after(3),
         out=["untagged=CAPABILITY trusted=0", "alert=over TLS trusted=1"] + IMAP_OK_STARTTLS[1:])
    # an ALERT in the plaintext greeting is kept with the greeting text
    # (mail_imap_greeting()), never handed to the callback as trusted
    case("imap-tampering-greeting-alert", "imap",
         greeting=b"* OK [ALERT] greeting alert\r\n", lines=IMAP_HELLO + imap_after(3),
         out=IMAP_OK_STARTTLS)
    # capabilities that vanish after TLS are not used
    case("imap-tampering-caps-vanish", "imap",
         caps_plain=b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\nTAG OK done\r\n",
         caps_tls=b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nTAG OK done\r\n",
         lines=IMAP_HELLO + ["A3 CAPABILITY\r\n", "A4 LOGOUT\r\n"],
         out=["untagged=CAPABILITY trusted=0", "untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
              "login=MAIL_ERR_NO_MECHANISM", "untagged=BYE trusted=1", "logout=MAIL_OK"])
    case("imap-tampering-pre-tls-caps", "imap",
         pre_tls=b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n",
         caps_tls=b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nTAG OK done\r\n",
         lines=IMAP_HELLO + ["A3 CAPABILITY\r\n", "A4 LOGOUT\r\n"],
         out=["untagged=CAPABILITY trusted=0", "untagged=CAPABILITY trusted=0",
              "untagged=CAPABILITY trusted=1", "connect=MAIL_OK", "login=MAIL_ERR_NO_MECHANISM",
              "untagged=BYE trusted=1", "logout=MAIL_OK"])
    case("imap-tampering-compress-vanish", "imap", op="compress",
         caps_plain=b"* CAPABILITY IMAP4rev1 STARTTLS COMPRESS=DEFLATE\r\nTAG OK done\r\n",
         lines=IMAP_HELLO + ["A3 CAPABILITY\r\n", "A4 AUTHENTICATE PLAIN\r\n", f"{USER_B64}\r\n",
                             "A5 CAPABILITY\r\n", "A6 LOGOUT\r\n"],
         out=["untagged=CAPABILITY trusted=0", "untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
              "untagged=CAPABILITY trusted=1", "login=MAIL_OK", "compress=MAIL_ERR_UNSUPPORTED",
              "untagged=BYE trusted=1", "logout=MAIL_OK"])
    case("smtp-tampering-caps-vanish", "smtp",
         caps_plain=b"250-hostile.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
         caps_tls=b"250-hostile.test\r\n250 8BITMIME\r\n",
         lines=SMTP_HELLO + ["EHLO client.test\r\n", "QUIT\r\n"],
         out=["connect=MAIL_OK", "auth=MAIL_ERR_UNSUPPORTED", "quit=MAIL_OK"])
    # SIZE and PIPELINING offered before TLS only are not used after it
    case("smtp-tampering-size-vanish", "smtp",
         caps_plain=b"250-hostile.test\r\n250-STARTTLS\r\n250 SIZE 10\r\n",
         lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    case("smtp-tampering-pipelining-vanish", "smtp",
         caps_plain=b"250-hostile.test\r\n250-STARTTLS\r\n250 PIPELINING\r\n",
         lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    # (the harness sees pipelining when there is some)
    case("smtp-control-pipelining", "smtp",
         caps_tls=b"250-hostile.test\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n",
         lines=SMTP_HELLO + SMTP_AFTER[:2] + ["MAIL FROM:<alice@example.org>\r\n",
                                              "<pipelined after MAIL>"] + SMTP_AFTER[3:],
         out=SMTP_OK)
    case("pop3-tampering-caps-vanish", "pop3",
         caps_plain=b"+OK\r\nSTLS\r\nSASL PLAIN\r\n.\r\n", caps_tls=b"+OK\r\nUSER\r\n.\r\n",
         lines=POP3_HELLO + ["CAPA\r\n", "USER alice\r\n", "PASS secret\r\n", "CAPA\r\n",
                             "STAT\r\n", "QUIT\r\n"], out=POP3_OK)
    case("nntp-tampering-caps-vanish", "nntp",
         caps_plain=b"101 caps\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\nAUTHINFO USER\r\n"
                    b"SASL PLAIN\r\n.\r\n",
         caps_tls=b"101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n",
         lines=NNTP_HELLO + ["CAPABILITIES\r\n", "QUIT\r\n"],
         out=["connect=MAIL_OK", "auth=MAIL_ERR_NO_MECHANISM", "quit=MAIL_OK"])
    case("nntp-tampering-compress-vanish", "nntp", op="compress",
         caps_plain=b"101 caps\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\nCOMPRESS DEFLATE\r\n.\r\n",
         caps_tls=b"101 caps\r\nVERSION 2\r\nREADER\r\n.\r\n",
         lines=NNTP_HELLO + ["CAPABILITIES\r\n", "QUIT\r\n"],
         out=["connect=MAIL_OK", "compress=MAIL_ERR_UNSUPPORTED", "quit=MAIL_OK"])

    # a pre-TLS [CAPABILITY] code is not kept: the greeting's, or the one
    # in the STARTTLS OK itself
    vanish_out = ["untagged=CAPABILITY trusted=1", "connect=MAIL_OK", "login=MAIL_ERR_NO_MECHANISM",
                  "untagged=BYE trusted=1", "logout=MAIL_OK"]
    case("imap-tampering-greeting-caps", "imap",
         greeting=b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] hi\r\n",
         caps_tls=b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nTAG OK done\r\n",
         lines=["A1 STARTTLS\r\n", "<TLS>", "A2 CAPABILITY\r\n", "A3 LOGOUT\r\n"],
         out=vanish_out)
    case("imap-tampering-starttls-ok-caps", "imap",
         starttls=b"TAG OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] begin TLS\r\n",
         caps_tls=b"* CAPABILITY IMAP4rev1 LOGINDISABLED\r\nTAG OK done\r\n",
         lines=IMAP_HELLO + ["A3 CAPABILITY\r\n", "A4 LOGOUT\r\n"],
         out=["untagged=CAPABILITY trusted=0"] + vanish_out)
    # STARTTLS offered again after TLS is not done twice
    case("smtp-tampering-starttls-again", "smtp",
         caps_tls=b"250-hostile.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
         lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    case("pop3-tampering-stls-again", "pop3", caps_tls=b"+OK\r\nSTLS\r\nSASL PLAIN\r\n.\r\n",
         lines=POP3_HELLO + POP3_AFTER, out=POP3_OK)
    case("imap-tampering-starttls-again", "imap",
         caps_tls=b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\nTAG OK done\r\n",
         lines=IMAP_HELLO + imap_after(3), out=IMAP_OK_STARTTLS)
    case("nntp-tampering-starttls-again", "nntp",
         caps_tls=b"101 caps\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\nAUTHINFO USER\r\n.\r\n",
         lines=NNTP_HELLO + NNTP_AFTER, out=NNTP_OK)

    # a go-ahead that arrives in pieces (one write each) is still a
    # go-ahead, not an injection; a multi-line 220 too
    case("smtp-buffering-split-go-ahead", "smtp", starttls_pieces=[b"22", b"0 2.0.0 go", b" ahead\r\n"],
         lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    case("smtp-buffering-multiline-go-ahead", "smtp", starttls=b"220-2.0.0 go\r\n220 2.0.0 ahead\r\n",
         lines=SMTP_HELLO + SMTP_AFTER, out=SMTP_OK)
    case("pop3-buffering-split-go-ahead", "pop3", starttls_pieces=[b"+O", b"K begin", b"\r", b"\n"],
         lines=POP3_HELLO + POP3_AFTER, out=POP3_OK)
    case("imap-buffering-split-go-ahead", "imap", starttls_pieces=[b"TAG O", b"K begin TLS\r\n"],
         lines=IMAP_HELLO + imap_after(3), out=IMAP_OK_STARTTLS)
    case("nntp-buffering-split-go-ahead", "nntp", starttls_pieces=[b"38", b"2 go\r\n"],
         lines=NNTP_HELLO + NNTP_AFTER, out=NNTP_OK)
    # a tagged STARTTLS reply under another tag is no go-ahead
    case("imap-negotiation-wrong-tag", "imap", starttls=b"A9 OK begin TLS\r\n", go=0,
         lines=IMAP_HELLO[:2], out=["untagged=CAPABILITY trusted=0", "connect=MAIL_ERR_PROTOCOL"])

    # -------------------------------------------------------- SNI
    # the name dialled goes in the server name indication; an IP literal
    # never does (RFC 6066 3)
    for proto in ("smtp", "pop3", "imap", "nntp"):
        after = {"smtp": SMTP_AFTER, "pop3": POP3_AFTER, "imap": imap_after(1),
                 "nntp": NNTP_AFTER}[proto]
        out = {"smtp": SMTP_OK, "pop3": POP3_OK, "nntp": NNTP_OK,
               "imap": ["untagged=CAPABILITY trusted=1", "connect=MAIL_OK",
                        "untagged=CAPABILITY trusted=1", "login=MAIL_OK"] + IMAP_SELECT_OUT}[proto]
        case(f"{proto}-cert-sni-name", proto, security="implicit", record_sni=True,
             lines=["<TLS>", "<SNI localhost>"] + after, out=out)
        case(f"{proto}-cert-sni-ip", proto, security="implicit", host="127.0.0.1",
             record_sni=True, lines=["<TLS>", "<no SNI>"] + after, out=out)

    # -------------------------------------------------------- no TLS where TLS was agreed
    # A plaintext server on the implicit-TLS port, and plaintext after the
    # STARTTLS go-ahead (a downgrade by a man in the middle): MAIL_ERR_TLS,
    # and nothing but the ClientHello was sent.
    plain = {"smtp": b"220 hostile.test ESMTP\r\n", "pop3": b"+OK hostile.test ready\r\n",
             "imap": b"* OK hostile.test ready\r\n", "nntp": b"200 hostile.test ready\r\n"}
    for proto in ("smtp", "pop3", "imap", "nntp"):
        pre_out = ["untagged=CAPABILITY trusted=0"] if proto == "imap" else []
        case(f"{proto}-negotiation-plaintext-on-tls-port", proto, security="implicit",
             plain_on_tls_port=1, lines=["<ClientHello>"], out=["connect=MAIL_ERR_TLS"])
        case(f"{proto}-negotiation-plaintext-after-go", proto, after_go=plain[proto],
             lines=HELLO[proto][:2] + ["<ClientHello>"], out=pre_out + ["connect=MAIL_ERR_TLS"])

    # -------------------------------------------------------- opportunistic STARTTLS
    # Plaintext is allowed when STARTTLS is not offered, but credentials
    # still never go in the clear; and once STARTTLS was agreed, an
    # injection or a bad certificate is an error, never a fallback.
    not_offered = {
        "smtp": b"250-hostile.test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
        "pop3": b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n",
        "imap": b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n",
        "nntp": b"101 caps\r\nVERSION 2\r\nREADER\r\nAUTHINFO USER\r\nSASL PLAIN\r\n.\r\n",
    }
    for proto in ("smtp", "pop3", "imap", "nntp"):
        pre_out = ["untagged=CAPABILITY trusted=0"] if proto == "imap" else []
        case(f"{proto}-negotiation-opportunistic-plaintext", proto, security="opportunistic",
             caps_plain=not_offered[proto], lines=OPPORTUNISTIC_LINES[proto],
             out=OPPORTUNISTIC_OUT[proto])
        case(f"{proto}-buffering-opportunistic-line", proto, security="opportunistic",
             inject=extra[proto], go=0, lines=HELLO[proto][:2], out=pre_out + inj)
        case(f"{proto}-cert-opportunistic-self-signed", proto, security="opportunistic",
             cert="self-signed", lines=HELLO[proto] + ["<TLS refused>"],
             out=pre_out + ["connect=MAIL_ERR_TLS_VERIFY"])

    # -------------------------------------------------------- certificates
    # Each defect is refused in the handshake, before a byte of the
    # session goes over it (and nothing in plaintext after it).
    for proto in ("smtp", "pop3", "imap", "nntp"):
        for defect in CERT_DEFECTS:
            host = "127.0.0.1" if defect == "dns-only" else "localhost"
            pre_out = ["untagged=CAPABILITY trusted=0"] if proto == "imap" else []
            case(f"{proto}-cert-{defect}-starttls", proto, cert=defect, host=host,
                 lines=HELLO[proto] + ["<TLS refused>"],
                 out=pre_out + ["connect=MAIL_ERR_TLS_VERIFY"])
            case(f"{proto}-cert-{defect}-implicit", proto, security="implicit", cert=defect,
                 host=host, lines=["<TLS>", "<TLS refused>"], out=["connect=MAIL_ERR_TLS_VERIFY"])


OPPORTUNISTIC_LINES = {
    "smtp": ["EHLO client.test\r\n", "QUIT\r\n"],
    "pop3": ["CAPA\r\n", "QUIT\r\n"],
    "imap": ["A1 CAPABILITY\r\n", "A2 LOGOUT\r\n"],
    "nntp": ["CAPABILITIES\r\n", "QUIT\r\n"],
}
OPPORTUNISTIC_OUT = {
    "smtp": ["connect=MAIL_OK", "auth=MAIL_ERR_INSECURE", "quit=MAIL_OK"],
    "pop3": ["connect=MAIL_OK", "auth=MAIL_ERR_INSECURE", "quit=MAIL_OK"],
    "imap": ["untagged=CAPABILITY trusted=0", "connect=MAIL_OK", "login=MAIL_ERR_INSECURE",
             "untagged=BYE trusted=0", "logout=MAIL_OK"],
    "nntp": ["connect=MAIL_OK", "auth=MAIL_ERR_INSECURE", "quit=MAIL_OK"],
}


def IMAP_CAPS_TLS_BYTES():
    return b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nTAG OK done\r\n"

#!/usr/bin/env python3
"""Check messages written by libmail's MIME builder with an independent
reader: Python's email package (policy default).

The round-trip test program writes a corpus of seeded random messages
(`unit-mime_roundtrip --export DIR COUNT`): N.eml, N.json (what the
message should read as) and N.K.bin (the K-th leaf's expected decoded
bytes, in walk order). For every message Python must find the same
decoded Subject, From/To/Cc display names and addresses, the same leaves
(content type, filename, transfer-decoded bytes) and no defects.

Known divergences, handled here (Python's, not the builder's):
- Python's quoted-printable decoder turns CRLF line ends into LF, so text
  leaves are compared with line ends normalised to LF.
- Python's bytes parser reads raw UTF-8 header bytes (RFC 6532, written
  with MAIL_MIME_OPT_SMTPUTF8) as surrogate escapes; they are turned back
  into UTF-8 before comparing.
- Python keeps the folding whitespace between two adjacent encoded words
  of a display name (RFC 2047 6.2: it is to be dropped). The builder keeps
  a display name in one encoded word when it fits; a longer one must be
  split, and is then compared without spaces.
- Python's get_filename() removes double quotes that begin and end the
  decoded name itself (it unquotes after RFC 2231 decoding), so a file
  named "q" (quotes included) reads as q.

Usage: roundtrip_python.py ROUNDTRIP_PROGRAM [COUNT]
Stdlib only. Exit 0 when every message agrees.
"""
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile


def lf(data):
    return data.replace(b"\r\n", b"\n")


def unescape(text):
    """Raw UTF-8 header bytes come back from Python as surrogate escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8")


def check_addrs(errors, where, header, want):
    if not want:
        if header is not None:
            errors.append(f"{where}: unexpected header {header!r}")
        return
    if header is None:
        errors.append(f"{where}: missing")
        return
    got = [(unescape(a.display_name), unescape(a.addr_spec)) for a in header.addresses]
    want = [(n, a) for n, a in want]
    # Python re-quotes a quoted local part only when it must; compare the
    # unquoted forms as well
    def norm(addr):
        local, _, domain = addr.rpartition("@")
        if local.startswith('"') and local.endswith('"'):
            local = local[1:-1]
        return local + "@" + domain
    if [(n, norm(a)) for n, a in got] == [(n, norm(a)) for n, a in want]:
        return
    # a display name too long for one encoded word
    def squeeze(pairs):
        return [(n.replace(" ", "") if len(n.encode()) > 45 else n, norm(a)) for n, a in pairs]
    if squeeze(got) != squeeze(want):
        errors.append(f"{where}: got {got!r}, want {want!r}")


def check(directory, n):
    errors = []
    with open(os.path.join(directory, f"{n}.json"), encoding="utf-8") as f:
        want = json.load(f)
    with open(os.path.join(directory, f"{n}.eml"), "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    where = f"message {n}"
    subject = msg["subject"]
    if want["subject"] is None:
        if subject is not None:
            errors.append(f"{where}: unexpected subject {subject!r}")
    elif unescape(str(subject)) != want["subject"]:
        errors.append(f"{where}: subject {str(subject)!r} != {want['subject']!r}")
    check_addrs(errors, where + " From", msg["from"], want["from"])
    check_addrs(errors, where + " To", msg["to"], want["to"])
    check_addrs(errors, where + " Cc", msg["cc"], want["cc"])
    if msg["bcc"] is not None:
        errors.append(f"{where}: Bcc written")

    leaves = [p for p in msg.walk() if not p.is_multipart()]
    if len(leaves) != len(want["leaves"]):
        errors.append(f"{where}: {len(leaves)} leaves, want {len(want['leaves'])}")
        return errors
    for k, (part, w) in enumerate(zip(leaves, want["leaves"])):
        pw = f"{where} leaf {k}"
        if part.get_content_type() != w["content_type"]:
            errors.append(f"{pw}: type {part.get_content_type()} != {w['content_type']}")
        fn = part.get_filename()
        if fn is not None and w["filename"] and fn == w["filename"][1:-1] and w["filename"][:1] == '"' == w["filename"][-1:]:
            fn = w["filename"]  # Python strips quotes that are part of the name
        if fn != w["filename"]:
            errors.append(f"{pw}: filename {part.get_filename()!r} != {w['filename']!r}")
        with open(os.path.join(directory, f"{n}.{k}.bin"), "rb") as f:
            expected = f.read()
        got = part.get_payload(decode=True)
        if w["text"]:
            got, expected = lf(got), lf(expected)
        if got != expected:
            errors.append(f"{pw}: decoded {len(got)} bytes differ from the {len(expected)} expected "
                          f"({part['content-transfer-encoding']})")
    for part in msg.walk():
        for d in part.defects:
            errors.append(f"{where}: Python defect {type(d).__name__}: {d}")
    return errors


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    program = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory(prefix="mime-roundtrip-") as d:
        subprocess.run([program, "--export", d, str(count)], check=True,
                       env=dict(os.environ, CK_FORK="no"), stdout=subprocess.DEVNULL)
        failures = []
        for n in range(1, count + 1):
            failures += check(d, n)
    for e in failures[:40]:
        print(e)
    print(f"{count} messages, {len(failures)} disagreements")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

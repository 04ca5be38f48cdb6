#!/usr/bin/env python3
"""libmail's API reference from its public headers (standard library only).

    apidoc.py check HEADER...            fail when a public function, type,
                                         enum value, struct member, callback
                                         or macro is undocumented; when an
                                         int-returning function or callback
                                         names no status or return value;
                                         when a function handing out a
                                         non-const pointer does not say who
                                         owns it; when a header's opening
                                         comment gives no thread rule or does
                                         not say what blocks
    apidoc.py html OUTDIR HEADER...      one HTML page per header + index.html
    apidoc.py man OUTDIR HEADER...       one man page (section 3) per function
    apidoc.py man-install HEADER...      the same into $MESON_INSTALL_DESTDIR_PREFIX/
                                         share/man/man3 (meson's install script)
    apidoc.py char-args OUT HEADER...    every function with a char * parameter,
                                         one "name header" line each, into OUT
                                         (the injection test's table of what it
                                         must cover: tests/hostile)

The documentation is the comment written where a thing is declared (the
project's rule): the comment block right above a declaration, shared by the
declarations that follow it with no blank line between them, or a trailing
`/**< ... */` on an enum value or struct member.
"""
import html
import os
import re
import sys

STATUS_WORDS = re.compile(
    (r"MAIL_OK|MAIL_ERR_|status|1 when|0 when|1 if|0 if|1 for|0 for|non-zero|nonzero|-1 |"
     r"returns? (the|a|an|its|how|what|1|0)|as (mail_\w+\(\)|the other|above|for)|"
     r"otherwise as|errors? as|the same as|like mail_\w+|see mail_\w+|"
     r"\(mail_\w+\)|a mail_\w+ value|mail_\w+ values?|number|count|index|code\b"
     ).replace(" ", r"\s+"),
    re.I)


# Words that say who owns a returned pointer and how long it lives.
OWNERSHIP_WORDS = re.compile(
    r"owned|\bowns?\b|valid (until|as long|while|during)|until the next|mail_free|_free\(|"
    r"borrow|outlive|lives|the caller|freed|static",
    re.I)
# Headers that declare nothing of their own (the umbrella) or are generated
# from a list of macros: no opening rules expected.
NO_RULES = {"mail.h", "features.h", "version.h"}


class Item:
    section = None  # the standalone comment heading the part of the header it is in

    def __init__(self, kind, name, decl, doc, header, line):
        self.kind = kind  # function, typedef, enum-value, member, macro
        self.name = name
        self.decl = decl
        self.doc = doc
        self.header = header
        self.line = line


def clean_comment(text):
    text = re.sub(r"^/\*\*?<?", "", text.strip())
    text = re.sub(r"\*/$", "", text)
    out = []
    for ln in text.split("\n"):
        ln = re.sub(r"^\s*\* ?", "", ln)
        out.append(ln.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def parse(path):
    """Every public declaration of one header with the comment that documents it."""
    src = open(path, encoding="utf-8").read()
    lines = src.split("\n")
    items = []
    pending = None       # the last comment block above, still in reach
    group_open = False   # declarations since that comment, no blank line between
    i = 0
    header = os.path.basename(path)
    section = None       # a comment with a blank line after it: a section's rules
    declared = False     # a declaration followed the pending comment
    while i < len(lines):
        ln = lines[i]
        s = ln.strip()
        if s.startswith("/*"):
            start = i
            buf = [ln]
            while "*/" not in lines[i]:
                i += 1
                buf.append(lines[i])
            i += 1
            pending = clean_comment("\n".join(buf))
            group_open = True
            declared = False
            # A comment at the very top (the file's own) documents nothing.
            if start == 0:
                pending, group_open = None, False
            continue
        if not s:
            if group_open and not declared and pending:
                section = pending
            group_open = False
            i += 1
            continue
        if s.startswith("#"):
            m = re.match(r"#\s*define\s+(MAIL_\w+)", s)
            if m and not re.match(r"MAIL_\w+_H$", m.group(1)) and not s.endswith("\\"):
                doc = pending if group_open else None
                trailing = re.search(r"/\*\*<(.*?)\*/", s)
                if trailing:
                    doc = clean_comment(trailing.group(0))
                items.append(Item("macro", m.group(1), s, doc, header, i + 1))
            i += 1
            continue
        if s.startswith("MAIL_EXTERN"):
            buf = [s]
            while not buf[-1].rstrip().endswith(";"):
                i += 1
                buf.append(lines[i].strip())
            decl = " ".join(buf)
            decl = re.sub(r"\s+", " ", decl.replace("MAIL_EXTERN ", ""))
            m = re.search(r"(\w+)\s*\(", decl)
            name = m.group(1) if m else decl
            it = Item("function", name, decl, pending if group_open else None, header, i + 1)
            it.section = section
            items.append(it)
            declared = True
            i += 1
            continue
        if s.startswith("typedef"):
            doc = pending if group_open else None
            if re.match(r"typedef\s+(struct|enum|union)\b.*\{", s) or \
               (re.match(r"typedef\s+(struct|enum|union)\s+\w+\s*$", s) and
                    lines[i + 1].strip().startswith("{")):
                kind = "enum" if " enum" in s else "struct"
                body_start = i
                while not re.match(r"\}\s*\w+\s*;", lines[i].strip()):
                    i += 1
                name = re.match(r"\}\s*(\w+)\s*;", lines[i].strip()).group(1)
                body = lines[body_start:i + 1]
                items.append(Item("typedef", name, "\n".join(body), doc, header, body_start + 1))
                parse_body(body, body_start, kind, name, header, items)
                i += 1
                group_open = False
                continue
            buf = [s]
            while not buf[-1].rstrip().endswith(";"):
                i += 1
                buf.append(lines[i].strip())
            decl = re.sub(r"\s+", " ", " ".join(buf))
            m = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl) or re.search(r"(\w+)\s*;$", decl)
            items.append(Item("typedef", m.group(1), decl, doc, header, i + 1))
            declared = True  # its comment is its own, not a section's rules
            i += 1
            continue
        i += 1
    return items


def parse_body(body, offset, kind, owner, header, items):
    """Enum values and struct members, each documented by a trailing /**< */
    or by a comment line above it."""
    above = None
    k = 1
    while k < len(body) - 1:
        s = body[k].strip()
        if s.startswith("/*") and not s.startswith("/**<"):
            buf = [s]
            while "*/" not in body[k]:
                k += 1
                buf.append(body[k])
            above = clean_comment("\n".join(buf))
            k += 1
            continue
        if not s or s == "{":
            above = None if not s else above
            k += 1
            continue
        trailing = re.search(r"/\*\*<(.*?)\*/", s, re.S)
        text = s
        if "/**<" in s and "*/" not in s:  # a trailing comment over lines
            buf = [s]
            while "*/" not in body[k]:
                k += 1
                buf.append(body[k].strip())
            text = " ".join(buf)
            trailing = re.search(r"/\*\*<(.*?)\*/", text, re.S)
        doc = clean_comment(trailing.group(0)) if trailing else above
        code = re.sub(r"/\*.*?\*/", "", text).strip()
        if kind == "enum":
            m = re.match(r"(MAIL_\w+)", code)
            if m:
                items.append(Item("enum-value", m.group(1), code.rstrip(","), doc, header,
                                  offset + k + 1))
        else:
            m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*;", code) or re.search(r"\(\s*\*\s*(\w+)\)", code)
            if m:
                items.append(Item("member", owner + "." + m.group(1), code, doc, header,
                                  offset + k + 1))
        if not trailing and code.endswith((";", ",")) or code.endswith(("MAIL_ERR_IO = -100,",)):
            pass
        k += 1


def opening_comment(path):
    """The header's own comment (its first block), "" when it has none."""
    src = open(path, encoding="utf-8").read()
    m = re.match(r"\s*/\*(.*?)\*/", src, re.S)
    return m.group(1) if m else ""


def check_rules(path):
    """The rules every header states once at its top: which calls block and
    how handles may be shared between threads (common.h: the ownership
    rule for every pointer the library hands out)."""
    header = os.path.basename(path)
    if header in NO_RULES:
        return []
    top = opening_comment(path)
    bad = []
    if not re.search(r"thread", top, re.I):
        bad.append(f"{header}:1: the opening comment gives no thread rule")
    if not re.search(r"block", top, re.I):
        bad.append(f"{header}:1: the opening comment does not say what blocks")
    if header == "common.h" and not re.search(r"Ownership rule:.*const pointer", top, re.S):
        bad.append(f"{header}:1: the ownership rule for returned const pointers is missing")
    return bad


def returns(it):
    """The return type of a function declaration."""
    m = re.match(r"(.*?)\b%s\s*\(" % re.escape(it.name), it.decl)
    return m.group(1).strip() if m else ""


def check(items):
    bad = []
    for it in items:
        if it.kind == "macro" and (it.name == "MAIL_EXTERN" or it.name.startswith("MAIL_HAVE_")
                                   and it.header == "features.h.in"):
            continue
        if not it.doc or not it.doc.strip():
            bad.append(f"{it.header}:{it.line}: {it.kind} {it.name} has no documentation")
            continue
        doc = it.doc + "\n" + (it.section or "")
        if it.kind == "function" and re.match(r"int\b", it.decl) and not STATUS_WORDS.search(doc):
            bad.append(f"{it.header}:{it.line}: {it.name} returns int but its comment names no status")
        if it.kind == "typedef" and re.match(r"typedef\s+int\s*\(\s*\*", it.decl) and \
                not re.search(r"return|non-zero|nonzero|0\b|MAIL_OK|status", doc, re.I):
            bad.append(f"{it.header}:{it.line}: callback {it.name} returns int but its comment "
                       "does not say what the value means")
        if it.kind == "function" and "*" in returns(it) and "const" not in returns(it) and \
                not OWNERSHIP_WORDS.search(doc):
            bad.append(f"{it.header}:{it.line}: {it.name} returns a pointer but its comment "
                       "does not say who owns it or how long it is valid")
    return bad


def char_arg_functions(items):
    """The functions with a string parameter (char *, const char *const *,
    an out-buffer char *): each may carry caller bytes to the wire."""
    out = []
    for it in items:
        if it.kind != "function":
            continue
        m = re.search(r"\((.*)\)\s*;$", it.decl)
        if m and re.search(r"\bchar\s*\*", m.group(1)):
            out.append(it.name)
    return out


def page_name(header):
    return header.replace(".h", "") + ".html"


def write_html(outdir, per_header):
    os.makedirs(outdir, exist_ok=True)
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
             "pre{background:#f4f4f4;padding:.5em;overflow-x:auto}"
             "h2{border-top:1px solid #ccc;padding-top:.5em;font-size:1.1em}")
    index = ["<!doctype html><meta charset=utf-8><title>libmail API</title>",
             f"<style>{style}</style><h1>libmail API reference</h1>",
             "<p>Generated from the comments in the public headers, where every "
             "declaration is documented. The programmer's guide (doc/guide.md) shows "
             "the tasks; the security defaults are listed there.</p>",
             "<p><b>Versions.</b> libmail evolves by adding only: new functions, enum "
             "values, feature bits and members at the end of versioned structs; nothing "
             "published is renamed, renumbered or given another signature, so the SONAME "
             "stays. The rule and the changes before it: NEWS, section "
             "&ldquo;Compatibility rule&rdquo;. Check <code>mail_version_number()</code> "
             "and <code>mail_features()</code> at run time.</p><ul>"]
    for header, items in per_header.items():
        funcs = [it for it in items if it.kind in ("function", "typedef")]
        index.append(f'<li><a href="{page_name(header)}">&lt;mail/{header}&gt;</a> '
                     f"({sum(1 for f in funcs if f.kind == 'function')} functions)</li>")
        body = [f"<!doctype html><meta charset=utf-8><title>mail/{header}</title>",
                f"<style>{style}</style>", '<p><a href="index.html">index</a></p>',
                f"<h1>&lt;mail/{header}&gt;</h1>"]
        for it in items:
            if it.kind not in ("function", "typedef"):
                continue
            body.append(f'<h2 id="{it.name}">{html.escape(it.name)}</h2>')
            body.append(f"<pre>{html.escape(it.decl)}</pre>")
            body.append(f"<pre>{html.escape(it.doc or '')}</pre>")
            if it.kind == "typedef":
                values = [v for v in items if v.kind in ("enum-value", "member") and
                          (v.kind == "enum-value" and it.decl.find(v.name) >= 0 or
                           v.name.startswith(it.name + "."))]
                if values:
                    body.append("<ul>")
                    for v in values:
                        body.append(f"<li><code>{html.escape(v.decl)}</code> — "
                                    f"{html.escape(v.doc or '')}</li>")
                    body.append("</ul>")
        with open(os.path.join(outdir, page_name(header)), "w", encoding="utf-8") as f:
            f.write("\n".join(body) + "\n")
    index.append("</ul>")
    with open(os.path.join(outdir, "index.html"), "w", encoding="utf-8") as f:
        f.write("\n".join(index) + "\n")


def roff(text):
    out = []
    for ln in text.split("\n"):
        ln = ln.replace("\\", "\\e")
        if ln.startswith((".", "'")):
            ln = "\\&" + ln
        out.append(ln)
    return "\n".join(out)


def write_man(outdir, per_header, version):
    os.makedirs(outdir, exist_ok=True)
    n = 0
    for header, items in per_header.items():
        for it in items:
            if it.kind != "function":
                continue
            page = [f'.TH {it.name} 3 "" "libmail {version}" "libmail API"',
                    ".SH NAME", f"{it.name} \\- {roff(first_sentence(it.doc))}",
                    ".SH SYNOPSIS", ".nf", f".B #include <mail/{header}>", ".PP",
                    roff(it.decl), ".fi", ".SH DESCRIPTION", ".nf", roff(it.doc or ""), ".fi",
                    ".SH VERSIONS", "libmail evolves by adding only; see the \\(lqCompatibility "
                    "rule\\(rq in NEWS.",
                    ".SH SEE ALSO", f"The reference page of <mail/{header}>; doc/guide.md; "
                    "libmail's README."]
            with open(os.path.join(outdir, it.name + ".3"), "w", encoding="utf-8") as f:
                f.write("\n".join(page) + "\n")
            n += 1
    return n


def first_sentence(doc):
    text = " ".join((doc or "").split())
    m = re.match(r"(.+?[.:])(\s|$)", text)
    s = m.group(1) if m else text
    return s[:120]


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "check":
        headers, outdir = argv[2:], None
    elif cmd == "char-args":
        lines = []
        for h in argv[3:]:
            for name in char_arg_functions(parse(h)):
                lines.append(f"{name} {os.path.basename(h)}\n")
        with open(argv[2], "w", encoding="utf-8") as f:
            f.write("".join(lines))
        return 0
    elif cmd == "man-install":
        headers = argv[2:]
        outdir = os.path.join(os.environ.get("MESON_INSTALL_DESTDIR_PREFIX", "/usr/local"),
                              "share", "man", "man3")
        cmd = "man"
    else:
        outdir, headers = argv[2], argv[3:]
    per_header = {}
    for h in headers:
        per_header[os.path.basename(h)] = parse(h)
    if cmd == "check":
        bad = []
        for h in headers:
            bad += check_rules(h)
        for items in per_header.values():
            bad += check(items)
        for b in bad:
            print(b)
        total = sum(len([i for i in v if i.kind != "macro"]) for v in per_header.values())
        print(f"apidoc: {total} public declarations in {len(headers)} headers, "
              f"{len(bad)} undocumented or without statuses")
        return 1 if bad else 0
    if cmd == "html":
        write_html(outdir, per_header)
        return 0
    if cmd == "man":
        version = os.environ.get("LIBMAIL_VERSION", "")
        write_man(outdir, per_header, version)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

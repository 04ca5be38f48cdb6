#!/usr/bin/env python3
"""doc/guide.md (and doc/guide-python.md) show code from the guide's
programs: every fenced block
after an "<!-- excerpt: FILE -->" line must appear in FILE exactly, so the
guide cannot show code the tests do not build and run. Also: every program
the guide names as "Program: `examples/guide/X.c`" exists."""
import os
import re
import sys

root = sys.argv[1]
bad = []
blocks = []
markers = 0
texts = []
for page, lang in (("guide.md", "c"), ("guide-python.md", "python")):
    guide = open(os.path.join(root, "doc", page), encoding="utf-8").read()
    blocks += re.findall(r"<!-- excerpt: (\S+) -->\n```%s\n(.*?)\n```" % lang, guide, re.S)
    markers += guide.count("<!-- excerpt:")
    texts.append(guide)
for path, code in blocks:
    full = os.path.join(root, path)
    if not os.path.exists(full):
        bad.append("%s: no such file" % path)
    elif code not in open(full, encoding="utf-8").read():
        bad.append("%s: the guide's excerpt starting %r is not in the file" % (path, code.split("\n")[0]))
if markers != len(blocks):
    bad.append("an excerpt marker is not followed by a ```c block")
for path in re.findall(r"Program: `(examples/guide/[\w.]+)`", "\n".join(texts)):
    if not os.path.exists(os.path.join(root, path)):
        bad.append("%s: named by the guide, missing" % path)
for b in bad:
    print(b)
print("guide: %d excerpts checked, %d problems" % (len(blocks), len(bad)))
sys.exit(1 if bad else 0)

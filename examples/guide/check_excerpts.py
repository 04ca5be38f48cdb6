#!/usr/bin/env python3
"""doc/guide.md shows code from the guide's programs: every fenced block
after an "<!-- excerpt: FILE -->" line must appear in FILE exactly, so the
guide cannot show code the tests do not build and run. Also: every program
the guide names as "Program: `examples/guide/X.c`" exists."""
import os
import re
import sys

root = sys.argv[1]
guide = open(os.path.join(root, "doc", "guide.md"), encoding="utf-8").read()
bad = []
blocks = re.findall(r"<!-- excerpt: (\S+) -->\n```c\n(.*?)\n```", guide, re.S)
for path, code in blocks:
    full = os.path.join(root, path)
    if not os.path.exists(full):
        bad.append("%s: no such file" % path)
    elif code not in open(full, encoding="utf-8").read():
        bad.append("%s: the guide's excerpt starting %r is not in the file" % (path, code.split("\n")[0]))
if guide.count("<!-- excerpt:") != len(blocks):
    bad.append("an excerpt marker is not followed by a ```c block")
for path in re.findall(r"Program: `(examples/guide/[\w.]+)`", guide):
    if not os.path.exists(os.path.join(root, path)):
        bad.append("%s: named by the guide, missing" % path)
for b in bad:
    print(b)
print("guide: %d excerpts checked, %d problems" % (len(blocks), len(bad)))
sys.exit(1 if bad else 0)

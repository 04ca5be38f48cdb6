#!/usr/bin/env python3
"""The api-docs checker finds what it promises to find: each rule is broken
once in a scratch header, and a header that keeps every rule passes."""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import apidoc  # noqa: E402

GOOD = """/*
 * A scratch header. Nothing here blocks. Threading: one thread per handle.
 */
#ifndef MAIL_SCRATCH_H
#define MAIL_SCRATCH_H

/** The scratch version. */
#define MAIL_SCRATCH_VERSION 1

/** A handle (opaque). */
typedef struct mail_scratch mail_scratch;

/** Kinds. */
typedef enum mail_scratch_kind {
  MAIL_SCRATCH_A = 0, /**< the first */
  MAIL_SCRATCH_B = 1  /**< the second */
} mail_scratch_kind;

/** A callback: return 0 to go on, non-zero to stop. */
typedef int (*mail_scratch_fn)(void *user);

/** Make one. MAIL_OK or MAIL_ERR_NOMEM. */
MAIL_EXTERN int mail_scratch_new(mail_scratch **out);
/** Its buffer, owned by the handle: valid until mail_scratch_free(). */
MAIL_EXTERN char *mail_scratch_buffer(mail_scratch *s);
#endif
"""

BREAKS = {
    "undocumented function": ("/** Make one. MAIL_OK or MAIL_ERR_NOMEM. */\n", ""),
    "no status": ("Make one. MAIL_OK or MAIL_ERR_NOMEM.", "Make one."),
    "undocumented enum value": ("/**< the second */", ""),
    "undocumented macro": ("/** The scratch version. */\n", ""),
    "callback return": ("return 0 to go on, non-zero to stop", "called at the end"),
    "pointer ownership": ("owned by the handle: valid until mail_scratch_free()", "the buffer"),
    "thread rule": ("Threading: one thread per handle.", ""),
    "blocking": ("Nothing here blocks.", ""),
}


def problems(text):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "scratch.h")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return apidoc.check_rules(path) + apidoc.check(apidoc.parse(path))


class CheckerFinds(unittest.TestCase):
    def test_good_header_passes(self):
        self.assertEqual(problems(GOOD), [])

    def test_each_rule(self):
        for what, (old, new) in BREAKS.items():
            with self.subTest(what=what):
                self.assertIn(old, GOOD)
                self.assertNotEqual(problems(GOOD.replace(old, new, 1)), [], what)


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Run the Python package's tests from the source tree (no install).

usage: run_tests.py unit|integration|all [unittest args...]

unit: no servers (C API agreement, loader, MIME, callbacks, GIL and IMAP
with scripted local servers); integration: the real Dovecot and Postfix
(skipped, exit 77, without them unless MAIL_TEST_REQUIRE_SERVERS=1).
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "tests")]

UNIT = ["test_capi", "test_loader", "test_mime", "test_callbacks", "test_gil", "test_docstrings",
        "test_imap_local", "test_cancel"]
INTEGRATION = ["test_smtp", "test_pop3", "test_errors", "test_aio", "test_imap", "test_imap_ext",
               "test_examples", "test_proxy"]


def main() -> int:
    which = sys.argv[1] if len(sys.argv) > 1 else "all"
    names = {"unit": UNIT, "integration": INTEGRATION, "all": UNIT + INTEGRATION}[which]
    if len(sys.argv) > 2:
        names = sys.argv[2:]
    if which == "integration":
        import support
        if support.ENV is None:
            if os.environ.get("MAIL_TEST_REQUIRE_SERVERS") == "1":
                print("the test servers are required and not running")
                return 1
            print("no test servers: skipped")
            return 77
    suite = unittest.defaultTestLoader.loadTestsFromNames(names)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    print("ran %d tests: %d failures, %d errors, %d skipped"
          % (result.testsRun, len(result.failures), len(result.errors), len(result.skipped)))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())

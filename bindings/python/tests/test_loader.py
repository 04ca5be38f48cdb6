"""Finding the library: the lookup order, the error that lists what was
tried, and the refusal of an incompatible version."""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from support import HERE

import libmail
from libmail import _capi

PKG = os.path.join(os.path.dirname(HERE), "libmail")


def run_python(code: str, env_extra: dict, cwd: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBMAIL_LIBRARY", "MAIL_BUILD_DIR", "PYTHONPATH")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


class TestLoader(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        # a copy of the package away from the build tree
        shutil.copytree(PKG, os.path.join(self.tmp, "libmail"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.so*"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def test_env_variable_first(self):
        r = run_python("import libmail; print(libmail.library_path)",
                       {"LIBMAIL_LIBRARY": libmail.library_path}, self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), libmail.library_path)

    def test_next_to_package(self):
        dest = os.path.join(self.tmp, "libmail", _capi.SONAME)
        shutil.copy(libmail.library_path, dest)
        r = run_python("import libmail; print(libmail.library_path)", {}, self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), dest)

    def test_build_dir(self):
        build = os.path.dirname(os.path.dirname(libmail.library_path))
        r = run_python("import libmail; print(libmail.library_path)",
                       {"MAIL_BUILD_DIR": build}, self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(os.path.realpath(r.stdout.strip()),
                         os.path.realpath(libmail.library_path))

    def test_not_found_lists_paths(self):
        import ctypes.util
        if ctypes.util.find_library("mail"):
            self.skipTest("a system libmail is installed")
        r = run_python("import libmail", {"LIBMAIL_LIBRARY": "/nonexistent/libmail.so.0"},
                       self.tmp)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("LibraryNotFound", r.stderr)
        self.assertIn("/nonexistent/libmail.so.0: no such file", r.stderr)
        self.assertIn(os.path.join(self.tmp, "libmail", _capi.SONAME), r.stderr)
        self.assertIn("LIBMAIL_LIBRARY", r.stderr)

    def test_incompatible_version_refused(self):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        src = os.path.join(self.tmp, "fake.c")
        with open(src, "w") as f:
            f.write('const char *mail_version(void) { return "9.0.0"; }\n'
                    'unsigned int mail_version_number(void) { return 0x090000; }\n')
        so = os.path.join(self.tmp, "libfake.so")
        subprocess.run([cc, "-shared", "-fPIC", "-o", so, src], check=True)
        r = run_python("import libmail", {"LIBMAIL_LIBRARY": so}, self.tmp)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("IncompatibleLibrary", r.stderr)
        self.assertIn("libmail 9.0.0", r.stderr)

    def test_features_one_function(self):
        self.assertEqual(_capi.features(_capi.C), libmail.features())
        for module, fn in _capi.MODULE_PROBES.items():
            if module == "tls" and module not in libmail.features():
                # A build without TLS keeps the TLS functions (the ABI does
                # not change with -Dtls), each answering "unsupported".
                cfg = ctypes.c_void_p()
                self.assertEqual(_capi.C.mail_tls_config_new(ctypes.byref(cfg), None),
                                 _capi.STATUS["MAIL_ERR_UNSUPPORTED"])
                self.assertIsNone(cfg.value)
                continue
            self.assertEqual(module in libmail.features(), hasattr(_capi.C, fn), module)


if __name__ == "__main__":
    unittest.main()
